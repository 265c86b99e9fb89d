/*-------------------------------------------------------------------------
 *
 * datetime.c
 *	  date, timestamp and timestamptz: ISO text input and output.
 *
 * Images are PostgreSQL's: a date is an int32 count of days since
 * 2000-01-01, a timestamp an int64 count of microseconds since
 * 2000-01-01 00:00:00, a timestamptz the same in UTC.  -infinity and
 * infinity are the minimum and maximum integers.  The calendar is the
 * proleptic Gregorian one with astronomical years (1 BC is year 0).
 *
 * Output is PostgreSQL's ISO DateStyle, timestamptz with TimeZone set to
 * UTC, from libpgtypes (ecpg's copy of the server's date/time code), with
 * the few touches it needs to print what the server prints.
 *
 * Input is this file's own: libpgtypes reads forms the server reads
 * differently or not at all (a timestamp's zone is dropped, a date has no
 * infinity, 23:59:60 is refused, nothing is range-checked) and reports any
 * failure as one errno value, so it cannot give the server's results and
 * messages.  It takes the ISO 8601 forms PostgreSQL reads, which are the
 * forms it prints: "YYYY-MM-DD", then optionally " HH:MM[:SS[.fff]]" (or
 * a "T" before the time), then for a time optionally a zone "Z", "UTC",
 * "GMT", "+HH", "+HHMM", "+HH:MM" or "+HH:MM:SS", then optionally " BC" or
 * " AD"; and the words infinity, -infinity and epoch.  The year has at
 * least four digits.  A timestamptz without a zone is taken to be UTC; a
 * timestamp ignores a zone, as PostgreSQL does.  Fractions beyond
 * microseconds are rounded as PostgreSQL rounds them.  The ranges are
 * PostgreSQL's: dates 4714-11-24 BC to 5874897-12-31, timestamps
 * 4714-11-24 00:00:00 BC to 294276-12-31 23:59:59.999999.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <math.h>

#include <pgtypes_date.h>
#include <pgtypes_timestamp.h>

#include "types_int.h"

#define USECS_PER_SEC	INT64_C(1000000)
#define USECS_PER_DAY	INT64_C(86400000000)
#define EPOCH_JDATE		2451545 /* Julian day of 2000-01-01 */
#define END_JDATE		2147483494	/* Julian day of 5874898-01-01 */
#define MIN_TIMESTAMP	INT64_C(-211813488000000000)	/* 4714-11-24 BC */
#define END_TIMESTAMP	INT64_C(9223371331200000000)	/* 294277-01-01 */
#define UNIX_EPOCH_DAYS	(-10957)	/* 1970-01-01 */
#define MAX_TZ_HOURS	15

/* Is type t timestamptz? */
#define WITH_ZONE(t)	(strcmp((t)->typname, "timestamptz") == 0)

/* Outcome of parsing, as PostgreSQL's DTERR_* codes. */
typedef enum dt_result
{
	DT_OK,
	DT_BAD_FORMAT,
	DT_FIELD_RANGE,
	DT_TZ_RANGE
} dt_result;

typedef enum dt_special
{
	DT_FINITE,
	DT_INFINITY,
	DT_MINUS_INFINITY,
	DT_EPOCH
} dt_special;

/* The images of the special values, by dt_special. */
static const int32_t special_days[] = {0, INT32_MAX, INT32_MIN, UNIX_EPOCH_DAYS};
static const int64_t special_usecs[] = {
	0, INT64_MAX, INT64_MIN, UNIX_EPOCH_DAYS * USECS_PER_DAY
};

/* The fields of a parsed date or timestamp. */
typedef struct dt_fields
{
	dt_special	special;
	int64_t		year;			/* astronomical */
	int			month;
	int			day;
	int			hour;
	int			minute;
	int			second;
	int64_t		usec;
	int			tz;				/* seconds east of UTC */
} dt_fields;

/* Days from 2000-01-01 to a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era,
				yoe,
				doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 730425;
}

/* Days in a month of an astronomical year. */
static int
days_in_month(int64_t y, int m)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/* Read 'min' to 'max' digits into *val; false if there are too few. */
static bool
read_digits(const char **p, int min, int max, int64_t *val)
{
	int			n = 0;

	*val = 0;
	while (n < max && isdigit((unsigned char) (*p)[n]))
	{
		*val = *val * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min || isdigit((unsigned char) (*p)[n]))
		return false;
	*p += n;
	return true;
}

/* Skip blanks. */
static void
skip_space(const char **p)
{
	while (isspace((unsigned char) **p))
		(*p)++;
}

/* Does the word w (any case) come next, not followed by a letter? */
static bool
next_word(const char **p, const char *w)
{
	size_t		n = strlen(w);

	if (strncasecmp(*p, w, n) != 0 || isalpha((unsigned char) (*p)[n]))
		return false;
	*p += n;
	return true;
}

/* Parse "YYYY-MM-DD" (year of era). */
static dt_result
parse_date_part(const char **p, dt_fields *f)
{
	int64_t		m,
				d;

	if (!read_digits(p, 4, 9, &f->year) || *(*p)++ != '-' ||
		!read_digits(p, 1, 2, &m) || *(*p)++ != '-' ||
		!read_digits(p, 1, 2, &d))
		return DT_BAD_FORMAT;
	f->month = (int) m;
	f->day = (int) d;
	return DT_OK;
}

/*
 * Parse ".fff" (digits optional) into microseconds, rounded as PostgreSQL
 * rounds: rint() of the fraction read as a double.
 */
static int64_t
parse_fraction(const char **p)
{
	const char *q = *p + 1;
	char		buf[64];
	size_t		n;

	while (isdigit((unsigned char) *q))
		q++;
	n = (size_t) (q - *p) < sizeof(buf) ? (size_t) (q - *p) : sizeof(buf) - 1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p = q;
	return n > 1 ? (int64_t) rint(strtod(buf, NULL) * 1000000) : 0;
}

/* Parse "HH:MM[:SS[.fff]]"; fractions round to microseconds. */
static dt_result
parse_time_part(const char **p, dt_fields *f)
{
	int64_t		h,
				mi,
				s = 0;

	if (!read_digits(p, 1, 2, &h) || *(*p)++ != ':' ||
		!read_digits(p, 1, 2, &mi))
		return DT_BAD_FORMAT;
	if (**p == ':')
	{
		(*p)++;
		if (!read_digits(p, 1, 2, &s))
			return DT_BAD_FORMAT;
		if (**p == '.')
			f->usec = parse_fraction(p);
	}
	f->hour = (int) h;
	f->minute = (int) mi;
	f->second = (int) s;
	return DT_OK;
}

/* Parse a zone: Z, UTC, GMT, or +HH[[:]MM[:SS]]. */
static dt_result
parse_zone(const char **p, dt_fields *f)
{
	int			sign;
	int64_t		h,
				m = 0,
				s = 0;
	const char *start;

	if (next_word(p, "Z") || next_word(p, "UTC") || next_word(p, "GMT"))
		return DT_OK;
	if (**p != '+' && **p != '-')
		return DT_BAD_FORMAT;
	sign = *(*p)++ == '-' ? -1 : 1;
	start = *p;
	if (!read_digits(p, 1, 6, &h))
		return DT_BAD_FORMAT;
	if (**p == ':')
	{
		(*p)++;
		if (!read_digits(p, 1, 2, &m))
			return DT_BAD_FORMAT;
		if (**p == ':' && (++(*p), !read_digits(p, 1, 2, &s)))
			return DT_BAD_FORMAT;
	}
	else if (*p - start > 2)
	{
		m = h % 100;
		h /= 100;
	}
	if (h > MAX_TZ_HOURS || m >= 60 || s >= 60)
		return DT_TZ_RANGE;
	f->tz = sign * (int) (h * 3600 + m * 60 + s);
	return DT_OK;
}

/* Is an era word (BC or AD) next? */
static bool
era_next(const char *q)
{
	return next_word(&q, "BC") || next_word(&q, "AD");
}

/* Parse what may follow the date: a time and a zone, then an era. */
static dt_result
parse_rest(const char **p, dt_fields *f, bool *bc)
{
	const char *q = *p;
	dt_result	r;

	if (*q == 'T' || *q == 't')
		q++;
	else
		skip_space(&q);
	if (q != *p && isdigit((unsigned char) *q))
	{
		if ((r = parse_time_part(&q, f)) != DT_OK)
			return r;
		*p = q;
		skip_space(&q);
		if (!era_next(q) && (*q == '+' || *q == '-' || isalpha((unsigned char) *q)))
		{
			if ((r = parse_zone(&q, f)) != DT_OK)
				return r;
			*p = q;
		}
	}
	q = *p;
	skip_space(&q);
	if (next_word(&q, "BC"))
		*bc = true;
	else
		next_word(&q, "AD");
	skip_space(&q);
	return *q == '\0' ? DT_OK : DT_BAD_FORMAT;
}

/* Check the field values, as PostgreSQL's ValidateDate and time checks. */
static dt_result
check_fields(dt_fields *f, bool bc)
{
	if (f->year == 0)
		return DT_FIELD_RANGE;
	if (bc)
		f->year = 1 - f->year;
	if (f->month < 1 || f->month > 12 || f->day < 1 ||
		f->day > days_in_month(f->year, f->month))
		return DT_FIELD_RANGE;
	if (f->minute > 59 || f->second > 60 || f->hour > 24 ||
		(f->hour == 24 && (f->minute > 0 || f->second > 0 || f->usec > 0)) ||
		f->usec > USECS_PER_SEC)
		return DT_FIELD_RANGE;
	return DT_OK;
}

/* Parse a date or timestamp's text into fields. */
static dt_result
parse_datetime(const char *s, dt_fields *f)
{
	const char *p = s;
	bool		bc = false;
	dt_result	r;

	memset(f, 0, sizeof(*f));
	skip_space(&p);
	if (next_word(&p, "infinity"))
		f->special = DT_INFINITY;
	else if (next_word(&p, "-infinity"))
		f->special = DT_MINUS_INFINITY;
	else if (next_word(&p, "epoch"))
		f->special = DT_EPOCH;
	if (f->special != DT_FINITE)
	{
		skip_space(&p);
		return *p == '\0' ? DT_OK : DT_BAD_FORMAT;
	}
	if ((r = parse_date_part(&p, f)) != DT_OK ||
		(r = parse_rest(&p, f, &bc)) != DT_OK)
		return r;
	return check_fields(f, bc);
}

/* The message for a parse failure, in PostgreSQL's words. */
static char *
parse_error(dt_result r, const sbt_type *t, const char *s)
{
	if (r == DT_FIELD_RANGE)
		return psprintf("date/time field value out of range: \"%s\"",
						shown(s, strlen(s)));
	if (r == DT_TZ_RANGE)
		return psprintf("time zone displacement out of range: \"%s\"",
						shown(s, strlen(s)));
	return syntax_error(t, s);
}

/* date input. */
char *
date_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	dt_fields	f;
	dt_result	r = parse_datetime(s, &f);
	int32_t		days;

	if (r != DT_OK)
		return parse_error(r, t, s);
	if (f.special != DT_FINITE)
		days = special_days[f.special];
	else
	{
		int64_t		jd = days_from_civil(f.year, f.month, f.day) + EPOCH_JDATE;

		if (jd < 0 || jd >= END_JDATE)
			return psprintf("date out of range: \"%s\"", shown(s, strlen(s)));
		days = (int32_t) (jd - EPOCH_JDATE);
	}
	memcpy(v->image, &days, sizeof(days));
	return NULL;
}

/* Microseconds since 2000-01-01 of finite fields; false if out of range. */
static bool
fields_to_usecs(const dt_fields *f, bool use_zone, int64_t *out)
{
	int64_t		days,
				t;

	/* keep the arithmetic below from overflowing; the check is at the end */
	if (f->year < -4713 || f->year > 5874898)
		return false;
	days = days_from_civil(f->year, f->month, f->day);
	t = days * USECS_PER_DAY +
		((f->hour * INT64_C(60) + f->minute) * 60 + f->second) * USECS_PER_SEC +
		f->usec;
	if (use_zone)
		t -= f->tz * USECS_PER_SEC;
	if (t < MIN_TIMESTAMP || t >= END_TIMESTAMP)
		return false;
	*out = t;
	return true;
}

/* timestamp and timestamptz input. */
char *
timestamp_in(const sbt_type *t, const char *s, size_t len, sbt_value *v)
{
	dt_fields	f;
	dt_result	r = parse_datetime(s, &f);
	int64_t		ts;

	if (r != DT_OK)
		return parse_error(r, t, s);
	if (f.special != DT_FINITE)
		ts = special_usecs[f.special];
	else if (!fields_to_usecs(&f, WITH_ZONE(t), &ts))
		return psprintf("timestamp out of range: \"%s\"", shown(s, strlen(s)));
	memcpy(v->image, &ts, sizeof(ts));
	return NULL;
}

/*
 * date output.  PGTYPESdate_to_asc has no infinities, and would print a
 * date outside PostgreSQL's range, which no valid image holds.
 */
bool
date_out(const sbt_type *t, const unsigned char *image, size_t len,
		 StringInfo out)
{
	int32_t		days;
	char	   *s;

	if (len != sizeof(days))
		return false;
	memcpy(&days, image, sizeof(days));
	if (days == INT32_MAX || days == INT32_MIN)
	{
		appendStringInfoString(out, days == INT32_MAX ? "infinity" : "-infinity");
		return true;
	}
	if (days < -EPOCH_JDATE || days >= END_JDATE - EPOCH_JDATE ||
		(s = PGTYPESdate_to_asc(days)) == NULL)
		return false;
	appendStringInfoString(out, s);
	PGTYPESchar_free(s);
	return true;
}

/*
 * timestamp and timestamptz (in UTC) output.  PGTYPEStimestamp_to_asc
 * keeps at least two digits of a fraction ("00:00:00.50" where the server
 * prints "00:00:00.5") and prints no zone: drop that zero, and add "+00"
 * before any " BC".
 */
bool
timestamp_out(const sbt_type *t, const unsigned char *image, size_t len,
			  StringInfo out)
{
	int64_t		ts;
	char	   *s;
	size_t		n;
	bool		bc;

	if (len != sizeof(ts))
		return false;
	memcpy(&ts, image, sizeof(ts));
	if ((s = PGTYPEStimestamp_to_asc(ts)) == NULL)
		return false;
	n = strlen(s);
	bc = strcmp(s + n - 3, " BC") == 0;
	n -= bc ? 3 : 0;
	if (s[n - 3] == '.' && s[n - 1] == '0')
		n--;
	appendBinaryStringInfo(out, s, n);
	if (WITH_ZONE(t) && ts != INT64_MAX && ts != INT64_MIN)
		appendStringInfoString(out, "+00");
	if (bc)
		appendStringInfoString(out, " BC");
	PGTYPESchar_free(s);
	return true;
}
