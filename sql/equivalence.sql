--
-- Equivalence: a query over a bundle returns the rows that the same query
-- returns over a heap table holding the same data.  Sequential scans,
-- lookups by constants, parameters (custom and generic plans), arrays and
-- subqueries, on int8, int4, text, varchar and composite (int4, text) keys
-- with duplicate and NULL keys; cross-type probes; joins and LATERAL as
-- nested loops of lookups and as hash joins; aggregates, ORDER BY, LIMIT,
-- DISTINCT; an approximate bundle; PL/pgSQL loops and cursors.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sharedbuf;

-- 20000 rows of deterministic pseudo-random data (hashint4 and arithmetic
-- modulo primes): keys with duplicates and NULLs, NULLs in other columns
CREATE TABLE equiv_src AS
  SELECT g AS n,
         CASE WHEN g % 97 = 0 THEN NULL ELSE abs(hashint4(g)::int8) % 5000 END AS k8,
         CASE WHEN g % 83 = 0 THEN NULL ELSE (abs(hashint4(g + 20000)::int8) % 4000)::int4 END AS k4,
         CASE WHEN g % 89 = 0 THEN NULL ELSE 'k' || (abs(hashint4(g + 40000)::int8) % 3000) END AS kt,
         CASE WHEN g % 79 = 0 THEN NULL
              ELSE ('k' || (abs(hashint4(g + 60000)::int8) % 3000))::varchar(12) END AS kv,
         (g % 17)::int4 AS a,
         CASE WHEN g % 101 = 0 THEN NULL ELSE 'p' || (g * 7919 % 300) END AS b,
         CASE WHEN g % 7 = 0 THEN NULL ELSE (abs(hashint4(g + 80000)::int8) % 1000)::int4 END AS v,
         CASE WHEN g % 11 = 0 THEN NULL ELSE md5(g::text) END AS s,
         CASE WHEN g % 13 = 0 THEN NULL ELSE (g * 104729 % 100000 / 100.0)::numeric(10,2) END AS amount,
         date '2020-01-01' + g % 1000 AS d
  FROM generate_series(1, 20000) g;
CREATE INDEX equiv_src_n ON equiv_src (n);
CREATE INDEX equiv_src_k8 ON equiv_src (k8);
CREATE INDEX equiv_src_kt ON equiv_src (kt);
ANALYZE equiv_src;
-- outer rows for joins: present and absent keys, NULLs, repeated keys
CREATE TABLE equiv_probe AS
  SELECT g AS pid,
         CASE WHEN g % 10 = 0 THEN NULL ELSE (g % 250) * 23 END::int8 AS k8,
         CASE WHEN g % 9 = 0 THEN NULL ELSE (g % 200) * 21 END::int4 AS k4,
         CASE WHEN g % 8 = 0 THEN NULL ELSE 'k' || (g % 220) * 17 END AS kt,
         CASE WHEN g % 7 = 0 THEN NULL ELSE ('k' || (g % 180) * 19)::varchar(12) END AS kv,
         (g % 19)::int4 AS a,
         CASE WHEN g % 6 = 0 THEN NULL ELSE 'p' || (g * 31 % 320) END AS b
  FROM generate_series(1, 300) g;
ANALYZE equiv_probe;
SELECT count(*) AS rows, count(k8) AS k8, count(DISTINCT k8) AS k8_distinct,
       count(k4) AS k4, count(DISTINCT k4) AS k4_distinct,
       count(kt) AS kt, count(DISTINCT kt) AS kt_distinct,
       count(kv) AS kv, count(DISTINCT kv) AS kv_distinct,
       count(DISTINCT (a, b)) FILTER (WHERE b IS NOT NULL) AS ab_distinct
  FROM equiv_src;

-- The same rows in five bundles, keyed by int8, int4, text, varchar and
-- (int4, text)
SELECT rows, distinct_keys FROM sharedbuf_create('equiv_k8', 'SELECT * FROM equiv_src', key => 'k8');
SELECT rows, distinct_keys FROM sharedbuf_create('equiv_k4', 'SELECT * FROM equiv_src', key => 'k4');
SELECT rows, distinct_keys FROM sharedbuf_create('equiv_kt', 'SELECT * FROM equiv_src', key => 'kt');
SELECT rows, distinct_keys FROM sharedbuf_create('equiv_kv', 'SELECT * FROM equiv_src', key => 'kv');
SELECT rows, distinct_keys FROM sharedbuf_create('equiv_ab', 'SELECT * FROM equiv_src', key => 'a, b');

-- equiv_same(query): runs a query over the bundles and the same query with
-- every bundle replaced by equiv_src; returns the rows of the heap query,
-- the rows in one result and not the other (as text, both ways, EXCEPT
-- ALL; with 'ordered', the positions whose rows differ), and the number
-- of foreign scans of the plan that look keys up
CREATE FUNCTION equiv_same(q text, ordered boolean DEFAULT false,
                           OUT rows bigint, OUT mismatches bigint, OUT lookups int)
LANGUAGE plpgsql AS $$
DECLARE
  h text := regexp_replace(q, '\mequiv_(k8|k4|kt|kv|ab|ap)\M', 'equiv_src', 'g');
  bres text[];
  hres text[];
  line text;
BEGIN
  lookups := 0;
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    IF line ~ '^\s*Lookup Keys: ' THEN
      lookups := lookups + 1;
    END IF;
  END LOOP;
  EXECUTE format('SELECT coalesce(array_agg(t::text), ''{}'') FROM (%s) t', q) INTO bres;
  EXECUTE format('SELECT coalesce(array_agg(t::text), ''{}'') FROM (%s) t', h) INTO hres;
  rows := cardinality(hres);
  IF ordered THEN
    SELECT count(*) INTO mismatches
      FROM unnest(bres, hres) u(x, y) WHERE x IS DISTINCT FROM y;
  ELSE
    SELECT count(*) INTO mismatches FROM
      ((SELECT unnest(bres) EXCEPT ALL SELECT unnest(hres))
       UNION ALL
       (SELECT unnest(hres) EXCEPT ALL SELECT unnest(bres))) d;
  END IF;
END $$;

-- equiv_explain(query): its EXPLAIN (COSTS OFF) without what differs
-- between PostgreSQL majors: an InitPlan's "(returns $0)", shown before 17
CREATE FUNCTION equiv_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(line, ' \(returns [$0-9,]+\)$', '');
  END LOOP;
END $$;

--
-- Sequential scans: every row, non-key filters, conditions a lookup cannot
-- answer
--
SELECT q AS query, r.* FROM (VALUES
  ($$TABLE equiv_k8$$),
  ($$TABLE equiv_kt$$),
  ($$TABLE equiv_ab$$),
  ($$SELECT n, v, s FROM equiv_k8 WHERE v > 500$$),
  ($$SELECT n, s FROM equiv_kt WHERE s LIKE 'a%' AND amount IS NULL$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 IS NULL$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 IS NOT NULL AND k8 < 100$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 17 OR k8 = 42$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 17 OR v = 42$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 <> ALL ('{17,42}') AND n < 100$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 + 0 = 17$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = n$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1.0$$),
  ($$SELECT * FROM equiv_ab WHERE a = 3$$),
  ($$SELECT * FROM equiv_ab WHERE b = 'p17'$$),
  ($$SELECT * FROM equiv_ab WHERE a = 3 AND b IS NULL$$),
  ($$SELECT * FROM equiv_kt WHERE kt > 'k2999'$$),
  ($$SELECT * FROM equiv_kt WHERE kt = 'k42' COLLATE "C"$$)
) v(q), LATERAL equiv_same(q) r;

--
-- key = constant: keys with several rows, one row, no row; NULL; values
-- of other types (int2 and int4 against the int8 key, int8 against the
-- int4 key, varchar against text and text against varchar)
--
SELECT k8, count(*) FROM equiv_src WHERE k8 IN (1570, 1067, 4999, 32, 5000) GROUP BY k8 ORDER BY k8;
SELECT q AS query, r.* FROM (VALUES
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1570$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1067$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 4999$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 32$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 5000$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = -1$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = NULL$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = (SELECT NULL::int8)$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = (SELECT min(k8) FROM equiv_probe)$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1570::int4$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1570::int2$$),
  ($$SELECT * FROM equiv_k8 WHERE 1570 = k8$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1570 AND v > 500$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1570 AND n = k8$$),
  ($$SELECT * FROM equiv_k4 WHERE k4 = 1234::int8$$),
  ($$SELECT * FROM equiv_k4 WHERE k4 = 5000000000$$),
  ($$SELECT * FROM equiv_k4 WHERE k4 = -2147483648::int8$$),
  ($$SELECT * FROM equiv_kt WHERE kt = 'k42'$$),
  ($$SELECT * FROM equiv_kt WHERE kt = 'k42'::varchar(3)$$),
  ($$SELECT * FROM equiv_kt WHERE kt = 'k42 '$$),
  ($$SELECT * FROM equiv_kt WHERE kt = ''$$),
  ($$SELECT * FROM equiv_kv WHERE kv = 'k42'$$),
  ($$SELECT * FROM equiv_kv WHERE kv = 'k42'::text$$),
  ($$SELECT * FROM equiv_kv WHERE kv = 'k42'::char(5)$$),
  ($$SELECT * FROM equiv_ab WHERE a = 3 AND b = 'p17'$$),
  ($$SELECT * FROM equiv_ab WHERE (a, b) = (3, 'p17')$$),
  ($$SELECT * FROM equiv_ab WHERE b = 'p17' AND a = 3::int8 AND v IS NOT NULL$$),
  ($$SELECT * FROM equiv_ab WHERE a = 3 AND b = 'p17'::varchar$$),
  ($$SELECT * FROM equiv_ab WHERE a = 17 AND b = 'p17'$$),
  ($$SELECT * FROM equiv_ab WHERE a = 3 AND b = NULL$$)
) v(q), LATERAL equiv_same(q) r;
-- two different constants: no row (whether a lookup runs differs between
-- majors: later ones prove the scan empty while planning)
SELECT rows, mismatches FROM equiv_same($$SELECT * FROM equiv_k8 WHERE k8 = 1570 AND k8 = 1067$$);
EXPLAIN (COSTS OFF) SELECT * FROM equiv_k8 WHERE k8 = 1570::int2;
EXPLAIN (COSTS OFF) SELECT * FROM equiv_k4 WHERE k4 = 1234::int8;
EXPLAIN (COSTS OFF) SELECT * FROM equiv_kv WHERE kv = 'k42'::text;
EXPLAIN (COSTS OFF) SELECT * FROM equiv_ab WHERE (a, b) = (3, 'p17');
SELECT * FROM equiv_explain($$SELECT * FROM equiv_k8 WHERE k8 = (SELECT min(k8) FROM equiv_probe)$$);
EXPLAIN (COSTS OFF) SELECT * FROM equiv_ab WHERE a = 3;

--
-- = ANY and IN: repeated keys, NULLs, absent keys, empty and NULL arrays,
-- arrays of other integer types, multidimensional arrays, an array from a
-- subquery
--
SELECT q AS query, r.* FROM (VALUES
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{1570,1067,1067,NULL,5000,-1,1570}')$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 IN (1570, 1067, 4999, 1570)$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{}')$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY (NULL::int8[])$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{NULL,NULL}')$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{1570,1067}'::int4[])$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{1570,1067}'::int2[])$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{{1570,1067},{4999,NULL}}')$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('[0:1]={1570,1067}')$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY (ARRAY[1570, 1067 + 0])$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY (ARRAY(SELECT k8 FROM equiv_probe WHERE pid <= 30))$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 IN (1570, 1067) AND v < 500$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 IN (1570, 1067) AND k8 = 1067$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{1570,1067}') OR k8 IS NULL$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 NOT IN (1570, 1067) AND n < 100$$),
  ($$SELECT * FROM equiv_k4 WHERE k4 = ANY ('{1234,1234,0,5000000000}'::int8[])$$),
  ($$SELECT * FROM equiv_kt WHERE kt IN ('k42', 'k43', 'k42', 'nope', NULL)$$),
  ($$SELECT * FROM equiv_kt WHERE kt = ANY (ARRAY['k42', 'k43']::varchar[])$$),
  ($$SELECT * FROM equiv_kv WHERE kv = ANY ('{k42,k43,k42}'::text[])$$),
  ($$SELECT * FROM equiv_ab WHERE a = 3 AND b = ANY ('{p17,p18,NULL}')$$),
  ($$SELECT * FROM equiv_ab WHERE a IN (3, 4) AND b = 'p17'$$)
) v(q), LATERAL equiv_same(q) r;
EXPLAIN (COSTS OFF) SELECT * FROM equiv_k8 WHERE k8 IN (1570, 1067, 4999, 1570);
EXPLAIN (COSTS OFF) SELECT * FROM equiv_k8 WHERE k8 = ANY ('{1570,1067}'::int4[]);
SELECT * FROM equiv_explain($$SELECT * FROM equiv_k8 WHERE k8 = ANY (ARRAY(SELECT k8 FROM equiv_probe WHERE pid <= 30))$$);
EXPLAIN (COSTS OFF) SELECT * FROM equiv_kt WHERE kt IN ('k42', 'k43', 'k42', 'nope', NULL);
EXPLAIN (COSTS OFF) SELECT * FROM equiv_ab WHERE a = 3 AND b = ANY ('{p17,p18,NULL}');

--
-- Aggregates, DISTINCT, ORDER BY, LIMIT, window functions, set
-- operations, over scans and lookups (ORDER BY results compared in order)
--
SELECT q AS query, r.* FROM (VALUES
  ($$SELECT k8, count(*), sum(v), min(s), max(amount) FROM equiv_k8 GROUP BY k8$$, false),
  ($$SELECT count(*), count(k8), count(s), sum(v), avg(amount) FROM equiv_k8$$, false),
  ($$SELECT a, b, count(*) FROM equiv_ab GROUP BY a, b HAVING count(*) > 3$$, false),
  ($$SELECT count(*), sum(v), string_agg(s, ',' ORDER BY n) FROM equiv_k8 WHERE k8 = ANY ('{1570,1067,4999}')$$, false),
  ($$SELECT DISTINCT k8 FROM equiv_k8$$, false),
  ($$SELECT DISTINCT kt, v FROM equiv_kt WHERE kt IN ('k42', 'k43')$$, false),
  ($$SELECT DISTINCT ON (k8) k8, n, v FROM equiv_k8 ORDER BY k8, n DESC$$, true),
  ($$SELECT n, k8 FROM equiv_k8 ORDER BY k8 NULLS FIRST, n LIMIT 100$$, true),
  ($$SELECT n, kt FROM equiv_kt ORDER BY kt DESC, n OFFSET 50 LIMIT 25$$, true),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1067 ORDER BY n DESC$$, true),
  ($$SELECT * FROM equiv_k8 WHERE k8 IN (1570, 1067) ORDER BY v NULLS FIRST, n LIMIT 3$$, true),
  ($$SELECT n, k8, row_number() OVER (PARTITION BY k8 ORDER BY n) FROM equiv_k8 WHERE k8 IN (1570, 1067)$$, false),
  ($$SELECT n FROM equiv_k8 WHERE k8 = 1570 UNION SELECT n FROM equiv_kt WHERE kt = 'k42'$$, false),
  ($$SELECT k8 FROM equiv_k8 WHERE k8 < 50 INTERSECT ALL SELECT k8 FROM equiv_k8 WHERE k8 = ANY ('{1,2,3,4,5,6,7,8,9}')$$, false),
  ($$SELECT * FROM equiv_k8 WHERE k8 = 1570 EXCEPT ALL SELECT * FROM equiv_k8 WHERE v > 500$$, false),
  ($$SELECT * FROM equiv_k8 LIMIT 0$$, false),
  ($$SELECT n FROM equiv_k8 ORDER BY n LIMIT 10$$, true)
) v(q, o), LATERAL equiv_same(q, o) r;

--
-- Subqueries: IN, EXISTS and NOT EXISTS against the bundle, NOT IN, a
-- scalar subquery per outer row (a lookup per row), a key from an
-- uncorrelated subquery
--
SELECT q AS query, r.* FROM (VALUES
  ($$SELECT * FROM equiv_k8 WHERE k8 IN (SELECT k8 FROM equiv_probe)$$),
  ($$SELECT * FROM equiv_probe p WHERE k8 IN (SELECT k8 FROM equiv_k8 WHERE v > 100)$$),
  ($$SELECT * FROM equiv_probe p WHERE EXISTS (SELECT FROM equiv_k8 b WHERE b.k8 = p.k8)$$),
  ($$SELECT * FROM equiv_probe p WHERE NOT EXISTS (SELECT FROM equiv_k8 b WHERE b.k8 = p.k8)$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 NOT IN (SELECT k8 FROM equiv_probe WHERE k8 IS NOT NULL) AND n < 500$$),
  ($$SELECT pid, (SELECT count(*) FROM equiv_k8 b WHERE b.k8 = p.k8) FROM equiv_probe p$$),
  ($$SELECT pid, (SELECT sum(v) FROM equiv_kt b WHERE b.kt = p.kt) FROM equiv_probe p$$),
  ($$SELECT pid, (SELECT max(n) FROM equiv_ab b WHERE b.a = p.a AND b.b = p.b) FROM equiv_probe p$$),
  ($$SELECT * FROM equiv_k8 WHERE k8 = (SELECT k8 FROM equiv_probe WHERE pid = 7)$$),
  ($$SELECT * FROM equiv_kt WHERE kt = (SELECT 'k' || 42)$$)
) v(q), LATERAL equiv_same(q) r;
EXPLAIN (COSTS OFF) SELECT * FROM equiv_k8 WHERE k8 IN (SELECT k8 FROM equiv_probe);
EXPLAIN (COSTS OFF) SELECT pid, (SELECT count(*) FROM equiv_k8 b WHERE b.k8 = p.k8) FROM equiv_probe p;

--
-- Joins from an outer table on the key, LEFT JOIN (absent and NULL keys
-- give NULL-extended rows), cross-type joins, composite keys, LATERAL,
-- bundle to bundle: first as nested loops of lookups (hash and merge
-- joins off), then with every join method allowed
--
CREATE TABLE equiv_joins (q text);
INSERT INTO equiv_joins VALUES
  ($$SELECT p.pid, b.n, b.v FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8 AND b.v > p.pid$$),
  ($$SELECT p.pid, b.n, b.s FROM equiv_probe p LEFT JOIN equiv_k8 b ON b.k8 = p.k8$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p LEFT JOIN equiv_k8 b ON b.k8 = p.k8 AND b.v < 300 WHERE p.pid < 200$$),
  ($$SELECT p.pid FROM equiv_probe p LEFT JOIN equiv_k8 b ON b.k8 = p.k8 WHERE b.n IS NULL$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k4$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.a$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k4 b ON b.k4 = p.k8$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k4 b ON b.k4 = p.k4$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_kt b ON b.kt = p.kt$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_kt b ON b.kt = p.kv$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p LEFT JOIN equiv_kv b ON b.kv = p.kt$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_ab b ON b.a = p.a AND b.b = p.b$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p LEFT JOIN equiv_ab b ON b.a = p.a AND b.b = p.b$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_ab b ON b.a = p.a AND b.b = 'p17'$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_ab b ON b.a = p.a$$),
  ($$SELECT p.pid, x.n, x.v FROM equiv_probe p, LATERAL (SELECT n, v FROM equiv_k8 b WHERE b.k8 = p.k8 ORDER BY n LIMIT 2) x$$),
  ($$SELECT p.pid, x.* FROM equiv_probe p LEFT JOIN LATERAL (SELECT count(*), sum(v) FROM equiv_kt b WHERE b.kt = p.kt) x ON true$$),
  ($$SELECT p.pid, x.n FROM equiv_probe p, LATERAL (SELECT n FROM equiv_k8 b WHERE b.k8 = p.k8 + 1) x$$),
  ($$SELECT p.pid, b.n, c.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8 JOIN equiv_kt c ON c.kt = b.kt$$),
  ($$SELECT t.n, b.n FROM equiv_kt t JOIN equiv_k8 b ON b.k8 = t.v WHERE t.kt IN ('k42', 'k43', 'k44')$$),
  ($$SELECT h.n, b.n FROM equiv_src h JOIN equiv_k8 b ON b.k8 = h.k8 WHERE h.n % 10 = 0$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8 WHERE p.k8 < 1000 AND b.v IS NOT NULL$$),
  ($$SELECT p.pid, count(b.n), sum(b.v) FROM equiv_probe p LEFT JOIN equiv_k8 b ON b.k8 = p.k8 GROUP BY p.pid$$),
  ($$SELECT p.pid, b.n FROM equiv_probe p FULL JOIN equiv_k8 b ON b.k8 = p.k8 WHERE p.pid IS NULL OR b.n IS NULL$$);
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT q AS query, r.* FROM equiv_joins, LATERAL equiv_same(q) r;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n, b.v FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n, b.s FROM equiv_probe p LEFT JOIN equiv_k8 b ON b.k8 = p.k8;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k4 b ON b.k4 = p.k8;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_kt b ON b.kt = p.kv;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_ab b ON b.a = p.a AND b.b = p.b;
EXPLAIN (COSTS OFF) SELECT p.pid, x.n, x.v FROM equiv_probe p, LATERAL (SELECT n, v FROM equiv_k8 b WHERE b.k8 = p.k8 ORDER BY n LIMIT 2) x;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n, c.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8 JOIN equiv_kt c ON c.kt = b.kt;
RESET enable_hashjoin;
RESET enable_mergejoin;
-- the planner's own choice (nested loops of lookups for these few outer rows)
SELECT count(*) AS queries, sum(r.rows) AS rows, sum(r.mismatches) AS mismatches,
       count(*) FILTER (WHERE r.lookups > 0) AS with_lookups
  FROM equiv_joins, LATERAL equiv_same(q) r;
-- no nested loops: hash and merge joins over sequential scans of bundles
SET enable_nestloop = off;
SELECT count(*) AS queries, sum(r.rows) AS rows, sum(r.mismatches) AS mismatches,
       count(*) FILTER (WHERE r.lookups > 0) AS with_lookups
  FROM equiv_joins, LATERAL equiv_same(q) r;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n, b.s FROM equiv_probe p LEFT JOIN equiv_k8 b ON b.k8 = p.k8;
EXPLAIN (COSTS OFF) SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_ab b ON b.a = p.a AND b.b = p.b;
RESET enable_nestloop;

--
-- Prepared statements: key = $1 and key = ANY ($1), run more than five
-- times so that the plan cache switches to a generic plan, whose lookup
-- takes its key from the parameter; each run compares the bundle's rows
-- with the table's (a FULL JOIN on the unique n)
--
PREPARE equiv_p8(int8) AS
  SELECT count(*) AS rows, count(*) FILTER (WHERE ROW(fb.*) IS DISTINCT FROM ROW(hp.*)) AS mismatches
  FROM (SELECT n, v, s FROM equiv_k8 WHERE k8 = $1) fb
  FULL JOIN (SELECT n, v, s FROM equiv_src WHERE k8 = $1) hp ON fb.n = hp.n;
EXECUTE equiv_p8(1570);
EXECUTE equiv_p8(1067);
EXECUTE equiv_p8(5000);
EXECUTE equiv_p8(NULL);
EXECUTE equiv_p8(4999);
EXECUTE equiv_p8(0);
EXECUTE equiv_p8(1570);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE equiv_p8(1067);
EXECUTE equiv_p8(1067);
EXECUTE equiv_p8(NULL);
EXECUTE equiv_p8(-1);
-- the same with a custom plan: the lookup takes the constant
SET plan_cache_mode = force_custom_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE equiv_p8(1067);
EXECUTE equiv_p8(1067);
RESET plan_cache_mode;
-- an int4 parameter for the int8 key, a varchar one for the text key, an
-- int8 one for the int4 key (generic plans)
PREPARE equiv_p4(int4) AS
  SELECT count(*) AS rows, count(*) FILTER (WHERE ROW(fb.*) IS DISTINCT FROM ROW(hp.*)) AS mismatches
  FROM (SELECT n, v, s FROM equiv_k8 WHERE k8 = $1) fb
  FULL JOIN (SELECT n, v, s FROM equiv_src WHERE k8 = $1) hp ON fb.n = hp.n;
PREPARE equiv_pt(varchar) AS
  SELECT count(*) AS rows, count(*) FILTER (WHERE ROW(fb.*) IS DISTINCT FROM ROW(hp.*)) AS mismatches
  FROM (SELECT n, v, s FROM equiv_kt WHERE kt = $1) fb
  FULL JOIN (SELECT n, v, s FROM equiv_src WHERE kt = $1) hp ON fb.n = hp.n;
PREPARE equiv_pk4(int8) AS
  SELECT count(*) AS rows, count(*) FILTER (WHERE ROW(fb.*) IS DISTINCT FROM ROW(hp.*)) AS mismatches
  FROM (SELECT n, v, s FROM equiv_k4 WHERE k4 = $1) fb
  FULL JOIN (SELECT n, v, s FROM equiv_src WHERE k4 = $1) hp ON fb.n = hp.n;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE equiv_p4(1570);
EXECUTE equiv_p4(1570);
EXECUTE equiv_p4(NULL);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE equiv_pt('k42');
EXECUTE equiv_pt('k42');
EXECUTE equiv_pt('k42 ');
EXECUTE equiv_pt('');
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE equiv_pk4(1234);
EXECUTE equiv_pk4(1234);
EXECUTE equiv_pk4(5000000000);
EXECUTE equiv_pk4(-5000000000);
RESET plan_cache_mode;
-- key = ANY ($1)
PREPARE equiv_pa(int8[]) AS
  SELECT count(*) AS rows, count(*) FILTER (WHERE ROW(fb.*) IS DISTINCT FROM ROW(hp.*)) AS mismatches
  FROM (SELECT n, v, s FROM equiv_k8 WHERE k8 = ANY ($1)) fb
  FULL JOIN (SELECT n, v, s FROM equiv_src WHERE k8 = ANY ($1)) hp ON fb.n = hp.n;
EXECUTE equiv_pa('{1570,1067}');
EXECUTE equiv_pa('{1570,1570,NULL,-1}');
EXECUTE equiv_pa('{}');
EXECUTE equiv_pa(NULL);
EXECUTE equiv_pa('{{1570,1067},{4999,0}}');
EXECUTE equiv_pa('{1,2,3,4,5,6,7,8,9,10}');
EXECUTE equiv_pa('{1570,1067,4999}');
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE equiv_pa('{1570}');
EXECUTE equiv_pa('{1570}');
RESET plan_cache_mode;
-- the composite key from two parameters
PREPARE equiv_pab(int4, text) AS
  SELECT count(*) AS rows, count(*) FILTER (WHERE ROW(fb.*) IS DISTINCT FROM ROW(hp.*)) AS mismatches
  FROM (SELECT n, v, s FROM equiv_ab WHERE a = $1 AND b = $2) fb
  FULL JOIN (SELECT n, v, s FROM equiv_src WHERE a = $1 AND b = $2) hp ON fb.n = hp.n;
EXECUTE equiv_pab(3, 'p17');
EXECUTE equiv_pab(3, 'p18');
EXECUTE equiv_pab(17, 'p17');
EXECUTE equiv_pab(3, NULL);
EXECUTE equiv_pab(NULL, 'p17');
EXECUTE equiv_pab(0, 'p0');
EXECUTE equiv_pab(16, 'p299');
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE equiv_pab(3, 'p17');
EXECUTE equiv_pab(3, 'p17');
RESET plan_cache_mode;
DEALLOCATE ALL;

--
-- An approximate bundle stores no keys and trusts its lookups: for keys it
-- holds, lookups return the table's rows, the key column showing the
-- probe's value whatever the probe's integer type
--
SELECT rows, distinct_keys FROM sharedbuf_create('equiv_ap', 'SELECT * FROM equiv_src WHERE k8 IS NOT NULL',
                                                 key => 'k8', approximate => true);
SELECT q AS query, r.* FROM (VALUES
  ($$SELECT * FROM equiv_ap WHERE k8 = 1570$$),
  ($$SELECT * FROM equiv_ap WHERE k8 = 1570::int2$$),
  ($$SELECT * FROM equiv_ap WHERE k8 = 1570::int8$$),
  ($$SELECT * FROM equiv_ap WHERE k8 = ANY ('{1570,1067,4999}'::int4[])$$),
  ($$SELECT * FROM equiv_ap WHERE k8 IN (1570, 1067, 4999) AND v > 300$$),
  ($$SELECT h.n, a.* FROM equiv_src h JOIN equiv_ap a ON a.k8 = h.k8 WHERE h.n <= 300$$),
  ($$SELECT h.n, a.* FROM equiv_src h JOIN equiv_ap a ON a.k8 = h.a WHERE h.n <= 300$$),
  ($$SELECT h.n, x.* FROM equiv_src h, LATERAL (SELECT k8, n FROM equiv_ap a WHERE a.k8 = h.v) x WHERE h.n <= 300$$)
) v(q), LATERAL equiv_same(q) r;

--
-- PL/pgSQL: a loop of lookups (its plan turns generic after five runs)
-- against the same aggregate over the table
--
CREATE FUNCTION equiv_loop_k8(lo int8, hi int8, OUT matched bigint, OUT total bigint)
LANGUAGE plpgsql AS $$
DECLARE
  c bigint;
  t bigint;
BEGIN
  matched := 0;
  total := 0;
  FOR i IN lo..hi LOOP
    SELECT count(*), sum(v) INTO c, t FROM equiv_k8 WHERE k8 = i;
    matched := matched + c;
    total := total + coalesce(t, 0);
  END LOOP;
END $$;
SELECT l.*, h.*, l = h AS same
  FROM equiv_loop_k8(-10, 5010) l,
       (SELECT count(*) AS matched, coalesce(sum(v), 0) AS total
          FROM equiv_src WHERE k8 BETWEEN -10 AND 5010) h;
CREATE FUNCTION equiv_loop_kt(n int, OUT matched bigint, OUT total bigint)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  matched := 0;
  total := 0;
  FOR i IN 0..n LOOP
    FOR r IN SELECT v FROM equiv_kt WHERE kt = 'k' || i LOOP
      matched := matched + 1;
      total := total + coalesce(r.v, 0);
    END LOOP;
  END LOOP;
END $$;
SELECT l.*, h.*, l = h AS same
  FROM equiv_loop_kt(3100) l,
       (SELECT count(*) AS matched, coalesce(sum(v), 0) AS total
          FROM equiv_src WHERE kt IN (SELECT 'k' || g FROM generate_series(0, 3100) g)) h;
CREATE FUNCTION equiv_loop_ab(OUT matched bigint, OUT total bigint)
LANGUAGE plpgsql AS $$
DECLARE
  c bigint;
  t bigint;
BEGIN
  matched := 0;
  total := 0;
  FOR i IN 0..18 LOOP
    FOR j IN 0..319 LOOP
      SELECT count(*), sum(v) INTO c, t FROM equiv_ab WHERE a = i AND b = 'p' || j;
      matched := matched + c;
      total := total + coalesce(t, 0);
    END LOOP;
  END LOOP;
END $$;
SELECT l.*, h.*, l = h AS same
  FROM equiv_loop_ab() l,
       (SELECT count(*) AS matched, coalesce(sum(v), 0) AS total
          FROM equiv_src WHERE b IS NOT NULL) h;
-- = ANY with a different array on each run
CREATE FUNCTION equiv_loop_any(OUT matched bigint, OUT total bigint)
LANGUAGE plpgsql AS $$
DECLARE
  c bigint;
  t bigint;
BEGIN
  matched := 0;
  total := 0;
  FOR i IN 0..499 LOOP
    SELECT count(*), sum(v) INTO c, t FROM equiv_k8
      WHERE k8 = ANY (ARRAY[i * 10, i * 10 + 1, i * 10 + 2, NULL, i * 10]);
    matched := matched + c;
    total := total + coalesce(t, 0);
  END LOOP;
END $$;
SELECT l.*, h.*, l = h AS same
  FROM equiv_loop_any() l,
       (SELECT count(*) AS matched, coalesce(sum(v), 0) AS total
          FROM equiv_src WHERE k8 % 10 IN (0, 1, 2)) h;

--
-- Cursors read in pieces: a sequential scan (the bundle keeps the rows
-- in the order of its query; each row is checked against the table), and
-- lookups read row by row between other lookups of the same bundle
--
BEGIN;
DECLARE equiv_cur CURSOR FOR
  SELECT fb.n, fb.k8, fb::text = (SELECT hp::text FROM equiv_src hp WHERE hp.n = fb.n) AS same
  FROM equiv_k8 fb;
FETCH 3 FROM equiv_cur;
MOVE 9990 IN equiv_cur;
FETCH 3 FROM equiv_cur;
MOVE 9990 IN equiv_cur;
FETCH 10 FROM equiv_cur;
FETCH 10 FROM equiv_cur;
CLOSE equiv_cur;
DECLARE equiv_scroll SCROLL CURSOR FOR SELECT n, k8 FROM equiv_k8 WHERE n <= 10;
FETCH 3 FROM equiv_scroll;
FETCH PRIOR FROM equiv_scroll;
FETCH ABSOLUTE 8 FROM equiv_scroll;
FETCH BACKWARD 2 FROM equiv_scroll;
FETCH LAST FROM equiv_scroll;
CLOSE equiv_scroll;
COMMIT;
-- equiv_cursor(query): the rows of a cursor, fetched one at a time, with
-- a lookup of the same bundle after each row
CREATE FUNCTION equiv_cursor(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  c refcursor;
  r record;
  x bigint;
BEGIN
  OPEN c FOR EXECUTE q;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    SELECT count(*) INTO x FROM equiv_k8 WHERE k8 = 1570;
    IF x <> 13 THEN
      RAISE EXCEPTION 'lookup between fetches found % rows', x;
    END IF;
    RETURN NEXT r::text;
  END LOOP;
  CLOSE c;
END $$;
SELECT count(*) AS rows,
       (SELECT count(*) FROM (SELECT equiv_cursor($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{1570,1067,4999,0,1}')$$)
                              EXCEPT ALL SELECT t::text FROM equiv_src t WHERE k8 = ANY ('{1570,1067,4999,0,1}')) d) AS missing_in_heap,
       (SELECT count(*) FROM (SELECT t::text FROM equiv_src t WHERE k8 = ANY ('{1570,1067,4999,0,1}')
                              EXCEPT ALL SELECT equiv_cursor($$SELECT * FROM equiv_k8 WHERE k8 = ANY ('{1570,1067,4999,0,1}')$$)) d) AS missing_in_bundle
  FROM equiv_src WHERE k8 = ANY ('{1570,1067,4999,0,1}');
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT count(*) AS rows,
       (SELECT count(*) FROM (SELECT equiv_cursor($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8$$)
                              EXCEPT ALL SELECT t::text FROM (SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_src b ON b.k8 = p.k8) t) d) AS missing_in_heap,
       (SELECT count(*) FROM (SELECT t::text FROM (SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_src b ON b.k8 = p.k8) t
                              EXCEPT ALL SELECT equiv_cursor($$SELECT p.pid, b.n FROM equiv_probe p JOIN equiv_k8 b ON b.k8 = p.k8$$)) d) AS missing_in_bundle
  FROM equiv_probe p JOIN equiv_src b ON b.k8 = p.k8;
RESET enable_hashjoin;
RESET enable_mergejoin;

DROP FUNCTION equiv_same(text, boolean), equiv_explain(text), equiv_loop_k8(int8, int8), equiv_loop_kt(int),
  equiv_loop_ab(), equiv_loop_any(), equiv_cursor(text);
DROP FOREIGN TABLE equiv_k8, equiv_k4, equiv_kt, equiv_kv, equiv_ab, equiv_ap;
DROP TABLE equiv_src, equiv_probe, equiv_joins;
