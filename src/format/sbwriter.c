/*-------------------------------------------------------------------------
 *
 * sbwriter.c
 *	  Streaming bundle writer: rows, the deduplicated value heap, the index.
 *
 * The writer makes one pass over the rows.  The schema is written at once;
 * variable-length values stream into the value heap, which follows it in
 * the output file; row slots stream into an anonymous temporary file (the
 * other way round when the slots hold values, see sbinline.c); each
 * row with a non-NULL key adds a (hash, row) pair to a sorter that spills
 * sorted runs to another temporary file beyond its memory budget.  Finish
 * appends the rows, writes the index from the merged pairs and the build
 * metadata, then the header and section table, and fsyncs.  The caller
 * decides when to rename the file into place.  Unwritten gaps between
 * sections are holes and read as zeros, as the format requires.
 *
 *-------------------------------------------------------------------------
 */
#include "sbwriter_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define SINK_BUFFER		(1 << 20)
#define MIN_BUDGET		(1 << 20)
#define MAX_META_BYTES	(1 << 20)
#define MAX_DEDUP_BYTES	((size_t) 32 << 20)	/* beyond this a bigger table costs
												 * more in misses than it saves */
#define DEDUP_TRIAL		4096	/* values of a column always deduplicated */
#define DEDUP_MIN_HITS	64		/* fewer hits than 1 in this turns it off */
#define DEDUP_PERIOD	65536	/* while off, sample at the start of each... */
#define DEDUP_SAMPLE	1024	/* ...this many values, and turn it back on */
#define DEDUP_SAMPLE_HITS 16	/* ...if 1 in this many of them repeat */

/*
 * Approximate bundles do not store their key columns, so fixed-length key
 * images are kept aside until the row ends.
 */
static sb_status
alloc_key_images(sb_writer *w, sb_error *err)
{
	size_t		total = 0;

	for (int k = 0; k < w->nkeys; k++)
		total += w->cols[w->key_cols[k]].typlen > 0 ?
			(size_t) w->cols[w->key_cols[k]].typlen : 0;
	w->key_store = malloc(total ? total : 1);
	if (w->key_store == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate key buffer");
	total = 0;
	for (int k = 0; k < w->nkeys; k++)
	{
		w->key_image[k] = w->key_store + total;
		total += w->cols[w->key_cols[k]].typlen > 0 ?
			(size_t) w->cols[w->key_cols[k]].typlen : 0;
	}
	return SB_OK;
}

/* Copy the column definitions and serialize the schema section. */
static sb_status
build_schema(sb_writer *w, const sb_writer_options *o, sb_error *err)
{
	size_t		strings = 0;
	size_t		pos;
	sb_status	st;

	if (o->ncolumns < 1 || o->ncolumns > SB_MAX_COLUMNS)
		return sb_fail(err, SB_ERR_LIMIT, "a bundle needs 1 to %d columns, not %d",
					   SB_MAX_COLUMNS, o->ncolumns);
	w->ncols = o->ncolumns;
	w->cols = calloc(w->ncols, sizeof(sb_column));
	w->slot_offsets = calloc(w->ncols, sizeof(uint32_t));
	if (w->cols == NULL || w->slot_offsets == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate columns");
	memcpy(w->cols, o->columns, w->ncols * sizeof(sb_column));
	for (int i = 0; i < w->ncols; i++)
	{
		sb_column  *c = &w->cols[i];

		if (c->name == NULL || c->type_name == NULL ||
			strlen(c->name) > SB_MAX_NAME_LEN ||
			strlen(c->type_name) > SB_MAX_NAME_LEN)
			return sb_fail(err, SB_ERR_INVALID,
						   "column %d needs a name and a type name of at most %d bytes",
						   i + 1, SB_MAX_NAME_LEN);
		if ((st = sb_schema_check_column(c, w->ncols, err)) != SB_OK)
			return st;
		if (c->key_position > 0)
		{
			if (c->key_position > SB_MAX_KEY_COLUMNS ||
				w->key_cols[c->key_position - 1] != 0)
				return sb_fail(err, SB_ERR_INVALID,
							   "column \"%s\" has an invalid or repeated key position %u",
							   c->name, c->key_position);
			w->key_cols[c->key_position - 1] = i + 1;
			w->nkeys++;
		}
		strings += strlen(c->name) + 1 + strlen(c->type_name) + 1;
	}
	for (int k = 0; k < w->nkeys; k++)
	{
		if (w->key_cols[k] == 0)
			return sb_fail(err, SB_ERR_INVALID, "key positions must be 1 to %d",
						   w->nkeys);
		w->key_cols[k]--;
		w->keycols[k].kind = w->cols[w->key_cols[k]].key_kind;
		w->keycols[k].typlen = w->cols[w->key_cols[k]].typlen;
		if (w->keycols[k].kind == SB_KEY_HASHED)
			w->hashed_key = true;
	}
	if (w->approximate && w->nkeys == 0)
		return sb_fail(err, SB_ERR_INVALID, "an approximate bundle needs a key");
	if ((st = sb_schema_layout(w->cols, w->ncols, w->approximate, NULL,
							   w->slot_offsets, &w->row_size, NULL,
							   err)) != SB_OK)
		return st;

	w->schema_len = (size_t) w->ncols * SB_COLREC_SIZE + strings;
	w->schema = calloc(1, w->schema_len);
	if (w->schema == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate schema");
	pos = (size_t) w->ncols * SB_COLREC_SIZE;
	for (int i = 0; i < w->ncols; i++)
	{
		sb_column  *c = &w->cols[i];
		unsigned char *r = w->schema + (size_t) i * SB_COLREC_SIZE;
		size_t		nl = strlen(c->name),
					tl = strlen(c->type_name);

		sb_store32(r + SB_COL_NAME_OFF, (uint32_t) pos);
		sb_store32(r + SB_COL_NAME_LEN, (uint32_t) nl);
		memcpy(w->schema + pos, c->name, nl);
		pos += nl + 1;
		sb_store32(r + SB_COL_TYPE_OFF, (uint32_t) pos);
		sb_store32(r + SB_COL_TYPE_LEN, (uint32_t) tl);
		memcpy(w->schema + pos, c->type_name, tl);
		pos += tl + 1;
		sb_store32(r + SB_COL_SLOT_OFF, w->slot_offsets[i]);
		sb_store32(r + SB_COL_TYPMOD, (uint32_t) c->typmod);
		sb_store16(r + SB_COL_TYPLEN, (uint16_t) c->typlen);
		r[SB_COL_BYVAL] = c->typbyval ? 1 : 0;
		r[SB_COL_ALIGN] = (unsigned char) c->typalign;
		r[SB_COL_KEYPOS] = c->key_position;
		r[SB_COL_KEYKIND] = c->key_kind;
		r[SB_COL_STORAGE] = c->storage;
		r[SB_COL_FLAGS] = c->flags;
		/* keep our own copies of the names, not the caller's */
		c->name = (const char *) w->schema + sb_load32(r + SB_COL_NAME_OFF);
		c->type_name = (const char *) w->schema + sb_load32(r + SB_COL_TYPE_OFF);
	}
	return alloc_key_images(w, err);
}

/* Dedup callback: does the heap hold 'payload' at 'offset'? */
static bool
heap_same(void *arg, uint64_t offset, const void *payload, size_t len)
{
	sb_writer  *w = arg;
	sb_sink    *h = &w->heap;
	unsigned char buf[4096];
	const unsigned char *p = payload;

	if (offset >= h->flushed)
		return memcmp(h->buf + (offset - h->flushed), payload, len) == 0;
	if (offset + len > h->flushed && sb_sink_flush(h, NULL) != SB_OK)
		return false;
	while (len > 0)
	{
		size_t		n = len < sizeof(buf) ? len : sizeof(buf);

		if (sb_pread_all(h->fd, buf, n, h->start + offset, NULL) != SB_OK ||
			memcmp(buf, p, n) != 0)
			return false;
		offset += n;
		p += n;
		len -= n;
	}
	return true;
}

/* Create a writer and its output file; see sb_writer_options. */
sb_status
sb_writer_create(const sb_writer_options *o, sb_writer **out, sb_error *err)
{
	sb_writer  *w;
	sb_status	st;
	size_t		budget;
	size_t		dedup_budget;
	uint64_t	heap_start;

	*out = NULL;
	if (o->path == NULL)
		return sb_fail(err, SB_ERR_INVALID, "no output path given");
	if (o->section_align != 0 &&
		(o->section_align < SB_SECTION_ALIGN || o->section_align > SB_DATA_ALIGN ||
		 (o->section_align & (o->section_align - 1)) != 0))
		return sb_fail(err, SB_ERR_INVALID,
					   "section alignment %u is not a power of two from %d to %d",
					   o->section_align, SB_SECTION_ALIGN, SB_DATA_ALIGN);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate writer");
	w->fd = w->temp_fd = -1;
	w->sorter.spill_fd = -1;
	w->approximate = o->approximate;
	w->section_align = o->section_align ? o->section_align : SB_DATA_ALIGN;
	w->seed = o->hash_seed;
	w->pg_major = o->pg_major;
	w->compact = o->compact && !o->base;
	w->nsections = SB_NSECTIONS;
	w->header_size = SB_HEADER_FIXED + w->nsections * SB_SECTION_ENTRY;

	if (o->base)
		st = sb_merge_create(w, o, err);
	else if ((st = build_schema(w, o, err)) == SB_OK)
		st = sb_compact_init(w, err);
	if (st != SB_OK ||
		(st = sb_inline_init(w, o->base ? 0 : o->inline_limit, err)) != SB_OK)
		goto fail;
	w->path = strdup(o->path);
	w->temp_dir = o->temp_dir ? strdup(o->temp_dir) : NULL;
	if (w->path == NULL || (o->temp_dir && w->temp_dir == NULL))
	{
		st = sb_fail(err, SB_ERR_NOMEM, "could not allocate path");
		goto fail;
	}
	if (w->temp_dir == NULL)
	{
		char	   *slash = strrchr(w->path, '/');

		w->temp_dir = slash ? strndup(w->path, slash == w->path ? 1 : slash - w->path) :
			strdup(".");
		if (w->temp_dir == NULL)
		{
			st = sb_fail(err, SB_ERR_NOMEM, "could not allocate path");
			goto fail;
		}
	}
	w->row = calloc(1, w->row_size + w->inline_limit);
	w->set = calloc(w->ncols, sizeof(bool));
	w->dedup_stats = calloc(w->ncols, sizeof(sb_dedup_stats));
	if (w->row == NULL || w->set == NULL || w->dedup_stats == NULL)
	{
		st = sb_fail(err, SB_ERR_NOMEM, "could not allocate row");
		goto fail;
	}

	budget = o->memory_budget < MIN_BUDGET ? MIN_BUDGET : o->memory_budget;
	dedup_budget = o->dedup && !o->base ? budget / 4 : 0;
	if (dedup_budget > MAX_DEDUP_BYTES)
		dedup_budget = MAX_DEDUP_BYTES;
	if (dedup_budget > 0 &&
		!sb_dedup_init(&w->dedup, dedup_budget, heap_same, w))
	{
		st = sb_fail(err, SB_ERR_NOMEM, "could not allocate dedup table");
		goto fail;
	}
	w->dedup_on = dedup_budget > 0;
	if ((st = sb_sorter_init(&w->sorter, budget - dedup_budget,
							 w->temp_dir, err)) != SB_OK)
		goto fail;

	w->fd = open(w->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0)
	{
		st = sb_fail_errno(err, "could not create file \"%s\"", w->path);
		goto fail;
	}
	w->created = true;
	/* a compact bundle may need the encodings section in the table */
	if (!o->base)
		w->schema_off = sb_align_up(w->compact ? SB_HEADER_FIXED +
									SB_NSECTIONS_COMPACT * SB_SECTION_ENTRY :
									w->header_size, SB_SECTION_ALIGN);
	if ((st = sb_pwrite_all(w->fd, w->schema, w->schema_len, w->schema_off,
							err)) != SB_OK)
		goto fail;
	heap_start = sb_align_up(w->schema_off + w->schema_len, w->section_align);
	if ((st = sb_sink_init(&w->heap, w->fd, heap_start, SINK_BUFFER, true,
						   err)) != SB_OK ||
		(st = sb_sink_track_blocks(&w->heap, err)) != SB_OK ||
		(o->base && (st = sb_merge_open_heap(w, err)) != SB_OK))
		goto fail;
	if ((st = sb_temp_open(w->temp_dir, &w->temp_fd, err)) != SB_OK)
		goto fail;
	if ((st = sb_sink_init(&w->rows, w->temp_fd, 0, SINK_BUFFER, true,
						   err)) != SB_OK ||
		(st = sb_sink_track_blocks(&w->rows, err)) != SB_OK)
		goto fail;
	*out = w;
	return SB_OK;

fail:
	sb_writer_free(w);
	return st;
}

/* Add a build-metadata entry (key and value are text). */
sb_status
sb_writer_add_meta(sb_writer *w, const char *key, const char *value,
				   sb_error *err)
{
	size_t		kl = strlen(key),
				vl = strlen(value);
	size_t		need = sb_align_up(8 + kl + vl, 4);

	if (w->meta_len + need > MAX_META_BYTES)
		return sb_fail(err, SB_ERR_LIMIT, "build metadata exceeds %d bytes",
					   MAX_META_BYTES);
	if (w->meta_len + need > w->meta_cap)
	{
		size_t		cap = (w->meta_len + need) * 2;
		unsigned char *m = realloc(w->meta, cap);

		if (m == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate metadata");
		w->meta = m;
		w->meta_cap = cap;
	}
	memset(w->meta + w->meta_len, 0, need);
	sb_store32(w->meta + w->meta_len, (uint32_t) kl);
	sb_store32(w->meta + w->meta_len + 4, (uint32_t) vl);
	memcpy(w->meta + w->meta_len + 8, key, kl);
	memcpy(w->meta + w->meta_len + 8 + kl, value, vl);
	w->meta_len += need;
	return SB_OK;
}

/* Start a new row: every column is NULL until set. */
void
sb_writer_begin_row(sb_writer *w)
{
	if (w->finished)
		return;					/* end_row will refuse */
	memset(w->row, 0, w->row_size);
	for (int i = 0; i < w->ncols; i++)
		w->row[i >> 3] |= (unsigned char) (1 << (i & 7));
	memset(w->key_set, 0, sizeof(w->key_set));
	memset(w->set, 0, w->ncols * sizeof(bool));
	w->inline_used = 0;
	w->in_row = true;
}

/*
 * While the first rows are held back to size the inline area (sbinline.c),
 * hold this call too and set *held; when the held data would grow too
 * large, stop holding and let the call go through.
 */
static sb_status
hold_call(sb_writer *w, int op, int col, const void *data, size_t len,
		  bool *held, sb_error *err)
{
	sb_status	st;

	*held = false;
	if (!w->sampling)
		return SB_OK;
	if (!sb_sample_room(w, len))
		return sb_inline_start(w, err);
	if ((st = sb_sample_add(w, op, col, data, len, err)) != SB_OK)
		return st;
	if (op == SB_OP_FIXED || op == SB_OP_VARLENA)
		w->set[col] = true;
	*held = true;
	return SB_OK;
}

/* Check that a column may be set now. */
static sb_status
check_set(sb_writer *w, int col, bool varlena, sb_error *err)
{
	if (w->failed || !w->in_row)
		return sb_fail(err, SB_ERR_STATE, "no row is being written");
	if (col < 0 || col >= w->ncols)
		return sb_fail(err, SB_ERR_INVALID, "no column %d", col);
	if ((w->cols[col].typlen == -1) != varlena)
		return sb_fail(err, SB_ERR_INVALID, "column %d is %s", col,
					   varlena ? "fixed-length" : "variable-length");
	return SB_OK;
}

/* Set a fixed-length column from its datum image (typlen bytes). */
sb_status
sb_writer_set_fixed(sb_writer *w, int col, const void *image, sb_error *err)
{
	sb_status	st = check_set(w, col, false, err);
	sb_column  *c;
	const unsigned char *stored;
	bool		held;

	if (st != SB_OK)
		return st;
	c = &w->cols[col];
	if (w->set[col])
		return sb_writer_failed(w, sb_fail(err, SB_ERR_STATE, "column %d is set twice in one row", col));
	if (w->merge)
		return (st = sb_merge_set_fixed(w, col, image, err)) == SB_OK ? st :
			sb_writer_failed(w, st);
	if ((st = hold_call(w, SB_OP_FIXED, col, image, c->typlen, &held, err)) != SB_OK)
		return sb_writer_failed(w, st);
	if (held)
		return SB_OK;
	w->set[col] = true;
	if (w->slot_offsets[col] != SB_NOT_STORED)
	{
		memcpy(w->row + w->slot_offsets[col], image, c->typlen);
		w->row[col >> 3] &= (unsigned char) ~(1 << (col & 7));
		stored = w->row + w->slot_offsets[col];
		sb_compact_note_fixed(w, col, image);
	}
	else
		stored = image;
	if (c->key_position > 0 && c->key_kind != SB_KEY_HASHED)
	{
		int			k = c->key_position - 1;

		if (w->slot_offsets[col] == SB_NOT_STORED)
		{
			memcpy(w->key_image[k], image, c->typlen);
			stored = w->key_image[k];
		}
		sb_key_part_from_image(&w->keycols[k], stored, c->typlen,
							   &w->parts[k]);
		w->key_set[k] = true;
	}
	return SB_OK;
}

/*
 * Should this value of column 'col' go through deduplication?  A column
 * whose first values seldom repeat stops paying for the lookups; while
 * off, it samples a stretch of values every period, and resumes if they
 * repeat (format.md 7.4).
 */
static bool
dedup_wanted(sb_writer *w, int col)
{
	sb_dedup_stats *ds = &w->dedup_stats[col];
	uint64_t	phase;

	if (!w->dedup_on)
		return false;
	ds->seen++;
	if (ds->seen <= DEDUP_TRIAL)
		return true;
	if (ds->seen == DEDUP_TRIAL + 1 && ds->hits * DEDUP_MIN_HITS < DEDUP_TRIAL)
		ds->off = true;
	if (!ds->off)
		return true;
	phase = ds->seen % DEDUP_PERIOD;
	if (phase == 1)
		ds->sample_hits = 0;
	if (phase == DEDUP_SAMPLE &&
		ds->sample_hits * DEDUP_SAMPLE_HITS >= DEDUP_SAMPLE)
		ds->off = false;		/* values repeat again */
	return phase >= 1 && phase <= DEDUP_SAMPLE;
}

/*
 * A short value that would straddle a block boundary of the heap starts
 * the next block instead, so that reading it touches one block (and, when
 * the heap is page-aligned, one page).  Costs on average half a value per
 * block.
 */
static sb_status
keep_in_block(sb_writer *w, size_t total, sb_error *err)
{
	uint64_t	at = sb_sink_size(&w->heap);

	if (w->section_align != SB_DATA_ALIGN || total > SB_SHORT_VALUE ||
		at % SB_DATA_ALIGN + total <= SB_DATA_ALIGN)
		return SB_OK;
	return sb_sink_pad(&w->heap, SB_DATA_ALIGN, err);
}

/*
 * The varlena header of a value of column c with 'len' payload bytes, as
 * the writer stores it (format.md 7.2): its size, and in *align the
 * alignment of the image (1 for a 1-byte header, else typalign).
 */
size_t
sb_value_header(const sb_column *c, size_t len, unsigned char *hdr,
				unsigned *align)
{
	size_t		hl = sb_varlena_make_header(hdr, len,
											c->flags & SB_COLF_SHORT_VARLENA);

	*align = hl == 1 ? 1 : sb_typalign_bytes(c->typalign);
	return hl;
}

/* Append a value's image to the heap (or find it there); set *offset. */
static sb_status
heap_store(sb_writer *w, int col, const void *payload, size_t len,
		   uint64_t *offset, sb_error *err)
{
	bool		dedup = dedup_wanted(w, col);
	unsigned char hdr[4];
	unsigned	align;
	size_t		hl = sb_value_header(&w->cols[col], len, hdr, &align);
	uint32_t	form = (uint32_t) hl | (align << 8);
	uint64_t	dh = 0;
	sb_status	st;

	if (dedup)
	{
		dh = sb_dedup_hash(payload, len, form);
		if (sb_dedup_find(&w->dedup, dh, form, payload, len, offset))
		{
			w->dedup_hits++;
			w->dedup_saved += hl + len;
			w->dedup_stats[col].hits++;
			w->dedup_stats[col].sample_hits++;
			return SB_OK;
		}
	}
	if ((st = sb_sink_pad(&w->heap, align, err)) != SB_OK ||
		(st = keep_in_block(w, hl + len, err)) != SB_OK)
		return st;
	*offset = sb_sink_size(&w->heap);
	if ((st = sb_sink_write(&w->heap, hdr, hl, err)) != SB_OK ||
		(st = sb_sink_write(&w->heap, payload, len, err)) != SB_OK)
		return st;
	if (dedup)
		sb_dedup_insert(&w->dedup, dh, form, payload, len, *offset);
	return SB_OK;
}

/*
 * Set a variable-length column from its payload (the bytes after the
 * varlena header).  A key column's payload must stay valid until the row
 * ends.
 */
sb_status
sb_writer_set_varlena(sb_writer *w, int col, const void *payload, size_t len,
					  sb_error *err)
{
	sb_status	st = check_set(w, col, true, err);
	sb_column  *c;
	bool		held;

	if (st != SB_OK)
		return st;
	c = &w->cols[col];
	if (w->set[col])
		return sb_writer_failed(w, sb_fail(err, SB_ERR_STATE, "column %d is set twice in one row", col));
	if (len > SB_MAX_VALUE_SIZE - 4)
		return sb_writer_failed(w, sb_fail(err, SB_ERR_LIMIT,
										   "value of %zu bytes in column \"%s\" exceeds the limit of %d bytes",
										   len, c->name ? c->name : "?",
										   SB_MAX_VALUE_SIZE - 4));
	if (w->merge)
		return (st = sb_merge_set_varlena(w, col, payload, len, err)) == SB_OK ? st :
			sb_writer_failed(w, st);
	if ((st = hold_call(w, SB_OP_VARLENA, col, payload, len, &held, err)) != SB_OK)
		return sb_writer_failed(w, st);
	if (held)
		return SB_OK;
	w->set[col] = true;
	if (w->slot_offsets[col] != SB_NOT_STORED)
	{
		uint64_t	ref;
		const void *stored = payload;
		size_t		slen = len;

		if ((st = sb_compact_encode(w, col, &stored, &slen, err)) != SB_OK)
			return sb_writer_failed(w, st);
		if (!sb_inline_place(w, col, stored, slen, &ref) &&
			(st = heap_store(w, col, stored, slen, &ref, err)) != SB_OK)
			return sb_writer_failed(w, st);
		sb_store64(w->row + w->slot_offsets[col], ref);
		w->row[col >> 3] &= (unsigned char) ~(1 << (col & 7));
	}
	if (c->key_position > 0 && c->key_kind != SB_KEY_HASHED)
	{
		int			k = c->key_position - 1;

		w->parts[k].data = payload;
		w->parts[k].len = len;
		w->key_set[k] = true;
	}
	return SB_OK;
}

/*
 * Set the key part of a hashed key column (SB_KEY_HASHED): the hash of
 * the value set in that column of the row, which the caller computes with
 * a hash consistent with the type's equality.  A row sets both or, when
 * the value is NULL, neither.
 */
sb_status
sb_writer_set_key_hash(sb_writer *w, int col, uint64_t hash, sb_error *err)
{
	sb_column  *c;
	sb_status	st;
	bool		held;
	int			k;

	if (w->failed || !w->in_row)
		return sb_fail(err, SB_ERR_STATE, "no row is being written");
	if (col < 0 || col >= w->ncols)
		return sb_fail(err, SB_ERR_INVALID, "no column %d", col);
	c = &w->cols[col];
	if (c->key_kind != SB_KEY_HASHED)
		return sb_fail(err, SB_ERR_INVALID, "column \"%s\" is not a hashed key column",
					   c->name);
	k = c->key_position - 1;
	if (w->key_set[k])
		return sb_writer_failed(w, sb_fail(err, SB_ERR_STATE,
										   "the key hash of column %d is set twice in one row", col));
	if ((st = hold_call(w, SB_OP_KEYHASH, col, &hash, sizeof(hash), &held, err)) != SB_OK)
		return sb_writer_failed(w, st);
	w->key_set[k] = true;
	if (held)
		return SB_OK;
	w->key_hash[k] = hash;
	w->parts[k].data = &w->key_hash[k];
	w->parts[k].len = sizeof(hash);
	return SB_OK;
}

/* Finish the current row: store its slot and index its key. */
sb_status
sb_writer_end_row(sb_writer *w, sb_error *err)
{
	sb_status	st;
	bool		keyed = w->nkeys > 0;
	bool		held;

	if (w->failed || !w->in_row || w->finished)
		return sb_fail(err, SB_ERR_STATE, "no row is being written");
	if (w->merge)
		return (st = sb_merge_end_row(w, err)) == SB_OK ? st :
			sb_writer_failed(w, st);
	if (w->nrows >= SB_MAX_ROWS)
		return sb_writer_failed(w, sb_fail(err, SB_ERR_LIMIT,
										   "a bundle holds at most %u rows",
										   (unsigned) SB_MAX_ROWS));
	for (int k = 0; k < w->nkeys; k++)
		if (w->keycols[k].kind == SB_KEY_HASHED &&
			w->key_set[k] != w->set[w->key_cols[k]])
			return sb_writer_failed(w, sb_fail(err, SB_ERR_STATE,
											   "key column \"%s\" has a %s but no %s",
											   w->cols[w->key_cols[k]].name,
											   w->key_set[k] ? "hash" : "value",
											   w->key_set[k] ? "value" : "hash"));
	if ((st = hold_call(w, SB_OP_END, 0, NULL, 0, &held, err)) != SB_OK)
		return sb_writer_failed(w, st);
	w->in_row = false;
	if (held)
	{
		if (sb_sample_full(w) && (st = sb_inline_start(w, err)) != SB_OK)
			return sb_writer_failed(w, st);
		return SB_OK;
	}
	for (int k = 0; k < w->nkeys; k++)
		keyed = keyed && w->key_set[k];
	if (keyed)
	{
		uint64_t	h = sb_hash_parts(w->keycols, w->nkeys, w->parts, w->seed);

		if ((st = sb_sorter_add(&w->sorter, h, w->nrows, err)) != SB_OK)
			return sb_writer_failed(w, st);
	}
	if ((st = sb_sink_write(&w->rows, w->row, w->row_size, err)) != SB_OK)
		return sb_writer_failed(w, st);
	w->nrows++;
	return SB_OK;
}

/*
 * Leave row 'row' of a merge's base bundle out of the new bundle (see
 * sb_writer_options.base).
 */
sb_status
sb_writer_drop_base_row(sb_writer *w, uint64_t row, sb_error *err)
{
	if (w->merge == NULL || w->failed || w->finished)
		return sb_fail(err, SB_ERR_STATE, "the writer has no base bundle to drop rows of");
	return sb_merge_drop(w, row, err);
}

/* Rows written so far. */
uint64_t
sb_writer_rows(const sb_writer *w)
{
	return w->sampling ? w->sample.rows : w->nrows;
}

/*
 * Bytes of heap and row slots written so far.  Rows held back to size the
 * inline area count once they are written.
 */
uint64_t
sb_writer_bytes(const sb_writer *w)
{
	return sb_sink_size(&w->heap) + sb_sink_size(&w->rows);
}

/* Release a writer; an unfinished output file is removed. */
void
sb_writer_free(sb_writer *w)
{
	if (w == NULL)
		return;
	sb_merge_free(w);
	if (w->fd >= 0)
		close(w->fd);
	if (w->created && !w->finished)
		unlink(w->path);
	if (w->temp_fd >= 0)
		close(w->temp_fd);
	sb_sink_free(&w->heap);
	sb_sink_free(&w->rows);
	sb_sorter_free(&w->sorter);
	sb_dedup_free(&w->dedup);
	free(w->cols);
	free(w->slot_offsets);
	free(w->schema);
	free(w->meta);
	free(w->row);
	free(w->set);
	free(w->dedup_stats);
	sb_inline_free(w);
	sb_compact_free(w);
	free(w->key_store);
	free(w->path);
	free(w->temp_dir);
	free(w);
}
