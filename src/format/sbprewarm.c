/*-------------------------------------------------------------------------
 *
 * sbprewarm.c
 *	  Bringing parts of a bundle into memory ahead of use.
 *
 * Prewarming asks the kernel to read a range ahead (MADV_WILLNEED), then
 * touches one byte of every page so that the pages are in the page cache
 * and in this process's page tables: the first lookups then take no major
 * and no minor faults.  sb_open() advises MADV_RANDOM over the whole
 * mapping, so that a cold lookup reads the pages it needs and not
 * megabytes of read-ahead; scans and verification ask for read-ahead
 * over the rows and values while they run.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <sys/mman.h>
#include <unistd.h>

/* Advise and touch the pages of [p, p + len); returns the pages touched. */
static uint64_t
touch_range(const sb_bundle *b, const unsigned char *p, uint64_t len)
{
	long		pagesize = sysconf(_SC_PAGESIZE);
	uintptr_t	start = (uintptr_t) p & ~((uintptr_t) pagesize - 1);
	uintptr_t	end = (uintptr_t) p + len;
	volatile unsigned char sink = 0;
	uint64_t	pages = 0;

	if (len == 0)
		return 0;
	if (b->mapped)
		(void) madvise((void *) start, end - start, MADV_WILLNEED);
	for (uintptr_t a = start; a < end; a += (uintptr_t) pagesize)
	{
		/* the first page may begin before the mapping's section: clamp */
		const unsigned char *q = (const unsigned char *) (a < (uintptr_t) p ? (uintptr_t) p : a);

		sink ^= *q;
		pages++;
	}
	(void) sink;
	return pages;
}

/*
 * Prewarm a region: touch its pages, and verify its block checksums while
 * at it, so that later reads only test a bit.  (A damaged block is left
 * unverified; reading it later reports the damage.)
 */
static uint64_t
prewarm_region(sb_bundle *b, sb_region r, const unsigned char *p,
			   uint64_t len)
{
	uint64_t	pages = touch_range(b, p, len);

	for (uint64_t off = 0; b->blocksums && off < len;
		 off += (uint64_t) 1 << b->block_shift)
	{
		uint64_t	n = (uint64_t) 1 << b->block_shift;

		(void) sb_check(b, r, off, n < len - off ? n : len - off, NULL);
	}
	return pages;
}

/* Prewarm the parts of a bundle named by 'what' (SB_PREWARM_* flags). */
uint64_t
sb_prewarm(sb_bundle *b, unsigned what)
{
	uint64_t	pages = 0;

	if (what & SB_PREWARM_INDEX)
	{
		/* the block checksums first: every later read needs its own */
		if (b->blocksums)
			pages += touch_range(b, b->blocksums, b->nblocks * 4);
		pages += prewarm_region(b, SB_REGION_ENTRIES, b->entries, b->entries_size);
	}
	if (what & SB_PREWARM_ROWS)
		pages += prewarm_region(b, SB_REGION_ROWS, b->rows, b->row_count * b->row_size);
	if (what & SB_PREWARM_HEAP)
		pages += prewarm_region(b, SB_REGION_HEAP, b->heap, b->heap_size);
	return pages;
}

/* madvise() a section's pages (the range rounded out to whole pages). */
static void
advise_range(const unsigned char *p, uint64_t len, int advice)
{
	long		pagesize = sysconf(_SC_PAGESIZE);
	uintptr_t	start = (uintptr_t) p & ~((uintptr_t) pagesize - 1);

	if (len > 0)
		(void) madvise((void *) start, (uintptr_t) p + len - start, advice);
}

/*
 * Advise the kernel that a scan reads the rows and values in order
 * (aggressive read-ahead), or, when it ends, that they are random again.
 */
void
sb_advise_scan(const sb_bundle *b, bool sequential)
{
	int			advice = sequential ? MADV_SEQUENTIAL : MADV_RANDOM;

	if (!b->mapped)
		return;
	advise_range(b->rows, b->row_count * b->row_size, advice);
	advise_range(b->heap, b->heap_size, advice);
}

/*
 * Map the rows and values a merge copies into this process's page tables
 * at once, with the read-ahead a sequential pass wants: without it, each
 * page of a mapping advised as random costs a fault of its own.  Where
 * the kernel cannot populate a range (before Linux 5.14), the pages fault
 * in as they are read.
 */
void
sb_populate_data(const sb_bundle *b)
{
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
	if (!b->mapped)
		return;
	sb_advise_scan(b, true);
	advise_range(b->rows, b->row_count * b->row_size, MADV_POPULATE_READ);
	advise_range(b->heap, b->heap_size, MADV_POPULATE_READ);
	sb_advise_scan(b, false);
}
