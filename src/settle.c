/*-------------------------------------------------------------------------
 *
 * settle.c
 *	  The files of builds and drops in flight, and settling them.
 *
 * A build writes its bundle to a hidden file next to the bundle's,
 * ".<name>.<xid>.<pid>.<lsn>.tmp"; a drop leaves an empty marker,
 * ".<name>.<xid>.<pid>.<lsn>.drop".  The transaction ID is that of the
 * (sub)transaction that made it, so its fate decides the file's: once it
 * has committed the file is to take the bundle's place (or to remove it),
 * once it has aborted the file is removed.  The position in the WAL of a
 * record the build or drop flushed first orders the files of one bundle:
 * builds and drops of a bundle are serialized, so a later position means
 * a later commit.
 *
 * Settling applies that rule to every such file of a bundle: the last
 * committed one wins, the others go.  It is the one place that installs a
 * new file or removes a dropped one, on every server: the committing
 * backend settles right after its commit; WAL replay settles when it
 * replays a build's start, its install and at the end of recovery (where
 * a transaction that neither committed nor aborted died with the server;
 * during replay it may still be running on the primary, which replay
 * knows once it tracks running transactions for hot standby); a
 * reader settles when the catalog says the bundle's file is not the
 * committed one, which also finishes the work of a backend that died
 * after its commit.  Settling runs after commit and inside WAL replay,
 * where an error would be fatal, so it only makes system calls, and
 * reports problems at LOG or WARNING level.  An exclusive flock() on the
 * database's bundle directory keeps two processes from settling at once.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlogutils.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/procarray.h"

/* One file of a build or drop of the bundle being settled. */
typedef struct SbFlightFile
{
	char	   *path;
	TransactionId xid;
	XLogRecPtr	lsn;
	bool		drop;
	int			state;			/* 1 committed, 0 in progress, -1 dead */
} SbFlightFile;

/*
 * The path of a file of a build (suffix ".tmp", ".progress") or a drop
 * (".drop") of bundle 'name' of database 'dboid'.
 */
char *
SbFlightPath(Oid dboid, const char *name, TransactionId xid, int pid,
			 XLogRecPtr lsn, const char *suffix)
{
	char	   *dir = SbDirectoryOf(dboid, false);
	char	   *path;

	path = psprintf("%s/.%s.%u.%d.%08X%08X%s", dir, name, xid, pid,
					LSN_FORMAT_ARGS(lsn), suffix);
	pfree(dir);
	return path;
}

/*
 * Parse a directory entry as a file of a build or drop of bundle 'name'
 * ending in 'suffix'; false if it is not one.
 */
bool
SbParseFlightName(const char *fname, const char *name, const char *suffix,
				  TransactionId *xid, int *pid, XLogRecPtr *lsn)
{
	size_t		nlen = strlen(name);
	size_t		flen = strlen(fname);
	size_t		slen = strlen(suffix);
	unsigned int x,
				hi,
				lo;
	int			p,
				used = 0;

	if (fname[0] != '.' || strncmp(fname + 1, name, nlen) != 0 ||
		fname[nlen + 1] != '.' || flen < nlen + 2 + slen ||
		strcmp(fname + flen - slen, suffix) != 0 ||
		sscanf(fname + nlen + 2, "%u.%d.%8X%8X%n", &x, &p, &hi, &lo, &used) != 4 ||
		(size_t) (nlen + 2 + used) != flen - slen)
		return false;
	*xid = (TransactionId) x;
	*pid = p;
	*lsn = ((XLogRecPtr) hi << 32) | lo;
	return true;
}

/* The fate of the transaction that made a file, as seen in 'mode'. */
static int
flight_state(TransactionId xid, SbSettleMode mode)
{
	if (!TransactionIdIsNormal(xid) ||
		TransactionIdPrecedes(xid, TransamVariables->oldestClogXid))
		return -1;
	if (mode == SB_SETTLE_REDO)
	{
		if (TransactionIdDidCommit(xid))
			return 1;
		if (TransactionIdDidAbort(xid))
			return -1;
		/* once replay tracks running transactions, one that died is gone */
		if (standbyState == STANDBY_SNAPSHOT_READY && !TransactionIdIsInProgress(xid))
			return -1;
		return 0;
	}
	if (mode == SB_SETTLE_RECOVERY_END)
		return TransactionIdDidCommit(xid) ? 1 : -1;
	if (TransactionIdIsCurrentTransactionId(xid))
		return mode == SB_SETTLE_COMMIT ? 1 : 0;
	if (TransactionIdIsInProgress(xid))
		return 0;
	return TransactionIdDidCommit(xid) ? 1 : -1;
}

/* Remove a file, reporting a failure other than its absence. */
static void
remove_file(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", path)));
}

/*
 * The files of builds and drops of bundle 'name' in directory 'dir' (open
 * as 'd'); also removes progress files of backends that are gone.
 */
static List *
list_flight_files(const char *dir, DIR *d, const char *name, SbSettleMode mode)
{
	List	   *files = NIL;
	struct dirent *de;

	while ((de = readdir(d)) != NULL)
	{
		SbFlightFile *f;
		TransactionId xid;
		XLogRecPtr	lsn;
		int			pid;
		bool		drop = false;

		if (!SbParseFlightName(de->d_name, name, ".tmp", &xid, &pid, &lsn) &&
			!(drop = SbParseFlightName(de->d_name, name, ".drop", &xid, &pid, &lsn)))
		{
			if (mode == SB_SETTLE_READER &&
				SbParseFlightName(de->d_name, name, ".progress", &xid, &pid, &lsn) &&
				kill(pid, 0) != 0 && errno == ESRCH)
				remove_file(psprintf("%s/%s", dir, de->d_name));
			continue;
		}
		f = palloc(sizeof(SbFlightFile));
		f->path = psprintf("%s/%s", dir, de->d_name);
		f->xid = xid;
		f->lsn = lsn;
		f->drop = drop;
		f->state = flight_state(xid, mode);
		files = lappend(files, f);
	}
	return files;
}

/* Put the winning file in the bundle's place, or remove the bundle. */
static void
install_file(const SbFlightFile *f, const char *final, const char *dir)
{
	if (f->drop)
	{
		if (!SbRetireFile(final, true))
			remove_file(final);
		remove_file(f->path);
	}
	else
	{
		/* keep the old file linked, for a sweep to remove (retire.c) */
		(void) SbRetireFile(final, false);
		if (rename(f->path, final) != 0)
		{
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not rename file \"%s\" to \"%s\": %m",
							f->path, final)));
			return;
		}
		(void) fsync_fname_ext(final, false, false, WARNING);
	}
	(void) fsync_fname_ext(dir, true, false, WARNING);
}

/*
 * Settle the files of builds and drops of bundle 'name' of database
 * 'dboid': the last committed one takes effect, the other committed ones
 * and those of aborted transactions are removed, those of transactions in
 * progress stay.  Returns true if the bundle's file changed.  Never
 * errors, but for running out of memory.
 */
bool
SbSettleBundle(Oid dboid, const char *name, SbSettleMode mode)
{
	char	   *dir = SbDirectoryOf(dboid, false);
	char	   *final = psprintf("%s/%s%s", dir, name, SB_BUNDLE_SUFFIX);
	SbFlightFile *winner = NULL;
	List	   *files;
	ListCell   *lc;
	DIR		   *d;
	int			lockfd;

	lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lockfd < 0)
		return false;			/* no bundle was ever built here */
	(void) flock(lockfd, LOCK_EX);
	d = opendir(dir);
	files = d ? list_flight_files(dir, d, name, mode) : NIL;
	if (d)
		closedir(d);
	foreach(lc, files)
	{
		SbFlightFile *f = lfirst(lc);

		if (f->state == 1 && (winner == NULL || f->lsn > winner->lsn))
			winner = f;
	}
	if (winner)
		install_file(winner, final, dir);
	foreach(lc, files)
	{
		SbFlightFile *f = lfirst(lc);

		if (f != winner && f->state != 0)
			remove_file(f->path);
	}
	close(lockfd);				/* releases the lock */
	if (winner && mode != SB_SETTLE_COMMIT)
		ereport(LOG,
				(errmsg("bundle \"%s\" of database %u: %s committed by transaction %u",
						name, dboid, winner->drop ? "applied the drop" :
						"installed the build", winner->xid)));
	list_free_deep(files);
	return winner != NULL;
}

/*
 * Settle every bundle of every database, at the end of WAL recovery: no
 * transaction is in progress any more, so every file of a build or drop
 * either takes effect or goes.
 */
void
SbSettleAll(void)
{
	char	   *top = SbDirectoryOf(InvalidOid, false);
	DIR		   *t = opendir(top);
	struct dirent *de;

	if (t == NULL)
		return;
	while ((de = readdir(t)) != NULL)
	{
		Oid			dboid = (Oid) strtoul(de->d_name, NULL, 10);
		char	   *dir;
		DIR		   *d;
		struct dirent *fe;

		if (!OidIsValid(dboid))
			continue;
		dir = SbDirectoryOf(dboid, false);
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((fe = readdir(d)) != NULL)
		{
			char	   *name = SbFlightBundleName(fe->d_name);

			if (name)
				(void) SbSettleBundle(dboid, name, SB_SETTLE_RECOVERY_END);
		}
		closedir(d);
		pfree(dir);
	}
	closedir(t);
}

/*
 * The bundle name in the name of a file of a build or drop, or NULL if it
 * is not one.
 */
char *
SbFlightBundleName(const char *fname)
{
	const char *suffixes[] = {".tmp", ".drop"};
	size_t		flen = strlen(fname);

	for (int i = 0; i < lengthof(suffixes); i++)
	{
		size_t		slen = strlen(suffixes[i]);
		const char *p;

		if (fname[0] != '.' || flen <= slen ||
			strcmp(fname + flen - slen, suffixes[i]) != 0)
			continue;
		/* the name ends before the transaction ID: the fourth dot from the end */
		p = fname + flen - slen;
		for (int dots = 0; p > fname && dots < 3; p--)
			if (p[-1] == '.')
				dots++;
		if (p > fname + 1)
		{
			char	   *name = pnstrdup(fname + 1, p - fname - 1);
			TransactionId xid;
			XLogRecPtr	lsn;
			int			pid;

			if (SbParseFlightName(fname, name, suffixes[i], &xid, &pid, &lsn))
				return name;
			pfree(name);
		}
	}
	return NULL;
}
