#!/usr/bin/env python3
"""Write the replication section of docs/benchmarks.md from the results of
bench/run-replication.sh: ratios against baselines of the same run."""
import os
import statistics
import sys

from doc_section import write_section

out, doc, mode = sys.argv[1], sys.argv[2], sys.argv[3]
START, END = "<!-- replication:start -->", "<!-- replication:end -->"

vals = {}
for line in open(os.path.join(out, "results.tsv")):
    key, value = line.rstrip("\n").split("\t")
    vals.setdefault(key.split(".")[0], []).append(float(value))


def med(key):
    return statistics.median(vals[key])


def span(key, fmt="{:.3f}"):
    v = vals[key]
    return "{} ({}–{})".format(fmt.format(statistics.median(v)),
                               fmt.format(min(v)), fmt.format(max(v)))


errors = sum(sum(v) for k, v in vals.items() if k.startswith("errors_"))
busy_tx = sum(sum(v) for k, v in vals.items() if k.startswith("transactions_busy"))
heap_rw = ", ".join("{:.0f}".format(v) for v in vals.get("heap_rewrites_during_round", []))
L = [START, "", "## Replication", "",
     "`bench/run-replication.sh {}`: a primary and a streaming standby of "
     "PostgreSQL 15 on this machine, sharedbuf preloaded on both. Every "
     "figure is a ratio against a baseline of the same run; medians, with "
     "the range in parentheses.".format(mode), "",
     "| Measure | Result | Goal |", "|---|---|---|",
     "| WAL bytes per bundle byte, uncompressed ({:,.0f}-byte bundle) | {} | at most 1.02 |".format(
         med("bundle_bytes_small"), span("wal_ratio_off", "{:.4f}")),
     "| WAL bytes per bundle byte, lz4 | {} | smaller |".format(
         span("wal_ratio_lz4", "{:.4f}")),
     "| Commit to standby serving the new generation / primary's refresh time ({:,.0f}-byte bundle) | {} | at most 0.5 |".format(
         med("big_bytes"), span("big_serve_ratio")),
     "| Standby lookup p99 while the primary refreshes / idle p99 (alternating rounds) | {} | at most 2 |".format(
         span("p99_ratio", "{:.2f}")),
     "| Control: the same while the primary rewrites a heap table of the same rows / idle p99 | {} | |".format(
         span("p99_heap_ratio", "{:.2f}")),
     "| p99 while the primary refreshes / p99 while it rewrites the heap table | {} | |".format(
         span("p99_vs_heap", "{:.2f}")),
     "| Errors on the standby during those rounds, every statement checked to see one generation | {:.0f} in {:,.0f} transactions under refreshes | 0 |".format(
         errors, busy_tx),
     "",
     "Refresh of the large bundle on the primary: {} s; from its commit to the "
     "standby's first lookup of the new generation: {} s. Refreshes during the "
     "busy rounds: {}; heap rewrites during the control rounds: {}. Idle p99: {} µs; "
     "busy p99: {} µs; control p99: {} µs.".format(
         span("big_refresh_seconds", "{:.2f}"),
         span("big_commit_to_standby_seconds", "{:.2f}"),
         ", ".join("{:.0f}".format(v) for v in vals["refreshes_during_round"]),
         heap_rw,
         ", ".join("{:.0f}".format(v) for v in vals["p99_idle_us"]),
         ", ".join("{:.0f}".format(v) for v in vals["p99_busy_us"]),
         ", ".join("{:.0f}".format(v) for v in vals["p99_heap_us"])),
     "",
     "How to read the latency rows: on a 2-core machine the primary's build, "
     "the walsender, the standby's replay and the pgbench reader share the "
     "cores, so any write load on the primary raises the standby's tail "
     "latency. The control round writes the same rows to a heap table instead "
     "(as much WAL, none of it sharedbuf's); the last latency row compares the "
     "two directly, and the idle p99 shows how busy the machine was during the "
     "run. Replay itself never waits for readers: a statement keeps the "
     "generation it mapped, and replay renames the new file past it.",
     "", END]
write_section(doc, START, END, "\n".join(L))
