/*-------------------------------------------------------------------------
 *
 * sbwriter_int.h
 *	  State of a bundle writer, shared by the writer's source files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBWRITER_INT_H
#define SBWRITER_INT_H

#include "sbinternal.h"
#include "sbdedup.h"
#include "sbio.h"
#include "sbsort.h"

/* Writer calls held back while the inline area is sized (sbinline.c). */
typedef struct sb_sample
{
	unsigned char *buf;			/* the calls, one sb_sample_op each */
	size_t		len;
	size_t		cap;
	uint64_t	rows;			/* rows held back */
} sb_sample;

/* How often a column's values repeat, to decide whether to deduplicate. */
typedef struct sb_dedup_stats
{
	uint64_t	seen;
	uint64_t	hits;
	uint64_t	sample_hits;
	bool		off;
} sb_dedup_stats;

/* A symbol table being built or used to encode (sbcompact.c). */
typedef struct sb_symtab sb_symtab;

/* A merge into a base bundle's layout (sbmerge.c). */
/* The state a merge adds to its writer. */
typedef struct sb_merge
{
	sb_bundle  *base;
	uint64_t   *dropped;		/* a bit per base row */
	uint64_t	ndropped;
	sb_symtab **tabs;			/* per column: the base's symbol coder */
	unsigned char *encbuf;		/* a value being coded */
	size_t		enccap;
	uint64_t   *hashes;			/* the key hash of each new row... */
	unsigned char *keyed;		/* ...if it has a key: a bit per row */
	uint64_t	cap;			/* new rows the two arrays have room for */
	int			heap_fd;		/* temporary file of the new values */
	bool		rows_first;		/* the base has its rows before its heap */
	uint64_t	heap_len;		/* of the merged heap, once written */
} sb_merge;

/* Where a section goes, and what it holds (sbfinish.c). */
typedef struct sb_section_plan
{
	uint32_t	kind;
	uint64_t	offset;
	uint64_t	length;
	uint64_t	checksum;
} sb_section_plan;

/* What the writer knows of a column's encoding (sbcompact.c). */
typedef struct sb_colenc
{
	uint8_t		kind;			/* SB_ENC_* chosen */
	uint8_t		width;			/* of the field in the final slot */
	bool		offset_ok;		/* may be stored as offsets */
	bool		seen;			/* a value was set */
	int64_t		min;			/* smallest and largest value set */
	int64_t		max;
	sb_symtab  *tab;			/* SB_ENC_SYMBOLS */
} sb_colenc;

struct sb_writer
{
	char	   *path;
	char	   *temp_dir;
	int			fd;				/* the output file */
	int			temp_fd;		/* temporary file of the rows or the heap */
	bool		created;
	bool		finished;
	bool		failed;
	bool		in_row;
	bool		approximate;
	bool		dedup_on;
	uint64_t	section_align;	/* of the heap, rows and index */
	uint64_t	seed;
	uint32_t	pg_major;

	/* schema */
	int			ncols;
	sb_column  *cols;
	uint32_t   *slot_offsets;	/* of each column's field; SB_NOT_STORED */
	int			nkeys;
	int			key_cols[SB_MAX_KEY_COLUMNS];
	sb_keycol	keycols[SB_MAX_KEY_COLUMNS];
	bool		hashed_key;		/* some key column is SB_KEY_HASHED */
	uint32_t	row_size;
	unsigned char *schema;
	size_t		schema_len;
	uint32_t	nsections;
	uint32_t	header_size;
	uint64_t	schema_off;

	/* the row being written */
	unsigned char *row;
	bool	   *set;			/* columns set in this row */
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	bool		key_set[SB_MAX_KEY_COLUMNS];
	unsigned char *key_image[SB_MAX_KEY_COLUMNS];
	uint64_t	key_hash[SB_MAX_KEY_COLUMNS];	/* of hashed key columns */
	unsigned char *key_store;
	uint64_t	nrows;

	/* streams */
	sb_sink		heap;
	sb_sink		rows;
	sb_dedup	dedup;
	sb_dedup_stats *dedup_stats;	/* per column */
	sb_sorter	sorter;
	uint64_t	dedup_hits;
	uint64_t	dedup_saved;

	/* inline values (sbinline.c) */
	uint32_t	inline_limit;	/* the caller's cap on the inline area */
	bool		sampling;		/* holding the first rows back */
	sb_sample	sample;
	uint32_t	fields_size;	/* row slot without its inline area */
	uint32_t	inline_used;	/* bytes of the area this row uses */
	bool	   *inline_col;		/* per column: stored inline when it fits */
	uint64_t	inline_values;

	/* compact encodings (sbcompact.c) */
	bool		compact;		/* the caller asked for them */
	bool		swapped;		/* rows stream to the output file */
	sb_colenc  *enc;			/* per column, when compact */
	unsigned char *encbuf;		/* a value being encoded */
	size_t		enccap;
	uint32_t	inline_area;	/* bytes of the inline area values may use */
	int			encoded_columns;
	uint32_t   *narrow_offsets; /* the final slot's layout, when narrowed */
	uint32_t	narrow_row_size;
	uint32_t	narrow_area;	/* where its inline area starts */

	/* a merge into a base bundle, or NULL (sbmerge.c) */
	sb_merge   *merge;

	/* build metadata, serialized */
	unsigned char *meta;
	size_t		meta_len;
	size_t		meta_cap;
};

/* Record a failure and poison the writer so that it cannot finish. */
static inline sb_status
sb_writer_failed(sb_writer *w, sb_status st)
{
	w->failed = true;
	return st;
}

/*
 * Do the rows stream to the output file and the heap to the temporary
 * file?  So when the slots have an inline area (sbinline.c).
 */
static inline bool
sb_rows_first(const sb_writer *w)
{
	return w->swapped;
}

/* sbwriter.c */
extern size_t sb_value_header(const sb_column *c, size_t len,
							  unsigned char *hdr, unsigned *align);

/* sbinline.c */
extern sb_status sb_inline_init(sb_writer *w, uint32_t limit, sb_error *err);
extern bool sb_sample_room(const sb_writer *w, size_t len);
extern bool sb_sample_full(const sb_writer *w);
extern sb_status sb_sample_add(sb_writer *w, int op, int col,
							   const void *data, size_t len, sb_error *err);
extern sb_status sb_inline_start(sb_writer *w, sb_error *err);
extern bool sb_inline_place(sb_writer *w, int col, const void *payload,
							size_t len, uint64_t *ref);
extern void sb_inline_free(sb_writer *w);

/* sbfinish.c */
extern sb_status sb_write_index(sb_sorter *sorter, int fd, bool approximate,
								uint64_t start, sb_section_plan *plan,
								unsigned char *hdr, sb_blocksums **blocks,
								sb_error *err);
extern sb_status sb_write_blocksums(int fd, sb_blocksums *const *acc,
									uint64_t offset, sb_section_plan *plan,
									sb_error *err);
extern sb_status sb_write_header(int fd, unsigned char *hdr,
								 uint32_t header_size, uint32_t nsections,
								 const sb_section_plan *plans, sb_error *err);

/* sbmerge.c */
extern sb_status sb_merge_create(sb_writer *w, const sb_writer_options *o,
								 sb_error *err);
extern sb_status sb_merge_open_heap(sb_writer *w, sb_error *err);
extern sb_status sb_merge_write_heap(sb_writer *w, uint64_t offset, sb_sink *out,
									 sb_error *err);
extern sb_status sb_merge_drop(sb_writer *w, uint64_t row, sb_error *err);
extern sb_status sb_merge_set_fixed(sb_writer *w, int col, const void *image,
									sb_error *err);
extern sb_status sb_merge_set_varlena(sb_writer *w, int col,
									  const void *payload, size_t len,
									  sb_error *err);
extern sb_status sb_merge_end_row(sb_writer *w, sb_error *err);
extern sb_status sb_merge_file(sb_writer *w, unsigned char *hdr, sb_error *err);
extern void sb_merge_free(sb_writer *w);

/* sbcompact.c */
extern sb_symtab *sb_symtab_load(const sb_encoding *e);
extern size_t sb_symtab_encode(const sb_symtab *t, const unsigned char *in,
							   size_t len, unsigned char *out);
extern sb_status sb_compact_init(sb_writer *w, sb_error *err);
extern sb_status sb_compact_choose_symbols(sb_writer *w, sb_error *err);
extern sb_status sb_compact_encode(sb_writer *w, int col, const void **payload,
								   size_t *len, sb_error *err);
extern size_t sb_compact_encoded_len(sb_writer *w, int col, const void *payload,
									 size_t len);
extern void sb_compact_note_fixed(sb_writer *w, int col, const void *image);
extern sb_status sb_compact_plan(sb_writer *w, bool *narrowed, sb_error *err);
extern sb_status sb_compact_rows(sb_writer *w, uint64_t offset, sb_sink *rows,
								 sb_error *err);
extern sb_status sb_compact_section(sb_writer *w, unsigned char **sec,
									size_t *len, sb_error *err);
extern void sb_compact_free(sb_writer *w);

/* sb_sample_add operations */
#define SB_OP_FIXED		1
#define SB_OP_VARLENA	2
#define SB_OP_END		3
#define SB_OP_KEYHASH	4

#endif							/* SBWRITER_INT_H */
