/*-------------------------------------------------------------------------
 *
 * sbinternal.h
 *	  On-disk layout constants and helpers shared by the format library.
 *
 * The byte offsets here are the ones docs/format.md specifies; change one
 * and the format's version must change too.  All multi-byte integers are in
 * the byte order of the machine that wrote the file, which the header's
 * byte-order mark records.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBINTERNAL_H
#define SBINTERNAL_H

#include "sbformat.h"

#include <stdarg.h>
#include <string.h>

/* The 8-byte magic number: 0x89 "SBUNDL" newline. */
#define SB_MAGIC			"\211SBUNDL\n"
#define SB_MAGIC_LEN		8
#define SB_BYTE_ORDER_MARK	0x01020304u

/* Header field offsets. */
#define SB_HDR_MAGIC		0
#define SB_HDR_MAJOR		8
#define SB_HDR_MINOR		10
#define SB_HDR_BYTE_ORDER	12
#define SB_HDR_HEADER_SIZE	16
#define SB_HDR_NSECTIONS	20
#define SB_HDR_FILE_SIZE	24
#define SB_HDR_ROW_COUNT	32
#define SB_HDR_INDEXED		40
#define SB_HDR_DISTINCT		48
#define SB_HDR_NCOLUMNS		56
#define SB_HDR_NKEYS		60
#define SB_HDR_ROW_SIZE		64
#define SB_HDR_FLAGS		68
#define SB_HDR_HASH_ID		72
#define SB_HDR_INDEX_KIND	76
#define SB_HDR_HASH_SEED	80
#define SB_HDR_BUCKET_BITS	88	/* zero: a field of the former bucketed index */
#define SB_HDR_FP_BYTES		89
#define SB_HDR_MAXALIGN		90
#define SB_HDR_BLOCK_SHIFT	91
#define SB_HDR_PG_MAJOR		92
#define SB_HDR_BUILD_TIME	96
#define SB_HDR_MAX_RUN		104
#define SB_HDR_HOME_LINES	112
#define SB_HDR_CHECKSUM		120
#define SB_HEADER_FIXED		128

/* Section table entries follow the fixed header. */
#define SB_SECTION_ENTRY	32
#define SB_SEC_KIND			0
#define SB_SEC_FLAGS		4
#define SB_SEC_OFFSET		8
#define SB_SEC_LENGTH		16
#define SB_SEC_CHECKSUM		24
#define SB_MAX_SECTIONS		16

#define SB_SECF_REQUIRED	0x01	/* unknown kind with this flag: refuse */

/* Section kinds.  Kind 5 was the directory of the bucketed index. */
#define SB_SECTION_SCHEMA		1
#define SB_SECTION_META			2
#define SB_SECTION_ROWS			3
#define SB_SECTION_HEAP			4
#define SB_SECTION_ENTRIES		6
#define SB_SECTION_BLOCKSUMS	7
#define SB_SECTION_ENCODINGS	8	/* format 5: the columns' encodings */
#define SB_NSECTIONS			6	/* the sections a writer writes... */
#define SB_NSECTIONS_COMPACT	7	/* ...and with encodings */

/*
 * Index kinds: the line index.  Kinds 1 (bucketed) and 2 (sorted) were
 * read by majors 1 to 3 and are obsolete, as are majors 1 and 2.
 */
#define SB_INDEX_LINES		3
#define SB_OBSOLETE_MAJOR	2	/* majors up to this one are obsolete */
#define SB_LINES_MAJOR		3	/* the major of a file with no hashed key */
#define SB_HASHED_MAJOR		4	/* the first major with SB_KEY_HASHED */
#define SB_COMPACT_MAJOR	5	/* the first major with column encodings */

#define SB_BLOCK_SHIFT		12	/* block checksums cover 4 KiB blocks */

#define SB_SECTION_ALIGN	64	/* every section starts on a cache line */
#define SB_DATA_ALIGN		(1 << SB_BLOCK_SHIFT)	/* the writer's default for
													 * the heap, rows and index */
#define SB_SHORT_VALUE		(SB_DATA_ALIGN / 16)	/* never straddles a block */

/* Schema column records. */
#define SB_COLREC_SIZE		32
#define SB_COL_NAME_OFF		0
#define SB_COL_NAME_LEN		4
#define SB_COL_TYPE_OFF		8
#define SB_COL_TYPE_LEN		12
#define SB_COL_SLOT_OFF		16
#define SB_COL_TYPMOD		20
#define SB_COL_TYPLEN		24
#define SB_COL_BYVAL		26
#define SB_COL_ALIGN		27
#define SB_COL_KEYPOS		28
#define SB_COL_KEYKIND		29
#define SB_COL_STORAGE		30
#define SB_COL_FLAGS		31

#define SB_MAX_NAME_LEN		1024

/* Encodings section: a record per column, then the symbol tables. */
#define SB_ENCREC_SIZE		16
#define SB_ENC_KIND			0
#define SB_ENC_WIDTH		1
#define SB_ENC_NSYMBOLS		2
#define SB_ENC_TABLE_OFF	4
#define SB_ENC_BASE			8

/* A 4-byte reference with this bit set refers to an image in the slot. */
#define SB_INLINE_REF4		UINT32_C(0x80000000)

#define SB_HASH_XXH3		1	/* hash_id: XXH3-64 with the header's seed */
#define SB_BUNDLE_APPROXIMATE	0x01	/* header flag */

/*
 * A variable-length field with this bit set refers to an image inside its
 * own row slot, at the slot offset in its low 32 bits.
 */
#define SB_INLINE_REF		(UINT64_C(1) << 63)
#define SB_INLINE_SAMPLE_ROWS 1024	/* rows the writer sizes the area from */

/*
 * Line index: 64-byte lines of a count, the number of leading entries that
 * overflowed from earlier lines, then the fingerprints and the rows.
 */
#define SB_LINE_BYTES		64
#define SB_LINE_COUNT		0
#define SB_LINE_FIRST_OWN	1
#define SB_LINE_FPS			4
#define SB_LINE_LOAD_PCT	75	/* entries per home line, % of capacity */

/* Unaligned loads and stores in native byte order. */
static inline uint16_t
sb_load16(const void *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t
sb_load32(const void *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t
sb_load64(const void *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
sb_store16(void *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
sb_store32(void *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
sb_store64(void *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Load or store an unsigned integer of 1, 2, 4 or 8 bytes. */
static inline uint64_t
sb_load_n(const void *p, int bytes)
{
	switch (bytes)
	{
		case 1:
			return *(const uint8_t *) p;
		case 2:
			return sb_load16(p);
		case 4:
			return sb_load32(p);
	}
	return sb_load64(p);
}

/* Load a signed integer of 2, 4 or 8 bytes (an integer key's image). */
static inline int64_t
sb_load_int(const void *p, int bytes)
{
	switch (bytes)
	{
		case 2:
			return (int16_t) sb_load16(p);
		case 4:
			return (int32_t) sb_load32(p);
	}
	return (int64_t) sb_load64(p);
}

static inline void
sb_store_n(void *p, int bytes, uint64_t v)
{
	switch (bytes)
	{
		case 1:
			*(uint8_t *) p = (uint8_t) v;
			break;
		case 2:
			sb_store16(p, (uint16_t) v);
			break;
		case 4:
			sb_store32(p, (uint32_t) v);
			break;
		default:
			sb_store64(p, v);
	}
}

/*
 * Load or store the unsigned integer of 1 to 8 bytes that an offset field
 * holds, in native byte order: the low 'bytes' bytes of a u64.
 */
static inline uint64_t
sb_load_width(const void *p, int bytes)
{
	const unsigned char *q = p;
	uint64_t	v = 0;

	/*
	 * In loads of 4, 2 and 1 bytes rather than a memcpy of a variable
	 * length, which the compiler makes a call: a lookup comparing an
	 * offset-encoded key would otherwise need a stack frame.
	 */
	if (bytes >= 8)
		return sb_load64(q);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	if (bytes & 4)
		v = sb_load32(q), q += 4;
	if (bytes & 2)
		v = (v << 16) | sb_load16(q), q += 2;
	if (bytes & 1)
		v = (v << 8) | *q;
#else
	{
		unsigned	shift = 0;

		if (bytes & 4)
			v = sb_load32(q), q += 4, shift = 32;
		if (bytes & 2)
			v |= (uint64_t) sb_load16(q) << shift, q += 2, shift += 16;
		if (bytes & 1)
			v |= (uint64_t) *q << shift;
	}
#endif
	return v;
}

static inline void
sb_store_width(void *p, int bytes, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	memcpy(p, (unsigned char *) &v + 8 - bytes, bytes);
#else
	memcpy(p, &v, bytes);
#endif
}

/* Round v up to a multiple of the power of two a. */
static inline uint64_t
sb_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Byte alignment of a typalign code, or 0 if the code is invalid. */
static inline unsigned
sb_typalign_bytes(char typalign)
{
	switch (typalign)
	{
		case 'c':
			return 1;
		case 's':
			return 2;
		case 'i':
			return 4;
		case 'd':
			return 8;
		default:
			return 0;
	}
}

/* Entries a line holds: 10 with 2-byte fingerprints, 7 with 4-byte ones. */
static inline unsigned
sb_line_capacity(unsigned fp_bytes)
{
	return (SB_LINE_BYTES - SB_LINE_FPS) / (fp_bytes + 4);
}

/* Offset of a line's row numbers, after its fingerprints. */
static inline unsigned
sb_line_rows_offset(unsigned fp_bytes)
{
	return (unsigned) sb_align_up(SB_LINE_FPS + sb_line_capacity(fp_bytes) * fp_bytes, 4);
}

/* Home line of a hash: its top 32 bits scaled to the number of lines. */
static inline uint64_t
sb_line_home(uint64_t hash, uint64_t home_lines)
{
	return ((hash >> 32) * home_lines) >> 32;
}

/* Number of home lines for n entries at SB_LINE_LOAD_PCT. */
static inline uint64_t
sb_line_home_count(uint64_t n, unsigned fp_bytes)
{
	uint64_t	per = sb_line_capacity(fp_bytes) * SB_LINE_LOAD_PCT;

	return (n * 100 + per - 1) / per;
}

/* Line index fingerprint: the low 16 (or 32) bits of the hash. */
static inline uint32_t
sb_line_fingerprint(uint64_t hash, unsigned fp_bytes)
{
	return fp_bytes == 2 ? (uint16_t) hash : (uint32_t) hash;
}

/* The regions block checksums cover, in the order of their checksums. */
typedef enum sb_region
{
	SB_REGION_ROWS = 0,
	SB_REGION_HEAP = 1,
	SB_REGION_ENTRIES = 2
} sb_region;

/* A section as the table lists it. */
typedef struct sb_section_info
{
	uint32_t	kind;
	uint32_t	flags;
	uint64_t	offset;
	uint64_t	length;
	uint64_t	checksum;
} sb_section_info;

/*
 * An open bundle.  The fields are copied out of the file and validated at
 * open, so later changes to the file's bytes cannot move any access out of
 * the mapping.  Only the block checks' state changes after the open.
 */
struct sb_bundle
{
	sb_info		info;			/* what callers see */
	const unsigned char *base;	/* the mapping */
	uint64_t	size;			/* bytes mapped (the file size) */
	bool		mapped;			/* base is our mapping, to unmap at close */
	uint16_t	major;
	uint16_t	minor;
	uint32_t	flags;			/* SB_BUNDLE_* */
	uint32_t	hash_id;
	uint64_t	hash_seed;
	uint32_t	pg_major;
	uint64_t	build_time;		/* microseconds since the Unix epoch */
	uint64_t	row_count;
	uint64_t	indexed_count;
	uint64_t	distinct_keys;
	uint64_t	max_run;		/* lines of the longest run of a home line */
	uint32_t	row_size;
	uint32_t	bitmap_bytes;
	int			ncolumns;
	int			nkeys;
	sb_column  *columns;
	uint32_t   *slot_offsets;	/* of each column's field; SB_NOT_STORED */
	sb_encoding *encodings;		/* of each column */
	unsigned char *symbols;		/* the symbol tables the encodings use */
	bool		encoded;		/* some column is encoded or narrowed */
	int			key_columns[SB_MAX_KEY_COLUMNS];	/* column of each key */
	uint8_t		fp_bytes;
	uint64_t	home_lines;		/* index lines a hash can start at */
	uint64_t	nlines;			/* index lines in all */
	int			int_key;		/* the key column, if the key is one
								 * integer column stored in the slot;
								 * else -1 */
	uint32_t	int_key_offset; /* its field's slot offset */
	int16_t		int_key_len;	/* its field's bytes: the typlen, 2, 4 or
								 * 8; or, stored as an offset, the
								 * encoding's width, 1 to 7 */
	bool		int_key_offset_enc; /* stored as an offset (SB_ENC_OFFSET)
									 * from int_key_base */
	int64_t		int_key_base;
	bool		int_key_unique; /* and every entry has its own hash, in a
								 * bundle that is not approximate: the
								 * lookup of sblookup.c's first_int_row */
	const unsigned char *rows;	/* row slots */
	const unsigned char *heap;
	uint64_t	heap_size;
	const unsigned char *entries;	/* index lines */
	uint64_t	entries_size;
	const unsigned char *meta;
	uint64_t	meta_size;
	int			nsections;
	sb_section_info sections[SB_MAX_SECTIONS];	/* in table order */
	sb_section	file_sections[SB_MAX_SECTIONS]; /* in file order, for info */
	uint32_t	header_size;
	char	   *strings;		/* names, NUL-terminated copies */

	/* block checksums, checked on first use (see sb_check) */
	const unsigned char *blocksums; /* a u32 per block, or NULL */
	uint8_t		block_shift;
	uint64_t	block_first[3]; /* first block of each sb_region */
	uint64_t	nblocks;
	uint64_t   *verified;		/* bit per block: checked already; then
								 * a bit per region checked in full */
};

extern sb_status sb_check_slow(sb_bundle *b, sb_region region, uint64_t off,
							   uint64_t len, sb_error *err);

/*
 * Are bytes [off, off + len) of a region checked already: in one block, or
 * two adjacent ones, verified before, or in a bundle without block
 * checksums?  Two bits, so that a row slot across a block boundary needs
 * no slow path either.
 */
static inline bool
sb_checked(const sb_bundle *b, sb_region region, uint64_t off, uint64_t len)
{
	uint64_t	first,
				last;

	if (b->blocksums == NULL || len == 0)
		return true;
	first = b->block_first[region] + (off >> b->block_shift);
	last = b->block_first[region] + ((off + len - 1) >> b->block_shift);
	return last - first <= 1 &&
		((b->verified[first >> 6] >> (first & 63)) &
		 (b->verified[last >> 6] >> (last & 63)) & 1);
}

/*
 * Check the block checksums of bytes [off, off + len) of a region, once
 * per block: the first access verifies a block, later ones test a bit.
 */
static inline sb_status
sb_check(sb_bundle *b, sb_region region, uint64_t off, uint64_t len,
		 sb_error *err)
{
	if (sb_checked(b, region, off, len))
		return SB_OK;
	return sb_check_slow(b, region, off, len, err);
}

extern sb_status sb_row_get_slow(sb_bundle *b, uint64_t row,
								 const unsigned char **slot, sb_error *err);

/*
 * sb_row_get, inline: the common case is a row whose slot's block was
 * checked before.
 */
static inline sb_status
sb_row_checked(sb_bundle *b, uint64_t row, const unsigned char **slot,
			   sb_error *err)
{
	uint64_t	off = row * b->row_size;

	if (row < b->row_count && sb_checked(b, SB_REGION_ROWS, off, b->row_size))
	{
		*slot = b->rows + off;
		return SB_OK;
	}
	return sb_row_get_slow(b, row, slot, err);
}

/*
 * The slot of row 'row', or NULL if there is no such row.  The slot's
 * block checksum is not checked: see sb_row_get.
 */
static inline const unsigned char *
sb_row_slot(const sb_bundle *b, uint64_t row)
{
	if (row >= b->row_count)
		return NULL;
	return b->rows + row * b->row_size;
}

/* Total size of the varlena image at 'image', checked against 'avail'. */
static inline bool
sb_varlena_size(const unsigned char *image, size_t avail, size_t *total)
{
	size_t		hdr,
				n;
	uint32_t	word;

	if (avail < 1)
		return false;
	hdr = sb_varlena_header_size(image);
	if (hdr == 0 || hdr > avail)
		return false;
	if (hdr == 1)
		n = (size_t) image[0];
	else
	{
		memcpy(&word, image, 4);
		n = word;
	}
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	n = hdr == 1 ? (n & 0x7F) : (n & 0x3FFFFFFF);
#else
	n = hdr == 1 ? (n >> 1) : (n >> 2);
#endif
	if (n < hdr || n > avail)
		return false;
	*total = n;
	return true;
}

/*
 * The state of a lookup, kept in the caller's sb_lookup.  may_alias: it
 * is read and written through the caller's object of another type.
 */
typedef struct __attribute__((may_alias)) sb_lookup_state
{
	const sb_key_part *parts;
	uint64_t	hash;
	uint64_t	line;			/* the index line being read */
	uint32_t	fp;				/* fingerprint sought */
	uint8_t		pos;			/* next entry of the line to examine */
	uint8_t		end;			/* one past the last candidate entry */
	uint8_t		phase;			/* SB_LOOKUP_*: what is known so far */
} sb_lookup_state;

#define SB_LOOKUP_STARTED	0	/* only the hash */
#define SB_LOOKUP_LOCATED	1	/* line, pos and end are set */
#define SB_LOOKUP_DONE		2	/* no more rows */

/* in sberror.c */
extern sb_status sb_fail(sb_error *err, sb_status code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern sb_status sb_fail_errno(sb_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* in sbhash.c */
typedef struct sb_keycol
{
	uint8_t		kind;
	int16_t		typlen;
} sb_keycol;

/* Test seam: a mask applied to every key hash, to force collisions. */
extern uint64_t sb_test_hash_mask;

extern uint64_t sb_checksum(const void *data, size_t len);
extern uint64_t sb_hash_parts(const sb_keycol *cols, int nkeys,
							  const sb_key_part *parts, uint64_t seed);
extern uint64_t sb_hash_integer(int64_t value, uint64_t seed);
extern bool sb_key_part_equal(const sb_keycol *col, const sb_key_part *a,
							  const sb_key_part *b);
extern bool sb_key_part_from_image(const sb_keycol *col,
								   const unsigned char *image, size_t len,
								   sb_key_part *part);

/* Streaming checksum over a section, as it is written. */
typedef struct sb_checksum_state sb_checksum_state;
extern sb_checksum_state *sb_checksum_create(void);
extern void sb_checksum_update(sb_checksum_state *s, const void *data,
							   size_t len);
extern uint64_t sb_checksum_final(sb_checksum_state *s);
extern void sb_checksum_free(sb_checksum_state *s);

/* Encode a varlena payload as a datum image; returns the header size. */
extern size_t sb_varlena_make_header(unsigned char *hdr, size_t payload_len,
									 bool shortok);

/* in sbblocks.c: block checksums as they are written */
typedef struct sb_blocksums
{
	uint32_t   *sums;
	size_t		n;
	size_t		cap;
	unsigned char *block;		/* the unfinished block */
	size_t		fill;
	bool		failed;			/* out of memory */
} sb_blocksums;

extern sb_blocksums *sb_blocksums_create(void);
extern void sb_blocksums_feed(sb_blocksums *acc, const void *data, size_t len);
extern void sb_blocksums_push(sb_blocksums *acc, const uint32_t *sums,
							  size_t n);
extern bool sb_blocksums_finish(sb_blocksums *acc);
extern void sb_blocksums_free(sb_blocksums *acc);
extern uint32_t sb_block_checksum(const void *data, size_t len);
extern sb_status sb_blocks_open(sb_bundle *b, const sb_section_info *sec,
								unsigned shift, sb_error *err);
extern sb_status sb_blocks_verify_all(sb_bundle *b, sb_error *err);
extern void sb_blocks_recompute(unsigned char *img, size_t len);

/* in sbverify.c */
extern bool sb_row_key_hash(sb_bundle *b, uint64_t row, uint64_t *hash,
							bool *known, sb_error *err, sb_status *st);

/* in sbprewarm.c */
extern void sb_populate_data(const sb_bundle *b);

/* in sbaccess.c */
extern void sb_fill_info(sb_bundle *b);

/* in sbencode.c */
extern sb_status sb_encodings_read(sb_bundle *b, const unsigned char *sec,
								   uint64_t len, sb_error *err);
extern void sb_encodings_default(sb_bundle *b);
extern bool sb_symbols_size(const sb_encoding *e, const unsigned char *in,
							size_t len, size_t *out_len);
extern size_t sb_symbols_decode(const sb_encoding *e, const unsigned char *in,
								size_t len, unsigned char *out, size_t cap);
extern int	sb_symbols_compare(const sb_encoding *e, const unsigned char *in,
							   size_t len, const unsigned char *probe,
							   size_t plen);
extern sb_status sb_slot_key_part(sb_bundle *b, const unsigned char *slot,
								  int col, const sb_keycol *kc, sb_value *v,
								  sb_key_part *part, unsigned char **buf,
								  size_t *cap, sb_error *err);

/* in sbschema.c */
extern sb_status sb_schema_layout(const sb_column *cols, int ncols,
								  bool approximate, const uint8_t *widths,
								  uint32_t *offsets, uint32_t *row_size,
								  uint32_t *fields_end, sb_error *err);
extern sb_status sb_schema_check_column(const sb_column *c, int ncols,
										sb_error *err);

#endif							/* SBINTERNAL_H */
