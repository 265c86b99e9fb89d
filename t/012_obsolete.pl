# The update from 0.2.0 rebuilds the bundles of a format this version no
# longer reads (here: files relabelled as format 1.0) from the stored query
# of a table that reads them; one without a stored query is left alone and
# still asks for a rebuild.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('obsolete');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'sharedbuf'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf VERSION '0.2.0';
	SELECT rows FROM sharedbuf_create('ob_q', 'SELECT g AS id, g * 2 AS v FROM generate_series(1, 500) g', key => 'id');
	SELECT rows FROM sharedbuf_create('ob_noq', 'SELECT g AS id FROM generate_series(1, 10) g', key => 'id');
	ALTER FOREIGN TABLE ob_noq OPTIONS (DROP query);
});
my $dir = $node->data_dir . '/sharedbuf/'
  . $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'postgres'});

# Rewrite a bundle file's major version as 1, as 0.1.0 wrote.
sub make_obsolete
{
	my ($file) = @_;
	open my $fh, '+<:raw', $file or die "$file: $!";
	seek $fh, 8, 0;
	print $fh pack('v', 1);
	close $fh;
}
make_obsolete("$dir/$_.sb") for qw(ob_q ob_noq);
$node->restart;

my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM ob_q');
like($err, qr/bundle "ob_q" was written in a format that is no longer read/,
	'before the update, the relabelled file is refused');

$node->safe_psql('postgres', 'ALTER EXTENSION sharedbuf UPDATE');
is($node->safe_psql('postgres', 'SELECT count(*), sum(v) FROM ob_q'), '500|250500',
	'after the update, the bundle with a stored query is read again');
is($node->safe_psql('postgres',
	q{SELECT format_version, status FROM sharedbuf_list() WHERE bundle = 'ob_q'}), '5.0|ok',
	'it was rebuilt in the current format (compact: its integers are offsets)');
is($node->safe_psql('postgres',
	q{SELECT name, owner, generation FROM sharedbuf_catalog ORDER BY name}), 'ob_q|postgres|1',
	'the catalog has the rebuilt bundle, and not the one it cannot read');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM ob_noq');
like($err, qr/was written in a format that is no longer read.*HINT:  Rebuild the bundle/s,
	'the bundle without a stored query still asks for a rebuild');
is($node->safe_psql('postgres', q{SELECT ok FROM sharedbuf_verify('ob_q')}), 't',
	'verify passes on the rebuilt bundle');

$node->stop;
done_testing();
