#!/usr/bin/env bash
#
# profile-sql.sh: instruction counts (callgrind) of fixed SQL workloads, to
# explain the results of run-sql.sh.
#
#   bench/profile-sql.sh [PROBES]
#
# Uses the cluster bench/run-sql.sh leaves in bench/out/sql/pg (stopped):
# runs a single-user backend under valgrind --tool=callgrind for each
# workload and prints the inclusive instruction counts of the functions
# that matter, per probe (per outer row, per key or per statement).
# Workloads (PROBES defaults to 100000):
#   join-<store>-<kt>: the nested-loop join of run-sql.sh over the first
#                      PROBES probe keys;
#   stmt-<store>:      2000 executions of a prepared single-key lookup;
#   build-<store>:     the builds of the int8 data set (first 100000 rows).
# The first line of each workload is PortalRun's inclusive count (the
# statements' execution, not backend start-up, parsing or planning).
# Output, with summary.txt, in bench/out/sql/profile/.

set -euo pipefail
probes=${1:-100000}
bench=$(cd "$(dirname "$0")" && pwd)
out=$bench/out/sql
pgdata=$out/pg/data
prof=$out/profile
PGBIN=/usr/lib/postgresql/15/bin
if [ ! -f "$pgdata/PG_VERSION" ]; then
  echo "$0: run bench/run-sql.sh first" >&2
  exit 2
fi
if [ -f "$pgdata/postmaster.pid" ]; then
  echo "$0: the benchmark cluster is running; stop it first" >&2
  exit 2
fi
command -v valgrind >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}
install -d -o postgres -g postgres "$prof"

single() {  # a single-user backend reading SQL from stdin
  runuser -u postgres -- "$@" "$PGBIN/postgres" --single -D "$pgdata" \
    -c shared_preload_libraries= -c jit=off -c shared_buffers=1GB bench
}

# run NAME: feed $prof/NAME.sql to a single-user backend under callgrind.
run() {
  local name=$1
  single valgrind --tool=callgrind --callgrind-out-file="$prof/$name.cg" \
    < "$prof/$name.sql" > "$prof/$name.log" 2>&1
  callgrind_annotate --inclusive=yes "$prof/$name.cg" 2>/dev/null > "$prof/$name.txt"
}

# Inclusive Ir of a few functions, divided by N.
report() {
  local name=$1 n=$2
  shift 2
  local total
  total=$({ grep -E " [^ ]*:PortalRun( |$)" "$prof/$name.txt" || echo 0; } | head -n 1 |
          awk '{ gsub(",", "", $1); print $1 }')
  printf '%-20s PortalRun %12.0f Ir, %8.0f Ir per unit (%d units)\n' "$name" "$total" \
    "$(awk -v t="$total" -v n="$n" 'BEGIN { print t / n }')" "$n"
  for f in "$@"; do
    { grep -E " [^ ]*:$f( |$)" "$prof/$name.txt" || true; } | head -n 1 |
      awk -v f="$f" -v n="$n" '{ gsub(",", "", $1); printf "    %-36s %10.0f Ir per unit\n", f, $1 / n }'
  done
}

# Inputs, made without valgrind.
{
  for kt in int text; do
    echo "DROP TABLE IF EXISTS prof_p_$kt;"
    echo "CREATE TABLE prof_p_$kt AS SELECT k FROM probes_$kt LIMIT $probes;"
  done
  echo "DROP TABLE IF EXISTS prof_s;"
  echo "CREATE TABLE prof_s AS SELECT * FROM src_int LIMIT 100000;"
} | single > "$prof/setup.log" 2>&1

SET="SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;"
for kt in int text; do
  for st in sb heap_bt; do
    {
      echo "$SET"
      echo "SELECT count(*), sum(x.i) FROM prof_p_$kt p JOIN ${st}_$kt x ON x.k = p.k;"
    } > "$prof/join-$st-$kt.sql"
    run "join-$st-$kt"
  done
done
for st in sb heap_bt; do
  {
    echo "PREPARE q(int8) AS SELECT k, t, i, f FROM ${st}_int WHERE k = \$1;"
    for i in $(seq 1 2000); do echo "EXECUTE q($(( (i * 7919) % 1000000 + 1 )));"; done
  } > "$prof/stmt-$st.sql"
  run "stmt-$st"
done
echo "SELECT * FROM sharedbuf_build('prof_b', 'SELECT * FROM prof_s', key => 'k');" \
  > "$prof/build-sb.sql"
{
  echo "DROP TABLE IF EXISTS prof_h;"
  echo "CREATE TABLE prof_h AS SELECT * FROM prof_s;"
  echo "ALTER TABLE prof_h ADD PRIMARY KEY (k);"
} > "$prof/build-heap_bt.sql"
chown postgres "$prof"/*.sql
run build-sb
run build-heap_bt

{
for kt in int text; do
  report "join-sb-$kt" "$probes" ExecScan heap_getnextslot ExecReScan sbReScanForeignScan \
    sbIterateForeignScan start_lookups build_eq_probes make_probe sb_key_hash \
    sb_lookup_start sb_lookup_next fill_slot MemoryContextReset malloc free \
    __memset_avx2_unaligned_erms
  report "join-heap_bt-$kt" "$probes" ExecScan heap_getnextslot ExecReScan index_rescan \
    index_getnext_slot btgettuple _bt_first index_fetch_heap ReadBufferExtended \
    ReleaseAndReadBuffer
done
for st in sb heap_bt; do
  report "stmt-$st" 2000 PortalRun standard_ExecutorStart ExecInitNode standard_ExecutorRun \
    standard_ExecutorEnd sbBeginForeignScan SbBundleColumnFor SbDescribeType SbQualifiedTypeName \
    SbColumnName SbPinBundle sbIterateForeignScan sbEndForeignScan MemoryContextDelete
done
report build-sb 100000 sharedbuf_build SbBuildBundle build_receive SbStoreDatum \
  sb_writer_set_varlena sb_dedup_find sb_writer_end_row sb_writer_finish
report build-heap_bt 100000 ExecCreateTableAs DefineIndex btbuild
} | tee "$prof/summary.txt"
