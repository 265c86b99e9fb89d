/*-------------------------------------------------------------------------
 *
 * sbsort.h
 *	  Sorting (hash, row) pairs within a memory budget.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBSORT_H
#define SBSORT_H

#include "sbinternal.h"

typedef struct sb_pair
{
	uint64_t	hash;
	uint64_t	row;
} sb_pair;

typedef struct sb_run_reader sb_run_reader;

/*
 * Collects pairs in a buffer; when it fills, sorts it and appends it to a
 * temporary file as a sorted run.  Reading merges the runs.
 */
typedef struct sb_sorter
{
	sb_pair    *buf;
	sb_pair    *scratch;
	size_t		cap;
	size_t		n;
	size_t		budget;
	const char *temp_dir;
	int			spill_fd;
	uint64_t	spill_size;
	int			nruns;
	int			maxruns;
	uint64_t   *run_start;		/* in pairs */
	uint64_t   *run_len;		/* in pairs */
	uint64_t	total;
	/* reading */
	size_t		mem_pos;
	sb_run_reader *readers;
	int		   *heap;
	int			heap_n;
} sb_sorter;

extern sb_status sb_sorter_init(sb_sorter *s, size_t budget,
								const char *temp_dir, sb_error *err);
extern sb_status sb_sorter_add(sb_sorter *s, uint64_t hash, uint64_t row,
							   sb_error *err);
extern sb_status sb_sorter_finish(sb_sorter *s, sb_error *err);
extern int	sb_sorter_next(sb_sorter *s, sb_pair *out, sb_error *err);
extern void sb_sorter_free(sb_sorter *s);
extern void sb_sort_pairs(sb_pair *a, sb_pair *scratch, size_t n);

#endif							/* SBSORT_H */
