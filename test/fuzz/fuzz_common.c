/*-------------------------------------------------------------------------
 *
 * fuzz_common.c
 *	  The body shared by the bundle fuzzing harnesses.
 *
 * An input is copied into a buffer of exactly its size, so that the
 * address sanitizer reports any read past its end, and opened with
 * sb_open_memory().  If it opens, it is verified, every column of every
 * row is read (each slot also through the block-checked sb_row_get) and
 * every byte of each value touched, keys taken from the rows and a few
 * synthetic keys are looked up, the bundle is prewarmed, and the metadata
 * is walked.
 *
 * Beyond the sanitizers, a few properties are checked and abort on
 * failure: values lie inside the input, failures fill their sb_error, and
 * in a bundle that sb_verify() accepts every value reads and every row
 * with a key is found by a lookup of that key.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"
#include "sbinternal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TOUCH_BUDGET		((uint64_t) 16 << 20)	/* bytes touched one by one */
#define MAX_ROW_LOOKUPS		128		/* lookups of keys taken from rows */
#define MAX_EQUIV_LOOKUPS	16		/* of those, also with an equal key */
#define MAX_LOOKUP_STEPS	4096	/* rows one lookup may return */
#define NVARIANTS			6		/* synthetic keys per bundle */
#define MAX_META_GETS		16
#define NO_ROW				UINT64_MAX

/* Report a failed property and abort, so that libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "sbfuzz: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

/* Where the bytes read are folded, so that no read is optimized away. */
volatile unsigned char sbfuzz_sink;

/* What one run knows about the bundle under test. */
typedef struct fuzz_ctx
{
	sb_bundle  *b;
	const unsigned char *base;	/* the copy of the input */
	size_t		size;
	bool		verified;		/* sb_verify() accepted it */
	uint64_t	touched;		/* bytes touched one by one so far */
} fuzz_ctx;

/* Is [p, p + len) inside the input? */
static bool
in_input(const fuzz_ctx *fc, const void *p, uint64_t len)
{
	uintptr_t	lo = (uintptr_t) fc->base,
				q = (uintptr_t) p;

	return q >= lo && q - lo <= fc->size && len <= fc->size - (q - lo);
}

/*
 * Read every byte of a range, so that the address sanitizer checks it.
 * Past a budget per input, only the first and the last byte are read, so
 * that many rows referring to one large value stay fast.
 */
static void
touch(fuzz_ctx *fc, const void *p, size_t len)
{
	const unsigned char *c = p;
	unsigned char acc = 0;

	if (len == 0)
		return;
	if (fc->touched + len <= TOUCH_BUDGET)
	{
		for (size_t i = 0; i < len; i++)
			acc ^= c[i];
		fc->touched += len;
	}
	else
		acc = c[0] ^ c[len - 1];
	sbfuzz_sink ^= acc;
}

/* Check that a failure was reported properly. */
static void
check_error(const sb_error *err, sb_status st)
{
	FUZZ_CHECK(st < SB_OK && st >= SB_ERR_OBSOLETE, "status %d", (int) st);
	FUZZ_CHECK(err->code == st, "status %s, error code %s",
			   sb_status_name(st), sb_status_name(err->code));
	FUZZ_CHECK(memchr(err->detail, 0, sizeof(err->detail)) != NULL,
			   "unterminated detail");
	FUZZ_CHECK(strcmp(sb_status_name(st), "SB_ERR_UNKNOWN") != 0 &&
			   sb_status_message(st)[0] != 0, "status %d", (int) st);
}

/*
 * The description callers read agrees with what validation found, and
 * lists the sections inside the input, in file order, each named.
 */
static void
check_info(fuzz_ctx *fc)
{
	const sb_info *in = sb_bundle_info(fc->b);

	FUZZ_CHECK(in->row_count == fc->b->row_count && in->ncolumns == fc->b->ncolumns &&
			   in->nkeys == fc->b->nkeys && in->columns == fc->b->columns &&
			   in->index_size == fc->b->entries_size &&
			   in->nsections == fc->b->nsections, "description differs");
	for (int i = 0; i < in->nsections; i++)
	{
		const sb_section *s = &in->sections[i];

		FUZZ_CHECK(s->name != NULL && s->offset <= fc->size &&
				   s->length <= fc->size - s->offset &&
				   (i == 0 || s->offset >= in->sections[i - 1].offset),
				   "section %d (kind %u)", i, s->kind);
	}
}

/* Check what sb_open_memory() promises about an open bundle. */
static void
check_bundle(fuzz_ctx *fc)
{
	sb_bundle  *b = fc->b;

	FUZZ_CHECK(b->ncolumns >= 1 && b->ncolumns <= SB_MAX_COLUMNS &&
			   b->nkeys >= 0 && b->nkeys <= SB_MAX_KEY_COLUMNS &&
			   b->nkeys <= b->ncolumns,
			   "%d columns, %d keys", b->ncolumns, b->nkeys);
	FUZZ_CHECK(b->row_size >= b->bitmap_bytes && b->row_size > 0,
			   "row size %u", b->row_size);
	FUZZ_CHECK(b->rows != NULL &&
			   in_input(fc, b->rows, b->row_count * (uint64_t) b->row_size),
			   "rows outside the input");
	FUZZ_CHECK(b->heap != NULL && in_input(fc, b->heap, b->heap_size),
			   "heap outside the input");
	FUZZ_CHECK(b->entries != NULL && in_input(fc, b->entries, b->entries_size) &&
			   b->entries_size == b->nlines * SB_LINE_BYTES &&
			   b->nlines >= b->home_lines && b->home_lines <= UINT32_MAX &&
			   b->nlines * sb_line_capacity(b->fp_bytes) >= b->indexed_count,
			   "index lines outside the input");
	FUZZ_CHECK(b->meta == NULL || in_input(fc, b->meta, b->meta_size),
			   "metadata outside the input");
	for (int c = 0; c < b->ncolumns; c++)
	{
		const sb_column *col = &b->columns[c];
		uint32_t	width = b->encodings[c].width,	/* narrowed in format 5 */
					at = b->slot_offsets[c];

		FUZZ_CHECK(col->name != NULL && col->type_name != NULL,
				   "column %d names", c);
		touch(fc, col->name, strlen(col->name));
		touch(fc, col->type_name, strlen(col->type_name));
		FUZZ_CHECK(col->typlen > 0 || col->typlen == -1, "typlen %d", col->typlen);
		FUZZ_CHECK(at == SB_NOT_STORED ||
				   ((uint64_t) at + width <= b->row_size && at >= b->bitmap_bytes),
				   "column %d at slot offset %u", c, at);
		FUZZ_CHECK(col->key_position <= b->nkeys, "key position %u",
				   col->key_position);
	}
	for (int k = 0; k < b->nkeys; k++)
		FUZZ_CHECK(b->key_columns[k] >= 0 && b->key_columns[k] < b->ncolumns &&
				   b->columns[b->key_columns[k]].key_position == k + 1,
				   "key %d is column %d", k + 1, b->key_columns[k]);
	check_info(fc);
}

/*
 * Prewarm every part and give the access hints (no-ops for a bundle in
 * memory): the pages touched are at most those of the input.
 */
static void
prewarm(fuzz_ctx *fc)
{
	sb_bundle  *b = fc->b;
	uint64_t	pages = sb_prewarm(b, SB_PREWARM_ALL);

	/* four ranges, each at most two pages more than its length */
	FUZZ_CHECK(pages <= fc->size / (uint64_t) sysconf(_SC_PAGESIZE) + 8,
			   "%llu pages prewarmed in %zu bytes", (unsigned long long) pages,
			   fc->size);
	sb_advise_scan(b, true);
	sb_advise_scan(b, false);
}

/* Does the value lie within [base, base + size)? */
static bool
within(const unsigned char *base, uint64_t size, const sb_value *v)
{
	return v->ptr >= base && v->len <= size &&
		(uint64_t) (v->ptr - base) <= size - v->len;
}

/*
 * Read one column of a row slot, if it is not NULL, and touch its bytes;
 * a variable-length value lies in the heap or inside the slot.
 */
static void
read_value(fuzz_ctx *fc, const unsigned char *slot, uint64_t row, int c)
{
	sb_bundle  *b = fc->b;
	const sb_column *col = &b->columns[c];
	sb_value	v;
	sb_error	err;
	sb_status	st;
	size_t		total;

	if (sb_slot_isnull(sb_bundle_info(b), slot, c))
		return;
	memset(&err, 0, sizeof(err));
	st = sb_slot_value(b, slot, c, &v, &err);
	if (st != SB_OK)
	{
		check_error(&err, st);
		FUZZ_CHECK(!fc->verified, "row %llu column %d of a verified bundle: %s",
				   (unsigned long long) row, c, err.detail);
		return;
	}
	/* an offset-encoded value is decoded into v.fixed */
	FUZZ_CHECK(v.ptr == v.fixed || in_input(fc, v.ptr, v.len),
			   "row %llu column %d outside the input", (unsigned long long) row, c);
	if (col->typlen > 0)
		FUZZ_CHECK(v.len == (size_t) col->typlen, "row %llu column %d has %zu bytes",
				   (unsigned long long) row, c, v.len);
	else
		FUZZ_CHECK((within(b->heap, b->heap_size, &v) ||
					within(slot, b->row_size, &v)) &&
				   sb_varlena_size(v.ptr, v.len, &total) && total == v.len,
				   "row %llu column %d: bad varlena of %zu bytes",
				   (unsigned long long) row, c, v.len);
	touch(fc, v.ptr, v.len);
	if (v.encoded)
	{
		/* decode a coded value: its codes are checked, never trusted */
		unsigned char *buf = NULL;
		size_t		cap = 0;

		st = sb_value_materialize(b, c, &v, &buf, &cap, &err);
		if (st != SB_OK)
		{
			check_error(&err, st);
			FUZZ_CHECK(!fc->verified, "row %llu column %d of a verified bundle: %s",
					   (unsigned long long) row, c, err.detail);
		}
		else
			FUZZ_CHECK(sb_varlena_size(v.ptr, v.len, &total) && total == v.len,
					   "row %llu column %d: bad decoded varlena of %zu bytes",
					   (unsigned long long) row, c, v.len);
		free(buf);
	}
}

/*
 * Get a row's slot with its block checksum checked: the same slot as
 * sb_row_slot's, or a reported error, never one in a verified bundle.
 */
static void
check_row_get(fuzz_ctx *fc, uint64_t r, const unsigned char *slot)
{
	const unsigned char *got;
	sb_error	err;
	sb_status	st;

	memset(&err, 0, sizeof(err));
	st = sb_row_get(fc->b, r, &got, &err);
	if (st != SB_OK)
	{
		check_error(&err, st);
		FUZZ_CHECK(!fc->verified && got == NULL,
				   "row %llu of a verified bundle: %s", (unsigned long long) r,
				   err.detail);
		return;
	}
	FUZZ_CHECK(got == slot, "row %llu: two slots", (unsigned long long) r);
}

/* Read every column of every row. */
static void
iterate_rows(fuzz_ctx *fc)
{
	sb_bundle  *b = fc->b;

	for (uint64_t r = 0; r < b->row_count; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);

		FUZZ_CHECK(slot != NULL, "no slot for row %llu", (unsigned long long) r);
		check_row_get(fc, r, slot);
		touch(fc, slot, b->row_size);
		for (int c = 0; c < b->ncolumns; c++)
			read_value(fc, slot, r, c);
	}
	FUZZ_CHECK(sb_row_slot(b, b->row_count) == NULL, "a slot past the last row");
	{
		const unsigned char *slot;
		sb_error	err;

		FUZZ_CHECK(sb_row_get(b, b->row_count, &slot, &err) == SB_ERR_INVALID &&
				   slot == NULL, "a checked slot past the last row");
	}
}

/*
 * Look a key up and walk its matches.  If 'want' is a row and the bundle
 * passed verification, the lookup must return that row.
 */
static void
lookup_key(fuzz_ctx *fc, const sb_key_part *parts, uint64_t want)
{
	sb_bundle  *b = fc->b;
	sb_error	err;
	sb_lookup	it;
	uint64_t	hash,
				row;
	unsigned	steps = 0;
	bool		found = false;
	sb_status	st;
	int			r;

	memset(&err, 0, sizeof(err));
	st = sb_key_hash(b, parts, &hash, &err);
	FUZZ_CHECK(st == SB_OK, "key hash failed: %s", err.detail);
	sb_lookup_prefetch(b, hash);
	sb_lookup_start(b, parts, hash, &it);
	for (;;)
	{
		r = sb_lookup_next(b, &it, &row, &err);
		if (r != 1)
			break;
		FUZZ_CHECK(row < b->row_count, "lookup returned row %llu of %llu",
				   (unsigned long long) row, (unsigned long long) b->row_count);
		found |= row == want;
		if (++steps >= MAX_LOOKUP_STEPS)
			return;
	}
	if (r < 0)
	{
		check_error(&err, (sb_status) r);
		FUZZ_CHECK(!fc->verified, "lookup in a verified bundle failed: %s",
				   err.detail);
		return;
	}
	FUZZ_CHECK(r == 0, "lookup returned %d", r);
	FUZZ_CHECK(sb_lookup_next(b, &it, &row, &err) == 0,
			   "an ended lookup returned more");
	if (want != NO_ROW && fc->verified)
		FUZZ_CHECK(found, "row %llu of a verified bundle not found by its key",
				   (unsigned long long) want);
}

/*
 * The key of a row as probe parts pointing into the row's values; false
 * if a key column is NULL (or not stored) or cannot be read.
 */
static bool
row_key_parts(fuzz_ctx *fc, const unsigned char *slot, sb_key_part *parts)
{
	sb_bundle  *b = fc->b;

	for (int k = 0; k < b->nkeys; k++)
	{
		int			c = b->key_columns[k];
		const sb_column *col = &b->columns[c];
		sb_value	v;
		sb_error	err;
		size_t		hdr;

		memset(&parts[k], 0, sizeof(parts[k]));
		if (sb_slot_isnull(sb_bundle_info(b), slot, c) ||
			sb_slot_value(b, slot, c, &v, &err) != SB_OK)
			return false;
		/* a symbol-coded key's bytes are not its key part: the format
		 * tests look such keys up (test_compact.c) */
		if (v.encoded)
			return false;
		switch (col->key_kind)
		{
			case SB_KEY_INTEGER:
				if (v.len == 2)
					parts[k].ival = (int16_t) sb_load16(v.ptr);
				else if (v.len == 4)
					parts[k].ival = (int32_t) sb_load32(v.ptr);
				else
				{
					FUZZ_CHECK(v.len == 8, "integer key of %zu bytes", v.len);
					parts[k].ival = (int64_t) sb_load64(v.ptr);
				}
				break;
			case SB_KEY_BYTES:
			case SB_KEY_FLOAT:
				FUZZ_CHECK(v.len == (size_t) col->typlen &&
						   (col->key_kind == SB_KEY_BYTES || v.len == 4 || v.len == 8),
						   "fixed key of %zu bytes", v.len);
				parts[k].data = v.ptr;
				parts[k].len = v.len;
				break;
			case SB_KEY_VARLENA:
			case SB_KEY_BPCHAR:
				hdr = sb_varlena_header_size(v.ptr);
				FUZZ_CHECK((hdr == 1 || hdr == 4) && hdr <= v.len,
						   "varlena key with a %zu-byte header in %zu bytes",
						   hdr, v.len);
				parts[k].data = v.ptr + hdr;
				parts[k].len = v.len - hdr;
				break;
			case SB_KEY_HASHED:
				return false;	/* the row holds the value, not its hash */
			default:
				FUZZ_CHECK(false, "key column %d has kind %u", c, col->key_kind);
		}
	}
	return true;
}

/*
 * Look a row's key up again in an equal but different form: bpchar with
 * more trailing blanks, a float zero of the other sign, another NaN.
 */
static void
lookup_equivalent(fuzz_ctx *fc, const sb_key_part *orig, uint64_t row)
{
	sb_bundle  *b = fc->b;
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	unsigned char *bufs[SB_MAX_KEY_COLUMNS];
	bool		changed = false;

	memcpy(parts, orig, sizeof(sb_key_part) * b->nkeys);
	for (int k = 0; k < b->nkeys; k++)
	{
		const sb_column *col = &b->columns[b->key_columns[k]];
		unsigned char *p = NULL;

		if (col->key_kind == SB_KEY_BPCHAR)
		{
			p = malloc(parts[k].len + 3);
			FUZZ_CHECK(p != NULL, "out of memory");
			memcpy(p, parts[k].data, parts[k].len);
			memset(p + parts[k].len, ' ', 3);
			parts[k].data = p;
			parts[k].len += 3;
			changed = true;
		}
		else if (col->key_kind == SB_KEY_FLOAT)
		{
			p = malloc(parts[k].len);
			FUZZ_CHECK(p != NULL, "out of memory");
			memcpy(p, parts[k].data, parts[k].len);
			if (parts[k].len == 4)
			{
				float		f;

				memcpy(&f, p, 4);
				f = f == 0.0f ? -f : isnan(f) ? -NAN : f;
				memcpy(p, &f, 4);
			}
			else
			{
				double		d;

				memcpy(&d, p, 8);
				d = d == 0.0 ? -d : isnan(d) ? -(double) NAN : d;
				memcpy(p, &d, 8);
			}
			parts[k].data = p;
			changed = true;
		}
		bufs[k] = p;
	}
	if (changed)
		lookup_key(fc, parts, row);
	for (int k = 0; k < b->nkeys; k++)
		free(bufs[k]);
}

/* Look up the keys of (a sample of) the rows; each must find its row. */
static void
lookup_row_keys(fuzz_ctx *fc)
{
	sb_bundle  *b = fc->b;
	uint64_t	n = b->row_count,
				step = n <= MAX_ROW_LOOKUPS ? 1 : n / MAX_ROW_LOOKUPS;
	unsigned	done = 0;

	if (b->nkeys == 0 || (b->flags & SB_BUNDLE_APPROXIMATE))
		return;
	for (uint64_t r = 0; r < n && done < MAX_ROW_LOOKUPS; r += step, done++)
	{
		sb_key_part parts[SB_MAX_KEY_COLUMNS];

		if (!row_key_parts(fc, sb_row_slot(b, r), parts))
			continue;
		lookup_key(fc, parts, r);
		if (done < MAX_EQUIV_LOOKUPS)
			lookup_equivalent(fc, parts, r);
	}
}

/* A few bytes of the input, cycled, for synthetic keys. */
static void
fill_from_input(const fuzz_ctx *fc, unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = fc->size ? fc->base[(SB_HEADER_FIXED + i) % fc->size] : 0;
}

/*
 * Make variant 'v' of a synthetic key part for key column 'col'.  The data
 * is in a buffer of exactly its length, returned in *buf to be freed.
 */
static void
make_part(const fuzz_ctx *fc, const sb_column *col, int v, sb_key_part *part,
		  unsigned char **buf)
{
	static const int64_t ints[NVARIANTS] = {0, 1, -1, INT64_MIN, INT64_MAX, 42};
	static const char *const texts[NVARIANTS] = {"", "a", "abc   ", "   ", NULL, NULL};
	size_t		len = 0;
	unsigned char *p;

	memset(part, 0, sizeof(*part));
	switch (col->key_kind)
	{
		case SB_KEY_INTEGER:
			part->ival = ints[v];
			if (v == NVARIANTS - 1 && fc->size >= 8)
				part->ival = (int64_t) sb_load64(fc->base + fc->size - 8);
			*buf = NULL;
			return;
		case SB_KEY_FLOAT:
			FUZZ_CHECK(col->typlen == 4 || col->typlen == 8,
					   "float key of %d bytes", col->typlen);
			len = (size_t) col->typlen;
			break;
		case SB_KEY_BYTES:
			len = (size_t) col->typlen;
			break;
		case SB_KEY_HASHED:
			len = sizeof(uint64_t);
			break;
		default:
			len = texts[v] ? strlen(texts[v]) : v == 4 ? 300 : fc->size % 97;
			break;
	}
	p = malloc(len ? len : 1);
	FUZZ_CHECK(p != NULL, "out of memory");
	if (col->key_kind == SB_KEY_FLOAT && len == 4)
	{
		static const float fl[NVARIANTS] = {0.0f, -0.0f, NAN, -NAN, INFINITY, 1.5f};

		memcpy(p, &fl[v], 4);
	}
	else if (col->key_kind == SB_KEY_FLOAT)
	{
		static const double db[NVARIANTS] = {0.0, -0.0, NAN, -NAN, -INFINITY, 2.5};

		memcpy(p, &db[v], 8);
	}
	else if (col->key_kind == SB_KEY_BYTES || col->key_kind == SB_KEY_HASHED)
	{
		if (v < 4)
			memset(p, (const int[]) {0x00, 0xFF, ' ', 'a'}[v], len);
		else
			fill_from_input(fc, p, len);
	}
	else if (texts[v])
		memcpy(p, texts[v], len);
	else if (v == 4)
		memset(p, 'x', len);
	else
		fill_from_input(fc, p, len);
	part->data = p;
	part->len = len;
	*buf = p;
}

/* Look up synthetic keys, and check that probes of a wrong width fail. */
static void
lookup_synthetic(fuzz_ctx *fc)
{
	sb_bundle  *b = fc->b;
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	unsigned char *bufs[SB_MAX_KEY_COLUMNS];
	sb_error	err;
	uint64_t	hash;

	memset(parts, 0, sizeof(parts));
	if (b->nkeys == 0)
	{
		memset(&err, 0, sizeof(err));
		FUZZ_CHECK(sb_key_hash(b, parts, &hash, &err) == SB_ERR_INVALID,
				   "a key hash without a key");
		return;
	}
	for (int v = 0; v < NVARIANTS; v++)
	{
		for (int k = 0; k < b->nkeys; k++)
			make_part(fc, &b->columns[b->key_columns[k]], v, &parts[k], &bufs[k]);
		lookup_key(fc, parts, NO_ROW);
		for (int k = 0; k < b->nkeys; k++)
		{
			const sb_column *col = &b->columns[b->key_columns[k]];

			if (col->key_kind != SB_KEY_BYTES && col->key_kind != SB_KEY_FLOAT &&
				col->key_kind != SB_KEY_HASHED)
				continue;
			parts[k].len++;
			memset(&err, 0, sizeof(err));
			FUZZ_CHECK(sb_key_hash(b, parts, &hash, &err) == SB_ERR_INVALID &&
					   err.code == SB_ERR_INVALID,
					   "a key part of the wrong width was accepted");
			parts[k].len--;
		}
		for (int k = 0; k < b->nkeys; k++)
			free(bufs[k]);
	}
}

/* Walk the metadata entries and look some of them up by key. */
static void
iterate_meta(fuzz_ctx *fc)
{
	sb_bundle  *b = fc->b;
	uint64_t	pos = 0,
				prev = 0;
	const char *k,
			   *v,
			   *got;
	size_t		kl,
				vl,
				len;
	int			n = 0;

	while (sb_meta_next(b, &pos, &k, &kl, &v, &vl))
	{
		FUZZ_CHECK(pos > prev && in_input(fc, k, kl) && in_input(fc, v, vl),
				   "metadata entry %d outside the input", n);
		touch(fc, k, kl);
		touch(fc, v, vl);
		if (n < MAX_META_GETS && kl < 256 && memchr(k, 0, kl) == NULL)
		{
			char		key[256];

			memcpy(key, k, kl);
			key[kl] = 0;
			got = sb_meta_get(b, key, &len);
			FUZZ_CHECK(got != NULL && in_input(fc, got, len),
					   "metadata key %d not found", n);
			touch(fc, got, len);
		}
		prev = pos;
		n++;
	}
	FUZZ_CHECK(b->meta != NULL || n == 0, "metadata without a section");
	if ((got = sb_meta_get(b, "sharedbuf.fuzz.absent", &len)) != NULL)
		touch(fc, got, len);
}

/*
 * Merge into the bundle (sbmerge.c), dropping every third row: a base the
 * merge takes must give a file that opens, and that verifies when the
 * base did; any failure must be an error, never a crash.
 */
static void
merge_into(fuzz_ctx *fc)
{
	sb_writer_options o;
	sb_writer  *w = NULL;
	sb_bundle  *merged = NULL;
	sb_error	err;
	sb_status	st;
	char		path[] = "/tmp/sbfuzz_merge_XXXXXX";
	int			fd = mkstemp(path);

	FUZZ_CHECK(fd >= 0, "could not create a scratch file");
	close(fd);
	unlink(path);				/* the writer creates it, exclusively */
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.ncolumns = fc->b->info.ncolumns;
	o.columns = fc->b->info.columns;
	o.base = fc->b;
	memset(&err, 0, sizeof(err));
	if (sb_merge_check(fc->b, &o, &err) != SB_OK)
		return;
	st = sb_writer_create(&o, &w, &err);
	for (uint64_t r = 0; st == SB_OK && r < fc->b->row_count; r += 3)
		st = sb_writer_drop_base_row(w, r, &err);
	if (st == SB_OK)
		st = sb_writer_finish(w, NULL, &err);
	if (st != SB_OK)
		check_error(&err, st);
	sb_writer_free(w);
	if (st == SB_OK)
	{
		st = sb_open(path, &merged, &err);
		FUZZ_CHECK(st == SB_OK, "a merged bundle does not open: %s", err.detail);
		st = sb_verify(merged, &err);
		FUZZ_CHECK(st == SB_OK || !fc->verified,
				   "a merge into a valid bundle does not verify: %s", err.detail);
		sb_close(merged);
	}
	unlink(path);
}

/* Exercise the reader on one input; see the file header. */
int
sbfuzz_run_one(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size);
	sb_bundle  *b = NULL;
	sb_error	err;
	sb_status	st;
	fuzz_ctx	fc;

	FUZZ_CHECK(copy != NULL || size == 0, "out of memory");
	if (size > 0)
		memcpy(copy, data, size);
	memset(&err, 0, sizeof(err));
	st = sb_open_memory(copy, size, &b, &err);
	if (st != SB_OK)
	{
		FUZZ_CHECK(b == NULL, "a failed open returned a bundle");
		check_error(&err, st);
		free(copy);
		return 0;
	}
	FUZZ_CHECK(b != NULL && b->base == copy && b->size == size,
			   "the open bundle does not describe the input");

	memset(&fc, 0, sizeof(fc));
	fc.b = b;
	fc.base = copy;
	fc.size = size;
	memset(&err, 0, sizeof(err));
	st = sb_verify(b, &err);
	if (st != SB_OK)
		check_error(&err, st);
	fc.verified = st == SB_OK;

	check_bundle(&fc);
	iterate_rows(&fc);
	lookup_row_keys(&fc);
	lookup_synthetic(&fc);
	prewarm(&fc);
	iterate_meta(&fc);
	merge_into(&fc);

	sb_close(b);
	free(copy);
	return 0;
}
