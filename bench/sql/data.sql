-- Source rows for bench/run-sql.sh; psql variable n = rows.
-- int keys:  k int8 = 1..n;   text keys: k = md5(g::text), 32 bytes.
-- Each row: key, t (60-byte text), i int4, f float8.
SELECT setseed(0.5);
DROP TABLE IF EXISTS src_int, src_text, probes_int, probes_text, any_int, any_text;
CREATE TABLE src_int AS
  SELECT g::int8 AS k,
         md5(g::text) || substr(md5((g + 1)::text), 1, 28) AS t,
         (g % 1000003)::int4 AS i,
         g * 0.25::float8 AS f
    FROM generate_series(1, :n) g;
CREATE TABLE src_text AS
  SELECT md5(g::text) AS k,
         md5((g + 7)::text) || substr(md5((g + 3)::text), 1, 28) AS t,
         (g % 1000003)::int4 AS i,
         g * 0.25::float8 AS f
    FROM generate_series(1, :n) g;
-- :probes (1M) random existing keys, in random order; the text probes are the same draws.
CREATE TABLE probes_int AS
  SELECT (1 + floor(random() * :n))::int8 AS k FROM generate_series(1, :probes);
CREATE TABLE probes_text AS SELECT md5(k::text) AS k FROM probes_int;
-- 100 arrays of 1000 random existing keys.
CREATE TABLE any_int AS
  SELECT a AS id, array_agg((1 + floor(random() * :n))::int8) AS ks
    FROM generate_series(1, 100) a, generate_series(1, 1000) b GROUP BY a;
CREATE TABLE any_text AS
  SELECT id, (SELECT array_agg(md5(x::text)) FROM unnest(ks) x) AS ks FROM any_int;
VACUUM ANALYZE src_int, src_text, probes_int, probes_text, any_int, any_text;
