#!/usr/bin/env python3
"""Write the writable-bundles section of docs/benchmarks.md from the
results of bench/run-writable.sh: medians of per-round ratios."""
import os
import statistics
import sys

from doc_section import write_section

out, doc, mode, rows, probes = sys.argv[1:6]
START, END = "<!-- writable:start -->", "<!-- writable:end -->"

vals = {}
for line in open(os.path.join(out, "results.tsv")):
    key, value = line.rstrip("\n").split("\t")
    vals.setdefault(key.split(".")[0], []).append(float(value))


def span(key):
    v = vals[key]
    return "**{:.2f}** ({:.2f}–{:.2f})".format(statistics.median(v), min(v), max(v))


def med(key):
    return statistics.median(vals[key])


def verdict(key, limit, at_most=True):
    m = med(key)
    return "yes" if (m <= limit if at_most else m >= limit) else "**no**"


rounds = len(vals["fold_ratio"])
L = [START, "", "## Writable bundles", "",
     "`bench/run-writable.sh {}`: one PostgreSQL 15 cluster, {:,} rows (int8 key, "
     "64-byte text, int4, float8) as a heap table with a btree primary key and as "
     "bundles: read-only, writable with an empty delta, and writable with {:,.0f} "
     "keys (1%) updated through the table. {} rounds, the order of the stores "
     "swapped each round; each cell is the median of the per-round ratios, with "
     "their range.".format(mode, int(rows), med("delta_keys"), rounds),
     "",
     "| Measure | Ratio | Goal | Met |",
     "|---|---|---|---|",
     "| Probe cost, writable with an empty delta / read-only | {} | at most 1.1 | {} |".format(
         span("probe_empty_ratio"), verdict("probe_empty_ratio", 1.1)),
     "| Probe cost, writable with a 1% delta / read-only | {} | at most 2 | {} |".format(
         span("probe_delta_ratio"), verdict("probe_delta_ratio", 2.0)),
     "| Probe cost, writable with a 1% delta / btree | {} | at most 0.5 | {} |".format(
         span("probe_delta_btree_ratio"), verdict("probe_delta_btree_ratio", 0.5)),
     "| Fold of the 1% delta / full refresh from the source query | {} | at most 0.5 | {} |".format(
         span("fold_ratio"), verdict("fold_ratio", 0.5)),
     "| Single-row UPDATE TPS, through the table / heap table (synchronous commit) | {} | at least 0.8 | {} |".format(
         span("update_ratio_on"), verdict("update_ratio_on", 0.8, at_most=False)),
     "| Same, with synchronous_commit off (the CPU cost alone) | {} | — | — |".format(
         span("update_ratio_off")),
     "",
     "Probe cost is the execution time of a nested-loop join of {:,} random keys "
     "against each store (medians: read-only {:.0f} ms, empty delta {:.0f} ms, 1% "
     "delta {:.0f} ms, btree {:.0f} ms). A fold took {:.1f} s and a refresh {:.1f} s "
     "(medians). The updates ran with `pgbench -M prepared`, 1 client "
     "(medians: heap {:.0f} TPS and bundle {:.0f} TPS with synchronous commit; "
     "{:.0f} and {:.0f} without).".format(
         int(probes), med("probe_ro_ms"), med("probe_we_ms"), med("probe_wd_ms"),
         med("probe_heap_ms"), med("fold_s"), med("refresh_s"),
         med("update_heap_tps_on"), med("update_bundle_tps_on"),
         med("update_heap_tps_off"), med("update_bundle_tps_off")),
     "", END]
write_section(doc, START, END, "\n".join(L))
