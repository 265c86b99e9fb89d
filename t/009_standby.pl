# Bundles on streaming standbys: a primary, a standby and a cascading
# standby on loopback, all with sharedbuf preloaded.  Builds, refreshes,
# rollbacks, subtransaction aborts, drops and new bundles reach both
# standbys through the WAL with identical results, sharedbuf_verify passes
# there, and no file of a build or drop is left behind.  pg_walinspect
# names the records, and the WAL a build writes is about its bundle's size.
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
	CREATE TABLE src AS SELECT g AS id, 'n' || g AS v FROM generate_series(1, 5000) g;
	SELECT rows FROM sharedbuf_create('prof', 'SELECT id, v FROM src', key => 'id');
});
$primary->backup('b1');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
# the reader below holds a snapshot across the primary's updates
$standby->append_conf('postgresql.conf', "hot_standby_feedback = on\n");
$standby->start;
$standby->backup('b2');
my $cascade = PostgreSQL::Test::Cluster->new('cascade');
$cascade->init_from_backup($standby, 'b2', has_streaming => 1);
$cascade->start;


# Run a query on every node; the standbys must answer as the primary does.
sub same_everywhere
{
	my ($query, $what) = @_;
	catch_up($primary, $standby);
	catch_up($standby, $cascade);
	my $want = $primary->safe_psql('postgres', $query);
	is($standby->safe_psql('postgres', $query), $want, "standby: $what");
	is($cascade->safe_psql('postgres', $query), $want, "cascading standby: $what");
	return $want;
}

my $probe = q{SELECT v FROM prof WHERE id = 7};
is(same_everywhere($probe, 'bundle built before the backup'), 'n7', 'primary serves n7');

# A refresh reaches both standbys.
$primary->safe_psql('postgres', q{
	UPDATE src SET v = 'changed' WHERE id = 7;
	SELECT rows FROM sharedbuf_refresh('prof');
});
is(same_everywhere($probe, 'refresh'), 'changed', 'the refresh is served');
same_everywhere(q{SELECT generation, build_id FROM sharedbuf_catalog WHERE name = 'prof'},
	'the catalog row');
same_everywhere(q{SELECT ok FROM sharedbuf_verify('prof')}, 'verify after a refresh');
same_everywhere(q{SELECT count(*), sum(id), string_agg(v, ',' ORDER BY id) FROM prof},
	'a scan');

# A rolled-back refresh leaves the old bundle and no file anywhere.
$primary->safe_psql('postgres', q{
	BEGIN;
	UPDATE src SET v = 'rolled back' WHERE id = 7;
	SELECT rows FROM sharedbuf_refresh('prof');
	ROLLBACK;
});
is(same_everywhere($probe, 'rollback'), 'changed', 'a rollback keeps the old rows');
catch_up($primary, $standby);
catch_up($standby, $cascade);
is(flight_files($_), 0, $_->name . ': no file left by the rollback')
  for ($primary, $standby, $cascade);

# A subtransaction's build that is rolled back loses to the one before it.
$primary->safe_psql('postgres', q{
	BEGIN;
	UPDATE src SET v = 'outer' WHERE id = 7;
	SELECT rows FROM sharedbuf_refresh('prof');
	SAVEPOINT s;
	UPDATE src SET v = 'inner' WHERE id = 7;
	SELECT rows FROM sharedbuf_refresh('prof');
	ROLLBACK TO SAVEPOINT s;
	COMMIT;
});
is(same_everywhere($probe, 'subtransaction abort'), 'outer',
	'the outer build wins over the rolled-back one');
same_everywhere(q{SELECT ok FROM sharedbuf_verify('prof')}, 'verify after a subtransaction');
catch_up($primary, $standby);
catch_up($standby, $cascade);
is(flight_files($_), 0, $_->name . ': no file left by the subtransaction')
  for ($primary, $standby, $cascade);

# Two builds in one transaction: the second wins.
$primary->safe_psql('postgres', q{
	BEGIN;
	UPDATE src SET v = 'first' WHERE id = 7;
	SELECT rows FROM sharedbuf_refresh('prof');
	UPDATE src SET v = 'second' WHERE id = 7;
	SELECT rows FROM sharedbuf_refresh('prof');
	COMMIT;
});
is(same_everywhere($probe, 'two builds in one transaction'), 'second', 'the last build wins');

# A bundle created after the backup, and a drop.
$primary->safe_psql('postgres', q{
	SELECT rows FROM sharedbuf_create('prof2', 'SELECT id, v FROM src WHERE id <= 100', key => 'id');
});
is(same_everywhere(q{SELECT count(*) FROM prof2}, 'new bundle'), '100', 'a new bundle is served');
$primary->safe_psql('postgres', q{
	SELECT sharedbuf_drop('prof2');
	DROP FOREIGN TABLE prof2;
	SELECT rows FROM sharedbuf_create('prof3', 'SELECT id FROM src WHERE id <= 10', key => 'id');
});
same_everywhere(q{SELECT string_agg(name, ',' ORDER BY name) FROM sharedbuf_catalog},
	'catalog after a drop');
same_everywhere(q{SELECT string_agg(bundle, ',' ORDER BY bundle) FROM sharedbuf_bundles},
	'files after a drop');
is(same_everywhere(q{SELECT count(*) FROM prof3}, 'a bundle built with a drop'), '10',
	'the bundle built after the drop is served');

# A drop rolled back keeps the bundle.
$primary->safe_psql('postgres', q{
	BEGIN; SELECT sharedbuf_drop('prof3'); ROLLBACK;
});
is(same_everywhere(q{SELECT count(*) FROM prof3}, 'rolled-back drop'), '10',
	'a rolled-back drop keeps the bundle');
catch_up($primary, $standby);
catch_up($standby, $cascade);
is(flight_files($_), 0, $_->name . ': no file left by builds and drops')
  for ($primary, $standby, $cascade);

# A standby refuses to build; its readers keep a statement's generation.
my ($ret, $out, $err) = $standby->psql('postgres', q{SELECT sharedbuf_refresh('prof')});
like($err, qr/cannot build bundle "prof" during recovery/, 'no builds on a standby');

# (replay does not wait for the reader: the standby's hot_standby_feedback
# keeps the primary's cleanup of src from conflicting with its snapshot)
my $reader = $standby->background_psql('postgres');
$reader->query_safe(q{BEGIN; DECLARE c CURSOR FOR SELECT v FROM prof ORDER BY id});
my $first = $reader->query_safe(q{FETCH 7 FROM c});
$primary->safe_psql('postgres', q{
	UPDATE src SET v = 'during' WHERE id = 7;
	SELECT rows FROM sharedbuf_refresh('prof');
});
catch_up($primary, $standby);
catch_up($standby, $cascade);
like($first, qr/second$/, 'the cursor read the old generation');
like($reader->query_safe(q{FETCH ALL FROM c}), qr/^n8/,
	'the cursor keeps its generation while a new one is replayed');
$reader->query_safe(q{COMMIT});
is($reader->query_safe($probe), 'during', 'the next statement reads the new generation');
$reader->quit;

# pg_walinspect names the records; a build logs about its bundle's size.
$primary->safe_psql('postgres', q{CREATE EXTENSION pg_walinspect});
my $start = $primary->lsn('insert');
my $bytes = $primary->safe_psql('postgres', q{
	CREATE TABLE big_src AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 200000) g;
	SELECT bytes FROM sharedbuf_create('big', 'SELECT id, h FROM big_src', key => 'id');
});
# pg_walinspect reads only flushed WAL; the INSTALL record, logged after
# the commit, is flushed by the WAL writer
my $end = $primary->lsn('insert');
$primary->safe_psql('postgres', 'SELECT pg_current_xact_id()');
$primary->poll_query_until('postgres', "SELECT pg_current_wal_flush_lsn() >= '$end'")
  or die 'the WAL was not flushed';
my $types = $primary->safe_psql('postgres', qq{
	SELECT string_agg(DISTINCT record_type, ',' ORDER BY record_type)
	  FROM pg_get_wal_records_info('$start', '$end') WHERE resource_manager = 'sharedbuf'});
is($types, 'BEGIN,CHUNK,END,INSTALL', 'pg_walinspect names the records');
my $logged = $primary->safe_psql('postgres', qq{
	SELECT sum(record_length) FROM pg_get_wal_records_info('$start', '$end')
	 WHERE resource_manager = 'sharedbuf'});
cmp_ok($logged / $bytes, '<=', 1.02, "WAL records of a build: $logged bytes for a $bytes-byte bundle");
cmp_ok($logged / $bytes, '>=', 1.0, 'every byte of the bundle is in the WAL');
same_everywhere(q{SELECT count(*), sum(id) FROM big WHERE id = ANY ('{1,500,199999}')},
	'a large bundle');
same_everywhere(q{SELECT ok FROM sharedbuf_verify('big')}, 'verify of a large bundle');

done_testing();
