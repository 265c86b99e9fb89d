/*-------------------------------------------------------------------------
 *
 * sbaccess.c
 *	  Reading values out of row slots, and build metadata.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

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
 * Read a variable-length column of a slot: the field holds an offset into
 * the value heap, and the value's header gives its length.  Both are
 * checked against the heap's bounds.  A field with SB_INLINE_REF set
 * refers to a value inside the slot instead.
 */
sb_status
sb_slot_varlena(const sb_bundle *b, const unsigned char *slot, int col,
				sb_value *out, sb_error *err)
{
	uint64_t	off = sb_load64(slot + b->columns[col].slot_offset);
	size_t		total;
	sb_status	st;

	if (off & SB_INLINE_REF)
		return slot_inline(b, slot, col, off, out, err);
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
