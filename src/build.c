/*-------------------------------------------------------------------------
 *
 * build.c
 *	  Building a bundle from a query: SPI into the streaming writer.
 *
 * The query runs through SPI with the caller's privileges, read-only, and
 * its rows stream through a DestReceiver straight into the format
 * library's writer: nothing is materialized, and the writer's memory
 * (index sort and deduplication) is bounded by maintenance_work_mem.  The
 * new file is complete and fsynced (and, when builds go to the WAL,
 * logged: wal.c) when the build returns; swap.c puts it in place at
 * commit.  The build records the new generation in the catalog in the same
 * transaction (catalog.c).  The writer, its files and descriptors belong
 * to a memory context of the (sub)transaction, whose reset callback
 * removes an unfinished file if anything fails.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <fcntl.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/plancache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

/* State of a build, as a DestReceiver for the query's rows. */
typedef struct SbBuildState
{
	DestReceiver pub;
	const char *name;
	const char *keyspec;
	bool		approximate;
	char	   *temp;
	char	   *dir;
	XLogRecPtr	begin;			/* where the build's start was logged */
	int64		generation;
	char		build_id[SB_BUILD_ID_LEN + 1];
	sb_writer  *writer;
	sb_bundle  *base;			/* a fold's merge: the file it copies */
	int64		merged;			/* rows merges replaced, this one's too */
	int			natts;
	SbTypeInfo *types;
	FmgrInfo   *sendfns;
	uint8	   *keypos;			/* per column: key position, or 0 */
	SbKeyHash  *keyhash;		/* per column: how a hashed key is hashed */
	FmgrInfo   *hashfns;		/* per column: a hashed key's hash function */
	MemoryContext row_cxt;
	MemoryContextCallback cleanup;
	SbBuildResult *result;
	MemoryContext caller_cxt;	/* where the result lives */
	MemoryContext build_cxt;	/* the build's own, for what outlives SPI */
	char	   *progress;		/* progress file, for sharedbuf_progress() */
	int			progress_fd;
	TimestampTz started;
	TimestampTz reported;
} SbBuildState;

/*
 * Memory-context callback: free the writer, removing an unfinished file,
 * and the progress file.
 */
static void
free_writer(void *arg)
{
	SbBuildState *bs = arg;

	if (bs->writer)
		sb_writer_free(bs->writer);
	bs->writer = NULL;
	if (bs->progress_fd >= 0)
		close(bs->progress_fd);
	bs->progress_fd = -1;
	if (bs->progress)
		(void) unlink(bs->progress);
	bs->progress = NULL;
}

/* Write the build's progress: "bundle pid rows bytes start", space-padded. */
static void
report_progress(SbBuildState *bs)
{
	char		line[160];
	int			n;

	if (bs->progress_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %d " UINT64_FORMAT " " UINT64_FORMAT " " INT64_FORMAT,
				 bs->name, MyProcPid,
				 bs->writer ? sb_writer_rows(bs->writer) : 0,
				 bs->writer ? sb_writer_bytes(bs->writer) : 0,
				 (int64) bs->started);
	memset(line + n, ' ', sizeof(line) - n - 1);
	line[sizeof(line) - 1] = '\n';
	if (pwrite(bs->progress_fd, line, sizeof(line), 0) != sizeof(line))
	{
		/* progress is informative only: stop reporting, keep building */
		close(bs->progress_fd);
		bs->progress_fd = -1;
	}
}

/* Start reporting progress in a file next to the temporary bundle. */
static void
start_progress(SbBuildState *bs)
{
	size_t		len = strlen(bs->temp);

	bs->progress = psprintf("%.*s.progress", (int) (len - 4), bs->temp);
	/* owned by the build's memory context, like the writer's files */
	bs->progress_fd = open(bs->progress, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	bs->started = bs->reported = GetCurrentTimestamp();
	report_progress(bs);
}

/* Key position of each result column from the key specification. */
static void
parse_key(SbBuildState *bs, TupleDesc desc, sb_column *cols)
{
	char	   *spec = pstrdup(bs->keyspec);
	List	   *names;
	ListCell   *lc;
	int			pos = 0;

	if (!SplitIdentifierString(spec, ',', &names) || names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key specification \"%s\"", bs->keyspec),
				 errhint("Give the key as a comma-separated list of column names.")));
	if (list_length(names) > SB_MAX_KEY_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a bundle key can have at most %d columns", SB_MAX_KEY_COLUMNS)));
	foreach(lc, names)
	{
		const char *kname = lfirst(lc);
		int			i;

		for (i = 0; i < desc->natts; i++)
			if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), kname) == 0)
				break;
		if (i == desc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" is not a column of the query's result", kname)));
		if (cols[i].key_position != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("key column \"%s\" is named twice", kname)));
		cols[i].key_position = (uint8) ++pos;
		cols[i].key_kind = SbKeyKindForType(TupleDescAttr(desc, i)->atttypid,
											TupleDescAttr(desc, i)->attcollation,
											kname);
		bs->keypos[i] = cols[i].key_position;
		if (cols[i].key_kind == SB_KEY_HASHED)
		{
			(void) SbKeyHashFor(TupleDescAttr(desc, i)->atttypid,
								TupleDescAttr(desc, i)->attcollation,
								&bs->keyhash[i]);
			fmgr_info(bs->keyhash[i].proc, &bs->hashfns[i]);
		}
	}
}

/* Describe the query's result columns for the writer. */
static sb_column *
describe_columns(SbBuildState *bs, TupleDesc desc)
{
	sb_column  *cols = palloc0(sizeof(sb_column) * Max(1, desc->natts));

	if (desc->natts < 1 || desc->natts > SB_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a bundle needs 1 to %d columns, not %d", SB_MAX_COLUMNS,
						desc->natts)));
	bs->natts = desc->natts;
	bs->types = palloc0(sizeof(SbTypeInfo) * desc->natts);
	bs->sendfns = palloc0(sizeof(FmgrInfo) * desc->natts);
	bs->keypos = palloc0(sizeof(uint8) * desc->natts);
	bs->keyhash = palloc0(sizeof(SbKeyHash) * desc->natts);
	bs->hashfns = palloc0(sizeof(FmgrInfo) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		SbTypeInfo *ti = &bs->types[i];

		for (int j = 0; j < i; j++)
			if (strcmp(NameStr(att->attname), NameStr(TupleDescAttr(desc, j)->attname)) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("the query returns more than one column named \"%s\"",
								NameStr(att->attname)),
						 errhint("Give the columns distinct names with AS.")));
		SbDescribeType(att->atttypid, att->atttypmod, ti);
		if (ti->storage == SB_STORAGE_BINARY)
		{
			Oid			send;
			bool		isvarlena;

			getTypeBinaryOutputInfo(ti->basetypid, &send, &isvarlena);
			fmgr_info(send, &bs->sendfns[i]);
		}
		cols[i].name = NameStr(att->attname);
		cols[i].type_name = ti->type_name;
		cols[i].typmod = ti->typmod;
		cols[i].typlen = ti->typlen;
		cols[i].typbyval = ti->typbyval;
		cols[i].typalign = ti->typalign;
		cols[i].storage = ti->storage;
		cols[i].flags = ti->flags;
	}
	if (bs->keyspec)
		parse_key(bs, desc, cols);
	return cols;
}

/*
 * Record the result's column names and types, for sharedbuf_create(), in
 * the caller's memory context: this runs inside SPI.
 */
static void
remember_columns(SbBuildState *bs, TupleDesc desc)
{
	SbBuildResult *r = bs->result;
	MemoryContext old = MemoryContextSwitchTo(bs->caller_cxt);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		r->colnames = lappend(r->colnames, pstrdup(NameStr(att->attname)));
		r->coltypes = lappend_oid(r->coltypes, att->atttypid);
		r->coltypmods = lappend_int(r->coltypmods, att->atttypmod);
		r->colcollations = lappend_oid(r->colcollations, att->attcollation);
	}
	MemoryContextSwitchTo(old);
}

/* The generation recorded in the bundle file 'path', or 0. */
static int64
file_generation(const char *path)
{
	sb_bundle  *b;
	sb_error	err;
	int64		gen;

	if (sb_open(path, &b, &err) != SB_OK)
		return 0;
	gen = SbMetaInt64(b, "generation");
	sb_close(b);
	return gen;
}

/*
 * Name the new generation: one more than both the catalog's and the
 * current file's, and a random build id that tells it from any other.
 */
static void
name_generation(SbBuildState *bs, const SbCatalogEntry *entry)
{
	uint8		bytes[SB_BUILD_ID_LEN / 2];

	bs->generation = Max(entry ? entry->generation : 0,
						 file_generation(SbBundlePath(bs->name))) + 1;
	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random build id")));
	hex_encode((const char *) bytes, sizeof(bytes), bs->build_id);
	bs->build_id[SB_BUILD_ID_LEN] = '\0';
}

/* Add the build metadata to the writer. */
static void
add_metadata(SbBuildState *bs, const char *query, int64 folded)
{
	const char *entries[][2] = {
		{"query", query},
		{"key", bs->keyspec ? bs->keyspec : ""},
		{"generation", psprintf(INT64_FORMAT, bs->generation)},
		{"build_id", bs->build_id},
		{"database", get_database_name(MyDatabaseId)},
		{"bundle", bs->name},
		{"origin", SbOrigin()},
		{"built_by", GetUserNameFromId(GetUserId(), false)},
		{"builder", "sharedbuf " SB_EXTENSION_VERSION},
		{"postgresql", PG_VERSION},
	};
	sb_error	err;

	for (int i = 0; i < lengthof(entries); i++)
		if (sb_writer_add_meta(bs->writer, entries[i][0], entries[i][1], &err) != SB_OK)
			SbReportBuildError(&err, bs->name);
	/* a writable bundle's: the last generation of its delta it holds */
	if (folded >= 0 &&
		sb_writer_add_meta(bs->writer, "delta_folded_through",
						   psprintf(INT64_FORMAT, folded), &err) != SB_OK)
		SbReportBuildError(&err, bs->name);
	/* a merged one's: the rows merges replaced since its last full build */
	if (bs->base != NULL &&
		sb_writer_add_meta(bs->writer, "merged_rows",
						   psprintf(INT64_FORMAT, bs->merged), &err) != SB_OK)
		SbReportBuildError(&err, bs->name);
	/* how each hashed key was hashed, for readers to check */
	for (int i = 0; i < bs->natts; i++)
	{
		const char *values[SB_KEY_HASH_FIELDS];

		if (!OidIsValid(bs->keyhash[i].proc))
			continue;
		SbKeyHashValues(&bs->keyhash[i], values);
		for (int f = 0; f < SB_KEY_HASH_FIELDS; f++)
			if (sb_writer_add_meta(bs->writer, SbKeyHashMetaKey(bs->keypos[i], f),
								   values[f], &err) != SB_OK)
				SbReportBuildError(&err, bs->name);
	}
}

/* DestReceiver startup: the result's shape is known; create the writer. */
static void
build_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	SbBuildState *bs = (SbBuildState *) self;
	sb_writer_options opts = {0};
	MemoryContext old = MemoryContextSwitchTo(bs->build_cxt);
	sb_column  *cols = describe_columns(bs, desc);
	sb_error	err;
	uint64		seed = 0;

	MemoryContextSwitchTo(old);
	remember_columns(bs, desc);
	if (!pg_strong_random(&seed, sizeof(seed)))
		seed = (uint64) GetCurrentTimestamp();
	opts.path = bs->temp;
	opts.temp_dir = bs->dir;
	opts.memory_budget = (size_t) maintenance_work_mem * 1024;
	opts.hash_seed = seed;
	opts.approximate = bs->approximate;
	opts.dedup = true;
	opts.inline_limit = (uint32_t) sb_inline_limit_setting;
	opts.compact = sb_compact_setting;
	opts.pg_major = PG_VERSION_NUM / 10000;
	opts.ncolumns = desc->natts;
	opts.columns = cols;
	if (bs->base != NULL && sb_merge_check(bs->base, &opts, &err) != SB_OK)
	{
		elog(DEBUG1, "bundle \"%s\" is rewritten, not merged: %s", bs->name, err.detail);
		bs->base = NULL;
	}
	opts.base = bs->base;
	if (sb_writer_create(&opts, &bs->writer, &err) != SB_OK)
		SbReportBuildError(&err, bs->name);
}

/* DestReceiver: stream one row into the writer. */
static bool
build_receive(TupleTableSlot *slot, DestReceiver *self)
{
	SbBuildState *bs = (SbBuildState *) self;
	MemoryContext old = MemoryContextSwitchTo(bs->row_cxt);
	sb_error	err;

	slot_getallattrs(slot);
	sb_writer_begin_row(bs->writer);
	for (int i = 0; i < bs->natts; i++)
	{
		if (slot->tts_isnull[i])
			continue;
		SbStoreDatum(bs->writer, i, &bs->types[i], slot->tts_values[i],
					 &bs->sendfns[i], bs->name);
		if (OidIsValid(bs->keyhash[i].proc))
		{
			/* as lookups hash their probes */
			uint64		h = SbKeyHashValue(&bs->hashfns[i], bs->keyhash[i].collation,
										   bs->keyhash[i].trim_blanks,
										   slot->tts_values[i]);

			if (sb_writer_set_key_hash(bs->writer, i, h, &err) != SB_OK)
				SbReportBuildError(&err, bs->name);
		}
	}
	if (sb_writer_end_row(bs->writer, &err) != SB_OK)
		SbReportBuildError(&err, bs->name);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->row_cxt);
	if ((sb_writer_rows(bs->writer) & 4095) == 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (now - bs->reported >= USECS_PER_SEC)
		{
			bs->reported = now;
			report_progress(bs);
		}
	}
	return true;
}

/* DestReceiver shutdown and destroy: nothing to do. */
static void
build_shutdown(DestReceiver *self)
{
}

/* Run the query through SPI into the receiver. */
static void
run_query(SbBuildState *bs, const char *query)
{
	SPIPlanPtr	plan;
	CachedPlanSource *source;
	SPIExecuteOptions options = {0};
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (list_length(SPI_plan_get_plan_sources(plan)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of a bundle must be a single statement")));
	source = linitial(SPI_plan_get_plan_sources(plan));
	if (source->commandTag != CMDTAG_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the query of a bundle must be a SELECT, TABLE or VALUES command"),
				 errdetail("The query is a %s command.", GetCommandTagName(source->commandTag))));
	options.read_only = true;
	options.must_return_tuples = true;
	options.dest = &bs->pub;
	rc = SPI_execute_plan_extended(plan, &options);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan_extended failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

/* Refuse a build that cannot be made here or so. */
static void
check_build(const char *name, const char *keyspec, bool approximate)
{
	SbCheckBundleName(name);
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot build bundle \"%s\" during recovery", name),
				 errhint("Build bundles on the primary server; they reach standbys through the WAL.")));
	if (approximate && keyspec == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an approximate bundle needs a key")));
}

/*
 * Start a build in 'cxt': take the bundle's lock (checking its owner),
 * settle earlier builds, log the start and name the new file.
 */
static SbBuildState *
start_build(MemoryContext cxt, const char *name, const char *keyspec,
			bool approximate, SbBuildResult *result)
{
	SbBuildState *bs = MemoryContextAllocZero(cxt, sizeof(SbBuildState));
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SbCatalogEntry entry;
	bool		have_row;

	bs->pub.receiveSlot = build_receive;
	bs->pub.rStartup = build_startup;
	bs->pub.rShutdown = build_shutdown;
	bs->pub.rDestroy = build_shutdown;
	bs->pub.mydest = DestNone;
	bs->name = name;
	bs->keyspec = keyspec;
	bs->approximate = approximate;
	bs->result = result;
	bs->caller_cxt = old;
	bs->build_cxt = cxt;
	bs->row_cxt = AllocSetContextCreate(cxt, "sharedbuf build row",
										ALLOCSET_DEFAULT_SIZES);
	bs->progress_fd = -1;
	bs->cleanup.func = free_writer;
	bs->cleanup.arg = bs;
	MemoryContextRegisterResetCallback(cxt, &bs->cleanup);

	bs->dir = SbDatabaseDirectory(true);
	SbLockBundle(name);
	have_row = SbCatalogCheckOwner(name, &entry);
	(void) SbSettleBundle(MyDatabaseId, name, SB_SETTLE_READER);
	SbSweepRetired();
	name_generation(bs, have_row ? &entry : NULL);
	bs->begin = SbLogStart(name, false);
	bs->temp = SbFlightPath(MyDatabaseId, name, GetCurrentTransactionId(),
							MyProcPid, bs->begin, ".tmp");
	start_progress(bs);
	MemoryContextSwitchTo(old);
	return bs;
}

/*
 * A fold's rows: the delta merged into a copy of the current file when
 * merge.c can, else every row of the table, through 'query'.
 */
static void
fold_rows(SbBuildState *bs, Relation ftrel, const char *query)
{
	SbMerge    *mg = SbMergeStart(ftrel, bs->name, bs->build_cxt);

	if (mg != NULL)
	{
		bs->base = SbMergeBase(mg);
		build_startup(&bs->pub, CMD_SELECT, RelationGetDescr(ftrel));
		if (bs->base != NULL)
		{
			bs->merged = SbMergeRows(mg, bs->writer, &bs->pub);
			return;
		}
		sb_writer_free(bs->writer);
		bs->writer = NULL;
	}
	run_query(bs, query);
}

/*
 * Build bundle 'name' from 'query' (or, folding the delta of writable
 * foreign table 'fold_rel', from the table), keyed by the columns in
 * 'keyspec' (or with no key), and arrange for it to replace the bundle at
 * commit.
 */
static void
build_bundle(const char *name, const char *query, const char *keyspec,
			 bool approximate, Relation fold_rel, SbBuildResult *result)
{
	MemoryContext cxt = AllocSetContextCreate(CurTransactionContext,
											  "sharedbuf build",
											  ALLOCSET_DEFAULT_SIZES);
	TimestampTz start = GetCurrentTimestamp();
	SbBuildState *bs;
	sb_build_stats stats;
	sb_error	err;
	MemoryContext old;
	int64		folded;

	check_build(name, keyspec, approximate);
	bs = start_build(cxt, name, keyspec, approximate, result);
	/* a writable bundle's build reads every write of the generations before */
	folded = SbDeltaStartRebuild(name);
	if (folded >= 0)
	{
		/* this transaction's writes so far, too */
		CommandCounterIncrement();
		PushActiveSnapshot(GetLatestSnapshot());
	}
	if (fold_rel != NULL && folded >= 0)
		fold_rows(bs, fold_rel, query);
	else
		run_query(bs, query);
	if (folded >= 0)
		PopActiveSnapshot();
	if (bs->writer == NULL)
		elog(ERROR, "query of bundle \"%s\" produced no result description", name);
	old = MemoryContextSwitchTo(cxt);
	add_metadata(bs, query, folded);
	SbTestPause("before_finish");
	if (sb_writer_finish(bs->writer, &stats, &err) != SB_OK)
		SbReportBuildError(&err, name);
	SbTestPause("after_finish");
	SbLogFile(name, bs->begin, bs->temp);
	MemoryContextSwitchTo(old);
	SbRegisterPendingSwap(name, bs->temp, SbBundlePath(name), false);
	SbCatalogRecordBuild(name, bs->generation, bs->build_id, query, keyspec);
	if (folded >= 0)
		SbDeltaFinishRebuild(name, folded);

	result->bundle = pstrdup(name);
	result->rows = (int64) stats.rows;
	result->bytes = (int64) stats.file_size;
	result->distinct_keys = (int64) stats.distinct_keys;
	result->dedup_saved = (int64) stats.dedup_saved;
	result->seconds = (double) (GetCurrentTimestamp() - start) / 1000000.0;
	MemoryContextDelete(cxt);
}

/* Build bundle 'name' from 'query'; see build_bundle. */
void
SbBuildBundle(const char *name, const char *query, const char *keyspec,
			  bool approximate, SbBuildResult *result)
{
	build_bundle(name, query, keyspec, approximate, NULL, result);
}

/*
 * Fold the delta of writable foreign table 'ftrel' into a new file of its
 * bundle 'name'; 'query' reads every row of the table.  See build_bundle.
 */
void
SbFoldBundle(Relation ftrel, const char *name, const char *query,
			 const char *keyspec, SbBuildResult *result)
{
	build_bundle(name, query, keyspec, false, ftrel, result);
}

/* The summary row of a build, as the functions return it. */
Datum
SbBuildResultDatum(FunctionCallInfo fcinfo, const SbBuildResult *r)
{
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = CStringGetTextDatum(r->bundle);
	values[1] = Int64GetDatum(r->rows);
	values[2] = Int64GetDatum(r->bytes);
	values[3] = Int64GetDatum(r->distinct_keys);
	values[4] = Int64GetDatum(r->dedup_saved);
	values[5] = Float8GetDatum(r->seconds);
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
}
