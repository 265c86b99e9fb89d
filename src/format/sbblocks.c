/*-------------------------------------------------------------------------
 *
 * sbblocks.c
 *	  Block checksums: every 4 KiB block of the rows, value heap and index
 *	  has a checksum, verified the first time a reader touches the block.
 *
 * Section checksums prove a whole file, but only a full verification reads
 * whole sections.  Block checksums let a reader detect damage in exactly
 * what it uses: a lookup verifies the few blocks it reads, once, and then
 * only tests a bit; a damaged byte anywhere a query looks is an error,
 * never a wrong answer.  Blocks are counted from the start of each
 * section; the last block of a section may be short.  A checksum is the
 * low 32 bits of XXH3-64 (seed 0) of the block's bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <stdlib.h>

#define BLOCK_SIZE	((size_t) 1 << SB_BLOCK_SHIFT)

/*
 * The word of the verified map after its block bits, of n blocks: a bit
 * per region whose blocks are all verified (see verify_region).
 */
#define REGION_WORD(n)	((n) / 64 + 1)
#define region_done(b)	(&(b)->verified[REGION_WORD((b)->nblocks)])

/* Checksum of one block. */
uint32_t
sb_block_checksum(const void *data, size_t len)
{
	return (uint32_t) sb_checksum(data, len);
}

/* Start collecting the block checksums of a section being written. */
sb_blocksums *
sb_blocksums_create(void)
{
	sb_blocksums *acc = calloc(1, sizeof(sb_blocksums));

	if (acc && (acc->block = malloc(BLOCK_SIZE)) == NULL)
	{
		free(acc);
		acc = NULL;
	}
	return acc;
}

/* Record the checksum of a completed block. */
static void
push_sum(sb_blocksums *acc, uint32_t sum)
{
	if (acc->n == acc->cap)
	{
		size_t		cap = acc->cap ? acc->cap * 2 : 1024;
		uint32_t   *s = realloc(acc->sums, cap * sizeof(uint32_t));

		if (s == NULL)
		{
			acc->failed = true;
			return;
		}
		acc->sums = s;
		acc->cap = cap;
	}
	acc->sums[acc->n++] = sum;
}

/* Add bytes written to the section. */
void
sb_blocksums_feed(sb_blocksums *acc, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0)
	{
		size_t		take;

		if (acc->fill == 0 && len >= BLOCK_SIZE)
		{
			push_sum(acc, sb_block_checksum(p, BLOCK_SIZE));
			p += BLOCK_SIZE;
			len -= BLOCK_SIZE;
			continue;
		}
		take = BLOCK_SIZE - acc->fill < len ? BLOCK_SIZE - acc->fill : len;
		memcpy(acc->block + acc->fill, p, take);
		acc->fill += take;
		p += take;
		len -= take;
		if (acc->fill == BLOCK_SIZE)
		{
			push_sum(acc, sb_block_checksum(acc->block, BLOCK_SIZE));
			acc->fill = 0;
		}
	}
}

/*
 * Add the checksums of 'n' whole blocks known already (a merge's copy of
 * its base's blocks), at a block boundary.
 */
void
sb_blocksums_push(sb_blocksums *acc, const uint32_t *sums, size_t n)
{
	for (size_t i = 0; i < n; i++)
		push_sum(acc, sums[i]);
}

/* The section is complete: checksum its last, short block.  False if out of memory. */
bool
sb_blocksums_finish(sb_blocksums *acc)
{
	if (acc->fill > 0)
		push_sum(acc, sb_block_checksum(acc->block, acc->fill));
	acc->fill = 0;
	return !acc->failed;
}

/* Free a collection of block checksums. */
void
sb_blocksums_free(sb_blocksums *acc)
{
	if (acc == NULL)
		return;
	free(acc->sums);
	free(acc->block);
	free(acc);
}

/* Start and length of a region. */
static void
region_bounds(const sb_bundle *b, sb_region r, const unsigned char **p,
			  uint64_t *len)
{
	switch (r)
	{
		case SB_REGION_ROWS:
			*p = b->rows;
			*len = b->row_count * b->row_size;
			break;
		case SB_REGION_HEAP:
			*p = b->heap;
			*len = b->heap_size;
			break;
		default:
			*p = b->entries;
			*len = b->entries_size;
			break;
	}
}

/* Number of blocks of a region of 'len' bytes. */
static uint64_t
blocks_of(uint64_t len, unsigned shift)
{
	return (len + ((uint64_t) 1 << shift) - 1) >> shift;
}

/*
 * Set up block checking at open: the checksum section must hold one
 * checksum per block of the rows, heap and index, in that order.
 */
sb_status
sb_blocks_open(sb_bundle *b, const sb_section_info *sec, unsigned shift,
			   sb_error *err)
{
	uint64_t	n = 0;

	if (sec == NULL && shift == 0)
		return SB_OK;
	if (sec == NULL || shift < 9 || shift > 24)
		return sb_fail(err, SB_ERR_CORRUPT, "invalid block checksums (block shift %u)",
					   shift);
	b->block_shift = (uint8_t) shift;
	for (int r = SB_REGION_ROWS; r <= SB_REGION_ENTRIES; r++)
	{
		const unsigned char *p;
		uint64_t	len;

		region_bounds(b, (sb_region) r, &p, &len);
		b->block_first[r] = n;
		n += blocks_of(len, shift);
	}
	if (sec->length / 4 != n || sec->length % 4 != 0)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "block checksum section of %llu bytes does not hold %llu checksums",
					   (unsigned long long) sec->length, (unsigned long long) n);
	/*
	 * The section's own checksum is left to full verification: it would
	 * read 1 MB per GB of bundle at every open.  A damaged checksum fails
	 * the block it covers, which is an error just the same.
	 */
	b->verified = calloc(REGION_WORD(n) + 1, sizeof(uint64_t));
	if (b->verified == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate block map");
	b->nblocks = n;
	b->blocksums = b->base + sec->offset;
	return SB_OK;
}

/* Verify blocks [first, last] of a region ('force': those verified too). */
static sb_status
verify_blocks(sb_bundle *b, sb_region r, uint64_t first, uint64_t last,
			  bool force, sb_error *err)
{
	const unsigned char *p;
	uint64_t	len;

	region_bounds(b, r, &p, &len);
	for (uint64_t i = first; i <= last; i++)
	{
		uint64_t	g = b->block_first[r] + i;
		uint64_t	off = i << b->block_shift;
		uint64_t	n = (uint64_t) 1 << b->block_shift;

		if (!force && (g & 63) == 0 && i + 63 <= last &&
			b->verified[g >> 6] == UINT64_MAX)
		{
			i += 63;			/* 64 verified blocks at once */
			continue;
		}
		if (!force && ((b->verified[g >> 6] >> (g & 63)) & 1))
			continue;
		if (n > len - off)
			n = len - off;
		if (sb_block_checksum(p + off, (size_t) n) != sb_load32(b->blocksums + 4 * g))
			return sb_fail(err, SB_ERR_CHECKSUM,
						   "checksum mismatch in block %llu of the %s",
						   (unsigned long long) i,
						   r == SB_REGION_ROWS ? "row slots" :
						   r == SB_REGION_HEAP ? "value heap" : "index lines");
		b->verified[g >> 6] |= UINT64_C(1) << (g & 63);
	}
	return SB_OK;
}

/* The slow path of sb_check: verify the blocks a range touches. */
sb_status
sb_check_slow(sb_bundle *b, sb_region region, uint64_t off, uint64_t len,
			  sb_error *err)
{
	const unsigned char *p;
	uint64_t	rlen;

	region_bounds(b, region, &p, &rlen);
	if (off > rlen || len > rlen - off)
		return sb_fail(err, SB_ERR_CORRUPT, "access beyond the end of a section");
	if ((*region_done(b) >> region) & 1)
		return SB_OK;
	return verify_blocks(b, region, off >> b->block_shift,
						 (off + len - 1) >> b->block_shift, false, err);
}

/*
 * Verify every block of a region ('force': those verified too) and, when
 * they pass, set the region's bit: later checks of it test only that.
 */
static sb_status
verify_region(sb_bundle *b, sb_region r, bool force, sb_error *err)
{
	const unsigned char *p;
	uint64_t	len;
	sb_status	st;

	region_bounds(b, r, &p, &len);
	if (len > 0 &&
		(st = verify_blocks(b, r, 0, (len - 1) >> b->block_shift, force,
							err)) != SB_OK)
		return st;
	*region_done(b) |= UINT64_C(1) << r;
	return SB_OK;
}

/* Verify every block checksum (full verification). */
sb_status
sb_blocks_verify_all(sb_bundle *b, sb_error *err)
{
	if (b->blocksums == NULL)
		return SB_OK;
	for (int r = SB_REGION_ROWS; r <= SB_REGION_ENTRIES; r++)
	{
		sb_status	st = verify_region(b, (sb_region) r, true, err);

		if (st != SB_OK)
			return st;
	}
	return SB_OK;
}

/* Find a section of a raw image by kind: offset and length, or false. */
static bool
raw_section(const unsigned char *img, size_t len, uint32_t kind,
			uint64_t *off, uint64_t *slen)
{
	uint32_t	hsize = sb_load32(img + SB_HDR_HEADER_SIZE);
	uint32_t	nsec = sb_load32(img + SB_HDR_NSECTIONS);

	for (uint32_t i = 0; i < nsec && i < SB_MAX_SECTIONS &&
		 SB_HEADER_FIXED + (i + 1) * SB_SECTION_ENTRY <= hsize &&
		 SB_HEADER_FIXED + (i + 1) * SB_SECTION_ENTRY <= len; i++)
	{
		const unsigned char *e = img + SB_HEADER_FIXED + i * SB_SECTION_ENTRY;

		if (sb_load32(e + SB_SEC_KIND) != kind)
			continue;
		*off = sb_load64(e + SB_SEC_OFFSET);
		*slen = sb_load64(e + SB_SEC_LENGTH);
		return *off <= len && *slen <= len - *off;
	}
	return false;
}

/*
 * Recompute the block checksums of a raw bundle image in place, as far as
 * its sections allow (tests and fuzzers damage images and then repair the
 * checksums, to reach the structural checks behind them).  The section
 * and header checksums must be recomputed afterwards.
 */
void
sb_blocks_recompute(unsigned char *img, size_t len)
{
	static const uint32_t kinds[3] = {
		SB_SECTION_ROWS, SB_SECTION_HEAP, SB_SECTION_ENTRIES};
	uint64_t	soff,
				slen,
				pos;
	size_t		bs = (size_t) 1 << SB_BLOCK_SHIFT;

	if (len < SB_HEADER_FIXED || img[SB_HDR_BLOCK_SHIFT] != SB_BLOCK_SHIFT ||
		!raw_section(img, len, SB_SECTION_BLOCKSUMS, &soff, &slen))
		return;
	pos = soff;
	for (int r = 0; r < 3; r++)
	{
		uint64_t	off,
					rlen;

		if (!raw_section(img, len, kinds[r], &off, &rlen))
			continue;
		for (uint64_t b = 0; b < rlen && pos + 4 <= soff + slen; b += bs, pos += 4)
			sb_store32(img + pos, sb_block_checksum(img + off + b,
													rlen - b < bs ? (size_t) (rlen - b) : bs));
	}
}
