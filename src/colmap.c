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

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/*
 * A bundle column's type for messages: as SQL writes it, with its typmod,
 * if this database has a type of that "schema.type" name; else the name.
 */
static char *
bundle_type_text(const sb_column *c)
{
	for (const char *dot = strchr(c->type_name, '.'); dot; dot = strchr(dot + 1, '.'))
	{
		char	   *schema = pnstrdup(c->type_name, dot - c->type_name);
		Oid			nsp = LookupExplicitNamespace(schema, true);
		Oid			typid = OidIsValid(nsp) ?
			GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
							CStringGetDatum(dot + 1), ObjectIdGetDatum(nsp)) :
			InvalidOid;

		if (OidIsValid(typid))
			return format_type_with_typemod(typid, c->typmod);
	}
	return pstrdup(c->type_name);
}

/* Check that a table column's type is the bundle column's. */
static void
check_column_type(Relation rel, Form_pg_attribute att, const sb_column *c,
				  const char *label)
{
	char	   *tname = SbQualifiedTypeName(att->atttypid);
	SbTypeInfo	ti;

	SbDescribeType(att->atttypid, att->atttypmod, &ti);
	if (strcmp(tname, c->type_name) != 0 || ti.typlen != c->typlen ||
		ti.typbyval != c->typbyval || ti.typalign != c->typalign ||
		ti.storage != c->storage ||
		(att->atttypmod >= 0 && att->atttypmod != c->typmod))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of foreign table \"%s\" does not match bundle \"%s\"",
						NameStr(att->attname), RelationGetRelationName(rel), label),
				 errdetail("The table column has type %s; the bundle column \"%s\" has type %s.",
						   format_type_with_typemod(att->atttypid, att->atttypmod),
						   c->name, bundle_type_text(c))));
}

/*
 * Find the bundle column a table column reads, checking its type; error
 * if there is none.
 */
static int
bundle_column_for(const sb_info *b, Relation rel, Form_pg_attribute att,
				  const char *label)
{
	char	   *name = SbColumnName(RelationGetRelid(rel), att->attnum);

	for (int i = 0; i < b->ncolumns; i++)
		if (strcmp(b->columns[i].name, name) == 0)
		{
			check_column_type(rel, att, &b->columns[i], label);
			return i;
		}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" of foreign table \"%s\" does not exist in bundle \"%s\"",
					name, RelationGetRelationName(rel), label),
			 errhint("Use the \"column_name\" option to map the column to a bundle column.")));
	return -1;
}

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
build_map(SbTableMap *map, Relation rel, const sb_info *b, const char *label,
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
		cm->bcol = bundle_column_for(b, rel, att, label);
		c = &b->columns[cm->bcol];
		cm->keypos = b->slot_offsets[cm->bcol] == SB_NOT_STORED ?
			c->key_position - 1 : -1;
		cm->binary = c->storage == SB_STORAGE_BINARY;
		cm->typmod = att->atttypmod;
		/* symbol-coded values are decoded into the per-row context too */
		if (b->encodings[cm->bcol].kind == SB_ENC_SYMBOLS)
			map->any_binary = true;
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
	build_map(&e->map, rel, sb_bundle_info(ref->bundle), label, e->cxt);
	e->mapping_id = ref->mapping_id;
	e->valid = true;
	return &e->map;
}
