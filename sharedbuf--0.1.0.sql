/* sharedbuf--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION sharedbuf" to load this file. \quit

CREATE FUNCTION sharedbuf_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION sharedbuf_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER sharedbuf
  HANDLER sharedbuf_fdw_handler
  VALIDATOR sharedbuf_fdw_validator;

CREATE SERVER sharedbuf FOREIGN DATA WRAPPER sharedbuf;

-- Build a bundle of this database from a query; swapped in at commit.
CREATE FUNCTION sharedbuf_build(
    bundle text,
    query text,
    key text DEFAULT NULL,
    approximate boolean DEFAULT false,
    OUT bundle text,
    OUT rows bigint,
    OUT bytes bigint,
    OUT distinct_keys bigint,
    OUT dedup_saved bigint,
    OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Build a bundle and create a foreign table over it.
CREATE FUNCTION sharedbuf_create(
    table_name text,
    query text,
    key text DEFAULT NULL,
    server name DEFAULT 'sharedbuf',
    approximate boolean DEFAULT false,
    OUT bundle text,
    OUT rows bigint,
    OUT bytes bigint,
    OUT distinct_keys bigint,
    OUT dedup_saved bigint,
    OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Rebuild a table's bundle from its stored query (or a new one).
CREATE FUNCTION sharedbuf_refresh(
    "table" regclass,
    query text DEFAULT NULL,
    OUT bundle text,
    OUT rows bigint,
    OUT bytes bigint,
    OUT distinct_keys bigint,
    OUT dedup_saved bigint,
    OUT seconds double precision)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Describe the bundle a foreign table reads.
CREATE FUNCTION sharedbuf_info(
    "table" regclass,
    OUT bundle text,
    OUT file text,
    OUT rows bigint,
    OUT bytes bigint,
    OUT generation bigint,
    OUT built_at timestamptz,
    OUT query text,
    OUT key text,
    OUT columns integer,
    OUT index_bytes bigint,
    OUT distinct_keys bigint,
    OUT approximate boolean,
    OUT format_version text)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE;

-- Every bundle file of this database.
CREATE FUNCTION sharedbuf_list(
    OUT bundle text,
    OUT file text,
    OUT rows bigint,
    OUT bytes bigint,
    OUT generation bigint,
    OUT built_at timestamptz,
    OUT query text,
    OUT key text,
    OUT columns integer,
    OUT index_bytes bigint,
    OUT distinct_keys bigint,
    OUT approximate boolean,
    OUT format_version text,
    OUT status text)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW sharedbuf_bundles AS
  SELECT * FROM sharedbuf_list();

-- The bundle files this backend has mapped.
CREATE FUNCTION sharedbuf_mappings(
    OUT file text,
    OUT bytes bigint,
    OUT pins integer,
    OUT current boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- Functions that write files or reveal them are for granted roles only.
REVOKE ALL ON FUNCTION sharedbuf_build(text, text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION sharedbuf_create(text, text, text, name, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION sharedbuf_refresh(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sharedbuf_info(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION sharedbuf_list() FROM PUBLIC;
REVOKE ALL ON sharedbuf_bundles FROM PUBLIC;
