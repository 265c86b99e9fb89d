#!/usr/bin/env python3
"""Write the planning section of docs/benchmarks.md from the results of
bench/run-planning.sh: medians of per-round ratios bundle / btree."""
import os
import statistics
import sys

from doc_section import write_section

out, doc, mode = sys.argv[1], sys.argv[2], sys.argv[3]
START, END = "<!-- planning:start -->", "<!-- planning:end -->"
SETS = [("int8", "int8 key, 64-byte text"), ("text", "20-character text key"),
        ("accounts", "pgbench_accounts, aid")]

vals = {}
for line in open(os.path.join(out, "results.tsv")):
    key, value = line.rstrip("\n").split("\t")
    vals.setdefault(key.split(".")[0], []).append(float(value))


def span(key, fmt="{:.2f}"):
    v = vals[key]
    return "{} ({}–{})".format(fmt.format(statistics.median(v)),
                               fmt.format(min(v)), fmt.format(max(v)))


def med(key):
    return statistics.median(vals[key])


rounds = len(vals["plan_ratio_int8"])
L = [START, "", "## Planning and unprepared lookups", "",
     "`bench/run-planning.sh {}`: one PostgreSQL 15 cluster, 1M rows per set, "
     "each as a heap table with a btree primary key and as a bundle; {} rounds "
     "with the order of the two stores swapped each round. Each cell is the "
     "median of the per-round ratios bundle / btree, with their range.".format(mode, rounds),
     "",
     "| Set | Planning time | Simple protocol, 1 client | Simple, 2 clients | Prepared, 1 client | Prepared, 2 clients |",
     "|---|---|---|---|---|---|"]
for s, label in SETS:
    L.append("| {} | {} | {} | {} | {} | {} |".format(
        label, span("plan_ratio_" + s), span("tps_ratio_simple_1_" + s),
        span("tps_ratio_simple_2_" + s), span("tps_ratio_prepared_1_" + s),
        span("tps_ratio_prepared_2_" + s)))
L += ["",
      "Goals: planning time at most 1.0; TPS ratios at least 1.1. Planning time "
      "is from EXPLAIN (ANALYZE, SUMMARY): per store and round, the mean over {:,.0f} "
      "lookups of random keys, leaving out the slowest tenth. Medians over the "
      "rounds: btree {} µs (int8), {} µs (text) and {} µs (accounts); bundle "
      "{} µs, {} µs and {} µs.".format(
          med("plan_statements"), *["{:.1f}".format(1000 * med("plan_heap_ms_" + s)) for s, _ in SETS],
          *["{:.1f}".format(1000 * med("plan_bundle_ms_" + s)) for s, _ in SETS]),
      "", END]
write_section(doc, START, END, "\n".join(L))
