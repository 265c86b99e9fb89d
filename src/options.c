/*-------------------------------------------------------------------------
 *
 * options.c
 *	  Options of sharedbuf foreign tables and their validator.
 *
 * A foreign table names a bundle of this database ("bundle") or, for
 * roles with the privileges of pg_read_server_files, any bundle file by
 * absolute path ("filename"), as file_fdw does.  "query", "key" and
 * "approximate" record how the bundle is built, for sharedbuf_refresh();
 * "follow" that it follows the table its query reads (follow.c).
 * A column may map to a bundle column of another name ("column_name").
 * Only roles with the privileges of a bundle's owner may define a table
 * over it.  A table's options are parsed once per backend and kept until
 * an invalidation of pg_foreign_table or of a relation (a rename changes
 * the label of a table that reads a file).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_foreign_table.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/* An option and the catalog it belongs to. */
typedef struct SbOption
{
	const char *name;
	Oid			context;
} SbOption;

static const SbOption valid_options[] = {
	{"bundle", ForeignTableRelationId},
	{"filename", ForeignTableRelationId},
	{"query", ForeignTableRelationId},
	{"key", ForeignTableRelationId},
	{"approximate", ForeignTableRelationId},
	{"follow", ForeignTableRelationId},
	{"column_name", AttributeRelationId},
	{NULL, InvalidOid}
};

PG_FUNCTION_INFO_V1(sharedbuf_fdw_validator);

/* Is 'name' an option of the catalog 'context'? */
static bool
is_valid_option(const char *name, Oid context)
{
	for (const SbOption *o = valid_options; o->name; o++)
		if (o->context == context && strcmp(o->name, name) == 0)
			return true;
	return false;
}

/* Report an unknown option, listing the valid ones for the catalog. */
static void
report_invalid_option(const char *name, Oid context)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (const SbOption *o = valid_options; o->name; o++)
		if (o->context == context)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", o->name);
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid option \"%s\"", name),
			 buf.len > 0 ?
			 errhint("Valid options in this context are: %s.", buf.data) :
			 errhint("There are no valid options in this context.")));
}

/*
 * Is 'path' a file of this database's bundle directory?  A path with a
 * ".." component is never inside.
 */
static bool
path_in_bundle_directory(const char *path)
{
	char	   *dir = SbDatabaseDirectory(false);
	char	   *parent = pstrdup(path);

	get_parent_directory(parent);
	return !path_contains_parent_reference(path) && strcmp(parent, dir) == 0;
}

/* The bundle a file of the bundle directory holds, or NULL. */
static char *
bundle_of_file(const char *path)
{
	const char *base = last_dir_separator(path) + 1;
	size_t		len = strlen(base);
	size_t		slen = strlen(SB_BUNDLE_SUFFIX);
	char	   *name;

	if (len <= slen || strcmp(base + len - slen, SB_BUNDLE_SUFFIX) != 0)
		return NULL;
	name = pnstrdup(base, len - slen);
	return SbIsBundleName(name) ? name : NULL;
}

/* Check the filename option: absolute, and readable by this role. */
static void
check_filename(const char *filename)
{
	if (!is_absolute_path(filename))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("\"filename\" must be an absolute path")));
	if (path_in_bundle_directory(filename))
	{
		/* a bundle of this database, by path: its owner's to read */
		char	   *name = bundle_of_file(filename);

		if (name)
			(void) SbCatalogCheckOwner(name, NULL);
	}
	else if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set the \"filename\" option to a file outside the bundle directory"),
				 errhint("Only roles with privileges of the \"%s\" role may read other files; use the \"bundle\" option for bundles of this database.",
						 "pg_read_server_files")));
}

/*
 * sharedbuf_fdw_validator
 *		Check the options of a sharedbuf object.
 */
Datum
sharedbuf_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	bool		have_bundle = false,
				have_file = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (!is_valid_option(def->defname, catalog))
			report_invalid_option(def->defname, catalog);
		if (strcmp(def->defname, "bundle") == 0)
		{
			SbCheckBundleName(defGetString(def));
			if (catalog == ForeignTableRelationId)
				(void) SbCatalogCheckOwner(defGetString(def), NULL);
			have_bundle = true;
		}
		else if (strcmp(def->defname, "filename") == 0)
		{
			check_filename(defGetString(def));
			have_file = true;
		}
		else if (strcmp(def->defname, "approximate") == 0 ||
				 strcmp(def->defname, "follow") == 0)
			(void) defGetBoolean(def);
		else if (strcmp(def->defname, "column_name") == 0 &&
				 defGetString(def)[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("\"column_name\" must not be empty")));
	}
	if (catalog == ForeignTableRelationId && have_bundle == have_file)
		ereport(ERROR,
				(errcode(have_bundle ? ERRCODE_SYNTAX_ERROR :
						 ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 have_bundle ?
				 errmsg("options \"bundle\" and \"filename\" cannot both be set") :
				 errmsg("either option \"bundle\" or option \"filename\" is required")));
	PG_RETURN_VOID();
}

/* The options of a sharedbuf foreign table, parsed from the catalog. */
static SbTableOptions *
parse_table_options(Oid relid)
{
	ForeignTable *table = GetForeignTable(relid);
	SbTableOptions *opts = palloc0(sizeof(SbTableOptions));
	ListCell   *lc;

	foreach(lc, table->options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "bundle") == 0)
			opts->bundle = defGetString(def);
		else if (strcmp(def->defname, "filename") == 0)
			opts->filename = defGetString(def);
		else if (strcmp(def->defname, "query") == 0)
			opts->query = defGetString(def);
		else if (strcmp(def->defname, "key") == 0)
			opts->key = defGetString(def);
		else if (strcmp(def->defname, "approximate") == 0)
			opts->approximate = defGetBoolean(def);
		else if (strcmp(def->defname, "follow") == 0)
			opts->follow = defGetBoolean(def);
	}
	if (opts->bundle)
		opts->path = SbBundlePath(opts->bundle);
	else if (opts->filename)
		opts->path = opts->filename;
	else
		elog(ERROR, "foreign table %u has neither a bundle nor a filename", relid);
	/* messages name the bundle, or the table that reads a file */
	opts->label = opts->bundle ? opts->bundle : get_rel_name(relid);
	return opts;
}

/* A copy of 'src' in context 'cxt'. */
static SbTableOptions *
copy_table_options(const SbTableOptions *src, MemoryContext cxt)
{
	SbTableOptions *opts = MemoryContextAlloc(cxt, sizeof(SbTableOptions));

#define COPY_STRING(f) (opts->f = src->f ? MemoryContextStrdup(cxt, src->f) : NULL)
	COPY_STRING(bundle);
	COPY_STRING(filename);
	COPY_STRING(path);
	COPY_STRING(label);
	COPY_STRING(query);
	COPY_STRING(key);
#undef COPY_STRING
	opts->approximate = src->approximate;
	opts->follow = src->follow;
	return opts;
}

typedef struct SbOptionsEntry
{
	Oid			relid;			/* hash key */
	SbTableOptions *opts;		/* in options_cxt */
} SbOptionsEntry;

static MemoryContext options_cxt = NULL;
static HTAB *options_cache = NULL;

/* Invalidation callback: forget every table's options. */
static void
forget_table_options(Datum arg, Oid relid)
{
	if (options_cache != NULL)
	{
		MemoryContextReset(options_cxt);
		options_cache = NULL;
	}
}

/* Syscache callback of pg_foreign_table: the same. */
static void
forget_table_options_syscache(Datum arg, int cacheid, uint32 hashvalue)
{
	forget_table_options(arg, InvalidOid);
}

/* Create the options cache (and register its callbacks once). */
static void
init_options_cache(void)
{
	HASHCTL		ctl;

	if (options_cxt == NULL)
	{
		options_cxt = AllocSetContextCreate(CacheMemoryContext,
											"sharedbuf table options",
											ALLOCSET_SMALL_SIZES);
		CacheRegisterSyscacheCallback(FOREIGNTABLEREL,
									  forget_table_options_syscache, (Datum) 0);
		CacheRegisterRelcacheCallback(forget_table_options, (Datum) 0);
	}
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(SbOptionsEntry);
	ctl.hcxt = options_cxt;
	options_cache = hash_create("sharedbuf table options", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * The options of a sharedbuf foreign table, with the file to map: a copy
 * in the current memory context (an invalidation may drop the cached one
 * at the next lock any time later).
 */
SbTableOptions *
SbGetTableOptions(Oid relid)
{
	SbOptionsEntry *e;
	bool		found;

	if (options_cache == NULL)
		init_options_cache();
	e = hash_search(options_cache, &relid, HASH_FIND, &found);
	if (!found)
	{
		SbTableOptions *parsed = parse_table_options(relid);

		/* parsing may have taken invalidations that reset the cache */
		if (options_cache == NULL)
			init_options_cache();
		e = hash_search(options_cache, &relid, HASH_ENTER, &found);
		e->opts = copy_table_options(parsed, options_cxt);
	}
	return copy_table_options(e->opts, CurrentMemoryContext);
}

/* The bundle column a foreign-table column reads: column_name or its name. */
char *
SbColumnName(Oid relid, AttrNumber attnum)
{
	List	   *options = GetForeignColumnOptions(relid, attnum);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "column_name") == 0)
			return defGetString(def);
	}
	return get_attname(relid, attnum, false);
}

/* Refuse a relation that is not a sharedbuf foreign table. */
static void
check_table(Relation rel)
{
	Oid			handler = InvalidOid;

	if (rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
	{
		ForeignTable *ft = GetForeignTable(RelationGetRelid(rel));
		ForeignServer *server = GetForeignServer(ft->serverid);

		handler = GetForeignDataWrapper(server->fdwid)->fdwhandler;
	}
	if (!OidIsValid(handler) ||
		strcmp(get_func_name(handler), "sharedbuf_fdw_handler") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a sharedbuf foreign table",
						RelationGetRelationName(rel))));
}

/*
 * Open the sharedbuf foreign table 'relid' (with AccessShareLock, kept
 * until the end of the transaction) and read its options.  The table is
 * returned open in *relp, or closed if relp is NULL.
 */
SbTableOptions *
SbOpenTable(Oid relid, Relation *relp)
{
	Relation	rel = table_open(relid, AccessShareLock);

	check_table(rel);
	if (relp)
		*relp = rel;
	else
		table_close(rel, NoLock);
	return SbGetTableOptions(relid);
}
