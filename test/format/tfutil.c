/*-------------------------------------------------------------------------
 *
 * tfutil.c
 *	  Helpers shared by the format tests: columns, building, reading,
 *	  lookups and files.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Compare a status with the expected one; show names and the detail. */
bool
tf_check_status(const char *file, int line, const char *expr, int got,
				sb_status want, const sb_error *err)
{
	if (got == (int) want)
		return true;
	tf_fail(file, line, "%s returned %s, expected %s%s%s", expr,
			sb_status_name((sb_status) got), sb_status_name(want),
			err && got != SB_OK ? ": " : "",
			err && got != SB_OK ? err->detail : "");
	return false;
}

/* A non-key column of a fixed or variable length type. */
sb_column
tf_col(const char *name, const char *type, int16_t typlen, bool byval,
	   char align)
{
	sb_column	c;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.type_name = type;
	c.typmod = -1;
	c.typlen = typlen;
	c.typbyval = byval;
	c.typalign = align;
	return c;
}

/* An int2, int4 or int8 column. */
sb_column
tf_col_int(const char *name, int width)
{
	switch (width)
	{
		case 2:
			return tf_col(name, "pg_catalog.int2", 2, true, 's');
		case 4:
			return tf_col(name, "pg_catalog.int4", 4, true, 'i');
		default:
			return tf_col(name, "pg_catalog.int8", 8, true, 'd');
	}
}

/* A float4 or float8 column. */
sb_column
tf_col_float(const char *name, int width)
{
	if (width == 4)
		return tf_col(name, "pg_catalog.float4", 4, true, 'i');
	return tf_col(name, "pg_catalog.float8", 8, true, 'd');
}

/* A text-like column; shortok allows 1-byte varlena headers. */
sb_column
tf_col_text(const char *name, bool shortok, char align)
{
	sb_column	c = tf_col(name, "pg_catalog.text", -1, false, align);

	if (shortok)
		c.flags = SB_COLF_SHORT_VARLENA;
	return c;
}

/* Make a column the position-th key column, compared as 'kind'. */
sb_column
tf_keyed(sb_column c, int position, sb_key_kind kind)
{
	c.key_position = (uint8_t) position;
	c.key_kind = (uint8_t) kind;
	return c;
}

/* Default writer options for a path and schema. */
void
tf_options(sb_writer_options *o, const char *path, const sb_column *cols,
		   int ncols)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->memory_budget = 16 << 20;
	o->hash_seed = UINT64_C(0x5EED5EED12345678);
	o->dedup = true;
	o->pg_major = 15;
	o->inline_limit = tf_inline_limit;
	o->ncolumns = ncols;
	o->columns = cols;
}

/* Create a writer; NULL (and a failed check) if that fails. */
sb_writer *
tf_create(const sb_writer_options *o)
{
	sb_writer  *w = NULL;
	sb_error	err;
	sb_status	st = sb_writer_create(o, &w, &err);

	if (!CHECK_ST(st, SB_OK, &err))
		return NULL;
	return w;
}

/* Set an integer column of the given width. */
bool
tf_set_int(sb_writer *w, int col, int width, int64_t v)
{
	unsigned char img[8];
	int16_t		v2 = (int16_t) v;
	int32_t		v4 = (int32_t) v;

	if (width == 2)
		memcpy(img, &v2, 2);
	else if (width == 4)
		memcpy(img, &v4, 4);
	else
		memcpy(img, &v, 8);
	return tf_set_fixed(w, col, img);
}

/* Set a fixed-length column from its image. */
bool
tf_set_fixed(sb_writer *w, int col, const void *image)
{
	sb_error	err;

	return CHECK_ST(sb_writer_set_fixed(w, col, image, &err), SB_OK, &err);
}

/* Set a variable-length column from a payload. */
bool
tf_set_var(sb_writer *w, int col, const void *p, size_t len)
{
	sb_error	err;

	return CHECK_ST(sb_writer_set_varlena(w, col, p, len, &err), SB_OK, &err);
}

/* Set a variable-length column from a C string (without its NUL). */
bool
tf_set_text(sb_writer *w, int col, const char *s)
{
	return tf_set_var(w, col, s, strlen(s));
}

/* End the current row. */
bool
tf_end_row(sb_writer *w)
{
	sb_error	err;

	return CHECK_ST(sb_writer_end_row(w, &err), SB_OK, &err);
}

/*
 * Open a bundle, verify it and check it against the writer's rules; NULL
 * (and a failed check) if it does not open or verify.
 */
sb_bundle *
tf_open(const char *path)
{
	sb_bundle  *b = NULL;
	sb_error	err;

	if (!CHECK_ST(sb_open(path, &b, &err), SB_OK, &err))
		return NULL;
	if (!CHECK_ST(sb_verify(b, &err), SB_OK, &err))
	{
		sb_close(b);
		return NULL;
	}
	CHECKF(tf_check_conformance(b), "\"%s\" does not follow the writer's rules",
		   path);
	return b;
}

/*
 * Finish and free a writer, then open and verify its bundle.  Returns the
 * open bundle, or NULL (and a failed check).
 */
sb_bundle *
tf_finish(sb_writer *w, const char *path, sb_build_stats *stats)
{
	sb_error	err;
	sb_build_stats local;
	sb_status	st;

	if (w == NULL)
		return NULL;
	st = sb_writer_finish(w, stats ? stats : &local, &err);
	sb_writer_free(w);
	if (!CHECK_ST(st, SB_OK, &err))
		return NULL;
	return tf_open(path);
}

/*
 * Finish a writer, then load the file into memory and open that image in
 * place, for tests that damage copies of it.  NULL (and a failed check)
 * on failure; the caller frees *img.
 */
sb_bundle *
tf_finish_image(sb_writer *w, const char *path, unsigned char **img,
				size_t *len)
{
	sb_bundle  *b = tf_finish(w, path, NULL);
	sb_error	err;

	*img = NULL;
	if (b == NULL)
		return NULL;
	sb_close(b);
	if ((*img = tf_read_file(path, len)) == NULL ||
		!CHECK_ST(sb_open_memory(*img, *len, &b, &err), SB_OK, &err))
		return NULL;
	return b;
}

/* An integer column's value (2, 4 or 8 bytes); a failed check if NULL. */
int64_t
tf_get_int(sb_bundle *b, uint64_t row, int col)
{
	const unsigned char *slot = sb_row_slot(b, row);
	sb_value	v;
	sb_error	err;
	int16_t		v2;
	int32_t		v4;
	int64_t		v8;

	if (!CHECKF(slot != NULL && !sb_slot_isnull(sb_bundle_info(b), slot, col),
				"row %llu column %d is missing or NULL",
				(unsigned long long) row, col) ||
		!CHECK_ST(sb_slot_value(b, slot, col, &v, &err), SB_OK, &err))
		return 0;
	if (v.len == 2)
		return (memcpy(&v2, v.ptr, 2), v2);
	if (v.len == 4)
		return (memcpy(&v4, v.ptr, 4), v4);
	CHECK_EQ(v.len, 8);
	return (memcpy(&v8, v.ptr, 8), v8);
}

/* A non-NULL variable-length value of a row (image, header included). */
bool
tf_get_var(sb_bundle *b, uint64_t row, int col, sb_value *v)
{
	const unsigned char *slot = sb_row_slot(b, row);
	sb_error	err;

	if (!CHECKF(slot != NULL && !sb_slot_isnull(sb_bundle_info(b), slot, col),
				"row %llu column %d is missing or NULL",
				(unsigned long long) row, col))
		return false;
	return CHECK_ST(sb_slot_value(b, slot, col, v, &err), SB_OK, &err);
}

/* Does a variable-length value hold exactly this payload? */
bool
tf_text_is(sb_bundle *b, uint64_t row, int col, const void *payload,
		   size_t len)
{
	sb_value	v;
	size_t		hl,
				cap = 0;
	unsigned char *buf = NULL;
	sb_error	err;
	bool		ok;

	if (!tf_get_var(b, row, col, &v) ||
		!CHECK_ST(sb_value_materialize(b, col, &v, &buf, &cap, &err), SB_OK, &err))
		return false;
	hl = sb_varlena_header_size(v.ptr);
	ok = CHECKF(hl > 0 && v.len == hl + len &&
				memcmp(v.ptr + hl, payload, len) == 0,
				"row %llu column %d: value of %zu bytes differs from the %zu written",
				(unsigned long long) row, col, v.len, len);
	free(buf);
	return ok;
}

/* Look a key up; store up to max rows found; return how many or -1. */
int
tf_lookup(sb_bundle *b, const sb_key_part *parts, uint64_t *rows,
		  int max)
{
	sb_lookup	it;
	sb_error	err;
	uint64_t	hash,
				row;
	int			n = 0,
				r;

	for (int i = 0; i < max; i++)
		rows[i] = UINT64_MAX;	/* what a test reads where no row was found */
	if (!CHECK_ST(sb_key_hash(b, parts, &hash, &err), SB_OK, &err))
		return -1;
	sb_lookup_prefetch(b, hash);
	sb_lookup_start(b, parts, hash, &it);
	while ((r = sb_lookup_next(b, &it, &row, &err)) == 1)
	{
		if (n < max)
			rows[n] = row;
		n++;
	}
	if (!CHECK_ST(r, SB_OK, &err))
		return -1;
	/* the end is sticky */
	CHECK_EQ(sb_lookup_next(b, &it, &row, &err), 0);
	return n;
}

/* Look up a single integer key. */
int
tf_lookup_int(sb_bundle *b, int64_t v, uint64_t *rows, int max)
{
	sb_key_part p = {NULL, 0, v};

	return tf_lookup(b, &p, rows, max);
}

/* Look up a single variable-length key. */
int
tf_lookup_text(sb_bundle *b, const char *s, uint64_t *rows, int max)
{
	sb_key_part p = {s, strlen(s), 0};

	return tf_lookup(b, &p, rows, max);
}

/* Run fn(arg) with sb_test_hash_mask set to mask; then restore it. */
void
tf_with_hash_mask(uint64_t mask, void (*fn) (void *), void *arg)
{
	uint64_t	saved = sb_test_hash_mask;

	sb_test_hash_mask = mask;
	fn(arg);
	sb_test_hash_mask = saved;
}

/* Read a whole file into malloc'd memory; NULL on failure. */
unsigned char *
tf_read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long		size;

	if (!CHECKF(f != NULL, "could not open \"%s\": %s", path, strerror(errno)))
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
		fseek(f, 0, SEEK_SET) == 0 &&
		(buf = malloc(size ? (size_t) size : 1)) != NULL &&
		fread(buf, 1, (size_t) size, f) == (size_t) size)
		*len = (size_t) size;
	else
	{
		tf_fail(__FILE__, __LINE__, "could not read \"%s\"", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Write a whole file, replacing it. */
bool
tf_write_file(const char *path, const void *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");
	bool		ok;

	if (!CHECKF(f != NULL, "could not create \"%s\": %s", path, strerror(errno)))
		return false;
	ok = fwrite(data, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	return CHECKF(ok, "could not write \"%s\"", path);
}

/* Does a path exist? */
bool
tf_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries in a directory, "." and ".." not counted. */
int
tf_count_files(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	int			n = 0;

	if (!CHECK(d != NULL))
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}
