/*-------------------------------------------------------------------------
 *
 * sbencode.c
 *	  Column encodings of format 5, as a reader sees them.
 *
 * A compact bundle stores some columns in fewer bytes than their datum
 * images (docs/format.md section 19): a by-value integer column as an
 * unsigned offset from the column's smallest value, in the fewest bytes
 * its range needs; a variable-length column's payloads coded with a
 * table of up to 255 symbols of 1 to 8 bytes (code 255 escapes one
 * literal byte), in the spirit of FSST; and variable-length references
 * in 4 bytes instead of 8.  The encodings section describes each column;
 * it is read and checked here at open, its symbol tables copied out of
 * the file.  Decoding checks every code, so a damaged value is an error,
 * never a read or write out of bounds.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <stdlib.h>

/* The width of a column's field when it is not encoded. */
static uint8_t
natural_width(const sb_column *c)
{
	return c->typlen > 0 ? (uint8_t) c->typlen : 8;
}

/* Every column as its datum image, as in files before format 5. */
void
sb_encodings_default(sb_bundle *b)
{
	for (int i = 0; i < b->ncolumns; i++)
	{
		memset(&b->encodings[i], 0, sizeof(sb_encoding));
		b->encodings[i].width = natural_width(&b->columns[i]);
	}
}

/* Check one column's encoding record against its column. */
static sb_status
check_encoding(const sb_column *c, const sb_encoding *e, uint32_t table_off,
			   sb_error *err)
{
	bool		ok = false;

	switch (e->kind)
	{
		case SB_ENC_NONE:
			ok = e->nsymbols == 0 && table_off == 0 && e->base == 0 &&
				(e->width == natural_width(c) || (c->typlen == -1 && e->width == 4));
			break;
		case SB_ENC_OFFSET:
			ok = c->typbyval && (c->typlen == 2 || c->typlen == 4 || c->typlen == 8) &&
				e->width >= 1 && e->width < c->typlen &&
				e->nsymbols == 0 && table_off == 0 &&
				(c->key_kind == SB_KEY_NONE || c->key_kind == SB_KEY_INTEGER);
			break;
		case SB_ENC_SYMBOLS:
			ok = c->typlen == -1 && (e->width == 8 || e->width == 4) &&
				e->nsymbols >= 1 && e->nsymbols <= SB_MAX_SYMBOLS && e->base == 0 &&
				(c->key_kind == SB_KEY_NONE || c->key_kind == SB_KEY_VARLENA);
			break;
		default:
			return sb_fail(err, SB_ERR_UNSUPPORTED,
						   "column \"%s\" has encoding %u, which this reader does not know",
						   c->name, e->kind);
	}
	if (!ok)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "column \"%s\" has an invalid encoding (kind %u, width %u)",
					   c->name, e->kind, e->width);
	return SB_OK;
}

/*
 * Copy a column's symbol table out of the section: nsymbols lengths, then
 * the symbols' bytes.  'dst' has room for 9 bytes per symbol.
 */
static sb_status
copy_symbols(const sb_column *c, sb_encoding *e, const unsigned char *sec,
			 uint64_t len, uint32_t off, unsigned char *dst, sb_error *err)
{
	uint8_t    *lens = dst;
	unsigned char *syms = dst + SB_MAX_SYMBOLS;
	uint64_t	pos;

	if (off > len || e->nsymbols > len - off)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "the symbol table of column \"%s\" lies outside its section", c->name);
	pos = off + e->nsymbols;
	memset(syms, 0, (size_t) SB_MAX_SYMBOLS * SB_MAX_SYMBOL_LEN);
	for (int i = 0; i < e->nsymbols; i++)
	{
		lens[i] = sec[off + i];
		if (lens[i] < 1 || lens[i] > SB_MAX_SYMBOL_LEN || lens[i] > len - pos)
			return sb_fail(err, SB_ERR_CORRUPT,
						   "symbol %d of column \"%s\" is invalid", i, c->name);
		memcpy(syms + (size_t) i * SB_MAX_SYMBOL_LEN, sec + pos, lens[i]);
		pos += lens[i];
	}
	e->symbol_lens = lens;
	e->symbols = syms;
	return SB_OK;
}

/* Bytes a copied symbol table takes: lengths, then 8 bytes per symbol. */
#define TABLE_COPY	(SB_MAX_SYMBOLS * (1 + SB_MAX_SYMBOL_LEN))

/*
 * Read and check the encodings section: a record per column, then the
 * symbol tables the records point at.
 */
sb_status
sb_encodings_read(sb_bundle *b, const unsigned char *sec, uint64_t len,
				  sb_error *err)
{
	int			ntables = 0;
	sb_status	st;

	if ((uint64_t) b->ncolumns * SB_ENCREC_SIZE > len)
		return sb_fail(err, SB_ERR_CORRUPT, "encodings section is too short for %d columns",
					   b->ncolumns);
	for (int i = 0; i < b->ncolumns; i++)
		ntables += sec[(size_t) i * SB_ENCREC_SIZE + SB_ENC_KIND] == SB_ENC_SYMBOLS;
	b->symbols = malloc((size_t) (ntables ? ntables : 1) * TABLE_COPY);
	if (b->symbols == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate symbol tables");
	ntables = 0;
	for (int i = 0; i < b->ncolumns; i++)
	{
		const unsigned char *r = sec + (size_t) i * SB_ENCREC_SIZE;
		sb_encoding *e = &b->encodings[i];
		uint32_t	table_off = sb_load32(r + SB_ENC_TABLE_OFF);

		memset(e, 0, sizeof(*e));
		e->kind = r[SB_ENC_KIND];
		e->width = r[SB_ENC_WIDTH];
		e->nsymbols = r[SB_ENC_NSYMBOLS];
		e->base = (int64_t) sb_load64(r + SB_ENC_BASE);
		if (r[3] != 0)
			return sb_fail(err, SB_ERR_CORRUPT, "encoding record %d has nonzero reserved bytes", i);
		if ((st = check_encoding(&b->columns[i], e, table_off, err)) != SB_OK)
			return st;
		if (e->kind == SB_ENC_SYMBOLS &&
			(st = copy_symbols(&b->columns[i], e, sec, len, table_off,
							   b->symbols + (size_t) ntables++ * TABLE_COPY,
							   err)) != SB_OK)
			return st;
		if (e->kind != SB_ENC_NONE || e->width != natural_width(&b->columns[i]))
			b->encoded = true;
	}
	return SB_OK;
}

/*
 * Size of the payload that coded bytes decode to; false if a code is not
 * in the table or an escape has no byte after it.
 */
bool
sb_symbols_size(const sb_encoding *e, const unsigned char *in, size_t len,
				size_t *out_len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
	{
		unsigned	c = in[i];

		if (c == SB_SYMBOL_ESCAPE)
		{
			if (++i == len)
				return false;
			n++;
		}
		else if (c < e->nsymbols)
			n += e->symbol_lens[c];
		else
			return false;
	}
	*out_len = n;
	return true;
}

/*
 * Decode coded bytes into at most 'cap' bytes of 'out'; returns the bytes
 * written.  Invalid codes end the decoding (sb_symbols_size finds them
 * first).
 */
size_t
sb_symbols_decode(const sb_encoding *e, const unsigned char *in, size_t len,
				  unsigned char *out, size_t cap)
{
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
	{
		unsigned	c = in[i];

		if (c == SB_SYMBOL_ESCAPE)
		{
			if (++i == len || n == cap)
				break;
			out[n++] = in[i];
		}
		else if (c < e->nsymbols)
		{
			size_t		l = e->symbol_lens[c];

			if (cap - n >= SB_MAX_SYMBOL_LEN)
				memcpy(out + n, e->symbols + (size_t) c * SB_MAX_SYMBOL_LEN,
					   SB_MAX_SYMBOL_LEN);
			else if (cap - n >= l)
				memcpy(out + n, e->symbols + (size_t) c * SB_MAX_SYMBOL_LEN, l);
			else
				break;
			n += l;
		}
		else
			break;
	}
	return n;
}

/*
 * Do coded bytes decode to 'probe'?  1 or 0, without decoding them
 * anywhere; -1 for an invalid code.
 */
int
sb_symbols_compare(const sb_encoding *e, const unsigned char *in, size_t len,
				   const unsigned char *probe, size_t plen)
{
	size_t		n = 0;

	for (size_t i = 0; i < len; i++)
	{
		unsigned	c = in[i];

		if (c == SB_SYMBOL_ESCAPE)
		{
			if (++i == len)
				return -1;
			if (n == plen || probe[n] != in[i])
				return 0;
			n++;
		}
		else if (c < e->nsymbols)
		{
			size_t		l = e->symbol_lens[c];

			if (plen - n < l ||
				memcmp(probe + n, e->symbols + (size_t) c * SB_MAX_SYMBOL_LEN, l) != 0)
				return 0;
			n += l;
		}
		else
			return -1;
	}
	return n == plen;
}

/* Header size of a column's decoded image of a payload of n bytes. */
static size_t
decoded_header(const sb_column *c, size_t n)
{
	return (c->flags & SB_COLF_SHORT_VARLENA) && n + 1 <= 127 ? 1 : 4;
}

/* The size of the datum image an encoded value decodes to. */
sb_status
sb_value_decoded_size(const sb_bundle *b, int col, const sb_value *v,
					  size_t *size, sb_error *err)
{
	size_t		hl = sb_varlena_header_size(v->ptr),
				n;

	if (!v->encoded)
	{
		*size = v->len;
		return SB_OK;
	}
	if (!sb_symbols_size(&b->encodings[col], v->ptr + hl, v->len - hl, &n) ||
		n > SB_MAX_VALUE_SIZE - 4)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "column \"%s\" holds an invalid encoded value",
					   b->columns[col].name);
	*size = decoded_header(&b->columns[col], n) + n;
	return SB_OK;
}

/*
 * Write the datum image of an encoded value, of the size
 * sb_value_decoded_size gave: its header, then the decoded payload.
 * Should the file have changed since, what does not decode is zero.
 */
void
sb_value_decode(const sb_bundle *b, int col, const sb_value *v,
				unsigned char *out, size_t size)
{
	const sb_column *c = &b->columns[col];
	size_t		hl = sb_varlena_header_size(v->ptr),
				ohl,
				n;

	if (!v->encoded)
	{
		memcpy(out, v->ptr, v->len < size ? v->len : size);
		return;
	}
	ohl = size <= 127 && (c->flags & SB_COLF_SHORT_VARLENA) ? 1 : 4;
	if (size < ohl)
	{
		memset(out, 0, size);
		return;
	}
	sb_varlena_make_header(out, size - ohl, ohl == 1);
	n = sb_symbols_decode(&b->encodings[col], v->ptr + hl, v->len - hl,
						  out + ohl, size - ohl);
	memset(out + ohl + n, 0, size - ohl - n);
}

/* Decode a value, if encoded, into a buffer grown with realloc. */
sb_status
sb_value_materialize(const sb_bundle *b, int col, sb_value *v,
					 unsigned char **buf, size_t *cap, sb_error *err)
{
	size_t		size;
	sb_status	st;

	if (!v->encoded)
		return SB_OK;
	if ((st = sb_value_decoded_size(b, col, v, &size, err)) != SB_OK)
		return st;
	if (size + SB_MAX_SYMBOL_LEN > *cap)
	{
		unsigned char *p = realloc(*buf, size + SB_MAX_SYMBOL_LEN);

		if (p == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate a decoded value");
		*buf = p;
		*cap = size + SB_MAX_SYMBOL_LEN;
	}
	sb_value_decode(b, col, v, *buf, size);
	v->ptr = *buf;
	v->len = size;
	v->encoded = false;
	return SB_OK;
}

/*
 * The key part a key column of a row slot holds, decoded if need be into
 * a buffer grown with realloc.
 */
sb_status
sb_slot_key_part(sb_bundle *b, const unsigned char *slot, int col,
				 const sb_keycol *kc, sb_value *v, sb_key_part *part,
				 unsigned char **buf, size_t *cap, sb_error *err)
{
	sb_status	st;

	if ((st = sb_slot_value(b, slot, col, v, err)) != SB_OK ||
		(st = sb_value_materialize(b, col, v, buf, cap, err)) != SB_OK)
		return st;
	if (!sb_key_part_from_image(kc, v->ptr, v->len, part))
		return sb_fail(err, SB_ERR_CORRUPT, "key column \"%s\" holds an invalid value",
					   b->columns[col].name);
	return SB_OK;
}
