/*-------------------------------------------------------------------------
 *
 * tfconform.c
 *	  Checks of the writer's rules that sb_verify leaves out.
 *
 * docs/format.md section 14 says exactly what the reference writer
 * produces, and section 13 lists the rules the reference verifier does
 * not check (section alignment to 64 bytes, the reserved fields,
 * distinct_hashes and max_run, the packing of schema strings, ...).
 * It also recomputes the block checksums from section 11.2 alone, so that
 * the library's reading of them (which sb_verify uses) cannot drift from
 * the specification.  tf_open applies these stricter checks to every
 * bundle the tests build, on top of sb_verify.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdlib.h>

/* Section table order of the reference writer. */
static const uint32_t table_order[SB_NSECTIONS] = {
	SB_SECTION_SCHEMA, SB_SECTION_META, SB_SECTION_HEAP,
	SB_SECTION_ROWS, SB_SECTION_ENTRIES, SB_SECTION_BLOCKSUMS
};

/*
 * File orders of the reference writer: the heap first, or the rows first
 * when the slots have an inline area (section 2).
 */
static const uint32_t file_order[2][SB_NSECTIONS] = {
	{SB_SECTION_SCHEMA, SB_SECTION_HEAP, SB_SECTION_ROWS,
	SB_SECTION_ENTRIES, SB_SECTION_BLOCKSUMS, SB_SECTION_META},
	{SB_SECTION_SCHEMA, SB_SECTION_ROWS, SB_SECTION_HEAP,
	SB_SECTION_ENTRIES, SB_SECTION_BLOCKSUMS, SB_SECTION_META}
};

static uint64_t fields_end(sb_bundle *b);

/* Is some key column hashed (which makes the file version 4)? */
static bool
hashed_key(const sb_bundle *b)
{
	for (int c = 0; c < b->ncolumns; c++)
		if (b->columns[c].key_kind == SB_KEY_HASHED)
			return true;
	return false;
}

/*
 * Header fields fixed by the writer's rules: version 4.0 with a hashed
 * key, else 3.0 (section 3).
 */
static bool
conform_header(sb_bundle *b, const unsigned char *img)
{
	int			nsec = b->encoded ? SB_NSECTIONS_COMPACT : SB_NSECTIONS;

	return CHECK_EQ(b->major, b->encoded ? 5 : hashed_key(b) ? 4 : 3) &
		CHECK_EQ(b->minor, 0) &
		CHECK_EQ(img[SB_HDR_BLOCK_SHIFT], SB_BLOCK_SHIFT) &
		CHECK_EQ(img[SB_HDR_BUCKET_BITS], 0) &
		CHECK_EQ(b->nsections, nsec) &
		CHECK_EQ(b->header_size, SB_HEADER_FIXED + nsec * SB_SECTION_ENTRY);
}

/* Whether a section kind is one the writer may align to 4096 (section 1). */
static bool
data_section(uint32_t kind)
{
	return kind == SB_SECTION_HEAP || kind == SB_SECTION_ROWS ||
		kind == SB_SECTION_ENTRIES;
}

/*
 * The alignment the writer used for the heap, rows and index: 4096 when
 * all of them start at multiples of 4096 (then the rule below places them
 * exactly where 64 would have, if 64 was used), else 64.
 */
static uint64_t
data_alignment(sb_bundle *b)
{
	for (int i = 0; i < b->nsections; i++)
		if (data_section(b->sections[i].kind) && b->sections[i].offset % 4096 != 0)
			return SB_SECTION_ALIGN;
	return 4096;
}

/* The section table's order and flags, and the sections' places. */
static bool
conform_sections(sb_bundle *b)
{
	uint64_t	pos = sb_align_up(b->header_size, SB_SECTION_ALIGN);
	uint64_t	data_align = data_alignment(b);

	/* a compact build leaves room for the encodings' table entry */
	if (b->sections[0].offset == sb_align_up(SB_HEADER_FIXED + SB_NSECTIONS_COMPACT *
											 SB_SECTION_ENTRY, SB_SECTION_ALIGN))
		pos = b->sections[0].offset;
	const uint32_t *order = file_order[b->row_size > fields_end(b)];
	bool		ok = true;

	for (int i = 0; i < b->nsections; i++)
	{
		const sb_section_info *s = &b->sections[i];

		ok &= CHECKF(s->kind == table_order[i] &&
					 s->flags == (s->kind == SB_SECTION_META ||
								  s->kind == SB_SECTION_BLOCKSUMS ? 0 : SB_SECF_REQUIRED),
					 "section %d has kind %u, flags %u", i, s->kind, s->flags);
	}
	for (int f = 0; f < SB_NSECTIONS && ok; f++)
	{
		for (int i = 0; i < b->nsections; i++)
		{
			const sb_section_info *s = &b->sections[i];

			if (s->kind != order[f])
				continue;
			if (data_section(s->kind))
				pos = sb_align_up(pos, data_align);
			ok &= CHECKF(s->offset == pos, "section of kind %u at %llu, expected %llu",
						 s->kind, (unsigned long long) s->offset,
						 (unsigned long long) pos);
			pos = sb_align_up(s->offset + s->length, SB_SECTION_ALIGN);
			if (s->kind == SB_SECTION_META)
				ok &= CHECK_EQ(s->offset + s->length, b->size);
		}
	}
	return ok;
}

/* Schema strings: packed after the records, each NUL-terminated. */
static bool
conform_schema(sb_bundle *b)
{
	const sb_section_info *s = &b->sections[0];
	const unsigned char *sec = b->base + s->offset;
	uint64_t	pos = (uint64_t) b->ncolumns * SB_COLREC_SIZE;
	bool		ok = true;

	for (int c = 0; c < b->ncolumns && ok; c++)
	{
		const unsigned char *r = sec + (size_t) c * SB_COLREC_SIZE;
		uint32_t	nl = sb_load32(r + SB_COL_NAME_LEN),
					tl = sb_load32(r + SB_COL_TYPE_LEN);

		ok &= CHECK_EQ(sb_load32(r + SB_COL_NAME_OFF), pos);
		ok &= CHECK(pos + nl < s->length && sec[pos + nl] == 0);
		pos += nl + 1;
		ok &= CHECK_EQ(sb_load32(r + SB_COL_TYPE_OFF), pos);
		ok &= CHECK(pos + tl < s->length && sec[pos + tl] == 0);
		pos += tl + 1;
	}
	return ok && CHECK_EQ(pos, s->length);
}

/* Field alignment of a column in a slot (6.2). */
static unsigned
conform_align(const sb_column *col)
{
	return col->typlen > 0 ? sb_typalign_bytes(col->typalign) : 8;
}

/* Expected offsets of one placement pass of the rule in 6.3. */
static void
conform_place(sb_bundle *b, uint64_t *want, unsigned align,
			  uint64_t limit, uint64_t *off)
{
	for (int c = 0; c < b->ncolumns; c++)
	{
		const sb_column *col = &b->columns[c];
		uint64_t	width = col->typlen > 0 ? (uint64_t) col->typlen : 8;
		uint64_t	at = sb_align_up(*off, align);

		if (want[c] != UINT64_MAX || conform_align(col) != align)
			continue;
		if (limit != 0 && at + width > limit)
			continue;
		want[c] = at;
		*off = at + width;
	}
}

/* Slot offsets and row size by the writer's placement rule (6.3). */
static bool
conform_layout(sb_bundle *b)
{
	uint64_t	off = (uint64_t) (b->ncolumns + 7) / 8;
	uint64_t	gap_end = sb_align_up(off, 8);
	uint64_t   *want = calloc(b->ncolumns, sizeof(uint64_t));
	bool		ok = true;

	if (want == NULL)
		return CHECK(want != NULL);
	for (int c = 0; c < b->ncolumns; c++)
		want[c] = (b->flags & SB_BUNDLE_APPROXIMATE) &&
			b->columns[c].key_position > 0 ? SB_NOT_STORED : UINT64_MAX;
	for (unsigned align = 4; align >= 1; align /= 2)
		conform_place(b, want, align, gap_end, &off);
	off = gap_end;
	for (unsigned align = 8; align >= 1; align /= 2)
		conform_place(b, want, align, 0, &off);
	for (int c = 0; c < b->ncolumns; c++)
		ok &= CHECKF(b->slot_offsets[c] == want[c],
					 "column %d at %u, expected %llu", c,
					 b->slot_offsets[c], (unsigned long long) want[c]);
	free(want);
	off = sb_align_up(off, 8);
	/* then the inline area, if any (6.4) */
	return ok && CHECKF(b->row_size >= off && b->row_size - off <= SB_MAX_INLINE &&
						b->row_size % 8 == 0,
						"row size %u for fields ending at %llu", b->row_size,
						(unsigned long long) off);
}

/* Is the value of column c in this slot stored inside the slot? */
static bool
is_inline(sb_bundle *b, const unsigned char *slot, int c)
{
	return b->columns[c].typlen == -1 && !sb_slot_isnull(sb_bundle_info(b), slot, c) &&
		(sb_load64(slot + b->slot_offsets[c]) & SB_INLINE_REF) != 0;
}

/* End of a slot's fields: where its inline area starts. */
static uint64_t
fields_end(sb_bundle *b)
{
	uint64_t	end = b->bitmap_bytes;

	for (int c = 0; c < b->ncolumns; c++)
	{
		const sb_column *col = &b->columns[c];

		if (b->slot_offsets[c] != SB_NOT_STORED &&
			b->slot_offsets[c] + (col->typlen > 0 ? (uint64_t) col->typlen : 8) > end)
			end = b->slot_offsets[c] + (col->typlen > 0 ? (uint64_t) col->typlen : 8);
	}
	return sb_align_up(end, 8);
}

/* An inline value's place in its slot, and the alignment its header needs. */
typedef struct inline_place
{
	uint64_t	at;
	uint64_t	len;
	unsigned	align;
} inline_place;

/* Order inline places by offset, for qsort. */
static int
cmp_place(const void *a, const void *b)
{
	uint64_t	x = ((const inline_place *) a)->at,
				y = ((const inline_place *) b)->at;

	return x < y ? -1 : x > y;
}

/*
 * Inline values of one row (6.4): packed from the area's start, each
 * aligned as in the heap, with no gap but alignment.  Adds to *count.
 */
static bool
conform_inline_row(sb_bundle *b, uint64_t r, uint64_t start,
				   inline_place *pl, uint64_t *count)
{
	const unsigned char *slot = sb_row_slot(b, r);
	int			n = 0;
	uint64_t	at = start;
	bool		ok = true;

	for (int c = 0; c < b->ncolumns; c++)
	{
		sb_value	v;

		if (!is_inline(b, slot, c) || sb_slot_value(b, slot, c, &v, NULL) != SB_OK)
			continue;
		pl[n].at = (uint64_t) (v.ptr - slot);
		pl[n].len = v.len;
		pl[n++].align = sb_varlena_header_size(v.ptr) == 1 ? 1 :
			sb_typalign_bytes(b->columns[c].typalign);
	}
	qsort(pl, n, sizeof(inline_place), cmp_place);
	for (int i = 0; i < n && ok; i++)
	{
		ok &= CHECKF(pl[i].at == sb_align_up(at, pl[i].align),
					 "row %llu: inline value at %llu, expected %llu",
					 (unsigned long long) r, (unsigned long long) pl[i].at,
					 (unsigned long long) sb_align_up(at, pl[i].align));
		at = pl[i].at + pl[i].len;
	}
	*count += n;
	return ok;
}

/*
 * Inline values are packed in every row; there are some if and only if
 * the slots have an inline area (6.4).
 */
static bool
conform_inline(sb_bundle *b)
{
	inline_place *pl = calloc(b->ncolumns, sizeof(inline_place));
	uint64_t	start = fields_end(b),
				count = 0;
	bool		ok = CHECK(pl != NULL);

	for (uint64_t r = 0; r < b->row_count && ok; r++)
		ok &= conform_inline_row(b, r, start, pl, &count);
	free(pl);
	return ok && CHECKF((count > 0) == (b->row_size > start),
						"%llu inline values with an inline area of %llu bytes",
						(unsigned long long) count,
						(unsigned long long) (b->row_size - start));
}

/* Order of (hash, row) pairs. */
static int
pair_cmp(const void *a, const void *b)
{
	const uint64_t *x = a,
			   *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/*
 * Lay out the line index from the sorted pairs as section 9 says the
 * writer does, in img (zeroed, room for every line); returns the number
 * of lines and sets *maxrun.
 */
static uint64_t
place_lines(sb_bundle *b, const uint64_t *pairs, uint64_t n,
			unsigned char *img, uint64_t *maxrun)
{
	unsigned	fpb = b->fp_bytes,
				cap = (64 - 4) / (fpb + 4),
				rows_at = (4 + cap * fpb + 3) & ~3u;
	uint64_t	line = 0,
				nlines;
	bool		own = false;	/* the current line has own entries */

	*maxrun = 0;
	for (uint64_t i = 0; i < n; i++)
	{
		uint64_t	h = pairs[2 * i],
					home = ((h >> 32) * b->home_lines) >> 32;
		unsigned char *l = img + line * 64;

		if (line < home || l[0] == cap)
		{
			if (!own)
				l[1] = l[0];
			line = line < home ? home : line + 1;
			own = false;
			l = img + line * 64;
		}
		if (line == home && !own)
		{
			l[1] = l[0];
			own = true;
		}
		sb_store_n(l + 4 + l[0] * fpb, fpb, fpb == 2 ? (uint16_t) h : (uint32_t) h);
		sb_store32(l + rows_at + 4 * l[0], (uint32_t) pairs[2 * i + 1]);
		l[0]++;
		if (line - home + 1 > *maxrun)
			*maxrun = line - home + 1;
	}
	if (n > 0 && !own)
		img[line * 64 + 1] = img[line * 64];
	nlines = n == 0 ? 0 : line + 1;
	return nlines > b->home_lines ? nlines : b->home_lines;
}

/*
 * The index: home lines by the rule, and (where the keys are stored) the
 * lines exactly as the writer lays out the rows' sorted (hash, row) pairs.
 */
static bool
conform_lines(sb_bundle *b)
{
	uint64_t	n = b->indexed_count,
				cap = b->fp_bytes == 2 ? 10 : 7,
				k = 0,
				maxrun,
				nlines;
	uint64_t   *pairs;
	unsigned char *img;
	bool		ok = CHECK_EQ(b->home_lines, (n * 100 + cap * 75 - 1) / (cap * 75));

	if (!ok || (b->flags & SB_BUNDLE_APPROXIMATE))
		return ok;
	/* the hashes of hashed keys are the writer's caller's */
	if (hashed_key(b))
		return ok;
	pairs = malloc((n + 1) * 16);
	img = calloc(b->home_lines + n / cap + 2, 64);
	if (!CHECK(pairs != NULL && img != NULL))
		return false;
	for (uint64_t r = 0; r < b->row_count; r++)
	{
		sb_status	st;
		bool		known;

		if (sb_row_key_hash(b, r, &pairs[2 * k], &known, NULL, &st) && k < n)
			pairs[2 * k++ + 1] = r;
	}
	qsort(pairs, k, 16, pair_cmp);
	nlines = place_lines(b, pairs, k, img, &maxrun);
	ok = CHECK_EQ(k, n) && CHECK_EQ(b->nlines, nlines) &&
		CHECK_EQ(b->max_run, maxrun) &&
		CHECKF(memcmp(img, b->entries, nlines * 64) == 0,
			   "the index lines are not as the writer places them");
	free(pairs);
	free(img);
	return ok;
}

/* The heap ends at the end of its last value: no trailing padding. */
static bool
conform_heap_end(sb_bundle *b)
{
	uint64_t	end = 0;

	for (uint64_t r = 0; r < b->row_count; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);

		for (int c = 0; c < b->ncolumns; c++)
		{
			sb_value	v;

			if (b->columns[c].typlen == -1 && !sb_slot_isnull(sb_bundle_info(b), slot, c) &&
				!is_inline(b, slot, c) &&
				sb_slot_value(b, slot, c, &v, NULL) == SB_OK &&
				(uint64_t) (v.ptr - b->heap) + v.len > end)
				end = (uint64_t) (v.ptr - b->heap) + v.len;
		}
	}
	return CHECK_EQ(b->heap_size, end);
}

/*
 * In a heap aligned to 4096, no value image of at most 256 bytes crosses
 * a multiple of 4096 of the heap offset (section 7.3).
 */
static bool
conform_heap_blocks(sb_bundle *b)
{
	bool		ok = true;

	if (data_alignment(b) != 4096)
		return true;
	for (uint64_t r = 0; r < b->row_count && ok; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);

		for (int c = 0; c < b->ncolumns; c++)
		{
			sb_value	v;
			uint64_t	off;

			if (b->columns[c].typlen != -1 || sb_slot_isnull(sb_bundle_info(b), slot, c) ||
				is_inline(b, slot, c) || sb_slot_value(b, slot, c, &v, NULL) != SB_OK)
				continue;
			off = (uint64_t) (v.ptr - b->heap);
			ok &= CHECKF(v.len > 256 || off % 4096 + v.len <= 4096,
						 "row %llu: a value of %zu bytes at heap offset %llu crosses a block",
						 (unsigned long long) r, v.len, (unsigned long long) off);
		}
	}
	return ok;
}

/* A section of the bundle by kind, or NULL. */
static const sb_section_info *
section_of(sb_bundle *b, uint32_t kind)
{
	for (int i = 0; i < b->nsections; i++)
		if (b->sections[i].kind == kind)
			return &b->sections[i];
	return NULL;
}

/*
 * Block checksums recomputed from the specification alone (section 11.2):
 * 4 KiB blocks of the rows, heap and entries sections, in that order,
 * counted from each section's start, the last one short; each the
 * low 32 bits of XXH3-64 (seed 0); nothing else in the section.
 */
static bool
conform_blocksums(sb_bundle *b)
{
	static const uint32_t kinds[3] = {
		SB_SECTION_ROWS, SB_SECTION_HEAP, SB_SECTION_ENTRIES};
	const sb_section_info *bs = section_of(b, SB_SECTION_BLOCKSUMS);
	uint64_t	pos = 0;
	bool		ok = true;

	if (!CHECK(bs != NULL) || !CHECK_EQ(b->base[SB_HDR_BLOCK_SHIFT], 12))
		return false;
	for (int r = 0; r < 3 && ok; r++)
	{
		const sb_section_info *s = section_of(b, kinds[r]);

		for (uint64_t o = 0; s && o < s->length && ok; o += 4096, pos += 4)
		{
			uint64_t	n = s->length - o < 4096 ? s->length - o : 4096;

			ok &= CHECKF(pos + 4 <= bs->length &&
						 sb_load32(b->base + bs->offset + pos) ==
						 (uint32_t) sb_checksum(b->base + s->offset + o, n),
						 "block checksum at %llu is not that of section %u's bytes %llu..%llu",
						 (unsigned long long) pos, kinds[r], (unsigned long long) o,
						 (unsigned long long) (o + n - 1));
		}
	}
	return ok && CHECK_EQ(bs->length, pos);
}

/* Check an open, verified bundle against the writer's rules. */
bool
tf_check_conformance(sb_bundle *b)
{
	bool		ok;

	/* the layout of narrowed slots and the file order of format 5 are not
	 * checked here: test_compact.c checks what they hold */
	if (b->encoded)
		ok = conform_header(b, b->base) && conform_schema(b) &&
			conform_lines(b);
	else
		ok = conform_header(b, b->base) && conform_sections(b) &&
			conform_schema(b) && conform_layout(b) && conform_heap_end(b) &&
			conform_inline(b) && conform_heap_blocks(b) && conform_blocksums(b) &&
			conform_lines(b);
	return ok && CHECK(b->distinct_keys <= b->indexed_count) &&
		CHECK(b->indexed_count == 0 || b->distinct_keys > 0);
}
