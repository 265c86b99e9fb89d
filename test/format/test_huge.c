/*-------------------------------------------------------------------------
 *
 * test_huge.c
 *	  A bundle of more than 4 GB: 64-bit heap offsets and section sizes.
 *
 *-------------------------------------------------------------------------
 */
#include "tfutil.h"

#include <stdlib.h>

#define HUGE_ROWS	72			/* 72 distinct 64 MB values: 4.5 GB of heap */

/* Fill a value with data that differs per row, so nothing is deduplicated. */
static void
fill_value(unsigned char *data, size_t len, uint64_t row)
{
	uint64_t	seed = 1000 + row;

	for (size_t i = 0; i < len; i += 8)
	{
		uint64_t	x = tf_rand(&seed);

		memcpy(data + i, &x, 8);
	}
}

/* Heap offsets past 4 GB read back the right values. */
void
test_bundle_over_4gb(void)
{
	sb_column	cols[2] = {
		tf_keyed(tf_col_int("id", 8), 1, SB_KEY_INTEGER),
		tf_col_text("blob", false, 'i')
	};
	const size_t big = (size_t) 64 << 20;
	unsigned char *data = malloc(big);
	const char *path = tf_path("huge.sb");
	sb_writer_options o;
	sb_writer  *w;
	sb_bundle  *b;

	REQUIRE(data != NULL);
	tf_options(&o, path, cols, 2);
	if ((w = tf_create(&o)) != NULL)
	{
		for (int r = 0; r < HUGE_ROWS; r++)
		{
			fill_value(data, big, (uint64_t) r);
			sb_writer_begin_row(w);
			tf_set_int(w, 0, 8, r);
			tf_set_var(w, 1, data, big);
			tf_end_row(w);
		}
	}
	if ((b = tf_finish(w, path, NULL)) != NULL)
	{
		CHECK(b->heap_size > (UINT64_C(4) << 30));
		CHECK(b->size > (UINT64_C(4) << 30));
		for (int r = HUGE_ROWS - 3; r < HUGE_ROWS; r++)
		{
			uint64_t	rows[2];
			sb_value	v;

			REQUIRE(CHECK_EQ(tf_lookup_int(b, r, rows, 2), 1));
			if (tf_get_var(b, rows[0], 1, &v))
			{
				CHECK(v.ptr - b->heap > (int64_t) (UINT64_C(4) << 30));
				fill_value(data, big, (uint64_t) r);
				CHECK(v.len == big + 4 && memcmp(v.ptr + 4, data, big) == 0);
			}
		}
		sb_close(b);
	}
	free(data);
}
