/*-------------------------------------------------------------------------
 *
 * foldworker.c
 *	  Folding a following bundle's delta in a background worker.
 *
 * A statement on a followed table that leaves the following bundle's
 * delta with sharedbuf.follow_fold_threshold rows or more (as the
 * cumulative statistics count them, so the check costs no scan) asks for
 * a fold; when its transaction commits, a dynamic background worker
 * starts, counts the delta exactly and folds it in a transaction of its
 * own (writable.c), as the foreign table's owner, and checks again each
 * second until the delta stays under the threshold.  The fold waits only
 * for the writers of the current generation, and writers go on in the
 * next while it builds, so neither writers nor readers wait for the
 * build.  A worker does not need the library preloaded; a transaction
 * that cannot start one logs why, and a later one asks again.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/table.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

/* Lock tag field that marks a fold worker's lock among advisory locks. */
#define SB_FOLD_LOCK_MARK	0x5346
#define SB_FOLD_ROUNDS		20	/* checks a worker makes at most */
#define SB_FOLD_IDLE_CHECKS 3	/* ... and in a row that find no fold due */

/* A worker's assignment, in its bgw_extra. */
typedef struct SbFoldRequest
{
	Oid			dboid;
	Oid			roleid;			/* the foreign table's owner */
	Oid			ftrelid;
	int			threshold;		/* the requesting session's setting */
} SbFoldRequest;

PGDLLEXPORT void sharedbuf_fold_worker(Datum main_arg);

static List *fold_requests = NIL;	/* SbFoldRequest *, this transaction's */
static bool callback_registered = false;
static TimestampTz last_request = 0;

/* Start a worker for a request. */
static void
start_worker(const SbFoldRequest *req)
{
	BackgroundWorker w = {0};

	snprintf(w.bgw_name, sizeof(w.bgw_name), "sharedbuf fold of relation %u", req->ftrelid);
	snprintf(w.bgw_type, sizeof(w.bgw_type), "sharedbuf fold");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, sizeof(w.bgw_library_name), "sharedbuf");
	snprintf(w.bgw_function_name, sizeof(w.bgw_function_name), "sharedbuf_fold_worker");
	memcpy(w.bgw_extra, req, sizeof(*req));
	if (!RegisterDynamicBackgroundWorker(&w, NULL))
		ereport(LOG,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a worker to fold the delta of foreign table \"%s\"",
						get_rel_name(req->ftrelid)),
				 errhint("Raise max_worker_processes, or fold with sharedbuf_fold().")));
}

/* At commit, start the workers this transaction asked for. */
static void
fold_at_commit(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event == XACT_EVENT_PRE_COMMIT)
		foreach(lc, fold_requests)
			start_worker(lfirst(lc));
	if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PARALLEL_PRE_COMMIT &&
		event != XACT_EVENT_PRE_PREPARE)
		fold_requests = NIL;	/* freed with the transaction's memory */
}

/*
 * After a write to the delta 'd' of following foreign table 'ftrel': past
 * the threshold, ask for a fold when the transaction commits, at most
 * once a second per session.
 */
void
SbFollowFoldIfPast(Relation ftrel, const SbDelta *d)
{
	PgStat_StatTabEntry *st;
	SbFoldRequest *req;
	TimestampTz now;
	MemoryContext old;

	if (sb_follow_fold_threshold_setting <= 0)
		return;
	st = pgstat_fetch_stat_tabentry(d->relid);
	if (st == NULL || st->SB_STAT_LIVE_TUPLES < sb_follow_fold_threshold_setting)
		return;
	now = GetCurrentTimestamp();
	if (!TimestampDifferenceExceeds(last_request, now, 1000))
		return;
	last_request = now;
	if (!callback_registered)
	{
		RegisterXactCallback(fold_at_commit, NULL);
		callback_registered = true;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	req = palloc0(sizeof(SbFoldRequest));
	req->dboid = MyDatabaseId;
	req->roleid = ftrel->rd_rel->relowner;
	req->ftrelid = RelationGetRelid(ftrel);
	req->threshold = sb_follow_fold_threshold_setting;
	fold_requests = lappend(fold_requests, req);
	MemoryContextSwitchTo(old);
}

/*
 * Fold a following table's delta if it still has 'threshold' rows;
 * whether it did.
 */
static bool
fold_if_past(Oid ftrelid, int threshold)
{
	Relation	rel;
	SbTableOptions *opts;
	SbDelta    *d;
	SbMappingRef *ref;
	Datum		keys,
				rows;
	SbBuildResult result = {0};
	bool		due = false;

	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(ftrelid)))
		return false;
	opts = SbOpenTable(ftrelid, &rel);
	d = opts->bundle ? SbDeltaFor(rel, opts->bundle) : NULL;
	if (d != NULL)
	{
		ref = SbPinBundle(opts->path, opts->label, CurrentMemoryContext);
		SbDeltaCount(d, SbFoldedThrough(ref->bundle), &keys, &rows);
		SbUnpinBundle(ref);
		due = DatumGetInt64(keys) + DatumGetInt64(rows) >= threshold;
	}
	if (due)
	{
		SbFoldTable(rel, opts, d, &result);
		ereport(DEBUG1,
				(errmsg_internal("sharedbuf: a worker folded the delta of bundle \"%s\" (%lld rows)",
								 opts->bundle, (long long) result.rows)));
	}
	table_close(rel, NoLock);
	return due;
}

/*
 * sharedbuf_fold_worker
 *		A background worker's main function: fold one bundle's delta,
 *		unless another worker is folding it.  Sessions ask at most once a
 *		second, and not while a worker holds the lock, so the worker
 *		checks again each second after its folds, until three checks in a
 *		row find the delta under the threshold.
 */
void
sharedbuf_fold_worker(Datum main_arg)
{
	SbFoldRequest req;
	LOCKTAG		tag;
	bool		locked;

	memcpy(&req, MyBgworkerEntry->bgw_extra, sizeof(req));
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(req.dboid, req.roleid, 0);
	pgstat_report_activity(STATE_RUNNING, "sharedbuf fold");
	SET_LOCKTAG_ADVISORY(tag, req.dboid, req.ftrelid, 0, SB_FOLD_LOCK_MARK);
	StartTransactionCommand();
	/* a session lock, held until the worker exits */
	locked = LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
	CommitTransactionCommand();
	for (int i = 0, idle = 0; locked && i < SB_FOLD_ROUNDS && idle < SB_FOLD_IDLE_CHECKS; i++)
	{
		bool		did;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		did = fold_if_past(req.ftrelid, req.threshold);
		PopActiveSnapshot();
		CommitTransactionCommand();
		idle = did ? 0 : idle + 1;
		if (!did)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
