/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Bundles as database objects: the sharedbuf_catalog table, ownership.
 *
 * Every bundle built by this version has a row in the extension's table
 * sharedbuf_catalog: its name, owner, generation, build id (also written
 * in the file's header), build query and key, and when it was built.  A
 * build writes the row in the building transaction, so the row commits,
 * rolls back, replicates and recovers with it; a reader compares the row
 * its snapshot sees with the file it maps (cache.c).  The role that first
 * builds a bundle owns it; building it again, dropping it or defining a
 * foreign table over it requires the privileges of its owner, and takes
 * the bundle's lock, a transaction-level advisory lock that serializes
 * builds and drops of a bundle and that readers never take.  Rows are
 * read and written directly, not through SQL, since readers need no
 * privilege on the table and builders must not be given one.  Versions of
 * the extension's SQL objects older than 0.3.0 have no table; then there
 * is no row and no ownership, as before.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "common/hashfn.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#define SB_CATALOG_TABLE	"sharedbuf_catalog"

/* Columns of sharedbuf_catalog */
enum
{
	Anum_sb_name = 1,
	Anum_sb_owner,
	Anum_sb_generation,
	Anum_sb_build_id,
	Anum_sb_query,
	Anum_sb_key,
	Anum_sb_built_at,
	Natts_sb_catalog = Anum_sb_built_at
};

/* Lock tag field that marks sharedbuf's locks among advisory locks. */
#define SB_LOCKTAG_MARK		0x5342

static Oid	catalog_relid = InvalidOid;	/* cached; reset by invalidation */
static bool inval_registered = false;

PG_FUNCTION_INFO_V1(sharedbuf_alter_owner);

/* The lock tag that serializes builds of a bundle of this database. */
static void
bundle_locktag(LOCKTAG *tag, const char *name)
{
	uint64		h = hash_bytes_extended((const unsigned char *) name,
										(int) strlen(name), 0);

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (h >> 32), (uint32) h,
						 SB_LOCKTAG_MARK);
}

/*
 * Take the transaction-level lock that serializes builds of a bundle of
 * this database.  It does not conflict with anything readers do.
 */
void
SbLockBundle(const char *name)
{
	LOCKTAG		tag;

	bundle_locktag(&tag, name);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* Relcache invalidation: forget the cached table, in case it is gone. */
static void
catalog_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == catalog_relid)
		catalog_relid = InvalidOid;
}

/* The schema of the extension 'extoid'. */
static Oid
extension_schema(Oid extoid)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/* The schema of the extension's objects, or InvalidOid if there are none. */
Oid
SbExtensionSchema(void)
{
	Oid			extoid = get_extension_oid("sharedbuf", true);

	return OidIsValid(extoid) ? extension_schema(extoid) : InvalidOid;
}

/*
 * The OID of sharedbuf_catalog, or InvalidOid if the extension's objects
 * are of a version without it.
 */
static Oid
catalog_relation(void)
{
	Oid			nsp;

	if (OidIsValid(catalog_relid))
		return catalog_relid;
	if (!inval_registered)
	{
		CacheRegisterRelcacheCallback(catalog_inval, (Datum) 0);
		inval_registered = true;
	}
	if (!OidIsValid(nsp = SbExtensionSchema()))
		return InvalidOid;
	catalog_relid = get_relname_relid(SB_CATALOG_TABLE, nsp);
	return catalog_relid;
}

/*
 * Where a bundle is built: the cluster's system identifier and the
 * database's OID, which a standby shares with its primary.
 */
char *
SbOrigin(void)
{
	return psprintf(UINT64_FORMAT "/%u", GetSystemIdentifier(), MyDatabaseId);
}

/* Do the extension's objects have the catalog? */
bool
SbCatalogPresent(void)
{
	return OidIsValid(catalog_relation());
}

/*
 * Find the row of bundle 'name' visible to 'snapshot' in the open table
 * 'rel'; a copy of it, or NULL.
 */
static HeapTuple
find_row(Relation rel, const char *name, Snapshot snapshot)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *indexes = RelationGetIndexList(rel);

	if (indexes == NIL)
		elog(ERROR, "table \"%s\" has no index", SB_CATALOG_TABLE);
	ScanKeyInit(&key, Anum_sb_name, BTEqualStrategyNumber, F_TEXTEQ,
				CStringGetTextDatum(name));
	scan = systable_beginscan(rel, linitial_oid(indexes), true, snapshot, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		tup = heap_copytuple(tup);
	systable_endscan(scan);
	return tup;
}

/* Copy the fields a reader or a build needs out of a row. */
static void
entry_from_row(Relation rel, HeapTuple tup, SbCatalogEntry *entry)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		isnull;
	Datum		d;

	entry->owner = DatumGetObjectId(heap_getattr(tup, Anum_sb_owner, desc, &isnull));
	entry->generation = DatumGetInt64(heap_getattr(tup, Anum_sb_generation, desc, &isnull));
	d = heap_getattr(tup, Anum_sb_build_id, desc, &isnull);
	entry->build_id[0] = '\0';
	if (!isnull)
		text_to_cstring_buffer(DatumGetTextPP(d), entry->build_id,
							   sizeof(entry->build_id));
}

/*
 * Look up the row of bundle 'name' of this database as the current
 * statement sees it ('latest': as the newest snapshot sees it); false if
 * there is none (or no catalog).
 */
bool
SbCatalogLookup(const char *name, bool latest, SbCatalogEntry *entry)
{
	Oid			relid = catalog_relation();
	Relation	rel;
	HeapTuple	tup;
	Snapshot	snapshot;

	if (!OidIsValid(relid))
		return false;
	if (latest)
		snapshot = RegisterSnapshot(GetLatestSnapshot());
	else
		snapshot = RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() :
									GetTransactionSnapshot());
	rel = table_open(relid, AccessShareLock);
	tup = find_row(rel, name, snapshot);
	if (tup)
		entry_from_row(rel, tup, entry);
	table_close(rel, AccessShareLock);
	UnregisterSnapshot(snapshot);
	return tup != NULL;
}

/* Refuse unless the current role has the privileges of 'owner'. */
static void
check_owner(const char *name, Oid owner)
{
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of bundle \"%s\"", name),
				 errdetail("Bundle \"%s\" is owned by role \"%s\".", name,
						   GetUserNameFromId(owner, false))));
}

/*
 * Refuse unless the current role may rebuild, drop or read through a new
 * table the bundle 'name' (anyone may, if it has no row).  Returns the
 * row's entry in *entry (if not NULL) and whether there is one.
 */
bool
SbCatalogCheckOwner(const char *name, SbCatalogEntry *entry)
{
	SbCatalogEntry e;

	if (!SbCatalogLookup(name, true, &e))
		return false;
	check_owner(name, e.owner);
	if (entry)
		*entry = e;
	return true;
}

/* May the current role define a table over bundle 'name'? */
bool
SbCatalogMayUse(const char *name)
{
	SbCatalogEntry e;

	return !SbCatalogLookup(name, true, &e) || has_privs_of_role(GetUserId(), e.owner);
}

/*
 * Open the catalog to change the row of bundle 'name', whose lock the
 * caller holds; *old is a copy of the row as the newest snapshot sees it
 * (NULL if none).  Returns NULL if there is no catalog.
 */
static Relation
open_for_change(const char *name, HeapTuple *old)
{
	Oid			relid = catalog_relation();
	Relation	rel;
	Snapshot	snapshot;

	if (!OidIsValid(relid))
		return NULL;
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	rel = table_open(relid, RowExclusiveLock);
	*old = find_row(rel, name, snapshot);
	UnregisterSnapshot(snapshot);
	return rel;
}

/* Close the catalog after a change, and make the change visible. */
static void
close_after_change(Relation rel)
{
	table_close(rel, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * Record a build of bundle 'name' in the catalog, in the current
 * (sub)transaction: a new row owned by the current role, or the existing
 * row updated (its owner kept).  The caller holds the bundle's lock.
 */
void
SbCatalogRecordBuild(const char *name, int64 generation, const char *build_id,
					 const char *query, const char *key)
{
	HeapTuple	old,
				tup;
	Relation	rel = open_for_change(name, &old);
	Datum		values[Natts_sb_catalog];
	bool		nulls[Natts_sb_catalog] = {false};
	bool		isnull;

	if (rel == NULL)
		return;
	values[Anum_sb_name - 1] = CStringGetTextDatum(name);
	values[Anum_sb_owner - 1] = ObjectIdGetDatum(GetUserId());
	if (old)
		values[Anum_sb_owner - 1] = heap_getattr(old, Anum_sb_owner,
												 RelationGetDescr(rel), &isnull);
	values[Anum_sb_generation - 1] = Int64GetDatum(generation);
	values[Anum_sb_build_id - 1] = CStringGetTextDatum(build_id);
	values[Anum_sb_query - 1] = CStringGetTextDatum(query);
	values[Anum_sb_key - 1] = key ? CStringGetTextDatum(key) : (Datum) 0;
	nulls[Anum_sb_key - 1] = key == NULL;
	values[Anum_sb_built_at - 1] = TimestampTzGetDatum(GetCurrentTimestamp());
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	if (old)
		CatalogTupleUpdate(rel, &old->t_self, tup);
	else
		CatalogTupleInsert(rel, tup);
	close_after_change(rel);
}

/* Remove the row of bundle 'name', if any; the caller holds its lock. */
void
SbCatalogDelete(const char *name)
{
	HeapTuple	old;
	Relation	rel = open_for_change(name, &old);

	if (rel == NULL)
		return;
	if (old)
		CatalogTupleDelete(rel, &old->t_self);
	close_after_change(rel);
}

/*
 * sharedbuf_alter_owner(bundle text, new_owner regrole)
 *		Give a bundle to another role, as ALTER ... OWNER TO does: the
 *		caller needs the privileges of the current owner and membership in
 *		the new one (superusers need neither).
 */
Datum
sharedbuf_alter_owner(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			newowner = PG_GETARG_OID(1);
	Relation	rel;
	HeapTuple	old,
				tup;
	Datum		values[Natts_sb_catalog] = {0};
	bool		nulls[Natts_sb_catalog] = {false};
	bool		replace[Natts_sb_catalog] = {false};
	bool		isnull;

	SbCheckBundleName(name);
	PreventCommandDuringRecovery("sharedbuf_alter_owner()");
	SbLockBundle(name);
	if ((rel = open_for_change(name, &old)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bundles have no owners in this version of sharedbuf"),
				 errhint("Run ALTER EXTENSION sharedbuf UPDATE.")));
	if (old == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bundle \"%s\" does not exist", name)));
	check_owner(name, DatumGetObjectId(heap_getattr(old, Anum_sb_owner,
													RelationGetDescr(rel),
													&isnull)));
	if (!superuser())
		sb_check_can_own(GetUserId(), newowner);
	values[Anum_sb_owner - 1] = ObjectIdGetDatum(newowner);
	replace[Anum_sb_owner - 1] = true;
	tup = heap_modify_tuple(old, RelationGetDescr(rel), values, nulls, replace);
	CatalogTupleUpdate(rel, &old->t_self, tup);
	close_after_change(rel);
	PG_RETURN_VOID();
}
