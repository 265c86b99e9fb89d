#!/usr/bin/env bash
#
# run-format.sh: build and run the bundle format microbenchmark.
#
#   bench/run-format.sh [quick|full|publish]
#
# quick:   int8 and text keys at 1M keys (a few minutes at most).
# full:    also 10M keys (about 25 minutes on an idle machine, ~10 GB of
#          disk).
# publish: only rewrite docs/benchmarks-format.md from the last run (after
#          editing bench/format-analysis.md).
#
# Compiles bench/format_bench with gcc -O2 against src/format (plus a
# second, traced copy of sblookup.c), tinycdb and LMDB, installing the
# Debian packages it needs if they are missing.  Runs every dataset pinned
# to CPU 1, writes the Markdown report to stdout and to
# bench/out/format-results.md, the raw records to
# bench/out/format-results.tsv and the charts to bench/out/*.png; then
# publishes the report, bench/format-analysis.md and the charts as
# docs/benchmarks-format.md and docs/img/format-*.png.
# The stores' files go to bench/out/data unless FORMAT_BENCH_DATA names
# another directory; they are removed after each dataset.

set -euo pipefail

mode=${1:-quick}
case "$mode" in
  quick|full|publish) ;;
  *) echo "usage: $0 [quick|full|publish]" >&2; exit 2 ;;
esac

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
out=$bench/out
build=$bench/build
data=${FORMAT_BENCH_DATA:-$out/data}
report=$out/format-results.md
tsv=$out/format-results.tsv
mkdir -p "$out" "$build" "$data"

# Publish the report, the charts and the analysis under docs/.
publish() {
  local docs=$root/docs ran
  ran=$(sed -n '1s/.*(\(.*\)).*/\1/p' "$report")
  mkdir -p "$docs/img"
  cp "$out/format-lookups.png" "$out/format-lines.png" "$docs/img/"
  {
    echo "# Format library benchmarks"
    echo
    echo "The bundle format library (\`src/format\`) against tinycdb, LMDB and"
    echo "the seed library's search over the same keys and values, with no"
    echo "server involved. Every number below comes from one run of"
    echo "\`bench/run-format.sh $ran\`; ratios compare measurements taken in"
    echo "that same run. SQL-level results are in [benchmarks.md](benchmarks.md)."
    echo
    echo "![lookups per second](img/format-lookups.png)"
    echo
    echo "![index cache lines per lookup](img/format-lines.png)"
    echo
    sed '1s/^# /## /' "$report"
    echo
    cat "$bench/format-analysis.md"
  } > "$docs/benchmarks-format.md"
}
if [ "$mode" = publish ]; then
  publish
  exit 0
fi

# Install the libraries and gnuplot if they are missing.
need=()
for pkg in gcc libcdb-dev liblmdb-dev libxxhash-dev gnuplot-nox; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
    need+=("$pkg")
  fi
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

# Build: the library, a traced copy of the lookup code, the harness.
src=$root/src/format
cflags=(-std=gnu11 -O2 -Wall -I"$src" -I"$bench")
gcc "${cflags[@]}" -DSB_TRACE_LINES \
  -Dsb_key_hash=sbt_key_hash -Dsb_lookup_start=sbt_lookup_start \
  -Dsb_lookup_next=sbt_lookup_next -Dsb_lookup_prefetch=sbt_lookup_prefetch \
  -Dsb_lookup_prefetch_row=sbt_lookup_prefetch_row \
  -c "$src/sblookup.c" -o "$build/sblookup_trace.o"
gcc "${cflags[@]}" -o "$build/format_bench" \
  "$bench"/format_bench.c "$bench"/bench_data.c "$bench"/bench_stores.c \
  "$bench"/bench_sorted.c "$bench"/bench_trace.c "$src"/*.c "$build/sblookup_trace.o" \
  -lcdb -llmdb -lm

# Pin to CPU 1 when there is one.
pin=()
if command -v taskset >/dev/null && taskset -c 1 true 2>/dev/null; then
  pin=(taskset -c 1)
fi

# The read-ahead setting of the device holding the data directory.
read_ahead() {
  local dev sys
  dev=$(df --output=source "$data" | tail -n 1)
  sys=$(readlink -f "/sys/class/block/$(basename "$dev")" 2>/dev/null || true)
  for f in "$sys/queue/read_ahead_kb" "$sys/../queue/read_ahead_kb"; do
    if [ -r "$f" ]; then
      echo "$(cat "$f") KiB ($(basename "$dev"))"
      return
    fi
  done
  echo unknown
}

# The commit measured, and whether the measured code differed from it.
commit() {
  local c
  c=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if ! git -C "$root" diff --quiet HEAD -- src/format 'bench/*.c' 'bench/*.h' 2>/dev/null; then
    c="$c with uncommitted changes"
  fi
  echo "$c"
}


pkgver() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"
}

: > "$tsv"
{
  echo "# Bundle format microbenchmark ($mode)"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), ${pin[*]:-unpinned}, commit $(commit)."
  echo
  echo "| machine | |"
  echo "|---|---|"
  echo "| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) CPUs |"
  echo "| caches | L2 $(lscpu | sed -n 's/^L2 cache: *//p'), L3 $(lscpu | sed -n 's/^L3 cache: *//p') |"
  echo "| kernel | $(uname -r) |"
  echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
  echo "| read_ahead | $(read_ahead) |"
  echo "| THP | $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown) |"
  echo "| compiler | $(gcc --version | head -n 1), -O2 |"
  echo "| libraries | tinycdb $(pkgver libcdb-dev), LMDB $(pkgver liblmdb-dev), xxHash $(pkgver libxxhash-dev) |"
  echo
  echo "Memory latency (pointer chase over a random cycle of 64-byte lines):"
  echo
  "${pin[@]}" "$build/format_bench" --latency
} | tee "$report"

if [ "$mode" = quick ]; then
  sets=("int8 1000000 1000000" "text 1000000 1000000")
else
  sets=("int8 1000000 2000000" "text 1000000 2000000"
        "int8 10000000 5000000" "text 10000000 5000000")
fi

for s in "${sets[@]}"; do
  read -r type keys lookups <<< "$s"
  "${pin[@]}" "$build/format_bench" --dir "$data" --type "$type" \
    --keys "$keys" --lookups "$lookups" --runs 5 --tsv "$tsv" | tee -a "$report"
done

# Summary tables and chart data from the records.
{
  echo
  echo "## Summary"
  echo
  echo "Lookups: hot, uniformly random present keys, value read; median of 5 runs,"
  echo "per second of CPU time (wall-clock rate and CPU share alongside)."
  echo "Ratio: lookups/s over the line-index bundle's (single lookups) in the same run, median of runs."
  echo
  echo "| dataset | store | lookups/s | ratio to lines | wall-clock lookups/s | CPU share | build keys/s | file MB | index B/key |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '
    $1 == "build" { b[$2 FS $3] = sprintf("%.0f | %.1f | %.2f", $4, $5 / 1e6, $6) }
    $1 == "lookup" {
      n++; ds[n] = $2; st[n] = $3; rate[n] = $4; ratio[n] = $5; wall[n] = $8; share[n] = $9
    }
    END {
      name["lines"] = "bundle lines"; name["sorted"] = "sorted search (seed)"
      name["cdb"] = "tinycdb"; name["lmdb"] = "LMDB"
      name["batched"] = "bundle lines, batched x16"
      name["bound"] = "bound: row read, number known"
      for (i = 1; i <= n; i++) {
        k = ds[i] FS st[i]
        printf "| %s | %s | %.0f | %.2f | %.0f | %.0f%% | %s |\n", ds[i], name[st[i]],
          rate[i], ratio[i], wall[i], 100 * share[i], (k in b) ? b[k] : "- | - | -"
      }
    }' "$tsv"
  echo
  echo "| dataset | index | distinct index lines: mean | p50 | p99 | max |"
  echo "|---|---|---:|---:|---:|---:|"
  awk -F'\t' '$1 == "lines" {
      printf "| %s | %s | %.2f | %d | %d | %d |\n", $2, $3, $4, $5, $6, $7 }' "$tsv"
} | tee -a "$report"

awk -F'\t' '
  $1 == "lookup" {
    if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
    r[$2 FS $3] = $4 / 1e6
  }
  END {
    for (i = 1; i <= n; i++) {
      d = order[i]
      printf "%s %.4f %.4f %.4f %.4f %.4f %.4f\n", d, r[d FS "lines"],
        r[d FS "sorted"], r[d FS "cdb"], r[d FS "lmdb"], r[d FS "batched"], r[d FS "bound"]
    }
  }' "$tsv" > "$out/format-lookups.dat"
awk -F'\t' '
  $1 == "lines" {
    if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
    m[$2 FS $3] = $4; p[$2 FS $3] = $6
  }
  END {
    for (i = 1; i <= n; i++) {
      d = order[i]
      printf "%s %.3f %d %.3f %d\n", d, m[d FS "lines"], p[d FS "lines"],
        m[d FS "sorted"], p[d FS "sorted"]
    }
  }' "$tsv" > "$out/format-lines.dat"
gnuplot -e "dir='$out'" "$bench/format-plot.gp"

publish
echo >&2
echo "report: $report, docs/benchmarks-format.md; charts: docs/img/format-*.png" >&2
