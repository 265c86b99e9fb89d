# Refresh under load: several pgbench clients do lookups, joins and scans
# while another refreshes the same bundle in a loop.  Every statement must
# see exactly one generation (each generation's rows carry its number, and
# a statement that sees two fails an assertion), no statement may fail, and
# at the end no backend holds a mapping of a replaced generation.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seconds = $ENV{SHAREDBUF_LOAD_SECONDS} // 20;

my $node = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\njit = off\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	CREATE SEQUENCE ld_gen;
	CREATE FUNCTION ld_assert(ok bool, what text) RETURNS int LANGUAGE plpgsql AS $$
	BEGIN
		IF ok IS NOT TRUE THEN
			RAISE EXCEPTION 'check failed: %', what;
		END IF;
		RETURN 1;
	END $$;
	CREATE TABLE ld_probe AS SELECT (g * 7919) % 5000 + 1 AS k FROM generate_series(1, 300) g;
	ANALYZE ld_probe;
	SELECT rows FROM sharedbuf_create('ld_t',
		format('SELECT g AS id, %s AS gen, md5(g::text) AS v FROM generate_series(1, 5000) g', nextval('ld_gen')),
		key => 'id');
});

my $dir = PostgreSQL::Test::Utils::tempdir();

# Write a pgbench script.
sub script
{
	my ($name, $body) = @_;
	open my $fh, '>', "$dir/$name" or die;
	print $fh $body;
	close $fh;
	return "$dir/$name";
}

my $lookup = script('lookup.sql', q{
\set k random(1, 5000)
SELECT ld_assert(count(*) = 1, 'one row per key') FROM ld_t WHERE id = :k;
});
my $join = script('join.sql', q{
SELECT ld_assert(count(DISTINCT t.gen) = 1 AND count(*) = 300, 'one generation per join')
  FROM ld_probe p JOIN ld_t t ON t.id = p.k;
});
my $any = script('any.sql', q{
\set k random(1, 4900)
SELECT ld_assert(count(DISTINCT gen) = 1 AND count(*) = 100, 'one generation per array')
  FROM ld_t WHERE id = ANY (ARRAY(SELECT generate_series(:k, :k + 99)));
});
my $scan = script('scan.sql', q{
SELECT ld_assert(count(DISTINCT gen) = 1 AND count(*) = 5000, 'one generation per scan') FROM ld_t;
});
my $refresh = script('refresh.sql', q{
SELECT rows FROM sharedbuf_refresh('ld_t',
  format('SELECT g AS id, %s AS gen, md5(g::text) AS v FROM generate_series(1, 5000) g', nextval('ld_gen')));
});

my @conn = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($rout, $rerr, $fout, $ferr) = ('', '', '', '');
my $readers = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', $seconds, '-M', 'prepared',
	  '-f', "$lookup\@10", '-f', "$join\@2", '-f', "$any\@2", '-f', "$scan\@1", @conn ],
	'>', \$rout, '2>', \$rerr);
my $refresher = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-T', $seconds, '-f', $refresh, @conn ],
	'>', \$fout, '2>', \$ferr);

# a long-lived session reading while the bundle is replaced many times
my $session = $node->background_psql('postgres');
my $pid = $session->query_safe('SELECT pg_backend_pid()');
chomp $pid;
my $end = time() + $seconds;
my $reads = 0;
while (time() < $end)
{
	$session->query_safe('SELECT count(*) FROM ld_t WHERE id = ANY (ARRAY[1, 2, 3])');
	$reads++;
	sleep 1;
}

$readers->finish;
$refresher->finish;
my ($reader_tx) = $rout =~ /number of transactions actually processed: (\d+)/;
my ($refresh_tx) = $fout =~ /number of transactions actually processed: (\d+)/;
note "reader transactions: " . ($reader_tx // 'none') . ", refreshes: " . ($refresh_tx // 'none') . ", session reads: $reads";
is($readers->result(0), 0, 'readers: pgbench succeeded') or diag $rerr;
is($refresher->result(0), 0, 'refresher: pgbench succeeded') or diag $ferr;
unlike($rerr, qr/ERROR|check failed/, 'no reader statement failed or saw two generations');
unlike($ferr, qr/ERROR/, 'no refresh failed');
cmp_ok($refresh_tx // 0, '>', 5, 'the bundle was refreshed several times');
cmp_ok($reader_tx // 0, '>', 100, 'readers ran many statements');

# the generation now served is the last one built
is($node->safe_psql('postgres', 'SELECT min(gen) = max(gen) AND max(gen) = (SELECT last_value FROM ld_gen) FROM ld_t'),
	't', 'the last refresh is served');

# the long-lived session maps only the current generation
$session->query_safe('SELECT count(*) FROM ld_t');
is($session->query_safe('SELECT count(*) FROM sharedbuf_mappings() WHERE NOT current OR pins > 0'),
	'0', 'no stale or pinned mapping in a long-lived backend');
open my $maps, '<', "/proc/$pid/maps" or die;
my %files;
while (<$maps>) { $files{$1} = 1 if m{\s(/\S+\.sb(?: \(deleted\))?)$}; }
close $maps;
is(scalar keys %files, 1, 'it maps one bundle file');
$session->quit;

unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();
