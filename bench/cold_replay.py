#!/usr/bin/env python3
"""Replay the page accesses of cold bundle lookups under different madvise()s.

Usage (as root: it drops the page cache):
    bench/cold_replay.py BUNDLE.sb [LOOKUPS]

Reads the section offsets with `sbundle info`, then for each advice
(none; MADV_RANDOM; MADV_RANDOM with the index read in first) drops the
page cache, maps the file, touches the header and the metadata (as an open
does) and, per lookup of a random row, one byte of a random directory line,
of a random entries page, of the row's slot and of its first value in the
heap (rows' values are laid out in row order).  Prints major faults and
KiB read from storage per lookup.  It shows what the kernel reads for the
lookups' access pattern; it does not run the extension's code.
"""
import mmap
import os
import random
import re
import resource
import subprocess
import sys

path = sys.argv[1]
lookups = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
info = subprocess.run(["sbundle", "info", path], capture_output=True, text=True,
                      check=True).stdout
sec = {m.group(1): (int(m.group(2)), int(m.group(3)))
       for m in re.finditer(r"^\s+(heap|rows|directory|entries)\s+(\d+)\s+(\d+)$", info, re.M)}
nrows = int(re.search(r"^rows:\s+(\d+)", info, re.M).group(1))
row_size = int(re.search(r"^row size:\s+(\d+)", info, re.M).group(1))
value_size = sec["heap"][1] / max(nrows, 1)
PAGE = 4096


def counters():
    with open("/proc/self/io") as f:
        rb = int(re.search(r"read_bytes: (\d+)", f.read()).group(1))
    return resource.getrusage(resource.RUSAGE_SELF).ru_majflt, rb


def run(advice):
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    fd = os.open(path, os.O_RDONLY)
    m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
    os.close(fd)
    lo = sec["directory"][0] - sec["directory"][0] % PAGE
    hi = sec["entries"][0] + sec["entries"][1]
    if advice != "none":
        m.madvise(mmap.MADV_RANDOM)
    if advice == "random, index read first":
        m.madvise(mmap.MADV_WILLNEED, lo, hi - lo)
        for a in range(lo, hi, PAGE):
            m[a]
    random.seed(42)
    f0, r0 = counters()
    x = m[0] + m[len(m) - 1]
    for _ in range(lookups):
        r = random.randrange(nrows)
        x += m[sec["directory"][0] + random.randrange(sec["directory"][1])]
        x += m[sec["entries"][0] + random.randrange(sec["entries"][1])]
        x += m[sec["rows"][0] + r * row_size]
        x += m[sec["heap"][0] + int(r * value_size)]
    f1, r1 = counters()
    m.close()
    print(f"| {advice} | {(f1 - f0) / lookups:.2f} | {(r1 - r0) / lookups / 1024:.1f} |")


print(f"{os.path.basename(path)}: {nrows} rows, {lookups} lookups")
print("| advice | major faults / lookup | KiB read / lookup |")
print("|---|---:|---:|")
for a in ["none", "random", "random, index read first"]:
    run(a)
