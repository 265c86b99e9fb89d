#!/usr/bin/env bash
#
# run-writable.sh: what a writable bundle costs, against a read-only
# bundle, a heap table with a btree primary key, and a full refresh.
#
#   bench/run-writable.sh [quick|full]
#
# Starts a PostgreSQL 15 cluster (sharedbuf preloaded) under
# bench/out/writable with N rows (int8 key, 64-byte text, int4, float8) as
# a heap table with a btree primary key and as four bundles: read-only
# ("ro"), writable with an empty delta ("we"), writable with 1% of its
# keys updated through the table ("wd"), and writable for the update
# load ("wu").  In alternating rounds (the order of the stores swapped
# each round) it measures:
#
#   1. probe cost: a nested-loop join of random keys against each store,
#      from EXPLAIN (ANALYZE) of the same query;
#   2. folding wd's 1% delta (sharedbuf_fold) against refreshing ro from
#      its source query (sharedbuf_refresh), both reported by the
#      functions; then 1% of wd's keys are updated again, untimed;
#   3. pgbench single-row "UPDATE ... WHERE k = :n" with -M prepared,
#      1 client, through wu against the heap table, with the default
#      synchronous_commit and with synchronous_commit off.
#
# Every figure in the report is the median of the per-round ratios.
# quick: 1M rows, 3 rounds, 200k probes, 4-second pgbench runs (about 10
# minutes); full: 10M rows, 3 rounds, 1M probes, 10-second runs (about an
# hour).  Writes its section of docs/benchmarks.md (between the
# "writable" markers); raw figures stay in bench/out/writable.  Must run
# as root (the server runs as postgres).  Not part of CI.

set -euo pipefail

mode=${1:-quick}
case "$mode" in
  quick) ROWS=1000000; ROUNDS=3; PROBES=200000; T=4 ;;
  full)  ROWS=10000000; ROUNDS=3; PROBES=1000000; T=10 ;;
  *) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
ROWS=${BENCH_ROWS:-$ROWS}; ROUNDS=${BENCH_ROUNDS:-$ROUNDS}; T=${BENCH_T:-$T}
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (the server runs as postgres)" >&2
  exit 2
fi

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
out=$bench/out/writable
bin=/usr/lib/postgresql/15/bin
port=5524
res=$out/results.tsv

cd "$root"
# shellcheck source=../scripts/setup
source scripts/setup
sb_install_packages
sb_build_install

log() { echo "[$(date +%T)] $*" | tee -a "$out/log" >&2; }
as_pg() { runuser -u postgres -- "$@"; }
sql() { as_pg "$bin/psql" -X -q -At -h "$out/sock" -p $port -d postgres "$@"; }
record() { printf '%s\t%s\n' "$1" "$2" >> "$res"; log "$1 = $2"; }
ratio() { echo "$1 / $2" | bc -l; }

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
as_pg "$bin/initdb" -D "$out/data" -A trust >/dev/null
cat >> "$out/data/postgresql.conf" <<EOF
port = $port
unix_socket_directories = '$out/sock'
listen_addresses = ''
shared_preload_libraries = 'sharedbuf'
shared_buffers = 1GB
max_wal_size = 8GB
jit = off
EOF
as_pg "$bin/pg_ctl" -D "$out/data" -l "$out/server.log" -w start >/dev/null

log "data: $ROWS rows, four bundles"
sql <<EOF
CREATE EXTENSION sharedbuf;
CREATE TABLE heap AS
  SELECT g::int8 AS k, md5(g::text) || md5((-g)::text) AS t, g::int4 AS i, g::float8 AS f
    FROM generate_series(1, $ROWS) g;
ALTER TABLE heap ADD PRIMARY KEY (k);
CREATE TABLE probes AS
  SELECT 1 + (abs(hashint4(g)::int8) % $ROWS) AS k FROM generate_series(1, $PROBES) g;
CREATE TABLE keys1 AS
  SELECT k FROM heap WHERE abs(hashint8(k)) % 100 = 0;
VACUUM ANALYZE;
SELECT rows FROM sharedbuf_create('ro', 'SELECT * FROM heap', key => 'k');
SELECT rows FROM sharedbuf_create('we', 'SELECT * FROM heap', key => 'k', writable => true);
SELECT rows FROM sharedbuf_create('wd', 'SELECT * FROM heap', key => 'k', writable => true);
SELECT rows FROM sharedbuf_create('wu', 'SELECT * FROM heap', key => 'k', writable => true);
-- execution time, in ms, of a query
CREATE FUNCTION exec_ms(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE p jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO p;
  RETURN (p->0->>'Execution Time')::float8;
END \$\$;
EOF

# Update 1% of wd's keys through the table (nested-loop lookups).
make_delta() {
  sql -c "SET enable_hashjoin = off; SET enable_mergejoin = off;
          UPDATE wd SET i = wd.i + 1 FROM keys1 WHERE wd.k = keys1.k;"
}
make_delta
record "delta_keys" "$(sql -c "SELECT keys FROM sharedbuf_delta_info('wd')")"

# The probe join's execution time on a store, in ms.
probe_ms() {
  sql -c "SET enable_hashjoin = off; SET enable_mergejoin = off;
          SET max_parallel_workers_per_gather = 0;
          SELECT exec_ms('SELECT sum(x.i) FROM probes p JOIN $1 x ON x.k = p.k')" | tail -1
}

# pgbench TPS of single-row updates of a table, with synchronous_commit.
update_tps() {
  local f="$out/update_$1.sql"
  printf '\\set n random(1, %d)\nUPDATE %s SET i = i + 1 WHERE k = :n;\n' $ROWS "$1" > "$f"
  chown postgres: "$f"
  PGOPTIONS="-c synchronous_commit=$2" as_pg "$bin/pgbench" -n -M prepared -c 1 -T "$T" \
    -f "$f" -h "$out/sock" -p $port postgres 2>/dev/null | grep -oP '^tps = \K[0-9.]+'
}

round() {
  local r="$1" order="$2" s
  declare -A ms tps
  for s in $order; do probe_ms "$s" >/dev/null; ms[$s]=$(probe_ms "$s"); done
  record "probe_ro_ms.$r" "${ms[ro]}"
  record "probe_we_ms.$r" "${ms[we]}"
  record "probe_wd_ms.$r" "${ms[wd]}"
  record "probe_heap_ms.$r" "${ms[heap]}"
  record "probe_empty_ratio.$r" "$(ratio "${ms[we]}" "${ms[ro]}")"
  record "probe_delta_ratio.$r" "$(ratio "${ms[wd]}" "${ms[ro]}")"
  record "probe_delta_btree_ratio.$r" "$(ratio "${ms[wd]}" "${ms[heap]}")"
  local fold refresh
  if [ $((r % 2)) -eq 1 ]; then
    fold=$(sql -c "SELECT seconds FROM sharedbuf_fold('wd')")
    refresh=$(sql -c "SELECT seconds FROM sharedbuf_refresh('ro')")
  else
    refresh=$(sql -c "SELECT seconds FROM sharedbuf_refresh('ro')")
    fold=$(sql -c "SELECT seconds FROM sharedbuf_fold('wd')")
  fi
  record "fold_s.$r" "$fold"
  record "refresh_s.$r" "$refresh"
  record "fold_ratio.$r" "$(ratio "$fold" "$refresh")"
  make_delta
  for sc in on off; do
    for s in $3; do
      [ "$s" = heap ] && tps[$s]=$(update_tps heap $sc) || tps[$s]=$(update_tps wu $sc)
    done
    record "update_heap_tps_$sc.$r" "${tps[heap]}"
    record "update_bundle_tps_$sc.$r" "${tps[wu]}"
    record "update_ratio_$sc.$r" "$(ratio "${tps[wu]}" "${tps[heap]}")"
  done
}

for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then
    order="ro we wd heap"; uorder="heap wu"
  else
    order="heap wd we ro"; uorder="wu heap"
  fi
  log "round $r ($order)"
  round "$r" "$order" "$uorder"
done
record "wu_delta_keys" "$(sql -c "SELECT keys FROM sharedbuf_delta_info('wu')")"

python3 "$bench/writable_report.py" "$out" "$root/docs/benchmarks.md" "$mode" "$ROWS" "$PROBES"
log "done; docs/benchmarks.md updated"
