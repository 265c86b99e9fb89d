#!/usr/bin/env bash
# On demand: build a bundle of ROWS rows (100 million by default) from SQL
# on a throwaway cluster, and report the build's time, the backend's peak
# memory, the file's size and a few lookups.  Needs about 6 GB of disk per
# 100 million rows in the cluster's directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup
ROWS="${1:-100000000}"
MEM="${2:-256MB}"

sb_install_packages
sb_build_install
mkdir -p bench/out
cat > bench/out/big-build.sql <<SQL
\\set ON_ERROR_STOP 1
SET maintenance_work_mem = '$MEM';
CREATE EXTENSION sharedbuf;
SELECT pg_backend_pid() AS pid \\gset
\\echo backend pid :pid
\\timing on
SELECT rows, bytes, distinct_keys, round(seconds::numeric, 1) AS seconds
  FROM sharedbuf_build('big', 'SELECT g::int8 AS id, (g % 1000)::int4 AS grp, md5(g::text) AS v FROM generate_series(1, $ROWS) g', key => 'id');
\\timing off
SELECT (regexp_match(pg_read_file('/proc/' || :pid || '/status'), 'VmHWM:\\s+(\\d+) kB'))[1]::int8 / 1024 AS peak_memory_mb;
SELECT rows, pg_size_pretty(bytes) AS size, index_bytes::float8 / rows AS index_bytes_per_row
  FROM sharedbuf_list() WHERE bundle = 'big';
CREATE FOREIGN TABLE big (id int8, grp int4, v text) SERVER sharedbuf OPTIONS (bundle 'big');
SELECT * FROM big WHERE id IN (1, $ROWS / 2, $ROWS);
SQL
echo "== building a bundle of $ROWS rows with maintenance_work_mem = $MEM"
pg_virtualenv -t psql -X -f bench/out/big-build.sql
