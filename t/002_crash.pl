# Crash safety: SIGKILL the backend that refreshes a bundle at several
# points of the build and of the swap at commit.  After crash recovery the
# bundle served is intact: the previous one if the refresh had not
# committed, the new one if it had; and no temporary file remains once the
# bundle is read again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	CREATE TABLE cr_src AS SELECT g AS id, 0 AS v FROM generate_series(1, 20000) g;
	SELECT rows FROM sharedbuf_create('cr_t', 'SELECT id, v FROM cr_src', key => 'id');
});
my $dir = $node->safe_psql('postgres',
	q{SELECT regexp_replace(file, '/[^/]*$', '') FROM sharedbuf_info('cr_t')});

# Temporary files next to the bundle.
sub temp_files
{
	opendir(my $dh, $dir) or die "opendir $dir: $!";
	my @t = grep { /^\.cr_t\..*\.tmp$/ } readdir($dh);
	closedir($dh);
	return scalar @t;
}

# Start a refresh that sets version $v, pausing at $point; return its pid.
sub start_refresh
{
	my ($point, $v) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	chomp $pid;
	my $query = $point eq 'query'
	  ? "SELECT id, $v AS v FROM cr_src WHERE pg_sleep(CASE WHEN id = 10000 THEN 60 ELSE 0 END) IS NOT NULL"
	  : "SELECT id, $v AS v FROM cr_src";
	my $pause = $point eq 'query' ? '' : $point;
	$bg->query_until(qr/started/, qq{
		\\echo started
		SET sharedbuf.test_pause = '$pause';
		SELECT rows FROM sharedbuf_refresh('cr_t', \$q\$$query\$q\$);
	});
	return ($bg, $pid);
}

my @points = (
	[ 'query',         0 ],    # streaming rows
	[ 'before_finish', 0 ],    # rows written, index not yet
	[ 'after_finish',  0 ],    # file complete, not committed
	[ 'pre_commit',    0 ],    # directory synced, commit record not written
	[ 'before_rename', 1 ],    # committed, not yet renamed
	[ 'after_rename',  1 ],    # committed and renamed
);

my $version = 0;
my $kills = 0;
for my $p (@points)
{
	my ($point, $commits) = @$p;
	my $v = $version + 1;
	my $offset = -s $node->logfile;
	my ($bg, $pid) = start_refresh($point, $v);
	if ($point eq 'query')
	{
		$node->poll_query_until('postgres',
			"SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $pid AND wait_event = 'PgSleep'")
		  or die "the build did not reach its query";
	}
	else
	{
		$node->wait_for_log(qr/paused at $point/, $offset);
	}
	$offset = -s $node->logfile;
	kill 'KILL', $pid;
	$kills++;
	eval { $bg->quit };
	# wait for the crash restart to finish, not just for a connection
	$node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	$node->poll_query_until('postgres', 'SELECT true')
	  or die "the server did not come back";

	$version = $v if $commits;
	is($node->safe_psql('postgres', 'SELECT count(*), min(v), max(v) FROM cr_t'),
		"20000|$version|$version", "killed at $point: version $version served intact");
	is(temp_files(), 0, "killed at $point: no temporary file left");
	is($node->safe_psql('postgres', q{SELECT status FROM sharedbuf_bundles WHERE bundle = 'cr_t'}),
		'ok', "killed at $point: the bundle file is valid");
}

# a refresh after all that works
$node->safe_psql('postgres', q{SELECT sharedbuf_refresh('cr_t', 'SELECT id, 99 AS v FROM cr_src')});
is($node->safe_psql('postgres', 'SELECT count(*), min(v) FROM cr_t'), '20000|99',
	'a later refresh works');
unlike(slurp_file($node->logfile), qr/was terminated by signal 1[01]\b/,
	'no backend crashed with SIGSEGV or SIGBUS');
note "kill points: $kills";

$node->stop;
done_testing();
