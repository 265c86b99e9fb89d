--
-- Key types: every type with a default hash operator class can be a key.
-- Keys whose equal values can differ in their bytes (numeric 1.0 and
-- 1.00, interval '1 day' and '24 hours', jsonb, text under a
-- case-insensitive collation, citext, arrays, ranges, composites,
-- domains) are hashed with their type's hash function and confirmed with
-- its equality.  For each key type: lookups by constants, "= ANY",
-- generic-plan parameters and nested-loop joins over the bundle return
-- exactly the rows of the same query over a heap table, and use the
-- index.  Then cross-type probes, collations other than the one a key was
-- hashed with, a refresh that changes how a key is hashed under a
-- prepared statement, and the types that cannot be keys.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sharedbuf;
CREATE EXTENSION IF NOT EXISTS citext;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

SET extra_float_digits = 1;
SET lc_monetary = 'C';

CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TYPE kt_pair AS (n numeric, t text COLLATE ci);
CREATE TYPE kt_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN kt_dnum AS numeric;
CREATE DOMAIN kt_dci AS text COLLATE ci;

-- kt_case(name, type, collation, values, extra probes): a heap table
-- kt_h_NAME (id, k) of the values (ids in order), a table kt_p_NAME (pid,
-- v) of probes (every value, then the extra ones), and the bundle and
-- foreign table kt_NAME of the heap table keyed by k.  Returns the
-- bundle's rows and distinct keys.
CREATE TABLE kt_cases (name text PRIMARY KEY, typ regtype, typtext text, coll text);
CREATE FUNCTION kt_case(n text, typ text, coll text, vals text[], extra text[] DEFAULT '{}',
                        OUT rows bigint, OUT distinct_keys bigint)
LANGUAGE plpgsql AS $$
DECLARE
  h text := 'kt_h_' || n;
  p text := 'kt_p_' || n;
  coltype text := typ || coalesce(' COLLATE ' || coll, '');
BEGIN
  INSERT INTO kt_cases VALUES (n, typ::regtype, typ, coll);
  EXECUTE format('CREATE TABLE %I (id int, k %s)', h, coltype);
  EXECUTE format('INSERT INTO %I SELECT i, ($1)[i]::%s FROM generate_subscripts($1, 1) i',
                 h, typ) USING vals;
  EXECUTE format('CREATE TABLE %I (pid int, v %s)', p, coltype);
  EXECUTE format('INSERT INTO %I SELECT i, ($1)[i]::%s FROM generate_subscripts($1, 1) i',
                 p, typ) USING vals || extra;
  EXECUTE format('ANALYZE %I, %I', h, p);
  SELECT c.rows, c.distinct_keys INTO rows, distinct_keys
    FROM sharedbuf_create('kt_' || n, format('SELECT id, k FROM %I', h), key => 'k') c;
END $$;

-- one type a case: every built-in type with a default hash operator
-- class (checked below), and those the fast byte comparison serves
SELECT kt_case('int2', 'int2', NULL, '{1,-1,1,0,NULL,32767}', '{2}');
SELECT kt_case('int4', 'int4', NULL, '{1,-1,1,0,NULL,2147483647}', '{2}');
SELECT kt_case('int8', 'int8', NULL, '{1,-1,1,0,NULL,9223372036854775807}', '{2}');
SELECT kt_case('float4', 'float4', NULL, '{0,-0,NaN,1.5,-Infinity,NULL,1.5}', '{Infinity,0.1}');
SELECT kt_case('float8', 'float8', NULL, '{0,-0,NaN,1.5,-Infinity,NULL,1.5}', '{Infinity,0.1}');
SELECT kt_case('numeric', 'numeric', NULL,
               '{1,1.0,1.00,2.5,2.50,-0,0,0.000,NaN,NaN,1e10,10000000000.00,NULL,-1.5,Infinity}',
               '{3,1.000,-1.50,-Infinity,1e-3}');
SELECT kt_case('bool', 'bool', NULL, '{t,f,t,NULL}');
SELECT kt_case('char', '"char"', NULL, '{a,b,a,NULL}', '{c}');
SELECT kt_case('name', 'name', NULL, '{abc,ABC,abc,NULL}', '{x}');
SELECT kt_case('text', 'text', NULL, '{a,A,a,"",NULL}', '{b}');
SELECT kt_case('text_ci', 'text', 'ci', '{Apple,APPLE,apple,Äpple,banana,BANANA,"",NULL}',
               '{aPPLE,cherry,ÄPPLE,äpple}');
SELECT kt_case('varchar_ci', 'varchar(10)', 'ci', '{Apple,APPLE,apple,banana,NULL}', '{aPPLE,cherry}');
SELECT kt_case('bpchar', 'char(6)', NULL, '{ab,"ab  ",AB,NULL}', '{x}');
SELECT kt_case('bpchar_ci', 'char(6)', 'ci', '{ab,AB,"ab  ",x,NULL}', '{Ab,"AB "}');
SELECT kt_case('citext', 'citext', NULL, '{Apple,APPLE,apple,banana,NULL}', '{aPPLE,cherry}');
SELECT kt_case('bytea', 'bytea', NULL, '{"\\x00","\\x0000","\\x",NULL,"\\x00"}', '{"\\xff"}');
SELECT kt_case('oid', 'oid', NULL, '{0,1,4294967295,NULL,1}', '{2}');
SELECT kt_case('date', 'date', NULL, '{2020-01-01,2020-01-02,infinity,NULL,2020-01-01}', '{1999-12-31}');
SELECT kt_case('time', 'time', NULL, '{12:00,12:00:00.5,24:00,NULL,12:00:00}', '{00:00}');
SELECT kt_case('timetz', 'timetz', NULL, '{12:00+01,11:00+00,12:00:00+01,NULL}', '{13:00+02}');
SELECT kt_case('timestamp', 'timestamp', NULL, '{2020-01-01 00:00,2020-01-01,infinity,NULL}', '{2020-01-02}');
SELECT kt_case('timestamptz', 'timestamptz', NULL,
               '{2020-01-01 00:00+00,2020-01-01 01:00+01,-infinity,NULL}', '{2020-01-01 02:00+01}');
SELECT kt_case('interval', 'interval', NULL,
               '{1 day,24 hours,1 mon,30 days,1 year,12 mons,2 hours,120 minutes,0,NULL}',
               '{720 hours,3 days,00:00,360 days}');
SELECT kt_case('uuid', 'uuid', NULL,
               '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11,00000000-0000-0000-0000-000000000000,NULL}');
SELECT kt_case('macaddr', 'macaddr', NULL, '{08:00:2b:01:02:03,08-00-2B-01-02-03,NULL}', '{08:00:2b:01:02:04}');
SELECT kt_case('macaddr8', 'macaddr8', NULL, '{08:00:2b:01:02:03:04:05,08002b0102030405,NULL}');
SELECT kt_case('inet', 'inet', NULL, '{10.0.0.1,10.0.0.1/32,10.0.0.1/8,::1,NULL}', '{10.0.0.2}');
SELECT kt_case('cidr', 'cidr', NULL, '{10.0.0.0/8,10/8,192.168.0.0/16,NULL}', '{10.0.0.0/16}');
SELECT kt_case('jsonb', 'jsonb', NULL,
               '{"{\"a\":1,\"b\":2}","{\"b\":2,\"a\":1}","{\"a\":1.0,\"b\":2}","[1,2]","[1.00,2]","null","\"x\"","{}",NULL}',
               '{"{\"a\":1.00,\"b\":2.0}","[2,1]"}');
SELECT kt_case('pg_lsn', 'pg_lsn', NULL, '{0/1,0/01,FF/FF,NULL}', '{0/2}');
SELECT kt_case('tid', 'tid', NULL, '{"(0,1)","(1,0)","(0,1)",NULL}', '{"(2,2)"}');
SELECT kt_case('xid', 'xid', NULL, '{1,2,1,NULL}', '{3}');
SELECT kt_case('xid8', 'xid8', NULL, '{1,2,1,NULL}', '{3}');
SELECT kt_case('cid', 'cid', NULL, '{1,2,1,NULL}', '{3}');
SELECT kt_case('oidvector', 'oidvector', NULL, '{"1 2"," 1  2 ","",NULL}', '{"2 1"}');
SELECT kt_case('aclitem', 'aclitem', NULL,
               ARRAY[makeaclitem(0, 10, 'SELECT', false)::text, makeaclitem(0, 10, 'SELECT', false)::text,
                     makeaclitem(0, 10, 'UPDATE', false)::text, NULL]);
SELECT kt_case('money', 'money', NULL, '{1.00,$1,2,NULL}', '{3}');
SELECT kt_case('enum', 'kt_mood', NULL, '{sad,ok,sad,NULL}', '{happy}');
SELECT kt_case('numeric_arr', 'numeric[]', NULL,
               '{"{1.0,2}","{1.00,2.0}","{1,2,3}","{NULL,1}","{}",NULL}', '{"{1,2}","{2,1}"}');
SELECT kt_case('int4_arr', 'int4[]', NULL, '{"{1,2}","[0:1]={1,2}","{}","{{1,2},{3,4}}",NULL}', '{"{1}"}');
SELECT kt_case('text_ci_arr', 'text[]', 'ci', '{"{Apple,b}","{APPLE,B}","{apple}",NULL}', '{"{aPPLE}"}');
SELECT kt_case('numrange', 'numrange', NULL, '{"[1.0,2.0)","[1.00,2)","(1,2]",empty,NULL}', '{"[1,2)"}');
SELECT kt_case('int4range', 'int4range', NULL, '{"[1,3)","[1,2]",empty,"(0,3)",NULL}', '{"[2,3)"}');
SELECT kt_case('nummultirange', 'nummultirange', NULL,
               '{"{[1.0,2.0)}","{[1.00,2)}","{[1,2),[3,4)}","{}",NULL}', '{"{[1,2)}"}');
SELECT kt_case('composite', 'kt_pair', NULL,
               '{"(1.0,Apple)","(1.00,APPLE)","(2,x)","(,)",NULL}', '{"(1,apple)","(2,X)"}');
SELECT kt_case('domain', 'kt_dnum', NULL, '{1.0,1.00,2,NULL}', '{1}');
SELECT kt_case('domain_ci', 'kt_dci', NULL, '{Apple,APPLE,b,NULL}', '{aPPLE}');

-- Every default hash operator class is covered by a case (polymorphic
-- classes by a case of their kind of type): no rows
SELECT format_type(o.opcintype, NULL) AS not_covered
  FROM pg_opclass o JOIN pg_am am ON am.oid = o.opcmethod
 WHERE am.amname = 'hash' AND o.opcdefault
   AND NOT EXISTS (
     SELECT 1 FROM kt_cases c
       JOIN pg_type d ON d.oid = c.typ
       JOIN pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END
      WHERE t.oid = o.opcintype
         OR (o.opcintype = 'anyarray'::regtype AND t.typcategory = 'A')
         OR (o.opcintype = 'anyenum'::regtype AND t.typtype = 'e')
         OR (o.opcintype = 'anyrange'::regtype AND t.typtype = 'r')
         OR (o.opcintype = 'anymultirange'::regtype AND t.typtype = 'm')
         OR (o.opcintype = 'record'::regtype AND t.typtype = 'c'));

-- kt_check(name): for case NAME, the number of distinct probe values
-- (their text), and for each way of probing the count of probes (or rows)
-- where the bundle's answer differs from the heap table's, and whether
-- the plan over the bundle looks the key up:
--   const:   "k = <constant>", for every probe value
--   any:     "k = ANY (<array of every probe value and NULL>)", as a
--            multiset of ids (each row once); not for array keys
--   generic: "k = $1" prepared, executed as a generic plan per probe
--   join:    a nested loop of kt_p_NAME with the table on k = v, as a
--            multiset of (pid, id)
CREATE FUNCTION kt_uses_lookup(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  line text;
  found boolean := false;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    found := found OR line LIKE '%Lookup Keys: %';
  END LOOP;
  RETURN found;
END $$;
CREATE FUNCTION kt_differ(qb text, qh text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) s',
                 qb, qh, qh, qb) INTO n;
  RETURN n;
END $$;
CREATE FUNCTION kt_check(n text,
                         OUT probes int, OUT const_bad int, OUT const_lookups int,
                         OUT any_bad bigint, OUT any_lookup boolean,
                         OUT generic_bad int, OUT generic_lookup boolean,
                         OUT join_rows bigint, OUT join_bad bigint, OUT join_lookup boolean)
LANGUAGE plpgsql AS $$
DECLARE
  h text := quote_ident('kt_h_' || n);
  p text := quote_ident('kt_p_' || n);
  b text := quote_ident('kt_' || n);
  typ text := (SELECT typtext FROM kt_cases WHERE name = n);
  isarray boolean := (SELECT typcategory = 'A' FROM pg_type t JOIN kt_cases c ON c.typ = t.oid
                       WHERE c.name = n);
  v text;
  q text;
  rb text;
  rh text;
BEGIN
  probes := 0; const_bad := 0; const_lookups := 0; generic_bad := 0;
  -- constants
  FOR v IN EXECUTE format('SELECT DISTINCT v::text COLLATE "C" FROM %s WHERE v IS NOT NULL ORDER BY 1', p) LOOP
    probes := probes + 1;
    q := format('SELECT array_agg(id ORDER BY id)::text FROM %%s WHERE k = %L::%s', v, typ);
    EXECUTE format(q, b) INTO rb;
    EXECUTE format(q, h) INTO rh;
    const_bad := const_bad + (rb IS DISTINCT FROM rh)::int;
    const_lookups := const_lookups + kt_uses_lookup(format(q, b))::int;
  END LOOP;
  -- "= ANY"
  IF NOT isarray THEN
    EXECUTE format('SELECT array_agg(v)::text FROM %s', p) INTO v;
    q := format('SELECT id FROM %%s WHERE k = ANY (%L::%s[])', v, typ);
    any_bad := kt_differ(format(q, b), format(q, h));
    any_lookup := kt_uses_lookup(format(q, b));
  END IF;
  -- generic plans
  PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
  EXECUTE format('PREPARE kt_gb(%s) AS SELECT array_agg(id ORDER BY id)::text FROM %s WHERE k = $1',
                 typ, b);
  EXECUTE format('PREPARE kt_gh(%s) AS SELECT array_agg(id ORDER BY id)::text FROM %s WHERE k = $1',
                 typ, h);
  FOR v IN EXECUTE format('SELECT DISTINCT v::text COLLATE "C" FROM %s ORDER BY 1 NULLS FIRST', p) LOOP
    EXECUTE format('EXECUTE kt_gb(%L)', v) INTO rb;
    EXECUTE format('EXECUTE kt_gh(%L)', v) INTO rh;
    generic_bad := generic_bad + (rb IS DISTINCT FROM rh)::int;
  END LOOP;
  generic_lookup := kt_uses_lookup(format('EXECUTE kt_gb(%L)', v));
  DEALLOCATE kt_gb;
  DEALLOCATE kt_gh;
  -- nested-loop joins
  PERFORM set_config('enable_hashjoin', 'off', true);
  PERFORM set_config('enable_mergejoin', 'off', true);
  PERFORM set_config('enable_material', 'off', true);
  q := 'SELECT p.pid, t.id FROM %s p JOIN %s t ON t.k = p.v';
  EXECUTE format('SELECT count(*) FROM (' || q || ') s', p, h) INTO join_rows;
  join_bad := kt_differ(format(q, p, b), format(q, p, h));
  join_lookup := kt_uses_lookup(format(q, p, b));
END $$;
-- (a boolean key's "k = true" is planned as "k", which is no lookup)
SELECT c.name, k.* FROM kt_cases c, LATERAL kt_check(c.name) k ORDER BY c.name;

-- The plans: a lookup, its keys confirmed, for constants, arrays,
-- parameters of generic plans and the inner side of nested loops
EXPLAIN (COSTS OFF) SELECT id, k FROM kt_numeric WHERE k = 1.0;
SELECT id, k FROM kt_numeric WHERE k = 1.0 ORDER BY id;
SELECT id, k FROM kt_numeric WHERE k = 'NaN' ORDER BY id;
SELECT * FROM regress_explain_analyze($$SELECT id, k FROM kt_text_ci WHERE k = 'APPLE'$$);
SELECT id, k FROM kt_text_ci WHERE k = 'aPPle' ORDER BY id;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, k FROM kt_text_ci WHERE k = ANY ('{apple,BANANA,Apple}');
-- equal probes once, so each row once
SELECT id, k FROM kt_text_ci WHERE k = ANY ('{apple,BANANA,Apple,APPLE,NULL}') ORDER BY id;
SELECT id, k FROM kt_interval WHERE k = ANY ('{1 day,24 hours,1440 minutes}') ORDER BY id;
SELECT id, k FROM kt_jsonb WHERE k = '{"b": 2.0, "a": 1.00}' ORDER BY id;
SELECT id, k FROM kt_citext WHERE k = 'BANANA' ORDER BY id;
SELECT id, k FROM kt_composite WHERE k = '(1,apple)'::kt_pair ORDER BY id;
SELECT id, k FROM kt_numeric_arr WHERE k = '{1,2.000}' ORDER BY id;
PREPARE kt_q(numeric) AS SELECT id, k FROM kt_numeric WHERE k = $1 ORDER BY id;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE kt_q(1);
EXECUTE kt_q(1);
EXECUTE kt_q(2.500);
RESET plan_cache_mode;
DEALLOCATE kt_q;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SET enable_memoize = off;
EXPLAIN (COSTS OFF) SELECT p.pid, t.id FROM kt_p_interval p JOIN kt_interval t ON t.k = p.v;
SELECT p.pid, p.v, t.id, t.k FROM kt_p_interval p JOIN kt_interval t ON t.k = p.v ORDER BY 1, 3;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
RESET enable_memoize;

--
-- Cross-type probes: a lookup only where the operator is in the key's
-- hash family (or, for keys compared by their bytes, its B-tree family);
-- otherwise a scan.  Either way, the heap table's rows.
--
CREATE TABLE kt_xprobe (i4 int4, i8 int8, f8 float8, n numeric);
INSERT INTO kt_xprobe VALUES (1, 1, 1.0, 1.0), (2, 2, 2.5, 2.5), (-1, -1, -0.0, -0.0), (0, 0, 1.5, 0),
  (NULL, NULL, NULL, NULL);
ANALYZE kt_xprobe;
-- kt_both(name, query): the query with %s the table kt_NAME and with it
-- the heap table kt_h_NAME: rows, rows in one but not the other, and
-- whether the plan over the bundle looks the key up
CREATE FUNCTION kt_both(n text, q text, OUT rows bigint, OUT differ bigint, OUT lookup boolean)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT count(*) FROM (' || q || ') s', 'kt_h_' || n) INTO rows;
  differ := kt_differ(format(q, 'kt_' || n), format(q, 'kt_h_' || n));
  lookup := kt_uses_lookup(format(q, 'kt_' || n));
END $$;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT v.n AS key, v.q AS query, b.* FROM (VALUES
  ('int4', 'SELECT id FROM %s WHERE k = 1.0'),
  ('int4', 'SELECT id FROM %s WHERE k = 1::int8'),
  ('int4', 'SELECT x.i4, t.id FROM kt_xprobe x JOIN %s t ON t.k = x.n'),
  ('int8', 'SELECT x.i4, t.id FROM kt_xprobe x JOIN %s t ON t.k = x.i4'),
  ('int8', 'SELECT id FROM %s WHERE k = 1.0'),
  ('float8', 'SELECT id FROM %s WHERE k = 0'),
  ('float8', 'SELECT x.i4, t.id FROM kt_xprobe x JOIN %s t ON t.k = x.i4'),
  ('float4', 'SELECT x.i4, t.id FROM kt_xprobe x JOIN %s t ON t.k = x.f8'),
  ('numeric', 'SELECT id FROM %s WHERE k = 1'),
  ('numeric', 'SELECT x.i4, t.id FROM kt_xprobe x JOIN %s t ON t.k = x.i8'),
  ('numeric', 'SELECT x.i4, t.id FROM kt_xprobe x JOIN %s t ON t.k = x.f8'),
  ('numeric', 'SELECT id FROM %s WHERE k = 2.5::float8'),
  ('numeric', 'SELECT id FROM %s WHERE k = ANY (ARRAY[1, 2]::int8[])'),
  ('domain', 'SELECT id FROM %s WHERE k = 1.00'),
  ('domain', 'SELECT x.i4, t.id FROM kt_xprobe x JOIN %s t ON t.k = x.n'),
  ('numeric_arr', 'SELECT id FROM %s WHERE k = ARRAY[1, 2]::numeric[]'),
  ('citext', 'SELECT id FROM %s WHERE k = ''apple''::text'),
  ('citext', 'SELECT id FROM %s WHERE k = ''apple''::citext'),
  ('varchar_ci', 'SELECT id FROM %s WHERE k = ''APPLE''::text'),
  ('text_ci', 'SELECT id FROM %s WHERE k = ''APPLE'' COLLATE "C"'),
  ('text_ci', 'SELECT id FROM %s WHERE k = ''apple'' COLLATE ci'),
  ('text', 'SELECT id FROM %s WHERE k = ''A'' COLLATE ci'),
  ('interval', 'SELECT id FROM %s WHERE k = ''86400 seconds''::interval'),
  ('timestamptz', 'SELECT id FROM %s WHERE k = ''2020-01-01''::date'),
  ('timestamp', 'SELECT id FROM %s WHERE k = ''2020-01-01''::date')
) v(n, q), LATERAL kt_both(v.n, v.q) b;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

--
-- A table whose key column has another collation than the one the key
-- was hashed with never looks it up: it compares under its own.
--
CREATE FOREIGN TABLE kt_text_c (id int, k text COLLATE "C")
  SERVER sharedbuf OPTIONS (bundle 'kt_text_ci');
EXPLAIN (COSTS OFF) SELECT id FROM kt_text_c WHERE k = 'APPLE';
SELECT id FROM kt_text_c WHERE k = 'APPLE';
SELECT id FROM kt_h_text_ci WHERE k = 'APPLE' COLLATE "C";
CREATE COLLATION ci_accents (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
CREATE FOREIGN TABLE kt_text_ci1 (id int, k text COLLATE ci_accents)
  SERVER sharedbuf OPTIONS (bundle 'kt_text_ci');
EXPLAIN (COSTS OFF) SELECT id FROM kt_text_ci1 WHERE k = 'APPLE';
SELECT id FROM kt_text_ci1 WHERE k = 'APPLE' ORDER BY id;
-- another collation of the same locale hashes alike: looked up
CREATE COLLATION ci_twin (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE FOREIGN TABLE kt_text_twin (id int, k text COLLATE ci_twin)
  SERVER sharedbuf OPTIONS (bundle 'kt_text_ci');
EXPLAIN (COSTS OFF) SELECT id FROM kt_text_twin WHERE k = 'APPLE';
SELECT id FROM kt_text_twin WHERE k = 'APPLE' ORDER BY id;

-- IMPORT FOREIGN SCHEMA declares a hashed key column with the collation
-- it was hashed with
CREATE SCHEMA kt_imported;
IMPORT FOREIGN SCHEMA bundles LIMIT TO (kt_text_ci, kt_numeric) FROM SERVER sharedbuf INTO kt_imported;
SELECT attrelid::regclass, attname, format_type(atttypid, atttypmod), attcollation::regcollation
  FROM pg_attribute WHERE attrelid IN ('kt_imported.kt_text_ci'::regclass, 'kt_imported.kt_numeric'::regclass)
   AND attnum > 0 ORDER BY 1, attnum;
EXPLAIN (COSTS OFF) SELECT id FROM kt_imported.kt_text_ci WHERE k = 'APPLE';
SELECT id FROM kt_imported.kt_text_ci WHERE k = 'APPLE' ORDER BY id;

--
-- A refresh that changes how the key is compared, under a prepared
-- statement whose generic plan looks the old key up: the statement reads
-- the new bundle and filters it, with the same result.
--
CREATE TABLE kt_h_refresh (id int, k text COLLATE ci);
INSERT INTO kt_h_refresh VALUES (1, 'Apple'), (2, 'APPLE'), (3, 'pear');
SELECT rows FROM sharedbuf_create('kt_refresh', 'SELECT id, k FROM kt_h_refresh', key => 'k');
PREPARE kt_r(text) AS SELECT id FROM kt_refresh WHERE k = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE kt_r('apple');
EXECUTE kt_r('apple');
-- rebuilt compared by its bytes (collation "C"), and then hashed again;
-- the table does not change, so the plan stays
SELECT rows FROM sharedbuf_build('kt_refresh', 'SELECT id, k COLLATE "C" AS k FROM kt_h_refresh', key => 'k');
SELECT * FROM regress_explain_analyze($$EXECUTE kt_r('apple')$$);
EXECUTE kt_r('apple');
SELECT rows FROM sharedbuf_build('kt_refresh', 'SELECT id, k FROM kt_h_refresh', key => 'k');
EXECUTE kt_r('apple');
-- hashed under another locale
SELECT rows FROM sharedbuf_build('kt_refresh', 'SELECT id, k COLLATE ci_accents AS k FROM kt_h_refresh', key => 'k');
EXECUTE kt_r('apple');
RESET plan_cache_mode;
DEALLOCATE kt_r;

--
-- An approximate bundle with a hashed key: rows match on the hash
--
SELECT rows FROM sharedbuf_create('kt_approx', 'SELECT id, k FROM kt_h_numeric',
                                  key => 'k', approximate => true);
EXPLAIN (COSTS OFF) SELECT id, k FROM kt_approx WHERE k = 1;
SELECT id, k FROM kt_approx WHERE k = 1 ORDER BY id;

--
-- A composite key of a byte-compared and a hashed column
--
CREATE TABLE kt_h_two (id int, a int4, n numeric);
INSERT INTO kt_h_two SELECT g, g % 3, (g % 4) / 2.0 FROM generate_series(1, 24) g;
INSERT INTO kt_h_two VALUES (25, 1, 1.000), (26, NULL, 1), (27, 1, NULL);
ANALYZE kt_h_two;
SELECT rows, distinct_keys FROM sharedbuf_create('kt_two', 'SELECT id, a, n FROM kt_h_two', key => 'a, n');
EXPLAIN (COSTS OFF) SELECT id FROM kt_two WHERE a = 1 AND n = 1;
SELECT id FROM kt_two WHERE a = 1 AND n = 1 ORDER BY id;
SELECT id FROM kt_h_two WHERE a = 1 AND n = 1 ORDER BY id;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT kt_differ('SELECT h.id, t.id FROM kt_h_two h JOIN kt_two t ON t.a = h.a AND t.n = h.n',
                 'SELECT h.id, t.id FROM kt_h_two h JOIN kt_h_two t ON t.a = h.a AND t.n = h.n') AS differ,
       kt_uses_lookup('SELECT h.id, t.id FROM kt_h_two h JOIN kt_two t ON t.a = h.a AND t.n = h.n') AS lookup;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

--
-- Types that cannot be keys: no default hash operator class, or one
-- whose values cannot all be hashed
--
CREATE TYPE kt_pt AS (p point);
SELECT rows FROM sharedbuf_build('kt_err', 'SELECT ''(1,2)''::point AS p', key => 'p');  -- error
SELECT rows FROM sharedbuf_build('kt_err', 'SELECT ''{"(1,2)"}''::point[] AS p', key => 'p');  -- error
SELECT rows FROM sharedbuf_build('kt_err', 'SELECT ROW(''(1,2)'')::kt_pt AS p', key => 'p');  -- error
SELECT rows FROM sharedbuf_build('kt_err', 'SELECT B''101'' AS b', key => 'b');  -- error
-- character(n) under a nondeterministic collation: a key of its own,
-- but not inside an array or composite (see the message)
SELECT rows FROM sharedbuf_build('kt_err', 'SELECT ARRAY[''ab''::char(4)] COLLATE ci AS a', key => 'a');  -- error
CREATE TYPE kt_padded AS (c char(4) COLLATE ci);
SELECT rows FROM sharedbuf_build('kt_err', 'SELECT ROW(''ab'')::kt_padded AS p', key => 'p');  -- error
