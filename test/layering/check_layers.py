#!/usr/bin/env python3
"""The source tree's layering, checked (docs/architecture.md describes it).

Folders of src/ are ordered from the bottom up; a file may include the
headers of its own folder and of folders below it, never above. Each header
in include/dundid/ belongs to the folder whose .c implements it (or to the
folder named in OWNER for headers without a .c of the same name). src/ops/
never includes server_impl.h (it goes through server.h's accessors), and
the headers include no cycle. Exit 0 when all holds, 1 with every breach.
"""
import os
import re
import sys

ORDER = ["common", "dundi", "reg", "dialplan", "config", "answer", "net", "server", "ops", "tools", "."]
OWNER = {  # headers with no .c of their own name
    "conf_text": "config", "conf_values": "common", "server_impl": "server", "ctl_cmds": "ops",
    "procutil": "ops", "registrations": "server", "sipfeed": "reg", "net": "net", "counters": "ops",
    "config": "config",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"dundid/([a-z0-9_]+)\.h"', re.M)


def main(root):
    src, inc = os.path.join(root, "src"), os.path.join(root, "include", "dundid")
    owner = dict(OWNER)
    for folder in os.listdir(src):
        d = os.path.join(src, folder)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.endswith(".c"):
                    owner.setdefault(f[:-2], folder)
    owner.setdefault("main", ".")
    errors = []
    headers = {h[:-2] for h in os.listdir(inc) if h.endswith(".h")}
    for h in sorted(headers - set(owner)):
        errors.append("include/dundid/%s.h: no folder owns it (add it to OWNER in %s)" % (h, __file__))

    def level(folder):
        return ORDER.index(folder) if folder in ORDER else len(ORDER)

    files = []
    for dirpath, _, names in os.walk(src):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".c")]
    files += [os.path.join(inc, h + ".h") for h in headers]
    graph = {}
    for path in sorted(files):
        text = open(path, encoding="utf-8").read()
        deps = INCLUDE.findall(text)
        rel = os.path.relpath(path, root)
        if path.endswith(".h"):
            me = os.path.basename(path)[:-2]
            folder = owner.get(me, "?")
            graph[me] = deps
        else:
            folder = os.path.relpath(os.path.dirname(path), src)
        for d in deps:
            of = owner.get(d)
            if of is None:
                continue
            if level(of) > level(folder):
                errors.append("%s (%s) includes dundid/%s.h of %s, a higher layer" % (rel, folder, d, of))
            if folder == "ops" and d == "server_impl":
                errors.append("%s includes server_impl.h: src/ops/ must use server.h's accessors" % rel)

    # No cycle among the headers.
    state = {}

    def visit(h, stack):
        state[h] = 1
        for d in graph.get(h, ()):
            if state.get(d) == 1:
                errors.append("include cycle: %s" % " -> ".join(stack[stack.index(d):] + [d]) if d in stack
                              else "include cycle through %s" % d)
            elif d in graph and not state.get(d):
                visit(d, stack + [d])
        state[h] = 2

    for h in sorted(graph):
        if not state.get(h):
            visit(h, [h])
    for e in errors:
        print(e)
    print("layering: %d file(s) checked, %d problem(s)" % (len(files), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")))
