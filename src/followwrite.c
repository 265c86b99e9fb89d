/*-------------------------------------------------------------------------
 *
 * followwrite.c
 *	  The trigger that carries a followed table's changes into the delta of
 *	  a following bundle.
 *
 * After each INSERT, UPDATE or DELETE statement on the table (COPY, and
 * the actions of INSERT ... ON CONFLICT and MERGE, fire the same
 * triggers), one statement on the delta writes the new state of every
 * key the statement changed: the keys of the transition tables' rows that
 * pass the query's WHERE clause get a marker of the current generation
 * (delta.c), their rows of the generation go, and the new rows that pass
 * the WHERE clause come in, projected by the query's select list.  A key
 * identifies a row of the table, so writers of a key wait for each other
 * on the table's row or unique index before they get here; the delta
 * statement sees the state the last of them committed.  After TRUNCATE
 * the bundle is rebuilt from the (now empty) query instead.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(sharedbuf_follow_trigger);

/* The trigger's arguments, as SbFollowStart writes them. */
typedef struct FollowArgs
{
	Oid			ftrelid;
	const char *columns;		/* the delta's columns over alias "s" */
	const char *qual;			/* the WHERE clause over "s" */
	const char *keys;			/* "s.k1 AS sb_k1, ..." */
} FollowArgs;

/* "x.k1 = t.sb_k1 AND ...": a delta row of a touched key. */
static char *
touched_condition(const SbDelta *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < d->nkeys; k++)
		appendStringInfo(&buf, "x.%s %s t.sb_k%d AND ",
						 d->colnames[d->keyattnos[k] - 1],
						 SbEqualitySql(d->keytypes[k], d->keytypes[k]), k + 1);
	return buf.data;
}

/* "k1, k2, ": the delta's key columns; "sb_k1, sb_k2, " with 'touched'. */
static char *
key_list(const SbDelta *d, bool touched)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 0; k < d->nkeys; k++)
		if (touched)
			appendStringInfo(&buf, "sb_k%d, ", k + 1);
		else
			appendStringInfo(&buf, "%s, ", d->colnames[d->keyattnos[k] - 1]);
	return buf.data;
}

/*
 * The statement that writes a statement's changes to the delta, $1 being
 * the generation: keys from the old rows, the new rows, or both.
 */
static char *
delta_write_sql(const SbDelta *d, const FollowArgs *fa, bool old, bool new)
{
	char	   *from_old = psprintf("SELECT %s FROM " SB_FOLLOW_OLD " s WHERE %s",
									fa->keys, fa->qual);
	char	   *from_new = psprintf("SELECT %s FROM " SB_FOLLOW_NEW " s WHERE %s",
									fa->keys, fa->qual);
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "WITH t AS (%s%s%s), ",
					 old ? from_old : "", old && new ? " UNION " : "", new ? from_new : "");
	appendStringInfo(&sql,
					 "m AS (INSERT INTO %s AS x (%s sb_gen, sb_kind) SELECT %s $1, 'K' FROM t "
					 "ON CONFLICT (%s sb_gen) WHERE sb_kind OPERATOR(pg_catalog.=) 'K' "
					 "DO UPDATE SET sb_seq = x.sb_seq OPERATOR(pg_catalog.+) 1), ",
					 d->qualname, key_list(d, false), key_list(d, true), key_list(d, false));
	appendStringInfo(&sql,
					 "r AS (DELETE FROM %s x USING t WHERE %s x.sb_gen OPERATOR(pg_catalog.=) $1 "
					 "AND x.sb_kind OPERATOR(pg_catalog.=) 'R' RETURNING 1) ",
					 d->qualname, touched_condition(d));
	/* the old rows go before the new ones come (a unique row index) */
	if (new)
		appendStringInfo(&sql,
						 "INSERT INTO %s (%s, sb_gen, sb_kind) SELECT %s, $1, 'R' "
						 "FROM " SB_FOLLOW_NEW " s WHERE (%s) AND "
						 "(SELECT pg_catalog.count(*) FROM r) OPERATOR(pg_catalog.>=) 0",
						 d->qualname, SbDeltaColumnList(d, ""), fa->columns, fa->qual);
	else
		appendStringInfoString(&sql, "SELECT pg_catalog.count(*) FROM r");
	return sql.data;
}

/* Write the changes of the statement that fired 'td' to the delta. */
static void
write_changes(TriggerData *td, Relation ftrel, const SbDelta *d, const FollowArgs *fa)
{
	bool		old = td->tg_oldtable != NULL;
	bool		new = td->tg_newtable != NULL;
	Datum		gen;
	Oid			gentype = INT8OID;
	int			nest;

	if (!old && !new)
		return;
	/* a rebuild moves the generation on under a share lock */
	LockRelationOid(d->relid, RowExclusiveLock);
	gen = Int64GetDatum(SbDeltaGeneration(d));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) SbDeltaRun(d->runas, delta_write_sql(d, fa, old, new), 1, &gentype, &gen,
					  NULL, false);
	AtEOXact_GUC(true, nest);
	SPI_finish();
}

/*
 * After TRUNCATE, rebuild the bundle from its query, which the truncation
 * empties, as the foreign table's owner; the delta's generations go with
 * the old bundle.
 */
static void
rebuild_after_truncate(Relation ftrel, const SbTableOptions *opts)
{
	SbBuildResult result = {0};
	Oid			save_user;
	int			save_sec;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(ftrel->rd_rel->relowner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	SbBuildBundle(opts->bundle, opts->query, opts->key ? opts->key : SbCurrentKey(opts),
				  opts->approximate, &result);
	SetUserIdAndSecContext(save_user, save_sec);
}

/*
 * sharedbuf_follow_trigger()
 *		The statement trigger of a followed table: carry the statement's
 *		changes into the following bundle's delta.
 */
Datum
sharedbuf_follow_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	FollowArgs	fa;
	Relation	ftrel;
	SbTableOptions *opts;
	SbDelta    *d;

	if (!CALLED_AS_TRIGGER(fcinfo) || TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		td->tg_trigger->tgnargs < 4)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sharedbuf_follow_trigger() must be fired by the statement triggers of a following bundle")));
	fa.ftrelid = atooid(td->tg_trigger->tgargs[0]);
	fa.columns = td->tg_trigger->tgargs[1];
	fa.qual = td->tg_trigger->tgargs[2];
	fa.keys = td->tg_trigger->tgargs[3];
	ftrel = table_open(fa.ftrelid, AccessShareLock);
	opts = SbGetTableOptions(fa.ftrelid);
	d = opts->bundle ? SbDeltaFor(ftrel, opts->bundle) : NULL;
	if (d == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign table \"%s\" follows table \"%s\" but its bundle has no delta",
						RelationGetRelationName(ftrel),
						RelationGetRelationName(td->tg_relation)),
				 errhint("Refresh it with sharedbuf_refresh() to follow the table again.")));
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		rebuild_after_truncate(ftrel, opts);
	else
	{
		write_changes(td, ftrel, d, &fa);
		SbFollowFoldIfPast(ftrel, d);
	}
	table_close(ftrel, NoLock);
	return PointerGetDatum(NULL);
}
