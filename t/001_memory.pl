# A backend doing a million lookups, and full scans, in one session does
# not grow: its private (anonymous) memory is measured from
# /proc/PID/smaps_rollup after a warm-up and again at the end.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init;
$node->append_conf('postgresql.conf', 'jit = off');
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	SELECT rows FROM sharedbuf_create('mem_t',
		'SELECT g::int8 AS id, md5(g::text) AS v, repeat(''x'', g % 300) AS pad FROM generate_series(1, 200000) g',
		key => 'id');
	CREATE TABLE mem_probe AS SELECT (g::int8 * 7919) % 200000 + 1 AS k FROM generate_series(1, 1000000) g;
	ANALYZE mem_probe;
	CREATE FUNCTION mem_loop(n int) RETURNS int8 LANGUAGE plpgsql AS $$
	DECLARE total int8 := 0; v text;
	BEGIN
		FOR i IN 1..n LOOP
			SELECT m.v INTO v FROM mem_t m WHERE id = (i::int8 * 7919) % 200000 + 1;
			total := total + length(v);
		END LOOP;
		RETURN total;
	END $$;
});

my $session = $node->background_psql('postgres');
my $pid = $session->query_safe('SELECT pg_backend_pid()');
chomp $pid;

# Anonymous memory of the backend, in kB.
sub anon_kb
{
	open my $fh, '<', "/proc/$pid/smaps_rollup" or die "smaps_rollup: $!";
	while (<$fh>)
	{
		return $1 if /^Anonymous:\s+(\d+) kB/;
	}
	die "no Anonymous line";
}

# Number of bundle files this backend has mapped.
sub mapped_bundles
{
	open my $fh, '<', "/proc/$pid/maps" or die "maps: $!";
	my %files;
	while (<$fh>)
	{
		$files{$1} = 1 if m{\s(/\S+\.sb)$};
	}
	return scalar keys %files;
}

my $join = q{
	SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;
	SELECT count(m.v) FROM mem_probe p JOIN mem_t m ON m.id = p.k;
	RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_memoize;
};
my $arrays = q{
	DO $$ DECLARE n int8;
	BEGIN
		FOR i IN 0..%d LOOP
			SELECT count(*) INTO n FROM mem_t WHERE id = ANY (ARRAY(SELECT generate_series(i * 200 + 1, i * 200 + 1000)::int8));
		END LOOP;
	END $$;
};
my $scan = 'SELECT count(*), sum(length(pad)) FROM mem_t';

# warm up every kind of work once: caches, plans, the mapping
$session->query_safe($join);
$session->query_safe('SELECT mem_loop(20000)');
$session->query_safe(sprintf($arrays, 9));
$session->query_safe($scan);
my $before = anon_kb();

# a million lookups through a nested loop, a million through PL/pgSQL,
# a thousand = ANY arrays of a thousand keys, and full scans
is($session->query_safe($join), '1000000', 'a nested loop of a million lookups');
note 'after the join: ' . anon_kb() . ' kB';
is($session->query_safe('SELECT mem_loop(1000000) > 0'), 't', 'a million PL/pgSQL lookups');
note 'after PL/pgSQL: ' . anon_kb() . ' kB';
$session->query_safe(sprintf($arrays, 999));
note 'after the arrays: ' . anon_kb() . ' kB';
$session->query_safe($scan) for 1 .. 5;
my $after = anon_kb();

my $growth = $after - $before;
note "anonymous memory: $before kB before, $after kB after, growth $growth kB";
cmp_ok($growth, '<', 1024, 'private memory grew by less than 1 MB');
is(mapped_bundles(), 1, 'the backend maps one bundle file');

$session->quit;
$node->stop;
done_testing();
