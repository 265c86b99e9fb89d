--
-- Compact encodings (format 5): integer and time columns stored as
-- offsets from their smallest value at the edges of their ranges,
-- negative values and NULLs; text coded with a symbol table (empty
-- strings, every byte value, long values); columns where an encoding
-- does not pay and is skipped.  Every value reads back as in a heap
-- table, and keys of either encoding are looked up.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sharedbuf;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TABLE compact_src AS
  SELECT g AS k,
         (CASE WHEN g % 2 = 0 THEN -32768 + g % 200 ELSE -32768 + 250 END)::int2 AS i2_low,
         (CASE WHEN g % 2 = 0 THEN 32767 - g % 200 ELSE 32767 - 250 END)::int2 AS i2_high,
         (CASE WHEN g % 2 = 0 THEN -2147483648 ELSE 2147483647 END)::int4 AS i4_full,
         CASE WHEN g % 13 = 2 THEN NULL ELSE -g::int8 * 1000 END AS i8_neg,
         (CASE WHEN g % 3 = 0 THEN 9223372036854775807 - g ELSE 9223372036854775807 END)::int8 AS i8_top,
         date '2020-01-01' + g % 400 AS d,
         timestamp '2020-01-01' + g * interval '1 second' AS ts,
         timestamptz '2020-01-01 UTC' + g * interval '1 minute' AS tstz,
         CASE WHEN g % 17 = 3 THEN NULL
              WHEN g % 50 = 0 THEN ''
              WHEN g % 101 = 7 THEN repeat(md5(g::text), 40)
              ELSE md5(g::text) || substr(md5((g + 1)::text), 1, g % 28) END AS hex,
         decode(md5(g::text) || md5((g * 7)::text), 'hex') AS rnd,
         g * 0.25::float8 AS f
    FROM generate_series(1, 3000) g;
-- a value with every byte value, in a column the writer codes
INSERT INTO compact_src (k, hex, rnd)
  SELECT 3001, md5('x'), (SELECT string_agg(set_byte('\x00'::bytea, 0, b), ''::bytea ORDER BY b)
                          FROM generate_series(0, 255) b);
CREATE TABLE compact_bytes AS
  SELECT g AS k, CASE WHEN g = 77 THEN (SELECT string_agg(set_byte('\x00'::bytea, 0, b), ''::bytea ORDER BY b)
                                          FROM generate_series(0, 255) b)
                      ELSE convert_to(md5(g::text), 'UTF8') END AS v
    FROM generate_series(1, 2000) g;

SELECT rows FROM sharedbuf_create('compact_t', 'SELECT * FROM compact_src', key => 'k');
SELECT rows FROM sharedbuf_create('compact_b', 'SELECT * FROM compact_bytes', key => 'k');
SELECT format_version FROM sharedbuf_info('compact_t');

-- every value reads back
SELECT count(*) FROM (TABLE compact_t EXCEPT ALL TABLE compact_src) d;
SELECT count(*) FROM (TABLE compact_src EXCEPT ALL TABLE compact_t) d;
SELECT count(*) FROM (TABLE compact_b EXCEPT ALL TABLE compact_bytes) d;
SELECT min(i2_low), max(i2_high), min(i4_full), max(i4_full), min(i8_neg), max(i8_top),
       min(d), max(ts), max(tstz), count(hex), count(*) FILTER (WHERE hex = '')
  FROM compact_t;
SELECT length(v), encode(sha256(v), 'hex') = encode(sha256((SELECT v FROM compact_bytes WHERE k = 77)), 'hex') AS same
  FROM compact_b WHERE k = 77;
SELECT k, length(hex), rnd = (SELECT rnd FROM compact_src WHERE k = 3001) AS same
  FROM compact_t WHERE k = 3001;
SELECT k, i2_low, i2_high, i4_full, i8_neg, i8_top, d, ts, tstz, left(hex, 36), length(hex)
  FROM compact_t WHERE k IN (1, 2, 3, 50, 108) ORDER BY k;

-- a symbol-coded text key, and an offset integer key, looked up
SELECT rows FROM sharedbuf_create('compact_text', 'SELECT hex, k FROM compact_src WHERE hex <> '''' AND k % 101 <> 7', key => 'hex');
SELECT k FROM compact_text WHERE hex = (SELECT hex FROM compact_src WHERE k = 1234);
SELECT k FROM compact_text WHERE hex = substr((SELECT hex FROM compact_src WHERE k = 1234), 2);
SELECT count(*) FROM compact_src s JOIN compact_text t ON t.hex = s.hex;
SELECT k, i8_neg FROM compact_t WHERE k = ANY ('{1, 2999, 3000, 5000}') ORDER BY k;
SELECT k FROM compact_t WHERE k = 0;

-- with sharedbuf.compact off, the same rows in format 3.0 and more bytes
SET sharedbuf.compact = off;
SELECT rows FROM sharedbuf_create('compact_off', 'SELECT * FROM compact_src', key => 'k');
RESET sharedbuf.compact;
SELECT o.format_version, c.bytes < o.bytes AS smaller
  FROM sharedbuf_info('compact_t') c, sharedbuf_info('compact_off') o;
SELECT count(*) FROM (TABLE compact_t EXCEPT ALL TABLE compact_off) d;

DROP FOREIGN TABLE compact_t, compact_b, compact_text, compact_off;
DROP TABLE compact_src, compact_bytes;
