# Operations across sessions and databases: a long build's progress is
# visible from another session; pg_dump and pg_restore of a database with
# sharedbuf tables restore working tables once sharedbuf_rebuild_all()
# has rebuilt their bundles from the stored queries.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ops');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	CREATE TABLE users AS SELECT g AS id, 'user ' || g AS name FROM generate_series(1, 20000) g;
	SELECT rows FROM sharedbuf_create('user_profile', 'SELECT id, name FROM users', key => 'id');
	SELECT rows FROM sharedbuf_build('by_name', 'SELECT name, id FROM users', key => 'name');
	CREATE FOREIGN TABLE by_name (name text, id int) SERVER sharedbuf
		OPTIONS (bundle 'by_name', query 'SELECT name, id FROM users', key 'name');
});

# progress of a slow build, seen from another session
my $bg = $node->background_psql('postgres');
$bg->query_until(qr/started/, q{
	\echo started
	SELECT rows FROM sharedbuf_refresh('user_profile',
		'SELECT id, name FROM users WHERE pg_sleep(CASE WHEN id % 1000 = 0 THEN 0.4 ELSE 0 END) IS NOT NULL');
});
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM sharedbuf_builds WHERE bundle = 'user_profile' AND rows > 4000}),
	'a running build shows its progress');
my $progress = $node->safe_psql('postgres',
	q{SELECT pid > 0, bytes > 0, started_at <= now(), seconds > 0 FROM sharedbuf_builds});
is($progress, 't|t|t|t', 'with its backend, bytes, start time and duration');
$bg->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM sharedbuf_builds'), '0',
	'finished builds are gone from the view');
is($node->safe_psql('postgres', 'SELECT count(*) FROM user_profile'), '20000', 'the build completed');

# dump and restore into another database
my $dump = $node->basedir . '/ops.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');

my ($ret, $out, $err) = $node->psql('restored', 'SELECT count(*) FROM user_profile');
like($err, qr/bundle "user_profile" does not exist/,
	'restored tables name bundles the new database does not have yet');
is($node->safe_psql('restored', 'SELECT foreign_table, rows FROM sharedbuf_rebuild_all() ORDER BY bundle'),
	"by_name|20000\nuser_profile|20000", 'sharedbuf_rebuild_all rebuilds them from the stored queries');
is($node->safe_psql('restored', q{SELECT name FROM user_profile WHERE id = 77}), 'user 77',
	'lookups work in the restored database');
is($node->safe_psql('restored', q{SELECT id FROM by_name WHERE name = 'user 78'}), '78',
	'on every restored table');
is($node->safe_psql('postgres', q{SELECT name FROM user_profile WHERE id = 77}), 'user 77',
	'the original database is untouched');

$node->stop;
done_testing();
