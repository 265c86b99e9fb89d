#!/usr/bin/env bash
#
# run-planning.sh: what an unprepared lookup costs, bundle against btree.
#
#   bench/run-planning.sh [quick|full]
#
# Starts a PostgreSQL 15 cluster (sharedbuf preloaded) under bench/out/plan
# with three data sets of 1M rows, each as a heap table with a btree
# primary key and as a bundle: "int8" (int8 key, 64-byte text, int4,
# float8), "text" (a 20-character text key and the same payload) and
# "accounts" (pgbench_accounts at scale 10, keyed on aid).  In alternating
# rounds (the order of the two stores swapped each round) it measures:
#
#   1. planning time of "SELECT payload FROM x WHERE key = <constant>"
#      from EXPLAIN (ANALYZE, SUMMARY), the two stores' statements
#      alternating: the mean over many statements, leaving out the
#      slowest tenth;
#   2. pgbench single-key lookups with the simple query protocol (what
#      most drivers, ORMs and poolers send) and with -M prepared, at 1
#      and 2 clients.
#
# Every figure in the report is the median of the per-round ratios
# bundle / btree.  quick: 3 rounds of 4-second runs (about 6 minutes);
# full: 5 rounds of 10-second runs (about 30 minutes).  Writes its
# section of docs/benchmarks.md (between the "planning" markers); raw
# figures stay in bench/out/plan.  Must run as root (the server runs as
# postgres).  Not part of CI.

set -euo pipefail

mode=${1:-quick}
case "$mode" in
  quick) T=4; ROUNDS=3; NPLAN=1000 ;;
  full)  T=10; ROUNDS=5; NPLAN=3000 ;;
  *) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
T=${BENCH_T:-$T}; ROUNDS=${BENCH_ROUNDS:-$ROUNDS}
ROWS=1000000
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (the server runs as postgres)" >&2
  exit 2
fi

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
out=$bench/out/plan
bin=/usr/lib/postgresql/15/bin
port=5523
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
jit = off
EOF
as_pg "$bin/pg_ctl" -D "$out/data" -l "$out/server.log" -w start >/dev/null

log "data: three sets of $ROWS rows"
as_pg "$bin/pgbench" -i -q -s $((ROWS / 100000)) -h "$out/sock" -p $port postgres >/dev/null 2>&1
sql <<EOF
CREATE EXTENSION sharedbuf;
CREATE TABLE int8_heap AS
  SELECT g::int8 AS k, md5(g::text) || md5((-g)::text) AS t, g::int4 AS i, g::float8 AS f
    FROM generate_series(1, $ROWS) g;
ALTER TABLE int8_heap ADD PRIMARY KEY (k);
CREATE TABLE text_heap AS
  SELECT lpad(g::text, 20, 'k') AS k, md5(g::text) || md5((-g)::text) AS t, g::int4 AS i, g::float8 AS f
    FROM generate_series(1, $ROWS) g;
ALTER TABLE text_heap ADD PRIMARY KEY (k);
VACUUM ANALYZE;
SELECT rows FROM sharedbuf_create('int8_sb', 'SELECT * FROM int8_heap', key => 'k');
SELECT rows FROM sharedbuf_create('text_sb', 'SELECT * FROM text_heap', key => 'k');
SELECT rows FROM sharedbuf_create('accounts_sb', 'SELECT * FROM pgbench_accounts', key => 'aid');
-- the mean of the values under the 90th percentile
CREATE FUNCTION trimmed_mean(v float8[]) RETURNS float8 LANGUAGE sql AS \$\$
  SELECT avg(x) FROM unnest(v) x
   WHERE x <= (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY y) FROM unnest(v) y)
\$\$;
-- planning time, in ms, of n lookups of random keys in each of two
-- tables, alternating between them: for each, the mean of the times under
-- its 90th percentile (EXPLAIN reports whole microseconds, too coarse for
-- a median of single values); returns "first|second"
CREATE FUNCTION plan_ms(tbl1 text, tbl2 text, keycol text, payload text, keyexpr text, n int)
RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE p jsonb; t1 float8[] := '{}'; t2 float8[] := '{}'; k text; q text;
BEGIN
  FOR i IN 1..n LOOP
    k := replace(keyexpr, 'N', (1 + floor(random() * $ROWS))::int::text);
    q := 'EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) SELECT %s FROM %s WHERE %s = %s';
    EXECUTE format(q, payload, tbl1, keycol, k) INTO p;
    t1 := t1 || (p->0->>'Planning Time')::float8;
    EXECUTE format(q, payload, tbl2, keycol, k) INTO p;
    t2 := t2 || (p->0->>'Planning Time')::float8;
  END LOOP;
  RETURN trimmed_mean(t1) || '|' || trimmed_mean(t2);
END \$\$;
EOF

# set: heap table, bundle, key column, payload column, key expression
# (N: the row number), pgbench key expression (:n)
declare -A HEAP=([int8]=int8_heap [text]=text_heap [accounts]=pgbench_accounts)
declare -A BUNDLE=([int8]=int8_sb [text]=text_sb [accounts]=accounts_sb)
declare -A KEYCOL=([int8]=k [text]=k [accounts]=aid)
declare -A PAYLOAD=([int8]=t [text]=t [accounts]=abalance)
declare -A KEYSQL=([int8]="N" [text]="lpad('N', 20, 'k')" [accounts]="N")
declare -A KEYBENCH=([int8]=":n" [text]="lpad(:n::text, 20, 'k')" [accounts]=":n")

# Write the pgbench script of a lookup in 'tbl' of set 's'.
script() {
  local s="$1" tbl="$2" f="$out/$1_$2.sql"
  printf '\\set n random(1, %d)\nSELECT %s FROM %s WHERE %s = %s;\n' \
    $ROWS "${PAYLOAD[$s]}" "$tbl" "${KEYCOL[$s]}" "${KEYBENCH[$s]}" > "$f"
  chown postgres: "$f"
  echo "$f"
}

# TPS of pgbench with 'proto' and 'clients' on a script.
tps() {
  as_pg "$bin/pgbench" -n -M "$1" -c "$2" -j "$2" -T "$T" -f "$3" \
    -h "$out/sock" -p $port postgres 2>/dev/null |
    grep -oP '^tps = \K[0-9.]+'
}

# One round of set 's': each measure for both stores, in 'order'.
round() {
  local s="$1" r="$2" order="$3" store tbl proto c
  declare -A plan val
  local tables=()
  for store in $order; do
    [ "$store" = heap ] && tables+=("${HEAP[$s]}") || tables+=("${BUNDLE[$s]}")
  done
  IFS='|' read -r "plan[${order%% *}]" "plan[${order##* }]" < <(sql -c "SELECT plan_ms(
    '${tables[0]}', '${tables[1]}', '${KEYCOL[$s]}', '${PAYLOAD[$s]}',
    \$k\$${KEYSQL[$s]}\$k\$, $NPLAN)")
  record "plan_heap_ms_$s.$r" "${plan[heap]}"
  record "plan_bundle_ms_$s.$r" "${plan[bundle]}"
  record "plan_ratio_$s.$r" "$(echo "${plan[bundle]} / ${plan[heap]}" | bc -l)"
  for proto in simple prepared; do
    for c in 1 2; do
      for store in $order; do
        [ "$store" = heap ] && tbl=${HEAP[$s]} || tbl=${BUNDLE[$s]}
        val[$store]=$(tps "$proto" "$c" "$(script "$s" "$tbl")")
      done
      record "tps_heap_${proto}_${c}_$s.$r" "${val[heap]}"
      record "tps_bundle_${proto}_${c}_$s.$r" "${val[bundle]}"
      record "tps_ratio_${proto}_${c}_$s.$r" "$(echo "${val[bundle]} / ${val[heap]}" | bc -l)"
    done
  done
}

record "plan_statements" "$NPLAN"
for r in $(seq 1 "$ROUNDS"); do
  for s in int8 text accounts; do
    if [ $((r % 2)) -eq 1 ]; then order="heap bundle"; else order="bundle heap"; fi
    log "round $r, $s ($order)"
    round "$s" "$r" "$order"
  done
done

python3 "$bench/planning_report.py" "$out" "$root/docs/benchmarks.md" "$mode"
log "done; docs/benchmarks.md updated"
