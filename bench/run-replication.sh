#!/usr/bin/env bash
#
# run-replication.sh: what it costs to carry bundles through the WAL.
#
#   bench/run-replication.sh [quick|full]
#
# Starts a primary and a streaming standby of PostgreSQL 15 (sharedbuf
# preloaded on both) under bench/out/repl and measures, as ratios against
# a baseline taken in the same run:
#
#   1. WAL bytes a refresh writes per byte of its bundle, with the chunks
#      uncompressed and with lz4 (goal: at most 1.02 uncompressed);
#   2. the time from the primary's commit of a refresh of a large bundle
#      (about 1 GB in "full") to the standby serving the new generation,
#      against the primary's time for the refresh (goal: at most 0.5x);
#   3. the p99 latency of single-key lookups on the standby while the
#      primary refreshes a bundle in a loop, against idle p99 and against
#      the p99 while the primary rewrites a heap table of the same rows
#      (as much WAL, no sharedbuf records), in alternating rounds (goal:
#      at most 2x idle), with the errors seen.
#
# quick: 200,000-row bundle for (1) and (3), 2M rows (about 0.25 GB) for
#        (2), 5-second rounds (about 5 minutes).
# full:  1M rows for (1) and (3), 8M rows (about 1 GB) for (2), 15-second
#        rounds (about 15 minutes).
#
# Writes its section of docs/benchmarks.md (between the "replication"
# markers); raw figures and logs stay in bench/out/repl.  Must run as root
# (the servers run as postgres).  Not part of CI.

set -euo pipefail

mode=${1:-quick}
case "$mode" in
  quick) SMALL=200000; BIG=2000000; T=5; ROUNDS=3 ;;
  full)  SMALL=1000000; BIG=8000000; T=15; ROUNDS=3 ;;
  *) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
SMALL=${BENCH_SMALL:-$SMALL}; BIG=${BENCH_BIG:-$BIG}; T=${BENCH_T:-$T}
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (the servers run as postgres)" >&2
  exit 2
fi

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
out=$bench/out/repl
bin=/usr/lib/postgresql/15/bin
pport=5521
sport=5522
res=$out/results.tsv

cd "$root"
# shellcheck source=../scripts/setup
source scripts/setup
sb_install_packages
sb_build_install

log() { echo "[$(date +%T)] $*" | tee -a "$out/log" >&2; }
as_pg() { runuser -u postgres -- "$@"; }
psql_p() { as_pg "$bin/psql" -X -q -At -h "$out/sock" -p $pport -d postgres "$@"; }
psql_s() { as_pg "$bin/psql" -X -q -At -h "$out/sock" -p $sport -d postgres "$@"; }
now() { date +%s.%N; }
record() { printf '%s\t%s\n' "$1" "$2" >> "$res"; log "$1 = $2"; }

# Stop the servers, whatever happens.
stop_servers() {
  for d in "$out/primary" "$out/standby"; do
    [ -f "$d/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$d" -m fast stop >/dev/null 2>&1 || true
  done
}
trap stop_servers EXIT

# ------------------------------------------------------------ the servers
stop_servers
rm -rf "$out"
mkdir -p "$out/sock"
chown -R postgres: "$out"
: > "$res"
as_pg "$bin/initdb" -D "$out/primary" -A trust >/dev/null
cat >> "$out/primary/postgresql.conf" <<EOF
port = $pport
unix_socket_directories = '$out/sock'
listen_addresses = ''
shared_preload_libraries = 'sharedbuf'
wal_level = replica
max_wal_size = 16GB
shared_buffers = 1GB
maintenance_work_mem = 512MB
hot_standby_feedback = on
EOF
as_pg "$bin/pg_ctl" -D "$out/primary" -l "$out/primary.log" -w start >/dev/null
as_pg "$bin/pg_basebackup" -h "$out/sock" -p $pport -D "$out/standby" -R -X stream
sed -i "s/^port = $pport/port = $sport/" "$out/standby/postgresql.conf"
as_pg "$bin/pg_ctl" -D "$out/standby" -l "$out/standby.log" -w start >/dev/null

# Wait until the standby has replayed all the primary has written.
catch_up() {
  local lsn
  lsn=$(psql_p -c "SELECT pg_current_wal_insert_lsn()")
  until [ "$(psql_s -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ]; do sleep 0.05; done
}

log "data: $SMALL and $BIG rows"
psql_p <<EOF
CREATE EXTENSION sharedbuf;
CREATE TABLE small_src AS
  SELECT g::int8 AS id, 'user ' || g AS name,
         (ARRAY['de','fr','it','es','nl','be','pl','se','at','pt'])[1 + g % 10] AS country,
         (g % 1000) / 10.0 AS score
    FROM generate_series(1, $SMALL) g;
CREATE TABLE big_src AS
  SELECT g::int8 AS id, repeat(md5(g::text), 3) AS v FROM generate_series(1, $BIG) g;
VACUUM ANALYZE small_src, big_src;
SELECT count(*) FROM sharedbuf_create('small', 'SELECT id, name, country, score, 0 AS gen FROM small_src', key => 'id');
SELECT count(*) FROM sharedbuf_create('big', 'SELECT id, v, 0 AS gen FROM big_src', key => 'id');
EOF
catch_up

# ----------------------------------------- (1) WAL bytes per bundle byte
for comp in off lz4; do
  for rep in 1 2 3; do
    r=$(psql_p <<EOF
SET sharedbuf.wal_compression = $comp;
SELECT pg_current_wal_insert_lsn() AS l0 \gset
SELECT bytes FROM sharedbuf_refresh('small') \gset
SELECT round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') / :bytes, 4), :bytes;
EOF
)
    record "wal_ratio_$comp.$rep" "${r%|*}"
    record "bundle_bytes_small" "${r#*|}"
  done
done
catch_up

# ------------------------------- (2) commit to standby serving, big bundle
for rep in 1 2; do
  gen=$((100 + rep))
  t0=$(now)
  bytes=$(psql_p -c "SELECT bytes FROM sharedbuf_refresh('big', 'SELECT id, v, $gen AS gen FROM big_src')")
  t1=$(now)
  until [ "$(psql_s -c "SELECT gen FROM big WHERE id = 1" 2>/dev/null)" = "$gen" ]; do sleep 0.01; done
  t2=$(now)
  record "big_bytes.$rep" "$bytes"
  record "big_refresh_seconds.$rep" "$(echo "$t1 - $t0" | bc -l)"
  record "big_commit_to_standby_seconds.$rep" "$(echo "$t2 - $t1" | bc -l)"
  record "big_serve_ratio.$rep" "$(echo "($t2 - $t1) / ($t1 - $t0)" | bc -l)"
done

# ------------------------- (3) standby lookups while the primary refreshes
cat > "$out/lookup.sql" <<EOF
\set id random(1, $SMALL)
SELECT name, country, score FROM small WHERE id = :id;
EOF
cat > "$out/whole.sql" <<EOF
SELECT 1 / (count(DISTINCT gen) = 1)::int FROM small WHERE id = ANY ('{1,$((SMALL / 2)),$SMALL}');
EOF
chown postgres: "$out"/*.sql
# The primary's write loop of a round: refreshes of the bundle, or (the
# control) rewrites of a heap table of the same rows, which write as much
# WAL without sharedbuf's records.
write_loop() {
  local kind=$1 g=1
  while [ ! -f "$out/stop" ]; do
    if [ "$kind" = bundle ]; then
      psql_p -c "SELECT count(*) FROM sharedbuf_refresh('small', 'SELECT id, name, country, score, $g AS gen FROM small_src')" >/dev/null
    else
      psql_p -c "BEGIN; TRUNCATE small_heap; INSERT INTO small_heap SELECT * FROM small_src; COMMIT" >/dev/null
    fi
    g=$((g + 1))
  done
  echo $((g - 1)) > "$out/refreshes"
}
pgbench_round() {
  local name=$1
  as_pg "$bin/pgbench" -n -h "$out/sock" -p $sport -M prepared -c 1 -T "$T" \
    -f "$out/lookup.sql@20" -f "$out/whole.sql@1" -l --log-prefix="$out/lat_$name" postgres \
    > "$out/pgbench_$name.out" 2>&1 || echo "pgbench exited with $?" >> "$out/pgbench_$name.out"
}
p99() {
  # latency in microseconds is the third field of pgbench's per-transaction log
  cat "$out"/lat_"$1".* | awk '{print $3}' | sort -n |
    awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; print a[i]}'
}
# a round of lookups while the primary runs a write loop of 'kind'
loaded_round() {
  local name=$1 kind=$2 loop
  rm -f "$out/stop"
  write_loop "$kind" &
  loop=$!
  pgbench_round "$name"
  touch "$out/stop"
  wait "$loop"
}
psql_p -c "CREATE TABLE small_heap AS SELECT * FROM small_src" >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  pgbench_round "idle$r"
  loaded_round "busy$r" bundle
  record "refreshes_during_round.$r" "$(cat "$out/refreshes")"
  loaded_round "heap$r" heap
  record "heap_rewrites_during_round.$r" "$(cat "$out/refreshes")"
  record "p99_idle_us.$r" "$(p99 "idle$r")"
  record "p99_busy_us.$r" "$(p99 "busy$r")"
  record "p99_heap_us.$r" "$(p99 "heap$r")"
  record "p99_ratio.$r" "$(echo "$(p99 "busy$r") / $(p99 "idle$r")" | bc -l)"
  record "p99_heap_ratio.$r" "$(echo "$(p99 "heap$r") / $(p99 "idle$r")" | bc -l)"
  record "p99_vs_heap.$r" "$(echo "$(p99 "busy$r") / $(p99 "heap$r")" | bc -l)"
  for n in "idle$r" "busy$r" "heap$r"; do
    record "transactions_$n" "$(grep -oP 'number of transactions actually processed: \K[0-9]+' "$out/pgbench_$n.out" || echo 0)"
    record "errors_$n" "$(grep -cE 'ERROR|pgbench exited|aborted' "$out/pgbench_$n.out" || true)"
  done
  catch_up
done

python3 "$bench/replication_report.py" "$out" "$root/docs/benchmarks.md" "$mode"
log "done; docs/benchmarks.md updated"
