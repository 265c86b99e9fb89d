/*-------------------------------------------------------------------------
 *
 * sbhash.c
 *	  Key canonicalization and hashing, checksums, varlena headers.
 *
 * Two keys are equal when their canonical forms are byte-equal, so the
 * writer and every reader must canonicalize and hash identically: integers
 * of any width become int8, float -0 becomes 0 and every NaN one NaN,
 * bpchar loses its trailing blanks.  A single-column key hashes its
 * canonical bytes; a composite key hashes each part prefixed by its length.
 * The hash is XXH3-64 with the seed recorded in the file's header.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <math.h>
#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t	sb_test_hash_mask = UINT64_MAX;

/* Checksum of a byte range: XXH3-64 with seed 0. */
uint64_t
sb_checksum(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

struct sb_checksum_state
{
	XXH3_state_t state;
};

/* Start a streaming checksum. */
sb_checksum_state *
sb_checksum_create(void)
{
	sb_checksum_state *s = aligned_alloc(64, sb_align_up(sizeof(*s), 64));

	if (s)
		XXH3_64bits_reset(&s->state);
	return s;
}

/* Add bytes to a streaming checksum. */
void
sb_checksum_update(sb_checksum_state *s, const void *data, size_t len)
{
	if (len > 0)
		XXH3_64bits_update(&s->state, data, len);
}

/* The checksum of everything added so far. */
uint64_t
sb_checksum_final(sb_checksum_state *s)
{
	return XXH3_64bits_digest(&s->state);
}

/* Free a streaming checksum. */
void
sb_checksum_free(sb_checksum_state *s)
{
	free(s);
}

/*
 * The canonical bytes of one key part.  Fixed-width forms are written to
 * 'buf' (at least 8 bytes); variable ones point into the part's data.
 */
static const void *
canonical_bytes(const sb_keycol *col, const sb_key_part *part,
				unsigned char *buf, size_t *len)
{
	switch (col->kind)
	{
		case SB_KEY_INTEGER:
			memcpy(buf, &part->ival, 8);
			*len = 8;
			return buf;
		case SB_KEY_FLOAT:
			if (part->len == 4)
			{
				float		f;

				memcpy(&f, part->data, 4);
				if (f == 0.0f)
					f = 0.0f;
				memcpy(buf, &f, 4);
				if (isnan(f))
					sb_store32(buf, UINT32_C(0x7FC00000));	/* the canonical NaN */
				*len = 4;
			}
			else
			{
				double		d;

				memcpy(&d, part->data, 8);
				if (d == 0.0)
					d = 0.0;
				memcpy(buf, &d, 8);
				if (isnan(d))
					sb_store64(buf, UINT64_C(0x7FF8000000000000));	/* the canonical NaN */
				*len = 8;
			}
			return buf;
		case SB_KEY_BPCHAR:
			{
				const char *s = part->data;
				size_t		n = part->len;

				while (n > 0 && s[n - 1] == ' ')
					n--;
				*len = n;
				return s;
			}
		default:
			*len = part->len;
			return part->data;
	}
}

/* Hash a key given as parts, in key-column order. */
uint64_t
sb_hash_parts(const sb_keycol *cols, int nkeys, const sb_key_part *parts,
			  uint64_t seed)
{
	unsigned char buf[8];
	const void *bytes;
	size_t		len;
	XXH3_state_t state;

	if (nkeys == 1)
	{
		bytes = canonical_bytes(&cols[0], &parts[0], buf, &len);
		return XXH3_64bits_withSeed(bytes, len, seed) & sb_test_hash_mask;
	}

	memset(&state, 0, sizeof(state));	/* quiets a false compiler warning */

	XXH3_64bits_reset_withSeed(&state, seed);
	for (int i = 0; i < nkeys; i++)
	{
		uint32_t	len32;

		bytes = canonical_bytes(&cols[i], &parts[i], buf, &len);
		len32 = (uint32_t) len;
		XXH3_64bits_update(&state, &len32, sizeof(len32));
		XXH3_64bits_update(&state, bytes, len);
	}
	return XXH3_64bits_digest(&state) & sb_test_hash_mask;
}

/*
 * Hash a key that is one integer column: the same value sb_hash_parts
 * gives, without its dispatch on the column's kind.
 */
uint64_t
sb_hash_integer(int64_t value, uint64_t seed)
{
	return XXH3_64bits_withSeed(&value, sizeof(value), seed) & sb_test_hash_mask;
}

/* Are two key parts of one column equal in canonical form? */
bool
sb_key_part_equal(const sb_keycol *col, const sb_key_part *a,
				  const sb_key_part *b)
{
	unsigned char abuf[8],
				bbuf[8];
	const void *ab,
			   *bb;
	size_t		alen,
				blen;

	if (col->kind == SB_KEY_INTEGER)
		return a->ival == b->ival;
	ab = canonical_bytes(col, a, abuf, &alen);
	bb = canonical_bytes(col, b, bbuf, &blen);
	return alen == blen && memcmp(ab, bb, alen) == 0;
}

/*
 * Make a key part from a datum image read out of a row.  Returns false if
 * the image does not fit the column's kind, or the kind is hashed.
 */
bool
sb_key_part_from_image(const sb_keycol *col, const unsigned char *image,
					   size_t len, sb_key_part *part)
{
	switch (col->kind)
	{
		case SB_KEY_INTEGER:
			if (len != 2 && len != 4 && len != 8)
				return false;
			part->ival = sb_load_int(image, (int) len);
			return true;
		case SB_KEY_HASHED:
			return false;		/* a row holds the value, not its hash */
		case SB_KEY_VARLENA:
		case SB_KEY_BPCHAR:
			{
				size_t		hdr = sb_varlena_header_size(image);

				if (hdr == 0 || hdr > len)
					return false;
				part->data = image + hdr;
				part->len = len - hdr;
				return true;
			}
		default:
			part->data = image;
			part->len = len;
			return true;
	}
}

/*
 * Write the varlena header for a payload: 1 byte if allowed and the value
 * is short (PostgreSQL's VARATT_SHORT_MAX is 127 bytes in all), else 4.
 */
size_t
sb_varlena_make_header(unsigned char *hdr, size_t payload_len, bool shortok)
{
	if (shortok && payload_len + 1 <= 0x7F)
	{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		hdr[0] = (unsigned char) (0x80 | (payload_len + 1));
#else
		hdr[0] = (unsigned char) (((payload_len + 1) << 1) | 0x01);
#endif
		return 1;
	}
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	sb_store32(hdr, (uint32_t) (payload_len + 4));
#else
	sb_store32(hdr, (uint32_t) ((payload_len + 4) << 2));
#endif
	return 4;
}
