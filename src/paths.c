/*-------------------------------------------------------------------------
 *
 * paths.c
 *	  Where bundle files live, and the names they may have.
 *
 * Bundles live in the directory named by sharedbuf.directory (relative to
 * the data directory unless absolute), in a subdirectory per database
 * named by the database's OID.  A bundle is named, never pathed: a name is
 * a lower-case identifier, so it cannot leave that directory.  The hidden
 * files of builds and drops in flight are named in settle.c.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <dirent.h>
#include <sys/stat.h>

#include "miscadmin.h"
#include "storage/fd.h"

#define SB_MAX_NAME		63

/* Is 'name' a plain lower-case identifier, as bundle names are? */
bool
SbIsBundleName(const char *name)
{
	size_t		len = strlen(name);
	bool		ok = len > 0 && len <= SB_MAX_NAME &&
		!(name[0] >= '0' && name[0] <= '9');

	for (size_t i = 0; ok && i < len; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '_';
	return ok;
}

/* Refuse any bundle name that is not a plain lower-case identifier. */
void
SbCheckBundleName(const char *name)
{
	if (!SbIsBundleName(name))
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
 * The directory of the bundles of database 'dboid' (of every database, if
 * InvalidOid); with 'create', make it (and the top directory) if needed.
 * WAL replay calls this too, so it uses nothing but the setting and the
 * data directory.
 */
char *
SbDirectoryOf(Oid dboid, bool create)
{
	const char *top = sb_directory_setting;
	char	   *topdir;
	char	   *dir;

	if (top == NULL || top[0] == '\0')
		top = "sharedbuf";
	topdir = is_absolute_path(top) ? pstrdup(top) : psprintf("%s/%s", DataDir, top);
	if (!OidIsValid(dboid))
		return topdir;
	dir = psprintf("%s/%u", topdir, dboid);
	if (create)
	{
		ensure_directory(topdir);
		ensure_directory(dir);
	}
	pfree(topdir);
	return dir;
}

/* The directory of this database's bundles; see SbDirectoryOf. */
char *
SbDatabaseDirectory(bool create)
{
	return SbDirectoryOf(MyDatabaseId, create);
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
