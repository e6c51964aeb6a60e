# lib.sh: shared helpers for the admin endpoint's script tests (sourced, not run).
# start_host BIN ARGS...: starts a program that prints "port N" on stdout, sets HOST_PID
# and HOST_PORT, and arranges for it to be stopped when the script exits.
HOST_PID=
HOST_PORT=
host_out=$(mktemp)
cleanup_host() {
  if [ -n "$HOST_PID" ] && kill -0 "$HOST_PID" 2>/dev/null; then
    kill "$HOST_PID" 2>/dev/null
    wait "$HOST_PID" 2>/dev/null
  fi
  rm -f "$host_out"
}
trap cleanup_host EXIT
start_host() {
  "$@" >"$host_out" &
  HOST_PID=$!
  for _ in $(seq 100); do
    HOST_PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$host_out")
    [ -n "$HOST_PORT" ] && return 0
    kill -0 "$HOST_PID" 2>/dev/null || { echo "host exited early" >&2; return 1; }
    sleep 0.1
  done
  echo "host did not report a port" >&2
  return 1
}
fail() { echo "FAIL: $*" >&2; exit 1; }
