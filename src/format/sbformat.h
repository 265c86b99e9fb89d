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
 * The structs here are descriptions a caller fills in for the writer
 * (sb_column, sb_writer_options, sb_key_part) or results the library
 * fills in (sb_error, sb_build_stats, sb_value, and the read-only sb_info
 * and sb_section of an open bundle).  A writer and an open bundle are
 * opaque, and so is the state of a lookup.  Reading a row, a value or
 * the index checks block checksums the first time and remembers the
 * blocks it checked: the functions that do so take a non-const bundle,
 * and a bundle is for one thread at a time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBFORMAT_H
#define SBFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Format versions: the reader reads majors 3 to 5, any minor.  The writer
 * writes 5.0 when some column is stored in a compact encoding, else 4.0
 * when the key has a hashed column (SB_KEY_HASHED), else 3.0.  Files of
 * majors 1 and 2, whose index kinds are gone, are refused with
 * SB_ERR_OBSOLETE: they must be rebuilt.
 */
#define SB_FORMAT_MAJOR		5
#define SB_FORMAT_MINOR		0

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
	SB_ERR_STATE = -13,			/* call made in the wrong state */
	SB_ERR_OBSOLETE = -14		/* written in a format since dropped: rebuild */
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

/*
 * A column of a schema: given to the writer, and read back (as the
 * writer was given it) through sb_info.
 */
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
} sb_column;

/*
 * Column encodings (format 5), chosen by the writer per column when asked
 * to be compact (docs/format.md section 19).  A column's field in a row
 * slot is 'width' bytes wide: for a variable-length column 8, or 4 (a
 * 4-byte reference, bit 31 marking a value inside the slot); for a
 * fixed-length one its typlen, or an offset's width.
 */
#define SB_ENC_NONE		0		/* datum images */
#define SB_ENC_OFFSET	1		/* by-value integer image = base + offset */
#define SB_ENC_SYMBOLS	2		/* varlena payloads coded with a symbol table */

#define SB_MAX_SYMBOLS		255 /* codes 0-254; 255 escapes a literal byte */
#define SB_SYMBOL_ESCAPE	255
#define SB_MAX_SYMBOL_LEN	8

/* A column's encoding in an open bundle (valid until sb_close). */
typedef struct sb_encoding
{
	uint8_t		kind;			/* SB_ENC_* */
	uint8_t		width;			/* bytes of the field in a row slot */
	uint16_t	nsymbols;		/* SB_ENC_SYMBOLS: 1 to SB_MAX_SYMBOLS */
	int64_t		base;			/* SB_ENC_OFFSET: the smallest value */
	const uint8_t *symbol_lens; /* SB_ENC_SYMBOLS: each symbol's length */
	const unsigned char *symbols;	/* and its bytes, 8 per symbol, padded
									 * with zeros */
} sb_encoding;

/* Inline values: the writer's limits on the area in each row slot. */
#define SB_MAX_INLINE	4096	/* largest inline area a writer may ask for */
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
	bool		approximate;	/* keys not stored; match on the hash */
	bool		dedup;			/* store identical values once */
	uint32_t	section_align;	/* of the heap, rows and index sections: a
								 * power of two from 64 to 4096; 0 means
								 * 4096, a block checksum per page */
	uint32_t	pg_major;		/* PostgreSQL major version of the images */
	uint32_t	inline_limit;	/* widest inline area for short values in
								 * each row slot, up to SB_MAX_INLINE; 0
								 * stores every value in the heap */
	bool		compact;		/* encode columns where it saves a third:
								 * integers as offsets from their minimum,
								 * variable-length values with a symbol
								 * table, narrower value references */
	int			ncolumns;
	const sb_column *columns;
	struct sb_bundle *base;		/* merge: start from this open bundle's
								 * rows, in its layout (sbmerge.c); it
								 * must stay open until the writer is
								 * freed.  The other options but path,
								 * temp_dir and memory_budget are then
								 * the base's. */
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
	int			encoded_columns;	/* columns stored in a compact encoding */
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
extern sb_status sb_writer_drop_base_row(sb_writer *w, uint64_t row,
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
typedef struct sb_bundle sb_bundle;

/*
 * Can a writer merge into 'base' (sb_writer_options.base)?  SB_OK, or
 * SB_ERR_UNSUPPORTED with the reason: an approximate base, a hashed key,
 * columns other than the options'.
 */
extern sb_status sb_merge_check(const sb_bundle *base,
								const sb_writer_options *o, sb_error *err);

/* A section of a bundle file (docs/format.md, section 4). */
typedef struct sb_section
{
	const char *name;			/* "schema", "rows", ...; "unknown" */
	uint32_t	kind;
	uint64_t	offset;
	uint64_t	length;
} sb_section;

/*
 * What an open bundle holds: read and validated at open, read-only, and
 * valid until sb_close.
 */
typedef struct sb_info
{
	uint16_t	major;			/* format version */
	uint16_t	minor;
	uint32_t	pg_major;		/* PostgreSQL major version of the images */
	uint64_t	build_time;		/* microseconds since the Unix epoch */
	uint64_t	file_size;
	uint64_t	hash_seed;
	bool		approximate;	/* key columns not stored (they read NULL);
								 * lookups match on the key's hash */
	uint64_t	row_count;
	uint32_t	row_size;		/* bytes of a row slot */
	uint64_t	heap_size;		/* bytes of the value heap */
	int			ncolumns;
	const sb_column *columns;
	const uint32_t *slot_offsets;	/* each column's field in a row slot, or
									 * SB_NOT_STORED */
	const sb_encoding *encodings;	/* each column's encoding */
	int			nkeys;
	const int  *key_columns;	/* the column of each key position */
	uint64_t	indexed_count;	/* rows with a non-NULL key */
	uint64_t	distinct_keys;	/* distinct key hashes among them */
	uint64_t	index_size;		/* bytes of the index */
	uint64_t	index_lines;	/* its 64-byte lines */
	uint64_t	home_lines;		/* lines a key's hash can start at */
	uint32_t	fp_bytes;		/* bytes of a fingerprint */
	uint64_t	longest_run;	/* most lines one home line's entries span */
	int			nsections;
	const sb_section *sections; /* in file order */
} sb_info;

#define SB_NOT_STORED	UINT32_MAX	/* the slot offset of an approximate
									 * bundle's key columns */

/*
 * A value read from a row slot.  A value of an SB_ENC_SYMBOLS column is
 * 'encoded': its image holds the coded payload, which sb_value_decode
 * turns into the datum image.  A fixed-length value of an SB_ENC_OFFSET
 * column is decoded into 'fixed', where ptr then points: such a value
 * must be used where sb_slot_value put it, not copied.
 */
typedef struct sb_value
{
	const unsigned char *ptr;	/* the datum image (header included) */
	size_t		len;			/* its length in bytes */
	bool		encoded;		/* ptr is a coded image: decode it */
	unsigned char fixed[8];		/* a decoded fixed-length image */
} sb_value;

extern sb_status sb_open(const char *path, sb_bundle **out, sb_error *err);
extern sb_status sb_open_fd(int fd, const char *path, sb_bundle **out,
							sb_error *err);
extern sb_status sb_open_memory(const void *data, size_t size,
								sb_bundle **out, sb_error *err);
extern void sb_close(sb_bundle *b);
extern const sb_info *sb_bundle_info(const sb_bundle *b);
extern sb_status sb_verify(sb_bundle *b, sb_error *err);
extern const char *sb_meta_get(const sb_bundle *b, const char *key,
							   size_t *len);
extern bool sb_meta_next(const sb_bundle *b, uint64_t *pos,
						 const char **key, size_t *klen,
						 const char **value, size_t *vlen);

/*
 * Rows and values.  sb_row_get gives a row's slot, its block checksum
 * checked.  The NULL bits and fixed-length fields of a slot are read
 * through sb_info, without a call (docs/format.md section 6 gives the
 * layout); variable-length values through sb_slot_value, which checks
 * their blocks too.
 */
extern sb_status sb_row_get(sb_bundle *b, uint64_t row,
							const unsigned char **slot, sb_error *err);
extern sb_status sb_slot_value(sb_bundle *b, const unsigned char *slot,
							   int col, sb_value *out, sb_error *err);

/*
 * Encoded values.  sb_value_decoded_size checks an encoded value's codes
 * and gives the size of its datum image; sb_value_decode writes that
 * image (with the header the column's values have unencoded) into 'out',
 * never more than 'size' bytes.  sb_value_materialize does both into a
 * buffer it grows with realloc (free it with free()), and leaves 'v'
 * describing the image there; other values it leaves as they are.
 */
extern sb_status sb_value_decoded_size(const sb_bundle *b, int col,
									   const sb_value *v, size_t *size,
									   sb_error *err);
extern void sb_value_decode(const sb_bundle *b, int col, const sb_value *v,
							unsigned char *out, size_t size);
extern sb_status sb_value_materialize(const sb_bundle *b, int col,
									  sb_value *v, unsigned char **buf,
									  size_t *cap, sb_error *err);

/* Is column 'col' NULL in a row slot?  (A column not stored reads NULL.) */
static inline bool
sb_slot_isnull(const sb_info *in, const unsigned char *slot, int col)
{
	return in->slot_offsets[col] == SB_NOT_STORED ||
		((slot[col >> 3] >> (col & 7)) & 1);
}

/*
 * The datum image of a non-NULL fixed-length column in a row slot, for a
 * column not encoded (encodings[col].kind == SB_ENC_NONE); sb_slot_value
 * reads any column.
 */
static inline const unsigned char *
sb_slot_fixed(const sb_info *in, const unsigned char *slot, int col)
{
	return slot + in->slot_offsets[col];
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

/* ---------------------------------------------------------------------
 * Lookup
 * ---------------------------------------------------------------------
 */

/*
 * The state of one key lookup, set up by sb_lookup_start.  Its size is
 * fixed so that a caller can keep one anywhere (on the stack, in an array,
 * in a scan's state), but its contents are the library's alone.
 */
typedef struct sb_lookup
{
	uint64_t	opaque[4];
} sb_lookup;

/*
 * A lookup returns the rows whose key equals the probe's.  Where a key
 * part is SB_KEY_HASHED the rows' values cannot be compared here: such a
 * lookup returns every row whose index entry matches the probe's hash and
 * whose other parts equal the probe's, and the caller confirms each row.
 */
extern sb_status sb_key_hash(const sb_bundle *b, const sb_key_part *parts,
							 uint64_t *hash, sb_error *err);
extern void sb_lookup_start(const sb_bundle *b, const sb_key_part *parts,
							uint64_t hash, sb_lookup *it);
extern int	sb_lookup_next(sb_bundle *b, sb_lookup *it, uint64_t *row,
						   sb_error *err);

/* Batched lookups: fetch what lookups read next while others run. */
extern void sb_lookup_prefetch(const sb_bundle *b, uint64_t hash);
extern void sb_lookup_prefetch_row(sb_bundle *b, sb_lookup *it);

/* ---------------------------------------------------------------------
 * Memory hints
 * ---------------------------------------------------------------------
 */
#define SB_PREWARM_INDEX	0x01	/* index lines */
#define SB_PREWARM_ROWS		0x02	/* row slots */
#define SB_PREWARM_HEAP		0x04	/* value heap */
#define SB_PREWARM_ALL		0x07

extern uint64_t sb_prewarm(sb_bundle *b, unsigned what);
extern void sb_advise_scan(const sb_bundle *b, bool sequential);

#endif							/* SBFORMAT_H */
