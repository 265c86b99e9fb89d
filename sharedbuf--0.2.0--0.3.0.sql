/* sharedbuf--0.2.0--0.3.0.sql: bundles as database objects */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION sharedbuf UPDATE TO '0.3.0'" to load this file. \quit

-- One row per bundle of this database, written by the transaction that
-- builds or drops it, so that it commits, replicates and recovers with it.
CREATE TABLE sharedbuf_catalog (
    name text PRIMARY KEY COLLATE "C",
    owner regrole NOT NULL,
    generation bigint NOT NULL,
    build_id text,
    query text,
    key text,
    built_at timestamptz NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('sharedbuf_catalog', '');
REVOKE ALL ON sharedbuf_catalog FROM PUBLIC;

-- Bundles of a format this version no longer reads (1.0 and 2.0) are
-- rebuilt from the stored query of a foreign table that reads them, by the
-- role that updates the extension, which then owns them.  Those without a
-- stored query are left to the user: reading one asks for a rebuild.
SELECT sharedbuf_refresh(t.ftrelid::regclass)
  FROM (SELECT DISTINCT ON (b.bundle) ft.ftrelid
          FROM sharedbuf_list() b
          JOIN pg_catalog.pg_foreign_table ft
            ON ('bundle=' || b.bundle) = ANY (ft.ftoptions)
         WHERE b.status LIKE 'bundle file has an obsolete format%'
           AND EXISTS (SELECT FROM unnest(ft.ftoptions) o WHERE o LIKE 'query=%')
         ORDER BY b.bundle, ft.ftrelid) t;

-- Bundles built before this version are owned by the owner of a table
-- that reads them, or else by the role that updates the extension.
INSERT INTO sharedbuf_catalog
  SELECT b.bundle,
         coalesce((SELECT c.relowner::regrole
                     FROM pg_catalog.pg_foreign_table ft
                     JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
                    WHERE ('bundle=' || b.bundle) = ANY (ft.ftoptions)
                    ORDER BY c.oid LIMIT 1),
                  current_user::regrole),
         coalesce(b.generation, 1), NULL, b.query, nullif(b.key, ''),
         coalesce(b.built_at, now())
    FROM sharedbuf_list() b
   WHERE b.status = 'ok'
     AND NOT EXISTS (SELECT FROM sharedbuf_catalog c WHERE c.name = b.bundle);

-- Give a bundle to another role.
CREATE FUNCTION sharedbuf_alter_owner(bundle text, new_owner regrole)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION sharedbuf_alter_owner(text, regrole) FROM PUBLIC;
