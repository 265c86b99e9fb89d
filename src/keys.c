/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  Probe values for key lookups: which comparisons can use the index,
 *	  and how a probe value becomes a key part.
 *
 * A clause "key = value" can become a lookup when its operator is the
 * equality of the key type's default B-tree operator family (so int4 and
 * int8 values probe an int8 key, as the planner's cross-type operators
 * allow), its collation is deterministic, and the value's type is one the
 * key kind can canonicalize.  Probe values are converted to the key
 * column's canonical form; a value that no stored key can equal (a float8
 * probe of a float4 key that float4 cannot represent) matches nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <math.h>

#include "access/stratnum.h"
#include "access/tupmacs.h"
#include "catalog/pg_am.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

/* Is a probe value of type 'probetype' usable for a key of this kind? */
bool
SbProbeTypeAccepted(uint8 kind, Oid coltype, Oid probetype)
{
	Oid			colbase = getBaseType(coltype);
	Oid			probebase = getBaseType(probetype);

	switch (kind)
	{
		case SB_KEY_INTEGER:
			return probebase == INT2OID || probebase == INT4OID ||
				probebase == INT8OID;
		case SB_KEY_FLOAT:
			return probebase == FLOAT4OID || probebase == FLOAT8OID;
		case SB_KEY_VARLENA:
			if ((colbase == TEXTOID || colbase == VARCHAROID) &&
				(probebase == TEXTOID || probebase == VARCHAROID))
				return true;
			return probebase == colbase;
		default:
			return probebase == colbase;
	}
}

/*
 * Is 'opno' the equality of the key type's default B-tree family, applied
 * under a deterministic collation?
 */
bool
SbIsKeyEqualityOperator(Oid opno, Oid coltype, Oid inputcollid)
{
	Oid			opclass = GetDefaultOpClass(getBaseType(coltype), BTREE_AM_OID);
	Oid			family;

	if (!OidIsValid(opclass))
		return false;
	family = get_opclass_family(opclass);
	if (get_op_opfamily_strategy(opno, family) != BTEqualStrategyNumber)
		return false;
	return !OidIsValid(inputcollid) || get_collation_isdeterministic(inputcollid);
}

/* Prepare to convert probe values of 'probetype' for a key column. */
void
SbInitProbeInfo(SbProbeInfo *pi, const sb_column *keycol, Oid probetype)
{
	memset(pi, 0, sizeof(*pi));
	pi->kind = keycol->key_kind;
	pi->typlen = keycol->typlen;
	pi->storage = keycol->storage;
	pi->probetype = getBaseType(probetype);
	get_typlenbyval(pi->probetype, &pi->probelen, &pi->probebyval);
	if (pi->storage == SB_STORAGE_BINARY)
	{
		Oid			send;
		bool		isvarlena;

		getTypeBinaryOutputInfo(pi->probetype, &send, &isvarlena);
		fmgr_info(send, &pi->sendfn);
	}
}

/* An integer probe as int8. */
static int64
probe_integer(Oid type, Datum value)
{
	if (type == INT2OID)
		return DatumGetInt16(value);
	if (type == INT4OID)
		return DatumGetInt32(value);
	return DatumGetInt64(value);
}

/* A float probe in the key's width; false if no stored key can equal it. */
static bool
probe_float(const SbProbeInfo *pi, Datum value, sb_key_part *part,
			SbKeyScratch *scratch)
{
	double		d = pi->probetype == FLOAT4OID ?
		(double) DatumGetFloat4(value) : DatumGetFloat8(value);

	/*
	 * Canonical form, as the format hashes keys: -0 is 0 and every NaN is
	 * one, so that probes of one key compare equal ("= ANY" deduplicates).
	 */
	if (d == 0.0)
		d = 0.0;
	if (pi->typlen == 8)
	{
		scratch->f8 = isnan(d) ? get_float8_nan() : d;
		part->data = &scratch->f8;
		part->len = 8;
		return true;
	}
	scratch->f4 = isnan(d) ? get_float4_nan() : (float4) d;
	part->data = &scratch->f4;
	part->len = 4;
	return isnan(d) || (double) scratch->f4 == d;
}

/*
 * Convert a non-NULL probe value into a key part.  Returns false if the
 * value cannot equal any stored key.  Detoasted copies are made in the
 * current memory context.
 */
bool
SbProbeToKeyPart(const SbProbeInfo *pi, Datum value, sb_key_part *part,
				 SbKeyScratch *scratch)
{
	memset(part, 0, sizeof(*part));
	if (pi->storage == SB_STORAGE_BINARY)
	{
		bytea	   *b = SendFunctionCall((FmgrInfo *) &pi->sendfn, value);

		part->data = VARDATA(b);
		part->len = VARSIZE(b) - VARHDRSZ;
		return true;
	}
	switch (pi->kind)
	{
		case SB_KEY_INTEGER:
			part->ival = probe_integer(pi->probetype, value);
			return true;
		case SB_KEY_FLOAT:
			return probe_float(pi, value, part, scratch);
		case SB_KEY_VARLENA:
		case SB_KEY_BPCHAR:
			{
				struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));

				part->data = VARDATA_ANY(v);
				part->len = VARSIZE_ANY_EXHDR(v);
				/* trailing blanks of char(n) are insignificant */
				if (pi->kind == SB_KEY_BPCHAR)
					while (part->len > 0 && ((const char *) part->data)[part->len - 1] == ' ')
						part->len--;
				return true;
			}
		default:
			if (pi->probebyval)
			{
				store_att_byval(scratch->bytes, value, pi->probelen);
				part->data = scratch->bytes;
			}
			else
				part->data = DatumGetPointer(value);
			part->len = pi->typlen;
			return true;
	}
}
