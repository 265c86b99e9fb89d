/*-------------------------------------------------------------------------
 *
 * test_large.c
 *	  Large bundles: a million and a half keys, and an index sort that
 *	  spills to disk and must give the same index as one in memory, for
 *	  every index kind.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdio.h>
#include <stdlib.h>

/* A bijection of r: distinct r give distinct keys. */
static int64_t
scramble(uint64_t r)
{
	return (int64_t) ((r * UINT64_C(0x9E3779B97F4A7C15)) ^ UINT64_C(0x0123456789ABCDEF));
}

/* Build a bundle of n int8 keys scramble(0..n-1) with the row number. */
static sb_bundle *
million_bundle(const char *file, int n, sb_build_stats *stats)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER), tf_col_int("r", 4)
	};
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;

	tf_options(&o, path, cols, 2);
	o.dedup = false;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < n; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, scramble(r));
		tf_set_int(w, 1, 4, r);
		if (!tf_end_row(w))
			break;
	}
	return tf_finish(w, path, stats);
}

/* Every present key found at its row; every absent key not found. */
static void
million_lookups(sb_bundle *b, int n)
{
	uint64_t	rows[2];
	int			wrong = 0,
				found = 0,
				first = -1;

	for (int r = 0; r < n; r++)
	{
		if (tf_lookup_int(b, scramble(r), rows, 2) != 1 || rows[0] != (uint64_t) r)
		{
			if (wrong++ == 0)
				first = r;
		}
		if (tf_lookup_int(b, scramble((uint64_t) n + r), rows, 2) != 0)
			found++;
	}
	CHECKF(wrong == 0, "%d of %d keys not found at their row (first: row %d)",
		   wrong, n, first);
	CHECKF(found == 0, "%d of %d absent keys found", found, n);
}

/* Mean number of index lines the lookups of the first n keys read. */
static double
lines_per_lookup(sb_bundle *b, int n)
{
	uint64_t	lines = 0;

	for (int r = 0; r < n; r++)
	{
		sb_key_part part = {.ival = scramble(r)};
		sb_lookup	it;
		uint64_t	h,
					row;

		if (sb_key_hash(b, &part, &h, NULL) != SB_OK)
			return -1;
		sb_lookup_start(b, &part, h, &it);
		while (sb_lookup_next(b, &it, &row, NULL) == 1)
			;
		lines += ((sb_lookup_state *) &it)->line - sb_line_home(h, b->home_lines) + 1;
	}
	return (double) lines / n;
}

/* 1.5 million int8 keys: all found, none made up. */
void
test_million_keys(void)
{
	const int	n = 1500000;
	sb_build_stats stats;
	sb_bundle  *b;
	double		lines;

	REQUIRE((b = million_bundle("million.sb", n, &stats)) != NULL);
	CHECK_EQ(stats.rows, n);
	CHECK_EQ(stats.indexed, n);
	CHECK_EQ(stats.distinct_keys, n);
	CHECK_EQ(b->home_lines, n / 7.5);
	CHECKF(b->entries_size <= (uint64_t) n * 9, "%llu index bytes for %d keys",
		   (unsigned long long) b->entries_size, n);
	CHECKF(b->max_run <= 4, "a home line's entries span %llu lines",
		   (unsigned long long) b->max_run);
	lines = lines_per_lookup(b, n);
	CHECKF(lines >= 1 && lines < 1.1, "%.3f index lines per lookup", lines);
	million_lookups(b, n);
	sb_close(b);
}

/* Key of row r in the spill test: each key twice, n/2 rows apart. */
static int64_t
spill_key(int r, int n)
{
	return (int64_t) (r % (n / 2)) * 2654435761 - 12345;
}

/* Build the spill test's bundle with a memory budget. */
static bool
spill_build(const char *file, int n, size_t budget, sb_build_stats *stats)
{
	sb_column	col = tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER);
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;
	sb_error	err;
	sb_status	st;

	tf_options(&o, path, &col, 1);
	o.memory_budget = budget;
	o.dedup = false;
	if ((w = tf_create(&o)) == NULL)
		return false;
	for (int r = 0; r < n; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, spill_key(r, n));
		if (!tf_end_row(w))
			break;
	}
	st = sb_writer_finish(w, stats, &err);
	sb_writer_free(w);
	return CHECK_ST(st, SB_OK, &err);
}

/* Are the bytes of one section equal in two images? */
static void
same_section(const unsigned char *a, const unsigned char *b, uint32_t kind)
{
	uint64_t	ao,
				al,
				bo,
				bl;

	REQUIRE(tf_section(a, kind, &ao, &al) && tf_section(b, kind, &bo, &bl));
	CHECKF(al == bl && memcmp(a + ao, b + bo, al) == 0,
		   "section %u differs (%llu and %llu bytes)", kind,
		   (unsigned long long) al, (unsigned long long) bl);
}

/* Compare two builds: index sections equal, all but the build time. */
static void
spill_compare(const char *fa, const char *fb)
{
	size_t		la,
				lb;
	unsigned char *a = tf_read_file(tf_path(fa), &la);
	unsigned char *b = tf_read_file(tf_path(fb), &lb);

	if (a && b && CHECK_EQ(la, lb))
	{
		same_section(a, b, SB_SECTION_ENTRIES);
		memset(a + SB_HDR_BUILD_TIME, 0, 8);
		memset(b + SB_HDR_BUILD_TIME, 0, 8);
		memset(a + SB_HDR_CHECKSUM, 0, 8);
		memset(b + SB_HDR_CHECKSUM, 0, 8);
		CHECKF(memcmp(a, b, la) == 0, "the files differ beyond the build time");
	}
	free(a);
	free(b);
}

/* Lookups in the spilled bundle: each key at rows r and r + n/2. */
static void
spill_lookups(const char *file, int n)
{
	sb_bundle  *b = tf_open(tf_path(file));
	uint64_t	rows[4];
	int			wrong = 0;

	REQUIRE(b != NULL);
	for (int r = 0; r < n / 2; r += 97)
		if (tf_lookup_int(b, spill_key(r, n), rows, 4) != 2 ||
			rows[0] != (uint64_t) r || rows[1] != (uint64_t) (r + n / 2))
			wrong++;
	CHECK_EQ(wrong, 0);
	sb_close(b);
}

/* The index sort spills runs within a 1 MB budget; same index results. */
void
test_spill_index_sort(void)
{
	const int	n = 3000000;
	sb_build_stats small,
				large;
	const char *fs = "small.sb";
	const char *fl = "large.sb";

	if (!spill_build(fs, n, 1 << 20, &small) ||
		!spill_build(fl, n, (size_t) 256 << 20, &large))
		return;
	CHECKF(small.spill_runs > 1, "%u runs with a 1 MB budget", small.spill_runs);
	CHECK_EQ(large.spill_runs, 0);
	CHECK_EQ(small.indexed, n);
	CHECK_EQ(small.distinct_keys, n / 2);
	CHECK_EQ(large.distinct_keys, n / 2);
	spill_compare(fs, fl);
	spill_lookups(fs, n);
	sb_close(tf_open(tf_path(fl)));		/* verified too */
	/* the spill files are gone; only the bundles remain */
	CHECK_EQ(tf_count_files(tf_dir()), 2);
	remove(tf_path(fs));
	remove(tf_path(fl));
}
