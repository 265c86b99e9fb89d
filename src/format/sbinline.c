/*-------------------------------------------------------------------------
 *
 * sbinline.c
 *	  Short values stored inside their row slot (format v2).
 *
 * A lookup that reads a row slot and then a value in the heap touches two
 * places in a large file; a value stored in the slot itself arrives with
 * it.  Each slot ends in an inline area of the same width in every row.
 * The writer holds its first rows back (SB_INLINE_SAMPLE_ROWS rows, or
 * fewer if their values exceed SAMPLE_BYTES), chooses from them the
 * columns to store inline and the area's width, then replays the held
 * calls and streams on.  A value of such a column goes into the area when it fits
 * in what the row has left of it, and into the heap otherwise.  See
 * format.md 6.4.
 *
 *-------------------------------------------------------------------------
 */
#include "sbwriter_int.h"

#include <stdlib.h>

#define SAMPLE_BYTES	((size_t) 4 << 20)
#define FIT_MOST		90		/* the area fits this percentile of sizes... */
#define FIT_ALL			99		/* ...or this one, if at most a quarter wider */

/* One held writer call; its data follows, padded to 8 bytes. */
typedef struct sb_sample_op
{
	int32_t		op;				/* SB_OP_* */
	int32_t		col;
	uint64_t	len;
} sb_sample_op;

/* Set up inline storage: sample the first rows if any column may use it. */
sb_status
sb_inline_init(sb_writer *w, uint32_t limit, sb_error *err)
{
	if (limit > SB_MAX_INLINE)
		return sb_fail(err, SB_ERR_INVALID, "inline limit %u exceeds %d bytes",
					   limit, SB_MAX_INLINE);
	w->fields_size = w->row_size;
	w->inline_limit = (uint32_t) sb_align_up(limit, 8);
	w->inline_col = calloc(w->ncols, sizeof(bool));
	if (w->inline_col == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate columns");
	for (int i = 0; (limit > 0 || w->compact) && i < w->ncols; i++)
		if (w->cols[i].typlen == -1 && w->slot_offsets[i] != SB_NOT_STORED)
			w->sampling = true;
	return SB_OK;
}

/* Bytes a held call with 'len' bytes of data takes. */
static size_t
held_size(size_t len)
{
	return sizeof(sb_sample_op) + sb_align_up(len, 8);
}

/* Can a call with 'len' bytes of data still be held back? */
bool
sb_sample_room(const sb_writer *w, size_t len)
{
	return len <= SAMPLE_BYTES && w->sample.len + held_size(len) <= SAMPLE_BYTES;
}

/* Have enough rows been held back to size the area? */
bool
sb_sample_full(const sb_writer *w)
{
	return w->sample.rows >= SB_INLINE_SAMPLE_ROWS;
}

/* Hold a writer call back; the caller checked sb_sample_room. */
sb_status
sb_sample_add(sb_writer *w, int op, int col, const void *data, size_t len,
			  sb_error *err)
{
	sb_sample  *s = &w->sample;
	size_t		need = held_size(len);
	sb_sample_op rec = {op, col, len};

	if (s->len + need > s->cap)
	{
		size_t		cap = s->cap ? s->cap : 65536;
		unsigned char *buf;

		while (cap < s->len + need)
			cap *= 2;
		if ((buf = realloc(s->buf, cap)) == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate sample rows");
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, &rec, sizeof(rec));
	if (len > 0)
		memcpy(s->buf + s->len + sizeof(rec), data, len);
	memset(s->buf + s->len + sizeof(rec) + len, 0, need - sizeof(rec) - len);
	s->len += need;
	if (op == SB_OP_END)
		s->rows++;
	return SB_OK;
}

/* Compare two uint64_t for qsort. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a,
				y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

/*
 * Image size (header included) a column's area share must hold: the
 * FIT_MOST percentile of the held rows' values (NULLs count as 0), or the
 * FIT_ALL one if that is at most a quarter more; 0 if the column's values
 * repeat so much that deduplication serves it better.
 * 'sizes' and 'hashes' have one entry per held row.
 */
static uint64_t
column_share(const sb_writer *w, uint64_t *sizes, uint64_t *hashes,
			 uint64_t nvalues)
{
	uint64_t	rows = w->sample.rows,
				repeats = 0,
				most,
				all;

	if (rows == 0 || nvalues == 0)
		return 0;
	if (w->dedup_on)
	{
		qsort(hashes, nvalues, sizeof(uint64_t), cmp_u64);
		for (uint64_t i = 1; i < nvalues; i++)
			repeats += hashes[i] == hashes[i - 1];
		if (repeats * 2 > nvalues)
			return 0;
	}
	qsort(sizes, rows, sizeof(uint64_t), cmp_u64);
	most = sizes[(rows - 1) * FIT_MOST / 100];
	all = sizes[(rows - 1) * FIT_ALL / 100];
	return all <= most + most / 4 ? all : most;
}

/* Image size and hash of every held value of column 'col'. */
static uint64_t
collect_column(const sb_writer *w, int col, uint64_t *sizes, uint64_t *hashes)
{
	const sb_sample *s = &w->sample;
	uint64_t	row = 0,
				nvalues = 0;
	unsigned char hdr[4];
	unsigned	align;

	memset(sizes, 0, s->rows * sizeof(uint64_t));
	for (size_t pos = 0; pos < s->len && row < s->rows;)
	{
		sb_sample_op rec;

		memcpy(&rec, s->buf + pos, sizeof(rec));
		if (rec.op == SB_OP_VARLENA && rec.col == col)
		{
			size_t		len = sb_compact_encoded_len((sb_writer *) w, col,
													 s->buf + pos + sizeof(rec),
													 rec.len);

			sizes[row] = sb_value_header(&w->cols[col], len, hdr, &align) + len;
			hashes[nvalues++] = sb_checksum(s->buf + pos + sizeof(rec), rec.len);
		}
		row += rec.op == SB_OP_END;
		pos += held_size(rec.len);
	}
	return nvalues;
}

/*
 * Choose the inline columns and the area's width from the held rows:
 * columns in column order, each taking its share, while the area stays
 * within the limit.
 */
static sb_status
choose_area(sb_writer *w, sb_error *err)
{
	uint64_t   *sizes = malloc((w->sample.rows + 1) * sizeof(uint64_t));
	uint64_t   *hashes = malloc((w->sample.rows + 1) * sizeof(uint64_t));
	uint64_t	area = 0;

	if (sizes == NULL || hashes == NULL)
	{
		free(sizes);
		free(hashes);
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate sample sizes");
	}
	for (int c = 0; c < w->ncols; c++)
	{
		const sb_column *col = &w->cols[c];
		uint64_t	nvalues,
					share,
					at;

		if (col->typlen != -1 || w->slot_offsets[c] == SB_NOT_STORED)
			continue;
		nvalues = collect_column(w, c, sizes, hashes);
		share = column_share(w, sizes, hashes, nvalues);
		if (share == 0)
			continue;
		at = sb_align_up(area, share <= 127 && (col->flags & SB_COLF_SHORT_VARLENA) ?
						 1 : sb_typalign_bytes(col->typalign));
		if (at + share > w->inline_limit)
			continue;
		area = at + share;
		w->inline_col[c] = true;
	}
	free(sizes);
	free(hashes);
	w->row_size = w->fields_size + (uint32_t) sb_align_up(area, 8);
	w->inline_area = (uint32_t) area;
	return SB_OK;
}

/*
 * Replay the held calls through the writer's public functions.  Rows
 * begin implicitly; a row that had begun when holding stopped is begun
 * again, with what had been set in it.
 */
static sb_status
replay(sb_writer *w, sb_error *err)
{
	const sb_sample *s = &w->sample;
	bool		was_in_row = w->in_row,
				open = false;
	sb_status	st = SB_OK;

	w->in_row = false;
	for (size_t pos = 0; st == SB_OK && pos < s->len;)
	{
		sb_sample_op rec;
		const unsigned char *data = s->buf + pos + sizeof(rec);

		memcpy(&rec, s->buf + pos, sizeof(rec));
		pos += held_size(rec.len);
		if (!open)
			sb_writer_begin_row(w);
		open = rec.op != SB_OP_END;
		switch (rec.op)
		{
			case SB_OP_FIXED:
				st = sb_writer_set_fixed(w, rec.col, data, err);
				break;
			case SB_OP_VARLENA:
				st = sb_writer_set_varlena(w, rec.col, data, rec.len, err);
				break;
			case SB_OP_KEYHASH:
				{
					uint64_t	h;

					memcpy(&h, data, sizeof(h));
					st = sb_writer_set_key_hash(w, rec.col, h, err);
				}
				break;
			default:
				st = sb_writer_end_row(w, err);
				break;
		}
	}
	if (st == SB_OK && was_in_row && !open)
		sb_writer_begin_row(w);
	return st;
}

/*
 * With values inside the slots the rows are most of the file: stream them
 * to the output right after the schema and the heap to the temporary file
 * instead, so that finishing copies the smaller of the two.  Nothing has
 * been written to either yet.
 */
static void
swap_streams(sb_writer *w)
{
	uint64_t	start = w->heap.start;

	w->heap.fd = w->temp_fd;
	w->heap.start = 0;
	w->rows.fd = w->fd;
	w->rows.start = start;
	w->swapped = true;
}

/*
 * Stop holding rows back: size the inline area, then write the held rows.
 * The held data stays allocated, since a key column's payload must live
 * until its row ends.
 */
sb_status
sb_inline_start(sb_writer *w, sb_error *err)
{
	sb_status	st;

	if (!w->sampling)
		return SB_OK;
	w->sampling = false;
	if ((st = sb_compact_choose_symbols(w, err)) != SB_OK ||
		(st = choose_area(w, err)) != SB_OK)
		return st;
	/* compact slots are narrowed from the temporary file at the end */
	if (w->row_size > w->fields_size && !w->compact)
		swap_streams(w);
	return replay(w, err);
}

/*
 * Store a value of an inline column in the row's area if it fits after
 * the values already there (aligned as in the heap): set *ref to the
 * field's reference to it.  False if the column is not inline or the
 * value does not fit.
 */
bool
sb_inline_place(sb_writer *w, int col, const void *payload, size_t len,
				uint64_t *ref)
{
	unsigned char hdr[4];
	unsigned	align;
	size_t		hl;
	uint64_t	at;

	if (!w->inline_col[col])
		return false;
	hl = sb_value_header(&w->cols[col], len, hdr, &align);
	at = sb_align_up(w->fields_size + w->inline_used, align);
	/* a compact slot's area is narrowed to what the values may use */
	if (at + hl + len > (w->compact ? w->fields_size + w->inline_area : w->row_size))
		return false;
	memcpy(w->row + at, hdr, hl);
	memcpy(w->row + at + hl, payload, len);
	*ref = SB_INLINE_REF | at;
	w->inline_used = (uint32_t) (at + hl + len - w->fields_size);
	w->inline_values++;
	return true;
}

/* Free the held calls and the column flags. */
void
sb_inline_free(sb_writer *w)
{
	free(w->sample.buf);
	free(w->inline_col);
}
