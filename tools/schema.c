/*-------------------------------------------------------------------------
 *
 * schema.c
 *	  The column list of "sbundle build": --schema and --key.
 *
 * A schema is "name:type,name:type,...": names are taken as written (blanks
 * around them dropped) and must be 1 to 63 bytes (PostgreSQL's NAMEDATALEN
 * less one) and distinct; types are the names and SQL spellings types.c
 * knows.  The keys are named columns, in key order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "schema.h"
#include "util.h"

#define MAX_NAME_BYTES	63

/* A copy of s[0..len) without surrounding blanks. */
static char *
trimmed_copy(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char) *s))
		s++, len--;
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	return pnstrdup(s, len);
}

/* Index of the column named 'name', or -1. */
static int
find_column(const tool_schema *s, const char *name)
{
	for (int i = 0; i < s->ncolumns; i++)
		if (strcmp(s->columns[i].name, name) == 0)
			return i;
	return -1;
}

/* Parse one "name:type" entry of len bytes and append the column. */
static bool
add_column(tool_schema *s, const char *entry, size_t len, char *err,
		   size_t errlen)
{
	const char *colon = memchr(entry, ':', len);
	char	   *name,
			   *type;
	const sbt_type *t;
	bool		ok = false;

	if (colon == NULL)
	{
		char	   *e = trimmed_copy(entry, len);

		snprintf(err, errlen, "invalid schema entry \"%s\": expected name:type", e);
		free(e);
		return false;
	}
	name = trimmed_copy(entry, colon - entry);
	type = trimmed_copy(colon + 1, len - (colon + 1 - entry));
	if (name[0] == '\0')
		snprintf(err, errlen, "invalid schema entry \"%s\": the column name is empty",
				 type);
	else if (strlen(name) > MAX_NAME_BYTES)
		snprintf(err, errlen, "column name \"%s\" is too long (at most %d bytes)",
				 name, MAX_NAME_BYTES);
	else if (find_column(s, name) >= 0)
		snprintf(err, errlen, "column \"%s\" specified more than once", name);
	else if ((t = sbt_lookup(type)) == NULL)
		snprintf(err, errlen, "type \"%s\" of column \"%s\" is not supported (supported: %s)",
				 type, name, sbt_names());
	else
	{
		int			i = s->ncolumns++;

		s->types = pg_realloc(s->types, s->ncolumns * sizeof(sbt_type *));
		s->columns = pg_realloc(s->columns, s->ncolumns * sizeof(sb_column));
		memset(&s->columns[i], 0, sizeof(sb_column));
		s->types[i] = t;
		s->columns[i].name = name;
		sbt_fill_column(t, &s->columns[i]);
		name = NULL;
		ok = true;
	}
	free(name);
	free(type);
	return ok;
}

/* Parse a --schema string into columns; false with a message in err. */
bool
schema_parse(const char *spec, tool_schema *s, char *err, size_t errlen)
{
	const char *p = spec;

	memset(s, 0, sizeof(*s));
	for (;;)
	{
		const char *comma = strchr(p, ',');
		size_t		len = comma ? (size_t) (comma - p) : strlen(p);

		if (s->ncolumns >= SB_MAX_COLUMNS)
		{
			snprintf(err, errlen, "a schema has at most %d columns", SB_MAX_COLUMNS);
			return false;
		}
		if (!add_column(s, p, len, err, errlen))
			return false;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return true;
}

/* Make the named columns the key, in order; false with a message. */
bool
schema_set_keys(tool_schema *s, char *const *keys, int nkeys, char *err,
				size_t errlen)
{
	if (nkeys == 0)
	{
		snprintf(err, errlen, "no key column given (use --key)");
		return false;
	}
	if (nkeys > SB_MAX_KEY_COLUMNS)
	{
		snprintf(err, errlen, "a key has at most %d columns", SB_MAX_KEY_COLUMNS);
		return false;
	}
	for (int k = 0; k < nkeys; k++)
	{
		int			i = find_column(s, keys[k]);

		if (i < 0)
		{
			snprintf(err, errlen, "key column \"%s\" does not exist in the schema",
					 keys[k]);
			return false;
		}
		if (s->columns[i].key_position != 0)
		{
			snprintf(err, errlen, "key column \"%s\" specified more than once",
					 keys[k]);
			return false;
		}
		s->columns[i].key_position = (uint8_t) (k + 1);
		s->columns[i].key_kind = s->types[i]->key_kind;
	}
	s->nkeys = nkeys;
	return true;
}

/* Release a schema. */
void
schema_free(tool_schema *s)
{
	for (int i = 0; i < s->ncolumns; i++)
		free(unconstify(char *, s->columns[i].name));
	free(s->types);
	free(s->columns);
	memset(s, 0, sizeof(*s));
}
