#!/usr/bin/env bash
#
# run-follow.sh: what a following bundle costs (sharedbuf_create(...,
# follow => true)): the writes to the table it follows, and its lookups
# while that table takes writes, against the same table unfollowed, a
# read-only bundle and a heap table with a btree primary key; and a check
# that a committed change is seen by the next statement.
#
#   bench/run-follow.sh [quick|full]
#
# Starts a PostgreSQL 15 cluster (sharedbuf preloaded) under
# bench/out/follow with N rows (int8 key "id", 64-byte text "val", int4
# "n") in four copies: "src_f", with a primary key, followed by the bundle
# "fb" ('SELECT id, val, n FROM src_f', key id, follow => true); "src_p",
# the same table with no follower; "heap", with a btree primary key; and
# the read-only bundle "ro" of heap.  It measures:
#
#   1. pgbench single-row "UPDATE src_x SET n = n + 1 WHERE id = :id"
#      (random ids), -M prepared, 1 client, on src_f against src_p, in
#      rounds alternating the order of the two (A/B, then B/A), with the
#      default synchronous_commit and with synchronous_commit off (the
#      CPU cost alone); both tables of a round get the same ids (the same
#      --random-seed).  Besides TPS it records the server backend's CPU
#      time per update (from /proc, as bench/run-compact.sh does) and the
#      WAL bytes per update.  These runs set sharedbuf.follow_fold_threshold =
#      0, so that no worker folds fb's delta during a round; the delta's
#      size is recorded after them.  Then two more rounds, with the
#      default synchronous_commit and the threshold at its default (a
#      worker may fold mid-round): the folds they saw are recorded.
#   2. probe cost under an update load: with fb's delta folded first, a
#      background pgbench (1 client, -M prepared, the fold threshold at
#      its default, so that the worker keeps the delta in a steady state)
#      updates random rows of src_f for the whole step while a
#      nested-loop join of random keys runs against fb, ro and heap,
#      timed by EXPLAIN (ANALYZE) of the same query (and the probing
#      backend's CPU time for it, read from /proc/self/stat), as in
#      bench/run-writable.sh (hash and merge joins, memoize and
#      parallelism off; each store warmed first; the order of the stores
#      swapped each round).  The load's rate and fb's delta are
#      recorded each round.  Then, for reference, two rounds of the same
#      probes with the load stopped and the delta it left, and the join
#      with 1,000 probes on fb and ro (the fixed cost of loading the delta
#      once per statement).
#   3. freshness (a check, not a timing): an update of a random row of
#      src_f is committed and the next statement reads the key from fb,
#      which must give the new value: in the same session (a plpgsql
#      procedure that commits and reads in its next statement), from
#      another session (two psql processes, one writing and one reading,
#      kept open), and from new connections (two psql runs per check).
#      Then fb is compared with its query over src_f (count and a sum of
#      row hashes).
#
# Every ratio in the report is the median of the per-round ratios, with
# their range.  quick: 1M rows, 5 rounds, 200k probes, 4-second pgbench
# runs (under 5 minutes); full: 10M rows, 5 rounds, 1M probes, 10-second
# runs (under 15 minutes).  Writes its section of docs/benchmarks.md
# (between the "follow" markers; BENCH_DOC=path writes it to another
# file, BENCH_DOC=- to none) and bench/out/follow/report.md, and prints
# it; raw figures stay in bench/out/follow (results.tsv, log, pgbench
# output, plans.txt, server.log).  Must run as root (the server runs as
# postgres).  Not part of CI.
#
# Overrides for trying the script out: BENCH_ROWS, BENCH_ROUNDS, BENCH_T
# (pgbench seconds), BENCH_PROBES, BENCH_PORT, BENCH_CHECKS (freshness
# checks per kind), and BENCH_NO_BUILD=1 to use the installed extension
# as it is (no apt-get, no make).

set -euo pipefail

mode=${1:-quick}
case "$mode" in
  quick) ROWS=1000000; ROUNDS=5; PROBES=200000; T=4 ;;
  full)  ROWS=10000000; ROUNDS=5; PROBES=1000000; T=10 ;;
  *) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
ROWS=${BENCH_ROWS:-$ROWS}; ROUNDS=${BENCH_ROUNDS:-$ROUNDS}; T=${BENCH_T:-$T}
PROBES=${BENCH_PROBES:-$PROBES}
CHECKS=${BENCH_CHECKS:-200}      # freshness checks, same session and a psql pair
CHECKS_NEW=$(( CHECKS / 4 ))     # ... and with new connections (two psql runs each)
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (the server runs as postgres)" >&2
  exit 2
fi

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
out=$bench/out/follow
bin=/usr/lib/postgresql/15/bin
port=${BENCH_PORT:-5525}
res=$out/results.tsv
doc=${BENCH_DOC:-$root/docs/benchmarks.md}

cd "$root"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  # shellcheck source=../scripts/setup
  source scripts/setup
  sb_install_packages
  sb_build_install
fi

log() { echo "[$(date +%T)] $*" | tee -a "$out/log" >&2; }
as_pg() { runuser -u postgres -- "$@"; }
sql() { PGOPTIONS="-c client_min_messages=warning" as_pg "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$out/sock" -p "$port" -d postgres "$@"; }
record() { printf '%s\t%s\n' "$1" "$2" >> "$res"; log "$1 = $2"; }
ratio() { echo "$1 / $2" | bc -l; }
now() { date +%s.%N; }

bgpid=""   # the background load's runuser (pgbench runs under it)
stop_server() {
  [ -f "$out/data/postmaster.pid" ] &&
    as_pg "$bin/pg_ctl" -D "$out/data" -m fast stop >/dev/null 2>&1 || true
  # the server's stop ends the load's connection, and so its pgbench
  if [ -n "$bgpid" ]; then wait "$bgpid" 2>/dev/null || true; bgpid=""; fi
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
log "server $("$bin/postgres" --version), $(nproc) cores, $ROWS rows, $ROUNDS rounds, $PROBES probes, ${T}-second runs"

log "data: $ROWS rows in four copies, two bundles"
t0=$(now)
sql <<EOF
CREATE EXTENSION sharedbuf;
CREATE TABLE heap AS
  SELECT g::int8 AS id, md5(g::text) || md5((-g)::text) AS val, g::int4 AS n
    FROM generate_series(1, $ROWS) g;
CREATE TABLE src_f AS SELECT * FROM heap;
CREATE TABLE src_p AS SELECT * FROM heap;
ALTER TABLE heap ADD PRIMARY KEY (id);
ALTER TABLE src_f ADD PRIMARY KEY (id);
ALTER TABLE src_p ADD PRIMARY KEY (id);
CREATE TABLE probes AS
  SELECT 1 + (abs(hashint4(g)::int8) % $ROWS) AS id FROM generate_series(1, $PROBES) g;
VACUUM ANALYZE;
-- execution time, in ms, of a query
CREATE FUNCTION exec_ms(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE p jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO p;
  RETURN (p->0->>'Execution Time')::float8;
END \$\$;
-- CPU time this backend has used, in clock ticks (utime + stime)
CREATE FUNCTION cpu_ticks() RETURNS int8 LANGUAGE sql AS \$\$
  SELECT f[12]::int8 + f[13]::int8
    FROM (SELECT string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ') f) s
\$\$;
-- exec_ms of a query, and the CPU time, in ms, the backend used for it
CREATE FUNCTION exec_cpu_ms(q text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE c int8 := cpu_ticks(); ms float8;
BEGIN
  ms := exec_ms(q);
  RETURN ms || ' ' || (cpu_ticks() - c) * 1000.0 / $(getconf CLK_TCK);
END \$\$;
EOF
record "build_ro_s" "$(sql -c "SELECT seconds FROM sharedbuf_create('ro', 'SELECT id, val, n FROM heap', key => 'id')")"
record "build_fb_s" "$(sql -c "SELECT seconds FROM sharedbuf_create('fb', 'SELECT id, val, n FROM src_f', 'id', follow => true)")"
follows=$(sql -c "SELECT follows FROM sharedbuf_delta_info('fb')")
if [ "$follows" != "src_f" ]; then
  log "fb does not follow src_f (sharedbuf_delta_info says '$follows')"
  exit 1
fi
# the setup's writes, out of the way of the timed rounds
sql -c "CHECKPOINT"
log "setup took $(echo "$(now) - $t0" | bc) s"

# fb's delta: keys, rows, bytes (table and indexes)
delta_info() {
  sql -c "SELECT keys || ' ' || rows || ' ' || pg_total_relation_size(delta)
            FROM sharedbuf_delta_info('fb')"
}
# fb's bundle file generation: a fold or a rebuild adds one
generation() { sql -c "SELECT generation FROM sharedbuf_info('fb')"; }
record_delta() {
  local d
  read -r -a d <<< "$(delta_info)"
  record "delta_keys_$1" "${d[0]}"
  record "delta_rows_$1" "${d[1]}"
  record "delta_bytes_$1" "${d[2]}"
}

# ------------------------------------------------------ 1. update throughput
# CPU time, in clock ticks, that process 'pid' has used so far, until it
# exits: the last reading (as in bench/run-compact.sh).
cpu_ticks_until_exit() {
  local pid="$1" t last=0
  while t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null); do
    last=$t
    sleep 0.05
  done
  echo "$last"
}

# pgbench single-row updates of a table: table, synchronous_commit,
# sharedbuf.follow_fold_threshold (empty: the default), random seed, label.
# Echoes "TPS CPU WAL": the TPS, the server backend's CPU time per update
# in microseconds and the WAL bytes per update.  The machine's two cores
# are shared by client, server and whatever else runs, so TPS also
# measures scheduling; the backend's CPU time is the cost of an update
# apart from the fsync of its commit.
update_run() {
  local f="$out/update_$1.sql" o="$out/pgbench_update_$1_$2_$5.out"
  local opts="-c synchronous_commit=$2" pid="" i ticks lsn0 lsn1 txns
  [ -n "$3" ] && opts="$opts -c sharedbuf.follow_fold_threshold=$3"
  printf '\\set id random(1, %d)\nUPDATE %s SET n = n + 1 WHERE id = :id;\n' "$ROWS" "$1" > "$f"
  chown postgres: "$f"
  lsn0=$(sql -c "SELECT pg_current_wal_insert_lsn()")
  PGOPTIONS="$opts" as_pg "$bin/pgbench" -n -M prepared -c 1 -T "$T" --random-seed="$4" \
    -f "$f" -h "$out/sock" -p "$port" postgres > "$o" 2>&1 &
  for i in $(seq 1 100); do
    pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'
                  ORDER BY backend_start DESC LIMIT 1")
    [ -n "$pid" ] && break
    sleep 0.02
  done
  ticks=$(cpu_ticks_until_exit "$pid")
  wait $!
  lsn1=$(sql -c "SELECT pg_current_wal_insert_lsn()")
  if [ -z "$pid" ] || [ "$ticks" -le 0 ]; then
    log "could not measure the CPU time of the backend updating $1"
    exit 1
  fi
  txns=$(grep -oP '^number of transactions actually processed: \K[0-9]+' "$o")
  echo "$(grep -oP '^tps = \K[0-9.]+' "$o")" \
       "$(echo "$ticks * 1000000 / $(getconf CLK_TCK) / $txns" | bc -l)" \
       "$(sql -c "SELECT ('$lsn1'::pg_lsn - '$lsn0'::pg_lsn) / $txns")"
}

# One round of updates: round (label), order, synchronous_commit,
# threshold, seed; records the TPS, CPU time and WAL per update of both
# tables, and their ratios: TPS, and updates per CPU second, followed /
# unfollowed; WAL per update, followed / unfollowed.
update_round() {
  local r="$1" order="$2" sc="$3" thr="$4" seed="$5" s name="$3" v
  declare -A tps cpu wal
  [ -z "$thr" ] && name="default"
  for s in $order; do
    read -r -a v <<< "$(update_run "$s" "$sc" "$thr" "$seed" "$name.$r")"
    [ -n "${v[2]:-}" ] || { log "the updates of $s were not measured; see $out/log"; exit 1; }
    tps[$s]=${v[0]}; cpu[$s]=${v[1]}; wal[$s]=${v[2]}
  done
  record "update_plain_tps_$name.$r" "${tps[src_p]}"
  record "update_follow_tps_$name.$r" "${tps[src_f]}"
  record "update_ratio_$name.$r" "$(ratio "${tps[src_f]}" "${tps[src_p]}")"
  record "update_plain_cpu_us_$name.$r" "${cpu[src_p]}"
  record "update_follow_cpu_us_$name.$r" "${cpu[src_f]}"
  record "update_cpu_ratio_$name.$r" "$(ratio "${cpu[src_p]}" "${cpu[src_f]}")"
  record "update_plain_wal_$name.$r" "${wal[src_p]}"
  record "update_follow_wal_$name.$r" "${wal[src_f]}"
  record "update_wal_ratio_$name.$r" "$(ratio "${wal[src_f]}" "${wal[src_p]}")"
}

g0=$(generation)
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order="src_p src_f"; else order="src_f src_p"; fi
  log "updates, round $r ($order)"
  update_round "$r" "$order" on 0 $((2 * r))
  update_round "$r" "$order" off 0 $((2 * r + 1))
done
record "folds_during_updates" "$(( $(generation) - g0 ))"
record_delta "after_updates"

# Two more rounds with the default threshold: a worker may fold mid-round.
g0=$(generation)
for r in 1 2; do
  if [ $((r % 2)) -eq 1 ]; then order="src_p src_f"; else order="src_f src_p"; fi
  log "updates with the default fold threshold, round $r ($order)"
  update_round "$r" "$order" on "" $((1000 + r))
done
# a fold the last commit asked for may still be running
sleep 2
while [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'sharedbuf fold'")" != 0 ]; do
  sleep 1
done
record "folds_during_default" "$(( $(generation) - g0 ))"
record_delta "after_default"

# ---------------------------------------------- 2. lookups under an update load
record "fold_before_load_s" "$(sql -c "SELECT seconds FROM sharedbuf_fold('fb')")"

# As in bench/run-writable.sh, with memoize off too (as in
# bench/run-compact.sh): a cache in front of the btree would measure
# repeated keys, not lookups.
JOINSET="SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
         SET max_parallel_workers_per_gather = 0;"
probe_query() { echo "SELECT sum(x.n) FROM probes p JOIN $1 x ON x.id = p.id"; }

# The probe joins must be nested loops over lookups.
: > "$out/plans.txt"
for s in fb ro heap; do
  plan=$(sql -c "$JOINSET EXPLAIN (COSTS OFF) $(probe_query $s)")
  printf '== %s\n%s\n\n' "$s" "$plan" >> "$out/plans.txt"
  if ! grep -q "Nested Loop" <<< "$plan"; then
    log "the probe join on $s is not a nested loop; see $out/plans.txt"
    exit 1
  fi
done

# The probe join's execution time on a store, in ms, and the CPU time
# its backend used meanwhile, in ms (the load and anything else running
# share the two cores, so the execution time also measures scheduling).
probe_ms() {
  sql -c "$JOINSET SELECT exec_cpu_ms('$(probe_query "$1")')" | tail -1
}

# src_f's updates so far, as the statistics count them
# (a backend reports them about once a second)
updates() { sql -c "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'src_f'"; }

printf '\\set id random(1, %d)\nUPDATE src_f SET n = n + 1 WHERE id = :id;\n' "$ROWS" > "$out/load.sql"
chown postgres: "$out/load.sql"
g0=$(generation)
as_pg "$bin/pgbench" -n -M prepared -c 1 -T 36000 -P 1 \
  -f "$out/load.sql" -h "$out/sock" -p "$port" postgres > "$out/pgbench_load.out" 2>&1 &
bgpid=$!
# wait for the load to run
u0=$(updates)
for i in $(seq 1 100); do
  sleep 0.2
  [ "$(updates)" -gt "$u0" ] && break
done
if [ "$(updates)" -le "$u0" ]; then
  log "the background update load did not start; see $out/pgbench_load.out"
  exit 1
fi

# One round of probes: round (label), order, suffix of the records ("" under
# the load); fb's delta is recorded when fb is probed.
probe_round() {
  local r="$1" order="$2" x="$3" s v
  declare -A ms cpu
  for s in $order; do
    probe_ms "$s" >/dev/null
    if [ "$s" = fb ]; then record_delta "at_probe$x.$r"; fi
    read -r -a v <<< "$(probe_ms "$s")"
    ms[$s]=${v[0]}; cpu[$s]=${v[1]}
  done
  record "probe_follow_ms$x.$r" "${ms[fb]}"
  record "probe_ro_ms$x.$r" "${ms[ro]}"
  record "probe_heap_ms$x.$r" "${ms[heap]}"
  record "probe_follow_ro_ratio$x.$r" "$(ratio "${ms[fb]}" "${ms[ro]}")"
  record "probe_follow_btree_ratio$x.$r" "$(ratio "${ms[fb]}" "${ms[heap]}")"
  record "probe_ro_btree_ratio$x.$r" "$(ratio "${ms[ro]}" "${ms[heap]}")"
  record "probe_follow_cpu_ms$x.$r" "${cpu[fb]}"
  record "probe_ro_cpu_ms$x.$r" "${cpu[ro]}"
  record "probe_heap_cpu_ms$x.$r" "${cpu[heap]}"
  record "probe_cpu_follow_ro_ratio$x.$r" "$(ratio "${cpu[fb]}" "${cpu[ro]}")"
  record "probe_cpu_follow_btree_ratio$x.$r" "$(ratio "${cpu[fb]}" "${cpu[heap]}")"
}

for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order="fb ro heap"; else order="heap ro fb"; fi
  log "probes under load, round $r ($order)"
  u0=$(updates); t0=$(now)
  probe_round "$r" "$order" ""
  u1=$(updates); t1=$(now)
  if ! kill -0 "$bgpid" 2>/dev/null; then
    log "the background update load stopped; see $out/pgbench_load.out"
    exit 1
  fi
  record "load_tps.$r" "$(echo "($u1 - $u0) / ($t1 - $t0)" | bc -l)"
done
# End the load: its backend's end makes pgbench stop (runuser would not
# pass a signal on to it).
sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'pgbench' AND backend_type = 'client backend'" >/dev/null
wait "$bgpid" 2>/dev/null || true
bgpid=""
record "folds_during_load" "$(( $(generation) - g0 ))"
record_delta "after_load"

# For reference, two rounds with no load, fb's delta as the load left it:
# what the delta costs a probe, apart from the load.
for r in 1 2; do
  if [ $((r % 2)) -eq 1 ]; then order="fb ro heap"; else order="heap ro fb"; fi
  log "probes with no load, round $r ($order)"
  probe_round "$r" "$order" "_idle"
done
# A scan that has looked up about as many keys as the delta has rows per
# two loads the whole delta once (src/deltaread.c); before that each
# lookup probes the delta's indexes: the same join with 1,000 probes shows
# what a short join pays.
small="SELECT sum(x.n) FROM (SELECT * FROM probes LIMIT 1000) p JOIN"
for r in 1 2; do
  if [ $((r % 2)) -eq 1 ]; then order="fb ro"; else order="ro fb"; fi
  declare -A sms=()
  for s in $order; do
    sql -c "$JOINSET $small $s x ON x.id = p.id" >/dev/null
    sms[$s]=$(sql -c "$JOINSET SELECT exec_ms('$small $s x ON x.id = p.id')" | tail -1)
  done
  record "probe1000_follow_ms_idle.$r" "${sms[fb]}"
  record "probe1000_ro_ms_idle.$r" "${sms[ro]}"
done

# ------------------------------------------------------------- 3. freshness
log "freshness: $CHECKS checks in one session, $CHECKS with a psql pair, $CHECKS_NEW with new connections"
# Same session: update and commit, then read fb in the next statement.
sql <<EOF
CREATE TABLE fresh_log (i int, id int8, wrote int4, seen int4);
CREATE PROCEDURE fresh_same(checks int, nrows int8) LANGUAGE plpgsql AS \$\$
DECLARE k int8; v int4; seen int4;
BEGIN
  FOR i IN 1..checks LOOP
    k := 1 + floor(random() * nrows)::int8;
    UPDATE src_f SET n = n + 1 WHERE id = k RETURNING n INTO v;
    COMMIT;
    SELECT x.n INTO seen FROM fb x WHERE x.id = k;
    INSERT INTO fresh_log VALUES (i, k, v, seen);
    COMMIT;
  END LOOP;
END \$\$;
CALL fresh_same($CHECKS, $ROWS);
EOF
record "fresh_same_ok" "$(sql -c "SELECT count(*) FROM fresh_log WHERE seen IS NOT DISTINCT FROM wrote")"
record "fresh_same_checks" "$(sql -c "SELECT count(*) FROM fresh_log")"
sql -c "SELECT * FROM fresh_log WHERE seen IS DISTINCT FROM wrote LIMIT 10" >> "$out/fresh_failures.txt"

randkey() { echo $(( (RANDOM * 32768 + RANDOM) % ROWS + 1 )); }

# Another session: a writing psql and a reading psql, kept open, fed
# through FIFOs; each read is sent once the writer's commit has returned.
fresh_pair() {
  local f="$out/fifo" i k v seen ok=0 win wout rin rout wpid rpid wb rb
  mkdir -p "$f"
  mkfifo "$f/w.in" "$f/w.out" "$f/r.in" "$f/r.out"
  sql < "$f/w.in" > "$f/w.out" 2>> "$out/fresh.err" &
  wpid=$!
  exec {win}> "$f/w.in" {wout}< "$f/w.out"
  sql < "$f/r.in" > "$f/r.out" 2>> "$out/fresh.err" {win}>&- {wout}<&- &
  rpid=$!
  exec {rin}> "$f/r.in" {rout}< "$f/r.out"
  echo "SELECT pg_backend_pid();" >&"$win"; read -r -t 60 wb <&"$wout"
  echo "SELECT pg_backend_pid();" >&"$rin"; read -r -t 60 rb <&"$rout"
  if [ -z "$wb" ] || [ "$wb" = "$rb" ]; then
    log "the writing and the reading psql do not have two backends ($wb, $rb)"
    exit 1
  fi
  for i in $(seq 1 "$CHECKS"); do
    k=$(randkey)
    echo "UPDATE src_f SET n = n + 1 WHERE id = $k RETURNING n;" >&"$win"
    read -r -t 60 v <&"$wout"
    echo "SELECT coalesce((SELECT n FROM fb WHERE id = $k)::text, 'missing');" >&"$rin"
    read -r -t 60 seen <&"$rout"
    if [ -n "$v" ] && [ "$v" = "$seen" ]; then
      ok=$((ok + 1))
    else
      echo "pair $i: id $k wrote '$v' read '$seen'" >> "$out/fresh_failures.txt"
    fi
  done
  exec {win}>&- {rin}>&-
  wait "$wpid" "$rpid" || true
  exec {wout}<&- {rout}<&-
  rm -rf "$f"
  echo "$ok"
}
record "fresh_pair_ok" "$(fresh_pair)"
record "fresh_pair_checks" "$CHECKS"

# New connections: one psql run updates and commits, the next reads.
ok=0
for i in $(seq 1 "$CHECKS_NEW"); do
  k=$(randkey)
  v=$(sql -c "UPDATE src_f SET n = n + 1 WHERE id = $k RETURNING n")
  seen=$(sql -c "SELECT coalesce((SELECT n FROM fb WHERE id = $k)::text, 'missing')")
  if [ -n "$v" ] && [ "$v" = "$seen" ]; then
    ok=$((ok + 1))
  else
    echo "new $i: id $k wrote '$v' read '$seen'" >> "$out/fresh_failures.txt"
  fi
done
record "fresh_new_ok" "$ok"
record "fresh_new_checks" "$CHECKS_NEW"

# fb against its query, after everything: rows and a sum of row hashes
check="SELECT count(*) || ' ' || coalesce(sum(hashtext(id || ':' || val || ':' || n)::int8), 0)"
a=$(sql -c "$check FROM fb")
b=$(sql -c "$check FROM src_f")
record "final_equal" "$([ "$a" = "$b" ] && echo 1 || echo 0)"
[ "$a" = "$b" ] || log "fb ($a) differs from its query over src_f ($b)"
record "folds_total" "$(( $(generation) - 1 ))"

# ------------------------------------------------------------- the report
python3 - "$out" "$doc" "$mode" "$ROWS" "$PROBES" "$T" "$bench" <<'PY'
"""The following-bundles section of docs/benchmarks.md, from results.tsv:
medians of per-round ratios, with their range."""
import os
import statistics
import sys

out, doc, mode, rows, probes, t, bench = sys.argv[1:8]
sys.path.insert(0, bench)
START, END = "<!-- follow:start -->", "<!-- follow:end -->"

vals = {}
for line in open(os.path.join(out, "results.tsv")):
    key, value = line.rstrip("\n").split("\t")
    vals.setdefault(key.split(".")[0], []).append(float(value))


def span(key):
    v = vals[key]
    return "**{:.2f}** ({:.2f}–{:.2f})".format(statistics.median(v), min(v), max(v))


def med(key):
    return statistics.median(vals[key])


def one(key):
    return vals[key][-1]


def verdict(key, limit, at_most=True):
    m = med(key)
    return "yes" if (m <= limit if at_most else m >= limit) else "**no**"


def fresh(kind):
    ok, n = int(one("fresh_%s_ok" % kind)), int(one("fresh_%s_checks" % kind))
    return "**{}/{}**".format(ok, n), ("yes" if ok == n else "**no**")


rounds = len(vals["update_ratio_on"])
L = [START, "", "## Following bundles", "",
     "`bench/run-follow.sh {}`: one PostgreSQL 15 cluster, {:,} rows (int8 key, "
     "64-byte text, int4) in two identical tables with a primary key, one followed by a "
     "bundle (`sharedbuf_create(..., follow => true)`) and one not, and as a heap table "
     "with a btree primary key and a read-only bundle. {} rounds, the order of the stores "
     "swapped each round; each cell is the median of the per-round ratios, with their "
     "range.".format(mode, int(rows), rounds),
     "",
     "| Measure | Ratio | Goal | Met |",
     "|---|---|---|---|",
     "| Single-row UPDATE TPS, followed table / same table unfollowed (synchronous commit, no folds) | {} | at least 0.7 | {} |".format(
         span("update_ratio_on"), verdict("update_ratio_on", 0.7, at_most=False)),
     "| Same, updates per CPU second of the server backend | {} | — | — |".format(
         span("update_cpu_ratio_on")),
     "| Same, with synchronous_commit off: TPS | {} | — | — |".format(span("update_ratio_off")),
     "| Same, with synchronous_commit off: updates per backend CPU second | {} | — | — |".format(
         span("update_cpu_ratio_off")),
     "| WAL per update, followed / unfollowed (synchronous commit) | {} | — | — |".format(
         span("update_wal_ratio_on")),
     "| UPDATE TPS with the fold threshold at its default, followed / unfollowed (2 rounds, folds: {:.0f}) | {} | — | — |".format(
         one("folds_during_default"), span("update_ratio_default")),
     "| Probe cost under an update load, following / read-only | {} | at most 2 | {} |".format(
         span("probe_follow_ro_ratio"), verdict("probe_follow_ro_ratio", 2.0)),
     "| Probe cost under an update load, following / btree | {} | at most 0.5 | {} |".format(
         span("probe_follow_btree_ratio"), verdict("probe_follow_btree_ratio", 0.5)),
     "| Same, CPU time of the probing backend, following / read-only | {} | — | — |".format(
         span("probe_cpu_follow_ro_ratio")),
     "| Same, CPU time of the probing backend, following / btree | {} | — | — |".format(
         span("probe_cpu_follow_btree_ratio")),
     "| Probe cost with the load stopped (the delta it left), following / read-only | {} | — | — |".format(
         span("probe_follow_ro_ratio_idle")),
     "| Same, following / btree | {} | — | — |".format(span("probe_follow_btree_ratio_idle")),
     "| Freshness: committed update seen by the next statement, same session | {} | all | {} |".format(*fresh("same")),
     "| Same, from another session (a psql pair kept open) | {} | all | {} |".format(*fresh("pair")),
     "| Same, from another session (new connections) | {} | all | {} |".format(*fresh("new")),
     "",
     "The updates ran with `pgbench -M prepared`, 1 client, {} s per table and round, "
     "random ids, the same ids for both tables of a round, and "
     "`sharedbuf.follow_fold_threshold = 0` (medians: {:.0f} TPS unfollowed and {:.0f} "
     "followed with synchronous commit, {:.0f} and {:.0f} without; backend CPU time per "
     "update {:.0f} µs and {:.0f} µs with synchronous commit; WAL per update {:,.0f} and "
     "{:,.0f} bytes); they left {:,.0f} keys "
     "in the delta ({:,.0f} rows, {:.1f} MB with its indexes). With the default threshold "
     "(100,000 rows) the medians were {:.0f} and {:.0f} TPS, and the delta held {:,.0f} keys "
     "after them.".format(
         t, med("update_plain_tps_on"), med("update_follow_tps_on"),
         med("update_plain_tps_off"), med("update_follow_tps_off"),
         med("update_plain_cpu_us_on"), med("update_follow_cpu_us_on"),
         med("update_plain_wal_on"), med("update_follow_wal_on"),
         one("delta_keys_after_updates"), one("delta_rows_after_updates"),
         one("delta_bytes_after_updates") / 1e6,
         med("update_plain_tps_default"), med("update_follow_tps_default"),
         one("delta_keys_after_default")),
     "",
     "Probe cost is the execution time of a nested-loop join of {:,} random keys against "
     "each store (as in the writable-bundles run) while a background pgbench (1 client, "
     "synchronous commit, the fold threshold at its default) updated random rows of the followed table, "
     "{:.0f} updates/s (median), its delta folded before; fb's delta held {:,.0f} keys "
     "(median; {:,.0f} at the last round) when it was probed. Medians: following {:.0f} ms, "
     "read-only {:.0f} ms, btree {:.0f} ms (read-only / btree {:.2f}); CPU time of the "
     "probing backend {:.0f}, {:.0f} and {:.0f} ms. With the load stopped "
     "and {:,.0f} keys in the delta (2 rounds): following {:.0f} ms, read-only {:.0f} ms, "
     "btree {:.0f} ms; the same join with 1,000 probes took {:.0f} ms on the following bundle "
     "and {:.0f} ms on the read-only one (a join probes the delta's indexes key by key until it "
     "has made about as many lookups as the delta has rows per two, and then loads the delta once).".format(
         int(probes), med("load_tps"), med("delta_keys_at_probe"),
         vals["delta_keys_at_probe"][-1],
         med("probe_follow_ms"), med("probe_ro_ms"), med("probe_heap_ms"),
         med("probe_ro_btree_ratio"),
         med("probe_follow_cpu_ms"), med("probe_ro_cpu_ms"), med("probe_heap_cpu_ms"),
         one("delta_keys_after_load"),
         med("probe_follow_ms_idle"), med("probe_ro_ms_idle"), med("probe_heap_ms_idle"),
         med("probe1000_follow_ms_idle"), med("probe1000_ro_ms_idle")),
     "",
     "After the run the bundle {} its query over the table (row count and a sum of row "
     "hashes); it was folded {:.0f} times in all.".format(
         "equalled" if one("final_equal") == 1 else "**did not equal**", one("folds_total")),
     "", END]
block = "\n".join(L)
open(os.path.join(out, "report.md"), "w").write(block + "\n")
if doc != "-":
    from doc_section import write_section
    write_section(doc, START, END, block)
print(block)
PY
if [ "$doc" = "-" ]; then
  log "done; the report is in $out/report.md"
else
  log "done; $doc updated (and $out/report.md)"
fi
