/*-------------------------------------------------------------------------
 *
 * retire.c
 *	  Retiring replaced bundle files, so that readers never pay to free them.
 *
 * When the last process that has a deleted file open or mapped lets go of
 * it, the kernel frees the file's pages in the page cache, in that
 * process: about 0.4 ms per MB of a bundle that was read.  If a refresh
 * renamed its new file over the old one, that process would be a reader,
 * whose next statement after the refresh would stall for as long.
 *
 * So a swap first gives the old file a second, hidden name,
 * ".<bundle>.sb.<pid>.<n>.retired", and the rename leaves it linked there.
 * Readers hold a shared flock() on every bundle file they map, for as long
 * as they map it.  A sweep removes a retired file once it can take an
 * exclusive lock on it, that is once no reader maps it any more; the
 * sweeping process then frees the pages.  The backend that made the swap
 * sweeps the files it retired at its commit, at the commit of its later
 * transactions and at its exit; every build sweeps all retired files of
 * the database, which also clears those left by a crash.  A reader that
 * could not spare a descriptor to hold its lock is not protected and, at
 * worst, frees the pages itself.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/memutils.h"

#define SB_RETIRED_SUFFIX	".retired"

/* Files this backend retired that no sweep has removed yet */
static List *retired_files = NIL;	/* of paths, in TopMemoryContext */
static bool exit_sweep_registered = false;


/*
 * Open a bundle file to map it and lock it shared, which keeps sweeps
 * from removing it once it is retired; -1 (and errno) if it cannot be
 * opened.  *held says whether the caller must keep the descriptor (and
 * close it with SbCloseShared after unmapping); if no descriptor can be
 * spared, the caller closes it as soon as the file is mapped.
 */
int
SbOpenShared(const char *file, bool *held)
{
	int			fd;

	*held = AcquireExternalFD();
	/* O_NONBLOCK: opening a FIFO put in its place must not wait */
	fd = BasicOpenFile(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | PG_BINARY);
	if (fd < 0)
	{
		int			save_errno = errno;

		if (*held)
			ReleaseExternalFD();
		*held = false;
		errno = save_errno;
		return -1;
	}
	/* only a sweep holds it exclusively, and only while removing it */
	if (*held)
		(void) flock(fd, LOCK_SH | LOCK_NB);
	return fd;
}

/* Close a descriptor that SbOpenShared told its caller to keep. */
void
SbCloseShared(int fd)
{
	close(fd);
	ReleaseExternalFD();
}

/* Backend exit: a last chance to remove what this backend retired. */
static void
sweep_at_exit(int code, Datum arg)
{
	SbSweepOwnRetired();
}

/*
 * Give the bundle file 'final' a retired name before a swap replaces or
 * drops it.  With 'drop', the file is moved there (it leaves its path);
 * otherwise it is linked there, and the swap's rename then unlinks the old
 * name.  Returns false if the file could not be retired (it does not
 * exist, or the file system refused), in which case the swap goes on as
 * if there were no retiring at all.  Runs after commit: never errors.
 */
bool
SbRetireFile(const char *final, bool drop)
{
	static uint32 counter = 0;
	char		retired[MAXPGPATH];
	char	   *dir = pstrdup(final);
	const char *base = last_dir_separator(final);
	MemoryContext old;
	int			rc;

	base = base ? base + 1 : final;
	get_parent_directory(dir);
	rc = snprintf(retired, sizeof(retired), "%s/.%s.%d.%u%s", dir, base,
				  MyProcPid, ++counter, SB_RETIRED_SUFFIX);
	pfree(dir);
	if (rc >= (int) sizeof(retired))
		return false;			/* a sweep would not recognize the name */
	rc = drop ? rename(final, retired) : link(final, retired);
	if (rc != 0)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not retire file \"%s\" as \"%s\": %m",
							final, retired)));
		return false;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	retired_files = lappend(retired_files, pstrdup(retired));
	MemoryContextSwitchTo(old);
	if (!exit_sweep_registered)
	{
		before_shmem_exit(sweep_at_exit, (Datum) 0);
		exit_sweep_registered = true;
	}
	return true;
}

/*
 * Remove one retired file if no reader maps it: true if it is gone.  The
 * exclusive lock keeps readers that still hold the file from being
 * overlooked; the close after the unlink frees the file's pages here.
 */
static bool
sweep_one(const char *path)
{
	int			fd;
	bool		gone;

	fd = BasicOpenFile(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | PG_BINARY);
	if (fd < 0)
		return errno == ENOENT;
	gone = flock(fd, LOCK_EX | LOCK_NB) == 0;
	if (gone && unlink(path) != 0 && errno != ENOENT)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", path)));
		gone = false;
	}
	close(fd);
	return gone;
}

/*
 * Remove the files this backend retired that no reader maps any more.
 * Runs after commit and at exit, where an error would be fatal: it only
 * makes system calls and frees memory.
 */
void
SbSweepOwnRetired(void)
{
	ListCell   *lc;

	foreach(lc, retired_files)
	{
		char	   *path = lfirst(lc);

		if (sweep_one(path))
		{
			retired_files = foreach_delete_current(retired_files, lc);
			pfree(path);
		}
	}
}

/*
 * Remove every retired file of this database's bundles that no reader
 * maps any more, whoever retired it (a build's chance to clear files left
 * by backends that exited or crashed while readers still mapped them).
 */
void
SbSweepRetired(void)
{
	char	   *dir = SbDatabaseDirectory(false);
	ListCell   *lc;

	foreach(lc, SbListDirectory(SB_RETIRED_SUFFIX, true))
		(void) sweep_one(psprintf("%s/%s%s", dir, (char *) lfirst(lc),
								  SB_RETIRED_SUFFIX));
	pfree(dir);
}

/* Transaction callback: retry this backend's sweep at each commit. */
static void
retire_xact_callback(XactEvent event, void *arg)
{
	if (retired_files != NIL && event == XACT_EVENT_COMMIT)
		SbSweepOwnRetired();
}

/* Register the callback; called once from _PG_init. */
void
SbRetireInit(void)
{
	RegisterXactCallback(retire_xact_callback, NULL);
}
