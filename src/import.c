/*-------------------------------------------------------------------------
 *
 * import.c
 *	  IMPORT FOREIGN SCHEMA: a foreign table for each bundle of the
 *	  database.
 *
 * "IMPORT FOREIGN SCHEMA bundles FROM SERVER sharedbuf INTO s" defines one
 * table per bundle file in this database's directory (the remote schema's
 * name is not used), named after the bundle, with the bundle's columns
 * and types, and the key and query recorded in the bundle, so that
 * sharedbuf_refresh works on the new tables; a hashed key column gets the
 * collation it was hashed with, if this database has one of its name.  LIMIT TO and EXCEPT select
 * bundles by name.  A bundle that cannot be described here (a damaged
 * file, a column of a type this database lacks) is skipped with a warning.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "catalog/namespace.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/varlena.h"

/* Does the statement's LIMIT TO / EXCEPT list select this bundle? */
static bool
bundle_selected(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;
	bool		listed = false;

	if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
		return true;
	foreach(lc, stmt->table_list)
		if (strcmp(((RangeVar *) lfirst(lc))->relname, name) == 0)
			listed = true;
	return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO ? listed : !listed;
}

/*
 * The SQL type of a bundle column in this database, with its typmod; NULL
 * if the type does not exist here.
 */
static char *
column_type(const sb_column *c, const char *bundle)
{
	const char *dot = strchr(c->type_name, '.');
	TypeName   *tn;
	Oid			typid;
	int32		typmod;

	if (dot == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bundle \"%s\" records an invalid type name \"%s\"",
						bundle, c->type_name)));
	tn = makeTypeNameFromNameList(list_make2(makeString(pnstrdup(c->type_name, dot - c->type_name)),
											 makeString(pstrdup(dot + 1))));
	typid = LookupTypeNameOid(NULL, tn, true);
	if (!OidIsValid(typid))
	{
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("skipping bundle \"%s\": column \"%s\" has type %s, which does not exist in this database",
						bundle, c->name, c->type_name)));
		return NULL;
	}
	typmod = c->typmod;
	return format_type_extended(typid, typmod,
								FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
}

/*
 * The collation a hashed key column was hashed with, as " COLLATE name",
 * if the bundle names one (other than the default) and this database has
 * a collation of that name; else "".  A table under another collation
 * does not look the key up (planner.c).
 */
static const char *
key_collation(const sb_bundle *b, const sb_column *c)
{
	size_t		len;
	const char *v;
	char	   *name;
	List	   *names;

	if (c->key_kind != SB_KEY_HASHED)
		return "";
	v = sb_meta_get(b, SbKeyHashMetaKey(c->key_position, 2), &len);
	if (v == NULL || len == 0)
		return "";
	name = pnstrdup(v, len);
	if (strcmp(name, "pg_catalog.\"default\"") == 0 ||
		!SplitIdentifierString(pstrdup(name), '.', &names) ||
		list_length(names) != 2)
		return "";
	names = list_make2(makeString(linitial(names)), makeString(lsecond(names)));
	if (!OidIsValid(get_collation_oid(names, true)))
		return "";
	return psprintf(" COLLATE %s", name);
}

/* Append ", name 'value'" for a metadata entry of the bundle, if present. */
static void
append_meta_option(StringInfo buf, const sb_bundle *b, const char *key)
{
	size_t		len;
	const char *v = sb_meta_get(b, key, &len);

	if (v && len > 0)
		appendStringInfo(buf, ", %s %s", key,
						 quote_literal_cstr(pnstrdup(v, len)));
}

/*
 * The CREATE FOREIGN TABLE command for one bundle, or NULL if the bundle
 * cannot be described in this database (a warning says why).
 */
static char *
table_command(const char *name, const char *path, const char *server)
{
	StringInfoData buf;
	sb_bundle  *b;
	const sb_info *bi;
	sb_error	err;

	if (sb_open(path, &b, &err) != SB_OK)
	{
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("skipping bundle \"%s\": %s", name, sb_status_message(err.code)),
				 errdetail("%s", err.detail)));
		return NULL;
	}
	bi = sb_bundle_info(b);
	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (", quote_identifier(name));
	for (int i = 0; i < bi->ncolumns; i++)
	{
		char	   *type = column_type(&bi->columns[i], name);

		if (type == NULL)
		{
			sb_close(b);
			return NULL;
		}
		appendStringInfo(&buf, "%s%s %s%s", i ? ", " : "",
						 quote_identifier(bi->columns[i].name), type,
						 key_collation(b, &bi->columns[i]));
	}
	appendStringInfo(&buf, ") SERVER %s OPTIONS (bundle %s",
					 quote_identifier(server), quote_literal_cstr(name));
	append_meta_option(&buf, b, "key");
	append_meta_option(&buf, b, "query");
	if (bi->approximate)
		appendStringInfoString(&buf, ", approximate 'true'");
	appendStringInfoChar(&buf, ')');
	sb_close(b);
	return buf.data;
}

/*
 * sbImportForeignSchema
 *		One CREATE FOREIGN TABLE command per selected bundle, in name order.
 */
List *
sbImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	List	   *names = SbListDirectory(SB_BUNDLE_SUFFIX, false);
	List	   *commands = NIL;
	ListCell   *lc;

	foreach(lc, names)
	{
		char	   *name = lfirst(lc);
		char	   *command;

		if (!bundle_selected(stmt, name) || !SbCatalogMayUse(name))
			continue;
		command = table_command(name, SbBundlePath(name), server->servername);
		if (command)
			commands = lappend(commands, command);
	}
	return commands;
}
