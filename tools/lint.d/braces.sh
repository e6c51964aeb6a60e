#!/usr/bin/env bash
# One brace dialect in C (see braces.py).
exec python3 "$(dirname "$0")/braces.py" "$@"
