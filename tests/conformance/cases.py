"""The conformance corpus: request scripts run against memcached and kvd.

A case is a name and a list of steps: bytes to send, ("sleep", s) to pause, ("read",)
to collect the replies so far before sending more (needed for "{cas:<key>}"
substitution and for sends split across writes). Every case uses keys with its own
prefix (K below), so cases can run in parallel; cases touching every key (flush_all)
or server-wide state (stats) are marked serial and run alone afterwards.
"""

import os
import random

READ = ("read",)


def sleep(s):
    return ("sleep", s)


def keyed(case, attempt):
    """The case's steps with 'K' expanded to a 4-byte prefix unique to the case and to
    the attempt (a retried case must not see the keys of its first run)."""
    k = b"%c%03d" % (b"kqrstuvw"[attempt % 8], case["index"] % 1000)
    return [("send", st[1].replace(b"K", k)) if st[0] == "send" else st
            for st in case["steps"]]


def build_cases():
    cases = []

    def case(name, *steps, serial=False):
        n = len(cases)

        def sub(x):
            if isinstance(x, bytes):
                return ("send", x)
            return x
        # 'K' in a script is the case's key prefix (4 bytes once expanded by keyed());
        # scripts use lower-case commands so capital K is free for it
        cases.append({"name": name, "index": n, "steps": [sub(s) for s in steps],
                      "serial": serial})

    def key(n):
        """A key of exactly n bytes starting with the case prefix (4 bytes: K + 3)."""
        return b"K" + b"x" * (n - 4)

    # ---- storage commands: normal behaviour ------------------------------------------
    case("set-get", b"set Ka 0 0 5\r\nhello\r\nget Ka\r\n")
    case("set-flags-get", b"set Ka 123 0 3\r\nabc\r\nget Ka\r\n")
    case("set-flags-max", b"set Ka 4294967295 0 1\r\nx\r\nget Ka\r\n")
    case("set-flags-truncated", b"set Ka 4294967296 0 1\r\nx\r\nget Ka\r\n")
    case("set-flags-negative", b"set Ka -1 0 1\r\nx\r\nget Ka\r\n")
    case("set-flags-minus-zero", b"set Ka -0 0 1\r\nx\r\nget Ka\r\n")
    case("set-flags-plus", b"set Ka +7 0 1\r\nx\r\nget Ka\r\n")
    case("set-zero-length", b"set Ka 0 0 0\r\n\r\nget Ka\r\n")
    case("set-overwrite", b"set Ka 0 0 1\r\na\r\nset Ka 5 0 2\r\nbb\r\nget Ka\r\n")
    case("set-binary-value", b"set Ka 0 0 8\r\n\r\n\x00\xff\r\n\r\n\r\nget Ka\r\n")
    case("set-value-with-newlines", b"set Ka 0 0 7\r\nab\ncd\re\r\nget Ka\r\n")
    case("set-noreply", b"set Ka 0 0 1 noreply\r\nx\r\nget Ka\r\n")
    case("set-noreply-bad-length", b"set Ka 0 0 noreply\r\nget Ka\r\n")
    case("set-length-truncated-32", b"set Ka 0 0 4294967297\r\nx\r\nget Ka\r\n")
    case("set-length-negative", b"set Ka 0 0 -1\r\nx\r\nget Ka\r\n")
    case("set-length-int-max", b"set Ka 0 0 2147483647\r\nget Ka\r\n")
    case("set-length-junk", b"set Ka 0 0 1x\r\nx\r\n")
    case("set-length-tab-lead", b"set Ka 0 0 \t1\r\nx\r\nget Ka\r\n")
    case("set-exptime-tab-trail", b"set Ka 0 5\t 1\r\nx\r\nget Ka\r\n")
    case("set-exptime-junk", b"set Ka 0 5x 1\r\nx\r\n")
    case("set-exptime-huge-overflow", b"set Ka 0 99999999999999999999 1\r\nx\r\n")
    case("set-exptime-negative-expires", b"set Ka 0 -1 1\r\nx\r\nget Ka\r\n")
    case("set-exptime-absolute-past", b"set Ka 0 1000000000 1\r\nx\r\nget Ka\r\n")
    case("set-exptime-absolute-future", b"set Ka 0 4000000000 1\r\nx\r\nget Ka\r\n")
    case("set-exptime-truncated-minus-one", b"set Ka 0 4294967295 1\r\nx\r\nget Ka\r\n")
    case("set-exptime-30-days", b"set Ka 0 2592000 1\r\nx\r\nget Ka\r\n")
    case("set-exptime-expiry", b"set Ka 0 1 1\r\nx\r\nget Ka\r\n", READ, sleep(2.2),
         b"get Ka\r\n")
    case("set-too-few-tokens", b"set Ka 0 0\r\nget Ka\r\n")
    case("set-too-many-tokens", b"set Ka 0 0 1 noreply extra\r\nx\r\n")
    case("set-no-key", b"set\r\n")
    case("set-key-250", b"set " + key(250) + b" 0 0 1\r\nx\r\nget " + key(250) + b"\r\n")
    case("set-key-251", b"set " + key(251) + b" 0 0 1\r\nx\r\n")
    case("set-key-251-noreply", b"set " + key(251) + b" 0 0 1 noreply\r\nx\r\n")
    case("set-key-with-tab", b"set K\ta 0 0 1\r\nx\r\nget K\ta\r\n")
    case("set-key-with-control", b"set K\x01\x7f 0 0 1\r\nx\r\nget K\x01\x7f\r\n")
    case("set-key-utf8", "set Kä€ 0 0 1\r\nx\r\nget Kä€\r\n".encode())
    case("bad-chunk-longer", b"set Ka 0 0 1\r\nabc\r\nget Ka\r\n")
    case("bad-chunk-keeps-old", b"set Ka 0 0 1\r\nx\r\nset Ka 0 0 1\r\nabc\r\nget Ka\r\n")
    case("bad-chunk-noreply", b"set Ka 0 0 1 noreply\r\nabc\r\nget Ka\r\n")
    case("bad-chunk-lf-only", b"set Ka 0 0 2\r\nab\nget Ka\r\n")
    case("bad-chunk-no-crlf", b"set Ka 0 0 2\r\nabcdget Ka\r\n")
    case("too-large-swallow", b"set Ka 0 0 2000000\r\n", b"x" * 2000002, b"get Ka\r\n")
    case("too-large-deletes-old", b"set Ka 0 0 1\r\nx\r\nset Ka 0 0 1048577\r\n",
         b"y" * 1048579, b"get Ka\r\n")
    case("too-large-add-keeps-old", b"set Ka 0 0 1\r\nx\r\nadd Ka 0 0 1048577\r\n",
         b"y" * 1048579, b"get Ka\r\n")
    case("too-large-noreply", b"set Ka 0 0 1048600 noreply\r\n", b"y" * 1048602,
         b"get Ka\r\n")
    case("too-large-boundary-fits", b"set Ka 0 0 1048515\r\n", b"z" * 1048515,
         b"\r\nget Ka\r\n")
    case("too-large-boundary-over", b"set Ka 0 0 1048514\r\n", b"z" * 1048514,
         b"\r\nset Kb 0 0 1048514\r\n", b"z" * 1048514, b"\r\nget Ka Kb\r\n")
    case("too-large-flags-boundary", b"set Ka 1 0 1048511\r\n", b"z" * 1048511,
         b"\r\nset Kb 1 0 1048512\r\n", b"z" * 1048512, b"\r\nget Kb\r\n")
    case("large-value-500k", b"set Ka 0 0 500000\r\n", b"v" * 500000, b"\r\nget Ka\r\n")
    case("add-new", b"add Ka 0 0 1\r\nx\r\nget Ka\r\n")
    case("add-existing", b"set Ka 0 0 1\r\nx\r\nadd Ka 0 0 1\r\ny\r\nget Ka\r\n")
    case("add-after-expiry", b"set Ka 0 -1 1\r\nx\r\nadd Ka 0 0 1\r\ny\r\nget Ka\r\n")
    case("add-noreply", b"add Ka 0 0 1 noreply\r\nx\r\nadd Ka 0 0 1 noreply\r\ny\r\nget Ka\r\n")
    case("replace-missing", b"replace Ka 0 0 1\r\nx\r\nget Ka\r\n")
    case("replace-existing", b"set Ka 0 0 1\r\nx\r\nreplace Ka 3 0 2\r\nyy\r\nget Ka\r\n")
    case("append", b"set Ka 7 0 2\r\nab\r\nappend Ka 9 0 2\r\ncd\r\nget Ka\r\n")
    case("prepend", b"set Ka 7 0 2\r\nab\r\nprepend Ka 9 0 2\r\ncd\r\nget Ka\r\n")
    case("append-missing", b"append Ka 0 0 2\r\ncd\r\nget Ka\r\n")
    case("prepend-missing-noreply", b"prepend Ka 0 0 2 noreply\r\ncd\r\nget Ka\r\n")
    case("append-prepend-chain", b"set Ka 0 0 1\r\nx\r\nappend Ka 0 0 1\r\ny\r\n"
         b"prepend Ka 0 0 1\r\nz\r\ngets Ka\r\n")
    case("append-bad-chunk", b"set Ka 0 0 1\r\nx\r\nappend Ka 0 0 1\r\nyy\r\nget Ka\r\n")
    case("cas-missing", b"cas Ka 0 0 1 5\r\nx\r\n")
    case("cas-match", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\n", READ,
         b"cas Ka 0 0 1 {cas:Ka}\r\ny\r\ngets Ka\r\n")
    case("cas-mismatch", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\n", READ,
         b"set Ka 0 0 1\r\nz\r\ncas Ka 0 0 1 {cas:Ka}\r\ny\r\nget Ka\r\n")
    case("cas-noreply", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\n", READ,
         b"cas Ka 0 0 1 {cas:Ka} noreply\r\ny\r\nget Ka\r\n")
    case("cas-bad-value", b"cas Ka 0 0 1 abc\r\nx\r\n")
    case("cas-negative", b"cas Ka 0 0 1 -1\r\nx\r\n")
    case("cas-missing-token", b"cas Ka 0 0 1\r\nx\r\n")
    case("cas-zero", b"set Ka 0 0 1\r\nx\r\ncas Ka 0 0 1 0\r\ny\r\nget Ka\r\n")
    case("cas-u64-max", b"set Ka 0 0 1\r\nx\r\ncas Ka 0 0 1 18446744073709551615\r\ny\r\n")
    case("gets-cas-changes", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\nset Ka 0 0 1\r\ny\r\ngets Ka\r\n")
    case("gets-cas-same-on-reread", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\ngets Ka\r\n")

    # ---- retrieval ------------------------------------------------------------------
    case("get-miss", b"get Ka\r\n")
    case("get-no-key", b"get\r\n")
    case("get-multi", b"set Ka 0 0 1\r\n1\r\nset Kc 0 0 1\r\n3\r\nget Ka Kb Kc Ka\r\n")
    case("get-multi-spaces", b"set Ka 0 0 1\r\n1\r\nget   Ka    Ka   \r\n")
    case("get-100-keys", b"set K50 0 0 2\r\n50\r\nget " +
         b" ".join(b"K%d" % i for i in range(100)) + b"\r\n")
    case("get-key-250", b"get " + key(250) + b"\r\n")
    case("get-key-251", b"get " + key(251) + b"\r\n")
    case("get-key-251-culls-pipelined", b"set Ka 0 0 1\r\nx\r\nget Ka " + key(251) + b"\r\n")
    case("get-key-251-after-get", b"set Ka 0 0 1\r\nx\r\nget Ka\r\nget " + key(251) + b"\r\n")
    case("gets-multi", b"set Ka 0 0 1\r\n1\r\nset Kb 0 0 1\r\n2\r\ngets Ka Kb\r\n")
    case("bget-alias", b"set Ka 0 0 1\r\n1\r\nbget Ka\r\n")
    case("get-nul-cuts-line", b"set Ka 0 0 1\r\n1\r\nget Ka\x00Kb\r\n")
    case("get-double-cr", b"set Ka 0 0 1\r\n1\r\nget Ka\r\r\n")
    case("get-lf-only", b"set Ka 0 0 1\n1\r\nget Ka\n")
    case("get-leading-spaces", b"set Ka 0 0 1\r\n1\r\n    get Ka\r\n")
    case("get-uppercase", b"GET Ka\r\n")
    case("gat", b"set Ka 0 0 1\r\nx\r\ngat 100 Ka\r\n")
    case("gats", b"set Ka 0 0 1\r\nx\r\ngats 100 Ka Kb\r\n")
    case("gat-no-keys", b"gat 10\r\n")
    case("gat-no-args", b"gat\r\n")
    case("gat-bad-exptime", b"gat x Ka\r\n")
    case("gat-negative-expires", b"set Ka 0 0 1\r\nx\r\ngat -1 Ka\r\nget Ka\r\n")
    case("gat-key-251", b"gat 1 " + key(251) + b"\r\n")
    case("gat-extends", b"set Ka 0 1 1\r\nx\r\ngat 100 Ka\r\n", READ, sleep(2.2),
         b"get Ka\r\n")

    # ---- delete / touch / incr / decr ------------------------------------------------
    case("delete-hit", b"set Ka 0 0 1\r\nx\r\ndelete Ka\r\nget Ka\r\n")
    case("delete-miss", b"delete Ka\r\n")
    case("delete-hold-zero", b"set Ka 0 0 1\r\nx\r\ndelete Ka 0\r\n")
    case("delete-hold-nonzero", b"delete Ka 1\r\n")
    case("delete-noreply", b"set Ka 0 0 1\r\nx\r\ndelete Ka noreply\r\nget Ka\r\n")
    case("delete-zero-noreply", b"set Ka 0 0 1\r\nx\r\ndelete Ka 0 noreply\r\nget Ka\r\n")
    case("delete-bad-noreply", b"delete Ka 1 noreply\r\nget Ka\r\n")
    case("delete-too-many", b"delete Ka 0 noreply x\r\n")
    case("delete-no-key", b"delete\r\n")
    case("delete-key-251", b"delete " + key(251) + b"\r\n")
    case("delete-key-251-hold", b"delete " + key(251) + b" 0\r\n")
    case("touch-hit", b"set Ka 0 0 1\r\nx\r\ntouch Ka 100\r\nget Ka\r\n")
    case("touch-miss", b"touch Ka 10\r\n")
    case("touch-noreply", b"set Ka 0 0 1\r\nx\r\ntouch Ka 10 noreply\r\nget Ka\r\n")
    case("touch-bad-exptime", b"touch Ka x\r\n")
    case("touch-bad-exptime-noreply", b"touch Ka x noreply\r\nget Ka\r\n")
    case("touch-expire-now", b"set Ka 0 0 1\r\nx\r\ntouch Ka -1\r\nget Ka\r\n")
    case("touch-no-exptime", b"touch Ka\r\n")
    case("touch-key-251", b"touch " + key(251) + b" 1\r\n")
    case("incr", b"set Ka 0 0 1\r\n5\r\nincr Ka 10\r\nget Ka\r\n")
    case("decr", b"set Ka 0 0 2\r\n10\r\ndecr Ka 3\r\nget Ka\r\n")
    case("decr-pads-in-place", b"set Ka 0 0 3\r\n100\r\ndecr Ka 91\r\nget Ka\r\n")
    case("decr-below-zero", b"set Ka 0 0 1\r\n5\r\ndecr Ka 10\r\n")
    case("incr-grows", b"set Ka 3 0 1\r\n9\r\nincr Ka 1\r\nget Ka\r\n")
    case("incr-wraps", b"set Ka 0 0 20\r\n18446744073709551615\r\nincr Ka 1\r\nget Ka\r\n")
    case("incr-wrap-max-delta", b"set Ka 0 0 1\r\n9\r\nincr Ka 18446744073709551615\r\n")
    case("incr-miss", b"incr Ka 1\r\n")
    case("incr-non-numeric", b"set Ka 0 0 3\r\nabc\r\nincr Ka 1\r\n")
    case("incr-empty-value", b"set Ka 0 0 0\r\n\r\nincr Ka 1\r\n")
    case("incr-value-spaces", b"set Ka 0 0 4\r\n 12 \r\nincr Ka 1\r\nget Ka\r\n")
    case("incr-value-plus", b"set Ka 0 0 2\r\n+5\r\nincr Ka 1\r\n")
    case("incr-value-negative", b"set Ka 0 0 2\r\n-5\r\nincr Ka 1\r\n")
    case("incr-value-minus-zero", b"set Ka 0 0 2\r\n-0\r\nincr Ka 1\r\n")
    case("incr-value-overflow", b"set Ka 0 0 21\r\n184467440737095516150\r\nincr Ka 1\r\n")
    case("incr-value-trailing-junk", b"set Ka 0 0 3\r\n12a\r\nincr Ka 1\r\n")
    case("incr-bad-delta", b"set Ka 0 0 1\r\n1\r\nincr Ka x\r\n")
    case("incr-negative-delta", b"set Ka 0 0 1\r\n1\r\nincr Ka -1\r\n")
    case("incr-delta-overflow", b"incr Ka 18446744073709551616\r\n")
    case("incr-noreply", b"set Ka 0 0 1\r\n1\r\nincr Ka 1 noreply\r\nget Ka\r\n")
    case("incr-no-delta", b"incr Ka\r\n")
    case("incr-too-many", b"incr Ka 1 noreply x\r\n")
    case("incr-key-251", b"incr " + key(251) + b" 1\r\n")
    case("decr-noreply-miss", b"decr Ka 1 noreply\r\nget Ka\r\n")
    case("incr-updates-cas", b"set Ka 0 0 1\r\n1\r\ngets Ka\r\nincr Ka 1\r\ngets Ka\r\n")
    case("incr-keeps-flags", b"set Ka 42 0 2\r\n99\r\nincr Ka 1\r\nget Ka\r\n")

    # ---- other commands ---------------------------------------------------------------
    case("version", b"version\r\n")
    case("version-extra", b"version foo bar\r\n")
    case("verbosity", b"verbosity 1\r\n")
    case("verbosity-noreply", b"verbosity 1 noreply\r\nget Ka\r\n")
    case("verbosity-bad", b"verbosity x\r\n")
    case("verbosity-bad-noreply", b"verbosity noreply\r\nget Ka\r\n")
    case("verbosity-none", b"verbosity\r\n")
    case("verbosity-too-many", b"verbosity 1 2 3\r\n")
    case("quit", b"quit\r\n")
    case("quit-after-pipeline", b"set Ka 0 0 1\r\nx\r\nget Ka\r\nquit\r\nget Ka\r\n")
    case("quit-extra-args", b"quit now\r\n")
    case("unknown", b"foo\r\n")
    case("unknown-short", b"x\r\n")
    case("unknown-two-letter-g", b"gx Ka\r\n")
    case("unknown-s-prefix", b"sett Ka 0 0 1\r\n")
    case("empty-line-crlf", b"\r\n")
    case("empty-line-lf", b"\n")
    case("spaces-line", b"   \r\n")
    case("many-empty-lines", b"\r\n\n\r\n")
    case("http-request-closes", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    case("http-after-replies", b"set Ka 0 0 1\r\nx\r\nfoo HTTP/1.0\r\n")
    case("http-token-g-branch", b"gx HTTP/1.1\r\n")
    case("too-many-tokens-get", b"get " + b" ".join(b"Ka" for _ in range(30)) + b"\r\n")
    case("too-many-tokens-set", b"set Ka 0 0 1 " + b"x " * 25 + b"\r\n")
    case("nul-in-command", b"ver\x00sion\r\n")
    case("cr-only-line", b"\r\r\n")

    # ---- long lines -------------------------------------------------------------------
    case("line-2048-no-newline-waits", b"x" * 2048, READ, b"\r\n")
    case("line-over-2048-closes", b"set Ka 0 0 1\r\nx\r\n" + b"y" * 3000)
    case("line-over-2048-with-newline", b"y" * 3000 + b"\r\nget Ka\r\n")
    case("multiget-over-2048-waits", b"get " + b"Kq " * 800, READ, b"\r\n")
    case("multiget-over-2048-gets", b"gets " + b"Kq " * 800, READ, b"Kz\r\n")
    case("long-leading-spaces-close", b" " * 101 + b"get " + b"a " * 1100)
    case("key-251-in-long-multiget", b"get " + b"Ka " * 700 + key(251) + b"\r\n")

    # ---- pipelining and split writes ------------------------------------------------
    case("pipeline-mixed", b"set Ka 0 0 1\r\n1\r\nincr Ka 5\r\nget Ka\r\ndelete Ka\r\n"
         b"get Ka\r\nadd Ka 0 0 1\r\n2\r\nappend Ka 0 0 1\r\n3\r\nget Ka\r\n")
    case("pipeline-noreply-burst", b"".join(b"set K%d 0 0 1 noreply\r\n%d\r\n" % (i, i % 10)
                                             for i in range(50)) + b"get K7 K49\r\n")
    case("pipeline-30-sets-then-bad-get", b"".join(b"set K%d 0 0 1\r\nx\r\n" % i
                                                    for i in range(30)) +
         b"get " + key(251) + b"\r\n")
    case("pipeline-45-sets-then-bad-get", b"".join(b"set K%d 0 0 1\r\nx\r\n" % i
                                                    for i in range(45)) +
         b"get " + key(251) + b"\r\n")
    case("pipeline-errors-continue", b"foo\r\nset Ka 0 0 x\r\nget\r\nset Ka 0 0 1\r\nx\r\n"
         b"get Ka\r\n")
    case("split-command-line", b"se", READ, b"t Ka 0 0 1\r", READ, b"\nx\r\nget Ka\r\n")
    case("split-in-value", b"set Ka 0 0 10\r\n01234", READ, b"56789\r\nget Ka\r\n")
    case("split-before-value-crlf", b"set Ka 0 0 3\r\nabc", READ, b"\r", READ,
         b"\nget Ka\r\n")
    case("split-replies-held-in-nread", b"set Ka 0 0 1\r\nx\r\nset Kb 0 0 5\r\nab", READ,
         b"cde\r\nget Kb\r\n")
    case("split-get-flushes", b"get Ka\r\nset Kb 0 0 5\r\nab", READ, b"cde\r\n")
    case("split-swallow", b"set Ka 0 0 1100000\r\n", READ, b"q" * 600000, READ,
         b"q" * 500002 + b"get Ka\r\n")
    case("split-byte-by-byte", *[bytes([c]) for c in b"set Ka 0 0 2\r\nhi\r\nget Ka\r\n"])
    case("split-after-cr", b"get Ka\r", READ, b"\n")
    case("partial-line-flushes-earlier", b"set Ka 0 0 1\r\nx\r\nse", READ, b"t Kb 0 0 1\r\ny\r\n")

    # ---- extra arguments memcached ignores, odd bytes ----------------------------------
    case("set-extra-token-ignored", b"set Ka 0 0 1 foo\r\nx\r\nget Ka\r\n")
    case("cas-extra-token-ignored", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\n", READ,
         b"cas Ka 0 0 1 {cas:Ka} foo\r\ny\r\nget Ka\r\n")
    case("touch-extra-token", b"set Ka 0 0 1\r\nx\r\ntouch Ka 10 foo\r\n")
    case("incr-extra-token", b"set Ka 0 0 1\r\n1\r\nincr Ka 1 foo\r\n")
    case("incr-noreply-non-numeric", b"set Ka 0 0 1\r\nx\r\nincr Ka 1 noreply\r\nget Ka\r\n")
    case("cas-on-expired", b"set Ka 0 -1 1\r\nx\r\ncas Ka 0 0 1 1\r\ny\r\n")
    case("touch-keeps-cas", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\ntouch Ka 100\r\ngets Ka\r\n")
    case("gat-keeps-cas", b"set Ka 0 0 1\r\nx\r\ngats 0 Ka\r\ngats 100 Ka\r\n")
    case("append-updates-cas", b"set Ka 0 0 1\r\nx\r\ngets Ka\r\nappend Ka 0 0 1\r\ny\r\n"
         b"gets Ka\r\n")
    case("key-high-bytes", b"set K\x80\xfe 0 0 1\r\nx\r\nget K\x80\xfe\r\n")
    case("verbosity-large", b"verbosity 99\r\n")
    case("uppercase-set", b"SET Ka 0 0 1\r\nx\r\n")
    case("noreply-zero-length", b"set Ka 0 0 0 noreply\r\n\r\nget Ka\r\n")
    case("noreply-not-last", b"set Ka 0 0 1 noreply x\r\ny\r\n")
    case("delete-noreply-miss", b"delete Ka noreply\r\nget Ka\r\n")

    # ---- memcached's other commands (server/kv_compat.c) ------------------------------
    # Only requests whose memcached answer does not change memcached's state for the
    # other cases (no "lru mode flat", no "lru_crawler disable", no "stats detail on").
    case("shutdown-not-enabled", b"shutdown\r\nget Ka\r\n")
    case("shutdown-graceful-not-enabled", b"shutdown graceful\r\n")
    case("shutdown-bad-mode-not-enabled", b"shutdown foo bar\r\n")
    case("cache-memlimit-too-small", b"cache_memlimit 7\r\ncache_memlimit 0\r\n")
    case("cache-memlimit-bytes-not-mb", b"cache_memlimit 2000000000\r\n")
    case("cache-memlimit-bad", b"cache_memlimit x\r\ncache_memlimit -5\r\n")
    case("cache-memlimit-token-count", b"cache_memlimit\r\ncache_memlimit 1 2 3\r\n")
    case("cache-memlimit-noreply", b"cache_memlimit 0 noreply\r\nget Ka\r\n")
    case("misbehave", b"misbehave\r\n")
    case("lru-crawler-bare", b"lru_crawler\r\nlru_crawler foo\r\nlru_crawler crawl\r\n")
    # one crawl per case, serial: memcached's crawler is global and answers BUSY while
    # a crawl runs
    case("lru-crawler-crawl-all", b"lru_crawler crawl all\r\n", serial=True)
    case("lru-crawler-crawl-one", b"lru_crawler crawl 1\r\n", serial=True)
    case("lru-crawler-crawl-list", b"lru_crawler crawl 1,2,3\r\n", serial=True)
    case("lru-crawler-crawl-badclass", b"lru_crawler crawl 99\r\nlru_crawler crawl x\r\n"
         b"lru_crawler crawl 1,x\r\nlru_crawler crawl 0\r\n")
    case("lru-crawler-crawl-expires", b"set Ka 0 1 1\r\nx\r\n", READ, sleep(2.2),
         b"lru_crawler crawl all\r\nget Ka\r\n", serial=True)
    case("lru-crawler-metadump-no-arg", b"lru_crawler metadump\r\n")
    case("lru-crawler-mgdump", b"lru_crawler mgdump all\r\n")
    case("lru-crawler-sleep", b"lru_crawler sleep 100\r\nlru_crawler sleep x\r\n"
         b"lru_crawler sleep 2000000\r\n")
    case("lru-crawler-tocrawl", b"lru_crawler tocrawl 0\r\nlru_crawler tocrawl x\r\n")
    case("lru-crawler-enable-running", b"lru_crawler enable\r\n")
    case("slabs-bare", b"slabs\r\nslabs foo\r\nslabs reassign 1\r\nslabs automove\r\n")
    case("slabs-reassign", b"slabs reassign 1 1\r\nslabs reassign x y\r\n"
         b"slabs reassign 99 1\r\nslabs reassign -1 2\r\n")
    case("slabs-reassign-nospare", b"slabs reassign 1 2\r\n")
    case("slabs-automove", b"slabs automove 1\r\nslabs automove 5\r\nslabs automove x\r\n")
    case("lru-bad", b"lru\r\nlru foo\r\nlru mode foo\r\nlru tune\r\nlru tune 1 2\r\n"
         b"lru tune x y z w\r\nlru temp_ttl x\r\n")
    case("lru-temp-ttl-default", b"lru temp_ttl 61\r\n")
    case("extstore", b"extstore\r\nextstore foo\r\n")
    case("refresh-certs", b"refresh_certs\r\n")
    case("meta-noop", b"mn\r\nmn foo\r\n")
    case("meta-set-bad-line", b"ms Ka\r\nms Ka x\r\nhi\r\n")
    case("stats-sizes", b"stats sizes\r\n", serial=True)
    case("stats-slabs", b"stats slabs\r\n", serial=True)
    case("stats-conns", b"stats conns\r\n", serial=True)
    case("stats-extstore", b"stats extstore\r\n", serial=True)
    case("stats-detail-usage", b"stats detail\r\nstats detail foo\r\n", serial=True)
    case("stats-detail-off-dump", b"stats detail off\r\nstats detail dump\r\n", serial=True)

    # ---- generated scripts: valid and mutated requests, deterministic ------------------
    # KVD_CONFORMANCE_SEED / KVD_CONFORMANCE_GENERATED explore further on demand
    rnd = random.Random(int(os.environ.get("KVD_CONFORMANCE_SEED", "20261124")))
    words = [b"set", b"add", b"replace", b"append", b"prepend", b"cas", b"get", b"gets",
             b"gat", b"gats", b"delete", b"incr", b"decr", b"touch", b"verbosity",
             b"version", b"bogus", b"se", b"gett", b"quitx"]
    keys = [b"Ka", b"Kb", b"Kc", b"K" + b"z" * 250, b"K\tq"]
    nums = [b"0", b"1", b"5", b"-1", b"100", b"x", b"4294967296", b"18446744073709551615",
            b"+3", b"99999999999999999999", b"\t2", b"3 "]
    for n in range(int(os.environ.get("KVD_CONFORMANCE_GENERATED", "48"))):
        script = b""
        for _ in range(rnd.randint(4, 14)):
            w = rnd.choice(words)
            toks = [w]
            if w in (b"set", b"add", b"replace", b"append", b"prepend", b"cas"):
                data = bytes(rnd.choice(b"0123456789abc") for _ in range(rnd.randint(0, 6)))
                length = len(data) if rnd.random() < 0.8 else rnd.randint(0, 8)
                toks += [rnd.choice(keys), rnd.choice([b"0", b"3", rnd.choice(nums)]),
                         rnd.choice([b"0", b"100", b"-1", rnd.choice(nums)]),
                         b"%d" % length if rnd.random() < 0.9 else rnd.choice(nums)]
                if w == b"cas":
                    toks.append(rnd.choice(nums))
                if rnd.random() < 0.2:
                    toks.append(b"noreply")
                if rnd.random() < 0.1:
                    toks = toks[:rnd.randint(1, len(toks))]
                script += b" ".join(toks) + b"\r\n" + data + b"\r\n"
                continue
            if w in (b"get", b"gets"):
                toks += rnd.sample(keys, rnd.randint(0, 3))
            elif w in (b"gat", b"gats"):
                toks += [rnd.choice([b"0", b"100", b"-1", rnd.choice(nums)])]
                toks += rnd.sample(keys, rnd.randint(0, 2))
            elif w in (b"incr", b"decr", b"touch"):
                toks += [rnd.choice(keys), rnd.choice(nums)]
            elif w == b"delete":
                toks += [rnd.choice(keys)] + rnd.choice([[], [b"0"], [b"1"], [b"noreply"],
                                                        [b"0", b"noreply"]])
            elif w == b"verbosity":
                toks += [rnd.choice(nums)]
            if rnd.random() < 0.15:
                toks.append(b"noreply")
            if rnd.random() < 0.1:
                toks.insert(rnd.randint(1, len(toks)), rnd.choice(nums))
            script += b" ".join(toks) + rnd.choice([b"\r\n", b"\r\n", b"\r\n", b"\n"])
        case("generated-%02d" % n, script)
        if n % 3 == 0:
            # the same script cut at random bytes, replies collected between the pieces
            cuts = sorted(rnd.sample(range(1, len(script)), min(3, len(script) - 1)))
            pieces, last = [], 0
            for c in cuts + [len(script)]:
                pieces += [script[last:c], READ]
                last = c
            case("generated-%02d-split" % n, *pieces[:-1])

    # ---- meta commands (memcached 1.6.18: mg ms md ma mn me) ----------------------------
    # "{b64:<text>}" is the base64 of <text> (after the K expansion), "{mcas}" the last
    # "c<cas>" token a meta reply of the case returned.
    big = b"v" * 5000
    case("meta-mn", b"mn\r\n")
    case("meta-mn-extra-tokens", b"mn x y\r\n")
    case("meta-unknown-m", b"mx Ka\r\n")
    case("meta-mg-no-key", b"mg\r\n")
    case("meta-mg-miss", b"mg Ka v\r\n")
    case("meta-mg-miss-k-O", b"mg Ka k O123 v\r\n")
    case("meta-mg-miss-q", b"mg Ka v q\r\nmn\r\n")
    case("meta-mg-hit-no-flags", b"ms Ka 5\r\nhello\r\nmg Ka\r\n")
    case("meta-ms-mg", b"ms Ka 5\r\nhello\r\nmg Ka v\r\n")
    case("meta-ms-zero-length", b"ms Ka 0\r\n\r\nmg Ka v s\r\n")
    case("meta-ms-flags-ttl", b"ms Ka 2 F123 T100\r\nhi\r\nmg Ka f v s t\r\n")
    case("meta-ms-flags-max", b"ms Ka 1 F4294967295\r\nx\r\nmg Ka f\r\nget Ka\r\n")
    case("meta-mg-all-flags", b"ms Ka 3 F7 T500\r\nabc\r\nmg Ka s v t c f l h k O9 q\r\n")
    case("meta-mg-hit-q-shows-hd", b"ms Ka 1\r\nx\r\nmg Ka q\r\nmg Ka q k\r\nmn\r\n")
    case("meta-mg-h-fetched", b"ms Ka 1\r\nx\r\nmg Ka h\r\nmg Ka h l\r\n")
    case("meta-mg-u-no-bump", b"ms Ka 1\r\nx\r\nmg Ka u h\r\nmg Ka h\r\nmg Ka h\r\n")
    case("meta-get-sets-fetched", b"ms Ka 1\r\nx\r\nget Ka\r\nmg Ka h\r\n")
    case("meta-touch-sets-fetched", b"ms Ka 1\r\nx\r\ntouch Ka 100\r\nmg Ka h t\r\n")
    case("meta-mg-T-order", b"ms Ka 1 T100\r\nx\r\nmg Ka t T200 t\r\nmg Ka t\r\n")
    case("meta-mg-T-zero", b"ms Ka 1 T100\r\nx\r\nmg Ka T0 t\r\n")
    case("meta-mg-N-vivify", b"mg Ka N30 t v c\r\nmg Ka t v\r\nmg Ka t v\r\n")
    case("meta-mg-N-order", b"mg Ka t N30 t\r\n")
    case("meta-mg-N-hit", b"ms Ka 1\r\nx\r\nmg Ka N30 t v\r\n")
    case("meta-mg-N-then-ms", b"mg Ka N30\r\nms Ka 1\r\nx\r\nmg Ka v t\r\n")
    case("meta-mg-R-recache", b"ms Ka 1 T10\r\nx\r\nmg Ka R30 v\r\nmg Ka R30 v\r\nmg Ka R5 v\r\n")
    case("meta-mg-R-no-ttl", b"ms Ka 1\r\nx\r\nmg Ka R30 v\r\n")
    case("meta-mg-R-after-T", b"ms Ka 1 T100\r\nx\r\nmg Ka T10 R30\r\n")
    case("meta-md-I-stale", b"ms Ka 1\r\nx\r\nmd Ka I\r\nmg Ka v c\r\nmg Ka v\r\nmd Ka I\r\n"
         b"mg Ka\r\n")
    case("meta-md-I-T", b"ms Ka 1\r\nx\r\nmd Ka I T30\r\nmg Ka t\r\n")
    case("meta-md-T-without-I", b"ms Ka 1 T100\r\nx\r\nmd Ka T30 q\r\nmg Ka t\r\n")
    case("meta-ms-I-stale-cas", b"ms Ka 1 c\r\nx\r\n", READ,
         b"md Ka I\r\nms Ka 1 I C{mcas}\r\ny\r\nmg Ka v\r\n")
    case("meta-ms-I-newer-cas", b"ms Ka 1\r\nx\r\nms Ka 1 I C999999999999\r\ny\r\nmg Ka v\r\n")
    case("meta-ms-cas-match", b"ms Ka 1 c\r\nx\r\n", READ, b"ms Ka 1 C{mcas} c\r\ny\r\nmg Ka v\r\n")
    case("meta-ms-cas-mismatch", b"ms Ka 1\r\nx\r\nms Ka 1 C999999999999\r\ny\r\nmg Ka v\r\n")
    case("meta-ms-cas-missing", b"ms Ka 1 C5\r\nx\r\nmg Ka v\r\n")
    case("meta-ms-cas-zero", b"ms Ka 1\r\nx\r\nms Ka 1 C0\r\ny\r\nms Kb 1 C0\r\ny\r\n")
    case("meta-ms-mode-add", b"ms Ka 1 ME\r\nx\r\nms Ka 1 ME\r\ny\r\nmg Ka v\r\n")
    case("meta-ms-mode-append-prepend", b"ms Ka 1 F5\r\nx\r\nms Ka 1 MA F9\r\ny\r\n"
         b"ms Ka 1 MP\r\nz\r\nmg Ka v f\r\nms Kb 1 MA\r\ny\r\nms Kb 1 MP\r\ny\r\n")
    case("meta-ms-mode-replace", b"ms Ka 1 MR\r\nx\r\nms Ka 1\r\nx\r\nms Ka 1 MR\r\ny\r\nmg Ka v\r\n")
    case("meta-ms-mode-set", b"ms Ka 1 MS\r\nx\r\nmg Ka v\r\n")
    case("meta-ms-mode-lowercase", b"ms Ka 1 Ms\r\nx\r\nmn\r\n")
    case("meta-ms-append-cas", b"ms Ka 1 c\r\nx\r\n", READ,
         b"ms Ka 1 MA C{mcas}\r\ny\r\nms Ka 1 MA C999999999999\r\nz\r\nmg Ka v\r\n")
    case("meta-ms-replace-cas", b"ms Ka 1 MR C5\r\nx\r\n")
    case("meta-ms-add-cas", b"ms Ka 1 ME C5\r\nx\r\nmg Ka v\r\n")
    case("meta-ms-q", b"ms Ka 1 q\r\nx\r\nms Ka 1 q ME\r\ny\r\nms Ka 1 q C999999999999\r\ny\r\n"
         b"mn\r\n")
    case("meta-ms-k-O-c", b"ms Ka 1 k O55 c\r\nx\r\nms Ka 1 MR c k\r\ny\r\n")
    case("meta-ms-notstored-c", b"ms Ka 1 MR c\r\nx\r\nms Ka 1 ME c\r\nx\r\nms Ka 1 ME c\r\nx\r\n")
    case("meta-ms-then-classic", b"ms Ka 3 F42 T0\r\nabc\r\ngets Ka\r\nappend Ka 0 0 1\r\nd\r\n"
         b"mg Ka v f\r\n")
    case("meta-ms-large", b"ms Ka 5000\r\n" + big + b"\r\nmg Ka v s\r\n")
    case("meta-ms-split", b"ms Ka 10 T0", READ, b" F3\r\nhello", READ, b"world\r\nmg Ka v f\r\n")
    case("meta-b64-ms-mg", b"ms {b64:Ka} 1 b k\r\nx\r\nmg {b64:Ka} b k v\r\nget Ka\r\n"
         b"mg Ka k v\r\nme Ka\r\n")
    case("meta-b64-plain-item", b"set Ka 0 0 1\r\nx\r\nmg {b64:Ka} b k v\r\n")
    case("meta-b64-miss-k", b"mg {b64:Ka} b k O1\r\n")
    case("meta-b64-vivify-k", b"mg {b64:Ka} b N30 k\r\n")
    case("meta-b64-binary-key", b"ms {b64:K\x00\x01\xff\r\n} 1 b\r\nx\r\nmg {b64:K\x00\x01\xff\r\n} b k v\r\n")
    case("meta-b64-md-ma", b"ms {b64:Ka} 1 b\r\n5\r\nma {b64:Ka} b k v\r\nmd {b64:Ka} b k\r\n"
         b"md {b64:Ka} b k\r\n")
    case("meta-b64-append-loses-binary", b"ms {b64:Ka} 1 b\r\nx\r\nms {b64:Ka} 1 b MA\r\ny\r\n"
         b"mg {b64:Ka} b k v\r\n")
    case("meta-b64-bad", b"mg Ka= b v\r\n")
    case("meta-b64-bad-ms-swallows", b"ms Ka= 2 b\r\nhi\r\nmn\r\n")
    case("meta-b64-bad-md", b"md Ka= b\r\n")
    case("meta-b64-skipped-bytes", b"ms {b64:Kab}!! 1 b k\r\nx\r\nmg {b64:Kab} b k v\r\n")
    case("meta-b64-padding", b"mg Ka== b\r\nmg Kaa= b k\r\nmg K=== b\r\n")
    case("meta-md", b"ms Ka 1\r\nx\r\nmd Ka\r\nmd Ka\r\nmg Ka v\r\n")
    case("meta-md-q", b"ms Ka 1\r\nx\r\nmd Ka q\r\nmd Ka q\r\nmn\r\n")
    case("meta-md-cas", b"ms Ka 1\r\nx\r\nmd Ka C999999999999 O1 k\r\nmg Ka v\r\n")
    case("meta-md-cas-match", b"ms Ka 1 c\r\nx\r\n", READ, b"md Ka C{mcas} k\r\nmg Ka v\r\n")
    case("meta-md-I-miss", b"md Ka I O7\r\n")
    case("meta-ma", b"ms Ka 1\r\n5\r\nma Ka\r\nma Ka v\r\nma Ka MD D2 v\r\nma Ka M- D100 v\r\n"
         b"ma Ka M+ D7 v\r\nma Ka MI v\r\n")
    case("meta-ma-miss", b"ma Ka\r\nma Ka q\r\nma Ka O5 k\r\nmn\r\n")
    case("meta-ma-vivify", b"ma Ka N0 J10 v t\r\nma Ka v t\r\nma Kb N100 t v\r\n")
    case("meta-ma-vivify-q", b"ma Ka N0 q\r\nma Ka q v\r\nma Ka q MD D5 v\r\nmn\r\nmg Ka v\r\n")
    case("meta-ma-non-numeric", b"ms Ka 1\r\nx\r\nma Ka\r\nma Ka q\r\n")
    case("meta-ma-empty-item", b"mg Ka N30\r\nma Ka v\r\n")
    case("meta-ma-cas", b"ma Ka N0 c\r\n", READ, b"ma Ka C{mcas} v\r\nma Ka C999999999999 v\r\n"
         b"ma Ka C0 v\r\n")
    case("meta-ma-T-t", b"ms Ka 1\r\n1\r\nma Ka t T100 t\r\nmg Ka t\r\n")
    case("meta-ma-wrap", b"ms Ka 20\r\n18446744073709551615\r\nma Ka v\r\n")
    case("meta-ma-decr-padding", b"ms Ka 3\r\n100\r\nma Ka MD D95 v\r\nmg Ka v s\r\n")
    case("meta-ma-grows", b"ms Ka 1\r\n9\r\nma Ka v\r\nmg Ka v s\r\n")
    case("meta-ma-delta-big", b"ms Ka 1\r\n1\r\nma Ka D18446744073709551615 v\r\n")
    case("meta-me-hit", b"ms Ka 1 F1\r\nx\r\nme Ka\r\n")
    case("meta-me-miss", b"me Ka\r\n")
    case("meta-me-no-key", b"me\r\n")
    case("meta-me-b64", b"ms {b64:Ka} 1 b\r\nx\r\nme {b64:Ka} b\r\nme {b64:Ka}\r\n")
    case("meta-me-b64-bad", b"me Ka= b\r\n")
    case("meta-me-b-not-first", b"me {b64:Ka} v b\r\n")
    case("meta-me-fetched-ttl", b"ms Ka 1 T100\r\nx\r\nmg Ka v\r\nme Ka\r\n")
    case("meta-me-classes", b"ms Ka 37\r\n" + b"x" * 37 + b"\r\nme Ka\r\nms Kb 5000\r\n" + big
         + b"\r\nme Kb\r\nms Kc 400000\r\n" + b"y" * 400000 + b"\r\nme Kc\r\n")
    case("meta-me-key-too-long", b"me " + key(251) + b"\r\n")
    # errors
    case("meta-mg-dup-flag", b"mg Ka v v\r\n")
    case("meta-mg-invalid-flag", b"mg Ka x\r\nmg Ka E5\r\nmg Ka 1\r\n")
    case("meta-E-explicit-cas-unknown-in-1.6.18", b"ms Ka 1 E5\r\nx\r\nmg Ka v\r\nmd Ka E5\r\n"
         b"ma Ka E5\r\nms Ka 1\r\nx\r\nmg Ka E5 c\r\n")
    case("meta-mg-high-byte-flag", b"mg Ka \xffv\r\nmg Ka \x7f\r\n")
    case("meta-mg-error-ignores-q", b"mg Ka x q\r\nmg Ka Tx q\r\n")
    case("meta-mg-bad-tokens", b"mg Ka Tx\r\nmg Ka N\r\nmg Ka R1x\r\nmg Ka C-\r\n")
    case("meta-mg-number-errors", b"mg Ka Dx\r\nmg Ka Jx Dx\r\nmg Ka Dx Jx\r\nmg Ka Fx\r\n"
         b"mg Ka Nx Fx\r\nmg Ka Fx Nx\r\nmg Ka MEE\r\n")
    case("meta-mg-error-then-dup", b"mg Ka Tx v v\r\nmg Ka= b b\r\nmg Ka Tx q x\r\n")
    case("meta-mg-too-many-flags", b"mg Ka" + b" v" * 18 + b"\r\n")
    case("meta-mg-17-flags", b"ms Ka 1\r\nx\r\nmg Ka v s t c f l h k u P L O1 Dx\r\n"
         b"mg Ka v s t c f l h k u P L O1 D1 J1 M+ R1\r\n")
    case("meta-mg-key-250", b"ms " + key(250) + b" 1\r\nx\r\nmg " + key(250) + b" v k\r\n")
    case("meta-mg-key-too-long", b"mg " + key(251) + b" v\r\n")
    case("meta-mg-opaque-32", b"mg Ka O" + b"o" * 31 + b"\r\n")
    case("meta-mg-opaque-too-long", b"mg Ka O" + b"o" * 32 + b"\r\n")
    # memcached checks mg/ma opaques while writing the reply: what came before stays
    lo = b"O" + b"o" * 33
    case("meta-mg-long-opaque-after-N", b"mg Ka N30 " + lo + b"\r\nmg Ka t v\r\n")
    case("meta-mg-long-opaque-before-N", b"mg Ka " + lo + b" N30\r\nmg Ka t v\r\n")
    case("meta-mg-long-opaque-T", b"ms Ka 1 T100\r\nx\r\nmg Ka T10 " + lo + b"\r\nmg Ka t\r\n"
         b"mg Ka " + lo + b" T50\r\nmg Ka t\r\n")
    case("meta-mg-long-opaque-bump", b"ms Ka 1\r\nx\r\nmg Ka " + lo + b"\r\nmg Ka h\r\n"
         b"ms Kb 1\r\nx\r\nmg Kb h " + lo + b"\r\nmg Kb h\r\n")
    case("meta-mg-long-opaque-miss", b"mg Ka v " + lo + b"\r\nmg Ka v q " + lo + b"\r\nmn\r\n")
    case("meta-mg-long-opaque-stale", b"ms Ka 1\r\nx\r\nmd Ka I\r\nmg Ka " + lo +
         b"\r\nmg Ka v\r\n")
    case("meta-ma-long-opaque", b"ms Ka 1\r\n5\r\nma Ka " + lo + b" v\r\nmg Ka v\r\n"
         b"ma Kb N0 J3 " + lo + b"\r\nmg Kb v t\r\nma Kc " + lo + b"\r\n"
         b"ms Kd 1\r\nx\r\nma Kd " + lo + b"\r\n", READ, b"ma Ka T30 " + lo + b"\r\nmg Ka t\r\n")
    # (READ: while a reply not yet sent holds the item, memcached's ma replaces it and
    # applies T to the replaced copy, losing it; see docs/SERVER.md)
    case("meta-mg-P-L-ignored", b"ms Ka 1\r\nx\r\nmg Ka Pfoo Lbar v\r\n")
    case("meta-ms-no-datalen", b"ms Ka\r\nmn\r\n")
    case("meta-ms-bad-datalen", b"ms Ka x\r\nmn\r\nms Ka -1\r\nmn\r\nms Ka 2147483646\r\nmn\r\n")
    case("meta-ms-datalen-junk", b"ms Ka 2x\r\nhi\r\nmn\r\n")
    case("meta-ms-bad-flag-swallows", b"ms Ka 2 x\r\nhi\r\nmg Ka v\r\n")
    case("meta-ms-dup-flag-swallows", b"ms Ka 2 T1 T2\r\nhi\r\nmn\r\n")
    case("meta-ms-bad-F", b"ms Ka 2 Fx\r\nhi\r\nmn\r\nms Ka 2 F-1\r\nhi\r\nmg Ka f\r\n")
    case("meta-ms-bad-mode", b"ms Ka 2 MX\r\nhi\r\nmn\r\nms Ka 2 MEE\r\nhi\r\nmn\r\n"
         b"ms Ka 2 M\r\nhi\r\nmn\r\n")
    case("meta-ms-bad-chunk", b"ms Ka 2\r\nhiX\r\nmn\r\nms Ka 2 q\r\nhiX\r\nmn\r\nmg Ka v\r\n")
    case("meta-ms-bad-chunk-keeps-old", b"ms Ka 1\r\nx\r\nms Ka 2\r\nhiX\r\nmg Ka v\r\n")
    case("meta-ms-too-large", b"ms Ka 1\r\nx\r\nms Ka 1048577 ME\r\n", b"y" * 1048579,
         b"mg Ka v\r\n")
    case("meta-ms-too-large-q", b"ms Ka 2000000 q\r\n", b"y" * 2000002, b"mn\r\n")
    case("meta-ms-too-large-flags", b"ms Ka 1048512 F1\r\n", b"z" * 1048514, b"mn\r\n")
    case("meta-ms-key-too-long", b"ms " + key(251) + b" 1\r\nx\r\n")
    case("meta-ms-opaque-and-mode", b"ms Ka 1 O" + b"o" * 40 + b" MX\r\nx\r\nms Ka 1 O" +
         b"o" * 40 + b"\r\nx\r\nmn\r\n")
    case("meta-ms-too-many-flags", b"ms Ka 1" + b" v" * 17 + b"\r\nx\r\nmn\r\n")
    case("meta-ms-16-flags", b"ms Ka 1 q" + b" P" * 1 + b" k c O1 F1 T0 L I s t f v h l u\r\nx\r\n"
         b"mg Ka v\r\n")
    case("meta-md-bad-flag", b"md Ka x\r\nmd Ka Tx\r\nmd Ka v v\r\nmd Ka O" + b"o" * 33 + b"\r\n")
    case("meta-md-too-many", b"md Ka" + b" q" * 18 + b"\r\n")
    case("meta-md-key-too-long", b"md " + key(251) + b"\r\n")
    case("meta-ma-bad", b"ma Ka MX\r\nma Ka Dx\r\nma Ka Jx\r\nma Ka MDD\r\nma Ka x\r\n")
    case("meta-ma-key-too-long", b"ma " + key(251) + b"\r\n")
    case("meta-ma-too-many", b"ma Ka" + b" q" * 18 + b"\r\n")
    case("meta-no-key-errors", b"ms\r\nmd\r\nma\r\nmn\r\n")
    case("meta-quiet-pipeline", b"ms Ka 1 q\r\nx\r\nmg Ka v q\r\nmg Kb v q\r\nmd Kb q\r\n"
         b"md Ka q\r\nmg Ka v q\r\nma Kc q N0 J5\r\nma Kc q\r\nma Kc q v\r\nmn\r\n")
    case("meta-quiet-pipeline-opaque", b"mg Ka O1 q v\r\nms Ka 1 O2 q\r\nx\r\nmg Ka O3 q v k\r\n"
         b"mn\r\n")
    case("meta-mixed-classic", b"set Ka 5 0 2\r\nhi\r\nmg Ka v f c\r\ndelete Ka\r\nmg Ka v\r\n"
         b"ma Kb N0 J41\r\nincr Kb 1\r\n")
    case("meta-crlf-variants", b"mg Ka v\nms Ka 1\nx\r\nmg Ka v\n")

    # ---- generated meta scripts (own seed, so the classic ones above stay as they are) --
    mrnd = random.Random(int(os.environ.get("KVD_CONFORMANCE_SEED", "20261124")) + 12)
    mkeys = [b"Ka", b"Kb", b"{b64:Ka}", b"{b64:Kb}", b"Ka=", b"K" + b"z" * 250]
    mnums = [b"0", b"1", b"5", b"100", b"x", b"", b"18446744073709551615", b"4294967296"]
    mflags = [b"v", b"k", b"s", b"t", b"c", b"f", b"h", b"q", b"u", b"b", b"I", b"x", b"E1",
              b"O1", b"O" + b"o" * 33, b"P", b"L", b"MA", b"ME", b"MP", b"MR", b"MS", b"MD",
              b"M-", b"M+", b"MX", b"MEE"]
    numflags = [b"T", b"N", b"R", b"F", b"C", b"D", b"J"]
    for n in range(int(os.environ.get("KVD_CONFORMANCE_GENERATED", "48")) // 2):
        script = b""
        for _ in range(mrnd.randint(4, 12)):
            w = mrnd.choice([b"mg", b"mg", b"ms", b"ms", b"md", b"ma", b"me", b"mn", b"get",
                             b"set"])
            key = mrnd.choice(mkeys)
            flags = []
            for _ in range(mrnd.choice([0, 1, 2, 3, 4, 6])):
                if mrnd.random() < 0.35:
                    flags.append(mrnd.choice(numflags) + mrnd.choice(mnums))
                else:
                    flags.append(mrnd.choice(mflags))
            if b"b" not in flags and key.startswith(b"{b64"):
                flags.append(b"b")
            if w == b"ms" or w == b"set":
                data = bytes(mrnd.choice(b"0123456789abc") for _ in range(mrnd.randint(0, 5)))
                length = len(data) if mrnd.random() < 0.85 else mrnd.randint(0, 7)
                if w == b"set":
                    line = [w, key, b"0", b"0", b"%d" % length]
                else:
                    line = [w, key, b"%d" % length] + flags
                script += b" ".join(line) + b"\r\n" + data + b"\r\n"
            elif w == b"mn":
                script += b"mn\r\n"
            elif w == b"get":
                script += b"get " + key + b"\r\n"
            else:
                script += b" ".join([w, key] + flags) + b"\r\n"
        case("generated-meta-%02d" % n, script + b"mn\r\n")

    # ---- server-wide: flush_all, stats (serial) --------------------------------------
    case("flush-all", b"set Ka 0 0 1\r\nx\r\nflush_all\r\nget Ka\r\nset Ka 0 0 1\r\ny\r\n"
         b"get Ka\r\n", serial=True)
    case("flush-all-noreply", b"set Ka 0 0 1\r\nx\r\nflush_all noreply\r\nget Ka\r\n",
         serial=True)
    case("flush-all-zero", b"set Ka 0 0 1\r\nx\r\nflush_all 0\r\nget Ka\r\n", serial=True)
    case("flush-all-negative", b"set Ka 0 0 1\r\nx\r\nflush_all -5\r\nget Ka\r\n", serial=True)
    case("flush-all-one-is-now", b"set Ka 0 0 1\r\nx\r\nflush_all 1\r\nget Ka\r\n",
         serial=True)
    case("flush-all-delayed", b"set Ka 0 0 1\r\nx\r\nflush_all 2\r\nget Ka\r\n", READ,
         sleep(3.2), b"get Ka\r\n", serial=True)
    case("flush-all-bad", b"flush_all x\r\n", serial=True)
    case("flush-all-noreply-bad", b"flush_all noreply x\r\n", serial=True)
    case("flush-all-extra-ignored", b"set Ka 0 0 1\r\nx\r\nflush_all 0 x\r\nget Ka\r\n",
         serial=True)
    case("flush-all-too-many", b"flush_all 1 2 3\r\n", serial=True)
    case("stats", b"stats\r\n", serial=True)
    case("stats-settings", b"stats settings\r\n", serial=True)
    case("stats-reset", b"stats reset\r\n", serial=True)
    case("stats-unknown", b"stats nonsense\r\n", serial=True)
    case("stats-items-empty", b"flush_all\r\nstats items\r\n", serial=True)
    case("stats-items", b"set Ka 0 0 1\r\nx\r\nstats items\r\n", serial=True)
    return cases
