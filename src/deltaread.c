/*-------------------------------------------------------------------------
 *
 * deltaread.c
 *	  Reading a writable bundle's delta during a scan.
 *
 * A scan of a writable bundle overlays its delta (see delta.c) on the
 * bundle, with the statement's snapshot.  A delta with no rows newer than
 * the bundle costs one look at the table's size, or one query.  Otherwise
 * a lookup asks the delta for its key's newest marker and rows, one query
 * per key; after a few lookups (a join, a long "= ANY"), or for a
 * sequential scan, the scan loads the delta's current keys and rows once
 * into a hash table and answers from it.  A row read from the delta keeps
 * its delta ctid, which an UPDATE or DELETE uses as the row's identity.
 *
 * The scan of the table an UPDATE or DELETE changes claims each key it is
 * about to return (delta.c's copy on write, which waits for other writers
 * of the key) and then returns the key's rows as they are after the
 * claim, so that the statement's quals and new values are computed from
 * the newest rows, as PostgreSQL's EvalPlanQual does for a heap table.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

/* Lookups a scan makes one by one before it loads the whole delta. */
#define SB_DELTA_LOOKUPS_BEFORE_LOAD	8

/* The rows of one key, in a key table. */
typedef struct SbKeyRows
{
	Datum		keys[SB_MAX_KEY_COLUMNS];
	List	   *rows;			/* HeapTuples */
} SbKeyRows;

/* A key table's entry: the keys of one hash value. */
typedef struct SbKeyBucket
{
	uint32		hash;
	List	   *keys;			/* SbKeyRows */
} SbKeyBucket;

typedef enum SbDeltaState
{
	SB_DELTA_UNKNOWN,
	SB_DELTA_EMPTY,
	SB_DELTA_ROWS
} SbDeltaState;

struct SbDeltaRead
{
	SbDelta    *d;
	int64		folded;			/* the bundle's last folded generation */
	MemoryContext cxt;			/* the scan's */
	SbDeltaState state;
	char	   *table;			/* the foreign table, qualified */
	TupleDesc	desc;			/* of rows read: a flag, ctid, the columns */
	int		   *resno;			/* per table column, its field in a row */
	FmgrInfo	hashfn[SB_MAX_KEY_COLUMNS];
	FmgrInfo	eqfn[SB_MAX_KEY_COLUMNS];
	Oid			collation[SB_MAX_KEY_COLUMNS];
	int			lookups;
	bool		loaded;
	HTAB	   *keys;			/* the loaded keys */
	List	   *rows;			/* the loaded rows */
	int64		gen;			/* claims: the generation, or -1 */
	HTAB	   *claimed;		/* the keys claimed */
	MemoryContext claim_cxt;	/* the rows of the last key claimed */
};

/* Prepare the hashing and comparing of key values. */
static void
init_key_functions(SbDeltaRead *dr, Relation ftrel)
{
	TupleDesc	desc = RelationGetDescr(ftrel);

	for (int k = 0; k < dr->d->nkeys; k++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, dr->d->keyattnos[k] - 1);
		TypeCacheEntry *tc = lookup_type_cache(getBaseType(att->atttypid),
											   TYPECACHE_HASH_PROC_FINFO |
											   TYPECACHE_EQ_OPR_FINFO);

		if (!OidIsValid(tc->hash_proc) || !OidIsValid(tc->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("could not identify hash and equality functions for type %s",
							format_type_be(att->atttypid))));
		fmgr_info_cxt(tc->hash_proc_finfo.fn_oid, &dr->hashfn[k], dr->cxt);
		fmgr_info_cxt(tc->eq_opr_finfo.fn_oid, &dr->eqfn[k], dr->cxt);
		dr->collation[k] = att->attcollation;
	}
}

/*
 * Start reading the delta of the bundle a scan pinned, or NULL if it is
 * read-only.
 */
SbDeltaRead *
SbDeltaBeginRead(Relation ftrel, const char *bundle, sb_bundle *b,
				 MemoryContext cxt)
{
	MemoryContext old;
	SbDeltaRead *dr;
	SbDelta    *d;

	if (!OidIsValid(SbDeltaRelid(bundle)))
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	d = SbDeltaFor(ftrel, bundle);
	dr = palloc0(sizeof(SbDeltaRead));
	dr->d = d;
	dr->cxt = cxt;
	dr->folded = SbFoldedThrough(b);
	dr->gen = -1;
	dr->table = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(ftrel)),
										   RelationGetRelationName(ftrel));
	dr->resno = palloc(sizeof(int) * Max(1, d->natts));
	for (int i = 0, f = 3; i < d->natts; i++)
		dr->resno[i] = d->colnames[i] ? f++ : -1;
	init_key_functions(dr, ftrel);
	MemoryContextSwitchTo(old);
	return dr;
}

/* The delta a scan reads. */
const SbDelta *
SbDeltaDefinition(SbDeltaRead *dr)
{
	return dr->d;
}

/* The delta's name, for EXPLAIN. */
const char *
SbDeltaName(SbDeltaRead *dr)
{
	return dr->d->qualname;
}

/* Keep the shape of the rows read, the first time. */
static void
keep_desc(SbDeltaRead *dr)
{
	if (dr->desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(dr->cxt);

		dr->desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
		MemoryContextSwitchTo(old);
	}
}

/*
 * Does the delta hold rows newer than the bundle?  A table of no blocks
 * holds none; otherwise one query tells.
 */
bool
SbDeltaEmpty(SbDeltaRead *dr)
{
	if (dr->state == SB_DELTA_UNKNOWN)
	{
		Relation	rel = relation_open(dr->d->relid, AccessShareLock);
		bool		empty = RelationGetNumberOfBlocks(rel) == 0;

		relation_close(rel, NoLock);
		if (!empty)
		{
			Datum		arg = Int64GetDatum(dr->folded);
			Oid			type = INT8OID;

			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			(void) SbDeltaRun(dr->d->runas,
							  psprintf("SELECT FROM %s WHERE sb_gen OPERATOR(pg_catalog.>) $1 LIMIT 1",
									   dr->d->qualname),
							  1, &type, &arg, NULL, true);
			empty = SPI_processed == 0;
			SPI_finish();
		}
		dr->state = empty ? SB_DELTA_EMPTY : SB_DELTA_ROWS;
	}
	return dr->state == SB_DELTA_EMPTY;
}

/* The hash of a key's values. */
static uint32
key_hash(SbDeltaRead *dr, const Datum *keys)
{
	uint32		h = 0;

	for (int k = 0; k < dr->d->nkeys; k++)
		h = hash_combine(h, DatumGetUInt32(FunctionCall1Coll(&dr->hashfn[k],
															 dr->collation[k],
															 keys[k])));
	return h;
}

/* The entry of a key in a key table; with 'add', made if missing. */
static SbKeyRows *
key_entry(SbDeltaRead *dr, HTAB *table, const Datum *keys, bool add)
{
	uint32		h = key_hash(dr, keys);
	bool		found;
	SbKeyBucket *bucket = hash_search(table, &h, add ? HASH_ENTER : HASH_FIND, &found);
	ListCell   *lc;
	SbKeyRows  *kr;

	if (bucket == NULL)
		return NULL;
	if (!found)
		bucket->keys = NIL;
	foreach(lc, bucket->keys)
	{
		bool		same = true;

		kr = lfirst(lc);
		for (int k = 0; same && k < dr->d->nkeys; k++)
			same = DatumGetBool(FunctionCall2Coll(&dr->eqfn[k], dr->collation[k],
												  kr->keys[k], keys[k]));
		if (same)
			return kr;
	}
	if (!add)
		return NULL;
	kr = MemoryContextAllocZero(dr->cxt, sizeof(SbKeyRows));
	memcpy(kr->keys, keys, sizeof(Datum) * dr->d->nkeys);
	bucket->keys = lappend(bucket->keys, kr);
	return kr;
}

/* A new key table in the scan's context. */
static HTAB *
new_key_table(SbDeltaRead *dr, const char *name)
{
	HASHCTL		ctl = {0};

	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(SbKeyBucket);
	ctl.hcxt = dr->cxt;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* The key values of a delta row. */
static void
row_keys(SbDeltaRead *dr, HeapTuple row, Datum *keys)
{
	for (int k = 0; k < dr->d->nkeys; k++)
	{
		bool		isnull;

		keys[k] = heap_getattr(row, dr->resno[dr->d->keyattnos[k] - 1],
							   dr->desc, &isnull);
	}
}

/*
 * Load the delta's current keys and rows: for each key with a marker newer
 * than the bundle, the newest marker's rows.
 */
void
SbDeltaLoad(SbDeltaRead *dr)
{
	SbDelta    *d = dr->d;
	Datum		arg = Int64GetDatum(dr->folded);
	Oid			type = INT8OID;
	MemoryContext old;

	if (dr->loaded)
		return;
	old = MemoryContextSwitchTo(dr->cxt);
	dr->keys = new_key_table(dr, "sharedbuf delta keys");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(d->runas,
					  psprintf("SELECT (CASE WHEN d.sb_kind OPERATOR(pg_catalog.=) 'K' THEN 1 ELSE 0 END)::pg_catalog.int8, d.ctid, %s FROM %s d WHERE %s",
							   SbDeltaColumnList(d, "d."), d->qualname,
							   SbDeltaCurrentCondition(d)),
					  1, &type, &arg, NULL, true);
	keep_desc(dr);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(dr->cxt);
		HeapTuple	row = heap_copytuple(SPI_tuptable->vals[i]);
		bool		isnull;
		Datum		keys[SB_MAX_KEY_COLUMNS];
		SbKeyRows  *kr;

		row_keys(dr, row, keys);
		kr = key_entry(dr, dr->keys, keys, true);
		if (DatumGetInt64(heap_getattr(row, 1, dr->desc, &isnull)) == 0)
		{
			kr->rows = lappend(kr->rows, row);
			dr->rows = lappend(dr->rows, row);
		}
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	MemoryContextSwitchTo(old);
	dr->loaded = true;
	dr->state = dr->rows == NIL && hash_get_num_entries(dr->keys) == 0 ?
		SB_DELTA_EMPTY : SB_DELTA_ROWS;
}

/* Look one key up in the delta with a query. */
static bool
lookup_one(SbDeltaRead *dr, const Datum *keys, const Oid *types, List **rows)
{
	SbDelta    *d = dr->d;
	Datum		args[SB_MAX_KEY_COLUMNS + 1];
	Oid			argtypes[SB_MAX_KEY_COLUMNS + 1];
	bool		isnull;
	bool		found;

	MemoryContext caller = CurrentMemoryContext;

	memcpy(args, keys, sizeof(Datum) * d->nkeys);
	memcpy(argtypes, types, sizeof(Oid) * d->nkeys);
	args[d->nkeys] = Int64GetDatum(dr->folded);
	argtypes[d->nkeys] = INT8OID;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(d->runas,
					  psprintf("SELECT m.g, d.ctid, %s FROM (SELECT pg_catalog.max(sb_gen) AS g FROM %s "
							   "WHERE %s AND sb_gen OPERATOR(pg_catalog.>) $%d AND sb_kind OPERATOR(pg_catalog.=) 'K') m "
							   "LEFT JOIN %s d ON %s AND d.sb_gen OPERATOR(pg_catalog.=) m.g AND d.sb_kind OPERATOR(pg_catalog.=) 'R'",
							   SbDeltaColumnList(d, "d."), d->qualname,
							   SbDeltaKeyCondition(d, "", 1, types), d->nkeys + 1,
							   d->qualname, SbDeltaKeyCondition(d, "d.", 1, types)),
					  d->nkeys + 1, argtypes, args, NULL, true);
	(void) heap_getattr(SPI_tuptable->vals[0], 1, SPI_tuptable->tupdesc, &isnull);
	found = !isnull;
	*rows = NIL;
	if (found)
	{
		keep_desc(dr);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			(void) heap_getattr(SPI_tuptable->vals[i], 2, SPI_tuptable->tupdesc, &isnull);
			if (!isnull)
			{
				MemoryContext spi = MemoryContextSwitchTo(caller);

				*rows = lappend(*rows, heap_copytuple(SPI_tuptable->vals[i]));
				MemoryContextSwitchTo(spi);
			}
		}
	}
	SPI_finish();
	return found;
}

/*
 * Does the delta decide a key?  Then 'rows' (allocated in the current
 * memory context, or the scan's) are its rows, maybe none.  'types' are
 * the types of the key values.
 */
bool
SbDeltaLookup(SbDeltaRead *dr, const Datum *keys, const Oid *types, List **rows)
{
	bool		own_types = true;
	SbKeyRows  *kr;

	if (SbDeltaEmpty(dr))
		return false;
	for (int k = 0; k < dr->d->nkeys; k++)
		own_types &= getBaseType(types[k]) == getBaseType(dr->d->keytypes[k]);
	if (!dr->loaded && own_types &&
		++dr->lookups > SB_DELTA_LOOKUPS_BEFORE_LOAD)
		SbDeltaLoad(dr);
	if (!dr->loaded || !own_types)
		return lookup_one(dr, keys, types, rows);
	kr = key_entry(dr, dr->keys, keys, false);
	*rows = kr ? kr->rows : NIL;
	return kr != NULL;
}

/* Does the delta decide the key of a bundle row in 'slot'? */
bool
SbDeltaOverrides(SbDeltaRead *dr, TupleTableSlot *slot)
{
	Datum		keys[SB_MAX_KEY_COLUMNS];

	for (int k = 0; k < dr->d->nkeys; k++)
	{
		int			a = dr->d->keyattnos[k] - 1;

		if (slot->tts_isnull[a])
			return false;		/* no write has a NULL key */
		keys[k] = slot->tts_values[a];
	}
	return key_entry(dr, dr->keys, keys, false) != NULL;
}

/* Every row the delta holds for the keys it decides (after SbDeltaLoad). */
List *
SbDeltaAllRows(SbDeltaRead *dr)
{
	return dr->rows;
}

/* Store a delta row in a slot, its delta ctid as the slot's. */
void
SbDeltaStoreRow(SbDeltaRead *dr, HeapTuple row, TupleTableSlot *slot)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	bool		isnull;

	ExecClearTuple(slot);
	for (int i = 0; i < desc->natts; i++)
	{
		if (dr->resno[i] < 0)
		{
			slot->tts_isnull[i] = true;
			continue;
		}
		slot->tts_values[i] = heap_getattr(row, dr->resno[i], dr->desc,
										   &slot->tts_isnull[i]);
	}
	ExecStoreVirtualTuple(slot);
	slot->tts_tid = *(ItemPointer) DatumGetPointer(heap_getattr(row, 2, dr->desc, &isnull));
}

/*
 * Claim the key of a candidate row of the table an UPDATE or DELETE
 * changes, and return the key's rows as they are now (copied to the
 * delta if they were the bundle's); NIL if this scan claimed it before.
 */
List *
SbDeltaClaim(SbDeltaRead *dr, TupleTableSlot *slot)
{
	Datum		keys[SB_MAX_KEY_COLUMNS];
	MemoryContext old;
	TupleDesc	desc = NULL;
	List	   *rows;

	for (int k = 0; k < dr->d->nkeys; k++)
	{
		int			a = dr->d->keyattnos[k] - 1;

		if (slot->tts_isnull[a])
			return NIL;			/* a NULL key is never a writable row */
		keys[k] = slot->tts_values[a];
	}
	if (dr->gen < 0)
	{
		LockRelationOid(dr->d->relid, RowExclusiveLock);
		dr->gen = SbDeltaGeneration(dr->d);
		dr->claimed = new_key_table(dr, "sharedbuf claimed keys");
		dr->claim_cxt = AllocSetContextCreate(dr->cxt, "sharedbuf claimed rows",
											  ALLOCSET_DEFAULT_SIZES);
	}
	if (key_entry(dr, dr->claimed, keys, false))
		return NIL;
	old = MemoryContextSwitchTo(dr->cxt);
	for (int k = 0; k < dr->d->nkeys; k++)
		keys[k] = datumCopy(keys[k], TupleDescAttr(slot->tts_tupleDescriptor,
												   dr->d->keyattnos[k] - 1)->attbyval,
							TupleDescAttr(slot->tts_tupleDescriptor,
										  dr->d->keyattnos[k] - 1)->attlen);
	(void) key_entry(dr, dr->claimed, keys, true);
	MemoryContextSwitchTo(old);
	SbDeltaClaimKey(dr->d, dr->table, dr->gen, keys);
	MemoryContextReset(dr->claim_cxt);
	old = MemoryContextSwitchTo(dr->claim_cxt);
	rows = SbDeltaKeyRows(dr->d, dr->gen, keys, &desc);
	MemoryContextSwitchTo(old);
	if (desc && dr->desc == NULL)
	{
		old = MemoryContextSwitchTo(dr->cxt);
		dr->desc = CreateTupleDescCopy(desc);
		MemoryContextSwitchTo(old);
	}
	return rows;
}
