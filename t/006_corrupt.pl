# Damaged bundle files at the SQL level.  Each damaged copy is served as a
# bundle of its own; reading it (a scan that reads every row and value, and
# a nested loop of lookups through every line of the index) must
# give an ERROR with SQLSTATE XX001 (or the file-access code for a file of
# the wrong kind) that names the bundle, the backend must survive, and an
# intact bundle must keep working.  Bytes changed in place after a backend
# mapped the file must not crash it either.
use strict;
use warnings;
use Fcntl qw(:seek);
use POSIX qw(mkfifo);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt');
$node->init;
$node->start;
my $rows = 20000;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION sharedbuf;
	SELECT rows FROM sharedbuf_build('cp_good',
		'SELECT g AS id, repeat(md5(g::text), 1 + g % 5) AS v FROM generate_series(1, $rows) g',
		key => 'id');
	CREATE FOREIGN TABLE cp_good (id int, v text) SERVER sharedbuf OPTIONS (bundle 'cp_good');
	CREATE TABLE cp_keys AS SELECT g AS k FROM generate_series(1, $rows) g;
	ANALYZE cp_keys;
});
my $dir = $node->safe_psql('postgres',
	q{SELECT regexp_replace(file, '/[^/]*$', '') FROM sharedbuf_info('cp_good')});
my $good = slurp_file("$dir/cp_good.sb");

# The sections of the good file: kind => [offset, length].
my %sec;
for my $i (0 .. unpack('V', substr($good, 20, 4)) - 1)
{
	my ($kind, $flags, $off, $len) = unpack('V V Q< Q<', substr($good, 128 + 32 * $i, 24));
	$sec{$kind} = [ $off, $len ];
}
my ($SCHEMA, $META, $ROWS, $HEAP, $ENTRIES, $BLOCKS) = (1, 2, 3, 4, 6, 7);
die "the bundle does not have a line index" unless unpack('V', substr($good, 76, 4)) == 3;

sub flip { my ($img, $off) = @_; substr($img, $off, 1) = chr(ord(substr($img, $off, 1)) ^ 0x5a); $img }
sub mid { my ($kind) = @_; $sec{$kind}[0] + int($sec{$kind}[1] / 2) }

my @cases = (
	[ 'empty file',                 sub { '' } ],
	[ 'truncated in the header',    sub { substr($good, 0, 64) } ],
	[ 'truncated in the sections',  sub { substr($good, 0, 200) } ],
	[ 'truncated at the schema',    sub { substr($good, 0, $sec{$SCHEMA}[0]) } ],
	[ 'truncated in the schema',    sub { substr($good, 0, mid($SCHEMA)) } ],
	[ 'truncated at the heap',      sub { substr($good, 0, $sec{$HEAP}[0]) } ],
	[ 'truncated in the heap',      sub { substr($good, 0, mid($HEAP)) } ],
	[ 'truncated in the rows',      sub { substr($good, 0, mid($ROWS)) } ],
	[ 'truncated at the index',     sub { substr($good, 0, $sec{$ENTRIES}[0]) } ],
	[ 'truncated in the entries',   sub { substr($good, 0, mid($ENTRIES)) } ],
	[ 'truncated in the checksums', sub { substr($good, 0, mid($BLOCKS)) } ],
	[ 'truncated in the metadata',  sub { substr($good, 0, length($good) - 3) } ],
	[ 'a byte appended',            sub { $good . "\0" } ],
	[ 'wrong magic',                sub { flip($good, 1) } ],
	[ 'a future major version',     sub { my $i = $good; substr($i, 8, 2) = pack('v', 4); $i } ],
	[ 'the other byte order',       sub { my $i = $good; substr($i, 12, 4) = pack('N', 0x01020304); $i } ],
	[ 'header byte flipped',        sub { flip($good, 33) } ],
	[ 'section table byte flipped', sub { flip($good, 128 + 32 * 2 + 9) } ],
	[ 'schema byte flipped',        sub { flip($good, $sec{$SCHEMA}[0] + 5) } ],
	[ 'rows byte flipped',          sub { flip($good, mid($ROWS)) } ],
	[ 'heap byte flipped',          sub { flip($good, mid($HEAP)) } ],
	[ 'index line count flipped',   sub { flip($good, $sec{$ENTRIES}[0] + 64 * 3) } ],
	[ 'entries byte flipped',       sub { flip($good, mid($ENTRIES)) } ],
	[ 'block checksum flipped',     sub { flip($good, mid($BLOCKS)) } ],
	[ 'metadata byte flipped',      sub { flip($good, $sec{$META}[0] + 10) } ],
);

my $session = $node->background_psql('postgres', on_error_stop => 0);
$session->query('SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off');
my $n = 0;

# A query's output in the session (errors of earlier queries ignored).
sub ask
{
	my ($sql) = @_;
	my $out = $session->query($sql);
	chomp $out;
	return $out;
}

# Read a damaged bundle every way; return stderr of the session.
sub read_all
{
	my ($name) = @_;
	my ($out, $err) = ('', '');
	$session->{stderr} = '';
	$session->query(qq{
		\\set VERBOSITY verbose
		SELECT count(*), sum(length(v)) FROM $name;
		SELECT count(t.v) FROM cp_keys k JOIN $name t ON t.id = k.k;
	});
	return $session->{stderr};
}

# Check that reading a bundle fails as it should and nothing else breaks.
sub expect_error
{
	my ($what, $name, $code) = @_;
	my $err = read_all($name);
	like($err, qr/ERROR:\s+$code: .*"$name"/, "$what: $code naming the bundle");
	is(ask('SELECT 1'), '1', "$what: the backend is alive");
	is(ask('SELECT count(*), sum(length(v)) FROM cp_good'),
		$node->safe_psql('postgres', 'SELECT count(*), sum(length(v)) FROM cp_good'),
		"$what: another bundle is unaffected");
}

for my $c (@cases)
{
	my ($what, $make) = @$c;
	my $name = 'cp_d' . ++$n;
	open my $fh, '>:raw', "$dir/$name.sb" or die;
	print $fh $make->();
	close $fh;
	$node->safe_psql('postgres',
		"CREATE FOREIGN TABLE $name (id int, v text) SERVER sharedbuf OPTIONS (bundle '$name')");
	expect_error($what, $name, 'XX001');
}

# the wrong kind of file where the bundle should be, or a file of a
# format since dropped (whose index kind is no longer read)
my @special = (
	[ 'a file of format 1.0', sub { open my $f, '>:raw', $_[0] or die; print $f substr($good, 0, 8) . pack('v', 1) . substr($good, 10); close $f }, '55000' ],
	[ 'a directory', sub { mkdir $_[0] or die }, '42809' ],
	[ 'a FIFO', sub { mkfifo($_[0], 0600) or die }, '42809' ],
	[ 'an unreadable file', sub { open my $f, '>', $_[0] or die; print $f $good; close $f; chmod 0000, $_[0] }, '42501' ],
);
for my $c (@special)
{
	my ($what, $make, $code) = @$c;
	my $name = 'cp_d' . ++$n;
	$make->("$dir/$name.sb");
	$node->safe_psql('postgres',
		"CREATE FOREIGN TABLE $name (id int, v text) SERVER sharedbuf OPTIONS (bundle '$name')");
	expect_error($what, $name, $code);
}

# bytes changed in place after a backend mapped the file
copy_bundle('cp_inplace');
$node->safe_psql('postgres',
	"CREATE FOREIGN TABLE cp_inplace (id int, v text) SERVER sharedbuf OPTIONS (bundle 'cp_inplace')");
is(ask('SELECT length(v) FROM cp_inplace WHERE id = 1'), '64',
	'in place: the bundle is mapped and read');
poke("$dir/cp_inplace.sb", $sec{$ROWS}[0] + $sec{$ROWS}[1] - 100);
poke("$dir/cp_inplace.sb", $sec{$HEAP}[0] + $sec{$HEAP}[1] - 100);
expect_error('in place: bytes of unread blocks changed', 'cp_inplace', 'XX001');
# a block already verified, then changed: no error can be promised, no crash
poke("$dir/cp_inplace.sb", $sec{$ROWS}[0] + 8);
$session->query('SELECT id, length(v) FROM cp_inplace WHERE id = 1');
is(ask('SELECT 1'), '1', 'in place: a verified block changed: the backend is alive');

$session->quit;
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend was terminated by a signal');
note "damage patterns: " . (scalar(@cases) + scalar(@special) + 2);

# Copy the good file under another bundle name.
sub copy_bundle
{
	my ($name) = @_;
	open my $fh, '>:raw', "$dir/$name.sb" or die;
	print $fh $good;
	close $fh;
}

# Change one byte of a file in place (same inode, same mapping).
sub poke
{
	my ($path, $off) = @_;
	open my $fh, '+<:raw', $path or die;
	seek($fh, $off, SEEK_SET);
	read($fh, my $b, 1);
	seek($fh, $off, SEEK_SET);
	print $fh chr(ord($b) ^ 0xff);
	close $fh;
}

$node->stop;
done_testing();
