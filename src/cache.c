/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  The per-backend cache of bundle mappings.
 *
 * A bundle file is mapped once per backend and reused by later statements.
 * The first use of a bundle in a statement checks, with one stat(), that
 * the file at its path is still the mapped one (same device and inode); a
 * refresh renames a new file over it, so a new inode means a new
 * generation, which is then mapped.  Later uses in the same statement
 * with the same snapshot, and every row and rescan, make no system call
 * (execution takes a new snapshot after planning; if a transaction ended
 * in between, the check runs again).  Scans pin the mapping they
 * use: an older generation stays mapped while any scan that may hand out
 * pointers into it is open, and is unmapped when the last pin goes.  Pins
 * are released by memory-context reset callbacks, so an error anywhere
 * releases them.  Each mapping keeps its file open with a shared lock,
 * which tells sweeps of retired files (retire.c) that it is in use.
 *
 * For a bundle of this database, the first use in a statement also asks
 * the catalog which generation the statement's snapshot sees committed
 * (catalog.c).  If the file is older, the build that made the committed
 * one has left its file to be settled (settle.c: its backend died after
 * the commit, or WAL replay has not settled it yet), so the reader
 * settles it; if that does not bring the committed generation, the
 * reader waits up to sharedbuf.stale_timeout and then fails, rather than
 * serve rows the catalog says are gone.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

struct SbMapping
{
	uint64		id;				/* unique in this backend */
	sb_bundle  *bundle;
	int			pins;
	bool		current;		/* the newest mapping of its path */
	dev_t		dev;
	ino_t		ino;
	int			fd;				/* open with a shared lock, or -1 */
	int64		generation;		/* from the file's header, or 0 */
	char		build_id[SB_BUILD_ID_LEN + 1];	/* likewise, or "" */
	bool		built_here;		/* by this cluster, for this bundle */
	SbMapping  *next_old;		/* in the list of replaced mappings */
};

/*
 * What a snapshot sees: one taken after a transaction that another sees
 * running has completed has a later xmax or fewer running XIDs.
 */
typedef struct SbSnapshotKey
{
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
	CommandId	curcid;
} SbSnapshotKey;

typedef struct SbCacheEntry
{
	char		path[MAXPGPATH];	/* hash key */
	char	   *bundle;			/* name of a bundle of this database, or NULL */
	SbMapping  *mapping;
	LocalTransactionId checked_lxid;	/* statement of the last stat() */
	TimestampTz checked_ts;
	uint64		checked_swaps;
	SbSnapshotKey checked_snapshot; /* the snapshot it was checked with */
	bool		vouched;		/* the catalog named the mapped generation */
} SbCacheEntry;

static HTAB *sb_cache = NULL;
static uint64 last_mapping_id = 0;
static SbMapping *sb_old_mappings = NULL;
extern uint64 sb_swap_generation;

/* Create the cache on first use. */
static void
init_cache(void)
{
	HASHCTL		ctl;

	ctl.keysize = MAXPGPATH;
	ctl.entrysize = sizeof(SbCacheEntry);
	sb_cache = hash_create("sharedbuf mappings", 16, &ctl,
						   HASH_ELEM | HASH_STRINGS);
}

/* Unmap and free a mapping, and let go of its file. */
static void
free_mapping(SbMapping *m)
{
	sb_close(m->bundle);
	if (m->fd >= 0)
		SbCloseShared(m->fd);
	pfree(m);
}

/* A replaced mapping is no longer current: free it now or at its last unpin. */
static void
retire_mapping(SbMapping *m)
{
	m->current = false;
	if (m->pins == 0)
		free_mapping(m);
	else
	{
		m->next_old = sb_old_mappings;
		sb_old_mappings = m;
	}
}

/* Drop a replaced mapping from the list of old ones and free it. */
static void
forget_old_mapping(SbMapping *m)
{
	for (SbMapping **p = &sb_old_mappings; *p; p = &(*p)->next_old)
	{
		if (*p == m)
		{
			*p = m->next_old;
			break;
		}
	}
	free_mapping(m);
}

/*
 * The key of the active snapshot.  A statement is planned with one
 * snapshot and executed with another, taken later: a check made while
 * planning does not hold for the execution if a transaction completed in
 * between.
 */
static void
snapshot_key(SbSnapshotKey *key)
{
	memset(key, 0, sizeof(*key));
	if (ActiveSnapshotSet())
	{
		Snapshot	snap = GetActiveSnapshot();

		key->xmin = snap->xmin;
		key->xmax = snap->xmax;
		key->xcnt = snap->xcnt;
		key->subxcnt = snap->subxcnt;
		key->curcid = snap->curcid;
	}
}

/*
 * Does the last check of this entry still hold?  A generation the catalog
 * vouched for holds while the active snapshot sees what the checking one
 * saw: no build or drop can have become visible since, so neither stat()
 * nor the catalog need asking again (a read-only workload keeps one
 * snapshot key across statements and transactions).  That needs a fresh
 * snapshot per statement: under REPEATABLE READ each statement still
 * reads the newest generation, so it looks again, as it does for a file
 * the catalog does not know.
 */
static bool
checked_this_statement(const SbCacheEntry *e)
{
	SbSnapshotKey key;

	snapshot_key(&key);
	if (e->mapping == NULL || e->checked_swaps != sb_swap_generation ||
		memcmp(&e->checked_snapshot, &key, sizeof(key)) != 0)
		return false;
	if (e->vouched && TransactionIdIsValid(key.xmax) && !IsolationUsesXactSnapshot())
		return true;
	return e->checked_lxid == SB_MY_LOCAL_XID &&
		e->checked_ts == GetCurrentStatementStartTimestamp();
}

/* Metadata 'key' of a bundle as a decimal number; 0 if it has none. */
int64
SbMetaInt64(const sb_bundle *b, const char *key)
{
	size_t		len;
	const char *v = sb_meta_get(b, key, &len);
	char		buf[32];

	if (v == NULL || len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return strtoi64(buf, NULL, 10);
}

/* Does metadata 'key' of the bundle hold exactly 'value'? */
static bool
meta_is(const sb_bundle *b, const char *key, const char *value)
{
	size_t		len;
	const char *v = sb_meta_get(b, key, &len);

	return v && value && len == strlen(value) && memcmp(v, value, len) == 0;
}

/*
 * Copy the generation and build id recorded in a bundle's header, and
 * whether this database built it under the name it is read by.
 */
static void
read_identity(const sb_bundle *b, SbMapping *m, const char *bundle)
{
	size_t		len;
	const char *v;

	m->built_here = bundle && meta_is(b, "bundle", bundle) &&
		meta_is(b, "origin", SbOrigin());
	m->generation = SbMetaInt64(b, "generation");
	v = sb_meta_get(b, "build_id", &len);
	len = (v && len <= SB_BUILD_ID_LEN) ? len : 0;
	memcpy(m->build_id, v ? v : "", len);
	m->build_id[len] = '\0';
}

/* Map the file at 'file' for the entry, replacing an older generation. */
static void
map_new_generation(SbCacheEntry *e, const char *file, const struct stat *st,
				   const char *label)
{
	sb_bundle  *b;
	sb_error	err;
	SbMapping  *m = MemoryContextAllocZero(TopMemoryContext, sizeof(SbMapping));
	bool		held;
	int			fd = SbOpenShared(file, &held);
	sb_status	status;

	if (fd < 0)
	{
		/* reported as the library reports a failed open */
		err.code = SB_ERR_IO;
		err.sys_errno = errno;
		snprintf(err.detail, sizeof(err.detail), "could not open file \"%s\"", file);
		pfree(m);
		SbReportError(&err, label);
	}
	status = sb_open_fd(fd, file, &b, &err);
	if (!held)
		close(fd);
	if (status != SB_OK)
	{
		if (held)
			SbCloseShared(fd);
		pfree(m);
		SbReportError(&err, label);
	}
	if (sb_prewarm_setting != 0)
		(void) sb_prewarm(b, (unsigned) sb_prewarm_setting);
	m->id = ++last_mapping_id;
	m->bundle = b;
	m->fd = held ? fd : -1;
	m->current = true;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	read_identity(b, m, e->bundle);
	if (e->mapping)
		retire_mapping(e->mapping);
	e->mapping = m;
}

/* Is 'm' a mapping of the file 'st' describes? */
static inline bool
maps_file(const SbMapping *m, const struct stat *st)
{
	return m->dev == st->st_dev && m->ino == st->st_ino;
}

/* Report that a bundle (or the file a table reads) does not exist. */
static void
report_missing(const char *file, const char *label)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("bundle \"%s\" does not exist", label),
			 errdetail("File \"%s\" does not exist.", file),
			 errhint("Build it with sharedbuf_build() or sharedbuf_create().")));
}

/*
 * Make the entry map the file now at 'file', if there is one; if there is
 * none, let go of the mapping, so that a sweep can remove its file.
 */
static void
map_current(SbCacheEntry *e, const char *file, const char *label)
{
	struct stat st;

	if (stat(file, &st) != 0)
	{
		if (errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\" of bundle \"%s\": %m",
							file, label)));
		if (e->mapping != NULL)
			retire_mapping(e->mapping);
		e->mapping = NULL;
		return;
	}
	if (e->mapping == NULL || !maps_file(e->mapping, &st))
		map_new_generation(e, file, &st, label);
}

/* Is the mapped file the generation the catalog entry names? */
static bool
is_committed_file(const SbMapping *m, const SbCatalogEntry *ce)
{
	if (m == NULL)
		return false;
	if (ce->build_id[0] == '\0')	/* adopted from a version without ids */
		return m->generation >= ce->generation;
	return strcmp(m->build_id, ce->build_id) == 0;
}

/* Fail: the catalog has the bundle, but this server has no file of it. */
static void
report_unbuilt(const SbCacheEntry *e, const SbCatalogEntry *ce)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("bundle \"%s\" does not exist", e->bundle),
			 errdetail("The catalog has generation " INT64_FORMAT " of it, but this server has no file of it.",
					   ce->generation),
			 errhint("After a restore from a dump, rebuild it with sharedbuf_rebuild_all(). Bundles reach standbys only with sharedbuf in shared_preload_libraries on the primary and the standby.")));
}

/* Fail: the file is older than the committed generation. */
static void
report_stale(const SbCacheEntry *e, const SbCatalogEntry *ce)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("bundle \"%s\" is not up to date on this server", e->bundle),
			 errdetail("Its file has generation " INT64_FORMAT ", but generation " INT64_FORMAT " is committed.",
					   e->mapping->generation, ce->generation),
			 errhint("Bundles reach standbys only with sharedbuf in shared_preload_libraries on the primary and the standby.")));
}

/*
 * Make the entry map the generation of its bundle that the statement's
 * snapshot sees committed (or a newer one), settling a build left to be
 * settled and waiting up to sharedbuf.stale_timeout for it.  Returns
 * whether the catalog vouched for the file (false: it has no row).
 */
static bool
check_committed(SbCacheEntry *e, const char *label)
{
	SbCatalogEntry ce;
	TimestampTz start = 0;

	for (;;)
	{
		if (!SbCatalogLookup(e->bundle, false, &ce))
		{
			/* a file built here whose row is gone: dropped */
			if (e->mapping == NULL || e->mapping->built_here)
				report_missing(e->path, label);
			return false;		/* built elsewhere, by hand, or by an older version */
		}
		if (is_committed_file(e->mapping, &ce))
			return true;
		if (SbSettleBundle(MyDatabaseId, e->bundle, SB_SETTLE_READER))
		{
			map_current(e, e->path, label);
			continue;
		}
		if (e->mapping && e->mapping->generation > ce.generation)
			return true;		/* committed after this snapshot was taken */
		if (e->mapping == NULL)
			report_unbuilt(e, &ce);
		if (start == 0)
			start = GetCurrentTimestamp();
		else if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
											sb_stale_timeout_setting))
			report_stale(e, &ce);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		map_current(e, e->path, label);
	}
}

/* Make sure the entry maps the file now at its path. */
static void
refresh_entry(SbCacheEntry *e, const char *label)
{
	const char *pending = NULL;
	bool		changing = SbPendingPath(e->path, &pending);

	if (changing && pending == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("bundle \"%s\" does not exist", label),
				 errdetail("It was dropped in this transaction.")));
	map_current(e, changing ? pending : e->path, label);
	e->vouched = false;
	if (e->bundle && !changing && SbCatalogPresent())
		e->vouched = check_committed(e, label);
	else if (e->mapping == NULL)
		report_missing(changing ? pending : e->path, label);
	e->checked_lxid = SB_MY_LOCAL_XID;
	e->checked_ts = GetCurrentStatementStartTimestamp();
	e->checked_swaps = sb_swap_generation;
	snapshot_key(&e->checked_snapshot);
}

/* The bundle of this database at 'path' (with name 'label'), or NULL. */
static char *
bundle_at(const char *path, const char *label)
{
	char	   *own;
	bool		is_bundle;

	if (!SbIsBundleName(label))
		return NULL;
	own = SbBundlePath(label);
	is_bundle = strcmp(own, path) == 0;
	pfree(own);
	return is_bundle ? MemoryContextStrdup(TopMemoryContext, label) : NULL;
}

/*
 * After a swap of the bundle at 'path' commits: if this backend maps a
 * file that is no longer there, let go of it now (or at its last unpin)
 * rather than at the bundle's next use, so that a sweep can remove it.
 * Runs after commit: never errors.
 */
static void
forget_replaced_mapping(const char *path)
{
	SbCacheEntry *e;
	struct stat st;

	if (sb_cache == NULL || strlen(path) >= MAXPGPATH ||
		(e = hash_search(sb_cache, path, HASH_FIND, NULL)) == NULL ||
		e->mapping == NULL)
		return;
	if (stat(path, &st) == 0 && maps_file(e->mapping, &st))
		return;
	retire_mapping(e->mapping);
	e->mapping = NULL;
}

/* Ask the swap code to report swaps; called once from _PG_init. */
void
SbCacheInit(void)
{
	SbOnSwap(forget_replaced_mapping);
}

/* Memory-context callback: release a pin. */
static void
unpin_callback(void *arg)
{
	SbUnpinBundle((SbMappingRef *) arg);
}

/*
 * Pin the current generation of the bundle at 'path' for as long as
 * 'cxt' lives (or until SbUnpinBundle); 'label' names it in messages.
 */
SbMappingRef *
SbPinBundle(const char *path, const char *label, MemoryContext cxt)
{
	SbCacheEntry *e;
	SbMappingRef *ref;
	bool		found;

	if (strlen(path) >= MAXPGPATH)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("bundle path is too long: \"%s\"", path)));
	if (sb_cache == NULL)
		init_cache();
	e = hash_search(sb_cache, path, HASH_ENTER, &found);
	if (!found)
	{
		e->mapping = NULL;
		e->vouched = false;
		e->bundle = bundle_at(path, label);
		/* the first use in this backend settles what a crash left */
		if (e->bundle)
			(void) SbSettleBundle(MyDatabaseId, e->bundle, SB_SETTLE_READER);
	}
	if (!checked_this_statement(e))
		refresh_entry(e, label);

	ref = MemoryContextAllocZero(cxt, sizeof(SbMappingRef));
	ref->mapping = e->mapping;
	ref->bundle = e->mapping->bundle;
	ref->dev = e->mapping->dev;
	ref->ino = e->mapping->ino;
	ref->mapping_id = e->mapping->id;
	ref->mapping->pins++;
	ref->callback.func = unpin_callback;
	ref->callback.arg = ref;
	MemoryContextRegisterResetCallback(cxt, &ref->callback);
	return ref;
}

/* Release a pin now; safe to call twice. */
void
SbUnpinBundle(SbMappingRef *ref)
{
	SbMapping  *m = ref->mapping;

	if (m == NULL)
		return;
	ref->mapping = NULL;
	ref->bundle = NULL;
	if (--m->pins == 0 && !m->current)
		forget_old_mapping(m);
}

PG_FUNCTION_INFO_V1(sharedbuf_mappings);

/* Add one mapping's row to the result of sharedbuf_mappings(). */
static void
report_mapping(ReturnSetInfo *rsinfo, const char *path, const SbMapping *m)
{
	Datum		values[4];
	bool		nulls[4] = {false};

	values[0] = CStringGetTextDatum(path);
	values[1] = Int64GetDatum((int64) sb_bundle_info(m->bundle)->file_size);
	values[2] = Int32GetDatum(m->pins);
	values[3] = BoolGetDatum(m->current);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * sharedbuf_mappings()
 *		The bundle files this backend has mapped: current generations and
 *		older ones still pinned by open scans.
 */
Datum
sharedbuf_mappings(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	SbCacheEntry *e;

	InitMaterializedSRF(fcinfo, 0);
	if (sb_cache == NULL)
		return (Datum) 0;
	hash_seq_init(&seq, sb_cache);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->mapping)
			report_mapping(rsinfo, e->path, e->mapping);
	for (SbMapping *m = sb_old_mappings; m; m = m->next_old)
		report_mapping(rsinfo, "(replaced)", m);
	return (Datum) 0;
}
