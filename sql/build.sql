--
-- Building bundles from queries: sharedbuf_build, sharedbuf_create,
-- sharedbuf_refresh, the summary they return, and their errors.
--
CREATE EXTENSION IF NOT EXISTS sharedbuf;
SET client_min_messages = warning;

-- For the later tests: EXPLAIN ANALYZE without what differs between
-- PostgreSQL majors: buffer counts are left out (18 shows them by
-- default), and the rows a node returned per loop are rounded to whole
-- rows (18 gives two decimals)
CREATE FUNCTION regress_explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
  r text[];
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    r := regexp_match(line, 'actual rows=([0-9.]+)');
    IF r IS NOT NULL THEN
      line := replace(line, 'actual rows=' || r[1], 'actual rows=' || round(r[1]::numeric));
    END IF;
    RETURN NEXT line;
  END LOOP;
END $$;

CREATE TABLE build_src AS
  SELECT g AS id, 'name ' || g AS name, (g % 10)::int4 AS grp
  FROM generate_series(1, 1000) g;

-- a bundle without a table, then a table over it
SELECT bundle, rows, distinct_keys FROM sharedbuf_build('build_plain', 'SELECT * FROM build_src', key => 'id');
CREATE FOREIGN TABLE build_plain (id int4, name text, grp int4)
  SERVER sharedbuf OPTIONS (bundle 'build_plain');
SELECT * FROM build_plain WHERE id = 7;
SELECT count(*), sum(id) FROM build_plain;

-- create: bundle and table in one call; the query and key are stored
SELECT bundle, rows, distinct_keys, dedup_saved > 0 AS deduped
  FROM sharedbuf_create('build_t', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src', key => 'id');
\d build_t
SELECT generation, rows, query, key, columns, approximate FROM sharedbuf_info('build_t');

-- bundles are format 5.0 when a column is stored in a compact encoding
-- (sharedbuf.compact, on by default), else 3.0 (a line index)
SELECT format_version FROM sharedbuf_info('build_t');
SET sharedbuf.compact = off;
SELECT rows FROM sharedbuf_create('build_full', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src', key => 'id');
SELECT format_version, (SELECT bytes FROM sharedbuf_info('build_t')) < bytes AS compact_smaller
  FROM sharedbuf_info('build_full');
RESET sharedbuf.compact;
SELECT count(*) FROM (TABLE build_t EXCEPT TABLE build_full) d;
DROP FOREIGN TABLE build_full;

-- short values go inside the row slot unless inline_limit is 0: every
-- slot has room for one, so values that are often NULL take more space
-- inline than in the heap
CREATE TABLE build_sparse AS
  SELECT g AS id, CASE WHEN g % 2 = 0 THEN md5(g::text) END AS name
  FROM generate_series(1, 20000) g;
SELECT rows FROM sharedbuf_build('build_inline', 'SELECT * FROM build_sparse', key => 'id');
CREATE FOREIGN TABLE build_inline (id int4, name text)
  SERVER sharedbuf OPTIONS (bundle 'build_inline');
SET sharedbuf.inline_limit = 0;
SELECT rows FROM sharedbuf_build('build_heap', 'SELECT * FROM build_sparse', key => 'id');
CREATE FOREIGN TABLE build_heap (id int4, name text)
  SERVER sharedbuf OPTIONS (bundle 'build_heap');
SELECT (SELECT bytes FROM sharedbuf_info('build_inline')) -
       (SELECT bytes FROM sharedbuf_info('build_heap')) > 300000 AS inline_larger;
SELECT * FROM build_heap WHERE id IN (7, 10) ORDER BY id;
RESET sharedbuf.inline_limit;
-- the limit's range; a value outside it is refused (only the error's code
-- is shown: how the message gives the range differs between majors)
SELECT min_val, max_val, unit FROM pg_settings WHERE name = 'sharedbuf.inline_limit';
\set VERBOSITY sqlstate
SET sharedbuf.inline_limit = 5000;
\set VERBOSITY default

-- refresh with the stored query, then with a new one (which is stored)
INSERT INTO build_src VALUES (1001, 'name 1001', 1);
SELECT rows FROM sharedbuf_refresh('build_t');
SELECT generation, rows FROM sharedbuf_info('build_t');
SELECT rows FROM sharedbuf_refresh('build_t', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src WHERE id <= 500');
SELECT generation, rows, query FROM sharedbuf_info('build_t');
SELECT count(*) FROM build_t;

-- a transaction sees its own refresh; ROLLBACK keeps the old bundle
BEGIN;
SELECT rows FROM sharedbuf_refresh('build_t', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src WHERE id <= 10');
SELECT count(*) FROM build_t;
SELECT name FROM build_t WHERE id = 10;
SELECT count(*) FROM build_t WHERE id = 11;
ROLLBACK;
SELECT count(*), generation FROM build_t, sharedbuf_info('build_t') GROUP BY generation;
SELECT query FROM sharedbuf_info('build_t');

-- a savepoint rolled back discards its build; a released one keeps it
BEGIN;
SAVEPOINT a;
SELECT rows FROM sharedbuf_refresh('build_t', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src WHERE id <= 20');
ROLLBACK TO SAVEPOINT a;
SELECT count(*) FROM build_t;
SAVEPOINT b;
SELECT rows FROM sharedbuf_refresh('build_t', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src WHERE id <= 30');
RELEASE SAVEPOINT b;
COMMIT;
SELECT count(*) FROM build_t;

-- two refreshes in one transaction: the last one wins
BEGIN;
SELECT rows FROM sharedbuf_refresh('build_t', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src WHERE id <= 40');
SELECT rows FROM sharedbuf_refresh('build_t', 'SELECT id, name, grp, grp::text AS grp_text FROM build_src WHERE id <= 50');
COMMIT;
SELECT count(*) FROM build_t;

-- no temporary files are left behind
SELECT count(*) AS bundles, bool_and(status = 'ok') AS all_ok
  FROM sharedbuf_bundles WHERE bundle LIKE 'build%';
SELECT count(*) AS temp_files
  FROM pg_ls_dir(current_setting('data_directory') || '/sharedbuf/' ||
                 (SELECT oid FROM pg_database WHERE datname = current_database())) f
  WHERE f LIKE '.%';

-- a bundle without a key: scans only
SELECT rows, distinct_keys FROM sharedbuf_build('build_nokey', 'SELECT id FROM build_src');
CREATE FOREIGN TABLE build_nokey (id int4) SERVER sharedbuf OPTIONS (bundle 'build_nokey');
SELECT count(*) FROM build_nokey WHERE id = 5;
EXPLAIN (COSTS OFF) SELECT * FROM build_nokey WHERE id = 5;

-- composite keys and approximate bundles
SELECT rows, distinct_keys FROM sharedbuf_create('build_comp',
  'SELECT grp, id, name FROM build_src', key => 'grp, id');
SELECT * FROM build_comp WHERE grp = 3 AND id = 13;
SELECT * FROM build_comp WHERE grp = 4 AND id = 13;
SELECT rows FROM sharedbuf_create('build_approx', 'SELECT id, name FROM build_src',
  key => 'id', approximate => true);
SELECT * FROM build_approx WHERE id = 42;
SELECT count(*), count(id) FROM build_approx;

-- 1600 columns, the most a table can have
SELECT rows FROM sharedbuf_create('build_wide',
  'SELECT ' || (SELECT string_agg(format('%s AS c%s', g, g), ', ') FROM generate_series(1, 1600) g),
  key => 'c1');
SELECT c1, c800, c1600 FROM build_wide WHERE c1 = 1;
SELECT columns FROM sharedbuf_info('build_wide');
DROP FOREIGN TABLE build_wide;

-- an empty result builds an empty bundle
SELECT rows FROM sharedbuf_create('build_empty', 'SELECT id, name FROM build_src WHERE false', key => 'id');
SELECT count(*) FROM build_empty;
SELECT * FROM build_empty WHERE id = 1;

-- errors
SELECT * FROM sharedbuf_build('Bad-Name', 'SELECT 1 AS x');  -- error
SELECT * FROM sharedbuf_build('../escape', 'SELECT 1 AS x');  -- error
SELECT * FROM sharedbuf_build(repeat('a', 64), 'SELECT 1 AS x');  -- error
SELECT * FROM sharedbuf_build(NULL, 'SELECT 1 AS x');  -- error
SELECT * FROM sharedbuf_build('build_err', NULL);  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT 1 AS x', key => 'y');  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT 1 AS x', key => 'x, x');  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT 1 AS x', key => '');  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT 1 AS x, 2 AS x');  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT 1 AS x, 2 AS y', approximate => true);  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT 1 AS x; SELECT 2 AS x');  -- error
SELECT * FROM sharedbuf_build('build_err', 'CREATE TABLE build_nope (a int)');  -- error
SELECT * FROM sharedbuf_build('build_err', 'DELETE FROM build_src RETURNING id');  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT * FROM no_such_table');  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT 1/0 AS x');  -- error
SELECT * FROM sharedbuf_build('build_err', 'SELECT');  -- error
SELECT * FROM sharedbuf_create('build_t', 'SELECT 1 AS x');  -- error: table exists
SELECT * FROM sharedbuf_create('build_x', 'SELECT 1 AS x', server => 'no_server');  -- error
SELECT * FROM sharedbuf_refresh('build_src');  -- error: not a foreign table
SELECT * FROM sharedbuf_refresh('build_plain');  -- error: no stored query
SELECT * FROM sharedbuf_refresh('build_t', 'SELECT id FROM build_src');  -- error: table columns missing
SELECT * FROM sharedbuf_refresh('build_t', 'SELECT id::int8, name, grp, grp::text AS grp_text FROM build_src');  -- error: type changed
SELECT count(*) FROM build_t;
SELECT count(*) AS bundles_named_build_err FROM sharedbuf_bundles WHERE bundle = 'build_err';

-- a failed build in a transaction leaves the old bundle
BEGIN;
SELECT * FROM sharedbuf_refresh('build_t', 'SELECT id, name, grp, (1/(id - 7))::text AS grp_text FROM build_src');  -- error
ROLLBACK;
SELECT count(*) FROM build_t;

-- PREPARE TRANSACTION is refused after a build
BEGIN;
SELECT rows FROM sharedbuf_refresh('build_t');
PREPARE TRANSACTION 'build_prep';  -- error
SELECT count(*) FROM build_t;

DROP FOREIGN TABLE build_plain, build_t, build_nokey, build_comp, build_approx, build_empty;
DROP FOREIGN TABLE build_heap, build_inline;
DROP TABLE build_src, build_sparse;
