/*-------------------------------------------------------------------------
 *
 * types.h
 *	  Text <-> datum image conversion for the basic PostgreSQL types.
 *
 * Each supported type has PostgreSQL's text input and output rules and its
 * pg_type storage attributes; images are exactly what the server stores
 * (PostgreSQL 15, this machine's byte order), so that the extension can
 * serve a bundle's values unchanged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_TYPES_H
#define SBUNDLE_TYPES_H

#include "lib/stringinfo.h"
#include "sbformat.h"

/* A value parsed from text, in the form the writer takes. */
typedef struct sbt_value
{
	unsigned char image[16];	/* a fixed-length image */
	const void *data;			/* a variable-length payload */
	size_t		len;
	StringInfoData scratch;		/* storage for decoded payloads */
} sbt_value;

typedef struct sbt_type sbt_type;

/* Parse NUL-terminated text 's' of length 'len'; NULL, or a message. */
typedef char *(*sbt_in_fn) (const sbt_type *t, const char *s, size_t len,
							sbt_value *v);

/* Append the text of an image (with its varlena header); false if invalid. */
typedef bool (*sbt_out_fn) (const sbt_type *t, const unsigned char *image,
							size_t len, StringInfo out);

struct sbt_type
{
	const char *typname;		/* pg_type.typname, e.g. "int4" */
	const char *qualified;		/* e.g. "pg_catalog.int4" */
	const char *sqlname;		/* the name messages use, e.g. "integer" */
	int16_t		typlen;
	bool		typbyval;
	char		typalign;
	uint8_t		key_kind;
	uint8_t		flags;			/* SB_COLF_* */
	sbt_in_fn	in;
	sbt_out_fn	out;
};

extern const sbt_type *sbt_lookup(const char *name);
extern const sbt_type *sbt_for_column(const sb_column *c);
extern const char *sbt_names(void);
extern void sbt_fill_column(const sbt_type *t, sb_column *c);
extern void sbt_value_init(sbt_value *v);
extern void sbt_value_free(sbt_value *v);
extern char *sbt_parse(const sbt_type *t, const char *s, size_t len,
					   sbt_value *v);
extern bool sbt_format(const sbt_type *t, const unsigned char *image,
					   size_t len, StringInfo out);
extern void sbt_append_hex(StringInfo out, const unsigned char *data,
						   size_t len);
extern void sbt_key_part(const sbt_type *t, uint8_t key_kind,
						 const sbt_value *v, sb_key_part *part);

#endif							/* SBUNDLE_TYPES_H */
