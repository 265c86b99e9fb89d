/*-------------------------------------------------------------------------
 *
 * test_golden.c
 *	  The worked example of docs/format.md (section 20), byte for byte.
 *
 * The example bundle is built exactly as the specification's program
 * builds it and compared with the specification's dump of the file: every
 * byte but the build time and the header checksum (which covers it) must
 * be equal.  The key hashes and block checksums the specification lists
 * are checked too, and which blocks the example lookup verifies.  The
 * dump is of a little-endian file; on a big-endian machine only the sizes
 * are compared.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdlib.h>

/* The 920-byte file of section 20.1, 32 bytes a line. */
static const char *const golden_hex =
	"895342554e444c0a010000000403020160010000070000009803000000000000"
	"0300000000000000030000000000000003000000000000000200000001000000"
	"18000000000000000100000001000000ed5e0000000000000002080c0f000000"
	"5b02d4951f61060003000000000000000000000000000000fda4b0d51bdce338"
	"010000000100000080010000000000006800000000000000eb1d6099fc45f226"
	"02000000000000008003000000000000180000000000000095f083777706bc41"
	"0400000001000000000200000000000006000000000000000878c56414cbd760"
	"030000000100000040020000000000004800000000000000f58c254b4845d8ba"
	"0600000001000000000300000000000012000000000000009a961ec62ebe0d14"
	"0700000000000000400300000000000010000000000000008b6cdd7f68959286"
	"0500000001000000c00200000000000040000000000000001da8bede62a85c03"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"4000000002000000430000000f00000008000000ffffffff0800016401020000"
	"5300000004000000580000000f00000010000000ffffffffffff006900000001"
	"69640070675f636174616c6f672e696e7438006e616d650070675f636174616c"
	"6f672e7465787400000000000000000000000000000000000000000000000000"
	"0d6170706c650000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000010000000000000000000000000000000200000000000000"
	"0200000000000000000000000000000000000000000000000300000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000003000000030000000300000003000000030000000300000003000000"
	"0300000003000000030000000300000003000000030000000300000003000000"
	"d244000000000a6d01000000029a020000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"f58c254b0878c5641da8bede9a961ec600000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0600000007000000736f757263656578616d706c65000000";

/* The header and section table of the line-index file, section 20.11. */
static const char *const golden_lines_header =
	"895342554e444c0a030000000403020140010000060000001803000000000000"
	"0300000000000000030000000000000003000000000000000200000001000000"
	"18000000000000000100000003000000ed5e0000000000000002080c0f000000"
	"4ca75dc6256106000100000000000000010000000000000017c13083066bea4d"
	"010000000100000040010000000000006800000000000000eb1d6099fc45f226"
	"02000000000000000003000000000000180000000000000095f083777706bc41"
	"0400000001000000c00100000000000006000000000000000878c56414cbd760"
	"030000000100000000020000000000004800000000000000f58c254b4845d8ba"
	"0600000001000000800200000000000040000000000000001be1b28ecc5f55ee"
	"0700000000000000c0020000000000000c00000000000000e5d30f0e50e193f4";

/* The one line and the block checksums of section 20.11. */
static const char *const golden_lines_line =
	"03000000598dbc6dd5a7000000000000"
	"00000000000000000000000001000000"
	"02000000000000000000000000000000"
	"00000000000000000000000000000000";
static const char *const golden_lines_blocksums = "f58c254b0878c5641be1b28e";

/* Decode a hex string into buf; returns the number of bytes. */
static size_t
unhex(const char *hex, unsigned char *buf, size_t size)
{
	size_t		n = 0;

	for (; hex[0] && hex[1] && n < size; hex += 2)
	{
		char		pair[3] = {hex[0], hex[1], 0};

		buf[n++] = (unsigned char) strtoul(pair, NULL, 16);
	}
	return n;
}

/* Build the example bundle of section 20. */
static bool
build_example(const char *path)
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
		.pg_major = 15,
		.section_align = 64,
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

/* The key hashes of section 20.7, through the public API. */
static void
check_hashes(const char *path)
{
	static const uint64_t want[4] = {
		UINT64_C(0x44D244B2AFCA8D59), UINT64_C(0x6D0A8791D62E6DBC),
		UINT64_C(0x9A02B687E9FDA7D5), UINT64_C(0x7044E8D86915E989)
	};
	sb_bundle  *b = tf_open(path);
	uint64_t	rows[2];

	REQUIRE(b != NULL);
	for (int i = 0; i < 4; i++)
	{
		sb_key_part p = {NULL, 0, i + 1};
		uint64_t	h = 0;

		CHECK_ST(sb_key_hash(b, &p, &h, NULL), SB_OK, NULL);
		CHECKF(h == want[i], "hash of id %d is 0x%016llX, expected 0x%016llX",
			   i + 1, (unsigned long long) h, (unsigned long long) want[i]);
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
 * The line-index file of section 20.11: its own header, table, line and
 * block checksums; the schema, heap, rows and metadata of the file of
 * section 20.1, each at its new offset; zero gaps.
 */
static size_t
lines_image(const unsigned char *want, unsigned char *img, size_t size)
{
	memset(img, 0, size);
	if (size < 792 ||
		unhex(golden_lines_header, img, 0x140) != 0x140 ||
		unhex(golden_lines_line, img + 0x280, 64) != 64 ||
		unhex(golden_lines_blocksums, img + 0x2C0, 12) != 12)
		return 0;
	memcpy(img + 0x140, want + 0x180, 104);	/* schema */
	memcpy(img + 0x1C0, want + 0x200, 6);	/* heap */
	memcpy(img + 0x200, want + 0x240, 72);	/* rows */
	memcpy(img + 0x300, want + 0x380, 24);	/* metadata */
	return 792;
}

/*
 * Section 20.8: one short block per region, so each block checksum is the
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
	int			n = 0;

	REQUIRE(tf_section(img, SB_SECTION_BLOCKSUMS, &boff, &blen));
	CHECK_EQ(img[SB_HDR_BLOCK_SHIFT], 12);
	for (int r = 0; r < 3; r++)
	{
		REQUIRE(tf_section(img, kinds[r], &off, &len));
		REQUIRE(CHECK(len > 0 && len <= 4096 && 4 * (n + 1) <= (int) blen));
		CHECKF(sb_load32(img + boff + 4 * n) == (uint32_t) sb_checksum(img + off, len),
			   "block checksum %d is not the low half of section %u's checksum",
			   n, kinds[r]);
		n++;
	}
	CHECK_EQ(blen, 4 * n);
}

/*
 * Section 20.11: the first lookup of id 3 verifies the index and rows
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

/*
 * Build the example and compare the file with the expected image (on a
 * little-endian machine; its size everywhere).
 */
static void
check_example(const char *file, const unsigned char *want, size_t wlen)
{
	const char *path = tf_path(file);
	unsigned char *got;
	size_t		len = 0;

	REQUIRE(build_example(path));
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
	check_hashes(path);
#endif
}

/* The worked example. */
void
test_worked_example(void)
{
	unsigned char want[1000],
				lwant[800];
	size_t		wlen = unhex(golden_hex, want, sizeof(want)),
				llen = lines_image(want, lwant, sizeof(lwant));

	CHECK_EQ(wlen, 920);
	CHECK_EQ(llen, 792);
	check_example("example.sb", lwant, llen);
	check_lookup_blocks(tf_path("example.sb"));
}
