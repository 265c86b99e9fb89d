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
 * after the bundle and the building backend's PID.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
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

/* A fresh temporary file name for building a bundle. */
char *
SbTempPath(const char *name)
{
	static uint32 counter = 0;
	char	   *dir = SbDatabaseDirectory(false);
	char	   *path;

	path = psprintf("%s/.%s.%d.%u.tmp", dir, name, MyProcPid, ++counter);
	pfree(dir);
	return path;
}

/*
 * Remove temporary files of a bundle left by backends that no longer run
 * (a crash during a build leaves one behind).
 */
void
SbRemoveStaleTemps(const char *name)
{
	char	   *dir = SbDatabaseDirectory(false);
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;
	size_t		nlen = strlen(name);

	while ((de = ReadDir(d, dir)) != NULL)
	{
		int			pid;
		char	   *path;

		if (de->d_name[0] != '.' || strncmp(de->d_name + 1, name, nlen) != 0 ||
			de->d_name[nlen + 1] != '.' ||
			sscanf(de->d_name + nlen + 2, "%d.", &pid) != 1 ||
			strcmp(de->d_name + strlen(de->d_name) - 4, ".tmp") != 0)
			continue;
		if (pid == MyProcPid || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		path = psprintf("%s/%s", dir, de->d_name);
		if (unlink(path) != 0 && errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", path)));
		pfree(path);
	}
	FreeDir(d);
	pfree(dir);
}
