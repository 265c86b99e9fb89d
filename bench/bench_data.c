/*-------------------------------------------------------------------------
 *
 * bench_data.c
 *	  Dataset generation, key sorting and small utilities of format_bench.
 *
 * Everything is derived from one seed with splitmix64, so every run and
 * every store sees the same keys, values and probe sequence.  int8 keys
 * are a bijective mix of the key number, hence distinct; text keys are 32
 * random characters of a 64-letter alphabet (192 random bits each).
 * Values are 80 to 120 random printable bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Print a message and exit with failure. */
void
die(const char *fmt,...)
{
	va_list		ap;

	fputs("format_bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Allocate or die. */
static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

/* splitmix64's output function: a bijection of 64-bit integers. */
static inline uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Next number of a splitmix64 sequence. */
uint64_t
splitmix64(uint64_t *state)
{
	*state += UINT64_C(0x9E3779B97F4A7C15);
	return mix64(*state);
}

/* Uniform integer in [0, n). */
static inline uint64_t
below(uint64_t *state, uint64_t n)
{
	return (uint64_t) (((unsigned __int128) splitmix64(state) * n) >> 64);
}

/* Fill 'len' bytes with letters of the alphabet. */
static void
random_text(uint64_t *state, unsigned char *p, size_t len)
{
	uint64_t	r = 0;
	int			left = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (left == 0)
		{
			r = splitmix64(state);
			left = 10;
		}
		p[i] = (unsigned char) alphabet[r & 63];
		r >>= 6;
		left--;
	}
}

/*
 * Generate n keys with their values, and nprobe uniformly random probes
 * of present keys.  Separate streams of the seed make the values and the
 * probes independent of the key type.
 */
void
dataset_generate(dataset *d, key_type type, uint64_t n, uint64_t nprobe,
				 uint64_t seed)
{
	uint64_t	ks = mix64(seed ^ 1),
				vs = mix64(seed ^ 2),
				ps = mix64(seed ^ 3);
	uint64_t	total = 0;

	if (n == 0 || n > UINT32_MAX)
		die("the number of keys must be 1 to %u", UINT32_MAX);
	memset(d, 0, sizeof(*d));
	d->type = type;
	d->n = n;
	d->nprobe = nprobe;
	if (type == KEYS_INT8)
	{
		d->ikeys = xmalloc(n * sizeof(int64_t));
		for (uint64_t i = 0; i < n; i++)
			d->ikeys[i] = (int64_t) mix64(i + ks);
		d->key_bytes = n * sizeof(int64_t);
	}
	else
	{
		d->tkeys = xmalloc(n * TEXT_KEY_LEN);
		random_text(&ks, (unsigned char *) d->tkeys, n * TEXT_KEY_LEN);
		d->key_bytes = n * TEXT_KEY_LEN;
	}

	d->voff = xmalloc((n + 1) * sizeof(uint64_t));
	for (uint64_t i = 0; i < n; i++)
	{
		d->voff[i] = total;
		total += VALUE_MIN + below(&vs, VALUE_MAX - VALUE_MIN + 1);
	}
	d->voff[n] = total;
	d->value_bytes = total;
	d->vals = xmalloc(total);
	random_text(&vs, d->vals, total);

	d->probe = xmalloc(nprobe * sizeof(uint32_t));
	for (uint64_t i = 0; i < nprobe; i++)
		d->probe[i] = (uint32_t) below(&ps, n);
	d->all.type = d->probes.type = type;
	d->all.n = n;
	d->probes.n = nprobe;
	d->probes.numbers = d->probe;
	if (type == KEYS_INT8)
	{
		d->probe_ikeys = xmalloc(nprobe * sizeof(int64_t));
		for (uint64_t i = 0; i < nprobe; i++)
			d->probe_ikeys[i] = d->ikeys[d->probe[i]];
		d->all.ikeys = d->ikeys;
		d->probes.ikeys = d->probe_ikeys;
	}
	else
	{
		d->probe_tkeys = xmalloc(nprobe * TEXT_KEY_LEN);
		for (uint64_t i = 0; i < nprobe; i++)
			memcpy(d->probe_tkeys + i * TEXT_KEY_LEN,
				   d->tkeys + (uint64_t) d->probe[i] * TEXT_KEY_LEN, TEXT_KEY_LEN);
		d->all.tkeys = d->tkeys;
		d->probes.tkeys = d->probe_tkeys;
	}

	for (uint64_t i = 0; i < n; i++)
	{
		size_t		len;
		const unsigned char *v = ds_value(d, i, &len);

		d->all_sum += fold_bytes(v, len);
	}
	for (uint64_t i = 0; i < nprobe; i++)
	{
		size_t		len;
		const unsigned char *v = ds_value(d, d->probe[i], &len);

		d->probe_sum += fold_bytes(v, len);
	}
	if (n % 1000000 == 0)
		snprintf(d->name, sizeof(d->name), "%s %lluM",
				 type == KEYS_INT8 ? "int8" : "text",
				 (unsigned long long) (n / 1000000));
	else
		snprintf(d->name, sizeof(d->name), "%s %llu",
				 type == KEYS_INT8 ? "int8" : "text", (unsigned long long) n);
}

/* Release a dataset's arrays. */
void
dataset_free(dataset *d)
{
	free(d->ikeys);
	free(d->tkeys);
	free(d->vals);
	free(d->voff);
	free(d->probe);
	free(d->probe_ikeys);
	free(d->probe_tkeys);
	memset(d, 0, sizeof(*d));
}

/* A key number with the 64-bit sort prefix of its key. */
typedef struct sort_item
{
	uint64_t	prefix;
	uint32_t	idx;
} sort_item;

/* The sort prefix of key i: the unsigned int8, or the text's first 8 bytes. */
static inline uint64_t
sort_prefix(const dataset *d, uint64_t i)
{
	if (d->type == KEYS_INT8)
		return (uint64_t) d->ikeys[i];
	return __builtin_bswap64(*(const uint64_t *) (d->tkeys + i * TEXT_KEY_LEN));
}

/* Are text keys a and b in memcmp order? */
static inline bool
text_less(const dataset *d, uint32_t a, uint32_t b)
{
	return memcmp(d->tkeys + (uint64_t) a * TEXT_KEY_LEN,
				  d->tkeys + (uint64_t) b * TEXT_KEY_LEN, TEXT_KEY_LEN) < 0;
}

/*
 * Key numbers in the order LMDB keeps them: int8 keys as unsigned native
 * integers (MDB_INTEGERKEY), text keys in memcmp order.  An LSD radix sort
 * of 11-bit digits on a 64-bit prefix, then insertion sort of any run of
 * equal text prefixes.
 */
uint32_t *
sorted_key_order(const dataset *d)
{
	enum
	{
		BITS = 11, BUCKETS = 1 << BITS
	};
	sort_item  *a = xmalloc(d->n * sizeof(sort_item)),
			   *b = xmalloc(d->n * sizeof(sort_item)),
			   *t;
	uint32_t   *order = xmalloc(d->n * sizeof(uint32_t));
	uint64_t	start;

	for (uint64_t i = 0; i < d->n; i++)
	{
		a[i].prefix = sort_prefix(d, i);
		a[i].idx = (uint32_t) i;
	}
	for (unsigned shift = 0; shift < 64; shift += BITS)
	{
		uint64_t	count[BUCKETS] = {0},
					sum = 0;

		for (uint64_t i = 0; i < d->n; i++)
			count[(a[i].prefix >> shift) & (BUCKETS - 1)]++;
		for (int k = 0; k < BUCKETS; k++)
		{
			uint64_t	c = count[k];

			count[k] = sum;
			sum += c;
		}
		for (uint64_t i = 0; i < d->n; i++)
			b[count[(a[i].prefix >> shift) & (BUCKETS - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (uint64_t i = 0; i < d->n; i++)
		order[i] = a[i].idx;
	if (d->type == KEYS_TEXT)
	{
		start = 0;
		for (uint64_t i = 1; i <= d->n; i++)
		{
			if (i < d->n && a[i].prefix == a[start].prefix)
				continue;
			for (uint64_t j = start + 1; j < i; j++)
			{
				uint32_t	v = order[j];
				uint64_t	k = j;

				while (k > start && text_less(d, v, order[k - 1]))
				{
					order[k] = order[k - 1];
					k--;
				}
				order[k] = v;
			}
			start = i;
		}
	}
	free(a);
	free(b);
	return order;
}

/* Monotonic time in seconds. */
double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/*
 * CPU time of this (single-threaded) process in seconds.  On a shared
 * machine it leaves out the time the benchmark was not running.
 */
double
cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Page faults, CPU time and wall time of this process so far. */
void
usage_snapshot(usage_snap *u)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	u->minflt = (uint64_t) ru.ru_minflt;
	u->majflt = (uint64_t) ru.ru_majflt;
	u->cpu_sec = cpu_sec();
	u->wall_sec = now_sec();
}

/*
 * Latency of a dependent random load: chase a single random cycle through
 * the 64-byte lines of a buffer of 'bytes' in 4 KiB pages (no huge pages,
 * like a file mapping), so TLB misses are included as in the lookups.
 */
double
chase_latency_ns(size_t bytes, uint64_t steps, uint64_t seed)
{
	size_t		nlines = bytes / 64;
	unsigned char *buf;
	uint32_t   *perm = xmalloc(nlines * sizeof(uint32_t));
	uint64_t	st = seed;
	const unsigned char *p;
	double		t0,
				t1;

	buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("could not map %zu bytes", bytes);
	madvise(buf, bytes, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < nlines; i++)
		perm[i] = (uint32_t) i;
	for (size_t i = nlines - 1; i > 0; i--)
	{
		size_t		j = below(&st, i + 1);
		uint32_t	t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < nlines; i++)
	{
		const unsigned char *next = buf + (size_t) perm[(i + 1) % nlines] * 64;

		memcpy(buf + (size_t) perm[i] * 64, &next, sizeof(next));
	}
	free(perm);
	p = buf;
	for (uint64_t i = 0; i < nlines; i++)	/* warm up: every line once */
		memcpy(&p, p, sizeof(p));
	t0 = cpu_sec();
	for (uint64_t i = 0; i < steps; i++)
		memcpy(&p, p, sizeof(p));
	t1 = cpu_sec();
	if (p == NULL)
		die("impossible");
	munmap(buf, bytes);
	return (t1 - t0) * 1e9 / (double) steps;
}
