#!/usr/bin/env python3
"""Check that the extension's source files depend on each other one way.

Reads the symbols of the object files of src/ (nm): a file depends on
another if it uses a symbol the other defines.  Prints the dependencies
as TAP lines, one per file, and fails on any cycle, except that parallel.c
may use scan.c's getters (scan.c hands its state to the parallel code).

Usage: test/deps/check.py [src-directory]
"""
import os
import subprocess
import sys

ALLOWED = {("parallel.c", "scan.c"), ("scan.c", "parallel.c")}

src = sys.argv[1] if len(sys.argv) > 1 else "src"
objs = sorted(f for f in os.listdir(src) if f.endswith(".o"))
if not objs:
    print("Bail out! no object files in %s (run make first)" % src)
    sys.exit(2)
defined, used = {}, {}
for o in objs:
    name = o[:-2] + ".c"
    out = subprocess.run(["nm", os.path.join(src, o)], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBR":
            defined[parts[2]] = name
        elif len(parts) == 2 and parts[0] == "U":
            used.setdefault(name, set()).add(parts[1])
deps = {o[:-2] + ".c": set() for o in objs}
for f, syms in used.items():
    for s in syms:
        d = defined.get(s)
        if d and d != f:
            deps[f].add(d)


def reaches(a, b, seen=None):
    """Is there a path from a to b, not counting allowed edges?"""
    seen = seen or set()
    for d in deps[a]:
        if (a, d) in ALLOWED or d in seen:
            continue
        if d == b:
            return True
        seen.add(d)
        if reaches(d, b, seen):
            return True
    return False


failed = 0
print("1..%d" % len(deps))
for i, f in enumerate(sorted(deps), 1):
    cycle = sorted(d for d in deps[f] if (f, d) not in ALLOWED and reaches(d, f))
    status = "not ok" if cycle else "ok"
    failed += bool(cycle)
    print("%s %d - %s uses %s%s" % (status, i, f, ", ".join(sorted(deps[f])) or "nothing",
                                   "; cycle through " + ", ".join(cycle) if cycle else ""))
sys.exit(1 if failed else 0)
