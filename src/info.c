/*-------------------------------------------------------------------------
 *
 * info.c
 *	  Describing bundles: sharedbuf_info() for a table, sharedbuf_list()
 *	  (behind the sharedbuf_bundles view) for every bundle of the database.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#define INFO_COLUMNS	13

PG_FUNCTION_INFO_V1(sharedbuf_info);
PG_FUNCTION_INFO_V1(sharedbuf_list);

/* A metadata value as text, or NULL. */
static text *
meta_text(const sb_bundle *b, const char *key)
{
	size_t		len;
	const char *v = sb_meta_get(b, key, &len);

	return v ? cstring_to_text_with_len(v, (int) len) : NULL;
}

/* The row describing a bundle, in the order of the functions' OUT columns. */
static void
bundle_values(const sb_bundle *b, const char *name, const char *path,
			  Datum *values, bool *nulls)
{
	text	   *query = meta_text(b, "query");
	text	   *key = meta_text(b, "key");
	text	   *gen = meta_text(b, "generation");
	const sb_info *bi = sb_bundle_info(b);
	TimestampTz built = (TimestampTz) bi->build_time -
		((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);

	memset(nulls, false, sizeof(bool) * INFO_COLUMNS);
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(path);
	values[2] = Int64GetDatum((int64) bi->row_count);
	values[3] = Int64GetDatum((int64) bi->file_size);
	values[4] = gen ? DirectFunctionCall1(int8in, CStringGetDatum(text_to_cstring(gen))) : (Datum) 0;
	nulls[4] = gen == NULL;
	values[5] = TimestampTzGetDatum(built);
	values[6] = query ? PointerGetDatum(query) : (Datum) 0;
	nulls[6] = query == NULL;
	values[7] = key ? PointerGetDatum(key) : (Datum) 0;
	nulls[7] = key == NULL || VARSIZE_ANY_EXHDR(key) == 0;
	values[8] = Int32GetDatum(bi->ncolumns);
	values[9] = Int64GetDatum((int64) bi->index_size);
	values[10] = Int64GetDatum((int64) bi->distinct_keys);
	values[11] = BoolGetDatum(bi->approximate);
	values[12] = CStringGetTextDatum(psprintf("%u.%u", bi->major, bi->minor));
}

/*
 * sharedbuf_info(table regclass)
 *		Describe the bundle a foreign table reads now.
 */
Datum
sharedbuf_info(PG_FUNCTION_ARGS)
{
	SbTableOptions *opts = SbOpenTable(PG_GETARG_OID(0), NULL);
	SbMappingRef *ref;
	TupleDesc	desc;
	Datum		values[INFO_COLUMNS];
	bool		nulls[INFO_COLUMNS];
	HeapTuple	tuple;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	ref = SbPinBundle(opts->path, opts->label,
					  CurrentMemoryContext);
	bundle_values(ref->bundle, opts->bundle ? opts->bundle : "", opts->path,
				  values, nulls);
	tuple = heap_form_tuple(BlessTupleDesc(desc), values, nulls);
	SbUnpinBundle(ref);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

/* Add the row of one bundle file to the list; a bad file gets its error. */
static void
list_one(Tuplestorestate *ts, TupleDesc desc, const char *name, const char *path)
{
	Datum		values[INFO_COLUMNS + 1];
	bool		nulls[INFO_COLUMNS + 1];
	sb_bundle  *b;
	sb_error	err;

	if (sb_open(path, &b, &err) == SB_OK)
	{
		bundle_values(b, name, path, values, nulls);
		sb_close(b);
		values[INFO_COLUMNS] = CStringGetTextDatum("ok");
	}
	else
	{
		memset(nulls, true, sizeof(nulls));
		values[0] = CStringGetTextDatum(name);
		values[1] = CStringGetTextDatum(path);
		nulls[0] = nulls[1] = false;
		values[INFO_COLUMNS] = CStringGetTextDatum(psprintf("%s: %s",
															sb_status_message(err.code),
															err.detail));
	}
	nulls[INFO_COLUMNS] = false;
	tuplestore_putvalues(ts, desc, values, nulls);
}

/*
 * sharedbuf_list()
 *		Every bundle file of this database, with its description.
 */
Datum
sharedbuf_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir = SbDatabaseDirectory(false);
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, SbListDirectory(SB_BUNDLE_SUFFIX, false))
		list_one(rsinfo->setResult, rsinfo->setDesc, lfirst(lc),
				 psprintf("%s/%s%s", dir, (char *) lfirst(lc), SB_BUNDLE_SUFFIX));
	return (Datum) 0;
}
