/*-------------------------------------------------------------------------
 *
 * test_hashed.c
 *	  Hashed keys (SB_KEY_HASHED): the caller hashes each value, lookups
 *	  return candidates the caller confirms, the writer's checks, and the
 *	  reader's refusal of key kinds and versions it does not know.
 *
 * The tests stand in for a type whose equal values differ in their bytes:
 * decimal numbers as text ("2", "2.0", "2.00" are one value), hashed by
 * their numeric value.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NROWS		600
#define NVALUES		50

/* The "type hash" of a decimal text: equal numbers, equal hashes. */
static uint64_t
type_hash(const char *s, size_t len)
{
	char		buf[64];
	long long	milli;

	snprintf(buf, sizeof(buf), "%.*s", (int) len, s);
	milli = llround(strtod(buf, NULL) * 1000);
	return (uint64_t) milli * UINT64_C(0x9E3779B97F4A7C15) + 12345;
}

/* The "type equality" of two decimal texts. */
static bool
type_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return type_hash(a, alen) == type_hash(b, blen);
}

/* Row r's key: value r % NVALUES written three ways; NULL every 7th row. */
static bool
row_key(uint64_t r, char *buf, size_t size)
{
	static const char *const forms[3] = {"%d", "%d.0", "%d.00"};

	if (r % 7 == 3)
		return false;
	snprintf(buf, size, forms[r % 3], (int) (r % NVALUES));
	return true;
}

/*
 * Write NROWS rows: column 0 an int4 (the row number, or the integer part
 * of a composite key), column 1 the decimal text, hashed.
 */
static sb_bundle *
hashed_bundle(const char *file, bool composite, bool approximate,
			  sb_build_stats *stats)
{
	sb_column	cols[2] = {
		composite ? tf_keyed(tf_col_int("i", 4), 1, SB_KEY_INTEGER) : tf_col_int("i", 4),
		tf_keyed(tf_col_text("n", true, 'i'), composite ? 2 : 1, SB_KEY_HASHED)
	};
	sb_writer_options o;
	sb_writer  *w;
	sb_error	err;

	tf_options(&o, tf_path(file), cols, 2);
	o.approximate = approximate;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (uint64_t r = 0; r < NROWS; r++)
	{
		char		key[32];

		sb_writer_begin_row(w);
		if (!tf_set_int(w, 0, 4, composite ? (int64_t) (r % 4) : (int64_t) r))
			break;
		if (row_key(r, key, sizeof(key)) &&
			(!tf_set_text(w, 1, key) ||
			 !CHECK_ST(sb_writer_set_key_hash(w, 1, type_hash(key, strlen(key)), &err),
					   SB_OK, &err)))
			break;
		if (!tf_end_row(w))
			break;
	}
	return tf_finish(w, tf_path(file), stats);
}

/*
 * Look a value up and confirm the candidates as a caller would: they come
 * in increasing row order, each once, the library having compared the
 * other key parts; those whose value equals the probe's must be exactly
 * the rows holding it.  Returns the number of candidates, or -1.
 */
static int
lookup_confirm(sb_bundle *b, const char *value, bool composite,
			   int64_t ipart)
{
	uint64_t	h = type_hash(value, strlen(value));
	sb_key_part parts[2] = {{NULL, 0, ipart}, {&h, sizeof(h), 0}};
	uint64_t   *rows = malloc(sizeof(uint64_t) * (NROWS + 1));
	int			n = rows ? tf_lookup(b, composite ? parts : parts + 1, rows, NROWS + 1) : -1;
	int			confirmed = 0;
	int			expect = 0;
	bool		ok = n >= 0;

	for (int i = 0; ok && i < n; i++)
	{
		sb_value	v;

		ok = CHECKF(i == 0 || rows[i] > rows[i - 1], "candidates out of order") &&
			CHECK(tf_get_var(b, rows[i], 1, &v));
		if (ok && composite)
			ok = CHECK_EQ(tf_get_int(b, rows[i], 0), ipart);
		if (ok && type_equal(value, strlen(value), (const char *) v.ptr + 1, v.len - 1))
			confirmed++;
	}
	for (uint64_t r = 0; r < NROWS; r++)
	{
		char		key[32];

		if (row_key(r, key, sizeof(key)) && type_equal(key, strlen(key), value, strlen(value)) &&
			(!composite || (int64_t) (r % 4) == ipart))
			expect++;
	}
	ok = ok && CHECKF(confirmed == expect, "lookup of \"%s\": %d rows confirmed, %d hold it",
					  value, confirmed, expect);
	free(rows);
	return ok ? n : -1;
}

/*
 * A hashed single-column key: a file of version 4, verified; every value,
 * in any of its forms, finds its rows; values absent find none.
 */
void
test_hashed_keys(void)
{
	sb_build_stats stats;
	sb_bundle  *b = hashed_bundle("hashed.sb", false, false, &stats);
	const sb_info *in;
	char		v[32];

	REQUIRE(b != NULL);
	in = sb_bundle_info(b);
	CHECK_EQ(in->major, 4);
	CHECK_EQ(in->columns[1].key_kind, SB_KEY_HASHED);
	CHECK_EQ(stats.distinct_keys, NVALUES);
	CHECK_EQ(in->indexed_count, NROWS - (NROWS + 3) / 7);
	for (int k = 0; k < NVALUES + 5; k++)
	{
		snprintf(v, sizeof(v), k % 2 ? "%d.000" : "%d", k);
		CHECK(lookup_confirm(b, v, false, 0) >= 0);
	}
	CHECK(lookup_confirm(b, "0.5", false, 0) >= 0);
	sb_close(b);
	remove(tf_path("hashed.sb"));
}

/* Forced collisions: every row is a candidate, confirmation still exact. */
static void
collide_hashed(void *arg)
{
	sb_bundle  *b = hashed_bundle("collide.sb", false, false, NULL);
	const sb_info *in;

	(void) arg;
	REQUIRE(b != NULL);
	in = sb_bundle_info(b);
	CHECK_EQ(in->distinct_keys, 1);
	CHECK_EQ(lookup_confirm(b, "7.0", false, 0), (int) in->indexed_count);
	CHECK_EQ(lookup_confirm(b, "1000", false, 0), (int) in->indexed_count);
	sb_close(b);
	remove(tf_path("collide.sb"));
}

void
test_hashed_collisions(void)
{
	tf_with_hash_mask(0, collide_hashed, NULL);
}

/* A composite key of an integer and a hashed part: the integer is compared. */
void
test_hashed_composite(void)
{
	sb_bundle  *b = hashed_bundle("hcomp.sb", true, false, NULL);

	REQUIRE(b != NULL);
	CHECK_EQ(sb_bundle_info(b)->major, 4);
	for (int k = 0; k < NVALUES; k += 3)
		for (int i = 0; i < 5; i++)
		{
			char		v[32];

			snprintf(v, sizeof(v), "%d.0", k);
			CHECK(lookup_confirm(b, v, true, i) >= 0);
		}
	sb_close(b);
	remove(tf_path("hcomp.sb"));
}

/*
 * An approximate bundle with a hashed key (not stored): a lookup returns
 * the rows whose hash matches, and a fixed-length column can be hashed.
 */
void
test_hashed_approximate(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col("u", "pg_catalog.uuid", 16, false, 'c'), 1, SB_KEY_HASHED),
		tf_col_int("r", 4)
	};
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	sb_error	err;
	uint64_t	rows[8];

	for (int approx = 0; approx < 2; approx++)
	{
		tf_options(&o, tf_path("happrox.sb"), cols, 2);
		o.approximate = approx;
		REQUIRE((w = tf_create(&o)) != NULL);
		for (int r = 0; r < 100; r++)
		{
			unsigned char img[16];

			memset(img, r, sizeof(img));
			sb_writer_begin_row(w);
			REQUIRE(tf_set_fixed(w, 0, img));
			REQUIRE(CHECK_ST(sb_writer_set_key_hash(w, 0, (uint64_t) r % 10, &err),
							 SB_OK, &err));
			REQUIRE(tf_set_int(w, 1, 4, r));
			REQUIRE(tf_end_row(w));
		}
		REQUIRE((b = tf_finish(w, tf_path("happrox.sb"), NULL)) != NULL);
		CHECK_EQ(sb_bundle_info(b)->major, 4);
		CHECK_EQ(sb_bundle_info(b)->approximate, approx);
		for (uint64_t h = 0; h < 12; h++)
		{
			sb_key_part p = {&h, sizeof(h), 0};
			int			n = tf_lookup(b, &p, rows, 8);

			/* without forced collisions, exactly the rows of that hash */
			if (CHECK_EQ(n, h < 10 ? 10 : 0) && n > 0)
				CHECK_EQ(tf_get_int(b, rows[0], 1), (int64_t) h);
		}
		sb_close(b);
		remove(tf_path("happrox.sb"));
	}
}

/* A writer for the error tests: int4 key, hashed text key, text. */
static sb_writer *
error_writer(void)
{
	static sb_column cols[3];
	sb_writer_options o;

	cols[0] = tf_keyed(tf_col_int("i", 4), 1, SB_KEY_INTEGER);
	cols[1] = tf_keyed(tf_col_text("n", true, 'i'), 2, SB_KEY_HASHED);
	cols[2] = tf_col_text("t", true, 'i');
	remove(tf_path("herr.sb"));
	tf_options(&o, tf_path("herr.sb"), cols, 3);
	return tf_create(&o);
}

/* The writer's checks of hashed key parts, and the lookup's of probes. */
void
test_hashed_writer_errors(void)
{
	sb_writer  *w;
	sb_bundle  *b;
	sb_error	err;
	uint64_t	h = 1,
				hash;
	sb_key_part parts[2] = {{NULL, 0, 1}, {&h, 4, 0}};

	/* not in a row; not a hashed key column; no such column */
	REQUIRE((w = error_writer()) != NULL);
	CHECK_ST(sb_writer_set_key_hash(w, 1, 1, &err), SB_ERR_STATE, &err);
	sb_writer_begin_row(w);
	CHECK_ST(sb_writer_set_key_hash(w, 0, 1, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_set_key_hash(w, 2, 1, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_set_key_hash(w, 3, 1, &err), SB_ERR_INVALID, &err);
	/* ...which leave the writer usable: a whole row, then NULL keys */
	CHECK(tf_set_int(w, 0, 4, 1) && tf_set_text(w, 1, "1.0") &&
		  CHECK_ST(sb_writer_set_key_hash(w, 1, type_hash("1", 1), &err), SB_OK, &err) &&
		  tf_end_row(w));
	sb_writer_begin_row(w);
	CHECK(tf_set_int(w, 0, 4, 1) && tf_set_text(w, 2, "x") && tf_end_row(w));
	REQUIRE((b = tf_finish(w, tf_path("herr.sb"), NULL)) != NULL);
	CHECK_EQ(sb_bundle_info(b)->indexed_count, 1);
	CHECK_ST(sb_key_hash(b, parts, &hash, &err), SB_ERR_INVALID, &err);
	parts[1].len = 8;
	CHECK_ST(sb_key_hash(b, parts, &hash, &err), SB_OK, &err);
	sb_close(b);

	/* a hash set twice */
	REQUIRE((w = error_writer()) != NULL);
	sb_writer_begin_row(w);
	CHECK_ST(sb_writer_set_key_hash(w, 1, 1, &err), SB_OK, &err);
	CHECK_ST(sb_writer_set_key_hash(w, 1, 1, &err), SB_ERR_STATE, &err);
	CHECK_ST(sb_writer_end_row(w, &err), SB_ERR_STATE, &err);
	sb_writer_free(w);
	CHECK(!tf_exists(tf_path("herr.sb")));

	/* a value without its hash, a hash without its value */
	for (int hash_only = 0; hash_only < 2; hash_only++)
	{
		REQUIRE((w = error_writer()) != NULL);
		sb_writer_begin_row(w);
		CHECK(tf_set_int(w, 0, 4, 1));
		if (hash_only)
			CHECK_ST(sb_writer_set_key_hash(w, 1, 1, &err), SB_OK, &err);
		else
			CHECK(tf_set_text(w, 1, "1"));
		CHECK_ST(sb_writer_end_row(w, &err), SB_ERR_STATE, &err);
		CHECKF(strstr(err.detail, hash_only ? "a hash but no value" : "a value but no hash"),
			   "message: %s", err.detail);
		CHECK_ST(sb_writer_finish(w, NULL, &err), SB_ERR_STATE, &err);
		sb_writer_free(w);
	}
}

/* Only hashed keys make a version 4 file. */
void
test_hashed_version(void)
{
	sb_column	cols[1] = {tf_keyed(tf_col_text("t", true, 'i'), 1, SB_KEY_VARLENA)};
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;

	tf_options(&o, tf_path("plain.sb"), cols, 1);
	REQUIRE((w = tf_create(&o)) != NULL);
	sb_writer_begin_row(w);
	REQUIRE(tf_set_text(w, 0, "a") && tf_end_row(w));
	REQUIRE((b = tf_finish(w, tf_path("plain.sb"), NULL)) != NULL);
	CHECK_EQ(sb_bundle_info(b)->major, 3);
	sb_close(b);
}

/*
 * The reader never trusts a key it cannot hash: an unknown key kind is
 * unsupported, naming the kind; a hashed key in a file of a version
 * before 4 is damage.
 */
void
test_hashed_reader_refuses(void)
{
	sb_bundle  *b = hashed_bundle("hread.sb", false, false, NULL);
	unsigned char *img;
	size_t		len;
	uint64_t	schema,
				slen;
	sb_error	err;

	REQUIRE(b != NULL);
	sb_close(b);
	REQUIRE((img = tf_read_file(tf_path("hread.sb"), &len)) != NULL);
	REQUIRE(tf_section(img, SB_SECTION_SCHEMA, &schema, &slen));
	img[schema + SB_COLREC_SIZE + SB_COL_KEYKIND] = 7;	/* column 1's */
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_UNSUPPORTED, &err);
	CHECKF(strstr(err.detail, "key kind 7") != NULL, "message: %s", err.detail);
	img[schema + SB_COLREC_SIZE + SB_COL_KEYKIND] = SB_KEY_HASHED;
	sb_store16(img + SB_HDR_MAJOR, 3);
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
	CHECKF(strstr(err.detail, "hashed") != NULL, "message: %s", err.detail);
	sb_store16(img + SB_HDR_MAJOR, SB_FORMAT_MAJOR + 1);
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_VERSION, &err);
	free(img);
}
