--
-- Following bundles: a bundle whose query reads one table follows it, so
-- that every change to the table reaches the bundle in the changing
-- transaction.  INSERT, UPDATE (of the key, and in and out of the WHERE
-- clause), DELETE, COPY, ON CONFLICT, TRUNCATE, rollbacks and savepoints;
-- queries that cannot be followed; DDL that stops following; refresh,
-- drop and options.  Then a randomized test: random DML on the table,
-- with folds, compared after every step with the query over the table by
-- scans, lookups, "= ANY" and joins.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sharedbuf;

CREATE TABLE fo_src (id int PRIMARY KEY, val text, grp int NOT NULL, active bool NOT NULL DEFAULT true);
INSERT INTO fo_src SELECT g, 'v' || g, g % 7, g % 5 <> 0 FROM generate_series(1, 1000) g;
CREATE VIEW fo_expected AS
  SELECT id, upper(val) AS uval, grp * 10 AS grp10 FROM fo_src WHERE active AND grp <> 3;
SELECT bundle, rows FROM sharedbuf_create('fo',
  'SELECT id, upper(val) AS uval, grp * 10 AS grp10 FROM fo_src WHERE active AND grp <> 3',
  'id', follow => true);
SELECT count(*) FROM fo;
-- the table has four internal statement triggers, fired always
SELECT count(*), bool_and(tgisinternal), string_agg(DISTINCT tgenabled::text, '')
  FROM pg_trigger WHERE tgrelid = 'fo_src'::regclass;
SELECT keys, rows, follows FROM sharedbuf_delta_info('fo');

-- each kind of change, seen by the next statement of the transaction
UPDATE fo_src SET val = 'changed' WHERE id = 1;
SELECT * FROM fo WHERE id = 1;
INSERT INTO fo_src VALUES (2001, 'new', 1, true), (2002, 'inactive', 1, false), (2003, 'group three', 3, true);
SELECT * FROM fo WHERE id IN (2001, 2002, 2003);
DELETE FROM fo_src WHERE id = 2;
SELECT * FROM fo WHERE id = 2;
-- rows moving out of and into the WHERE clause
UPDATE fo_src SET active = false WHERE id = 4;
UPDATE fo_src SET active = true WHERE id = 5;
UPDATE fo_src SET grp = 3 WHERE id = 6;
SELECT * FROM fo WHERE id IN (4, 5, 6) ORDER BY id;
-- a changed key moves the row; keys swap
UPDATE fo_src SET id = id + 10000 WHERE id = 8;
SELECT * FROM fo WHERE id = ANY ('{8,10008}');
UPDATE fo_src SET id = -id WHERE id IN (11, 12);
UPDATE fo_src SET id = CASE id WHEN -11 THEN 12 ELSE 11 END WHERE id IN (-11, -12);
SELECT * FROM fo WHERE id IN (11, 12, -11, -12) ORDER BY id;
-- many rows in one statement
UPDATE fo_src SET val = val || '!' WHERE id BETWEEN 100 AND 199;
SELECT count(*) FROM fo WHERE uval LIKE '%!';
-- COPY and INSERT ... ON CONFLICT
COPY fo_src FROM STDIN;
3001	copied	2	t
3002	copied too	2	f
\.
INSERT INTO fo_src VALUES (3001, 'upserted', 2, true), (3003, 'inserted', 2, true)
  ON CONFLICT (id) DO UPDATE SET val = excluded.val;
SELECT * FROM fo WHERE id > 3000 ORDER BY id;
MERGE INTO fo_src s USING (VALUES (3001, 'merged'), (3004, 'merged in')) v(id, val) ON s.id = v.id
  WHEN MATCHED THEN UPDATE SET val = v.val
  WHEN NOT MATCHED THEN INSERT VALUES (v.id, v.val, 2, true);
SELECT * FROM fo WHERE id > 3000 ORDER BY id;
-- a rolled back change, a savepoint rolled back, a change seen by its own
-- transaction only
BEGIN;
UPDATE fo_src SET val = 'rolled back' WHERE id = 23;
SELECT uval FROM fo WHERE id = 23;
ROLLBACK;
BEGIN;
UPDATE fo_src SET val = 'kept' WHERE id = 21;
SAVEPOINT s;
UPDATE fo_src SET val = 'undone' WHERE id = 21;
DELETE FROM fo_src WHERE id = 22;
ROLLBACK TO s;
SELECT * FROM fo WHERE id IN (21, 22) ORDER BY id;
COMMIT;
SELECT * FROM fo WHERE id IN (21, 22, 23) ORDER BY id;
SELECT (SELECT count(*) FROM (SELECT * FROM fo EXCEPT ALL SELECT * FROM fo_expected) a)
     + (SELECT count(*) FROM (SELECT * FROM fo_expected EXCEPT ALL SELECT * FROM fo) b) AS differences;
-- EXPLAIN names the delta
EXPLAIN (COSTS OFF) SELECT * FROM fo WHERE id = 1;

-- the foreign table takes no writes of its own
UPDATE fo SET uval = 'x' WHERE id = 1;
INSERT INTO fo VALUES (9999, 'x', 0);
SELECT sharedbuf_set_writable('fo', false);

-- a fold keeps following
SELECT rows FROM sharedbuf_fold('fo');
SELECT keys, rows FROM sharedbuf_delta_info('fo');
UPDATE fo_src SET val = 'after fold' WHERE id = 32;
SELECT * FROM fo WHERE id = 32;

-- TRUNCATE rebuilds the bundle empty; a rolled back one leaves it
BEGIN;
TRUNCATE fo_src;
SELECT count(*) FROM fo;
ROLLBACK;
SELECT count(*) = (SELECT count(*) FROM fo_expected) AS same FROM fo;

-- what cannot be followed
CREATE TABLE fo_nokey (id int, v text);
CREATE TABLE fo_part (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE fo_deferred (id int PRIMARY KEY DEFERRABLE, v text);
SELECT sharedbuf_create('fo_bad1', 'SELECT id, v FROM fo_nokey', 'id', follow => true);
SELECT sharedbuf_create('fo_bad2', 'SELECT grp, count(*) FROM fo_src GROUP BY grp', 'grp', follow => true);
SELECT sharedbuf_create('fo_bad3', 'SELECT s.id FROM fo_src s JOIN fo_nokey n USING (id)', 'id', follow => true);
SELECT sharedbuf_create('fo_bad4', 'SELECT id, now() AS t FROM fo_src', 'id', follow => true);
SELECT sharedbuf_create('fo_bad5', 'SELECT id + 1 AS id FROM fo_src', 'id', follow => true);
SELECT sharedbuf_create('fo_bad6', 'SELECT id, val FROM fo_src', 'val', follow => true);
SELECT sharedbuf_create('fo_bad7', 'SELECT id FROM fo_src', follow => true);
SELECT sharedbuf_create('fo_bad8', 'SELECT id FROM fo_part', 'id', follow => true);
SELECT sharedbuf_create('fo_bad9', 'SELECT id FROM fo_deferred', 'id', follow => true);
SELECT sharedbuf_create('fo_bad10', 'SELECT id FROM fo_src WHERE id IN (SELECT id FROM fo_nokey)', 'id', follow => true);
SELECT sharedbuf_create('fo_bad11', 'SELECT id FROM fo_expected', 'id', follow => true);
SELECT sharedbuf_create('fo_bad12', 'SELECT id FROM fo_src LIMIT 5', 'id', follow => true);
SELECT sharedbuf_create('fo_bad13', 'SELECT id FROM fo_src', 'id', approximate => true, follow => true);
SELECT count(*) FROM sharedbuf_list() WHERE bundle LIKE 'fo_bad%';

-- a key of several columns that includes the primary key
CREATE TABLE fo_two (a int, b int, v text, PRIMARY KEY (a, b));
INSERT INTO fo_two SELECT g % 10, g, 'v' || g FROM generate_series(1, 100) g;
SELECT rows FROM sharedbuf_create('fo_two_b', 'SELECT a, b, v FROM fo_two', 'a, b', follow => true);
UPDATE fo_two SET v = 'two' WHERE a = 1 AND b = 11;
UPDATE fo_two SET b = 1000 WHERE a = 2 AND b = 12;
SELECT * FROM fo_two_b WHERE (a, b) IN ((1, 11), (2, 12), (2, 1000)) ORDER BY a, b;

-- DDL: a new column or an index changes nothing; renaming, dropping or
-- retyping a followed column, or dropping the key, stops following
ALTER TABLE fo_two ADD COLUMN extra int;
CREATE INDEX ON fo_two (v);
INSERT INTO fo_two VALUES (3, 3000, 'after add', 1);
SELECT * FROM fo_two_b WHERE a = 3 AND b = 3000;
ALTER TABLE fo_two RENAME COLUMN v TO w;
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
INSERT INTO fo_two VALUES (3, 3001, 'not followed', 1);
SELECT count(*) FROM fo_two_b WHERE a = 3 AND b = 3001;
SELECT * FROM fo_two_b WHERE a = 3 AND b = 3000;
-- a refresh with a query that fits follows again
SELECT rows FROM sharedbuf_refresh('fo_two_b', 'SELECT a, b, w AS v FROM fo_two');
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
SELECT count(*) FROM fo_two_b WHERE a = 3 AND b = 3001;
ALTER TABLE fo_two ALTER COLUMN w TYPE varchar(20);
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
SELECT rows FROM sharedbuf_refresh('fo_two_b', 'SELECT a, b, w::text AS v FROM fo_two');
ALTER TABLE fo_two DROP CONSTRAINT fo_two_pkey;
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
SELECT rows FROM sharedbuf_refresh('fo_two_b');
CREATE UNIQUE INDEX fo_two_ab ON fo_two (a, b);
SELECT rows FROM sharedbuf_refresh('fo_two_b');
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
DROP INDEX fo_two_ab;
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
ALTER TABLE fo_two ADD PRIMARY KEY (a, b);

-- the option: turned off, a refresh stops following and the table takes
-- writes; turned on, a refresh follows again
ALTER FOREIGN TABLE fo_two_b OPTIONS (SET follow 'false');
SELECT rows FROM sharedbuf_refresh('fo_two_b');
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
UPDATE fo_two_b SET v = 'direct' WHERE a = 1 AND b = 11;
ALTER FOREIGN TABLE fo_two_b OPTIONS (SET follow 'true');
SELECT rows FROM sharedbuf_refresh('fo_two_b');
SELECT follows FROM sharedbuf_delta_info('fo_two_b');
SELECT * FROM fo_two_b WHERE a = 1 AND b = 11;
-- dropping the foreign table or the bundle stops following
DROP FOREIGN TABLE fo_two_b;
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'fo_two'::regclass AND tgisinternal;
SELECT rows FROM sharedbuf_create('fo_two_b', 'SELECT a, b, w::text AS v FROM fo_two', 'a, b', follow => true);
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'fo_two'::regclass AND tgisinternal;
SELECT sharedbuf_drop('fo_two_b');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'fo_two'::regclass AND tgisinternal;
INSERT INTO fo_two VALUES (4, 4000, 'after drop', 1);
DROP FOREIGN TABLE fo_two_b;

-- a function of the query replaced: the rows changed after it use the new
-- one (an immutable function that changes its results makes the bundle
-- differ from the query until a refresh, as a materialized view would)
CREATE FUNCTION fo_label(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT 'a:' || $1 $$;
CREATE TABLE fo_fn (id int PRIMARY KEY, v text);
INSERT INTO fo_fn VALUES (1, 'x');
SELECT rows FROM sharedbuf_create('fo_fn_b', 'SELECT id, fo_label(v) AS l FROM fo_fn', 'id', follow => true);
INSERT INTO fo_fn VALUES (2, 'y');
CREATE OR REPLACE FUNCTION fo_label(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT 'b:' || $1 $$;
INSERT INTO fo_fn VALUES (3, 'z');
SELECT * FROM fo_fn_b ORDER BY id;
DROP FOREIGN TABLE fo_fn_b;
SELECT sharedbuf_drop('fo_fn_b');
DROP TABLE fo_fn;
DROP FUNCTION fo_label(text);

-- a delta dropped by hand: writes to the table fail and say how to mend
-- it, and a refresh follows again
CREATE TABLE fo_nd (id int PRIMARY KEY, v text);
INSERT INTO fo_nd VALUES (1, 'one');
SELECT rows FROM sharedbuf_create('fo_nd_b', 'SELECT id, v FROM fo_nd', 'id', follow => true);
DROP TABLE sharedbuf_delta.fo_nd_b;
DROP SEQUENCE sharedbuf_delta."fo_nd_b$generation";
INSERT INTO fo_nd VALUES (2, 'two');
SELECT rows FROM sharedbuf_refresh('fo_nd_b');
INSERT INTO fo_nd VALUES (2, 'two');
SELECT * FROM fo_nd_b ORDER BY id;
DROP FOREIGN TABLE fo_nd_b;
SELECT sharedbuf_drop('fo_nd_b');
-- the trigger function fired by any other trigger
CREATE TRIGGER fo_nd_misuse AFTER INSERT ON fo_nd FOR EACH ROW EXECUTE FUNCTION sharedbuf_follow_trigger();
INSERT INTO fo_nd VALUES (3, 'three');
DROP TABLE fo_nd;

-- a role that may not create triggers on the table cannot follow it
CREATE ROLE fo_reader;
GRANT SELECT ON fo_src TO fo_reader;
GRANT USAGE ON FOREIGN SERVER sharedbuf TO fo_reader;
GRANT EXECUTE ON FUNCTION sharedbuf_create(text, text, text, name, boolean, boolean, boolean) TO fo_reader;
GRANT CREATE ON SCHEMA public TO fo_reader;
SET ROLE fo_reader;
SELECT sharedbuf_create('fo_other', 'SELECT id, val FROM fo_src', 'id', follow => true);
RESET ROLE;

--
-- Randomized: random DML on the table, compared after every step
--
CREATE TABLE fo_keys (id int);

-- Compare the bundle with the query over the table: a scan, and lookups of
-- the keys in fo_keys by constant, "= ANY" and a nested-loop join.
CREATE FUNCTION fo_compare(step text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  k int;
  a int[];
  n bigint;
BEGIN
  IF EXISTS (SELECT * FROM fo EXCEPT ALL SELECT * FROM fo_expected)
     OR EXISTS (SELECT * FROM fo_expected EXCEPT ALL SELECT * FROM fo) THEN
    RAISE EXCEPTION 'scans differ after %', step;
  END IF;
  FOR k IN SELECT id FROM fo_keys LOOP
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM fo WHERE id = %s EXCEPT ALL SELECT * FROM fo_expected WHERE id = %s) d', k, k) INTO n;
    IF n <> 0 OR (SELECT count(*) FROM fo WHERE id = k) <> (SELECT count(*) FROM fo_expected WHERE id = k) THEN
      RAISE EXCEPTION 'lookup of % differs after %', k, step;
    END IF;
  END LOOP;
  a := ARRAY(SELECT id FROM fo_keys);
  IF EXISTS (SELECT * FROM fo WHERE id = ANY (a) EXCEPT ALL SELECT * FROM fo_expected WHERE id = ANY (a))
     OR (SELECT count(*) FROM fo WHERE id = ANY (a)) <> (SELECT count(*) FROM fo_expected WHERE id = ANY (a)) THEN
    RAISE EXCEPTION '= ANY differs after %', step;
  END IF;
  SET LOCAL enable_hashjoin = off;
  SET LOCAL enable_mergejoin = off;
  IF EXISTS (SELECT e.* FROM fo_keys k JOIN fo e ON e.id = k.id
             EXCEPT ALL SELECT x.* FROM fo_keys k JOIN fo_expected x ON x.id = k.id)
     OR (SELECT count(*) FROM fo_keys k JOIN fo e ON e.id = k.id)
        <> (SELECT count(*) FROM fo_keys k JOIN fo_expected x ON x.id = k.id) THEN
    RAISE EXCEPTION 'join differs after %', step;
  END IF;
END $$;

-- 'steps' random statements on the table in transactions of a few steps,
-- some rolled back, some in a failed savepoint, some with a fold.
CREATE PROCEDURE fo_random(seed int, steps int) LANGUAGE plpgsql AS $$
DECLARE
  r float8;
  k int;
  k2 int;
  step text;
BEGIN
  PERFORM setseed(seed / 100.0);
  FOR i IN 1..steps LOOP
    r := random();
    k := 1 + floor(random() * 1200)::int;
    k2 := 1 + floor(random() * 1200)::int;
    IF r < 0.15 THEN
      step := format('insert %s', k);
      INSERT INTO fo_src VALUES (k, 'i' || i, i % 7, i % 4 <> 0) ON CONFLICT DO NOTHING;
    ELSIF r < 0.35 THEN
      step := format('update %s', k);
      UPDATE fo_src SET val = val || '+' WHERE id = k;
    ELSIF r < 0.45 THEN
      step := format('update key %s to %s', k, k2);
      IF NOT EXISTS (SELECT FROM fo_src WHERE id = k2) THEN
        UPDATE fo_src SET id = k2 WHERE id = k;
      END IF;
    ELSIF r < 0.55 THEN
      step := format('delete %s', k);
      DELETE FROM fo_src WHERE id = k;
    ELSIF r < 0.65 THEN
      step := format('toggle %s', k);
      UPDATE fo_src SET active = NOT active WHERE id = k;
    ELSIF r < 0.72 THEN
      step := format('move group %s', k % 7);
      UPDATE fo_src SET grp = (grp + 1) % 7 WHERE grp = k % 7 AND id % 3 = k % 3;
    ELSIF r < 0.76 THEN
      step := format('upsert %s and %s', k, k2);
      INSERT INTO fo_src VALUES (k, 'u' || i, 3, true), (k2, 'u' || i, 2, true)
        ON CONFLICT (id) DO UPDATE SET val = excluded.val, grp = excluded.grp;
    ELSIF r < 0.80 THEN
      step := format('failed savepoint on %s', k);
      BEGIN
        UPDATE fo_src SET val = 'lost' WHERE id = k;
        DELETE FROM fo_src WHERE id = k2;
        PERFORM 1 / 0;
      EXCEPTION WHEN division_by_zero THEN
        NULL;
      END;
    ELSIF r < 0.84 THEN
      step := 'fold';
      PERFORM sharedbuf_fold('fo');
      IF NOT (SELECT ok FROM sharedbuf_verify('fo')) THEN
        RAISE EXCEPTION 'seed % step %: the folded bundle does not verify', seed, i;
      END IF;
    ELSIF r < 0.845 THEN
      step := 'truncate';
      TRUNCATE fo_src;
      INSERT INTO fo_src SELECT g, 't' || g, g % 7, g % 5 <> 0 FROM generate_series(1, 1000, 3) g;
    ELSIF r < 0.93 THEN
      step := 'commit';
      COMMIT;
    ELSE
      step := 'rollback';
      ROLLBACK;
    END IF;
    TRUNCATE fo_keys;
    INSERT INTO fo_keys VALUES (k), (k2), (1 + floor(random() * 1200)::int),
                               (1 + floor(random() * 1200)::int), (k);
    PERFORM fo_compare(format('seed %s step %s: %s', seed, i, step));
  END LOOP;
  COMMIT;
END $$;

CALL fo_random(1, 300);
CALL fo_random(2, 300);
SET sharedbuf.fold_merge_limit = 0;
CALL fo_random(3, 300);
RESET sharedbuf.fold_merge_limit;
SELECT (SELECT count(*) FROM (SELECT * FROM fo EXCEPT ALL SELECT * FROM fo_expected) a)
     + (SELECT count(*) FROM (SELECT * FROM fo_expected EXCEPT ALL SELECT * FROM fo) b) AS differences;

-- past sharedbuf.follow_fold_threshold, a worker folds the delta after commit
SET sharedbuf.follow_fold_threshold = 50;
SELECT pg_stat_force_next_flush();
UPDATE fo_src SET val = val || '*' WHERE id <= 200;
SELECT pg_stat_force_next_flush();
UPDATE fo_src SET val = val || '*' WHERE id = 1;
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXIT WHEN (SELECT keys FROM sharedbuf_delta_info('fo')) < 50;
    PERFORM pg_sleep(0.1);
    PERFORM pg_stat_clear_snapshot();
  END LOOP;
END $$;
SELECT keys < 50 AS folded FROM sharedbuf_delta_info('fo');
RESET sharedbuf.follow_fold_threshold;
SELECT (SELECT count(*) FROM (SELECT * FROM fo EXCEPT ALL SELECT * FROM fo_expected) a)
     + (SELECT count(*) FROM (SELECT * FROM fo_expected EXCEPT ALL SELECT * FROM fo) b) AS differences;

DROP FOREIGN TABLE fo;
SELECT sharedbuf_drop('fo');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'fo_src'::regclass AND tgisinternal;
DROP VIEW fo_expected;
DROP TABLE fo_src, fo_keys, fo_nokey, fo_part, fo_deferred, fo_two;
DROP FUNCTION fo_compare(text);
DROP PROCEDURE fo_random(int, int);
REVOKE ALL ON SCHEMA public FROM fo_reader;
DROP OWNED BY fo_reader;
DROP ROLE fo_reader;
