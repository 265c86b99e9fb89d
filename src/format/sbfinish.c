/*-------------------------------------------------------------------------
 *
 * sbfinish.c
 *	  Completing a bundle: row slots, the index, metadata and the header.
 *
 * The bucketed index (SB_INDEX_BUCKETED) has 2^b buckets chosen by the top
 * b bits of the key hash, about 8 to 16 entries per bucket.  Entries are
 * (fingerprint, row) pairs sorted by hash: the fingerprint is the 16 hash
 * bits after the bucket bits (32 for an approximate bundle).  The directory
 * gives each bucket's first entry; it is stored in 64-byte lines of 16
 * 32-bit slots, 15 buckets a line plus the start of the next bucket, so a
 * bucket's bounds never straddle two cache lines.  The sorted index
 * (SB_INDEX_SORTED) is the seed library's: (hash, row) pairs, 16 bytes
 * each, and no directory.
 *
 * The line index (SB_INDEX_LINES, the default) is a hash table of 64-byte
 * lines, each holding up to 10 (fingerprint, row) entries; the top 32
 * bits of the hash, scaled to the number of home lines, give the line an
 * entry belongs to.  Entries are placed in hash order, each in its home
 * line or, when that is full, in the first line after it with room, so a
 * lookup reads its home line and only rarely the next.
 *
 *-------------------------------------------------------------------------
 */
#include "sbwriter_int.h"

#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#define SINK_BUFFER		(1 << 20)

/* Where each section goes, and what it holds. */
typedef struct section_plan
{
	uint32_t	kind;
	uint64_t	offset;
	uint64_t	length;
	uint64_t	checksum;
} section_plan;

/* Writes the bucket directory one 64-byte line at a time. */
typedef struct dir_writer
{
	sb_sink		sink;
	uint32_t	line[SB_DIR_LINE_SLOTS];
	int			fill;
} dir_writer;

/* Writes the line index one 64-byte line at a time. */
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

/* Mark the writer failed after an error in finishing. */
static sb_status
writer_failed_finish(sb_writer *w, sb_status st)
{
	w->failed = true;
	return st;
}

/* Choose the number of bucket bits for n entries: 8 to 16 per bucket. */
static unsigned
choose_bucket_bits(uint64_t n)
{
	unsigned	bits = 0;

	while (bits < SB_MAX_BUCKET_BITS && (n >> (bits + 4)) > 0)
		bits++;
	return bits;
}

/* Add the start of the next bucket to the directory. */
static sb_status
dir_push(dir_writer *d, uint32_t start, sb_error *err)
{
	if (d->fill == SB_DIR_LINE_BUCKETS)
	{
		sb_status	st;

		d->line[SB_DIR_LINE_BUCKETS] = start;
		if ((st = sb_sink_write(&d->sink, d->line, sizeof(d->line), err)) != SB_OK)
			return st;
		d->fill = 0;
	}
	d->line[d->fill++] = start;
	return SB_OK;
}

/* Close the last directory line, filling unused slots with 'n'. */
static sb_status
dir_close(dir_writer *d, uint32_t n, sb_error *err)
{
	while (d->fill < SB_DIR_LINE_SLOTS)
		d->line[d->fill++] = n;
	return sb_sink_write(&d->sink, d->line, sizeof(d->line), err);
}

/* Emit the bucketed index from the sorted pairs. */
static sb_status
emit_bucketed(sb_writer *w, sb_sink *entries, dir_writer *dir,
			  unsigned bucket_bits, unsigned fp_bytes, uint64_t *distinct,
			  uint64_t *max_bucket, sb_error *err)
{
	uint64_t	nbuckets = UINT64_C(1) << bucket_bits;
	uint64_t	next_bucket = 0,
				i = 0,
				bucket_start = 0;
	uint64_t	prev = 0;
	sb_pair		p;
	int			r;
	sb_status	st;

	while ((r = sb_sorter_next(&w->sorter, &p, err)) == 1)
	{
		uint64_t	b = sb_hash_bucket(p.hash, bucket_bits);
		unsigned char e[8];

		if (b >= next_bucket && i - bucket_start > *max_bucket)
			*max_bucket = i - bucket_start;
		while (next_bucket <= b)
		{
			if ((st = dir_push(dir, (uint32_t) i, err)) != SB_OK)
				return st;
			next_bucket++;
			bucket_start = i;
		}
		if (fp_bytes == 2)
			sb_store16(e, (uint16_t) sb_hash_fingerprint(p.hash, bucket_bits, 2));
		else
			sb_store32(e, sb_hash_fingerprint(p.hash, bucket_bits, 4));
		sb_store32(e + fp_bytes, (uint32_t) p.row);
		if ((st = sb_sink_write(entries, e, fp_bytes + 4, err)) != SB_OK)
			return st;
		*distinct += (i == 0 || p.hash != prev);
		prev = p.hash;
		i++;
	}
	if (r < 0)
		return (sb_status) r;
	if (i - bucket_start > *max_bucket)
		*max_bucket = i - bucket_start;
	for (; next_bucket < nbuckets; next_bucket++)
		if ((st = dir_push(dir, (uint32_t) i, err)) != SB_OK)
			return st;
	return dir_close(dir, (uint32_t) i, err);
}

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
 * Emit the line index from the sorted pairs; *nlines gets the number of
 * lines written and *max_run the most lines one home line's entries span.
 */
static sb_status
emit_lines(sb_writer *w, sb_sink *entries, uint64_t home_lines,
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
	while ((r = sb_sorter_next(&w->sorter, &p, err)) == 1)
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

/* Emit the sorted (seed) index from the sorted pairs. */
static sb_status
emit_sorted(sb_writer *w, sb_sink *entries, uint64_t *distinct, sb_error *err)
{
	sb_pair		p;
	uint64_t	prev = 0,
				i = 0;
	int			r;
	sb_status	st;

	while ((r = sb_sorter_next(&w->sorter, &p, err)) == 1)
	{
		if ((st = sb_sink_write(entries, &p, sizeof(p), err)) != SB_OK)
			return st;
		*distinct += (i == 0 || p.hash != prev);
		prev = p.hash;
		i++;
	}
	return r < 0 ? (sb_status) r : SB_OK;
}

/*
 * Write the index sections after the rows; fills in the plans, and hands
 * over the block checksums of the directory and entries.
 */
static sb_status
write_index(sb_writer *w, uint64_t start, section_plan *dirp,
			section_plan *entp, unsigned char *hdr, sb_blocksums **blocks,
			sb_error *err)
{
	uint64_t	n = w->sorter.total;
	unsigned	bucket_bits = 0,
				fp_bytes = 0,
				esize = SB_SORTED_ENTRY_SIZE;
	uint64_t	distinct = 0,
				max_bucket = 0,
				home_lines = 0,
				nlines = 0;
	sb_sink		entries;
	dir_writer	dir;
	sb_status	st;

	memset(&dir, 0, sizeof(dir));
	if ((st = sb_sorter_finish(&w->sorter, err)) != SB_OK)
		return st;
	dirp->offset = start;
	if (w->index_kind == SB_INDEX_BUCKETED)
	{
		bucket_bits = choose_bucket_bits(n);
		fp_bytes = w->approximate ? 4 : 2;
		esize = fp_bytes + 4;
		dirp->length = sb_dir_lines(bucket_bits) * SB_DIR_LINE_BYTES;
	}
	else if (w->index_kind == SB_INDEX_LINES)
	{
		fp_bytes = w->approximate ? 4 : 2;
		home_lines = sb_line_home_count(n, fp_bytes);
	}
	entp->offset = sb_align_up(dirp->offset + dirp->length, w->section_align);
	entp->length = n * esize;

	if ((st = sb_sink_init(&entries, w->fd, entp->offset, SINK_BUFFER, true,
						   err)) != SB_OK)
		return st;
	if ((st = sb_sink_track_blocks(&entries, err)) != SB_OK)
	{
		sb_sink_free(&entries);
		return st;
	}
	if (w->index_kind == SB_INDEX_BUCKETED)
	{
		if ((st = sb_sink_init(&dir.sink, w->fd, dirp->offset, SINK_BUFFER,
							   true, err)) == SB_OK &&
			(st = sb_sink_track_blocks(&dir.sink, err)) == SB_OK)
			st = emit_bucketed(w, &entries, &dir, bucket_bits, fp_bytes,
							   &distinct, &max_bucket, err);
		if (st == SB_OK && (st = sb_sink_flush(&dir.sink, err)) == SB_OK)
			dirp->checksum = sb_checksum_final(dir.sink.ck);
		blocks[0] = dir.sink.blocks;
		dir.sink.blocks = NULL;
		sb_sink_free(&dir.sink);
	}
	else if (w->index_kind == SB_INDEX_LINES)
	{
		st = emit_lines(w, &entries, home_lines, fp_bytes, &distinct,
						&max_bucket, &nlines, err);
		entp->length = nlines * SB_LINE_BYTES;
	}
	else
		st = emit_sorted(w, &entries, &distinct, err);
	if (st == SB_OK && (st = sb_sink_flush(&entries, err)) == SB_OK)
		entp->checksum = sb_checksum_final(entries.ck);
	blocks[1] = entries.blocks;
	entries.blocks = NULL;
	sb_sink_free(&entries);

	hdr[SB_HDR_BUCKET_BITS] = (unsigned char) bucket_bits;
	hdr[SB_HDR_FP_BYTES] = (unsigned char) fp_bytes;
	sb_store64(hdr + SB_HDR_INDEXED, n);
	sb_store64(hdr + SB_HDR_DISTINCT, distinct);
	sb_store64(hdr + SB_HDR_MAX_BUCKET, max_bucket);
	sb_store64(hdr + SB_HDR_HOME_LINES, home_lines);
	return st;
}

/*
 * Write the block checksums of the rows, heap, directory and entries, in
 * that order, at 'offset'; fills in the plan.
 */
static sb_status
write_blocksums(sb_writer *w, sb_blocksums *const *acc, uint64_t offset,
				section_plan *plan, sb_error *err)
{
	sb_checksum_state *ck = sb_checksum_create();
	uint64_t	pos = offset;
	sb_status	st = SB_OK;

	if (ck == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate checksum state");
	plan->offset = offset;
	for (int i = 0; i < 4 && st == SB_OK; i++)
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
		st = sb_pwrite_all(w->fd, acc[i]->sums, len, pos, err);
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
	/* the lowest major that describes the file, for the widest readership */
	sb_store16(hdr + SB_HDR_MAJOR, w->hashed_key ? 4 :
			   w->index_kind == SB_INDEX_LINES ? 3 : w->inline_values > 0 ? 2 : 1);
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
	sb_store32(hdr + SB_HDR_INDEX_KIND, (uint32_t) w->index_kind);
	sb_store64(hdr + SB_HDR_HASH_SEED, w->seed);
	hdr[SB_HDR_MAXALIGN] = 8;
	hdr[SB_HDR_BLOCK_SHIFT] = SB_BLOCK_SHIFT;
	sb_store32(hdr + SB_HDR_PG_MAJOR, w->pg_major);
	sb_store64(hdr + SB_HDR_BUILD_TIME,
			   (uint64_t) tv.tv_sec * 1000000 + (uint64_t) tv.tv_usec);
}

/* Write the header and section table at offset 0. */
static sb_status
write_header(sb_writer *w, unsigned char *hdr, const section_plan *plans,
			 sb_error *err)
{
	for (uint32_t i = 0; i < w->nsections; i++)
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
	sb_store64(hdr + SB_HDR_CHECKSUM, sb_checksum(hdr, w->header_size));
	return sb_pwrite_all(w->fd, hdr, w->header_size, 0, err);
}

/*
 * Place the heap and the rows: the stream that went to the output file
 * stays where it is, the one in the temporary file is copied after it.
 */
static sb_status
place_streams(sb_writer *w, section_plan *heap, section_plan *rows,
			  sb_error *err)
{
	bool		rows_first = sb_rows_first(w);
	sb_sink    *first = rows_first ? &w->rows : &w->heap,
			   *second = rows_first ? &w->heap : &w->rows;
	section_plan *fp = rows_first ? rows : heap,
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
	section_plan plans[7];
	static const uint32_t kinds[7] = {
		SB_SECTION_SCHEMA, SB_SECTION_META, SB_SECTION_HEAP,
		SB_SECTION_ROWS, SB_SECTION_ENTRIES, SB_SECTION_BLOCKSUMS,
		SB_SECTION_DIRECTORY};
	sb_blocksums *index_blocks[2] = {NULL, NULL};
	sb_blocksums *blocks[4];
	sb_status	st;
	uint64_t	end,
				file_size;

	memset(plans, 0, sizeof(plans));
	for (int i = 0; i < 7; i++)
		plans[i].kind = kinds[i];
	plans[0].offset = w->schema_off;
	plans[0].length = w->schema_len;
	plans[0].checksum = sb_checksum(w->schema, w->schema_len);

	if ((st = place_streams(w, &plans[2], &plans[3], err)) != SB_OK)
		return st;
	end = sb_rows_first(w) ? plans[2].offset + plans[2].length :
		plans[3].offset + plans[3].length;
	st = write_index(w, sb_align_up(end, w->section_align),
					 &plans[6], &plans[4], hdr, index_blocks, err);
	if (st == SB_OK)
	{
		blocks[SB_REGION_ROWS] = w->rows.blocks;
		blocks[SB_REGION_HEAP] = w->heap.blocks;
		blocks[SB_REGION_DIRECTORY] = index_blocks[0];
		blocks[SB_REGION_ENTRIES] = index_blocks[1];
		st = write_blocksums(w, blocks,
							 sb_align_up(plans[4].offset + plans[4].length,
										 SB_SECTION_ALIGN),
							 &plans[5], err);
	}
	sb_blocksums_free(index_blocks[0]);
	sb_blocksums_free(index_blocks[1]);
	if (st != SB_OK)
		return st;

	plans[1].offset = sb_align_up(plans[5].offset + plans[5].length,
								  SB_SECTION_ALIGN);
	plans[1].length = w->meta_len;
	plans[1].checksum = sb_checksum(w->meta, w->meta_len);
	if ((st = sb_pwrite_all(w->fd, w->meta, w->meta_len, plans[1].offset,
							err)) != SB_OK)
		return st;
	file_size = plans[1].offset + plans[1].length;
	if (ftruncate(w->fd, (off_t) file_size) != 0)
		return sb_fail_errno(err, "could not set the size of \"%s\"", w->path);

	fill_header(w, hdr, file_size);
	if ((st = write_header(w, hdr, plans, err)) != SB_OK)
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
	unsigned char hdr[SB_HEADER_FIXED + 7 * SB_SECTION_ENTRY];
	sb_status	st;

	if (w->failed || w->in_row || w->finished)
		return sb_fail(err, SB_ERR_STATE, "the writer cannot finish in this state");
	memset(hdr, 0, sizeof(hdr));
	if ((st = sb_inline_start(w, err)) != SB_OK ||
		(st = finish_file(w, hdr, err)) != SB_OK)
		return writer_failed_finish(w, st);
	if (close(w->fd) != 0)
	{
		w->fd = -1;
		return writer_failed_finish(w, sb_fail_errno(err, "could not close file \"%s\"",
													 w->path));
	}
	w->fd = -1;
	w->finished = true;
	if (stats)
	{
		memset(stats, 0, sizeof(*stats));
		stats->rows = w->nrows;
		stats->indexed = sb_load64(hdr + SB_HDR_INDEXED);
		stats->distinct_keys = sb_load64(hdr + SB_HDR_DISTINCT);
		stats->file_size = sb_load64(hdr + SB_HDR_FILE_SIZE);
		stats->heap_bytes = sb_sink_size(&w->heap);
		stats->dedup_hits = w->dedup_hits;
		stats->dedup_saved = w->dedup_saved;
		stats->inline_area = w->row_size - w->fields_size;
		stats->inline_values = w->inline_values;
		stats->spill_runs = (uint32_t) w->sorter.nruns;
	}
	return SB_OK;
}
