/*-------------------------------------------------------------------------
 *
 * fuzz_bundle.c
 *	  libFuzzer harness: the bundle reader over arbitrary bytes.
 *
 * Each input is opened as an in-memory bundle and, if it opens, verified,
 * read in full and searched; see fuzz_common.c.  libFuzzer's own mutations
 * rarely get past the header checksum, so this harness mostly exercises
 * the header checks; fuzz_bundle_struct.c reaches deeper.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sbfuzz_run_one(data, size);
}
