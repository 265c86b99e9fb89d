/*-------------------------------------------------------------------------
 *
 * sbaccess.c
 *	  What callers read of an open bundle: its description, its row slots
 *	  and values, and its build metadata.
 *
 * The description (sb_info) is filled once at open from what validation
 * copied out of the file.  Rows and values are read through functions
 * that check the block checksums of what they read, once per block.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <stdlib.h>

/* Names of the section kinds, as docs/format.md numbers them. */
static const char *const section_names[] = {
	"unknown", "schema", "metadata", "rows", "heap", "unknown", "entries",
	"block checksums", "encodings"
};

/* qsort comparator: sections by offset, then by length. */
static int
section_cmp(const void *a, const void *b)
{
	const sb_section *x = a,
			   *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->length < y->length ? -1 : x->length > y->length;
}

/* List the sections in file order, with their names. */
static void
fill_sections(sb_bundle *b)
{
	for (int i = 0; i < b->nsections; i++)
	{
		sb_section *s = &b->file_sections[i];
		uint32_t	kind = b->sections[i].kind;

		s->kind = kind;
		s->name = kind < sizeof(section_names) / sizeof(section_names[0]) ?
			section_names[kind] : "unknown";
		s->offset = b->sections[i].offset;
		s->length = b->sections[i].length;
	}
	qsort(b->file_sections, b->nsections, sizeof(sb_section), section_cmp);
}

/* Fill in the description callers read, from what validation found. */
void
sb_fill_info(sb_bundle *b)
{
	sb_info    *in = &b->info;

	in->major = b->major;
	in->minor = b->minor;
	in->pg_major = b->pg_major;
	in->build_time = b->build_time;
	in->file_size = b->size;
	in->hash_seed = b->hash_seed;
	in->approximate = (b->flags & SB_BUNDLE_APPROXIMATE) != 0;
	in->row_count = b->row_count;
	in->row_size = b->row_size;
	in->heap_size = b->heap_size;
	in->ncolumns = b->ncolumns;
	in->columns = b->columns;
	in->slot_offsets = b->slot_offsets;
	in->encodings = b->encodings;
	in->nkeys = b->nkeys;
	in->key_columns = b->key_columns;
	in->indexed_count = b->indexed_count;
	in->distinct_keys = b->distinct_keys;
	in->index_size = b->entries_size;
	in->index_lines = b->nlines;
	in->home_lines = b->home_lines;
	in->fp_bytes = b->fp_bytes;
	in->longest_run = b->max_run;
	fill_sections(b);
	in->nsections = b->nsections;
	in->sections = b->file_sections;
}

/* What an open bundle holds. */
const sb_info *
sb_bundle_info(const sb_bundle *b)
{
	return &b->info;
}

/*
 * sb_row_get of a row out of range, or whose slot's blocks need a check.
 * Never inlined into sb_row_get, whose common case then needs no frame.
 */
__attribute__((noinline)) sb_status
sb_row_get_slow(sb_bundle *b, uint64_t row, const unsigned char **slot,
				sb_error *err)
{
	sb_status	st;

	*slot = NULL;
	if (row >= b->row_count)
		return sb_fail(err, SB_ERR_INVALID, "no such row");
	st = sb_check_slow(b, SB_REGION_ROWS, row * b->row_size, b->row_size, err);
	if (st == SB_OK)
		*slot = b->rows + row * b->row_size;
	return st;
}

/* The slot of row 'row', its block checksum checked. */
sb_status
sb_row_get(sb_bundle *b, uint64_t row, const unsigned char **slot,
		   sb_error *err)
{
	return sb_row_checked(b, row, slot, err);
}

/*
 * Read a value stored inside the slot: it must lie within the slot, after
 * the NULL bitmap.  The slot's blocks were checked with it.
 */
static sb_status
slot_inline(const sb_bundle *b, const unsigned char *slot, int col,
			uint64_t ref, sb_value *out, sb_error *err)
{
	uint64_t	at = ref & ~SB_INLINE_REF;
	size_t		total;

	if (at < b->bitmap_bytes || at >= b->row_size ||
		!sb_varlena_size(slot + at, b->row_size - at, &total))
		return sb_fail(err, SB_ERR_CORRUPT,
					   "column \"%s\" refers to an invalid value inside its row slot",
					   b->columns[col].name);
	out->ptr = slot + at;
	out->len = total;
	return SB_OK;
}

/*
 * Read a value in the value heap at offset 'off': the value's header gives
 * its length.  Both are checked against the heap's bounds.  Out of line:
 * the values that lookups read most are inside their slot.
 */
static __attribute__((noinline)) sb_status
slot_heap(sb_bundle *b, uint64_t off, int col, sb_value *out, sb_error *err)
{
	size_t		total;
	sb_status	st;

	if (off >= b->heap_size)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "column \"%s\" refers to heap offset %llu, beyond the heap",
					   b->columns[col].name, (unsigned long long) off);
	/* the header's block first, then the whole value's */
	if ((st = sb_check(b, SB_REGION_HEAP, off,
					   b->heap_size - off < 4 ? b->heap_size - off : 4, err)) != SB_OK)
		return st;
	if (!sb_varlena_size(b->heap + off, (size_t) (b->heap_size - off), &total))
		return sb_fail(err, SB_ERR_CORRUPT,
					   "column \"%s\" refers to an invalid value at heap offset %llu",
					   b->columns[col].name, (unsigned long long) off);
	if ((st = sb_check(b, SB_REGION_HEAP, off, total, err)) != SB_OK)
		return st;
	out->ptr = b->heap + off;
	out->len = total;
	return SB_OK;
}

/*
 * Read a non-NULL column of a slot (see sb_slot_isnull).  Fixed-length
 * values point into the slot, or into out->fixed when they are stored as
 * offsets; variable-length ones into the value heap, bounds-checked, or,
 * when the field has SB_INLINE_REF set (SB_INLINE_REF4 in a 4-byte
 * reference), into the slot.
 */
sb_status
sb_slot_value(sb_bundle *b, const unsigned char *slot, int col,
			  sb_value *out, sb_error *err)
{
	uint32_t	at;
	int16_t		typlen;
	const sb_encoding *e;
	uint64_t	ref;

	if ((unsigned) col >= (unsigned) b->ncolumns ||
		(at = b->slot_offsets[col]) == SB_NOT_STORED)
		return sb_fail(err, SB_ERR_INVALID, "column %d is not stored", col);
	typlen = b->columns[col].typlen;
	e = &b->encodings[col];
	if (typlen > 0)
	{
		out->encoded = false;
		out->len = (size_t) typlen;
		if (e->kind == SB_ENC_OFFSET)
		{
			uint64_t	v = (uint64_t) e->base + sb_load_width(slot + at, e->width);

			sb_store_n(out->fixed, typlen, v);
			out->ptr = out->fixed;
		}
		else
			out->ptr = slot + at;
		return SB_OK;
	}
	out->encoded = e->kind == SB_ENC_SYMBOLS;
	if (e->width == 4)
	{
		uint32_t	ref4 = sb_load32(slot + at);

		ref = ref4 & SB_INLINE_REF4 ? SB_INLINE_REF | (ref4 & ~SB_INLINE_REF4) : ref4;
	}
	else
		ref = sb_load64(slot + at);
	if (ref & SB_INLINE_REF)
		return slot_inline(b, slot, col, ref, out, err);
	return slot_heap(b, ref, col, out, err);
}

/*
 * Step through the metadata entries: start with *pos = 0; returns false at
 * the end or at the first malformed entry.
 */
bool
sb_meta_next(const sb_bundle *b, uint64_t *pos, const char **key, size_t *klen,
			 const char **value, size_t *vlen)
{
	uint64_t	p = *pos;
	uint32_t	kl,
				vl;

	if (b->meta == NULL || p > b->meta_size || b->meta_size - p < 8)
		return false;
	kl = sb_load32(b->meta + p);
	vl = sb_load32(b->meta + p + 4);
	if ((uint64_t) kl + vl > b->meta_size - p - 8)
		return false;
	*key = (const char *) b->meta + p + 8;
	*klen = kl;
	*value = *key + kl;
	*vlen = vl;
	*pos = sb_align_up(p + 8 + kl + vl, 4);
	return true;
}

/* The value of a metadata key, or NULL; *len gets its length. */
const char *
sb_meta_get(const sb_bundle *b, const char *key, size_t *len)
{
	uint64_t	pos = 0;
	const char *k,
			   *v;
	size_t		kl,
				vl,
				want = strlen(key);

	while (sb_meta_next(b, &pos, &k, &kl, &v, &vl))
	{
		if (kl == want && memcmp(k, key, kl) == 0)
		{
			*len = vl;
			return v;
		}
	}
	return NULL;
}
