/*-------------------------------------------------------------------------
 *
 * tfutil.h
 *	  Helpers shared by the format tests: columns, building, reading,
 *	  lookups, files, and damaging bundle images.
 *
 * The helpers record failed checks through the harness and return a
 * value a test can REQUIRE (false, NULL or -1 on failure), so that tests
 * stay short.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFUTIL_H
#define TFUTIL_H

#include "harness.h"
#include "sbinternal.h"

/* Check an sb_status against the expected one, showing names and detail. */
#define CHECK_ST(got, want, err) \
	tf_check_status(__FILE__, __LINE__, #got, (got), (want), (err))

extern bool tf_check_status(const char *file, int line, const char *expr,
							int got, sb_status want, const sb_error *err);

/* Column definitions. */
extern sb_column tf_col(const char *name, const char *type, int16_t typlen,
						bool byval, char align);
extern sb_column tf_col_int(const char *name, int width);
extern sb_column tf_col_float(const char *name, int width);
extern sb_column tf_col_text(const char *name, bool shortok, char align);
extern sb_column tf_keyed(sb_column c, int position, sb_key_kind kind);

/* Building a bundle. */
extern void tf_options(sb_writer_options *o, const char *path,
					   const sb_column *cols, int ncols);
extern sb_writer *tf_create(const sb_writer_options *o);
extern bool tf_set_int(sb_writer *w, int col, int width, int64_t v);
extern bool tf_set_fixed(sb_writer *w, int col, const void *image);
extern bool tf_set_var(sb_writer *w, int col, const void *p, size_t len);
extern bool tf_set_text(sb_writer *w, int col, const char *s);
extern bool tf_end_row(sb_writer *w);
extern sb_bundle *tf_finish(sb_writer *w, const char *path,
							sb_build_stats *stats);
extern sb_bundle *tf_open(const char *path);	/* and verify, conform */

/* The writer's rules that sb_verify does not check (tfconform.c). */
extern bool tf_check_conformance(sb_bundle *b);
extern sb_bundle *tf_finish_image(sb_writer *w, const char *path,
								  unsigned char **img, size_t *len);

/* Reading values. */
extern int64_t tf_get_int(sb_bundle *b, uint64_t row, int col);
extern bool tf_get_var(sb_bundle *b, uint64_t row, int col,
					   sb_value *v);
extern bool tf_text_is(sb_bundle *b, uint64_t row, int col,
					   const void *payload, size_t len);

/*
 * Lookups: store up to max rows found, in order (UINT64_MAX in the rest)
 * and return how many were found, or -1 on an error.
 */
extern int	tf_lookup(sb_bundle *b, const sb_key_part *parts,
					  uint64_t *rows, int max);
extern int	tf_lookup_int(sb_bundle *b, int64_t v, uint64_t *rows,
						  int max);
extern int	tf_lookup_text(sb_bundle *b, const char *s, uint64_t *rows,
						   int max);

/* Run a test body with sb_test_hash_mask set, restoring it afterwards. */
extern void tf_with_hash_mask(uint64_t mask, void (*fn) (void *), void *arg);

/* Files. */
extern unsigned char *tf_read_file(const char *path, size_t *len);
extern bool tf_write_file(const char *path, const void *data, size_t len);
extern bool tf_exists(const char *path);
extern int	tf_count_files(const char *dir);

/* Damaging images (tfdamage.c). */
extern bool tf_section(const unsigned char *img, uint32_t kind,
					   uint64_t *off, uint64_t *len);
extern void tf_fix_checksums(unsigned char *img, size_t len);
extern void tf_fix_section_checksums(unsigned char *img, size_t len);
extern sb_status tf_damaged_status(const unsigned char *img, size_t len,
								   sb_error *err);
extern sb_status tf_damaged_memory(const unsigned char *img, size_t len,
								   sb_error *err);

/* A reproducible pseudo-random sequence. */
static inline uint64_t
tf_rand(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

#endif							/* TFUTIL_H */
