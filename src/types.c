/*-------------------------------------------------------------------------
 *
 * types.c
 *	  How values of each type are stored in a bundle and read back.
 *
 * Most types are stored as their datum image, exactly as in a heap tuple,
 * so scans can hand out pointers into the mapping.  Types whose images
 * embed OIDs that differ between databases (enums, composite types, arrays
 * of non-built-in types, ranges over non-built-in types) are stored in
 * their binary send form and rebuilt with their receive function.  A key
 * whose equality is byte equality of a canonical form is compared by those
 * bytes; any other key with a default hash operator class is hashed by it
 * (keys.c).  Types matched by name ("schema.type") bind a bundle column to
 * a table column.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/detoast.h"
#include "access/transam.h"
#include "access/tupmacs.h"
#include "catalog/pg_am.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "commands/defrem.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "miscadmin.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* Does a (base) type's datum image embed database-specific OIDs? */
static bool
needs_binary_form(Oid typid)
{
	char		typtype = get_typtype(typid);
	Oid			elem;

	if (typtype == TYPTYPE_ENUM || typtype == TYPTYPE_COMPOSITE)
		return true;
	if ((typtype == TYPTYPE_RANGE || typtype == TYPTYPE_MULTIRANGE) &&
		typid >= FirstGenbkiObjectId)
		return true;
	elem = get_element_type(typid);
	if (OidIsValid(elem))
	{
		/* an array of domains records the domain's OID as element type */
		return elem >= FirstGenbkiObjectId ||
			needs_binary_form(getBaseType(elem));
	}
	return false;
}

/* Describe how values of a column type are stored. */
void
SbDescribeType(Oid typid, int32 typmod, SbTypeInfo *info)
{
	Oid			base = getBaseType(typid);
	char		typtype = get_typtype(base);

	memset(info, 0, sizeof(*info));
	info->typid = typid;
	info->basetypid = base;
	info->typmod = typmod;
	info->type_name = SbQualifiedTypeName(typid);
	if (typtype == TYPTYPE_PSEUDO)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("values of type %s cannot be stored in a bundle",
						format_type_be(typid)),
				 errhint("Cast the column to a concrete type in the query.")));
	if (needs_binary_form(base))
	{
		Oid			send;
		bool		isvarlena;

		getTypeBinaryOutputInfo(base, &send, &isvarlena);
		info->storage = SB_STORAGE_BINARY;
		info->typlen = -1;
		info->typbyval = false;
		info->typalign = TYPALIGN_INT;
		info->flags = SB_COLF_SHORT_VARLENA;
		return;
	}
	get_typlenbyvalalign(base, &info->typlen, &info->typbyval, &info->typalign);
	if (info->typlen == -2)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("values of type %s cannot be stored in a bundle",
						format_type_be(typid))));
	info->storage = SB_STORAGE_DATUM;
	if (info->typlen == -1 && get_typstorage(base) != TYPSTORAGE_PLAIN)
		info->flags = SB_COLF_SHORT_VARLENA;
}

/* Is a collation one under which equality is byte equality? */
static bool
bytewise_collation(Oid collation)
{
	return !OidIsValid(collation) || get_collation_isdeterministic(collation);
}

/*
 * Does a value of the type hold, inside a container (an array, composite,
 * range or multirange), character(n) values compared under a
 * nondeterministic collation?  'collation' applies to the type's values.
 */
static bool
holds_padded_text(Oid typid, Oid collation, bool inside)
{
	Oid			base = getBaseType(typid);
	Oid			elem = get_element_type(base);
	char		typtype = get_typtype(base);
	bool		result = false;

	check_stack_depth();
	if (base == BPCHAROID)
		return inside && !bytewise_collation(collation);
	if (OidIsValid(elem))
		return holds_padded_text(elem, collation, true);
	if (typtype == TYPTYPE_COMPOSITE)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(base, -1);

		for (int i = 0; i < desc->natts && !result; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				result = holds_padded_text(TupleDescAttr(desc, i)->atttypid,
										   TupleDescAttr(desc, i)->attcollation, true);
		ReleaseTupleDesc(desc);
	}
	else if (typtype == TYPTYPE_RANGE)
		result = holds_padded_text(get_range_subtype(base), get_range_collation(base), true);
	else if (typtype == TYPTYPE_MULTIRANGE)
		result = holds_padded_text(get_multirange_range(base), InvalidOid, true);
	return result;
}

/*
 * The key kind of a key column's type: the fast canonical forms where
 * equality is equality of those bytes, else a hash of the value with the
 * type's hash function (SbKeyHashFor); refuses a type that has none.
 */
uint8
SbKeyKindForType(Oid typid, Oid collation, const char *colname)
{
	Oid			base = getBaseType(typid);
	SbKeyHash	kh;

	switch (base)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return SB_KEY_INTEGER;
		case FLOAT4OID:
		case FLOAT8OID:
			return SB_KEY_FLOAT;
		case TEXTOID:
		case VARCHAROID:
			if (bytewise_collation(collation))
				return SB_KEY_VARLENA;
			break;
		case BPCHAROID:
			if (bytewise_collation(collation))
				return SB_KEY_BPCHAR;
			break;
		case BYTEAOID:
			return SB_KEY_VARLENA;
		case NAMEOID:
			/* name equality is byte equality under every collation */
			return SB_KEY_BYTES;
		case BOOLOID:
		case CHAROID:
		case OIDOID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case UUIDOID:
		case CASHOID:
		case MACADDROID:
		case MACADDR8OID:
			return SB_KEY_BYTES;
	}
	if (get_typtype(base) == TYPTYPE_ENUM)
		return SB_KEY_VARLENA;	/* compared by label, in binary form */
	if (SbKeyHashFor(typid, collation, &kh))
	{
		if (holds_padded_text(typid, collation, false))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("key column \"%s\" has type %s, which holds character(n) values under a nondeterministic collation",
							colname, format_type_be(typid)),
					 errdetail("PostgreSQL's hash of such values does not ignore their trailing blanks, as their equality does."),
					 errhint("Cast the key in the query to a type of text values, or key the bundle on other columns.")));
		return SB_KEY_HASHED;
	}
	if (OidIsValid(GetDefaultOpClass(base, HASH_AM_OID)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("key column \"%s\" has type %s, whose values cannot be hashed",
						colname, format_type_be(typid)),
				 errdetail("Type %s, or a type it is made of, has no default hash operator class with an extended hash function.",
						   format_type_be(typid)),
				 errhint("Cast the key in the query to a type that can be hashed, or key the bundle on other columns.")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("key column \"%s\" has type %s, which has no default hash operator class",
					colname, format_type_be(typid)),
			 errdetail("Bundle keys are looked up by a hash consistent with their type's equality, which only a hash operator class provides."),
			 errhint("Cast the key in the query to a type that has one (text, for example), or key the bundle on other columns.")));
	return SB_KEY_NONE;			/* keep compiler quiet */
}

/* Add a value to the row being written, in the column's stored form. */
void
SbStoreDatum(sb_writer *w, int col, const SbTypeInfo *ti, Datum value,
			 FmgrInfo *sendfn, const char *bundle)
{
	sb_error	err;
	sb_status	st;

	if (ti->storage == SB_STORAGE_BINARY)
	{
		bytea	   *b = SendFunctionCall(sendfn, value);

		st = sb_writer_set_varlena(w, col, VARDATA(b), VARSIZE(b) - VARHDRSZ, &err);
	}
	else if (ti->typlen > 0 && ti->typbyval)
	{
		char		image[8];

		store_att_byval(image, value, ti->typlen);
		st = sb_writer_set_fixed(w, col, image, &err);
	}
	else if (ti->typlen > 0)
		st = sb_writer_set_fixed(w, col, DatumGetPointer(value), &err);
	else
	{
		struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));

		st = sb_writer_set_varlena(w, col, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &err);
	}
	if (st != SB_OK)
		SbReportBuildError(&err, bundle);
}

/*
 * The Datum of a non-NULL column of a row slot.  Datum images are used in
 * place: pass-by-reference values point into the mapping.  Binary-form
 * values are received, and symbol-coded ones decoded, into the current
 * memory context.
 */
Datum
SbFetchDatum(sb_bundle *b, const unsigned char *slot, int col,
			 const sb_column *c, FmgrInfo *recvfn, Oid typioparam,
			 int32 typmod, const char *label)
{
	sb_value	v;
	sb_error	err;

	if (c->typlen > 0)
	{
		const unsigned char *p;

		if (sb_bundle_info(b)->encodings[col].kind == SB_ENC_NONE)
			p = sb_slot_fixed(sb_bundle_info(b), slot, col);
		else
		{
			/* an offset from the column's smallest value: by value */
			if (sb_slot_value(b, slot, col, &v, &err) != SB_OK)
				SbReportError(&err, label);
			p = v.ptr;
		}

		if (!c->typbyval)
			return PointerGetDatum(p);
		switch (c->typlen)
		{
			case 1:
				return CharGetDatum(*(const char *) p);
			case 2:
				{
					int16		v16;

					memcpy(&v16, p, 2);
					return Int16GetDatum(v16);
				}
			case 4:
				{
					int32		v32;

					memcpy(&v32, p, 4);
					return Int32GetDatum(v32);
				}
			default:
				{
					int64		v64;

					memcpy(&v64, p, 8);
					return Int64GetDatum(v64);
				}
		}
	}
	if (sb_slot_value(b, slot, col, &v, &err) != SB_OK)
		SbReportError(&err, label);
	if (v.encoded)
	{
		/* a coded value decodes into the current (per-row) memory context */
		size_t		size;
		unsigned char *image;

		if (sb_value_decoded_size(b, col, &v, &size, &err) != SB_OK)
			SbReportError(&err, label);
		image = palloc(size);
		sb_value_decode(b, col, &v, image, size);
		v.ptr = image;
		v.len = size;
	}
	if (c->storage == SB_STORAGE_BINARY)
	{
		StringInfoData buf;
		size_t		hdr = sb_varlena_header_size(v.ptr);

		initStringInfo(&buf);
		appendBinaryStringInfo(&buf, (const char *) v.ptr + hdr, (int) (v.len - hdr));
		return ReceiveFunctionCall(recvfn, &buf, typioparam, typmod);
	}
	return PointerGetDatum(v.ptr);
}
