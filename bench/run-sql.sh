#!/usr/bin/env bash
#
# run-sql.sh: SQL-level benchmarks of sharedbuf bundles against heap tables
# (btree primary key, hash index) and memcached through pgmemcache.
#
#   bench/run-sql.sh [quick|full]
#
# quick: 1M-row data sets, 200,000 join probes, 5-second pgbench runs
#        (under 5 minutes on an idle 2-vCPU machine).
# full:  1M and 10M rows, 1M join probes, 30-second pgbench runs (about
#        45 minutes).
#
# Installs what it needs (Debian packages), builds and installs the
# extension, starts its own PostgreSQL 15 cluster under bench/out/sql and a
# memcached on 127.0.0.1:11311, runs every comparison, stops both, and
# writes docs/benchmarks.md and docs/img/*.png.  Raw results, logs, plans
# and pgbench latency logs stay in bench/out/sql.  Must run as root (it
# drops the page cache for the cold-cache test).  Not part of CI.

set -euo pipefail

mode=${1:-quick}
case "$mode" in
  quick)
    sizes=(1000000); T=5; TL=5; RUNS=3; MRUNS=3; BUILD_REPS=1; NPROBES=200000
    SHARED_BUFFERS=1GB; MC_MB=2048 ;;
  full)
    sizes=(1000000 10000000); T=30; TL=30; RUNS=5; MRUNS=3; BUILD_REPS=2; NPROBES=1000000
    SHARED_BUFFERS=4GB; MC_MB=6144 ;;
  *) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
# overrides for trying the script out: BENCH_SIZES="100000" BENCH_T=2 BENCH_PROBES=100000
if [ -n "${BENCH_SIZES:-}" ]; then read -r -a sizes <<< "$BENCH_SIZES"; fi
T=${BENCH_T:-$T}; TL=${BENCH_T:-$TL}; PROBES=${BENCH_PROBES:-$NPROBES}
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: run as root (drops the page cache, runs the server as postgres)" >&2
  exit 2
fi

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
sqldir=$bench/sql
out=$bench/out/sql
pgdir=$out/pg
pgdata=$pgdir/data
sock=$pgdir/sock
port=5499
mcport=11311
res=$out/results.tsv
envf=$out/env.tsv

mkdir -p "$out"
: > "$out/log"
log() { echo "[$(date +%T)] $*" | tee -a "$out/log" >&2; }

# ---------------------------------------------------------------- packages
cd "$root"
# shellcheck source=../scripts/setup
source scripts/setup
PACKAGES+=(memcached postgresql-15-pgmemcache gnuplot-nox procps)
log "installing packages, building the extension"
sb_install_packages
sb_build_install
# The run's functions use a private copy of the library just built (with
# its symbols), so that the whole run measures one build even if the
# installed library is replaced meanwhile.
install -d "$out/lib"
cp sharedbuf.so "$out/lib/sharedbuf.so"
lib_md5=$(md5sum "$out/lib/sharedbuf.so" | cut -c1-12)

export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=bench PGOPTIONS="-c client_min_messages=warning"
PGBIN=/usr/lib/postgresql/15/bin
psql_() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
asuser() { runuser -u postgres -- "$@"; }
pgctl() { asuser "$PGBIN/pg_ctl" -D "$pgdata" -l "$pgdir/server.log" -w "$@" >/dev/null; }

mc_pid=""
cleanup() {
  set +e
  if [ -f "$pgdata/postmaster.pid" ]; then pgctl stop -m fast; fi
  if [ -n "$mc_pid" ]; then kill "$mc_pid" 2>/dev/null; wait "$mc_pid" 2>/dev/null; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- servers
if [ -f "$pgdata/postmaster.pid" ]; then pgctl stop -m fast || true; fi
rm -rf "$pgdir"
install -d -o postgres -g postgres "$pgdir" "$sock"
asuser "$PGBIN/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C >/dev/null
cat >> "$pgdata/postgresql.conf" <<EOF
# bench/run-sql.sh
port = $port
listen_addresses = ''
unix_socket_directories = '$sock'
max_connections = 60
shared_buffers = $SHARED_BUFFERS
work_mem = 64MB
maintenance_work_mem = 1GB
jit = off
max_parallel_workers_per_gather = 0
autovacuum = off
max_wal_size = 32GB
checkpoint_timeout = 1h
shared_preload_libraries = 'pgmemcache,pg_stat_statements'
pgmemcache.default_servers = '127.0.0.1:$mcport'
EOF
pgctl start
psql_ -d postgres -c "CREATE DATABASE bench"
psql_ -f "$sqldir/setup.sql"
psql_ -c "UPDATE pg_proc SET probin = '$out/lib/sharedbuf' WHERE probin = '\$libdir/sharedbuf'"

memcached -l 127.0.0.1 -p "$mcport" -m "$MC_MB" -u memcache -t 2 &
mc_pid=$!
sleep 1

# ---------------------------------------------------------------- environment
pgbin_ver=$("$PGBIN/postgres" --version)
{
  printf 'mode\t%s\n' "$mode"
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'commit\t%s\n' "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD -- src sharedbuf--*.sql 2>/dev/null || echo ' with uncommitted changes to src/'), library md5 $lib_md5"
  printf 'cpu\t%s\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
  printf 'cores\t%s\n' "$(nproc)"
  printf 'memory\t%s\n' "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'os\t%s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
  printf 'postgresql\t%s\n' "$(psql_ -c 'SELECT version()')"
  printf 'memcached\t%s, -m %s MB, -t 2, loopback\n' "$(memcached -V)" "$MC_MB"
  printf 'pgmemcache\t%s\n' "$(dpkg-query -W -f='${Version}' postgresql-15-pgmemcache)"
  printf 'read_ahead_kb\t%s\n' "$(cat /sys/class/block/"$(basename "$(df --output=source "$out" | tail -n 1)")"/queue/read_ahead_kb 2>/dev/null || echo unknown)"
  printf 'pgbench_T\t%s\n' "$T"
  printf 'probes\t%s\n' "$PROBES"
  printf 'latency_T\t%s\n' "$TL"
  printf 'thp\t%s\n' "$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)"
  psql_ -F $'\t' -c "SELECT 'setting', name || ' = ' || setting || coalesce(' ' || unit, '')
                       FROM pg_settings
                      WHERE source NOT IN ('default', 'override') AND name NOT LIKE 'lc\_%'
                        AND name NOT IN ('port', 'unix_socket_directories', 'listen_addresses',
                                         'DateStyle', 'TimeZone', 'log_timezone',
                                         'default_text_search_config', 'dynamic_shared_memory_type')
                      ORDER BY name"
  psql_ -F $'\t' -c "SELECT 'setting', name || ' = ' || setting FROM pg_settings
                      WHERE name IN ('lc_collate', 'max_parallel_maintenance_workers', 'wal_level',
                                     'synchronous_commit', 'fsync', 'huge_pages', 'random_page_cost')
                      ORDER BY name"
} > "$envf"
log "environment: $(grep -E '^(cpu|cores|memory)' "$envf" | cut -f2 | paste -sd ' ')"

: > "$res"
# rec SIZE METRIC KEY STORE VARIANT VALUE...
rec() { local IFS=$'\t'; echo "$*" >> "$res"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'; }

JOINSET="SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;"

# Time a build statement (from the client, commit included); echo seconds.
timed() {
  local t0
  psql_ -c "CHECKPOINT"
  t0=$(now)
  psql_ -c "$1" >/dev/null
  since "$t0"
}

# A key no probe has, as SQL.
miss() { if [ "$1" = int ]; then echo "(-1)::int8"; else echo "''::text"; fi; }

build_all() {  # SIZE KT
  local size=$1 kt=$2 rep s reps=$BUILD_REPS
  [ "$size" -gt 1000000 ] && reps=1
  for ((rep = 1; rep <= reps; rep++)); do
    psql_ -c "DROP TABLE IF EXISTS heap_bt_$kt, heap_h_$kt; DROP FOREIGN TABLE IF EXISTS sb_$kt"
    s=$(timed "BEGIN; CREATE TABLE heap_bt_$kt AS SELECT * FROM src_$kt;
               ALTER TABLE heap_bt_$kt ADD PRIMARY KEY (k); COMMIT;")
    rec "$size" build "$kt" heap_bt total "$s"
    s=$(timed "BEGIN; CREATE TABLE heap_h_$kt AS SELECT * FROM src_$kt;
               CREATE INDEX heap_h_${kt}_k ON heap_h_$kt USING hash (k); COMMIT;")
    rec "$size" build "$kt" heap_h total "$s"
    s=$(timed "SELECT * FROM sharedbuf_create('sb_$kt', 'SELECT * FROM src_$kt', key => 'k')")
    rec "$size" build "$kt" sb total "$s"
  done
  # the same builds under the default maintenance_work_mem
  psql_ -c "DROP TABLE IF EXISTS mwm_bt; DROP FOREIGN TABLE IF EXISTS mwm_sb"
  s=$(timed "SET maintenance_work_mem = '64MB'; BEGIN; CREATE TABLE mwm_bt AS SELECT * FROM src_$kt;
             ALTER TABLE mwm_bt ADD PRIMARY KEY (k); COMMIT;")
  rec "$size" build "$kt" heap_bt mwm64 "$s"
  s=$(timed "SET maintenance_work_mem = '64MB';
             SELECT * FROM sharedbuf_create('mwm_sb', 'SELECT * FROM src_$kt', key => 'k')")
  rec "$size" build "$kt" sb mwm64 "$s"
  psql_ -c "DROP TABLE mwm_bt; DROP FOREIGN TABLE mwm_sb"
  # the CTAS alone, to split the heap builds
  psql_ -c "DROP TABLE IF EXISTS ctas_only"
  s=$(timed "CREATE TABLE ctas_only AS SELECT * FROM src_$kt")
  rec "$size" build "$kt" ctas total "$s"
  psql_ -c "DROP TABLE ctas_only"
  # The empty inner sides.  (The planner scans the empty bundle instead of
  # looking it up: a rescanned sequential scan of no rows.)
  local one="SELECT * FROM src_$kt WHERE false"
  psql_ -c "DROP TABLE IF EXISTS heap_bt_${kt}_e, heap_h_${kt}_e; DROP FOREIGN TABLE IF EXISTS sb_${kt}_e;
            CREATE TABLE heap_bt_${kt}_e AS $one;
            ALTER TABLE heap_bt_${kt}_e ADD PRIMARY KEY (k);
            CREATE TABLE heap_h_${kt}_e AS $one;
            CREATE INDEX ON heap_h_${kt}_e USING hash (k);" >/dev/null
  psql_ -c "SELECT * FROM sharedbuf_create('sb_${kt}_e', \$q\$$one\$q\$, key => 'k')" >/dev/null
  psql_ -c "VACUUM ANALYZE heap_bt_$kt" -c "VACUUM ANALYZE heap_h_$kt"
}

sizes_of() {  # SIZE KT
  local size=$1 kt=$2
  psql_ -F $'\t' -c "
    SELECT '$size', 'size', '$kt', 'heap_bt', 'heap', pg_relation_size('heap_bt_$kt')
    UNION ALL SELECT '$size', 'size', '$kt', 'heap_bt', 'index', pg_indexes_size('heap_bt_$kt')
    UNION ALL SELECT '$size', 'size', '$kt', 'heap_bt', 'total', pg_total_relation_size('heap_bt_$kt')
    UNION ALL SELECT '$size', 'size', '$kt', 'heap_h', 'index', pg_indexes_size('heap_h_$kt')
    UNION ALL SELECT '$size', 'size', '$kt', 'heap_h', 'total', pg_total_relation_size('heap_h_$kt')
    UNION ALL SELECT '$size', 'size', '$kt', 'sb', 'total', bytes FROM sharedbuf_info('sb_$kt')
    UNION ALL SELECT '$size', 'size', '$kt', 'sb', 'index', index_bytes FROM sharedbuf_info('sb_$kt')" >> "$res"
}

mc_load() {  # SIZE KT
  local size=$1 kt=$2 r
  r=$(psql_ -c "SELECT 'set ' || k || ' 0 0 ' || octet_length(v) || ' noreply' || E'\r\n' || v || E'\r'
                  FROM (SELECT k::text AS k, t || '|' || i || '|' || f AS v FROM src_$kt) s" |
      python3 "$bench/mc_load.py" "$mcport")
  log "memcached after loading $kt: $r"
  rec "$size" memcached_stats "$kt" memcached "$r"
  # every probe must hit
  r=$(psql_ -c "SELECT count(memcache_get(k::text)) FROM (SELECT k FROM probes_$kt LIMIT 1000) p")
  rec "$size" memcached_hits "$kt" memcached "$r/1000"
}

# EXPLAIN every join statement; check the plan shape.
check_plans() {  # SIZE
  local size=$1 label q plan ok
  while IFS=$'\t' read -r label q; do
    plan=$(psql_ -c "$JOINSET EXPLAIN (COSTS OFF) $q")
    printf '== %s (%s rows)\n%s\n%s\n\n' "$label" "$size" "$q" "$plan" >> "$out/plans.txt"
    ok=no
    case "$label" in
      *_sb_empty) grep -q 'Nested Loop' <<< "$plan" && grep -q 'Foreign Scan' <<< "$plan" &&
                    ok=yes ;;
      *_sb) grep -q 'Nested Loop' <<< "$plan" && grep -q 'Foreign Scan' <<< "$plan" &&
              grep -q 'Lookup Keys' <<< "$plan" && ok=yes ;;
      *_outer) ok=yes ;;
      *) grep -q 'Nested Loop' <<< "$plan" && grep -q 'Index Scan' <<< "$plan" && ok=yes ;;
    esac
    rec "$size" plan "$label" "$ok"
    [ "$ok" = yes ] || log "WARNING: unexpected plan for $label"
  done < <(psql_ -F $'\t' -c "SELECT label, q FROM bench_queries WHERE label LIKE 'nl\_%' ORDER BY label")
  psql_ -c "$JOINSET EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
            SELECT count(*), sum(x.i) FROM probes_int p JOIN sb_int x ON x.k = p.k" > "$out/explain-analyze-$size.txt"
}

rounds() {  # SIZE PATTERN RUNS
  psql_ -F $'\t' -c "$JOINSET SELECT '$1', 'rounds', label, run, ms FROM bench_rounds('$2', $3)" >> "$res"
}

pgb() {  # SIZE NAME TEMPLATE TABLE N CLIENTS [extra pgbench args]
  local size=$1 name=$2 tmpl=$3 tbl=$4 n=$5 c=$6 script tps
  shift 6
  script=$out/pgbench-$name.sql
  sed -e "s/@TABLE@/$tbl/g" -e "s/@N@/$n/g" "$sqldir/$tmpl" > "$script"
  tps=$("$PGBIN/pgbench" -n -M prepared -T "$T" -c "$c" -j "$c" -f "$script" "$@" 2>&1 |
        tee "$out/pgbench-$name-$c.out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
  echo "$tps"
}

tps_all() {  # SIZE
  local size=$1 n=$1 kt st tmpl tbl c tps
  for kt in int text; do
    for st in heap_bt heap_h sb memcached; do
      if [ $st = memcached ]; then tmpl=memcached-$kt.sql; tbl=-; else tmpl=lookup-$kt.sql; tbl=${st}_$kt; fi
      for c in 1 2; do
        tps=$(pgb "$size" "$kt-$st" "$tmpl" "$tbl" "$n" "$c")
        rec "$size" tps "$kt" "$st" "$c" "$tps"
        log "tps $size $kt $st c=$c: $tps"
      done
    done
  done
}

accounts() {  # SIZE
  local size=$1 scale=$(($1 / 100000)) s c tps
  log "pgbench -i -s $scale"
  "$PGBIN/pgbench" -i -q -s "$scale" > "$out/pgbench-init.out" 2>&1
  psql_ -c "DROP FOREIGN TABLE IF EXISTS sb_accounts; DROP TABLE IF EXISTS acc_copy"
  s=$(timed "BEGIN; CREATE TABLE acc_copy AS SELECT * FROM pgbench_accounts;
             ALTER TABLE acc_copy ADD PRIMARY KEY (aid); COMMIT;")
  rec "$size" build accounts heap_bt total "$s"
  psql_ -c "DROP TABLE acc_copy"
  s=$(timed "SELECT * FROM sharedbuf_create('sb_accounts', 'SELECT * FROM pgbench_accounts', key => 'aid')")
  rec "$size" build accounts sb total "$s"
  psql_ -F $'\t' -c "
    SELECT '$size', 'size', 'accounts', 'heap_bt', 'heap', pg_relation_size('pgbench_accounts')
    UNION ALL SELECT '$size', 'size', 'accounts', 'heap_bt', 'index', pg_indexes_size('pgbench_accounts')
    UNION ALL SELECT '$size', 'size', 'accounts', 'heap_bt', 'total', pg_total_relation_size('pgbench_accounts')
    UNION ALL SELECT '$size', 'size', 'accounts', 'sb', 'total', bytes FROM sharedbuf_info('sb_accounts')
    UNION ALL SELECT '$size', 'size', 'accounts', 'sb', 'index', index_bytes FROM sharedbuf_info('sb_accounts')" >> "$res"
  for st in heap_bt sb; do
    tbl=pgbench_accounts; [ $st = sb ] && tbl=sb_accounts
    for c in 1 2; do
      tps=$(pgb "$size" "accounts-$st" lookup-accounts.sql "$tbl" "$((scale * 100000))" "$c")
      rec "$size" tps accounts "$st" "$c" "$tps"
      log "tps $size accounts $st c=$c: $tps"
    done
  done
  psql_ -c "DROP FOREIGN TABLE sb_accounts; DROP TABLE pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history"
}

# 20 backends each run a statement, then sleep holding their connection;
# read their /proc/PID/smaps_rollup.
memory() {  # SIZE NAME STATEMENT
  local size=$1 name=$2 stmt=$3 i n pids=()
  for i in $(seq 20); do
    PGAPPNAME=bench_mem "$PGBIN/psql" -X -q -c "$stmt" -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
    pids+=($!)
  done
  for i in $(seq 1200); do
    n=$(psql_ -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench_mem' AND wait_event = 'PgSleep'")
    [ "$n" -eq 20 ] && break
    sleep 0.5
  done
  psql_ -F $'\t' -c "SELECT '$size', 'memory', '$name', count(*), sum(m.rss), sum(m.pss), sum(m.private), sum(m.anonymous)
                       FROM pg_stat_activity a, bench_smaps(a.pid) m
                      WHERE a.application_name = 'bench_mem'" >> "$res"
  psql_ -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'bench_mem'" >/dev/null
  wait "${pids[@]}" 2>/dev/null || true
}

# pgbench with per-transaction latencies; records p50, p99, p99.9, max (us).
latency() {  # SIZE NAME TEMPLATE TABLE N
  local size=$1 name=$2 prefix=$out/lat-$1-$2
  rm -f "$prefix".*
  T=$TL pgb "$size" "lat-$name" "$3" "$4" "$5" 1 -l --log-prefix="$prefix" >/dev/null
  cat "$prefix".* | awk '{print $3}' | sort -n | awk -v s="$size" -v n="$name" '
    { v[NR] = $1 }
    END { printf "%s\tlatency\t%s\t%d\t%d\t%d\t%d\t%d\n", s, n, NR, v[int(NR * 0.50)],
          v[int(NR * 0.99)], v[int(NR * 0.999)], v[NR] }' >> "$res"
  rm -f "$prefix".*
}

refresh_loop() {  # STOPFILE COUNTFILE
  local k=0
  while [ ! -e "$1" ] && [ $k -lt 100000 ]; do
    psql_ -c "SELECT sharedbuf_refresh('sb_int')" >/dev/null
    k=$((k + 1))
  done
  echo $k > "$2"
}

latency_all() {  # SIZE
  local size=$1 n=$1 name tbl stop=$out/refresh.stop cnt=$out/refresh.count rpid
  latency "$size" sb-idle lookup-int.sql sb_int "$n"
  latency "$size" heap_bt-idle lookup-int.sql heap_bt_int "$n"
  for name in sb heap_bt; do
    tbl=${name}_int
    rm -f "$stop" "$cnt"
    refresh_loop "$stop" "$cnt" &
    rpid=$!
    sleep 1
    latency "$size" "$name-refresh" lookup-int.sql "$tbl" "$n"
    touch "$stop"
    wait "$rpid"
    rec "$size" refreshes "$name" "$(cat "$cnt")" "$TL"
    log "latency $size $name during refresh: $(cat "$cnt") refreshes"
  done
}

# Cold cache: restart (empties shared_buffers), drop the page cache, then
# in a fresh backend, after a warm-up on an empty table of the same kind,
# count what one miss (which opens the store) and 1000 random lookups read.
# The store "sb_idx" is the bundle with its index read in first by
# sharedbuf_prewarm(), as sharedbuf.prewarm = index does when a backend
# maps it; only the lookups after that are counted.
cold() {  # SIZE KT STORE
  local size=$1 kt=$2 st=$3 tbl=${3%_idx} first
  pgctl stop -m fast
  sync
  echo 3 > /proc/sys/vm/drop_caches
  pgctl start
  if [ "$st" = sb_idx ]; then
    first=NULL
  else
    first="\$q\$SELECT count(*) FROM ${tbl}_$kt WHERE k = $(miss "$kt")\$q\$"
  fi
  psql_ -F $'\t' -c "SELECT * FROM bench_cold('${tbl}_${kt}_e', '$kt', $size, 5, NULL)" \
    -c "SELECT sharedbuf_prewarm('${tbl}_$kt', 'index') WHERE '$st' = 'sb_idx'" \
    -c "SELECT '$size', 'cold', '$kt', '$st', c.*
          FROM bench_cold('${tbl}_$kt', '$kt', $size, 1000, $first) c" |
    grep -P '^\d+\tcold' >> "$res"
}

# ---------------------------------------------------------------- run
: > "$out/plans.txt"
for size in "${sizes[@]}"; do
  log "== $size rows: data"
  psql_ -v n="$size" -v probes="$PROBES" -f "$sqldir/data.sql"
  psql_ -f "$sqldir/queries.sql"
  for kt in int text; do
    log "builds $kt (x$BUILD_REPS)"
    build_all "$size" "$kt"
    sizes_of "$size" "$kt"
    log "memcached load $kt"
    mc_load "$size" "$kt"
  done
  check_plans "$size"
  for kt in int text; do
    log "nested loop joins $kt"
    rounds "$size" "nl\\_${kt}\\_%" "$RUNS"
    rounds "$size" "nlm\\_${kt}\\_%" "$MRUNS"
    log "= ANY $kt"
    rounds "$size" "any\\_${kt}\\_%" "$RUNS"
    rounds "$size" "anym\\_${kt}\\_%" "$MRUNS"
  done
  log "pgbench lookups"
  tps_all "$size"
  accounts "$size"
  log "memory"
  memory "$size" idle "SELECT 1"
  memory "$size" sb "SELECT count(*), sum(i), sum(length(t)) FROM sb_int"
  memory "$size" heap "SELECT count(*), sum(i), sum(length(t)) FROM heap_bt_int"
  log "latency during refresh"
  latency_all "$size"
  log "cold cache"
  for kt in int text; do
    for st in sb sb_idx heap_bt; do cold "$size" "$kt" "$st"; done
  done
  psql_ -c "TRUNCATE bench_queries"
  # memcached keeps the keys of the next size apart by value only: flush
  psql_ -c "SELECT memcache_flush_all()" >/dev/null
done

pgctl stop -m fast
kill "$mc_pid"; wait "$mc_pid" 2>/dev/null || true
mc_pid=""
log "report"
python3 "$bench/sql_report.py" "$out" "$root/docs"
log "done: docs/benchmarks.md, docs/img/"
