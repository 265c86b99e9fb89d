/*-------------------------------------------------------------------------
 *
 * delta.c
 *	  The delta of a writable bundle: its table, its generations, and the
 *	  statements that read and write it.
 *
 * A writable bundle keeps the changes made since it was built in an
 * ordinary heap table, sharedbuf_delta.<bundle>, so that they are
 * transactional, WAL-logged, replicated and vacuumed like any table.  Its
 * columns are the foreign table's, plus
 *
 *	sb_gen	the generation the change was made in;
 *	sb_kind	'K' for a key's marker: from this generation on, the key's rows
 *			are the 'R' rows of the generation, not the bundle's;
 *	sb_seq	on a marker, how many statements changed the key.
 *
 * A key is changed by copy on write: the first change to it in a
 * generation inserts its marker and copies its current rows; every change
 * then updates the marker first, which takes a row lock on it, so writers
 * of a key queue behind each other (and under REPEATABLE READ fail) just
 * as on a heap table.  A bundle records the last generation folded into
 * it ("delta_folded_through"); for a key, the marker of the newest
 * generation after that one decides, if any.  A rebuild (a fold, or a
 * refresh from the source query) moves writers on to a new generation,
 * waits for those of the old one, builds, and deletes the old generations'
 * rows in the building transaction.  A reader whose snapshot sees that
 * deletion also sees the new bundle's catalog row, so it never reads the
 * old bundle without the rows folded away from it (settle.c).
 *
 * Statements run through SPI, as the foreign table's owner, with plans
 * kept for the life of the backend.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#define SB_DELTA_SCHEMA		"sharedbuf_delta"
#define SB_DELTA_MAX_NAME	50	/* leaves room for the suffixes below */

/* A kept plan of a statement on a delta. */
typedef struct SbKeptPlan
{
	uint64		hash;			/* of the statement and its argument types */
	char	   *sql;
	SPIPlanPtr	plan;
} SbKeptPlan;

static HTAB *kept_plans = NULL;

/* The schema of the deltas, or InvalidOid if the extension has none. */
static Oid
delta_schema(void)
{
	return get_namespace_oid(SB_DELTA_SCHEMA, true);
}

/* The name of a delta's object: the table itself with a NULL suffix. */
static char *
delta_object(const char *bundle, const char *suffix)
{
	return quote_qualified_identifier(SB_DELTA_SCHEMA,
									  suffix ? psprintf("%s$%s", bundle, suffix) : bundle);
}

/* The delta table of a bundle, or InvalidOid if it is not writable. */
Oid
SbDeltaRelid(const char *bundle)
{
	Oid			nsp = delta_schema();

	if (!OidIsValid(nsp) || bundle == NULL)
		return InvalidOid;
	return get_relname_relid(bundle, nsp);
}

/* A kept plan for 'sql' with these argument types, prepared on first use. */
static SPIPlanPtr
kept_plan(const char *sql, int nargs, Oid *argtypes)
{
	uint64		h = hash_bytes_extended((const unsigned char *) sql, strlen(sql), 0);
	SbKeptPlan *kp;
	bool		found;
	SPIPlanPtr	plan;

	h = hash_bytes_extended((const unsigned char *) argtypes,
							sizeof(Oid) * nargs, h);
	if (kept_plans == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(SbKeptPlan);
		ctl.hcxt = TopMemoryContext;
		kept_plans = hash_create("sharedbuf delta plans", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	kp = hash_search(kept_plans, &h, HASH_FIND, &found);
	if (found && strcmp(kp->sql, sql) == 0)
		return kp->plan;
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (found)
		return plan;			/* a hash collision: not kept */
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	kp = hash_search(kept_plans, &h, HASH_ENTER, &found);
	kp->sql = MemoryContextStrdup(TopMemoryContext, sql);
	kp->plan = plan;
	return plan;
}

/*
 * Run a statement on a delta as role 'runas', between SPI_connect and
 * SPI_finish.  A read-only one reads with the active snapshot; another
 * takes a new one under READ COMMITTED.
 */
int
SbDeltaRun(Oid runas, const char *sql, int nargs, Oid *argtypes,
		   Datum *values, const char *nulls, bool read_only)
{
	SPIPlanPtr	plan = kept_plan(sql, nargs, argtypes);
	Oid			save_user;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(runas, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_plan(plan, values, nulls, read_only, 0);
	SetUserIdAndSecContext(save_user, save_sec);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	return rc;
}

/* The foreign table's column of a delta column, by name; or 0. */
static AttrNumber
table_attnum(Relation ftrel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(ftrel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	return 0;
}

/* Read the key columns of a delta from its marker index. */
static void
read_delta_key(SbDelta *d, Relation ftrel)
{
	Oid			idx = get_relname_relid(psprintf("%s$marker", d->bundle), delta_schema());
	HeapTuple	tup;
	Form_pg_index index;

	d->marker_index = idx;
	d->gen_index = get_relname_relid(psprintf("%s$gen", d->bundle), delta_schema());

	if (!OidIsValid(idx) ||
		!HeapTupleIsValid(tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx))))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the delta of bundle \"%s\" has no marker index", d->bundle),
				 errhint("Drop the delta with sharedbuf_set_writable(..., false) and make the table writable again.")));
	index = (Form_pg_index) GETSTRUCT(tup);
	d->nkeys = index->indnkeyatts - 1;	/* the last one is sb_gen */
	for (int k = 0; k < d->nkeys; k++)
	{
		char	   *name = get_attname(d->relid, index->indkey.values[k], false);

		d->keyattnos[k] = table_attnum(ftrel, name);
		d->keytypes[k] = get_atttype(d->relid, index->indkey.values[k]);
		if (d->keyattnos[k] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("foreign table \"%s\" has no column \"%s\" of the key of writable bundle \"%s\"",
							RelationGetRelationName(ftrel), name, d->bundle)));
	}
	ReleaseSysCache(tup);
	idx = get_relname_relid(psprintf("%s$row", d->bundle), delta_schema());
	d->row_index = idx;
	if (!OidIsValid(idx) || !OidIsValid(d->gen_index))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the delta of bundle \"%s\" lacks an index", d->bundle)));
	d->unique = false;
	if (OidIsValid(idx) &&
		HeapTupleIsValid(tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx))))
	{
		d->unique = ((Form_pg_index) GETSTRUCT(tup))->indisunique;
		ReleaseSysCache(tup);
	}
}

/* Check that every column of the foreign table is the delta's too. */
static void
check_delta_columns(SbDelta *d, Relation ftrel)
{
	TupleDesc	desc = RelationGetDescr(ftrel);

	d->natts = desc->natts;
	d->colnames = palloc0(sizeof(char *) * Max(1, desc->natts));
	d->deltaatts = palloc0(sizeof(AttrNumber) * Max(1, desc->natts));
	d->gen_att = get_attnum(d->relid, "sb_gen");
	d->kind_att = get_attnum(d->relid, "sb_kind");
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	a;

		if (att->attisdropped)
			continue;
		a = get_attnum(d->relid, NameStr(att->attname));
		if (a == InvalidAttrNumber || get_atttype(d->relid, a) != att->atttypid)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of foreign table \"%s\" is not a column of the same type in the delta of bundle \"%s\"",
							NameStr(att->attname), RelationGetRelationName(ftrel),
							d->bundle)));
		d->colnames[i] = pstrdup(quote_identifier(NameStr(att->attname)));
		d->deltaatts[i] = a;
	}
}

/*
 * The delta of the writable bundle a foreign table reads, or NULL if the
 * bundle is read-only; allocated in the current memory context.
 */
SbDelta *
SbDeltaFor(Relation ftrel, const char *bundle)
{
	Oid			relid = SbDeltaRelid(bundle);
	SbDelta    *d;

	if (!OidIsValid(relid))
		return NULL;
	d = palloc0(sizeof(SbDelta));
	d->relid = relid;
	d->bundle = pstrdup(bundle);
	d->runas = ftrel->rd_rel->relowner;
	d->qualname = delta_object(bundle, NULL);
	d->seqname = delta_object(bundle, "generation");
	check_delta_columns(d, ftrel);
	read_delta_key(d, ftrel);
	return d;
}

/*
 * "alias.k1 = $first AND ...": the delta's key against arguments of the
 * types 'argtypes' (the key columns' own if NULL).
 */
char *
SbDeltaKeyCondition(const SbDelta *d, const char *alias, int first,
					const Oid *argtypes)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < d->nkeys; k++)
	{
		Oid			ktype = d->keytypes[k];
		char	   *eq = SbEqualitySql(ktype, argtypes ? argtypes[k] : ktype);

		if (eq == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("type %s has no btree equality with type %s",
							format_type_be(ktype), format_type_be(argtypes[k]))));
		appendStringInfo(&buf, "%s%s%s %s $%d", k ? " AND " : "", alias,
						 d->colnames[d->keyattnos[k] - 1], eq, first + k);
	}
	return buf.data;
}

/* "alias.c1, alias.c2, ...": the foreign table's columns. */
char *
SbDeltaColumnList(const SbDelta *d, const char *alias)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < d->natts; i++)
		if (d->colnames[i])
			appendStringInfo(&buf, "%s%s%s", buf.len ? ", " : "", alias,
							 d->colnames[i]);
	return buf.data;
}

/* The generation writes are stamped with now. */
int64
SbDeltaGeneration(const SbDelta *d)
{
	Oid			seq = get_relname_relid(psprintf("%s$generation", d->bundle), delta_schema());
	Oid			save_user;
	int			save_sec;
	LOCAL_FCINFO(fcinfo, 1);
	Datum		gen;

	if (!OidIsValid(seq))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the delta of bundle \"%s\" has no generation sequence", d->bundle)));
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seq);
	fcinfo->args[0].isnull = false;
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(d->runas, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	gen = pg_sequence_last_value(fcinfo);
	SetUserIdAndSecContext(save_user, save_sec);
	if (fcinfo->isnull)
		elog(ERROR, "generation sequence of bundle \"%s\" was never set", d->bundle);
	return DatumGetInt64(gen);
}

/* The last generation of the delta folded into a bundle file. */
int64
SbFoldedThrough(sb_bundle *b)
{
	size_t		len;
	const char *v = sb_meta_get(b, "delta_folded_through", &len);
	char		buf[32];

	if (v == NULL || len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return strtoi64(buf, NULL, 10);
}

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
 * Start a rebuild of a writable bundle: move writers on to a new
 * generation, after waiting for those of the current one, which is
 * returned; -1 if the bundle has no delta.
 */
int64
SbDeltaStartRebuild(const char *bundle)
{
	Oid			relid = SbDeltaRelid(bundle);
	char	   *seq = delta_object(bundle, "generation");
	bool		isnull;
	int64		gen;

	if (!OidIsValid(relid))
		return -1;
	/* writers lock the delta before they read the generation */
	LockRelationOid(relid, ShareLock);
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
							   delta_object(bundle, NULL)),
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
		if (table_attnum(ftrel, in->columns[in->key_columns[k]].name) == 0)
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
	char	   *table = delta_object(bundle, NULL);
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
					  psprintf("CREATE SEQUENCE %s MINVALUE 1", delta_object(bundle, "generation"))),
				   psprintf("ALTER TABLE %s OWNER TO %s", table, role));
}

/* Run DDL on the deltas' schema as its owner. */
static void
run_as_schema_owner(List *statements)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(delta_schema()));
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
	foreach(lc, statements)
		(void) SbExecuteSql(lfirst(lc), false);
	SetUserIdAndSecContext(save_user, save_sec);
}

/* Give the bundle of a table a delta, owned by the bundle's owner. */
void
SbDeltaCreate(Relation ftrel, const char *bundle, sb_bundle *b, Oid owner)
{
	List	   *ddl;
	char	   *seq = delta_object(bundle, "generation");
	const char *role = quote_identifier(GetUserNameFromId(owner, false));

	if (!OidIsValid(delta_schema()))
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
								   delta_object(bundle, NULL)),
						  1, &type, &arg, NULL, false);
		empty = SPI_processed == 0;
		SPI_finish();
		if (!empty)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the delta of bundle \"%s\" holds changes", bundle),
					 errhint("Fold them into the bundle with sharedbuf_fold() first.")));
	}
	run_as_schema_owner(list_make2(psprintf("DROP TABLE %s", delta_object(bundle, NULL)),
								   psprintf("DROP SEQUENCE %s",
											delta_object(bundle, "generation"))));
}

/*
 * The equality of the key column types 'ltype' and 'rtype' as SQL, its
 * schema named, so that no search_path can choose another: the default
 * btree operator class's.
 */
char *
SbEqualitySql(Oid ltype, Oid rtype)
{
	TypeCacheEntry *tc = lookup_type_cache(getBaseType(ltype), TYPECACHE_BTREE_OPFAMILY);
	Oid			opno = InvalidOid;
	HeapTuple	tup;
	char	   *sql;

	if (OidIsValid(tc->btree_opf))
		opno = get_opfamily_member(tc->btree_opf, getBaseType(ltype),
								   getBaseType(rtype), BTEqualStrategyNumber);
	if (!OidIsValid(opno))
		return NULL;
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	sql = psprintf("OPERATOR(%s.%s)",
				   quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace)),
				   NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname));
	ReleaseSysCache(tup);
	return sql;
}

/* The key values and the generation as statement arguments. */
static int
key_args(const SbDelta *d, int64 gen, const Datum *keys, Datum *args, Oid *types)
{
	memcpy(args, keys, sizeof(Datum) * d->nkeys);
	memcpy(types, d->keytypes, sizeof(Oid) * d->nkeys);
	args[d->nkeys] = Int64GetDatum(gen);
	types[d->nkeys] = INT8OID;
	return d->nkeys + 1;
}

/* "k1, k2, ": the key columns. */
static char *
key_columns(const SbDelta *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < d->nkeys; k++)
		appendStringInfo(&buf, "%s, ", d->colnames[d->keyattnos[k] - 1]);
	return buf.data;
}

/*
 * Under REPEATABLE READ, the rows a first claim of a generation copied
 * come from the newest marker of the generations before that the
 * transaction's snapshot sees.  If a writer of those generations
 * committed a change to the key after the snapshot was taken, the copy is
 * stale: fail as a heap table's update of a row changed meanwhile does.
 */
static void
check_copy_current(const SbDelta *d, int64 gen, const Datum *keys)
{
	Snapshot	latest = RegisterSnapshot(GetLatestSnapshot());
	List	   *now = SbDeltaIndexRows(d, d->marker_index, keys, NULL, BTLessStrategyNumber,
									   gen, latest, BackwardScanDirection, 1);
	List	   *seen = SbDeltaIndexRows(d, d->marker_index, keys, NULL, BTLessStrategyNumber,
										gen, GetActiveSnapshot(), BackwardScanDirection, 1);

	UnregisterSnapshot(latest);
	if (now != NIL &&
		(seen == NIL ||
		 !ItemPointerEquals(&((HeapTuple) linitial(now))->t_self,
							&((HeapTuple) linitial(seen))->t_self)))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
}

/*
 * Claim a key for a change in generation 'gen': the first claim of the
 * generation inserts the key's marker and copies its rows, read from the
 * foreign table 'ftname' in the same statement (which does not see the
 * new marker); a later one updates the marker.  Either way the marker is
 * then this transaction's to change until it ends, and a concurrent
 * change is waited for, or under REPEATABLE READ is a serialization
 * failure.
 */
void
SbDeltaClaimKey(const SbDelta *d, const char *ftname, int64 gen, const Datum *keys)
{
	Datum		args[SB_MAX_KEY_COLUMNS + 1];
	Oid			types[SB_MAX_KEY_COLUMNS + 1];
	int			nargs = key_args(d, gen, keys, args, types);
	char	   *kcols = key_columns(d);
	StringInfoData params;
	bool		isnull;
	int64		inserted;

	initStringInfo(&params);
	for (int k = 1; k <= d->nkeys; k++)
		appendStringInfo(&params, "$%d, ", k);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(d->runas,
					  psprintf("WITH m AS (INSERT INTO %s (%s sb_gen, sb_kind) VALUES (%s $%d, 'K') "
							   "ON CONFLICT (%s sb_gen) WHERE sb_kind OPERATOR(pg_catalog.=) 'K' DO NOTHING RETURNING 1), "
							   "c AS (INSERT INTO %s (%s, sb_gen, sb_kind) SELECT %s, $%d, 'R' FROM %s f "
							   "WHERE %s AND EXISTS (SELECT FROM m)) "
							   "SELECT pg_catalog.count(*) FROM m",
							   d->qualname, kcols, params.data, nargs, kcols,
							   d->qualname, SbDeltaColumnList(d, ""), SbDeltaColumnList(d, "f."),
							   nargs, ftname, SbDeltaKeyCondition(d, "f.", 1, NULL)),
					  nargs, types, args, NULL, false);
	inserted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										   1, &isnull));
	if (inserted > 0 && IsolationUsesXactSnapshot())
		check_copy_current(d, gen, keys);
	if (inserted == 0)
		(void) SbDeltaRun(d->runas,
						  psprintf("UPDATE %s SET sb_seq = sb_seq OPERATOR(pg_catalog.+) 1 "
								   "WHERE %s AND sb_gen OPERATOR(pg_catalog.=) $%d AND sb_kind OPERATOR(pg_catalog.=) 'K'",
								   d->qualname, SbDeltaKeyCondition(d, "", 1, NULL), nargs),
						  nargs, types, args, NULL, false);
	SPI_finish();
}

/*
 * The rows of one of a delta's indexes ('marker_index' or 'row_index')
 * for a key, of the given types, whose sb_gen is 'genop' 'gen', visible
 * to 'snapshot', in the index's order or backwards; at most 'limit' (0:
 * all).  Each is copied to the current memory context, its ctid in
 * t_self.
 */
List *
SbDeltaIndexRows(const SbDelta *d, Oid indexid, const Datum *keys, const Oid *types,
				 StrategyNumber genop, int64 gen, Snapshot snapshot,
				 ScanDirection dir, int limit)
{
	Relation	heap = table_open(d->relid, AccessShareLock);
	Relation	index = index_open(indexid, AccessShareLock);
	ScanKeyData sk[SB_MAX_KEY_COLUMNS + 1];
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc scan;
	List	   *rows = NIL;

	for (int k = 0; k < d->nkeys; k++)
	{
		Oid			right = types ? types[k] : index->rd_opcintype[k];
		Oid			opno = get_opfamily_member(index->rd_opfamily[k],
											   index->rd_opcintype[k], right,
											   BTEqualStrategyNumber);

		if (!OidIsValid(opno))
			elog(ERROR, "no btree equality of types %u and %u", index->rd_opcintype[k], right);
		ScanKeyEntryInitialize(&sk[k], 0, k + 1, BTEqualStrategyNumber, right,
							   index->rd_indcollation[k], get_opcode(opno), keys[k]);
	}
	ScanKeyInit(&sk[d->nkeys], d->nkeys + 1, genop,
				genop == BTEqualStrategyNumber ? F_INT8EQ :
				genop == BTLessStrategyNumber ? F_INT8LT : F_INT8GT,
				Int64GetDatum(gen));
	scan = sb_index_beginscan(heap, index, snapshot, d->nkeys + 1, 0);
	index_rescan(scan, sk, d->nkeys + 1, NULL, 0);
	while (index_getnext_slot(scan, dir, slot))
	{
		rows = lappend(rows, ExecCopySlotHeapTuple(slot));
		if (limit > 0 && list_length(rows) >= limit)
			break;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	return rows;
}

/*
 * The rows of a claimed key in generation 'gen', as they are now: with a
 * new snapshot under READ COMMITTED, which sees this command's writes.
 */
List *
SbDeltaKeyRows(const SbDelta *d, int64 gen, const Datum *keys)
{
	Snapshot	snapshot;
	List	   *rows;

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	rows = SbDeltaIndexRows(d, d->row_index, keys, NULL, BTEqualStrategyNumber, gen,
							snapshot, ForwardScanDirection, 0);
	UnregisterSnapshot(snapshot);
	return rows;
}

/* Does a delta hold rows newer than generation 'folded' (active snapshot)? */
bool
SbDeltaHasRows(const SbDelta *d, int64 folded)
{
	Relation	heap = table_open(d->relid, AccessShareLock);
	Relation	index;
	ScanKeyData sk;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	bool		found;

	if (RelationGetNumberOfBlocks(heap) == 0)
	{
		table_close(heap, NoLock);
		return false;
	}
	index = index_open(d->gen_index, AccessShareLock);
	slot = table_slot_create(heap, NULL);
	ScanKeyInit(&sk, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(folded));
	scan = sb_index_beginscan(heap, index, GetActiveSnapshot(), 1, 0);
	index_rescan(scan, &sk, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(heap, NoLock);
	return found;
}

/*
 * "d.sb_gen > $1 AND d.sb_gen = (newest marker of d's key after $1)": the
 * rows and markers of a delta (aliased d) that decide their keys for a
 * bundle that folded generations up to $1.
 */
char *
SbDeltaCurrentCondition(const SbDelta *d)
{
	StringInfoData same;

	initStringInfo(&same);
	for (int k = 0; k < d->nkeys; k++)
	{
		char	   *c = d->colnames[d->keyattnos[k] - 1];

		appendStringInfo(&same, "m.%s %s d.%s AND ", c,
						 SbEqualitySql(d->keytypes[k], d->keytypes[k]), c);
	}
	return psprintf("d.sb_gen OPERATOR(pg_catalog.>) $1 AND d.sb_gen OPERATOR(pg_catalog.=) "
					"(SELECT pg_catalog.max(m.sb_gen) FROM %s m WHERE %s m.sb_gen OPERATOR(pg_catalog.>) $1 "
					"AND m.sb_kind OPERATOR(pg_catalog.=) 'K')",
					d->qualname, same.data);
}

/* The keys and rows a delta decides for a bundle that folded 'folded'. */
void
SbDeltaCount(const SbDelta *d, int64 folded, Datum *keys, Datum *rows)
{
	Datum		arg = Int64GetDatum(folded);
	Oid			type = INT8OID;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) SbDeltaRun(d->runas,
					  psprintf("SELECT pg_catalog.count(*) FILTER (WHERE d.sb_kind OPERATOR(pg_catalog.=) 'K'), "
							   "pg_catalog.count(*) FILTER (WHERE d.sb_kind OPERATOR(pg_catalog.=) 'R') "
							   "FROM %s d WHERE %s",
							   d->qualname, SbDeltaCurrentCondition(d)),
					  1, &type, &arg, NULL, true);
	*keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*rows = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	SPI_finish();
}
