# Crashes around standbys: a primary and a streaming standby with sharedbuf
# preloaded.  A standby SIGKILLed (with every process of it) in the middle
# of replaying a large bundle replays it again from its restart point and
# serves it whole.  A primary SIGKILLed at each pause point of a refresh
# comes back, after crash recovery, with the old generation if the kill
# came before the commit and the new one after, and its standby serves the
# same.  A base backup taken while a refresh is paused with its file
# complete gives a standby that serves the new generation once it streams
# the rest, and a node restored from it alone (its own WAL only) that
# serves the old one.  Everywhere sharedbuf_verify passes and no file of a
# build or drop is left behind (a standby keeps the file of a build whose
# primary died before settling it until its first reader of the bundle).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use SbStandby;
use Time::HiRes qw(usleep);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
# a standby that falls behind while the primary restarts finds its WAL
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'sharedbuf'\nwal_keep_size = '1GB'\n");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	CREATE TABLE big_src AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 150000) g;
	CREATE TABLE cr_src AS SELECT g AS id FROM generate_series(1, 20000) g;
	SELECT rows FROM sharedbuf_create('cr', 'SELECT id, 0 AS v FROM cr_src', key => 'id');
});
$primary->backup('b1');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->append_conf('postgresql.conf', qq{
hot_standby_feedback = on
wal_retrieve_retry_interval = '200ms'
sharedbuf.test_pause = 'redo_chunk'
});
$standby->start;

####
# 1. The standby is killed in the middle of replaying a large bundle.
####
my $offset = -s $standby->logfile;
# (uncompacted: its md5 text would code to half the chunks)
my $bytes = $primary->safe_psql('postgres', q{
	SET sharedbuf.compact = off;
	SELECT bytes FROM sharedbuf_create('big', 'SELECT id, h FROM big_src', key => 'id')});
my $chunks = int(($bytes + 1048575) / 1048576);
cmp_ok($chunks, '>=', 5, "the large bundle is logged in $chunks chunks");
$standby->wait_for_log(qr/sharedbuf: paused at redo_chunk/, $offset);

# let replay write a chunk, then pause again: a step file lets one pause
# go on and is used up (a release file raced replay's 1 ms chunks)
my $step = $standby->data_dir . '/sharedbuf_test_step';
append_to_file($step, '');
my $tries = 0;
usleep(5_000) while pauses($standby, 'redo_chunk', $offset) < 2 && $tries++ < 2000;
usleep(1_000_000);
my $paused_at = pauses($standby, 'redo_chunk', $offset);
usleep(500_000);
is(pauses($standby, 'redo_chunk', $offset), $paused_at, 'replay stays paused');
ok($paused_at >= 2 && $paused_at <= $chunks,
	"replay paused in the middle of the file, at chunk $paused_at of $chunks");
my @partial = glob($standby->data_dir . '/sharedbuf/*/.big.*.tmp');
is(scalar @partial, 1, 'the standby has the file of the build being replayed');
is(-s $partial[0], ($paused_at - 1) * 1048576,
	'the chunks before the pause are written, no more');

crash($standby);
$standby->append_conf('postgresql.conf', "sharedbuf.test_pause = ''\n");
$standby->start;
catch_up($primary, $standby);
my $scan = q{SELECT count(*), sum(id), md5(string_agg(h, ',' ORDER BY id)) FROM big};
my $want = $primary->safe_psql('postgres', $scan);
like($want, qr/^150000\|/, 'the primary serves the large bundle');
is($standby->safe_psql('postgres', $scan), $want,
	'after the crash the standby serves the large bundle as the primary does');
is($standby->safe_psql('postgres', q{SELECT h FROM big WHERE id = 123456}),
	$primary->safe_psql('postgres', q{SELECT md5('123456')}), 'a lookup on the standby');
is($standby->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('big')}), 't',
	'verify passes on the standby');
is(flight_files($standby), 0, 'no file of the build left on the standby');
is(flight_files($primary), 0, 'no file of the build left on the primary');

####
# 2. The primary is killed at each pause point of a refresh.
####

# Start a refresh of cr that sets v to $v, pausing at $point.
sub start_refresh
{
	my ($point, $v) = @_;
	my $bg = $primary->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, qq{
		\\echo started
		SET sharedbuf.test_pause = '$point';
		SELECT rows FROM sharedbuf_refresh('cr', 'SELECT id, $v AS v FROM cr_src');
	});
	return $bg;
}

# The same generation of cr, whole and verified, on both servers.
sub check_cr
{
	my ($version, $what) = @_;
	catch_up($primary, $standby);
	for my $node ($primary, $standby)
	{
		my $name = $node->name;
		is($node->safe_psql('postgres', q{SELECT count(*), min(v), max(v) FROM cr}),
			"20000|$version|$version", "$name, $what: version $version served whole");
		is($node->safe_psql('postgres', q{
			SELECT c.generation = i.generation AND c.build_id IS NOT NULL
			  FROM sharedbuf_catalog c, sharedbuf_info('cr') i WHERE c.name = 'cr'}),
			't', "$name, $what: the file is the generation the catalog names");
		is($node->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('cr')}), 't',
			"$name, $what: verify passes");
		is(flight_files($node), 0, "$name, $what: no file of a build left");
	}
}

my @points = (
	[ 'after_finish',  0 ],    # file complete, not in the WAL yet
	[ 'pre_commit',    0 ],    # file in the WAL, commit record not written
	[ 'before_rename', 1 ],    # committed, not settled
	[ 'after_rename',  1 ],    # committed and settled
);
my $version = 0;
for my $p (@points)
{
	my ($point, $commits) = @$p;
	my $v = $version + 1;
	$offset = -s $primary->logfile;
	my $bg = start_refresh($point, $v);
	$primary->wait_for_log(qr/sharedbuf: paused at $point/, $offset);
	crash($primary);
	eval { $bg->quit };
	$primary->start;
	is(flight_files($primary), 0, "killed at $point: crash recovery settled the build");
	if ($point ne 'after_rename')
	{
		# nothing settles it in replay: the standby's first reader must
		catch_up($primary, $standby);
		is(flight_files($standby), 1, "killed at $point: the standby has the build's file");
	}
	$version = $v if $commits;
	check_cr($version, "primary killed at $point");
}
# A build whose primary died before its commit leaves its file on the
# standby; once replay tracks running transactions, the replay of the next
# build of the bundle removes it, with no reader on the standby.
$offset = -s $primary->logfile;
my $dead = start_refresh('pre_commit', 99);
$primary->wait_for_log(qr/sharedbuf: paused at pre_commit/, $offset);
crash($primary);
eval { $dead->quit };
$primary->start;
catch_up($primary, $standby);
is(flight_files($standby), 1, 'a build that died before its commit: its file is on the standby');
$primary->safe_psql('postgres',
	q{SELECT rows FROM sharedbuf_refresh('cr', 'SELECT id, 10 AS v FROM cr_src')});
catch_up($primary, $standby);
is(flight_files($standby), 0, "the next build's replay removes the dead build's file");
check_cr(10, 'a refresh after the crashes');
$version = 10;

####
# 3. A base backup taken while a refresh is paused with its file complete.
####
$offset = -s $primary->logfile;
my $bg = start_refresh('after_finish', 11);
$primary->wait_for_log(qr/sharedbuf: paused at after_finish/, $offset);
$primary->backup('mid');
ok(scalar(grep { /\.cr\.\d+\.\d+\.[0-9A-F]+\.tmp$/ } glob($primary->backup_dir . '/mid/sharedbuf/*/.*')),
	'the backup holds the file of the paused build');
my $release = release_file($primary);
append_to_file($release, '');
$bg->query_until(qr/done/, "\\echo done\n");
$bg->quit;
unlink($release) or die "unlink $release: $!";
is($primary->safe_psql('postgres', q{SELECT count(*), min(v), max(v) FROM cr}),
	'20000|11|11', 'the released refresh committed');

# (a) a standby made from the backup streams the rest
my $standby2 = PostgreSQL::Test::Cluster->new('standby2');
$standby2->init_from_backup($primary, 'mid', has_streaming => 1);
$standby2->start;
catch_up($primary, $standby2);
is($standby2->safe_psql('postgres', q{SELECT count(*), min(v), max(v) FROM cr}),
	'20000|11|11', 'a standby made from the backup serves the new generation');
is($standby2->safe_psql('postgres', q{
	SELECT c.generation = i.generation FROM sharedbuf_catalog c, sharedbuf_info('cr') i
	 WHERE c.name = 'cr'}), 't', 'standby from the backup: the file the catalog names');
is($standby2->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('cr')}), 't',
	'standby from the backup: verify passes');
is(flight_files($standby2), 0, 'standby from the backup: no file of a build left');

# (b) a node restored from the backup alone replays only its WAL
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init_from_backup($primary, 'mid');
$restored->start;
is($restored->safe_psql('postgres', q{SELECT pg_is_in_recovery()}), 'f',
	'the restored node finished recovery');
is($restored->safe_psql('postgres', q{SELECT count(*), min(v), max(v) FROM cr}),
	"20000|$version|$version", 'the restored node serves the old generation');
is($restored->safe_psql('postgres', q{
	SELECT c.generation = i.generation FROM sharedbuf_catalog c, sharedbuf_info('cr') i
	 WHERE c.name = 'cr'}), 't', 'restored node: the file the catalog names');
is($restored->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('cr')}), 't',
	'restored node: verify passes');
is(flight_files($restored), 0, 'restored node: the uncommitted build\'s file is gone');
is($restored->safe_psql('postgres',
	q{SELECT rows FROM sharedbuf_refresh('cr', 'SELECT id, 12 AS v FROM cr_src')}),
	'20000', 'the restored node can refresh');
is($restored->safe_psql('postgres', q{SELECT count(*), min(v), max(v) FROM cr}),
	'20000|12|12', 'the restored node serves its own refresh');

unlike(slurp_file($_->logfile), qr/was terminated by signal (?:6|11|7)\b|replayed file of bundle .* is not valid/,
	$_->name . ': no process crashed, no replayed file was invalid')
  for ($primary, $standby, $standby2, $restored);

done_testing();
