/*-------------------------------------------------------------------------
 *
 * types.c
 *	  The supported types, and all but the date and time ones.
 *
 * Each type follows its PostgreSQL 15 input and output function: int2in
 * and friends (blanks around an optional sign and digits), float4in and
 * float8in (strtof or strtod after blanks, whose glibc versions also read
 * NaN and [+-]Infinity or inf in any case; denormal values accepted,
 * underflow to zero and overflow refused), boolin (the prefixes of
 * true/false/yes/no/on/off and 1/0), byteain (hex \x form or the escape
 * form), uuid_in (optional braces, a hyphen allowed after any four hex
 * digits), and the matching output functions.  Floats are printed by
 * libpgcommon's shortest-decimal code, as float4out and float8out print
 * them.  The date and time types are in datetime.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "types_int.h"

#define SHOWN_MAX	200			/* bytes of a value quoted in a message */

static const char hex_digits[] = "0123456789abcdef";

/*
 * A value as quoted in a message: cut to SHOWN_MAX bytes at a character
 * boundary, with "..." if cut.  Returns a static buffer.
 */
const char *
shown(const char *s, size_t len)
{
	static char buf[SHOWN_MAX + 4];
	size_t		n = Min(len, SHOWN_MAX);

	while (n < len && n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80)
		n--;
	snprintf(buf, sizeof(buf), "%.*s%s", (int) n, s, n < len ? "..." : "");
	return buf;
}

/* The message for text that type t cannot read. */
char *
syntax_error(const sbt_type *t, const char *s)
{
	return psprintf("invalid input syntax for type %s: \"%s\"", t->sqlname,
					shown(s, strlen(s)));
}

/*
 * Integer input, as pg_strtoint16/32/64: blanks, an optional sign, digits,
 * blanks.
 */
static char *
int_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	uint64_t	limit = t->typlen == 2 ? INT16_MAX : t->typlen == 4 ? INT32_MAX : INT64_MAX;
	const char *p = s;
	bool		neg = false;
	uint64_t	acc = 0;
	int64_t		x;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	limit += neg;
	if (!isdigit((unsigned char) *p))
		return syntax_error(t, s);
	for (; isdigit((unsigned char) *p); p++)
	{
		if (acc > (limit - (*p - '0')) / 10)
			return psprintf("value \"%s\" is out of range for type %s",
							shown(s, strlen(s)), t->sqlname);
		acc = acc * 10 + (*p - '0');
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		return syntax_error(t, s);
	x = neg ? (int64_t) (0 - acc) : (int64_t) acc;
	if (t->typlen == 2)
		*(int16_t *) v->image = (int16_t) x;
	else if (t->typlen == 4)
		*(int32_t *) v->image = (int32_t) x;
	else
		*(int64_t *) v->image = x;
	return NULL;
}

/* Float input, as float4in or float8in: a native float or double image. */
static char *
float_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	bool		single = t->typlen == 4;
	const char *num = s;
	char	   *end;
	double		d;

	while (isspace((unsigned char) *num))
		num++;
	if (*num == '\0')
		return syntax_error(t, s);
	errno = 0;
	d = single ? (double) strtof(num, &end) : strtod(num, &end);
	if (end == num || (errno != 0 && errno != ERANGE))
		return syntax_error(t, s);
	/* a denormal value may set ERANGE; only zero or infinity is out */
	if (errno == ERANGE && (d == 0.0 || isinf(d)))
		return psprintf("\"%s\" is out of range for type %s",
						single ? shown(s, strlen(s)) : shown(num, end - num),
						t->sqlname);
	while (isspace((unsigned char) *end))
		end++;
	if (*end != '\0')
		return syntax_error(t, s);
	if (single)
		*(float *) v->image = (float) d;
	else
		*(double *) v->image = d;
	return NULL;
}

/* Does s (len bytes) abbreviate word, at least 'min' bytes of it? */
static bool
abbreviates(const char *s, size_t len, const char *word, size_t min)
{
	return len >= min && len <= strlen(word) && pg_strncasecmp(s, word, len) == 0;
}

/* bool input, as boolin and parse_bool_with_len. */
static char *
bool_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
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
		return syntax_error(t, s);
	return NULL;
}

/* text input: the bytes themselves (checked as UTF-8 by the reader). */
static char *
text_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	v->data = s;
	v->len = len;
	return NULL;
}

/* Value of a hex digit, or -1. */
static int
hex_value(char c)
{
	const char *d = strchr(hex_digits, pg_ascii_tolower((unsigned char) c));

	return c != '\0' && d != NULL ? (int) (d - hex_digits) : -1;
}

/* bytea hex input after "\x": digit pairs, blanks between pairs. */
static char *
bytea_hex(const char *s, const char *end, StringInfo out)
{
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
			break;
		if (++s >= end)
			return psprintf("invalid hexadecimal data: odd number of digits");
		if ((lo = hex_value(*s)) < 0)
			break;
		s++;
		appendStringInfoChar(out, (char) (hi << 4 | lo));
	}
	if (s >= end)
		return NULL;
	return psprintf("invalid hexadecimal digit: \"%s\"",
					shown(s, Min(pg_utf_mblen((const unsigned char *) s), end - s)));
}

/* bytea escape input: bytes, \\ and \ooo. */
static char *
bytea_escape(const char *s, size_t len, StringInfo out)
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
			return psprintf("invalid input syntax for type bytea");
	}
	return NULL;
}

/* bytea input, hex or escape format. */
static char *
bytea_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	char	   *err;

	resetStringInfo(&v->scratch);
	if (len >= 2 && s[0] == '\\' && s[1] == 'x')
		err = bytea_hex(s + 2, s + len, &v->scratch);
	else
		err = bytea_escape(s, len, &v->scratch);
	v->data = v->scratch.data;
	v->len = v->scratch.len;
	return err;
}

/* uuid input, as string_to_uuid. */
static char *
uuid_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	const char *p = s;
	bool		braces = *p == '{';

	p += braces;
	for (int i = 0; i < 16; i++)
	{
		int			hi,
					lo;

		if ((hi = hex_value(p[0])) < 0 || (lo = hex_value(p[1])) < 0)
			return syntax_error(t, s);
		v->image[i] = (unsigned char) (hi << 4 | lo);
		p += 2;
		if (*p == '-' && i % 2 == 1 && i < 15)
			p++;
	}
	if (braces && *p++ != '}')
		return syntax_error(t, s);
	return *p == '\0' ? NULL : syntax_error(t, s);
}

/* The value of an integer image of 2, 4 or 8 bytes. */
static int64_t
int_image(const unsigned char *image, size_t len)
{
	int16_t		i2;
	int32_t		i4;
	int64_t		i8;

	if (len == 2)
		return (memcpy(&i2, image, 2), i2);
	if (len == 4)
		return (memcpy(&i4, image, 4), i4);
	memcpy(&i8, image, 8);
	return i8;
}

/* Integer output. */
static bool
int_out(const sbt_type *t, const unsigned char *image, size_t len,
		StringInfo out)
{
	if (len != (size_t) t->typlen)
		return false;
	appendStringInfo(out, INT64_FORMAT, int_image(image, len));
	return true;
}

/* Float output, as float4out and float8out print with libpgcommon. */
static bool
float_out(const sbt_type *t, const unsigned char *image, size_t len,
		  StringInfo out)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];
	float		f;
	double		d;

	if (len != (size_t) t->typlen)
		return false;
	if (len == sizeof(f))
		len = float_to_shortest_decimal_buf((memcpy(&f, image, len), f), buf);
	else
		len = double_to_shortest_decimal_buf((memcpy(&d, image, len), d), buf);
	appendBinaryStringInfo(out, buf, len);
	return true;
}

/* bool output: t or f. */
static bool
bool_out(const sbt_type *t, const unsigned char *image, size_t len,
		 StringInfo out)
{
	if (len != 1)
		return false;
	appendStringInfoChar(out, image[0] ? 't' : 'f');
	return true;
}

/* Append bytes as \x and two lower-case hex digits a byte. */
void
sbt_append_hex(StringInfo out, const unsigned char *data, size_t len)
{
	appendBinaryStringInfo(out, "\\x", 2);
	for (size_t i = 0; i < len; i++)
	{
		appendStringInfoCharMacro(out, hex_digits[data[i] >> 4]);
		appendStringInfoCharMacro(out, hex_digits[data[i] & 15]);
	}
}

/*
 * text output (the bytes themselves) and bytea output (hex format): false
 * if the varlena header is not a plain one.
 */
static bool
varlena_out(const sbt_type *t, const unsigned char *image, size_t len,
			StringInfo out)
{
	size_t		hdr = len > 0 ? sb_varlena_header_size(image) : 0;

	if (hdr == 0 || hdr > len)
		return false;
	if (t->in == bytea_in)
		sbt_append_hex(out, image + hdr, len - hdr);
	else
		appendBinaryStringInfo(out, (const char *) image + hdr, len - hdr);
	return true;
}

/* uuid output: 8-4-4-4-12 lower-case hex digits. */
static bool
uuid_out(const sbt_type *t, const unsigned char *image, size_t len,
		 StringInfo out)
{
	if (len != 16)
		return false;
	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			appendStringInfoChar(out, '-');
		appendStringInfoChar(out, hex_digits[image[i] >> 4]);
		appendStringInfoChar(out, hex_digits[image[i] & 15]);
	}
	return true;
}

/* The types, with their pg_type attributes. */
static const sbt_type types[] = {
	{"int2", "pg_catalog.int2", "smallint", 2, true, 's', SB_KEY_INTEGER, 0, int_in, int_out},
	{"int4", "pg_catalog.int4", "integer", 4, true, 'i', SB_KEY_INTEGER, 0, int_in, int_out},
	{"int8", "pg_catalog.int8", "bigint", 8, true, 'd', SB_KEY_INTEGER, 0, int_in, int_out},
	{"float4", "pg_catalog.float4", "real", 4, true, 'i', SB_KEY_FLOAT, 0, float_in, float_out},
	{"float8", "pg_catalog.float8", "double precision", 8, true, 'd', SB_KEY_FLOAT, 0, float_in, float_out},
	{"bool", "pg_catalog.bool", "boolean", 1, true, 'c', SB_KEY_BYTES, 0, bool_in, bool_out},
	{"text", "pg_catalog.text", "text", -1, false, 'i', SB_KEY_VARLENA, SB_COLF_SHORT_VARLENA, text_in, varlena_out},
	{"bytea", "pg_catalog.bytea", "bytea", -1, false, 'i', SB_KEY_VARLENA, SB_COLF_SHORT_VARLENA, bytea_in, varlena_out},
	{"date", "pg_catalog.date", "date", 4, true, 'i', SB_KEY_BYTES, 0, date_in, date_out},
	{"timestamp", "pg_catalog.timestamp", "timestamp", 8, true, 'd', SB_KEY_BYTES, 0, timestamp_in, timestamp_out},
	{"timestamptz", "pg_catalog.timestamptz", "timestamp with time zone", 8, true, 'd', SB_KEY_BYTES, 0, timestamp_in, timestamp_out},
	{"uuid", "pg_catalog.uuid", "uuid", 16, false, 'c', SB_KEY_BYTES, 0, uuid_in, uuid_out},
};

/* SQL spellings of the types other than their names above. */
static const char *const aliases[][2] = {
	{"int", "int4"}, {"float", "float8"}, {"timestamp without time zone", "timestamp"}
};

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
	for (size_t i = 0; i < lengthof(aliases); i++)
		if (strcmp(name, aliases[i][0]) == 0)
			name = aliases[i][1];
	for (size_t i = 0; i < lengthof(types); i++)
		if (strcmp(name, types[i].typname) == 0 ||
			strcmp(name, types[i].sqlname) == 0)
			return &types[i];
	return NULL;
}

/* The type of a bundle's column, or NULL if this tool lacks it. */
const sbt_type *
sbt_for_column(const sb_column *c)
{
	for (size_t i = 0; i < lengthof(types); i++)
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

/* Parse text into a value of type t; NULL, or a message to free. */
char *
sbt_parse(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	v->data = NULL;
	v->len = 0;
	return t->in(t, s, len, v);
}

/* Append the text of an image of type t; false if the image is invalid. */
bool
sbt_format(const sbt_type *t, const unsigned char *image, size_t len,
		   StringInfo out)
{
	return t->out(t, image, len, out);
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
			part->ival = int_image(v->image, t->typlen);
			break;
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
