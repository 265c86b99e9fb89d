/*-------------------------------------------------------------------------
 *
 * bench_stores.c
 *	  The stores under test: the line-index bundle, tinycdb and LMDB.
 *
 * Each store is built from the dataset in RAM into an fsync'd file, then
 * opened read-only through its memory mapping.  A lookup finds the key and
 * folds every byte of its value into the checksum.
 *
 *   bundle    columns (k int8 | text, v text), v with 1-byte varlena
 *             headers; short values inside the row slot (inline_limit
 *             SB_INLINE_DEFAULT); value dedup on (also built
 *             once without, for the build time only); a writer budget of
 *             1 GiB, so the index sort does not spill at 10M keys.  Lookup: sb_key_hash,
 *             sb_lookup_start, sb_lookup_next, sb_row_get, sb_slot_value.
 *   batched   the line-index bundle, 16 lookups at a time in stages (the
 *             value's prefetch reads the slot's heap offset, an internal).
 *   tinycdb   cdb_make_add in key-number order; cdb_init (mmap), cdb_find,
 *             cdb_getdata.
 *   LMDB      keys sorted first (int8 as MDB_INTEGERKEY, text in memcmp
 *             order), loaded with MDB_APPEND in one write transaction;
 *             read with MDB_RDONLY | MDB_NOTLS, one read transaction per
 *             measured batch, mdb_get.
 *
 *-------------------------------------------------------------------------
 */
#include "bench.h"
#include "sbinternal.h"			/* only for the batched lookups' prefetch */

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH			16
#define WRITER_BUDGET	((size_t) 1 << 30)
#define HASH_SEED		UINT64_C(0x5348415245444255)	/* any fixed value */

/* Size of a file, or die. */
static uint64_t
file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		die("could not stat \"%s\": %s", path, strerror(errno));
	return (uint64_t) st.st_size;
}

/* Remove a file if it exists. */
static void
remove_file(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT)
		die("could not remove \"%s\": %s", path, strerror(errno));
}

/* ---------------------------------------------------------------------
 * Bundles
 * ---------------------------------------------------------------------
 */
typedef struct bundle_priv
{
	bool		no_dedup;		/* build without value dedup */
	sb_bundle  *b;
	uint32_t	value_off;		/* slot offset of the value's heap offset */
} bundle_priv;

/* Write the dataset as a bundle. */
static void
bundle_build(store *s, const dataset *d, const char *prefix)
{
	bundle_priv *p = s->priv;
	sb_column	cols[2];
	sb_writer_options o;
	sb_writer  *w;
	sb_build_stats stats;
	sb_error	err;
	double		t0;

	memset(cols, 0, sizeof(cols));
	cols[0].name = "k";
	cols[0].typmod = -1;
	cols[0].key_position = 1;
	if (d->type == KEYS_INT8)
	{
		cols[0].type_name = "pg_catalog.int8";
		cols[0].typlen = 8;
		cols[0].typbyval = true;
		cols[0].typalign = 'd';
		cols[0].key_kind = SB_KEY_INTEGER;
	}
	else
	{
		cols[0].type_name = "pg_catalog.text";
		cols[0].typlen = -1;
		cols[0].typalign = 'i';
		cols[0].key_kind = SB_KEY_VARLENA;
		cols[0].flags = SB_COLF_SHORT_VARLENA;
	}
	cols[1].name = "v";
	cols[1].type_name = "pg_catalog.text";
	cols[1].typmod = -1;
	cols[1].typlen = -1;
	cols[1].typalign = 'i';
	cols[1].flags = SB_COLF_SHORT_VARLENA;

	snprintf(s->path, sizeof(s->path), "%s.%s.sb", prefix, s->tag);
	remove_file(s->path);
	memset(&o, 0, sizeof(o));
	o.path = s->path;
	o.memory_budget = WRITER_BUDGET;
	o.hash_seed = HASH_SEED;
	o.dedup = !p->no_dedup;
	o.inline_limit = SB_INLINE_DEFAULT;
	o.pg_major = 15;
	o.ncolumns = 2;
	o.columns = cols;

	t0 = now_sec();
	if (sb_writer_create(&o, &w, &err) != SB_OK)
		die("sb_writer_create: %s", err.detail);
	for (uint64_t i = 0; i < d->n; i++)
	{
		size_t		klen,
					vlen;
		const void *key = ds_key(d, i, &klen);
		const unsigned char *val = ds_value(d, i, &vlen);
		sb_status	st;

		sb_writer_begin_row(w);
		if (d->type == KEYS_INT8)
			st = sb_writer_set_fixed(w, 0, key, &err);
		else
			st = sb_writer_set_varlena(w, 0, key, klen, &err);
		if (st != SB_OK ||
			sb_writer_set_varlena(w, 1, val, vlen, &err) != SB_OK ||
			sb_writer_end_row(w, &err) != SB_OK)
			die("writing row %llu: %s", (unsigned long long) i, err.detail);
	}
	if (sb_writer_finish(w, &stats, &err) != SB_OK)
		die("sb_writer_finish: %s", err.detail);
	sb_writer_free(w);
	s->info.build_sec = now_sec() - t0;
	s->info.file_bytes = stats.file_size;
	if (stats.spill_runs > 0)
		fprintf(stderr, "note: %s spilled %u sorted runs\n", s->name,
				stats.spill_runs);
}

/* Open the bundle and record its index size. */
static void
bundle_open(store *s, const dataset *d)
{
	bundle_priv *p = s->priv;
	sb_error	err;

	const sb_info *in;

	if (sb_open(s->path, &p->b, &err) != SB_OK)
		die("sb_open \"%s\": %s", s->path, err.detail);
	in = sb_bundle_info(p->b);
	if (in->indexed_count != d->n)
		die("bundle \"%s\" does not hold the expected index", s->path);
	p->value_off = p->b->slot_offsets[1];
	s->info.index_bytes = in->index_size;
	snprintf(s->info.note, sizeof(s->info.note),
			 "%llu lines of 64 B (%llu home lines)",
			 (unsigned long long) in->index_lines,
			 (unsigned long long) in->home_lines);
}

/* Single lookups: one key at a time, through the public API. */
static uint64_t
bundle_lookup(store *s, const key_seq *q)
{
	sb_bundle  *b = ((bundle_priv *) s->priv)->b;
	sb_key_part part;
	uint64_t	sum = 0;

	memset(&part, 0, sizeof(part));
	for (uint64_t i = 0; i < q->n; i++)
	{
		uint64_t	h,
					row;
		sb_lookup	it;
		const unsigned char *slot;
		sb_value	v;

		bench_key_part(q, i, &part);
		if (sb_key_hash(b, &part, &h, NULL) != SB_OK)
			die("sb_key_hash failed");
		sb_lookup_start(b, &part, h, &it);
		if (sb_lookup_next(b, &it, &row, NULL) != 1)
			die("%s: key %llu of the sequence not found", s->name,
				(unsigned long long) i);
		if (sb_row_get(b, row, &slot, NULL) != SB_OK ||
			sb_slot_value(b, slot, 1, &v, NULL) != SB_OK)
			die("%s: invalid value of row %llu", s->name,
				(unsigned long long) row);
		sum += bundle_value_fold(&v);
	}
	return sum;
}

/*
 * The single lookup cut short after a stage, to see what each dependent
 * step adds: 1 hash only, 2 also sb_lookup_start (nothing read yet),
 * 3 also sb_lookup_next (row slot, and the key in the heap for text keys),
 * 4 the whole lookup with the value read.
 */
uint64_t
bundle_stage_lookup(store *s, const key_seq *q, int stage)
{
	sb_bundle  *b = ((bundle_priv *) s->priv)->b;
	sb_key_part part;
	uint64_t	sum = 0;

	if (stage >= 4)
		return bundle_lookup(s, q);
	memset(&part, 0, sizeof(part));
	for (uint64_t i = 0; i < q->n; i++)
	{
		uint64_t	h,
					row;
		sb_lookup	it;

		bench_key_part(q, i, &part);
		if (sb_key_hash(b, &part, &h, NULL) != SB_OK)
			die("sb_key_hash failed");
		if (stage == 1)
		{
			sum += h;
			continue;
		}
		sb_lookup_start(b, &part, h, &it);
		if (stage == 2)
		{
			sum += h;
			continue;
		}
		if (sb_lookup_next(b, &it, &row, NULL) != 1)
			die("%s: key %llu of the sequence not found", s->name,
				(unsigned long long) i);
		sum += row;
	}
	return sum;
}

/*
 * Batched lookups, 16 at a time, each step over all 16 before the next:
 * hash each key and prefetch its index line; read the line, find the
 * first candidate and prefetch its row slot; check the row and prefetch
 * its value if it is in the heap; then read the values.
 */
static uint64_t
batched_lookup(store *s, const key_seq *q)
{
	bundle_priv *p = s->priv;
	sb_bundle  *b = p->b;
	uint64_t	sum = 0;
	sb_key_part parts[BATCH];
	uint64_t	h[BATCH];
	sb_lookup	it[BATCH];
	const unsigned char *slot[BATCH];

	memset(parts, 0, sizeof(parts));
	for (uint64_t i = 0; i < q->n; i += BATCH)
	{
		int			m = q->n - i < BATCH ? (int) (q->n - i) : BATCH;

		for (int j = 0; j < m; j++)
		{
			bench_key_part(q, i + j, &parts[j]);
			if (sb_key_hash(b, &parts[j], &h[j], NULL) != SB_OK)
				die("sb_key_hash failed");
			sb_lookup_prefetch(b, h[j]);
		}
		for (int j = 0; j < m; j++)
		{
			sb_lookup_start(b, &parts[j], h[j], &it[j]);
			sb_lookup_prefetch_row(b, &it[j]);
		}
		for (int j = 0; j < m; j++)
		{
			uint64_t	row,
						off;

			if (sb_lookup_next(b, &it[j], &row, NULL) != 1)
				die("%s: key %llu of the sequence not found", s->name,
					(unsigned long long) (i + j));
			if (sb_row_get(b, row, &slot[j], NULL) != SB_OK)
				die("%s: no row %llu", s->name, (unsigned long long) row);
			memcpy(&off, slot[j] + p->value_off, sizeof(off));
			if (off < b->heap_size)	/* not a value inside the slot */
				__builtin_prefetch(b->heap + off);
		}
		for (int j = 0; j < m; j++)
		{
			sb_value	v;

			if (sb_slot_value(b, slot[j], 1, &v, NULL) != SB_OK)
				die("%s: invalid value", s->name);
			sum += bundle_value_fold(&v);
		}
	}
	return sum;
}

/* Unmap the bundle. */
static void
bundle_close(store *s)
{
	bundle_priv *p = s->priv;

	sb_close(p->b);
	p->b = NULL;
}

/* Remove the bundle file. */
static void
bundle_remove(store *s)
{
	remove_file(s->path);
}

/* Set up a bundle store. */
void
store_bundle_init(store *s)
{
	bundle_priv *p = calloc(1, sizeof(bundle_priv));

	if (p == NULL)
		die("out of memory");
	memset(s, 0, sizeof(*s));
	s->priv = p;
	s->name = "bundle lines";
	s->tag = "lines";
	s->build = bundle_build;
	s->open = bundle_open;
	s->lookup = bundle_lookup;
	s->close = bundle_close;
	s->remove = bundle_remove;
}

/* A line-index bundle written without value dedup, to time its build only. */
void
store_nodedup_init(store *s)
{
	store_bundle_init(s);
	((bundle_priv *) s->priv)->no_dedup = true;
	s->name = "bundle lines, dedup off";
	s->tag = "nodedup";
}

/* No-op build, open, close and remove for the batched view. */
static void
batched_build(store *s, const dataset *d, const char *prefix)
{
	(void) s;
	(void) d;
	(void) prefix;
}

static void
batched_open(store *s, const dataset *d)
{
	(void) s;
	(void) d;
}

static void
batched_nop(store *s)
{
	(void) s;
}

/* The batched view of an already built bundle store. */
void
store_batched_init(store *s, store *base)
{
	memset(s, 0, sizeof(*s));
	s->priv = base->priv;
	s->name = "bundle lines, batched x16";
	s->tag = "batched";
	s->build = batched_build;
	s->open = batched_open;
	s->lookup = batched_lookup;
	s->close = batched_nop;
	s->remove = batched_nop;
	s->info = base->info;
}

/*
 * The bound on any index: the row of each key read with its number known,
 * its key compared and its value read, as a lookup would after its index.
 * The line-index bundle's rows are in key-number order.
 */
static uint64_t
bound_lookup(store *s, const key_seq *q)
{
	sb_bundle  *b = ((bundle_priv *) s->priv)->b;
	uint64_t	sum = 0;

	for (uint64_t i = 0; i < q->n; i++)
	{
		uint64_t	row = q->numbers ? q->numbers[i] : i;
		const unsigned char *slot;
		size_t		klen;
		const void *key = seq_key(q, i, &klen);
		sb_value	k,
					v;
		size_t		hl;

		if (sb_row_get(b, row, &slot, NULL) != SB_OK || !bundle_read(b, slot, 0, &k))
			die("%s: no row %llu", s->name, (unsigned long long) row);
		hl = q->type == KEYS_INT8 ? 0 : sb_varlena_header_size(k.ptr);
		if (k.len - hl != klen || memcmp((const char *) k.ptr + hl, key, klen) != 0)
			die("%s: row %llu does not hold key %llu of the sequence", s->name,
				(unsigned long long) row, (unsigned long long) i);
		if (sb_slot_value(b, slot, 1, &v, NULL) != SB_OK)
			die("%s: invalid value of row %llu", s->name,
				(unsigned long long) row);
		sum += bundle_value_fold(&v);
	}
	return sum;
}

/* The bound view of the line-index bundle store: see bound_lookup. */
void
store_bound_init(store *s, store *base)
{
	store_batched_init(s, base);
	s->name = "bound: row read, number known";
	s->tag = "bound";
	s->lookup = bound_lookup;
}

/* The sb_bundle of a bundle store (NULL until it is open). */
sb_bundle *
store_bundle_handle(store *s)
{
	return ((bundle_priv *) s->priv)->b;
}

/* ---------------------------------------------------------------------
 * tinycdb
 * ---------------------------------------------------------------------
 */
typedef struct cdb_priv
{
	int			fd;
	struct cdb	c;
} cdb_priv;

/*
 * Write the dataset with cdb_make, in key-number order, and fsync.  The
 * index is cdb's 2048-byte table of contents plus its hash tables: the
 * file minus the records (8-byte header, key, value each).
 */
static void
cdb_build(store *s, const dataset *d, const char *prefix)
{
	struct cdb_make cm;
	int			fd;
	double		t0;

	snprintf(s->path, sizeof(s->path), "%s.cdb", prefix);
	remove_file(s->path);
	t0 = now_sec();
	fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || cdb_make_start(&cm, fd) != 0)
		die("could not create \"%s\": %s", s->path, strerror(errno));
	for (uint64_t i = 0; i < d->n; i++)
	{
		size_t		klen,
					vlen;
		const void *key = ds_key(d, i, &klen);
		const unsigned char *val = ds_value(d, i, &vlen);

		if (cdb_make_add(&cm, key, (unsigned) klen, val, (unsigned) vlen) != 0)
			die("cdb_make_add: %s", strerror(errno));
	}
	if (cdb_make_finish(&cm) != 0 || fsync(fd) != 0 || close(fd) != 0)
		die("could not finish \"%s\": %s", s->path, strerror(errno));
	s->info.build_sec = now_sec() - t0;
	s->info.file_bytes = file_size(s->path);
	s->info.index_bytes = s->info.file_bytes -
		(8 * d->n + d->key_bytes + d->value_bytes);
	snprintf(s->info.note, sizeof(s->info.note),
			 "2048 B table of contents + hash-table slots (file minus records); "
			 "the 8 B record headers are not counted");
}

/* Open the cdb file; cdb_init maps it. */
static void
cdb_open_store(store *s, const dataset *d)
{
	cdb_priv   *p = s->priv;

	(void) d;
	p->fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0 || cdb_init(&p->c, p->fd) != 0)
		die("could not open \"%s\": %s", s->path, strerror(errno));
}

/* cdb_find each key, then read its value in place. */
static uint64_t
cdb_lookup(store *s, const key_seq *q)
{
	struct cdb *c = &((cdb_priv *) s->priv)->c;
	uint64_t	sum = 0;

	for (uint64_t i = 0; i < q->n; i++)
	{
		size_t		klen;
		const void *key = seq_key(q, i, &klen);
		const unsigned char *v;

		if (cdb_find(c, key, (unsigned) klen) <= 0 ||
			(v = cdb_getdata(c)) == NULL)
			die("tinycdb: key %llu of the sequence not found",
				(unsigned long long) i);
		sum += fold_bytes(v, cdb_datalen(c));
	}
	return sum;
}

/* cdb_find only (hash table slot and record key), without the value. */
uint64_t
cdb_find_only(store *s, const key_seq *q)
{
	struct cdb *c = &((cdb_priv *) s->priv)->c;
	uint64_t	sum = 0;

	for (uint64_t i = 0; i < q->n; i++)
	{
		size_t		klen;
		const void *key = seq_key(q, i, &klen);

		if (cdb_find(c, key, (unsigned) klen) <= 0)
			die("tinycdb: key %llu of the sequence not found",
				(unsigned long long) i);
		sum += cdb_datapos(c);
	}
	return sum;
}

/* Unmap and close the cdb file. */
static void
cdb_close_store(store *s)
{
	cdb_priv   *p = s->priv;

	cdb_free(&p->c);
	close(p->fd);
}

/* Remove the cdb file. */
static void
cdb_remove(store *s)
{
	remove_file(s->path);
}

/* Set up the tinycdb store. */
void
store_cdb_init(store *s)
{
	memset(s, 0, sizeof(*s));
	s->priv = calloc(1, sizeof(cdb_priv));
	if (s->priv == NULL)
		die("out of memory");
	s->name = "tinycdb";
	s->tag = "cdb";
	s->build = cdb_build;
	s->open = cdb_open_store;
	s->lookup = cdb_lookup;
	s->close = cdb_close_store;
	s->remove = cdb_remove;
}

/* ---------------------------------------------------------------------
 * LMDB
 * ---------------------------------------------------------------------
 */
typedef struct lmdb_priv
{
	size_t		mapsize;		/* address space reserved, not disk */
	MDB_env    *env;
	MDB_dbi		dbi;
	char		lockpath[1100];
} lmdb_priv;

/* Die with LMDB's message if rc is an error. */
static void
lmdb_check(int rc, const char *what)
{
	if (rc != MDB_SUCCESS)
		die("LMDB %s: %s", what, mdb_strerror(rc));
}

/* Open an environment on the store's file, with room for the dataset. */
static MDB_env *
lmdb_env(store *s, const dataset *d, unsigned flags)
{
	lmdb_priv  *p = s->priv;
	MDB_env    *env;

	p->mapsize = (size_t) (2 * (d->key_bytes + d->value_bytes + 64 * d->n) +
						   ((uint64_t) 64 << 20));
	p->mapsize = (p->mapsize + 4095) & ~(size_t) 4095;
	lmdb_check(mdb_env_create(&env), "mdb_env_create");
	lmdb_check(mdb_env_set_mapsize(env, p->mapsize), "mdb_env_set_mapsize");
	lmdb_check(mdb_env_open(env, s->path, flags | MDB_NOSUBDIR, 0644),
			   "mdb_env_open");
	return env;
}

/*
 * Sort the keys (timed as part of the build), then append them in one
 * write transaction; the commit syncs the file.
 */
static void
lmdb_build(store *s, const dataset *d, const char *prefix)
{
	lmdb_priv  *p = s->priv;
	MDB_env    *env;
	MDB_txn    *txn;
	MDB_dbi		dbi;
	uint32_t   *order;
	double		t0;

	snprintf(s->path, sizeof(s->path), "%s.mdb", prefix);
	snprintf(p->lockpath, sizeof(p->lockpath), "%s-lock", s->path);
	remove_file(s->path);
	remove_file(p->lockpath);
	t0 = now_sec();
	order = sorted_key_order(d);
	env = lmdb_env(s, d, 0);
	lmdb_check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
	lmdb_check(mdb_dbi_open(txn, NULL, d->type == KEYS_INT8 ? MDB_INTEGERKEY : 0,
							&dbi), "mdb_dbi_open");
	for (uint64_t i = 0; i < d->n; i++)
	{
		MDB_val		k,
					v;

		k.mv_data = (void *) ds_key(d, order[i], &k.mv_size);
		v.mv_data = (void *) ds_value(d, order[i], &v.mv_size);
		lmdb_check(mdb_put(txn, dbi, &k, &v, MDB_APPEND), "mdb_put");
	}
	lmdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
	mdb_env_close(env);
	s->info.build_sec = now_sec() - t0;
	free(order);
	s->info.file_bytes = file_size(s->path);
	s->info.index_bytes = s->info.file_bytes - d->key_bytes - d->value_bytes;
}

/* Open read-only, without thread-local reader slots; note the tree's shape. */
static void
lmdb_open(store *s, const dataset *d)
{
	lmdb_priv  *p = s->priv;
	MDB_txn    *txn;
	MDB_stat	st;

	p->env = lmdb_env(s, d, MDB_RDONLY | MDB_NOTLS);
	lmdb_check(mdb_txn_begin(p->env, NULL, MDB_RDONLY, &txn), "mdb_txn_begin");
	lmdb_check(mdb_dbi_open(txn, NULL, 0, &p->dbi), "mdb_dbi_open");
	lmdb_check(mdb_stat(txn, p->dbi, &st), "mdb_stat");
	lmdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
	if (st.ms_entries != d->n)
		die("LMDB holds %zu entries, not %llu", st.ms_entries,
			(unsigned long long) d->n);
	snprintf(s->info.note, sizeof(s->info.note),
			 "file minus key and value bytes; depth %u, %zu branch pages "
			 "(%.2f B/key), %zu leaf pages of %u B",
			 st.ms_depth, st.ms_branch_pages,
			 (double) st.ms_branch_pages * st.ms_psize / (double) d->n,
			 st.ms_leaf_pages, st.ms_psize);
}

/* mdb_get each key within one read transaction. */
static uint64_t
lmdb_lookup(store *s, const key_seq *q)
{
	lmdb_priv  *p = s->priv;
	MDB_txn    *txn;
	uint64_t	sum = 0;

	lmdb_check(mdb_txn_begin(p->env, NULL, MDB_RDONLY, &txn), "mdb_txn_begin");
	for (uint64_t i = 0; i < q->n; i++)
	{
		MDB_val		k,
					v;

		k.mv_data = (void *) seq_key(q, i, &k.mv_size);
		if (mdb_get(txn, p->dbi, &k, &v) != MDB_SUCCESS)
			die("LMDB: key %llu of the sequence not found", (unsigned long long) i);
		sum += fold_bytes(v.mv_data, v.mv_size);
	}
	mdb_txn_abort(txn);
	return sum;
}

/* Close the environment. */
static void
lmdb_close(store *s)
{
	lmdb_priv  *p = s->priv;

	mdb_env_close(p->env);
	p->env = NULL;
}

/* Remove the data and lock files. */
static void
lmdb_remove(store *s)
{
	lmdb_priv  *p = s->priv;

	remove_file(s->path);
	remove_file(p->lockpath);
}

/* Set up the LMDB store. */
void
store_lmdb_init(store *s)
{
	memset(s, 0, sizeof(*s));
	s->priv = calloc(1, sizeof(lmdb_priv));
	if (s->priv == NULL)
		die("out of memory");
	s->name = "LMDB";
	s->tag = "lmdb";
	s->build = lmdb_build;
	s->open = lmdb_open;
	s->lookup = lmdb_lookup;
	s->close = lmdb_close;
	s->remove = lmdb_remove;
}
