/*-------------------------------------------------------------------------
 *
 * analyze.c
 *	  ANALYZE of sharedbuf foreign tables: a random sample of rows.
 *
 * Row slots have a fixed width, so any row can be read directly: the
 * sample is a uniform random choice of distinct row numbers, read in
 * order.  The planner then has statistics for filters and joins on
 * non-key columns, as for a heap table.  A writable bundle's sample
 * leaves out the rows whose keys its delta decides and takes the delta's
 * rows in their proportion.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "common/pg_prng.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* qsort comparator for row numbers. */
static int
row_cmp(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a,
				y = *(const uint64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Choose up to 'want' distinct row numbers of 'nrows', in ascending order. */
static int
choose_rows(uint64 nrows, int want, uint64 *rows)
{
	int			n = 0;

	if (nrows <= (uint64) want)
	{
		for (uint64 r = 0; r < nrows; r++)
			rows[n++] = r;
		return n;
	}
	while (n < want)
	{
		int			before;

		while (n < want)
			rows[n++] = pg_prng_uint64_range(&pg_global_prng_state, 0, nrows - 1);
		qsort(rows, n, sizeof(uint64), row_cmp);
		before = n;
		n = 0;
		for (int i = 0; i < before; i++)
			if (n == 0 || rows[n - 1] != rows[i])
				rows[n++] = rows[i];
	}
	return n;
}

/* One sampled row as a heap tuple; unstored key columns are NULL. */
static HeapTuple
sample_tuple(sb_bundle *b, uint64 row, TupleDesc desc, SbTableMap *map,
			 const char *label)
{
	const sb_info *bi = sb_bundle_info(b);
	const unsigned char *slot;
	Datum	   *values = palloc(sizeof(Datum) * Max(1, desc->natts));
	bool	   *nulls = palloc(sizeof(bool) * Max(1, desc->natts));
	sb_error	err;

	if (sb_row_get(b, row, &slot, &err) != SB_OK)
		SbReportError(&err, label);

	for (int i = 0; i < desc->natts; i++)
	{
		SbColumnMap *cm = &map->cols[i];

		nulls[i] = cm->bcol < 0 || sb_slot_isnull(bi, slot, cm->bcol);
		if (!nulls[i])
			values[i] = SbFetchDatum(b, slot, cm->bcol, &bi->columns[cm->bcol],
									 &cm->recv, cm->typioparam, cm->typmod, label);
	}
	return heap_form_tuple(desc, values, nulls);
}

/*
 * With a writable bundle's delta: drop the sampled rows whose keys the
 * delta decides, then add the delta's rows, chosen at random, in their
 * share of the rows; the estimate of the table's rows follows.
 */
static int
sample_delta(Relation rel, SbMappingRef *ref, const char *bundle, HeapTuple *tuples,
			 int n, int targrows, double *totalrows)
{
	TupleDesc	desc = RelationGetDescr(rel);
	SbDeltaRead *dr = SbDeltaBeginRead(rel, bundle, ref->bundle, CurrentMemoryContext);
	TupleTableSlot *slot;
	List	   *drows;
	int			kept = 0,
				sampled = n,
				want;
	double		base;

	if (dr == NULL || SbDeltaEmpty(dr))
		return n;
	SbDeltaLoad(dr);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
	for (int i = 0; i < n; i++)
	{
		ExecStoreHeapTuple(tuples[i], slot, false);
		slot_getallattrs(slot);
		if (!SbDeltaOverrides(dr, slot))
			tuples[kept++] = tuples[i];
		ExecClearTuple(slot);
	}
	drows = SbDeltaAllRows(dr);
	base = sampled > 0 ? *totalrows * kept / sampled : 0;
	*totalrows = base + list_length(drows);
	want = *totalrows > 0 ?
		(int) (targrows * list_length(drows) / *totalrows + 0.5) : 0;
	want = Min(Min(want, list_length(drows)), targrows - kept);
	for (int i = 0; i < want; i++)
	{
		int			j = i + (int) pg_prng_uint64_range(&pg_global_prng_state, 0,
													  list_length(drows) - 1 - i);
		HeapTuple	row = list_nth(drows, j);

		list_nth_cell(drows, j)->ptr_value = list_nth(drows, i);
		SbDeltaStoreRow(dr, row, slot);
		tuples[kept++] = ExecCopySlotHeapTuple(slot);
		ExecClearTuple(slot);
	}
	ExecDropSingleTupleTableSlot(slot);
	return kept;
}

/* AcquireSampleRowsFunc: a random sample of the bundle's rows. */
static int
acquire_sample_rows(Relation rel, int elevel, HeapTuple *tuples, int targrows,
					double *totalrows, double *totaldeadrows)
{
	SbTableOptions *opts = SbGetTableOptions(RelationGetRelid(rel));
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "sharedbuf analyze",
											  ALLOCSET_DEFAULT_SIZES);
	SbMappingRef *ref = SbPinBundle(opts->path, opts->label, tmp);
	sb_bundle  *b = ref->bundle;
	uint64		nrows = sb_bundle_info(b)->row_count;
	TupleDesc	desc = RelationGetDescr(rel);
	SbTableMap *map = SbGetTableMap(rel, ref, opts->label);
	uint64	   *rows = palloc(sizeof(uint64) * Max(1, targrows));
	int			n;

	n = choose_rows(nrows, targrows, rows);
	for (int i = 0; i < n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(tmp);
		HeapTuple	t;

		t = sample_tuple(b, rows[i], desc, map, opts->label);
		MemoryContextSwitchTo(old);
		tuples[i] = heap_copytuple(t);
	}
	*totalrows = (double) nrows;
	*totaldeadrows = 0;
	if (opts->bundle)
		n = sample_delta(rel, ref, opts->bundle, tuples, n, targrows, totalrows);
	ereport(elevel,
			(errmsg("\"%s\": bundle \"%s\" has %llu rows; %d rows in the sample",
					RelationGetRelationName(rel), opts->label,
					(unsigned long long) nrows, n)));
	MemoryContextDelete(tmp);
	return n;
}

/*
 * sbAnalyzeForeignTable
 *		ANALYZE samples the bundle's rows at random.
 */
bool
sbAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
					  BlockNumber *totalpages)
{
	SbTableOptions *opts = SbGetTableOptions(RelationGetRelid(relation));
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "sharedbuf analyze",
											  ALLOCSET_SMALL_SIZES);
	SbMappingRef *ref = SbPinBundle(opts->path, opts->label, tmp);

	*totalpages = (BlockNumber)
		Max(1, sb_bundle_info(ref->bundle)->file_size / BLCKSZ);
	MemoryContextDelete(tmp);
	*func = acquire_sample_rows;
	return true;
}
