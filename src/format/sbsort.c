/*-------------------------------------------------------------------------
 *
 * sbsort.c
 *	  Sorting (hash, row) pairs within a memory budget.
 *
 * The index is the list of (key hash, row number) pairs sorted by hash,
 * then row.  Pairs arrive in row order.  They are collected in a buffer of
 * half the budget (the other half is scratch for the sort); a full buffer
 * is sorted and spilled to a temporary file as a run, and the runs are
 * merged at the end.  The in-memory sort is a stable LSD radix sort on the
 * top bits of the hash, which leaves groups of about one pair to finish;
 * stability keeps equal hashes in row order.
 *
 *-------------------------------------------------------------------------
 */
#include "sbsort.h"
#include "sbio.h"

#include <stdlib.h>
#include <unistd.h>

#define RADIX_BITS	12
#define MIN_PAIRS	1024

struct sb_run_reader
{
	sb_pair    *buf;
	size_t		cap;
	size_t		pos;
	size_t		len;
	uint64_t	next;			/* next pair of the run to read */
	uint64_t	end;			/* one past the run's last pair */
};

/* Order of two pairs: by hash, then by row. */
static inline bool
pair_less(const sb_pair *a, const sb_pair *b)
{
	return a->hash < b->hash || (a->hash == b->hash && a->row < b->row);
}

/* qsort comparator for pair_less. */
static int
pair_cmp(const void *a, const void *b)
{
	if (pair_less(a, b))
		return -1;
	return pair_less(b, a) ? 1 : 0;
}

/* Finish a group of pairs with equal top bits. */
static void
sort_group(sb_pair *a, size_t n)
{
	if (n > 32)
	{
		qsort(a, n, sizeof(sb_pair), pair_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++)
	{
		sb_pair		v = a[i];
		size_t		j = i;

		while (j > 0 && pair_less(&v, &a[j - 1]))
		{
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/*
 * Sort n pairs by (hash, row) in place, using 'scratch' (n pairs).  Input
 * in row order stays in row order among equal hashes.
 */
void
sb_sort_pairs(sb_pair *a, sb_pair *scratch, size_t n)
{
	unsigned	keybits = 2;
	unsigned	shift;
	sb_pair    *src = a,
			   *dst = scratch;
	size_t		start;

	/* nothing to sort; 'scratch' may be NULL when n is 0 */
	if (n < 2)
		return;
	while (keybits < 64 && (UINT64_C(1) << keybits) < (uint64_t) n * 4)
		keybits++;
	keybits = ((keybits + RADIX_BITS - 1) / RADIX_BITS) * RADIX_BITS;
	if (keybits > 64)
		keybits = 64;

	for (shift = 64 - keybits; shift < 64; shift += RADIX_BITS)
	{
		size_t		count[1 << RADIX_BITS] = {0};
		size_t		sum = 0;
		unsigned	bits = 64 - shift < RADIX_BITS ? 64 - shift : RADIX_BITS;
		uint64_t	mask = (UINT64_C(1) << bits) - 1;

		for (size_t i = 0; i < n; i++)
			count[(src[i].hash >> shift) & mask]++;
		for (size_t d = 0; d <= mask; d++)
		{
			size_t		c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].hash >> shift) & mask]++] = src[i];
		{
			sb_pair    *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != a)
		memcpy(a, src, n * sizeof(sb_pair));

	/* finish each group of equal top bits */
	start = 0;
	for (size_t i = 1; i <= n; i++)
	{
		if (i == n || (a[i].hash >> (64 - keybits)) !=
			(a[start].hash >> (64 - keybits)))
		{
			if (i - start > 1)
				sort_group(a + start, i - start);
			start = i;
		}
	}
}

/* Set up a sorter with 'budget' bytes of memory. */
sb_status
sb_sorter_init(sb_sorter *s, size_t budget, const char *temp_dir, sb_error *err)
{
	memset(s, 0, sizeof(*s));
	s->spill_fd = -1;
	s->budget = budget;
	s->temp_dir = temp_dir;
	s->cap = budget / (2 * sizeof(sb_pair));
	if (s->cap < MIN_PAIRS)
		s->cap = MIN_PAIRS;
	s->buf = malloc(s->cap * sizeof(sb_pair));
	if (s->buf == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate sort buffer of %zu pairs",
					   s->cap);
	return SB_OK;
}

/* Sort the buffer and append it to the spill file as a run. */
static sb_status
spill_run(sb_sorter *s, sb_error *err)
{
	sb_status	st;

	if (s->scratch == NULL &&
		(s->scratch = malloc(s->cap * sizeof(sb_pair))) == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate sort scratch");
	sb_sort_pairs(s->buf, s->scratch, s->n);
	if (s->spill_fd < 0 &&
		(st = sb_temp_open(s->temp_dir, &s->spill_fd, err)) != SB_OK)
		return st;
	if (s->nruns == s->maxruns)
	{
		int			m = s->maxruns ? s->maxruns * 2 : 16;
		uint64_t   *rs = realloc(s->run_start, m * sizeof(uint64_t));
		uint64_t   *rl;

		if (rs == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate run list");
		s->run_start = rs;
		rl = realloc(s->run_len, m * sizeof(uint64_t));
		if (rl == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate run list");
		s->run_len = rl;
		s->maxruns = m;
	}
	st = sb_pwrite_all(s->spill_fd, s->buf, s->n * sizeof(sb_pair),
					   s->spill_size * sizeof(sb_pair), err);
	if (st != SB_OK)
		return st;
	s->run_start[s->nruns] = s->spill_size;
	s->run_len[s->nruns] = s->n;
	s->nruns++;
	s->spill_size += s->n;
	s->n = 0;
	return SB_OK;
}

/* Add one pair; spills a run when the buffer is full. */
sb_status
sb_sorter_add(sb_sorter *s, uint64_t hash, uint64_t row, sb_error *err)
{
	if (s->n == s->cap)
	{
		sb_status	st = spill_run(s, err);

		if (st != SB_OK)
			return st;
	}
	s->buf[s->n].hash = hash;
	s->buf[s->n].row = row;
	s->n++;
	s->total++;
	return SB_OK;
}

/* Refill a run reader's buffer from the spill file. */
static sb_status
run_fill(sb_sorter *s, sb_run_reader *r, sb_error *err)
{
	uint64_t	left = r->end - r->next;
	size_t		n = left < r->cap ? (size_t) left : r->cap;
	sb_status	st;

	st = sb_pread_all(s->spill_fd, r->buf, n * sizeof(sb_pair),
					  r->next * sizeof(sb_pair), err);
	if (st != SB_OK)
		return st;
	r->next += n;
	r->pos = 0;
	r->len = n;
	return SB_OK;
}

/* Restore the min-heap property downward from position i. */
static void
heap_sift_down(sb_sorter *s, int i)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					m = i;

		if (l < s->heap_n &&
			pair_less(&s->readers[s->heap[l]].buf[s->readers[s->heap[l]].pos],
					  &s->readers[s->heap[m]].buf[s->readers[s->heap[m]].pos]))
			m = l;
		if (l + 1 < s->heap_n &&
			pair_less(&s->readers[s->heap[l + 1]].buf[s->readers[s->heap[l + 1]].pos],
					  &s->readers[s->heap[m]].buf[s->readers[s->heap[m]].pos]))
			m = l + 1;
		if (m == i)
			return;
		{
			int			t = s->heap[i];

			s->heap[i] = s->heap[m];
			s->heap[m] = t;
		}
		i = m;
	}
}

/* No more pairs: sort what is buffered and prepare to read in order. */
sb_status
sb_sorter_finish(sb_sorter *s, sb_error *err)
{
	sb_status	st;
	size_t		per_run;

	if (s->nruns == 0)
	{
		if (s->scratch == NULL && s->n > 0 &&
			(s->scratch = malloc(s->n * sizeof(sb_pair))) == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate sort scratch");
		sb_sort_pairs(s->buf, s->scratch, s->n);
		s->mem_pos = 0;
		return SB_OK;
	}
	if (s->n > 0 && (st = spill_run(s, err)) != SB_OK)
		return st;
	free(s->scratch);
	s->scratch = NULL;

	/* reuse the buffer memory for the run readers */
	s->readers = calloc(s->nruns, sizeof(sb_run_reader));
	s->heap = malloc(s->nruns * sizeof(int));
	if (s->readers == NULL || s->heap == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate merge state");
	per_run = s->cap / s->nruns;
	if (per_run < 256)
		per_run = 256;
	for (int i = 0; i < s->nruns; i++)
	{
		sb_run_reader *r = &s->readers[i];

		r->cap = per_run;
		r->buf = (i + 1) * per_run <= s->cap ? s->buf + i * per_run :
			malloc(per_run * sizeof(sb_pair));
		if (r->buf == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate run buffer");
		r->next = s->run_start[i];
		r->end = s->run_start[i] + s->run_len[i];
		if ((st = run_fill(s, r, err)) != SB_OK)
			return st;
		s->heap[s->heap_n++] = i;
	}
	for (int i = s->heap_n / 2 - 1; i >= 0; i--)
		heap_sift_down(s, i);
	return SB_OK;
}

/* Next pair in sorted order: 1 and *out, 0 at the end, or an error. */
int
sb_sorter_next(sb_sorter *s, sb_pair *out, sb_error *err)
{
	sb_run_reader *r;

	if (s->nruns == 0)
	{
		if (s->mem_pos >= s->n)
			return 0;
		*out = s->buf[s->mem_pos++];
		return 1;
	}
	if (s->heap_n == 0)
		return 0;
	r = &s->readers[s->heap[0]];
	*out = r->buf[r->pos++];
	if (r->pos == r->len)
	{
		if (r->next < r->end)
		{
			sb_status	st = run_fill(s, r, err);

			if (st != SB_OK)
				return st;
		}
		else
			s->heap[0] = s->heap[--s->heap_n];
	}
	if (s->heap_n > 0)
		heap_sift_down(s, 0);
	return 1;
}

/* Release the sorter's memory and spill file. */
void
sb_sorter_free(sb_sorter *s)
{
	if (s->readers)
	{
		for (int i = 0; i < s->nruns; i++)
		{
			sb_pair    *b = s->readers[i].buf;

			if (b && (b < s->buf || b >= s->buf + s->cap))
				free(b);
		}
	}
	free(s->readers);
	free(s->heap);
	free(s->buf);
	free(s->scratch);
	free(s->run_start);
	free(s->run_len);
	if (s->spill_fd >= 0)
		close(s->spill_fd);
	memset(s, 0, sizeof(*s));
	s->spill_fd = -1;
}
