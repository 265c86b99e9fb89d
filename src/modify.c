/*-------------------------------------------------------------------------
 *
 * modify.c
 *	  INSERT, UPDATE, DELETE and COPY FROM on writable bundles.
 *
 * Writes go to the bundle's delta (delta.c).  When the scan of the changed
 * table feeds the UPDATE or DELETE directly, it claims each key before it
 * returns the key's rows, and returns them from the delta (deltaread.c):
 * the statement computes its quals and new values from the newest rows,
 * and identifies each by its ctid in the delta, a row this transaction
 * alone may change.  When a join stands between them, claiming every row
 * the scan reads would copy rows that never join; then the change claims
 * the key of the old row and looks for a row of those values among the
 * key's rows (none, if a concurrent write changed it).  An INSERT claims
 * its key too, which also makes a unique-key bundle's duplicate check
 * race-free.  An UPDATE of a key column deletes the row and inserts it
 * under its new key.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/inherit.h"
#include "optimizer/pathnode.h"
#include "parser/parsetree.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* Rows an INSERT or COPY sends at once, when nothing needs them one by one. */
#define SB_INSERT_BATCH		100

/* fdw_private of a ModifyTable's foreign table */
enum SbModifyPrivateIndex
{
	SbModKeyUpdated				/* Integer: does an UPDATE set a key column? */
};

typedef struct SbModifyState
{
	SbDelta    *d;
	char	   *ftname;			/* the foreign table, qualified */
	int64		gen;			/* the generation writes are stamped with */
	bool		key_updated;
	int64		written;		/* rows this statement wrote */
	AttrNumber	ctid_attno;		/* of the plan's "ctid" junk column */
	AttrNumber	wholerow_attno; /* of its "wholerow" junk column */
	bool		direct;			/* the changed table's scan feeds the change */
	MemoryContext row_cxt;		/* reset per row */
	char	   *insert_sql;
	char	   *update_sql;
	char	   *delete_sql;
} SbModifyState;

/*
 * sbIsForeignRelUpdatable
 *		Every table says yes; planning a change of a read-only bundle then
 *		tells why it cannot be.
 */
int
sbIsForeignRelUpdatable(Relation rel)
{
	return (1 << CMD_INSERT) | (1 << CMD_UPDATE) | (1 << CMD_DELETE);
}

/* Refuse to change a table whose bundle has no delta, or follows a table. */
static void
check_table_writable(Relation rel, const SbTableOptions *opts)
{
	if (opts->bundle == NULL || !OidIsValid(SbDeltaRelid(opts->bundle)))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot change foreign table \"%s\": its bundle is read-only",
						RelationGetRelationName(rel)),
				 opts->bundle ?
				 errhint("Make it writable with sharedbuf_set_writable('%s').",
						 SbQualifiedRelationName(RelationGetRelid(rel))) :
				 errhint("Only a table over a bundle of this database can be writable.")));
	if (opts->follow)
	{
		Oid			source = SbFollowedTable(RelationGetRelid(rel));

		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot change foreign table \"%s\": its bundle follows a table",
						RelationGetRelationName(rel)),
				 OidIsValid(source) ?
				 errdetail("It follows table \"%s\"; change that table instead.",
						   get_rel_name(source)) : 0,
				 errhint("To write to the bundle itself, drop the table's \"follow\" option and refresh it.")));
	}
}

/*
 * sbAddForeignUpdateTargets
 *		A row is identified by its ctid in the delta.
 */
void
sbAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
						  RangeTblEntry *target_rte, Relation target_relation)
{
	Var		   *var = makeVar(rtindex, SelfItemPointerAttributeNumber, TIDOID,
							  -1, InvalidOid, 0);

	add_row_identity_var(root, var, rtindex, "ctid");
	/* the old row, for a change that a join separates from the scan */
	add_row_identity_var(root, makeWholeRowVar(target_rte, rtindex, 0, false),
						 rtindex, "wholerow");
}

/*
 * sbPlanForeignModify
 *		Check that the bundle is writable; note whether an UPDATE sets a
 *		key column.
 */
List *
sbPlanForeignModify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
					int subplan_index)
{
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	Relation	rel = table_open(rte->relid, NoLock);
	SbTableOptions *opts = SbGetTableOptions(rte->relid);
	bool		key_updated = false;

	check_table_writable(rel, opts);
	if (plan->operation == CMD_UPDATE)
	{
		SbDelta    *d = SbDeltaFor(rel, opts->bundle);
		Bitmapset  *cols = get_rel_all_updated_cols(root, find_base_rel(root, resultRelation));

		for (int k = 0; k < d->nkeys; k++)
			if (bms_is_member(d->keyattnos[k] - FirstLowInvalidHeapAttributeNumber, cols))
				key_updated = true;
	}
	table_close(rel, NoLock);
	return list_make1(makeInteger(key_updated));
}

/* "$1, $2, ...": the table's columns as arguments. */
static char *
column_params(const SbDelta *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0, n = 1; i < d->natts; i++)
		if (d->colnames[i])
			appendStringInfo(&buf, "%s$%d", buf.len ? ", " : "", n++);
	return buf.data;
}

/* "c1 = $1, c2 = $2, ...": the table's columns set from arguments. */
static char *
column_assignments(const SbDelta *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0, n = 1; i < d->natts; i++)
		if (d->colnames[i])
			appendStringInfo(&buf, "%s%s = $%d", buf.len ? ", " : "",
							 d->colnames[i], n++);
	return buf.data;
}

/* Set up writes to a table's delta. */
static SbModifyState *
begin_modify(Relation rel, EState *estate, bool key_updated)
{
	SbTableOptions *opts = SbGetTableOptions(RelationGetRelid(rel));
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	SbModifyState *ms = palloc0(sizeof(SbModifyState));
	SbDelta    *d;
	int			ncols = 0;

	check_table_writable(rel, opts);
	d = ms->d = SbDeltaFor(rel, opts->bundle);
	ms->ftname = SbQualifiedRelationName(RelationGetRelid(rel));
	ms->key_updated = key_updated;
	ms->row_cxt = AllocSetContextCreate(estate->es_query_cxt, "sharedbuf modify row",
										ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < d->natts; i++)
		ncols += d->colnames[i] != NULL;
	ms->insert_sql = psprintf("INSERT INTO %s (%s, sb_gen, sb_kind) VALUES (%s, $%d, 'R')",
							  d->qualname, SbDeltaColumnList(d, ""), column_params(d),
							  ncols + 1);
	ms->update_sql = psprintf("UPDATE %s SET %s WHERE ctid OPERATOR(pg_catalog.=) $%d",
							  d->qualname, column_assignments(d), ncols + 1);
	ms->delete_sql = psprintf("DELETE FROM %s WHERE ctid OPERATOR(pg_catalog.=) $1 RETURNING %s",
							  d->qualname, SbDeltaColumnList(d, ""));
	/* a rebuild waits for this lock before it moves writers on */
	LockRelationOid(d->relid, RowExclusiveLock);
	ms->gen = SbDeltaGeneration(d);
	MemoryContextSwitchTo(old);
	return ms;
}

/*
 * sbBeginForeignModify
 *		Open the delta for an INSERT, UPDATE or DELETE.
 */
void
sbBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
					 List *fdw_private, int subplan_index, int eflags)
{
	SbModifyState *ms;
	CmdType		op = mtstate->operation;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	ms = begin_modify(rinfo->ri_RelationDesc, mtstate->ps.state,
					  intVal(list_nth(fdw_private, SbModKeyUpdated)) != 0);
	if (op == CMD_UPDATE || op == CMD_DELETE)
	{
		PlanState  *sub = outerPlanState(mtstate);

		ms->ctid_attno = ExecFindJunkAttributeInTlist(sub->plan->targetlist, "ctid");
		ms->wholerow_attno = ExecFindJunkAttributeInTlist(sub->plan->targetlist, "wholerow");
		if (!AttributeNumberIsValid(ms->ctid_attno) ||
			!AttributeNumberIsValid(ms->wholerow_attno))
			elog(ERROR, "could not find junk ctid or wholerow column");
		ms->direct = IsA(sub, ForeignScanState) &&
			((Scan *) sub->plan)->scanrelid == rinfo->ri_RangeTableIndex;
		if (ms->direct)
			SbScanClaimKeys((ForeignScanState *) sub);
	}
	rinfo->ri_FdwState = ms;
}

/*
 * sbBeginForeignInsert
 *		Open the delta for COPY FROM or a row routed to a partition.
 */
void
sbBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	rinfo->ri_FdwState = begin_modify(rinfo->ri_RelationDesc, mtstate->ps.state, false);
}

/* The values of a slot's columns as statement arguments. */
static int
slot_args(SbModifyState *ms, TupleTableSlot *slot, Datum *values, char *nulls,
		  Oid *types)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	int			n = 0;

	slot_getallattrs(slot);
	for (int i = 0; i < ms->d->natts; i++)
	{
		if (ms->d->colnames[i] == NULL)
			continue;
		values[n] = slot->tts_values[i];
		nulls[n] = slot->tts_isnull[i] ? 'n' : ' ';
		types[n] = TupleDescAttr(desc, i)->atttypid;
		n++;
	}
	return n;
}

/* Refuse a new row with a NULL key; a writable bundle's keys are values. */
static void
check_key_not_null(SbModifyState *ms, TupleTableSlot *slot, Datum *keys)
{
	for (int k = 0; k < ms->d->nkeys; k++)
	{
		int			a = ms->d->keyattnos[k] - 1;

		if (slot->tts_isnull[a])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in key column \"%s\" of writable bundle \"%s\"",
							NameStr(TupleDescAttr(slot->tts_tupleDescriptor, a)->attname),
							ms->d->bundle)));
		keys[k] = slot->tts_values[a];
	}
}

/* Does the claimed key already have a row?  (For unique-key bundles.) */
static bool
key_has_row(SbModifyState *ms, const Datum *keys)
{
	return SbDeltaKeyRows(ms->d, ms->gen, keys) != NIL;
}

/* "(k1, k2)=(v1, v2)": a key and its values, for messages. */
static char *
key_text(SbModifyState *ms, TupleTableSlot *slot)
{
	StringInfoData names,
				values;

	initStringInfo(&names);
	initStringInfo(&values);
	for (int k = 0; k < ms->d->nkeys; k++)
	{
		Form_pg_attribute att = TupleDescAttr(slot->tts_tupleDescriptor,
											  ms->d->keyattnos[k] - 1);
		Oid			out;
		bool		varlena;

		getTypeOutputInfo(att->atttypid, &out, &varlena);
		appendStringInfo(&names, "%s%s", k ? ", " : "", NameStr(att->attname));
		appendStringInfo(&values, "%s%s", k ? ", " : "",
						 OidOutputFunctionCall(out, slot->tts_values[ms->d->keyattnos[k] - 1]));
	}
	return psprintf("(%s)=(%s)", names.data, values.data);
}

/* Insert a row into the delta under its key, which it claims. */
static void
insert_row(SbModifyState *ms, TupleTableSlot *slot)
{
	Datum		keys[SB_MAX_KEY_COLUMNS];
	Datum		values[MaxTupleAttributeNumber];
	char		nulls[MaxTupleAttributeNumber];
	Oid			types[MaxTupleAttributeNumber];
	int			n;

	slot_getallattrs(slot);
	check_key_not_null(ms, slot, keys);
	SbDeltaClaimKey(ms->d, ms->ftname, ms->gen, keys);
	if (ms->d->unique && key_has_row(ms, keys))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("duplicate key value violates the key of writable bundle \"%s\"",
						ms->d->bundle),
				 errdetail("Key %s already exists.", key_text(ms, slot))));
	n = slot_args(ms, slot, values, nulls, types);
	values[n] = Int64GetDatum(ms->gen);
	nulls[n] = ' ';
	types[n] = INT8OID;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(ms->d->runas, ms->insert_sql, n + 1, types, values, nulls, false);
	SPI_finish();
	ms->written++;
}

/*
 * sbExecForeignInsert
 *		Insert a row.
 */
TupleTableSlot *
sbExecForeignInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					TupleTableSlot *planSlot)
{
	SbModifyState *ms = rinfo->ri_FdwState;
	MemoryContext old = MemoryContextSwitchTo(ms->row_cxt);

	insert_row(ms, slot);
	MemoryContextSwitchTo(old);
	MemoryContextReset(ms->row_cxt);
	return slot;
}

/*
 * sbGetForeignModifyBatchSize
 *		Batch inserts unless RETURNING, row triggers or a view's check
 *		options need each row back at once.
 */
int
sbGetForeignModifyBatchSize(ResultRelInfo *rinfo)
{
	TriggerDesc *td = rinfo->ri_TrigDesc;

	if (rinfo->ri_projectReturning || rinfo->ri_WithCheckOptions ||
		(td && (td->trig_insert_before_row || td->trig_insert_after_row)))
		return 1;
	return SB_INSERT_BATCH;
}

/*
 * sbExecForeignBatchInsert
 *		Insert a batch of rows.
 */
TupleTableSlot **
sbExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot **slots,
						 TupleTableSlot **planSlots, int *numSlots)
{
	SbModifyState *ms = rinfo->ri_FdwState;
	MemoryContext old = MemoryContextSwitchTo(ms->row_cxt);

	for (int i = 0; i < *numSlots; i++)
		insert_row(ms, slots[i]);
	MemoryContextSwitchTo(old);
	MemoryContextReset(ms->row_cxt);
	return slots;
}

/* The ctid of the row to change, from the plan's junk column. */
static ItemPointer
row_ctid(SbModifyState *ms, TupleTableSlot *planSlot)
{
	bool		isnull;
	Datum		d = ExecGetJunkAttribute(planSlot, ms->ctid_attno, &isnull);

	if (isnull)
		elog(ERROR, "ctid of a writable bundle's row is NULL");
	return (ItemPointer) DatumGetPointer(d);
}

/* Do a delta row's columns hold the values of the old row? */
static bool
same_row(SbModifyState *ms, TupleDesc desc, HeapTuple row, TupleDesc rowdesc,
		 const Datum *values, const bool *nulls)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		isnull;
		Datum		v;

		if (ms->d->colnames[i] == NULL)
			continue;
		v = heap_getattr(row, ms->d->deltaatts[i], rowdesc, &isnull);
		if (isnull != nulls[i] ||
			(!isnull && !datumIsEqual(v, values[i], att->attbyval, att->attlen)))
			return false;
	}
	return true;
}

/*
 * The ctid of the row to change when a join separates the change from the
 * scan: claim the old row's key, then find a row of its values among the
 * key's rows; NULL if there is none.
 */
static ItemPointer
find_old_row(SbModifyState *ms, Relation rel, TupleTableSlot *planSlot)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		values[MaxTupleAttributeNumber];
	bool		nulls[MaxTupleAttributeNumber];
	Datum		keys[SB_MAX_KEY_COLUMNS];
	HeapTupleData tup;
	HeapTupleHeader td;
	Relation	delta;
	TupleDesc	rowdesc;
	ItemPointer found = NULL;
	bool		isnull;
	ListCell   *lc;
	Datum		d = ExecGetJunkAttribute(planSlot, ms->wholerow_attno, &isnull);

	if (isnull)
		elog(ERROR, "wholerow of a writable bundle's row is NULL");
	td = DatumGetHeapTupleHeader(d);
	tup.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = InvalidOid;
	tup.t_data = td;
	heap_deform_tuple(&tup, desc, values, nulls);
	for (int k = 0; k < ms->d->nkeys; k++)
	{
		if (nulls[ms->d->keyattnos[k] - 1])
			return NULL;
		keys[k] = values[ms->d->keyattnos[k] - 1];
	}
	SbDeltaClaimKey(ms->d, ms->ftname, ms->gen, keys);
	delta = table_open(ms->d->relid, AccessShareLock);
	rowdesc = RelationGetDescr(delta);
	foreach(lc, SbDeltaKeyRows(ms->d, ms->gen, keys))
	{
		HeapTuple	row = lfirst(lc);

		if (same_row(ms, desc, row, rowdesc, values, nulls))
		{
			found = palloc(sizeof(ItemPointerData));
			*found = row->t_self;
			break;
		}
	}
	table_close(delta, NoLock);
	return found;
}

/* The ctid of the delta row an UPDATE or DELETE changes, or NULL. */
static ItemPointer
target_row(SbModifyState *ms, ResultRelInfo *rinfo, TupleTableSlot *planSlot)
{
	if (ms->direct)
		return row_ctid(ms, planSlot);
	return find_old_row(ms, rinfo->ri_RelationDesc, planSlot);
}

/*
 * Delete a delta row by ctid; false if this statement changed it already.
 * With 'slot', the row's values go there for RETURNING.
 */
static bool
delete_row(SbModifyState *ms, ItemPointer ctid, TupleTableSlot *slot)
{
	Datum		arg = PointerGetDatum(ctid);
	Oid			type = TIDOID;
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(ms->d->runas, ms->delete_sql, 1, &type, &arg, NULL, false);
	found = SPI_processed > 0;
	ms->written += found;
	if (found && slot)
	{
		TupleDesc	desc = slot->tts_tupleDescriptor;
		MemoryContext spi = MemoryContextSwitchTo(ms->row_cxt);
		HeapTuple	tup = heap_copytuple(SPI_tuptable->vals[0]);
		TupleDesc	rdesc = CreateTupleDescCopy(SPI_tuptable->tupdesc);

		ExecClearTuple(slot);
		for (int i = 0, f = 1; i < desc->natts; i++)
		{
			slot->tts_isnull[i] = true;
			if (ms->d->colnames[i])
				slot->tts_values[i] = heap_getattr(tup, f++, rdesc, &slot->tts_isnull[i]);
		}
		ExecStoreVirtualTuple(slot);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return found;
}

/* Change a delta row in place; false if this statement changed it already. */
static bool
update_row(SbModifyState *ms, ItemPointer ctid, TupleTableSlot *slot)
{
	Datum		values[MaxTupleAttributeNumber];
	char		nulls[MaxTupleAttributeNumber];
	Oid			types[MaxTupleAttributeNumber];
	int			n = slot_args(ms, slot, values, nulls, types);
	bool		done;

	values[n] = PointerGetDatum(ctid);
	nulls[n] = ' ';
	types[n] = TIDOID;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(ms->d->runas, ms->update_sql, n + 1, types, values, nulls, false);
	done = SPI_processed > 0;
	SPI_finish();
	ms->written += done;
	return done;
}

/*
 * sbExecForeignUpdate
 *		Change a delta row in place, or move it to its new key.
 */
TupleTableSlot *
sbExecForeignUpdate(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					TupleTableSlot *planSlot)
{
	SbModifyState *ms = rinfo->ri_FdwState;
	ItemPointer ctid;
	MemoryContext old;
	bool		done;

	MemoryContextReset(ms->row_cxt);
	old = MemoryContextSwitchTo(ms->row_cxt);
	ctid = target_row(ms, rinfo, planSlot);
	if (ctid == NULL)
		done = false;
	else if (ms->key_updated)
	{
		done = delete_row(ms, ctid, NULL);
		if (done)
			insert_row(ms, slot);
	}
	else
		done = update_row(ms, ctid, slot);
	MemoryContextSwitchTo(old);
	return done ? slot : NULL;
}

/*
 * sbExecForeignDelete
 *		Delete a delta row, returning its values.
 */
TupleTableSlot *
sbExecForeignDelete(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					TupleTableSlot *planSlot)
{
	SbModifyState *ms = rinfo->ri_FdwState;
	ItemPointer ctid;
	MemoryContext old;
	bool		done;

	MemoryContextReset(ms->row_cxt);
	old = MemoryContextSwitchTo(ms->row_cxt);
	ctid = target_row(ms, rinfo, planSlot);
	done = ctid != NULL && delete_row(ms, ctid, slot);
	MemoryContextSwitchTo(old);
	return done ? slot : NULL;
}

/*
 * Past sharedbuf.fold_threshold rows in the delta, fold it, as the table's
 * owner, if no other writer of the bundle is active (a fold would wait
 * for it, and it perhaps for this one).  The delta's size in blocks bounds
 * its rows, so a small delta costs no count.
 */
static void
auto_fold(ResultRelInfo *rinfo, SbModifyState *ms)
{
	Relation	rel = rinfo->ri_RelationDesc;
	Relation	delta;
	SbTableOptions *opts;
	SbMappingRef *ref;
	Datum		keys,
				rows;
	BlockNumber blocks;
	Oid			save_user;
	int			save_sec;
	SbBuildResult result = {0};

	if (sb_fold_threshold_setting <= 0 || ms == NULL || ms->written == 0)
		return;
	delta = table_open(ms->d->relid, AccessShareLock);
	blocks = RelationGetNumberOfBlocks(delta);
	table_close(delta, NoLock);
	if ((double) blocks * MaxHeapTuplesPerPage / 2 < sb_fold_threshold_setting)
		return;
	opts = SbGetTableOptions(RelationGetRelid(rel));
	ref = SbPinBundle(opts->path, opts->label, CurrentMemoryContext);
	/* count this statement's writes too */
	CommandCounterIncrement();
	PushActiveSnapshot(GetLatestSnapshot());
	SbDeltaCount(ms->d, SbFoldedThrough(ref->bundle), &keys, &rows);
	PopActiveSnapshot();
	SbUnpinBundle(ref);
	if (DatumGetInt64(keys) + DatumGetInt64(rows) < sb_fold_threshold_setting ||
		!ConditionalLockRelationOid(ms->d->relid, ShareLock))
		return;
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(ms->d->runas, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	SbFoldTable(rel, opts, ms->d, &result);
	SetUserIdAndSecContext(save_user, save_sec);
	UnlockRelationOid(ms->d->relid, ShareLock);
	ereport(DEBUG1,
			(errmsg_internal("sharedbuf: folded the delta of bundle \"%s\" (%lld rows)",
							 ms->d->bundle, (long long) result.rows)));
}

/*
 * sbEndForeignModify, sbEndForeignInsert
 *		Fold past the threshold; the memory goes with the query.
 */
void
sbEndForeignModify(EState *estate, ResultRelInfo *rinfo)
{
	auto_fold(rinfo, rinfo->ri_FdwState);
}

void
sbEndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
	auto_fold(rinfo, rinfo->ri_FdwState);
}

/*
 * sbExplainForeignModify
 *		Name the delta the rows go to.
 */
void
sbExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
					   List *fdw_private, int subplan_index, ExplainState *es)
{
	SbTableOptions *opts = SbGetTableOptions(RelationGetRelid(rinfo->ri_RelationDesc));

	if (opts->bundle)
		ExplainPropertyText("Delta", SbDeltaObject(opts->bundle, NULL), es);
}
