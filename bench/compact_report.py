#!/usr/bin/env python3
"""Write the compact-encodings section of docs/benchmarks.md from the
results of bench/run-compact.sh: medians of per-round ratios."""
import os
import statistics
import sys

from doc_section import write_section

out, doc, mode, rows, probes, secs = sys.argv[1:7]
START, END = "<!-- compact:start -->", "<!-- compact:end -->"
SETS = [("int8", "int8"), ("text", "text")]

vals = {}
for line in open(os.path.join(out, "results.tsv")):
    key, value = line.rstrip("\n").split("\t")
    try:
        vals.setdefault(key.split(".")[0], []).append(float(value))
    except ValueError:
        vals.setdefault(key.split(".")[0], []).append(value)


def span(key):
    v = vals[key]
    return "**{:.2f}** ({:.2f}–{:.2f})".format(statistics.median(v), min(v), max(v))


def med(key):
    return statistics.median(vals[key])


def verdict(key, limit, at_most=True):
    m = med(key)
    return "yes" if (m <= limit if at_most else m >= limit) else "**no**"


# measure, key, goal, (limit, at_most) or None
MEASURES = [
    ("Size, compact bundle / (heap + btree)", "size_compact_ratio", "at most 0.5", (0.5, True)),
    ("Size, plain bundle / (heap + btree)", "size_plain_ratio", "—", None),
    ("Size, compact / plain bundle", "size_compact_plain", "—", None),
    ("Build, compact bundle / (CTAS + btree)", "build_compact_ratio", "at most 1.0", (1.0, True)),
    ("Build, plain bundle / (CTAS + btree)", "build_plain_ratio", "—", None),
    ("Server CPU per lookup, compact / plain bundle", "cpu_compact_plain", "at most 1.0 (no slower)", (1.0, True)),
    ("Lookup TPS, compact / plain bundle", "tps_compact_plain", "at least 1.0 (no slower)", (1.0, False)),
    ("Lookup TPS, compact bundle / btree", "tps_compact_btree", "—", None),
    ("Probe cost, compact / plain bundle", "probe_compact_plain", "at most 1.0 (no slower)", (1.0, True)),
    ("Probe cost, compact bundle / btree", "probe_compact_btree", "—", None),
]

rounds = len(vals["size_compact_ratio_int8"])
L = [START, "", "## Compact encodings", "",
     "`bench/run-compact.sh {}`: one PostgreSQL 15 cluster, the int8 and text sets of "
     "`bench/run-sql.sh` ({:,} rows each: an int8 or 32-character text key, a 60-byte "
     "text, int4, float8), each as a heap table with a btree primary key and as two "
     "bundles, built with `sharedbuf.compact` on (compact) and off (plain, the format "
     "before the encodings; format {} here, against {}). {} rounds, the order of the stores swapped each round; "
     "each cell is the median of the per-round ratios, with their range.".format(
         mode, int(rows), vals["format_plain_int8"][0], vals["format_compact_int8"][0], rounds),
     "",
     "| Measure | Set | Ratio | Goal | Met |",
     "|---|---|---|---|---|"]
for label, key, goal, lim in MEASURES:
    for s, slabel in SETS:
        k = key + "_" + s
        met = verdict(k, *lim) if lim else "—"
        L.append("| {} | {} | {} | {} | {} |".format(label, slabel, span(k), goal, met))


def mb(key):
    return "{:.0f} MB".format(med(key) / 1e6)


notes = []
for s, slabel in SETS:
    notes.append(
        "{}: heap + btree {}, compact bundle {}, plain {}; builds {:.1f} s, {:.1f} s and "
        "{:.1f} s; probe joins {:.0f} ms (btree), {:.0f} ms and {:.0f} ms; lookups "
        "{:,.0f}, {:,.0f} and {:,.0f} TPS".format(
            slabel, mb("bytes_heap_" + s), mb("bytes_compact_" + s), mb("bytes_plain_" + s),
            med("build_heap_s_" + s), med("build_compact_s_" + s), med("build_plain_s_" + s),
            med("probe_heap_ms_" + s), med("probe_compact_ms_" + s), med("probe_plain_ms_" + s),
            med("tps_heap_" + s), med("tps_compact_" + s), med("tps_plain_" + s))
        + "; server CPU per lookup {:.1f} µs, {:.1f} µs and {:.1f} µs".format(
            med("cpu_heap_us_" + s), med("cpu_compact_us_" + s), med("cpu_plain_us_" + s)))
L += ["",
      "Size is `pg_total_relation_size` of the heap table (after a VACUUM) and the "
      "bundle's bytes. Builds are timed from the client after a CHECKPOINT: "
      "`CREATE TABLE AS` + `ADD PRIMARY KEY`, and `sharedbuf_create()` from the same "
      "source table. Probe cost is the execution time of a nested-loop join of {:,} "
      "random keys against each store (EXPLAIN ANALYZE); lookups are `pgbench -M "
      "prepared`, 1 client, {}-second runs of `SELECT t FROM x WHERE k = ...`, "
      "and the server CPU per lookup is the CPU time (user and system) of the "
      "benchmark's backend over the run, divided by its transactions: pgbench "
      "and the server share the machine's two cores, so TPS also measures how "
      "they were scheduled. "
      "Medians — {}.".format(int(probes), secs, "; ".join(notes)),
      "", END]
write_section(doc, START, END, "\n".join(L))
