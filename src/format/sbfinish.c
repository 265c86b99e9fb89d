/*-------------------------------------------------------------------------
 *
 * sbfinish.c
 *	  Completing a bundle: row slots, the index, metadata and the header.
 *
 * The index is a hash table of 64-byte lines, each holding up to 10
 * (fingerprint, row) entries (7 in an approximate bundle, whose
 * fingerprints are 4 bytes); the top 32 bits of the hash, scaled to the
 * number of home lines, give the line an entry belongs to.  Entries are
 * placed in hash order, each in its home line or, when that is full, in
 * the first line after it with room, so a lookup reads its home line and
 * only rarely the next.
 *
 *-------------------------------------------------------------------------
 */
#include "sbwriter_int.h"

#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#define SINK_BUFFER		(1 << 20)

/* Writes the index one 64-byte line at a time. */
typedef struct line_writer
{
	sb_sink    *sink;
	unsigned	fp_bytes;
	unsigned	cap;			/* entries per line */
	uint64_t	line;			/* number of the line being filled */
	unsigned	count;			/* entries in it so far */
	int			first_own;		/* where its own entries start, or -1 */
	unsigned char buf[SB_LINE_BYTES];
} line_writer;

/* Write out the line being filled and start the next one, empty. */
static sb_status
line_flush(line_writer *lw, sb_error *err)
{
	sb_status	st;

	lw->buf[SB_LINE_COUNT] = (unsigned char) lw->count;
	lw->buf[SB_LINE_FIRST_OWN] =
		(unsigned char) (lw->first_own < 0 ? lw->count : lw->first_own);
	st = sb_sink_write(lw->sink, lw->buf, SB_LINE_BYTES, err);
	memset(lw->buf, 0, SB_LINE_BYTES);
	lw->count = 0;
	lw->first_own = -1;
	lw->line++;
	return st;
}

/* Place an entry of home line 'home' in the first line with room. */
static sb_status
line_place(line_writer *lw, uint64_t home, const sb_pair *p, sb_error *err)
{
	sb_status	st;

	while (lw->line < home || lw->count == lw->cap)
		if ((st = line_flush(lw, err)) != SB_OK)
			return st;
	if (lw->line == home && lw->first_own < 0)
		lw->first_own = (int) lw->count;
	sb_store_n(lw->buf + SB_LINE_FPS + lw->count * lw->fp_bytes, lw->fp_bytes,
			   sb_line_fingerprint(p->hash, lw->fp_bytes));
	sb_store32(lw->buf + sb_line_rows_offset(lw->fp_bytes) + 4 * lw->count,
			   (uint32_t) p->row);
	lw->count++;
	return SB_OK;
}

/*
 * Emit the index from the sorted pairs; *nlines gets the number of lines
 * written and *max_run the most lines one home line's entries span.
 */
static sb_status
emit_lines(sb_sorter *sorter, sb_sink *entries, uint64_t home_lines,
		   unsigned fp_bytes, uint64_t *distinct, uint64_t *max_run,
		   uint64_t *nlines, sb_error *err)
{
	line_writer lw;
	uint64_t	prev = 0,
				i = 0;
	sb_pair		p;
	int			r;
	sb_status	st;

	memset(&lw, 0, sizeof(lw));
	lw.sink = entries;
	lw.fp_bytes = fp_bytes;
	lw.cap = sb_line_capacity(fp_bytes);
	lw.first_own = -1;
	while ((r = sb_sorter_next(sorter, &p, err)) == 1)
	{
		uint64_t	home = sb_line_home(p.hash, home_lines);

		if ((st = line_place(&lw, home, &p, err)) != SB_OK)
			return st;
		if (lw.line - home + 1 > *max_run)
			*max_run = lw.line - home + 1;
		*distinct += (i == 0 || p.hash != prev);
		prev = p.hash;
		i++;
	}
	if (r < 0)
		return (sb_status) r;
	while (lw.line < home_lines || lw.count > 0)
		if ((st = line_flush(&lw, err)) != SB_OK)
			return st;
	*nlines = lw.line;
	return SB_OK;
}

/*
 * Write the index of the pairs in 'sorter' at 'start' of file 'fd', after
 * the rows; fills in its plan and its header fields, and hands over its
 * block checksums.
 */
sb_status
sb_write_index(sb_sorter *sorter, int fd, bool approximate, uint64_t start,
			   sb_section_plan *plan, unsigned char *hdr,
			   sb_blocksums **blocks, sb_error *err)
{
	uint64_t	n = sorter->total;
	unsigned	fp_bytes = approximate ? 4 : 2;
	uint64_t	home_lines = sb_line_home_count(n, fp_bytes),
				distinct = 0,
				max_run = 0,
				nlines = 0;
	sb_sink		entries;
	sb_status	st;

	if ((st = sb_sorter_finish(sorter, err)) != SB_OK)
		return st;
	plan->offset = start;
	if ((st = sb_sink_init(&entries, fd, plan->offset, SINK_BUFFER, true,
						   err)) != SB_OK)
		return st;
	if ((st = sb_sink_track_blocks(&entries, err)) != SB_OK)
	{
		sb_sink_free(&entries);
		return st;
	}
	st = emit_lines(sorter, &entries, home_lines, fp_bytes, &distinct, &max_run,
					&nlines, err);
	plan->length = nlines * SB_LINE_BYTES;
	if (st == SB_OK && (st = sb_sink_flush(&entries, err)) == SB_OK)
		plan->checksum = sb_checksum_final(entries.ck);
	*blocks = entries.blocks;
	entries.blocks = NULL;
	sb_sink_free(&entries);

	hdr[SB_HDR_FP_BYTES] = (unsigned char) fp_bytes;
	sb_store64(hdr + SB_HDR_INDEXED, n);
	sb_store64(hdr + SB_HDR_DISTINCT, distinct);
	sb_store64(hdr + SB_HDR_MAX_RUN, max_run);
	sb_store64(hdr + SB_HDR_HOME_LINES, home_lines);
	return st;
}

/*
 * Write the block checksums of the rows, heap and index, in that order,
 * at 'offset' of file 'fd'; fills in the plan.
 */
sb_status
sb_write_blocksums(int fd, sb_blocksums *const *acc, uint64_t offset,
				   sb_section_plan *plan, sb_error *err)
{
	sb_checksum_state *ck = sb_checksum_create();
	uint64_t	pos = offset;
	sb_status	st = SB_OK;

	if (ck == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate checksum state");
	plan->offset = offset;
	for (int i = 0; i < 3 && st == SB_OK; i++)
	{
		size_t		len;

		if (acc[i] == NULL)
			continue;
		if (!sb_blocksums_finish(acc[i]))
		{
			st = sb_fail(err, SB_ERR_NOMEM, "could not allocate block checksums");
			break;
		}
		len = acc[i]->n * sizeof(uint32_t);
		st = sb_pwrite_all(fd, acc[i]->sums, len, pos, err);
		sb_checksum_update(ck, acc[i]->sums, len);
		pos += len;
	}
	plan->length = pos - offset;
	plan->checksum = sb_checksum_final(ck);
	sb_checksum_free(ck);
	return st;
}

/* Fill in the fixed header fields known without the index. */
static void
fill_header(sb_writer *w, unsigned char *hdr, uint64_t file_size)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	memcpy(hdr + SB_HDR_MAGIC, SB_MAGIC, SB_MAGIC_LEN);
	/*
	 * 5 only with encodings and 4 only with a hashed key, so that older
	 * readers read the rest
	 */
	sb_store16(hdr + SB_HDR_MAJOR,
			   w->narrow_offsets ? SB_COMPACT_MAJOR :
			   w->hashed_key ? SB_HASHED_MAJOR : SB_LINES_MAJOR);
	sb_store16(hdr + SB_HDR_MINOR, SB_FORMAT_MINOR);
	sb_store32(hdr + SB_HDR_BYTE_ORDER, SB_BYTE_ORDER_MARK);
	sb_store32(hdr + SB_HDR_HEADER_SIZE, w->header_size);
	sb_store32(hdr + SB_HDR_NSECTIONS, w->nsections);
	sb_store64(hdr + SB_HDR_FILE_SIZE, file_size);
	sb_store64(hdr + SB_HDR_ROW_COUNT, w->nrows);
	sb_store32(hdr + SB_HDR_NCOLUMNS, (uint32_t) w->ncols);
	sb_store32(hdr + SB_HDR_NKEYS, (uint32_t) w->nkeys);
	sb_store32(hdr + SB_HDR_ROW_SIZE, w->row_size);
	sb_store32(hdr + SB_HDR_FLAGS, w->approximate ? SB_BUNDLE_APPROXIMATE : 0);
	sb_store32(hdr + SB_HDR_HASH_ID, SB_HASH_XXH3);
	sb_store32(hdr + SB_HDR_INDEX_KIND, SB_INDEX_LINES);
	sb_store64(hdr + SB_HDR_HASH_SEED, w->seed);
	hdr[SB_HDR_MAXALIGN] = 8;
	hdr[SB_HDR_BLOCK_SHIFT] = SB_BLOCK_SHIFT;
	sb_store32(hdr + SB_HDR_PG_MAJOR, w->pg_major);
	sb_store64(hdr + SB_HDR_BUILD_TIME,
			   (uint64_t) tv.tv_sec * 1000000 + (uint64_t) tv.tv_usec);
}

/*
 * Write the header of 'header_size' bytes, with the table of its
 * 'nsections' sections, at offset 0 of file 'fd'.
 */
sb_status
sb_write_header(int fd, unsigned char *hdr, uint32_t header_size,
				uint32_t nsections, const sb_section_plan *plans,
				sb_error *err)
{
	for (uint32_t i = 0; i < nsections; i++)
	{
		unsigned char *e = hdr + SB_HEADER_FIXED + i * SB_SECTION_ENTRY;

		sb_store32(e + SB_SEC_KIND, plans[i].kind);
		sb_store32(e + SB_SEC_FLAGS,
				   plans[i].kind == SB_SECTION_META ||
				   plans[i].kind == SB_SECTION_BLOCKSUMS ? 0 : SB_SECF_REQUIRED);
		sb_store64(e + SB_SEC_OFFSET, plans[i].offset);
		sb_store64(e + SB_SEC_LENGTH, plans[i].length);
		sb_store64(e + SB_SEC_CHECKSUM, plans[i].checksum);
	}
	sb_store64(hdr + SB_HDR_CHECKSUM, 0);
	sb_store64(hdr + SB_HDR_CHECKSUM, sb_checksum(hdr, header_size));
	return sb_pwrite_all(fd, hdr, header_size, 0, err);
}

/*
 * Place the heap and the narrowed rows of a compact bundle: the heap is in
 * the output file, the full-width rows in the temporary file are
 * narrowed after it, and the schema records get the fields' new places.
 * The rows' block checksums go to *blocks.
 */
static sb_status
place_narrow(sb_writer *w, sb_section_plan *heap, sb_section_plan *rows,
			 sb_blocksums **blocks, sb_error *err)
{
	sb_sink		out;
	sb_status	st;

	memset(&out, 0, sizeof(out));
	if ((st = sb_sink_flush(&w->heap, err)) != SB_OK)
		return st;
	heap->offset = w->heap.start;
	heap->length = sb_sink_size(&w->heap);
	heap->checksum = sb_checksum_final(w->heap.ck);
	rows->offset = sb_align_up(heap->offset + heap->length, w->section_align);
	st = sb_compact_rows(w, rows->offset, &out, err);
	if (st == SB_OK)
	{
		rows->length = sb_sink_size(&out);
		rows->checksum = sb_checksum_final(out.ck);
		*blocks = out.blocks;
		out.blocks = NULL;
	}
	sb_sink_free(&out);
	if (st != SB_OK)
		return st;
	for (int i = 0; i < w->ncols; i++)
		sb_store32(w->schema + (size_t) i * SB_COLREC_SIZE + SB_COL_SLOT_OFF,
				   w->narrow_offsets[i]);
	w->fields_size = w->inline_area > 0 ? w->narrow_area : w->narrow_row_size;
	w->row_size = w->narrow_row_size;
	return sb_pwrite_all(w->fd, w->schema, w->schema_len, w->schema_off, err);
}

/*
 * Place the heap and the rows: the stream that went to the output file
 * stays where it is, the one in the temporary file is copied after it.
 */
static sb_status
place_streams(sb_writer *w, sb_section_plan *heap, sb_section_plan *rows,
			  sb_error *err)
{
	bool		rows_first = sb_rows_first(w);
	sb_sink    *first = rows_first ? &w->rows : &w->heap,
			   *second = rows_first ? &w->heap : &w->rows;
	sb_section_plan *fp = rows_first ? rows : heap,
			   *sp = rows_first ? heap : rows;
	sb_status	st;

	if ((st = sb_sink_flush(first, err)) != SB_OK ||
		(st = sb_sink_flush(second, err)) != SB_OK)
		return st;
	fp->offset = first->start;
	fp->length = sb_sink_size(first);
	fp->checksum = sb_checksum_final(first->ck);
	sp->offset = sb_align_up(fp->offset + fp->length, w->section_align);
	sp->length = sb_sink_size(second);
	sp->checksum = sb_checksum_final(second->ck);
	return sb_copy_fd(w->temp_fd, 0, w->fd, sp->offset, sp->length, NULL, err);
}

/* Complete the file: rows and heap, index, metadata, header; then fsync it. */
static sb_status
finish_file(sb_writer *w, unsigned char *hdr, sb_error *err)
{
	sb_section_plan plans[SB_NSECTIONS_COMPACT];
	static const uint32_t kinds[SB_NSECTIONS_COMPACT] = {
		SB_SECTION_SCHEMA, SB_SECTION_META, SB_SECTION_HEAP,
		SB_SECTION_ROWS, SB_SECTION_ENTRIES, SB_SECTION_BLOCKSUMS,
		SB_SECTION_ENCODINGS};
	sb_blocksums *blocks[3] = {NULL, NULL, NULL};
	sb_blocksums *narrow_rows = NULL;
	bool		narrow;
	unsigned char *encodings = NULL;
	size_t		encodings_len = 0;
	sb_status	st;
	uint64_t	end,
				file_size;

	if ((st = sb_compact_plan(w, &narrow, err)) != SB_OK)
		return st;
	w->nsections = narrow ? SB_NSECTIONS_COMPACT : SB_NSECTIONS;
	w->header_size = SB_HEADER_FIXED + w->nsections * SB_SECTION_ENTRY;
	memset(plans, 0, sizeof(plans));
	for (uint32_t i = 0; i < w->nsections; i++)
		plans[i].kind = kinds[i];

	if (narrow)
		st = place_narrow(w, &plans[2], &plans[3], &narrow_rows, err);
	else
		st = place_streams(w, &plans[2], &plans[3], err);
	if (st != SB_OK)
		return st;
	plans[0].offset = w->schema_off;
	plans[0].length = w->schema_len;
	plans[0].checksum = sb_checksum(w->schema, w->schema_len);
	end = sb_rows_first(w) ? plans[2].offset + plans[2].length :
		plans[3].offset + plans[3].length;
	st = sb_write_index(&w->sorter, w->fd, w->approximate,
						sb_align_up(end, w->section_align), &plans[4], hdr,
						&blocks[SB_REGION_ENTRIES], err);
	if (st == SB_OK)
	{
		blocks[SB_REGION_ROWS] = narrow ? narrow_rows : w->rows.blocks;
		blocks[SB_REGION_HEAP] = w->heap.blocks;
		st = sb_write_blocksums(w->fd, blocks,
							 sb_align_up(plans[4].offset + plans[4].length,
										 SB_SECTION_ALIGN),
							 &plans[5], err);
	}
	sb_blocksums_free(blocks[SB_REGION_ENTRIES]);
	sb_blocksums_free(narrow_rows);
	if (st != SB_OK)
		return st;
	end = plans[5].offset + plans[5].length;

	if (narrow)
	{
		if ((st = sb_compact_section(w, &encodings, &encodings_len, err)) != SB_OK)
			return st;
		plans[6].offset = sb_align_up(end, SB_SECTION_ALIGN);
		plans[6].length = encodings_len;
		plans[6].checksum = sb_checksum(encodings, encodings_len);
		st = sb_pwrite_all(w->fd, encodings, encodings_len, plans[6].offset, err);
		free(encodings);
		if (st != SB_OK)
			return st;
		end = plans[6].offset + plans[6].length;
	}
	plans[1].offset = sb_align_up(end, SB_SECTION_ALIGN);
	plans[1].length = w->meta_len;
	plans[1].checksum = sb_checksum(w->meta, w->meta_len);
	if ((st = sb_pwrite_all(w->fd, w->meta, w->meta_len, plans[1].offset,
							err)) != SB_OK)
		return st;
	file_size = plans[1].offset + plans[1].length;
	if (ftruncate(w->fd, (off_t) file_size) != 0)
		return sb_fail_errno(err, "could not set the size of \"%s\"", w->path);

	fill_header(w, hdr, file_size);
	if ((st = sb_write_header(w->fd, hdr, w->header_size, w->nsections, plans,
							  err)) != SB_OK)
		return st;
	if (fsync(w->fd) != 0)
		return sb_fail_errno(err, "could not fsync file \"%s\"", w->path);
	return SB_OK;
}

/*
 * Finish the bundle: on success the file is complete and durable, and the
 * writer may only be freed.  On failure the file is removed when the
 * writer is freed.
 */
sb_status
sb_writer_finish(sb_writer *w, sb_build_stats *stats, sb_error *err)
{
	unsigned char hdr[SB_HEADER_FIXED + SB_NSECTIONS_COMPACT * SB_SECTION_ENTRY];
	sb_status	st;

	if (w->failed || w->in_row || w->finished)
		return sb_fail(err, SB_ERR_STATE, "the writer cannot finish in this state");
	memset(hdr, 0, sizeof(hdr));
	if (w->merge)
		st = sb_merge_file(w, hdr, err);
	else if ((st = sb_inline_start(w, err)) == SB_OK)
		st = finish_file(w, hdr, err);
	if (st != SB_OK)
		return sb_writer_failed(w, st);
	if (close(w->fd) != 0)
	{
		w->fd = -1;
		return sb_writer_failed(w, sb_fail_errno(err, "could not close file \"%s\"",
												 w->path));
	}
	w->fd = -1;
	w->finished = true;
	if (stats)
	{
		memset(stats, 0, sizeof(*stats));
		stats->rows = sb_load64(hdr + SB_HDR_ROW_COUNT);
		stats->indexed = sb_load64(hdr + SB_HDR_INDEXED);
		stats->distinct_keys = sb_load64(hdr + SB_HDR_DISTINCT);
		stats->file_size = sb_load64(hdr + SB_HDR_FILE_SIZE);
		stats->heap_bytes = w->merge ? w->merge->heap_len : sb_sink_size(&w->heap);
		stats->dedup_hits = w->dedup_hits;
		stats->dedup_saved = w->dedup_saved;
		stats->inline_area = w->row_size - w->fields_size;
		stats->inline_values = w->inline_values;
		stats->spill_runs = (uint32_t) w->sorter.nruns;
		stats->encoded_columns = w->encoded_columns;
	}
	return SB_OK;
}
