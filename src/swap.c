/*-------------------------------------------------------------------------
 *
 * swap.c
 *	  Swapping a new bundle in at commit, and serializing builds.
 *
 * A build writes its bundle to a file of its own next to the bundle's,
 * and a drop leaves a marker there (named in settle.c after the
 * (sub)transaction that made them).  Before the commit record is written,
 * the directory is fsynced so those files survive a crash; once the commit
 * is durable, this backend settles the bundle (settle.c): the new file is
 * renamed over the bundle's, or the bundle's file removed, and the
 * directory fsynced again.  If the transaction or the subtransaction that
 * made the file aborts, the file is removed.  A backend that dies between
 * its commit and settling leaves its file behind for WAL replay or the
 * next reader to settle.  Until then, this backend's later statements in
 * the transaction read the new file, and every other backend keeps reading
 * the old one.  Builds and drops of one bundle hold its lock (catalog.c),
 * which readers never take.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

typedef struct SbPendingSwap
{
	char	   *name;			/* the bundle */
	char	   *file;			/* the new, complete file, or a drop's marker */
	char	   *final;			/* the bundle's file */
	bool		drop;
	SubTransactionId subid;		/* subtransaction that made it */
} SbPendingSwap;

static List *pending_swaps = NIL;	/* in TopMemoryContext */

/* Bumped whenever the pending swaps change, so caches look again. */
uint64		sb_swap_generation = 0;

/* Called with the file of each bundle swapped at commit; see SbOnSwap. */
static void (*swap_callback) (const char *final) = NULL;

/*
 * Have 'callback' called with the file of each bundle this backend swaps,
 * right after the swap (the mapping cache lets go of the replaced file).
 * The callback runs after commit and must not fail.
 */
void
SbOnSwap(void (*callback) (const char *final))
{
	swap_callback = callback;
}

/* Free a pending swap. */
static void
free_swap(SbPendingSwap *s)
{
	pfree(s->name);
	pfree(s->file);
	pfree(s->final);
	pfree(s);
}

/* Remove a pending swap's file and free the entry. */
static void
discard_swap(SbPendingSwap *s)
{
	if (unlink(s->file) != 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", s->file)));
	free_swap(s);
}

/*
 * Arrange for 'file' to replace the file 'final' of bundle 'name' at
 * commit, or, with 'drop', for 'final' to be removed ('file' is then the
 * drop's marker).  A later build (or drop) of the same bundle in the
 * transaction shadows an earlier one, which comes back if the later one's
 * subtransaction aborts; at commit, settling picks the last.
 */
void
SbRegisterPendingSwap(const char *name, const char *file, const char *final,
					  bool drop)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	SbPendingSwap *s = palloc(sizeof(SbPendingSwap));

	s->name = pstrdup(name);
	s->file = pstrdup(file);
	s->final = pstrdup(final);
	s->drop = drop;
	s->subid = GetCurrentSubTransactionId();
	pending_swaps = lappend(pending_swaps, s);
	MemoryContextSwitchTo(old);
	sb_swap_generation++;
}

/*
 * Does this transaction replace or drop the bundle at 'final'?  If so,
 * *temp is the file that will replace it, or NULL if it will be dropped.
 */
bool
SbPendingPath(const char *final, const char **temp)
{
	ListCell   *lc;
	bool		found = false;

	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		if (strcmp(s->final, final) == 0)
		{
			*temp = s->drop ? NULL : s->file;
			found = true;
		}
	}
	return found;
}

/* Make the directory entries of the pending files durable before commit. */
static void
sync_pending_files(void)
{
	ListCell   *lc;

	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);
		char	   *dir = pstrdup(s->final);

		get_parent_directory(dir);
		fsync_fname(dir, true);
		pfree(dir);
	}
}

/*
 * Settle every bundle this transaction built or dropped, once the commit
 * is durable, and log that for replay.  This runs after the commit and
 * must not fail: what cannot be done is left for later settling, with a
 * warning.
 */
static void
apply_swaps(void)
{
	ListCell   *lc;

	SbTestPause("before_rename");
	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		(void) SbSettleBundle(MyDatabaseId, s->name, SB_SETTLE_COMMIT);
		SbLogInstall(s->name);
	}
	SbTestPause("after_rename");
	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		if (swap_callback)
			swap_callback(s->final);
		free_swap(s);
	}
	SbSweepOwnRetired();
	list_free(pending_swaps);
	pending_swaps = NIL;
	sb_swap_generation++;
}

/*
 * Discard the pending swaps made in 'subid' (or all, if Invalid).  The
 * abort is in the WAL already; an INSTALL record has replay settle the
 * bundle, which removes its copy of the discarded file.
 */
static void
discard_swaps(SubTransactionId subid)
{
	ListCell   *lc;

	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		if (subid == InvalidSubTransactionId || s->subid == subid)
		{
			pending_swaps = foreach_delete_current(pending_swaps, lc);
			SbLogInstall(s->name);
			discard_swap(s);
		}
	}
	sb_swap_generation++;
}

/* Transaction callback: sync at pre-commit, swap at commit, discard at abort. */
static void
xact_callback(XactEvent event, void *arg)
{
	if (pending_swaps == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			sync_pending_files();
			SbTestPause("pre_commit");
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			apply_swaps();
			break;
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot prepare a transaction that built a bundle")));
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			discard_swaps(InvalidSubTransactionId);
			break;
		default:
			break;
	}
}

/* Subtransaction callback: discard at abort, pass up at commit. */
static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid,
				 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event == SUBXACT_EVENT_ABORT_SUB)
		discard_swaps(mySubid);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, pending_swaps)
		{
			SbPendingSwap *s = lfirst(lc);

			if (s->subid == mySubid)
				s->subid = parentSubid;
		}
	}
}

/* Register the callbacks; called once from _PG_init. */
void
SbSwapInit(void)
{
	RegisterXactCallback(xact_callback, NULL);
	RegisterSubXactCallback(subxact_callback, NULL);
}
