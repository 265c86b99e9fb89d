/*-------------------------------------------------------------------------
 *
 * colmap.c
 *	  The per-backend cache of how a foreign table's columns map to the
 *	  columns of the bundle it reads.
 *
 * Mapping a table's columns to a bundle's (names, column_name options,
 * type checks, receive functions) takes a dozen catalog lookups a column.
 * A statement that looks one key up would spend more on that than on the
 * lookup, so the result is kept per table and per mapped generation, and
 * dropped when the table's definition changes (relcache invalidation) or
 * a new generation is mapped.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct SbTableMapEntry
{
	Oid			relid;			/* hash key */
	uint64		mapping_id;		/* the generation it was made for */
	bool		valid;
	MemoryContext cxt;			/* holds the map */
	SbTableMap	map;
} SbTableMapEntry;

static HTAB *table_maps = NULL;

/* Relcache callback: forget the maps of a changed table (or of all). */
static void
invalidate_maps(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	SbTableMapEntry *e;

	hash_seq_init(&seq, table_maps);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (!OidIsValid(relid) || e->relid == relid)
			e->valid = false;
}

/* Create the cache on first use. */
static void
init_table_maps(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(SbTableMapEntry);
	table_maps = hash_create("sharedbuf column maps", 16, &ctl,
							 HASH_ELEM | HASH_BLOBS);
	CacheRegisterRelcacheCallback(invalidate_maps, (Datum) 0);
}

/* Build the map of a table onto a bundle, checking every column's type. */
static void
build_map(SbTableMap *map, Relation rel, const sb_bundle *b, const char *label,
		  MemoryContext cxt)
{
	TupleDesc	desc = RelationGetDescr(rel);

	map->natts = desc->natts;
	map->cols = MemoryContextAllocZero(cxt, sizeof(SbColumnMap) * Max(1, desc->natts));
	map->any_binary = false;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		SbColumnMap *cm = &map->cols[i];
		const sb_column *c;

		cm->bcol = -1;
		cm->keypos = -1;
		if (att->attisdropped)
			continue;
		cm->bcol = SbBundleColumnFor(b, rel, att, label);
		c = &b->columns[cm->bcol];
		cm->keypos = c->slot_offset == SB_NOT_STORED ? c->key_position - 1 : -1;
		cm->binary = c->storage == SB_STORAGE_BINARY;
		cm->typmod = att->atttypmod;
		if (cm->binary)
		{
			Oid			recv;

			getTypeBinaryInputInfo(att->atttypid, &recv, &cm->typioparam);
			fmgr_info_cxt(recv, &cm->recv, cxt);
			map->any_binary = true;
		}
	}
}

/*
 * The map of the table 'rel' onto the bundle generation pinned by 'ref';
 * errors if a column is missing from the bundle or of another type.  The
 * map is the cache's: callers only read it, but the receive functions'
 * FmgrInfo may keep state in fn_extra, as they do anywhere.
 */
SbTableMap *
SbGetTableMap(Relation rel, const SbMappingRef *ref, const char *label)
{
	Oid			relid = RelationGetRelid(rel);
	SbTableMapEntry *e;
	bool		found;

	if (table_maps == NULL)
		init_table_maps();
	e = hash_search(table_maps, &relid, HASH_ENTER, &found);
	if (!found)
	{
		e->cxt = NULL;
		e->valid = false;
	}
	if (e->valid && e->mapping_id == ref->mapping_id)
		return &e->map;

	e->valid = false;
	if (e->cxt)
		MemoryContextReset(e->cxt);
	else
		e->cxt = AllocSetContextCreate(CacheMemoryContext, "sharedbuf column map",
									   ALLOCSET_SMALL_SIZES);
	build_map(&e->map, rel, ref->bundle, label, e->cxt);
	e->mapping_id = ref->mapping_id;
	e->valid = true;
	return &e->map;
}
