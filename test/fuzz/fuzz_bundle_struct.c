/*-------------------------------------------------------------------------
 *
 * fuzz_bundle_struct.c
 *	  libFuzzer harness with a structure-aware mutator for bundles.
 *
 * Random mutations of a bundle almost always fail the header checksum, so
 * this harness mutates with LLVMFuzzerMutate() or with targeted edits of
 * the header, the section table, the schema, row slots, the value heap,
 * the index, the metadata and the block size (some change a header count
 * together with the section it sizes), and then, if the input still looks
 * like a bundle (magic number, plausible header size), recomputes the
 * block checksums, every section checksum and the header checksum.
 * Mutations then reach the checks of the schema, the rows, the heap and
 * the index.  A small share of inputs keeps stale checksums, and a larger
 * one stale block checksums only, so that the checksum checks stay
 * covered.
 *
 * The body run on each input is shared with fuzz_bundle.c; see
 * fuzz_common.c.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"
#include "sbinternal.h"

#include <stdlib.h>

extern size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* A small deterministic generator, seeded per mutation by libFuzzer. */
static uint64_t rng_state;

/* Next pseudo-random number (xorshift64*). */
static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* A pseudo-random number below n (n > 0). */
static uint64_t
rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* The layout of an input that looks like a bundle. */
typedef struct layout
{
	uint32_t	header_size;
	uint32_t	nsections;
} layout;

/* Does the input look like a bundle: magic and a plausible header size? */
static bool
parse_layout(const uint8_t *d, size_t size, layout *l)
{
	if (size < SB_HEADER_FIXED || memcmp(d, SB_MAGIC, SB_MAGIC_LEN) != 0)
		return false;
	l->nsections = sb_load32(d + SB_HDR_NSECTIONS);
	l->header_size = sb_load32(d + SB_HDR_HEADER_SIZE);
	return l->nsections >= 1 && l->nsections <= SB_MAX_SECTIONS &&
		l->header_size == SB_HEADER_FIXED + l->nsections * SB_SECTION_ENTRY &&
		l->header_size <= size;
}

/* The section table entry of section i. */
static uint8_t *
section_entry(uint8_t *d, int i)
{
	return d + SB_HEADER_FIXED + (size_t) i * SB_SECTION_ENTRY;
}

/*
 * Find a section of a kind that lies inside the input; sets its offset and
 * length.  Returns false if there is none.
 */
static bool
find_section(uint8_t *d, size_t size, const layout *l, uint32_t kind,
			 uint64_t *off, uint64_t *len)
{
	for (uint32_t i = 0; i < l->nsections; i++)
	{
		const uint8_t *e = section_entry(d, (int) i);
		uint64_t	o = sb_load64(e + SB_SEC_OFFSET),
					n = sb_load64(e + SB_SEC_LENGTH);

		if (sb_load32(e + SB_SEC_KIND) != kind)
			continue;
		if (o > size || n > size - o)
			return false;
		*off = o;
		*len = n;
		return true;
	}
	return false;
}

static uint8_t *entry_of_kind(uint8_t *d, const layout *l, uint32_t kind);

/* The sections block checksums cover, in the order of their checksums. */
static const uint32_t block_kinds[3] = {SB_SECTION_ROWS, SB_SECTION_HEAP,
SB_SECTION_ENTRIES};

/*
 * Recompute the block checksums, if the bundle has them and their section
 * has room for exactly one per block of the rows, the value heap and the
 * index (in that order, blocks counted from each section's start, the
 * last one short).
 */
static void
fix_block_sums(uint8_t *d, size_t size, const layout *l)
{
	unsigned	shift = d[SB_HDR_BLOCK_SHIFT];
	uint64_t	boff,
				blen,
				off[3],
				len[3],
				n = 0;
	uint8_t    *out;

	if (shift < 9 || shift > 24 ||
		!find_section(d, size, l, SB_SECTION_BLOCKSUMS, &boff, &blen))
		return;
	for (int r = 0; r < 3; r++)
	{
		if (!find_section(d, size, l, block_kinds[r], &off[r], &len[r]))
			off[r] = len[r] = 0;
		n += (len[r] + ((uint64_t) 1 << shift) - 1) >> shift;
	}
	if (blen != 4 * n)
		return;
	out = d + boff;
	for (int r = 0; r < 3; r++)
		for (uint64_t o = 0; o < len[r]; o += (uint64_t) 1 << shift)
		{
			uint64_t	w = (uint64_t) 1 << shift;

			if (w > len[r] - o)
				w = len[r] - o;
			sb_store32(out, sb_block_checksum(d + off[r] + o, (size_t) w));
			out += 4;
		}
}

/*
 * Change the block size and resize the block checksum section to match
 * (where its offset leaves room); the checksums are recomputed after.
 */
static void
mutate_block_shift(uint8_t *d, size_t size, const layout *l)
{
	unsigned	shift = rnd_below(8) == 0 ? (unsigned) rnd_below(32) :
		9 + (unsigned) rnd_below(6);
	uint8_t    *e = entry_of_kind(d, l, SB_SECTION_BLOCKSUMS);
	uint64_t	off,
				len,
				n = 0;

	d[SB_HDR_BLOCK_SHIFT] = (uint8_t) shift;
	if (e == NULL || shift > 24)
		return;
	for (int r = 0; r < 3; r++)
		if (find_section(d, size, l, block_kinds[r], &off, &len))
			n += (len + ((uint64_t) 1 << shift) - 1) >> shift;
	if (sb_load64(e + SB_SEC_OFFSET) <= size &&
		4 * n <= size - sb_load64(e + SB_SEC_OFFSET))
		sb_store64(e + SB_SEC_LENGTH, 4 * n);
}

/*
 * Recompute every section checksum that can be, then the header's.  Block
 * checksums are recomputed only if 'blocks', so that inputs with damaged
 * blocks but sound section checksums are made too.
 */
static void
fix_checksums(uint8_t *d, size_t size, bool blocks)
{
	layout		l;

	if (!parse_layout(d, size, &l))
		return;
	if (blocks)
		fix_block_sums(d, size, &l);
	for (uint32_t i = 0; i < l.nsections; i++)
	{
		uint8_t    *e = section_entry(d, (int) i);
		uint64_t	o = sb_load64(e + SB_SEC_OFFSET),
					n = sb_load64(e + SB_SEC_LENGTH);

		if (o <= size && n <= size - o)
			sb_store64(e + SB_SEC_CHECKSUM, sb_checksum(d + o, n));
	}
	sb_store64(d + SB_HDR_CHECKSUM, 0);
	sb_store64(d + SB_HDR_CHECKSUM, sb_checksum(d, l.header_size));
}

/* An interesting replacement for an unsigned value of 'bytes' bytes. */
static uint64_t
interesting(uint64_t old, int bytes, uint64_t size)
{
	uint64_t	max = bytes == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * bytes)) - 1;
	uint64_t	v;

	switch (rnd_below(12))
	{
		case 0:
			v = 0;
			break;
		case 1:
			v = 1;
			break;
		case 2:
			v = max;
			break;
		case 3:
			v = max / 2 + rnd_below(3) - 1;
			break;
		case 4:
			v = old + rnd_below(17) - 8;
			break;
		case 5:
			v = old + (rnd_below(2) ? 1 : -1) * (UINT64_C(1) << rnd_below(8 * bytes));
			break;
		case 6:
			v = UINT64_C(1) << rnd_below(8 * bytes);
			break;
		case 7:
			v = size + rnd_below(129) - 64;
			break;
		case 8:
			v = old * 2;
			break;
		case 9:
			v = old / 2;
			break;
		case 10:
			v = rnd_below(size + 1);
			break;
		default:
			v = rnd();
			break;
	}
	return v & max;
}

/* Replace the field at p with an interesting value. */
static void
tweak_field(uint8_t *p, int bytes, uint64_t size)
{
	sb_store_n(p, bytes, interesting(sb_load_n(p, bytes), bytes, size));
}

/* Mutate a fixed header field, with values that matter for each. */
static void
mutate_header(uint8_t *d, size_t size)
{
	static const struct
	{
		int			off;
		int			bytes;
	}			fields[] = {
		{SB_HDR_MAJOR, 2}, {SB_HDR_MINOR, 2}, {SB_HDR_FILE_SIZE, 8},
		{SB_HDR_ROW_COUNT, 8}, {SB_HDR_INDEXED, 8}, {SB_HDR_DISTINCT, 8},
		{SB_HDR_NCOLUMNS, 4}, {SB_HDR_NKEYS, 4}, {SB_HDR_ROW_SIZE, 4},
		{SB_HDR_FLAGS, 4}, {SB_HDR_HASH_ID, 4}, {SB_HDR_INDEX_KIND, 4},
		{SB_HDR_HASH_SEED, 8}, {SB_HDR_BUCKET_BITS, 1}, {SB_HDR_FP_BYTES, 1},
		{SB_HDR_MAXALIGN, 1}, {SB_HDR_MAXALIGN + 1, 1}, {SB_HDR_PG_MAJOR, 4},
		{SB_HDR_BUILD_TIME, 8}, {SB_HDR_MAX_RUN, 8}, {SB_HDR_HOME_LINES, 8},
	};
	int			f = (int) rnd_below(sizeof(fields) / sizeof(fields[0]));
	uint8_t    *p = d + fields[f].off;

	switch (fields[f].off)
	{
		case SB_HDR_BUCKET_BITS:
			*p = (uint8_t) (rnd_below(4) == 0 ? rnd() : rnd_below(34));
			break;
		case SB_HDR_FP_BYTES:
			*p = (uint8_t) rnd_below(6);
			break;
		case SB_HDR_FLAGS:
			sb_store32(p, rnd_below(4) == 0 ? (uint32_t) rnd() : (uint32_t) rnd_below(4));
			break;
		case SB_HDR_INDEX_KIND:
			sb_store32(p, (uint32_t) rnd_below(5));
			break;
		case SB_HDR_HOME_LINES:
			tweak_field(p, 8, size);
			break;
		case SB_HDR_NKEYS:
			sb_store32(p, rnd_below(4) == 0 ? (uint32_t) interesting(sb_load32(p), 4, size) :
					   (uint32_t) rnd_below(SB_MAX_KEY_COLUMNS + 2));
			break;
		case SB_HDR_ROW_COUNT:
		case SB_HDR_INDEXED:
			/* often move the row and index counts together */
			tweak_field(p, 8, size);
			if (rnd_below(2))
				sb_store64(d + (fields[f].off == SB_HDR_ROW_COUNT ?
								SB_HDR_INDEXED : SB_HDR_ROW_COUNT),
						   sb_load64(p));
			break;
		case SB_HDR_ROW_SIZE:
			/* mostly multiples of 8, which pass the first check */
			if (rnd_below(4) == 0)
				sb_store32(p, (uint32_t) interesting(sb_load32(p), 4, size));
			else if (rnd_below(2))
				sb_store32(p, (uint32_t) interesting(sb_load32(p), 4, size) & ~7u);
			else
				sb_store32(p, (uint32_t) (sb_load32(p) + 8 * (rnd_below(5) - 2)));
			break;
		default:
			tweak_field(p, fields[f].bytes, size);
			break;
	}
}

/* The table entry of the first section of a kind, or NULL. */
static uint8_t *
entry_of_kind(uint8_t *d, const layout *l, uint32_t kind)
{
	for (uint32_t i = 0; i < l->nsections; i++)
		if (sb_load32(section_entry(d, (int) i) + SB_SEC_KIND) == kind)
			return section_entry(d, (int) i);
	return NULL;
}

/*
 * Change header counts together with the sections they size, so that the
 * size checks at open still pass and the checks behind them are reached:
 * fewer rows, another number of home lines within what the index lines
 * allow, or wider or narrower row slots over the same bytes.
 */
static void
mutate_consistent(uint8_t *d, const layout *l)
{
	uint8_t    *rows = entry_of_kind(d, l, SB_SECTION_ROWS),
			   *ent = entry_of_kind(d, l, SB_SECTION_ENTRIES);
	uint64_t	nrows = sb_load64(d + SB_HDR_ROW_COUNT),
				nidx = sb_load64(d + SB_HDR_INDEXED);
	uint32_t	row_size = sb_load32(d + SB_HDR_ROW_SIZE);

	switch (rnd_below(3))
	{
		case 0:
			/* drop rows from the end */
			if (rows && nrows > 0)
			{
				uint64_t	k = rnd_below(nrows);

				sb_store64(d + SB_HDR_ROW_COUNT, k);
				sb_store64(rows + SB_SEC_LENGTH, k * row_size);
			}
			break;
		case 1:
			/* home lines from L - ceil(n / c) to L, for L lines of n entries */
			if (ent && nidx > 0 && (d[SB_HDR_FP_BYTES] == 2 || d[SB_HDR_FP_BYTES] == 4))
			{
				uint64_t	lines = sb_load64(ent + SB_SEC_LENGTH) / SB_LINE_BYTES,
							cap = sb_line_capacity(d[SB_HDR_FP_BYTES]),
							over = (nidx + cap - 1) / cap,
							low = lines > over ? lines - over : 1;

				if (lines >= low)
					sb_store64(d + SB_HDR_HOME_LINES, low + rnd_below(lines - low + 1));
			}
			break;
		default:
			/* the same row bytes as half as many slots twice as wide */
			if (rnd_below(2) && nrows % 2 == 0 && row_size <= UINT32_MAX / 4)
			{
				sb_store32(d + SB_HDR_ROW_SIZE, row_size * 2);
				sb_store64(d + SB_HDR_ROW_COUNT, nrows / 2);
			}
			else if (row_size % 16 == 0 && nrows <= UINT32_MAX / 2)
			{
				sb_store32(d + SB_HDR_ROW_SIZE, row_size / 2);
				sb_store64(d + SB_HDR_ROW_COUNT, nrows * 2);
			}
			break;
	}
}

/* Mutate the section table: one field, a swap, or the number of entries. */
static void
mutate_sections(uint8_t *d, size_t size, const layout *l)
{
	int			i = (int) rnd_below(l->nsections);
	uint8_t    *e = section_entry(d, i),
			   *o = section_entry(d, (int) rnd_below(l->nsections));

	switch (rnd_below(9))
	{
		case 0:
			sb_store32(e + SB_SEC_KIND, rnd_below(4) == 0 ? (uint32_t) rnd() :
					   (uint32_t) rnd_below(9));
			break;
		case 1:
			sb_store32(e + SB_SEC_FLAGS, (uint32_t) rnd_below(4));
			break;
		case 2:
			tweak_field(e + SB_SEC_OFFSET, 8, size);
			break;
		case 3:
			tweak_field(e + SB_SEC_LENGTH, 8, size);
			break;
		case 4:
			/* make two sections overlap or touch */
			sb_store64(e + SB_SEC_OFFSET, sb_load64(o + SB_SEC_OFFSET) +
					   8 * rnd_below(3));
			break;
		case 5:
			/* grow or shrink a section by a little */
			sb_store64(e + SB_SEC_LENGTH, sb_load64(e + SB_SEC_LENGTH) +
					   rnd_below(33) - 16);
			break;
		case 6:
			/* swap the kinds of two entries */
			{
				uint32_t	k = sb_load32(e + SB_SEC_KIND);

				sb_store32(e + SB_SEC_KIND, sb_load32(o + SB_SEC_KIND));
				sb_store32(o + SB_SEC_KIND, k);
			}
			break;
		case 7:
			/* drop the last entry: its bytes become part of a gap */
			if (l->nsections > 1)
			{
				sb_store32(d + SB_HDR_NSECTIONS, l->nsections - 1);
				sb_store32(d + SB_HDR_HEADER_SIZE, l->header_size - SB_SECTION_ENTRY);
			}
			break;
		default:
			/* declare one more entry, if the bytes are there */
			if (l->nsections < SB_MAX_SECTIONS &&
				l->header_size + SB_SECTION_ENTRY <= size)
			{
				uint8_t    *n = section_entry(d, (int) l->nsections);

				sb_store32(d + SB_HDR_NSECTIONS, l->nsections + 1);
				sb_store32(d + SB_HDR_HEADER_SIZE, l->header_size + SB_SECTION_ENTRY);
				sb_store32(n + SB_SEC_KIND, 7 + (uint32_t) rnd_below(3));
				sb_store32(n + SB_SEC_FLAGS, (uint32_t) rnd_below(2));
				sb_store64(n + SB_SEC_OFFSET, sb_align_up(l->header_size + SB_SECTION_ENTRY, 8));
				sb_store64(n + SB_SEC_LENGTH, rnd_below(2) ? 0 : 8);
			}
			break;
	}
}

/* Mutate a field of a column record in the schema section. */
static void
mutate_schema(uint8_t *d, size_t size, const layout *l)
{
	uint64_t	off,
				len,
				ncols;
	uint8_t    *r;

	if (!find_section(d, size, l, SB_SECTION_SCHEMA, &off, &len) ||
		len < SB_COLREC_SIZE)
		return;
	ncols = len / SB_COLREC_SIZE;
	if (sb_load32(d + SB_HDR_NCOLUMNS) < ncols)
		ncols = sb_load32(d + SB_HDR_NCOLUMNS);
	if (ncols == 0)
		return;
	r = d + off + rnd_below(ncols) * SB_COLREC_SIZE;
	switch (rnd_below(11))
	{
		case 0:
			tweak_field(r + SB_COL_SLOT_OFF, 4, size);
			break;
		case 1:
			/* the slot offset of another column, or not stored */
			sb_store32(r + SB_COL_SLOT_OFF, rnd_below(2) ? SB_NOT_STORED :
					   sb_load32(d + off + rnd_below(ncols) * SB_COLREC_SIZE + SB_COL_SLOT_OFF));
			break;
		case 2:
			{
				static const int16_t lens[] = {-2, -1, 0, 1, 2, 3, 4, 8, 16, 64, 32767, -32768};

				sb_store16(r + SB_COL_TYPLEN, (uint16_t) lens[rnd_below(sizeof(lens) / sizeof(lens[0]))]);
			}
			break;
		case 3:
			r[SB_COL_BYVAL] = (uint8_t) rnd_below(3);
			break;
		case 4:
			r[SB_COL_ALIGN] = (uint8_t) "csidx\0"[rnd_below(6)];
			break;
		case 5:
			r[SB_COL_KEYPOS] = (uint8_t) rnd_below(4);
			break;
		case 6:
			r[SB_COL_KEYKIND] = (uint8_t) rnd_below(7);
			break;
		case 7:
			r[SB_COL_STORAGE] = (uint8_t) rnd_below(3);
			break;
		case 8:
			r[SB_COL_FLAGS] = (uint8_t) rnd_below(4);
			break;
		case 9:
			tweak_field(r + (rnd_below(2) ? SB_COL_NAME_OFF : SB_COL_TYPE_OFF), 4, len);
			break;
		default:
			tweak_field(r + (rnd_below(2) ? SB_COL_NAME_LEN : SB_COL_TYPE_LEN), 4, len);
			break;
	}
}

/* Mutate a row slot: a NULL bit, or a field, often a heap offset. */
static void
mutate_rows(uint8_t *d, size_t size, const layout *l)
{
	uint64_t	off,
				len,
				hoff,
				hlen;
	uint32_t	row_size = sb_load32(d + SB_HDR_ROW_SIZE);
	uint8_t    *slot;

	if (!find_section(d, size, l, SB_SECTION_ROWS, &off, &len) ||
		row_size == 0 || len < row_size)
		return;
	slot = d + off + rnd_below(len / row_size) * row_size;
	if (rnd_below(3) == 0)
	{
		/* flip a bit of the NULL bitmap */
		uint32_t	nbytes = (sb_load32(d + SB_HDR_NCOLUMNS) + 7) / 8;

		if (nbytes == 0 || nbytes > row_size)
			nbytes = row_size;
		slot[rnd_below(nbytes)] ^= (uint8_t) (1 << rnd_below(8));
		return;
	}
	if (row_size < 8)
		return;
	{
		uint8_t    *f = slot + 8 * rnd_below(row_size / 8);

		if (find_section(d, size, l, SB_SECTION_HEAP, &hoff, &hlen) && rnd_below(2))
		{
			/* a heap offset near the end of the heap, or anywhere in it */
			uint64_t	v = rnd_below(2) ? hlen - rnd_below(8) : rnd_below(hlen + 1);

			sb_store64(f, v);
		}
		else
			tweak_field(f, 8, size);
	}
}

/* Write a varlena header with an interesting length into the heap. */
static void
mutate_heap(uint8_t *d, size_t size, const layout *l)
{
	uint64_t	off,
				len,
				at;
	uint8_t    *p;

	if (!find_section(d, size, l, SB_SECTION_HEAP, &off, &len) || len == 0)
		return;
	at = rnd_below(len);
	p = d + off + at;
	switch (rnd_below(5))
	{
		case 0:
			/* a 1-byte header running to (or past) the end of the heap */
			{
				uint64_t	n = len - at + rnd_below(3);

				*p = (uint8_t) (((n > 127 ? 127 : n) << 1) | 1);
			}
			break;
		case 1:
			/* a 4-byte header running to (or past) the end of the heap */
			if (len - at >= 4)
				sb_store32(p, (uint32_t) ((len - at + rnd_below(3)) << 2));
			break;
		case 2:
			/* TOAST pointer and compressed-inline tags */
			*p = rnd_below(2) ? 0x01 : 0x02;
			break;
		case 3:
			/* a header shorter than itself */
			if (len - at >= 4)
				sb_store32(p, (uint32_t) (rnd_below(4) << 2));
			else
				*p = 0x03;
			break;
		default:
			*p = (uint8_t) rnd();
			break;
	}
}

/* Mutate a line of a line index: a count, an entry, or swap two lines. */
static void
mutate_line(uint8_t *d, uint64_t off, uint64_t len, uint64_t rows)
{
	uint64_t	n = len / SB_LINE_BYTES;
	uint8_t    *line = d + off + rnd_below(n) * SB_LINE_BYTES;
	uint8_t		t[SB_LINE_BYTES];

	switch (rnd_below(4))
	{
		case 0:
			line[rnd_below(2)] = (uint8_t) rnd_below(12);
			break;
		case 1:
			/* a row number: one past the end, the last, or anything */
			sb_store32(line + 24 + 4 * rnd_below(10),
					   rnd_below(3) == 0 ? (uint32_t) rnd() : (uint32_t) (rows - rnd_below(2)));
			break;
		case 2:
			line[SB_LINE_FPS + rnd_below(20)] ^= (uint8_t) (1 << rnd_below(8));
			break;
		default:
			{
				uint8_t    *o = d + off + rnd_below(n) * SB_LINE_BYTES;

				memcpy(t, line, sizeof(t));
				memcpy(line, o, sizeof(t));
				memcpy(o, t, sizeof(t));
			}
	}
}

/* Mutate the index: a line's counts, an entry, or the order of lines. */
static void
mutate_index(uint8_t *d, size_t size, const layout *l)
{
	uint64_t	off,
				len;
	uint64_t	rows = sb_load64(d + SB_HDR_ROW_COUNT);

	if (find_section(d, size, l, SB_SECTION_ENTRIES, &off, &len) &&
		len >= SB_LINE_BYTES)
		mutate_line(d, off, len, rows);
}

/* Mutate a metadata entry's lengths. */
static void
mutate_meta(uint8_t *d, size_t size, const layout *l)
{
	uint64_t	off,
				len;

	if (!find_section(d, size, l, SB_SECTION_META, &off, &len) || len < 8)
		return;
	tweak_field(d + off + 4 * rnd_below(2), 4, len);
}

/* Mutate bytes of one section in place, with libFuzzer's own mutator. */
static void
mutate_section_bytes(uint8_t *d, size_t size, const layout *l)
{
	const uint8_t *e = section_entry(d, (int) rnd_below(l->nsections));
	uint64_t	o = sb_load64(e + SB_SEC_OFFSET),
				n = sb_load64(e + SB_SEC_LENGTH),
				start,
				w;
	uint8_t		tmp[256];
	size_t		got;

	if (o > size || n > size - o || n == 0)
		return;
	start = rnd_below(n);
	w = n - start < sizeof(tmp) ? n - start : sizeof(tmp);
	w = 1 + rnd_below(w);
	memcpy(tmp, d + o + start, w);
	got = LLVMFuzzerMutate(tmp, w, w);
	memcpy(d + o + start, tmp, got);
}

/*
 * Change the size of the input: truncate it or extend it with zeros, and
 * usually make the header's file size and the last section follow.
 */
static size_t
mutate_size(uint8_t *d, size_t size, size_t max_size, const layout *l)
{
	size_t		n;

	if (rnd_below(2))
		n = l->header_size + rnd_below(size - l->header_size + 1);
	else
	{
		n = size + 8 * (1 + rnd_below(64));
		if (n > max_size)
			n = max_size;
		memset(d + size, 0, n - size);
	}
	if (rnd_below(4) != 0)
		sb_store64(d + SB_HDR_FILE_SIZE, n);
	if (rnd_below(2))
	{
		/* the section that ends last now ends at the end */
		uint8_t    *last = NULL;
		uint64_t	end = 0;

		for (uint32_t i = 0; i < l->nsections; i++)
		{
			uint8_t    *e = section_entry(d, (int) i);
			uint64_t	x = sb_load64(e + SB_SEC_OFFSET) + sb_load64(e + SB_SEC_LENGTH);

			if (x >= end && x <= size)
			{
				end = x;
				last = e;
			}
		}
		if (last && sb_load64(last + SB_SEC_OFFSET) <= n)
			sb_store64(last + SB_SEC_LENGTH, n - sb_load64(last + SB_SEC_OFFSET));
	}
	return n;
}

/* libFuzzer hook: mutate an input, then repair its checksums. */
size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
						unsigned int seed)
{
	layout		l;
	int			nops;

	rng_state = ((uint64_t) seed << 32) ^ seed ^ UINT64_C(0x9E3779B97F4A7C15);
	if (!parse_layout(data, size, &l) || rnd_below(8) == 0)
		size = LLVMFuzzerMutate(data, size, max_size);
	else
	{
		nops = 1 + (int) rnd_below(rnd_below(4) == 0 ? 4 : 1);
		for (int i = 0; i < nops && parse_layout(data, size, &l); i++)
		{
			switch (rnd_below(14))
			{
				case 0:
				case 1:
					mutate_header(data, size);
					break;
				case 2:
				case 3:
					mutate_sections(data, size, &l);
					break;
				case 4:
					mutate_schema(data, size, &l);
					break;
				case 5:
					mutate_rows(data, size, &l);
					break;
				case 6:
					mutate_heap(data, size, &l);
					break;
				case 7:
					mutate_index(data, size, &l);
					break;
				case 8:
					mutate_meta(data, size, &l);
					break;
				case 9:
					size = mutate_size(data, size, max_size, &l);
					break;
				case 10:
					if (rnd_below(4) == 0)
					{
						mutate_block_shift(data, size, &l);
						break;
					}
					mutate_consistent(data, &l);
					break;
				default:
					mutate_section_bytes(data, size, &l);
					break;
			}
		}
	}
	/* keep a few stale checksums, so that their checks stay covered */
	if (rnd_below(32) != 0)
		fix_checksums(data, size, rnd_below(4) != 0);
	return size;
}

/*
 * libFuzzer hook: cross two inputs.  For two bundles, a section of the
 * second is copied over the same kind of section of the first, as far as
 * it fits; otherwise the first half of one is joined to the second half of
 * the other.
 */
size_t
LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
						  const uint8_t *data2, size_t size2,
						  uint8_t *out, size_t max_out_size, unsigned int seed)
{
	layout		l1,
				l2;
	size_t		n = size1 < max_out_size ? size1 : max_out_size;

	rng_state = ((uint64_t) seed << 32) ^ seed ^ UINT64_C(0xD1B54A32D192ED03);
	memcpy(out, data1, n);
	if (parse_layout(out, n, &l1) && parse_layout(data2, size2, &l2))
	{
		const uint8_t *e2 = section_entry((uint8_t *) data2, (int) rnd_below(l2.nsections));
		uint64_t	o1,
					n1,
					o2 = sb_load64(e2 + SB_SEC_OFFSET),
					n2 = sb_load64(e2 + SB_SEC_LENGTH);

		if (o2 <= size2 && n2 <= size2 - o2 &&
			find_section(out, n, &l1, sb_load32(e2 + SB_SEC_KIND), &o1, &n1))
			memcpy(out + o1, data2 + o2, n1 < n2 ? n1 : n2);
	}
	else
	{
		size_t		h1 = n / 2,
					h2 = size2 / 2;

		if (h1 + (size2 - h2) > max_out_size)
			h2 = size2 - (max_out_size - h1);
		memcpy(out + h1, data2 + h2, size2 - h2);
		n = h1 + size2 - h2;
	}
	if (rnd_below(32) != 0)
		fix_checksums(out, n, rnd_below(4) != 0);
	return n;
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sbfuzz_run_one(data, size);
}
