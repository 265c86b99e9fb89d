/*-------------------------------------------------------------------------
 *
 * floats.c
 *	  float4 and float8: PostgreSQL's text input and output.
 *
 * Input follows float4in/float8in: strtof/strtod after leading blanks,
 * the spellings NaN, [+-]Infinity and [+-]inf in any case, denormal
 * values accepted, underflow to zero and overflow refused.
 *
 * Output follows float4out/float8out with the default extra_float_digits
 * (1): the shortest digits that read back as the same value, and among
 * those the closest to it, as the Ryu algorithm PostgreSQL uses gives
 * them (which never picks a decimal exactly halfway to a neighbour),
 * printed in fixed point when the decimal exponent is -4 up to 5 (float4)
 * or 14 (float8), else as d.ddde+XX.  The digits are found with printf's
 * correctly rounded %.*e and strtod/strtof to check that they read back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <math.h>

#include "types_int.h"

/* A decimal d.ddd x 10^exp, the digits without a point. */
typedef struct decimal
{
	char		digits[32];
	int			ndigits;
	int			exp;
} decimal;

/* The special spellings strtod may not take, as float8in checks them. */
static const struct
{
	const char *word;
	int			sign;			/* 0: NaN */
}			specials[] = {
	{"NaN", 0}, {"Infinity", 1}, {"+Infinity", 1}, {"-Infinity", -1},
	{"inf", 1}, {"+inf", 1}, {"-inf", -1}
};

/* Match a special spelling at the start of num: set *val and *end. */
static bool
match_special(const char *num, double *val, char **end)
{
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
	{
		size_t		n = strlen(specials[i].word);

		if (strncasecmp(num, specials[i].word, n) == 0)
		{
			*val = specials[i].sign == 0 ? (double) NAN :
				specials[i].sign * (double) INFINITY;
			*end = (char *) num + n;
			return true;
		}
	}
	return false;
}

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
	if ((end == num || errno != 0) && !match_special(num, &val, &end))
	{
		if (errno != ERANGE)
			goto syntax;
		/* a denormal value may set ERANGE; only zero or infinity is out */
		if (val == 0.0 || isinf(val))
		{
			out_of_range(str, num, end, single, err, errlen);
			return false;
		}
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

	(void) len;
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

	(void) len;
	if (!parse_float(s, false, &d, err, errlen))
		return false;
	memcpy(v->image, &d, sizeof(d));
	return true;
}

/*
 * Is D x 10^k exactly N x 2^j (N odd)?  With D = D' 2^a 5^b, D' prime to
 * 10, that needs a + k = j and D' 5^(b + k) = N.
 */
static bool
decimal_equals(uint64_t D, int k, uint64_t N, int j)
{
	int			a = 0,
				b = 0;

	if (D == 0)
		return false;
	for (; D % 2 == 0; a++)
		D /= 2;
	for (; D % 5 == 0; b++)
		D /= 5;
	if (a + k != j || b + k < 0)
		return false;
	for (int i = 0; i < b + k; i++)
	{
		if (D > N / 5)
			return false;
		D *= 5;
	}
	return D == N;
}

/*
 * Is d exactly halfway between v (> 0) and a neighbouring float?  Such a
 * decimal reads back as v when v's significand is even, but PostgreSQL's
 * Ryu code (built without STRICTLY_SHORTEST) excludes the interval's
 * bounds, so it never prints one.  The gap below a power of two is half
 * the gap above it.
 */
static bool
on_boundary(const decimal *d, double v, bool single)
{
	uint64_t	bits,
				m,
				D = 0;
	int			e,
				k = d->exp - (d->ndigits - 1);
	bool		narrow_below;

	if (single)
	{
		float		f = (float) v;
		uint32_t	b32;

		memcpy(&b32, &f, sizeof(b32));
		bits = b32;
		m = (bits & 0x7FFFFF) | (bits >> 23 ? UINT64_C(1) << 23 : 0);
		e = (bits >> 23 ? (int) (bits >> 23) : 1) - 150;
		narrow_below = (bits & 0x7FFFFF) == 0 && (bits >> 23) > 1;
	}
	else
	{
		memcpy(&bits, &v, sizeof(bits));
		m = (bits & ((UINT64_C(1) << 52) - 1)) | (bits >> 52 ? UINT64_C(1) << 52 : 0);
		e = (bits >> 52 ? (int) (bits >> 52) : 1) - 1075;
		narrow_below = (bits & ((UINT64_C(1) << 52) - 1)) == 0 && (bits >> 52) > 1;
	}
	for (int i = 0; i < d->ndigits; i++)
		D = D * 10 + (uint64_t) (d->digits[i] - '0');
	if (decimal_equals(D, k, 2 * m + 1, e - 1))
		return true;
	if (narrow_below)
		return decimal_equals(D, k, 4 * m - 1, e - 2);
	return decimal_equals(D, k, 2 * m - 1, e - 1);
}

/*
 * Does d, printed as a C literal, read back as v, and lie strictly between
 * the bounds of v's rounding interval?
 */
static bool
reads_back(const decimal *d, double v, bool single)
{
	char		buf[64];
	bool		same;

	snprintf(buf, sizeof(buf), "%c.%se%d", d->digits[0], d->digits + 1, d->exp);
	if (single)
		same = strtof(buf, NULL) == (float) v;
	else
		same = strtod(buf, NULL) == v;
	return same && !on_boundary(d, v, single);
}

/* v (> 0) correctly rounded to 'prec' significant digits. */
static void
round_to(double v, int prec, decimal *d)
{
	char		buf[64];
	char	   *e;
	int			n = 0;

	snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
	e = strchr(buf, 'e');
	for (const char *p = buf; p < e; p++)
		if (*p != '.')
			d->digits[n++] = *p;
	d->digits[n] = '\0';
	d->ndigits = n;
	d->exp = atoi(e + 1);
}

/* Move d by one unit in its last digit, up (+1) or down (-1). */
static void
step_last_digit(decimal *d, int dir)
{
	int			i = d->ndigits - 1;

	if (dir > 0)
	{
		while (i >= 0 && d->digits[i] == '9')
			d->digits[i--] = '0';
		if (i >= 0)
			d->digits[i]++;
		else
		{
			d->digits[0] = '1';
			d->exp++;
		}
		return;
	}
	while (i >= 0 && d->digits[i] == '0')
		d->digits[i--] = '9';
	d->digits[i]--;
	if (d->digits[0] == '0')
	{
		/* 1000 - 1 at this precision is 9999 of the decade below */
		memset(d->digits, '9', d->ndigits);
		d->exp--;
	}
}

/*
 * Find a decimal of 'prec' digits that reads back as v, the closest to v
 * if there are several; false if there is none.  The candidates are the
 * nearest such decimals below and above v: v correctly rounded, and its
 * neighbour on the other side of v (which may read back alone where the
 * gap between floats halves, at a power of two).
 */
static bool
decimal_of_length(double v, bool single, int prec, decimal *d)
{
	decimal		rounded;

	round_to(v, prec, &rounded);
	*d = rounded;
	if (reads_back(d, v, single))
		return true;
	for (int dir = 1; dir >= -1; dir -= 2)
	{
		*d = rounded;
		step_last_digit(d, dir);
		if (reads_back(d, v, single))
			return true;
	}
	return false;
}

/*
 * The shortest digits that read back as v (finite, > 0), and of those the
 * closest.  If a decimal of p digits reads back, it is also one of p + 1
 * digits, so the least length can be found by bisection; 17 digits (9 for
 * float4) always suffice.
 */
static void
shortest_decimal(double v, bool single, decimal *d)
{
	int			lo = 1,
				hi = single ? 9 : 17;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (decimal_of_length(v, single, mid, d))
			hi = mid;
		else
			lo = mid + 1;
	}
	decimal_of_length(v, single, lo, d);
	while (d->ndigits > 1 && d->digits[d->ndigits - 1] == '0')
		d->digits[--d->ndigits] = '\0';
}

/* Print d as PostgreSQL does; fixed point for exponents -4 .. fixed_max. */
static void
print_decimal(const decimal *d, int fixed_max, StringInfo out)
{
	int			x = d->exp,
				n = d->ndigits;

	if (x < -4 || x > fixed_max)
	{
		appendStringInfoChar(out, d->digits[0]);
		if (n > 1)
		{
			appendStringInfoChar(out, '.');
			appendBinaryStringInfo(out, d->digits + 1, n - 1);
		}
		appendStringInfo(out, "e%c%02d", x < 0 ? '-' : '+', abs(x));
	}
	else if (x < 0)
	{
		appendStringInfoString(out, "0.");
		for (int i = 0; i < -x - 1; i++)
			appendStringInfoChar(out, '0');
		appendBinaryStringInfo(out, d->digits, n);
	}
	else if (n <= x + 1)
	{
		appendBinaryStringInfo(out, d->digits, n);
		for (int i = n; i < x + 1; i++)
			appendStringInfoChar(out, '0');
	}
	else
	{
		appendBinaryStringInfo(out, d->digits, x + 1);
		appendStringInfoChar(out, '.');
		appendBinaryStringInfo(out, d->digits + x + 1, n - x - 1);
	}
}

/* Append a float's text as float4out/float8out print it. */
static void
float_text(double v, bool single, StringInfo out)
{
	decimal		d;

	if (isnan(v))
		appendStringInfoString(out, "NaN");
	else if (isinf(v))
		appendStringInfoString(out, v < 0 ? "-Infinity" : "Infinity");
	else if (v == 0.0)
		appendStringInfoString(out, signbit(v) ? "-0" : "0");
	else
	{
		if (v < 0)
			appendStringInfoChar(out, '-');
		shortest_decimal(fabs(v), single, &d);
		print_decimal(&d, single ? 5 : 14, out);
	}
}

/* float4 output. */
bool
float4_out(const unsigned char *image, size_t len, StringInfo out)
{
	float		f;

	if (len != sizeof(f))
		return false;
	memcpy(&f, image, sizeof(f));
	float_text((double) f, true, out);
	return true;
}

/* float8 output. */
bool
float8_out(const unsigned char *image, size_t len, StringInfo out)
{
	double		d;

	if (len != sizeof(d))
		return false;
	memcpy(&d, image, sizeof(d));
	float_text(d, false, out);
	return true;
}
