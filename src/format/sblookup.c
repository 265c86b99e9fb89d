/*-------------------------------------------------------------------------
 *
 * sblookup.c
 *	  Key lookups through the bucketed index and through the seed's search.
 *
 * Bucketed index: the top bits of the key's hash pick a bucket; one 64-byte
 * directory line gives the bucket's bounds; the fingerprints within a
 * bucket are sorted and close to uniform, so the position of the sought
 * fingerprint is predicted by interpolation and corrected by a short walk,
 * which usually stays within one cache line of entries.  Each candidate's
 * row is then compared with the probe key (approximate bundles skip that).
 *
 * Sorted index: the seed library's search over sorted 64-bit hashes, an
 * interpolation guess, then exponential steps of 32, 64, ... entries, then
 * binary search.  It is kept for comparison in the benchmarks.
 *
 * Every entry and directory slot read is bounded by the sizes checked at
 * open; a damaged index can make a lookup miss, never read out of bounds.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#ifdef SB_TRACE_LINES
extern void sb_trace_touch(const void *p, size_t len);
#define TOUCH(p, len)	sb_trace_touch((p), (len))
#else
#define TOUCH(p, len)	((void) 0)
#endif

/* The key columns' comparison settings. */
static void
bundle_keycols(const sb_bundle *b, sb_keycol *cols)
{
	for (int k = 0; k < b->nkeys; k++)
	{
		cols[k].kind = b->columns[b->key_columns[k]].key_kind;
		cols[k].typlen = b->columns[b->key_columns[k]].typlen;
	}
}

/* Check a probe key's parts and compute its hash. */
sb_status
sb_key_hash(const sb_bundle *b, const sb_key_part *parts, uint64_t *hash,
			sb_error *err)
{
	sb_keycol	cols[SB_MAX_KEY_COLUMNS];

	if (b->nkeys == 0)
		return sb_fail(err, SB_ERR_INVALID, "the bundle has no key");
	bundle_keycols(b, cols);
	for (int k = 0; k < b->nkeys; k++)
	{
		if ((cols[k].kind == SB_KEY_BYTES || cols[k].kind == SB_KEY_FLOAT) &&
			parts[k].len != (size_t) cols[k].typlen)
			return sb_fail(err, SB_ERR_INVALID,
						   "key part %d has %zu bytes, not %d", k + 1,
						   parts[k].len, cols[k].typlen);
	}
	*hash = sb_hash_parts(cols, b->nkeys, parts, b->hash_seed);
	return SB_OK;
}

/* Fingerprint of bucketed entry i. */
static inline uint32_t
entry_fp(const sb_bundle *b, uint64_t i)
{
	const unsigned char *e = b->entries + i * b->entry_size;

	TOUCH(e, b->fp_bytes);
	return b->fp_bytes == 2 ? sb_load16(e) : sb_load32(e);
}

/* Hash of sorted entry i. */
static inline uint64_t
entry_hash(const sb_bundle *b, uint64_t i)
{
	const unsigned char *e = b->entries + i * SB_SORTED_ENTRY_SIZE;

	TOUCH(e, 8);
	return sb_load64(e);
}

/* Hint the CPU to fetch what a lookup of 'hash' reads first. */
void
sb_lookup_prefetch(const sb_bundle *b, uint64_t hash)
{
	if (b->index_kind == SB_INDEX_BUCKETED)
	{
		uint64_t	bucket = sb_hash_bucket(hash, b->bucket_bits);

		__builtin_prefetch(b->dir + (bucket / SB_DIR_LINE_BUCKETS) * SB_DIR_LINE_BYTES);
	}
	else if (b->indexed_count > 0)
		__builtin_prefetch(b->entries +
						   (((hash >> 32) * b->indexed_count) >> 32) * SB_SORTED_ENTRY_SIZE);
}

/*
 * Find a bucketed lookup's bucket from its directory line and predict the
 * fingerprint's place in it; the entries are not read yet.  The
 * directory line's block and the bucket's entries' blocks are checked.
 */
static sb_status
find_bucket(const sb_bundle *b, sb_lookup *it, sb_error *err)
{
	uint64_t	bucket = sb_hash_bucket(it->hash, b->bucket_bits);
	uint64_t	lineoff = (bucket / SB_DIR_LINE_BUCKETS) * SB_DIR_LINE_BYTES;
	const unsigned char *line = b->dir + lineoff;
	unsigned	slot = bucket % SB_DIR_LINE_BUCKETS;
	uint64_t	lo,
				hi;
	sb_status	st;

	if ((st = sb_check(b, SB_REGION_DIRECTORY, lineoff, SB_DIR_LINE_BYTES, err)) != SB_OK)
		return st;
	lo = sb_load32(line + 4 * slot);
	hi = sb_load32(line + 4 * (slot + 1));
	TOUCH(line + 4 * slot, 8);
	if (hi > b->indexed_count)
		hi = b->indexed_count;
	if (lo > hi)
		lo = hi;
	if ((st = sb_check(b, SB_REGION_ENTRIES, lo * b->entry_size,
					   (hi - lo) * b->entry_size, err)) != SB_OK)
		return st;
	it->fp = sb_hash_fingerprint(it->hash, b->bucket_bits, b->fp_bytes);
	it->lo = lo;
	it->end = hi;
	it->pos = lo + (((uint64_t) it->fp * (hi - lo)) >> (8 * b->fp_bytes));
	it->phase = SB_LOOKUP_BUCKET;
	return SB_OK;
}

/* Walk from the predicted place to the first candidate of the bucket. */
static void
walk_bucket(const sb_bundle *b, sb_lookup *it)
{
	uint64_t	p = it->pos;

	while (p > it->lo && entry_fp(b, p - 1) >= it->fp)
		p--;
	while (p < it->end && entry_fp(b, p) < it->fp)
		p++;
	it->pos = p;
	it->phase = SB_LOOKUP_LOCATED;
}

/* First index of a sorted entry >= h within [lo, hi). */
static uint64_t
lower_bound(const sb_bundle *b, uint64_t lo, uint64_t hi, uint64_t h)
{
	while (lo < hi)
	{
		uint64_t	mid = lo + (hi - lo) / 2;

		if (entry_hash(b, mid) < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The seed's search: interpolate, step exponentially, then bisect.  Its
 * probes land anywhere, so the first lookup checks the whole index.
 */
static sb_status
locate_sorted(const sb_bundle *b, sb_lookup *it, sb_error *err)
{
	uint64_t	n = b->indexed_count,
				h = it->hash,
				mid,
				lo,
				hi,
				step = 32;

	sb_status	st;

	it->pos = it->end = n;
	if ((st = sb_check(b, SB_REGION_ENTRIES, 0, b->entries_size, err)) != SB_OK)
		return st;
	if (n == 0 || h < entry_hash(b, 0) || h > entry_hash(b, n - 1))
	{
		it->phase = SB_LOOKUP_LOCATED;
		return SB_OK;
	}
	mid = ((h >> 32) * n) >> 32;
	if (mid >= n)
		mid = n - 1;
	if (entry_hash(b, mid) < h)
	{
		lo = mid + 1;
		hi = n;
		for (uint64_t i = mid + step; i < n; step *= 2, i = mid + step)
		{
			if (entry_hash(b, i) >= h)
			{
				hi = i + 1;
				break;
			}
			lo = i + 1;
		}
	}
	else
	{
		lo = 0;
		hi = mid + 1;
		for (uint64_t i = mid; i >= step; step *= 2)
		{
			if (entry_hash(b, i - step) < h)
			{
				lo = i - step + 1;
				break;
			}
			hi = i - step + 1;
		}
	}
	it->pos = lower_bound(b, lo, hi, h);
	it->phase = SB_LOOKUP_LOCATED;
	return SB_OK;
}

/*
 * Start looking up a key whose hash sb_key_hash computed.  Nothing is read
 * yet: the first sb_lookup_next reads the index, so that a caller can
 * start many lookups and prefetch for them first.
 */
void
sb_lookup_start(const sb_bundle *b, const sb_key_part *parts, uint64_t hash,
				sb_lookup *it)
{
	it->parts = parts;
	it->hash = hash;
	it->fp = 0;
	it->lo = it->pos = it->end = 0;
	it->phase = SB_LOOKUP_STARTED;
}

/* Take a lookup as far as locating its first candidate. */
static sb_status
locate(const sb_bundle *b, sb_lookup *it, sb_error *err)
{
	sb_status	st;

	if (b->index_kind != SB_INDEX_BUCKETED)
		return it->phase == SB_LOOKUP_LOCATED ? SB_OK : locate_sorted(b, it, err);
	if (it->phase == SB_LOOKUP_STARTED && (st = find_bucket(b, it, err)) != SB_OK)
		return st;
	if (it->phase == SB_LOOKUP_BUCKET)
		walk_bucket(b, it);
	return SB_OK;
}

/*
 * Does entry i match the lookup's fingerprint (or hash, in a sorted
 * index)?  If so, set *row to the row number it holds (unchecked).
 */
static inline bool
candidate_row(const sb_bundle *b, const sb_lookup *it, uint64_t i,
			  uint64_t *row)
{
	if (b->index_kind == SB_INDEX_BUCKETED)
	{
		if (entry_fp(b, i) != it->fp)
			return false;
		*row = sb_load32(b->entries + i * b->entry_size + b->fp_bytes);
		return true;
	}
	if (entry_hash(b, i) != it->hash)
		return false;
	*row = sb_load64(b->entries + i * SB_SORTED_ENTRY_SIZE + 8);
	return true;
}

/*
 * Batched lookups, second step (after sb_lookup_prefetch of the hash):
 * read the bucket's directory line and hint the CPU to fetch the entries
 * where the fingerprint is predicted.  Errors are left for sb_lookup_next.
 */
void
sb_lookup_prefetch_entries(const sb_bundle *b, sb_lookup *it)
{
	if (b->index_kind != SB_INDEX_BUCKETED || it->phase != SB_LOOKUP_STARTED ||
		find_bucket(b, it, NULL) != SB_OK)
		return;
	__builtin_prefetch(b->entries + it->pos * b->entry_size);
}

/*
 * Batched lookups, third step: locate the first candidate and hint the CPU
 * to fetch its row slot.  Errors are left for sb_lookup_next.
 */
void
sb_lookup_prefetch_row(const sb_bundle *b, sb_lookup *it)
{
	uint64_t	r;

	if (locate(b, it, NULL) != SB_OK || it->pos >= it->end)
		return;
	if (candidate_row(b, it, it->pos, &r) && r < b->row_count)
		__builtin_prefetch(b->rows + r * b->row_size);
}

/* Does the row hold the probe key?  Returns 1, 0 or an error. */
static int
row_matches(const sb_bundle *b, uint64_t row, const sb_key_part *parts,
			sb_error *err)
{
	const unsigned char *slot;
	sb_keycol	cols[SB_MAX_KEY_COLUMNS];
	sb_status	rst;

	if ((rst = sb_row_get(b, row, &slot, err)) != SB_OK)
		return rst;
	bundle_keycols(b, cols);
	for (int k = 0; k < b->nkeys; k++)
	{
		int			col = b->key_columns[k];
		sb_value	v;
		sb_key_part part;
		sb_status	st;

		if (sb_slot_isnull(b, slot, col))
			return 0;
		if ((st = sb_slot_value(b, slot, col, &v, err)) != SB_OK)
			return st;
		if (!sb_key_part_from_image(&cols[k], v.ptr, v.len, &part))
			return sb_fail(err, SB_ERR_CORRUPT, "key column \"%s\" holds an invalid value",
						   b->columns[col].name);
		if (!sb_key_part_equal(&cols[k], &part, &parts[k]))
			return 0;
	}
	return 1;
}

/* Check a row number read from an entry. */
static int
check_row(const sb_bundle *b, uint64_t row, sb_error *err)
{
	if (row >= b->row_count)
		return sb_fail(err, SB_ERR_CORRUPT, "index entry refers to row %llu of %llu",
					   (unsigned long long) row, (unsigned long long) b->row_count);
	return 1;
}

/*
 * Next row holding the key: returns 1 and sets *row, 0 when there are no
 * more, or a negative sb_status.
 */
int
sb_lookup_next(const sb_bundle *b, sb_lookup *it, uint64_t *row, sb_error *err)
{
	bool		approx = (b->flags & SB_BUNDLE_APPROXIMATE) != 0;

	if (it->phase != SB_LOOKUP_LOCATED)
	{
		sb_status	st = locate(b, it, err);

		if (st != SB_OK)
			return st;
	}
	while (it->pos < it->end)
	{
		uint64_t	r;
		int			m;

		if (!candidate_row(b, it, it->pos++, &r))
			break;
		if ((m = check_row(b, r, err)) < 0)
			return m;
		if (!approx && (m = row_matches(b, r, it->parts, err)) <= 0)
		{
			if (m < 0)
				return m;
			continue;
		}
		*row = r;
		return 1;
	}
	it->pos = it->end;
	return 0;
}
