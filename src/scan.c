/*-------------------------------------------------------------------------
 *
 * scan.c
 *	  Executing scans of sharedbuf foreign tables.
 *
 * A scan pins one generation of the bundle for its whole life (every
 * rescan included) and hands out virtual tuples whose pass-by-reference
 * datums point straight into the mapping: no copy and no allocation per
 * row.  Only values stored in binary form or coded with a symbol table
 * are rebuilt, in a per-row memory context.  A lookup scan evaluates its probe expressions at the start of
 * each (re)scan; "= ANY" arrays are hashed, sorted and deduplicated first,
 * so that each matching row is returned once.  A lookup of a hashed key
 * returns the rows whose hash may match: the scan confirms each with the
 * clause's operator against the probe value that found it, and merges
 * the equal values of an "= ANY" by the type's equality.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

/* Probes ahead whose index reads an "= ANY" scan starts early. */
#define SB_PREFETCH_DISTANCE	8

/* One probe key of a lookup scan. */
typedef struct SbProbe
{
	uint64		hash;
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	SbKeyScratch scratch[SB_MAX_KEY_COLUMNS];
	Datum		values[SB_MAX_KEY_COLUMNS];	/* the probe values */
} SbProbe;

typedef struct SbScanState
{
	SbMappingRef *ref;
	sb_bundle  *bundle;
	const sb_info *info;		/* the bundle's */
	const char *label;
	SbScanMode	mode;
	int			natts;
	SbColumnMap *cols;			/* the column-map cache's */
	int		   *fetch;			/* table columns to fill, 0-based */
	int			nfetch;
	bool		any_binary;
	MemoryContext row_cxt;		/* binary-form values, reset per row */
	MemoryContext probe_cxt;	/* probe keys, reset per rescan */

	/* lookups */
	List	   *key_states;		/* ExprStates of the probe expressions */
	SbProbeInfo probe_info[SB_MAX_KEY_COLUMNS];
	Oid			probe_types[SB_MAX_KEY_COLUMNS];
	int			nkeyparts;
	bool		started;
	SbProbe    *probes;			/* stable storage of the probes */
	SbProbe   **order;			/* probes to look up, in hash order */
	int			nprobes;
	int			next_probe;
	SbProbe    *current;		/* probe of the lookup under way */
	SbProbe    *eq_probe;		/* the probe of "= key" lookups */
	SbProbe    *eq_order;
	sb_lookup	it;
	bool		in_lookup;
	bool		confirm;		/* rows of hashed keys need confirming */

	/* sequential scan; a parallel one takes chunks [next_row, end_row) */
	uint64		next_row;
	uint64		end_row;
	SbParallelState *parallel;

	/* the plan's lookup no longer fits the bundle: filter a full scan */
	bool		filter_recheck;

	/* a writable bundle's delta (deltaread.c) */
	SbDeltaRead *delta;			/* NULL for a read-only bundle */
	bool		target;			/* the table an UPDATE or DELETE changes */
	List	   *pending;		/* delta rows to return before going on */
	int			pending_pos;
	List	   *claimed;		/* rows of the key last claimed */
	int			claimed_pos;
	bool		tail_done;		/* a scan returned the delta's own rows */

	/* EXPLAIN ANALYZE */
	int64		nlookups;
	int64		nfound;
	int64		nfound_delta;
} SbScanState;

/* What next_row found. */
typedef enum SbNext
{
	SB_NEXT_END,
	SB_NEXT_ROW,				/* a row of the bundle */
	SB_NEXT_PENDING				/* rows of the delta, in st->pending */
} SbNext;

/* Map the table's columns to the bundle's (cached), and choose those to fill. */
static void
map_columns(SbScanState *st, Relation rel, List *attrs)
{
	SbTableMap *map = SbGetTableMap(rel, st->ref, st->label);
	ListCell   *lc;

	st->natts = map->natts;
	st->cols = map->cols;
	st->any_binary = map->any_binary;
	st->fetch = palloc(sizeof(int) * Max(1, map->natts));
	foreach(lc, attrs)
	{
		int			a = lfirst_int(lc) - 1;

		if (a < map->natts && st->cols[a].bcol >= 0)
			st->fetch[st->nfetch++] = a;
	}
}

/*
 * Is key column k of the bundle still what the plan's lookup expected: of
 * the same kind and, if hashed, hashed the same way?
 */
static bool
key_as_planned(const sb_bundle *b, int k, List *probe)
{
	const sb_info *in = sb_bundle_info(b);
	const sb_column *c = &in->columns[in->key_columns[k]];

	if (intVal(linitial(probe)) != c->key_kind)
		return false;
	return c->key_kind != SB_KEY_HASHED ||
		strcmp(strVal(lsecond(probe)), SbBundleKeyHashSignature(b, k)) == 0;
}

/* The SbHashedProbe a plan recorded for a hashed key part. */
static void
planned_hashed_probe(List *probe, SbHashedProbe *hp)
{
	List	   *how = lthird(probe),
			   *what = lfourth(probe);

	hp->opfamily = (Oid) intVal(linitial(how));
	hp->opno = (Oid) intVal(lsecond(how));
	hp->key_left = intVal(lthird(how)) != 0;
	hp->collation = (Oid) intVal(linitial(what));
	hp->probetype = (Oid) intVal(lsecond(what));
	hp->attno = (AttrNumber) intVal(lthird(what));
}

/*
 * Set up lookups: the plan's key columns must still be the bundle's key
 * (a refresh may have changed it); otherwise scan every row, which the
 * plan's qual then filters.
 */
static void
init_lookup(SbScanState *st, ForeignScan *plan, List *keynames, PlanState *ps)
{
	const sb_info *b = st->info;
	List	   *probes = list_nth(plan->fdw_private, SbPrivKeyProbes);
	ListCell   *lc;
	int			k = 0;
	bool		same = list_length(keynames) == (st->mode == SB_SCAN_ANY ? 1 : b->nkeys) &&
		b->nkeys == list_length(keynames);

	foreach(lc, keynames)
	{
		if (same && (strcmp(b->columns[b->key_columns[k]].name, strVal(lfirst(lc))) != 0 ||
					 !key_as_planned(st->bundle, k, list_nth(probes, k))))
			same = false;
		k++;
	}
	if (!same)
	{
		/* scan every row, filtering with the lookup's own clauses */
		st->filter_recheck = true;
		if (b->approximate)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("key of approximate bundle \"%s\" changed since the query was planned",
							st->label),
					 errhint("Run the query again.")));
		st->mode = SB_SCAN_SEQ;
		return;
	}
	k = 0;
	foreach(lc, plan->fdw_exprs)
	{
		Expr	   *expr = lfirst(lc);
		Oid			type = exprType((Node *) expr);

		if (st->mode == SB_SCAN_ANY)
			type = get_element_type(type);
		SbInitProbeInfo(&st->probe_info[k], &b->columns[b->key_columns[k]], type);
		if (st->probe_info[k].kind == SB_KEY_HASHED)
		{
			SbHashedProbe hp;

			planned_hashed_probe(list_nth(probes, k), &hp);
			SbInitHashedProbe(&st->probe_info[k], &hp);
			/* an approximate bundle's rows match on the hash */
			st->confirm = !b->approximate;
		}
		st->probe_types[k] = type;
		st->key_states = lappend(st->key_states, ExecInitExpr(expr, ps));
		k++;
	}
	st->nkeyparts = k;
}

/* Open the delta of a writable bundle, if the table reads one. */
static void
begin_delta(ForeignScanState *node, SbScanState *st, MemoryContext cxt)
{
	Relation	rel = node->ss.ss_currentRelation;
	SbTableOptions *opts = SbGetTableOptions(RelationGetRelid(rel));

	if (opts->bundle)
		st->delta = SbDeltaBeginRead(rel, opts->bundle, st->bundle, cxt);
}

/*
 * Fetch the key columns too: a sequential scan tells by them which rows
 * of the bundle the delta decides, and a scan that claims keys claims
 * them.  (A lookup asks the delta with its probe's values.)
 */
static void
fetch_key_columns(SbScanState *st)
{
	const SbDelta *d = SbDeltaDefinition(st->delta);

	for (int k = 0; k < d->nkeys; k++)
	{
		int			a = d->keyattnos[k] - 1;
		bool		have = false;

		for (int i = 0; i < st->nfetch; i++)
			have |= st->fetch[i] == a;
		if (!have && st->cols[a].bcol >= 0)
			st->fetch[st->nfetch++] = a;
	}
}

/*
 * sbBeginForeignScan
 *		Pin the bundle, map columns, prepare probe expressions.
 */
void
sbBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	SbScanState *st;
	EState	   *estate = node->ss.ps.state;
	MemoryContext scan_cxt;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	scan_cxt = AllocSetContextCreate(estate->es_query_cxt, "sharedbuf scan",
									 ALLOCSET_SMALL_SIZES);
	st = MemoryContextAllocZero(scan_cxt, sizeof(SbScanState));
	node->fdw_state = st;
	st->label = strVal(list_nth(plan->fdw_private, SbPrivLabel));
	st->mode = intVal(list_nth(plan->fdw_private, SbPrivMode));
	st->ref = SbPinBundle(strVal(list_nth(plan->fdw_private, SbPrivPath)),
						  st->label, scan_cxt);
	st->bundle = st->ref->bundle;
	st->info = sb_bundle_info(st->bundle);
	/* probes and binary-form values get contexts only if they need them */
	map_columns(st, node->ss.ss_currentRelation,
				list_nth(plan->fdw_private, SbPrivAttrs));
	if (st->any_binary)
		st->row_cxt = AllocSetContextCreate(scan_cxt, "sharedbuf row",
											ALLOCSET_SMALL_SIZES);
	begin_delta(node, st, scan_cxt);
	if (st->mode != SB_SCAN_SEQ)
		init_lookup(st, plan, list_nth(plan->fdw_private, SbPrivKeyNames),
					&node->ss.ps);	/* may fall back to a scan */
	if (st->delta && st->mode == SB_SCAN_SEQ)
		fetch_key_columns(st);
	if (st->mode == SB_SCAN_SEQ)
		sb_advise_scan(st->bundle, true);
	else
	{
		st->probe_cxt = AllocSetContextCreate(scan_cxt, "sharedbuf probes",
											  ALLOCSET_SMALL_SIZES);
		/* one "= key" probe is reused by every rescan */
		st->eq_probe = MemoryContextAlloc(scan_cxt, sizeof(SbProbe));
	}
}

/* Compute a probe's key parts from its values; false if it cannot match. */
static bool
make_probe(SbScanState *st, SbProbe *p)
{
	sb_error	err;

	for (int k = 0; k < st->nkeyparts; k++)
		if (!SbProbeToKeyPart(&st->probe_info[k], p->values[k], &p->parts[k],
							  &p->scratch[k]))
			return false;
	if (sb_key_hash(st->bundle, p->parts, &p->hash, &err) != SB_OK)
		SbReportError(&err, st->label);
	return true;
}

/* Build the probe of an "= key" lookup; none if a value is NULL. */
static void
build_eq_probes(SbScanState *st, ExprContext *econtext)
{
	ListCell   *lc;
	int			k = 0;
	SbProbe    *p = st->eq_probe;

	st->probes = p;
	st->order = &st->eq_order;
	st->nprobes = 0;
	foreach(lc, st->key_states)
	{
		bool		isnull;

		p->values[k++] = ExecEvalExpr(lfirst(lc), econtext, &isnull);
		if (isnull)
			return;
	}
	if (make_probe(st, p))
		st->order[st->nprobes++] = p;
}

/* qsort comparator: probe pointers by hash. */
static int
probe_cmp(const void *a, const void *b)
{
	uint64		ha = (*(SbProbe *const *) a)->hash,
				hb = (*(SbProbe *const *) b)->hash;

	return ha < hb ? -1 : (ha > hb ? 1 : 0);
}

/* Are two probes of a one-column key the same key? */
static bool
same_key(const SbProbe *a, const SbProbe *b, uint8 kind)
{
	if (a->hash != b->hash)
		return false;
	if (kind == SB_KEY_INTEGER)
		return a->parts[0].ival == b->parts[0].ival;
	return a->parts[0].len == b->parts[0].len &&
		memcmp(a->parts[0].data, b->parts[0].data, a->parts[0].len) == 0;
}

/*
 * Is probe i of the sorted probes the key of one kept before it?  Equal
 * hashed keys have equal hashes, so only the kept probes of its hash can
 * be, but a hash does not tell them apart: their values are compared.
 */
static bool
repeated_probe(const SbScanState *st, int kept, int i)
{
	const SbProbeInfo *pi = &st->probe_info[0];
	SbProbe    *p = st->order[i];

	if (pi->kind != SB_KEY_HASHED)
		return kept > 0 && same_key(st->order[kept - 1], p, pi->kind);
	for (int j = kept - 1; j >= 0 && st->order[j]->hash == p->hash; j--)
		if (SbProbesEqual(pi, st->order[j]->values[0], p->values[0]))
			return true;
	return false;
}

/*
 * Build the probes of an "= ANY(array)" lookup: NULLs dropped, sorted by
 * hash (which also groups the index reads), repeated keys once.  So each
 * row is found once: by the one probe of its key.
 */
static void
build_any_probes(SbScanState *st, ExprContext *econtext)
{
	bool		isnull;
	Datum		arr = ExecEvalExpr(linitial(st->key_states), econtext, &isnull);
	ArrayType  *a;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				out = 0;
	int16		elen;
	bool		ebyval;
	char		ealign;

	st->nprobes = 0;
	if (isnull)
		return;
	a = DatumGetArrayTypeP(arr);
	get_typlenbyvalalign(ARR_ELEMTYPE(a), &elen, &ebyval, &ealign);
	deconstruct_array(a, ARR_ELEMTYPE(a), elen, ebyval, ealign, &elems, &nulls, &n);
	st->probes = palloc0(sizeof(SbProbe) * Max(1, n));
	st->order = palloc(sizeof(SbProbe *) * Max(1, n));
	for (int i = 0; i < n; i++)
	{
		SbProbe    *p = &st->probes[out];

		p->values[0] = elems[i];
		if (!nulls[i] && make_probe(st, p))
			st->order[out++] = p;
	}
	qsort(st->order, out, sizeof(SbProbe *), probe_cmp);
	n = out;
	out = 0;
	for (int i = 0; i < n; i++)
		if (!repeated_probe(st, out, i))
			st->order[out++] = st->order[i];
	st->nprobes = out;
}

/* Evaluate the probe expressions for this (re)scan. */
static void
start_lookups(ForeignScanState *node, SbScanState *st)
{
	MemoryContext old;

	MemoryContextReset(st->probe_cxt);
	old = MemoryContextSwitchTo(st->probe_cxt);
	if (st->mode == SB_SCAN_ANY)
		build_any_probes(st, node->ss.ps.ps_ExprContext);
	else
		build_eq_probes(st, node->ss.ps.ps_ExprContext);
	MemoryContextSwitchTo(old);
	st->next_probe = 0;
	st->in_lookup = false;
	st->started = true;
}

/* Does the delta decide the current probe's key?  Its rows are pending. */
static bool
delta_decides(SbScanState *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->probe_cxt);
	bool		decides = SbDeltaLookup(st->delta, st->current->values,
										st->probe_types, &st->pending);

	MemoryContextSwitchTo(old);
	return decides;
}

/* The next row of a lookup scan. */
static SbNext
next_lookup_row(ForeignScanState *node, SbScanState *st, uint64 *row)
{
	sb_error	err;

	if (!st->started)
		start_lookups(node, st);
	for (;;)
	{
		if (st->in_lookup)
		{
			int			r = sb_lookup_next(st->bundle, &st->it, row, &err);

			if (r < 0)
				SbReportError(&err, st->label);
			if (r == 1)
				return SB_NEXT_ROW;
			st->in_lookup = false;
		}
		if (st->next_probe >= st->nprobes)
			return SB_NEXT_END;
		/* arrays: fetch the index lines of later probes meanwhile */
		if (st->next_probe + SB_PREFETCH_DISTANCE < st->nprobes)
			sb_lookup_prefetch(st->bundle,
							   st->order[st->next_probe + SB_PREFETCH_DISTANCE]->hash);
		st->current = st->order[st->next_probe++];
		st->nlookups++;
		/* a key the delta decides is not looked up in the bundle */
		if (st->delta && delta_decides(st))
		{
			st->pending_pos = 0;
			if (st->pending != NIL)
				return SB_NEXT_PENDING;
			continue;
		}
		sb_lookup_start(st->bundle, st->current->parts, st->current->hash, &st->it);
		st->in_lookup = true;
	}
}

/*
 * At the end of a sequential scan of the bundle, the delta's own rows, by
 * one participant of a parallel scan.
 */
static SbNext
delta_tail(SbScanState *st)
{
	if (st->delta == NULL || st->tail_done || SbDeltaEmpty(st->delta))
		return SB_NEXT_END;
	st->tail_done = true;
	if (st->parallel && !SbParallelTakeDelta(st->parallel))
		return SB_NEXT_END;
	st->pending = SbDeltaAllRows(st->delta);
	st->pending_pos = 0;
	return st->pending != NIL ? SB_NEXT_PENDING : SB_NEXT_END;
}

/* The next row of the scan. */
static SbNext
next_row(ForeignScanState *node, SbScanState *st, uint64 *row)
{
	if (st->mode != SB_SCAN_SEQ)
		return next_lookup_row(node, st, row);
	if (st->delta && st->next_row == 0 && !st->tail_done &&
		!SbDeltaEmpty(st->delta))
		SbDeltaLoad(st->delta);
	if (st->parallel)
	{
		if (st->next_row >= st->end_row &&
			!SbParallelNextRow(st->parallel, st->info->row_count,
							   &st->next_row, &st->end_row))
			return delta_tail(st);
	}
	else if (st->next_row >= st->info->row_count)
		return delta_tail(st);
	*row = st->next_row++;
	return SB_NEXT_ROW;
}

/* The scan's pinned mapping, or NULL for EXPLAIN without ANALYZE. */
const SbMappingRef *
SbScanMappingRef(ForeignScanState *node)
{
	SbScanState *st = node->fdw_state;

	return st ? st->ref : NULL;
}

/*
 * Make the scan of the table an UPDATE or DELETE changes claim each key
 * before it returns its rows (modify.c), when it feeds the change.
 */
void
SbScanClaimKeys(ForeignScanState *node)
{
	SbScanState *st = node->fdw_state;

	if (st && st->delta && !st->target)
	{
		st->target = true;
		fetch_key_columns(st);
	}
}

/* Make the scan share its rows through a parallel state. */
void
SbScanSetParallel(ForeignScanState *node, SbParallelState *ps)
{
	SbScanState *st = node->fdw_state;

	if (st)
	{
		st->parallel = ps;
		st->next_row = st->end_row = 0;
	}
}

/*
 * The value of an approximate bundle's unstored key column: the probe
 * value when the scan looked it up with a value of the column's (base)
 * type or a binary-compatible one, or converted from an integer probe of
 * another width.
 */
static bool
unstored_key_value(SbScanState *st, int keypos, Oid coltype, Datum *value)
{
	const SbProbeInfo *pi;
	Oid			base = getBaseType(coltype);
	int64		v;

	if (st->mode == SB_SCAN_SEQ || st->current == NULL ||
		keypos >= st->nkeyparts)
		return false;
	pi = &st->probe_info[keypos];
	if (pi->probetype == base ||
		(pi->kind == SB_KEY_VARLENA && IsBinaryCoercible(pi->probetype, base)))
	{
		*value = st->current->values[keypos];
		return true;
	}
	/* an integer probe of another width: its key part holds it as int8 */
	if (pi->kind != SB_KEY_INTEGER)
		return false;
	v = st->current->parts[keypos].ival;
	if (base == INT8OID)
		*value = Int64GetDatum(v);
	else if (base == INT4OID && v >= PG_INT32_MIN && v <= PG_INT32_MAX)
		*value = Int32GetDatum((int32) v);
	else if (base == INT2OID && v >= PG_INT16_MIN && v <= PG_INT16_MAX)
		*value = Int16GetDatum((int16) v);
	else
		return false;
	return true;
}

/* Fill the slot with the fetched columns of a row. */
static void
fill_slot(ForeignScanState *node, SbScanState *st, TupleTableSlot *slot,
		  uint64 row)
{
	sb_bundle  *b = st->bundle;
	const unsigned char *rowslot;
	TupleDesc	desc = slot->tts_tupleDescriptor;
	MemoryContext old = NULL;
	sb_error	err;

	if (sb_row_get(b, row, &rowslot, &err) != SB_OK)
		SbReportError(&err, st->label);

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * desc->natts);
	if (st->any_binary)
	{
		MemoryContextReset(st->row_cxt);
		old = MemoryContextSwitchTo(st->row_cxt);
	}
	for (int i = 0; i < st->nfetch; i++)
	{
		int			a = st->fetch[i];
		SbColumnMap *cm = &st->cols[a];
		const sb_column *c = &st->info->columns[cm->bcol];

		if (cm->keypos >= 0)
			slot->tts_isnull[a] = !unstored_key_value(st, cm->keypos,
													  TupleDescAttr(desc, a)->atttypid,
													  &slot->tts_values[a]);
		else if (!sb_slot_isnull(st->info, rowslot, cm->bcol))
		{
			slot->tts_values[a] = SbFetchDatum(b, rowslot, cm->bcol, c, &cm->recv,
											   cm->typioparam, cm->typmod,
											   st->label);
			slot->tts_isnull[a] = false;
		}
	}
	if (old)
		MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
}

/*
 * Does a row a lookup found hold the probe's key?  The library compared
 * every part but the hashed ones, whose values are compared here with the
 * clause's operator (the key column is among the fetched ones: the plan's
 * recheck clauses name it).
 */
static bool
confirm_row(const SbScanState *st, TupleTableSlot *slot)
{
	for (int k = 0; k < st->nkeyparts; k++)
	{
		const SbProbeInfo *pi = &st->probe_info[k];
		int			a = pi->hashed.attno - 1;

		if (pi->kind != SB_KEY_HASHED)
			continue;
		if (slot->tts_isnull[a] ||
			!SbConfirmHashed(pi, slot->tts_values[a], st->current->values[k]))
			return false;
	}
	return true;
}

/*
 * Fill the slot with the next candidate row: of the bundle, unless the
 * delta decides its key, or of the delta.  False at the end.
 */
static bool
next_candidate(ForeignScanState *node, SbScanState *st, TupleTableSlot *slot)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	uint64		row;

	for (;;)
	{
		if (st->pending_pos < list_length(st->pending))
		{
			SbDeltaStoreRow(st->delta, list_nth(st->pending, st->pending_pos++), slot);
			st->nfound_delta++;
			return true;
		}
		switch (next_row(node, st, &row))
		{
			case SB_NEXT_END:
				return false;
			case SB_NEXT_PENDING:
				continue;
			case SB_NEXT_ROW:
				break;
		}
		if (st->confirm && st->mode != SB_SCAN_SEQ)
		{
			/* what comparisons allocate, freed per candidate */
			ResetExprContext(econtext);
			fill_slot(node, st, slot, row);
			if (!confirm_row(st, slot))
				continue;
		}
		else
			fill_slot(node, st, slot, row);
		/* a sequential scan skips the keys the delta decides */
		if (st->delta && st->mode == SB_SCAN_SEQ && !st->tail_done &&
			!SbDeltaEmpty(st->delta) && SbDeltaOverrides(st->delta, slot))
			continue;
		if (st->mode != SB_SCAN_SEQ)
			st->nfound++;
		return true;
	}
}

/* Does a candidate pass the plan's recheck of a lookup turned scan? */
static bool
passes_recheck(ForeignScanState *node, SbScanState *st, TupleTableSlot *slot)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;

	if (!st->filter_recheck)
		return true;
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	return ExecQual(node->fdw_recheck_quals, econtext);
}

/*
 * For the table an UPDATE or DELETE changes: a candidate that passes the
 * scan's quals is replaced by its key's rows as they are once this
 * transaction has claimed the key.
 */
static bool
claim_candidate(ForeignScanState *node, SbScanState *st, TupleTableSlot *slot,
				List **claimed)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	if (node->ss.ps.qual && !ExecQual(node->ss.ps.qual, econtext))
		return false;
	*claimed = SbDeltaClaim(st->delta, slot);
	return true;
}

/*
 * sbIterateForeignScan
 *		Return the next row as a virtual tuple pointing into the mapping,
 *		or a row of the delta.
 */
TupleTableSlot *
sbIterateForeignScan(ForeignScanState *node)
{
	SbScanState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	for (;;)
	{
		if (st->claimed_pos < list_length(st->claimed))
		{
			SbDeltaStoreRow(st->delta, list_nth(st->claimed, st->claimed_pos++), slot);
			return slot;
		}
		ExecClearTuple(slot);
		if (!next_candidate(node, st, slot))
			return ExecClearTuple(slot);
		if (!passes_recheck(node, st, slot))
			continue;
		if (!st->target)
			return slot;
		if (claim_candidate(node, st, slot, &st->claimed))
			st->claimed_pos = 0;
	}
}

/*
 * sbReScanForeignScan
 *		Start over; lookups re-evaluate their probe values.
 */
void
sbReScanForeignScan(ForeignScanState *node)
{
	SbScanState *st = node->fdw_state;

	st->next_row = st->end_row = 0;
	st->started = false;
	st->in_lookup = false;
	st->current = NULL;
	st->pending = st->claimed = NIL;
	st->pending_pos = st->claimed_pos = 0;
	st->tail_done = false;
}

/*
 * sbEndForeignScan
 *		Release the scan's pin on the bundle.
 */
void
sbEndForeignScan(ForeignScanState *node)
{
	SbScanState *st = node->fdw_state;

	if (st && st->ref)
	{
		if (st->mode == SB_SCAN_SEQ && st->bundle)
			sb_advise_scan(st->bundle, false);
		SbUnpinBundle(st->ref);
	}
}

/*
 * A copy of a probe expression whose executor parameters (PARAM_EXEC: from
 * an outer row, an InitPlan) deparse as "$n".  An FDW's EXPLAIN is not
 * told the plan node's ancestors, without which ruleutils cannot name
 * what such a parameter stands for: it prints "$n", and from
 * PostgreSQL 17 on fails an assertion first.
 */
static Node *
exec_params_as_numbers(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
	{
		Param	   *param = copyObject((Param *) node);

		param->paramkind = PARAM_EXTERN;
		return (Node *) param;
	}
	return expression_tree_mutator(node, exec_params_as_numbers, context);
}

/*
 * The lookup keys of a scan as text: the key columns, and with VERBOSE the
 * values probed, "id = $1" or "id = ANY (...)".
 */
static char *
lookup_keys_text(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	SbScanMode	mode = intVal(list_nth(plan->fdw_private, SbPrivMode));
	List	   *names = list_nth(plan->fdw_private, SbPrivKeyNames);
	List	   *context = set_deparse_context_plan(es->deparse_cxt,
												   (Plan *) plan, NIL);
	StringInfoData buf;
	ListCell   *ln,
			   *le;

	initStringInfo(&buf);
	forboth(ln, names, le, plan->fdw_exprs)
	{
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 quote_identifier(strVal(lfirst(ln))));
		if (es->verbose)
			appendStringInfo(&buf, " = %s%s%s", mode == SB_SCAN_ANY ? "ANY (" : "",
							 deparse_expression(exec_params_as_numbers(lfirst(le), NULL),
												context, true, false),
							 mode == SB_SCAN_ANY ? ")" : "");
	}
	return buf.data;
}

/*
 * sbExplainForeignScan
 *		Show the bundle and its rows, the key columns of a lookup (with
 *		VERBOSE, the values probed), and with ANALYZE the lookups made and
 *		the rows they found.
 */
void
sbExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	SbScanState *st = node->fdw_state;
	SbScanMode	mode = intVal(list_nth(plan->fdw_private, SbPrivMode));
	int64		rows = intVal(list_nth(plan->fdw_private, SbPrivRows));

	ExplainPropertyText("Bundle", strVal(list_nth(plan->fdw_private, SbPrivLabel)), es);
	if (st && st->bundle)
		rows = (int64) st->info->row_count;
	ExplainPropertyInteger("Bundle Rows", NULL, rows, es);
	if (mode != SB_SCAN_SEQ)
		ExplainPropertyText("Lookup Keys", lookup_keys_text(node, es), es);
	if (st && st->delta)
		ExplainPropertyText("Delta", SbDeltaName(st->delta), es);
	else if (st == NULL)
	{
		/* EXPLAIN without ANALYZE began no scan */
		const char *bundle = SbGetTableOptions(RelationGetRelid(node->ss.ss_currentRelation))->bundle;

		if (OidIsValid(SbDeltaRelid(bundle)))
			ExplainPropertyText("Delta", SbDeltaObject(bundle, NULL), es);
	}
	if (es->analyze && st && mode != SB_SCAN_SEQ)
	{
		ExplainPropertyInteger("Lookups", NULL, st->nlookups, es);
		ExplainPropertyInteger("Rows Found", NULL, st->nfound, es);
	}
	if (es->analyze && st && st->delta)
		ExplainPropertyInteger("Rows Found in Delta", NULL, st->nfound_delta, es);
}
