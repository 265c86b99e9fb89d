/*-------------------------------------------------------------------------
 *
 * bench_sorted.c
 *	  The seed library's sorted search, kept in the benchmark for comparison.
 *
 * The seed's index was an array of (hash, row) pairs, 16 bytes each,
 * sorted by hash and searched by an interpolation guess, exponential steps
 * of 32, 64, ... entries, then a binary search.  The bundle format no
 * longer has it; this store builds the same array in memory from the keys
 * of the line-index bundle, hashed by that bundle's key hash, and searches
 * it the same way.  A candidate's row, key check and value come from the
 * line-index bundle through the same calls as a line-index lookup, so the
 * two differ only in how they find the row.
 *
 *-------------------------------------------------------------------------
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

/* One entry of the seed's index. */
typedef struct seed_entry
{
	uint64_t	hash;
	uint64_t	row;
} seed_entry;

typedef struct sorted_priv
{
	store	   *base;			/* the line-index bundle store */
	seed_entry *e;				/* sorted by (hash, row) */
	uint64_t	n;
} sorted_priv;

/* qsort comparator: entries by hash, then row. */
static int
entry_cmp(const void *a, const void *b)
{
	const seed_entry *x = a,
			   *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* The bundle of the line-index store the search reads rows from. */
static inline sb_bundle *
base_bundle(const sorted_priv *p)
{
	return store_bundle_handle(p->base);
}

/* Hash of entry i; a traced search reports the read. */
static inline uint64_t
entry_hash(const sorted_priv *p, uint64_t i, bool trace)
{
	if (trace)
		sb_trace_touch(&p->e[i].hash, sizeof(uint64_t));
	return p->e[i].hash;
}

/* First entry of [lo, hi) whose hash is >= h. */
static inline uint64_t
lower_bound(const sorted_priv *p, uint64_t lo, uint64_t hi, uint64_t h,
			bool trace)
{
	while (lo < hi)
	{
		uint64_t	mid = lo + (hi - lo) / 2;

		if (entry_hash(p, mid, trace) < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The seed's search for the first entry whose hash is >= h (n if there is
 * none): interpolate, step exponentially, then bisect.
 */
static inline uint64_t
seed_search(const sorted_priv *p, uint64_t h, bool trace)
{
	uint64_t	n = p->n,
				mid,
				lo,
				hi,
				step = 32;

	if (n == 0 || h < entry_hash(p, 0, trace) || h > entry_hash(p, n - 1, trace))
		return n;
	mid = ((h >> 32) * n) >> 32;
	if (mid >= n)
		mid = n - 1;
	if (entry_hash(p, mid, trace) < h)
	{
		lo = mid + 1;
		hi = n;
		for (uint64_t i = mid + step; i < n; step *= 2, i = mid + step)
		{
			if (entry_hash(p, i, trace) >= h)
			{
				hi = i + 1;
				break;
			}
			lo = i + 1;
		}
	}
	else
	{
		lo = 0;
		hi = mid + 1;
		for (uint64_t i = mid; i >= step; step *= 2)
		{
			if (entry_hash(p, i - step, trace) < h)
			{
				lo = i - step + 1;
				break;
			}
			hi = i - step + 1;
		}
	}
	return lower_bound(p, lo, hi, h, trace);
}

/* Does the row hold key i of q?  *slot gets the row's slot. */
static inline bool
row_holds_key(sb_bundle *b, uint64_t row, const key_seq *q, uint64_t i,
			  const unsigned char **slot)
{
	size_t		klen,
				hl;
	const void *key = seq_key(q, i, &klen);
	sb_value	k;

	if (sb_row_get(b, row, slot, NULL) != SB_OK || !bundle_read(b, *slot, 0, &k))
		die("sorted search: no row %llu", (unsigned long long) row);
	hl = q->type == KEYS_INT8 ? 0 : sb_varlena_header_size(k.ptr);
	return k.len - hl == klen && memcmp(k.ptr + hl, key, klen) == 0;
}

/*
 * Look up key i of q up to 'stage' (1 the hash, 2 also the search, 3 also
 * the row's key check); returns what the stage computed, and the row's
 * slot from stage 3 on.
 */
static inline uint64_t
sorted_find(const sorted_priv *p, const key_seq *q, uint64_t i, int stage,
			bool trace, const unsigned char **slot)
{
	sb_bundle  *b = base_bundle(p);
	sb_key_part part;
	uint64_t	h,
				pos;

	memset(&part, 0, sizeof(part));
	bench_key_part(q, i, &part);
	if (sb_key_hash(b, &part, &h, NULL) != SB_OK)
		die("sb_key_hash failed");
	if (stage == 1)
		return h;
	pos = seed_search(p, h, trace);
	if (stage == 2)
		return pos;
	for (; pos < p->n && entry_hash(p, pos, trace) == h; pos++)
	{
		if (trace)
			sb_trace_touch(&p->e[pos].row, sizeof(uint64_t));
		if (row_holds_key(b, p->e[pos].row, q, i, slot))
			return p->e[pos].row;
	}
	die("sorted search: key %llu of the sequence not found",
		(unsigned long long) i);
}

/* Hash every key of the line-index bundle and sort the pairs: the index. */
static void
sorted_build(store *s, const dataset *d, const char *prefix)
{
	sorted_priv *p = s->priv;
	sb_bundle  *b = base_bundle(p);
	double		t0 = now_sec();

	(void) prefix;
	if (b == NULL)
		die("the sorted search needs the line-index bundle");
	p->n = d->n;
	p->e = malloc(d->n * sizeof(seed_entry));
	if (p->e == NULL)
		die("out of memory");
	for (uint64_t i = 0; i < d->n; i++)
	{
		sb_key_part part = {0};

		bench_key_part(&d->all, i, &part);
		if (sb_key_hash(b, &part, &p->e[i].hash, NULL) != SB_OK)
			die("sb_key_hash failed");
		p->e[i].row = i;		/* the bundle's rows are in key-number order */
	}
	qsort(p->e, p->n, sizeof(seed_entry), entry_cmp);
	s->info.build_sec = now_sec() - t0;
	s->info.file_bytes = 0;
	s->info.index_bytes = d->n * sizeof(seed_entry);
	snprintf(s->info.note, sizeof(s->info.note),
			 "(hash, row) pairs of 16 B in memory, hashed and sorted from the "
			 "line-index bundle, whose rows and values it reads");
}

/* Nothing to open: the array is in memory. */
static void
sorted_open(store *s, const dataset *d)
{
	(void) s;
	(void) d;
}

/* The full lookup: search, key check, value read. */
static uint64_t
sorted_lookup(store *s, const key_seq *q)
{
	const sorted_priv *p = s->priv;
	sb_bundle  *b = base_bundle(p);
	uint64_t	sum = 0;

	for (uint64_t i = 0; i < q->n; i++)
	{
		const unsigned char *slot;
		sb_value	v;

		sorted_find(p, q, i, 3, false, &slot);
		if (sb_slot_value(b, slot, 1, &v, NULL) != SB_OK)
			die("sorted search: invalid value");
		sum += bundle_value_fold(&v);
	}
	return sum;
}

/* The lookup cut short after a stage (see sorted_find; 4 is all of it). */
uint64_t
sorted_stage_lookup(store *s, const key_seq *q, int stage)
{
	const sorted_priv *p = s->priv;
	uint64_t	sum = 0;

	if (stage >= 4)
		return sorted_lookup(s, q);
	for (uint64_t i = 0; i < q->n; i++)
	{
		const unsigned char *slot;

		sum += sorted_find(p, q, i, stage, false, &slot);
	}
	return sum;
}

/* A traced search for key i: reports the entries it reads; its row. */
static uint64_t
sorted_traced(void *arg, const key_seq *q, uint64_t i)
{
	const unsigned char *slot;

	return sorted_find(arg, q, i, 3, true, &slot);
}

/* Count the cache lines of the array each lookup of q reads. */
void
trace_sorted(store *s, const key_seq *q, trace_result *out)
{
	sorted_priv *p = s->priv;

	trace_index(base_bundle(p), p->e, p->n * sizeof(seed_entry),
				sorted_traced, p, q, out);
}

/* Free the array. */
static void
sorted_close(store *s)
{
	sorted_priv *p = s->priv;

	free(p->e);
	p->e = NULL;
}

/* No file to remove. */
static void
sorted_remove(store *s)
{
	(void) s;
}

/* Set up the seed's search over the line-index bundle store 'base'. */
void
store_sorted_init(store *s, store *base)
{
	sorted_priv *p = calloc(1, sizeof(sorted_priv));

	if (p == NULL)
		die("out of memory");
	memset(s, 0, sizeof(*s));
	p->base = base;
	s->priv = p;
	s->name = "sorted search (seed)";
	s->tag = "sorted";
	s->build = sorted_build;
	s->open = sorted_open;
	s->lookup = sorted_lookup;
	s->close = sorted_close;
	s->remove = sorted_remove;
}
