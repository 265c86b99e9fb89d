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

/* How often a column's values repeat, to decide whether to deduplicate. */
typedef struct sb_dedup_stats
{
	uint64_t	seen;
	uint64_t	hits;
	uint64_t	sample_hits;
	bool		off;
} sb_dedup_stats;

struct sb_writer
{
	char	   *path;
	char	   *temp_dir;
	int			fd;				/* the output file */
	int			rows_fd;		/* temporary file of row slots */
	bool		created;
	bool		finished;
	bool		failed;
	bool		in_row;
	bool		approximate;
	bool		dedup_on;
	int			index_kind;
	uint64_t	section_align;	/* of the heap, rows, directory, entries */
	uint64_t	seed;
	uint32_t	pg_major;

	/* schema */
	int			ncols;
	sb_column  *cols;
	int			nkeys;
	int			key_cols[SB_MAX_KEY_COLUMNS];
	sb_keycol	keycols[SB_MAX_KEY_COLUMNS];
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

	/* build metadata, serialized */
	unsigned char *meta;
	size_t		meta_len;
	size_t		meta_cap;
};

#endif							/* SBWRITER_INT_H */
