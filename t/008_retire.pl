# Retired files: a refresh or drop keeps the old file under a hidden
# ".retired" name while a reader maps it, so that the reader's release
# frees nothing; a sweep removes the file once no reader maps it.  Sweeps
# run at the swapping backend's later commits, at its exit and at the start
# of every build.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('retire');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION sharedbuf;
	SELECT rows FROM sharedbuf_create('rt', 'SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g', key => 'id');
});
my $dboid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = 'postgres'");
my $dir = $node->data_dir . "/sharedbuf/$dboid";

# The retired files in the bundle directory.
sub retired
{
	opendir my $dh, $dir or die "$dir: $!";
	my @f = grep { /^\..*\.retired$/ } readdir $dh;
	closedir $dh;
	return scalar @f;
}

# Wait until the number of retired files is $want (a backend's exit sweep
# runs after its client has gone).
sub retired_becomes
{
	my ($want) = @_;
	for (1 .. 100)
	{
		return 1 if retired() == $want;
		select undef, undef, undef, 0.1;
	}
	return 0;
}

my $reader = $node->background_psql('postgres');
my $writer = $node->background_psql('postgres');
$reader->query_safe('SELECT count(*) FROM rt WHERE id = 1');

# a refresh while the reader maps the bundle retires the old file
$writer->query_safe(q{SELECT rows FROM sharedbuf_refresh('rt', 'SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 3000) g')});
is(retired(), 1, 'a refresh retires the file a reader still maps');
$writer->query_safe('SELECT 1');
is(retired(), 1, 'a sweep leaves it while the reader maps it');

# the reader moves on to the new generation; the writer's next commit sweeps
is($reader->query_safe('SELECT count(*) FROM rt'), '3000', 'the reader sees the new generation');
$writer->query_safe('SELECT 1');
is(retired(), 0, 'the writer\'s next commit removes the retired file');

# a refresh with no reader mapping the old file: swept at its own commit
$reader->quit;
$writer->quit;
$writer = $node->background_psql('postgres');
$writer->query_safe('SELECT count(*) FROM rt WHERE id = 1');
$writer->query_safe(q{SELECT rows FROM sharedbuf_refresh('rt', 'SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 4000) g')});
is(retired(), 0, 'a refresh by the only reader removes the old file at commit');

# a drop while a reader maps the bundle; the reader lets go when it finds
# the bundle gone, and the dropping backend's exit sweeps
$reader = $node->background_psql('postgres');
$reader->query_safe('SELECT count(*) FROM rt WHERE id = 1');
$writer->query_safe(q{SELECT sharedbuf_drop('rt')});
ok(!-e "$dir/rt.sb", 'the dropped bundle left its path');
is(retired(), 1, 'the dropped file is retired while the reader maps it');
is($reader->query_safe(q{
	DO $$ BEGIN
		PERFORM count(*) FROM rt WHERE id = 1;
	EXCEPTION WHEN undefined_file THEN NULL;
	END $$;
	SELECT count(*) FROM sharedbuf_mappings()}), '0',
	'a reader that finds the bundle gone lets go of its file');
$writer->quit;
ok(retired_becomes(0), 'the dropping backend\'s exit removes the file');
$reader->quit;

# a file retired before a crash goes at the next build
$node->safe_psql('postgres', q{SELECT rows FROM sharedbuf_create('rt2', 'SELECT 1 AS id', key => 'id')});
open my $fh, '>', "$dir/.rt2.sb.99999.1.retired" or die;
print $fh "x" x 1000;
close $fh;
$node->safe_psql('postgres', q{SELECT rows FROM sharedbuf_refresh('rt2', 'SELECT 2 AS id')});
is(retired(), 0, 'the next build removes it');
is($node->safe_psql('postgres', 'SELECT id FROM rt2'), '2', 'the rebuilt bundle is served');

unlike(slurp_file($node->logfile), qr/terminated by signal|could not retire|could not remove/, 'no crash and no file error in the log');
$node->stop;
done_testing();
