/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  Probe values for key lookups: which comparisons can use the index,
 *	  and how a probe value becomes a key part.
 *
 * A clause "key = value" on a key compared by its canonical bytes can
 * become a lookup when its operator is the equality of the key type's
 * default B-tree operator family (so int4 and int8 values probe an int8
 * key, as the planner's cross-type operators allow), its collation is
 * deterministic, and the value's type is one the key kind can
 * canonicalize.  Probe values are converted to the key column's canonical
 * form; a value that no stored key can equal (a float8 probe of a float4
 * key that float4 cannot represent) matches nothing.  Hashed keys have
 * rules of their own (below).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <math.h>

#include "access/hash.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/tupmacs.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_database.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_locale.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

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
	/* the type cache knows the default family (and forgets it on changes) */
	TypeCacheEntry *tc = lookup_type_cache(getBaseType(coltype),
										   TYPECACHE_BTREE_OPFAMILY);

	if (!OidIsValid(tc->btree_opf))
		return false;
	if (get_op_opfamily_strategy(opno, tc->btree_opf) != BTEqualStrategyNumber)
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
	if (pi->storage == SB_STORAGE_BINARY && pi->kind != SB_KEY_HASHED)
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
	if (pi->kind == SB_KEY_HASHED)
	{
		/* as the build hashed the rows' values */
		scratch->hash = SbKeyHashValue((FmgrInfo *) &pi->hashfn, pi->hashed.collation,
									   pi->hashed.probetype == BPCHAROID, value);
		part->data = &scratch->hash;
		part->len = sizeof(scratch->hash);
		return true;
	}
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

/*
 * Hashed keys
 *
 * A key of a type whose equal values can differ in their bytes (numeric,
 * interval, jsonb, arrays, composites, text under a nondeterministic
 * collation, ...) is hashed with the extended hash function of the type's
 * default hash operator class, under the column's collation and with seed
 * 0: equal values hash alike.  The bundle records the function, its
 * operator family and the collation (metadata "key.N.*", N the key
 * position); a lookup is planned only where the table's column hashes the
 * same way and the clause's operator is that family's equality under that
 * collation.  The format library cannot compare a hashed part, so each
 * row a lookup returns is confirmed with the clause's operator.
 */

/* The metadata of a hashed key, "key.N." followed by each of these. */
static const char *const key_hash_fields[SB_KEY_HASH_FIELDS] = {
	"hash_function", "hash_opfamily", "collation", "collation_locale"
};

/* A text attribute of a syscache tuple, or "" if NULL. */
static char *
syscache_text(int cacheid, HeapTuple tup, AttrNumber attno)
{
	bool		isnull;
	Datum		d = SysCacheGetAttr(cacheid, tup, attno, &isnull);

	return isnull ? "" : TextDatumGetCString(d);
}

/*
 * The columns of a catalog row that describe a locale: pg_database's for
 * the database's default collation, pg_collation's for the others.  ICU
 * rules exist from PostgreSQL 16 (0: none).
 */
typedef struct SbLocaleColumns
{
	int			cacheid;
	AttrNumber	provider,
				deterministic,	/* 0: always deterministic */
				collate,
				ctype,
				icu,
				rules;
} SbLocaleColumns;

#if PG_VERSION_NUM >= 170000
#define DAT_ICU Anum_pg_database_datlocale
#define COLL_ICU Anum_pg_collation_colllocale
#else
#define DAT_ICU Anum_pg_database_daticulocale
#define COLL_ICU Anum_pg_collation_colliculocale
#endif
#if PG_VERSION_NUM >= 160000
#define DAT_RULES Anum_pg_database_daticurules
#define COLL_RULES Anum_pg_collation_collicurules
#else
#define DAT_RULES 0
#define COLL_RULES 0
#endif

static const SbLocaleColumns database_locale = {
	DATABASEOID, Anum_pg_database_datlocprovider, 0,
	Anum_pg_database_datcollate, Anum_pg_database_datctype, DAT_ICU, DAT_RULES
};
static const SbLocaleColumns collation_locale = {
	COLLOID, Anum_pg_collation_collprovider, Anum_pg_collation_collisdeterministic,
	Anum_pg_collation_collcollate, Anum_pg_collation_collctype, COLL_ICU, COLL_RULES
};

/*
 * What decides how a collation hashes and compares: its provider, locale,
 * determinism and the provider's version of the locale, e.g. "icu
 * und-u-ks-level2 nondeterministic 153.120" (and ICU rules, which
 * PostgreSQL 16 added, after " rules ").  The database's default
 * collation is described by the database's locale.  Two collations of
 * equal descriptions hash alike, whatever their names and databases.
 */
static char *
collation_identity(Oid collation)
{
	bool		is_default = collation == DEFAULT_COLLATION_OID;
	const SbLocaleColumns *lc = is_default ? &database_locale : &collation_locale;
	Oid			oid = is_default ? MyDatabaseId : collation;
	HeapTuple	tup = SearchSysCache1(lc->cacheid, ObjectIdGetDatum(oid));
	bool		isnull;
	char		provider;
	bool		deterministic = true;
	char	   *collate,
			   *ctype,
			   *icu,
			   *rules = "";
	char	   *version;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for collation %u", collation);
	provider = DatumGetChar(SysCacheGetAttr(lc->cacheid, tup, lc->provider, &isnull));
	if (lc->deterministic != 0)
		deterministic = DatumGetBool(SysCacheGetAttr(lc->cacheid, tup, lc->deterministic, &isnull));
	collate = syscache_text(lc->cacheid, tup, lc->collate);
	ctype = syscache_text(lc->cacheid, tup, lc->ctype);
	icu = syscache_text(lc->cacheid, tup, lc->icu);
	if (lc->rules != 0)
		rules = syscache_text(lc->cacheid, tup, lc->rules);
	ReleaseSysCache(tup);
	version = get_collation_actual_version(provider,
										   provider == COLLPROVIDER_LIBC ? collate : icu);
	return psprintf("%s %s %s %s%s%s",
					provider == COLLPROVIDER_ICU ? "icu" :
					provider == COLLPROVIDER_LIBC ? "libc" : "other",
					provider == COLLPROVIDER_LIBC ? psprintf("%s/%s", collate, ctype) : icu,
					deterministic ? "deterministic" : "nondeterministic",
					version ? version : "-",
					*rules ? " rules " : "", rules);
}

/*
 * The description of a collation, cached for the backend: a collation's
 * locale does not change, and its provider's version only with the
 * library the server loaded.
 */
static const char *
cached_collation_identity(Oid collation)
{
	static HTAB *cache = NULL;
	typedef struct
	{
		Oid			collation;
		char	   *identity;
	}			Entry;
	Entry	   *e;
	char	   *identity;

	if (cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(Entry);
		cache = hash_create("sharedbuf collations", 8, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	e = hash_search(cache, &collation, HASH_FIND, NULL);
	if (e)
		return e->identity;
	identity = MemoryContextStrdup(TopMemoryContext, collation_identity(collation));
	e = hash_search(cache, &collation, HASH_ENTER, NULL);
	e->identity = identity;
	return identity;
}

/*
 * How a key column of type 'typid' under 'collation' is hashed: false if
 * the type has no default hash operator class with an extended hash
 * function (or, for a container type, a member type has none).
 */
bool
SbKeyHashFor(Oid typid, Oid collation, SbKeyHash *kh)
{
	Oid			base = getBaseType(typid);
	TypeCacheEntry *tce = lookup_type_cache(base, TYPECACHE_HASH_OPFAMILY |
											TYPECACHE_HASH_EXTENDED_PROC);

	kh->opfamily = tce->hash_opf;
	kh->proc = tce->hash_extended_proc;
	kh->collation = type_is_collatable(base) ? collation : InvalidOid;
	kh->trim_blanks = base == BPCHAROID;
	return OidIsValid(kh->opfamily) && OidIsValid(kh->proc);
}

/*
 * The hash of a key value: the type's extended hash function under the
 * key's collation, seed 0.  character(n) values lose their trailing
 * blanks first: its equality ignores them, but PostgreSQL's hash of it
 * under a nondeterministic collation does not.
 */
uint64
SbKeyHashValue(FmgrInfo *fn, Oid collation, bool trim_blanks, Datum value)
{
	if (trim_blanks)
	{
		struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));
		const char *p = VARDATA_ANY(v);
		int			len = VARSIZE_ANY_EXHDR(v);

		if (len > 0 && p[len - 1] == ' ')
		{
			while (len > 0 && p[len - 1] == ' ')
				len--;
			value = PointerGetDatum(cstring_to_text_with_len(p, len));
		}
	}
	return DatumGetUInt64(FunctionCall2Coll(fn, collation, value, Int64GetDatum(0)));
}

/* The metadata values that describe a key hash, in key_hash_fields order. */
void
SbKeyHashValues(const SbKeyHash *kh, const char **values)
{
	values[0] = SbQualifiedFunctionName(kh->proc);
	if (kh->trim_blanks)
		values[0] = psprintf("%s(rtrim)", values[0]);
	values[1] = SbQualifiedOpfamilyName(kh->opfamily);
	values[2] = OidIsValid(kh->collation) ? SbQualifiedCollationName(kh->collation) : "";
	values[3] = OidIsValid(kh->collation) ?
		cached_collation_identity(kh->collation) : "";
}

/* The metadata key of field f of hashed key position 'keypos' (1-based). */
char *
SbKeyHashMetaKey(int keypos, int f)
{
	return psprintf("key.%d.%s", keypos, key_hash_fields[f]);
}

/*
 * How the bundle says its key column k (0-based) was hashed, as one
 * string to compare: the function, family and collation locale it
 * records (the collation's name is only informative).
 */
char *
SbBundleKeyHashSignature(const sb_bundle *b, int k)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%u", sb_bundle_info(b)->pg_major);
	for (int f = 0; f < SB_KEY_HASH_FIELDS; f++)
	{
		size_t		len = 0;
		const char *v = f == 2 ? "" : sb_meta_get(b, SbKeyHashMetaKey(k + 1, f), &len);

		appendStringInfoChar(&buf, '\n');
		if (v == NULL)
			appendStringInfoString(&buf, "(none)");
		else
			appendBinaryStringInfo(&buf, v, (int) len);
	}
	return buf.data;
}

/* The same signature for a key hashed here as 'kh' says. */
char *
SbKeyHashSignature(const SbKeyHash *kh)
{
	const char *values[SB_KEY_HASH_FIELDS];
	StringInfoData buf;

	SbKeyHashValues(kh, values);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%d", PG_VERSION_NUM / 10000);
	for (int f = 0; f < SB_KEY_HASH_FIELDS; f++)
		appendStringInfo(&buf, "\n%s", f == 2 ? "" : values[f]);
	return buf.data;
}

/*
 * Can clause operator 'opno' under 'inputcollid' look a hashed key up?  It
 * must be the equality of the key's hash family, under the collation the
 * key was hashed with, and the family must hash the probe side's type
 * (which it returns in *probetype) consistently: hash families promise
 * that equal values of their member types hash alike (an int4 and an int8
 * family member, say).  An "= ANY" needs
 * the family's equality of the probe type too, to merge equal probes.
 */
bool
SbHashedOperatorUsable(const SbKeyHash *kh, Oid opno, Oid inputcollid,
					   bool key_left, bool is_any, Oid *probetype)
{
	int			strategy;
	Oid			lefttype,
				righttype,
				proc;

	if (inputcollid != kh->collation || !op_in_opfamily(opno, kh->opfamily))
		return false;
	get_op_opfamily_properties(opno, kh->opfamily, false, &strategy,
							   &lefttype, &righttype);
	if (strategy != HTEqualStrategyNumber)
		return false;
	*probetype = key_left ? righttype : lefttype;
	proc = get_opfamily_proc(kh->opfamily, *probetype, *probetype, HASHEXTENDED_PROC);
	if (!OidIsValid(proc))
		return false;

	/*
	 * Under a collation, only the key type's own hash: PostgreSQL's
	 * hashes of other member types need not follow a nondeterministic
	 * collation (name's ignores it, text's does not).
	 */
	if (OidIsValid(kh->collation) && proc != kh->proc)
		return false;
	return !is_any || OidIsValid(get_opfamily_member(kh->opfamily, *probetype,
													 *probetype,
													 HTEqualStrategyNumber));
}

/*
 * Prepare to hash and confirm probes of a hashed key part: 'hp' is what
 * the plan chose.
 */
void
SbInitHashedProbe(SbProbeInfo *pi, const SbHashedProbe *hp)
{
	Oid			eqop = get_opfamily_member(hp->opfamily, hp->probetype,
										   hp->probetype, HTEqualStrategyNumber);

	pi->hashed = *hp;
	fmgr_info(get_opfamily_proc(hp->opfamily, hp->probetype, hp->probetype,
								HASHEXTENDED_PROC), &pi->hashfn);
	fmgr_info(get_opcode(hp->opno), &pi->confirmfn);
	pi->have_probe_eq = OidIsValid(eqop);
	if (pi->have_probe_eq)
		fmgr_info(get_opcode(eqop), &pi->probe_eqfn);
}

/* Does a row's key value equal the probe's (a hashed key part)? */
bool
SbConfirmHashed(const SbProbeInfo *pi, Datum rowvalue, Datum probe)
{
	FmgrInfo   *fn = (FmgrInfo *) &pi->confirmfn;

	return DatumGetBool(pi->hashed.key_left ?
						FunctionCall2Coll(fn, pi->hashed.collation, rowvalue, probe) :
						FunctionCall2Coll(fn, pi->hashed.collation, probe, rowvalue));
}

/* Are two probe values of a hashed key part equal? */
bool
SbProbesEqual(const SbProbeInfo *pi, Datum a, Datum b)
{
	return pi->have_probe_eq &&
		DatumGetBool(FunctionCall2Coll((FmgrInfo *) &pi->probe_eqfn,
									   pi->hashed.collation, a, b));
}
