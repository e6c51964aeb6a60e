#!/usr/bin/env python3
"""deps_closure.py: every dependency of the build and tests comes from the deps lists.

    deps_closure.py [--repo DIR] [DEPS_DIR]        (run by tools/lint.d/deps.sh)

A new machine gets exactly what tools/deps.sh installs: the packages of DEPS_DIR/*.list
(default: the repo's deps/) and of the `apt-get install` lines of DEPS_DIR/*.sh, with
--no-install-recommends, on top of a minbase Debian (Priority: required, Essential, apt).
That set is computed with apt's own resolver on an EMPTY dpkg status (`apt-get -s -o
Dir::State::status=/dev/null install ...`), so Depends/Pre-Depends, alternatives, virtual
packages and Provides (librust-foo-1+default-dev) resolve as they would on a new machine,
and Recommends do not count. Packages installed here for other reasons do not count.

Then every thing the build and tests use must be a file owned (dpkg -S) by a package of
that set:
  - every registry crate of every Cargo.lock (/usr/share/cargo/registry/<name>-<version>,
    cargo's source replacement);
  - every pkg-config module of pkg_check_modules/pkg_search_module and of pkg-config
    calls in scripts (the repo's own graft*.pc excepted);
  - every find_library / find_path of the CMake files;
  - every program: find_program, find_package(Python3 Interpreter / PkgConfig), the
    generator and compilers, script interpreters (#!), commands in command position of
    the shell scripts and Makefile recipes, argv[0] string literals of Python/JS calls,
    and literal /usr/bin/... paths in tests, tools and benches.
Exempt: rustup's toolchain (cargo, rustc, ...: not Debian's, docs/BUILDING.md), programs
the repo builds, shell builtins and functions.

Each missing dependency is printed with the package that provides it here and the deps
list to add it to; exit status 1 then. Exit 2 when apt has no package lists.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

REGISTRY = "/usr/share/cargo/registry"
STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RUSTUP = {"cargo", "rustc", "rustup", "rust-analyzer", "rustfmt", "cargo-fmt", "cargo-clippy",
          "clippy-driver", "rustdoc", "rust-gdb", "rust-lldb"}
# Which list a dependency belongs in, by the first path prefix of the file that uses it.
AREAS = [
    ("src/admin", "admin"), ("tests/admin", "admin"), ("tests/browser", "admin"),
    ("tools/graftctl", "admin"), ("tools/demo", "admin"), ("tests/demo", "admin"),
    ("tools/plan", "plan"), ("tests/plan", "plan"), ("bench/plan", "plan"),
    ("server/", "server"), ("tests/server", "server"), ("tests/conformance", "server"),
    ("tests/parity", "server"), ("bench/kvd", "server"), ("bench/parse", "server"),
    ("tools/kvload", "server"),
    ("tools/trace", "trace"), ("tools/profile", "trace"), ("tests/trace", "trace"),
    ("bench/probes", "trace"),
    ("src/", "runtime"), ("tests/runtime", "runtime"),
    ("tests/install", "adopt"), ("examples/", "adopt"), ("tools/check-abi", "adopt"),
    ("cmake/GraftInstall", "adopt"),
]
SHELL_WORDS = set("""
    if then else elif fi case esac for select while until do done in function time coproc
    ! [[ ]] { } alias bg bind break builtin caller cd command compgen complete compopt
    continue declare dirs disown echo enable eval exec exit export false fc fg getopts hash
    help history jobs kill let local logout mapfile popd printf pushd pwd read readarray
    readonly return set shift shopt source suspend test times trap true type typeset ulimit
    umask unalias unset wait . : [
""".split())
# Words that run the next word as a command (their own options are skipped).
WRAPPERS = {"exec", "nice", "nohup", "setsid", "stdbuf", "ionice", "taskset", "sudo",
            "xargs", "env", "timeout", "chroot", "unshare", "time", "builtin", "command"}
MAKE_TARGET_PROGRAMS = {"make"}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def git_files(repo, *patterns):
    r = run(["git", "-C", repo, "ls-files", "--", *patterns])
    if r.returncode == 0:
        return [f for f in r.stdout.splitlines() if f]
    # Not a git checkout (a tarball): walk the tree instead.
    import fnmatch
    out = []
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in (".git", "target", "node_modules")
                   and not d.startswith("build")]
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), repo)
            if any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(f, p) for p in patterns):
                out.append(rel)
    return sorted(out)


def list_for(path, deps_dir):
    for prefix, name in AREAS:
        if path.startswith(prefix) and os.path.exists(os.path.join(deps_dir, name + ".list")):
            return name + ".list"
    return "base.list"


# --------------------------------------------------------------------------- packages
def read_lists(deps_dir):
    """{package: [list files naming it]} from *.list and apt-get install lines of *.sh."""
    named = {}
    for f in sorted(os.listdir(deps_dir)):
        p = os.path.join(deps_dir, f)
        if f.endswith(".list"):
            for line in open(p, encoding="utf-8"):
                for w in line.split("#", 1)[0].split():
                    named.setdefault(w, []).append(f)
        elif f.endswith(".sh"):
            for line in open(p, encoding="utf-8"):
                # A command `[VAR=x ...] apt-get [-opts] install PKG...`, not a message naming one.
                m = re.search(r"(?:^|[;&|{]\s*)(?:\w+=\S*\s+)*apt-get\s+(?:-\S+\s+)*install\s+([^;&|<>#}]*)",
                              line.split("#", 1)[0].strip())
                if not m:
                    continue
                for w in m.group(1).split():
                    if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w):
                        named.setdefault(w, []).append(f)
    return named


class Archive:
    """apt's view of the archive (apt-cache dumpavail): package names, what each provides,
    and the minbase set mmdebstrap installs (Priority: required, Essential: yes, apt)."""

    def __init__(self):
        r = run(["apt-cache", "dumpavail"])
        self.names, self.provides, self.base, cur = set(), {}, {"apt"}, {}
        for line in r.stdout.splitlines() + [""]:
            if not line:
                name = cur.get("Package")
                if name:
                    self.names.add(name)
                    if cur.get("Priority") == "required" or cur.get("Essential") == "yes":
                        self.base.add(name)
                    for v in cur.get("Provides", "").split(","):
                        v = v.split("(")[0].strip()
                        if v:
                            self.provides.setdefault(v, set()).add(name)
                cur = {}
            elif not line[0].isspace() and ": " in line:
                k, v = line.split(": ", 1)
                if k in ("Package", "Priority", "Essential", "Provides"):
                    cur[k] = v.strip()

    def satisfied(self, name, fresh):
        """Is package or virtual package `name` in, or provided by a package of, `fresh`?"""
        return name in fresh or bool(self.provides.get(name, set()) & fresh)


def fresh_install_set(named, archive):
    """Packages apt installs on a new machine for minbase + the lists (no Recommends)."""
    base = archive.base
    if len(base) < 5:
        print("deps: apt has no package lists (apt-cache dumpavail is empty): run apt-get update",
              file=sys.stderr)
        sys.exit(2)
    unknown = sorted(n for n in named if n not in archive.names and n not in archive.provides)
    if unknown:
        print(f"deps: no such Debian package: {', '.join(unknown)} (named in "
              f"{', '.join(sorted({l for n in unknown for l in named[n]}))})", file=sys.stderr)
        sys.exit(1)
    argv = ["apt-get", "-s", "-qq", "-o", "Dir::State::status=/dev/null",
            "-o", "Debug::NoLocking=1", "-o", "Dir::Cache::pkgcache=",  # never write a cache
            "-o", "APT::Install-Recommends=0",
            "-o", "APT::Install-Suggests=0", "install", "--no-install-recommends",
            *sorted(base), *sorted(named)]
    r = run(argv, env={**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"})
    if r.returncode != 0:
        err = "\n".join(l for l in (r.stdout + r.stderr).splitlines() if l.startswith("E:") or " : " in l)
        print("deps: apt cannot install the deps lists together on a new machine:\n" + err,
              file=sys.stderr)
        sys.exit(1)
    got = set()
    for line in r.stdout.splitlines():
        if line.startswith("Inst "):
            got.add(line.split()[1].split(":")[0])
    return got | set(named)


# --------------------------------------------------------------------------- ownership
def usr_variants(path):
    out = [path]
    for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"), ("/usr/lib/", "/lib/")):
        if path.startswith(a):
            out.append(b + path[len(a):])
        elif path.startswith(b):
            out.append(a + path[len(b):])
    return out


def candidates(path):
    """The path, each step of its symlink chain (update-alternatives), and the real file."""
    seen, out, p = set(), [], path
    for _ in range(10):
        for v in usr_variants(p):
            if v not in seen:
                seen.add(v)
                out.append(v)
        if not os.path.islink(p):
            break
        t = os.readlink(p)
        p = os.path.normpath(os.path.join(os.path.dirname(p), t))
    for v in usr_variants(os.path.realpath(path)):
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


class Owners:
    """dpkg -S, batched: path -> owning package names (architecture qualifiers dropped)."""

    def __init__(self):
        self.cache = {}

    def load(self, paths):
        todo = sorted({c for p in paths for c in candidates(p)} - set(self.cache))
        for i in range(0, len(todo), 200):
            chunk = todo[i:i + 200]
            r = run(["dpkg-query", "-S", *chunk], env={**os.environ, "LC_ALL": "C"})
            for c in chunk:
                self.cache.setdefault(c, [])
            for line in r.stdout.splitlines():
                if line.startswith("diversion ") or ": " not in line:
                    continue
                pk, path = line.split(": ", 1)
                if path in self.cache:
                    self.cache[path] = [p.strip().split(":")[0] for p in pk.split(",")]

    def of(self, path):
        self.load([path])
        for c in candidates(path):
            if self.cache.get(c):
                return self.cache[c], c
        return [], None


# --------------------------------------------------------------------------- what is used
class Need:
    def __init__(self, kind, name, where, path=None, hint=None):
        self.kind, self.name, self.where, self.path, self.hint = kind, name, where, path, hint


def cargo_locks(repo):
    locks = [f for f in git_files(repo, "Cargo.lock", "*/Cargo.lock") if f.endswith("Cargo.lock")]
    needs = []
    for lock in locks:
        text = open(os.path.join(repo, lock), encoding="utf-8").read()
        if tomllib:
            pkgs = tomllib.loads(text).get("package", [])
        else:
            pkgs = []
            for block in text.split("[[package]]")[1:]:
                d = dict(re.findall(r'^(name|version|source) = "([^"]*)"', block, re.M))
                d["dependencies"] = re.findall(r'^ "([^" ]+)', block, re.M)
                pkgs.append(d)
        users = {}
        for p in pkgs:
            for d in p.get("dependencies", []):
                users.setdefault(d.split()[0], []).append(p["name"])
        for p in pkgs:
            src = p.get("source")
            if not src:
                continue  # a workspace or path crate
            name, ver = p["name"], p["version"]
            where = f"{lock} ({', '.join(users.get(name, [])) or 'root'} -> {name} {ver})"
            if not src.startswith("registry+"):
                needs.append(Need("crate", f"{name} {ver}", where, None,
                                  f"source {src} is not a registry: only Debian's librust-*-dev crates"))
                continue
            needs.append(Need("crate", f"{name} {ver}", where, f"{REGISTRY}/{name}-{ver}",
                              users.get(name, [])))
    return needs


def debian_crate_package(crate, feature=None):
    base = "librust-" + crate.replace("_", "-").lower()
    return f"{base}+{feature.replace('_', '-').lower()}-dev" if feature else base + "-dev"


def crate_feature_needs(repo):
    """librust-<dep>+<feature>-dev for every registry dependency of every Cargo.toml: its
    default features unless `default-features = false`, and each feature it asks for."""
    if not tomllib:
        return []
    needs, docs = [], {}
    for toml in git_files(repo, "Cargo.toml", "*/Cargo.toml"):
        if toml.endswith("Cargo.toml"):
            docs[toml] = tomllib.loads(open(os.path.join(repo, toml), encoding="utf-8").read())
    own = {d["package"]["name"] for d in docs.values() if "package" in d}
    for toml, doc in docs.items():
        ws = doc.get("workspace", {}).get("dependencies", {})
        tables = [doc.get(k, {}) for k in ("dependencies", "dev-dependencies", "build-dependencies")]
        for t in doc.get("target", {}).values():
            tables += [t.get(k, {}) for k in ("dependencies", "dev-dependencies", "build-dependencies")]
        tables.append(ws)
        for table in tables:
            for name, spec in table.items():
                if isinstance(spec, str):
                    spec = {"version": spec}
                if spec.get("workspace"):
                    base = ws.get(name, {})
                    base = {"version": base} if isinstance(base, str) else dict(base)
                    base["features"] = base.get("features", []) + spec.get("features", [])
                    spec = base
                if "path" in spec or "git" in spec or "version" not in spec:
                    continue  # the repo's own crates (git sources are refused in Cargo.lock)
                crate = spec.get("package", name)
                if crate in own:
                    continue  # the repo's own crate, patched in (examples/starter)
                feats = list(spec.get("features", []))
                if spec.get("default-features", spec.get("default_features", True)):
                    feats.insert(0, "default")
                for f in feats:
                    needs.append(Need("crate-feature", f"{crate} feature {f}", toml,
                                      debian_crate_package(crate, f)))
    return needs


def strip_cmake_comments(text):
    return "\n".join(re.sub(r'(^|\s)#(?!\[).*$', r"\1", l) for l in text.splitlines())


def cmake_calls(repo):
    files = [f for f in git_files(repo, "CMakeLists.txt", "*/CMakeLists.txt", "*.cmake")
             if not f.startswith("examples/") or True]
    calls, variables = [], {}
    for f in files:
        text = strip_cmake_comments(open(os.path.join(repo, f), encoding="utf-8").read())
        for m in re.finditer(r"\b([A-Za-z_]+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)", text):
            cmd = m.group(1).lower()
            args = re.findall(r'"[^"]*"|[^\s"]+', m.group(2))
            args = [a[1:-1] if a.startswith('"') else a for a in args]
            line = text.count("\n", 0, m.start()) + 1
            if cmd == "set" and len(args) >= 2:
                variables.setdefault(args[0], args[1])
            calls.append((cmd, args, f"{f}:{line}", f))
    def expand(s):
        s = re.sub(r"\$ENV\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), s)
        return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), m.group(0)), s)
    return [(c, [expand(a) for a in args], where, f) for c, args, where, f in calls]


FIND_KEYWORDS = {"NAMES", "HINTS", "PATHS", "PATH_SUFFIXES", "DOC", "REQUIRED", "NO_DEFAULT_PATH",
                 "NO_CACHE", "REGISTRY_VIEW", "VALIDATOR", "ENV", "NAMES_PER_DIR", "OPTIONAL",
                 "NO_CMAKE_PATH", "NO_SYSTEM_ENVIRONMENT_PATH", "CMAKE_FIND_ROOT_PATH_BOTH"}


def find_args(args):
    """find_xxx(VAR name | NAMES n... [HINTS|PATHS dir...] ...) -> (names, dirs)."""
    names, dirs, mode = [], [], None
    rest = args[1:]
    if rest and rest[0] not in FIND_KEYWORDS:
        names.append(rest[0]); rest = rest[1:]
        mode = "PATHS"  # the short form: find_program(VAR name [path1 ...])
    for a in rest:
        if a in FIND_KEYWORDS:
            mode = a
        elif mode == "NAMES":
            names.append(a)
        elif mode in ("HINTS", "PATHS"):
            dirs.append(a)
    return names, dirs


def multiarch():
    return sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"


def locate_library(names, dirs):
    ma = multiarch()
    search = dirs + [f"/usr/lib/{ma}", "/usr/lib", f"/lib/{ma}", "/lib", "/usr/local/lib"]
    for n in names:
        for d in search:
            for f in (f"lib{n}.so", f"lib{n}.a", f"{n}.so", n):
                p = os.path.join(d, f)
                if os.path.isfile(p):
                    return p
    return None


def locate_header(names, dirs):
    search = dirs + ["/usr/include", f"/usr/include/{multiarch()}", "/usr/local/include"]
    for n in names:
        for d in search:
            if os.path.isfile(os.path.join(d, n)):
                return os.path.join(d, n)
    return None


def own_pc_modules(repo):
    return {os.path.basename(f)[:-len(".pc.in")] for f in git_files(repo, "*.pc.in")}


def pc_file(module, repo):
    r = run(["pkg-config", "--path", module])
    if r.returncode == 0 and r.stdout.strip():
        return r.stdout.strip().splitlines()[0]
    for d in (f"/usr/lib/{multiarch()}/pkgconfig", "/usr/lib/pkgconfig", "/usr/share/pkgconfig"):
        p = os.path.join(d, module + ".pc")
        if os.path.isfile(p):
            return p
    return None


# --------------------------------------------------------------------------- shell
def split_heredocs(text):
    """Script text with here-document bodies blanked (lines kept)."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        for m in re.finditer(r"<<(-?)\s*(['\"]?)(\w+)\2", line):
            delim, dash = m.group(3), m.group(1)
            while i < len(lines):
                body = lines[i].lstrip("\t") if dash else lines[i]
                out.append("")
                i += 1
                if body == delim:
                    break
    return "\n".join(out)


def shell_tokens(text):
    """(word, line) and operator tokens of a shell script; $(...) and `...` bodies are
    scanned as scripts of their own and appear as the pseudo-word $SUB."""
    toks, subs, i, n, line = [], [], 0, len(text), 1
    word, quoted = [], False

    def flush():
        nonlocal word, quoted
        if word or quoted:
            toks.append(("w", "".join(word), line))
        word, quoted = [], False

    def skip_sub(j):  # text[j] is the "(" of $( ; index after its ")"
        depth = 0
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2; continue
            if c == "'":
                k = text.find("'", j + 1); j = n if k < 0 else k + 1; continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return n

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            if text[i + 1] == "\n":
                line += 1; i += 2; continue
            word.append(text[i + 1]); i += 2; continue
        if c == "'":
            k = text.find("'", i + 1); k = n if k < 0 else k
            word.append(text[i + 1:k]); quoted = True
            line += text.count("\n", i, k); i = k + 1; continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 2; continue
                if text.startswith("$(", j) and not text.startswith("$((", j):
                    k = skip_sub(j + 1)
                    subs.append((text[j + 2:k - 1], line + text.count("\n", i, j)))
                    word.append("$SUB"); j = k; continue
                if text[j] == "`":
                    k = text.find("`", j + 1); k = n if k < 0 else k
                    subs.append((text[j + 1:k], line)); word.append("$SUB"); j = k + 1; continue
                word.append(text[j]); j += 1
            line += text.count("\n", i, j); quoted = True; i = j + 1; continue
        if text.startswith("${", i):
            depth, j = 0, i + 1
            while j < n:
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            word.append("$VAR"); line += text.count("\n", i, j); i = j + 1; continue
        if text.startswith("((", i) and not word:
            k = text.find("))", i); k = n if k < 0 else k
            flush(); toks.append(("op", ";", line)); line += text.count("\n", i, k); i = k + 2; continue
        if text.startswith("$((", i):
            k = skip_sub(i + 1); word.append("$ARITH"); line += text.count("\n", i, k); i = k; continue
        if text.startswith("$(", i):
            k = skip_sub(i + 1)
            subs.append((text[i + 2:k - 1], line)); word.append("$SUB")
            line += text.count("\n", i, k); i = k; continue
        if c == "`":
            k = text.find("`", i + 1); k = n if k < 0 else k
            subs.append((text[i + 1:k], line)); word.append("$SUB"); i = k + 1; continue
        if c == "#" and not word:
            k = text.find("\n", i); i = n if k < 0 else k; continue
        if c == "\n":
            flush(); toks.append(("op", "\n", line)); line += 1; i += 1; continue
        if c in " \t":
            flush(); i += 1; continue
        if c in ";&|()<>":
            flush()
            m = re.match(r";;&?|;&|&&|\|\||\|&|[0-9]*>>?&?[0-9-]*|<<<|<&|<|;|&|\||\(|\)", text[i:])
            op = m.group(0)
            toks.append(("op", op, line)); i += len(op)
            if re.fullmatch(r"\d*(>>?|<|<<<)", op):  # its target word follows
                toks.append(("redir", op, line))
            continue
        if c == "{" and not word and i + 1 < n and text[i + 1] in " \t\n":
            toks.append(("op", "{", line)); i += 1; continue
        if c == "}" and not word and (i + 1 >= n or text[i + 1] in " \t\n;)"):
            toks.append(("op", "}", line)); i += 1; continue
        word.append(c); i += 1
    flush()
    return toks, subs


def shell_commands(text, first_line=1):
    """([command word, line, [argument words]], functions defined) of a shell script:
    every simple command, wrappers (exec, timeout 5, env X=1, ...) looked through,
    `command -v X` taken as a probe of X rather than a use."""
    toks, subs = shell_tokens(split_heredocs(text))
    out, funcs, cur = [], set(), None
    at_cmd, after_redir, wrapper, skip_array = True, False, None, False
    case_state = None  # None, "word" (after `case`), "pattern" (before a `)`)
    for idx, (kind, val, line) in enumerate(toks):
        if kind == "redir":
            after_redir = True
            continue
        if kind == "op":
            after_redir = False
            if val == "(" and idx >= 1 and toks[idx - 1][0] == "w" and toks[idx - 1][1].endswith("="):
                skip_array = True  # name=( words ): an array assignment, no command
                continue
            if skip_array:
                skip_array = val != ")"
                continue
            if val == "(" and idx + 1 < len(toks) and toks[idx + 1][1] == ")" and cur \
                    and not cur[2]:
                funcs.add(cur[0])  # name() { ... }: a function, not a program
                out.remove(cur)
            if case_state == "pattern":
                if val == ")":
                    case_state, at_cmd, cur = None, True, None
                continue
            if val in ("\n", ";", "&", "&&", "||", "|", "|&", "(", "{", "}", ")"):
                at_cmd, wrapper, cur = True, None, None
            elif val in (";;", ";&", ";;&"):
                case_state, cur = "pattern", None
            continue
        if skip_array:
            continue
        if after_redir:
            after_redir = False
            continue
        if case_state == "pattern":
            if val == "esac":
                case_state, at_cmd = None, False
            continue
        if case_state == "word":
            if val == "in":
                case_state = "pattern"
            continue
        if not at_cmd:
            if cur is not None:
                cur[2].append(val)
            continue
        if val in ("then", "do", "else", "elif", "if", "while", "until", "!", "{", "time",
                   "function", "fi", "done", "esac"):
            continue
        if val == "case":
            case_state = "word"
            continue
        if re.fullmatch(r"[A-Za-z_]\w*(\[[^]]*\])?\+?=.*", val):
            continue  # an assignment before the command
        if wrapper:
            if val.startswith("-") or (wrapper in ("timeout", "nice", "taskset", "ionice")
                                       and re.fullmatch(r"[0-9.]+[smhd]?|0x[0-9a-f]+", val)):
                if wrapper == "command" and val == "-v":
                    wrapper = "command-v"
                continue
            if wrapper == "command-v":
                at_cmd, wrapper = False, None  # `command -v X` probes X, it does not run it
                continue
        if val in WRAPPERS:
            wrapper = val
            continue
        at_cmd, wrapper = False, None
        cur = [val, first_line + line - 1, []]
        out.append(cur)
    for body, line in subs:
        o, f = shell_commands(body, first_line + line - 1)
        out += o
        funcs |= f
    return out, funcs


def makefile_shell_line(l, variables):
    for _ in range(10):
        prev = l
        l = re.sub(r"\$\(([A-Z_]+)\)", lambda m: variables.get(m.group(1), "$X"), l)
        l = re.sub(r"\$\([a-z]+ [^()]*\)|\$\(\)", "$F", l)
        if l == prev:
            break
    return l


def makefile_shell(text):
    """The recipes of a Makefile as shell text, with make variables substituted."""
    variables = dict(re.findall(r"^([A-Z_]+)\s*[:?]?=\s*(.*)$", text, re.M))
    lines, out = text.split("\n"), []
    for l in lines:
        if l.startswith("\t"):
            l = l[1:].lstrip("@-")
            for _ in range(10):
                prev = l
                l = re.sub(r"\$\(([A-Z_]+)\)", lambda m: variables.get(m.group(1), "$X"), l)
                # $(shell cmd) runs cmd; other make functions are values
                l = re.sub(r"\$\(shell ([^()]*)\)", r"$(\1)", l)
                l = re.sub(r"\$\([a-z]+ [^()]*\)|\$\(\)", "$F", l)
                if l == prev:
                    break
            l = l.replace("$$", "$")
            out.append(l)
        else:  # a variable's $(shell ...) runs too
            m = re.search(r"\$\(shell ((?:[^()]|\$\([A-Z_]+\))*)\)", l)
            out.append(makefile_shell_line(m.group(1), variables) if m and not l.startswith("#") else "")
    return "\n".join(out)


def script_files(repo):
    files = git_files(repo, "*")
    out = []
    for f in sorted(set(files)):
        p = os.path.join(repo, f)
        if not os.path.isfile(p) or os.path.getsize(p) > 2_000_000:
            continue
        if f.endswith((".sh", ".py", ".mjs", ".js", ".c", ".cpp")) or os.path.basename(f) == "Makefile":
            out.append(f)
            continue
        try:
            with open(p, "rb") as fh:
                if fh.read(2) == b"#!":
                    out.append(f)
        except OSError:
            pass
    return out


def built_programs(calls):
    names = set()
    for cmd, args, _, _ in calls:
        if cmd == "add_executable" and args:
            names.add(args[0])
        if cmd == "set_target_properties" and "OUTPUT_NAME" in args:
            names.add(args[args.index("OUTPUT_NAME") + 1])
    return names


def program_needs(repo, calls):
    needs, uses, funcs = [], [], set()
    for cmd, args, where, f in calls:
        if cmd == "find_program" and len(args) >= 2:
            names, dirs = find_args(args)
            needs.append(Need("program", names[0], where, None, (names, dirs)))
        elif cmd == "find_package" and args:
            if args[0] == "Python3" and "Interpreter" in args:
                needs.append(Need("program", "python3", where))
            elif args[0] == "PkgConfig":
                needs.append(Need("program", "pkg-config", where))
        elif cmd == "project":
            needs.append(Need("program", "cc", where))
            if "CXX" in args:
                needs.append(Need("program", "c++", where))
    for f in script_files(repo):
        text = open(os.path.join(repo, f), encoding="utf-8", errors="replace").read()
        m = re.match(r"#!\s*(\S+)(?:\s+(\S+))?", text)
        if m:
            prog = m.group(2) if m.group(1).endswith("/env") and m.group(2) else m.group(1)
            needs.append(Need("program", os.path.basename(prog), f"{f}:1 (#!)",
                              None if "/" not in prog or prog.endswith("/env") else None))
        is_shell = f.endswith(".sh") or os.path.basename(f) == "Makefile" or \
            (m and re.search(r"\b(ba|da)?sh$", m.group(2) or m.group(1)))
        if is_shell:
            body = makefile_shell(text) if os.path.basename(f) == "Makefile" else text
            cmds, fn = shell_commands(body)
            funcs |= fn
            uses += [(w, f"{f}:{l}") for w, l, _ in cmds]
            for w, l, args in cmds:
                if w == "pkg-config":  # its module arguments
                    for arg in args:
                        if re.fullmatch(r"[A-Za-z0-9][\w.+-]*", arg):
                            needs.append(Need("pkg-config", arg, f"{f}:{l}"))
            if re.search(r"-G\s+Ninja", body):
                needs.append(Need("program", "ninja", f"{f} (-G Ninja)"))
            for mm in re.finditer(r"CMAKE_(?:C|CXX)_COMPILER=([\w.+-]+)", body):
                needs.append(Need("program", mm.group(1), f"{f}:{body.count(chr(10), 0, mm.start()) + 1}"))
        if f.endswith((".py", ".mjs", ".js")):
            for mm in re.finditer(r"\w\(\s*\[\s*(['\"])([A-Za-z][\w.+-]*)\1", text):
                uses.append((mm.group(2), f"{f}:{text.count(chr(10), 0, mm.start()) + 1}", "literal"))
            for mm in re.finditer(r"\b(?:which|spawn|execFile|exec[lv]p?)\(\s*(['\"])([A-Za-z][\w.+-]*)\1", text):
                uses.append((mm.group(2), f"{f}:{text.count(chr(10), 0, mm.start()) + 1}", "literal"))
        if f.endswith((".c", ".cpp")):  # programs the C code spawns by name
            for mm in re.finditer(r'\b(?:posix_spawnp?\([^,;]*,|exec[lv]p?e?\(|popen\()\s*"([A-Za-z][\w.+-]*)', text):
                uses.append((mm.group(1), f"{f}:{text.count(chr(10), 0, mm.start()) + 1}"))
        if f.startswith(("tests/", "tools/", "bench/", "fuzz/", "deps/")):
            for mm in re.finditer(r"[\"'](/(?:usr/)?s?bin/[\w.+-]+)[\"']", text):
                needs.append(Need("program", os.path.basename(mm.group(1)),
                                  f"{f}:{text.count(chr(10), 0, mm.start()) + 1}", mm.group(1)))
    built = built_programs(calls)
    seen = set()
    for u in uses:
        w, where = u[0], u[1]
        literal = len(u) > 2
        if w in SHELL_WORDS or w in funcs or w in built or "$" in w or "/" in w or "=" in w:
            continue
        if not re.fullmatch(r"[A-Za-z_][\w.+-]*", w):
            continue
        if literal and not shutil.which(w, path=STD_PATH):
            continue  # a string literal that is no program here (e.g. a protocol word)
        if (w, where.split(":")[0]) in seen:
            continue
        seen.add((w, where.split(":")[0]))
        needs.append(Need("program", w, where))
    for w in sorted(MAKE_TARGET_PROGRAMS):
        needs.append(Need("program", w, "Makefile (make test)"))
    return needs


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("deps_dir", nargs="?", help="directory of *.list (default: REPO/deps)")
    ap.add_argument("--repo", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "../..")))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every dependency and its package")
    a = ap.parse_args()
    repo = os.path.abspath(a.repo)
    deps_dir = os.path.abspath(a.deps_dir or os.path.join(repo, "deps"))
    named = read_lists(deps_dir)
    if not named:
        print(f"deps: no packages in {deps_dir}/*.list", file=sys.stderr)
        return 1
    archive = Archive()
    fresh = fresh_install_set(named, archive)
    owners = Owners()
    calls = cmake_calls(repo)
    needs = cargo_locks(repo)
    own_pc = own_pc_modules(repo)
    for cmd, args, where, f in calls:
        if cmd in ("pkg_check_modules", "pkg_search_module") and len(args) >= 2:
            for m in args[1:]:
                if m not in ("REQUIRED", "QUIET", "IMPORTED_TARGET", "GLOBAL", "NO_CMAKE_PATH",
                             "NO_CMAKE_ENVIRONMENT_PATH"):
                    needs.append(Need("pkg-config", re.split(r"[<>=]", m)[0], where))
        elif cmd == "find_library":
            names, dirs = find_args(args)
            needs.append(Need("library", "/".join(names), where, locate_library(names, dirs)))
        elif cmd == "find_path":
            names, dirs = find_args(args)
            needs.append(Need("header", "/".join(names), where, locate_header(names, dirs)))
    needs += program_needs(repo, calls)

    # Resolve every need to a file.
    problems, resolved = [], []
    for n in needs:
        if n.kind == "pkg-config":
            if n.name in own_pc:
                continue
            n.path = pc_file(n.name, repo)
            if not n.path:
                problems.append((n, f"pkg-config module {n.name} not found (no {n.name}.pc)", None))
                continue
        elif n.kind == "program":
            if n.name in RUSTUP:
                continue
            if not n.path:
                dirs = n.hint[1] if isinstance(n.hint, tuple) else []
                names = n.hint[0] if isinstance(n.hint, tuple) else [n.name]
                for nm in names:
                    n.path = shutil.which(nm, path=":".join(dirs + [STD_PATH]))
                    if n.path:
                        break
            if not n.path:
                problems.append((n, f"program {n.name} not found on {STD_PATH}", None))
                continue
        elif n.kind in ("library", "header") and not n.path:
            problems.append((n, f"{n.kind} {n.name} not found", None))
            continue
        elif n.kind == "crate" and not n.path:
            problems.append((n, f"crate {n.name}: {n.hint}", None))
            continue
        resolved.append(n)
    owners.load([n.path for n in resolved if os.path.exists(n.path)])
    checked = set()
    for n in resolved:
        if n.kind == "crate" and not os.path.isdir(n.path):
            problems.append((n, f"crate {n.name}: {n.path} does not exist (its Debian package "
                                f"is not installed here, or Debian has no such version)",
                             debian_crate_package(n.name.split()[0])))
            continue
        pkgs, owned = owners.of(n.path)
        if not pkgs:
            problems.append((n, f"{n.kind} {n.name}: {n.path} belongs to no Debian package", None))
            continue
        checked.add((n.kind, n.name))
        if a.verbose:
            print(f"  {n.kind} {n.name}: {owned} ({', '.join(pkgs)}) [{n.where}]")
        if not set(pkgs) & fresh:
            problems.append((n, f"{n.kind} {n.name}: {owned} is in {' or '.join(pkgs)}, which no "
                                f"deps list names and no listed package hard-depends on", pkgs[0]))
    # Cargo features: `dep = "1"` asks for dep's default features, which Debian packages
    # apart (librust-dep+default-dev); without them cargo cannot resolve the lock.
    for n in crate_feature_needs(repo):
        checked.add((n.kind, n.name))
        if a.verbose:
            print(f"  crate feature {n.name}: {n.path} [{n.where}]")
        if n.path not in archive.names and n.path not in archive.provides:
            problems.append((n, f"crate {n.name}: Debian has no package {n.path}", None))
        elif not archive.satisfied(n.path, fresh):
            problems.append((n, f"crate {n.name}: {n.path} is not in the lists' closure (no list "
                                f"names it, no listed package hard-depends on it)", n.path))
    # One message per missing package, each use listed; the feature packages first, as
    # they are usually the one line to add.
    by_pkg = {}
    for n, msg, pkg in problems:
        by_pkg.setdefault((pkg, msg), []).append(n)
    order = {"crate-feature": 0}
    for (pkg, msg), ns in sorted(by_pkg.items(), key=lambda kv: (order.get(kv[1][0].kind, 1),
                                                                 kv[0][0] or "", kv[0][1])):
        lst = list_for(ns[0].where, deps_dir)
        print(f"deps: {msg}", file=sys.stderr)
        for n in ns[:4]:
            print(f"        used by {n.where}", file=sys.stderr)
        if len(ns) > 4:
            print(f"        and {len(ns) - 4} more", file=sys.stderr)
        if pkg:
            print(f"deps: -> add {pkg} to deps/{lst}", file=sys.stderr)
    if by_pkg:
        print(f"deps: {len(by_pkg)} problem(s) with the lists in {deps_dir}", file=sys.stderr)
        return 1
    kinds = {}
    for k, _ in checked:
        kinds[k] = kinds.get(k, 0) + 1
    label = {"crate": "crates", "crate-feature": "crate features", "header": "headers",
             "library": "libraries", "pkg-config": "pkg-config modules", "program": "programs"}
    print("deps: " + ", ".join(f"{v} {label[k]}" for k, v in sorted(kinds.items())) +
          f" all come from the deps lists' closure ({len(fresh)} packages on a new machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
