/*-------------------------------------------------------------------------
 *
 * types_int.h
 *	  What the sources of the types share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_TYPES_INT_H
#define SBUNDLE_TYPES_INT_H

#include "types.h"

/* types.c */
extern const char *shown(const char *s, size_t len);
extern char *syntax_error(const sbt_type *t, const char *s);

/* datetime.c */
extern char *date_in(const sbt_type *t, const char *s, size_t len, sbt_value *v);
extern char *timestamp_in(const sbt_type *t, const char *s, size_t len,
						  sbt_value *v);
extern bool date_out(const sbt_type *t, const unsigned char *image, size_t len,
					 StringInfo out);
extern bool timestamp_out(const sbt_type *t, const unsigned char *image,
						  size_t len, StringInfo out);

#endif							/* SBUNDLE_TYPES_INT_H */
