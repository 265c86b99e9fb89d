#!/usr/bin/env bash
#
# run-compact.sh: what the compact column encodings (sharedbuf.compact)
# save and cost, against the uncompacted format and a heap table with a
# btree primary key.
#
#   bench/run-compact.sh [quick|full]
#
# Starts a PostgreSQL 15 cluster (sharedbuf preloaded) under
# bench/out/compact with the "int8" and "text" data sets of
# bench/run-sql.sh (bench/sql/data.sql: an int8 key or a 32-character md5
# text key, a 60-byte text, int4, float8).  Each set is a heap table with
# a btree primary key, a bundle built with sharedbuf.compact = on
# ("compact") and one built with it off ("plain", the format before the
# encodings).  In alternating rounds (the order of the stores swapped
# each round) it measures, per set:
#
#   1. builds: CREATE TABLE AS + ADD PRIMARY KEY, and sharedbuf_create()
#      with compact on and off, from the same source table, each timed
#      from the client after a CHECKPOINT; then the size of what they
#      built (pg_total_relation_size of the heap table, after a VACUUM;
#      the bundle's bytes);
#   2. probe cost: EXPLAIN (ANALYZE) execution time of a nested-loop join
#      of random keys (hash and merge joins, memoize and parallelism off)
#      against each store;
#   3. pgbench single-key lookups "SELECT t FROM x WHERE k = ...", -M
#      prepared, 1 client, against each store.
#
# Every figure in the report is the median of the per-round ratios, with
# their range.  quick: 1M rows, 5 rounds, 200k probes, 5-second pgbench
# runs (about 6 minutes on a shared 2-core machine).  full: also 1M rows
# (so that its figures compare with quick and with bench/run-sql.sh; at
# 10M rows the builds, repeated every round, take ten times as long),
# with 11 rounds and 15-second runs (about 25 minutes).  Writes its section of
# docs/benchmarks.md (between the "compact" markers); raw figures stay in
# bench/out/compact.  Must run as root (the server runs as postgres).
# Not part of CI.
#
# BENCH_PG_CONFIG=/path/to/pg_config runs against that PostgreSQL 15
# installation: the extension is then built and installed with
# "make install PG_CONFIG=... TOOL_BINDIR=" (no Debian packages, no link
# in /usr/local/bin), and the cluster uses that installation's programs.
# Overrides for trying the script out: BENCH_ROWS, BENCH_ROUNDS, BENCH_T
# (pgbench seconds), BENCH_PROBES, BENCH_PORT.

set -euo pipefail

mode=${1:-quick}
case "$mode" in
  quick) ROWS=1000000; ROUNDS=5; PROBES=200000; T=5 ;;
  full)  ROWS=1000000; ROUNDS=11; PROBES=200000; T=15 ;;
  *) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
ROWS=${BENCH_ROWS:-$ROWS}; ROUNDS=${BENCH_ROUNDS:-$ROUNDS}
T=${BENCH_T:-$T}; PROBES=${BENCH_PROBES:-$PROBES}
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (the server runs as postgres)" >&2
  exit 2
fi

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
out=$bench/out/compact
pg_config=${BENCH_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
port=${BENCH_PORT:-5531}
res=$out/results.tsv

cd "$root"
if [ -n "${BENCH_PG_CONFIG:-}" ]; then
  make -s -j2 PG_CONFIG="$pg_config"
  make -s install PG_CONFIG="$pg_config" TOOL_BINDIR= >/dev/null
else
  # shellcheck source=../scripts/setup
  source scripts/setup
  sb_install_packages
  sb_build_install "$pg_config"
fi
bin=$("$pg_config" --bindir)

log() { echo "[$(date +%T)] $*" | tee -a "$out/log" >&2; }
as_pg() { runuser -u postgres -- "$@"; }
sql() { PGOPTIONS="-c client_min_messages=warning" as_pg "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$out/sock" -p "$port" -d postgres "$@"; }
record() { printf '%s\t%s\n' "$1" "$2" >> "$res"; log "$1 = $2"; }
ratio() { echo "$1 / $2" | bc -l; }
now() { date +%s.%N; }

stop_server() {
  [ -f "$out/data/postmaster.pid" ] &&
    as_pg "$bin/pg_ctl" -D "$out/data" -m fast stop >/dev/null 2>&1 || true
}
trap stop_server EXIT

# ------------------------------------------------------------- the server
stop_server
rm -rf "$out"
mkdir -p "$out/sock"
chown -R postgres: "$out"
: > "$res"
as_pg "$bin/initdb" -D "$out/data" -A trust --locale=C >/dev/null
cat >> "$out/data/postgresql.conf" <<EOF
port = $port
unix_socket_directories = '$out/sock'
listen_addresses = ''
shared_preload_libraries = 'sharedbuf'
shared_buffers = 1GB
max_wal_size = 8GB
jit = off
autovacuum = off
EOF
as_pg "$bin/pg_ctl" -D "$out/data" -l "$out/server.log" -w start >/dev/null
log "server $("$bin/postgres" --version), $(nproc) cores, $ROWS rows, $ROUNDS rounds"

# The sets, named as in the report, and their tables in bench/sql/data.sql.
SETS="int8 text"
declare -A SRC=([int8]=int [text]=text)
declare -A KEYBENCH=([int8]=":r" [text]="md5(:r::text)")

log "data: $ROWS rows per set, $PROBES probes"
sql -c "CREATE EXTENSION sharedbuf" -c "
  CREATE FUNCTION exec_ms(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
  DECLARE p jsonb;
  BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO p;
    RETURN (p->0->>'Execution Time')::float8;
  END \$\$"
sql -v n="$ROWS" -v probes="$PROBES" -f "$bench/sql/data.sql" >/dev/null

# Build statements of each store of set 's' under the name 'name'.
build_sql() {
  local s="$1" store="$2" name="$3" src="src_${SRC[$1]}"
  case "$store" in
    heap) echo "BEGIN; CREATE TABLE $name AS SELECT * FROM $src;
                ALTER TABLE $name ADD PRIMARY KEY (k); COMMIT;" ;;
    compact) echo "SET sharedbuf.compact = on;
                   SELECT * FROM sharedbuf_create('$name', 'SELECT * FROM $src', key => 'k');" ;;
    plain) echo "SET sharedbuf.compact = off;
                 SELECT * FROM sharedbuf_create('$name', 'SELECT * FROM $src', key => 'k');" ;;
  esac
}

# Time a build (from the client, commit included); echo seconds.
timed_build() {
  local t0 t1
  sql -c "CHECKPOINT"
  t0=$(now)
  sql -c "$(build_sql "$@")" >/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

# Size in bytes of the store of set 's' named 'name'.
size_of() {
  if [ "$1" = heap ]; then
    sql -c "VACUUM $2" -c "SELECT pg_total_relation_size('$2')"
  else
    sql -c "SELECT bytes FROM sharedbuf_info('$2')"
  fi
}

drop_store() {
  if [ "$1" = heap ]; then
    sql -c "DROP TABLE IF EXISTS $2"
  else
    sql -c "DROP FOREIGN TABLE IF EXISTS $2" -c "SELECT sharedbuf_drop('$2', true)" >/dev/null
  fi
}

# The stores that are looked up: <store>_<set>, built once.
tbl() { echo "${1}_$2"; }
for s in $SETS; do
  for store in heap compact plain; do
    sql -c "$(build_sql "$s" "$store" "$(tbl "$store" "$s")")" >/dev/null
  done
  sql -c "VACUUM ANALYZE $(tbl heap "$s")"
  record "format_compact_$s" "$(sql -c "SELECT format_version FROM sharedbuf_info('$(tbl compact "$s")')")"
  record "format_plain_$s" "$(sql -c "SELECT format_version FROM sharedbuf_info('$(tbl plain "$s")')")"
done

JOINSET="SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
         SET max_parallel_workers_per_gather = 0;"
probe_query() { echo "SELECT sum(x.i) FROM probes_${SRC[$1]} p JOIN $2 x ON x.k = p.k"; }

# The probe joins must be nested loops over lookups; check, and warm up.
: > "$out/plans.txt"
for s in $SETS; do
  for store in heap compact plain; do
    plan=$(sql -c "$JOINSET EXPLAIN (COSTS OFF) $(probe_query "$s" "$(tbl "$store" "$s")")")
    printf '== %s %s\n%s\n\n' "$s" "$store" "$plan" >> "$out/plans.txt"
    if ! grep -q "Nested Loop" <<< "$plan"; then
      log "the probe join of $s on $store is not a nested loop; see $out/plans.txt"
      exit 1
    fi
    sql -c "$JOINSET $(probe_query "$s" "$(tbl "$store" "$s")")" >/dev/null
  done
done

# The probe join's execution time on a table of set 's', in ms.
probe_ms() {
  sql -c "$JOINSET SELECT exec_ms('$(probe_query "$1" "$2")')" | tail -1
}

# CPU time, in clock ticks, that process 'pid' has used so far, until it
# exits: the last reading.
cpu_ticks_until_exit() {
  local pid="$1" t last=0
  while t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null); do
    last=$t
    sleep 0.05
  done
  echo "$last"
}

# pgbench TPS of single-key lookups in a table of set 's'; the server
# backend's CPU time per lookup, in microseconds, goes to $out/cpu_<table>
# (client and server share the machine's cores, so TPS also measures how
# they were scheduled; the backend's CPU time is the cost of a lookup).
lookup_tps() {
  local f="$out/lookup_$2.sql" pid="" ticks i
  printf '\\set r random(1, %d)\nSELECT t FROM %s WHERE k = %s;\n' \
    "$ROWS" "$2" "${KEYBENCH[$1]}" > "$f"
  chown postgres: "$f"
  as_pg "$bin/pgbench" -n -M prepared -c 1 -j 1 -T "$T" -f "$f" \
    -h "$out/sock" -p "$port" postgres > "$out/pgbench_$2.out" 2>&1 &
  for i in $(seq 1 100); do
    pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'
                  ORDER BY backend_start DESC LIMIT 1")
    [ -n "$pid" ] && break
    sleep 0.02
  done
  ticks=$(cpu_ticks_until_exit "$pid")
  wait $!
  if [ -z "$pid" ] || [ "$ticks" -le 0 ]; then
    echo "$0: could not measure the CPU time of the backend of $2" >&2
    exit 1
  fi
  local txns
  txns=$(grep -oP '^number of transactions actually processed: \K[0-9]+' "$out/pgbench_$2.out")
  echo "$ticks * 1000000 / $(getconf CLK_TCK) / $txns" | bc -l > "$out/cpu_$2"
  grep -oP '^tps = \K[0-9.]+' "$out/pgbench_$2.out"
}

# One round of set 's', the stores in 'order'.
round() {
  local s="$1" r="$2" order="$3" store
  declare -A sec bytes ms tps cpu
  for store in $order; do
    drop_store "$store" "b_$store"
    sec[$store]=$(timed_build "$s" "$store" "b_$store")
  done
  for store in $order; do
    bytes[$store]=$(size_of "$store" "b_$store")
    drop_store "$store" "b_$store"
  done
  for store in heap compact plain; do
    record "build_${store}_s_$s.$r" "${sec[$store]}"
    record "bytes_${store}_$s.$r" "${bytes[$store]}"
  done
  record "build_compact_ratio_$s.$r" "$(ratio "${sec[compact]}" "${sec[heap]}")"
  record "build_plain_ratio_$s.$r" "$(ratio "${sec[plain]}" "${sec[heap]}")"
  record "size_compact_ratio_$s.$r" "$(ratio "${bytes[compact]}" "${bytes[heap]}")"
  record "size_plain_ratio_$s.$r" "$(ratio "${bytes[plain]}" "${bytes[heap]}")"
  record "size_compact_plain_$s.$r" "$(ratio "${bytes[compact]}" "${bytes[plain]}")"

  for store in $order; do ms[$store]=$(probe_ms "$s" "$(tbl "$store" "$s")"); done
  for store in heap compact plain; do record "probe_${store}_ms_$s.$r" "${ms[$store]}"; done
  record "probe_compact_plain_$s.$r" "$(ratio "${ms[compact]}" "${ms[plain]}")"
  record "probe_compact_btree_$s.$r" "$(ratio "${ms[compact]}" "${ms[heap]}")"

  for store in $order; do
    tps[$store]=$(lookup_tps "$s" "$(tbl "$store" "$s")")
    cpu[$store]=$(cat "$out/cpu_$(tbl "$store" "$s")")
  done
  for store in heap compact plain; do record "tps_${store}_$s.$r" "${tps[$store]}"; done
  for store in heap compact plain; do record "cpu_${store}_us_$s.$r" "${cpu[$store]}"; done
  record "cpu_compact_plain_$s.$r" "$(ratio "${cpu[compact]}" "${cpu[plain]}")"
  record "tps_compact_plain_$s.$r" "$(ratio "${tps[compact]}" "${tps[plain]}")"
  record "tps_compact_btree_$s.$r" "$(ratio "${tps[compact]}" "${tps[heap]}")"
}

for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order="heap compact plain"; else order="plain compact heap"; fi
  for s in $SETS; do
    log "round $r, $s ($order)"
    round "$s" "$r" "$order"
  done
done

python3 "$bench/compact_report.py" "$out" "$root/docs/benchmarks.md" "$mode" "$ROWS" "$PROBES" "$T"
log "done; docs/benchmarks.md updated"
