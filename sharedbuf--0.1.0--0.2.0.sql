/* sharedbuf--0.1.0--0.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION sharedbuf UPDATE TO '0.2.0'" to load this file. \quit

-- Check a bundle's checksums and structure completely.
CREATE FUNCTION sharedbuf_verify(
    "table" regclass,
    OUT ok boolean,
    OUT detail text)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- Read a bundle's index ('index'), also its rows ('rows'), or all of it
-- ('all') into memory; returns the pages touched.
CREATE FUNCTION sharedbuf_prewarm(
    "table" regclass,
    mode text DEFAULT 'index')
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- Builds running in this database.
CREATE FUNCTION sharedbuf_progress(
    OUT bundle text,
    OUT pid integer,
    OUT rows bigint,
    OUT bytes bigint,
    OUT started_at timestamptz,
    OUT seconds double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW sharedbuf_builds AS
  SELECT * FROM sharedbuf_progress();

-- Rebuild every bundle described by a foreign table with a stored query.
CREATE FUNCTION sharedbuf_rebuild_all(
    OUT foreign_table regclass,
    OUT bundle text,
    OUT rows bigint,
    OUT seconds double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION sharedbuf_verify(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION sharedbuf_prewarm(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sharedbuf_progress() FROM PUBLIC;
REVOKE ALL ON sharedbuf_builds FROM PUBLIC;
REVOKE ALL ON FUNCTION sharedbuf_rebuild_all() FROM PUBLIC;

-- Remove a bundle of this database at commit.
CREATE FUNCTION sharedbuf_drop(
    bundle text,
    if_exists boolean DEFAULT false)
RETURNS boolean
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION sharedbuf_drop(text, boolean) FROM PUBLIC;
