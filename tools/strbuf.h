/*-------------------------------------------------------------------------
 *
 * strbuf.h
 *	  A growable byte string, always NUL-terminated.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_STRBUF_H
#define SBUNDLE_STRBUF_H

#include <stddef.h>

typedef struct strbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} strbuf;

extern void strbuf_init(strbuf *b);
extern void strbuf_reset(strbuf *b);
extern void strbuf_reserve(strbuf *b, size_t more);
extern void strbuf_append(strbuf *b, const void *data, size_t len);
extern void strbuf_appendc(strbuf *b, char c);
extern void strbuf_appends(strbuf *b, const char *s);
extern void strbuf_printf(strbuf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void strbuf_free(strbuf *b);

#endif							/* SBUNDLE_STRBUF_H */
