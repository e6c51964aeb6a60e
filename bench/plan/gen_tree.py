#!/usr/bin/env python3
"""Generates a synthetic C project of about N lines (default 1M) for the graft plan
benchmark: components (directories) of files whose functions loop, branch, copy memory,
walk pointers, call into other components and read from sockets, plus its
compile_commands.json. Deterministic (fixed seed) so runs are comparable."""
import json
import os
import random
import sys

def main():
    out = os.path.abspath(sys.argv[1])
    target = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rng = random.Random(8)
    # about 5,000 lines per component (10 files of 500): 200 directories for 1M lines
    files_per = 10
    ncomp = max(2, target // 5000)
    os.makedirs(out, exist_ok=True)
    comps = [f"comp{c:02d}" for c in range(ncomp)]
    per_file = target // (ncomp * files_per)
    entries, total = [], 0
    # every component exports one entry function per file, declared in its header
    for c, comp in enumerate(comps):
        d = os.path.join(out, comp)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{comp}.h"), "w") as h:
            h.write(f"/* generated: {comp} interface */\n#ifndef {comp.upper()}_H\n"
                    f"#define {comp.upper()}_H\n#include <stddef.h>\n"
                    f"struct {comp}_buf {{ char data[64]; size_t len; }};\n")
            for f in range(files_per):
                h.write(f"int {comp}_f{f}_entry(struct {comp}_buf *b, const char *in, size_t n);\n")
            h.write("#endif\n")
            total += 6 + files_per
    for c, comp in enumerate(comps):
        for f in range(files_per):
            path = os.path.join(out, comp, f"f{f}.c")
            lines = [f"/* generated: {comp}/f{f}.c */",
                     "#include <stdlib.h>", "#include <string.h>", "#include <stdio.h>",
                     "#include <sys/socket.h>", f'#include "{comp}.h"']
            callees = [comps[(c + k) % ncomp] for k in (1, 2)]
            for cal in callees:
                lines.append(f'#include "../{cal}/{cal}.h"')
            lines.append("static int counter;")
            fn = 0
            while len(lines) < per_file - 30:
                name = f"{comp}_f{f}_h{fn}"
                body = [f"static int {name}(struct {comp}_buf *b, const char *in, size_t n)", "{",
                        "    int acc = 0;", "    const char *p = in;"]
                for k in range(rng.randint(3, 6)):
                    kind = rng.randint(0, 4)
                    if kind == 0:
                        body += [f"    for (size_t i{k} = 0; i{k} < n && i{k} < sizeof(b->data); i{k}++) {{",
                                 f"        b->data[i{k}] = p[i{k}];", f"        acc += p[i{k}];", "    }"]
                    elif kind == 1:
                        body += ["    if (n > 4 && p[0] == 'g') {",
                                 "        memcpy(b->data, p, 4);", "        p += 4;",
                                 "    } else if (n > 2) {", "        acc -= 2;", "    }"]
                    elif kind == 2:
                        body += ["    while (p < in + n && *p != ' ')", "        p++;",
                                 "    acc += (int)(p - in);"]
                    elif kind == 3:
                        body += ["    {", f"        char *tmp{k} = malloc(n + 1);", f"        if (tmp{k}) {{",
                                 f"            snprintf(tmp{k}, n + 1, \"%s\", in);",
                                 f"            acc += tmp{k}[0];", f"            free(tmp{k});",
                                 "        }", "    }"]
                    else:
                        body += ["    switch (acc & 3) {", "    case 0:", "        counter++;",
                                 "        break;", "    case 1:", "        acc ^= 5;",
                                 "        break;", "    default:", "        break;", "    }"]
                body += ["    return acc;", "}", ""]
                lines += body
                fn += 1
            lines += [f"int {comp}_f{f}_entry(struct {comp}_buf *b, const char *in, size_t n)", "{",
                      "    int acc = 0;"]
            for h in range(fn):
                lines.append(f"    acc += {comp}_f{f}_h{h}(b, in, n);")
            for cal in callees:
                g = rng.randrange(files_per)
                lines += [f"    struct {cal}_buf nb = {{0}};" if cal == callees[0] else f"    struct {cal}_buf mb = {{0}};",
                          f"    acc += {cal}_f{g}_entry(&{'nb' if cal == callees[0] else 'mb'}, in, n);"]
            if c == 0 and f == 0:
                lines += ["    char net[512];", "    ssize_t got = recv(0, net, sizeof(net), 0);",
                          "    if (got > 0)", "        acc += (int)got;"]
            lines += ["    return acc;", "}", ""]
            with open(path, "w") as fh:
                fh.write("\n".join(lines))
            total += len(lines)
            entries.append({"directory": out, "file": path,
                            "arguments": ["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-c", path,
                                          "-o", path[:-2] + ".o"]})
    with open(os.path.join(out, "compile_commands.json"), "w") as fh:
        json.dump(entries, fh, indent=1)
    print(total)

if __name__ == "__main__":
    main()
