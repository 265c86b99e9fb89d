/*-------------------------------------------------------------------------
 *
 * swap.c
 *	  Swapping a new bundle in at commit, and serializing builds.
 *
 * A build writes a temporary file next to the bundle and fsyncs it; its
 * name carries the building transaction's ID.  Before the commit record is
 * written, the directory is fsynced so the file survives a crash; once the
 * commit is durable, the file is renamed over the bundle (and the
 * directory fsynced again).  If the transaction or the subtransaction
 * that built it aborts, the file is removed.  A backend that dies between
 * its commit and the rename leaves a complete file behind, which the next
 * build or reader of the bundle renames into place because its
 * transaction committed (see SbResolveTemps); a file of a transaction that
 * never committed is removed instead.  Until the swap, this backend's
 * later statements in the transaction read the new file, and every other
 * backend keeps reading the old one.  Builds of one bundle take a
 * transaction-level lock that conflicts only with other builds of it, so
 * readers are never blocked.  The file a swap replaces or drops is first
 * given a retired name, so that its pages are freed by a sweep and not by
 * whichever reader lets go of it last (see retire.c).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <unistd.h>

#include "access/xact.h"
#include "common/hashfn.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "replication/message.h"
#include "storage/fd.h"
#include "storage/lock.h"
#include "utils/memutils.h"

/* Lock tag field that marks sharedbuf's locks among advisory locks. */
#define SB_LOCKTAG_MARK		0x5342

typedef struct SbPendingSwap
{
	char	   *temp;			/* the new, complete file; NULL to drop */
	char	   *final;			/* where it goes at commit */
	SubTransactionId subid;		/* subtransaction that built it */
} SbPendingSwap;

static List *pending_swaps = NIL;	/* in TopMemoryContext */

/* Bumped whenever the pending swaps change, so caches look again. */
uint64		sb_swap_generation = 0;

/* The lock tag that serializes builds of a bundle of this database. */
static void
bundle_locktag(LOCKTAG *tag, const char *name)
{
	uint64		h = hash_bytes_extended((const unsigned char *) name,
										(int) strlen(name), 0);

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (h >> 32), (uint32) h,
						 SB_LOCKTAG_MARK);
}

/*
 * Make this transaction's ID durable before a temporary file bears it.
 * A transaction that writes no WAL can die without a trace, and after
 * crash recovery its ID would be handed out again; a file named after it
 * could then be taken for the work of a later transaction that commits.
 * One flushed WAL record naming the ID prevents that.
 */
void
SbMakeXidDurable(const char *name)
{
	(void) GetTopTransactionId();
	XLogFlush(sb_LogLogicalMessage("sharedbuf", name, strlen(name), true));
}

/*
 * Take the transaction-level lock that serializes builds of a bundle of
 * this database.  It does not conflict with anything readers do.
 */
void
SbLockBundle(const char *name)
{
	LOCKTAG		tag;

	bundle_locktag(&tag, name);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * A reader's chance to settle files left by a crash: only if no build of
 * the bundle is running (never wait), holding the build lock briefly.
 */
void
SbResolveTempsIfIdle(const char *name)
{
	LOCKTAG		tag;

	bundle_locktag(&tag, name);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return;
	PG_TRY();
	{
		SbResolveTemps(name);
	}
	PG_FINALLY();
	{
		LockRelease(&tag, ExclusiveLock, true);
	}
	PG_END_TRY();
}

/* Remove a pending swap's temporary file and free the entry. */
static void
discard_swap(SbPendingSwap *s)
{
	if (s->temp && unlink(s->temp) != 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", s->temp)));
	if (s->temp)
		pfree(s->temp);
	pfree(s->final);
	pfree(s);
}

/*
 * Arrange for 'temp' to replace 'final' at commit, or with 'temp' NULL for
 * 'final' to be removed.  A second build (or drop) of the same bundle in
 * one transaction replaces the first one.
 */
void
SbRegisterPendingSwap(const char *name, const char *temp, const char *final)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	SbPendingSwap *s = palloc(sizeof(SbPendingSwap));
	ListCell   *lc;

	s->temp = temp ? pstrdup(temp) : NULL;
	s->final = pstrdup(final);
	s->subid = GetCurrentSubTransactionId();
	foreach(lc, pending_swaps)
	{
		SbPendingSwap *o = lfirst(lc);

		if (strcmp(o->final, final) == 0)
		{
			pending_swaps = foreach_delete_current(pending_swaps, lc);
			discard_swap(o);
		}
	}
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

	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		if (strcmp(s->final, final) == 0)
		{
			*temp = s->temp;
			return true;
		}
	}
	return false;
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
 * Rename every pending file into place once the commit is durable.  This
 * runs after the commit and must not fail: a failure leaves the file for
 * SbResolveTemps to settle, and only warns.
 */
static void
apply_swaps(void)
{
	ListCell   *lc;

	SbTestPause("before_rename");
	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		if (s->temp == NULL)
		{
			if (!SbRetireFile(s->final, true) &&
				unlink(s->final) != 0 && errno != ENOENT)
				ereport(WARNING,
						(errcode_for_file_access(),
						 errmsg("could not remove file \"%s\": %m", s->final)));
			continue;
		}
		/* keep the old file linked, for a sweep to remove (retire.c) */
		(void) SbRetireFile(s->final, false);
		/* a resolver may have completed the swap already: ENOENT is fine */
		if (rename(s->temp, s->final) != 0)
		{
			if (errno != ENOENT)
				ereport(WARNING,
						(errcode_for_file_access(),
						 errmsg("could not rename file \"%s\" to \"%s\": %m",
								s->temp, s->final)));
			continue;
		}
		(void) fsync_fname_ext(s->final, false, false, WARNING);
		{
			char	   *dir = pstrdup(s->final);

			get_parent_directory(dir);
			(void) fsync_fname_ext(dir, true, false, WARNING);
			pfree(dir);
		}
	}
	SbTestPause("after_rename");
	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		SbForgetReplacedMapping(s->final);
		if (s->temp)
			pfree(s->temp);
		pfree(s->final);
	}
	SbSweepOwnRetired();
	list_free_deep(pending_swaps);
	pending_swaps = NIL;
	sb_swap_generation++;
}

/* Discard the pending swaps made in 'subid' (or all, if Invalid). */
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
