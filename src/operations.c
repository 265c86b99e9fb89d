/*-------------------------------------------------------------------------
 *
 * operations.c
 *	  Functions for operators: verify a bundle, prewarm it, follow the
 *	  progress of builds, rebuild every bundle from its stored query.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(sharedbuf_verify);
PG_FUNCTION_INFO_V1(sharedbuf_prewarm);
PG_FUNCTION_INFO_V1(sharedbuf_progress);
PG_FUNCTION_INFO_V1(sharedbuf_rebuild_all);
PG_FUNCTION_INFO_V1(sharedbuf_drop);

/*
 * sharedbuf_verify(table regclass) returns (ok boolean, detail text)
 *		Check every checksum and the whole structure of the file the table
 *		reads now.
 */
Datum
sharedbuf_verify(PG_FUNCTION_ARGS)
{
	SbTableOptions *opts = SbOpenTable(PG_GETARG_OID(0), NULL);
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false};
	sb_bundle  *b;
	sb_error	err;
	sb_status	st;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	st = sb_open(opts->path, &b, &err);
	if (st == SB_OK)
	{
		st = sb_verify(b, &err);
		sb_close(b);
	}
	values[0] = BoolGetDatum(st == SB_OK);
	values[1] = CStringGetTextDatum(st == SB_OK ? "the bundle is valid" :
									psprintf("%s: %s", sb_status_message(err.code),
											 err.detail));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc),
													  values, nulls)));
}

/* The SB_PREWARM_* flags named by a prewarm mode. */
unsigned
SbPrewarmFlags(const char *mode)
{
	if (strcmp(mode, "index") == 0)
		return SB_PREWARM_INDEX;
	if (strcmp(mode, "rows") == 0)
		return SB_PREWARM_INDEX | SB_PREWARM_ROWS;
	if (strcmp(mode, "all") == 0)
		return SB_PREWARM_ALL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid prewarm mode \"%s\"", mode),
			 errhint("Valid modes are \"index\", \"rows\" and \"all\".")));
	return 0;
}

/*
 * sharedbuf_prewarm(table regclass, mode text) returns bigint
 *		Read the bundle's index (or more) into the page cache and this
 *		backend's page tables; returns the pages touched.
 */
Datum
sharedbuf_prewarm(PG_FUNCTION_ARGS)
{
	SbTableOptions *opts = SbOpenTable(PG_GETARG_OID(0), NULL);
	unsigned	flags = SbPrewarmFlags(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	SbMappingRef *ref = SbPinBundle(opts->path, opts->label, CurrentMemoryContext);
	uint64		pages = sb_prewarm(ref->bundle, flags);

	SbUnpinBundle(ref);
	PG_RETURN_INT64((int64) pages);
}

/* Add the row of one running build, read from its progress file. */
static void
report_build(ReturnSetInfo *rsinfo, const char *dir, const char *fname)
{
	char	   *path = psprintf("%s/%s", dir, fname);
	char		buf[128] = {0};
	char		name[NAMEDATALEN];
	int			pid;
	long long	rows,
				bytes,
				started;
	Datum		values[6];
	bool		nulls[6] = {false};
	int			fd = OpenTransientFile(path, O_RDONLY);
	ssize_t		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		CloseTransientFile(fd);
	if (n <= 0 || sscanf(buf, "%63s %d %lld %lld %lld", name, &pid, &rows,
						 &bytes, &started) != 5 ||
		(kill(pid, 0) != 0 && errno == ESRCH))
		return;
	values[0] = CStringGetTextDatum(name);
	values[1] = Int32GetDatum(pid);
	values[2] = Int64GetDatum(rows);
	values[3] = Int64GetDatum(bytes);
	values[4] = TimestampTzGetDatum((TimestampTz) started);
	values[5] = Float8GetDatum((double) (GetCurrentTimestamp() - started) / 1000000.0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * sharedbuf_progress() returns setof (bundle, pid, rows, bytes, started_at,
 * seconds)
 *		The builds running in this database and how far each has got.
 */
Datum
sharedbuf_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir = SbDatabaseDirectory(false);
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, SbListDirectory(".progress", true))
		report_build(rsinfo, dir, psprintf("%s.progress", (char *) lfirst(lc)));
	return (Datum) 0;
}

/* The sharedbuf foreign tables of this database with a stored query. */
static List *
refreshable_tables(void)
{
	/* every operator is qualified: the caller's search_path must not matter */
	return SbExecuteSql("SELECT ft.ftrelid FROM pg_catalog.pg_foreign_table ft"
					" JOIN pg_catalog.pg_foreign_server s"
					"   ON s.oid OPERATOR(pg_catalog.=) ft.ftserver"
					" JOIN pg_catalog.pg_foreign_data_wrapper w"
					"   ON w.oid OPERATOR(pg_catalog.=) s.srvfdw"
					" JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) w.fdwhandler"
					" WHERE p.proname OPERATOR(pg_catalog.=) 'sharedbuf_fdw_handler'::pg_catalog.name"
					" AND EXISTS (SELECT FROM pg_catalog.unnest(ft.ftoptions) o"
					"   WHERE o OPERATOR(pg_catalog.~~) 'query=%'::pg_catalog.text)"
					" AND EXISTS (SELECT FROM pg_catalog.unnest(ft.ftoptions) o"
					"   WHERE o OPERATOR(pg_catalog.~~) 'bundle=%'::pg_catalog.text)"
					" ORDER BY ft.ftrelid", true);
}

/*
 * sharedbuf_rebuild_all() returns setof (foreign_table, bundle, rows,
 * seconds)
 *		Rebuild every bundle of this database that a foreign table describes
 *		with a stored query (once per bundle), as after a restore.
 */
Datum
sharedbuf_rebuild_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *done = NIL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, refreshable_tables())
	{
		Oid			relid = lfirst_oid(lc);
		SbTableOptions *opts = SbOpenTable(relid, NULL);
		SbBuildResult result = {0};
		Datum		values[4];
		bool		nulls[4] = {false};

		if (list_member(done, makeString(opts->bundle)))
			continue;
		done = lappend(done, makeString(opts->bundle));
		SbRefreshTable(relid, NULL, &result);
		values[0] = ObjectIdGetDatum(relid);
		values[1] = CStringGetTextDatum(result.bundle);
		values[2] = Int64GetDatum(result.rows);
		values[3] = Float8GetDatum(result.seconds);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Create the empty marker file of a drop. */
static void
create_marker(const char *path)
{
	int			fd = OpenTransientFile(path, O_CREAT | O_EXCL | O_WRONLY | PG_BINARY);

	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	CloseTransientFile(fd);
}

/*
 * sharedbuf_drop(bundle text, if_exists boolean) returns boolean
 *		Remove a bundle of this database when the transaction commits;
 *		backends reading it keep their mapping until they are done.
 */
Datum
sharedbuf_drop(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		if_exists = PG_GETARG_BOOL(1);
	char	   *path = SbBundlePath(name);
	const char *pending;
	bool		has_row;
	bool		exists;
	struct stat st;
	XLogRecPtr	lsn;
	char	   *marker;

	PreventCommandDuringRecovery("sharedbuf_drop()");
	SbLockBundle(name);
	has_row = SbCatalogCheckOwner(name, NULL);
	if (SbPendingPath(path, &pending))
		exists = pending != NULL;
	else
		exists = has_row || stat(path, &st) == 0;
	if (!exists)
	{
		if (!if_exists)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("bundle \"%s\" does not exist", name)));
		PG_RETURN_BOOL(false);
	}
	pfree(SbDatabaseDirectory(true));
	lsn = SbLogStart(name, true);
	marker = SbFlightPath(MyDatabaseId, name, GetCurrentTransactionId(),
						  MyProcPid, lsn, ".drop");
	create_marker(marker);
	SbRegisterPendingSwap(name, marker, path, true);
	SbCatalogDelete(name);
	SbFollowStopBundle(name);
	SbDeltaDrop(name, 0, false);
	PG_RETURN_BOOL(true);
}
