/*-------------------------------------------------------------------------
 *
 * merge.c
 *	  Folding a small delta by merging it into a copy of the bundle.
 *
 * A fold of a writable bundle (writable.c) could rebuild the bundle from
 * every row of the table, decoding and encoding each again.  When the
 * delta decides few keys, it merges instead: the format library's merge
 * writer (src/format/sbmerge.c) copies the current file's row slots and
 * value heap as they are, less the rows of the keys the delta decides,
 * and this file writes the delta's rows of those keys after them.  The
 * copied heap keeps the values of the rows left out, so the bundle
 * records how many rows merges have replaced since its last full build
 * ("merged_rows"); once that would pass sharedbuf.fold_merge_limit of its
 * rows, a fold rewrites it instead, and so does a fold the merge writer
 * cannot do (an approximate bundle, a hashed key, columns that changed,
 * a value out of its column's encoded range, a heap that would outgrow its
 * 4-byte references).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "executor/tuptable.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* A merge being prepared or made. */
struct SbMerge
{
	SbMappingRef *ref;			/* the current file, pinned */
	SbDeltaRead *dr;			/* the delta, loaded */
	Relation	ftrel;
	sb_writer  *writer;
	DestReceiver *dest;			/* the build's, for the delta's rows */
	TupleTableSlot *slot;
	SbProbeInfo probes[SB_MAX_KEY_COLUMNS];
	int64		dropped;
	MemoryContext key_cxt;		/* reset per key */
};

/* The rows merges have replaced in a bundle since its last full build. */
int64
SbMergedRows(sb_bundle *b)
{
	return SbMetaInt64(b, "merged_rows");
}

/* What delta_fits checks the delta's rows with. */
typedef struct SbFitCheck
{
	SbMerge    *mg;
	TupleTableSlot *slot;
	const sb_info *info;
	uint64		heap_growth;	/* bytes the rows' values may add, at most */
	bool		fits;
} SbFitCheck;

/*
 * SbDeltaEachKey callback: do the rows of a key fit the file's encodings?
 * An offset-coded column holds the values of its range alone.
 */
static void
check_fit(void *arg, const Datum *keys, List *rows)
{
	SbFitCheck *fc = arg;
	ListCell   *lc;

	foreach(lc, rows)
	{
		SbDeltaStoreRow(fc->mg->dr, lfirst(lc), fc->slot);
		for (int i = 0; fc->fits && i < fc->info->ncolumns; i++)
		{
			const sb_encoding *e = &fc->info->encodings[i];
			int16		typlen = fc->info->columns[i].typlen;
			Datum		v = fc->slot->tts_values[i];
			int64		x;

			if (fc->slot->tts_isnull[i])
				continue;
			if (typlen == -1)
				fc->heap_growth += 2 * (VARSIZE_ANY(DatumGetPointer(v)) + 8);
			if (e->kind != SB_ENC_OFFSET)
				continue;
			x = typlen == 8 ? DatumGetInt64(v) : typlen == 4 ? DatumGetInt32(v) :
				DatumGetInt16(v);
			fc->fits = x >= e->base &&
				(e->width >= 8 || ((uint64) x - (uint64) e->base) >> (8 * e->width) == 0);
		}
	}
}

/*
 * Can the file take the delta's rows as it encodes its columns: every
 * offset-coded value in its column's range, and, where a column refers to
 * its values with 4 bytes, the heap below 2 GB?
 */
static bool
delta_fits(SbMerge *mg)
{
	SbFitCheck	fc = {0};
	bool		narrow_refs = false;

	fc.mg = mg;
	fc.info = sb_bundle_info(mg->ref->bundle);
	fc.slot = MakeSingleTupleTableSlot(RelationGetDescr(mg->ftrel), &TTSOpsVirtual);
	fc.fits = true;
	SbDeltaEachKey(mg->dr, check_fit, &fc);
	ExecDropSingleTupleTableSlot(fc.slot);
	for (int i = 0; i < fc.info->ncolumns; i++)
		narrow_refs |= fc.info->columns[i].typlen == -1 && fc.info->encodings[i].width == 4;
	return fc.fits &&
		!(narrow_refs && fc.info->heap_size + fc.heap_growth >= UINT64CONST(0x80000000));
}

/*
 * Prepare to fold the delta of writable foreign table 'ftrel' into the
 * current file of 'bundle' by merging, in 'cxt'; NULL if the fold should
 * rewrite the bundle.  The caller holds the bundle's lock, so the current
 * file is the newest.
 */
SbMerge *
SbMergeStart(Relation ftrel, const char *bundle, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	TupleDesc	desc = RelationGetDescr(ftrel);
	SbMerge    *mg = palloc0(sizeof(SbMerge));
	const sb_info *info;
	int64		replaced;

	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attisdropped)
		{
			/* the fold's columns are not the table's */
			MemoryContextSwitchTo(old);
			return NULL;
		}
	mg->ftrel = ftrel;
	mg->ref = SbPinBundle(SbBundlePath(bundle), bundle, cxt);
	info = sb_bundle_info(mg->ref->bundle);
	mg->dr = SbDeltaBeginRead(ftrel, bundle, mg->ref->bundle, cxt);
	SbDeltaLoad(mg->dr);
	replaced = SbMergedRows(mg->ref->bundle) + SbDeltaKeyCount(mg->dr);
	MemoryContextSwitchTo(old);
	if (info->nkeys == 0 ||
		replaced > sb_fold_merge_limit_setting * (double) info->row_count ||
		!delta_fits(mg))
	{
		SbUnpinBundle(mg->ref);
		return NULL;
	}
	return mg;
}

/* The bundle file a merge copies. */
sb_bundle *
SbMergeBase(SbMerge *mg)
{
	return mg->ref->bundle;
}

/* Leave out the current file's rows of one key the delta decides. */
static void
drop_key_rows(SbMerge *mg, const Datum *keys)
{
	sb_bundle  *b = mg->ref->bundle;
	const sb_info *info = sb_bundle_info(b);
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	SbKeyScratch scratch[SB_MAX_KEY_COLUMNS];
	sb_lookup	it;
	uint64_t	hash,
				row;
	sb_error	err;
	int			r;

	for (int k = 0; k < info->nkeys; k++)
		if (!SbProbeToKeyPart(&mg->probes[k], keys[k], &parts[k], &scratch[k]))
			return;				/* no row of the file has this key */
	if (sb_key_hash(b, parts, &hash, &err) != SB_OK)
		SbReportError(&err, RelationGetRelationName(mg->ftrel));
	sb_lookup_start(b, parts, hash, &it);
	while ((r = sb_lookup_next(b, &it, &row, &err)) > 0)
	{
		if (sb_writer_drop_base_row(mg->writer, row, &err) != SB_OK)
			SbReportError(&err, RelationGetRelationName(mg->ftrel));
		mg->dropped++;
	}
	if (r < 0)
		SbReportError(&err, RelationGetRelationName(mg->ftrel));
}

/* SbDeltaEachKey callback: replace a key's rows with the delta's. */
static void
merge_key(void *arg, const Datum *keys, List *rows)
{
	SbMerge    *mg = arg;
	MemoryContext old = MemoryContextSwitchTo(mg->key_cxt);
	ListCell   *lc;

	drop_key_rows(mg, keys);
	foreach(lc, rows)
	{
		SbDeltaStoreRow(mg->dr, lfirst(lc), mg->slot);
		mg->dest->receiveSlot(mg->slot, mg->dest);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(mg->key_cxt);
}

/*
 * Merge: leave out of writer 'w' (made with the current file as its base)
 * the rows of the keys the delta decides, and send the delta's rows of
 * those keys to 'dest', the build's receiver.  Returns how many rows
 * merges have replaced since the file's last full build, this one's too.
 */
int64
SbMergeRows(SbMerge *mg, sb_writer *w, DestReceiver *dest)
{
	const sb_info *info = sb_bundle_info(mg->ref->bundle);

	mg->writer = w;
	mg->dest = dest;
	mg->slot = MakeSingleTupleTableSlot(RelationGetDescr(mg->ftrel), &TTSOpsVirtual);
	mg->key_cxt = AllocSetContextCreate(CurrentMemoryContext, "sharedbuf merge key",
										ALLOCSET_DEFAULT_SIZES);
	for (int k = 0; k < info->nkeys; k++)
	{
		const sb_column *c = &info->columns[info->key_columns[k]];

		SbInitProbeInfo(&mg->probes[k], c,
						TupleDescAttr(RelationGetDescr(mg->ftrel),
									  info->key_columns[k])->atttypid);
	}
	SbDeltaEachKey(mg->dr, merge_key, mg);
	ExecDropSingleTupleTableSlot(mg->slot);
	MemoryContextDelete(mg->key_cxt);
	return SbMergedRows(mg->ref->bundle) + mg->dropped;
}
