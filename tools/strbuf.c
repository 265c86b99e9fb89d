/*-------------------------------------------------------------------------
 *
 * strbuf.c
 *	  A growable byte string, always NUL-terminated.
 *
 * Allocation failures end the program (see xrealloc), so callers need not
 * check for them.
 *
 *-------------------------------------------------------------------------
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Set up an empty string. */
void
strbuf_init(strbuf *b)
{
	b->cap = 64;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
}

/* Empty the string, keeping its memory. */
void
strbuf_reset(strbuf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

/* Make room for 'more' bytes and the terminating NUL. */
void
strbuf_reserve(strbuf *b, size_t more)
{
	size_t		need = b->len + more + 1;

	if (need < more)
		tool_fatal(EXIT_USAGE, "out of memory");
	if (need <= b->cap)
		return;
	while (b->cap < need)
		b->cap = b->cap * 2 > b->cap ? b->cap * 2 : need;
	b->data = xrealloc(b->data, b->cap);
}

/* Append bytes. */
void
strbuf_append(strbuf *b, const void *data, size_t len)
{
	strbuf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Append one character. */
void
strbuf_appendc(strbuf *b, char c)
{
	strbuf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/* Append a NUL-terminated string. */
void
strbuf_appends(strbuf *b, const char *s)
{
	strbuf_append(b, s, strlen(s));
}

/* Append formatted text. */
void
strbuf_printf(strbuf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= b->cap - b->len)
	{
		strbuf_reserve(b, (size_t) n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t) n;
}

/* Release the memory. */
void
strbuf_free(strbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
