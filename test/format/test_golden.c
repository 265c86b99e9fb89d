/*-------------------------------------------------------------------------
 *
 * test_golden.c
 *	  The worked example of docs/format.md (section 18), byte for byte.
 *
 * The example bundle is built exactly as the specification's program
 * builds it and compared with the hex dumps of the specification itself,
 * read from docs/format.md at run time (each follows a line
 * "<!-- test_golden: NAME -->"), so that the document cannot drift from
 * the library: every byte but the build time and the header checksum
 * (which covers it) must be equal.  The key hashes the specification
 * lists, the block checksums and the blocks the example lookup verifies
 * are checked too.  The dumps are of a little-endian file; on a
 * big-endian machine only the sizes are compared.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

/* The specification; the Makefile passes its absolute path. */
#ifndef TF_FORMAT_DOC
#define TF_FORMAT_DOC "docs/format.md"
#endif

/* The specification as a string (malloc'd), or NULL. */
static char *
read_doc(void)
{
	size_t		len = 0;
	unsigned char *data = tf_read_file(TF_FORMAT_DOC, &len);
	char	   *doc = data ? malloc(len + 1) : NULL;

	if (doc)
	{
		memcpy(doc, data, len);
		doc[len] = '\0';
	}
	free(data);
	return doc;
}

/* Value of a hex digit. */
static unsigned
hex_digit(char c)
{
	return isdigit((unsigned char) c) ? (unsigned) (c - '0') :
		(unsigned) (tolower((unsigned char) c) - 'a' + 10);
}

/*
 * The bytes of the dump that follows the marker "<!-- test_golden: NAME
 * -->": the first fenced block after it, of lines "OFFSET: hh hh ..."
 * (offsets from 0, consecutive) then the bytes as text after two blanks.
 * Returns the number of bytes, 0 if there is no such dump.
 */
static size_t
doc_dump(const char *doc, const char *name, unsigned char *buf, size_t size)
{
	char		marker[80];
	const char *p,
			   *end;
	size_t		n = 0;

	snprintf(marker, sizeof(marker), "<!-- test_golden: %s -->", name);
	if ((p = strstr(doc, marker)) == NULL || (p = strstr(p, "```\n")) == NULL ||
		(end = strstr(p + 4, "```")) == NULL)
		return 0;
	for (p += 4; p < end; p = strchr(p, '\n') + 1)
	{
		char	   *q;

		if (strtoul(p, &q, 16) != n || q == p || *q++ != ':')
			return 0;
		for (; q[0] == ' ' && isxdigit((unsigned char) q[1]) &&
			 isxdigit((unsigned char) q[2]) && (q[3] == ' ' || q[3] == '\n') &&
			 n < size; q += 3)
			buf[n++] = (unsigned char) (hex_digit(q[1]) << 4 | hex_digit(q[2]));
	}
	return n;
}

/* Build the example bundle of section 18, with an inline limit or not. */
static bool
build_example(const char *path, uint32_t inline_limit)
{
	sb_column	cols[2] = {
		{.name = "id", .type_name = "pg_catalog.int8", .typmod = -1,
		 .typlen = 8, .typbyval = true, .typalign = 'd',
		 .key_position = 1, .key_kind = SB_KEY_INTEGER},
		{.name = "name", .type_name = "pg_catalog.text", .typmod = -1,
		 .typlen = -1, .typbyval = false, .typalign = 'i',
		 .flags = SB_COLF_SHORT_VARLENA},
	};
	sb_writer_options o = {
		.path = path, .hash_seed = 0x5EED, .dedup = true,
		.pg_major = 15, .section_align = 64, .inline_limit = inline_limit,
		.ncolumns = 2, .columns = cols,
	};
	const char *names[3] = {"apple", NULL, "apple"};
	sb_writer  *w;
	sb_bundle  *b;
	sb_error	err;

	if ((w = tf_create(&o)) == NULL)
		return false;
	CHECK_ST(sb_writer_add_meta(w, "source", "example", &err), SB_OK, &err);
	for (int i = 0; i < 3; i++)
	{
		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, i + 1);
		if (names[i])
			tf_set_text(w, 1, names[i]);
		tf_end_row(w);
	}
	if ((b = tf_finish(w, path, NULL)) == NULL)
		return false;
	sb_close(b);
	return true;
}

/*
 * Section 18.7: the specification gives the hash of each key it looks
 * up, and the keys present are found.
 */
static void
check_hashes(const char *path, const char *doc)
{
	sb_bundle  *b = tf_open(path);
	uint64_t	rows[2];

	REQUIRE(b != NULL);
	for (int i = 0; i < 4; i++)
	{
		sb_key_part p = {NULL, 0, i + 1};
		uint64_t	h = 0;
		char		want[48];

		CHECK_ST(sb_key_hash(b, &p, &h, NULL), SB_OK, NULL);
		/* ids 1 to 3 in the table of hashes, id 4 in the text */
		if (i < 3)
			snprintf(want, sizeof(want), "| %d | `0x%016llX` |", i + 1,
					 (unsigned long long) h);
		else
			snprintf(want, sizeof(want), "0x%016llX`", (unsigned long long) h);
		CHECKF(strstr(doc, want) != NULL,
			   "the hash of id %d, \"%s\", is not in the specification", i + 1, want);
		CHECK_EQ(tf_lookup_int(b, i + 1, rows, 2), i < 3 ? 1 : 0);
	}
	sb_close(b);
}

/* Compare a built file with the dump, except the build time and checksum. */
static void
compare_bytes(const unsigned char *got, size_t len, const unsigned char *want,
			  size_t wlen)
{
	REQUIRE(CHECK_EQ(len, wlen));
	for (size_t i = 0; i < len; i++)
	{
		if ((i >= SB_HDR_BUILD_TIME && i < SB_HDR_BUILD_TIME + 8) ||
			(i >= SB_HDR_CHECKSUM && i < SB_HDR_CHECKSUM + 8))
			continue;
		REQUIREF(got[i] == want[i], "byte 0x%03zX is 0x%02X, expected 0x%02X",
				 i, got[i], want[i]);
	}
}

/*
 * Section 18.8: one short block per region, so each block checksum is the
 * low half of its section's checksum, in the order rows, heap, index.
 */
static void
check_blocksums(const unsigned char *img)
{
	static const uint32_t kinds[3] = {
		SB_SECTION_ROWS, SB_SECTION_HEAP, SB_SECTION_ENTRIES};
	uint64_t	boff,
				blen,
				off,
				len;

	REQUIRE(tf_section(img, SB_SECTION_BLOCKSUMS, &boff, &blen));
	CHECK_EQ(img[SB_HDR_BLOCK_SHIFT], 12);
	CHECK_EQ(blen, 12);
	for (int r = 0; r < 3; r++)
	{
		REQUIRE(tf_section(img, kinds[r], &off, &len));
		REQUIRE(CHECK(len > 0 && len <= 4096 && 4 * (r + 1) <= (int) blen));
		CHECKF(sb_load32(img + boff + 4 * r) == (uint32_t) sb_checksum(img + off, len),
			   "block checksum %d is not the low half of section %u's checksum",
			   r, kinds[r]);
	}
}

/*
 * Section 18.7: the first lookup of id 3 verifies the index and rows
 * blocks (blocks 2 and 0), and not the heap's (block 1).
 */
static void
check_lookup_blocks(const char *path)
{
	sb_bundle  *b;
	sb_error	err;
	uint64_t	rows[2];

	REQUIRE(CHECK_ST(sb_open(path, &b, &err), SB_OK, &err));
	if (CHECK(b->blocksums != NULL && b->nblocks == 3))
	{
		CHECK_EQ(b->verified[0], 0);
		CHECK(tf_lookup_int(b, 3, rows, 2) == 1 && rows[0] == 2);
		CHECK_EQ(b->verified[0], 0x5);
	}
	sb_close(b);
}

/* The inline variant of section 18: its rows section as dumped there. */
static void
check_inline_rows(const char *doc)
{
	const char *path = tf_path("example_inline.sb");
	unsigned char want[128],
			   *got;
	size_t		wlen = doc_dump(doc, "inline rows", want, sizeof(want)),
				len = 0;
	uint64_t	off,
				rlen;

	REQUIRE(CHECK_EQ(wlen, 96));
	REQUIRE(build_example(path, 256));
	REQUIRE((got = tf_read_file(path, &len)) != NULL);
	if (CHECK(tf_section(got, SB_SECTION_ROWS, &off, &rlen)) && CHECK_EQ(rlen, wlen))
	{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		CHECKF(memcmp(got + off, want, wlen) == 0,
			   "the inline variant's rows differ from the specification's");
#endif
	}
	free(got);
}

/* The worked example, built and compared with the specification. */
void
test_worked_example(void)
{
	const char *path = tf_path("example.sb");
	char	   *doc = read_doc();
	unsigned char want[1024],
			   *got;
	size_t		wlen,
				len = 0;

	REQUIRE(CHECKF(doc != NULL, "could not read %s", TF_FORMAT_DOC));
	wlen = doc_dump(doc, "file", want, sizeof(want));
	CHECK_EQ(wlen, 792);
	REQUIRE(build_example(path, 0));
	if ((got = tf_read_file(path, &len)) != NULL)
	{
		CHECK_EQ(len, wlen);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		compare_bytes(got, len, want, wlen);
#endif
		check_blocksums(got);
		free(got);
	}
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	check_hashes(path, doc);
#endif
	check_lookup_blocks(path);
	check_inline_rows(doc);
	free(doc);
}
