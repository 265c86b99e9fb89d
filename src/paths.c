/*-------------------------------------------------------------------------
 *
 * paths.c
 *	  Where bundle files live, and the names they may have.
 *
 * Bundles live in the directory named by sharedbuf.directory (relative to
 * the data directory unless absolute), in a subdirectory per database
 * named by the database's OID.  A bundle is named, never pathed: a name is
 * a lower-case identifier, so it cannot leave that directory.  A bundle
 * being built is written to a hidden temporary file next to it, named
 * after the bundle, the building transaction and the backend's PID, so
 * that a file left by a crash can be settled by whoever finds it.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "storage/fd.h"

#define SB_MAX_NAME		63

/* Refuse any bundle name that is not a plain lower-case identifier. */
void
SbCheckBundleName(const char *name)
{
	size_t		len = strlen(name);
	bool		ok = len > 0 && len <= SB_MAX_NAME &&
		!(name[0] >= '0' && name[0] <= '9');

	for (size_t i = 0; ok && i < len; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '_';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid bundle name \"%s\"", name),
				 errdetail("A bundle name is a lower-case identifier of 1 to %d letters, digits and underscores that does not start with a digit.",
						   SB_MAX_NAME)));
}

/* Create a directory if it does not exist yet. */
static void
ensure_directory(const char *path)
{
	if (MakePGDirectory(path) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", path)));
}

/*
 * The directory of this database's bundles; with 'create', make it (and
 * the top directory) if needed.
 */
char *
SbDatabaseDirectory(bool create)
{
	const char *top = sb_directory_setting;
	char	   *topdir;
	char	   *dir;

	if (top == NULL || top[0] == '\0')
		top = "sharedbuf";
	topdir = is_absolute_path(top) ? pstrdup(top) : psprintf("%s/%s", DataDir, top);
	dir = psprintf("%s/%u", topdir, MyDatabaseId);
	if (create)
	{
		ensure_directory(topdir);
		ensure_directory(dir);
	}
	pfree(topdir);
	return dir;
}

/* The file of a bundle in this database. */
char *
SbBundlePath(const char *name)
{
	char	   *dir = SbDatabaseDirectory(false);
	char	   *path;

	SbCheckBundleName(name);
	path = psprintf("%s/%s%s", dir, name, SB_BUNDLE_SUFFIX);
	pfree(dir);
	return path;
}

/*
 * A fresh temporary file name for building a bundle in this transaction:
 * ".<name>.<xid>.<pid>.<n>.tmp".  The transaction ID lets a later backend
 * decide what to do with a file left behind by a crash.
 */
char *
SbTempPath(const char *name)
{
	static uint32 counter = 0;
	char	   *dir = SbDatabaseDirectory(false);
	char	   *path;

	path = psprintf("%s/.%s.%u.%d.%u.tmp", dir, name, GetTopTransactionId(),
					MyProcPid, ++counter);
	pfree(dir);
	return path;
}

/*
 * Parse the name of a file of a build of bundle 'name' ending in 'suffix'
 * (".tmp" or ".progress"); false if it is not one.
 */
static bool
parse_temp_name(const char *fname, const char *name, const char *suffix,
				TransactionId *xid, int *pid)
{
	size_t		nlen = strlen(name);
	size_t		flen = strlen(fname);
	size_t		slen = strlen(suffix);
	unsigned int x;
	int			p;

	if (fname[0] != '.' || strncmp(fname + 1, name, nlen) != 0 ||
		fname[nlen + 1] != '.' || flen < slen ||
		strcmp(fname + flen - slen, suffix) != 0 ||
		sscanf(fname + nlen + 2, "%u.%d.", &x, &p) != 2)
		return false;
	*xid = (TransactionId) x;
	*pid = p;
	return true;
}

/*
 * Settle one temporary file left by another backend: if its transaction
 * committed but the backend died before renaming it, finish the swap; if
 * the transaction aborted or died, remove the file; if it is still in
 * progress, leave it.
 */
static void
resolve_temp(const char *dir, const char *fname, const char *name,
			 TransactionId xid, int pid)
{
	char	   *temp = psprintf("%s/%s", dir, fname);
	bool		committed;

	if (!TransactionIdIsNormal(xid) ||
		TransactionIdPrecedes(xid, TransamVariables->oldestClogXid))
		committed = false;
	else if (TransactionIdIsInProgress(xid))
		return;
	else
		committed = TransactionIdDidCommit(xid);
	if (committed)
	{
		char	   *final = psprintf("%s/%s%s", dir, name, SB_BUNDLE_SUFFIX);

		ereport(LOG,
				(errmsg("completing the swap of bundle \"%s\" committed by transaction %u",
						name, xid)));
		(void) durable_rename(temp, final, WARNING);
		pfree(final);
	}
	else if (unlink(temp) != 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", temp)));
	(void) pid;
	pfree(temp);
}

/*
 * Settle the temporary files of a bundle left behind by backends that
 * crashed: a committed build is swapped in, any other is removed.  Files
 * of transactions still running are left alone.
 */
void
SbResolveTemps(const char *name)
{
	char	   *dir = SbDatabaseDirectory(false);
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;

	if (d == NULL && errno == ENOENT)
		return;
	while ((de = ReadDir(d, dir)) != NULL)
	{
		TransactionId xid;
		int			pid;

		if (parse_temp_name(de->d_name, name, ".tmp", &xid, &pid))
		{
			if (!(pid == MyProcPid && TransactionIdIsCurrentTransactionId(xid)))
				resolve_temp(dir, de->d_name, name, xid, pid);
		}
		else if (parse_temp_name(de->d_name, name, ".progress", &xid, &pid) &&
				 kill(pid, 0) != 0 && errno == ESRCH)
			(void) unlink(psprintf("%s/%s", dir, de->d_name));
	}
	FreeDir(d);
	pfree(dir);
}

/* qsort comparator for C strings in a List. */
static int
name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * The names of the files in this database's bundle directory that end in
 * 'suffix' and are hidden (start with a dot) or not, without the suffix,
 * sorted.  An empty list if no bundle was built in this database yet.
 */
List *
SbListDirectory(const char *suffix, bool hidden)
{
	char	   *dir = SbDatabaseDirectory(false);
	size_t		slen = strlen(suffix);
	List	   *names = NIL;
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;

	if (d == NULL && errno == ENOENT)
		return NIL;
	while ((de = ReadDir(d, dir)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if ((de->d_name[0] == '.') == hidden && len > slen &&
			strcmp(de->d_name + len - slen, suffix) == 0)
			names = lappend(names, pnstrdup(de->d_name, len - slen));
	}
	FreeDir(d);
	list_sort(names, name_cmp);
	return names;
}
