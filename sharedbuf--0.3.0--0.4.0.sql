/* sharedbuf--0.3.0--0.4.0.sql: writable bundles */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION sharedbuf UPDATE TO '0.4.0'" to load this file. \quit

-- The deltas of writable bundles: one heap table per bundle, named after
-- it, with its generation sequence.  They belong to the bundles' owners,
-- are dumped by pg_dump like any table, and are read and written only
-- through the foreign tables and the functions below.
CREATE SCHEMA sharedbuf_delta;
REVOKE ALL ON SCHEMA sharedbuf_delta FROM PUBLIC;
GRANT USAGE ON SCHEMA sharedbuf_delta TO PUBLIC;

-- Build a bundle and create a foreign table over it; now optionally
-- writable, or following the table its query reads.
DROP FUNCTION sharedbuf_create(text, text, text, name, boolean);
CREATE FUNCTION sharedbuf_create(
    table_name text,
    query text,
    key text DEFAULT NULL,
    server name DEFAULT 'sharedbuf',
    approximate boolean DEFAULT false,
    writable boolean DEFAULT false,
    follow boolean DEFAULT false,
    OUT bundle text,
    OUT rows bigint,
    OUT bytes bigint,
    OUT distinct_keys bigint,
    OUT dedup_saved bigint,
    OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION sharedbuf_create(text, text, text, name, boolean, boolean, boolean) FROM PUBLIC;

-- Give a table's bundle a delta, so that it takes writes (or drop an
-- empty one).
CREATE FUNCTION sharedbuf_set_writable("table" regclass, writable boolean DEFAULT true)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION sharedbuf_set_writable(regclass, boolean) FROM PUBLIC;

-- Fold a writable bundle's delta into a new bundle, swapped in at commit.
CREATE FUNCTION sharedbuf_fold(
    "table" regclass,
    OUT bundle text,
    OUT rows bigint,
    OUT bytes bigint,
    OUT distinct_keys bigint,
    OUT dedup_saved bigint,
    OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION sharedbuf_fold(regclass) FROM PUBLIC;

-- Insert a row, or replace the rows of its key (foreign tables have no
-- ON CONFLICT DO UPDATE).  The caller needs INSERT and DELETE on the table.
CREATE FUNCTION sharedbuf_put("table" regclass, new_row anyelement)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- Delete the rows of a key of a one-column key; how many there were.
CREATE FUNCTION sharedbuf_delete("table" regclass, key anyelement)
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- The delta of a writable bundle: its table, the generation writes are
-- stamped with, and the keys and rows it holds that the bundle does not.
CREATE FUNCTION sharedbuf_delta_info(
    "table" regclass,
    OUT delta regclass,
    OUT generation bigint,
    OUT folded_through bigint,
    OUT keys bigint,
    OUT rows bigint,
    OUT merged_rows bigint,
    OUT follows regclass)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- Following bundles: the statement triggers a following bundle puts on
-- the table it follows (internal triggers, created by sharedbuf_create()
-- and sharedbuf_refresh()), and the event trigger that stops following
-- when DDL changes the table so that the query no longer fits.
CREATE FUNCTION sharedbuf_follow_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME'
LANGUAGE C;

CREATE FUNCTION sharedbuf_follow_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME'
LANGUAGE C;

CREATE EVENT TRIGGER sharedbuf_follow_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER INDEX', 'DROP INDEX')
    EXECUTE FUNCTION sharedbuf_follow_ddl();
