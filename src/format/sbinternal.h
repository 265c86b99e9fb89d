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
#define SB_HDR_BUCKET_BITS	88
#define SB_HDR_FP_BYTES		89
#define SB_HDR_MAXALIGN		90
#define SB_HDR_BLOCK_SHIFT	91
#define SB_HDR_PG_MAJOR		92
#define SB_HDR_BUILD_TIME	96
#define SB_HDR_MAX_BUCKET	104
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

/* Section kinds. */
#define SB_SECTION_SCHEMA		1
#define SB_SECTION_META			2
#define SB_SECTION_ROWS			3
#define SB_SECTION_HEAP			4
#define SB_SECTION_DIRECTORY	5
#define SB_SECTION_ENTRIES		6
#define SB_SECTION_BLOCKSUMS	7

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

/* Bucketed index: directory lines of 16 u32, 15 buckets per line. */
#define SB_DIR_LINE_SLOTS		16
#define SB_DIR_LINE_BUCKETS		15
#define SB_DIR_LINE_BYTES		64
#define SB_MAX_BUCKET_BITS		32
#define SB_SORTED_ENTRY_SIZE	16	/* u64 hash, u64 row */

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

/* Bucket of a hash, and the fingerprint bits that follow the bucket bits. */
static inline uint64_t
sb_hash_bucket(uint64_t hash, unsigned bucket_bits)
{
	return bucket_bits == 0 ? 0 : hash >> (64 - bucket_bits);
}

static inline uint32_t
sb_hash_fingerprint(uint64_t hash, unsigned bucket_bits, unsigned fp_bytes)
{
	return (uint32_t) ((hash << bucket_bits) >> (64 - 8 * fp_bytes));
}

/* Number of directory lines for 2^bucket_bits buckets. */
static inline uint64_t
sb_dir_lines(unsigned bucket_bits)
{
	return ((UINT64_C(1) << bucket_bits) + SB_DIR_LINE_BUCKETS - 1) /
		SB_DIR_LINE_BUCKETS;
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
extern bool sb_blocksums_finish(sb_blocksums *acc);
extern void sb_blocksums_free(sb_blocksums *acc);
extern uint32_t sb_block_checksum(const void *data, size_t len);
extern sb_status sb_blocks_open(sb_bundle *b, const struct sb_section_info *sec,
								unsigned shift, sb_error *err);
extern sb_status sb_blocks_verify_all(const sb_bundle *b, sb_error *err);
extern sb_status sb_check_region(const sb_bundle *b, sb_region region,
								 sb_error *err);
extern void sb_blocks_recompute(unsigned char *img, size_t len);

/* in sbverify.c */
extern bool sb_row_key_hash(const sb_bundle *b, uint64_t row, uint64_t *hash,
							bool *known, sb_error *err, sb_status *st);

/* in sbschema.c */
extern sb_status sb_schema_layout(sb_column *cols, int ncols, bool approximate,
								  uint32_t *row_size, sb_error *err);
extern sb_status sb_schema_check_column(const sb_column *c, int ncols,
										sb_error *err);

#endif							/* SBINTERNAL_H */
