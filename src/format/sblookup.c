/*-------------------------------------------------------------------------
 *
 * sblookup.c
 *	  Key lookups through the line index.
 *
 * The key's hash gives a home line; the entries of that line from its
 * first own entry on are compared by fingerprint, and when the line is
 * full the entries that overflowed into the following lines are too.
 * Each candidate's row is then compared with the probe key (approximate
 * bundles skip that, and hashed key parts are left to the caller).
 *
 * Every line read is bounded by the sizes checked at open; a damaged
 * index can make a lookup miss, never read out of bounds.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

_Static_assert(sizeof(sb_lookup_state) <= sizeof(sb_lookup) &&
			   _Alignof(sb_lookup_state) <= _Alignof(sb_lookup),
			   "sb_lookup cannot hold the state of a lookup");

/*
 * Bytes of a candidate's row slot prefetched at most (see prefetch_slot):
 * the first 256 bytes, however the slot lies across lines.
 */
#define SB_SLOT_PREFETCH	256

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

/*
 * sb_key_hash of a key other than one integer column.  Out of line, so
 * that the integer key's hash needs no stack frame.
 */
static __attribute__((noinline)) sb_status
key_hash_parts(const sb_bundle *b, const sb_key_part *parts, uint64_t *hash,
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
		if (cols[k].kind == SB_KEY_HASHED && parts[k].len != sizeof(uint64_t))
			return sb_fail(err, SB_ERR_INVALID,
						   "key part %d has %zu bytes, not a hash's 8", k + 1,
						   parts[k].len);
	}
	*hash = sb_hash_parts(cols, b->nkeys, parts, b->hash_seed);
	return SB_OK;
}

/* Check a probe key's parts and compute its hash. */
sb_status
sb_key_hash(const sb_bundle *b, const sb_key_part *parts, uint64_t *hash,
			sb_error *err)
{
	if (b->int_key < 0)
		return key_hash_parts(b, parts, hash, err);
	*hash = sb_hash_integer(parts[0].ival, b->hash_seed);
	return SB_OK;
}

/* Hint the CPU to fetch what a lookup of 'hash' reads first. */
void
sb_lookup_prefetch(const sb_bundle *b, uint64_t hash)
{
	__builtin_prefetch(b->entries +
					   sb_line_home(hash, b->home_lines) * SB_LINE_BYTES);
}

/*
 * Entries per line of the bundle's index.  Validation at open allows only
 * 2- and 4-byte fingerprints, so this is sb_line_capacity without its
 * division.
 */
static inline unsigned
line_capacity(const sb_bundle *b)
{
	return b->fp_bytes == 2 ? sb_line_capacity(2) : sb_line_capacity(4);
}

/* Offset of the row numbers in the bundle's lines (see line_capacity). */
static inline unsigned
line_rows_offset(const sb_bundle *b)
{
	return b->fp_bytes == 2 ? sb_line_rows_offset(2) : sb_line_rows_offset(4);
}

/*
 * Was the block of an index line verified before (or has the bundle no
 * block checksums)?  A line is 64 bytes at a multiple of 64 and a block a
 * larger power of two, so a line lies in one block and this is one bit.
 */
static inline bool
line_checked(const sb_bundle *b, uint64_t line)
{
	uint64_t	g;

	if (b->blocksums == NULL)
		return true;
	g = b->block_first[SB_REGION_ENTRIES] +
		((line * SB_LINE_BYTES) >> b->block_shift);
	return (b->verified[g >> 6] >> (g & 63)) & 1;
}

/*
 * Read the count and first own entry of an index line, after checking its
 * block.
 */
static inline sb_status
read_line(sb_bundle *b, uint64_t line, unsigned *count, unsigned *first_own,
		  sb_error *err)
{
	const unsigned char *p = b->entries + line * SB_LINE_BYTES;
	sb_status	st;

	if (!line_checked(b, line) &&
		(st = sb_check_slow(b, SB_REGION_ENTRIES, line * SB_LINE_BYTES,
							SB_LINE_BYTES, err)) != SB_OK)
		return st;
	TOUCH(p, 2);
	*count = p[SB_LINE_COUNT];
	*first_own = p[SB_LINE_FIRST_OWN];
	if (*count > line_capacity(b) || *first_own > *count)
		return sb_fail(err, SB_ERR_CORRUPT, "index line %llu is damaged",
					   (unsigned long long) line);
	return SB_OK;
}

/*
 * Locate a lookup: its home line, and there the entries from the first
 * that belongs to the line to the last.
 */
static inline sb_status
find_home_line(sb_bundle *b, sb_lookup_state *it, sb_error *err)
{
	unsigned	count = 0,
				first_own = 0;
	sb_status	st;

	it->fp = sb_line_fingerprint(it->hash, b->fp_bytes);
	it->line = sb_line_home(it->hash, b->home_lines);
	if (b->home_lines > 0 &&
		(st = read_line(b, it->line, &count, &first_own, err)) != SB_OK)
		return st;
	it->pos = first_own;
	it->end = count;
	it->phase = SB_LOOKUP_LOCATED;
	return SB_OK;
}

/*
 * Move a lookup to the next line when the key's entries may go on there:
 * when all the line's entries were examined and it is full.  There, the
 * candidates are the entries that overflowed into it.  Returns 1, 0 when
 * there is no more to examine, or an error.
 */
static inline int
next_line(sb_bundle *b, sb_lookup_state *it, sb_error *err)
{
	unsigned	count,
				first_own;
	sb_status	st;

	if (it->end < line_capacity(b) || it->line + 1 >= b->nlines)
		return 0;
	if ((st = read_line(b, it->line + 1, &count, &first_own, err)) != SB_OK)
		return st;
	it->line++;
	it->pos = 0;
	it->end = first_own;
	return 1;
}

/*
 * Start looking up a key whose hash sb_key_hash computed.  Nothing is read
 * yet: the first sb_lookup_next reads the index, so that a caller can
 * start many lookups and prefetch for them first.
 */
void
sb_lookup_start(const sb_bundle *b, const sb_key_part *parts, uint64_t hash,
				sb_lookup *lookup)
{
	sb_lookup_state *it = (sb_lookup_state *) lookup;

	(void) b;
	it->parts = parts;
	it->hash = hash;
	it->fp = 0;
	it->line = it->pos = it->end = 0;
	it->phase = SB_LOOKUP_STARTED;
}

/*
 * Bit k set for each entry k of a line whose fingerprint is fp.  With
 * SSE2, the ten 2-byte fingerprints (bytes 4 to 23) are compared in two
 * overlapping loads: entries 0-7, and 2-9 of which 8 and 9 are kept.
 */
static inline unsigned
line_matches(const unsigned char *line, uint32_t fp, unsigned fp_bytes)
{
	unsigned	mask = 0;

	TOUCH(line + SB_LINE_FPS, sb_line_capacity(fp_bytes) * fp_bytes);
#ifdef __SSE2__
	if (fp_bytes == 2)
	{
		__m128i		want = _mm_set1_epi16((short) fp);
		__m128i		lo = _mm_loadu_si128((const __m128i *) (line + SB_LINE_FPS));
		__m128i		hi = _mm_loadu_si128((const __m128i *) (line + SB_LINE_FPS + 4));
		unsigned	bits;

		bits = (unsigned) _mm_movemask_epi8(_mm_packs_epi16(_mm_cmpeq_epi16(lo, want),
															_mm_cmpeq_epi16(hi, want)));
		return (bits & 0xFF) | ((bits >> 6) & 0x300);
	}
#endif
	for (unsigned k = 0; k < sb_line_capacity(fp_bytes); k++)
		if (sb_load_n(line + SB_LINE_FPS + k * fp_bytes, fp_bytes) == fp)
			mask |= 1u << k;
	return mask;
}

/*
 * The entries of a lookup's current line that are still to examine (pos
 * to end) and match its fingerprint, as a bit mask.
 */
static inline unsigned
line_candidates(const sb_bundle *b, const sb_lookup_state *it)
{
	if (it->pos >= it->end)
		return 0;
	return line_matches(b->entries + it->line * SB_LINE_BYTES, it->fp,
						b->fp_bytes) &
		((1u << it->end) - 1) & ~((1u << it->pos) - 1);
}

/* Row number of entry k of a lookup's current line. */
static inline uint64_t
line_row(const sb_bundle *b, const sb_lookup_state *it, unsigned k)
{
	const unsigned char *p = b->entries + it->line * SB_LINE_BYTES +
		line_rows_offset(b) + 4 * k;

	TOUCH(p, 4);
	return sb_load32(p);
}

/*
 * Batched lookups, second step (after sb_lookup_prefetch of the hash):
 * read the home line and hint the CPU to fetch the first candidate's row
 * slot.  Errors are left for sb_lookup_next.
 */
void
sb_lookup_prefetch_row(sb_bundle *b, sb_lookup *lookup)
{
	sb_lookup_state *it = (sb_lookup_state *) lookup;
	unsigned	mask;
	uint64_t	r;

	if (it->phase == SB_LOOKUP_STARTED && find_home_line(b, it, NULL) != SB_OK)
		return;
	if ((mask = line_candidates(b, it)) == 0)
		return;
	r = line_row(b, it, (unsigned) __builtin_ctz(mask));
	if (r < b->row_count)
		__builtin_prefetch(b->rows + r * b->row_size);
}

/*
 * Hint the CPU to fetch the lines of a row slot after its first, up to
 * SB_SLOT_PREFETCH bytes of it, as soon as the row number is known.  The
 * key check reads the first line; the value, usually inside the slot, is
 * in the next ones, and its address comes from the slot's own bytes:
 * without the hint those lines would be requested only once the first had
 * arrived.  Hints at most 64 bytes apart, up to the slot's last byte,
 * reach every line it spans.  Always inlined: as a call, GCC 12 dropped
 * the hints altogether.
 */
static inline __attribute__((always_inline)) void
prefetch_slot(const sb_bundle *b, uint64_t row)
{
	const unsigned char *slot = b->rows + row * b->row_size;
	uint32_t	last = (b->row_size < SB_SLOT_PREFETCH ?
						b->row_size : SB_SLOT_PREFETCH) - 1;

	__builtin_prefetch(slot + (last < 64 ? last : 64));
	__builtin_prefetch(slot + (last < 128 ? last : 128));
	__builtin_prefetch(slot + (last < 192 ? last : 192));
	__builtin_prefetch(slot + last);
}

/*
 * Does a slot hold the integer key 'ival' (see set_int_key)?  A key
 * stored as an offset from its smallest value is compared as one.
 */
static inline bool
int_key_matches(const sb_bundle *b, const unsigned char *slot, int64_t ival)
{
	const sb_encoding *e = &b->encodings[b->int_key];
	const unsigned char *field = slot + b->slot_offsets[b->int_key];

	if (sb_slot_isnull(&b->info, slot, b->int_key))
		return false;
	if (e->kind == SB_ENC_OFFSET)
		return (uint64_t) ival - (uint64_t) e->base ==
			sb_load_width(field, e->width);
	return sb_load_int(field, b->columns[b->int_key].typlen) == ival;
}

/* row_matches: the row holds the probe key except for its hashed parts */
#define SB_CANDIDATE	2

/*
 * Does a row slot hold the probe key?  Returns 1, 0 or an error; or
 * SB_CANDIDATE where the key has hashed parts, which the row holds as
 * values, not hashes: the caller compares those.  Kept out of line: the
 * lookup of an integer key does not need it, and inlined it would crowd
 * that lookup's registers.
 */
static __attribute__((noinline)) int
row_matches(sb_bundle *b, const unsigned char *slot,
			const sb_key_part *parts, sb_error *err)
{
	sb_keycol	cols[SB_MAX_KEY_COLUMNS];
	int			match = 1;

	bundle_keycols(b, cols);
	for (int k = 0; k < b->nkeys; k++)
	{
		int			col = b->key_columns[k];
		sb_value	v;
		sb_key_part part;
		sb_status	st;

		if (sb_slot_isnull(&b->info, slot, col))
			return 0;
		if (cols[k].kind == SB_KEY_HASHED)
		{
			match = SB_CANDIDATE;
			continue;
		}
		if ((st = sb_slot_value(b, slot, col, &v, err)) != SB_OK)
			return st;
		if (v.encoded)
		{
			/* a VARLENA part: compare the codes with the probe's bytes */
			size_t		hl = sb_varlena_header_size(v.ptr);
			int			eq = sb_symbols_compare(&b->encodings[col], v.ptr + hl,
												v.len - hl, parts[k].data,
												parts[k].len);

			if (eq < 0)
				return sb_fail(err, SB_ERR_CORRUPT,
							   "key column \"%s\" holds an invalid encoded value",
							   b->columns[col].name);
			if (eq == 0)
				return 0;
			continue;
		}
		if (!sb_key_part_from_image(&cols[k], v.ptr, v.len, &part))
			return sb_fail(err, SB_ERR_CORRUPT, "key column \"%s\" holds an invalid value",
						   b->columns[col].name);
		if (!sb_key_part_equal(&cols[k], &part, &parts[k]))
			return 0;
	}
	return match;
}

/*
 * Is the row an entry refers to the key's?  Returns 1, 0, SB_CANDIDATE
 * (see row_matches) or an error.  An approximate bundle's rows match on
 * the hash alone; otherwise the row's slot is checked and its key
 * compared.
 */
static inline int
accept_row(sb_bundle *b, const sb_key_part *parts, uint64_t row,
		   sb_error *err)
{
	const unsigned char *slot;
	sb_status	st;

	if (row >= b->row_count)
		return sb_fail(err, SB_ERR_CORRUPT, "index entry refers to row %llu of %llu",
					   (unsigned long long) row, (unsigned long long) b->row_count);
	if (b->flags & SB_BUNDLE_APPROXIMATE)
		return 1;
	prefetch_slot(b, row);
	if ((st = sb_row_checked(b, row, &slot, err)) != SB_OK)
		return st;
	if (b->int_key >= 0)
		return int_key_matches(b, slot, parts[0].ival);
	return row_matches(b, slot, parts, err);
}

/*
 * Next candidate of a lookup whose row holds the key: its fingerprint
 * matches anywhere among the entries to examine.  A lookup not located
 * yet reads its home line first.
 *
 * The state is worked on in a local copy, stored back once: the caller's
 * object may alias anything (see sb_lookup_state), so every store to it
 * would make the compiler reload the bundle's fields.
 */
static inline int
next_in_lines(sb_bundle *b, sb_lookup_state *lookup, uint64_t *row,
			  sb_error *err)
{
	sb_lookup_state it = *lookup;
	int			m;

	if (it.phase == SB_LOOKUP_STARTED &&
		(m = find_home_line(b, &it, err)) != SB_OK)
		return m;
	do
	{
		unsigned	mask = line_candidates(b, &it);

		while (mask != 0)
		{
			unsigned	k = (unsigned) __builtin_ctz(mask);
			uint64_t	r = line_row(b, &it, k);

			mask &= mask - 1;
			if ((m = accept_row(b, it.parts, r, err)) != 0)
			{
				it.pos = k + 1;
				*lookup = it;
				*row = r;
				return m;
			}
		}
		it.pos = it.end;
	} while ((m = next_line(b, &it, err)) > 0);
	*lookup = it;
	return m;
}

/*
 * The lookup of an integer key in a bundle where it is unique
 * (int_key_unique), in straight-line code: the home line's own entries,
 * the first whose fingerprint matches, and its row's key.  Returns 1 with
 * the row; 0 when the key is absent (no own entry matches and the line is
 * not full, so none overflowed); -1 in every other case (a block not
 * verified yet, a damaged line or row number, a full line, a fingerprint
 * that matched another key), which next_in_lines then takes from the
 * start, errors included.  A key stored as an offset (SB_ENC_OFFSET) is
 * compared as one, as int_key_matches does.  Of the lookup's state, only its line is set
 * (on 1 or 0), last.
 */
static inline int
first_int_row(sb_bundle *b, sb_lookup_state *it, uint64_t *row)
{
	uint64_t	line = sb_line_home(it->hash, b->home_lines);
	const unsigned char *p = b->entries + line * SB_LINE_BYTES;
	const unsigned char *slot,
			   *field;
	unsigned	count,
				first_own,
				mask;
	uint64_t	r;

	if (b->home_lines == 0 || !line_checked(b, line))
		return -1;
	TOUCH(p, 2);
	count = p[SB_LINE_COUNT];
	first_own = p[SB_LINE_FIRST_OWN];
	if (count > sb_line_capacity(2) || first_own > count)
		return -1;
	mask = line_matches(p, (uint16_t) it->hash, 2) &
		((1u << count) - 1) & ~((1u << first_own) - 1);
	if (mask == 0)
	{
		if (count == sb_line_capacity(2))
			return -1;
		it->line = line;
		return 0;
	}
	p += sb_line_rows_offset(2) + 4 * __builtin_ctz(mask);
	TOUCH(p, 4);
	r = sb_load32(p);
	if (r >= b->row_count)
		return -1;
	prefetch_slot(b, r);
	if (!sb_checked(b, SB_REGION_ROWS, r * b->row_size, b->row_size))
		return -1;
	slot = b->rows + r * b->row_size;
	if ((slot[b->int_key >> 3] >> (b->int_key & 7)) & 1)
		return -1;
	field = slot + b->int_key_offset;
	if (b->int_key_offset_enc ?
		(uint64_t) it->parts[0].ival - (uint64_t) b->int_key_base !=
		sb_load_width(field, b->int_key_len) :
		sb_load_int(field, b->int_key_len) != it->parts[0].ival)
		return -1;
	*row = r;
	it->line = line;
	return 1;
}

/*
 * sb_lookup_next in general: the next candidate of the lines, and whether
 * the lookup is done with it.  Out of line, so that the integer key's
 * path in sb_lookup_next stays a short leaf.
 */
static __attribute__((noinline)) int
lookup_next_general(sb_bundle *b, sb_lookup_state *it, uint64_t *row,
					sb_error *err)
{
	int			m = next_in_lines(b, it, row, err);

	if (m == 0 || (m == 1 && b->distinct_keys == b->indexed_count &&
				   !(b->flags & SB_BUNDLE_APPROXIMATE)))
		it->phase = SB_LOOKUP_DONE;
	return m == SB_CANDIDATE ? 1 : m;
}

/*
 * Next row holding the key: returns 1 and sets *row, 0 when there are no
 * more, or a negative sb_status.  When every entry has its own hash, and
 * keys are compared in full (not a candidate of a hashed key), the first
 * row found is the only one.
 */
int
sb_lookup_next(sb_bundle *b, sb_lookup *lookup, uint64_t *row, sb_error *err)
{
	sb_lookup_state *it = (sb_lookup_state *) lookup;
	int			m;

	if (it->phase == SB_LOOKUP_DONE)
		return 0;
	if (it->phase == SB_LOOKUP_STARTED && b->int_key_unique &&
		(m = first_int_row(b, it, row)) >= 0)
	{
		it->phase = SB_LOOKUP_DONE;
		return m;
	}
	return lookup_next_general(b, it, row, err);
}
