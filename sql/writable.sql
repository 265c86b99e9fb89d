--
-- Writable bundles: INSERT, UPDATE (of keys too), DELETE, COPY, RETURNING,
-- triggers and views with CHECK OPTION on a bundle with a delta; folds;
-- sharedbuf_put and sharedbuf_delete; a bundle with duplicate keys; errors.
-- Then a randomized equivalence test: random writes and folds applied to
-- a writable bundle and to a heap table in the same transactions, both
-- compared after every step by scans, lookups, "= ANY" and joins.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sharedbuf;

CREATE TABLE wr_src AS
  SELECT g AS id, 'v' || g AS val, g % 7 AS grp FROM generate_series(1, 1000) g;
SELECT bundle, rows FROM sharedbuf_create('wr', 'SELECT * FROM wr_src', 'id', writable => true);
\d sharedbuf_delta.wr

-- a read-only bundle refuses writes
SELECT bundle FROM sharedbuf_create('wr_ro', 'SELECT * FROM wr_src', 'id');
INSERT INTO wr_ro VALUES (1, 'x', 1);
UPDATE wr_ro SET val = 'x' WHERE id = 1;
DELETE FROM wr_ro WHERE id = 1;

-- single-row writes, RETURNING
UPDATE wr SET val = 'changed' WHERE id = 5 RETURNING *;
INSERT INTO wr VALUES (2000, 'new', 1) RETURNING *;
DELETE FROM wr WHERE id = 6 RETURNING *;
SELECT * FROM wr WHERE id IN (5, 6, 2000) ORDER BY id;
-- the key is unique across both layers; a NULL key is refused
INSERT INTO wr VALUES (5, 'dup', 1);
INSERT INTO wr VALUES (7, 'dup', 1);
INSERT INTO wr VALUES (NULL, 'null', 1);
-- a deleted key can come back
INSERT INTO wr VALUES (6, 'back', 6);
-- updating the key moves the row
UPDATE wr SET id = 3000 WHERE id = 7 RETURNING *;
SELECT * FROM wr WHERE id = ANY ('{7,3000}') ORDER BY id;
UPDATE wr SET id = 8 WHERE id = 9;
-- updates by a non-key predicate scan both layers
UPDATE wr SET grp = grp + 100 WHERE val LIKE 'v99_' RETURNING id, grp;
-- a join between the scan and the change: only the rows that join change
CREATE TABLE wr_join (id int, d int);
INSERT INTO wr_join VALUES (20, 1), (21, 2), (22, 3), (99999, 4);
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) UPDATE wr SET grp = wr.grp + j.d FROM wr_join j WHERE wr.id = j.id;
UPDATE wr SET grp = wr.grp + j.d FROM wr_join j WHERE wr.id = j.id RETURNING wr.*;
DELETE FROM wr USING wr_join j WHERE wr.id = j.id AND j.d = 3 RETURNING wr.*;
RESET enable_nestloop;
SELECT keys FROM sharedbuf_delta_info('wr');
SELECT * FROM wr WHERE id BETWEEN 20 AND 22 ORDER BY id;
-- an update of a row updated twice in one statement happens once
UPDATE wr SET grp = wr.grp + 1 FROM (VALUES (5), (5)) v(id) WHERE wr.id = v.id;
SELECT * FROM wr WHERE id = 5;
SELECT delta, generation, folded_through, keys, rows FROM sharedbuf_delta_info('wr');
EXPLAIN (COSTS OFF) UPDATE wr SET val = 'x' WHERE id = 5;
SELECT * FROM regress_explain_analyze('SELECT * FROM wr WHERE id IN (5, 10)');

-- ANALYZE counts the rows of both layers; a parallel scan reads both
ANALYZE wr;
SELECT reltuples = (SELECT count(*) FROM wr) AS analyzed FROM pg_class WHERE oid = 'wr'::regclass;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*), sum(id), sum(grp) FROM wr;
SELECT count(*), sum(id), sum(grp) FROM wr;
SET max_parallel_workers_per_gather = 0;
SELECT count(*), sum(id), sum(grp) FROM wr;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- a transaction sees its own writes; a rollback leaves none
BEGIN;
UPDATE wr SET val = 'mine' WHERE id = 10;
INSERT INTO wr VALUES (4000, 'mine', 0);
SELECT * FROM wr WHERE id IN (10, 4000) ORDER BY id;
ROLLBACK;
SELECT * FROM wr WHERE id IN (10, 4000) ORDER BY id;

-- COPY FROM and batched inserts
COPY wr FROM stdin;
5001	copied	1
5002	copied	2
\.
INSERT INTO wr SELECT g, 'batch', 0 FROM generate_series(6001, 6250) g;
SELECT count(*), min(id), max(id) FROM wr WHERE id > 5000;
\set VERBOSITY terse
COPY wr FROM stdin;
5001	again	1
\.
\set VERBOSITY default

-- fold: the delta goes into a new bundle, which holds every write
SELECT count(*), sum(id), sum(grp) FROM wr;
SELECT bundle, rows FROM sharedbuf_fold('wr');
SELECT delta, generation, folded_through, keys, rows FROM sharedbuf_delta_info('wr');
SELECT count(*), sum(id), sum(grp) FROM wr;
SELECT * FROM wr WHERE id IN (5, 6, 8, 9, 2000, 3000) ORDER BY id;
SELECT count(*) FROM sharedbuf_delta.wr;

-- a fold in a transaction that wrote, seen by it; a rolled back fold
BEGIN;
UPDATE wr SET val = 'infold' WHERE id = 10;
SELECT bundle FROM sharedbuf_fold('wr');
SELECT * FROM wr WHERE id = 10;
UPDATE wr SET val = 'after' WHERE id = 11;
COMMIT;
SELECT * FROM wr WHERE id IN (10, 11) ORDER BY id;
BEGIN;
UPDATE wr SET val = 'rolled back' WHERE id = 12;
SELECT bundle FROM sharedbuf_fold('wr');
ROLLBACK;
SELECT * FROM wr WHERE id IN (10, 11, 12) ORDER BY id;

-- a refresh from the source query starts over
SELECT bundle, rows FROM sharedbuf_refresh('wr');
SELECT * FROM wr WHERE id IN (5, 10, 11, 2000) ORDER BY id;
SELECT keys, rows FROM sharedbuf_delta_info('wr');

-- past sharedbuf.fold_threshold rows in the delta, a write folds it
SET sharedbuf.fold_threshold = 100;
INSERT INTO wr SELECT g, 'auto', 0 FROM generate_series(10001, 10040) g;
SELECT keys, rows, folded_through FROM sharedbuf_delta_info('wr');
INSERT INTO wr SELECT g, 'auto', 0 FROM generate_series(10041, 10080) g;
SELECT keys, rows, folded_through FROM sharedbuf_delta_info('wr');
SELECT count(*) FROM wr WHERE id > 10000;
RESET sharedbuf.fold_threshold;

-- upsert and delete by key
SELECT sharedbuf_put('wr', ROW(5, 'put', 0)::wr);
SELECT sharedbuf_put('wr', ROW(7000, 'put', 0)::wr);
SELECT * FROM wr WHERE id IN (5, 7000) ORDER BY id;
SELECT sharedbuf_delete('wr', 7000);
SELECT sharedbuf_delete('wr', 7000);
SELECT sharedbuf_put('wr', ROW(1, 'x')::record);

-- row triggers and a view with CHECK OPTION behave as on a heap table
CREATE TABLE wr_log (op text, old_id int, new_id int);
CREATE FUNCTION wr_trig() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN NEW.val := upper(NEW.val); END IF;
  INSERT INTO wr_log VALUES (TG_OP, CASE WHEN TG_OP <> 'INSERT' THEN OLD.id END,
                             CASE WHEN TG_OP <> 'DELETE' THEN NEW.id END);
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER wr_before BEFORE INSERT OR UPDATE OR DELETE ON wr
  FOR EACH ROW EXECUTE FUNCTION wr_trig();
INSERT INTO wr VALUES (8000, 'lower', 0);
UPDATE wr SET grp = 1 WHERE id = 8000;
DELETE FROM wr WHERE id = 8000;
SELECT * FROM wr_log;
DROP TRIGGER wr_before ON wr;
CREATE VIEW wr_small AS SELECT * FROM wr WHERE grp < 10 WITH CHECK OPTION;
INSERT INTO wr_small VALUES (8001, 'ok', 1);
INSERT INTO wr_small VALUES (8002, 'too big', 50);
UPDATE wr_small SET grp = 50 WHERE id = 8001;
SELECT * FROM wr WHERE id IN (8001, 8002);

-- privileges: writing needs the table's privileges, not the delta's
CREATE ROLE wr_user;
GRANT SELECT, UPDATE ON wr TO wr_user;
SET ROLE wr_user;
UPDATE wr SET val = 'by user' WHERE id = 20;
INSERT INTO wr VALUES (9000, 'x', 0);
SELECT * FROM sharedbuf_delta.wr;
RESET ROLE;
SELECT * FROM wr WHERE id = 20;

-- a bundle with duplicate keys: a key's rows change together
CREATE TABLE wr_dup_src AS SELECT g % 10 AS k, g AS v FROM generate_series(1, 30) g;
SELECT bundle, rows FROM sharedbuf_create('wr_dup', 'SELECT * FROM wr_dup_src', 'k', writable => true);
INSERT INTO wr_dup VALUES (3, 1000);
UPDATE wr_dup SET v = -v WHERE k = 3 AND v < 20;
DELETE FROM wr_dup WHERE k = 4 AND v = 14;
SELECT * FROM wr_dup WHERE k IN (3, 4) ORDER BY k, v;
SELECT bundle FROM sharedbuf_fold('wr_dup');
SELECT * FROM wr_dup WHERE k IN (3, 4) ORDER BY k, v;

-- a key of two columns
CREATE TABLE wr_two_src AS SELECT g % 10 AS a, g / 10 AS b, g AS v FROM generate_series(0, 99) g;
SELECT bundle, rows FROM sharedbuf_create('wr_two', 'SELECT * FROM wr_two_src', 'a, b', writable => true);
UPDATE wr_two SET v = -v WHERE a = 3 AND b = 4;
UPDATE wr_two SET b = 40 WHERE a = 3 AND b = 5;
INSERT INTO wr_two VALUES (3, 4, 0);
INSERT INTO wr_two VALUES (3, 5, 0);
SELECT * FROM wr_two WHERE a = 3 AND b IN (4, 5, 40) ORDER BY b, v;
SELECT sharedbuf_delete('wr_two', 3);
-- sharedbuf_delete wants a value of the key's type
SELECT sharedbuf_delete('wr_dup', 'x'::text);
-- a delta that lost an index is refused, not misread
DROP INDEX sharedbuf_delta."wr_two$gen";
SELECT * FROM wr_two WHERE a = 1 AND b = 1;

-- what cannot be writable
SELECT bundle FROM sharedbuf_create('wr_' || repeat('x', 48), 'SELECT 1 AS a', 'a', writable => true);
SELECT bundle FROM sharedbuf_create('wr_nokey', 'SELECT 1 AS a', writable => true);
SELECT bundle FROM sharedbuf_create('wr_approx', 'SELECT 1 AS a', 'a', approximate => true, writable => true);
SELECT sharedbuf_fold('wr_ro');
-- making an existing table writable, and read-only again
SELECT sharedbuf_set_writable('wr_ro');
UPDATE wr_ro SET val = 'now writable' WHERE id = 1;
SELECT sharedbuf_set_writable('wr_ro', false);
SELECT bundle FROM sharedbuf_fold('wr_ro');
SELECT sharedbuf_set_writable('wr_ro', false);
SELECT * FROM wr_ro WHERE id = 1;
INSERT INTO wr_ro VALUES (1, 'x', 1);

--
-- Randomized equivalence with a heap table
--
CREATE TABLE wr_heap (id int PRIMARY KEY, val text, grp int);
CREATE TABLE wr_keys (id int);

-- Compare the bundle with the heap table: a scan, and lookups of the keys
-- in wr_keys by constant, parameter, "= ANY" and a nested-loop join.
CREATE FUNCTION wr_compare(step text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  k int;
  a int[];
  n bigint;
BEGIN
  IF EXISTS (SELECT * FROM wr_eq EXCEPT ALL SELECT * FROM wr_heap)
     OR EXISTS (SELECT * FROM wr_heap EXCEPT ALL SELECT * FROM wr_eq) THEN
    RAISE EXCEPTION 'scans differ after %', step;
  END IF;
  FOR k IN SELECT id FROM wr_keys LOOP
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM wr_eq WHERE id = %s EXCEPT ALL SELECT * FROM wr_heap WHERE id = %s) d', k, k) INTO n;
    IF n <> 0 OR (SELECT count(*) FROM wr_eq WHERE id = k) <> (SELECT count(*) FROM wr_heap WHERE id = k) THEN
      RAISE EXCEPTION 'lookup of % differs after %', k, step;
    END IF;
  END LOOP;
  a := ARRAY(SELECT id FROM wr_keys);
  IF EXISTS (SELECT * FROM wr_eq WHERE id = ANY (a) EXCEPT ALL SELECT * FROM wr_heap WHERE id = ANY (a))
     OR (SELECT count(*) FROM wr_eq WHERE id = ANY (a)) <> (SELECT count(*) FROM wr_heap WHERE id = ANY (a)) THEN
    RAISE EXCEPTION '= ANY differs after %', step;
  END IF;
  IF EXISTS (SELECT e.* FROM wr_keys k JOIN wr_eq e ON e.id = k.id
             EXCEPT ALL SELECT h.* FROM wr_keys k JOIN wr_heap h ON h.id = k.id)
     OR (SELECT count(*) FROM wr_keys k JOIN wr_eq e ON e.id = k.id)
        <> (SELECT count(*) FROM wr_keys k JOIN wr_heap h ON h.id = k.id) THEN
    RAISE EXCEPTION 'join differs after %', step;
  END IF;
END $$;

-- 'steps' random writes in transactions of a few steps, some rolled back,
-- some with a fold; compared after every step.
CREATE PROCEDURE wr_random(seed int, steps int) LANGUAGE plpgsql AS $$
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
    IF r < 0.2 THEN
      step := format('insert %s', k);
      IF NOT EXISTS (SELECT FROM wr_heap WHERE id = k) THEN
        INSERT INTO wr_heap VALUES (k, 'i' || i, i % 5);
        INSERT INTO wr_eq VALUES (k, 'i' || i, i % 5);
      END IF;
    ELSIF r < 0.45 THEN
      step := format('update %s', k);
      UPDATE wr_heap SET val = val || '+', grp = grp + 1 WHERE id = k;
      UPDATE wr_eq SET val = val || '+', grp = grp + 1 WHERE id = k;
    ELSIF r < 0.55 THEN
      step := format('update key %s to %s', k, k2);
      IF NOT EXISTS (SELECT FROM wr_heap WHERE id = k2) THEN
        UPDATE wr_heap SET id = k2 WHERE id = k;
        UPDATE wr_eq SET id = k2 WHERE id = k;
      END IF;
    ELSIF r < 0.7 THEN
      step := format('delete %s', k);
      DELETE FROM wr_heap WHERE id = k;
      DELETE FROM wr_eq WHERE id = k;
    ELSIF r < 0.78 THEN
      step := format('update group %s', k % 50);
      UPDATE wr_heap SET grp = grp + 10 WHERE grp = k % 50;
      UPDATE wr_eq SET grp = grp + 10 WHERE grp = k % 50;
    ELSIF r < 0.81 THEN
      step := format('update by a join on %s and %s', k, k2);
      UPDATE wr_heap SET grp = wr_heap.grp + v.d FROM (VALUES (k, 1), (k2, 2)) v(id, d) WHERE wr_heap.id = v.id;
      UPDATE wr_eq SET grp = wr_eq.grp + v.d FROM (VALUES (k, 1), (k2, 2)) v(id, d) WHERE wr_eq.id = v.id;
    ELSIF r < 0.84 THEN
      step := format('put %s', k);
      DELETE FROM wr_heap WHERE id = k;
      INSERT INTO wr_heap VALUES (k, 'put' || i, 0);
      PERFORM sharedbuf_put('wr_eq', ROW(k, 'put' || i, 0)::wr_eq);
    ELSIF r < 0.88 THEN
      step := 'fold';
      PERFORM sharedbuf_fold('wr_eq');
      IF NOT (SELECT ok FROM sharedbuf_verify('wr_eq')) THEN
        RAISE EXCEPTION 'seed % step %: the folded bundle does not verify', seed, i;
      END IF;
    ELSIF r < 0.94 THEN
      step := 'commit';
      COMMIT;
    ELSE
      step := 'rollback';
      ROLLBACK;
    END IF;
    TRUNCATE wr_keys;
    INSERT INTO wr_keys VALUES (k), (k2), (1 + floor(random() * 1200)::int),
                               (1 + floor(random() * 1200)::int), (k);
    PERFORM wr_compare(format('seed %s step %s: %s', seed, i, step));
  END LOOP;
  COMMIT;
END $$;

-- a fresh writable bundle of the heap table's 1000 rows
CREATE PROCEDURE wr_reset() LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE wr_heap;
  INSERT INTO wr_heap SELECT g, 'v' || g, g % 50 FROM generate_series(1, 1000) g;
  DROP FOREIGN TABLE IF EXISTS wr_eq;
  PERFORM sharedbuf_drop('wr_eq', true);
  PERFORM sharedbuf_create('wr_eq', 'SELECT * FROM wr_heap', 'id', writable => true);
END $$;

-- a fold merges a small delta into a copy of the bundle: the rows of the
-- keys it decides go, the file still verifies
CALL wr_reset();
UPDATE wr_eq SET val = val || '!' WHERE id <= 10;
UPDATE wr_heap SET val = val || '!' WHERE id <= 10;
DELETE FROM wr_eq WHERE id BETWEEN 11 AND 15;
DELETE FROM wr_heap WHERE id BETWEEN 11 AND 15;
INSERT INTO wr_eq VALUES (5001, 'new', 1);
INSERT INTO wr_heap VALUES (5001, 'new', 1);
SELECT rows FROM sharedbuf_fold('wr_eq');
SELECT keys, rows, merged_rows FROM sharedbuf_delta_info('wr_eq');
SELECT ok FROM sharedbuf_verify('wr_eq');
SELECT count(*) FROM (SELECT * FROM wr_eq EXCEPT ALL SELECT * FROM wr_heap) d;
SELECT * FROM wr_eq WHERE id IN (1, 11, 5001) ORDER BY id;
-- merges add up; a value outside the range the bundle encodes its column
-- in makes the fold rewrite the bundle
UPDATE wr_eq SET grp = grp + 1 WHERE id BETWEEN 100 AND 104;
SELECT rows FROM sharedbuf_fold('wr_eq');
SELECT merged_rows FROM sharedbuf_delta_info('wr_eq');
UPDATE wr_eq SET grp = 100000 WHERE id = 20;
SELECT rows FROM sharedbuf_fold('wr_eq');
SELECT merged_rows FROM sharedbuf_delta_info('wr_eq');
SELECT grp FROM wr_eq WHERE id = 20;
-- and so does a fold past sharedbuf.fold_merge_limit of the rows
SET sharedbuf.fold_merge_limit = 0.01;
UPDATE wr_eq SET grp = grp + 1 WHERE id BETWEEN 100 AND 119;
SELECT rows FROM sharedbuf_fold('wr_eq');
SELECT merged_rows FROM sharedbuf_delta_info('wr_eq');
SELECT ok FROM sharedbuf_verify('wr_eq');
RESET sharedbuf.fold_merge_limit;
-- a hashed key (numeric) cannot be merged into: the fold rewrites
CREATE TABLE wr_num_src (id numeric, val text);
INSERT INTO wr_num_src SELECT g, 'n' || g FROM generate_series(1, 200) g;
SELECT rows FROM sharedbuf_create('wr_num', 'SELECT * FROM wr_num_src', 'id', writable => true);
UPDATE wr_num SET val = 'changed' WHERE id = 7.0;
SELECT rows FROM sharedbuf_fold('wr_num');
SELECT merged_rows FROM sharedbuf_delta_info('wr_num');
SELECT * FROM wr_num WHERE id = 7;
DROP FOREIGN TABLE wr_num;
SELECT sharedbuf_drop('wr_num');
DROP TABLE wr_num_src;

-- the random sequences, two with every fold merging, two rewriting
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET sharedbuf.fold_merge_limit = 1;
CALL wr_reset();
CALL wr_random(11, 150);
CALL wr_reset();
CALL wr_random(23, 150);
SET sharedbuf.fold_merge_limit = 0;
CALL wr_reset();
CALL wr_random(37, 150);
CALL wr_reset();
CALL wr_random(58, 150);
RESET sharedbuf.fold_merge_limit;
SELECT count(*) > 900 AS compared FROM wr_eq;
RESET enable_hashjoin;
RESET enable_mergejoin;
