/*-------------------------------------------------------------------------
 *
 * test_merge.c
 *	  Merge writers (sbmerge.c): a new bundle of a base bundle's rows, less
 *	  those dropped, then new rows, in the base's layout.  Plain, compact
 *	  and inline bases; text, two-column and fixed-length keys; merges of
 *	  merges; values the base's encodings cannot hold; the bases and calls
 *	  refused; damaged bases; merges that drop everything or nothing.
 *
 * Each test keeps a model of the rows a bundle should hold, made by the
 * generators below and never read back from a bundle, and checks every
 * row's values and every key's lookup against it.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdio.h>
#include <stdlib.h>

#define NBASE	3000			/* rows of a base */
#define KBASE	50000			/* its smallest key */
#define MCOLS	5
#define MAXDUP	16				/* most rows a key has in any model */

/* A row of the main schema: int8 key, int2, int4, hex text, random bytes. */
typedef struct mrow
{
	int64_t		k;
	int16_t		s;
	int32_t		n;
	uint32_t	hex;			/* ids of the two text values */
	uint32_t	odd;
	uint8_t		nulls;			/* bit c: column c is NULL */
} mrow;

/* The rows a bundle should hold, in order; keys sorted, for lookups. */
typedef struct model
{
	mrow	   *rows;
	int			n;
	int64_t    *keys;			/* (key, row) pairs of non-NULL keys */
	int			nkeys;
} model;

/* One merge: what it drops and what it writes. */
typedef struct step
{
	bool		(*drop_key) (int64_t k);	/* keys to drop, found by lookup */
	bool		(*drop_null) (int row);		/* NULL-key rows to drop */
	const mrow *add;
	int			nadd;
	bool		drop_last;		/* drop after writing the new rows */
	bool		small_budget;	/* the writer's smallest memory budget */
} step;

/* Short, repetitive hex text of id (symbol-coded when compact); some empty. */
static size_t
hex_value(uint32_t id, unsigned char *buf)
{
	uint64_t	s = (uint64_t) id * 7 + 1;
	size_t		len = id % 50 == 0 ? 0 : 20 + id % 40;

	for (size_t i = 0; i < len; i++)
		buf[i] = "0123456789abcdef"[tf_rand(&s) & 15];
	return len;
}

/* Random bytes of id, which no symbols shorten; a long value now and then. */
static size_t
odd_value(uint32_t id, unsigned char *buf)
{
	uint64_t	s = id;
	size_t		len = id % 97 == 5 ? 3000 : 64;

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char) tf_rand(&s);
	return len;
}

/* The main schema's columns. */
static void
main_columns(sb_column *cols)
{
	cols[0] = tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER);
	cols[1] = tf_col_int("s", 2);
	cols[2] = tf_col_int("n", 4);
	cols[3] = tf_col_text("hex", true, 'i');
	cols[4] = tf_col_text("odd", false, 'i');
}

/*
 * Row r of a base: keys from KBASE up, rows 8 and 9 of every ten sharing
 * one, a NULL key now and then; int2 in [-100, 99]; NULLs in each column.
 */
static mrow
base_row(int r)
{
	mrow		m = {KBASE + r - (r % 10 == 9), (int16_t) (r % 200 - 100),
	r * 3 - 1000, (uint32_t) r, (uint32_t) r, 0};

	m.nulls = (r % 97 == 13) | (r % 11 == 1) << 1 | (r % 29 == 5) << 2 |
		(r % 17 == 3) << 3 | (r % 23 == 4) << 4;
	return m;
}

/*
 * A new row of key k with values of id (at least 100000, so they differ
 * from the base's): its int2 reaches 155, the top of a compact base's
 * range, and its int4 stays within a compact base's range.
 */
static mrow
new_row(int64_t k, uint32_t id)
{
	mrow		m = {k, (int16_t) ((int) (id % 256) - 100),
	(int32_t) (id % 60000) - 1000, id, id + 7, 0};

	m.nulls = (id % 13 == 0) << 1 | (id % 19 == 0) << 2 | (id % 31 == 0) << 3 |
		(id % 37 == 0) << 4;
	return m;
}

/* Order (key, row) pairs, for qsort. */
static int
pair_order(const void *a, const void *b)
{
	const int64_t *x = a,
			   *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Sort the model's keys for lookups; false if out of memory. */
static bool
model_index(model *m)
{
	free(m->keys);
	m->nkeys = 0;
	if (!CHECK((m->keys = malloc(sizeof(int64_t) * 2 * (m->n + 1))) != NULL))
		return false;
	for (int i = 0; i < m->n; i++)
		if (!(m->rows[i].nulls & 1))
		{
			m->keys[2 * m->nkeys] = m->rows[i].k;
			m->keys[2 * m->nkeys++ + 1] = i;
		}
	qsort(m->keys, m->nkeys, 2 * sizeof(int64_t), pair_order);
	return true;
}

/* A model of the n base rows. */
static bool
model_base(model *m, int n)
{
	memset(m, 0, sizeof(*m));
	if (!CHECK((m->rows = malloc(sizeof(mrow) * (n + 1))) != NULL))
		return false;
	for (m->n = 0; m->n < n; m->n++)
		m->rows[m->n] = base_row(m->n);
	return model_index(m);
}

/* Release a model. */
static void
model_free(model *m)
{
	free(m->rows);
	free(m->keys);
	memset(m, 0, sizeof(*m));
}

/* Is row i of a model dropped by step s? */
static bool
dropped(const step *s, const mrow *r, int i)
{
	if (r->nulls & 1)
		return s->drop_null != NULL && s->drop_null(i);
	return s->drop_key != NULL && s->drop_key(r->k);
}

/* The model after step s: the rows it keeps, then the new ones. */
static bool
model_apply(model *m, const step *s)
{
	mrow	   *rows = malloc(sizeof(mrow) * (m->n + s->nadd + 1));
	int			n = 0;

	if (!CHECK(rows != NULL))
		return false;
	for (int i = 0; i < m->n; i++)
		if (!dropped(s, &m->rows[i], i))
			rows[n++] = m->rows[i];
	if (s->nadd > 0)
		memcpy(rows + n, s->add, sizeof(mrow) * s->nadd);
	free(m->rows);
	m->rows = rows;
	m->n = n + s->nadd;
	return model_index(m);
}

/* Write a model row with any writer, merging or not. */
static bool
write_row(sb_writer *w, const mrow *m)
{
	unsigned char buf[4096];
	bool		ok = true;

	sb_writer_begin_row(w);
	if (!(m->nulls & 1))
		ok &= tf_set_int(w, 0, 8, m->k);
	if (!(m->nulls & 2))
		ok &= tf_set_int(w, 1, 2, m->s);
	if (!(m->nulls & 4))
		ok &= tf_set_int(w, 2, 4, m->n);
	if (!(m->nulls & 8))
		ok &= tf_set_var(w, 3, buf, hex_value(m->hex, buf));
	if (!(m->nulls & 16))
		ok &= tf_set_var(w, 4, buf, odd_value(m->odd, buf));
	return ok && tf_end_row(w);
}

/* How a base is built: compact, its inline limit, its data alignment. */
typedef struct base_opts
{
	bool		compact;
	uint32_t	inline_limit;
	uint32_t	section_align;
} base_opts;

/* Build a base holding the model's rows with the normal writer. */
static sb_bundle *
build_base(const char *file, const model *m, const base_opts *bo)
{
	sb_column	cols[MCOLS];
	sb_writer_options o;
	sb_writer  *w;

	main_columns(cols);
	tf_options(&o, tf_path(file), cols, MCOLS);
	o.compact = bo->compact;
	o.inline_limit = bo->inline_limit;
	o.section_align = bo->section_align;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int i = 0; i < m->n; i++)
		if (!write_row(w, &m->rows[i]))
			break;
	return tf_finish(w, tf_path(file), NULL);
}

/* Does row r of a bundle hold model row m (each column, NULL or value)? */
static bool
row_is(sb_bundle *b, uint64_t r, const mrow *m)
{
	const unsigned char *slot = sb_row_slot(b, r);
	unsigned char buf[4096];
	bool		ok = true;

	for (int c = 0; c < MCOLS && ok; c++)
	{
		if ((m->nulls >> c) & 1)
			ok = CHECKF(sb_slot_isnull(sb_bundle_info(b), slot, c),
						"row %llu column %d is not NULL", (unsigned long long) r, c);
		else if (c < 3)
			ok = CHECKF(tf_get_int(b, r, c) == (c == 0 ? m->k : c == 1 ? m->s : m->n),
						"row %llu column %d differs", (unsigned long long) r, c);
		else if (c == 3)
			ok = tf_text_is(b, r, c, buf, hex_value(m->hex, buf));
		else
			ok = tf_text_is(b, r, c, buf, odd_value(m->odd, buf));
	}
	return ok;
}

/* Does a lookup of k find exactly the model's rows with key k, in order? */
static bool
key_finds(sb_bundle *b, const model *m, int64_t k)
{
	int64_t		probe[2] = {k, -1};
	const int64_t *at;
	uint64_t	rows[MAXDUP];
	int			want = 0,
				n = tf_lookup_int(b, k, rows, MAXDUP);
	size_t		lo = 0,
				hi = (size_t) m->nkeys;

	while (lo < hi)				/* the first pair not below (k, -1) */
	{
		size_t		mid = (lo + hi) / 2;

		if (pair_order(m->keys + 2 * mid, probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (at = m->keys + 2 * lo; lo + want < (size_t) m->nkeys && at[0] == k; at += 2)
	{
		if (!CHECKF(want < n && rows[want] == (uint64_t) at[1],
					"key %lld: match %d is row %llu, not %lld", (long long) k,
					want, (unsigned long long) rows[want % MAXDUP], (long long) at[1]))
			return false;
		want++;
	}
	return CHECKF(n == want, "key %lld: %d rows found, %d expected",
				  (long long) k, n, want);
}

/*
 * A bundle holds the model: its row count, every row, every key of the
 * model and of 'also' found exactly where the model has it.
 */
static bool
bundle_is(sb_bundle *b, const model *m, const model *also)
{
	bool		ok = CHECK_EQ(b->row_count, m->n);

	for (int i = 0; i < m->n && ok; i++)
		ok = row_is(b, i, &m->rows[i]);
	for (int i = 0; i < m->n && ok; i++)
		ok = key_finds(b, m, m->rows[i].k);
	for (int i = 0; also && i < also->n && ok; i++)
		ok = key_finds(b, m, also->rows[i].k);
	return ok && key_finds(b, m, KBASE - 1) && key_finds(b, m, INT64_MAX) &&
		key_finds(b, m, 0);
}

/* Drop the rows step s drops from a base holding model m. */
static bool
drop_rows(sb_writer *w, sb_bundle *base, const model *m, const step *s)
{
	sb_error	err;
	uint64_t	rows[MAXDUP];
	bool		ok = true;

	for (int i = 0; i < m->n && ok; i++)
	{
		int			n = 0;

		if (!dropped(s, &m->rows[i], i))
			continue;
		if (m->rows[i].nulls & 1)
			rows[n++] = (uint64_t) i;	/* by number: no key to look up */
		else
			ok = (n = tf_lookup_int(base, m->rows[i].k, rows, MAXDUP)) > 0 &&
				CHECK(n <= MAXDUP);
		for (int j = 0; j < n && ok; j++)
			ok = CHECK_ST(sb_writer_drop_base_row(w, rows[j], &err), SB_OK, &err);
	}
	return ok;
}

/*
 * A merge writer into 'base' of the main schema, output in 'file'; the
 * smallest memory budget if 'small' (the index sort spills).
 */
static sb_writer *
merge_writer(sb_bundle *base, const char *file, sb_column *cols, bool small)
{
	sb_writer_options o;

	main_columns(cols);
	tf_options(&o, tf_path(file), cols, MCOLS);
	o.base = base;
	if (small)
		o.memory_budget = 0;
	return tf_create(&o);
}

/* The layout of a merged bundle is its base's. */
static bool
same_layout(sb_bundle *a, sb_bundle *b)
{
	bool		ok = CHECK_EQ(a->major, b->major) & CHECK_EQ(a->row_size, b->row_size) &
		CHECK_EQ(a->nsections, b->nsections) & CHECK_EQ(a->hash_seed, b->hash_seed);

	for (int c = 0; c < a->ncolumns && ok; c++)
		ok = CHECK_EQ(a->slot_offsets[c], b->slot_offsets[c]) &
			CHECK_EQ(a->encodings[c].kind, b->encodings[c].kind) &
			CHECK_EQ(a->encodings[c].width, b->encodings[c].width) &
			CHECK_EQ(a->encodings[c].base, b->encodings[c].base) &
			CHECK_EQ(a->encodings[c].nsymbols, b->encodings[c].nsymbols);
	return ok;
}

/* A copy of a model; false if out of memory. */
static bool
model_copy(model *dst, const model *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!CHECK((dst->rows = malloc(sizeof(mrow) * (src->n + 1))) != NULL))
		return false;
	memcpy(dst->rows, src->rows, sizeof(mrow) * src->n);
	dst->n = src->n;
	return model_index(dst);
}

/* Drop and write what step s does with a merge writer into 'base'. */
static bool
merge_rows(sb_writer *w, sb_bundle *base, const model *m, const step *s)
{
	bool		ok = true;

	if (!s->drop_last)
		ok = drop_rows(w, base, m, s);
	for (int i = 0; i < s->nadd && ok; i++)
		ok = write_row(w, &s->add[i]);
	if (ok && s->drop_last)
		ok = drop_rows(w, base, m, s);
	return ok;
}

/*
 * Merge step s into 'base' (holding *m) as 'file'; *m becomes what the
 * result should hold.  Returns the result, opened, verified and checked
 * against the model (NULL, with a failed check, if it is not right).
 */
static sb_bundle *
merge_step(sb_bundle *base, const char *file, model *m, const step *s)
{
	sb_column	cols[MCOLS];
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b = NULL;
	model		old;
	bool		ok;

	if (!model_copy(&old, m))
		return NULL;
	memset(&stats, 0, sizeof(stats));
	if ((w = merge_writer(base, file, cols, s->small_budget)) != NULL &&
		merge_rows(w, base, m, s))
		b = tf_finish(w, tf_path(file), &stats);
	else
		sb_writer_free(w);
	ok = b != NULL && model_apply(m, s) &&
		(CHECK_EQ(stats.rows, m->n) & CHECK_EQ(stats.indexed, m->nkeys)) &&
		same_layout(base, b) && bundle_is(b, m, &old);
	model_free(&old);
	if (!ok && b != NULL)
		sb_close(b);
	return ok ? b : NULL;
}

/* Keys and NULL-key rows the merges drop. */
static bool
drop_mod5(int64_t k)
{
	return k % 5 == 2;
}

static bool
drop_mod7(int64_t k)
{
	return k % 7 == 3;
}

static bool
drop_mod3(int64_t k)
{
	return k % 3 == 1;
}

static bool
drop_even(int row)
{
	return row % 2 == 0;
}

static bool
drop_third(int row)
{
	return row % 3 == 0;
}

/*
 * New rows for a merge that drops the keys drop_key() picks from a
 * bundle holding m: one or two for some dropped keys, one for some kept
 * keys (a key of several rows), then 'fresh' rows of new keys from newk
 * on, every 50th with a NULL key; values of ids from id on.  'add' has
 * room for 2 * m->nkeys + fresh rows; returns how many.
 */
static int
make_adds(const model *m, bool (*drop_key) (int64_t), uint32_t id,
		  int64_t newk, int fresh, mrow *add)
{
	int			n = 0;

	for (int i = 0; i < m->nkeys; i++)
	{
		int64_t		k = m->keys[2 * i];

		if (i > 0 && m->keys[2 * i - 2] == k)
			continue;			/* each key once */
		if (drop_key(k) ? k % 3 == 0 : k % 11 == 0)
			add[n++] = new_row(k, id++);
		if (drop_key(k) && k % 6 == 0)
			add[n++] = new_row(k, id++);
	}
	for (int j = 0; j < fresh; j++, n++)
	{
		add[n] = new_row(newk + j, id++);
		add[n].nulls |= j % 50 == 0;
	}
	return n;
}

/* Room for the new rows make_adds() makes. */
static mrow *
alloc_adds(const model *m, int fresh)
{
	mrow	   *add = malloc(sizeof(mrow) * (2 * m->nkeys + fresh + 1));

	CHECK(add != NULL);
	return add;
}

/*
 * Build a base of n rows and check it against its model; NULL (the model
 * freed) if it is not right.
 */
static sb_bundle *
checked_base(const char *file, model *m, int n, const base_opts *bo)
{
	sb_bundle  *b = NULL;

	if (model_base(m, n) && (b = build_base(file, m, bo)) != NULL &&
		!bundle_is(b, m, NULL))
	{
		sb_close(b);
		b = NULL;
	}
	if (b == NULL)
		model_free(m);
	return b;
}

/* Smallest and largest non-NULL value of integer column c of a model. */
static void
model_range(const model *m, int c, int64_t *lo, int64_t *hi)
{
	*lo = INT64_MAX;
	*hi = INT64_MIN;
	for (int i = 0; i < m->n; i++)
	{
		const mrow *r = &m->rows[i];
		int64_t		v = c == 0 ? r->k : c == 1 ? r->s : r->n;

		if (!((r->nulls >> c) & 1))
		{
			*lo = v < *lo ? v : *lo;
			*hi = v > *hi ? v : *hi;
		}
	}
}

/* Bytes an offset of a range needs (the writer's rule, format.md 19.3). */
static int
range_width(int64_t lo, int64_t hi)
{
	uint64_t	d = (uint64_t) hi - (uint64_t) lo;
	int			n = 1;

	while (n < 8 && (d >> (8 * n)) != 0)
		n++;
	return n;
}

/*
 * The encodings of a base of model m: compact, its integers as offsets
 * from their minimum, its hex text symbol-coded, its random text in
 * 4-byte references; otherwise none.
 */
static bool
base_encodings(sb_bundle *b, const model *m, bool compact)
{
	const sb_encoding *e = sb_bundle_info(b)->encodings;
	bool		ok = true;

	for (int c = 0; c < 3 && ok; c++)
	{
		int64_t		lo,
					hi;

		model_range(m, c, &lo, &hi);
		ok = CHECK_EQ(e[c].kind, compact ? SB_ENC_OFFSET : SB_ENC_NONE) &&
			(!compact || (CHECK_EQ(e[c].base, lo) & CHECK_EQ(e[c].width, range_width(lo, hi))));
	}
	return ok && CHECK_EQ(e[3].kind, compact ? SB_ENC_SYMBOLS : SB_ENC_NONE) &
		CHECK_EQ(e[3].width, compact ? 4 : 8) & CHECK_EQ(e[4].kind, SB_ENC_NONE) &
		CHECK_EQ(e[4].width, compact ? 4 : 8);
}

/* The new rows' text of a merged bundle is coded as the base codes it. */
static bool
new_values_coded(sb_bundle *b, const model *m, int first)
{
	bool		ok = true;

	for (int r = first; r < m->n && ok; r++)
		for (int c = 3; c < MCOLS && ok; c++)
		{
			sb_value	v;

			if (!((m->rows[r].nulls >> c) & 1))
				ok = tf_get_var(b, r, c, &v) &&
					CHECK_EQ(v.encoded, b->encodings[c].kind == SB_ENC_SYMBOLS);
		}
	return ok;
}

/*
 * A merge into a base, compact or not: drop keys (rows of one or two
 * each) and NULL-key rows, replace some dropped keys by one or two rows,
 * add rows to kept keys and new keys.
 */
static void
round_trip(bool compact)
{
	base_opts	bo = {compact, tf_inline_limit, 0};
	model		m;
	sb_bundle  *base,
			   *b;
	mrow	   *add;
	step		s = {drop_mod5, drop_even, NULL, 0, false, false};

	REQUIRE((base = checked_base("base.sb", &m, NBASE, &bo)) != NULL);
	CHECK(base_encodings(base, &m, compact));
	REQUIRE((add = alloc_adds(&m, 200)) != NULL);
	s.add = add;
	s.nadd = make_adds(&m, drop_mod5, 100000, KBASE + NBASE, 200, add);
	CHECK(s.nadd > 600);
	if ((b = merge_step(base, "merged.sb", &m, &s)) != NULL)
	{
		CHECK(new_values_coded(b, &m, m.n - s.nadd));
		sb_close(b);
	}
	CHECK(tf_failures() == 0 && b != NULL);
	free(add);
	model_free(&m);
	sb_close(base);
	remove(tf_path("base.sb"));
	remove(tf_path("merged.sb"));
}

/* Rows dropped, replaced and added, in a plain and a compact base. */
void
test_merge_round_trip(void)
{
	round_trip(false);
	round_trip(true);
}

/* How many of rows [from, to) of a bundle hold a value inside their slot. */
static int
rows_inline(sb_bundle *b, const model *m, int from, int to)
{
	int			n = 0;

	for (int r = from; r < to; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);
		bool		any = false;

		for (int c = 3; c < MCOLS; c++)
		{
			sb_value	v;

			if (!((m->rows[r].nulls >> c) & 1) && tf_get_var(b, r, c, &v))
				any |= v.ptr >= slot && v.ptr < slot + b->row_size;
		}
		n += any;
	}
	return n;
}

/*
 * A base whose slots hold short values (an inline area), plain and
 * compact: kept rows keep their values in their slots, new rows' values
 * go to the heap, and all read back.
 */
void
test_merge_inline(void)
{
	for (int compact = 0; compact < 2; compact++)
	{
		base_opts	bo = {compact, 256, 0};
		model		m;
		sb_bundle  *base,
				   *b;
		mrow	   *add;
		step		s = {drop_mod5, drop_even, NULL, 0, false, false};
		int			kept;

		REQUIRE((base = checked_base("ibase.sb", &m, NBASE, &bo)) != NULL);
		CHECK(rows_inline(base, &m, 0, m.n) > NBASE / 2);
		REQUIRE((add = alloc_adds(&m, 100)) != NULL);
		s.add = add;
		s.nadd = make_adds(&m, drop_mod5, 100000, KBASE + NBASE, 100, add);
		if ((b = merge_step(base, "imerged.sb", &m, &s)) != NULL)
		{
			kept = m.n - s.nadd;
			CHECK(rows_inline(b, &m, 0, kept) > kept / 2);
			CHECK_EQ(rows_inline(b, &m, kept, m.n), 0);
			sb_close(b);
		}
		CHECK(b != NULL);
		free(add);
		model_free(&m);
		sb_close(base);
		remove(tf_path("ibase.sb"));
		remove(tf_path("imerged.sb"));
	}
}

/*
 * Key schemas of the key tests: a text key; an int4 and a text; a
 * 16-byte fixed-length key and an int4.  Columns u (16 bytes), a (int4),
 * t (text), v (int8), set in that order.
 */
enum
{
	KEY_TEXT, KEY_INT_TEXT, KEY_BYTES_INT, NKEYKINDS
};

/* A row of the key tests: u and t from id t (NULL if t is 0). */
typedef struct krow
{
	int32_t		a;
	uint32_t	t;
	int64_t		v;
} krow;

/* The columns of a key schema. */
static void
key_columns(int kind, sb_column *cols)
{
	cols[0] = tf_col("u", "pg_catalog.uuid", 16, false, 'c');
	cols[1] = tf_col_int("a", 4);
	cols[2] = tf_col_text("t", true, 'i');
	cols[3] = tf_col_int("v", 8);
	if (kind == KEY_TEXT)
		cols[2] = tf_keyed(cols[2], 1, SB_KEY_VARLENA);
	else if (kind == KEY_INT_TEXT)
	{
		cols[1] = tf_keyed(cols[1], 1, SB_KEY_INTEGER);
		cols[2] = tf_keyed(cols[2], 2, SB_KEY_VARLENA);
	}
	else
	{
		cols[0] = tf_keyed(cols[0], 1, SB_KEY_BYTES);
		cols[1] = tf_keyed(cols[1], 2, SB_KEY_INTEGER);
	}
}

/* The text (hex digits, symbol-coded when compact) and bytes of id t. */
static size_t
key_text(uint32_t t, char *buf, unsigned char *u)
{
	uint64_t	s = t;
	size_t		len = 12 + t % 20;

	for (size_t i = 0; i < len; i++)
		buf[i] = "0123456789abcdef"[tf_rand(&s) & 15];
	for (int i = 0; i < 16; i++)
		u[i] = (unsigned char) tf_rand(&s);
	return len;
}

/* Write a key-test row with any writer. */
static bool
key_write(sb_writer *w, const krow *r)
{
	char		text[64];
	unsigned char u[16];
	size_t		len = key_text(r->t, text, u);
	bool		ok;

	sb_writer_begin_row(w);
	ok = r->t == 0 || tf_set_fixed(w, 0, u);
	ok = ok && tf_set_int(w, 1, 4, r->a) && (r->t == 0 || tf_set_var(w, 2, text, len));
	return ok && tf_set_int(w, 3, 8, r->v) && tf_end_row(w);
}

/* Do two key-test rows have one key (NULL keys are no key)? */
static bool
key_same(int kind, const krow *x, const krow *y)
{
	return x->t != 0 && x->t == y->t && (kind == KEY_TEXT || x->a == y->a);
}

/* Look up the key of row r: store up to MAXDUP rows, return how many. */
static int
key_lookup(sb_bundle *b, int kind, const krow *r, uint64_t *rows)
{
	char		text[64];
	unsigned char u[16];
	size_t		len = key_text(r->t, text, u);
	sb_key_part p[2] = {{text, len, 0}, {NULL, 0, 0}};

	if (kind == KEY_INT_TEXT)
	{
		p[1] = p[0];
		p[0] = (sb_key_part) {NULL, 0, r->a};
	}
	else if (kind == KEY_BYTES_INT)
	{
		p[0] = (sb_key_part) {u, 16, 0};
		p[1] = (sb_key_part) {NULL, 0, r->a};
	}
	return tf_lookup(b, p, rows, MAXDUP);
}

/* A lookup of the key of 'probe' finds exactly the rows of m with it. */
static bool
key_probe(sb_bundle *b, int kind, const krow *m, int n, const krow *probe)
{
	uint64_t	rows[MAXDUP];
	int			found = key_lookup(b, kind, probe, rows),
				want = 0;

	for (int i = 0; i < n && found >= 0; i++)
		if (key_same(kind, &m[i], probe))
		{
			if (!CHECKF(want < found && rows[want] == (uint64_t) i,
						"key %u/%d: match %d is not row %d", probe->t,
						probe->a, want, i))
				return false;
			want++;
		}
	return CHECKF(found == want, "key %u/%d: %d rows found, %d expected",
				  probe->t, probe->a, found, want);
}

/* Row r of a key-test bundle holds m (u and t NULL when m->t is 0). */
static bool
key_row_is(sb_bundle *b, uint64_t r, const krow *m)
{
	const unsigned char *slot = sb_row_slot(b, r);
	char		text[64];
	unsigned char u[16];
	size_t		len = key_text(m->t, text, u);
	sb_value	v;
	sb_error	err;

	if (!CHECK_EQ(tf_get_int(b, r, 1), m->a) || !CHECK_EQ(tf_get_int(b, r, 3), m->v))
		return false;
	if (m->t == 0)
		return CHECK(sb_slot_isnull(sb_bundle_info(b), slot, 0) &&
					 sb_slot_isnull(sb_bundle_info(b), slot, 2));
	return CHECK_ST(sb_slot_value(b, slot, 0, &v, &err), SB_OK, &err) &&
		CHECK(v.len == 16 && memcmp(v.ptr, u, 16) == 0) &&
		tf_text_is(b, r, 2, text, len);
}

/* A key-test bundle holds the n rows m; keys of m and 'also' look up right. */
static bool
key_bundle_is(sb_bundle *b, int kind, const krow *m, int n,
			  const krow *also, int nalso)
{
	bool		ok = CHECK_EQ(b->row_count, n);

	for (int i = 0; i < n && ok; i++)
		ok = key_row_is(b, i, &m[i]);
	for (int i = 0; i < n && ok; i++)
		ok = key_probe(b, kind, m, n, &m[i]);
	for (int i = 0; i < nalso && ok; i++)
		ok = key_probe(b, kind, m, n, &also[i]);
	return ok;
}

#define NKEYROWS	2000

/* Build a key-test bundle of the n rows m, with the normal writer. */
static sb_bundle *
key_build(const char *file, int kind, bool compact, const krow *m, int n)
{
	sb_column	cols[4];
	sb_writer_options o;
	sb_writer  *w;

	key_columns(kind, cols);
	tf_options(&o, tf_path(file), cols, 4);
	o.compact = compact;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
		if (!key_write(w, &m[i]))
			break;
	return tf_finish(w, tf_path(file), NULL);
}

/* Is row i (of m) dropped by the key merges? */
static bool
key_dropped(const krow *m, int i)
{
	return m[i].t == 0 ? i % 2 == 0 : m[i].t % 4 == 1;
}

/*
 * The rows after a merge into a bundle of the n rows m: those kept, then
 * one for each dropped row with t % 8 == 1 and each kept one with
 * t % 9 == 0 (same key, new v), then 150 of new keys and one NULL key.
 * 'out' has room for 2n + 151 rows; returns how many, and the first new.
 */
static int
key_after(const krow *m, int n, krow *out, int *first)
{
	int			k = 0,
				v = 10 * NKEYROWS;	/* within a compact base's offsets */

	for (int i = 0; i < n; i++)
		if (!key_dropped(m, i))
			out[k++] = m[i];
	*first = k;
	for (int i = 0; i < n; i++)
		if (m[i].t != 0 && (key_dropped(m, i) ? m[i].t % 8 == 1 : m[i].t % 9 == 0))
			out[k++] = (krow) {m[i].a, m[i].t, v++};
	for (int j = 0; j <= 150; j++)
		out[k++] = (krow) {j % 4, j < 150 ? 100000 + (uint32_t) j : 0, v++};
	return k;
}

/* Merge into a key-test bundle as key_after says, dropping by lookup. */
static sb_bundle *
key_merge(sb_bundle *base, int kind, const krow *m, int n,
		  const krow *after, int first, int nafter)
{
	sb_column	cols[4];
	sb_writer_options o;
	sb_writer  *w;
	sb_error	err;
	uint64_t	rows[MAXDUP];
	bool		ok;

	key_columns(kind, cols);
	tf_options(&o, tf_path("kmerged.sb"), cols, 4);
	o.base = base;
	ok = (w = tf_create(&o)) != NULL;
	for (int i = 0; i < n && ok; i++)
	{
		int			found = m[i].t == 0 ? 1 : key_lookup(base, kind, &m[i], rows);

		if (m[i].t == 0)
			rows[0] = (uint64_t) i;
		for (int j = 0; key_dropped(m, i) && j < found && ok; j++)
			ok = CHECK_ST(sb_writer_drop_base_row(w, rows[j], &err), SB_OK, &err);
	}
	for (int i = first; i < nafter && ok; i++)
		ok = key_write(w, &after[i]);
	if (ok)
		return tf_finish(w, tf_path("kmerged.sb"), NULL);
	sb_writer_free(w);
	return NULL;
}

/*
 * The compact encodings of a key-test bundle: the int4 (0 to 3) in
 * 1-byte offsets, the text symbol-coded, the 16 bytes as they are.
 */
static bool
key_encodings(sb_bundle *b)
{
	const sb_encoding *e = sb_bundle_info(b)->encodings;

	return CHECK_EQ(e[0].kind, SB_ENC_NONE) & CHECK_EQ(e[1].kind, SB_ENC_OFFSET) &
		CHECK_EQ(e[1].width, 1) & CHECK_EQ(e[1].base, 0) &
		CHECK_EQ(e[2].kind, SB_ENC_SYMBOLS);
}

/* One key schema, plain or compact: build, merge, check both. */
static void
key_case(int kind, bool compact)
{
	krow	   *m = malloc(sizeof(krow) * NKEYROWS),
			   *after = malloc(sizeof(krow) * (2 * NKEYROWS + 151));
	sb_bundle  *base = NULL,
			   *b = NULL;
	int			first,
				n;

	if (!CHECK(m != NULL && after != NULL))
		goto done;
	for (int r = 0; r < NKEYROWS; r++)
		m[r] = (krow) {r % 4, r % 211 == 7 ? 0 : 1 + (uint32_t) r / 3, r};
	n = key_after(m, NKEYROWS, after, &first);
	if ((base = key_build("kbase.sb", kind, compact, m, NKEYROWS)) == NULL ||
		!key_bundle_is(base, kind, m, NKEYROWS, NULL, 0) ||
		(compact && !key_encodings(base)))
		goto done;
	if (CHECKF((b = key_merge(base, kind, m, NKEYROWS, after, first, n)) != NULL,
			   "key kind %d, compact %d", kind, compact))
		CHECKF(key_bundle_is(b, kind, after, n, m, NKEYROWS) && same_layout(base, b),
			   "key kind %d, compact %d", kind, compact);
done:
	sb_close(b);
	sb_close(base);
	free(m);
	free(after);
	remove(tf_path("kbase.sb"));
	remove(tf_path("kmerged.sb"));
}

/*
 * Keys other than one integer, plain and compact: a text key (symbol-
 * coded), an int4 and a text, a 16-byte key and an int4.
 */
void
test_merge_keys(void)
{
	for (int kind = 0; kind < NKEYKINDS; kind++)
		for (int compact = 0; compact < 2; compact++)
			key_case(kind, compact);
}

/*
 * Merge into a merged bundle, twice, plain and compact: the second merge
 * drops rows (some of them new in the first) after writing its rows, the
 * third drops keys of all three generations.
 */
void
test_merge_of_merges(void)
{
	static bool (*const drops[3]) (int64_t) = {drop_mod5, drop_mod7, drop_mod3};
	static bool (*const null_drops[3]) (int) = {drop_even, drop_third, NULL};

	for (int compact = 0; compact < 2; compact++)
	{
		base_opts	bo = {compact, tf_inline_limit, 0};
		sb_bundle  *b[4] = {NULL, NULL, NULL, NULL};
		const char *files[4] = {"g0.sb", "g1.sb", "g2.sb", "g3.sb"};
		model		m;

		REQUIRE((b[0] = checked_base(files[0], &m, NBASE, &bo)) != NULL);
		for (int g = 0; g < 3 && b[g] != NULL; g++)
		{
			mrow	   *add = alloc_adds(&m, 150);
			step		s = {drops[g], null_drops[g], add, 0, g == 1, false};

			if (add == NULL)
				break;
			s.nadd = make_adds(&m, drops[g], 100000 * (g + 1),
							   KBASE + 10000 * (g + 1), 150, add);
			CHECKF((b[g + 1] = merge_step(b[g], files[g + 1], &m, &s)) != NULL,
				   "generation %d, compact %d", g + 1, compact);
			free(add);
		}
		for (int g = 0; g < 4; g++)
			sb_close(b[g]);
		model_free(&m);
		for (int g = 0; g < 4; g++)
			remove(tf_path(files[g]));
	}
}

/* Set column c (2, 4 or 8 bytes wide) of a new row; expect 'want'. */
static void
expect_value(sb_bundle *base, int c, int width, int64_t v, sb_status want)
{
	const char *path = tf_path("limit.sb");
	sb_column	cols[MCOLS];
	sb_writer  *w = merge_writer(base, "limit.sb", cols, false);
	sb_bundle  *b;
	sb_error	err;
	unsigned char img[8];
	int16_t		v2 = (int16_t) v;
	int32_t		v4 = (int32_t) v;

	REQUIRE(w != NULL);
	memcpy(img, width == 2 ? (void *) &v2 : width == 4 ? (void *) &v4 : (void *) &v, width);
	sb_writer_begin_row(w);
	if (!CHECKF(sb_writer_set_fixed(w, c, img, &err) == want,
				"column %d, value %lld: %s", c, (long long) v, err.detail) ||
		want != SB_OK)
	{
		/* the writer is poisoned: it cannot finish, its file goes */
		CHECK_ST(sb_writer_end_row(w, &err), SB_ERR_STATE, &err);
		CHECK_ST(sb_writer_finish(w, NULL, &err), SB_ERR_STATE, &err);
		CHECK(tf_exists(path));
		sb_writer_free(w);
		CHECK(!tf_exists(path));
		return;
	}
	CHECK(tf_end_row(w));
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	CHECK_EQ(tf_get_int(b, b->row_count - 1, c), v);
	sb_close(b);
	remove(path);
}

/*
 * The values a compact base's offsets can hold, at both ends, and those
 * just beyond, which fail with SB_ERR_LIMIT; a plain base takes any.
 */
void
test_merge_limits(void)
{
	static const int widths[3] = {8, 2, 4};

	for (int compact = 0; compact < 2; compact++)
	{
		base_opts	bo = {compact, tf_inline_limit, 0};
		model		m;
		sb_bundle  *base;

		REQUIRE((base = checked_base("lbase.sb", &m, NBASE, &bo)) != NULL);
		CHECK(base_encodings(base, &m, compact));
		for (int c = 0; c < 3; c++)
		{
			int			bits = 8 * widths[c];
			int64_t		tmin = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1)),
						tmax = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1,
						lo,
						hi;

			model_range(&m, c, &lo, &hi);
			hi = lo + (INT64_C(1) << (8 * range_width(lo, hi))) - 1;
			expect_value(base, c, widths[c], compact ? lo : tmin, SB_OK);
			expect_value(base, c, widths[c], compact ? hi : tmax, SB_OK);
			if (!compact)
				continue;
			expect_value(base, c, widths[c], lo - 1, SB_ERR_LIMIT);
			expect_value(base, c, widths[c], hi + 1, SB_ERR_LIMIT);
			expect_value(base, c, widths[c], c == 0 ? tmin : tmax, SB_ERR_LIMIT);
		}
		model_free(&m);
		sb_close(base);
		remove(tf_path("lbase.sb"));
	}
}

/* Build a small bundle of two columns that a merge cannot start from. */
static sb_bundle *
unmergeable(const char *file, bool hashed)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_text("t", true, 'i'),
	};
	sb_writer_options o;
	sb_writer  *w;
	sb_error	err;

	if (hashed)
		cols[1] = tf_keyed(cols[1], 2, SB_KEY_HASHED);
	tf_options(&o, tf_path(file), cols, 2);
	o.approximate = !hashed;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < 100; r++)
	{
		sb_writer_begin_row(w);
		if (!tf_set_int(w, 0, 8, r) || !tf_set_text(w, 1, "x") ||
			(hashed && !CHECK_ST(sb_writer_set_key_hash(w, 1, 7, &err), SB_OK, &err)) ||
			!tf_end_row(w))
			break;
	}
	return tf_finish(w, tf_path(file), NULL);
}

/*
 * A base refused for options o: by sb_merge_check and by
 * sb_writer_create, which leaves no file.
 */
static void
expect_refused(sb_bundle *base, sb_writer_options *o, const char *what)
{
	sb_writer  *w = NULL;
	sb_error	err;

	o->base = base;
	CHECKF(sb_merge_check(base, o, &err) == SB_ERR_UNSUPPORTED, "%s: not refused", what);
	CHECKF(sb_writer_create(o, &w, &err) == SB_ERR_UNSUPPORTED && w == NULL,
		   "%s: writer created", what);
	CHECKF(!tf_exists(o->path), "%s: output file left", what);
	sb_writer_free(w);
}

/* Approximate and hashed-key bases are refused. */
static void
refuse_bases(void)
{
	sb_bundle  *b;
	sb_writer_options o;

	REQUIRE((b = unmergeable("approx.sb", false)) != NULL);
	CHECK(sb_bundle_info(b)->approximate);
	tf_options(&o, tf_path("out.sb"), b->columns, b->ncolumns);
	expect_refused(b, &o, "approximate base");
	sb_close(b);
	REQUIRE((b = unmergeable("hashed.sb", true)) != NULL);
	CHECK_EQ(b->major, 4);
	tf_options(&o, tf_path("out.sb"), b->columns, b->ncolumns);
	expect_refused(b, &o, "hashed-key base");
	sb_close(b);
}

/* Columns other than the base's are refused; the base's own are not. */
static void
refuse_columns(sb_bundle *base)
{
	sb_column	cols[MCOLS];
	sb_writer_options o;
	sb_error	err;

	main_columns(cols);
	tf_options(&o, tf_path("out.sb"), cols, MCOLS);
	o.base = base;
	CHECK_ST(sb_merge_check(base, &o, &err), SB_OK, &err);
	o.ncolumns = MCOLS - 1;
	expect_refused(base, &o, "one column fewer");
	o.ncolumns = MCOLS;
	cols[2] = tf_col_int("n", 8);
	expect_refused(base, &o, "int8 for int4");
	cols[2] = tf_col_float("n", 4);
	expect_refused(base, &o, "float4 for int4");
	main_columns(cols);
	cols[0] = tf_col_int("k", 8);
	expect_refused(base, &o, "no key");
	main_columns(cols);
	cols[3].flags = 0;
	expect_refused(base, &o, "no short headers");
	main_columns(cols);
	cols[4].typalign = 'd';
	expect_refused(base, &o, "another alignment");
}

/*
 * Dropping rows: only in a merge, only rows of the base, before the merge
 * finishes; a row dropped twice is dropped once.
 */
static void
refuse_drops(sb_bundle *base)
{
	static const uint64_t drops[6] = {1, NBASE - 1, 0, 1, 2, 0};
	sb_column	cols[MCOLS];
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b;
	sb_error	err;
	model		m;

	main_columns(cols);
	tf_options(&o, tf_path("plain.sb"), cols, MCOLS);
	REQUIRE((w = tf_create(&o)) != NULL);
	CHECK_ST(sb_writer_drop_base_row(w, 0, &err), SB_ERR_STATE, &err);
	sb_writer_free(w);
	REQUIRE((w = merge_writer(base, "twice.sb", cols, false)) != NULL);
	CHECK_ST(sb_writer_drop_base_row(w, NBASE, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_drop_base_row(w, UINT64_MAX, &err), SB_ERR_INVALID, &err);
	for (int i = 0; i < 6; i++)
		CHECK_ST(sb_writer_drop_base_row(w, drops[i], &err), SB_OK, &err);
	CHECK_ST(sb_writer_finish(w, &stats, &err), SB_OK, &err);
	CHECK_EQ(stats.rows, NBASE - 4);
	CHECK_ST(sb_writer_drop_base_row(w, 5, &err), SB_ERR_STATE, &err);
	sb_writer_free(w);
	REQUIRE(model_base(&m, NBASE));
	memmove(m.rows, m.rows + 3, sizeof(mrow) * (NBASE - 4));
	m.n = NBASE - 4;
	if (model_index(&m) && (b = tf_open(tf_path("twice.sb"))) != NULL)
	{
		CHECK(bundle_is(b, &m, NULL));
		sb_close(b);
	}
	model_free(&m);
}

/*
 * The bases and calls a merge refuses: approximate and hashed-key bases,
 * other columns, drops in other writers and of rows the base lacks.
 */
void
test_merge_refusals(void)
{
	base_opts	bo = {true, tf_inline_limit, 0};
	model		m;
	sb_bundle  *base;

	refuse_bases();
	REQUIRE((base = checked_base("rbase.sb", &m, NBASE, &bo)) != NULL);
	refuse_columns(base);
	refuse_drops(base);
	model_free(&m);
	sb_close(base);
}

/*
 * Open a copy of a bundle image with the byte at 'at' flipped (none if
 * 'at' is past the end) and its section checksums recomputed: it opens,
 * its block checksums no longer match.  The caller frees *copy.
 */
static sb_bundle *
damaged_copy(const unsigned char *img, size_t len, uint64_t at,
			 unsigned char **copy)
{
	sb_bundle  *b = NULL;
	sb_error	err;

	if (!CHECK((*copy = malloc(len)) != NULL))
		return NULL;
	memcpy(*copy, img, len);
	if (at < len)
		(*copy)[at] ^= 0x5A;
	tf_fix_section_checksums(*copy, len);
	CHECK_ST(sb_open_memory(*copy, len, &b, &err), SB_OK, &err);
	return b;
}

/*
 * Merge into the image damaged at 'at', adding a row and dropping row 3
 * if 'drop': expect 'at_create' from sb_writer_create and, if that
 * succeeds, 'at_finish' from sb_writer_finish; no file is left unless
 * both succeed.  A merged file verifies unless the damage is 'carried':
 * a heap block the merge copies keeps its damage and its checksum.
 */
static void
expect_damage(const unsigned char *img, size_t len, uint64_t at, bool drop,
			  sb_status at_create, sb_status at_finish, bool carried,
			  const char *what)
{
	unsigned char *copy = NULL;
	sb_bundle  *b = damaged_copy(img, len, at, &copy);
	mrow		r = new_row(KBASE + 1, 100001);
	sb_column	cols[MCOLS];
	sb_writer_options o;
	sb_writer  *w = NULL;
	sb_error	err;
	sb_status	st = SB_OK;

	main_columns(cols);
	tf_options(&o, tf_path("dmerged.sb"), cols, MCOLS);
	o.base = b;
	if (b != NULL &&
		CHECKF((st = sb_writer_create(&o, &w, &err)) == at_create,
			   "%s: create gives %s (%s)", what, sb_status_name(st), err.detail) &&
		st == SB_OK)
	{
		CHECK(!drop || CHECK_ST(sb_writer_drop_base_row(w, 3, &err), SB_OK, &err));
		CHECK(write_row(w, &r));
		st = sb_writer_finish(w, NULL, &err);
		CHECKF(st == at_finish, "%s: finish gives %s (%s)", what,
			   sb_status_name(st), err.detail);
	}
	sb_writer_free(w);
	CHECKF(tf_exists(o.path) == (b != NULL && st == SB_OK), "%s: output file %s",
		   what, st == SB_OK ? "missing" : "left");
	if (b != NULL && st == SB_OK)
	{
		sb_bundle  *merged;

		if (CHECK_ST(sb_open(o.path, &merged, &err), SB_OK, &err))
		{
			st = sb_verify(merged, &err);
			CHECKF(st == (carried ? SB_ERR_CHECKSUM : SB_OK),
				   "%s: the merged file's verify gives %s (%s)", what,
				   sb_status_name(st), err.detail);
			sb_close(merged);
		}
	}
	remove(o.path);
	sb_close(b);
	free(copy);
}

/*
 * A damaged base, plain and compact: a flipped byte of a heap block the
 * merge copies stays, with the block's old checksum, so that the merged
 * file fails to verify as the base did; one of the heap's last, partial
 * block (which new values join) or of a row slot (kept or dropped) fails
 * the merge at finish with SB_ERR_CHECKSUM, rather than giving a file
 * with fresh checksums.
 */
void
test_merge_damaged_base(void)
{
	for (int compact = 0; compact < 2; compact++)
	{
		base_opts	bo = {compact, tf_inline_limit, 0};
		model		m;
		sb_bundle  *base;
		unsigned char *img;
		size_t		len;
		uint64_t	heap,
					heap_len,
					rows,
					rows_len;
		uint32_t	rs;

		REQUIRE((base = checked_base("dbase.sb", &m, NBASE, &bo)) != NULL);
		rs = base->row_size;
		sb_close(base);
		model_free(&m);
		REQUIRE((img = tf_read_file(tf_path("dbase.sb"), &len)) != NULL);
		REQUIRE(tf_section(img, SB_SECTION_HEAP, &heap, &heap_len) && heap_len > 0);
		REQUIRE(tf_section(img, SB_SECTION_ROWS, &rows, &rows_len) && rows_len > 0);
		REQUIRE(heap_len % 4096 != 0 && heap_len > 2 * 4096);
		expect_damage(img, len, len, true, SB_OK, SB_OK, false, "undamaged");
		expect_damage(img, len, heap + heap_len / 2, true, SB_OK, SB_OK, true,
					  "heap middle");
		expect_damage(img, len, heap + heap_len - 1, false, SB_OK,
					  SB_ERR_CHECKSUM, false, "heap end");
		expect_damage(img, len, rows + 10 * rs + rs - 1, true, SB_OK,
					  SB_ERR_CHECKSUM, false, "row 10");
		expect_damage(img, len, rows + 10 * rs, false, SB_OK, SB_ERR_CHECKSUM,
					  false, "row 10, nothing dropped");
		expect_damage(img, len, rows + 3 * rs, true, SB_OK, SB_ERR_CHECKSUM,
					  false, "dropped row 3");
		expect_damage(img, len, rows + rows_len - 1, true, SB_OK, SB_ERR_CHECKSUM,
					  false, "last row");
		free(img);
		remove(tf_path("dbase.sb"));
	}
}

/* Every key of m finds no row in a bundle of none. */
static bool
nothing_found(sb_bundle *b, const model *m)
{
	model		none = {NULL, 0, NULL, 0};
	bool		ok = model_index(&none);

	for (int i = 0; i < m->n && ok; i++)
		ok = key_finds(b, &none, m->rows[i].k);
	free(none.keys);
	return ok;
}

/*
 * Drop every row of a base holding m and write n new rows: the result
 * holds those alone, and no heap byte of the base.  Checked against the
 * writer's rules unless the base's slots have inline values: a merge
 * keeps the base's slot layout, inline area and all, even when no row
 * left has a value there (the reference writer would have no area).
 */
static void
drop_all(sb_bundle *base, const model *m, const mrow *add, int n,
		 bool inline_area)
{
	sb_column	cols[MCOLS];
	sb_writer  *w = merge_writer(base, "none.sb", cols, false);
	sb_bundle  *b = NULL;
	sb_error	err;
	model		after = {(mrow *) add, n, NULL, 0};
	bool		ok = w != NULL && model_index(&after);

	for (uint64_t r = 0; r < base->row_count && ok; r++)
		ok = CHECK_ST(sb_writer_drop_base_row(w, r, &err), SB_OK, &err);
	for (int i = 0; i < n && ok; i++)
		ok = write_row(w, &add[i]);
	ok = ok && CHECK_ST(sb_writer_finish(w, NULL, &err), SB_OK, &err);
	sb_writer_free(w);
	if (ok && CHECK_ST(sb_open(tf_path("none.sb"), &b, &err), SB_OK, &err))
	{
		CHECK_ST(sb_verify(b, &err), SB_OK, &err);
		CHECK(inline_area || tf_check_conformance(b));
		CHECK(bundle_is(b, &after, m));
		CHECK(n > 0 || (CHECK_EQ(b->heap_size, 0) && nothing_found(b, m)));
		sb_close(b);
	}
	free(after.keys);
	remove(tf_path("none.sb"));
}

/*
 * A merge that changes nothing holds the base's rows, slot for slot, and
 * its heap, byte for byte.
 */
static void
merge_nothing(sb_bundle *base, const model *m)
{
	step		s = {NULL, NULL, NULL, 0, false, false};
	model		same;
	sb_bundle  *b;

	REQUIRE(model_copy(&same, m));
	if ((b = merge_step(base, "same.sb", &same, &s)) != NULL)
	{
		CHECK_EQ(b->heap_size, base->heap_size);
		CHECK(memcmp(b->heap, base->heap, base->heap_size) == 0);
		CHECK(memcmp(b->rows, base->rows, (size_t) base->row_size * m->n) == 0);
		CHECK_EQ(b->distinct_keys, base->distinct_keys);
		sb_close(b);
	}
	CHECK(b != NULL);
	model_free(&same);
	remove(tf_path("same.sb"));
}

/*
 * Merges that change nothing, drop every row, and drop every row for new
 * ones; plain and compact.
 */
void
test_merge_all_or_nothing(void)
{
	for (int compact = 0; compact < 2; compact++)
	{
		base_opts	bo = {compact, tf_inline_limit, 0};
		model		m;
		sb_bundle  *base;
		mrow		add[60];
		bool		inline_area;

		REQUIRE((base = checked_base("abase.sb", &m, NBASE, &bo)) != NULL);
		inline_area = rows_inline(base, &m, 0, m.n) > 0;
		CHECK(inline_area == (tf_inline_limit > 0));
		merge_nothing(base, &m);
		drop_all(base, &m, NULL, 0, inline_area);
		for (int i = 0; i < 60; i++)
			add[i] = new_row(KBASE + i / 2, 100000 + i);
		drop_all(base, &m, add, 60, inline_area);
		model_free(&m);
		sb_close(base);
		remove(tf_path("abase.sb"));
	}
}

/* Where the first of a bundle's heap and rows starts. */
static uint64_t
first_data(const sb_bundle *b)
{
	uint64_t	heap = 0,
				rows = 0;

	for (int i = 0; i < b->nsections; i++)
	{
		if (b->sections[i].kind == SB_SECTION_HEAP)
			heap = b->sections[i].offset;
		if (b->sections[i].kind == SB_SECTION_ROWS)
			rows = b->sections[i].offset;
	}
	return heap < rows ? heap : rows;
}

/*
 * A base whose heap, rows and index are aligned to 64 bytes, not 4096:
 * the merged bundle's are too, where the base's would be.
 */
void
test_merge_section_align(void)
{
	for (int compact = 0; compact < 2; compact++)
	{
		base_opts	bo = {compact, tf_inline_limit, 64};
		model		m;
		sb_bundle  *base,
				   *b;
		mrow	   *add;
		step		s = {drop_mod5, drop_even, NULL, 0, false, false};

		REQUIRE((base = checked_base("sbase.sb", &m, NBASE, &bo)) != NULL);
		CHECK(first_data(base) % 4096 != 0);
		REQUIRE((add = alloc_adds(&m, 100)) != NULL);
		s.add = add;
		s.nadd = make_adds(&m, drop_mod5, 100000, KBASE + NBASE, 100, add);
		if (CHECK((b = merge_step(base, "smerged.sb", &m, &s)) != NULL))
		{
			CHECK_EQ(first_data(b), first_data(base));
			sb_close(b);
		}
		free(add);
		model_free(&m);
		sb_close(base);
		remove(tf_path("sbase.sb"));
		remove(tf_path("smerged.sb"));
	}
}

#define NBIG	100000

/*
 * A large merge, plain and compact: more than a copy buffer of kept and
 * of new row slots, a heap of several copy buffers, an index sort that
 * spills to disk.
 */
void
test_merge_large(void)
{
	for (int compact = 0; compact < 2; compact++)
	{
		base_opts	bo = {compact, tf_inline_limit, 0};
		model		m;
		sb_bundle  *base,
				   *b;
		mrow	   *add;
		step		s = {drop_mod5, drop_even, NULL, 0, false, true};

		REQUIRE((base = checked_base("bbase.sb", &m, NBIG, &bo)) != NULL);
		CHECK(base->heap_size > 3 << 20);
		REQUIRE((add = alloc_adds(&m, 40000)) != NULL);
		s.add = add;
		s.nadd = make_adds(&m, drop_mod5, 1000000, KBASE + NBIG, 40000, add);
		CHECK((uint64_t) s.nadd * base->row_size > 1 << 20);
		if (CHECK((b = merge_step(base, "bmerged.sb", &m, &s)) != NULL))
			sb_close(b);
		free(add);
		model_free(&m);
		sb_close(base);
		remove(tf_path("bbase.sb"));
		remove(tf_path("bmerged.sb"));
	}
}
