/*-------------------------------------------------------------------------
 *
 * schema.h
 *	  The column list of "sbundle build": --schema and --key.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_SCHEMA_H
#define SBUNDLE_SCHEMA_H

#include "sbformat.h"
#include "types.h"

typedef struct tool_schema
{
	int			ncolumns;
	sb_column  *columns;		/* as the writer takes them; names owned */
	const sbt_type **types;
	int			nkeys;
} tool_schema;

extern bool schema_parse(const char *spec, tool_schema *s, char *err,
						 size_t errlen);
extern bool schema_set_keys(tool_schema *s, char *const *keys, int nkeys,
							char *err, size_t errlen);
extern void schema_free(tool_schema *s);

#endif							/* SBUNDLE_SCHEMA_H */
