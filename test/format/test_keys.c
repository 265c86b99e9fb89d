/*-------------------------------------------------------------------------
 *
 * test_keys.c
 *	  Keys and lookups: duplicates, NULLs, every key kind, composite keys,
 *	  approximate bundles, batched lookups, and forced hash collisions.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Check that a lookup found exactly the rows for which want(row) holds,
 * in increasing row order, each once.
 */
static void
check_rows(sb_bundle *b, const sb_key_part *parts, const char *what,
		   bool (*want) (uint64_t, const void *), const void *arg)
{
	uint64_t   *rows = malloc(sizeof(uint64_t) * (b->row_count + 1));
	int			n = rows ? tf_lookup(b, parts, rows, (int) b->row_count + 1) : -1;
	uint64_t	expect = 0;
	int			i = 0;

	for (uint64_t r = 0; r < b->row_count && n >= 0; r++)
	{
		if (!want(r, arg))
			continue;
		expect++;
		if (i < n && rows[i] == r)
			i++;
	}
	CHECKF(n >= 0 && (uint64_t) n == expect && i == n,
		   "lookup of %s found %d rows (%d in order), expected %llu",
		   what, n, i, (unsigned long long) expect);
	free(rows);
}

/*
 * Build the rows (k, r), r from 0 to 2999, with an integer key k of keylen
 * bytes: key(r), or NULL where key() returns false.
 */
static sb_bundle *
build_int_keyed(const char *name, int keylen, bool (*key) (int, int64_t *),
				sb_build_stats *stats)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("k", keylen), 1, SB_KEY_INTEGER), tf_col_int("r", 4)
	};
	const char *path = tf_path(name);
	sb_writer_options o;
	sb_writer  *w;
	int64_t		k;

	tf_options(&o, path, cols, 2);
	if (!CHECK((w = tf_create(&o)) != NULL))
		return NULL;
	for (int r = 0; r < 3000; r++)
	{
		sb_writer_begin_row(w);
		if (key(r, &k))
			tf_set_int(w, 0, keylen, k);
		tf_set_int(w, 1, 4, r);
		tf_end_row(w);
	}
	return tf_finish(w, path, stats);
}

/* The key of row r in the duplicate-key test: never NULL. */
static bool
dup_key(int r, int64_t *k)
{
	*k = r % 3 == 0 ? 500 : (int64_t) (r * 37) % 100;
	return true;
}

/* check_rows predicate: does row r hold the key *arg? */
static bool
dup_want(uint64_t r, const void *arg)
{
	int64_t		k;

	return dup_key((int) r, &k) && k == *(const int64_t *) arg;
}

/* Duplicate keys: every matching row, in row order, exactly once. */
void
test_duplicate_keys(void)
{
	sb_build_stats stats;
	sb_bundle  *b;

	REQUIRE((b = build_int_keyed("dup.sb", 4, dup_key, &stats)) != NULL);
	CHECK_EQ(stats.distinct_keys, 101);
	CHECK_EQ(b->distinct_keys, 101);
	CHECK_EQ(b->indexed_count, 3000);
	for (int64_t k = -1; k <= 501; k++)
	{
		sb_key_part p = {NULL, 0, k};

		check_rows(b, &p, "an integer", dup_want, &k);
	}
	sb_close(b);
}

/* Single int8 key: NULL in rows r % 3 == 0, 0 in r % 3 == 1, else r. */
static bool
null_key(int r, int64_t *k)
{
	*k = r % 3 == 1 ? 0 : r;
	return r % 3 != 0;
}

/* check_rows predicate: does row r hold the key *arg? */
static bool
null_want(uint64_t r, const void *arg)
{
	int64_t		k;

	return null_key((int) r, &k) && k == *(const int64_t *) arg;
}

/* Build and check the single-column NULL-key bundle. */
static void
null_single(void)
{
	sb_build_stats stats;
	sb_bundle  *b;

	REQUIRE((b = build_int_keyed("null1.sb", 8, null_key, &stats)) != NULL);
	CHECK_EQ(stats.rows, 3000);
	CHECK_EQ(stats.indexed, 2000);
	CHECK_EQ(b->indexed_count, 2000);
	for (int r = 0; r < 3000; r++)
	{
		CHECK_EQ(sb_slot_isnull(sb_bundle_info(b), sb_row_slot(b, r), 0), r % 3 == 0);
		CHECK_EQ(tf_get_int(b, r, 1), r);
	}
	for (int64_t k = -1; k < 3010; k++)
	{
		sb_key_part p = {NULL, 0, k};

		check_rows(b, &p, "an int8", null_want, &k);
	}
	sb_close(b);
}

/* Build and check a composite key with NULL parts. */
static void
null_composite(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("a", 4), 1, SB_KEY_INTEGER),
		tf_keyed(tf_col_text("b", true, 'i'), 2, SB_KEY_VARLENA)
	};
	const char *path = tf_path("null2.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	uint64_t	rows[4];
	sb_key_part p[2] = {{NULL, 0, 1}, {"a", 1, 0}};

	tf_options(&o, path, cols, 2);
	REQUIRE((w = tf_create(&o)) != NULL);
	/* (1, NULL), (NULL, "a"), (1, "a"), (1, ""), (NULL, NULL) */
	for (int r = 0; r < 5; r++)
	{
		sb_writer_begin_row(w);
		if (r != 1 && r != 4)
			tf_set_int(w, 0, 4, 1);
		if (r == 1 || r == 2 || r == 3)
			tf_set_text(w, 1, r == 3 ? "" : "a");
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	CHECK_EQ(b->indexed_count, 2);
	CHECK_EQ(tf_lookup(b, p, rows, 4), 1);
	CHECK_EQ(rows[0], 2);
	p[1].len = 0;
	CHECK_EQ(tf_lookup(b, p, rows, 4), 1);
	CHECK_EQ(rows[0], 3);
	p[0].ival = 0;
	CHECK_EQ(tf_lookup(b, p, rows, 4), 0);
	sb_close(b);
}

/* NULL keys: kept for scans, not indexed, never found. */
void
test_null_keys(void)
{
	null_single();
	null_composite();
}

/* check_rows predicate: arg is {probe, number of values, values...}. */
static bool
int_want(uint64_t r, const void *arg)
{
	const int64_t *a = arg;

	return a[2 + r % a[1]] == a[0];
}

/* Integer keys of one width: values round-trip, probes by ival. */
static void
int_width_case(int width, const int64_t *vals, int nvals,
			   const int64_t *absent, int nabsent)
{
	sb_column	col = tf_keyed(tf_col_int("k", width), 1, SB_KEY_INTEGER);
	char		file[16];
	const char *path;
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	int64_t		arg[2 + 16];

	snprintf(file, sizeof(file), "int%d.sb", width);
	path = tf_path(file);
	tf_options(&o, path, &col, 1);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 3 * nvals; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, width, vals[r % nvals]);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	arg[1] = nvals;
	memcpy(arg + 2, vals, sizeof(int64_t) * nvals);
	for (int i = 0; i < nvals + nabsent; i++)
	{
		sb_key_part p = {NULL, 0, i < nvals ? vals[i] : absent[i - nvals]};

		arg[0] = p.ival;
		check_rows(b, &p, "an integer", int_want, arg);
		if (i < nvals)
			CHECK_EQ(tf_get_int(b, i, 0), vals[i]);
	}
	sb_close(b);
}

/* int2, int4 and int8 keys, all probed as int8 values. */
void
test_integer_key_widths(void)
{
	static const int64_t v2[] = {0, 1, -1, INT16_MIN, INT16_MAX, 4464, -1000};
	static const int64_t a2[] = {2, -2, 70000, 4464 - 65536, INT16_MAX + 1,
	INT16_MIN - 1, -65536};
	static const int64_t v4[] = {0, 1, -1, INT32_MIN, INT32_MAX, 5, 123456};
	static const int64_t a4[] = {2, INT64_C(0x100000005), (int64_t) INT32_MAX + 1,
	(int64_t) INT32_MIN - 1, -5};
	static const int64_t v8[] = {0, 1, -1, INT64_MIN, INT64_MAX,
	INT64_C(0x100000005), 5};
	static const int64_t a8[] = {2, INT64_MIN + 1, INT64_MAX - 1,
	INT64_C(0x200000005), -5};

	int_width_case(2, v2, 7, a2, 7);
	int_width_case(4, v4, 7, a4, 5);
	int_width_case(8, v8, 7, a8, 5);
}

/* Fixed-length keys compared as bytes (a uuid). */
void
test_bytes_keys(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col("u", "pg_catalog.uuid", 16, false, 'c'), 1, SB_KEY_BYTES),
		tf_col_int("r", 4)
	};
	const char *path = tf_path("uuid.sb");
	unsigned char keys[500][16];
	uint64_t	seed = 7,
				rows[2],
				hash;
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	sb_error	err;

	for (int r = 0; r < 500; r++)
		for (int i = 0; i < 16; i += 8)
		{
			uint64_t	x = tf_rand(&seed);

			memcpy(keys[r] + i, &x, 8);
		}
	tf_options(&o, path, cols, 2);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 500; r++)
	{
		sb_writer_begin_row(w);
		tf_set_fixed(w, 0, keys[r]);
		tf_set_int(w, 1, 4, r);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	for (int r = 0; r < 500; r++)
	{
		sb_key_part p = {keys[r], 16, 0};

		CHECK(tf_lookup(b, &p, rows, 2) == 1 && rows[0] == (uint64_t) r);
		keys[r][r % 16] ^= 1 << (r % 8);
		CHECK_EQ(tf_lookup(b, &p, rows, 2), 0);
		p.len = 15;
		CHECK_ST(sb_key_hash(b, &p, &hash, &err), SB_ERR_INVALID, &err);
	}
	sb_close(b);
}

/* float8 image from bits. */
static double
dbits(uint64_t u)
{
	double		d;

	memcpy(&d, &u, 8);
	return d;
}

/* Rows found by a float probe (given as a double; narrowed for float4). */
static int
float_lookup(sb_bundle *b, int width, double d, uint64_t *rows)
{
	float		f = (float) d;
	sb_key_part p = {width == 4 ? (const void *) &f : (const void *) &d,
	(size_t) width, 0};

	return tf_lookup(b, &p, rows, 16);
}

/* Build a float key bundle of one width from the values given. */
static sb_bundle *
float_bundle(int width, const double *vals, int n)
{
	sb_column	col = tf_keyed(tf_col_float("f", width), 1, SB_KEY_FLOAT);
	const char *path = tf_path(width == 4 ? "f4.sb" : "f8.sb");
	sb_writer_options o;
	sb_writer  *w;

	tf_options(&o, path, &col, 1);
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < n; r++)
	{
		float		f = (float) vals[r];

		sb_writer_begin_row(w);
		tf_set_fixed(w, 0, width == 4 ? (const void *) &f : (const void *) &vals[r]);
		tf_end_row(w);
	}
	return tf_finish(w, path, NULL);
}

/* float4 and float8 keys: -0 equals 0, every NaN equals every NaN. */
void
test_float_keys(void)
{
	double		vals[9];
	uint64_t	rows[16];
	sb_bundle  *b;

	vals[0] = -0.0;
	vals[1] = 0.0;
	vals[2] = dbits(UINT64_C(0x7FF8000000000000));	/* NaN */
	vals[3] = dbits(UINT64_C(0xFFF8000000000001));	/* negative NaN */
	vals[4] = 1.5;
	vals[5] = -1.5;
	vals[6] = INFINITY;
	vals[7] = -INFINITY;
	vals[8] = 1e-30;
	for (int width = 4; width <= 8; width += 4)
	{
		REQUIRE((b = float_bundle(width, vals, 9)) != NULL);
		CHECK(float_lookup(b, width, 0.0, rows) == 2 && rows[0] == 0 && rows[1] == 1);
		CHECK(float_lookup(b, width, -0.0, rows) == 2 && rows[0] == 0 && rows[1] == 1);
		CHECK(float_lookup(b, width, NAN, rows) == 2 && rows[0] == 2 && rows[1] == 3);
		CHECK(float_lookup(b, width, dbits(UINT64_C(0x7FF4000000000123)), rows) == 2);
		CHECK(float_lookup(b, width, 1.5, rows) == 1 && rows[0] == 4);
		CHECK(float_lookup(b, width, -1.5, rows) == 1 && rows[0] == 5);
		CHECK(float_lookup(b, width, INFINITY, rows) == 1 && rows[0] == 6);
		CHECK(float_lookup(b, width, -INFINITY, rows) == 1 && rows[0] == 7);
		CHECK(float_lookup(b, width, 1e-30, rows) == 1 && rows[0] == 8);
		CHECK_EQ(float_lookup(b, width, 1.5000001, rows), 0);
		CHECK_EQ(float_lookup(b, width, 1e-31, rows), 0);
		CHECK_EQ(float_lookup(b, width, 2.0, rows), 0);
		/* the stored image keeps its sign: only the key is canonical */
		{
			sb_value	v;

			sb_slot_value(b, sb_row_slot(b, 0), 0, &v, NULL);
			CHECK(width == 4 ? signbit(*(const float *) v.ptr) :
				  signbit(*(const double *) v.ptr));
		}
		sb_close(b);
	}
}

/* bpchar keys: trailing blanks do not count, leading ones do. */
void
test_bpchar_keys(void)
{
	static const char *vals[] = {"ab", "ab   ", "abc", "", "   ", " ab", "a b"};
	static const struct
	{
		const char *probe;
		int			n;
		int			first;
	}			probes[] = {
		{"ab", 2, 0}, {"ab ", 2, 0}, {"ab      ", 2, 0}, {"", 2, 3}, {"  ", 2, 3},
		{"abc  ", 1, 2}, {" ab", 1, 5}, {" ab ", 1, 5}, {"a b", 1, 6},
		{"a", 0, 0}, {"ab\t", 0, 0}, {"abcd", 0, 0}, {"  ab", 0, 0}
	};
	sb_column	col = tf_keyed(tf_col("c", "pg_catalog.bpchar", -1, false, 'i'),
							   1, SB_KEY_BPCHAR);
	const char *path = tf_path("bpchar.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	uint64_t	rows[8];

	col.flags = SB_COLF_SHORT_VARLENA;
	tf_options(&o, path, &col, 1);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 7; r++)
	{
		sb_writer_begin_row(w);
		tf_set_text(w, 0, vals[r]);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
	{
		int			n = tf_lookup_text(b, probes[i].probe, rows, 8);

		CHECKF(n == probes[i].n && (n == 0 || rows[0] == (uint64_t) probes[i].first),
			   "bpchar probe \"%s\" found %d rows", probes[i].probe, n);
	}
	tf_text_is(b, 1, 0, "ab   ", 5);
	sb_close(b);
}

/* Composite key (int4, text); the text column comes first in the row. */
void
test_composite_int_text(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_text("t", true, 'i'), 2, SB_KEY_VARLENA),
		tf_keyed(tf_col_int("i", 4), 1, SB_KEY_INTEGER),
		tf_col_int("v", 4)
	};
	const char *path = tf_path("comp.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	char		buf[32];
	uint64_t	rows[2];

	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int i = 0; i < 40; i++)
		for (int j = 0; j < 40; j++)
		{
			sb_writer_begin_row(w);
			tf_set_text(w, 0, (snprintf(buf, sizeof(buf), "k%d", j), buf));
			tf_set_int(w, 1, 4, i);
			tf_set_int(w, 2, 4, i * 1000 + j);
			tf_end_row(w);
		}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	CHECK_EQ(b->nkeys, 2);
	CHECK(b->key_columns[0] == 1 && b->key_columns[1] == 0);
	for (int i = 0; i < 40 && tf_failures() == 0; i++)
		for (int j = 0; j < 40; j++)
		{
			static const char *miss[] = {"k%d ", "K%d", " k%d", "k%d\n", "k0%d"};
			sb_key_part p[2] = {{NULL, 0, i}, {buf, 0, 0}};

			p[1].len = (size_t) snprintf(buf, sizeof(buf), "k%d", j);
			CHECK(tf_lookup(b, p, rows, 2) == 1 && rows[0] == (uint64_t) (i * 40 + j));
			p[0].ival = i + 40;
			CHECK_EQ(tf_lookup(b, p, rows, 2), 0);
			p[0].ival = i;
			p[1].len = (size_t) snprintf(buf, sizeof(buf), miss[j % 5], j);
			CHECK_EQ(tf_lookup(b, p, rows, 2), 0);
			p[1].len = (size_t) snprintf(buf, sizeof(buf), "k%d", j + 40);
			CHECK_EQ(tf_lookup(b, p, rows, 2), 0);
		}
	sb_close(b);
}

static const char *const comp_a[] = {"", "a", "ab", "abc"};
static const char *const comp_b[] = {"", "c", "bc", "abc"};

/* Three-column key (text, text, int2): splits of one string differ. */
void
test_composite_three_columns(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_text("a", true, 'i'), 1, SB_KEY_VARLENA),
		tf_keyed(tf_col_text("b", false, 'i'), 2, SB_KEY_VARLENA),
		tf_keyed(tf_col_int("c", 2), 3, SB_KEY_INTEGER)
	};
	const char *path = tf_path("comp3.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	uint64_t	rows[4];

	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 96; r++)	/* every combination, twice */
	{
		sb_writer_begin_row(w);
		tf_set_text(w, 0, comp_a[r % 48 / 12]);
		tf_set_text(w, 1, comp_b[r % 12 / 3]);
		tf_set_int(w, 2, 2, r % 3 - 1);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	CHECK_EQ(b->distinct_keys, 48);
	for (int k = 0; k < 48; k++)
	{
		sb_key_part p[3] = {
			{comp_a[k / 12], strlen(comp_a[k / 12]), 0},
			{comp_b[k % 12 / 3], strlen(comp_b[k % 12 / 3]), 0},
			{NULL, 0, k % 3 - 1}
		};

		CHECK(tf_lookup(b, p, rows, 4) == 2 && rows[0] == (uint64_t) k &&
			  rows[1] == (uint64_t) k + 48);
		p[2].ival = 2;
		CHECK_EQ(tf_lookup(b, p, rows, 4), 0);
		p[2].ival = k % 3 - 1;
		p[0].data = "x";
		p[0].len = 1;
		CHECK_EQ(tf_lookup(b, p, rows, 4), 0);
	}
	sb_close(b);
}

/* Build the approximate-mode test bundle. */
static sb_bundle *
approx_bundle(const char *file, bool approx, sb_build_stats *stats)
{
	sb_column	cols[3] = {
		tf_col_text("v", true, 'i'),
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_int("r", 4)
	};
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;
	char		buf[32];

	tf_options(&o, path, cols, 3);
	o.approximate = approx;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < 20000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_text(w, 0, (snprintf(buf, sizeof(buf), "v%d", r), buf));
		tf_set_int(w, 1, 8, (int64_t) r * 7919 + 3);
		tf_set_int(w, 2, 4, r);
		tf_end_row(w);
	}
	return tf_finish(w, path, stats);
}

/* Check an approximate bundle against the exact one. */
static void
approx_check(sb_bundle *a, sb_bundle *e)
{
	uint64_t	rows[4];
	char		buf[32];

	CHECK(a->flags & SB_BUNDLE_APPROXIMATE);
	CHECK(!(e->flags & SB_BUNDLE_APPROXIMATE));
	CHECK_EQ(a->slot_offsets[1], SB_NOT_STORED);
	CHECK(sb_bundle_info(a)->approximate && !sb_bundle_info(e)->approximate);
	{
		sb_value	v;
		sb_error	err;

		CHECK_ST(sb_slot_value(a, sb_row_slot(a, 0), 1, &v, &err), SB_ERR_INVALID, &err);
	}
	CHECK_EQ(a->fp_bytes, 4);
	CHECKF(a->size < e->size, "approximate %llu bytes, exact %llu",
		   (unsigned long long) a->size, (unsigned long long) e->size);
	CHECK(a->row_size < e->row_size);
	for (int r = 0; r < 20000 && tf_failures() == 0; r++)
	{
		CHECK(sb_slot_isnull(sb_bundle_info(a), sb_row_slot(a, r), 1));
		CHECK(!sb_slot_isnull(sb_bundle_info(e), sb_row_slot(e, r), 1));
		CHECK_EQ(tf_get_int(a, r, 2), r);
		snprintf(buf, sizeof(buf), "v%d", r);
		tf_text_is(a, r, 0, buf, strlen(buf));
		CHECK(tf_lookup_int(a, (int64_t) r * 7919 + 3, rows, 4) == 1 &&
			  rows[0] == (uint64_t) r);
		CHECK_EQ(tf_lookup_int(a, (int64_t) r * 7919 + 4, rows, 4), 0);
	}
}

/* A text key in an approximate bundle is not stored in the heap. */
static void
approx_text_key(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_text("k", true, 'i'), 1, SB_KEY_VARLENA),
		tf_col_int("r", 4)
	};
	const char *path = tf_path("approx_text.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b;
	char		buf[32];
	uint64_t	rows[2];

	tf_options(&o, path, cols, 2);
	o.approximate = true;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 1000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_text(w, 0, (snprintf(buf, sizeof(buf), "key %d", r), buf));
		tf_set_int(w, 1, 4, r);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, &stats)) != NULL);
	CHECK_EQ(stats.heap_bytes, 0);
	CHECK_EQ(b->indexed_count, 1000);
	for (int r = 0; r < 1000; r++)
	{
		snprintf(buf, sizeof(buf), "key %d", r);
		CHECK(tf_lookup_text(b, buf, rows, 2) == 1 && rows[0] == (uint64_t) r);
		CHECK(sb_slot_isnull(sb_bundle_info(b), sb_row_slot(b, r), 0));
	}
	CHECK_EQ(tf_lookup_text(b, "key -1", rows, 2), 0);
	sb_close(b);
}

/* Approximate bundles: keys not stored, found by hash, smaller file. */
void
test_approximate_mode(void)
{
	sb_build_stats sa,
				se;
	sb_bundle  *a = approx_bundle("approx.sb", true, &sa);
	sb_bundle  *e = approx_bundle("exact.sb", false, &se);

	if (a && e)
	{
		approx_check(a, e);
		CHECK(sa.file_size < se.file_size);
		CHECK_EQ(sa.indexed, 20000);
	}
	sb_close(a);
	sb_close(e);
	approx_text_key();
}

/* Key of row r in the text-key test: NULL, or one of 5000 strings. */
static bool
text_key(int r, char *buf, size_t size)
{
	if (r % 97 == 0)
		return false;
	snprintf(buf, size, "key-%d", (r * 7) % 5000);
	return true;
}

/* Build the text-key test bundle. */
static sb_bundle *
text_bundle(sb_build_stats *stats)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_text("k", true, 'i'), 1, SB_KEY_VARLENA),
		tf_col_int("r", 4)
	};
	const char *path = tf_path("text.sb");
	sb_writer_options o;
	sb_writer  *w;
	char		buf[32];

	tf_options(&o, path, cols, 2);
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < 20000; r++)
	{
		sb_writer_begin_row(w);
		if (text_key(r, buf, sizeof(buf)))
			tf_set_text(w, 0, buf);
		tf_set_int(w, 1, 4, r);
		tf_end_row(w);
	}
	return tf_finish(w, path, stats);
}

/* The rows holding "key-k": 7r = k (mod 5000), r not a multiple of 97. */
static int
text_rows(int k, uint64_t *rows)
{
	int			n = 0;

	if (k < 0 || k >= 5000)
		return 0;
	/* 2143 is the inverse of 7 modulo 5000 */
	for (int r = (k * 2143) % 5000; r < 20000; r += 5000)
		if (r % 97 != 0)
			rows[n++] = (uint64_t) r;
	return n;
}

/*
 * Check that 'lookup' finds the rows of every text key of text_bundle()
 * ('how' tells it apart in messages).
 */
static void
check_text_keys(sb_bundle *b, const char *how,
				int (*lookup) (sb_bundle *, const char *, uint64_t *, int))
{
	uint64_t	got[16],
				want[16];
	char		buf[32];

	for (int k = -10; k < 6000 && tf_failures() == 0; k++)
	{
		int			n,
					nw = text_rows(k, want);

		snprintf(buf, sizeof(buf), "key-%d", k);
		n = lookup(b, buf, got, 16);
		CHECKF(n == nw && memcmp(got, want, sizeof(uint64_t) * nw) == 0,
			   "\"%s\": %d rows%s, %d expected", buf, n, how, nw);
	}
}

/* Text keys with duplicates and NULLs: a lookup finds the right rows. */
void
test_text_key_lookups(void)
{
	sb_build_stats stats;
	sb_bundle  *b = text_bundle(&stats);

	REQUIRE(b != NULL);
	CHECK_EQ(stats.indexed, 20000 - 207);
	CHECK_EQ(stats.distinct_keys, 5000);
	check_text_keys(b, "", tf_lookup_text);
	sb_close(b);
}

/* Rows of a text key found in steps: the batched lookups' prefetch calls. */
static int
staged_lookup(sb_bundle *b, const char *key, uint64_t *rows, int max)
{
	sb_key_part part = {.data = key, .len = strlen(key)};
	sb_lookup	it;
	uint64_t	h,
				row;
	int			n = 0,
				r;

	if (!CHECK_ST(sb_key_hash(b, &part, &h, NULL), SB_OK, NULL))
		return -1;
	sb_lookup_prefetch(b, h);
	sb_lookup_start(b, &part, h, &it);
	sb_lookup_prefetch_row(b, &it);
	sb_lookup_prefetch_row(b, &it);	/* again: nothing changes */
	while ((r = sb_lookup_next(b, &it, &row, NULL)) == 1)
		if (n < max)
			rows[n++] = row;
	return r < 0 ? r : n;
}

/* Lookups taken in the batched steps find what plain lookups find. */
void
test_staged_lookups(void)
{
	sb_bundle  *b = text_bundle(NULL);

	REQUIRE(b != NULL);
	check_text_keys(b, " in steps", staged_lookup);
	sb_close(b);
}

/* Int8 keys r % 4000 of 8000 rows, all sharing 16 hash values. */
static void
collide_int(void *arg)
{
	sb_column	col = tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER);
	const char *path = tf_path("collide.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b;
	uint64_t	rows[4];

	(void) arg;
	tf_options(&o, path, &col, 1);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 8000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, (int64_t) (r % 4000) * 1000003);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, &stats)) != NULL);
	CHECKF(stats.distinct_keys <= 16, "%llu distinct hashes under the mask",
		   (unsigned long long) stats.distinct_keys);
	for (int k = 0; k < 4500 && tf_failures() == 0; k++)
	{
		int			n = tf_lookup_int(b, (int64_t) k * 1000003, rows, 4);

		if (k < 4000)
			CHECK(n == 2 && rows[0] == (uint64_t) k && rows[1] == (uint64_t) k + 4000);
		else
			CHECK_EQ(n, 0);
		CHECK_EQ(tf_lookup_int(b, (int64_t) k * 1000003 + 1, rows, 4), 0);
	}
	sb_close(b);
}

/* Composite (int4, text) keys under the mask. */
static void
collide_composite(void *arg)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("a", 4), 1, SB_KEY_INTEGER),
		tf_keyed(tf_col_text("b", true, 'i'), 2, SB_KEY_VARLENA)
	};
	const char *path = tf_path("collide2.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	char		buf[32];
	uint64_t	rows[4];

	(void) arg;
	tf_options(&o, path, cols, 2);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 2000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 4, r % 50);
		tf_set_text(w, 1, (snprintf(buf, sizeof(buf), "%d", r / 50), buf));
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	for (int r = 0; r < 2000 && tf_failures() == 0; r++)
	{
		sb_key_part p[2] = {{NULL, 0, r % 50}, {buf, 0, 0}};

		p[1].len = (size_t) snprintf(buf, sizeof(buf), "%d", r / 50);
		CHECK(tf_lookup(b, p, rows, 4) == 1 && rows[0] == (uint64_t) r);
		p[1].len = (size_t) snprintf(buf, sizeof(buf), "%d", r / 50 + 40);
		CHECK_EQ(tf_lookup(b, p, rows, 4), 0);
	}
	sb_close(b);
}

/* Hash collisions forced with the test seam. */
void
test_hash_collisions(void)
{
	const uint64_t mask = UINT64_C(0xF000000000000000);

	tf_with_hash_mask(mask, collide_int, NULL);
	CHECK_EQ(sb_test_hash_mask, UINT64_MAX);
	tf_with_hash_mask(mask, collide_composite, NULL);
	CHECK_EQ(sb_test_hash_mask, UINT64_MAX);
}
