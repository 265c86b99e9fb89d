/*-------------------------------------------------------------------------
 *
 * writable.c
 *	  SQL functions for writable bundles: sharedbuf_set_writable,
 *	  sharedbuf_fold, sharedbuf_put, sharedbuf_delete and
 *	  sharedbuf_delta_info.
 *
 * Making a table writable gives its bundle a delta (delta.c); folding
 * rebuilds the bundle from the table itself, that is from the bundle and
 * its delta in one pass, and empties the delta of what it folded.  The
 * put and delete functions stand in for INSERT ... ON CONFLICT DO UPDATE
 * and MERGE, which PostgreSQL does not run on foreign tables; they run
 * plain statements on the table, with the caller's privileges.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(sharedbuf_set_writable);
PG_FUNCTION_INFO_V1(sharedbuf_fold);
PG_FUNCTION_INFO_V1(sharedbuf_put);
PG_FUNCTION_INFO_V1(sharedbuf_delete);
PG_FUNCTION_INFO_V1(sharedbuf_delta_info);

/*
 * Open a foreign table over a bundle of this database whose bundle the
 * caller may change: the table's owner with the bundle owner's rights.
 */
static SbTableOptions *
open_owned_table(Oid relid, Relation *relp)
{
	SbTableOptions *opts = SbOpenTable(relid, relp);

	if (!sb_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_FOREIGN_TABLE,
					   RelationGetRelationName(*relp));
	if (opts->bundle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("foreign table \"%s\" reads a file, not a bundle of this database",
						RelationGetRelationName(*relp))));
	SbLockBundle(opts->bundle);
	(void) SbCatalogCheckOwner(opts->bundle, NULL);
	return opts;
}

/*
 * sharedbuf_set_writable(table regclass, writable boolean)
 *		Give a table's bundle a delta, or drop an empty one.
 */
Datum
sharedbuf_set_writable(PG_FUNCTION_ARGS)
{
	Relation	rel;
	SbTableOptions *opts = open_owned_table(PG_GETARG_OID(0), &rel);

	PreventCommandDuringRecovery("sharedbuf_set_writable()");
	if (opts->follow && !PG_GETARG_BOOL(1))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign table \"%s\" follows a table through its delta",
						RelationGetRelationName(rel)),
				 errhint("Drop the table's \"follow\" option and refresh it first.")));
	if (PG_GETARG_BOOL(1))
		SbMakeWritable(rel, opts->bundle);
	else if (OidIsValid(SbDeltaRelid(opts->bundle)))
	{
		sb_bundle  *b = SbOpenBundleFile(opts->bundle);
		int64		folded = SbFoldedThrough(b);

		sb_close(b);
		SbDeltaDrop(opts->bundle, folded, true);
	}
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/*
 * Fold a writable bundle: rebuild it from the table that reads it, that
 * is from the bundle and its delta in one pass.
 */
void
SbFoldTable(Relation rel, const SbTableOptions *opts, const SbDelta *d,
			SbBuildResult *result)
{
	char	   *query = psprintf("SELECT %s FROM %s", SbDeltaColumnList(d, ""),
								 SbQualifiedRelationName(RelationGetRelid(rel)));

	SbFoldBundle(rel, opts->bundle, query, opts->key ? opts->key : SbCurrentKey(opts),
				 result);
}

/*
 * sharedbuf_fold(table regclass)
 *		Rebuild a writable bundle from the table, bundle and delta, and
 *		swap it in at commit.
 */
Datum
sharedbuf_fold(PG_FUNCTION_ARGS)
{
	SbBuildResult result = {0};
	Relation	rel;
	SbTableOptions *opts = open_owned_table(PG_GETARG_OID(0), &rel);
	SbDelta    *d;

	PreventCommandDuringRecovery("sharedbuf_fold()");
	d = SbDeltaFor(rel, opts->bundle);
	if (d == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bundle \"%s\" of foreign table \"%s\" is not writable",
						opts->bundle, RelationGetRelationName(rel))));
	SbFoldTable(rel, opts, d, &result);
	table_close(rel, NoLock);
	PG_RETURN_DATUM(SbBuildResultDatum(fcinfo, &result));
}

/* The key condition of a table's writable bundle against "($1).k". */
static char *
row_key_condition(const SbDelta *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < d->nkeys; k++)
	{
		const char *c = d->colnames[d->keyattnos[k] - 1];

		appendStringInfo(&buf, "%s%s %s ($1).%s", k ? " AND " : "", c,
						 SbEqualitySql(d->keytypes[k], d->keytypes[k]), c);
	}
	return buf.data;
}

/* The delta of a writable table, for the put and delete functions. */
static SbDelta *
writable_table(Oid relid, Relation *rel, char **name)
{
	SbTableOptions *opts = SbOpenTable(relid, rel);
	SbDelta    *d = opts->bundle ? SbDeltaFor(*rel, opts->bundle) : NULL;

	if (d == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot change foreign table \"%s\": its bundle is read-only",
						RelationGetRelationName(*rel))));
	*name = SbQualifiedRelationName(RelationGetRelid(*rel));
	return d;
}

/*
 * sharedbuf_put(table regclass, new_row anyelement)
 *		Insert a row, replacing the rows of its key.
 */
Datum
sharedbuf_put(PG_FUNCTION_ARGS)
{
	Relation	rel;
	char	   *name;
	SbDelta    *d = writable_table(PG_GETARG_OID(0), &rel, &name);
	Oid			rowtype = get_fn_expr_argtype(fcinfo->flinfo, 1);
	Datum		row = PG_GETARG_DATUM(1);

	if (rowtype != rel->rd_rel->reltype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("new row must be of type %s, the row type of foreign table \"%s\"",
						format_type_be(rel->rd_rel->reltype), RelationGetRelationName(rel))));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE %s", name, row_key_condition(d)),
							  1, &rowtype, &row, NULL, false, 0) < 0 ||
		SPI_execute_with_args(psprintf("INSERT INTO %s SELECT ($1).*", name),
							  1, &rowtype, &row, NULL, false, 0) < 0)
		elog(ERROR, "SPI_execute_with_args failed");
	SPI_finish();
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/*
 * sharedbuf_delete(table regclass, key anyelement)
 *		Delete the rows of a key of a one-column key; how many there were.
 */
Datum
sharedbuf_delete(PG_FUNCTION_ARGS)
{
	Relation	rel;
	char	   *name;
	SbDelta    *d = writable_table(PG_GETARG_OID(0), &rel, &name);
	Oid			keytype = get_fn_expr_argtype(fcinfo->flinfo, 1);
	Datum		key = PG_GETARG_DATUM(1);
	char	   *eq;
	int64		n;

	if (d->nkeys != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bundle \"%s\" has a key of %d columns", d->bundle, d->nkeys),
				 errhint("Use DELETE on the table.")));
	eq = SbEqualitySql(d->keytypes[0], keytype);
	if (eq == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("key must be of type %s", format_type_be(d->keytypes[0]))));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE %s %s $1", name,
									   d->colnames[d->keyattnos[0] - 1], eq),
							  1, &keytype, &key, NULL, false, 0) < 0)
		elog(ERROR, "SPI_execute_with_args failed");
	n = (int64) SPI_processed;
	SPI_finish();
	table_close(rel, NoLock);
	PG_RETURN_INT64(n);
}

/*
 * sharedbuf_delta_info(table regclass)
 *		A writable bundle's delta: its table, the generation of writes, the
 *		last one folded, the keys and rows it decides, the rows merges
 *		replaced since the bundle's last full build, and the table it
 *		follows, if any.
 */
Datum
sharedbuf_delta_info(PG_FUNCTION_ARGS)
{
	Relation	rel;
	SbTableOptions *opts = SbOpenTable(PG_GETARG_OID(0), &rel);
	SbDelta    *d = opts->bundle ? SbDeltaFor(rel, opts->bundle) : NULL;
	SbMappingRef *ref;
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7] = {false};
	int64		folded,
				merged;
	Oid			source;

	if (d == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bundle of foreign table \"%s\" is not writable",
						RelationGetRelationName(rel))));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	ref = SbPinBundle(opts->path, opts->label, CurrentMemoryContext);
	folded = SbFoldedThrough(ref->bundle);
	merged = SbMergedRows(ref->bundle);
	SbUnpinBundle(ref);
	values[0] = ObjectIdGetDatum(d->relid);
	values[1] = Int64GetDatum(SbDeltaGeneration(d));
	values[2] = Int64GetDatum(folded);
	SbDeltaCount(d, folded, &values[3], &values[4]);
	values[5] = Int64GetDatum(merged);
	source = SbFollowedTable(RelationGetRelid(rel));
	values[6] = ObjectIdGetDatum(source);
	nulls[6] = !OidIsValid(source);
	table_close(rel, NoLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
