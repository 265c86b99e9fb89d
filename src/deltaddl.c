/*-------------------------------------------------------------------------
 *
 * deltaddl.c
 *	  Making a bundle writable, or read-only again, and rebuilding a
 *	  writable bundle.
 *
 * A writable bundle's delta (see delta.c) is a table in the schema
 * sharedbuf_delta, with three partial indexes and a sequence of
 * generations, all named after the bundle.  The schema's owner creates
 * them and gives them to the bundle's owner, so that no role needs the
 * right to create objects in the schema, where a table of a bundle's name
 * would be taken for its delta.  Statements on the catalogs name every
 * operator and function with its schema.
 *
 * A rebuild (a fold, or a refresh from the source query) takes a share
 * lock on the delta, which waits for the transactions that wrote to it
 * with the current generation; moves the generation on; and lets go of
 * the lock, so that writers go on, in the new generation, while it
 * builds.  The build's transaction then deletes the rows of the
 * generations the new bundle holds.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#define SB_DELTA_MAX_NAME	50	/* leaves room for the objects' suffixes */

/* The owner of a delta table: the bundle's owner. */
static Oid
delta_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Take the share lock that waits for a delta's writers without queueing
 * ahead of new ones (who would wait behind it for a long transaction):
 * try for up to a second, then wait in line.
 */
static void
lock_out_writers(Oid relid)
{
	for (int i = 0; i < 100; i++)
	{
		if (ConditionalLockRelationOid(relid, ShareLock))
			return;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	LockRelationOid(relid, ShareLock);
}

/*
 * Start a rebuild of a writable bundle: move writers on to a new
 * generation, after waiting for those of the current one, which is
 * returned; -1 if the bundle has no delta.
 */
int64
SbDeltaStartRebuild(const char *bundle)
{
	Oid			relid = SbDeltaRelid(bundle);
	char	   *seq = SbDeltaObject(bundle, "generation");
	bool		isnull;
	int64		gen;

	if (!OidIsValid(relid))
		return -1;
	/* writers lock the delta before they read the generation */
	lock_out_writers(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(delta_owner(relid),
					  psprintf("SELECT last_value, pg_catalog.nextval(%s) FROM %s",
							   quote_literal_cstr(seq), seq),
					  0, NULL, NULL, NULL, false);
	gen = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  1, &isnull));
	SPI_finish();
	UnlockRelationOid(relid, ShareLock);
	return gen;
}

/* Finish a rebuild: the rows of the generations it folded go. */
void
SbDeltaFinishRebuild(const char *bundle, int64 gen)
{
	Datum		arg = Int64GetDatum(gen);
	Oid			type = INT8OID;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(delta_owner(SbDeltaRelid(bundle)),
					  psprintf("DELETE FROM %s WHERE sb_gen OPERATOR(pg_catalog.<=) $1",
							   SbDeltaObject(bundle, NULL)),
					  1, &type, &arg, NULL, false);
	SPI_finish();
}

/* Refuse a bundle that cannot take a delta. */
static void
check_writable(Relation ftrel, const char *bundle, sb_bundle *b)
{
	const sb_info *in = sb_bundle_info(b);

	if (in->nkeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bundle \"%s\" has no key", bundle),
				 errdetail("Only a bundle with a key can be writable.")));
	if (in->approximate)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("approximate bundle \"%s\" cannot be writable", bundle),
				 errdetail("An approximate bundle does not store its key.")));
	if (strlen(bundle) > SB_DELTA_MAX_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("bundle name \"%s\" is too long for a writable bundle", bundle),
				 errdetail("A writable bundle's name has at most %d characters.",
						   SB_DELTA_MAX_NAME)));
	for (int k = 0; k < in->nkeys; k++)
		if (SbTableAttnum(ftrel, in->columns[in->key_columns[k]].name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("foreign table \"%s\" has no column named \"%s\", a key column of bundle \"%s\"",
							RelationGetRelationName(ftrel),
							in->columns[in->key_columns[k]].name, bundle)));
}

/* The statements that create the delta of a table's bundle. */
static List *
delta_ddl(Relation ftrel, const char *bundle, sb_bundle *b, Oid owner)
{
	const sb_info *in = sb_bundle_info(b);
	TupleDesc	desc = RelationGetDescr(ftrel);
	StringInfoData cols,
				key;
	bool		unique = in->distinct_keys == in->row_count &&
		in->indexed_count == in->row_count;
	char	   *table = SbDeltaObject(bundle, NULL);
	const char *role = quote_identifier(GetUserNameFromId(owner, false));

	initStringInfo(&cols);
	initStringInfo(&key);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		appendStringInfo(&cols, "%s %s", quote_identifier(NameStr(att->attname)),
						 format_type_extended(att->atttypid, att->atttypmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN |
											  FORMAT_TYPE_FORCE_QUALIFY));
		if (OidIsValid(att->attcollation))
			appendStringInfo(&cols, " COLLATE %s",
							 SbQualifiedCollationName(att->attcollation));
		appendStringInfoString(&cols, ", ");
	}
	for (int k = 0; k < in->nkeys; k++)
		appendStringInfo(&key, "%s, ",
						 quote_identifier(in->columns[in->key_columns[k]].name));
	return lappend(list_make5(psprintf("CREATE TABLE %s (%s sb_gen bigint NOT NULL, sb_kind \"char\" NOT NULL, sb_seq bigint NOT NULL DEFAULT 0)",
							   table, cols.data),
					  psprintf("CREATE UNIQUE INDEX %s ON %s (%s sb_gen) WHERE sb_kind OPERATOR(pg_catalog.=) 'K'",
							   quote_identifier(psprintf("%s$marker", bundle)), table, key.data),
					  psprintf("CREATE %s INDEX %s ON %s (%s sb_gen) WHERE sb_kind OPERATOR(pg_catalog.=) 'R'",
							   unique ? "UNIQUE" : "",
							   quote_identifier(psprintf("%s$row", bundle)), table, key.data),
					  psprintf("CREATE INDEX %s ON %s (sb_gen)",
								quote_identifier(psprintf("%s$gen", bundle)), table),
					  psprintf("CREATE SEQUENCE %s MINVALUE 1", SbDeltaObject(bundle, "generation"))),
				   psprintf("ALTER TABLE %s OWNER TO %s", table, role));
}

/* Run DDL on the deltas' schema as its owner. */
static void
run_as_schema_owner(List *statements)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(SbDeltaSchema()));
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	ListCell   *lc;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema \"%s\" does not exist", SB_DELTA_SCHEMA),
				 errhint("Update the extension: ALTER EXTENSION sharedbuf UPDATE.")));
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	foreach(lc, statements)
		if (SPI_execute(lfirst(lc), false, 0) < 0)
			elog(ERROR, "SPI_execute failed: %s", (char *) lfirst(lc));
	SPI_finish();
	SetUserIdAndSecContext(save_user, save_sec);
}

/* Give the bundle of a table a delta, owned by the bundle's owner. */
void
SbDeltaCreate(Relation ftrel, const char *bundle, sb_bundle *b, Oid owner)
{
	List	   *ddl;
	char	   *seq = SbDeltaObject(bundle, "generation");
	const char *role = quote_identifier(GetUserNameFromId(owner, false));

	if (!OidIsValid(SbDeltaSchema()))
		run_as_schema_owner(NIL);	/* reports the missing schema */
	check_writable(ftrel, bundle, b);
	ddl = delta_ddl(ftrel, bundle, b, owner);
	/* the bundle has folded what its metadata says: start after that */
	ddl = lappend(ddl, psprintf("SELECT pg_catalog.setval(%s, " INT64_FORMAT ")", quote_literal_cstr(seq),
								SbFoldedThrough(b) + 1));
	ddl = lappend(ddl, psprintf("ALTER SEQUENCE %s OWNER TO %s", seq, role));
	run_as_schema_owner(ddl);
}

/* Drop a delta; it must hold nothing the bundle does not. */
void
SbDeltaDrop(const char *bundle, int64 folded_through, bool if_empty)
{
	Oid			relid = SbDeltaRelid(bundle);

	if (!OidIsValid(relid))
		return;
	if (if_empty)
	{
		Datum		arg = Int64GetDatum(folded_through);
		Oid			type = INT8OID;
		bool		empty;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		(void) SbDeltaRun(delta_owner(relid),
						  psprintf("SELECT 1 FROM %s WHERE sb_gen OPERATOR(pg_catalog.>) $1 LIMIT 1",
								   SbDeltaObject(bundle, NULL)),
						  1, &type, &arg, NULL, false);
		empty = SPI_processed == 0;
		SPI_finish();
		if (!empty)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the delta of bundle \"%s\" holds changes", bundle),
					 errhint("Fold them into the bundle with sharedbuf_fold() first.")));
	}
	run_as_schema_owner(list_make2(psprintf("DROP TABLE %s", SbDeltaObject(bundle, NULL)),
								   psprintf("DROP SEQUENCE %s",
											SbDeltaObject(bundle, "generation"))));
}

/* The bundle file a build of this transaction made, or the current one. */
sb_bundle *
SbOpenBundleFile(const char *name)
{
	const char *path = SbBundlePath(name);
	const char *pending;
	sb_bundle  *b;
	sb_error	err;

	if (SbPendingPath(path, &pending) && pending != NULL)
		path = pending;
	if (sb_open(path, &b, &err) != SB_OK)
		SbReportError(&err, name);
	return b;
}

/* Give the bundle a table reads a delta, owned by the bundle's owner. */
void
SbMakeWritable(Relation rel, const char *bundle)
{
	SbCatalogEntry entry;
	sb_bundle  *b;

	if (OidIsValid(SbDeltaRelid(bundle)))
		return;
	if (!SbCatalogLookup(bundle, true, &entry))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bundle \"%s\" has no row in the sharedbuf catalog", bundle),
				 errhint("Rebuild it with sharedbuf_refresh() first.")));
	b = SbOpenBundleFile(bundle);
	PG_TRY();
	{
		SbDeltaCreate(rel, bundle, b, entry.owner);
	}
	PG_FINALLY();
	{
		sb_close(b);
	}
	PG_END_TRY();
}
