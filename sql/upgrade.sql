--
-- Upgrades: install the first version, update to the current one.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS sharedbuf CASCADE;
CREATE EXTENSION sharedbuf VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'sharedbuf';
SELECT count(*) AS functions_0_1_0 FROM pg_proc WHERE proname LIKE 'sharedbuf%';
SELECT rows FROM sharedbuf_create('upg_t', 'SELECT g AS id FROM generate_series(1, 100) g', key => 'id');
SELECT * FROM sharedbuf_verify('upg_t');  -- error: not yet there
ALTER EXTENSION sharedbuf UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'sharedbuf';
SELECT count(*) AS functions_now FROM pg_proc WHERE proname LIKE 'sharedbuf%';
-- bundles built before the update are adopted by the catalog
SELECT name, owner, generation, build_id IS NULL AS no_build_id, query, key
  FROM sharedbuf_catalog WHERE name LIKE 'upg%' ORDER BY name;
-- tables made before the update keep working, and the new functions work
SELECT count(*) FROM upg_t WHERE id = 7;
SELECT rows FROM sharedbuf_refresh('upg_t');
SELECT name, generation, length(build_id) FROM sharedbuf_catalog WHERE name LIKE 'upg%';
SELECT count(*) FROM upg_t WHERE id = 7;
SELECT * FROM sharedbuf_verify('upg_t');
-- a fresh install of the current version has the same objects
DROP EXTENSION sharedbuf CASCADE;
CREATE EXTENSION sharedbuf;
SELECT extversion FROM pg_extension WHERE extname = 'sharedbuf';
SELECT count(*) AS functions_fresh FROM pg_proc WHERE proname LIKE 'sharedbuf%';
-- (the row types of its views, and their array types, are left out: they
-- are members of their own from PostgreSQL 17 on)
SELECT pg_describe_object(classid, objid, 0) AS object
  FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sharedbuf')
  AND deptype = 'e'
  AND NOT (classid = 'pg_type'::regclass AND objid IN
           (SELECT t.oid FROM pg_type t JOIN pg_type r ON r.oid IN (t.oid, t.typelem)
             WHERE r.typrelid <> 0))
  ORDER BY 1;
