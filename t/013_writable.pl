# Writable bundles on a primary and a streaming standby: the delta and its
# folds reach the standby, which answers every query as the primary does;
# a primary killed during a fold, at each pause point, loses no write; a
# standby promoted with a non-empty delta serves it, takes writes and folds.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use SbStandby;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
# a standby that falls behind while the primary restarts finds its WAL
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'sharedbuf'\nwal_keep_size = '1GB'\n");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	CREATE TABLE src AS SELECT g AS id, 'v' || g AS v, 0 AS n FROM generate_series(1, 20000) g;
	SELECT rows FROM sharedbuf_create('wt', 'SELECT * FROM src', key => 'id', writable => true);
	CREATE TABLE expect (id int PRIMARY KEY, v text, n int);
	INSERT INTO expect SELECT * FROM src;
});
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;

# Apply the same writes to the bundle and to the heap table "expect".
sub write_both
{
	my ($node, $sql) = @_;
	(my $heap = $sql) =~ s/\bwt\b/expect/g;
	$node->safe_psql('postgres', "BEGIN; $sql; $heap; COMMIT;");
}

my $differs = q{SELECT count(*) FROM
	((SELECT * FROM wt EXCEPT ALL SELECT * FROM expect)
	 UNION ALL (SELECT * FROM expect EXCEPT ALL SELECT * FROM wt)) d};
my $lookups = q{SELECT string_agg(id || ':' || v || ':' || n, ',' ORDER BY id)
	FROM wt WHERE id IN (1, 2, 3, 500, 20001, 20002)};

# The bundle equals "expect" on every node, by a scan and by lookups.
sub check_everywhere
{
	my ($what, @nodes) = @_;
	my $want = $nodes[0]->safe_psql('postgres', $lookups);
	for my $node (@nodes)
	{
		my $name = $node->name;
		is($node->safe_psql('postgres', $differs), '0', "$name, $what: the bundle equals the heap table");
		is($node->safe_psql('postgres', $lookups), $want, "$name, $what: lookups agree");
	}
}

####
# 1. Writes and a fold reach the standby.
####
write_both($primary, q{UPDATE wt SET v = 'changed', n = n + 1 WHERE id IN (1, 2)});
write_both($primary, q{INSERT INTO wt VALUES (20001, 'new', 0)});
write_both($primary, q{DELETE FROM wt WHERE id = 3});
write_both($primary, q{UPDATE wt SET id = 20002 WHERE id = 500});
catch_up($primary, $standby);
check_everywhere('writes', $primary, $standby);
is($standby->safe_psql('postgres', q{SELECT keys FROM sharedbuf_delta_info('wt')}), '6',
	'the standby reads the delta');
$primary->safe_psql('postgres', q{SELECT rows FROM sharedbuf_fold('wt')});
catch_up($primary, $standby);
check_everywhere('a fold', $primary, $standby);
is($standby->safe_psql('postgres', q{SELECT keys, folded_through FROM sharedbuf_delta_info('wt')}),
	'0|1', 'the standby serves the folded bundle and an empty delta');
my ($ret, $out, $err) = $standby->psql('postgres', q{UPDATE wt SET v = 'x' WHERE id = 7});
like($err, qr/read-only transaction/, 'a standby refuses writes');

####
# 2. The primary is killed during a fold, at each pause point; writes
#    before it and writes that commit while it pauses survive.
####
my @points = ('after_finish', 'pre_commit', 'before_rename', 'after_rename');
my $i = 0;
for my $point (@points)
{
	$i++;
	write_both($primary, qq{UPDATE wt SET n = n + 1, v = 'before $point' WHERE id = $i});
	my $offset = -s $primary->logfile;
	my $bg = $primary->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, qq{
		\\echo started
		SET sharedbuf.test_pause = '$point';
		SELECT rows FROM sharedbuf_fold('wt');
	});
	$primary->wait_for_log(qr/sharedbuf: paused at $point/, $offset);
	# a writer of the next generation commits while the fold waits
	write_both($primary, qq{UPDATE wt SET n = n + 1, v = 'during $point' WHERE id = 10 + $i});
	crash($primary);
	eval { $bg->quit };
	$primary->start;
	catch_up($primary, $standby);
	check_everywhere("primary killed at $point during a fold", $primary, $standby);
	is($primary->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('wt')}), 't',
		"killed at $point: the bundle verifies");
}

####
# 3. Promotion with a non-empty delta.
####
write_both($primary, q{UPDATE wt SET v = 'last', n = 100 WHERE id BETWEEN 100 AND 109});
write_both($primary, q{INSERT INTO wt SELECT g, 'late', 0 FROM generate_series(30001, 30050) g});
catch_up($primary, $standby);
$primary->stop('immediate');
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()');
cmp_ok($standby->safe_psql('postgres', q{SELECT keys FROM sharedbuf_delta_info('wt')}), '>=', 60,
	'the promoted standby has the delta');
check_everywhere('promotion', $standby);
write_both($standby, q{UPDATE wt SET v = 'promoted' WHERE id BETWEEN 105 AND 120});
check_everywhere('writes after promotion', $standby);
$standby->safe_psql('postgres', q{SELECT rows FROM sharedbuf_fold('wt')});
check_everywhere('a fold after promotion', $standby);
is($standby->safe_psql('postgres', q{SELECT keys FROM sharedbuf_delta_info('wt')}), '0',
	'the fold emptied the delta');

done_testing();
