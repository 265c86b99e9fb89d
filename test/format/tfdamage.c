/*-------------------------------------------------------------------------
 *
 * tfdamage.c
 *	  Helpers for damaged bundle images: finding sections, recomputing
 *	  checksums, and opening a damaged copy in every way a reader can.
 *
 * A damaged copy is opened twice: from an exactly sized heap buffer with
 * sb_open_memory, so that AddressSanitizer sees any read past its end, and
 * from a file with sb_open.  Both must give the same status.  When the
 * copy opens, it is verified and then scanned and probed as a client
 * would, to show that reading it cannot crash.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdio.h>
#include <stdlib.h>

/* Find a section of an image by kind (through its section table). */
bool
tf_section(const unsigned char *img, uint32_t kind, uint64_t *off,
		   uint64_t *len)
{
	uint32_t	nsec = sb_load32(img + SB_HDR_NSECTIONS);

	for (uint32_t i = 0; i < nsec && i < SB_MAX_SECTIONS; i++)
	{
		const unsigned char *e = img + SB_HEADER_FIXED + i * SB_SECTION_ENTRY;

		if (sb_load32(e + SB_SEC_KIND) == kind)
		{
			*off = sb_load64(e + SB_SEC_OFFSET);
			*len = sb_load64(e + SB_SEC_LENGTH);
			return true;
		}
	}
	return false;
}

/*
 * Recompute every section checksum that the table lets us (sections
 * inside the image), then the header checksum: XXH3-64, seed 0, over the
 * header and section table with the checksum field zeroed.  The block
 * checksums are left as they are.
 */
void
tf_fix_section_checksums(unsigned char *img, size_t len)
{
	uint32_t	hsize = sb_load32(img + SB_HDR_HEADER_SIZE);
	uint32_t	nsec = sb_load32(img + SB_HDR_NSECTIONS);

	if (hsize > len || hsize > SB_HEADER_FIXED + SB_MAX_SECTIONS * SB_SECTION_ENTRY)
		return;
	for (uint32_t i = 0; i < nsec && i < SB_MAX_SECTIONS; i++)
	{
		unsigned char *e = img + SB_HEADER_FIXED + i * SB_SECTION_ENTRY;
		uint64_t	off = sb_load64(e + SB_SEC_OFFSET),
					slen = sb_load64(e + SB_SEC_LENGTH);

		if (off <= len && slen <= len - off &&
			SB_HEADER_FIXED + (i + 1) * SB_SECTION_ENTRY <= hsize)
			sb_store64(e + SB_SEC_CHECKSUM, sb_checksum(img + off, slen));
	}
	sb_store64(img + SB_HDR_CHECKSUM, 0);
	sb_store64(img + SB_HDR_CHECKSUM, sb_checksum(img, hsize));
}

/*
 * Recompute every checksum: the block checksums (if the image has them,
 * with the writer's block size), then the sections' and the header's.
 */
void
tf_fix_checksums(unsigned char *img, size_t len)
{
	uint32_t	hsize = sb_load32(img + SB_HDR_HEADER_SIZE);

	if (hsize > len || hsize > SB_HEADER_FIXED + SB_MAX_SECTIONS * SB_SECTION_ENTRY)
		return;
	sb_blocks_recompute(img, len);
	tf_fix_section_checksums(img, len);
}

/* Probe a key made from a row (if its key is stored) and a made-up one. */
static void
probe_row(sb_bundle *b, const unsigned char *slot)
{
	static const unsigned char zeros[16];
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	sb_lookup	it;
	sb_error	err;
	uint64_t	hash,
				row;
	bool		from_row = true;

	for (int k = 0; k < b->nkeys; k++)
	{
		const sb_column *c = &b->columns[b->key_columns[k]];
		sb_keycol	kc = {c->key_kind, c->typlen};
		sb_value	v;

		parts[k].data = zeros;
		parts[k].len = c->typlen > 0 ? (size_t) c->typlen : 3;
		parts[k].ival = 7;
		if (from_row && !sb_slot_isnull(sb_bundle_info(b), slot, b->key_columns[k]) &&
			sb_slot_value(b, slot, b->key_columns[k], &v, &err) == SB_OK)
			sb_key_part_from_image(&kc, v.ptr, v.len, &parts[k]);
		else
			from_row = false;
	}
	if (sb_key_hash(b, parts, &hash, &err) != SB_OK)
		return;
	sb_lookup_prefetch(b, hash);
	sb_lookup_start(b, parts, hash, &it);
	for (int n = 0; n < 1000 && sb_lookup_next(b, &it, &row, &err) == 1; n++)
		;
}

/* Read a bundle as a client would: values, metadata, lookups. */
static void
exercise(sb_bundle *b)
{
	uint64_t	pos = 0;
	const char *k,
			   *v;
	size_t		kl,
				vl;

	while (sb_meta_next(b, &pos, &k, &kl, &v, &vl))
		;
	(void) sb_meta_get(b, "no such key", &vl);
	for (uint64_t r = 0; r < b->row_count && r < 2000; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);
		sb_value	val;
		sb_error	err;

		for (int c = 0; c < b->ncolumns; c++)
			if (!sb_slot_isnull(sb_bundle_info(b), slot, c))
				(void) sb_slot_value(b, slot, c, &val, &err);
		if (b->nkeys > 0 && r < 200)
			probe_row(b, slot);
	}
}

/* Open (from memory or a file), verify and exercise; the first failure. */
static sb_status
open_verify(const unsigned char *img, size_t len, bool from_file,
			sb_error *err)
{
	sb_bundle  *b = NULL;
	sb_status	st;

	if (from_file)
	{
		const char *path = tf_path("damaged.sb");

		remove(path);
		if (!tf_write_file(path, img, len))
			return SB_ERR_IO;
		st = sb_open(path, &b, err);
	}
	else
		st = sb_open_memory(img, len, &b, err);
	if (st != SB_OK)
		return st;
	st = sb_verify(b, err);
	exercise(b);
	sb_close(b);
	return st;
}

/*
 * The status of a damaged image opened from an exactly sized copy in
 * memory: that of sb_open_memory, or if it opens, that of sb_verify.
 */
sb_status
tf_damaged_memory(const unsigned char *img, size_t len, sb_error *err)
{
	unsigned char *copy = malloc(len ? len : 1);
	sb_status	st;

	if (!CHECK(copy != NULL))
		return SB_ERR_NOMEM;
	memcpy(copy, img, len);
	st = open_verify(copy, len, false, err);
	free(copy);
	return st;
}

/*
 * The status of a damaged image, opened from memory and from a file; both
 * ways of opening must agree.
 */
sb_status
tf_damaged_status(const unsigned char *img, size_t len, sb_error *err)
{
	sb_error	ferr;
	sb_status	mem,
				file;

	mem = tf_damaged_memory(img, len, err);
	file = open_verify(img, len, true, &ferr);
	CHECKF(mem == file, "sb_open_memory gives %s but sb_open gives %s (%s)",
		   sb_status_name(mem), sb_status_name(file), ferr.detail);
	return mem;
}
