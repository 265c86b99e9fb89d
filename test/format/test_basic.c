/*-------------------------------------------------------------------------
 *
 * test_basic.c
 *	  Basic bundles: empty and one-row bundles, row iteration, build
 *	  metadata, the widest schema, the writer's progress counters, and
 *	  prewarming.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Size of a file, or 0. */
static uint64_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* A bundle without rows, keyed or not. */
static void
zero_rows_case(bool keyed)
{
	sb_column	cols[2] = {tf_col_int("id", 8), tf_col_text("t", true, 'i')};
	sb_writer_options o;
	sb_build_stats stats;
	sb_bundle  *b;
	sb_error	err;
	uint64_t	rows[1],
				hash;
	const char *path = tf_path(keyed ? "keyed.sb" : "plain.sb");

	if (keyed)
		cols[0] = tf_keyed(cols[0], 1, SB_KEY_INTEGER);
	remove(path);
	tf_options(&o, path, cols, 2);
	b = tf_finish(tf_create(&o), path, &stats);
	REQUIRE(b != NULL);
	CHECK_EQ(stats.rows, 0);
	CHECK_EQ(stats.indexed, 0);
	CHECK_EQ(stats.distinct_keys, 0);
	CHECK_EQ(stats.heap_bytes, 0);
	CHECK_EQ(stats.spill_runs, 0);
	CHECK_EQ(stats.file_size, file_size(path));
	CHECK_EQ(b->row_count, 0);
	CHECK_EQ(b->indexed_count, 0);
	CHECK_EQ(b->nlines, 0);
	CHECK(sb_row_slot(b, 0) == NULL);
	CHECK_EQ(sb_prewarm(b, SB_PREWARM_ROWS | SB_PREWARM_HEAP), 0);
	if (keyed)
	{
		CHECK_EQ(tf_lookup_int(b, 0, rows, 1), 0);
		CHECK_EQ(tf_lookup_int(b, -5, rows, 1), 0);
	}
	else
	{
		sb_key_part p = {NULL, 0, 1};

		CHECK_ST(sb_key_hash(b, &p, &hash, &err), SB_ERR_INVALID, &err);
	}
	sb_close(b);
}

/* A bundle with no rows at all. */
void
test_zero_rows(void)
{
	zero_rows_case(true);
	zero_rows_case(false);
}

/*
 * What the public interface shows of the one-row bundle: its description,
 * its sections in file order, and no value of a column that is not there.
 */
static void
check_info(sb_bundle *b)
{
	const sb_info *in = sb_bundle_info(b);
	const unsigned char *slot;
	sb_value	v;
	sb_error	err;

	CHECK(in->major == SB_LINES_MAJOR && in->row_count == 1 && in->ncolumns == 3 &&
		  in->nkeys == 1 && in->key_columns[0] == 0 && !in->approximate);
	CHECK(in->columns == b->columns && in->slot_offsets == b->slot_offsets &&
		  in->file_size == b->size && in->row_size == b->row_size);
	CHECK(in->index_lines == 1 && in->index_size == 64 && in->home_lines == 1 &&
		  in->fp_bytes == 2 && in->longest_run == 1);
	REQUIRE(CHECK_EQ(in->nsections, 6));
	CHECK(strcmp(in->sections[0].name, "schema") == 0 &&
		  strcmp(in->sections[5].name, "metadata") == 0);
	for (int i = 1; i < in->nsections; i++)
		CHECK(in->sections[i].offset >= in->sections[i - 1].offset &&
			  strcmp(in->sections[i].name, "unknown") != 0);
	REQUIRE(CHECK_ST(sb_row_get(b, 0, &slot, &err), SB_OK, &err));
	CHECK(!sb_slot_isnull(in, slot, 0) && sb_slot_fixed(in, slot, 0) == slot + b->slot_offsets[0]);
	CHECK_ST(sb_slot_value(b, slot, 3, &v, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_slot_value(b, slot, -1, &v, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_row_get(b, 1, &slot, &err), SB_ERR_INVALID, &err);
	CHECK(slot == NULL);
}

/* A bundle of one row. */
void
test_one_row(void)
{
	sb_column	cols[3] = {
		tf_keyed(tf_col_int("id", 8), 1, SB_KEY_INTEGER),
		tf_col_text("name", true, 'i'),
		tf_col_float("score", 8)
	};
	const char *path = tf_path("l.sb");
	double		score = 2.5,
				got;
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b;
	sb_value	v;
	uint64_t	rows[4];

	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	sb_writer_begin_row(w);
	tf_set_int(w, 0, 8, 42);
	tf_set_text(w, 1, "hello");
	tf_set_fixed(w, 2, &score);
	tf_end_row(w);
	REQUIRE((b = tf_finish(w, path, &stats)) != NULL);
	CHECK_EQ(stats.rows, 1);
	CHECK_EQ(stats.indexed, 1);
	CHECK_EQ(stats.distinct_keys, 1);
	CHECK_EQ(b->row_count, 1);
	CHECK_EQ(b->indexed_count, 1);
	CHECK_EQ(b->distinct_keys, 1);
	CHECK_EQ(b->pg_major, 15);
	CHECK_EQ(b->hash_seed, o.hash_seed);
	CHECK_EQ(b->major, SB_LINES_MAJOR);
	CHECK_EQ(b->minor, SB_FORMAT_MINOR);
	CHECKF(b->build_time > (uint64_t) (time(NULL) - 3600) * 1000000 &&
		   b->build_time <= (uint64_t) (time(NULL) + 1) * 1000000,
		   "build time %llu is not now", (unsigned long long) b->build_time);
	CHECK(strcmp(b->columns[1].name, "name") == 0 &&
		  strcmp(b->columns[1].type_name, "pg_catalog.text") == 0 &&
		  b->columns[1].typmod == -1 && b->columns[1].flags == SB_COLF_SHORT_VARLENA);
	CHECK_EQ(tf_get_int(b, 0, 0), 42);
	tf_text_is(b, 0, 1, "hello", 5);
	CHECK_ST(sb_slot_value(b, sb_row_slot(b, 0), 2, &v, NULL), SB_OK, NULL);
	memcpy(&got, v.ptr, sizeof(got));
	CHECK(v.len == 8 && got == 2.5);
	CHECK_EQ(tf_lookup_int(b, 42, rows, 4), 1);
	CHECK_EQ(rows[0], 0);
	CHECK_EQ(tf_lookup_int(b, 41, rows, 4), 0);
	CHECK_EQ(tf_lookup_int(b, 43, rows, 4), 0);
	CHECK(sb_row_slot(b, 1) == NULL);
	check_info(b);
	sb_close(b);
}

/* Rows come back in the order written, through sb_row_slot. */
void
test_row_iteration(void)
{
	sb_column	cols[3] = {
		tf_col_int("n", 4), tf_col_text("s", true, 'i'), tf_col_int("m", 2)
	};
	const char *path = tf_path("rows.sb");
	const int	nrows = 1000;
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	char		buf[32];

	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < nrows; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 4, r * 7);
		if (r % 10 != 0)
			tf_set_text(w, 1, (snprintf(buf, sizeof(buf), "row %d", r), buf));
		tf_set_int(w, 2, 2, -r);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	if (!CHECK_EQ(b->row_count, nrows))
	{
		sb_close(b);
		return;
	}
	for (uint64_t r = 0; r < b->row_count && tf_failures() == 0; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);

		REQUIRE(slot != NULL);
		CHECK(slot == b->rows + r * b->row_size);
		CHECK_EQ(tf_get_int(b, r, 0), (int64_t) r * 7);
		CHECK_EQ(tf_get_int(b, r, 2), -(int64_t) r);
		CHECK_EQ(sb_slot_isnull(sb_bundle_info(b), slot, 1), r % 10 == 0);
		if (r % 10 != 0)
		{
			snprintf(buf, sizeof(buf), "row %d", (int) r);
			tf_text_is(b, r, 1, buf, strlen(buf));
		}
	}
	CHECK(sb_row_slot(b, nrows) == NULL);
	CHECK(sb_row_slot(b, nrows + 1) == NULL);
	CHECK(sb_row_slot(b, UINT64_MAX) == NULL);
	CHECK(sb_row_slot(b, nrows - 1) != NULL);
	sb_close(b);
}

/* Build a bundle with the given metadata pairs (NULL-terminated). */
static sb_bundle *
meta_bundle(const char *file, const char *const *pairs)
{
	sb_column	col = tf_col_int("x", 4);
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;
	sb_error	err;

	tf_options(&o, path, &col, 1);
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int i = 0; pairs[i]; i += 2)
		CHECK_ST(sb_writer_add_meta(w, pairs[i], pairs[i + 1], &err), SB_OK, &err);
	sb_writer_begin_row(w);
	tf_set_int(w, 0, 4, 1);
	tf_end_row(w);
	return tf_finish(w, path, NULL);
}

/* Walk the metadata and compare it with the pairs written. */
static void
check_meta(sb_bundle *b, const char *const *pairs)
{
	uint64_t	pos = 0;
	const char *k,
			   *v;
	size_t		kl,
				vl;
	int			i = 0;

	while (sb_meta_next(b, &pos, &k, &kl, &v, &vl))
	{
		REQUIREF(pairs[i] != NULL, "more metadata entries than written");
		CHECK(kl == strlen(pairs[i]) && memcmp(k, pairs[i], kl) == 0);
		CHECK(vl == strlen(pairs[i + 1]) && memcmp(v, pairs[i + 1], vl) == 0);
		i += 2;
	}
	CHECKF(pairs[i] == NULL, "metadata entry %d is missing", i / 2);
	for (i = 0; pairs[i]; i += 2)
	{
		v = sb_meta_get(b, pairs[i], &vl);
		CHECKF(v != NULL && vl == strlen(pairs[i + 1]) &&
			   memcmp(v, pairs[i + 1], vl) == 0, "sb_meta_get(\"%s\")", pairs[i]);
	}
}

/* Build metadata: written, found by key, walked in order. */
void
test_metadata(void)
{
	char	   *longval = malloc(1001);
	const char *pairs[] = {
		"source", "orders.csv", "empty", "", "a", "b", "long", longval,
		"x", "yz", NULL
	};
	const char *none[] = {NULL};
	sb_bundle  *b;
	size_t		len = 99;

	REQUIRE(longval != NULL);
	memset(longval, 'v', 1000);
	longval[1000] = '\0';
	if ((b = meta_bundle("meta.sb", pairs)) != NULL)
	{
		check_meta(b, pairs);
		CHECK(sb_meta_get(b, "sourc", &len) == NULL);
		CHECK(sb_meta_get(b, "sources", &len) == NULL);
		CHECK(sb_meta_get(b, "", &len) == NULL);
		sb_close(b);
	}
	if ((b = meta_bundle("nometa.sb", none)) != NULL)
	{
		check_meta(b, none);
		CHECK(sb_meta_get(b, "source", &len) == NULL);
		sb_close(b);
	}
	free(longval);
}

/* Fill row r of the 1600-column bundle. */
static void
wide_row(sb_writer *w, int r)
{
	char		buf[32];

	sb_writer_begin_row(w);
	for (int c = 0; c < SB_MAX_COLUMNS; c++)
	{
		if (c > 0 && (r + c) % 7 == 0)
			continue;			/* NULL */
		if (c % 3 == 0)
			tf_set_int(w, c, 4, r * 10000 + c);
		else if (c % 3 == 2)
			tf_set_int(w, c, 8, -(int64_t) r * 10000 - c);
		else
			tf_set_text(w, c, (snprintf(buf, sizeof(buf), "r%d c%d", r, c), buf));
	}
	tf_end_row(w);
}

/* Check row r of the 1600-column bundle. */
static void
wide_check(sb_bundle *b, int r)
{
	const unsigned char *slot = sb_row_slot(b, r);
	char		buf[32];

	for (int c = 0; c < SB_MAX_COLUMNS && tf_failures() == 0; c++)
	{
		bool		null = c > 0 && (r + c) % 7 == 0;

		CHECK_EQ(sb_slot_isnull(sb_bundle_info(b), slot, c), null);
		if (null)
			continue;
		if (c % 3 == 0)
			CHECK_EQ(tf_get_int(b, r, c), r * 10000 + c);
		else if (c % 3 == 2)
			CHECK_EQ(tf_get_int(b, r, c), -(int64_t) r * 10000 - c);
		else
		{
			snprintf(buf, sizeof(buf), "r%d c%d", r, c);
			tf_text_is(b, r, c, buf, strlen(buf));
		}
	}
}

/* A bundle of PostgreSQL's maximum of 1600 columns. */
void
test_columns_1600(void)
{
	static char names[SB_MAX_COLUMNS][16];
	sb_column  *cols = calloc(SB_MAX_COLUMNS, sizeof(sb_column));
	const char *path = tf_path("wide.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	uint64_t	rows[2];

	REQUIRE(cols != NULL);
	for (int c = 0; c < SB_MAX_COLUMNS; c++)
	{
		snprintf(names[c], sizeof(names[c]), "c%d", c);
		cols[c] = c % 3 == 1 ? tf_col_text(names[c], true, 'i') :
			tf_col_int(names[c], c % 3 == 0 ? 4 : 8);
	}
	cols[0] = tf_keyed(cols[0], 1, SB_KEY_INTEGER);
	tf_options(&o, path, cols, SB_MAX_COLUMNS);
	w = tf_create(&o);
	for (int r = 0; w && r < 20; r++)
		wide_row(w, r);
	if ((b = tf_finish(w, path, NULL)) != NULL)
	{
		CHECK_EQ(b->ncolumns, SB_MAX_COLUMNS);
		CHECK_EQ(b->bitmap_bytes, SB_MAX_COLUMNS / 8);
		CHECK(strcmp(b->columns[1599].name, "c1599") == 0);
		CHECK(strcmp(b->columns[1598].type_name, "pg_catalog.int8") == 0);
		for (int r = 0; r < 20; r++)
			wide_check(b, r);
		CHECK_EQ(tf_lookup_int(b, 13 * 10000, rows, 2), 1);
		CHECK_EQ(rows[0], 13);
		sb_close(b);
	}
	free(cols);
}

/* sb_writer_rows and sb_writer_bytes follow the rows and heap written. */
void
test_progress_counters(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("id", 8), 1, SB_KEY_INTEGER),
		tf_col_text("t", true, 'i')
	};
	const char *path = tf_path("progress.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_bundle  *b;
	uint64_t	prev = 0,
				bytes = 0;
	char		buf[64];

	tf_options(&o, path, cols, 2);
	REQUIRE((w = tf_create(&o)) != NULL);
	CHECK_EQ(sb_writer_rows(w), 0);
	CHECK_EQ(sb_writer_bytes(w), 0);
	for (int r = 0; r < 5000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		/* 8 distinct values of 21 to 28 bytes, so most rows add no heap */
		memset(buf, 'a' + r % 8, 20 + r % 8);
		tf_set_var(w, 1, buf, 20 + r % 8);
		CHECK_EQ(sb_writer_rows(w), r);
		tf_end_row(w);
		CHECK_EQ(sb_writer_rows(w), r + 1);
		bytes = sb_writer_bytes(w);
		if (tf_inline_limit && r < SB_INLINE_SAMPLE_ROWS - 1)
		{
			CHECK_EQ(bytes, 0);	/* held back to size the inline area */
			continue;
		}
		CHECKF(bytes > prev, "sb_writer_bytes did not grow at row %d", r);
		if (r >= SB_INLINE_SAMPLE_ROWS)
			CHECK_EQ(bytes - prev, 24);	/* one 24-byte slot, no heap */
		prev = bytes;
	}
	REQUIRE((b = tf_finish(w, path, &stats)) != NULL);
	CHECK_EQ(b->row_size, 24);
	CHECK_EQ(bytes, stats.heap_bytes + stats.rows * b->row_size);
	CHECK_EQ(stats.heap_bytes, b->heap_size);
	sb_close(b);
}

/* Pages of memory that [p, p + len) overlaps. */
static uint64_t
pages_of(const unsigned char *p, uint64_t len)
{
	uintptr_t	ps = (uintptr_t) sysconf(_SC_PAGESIZE);

	if (len == 0)
		return 0;
	return ((uintptr_t) p + len - 1) / ps - (uintptr_t) p / ps + 1;
}

/* Prewarm counts and advice on a bundle, mapped or in memory. */
static void
prewarm_check(sb_bundle *b)
{
	uint64_t	index = pages_of(b->entries, b->entries_size) +
		(b->blocksums ? pages_of(b->blocksums, b->nblocks * 4) : 0),
				rows = pages_of(b->rows, b->row_count * b->row_size),
				heap = pages_of(b->heap, b->heap_size);

	CHECK_EQ(sb_prewarm(b, 0), 0);
	CHECK_EQ(sb_prewarm(b, SB_PREWARM_INDEX), index);
	CHECK_EQ(sb_prewarm(b, SB_PREWARM_ROWS), rows);
	CHECK_EQ(sb_prewarm(b, SB_PREWARM_HEAP), heap);
	CHECK_EQ(sb_prewarm(b, SB_PREWARM_ALL), index + rows + heap);
	sb_advise_scan(b, true);
	sb_advise_scan(b, false);
}

/* sb_prewarm and the madvise hints, on files and on memory images. */
void
test_prewarm_and_advise(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("id", 8), 1, SB_KEY_INTEGER),
		tf_col_text("t", true, 'i')
	};
	const char *path = tf_path("warm.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b,
			   *m;
	unsigned char *img;
	size_t		len = 0;
	char		buf[64];
	uint64_t	rows[2];

	tf_options(&o, path, cols, 2);
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 20000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		tf_set_text(w, 1, (snprintf(buf, sizeof(buf), "value %d", r), buf));
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	CHECK(b->mapped);
	prewarm_check(b);
	CHECK(tf_lookup_int(b, 1234, rows, 2) == 1 && rows[0] == 1234);
	CHECK(tf_text_is(b, 1234, 1, "value 1234", 10));
	sb_close(b);
	if ((img = tf_read_file(path, &len)) != NULL &&
		CHECK_ST(sb_open_memory(img, len, &m, NULL), SB_OK, NULL))
	{
		CHECK(!m->mapped);
		prewarm_check(m);
		sb_close(m);
	}
	free(img);
}
