/*-------------------------------------------------------------------------
 *
 * sbformat.h
 *	  Public interface of the bundle file format library.
 *
 * A bundle is one immutable file holding the rows of a typed schema as
 * PostgreSQL datum images in fixed-width row slots, a deduplicated value
 * heap for variable-length values, and a hash index on a key.  This
 * library writes bundles in a single streaming pass and reads them through
 * a read-only memory mapping.  It is plain C and POSIX and never includes
 * postgres.h, so that it can be tested, fuzzed and benchmarked on its own
 * and used by the command-line tool.  docs/format.md specifies the bytes.
 *
 * Every function that can fail returns an sb_status (SB_OK or a negative
 * code) and, when given one, fills an sb_error with a specific detail.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBFORMAT_H
#define SBFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Format versions: the reader reads majors 1 to 4, any minor.  The writer
 * writes the lowest that describes the file: 4.0 with a hashed key, else
 * 3.0 with a line index, else 2.0 when some value is stored inside its
 * row slot, else 1.0.
 */
#define SB_FORMAT_MAJOR		4
#define SB_FORMAT_MINOR		0
#define SB_FORMAT_MAJOR_MIN	1

#define SB_MAX_COLUMNS		1600	/* PostgreSQL's MaxHeapAttributeNumber */
#define SB_MAX_KEY_COLUMNS	32		/* PostgreSQL's INDEX_MAX_KEYS */
#define SB_MAX_ROWS			UINT32_MAX	/* index entries hold 32-bit row numbers */
#define SB_MAX_VALUE_SIZE	0x3FFFFFFF	/* a varlena's 30-bit length */

/* Status codes.  Keep sb_status_name() and sb_status_message() in step. */
typedef enum sb_status
{
	SB_OK = 0,
	SB_ERR_IO = -1,				/* a system call failed; sb_error.sys_errno */
	SB_ERR_NOMEM = -2,			/* out of memory */
	SB_ERR_NOT_REGULAR = -3,	/* the path is not a regular file */
	SB_ERR_TRUNCATED = -4,		/* the file is shorter than its header says */
	SB_ERR_BAD_MAGIC = -5,		/* not a bundle file */
	SB_ERR_BYTE_ORDER = -6,		/* written on a machine of other byte order */
	SB_ERR_VERSION = -7,		/* a major version this library cannot read */
	SB_ERR_CHECKSUM = -8,		/* a checksum does not match */
	SB_ERR_CORRUPT = -9,		/* the structure is inconsistent */
	SB_ERR_UNSUPPORTED = -10,	/* valid, but uses something this library lacks */
	SB_ERR_INVALID = -11,		/* the caller passed an invalid argument */
	SB_ERR_LIMIT = -12,			/* a size or count limit was exceeded */
	SB_ERR_STATE = -13			/* call made in the wrong state */
} sb_status;

/* Details of a failure: the code, errno if any, and a specific message. */
typedef struct sb_error
{
	sb_status	code;
	int			sys_errno;
	char		detail[256];
} sb_error;

extern const char *sb_status_name(sb_status code);
extern const char *sb_status_message(sb_status code);

/*
 * How a key column is compared.  Equality of keys is byte equality of a
 * canonical form, so the hash of the canonical form finds every match.
 * A hashed key column is the exception: its key part is a hash of the
 * value that the caller computes (with a hash consistent with the type's
 * equality), so a lookup can only narrow the rows down to those whose
 * hash may match, and the caller confirms each with the type's equality.
 */
typedef enum sb_key_kind
{
	SB_KEY_NONE = 0,			/* not a key column */
	SB_KEY_BYTES = 1,			/* fixed-length image compared as bytes */
	SB_KEY_INTEGER = 2,			/* signed integer of 2, 4 or 8 bytes, as int8 */
	SB_KEY_FLOAT = 3,			/* float4/float8: -0 is 0, every NaN is one */
	SB_KEY_VARLENA = 4,			/* variable-length payload compared as bytes */
	SB_KEY_BPCHAR = 5,			/* payload without trailing blanks */
	SB_KEY_HASHED = 6			/* the caller's 8-byte hash of the value */
} sb_key_kind;

/* How a column's values are stored. */
#define SB_STORAGE_DATUM	0	/* the PostgreSQL datum image */
#define SB_STORAGE_BINARY	1	/* the type's binary send form, as bytea */

/* Column flags. */
#define SB_COLF_SHORT_VARLENA	0x01	/* 1-byte varlena headers allowed */

/* Index kinds. */
#define SB_INDEX_BUCKETED	1	/* bucket directory + fingerprints */
#define SB_INDEX_SORTED		2	/* sorted hashes, the seed's search */
#define SB_INDEX_LINES		3	/* hash table of 64-byte lines (default) */

/* Hash functions. */
#define SB_HASH_XXH3		1	/* XXH3-64 with the header's seed */

/* A column of a schema, as declared to the writer and read back. */
typedef struct sb_column
{
	const char *name;
	const char *type_name;		/* e.g. "pg_catalog.int4" */
	int32_t		typmod;
	int16_t		typlen;			/* > 0 fixed length, -1 variable length */
	bool		typbyval;
	char		typalign;		/* 'c', 's', 'i' or 'd' */
	uint8_t		key_position;	/* 0, or 1.. for the n-th key column */
	uint8_t		key_kind;		/* sb_key_kind */
	uint8_t		storage;		/* SB_STORAGE_* */
	uint8_t		flags;			/* SB_COLF_* */
	uint32_t	slot_offset;	/* reader only: offset in the row slot */
	uint32_t	name_len;		/* reader only: length of name */
	uint32_t	type_name_len;	/* reader only: length of type_name */
} sb_column;

#define SB_NOT_STORED	UINT32_MAX	/* slot_offset of an approximate key */

/*
 * A variable-length field with this bit set refers to an image inside its
 * own row slot, at the slot offset in its low 32 bits (format v2).
 */
#define SB_INLINE_REF	(UINT64_C(1) << 63)
#define SB_MAX_INLINE	4096	/* largest inline area a writer may ask for */
#define SB_INLINE_SAMPLE_ROWS 1024	/* rows the writer sizes the area from */
#define SB_INLINE_DEFAULT 256	/* the limit sharedbuf and sbundle use */

/*
 * One part of a probe key, in the representation of its key column:
 * SB_KEY_INTEGER reads ival; SB_KEY_FLOAT reads data with len 4 or 8 (the
 * column's width); the other kinds read data and len (for SB_KEY_BYTES,
 * len is typlen; for the variable kinds, the payload without header; for
 * SB_KEY_HASHED, the value's hash as a uint64_t, len 8).
 */
typedef struct sb_key_part
{
	const void *data;
	size_t		len;
	int64_t		ival;
} sb_key_part;

/* ---------------------------------------------------------------------
 * Writer
 * ---------------------------------------------------------------------
 */
typedef struct sb_writer sb_writer;

typedef struct sb_writer_options
{
	const char *path;			/* created with O_EXCL; removed on failure */
	const char *temp_dir;		/* spill files; NULL means path's directory */
	size_t		memory_budget;	/* bytes for the index sort and dedup */
	uint64_t	hash_seed;
	int			index_kind;		/* SB_INDEX_*; 0 means lines */
	bool		approximate;	/* keys not stored; match on the hash */
	bool		dedup;			/* store identical values once */
	uint32_t	section_align;	/* of the heap, rows and index sections: a
								 * power of two from 64 to 4096; 0 means
								 * 4096, a block checksum per page */
	uint32_t	pg_major;		/* PostgreSQL major version of the images */
	uint32_t	inline_limit;	/* widest inline area for short values in
								 * each row slot, up to SB_MAX_INLINE; 0
								 * stores every value in the heap */
	int			ncolumns;
	const sb_column *columns;
} sb_writer_options;

/* Statistics of a finished build. */
typedef struct sb_build_stats
{
	uint64_t	rows;
	uint64_t	indexed;		/* rows with a non-NULL key */
	uint64_t	distinct_keys;	/* distinct key hashes */
	uint64_t	file_size;
	uint64_t	heap_bytes;
	uint64_t	dedup_hits;		/* values stored once and referenced again */
	uint64_t	dedup_saved;	/* heap bytes those references saved */
	uint32_t	inline_area;	/* bytes of each row slot for inline values */
	uint64_t	inline_values;	/* values stored in their row slot */
	uint32_t	spill_runs;		/* sorted runs written to temp files */
} sb_build_stats;

extern sb_status sb_writer_create(const sb_writer_options *opts,
								  sb_writer **out, sb_error *err);
extern sb_status sb_writer_add_meta(sb_writer *w, const char *key,
									const char *value, sb_error *err);
extern void sb_writer_begin_row(sb_writer *w);
extern sb_status sb_writer_set_fixed(sb_writer *w, int col, const void *image,
									 sb_error *err);
extern sb_status sb_writer_set_varlena(sb_writer *w, int col,
									   const void *payload, size_t len,
									   sb_error *err);
extern sb_status sb_writer_set_key_hash(sb_writer *w, int col, uint64_t hash,
									  sb_error *err);
extern sb_status sb_writer_end_row(sb_writer *w, sb_error *err);
extern sb_status sb_writer_finish(sb_writer *w, sb_build_stats *stats,
								  sb_error *err);
extern void sb_writer_free(sb_writer *w);
extern uint64_t sb_writer_rows(const sb_writer *w);
extern uint64_t sb_writer_bytes(const sb_writer *w);

/* ---------------------------------------------------------------------
 * Reader
 * ---------------------------------------------------------------------
 */

/*
 * An open bundle.  The fields are copied out of the file and validated at
 * open, so later changes to the file's bytes cannot move any access out of
 * the mapping.  Treat every field as read-only.
 */
typedef struct sb_bundle
{
	const unsigned char *base;	/* the mapping */
	uint64_t	size;			/* bytes mapped (the file size) */
	bool		mapped;			/* base is our mapping, to unmap at close */
	uint16_t	major;
	uint16_t	minor;
	uint32_t	flags;			/* SB_BUNDLE_* */
	uint32_t	hash_id;
	uint32_t	index_kind;
	uint64_t	hash_seed;
	uint32_t	pg_major;
	uint64_t	build_time;		/* microseconds since the Unix epoch */
	uint64_t	row_count;
	uint64_t	indexed_count;
	uint64_t	distinct_keys;
	uint64_t	max_bucket;		/* entries in the fullest bucket; line
								 * index: lines of the longest run */
	uint32_t	row_size;
	uint32_t	bitmap_bytes;
	int			ncolumns;
	int			nkeys;
	sb_column  *columns;
	int			key_columns[SB_MAX_KEY_COLUMNS];	/* column of each key */
	uint8_t		bucket_bits;
	uint8_t		fp_bytes;
	uint32_t	entry_size;
	uint64_t	home_lines;		/* line index: lines a hash can start at */
	uint64_t	nlines;			/* line index: lines in all */
	const sb_column *int_key;	/* the key column, if the key is one
								 * integer column stored in the slot;
								 * else NULL */
	const unsigned char *rows;	/* row slots */
	const unsigned char *heap;
	uint64_t	heap_size;
	const unsigned char *dir;	/* bucket directory lines */
	uint64_t	dir_size;
	const unsigned char *entries;
	uint64_t	entries_size;
	const unsigned char *meta;
	uint64_t	meta_size;
	int			nsections;
	struct sb_section_info
	{
		uint32_t	kind;
		uint32_t	flags;
		uint64_t	offset;
		uint64_t	length;
		uint64_t	checksum;
	}			sections[16];
	uint32_t	header_size;
	char	   *strings;		/* names, NUL-terminated copies */

	/* block checksums, checked on first use (see sb_check) */
	const unsigned char *blocksums; /* a u32 per block, or NULL */
	uint8_t		block_shift;
	uint64_t	block_first[4]; /* first block of each sb_region */
	uint64_t	nblocks;
	uint64_t   *verified;		/* bit per block: checked already; then
								 * a bit per region checked in full */
} sb_bundle;

/* The regions block checksums cover, in the order of their checksums. */
typedef enum sb_region
{
	SB_REGION_ROWS = 0,
	SB_REGION_HEAP = 1,
	SB_REGION_DIRECTORY = 2,
	SB_REGION_ENTRIES = 3
} sb_region;

#define SB_BUNDLE_APPROXIMATE	0x01

/* A value read from a row slot. */
typedef struct sb_value
{
	const unsigned char *ptr;	/* the datum image (header included) */
	size_t		len;			/* its length in bytes */
} sb_value;

extern sb_status sb_open(const char *path, sb_bundle **out, sb_error *err);
extern sb_status sb_open_fd(int fd, const char *path, sb_bundle **out,
							sb_error *err);
extern sb_status sb_open_memory(const void *data, size_t size,
								sb_bundle **out, sb_error *err);
extern void sb_close(sb_bundle *b);
extern sb_status sb_verify(const sb_bundle *b, sb_error *err);
extern const char *sb_meta_get(const sb_bundle *b, const char *key,
							   size_t *len);
extern bool sb_meta_next(const sb_bundle *b, uint64_t *pos,
						 const char **key, size_t *klen,
						 const char **value, size_t *vlen);

extern sb_status sb_check_slow(const sb_bundle *b, sb_region region,
							   uint64_t off, uint64_t len, sb_error *err);

/*
 * Check the block checksums of bytes [off, off + len) of a region, once
 * per block: the first access verifies a block, later ones test a bit.
 */
static inline sb_status
sb_check(const sb_bundle *b, sb_region region, uint64_t off, uint64_t len,
		 sb_error *err)
{
	uint64_t	first;

	if (b->blocksums == NULL || len == 0)
		return SB_OK;
	first = b->block_first[region] + (off >> b->block_shift);
	if (first == b->block_first[region] + ((off + len - 1) >> b->block_shift) &&
		((b->verified[first >> 6] >> (first & 63)) & 1))
		return SB_OK;
	return sb_check_slow(b, region, off, len, err);
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

/* The slot of row 'row', its block checksum checked. */
static inline sb_status
sb_row_get(const sb_bundle *b, uint64_t row, const unsigned char **slot,
		   sb_error *err)
{
	sb_status	st;

	*slot = NULL;
	if (row >= b->row_count)
	{
		if (err)
		{
			err->code = SB_ERR_INVALID;
			err->sys_errno = 0;
			strcpy(err->detail, "no such row");
		}
		return SB_ERR_INVALID;
	}
	st = sb_check(b, SB_REGION_ROWS, row * b->row_size, b->row_size, err);
	if (st == SB_OK)
		*slot = b->rows + row * b->row_size;
	return st;
}

/* Is column 'col' NULL in this slot?  (A column not stored reads NULL.) */
static inline bool
sb_slot_isnull(const sb_bundle *b, const unsigned char *slot, int col)
{
	if (b->columns[col].slot_offset == SB_NOT_STORED)
		return true;
	return (slot[col >> 3] >> (col & 7)) & 1;
}

extern sb_status sb_slot_varlena(const sb_bundle *b, const unsigned char *slot,
								 int col, sb_value *out, sb_error *err);

/*
 * Read a non-NULL column of a slot.  Fixed-length values point into the
 * slot; variable-length ones into the value heap, bounds-checked.
 */
static inline sb_status
sb_slot_value(const sb_bundle *b, const unsigned char *slot, int col,
			  sb_value *out, sb_error *err)
{
	const sb_column *c = &b->columns[col];

	if (c->typlen > 0)
	{
		out->ptr = slot + c->slot_offset;
		out->len = (size_t) c->typlen;
		return SB_OK;
	}
	return sb_slot_varlena(b, slot, col, out, err);
}

/*
 * Header size of a varlena image (1 or 4), or 0 for a form that can never
 * appear in a bundle (TOAST pointers, compressed values).  These are
 * PostgreSQL's varlena encodings for this machine's byte order;
 * docs/format.md gives both.
 */
static inline size_t
sb_varlena_header_size(const unsigned char *image)
{
	unsigned char b0 = image[0];

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	if (b0 & 0x80)
		return b0 == 0x80 ? 0 : 1;	/* 0x80 tags an external pointer */
	return (b0 & 0xC0) == 0x00 ? 4 : 0;
#else
	if (b0 & 0x01)
		return b0 == 0x01 ? 0 : 1;	/* 0x01 tags an external pointer */
	return (b0 & 0x03) == 0x00 ? 4 : 0; /* 0x02 is compressed inline */
#endif
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

/* ---------------------------------------------------------------------
 * Lookup
 * ---------------------------------------------------------------------
 */

/* State of one key lookup; set up by sb_lookup_start. */
typedef struct sb_lookup
{
	const sb_key_part *parts;
	uint64_t	hash;
	uint64_t	lo;				/* first entry of the bucket; line index:
								 * the line being read */
	uint64_t	pos;			/* next entry to examine (in the line) */
	uint64_t	end;			/* one past the last candidate entry */
	uint32_t	fp;				/* fingerprint sought */
	uint8_t		phase;			/* SB_LOOKUP_*: what is known so far */
} sb_lookup;

#define SB_LOOKUP_STARTED	0	/* only the hash */
#define SB_LOOKUP_BUCKET	1	/* the bucket and a predicted position */
#define SB_LOOKUP_LOCATED	2	/* pos and end are set */
#define SB_LOOKUP_DONE		3	/* no more rows */

/*
 * A lookup returns the rows whose key equals the probe's.  Where a key
 * part is SB_KEY_HASHED the rows' values cannot be compared here: such a
 * lookup returns every row whose index entry matches the probe's hash and
 * whose other parts equal the probe's, and the caller confirms each row.
 */
extern sb_status sb_key_hash(const sb_bundle *b, const sb_key_part *parts,
							 uint64_t *hash, sb_error *err);
extern void sb_lookup_prefetch(const sb_bundle *b, uint64_t hash);
extern void sb_lookup_prefetch_entries(const sb_bundle *b, sb_lookup *it);
extern void sb_lookup_prefetch_row(const sb_bundle *b, sb_lookup *it);
extern void sb_lookup_start(const sb_bundle *b, const sb_key_part *parts,
							uint64_t hash, sb_lookup *it);
extern int	sb_lookup_next(const sb_bundle *b, sb_lookup *it, uint64_t *row,
						   sb_error *err);

/* ---------------------------------------------------------------------
 * Memory hints
 * ---------------------------------------------------------------------
 */
#define SB_PREWARM_INDEX	0x01	/* directory and entries */
#define SB_PREWARM_ROWS		0x02	/* row slots */
#define SB_PREWARM_HEAP		0x04	/* value heap */
#define SB_PREWARM_ALL		0x07

extern uint64_t sb_prewarm(const sb_bundle *b, unsigned what);
extern void sb_advise_scan(const sb_bundle *b, bool sequential);

/* Test seam: a mask applied to every key hash, to force collisions. */
extern uint64_t sb_test_hash_mask;

#endif							/* SBFORMAT_H */
