# Soak: a long-lived backend runs mixed lookups, joins, arrays and scans
# while pgbench clients do the same and another client refreshes the
# bundle in a loop; its private memory must stay flat from start to end.
# Runs SHAREDBUF_SOAK_SECONDS (60 by default; bench/soak.sh runs it for
# ten minutes).
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seconds = $ENV{SHAREDBUF_SOAK_SECONDS} // 60;

my $node = PostgreSQL::Test::Cluster->new('soak');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	CREATE SEQUENCE sk_gen;
	CREATE TABLE sk_probe AS SELECT (g * 7919) % 50000 + 1 AS k FROM generate_series(1, 2000) g;
	ANALYZE sk_probe;
	SELECT rows FROM sharedbuf_create('sk_t',
		format('SELECT g AS id, %s AS gen, repeat(md5(g::text), 1 + g %% 4) AS v FROM generate_series(1, 50000) g',
			   nextval('sk_gen')), key => 'id');
});

my $dir = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$dir/refresh.sql" or die;
print $fh q{SELECT rows FROM sharedbuf_refresh('sk_t',
  format('SELECT g AS id, %s AS gen, repeat(md5(g::text), 1 + g %% 4) AS v FROM generate_series(1, 50000) g', nextval('sk_gen')));
SELECT pg_sleep(0.2);
};
close $fh;
open $fh, '>', "$dir/read.sql" or die;
print $fh q{\set k random(1, 50000)
SELECT v FROM sk_t WHERE id = :k;
SELECT count(t.v) FROM sk_probe p JOIN sk_t t ON t.id = p.k;
};
close $fh;

my @conn = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($o1, $e1, $o2, $e2) = ('', '', '', '');
my $readers = IPC::Run::start([ 'pgbench', '-n', '-c', '2', '-T', $seconds, '-f', "$dir/read.sql", @conn ],
	'>', \$o1, '2>', \$e1);
my $refresher = IPC::Run::start([ 'pgbench', '-n', '-c', '1', '-T', $seconds, '-f', "$dir/refresh.sql", @conn ],
	'>', \$o2, '2>', \$e2);

my $session = $node->background_psql('postgres');
# the session lives as long as the soak: time out each query, not the session
$session->set_query_timer_restart();
my $pid = $session->query_safe('SELECT pg_backend_pid()');
chomp $pid;
my @work = (
	'SELECT v FROM sk_t WHERE id = 17',
	'SELECT count(t.v) FROM sk_probe p JOIN sk_t t ON t.id = p.k',
	'SELECT count(*) FROM sk_t WHERE id = ANY (ARRAY(SELECT generate_series(100, 600)))',
	'SELECT count(*), sum(length(v)) FROM sk_t',
	'SELECT count(DISTINCT gen) FROM sk_t',
);

# Anonymous memory of the session's backend, in kB.
sub anon_kb
{
	open my $f, '<', "/proc/$pid/smaps_rollup" or die;
	while (<$f>) { return $1 if /^Anonymous:\s+(\d+) kB/; }
	die;
}

# warm up through a few refreshes: caches, plans, two generations at once
my $warm = time() + 5;
while (time() < $warm) { $session->query_safe($_) for @work; }
my $start = anon_kb();
my ($queries, $errors, $max) = (0, 0, $start);
my $end = time() + $seconds;
while (time() < $end)
{
	for my $q (@work)
	{
		my ($out, $ret) = $session->query($q);
		$queries++;
		$errors++ if $ret;
	}
	my $now = anon_kb();
	$max = $now if $now > $max;
}
my $final = anon_kb();
$readers->finish;
$refresher->finish;
my ($rtx) = $o1 =~ /number of transactions actually processed: (\d+)/;
my ($ftx) = $o2 =~ /number of transactions actually processed: (\d+)/;
note "soak of $seconds s: $queries session queries, " . ($rtx // 0) . " reader transactions, "
  . ($ftx // 0) . " refreshes; anonymous memory $start kB at start, $final kB at end, $max kB at most";

is($errors, 0, 'no session query failed');
is($readers->result(0), 0, 'no reader failed') or diag $e1;
is($refresher->result(0), 0, 'no refresh failed') or diag $e2;
cmp_ok($ftx // 0, '>', 0, 'the bundle was refreshed during the soak') or diag $o2;
cmp_ok($rtx // 0, '>', 0, 'the readers ran during the soak') or diag $o1;
cmp_ok($final - $start, '<', 1024, 'memory stayed flat (under 1 MB of growth)');
is($session->query_safe('SELECT count(*) FROM sharedbuf_mappings() WHERE NOT current OR pins > 0'),
	'0', 'no replaced generation is still mapped');
$session->quit;
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
