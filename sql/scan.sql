--
-- Scans: plans for lookups (constants, parameters, = ANY, joins, LATERAL),
-- rescans, cursors, PL/pgSQL loops, errors in the middle of a scan, and
-- the mapping each backend keeps.
--
CREATE EXTENSION IF NOT EXISTS sharedbuf;
SET client_min_messages = warning;

CREATE TABLE scan_src AS
  SELECT g::int8 AS id, 'user ' || g AS name, (g % 13)::int4 AS grp,
         CASE WHEN g % 3 = 0 THEN repeat(md5(g::text), 5) END AS payload
  FROM generate_series(1, 10000) g;
SELECT rows FROM sharedbuf_create('scan_u', 'SELECT * FROM scan_src', key => 'id');
CREATE TABLE scan_probe AS SELECT (g * 7919) % 12000 + 1 AS k FROM generate_series(1, 200) g;
ANALYZE scan_probe;
CREATE TABLE scan_big AS SELECT (g * 7919) % 12000 + 1 AS k FROM generate_series(1, 200000) g;
ANALYZE scan_big;

-- a constant, a parameter, arrays
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM scan_u WHERE id = 42;
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM scan_u WHERE id = ANY ('{1,2,3}');
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM scan_u WHERE id IN (4, 5, 6, 5);
EXPLAIN (COSTS OFF) SELECT name FROM scan_u WHERE id = 42 OR id = 43;
EXPLAIN (COSTS OFF) SELECT name FROM scan_u WHERE id > 42;
SET plan_cache_mode = force_generic_plan;
PREPARE scan_q(int8) AS SELECT name FROM scan_u WHERE id = $1;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE scan_q(7);
EXECUTE scan_q(7);
PREPARE scan_qa(int8[]) AS SELECT count(*) FROM scan_u WHERE id = ANY ($1);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE scan_qa('{1,2}');
EXECUTE scan_qa('{1,2,2,NULL,99999}');
EXECUTE scan_qa(NULL);
RESET plan_cache_mode;

-- joins: a nested loop of lookups for few outer rows, a hash join for many
EXPLAIN (COSTS OFF) SELECT p.k, u.name FROM scan_probe p JOIN scan_u u ON u.id = p.k;
SELECT count(*), count(u.name) FROM scan_probe p JOIN scan_u u ON u.id = p.k;
SELECT * FROM regress_explain_analyze($$
  SELECT p.k, u.name FROM scan_probe p JOIN scan_u u ON u.id = p.k$$);
EXPLAIN (COSTS OFF) SELECT count(u.name) FROM scan_big p JOIN scan_u u ON u.id = p.k;
SELECT count(*), count(u.name) FROM scan_big p JOIN scan_u u ON u.id = p.k;
EXPLAIN (COSTS OFF) SELECT p.k, u.name FROM scan_probe p LEFT JOIN scan_u u ON u.id = p.k;
SELECT count(*), count(u.name) FROM scan_probe p LEFT JOIN scan_u u ON u.id = p.k;
-- a small bundle joined to many rows is read once into a hash table
SELECT rows FROM sharedbuf_create('scan_small', 'SELECT g::int8 AS id, g AS v FROM generate_series(1, 50) g', key => 'id');
EXPLAIN (COSTS OFF) SELECT count(*) FROM scan_big p JOIN scan_small s ON s.id = p.k;
SELECT count(*) FROM scan_big p JOIN scan_small s ON s.id = p.k;
-- an implied equality: the key equals a column that equals the outer
EXPLAIN (COSTS OFF)
  SELECT u.name FROM scan_probe p, scan_u u, scan_probe q WHERE u.id = p.k AND p.k = q.k AND q.k < 100;
-- LATERAL
EXPLAIN (COSTS OFF)
  SELECT p.k, s.name FROM scan_probe p, LATERAL (SELECT name FROM scan_u WHERE id = p.k + 1) s;
SELECT count(*) FROM scan_probe p, LATERAL (SELECT name FROM scan_u WHERE id = p.k + 1) s;

-- rescans inside one statement keep working (the inner side of a loop)
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT count(*), sum(length(u.payload)) FROM scan_big p JOIN scan_u u ON u.id = p.k;
SELECT count(*) FROM scan_src s JOIN scan_u u ON u.id = s.id AND u.name = s.name
  AND u.payload IS NOT DISTINCT FROM s.payload;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- a PL/pgSQL loop of lookups (its plan turns generic after five runs)
CREATE FUNCTION scan_loop(n int) RETURNS int8 LANGUAGE plpgsql AS $$
DECLARE
  total int8 := 0;
  v text;
BEGIN
  FOR i IN 1..n LOOP
    SELECT name INTO v FROM scan_u WHERE id = i;
    total := total + coalesce(length(v), 0);
  END LOOP;
  RETURN total;
END $$;
SELECT scan_loop(2000) = (SELECT sum(length(name)) FROM scan_src WHERE id <= 2000) AS same;

-- a cursor keeps the generation it started with across a refresh
BEGIN;
DECLARE c CURSOR FOR SELECT id, name FROM scan_u WHERE id <= 6;
FETCH 3 FROM c;
SELECT rows FROM sharedbuf_refresh('scan_u', 'SELECT id, ''renamed '' || id AS name, grp, payload FROM scan_src');
FETCH 3 FROM c;
SELECT name FROM scan_u WHERE id = 1;
SELECT pins, current FROM sharedbuf_mappings() ORDER BY current;
CLOSE c;
COMMIT;
SELECT pins, current FROM sharedbuf_mappings();

-- a cursor WITH HOLD outlives its transaction and a refresh
BEGIN;
DECLARE h CURSOR WITH HOLD FOR SELECT id, name, payload FROM scan_u WHERE id IN (1, 2, 3) ORDER BY id;
COMMIT;
SELECT rows FROM sharedbuf_refresh('scan_u', 'SELECT * FROM scan_src');
FETCH ALL FROM h;
CLOSE h;
SELECT name FROM scan_u WHERE id = 1;
SELECT pins, current FROM sharedbuf_mappings();

-- an error in the middle of a scan releases the bundle
SELECT id, 1 / (id - 5000) FROM scan_u;  -- error
SELECT pins, current FROM sharedbuf_mappings();
SELECT count(*) FROM scan_u;

-- a function that refreshes while a loop reads the bundle
CREATE FUNCTION scan_refresh_in_loop() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
  seen int := 0;
BEGIN
  FOR r IN SELECT id, name FROM scan_u WHERE id <= 5 LOOP
    IF seen = 1 THEN
      PERFORM sharedbuf_refresh('scan_u', 'SELECT id, ''again '' || id AS name, grp, payload FROM scan_src');
    END IF;
    seen := seen + 1;
    RAISE NOTICE 'row % %', r.id, r.name;
  END LOOP;
  RETURN (SELECT name FROM scan_u WHERE id = 1);
END $$;
SET client_min_messages = notice;
SELECT scan_refresh_in_loop();
SET client_min_messages = warning;
SELECT pins, current FROM sharedbuf_mappings();

-- a prepared lookup still answers right after the bundle's key changes
SET plan_cache_mode = force_generic_plan;
PREPARE scan_k(int8) AS SELECT id, name FROM scan_u WHERE id = $1;
EXECUTE scan_k(11);
SELECT rows FROM sharedbuf_build('scan_u', 'SELECT * FROM scan_src', key => 'name');
EXECUTE scan_k(11);
EXECUTE scan_k(-1);
SELECT * FROM regress_explain_analyze('EXECUTE scan_k(12)');
RESET plan_cache_mode;
SELECT rows FROM sharedbuf_refresh('scan_u');

-- NULL keys are kept for scans and never match
SELECT rows FROM sharedbuf_create('scan_nullkey',
  'SELECT NULLIF(g, 3) AS k, g AS v FROM generate_series(1, 5) g', key => 'k');
SELECT count(*), count(k) FROM scan_nullkey;
SELECT * FROM scan_nullkey WHERE k IS NULL;
SELECT * FROM scan_nullkey WHERE k = NULL::int;

DROP FUNCTION scan_loop(int), scan_refresh_in_loop();
DROP FOREIGN TABLE scan_u, scan_nullkey, scan_small;
DROP TABLE scan_src, scan_probe, scan_big;
