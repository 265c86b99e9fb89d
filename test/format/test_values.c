/*-------------------------------------------------------------------------
 *
 * test_values.c
 *	  Values: NULLs, empty and huge values, varlena headers and their
 *	  alignment, and deduplication of the value heap.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"

#include <stdio.h>
#include <stdlib.h>

#define NTYPES 13

/* One column of every kind of storage. */
static void
all_types(sb_column *cols)
{
	int			i = 0;

	cols[i++] = tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER);
	cols[i++] = tf_col_int("i2", 2);
	cols[i++] = tf_col_int("i4", 4);
	cols[i++] = tf_col_int("i8", 8);
	cols[i++] = tf_col_float("f4", 4);
	cols[i++] = tf_col_float("f8", 8);
	cols[i++] = tf_col_text("short", true, 'i');
	cols[i++] = tf_col_text("long_i", false, 'i');
	cols[i++] = tf_col_text("long_d", false, 'd');
	cols[i++] = tf_col("c", "pg_catalog.char", 1, true, 'c');
	cols[i++] = tf_col("nm", "pg_catalog.name", 64, false, 'c');
	cols[i++] = tf_col("u", "pg_catalog.uuid", 16, false, 'c');
	cols[i++] = tf_col("b", "pg_catalog.bool", 1, true, 'c');
}

/* Deterministic image (fixed) or payload (variable) of row r, column c. */
static size_t
type_value(const sb_column *col, int r, int c, unsigned char *buf)
{
	size_t		len = col->typlen > 0 ? (size_t) col->typlen :
		(size_t) ((r * 31 + c * 17) % 150);

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char) (r * 7 + c * 13 + i * 3 + 1);
	return len;
}

/* Build the all-types bundle; a column is set when set(r, c) holds. */
static sb_bundle *
types_bundle(const char *file, int nrows, bool (*set) (int, int))
{
	sb_column	cols[NTYPES];
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;
	unsigned char buf[256];

	all_types(cols);
	tf_options(&o, path, cols, NTYPES);
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < nrows; r++)
	{
		sb_writer_begin_row(w);
		for (int c = 0; c < NTYPES; c++)
		{
			size_t		len = type_value(&cols[c], r, c, buf);

			if (!set(r, c))
				continue;
			if (cols[c].typlen > 0)
				tf_set_fixed(w, c, buf);
			else
				tf_set_var(w, c, buf, len);
		}
		tf_end_row(w);
	}
	return tf_finish(w, path, NULL);
}

/* Check the all-types bundle against set(). */
static void
types_check(sb_bundle *b, int nrows, bool (*set) (int, int))
{
	sb_column	cols[NTYPES];
	unsigned char buf[256];
	sb_value	v;

	all_types(cols);
	REQUIRE(b->row_count == (uint64_t) nrows);
	for (int r = 0; r < nrows && tf_failures() == 0; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);

		for (int c = 0; c < NTYPES; c++)
		{
			size_t		len = type_value(&cols[c], r, c, buf);

			CHECKF(sb_slot_isnull(sb_bundle_info(b), slot, c) == !set(r, c),
				   "row %d column %d: NULL is %d", r, c, sb_slot_isnull(sb_bundle_info(b), slot, c));
			if (!set(r, c) || sb_slot_isnull(sb_bundle_info(b), slot, c))
				continue;
			if (cols[c].typlen > 0)
				CHECK(sb_slot_value(b, slot, c, &v, NULL) == SB_OK &&
					  v.len == len && memcmp(v.ptr, buf, len) == 0);
			else
				tf_text_is(b, r, c, buf, len);
		}
	}
}

/* types_bundle pattern: every column NULL. */
static bool
set_none(int r, int c)
{
	(void) r;
	(void) c;
	return false;
}

/* types_bundle pattern: about two columns in three set. */
static bool
set_some(int r, int c)
{
	return (r * 13 + c * 5) % 3 != 0;
}

/* Columns that are NULL in every row, and in some rows. */
void
test_null_columns(void)
{
	sb_bundle  *b;
	uint64_t	rows[1];

	if ((b = types_bundle("none.sb", 100, set_none)) != NULL)
	{
		types_check(b, 100, set_none);
		CHECK_EQ(b->indexed_count, 0);
		CHECK_EQ(b->heap_size, 0);
		CHECK_EQ(tf_lookup_int(b, 0, rows, 1), 0);
		sb_close(b);
	}
	if ((b = types_bundle("some.sb", 300, set_some)) != NULL)
	{
		types_check(b, 300, set_some);
		sb_close(b);
	}
}

/* Empty values (0-byte payloads), with and without dedup. */
static void
empty_case(bool dedup)
{
	sb_column	cols[4] = {
		tf_keyed(tf_col_text("k", true, 'i'), 1, SB_KEY_VARLENA),
		tf_col_text("short", true, 'i'),
		tf_col_text("long_i", false, 'i'),
		tf_col_text("long_d", false, 'd')
	};
	const char *path = tf_path(dedup ? "dedup.sb" : "plain.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	sb_value	v;
	uint64_t	rows[4];

	tf_options(&o, path, cols, 4);
	o.dedup = dedup;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 3; r++)
	{
		sb_writer_begin_row(w);
		for (int c = 0; c < 4; c++)
			tf_set_text(w, c, r == 1 ? "x" : "");
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	for (int r = 0; r < 3; r++)
	{
		for (int c = 0; c < 4; c++)
		{
			size_t		hl = c <= 1 ? 1 : 4;

			tf_text_is(b, r, c, "x", r == 1 ? 1 : 0);
			if (tf_get_var(b, r, c, &v))
				CHECKF(v.len == hl + (r == 1) && sb_varlena_header_size(v.ptr) == hl,
					   "row %d column %d: image of %zu bytes", r, c, v.len);
		}
	}
	CHECK_EQ(tf_lookup_text(b, "", rows, 4), 2);
	CHECK(rows[0] == 0 && rows[1] == 2);
	CHECK_EQ(tf_lookup_text(b, "x", rows, 4), 1);
	CHECK_EQ(rows[0], 1);
	CHECK_EQ(tf_lookup_text(b, "y", rows, 4), 0);
	sb_close(b);
}

/* Values of 0 bytes. */
void
test_empty_values(void)
{
	empty_case(true);
	empty_case(false);
}

/* A 64 MB value round-trips byte for byte, with a 4-byte header. */
void
test_value_64mb(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_int("id", 4), 1, SB_KEY_INTEGER),
		tf_col_text("short_ok", true, 'i'),
		tf_col_text("long", false, 'd')
	};
	const size_t big = (size_t) 64 << 20;
	unsigned char *data = malloc(big);
	const char *path = tf_path("big.sb");
	uint64_t	seed = 42;
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	sb_value	v;

	REQUIRE(data != NULL);
	for (size_t i = 0; i < big; i += 8)
	{
		uint64_t	x = tf_rand(&seed);

		memcpy(data + i, &x, 8);
	}
	tf_options(&o, path, cols, 3);
	if ((w = tf_create(&o)) != NULL)
	{
		for (int r = 0; r < 3; r++)
		{
			sb_writer_begin_row(w);
			tf_set_int(w, 0, 4, r);
			tf_set_var(w, r == 1 ? 1 : 2, r == 1 ? data : (const void *) "ab", r == 1 ? big : 2);
			tf_end_row(w);
		}
		CHECK(sb_writer_bytes(w) > big);
	}
	if ((b = tf_finish(w, path, NULL)) != NULL)
	{
		if (tf_get_var(b, 1, 1, &v))
		{
			CHECK_EQ(sb_varlena_header_size(v.ptr), 4);
			CHECK_EQ(v.len, big + 4);
			CHECK(v.len == big + 4 && memcmp(v.ptr + 4, data, big) == 0);
		}
		tf_text_is(b, 0, 2, "ab", 2);
		tf_text_is(b, 2, 2, "ab", 2);
		sb_close(b);
	}
	free(data);
}

/* The header PostgreSQL would give a payload of len bytes in this form. */
static bool
header_is_pg(const unsigned char *img, size_t len, size_t hl)
{
	uint32_t	w;

	memcpy(&w, img, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	if (hl == 1)
		return img[0] == (0x80 | (len + 1));
	return w == (uint32_t) (len + 4);
#else
	if (hl == 1)
		return img[0] == (((len + 1) << 1) | 0x01);
	return w == (uint32_t) ((len + 4) << 2);
#endif
}

/* Payloads around the 1-byte header limit of 126 bytes. */
void
test_varlena_header_boundary(void)
{
	static const size_t lens[] = {0, 1, 125, 126, 127, 128, 200};
	const int	n = sizeof(lens) / sizeof(lens[0]);
	sb_column	cols[3] = {
		tf_keyed(tf_col_text("key", true, 'i'), 1, SB_KEY_VARLENA),
		tf_col_text("short", true, 'i'),
		tf_col_text("long", false, 'i')
	};
	const char *path = tf_path("boundary.sb");
	unsigned char buf[256];
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	sb_value	v;
	uint64_t	rows[2];

	memset(buf, 'q', sizeof(buf));
	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < n; r++)
	{
		sb_writer_begin_row(w);
		for (int c = 0; c < 3; c++)
			tf_set_var(w, c, buf, lens[r]);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	for (int r = 0; r < n; r++)
	{
		for (int c = 0; c < 3; c++)
		{
			size_t		hl = (c < 2 && lens[r] <= 126) ? 1 : 4;

			if (!tf_get_var(b, r, c, &v))
				continue;
			CHECKF(sb_varlena_header_size(v.ptr) == hl && v.len == hl + lens[r] &&
				   header_is_pg(v.ptr, lens[r], hl),
				   "payload of %zu bytes in column %d: image of %zu bytes, header %zu",
				   lens[r], c, v.len, sb_varlena_header_size(v.ptr));
			tf_text_is(b, r, c, buf, lens[r]);
		}
		{
			sb_key_part p = {buf, lens[r], 0};

			CHECK_EQ(tf_lookup(b, &p, rows, 2), 1);
			CHECK_EQ(rows[0], r);
		}
	}
	sb_close(b);
}

/* Check that a 4-byte-header value is aligned as its column says. */
static void
check_aligned(sb_bundle *b, uint64_t row, int col, unsigned align)
{
	sb_value	v;

	if (!tf_get_var(b, row, col, &v) || sb_varlena_header_size(v.ptr) != 4)
		return;
	CHECKF((uint64_t) (v.ptr - b->heap) % align == 0 &&
		   (uintptr_t) v.ptr % align == 0,
		   "row %llu column %d: value at heap offset %llu is not %u-aligned",
		   (unsigned long long) row, col,
		   (unsigned long long) (v.ptr - b->heap), align);
}

/* Alignment of 4-byte-header values by typalign 'i' and 'd'. */
static void
alignment_case(bool dedup)
{
	sb_column	cols[5] = {
		tf_col_text("s_i", true, 'i'),
		tf_col_text("l_i", false, 'i'),
		tf_col_text("l_d", false, 'd'),
		tf_col_text("s_d", true, 'd'),
		tf_col_text("l_c", false, 'c')
	};
	static const unsigned align[5] = {4, 4, 8, 8, 1};
	const char *path = tf_path(dedup ? "dedup.sb" : "plain.sb");
	unsigned char buf[256];
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;

	tf_options(&o, path, cols, 5);
	o.dedup = dedup;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 400; r++)
	{
		sb_writer_begin_row(w);
		for (int c = 0; c < 5; c++)
		{
			size_t		len = (size_t) ((r * (c + 3) + c) % (c == 3 ? 140 : 13));

			memset(buf, 'a' + (r + c) % 26, len);
			tf_set_var(w, c, buf, len);
		}
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	CHECK((uintptr_t) b->heap % 8 == 0);
	for (int r = 0; r < 400; r++)
		for (int c = 0; c < 5; c++)
			check_aligned(b, r, c, align[c]);
	sb_close(b);
}

/* 4-byte-header values are aligned by typalign in the heap. */
void
test_varlena_alignment(void)
{
	alignment_case(false);
	alignment_case(true);
}

/* Write the dedup test's rows; returns the heap bytes dedup should save. */
static uint64_t
dedup_rows(sb_writer *w, int nrows)
{
	char		sbuf[32],
				lbuf[32];
	uint64_t	saved = 0;

	for (int r = 0; r < nrows; r++)
	{
		int			sl = snprintf(sbuf, sizeof(sbuf), "value number %d", r % 50);

		memset(lbuf, 'A' + r % 20, 30);
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 4, r);
		tf_set_var(w, 1, sbuf, (size_t) sl);
		tf_set_var(w, 2, lbuf, 30);
		tf_end_row(w);
		if (r >= 50)
			saved += 1 + sl;
		if (r >= 20)
			saved += 4 + 30;
	}
	return saved;
}

/* Build the dedup test's bundle with or without dedup. */
static sb_bundle *
dedup_bundle(const char *file, bool dedup, sb_build_stats *stats,
			 uint64_t *saved)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_int("id", 4), 1, SB_KEY_INTEGER),
		tf_col_text("s", true, 'i'),
		tf_col_text("l", false, 'i')
	};
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;

	tf_options(&o, path, cols, 3);
	o.dedup = dedup;
	o.inline_limit = 0;			/* deduplication is for heap values */
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	*saved = dedup_rows(w, 10000);
	return tf_finish(w, path, stats);
}

/* Compare the values of two bundles of the same rows, image by image. */
static void
same_values(sb_bundle *a, sb_bundle *b, int ncols)
{
	REQUIRE(a->row_count == b->row_count);
	for (uint64_t r = 0; r < a->row_count && tf_failures() == 0; r++)
	{
		for (int c = 0; c < ncols; c++)
		{
			sb_value	va,
						vb;

			if (!CHECK(sb_slot_isnull(sb_bundle_info(a), sb_row_slot(a, r), c) ==
					   sb_slot_isnull(sb_bundle_info(b), sb_row_slot(b, r), c)) ||
				sb_slot_isnull(sb_bundle_info(a), sb_row_slot(a, r), c))
				continue;
			if (sb_slot_value(a, sb_row_slot(a, r), c, &va, NULL) == SB_OK &&
				sb_slot_value(b, sb_row_slot(b, r), c, &vb, NULL) == SB_OK)
				CHECKF(va.len == vb.len && memcmp(va.ptr, vb.ptr, va.len) == 0,
					   "row %llu column %d differs", (unsigned long long) r, c);
			else
				tf_fail(__FILE__, __LINE__, "row %llu column %d unreadable",
						(unsigned long long) r, c);
		}
	}
}

/* Repeated values are stored once; values read back the same. */
void
test_dedup_repeated_values(void)
{
	sb_build_stats on,
				off;
	sb_bundle  *a,
			   *b;
	uint64_t	saved,
				saved_off;
	sb_value	v0,
				v1;

	a = dedup_bundle("dedup.sb", true, &on, &saved);
	b = dedup_bundle("plain.sb", false, &off, &saved_off);
	if (a && b)
	{
		CHECK_EQ(on.dedup_hits, (10000 - 50) + (10000 - 20));
		CHECK_EQ(on.dedup_saved, saved);
		CHECK_EQ(off.dedup_hits, 0);
		CHECK_EQ(off.dedup_saved, 0);
		CHECKF(on.heap_bytes < off.heap_bytes / 100,
			   "heap of %llu bytes with dedup, %llu without",
			   (unsigned long long) on.heap_bytes, (unsigned long long) off.heap_bytes);
		CHECK(on.file_size < off.file_size);
		same_values(a, b, 3);
		/* rows 7 and 57 hold the same short value: one copy */
		if (tf_get_var(a, 7, 1, &v0) && tf_get_var(a, 57, 1, &v1))
			CHECK(v0.ptr == v1.ptr);
		if (tf_get_var(b, 7, 1, &v0) && tf_get_var(b, 57, 1, &v1))
			CHECK(v0.ptr != v1.ptr);
	}
	sb_close(a);
	sb_close(b);
}

/* Rows of the flushed-dedup test: payload of row r into *len bytes. */
static const unsigned char *
flushed_value(int r, unsigned char *big, size_t *len)
{
	static const int lens[4] = {100, 5000, 41, 40};

	if (r >= 4 && r < 44)
	{
		/* 40 distinct values of 64 kB: the heap flushes many times */
		memset(big, r, 65536);
		big[0] = 'x';
		*len = 65536;
		return big;
	}
	if (r >= 52)
	{
		/* rows 52 and 53: a long value still in the write buffer */
		memset(big, 'E', 77);
		*len = 77;
		return big;
	}
	/* rows 0-3 and again 44-47 (and 48-51): four values, long and short */
	r = (r < 4 ? r : (r - 44) % 4);
	memset(big, 'a' + r, lens[r]);
	*len = (size_t) lens[r];
	return big;
}

/* Long values (over 40 bytes) are deduplicated after the heap flushed. */
void
test_dedup_long_flushed(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("id", 4), 1, SB_KEY_INTEGER),
		tf_col_text("v", false, 'i')
	};
	const char *path = tf_path("flushed.sb");
	unsigned char *big = malloc(65536);
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b = NULL;
	sb_value	v0,
				v1;
	size_t		len;

	REQUIRE(big != NULL);
	tf_options(&o, path, cols, 2);
	if ((w = tf_create(&o)) != NULL)
	{
		for (int r = 0; r < 54; r++)
		{
			const unsigned char *p = flushed_value(r, big, &len);

			sb_writer_begin_row(w);
			tf_set_int(w, 0, 4, r);
			tf_set_var(w, 1, p, len);
			tf_end_row(w);
		}
		b = tf_finish(w, path, &stats);
	}
	if (b != NULL)
	{
		CHECK_EQ(stats.dedup_hits, 9);
		if (tf_get_var(b, 52, 1, &v0) && tf_get_var(b, 53, 1, &v1))
			CHECK(v0.ptr == v1.ptr);
		for (int r = 44; r < 52; r++)
		{
			const unsigned char *p = flushed_value(r, big, &len);

			tf_text_is(b, r, 1, p, len);
			if (tf_get_var(b, r, 1, &v1) && tf_get_var(b, r % 4, 1, &v0))
				CHECKF(v0.ptr == v1.ptr, "row %d (%zu bytes) was stored again",
					   r, len);
		}
		sb_close(b);
	}
	free(big);
}

/*
 * Equal payloads in different forms are not merged: a 1-byte and a
 * 4-byte header, 4- and 8-byte alignment.  Equal forms are.
 */
void
test_dedup_respects_form(void)
{
	sb_column	cols[5] = {
		tf_col_text("short1", true, 'i'),
		tf_col_text("long_i", false, 'i'),
		tf_col_text("long_d", false, 'd'),
		tf_col_text("short2", true, 'i'),
		tf_col_text("long_c", false, 'c')
	};
	static const size_t hl[5] = {1, 4, 4, 1, 4};
	const char *path = tf_path("forms.sb");
	const char *val = "hello world";
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	sb_value	v[2][5];

	tf_options(&o, path, cols, 5);
	o.inline_limit = 0;			/* deduplication is for heap values */
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 2; r++)
	{
		sb_writer_begin_row(w);
		for (int c = 0; c < 5; c++)
			tf_set_text(w, c, val);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	for (int r = 0; r < 2; r++)
		for (int c = 0; c < 5; c++)
			if (tf_get_var(b, r, c, &v[r][c]))
			{
				tf_text_is(b, r, c, val, strlen(val));
				CHECKF(sb_varlena_header_size(v[r][c].ptr) == hl[c],
					   "column %d has a %zu-byte header", c,
					   sb_varlena_header_size(v[r][c].ptr));
			}
	if (tf_failures() == 0)
	{
		for (int c = 0; c < 5; c++)
			CHECKF(v[0][c].ptr == v[1][c].ptr, "column %d stored twice", c);
		CHECK(v[0][0].ptr == v[0][3].ptr);	/* same form: shared */
		CHECK(v[0][0].ptr != v[0][1].ptr);	/* other header: not */
		CHECK(v[0][0].ptr != v[0][2].ptr);
		CHECK(v[0][0].ptr != v[0][4].ptr);
		CHECK((v[0][1].ptr - b->heap) % 4 == 0);
		CHECK((v[0][2].ptr - b->heap) % 8 == 0);
	}
	sb_close(b);
}

/*
 * A column whose first 4096 values never repeat stops being deduplicated;
 * while off it samples values 1-1024 of every 65536, and resumes when 1
 * in 16 of a sample repeat (format.md 7.4).  Rows 4096 on all hold "x":
 * stored again until the sample at value 65537, found 1023 times in the
 * sample, and every time after it.
 */
void
test_dedup_adaptive(void)
{
	sb_column	col = tf_col_text("v", true, 'i');
	const char *path = tf_path("adaptive.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b = NULL;
	sb_value	v0,
				v1;
	char		buf[16];

	tf_options(&o, path, &col, 1);
	o.dedup = true;
	o.inline_limit = 0;			/* deduplication is for heap values */
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 70000; r++)
	{
		snprintf(buf, sizeof(buf), "u%d", r);
		sb_writer_begin_row(w);
		tf_set_text(w, 0, r < 4096 ? buf : "x");
		tf_end_row(w);
	}
	b = tf_finish(w, path, &stats);
	REQUIRE(b != NULL);
	CHECK_EQ(stats.dedup_hits, 1023 + (70000 - 66560));
	tf_text_is(b, 69999, 0, "x", 1);
	/* stored again while off; one copy from the sample on */
	if (tf_get_var(b, 4096, 0, &v0) && tf_get_var(b, 4097, 0, &v1))
		CHECK(v0.ptr != v1.ptr);
	if (tf_get_var(b, 65536, 0, &v0) && tf_get_var(b, 69999, 0, &v1))
		CHECK(v0.ptr == v1.ptr);
	sb_close(b);
}
