/*-------------------------------------------------------------------------
 *
 * floats.c
 *	  float4 and float8: PostgreSQL's text input and output.
 *
 * Input follows float4in/float8in: strtof/strtod after leading blanks
 * (glibc's take NaN and [+-]Infinity/inf in any case, as float8in does),
 * denormal values accepted, underflow to zero and overflow refused.
 * Output is float4out/float8out's with the default extra_float_digits:
 * the shortest digits that read back, from libpgcommon's Ryu code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "types_int.h"

/* Report an out-of-range value in the words of float4in or float8in. */
static void
out_of_range(const char *str, const char *num, const char *end, bool single,
			 char *err, size_t errlen)
{
	if (single)
		type_error(err, errlen, "\"%s\" is out of range for type real",
				   shown(str, strlen(str)));
	else
		type_error(err, errlen, "\"%s\" is out of range for type double precision",
				   shown(num, end - num));
}

/* Parse a float as float4in (single) or float8in does. */
static bool
parse_float(const char *str, bool single, double *out, char *err, size_t errlen)
{
	const char *num = str;
	char	   *end;
	double		val;

	while (*num != '\0' && isspace((unsigned char) *num))
		num++;
	if (*num == '\0')
		goto syntax;
	errno = 0;
	val = single ? (double) strtof(num, &end) : strtod(num, &end);
	if (end == num || (errno != 0 && errno != ERANGE))
		goto syntax;
	/* a denormal value may set ERANGE; only zero or infinity is out */
	if (errno == ERANGE && (val == 0.0 || isinf(val)))
	{
		out_of_range(str, num, end, single, err, errlen);
		return false;
	}
	while (*end != '\0' && isspace((unsigned char) *end))
		end++;
	if (*end != '\0')
		goto syntax;
	*out = val;
	return true;

syntax:
	type_error(err, errlen, "invalid input syntax for type %s: \"%s\"",
			   single ? "real" : "double precision", shown(str, strlen(str)));
	return false;
}

/* float4 input: a native float image. */
bool
float4_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	double		d;
	float		f;

	if (!parse_float(s, true, &d, err, errlen))
		return false;
	f = (float) d;
	memcpy(v->image, &f, sizeof(f));
	return true;
}

/* float8 input: a native double image. */
bool
float8_in(const char *s, size_t len, sbt_value *v, char *err, size_t errlen)
{
	double		d;

	if (!parse_float(s, false, &d, err, errlen))
		return false;
	memcpy(v->image, &d, sizeof(d));
	return true;
}

/* float4 output. */
bool
float4_out(const unsigned char *image, size_t len, StringInfo out)
{
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];
	float		f;

	if (len != sizeof(f))
		return false;
	memcpy(&f, image, sizeof(f));
	appendBinaryStringInfo(out, buf, float_to_shortest_decimal_buf(f, buf));
	return true;
}

/* float8 output. */
bool
float8_out(const unsigned char *image, size_t len, StringInfo out)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];
	double		d;

	if (len != sizeof(d))
		return false;
	memcpy(&d, image, sizeof(d));
	appendBinaryStringInfo(out, buf, double_to_shortest_decimal_buf(d, buf));
	return true;
}
