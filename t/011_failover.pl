# Failover, archive recovery and servers set up without sharedbuf
# preloaded.  Readers on a standby (pgbench) see one whole generation per
# statement, never an older one than the catalog names and never going
# back, while the primary refreshes the bundle again and again; a
# statement during whose planning a refresh is replayed reads the
# generation its execution snapshot sees, not the one planning saw.
# After a promotion the new primary serves every bundle committed before
# the switch (also one created after the standby's base backup) and
# nothing of a refresh in flight at the switch, builds, and its builds
# reach a cascading standby.  Point-in-time recovery to a restore point
# serves exactly the generation committed there, also when a refresh was
# in flight at the restore point.  A standby without the library stops at
# the first sharedbuf record, naming resource manager 128; a primary
# without it warns that its builds will not reach standbys, and its
# standby then refuses the outdated file rather than serve old rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use SbStandby;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
# a standby that falls behind while the primary restarts finds its WAL
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'sharedbuf'\nwal_keep_size = '1GB'\n");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	SELECT rows FROM sharedbuf_create('b', 'SELECT id, 1 AS v FROM generate_series(1, 1000) id', key => 'id');
	SELECT rows FROM sharedbuf_create('p1', $$SELECT g AS id, 'a' || g AS s FROM generate_series(1, 5000) g$$, key => 'id');
});
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
# readers hold snapshots across the primary's updates
$standby->append_conf('postgresql.conf', "hot_standby_feedback = on\n");
$standby->start;
$standby->backup('b2');
my $cascade = PostgreSQL::Test::Cluster->new('cascade');
$cascade->init_from_backup($standby, 'b2', has_streaming => 1);
$cascade->start;

####
# Readers on the standby while the primary refreshes.
####
my $seen = $standby->basedir . '/seen.txt';
my $script = $standby->basedir . '/reader.sql';
append_to_file($script, qq{
SELECT 1 / (count(DISTINCT v) = 1 AND count(*) = 3)::int FROM b WHERE id = ANY ('{1,500,999}');
SELECT 1 / (count(*) = 1000 AND min(v) = max(v))::int FROM b;
SELECT 1 / (b1.v = b2.v)::int FROM b b1 JOIN b b2 ON b2.id = 1001 - b1.id WHERE b1.id = 2;
SELECT v AS seen, 1 / (v >= (SELECT generation FROM sharedbuf_catalog WHERE name = 'b'))::int AS newer
  FROM b WHERE id = 7 \\gset
\\if :seen < :maxseen
SELECT 1 / 0 AS went_back;
\\elif :seen > :maxseen
\\set maxseen :seen
\\shell echo :client_id :seen >> $seen
\\endif
});
my $seconds = 30;
my ($out, $err) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-j', '2', '-T', $seconds, '-D', 'maxseen=0',
	  '-f', $script, '-h', $standby->host, '-p', $standby->port, 'postgres' ],
	'>', \$out, '2>', \$err);
my $start = time();
my $builder = $primary->background_psql('postgres');
usleep(500_000);
for my $g (2 .. 16)
{
	$builder->query_safe(
		"SELECT rows FROM sharedbuf_refresh('b', 'SELECT id, $g AS v FROM generate_series(1, 1000) id')");
	usleep(400_000);
}
$builder->quit;
catch_up($primary, $standby);
my $elapsed = time() - $start;
note sprintf('refreshes replayed after %.1f s', $elapsed);
cmp_ok($elapsed, '<', $seconds - 1, 'the 15 refreshes were replayed while pgbench read');
$bench->finish;
my $status = $?;
note $out;
is($status, 0, 'pgbench exits with status 0') or diag("pgbench stderr:\n$err");
is($err, '', 'pgbench reports no error');
like($out, qr/number of transactions actually processed: [1-9]\d*/, 'the readers ran')
  or diag($out);
my @gens = map { (split ' ')[1] } split /\n/, slurp_file($seen);
my %distinct = map { $_ => 1 } @gens;
note 'generations seen: ' . join(',', sort { $a <=> $b } keys %distinct);
cmp_ok(scalar(keys %distinct), '>=', 8, 'the readers saw many generations come and go');
ok(exists $distinct{16}, 'the readers saw the last generation');
is($standby->safe_psql('postgres', q{SELECT min(v), max(v) FROM b}), '16|16',
	'the standby serves the last refresh');

# A refresh replayed while a statement is planned: the statement reads the
# generation its (execution) snapshot sees committed, not the one planning
# saw.  slow() sleeps once, while planning estimates "v > slow()", after
# planning has looked at the bundle.
$primary->safe_psql('postgres', q{
	CREATE FUNCTION slow() RETURNS int LANGUAGE plpgsql STABLE AS $$
	BEGIN
		IF current_setting('test.slept', true) IS NULL THEN
			PERFORM set_config('test.slept', 'yes', false);
			PERFORM pg_sleep(5);
		END IF;
		RETURN 0;
	END$$;
});
catch_up($primary, $standby);
my $planner = $standby->background_psql('postgres');
my $planner_pid = $planner->query_safe('SELECT pg_backend_pid()');
chomp $planner_pid;
$planner->query_until(qr/started/, q{
	\echo started
	SELECT v, (SELECT generation FROM sharedbuf_catalog WHERE name = 'b') FROM b WHERE id = 7 AND v > slow();
	\echo done
});
$standby->poll_query_until('postgres',
	"SELECT wait_event = 'PgSleep' FROM pg_stat_activity WHERE pid = $planner_pid")
  or die 'the statement did not reach planning';
$primary->safe_psql('postgres',
	"SELECT rows FROM sharedbuf_refresh('b', 'SELECT id, 17 AS v FROM generate_series(1, 1000) id')");
catch_up($primary, $standby);
is($standby->safe_psql('postgres', "SELECT wait_event FROM pg_stat_activity WHERE pid = $planner_pid"),
	'PgSleep', 'the refresh was replayed while the statement was planned');
is($planner->query_until(qr/done/, ''), "17|17\ndone\n",
	'a refresh replayed while a statement is planned: the statement reads what its snapshot sees');
$planner->quit;

####
# Promotion of the standby; the cascading standby follows it.
####
$primary->safe_psql('postgres', q{
	SELECT rows FROM sharedbuf_create('p2', 'SELECT g AS id, g * 2 AS d FROM generate_series(1, 300) g', key => 'id');
	SELECT rows FROM sharedbuf_refresh('p1', $$SELECT g AS id, 'r' || g AS s FROM generate_series(1, 5000) g$$);
});
my %probes = (
	b  => q{SELECT count(*), min(v), max(v) FROM b},
	p1 => q{SELECT count(*), min(s), max(s) FROM p1},
	p2 => q{SELECT count(*), sum(d) FROM p2},
);
my %want;
$want{$_} = $primary->safe_psql('postgres', $probes{$_}) for keys %probes;
is($want{p1}, '5000|r1|r999', 'the primary serves the refresh of p1');
catch_up($primary, $standby);

# a refresh of p2 is in flight at the switch: the standbys have its file,
# its commit never comes
my $offset = -s $primary->logfile;
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
$bg->query_until(qr/started/, q{
	\echo started
	SET sharedbuf.test_pause = 'pre_commit';
	SELECT rows FROM sharedbuf_refresh('p2', 'SELECT g AS id, 0 AS d FROM generate_series(1, 300) g');
});
$primary->wait_for_log(qr/sharedbuf: paused at pre_commit/, $offset);
my $tries = 0;
usleep(100_000) while (flight_files($standby) != 1 || flight_files($cascade) != 1) && $tries++ < 600;
is(flight_files($standby) . flight_files($cascade), '11',
	'both standbys have the file of the refresh in flight');
$primary->stop('immediate');
eval { $bg->quit };
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
is(flight_files($standby), 0, 'the end of recovery removed the file of the refresh in flight');
is($standby->safe_psql('postgres', q{SELECT string_agg(name, ',' ORDER BY name) FROM sharedbuf_catalog}),
	'b,p1,p2', 'the new primary has every bundle in its catalog');
for my $name (sort keys %probes)
{
	is($standby->safe_psql('postgres', $probes{$name}), $want{$name},
		"the new primary serves $name as the old one did");
	is($standby->safe_psql('postgres', "SELECT ok FROM sharedbuf_verify('$name')"), 't',
		"the new primary: verify of $name passes");
}

$standby->safe_psql('postgres', q{
	SELECT rows FROM sharedbuf_refresh('p1', $$SELECT g AS id, 'n' || g AS s FROM generate_series(1, 4000) g$$);
	SELECT rows FROM sharedbuf_create('p3', 'SELECT g AS id FROM generate_series(1, 77) g', key => 'id');
});
is($standby->safe_psql('postgres', $probes{p1}), '4000|n1|n999', 'the new primary refreshes');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM p3}), '77', 'the new primary creates');
catch_up($standby, $cascade);
for my $q ($probes{b}, $probes{p1}, $probes{p2}, q{SELECT count(*), sum(id) FROM p3},
	q{SELECT string_agg(name || ':' || generation || ':' || build_id, ',' ORDER BY name) FROM sharedbuf_catalog})
{
	is($cascade->safe_psql('postgres', $q), $standby->safe_psql('postgres', $q),
		"cascading standby after the promotion: $q");
}
is($cascade->safe_psql('postgres', "SELECT ok FROM sharedbuf_verify('$_')"), 't',
	"cascading standby: verify of $_ passes") for qw(b p1 p2 p3);
is(flight_files($cascade), 0, 'the cascading standby has no file of a build left');

####
# Point-in-time recovery to a restore point.
####
my $arch = PostgreSQL::Test::Cluster->new('arch');
$arch->init(has_archiving => 1, allows_streaming => 1);
$arch->append_conf('postgresql.conf', "shared_preload_libraries = 'sharedbuf'\n");
$arch->start;
$arch->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	SELECT rows FROM sharedbuf_create('t', 'SELECT id, 1 AS v FROM generate_series(1, 2000) id', key => 'id');
});
$arch->backup('base');
$arch->safe_psql('postgres', q{
	SELECT rows FROM sharedbuf_refresh('t', 'SELECT id, 2 AS v FROM generate_series(1, 2000) id');
	SELECT pg_create_restore_point('before');
	SELECT rows FROM sharedbuf_refresh('t', 'SELECT id, 3 AS v FROM generate_series(1, 2000) id');
	SELECT pg_create_restore_point('after');
});
# a restore point while a refresh has logged its file but not committed
$offset = -s $arch->logfile;
$bg = $arch->background_psql('postgres', on_error_stop => 0);
$bg->query_until(qr/started/, q{
	\echo started
	SET sharedbuf.test_pause = 'pre_commit';
	SELECT rows FROM sharedbuf_refresh('t', 'SELECT id, 4 AS v FROM generate_series(1, 2000) id');
});
$arch->wait_for_log(qr/sharedbuf: paused at pre_commit/, $offset);
$arch->safe_psql('postgres', q{SELECT pg_create_restore_point('during')});
my $release = $arch->data_dir . '/sharedbuf_test_release';
append_to_file($release, '');
$bg->query_until(qr/done/, "\\echo done\n");
$bg->quit;
unlink($release) or die "unlink $release: $!";
is($arch->safe_psql('postgres', q{SELECT min(v), max(v) FROM t}), '4|4',
	'the refresh after the last restore point committed');
my $walfile = $arch->safe_psql('postgres', q{SELECT pg_walfile_name(pg_switch_wal())});
$arch->poll_query_until('postgres', "SELECT '$walfile' <= last_archived_wal FROM pg_stat_archiver")
  or die 'the WAL was not archived';

for my $target ([ 'before', 2 ], [ 'after', 3 ], [ 'during', 3 ])
{
	my ($point, $gen) = @$target;
	my $node = PostgreSQL::Test::Cluster->new("pitr_$point");
	$node->init_from_backup($arch, 'base', has_restoring => 1, standby => 0);
	my $action = $point eq 'during' ? 'pause' : 'promote';
	$node->append_conf('postgresql.conf', qq{
archive_mode = off
recovery_target_name = '$point'
recovery_target_action = '$action'
});
	$node->start;
	if ($action eq 'pause')
	{
		$node->poll_query_until('postgres', q{SELECT pg_get_wal_replay_pause_state() = 'paused'})
		  or die "recovery to $point did not pause";
		is(flight_files($node), 1, "recovered to '$point': the file of the build in flight is there");
		$node->safe_psql('postgres', 'SELECT pg_promote()');
	}
	$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
	  or die "recovery to $point did not end";
	is(flight_files($node), 0, "recovered to '$point': no file of a build left");
	is($node->safe_psql('postgres', q{SELECT count(*), min(v), max(v) FROM t}), "2000|$gen|$gen",
		"recovered to '$point': the generation committed there is served");
	is($node->safe_psql('postgres', q{
		SELECT c.generation || ':' || i.generation FROM sharedbuf_catalog c, sharedbuf_info('t') i
		 WHERE c.name = 't'}), "$gen:$gen", "recovered to '$point': catalog and file say generation $gen");
	is($node->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('t')}), 't',
		"recovered to '$point': verify passes");
	$node->stop;
}

####
# A standby without the library stops at the first sharedbuf record.
####
$arch->backup('nolib');
my $nolib = PostgreSQL::Test::Cluster->new('nolib');
$nolib->init_from_backup($arch, 'nolib', has_streaming => 1);
$nolib->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$nolib->start;
catch_up($arch, $nolib);
is($nolib->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_wal_receiver}), '1',
	'the standby without the library streams');
$offset = -s $nolib->logfile;
$arch->safe_psql('postgres',
	q{SELECT rows FROM sharedbuf_refresh('t', 'SELECT id, 5 AS v FROM generate_series(1, 2000) id')});
$nolib->wait_for_log(qr/resource manager with ID 128 not registered/, $offset);
$tries = 0;
usleep(100_000) while -e $nolib->data_dir . '/postmaster.pid' && $tries++ < 600;
ok(!-e $nolib->data_dir . '/postmaster.pid', 'the standby without the library shut down');
$nolib->_update_pid(0);
like(slurp_file($nolib->logfile, $offset),
	qr/HINT:  Include the extension module that implements this resource manager in "?shared_preload_libraries"?/,
	'its log says how to fix it');

####
# A primary without the library: its standby refuses the outdated file.
####
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init(allows_streaming => 1);
$plain->start;
my ($ret, $stdout, $stderr);
$plain->safe_psql('postgres', 'CREATE EXTENSION sharedbuf');
$plain->psql('postgres',
	q{SELECT rows FROM sharedbuf_create('w', 'SELECT id, 1 AS v FROM generate_series(1, 100) id', key => 'id')},
	stdout => \$stdout, stderr => \$stderr);
is($stdout, '100', 'a primary without the library builds');
like($stderr, qr/WARNING:  the build of bundle "w" will not reach standbys/,
	'a primary without the library warns that the build will not reach standbys');
$plain->backup('p');
my $plain_standby = PostgreSQL::Test::Cluster->new('plain_standby');
$plain_standby->init_from_backup($plain, 'p', has_streaming => 1);
$plain_standby->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'sharedbuf'
sharedbuf.stale_timeout = '200ms'
});
$plain_standby->start;
catch_up($plain, $plain_standby);
is($plain_standby->safe_psql('postgres', q{SELECT count(*), min(v), max(v) FROM w}), '100|1|1',
	'its standby serves the file copied by the base backup');
$plain->psql('postgres',
	q{SELECT rows FROM sharedbuf_refresh('w', 'SELECT id, 2 AS v FROM generate_series(1, 100) id')},
	stderr => \$stderr);
like($stderr, qr/will not reach standbys/, 'the refresh warns too');
is($plain->safe_psql('postgres', q{SELECT min(v), max(v) FROM w}), '2|2', 'the primary serves the refresh');
catch_up($plain, $plain_standby);
($ret, $stdout, $stderr) = $plain_standby->psql('postgres', q{SELECT count(*), min(v), max(v) FROM w});
isnt($ret, 0, 'the standby refuses to read the outdated bundle');
is($stdout, '', 'the standby returns no old rows');
like($stderr, qr/bundle "w" is not up to date on this server/, 'the standby says it is not up to date');

done_testing();
