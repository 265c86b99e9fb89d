/*-------------------------------------------------------------------------
 *
 * test_compact.c
 *	  Compact encodings (format 5): integers as offsets at the edges of
 *	  their ranges, symbol-coded text with every byte value, empty and
 *	  long values, NULLs, keys of either kind, columns the writer leaves
 *	  alone, and damaged encodings.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"
#include "sbinternal.h"

#include <stdio.h>
#include <stdlib.h>

#define NROWS	3000

/*
 * A short, repetitive text of row r (hex digits, as md5 gives); empty in
 * some rows, and every byte value in a few, which escape codes hold.
 */
static size_t
hex_value(uint64_t r, unsigned char *buf)
{
	uint64_t	s = r * 7 + 1;
	size_t		len = r % 50 == 0 ? 0 : 20 + r % 40;

	if (r % 101 == 7)
	{
		for (int i = 0; i < 256; i++)
			buf[i] = (unsigned char) (255 - i);
		return 256;
	}

	for (size_t i = 0; i < len; i++)
		buf[i] = "0123456789abcdef"[tf_rand(&s) & 15];
	return len;
}

/* Random bytes of row r, which no symbols shorten; a long value now and then. */
static size_t
odd_value(uint64_t r, unsigned char *buf)
{
	uint64_t	s = r;
	size_t		len = r % 97 == 5 ? 3000 : 64;

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char) tf_rand(&s);
	return len;
}

/*
 * Build the compact test bundle: an int8 key (small range), an int2
 * (at its edges), an int4 whose range needs all 4 bytes (not encoded),
 * an int8 with negative values, hex text, text of every byte value,
 * float8 (never encoded).
 */
static sb_bundle *
compact_bundle(const char *file, int nrows, bool compact,
			   sb_build_stats *stats)
{
	sb_column	cols[7] = {
		tf_keyed(tf_col_int("k", 8), 1, SB_KEY_INTEGER),
		tf_col_int("small", 2),
		tf_col_int("wide", 4),
		tf_col_int("neg", 8),
		tf_col_text("hex", true, 'i'),
		tf_col_text("odd", true, 'i'),
		tf_col_float("f", 8),
	};
	const char *path = tf_path(file);
	sb_writer_options o;
	sb_writer  *w;
	unsigned char buf[4096];

	tf_options(&o, path, cols, 7);
	o.compact = compact;
	if ((w = tf_create(&o)) == NULL)
		return NULL;
	for (int r = 0; r < nrows; r++)
	{
		double		f = r * 0.25;

		sb_writer_begin_row(w);
		tf_set_int(w, 0, 8, 1000000 + r);
		if (r % 11 != 1)
			tf_set_int(w, 1, 2, r % 2 ? INT16_MIN + r % 200 - 1 : INT16_MIN + 250);
		tf_set_int(w, 2, 4, r % 2 ? INT32_MIN : INT32_MAX);
		if (r % 13 != 2)
			tf_set_int(w, 3, 8, -(int64_t) r * 1000);
		if (r % 17 != 3)
			tf_set_var(w, 4, buf, hex_value(r, buf));
		tf_set_var(w, 5, buf, odd_value(r, buf));
		tf_set_fixed(w, 6, &f);
		tf_end_row(w);
	}
	return tf_finish(w, path, stats);
}

/* Every value of the compact test bundle reads back. */
static bool
compact_read_back(sb_bundle *b, int nrows)
{
	const sb_info *in = sb_bundle_info(b);
	unsigned char buf[4096];
	bool		ok = true;

	for (int r = 0; r < nrows && ok; r++)
	{
		const unsigned char *slot = sb_row_slot(b, r);
		uint64_t	row;
		sb_value	v;
		sb_error	err;
		double		f;

		ok &= CHECK_EQ(tf_lookup_int(b, 1000000 + r, &row, 1), 1) & CHECK_EQ(row, r);
		ok &= CHECK_EQ(tf_get_int(b, r, 0), 1000000 + r);
		if (r % 11 != 1)
			ok &= CHECK_EQ(tf_get_int(b, r, 1), r % 2 ? INT16_MIN + r % 200 - 1 : INT16_MIN + 250);
		else
			ok &= CHECK(sb_slot_isnull(in, slot, 1));
		ok &= CHECK_EQ(tf_get_int(b, r, 2), r % 2 ? INT32_MIN : INT32_MAX);
		if (r % 13 != 2)
			ok &= CHECK_EQ(tf_get_int(b, r, 3), -(int64_t) r * 1000);
		else
			ok &= CHECK(sb_slot_isnull(in, slot, 3));
		if (r % 17 != 3)
			ok &= tf_text_is(b, r, 4, buf, hex_value(r, buf));
		else
			ok &= CHECK(sb_slot_isnull(in, slot, 4));
		ok &= tf_text_is(b, r, 5, buf, odd_value(r, buf));
		ok &= CHECK_ST(sb_slot_value(b, slot, 6, &v, &err), SB_OK, &err);
		memcpy(&f, v.ptr, 8);
		ok &= CHECK(f == r * 0.25);
	}
	return ok;
}

/* Offsets and symbols where they pay; the rest as before; all reads back. */
void
test_compact_round_trip(void)
{
	sb_build_stats stats,
				plain_stats;
	sb_bundle  *b,
			   *plain;
	const sb_encoding *e;

	REQUIRE((b = compact_bundle("compact.sb", NROWS, true, &stats)) != NULL);
	REQUIRE((plain = compact_bundle("plain.sb", NROWS, false, &plain_stats)) != NULL);
	e = sb_bundle_info(b)->encodings;
	CHECK_EQ(b->major, 5);
	CHECK_EQ(plain->major, 3);
	CHECK_EQ(e[0].kind, SB_ENC_OFFSET);		/* key: 3000 values */
	CHECK_EQ(e[0].width, 2);
	CHECK_EQ(e[0].base, 1000000);
	CHECK_EQ(e[1].kind, SB_ENC_OFFSET);		/* int2 at its low edge */
	CHECK_EQ(e[1].width, 1);
	CHECK_EQ(e[1].base, INT16_MIN);
	CHECK_EQ(e[2].kind, SB_ENC_NONE);		/* int4 across its whole range */
	CHECK_EQ(e[2].width, 4);
	CHECK_EQ(e[3].kind, SB_ENC_OFFSET);		/* negatives */
	CHECK_EQ(e[3].width, 3);
	CHECK_EQ(e[4].kind, SB_ENC_SYMBOLS);	/* hex: half the bytes */
	CHECK(e[4].nsymbols > 16);
	CHECK_EQ(e[4].width, 4);
	CHECK_EQ(e[5].kind, SB_ENC_NONE);		/* every byte value: no gain */
	CHECK_EQ(e[5].width, 4);
	CHECK_EQ(e[6].kind, SB_ENC_NONE);		/* float8 */
	CHECK_EQ(stats.encoded_columns, 4);
	CHECK(b->row_size < plain->row_size);
	CHECK(stats.file_size < plain_stats.file_size);
	compact_read_back(b, NROWS);
	compact_read_back(plain, NROWS);
	sb_close(b);
	sb_close(plain);
}

/* A few rows, none, and a compact build where nothing pays. */
void
test_compact_small(void)
{
	sb_build_stats stats;
	sb_bundle  *b;
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("k", 4), 1, SB_KEY_INTEGER),
		tf_col_float("f", 8),
	};
	const char *path = tf_path("nothing.sb");
	sb_writer_options o;
	sb_writer  *w;

	REQUIRE((b = compact_bundle("few.sb", 3, true, &stats)) != NULL);
	compact_read_back(b, 3);
	sb_close(b);
	REQUIRE((b = compact_bundle("none.sb", 0, true, &stats)) != NULL);
	CHECK_EQ(b->row_count, 0);
	sb_close(b);

	/* an int4 key over its whole range and a float: format 3, as before */
	tf_options(&o, path, cols, 2);
	o.compact = true;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < 100; r++)
	{
		double		f = r;

		sb_writer_begin_row(w);
		tf_set_int(w, 0, 4, r % 2 ? INT32_MIN + r : INT32_MAX - r);
		tf_set_fixed(w, 1, &f);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, &stats)) != NULL);
	CHECK_EQ(b->major, 3);
	CHECK_EQ(stats.encoded_columns, 0);
	CHECK_EQ(sb_bundle_info(b)->encodings[0].width, 4);
	CHECK_EQ(tf_get_int(b, 3, 0), INT32_MIN + 3);
	sb_close(b);
}

/* A symbol-coded text key is looked up and compared through its codes. */
void
test_compact_text_key(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_text("k", true, 'i'), 1, SB_KEY_VARLENA),
		tf_col_int("v", 8),
	};
	const char *path = tf_path("textkey.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;
	unsigned char buf[512];
	char		key[512];
	uint64_t	rows[2];

	tf_options(&o, path, cols, 2);
	o.compact = true;
	REQUIRE((w = tf_create(&o)) != NULL);
	for (int r = 0; r < NROWS; r++)
	{
		size_t		len = hex_value(r + 1, buf);

		sb_writer_begin_row(w);
		tf_set_var(w, 0, buf, len);
		tf_set_int(w, 1, 8, r);
		tf_end_row(w);
	}
	REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
	CHECK_EQ(sb_bundle_info(b)->encodings[0].kind, SB_ENC_SYMBOLS);
	for (int r = 0; r < NROWS; r++)
	{
		size_t		len = hex_value(r + 1, buf);

		sb_key_part part = {.data = buf, .len = len};

		if (len == 0 || r % 50 == 49)
			continue;			/* the empty key: many rows */
		if ((r + 1) % 101 == 7)
		{
			/* every byte value, in escapes: one key of many rows */
			CHECK(tf_lookup(b, &part, rows, 2) > 1 && rows[0] == 6);
			continue;
		}
		if (!CHECK_EQ(tf_lookup(b, &part, rows, 2), 1) ||
			!CHECK_EQ(tf_get_int(b, rows[0], 1), r))
			break;
	}
	/* a prefix, an extension and a changed byte of a key are not it */
	hex_value(2, buf);
	memcpy(key, buf, 10);
	key[10] = 0;
	CHECK_EQ(tf_lookup_text(b, key, rows, 2), 0);
	memcpy(key, buf, 21);
	key[21] = 'x';
	key[22] = 0;
	CHECK_EQ(tf_lookup_text(b, key, rows, 2), 0);
	memcpy(key, buf, 21);
	key[20] = 'z';
	key[21] = 0;
	CHECK_EQ(tf_lookup_text(b, key, rows, 2), 0);
	sb_close(b);
}

/* Damaged encodings are refused at open, or their values at access. */
void
test_compact_damage(void)
{
	sb_bundle  *b;
	unsigned char *img;
	size_t		len;
	uint64_t	off,
				slen;
	sb_error	err;
	unsigned char *rec;

	REQUIRE((b = compact_bundle("damage.sb", 200, true, NULL)) != NULL);
	sb_close(b);
	REQUIRE((img = tf_read_file(tf_path("damage.sb"), &len)) != NULL);
	REQUIRE(tf_section(img, SB_SECTION_ENCODINGS, &off, &slen));

	/* an unknown encoding */
	rec = img + off + 1 * SB_ENCREC_SIZE;
	rec[SB_ENC_KIND] = 9;
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_UNSUPPORTED, &err);
	rec[SB_ENC_KIND] = SB_ENC_OFFSET;

	/* an offset as wide as the type, or wider than the slot allows */
	rec[SB_ENC_WIDTH] = 2;
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
	rec[SB_ENC_WIDTH] = 1;
	rec = img + off + 3 * SB_ENCREC_SIZE;
	rec[SB_ENC_WIDTH] = 0;
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
	rec[SB_ENC_WIDTH] = 3;

	/* symbols on a fixed-length column, offsets on text */
	rec[SB_ENC_KIND] = SB_ENC_SYMBOLS;
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
	rec[SB_ENC_KIND] = SB_ENC_OFFSET;
	rec = img + off + 4 * SB_ENCREC_SIZE;
	rec[SB_ENC_KIND] = SB_ENC_OFFSET;
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
	rec[SB_ENC_KIND] = SB_ENC_SYMBOLS;

	/* a symbol table outside the section, a symbol of 0 or 9 bytes */
	{
		uint32_t	toff = sb_load32(rec + SB_ENC_TABLE_OFF);

		sb_store32(rec + SB_ENC_TABLE_OFF, (uint32_t) slen);
		tf_fix_checksums(img, len);
		CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
		sb_store32(rec + SB_ENC_TABLE_OFF, toff);
		img[off + toff] = 0;
		tf_fix_checksums(img, len);
		CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
		img[off + toff] = 9;
		tf_fix_checksums(img, len);
		CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
		/* fewer symbols than the values use: refused when read */
		img[off + toff] = 2;
		rec[SB_ENC_NSYMBOLS] = 1;
		tf_fix_checksums(img, len);
		CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
	}
	free(img);

	/* a section in a file of major 4, none in one of major 5 */
	REQUIRE((img = tf_read_file(tf_path("damage.sb"), &len)) != NULL);
	sb_store16(img + SB_HDR_MAJOR, 4);
	tf_fix_checksums(img, len);
	CHECK_ST(tf_damaged_status(img, len, &err), SB_ERR_CORRUPT, &err);
	free(img);
}

/*
 * An integer key stored as an offset, of each width the writer chooses,
 * in a bundle where every key is unique (the lookup's straight-line
 * path): every key is found; keys below the base, past the range, and
 * those whose low bytes equal a stored offset are not.
 */
void
test_compact_int_keys(void)
{
	static const struct
	{
		int			typlen;
		int64_t		base;
		int64_t		step;
		int			n;
		int			width;
	}			cases[] = {
		{2, INT16_MIN, 1, 200, 1},
		{2, 1000, 1, 250, 1},
		{4, -100000, 7, 3000, 2},
		{4, INT32_MAX - 2999, 1, 3000, 2},
		{8, 40, 1, 250, 1},
		{8, -5000000000000, 977, 3000, 3},
		{8, INT64_MIN + 5, 3, 3000, 2},
		{8, 1000, 300000000, 3000, 5},
		{8, INT64_MAX - 299999999 * 3000LL, 299999999, 3001, 5},
		{8, -7, 1, 20, 1},
		{8, 123456789, 70001, 20, 3},
		{8, -1000, 30000000000, 20, 5},
	};

	for (int c = 0; c < (int) (sizeof(cases) / sizeof(cases[0])); c++)
	{
		int			typlen = cases[c].typlen;
		int64_t		base = cases[c].base,
					step = cases[c].step;
		int			n = cases[c].n,
					width = cases[c].width;
		sb_column	cols[2] = {
			tf_keyed(tf_col_int("k", typlen), 1, SB_KEY_INTEGER),
			tf_col_float("f", 8),
		};
		char		file[32];
		const char *path;
		sb_writer_options o;
		sb_writer  *w;
		sb_bundle  *b;
		uint64_t	rows[2];
		uint64_t	span = width < 8 ? UINT64_C(1) << (8 * width) : 0;
		int64_t		lo = typlen == 2 ? INT16_MIN : typlen == 4 ? INT32_MIN : INT64_MIN;
		int64_t		hi = typlen == 2 ? INT16_MAX : typlen == 4 ? INT32_MAX : INT64_MAX;
		int64_t		probes[6];
		bool		ok = true;

		snprintf(file, sizeof(file), "intkey%d.sb", c);
		path = tf_path(file);
		tf_options(&o, path, cols, 2);
		o.compact = true;
		REQUIRE((w = tf_create(&o)) != NULL);
		for (int r = 0; r < n; r++)
		{
			double		f = r;

			sb_writer_begin_row(w);
			/* the last row's key is NULL: not indexed */
			if (r < n - 1)
				tf_set_int(w, 0, typlen, base + r * step);
			tf_set_fixed(w, 1, &f);
			tf_end_row(w);
		}
		REQUIRE((b = tf_finish(w, path, NULL)) != NULL);
		if (!CHECK_EQ(sb_bundle_info(b)->encodings[0].kind, SB_ENC_OFFSET) ||
			!CHECK_EQ(sb_bundle_info(b)->encodings[0].width, width) ||
			!CHECK_EQ(sb_bundle_info(b)->encodings[0].base, base))
			printf("# case %d\n", c);
		CHECK(b->int_key >= 0 && b->int_key_unique && b->int_key_offset_enc &&
			  b->int_key_len == width && b->int_key_base == base);
		for (int r = 0; r < n - 1 && ok; r++)
		{
			uint64_t	off;

			ok &= CHECK_EQ(tf_lookup_int(b, base + r * step, rows, 2), 1);
			ok &= CHECK_EQ(rows[0], r);
			if (step > 1)
				ok &= CHECK_EQ(tf_lookup_int(b, base + r * step + 1, rows, 2), 0);
			/* the same low bytes as a stored offset, one span away */
			off = (uint64_t) r * (uint64_t) step;
			if (span != 0 && (uint64_t) hi - (uint64_t) base - off >= span)
				ok &= CHECK_EQ(tf_lookup_int(b, (int64_t) ((uint64_t) base + off + span),
											 rows, 2), 0);
			if (span != 0 && (uint64_t) base - (uint64_t) lo + off >= span)
				ok &= CHECK_EQ(tf_lookup_int(b, (int64_t) ((uint64_t) base + off - span),
											 rows, 2), 0);
		}
		if (!ok)
			printf("# case %d\n", c);

		/*
		 * Keys a span away from a stored one whose hash has the stored
		 * key's home line and fingerprint: the lookup reaches that key's
		 * row and must compare more than the field's bytes.  Searched for
		 * in the small bundles, whose few home lines make them common.
		 */
		if (typlen == 8 && b->home_lines <= 8)
		{
			int			found = 0;

			for (int r = 0; r < n - 1 && found < 4; r++)
			{
				uint64_t	off = (uint64_t) r * (uint64_t) step;
				uint64_t	h = sb_hash_integer(base + (int64_t) off, b->hash_seed);

				for (uint64_t j = 1; j < 400000 && found < 4; j++)
				{
					int64_t		v = (int64_t) ((uint64_t) base + off + j * span);
					uint64_t	hv = sb_hash_integer(v, b->hash_seed);

					if ((uint16_t) hv != (uint16_t) h ||
						sb_line_home(hv, b->home_lines) != sb_line_home(h, b->home_lines))
						continue;
					found++;
					if (!CHECK_EQ(tf_lookup_int(b, v, rows, 2), 0))
						printf("# case %d, probe %lld\n", c, (long long) v);
				}
			}
			CHECK(found > 0);
		}
		probes[0] = lo;
		probes[1] = hi;
		probes[2] = base - 1;
		probes[3] = base + (int64_t) (n - 1) * step;
		probes[4] = 0;
		probes[5] = -1;
		for (int k = 0; k < 6; k++)
		{
			int64_t		v = probes[k];
			bool		stored = v >= base && v < base + (int64_t) (n - 1) * step &&
				(uint64_t) (v - base) % (uint64_t) step == 0;

			if (v < lo || v > hi || (v == base - 1 && base == lo))
				continue;
			if (!CHECK_EQ(tf_lookup_int(b, v, rows, 2), stored ? 1 : 0))
				printf("# case %d, probe %lld\n", c, (long long) v);
		}
		sb_close(b);
	}
}
