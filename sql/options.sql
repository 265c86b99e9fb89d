--
-- Foreign-table options: the validator, bundle names, the filename option
-- and its privilege, column_name, subsets of columns, type mismatches.
--
CREATE EXTENSION IF NOT EXISTS sharedbuf;
SET client_min_messages = warning;

SELECT rows FROM sharedbuf_build('opt_b', 'SELECT g AS id, g::text AS label, g * 2 AS twice FROM generate_series(1, 100) g', key => 'id');

-- the validator
CREATE FOREIGN TABLE opt_bad1 (id int4) SERVER sharedbuf;  -- error
CREATE FOREIGN TABLE opt_bad2 (id int4) SERVER sharedbuf OPTIONS (bundle 'opt_b', filename '/x.sb');  -- error
CREATE FOREIGN TABLE opt_bad3 (id int4) SERVER sharedbuf OPTIONS (bundle 'opt_b', colour 'red');  -- error
CREATE FOREIGN TABLE opt_bad4 (id int4) SERVER sharedbuf OPTIONS (bundle 'Opt B');  -- error
CREATE FOREIGN TABLE opt_bad5 (id int4) SERVER sharedbuf OPTIONS (bundle '../../etc');  -- error
CREATE FOREIGN TABLE opt_bad6 (id int4) SERVER sharedbuf OPTIONS (filename 'relative.sb');  -- error
CREATE FOREIGN TABLE opt_bad7 (id int4) SERVER sharedbuf OPTIONS (bundle 'opt_b', approximate 'perhaps');  -- error
CREATE FOREIGN TABLE opt_bad8 (id int4 OPTIONS (column_name '')) SERVER sharedbuf OPTIONS (bundle 'opt_b');  -- error
CREATE FOREIGN TABLE opt_bad9 (id int4 OPTIONS (colour 'red')) SERVER sharedbuf OPTIONS (bundle 'opt_b');  -- error
CREATE SERVER opt_srv FOREIGN DATA WRAPPER sharedbuf OPTIONS (bundle 'opt_b');  -- error
ALTER FOREIGN DATA WRAPPER sharedbuf OPTIONS (ADD bundle 'opt_b');  -- error

-- a subset of the columns, in another order, one renamed with column_name
CREATE FOREIGN TABLE opt_sub (twice int4, ident int4 OPTIONS (column_name 'id'))
  SERVER sharedbuf OPTIONS (bundle 'opt_b');
SELECT * FROM opt_sub WHERE ident = 21;
SELECT * FROM opt_sub WHERE twice = 84;
EXPLAIN (COSTS OFF) SELECT * FROM opt_sub WHERE ident = 21;

-- a session's cached column map follows changes to the table and to the bundle
ALTER FOREIGN TABLE opt_sub ALTER COLUMN twice OPTIONS (ADD column_name 'id');
SELECT * FROM opt_sub WHERE ident = 21;
ALTER FOREIGN TABLE opt_sub ALTER COLUMN twice TYPE text;
SELECT * FROM opt_sub WHERE ident = 21;  -- error
ALTER FOREIGN TABLE opt_sub ALTER COLUMN twice TYPE int4;
ALTER FOREIGN TABLE opt_sub ALTER COLUMN twice OPTIONS (DROP column_name);
SELECT * FROM opt_sub WHERE ident = 21;
SELECT rows FROM sharedbuf_build('opt_b', 'SELECT g AS id, g::text AS label, (g * 2)::int8 AS twice FROM generate_series(1, 100) g', key => 'id');
SELECT * FROM opt_sub WHERE ident = 21;  -- error
SELECT rows FROM sharedbuf_build('opt_b', 'SELECT g AS id, g::text AS label, g * 2 AS twice FROM generate_series(1, 100) g', key => 'id');
SELECT * FROM opt_sub WHERE ident = 21;
-- ... and its cached table options follow ALTER FOREIGN TABLE
SELECT rows FROM sharedbuf_build('opt_b2', 'SELECT g AS id, (g * 1000)::text AS label, g * 3 AS twice FROM generate_series(1, 100) g', key => 'id');
ALTER FOREIGN TABLE opt_sub OPTIONS (SET bundle 'opt_b2');
SELECT * FROM opt_sub WHERE ident = 21;
ALTER FOREIGN TABLE opt_sub OPTIONS (SET bundle 'opt_b');
SELECT * FROM opt_sub WHERE ident = 21;
SELECT sharedbuf_drop('opt_b2');
ANALYZE opt_sub;
SELECT attname, n_distinct FROM pg_stats WHERE tablename = 'opt_sub' ORDER BY attname;

-- a table whose columns do not match the bundle
CREATE FOREIGN TABLE opt_missing (id int4, nope text) SERVER sharedbuf OPTIONS (bundle 'opt_b');
SELECT * FROM opt_missing;  -- error
CREATE FOREIGN TABLE opt_type (id int8, label text) SERVER sharedbuf OPTIONS (bundle 'opt_b');
SELECT * FROM opt_type;  -- error
CREATE FOREIGN TABLE opt_varchar (id int4, label varchar(3)) SERVER sharedbuf OPTIONS (bundle 'opt_b');
SELECT * FROM opt_varchar;  -- error
CREATE FOREIGN TABLE opt_nobundle (id int4) SERVER sharedbuf OPTIONS (bundle 'opt_nothing_here');
\set VERBOSITY terse
SELECT * FROM opt_nobundle;  -- error
\set VERBOSITY default
-- a table without the key column still scans
CREATE FOREIGN TABLE opt_nokey (label text) SERVER sharedbuf OPTIONS (bundle 'opt_b');
SELECT * FROM opt_nokey WHERE label = '5';
EXPLAIN (COSTS OFF) SELECT * FROM opt_nokey WHERE label = '5';

-- writes are refused
INSERT INTO opt_sub VALUES (1, 1);  -- error
UPDATE opt_sub SET twice = 0;  -- error
DELETE FROM opt_sub;  -- error

-- the filename option: inside this database's directory, roles with the
-- privileges of the bundle's owner may use it; outside, only roles with
-- pg_read_server_files
CREATE ROLE regress_sb_user;
CREATE ROLE regress_sb_reader IN ROLE pg_read_server_files;
GRANT USAGE ON FOREIGN SERVER sharedbuf TO regress_sb_user, regress_sb_reader;
GRANT CREATE ON SCHEMA public TO regress_sb_user, regress_sb_reader;
CREATE FUNCTION opt_file() RETURNS text LANGUAGE sql
  AS $$ SELECT file FROM sharedbuf_info('opt_sub') $$ SECURITY DEFINER;
GRANT EXECUTE ON FUNCTION opt_file() TO PUBLIC;
\set VERBOSITY terse
SET ROLE regress_sb_user;
DO $$ BEGIN
  EXECUTE format('CREATE FOREIGN TABLE opt_file_in (id int4) SERVER sharedbuf OPTIONS (filename %L)', opt_file());
END $$;  -- error: not the bundle's owner
RESET ROLE;
SELECT sharedbuf_alter_owner('opt_b', 'regress_sb_user');
SET ROLE regress_sb_user;
DO $$ BEGIN
  EXECUTE format('CREATE FOREIGN TABLE opt_file_in (id int4) SERVER sharedbuf OPTIONS (filename %L)', opt_file());
END $$;
SELECT count(*) FROM opt_file_in;
CREATE FOREIGN TABLE opt_file_out (id int4) SERVER sharedbuf OPTIONS (filename '/tmp/some.sb');  -- error
DO $$ BEGIN
  EXECUTE format('CREATE FOREIGN TABLE opt_file_dots (id int4) SERVER sharedbuf OPTIONS (filename %L)',
                 opt_file() || '/../../../../../etc/passwd');
END $$;  -- error
DO $$ BEGIN
  EXECUTE format('CREATE FOREIGN TABLE opt_file_dots2 (id int4) SERVER sharedbuf OPTIONS (filename %L)',
                 regexp_replace(opt_file(), '/[^/]*$', '') || '/../other.sb');
END $$;  -- error
RESET ROLE;
SET ROLE regress_sb_reader;
CREATE FOREIGN TABLE opt_file_out (id int4) SERVER sharedbuf OPTIONS (filename '/tmp/sharedbuf_no_such_file.sb');
SELECT * FROM opt_file_out;  -- error: the file does not exist
RESET ROLE;
-- a directory, not a bundle file
CREATE FOREIGN TABLE opt_dir (id int4) SERVER sharedbuf OPTIONS (filename '/tmp');
SELECT * FROM opt_dir;  -- error
-- a file that is not a bundle, and one too short to be one
DO $$ BEGIN
  EXECUTE format('COPY (SELECT repeat(''x'', 300)) TO %L', current_setting('data_directory') || '/opt_notbundle.txt');
  EXECUTE format('COPY (SELECT ''x'') TO %L', current_setting('data_directory') || '/opt_short.txt');
  EXECUTE format('CREATE FOREIGN TABLE opt_notbundle (id int4) SERVER sharedbuf OPTIONS (filename %L)',
                 current_setting('data_directory') || '/opt_notbundle.txt');
  EXECUTE format('CREATE FOREIGN TABLE opt_short (id int4) SERVER sharedbuf OPTIONS (filename %L)',
                 current_setting('data_directory') || '/opt_short.txt');
END $$;
SELECT * FROM opt_notbundle;  -- error
SELECT * FROM opt_short;  -- error
\set VERBOSITY default

-- without the privileges to build, a role cannot call the functions
SET ROLE regress_sb_user;
SELECT * FROM sharedbuf_build('opt_denied', 'SELECT 1 AS x');  -- error
SELECT * FROM sharedbuf_refresh('opt_sub');  -- error
SELECT count(*) FROM sharedbuf_bundles;  -- error
RESET ROLE;
-- granted, the build query runs with the caller's privileges
GRANT EXECUTE ON FUNCTION sharedbuf_build(text, text, text, boolean) TO regress_sb_user;
GRANT EXECUTE ON FUNCTION sharedbuf_refresh(regclass, text) TO regress_sb_user;
CREATE TABLE opt_secret (x int);
SET ROLE regress_sb_user;
SELECT * FROM sharedbuf_build('opt_denied', 'SELECT x FROM opt_secret');  -- error
SELECT * FROM sharedbuf_refresh('opt_sub');  -- error: not the owner
RESET ROLE;

-- a hostile search_path: look-alike types and operators first
CREATE SCHEMA opt_evil;
CREATE TYPE opt_evil.int4 AS ENUM ('evil');
CREATE TYPE opt_evil.text AS ENUM ('evil');
CREATE FUNCTION opt_evil.never(name, name) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR opt_evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = opt_evil.never);
SET search_path = opt_evil, pg_catalog, public;
SELECT rows FROM sharedbuf_create('public.opt_safe', 'SELECT g::pg_catalog.int4 AS id, g::pg_catalog.text AS t FROM generate_series(1, 3) g', key => 'id');
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
  WHERE a.attrelid = 'public.opt_safe'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT * FROM public.opt_safe WHERE id = 2;
SELECT foreign_table, rows FROM sharedbuf_rebuild_all() WHERE bundle = 'opt_safe';
RESET search_path;
DROP FOREIGN TABLE opt_safe;
DROP SCHEMA opt_evil CASCADE;

DROP FOREIGN TABLE opt_sub, opt_missing, opt_type, opt_varchar, opt_nobundle, opt_nokey,
  opt_file_in, opt_file_out, opt_dir, opt_notbundle, opt_short;
DROP TABLE opt_secret;
DROP FUNCTION opt_file();
REVOKE ALL ON FUNCTION sharedbuf_build(text, text, text, boolean) FROM regress_sb_user;
REVOKE ALL ON FUNCTION sharedbuf_refresh(regclass, text) FROM regress_sb_user;
REVOKE ALL ON FOREIGN SERVER sharedbuf FROM regress_sb_user, regress_sb_reader;
REVOKE ALL ON SCHEMA public FROM regress_sb_user, regress_sb_reader;
SELECT sharedbuf_alter_owner('opt_b', current_user::regrole);
DROP ROLE regress_sb_user, regress_sb_reader;
