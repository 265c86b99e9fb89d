/*-------------------------------------------------------------------------
 *
 * types_int.h
 *	  Input and output functions of the types, shared by their sources.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_TYPES_INT_H
#define SBUNDLE_TYPES_INT_H

#include "types.h"

/* types.c */
extern void type_error(char *err, size_t errlen, const char *fmt,...)
			pg_attribute_printf(3, 4);
extern const char *shown(const char *s, size_t len);

/* floats.c */
extern bool float4_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
extern bool float8_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
extern bool float4_out(const unsigned char *image, size_t len, StringInfo out);
extern bool float8_out(const unsigned char *image, size_t len, StringInfo out);

/* datetime.c */
extern bool date_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
extern bool timestamp_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
extern bool timestamptz_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
extern bool date_out(const unsigned char *image, size_t len, StringInfo out);
extern bool timestamp_out(const unsigned char *image, size_t len, StringInfo out);
extern bool timestamptz_out(const unsigned char *image, size_t len, StringInfo out);

#endif							/* SBUNDLE_TYPES_INT_H */
