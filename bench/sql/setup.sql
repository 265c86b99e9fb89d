-- Helpers for bench/run-sql.sh: timing, batched lookups, process counters.
CREATE EXTENSION IF NOT EXISTS sharedbuf;
CREATE EXTENSION IF NOT EXISTS pgmemcache;

-- Statements timed by bench_rounds(), by label.
CREATE TABLE IF NOT EXISTS bench_queries (label text PRIMARY KEY, q text NOT NULL);

-- Run the statements whose labels match 'pattern' round-robin: 'warm'
-- untimed rounds, then 'runs' timed rounds; one row per statement and run.
CREATE OR REPLACE FUNCTION bench_rounds(pattern text, runs int, warm int DEFAULT 1)
RETURNS TABLE (label text, run int, ms float8)
LANGUAGE plpgsql AS $$
DECLARE
  qs text[];
  ls text[];
  t0 timestamptz;
  r record;
BEGIN
  SELECT array_agg(b.q ORDER BY b.label), array_agg(b.label ORDER BY b.label)
    INTO qs, ls FROM bench_queries b WHERE b.label LIKE pattern;
  IF qs IS NULL THEN
    RAISE EXCEPTION 'no statement matches %', pattern;
  END IF;
  FOR w IN 1..warm LOOP
    FOR j IN 1..array_length(qs, 1) LOOP
      EXECUTE qs[j] INTO r;
    END LOOP;
  END LOOP;
  FOR i IN 1..runs LOOP
    FOR j IN 1..array_length(qs, 1) LOOP
      t0 := clock_timestamp();
      EXECUTE qs[j] INTO r;
      label := ls[j];
      run := i;
      ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;

-- "= ANY" lookups: one statement per array of any_<kt>, with the array as
-- a parameter; returns the rows found.
CREATE OR REPLACE FUNCTION bench_any(tbl text, kt text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  a record;
  n bigint;
  total bigint := 0;
  s bigint;
BEGIN
  FOR a IN EXECUTE format('SELECT ks FROM any_%s ORDER BY id', kt) LOOP
    EXECUTE format('SELECT count(*), sum(i) FROM %I WHERE k = ANY ($1)', tbl)
      INTO n, s USING a.ks;
    total := total + n;
  END LOOP;
  RETURN total;
END $$;

-- The same through memcached (get_multi), and the baseline without it.
CREATE OR REPLACE FUNCTION bench_any_memcached(kt text, get boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  a record;
  n bigint;
  total bigint := 0;
BEGIN
  FOR a IN EXECUTE format('SELECT ks::text[] AS ks FROM any_%s ORDER BY id', kt) LOOP
    IF get THEN
      SELECT count(m.value) INTO n FROM memcache_get_multi(a.ks) m;
    ELSE
      SELECT count(u.x) INTO n FROM unnest(a.ks) u(x);
    END IF;
    total := total + n;
  END LOOP;
  RETURN total;
END $$;

-- This backend's counters: major faults (/proc/self/stat field 12) and
-- bytes read from storage (/proc/self/io read_bytes).
CREATE OR REPLACE FUNCTION bench_proc_io(OUT majflt bigint, OUT read_bytes bigint)
LANGUAGE sql AS $$
  SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 12)::bigint,
         substring(pg_read_file('/proc/self/io') FROM 'read_bytes: (\d+)')::bigint
$$;

-- Cold lookups: 'first' (the statement that opens the table, or NULL),
-- then 'nkeys' random single-key lookups in this backend; returns the
-- counters' deltas over both and the shared buffers the lookups read
-- (EXPLAIN BUFFERS).
DROP FUNCTION IF EXISTS bench_cold(text, text, bigint, int);
CREATE OR REPLACE FUNCTION bench_cold(tbl text, kt text, n bigint, nkeys int, first text,
                                      OUT lookups int, OUT rows_found bigint,
                                      OUT majflt bigint, OUT read_bytes bigint,
                                      OUT shared_read bigint)
LANGUAGE plpgsql AS $$
DECLARE
  before record;
  after record;
  j json;
  c bigint;
  s bigint;
  key bigint;
BEGIN
  PERFORM setseed(0.42);
  rows_found := 0;
  shared_read := 0;
  lookups := nkeys;
  SELECT * INTO before FROM bench_proc_io();
  IF first IS NOT NULL THEN
    EXECUTE first;
  END IF;
  FOR x IN 1..nkeys LOOP
    key := 1 + floor(random() * n)::bigint;
    IF kt = 'int' THEN
      EXECUTE format('EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) SELECT k, t, i, f FROM %I WHERE k = $1', tbl)
        INTO j USING key;
    ELSE
      EXECUTE format('EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) SELECT k, t, i, f FROM %I WHERE k = $1', tbl)
        INTO j USING md5(key::text);
    END IF;
    rows_found := rows_found + (j -> 0 -> 'Plan' ->> 'Actual Rows')::bigint;
    shared_read := shared_read + coalesce((j -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint, 0);
  END LOOP;
  SELECT * INTO after FROM bench_proc_io();
  majflt := after.majflt - before.majflt;
  read_bytes := after.read_bytes - before.read_bytes;
END $$;

-- Private memory of a process, from /proc/PID/smaps_rollup (kB).
CREATE OR REPLACE FUNCTION bench_smaps(pid int, OUT rss bigint, OUT pss bigint,
                                       OUT private bigint, OUT anonymous bigint)
LANGUAGE plpgsql AS $$
DECLARE
  s text := pg_read_file(format('/proc/%s/smaps_rollup', pid));
BEGIN
  rss := substring(s FROM 'Rss: +(\d+) kB')::bigint;
  pss := substring(s FROM 'Pss: +(\d+) kB')::bigint;
  private := substring(s FROM 'Private_Clean: +(\d+) kB')::bigint +
             substring(s FROM 'Private_Dirty: +(\d+) kB')::bigint;
  anonymous := substring(s FROM 'Anonymous: +(\d+) kB')::bigint;
END $$;
