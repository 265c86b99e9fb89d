/*-------------------------------------------------------------------------
 *
 * test_inline.c
 *	  Values stored inside their row slot (format v2): the writer's choice
 *	  of columns and area, values that do not fit, rows held back while it
 *	  chooses, and damaged inline references.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdio.h>
#include <stdlib.h>

#define BIG_VALUE	((size_t) 5 << 20)	/* more than the writer holds back */

/* Payload of row r in column c: short in column 1, mixed in column 2. */
static size_t
inline_value(int r, int c, unsigned char *buf)
{
	size_t		len = c == 1 ? (size_t) (10 + r % 20) :
		(r % 10 == 0 ? 300 + (size_t) r % 200 : 40 + (size_t) r % 50);

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char) (r * 5 + c * 11 + i);
	return len;
}

/* Is the value of row r, column c stored inside the slot? */
static bool
stored_inline(sb_bundle *b, uint64_t r, int c)
{
	const unsigned char *slot = sb_row_slot(b, r);

	return !sb_slot_isnull(sb_bundle_info(b), slot, c) &&
		(sb_load64(slot + b->slot_offsets[c]) & SB_INLINE_REF) != 0;
}

/* Build nrows rows (int8 key, a short and a mixed text column). */
static sb_bundle *
inline_bundle(const char *file, int nrows, uint32_t limit,
			  sb_build_stats *stats)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_text("s", true, 'i'),
		tf_col_text("m", false, 'i')
	};
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;
	unsigned char buf[512];

	tf_options(&o, path, cols, 3);
	o.inline_limit = limit;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < nrows; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		for (int c = 1; c < 3; c++)
			if (r % 7 != c)		/* some NULLs */
				tf_set_var(w, c, buf, inline_value(r, c, buf));
		tf_end_row(w);
	}
	return tf_finish(w, path, stats);
}

/* Every value reads back, every key is found. */
static bool
inline_read_back(sb_bundle *b, int nrows)
{
	unsigned char buf[512];
	bool		ok = true;

	for (int r = 0; r < nrows && ok; r++)
	{
		uint64_t	row;

		ok &= CHECK_EQ(tf_lookup_int(b, r, &row, 1), 1) & CHECK_EQ(row, r);
		for (int c = 1; c < 3; c++)
			ok &= r % 7 == c ? CHECK(sb_slot_isnull(sb_bundle_info(b), sb_row_slot(b, r), c)) :
				CHECK(tf_text_is(b, r, c, buf, inline_value(r, c, buf)));
	}
	return ok;
}

/* Short values go inline, long ones to the heap; all read back. */
void
test_inline_round_trip(void)
{
	sb_build_stats stats;
	sb_bundle  *b;
	uint64_t	long_inline = 0,
				short_heap = 0;

	REQUIRE((b = inline_bundle("round.sb", 3000, 256, &stats)) != NULL);
	CHECK(stats.inline_area > 0 && stats.inline_area <= 256);
	CHECK_EQ(stats.inline_area % 8, 0);
	CHECK(stats.inline_values > 3000);
	CHECK(b->heap_size > 0);
	inline_read_back(b, 3000);
	for (int r = 0; r < 3000; r++)
	{
		if (r % 7 != 2 && r % 10 == 0)
			long_inline += stored_inline(b, r, 2);
		if (r % 7 != 1)
			short_heap += !stored_inline(b, r, 1);
	}
	CHECK_EQ(long_inline, 0);	/* 300 bytes and more: the heap */
	CHECK_EQ(short_heap, 0);	/* every short value inline */
	sb_close(b);
}

/* Fewer rows than the writer holds back: finishing sizes the area. */
void
test_inline_few_rows(void)
{
	sb_build_stats stats;
	sb_bundle  *b;

	REQUIRE((b = inline_bundle("few.sb", 3, 256, &stats)) != NULL);
	CHECK_EQ(b->row_count, 3);
	CHECK(stats.inline_values >= 3);
	inline_read_back(b, 3);
	sb_close(b);

	/* no rows at all: nothing to size */
	REQUIRE((b = inline_bundle("none.sb", 0, 256, &stats)) != NULL);
	CHECK_EQ(stats.inline_area, 0);
	sb_close(b);
}

/* A limit of 0, or one too narrow for any column, gives no inline area. */
void
test_inline_limits(void)
{
	sb_build_stats stats;
	sb_bundle  *b;

	REQUIRE((b = inline_bundle("off.sb", 1500, 0, &stats)) != NULL);
	CHECK_EQ(stats.inline_area, 0);
	CHECK_EQ(stats.inline_values, 0);
	inline_read_back(b, 1500);
	sb_close(b);
	REQUIRE((b = inline_bundle("narrow.sb", 1500, 8, &stats)) != NULL);
	CHECK_EQ(stats.inline_area, 0);
	sb_close(b);
}

/* Values that repeat a lot stay in the heap, where they are stored once. */
void
test_inline_skips_repeats(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_text("status", true, 'i'),
		tf_col_text("name", true, 'i')
	};
	const char *path = tf_path("repeats.sb");
	static const char *const status[3] = {"active", "closed", "pending"};
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b;
	char		name[32];

	tf_options(&o, path, cols, 3);
	o.inline_limit = 256;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 2000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		tf_set_text(w, 1, status[r % 3]);
		snprintf(name, sizeof(name), "name-%d", r);
		tf_set_text(w, 2, name);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, &stats)) != NULL);
	for (int r = 0; r < 2000; r++)
	{
		snprintf(name, sizeof(name), "name-%d", r);
		CHECK(!stored_inline(b, r, 1) && stored_inline(b, r, 2));
		CHECK(tf_text_is(b, r, 1, status[r % 3], strlen(status[r % 3])) &&
			  tf_text_is(b, r, 2, name, strlen(name)));
	}
	CHECK_EQ(stats.dedup_hits, 2000 - 3);
	sb_close(b);
}

/*
 * A value larger than what the writer holds back stops the holding in the
 * middle of a row: the row keeps what was set before, and errors in held
 * rows are reported by the call that makes them.
 */
void
test_inline_holding(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_text("k", true, 'i'), 1, SB_KEY_VARLENA),
		tf_col_text("s", true, 'i'),
		tf_col_text("big", false, 'i')
	};
	const char *path = tf_path("holding.sb");
	unsigned char *big = malloc(BIG_VALUE);
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	sb_error	err;
	char		key[32];
	uint64_t	row;

	REQUIRE(big != NULL);
	memset(big, 'x', BIG_VALUE);
	tf_options(&o, path, cols, 3);
	o.inline_limit = 128;
	/* setting a column twice in a held row fails at once */
	REQUIRE((w = tf_create(&o)) != NULL);
	sb_writer_begin_row(w);
	tf_set_text(w, 1, "once");
	CHECK_ST(sb_writer_set_varlena(w, 1, "twice", 5, &err), SB_ERR_STATE, &err);
	sb_writer_free(w);
	CHECK(!tf_exists(path));

	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 10; r++)
	{
		snprintf(key, sizeof(key), "key-%d", r);
		sb_writer_begin_row(w);
		tf_set_text(w, 0, key);
		tf_set_text(w, 1, "short");
		if (r == 5)
			tf_set_var(w, 2, big, BIG_VALUE);
		CHECK_EQ(sb_writer_rows(w), r);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	for (int r = 0; r < 10; r++)
	{
		snprintf(key, sizeof(key), "key-%d", r);
		CHECK_EQ(tf_lookup_text(b, key, &row, 1), 1);
		CHECK_EQ(row, r);
		CHECK(tf_text_is(b, r, 1, "short", 5));
		CHECK(r == 5 ? tf_text_is(b, r, 2, big, BIG_VALUE) :
			  sb_slot_isnull(sb_bundle_info(b), sb_row_slot(b, r), 2));
	}
	CHECK(!stored_inline(b, 5, 2));
	sb_close(b);
	free(big);
}

/* An inline limit beyond SB_MAX_INLINE is refused. */
void
test_inline_bad_limit(void)
{
	sb_column	col = tf_col_text("t", true, 'i');
	sb_writer_options o;
	sb_writer  *w = NULL;
	sb_error	err;

	tf_options(&o, tf_path("bad.sb"), &col, 1);
	o.inline_limit = SB_MAX_INLINE + 1;
	CHECK_ST(sb_writer_create(&o, &w, &err), SB_ERR_INVALID, &err);
	CHECK(w == NULL);
}

/* Rewrite row r's field of column c and fix the checksums. */
static void
set_field(unsigned char *img, size_t len, sb_bundle *b, uint64_t r,
		  int c, uint64_t value)
{
	uint64_t	rows_off,
				rows_len;

	if (!tf_section(img, 3, &rows_off, &rows_len))
		return;
	sb_store64(img + rows_off + r * b->row_size + b->slot_offsets[c], value);
	tf_fix_checksums(img, len);
}

/*
 * Damaged inline references read as corrupt, never out of the slot; an
 * overlap or stray byte in the area fails verification.
 */
void
test_inline_damage(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_text("a", true, 'i'),
		tf_col_text("b", true, 'i')
	};
	const char *path = tf_path("damage.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b,
			   *d;
	unsigned char *img,
			   *copy;
	size_t		len;
	sb_error	err;
	sb_value	v;
	uint64_t	ref;

	tf_options(&o, path, cols, 3);
	o.inline_limit = 64;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 4; r++)
	{
		char		text[32];

		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		snprintf(text, sizeof(text), "first-%d", r);
		tf_set_text(w, 1, text);
		snprintf(text, sizeof(text), "second-%d", r);
		tf_set_text(w, 2, text);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish_image(w, path, &img, &len)) != NULL);
	REQUIRE(stored_inline(b, 1, 1) && stored_inline(b, 1, 2));
	ref = sb_load64(sb_row_slot(b, 1) + b->slot_offsets[2]);
	REQUIRE((copy = malloc(len)) != NULL);

	/* beyond the slot, into the bitmap, and high bits set */
	{
		const uint64_t bad[] = {SB_INLINE_REF | b->row_size, SB_INLINE_REF | 0,
		SB_INLINE_REF | (UINT64_C(1) << 32) | (ref & 0xFFFF)};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			memcpy(copy, img, len);
			set_field(copy, len, b, 1, 2, bad[i]);
			REQUIRE(sb_open_memory(copy, len, &d, &err) == SB_OK);
			CHECK_ST(sb_slot_value(d, sb_row_slot(d, 1), 2, &v, &err), SB_ERR_CORRUPT, &err);
			CHECK_ST(sb_verify(d, &err), SB_ERR_CORRUPT, &err);
			sb_close(d);
		}
	}

	/* the reference made to overlap the other value */
	memcpy(copy, img, len);
	set_field(copy, len, b, 1, 2,
			  sb_load64(sb_row_slot(b, 1) + b->slot_offsets[1]));
	REQUIRE(sb_open_memory(copy, len, &d, &err) == SB_OK);
	CHECK_ST(sb_verify(d, &err), SB_ERR_CORRUPT, &err);
	sb_close(d);

	/* a nonzero byte in the unused end of the area */
	memcpy(copy, img, len);
	{
		uint64_t	rows_off,
					rows_len;

		REQUIRE(tf_section(copy, 3, &rows_off, &rows_len));
		copy[rows_off + 2 * b->row_size - 1] = 0x5A;
		tf_fix_checksums(copy, len);
	}
	REQUIRE(sb_open_memory(copy, len, &d, &err) == SB_OK);
	CHECK_ST(sb_verify(d, &err), SB_ERR_CORRUPT, &err);
	sb_close(d);

	free(copy);
	free(img);
	sb_close(b);
}

/*
 * With inline values the heap streams to the temporary file: repeats of
 * values already flushed there are found by reading them back from it.
 */
void
test_inline_heap_in_temp(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_text("s", true, 'i'),
		tf_col_text("doc", false, 'i')
	};
	const char *path = tf_path("temp_heap.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b;
	char		doc[2000],
				s[32];

	tf_options(&o, path, cols, 3);
	o.inline_limit = 64;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 1200; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		snprintf(s, sizeof(s), "s-%d", r);
		tf_set_text(w, 1, s);
		memset(doc, 'a' + r % 600 % 26, sizeof(doc));
		snprintf(doc, sizeof(doc), "%d", r % 600);
		tf_set_var(w, 2, doc, sizeof(doc));
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, &stats)) != NULL);
	CHECK_EQ(stats.dedup_hits, 600);
	CHECK(stats.heap_bytes > (1 << 20));	/* more than the sink's buffer */
	for (int r = 0; r < 1200; r++)
	{
		snprintf(s, sizeof(s), "s-%d", r);
		memset(doc, 'a' + r % 600 % 26, sizeof(doc));
		snprintf(doc, sizeof(doc), "%d", r % 600);
		CHECK(stored_inline(b, r, 1) && !stored_inline(b, r, 2));
		CHECK(tf_text_is(b, r, 1, s, strlen(s)) &&
			  tf_text_is(b, r, 2, doc, sizeof(doc)));
	}
	sb_close(b);
}

/*
 * An inline value with a 4-byte header must be aligned to its column's
 * typalign within the slot: moved by 2 bytes it still reads, but fails
 * verification.
 */
void
test_inline_misaligned(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_text("l", false, 'i')
	};
	const char *path = tf_path("misaligned.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b,
			   *d;
	unsigned char *img;
	size_t		len;
	uint64_t	rows_off,
				rows_len,
				at;
	sb_error	err;
	sb_value	v;
	char		text[32];

	tf_options(&o, path, cols, 2);
	o.inline_limit = 64;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 4; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		snprintf(text, sizeof(text), "long-%d", r);
		tf_set_text(w, 1, text);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish_image(w, path, &img, &len)) != NULL);
	REQUIRE(stored_inline(b, 1, 1) && tf_get_var(b, 1, 1, &v));
	REQUIRE(sb_varlena_header_size(v.ptr) == 4);
	at = (uint64_t) (v.ptr - sb_row_slot(b, 1));
	REQUIRE(at % 4 == 0 && at + 2 + v.len <= b->row_size);
	REQUIRE(tf_section(img, 3, &rows_off, &rows_len));
	{
		unsigned char *slot = img + rows_off + b->row_size;

		memmove(slot + at + 2, slot + at, v.len);
		memset(slot + at, 0, 2);
		sb_store64(slot + b->slot_offsets[1], SB_INLINE_REF | (at + 2));
	}
	tf_fix_checksums(img, len);
	REQUIRE(sb_open_memory(img, len, &d, &err) == SB_OK);
	CHECK(tf_text_is(d, 1, 1, "long-1", 6));
	CHECK_ST(sb_verify(d, &err), SB_ERR_CORRUPT, &err);
	CHECKF(strstr(err.detail, "misaligned") != NULL, "verify said: %s", err.detail);
	sb_close(d);
	sb_close(b);
	free(img);
}
