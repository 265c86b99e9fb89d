/*-------------------------------------------------------------------------
 *
 * followwrite.c
 *	  The trigger that carries a followed table's changes into the delta of
 *	  a following bundle.
 *
 * After each INSERT, UPDATE or DELETE statement on the table (COPY, and
 * the actions of INSERT ... ON CONFLICT and MERGE, fire the same
 * triggers), the trigger reads the statement's transition tables and
 * writes the new state of every key the statement changed straight into
 * the delta's heap and indexes, without SQL: each key of an old or new row
 * that passes the query's WHERE clause gets a marker of the current
 * generation (delta.c), unless it has one, and its rows of the generation
 * go, the old rows' keys first; each new row that passes comes in,
 * projected by the query's select list, once its key is claimed.  A key identifies a row of the
 * table, so writers of a key wait for each other on the table's row or
 * unique index before they get here, and the delta's rows of the key are
 * those the last of them committed.  The query's expressions are compiled
 * once per backend and trigger, and again after a function changes.  After TRUNCATE the bundle is rebuilt
 * from the (now empty) query instead.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "catalog/index.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "tcop/tcopprot.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(sharedbuf_follow_trigger);

/* A trigger's compiled query, kept for the backend. */
typedef struct FollowExprs
{
	Oid			trigoid;		/* hash key */
	char	   *args;			/* the arguments it was compiled from */
	int			ncolumns;
	ExprState **columns;		/* the delta's columns, in table order */
	ExprState  *qual;			/* or NULL */
	int			nkeys;
	AttrNumber	keyatts[SB_MAX_KEY_COLUMNS];	/* in the followed table */
	MemoryContext cxt;
} FollowExprs;

/* What one firing of the trigger writes with. */
typedef struct FollowWrite
{
	const SbDelta *d;
	FollowExprs *fe;
	int64		gen;
	Relation	delta;
	Relation	marker_index;
	Relation	row_index;
	Relation	gen_index;
	IndexInfo  *marker_info;
	IndexInfo  *row_info;
	IndexInfo  *gen_info;
	ExprContext *econtext;
	TupleTableSlot *slot;		/* a row of the followed table */
	TupleTableSlot *delta_slot; /* a row of the delta */
	Datum	   *values;			/* a delta tuple being made */
	bool	   *nulls;
	RegProcedure eqprocs[SB_MAX_KEY_COLUMNS];	/* of the key in the indexes */
	bool		keybyval[SB_MAX_KEY_COLUMNS];
	int16		keylen[SB_MAX_KEY_COLUMNS];
	List	   *claimed;		/* the keys claimed, while few */
	HTAB	   *claimed_hash;	/* then by hash */
} FollowWrite;

/* Keys claimed by a firing with one hash. */
typedef struct ClaimedBucket
{
	uint32		hash;
	List	   *keys;			/* Datum arrays */
} ClaimedBucket;

static HTAB *follow_exprs = NULL;
static bool follow_exprs_stale = false;

/* A function changed: compile every trigger's query again at its next use. */
static void
follow_exprs_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	follow_exprs_stale = true;
}

/* Forget every compiled query. */
static void
forget_follow_exprs(void)
{
	HASH_SEQ_STATUS seq;
	FollowExprs *fe;

	hash_seq_init(&seq, follow_exprs);
	while ((fe = hash_seq_search(&seq)) != NULL)
	{
		MemoryContextDelete(fe->cxt);
		hash_search(follow_exprs, &fe->trigoid, HASH_REMOVE, NULL);
	}
	follow_exprs_stale = false;
}

/* The trigger's arguments joined, to notice new ones. */
static char *
joined_args(const Trigger *tg)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < tg->tgnargs; i++)
		appendStringInfo(&buf, "%s%c", tg->tgargs[i], '\x1f');
	return buf.data;
}

/* Compile an analyzed expression for evaluation without a plan. */
static ExprState *
compile(Expr *expr)
{
	return ExecInitExpr(expression_planner(expr), NULL);
}

/*
 * Compile the trigger's query over the followed table 'source': its
 * arguments hold the delta's columns, the WHERE clause and the key over
 * the table's row "s", every name qualified.
 */
static void
compile_follow(FollowExprs *fe, const Trigger *tg, Oid source, int ncolumns)
{
	char	   *sql = psprintf("SELECT %s, %s FROM ONLY %s s WHERE %s",
							   tg->tgargs[1], tg->tgargs[3],
							   SbQualifiedRelationName(source), tg->tgargs[2]);
	int			nest = NewGUCNestLevel();
	List	   *raw;
	Query	   *q;
	ListCell   *lc;
	int			i = 0;

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	raw = pg_parse_query(sql);
	q = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
	AtEOXact_GUC(true, nest);
	fe->ncolumns = ncolumns;
	fe->nkeys = list_length(q->targetList) - ncolumns;
	fe->columns = palloc(sizeof(ExprState *) * Max(1, ncolumns));
	if (fe->nkeys < 1 || fe->nkeys > SB_MAX_KEY_COLUMNS)
		elog(ERROR, "the follow trigger's key does not fit its delta");
	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (i < ncolumns)
			fe->columns[i] = compile(tle->expr);
		else if (IsA(tle->expr, Var))
			fe->keyatts[i - ncolumns] = ((Var *) tle->expr)->varattno;
		else
			elog(ERROR, "the follow trigger's key is not a column");
		i++;
	}
	fe->qual = q->jointree->quals ? compile((Expr *) q->jointree->quals) : NULL;
}

/* The compiled query of the trigger firing now. */
static FollowExprs *
follow_exprs_for(const Trigger *tg, Oid source, const SbDelta *d)
{
	char	   *args = joined_args(tg);
	int			ncolumns = 0;
	FollowExprs *fe;
	bool		found;
	MemoryContext old;

	if (follow_exprs == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(FollowExprs);
		ctl.hcxt = TopMemoryContext;
		follow_exprs = hash_create("sharedbuf follow triggers", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterSyscacheCallback(PROCOID, follow_exprs_inval, (Datum) 0);
	}
	if (follow_exprs_stale)
		forget_follow_exprs();
	fe = hash_search(follow_exprs, &tg->tgoid, HASH_ENTER, &found);
	if (found && strcmp(fe->args, args) == 0)
		return fe;
	if (found)
		MemoryContextDelete(fe->cxt);
	fe->cxt = NULL;
	fe->args = NULL;
	for (int i = 0; i < d->natts; i++)
		ncolumns += d->colnames[i] != NULL;
	PG_TRY();
	{
		fe->cxt = AllocSetContextCreate(TopMemoryContext, "sharedbuf follow trigger",
										ALLOCSET_SMALL_SIZES);
		old = MemoryContextSwitchTo(fe->cxt);
		compile_follow(fe, tg, source, ncolumns);
		fe->args = pstrdup(args);
		MemoryContextSwitchTo(old);
	}
	PG_CATCH();
	{
		if (fe->cxt)
			MemoryContextDelete(fe->cxt);
		hash_search(follow_exprs, &tg->tgoid, HASH_REMOVE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return fe;
}

/* Whether the row in the slot passes the query's WHERE clause. */
static bool
passes(FollowWrite *fw)
{
	bool		isnull;
	Datum		v;

	if (fw->fe->qual == NULL)
		return true;
	v = ExecEvalExprSwitchContext(fw->fe->qual, fw->econtext, &isnull);
	return !isnull && DatumGetBool(v);
}

/* Insert a tuple into the delta and the indexes its kind is in. */
static void
insert_delta_tuple(FollowWrite *fw, Datum *values, bool *nulls, bool marker)
{
	HeapTuple	tup = heap_form_tuple(RelationGetDescr(fw->delta), values, nulls);
	Datum		ivalues[SB_MAX_KEY_COLUMNS + 1];
	bool		inulls[SB_MAX_KEY_COLUMNS + 1] = {false};
	const SbDelta *d = fw->d;

	simple_heap_insert(fw->delta, tup);
	for (int k = 0; k < d->nkeys; k++)
		ivalues[k] = values[d->deltaatts[d->keyattnos[k] - 1] - 1];
	ivalues[d->nkeys] = Int64GetDatum(fw->gen);
	if (marker)
		(void) index_insert(fw->marker_index, ivalues, inulls, &tup->t_self, fw->delta,
							UNIQUE_CHECK_YES, false, fw->marker_info);
	else
		(void) index_insert(fw->row_index, ivalues, inulls, &tup->t_self, fw->delta,
							d->unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO, false,
							fw->row_info);
	(void) index_insert(fw->gen_index, &ivalues[d->nkeys], inulls, &tup->t_self, fw->delta,
						UNIQUE_CHECK_NO, false, fw->gen_info);
	heap_freetuple(tup);
}

/* Set a delta tuple's generation, kind and sequence number. */
static void
set_system_columns(FollowWrite *fw, char kind)
{
	const SbDelta *d = fw->d;

	fw->values[d->gen_att - 1] = Int64GetDatum(fw->gen);
	fw->nulls[d->gen_att - 1] = false;
	fw->values[d->kind_att - 1] = CharGetDatum(kind);
	fw->nulls[d->kind_att - 1] = false;
	fw->values[d->seq_att - 1] = Int64GetDatum(0);
	fw->nulls[d->seq_att - 1] = false;
}

/*
 * The ctids of a key's tuples of the generation in one of the delta's
 * indexes, committed or this transaction's; at most 'limit' (0: all).
 */
static List *
key_tuples(FollowWrite *fw, Relation index, const Datum *keys, int limit)
{
	const SbDelta *d = fw->d;
	ScanKeyData sk[SB_MAX_KEY_COLUMNS + 1];
	IndexScanDesc scan;
	List	   *tids = NIL;
	ItemPointer tid;

	for (int k = 0; k < d->nkeys; k++)
		ScanKeyEntryInitialize(&sk[k], 0, k + 1, BTEqualStrategyNumber,
							   index->rd_opcintype[k], index->rd_indcollation[k],
							   fw->eqprocs[k], keys[k]);
	ScanKeyInit(&sk[d->nkeys], d->nkeys + 1, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(fw->gen));
	scan = sb_index_beginscan(fw->delta, index, SnapshotSelf, d->nkeys + 1, 0);
	index_rescan(scan, sk, d->nkeys + 1, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		if (!index_fetch_heap(scan, fw->delta_slot))
			continue;
		tids = lappend(tids, palloc_object(ItemPointerData));
		*(ItemPointer) llast(tids) = fw->delta_slot->tts_tid;
		if (limit > 0 && list_length(tids) >= limit)
			break;
	}
	index_endscan(scan);
	return tids;
}

/*
 * Give a key the marker of the generation, unless it has it, and delete
 * its rows of the generation, committed and this transaction's (a key
 * without the marker has none).
 */
static void
claim_key(FollowWrite *fw, Datum *keys)
{
	const SbDelta *d = fw->d;
	int			natts = RelationGetDescr(fw->delta)->natts;
	ListCell   *lc;

	if (key_tuples(fw, fw->marker_index, keys, 1) != NIL)
	{
		foreach(lc, key_tuples(fw, fw->row_index, keys, 0))
			simple_heap_delete(fw->delta, lfirst(lc));
		return;
	}
	memset(fw->nulls, true, sizeof(bool) * natts);
	for (int k = 0; k < d->nkeys; k++)
	{
		AttrNumber	a = d->deltaatts[d->keyattnos[k] - 1];

		fw->values[a - 1] = keys[k];
		fw->nulls[a - 1] = false;
	}
	set_system_columns(fw, 'K');
	insert_delta_tuple(fw, fw->values, fw->nulls, true);
}

/* The hash of a key's binary images. */
static uint32
key_hash(FollowWrite *fw, const Datum *keys)
{
	uint32		h = 0;

	for (int k = 0; k < fw->fe->nkeys; k++)
	{
		Size		len = datumGetSize(keys[k], fw->keybyval[k], fw->keylen[k]);
		const char *p = fw->keybyval[k] ? (const char *) &keys[k] : DatumGetPointer(keys[k]);

		h = hash_combine(h, hash_bytes((const unsigned char *) p, (int) len));
	}
	return h;
}

/* Whether a list of claimed keys holds a key. */
static bool
list_has_key(FollowWrite *fw, List *list, const Datum *keys)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		Datum	   *entry = lfirst(lc);
		bool		same = true;

		for (int k = 0; same && k < fw->fe->nkeys; k++)
			same = datumIsEqual(entry[k], keys[k], fw->keybyval[k], fw->keylen[k]);
		if (same)
			return true;
	}
	return false;
}

/*
 * Whether this firing claimed a key before; if not, remember it.  Keys are
 * compared by their binary images: keys equal in another way are claimed
 * twice, which costs a probe.  A few keys are kept in a list, more in a
 * hash table of lists.
 */
static bool
claimed_before(FollowWrite *fw, const Datum *keys)
{
	Datum	   *copy;
	List	  **list = &fw->claimed;

	if (fw->claimed_hash == NULL && list_length(fw->claimed) >= 16)
	{
		HASHCTL		ctl = {0};
		List	   *old = fw->claimed;
		ListCell   *lc;

		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(ClaimedBucket);
		ctl.hcxt = CurrentMemoryContext;
		fw->claimed_hash = hash_create("sharedbuf claimed keys", 256, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		fw->claimed = NIL;
		foreach(lc, old)
		{
			uint32		h = key_hash(fw, lfirst(lc));
			bool		found;
			ClaimedBucket *b = hash_search(fw->claimed_hash, &h, HASH_ENTER, &found);

			b->keys = found ? lappend(b->keys, lfirst(lc)) : list_make1(lfirst(lc));
		}
	}
	if (fw->claimed_hash)
	{
		uint32		h = key_hash(fw, keys);
		bool		found;
		ClaimedBucket *b = hash_search(fw->claimed_hash, &h, HASH_ENTER, &found);

		if (!found)
			b->keys = NIL;
		list = &b->keys;
	}
	if (list_has_key(fw, *list, keys))
		return true;
	copy = palloc(sizeof(Datum) * fw->fe->nkeys);
	for (int k = 0; k < fw->fe->nkeys; k++)
		copy[k] = datumCopy(keys[k], fw->keybyval[k], fw->keylen[k]);
	*list = lappend(*list, copy);
	return false;
}

/* Insert the projection of the new row in the slot. */
static void
insert_row(FollowWrite *fw)
{
	const SbDelta *d = fw->d;
	int			c = 0;

	memset(fw->nulls, true, sizeof(bool) * RelationGetDescr(fw->delta)->natts);
	for (int i = 0; i < d->natts; i++)
	{
		AttrNumber	a = d->deltaatts[i];

		if (d->colnames[i] == NULL)
			continue;
		fw->values[a - 1] = ExecEvalExprSwitchContext(fw->fe->columns[c++], fw->econtext,
													  &fw->nulls[a - 1]);
	}
	set_system_columns(fw, 'R');
	insert_delta_tuple(fw, fw->values, fw->nulls, false);
}

/*
 * Claim the key of every row of a transition table that passes the WHERE
 * clause; of the new rows, also insert each.  The old rows come first, so
 * that a key's rows of the generation are gone before its new row comes
 * (a table's keys are unique among its new rows).
 */
static void
write_rows(FollowWrite *fw, Tuplestorestate *ts, bool new_rows)
{
	Datum		keys[SB_MAX_KEY_COLUMNS];

	tuplestore_select_read_pointer(ts, 0);
	tuplestore_rescan(ts);
	while (tuplestore_gettupleslot(ts, true, false, fw->slot))
	{
		ResetExprContext(fw->econtext);
		if (!passes(fw))
			continue;
		for (int k = 0; k < fw->fe->nkeys; k++)
		{
			bool		isnull;

			keys[k] = slot_getattr(fw->slot, fw->fe->keyatts[k], &isnull);
			if (isnull)
				elog(ERROR, "a key column of a followed table is null");
		}
		if (!claimed_before(fw, keys))
			claim_key(fw, keys);
		if (new_rows)
			insert_row(fw);
	}
}

/* Open what a firing writes with. */
static void
begin_write(FollowWrite *fw, TriggerData *td, const SbDelta *d)
{
	fw->d = d;
	fw->fe = follow_exprs_for(td->tg_trigger, RelationGetRelid(td->tg_relation), d);
	/* a rebuild moves the generation on under a share lock */
	fw->delta = table_open(d->relid, RowExclusiveLock);
	fw->gen = SbDeltaGeneration(d);
	fw->marker_index = index_open(d->marker_index, RowExclusiveLock);
	fw->row_index = index_open(d->row_index, RowExclusiveLock);
	fw->gen_index = index_open(d->gen_index, RowExclusiveLock);
	fw->marker_info = BuildIndexInfo(fw->marker_index);
	fw->row_info = BuildIndexInfo(fw->row_index);
	fw->gen_info = BuildIndexInfo(fw->gen_index);
	fw->econtext = CreateStandaloneExprContext();
	fw->slot = MakeSingleTupleTableSlot(RelationGetDescr(td->tg_relation),
										&TTSOpsMinimalTuple);
	fw->econtext->ecxt_scantuple = fw->slot;
	fw->delta_slot = table_slot_create(fw->delta, NULL);
	fw->values = palloc0(sizeof(Datum) * RelationGetDescr(fw->delta)->natts);
	fw->nulls = palloc(sizeof(bool) * RelationGetDescr(fw->delta)->natts);
	for (int k = 0; k < d->nkeys; k++)
	{
		Oid			type = fw->marker_index->rd_opcintype[k];
		Oid			opno = get_opfamily_member(fw->marker_index->rd_opfamily[k],
											   type, type, BTEqualStrategyNumber);

		if (!OidIsValid(opno))
			elog(ERROR, "no btree equality for type %u", type);
		fw->eqprocs[k] = get_opcode(opno);
		get_typlenbyval(d->keytypes[k], &fw->keylen[k], &fw->keybyval[k]);
	}
}

/* Close it. */
static void
end_write(FollowWrite *fw)
{
	ExecDropSingleTupleTableSlot(fw->delta_slot);
	ExecDropSingleTupleTableSlot(fw->slot);
	FreeExprContext(fw->econtext, true);
	index_close(fw->gen_index, NoLock);
	index_close(fw->row_index, NoLock);
	index_close(fw->marker_index, NoLock);
	table_close(fw->delta, NoLock);
}

/*
 * Write the changes of the statement that fired 'td' to the delta, as the
 * foreign table's owner.
 */
static void
write_changes(TriggerData *td, const SbDelta *d)
{
	FollowWrite fw = {0};
	Oid			save_user;
	int			save_sec;

	if (td->tg_oldtable == NULL && td->tg_newtable == NULL)
		return;
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(d->runas, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	begin_write(&fw, td, d);
	if (td->tg_oldtable)
		write_rows(&fw, td->tg_oldtable, false);
	if (td->tg_newtable)
		write_rows(&fw, td->tg_newtable, true);
	end_write(&fw);
	SetUserIdAndSecContext(save_user, save_sec);
}

/*
 * After TRUNCATE, rebuild the bundle from its query, which the truncation
 * empties, as the foreign table's owner; the delta's generations go with
 * the old bundle.
 */
static void
rebuild_after_truncate(Relation ftrel, const SbTableOptions *opts)
{
	SbBuildResult result = {0};
	Oid			save_user;
	int			save_sec;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(ftrel->rd_rel->relowner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	SbBuildBundle(opts->bundle, opts->query, opts->key ? opts->key : SbCurrentKey(opts),
				  opts->approximate, &result);
	SetUserIdAndSecContext(save_user, save_sec);
}

/*
 * sharedbuf_follow_trigger()
 *		The statement trigger of a followed table: carry the statement's
 *		changes into the following bundle's delta.
 */
Datum
sharedbuf_follow_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Oid			ftrelid;
	Relation	ftrel;
	SbTableOptions *opts;
	SbDelta    *d;

	if (!CALLED_AS_TRIGGER(fcinfo) || TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		td->tg_trigger->tgnargs < 4)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sharedbuf_follow_trigger() must be fired by the statement triggers of a following bundle")));
	ftrelid = atooid(td->tg_trigger->tgargs[0]);
	ftrel = table_open(ftrelid, AccessShareLock);
	opts = SbGetTableOptions(ftrelid);
	d = opts->bundle ? SbDeltaFor(ftrel, opts->bundle) : NULL;
	if (d == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign table \"%s\" follows table \"%s\" but its bundle has no delta",
						RelationGetRelationName(ftrel),
						RelationGetRelationName(td->tg_relation)),
				 errhint("Refresh it with sharedbuf_refresh() to follow the table again.")));
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		rebuild_after_truncate(ftrel, opts);
	else
	{
		write_changes(td, d);
		SbFollowFoldIfPast(ftrel, d);
	}
	table_close(ftrel, NoLock);
	return PointerGetDatum(NULL);
}
