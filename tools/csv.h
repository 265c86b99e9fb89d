/*-------------------------------------------------------------------------
 *
 * csv.h
 *	  Reading and writing CSV exactly as PostgreSQL's COPY (FORMAT csv).
 *
 * The dialect is COPY's defaults: delimiter ',', quote and escape '"',
 * NULL written as an unquoted empty field, UTF-8 text.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_CSV_H
#define SBUNDLE_CSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One field of a record: NUL-terminated bytes, or data == NULL for NULL. */
typedef struct csv_field
{
	const char *data;
	size_t		len;
} csv_field;

typedef struct csv_reader csv_reader;

/* Results of csv_read(). */
#define CSV_RECORD		1		/* a record was read */
#define CSV_END			0		/* end of data */
#define CSV_BAD_DATA	(-1)	/* malformed input; see csv_error() */
#define CSV_IO_ERROR	(-2)	/* a read failed; see csv_error() */

extern csv_reader *csv_open(FILE *fp, const char *name);
extern int	csv_read(csv_reader *r);
extern const csv_field *csv_fields(const csv_reader *r, int *n);
extern uint64_t csv_record_line(const csv_reader *r);
extern const char *csv_error(const csv_reader *r);
extern void csv_close(csv_reader *r);

extern csv_reader *csv_read_string(const char *s, char *msg, size_t msglen);

extern void csv_write_value(FILE *out, const char *s, size_t len,
							bool single_column);

#endif							/* SBUNDLE_CSV_H */
