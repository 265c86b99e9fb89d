--
-- Types: every built-in type comes back from a bundle exactly as it went
-- in, through sequential scans and, where the type can be a key, through
-- key lookups; user-defined enums, composites, domains and ranges, arrays
-- of all of these; values of more than 10 MB; and the errors for types
-- that cannot be stored, or cannot be keys.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sharedbuf;
-- output that does not depend on the server's settings
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;
SET bytea_output = 'hex';
SET lc_monetary = 'C';

-- types_compare(heap, bundle table): the rows of each, then the rows of
-- one that the other lacks, compared by the types' equality (EXCEPT ALL;
-- skipped for types without one) and as text, which also tells apart
-- values that are equal but not identical (-0 and 0, '1 day' and
-- '24 hours', 1.5 and 1.50).
CREATE FUNCTION types_compare(heap regclass, bundle regclass,
                              by_equality boolean DEFAULT true,
                              OUT heap_rows bigint, OUT bundle_rows bigint,
                              OUT missing bigint, OUT extra bigint,
                              OUT text_missing bigint, OUT text_extra bigint)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT (SELECT count(*) FROM %s), (SELECT count(*) FROM %s)',
                 heap, bundle) INTO heap_rows, bundle_rows;
  IF by_equality THEN
    EXECUTE format('SELECT count(*) FROM (TABLE %s EXCEPT ALL TABLE %s) s',
                   heap, bundle) INTO missing;
    EXECUTE format('SELECT count(*) FROM (TABLE %s EXCEPT ALL TABLE %s) s',
                   bundle, heap) INTO extra;
  END IF;
  EXECUTE format('SELECT count(*) FROM (SELECT t::text FROM %s t EXCEPT ALL SELECT t::text FROM %s t) s',
                 heap, bundle) INTO text_missing;
  EXECUTE format('SELECT count(*) FROM (SELECT t::text FROM %s t EXCEPT ALL SELECT t::text FROM %s t) s',
                 bundle, heap) INTO text_extra;
END $$;

--
-- Integers, oid and "char": the limits of each
--
CREATE TABLE types_int (id int4, i2 int2, i4 int4, i8 int8, o oid, ch "char");
INSERT INTO types_int VALUES
  (1, -32768, -2147483648, -9223372036854775808, 0, 'a'),
  (2, 32767, 2147483647, 9223372036854775807, 4294967295, 'z'),
  (3, 0, 0, 0, 1, ' '),
  (4, -1, -1, -1, 2147483648, '\377'),
  (5, NULL, NULL, NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_int_b', 'SELECT * FROM types_int');
SELECT * FROM types_compare('types_int', 'types_int_b');
SELECT * FROM types_int_b ORDER BY id;

--
-- float4 and float8: zeros of both signs, NaN (also one with the sign bit
-- set, as Infinity - Infinity gives on most machines), infinities, the
-- smallest denormals, the largest and smallest normal numbers
--
CREATE TABLE types_float (id int4, f4 float4, f8 float8);
INSERT INTO types_float VALUES
  (1, 0, 0),
  (2, '-0', '-0'),
  (3, 'NaN', 'NaN'),
  (4, 'Infinity'::float4 - 'Infinity'::float4, 'Infinity'::float8 - 'Infinity'::float8),
  (5, 'Infinity', 'Infinity'),
  (6, '-Infinity', '-Infinity'),
  (7, '1.4e-45', '4.9e-324'),
  (8, '-1.4e-45', '-4.9e-324'),
  (9, '1.17549435e-38', '2.2250738585072014e-308'),
  (10, '3.4028235e38', '1.7976931348623157e308'),
  (11, '0.1', '0.1'),
  (12, pi(), pi()),
  (13, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_float_b', 'SELECT * FROM types_float');
SELECT * FROM types_compare('types_float', 'types_float_b');
-- every value keeps its exact bits, NaNs included
SELECT count(*) AS rows,
       count(*) FILTER (WHERE float4send(h.f4) IS DISTINCT FROM float4send(b.f4)) AS f4_bits_differ,
       count(*) FILTER (WHERE float8send(h.f8) IS DISTINCT FROM float8send(b.f8)) AS f8_bits_differ
  FROM types_float h JOIN types_float_b b USING (id);
SELECT id, f4, f8 FROM types_float_b WHERE id <> 4 ORDER BY id;
-- -0 stays -0: its text and its sign bit
SELECT f4::text, f8::text, float4send(f4), float8send(f8),
       atan2(f4, -1) < 0 AS f4_negative, atan2(f8, -1) < 0 AS f8_negative
  FROM types_float_b WHERE id = 2;

--
-- numeric: huge, tiny, NaN and infinities, scales kept, and a typmod
--
CREATE TABLE types_numeric (id int4, n numeric, n52 numeric(5,2));
INSERT INTO types_numeric VALUES
  (1, 0, 0),
  (2, '-0.000', '-0.00'),
  (3, '1.500', 1.5),
  (4, '1e1000', 999.99),
  (5, '-1e-1000', -999.99),
  (6, '12345678901234567890.12345678901234567890', 0.01),
  (7, 'NaN', 'NaN'),
  (8, 'Infinity', -0.01),
  (9, '-Infinity', 1),
  (10, round(2::numeric ^ 3000, 16), NULL),  -- (the scale of ^ differs between majors)
  (11, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_numeric_b', 'SELECT * FROM types_numeric');
SELECT * FROM types_compare('types_numeric', 'types_numeric_b');
SELECT id, CASE WHEN length(n::text) > 50 THEN left(n::text, 12) || '... (' || length(n::text) || ' characters)' ELSE n::text END AS n,
       scale(n), n52
  FROM types_numeric_b ORDER BY id;

--
-- Character types and bytea: empty values, multibyte characters, trailing
-- blanks, char(n) padding, zero bytes, long and compressed values
--
CREATE TABLE types_text (id int4, t text, vc varchar(10), c char(5), nm name, ba bytea);
INSERT INTO types_text VALUES
  (1, '', '', '', '', ''),
  (2, 'ü', 'ü', 'ü', 'ü', '\x00'),
  (3, '日本語', '日本語', '日本語', '日本語', '\x0000'),
  (4, '🐘 elephant', '🐘', '🐘', '🐘', '\x00ff00'),
  (5, 'trailing  ', 'tr  ', 'ab', 'ab  ', '\xdeadbeef'),
  (6, repeat('ab', 100), repeat('x', 10), 'abcde', repeat('n', 63), decode(repeat('00', 300), 'hex')),
  (7, repeat('compress me ', 10000), NULL, NULL, NULL, decode(repeat('ff', 100000), 'hex')),
  (8, E'quote '' backslash \\ tab \t newline \n', E'\t', ' ', ' ', '\x5c'),
  (9, NULL, NULL, NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_text_b', 'SELECT * FROM types_text');
SELECT * FROM types_compare('types_text', 'types_text_b');
SELECT id, t, length(t), octet_length(t), vc, c, length(c) AS c_length,
       octet_length(c) AS c_octets, nm, ba
  FROM types_text_b WHERE id <= 5 ORDER BY id;
SELECT id, length(t), md5(t), vc, c, nm, length(ba), md5(ba)
  FROM types_text_b WHERE id > 5 ORDER BY id;

--
-- Dates and times: infinities, the first and last dates, BC, time 24:00,
-- time zones at the limits; timestamptz given in several time zones;
-- intervals that are equal but not identical
--
CREATE TABLE types_time (id int4, d date, tm time, ttz timetz, ts timestamp,
                         tstz timestamptz, iv interval);
INSERT INTO types_time VALUES
  (1, 'infinity', '00:00', '00:00+00', 'infinity', 'infinity', '0'),
  (2, '-infinity', '24:00:00', '24:00:00-15:59', '-infinity', '-infinity', '-178000000 years'),
  (3, '4714-11-24 BC', '23:59:59.999999', '12:34:56.789+05:30', '4714-11-24 00:00:00 BC',
   '4714-11-24 00:00:00+00 BC', '178000000 years'),
  (4, '5874897-12-31', '12:00', '12:00-08', '294276-12-31 23:59:59.999999',
   '294276-12-31 23:59:59.999999+00', '1 year 2 months 3 days 04:05:06.789'),
  (5, '0044-03-15 BC', '00:00:00.000001', '00:00+15:59', '0044-03-15 12:00 BC',
   '2021-03-28 01:30:00 Europe/Berlin', '1 day'),
  (6, '2000-02-29', '13:14:15', '13:14:15-03', '2000-02-29 12:00',
   '2021-03-14 02:30:00 America/New_York', '24 hours'),
  (7, '1970-01-01', '01:02:03.5', '01:02:03.5+01', '1970-01-01 00:00',
   '2020-01-01 00:00:00+00', '1 mon'),
  (8, '1999-12-31', '01:02:03.5', '01:02:03.5+02', '1999-12-31 23:59:59.5',
   '2020-01-01 09:00:00 Asia/Tokyo', '30 days'),
  (9, '2038-01-19', '03:14:07', '03:14:07+00', '2038-01-19 03:14:07',
   '2019-12-31 19:00:00 America/New_York', '-1 day +24:00:00'),
  (10, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_time_b', 'SELECT * FROM types_time');
SELECT * FROM types_compare('types_time', 'types_time_b');
SELECT * FROM types_time_b ORDER BY id;
-- timestamptz values are instants: the same in another time zone
SET TimeZone = 'Asia/Kolkata';
SELECT id, tstz FROM types_time_b WHERE id >= 5 ORDER BY id;
SELECT count(*) AS mismatches FROM types_time h JOIN types_time_b b USING (id)
  WHERE h.tstz::text IS DISTINCT FROM b.tstz::text;
SET TimeZone = 'UTC';

--
-- Other built-in types with an equality: uuid, jsonb, network addresses,
-- money, bit strings, tsvector, pg_lsn, bool
--
CREATE TABLE types_misc (id int4, u uuid, j jsonb, ip inet, cn cidr, mac macaddr,
                         mac8 macaddr8, m money, bt bit(8), vb varbit, tsv tsvector,
                         lsn pg_lsn, bo bool);
INSERT INTO types_misc VALUES
  (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1, "b": [1, 2.50, null], "ü": "日本"}',
   '192.168.0.1/24', '192.168.0.0/24', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
   '1234.56', B'10101010', B'1', 'a fat cat sat on a mat', '16/B374D848', true),
  (2, '00000000-0000-0000-0000-000000000000', '[]', '::1', '2001:db8::/32',
   'ff:ff:ff:ff:ff:ff', '08:00:2b:01:02:03', '-92233720368547758.08', B'00000000', B'',
   '', '0/0', false),
  (3, 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '"string"', '2001:db8::1/64', '10.0.0.0/8',
   '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff:ff:ff', '92233720368547758.07', B'11111111',
   repeat('01', 100)::varbit, 'ü:1A 日本:2B,3', 'FFFFFFFF/FFFFFFFF', NULL),
  (4, '{a0eebc999c0b4ef8bb6d6bb9bd380a12}', '{"n": 1.0e10, "big": 123456789012345678901234567890}',
   '0.0.0.0/0', '::/0', '01-02-03-04-05-06', '0102.0304.0506.0708', '0', B'00000001', B'0',
   'x', '0/1', true),
  (5, NULL, 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_misc_b', 'SELECT * FROM types_misc');
SELECT * FROM types_compare('types_misc', 'types_misc_b');
SELECT * FROM types_misc_b WHERE id <> 3 ORDER BY id;
SELECT id, length(vb), tsv FROM types_misc_b WHERE id = 3;

--
-- Types without an equality, compared as text: json (kept verbatim, with
-- its blanks and repeated keys), xml, geometric types, snapshots
--
CREATE TABLE types_noeq (id int4, js json, x xml, pt point, ls lseg, bx box, pa path,
                         pg polygon, ci circle, li line, sn pg_snapshot);
INSERT INTO types_noeq VALUES
  (1, '{"b":1,   "a":[1,2]  , "a": 3}', '<a x="1">ü</a>', '(1,2)', '[(0,0),(1,1)]',
   '(1,1),(0,0)', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(2,0))', '<(0,0),1.5>',
   '{1,-1,0}', '10:20:10,14,15'),
  (2, '[]', '<?xml version="1.0"?><r/>', '(-0,NaN)', '[(1e300,-1e300),(0,0)]',
   '(0,0),(0,0)', '((0,0),(1,1))', '((0,0))', '<(0,0),0>', '{0,1,-5}', '1:1:'),
  (3, 'null', 'text only', '(Infinity,-Infinity)', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_noeq_b', 'SELECT * FROM types_noeq');
SELECT * FROM types_compare('types_noeq', 'types_noeq_b', by_equality => false);
SELECT * FROM types_noeq_b ORDER BY id;

--
-- Arrays: one and more dimensions, NULL elements, lower bounds other than
-- 1, empty arrays, and a large one
--
CREATE TABLE types_array (id int4, ai int4[], ai8 int8[], at text[], af float8[],
                          an numeric[], ad date[], atz timestamptz[], au uuid[],
                          aj jsonb[], ab bool[], aby bytea[], ar int4range[],
                          aip inet[], aiv interval[]);
INSERT INTO types_array VALUES
  (1, '{1,2,3}', '{-9223372036854775808,9223372036854775807}', '{"a b","日本語",NULL,"","\"q\""}',
   '{0,-0,NaN,Infinity,-Infinity,5e-324}', '{1.50,NaN,-Infinity,1e-20}',
   '{infinity,2000-01-01,0044-03-15 BC}', '{"2020-01-01 00:00+00","2020-01-01 12:00 Europe/Berlin"}',
   '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"a": 1}'::jsonb, '[1, 2]', NULL],
   '{t,f,NULL}', '{"\\x00","\\x",NULL}', '{"[1,2)",empty,"(,)"}', '{::1,10.0.0.1/8}',
   '{"1 day","24 hours"}'),
  (2, '{{1,2},{3,4}}', '{{1,NULL},{NULL,4}}', '{{{a}},{{b}}}', '{{0.5},{-0}}', '{{1},{2}}',
   '{{2000-01-01,infinity}}', '{{infinity,-infinity}}', '{{NULL}}', '{{"{}"}}', '{{t},{f}}',
   '{{"\\xff"}}', '{{"[1,1]"}}', '{{NULL}}', '{{"1 mon","30 days"}}'),
  (3, '[0:2]={1,2,3}', '[-5:-4]={1,2}', '[2:3][0:0]={{x},{y}}', '[0:0]={NaN}', '[10:10]={0.0}',
   '[0:1]={2000-01-01,NULL}', '[2:2]={"2000-01-01 00:00+00"}', '[0:0]={00000000-0000-0000-0000-000000000000}',
   '[0:0]={"null"}', '[0:1]={t,f}', '[0:0]={"\\x00"}', '[0:0]={empty}', '[0:0]={::/0}', '[0:0]={0}'),
  (4, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
  (5, '{NULL}', '{NULL,NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}',
   '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}'),
  (6, (SELECT array_agg(g) FROM generate_series(1, 100000) g), NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_array_b', 'SELECT * FROM types_array');
SELECT * FROM types_compare('types_array', 'types_array_b');
SELECT id, ai, array_dims(ai), ai8, at, array_dims(at), af, an
  FROM types_array_b WHERE id <> 6 ORDER BY id;
SELECT id, ad, atz, au, aj FROM types_array_b WHERE id <> 6 ORDER BY id;
SELECT id, ab, aby, ar, aip, aiv FROM types_array_b WHERE id <> 6 ORDER BY id;
SELECT array_length(ai, 1), ai[1], ai[100000], (SELECT sum(x) FROM unnest(ai) x)
  FROM types_array_b WHERE id = 6;

--
-- User-defined types: an enum (with a value added later, so that its
-- OIDs are not in label order), composites (nested, with enums, arrays
-- and NULL fields), domains over int4 and text with a CHECK, arrays of
-- all of these, ranges and multiranges over a user type and a user range
-- over a built-in type, a table's row type
--
CREATE TYPE types_mood AS ENUM ('sad', 'ok', 'happy', 'überglücklich');
ALTER TYPE types_mood ADD VALUE 'meh' BEFORE 'ok';
CREATE TYPE types_pair AS (n int4, t text, m types_mood);
CREATE TYPE types_nest AS (p types_pair, a int4[], ms types_mood[]);
CREATE DOMAIN types_posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN types_code AS text CHECK (VALUE ~ '^[A-Z]+$');
CREATE TYPE types_mood_range AS RANGE (subtype = types_mood);
CREATE TYPE types_float_range AS RANGE (subtype = float8);
CREATE TABLE types_user (id int4, m types_mood, p types_pair, nst types_nest,
                         pi types_posint, cd types_code, am types_mood[],
                         ap types_pair[], api types_posint[], acd types_code[],
                         mr types_mood_range, mmr types_mood_multirange,
                         fr types_float_range, amr types_mood_range[],
                         ir int4range, tr tstzrange, dmr datemultirange, ti types_int);
INSERT INTO types_user VALUES
  (1, 'sad', '(1,abc,happy)', '("(2,x,sad)","{1,2}","{ok,meh}")', 1, 'ABC',
   '{sad,happy,NULL}', '{"(1,a,ok)",NULL,"(,,)"}', '{1,2}', '{A,BC,NULL}',
   '[sad,happy)', '{[sad,ok),[happy,überglücklich]}', '[0,1.5]', '{"[meh,ok]",empty}',
   '[1,10)', '[2020-01-01,2021-01-01)', '{[2020-01-01,2020-02-01)}',
   (SELECT t FROM types_int t WHERE id = 1)),
  (2, 'überglücklich', '(,,)', '(,,)', 2147483647, 'Z',
   '[0:1]={ok,sad}', '[3:3]={"(3,\"q,\"\"\",meh)"}', '[0:0]={5}', '[-1:-1]={XYZ}',
   'empty', '{}', '(,)', '[0:0]={"(,)"}', 'empty', '(,)', '{}',
   (SELECT t FROM types_int t WHERE id = 5)),
  (3, 'meh', '(-5,"",)', NULL, NULL, NULL,
   '{{sad,ok},{happy,meh}}', '{}', '{NULL}', '{}',
   '(,meh]', '{(,sad],[happy,)}', '[-Infinity,Infinity]', NULL,
   '(,5]', '[-infinity,infinity]', '{[2000-01-01,infinity)}',
   (SELECT t FROM types_int t WHERE id = 4)),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_user_b', 'SELECT * FROM types_user');
SELECT * FROM types_compare('types_user', 'types_user_b');
SELECT id, m, p, nst, pi, cd, am, ap FROM types_user_b ORDER BY id;
SELECT id, api, acd, mr, mmr, fr, amr FROM types_user_b ORDER BY id;
SELECT id, ir, tr, dmr, ti FROM types_user_b ORDER BY id;
-- the values behave as their types: enum order, fields, bounds
SELECT id, m < 'ok' AS before_ok, (p).m, (nst).p.t, array_lower(am, 1), mr @> 'meh'::types_mood
  FROM types_user_b ORDER BY id;
-- the composite of all NULL fields is not the NULL composite
SELECT id, p IS NULL AS is_null, p IS NOT DISTINCT FROM NULL AS not_distinct_from_null
  FROM types_user_b WHERE id IN (2, 4) ORDER BY id;

--
-- Values of more than 10 MB: a text, an incompressible text and bytea;
-- through a sequential scan, an id lookup, and as a text key
--
CREATE TABLE types_large (id int4, t text, tr text, b bytea);
INSERT INTO types_large VALUES
  (1, repeat('x', 11 * 1024 * 1024),
   (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 360000) g),
   (SELECT decode(string_agg(md5(g::text), ''), 'hex') FROM generate_series(1, 720000) g)),
  (2, 'small', 'small', '\x00'),
  (3, NULL, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_large_b', 'SELECT * FROM types_large', key => 'id');
SELECT id, length(t), md5(t), length(tr), md5(tr), length(b), md5(b)
  FROM types_large ORDER BY id;
SELECT id, length(t), md5(t), length(tr), md5(tr), length(b), md5(b)
  FROM types_large_b ORDER BY id;
SELECT length(t), md5(t), length(tr), md5(tr), length(b), md5(b)
  FROM types_large_b WHERE id = 1;
SELECT * FROM types_compare('types_large', 'types_large_b');
SELECT rows, distinct_keys FROM sharedbuf_create('types_large_k', 'SELECT id, t FROM types_large', key => 't');
SELECT id, length(t) FROM types_large_k WHERE t = repeat('x', 11 * 1024 * 1024);
SELECT id, length(t) FROM types_large_k WHERE t = repeat('x', 11 * 1024 * 1024 - 1);
SELECT id, length(t) FROM types_large_k WHERE t = 'small';

-- the foreign tables have the columns of their heap tables: names, types
-- with their typmods, collations
SELECT h.relname AS heap_table, count(*) AS columns,
       count(*) FILTER (WHERE fa.attname IS NULL OR fa.atttypid <> ha.atttypid OR
                              fa.atttypmod <> ha.atttypmod OR
                              fa.attcollation <> ha.attcollation) AS mismatches
  FROM pg_class h
  JOIN pg_attribute ha ON ha.attrelid = h.oid AND ha.attnum > 0
  LEFT JOIN pg_attribute fa ON fa.attrelid = (h.relname || '_b')::regclass
                           AND fa.attname = ha.attname
  WHERE h.relname IN ('types_int', 'types_float', 'types_numeric', 'types_text',
                      'types_time', 'types_misc', 'types_noeq', 'types_array',
                      'types_user', 'types_large')
  GROUP BY h.relname ORDER BY h.relname;

--
-- Keys: one bundle per key-capable type, each keyed by that column, all
-- from one table with duplicate and NULL keys.  For every row of the
-- table, the bundle's rows for the row's key must be the table's rows for
-- that key; the lookups (not sequential scans) must answer.
--
CREATE TABLE types_keys (id int4, b bool, ch "char", i2 int2, i4 int4, i8 int8, o oid,
                         f4 float4, f8 float8, m money, t text, vc varchar(8), c char(4),
                         nm name, ba bytea, u uuid, d date, tm time, ts timestamp,
                         tstz timestamptz, mac macaddr, mac8 macaddr8, e types_mood,
                         dpi types_posint, dcd types_code);
INSERT INTO types_keys VALUES
  (1, true, 'a', -32768, -2147483648, -9223372036854775808, 0, 0, 0, '0', '', '', '', '', '',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'infinity', '00:00', 'infinity', 'infinity',
   '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', 'sad', 1, 'A'),
  (2, false, 'b', 32767, 2147483647, 9223372036854775807, 4294967295, '-0', '-0', '1.00',
   'ab', 'ab', 'ab', 'ab', '\x00', '00000000-0000-0000-0000-000000000000', '-infinity',
   '24:00', '-infinity', '-infinity', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00', 'meh', 2, 'AB'),
  (3, true, 'a', 0, 0, 0, 1, 'NaN', 'NaN', '-1.00', 'ab ', 'ab ', 'ab  ', 'ab ', '\x0000',
   'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '4714-11-24 BC', '23:59:59.999999',
   '4714-11-24 00:00 BC', '2020-01-01 00:00:00+00', 'ff:ff:ff:ff:ff:ff',
   'ff:ff:ff:ff:ff:ff:ff:ff', 'überglücklich', 2147483647, 'ABC'),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, 'Infinity'::float4 - 'Infinity'::float4,
   'Infinity'::float8 - 'Infinity'::float8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, '2020-01-01 09:00:00 Asia/Tokyo', NULL, NULL, NULL, NULL, NULL),
  (5, false, ' ', 1, 1, 1, 2, 'Infinity', 'Infinity', '92233720368547758.07', 'ü', 'ü', 'ü',
   'ü', '\x00ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2000-02-29', '12:00',
   '2000-02-29 12:00', '2019-12-31 19:00:00 America/New_York', '08:00:2b:01:02:03',
   '08:00:2b:01:02:03', 'happy', 1, 'A'),
  (6, true, 'b', -1, -1, -1, 0, '-Infinity', '-Infinity', '-92233720368547758.08', '日本語',
   '日本語', '日本語', '日本語', '\xdeadbeef', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12',
   '0044-03-15 BC', '12:00:00.000001', '2000-02-29 12:00:00.000001', '2000-01-01 00:00+14',
   '08:00:2b:01:02:04', '08:00:2b:ff:fe:01:02:03', 'ok', 3, 'XYZ'),
  (7, NULL, 'a', -32768, -2147483648, -9223372036854775808, 0, '1.4e-45', '4.9e-324', '0',
   '🐘', '🐘', '🐘', '🐘', '', '00000000-0000-0000-0000-000000000000', 'infinity', '00:00',
   'infinity', '2000-01-01 00:00+14', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', 'sad', 1, 'A'),
  (8, false, NULL, 32767, 2147483647, 9223372036854775807, 4294967295, '0.1', '0.1', '1.00',
   'ab', 'ab', 'ab', 'ab', '\x00', NULL, '-infinity', '24:00', '-infinity', 'infinity',
   NULL, NULL, 'meh', 2, 'AB'),
  (9, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

SELECT rows, distinct_keys FROM sharedbuf_create('types_k_b', 'SELECT * FROM types_keys', key => 'b');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_ch', 'SELECT * FROM types_keys', key => 'ch');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_i2', 'SELECT * FROM types_keys', key => 'i2');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_i4', 'SELECT * FROM types_keys', key => 'i4');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_i8', 'SELECT * FROM types_keys', key => 'i8');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_o', 'SELECT * FROM types_keys', key => 'o');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_f4', 'SELECT * FROM types_keys', key => 'f4');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_f8', 'SELECT * FROM types_keys', key => 'f8');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_m', 'SELECT * FROM types_keys', key => 'm');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_t', 'SELECT * FROM types_keys', key => 't');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_vc', 'SELECT * FROM types_keys', key => 'vc');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_c', 'SELECT * FROM types_keys', key => 'c');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_nm', 'SELECT * FROM types_keys', key => 'nm');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_ba', 'SELECT * FROM types_keys', key => 'ba');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_u', 'SELECT * FROM types_keys', key => 'u');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_d', 'SELECT * FROM types_keys', key => 'd');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_tm', 'SELECT * FROM types_keys', key => 'tm');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_ts', 'SELECT * FROM types_keys', key => 'ts');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_tstz', 'SELECT * FROM types_keys', key => 'tstz');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_mac', 'SELECT * FROM types_keys', key => 'mac');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_mac8', 'SELECT * FROM types_keys', key => 'mac8');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_e', 'SELECT * FROM types_keys', key => 'e');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_dpi', 'SELECT * FROM types_keys', key => 'dpi');
SELECT rows, distinct_keys FROM sharedbuf_create('types_k_dcd', 'SELECT * FROM types_keys', key => 'dcd');

-- types_lookups(column): for each row of types_keys, the rows with its
-- key in the bundle keyed by that column (a lookup with the key as a
-- parameter, once per row) against the rows of the table; and whether
-- the plan looks the key up
CREATE FUNCTION types_lookups(col name, OUT probes bigint, OUT mismatches bigint,
                              OUT uses_lookup boolean)
LANGUAGE plpgsql AS $$
DECLARE
  q text := format(
    'SELECT count(*), count(*) FILTER (WHERE b IS DISTINCT FROM h)
       FROM (SELECT (SELECT array_agg(t::text ORDER BY t.id) FROM %2$I t WHERE t.%1$I = k.%1$I) AS b,
                    (SELECT array_agg(t::text ORDER BY t.id) FROM types_keys t WHERE t.%1$I = k.%1$I) AS h
             FROM types_keys k) s',
    col, 'types_k_' || col);
  line text;
BEGIN
  uses_lookup := false;
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    uses_lookup := uses_lookup OR line LIKE '%Lookup Keys: ' || col || ' = %';
  END LOOP;
  EXECUTE q INTO probes, mismatches;
END $$;
SELECT c AS key, format_type(a.atttypid, a.atttypmod) AS type, l.*
  FROM unnest(ARRAY['b', 'ch', 'i2', 'i4', 'i8', 'o', 'f4', 'f8', 'm', 't', 'vc', 'c', 'nm',
                    'ba', 'u', 'd', 'tm', 'ts', 'tstz', 'mac', 'mac8', 'e', 'dpi', 'dcd']) c
  JOIN pg_attribute a ON a.attrelid = 'types_keys'::regclass AND a.attname = c,
  LATERAL types_lookups(c) l;
-- one such plan: the lookup runs once per row of the outer table
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT k.id, (SELECT array_agg(t.id) FROM types_k_u t WHERE t.u = k.u) FROM types_keys k;

-- Constants: each lookup below returns the table's rows for the same
-- condition.  Floats: -0 finds 0 and -0, NaN finds every NaN, a float8
-- probe finds a float4 key only if float4 holds it exactly.
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_k_f8 WHERE f8 = '-0';
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f8 WHERE f8 = '-0') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f8 = '-0') AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f8 WHERE f8 = 'NaN') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f8 = 'NaN') AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f4 WHERE f4 = 0) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f4 = 0) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f4 WHERE f4 = 'NaN'::float8) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f4 = 'NaN'::float8) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f4 WHERE f4 = 0.1::float8) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f4 = 0.1::float8) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f4 WHERE f4 = 0.1::float4::float8) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f4 = 0.1::float4::float8) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f8 WHERE f8 = ANY (ARRAY['-Infinity', 0.1]::float4[])) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f8 = ANY (ARRAY['-Infinity', 0.1]::float4[])) AS heap;
-- "= ANY" with keys that are one key once canonical: each row once
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_k_f8 WHERE f8 = ANY ('{0,-0,NaN,NaN}');
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f8 WHERE f8 = ANY ('{0,-0,NaN,NaN}')) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f8 = ANY ('{0,-0,NaN,NaN}')) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_f4 WHERE f4 = ANY ('{-0,0,NaN}'::float8[])) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE f4 = ANY ('{-0,0,NaN}'::float8[])) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_c WHERE c = ANY ('{ab,"ab ","ab  ",ü}')) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE c = ANY ('{ab,"ab ","ab  ",ü}')) AS heap;
-- char(n) ignores trailing blanks; text and varchar do not
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_k_c WHERE c = 'ab ';
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_c WHERE c = 'ab ') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE c = 'ab ') AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_t WHERE t = 'ab') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE t = 'ab') AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_t WHERE t = '') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE t = '') AS heap;
-- text probes of a varchar key and varchar probes of a text key
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_k_vc WHERE vc = 'ab '::text;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_vc WHERE vc = 'ab '::text) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE vc = 'ab '::text) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_t WHERE t = '日本語'::varchar(3)) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE t = '日本語'::varchar(3)) AS heap;
-- a text probe of a char(n) or name key compares as text: no lookup, same rows
EXPLAIN (COSTS OFF) SELECT id FROM types_k_c WHERE c = 'ab'::text;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_c WHERE c = 'ab'::text) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE c = 'ab'::text) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_nm WHERE nm = 'ab '::text) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE nm = 'ab '::text) AS heap;
-- bytea: zero bytes and the empty value are distinct keys
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_ba WHERE ba = '\x00') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE ba = '\x00') AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_ba WHERE ba = '') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE ba = '') AS heap;
-- integers of other widths, and values out of the key's range
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_k_i2 WHERE i2 = 32767::int8;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_i2 WHERE i2 = 32767::int8) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE i2 = 32767::int8) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_i2 WHERE i2 = 65535) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE i2 = 65535) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_i8 WHERE i8 = (-1)::int2) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE i8 = (-1)::int2) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_i4 WHERE i4 = -2147483648::int8) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE i4 = -2147483648::int8) AS heap;
-- timestamptz: one instant written in three time zones
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_k_tstz WHERE tstz = '2020-01-01 01:00:00+01';
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_tstz WHERE tstz = '2020-01-01 01:00:00+01') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE tstz = '2020-01-01 01:00:00+01') AS heap;
-- a timestamp probe of a timestamptz key (or of a date key) converts: no lookup, same rows
EXPLAIN (COSTS OFF) SELECT id FROM types_k_tstz WHERE tstz = '2020-01-01 00:00:00'::timestamp;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_tstz WHERE tstz = '2020-01-01 00:00:00'::timestamp) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE tstz = '2020-01-01 00:00:00'::timestamp) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_d WHERE d = '2000-02-29 00:00'::timestamp) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE d = '2000-02-29 00:00'::timestamp) AS heap;
-- dates, uuids in another spelling, macaddr8 from a 6-byte address, enums
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_d WHERE d = '-infinity') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE d = '-infinity') AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_u WHERE u = '{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE u = '{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}') AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_mac8 WHERE mac8 = '08:00:2b:01:02:03') AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE mac8 = '08:00:2b:01:02:03') AS heap;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_k_e WHERE e = ANY ('{sad,überglücklich,sad}');
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_e WHERE e = ANY ('{sad,überglücklich,sad}')) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE e = ANY ('{sad,überglücklich,sad}')) AS heap;
-- domains: probes of the base type
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_dpi WHERE dpi = 2) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE dpi = 2) AS heap;
SELECT (SELECT array_agg(id ORDER BY id) FROM types_k_dcd WHERE dcd = 'AB'::text) AS bundle,
       (SELECT array_agg(id ORDER BY id) FROM types_keys WHERE dcd = 'AB'::text) AS heap;
-- a NULL never matches
SELECT count(*) FROM types_k_i4 WHERE i4 = NULL::int4;
SELECT count(*) FROM types_k_e WHERE e = ANY ('{NULL}');

--
-- Collations: a key under a deterministic ICU collation is looked up; a
-- key under a nondeterministic collation is hashed (keytypes tests those);
-- a table that declares one over a key compared by its bytes compares
-- with it (no lookup)
--
CREATE COLLATION types_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE types_coll (id int4, t text COLLATE "und-x-icu", ci text COLLATE types_ci);
INSERT INTO types_coll VALUES (1, 'abc', 'abc'), (2, 'ABC', 'ABC'), (3, 'Abc', 'Abc'), (4, NULL, NULL);
SELECT rows FROM sharedbuf_create('types_coll_b', 'SELECT * FROM types_coll', key => 't');
SELECT * FROM types_compare('types_coll', 'types_coll_b');
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM types_coll_b WHERE t = 'ABC';
SELECT id, t FROM types_coll_b WHERE t = 'ABC';
SELECT rows FROM sharedbuf_build('types_coll_k', 'SELECT * FROM types_coll', key => 'ci');
SELECT rows FROM sharedbuf_build('types_coll_k', 'SELECT t COLLATE types_ci AS t FROM types_coll', key => 't');
SELECT rows FROM sharedbuf_build('types_coll_k', 'SELECT ci COLLATE "C" AS ci FROM types_coll', key => 'ci');
CREATE FOREIGN TABLE types_coll_ci (id int4, t text COLLATE types_ci)
  SERVER sharedbuf OPTIONS (bundle 'types_coll_b');
EXPLAIN (COSTS OFF) SELECT id FROM types_coll_ci WHERE t = 'ABC';
SELECT id, t FROM types_coll_ci WHERE t = 'ABC' ORDER BY id;
SELECT id, t FROM types_coll_b WHERE t = 'ABC' COLLATE types_ci ORDER BY id;

--
-- Errors
--
-- types without a default hash operator class cannot be keys (the
-- others can: keytypes)
SELECT rows FROM sharedbuf_build('types_err', 'SELECT ''(1,2)''::point AS p', key => 'p');  -- error
-- pseudo-types cannot be stored
SELECT rows FROM sharedbuf_build('types_err', 'SELECT ROW(1, ''a'') AS r');  -- error
SELECT rows FROM sharedbuf_build('types_err', 'SELECT ''x''::cstring AS c');  -- error
-- two columns of one name
SELECT rows FROM sharedbuf_build('types_err', 'SELECT * FROM types_int a, types_float b');  -- error
-- a table column whose type is not the bundle column's
CREATE FOREIGN TABLE types_wrong1 (id int4, i2 int4) SERVER sharedbuf OPTIONS (bundle 'types_int_b');
SELECT * FROM types_wrong1;  -- error
CREATE FOREIGN TABLE types_wrong2 (id int4, n52 numeric(6,2)) SERVER sharedbuf OPTIONS (bundle 'types_numeric_b');
SELECT * FROM types_wrong2;  -- error
CREATE FOREIGN TABLE types_wrong3 (id int4, m text) SERVER sharedbuf OPTIONS (bundle 'types_user_b');
SELECT * FROM types_wrong3;  -- error
CREATE FOREIGN TABLE types_wrong4 (id int4, pi int4) SERVER sharedbuf OPTIONS (bundle 'types_user_b');
SELECT * FROM types_wrong4;  -- error
CREATE FOREIGN TABLE types_wrong5 (id int4, am types_pair[]) SERVER sharedbuf OPTIONS (bundle 'types_user_b');
SELECT * FROM types_wrong5;  -- error
-- an unconstrained typmod accepts any, as a table column does
CREATE FOREIGN TABLE types_numeric_any (id int4, n52 numeric) SERVER sharedbuf OPTIONS (bundle 'types_numeric_b');
SELECT id, n52 FROM types_numeric_any WHERE id <= 3 ORDER BY id;

DROP FUNCTION types_compare(regclass, regclass, boolean), types_lookups(name);
DROP FOREIGN TABLE types_int_b, types_float_b, types_numeric_b, types_text_b, types_time_b,
  types_misc_b, types_noeq_b, types_array_b, types_user_b, types_large_b, types_large_k,
  types_k_b, types_k_ch, types_k_i2, types_k_i4, types_k_i8, types_k_o, types_k_f4, types_k_f8,
  types_k_m, types_k_t, types_k_vc, types_k_c, types_k_nm, types_k_ba, types_k_u, types_k_d,
  types_k_tm, types_k_ts, types_k_tstz, types_k_mac, types_k_mac8, types_k_e, types_k_dpi,
  types_k_dcd, types_coll_b, types_coll_ci, types_wrong1, types_wrong2, types_wrong3,
  types_wrong4, types_wrong5, types_numeric_any;
DROP TABLE types_float, types_numeric, types_text, types_time, types_misc, types_noeq,
  types_array, types_user, types_large, types_keys, types_coll;
DROP TABLE types_int;
DROP TYPE types_nest, types_pair, types_mood_range, types_float_range, types_mood;
DROP DOMAIN types_posint, types_code;
DROP COLLATION types_ci;
