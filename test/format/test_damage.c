/*-------------------------------------------------------------------------
 *
 * test_damage.c
 *	  Damaged bundles: sb_open and sb_verify fail with the right status,
 *	  and never crash, on damage to every part of a file.
 *
 * Each case damages a copy of a small valid bundle.  Damage "unfixed"
 * leaves the checksums as they were, so a checksum must catch it; damage
 * "fixed" recomputes every checksum, so that the structural checks behind
 * them are reached.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NROWS 40

/* A valid bundle image, and where its parts are. */
typedef struct base
{
	unsigned char *img;
	size_t		len;
	sb_bundle  *b;				/* the image opened in place */
	uint64_t	schema,
				rows,
				heap,
				entries,
				meta;			/* section offsets */
	uint64_t	heap_len,
				entries_len;
} base;

/* Write the base bundle's rows: keys with duplicates and NULLs. */
static void
base_rows(sb_writer *w)
{
	char		buf[64];

	for (int r = 0; r < NROWS; r++)
	{
		sb_writer_begin_row(w);
		if (r % 11 != 5)
			tf_set_int(w, 0, 4, r % 30);
		if (r % 5 != 0)
			tf_set_text(w, 1, (snprintf(buf, sizeof(buf), "s%d", r % 7), buf));
		tf_set_int(w, 2, 2, r);
		memset(buf, 'a' + r % 26, (r % 9) * 3 + 1);
		tf_set_var(w, 3, buf, (r % 9) * 3 + 1);
		tf_end_row(w);
	}
}

/* Build the base bundle, with metadata or not, and load its image. */
static bool
base_load_meta(base *d, bool meta)
{
	sb_column	cols[4] = {
		tf_keyed(tf_col_int("k", 4), 1, SB_KEY_INTEGER),
		tf_col_text("s", true, 'i'),
		tf_col_int("n", 2),
		tf_col_text("d", false, 'd')
	};
	const char *path = tf_path(meta ? "base.sb" : "base_nometa.sb");
	sb_writer_options o;
	sb_writer  *w;
	uint64_t	len;

	memset(d, 0, sizeof(*d));
	tf_options(&o, path, cols, 4);
	o.inline_limit = 0;			/* damaged by its heap layout; see inline_damage */
	if ((w = tf_create(&o)) == NULL)
		return false;
	if (meta)
	{
		sb_writer_add_meta(w, "source", "test", NULL);
		sb_writer_add_meta(w, "rows", "40", NULL);
	}
	base_rows(w);
	if ((d->b = tf_finish_image(w, path, &d->img, &d->len)) == NULL)
		return false;
	tf_section(d->img, SB_SECTION_SCHEMA, &d->schema, &len);
	tf_section(d->img, SB_SECTION_ROWS, &d->rows, &len);
	tf_section(d->img, SB_SECTION_HEAP, &d->heap, &d->heap_len);
	tf_section(d->img, SB_SECTION_ENTRIES, &d->entries, &d->entries_len);
	tf_section(d->img, SB_SECTION_META, &d->meta, &len);
	return CHECK(d->heap_len > 0 && d->entries_len > 0 && (len > 0) == meta);
}

/* The base bundle, with metadata. */
static bool
base_load(base *d)
{
	return base_load_meta(d, true);
}

/* Release a base. */
static void
base_free(base *d)
{
	sb_close(d->b);
	free(d->img);
}

/* A copy of the base image, to damage. */
static unsigned char *
copy(const base *d)
{
	unsigned char *img = malloc(d->len);

	if (img)
		memcpy(img, d->img, d->len);
	return img;
}

/*
 * Check a damaged copy: recompute the checksums if 'fix', then expect
 * 'want' from opening and verifying it.  Frees the copy.
 */
static void
expect(const base *d, unsigned char *img, bool fix, sb_status want,
	   const char *what)
{
	sb_error	err;
	sb_status	st;

	if (!CHECK(img != NULL))
		return;
	if (fix)
		tf_fix_checksums(img, d->len);
	memset(&err, 0, sizeof(err));
	st = tf_damaged_status(img, d->len, &err);
	CHECKF(st == want, "%s (%s): %s, expected %s%s%s", what,
		   fix ? "fixed" : "unfixed", sb_status_name(st), sb_status_name(want),
		   st != SB_OK ? ": " : "", st != SB_OK ? err.detail : "");
	free(img);
}

/* A copy of the base with a byte stored at 'off'. */
static unsigned char *
put8(const base *d, uint64_t off, uint8_t v)
{
	unsigned char *img = copy(d);

	if (img)
		img[off] = v;
	return img;
}

/* A copy of the base with a u16 stored at 'off'. */
static unsigned char *
put16(const base *d, uint64_t off, uint16_t v)
{
	unsigned char *img = copy(d);

	if (img)
		sb_store16(img + off, v);
	return img;
}

/* A copy of the base with a u32 stored at 'off'. */
static unsigned char *
put32(const base *d, uint64_t off, uint32_t v)
{
	unsigned char *img = copy(d);

	if (img)
		sb_store32(img + off, v);
	return img;
}

/* A copy of the base with a u64 stored at 'off'. */
static unsigned char *
put64(const base *d, uint64_t off, uint64_t v)
{
	unsigned char *img = copy(d);

	if (img)
		sb_store64(img + off, v);
	return img;
}

/* Flip one byte (all its bits) in a copy. */
static unsigned char *
flip(const base *d, uint64_t off)
{
	return put8(d, off, d->img[off] ^ 0xFF);
}

/* Every byte of a range flipped without fixing: a checksum catches it. */
static void
expect_range_checksum(const base *d, uint64_t off, uint64_t len,
					  const char *what)
{
	char		buf[96];

	for (uint64_t i = 0; i < len && tf_failures() == 0; i++)
	{
		snprintf(buf, sizeof(buf), "%s byte %llu", what, (unsigned long long) i);
		expect(d, flip(d, off + i), false, SB_ERR_CHECKSUM, buf);
	}
}

/* Offset of field f of section-table entry i. */
#define SEC(i, f) (SB_HEADER_FIXED + (i) * SB_SECTION_ENTRY + (f))

/* Index in the table of a section kind, or -1. */
static int
sec_index(const base *d, uint32_t kind)
{
	for (int i = 0; i < d->b->nsections; i++)
		if (sb_load32(d->img + SEC(i, SB_SEC_KIND)) == kind)
			return i;
	return -1;
}

/* Where a field case's offset is taken from. */
typedef enum part
{
	P_HEADER,					/* the fixed header */
	P_SECTION,					/* the table entry of section kind 'index' */
	P_COLUMN					/* the schema record of column 'index' */
} part;

/*
 * One damaged field: set it to 'value', or add 'value' to it if
 * 'relative'; recompute the checksums if 'fix'; expect 'want'.
 */
typedef struct field_case
{
	part		part;
	int			index;
	uint32_t	off;
	int			width;
	bool		relative;
	int64_t		value;
	bool		fix;
	sb_status	want;
	const char *what;
} field_case;

#define C_OK		SB_OK
#define C_CORRUPT	SB_ERR_CORRUPT
#define C_UNSUPP	SB_ERR_UNSUPPORTED
#define C_TRUNC		SB_ERR_TRUNCATED
#define C_OBSOLETE	SB_ERR_OBSOLETE

static const field_case header_cases[] = {
	{P_HEADER, 0, SB_HDR_ROW_COUNT, 8, true, 1, true, C_CORRUPT, "row count + 1"},
	{P_HEADER, 0, SB_HDR_ROW_COUNT, 8, true, -1, true, C_CORRUPT, "row count - 1"},
	{P_HEADER, 0, SB_HDR_ROW_COUNT, 8, false, 0, true, C_CORRUPT, "row count 0"},
	{P_HEADER, 0, SB_HDR_INDEXED, 8, true, 1, true, C_CORRUPT, "indexed + 1"},
	{P_HEADER, 0, SB_HDR_INDEXED, 8, true, -1, true, C_CORRUPT, "indexed - 1"},
	{P_HEADER, 0, SB_HDR_NCOLUMNS, 4, false, 0, true, C_CORRUPT, "0 columns"},
	{P_HEADER, 0, SB_HDR_NCOLUMNS, 4, false, 3, true, C_CORRUPT, "3 columns"},
	{P_HEADER, 0, SB_HDR_NCOLUMNS, 4, false, 1601, true, C_CORRUPT, "1601 columns"},
	{P_HEADER, 0, SB_HDR_NKEYS, 4, false, 0, true, C_CORRUPT, "0 keys"},
	{P_HEADER, 0, SB_HDR_NKEYS, 4, false, 2, true, C_CORRUPT, "2 keys"},
	{P_HEADER, 0, SB_HDR_NKEYS, 4, false, 33, true, C_CORRUPT, "33 keys"},
	{P_HEADER, 0, SB_HDR_ROW_SIZE, 4, false, 0, true, C_CORRUPT, "row size 0"},
	{P_HEADER, 0, SB_HDR_ROW_SIZE, 4, true, 1, true, C_CORRUPT, "row size + 1"},
	{P_HEADER, 0, SB_HDR_ROW_SIZE, 4, true, 8, true, C_CORRUPT, "row size + 8"},
	{P_HEADER, 0, SB_HDR_ROW_SIZE, 4, true, 32, true, C_CORRUPT, "row size * 2"},
	{P_HEADER, 0, SB_HDR_FLAGS, 4, false, 2, true, C_UNSUPP, "unknown flag"},
	{P_HEADER, 0, SB_HDR_FLAGS, 4, false, SB_BUNDLE_APPROXIMATE, true, C_CORRUPT,
	"approximate flag"},
	{P_HEADER, 0, SB_HDR_HASH_ID, 4, false, 2, true, C_UNSUPP, "hash id 2"},
	{P_HEADER, 0, SB_HDR_INDEX_KIND, 4, false, 0, true, C_UNSUPP, "index kind 0"},
	{P_HEADER, 0, SB_HDR_INDEX_KIND, 4, false, 4, true, C_UNSUPP, "index kind 4"},
	{P_HEADER, 0, SB_HDR_INDEX_KIND, 4, false, 1, true, C_OBSOLETE, "index kind bucketed"},
	{P_HEADER, 0, SB_HDR_INDEX_KIND, 4, false, 2, true, C_OBSOLETE, "index kind sorted"},
	{P_HEADER, 0, SB_HDR_HASH_SEED, 8, true, 1, true, C_CORRUPT, "hash seed"},
	{P_HEADER, 0, SB_HDR_BUCKET_BITS, 1, true, 1, true, C_CORRUPT, "bucket bits + 1"},
	{P_HEADER, 0, SB_HDR_BUCKET_BITS, 1, false, 33, true, C_CORRUPT, "bucket bits 33"},
	{P_HEADER, 0, SB_HDR_FP_BYTES, 1, false, 4, true, C_CORRUPT, "fingerprint bytes 4"},
	{P_HEADER, 0, SB_HDR_FP_BYTES, 1, false, 0, true, C_CORRUPT, "fingerprint bytes 0"},
	{P_HEADER, 0, SB_HDR_MAXALIGN, 1, false, 4, true, C_UNSUPP, "maximum alignment 4"},
	{P_HEADER, 0, SB_HDR_BLOCK_SHIFT, 1, false, 0, true, C_CORRUPT,
	"block shift 0 with block checksums"},
	{P_HEADER, 0, SB_HDR_BLOCK_SHIFT, 1, false, 8, true, C_CORRUPT, "block shift 8"},
	{P_HEADER, 0, SB_HDR_BLOCK_SHIFT, 1, false, 25, true, C_CORRUPT, "block shift 25"},
	{P_HEADER, 0, SB_HDR_BLOCK_SHIFT, 1, false, 9, true, C_CORRUPT,
	"block shift 9: more blocks than checksums"},
	/* every region is shorter than 4 KiB: 8 KiB blocks have the same sums */
	{P_HEADER, 0, SB_HDR_BLOCK_SHIFT, 1, false, 13, true, C_OK, "block shift 13"},
	{P_HEADER, 0, SB_HDR_FILE_SIZE, 8, true, 1, true, C_TRUNC, "file size + 1"},
	{P_HEADER, 0, SB_HDR_FILE_SIZE, 8, true, -1, true, C_CORRUPT, "file size - 1"},
	{P_HEADER, 0, SB_HDR_NSECTIONS, 4, false, 0, false, C_CORRUPT, "0 sections"},
	{P_HEADER, 0, SB_HDR_NSECTIONS, 4, false, 17, false, C_CORRUPT, "17 sections"},
	{P_HEADER, 0, SB_HDR_HEADER_SIZE, 4, true, 1, false, C_CORRUPT, "header size + 1"},
	{P_HEADER, 0, SB_HDR_MINOR, 2, true, 1, false, SB_ERR_CHECKSUM, "minor version"}
};

/* Offset of a field case's field in the base image. */
static uint64_t
case_offset(const base *d, const field_case *fc)
{
	switch (fc->part)
	{
		case P_HEADER:
			break;
		case P_SECTION:
			return SB_HEADER_FIXED + sec_index(d, (uint32_t) fc->index) *
				SB_SECTION_ENTRY + fc->off;
		case P_COLUMN:
			return d->schema + (uint64_t) fc->index * SB_COLREC_SIZE + fc->off;
	}
	return fc->off;
}

/* Apply each field case to a copy of the base and check its status. */
static void
expect_cases(const base *d, const field_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		const field_case *fc = &cases[i];
		uint64_t	off = case_offset(d, fc);
		unsigned char *img = copy(d);

		if (img)
			sb_store_n(img + off, fc->width,
					   (fc->relative ? sb_load_n(d->img + off, fc->width) : 0) +
					   (uint64_t) fc->value);
		expect(d, img, fc->fix, fc->want, fc->what);
	}
}

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* Header: checksummed, and each field checked. */
void
test_damage_header(void)
{
	base		d;
	unsigned char *img;

	REQUIRE(base_load(&d));
	REQUIRE(CHECK_EQ(d.b->row_size, 32));
	expect_range_checksum(&d, SB_HDR_FILE_SIZE,
						  SB_HEADER_FIXED - SB_HDR_FILE_SIZE, "header");
	expect_cases(&d, header_cases, NCASES(header_cases));
	/* five sections: the block checksums, listed last, are left out */
	img = put32(&d, SB_HDR_NSECTIONS, 5);
	if (img)
		sb_store32(img + SB_HDR_HEADER_SIZE, SB_HEADER_FIXED + 5 * SB_SECTION_ENTRY);
	expect(&d, img, true, SB_ERR_CORRUPT, "block checksums left out");
	base_free(&d);
}

/* Turn the empty metadata entry into an unknown optional section. */
static unsigned char *
unknown_section(const base *d, uint64_t offset, uint64_t length)
{
	int			mt = sec_index(d, SB_SECTION_META);
	unsigned char *img = put32(d, SEC(mt, SB_SEC_KIND), 77);

	if (img)
	{
		sb_store64(img + SEC(mt, SB_SEC_OFFSET), offset);
		sb_store64(img + SEC(mt, SB_SEC_LENGTH), length);
	}
	return img;
}

/*
 * An unknown optional section over 8 zero bytes of the gap after the
 * schema: accepted, but verification checks its checksum too.
 */
static void
expect_unknown_checksum(const base *d)
{
	uint64_t	off,
				len;
	unsigned char *img;

	REQUIRE(tf_section(d->img, SB_SECTION_SCHEMA, &off, &len));
	off = (off + len + 7) & ~(uint64_t) 7;
	REQUIRE(off + 8 <= d->heap);
	expect(d, unknown_section(d, off, 8), true, SB_OK, "unknown section in a gap");
	if ((img = unknown_section(d, off, 8)) == NULL)
		return;
	tf_fix_checksums(img, d->len);
	/* a wrong checksum for the unknown section, under a right header */
	sb_store64(img + SEC(sec_index(d, SB_SECTION_META), SB_SEC_CHECKSUM), 12345);
	sb_store64(img + SB_HDR_CHECKSUM, 0);
	sb_store64(img + SB_HDR_CHECKSUM, sb_checksum(img, d->b->header_size));
	expect(d, img, false, SB_ERR_CHECKSUM, "unknown section's checksum");
}

/*
 * Unknown optional sections that only the table rules refuse: one that
 * covers exactly the rows (overlap), one that is empty but misaligned.
 * The bundle has empty metadata, whose entry becomes the unknown section.
 */
static void
expect_unknown_sections(void)
{
	base		d;

	REQUIRE(base_load_meta(&d, false));
	expect(&d, unknown_section(&d, d.rows, NROWS * 32), true, SB_ERR_CORRUPT,
		   "unknown section overlapping the rows");
	expect(&d, unknown_section(&d, d.rows + 4, 0), true, SB_ERR_CORRUPT,
		   "empty unknown section at a misaligned offset");
	expect(&d, unknown_section(&d, d.rows + 8, 0), true, SB_OK,
		   "empty unknown section inside the rows");
	expect_unknown_checksum(&d);
	base_free(&d);
}

/*
 * A copy of the base as a writer without block checksums would make it:
 * five sections, the block checksums' table entry (the last) and the
 * section zeroed (gaps), and block shift 'shift'.
 */
static unsigned char *
without_blocksums(const base *d, uint8_t shift)
{
	int			bs = sec_index(d, SB_SECTION_BLOCKSUMS);
	unsigned char *img;

	if (!CHECK(bs == 5 && d->b->nsections == 6) ||
		(img = put8(d, SB_HDR_BLOCK_SHIFT, shift)) == NULL)
		return NULL;
	memset(img + sb_load64(d->img + SEC(bs, SB_SEC_OFFSET)), 0,
		   sb_load64(d->img + SEC(bs, SB_SEC_LENGTH)));
	memset(img + SEC(bs, 0), 0, SB_SECTION_ENTRY);
	sb_store32(img + SB_HDR_NSECTIONS, 5);
	sb_store32(img + SB_HDR_HEADER_SIZE, SB_HEADER_FIXED + 5 * SB_SECTION_ENTRY);
	return img;
}

/*
 * Files without block checksums (block shift 0) open and verify: one
 * whose block checksums section is an unknown optional section, and one
 * with no such section.  A block shift without the section is refused.
 */
static void
expect_no_blocksums(const base *d)
{
	unsigned char *img = put32(d, SEC(sec_index(d, SB_SECTION_BLOCKSUMS), SB_SEC_KIND), 77);

	if (img)
		img[SB_HDR_BLOCK_SHIFT] = 0;
	expect(d, img, true, SB_OK, "block shift 0, block checksums ignored");
	expect(d, without_blocksums(d, 0), true, SB_OK, "written without block checksums");
	expect(d, without_blocksums(d, 12), true, SB_ERR_CORRUPT,
		   "block shift 12 without block checksums");
}

#define SEC_CASE(kind, field, w, rel, v, want, what) \
	{P_SECTION, kind, field, w, rel, v, true, want, what}

static const field_case section_cases[] = {
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_OFFSET, 8, true, 4, C_CORRUPT, "misaligned offset"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_OFFSET, 8, false, 64, C_CORRUPT, "offset in the header"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_OFFSET, 8, false, 384, C_CORRUPT, "overlap"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_OFFSET, 8, false, 1 << 20, C_CORRUPT, "offset past the end"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_OFFSET, 8, false, -8, C_CORRUPT, "huge offset"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_LENGTH, 8, false, -1, C_CORRUPT, "huge length"),
	SEC_CASE(SB_SECTION_ROWS, SB_SEC_LENGTH, 8, true, 32, C_CORRUPT, "rows length + 1 row"),
	SEC_CASE(SB_SECTION_ROWS, SB_SEC_LENGTH, 8, true, -32, C_CORRUPT, "rows length - 1 row"),
	SEC_CASE(SB_SECTION_ROWS, SB_SEC_LENGTH, 8, true, -1, C_CORRUPT, "rows length - 1"),
	SEC_CASE(SB_SECTION_ENTRIES, SB_SEC_LENGTH, 8, true, -64, C_CORRUPT, "index - 1 line"),
	SEC_CASE(SB_SECTION_ENTRIES, SB_SEC_LENGTH, 8, true, -1, C_CORRUPT, "index - 1 byte"),
	SEC_CASE(SB_SECTION_BLOCKSUMS, SB_SEC_LENGTH, 8, true, 4, C_CORRUPT, "block checksums + 1"),
	SEC_CASE(SB_SECTION_BLOCKSUMS, SB_SEC_LENGTH, 8, true, -4, C_CORRUPT, "block checksums - 1"),
	SEC_CASE(SB_SECTION_BLOCKSUMS, SB_SEC_LENGTH, 8, false, 0, C_CORRUPT, "block checksums empty"),
	SEC_CASE(SB_SECTION_BLOCKSUMS, SB_SEC_KIND, 4, false, 77, C_CORRUPT,
			 "block checksums missing, block shift 12"),
	SEC_CASE(SB_SECTION_META, SB_SEC_KIND, 4, false, SB_SECTION_HEAP, C_CORRUPT, "kind twice"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_KIND, 4, false, 77, C_UNSUPP, "unknown required kind"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_KIND, 4, false, 0, C_UNSUPP, "kind 0"),
	/* the known kinds are read whatever their flags say */
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_FLAGS, 4, false, 0, C_OK, "heap not required"),
	SEC_CASE(SB_SECTION_META, SB_SEC_FLAGS, 4, false, 3, C_OK, "metadata required"),
	SEC_CASE(SB_SECTION_BLOCKSUMS, SB_SEC_FLAGS, 4, false, 1, C_OK, "block checksums required"),
	/* an unknown optional section is ignored; kind 5 is no longer known */
	SEC_CASE(SB_SECTION_META, SB_SEC_KIND, 4, false, 77, C_OK, "unknown optional kind"),
	SEC_CASE(SB_SECTION_META, SB_SEC_KIND, 4, false, 5, C_OK, "optional kind 5"),
	SEC_CASE(SB_SECTION_HEAP, SB_SEC_KIND, 4, false, 5, C_UNSUPP, "required kind 5")
};

/* Section table: every entry's kind, flags, offset and length. */
void
test_damage_section_table(void)
{
	base		d;
	unsigned char *img;
	int			en;

	REQUIRE(base_load(&d));
	REQUIRE(CHECK_EQ(d.schema, 320) && CHECK(d.len < (1 << 20)));
	expect_range_checksum(&d, SB_HEADER_FIXED, SB_NSECTIONS * SB_SECTION_ENTRY,
						  "section table");
	expect_cases(&d, section_cases, NCASES(section_cases));
	en = sec_index(&d, SB_SECTION_ENTRIES);
	img = put32(&d, SEC(en, SB_SEC_KIND), 77);
	if (img)
		sb_store32(img + SEC(en, SB_SEC_FLAGS), 0);
	expect(&d, img, true, SB_ERR_CORRUPT, "entries missing");
	expect_no_blocksums(&d);
	base_free(&d);
	expect_unknown_sections();
}

/* Offset of field f of column record c in the schema section. */
#define COL(d, c, f) ((d)->schema + (c) * SB_COLREC_SIZE + (f))

/* Offset of byte i of row r's slot. */
#define SLOT(d, r, i) ((d)->rows + (uint64_t) (r) * 32 + (i))

/*
 * Make int2 column 2 a second column at key position 1, holding in every
 * row the same key value as column 0: only the rule that no two columns
 * share a key position refuses the file.
 */
static void
expect_key_twice(const base *d)
{
	unsigned char *img = put8(d, COL(d, 2, SB_COL_KEYPOS), 1);
	uint32_t	k = d->b->slot_offsets[0],
				n = d->b->slot_offsets[2];

	if (!CHECK(img != NULL))
		return;
	img[COL(d, 2, SB_COL_KEYKIND)] = SB_KEY_INTEGER;
	for (int r = 0; r < NROWS; r++)
	{
		bool		null = img[SLOT(d, r, 0)] & 1;

		img[SLOT(d, r, 0)] = (unsigned char) ((img[SLOT(d, r, 0)] & ~4) | (null ? 4 : 0));
		sb_store16(img + SLOT(d, r, n), (uint16_t) sb_load32(img + SLOT(d, r, k)));
	}
	expect(d, img, true, SB_ERR_CORRUPT, "key position twice, same values");
}

#define COL_CASE(col, field, w, rel, v, what) \
	{P_COLUMN, col, field, w, rel, v, true, C_CORRUPT, what}

static const field_case column_cases[] = {
	COL_CASE(0, SB_COL_TYPLEN, 2, false, 0, "typlen 0"),
	COL_CASE(2, SB_COL_TYPLEN, 2, false, -2, "typlen -2"),
	COL_CASE(0, SB_COL_ALIGN, 1, false, 'x', "typalign x"),
	COL_CASE(0, SB_COL_SLOT_OFF, 4, false, 1000, "slot offset past the row"),
	COL_CASE(0, SB_COL_SLOT_OFF, 4, false, 32, "field overhangs the row"),
	COL_CASE(0, SB_COL_SLOT_OFF, 4, true, 1, "misaligned field"),
	COL_CASE(1, SB_COL_SLOT_OFF, 4, false, 0, "field in the bitmap"),
	COL_CASE(1, SB_COL_SLOT_OFF, 4, false, SB_NOT_STORED, "column not stored"),
	COL_CASE(2, SB_COL_KEYPOS, 1, false, 1, "key position without kind"),
	COL_CASE(0, SB_COL_KEYPOS, 1, false, 2, "key position 2 of 1"),
	COL_CASE(0, SB_COL_KEYKIND, 1, false, SB_KEY_VARLENA, "varlena key on int4"),
	{P_COLUMN, 0, SB_COL_KEYKIND, 1, false, 9, true, C_UNSUPP, "key kind 9"},
	COL_CASE(0, SB_COL_KEYKIND, 1, false, SB_KEY_HASHED, "hashed key in a version 3 file"),
	COL_CASE(0, SB_COL_NAME_LEN, 4, false, 5000, "name length"),
	COL_CASE(0, SB_COL_NAME_LEN, 4, true, 1, "NUL in name"),
	COL_CASE(0, SB_COL_NAME_OFF, 4, false, 100000, "name offset"),
	COL_CASE(3, SB_COL_TYPE_OFF, 4, false, UINT32_MAX, "type name offset"),
	COL_CASE(0, SB_COL_BYVAL, 1, false, 2, "by-value flag 2"),
	COL_CASE(1, SB_COL_STORAGE, 1, false, 5, "storage 5"),
	COL_CASE(0, SB_COL_STORAGE, 1, false, SB_STORAGE_BINARY, "binary storage of int4"),
	COL_CASE(0, SB_COL_FLAGS, 1, false, SB_COLF_SHORT_VARLENA, "short flag on int4"),
	COL_CASE(1, SB_COL_FLAGS, 1, false, 0x80, "unknown column flag")
};

/* Schema: checksummed, and every column field checked. */
void
test_damage_schema(void)
{
	base		d;
	unsigned char *img;

	REQUIRE(base_load(&d));
	expect_range_checksum(&d, d.schema, 4 * SB_COLREC_SIZE + 8, "schema");
	expect_cases(&d, column_cases, NCASES(column_cases));
	img = put8(&d, COL(&d, 2, SB_COL_KEYPOS), 1);
	if (img)
		img[COL(&d, 2, SB_COL_KEYKIND)] = SB_KEY_INTEGER;
	expect(&d, img, true, SB_ERR_CORRUPT, "key position twice");
	expect_key_twice(&d);
	/* a NUL in the name, with the type name shorter: the copies still fit */
	img = put32(&d, COL(&d, 0, SB_COL_NAME_LEN),
				sb_load32(d.img + COL(&d, 0, SB_COL_NAME_LEN)) + 1);
	if (img)
		sb_store32(img + COL(&d, 0, SB_COL_TYPE_LEN),
				   sb_load32(d.img + COL(&d, 0, SB_COL_TYPE_LEN)) - 1);
	expect(&d, img, true, SB_ERR_CORRUPT, "NUL in name, shorter type name");
	img = put64(&d, SEC(sec_index(&d, SB_SECTION_SCHEMA), SB_SEC_LENGTH),
				3 * SB_COLREC_SIZE);
	expect(&d, img, true, SB_ERR_CORRUPT, "schema too short");
	base_free(&d);
}

/* Rows: checksummed; padding, NULL bits and keys checked. */
void
test_damage_rows(void)
{
	base		d;
	uint32_t	k,
				s1;
	unsigned char *img;

	REQUIRE(base_load(&d));
	k = d.b->slot_offsets[0];
	s1 = d.b->slot_offsets[1];
	REQUIRE(CHECK_EQ(d.b->row_size, 32) && CHECK_EQ(k, 4) && CHECK_EQ(s1, 8));
	expect_range_checksum(&d, d.rows, 64, "rows");
	expect(&d, flip(&d, SLOT(&d, NROWS - 1, 31)), false, SB_ERR_CHECKSUM, "last row byte");
	expect(&d, put8(&d, SLOT(&d, 3, 1), 1), true, SB_ERR_CORRUPT, "padding after the bitmap");
	expect(&d, put8(&d, SLOT(&d, 3, 31), 0x80), true, SB_ERR_CORRUPT, "padding at the end");
	expect(&d, put8(&d, SLOT(&d, 0, 0), d.img[SLOT(&d, 0, 0)] | 0x80), true,
		   SB_ERR_CORRUPT, "NULL bit past the columns");
	expect(&d, put32(&d, SLOT(&d, 2, k), 29), true, SB_ERR_CORRUPT, "key changed");
	img = put32(&d, SLOT(&d, 2, k), 0);
	if (img)
		img[SLOT(&d, 2, 0)] |= 1;
	expect(&d, img, true, SB_ERR_CORRUPT, "indexed key made NULL");
	/* row 5 has a NULL key: made non-NULL (0), it is not indexed */
	expect(&d, put8(&d, SLOT(&d, 5, 0), d.img[SLOT(&d, 5, 0)] & ~1), true,
		   SB_ERR_CORRUPT, "key not indexed");
	expect(&d, put8(&d, SLOT(&d, 0, s1), 1), true, SB_ERR_CORRUPT, "NULL field not zero");
	expect(&d, put64(&d, SLOT(&d, 1, s1), d.heap_len + 100), true,
		   SB_ERR_CORRUPT, "heap offset past the heap");
	expect(&d, put64(&d, SLOT(&d, 1, s1), UINT64_MAX), true, SB_ERR_CORRUPT, "huge heap offset");
	img = copy(&d);
	if (img)
	{
		memcpy(img + SLOT(&d, 0, 0), d.img + SLOT(&d, 1, 0), 32);
		memcpy(img + SLOT(&d, 1, 0), d.img + SLOT(&d, 0, 0), 32);
	}
	expect(&d, img, true, SB_ERR_CORRUPT, "rows swapped");
	base_free(&d);
}

/* A map of the heap bytes that values use (malloc'd), or NULL. */
static unsigned char *
heap_used(const base *d)
{
	unsigned char *used = calloc(d->heap_len, 1);

	for (uint64_t r = 0; used && r < NROWS; r++)
		for (int c = 1; c < 4; c += 2)
		{
			sb_value	v;
			const unsigned char *slot = sb_row_slot(d->b, r);

			if (!sb_slot_isnull(sb_bundle_info(d->b), slot, c) &&
				sb_slot_value(d->b, slot, c, &v, NULL) == SB_OK)
				memset(used + (v.ptr - d->b->heap), 1, v.len);
		}
	return used;
}

/* A heap byte that no value uses, or -1. */
static int64_t
unused_heap_byte(const base *d)
{
	unsigned char *used = heap_used(d);
	int64_t		found = -1;

	for (uint64_t i = 0; used && i < d->heap_len && found < 0; i++)
		if (!used[i])
			found = (int64_t) i;
	free(used);
	return found;
}

/*
 * Move the value of column 3 ('d' alignment, 4-byte header) in some row
 * 4 bytes back into the padding before it, and point its fields there:
 * every value stays valid and the heap has no stray bytes, but the value
 * is no longer 8-aligned.
 */
static void
expect_misaligned(const base *d)
{
	unsigned char *used = heap_used(d);
	unsigned char *img = copy(d);
	uint32_t	f = d->b->slot_offsets[3];
	uint64_t	x = 0;
	sb_value	v;

	for (uint64_t r = 0; used && r < NROWS && x == 0; r++)
	{
		sb_slot_value(d->b, sb_row_slot(d->b, r), 3, &v, NULL);
		x = (uint64_t) (v.ptr - d->b->heap);
		if (x < 4 || used[x - 4] || used[x - 3] || used[x - 2] || used[x - 1])
			x = 0;
	}
	free(used);
	if (!CHECKF(x > 0 && img != NULL, "no value of column 3 follows padding"))
	{
		free(img);
		return;
	}
	memmove(img + d->heap + x - 4, d->img + d->heap + x, v.len);
	memset(img + d->heap + x - 4 + v.len, 0, 4);
	for (int r = 0; r < NROWS; r++)
		if (sb_load64(img + SLOT(d, r, f)) == x)
			sb_store64(img + SLOT(d, r, f), x - 4);
	expect(d, img, true, SB_ERR_CORRUPT, "4-byte header not aligned");
}

/*
 * Give a value of column 3 (no SHORT_VARLENA flag) a 1-byte header, the
 * three bytes saved zeroed at its end: valid but for its form.
 */
static void
expect_short_header(const base *d, uint64_t off)
{
	unsigned char *img = copy(d);
	size_t		total,
				n;

	if (!CHECK(img != NULL && sb_varlena_size(d->img + off, 64, &total)))
	{
		free(img);
		return;
	}
	n = total - 4;
	sb_varlena_make_header(img + off, n, true);
	memmove(img + off + 1, d->img + off + 4, n);
	memset(img + off + 1 + n, 0, 3);
	expect(d, img, true, SB_ERR_CORRUPT, "1-byte header where not allowed");
}

/* Heap offset of the value of column c in row r. */
static uint64_t
value_off(const base *d, uint64_t r, int c)
{
	sb_value	v;

	sb_slot_value(d->b, sb_row_slot(d->b, r), c, &v, NULL);
	return (uint64_t) (v.ptr - d->b->heap);
}

/* Value heap: checksummed; padding and value headers checked. */
void
test_damage_heap(void)
{
	base		d;
	int64_t		pad;
	uint64_t	s,
				l;

	REQUIRE(base_load(&d));
	pad = unused_heap_byte(&d);
	s = d.heap + value_off(&d, 1, 1);	/* a 1-byte header */
	l = d.heap + value_off(&d, 1, 3);	/* a 4-byte header */
	expect_range_checksum(&d, d.heap, d.heap_len < 64 ? d.heap_len : 64, "heap");
	expect(&d, flip(&d, d.heap + d.heap_len - 1), false, SB_ERR_CHECKSUM, "last heap byte");
	if (CHECKF(pad >= 0, "the heap has no padding byte"))
		expect(&d, put8(&d, d.heap + pad, 0x11), true, SB_ERR_CORRUPT, "heap padding");
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	expect(&d, put8(&d, s, 0x80), true, SB_ERR_CORRUPT, "external pointer tag");
	expect(&d, put32(&d, l, 0x3FFFFFFF), true, SB_ERR_CORRUPT, "4-byte header too long");
	expect(&d, put32(&d, l, 2), true, SB_ERR_CORRUPT, "4-byte header shorter than itself");
	expect(&d, put32(&d, l, 0x40000010), true, SB_ERR_CORRUPT, "compressed value");
#else
	expect(&d, put8(&d, s, 0x01), true, SB_ERR_CORRUPT, "external pointer tag");
	expect(&d, put32(&d, l, 0xFFFFFFFC), true, SB_ERR_CORRUPT, "4-byte header too long");
	expect(&d, put32(&d, l, 2 << 2), true, SB_ERR_CORRUPT, "4-byte header shorter than itself");
	expect(&d, put32(&d, l, (16 << 2) | 2), true, SB_ERR_CORRUPT, "compressed value");
#endif
	/* a shorter value leaves used bytes unused: they are not zero */
	expect(&d, put8(&d, s, d.img[s] - 2), true, SB_ERR_CORRUPT, "1-byte header shorter");
	expect_misaligned(&d);
	expect_short_header(&d, l);
	base_free(&d);
}

/*
 * Point the index entry whose row number is at 'off' (the entry of row 0,
 * key 0) at row 5, whose key is NULL and whose key field is zero: a NULL
 * key never matches, so key 0 is found in row 30 only.
 */
static void
null_row_lookup(const base *d, uint64_t off)
{
	unsigned char *img = copy(d);
	sb_bundle  *b = NULL;
	sb_error	err;
	uint64_t	rows[4];

	REQUIRE(img != NULL);
	sb_store32(img + off, 5);
	tf_fix_checksums(img, d->len);
	if (CHECK_ST(sb_open_memory(img, d->len, &b, &err), SB_OK, &err))
	{
		CHECK(tf_lookup_int(b, 0, rows, 4) == 1 && rows[0] == 30);
		CHECK_ST(sb_verify(b, &err), SB_ERR_CORRUPT, &err);
		sb_close(b);
	}
	free(img);
}

/*
 * Offset of the row number of the line-index entry that refers to row r,
 * and of its fingerprint; 0 if no entry does.
 */
static uint64_t
line_entry_of_row(const base *d, uint32_t r, uint64_t *fp_off)
{
	unsigned	fpb = d->b->fp_bytes,
				rows_at = sb_line_rows_offset(fpb);

	for (uint64_t l = d->entries; l < d->entries + d->entries_len; l += SB_LINE_BYTES)
		for (unsigned k = 0; k < d->img[l + SB_LINE_COUNT]; k++)
			if (sb_load32(d->img + l + rows_at + 4 * k) == r)
			{
				*fp_off = l + SB_LINE_FPS + k * fpb;
				return l + rows_at + 4 * k;
			}
	return 0;
}

/* Offset of the first line whose count satisfies 'ok'; 0 if none. */
static uint64_t
line_where(const base *d, bool (*ok) (const unsigned char *line))
{
	for (uint64_t l = d->entries; l < d->entries + d->entries_len; l += SB_LINE_BYTES)
		if (ok(d->img + l))
			return l;
	return 0;
}

static bool
line_has_room(const unsigned char *line)
{
	return line[SB_LINE_COUNT] > 0 && line[SB_LINE_COUNT] < 10;
}

static bool
line_starts_own(const unsigned char *line)
{
	return line[SB_LINE_COUNT] > 0 && line[SB_LINE_FIRST_OWN] == 0;
}

/*
 * With the count of index line 'line' set past the capacity (checksums
 * fixed), a lookup of 'part' (hash 'h') that reads the line fails with
 * CORRUPT, though the bundle opens.
 */
static void
expect_lookup_corrupt(const base *d, sb_key_part *part, uint64_t h,
					  uint64_t line)
{
	unsigned char *img = copy(d);
	sb_bundle  *b = NULL;
	sb_error	err;
	sb_lookup	it;
	uint64_t	row;

	REQUIRE(img != NULL);
	img[d->entries + line * SB_LINE_BYTES + SB_LINE_COUNT] = 11;
	tf_fix_checksums(img, d->len);
	if (CHECK_ST(sb_open_memory(img, d->len, &b, &err), SB_OK, &err))
	{
		sb_lookup_start(b, part, h, &it);
		CHECK_ST(sb_lookup_next(b, &it, &row, &err), SB_ERR_CORRUPT, &err);
		sb_close(b);
	}
	free(img);
}

/* A lookup whose home line is damaged fails with CORRUPT, unverified. */
static void
line_lookup_damage(const base *d)
{
	sb_key_part part = {NULL, 0, 3};
	sb_error	err;
	uint64_t	h;

	REQUIRE(sb_key_hash(d->b, &part, &h, &err) == SB_OK);
	expect_lookup_corrupt(d, &part, h, sb_line_home(h, d->b->home_lines));
}

/*
 * A lookup that goes on from a full home line to a damaged next line
 * fails with CORRUPT: the probe is an absent key whose home line is full.
 */
static void
continuation_damage(const base *d)
{
	sb_key_part part = {NULL, 0, 1000000};
	sb_error	err;
	uint64_t	full = UINT64_MAX,
				h = 0;

	for (uint64_t l = 0; l + 1 < d->b->nlines && full == UINT64_MAX; l++)
		if (d->img[d->entries + l * SB_LINE_BYTES + SB_LINE_COUNT] == 10)
			full = l;
	REQUIRE(full != UINT64_MAX);
	for (; part.ival < 1100000; part.ival++)
		if (sb_key_hash(d->b, &part, &h, &err) == SB_OK &&
			sb_line_home(h, d->b->home_lines) == full)
			break;
	REQUIRE(part.ival < 1100000);
	expect_lookup_corrupt(d, &part, h, full + 1);
}

/* A damaged copy (checksums fixed) that sb_open itself must refuse. */
static void
expect_refused_at_open(const base *d, unsigned char *img, const char *what)
{
	sb_bundle  *b = NULL;
	sb_error	err;

	if (!CHECK(img != NULL))
		return;
	tf_fix_checksums(img, d->len);
	CHECKF(sb_open_memory(img, d->len, &b, &err) == SB_ERR_CORRUPT,
		   "%s: opened, or not as corrupt", what);
	sb_close(b);
	free(img);
}

/* The index: lines of counts, fingerprints and rows. */
void
test_damage_index(void)
{
	base		d;
	uint64_t	e,
				fpo,
				room,
				own;
	unsigned char *img;

	REQUIRE(base_load(&d));
	REQUIRE(CHECK_EQ(d.entries_len % SB_LINE_BYTES, 0) &&
			CHECK_EQ(d.b->home_lines, 5) && CHECK_EQ(d.b->major, 3));
	expect_range_checksum(&d, d.entries, SB_LINE_BYTES, "line");
	REQUIRE((e = line_entry_of_row(&d, 0, &fpo)) != 0);
	REQUIRE((room = line_where(&d, line_has_room)) != 0);
	REQUIRE((own = line_where(&d, line_starts_own)) != 0);
	expect(&d, put32(&d, e, NROWS), true, SB_ERR_CORRUPT, "entry row past the rows");
	expect(&d, put32(&d, e, 5), true, SB_ERR_CORRUPT, "NULL-key row indexed");
	null_row_lookup(&d, e);
	expect(&d, put32(&d, e, 1), true, SB_ERR_CORRUPT, "entry of another key's row");
	expect(&d, put32(&d, e, 30), true, SB_ERR_CORRUPT, "row indexed twice");
	expect(&d, put16(&d, fpo, sb_load16(d.img + fpo) ^ 0x8000), true,
		   SB_ERR_CORRUPT, "fingerprint");
	expect(&d, put8(&d, room, 11), true, SB_ERR_CORRUPT, "count past the capacity");
	expect(&d, put8(&d, room, d.img[room] - 1), true, SB_ERR_CORRUPT, "last entry dropped");
	expect(&d, put8(&d, room + 1, d.img[room] + 1), true, SB_ERR_CORRUPT,
		   "first own entry past the count");
	expect(&d, put8(&d, own + 1, 1), true, SB_ERR_CORRUPT, "own entry taken for overflow");
	expect(&d, put8(&d, room + 2, 1), true, SB_ERR_CORRUPT, "reserved byte");
	expect(&d, put8(&d, room + SB_LINE_FPS + 2 * d.img[room], 1), true,
		   SB_ERR_CORRUPT, "unused fingerprint");
	expect(&d, put8(&d, room + SB_LINE_BYTES - 1, 1), true, SB_ERR_CORRUPT, "unused row");
	img = copy(&d);
	if (img)
	{
		uint64_t	last = d.entries + d.entries_len - SB_LINE_BYTES;

		memcpy(img + d.entries, d.img + last, SB_LINE_BYTES);
		memcpy(img + last, d.img + d.entries, SB_LINE_BYTES);
	}
	expect(&d, img, true, SB_ERR_CORRUPT, "first and last lines swapped");
	expect(&d, put64(&d, SB_HDR_HOME_LINES, 4), true, SB_ERR_CORRUPT, "home lines - 1");
	expect(&d, put64(&d, SB_HDR_HOME_LINES, 6), true, SB_ERR_CORRUPT, "home lines + 1");
	expect(&d, put64(&d, SB_HDR_HOME_LINES, 0), true, SB_ERR_CORRUPT, "no home lines");
	expect(&d, put64(&d, SB_HDR_HOME_LINES, UINT64_C(1) << 32), true, SB_ERR_CORRUPT,
		   "2^32 home lines");
	img = copy(&d);
	if (img)
	{
		/* 5 lines are more than 30 entries can spill into past 1 home line */
		sb_store64(img + SB_HDR_HOME_LINES, 1);
		sb_store64(img + SB_HDR_INDEXED, 30);
	}
	expect_refused_at_open(&d, img, "more lines than the entries need");
	expect_refused_at_open(&d, put64(&d, SB_HDR_INDEXED, 0), "lines without entries");
	expect_refused_at_open(&d, put64(&d, SB_HDR_HOME_LINES, 6), "more home lines than lines");
	expect(&d, put8(&d, SB_HDR_FP_BYTES, 4), true, SB_ERR_CORRUPT, "4-byte fingerprints");
	expect(&d, put8(&d, SB_HDR_BUCKET_BITS, 1), true, SB_ERR_CORRUPT, "bucket bits");
	line_lookup_damage(&d);
	continuation_damage(&d);
	base_free(&d);
}

/* Metadata: checksummed at open; entries must fill the section. */
void
test_damage_metadata(void)
{
	base		d;
	uint64_t	len;

	REQUIRE(base_load(&d));
	REQUIRE(tf_section(d.img, SB_SECTION_META, &d.meta, &len));
	/* entries: "source"/"test" (20 bytes), then "rows"/"40" (16) */
	REQUIRE(CHECK_EQ(len, 36));
	expect_range_checksum(&d, d.meta, len, "metadata");
	expect(&d, put32(&d, d.meta, 1000), true, SB_ERR_CORRUPT, "key length too long");
	expect(&d, put32(&d, d.meta + 24, 5), true, SB_ERR_CORRUPT, "value length too long");
	expect(&d, put32(&d, d.meta + 24, 1), true, SB_ERR_CORRUPT, "value length short");
	expect(&d, put8(&d, d.meta + 35, 'x'), true, SB_ERR_CORRUPT, "padding not zero");
	expect(&d, put8(&d, d.meta + 8, 'S'), true, SB_OK, "key changed");
	base_free(&d);
}

/* Check the status of the base image cut to len bytes or extended. */
static void
expect_length(const base *d, size_t len, int fill, sb_status want)
{
	unsigned char *img = malloc(len ? len : 1);
	sb_error	err;
	sb_status	st;

	if (!CHECK(img != NULL))
		return;
	memcpy(img, d->img, len < d->len ? len : d->len);
	if (len > d->len)
		memset(img + d->len, fill, len - d->len);
	st = tf_damaged_status(img, len, &err);
	CHECKF(st == want, "file of %zu bytes (of %zu): %s, expected %s: %s",
		   len, d->len, sb_status_name(st), sb_status_name(want),
		   st ? err.detail : "");
	free(img);
}

/* Truncated files, and files with bytes appended. */
void
test_damage_truncate_append(void)
{
	base		d;
	size_t		cuts[] = {0, 1, 7, 8, 64, 127, 128, 200, 0, 0, 0, 0, 0, 0, 0, 0};
	int			ncuts = 8;

	REQUIRE(base_load(&d));
	REQUIRE(CHECK_EQ(d.b->header_size, 320));
	cuts[ncuts++] = d.b->header_size - 1;
	cuts[ncuts++] = d.b->header_size;
	cuts[ncuts++] = d.b->header_size + 1;
	cuts[ncuts++] = d.schema + 1;
	cuts[ncuts++] = d.heap + 3;
	cuts[ncuts++] = d.len / 2;
	cuts[ncuts++] = d.meta;
	cuts[ncuts++] = d.len - 1;
	for (int i = 0; i < ncuts; i++)
		expect_length(&d, cuts[i], 0, SB_ERR_TRUNCATED);
	expect_length(&d, d.len + 1, 0, SB_ERR_CORRUPT);
	expect_length(&d, d.len + 1, 'x', SB_ERR_CORRUPT);
	expect_length(&d, d.len + 4096, 0, SB_ERR_CORRUPT);
	expect_length(&d, d.len, 0, SB_OK);
	base_free(&d);
}

/* Magic number, major and minor version, byte order. */
void
test_damage_magic_version_order(void)
{
	base		d;
	unsigned char *img;

	REQUIRE(base_load(&d));
	for (int i = 0; i < SB_MAGIC_LEN; i++)
		expect(&d, flip(&d, i), false, SB_ERR_BAD_MAGIC, "magic");
	img = copy(&d);
	if (img)
		memset(img, 0, d.len);
	expect(&d, img, false, SB_ERR_BAD_MAGIC, "zeros");
	img = copy(&d);
	if (img)
		memset(img, 'a', d.len);
	expect(&d, img, false, SB_ERR_BAD_MAGIC, "text");
	expect(&d, put16(&d, SB_HDR_MAJOR, SB_FORMAT_MAJOR + 1), false, SB_ERR_VERSION, "future major");
	expect(&d, put16(&d, SB_HDR_MAJOR, SB_FORMAT_MAJOR + 1), true, SB_ERR_VERSION, "future major");
	/* majors 1 and 2, whose index kinds are gone, are refused before all else */
	expect(&d, put16(&d, SB_HDR_MAJOR, 1), false, SB_ERR_OBSOLETE, "major 1");
	expect(&d, put16(&d, SB_HDR_MAJOR, 2), false, SB_ERR_OBSOLETE, "major 2");
	expect(&d, put16(&d, SB_HDR_MAJOR, 2), true, SB_ERR_OBSOLETE, "major 2");
	expect(&d, put16(&d, SB_HDR_MAJOR, 0), true, SB_ERR_VERSION, "major 0");
	/* a reader of major 4 reads 3 and 4, with a hashed key or not */
	expect(&d, put16(&d, SB_HDR_MAJOR, 4), true, SB_OK, "major 4");
	expect(&d, put16(&d, SB_HDR_MAJOR, 0x100), true, SB_ERR_VERSION, "major byte-swapped");
	expect(&d, put16(&d, SB_HDR_MINOR, 7), true, SB_OK, "minor 7");
	expect(&d, put16(&d, SB_HDR_MINOR, 7), false, SB_ERR_CHECKSUM, "minor 7");
	expect(&d, put32(&d, SB_HDR_BYTE_ORDER, __builtin_bswap32(SB_BYTE_ORDER_MARK)),
		   false, SB_ERR_BYTE_ORDER, "opposite byte order");
	expect(&d, put32(&d, SB_HDR_BYTE_ORDER, __builtin_bswap32(SB_BYTE_ORDER_MARK)),
		   true, SB_ERR_BYTE_ORDER, "opposite byte order");
	expect(&d, put32(&d, SB_HDR_BYTE_ORDER, SB_BYTE_ORDER_MARK + 1), true,
		   SB_ERR_CORRUPT, "bad byte-order mark");
	expect(&d, put32(&d, SB_HDR_BYTE_ORDER, 0), true, SB_ERR_CORRUPT, "zero byte-order mark");
	base_free(&d);
}

/* Flip every byte of a bundle: caught unfixed, no crash fixed. */
void
test_damage_every_byte(void)
{
	base		d;
	sb_error	err;

	REQUIRE(base_load(&d));
	for (size_t i = 0; i < d.len && tf_failures() == 0; i++)
	{
		for (int fix = 0; fix < 2; fix++)
		{
			unsigned char *img = copy(&d);
			sb_status	st;

			REQUIRE(img != NULL);
			img[i] ^= fix ? 0x01 : 0xA5;
			if (fix)
				tf_fix_checksums(img, d.len);
			st = tf_damaged_memory(img, d.len, &err);
			if (!fix)
				CHECKF(st != SB_OK, "byte %zu of %zu changed, not detected", i, d.len);
			CHECKF(st <= SB_OK && st >= SB_ERR_OBSOLETE, "byte %zu: status %d", i, st);
			free(img);
		}
	}
	base_free(&d);
}

/*
 * sb_open_fd: the caller's descriptor stays open whatever the outcome, and
 * a bundle mapped through it stays readable after the caller closes it.
 */
static void
open_fd_cases(const char *small)
{
	base		d;
	sb_bundle  *b = NULL;
	sb_error	err;
	int			fds[2];
	int			fd;
	uint64_t	rows[NROWS];

	REQUIRE(pipe(fds) == 0);
	CHECK_ST(sb_open_fd(fds[0], "pipe", &b, &err), SB_ERR_NOT_REGULAR, &err);
	CHECK(fcntl(fds[0], F_GETFD) != -1);
	close(fds[0]);
	close(fds[1]);
	REQUIRE((fd = open(small, O_RDONLY)) >= 0);
	CHECK_ST(sb_open_fd(fd, small, &b, &err), SB_ERR_TRUNCATED, &err);
	CHECK(fcntl(fd, F_GETFD) != -1 && b == NULL);
	close(fd);
	REQUIRE(base_load(&d));
	REQUIRE((fd = open(tf_path("base.sb"), O_RDONLY)) >= 0);
	CHECK_ST(sb_open_fd(fd, "base.sb", &b, &err), SB_OK, &err);
	CHECK(fcntl(fd, F_GETFD) != -1);
	close(fd);
	if (CHECK(b != NULL))
	{
		CHECK_EQ(tf_lookup_int(b, 7, rows, NROWS), 2);
		CHECK_ST(sb_verify(b, &err), SB_OK, &err);
	}
	sb_close(b);
	base_free(&d);
}

/* sb_open on things that are not bundle files. */
void
test_open_special_files(void)
{
	const char *fifo = tf_path("fifo");
	const char *empty = tf_path("empty");
	const char *small = tf_path("small");
	sb_bundle  *b = NULL;
	sb_error	err;
	char		buf[100];

	CHECK_ST(sb_open(tf_dir(), &b, &err), SB_ERR_NOT_REGULAR, &err);
	CHECK(b == NULL);
	CHECK_ST(sb_open("/dev/null", &b, &err), SB_ERR_NOT_REGULAR, &err);
	REQUIRE(mkfifo(fifo, 0600) == 0);
	alarm(20);					/* a blocking open fails the test */
	CHECK_ST(sb_open(fifo, &b, &err), SB_ERR_NOT_REGULAR, &err);
	alarm(0);
	tf_write_file(empty, "", 0);
	CHECK_ST(sb_open(empty, &b, &err), SB_ERR_TRUNCATED, &err);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, SB_MAGIC, SB_MAGIC_LEN);
	tf_write_file(small, buf, sizeof(buf));
	CHECK_ST(sb_open(small, &b, &err), SB_ERR_TRUNCATED, &err);
	CHECK_ST(sb_open(tf_path("missing"), &b, &err), SB_ERR_IO, &err);
	CHECK_EQ(err.sys_errno, ENOENT);
	CHECK_ST(sb_open(tf_path("missing/x"), &b, &err), SB_ERR_IO, &err);
	CHECK_ST(sb_open(tf_path("empty/x"), &b, &err), SB_ERR_IO, &err);
	CHECK_EQ(err.sys_errno, ENOTDIR);
	CHECK(b == NULL);
	open_fd_cases(small);
}
