/*-------------------------------------------------------------------------
 *
 * functions.c
 *	  SQL functions that build bundles: sharedbuf_build, sharedbuf_create,
 *	  sharedbuf_refresh.
 *
 * All three run the query with the caller's privileges and return a
 * summary row.  sharedbuf_create also creates a foreign table whose
 * columns are the query's result columns and whose options record the
 * query and key, so that sharedbuf_refresh can rebuild it; refresh
 * requires owning the table.  Every object name in generated SQL is
 * quoted and schema-qualified, so a hostile search_path cannot redirect
 * it.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(sharedbuf_build);
PG_FUNCTION_INFO_V1(sharedbuf_create);
PG_FUNCTION_INFO_V1(sharedbuf_refresh);

/* A text argument as a C string, or NULL. */
static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* Refuse a NULL where a value is required. */
static void
require_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
}

/*
 * sharedbuf_build(bundle text, query text, key text, approximate boolean)
 *		Build a bundle of this database from a query; it replaces any
 *		bundle of that name when the transaction commits.
 */
Datum
sharedbuf_build(PG_FUNCTION_ARGS)
{
	SbBuildResult result = {0};

	require_arg(fcinfo, 0, "bundle name");
	require_arg(fcinfo, 1, "query");
	SbBuildBundle(text_arg(fcinfo, 0), text_arg(fcinfo, 1), text_arg(fcinfo, 2),
				  !PG_ARGISNULL(3) && PG_GETARG_BOOL(3), &result);
	PG_RETURN_DATUM(SbBuildResultDatum(fcinfo, &result));
}

/* Column definitions for CREATE FOREIGN TABLE from a build's result. */
static char *
column_definitions(const SbBuildResult *r)
{
	StringInfoData buf;
	ListCell   *ln,
			   *lt,
			   *lm,
			   *lc;

	initStringInfo(&buf);
	forfour(ln, r->colnames, lt, r->coltypes, lm, r->coltypmods, lc, r->colcollations)
	{
		Oid			coll = lfirst_oid(lc);

		appendStringInfo(&buf, "%s%s %s", buf.len ? ", " : "",
						 quote_identifier(lfirst(ln)),
						 format_type_extended(lfirst_oid(lt), lfirst_int(lm),
											  FORMAT_TYPE_TYPEMOD_GIVEN |
											  FORMAT_TYPE_FORCE_QUALIFY));
		if (OidIsValid(coll) && coll != get_typcollation(lfirst_oid(lt)))
			appendStringInfo(&buf, " COLLATE %s", SbQualifiedCollationName(coll));
	}
	return buf.data;
}

/*
 * Run a statement through SPI; the values of the first column of the rows
 * it returns, if any, as a list of OIDs in the caller's memory context.
 */
List *
SbExecuteSql(const char *sql, bool read_only)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *result = NIL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, read_only, 0) < 0)
		elog(ERROR, "SPI_execute failed: %s", sql);
	for (uint64 i = 0; SPI_tuptable && i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1,
									  &isnull);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		/* the list must outlive SPI_finish() */
		result = lappend_oid(result, DatumGetObjectId(d));
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return result;
}

/*
 * sharedbuf_create(table_name text, query text, key text, server name,
 *					approximate boolean, writable boolean, follow boolean)
 *		Build a bundle named after the table and create a foreign table over
 *		it, with the query's result columns.
 */
Datum
sharedbuf_create(PG_FUNCTION_ARGS)
{
	SbBuildResult result = {0};
	List	   *names;
	RangeVar   *rv;
	char	   *query,
			   *key;
	bool		approximate = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
	bool		writable = PG_NARGS() > 5 && !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
	bool		follow = PG_NARGS() > 6 && !PG_ARGISNULL(6) && PG_GETARG_BOOL(6);
	StringInfoData sql;

	require_arg(fcinfo, 0, "table name");
	require_arg(fcinfo, 1, "query");
	require_arg(fcinfo, 3, "server name");
	names = sb_stringToQualifiedNameList(text_arg(fcinfo, 0));
	rv = makeRangeVarFromNameList(names);
	if (rv->schemaname == NULL)
		rv->schemaname = get_namespace_name(RangeVarGetCreationNamespace(rv));
	query = text_arg(fcinfo, 1);
	key = text_arg(fcinfo, 2);
	(void) GetForeignServerByName(NameStr(*PG_GETARG_NAME(3)), false);
	if (follow && approximate)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an approximate bundle cannot follow its query")));

	if (follow)
	{
		(void) SbFollowPrepare(InvalidOid, rv->relname, query, key, true);
		PushActiveSnapshot(GetLatestSnapshot());
	}
	SbBuildBundle(rv->relname, query, key, approximate, &result);
	if (follow)
		PopActiveSnapshot();

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE FOREIGN TABLE %s (%s) SERVER %s OPTIONS (bundle %s, query %s",
					 quote_qualified_identifier(rv->schemaname, rv->relname),
					 column_definitions(&result),
					 quote_identifier(NameStr(*PG_GETARG_NAME(3))),
					 quote_literal_cstr(rv->relname), quote_literal_cstr(query));
	if (key)
		appendStringInfo(&sql, ", key %s", quote_literal_cstr(key));
	if (approximate)
		appendStringInfoString(&sql, ", approximate 'true'");
	if (follow)
		appendStringInfoString(&sql, ", follow 'true'");
	appendStringInfoChar(&sql, ')');
	(void) SbExecuteSql(sql.data, false);
	if (writable || follow)
	{
		Relation	rel = table_openrv(rv, AccessShareLock);

		if (follow)
			SbFollowFinish(rel, rv->relname, query, key);
		else
			SbMakeWritable(rel, rv->relname);
		table_close(rel, NoLock);
	}
	PG_RETURN_DATUM(SbBuildResultDatum(fcinfo, &result));
}

/* The key of the bundle a table reads now, as a key specification. */
char *
SbCurrentKey(const SbTableOptions *opts)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "sharedbuf key",
											  ALLOCSET_SMALL_SIZES);
	SbMappingRef *ref;
	const sb_info *b;
	StringInfoData buf;

	initStringInfo(&buf);
	ref = SbPinBundle(opts->path, opts->label, tmp);
	b = sb_bundle_info(ref->bundle);
	for (int k = 0; k < b->nkeys; k++)
		appendStringInfo(&buf, "%s%s", k ? ", " : "",
						 quote_identifier(b->columns[b->key_columns[k]].name));
	MemoryContextDelete(tmp);
	return buf.len ? buf.data : NULL;
}

/* Check that every column of the table exists in the new build's result. */
static void
check_table_columns(Relation rel, const SbBuildResult *r)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *name;
		ListCell   *ln,
				   *lt;
		bool		found = false;

		if (att->attisdropped)
			continue;
		name = SbColumnName(RelationGetRelid(rel), att->attnum);
		forboth(ln, r->colnames, lt, r->coltypes)
			if (strcmp(lfirst(ln), name) == 0 &&
				strcmp(SbQualifiedTypeName(lfirst_oid(lt)),
					   SbQualifiedTypeName(att->atttypid)) == 0)
				found = true;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the query's result has no column \"%s\" of type %s for foreign table \"%s\"",
							name, format_type_be(att->atttypid),
							RelationGetRelationName(rel))));
	}
}

/*
 * Store a new query in the table's options.  This updates the catalog row
 * directly: ALTER FOREIGN TABLE would refuse while the table is open in
 * this session (a cursor, a loop over it), and the stored query matters
 * only to later refreshes, which the bundle lock serializes.
 */
static void
store_query(Oid relid, const char *query)
{
	Relation	ftrel = table_open(ForeignTableRelationId, RowExclusiveLock);
	HeapTuple	tup = SearchSysCacheCopy1(FOREIGNTABLEREL, ObjectIdGetDatum(relid));
	Datum		values[Natts_pg_foreign_table] = {0};
	bool		nulls[Natts_pg_foreign_table] = {false};
	bool		replace[Natts_pg_foreign_table] = {false};
	ArrayBuildState *astate = NULL;
	List	   *options;
	ListCell   *lc;
	bool		isnull;
	Datum		datum;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for foreign table %u", relid);
	datum = SysCacheGetAttr(FOREIGNTABLEREL, tup, Anum_pg_foreign_table_ftoptions, &isnull);
	options = isnull ? NIL : untransformRelOptions(datum);
	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "query") != 0)
			astate = accumArrayResult(astate,
									  CStringGetTextDatum(psprintf("%s=%s", def->defname,
																   defGetString(def))),
									  false, TEXTOID, CurrentMemoryContext);
	}
	astate = accumArrayResult(astate, CStringGetTextDatum(psprintf("query=%s", query)),
							  false, TEXTOID, CurrentMemoryContext);
	values[Anum_pg_foreign_table_ftoptions - 1] = makeArrayResult(astate, CurrentMemoryContext);
	replace[Anum_pg_foreign_table_ftoptions - 1] = true;
	tup = heap_modify_tuple(tup, RelationGetDescr(ftrel), values, nulls, replace);
	CatalogTupleUpdate(ftrel, &tup->t_self, tup);
	table_close(ftrel, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * Rebuild the bundle of the foreign table 'relid' from its stored query,
 * or from 'query' (then stored), swapping it in at commit.  A table with
 * the "follow" option follows the table its query reads from then on
 * (follow.c); one without it stops following.
 */
void
SbRefreshTable(Oid relid, const char *query, SbBuildResult *result)
{
	Relation	rel;
	SbTableOptions *opts = SbOpenTable(relid, &rel);
	const char *use;
	const char *key;

	if (!sb_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_FOREIGN_TABLE,
					   RelationGetRelationName(rel));
	if (opts->bundle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("foreign table \"%s\" reads a file, not a bundle of this database",
						RelationGetRelationName(rel)),
				 errhint("Only tables with the \"bundle\" option can be refreshed.")));
	use = query ? query : opts->query;
	if (use == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign table \"%s\" has no stored query",
						RelationGetRelationName(rel)),
				 errhint("Pass the query to sharedbuf_refresh().")));

	key = opts->key ? opts->key : SbCurrentKey(opts);
	if (opts->follow)
	{
		(void) SbFollowPrepare(relid, opts->bundle, use, key, query != NULL);
		PushActiveSnapshot(GetLatestSnapshot());
	}
	SbBuildBundle(opts->bundle, use, key, opts->approximate, result);
	if (opts->follow)
		PopActiveSnapshot();
	check_table_columns(rel, result);
	if (query)
		store_query(relid, query);
	if (opts->follow)
		SbFollowFinish(rel, opts->bundle, use, key);
	else
		(void) SbFollowStop(relid);
	table_close(rel, NoLock);
}

/*
 * sharedbuf_refresh(table regclass, query text)
 *		Rebuild a table's bundle from its stored query (or a new one, which
 *		is then stored) and swap it in at commit.
 */
Datum
sharedbuf_refresh(PG_FUNCTION_ARGS)
{
	SbBuildResult result = {0};

	require_arg(fcinfo, 0, "table");
	SbRefreshTable(PG_GETARG_OID(0), text_arg(fcinfo, 1), &result);
	PG_RETURN_DATUM(SbBuildResultDatum(fcinfo, &result));
}
