/*-------------------------------------------------------------------------
 *
 * make_corpus.c
 *	  Write the seed corpus of the bundle fuzzers: small, valid bundles.
 *
 * Usage: make_corpus DIRECTORY
 *
 * Each bundle is made with the library's writer from a small description
 * (columns, options, rows) and generated values that cover what the
 * reader distinguishes: 0, 1 and many rows, integer, float, text, bpchar,
 * fixed-width byte, hashed and composite keys, approximate bundles, NULLs,
 * deduplicated values, values inside their row slot, metadata, and 1-byte
 * and 4-byte varlena headers.  The build time in the header is set to a
 * fixed value (and the header checksum recomputed) so that the output is
 * reproducible.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FIXED_BUILD_TIME	UINT64_C(1700000000000000)
#define MAX_COLS			24

/* Column definitions: name, key position (0 for none). */
#define COL(n, t, len, byval, align, kp, kind, stor, fl) \
	{ .name = (n), .type_name = (t), .typmod = -1, .typlen = (len), \
	  .typbyval = (byval), .typalign = (align), .key_position = (kp), \
	  .key_kind = (kp) ? (kind) : SB_KEY_NONE, .storage = (stor), \
	  .flags = (fl) }
#define BOOL(n)			COL(n, "pg_catalog.bool", 1, true, 'c', 0, 0, 0, 0)
#define INT2(n, kp)		COL(n, "pg_catalog.int2", 2, true, 's', kp, SB_KEY_INTEGER, 0, 0)
#define INT4(n, kp)		COL(n, "pg_catalog.int4", 4, true, 'i', kp, SB_KEY_INTEGER, 0, 0)
#define INT8(n, kp)		COL(n, "pg_catalog.int8", 8, true, 'd', kp, SB_KEY_INTEGER, 0, 0)
#define FLOAT4(n, kp)	COL(n, "pg_catalog.float4", 4, true, 'i', kp, SB_KEY_FLOAT, 0, 0)
#define FLOAT8(n, kp)	COL(n, "pg_catalog.float8", 8, true, 'd', kp, SB_KEY_FLOAT, 0, 0)
#define UUID(n, kp)		COL(n, "pg_catalog.uuid", 16, false, 'c', kp, SB_KEY_BYTES, 0, 0)
#define TEXT(n, kp)		COL(n, "pg_catalog.text", -1, false, 'i', kp, SB_KEY_VARLENA, 0, SB_COLF_SHORT_VARLENA)
#define TEXT4(n, kp)	COL(n, "pg_catalog.text", -1, false, 'i', kp, SB_KEY_VARLENA, 0, 0)
#define NUMERIC(n, kp)	COL(n, "pg_catalog.numeric", -1, false, 'i', kp, SB_KEY_HASHED, 0, SB_COLF_SHORT_VARLENA)
#define ARR8(n)			COL(n, "pg_catalog._float8", -1, false, 'd', 0, 0, 0, 0)
#define BYTEA_BIN(n)	COL(n, "public.point", -1, false, 'i', 0, 0, SB_STORAGE_BINARY, SB_COLF_SHORT_VARLENA)
#define BPCHAR(n, kp) \
	{ .name = (n), .type_name = "pg_catalog.bpchar", .typmod = 14, .typlen = -1, \
	  .typbyval = false, .typalign = 'i', .key_position = (kp), \
	  .key_kind = (kp) ? SB_KEY_BPCHAR : SB_KEY_NONE, \
	  .flags = SB_COLF_SHORT_VARLENA }

/* One bundle of the corpus. */
typedef struct bundle_spec
{
	const char *file;
	bool		approximate;
	bool		dedup;
	uint64_t	seed;
	int			nrows;
	int			key_mod;		/* distinct key values (0: one per row) */
	int			null_every;		/* about one value in this many is NULL */
	int			nmeta;			/* metadata entries */
	int			ncols;
	sb_column	cols[MAX_COLS];
	uint32_t	inline_limit;	/* 0: every value in the heap */
	bool		page_aligned;	/* data sections at 4096, not 64 */
	bool		compact;		/* compact encodings (format 5) */
} bundle_spec;

static const bundle_spec specs[] = {
	{"compact_int8_text.sb", false, true, 40, 200, 0, 6, 1,
	4, {INT8("id", 1), INT4("n", 0), TEXT("name", 0), TEXT4("note", 0)}, 256, false, true},
	{"compact_text_key.sb", false, false, 41, 120, 0, 5, 0,
	3, {TEXT("code", 1), INT2("s", 0), TEXT("rest", 0)}, 0, false, true},
	{"compact_approx.sb", true, false, 42, 80, 0, 0, 0,
	3, {INT4("a", 1), INT8("b", 0), TEXT("c", 0)}, 64, false, true},
	{"empty_int4.sb", false, false, 0, 0, 0, 0, 0,
	2, {INT4("id", 1), TEXT("name", 0)}},
	{"one_row_int4.sb", false, false, 0, 1, 0, 0, 1,
	2, {INT4("id", 1), TEXT("name", 0)}},
	{"one_row_text.sb", false, false, 7, 1, 0, 0, 0,
	2, {TEXT("code", 1), FLOAT8("value", 0)}},
	{"int4_text_dedup_meta.sb", false, true, 1, 60, 0, 0, 3,
	3, {INT4("id", 1), TEXT("name", 0), TEXT("city", 0)}},
	{"int8_many.sb", false, false, 2, 200, 0, 0, 0,
	2, {INT8("id", 1), INT4("n", 0)}},
	{"text_key_short_nulls.sb", false, false, 3, 80, 0, 9, 0,
	2, {TEXT("code", 1), INT4("n", 0)}},
	{"text_key_4byte.sb", false, false, 4, 50, 0, 0, 1,
	2, {TEXT4("code", 1), TEXT4("note", 0)}},
	{"float8_key.sb", false, false, 5, 40, 0, 0, 0,
	2, {FLOAT8("x", 1), INT2("n", 0)}},
	{"float4_key.sb", false, false, 6, 40, 0, 0, 0,
	2, {FLOAT4("x", 1), BOOL("flag")}},
	{"bpchar_key_dedup.sb", false, true, 8, 50, 20, 0, 0,
	2, {BPCHAR("code", 1), TEXT("label", 0)}},
	{"composite_int4_text.sb", false, true, 9, 70, 0, 0, 2,
	3, {INT4("a", 1), TEXT("b", 2), INT8("payload", 0)}},
	{"composite3_nulls.sb", false, false, 10, 40, 0, 7, 0,
	4, {TEXT("t", 1), INT2("s", 2), FLOAT8("f", 3), TEXT("rest", 0)}},
	{"approx_int4.sb", true, false, 11, 100, 0, 0, 0,
	2, {INT4("id", 1), TEXT("name", 0)}},
	{"approx_text.sb", true, false, 12, 50, 0, 0, 1,
	2, {TEXT("code", 1), INT4("n", 0)}},
	{"approx_composite.sb", true, true, 13, 40, 0, 0, 0,
	3, {INT4("a", 1), TEXT("b", 2), TEXT("c", 0)}},
	{"nokey_mixed_nulls.sb", false, true, 0, 30, 0, 4, 2,
	12, {BOOL("b"), INT2("s", 0), INT4("i", 0), INT8("l", 0),
		FLOAT4("f", 0), FLOAT8("d", 0), UUID("u", 0), TEXT("t", 0),
		TEXT4("t4", 0), BPCHAR("c", 0), ARR8("arr"), BYTEA_BIN("bin")}},
	{"uuid_bytes_key.sb", false, false, 14, 50, 0, 0, 0,
	2, {UUID("id", 1), INT4("n", 0)}},
	{"wide_meta.sb", false, false, 15, 10, 0, 5, 10,
	20, {INT4("k", 1), BOOL("c1"), INT2("c2", 0), INT4("c3", 0), INT8("c4", 0),
		FLOAT4("c5", 0), FLOAT8("c6", 0), UUID("c7", 0), TEXT("c8", 0),
		TEXT4("c9", 0), BPCHAR("c10", 0), ARR8("c11"), BYTEA_BIN("c12"),
		INT4("c13", 0), TEXT("c14", 0), INT2("c15", 0), BOOL("c16"),
		FLOAT8("c17", 0), TEXT("c18", 0), INT8("c19", 0)}},
	{"dedup_long_values.sb", false, true, 16, 40, 0, 0, 0,
	3, {INT4("id", 1), TEXT("body", 0), ARR8("arr")}},
	{"int2_dup_keys.sb", false, false, 17, 100, 7, 0, 0,
	2, {INT2("k", 1), INT4("n", 0)}},
	{"binary_storage.sb", false, true, 18, 30, 0, 6, 0,
	2, {INT8("id", 1), BYTEA_BIN("pt")}},
	{"int4_many.sb", false, false, UINT64_C(0x9E3779B97F4A7C15),
		300, 0, 0, 0,
	1, {INT4("id", 1)}},
	{"all_null_keys.sb", false, false, 19, 10, 0, 1, 0,
	2, {TEXT("code", 1), INT4("n", 0)}},
	{"inline_int8_text.sb", false, false, 20, 80, 0, 6, 1,
	3, {INT8("id", 1), TEXT("name", 0), TEXT4("note", 0)}, 256},
	{"inline_text_key.sb", false, false, 21, 60, 0, 5, 0,
	3, {TEXT("code", 1), ARR8("arr"), TEXT4("note", 0)}, 128},
	{"inline_approx.sb", true, false, 22, 50, 0, 0, 0,
	3, {INT4("a", 1), TEXT("b", 2), TEXT("c", 0)}, 64},
	{"empty_int8.sb", false, false, 23, 0, 0, 0, 0,
	2, {INT8("id", 1), TEXT("name", 0)}},
	{"inline_int8_text_many.sb", false, false, 24, 200, 0, 6, 1,
	3, {INT8("id", 1), TEXT("name", 0), TEXT4("note", 0)}, 256, true},
	{"text_key_dedup_nulls.sb", false, true, 26, 80, 0, 9, 0,
	2, {TEXT("code", 1), TEXT("label", 0)}, 0, true},
	{"inline_approx_many.sb", true, false, 27, 120, 0, 0, 0,
	3, {INT4("a", 1), TEXT("b", 2), TEXT("c", 0)}, 64},
	{"hashed_key_nulls.sb", false, false, 28, 90, 30, 8, 1,
	2, {NUMERIC("n", 1), TEXT("t", 0)}, 64},
	{"hashed_composite.sb", false, true, 29, 60, 20, 0, 0,
	3, {INT4("a", 1), NUMERIC("n", 2), TEXT4("c", 0)}},
};

/* Is value (row, col) NULL in this spec? */
static bool
is_null(const bundle_spec *s, int row, int col)
{
	return s->null_every > 0 && (row * 31 + col * 7) % s->null_every == 0;
}

/* The generated text of (row, col): short, empty or long. */
static size_t
make_text(int row, int col, int key, char *buf, size_t cap)
{
	if (key >= 0)
		return (size_t) snprintf(buf, cap, "key-%d", key);
	if (row % 11 == 3)
		return 0;
	if (row % 5 == 0)
	{
		size_t		n = 130 + (size_t) (row % 3) * 40;

		for (size_t i = 0; i < n && i < cap; i++)
			buf[i] = (char) ('a' + (i + (size_t) col) % 26);
		return n < cap ? n : cap;
	}
	return (size_t) snprintf(buf, cap, "v%d-%d", row % 10, col);
}

/* Set column 'col' of the current row from generated values. */
static int
set_value(sb_writer *w, const bundle_spec *s, int row, int col, char *buf,
		  size_t cap, sb_error *err)
{
	const sb_column *c = &s->cols[col];
	int			k = s->key_mod > 0 ? row % s->key_mod : row;
	int			key = c->key_position > 0 ? k : -1;
	int			v = key >= 0 ? key : row;
	size_t		len;
	int			st;

	switch (c->typlen)
	{
		case 1:
			buf[0] = (char) (v & 1);
			break;
		case 2:
			{
				int16_t		x = (int16_t) (v % 2 ? -v : v);

				memcpy(buf, &x, 2);
				break;
			}
		case 4:
			if (c->key_kind == SB_KEY_FLOAT || strcmp(c->type_name, "pg_catalog.float4") == 0)
			{
				static const float special[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY};
				float		f = v < 5 ? special[v] : (float) v * 1.25f;

				memcpy(buf, &f, 4);
			}
			else
			{
				int32_t		x = v % 3 == 2 ? -v * 1000 : v;

				memcpy(buf, &x, 4);
			}
			break;
		case 8:
			if (c->key_kind == SB_KEY_FLOAT || strcmp(c->type_name, "pg_catalog.float8") == 0)
			{
				static const double special[] = {0.0, -0.0, NAN, INFINITY, -INFINITY};
				double		d = v < 5 ? special[v] : (double) v * -2.5;

				memcpy(buf, &d, 8);
			}
			else
			{
				int64_t		x = (int64_t) v * INT64_C(1000000007);

				if (v % 4 == 1)
					x = -x;
				memcpy(buf, &x, 8);
			}
			break;
		case 16:
			for (int i = 0; i < 16; i++)
				buf[i] = (char) (v * 7 + i * 13);
			break;
		case -1:
			if (c->key_kind == SB_KEY_BPCHAR || strcmp(c->type_name, "pg_catalog.bpchar") == 0)
			{
				char		word[16];

				if (key >= 0)
					snprintf(word, sizeof(word), "c%d", key);
				else
					snprintf(word, sizeof(word), "%s", row % 2 ? "x" : "yy");
				/* blank-padded to the width, as char(10) stores it */
				len = (size_t) snprintf(buf, cap, "%-10.10s", word);
			}
			else if (c->storage == SB_STORAGE_BINARY || c->typalign == 'd')
			{
				len = (size_t) (row % 4) * 8 + 16;
				for (size_t i = 0; i < len; i++)
					buf[i] = (char) (row + i);
			}
			else
				len = make_text(row, col, key, buf, cap);
			if (c->key_kind != SB_KEY_HASHED)
				return sb_writer_set_varlena(w, col, buf, len, err);
			/* a hashed key: the caller's hash of the value */
			if ((st = sb_writer_set_varlena(w, col, buf, len, err)) != SB_OK)
				return st;
			return sb_writer_set_key_hash(w, col, (uint64_t) key * UINT64_C(0x9E3779B97F4A7C15),
										  err);
		default:
			return SB_ERR_INVALID;
	}
	return sb_writer_set_fixed(w, col, buf, err);
}

/* Set the build time in the header to a fixed value and re-checksum it. */
static int
normalize(const char *path)
{
	unsigned char hdr[SB_HEADER_FIXED + SB_MAX_SECTIONS * SB_SECTION_ENTRY];
	FILE	   *f = fopen(path, "r+b");
	uint32_t	hsize;

	if (f == NULL || fread(hdr, 1, SB_HEADER_FIXED, f) != SB_HEADER_FIXED)
		return -1;
	hsize = sb_load32(hdr + SB_HDR_HEADER_SIZE);
	if (hsize < SB_HEADER_FIXED || hsize > sizeof(hdr) ||
		fread(hdr + SB_HEADER_FIXED, 1, hsize - SB_HEADER_FIXED, f) !=
		hsize - SB_HEADER_FIXED)
		return -1;
	sb_store64(hdr + SB_HDR_BUILD_TIME, FIXED_BUILD_TIME);
	sb_store64(hdr + SB_HDR_CHECKSUM, 0);
	sb_store64(hdr + SB_HDR_CHECKSUM, sb_checksum(hdr, hsize));
	if (fseek(f, 0, SEEK_SET) != 0 || fwrite(hdr, 1, hsize, f) != hsize)
		return -1;
	return fclose(f);
}

/* Check that a written bundle opens and passes full verification. */
static int
check_bundle(const char *path)
{
	sb_bundle  *b;
	sb_error	err;
	sb_status	st;

	if ((st = sb_open(path, &b, &err)) == SB_OK)
	{
		st = sb_verify(b, &err);
		sb_close(b);
	}
	if (st != SB_OK)
		fprintf(stderr, "make_corpus: %s does not verify: %s: %s\n", path,
				sb_status_name(st), err.detail);
	return st == SB_OK ? 0 : -1;
}

/* Write one bundle of the corpus; 0 on success. */
static int
write_bundle(const char *dir, const bundle_spec *s)
{
	char		path[4096];
	char		bufs[MAX_COLS][256];
	sb_writer_options o;
	sb_writer  *w = NULL;
	sb_error	err;
	sb_status	st;

	snprintf(path, sizeof(path), "%s/%s", dir, s->file);
	if (unlink(path) != 0 && errno != ENOENT)
		return -1;
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.temp_dir = dir;
	o.hash_seed = s->seed;
	o.approximate = s->approximate;
	o.dedup = s->dedup;
	o.pg_major = 15;
	o.inline_limit = s->inline_limit;
	o.compact = s->compact;
	o.section_align = s->page_aligned ? 0 : 64;
	o.ncolumns = s->ncols;
	o.columns = s->cols;
	if ((st = sb_writer_create(&o, &w, &err)) != SB_OK)
		goto fail;
	for (int m = 0; m < s->nmeta; m++)
	{
		char		key[32],
					value[64];

		if (m == 0)
			snprintf(key, sizeof(key), "source");
		else
			snprintf(key, sizeof(key), "key.%d", m);
		if (m % 3 == 2)
			value[0] = 0;		/* an empty value */
		else
			snprintf(value, sizeof(value), "value %d of the build", m);
		if ((st = sb_writer_add_meta(w, key, value, &err)) != SB_OK)
			goto fail;
	}
	for (int r = 0; r < s->nrows; r++)
	{
		sb_writer_begin_row(w);
		for (int c = 0; c < s->ncols; c++)
		{
			if (is_null(s, r, c))
				continue;
			if ((st = set_value(w, s, r, c, bufs[c], sizeof(bufs[c]), &err)) != SB_OK)
				goto fail;
		}
		if ((st = sb_writer_end_row(w, &err)) != SB_OK)
			goto fail;
	}
	if ((st = sb_writer_finish(w, NULL, &err)) != SB_OK)
		goto fail;
	sb_writer_free(w);
	if (normalize(path) != 0)
	{
		fprintf(stderr, "make_corpus: could not rewrite the header of %s\n", path);
		return -1;
	}
	return check_bundle(path);

fail:
	fprintf(stderr, "make_corpus: %s: %s: %s\n", s->file, sb_status_name(st),
			err.detail);
	sb_writer_free(w);
	return -1;
}

/* Write every bundle of the corpus into the directory given. */
int
main(int argc, char **argv)
{
	int			failed = 0;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (write_bundle(argv[1], &specs[i]) != 0)
			failed = 1;
	return failed;
}
