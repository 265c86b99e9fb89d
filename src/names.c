/*-------------------------------------------------------------------------
 *
 * names.c
 *	  The schema-qualified names of catalog objects, as bundles record
 *	  them (types, hash functions, operator families) and as SQL spells
 *	  them (collations).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/*
 * "schema.name" of the catalog object 'oid' of syscache 'cacheid', from
 * its namespace and name attributes; with 'quote', quoted as SQL needs.
 */
static char *
qualified_object_name(int cacheid, Oid oid, AttrNumber nspatt,
					  AttrNumber nameatt, bool quote)
{
	HeapTuple	tup = SearchSysCache1(cacheid, ObjectIdGetDatum(oid));
	bool		isnull;
	char	   *nsp,
			   *name,
			   *result;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for object %u of cache %d", oid, cacheid);
	nsp = get_namespace_name(DatumGetObjectId(SysCacheGetAttr(cacheid, tup, nspatt, &isnull)));
	name = NameStr(*DatumGetName(SysCacheGetAttr(cacheid, tup, nameatt, &isnull)));
	result = quote ? quote_qualified_identifier(nsp, name) : psprintf("%s.%s", nsp, name);
	ReleaseSysCache(tup);
	return result;
}

/* "schema"."relation", quoted, for generated SQL. */
char *
SbQualifiedRelationName(Oid relid)
{
	return qualified_object_name(RELOID, relid, Anum_pg_class_relnamespace,
								 Anum_pg_class_relname, true);
}

/* "schema.type" for a type, as recorded in bundles. */
char *
SbQualifiedTypeName(Oid typid)
{
	return qualified_object_name(TYPEOID, typid, Anum_pg_type_typnamespace,
								 Anum_pg_type_typname, false);
}

/* "schema.name" of a function. */
char *
SbQualifiedFunctionName(Oid proc)
{
	return psprintf("%s.%s", get_namespace_name(get_func_namespace(proc)),
					get_func_name(proc));
}

/* "schema.name" of an operator family. */
char *
SbQualifiedOpfamilyName(Oid opfamily)
{
	return qualified_object_name(OPFAMILYOID, opfamily, Anum_pg_opfamily_opfnamespace,
								 Anum_pg_opfamily_opfname, false);
}

/* A collation's SQL name, always schema-qualified and quoted. */
char *
SbQualifiedCollationName(Oid collation)
{
	return qualified_object_name(COLLOID, collation, Anum_pg_collation_collnamespace,
								 Anum_pg_collation_collname, true);
}
