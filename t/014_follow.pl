# Following bundles on a primary and a streaming standby, under
# concurrent random DML: pgbench clients update values, keys and the
# WHERE clause's columns of the followed table, delete, insert with
# ON CONFLICT, and roll back whole transactions and savepoints, while the
# bundle is folded by hand and by the fold worker (a low
# sharedbuf.follow_fold_threshold).  After every round the bundle equals
# its query over the table, by a scan, "= ANY" lookups and a nested-loop
# join, on the primary and on the standby once it has caught up.  DDL
# that drops a followed column stops that bundle following, with a
# warning, and leaves it readable on both servers.  A standby promoted
# with a non-empty delta serves it, follows further DML and folds.
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

my $seconds = 5;			# of each pgbench round
my $threshold = 300;		# sharedbuf.follow_fold_threshold of the worker's round
my $seed = $ENV{SHAREDBUF_FOLLOW_SEED} // (time() * 1000 % 1_000_000_007);
note "pgbench random seed: $seed (set SHAREDBUF_FOLLOW_SEED to repeat)";

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'sharedbuf'\nwal_keep_size = '1GB'\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION sharedbuf');
# the standby starts before the table and the bundle exist: their
# creation reaches it through WAL
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;

# The bundle's query: an expression column, and a WHERE clause on a flag
# and on a column the DML increments, so rows move in and out of it.
my $query = q{SELECT id, upper(val) AS uval, n FROM src WHERE active AND n % 7 <> 3};
$primary->safe_psql('postgres', qq{
	CREATE TABLE src (id int PRIMARY KEY, val text NOT NULL, n int NOT NULL, active bool NOT NULL, note text);
	INSERT INTO src SELECT g, md5(g::text), g % 50, g % 4 <> 0, NULL FROM generate_series(1, 4000) g;
	-- keys moved by UPDATE come from here: never in use, so never a unique violation
	CREATE SEQUENCE src_move START 1000000;
	SELECT rows FROM sharedbuf_create('fb', '$query', 'id', follow => true);
});
is($primary->safe_psql('postgres', q{SELECT follows FROM sharedbuf_delta_info('fb')}), 'src',
	'the bundle follows the table');

my $dir = PostgreSQL::Test::Utils::tempdir();
my $script = "$dir/dml.sql";
# Random single-row DML (and one kind of statement of many rows, of the
# client's own rows, so that no two clients wait for each other in
# opposite orders): nothing here can fail, and PostgreSQL 15's pgbench
# ends a client at its first error.
open my $fh, '>', $script or die;
print $fh q{
\set x random(1, 5000)
\set r random(1, 1000000)
\set op random(1, 100)
\if :op <= 22
UPDATE src SET val = 'u' || :r, n = n + 1 WHERE id = :x;
\elif :op <= 36
UPDATE src SET active = NOT active WHERE id = :x;
\elif :op <= 44
UPDATE src SET id = nextval('src_move') WHERE id = :x;
\elif :op <= 54
DELETE FROM src WHERE id = :x;
\elif :op <= 68
INSERT INTO src VALUES (:x, 'i' || :r, :r % 50, :r % 3 <> 0) ON CONFLICT DO NOTHING;
\elif :op <= 76
INSERT INTO src VALUES (:x, 'p' || :r, :r % 50, true) ON CONFLICT (id) DO UPDATE SET val = excluded.val, n = src.n + 1;
\elif :op <= 82
UPDATE src SET n = n + 1, val = val || '+' WHERE id BETWEEN :x AND :x + 40 AND id % 4 = :client_id;
\elif :op <= 91
BEGIN;
UPDATE src SET val = 'rolled back', active = true WHERE id = :x;
DELETE FROM src WHERE id = :x;
INSERT INTO src VALUES (:x, 'rolled back', 0, true) ON CONFLICT DO NOTHING;
ROLLBACK;
\else
BEGIN;
UPDATE src SET val = 'kept ' || :r WHERE id = :x;
SAVEPOINT s;
DELETE FROM src WHERE id = :x;
UPDATE src SET id = nextval('src_move') WHERE id = :x;
ROLLBACK TO SAVEPOINT s;
UPDATE src SET n = n + 2 WHERE id = :x;
COMMIT;
\endif
SELECT pg_stat_force_next_flush();
};
close $fh;

# Run a round of pgbench against a node: 4 clients, no failed transaction.
sub dml_round
{
	my ($node, $what, %env) = @_;
	local $ENV{PGOPTIONS} = $env{PGOPTIONS} if $env{PGOPTIONS};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', $seconds, "--random-seed=$seed", '-f', $script,
		  '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	$seed++;
	my ($tx) = $out =~ /number of transactions actually processed: (\d+)/;
	my ($failed) = $out =~ /number of failed transactions: (\d+)/;
	note "$what: " . ($tx // 'no') . ' transactions';
	ok($ok && defined $tx && $tx > 100 && defined $failed && $failed == 0,
		"$what: pgbench ran without a failed transaction")
	  or diag "stdout:\n$out\nstderr:\n$err";
}

# A sample of keys: rows of the table (moved ones too) and keys that may
# be absent, some twice.
my $sample = q{SELECT array_agg(id)::text FROM (
	(SELECT id FROM src ORDER BY random() LIMIT 150)
	UNION ALL (SELECT id FROM src WHERE id >= 1000000 ORDER BY random() LIMIT 20)
	UNION ALL (SELECT g FROM generate_series(1, 5100, 37) g)) s};

# Rows in one of two queries and not in the other, counting duplicates.
sub differences
{
	my ($a, $b) = @_;
	return qq{SELECT count(*) FROM (($a EXCEPT ALL $b) UNION ALL ($b EXCEPT ALL $a)) d};
}

# The bundle equals its query over the table on a node: a scan, "= ANY"
# lookups and a nested-loop join against a sample of keys.
sub check_node
{
	my ($node, $what) = @_;
	my $name = $node->name;
	is($node->safe_psql('postgres', differences('SELECT * FROM fb', "($query)")), '0',
		"$name, $what: a scan of the bundle equals the query");
	my $keys = $node->safe_psql('postgres', $sample);
	my $any = differences("SELECT * FROM fb WHERE id = ANY ('$keys'::int[])",
		"SELECT * FROM ($query) q WHERE id = ANY ('$keys'::int[])");
	my $hits = qq{SELECT count(*) FROM fb WHERE id = ANY ('$keys'::int[])};
	my ($d, $h) = split /\n/, $node->safe_psql('postgres', "$any; $hits");
	my $plan = $node->safe_psql('postgres',
		"EXPLAIN (COSTS OFF) SELECT * FROM fb WHERE id = ANY ('$keys'::int[])");
	ok($d eq '0' && $h > 0 && $plan =~ /Lookup Keys: id/,
		"$name, $what: = ANY lookups equal the query")
	  or diag "$d differences, $h hits; plan:\n$plan";
	my $join = differences(
		"SELECT f.* FROM unnest('$keys'::int[]) k(id) JOIN fb f ON f.id = k.id",
		"SELECT q.* FROM unnest('$keys'::int[]) k(id) JOIN ($query) q ON q.id = k.id");
	my $nl = 'SET enable_hashjoin = off; SET enable_mergejoin = off;';
	$plan = $node->safe_psql('postgres',
		"$nl EXPLAIN (COSTS OFF) SELECT f.* FROM unnest('$keys'::int[]) k(id) JOIN fb f ON f.id = k.id");
	my $diff = $node->safe_psql('postgres', "$nl $join");
	ok($diff eq '0' && $plan =~ /Nested Loop.*Foreign Scan on fb f.*Lookup Keys: id/s,
		"$name, $what: a nested-loop join, looking keys up, equals the query")
	  or diag "$diff differences; plan:\n$plan";
}

sub delta_info
{
	my ($node, $cols, $table) = @_;
	$table //= 'fb';
	return $node->safe_psql('postgres', "SELECT $cols FROM sharedbuf_delta_info('$table')");
}

check_node($primary, 'created');
catch_up($primary, $standby);
check_node($standby, 'created');

####
# Round 1: DML, then a fold by hand.
####
dml_round($primary, 'round 1');
check_node($primary, 'round 1');
cmp_ok(delta_info($primary, 'keys'), '>', 0, 'round 1 left keys in the delta');
catch_up($primary, $standby);
check_node($standby, 'round 1');
$primary->safe_psql('postgres', q{SELECT rows FROM sharedbuf_fold('fb')});
is(delta_info($primary, 'keys, rows'), '0|0', 'the fold emptied the delta');
check_node($primary, 'fold after round 1');
catch_up($primary, $standby);
check_node($standby, 'fold after round 1');

####
# Round 2: the fold worker folds during the load.
####
my $before = delta_info($primary, 'folded_through');
dml_round($primary, 'round 2 (fold worker)',
	PGOPTIONS => "-c sharedbuf.follow_fold_threshold=$threshold");
my $during = delta_info($primary, 'folded_through');
note "delta at the end of round 2 (keys|rows|folded_through): " . delta_info($primary, 'keys, rows, folded_through');
cmp_ok($during, '>', $before, 'the worker folded the delta during the load');
# Wait for the worker to bring the delta under the threshold: it checks
# again each second after a fold until the delta stays under it.  Should
# it not, a later write in a new session asks again (counted below).
my ($deadline, $nudges) = (time() + 60, 0);
my $start = time();
while (delta_info($primary, 'keys + rows') >= $threshold && time() < $deadline)
{
	if (time() > $start + 5)
	{
		$primary->safe_psql('postgres', qq{SET sharedbuf.follow_fold_threshold = $threshold;
			UPDATE src SET n = n WHERE id = (SELECT min(id) FROM src)});
		$nudges++;
	}
	usleep(200_000);
}
note "delta after round 2: " . delta_info($primary, 'keys, rows, folded_through') . ", $nudges later writes";
cmp_ok(delta_info($primary, 'keys + rows'), '<', $threshold, 'the worker folded the delta under the threshold');
cmp_ok(delta_info($primary, 'folded_through'), '>=', $during, 'folded_through never goes back');
check_node($primary, 'round 2');
catch_up($primary, $standby);
check_node($standby, 'round 2');
$primary->safe_psql('postgres', q{SELECT rows FROM sharedbuf_fold('fb')});
check_node($primary, 'fold after round 2');

####
# COPY, and a TRUNCATE rolled back (it rebuilds the bundle, empty, in its
# transaction); then round 3.
####
$primary->safe_psql('postgres', "COPY src (id, val, n, active) FROM STDIN;\n"
	  . join('', map { "$_\tcopied $_\t" . ($_ % 50) . "\tt\n" } 6001 .. 6020) . "\\.\n");
# n is 1 to 20: the rows with n 3, 10 and 17 are not in the query
is($primary->safe_psql('postgres', q{SELECT count(*) FROM fb WHERE id BETWEEN 6001 AND 6020}) . '|'
	  . $primary->safe_psql('postgres', differences('SELECT * FROM fb WHERE id BETWEEN 6001 AND 6020',
		"SELECT * FROM ($query) q WHERE id BETWEEN 6001 AND 6020")),
	'17|0', 'COPY reaches the bundle');
is($primary->safe_psql('postgres', q{BEGIN; TRUNCATE src; SELECT count(*) FROM fb; ROLLBACK;}), '0',
	'TRUNCATE empties the bundle in its transaction');
check_node($primary, 'TRUNCATE rolled back');
dml_round($primary, 'round 3');
check_node($primary, 'round 3');
catch_up($primary, $standby);
check_node($standby, 'round 3');

####
# DDL: dropping a column that a second following bundle of the table
# reads stops that bundle following, with a warning; its rows (with a
# non-empty delta) stay readable; the first bundle keeps following.
####
$primary->safe_psql('postgres', q{
	SELECT rows FROM sharedbuf_create('fb2', 'SELECT id, note FROM src WHERE note IS NOT NULL', 'id', follow => true);
	UPDATE src SET note = 'note ' || id WHERE id % 10 = 0;
	CREATE TABLE fb2_before AS SELECT * FROM fb2;
});
cmp_ok(delta_info($primary, 'keys', 'fb2'), '>', 0, 'the second bundle has a delta');
is($primary->safe_psql('postgres',
		differences('SELECT * FROM fb2', '(SELECT id, note FROM src WHERE note IS NOT NULL)')),
	'0', 'the second bundle equals its query');
my ($ret, $out, $err) = $primary->psql('postgres', 'ALTER TABLE src DROP COLUMN note');
is($ret, 0, 'the column is dropped');
like($err, qr/WARNING:\s+foreign table "fb2" stops following table "src"/, 'with a warning that fb2 stops following');
unlike($err, qr/"fb" stops following/, 'fb keeps following');
is(delta_info($primary, 'follows IS NULL', 'fb2') . delta_info($primary, 'follows'), 'tsrc',
	'sharedbuf_delta_info says which bundle follows');
$primary->safe_psql('postgres', q{UPDATE src SET val = 'after drop' WHERE id % 10 = 0});
my $fb2_same = differences('SELECT * FROM fb2', 'SELECT * FROM fb2_before');
is($primary->safe_psql('postgres', $fb2_same), '0', 'the stopped bundle keeps its rows');
check_node($primary, 'a column dropped');
catch_up($primary, $standby);
is($standby->safe_psql('postgres', $fb2_same), '0', 'standby: the stopped bundle keeps its rows');
check_node($standby, 'a column dropped');

####
# Promotion with a non-empty delta: the new primary serves it, its
# triggers follow DML, and it folds.
####
cmp_ok(delta_info($standby, 'keys'), '>', 0, 'the standby has a non-empty delta');
$primary->stop('immediate');
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
check_node($standby, 'promoted');
my $id = $standby->safe_psql('postgres', qq{SELECT min(id) FROM ($query) q});
$standby->safe_psql('postgres', qq{UPDATE src SET val = 'promoted' WHERE id = $id});
is($standby->safe_psql('postgres', qq{SELECT uval FROM fb WHERE id = $id}), 'PROMOTED',
	'the promoted server carries an update into the bundle');
dml_round($standby, 'promoted');
check_node($standby, 'DML after promotion');
$standby->safe_psql('postgres', q{SELECT rows FROM sharedbuf_fold('fb')});
is(delta_info($standby, 'keys, rows'), '0|0', 'a fold after promotion empties the delta');
check_node($standby, 'a fold after promotion');
is($standby->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('fb')}), 't', 'the bundle verifies');

done_testing();
