/*-------------------------------------------------------------------------
 *
 * types.c
 *	  The supported types, and the integer, bool, text, bytea and uuid ones.
 *
 * Each type follows its PostgreSQL 15 input and output function: int2in
 * and friends (blanks around an optional sign and digits), boolin (the
 * prefixes of true/false/yes/no/on/off and 1/0), byteain (hex \x form or
 * the escape form), uuid_in (optional braces, a hyphen allowed after any
 * four hex digits), and the matching output functions.  The float and
 * date/time types are in floats.c and datetime.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "types_int.h"

#define SHOWN_MAX	200			/* bytes of a value quoted in a message */

static bool int2_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
static bool int4_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
static bool int8_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
static bool bool_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
static bool text_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
static bool bytea_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
static bool uuid_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen);
static bool int2_out(const unsigned char *image, size_t len, StringInfo out);
static bool int4_out(const unsigned char *image, size_t len, StringInfo out);
static bool int8_out(const unsigned char *image, size_t len, StringInfo out);
static bool bool_out(const unsigned char *image, size_t len, StringInfo out);
static bool text_out(const unsigned char *image, size_t len, StringInfo out);
static bool bytea_out(const unsigned char *image, size_t len, StringInfo out);
static bool uuid_out(const unsigned char *image, size_t len, StringInfo out);

/* The types, with their pg_type attributes. */
static const sbt_type types[] = {
	{"int2", "pg_catalog.int2", 2, true, 's', SB_KEY_INTEGER, 0, int2_in, int2_out},
	{"int4", "pg_catalog.int4", 4, true, 'i', SB_KEY_INTEGER, 0, int4_in, int4_out},
	{"int8", "pg_catalog.int8", 8, true, 'd', SB_KEY_INTEGER, 0, int8_in, int8_out},
	{"float4", "pg_catalog.float4", 4, true, 'i', SB_KEY_FLOAT, 0, float4_in, float4_out},
	{"float8", "pg_catalog.float8", 8, true, 'd', SB_KEY_FLOAT, 0, float8_in, float8_out},
	{"bool", "pg_catalog.bool", 1, true, 'c', SB_KEY_BYTES, 0, bool_in, bool_out},
	{"text", "pg_catalog.text", -1, false, 'i', SB_KEY_VARLENA, SB_COLF_SHORT_VARLENA, text_in, text_out},
	{"bytea", "pg_catalog.bytea", -1, false, 'i', SB_KEY_VARLENA, SB_COLF_SHORT_VARLENA, bytea_in, bytea_out},
	{"date", "pg_catalog.date", 4, true, 'i', SB_KEY_BYTES, 0, date_in, date_out},
	{"timestamp", "pg_catalog.timestamp", 8, true, 'd', SB_KEY_BYTES, 0, timestamp_in, timestamp_out},
	{"timestamptz", "pg_catalog.timestamptz", 8, true, 'd', SB_KEY_BYTES, 0, timestamptz_in, timestamptz_out},
	{"uuid", "pg_catalog.uuid", 16, false, 'c', SB_KEY_BYTES, 0, uuid_in, uuid_out},
};

#define NTYPES	(sizeof(types) / sizeof(types[0]))

/* SQL spellings of the types, as PostgreSQL's grammar accepts them. */
static const struct
{
	const char *alias;
	const char *typname;
}			aliases[] = {
	{"smallint", "int2"}, {"integer", "int4"}, {"int", "int4"},
	{"bigint", "int8"}, {"real", "float4"}, {"double precision", "float8"},
	{"float", "float8"}, {"boolean", "bool"},
	{"timestamp without time zone", "timestamp"},
	{"timestamp with time zone", "timestamptz"}
};

/* Format a conversion error message into err. */
void
type_error(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * A value as quoted in a message: cut to SHOWN_MAX bytes at a character
 * boundary, with "..." if cut.  Returns a static buffer.
 */
const char *
shown(const char *s, size_t len)
{
	static char buf[SHOWN_MAX + 4];

	if (len > SHOWN_MAX)
	{
		len = SHOWN_MAX;
		while (len > 0 && ((unsigned char) s[len] & 0xC0) == 0x80)
			len--;
		memcpy(buf, s, len);
		strcpy(buf + len, "...");
		return buf;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/* Find a type by name or alias, in any case, with "pg_catalog." or not. */
const sbt_type *
sbt_lookup(const char *name)
{
	char		norm[64];
	size_t		n = 0;

	/* lower case, blanks collapsed to one space, trimmed */
	for (const char *p = name; *p != '\0' && n < sizeof(norm) - 1; p++)
	{
		if (isspace((unsigned char) *p))
		{
			if (n > 0 && norm[n - 1] != ' ')
				norm[n++] = ' ';
		}
		else
			norm[n++] = (char) tolower((unsigned char) *p);
	}
	while (n > 0 && norm[n - 1] == ' ')
		n--;
	norm[n] = '\0';
	name = strncmp(norm, "pg_catalog.", 11) == 0 ? norm + 11 : norm;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(name, aliases[i].alias) == 0)
			name = aliases[i].typname;
	for (size_t i = 0; i < NTYPES; i++)
		if (strcmp(name, types[i].typname) == 0)
			return &types[i];
	return NULL;
}

/* The type of a bundle's column, or NULL if this tool lacks it. */
const sbt_type *
sbt_for_column(const sb_column *c)
{
	for (size_t i = 0; i < NTYPES; i++)
	{
		const sbt_type *t = &types[i];

		if (strcmp(c->type_name, t->qualified) == 0 &&
			c->typlen == t->typlen && c->typbyval == t->typbyval &&
			c->storage == SB_STORAGE_DATUM)
			return t;
	}
	return NULL;
}

/* The supported type names, for messages. */
const char *
sbt_names(void)
{
	return "int2 (smallint), int4 (integer), int8 (bigint), float4 (real), "
		"float8 (double precision), bool (boolean), text, bytea, date, "
		"timestamp, timestamptz, uuid";
}

/* Fill in a column's type attributes (not its name or key settings). */
void
sbt_fill_column(const sbt_type *t, sb_column *c)
{
	c->type_name = t->qualified;
	c->typmod = -1;
	c->typlen = t->typlen;
	c->typbyval = t->typbyval;
	c->typalign = t->typalign;
	c->storage = SB_STORAGE_DATUM;
	c->flags = t->flags;
}

/* Set up a value holder. */
void
sbt_value_init(sbt_value *v)
{
	memset(v, 0, sizeof(*v));
	initStringInfo(&v->scratch);
}

/* Release a value holder's memory. */
void
sbt_value_free(sbt_value *v)
{
	pfree(v->scratch.data);
}

/* Parse text into a value of type t; false with a message in err. */
bool
sbt_parse(const sbt_type *t, const char *s, size_t len, sbt_value *v,
		  char *err, size_t errlen)
{
	v->data = NULL;
	v->len = 0;
	return t->in(s, len, v, err, errlen);
}

/* Append the text of an image of type t; false if the image is invalid. */
bool
sbt_format(const sbt_type *t, const unsigned char *image, size_t len,
		   StringInfo out)
{
	return t->out(image, len, out);
}

/*
 * The key part for a parsed value of type t, for a key column compared
 * as 'key_kind'.
 */
void
sbt_key_part(const sbt_type *t, uint8_t key_kind, const sbt_value *v,
			 sb_key_part *part)
{
	memset(part, 0, sizeof(*part));
	switch (key_kind)
	{
		case SB_KEY_INTEGER:
			{
				int16_t		i2;
				int32_t		i4;
				int64_t		i8;

				if (t->typlen == 2)
					part->ival = (memcpy(&i2, v->image, 2), i2);
				else if (t->typlen == 4)
					part->ival = (memcpy(&i4, v->image, 4), i4);
				else
					part->ival = (memcpy(&i8, v->image, 8), i8);
				break;
			}
		case SB_KEY_VARLENA:
		case SB_KEY_BPCHAR:
			part->data = v->data;
			part->len = v->len;
			break;
		default:
			part->data = v->image;
			part->len = (size_t) t->typlen;
			break;
	}
}

/*
 * Parse an integer as pg_strtoint16/32/64 do: blanks, an optional sign,
 * digits, blanks.
 */
static bool
parse_int(const char *s, int64_t min, int64_t max, const char *type,
		  int64_t *out, char *err, size_t errlen)
{
	const char *p = s;
	bool		neg = false;
	uint64_t	acc = 0,
				limit;

	while (*p != '\0' && isspace((unsigned char) *p))
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	limit = neg ? (uint64_t) -(min + 1) + 1 : (uint64_t) max;
	if (!isdigit((unsigned char) *p))
		goto syntax;
	while (isdigit((unsigned char) *p))
	{
		acc = acc * 10 + (uint64_t) (*p++ - '0');
		if (acc > limit)
		{
			type_error(err, errlen, "value \"%s\" is out of range for type %s",
					   shown(s, strlen(s)), type);
			return false;
		}
	}
	while (*p != '\0' && isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		goto syntax;
	*out = neg ? (int64_t) (0 - acc) : (int64_t) acc;
	return true;

syntax:
	type_error(err, errlen, "invalid input syntax for type %s: \"%s\"", type,
			   shown(s, strlen(s)));
	return false;
}

/* int2 input. */
static bool
int2_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	int64_t		i;
	int16_t		x;

	(void) len;
	if (!parse_int(s, INT16_MIN, INT16_MAX, "smallint", &i, err, errlen))
		return false;
	x = (int16_t) i;
	memcpy(v->image, &x, sizeof(x));
	return true;
}

/* int4 input. */
static bool
int4_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	int64_t		i;
	int32_t		x;

	(void) len;
	if (!parse_int(s, INT32_MIN, INT32_MAX, "integer", &i, err, errlen))
		return false;
	x = (int32_t) i;
	memcpy(v->image, &x, sizeof(x));
	return true;
}

/* int8 input. */
static bool
int8_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	int64_t		i;

	(void) len;
	if (!parse_int(s, INT64_MIN, INT64_MAX, "bigint", &i, err, errlen))
		return false;
	memcpy(v->image, &i, sizeof(i));
	return true;
}

/* Does s (len bytes) abbreviate word, at least 'min' bytes of it? */
static bool
abbreviates(const char *s, size_t len, const char *word, size_t min)
{
	return len >= min && len <= strlen(word) && strncasecmp(s, word, len) == 0;
}

/* bool input, as boolin and parse_bool_with_len. */
static bool
bool_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	const char *p = s;
	size_t		n = len;

	while (n > 0 && isspace((unsigned char) *p))
		p++, n--;
	while (n > 0 && isspace((unsigned char) p[n - 1]))
		n--;
	if (abbreviates(p, n, "true", 1) || abbreviates(p, n, "yes", 1) ||
		abbreviates(p, n, "on", 2) || (n == 1 && *p == '1'))
		v->image[0] = 1;
	else if (abbreviates(p, n, "false", 1) || abbreviates(p, n, "no", 1) ||
			 abbreviates(p, n, "off", 2) || (n == 1 && *p == '0'))
		v->image[0] = 0;
	else
	{
		type_error(err, errlen, "invalid input syntax for type boolean: \"%s\"",
				   shown(s, len));
		return false;
	}
	return true;
}

/* text input: the bytes themselves (checked as UTF-8 by the reader). */
static bool
text_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	(void) err;
	(void) errlen;
	v->data = s;
	v->len = len;
	return true;
}

/* Value of a hex digit, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the UTF-8 character at s, not past end. */
static size_t
char_length(const char *s, const char *end)
{
	unsigned char c = (unsigned char) *s;
	size_t		n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;

	return n < (size_t) (end - s) ? n : (size_t) (end - s);
}

/* bytea hex input after "\x": digit pairs, blanks between pairs. */
static bool
bytea_hex(const char *s, size_t len, StringInfo out, char *err, size_t errlen)
{
	const char *end = s + len;

	while (s < end)
	{
		int			hi,
					lo;

		if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		{
			s++;
			continue;
		}
		if ((hi = hex_value(*s)) < 0)
			goto bad_digit;
		if (++s >= end)
		{
			type_error(err, errlen, "invalid hexadecimal data: odd number of digits");
			return false;
		}
		if ((lo = hex_value(*s)) < 0)
			goto bad_digit;
		s++;
		appendStringInfoChar(out, (char) (hi << 4 | lo));
	}
	return true;

bad_digit:
	type_error(err, errlen, "invalid hexadecimal digit: \"%s\"",
			   shown(s, char_length(s, end)));
	return false;
}

/* bytea escape input: bytes, \\ and \ooo. */
static bool
bytea_escape(const char *s, size_t len, StringInfo out, char *err, size_t errlen)
{
	for (size_t i = 0; i < len;)
	{
		if (s[i] != '\\')
			appendStringInfoChar(out, s[i++]);
		else if (i + 1 < len && s[i + 1] == '\\')
		{
			appendStringInfoChar(out, '\\');
			i += 2;
		}
		else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
				 s[i + 2] >= '0' && s[i + 2] <= '7' &&
				 s[i + 3] >= '0' && s[i + 3] <= '7')
		{
			appendStringInfoChar(out, (char) ((s[i + 1] - '0') << 6 |
										(s[i + 2] - '0') << 3 | (s[i + 3] - '0')));
			i += 4;
		}
		else
		{
			type_error(err, errlen, "invalid input syntax for type bytea");
			return false;
		}
	}
	return true;
}

/* bytea input, hex or escape format. */
static bool
bytea_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	bool		ok;

	resetStringInfo(&v->scratch);
	if (len >= 2 && s[0] == '\\' && s[1] == 'x')
		ok = bytea_hex(s + 2, len - 2, &v->scratch, err, errlen);
	else
		ok = bytea_escape(s, len, &v->scratch, err, errlen);
	v->data = v->scratch.data;
	v->len = v->scratch.len;
	return ok;
}

/* uuid input, as string_to_uuid. */
static bool
uuid_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	const char *p = s;
	bool		braces = *p == '{';

	(void) len;
	p += braces;
	for (int i = 0; i < 16; i++)
	{
		int			hi,
					lo;

		if ((hi = hex_value(p[0])) < 0 || (lo = hex_value(p[1])) < 0)
			goto syntax;
		v->image[i] = (unsigned char) (hi << 4 | lo);
		p += 2;
		if (*p == '-' && i % 2 == 1 && i < 15)
			p++;
	}
	if (braces && *p++ != '}')
		goto syntax;
	if (*p == '\0')
		return true;

syntax:
	type_error(err, errlen, "invalid input syntax for type uuid: \"%s\"",
			   shown(s, strlen(s)));
	return false;
}

/* int2 output. */
static bool
int2_out(const unsigned char *image, size_t len, StringInfo out)
{
	int16_t		x;

	if (len != sizeof(x))
		return false;
	memcpy(&x, image, sizeof(x));
	appendStringInfo(out, "%d", (int) x);
	return true;
}

/* int4 output. */
static bool
int4_out(const unsigned char *image, size_t len, StringInfo out)
{
	int32_t		x;

	if (len != sizeof(x))
		return false;
	memcpy(&x, image, sizeof(x));
	appendStringInfo(out, "%d", (int) x);
	return true;
}

/* int8 output. */
static bool
int8_out(const unsigned char *image, size_t len, StringInfo out)
{
	int64_t		x;

	if (len != sizeof(x))
		return false;
	memcpy(&x, image, sizeof(x));
	appendStringInfo(out, "%lld", (long long) x);
	return true;
}

/* bool output: t or f. */
static bool
bool_out(const unsigned char *image, size_t len, StringInfo out)
{
	if (len != 1)
		return false;
	appendStringInfoChar(out, image[0] ? 't' : 'f');
	return true;
}

/* The payload of a varlena image; false if the header is not plain. */
static bool
varlena_payload(const unsigned char *image, size_t len,
				const unsigned char **data, size_t *n)
{
	size_t		hdr = len > 0 ? sb_varlena_header_size(image) : 0;

	if (hdr == 0 || hdr > len)
		return false;
	*data = image + hdr;
	*n = len - hdr;
	return true;
}

/* text output: the bytes themselves. */
static bool
text_out(const unsigned char *image, size_t len, StringInfo out)
{
	const unsigned char *data;
	size_t		n;

	if (!varlena_payload(image, len, &data, &n))
		return false;
	appendBinaryStringInfo(out, (const char *) data, n);
	return true;
}

/* Append bytes as \x and two lower-case hex digits a byte. */
void
sbt_append_hex(StringInfo out, const unsigned char *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	appendBinaryStringInfo(out, "\\x", 2);
	for (size_t i = 0; i < len; i++)
	{
		appendStringInfoCharMacro(out, hex[data[i] >> 4]);
		appendStringInfoCharMacro(out, hex[data[i] & 15]);
	}
}

/* bytea output in hex format. */
static bool
bytea_out(const unsigned char *image, size_t len, StringInfo out)
{
	const unsigned char *data;
	size_t		n;

	if (!varlena_payload(image, len, &data, &n))
		return false;
	sbt_append_hex(out, data, n);
	return true;
}

/* uuid output: 8-4-4-4-12 lower-case hex digits. */
static bool
uuid_out(const unsigned char *image, size_t len, StringInfo out)
{
	static const char hex[] = "0123456789abcdef";

	if (len != 16)
		return false;
	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			appendStringInfoChar(out, '-');
		appendStringInfoChar(out, hex[image[i] >> 4]);
		appendStringInfoChar(out, hex[image[i] & 15]);
	}
	return true;
}
