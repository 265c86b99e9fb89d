# A build into a full file system fails with a clear error (SQLSTATE 53100,
# disk_full); the previous bundle stays intact and no temporary file is
# left.  Needs a small file system, which scripts/run-tap mounts when run
# as root (SHAREDBUF_SMALLFS); skipped otherwise.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $smallfs = $ENV{SHAREDBUF_SMALLFS} // '';
plan skip_all => 'no small file system to fill (run scripts/run-tap as root)'
  if $smallfs eq '';

my $node = PostgreSQL::Test::Cluster->new('diskfull');
$node->init;
$node->append_conf('postgresql.conf', "sharedbuf.directory = '$smallfs'\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	CREATE TABLE df_src AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g;
	SELECT rows FROM sharedbuf_create('df_t', 'SELECT id, v FROM df_src', key => 'id');
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM df_t'), '1000', 'a small bundle fits');

# a refresh far larger than the file system
my ($ret, $out, $err) = $node->psql('postgres', q{
	\set VERBOSITY verbose
	SELECT sharedbuf_refresh('df_t',
		'SELECT g AS id, repeat(md5(g::text), 8) AS v FROM generate_series(1, 100000) g');
});
isnt($ret, 0, 'the build into a full disk fails');
like($err, qr/ERROR:\s+53100: could not write bundle "df_t": No space left on device/,
	'with SQLSTATE 53100 and a message naming the bundle');
note $err;

is($node->safe_psql('postgres', 'SELECT count(*), min(id), max(id) FROM df_t'), '1000|1|1000',
	'the previous bundle is intact');
is($node->safe_psql('postgres', q{SELECT status FROM sharedbuf_bundles WHERE bundle = 'df_t'}),
	'ok', 'and valid');
my $dbdir = $node->safe_psql('postgres',
	q{SELECT regexp_replace(file, '/[^/]*$', '') FROM sharedbuf_info('df_t')});
opendir(my $dh, $dbdir) or die "opendir $dbdir: $!";
my @left = grep { /\.tmp$/ } readdir($dh);
closedir($dh);
is(scalar @left, 0, 'no temporary file is left');

# once there is room again, the refresh works
$node->safe_psql('postgres', q{SELECT sharedbuf_refresh('df_t', 'SELECT id, v FROM df_src WHERE id <= 500')});
is($node->safe_psql('postgres', 'SELECT count(*) FROM df_t'), '500', 'a refresh that fits works');

$node->stop;
done_testing();
