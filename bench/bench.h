/*-------------------------------------------------------------------------
 *
 * bench.h
 *	  Shared declarations of the format microbenchmark (format_bench).
 *
 * One dataset (keys, values and a probe sequence, generated from a fixed
 * seed) is fed to every store; each store is built, opened, warmed up and
 * then timed over the same probe sequence.  A lookup must read the whole
 * value, which is folded into a checksum that every store must reproduce.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sbformat.h"

#define TEXT_KEY_LEN	32		/* bytes of a text key */
#define VALUE_MIN		80		/* value lengths are uniform in [min, max] */
#define VALUE_MAX		120

typedef enum key_type
{
	KEYS_INT8,
	KEYS_TEXT
} key_type;

/*
 * A sequence of keys to look up.  The probe keys are copied out in probe
 * order, so that reading the next key is a sequential access, as when the
 * key comes from the caller, and not a cache miss of its own.
 */
typedef struct key_seq
{
	key_type	type;
	const int64_t *ikeys;		/* KEYS_INT8 */
	const char *tkeys;			/* KEYS_TEXT, TEXT_KEY_LEN bytes each */
	const uint32_t *numbers;	/* key numbers (and rows), NULL: 0 to n-1 */
	uint64_t	n;
} key_seq;

/* Key i of a sequence as bytes: the int8's native image or the text. */
static inline const void *
seq_key(const key_seq *q, uint64_t i, size_t *len)
{
	if (q->type == KEYS_INT8)
	{
		*len = sizeof(int64_t);
		return &q->ikeys[i];
	}
	*len = TEXT_KEY_LEN;
	return q->tkeys + i * TEXT_KEY_LEN;
}

/* The data every store is loaded with, and the probes run against it. */
typedef struct dataset
{
	key_type	type;
	uint64_t	n;				/* number of keys (and rows) */
	int64_t    *ikeys;			/* KEYS_INT8: n keys */
	char	   *tkeys;			/* KEYS_TEXT: n keys of TEXT_KEY_LEN bytes */
	int64_t    *probe_ikeys;	/* the probed keys, in probe order */
	char	   *probe_tkeys;
	unsigned char *vals;		/* all values, back to back */
	uint64_t   *voff;			/* value i is vals[voff[i] .. voff[i + 1]) */
	uint32_t   *probe;			/* key numbers to look up, in order */
	uint64_t	nprobe;
	key_seq		all;			/* every key, in key-number order */
	key_seq		probes;			/* copies of the probed keys, in order */
	uint64_t	key_bytes;		/* sum of key lengths */
	uint64_t	value_bytes;	/* sum of value lengths */
	uint64_t	probe_sum;		/* expected checksum over the probes */
	uint64_t	all_sum;		/* expected checksum over keys 0..n-1 */
	char		name[32];		/* e.g. "int8 10M" */
} dataset;

/* Key i of the dataset. */
static inline const void *
ds_key(const dataset *d, uint64_t i, size_t *len)
{
	return seq_key(&d->all, i, len);
}

/* Value i. */
static inline const unsigned char *
ds_value(const dataset *d, uint64_t i, size_t *len)
{
	*len = d->voff[i + 1] - d->voff[i];
	return d->vals + d->voff[i];
}

/*
 * Fold a value's bytes into 64 bits.  Every byte is read; two independent
 * accumulators keep the dependency chain short.
 */
static inline uint64_t
fold_bytes(const unsigned char *p, size_t len)
{
	uint64_t	a = len,
				b = 0,
				w;
	size_t		i = 0;

	for (; i + 8 <= len; i += 8)
	{
		memcpy(&w, p + i, 8);
		a += w;
		b ^= w;
	}
	if (i < len)
	{
		w = 0;
		memcpy(&w, p + i, len - i);
		a += w;
		b ^= w;
	}
	return (a ^ (b << 1)) * UINT64_C(0x9E3779B97F4A7C15);
}

/* Key i of a sequence as a bundle key part (other fields left as they are). */
static inline void
bench_key_part(const key_seq *q, uint64_t i, sb_key_part *part)
{
	if (q->type == KEYS_INT8)
		part->ival = q->ikeys[i];
	else
	{
		part->data = q->tkeys + i * TEXT_KEY_LEN;
		part->len = TEXT_KEY_LEN;
	}
}

/*
 * Read a non-NULL column of a bundle's row slot: a fixed-length one in
 * place, a variable-length one through sb_slot_value.  False if invalid.
 */
static inline bool
bundle_read(sb_bundle *b, const unsigned char *slot, int col, sb_value *v)
{
	const sb_info *in = sb_bundle_info(b);

	if (in->columns[col].typlen > 0)
	{
		v->ptr = sb_slot_fixed(in, slot, col);
		v->len = (size_t) in->columns[col].typlen;
		return true;
	}
	return sb_slot_value(b, slot, col, v, NULL) == SB_OK;
}

/* Fold a bundle value's payload (the image without its varlena header). */
static inline uint64_t
bundle_value_fold(const sb_value *v)
{
	size_t		hl = sb_varlena_header_size(v->ptr);

	return fold_bytes(v->ptr + hl, v->len - hl);
}

/* Resource usage at one moment. */
typedef struct usage_snap
{
	uint64_t	minflt;
	uint64_t	majflt;
	double		cpu_sec;		/* process CPU clock */
	double		wall_sec;
} usage_snap;

/* ---- bench_data.c ---- */
extern uint64_t splitmix64(uint64_t *state);
extern void dataset_generate(dataset *d, key_type type, uint64_t n,
							 uint64_t nprobe, uint64_t seed);
extern void dataset_free(dataset *d);
extern uint32_t *sorted_key_order(const dataset *d);
extern double now_sec(void);
extern double cpu_sec(void);
extern void usage_snapshot(usage_snap *u);
extern double chase_latency_ns(size_t bytes, uint64_t steps, uint64_t seed);
extern void die(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- bench_stores.c ---- */

/* What a store reports after its build. */
typedef struct store_info
{
	double		build_sec;		/* data in RAM to an fsync'd file */
	uint64_t	file_bytes;		/* the file (LMDB: data file, not lock) */
	uint64_t	index_bytes;	/* see each store's build function */
	char		note[160];		/* how index_bytes was obtained */
} store_info;

typedef struct store store;

/* One store under test: the functions and its state. */
struct store
{
	const char *name;			/* as printed in tables */
	const char *tag;			/* short name for data files */
	void		(*build) (store *s, const dataset *d, const char *dir);
	void		(*open) (store *s, const dataset *d);
	/* look up every key of q and return the checksum of their values */
	uint64_t	(*lookup) (store *s, const key_seq *q);
	void		(*close) (store *s);
	void		(*remove) (store *s);
	store_info	info;
	char		path[1024];
	void	   *priv;
};

extern void store_bundle_init(store *s);
extern void store_batched_init(store *s, store *base);
extern void store_bound_init(store *s, store *base);
extern void store_nodedup_init(store *s);
extern void store_cdb_init(store *s);
extern void store_lmdb_init(store *s);
extern sb_bundle *store_bundle_handle(store *s);
extern uint64_t bundle_stage_lookup(store *s, const key_seq *q, int stage);
extern uint64_t cdb_find_only(store *s, const key_seq *q);

/* ---- bench_trace.c ---- */

/* Distribution of a per-lookup count. */
typedef struct count_stats
{
	double		mean;
	uint32_t	p50;
	uint32_t	p99;
	uint32_t	max;
} count_stats;

/* What the traced lookups touched, per lookup. */
typedef struct trace_result
{
	count_stats index_lines;	/* distinct 64-byte lines of the index */
	count_stats index_pages;	/* distinct 4 KiB pages of the index */
	count_stats index_reads;	/* traced index reads (not distinct) */
	count_stats data_lines;		/* distinct lines of row slot, key, value */
} trace_result;

/* An index search traced through sb_trace_touch; returns the row found. */
typedef uint64_t (*traced_find) (void *arg, const key_seq *q, uint64_t i);

extern void sb_trace_touch(const void *p, size_t len);
extern void trace_index(sb_bundle *b, const void *index, size_t len,
						traced_find find, void *arg, const key_seq *q,
						trace_result *out);
extern void trace_lookups(sb_bundle *b, const key_seq *q, trace_result *out);

/* ---- bench_sorted.c ---- */
extern void store_sorted_init(store *s, store *base);
extern uint64_t sorted_stage_lookup(store *s, const key_seq *q, int stage);
extern void trace_sorted(store *s, const key_seq *q, trace_result *out);

#endif							/* BENCH_H */
