--
-- Operations: ANALYZE, IMPORT FOREIGN SCHEMA, parallel scans, verify,
-- prewarm, rebuilding every bundle.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sharedbuf;

CREATE TABLE ops_src AS
  SELECT g AS id, (g % 50) AS grp, 'name ' || g AS name,
         CASE WHEN g % 10 = 0 THEN NULL ELSE g * 1.5 END::float8 AS score
  FROM generate_series(1, 60000) g;
SELECT rows FROM sharedbuf_create('ops_t', 'SELECT * FROM ops_src', key => 'id');

-- ANALYZE samples rows: statistics for non-key columns
ANALYZE ops_t;
SELECT reltuples FROM pg_class WHERE relname = 'ops_t';
SELECT attname, null_frac = 0 AS no_nulls, null_frac BETWEEN 0.05 AND 0.15 AS tenth_null,
       n_distinct = 50 AS fifty_values
  FROM pg_stats WHERE tablename = 'ops_t' AND attname IN ('grp', 'score') ORDER BY attname;
-- the planner uses them: about 1/50 of the rows for one group
CREATE FUNCTION ops_estimate(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
SELECT ops_estimate('SELECT * FROM ops_t WHERE grp = 7') BETWEEN 900 AND 1500 AS estimate_ok;

-- parallel sequential scans give the same results as serial ones
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT grp, count(*), sum(score) FROM ops_t GROUP BY grp;
CREATE TEMP TABLE ops_par AS SELECT grp, count(*) AS n, sum(score) AS s, sum(id) AS ids FROM ops_t GROUP BY grp;
SELECT count(*), sum(id) FROM ops_t WHERE name LIKE 'name 1%';
-- lookups are never run by workers
EXPLAIN (COSTS OFF) SELECT name FROM ops_t WHERE id = 77;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS mismatches FROM (
  (SELECT grp, count(*) AS n, sum(score) AS s, sum(id) AS ids FROM ops_t GROUP BY grp
   EXCEPT SELECT * FROM ops_par)
  UNION ALL
  (SELECT * FROM ops_par
   EXCEPT SELECT grp, count(*), sum(score), sum(id) FROM ops_t GROUP BY grp)) d;
SELECT count(*), sum(id) FROM ops_t WHERE name LIKE 'name 1%';
RESET max_parallel_workers_per_gather;

-- verify and prewarm
SELECT * FROM sharedbuf_verify('ops_t');
SELECT sharedbuf_prewarm('ops_t') > 0 AS index_pages;
SELECT sharedbuf_prewarm('ops_t', 'all') > sharedbuf_prewarm('ops_t', 'index') AS all_more;
SELECT sharedbuf_prewarm('ops_t', 'everything');  -- error
SET sharedbuf.prewarm = 'index';
SELECT count(*) FROM ops_t WHERE id = 5;
SET sharedbuf.prewarm = 'nonsense';  -- error
RESET sharedbuf.prewarm;
-- no build is running now
SELECT count(*) FROM sharedbuf_builds;

-- IMPORT FOREIGN SCHEMA: one table per bundle, with its key and query
SELECT rows FROM sharedbuf_build('ops_small', 'SELECT g::int8 AS k, g::text AS v, now()::date - g AS d FROM generate_series(1, 10) g', key => 'k');
SELECT rows FROM sharedbuf_build('ops_other', 'SELECT 1 AS one');
CREATE SCHEMA ops_imported;
IMPORT FOREIGN SCHEMA bundles LIMIT TO (ops_small, ops_t) FROM SERVER sharedbuf INTO ops_imported;
\det+ ops_imported.*
\d ops_imported.ops_small
SELECT v FROM ops_imported.ops_small WHERE k = 3;
SELECT count(*) FROM ops_imported.ops_t;
SELECT rows FROM sharedbuf_refresh('ops_imported.ops_small');
DROP SCHEMA ops_imported CASCADE;
CREATE SCHEMA ops_imported;
-- (other tests' bundles may be skipped with warnings: their types are gone)
SET client_min_messages = error;
IMPORT FOREIGN SCHEMA bundles EXCEPT (ops_t, ops_small) FROM SERVER sharedbuf INTO ops_imported;
SET client_min_messages = warning;
SELECT foreign_table_name FROM information_schema.foreign_tables
  WHERE foreign_table_schema = 'ops_imported' AND foreign_table_name LIKE 'ops%' ORDER BY 1;
DROP SCHEMA ops_imported CASCADE;

-- rebuild every bundle described by a table with a stored query
SELECT foreign_table, bundle, rows FROM sharedbuf_rebuild_all() WHERE bundle LIKE 'ops%' ORDER BY bundle;

-- dropping a bundle takes effect at commit
CREATE FOREIGN TABLE ops_small (k int8, v text) SERVER sharedbuf OPTIONS (bundle 'ops_small');
BEGIN;
SELECT sharedbuf_drop('ops_small');
SELECT count(*) FROM ops_small;  -- error
ROLLBACK;
SELECT count(*) FROM ops_small;
SELECT count(*) FROM sharedbuf_bundles WHERE bundle = 'ops_small';
SELECT sharedbuf_drop('ops_small');
SELECT count(*) FROM sharedbuf_bundles WHERE bundle = 'ops_small';
\set VERBOSITY terse
SELECT count(*) FROM ops_small;  -- error
\set VERBOSITY default
SELECT sharedbuf_drop('ops_small');  -- error
SELECT sharedbuf_drop('ops_small', if_exists => true);
SELECT sharedbuf_drop('Bad Name');  -- error

DROP FOREIGN TABLE ops_t, ops_small;
DROP TABLE ops_src;
DROP FUNCTION ops_estimate(text);
SELECT sharedbuf_drop(bundle) FROM sharedbuf_bundles WHERE bundle LIKE 'ops%' ORDER BY bundle;
