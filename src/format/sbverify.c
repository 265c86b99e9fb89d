/*-------------------------------------------------------------------------
 *
 * sbverify.c
 *	  Full verification of a bundle: checksums, structure, every byte.
 *
 * Opening a bundle checks what lookups and scans rely on; verification
 * reads everything.  It checks each section's checksum, that the bytes
 * between sections and the bytes of row slots and the value heap that no
 * field or value covers are zero, that every value's offset and length are
 * valid, and that the index holds each keyed row exactly once, where a
 * lookup of the hash of the key stored in the row finds it.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <stdlib.h>

/* Are all bytes in [p, p + len) zero? */
static bool
all_zero(const unsigned char *p, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Check every section's checksum and that gaps between them are zero. */
static sb_status
verify_sections(sb_bundle *b, sb_error *err)
{
	uint64_t	pos = b->header_size;

	for (int i = 0; i < b->nsections; i++)
	{
		const sb_section_info *s = &b->sections[i];

		if (sb_checksum(b->base + s->offset, s->length) != s->checksum)
			return sb_fail(err, SB_ERR_CHECKSUM,
						   "checksum mismatch in section %d (kind %u)", i, s->kind);
	}
	/* walk the sections in file order; overlaps were refused at open */
	for (;;)
	{
		const sb_section_info *next = NULL;

		for (int i = 0; i < b->nsections; i++)
		{
			const sb_section_info *s = &b->sections[i];

			if (s->offset >= pos && (s->length > 0 || s->offset > pos) &&
				(next == NULL || s->offset < next->offset))
				next = s;
		}
		if (next == NULL)
			break;
		if (!all_zero(b->base + pos, next->offset - pos))
			return sb_fail(err, SB_ERR_CORRUPT,
						   "nonzero bytes between offsets %llu and %llu",
						   (unsigned long long) pos,
						   (unsigned long long) next->offset);
		pos = next->offset + next->length;
	}
	if (!all_zero(b->base + pos, b->size - pos))
		return sb_fail(err, SB_ERR_CORRUPT, "nonzero bytes after the last section");
	return SB_OK;
}

/* Mark heap bytes [off, off + len) as used by a value. */
static void
mark_range(unsigned char *map, uint64_t off, uint64_t len)
{
	for (uint64_t i = off; i < off + len; i++)
		map[i >> 3] |= (unsigned char) (1 << (i & 7));
}

/*
 * Check a value's header form: 4-byte headers aligned to the column's
 * typalign from the start of the heap, or of the slot for a value inside
 * it (at offset 'off' of either); 1-byte headers only where allowed.
 */
static sb_status
verify_value_form(const sb_column *col, const sb_value *v, uint64_t off,
				  uint64_t row, sb_error *err)
{
	size_t		hdr = sb_varlena_header_size(v->ptr);

	if (hdr == 4 && off % sb_typalign_bytes(col->typalign) != 0)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "row %llu: value of column \"%s\" at offset %llu is misaligned",
					   (unsigned long long) row, col->name, (unsigned long long) off);
	if (hdr == 1 && !(col->flags & SB_COLF_SHORT_VARLENA))
		return sb_fail(err, SB_ERR_CORRUPT,
					   "row %llu: column \"%s\" has a short header it does not allow",
					   (unsigned long long) row, col->name);
	return SB_OK;
}

/*
 * Check a value stored inside its slot: its form, and that it overlaps
 * neither the fields nor another value; mark its bytes used.
 */
static sb_status
verify_inline(const sb_column *col, const unsigned char *slot,
			  const sb_value *v, unsigned char *used, uint64_t row,
			  sb_error *err)
{
	uint64_t	at = (uint64_t) (v->ptr - slot);
	sb_status	st;

	if ((st = verify_value_form(col, v, at, row, err)) != SB_OK)
		return st;
	for (uint64_t i = at; i < at + v->len; i++)
	{
		if (used[i])
			return sb_fail(err, SB_ERR_CORRUPT,
						   "row %llu: value of column \"%s\" overlaps another field or value",
						   (unsigned long long) row, col->name);
		used[i] = 1;
	}
	return SB_OK;
}

/*
 * Check a row's NULL bitmap and mark the bytes of its bitmap and of its
 * non-NULL fields used.
 */
static sb_status
verify_fields(sb_bundle *b, uint64_t row, const unsigned char *slot,
			  unsigned char *used, sb_error *err)
{
	memset(used, 0, b->row_size);
	memset(used, 1, b->bitmap_bytes);
	for (int c = b->ncolumns; c < (int) b->bitmap_bytes * 8; c++)
		if ((slot[c >> 3] >> (c & 7)) & 1)
			return sb_fail(err, SB_ERR_CORRUPT, "row %llu has a NULL bit past the last column",
						   (unsigned long long) row);
	for (int c = 0; c < b->ncolumns; c++)
	{
		const sb_column *col = &b->columns[c];

		if (b->slot_offsets[c] == SB_NOT_STORED)
		{
			if (!((slot[c >> 3] >> (c & 7)) & 1))
				return sb_fail(err, SB_ERR_CORRUPT, "row %llu: column \"%s\" is not stored but not NULL",
							   (unsigned long long) row, col->name);
			continue;
		}
		if (!sb_slot_isnull(&b->info, slot, c))
			memset(used + b->slot_offsets[c], 1, b->encodings[c].width);
	}
	return SB_OK;
}

/*
 * Check what an encoded value holds: an offset that gives a value of the
 * column's type, or codes of the column's symbol table.
 */
static sb_status
verify_encoded(sb_bundle *b, int c, const sb_value *v, uint64_t row,
			   sb_error *err)
{
	const sb_column *col = &b->columns[c];
	size_t		size;

	if (b->encodings[c].kind == SB_ENC_OFFSET)
	{
		int64_t		x = sb_load_int(v->ptr, col->typlen);
		uint64_t	off = (uint64_t) x - (uint64_t) b->encodings[c].base;

		if (b->encodings[c].width < 8 && off >> (8 * b->encodings[c].width) != 0)
			return sb_fail(err, SB_ERR_CORRUPT,
						   "row %llu: column \"%s\" holds an offset beyond its type's range",
						   (unsigned long long) row, col->name);
		return SB_OK;
	}
	if (v->encoded)
		return sb_value_decoded_size(b, c, v, &size, err);
	return SB_OK;
}

/*
 * Check one row slot: its fields, its values (in the heap, whose bytes
 * it marks, or in the slot) and that the rest of the slot is zero.
 */
static sb_status
verify_row(sb_bundle *b, uint64_t row, unsigned char *used,
		   unsigned char *heapmap, sb_error *err)
{
	const unsigned char *slot = b->rows + row * b->row_size;
	sb_status	st;

	if ((st = verify_fields(b, row, slot, used, err)) != SB_OK)
		return st;
	for (int c = 0; c < b->ncolumns; c++)
	{
		const sb_column *col = &b->columns[c];
		sb_value	v;

		if (sb_slot_isnull(&b->info, slot, c))
			continue;
		if ((st = sb_slot_value(b, slot, c, &v, err)) != SB_OK ||
			(st = verify_encoded(b, c, &v, row, err)) != SB_OK)
			return st;
		if (col->typlen > 0)
			continue;
		if (v.ptr >= slot && v.ptr < slot + b->row_size)
			st = verify_inline(col, slot, &v, used, row, err);
		else
		{
			st = verify_value_form(col, &v, (uint64_t) (v.ptr - b->heap), row, err);
			mark_range(heapmap, (uint64_t) (v.ptr - b->heap), v.len);
		}
		if (st != SB_OK)
			return st;
	}
	for (uint32_t i = 0; i < b->row_size; i++)
		if (!used[i] && slot[i] != 0)
			return sb_fail(err, SB_ERR_CORRUPT, "row %llu has nonzero padding at byte %u",
						   (unsigned long long) row, i);
	return SB_OK;
}

/* Check every row, and that heap bytes no value uses are zero. */
static sb_status
verify_rows(sb_bundle *b, sb_error *err)
{
	/*
	 * Only the rows section bounds row_size by the file's size: without
	 * rows, a tiny file could make this allocate up to 2 GB.
	 */
	unsigned char *used = b->row_count > 0 ? malloc(b->row_size) : NULL;
	unsigned char *heapmap = calloc(b->heap_size / 8 + 1, 1);
	sb_status	st = SB_OK;

	if ((used == NULL && b->row_count > 0) || heapmap == NULL)
		st = sb_fail(err, SB_ERR_NOMEM, "could not allocate verification maps");
	for (uint64_t r = 0; st == SB_OK && r < b->row_count; r++)
		st = verify_row(b, r, used, heapmap, err);
	for (uint64_t i = 0; st == SB_OK && i < b->heap_size; i++)
		if (!((heapmap[i >> 3] >> (i & 7)) & 1) && b->heap[i] != 0)
			st = sb_fail(err, SB_ERR_CORRUPT,
						 "value heap byte %llu is used by no value but not zero",
						 (unsigned long long) i);
	free(used);
	free(heapmap);
	return st;
}

/*
 * Hash of the key stored in a row; false if the key has a NULL (or, with
 * *st set, if the key is invalid).  A key with a hashed part has a hash
 * only its writer could compute: then *known is false and *hash unset.
 */
bool
sb_row_key_hash(sb_bundle *b, uint64_t row, uint64_t *hash,
				bool *known, sb_error *err, sb_status *st)
{
	const unsigned char *slot = b->rows + row * b->row_size;
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	sb_keycol	cols[SB_MAX_KEY_COLUMNS];
	sb_value	v[SB_MAX_KEY_COLUMNS];
	unsigned char *bufs[SB_MAX_KEY_COLUMNS] = {NULL};
	size_t		caps[SB_MAX_KEY_COLUMNS] = {0};
	bool		found = true;

	*st = SB_OK;
	*known = true;
	for (int k = 0; found && k < b->nkeys; k++)
	{
		int			c = b->key_columns[k];

		cols[k].kind = b->columns[c].key_kind;
		cols[k].typlen = b->columns[c].typlen;
		if (sb_slot_isnull(&b->info, slot, c))
			found = false;
		else if (cols[k].kind == SB_KEY_HASHED)
		{
			*known = false;
			if ((*st = sb_slot_value(b, slot, c, &v[k], err)) != SB_OK)
				found = false;
		}
		else if ((*st = sb_slot_key_part(b, slot, c, &cols[k], &v[k], &parts[k],
										 &bufs[k], &caps[k], err)) != SB_OK)
			found = false;
	}
	if (found && *known)
		*hash = sb_hash_parts(cols, b->nkeys, parts, b->hash_seed);
	for (int k = 0; k < b->nkeys; k++)
		free(bufs[k]);
	return found;
}

/*
 * Check the row index entry i refers to: in range, indexed once ('seen'
 * marks indexed rows), with a key.  *hash gets the row's key hash, unless
 * the bundle is approximate and the key is not stored, or the key has a
 * hashed part: then *known is false.
 */
static sb_status
verify_entry_row(sb_bundle *b, uint64_t i, uint64_t row,
				 unsigned char *seen, bool *known, uint64_t *hash,
				 sb_error *err)
{
	sb_status	st;

	*known = false;
	if (row >= b->row_count)
		return sb_fail(err, SB_ERR_CORRUPT, "index entry %llu refers to row %llu of %llu",
					   (unsigned long long) i, (unsigned long long) row,
					   (unsigned long long) b->row_count);
	if ((seen[row >> 3] >> (row & 7)) & 1)
		return sb_fail(err, SB_ERR_CORRUPT, "row %llu is indexed twice",
					   (unsigned long long) row);
	seen[row >> 3] |= (unsigned char) (1 << (row & 7));
	if (b->flags & SB_BUNDLE_APPROXIMATE)
		return SB_OK;
	if (!sb_row_key_hash(b, row, hash, known, err, &st))
		return st != SB_OK ? st :
			sb_fail(err, SB_ERR_CORRUPT, "row %llu with a NULL key is indexed",
					(unsigned long long) row);
	return SB_OK;
}

/* The error for index entry i whose hash is not its row's. */
static sb_status
entry_mismatch(uint64_t i, uint64_t row, sb_error *err)
{
	return sb_fail(err, SB_ERR_CORRUPT, "index entry %llu does not match the key of row %llu",
				   (unsigned long long) i, (unsigned long long) row);
}

/*
 * Check a line's structure: counts in range, the bytes after its entries
 * zero.
 */
static sb_status
verify_line_bytes(sb_bundle *b, uint64_t l, sb_error *err)
{
	const unsigned char *line = b->entries + l * SB_LINE_BYTES;
	unsigned	cap = sb_line_capacity(b->fp_bytes),
				fpb = b->fp_bytes,
				rows = sb_line_rows_offset(fpb),
				count = line[SB_LINE_COUNT];

	if (count > cap || line[SB_LINE_FIRST_OWN] > count ||
		!all_zero(line + 2, SB_LINE_FPS - 2) ||
		!all_zero(line + SB_LINE_FPS + count * fpb, rows - SB_LINE_FPS - count * fpb) ||
		!all_zero(line + rows + 4 * count, SB_LINE_BYTES - rows - 4 * count))
		return sb_fail(err, SB_ERR_CORRUPT, "index line %llu is invalid",
					   (unsigned long long) l);
	return SB_OK;
}

/*
 * Check the index line by line.  A lookup scans its home line from the
 * first own entry, and goes on to the next line's overflowed entries while
 * the line it scanned is full; 'lowest' is the lowest home line whose scan
 * reaches line l.  Each entry must be found by the scan of its hash's home
 * line: an own entry at its home, an overflowed one in a line that scan
 * reaches.
 */
static sb_status
verify_lines(sb_bundle *b, unsigned char *seen, sb_error *err)
{
	unsigned	cap = sb_line_capacity(b->fp_bytes);
	uint64_t	lowest = 0,
				n = 0;
	sb_status	st;

	for (uint64_t l = 0; l < b->nlines; l++)
	{
		const unsigned char *line = b->entries + l * SB_LINE_BYTES;
		const unsigned char *prev = line - SB_LINE_BYTES;
		unsigned	own = line[SB_LINE_FIRST_OWN];

		if ((st = verify_line_bytes(b, l, err)) != SB_OK)
			return st;
		if (l == 0 || prev[SB_LINE_COUNT] < cap)
			lowest = l;
		else if (prev[SB_LINE_FIRST_OWN] < cap)
			lowest = l - 1;
		for (unsigned k = 0; k < line[SB_LINE_COUNT]; k++, n++)
		{
			uint32_t	fp = (uint32_t) sb_load_n(line + SB_LINE_FPS + k * b->fp_bytes,
												  b->fp_bytes);
			uint64_t	row = sb_load32(line + sb_line_rows_offset(b->fp_bytes) + 4 * k),
						h,
						home;
			bool		known;

			if ((st = verify_entry_row(b, n, row, seen, &known, &h, err)) != SB_OK)
				return st;
			if (!known)
				continue;
			home = sb_line_home(h, b->home_lines);
			if (sb_line_fingerprint(h, b->fp_bytes) != fp ||
				(k < own ? home >= l || home < lowest : home != l))
				return entry_mismatch(n, row, err);
		}
	}
	if (n != b->indexed_count)
		return sb_fail(err, SB_ERR_CORRUPT, "index lines hold %llu entries, not %llu",
					   (unsigned long long) n, (unsigned long long) b->indexed_count);
	return SB_OK;
}

/* Check that every row with a non-NULL key is indexed. */
static sb_status
verify_coverage(sb_bundle *b, const unsigned char *seen, sb_error *err)
{
	for (uint64_t r = 0; r < b->row_count; r++)
	{
		uint64_t	h;
		sb_status	st;
		bool		keyed,
					known;

		if ((seen[r >> 3] >> (r & 7)) & 1)
			continue;
		keyed = sb_row_key_hash(b, r, &h, &known, err, &st);
		if (st != SB_OK)
			return st;
		if (keyed)
			return sb_fail(err, SB_ERR_CORRUPT, "row %llu has a key but is not indexed",
						   (unsigned long long) r);
	}
	return SB_OK;
}

/* Check the index: structure, order, and agreement with the rows. */
static sb_status
verify_index(sb_bundle *b, sb_error *err)
{
	unsigned char *seen = calloc(b->row_count / 8 + 1, 1);
	sb_status	st;

	if (seen == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate verification map");
	st = verify_lines(b, seen, err);
	if (st == SB_OK && b->nkeys > 0 && !(b->flags & SB_BUNDLE_APPROXIMATE))
		st = verify_coverage(b, seen, err);
	free(seen);
	return st;
}

/* Check that the metadata entries fill their section exactly. */
static sb_status
verify_meta(sb_bundle *b, sb_error *err)
{
	uint64_t	pos = 0;
	const char *k,
			   *v;
	size_t		kl,
				vl;

	while (sb_meta_next(b, &pos, &k, &kl, &v, &vl))
	{
		uint64_t	end = (uint64_t) (v + vl - (const char *) b->meta);

		if (pos > b->meta_size || !all_zero(b->meta + end, pos - end))
			return sb_fail(err, SB_ERR_CORRUPT, "metadata entry padding is invalid");
	}
	if (b->meta && pos != b->meta_size)
		return sb_fail(err, SB_ERR_CORRUPT, "metadata has %llu stray bytes",
					   (unsigned long long) (b->meta_size - pos));
	return SB_OK;
}

/* Run every check in turn. */
static sb_status
verify_all(sb_bundle *b, sb_error *err)
{
	sb_status	st;

	if ((st = verify_sections(b, err)) != SB_OK ||
		(st = sb_blocks_verify_all(b, err)) != SB_OK ||
		(st = verify_meta(b, err)) != SB_OK ||
		(st = verify_rows(b, err)) != SB_OK)
		return st;
	if (b->nkeys == 0 && b->indexed_count != 0)
		return sb_fail(err, SB_ERR_CORRUPT, "a bundle without a key has index entries");
	return verify_index(b, err);
}

/* Verify a whole bundle; SB_OK only if every check passes. */
sb_status
sb_verify(sb_bundle *b, sb_error *err)
{
	sb_status	st;

	/* reading every byte: let the kernel read ahead while we do */
	sb_advise_scan(b, true);
	st = verify_all(b, err);
	sb_advise_scan(b, false);
	return st;
}
