# Helpers of the TAP tests with standbys: files of builds in flight,
# waiting for replay, crashing a server as a power failure would, and
# counting the pauses of crash tests.
package SbStandby;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT = qw(flight_files catch_up crash pauses release_file);

# The files of builds and drops in flight on a node.
sub flight_files
{
	my ($node) = @_;
	my $dir = $node->data_dir . '/sharedbuf';
	my @files = grep { /\.(tmp|drop)$/ } glob("$dir/*/.*");
	return scalar @files;
}

# Wait until 'to' has replayed everything the primary 'from' wrote.  A
# commit flushes what is only inserted (an INSTALL record is not flushed
# by itself) and ends at the end of a record, which the standby reports
# once it has replayed it; the insert position of an idle server can lie
# past the next page header, which no replay reaches until more WAL comes.
sub catch_up
{
	my ($from, $to) = @_;
	if ($from->safe_psql('postgres', 'SELECT pg_is_in_recovery()') eq 't')
	{
		# a cascading standby: up to what 'from' has replayed
		$from->wait_for_catchup($to, 'replay', $from->lsn('replay'));
		return;
	}
	# Up to all 'from' has inserted: records logged after a commit (INSTALL)
	# and commits that wrote nothing else are flushed by the WAL writer, not
	# at once; a commit after the target makes sure a record follows it.
	my $target = $from->lsn('insert');
	$from->safe_psql('postgres', 'SELECT pg_current_xact_id()');
	$from->wait_for_catchup($to, 'replay', $target);
}

# Is a process alive (and not a zombie)?
sub alive
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $line = <$fh>;
	close($fh);
	return defined $line && $line =~ /^\d+ \(.*\) ([^ZX]) /s;
}

# The processes whose parent is 'ppid'.
sub children
{
	my ($ppid) = @_;
	my @kids;
	for my $stat (glob('/proc/[0-9]*/stat'))
	{
		open(my $fh, '<', $stat) or next;
		my $line = <$fh>;
		close($fh);
		push @kids, $1 if defined $line && $line =~ /^(\d+) \(.*\) \S (\d+) /s && $2 == $ppid;
	}
	return @kids;
}

# SIGKILL a server's postmaster and every process it started, as a power
# failure would: stopped first, it can neither fork nor react.  (Killing
# the postmaster alone leaves a paused process sleeping, attached to the
# shared memory, and the server could not start again.)
sub crash
{
	my ($node) = @_;
	my $pm = $node->{_pid};
	kill 'STOP', $pm;
	my @kids = children($pm);
	kill 'KILL', @kids;
	$node->kill9;
	for my $pid (@kids)
	{
		my $tries = 0;
		usleep(10_000) while alive($pid) && $tries++ < 6000;
		die "process $pid did not die" if alive($pid);
	}
	# a new postmaster refuses to start while the old one's PID exists,
	# even as a zombie: wait for it to be reaped
	my $tries = 0;
	usleep(10_000) while -e "/proc/$pm" && $tries++ < 6000;
	die "postmaster $pm was not reaped" if -e "/proc/$pm";
	note $node->name . ': killed the postmaster and ' . scalar(@kids) . ' processes';
}

# The number of times a server logged that it paused at 'point'.
sub pauses
{
	my ($node, $point, $offset) = @_;
	my @m = slurp_file($node->logfile, $offset) =~ /sharedbuf: paused at $point\b/g;
	return scalar @m;
}

sub release_file { return $_[0]->data_dir . '/sharedbuf_test_release'; }

1;
