/*-------------------------------------------------------------------------
 *
 * fuzz_common.h
 *	  The body shared by the bundle fuzzing harnesses.
 *
 * Both harnesses (fuzz_bundle.c over raw bytes, fuzz_bundle_struct.c with
 * a structure-aware mutator) feed each input to sbfuzz_run_one(), which
 * opens it as an in-memory bundle and exercises every reader entry point.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Exercise the reader on one input; always returns 0. */
extern int	sbfuzz_run_one(const uint8_t *data, size_t size);

#endif							/* FUZZ_COMMON_H */
