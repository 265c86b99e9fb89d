/*-------------------------------------------------------------------------
 *
 * claim.c
 *	  Claiming a key of a writable bundle for a change.
 *
 * A key is changed by copy on write (see delta.c): the first change to it
 * in a generation inserts its marker and, in the same statement, copies
 * its rows as the table shows them; every later change updates the
 * marker.  Either way the marker is then the transaction's to change,
 * and other writers of the key wait for it, or under REPEATABLE READ
 * fail, as they do on a heap table's row.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/snapmgr.h"

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
