/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  The per-backend cache of bundle mappings.
 *
 * A bundle file is mapped once per backend and reused by later statements.
 * The first use of a bundle in a statement checks, with one stat(), that
 * the file at its path is still the mapped one (same device and inode); a
 * refresh renames a new file over it, so a new inode means a new
 * generation, which is then mapped.  Later uses in the same statement, and
 * every row and rescan, make no system call.  Scans pin the mapping they
 * use: an older generation stays mapped while any scan that may hand out
 * pointers into it is open, and is unmapped when the last pin goes.  Pins
 * are released by memory-context reset callbacks, so an error anywhere
 * releases them.  Each mapping keeps its file open with a shared lock,
 * which tells sweeps of retired files (retire.c) that it is in use.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
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
	SbMapping  *next_old;		/* in the list of replaced mappings */
};

typedef struct SbCacheEntry
{
	char		path[MAXPGPATH];	/* hash key */
	SbMapping  *mapping;
	LocalTransactionId checked_lxid;	/* statement of the last stat() */
	TimestampTz checked_ts;
	uint64		checked_swaps;
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

/* Has this entry been checked in the current statement? */
static bool
checked_this_statement(const SbCacheEntry *e)
{
	return e->mapping != NULL &&
		e->checked_lxid == SB_MY_LOCAL_XID &&
		e->checked_ts == GetCurrentStatementStartTimestamp() &&
		e->checked_swaps == sb_swap_generation;
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

/* Make sure the entry maps the file now at its path. */
static void
refresh_entry(SbCacheEntry *e, const char *label)
{
	const char *pending = NULL;
	bool		changing = SbPendingPath(e->path, &pending);
	const char *file = changing ? pending : e->path;
	struct stat st;

	if (file == NULL)			/* dropped earlier in this transaction */
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("bundle \"%s\" does not exist", label),
				 errdetail("It was dropped in this transaction.")));
	if (stat(file, &st) != 0)
	{
		if (errno == ENOENT && e->mapping != NULL)
		{
			/* dropped: let go of the file, so that a sweep can remove it */
			retire_mapping(e->mapping);
			e->mapping = NULL;
			errno = ENOENT;
		}
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("bundle \"%s\" does not exist", label),
					 errdetail("File \"%s\" does not exist.", file),
					 errhint("Build it with sharedbuf_build() or sharedbuf_create().")));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\" of bundle \"%s\": %m",
						file, label)));
	}
	if (e->mapping == NULL || !maps_file(e->mapping, &st))
		map_new_generation(e, file, &st, label);
	e->checked_lxid = SB_MY_LOCAL_XID;
	e->checked_ts = GetCurrentStatementStartTimestamp();
	e->checked_swaps = sb_swap_generation;
}

/*
 * The first time this backend maps a bundle of this database, settle
 * files a crashed build may have left next to it.
 */
static void
settle_crashed_builds(const char *path, const char *label)
{
	char	   *dir = SbDatabaseDirectory(false);
	size_t		dlen = strlen(dir);

	if (strncmp(path, dir, dlen) == 0 && path[dlen] == '/' &&
		strcmp(path + dlen + 1 + strlen(label), SB_BUNDLE_SUFFIX) == 0 &&
		strncmp(path + dlen + 1, label, strlen(label)) == 0)
		SbResolveTempsIfIdle(label);
	pfree(dir);
}

/*
 * After a swap of the bundle at 'path' commits: if this backend maps a
 * file that is no longer there, let go of it now (or at its last unpin)
 * rather than at the bundle's next use, so that a sweep can remove it.
 * Runs after commit: never errors.
 */
void
SbForgetReplacedMapping(const char *path)
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
		settle_crashed_builds(path, label);
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
	values[1] = Int64GetDatum((int64) m->bundle->size);
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
