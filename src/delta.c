/*-------------------------------------------------------------------------
 *
 * delta.c
 *	  The delta of a writable bundle: its definition, its rows, and the
 *	  statements run on it.
 *
 * A writable bundle keeps the changes made since it was built in an
 * ordinary heap table, sharedbuf_delta.<bundle>, so that they are
 * transactional, WAL-logged, replicated and vacuumed like any table.  Its
 * columns are the foreign table's, plus
 *
 *	sb_gen	the generation the change was made in;
 *	sb_kind	'K' for a key's marker: from this generation on, the key's rows
 *			are the 'R' rows of the generation, not the bundle's;
 *	sb_seq	on a marker, how many statements changed the key.
 *
 * A change of a key copies the key's rows to the generation first
 * (claim.c), so the marker of the newest generation after the last one
 * folded into the bundle ("delta_folded_through" in its metadata)
 * decides the key, if there is one.  Folds and refreshes are in
 * deltaddl.c, which deletes the rows of the generations a new bundle
 * holds in the building transaction: a reader whose snapshot sees that
 * deletion also sees the new bundle's catalog row, so it never reads the
 * old bundle without the rows folded away from it (settle.c).
 *
 * This file reads a delta: its definition, as a foreign table over the
 * bundle uses it; its rows through its indexes; and what SQL the other
 * files run on it, through SPI, as the foreign table's owner, with plans
 * kept for the life of the backend.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/guc.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"


/* A kept plan of a statement on a delta. */
typedef struct SbKeptPlan
{
	uint64		hash;			/* of the statement and its argument types */
	char	   *sql;
	SPIPlanPtr	plan;
} SbKeptPlan;

static HTAB *kept_plans = NULL;

/* The schema of the deltas, or InvalidOid if the extension has none. */
Oid
SbDeltaSchema(void)
{
	return get_namespace_oid(SB_DELTA_SCHEMA, true);
}

/* The name of a delta's object: the table itself with a NULL suffix. */
char *
SbDeltaObject(const char *bundle, const char *suffix)
{
	return quote_qualified_identifier(SB_DELTA_SCHEMA,
									  suffix ? psprintf("%s$%s", bundle, suffix) : bundle);
}

/* The delta table of a bundle, or InvalidOid if it is not writable. */
Oid
SbDeltaRelid(const char *bundle)
{
	Oid			nsp = SbDeltaSchema();

	if (!OidIsValid(nsp) || bundle == NULL)
		return InvalidOid;
	return get_relname_relid(bundle, nsp);
}

/* A kept plan for 'sql' with these argument types, prepared on first use. */
static SPIPlanPtr
kept_plan(const char *sql, int nargs, Oid *argtypes)
{
	uint64		h = hash_bytes_extended((const unsigned char *) sql, strlen(sql), 0);
	SbKeptPlan *kp;
	bool		found;
	SPIPlanPtr	plan;

	h = hash_bytes_extended((const unsigned char *) argtypes,
							sizeof(Oid) * nargs, h);
	if (kept_plans == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(SbKeptPlan);
		ctl.hcxt = TopMemoryContext;
		kept_plans = hash_create("sharedbuf delta plans", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	kp = hash_search(kept_plans, &h, HASH_FIND, &found);
	if (found && strcmp(kp->sql, sql) == 0)
		return kp->plan;
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (found)
		return plan;			/* a hash collision: not kept */
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	kp = hash_search(kept_plans, &h, HASH_ENTER, &found);
	kp->sql = MemoryContextStrdup(TopMemoryContext, sql);
	kp->plan = plan;
	return plan;
}

/*
 * Run a statement on a delta as role 'runas', between SPI_connect and
 * SPI_finish.  A read-only one reads with the active snapshot; another
 * takes a new one under READ COMMITTED.  Its plan is made with sequential
 * scans disabled: the statements find rows by key or ctid, and a plan
 * kept from when the delta was empty must not scan it whole for each row
 * once it has grown.
 */
int
SbDeltaRun(Oid runas, const char *sql, int nargs, Oid *argtypes,
		   Datum *values, const char *nulls, bool read_only)
{
	SPIPlanPtr	plan = kept_plan(sql, nargs, argtypes);
	Oid			save_user;
	int			save_sec;
	int			rc;
	int			nest = NewGUCNestLevel();

	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(runas, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_plan(plan, values, nulls, read_only, 0);
	SetUserIdAndSecContext(save_user, save_sec);
	AtEOXact_GUC(true, nest);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	return rc;
}

/* The foreign table's column of a delta column, by name; or 0. */
AttrNumber
SbTableAttnum(Relation ftrel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(ftrel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	return 0;
}

/* Read the key columns of a delta from its marker index. */
static void
read_delta_key(SbDelta *d, Relation ftrel)
{
	Oid			idx = get_relname_relid(psprintf("%s$marker", d->bundle), SbDeltaSchema());
	HeapTuple	tup;
	Form_pg_index index;

	d->marker_index = idx;
	d->gen_index = get_relname_relid(psprintf("%s$gen", d->bundle), SbDeltaSchema());

	if (!OidIsValid(idx) ||
		!HeapTupleIsValid(tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx))))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the delta of bundle \"%s\" has no marker index", d->bundle),
				 errhint("Drop the delta with sharedbuf_set_writable(..., false) and make the table writable again.")));
	index = (Form_pg_index) GETSTRUCT(tup);
	d->nkeys = index->indnkeyatts - 1;	/* the last one is sb_gen */
	for (int k = 0; k < d->nkeys; k++)
	{
		char	   *name = get_attname(d->relid, index->indkey.values[k], false);

		d->keyattnos[k] = SbTableAttnum(ftrel, name);
		d->keytypes[k] = get_atttype(d->relid, index->indkey.values[k]);
		if (d->keyattnos[k] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("foreign table \"%s\" has no column \"%s\" of the key of writable bundle \"%s\"",
							RelationGetRelationName(ftrel), name, d->bundle)));
	}
	ReleaseSysCache(tup);
	idx = get_relname_relid(psprintf("%s$row", d->bundle), SbDeltaSchema());
	d->row_index = idx;
	if (!OidIsValid(idx) || !OidIsValid(d->gen_index))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the delta of bundle \"%s\" lacks an index", d->bundle)));
	d->unique = false;
	if (OidIsValid(idx) &&
		HeapTupleIsValid(tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx))))
	{
		d->unique = ((Form_pg_index) GETSTRUCT(tup))->indisunique;
		ReleaseSysCache(tup);
	}
}

/* Check that every column of the foreign table is the delta's too. */
static void
check_delta_columns(SbDelta *d, Relation ftrel)
{
	TupleDesc	desc = RelationGetDescr(ftrel);

	d->natts = desc->natts;
	d->colnames = palloc0(sizeof(char *) * Max(1, desc->natts));
	d->deltaatts = palloc0(sizeof(AttrNumber) * Max(1, desc->natts));
	d->gen_att = get_attnum(d->relid, "sb_gen");
	d->kind_att = get_attnum(d->relid, "sb_kind");
	d->seq_att = get_attnum(d->relid, "sb_seq");
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	a;

		if (att->attisdropped)
			continue;
		a = get_attnum(d->relid, NameStr(att->attname));
		if (a == InvalidAttrNumber || get_atttype(d->relid, a) != att->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of foreign table \"%s\" is not a column of the same type in the delta of bundle \"%s\"",
							NameStr(att->attname), RelationGetRelationName(ftrel),
							d->bundle)));
		d->colnames[i] = pstrdup(quote_identifier(NameStr(att->attname)));
		d->deltaatts[i] = a;
	}
}

/*
 * The delta of the writable bundle a foreign table reads, or NULL if the
 * bundle is read-only; allocated in the current memory context.
 */
SbDelta *
SbDeltaFor(Relation ftrel, const char *bundle)
{
	Oid			relid = SbDeltaRelid(bundle);
	SbDelta    *d;

	if (!OidIsValid(relid))
		return NULL;
	d = palloc0(sizeof(SbDelta));
	d->relid = relid;
	d->bundle = pstrdup(bundle);
	d->runas = ftrel->rd_rel->relowner;
	d->qualname = SbDeltaObject(bundle, NULL);
	d->seqname = SbDeltaObject(bundle, "generation");
	check_delta_columns(d, ftrel);
	read_delta_key(d, ftrel);
	return d;
}

/*
 * "alias.k1 = $first AND ...": the delta's key against arguments of the
 * types 'argtypes' (the key columns' own if NULL).
 */
char *
SbDeltaKeyCondition(const SbDelta *d, const char *alias, int first,
					const Oid *argtypes)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < d->nkeys; k++)
	{
		Oid			ktype = d->keytypes[k];
		char	   *eq = SbEqualitySql(ktype, argtypes ? argtypes[k] : ktype);

		if (eq == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("type %s has no btree equality with type %s",
							format_type_be(ktype), format_type_be(argtypes[k]))));
		appendStringInfo(&buf, "%s%s%s %s $%d", k ? " AND " : "", alias,
						 d->colnames[d->keyattnos[k] - 1], eq, first + k);
	}
	return buf.data;
}

/* "alias.c1, alias.c2, ...": the foreign table's columns. */
char *
SbDeltaColumnList(const SbDelta *d, const char *alias)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < d->natts; i++)
		if (d->colnames[i])
			appendStringInfo(&buf, "%s%s%s", buf.len ? ", " : "", alias,
							 d->colnames[i]);
	return buf.data;
}

/* The generation writes are stamped with now. */
int64
SbDeltaGeneration(const SbDelta *d)
{
	Oid			seq = get_relname_relid(psprintf("%s$generation", d->bundle), SbDeltaSchema());
	Oid			save_user;
	int			save_sec;
	LOCAL_FCINFO(fcinfo, 1);
	Datum		gen;

	if (!OidIsValid(seq))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the delta of bundle \"%s\" has no generation sequence", d->bundle)));
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seq);
	fcinfo->args[0].isnull = false;
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(d->runas, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	gen = pg_sequence_last_value(fcinfo);
	SetUserIdAndSecContext(save_user, save_sec);
	if (fcinfo->isnull)
		elog(ERROR, "generation sequence of bundle \"%s\" was never set", d->bundle);
	return DatumGetInt64(gen);
}

/* The last generation of the delta folded into a bundle file. */
int64
SbFoldedThrough(sb_bundle *b)
{
	return SbMetaInt64(b, "delta_folded_through");
}

/*
 * The equality of the key column types 'ltype' and 'rtype' as SQL, its
 * schema named, so that no search_path can choose another: the default
 * btree operator class's.
 */
char *
SbEqualitySql(Oid ltype, Oid rtype)
{
	TypeCacheEntry *tc = lookup_type_cache(getBaseType(ltype), TYPECACHE_BTREE_OPFAMILY);
	Oid			opno = InvalidOid;
	HeapTuple	tup;
	char	   *sql;

	if (OidIsValid(tc->btree_opf))
		opno = get_opfamily_member(tc->btree_opf, getBaseType(ltype),
								   getBaseType(rtype), BTEqualStrategyNumber);
	if (!OidIsValid(opno))
		return NULL;
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	sql = psprintf("OPERATOR(%s.%s)",
				   quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace)),
				   NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname));
	ReleaseSysCache(tup);
	return sql;
}

/*
 * The rows of one of a delta's indexes ('marker_index' or 'row_index')
 * for a key, of the given types, whose sb_gen is 'genop' 'gen', visible
 * to 'snapshot', in the index's order or backwards; at most 'limit' (0:
 * all).  Each is copied to the current memory context, its ctid in
 * t_self.
 */
List *
SbDeltaIndexRows(const SbDelta *d, Oid indexid, const Datum *keys, const Oid *types,
				 StrategyNumber genop, int64 gen, Snapshot snapshot,
				 ScanDirection dir, int limit)
{
	Relation	heap = table_open(d->relid, AccessShareLock);
	Relation	index = index_open(indexid, AccessShareLock);
	ScanKeyData sk[SB_MAX_KEY_COLUMNS + 1];
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc scan;
	List	   *rows = NIL;

	for (int k = 0; k < d->nkeys; k++)
	{
		Oid			right = types ? types[k] : index->rd_opcintype[k];
		Oid			opno = get_opfamily_member(index->rd_opfamily[k],
											   index->rd_opcintype[k], right,
											   BTEqualStrategyNumber);

		if (!OidIsValid(opno))
			elog(ERROR, "no btree equality of types %u and %u", index->rd_opcintype[k], right);
		ScanKeyEntryInitialize(&sk[k], 0, k + 1, BTEqualStrategyNumber, right,
							   index->rd_indcollation[k], get_opcode(opno), keys[k]);
	}
	ScanKeyInit(&sk[d->nkeys], d->nkeys + 1, genop,
				genop == BTEqualStrategyNumber ? F_INT8EQ :
				genop == BTLessStrategyNumber ? F_INT8LT : F_INT8GT,
				Int64GetDatum(gen));
	scan = sb_index_beginscan(heap, index, snapshot, d->nkeys + 1, 0);
	index_rescan(scan, sk, d->nkeys + 1, NULL, 0);
	while (index_getnext_slot(scan, dir, slot))
	{
		rows = lappend(rows, ExecCopySlotHeapTuple(slot));
		if (limit > 0 && list_length(rows) >= limit)
			break;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	return rows;
}

/* Does a delta hold rows newer than generation 'folded' (active snapshot)? */
bool
SbDeltaHasRows(const SbDelta *d, int64 folded)
{
	Relation	heap = table_open(d->relid, AccessShareLock);
	Relation	index;
	ScanKeyData sk;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	bool		found;

	if (RelationGetNumberOfBlocks(heap) == 0)
	{
		table_close(heap, NoLock);
		return false;
	}
	index = index_open(d->gen_index, AccessShareLock);
	slot = table_slot_create(heap, NULL);
	ScanKeyInit(&sk, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(folded));
	scan = sb_index_beginscan(heap, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &sk, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	return found;
}

/*
 * The keys and rows a delta decides for a bundle that folded 'folded':
 * its markers and rows of generations after 'folded' that are of their
 * key's newest such marker.  A window over the keys, not a subquery per
 * row, so that the cost stays a sort whatever plan a stale estimate of the
 * delta's size would pick.
 */
void
SbDeltaCount(const SbDelta *d, int64 folded, Datum *keys, Datum *rows)
{
	Datum		arg = Int64GetDatum(folded);
	Oid			type = INT8OID;
	bool		isnull;
	StringInfoData part;

	initStringInfo(&part);
	for (int k = 0; k < d->nkeys; k++)
		appendStringInfo(&part, "%sd.%s", k ? ", " : "", d->colnames[d->keyattnos[k] - 1]);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(d->runas,
					  psprintf("SELECT pg_catalog.count(*) FILTER (WHERE x.sb_kind OPERATOR(pg_catalog.=) 'K'), "
							   "pg_catalog.count(*) FILTER (WHERE x.sb_kind OPERATOR(pg_catalog.=) 'R') "
							   "FROM (SELECT d.sb_kind, d.sb_gen, "
							   "pg_catalog.max(d.sb_gen) FILTER (WHERE d.sb_kind OPERATOR(pg_catalog.=) 'K') "
							   "OVER (PARTITION BY %s) AS newest "
							   "FROM %s d WHERE d.sb_gen OPERATOR(pg_catalog.>) $1) x "
							   "WHERE x.sb_gen OPERATOR(pg_catalog.=) x.newest",
							   part.data, d->qualname),
					  1, &type, &arg, NULL, true);
	*keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*rows = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	SPI_finish();
}
