/*-------------------------------------------------------------------------
 *
 * test_writer.c
 *	  Writer errors: invalid columns and options, values over the size
 *	  limit, calls in the wrong state, an existing output file, and the
 *	  removal of unfinished output.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* A valid schema to break: (int4 key, text, int2). */
static void
good_columns(sb_column *cols)
{
	cols[0] = tf_keyed(tf_col_int("id", 4), 1, SB_KEY_INTEGER);
	cols[1] = tf_col_text("t", true, 'i');
	cols[2] = tf_col_int("s", 2);
}

/* sb_writer_create must fail with 'want' and create no file. */
static void
expect_create(const sb_writer_options *o, sb_status want, const char *what)
{
	sb_writer  *w = (sb_writer *) &w;	/* must be reset to NULL */
	sb_error	err;
	sb_status	st;

	memset(&err, 0, sizeof(err));
	st = sb_writer_create(o, &w, &err);
	CHECKF(st == want, "%s: %s, expected %s (%s)", what, sb_status_name(st),
		   sb_status_name(want), err.detail);
	CHECKF(w == NULL, "%s: a writer was returned", what);
	CHECKF(st == SB_OK || err.code == st, "%s: err.code is %d", what, err.code);
	CHECKF(st == SB_OK || err.detail[0] != '\0', "%s: no detail", what);
	if (st == SB_OK)
		sb_writer_free(w);
	CHECKF(o->path == NULL || !tf_exists(o->path), "%s: the file was left", what);
}

/* Fields of a column definition that the bad-column cases change. */
typedef enum col_field
{
	F_NONE, F_TYPLEN, F_ALIGN, F_BYVAL, F_KEYPOS, F_KEYKIND, F_FLAGS,
	F_STORAGE, F_NAME, F_TYPE
} col_field;

/* A broken column: up to two fields of column col changed. */
typedef struct bad_case
{
	int			col;
	col_field	f1;
	int			v1;
	col_field	f2;
	int			v2;
	const char *what;
} bad_case;

static const bad_case bad_cases[] = {
	{0, F_TYPLEN, 0, F_NONE, 0, "typlen 0"},
	{1, F_TYPLEN, -2, F_NONE, 0, "typlen -2"},
	{0, F_ALIGN, 'x', F_NONE, 0, "typalign x"},
	{1, F_ALIGN, 0, F_NONE, 0, "typalign 0"},
	{2, F_TYPLEN, 16, F_BYVAL, 1, "by value with typlen 16"},
	{1, F_KEYPOS, 2, F_KEYKIND, SB_KEY_INTEGER, "integer key on text"},
	{0, F_BYVAL, 0, F_NONE, 0, "integer key not by value"},
	{2, F_KEYPOS, 2, F_KEYKIND, SB_KEY_FLOAT, "float key on int2"},
	{1, F_KEYPOS, 2, F_KEYKIND, SB_KEY_BYTES, "bytes key on text"},
	{0, F_KEYKIND, SB_KEY_VARLENA, F_NONE, 0, "varlena key on int4"},
	{0, F_KEYKIND, SB_KEY_BPCHAR, F_NONE, 0, "bpchar key on int4"},
	{0, F_KEYKIND, 9, F_NONE, 0, "key kind 9"},
	{2, F_KEYPOS, 2, F_NONE, 0, "key position without kind"},
	{2, F_KEYKIND, SB_KEY_INTEGER, F_NONE, 0, "key kind without position"},
	{2, F_KEYPOS, 1, F_KEYKIND, SB_KEY_INTEGER, "key position repeated"},
	{2, F_KEYPOS, 3, F_KEYKIND, SB_KEY_INTEGER, "key positions 1 and 3"},
	{2, F_KEYPOS, 33, F_KEYKIND, SB_KEY_INTEGER, "key position 33"},
	{2, F_FLAGS, SB_COLF_SHORT_VARLENA, F_NONE, 0, "short varlena flag on int2"},
	{1, F_FLAGS, 0x80, F_NONE, 0, "unknown flag"},
	{2, F_STORAGE, SB_STORAGE_BINARY, F_NONE, 0, "binary storage of int2"},
	{1, F_STORAGE, 7, F_NONE, 0, "storage 7"},
	{1, F_NAME, 0, F_NONE, 0, "no name"},
	{1, F_TYPE, 0, F_NONE, 0, "no type name"}
};

/* Change one field of a column definition. */
static void
set_field(sb_column *c, col_field f, int v)
{
	switch (f)
	{
		case F_NONE:
			break;
		case F_TYPLEN:
			c->typlen = (int16_t) v;
			break;
		case F_ALIGN:
			c->typalign = (char) v;
			break;
		case F_BYVAL:
			c->typbyval = v != 0;
			break;
		case F_KEYPOS:
			c->key_position = (uint8_t) v;
			break;
		case F_KEYKIND:
			c->key_kind = (uint8_t) v;
			break;
		case F_FLAGS:
			c->flags = (uint8_t) v;
			break;
		case F_STORAGE:
			c->storage = (uint8_t) v;
			break;
		case F_NAME:
			c->name = NULL;
			break;
		case F_TYPE:
			c->type_name = NULL;
			break;
	}
}

/* Invalid column definitions are refused, and no file is created. */
void
test_writer_bad_columns(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
	{
		const bad_case *bc = &bad_cases[i];
		sb_column	cols[3];
		sb_writer_options o;

		good_columns(cols);
		set_field(&cols[bc->col], bc->f1, bc->v1);
		set_field(&cols[bc->col], bc->f2, bc->v2);
		tf_options(&o, tf_path("bad.sb"), cols, 3);
		expect_create(&o, SB_ERR_INVALID, bc->what);
	}
}

/* Column counts and options. */
void
test_writer_bad_options(void)
{
	sb_column  *many = calloc(SB_MAX_COLUMNS + 1, sizeof(sb_column));
	sb_column	cols[3];
	char		longname[1100];
	sb_writer_options o;

	REQUIRE(many != NULL);
	for (int i = 0; i <= SB_MAX_COLUMNS; i++)
		many[i] = tf_col_int("c", 4);
	tf_options(&o, tf_path("bad.sb"), many, SB_MAX_COLUMNS + 1);
	expect_create(&o, SB_ERR_LIMIT, "1601 columns");
	o.ncolumns = 0;
	expect_create(&o, SB_ERR_LIMIT, "0 columns");
	o.ncolumns = -1;
	expect_create(&o, SB_ERR_LIMIT, "-1 columns");
	free(many);

	good_columns(cols);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cols[1].name = longname;
	tf_options(&o, tf_path("bad.sb"), cols, 3);
	expect_create(&o, SB_ERR_INVALID, "name of 1099 bytes");
	good_columns(cols);
	o.path = NULL;
	expect_create(&o, SB_ERR_INVALID, "no path");
	o.path = tf_path("bad.sb");
	o.section_align = 32;
	expect_create(&o, SB_ERR_INVALID, "section alignment 32");
	o.section_align = 96;
	expect_create(&o, SB_ERR_INVALID, "section alignment 96");
	o.section_align = 8192;
	expect_create(&o, SB_ERR_INVALID, "section alignment 8192");
	o.section_align = 0;
	cols[0] = tf_col_int("id", 4);
	o.approximate = true;
	expect_create(&o, SB_ERR_INVALID, "approximate without a key");
	o.approximate = false;
	o.path = tf_path("no/such/dir.sb");
	expect_create(&o, SB_ERR_IO, "missing directory");
	/* the output file is created before the spill file: it is removed */
	o.path = tf_path("bad.sb");
	o.temp_dir = tf_path("no_such_dir");
	expect_create(&o, SB_ERR_IO, "missing temporary directory");
	CHECK_EQ(tf_count_files(tf_dir()), 0);
}

/* A writer with one text column; NULL on failure. */
static sb_writer *
text_writer(const char *path)
{
	static sb_column col;
	sb_writer_options o;

	col = tf_col_text("t", false, 'i');
	tf_options(&o, path, &col, 1);
	return tf_create(&o);
}

/* A value over the size limit fails and poisons the writer. */
void
test_writer_value_limit(void)
{
	const char *path = tf_path("limit.sb");
	sb_writer  *w;
	sb_error	err;
	char		small[8] = "1234567";
	char	   *meta = malloc(600 * 1024);

	REQUIRE(meta != NULL);
	REQUIRE((w = text_writer(path)) != NULL);
	sb_writer_begin_row(w);
	tf_set_text(w, 0, "fine");
	tf_end_row(w);
	sb_writer_begin_row(w);
	/* the length is refused before the payload is read */
	CHECK_ST(sb_writer_set_varlena(w, 0, small, (size_t) SB_MAX_VALUE_SIZE - 3, &err),
			 SB_ERR_LIMIT, &err);
	CHECK_ST(sb_writer_set_varlena(w, 0, small, SIZE_MAX, &err), SB_ERR_STATE, &err);
	CHECK_ST(sb_writer_end_row(w, &err), SB_ERR_STATE, &err);
	CHECK_ST(sb_writer_finish(w, NULL, &err), SB_ERR_STATE, &err);
	CHECK(tf_exists(path));
	sb_writer_free(w);
	CHECK(!tf_exists(path));

	/* metadata beyond 1 MB */
	REQUIRE((w = text_writer(path)) != NULL);
	memset(meta, 'm', 600 * 1024 - 1);
	meta[600 * 1024 - 1] = '\0';
	CHECK_ST(sb_writer_add_meta(w, "a", meta, &err), SB_OK, &err);
	CHECK_ST(sb_writer_add_meta(w, "b", meta, &err), SB_ERR_LIMIT, &err);
	CHECK_ST(sb_writer_add_meta(w, "c", "small", &err), SB_OK, &err);
	CHECK_ST(sb_writer_finish(w, NULL, &err), SB_OK, &err);
	sb_writer_free(w);
	free(meta);
	{
		sb_bundle  *b = tf_open(path);
		size_t		len = 0;

		REQUIRE(b != NULL);
		CHECK(sb_meta_get(b, "a", &len) != NULL && len == 600 * 1024 - 1);
		CHECK(sb_meta_get(b, "b", &len) == NULL);
		CHECK(sb_meta_get(b, "c", &len) != NULL && len == 5);
		sb_close(b);
	}
}

/*
 * Setting a column twice in one row is refused and spoils the writer,
 * whose output is then removed.
 */
static void
set_twice(const sb_column *cols, bool fixed)
{
	const char *path = tf_path("twice.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_error	err;
	int32_t		v = 5;

	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	sb_writer_begin_row(w);
	if (fixed)
	{
		tf_set_fixed(w, 0, &v);
		CHECK_ST(sb_writer_set_fixed(w, 0, &v, &err), SB_ERR_STATE, &err);
	}
	else
	{
		tf_set_text(w, 1, "a");
		CHECK_ST(sb_writer_set_varlena(w, 1, "b", 1, &err), SB_ERR_STATE, &err);
	}
	CHECK_ST(sb_writer_end_row(w, &err), SB_ERR_STATE, &err);
	CHECK_ST(sb_writer_finish(w, NULL, &err), SB_ERR_STATE, &err);
	sb_writer_free(w);
	CHECK(!tf_exists(path));
}

/* Calls in the wrong state, and on the wrong columns. */
void
test_writer_state_errors(void)
{
	sb_column	cols[3];
	const char *path = tf_path("state.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_error	err;
	int32_t		v = 5;
	sb_bundle  *b;

	good_columns(cols);
	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	CHECK_ST(sb_writer_end_row(w, &err), SB_ERR_STATE, &err);
	CHECK_ST(sb_writer_set_fixed(w, 0, &v, &err), SB_ERR_STATE, &err);
	CHECK_ST(sb_writer_set_varlena(w, 1, "x", 1, &err), SB_ERR_STATE, &err);
	sb_writer_begin_row(w);
	CHECK_ST(sb_writer_set_fixed(w, 1, &v, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_set_varlena(w, 0, "x", 1, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_set_fixed(w, -1, &v, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_set_fixed(w, 3, &v, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_set_varlena(w, 3, "x", 1, &err), SB_ERR_INVALID, &err);
	CHECK_ST(sb_writer_finish(w, NULL, &err), SB_ERR_STATE, &err);
	/* those errors do not spoil the row or the writer */
	tf_set_int(w, 0, 4, 5);
	tf_end_row(w);
	CHECK_ST(sb_writer_end_row(w, &err), SB_ERR_STATE, &err);
	CHECK_EQ(sb_writer_rows(w), 1);
	CHECK_ST(sb_writer_finish(w, NULL, &err), SB_OK, &err);
	CHECK_ST(sb_writer_finish(w, NULL, &err), SB_ERR_STATE, &err);
	sb_writer_free(w);
	REQUIRE((b = tf_open(path)) != NULL);
	CHECK_EQ(b->row_count, 1);
	CHECK_EQ(tf_get_int(b, 0, 0), 5);
	CHECK(sb_slot_isnull(sb_bundle_info(b), sb_row_slot(b, 0), 1));
	sb_close(b);
	set_twice(cols, true);
	set_twice(cols, false);
}

/* An existing output file is an error (O_EXCL) and is left alone. */
void
test_writer_existing_file(void)
{
	const char *path = tf_path("exists.sb");
	sb_column	cols[3];
	sb_writer_options o;
	sb_writer  *w = NULL;
	sb_error	err;
	size_t		len = 0;
	unsigned char *data;

	REQUIRE(tf_write_file(path, "precious", 8));
	good_columns(cols);
	tf_options(&o, path, cols, 3);
	CHECK_ST(sb_writer_create(&o, &w, &err), SB_ERR_IO, &err);
	CHECK_EQ(err.sys_errno, EEXIST);
	CHECK(w == NULL);
	REQUIRE((data = tf_read_file(path, &len)) != NULL);
	CHECK(len == 8 && memcmp(data, "precious", 8) == 0);
	free(data);
}

/* Write rows enough to flush the heap and spill the index sort. */
static void
many_rows(sb_writer *w)
{
	char		buf[256];

	for (int r = 0; r < 200000; r++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 4, r);
		memset(buf, 'a' + r % 26, sizeof(buf));
		snprintf(buf, 16, "%d", r);
		tf_set_var(w, 1, buf, sizeof(buf));
		if (!tf_end_row(w))
			break;
	}
}

/* Freeing an unfinished writer removes its output and leaves no files. */
void
test_writer_free_unfinished(void)
{
	const char *path = tf_path("unfinished.sb");
	const char *tmp = tf_path("tmp");
	sb_column	cols[3];
	sb_writer_options o;
	sb_writer  *w;

	good_columns(cols);
	tf_options(&o, path, cols, 3);
	REQUIRE((w = tf_create(&o)) != NULL);
	CHECK(tf_exists(path));
	sb_writer_free(w);
	CHECK(!tf_exists(path));

	REQUIRE(mkdir(tmp, 0700) == 0);
	o.temp_dir = tmp;
	o.memory_budget = 1 << 20;
	REQUIRE((w = tf_create(&o)) != NULL);
	many_rows(w);
	CHECK(sb_writer_bytes(w) > 200000 * 256);
	sb_writer_free(w);
	CHECK(!tf_exists(path));
	CHECK_EQ(tf_count_files(tmp), 0);
	CHECK_EQ(tf_count_files(tf_dir()), 1);	/* tmp itself */
	sb_writer_free(NULL);
}
