/*-------------------------------------------------------------------------
 *
 * deltaread.c
 *	  Reading a writable bundle's delta during a scan.
 *
 * A scan of a writable bundle overlays its delta (see delta.c) on the
 * bundle, with the statement's snapshot.  A delta with no rows newer than
 * the bundle costs one look at the table's size, or one probe of its
 * sb_gen index.  Otherwise a lookup reads its key's newest marker and
 * rows through the delta's indexes; once a join or a long "= ANY" has
 * made about as many lookups as loading the delta would cost, or for a
 * sequential scan, the scan loads the delta's current keys and rows once
 * into a hash table and answers from it.  A row read
 * from the delta keeps its delta ctid, which an UPDATE or DELETE uses as
 * the row's identity.
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
#include "access/table.h"
#include "access/tableam.h"
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

/*
 * Lookups a scan makes one by one before it considers loading the whole
 * delta; it loads it once it has made as many lookups as the delta has
 * about rows per SB_DELTA_ROWS_PER_LOOKUP (loading a row costs about half
 * a lookup through the indexes), so that a join of few keys with a large
 * delta does not read all of it, and one of many keys costs at most
 * twice what the better of the two ways would have.
 */
#define SB_DELTA_LOOKUPS_BEFORE_LOAD	8
#define SB_DELTA_ROWS_PER_LOOKUP		2

/* The rows of one key, in a key table. */
typedef struct SbKeyRows
{
	Datum		keys[SB_MAX_KEY_COLUMNS];
	int64		gen;			/* of its newest marker */
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
	TupleDesc	desc;			/* of the delta's rows */
	int16		keylen[SB_MAX_KEY_COLUMNS];
	bool		keybyval[SB_MAX_KEY_COLUMNS];
	FmgrInfo	hashfn[SB_MAX_KEY_COLUMNS];
	FmgrInfo	eqfn[SB_MAX_KEY_COLUMNS];
	Oid			collation[SB_MAX_KEY_COLUMNS];
	int64		lookups;
	int64		load_after;		/* lookups that pay for a load, or 0 */
	int			probe_types_known;	/* 1: the key's own types, -1: others */
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
		dr->keylen[k] = att->attlen;
		dr->keybyval[k] = att->attbyval;
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
	MemoryContext old = MemoryContextSwitchTo(cxt);
	SbDeltaRead *dr;
	SbDelta    *d = SbDeltaFor(ftrel, bundle);

	if (d == NULL)
	{
		MemoryContextSwitchTo(old);
		return NULL;
	}
	dr = palloc0(sizeof(SbDeltaRead));
	dr->d = d;
	dr->cxt = cxt;
	dr->folded = SbFoldedThrough(b);
	dr->gen = -1;
	dr->table = SbQualifiedRelationName(RelationGetRelid(ftrel));
	init_key_functions(dr, ftrel);
	{
		Relation	rel = table_open(d->relid, AccessShareLock);

		dr->desc = CreateTupleDescCopy(RelationGetDescr(rel));
		table_close(rel, NoLock);
	}
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

/*
 * Does the delta hold rows newer than the bundle?  A table of no blocks
 * holds none; otherwise one query tells.
 */
bool
SbDeltaEmpty(SbDeltaRead *dr)
{
	if (dr->state == SB_DELTA_UNKNOWN)
		dr->state = SbDeltaHasRows(dr->d, dr->folded) ? SB_DELTA_ROWS : SB_DELTA_EMPTY;
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
	MemoryContext old;

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
	old = MemoryContextSwitchTo(dr->cxt);
	kr = palloc0(sizeof(SbKeyRows));
	for (int k = 0; k < dr->d->nkeys; k++)
		kr->keys[k] = datumCopy(keys[k], dr->keybyval[k], dr->keylen[k]);
	bucket->keys = lappend(bucket->keys, kr);
	MemoryContextSwitchTo(old);
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

/* sb_gen and sb_kind of a delta row in a slot. */
static void
gen_and_kind(SbDeltaRead *dr, TupleTableSlot *slot, int64 *gen, char *kind)
{
	bool		isnull;

	*gen = DatumGetInt64(slot_getattr(slot, dr->d->gen_att, &isnull));
	*kind = DatumGetChar(slot_getattr(slot, dr->d->kind_att, &isnull));
}

/*
 * Load the delta's current keys and rows: for each key with a marker newer
 * than the bundle, the newest marker's rows.  Two passes over the table:
 * the markers, then the rows of each key's newest marker.
 */
void
SbDeltaLoad(SbDeltaRead *dr)
{
	Relation	rel;
	TupleTableSlot *slot;
	TableScanDesc scan;
	MemoryContext old;

	if (dr->loaded)
		return;
	old = MemoryContextSwitchTo(dr->cxt);
	dr->keys = new_key_table(dr, "sharedbuf delta keys");
	rel = table_open(dr->d->relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	for (int pass = 0; pass < 2; pass++)
	{
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			Datum		keys[SB_MAX_KEY_COLUMNS];
			int64		gen;
			char		kind;
			SbKeyRows  *kr;

			gen_and_kind(dr, slot, &gen, &kind);
			if (gen <= dr->folded || kind != (pass == 0 ? 'K' : 'R'))
				continue;
			for (int k = 0; k < dr->d->nkeys; k++)
			{
				bool		isnull;

				keys[k] = slot_getattr(slot, dr->d->deltaatts[dr->d->keyattnos[k] - 1],
									   &isnull);
			}
			kr = key_entry(dr, dr->keys, keys, pass == 0);
			if (pass == 0)
				kr->gen = Max(kr->gen, gen);
			else if (kr && kr->gen == gen)
			{
				HeapTuple	row = ExecCopySlotHeapTuple(slot);

				kr->rows = lappend(kr->rows, row);
				dr->rows = lappend(dr->rows, row);
			}
		}
		table_rescan(scan, NULL);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	MemoryContextSwitchTo(old);
	dr->loaded = true;
	dr->state = hash_get_num_entries(dr->keys) == 0 ? SB_DELTA_EMPTY : SB_DELTA_ROWS;
}

/* Look one key up in the delta through its indexes. */
static bool
lookup_one(SbDeltaRead *dr, const Datum *keys, const Oid *types, List **rows)
{
	List	   *marker = SbDeltaIndexRows(dr->d, dr->d->marker_index, keys, types,
										  BTGreaterStrategyNumber, dr->folded,
										  GetActiveSnapshot(), BackwardScanDirection, 1);
	bool		isnull;
	int64		gen;

	*rows = NIL;
	if (marker == NIL)
		return false;
	gen = DatumGetInt64(heap_getattr(linitial(marker), dr->d->gen_att, dr->desc, &isnull));
	*rows = SbDeltaIndexRows(dr->d, dr->d->row_index, keys, types, BTEqualStrategyNumber,
							 gen, GetActiveSnapshot(), ForwardScanDirection, 0);
	return true;
}

/*
 * About how many rows the delta table holds, from its size and the
 * density its statistics last saw, as the planner estimates it.
 */
static int64
estimated_rows(SbDeltaRead *dr)
{
	Relation	rel = table_open(dr->d->relid, AccessShareLock);
	BlockNumber blocks = RelationGetNumberOfBlocks(rel);
	double		density = rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples > 0 ?
		rel->rd_rel->reltuples / rel->rd_rel->relpages : 100.0;

	table_close(rel, AccessShareLock);
	return (int64) (blocks * density);
}

/*
 * Does the delta decide a key?  Then 'rows' (allocated in the current
 * memory context, or the scan's) are its rows, maybe none.  'types' are
 * the types of the key values.
 */
bool
SbDeltaLookup(SbDeltaRead *dr, const Datum *keys, const Oid *types, List **rows)
{
	bool		own_types;
	SbKeyRows  *kr;

	if (SbDeltaEmpty(dr))
		return false;
	/* a scan's probes are of the same types: compare them once */
	if (dr->probe_types_known == 0)
	{
		bool		same = true;

		for (int k = 0; k < dr->d->nkeys; k++)
			same &= getBaseType(types[k]) == getBaseType(dr->d->keytypes[k]);
		dr->probe_types_known = same ? 1 : -1;
	}
	own_types = dr->probe_types_known > 0;
	if (!dr->loaded && own_types && ++dr->lookups > SB_DELTA_LOOKUPS_BEFORE_LOAD)
	{
		if (dr->load_after == 0)
			dr->load_after = Max(SB_DELTA_LOOKUPS_BEFORE_LOAD,
								 estimated_rows(dr) / SB_DELTA_ROWS_PER_LOOKUP);
		if (dr->lookups > dr->load_after)
			SbDeltaLoad(dr);
	}
	if (!dr->loaded || !own_types)
		return lookup_one(dr, keys, types, rows);
	kr = key_entry(dr, dr->keys, keys, false);
	*rows = kr ? kr->rows : NIL;
	return kr != NULL;
}

/* How many keys the delta decides (after SbDeltaLoad). */
long
SbDeltaKeyCount(SbDeltaRead *dr)
{
	HASH_SEQ_STATUS seq;
	SbKeyBucket *bucket;
	long		n = 0;

	hash_seq_init(&seq, dr->keys);
	while ((bucket = hash_seq_search(&seq)) != NULL)
		n += list_length(bucket->keys);
	return n;
}

/*
 * Call fn for each key the delta decides, with its rows, maybe none
 * (after SbDeltaLoad).
 */
void
SbDeltaEachKey(SbDeltaRead *dr, void (*fn) (void *arg, const Datum *keys, List *rows),
			   void *arg)
{
	HASH_SEQ_STATUS seq;
	SbKeyBucket *bucket;
	ListCell   *lc;

	hash_seq_init(&seq, dr->keys);
	while ((bucket = hash_seq_search(&seq)) != NULL)
		foreach(lc, bucket->keys)
		{
			SbKeyRows  *kr = lfirst(lc);

			fn(arg, kr->keys, kr->rows);
		}
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

	ExecClearTuple(slot);
	for (int i = 0; i < desc->natts; i++)
	{
		if (i >= dr->d->natts || dr->d->deltaatts[i] == 0)
		{
			slot->tts_isnull[i] = true;
			continue;
		}
		slot->tts_values[i] = heap_getattr(row, dr->d->deltaatts[i], dr->desc,
										   &slot->tts_isnull[i]);
	}
	ExecStoreVirtualTuple(slot);
	slot->tts_tid = row->t_self;
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
	(void) key_entry(dr, dr->claimed, keys, true);
	SbDeltaClaimKey(dr->d, dr->table, dr->gen, keys);
	MemoryContextReset(dr->claim_cxt);
	old = MemoryContextSwitchTo(dr->claim_cxt);
	rows = SbDeltaKeyRows(dr->d, dr->gen, keys);
	MemoryContextSwitchTo(old);
	return rows;
}
