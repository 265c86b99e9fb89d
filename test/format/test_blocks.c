/*-------------------------------------------------------------------------
 *
 * test_blocks.c
 *	  Block checksums: damage in a block is reported by the first access
 *	  that reads the block, and by nothing that reads only other blocks.
 *
 * A bundle whose rows, heap and index each span several 4 KiB blocks is
 * damaged one byte at a time, and its section and header
 * checksums are recomputed but not its block checksums: it opens, since
 * opening reads none of those sections, and the damage shows only where
 * a read touches the damaged block (docs/format.md, section 11.3).
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdio.h>
#include <stdlib.h>

#define BROWS	20000
#define BLOCK	4096

#define NREGIONS 3

/* The regions in the order of their block checksums. */
static const uint32_t region_kind[NREGIONS] = {
	SB_SECTION_ROWS, SB_SECTION_HEAP, SB_SECTION_ENTRIES
};
static const char *const region_name[NREGIONS] = {
	"row slots", "value heap", "index lines"
};

/* A valid bundle image, opened in place, and where its regions are. */
typedef struct big
{
	unsigned char *img;
	size_t		len;
	sb_bundle  *b;
	uint64_t	off[NREGIONS],
				size[NREGIONS];	/* per sb_region */
} big;

/* The text value of row r: 20 bytes, so that the heap has many blocks. */
static const char *
row_text(int r, char *buf, size_t size)
{
	snprintf(buf, size, "value %06d of rows", r);
	return buf;
}

/*
 * Build the bundle (int8 key = row number, text) and load its image.  With
 * section_align 64, sections and blocks do not start on pages and short
 * values cross blocks, which the cases below need.
 */
static bool
big_load(big *d, uint32_t section_align)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("id", 8), 1, SB_KEY_INTEGER),
		tf_col_text("t", true, 'i')
	};
	const char *path = tf_path(section_align == 0 ? "big_a.sb" : "big.sb");
	sb_writer_options o;
	sb_writer  *w;
	char		buf[32];

	memset(d, 0, sizeof(*d));
	tf_options(&o, path, cols, 2);
	o.section_align = section_align;
	o.inline_limit = 0;			/* needs a heap of many blocks */
	if ((w = tf_create(&o)) == NULL)
		return false;
	for (int r = 0; r < BROWS; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, r);
		tf_set_text(w, 1, row_text(r, buf, sizeof(buf)));
		tf_end_row(w);
	}
	if ((d->b = tf_finish_image(w, path, &d->img, &d->len)) == NULL)
		return false;
	for (int r = 0; r < NREGIONS; r++)
		if (!CHECK(tf_section(d->img, region_kind[r], &d->off[r], &d->size[r])))
			return false;
	/* several blocks in every region */
	return CHECK_EQ(d->b->block_shift, 12) &&
		CHECK(d->size[SB_REGION_ROWS] > 100 * BLOCK) &&
		CHECK(d->size[SB_REGION_HEAP] > 100 * BLOCK) &&
		CHECK(d->size[SB_REGION_ENTRIES] > 20 * BLOCK);
}

static void
big_free(big *d)
{
	sb_close(d->b);
	free(d->img);
}

/*
 * A copy of the image with the byte at offset 'off' of a region flipped,
 * its section and header checksums recomputed but not its block
 * checksums; opened from memory (it must open).  Returns the copy.
 */
static unsigned char *
damage(const big *d, sb_region r, uint64_t off, sb_bundle **out)
{
	unsigned char *img = malloc(d->len);
	sb_error	err;

	*out = NULL;
	if (!CHECK(img != NULL && off < d->size[r]))
	{
		free(img);
		return NULL;
	}
	memcpy(img, d->img, d->len);
	img[d->off[r] + off] ^= 0xFF;
	tf_fix_section_checksums(img, d->len);
	if (!CHECK_ST(sb_open_memory(img, d->len, out, &err), SB_OK, &err))
	{
		free(img);
		return NULL;
	}
	return img;
}

/* Close and free what damage() made. */
static void
undamage(sb_bundle *b, unsigned char *img)
{
	sb_close(b);
	free(img);
}

/*
 * Expect a checksum error that names block 'block' of region r; 'st' is a
 * status, or a number of rows found.
 */
static bool
expect_block_error(int st, const sb_error *err, sb_region r, uint64_t block,
				   const char *what)
{
	char		want[96];

	snprintf(want, sizeof(want), "block %llu of the %s",
			 (unsigned long long) block, region_name[r]);
	if (st > 0)
		return CHECKF(false, "%s: %d rows found, expected a checksum error in %s",
					  what, st, want);
	return CHECKF(st == SB_ERR_CHECKSUM && strstr(err->detail, want) != NULL,
				  "%s: %s (%s), expected a checksum error in %s", what,
				  sb_status_name(st), st ? err->detail : "", want);
}

/* Read row r's id through sb_row_get: the status. */
static sb_status
read_row(sb_bundle *b, uint64_t r, sb_error *err)
{
	const unsigned char *slot;
	sb_value	v;
	sb_status	st;
	int64_t		id;

	if ((st = sb_row_get(b, r, &slot, err)) != SB_OK)
		return st;
	if ((st = sb_slot_value(b, slot, 0, &v, err)) != SB_OK)
		return st;
	memcpy(&id, v.ptr, 8);
	CHECKF(id == (int64_t) r, "row %llu holds id %lld", (unsigned long long) r,
		   (long long) id);
	return SB_OK;
}

/* Read row r's text value: the status; the value must be right if read. */
static sb_status
read_value(sb_bundle *b, uint64_t r, sb_error *err)
{
	const unsigned char *slot;
	sb_value	v;
	sb_status	st;
	char		buf[32];

	if ((st = sb_row_get(b, r, &slot, err)) != SB_OK)
		return st;
	if ((st = sb_slot_value(b, slot, 1, &v, err)) != SB_OK)
		return st;
	row_text((int) r, buf, sizeof(buf));
	CHECKF(v.len == 1 + strlen(buf) && memcmp(v.ptr + 1, buf, strlen(buf)) == 0,
		   "row %llu: wrong value", (unsigned long long) r);
	return SB_OK;
}

/*
 * Look key k up: the number of rows found (row k), or an error status.
 * 'staged' takes it in the batched step first (sb_lookup_prefetch_row),
 * which must leave errors to sb_lookup_next.
 */
static int
lookup_in(sb_bundle *b, int64_t k, bool staged, sb_error *err)
{
	sb_key_part p = {NULL, 0, k};
	sb_lookup	it;
	uint64_t	h,
				row;
	int			n = 0,
				st;

	if ((st = sb_key_hash(b, &p, &h, err)) != SB_OK)
		return st;
	sb_lookup_start(b, &p, h, &it);
	if (staged)
		sb_lookup_prefetch_row(b, &it);
	while ((st = sb_lookup_next(b, &it, &row, err)) == 1)
	{
		CHECKF(row == (uint64_t) k, "key %lld found in row %llu", (long long) k,
			   (unsigned long long) row);
		n++;
	}
	return st < 0 ? st : n;
}

/* Look key k up in one go. */
static int
lookup(sb_bundle *b, int64_t k, sb_error *err)
{
	return lookup_in(b, k, false, err);
}

/* The blocks that bytes [off, off + len) of a region touch (len > 0). */
static void
block_range(uint64_t off, uint64_t len, uint64_t *first, uint64_t *last)
{
	*first = off / BLOCK;
	*last = (off + len - 1) / BLOCK;
}

/* Heap offset and length of row r's value, in the undamaged bundle. */
static void
value_place(const big *d, uint64_t r, uint64_t *off, uint64_t *len)
{
	sb_value	v;

	sb_slot_value(d->b, sb_row_slot(d->b, r), 1, &v, NULL);
	*off = (uint64_t) (v.ptr - d->b->heap);
	*len = v.len;
}

/*
 * The index blocks a lookup of key k may read: its home line's, and the
 * next line's (where a full line passes entries on).
 */
static void
line_blocks(const big *d, int64_t k, uint64_t *first, uint64_t *last)
{
	sb_key_part p = {NULL, 0, k};
	uint64_t	h = 0,
				home;

	sb_key_hash(d->b, &p, &h, NULL);
	home = sb_line_home(h, d->b->home_lines);
	*first = home * SB_LINE_BYTES / BLOCK;
	*last = (home + 1) * SB_LINE_BYTES / BLOCK;
}

/* Number of blocks verified so far. */
static uint64_t
verified_count(sb_bundle *b)
{
	uint64_t	n = 0;

	for (uint64_t g = 0; g < b->nblocks; g++)
		n += (b->verified[g >> 6] >> (g & 63)) & 1;
	return n;
}

/* Is global block g verified? */
static bool
is_verified(sb_bundle *b, uint64_t g)
{
	return (b->verified[g >> 6] >> (g & 63)) & 1;
}

/*
 * Rows: damage in rows block K fails reading every row whose slot touches
 * it (also one straddling from block K - 1), again and again, and lookups
 * that compare such a row; other rows and lookups work; prewarm verifies
 * every other block and leaves block K to fail; sb_verify reports it.
 */
static void
rows_case(const big *d)
{
	const uint64_t K = 50;
	uint32_t	rs = d->b->row_size;
	uint64_t	r = (K * BLOCK + 100) / rs,
				straddle = (K * BLOCK) / rs,	/* starts in K - 1, ends in K */
				first;
	sb_bundle  *b;
	unsigned char *img = damage(d, SB_REGION_ROWS, K * BLOCK + 100, &b);
	sb_error	err;

	REQUIRE(img != NULL);
	REQUIRE(CHECK((K * BLOCK) % rs != 0 && (straddle + 1) * rs > K * BLOCK));
	CHECK_EQ(verified_count(b), 0);
	expect_block_error(read_row(b, r, &err), &err, SB_REGION_ROWS, K, "damaged row");
	expect_block_error(read_row(b, r, &err), &err, SB_REGION_ROWS, K, "damaged row again");
	expect_block_error(read_row(b, r + 3, &err), &err, SB_REGION_ROWS, K,
					   "another row of the block");
	expect_block_error(read_row(b, straddle, &err), &err, SB_REGION_ROWS, K,
					   "row straddling into the block");
	CHECK_ST(read_row(b, straddle - 1, &err), SB_OK, &err);
	CHECK_ST(read_row(b, 0, &err), SB_OK, &err);
	CHECK_ST(read_row(b, BROWS - 1, &err), SB_OK, &err);
	CHECK_ST(read_value(b, r, &err), SB_ERR_CHECKSUM, &err);
	expect_block_error(lookup(b, (int64_t) r, &err), &err, SB_REGION_ROWS, K,
					   "lookup of the damaged row's key");
	CHECK_EQ(lookup(b, 0, &err), 1);
	CHECK_EQ(lookup(b, BROWS - 1, &err), 1);
	CHECK_EQ(lookup(b, BROWS, &err), 0);
	/* prewarm verifies all else and does not mark the damaged block */
	sb_prewarm(b, SB_PREWARM_ALL);
	CHECK_EQ(verified_count(b), b->nblocks - 1);
	CHECK(!is_verified(b, b->block_first[SB_REGION_ROWS] + K));
	expect_block_error(read_row(b, r, &err), &err, SB_REGION_ROWS, K,
					   "damaged row after prewarm");
	expect_block_error(sb_verify(b, &err), &err, SB_REGION_ROWS, K, "sb_verify");
	undamage(b, img);

	/* the undamaged bundle: one verified block per first read, then all */
	REQUIRE(CHECK_ST(sb_open_memory(d->img, d->len, &b, &err), SB_OK, &err));
	CHECK_ST(read_row(b, r, &err), SB_OK, &err);
	first = b->block_first[SB_REGION_ROWS] + K;
	CHECK(verified_count(b) == 1 && is_verified(b, first));
	sb_prewarm(b, SB_PREWARM_ALL);
	CHECK_EQ(verified_count(b), b->nblocks);
	sb_close(b);
}

/*
 * Heap: damage in heap block K fails reading the values that touch it,
 * also one that only ends in it, but neither reading their rows nor
 * looking their keys up (an int8 key is in the row); other values work.
 */
static void
heap_case(const big *d)
{
	const uint64_t K = 40;
	uint64_t	inside = UINT64_MAX,
				crossing = UINT64_MAX,
				off,
				len,
				f,
				l;
	sb_bundle  *b;
	unsigned char *img;
	sb_error	err;

	for (uint64_t r = 0; r < BROWS; r++)
	{
		value_place(d, r, &off, &len);
		block_range(off, len, &f, &l);
		if (f == K && l == K && inside == UINT64_MAX && off % BLOCK > 64)
			inside = r;
		if (f == K - 1 && l == K)
			crossing = r;
	}
	REQUIRE(CHECK(inside != UINT64_MAX && crossing != UINT64_MAX));
	value_place(d, inside, &off, &len);
	img = damage(d, SB_REGION_HEAP, off + len - 1, &b);	/* its last byte */
	REQUIRE(img != NULL);
	CHECK_ST(read_row(b, inside, &err), SB_OK, &err);
	expect_block_error(read_value(b, inside, &err), &err, SB_REGION_HEAP, K,
					   "damaged value");
	expect_block_error(read_value(b, inside, &err), &err, SB_REGION_HEAP, K,
					   "damaged value again");
	expect_block_error(read_value(b, crossing, &err), &err, SB_REGION_HEAP, K,
					   "value ending in the block");
	CHECK_ST(read_value(b, crossing - 1, &err), SB_OK, &err);
	CHECK_ST(read_value(b, 0, &err), SB_OK, &err);
	CHECK_ST(read_value(b, BROWS - 1, &err), SB_OK, &err);
	CHECK_EQ(lookup(b, (int64_t) inside, &err), 1);
	expect_block_error(sb_verify(b, &err), &err, SB_REGION_HEAP, K, "sb_verify");
	undamage(b, img);
}

/*
 * Index: damage in index block K fails the lookups whose home line is in
 * it, and no lookup that reads only other blocks.
 */
static void
index_case(const big *d)
{
	const uint64_t K = 10;
	uint64_t	f,
				l;
	int			hits = 0,
				misses = 0;
	sb_bundle  *b;
	unsigned char *img = damage(d, SB_REGION_ENTRIES, K * BLOCK + 2000, &b);
	sb_error	err;

	REQUIRE(img != NULL);
	for (int64_t k = 0; k < BROWS; k += 7)
	{
		int			n;

		line_blocks(d, k, &f, &l);
		if (f != K && l == K)
			continue;			/* reads block K only if its line is full */
		n = lookup(b, k, &err);
		if (f == K)
		{
			expect_block_error(n, &err, SB_REGION_ENTRIES, K, "lookup in the block");
			expect_block_error(lookup_in(b, k, true, &err), &err, SB_REGION_ENTRIES, K,
							   "the same lookup in batched steps");
			hits++;
		}
		else
		{
			CHECKF(n == 1, "key %lld: %d (%s)", (long long) k, n, n < 0 ? err.detail : "");
			misses++;
		}
	}
	CHECK(hits > 0 && misses > 0);
	CHECK_ST(read_row(b, 0, &err), SB_OK, &err);
	expect_block_error(sb_verify(b, &err), &err, SB_REGION_ENTRIES, K, "sb_verify");
	undamage(b, img);
}

/*
 * A wrong stored checksum, the data intact: the block fails just the same
 * (the block checksums section's own checksum is recomputed).
 */
static void
stored_sum_case(const big *d)
{
	const uint64_t K = 5;
	uint64_t	boff,
				blen,
				r = (K * BLOCK) / d->b->row_size + 1;
	unsigned char *img = malloc(d->len);
	sb_bundle  *b;
	sb_error	err;

	REQUIRE(img != NULL);
	memcpy(img, d->img, d->len);
	if (CHECK(tf_section(img, SB_SECTION_BLOCKSUMS, &boff, &blen)) &&
		CHECK(blen == 4 * d->b->nblocks))
	{
		img[boff + 4 * (d->b->block_first[SB_REGION_ROWS] + K)] ^= 1;
		tf_fix_section_checksums(img, d->len);
		if (CHECK_ST(sb_open_memory(img, d->len, &b, &err), SB_OK, &err))
		{
			expect_block_error(read_row(b, r, &err), &err, SB_REGION_ROWS, K,
							   "row under a wrong checksum");
			CHECK_ST(read_row(b, r + BLOCK / d->b->row_size, &err), SB_OK, &err);
			expect_block_error(sb_verify(b, &err), &err, SB_REGION_ROWS, K, "sb_verify");
			sb_close(b);
		}
	}
	free(img);
}

/*
 * The writer's default alignment: every region starts on a page, so every
 * block is one page, and no short value crosses a block.
 */
static void
default_alignment_case(void)
{
	big			d;
	uint64_t	off,
				len,
				f,
				l;

	REQUIRE(big_load(&d, 0));
	for (int r = 0; r < NREGIONS; r++)
		CHECKF(d.off[r] % BLOCK == 0, "%s start at offset %llu", region_name[r],
			   (unsigned long long) d.off[r]);
	for (uint64_t r = 0; r < BROWS; r++)
	{
		value_place(&d, r, &off, &len);
		block_range(off, len, &f, &l);
		if (!CHECKF(f == l, "row %llu: its value crosses a block",
					(unsigned long long) r))
			break;
	}
	big_free(&d);
}

/* Block checksums catch damage where it is read, and nowhere else. */
void
test_block_checksums(void)
{
	big			d;

	REQUIRE(big_load(&d, 64));
	/* the section: a u32 per block of the three regions, in order */
	CHECK_EQ(d.b->block_first[SB_REGION_ROWS], 0);
	for (int r = 0; r < NREGIONS; r++)
		CHECK_EQ((r < NREGIONS - 1 ? d.b->block_first[r + 1] : d.b->nblocks) -
				 d.b->block_first[r], (d.size[r] + BLOCK - 1) / BLOCK);
	rows_case(&d);
	heap_case(&d);
	index_case(&d);
	stored_sum_case(&d);
	big_free(&d);
	default_alignment_case();
}
