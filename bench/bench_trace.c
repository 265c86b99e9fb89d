/*-------------------------------------------------------------------------
 *
 * bench_trace.c
 *	  Counting the cache lines a lookup touches.
 *
 * The build compiles src/format/sblookup.c a second time with
 * -DSB_TRACE_LINES and the public lookup functions renamed to sbt_*; that
 * copy reports every index read to sb_trace_touch, defined here, and so
 * does the seed's search in bench_sorted.c when asked.  Per lookup we
 * keep the distinct 64-byte lines (and 4 KiB pages) that fall inside the
 * index, the matched entry's row number included.  The row slot, the key
 * (text keys may live in the heap) and the value are counted separately
 * as data lines.
 *
 *-------------------------------------------------------------------------
 */
#include "bench.h"
#include "sbinternal.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_LINES	1024		/* distinct lines recorded per lookup */
#define HIST_SIZE	(MAX_LINES + 1)

/* The traced copy of the lookup functions. */
extern sb_status sbt_key_hash(const sb_bundle *b, const sb_key_part *parts,
							  uint64_t *hash, sb_error *err);
extern void sbt_lookup_start(const sb_bundle *b, const sb_key_part *parts,
							 uint64_t hash, sb_lookup *it);
extern int	sbt_lookup_next(sb_bundle *b, sb_lookup *it, uint64_t *row,
							sb_error *err);

/* Distinct items (line or page numbers) seen in one lookup. */
typedef struct line_set
{
	uintptr_t	item[MAX_LINES];
	int			n;
} line_set;

static struct
{
	uintptr_t	lo;				/* the index: [lo, hi) */
	uintptr_t	hi;
	line_set	lines;
	line_set	pages;
	uint64_t	reads;
} tr;

/* Add an item to a set unless it is there already. */
static void
set_add(line_set *s, uintptr_t v)
{
	for (int i = 0; i < s->n; i++)
		if (s->item[i] == v)
			return;
	if (s->n < MAX_LINES)
		s->item[s->n++] = v;
}

/* Add the lines (and pages) of [a, a + len) to the sets. */
static void
add_range(line_set *lines, line_set *pages, uintptr_t a, size_t len)
{
	if (len == 0)
		return;
	for (uintptr_t l = a >> 6; l <= (a + len - 1) >> 6; l++)
	{
		set_add(lines, l);
		if (pages)
			set_add(pages, l >> 6);
	}
}

/* Called by the traced lookup for every index read. */
void
sb_trace_touch(const void *p, size_t len)
{
	uintptr_t	a = (uintptr_t) p;

	if (a >= tr.lo && a < tr.hi)
	{
		tr.reads++;
		add_range(&tr.lines, &tr.pages, a, len);
	}
}

/* Mean, median, 99th percentile and maximum of a histogram. */
static void
hist_stats(const uint64_t *hist, uint64_t n, count_stats *out)
{
	uint64_t	seen = 0,
				sum = 0;
	bool		have50 = false,
				have99 = false;

	memset(out, 0, sizeof(*out));
	for (uint32_t v = 0; v < HIST_SIZE; v++)
	{
		if (hist[v] == 0)
			continue;
		seen += hist[v];
		sum += hist[v] * v;
		if (!have50 && seen * 2 >= n)
		{
			out->p50 = v;
			have50 = true;
		}
		if (!have99 && seen * 100 >= n * 99)
		{
			out->p99 = v;
			have99 = true;
		}
		out->max = v;
	}
	out->mean = n ? (double) sum / (double) n : 0;
}

/* Count into a histogram, capped at its last bucket. */
static inline void
hist_add(uint64_t *hist, uint64_t v)
{
	hist[v < HIST_SIZE ? v : HIST_SIZE - 1]++;
}

/* The distinct lines of row 'row''s slot and of its variable-length values. */
static int
data_lines(sb_bundle *b, uint64_t row, line_set *data)
{
	const unsigned char *slot;

	data->n = 0;
	if (sb_row_get(b, row, &slot, NULL) != SB_OK)
		die("traced lookup: no row %llu", (unsigned long long) row);
	add_range(data, NULL, (uintptr_t) slot, b->row_size);
	for (int col = 0; col < 2; col++)
	{
		sb_value	v;

		if (b->columns[col].typlen > 0)
			continue;			/* fixed-length: inside the slot */
		if (sb_slot_value(b, slot, col, &v, NULL) != SB_OK)
			die("traced lookup: invalid value");
		add_range(data, NULL, (uintptr_t) v.ptr, v.len);
	}
	return data->n;
}

/*
 * Run the probes through a traced index search over the 'len' bytes at
 * 'index', and collect, per lookup, the distinct index lines and pages,
 * the number of index reads, and the distinct lines of the row slot, key
 * and value of bundle b that it then reads.
 */
void
trace_index(sb_bundle *b, const void *index, size_t len, traced_find find,
			void *arg, const key_seq *q, trace_result *out)
{
	uint64_t   *hl = calloc(HIST_SIZE, sizeof(uint64_t)),
			   *hp = calloc(HIST_SIZE, sizeof(uint64_t)),
			   *hr = calloc(HIST_SIZE, sizeof(uint64_t)),
			   *hd = calloc(HIST_SIZE, sizeof(uint64_t));
	line_set   *data = malloc(sizeof(line_set));

	if (!hl || !hp || !hr || !hd || !data)
		die("out of memory");
	tr.lo = (uintptr_t) index;
	tr.hi = (uintptr_t) index + len;
	for (uint64_t i = 0; i < q->n; i++)
	{
		uint64_t	row;

		tr.lines.n = tr.pages.n = 0;
		tr.reads = 0;
		row = find(arg, q, i);
		hist_add(hl, (uint64_t) tr.lines.n);
		hist_add(hp, (uint64_t) tr.pages.n);
		hist_add(hr, tr.reads);
		hist_add(hd, (uint64_t) data_lines(b, row, data));
	}
	hist_stats(hl, q->n, &out->index_lines);
	hist_stats(hp, q->n, &out->index_pages);
	hist_stats(hr, q->n, &out->index_reads);
	hist_stats(hd, q->n, &out->data_lines);
	free(hl);
	free(hp);
	free(hr);
	free(hd);
	free(data);
}

/* A traced line-index lookup of key i of q; its row. */
static uint64_t
lines_traced(void *arg, const key_seq *q, uint64_t i)
{
	sb_bundle  *b = arg;
	sb_key_part part = {0};
	sb_lookup	it;
	uint64_t	h,
				row;

	bench_key_part(q, i, &part);
	if (sbt_key_hash(b, &part, &h, NULL) != SB_OK)
		die("sb_key_hash failed");
	sbt_lookup_start(b, &part, h, &it);
	if (sbt_lookup_next(b, &it, &row, NULL) != 1)
		die("traced lookup: key %llu not found", (unsigned long long) i);
	return row;
}

/* Count the index lines each line-index lookup of q reads. */
void
trace_lookups(sb_bundle *b, const key_seq *q, trace_result *out)
{
	trace_index(b, b->entries, b->entries_size, lines_traced, b, q, out);
}
