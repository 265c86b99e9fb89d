--
-- Ownership of bundles: who may build, replace, drop, give away and read
-- through a new table which bundle.
--
SET client_min_messages = warning;
CREATE ROLE regress_own_alice;
CREATE ROLE regress_own_bob;
CREATE ROLE regress_own_carol;
CREATE ROLE regress_own_team NOLOGIN;
GRANT regress_own_team TO regress_own_alice, regress_own_carol;
GRANT EXECUTE ON FUNCTION sharedbuf_build(text, text, text, boolean),
      sharedbuf_create(text, text, text, name, boolean, boolean, boolean),
      sharedbuf_refresh(regclass, text), sharedbuf_drop(text, boolean),
      sharedbuf_alter_owner(text, regrole)
   TO regress_own_alice, regress_own_bob, regress_own_carol;
GRANT USAGE ON FOREIGN SERVER sharedbuf
   TO regress_own_alice, regress_own_bob, regress_own_carol;
CREATE SCHEMA own AUTHORIZATION regress_own_alice;
CREATE SCHEMA own_bob AUTHORIZATION regress_own_bob;
GRANT USAGE ON SCHEMA own TO PUBLIC;
CREATE TABLE own_src AS SELECT g AS id, 'v' || g AS v FROM generate_series(1, 10) g;
GRANT SELECT ON own_src TO PUBLIC;
RESET client_min_messages;

-- The role that first builds a bundle owns it.
SET ROLE regress_own_alice;
SELECT rows FROM sharedbuf_build('own_b', 'SELECT id, v FROM own_src', 'id');
SELECT rows FROM sharedbuf_create('own.own_t', 'SELECT id, v FROM own_src', key => 'id');
RESET ROLE;
SELECT name, owner, generation FROM sharedbuf_catalog WHERE name LIKE 'own%' ORDER BY name;
SELECT replace(file, 'own_t.sb', 'own_b.sb') AS own_b_file FROM sharedbuf_info('own.own_t') \gset

-- Another role can neither replace, drop, give away nor read it through a
-- table of its own.
SET ROLE regress_own_bob;
SELECT rows FROM sharedbuf_build('own_b', 'SELECT 1 AS id', 'id');
SELECT rows FROM sharedbuf_create('own_b', 'SELECT 1 AS id', key => 'id');
SELECT sharedbuf_drop('own_b');
SELECT sharedbuf_alter_owner('own_b', 'regress_own_bob');
CREATE FOREIGN TABLE own_bob.t (id int, v text) SERVER sharedbuf OPTIONS (bundle 'own_b');
CREATE FOREIGN TABLE own_bob.t (id int, v text) SERVER sharedbuf OPTIONS (bundle 'own_bobs');
ALTER FOREIGN TABLE own_bob.t OPTIONS (SET bundle 'own_b');
-- not even by its path
CREATE FOREIGN TABLE own_bob.byfile (id int) SERVER sharedbuf OPTIONS (filename :'own_b_file');
-- nor refresh or read another role's table
SELECT rows FROM sharedbuf_refresh('own.own_t');
SELECT v FROM own.own_t WHERE id = 3;
-- its own bundles are its own; an import skips the bundles it may not use
SELECT rows FROM sharedbuf_build('own_bobs', 'SELECT 1 AS id', 'id');
IMPORT FOREIGN SCHEMA sharedbuf LIMIT TO (own_b, own_bobs) FROM SERVER sharedbuf INTO own_bob;
SELECT foreign_table_name FROM information_schema.foreign_tables
 WHERE foreign_table_schema = 'own_bob' ORDER BY 1;
RESET ROLE;
-- nothing it tried changed the bundle
SELECT name, owner, generation FROM sharedbuf_catalog WHERE name LIKE 'own%' ORDER BY name;

-- Reading goes by the table's privileges.
SET ROLE regress_own_alice;
GRANT SELECT ON own.own_t TO regress_own_bob;
SET ROLE regress_own_bob;
SELECT v FROM own.own_t WHERE id = 3;
RESET ROLE;

-- Giving a bundle away needs membership in the new owner.
SET ROLE regress_own_alice;
-- (PostgreSQL 16 and later word the refusal differently: show its SQLSTATE)
DO $$ BEGIN
  PERFORM sharedbuf_alter_owner('own_b', 'regress_own_bob');
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'refused with SQLSTATE %', SQLSTATE;
END $$;
SELECT sharedbuf_alter_owner('own_b', 'regress_own_team');
RESET ROLE;
SELECT name, owner FROM sharedbuf_catalog WHERE name = 'own_b';
-- members of the owner role may rebuild and drop it; others still may not
SET ROLE regress_own_carol;
SELECT rows FROM sharedbuf_build('own_b', 'SELECT id, upper(v) AS v FROM own_src', 'id');
SET ROLE regress_own_bob;
SELECT sharedbuf_drop('own_b');
RESET ROLE;
REVOKE regress_own_team FROM regress_own_alice;
SET ROLE regress_own_alice;
SELECT rows FROM sharedbuf_build('own_b', 'SELECT 1 AS id', 'id');
RESET ROLE;
SELECT name, owner, generation FROM sharedbuf_catalog WHERE name = 'own_b';

-- A superuser may do anything.
SELECT sharedbuf_alter_owner('own_b', 'regress_own_bob');
SET ROLE regress_own_bob;
SELECT sharedbuf_drop('own_b');
RESET ROLE;
SELECT count(*) FROM sharedbuf_catalog WHERE name = 'own_b';
SELECT sharedbuf_alter_owner('own_b', 'regress_own_bob');
SELECT sharedbuf_alter_owner('Own B', 'regress_own_bob');

-- clean up
SET client_min_messages = warning;
DROP SCHEMA own CASCADE;
DROP SCHEMA own_bob CASCADE;
SELECT sharedbuf_drop('own_t'), sharedbuf_drop('own_bobs');
DROP TABLE own_src;
DROP OWNED BY regress_own_alice, regress_own_bob, regress_own_carol;
DROP ROLE regress_own_alice, regress_own_bob, regress_own_carol, regress_own_team;
