/*-------------------------------------------------------------------------
 *
 * swap.c
 *	  Swapping a new bundle in at commit, and serializing builds.
 *
 * A build writes a temporary file next to the bundle and fsyncs it.  The
 * file is renamed over the bundle just before the transaction commits (and
 * the directory fsynced), or removed if the transaction or the
 * subtransaction that built it aborts.  Until then, this backend's later
 * statements in the transaction read the new file, and every other
 * backend keeps reading the old one.  Builds of one bundle take a
 * transaction-level lock that conflicts only with other builds of it, so
 * readers are never blocked.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <unistd.h>

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/lock.h"
#include "utils/memutils.h"

/* Lock tag field that marks sharedbuf's locks among advisory locks. */
#define SB_LOCKTAG_MARK		0x5342

typedef struct SbPendingSwap
{
	char	   *temp;			/* the new, complete file */
	char	   *final;			/* where it goes at commit */
	SubTransactionId subid;		/* subtransaction that built it */
} SbPendingSwap;

static List *pending_swaps = NIL;	/* in TopMemoryContext */

/* Bumped whenever the pending swaps change, so caches look again. */
uint64		sb_swap_generation = 0;

/*
 * Take the transaction-level lock that serializes builds of a bundle of
 * this database.  It does not conflict with anything readers do.
 */
void
SbLockBundle(const char *name)
{
	LOCKTAG		tag;
	uint64		h = hash_bytes_extended((const unsigned char *) name,
										(int) strlen(name), 0);

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (h >> 32), (uint32) h,
						 SB_LOCKTAG_MARK);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* Remove a pending swap's temporary file and free the entry. */
static void
discard_swap(SbPendingSwap *s)
{
	if (unlink(s->temp) != 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", s->temp)));
	pfree(s->temp);
	pfree(s->final);
	pfree(s);
}

/*
 * Arrange for 'temp' to replace 'final' at commit.  A second build of the
 * same bundle in one transaction replaces the first one's file.
 */
void
SbRegisterPendingSwap(const char *name, const char *temp, const char *final)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	SbPendingSwap *s = palloc(sizeof(SbPendingSwap));
	ListCell   *lc;

	s->temp = pstrdup(temp);
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

/* The file a pending swap will put at 'final', or NULL. */
const char *
SbPendingPath(const char *final)
{
	ListCell   *lc;

	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		if (strcmp(s->final, final) == 0)
			return s->temp;
	}
	return NULL;
}

/* Rename every pending file into place, then fsync their directories. */
static void
apply_swaps(void)
{
	ListCell   *lc;

	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		if (durable_rename(s->temp, s->final, ERROR) != 0)
			elog(ERROR, "could not rename \"%s\"", s->temp);
	}
	foreach(lc, pending_swaps)
	{
		SbPendingSwap *s = lfirst(lc);

		pfree(s->temp);
		pfree(s->final);
	}
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

/* Transaction callback: swap at pre-commit, discard at abort. */
static void
xact_callback(XactEvent event, void *arg)
{
	if (pending_swaps == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
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
