/*-------------------------------------------------------------------------
 *
 * csv.c
 *	  Reading and writing CSV exactly as PostgreSQL's COPY (FORMAT csv).
 *
 * Reading follows COPY FROM: a field may be quoted in whole or in parts;
 * inside quotes "" is a quote and delimiters and line breaks are data; an
 * unquoted empty field is NULL and a quoted one the empty string.  The
 * first line break fixes the line-ending style (LF, CRLF or CR) and an
 * unquoted break of another style is an error, as COPY reports it.  A line
 * holding only \. ends the data.  The input must be valid UTF-8 without
 * NUL bytes, as in a UTF8 database; like COPY, the reader checks the bytes
 * as it reads them, with libpgcommon's pg_encoding_verifymbstr().
 *
 * Writing follows COPY TO: a value is quoted only when it must be: when it
 * is empty (which would read back as NULL), contains a delimiter, quote,
 * CR or LF, or, as the only column, is \. (the end-of-data marker).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "csv.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "util.h"

#define INPUT_BUFFER	(256 * 1024)

/* Line-ending styles, as COPY tells them apart. */
typedef enum eol_style
{
	EOL_UNKNOWN,
	EOL_NL,
	EOL_CR,
	EOL_CRNL
} eol_style;

struct csv_reader
{
	FILE	   *fp;
	char	   *name;
	unsigned char *in;			/* input buffer */
	size_t		in_pos;			/* the next byte to parse */
	size_t		in_len;			/* end of the bytes checked as UTF-8 */
	size_t		in_end;			/* end of the bytes read */
	bool		in_eof;
	bool		bad;			/* the bytes at in_len are not UTF-8 */
	bool		done;			/* end of data seen */
	eol_style	eol;
	uint64_t	line;			/* physical line of the next byte */
	uint64_t	rec_line;		/* line where the current record began */
	StringInfoData rec;			/* field bytes, each NUL-terminated */
	size_t	   *starts;			/* field start in rec, or SIZE_MAX: NULL */
	csv_field  *fields;
	int			nfields;
	int			cap;
	char		err[512];
};

/*
 * Start reading CSV from an open stream; 'name' is used in messages.  With
 * fp NULL the caller fills the input buffer itself.
 */
csv_reader *
csv_open(FILE *fp, const char *name)
{
	csv_reader *r = pg_malloc0(sizeof(csv_reader));

	r->fp = fp;
	r->name = pg_strdup(name);
	r->in = pg_malloc(INPUT_BUFFER);
	r->line = 1;
	r->cap = 16;
	r->starts = pg_malloc(r->cap * sizeof(size_t));
	r->fields = pg_malloc(r->cap * sizeof(csv_field));
	initStringInfo(&r->rec);
	return r;
}

/* Release a reader (the stream stays open). */
void
csv_close(csv_reader *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->in);
	free(r->starts);
	free(r->fields);
	pfree(r->rec.data);
	free(r);
}

/*
 * Check the bytes read after in_len: in_len moves past the valid UTF-8,
 * up to a character that the end of the buffer may have cut, unless the
 * input has ended.
 */
static void
check_input(csv_reader *r)
{
	int			rest;

	r->in_len += pg_encoding_verifymbstr(PG_UTF8, (char *) r->in + r->in_len,
										 r->in_end - r->in_len);
	rest = r->in_end - r->in_len;
	r->bad = rest > 0 && (r->in_eof || pg_utf_mblen(r->in + r->in_len) <= rest);
}

/*
 * Make 'want' (at most 4) checked bytes available at in_pos, reading more
 * input if need be; returns how many there are, fewer only at the end of
 * the input or before bytes that are not UTF-8.
 */
static size_t
fill(csv_reader *r, size_t want)
{
	while (r->in_len - r->in_pos < want && !r->in_eof && !r->bad)
	{
		size_t		keep = r->in_end - r->in_pos;
		size_t		n;

		memmove(r->in, r->in + r->in_pos, keep);
		r->in_len -= r->in_pos;
		r->in_pos = 0;
		n = fread(r->in + keep, 1, INPUT_BUFFER - keep, r->fp);
		r->in_end = keep + n;
		r->in_eof = n == 0;
		if (n == 0 && ferror(r->fp))
			snprintf(r->err, sizeof(r->err), "could not read file \"%s\": %s",
					 r->name, strerror(errno ? errno : EIO));
		check_input(r);
	}
	return r->in_len - r->in_pos;
}

/* The next input byte without consuming it, or -1 at the end. */
static inline int
peek_byte(csv_reader *r)
{
	return r->in_pos < r->in_len || fill(r, 1) ? r->in[r->in_pos] : -1;
}

/* Consume and return the next input byte, or -1 at the end. */
static inline int
next_byte(csv_reader *r)
{
	return r->in_pos < r->in_len || fill(r, 1) ? r->in[r->in_pos++] : -1;
}

/* Report the bytes that are not UTF-8, as PostgreSQL words it. */
static int
bad_encoding(csv_reader *r)
{
	const unsigned char *p = r->in + r->in_len;
	int			n = Min(pg_utf_mblen(p), (int) (r->in_end - r->in_len));
	size_t		len;

	len = snprintf(r->err, sizeof(r->err),
				   "line %llu: invalid byte sequence for encoding \"UTF8\":",
				   (unsigned long long) r->line);
	for (int i = 0; i < n; i++)
		len += snprintf(r->err + len, sizeof(r->err) - len, " 0x%02x", p[i]);
	return CSV_BAD_DATA;
}

/* Begin a new field of the current record. */
static void
start_field(csv_reader *r)
{
	if (r->nfields == r->cap)
	{
		r->cap *= 2;
		r->starts = pg_realloc(r->starts, r->cap * sizeof(size_t));
		r->fields = pg_realloc(r->fields, r->cap * sizeof(csv_field));
	}
	r->starts[r->nfields] = r->rec.len;
	r->nfields++;
}

/* End the current field; an unquoted empty field is NULL. */
static void
end_field(csv_reader *r, bool saw_quote)
{
	int			f = r->nfields - 1;

	if (!saw_quote && r->rec.len == r->starts[f])
		r->starts[f] = SIZE_MAX;
	else
		appendStringInfoChar(&r->rec, '\0');
}

/* Point the field array into the record buffer, now that it is final. */
static void
finish_record(csv_reader *r)
{
	for (int f = 0; f < r->nfields; f++)
	{
		size_t		s = r->starts[f];

		r->fields[f].data = s == SIZE_MAX ? NULL : r->rec.data + s;
		r->fields[f].len = s == SIZE_MAX ? 0 : strlen(r->rec.data + s);
	}
}

/*
 * An unquoted line break ends the record: check it against the style the
 * first one set, as COPY does.  'c' is the CR or LF just consumed.
 */
static int
line_break(csv_reader *r, int c)
{
	if (c == '\r')
	{
		if (r->eol == EOL_NL)
			goto bad_cr;
		if (peek_byte(r) == '\n')
		{
			if (r->eol == EOL_CR)
				goto bad_nl;
			next_byte(r);
			r->eol = EOL_CRNL;
		}
		else if (r->eol == EOL_CRNL)
			goto bad_cr;
		else
			r->eol = EOL_CR;
	}
	else
	{
		if (r->eol == EOL_CR || r->eol == EOL_CRNL)
			goto bad_nl;
		r->eol = EOL_NL;
	}
	r->line++;
	return CSV_RECORD;

bad_cr:
	snprintf(r->err, sizeof(r->err),
			 "line %llu: unquoted carriage return found in data (use a quoted CSV field to represent carriage return)",
			 (unsigned long long) r->line);
	return CSV_BAD_DATA;
bad_nl:
	snprintf(r->err, sizeof(r->err),
			 "line %llu: unquoted newline found in data (use a quoted CSV field to represent newline)",
			 (unsigned long long) r->line);
	return CSV_BAD_DATA;
}

/*
 * Is the input at an end-of-data marker: \. alone on its line?  Only
 * called at the start of a line; the caller stops reading if so.
 */
static bool
at_end_marker(csv_reader *r)
{
	size_t		avail;
	const unsigned char *p;

	if (peek_byte(r) != '\\')
		return false;
	avail = fill(r, 3);
	p = r->in + r->in_pos;
	if (avail < 2 || p[1] != '.')
		return false;
	return avail > 2 ? p[2] == '\n' || p[2] == '\r' : !r->bad;
}

/* Why the input stopped: bytes not UTF-8, a read error, or its end. */
static int
end_status(csv_reader *r)
{
	if (r->bad && r->in_pos == r->in_len)
		return bad_encoding(r);
	return r->err[0] != '\0' ? CSV_IO_ERROR : CSV_END;
}

/* Scan the bytes of one record into the field buffer. */
static int
scan_record(csv_reader *r)
{
	bool		in_quote = false,
				saw_quote = false;
	int			c,
				st;

	start_field(r);
	while ((c = next_byte(r)) >= 0)
	{
		if (in_quote)
		{
			if (c != '"')
			{
				/* count a line break in quotes, for line numbers */
				if (c == '\n' || (c == '\r' && r->eol == EOL_CR))
					r->line++;
				appendStringInfoChar(&r->rec, (char) c);
			}
			else if (peek_byte(r) == '"')
				appendStringInfoChar(&r->rec, (char) next_byte(r));
			else
				in_quote = false;
		}
		else if (c == ',')
		{
			end_field(r, saw_quote);
			saw_quote = false;
			start_field(r);
		}
		else if (c == '"')
			in_quote = saw_quote = true;
		else if (c == '\n' || c == '\r')
		{
			end_field(r, saw_quote);
			return line_break(r, c);
		}
		else
			appendStringInfoChar(&r->rec, (char) c);
	}
	if ((st = end_status(r)) != CSV_END)
		return st;
	if (in_quote)
	{
		snprintf(r->err, sizeof(r->err), "line %llu: unterminated CSV quoted field",
				 (unsigned long long) r->rec_line);
		return CSV_BAD_DATA;
	}
	end_field(r, saw_quote);
	return CSV_RECORD;
}

/*
 * Read the next record.  Returns CSV_RECORD, CSV_END at the end of the
 * data, or CSV_BAD_DATA or CSV_IO_ERROR with a message in csv_error().
 */
int
csv_read(csv_reader *r)
{
	int			st;

	if (r->done)
		return CSV_END;
	resetStringInfo(&r->rec);
	r->nfields = 0;
	r->rec_line = r->line;
	if (peek_byte(r) < 0 || at_end_marker(r))
	{
		r->done = true;
		return end_status(r);
	}
	st = scan_record(r);
	if (st != CSV_RECORD)
	{
		r->done = true;
		return st;
	}
	finish_record(r);
	return CSV_RECORD;
}

/*
 * The fields of the current record, valid until the next csv_read(), and
 * their number in *n.
 */
const csv_field *
csv_fields(const csv_reader *r, int *n)
{
	*n = r->nfields;
	return r->fields;
}

/* Physical line number where the current record began. */
uint64_t
csv_record_line(const csv_reader *r)
{
	return r->rec_line;
}

/* Message of the last failure. */
const char *
csv_error(const csv_reader *r)
{
	return r->err;
}

/*
 * Read a string holding one CSV record (a command-line key), which becomes
 * the current record of the reader returned; an empty string is one NULL
 * field.  Returns NULL with a message in 'msg' if s is not one record.
 */
csv_reader *
csv_read_string(const char *s, char *msg, size_t msglen)
{
	size_t		len = strlen(s);
	csv_reader *r = csv_open(NULL, "key");
	int			st;

	if (len > INPUT_BUFFER)
		r->in = pg_realloc(r->in, len);
	memcpy(r->in, s, len);
	r->in_end = len;
	r->in_eof = true;
	check_input(r);
	if ((st = csv_read(r)) == CSV_END)
	{
		start_field(r);
		end_field(r, false);
		finish_record(r);
		return r;
	}
	if (st != CSV_RECORD)
		snprintf(msg, msglen, "invalid key \"%s\": %s", s, r->err);
	/* would the next csv_read() find more than the end? */
	else if ((peek_byte(r) >= 0 && !at_end_marker(r)) || end_status(r) != CSV_END)
		snprintf(msg, msglen, "key \"%s\" holds more than one CSV record", s);
	else
		return r;
	csv_close(r);
	return NULL;
}

/* Must COPY TO quote this value? */
static bool
needs_quotes(const char *s, size_t len, bool single_column)
{
	if (len == 0)
		return true;
	if (single_column && len == 2 && s[0] == '\\' && s[1] == '.')
		return true;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			return true;
	return false;
}

/*
 * Write a non-NULL value as COPY TO writes it ('single_column': the row
 * has just this one).  A NULL is written as nothing at all.
 */
void
csv_write_value(FILE *out, const char *s, size_t len, bool single_column)
{
	const char *q;

	if (!needs_quotes(s, len, single_column))
	{
		fwrite(s, 1, len, out);
		return;
	}
	putc('"', out);
	while ((q = memchr(s, '"', len)) != NULL)
	{
		fwrite(s, 1, q - s + 1, out);
		putc('"', out);
		len -= q - s + 1;
		s = q + 1;
	}
	fwrite(s, 1, len, out);
	putc('"', out);
}
