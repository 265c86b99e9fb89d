/*-------------------------------------------------------------------------
 *
 * sbmerge.c
 *	  Merging rows into a copy of a base bundle, in the base's layout.
 *
 * A writer created with a base bundle (sb_writer_options.base) writes a
 * new bundle that holds the base's rows, less those the caller drops,
 * followed by the rows the caller writes.  Nothing of the base is decoded
 * or encoded again: its schema, value heap and encodings are copied byte
 * for byte, its kept row slots too, and the new rows are encoded as the
 * base encodes its columns, their values appended to the copied heap.
 * Only the index is built anew, from the key hash of every row.  The cost
 * is about that of copying the file, against a full build's encoding,
 * deduplication and sampling of every value.  The sections are placed in
 * the base's file order (rows first when its slots have an inline area)
 * and with its data alignment.
 *
 * The new values stream to a temporary file, after the place the base's
 * heap will take; finishing writes the base's heap, the values only
 * dropped rows used zeroed (sbmergeheap.c), then them.  A caller that
 * merges again and again should rebuild now and then, as the zeroed
 * values keep their place.  A base whose key has a hashed part (its
 * hashes are the caller's) or is not stored (approximate) cannot be
 * merged into, nor can a new value that the base's encoding of its column
 * cannot hold: sb_merge_check tells which bases can, and a value that
 * does not fit fails with SB_ERR_LIMIT.  Row slots are checked against
 * their block checksums before they are copied.
 *
 *-------------------------------------------------------------------------
 */
#include "sbwriter_int.h"

#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#define COPY_CHUNK	(1 << 20)

/* The section kinds of a bundle the writer wrote, in table order. */
static const uint32_t merge_kinds[SB_NSECTIONS_COMPACT] = {
	SB_SECTION_SCHEMA, SB_SECTION_META, SB_SECTION_HEAP, SB_SECTION_ROWS,
	SB_SECTION_ENTRIES, SB_SECTION_BLOCKSUMS, SB_SECTION_ENCODINGS};

/*
 * The widest row slot a writer makes for the base's columns: each field
 * aligned, the NULL bits and the largest inline area.
 */
static uint64_t
max_row_size(const sb_bundle *b)
{
	uint64_t	size = (uint64_t) (b->ncolumns + 7) / 8 + SB_MAX_INLINE + 8;

	for (int i = 0; i < b->ncolumns; i++)
		size += (b->columns[i].typlen > 8 ? (uint64_t) b->columns[i].typlen : 8) + 8;
	return size;
}

/*
 * Can a writer with options 'o' merge into 'base'?  SB_ERR_UNSUPPORTED
 * with the reason if not.
 */
sb_status
sb_merge_check(const sb_bundle *base, const sb_writer_options *o,
			   sb_error *err)
{
	if (base->flags & SB_BUNDLE_APPROXIMATE)
		return sb_fail(err, SB_ERR_UNSUPPORTED, "the base bundle is approximate");
	if (base->nsections != SB_NSECTIONS &&
		!(base->nsections == SB_NSECTIONS_COMPACT && base->encoded))
		return sb_fail(err, SB_ERR_UNSUPPORTED, "the base bundle has %d sections",
					   base->nsections);
	for (int i = 0; i < base->nsections; i++)
		if (base->sections[i].kind != merge_kinds[i])
			return sb_fail(err, SB_ERR_UNSUPPORTED,
						   "the base bundle's sections are not in the writer's order");
	if (base->row_size > max_row_size(base))
		return sb_fail(err, SB_ERR_UNSUPPORTED,
					   "the base bundle's row slots (%u bytes) are wider than a writer makes them",
					   base->row_size);
	if (o->ncolumns != base->ncolumns || o->columns == NULL)
		return sb_fail(err, SB_ERR_UNSUPPORTED, "the base bundle has %d columns, not %d",
					   base->ncolumns, o->ncolumns);
	for (int i = 0; i < base->ncolumns; i++)
	{
		const sb_column *a = &base->columns[i],
				   *b = &o->columns[i];

		if (a->key_kind == SB_KEY_HASHED)
			return sb_fail(err, SB_ERR_UNSUPPORTED,
						   "key column \"%s\" of the base bundle is hashed", a->name);
		if (b->type_name == NULL || strcmp(a->type_name, b->type_name) != 0 ||
			a->typmod != b->typmod || a->typlen != b->typlen ||
			a->typbyval != b->typbyval || a->typalign != b->typalign ||
			a->key_position != b->key_position || a->key_kind != b->key_kind ||
			a->storage != b->storage || a->flags != b->flags)
			return sb_fail(err, SB_ERR_UNSUPPORTED,
						   "column %d differs from the base bundle's", i + 1);
	}
	return SB_OK;
}

/*
 * The base's data alignment: 4096 when its heap, rows and index start at
 * multiples of it, else 64 (format.md section 14).
 */
static uint64_t
base_alignment(const sb_bundle *b)
{
	for (int i = 2; i <= 4; i++)
		if (b->sections[i].offset % SB_DATA_ALIGN != 0)
			return SB_SECTION_ALIGN;
	return SB_DATA_ALIGN;
}

/*
 * Room for the images of the fixed-length key columns, each as wide as
 * its type (SB_KEY_BYTES columns can be wider than 8 bytes), kept aside
 * because an offset-coded field does not hold the image.
 */
static sb_status
alloc_key_images(sb_writer *w, sb_error *err)
{
	size_t		total = 0;

	for (int k = 0; k < w->nkeys; k++)
		total += w->keycols[k].typlen > 0 ? (size_t) w->keycols[k].typlen : 0;
	if ((w->key_store = malloc(total ? total : 1)) == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate key buffer");
	total = 0;
	for (int k = 0; k < w->nkeys; k++)
	{
		w->key_image[k] = w->key_store + total;
		total += w->keycols[k].typlen > 0 ? (size_t) w->keycols[k].typlen : 0;
	}
	return SB_OK;
}

/*
 * Set a merge writer up from its base: columns, keys, layout, alignment
 * and schema are the base's.  The caller, sb_writer_create, then opens
 * the files.
 */
sb_status
sb_merge_create(sb_writer *w, const sb_writer_options *o, sb_error *err)
{
	sb_bundle  *b = o->base;
	const sb_section_info *schema = &b->sections[0];
	sb_merge   *m;
	sb_status	st;

	if ((st = sb_merge_check(b, o, err)) != SB_OK)
		return st;
	if ((m = w->merge = calloc(1, sizeof(sb_merge))) == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate the merge");
	m->base = b;
	m->heap_fd = -1;
	if ((m->dropped = calloc((b->row_count + 63) / 64 + 1, 8)) == NULL ||
		(m->tabs = calloc(b->ncolumns, sizeof(sb_symtab *))) == NULL ||
		(w->cols = malloc(b->ncolumns * sizeof(sb_column))) == NULL ||
		(w->slot_offsets = malloc(b->ncolumns * sizeof(uint32_t))) == NULL ||
		(w->schema = malloc(schema->length ? schema->length : 1)) == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate the merge");
	w->ncols = b->ncolumns;
	memcpy(w->cols, b->columns, b->ncolumns * sizeof(sb_column));
	memcpy(w->slot_offsets, b->slot_offsets, b->ncolumns * sizeof(uint32_t));
	w->nkeys = b->nkeys;
	for (int k = 0; k < b->nkeys; k++)
	{
		w->key_cols[k] = b->key_columns[k];
		w->keycols[k].kind = b->columns[b->key_columns[k]].key_kind;
		w->keycols[k].typlen = b->columns[b->key_columns[k]].typlen;
	}
	if ((st = alloc_key_images(w, err)) != SB_OK)
		return st;
	for (int i = 0; i < b->ncolumns; i++)
		if (b->encodings[i].kind == SB_ENC_SYMBOLS &&
			(m->tabs[i] = sb_symtab_load(&b->encodings[i])) == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate a symbol table");
	m->rows_first = b->sections[3].offset < b->sections[2].offset;
	for (int i = 0; i < b->ncolumns; i++)
		w->encoded_columns += b->encodings[i].kind != SB_ENC_NONE;
	sb_populate_data(b);
	w->section_align = base_alignment(b);
	w->row_size = b->row_size;
	w->seed = b->hash_seed;
	w->pg_major = b->pg_major;
	w->nsections = (uint32_t) b->nsections;
	w->header_size = b->header_size;
	w->schema_off = schema->offset;
	w->schema_len = schema->length;
	memcpy(w->schema, b->base + schema->offset, schema->length);
	return SB_OK;
}

/* Leave row 'row' of the base out of the merged bundle. */
sb_status
sb_merge_drop(sb_writer *w, uint64_t row, sb_error *err)
{
	sb_merge   *m = w->merge;

	if (row >= m->base->row_count)
		return sb_fail(err, SB_ERR_INVALID, "the base bundle has no row %llu",
					   (unsigned long long) row);
	if (!((m->dropped[row >> 6] >> (row & 63)) & 1))
	{
		m->dropped[row >> 6] |= UINT64_C(1) << (row & 63);
		m->ndropped++;
	}
	return SB_OK;
}

/* Set a fixed-length column of the new row, as the base encodes it. */
sb_status
sb_merge_set_fixed(sb_writer *w, int col, const void *image, sb_error *err)
{
	const sb_column *c = &w->cols[col];
	const sb_encoding *e = &w->merge->base->encodings[col];
	unsigned char *field = w->row + w->slot_offsets[col];

	if (e->kind == SB_ENC_OFFSET)
	{
		int64_t		v = sb_load_int(image, c->typlen);
		uint64_t	d = (uint64_t) v - (uint64_t) e->base;

		if (v < e->base || (e->width < 8 && (d >> (8 * e->width)) != 0))
			return sb_fail(err, SB_ERR_LIMIT,
						   "value %lld of column \"%s\" is outside the range of the base bundle's encoding",
						   (long long) v, c->name);
		sb_store_width(field, e->width, d);
	}
	else
		memcpy(field, image, c->typlen);
	w->set[col] = true;
	w->row[col >> 3] &= (unsigned char) ~(1 << (col & 7));
	if (c->key_position > 0)
	{
		int			k = c->key_position - 1;

		memcpy(w->key_image[k], image, c->typlen);
		sb_key_part_from_image(&w->keycols[k], w->key_image[k], c->typlen,
							   &w->parts[k]);
		w->key_set[k] = true;
	}
	return SB_OK;
}

/*
 * Append a value's image to the heap, coded as the base codes its column
 * and kept within a block as the writer keeps short values; *ref gets its
 * offset in the merged heap.
 */
static sb_status
append_value(sb_writer *w, int col, const void *payload, size_t len,
			 uint64_t *ref, sb_error *err)
{
	sb_merge   *m = w->merge;
	unsigned char hdr[4];
	unsigned	align;
	size_t		hl;
	sb_status	st;

	if (m->tabs[col] != NULL)
	{
		if (m->enccap < 2 * len + 1)
		{
			unsigned char *p = realloc(m->encbuf, 2 * len + 1);

			if (p == NULL)
				return sb_fail(err, SB_ERR_NOMEM, "could not allocate a coded value");
			m->encbuf = p;
			m->enccap = 2 * len + 1;
		}
		len = sb_symtab_encode(m->tabs[col], payload, len, m->encbuf);
		payload = m->encbuf;
		if (len > SB_MAX_VALUE_SIZE - 4)
			return sb_fail(err, SB_ERR_LIMIT,
						   "coded value of %zu bytes in column \"%s\" exceeds the limit of %d bytes",
						   len, w->cols[col].name, SB_MAX_VALUE_SIZE - 4);
	}
	hl = sb_value_header(&w->cols[col], len, hdr, &align);
	if ((st = sb_sink_pad(&w->heap, align, err)) != SB_OK)
		return st;
	/* as the writer does when the heap starts on a page (format.md 7.3) */
	if (w->section_align == SB_DATA_ALIGN && hl + len <= SB_SHORT_VALUE &&
		sb_sink_size(&w->heap) % SB_DATA_ALIGN + hl + len > SB_DATA_ALIGN &&
		(st = sb_sink_pad(&w->heap, SB_DATA_ALIGN, err)) != SB_OK)
		return st;
	*ref = sb_sink_size(&w->heap);
	if ((st = sb_sink_write(&w->heap, hdr, hl, err)) != SB_OK)
		return st;
	return sb_sink_write(&w->heap, payload, len, err);
}

/* Set a variable-length column of the new row, its value in the heap. */
sb_status
sb_merge_set_varlena(sb_writer *w, int col, const void *payload, size_t len,
					 sb_error *err)
{
	const sb_column *c = &w->cols[col];
	const sb_encoding *e = &w->merge->base->encodings[col];
	unsigned char *field = w->row + w->slot_offsets[col];
	uint64_t	ref = 0;
	sb_status	st;

	if ((st = append_value(w, col, payload, len, &ref, err)) != SB_OK)
		return st;
	if (e->width == 4)
	{
		if (ref >= SB_INLINE_REF4)
			return sb_fail(err, SB_ERR_LIMIT,
						   "the heap outgrows the base bundle's 4-byte references of column \"%s\"",
						   c->name);
		sb_store32(field, (uint32_t) ref);
	}
	else
		sb_store64(field, ref);
	w->set[col] = true;
	w->row[col >> 3] &= (unsigned char) ~(1 << (col & 7));
	if (c->key_position > 0)
	{
		int			k = c->key_position - 1;

		w->parts[k].data = payload;
		w->parts[k].len = len;
		w->key_set[k] = true;
	}
	return SB_OK;
}

/* Finish the new row: keep its slot and its key's hash for the index. */
sb_status
sb_merge_end_row(sb_writer *w, sb_error *err)
{
	sb_merge   *m = w->merge;
	bool		keyed = w->nkeys > 0;
	uint64_t	n = w->nrows;

	if (m->base->row_count - m->ndropped + n >= SB_MAX_ROWS)
		return sb_fail(err, SB_ERR_LIMIT, "a bundle holds at most %u rows",
					   (unsigned) SB_MAX_ROWS);
	if (n == m->cap)
	{
		uint64_t	cap = m->cap ? 2 * m->cap : 1024;
		uint64_t   *h = realloc(m->hashes, cap * sizeof(uint64_t));
		unsigned char *k;

		if (h != NULL)
			m->hashes = h;
		if (h == NULL || (k = realloc(m->keyed, cap / 8)) == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate key hashes");
		memset(k + m->cap / 8, 0, (cap - m->cap) / 8);
		m->keyed = k;
		m->cap = cap;
	}
	for (int k = 0; k < w->nkeys; k++)
		keyed = keyed && w->key_set[k];
	if (keyed)
	{
		m->hashes[n] = sb_hash_parts(w->keycols, w->nkeys, w->parts, w->seed);
		m->keyed[n >> 3] |= (unsigned char) (1 << (n & 7));
	}
	w->in_row = false;
	w->nrows++;
	return sb_sink_write(&w->rows, w->row, w->row_size, err);
}

/*
 * sb_row_key_hash, faster for a key of one integer column in the slot, as
 * sblookup.c reads it.
 */
static inline bool
row_key_hash(sb_bundle *b, const unsigned char *slot, uint64_t row,
			 uint64_t *hash, bool *known, sb_error *err, sb_status *st)
{
	const unsigned char *field;
	int64_t		v;

	*st = SB_OK;
	if (b->nkeys == 0)
		return false;			/* a bundle without a key has no index entries */
	if (b->int_key < 0)
		return sb_row_key_hash(b, row, hash, known, err, st);
	*st = SB_OK;
	*known = true;
	if ((slot[b->int_key >> 3] >> (b->int_key & 7)) & 1)
		return false;
	field = slot + b->int_key_offset;
	v = b->int_key_offset_enc ?
		(int64_t) ((uint64_t) b->int_key_base + sb_load_width(field, b->int_key_len)) :
		sb_load_int(field, b->int_key_len);
	*hash = sb_hash_integer(v, b->hash_seed);
	return true;
}

/*
 * Write the rows at 'offset': the base's kept slots, then the new ones
 * from the temporary file, each keyed row's hash going to the sorter.
 */
static sb_status
merge_rows(sb_writer *w, uint64_t offset, sb_sink *out, sb_error *err)
{
	sb_merge   *m = w->merge;
	sb_bundle  *b = m->base;
	uint64_t	row = 0;
	unsigned char *buf = NULL;
	sb_status	st;

	if ((st = sb_sink_init(out, w->fd, offset, COPY_CHUNK, true, err)) != SB_OK ||
		(st = sb_sink_track_blocks(out, err)) != SB_OK)
		return st;
	for (uint64_t r = 0; r < b->row_count; r++)
	{
		const unsigned char *slot;
		uint64_t	h;
		bool		known;

		if ((m->dropped[r >> 6] >> (r & 63)) & 1)
			continue;
		if ((st = sb_row_checked(b, r, &slot, err)) != SB_OK ||
			(st = sb_sink_write(out, slot, b->row_size, err)) != SB_OK)
			return st;
		if (row_key_hash(b, slot, r, &h, &known, err, &st) &&
			(st = sb_sorter_add(&w->sorter, h, row, err)) != SB_OK)
			return st;
		if (st != SB_OK)
			return st;
		row++;
	}
	if ((st = sb_sink_flush(&w->rows, err)) != SB_OK ||
		(buf = malloc(COPY_CHUNK)) == NULL)
		return st != SB_OK ? st : sb_fail(err, SB_ERR_NOMEM, "could not allocate a row buffer");
	for (uint64_t i = 0; i < w->nrows && st == SB_OK;)
	{
		uint64_t	n = COPY_CHUNK / w->row_size;

		n = n < w->nrows - i ? n : w->nrows - i;
		st = sb_pread_all(w->temp_fd, buf, n * w->row_size, i * w->row_size, err);
		if (st == SB_OK)
			st = sb_sink_write(out, buf, n * w->row_size, err);
		for (uint64_t j = i; st == SB_OK && j < i + n; j++, row++)
			if ((m->keyed[j >> 3] >> (j & 7)) & 1)
				st = sb_sorter_add(&w->sorter, m->hashes[j], row, err);
		i += n;
	}
	free(buf);
	return st == SB_OK ? sb_sink_flush(out, err) : st;
}

/*
 * Write the heap and the rows after *end, in the base's order, each at
 * the data alignment; fill in their plans and move *end past them.
 */
static sb_status
place_data(sb_writer *w, sb_section_plan *plans, sb_sink *heap,
		   sb_sink *rows, uint64_t *end, sb_error *err)
{
	for (int i = 0; i < 2; i++)
	{
		bool		is_rows = (i == 0) == w->merge->rows_first;
		sb_sink    *s = is_rows ? rows : heap;
		sb_section_plan *p = &plans[is_rows ? 3 : 2];
		sb_status	st;

		p->offset = sb_align_up(*end, w->section_align);
		st = is_rows ? merge_rows(w, p->offset, s, err) :
			sb_merge_write_heap(w, p->offset, s, err);
		if (st != SB_OK)
			return st;
		p->length = sb_sink_size(s);
		p->checksum = sb_checksum_final(s->ck);
		*end = p->offset + p->length;
	}
	w->merge->heap_len = plans[2].length;
	return SB_OK;
}

/* Write a section's bytes at the next aligned offset after *end. */
static sb_status
place_bytes(sb_writer *w, const void *data, size_t len, sb_section_plan *plan,
			uint64_t *end, sb_error *err)
{
	plan->offset = sb_align_up(*end, SB_SECTION_ALIGN);
	plan->length = len;
	plan->checksum = sb_checksum(data, len);
	*end = plan->offset + len;
	return sb_pwrite_all(w->fd, data, len, plan->offset, err);
}

/*
 * Complete the merged file: heap and rows, index, block checksums, the
 * base's encodings, the metadata, then the header, the base's with the
 * counts and places of this file.
 */
sb_status
sb_merge_file(sb_writer *w, unsigned char *hdr, sb_error *err)
{
	sb_bundle  *b = w->merge->base;
	sb_section_plan plans[SB_NSECTIONS_COMPACT];
	sb_blocksums *blocks[3] = {NULL, NULL, NULL};
	sb_sink		heap,
				rows;
	uint64_t	end = w->schema_off + w->schema_len;
	struct timeval tv;
	sb_status	st;

	memset(plans, 0, sizeof(plans));
	memset(&heap, 0, sizeof(heap));
	memset(&rows, 0, sizeof(rows));
	for (uint32_t i = 0; i < w->nsections; i++)
		plans[i].kind = merge_kinds[i];
	plans[0].offset = w->schema_off;
	plans[0].length = w->schema_len;
	plans[0].checksum = sb_checksum(w->schema, w->schema_len);
	st = place_data(w, plans, &heap, &rows, &end, err);
	if (st == SB_OK)
		st = sb_write_index(&w->sorter, w->fd, false,
							sb_align_up(end, w->section_align),
							&plans[4], hdr, &blocks[SB_REGION_ENTRIES], err);
	if (st == SB_OK)
	{
		blocks[SB_REGION_ROWS] = rows.blocks;
		blocks[SB_REGION_HEAP] = heap.blocks;
		st = sb_write_blocksums(w->fd, blocks,
								sb_align_up(plans[4].offset + plans[4].length,
											SB_SECTION_ALIGN),
								&plans[5], err);
	}
	sb_blocksums_free(blocks[SB_REGION_ENTRIES]);
	sb_sink_free(&heap);
	sb_sink_free(&rows);
	if (st != SB_OK)
		return st;
	end = plans[5].offset + plans[5].length;
	if (w->nsections == SB_NSECTIONS_COMPACT &&
		(st = place_bytes(w, b->base + b->sections[6].offset, b->sections[6].length,
						  &plans[6], &end, err)) != SB_OK)
		return st;
	if ((st = place_bytes(w, w->meta, w->meta_len, &plans[1], &end, err)) != SB_OK)
		return st;
	if (ftruncate(w->fd, (off_t) end) != 0)
		return sb_fail_errno(err, "could not set the size of \"%s\"", w->path);

	/* the base's header: its version, flags, seed and layout stay */
	gettimeofday(&tv, NULL);
	memcpy(hdr + SB_HDR_MAGIC, b->base, SB_HDR_INDEXED);
	memcpy(hdr + SB_HDR_NCOLUMNS, b->base + SB_HDR_NCOLUMNS,
		   SB_HDR_MAX_RUN - SB_HDR_NCOLUMNS);
	sb_store64(hdr + SB_HDR_FILE_SIZE, end);
	sb_store64(hdr + SB_HDR_ROW_COUNT, b->row_count - w->merge->ndropped + w->nrows);
	hdr[SB_HDR_FP_BYTES] = 2;
	hdr[SB_HDR_MAXALIGN] = 8;	/* and the writer's blocks, whatever the base's */
	hdr[SB_HDR_BLOCK_SHIFT] = SB_BLOCK_SHIFT;
	sb_store64(hdr + SB_HDR_BUILD_TIME,
			   (uint64_t) tv.tv_sec * 1000000 + (uint64_t) tv.tv_usec);
	if ((st = sb_write_header(w->fd, hdr, w->header_size, w->nsections, plans,
							  err)) != SB_OK)
		return st;
	if (fsync(w->fd) != 0)
		return sb_fail_errno(err, "could not fsync file \"%s\"", w->path);
	return SB_OK;
}

/* Free what a merge adds to its writer. */
void
sb_merge_free(sb_writer *w)
{
	sb_merge   *m = w->merge;

	if (m == NULL)
		return;
	for (int i = 0; m->tabs && i < w->ncols; i++)
		free(m->tabs[i]);
	free(m->tabs);
	free(m->dropped);
	free(m->encbuf);
	free(m->hashes);
	free(m->keyed);
	if (m->heap_fd >= 0)
		close(m->heap_fd);
	free(m);
	w->merge = NULL;
}
