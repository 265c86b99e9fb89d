/*-------------------------------------------------------------------------
 *
 * sbmergeheap.c
 *	  The value heap of a merged bundle (see sbmerge.c).
 *
 * The merged heap is the base's, byte for byte, except that the values
 * only dropped rows used are zeroed (the format wants zeros where no value
 * is), followed by the new rows' values.  A value a kept row shares with a
 * dropped one (deduplication stores repeated values once) stays: the
 * kept rows' references to the heap are found with one pass over their
 * slots and a hash set of the dropped values' offsets.
 *
 * Most blocks of the heap come through unchanged, and their checksums are
 * copied from the base rather than computed again: a block damaged in the
 * base stays damaged, and readers of the new file find it as they would
 * have in the old.  Only the blocks where values are zeroed, and the last
 * one, are checked and checksummed anew.
 *
 *-------------------------------------------------------------------------
 */
#include "sbwriter_int.h"

#include <stdlib.h>

#define COPY_CHUNK	(1 << 20)
#define BLOCK		((uint64_t) 1 << SB_BLOCK_SHIFT)

/* A value's bytes [start, end) in the base's heap. */
typedef struct heap_value
{
	uint64_t	start;
	uint64_t	end;
	bool		shared;			/* a kept row uses it too */
} heap_value;

/* The dropped rows' values, and a set of their offsets to find them by. */
typedef struct dropped_values
{
	heap_value *v;
	size_t		n;
	size_t		cap;
	int64_t    *set;			/* index into v, or -1; open addressing */
	size_t		mask;
} dropped_values;

/* Start of the heap image a variable-length field refers to; false if none. */
static inline bool
field_heap_ref(const sb_bundle *b, const unsigned char *slot, int col,
			   uint64_t *ref)
{
	const unsigned char *f = slot + b->slot_offsets[col];

	if (b->columns[col].typlen != -1 || sb_slot_isnull(&b->info, slot, col))
		return false;
	if (b->encodings[col].width == 4)
	{
		uint32_t	r = sb_load32(f);

		*ref = r;
		return (r & SB_INLINE_REF4) == 0;
	}
	*ref = sb_load64(f);
	return (*ref & SB_INLINE_REF) == 0;
}

/* The slot of set entry for heap offset 'start'. */
static inline size_t
set_slot(const dropped_values *d, uint64_t start)
{
	size_t		i = (size_t) ((start * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & d->mask;

	while (d->set[i] >= 0 && d->v[d->set[i]].start != start)
		i = (i + 1) & d->mask;
	return i;
}

/* Add the heap values of dropped row r. */
static sb_status
add_dropped_row(sb_bundle *b, uint64_t r, dropped_values *d, sb_error *err)
{
	const unsigned char *slot;
	sb_status	st;

	if ((st = sb_row_checked(b, r, &slot, err)) != SB_OK)
		return st;
	for (int c = 0; c < b->ncolumns; c++)
	{
		sb_value	v;
		uint64_t	ref;

		if (!field_heap_ref(b, slot, c, &ref))
			continue;
		if ((st = sb_slot_value(b, slot, c, &v, err)) != SB_OK)
			return st;
		if (d->n == d->cap)
		{
			size_t		cap = d->cap ? 2 * d->cap : 256;
			heap_value *nv = realloc(d->v, cap * sizeof(heap_value));

			if (nv == NULL)
				return sb_fail(err, SB_ERR_NOMEM, "could not allocate heap values");
			d->v = nv;
			d->cap = cap;
		}
		d->v[d->n].start = ref;
		d->v[d->n].end = ref + v.len;
		d->v[d->n++].shared = false;
	}
	return SB_OK;
}

/* Put every dropped value in the set (a value met twice once). */
static sb_status
index_dropped(dropped_values *d, sb_error *err)
{
	size_t		size = 16;

	while (size < 2 * d->n)
		size *= 2;
	if ((d->set = malloc(size * sizeof(int64_t))) == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate heap values");
	memset(d->set, 0xFF, size * sizeof(int64_t));
	d->mask = size - 1;
	for (size_t i = 0; i < d->n; i++)
	{
		size_t		s = set_slot(d, d->v[i].start);

		if (d->set[s] < 0)
			d->set[s] = (int64_t) i;
		else
			d->v[i].shared = true;	/* the first copy decides */
	}
	return SB_OK;
}

/*
 * Mark the dropped values kept rows use too, in one pass over the kept
 * slots; *last gets the greatest heap offset a kept row refers to, or -1.
 */
static sb_status
mark_shared(sb_bundle *b, const sb_merge *m, dropped_values *d, int64_t *last,
			sb_error *err)
{
	*last = -1;
	for (uint64_t r = 0; r < b->row_count; r++)
	{
		const unsigned char *slot;
		sb_status	st;

		if ((m->dropped[r >> 6] >> (r & 63)) & 1)
			continue;
		if ((st = sb_row_checked(b, r, &slot, err)) != SB_OK)
			return st;
		for (int c = 0; c < b->ncolumns; c++)
		{
			uint64_t	ref;
			size_t		s;

			if (!field_heap_ref(b, slot, c, &ref))
				continue;
			if (ref >= b->heap_size)
				return sb_fail(err, SB_ERR_CORRUPT,
							   "row %llu refers to a value beyond the heap",
							   (unsigned long long) r);
			if ((int64_t) ref > *last)
				*last = (int64_t) ref;
			s = set_slot(d, ref);
			if (d->set[s] >= 0)
				d->v[d->set[s]].shared = true;
		}
	}
	return SB_OK;
}

/* Sort values by start, for qsort. */
static int
value_cmp(const void *a, const void *b)
{
	uint64_t	x = ((const heap_value *) a)->start,
				y = ((const heap_value *) b)->start;

	return x < y ? -1 : x > y;
}

/*
 * The values to zero, sorted (shared ones left out) and how many; and
 * *len, how much of the base's heap the merged one keeps: all of it, or,
 * when no new value follows, up to the end of the last value kept.
 */
static sb_status
values_to_zero(sb_writer *w, dropped_values *d, size_t *nzero, uint64_t *len,
			   sb_error *err)
{
	sb_merge   *m = w->merge;
	sb_bundle  *b = m->base;
	int64_t		last;
	sb_status	st;

	*nzero = 0;
	*len = b->heap_size;
	for (uint64_t r = 0; m->ndropped > 0 && r < b->row_count; r++)
		if (((m->dropped[r >> 6] >> (r & 63)) & 1) &&
			(st = add_dropped_row(b, r, d, err)) != SB_OK)
			return st;
	if (d->n == 0)
		return SB_OK;
	if ((st = index_dropped(d, err)) != SB_OK ||
		(st = mark_shared(b, m, d, &last, err)) != SB_OK)
		return st;
	for (size_t i = 0; i < d->n; i++)
		if (!d->v[i].shared)
			d->v[(*nzero)++] = d->v[i];
	qsort(d->v, *nzero, sizeof(heap_value), value_cmp);
	if (sb_sink_size(&w->heap) <= b->heap_size)
	{
		size_t		total = 0;

		/* the end of the last kept value (its image's size is checked) */
		if (last >= 0 && !sb_varlena_size(b->heap + last, b->heap_size - last, &total))
			return sb_fail(err, SB_ERR_CORRUPT, "a value of the base bundle's heap is invalid");
		*len = last >= 0 ? (uint64_t) last + total : 0;
	}
	return SB_OK;
}

/*
 * Write whole blocks [from, to) of the base's heap, unchanged, with the
 * base's checksums.
 */
static sb_status
copy_blocks(const sb_bundle *b, sb_sink *out, uint64_t from, uint64_t to,
			sb_error *err)
{
	sb_blocksums *blocks = out->blocks;
	sb_status	st;

	if (to <= from)
		return SB_OK;
	out->blocks = NULL;
	st = sb_sink_write(out, b->heap + from, to - from, err);
	out->blocks = blocks;
	if (st == SB_OK)
		sb_blocksums_push(blocks, (const uint32_t *) b->blocksums +
						  b->block_first[SB_REGION_HEAP] + (from >> SB_BLOCK_SHIFT),
						  (to - from) >> SB_BLOCK_SHIFT);
	return st;
}

/*
 * Write bytes [from, to) of the base's heap, checked, with the values
 * among z[0..nz) zeroed, checksumming them anew; *zi is the first value
 * that may meet the range, and moves on.
 */
static sb_status
write_zeroed(sb_bundle *b, sb_sink *out, uint64_t from, uint64_t to,
			 const heap_value *z, size_t nz, size_t *zi, unsigned char *buf,
			 sb_error *err)
{
	sb_status	st;

	if (to <= from)
		return SB_OK;
	if ((st = sb_check(b, SB_REGION_HEAP, from, to - from, err)) != SB_OK)
		return st;
	for (uint64_t at = from; at < to; at += COPY_CHUNK)
	{
		uint64_t	n = to - at < COPY_CHUNK ? to - at : COPY_CHUNK;

		memcpy(buf, b->heap + at, n);
		for (size_t i = *zi; i < nz && z[i].start < at + n; i++)
		{
			uint64_t	s = z[i].start > at ? z[i].start : at,
						e = z[i].end < at + n ? z[i].end : at + n;

			if (e > s)
				memset(buf + (s - at), 0, e - s);
		}
		while (*zi < nz && z[*zi].end <= at + n)
			(*zi)++;
		if ((st = sb_sink_write(out, buf, n, err)) != SB_OK)
			return st;
	}
	return SB_OK;
}

/*
 * Write the kept part of the base's heap, [0, len): each value to zero
 * makes its blocks be written anew; the blocks between are copied.
 */
static sb_status
write_base_heap(sb_bundle *b, sb_sink *out, uint64_t len, const heap_value *z,
				size_t nz, sb_error *err)
{
	bool		sums = b->blocksums != NULL && b->block_shift == SB_BLOCK_SHIFT;
	uint64_t	whole = sums ? len / BLOCK * BLOCK : 0,
				pos = 0;
	size_t		zi = 0;
	unsigned char *buf = malloc(COPY_CHUNK);
	sb_status	st = SB_OK;

	if (buf == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate a copy buffer");
	while (zi < nz && pos < whole && st == SB_OK)
	{
		uint64_t	ds = z[zi].start / BLOCK * BLOCK,
					de = (z[zi].end + BLOCK - 1) / BLOCK * BLOCK;

		if (ds >= whole)
			break;
		/* values whose blocks touch are written together */
		for (size_t j = zi + 1; j < nz && z[j].start < de; j++)
			de = (z[j].end + BLOCK - 1) / BLOCK * BLOCK;
		de = de < whole ? de : whole;
		if ((st = copy_blocks(b, out, pos, ds, err)) == SB_OK)
			st = write_zeroed(b, out, ds, de, z, nz, &zi, buf, err);
		pos = de;
	}
	if (st == SB_OK)
		st = copy_blocks(b, out, pos, whole > pos ? whole : pos, err);
	if (st == SB_OK)
		st = write_zeroed(b, out, whole > pos ? whole : pos, len, z, nz, &zi, buf, err);
	free(buf);
	return st;
}

/* Copy the new values from the temporary file to a sink. */
static sb_status
copy_new_values(sb_writer *w, sb_sink *out, sb_error *err)
{
	uint64_t	at = w->merge->base->heap_size,
				total = sb_sink_size(&w->heap);
	unsigned char *buf;
	sb_status	st;

	if (total <= at)
		return SB_OK;
	if ((st = sb_sink_flush(&w->heap, err)) != SB_OK)
		return st;
	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate a copy buffer");
	for (; at < total && st == SB_OK; at += COPY_CHUNK)
	{
		size_t		n = total - at < COPY_CHUNK ? (size_t) (total - at) : COPY_CHUNK;

		if ((st = sb_pread_all(w->merge->heap_fd, buf, n, at, err)) == SB_OK)
			st = sb_sink_write(out, buf, n, err);
	}
	free(buf);
	return st;
}

/*
 * Point the writer's heap at a temporary file for the new values: they
 * start where the base's heap ends, which finishing writes first.
 */
sb_status
sb_merge_open_heap(sb_writer *w, sb_error *err)
{
	sb_merge   *m = w->merge;
	sb_status	st;

	sb_sink_free(&w->heap);
	if ((st = sb_temp_open(w->temp_dir, &m->heap_fd, err)) != SB_OK ||
		(st = sb_sink_init(&w->heap, m->heap_fd, 0, COPY_CHUNK, false,
						   err)) != SB_OK)
		return st;
	w->heap.flushed = m->base->heap_size;
	return SB_OK;
}

/*
 * Write the merged heap at 'offset' into 'out' (set up here, with
 * checksums): the base's, dropped values zeroed, then the new values.
 */
sb_status
sb_merge_write_heap(sb_writer *w, uint64_t offset, sb_sink *out, sb_error *err)
{
	dropped_values d = {0};
	size_t		nzero = 0;
	uint64_t	len;
	sb_status	st;

	if ((st = values_to_zero(w, &d, &nzero, &len, err)) == SB_OK &&
		(st = sb_sink_init(out, w->fd, offset, COPY_CHUNK, true, err)) == SB_OK &&
		(st = sb_sink_track_blocks(out, err)) == SB_OK &&
		(st = write_base_heap(w->merge->base, out, len, d.v, nzero, err)) == SB_OK &&
		(st = copy_new_values(w, out, err)) == SB_OK)
		st = sb_sink_flush(out, err);
	free(d.v);
	free(d.set);
	return st;
}
