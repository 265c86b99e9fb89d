/*-------------------------------------------------------------------------
 *
 * sbcompact.c
 *	  The writer's compact encodings (format 5).
 *
 * Asked to be compact, the writer chooses per column, where it saves at
 * least a third of the column's bytes:
 *
 * - a symbol table for a variable-length column, from the values of the
 *   rows it holds back anyway to size the inline area (sbinline.c).  Like
 *   FSST, a few rounds of greedy compression of the sample count how often
 *   each symbol, and each pair of adjacent symbols, is used; the 255
 *   strings of 1 to 8 bytes that save the most bytes become the next
 *   table.  Every later value is coded with the table as it arrives, so
 *   the heap, the inline area and deduplication see coded payloads.
 * - offsets from the smallest value for by-value integer columns, in the
 *   fewest bytes the column's range needs;
 * - 4-byte references for variable-length columns when the heap is under
 *   2 GiB.
 *
 * The last two depend on every row, so the writer keeps its row slots in
 * their full width in the temporary file and narrows them as it copies
 * them into the bundle at the end.
 *
 *-------------------------------------------------------------------------
 */
#include "sbwriter_int.h"

#include <stdlib.h>

#define SYM_ROUNDS		5		/* rounds of table building */
#define SYM_SAMPLE		((size_t) 256 << 10)	/* sample bytes per column */
#define NTOKENS			(SB_MAX_SYMBOLS + 256)	/* symbols, then literal bytes */
#define NO_CODE			0xFFFF
#define COPY_ROWS		4096	/* slots narrowed per batch */

struct sb_symtab
{
	int			nsym;
	uint8_t		len[SB_MAX_SYMBOLS];
	unsigned char sym[SB_MAX_SYMBOLS][SB_MAX_SYMBOL_LEN];
	/* encoder: the best symbol of at most 2 bytes for each 2-byte prefix
	 * and 1-byte one for each byte (code | length << 8), and chains of the
	 * longer symbols of each 2-byte prefix, longest first */
	uint16_t	best2[65536];
	uint16_t	best1[256];
	int16_t		head[65536];
	int16_t		next[SB_MAX_SYMBOLS];
};

/* A candidate symbol while a table is built. */
typedef struct sym_cand
{
	unsigned char bytes[SB_MAX_SYMBOL_LEN];
	uint8_t		len;
	uint64_t	gain;
} sym_cand;

/* Set up the per-column state: which columns may be offsets. */
sb_status
sb_compact_init(sb_writer *w, sb_error *err)
{
	if (!w->compact)
		return SB_OK;
	w->enc = calloc(w->ncols, sizeof(sb_colenc));
	if (w->enc == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate encodings");
	for (int i = 0; i < w->ncols; i++)
	{
		const sb_column *c = &w->cols[i];

		w->enc[i].offset_ok = c->typbyval &&
			(c->typlen == 2 || c->typlen == 4 || c->typlen == 8) &&
			w->slot_offsets[i] != SB_NOT_STORED &&
			(c->key_kind == SB_KEY_NONE || c->key_kind == SB_KEY_INTEGER);
	}
	return SB_OK;
}

/* Index a table's symbols for encoding. */
static void
symtab_index(sb_symtab *t)
{
	memset(t->best2, 0xFF, sizeof(t->best2));
	memset(t->best1, 0xFF, sizeof(t->best1));
	memset(t->head, 0xFF, sizeof(t->head));
	for (int c = 0; c < t->nsym; c++)
		if (t->len[c] == 1)
			t->best1[t->sym[c][0]] = (uint16_t) (c | 1 << 8);
	for (unsigned p = 0; p < 65536; p++)
		t->best2[p] = t->best1[p & 0xFF];
	for (int c = 0; c < t->nsym; c++)
	{
		unsigned	p;

		if (t->len[c] < 2)
			continue;
		p = t->sym[c][0] | t->sym[c][1] << 8;
		if (t->len[c] == 2)
		{
			t->best2[p] = (uint16_t) (c | 2 << 8);
			continue;
		}
		/* insert, longest first */
		{
			int16_t    *at = &t->head[p];

			while (*at >= 0 && t->len[*at] >= t->len[c])
				at = &t->next[*at];
			t->next[c] = *at;
			*at = (int16_t) c;
		}
	}
}

/*
 * The longest symbol at in[0..len): its code and length, or NO_CODE for
 * a byte to escape.
 */
static inline unsigned
symtab_match(const sb_symtab *t, const unsigned char *in, size_t len,
			 unsigned *mlen)
{
	unsigned	v;

	if (len >= 2)
	{
		unsigned	p = in[0] | in[1] << 8;

		for (int c = t->head[p]; c >= 0; c = t->next[c])
			if (t->len[c] <= len && memcmp(t->sym[c], in, t->len[c]) == 0)
			{
				*mlen = t->len[c];
				return (unsigned) c;
			}
		v = t->best2[p];
	}
	else
		v = t->best1[in[0]];
	if (v == NO_CODE)
	{
		*mlen = 1;
		return NO_CODE;
	}
	*mlen = v >> 8;
	return v & 0xFF;
}

/* Encode with a table into 'out' (room for 2 × len); returns the length. */
size_t
sb_symtab_encode(const sb_symtab *t, const unsigned char *in, size_t len,
				 unsigned char *out)
{
	size_t		n = 0;

	for (size_t i = 0; i < len;)
	{
		unsigned	l,
					c = symtab_match(t, in + i, len - i, &l);

		if (c == NO_CODE)
		{
			out[n++] = SB_SYMBOL_ESCAPE;
			out[n++] = in[i];
		}
		else
			out[n++] = (unsigned char) c;
		i += l;
	}
	return n;
}

/*
 * The encoder of an open bundle's symbol-coded column (sbmerge.c), or NULL
 * when out of memory; free() it.
 */
sb_symtab *
sb_symtab_load(const sb_encoding *e)
{
	sb_symtab  *t = calloc(1, sizeof(sb_symtab));

	if (t == NULL)
		return NULL;
	t->nsym = e->nsymbols;
	for (int c = 0; c < t->nsym; c++)
	{
		t->len[c] = e->symbol_lens[c];
		memcpy(t->sym[c], e->symbols + (size_t) c * SB_MAX_SYMBOL_LEN, t->len[c]);
	}
	symtab_index(t);
	return t;
}

/* Length the encoding of in[0..len) would have. */
static size_t
symtab_encoded_len(const sb_symtab *t, const unsigned char *in, size_t len)
{
	size_t		n = 0;

	for (size_t i = 0; i < len;)
	{
		unsigned	l,
					c = symtab_match(t, in + i, len - i, &l);

		n += c == NO_CODE ? 2 : 1;
		i += l;
	}
	return n;
}

/* qsort: candidates by length and bytes, to merge equal ones. */
static int
cand_bytes_cmp(const void *a, const void *b)
{
	const sym_cand *x = a,
			   *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->bytes, y->bytes, x->len);
}

/* qsort: candidates by gain, largest first, then by bytes. */
static int
cand_gain_cmp(const void *a, const void *b)
{
	const sym_cand *x = a,
			   *y = b;

	if (x->gain != y->gain)
		return x->gain > y->gain ? -1 : 1;
	return cand_bytes_cmp(a, b);
}

/* A token's bytes: a symbol of the table, or a literal byte. */
static const unsigned char *
token_bytes(const sb_symtab *t, unsigned tok, unsigned char *lit, unsigned *len)
{
	if (tok < SB_MAX_SYMBOLS)
	{
		*len = t->len[tok];
		return t->sym[tok];
	}
	*lit = (unsigned char) (tok - SB_MAX_SYMBOLS);
	*len = 1;
	return lit;
}

/*
 * One round of table building: compress the sample with the table, count
 * the tokens and adjacent pairs it uses, and make the strings that save
 * the most bytes the new table.
 */
static bool
symtab_round(sb_symtab *t, const unsigned char *const *vals,
			 const size_t *lens, size_t nvals, uint32_t *count1,
			 uint32_t *count2)
{
	size_t		ncand = 0,
				cap = 4096;
	sym_cand   *cand = malloc(cap * sizeof(sym_cand));
	sb_symtab	old;

	if (cand == NULL)
		return false;
	memset(count1, 0, NTOKENS * sizeof(uint32_t));
	memset(count2, 0, (size_t) NTOKENS * NTOKENS * sizeof(uint32_t));
	for (size_t v = 0; v < nvals; v++)
	{
		unsigned	prev = NO_CODE;

		for (size_t i = 0; i < lens[v];)
		{
			unsigned	l,
						c = symtab_match(t, vals[v] + i, lens[v] - i, &l);
			unsigned	tok = c == NO_CODE ? SB_MAX_SYMBOLS + vals[v][i] : c;

			count1[tok]++;
			if (prev != NO_CODE)
				count2[prev * NTOKENS + tok]++;
			prev = tok;
			i += l;
		}
	}
	memcpy(old.len, t->len, sizeof(old.len));
	memcpy(old.sym, t->sym, sizeof(old.sym));
	for (unsigned a = 0; a < NTOKENS; a++)
	{
		unsigned char la;
		unsigned	lena;
		const unsigned char *ba;

		if (count1[a] == 0)
			continue;
		ba = token_bytes(&old, a, &la, &lena);
		/* the token alone, then followed by each token seen after it */
		for (unsigned b = 0; b <= NTOKENS; b++)
		{
			unsigned char lb = 0;
			unsigned	lenb = 0;
			const unsigned char *bb = NULL;
			uint64_t	n = count1[a];
			sym_cand   *k;

			if (b < NTOKENS)
			{
				if ((n = count2[a * NTOKENS + b]) == 0)
					continue;
				bb = token_bytes(&old, b, &lb, &lenb);
				if (lena + lenb > SB_MAX_SYMBOL_LEN)
					continue;
			}
			if (ncand == cap)
			{
				sym_cand   *m = realloc(cand, 2 * cap * sizeof(sym_cand));

				if (m == NULL)
				{
					free(cand);
					return false;
				}
				cand = m;
				cap *= 2;
			}
			k = &cand[ncand++];
			memset(k, 0, sizeof(*k));
			memcpy(k->bytes, ba, lena);
			if (bb)
				memcpy(k->bytes + lena, bb, lenb);
			k->len = (uint8_t) (lena + lenb);
			k->gain = n * k->len;
		}
	}
	/* merge equal strings, then keep the best */
	qsort(cand, ncand, sizeof(sym_cand), cand_bytes_cmp);
	{
		size_t		m = 0;

		for (size_t i = 0; i < ncand; i++)
		{
			if (m > 0 && cand_bytes_cmp(&cand[m - 1], &cand[i]) == 0)
				cand[m - 1].gain += cand[i].gain;
			else
				cand[m++] = cand[i];
		}
		ncand = m;
	}
	qsort(cand, ncand, sizeof(sym_cand), cand_gain_cmp);
	t->nsym = ncand < SB_MAX_SYMBOLS ? (int) ncand : SB_MAX_SYMBOLS;
	for (int c = 0; c < t->nsym; c++)
	{
		memset(t->sym[c], 0, SB_MAX_SYMBOL_LEN);
		memcpy(t->sym[c], cand[c].bytes, cand[c].len);
		t->len[c] = cand[c].len;
	}
	free(cand);
	symtab_index(t);
	return true;
}

/* Build a table for the sampled values of one column. */
static sb_symtab *
symtab_build(const unsigned char *const *vals, const size_t *lens,
			 size_t nvals, sb_error *err)
{
	sb_symtab  *t = calloc(1, sizeof(sb_symtab));
	uint32_t   *count1 = malloc(NTOKENS * sizeof(uint32_t));
	uint32_t   *count2 = malloc((size_t) NTOKENS * NTOKENS * sizeof(uint32_t));
	bool		ok = t && count1 && count2;

	if (ok)
		symtab_index(t);
	for (int r = 0; ok && r < SYM_ROUNDS; r++)
		ok = symtab_round(t, vals, lens, nvals, count1, count2);
	free(count1);
	free(count2);
	if (!ok || t->nsym == 0)
	{
		if (!ok)
			sb_fail(err, SB_ERR_NOMEM, "could not allocate a symbol table");
		free(t);
		return NULL;
	}
	return t;
}

/*
 * The held values of a column, up to SYM_SAMPLE bytes: pointers into the
 * held calls.  Returns their number.
 */
static size_t
sample_values(const sb_writer *w, int col, const unsigned char **vals,
			  size_t *lens, size_t max)
{
	const sb_sample *s = &w->sample;
	size_t		n = 0,
				bytes = 0;

	for (size_t pos = 0; pos < s->len && n < max && bytes < SYM_SAMPLE;)
	{
		uint64_t	rec[2];
		int32_t		op,
					c;

		memcpy(rec, s->buf + pos, sizeof(rec));
		memcpy(&op, s->buf + pos, 4);
		memcpy(&c, s->buf + pos + 4, 4);
		if (op == SB_OP_VARLENA && c == col)
		{
			vals[n] = s->buf + pos + sizeof(rec);
			lens[n] = rec[1] < SYM_SAMPLE - bytes ? rec[1] : SYM_SAMPLE - bytes;
			bytes += lens[n];
			n++;
		}
		pos += sizeof(rec) + sb_align_up(rec[1], 8);
	}
	return n;
}

/*
 * Choose symbol tables for the variable-length columns from the held
 * rows: a column gets one when coding its sampled values saves a third.
 */
sb_status
sb_compact_choose_symbols(sb_writer *w, sb_error *err)
{
	size_t		max = w->sample.rows + 1;
	const unsigned char **vals;
	size_t	   *lens;

	if (!w->compact)
		return SB_OK;
	vals = malloc(max * sizeof(*vals));
	lens = malloc(max * sizeof(*lens));
	if (vals == NULL || lens == NULL)
	{
		free(vals);
		free(lens);
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate the sample");
	}
	for (int c = 0; c < w->ncols; c++)
	{
		const sb_column *col = &w->cols[c];
		size_t		n,
					raw = 0,
					coded = 0;
		sb_symtab  *t;

		if (col->typlen != -1 || w->slot_offsets[c] == SB_NOT_STORED ||
			(col->key_kind != SB_KEY_NONE && col->key_kind != SB_KEY_VARLENA))
			continue;
		n = sample_values(w, c, vals, lens, max);
		if (n == 0)
			continue;
		if ((t = symtab_build(vals, lens, n, err)) == NULL)
		{
			if (err && err->code == SB_ERR_NOMEM)
			{
				free(vals);
				free(lens);
				return SB_ERR_NOMEM;
			}
			continue;
		}
		for (size_t i = 0; i < n; i++)
		{
			raw += lens[i];
			coded += symtab_encoded_len(t, vals[i], lens[i]);
		}
		if (coded * 3 > raw * 2)
		{
			free(t);
			continue;
		}
		w->enc[c].tab = t;
		w->enc[c].kind = SB_ENC_SYMBOLS;
	}
	free(vals);
	free(lens);
	return SB_OK;
}

/* Length a value of column 'col' takes as stored: coded, or as given. */
size_t
sb_compact_encoded_len(sb_writer *w, int col, const void *payload, size_t len)
{
	if (w->enc == NULL || w->enc[col].tab == NULL)
		return len;
	return symtab_encoded_len(w->enc[col].tab, payload, len);
}

/*
 * Code a value of column 'col' if the column has a symbol table: then
 * *payload and *len describe the coded bytes, valid until the next call.
 */
sb_status
sb_compact_encode(sb_writer *w, int col, const void **payload, size_t *len,
				  sb_error *err)
{
	const sb_symtab *t;
	size_t		need;

	if (w->enc == NULL || (t = w->enc[col].tab) == NULL)
		return SB_OK;
	need = 2 * *len + 1;
	if (need > w->enccap)
	{
		unsigned char *p = realloc(w->encbuf, need);

		if (p == NULL)
			return sb_fail(err, SB_ERR_NOMEM, "could not allocate an encoded value");
		w->encbuf = p;
		w->enccap = need;
	}
	*len = sb_symtab_encode(t, *payload, *len, w->encbuf);
	*payload = w->encbuf;
	if (*len > SB_MAX_VALUE_SIZE - 4)
		return sb_fail(err, SB_ERR_LIMIT,
					   "encoded value of %zu bytes in column \"%s\" exceeds the limit of %d bytes",
					   *len, w->cols[col].name, SB_MAX_VALUE_SIZE - 4);
	return SB_OK;
}

/* Note a fixed-length value set, for the range of an offset column. */
void
sb_compact_note_fixed(sb_writer *w, int col, const void *image)
{
	sb_colenc  *e;
	int64_t		v;

	if (w->enc == NULL || !(e = &w->enc[col])->offset_ok)
		return;
	v = sb_load_int(image, w->cols[col].typlen);
	if (!e->seen || v < e->min)
		e->min = v;
	if (!e->seen || v > e->max)
		e->max = v;
	e->seen = true;
}

/* Bytes the unsigned range v needs, at least 1. */
static uint8_t
range_bytes(uint64_t v)
{
	uint8_t		n = 1;

	while (n < 8 && (v >> (8 * n)) != 0)
		n++;
	return n;
}

/*
 * Decide the encodings that depend on every row (offsets, reference
 * widths) and lay the final slot out.  *narrowed is set if any column is
 * encoded or narrowed: then the bundle is written in format 5, with slots
 * narrowed by sb_compact_rows.
 */
sb_status
sb_compact_plan(sb_writer *w, bool *narrowed, sb_error *err)
{
	bool		any = false;
	uint8_t    *widths;
	uint32_t   *offsets;
	uint32_t	row_size,
				end,
				area_start;
	unsigned	area_align = 1;
	uint64_t	heap = sb_sink_size(&w->heap);
	sb_status	st;

	*narrowed = false;
	if (!w->compact)
		return SB_OK;
	for (int i = 0; i < w->ncols; i++)
	{
		const sb_column *c = &w->cols[i];
		sb_colenc  *e = &w->enc[i];

		e->width = c->typlen > 0 ? (uint8_t) c->typlen : 8;
		if (e->offset_ok)
		{
			uint8_t		n = range_bytes((uint64_t) e->max - (uint64_t) e->min);

			if (3 * (c->typlen - n) >= c->typlen)
			{
				e->kind = SB_ENC_OFFSET;
				e->width = n;
			}
		}
		else if (c->typlen == -1 && w->slot_offsets[i] != SB_NOT_STORED &&
				 heap < SB_INLINE_REF4)
			e->width = 4;
		if (w->inline_col[i] && w->slot_offsets[i] != SB_NOT_STORED &&
			sb_typalign_bytes(c->typalign) > area_align)
			area_align = sb_typalign_bytes(c->typalign);
		any = any || e->kind != SB_ENC_NONE ||
			e->width != (c->typlen > 0 ? c->typlen : 8);
		w->encoded_columns += e->kind != SB_ENC_NONE;
	}
	if (!any)
		return SB_OK;

	/* the narrow layout: fields, then the inline area */
	widths = malloc(w->ncols);
	offsets = malloc(w->ncols * sizeof(uint32_t));
	if (widths == NULL || offsets == NULL)
	{
		free(widths);
		free(offsets);
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate the slot layout");
	}
	for (int i = 0; i < w->ncols; i++)
		widths[i] = w->enc[i].width;
	if ((st = sb_schema_layout(w->cols, w->ncols, w->approximate, widths,
							   offsets, &row_size, &end, err)) != SB_OK)
	{
		free(widths);
		free(offsets);
		return st;
	}
	area_start = (uint32_t) sb_align_up(end, area_align);
	if (w->inline_area > 0)
		row_size = (uint32_t) sb_align_up(area_start + w->inline_area, 8);
	w->narrow_offsets = offsets;
	w->narrow_row_size = row_size;
	w->narrow_area = area_start;
	free(widths);
	*narrowed = true;
	return SB_OK;
}

/* Narrow one full-width slot into 'out' (zeroed by the caller). */
static void
narrow_slot(const sb_writer *w, const unsigned char *in, unsigned char *out)
{
	memcpy(out, in, ((size_t) w->ncols + 7) / 8);
	for (int i = 0; i < w->ncols; i++)
	{
		const sb_column *c = &w->cols[i];
		const sb_colenc *e = &w->enc[i];
		const unsigned char *src = in + w->slot_offsets[i];
		unsigned char *dst = out + w->narrow_offsets[i];

		if (w->slot_offsets[i] == SB_NOT_STORED || ((in[i >> 3] >> (i & 7)) & 1))
			continue;
		if (c->typlen > 0)
		{
			if (e->kind == SB_ENC_OFFSET)
				sb_store_width(dst, e->width, (uint64_t) sb_load_int(src, c->typlen) -
							   (uint64_t) w->enc[i].min);
			else
				memcpy(dst, src, c->typlen);
		}
		else
		{
			uint64_t	ref = sb_load64(src);
			bool		inl = (ref & SB_INLINE_REF) != 0;

			if (inl)
				ref = w->narrow_area + ((ref & ~SB_INLINE_REF) - w->fields_size);
			if (e->width == 4)
				sb_store32(dst, (uint32_t) ref | (inl ? SB_INLINE_REF4 : 0));
			else
				sb_store64(dst, ref | (inl ? SB_INLINE_REF : 0));
		}
	}
	if (w->inline_area > 0)
		memcpy(out + w->narrow_area, in + w->fields_size, w->inline_area);
}

/*
 * Copy the rows from the temporary file into the bundle at 'offset',
 * narrowed; 'rows' is set up here (with checksums) and left to the
 * caller.
 */
sb_status
sb_compact_rows(sb_writer *w, uint64_t offset, sb_sink *rows, sb_error *err)
{
	size_t		wide = w->row_size,
				narrow = w->narrow_row_size;
	unsigned char *in = malloc(wide * COPY_ROWS);
	unsigned char *out = malloc(narrow);
	sb_status	st;

	if (in == NULL || out == NULL)
	{
		free(in);
		free(out);
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate row buffers");
	}
	if ((st = sb_sink_flush(&w->rows, err)) != SB_OK ||
		(st = sb_sink_init(rows, w->fd, offset, 1 << 20, true, err)) != SB_OK ||
		(st = sb_sink_track_blocks(rows, err)) != SB_OK)
		goto done;
	for (uint64_t r = 0; r < w->nrows;)
	{
		uint64_t	n = w->nrows - r < COPY_ROWS ? w->nrows - r : COPY_ROWS;

		if ((st = sb_pread_all(w->temp_fd, in, n * wide, r * wide, err)) != SB_OK)
			goto done;
		for (uint64_t i = 0; i < n; i++)
		{
			memset(out, 0, narrow);
			narrow_slot(w, in + i * wide, out);
			if ((st = sb_sink_write(rows, out, narrow, err)) != SB_OK)
				goto done;
		}
		r += n;
	}
	st = sb_sink_flush(rows, err);
done:
	free(in);
	free(out);
	return st;
}

/*
 * Serialize the encodings section: a record per column, then the symbol
 * tables (each its symbols' lengths, then their bytes).
 */
sb_status
sb_compact_section(sb_writer *w, unsigned char **sec, size_t *len,
				   sb_error *err)
{
	size_t		n = (size_t) w->ncols * SB_ENCREC_SIZE,
				pos;
	unsigned char *p;

	for (int i = 0; i < w->ncols; i++)
		if (w->enc[i].tab)
			n += SB_MAX_SYMBOLS * (1 + SB_MAX_SYMBOL_LEN);
	if ((p = calloc(1, n)) == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate the encodings");
	pos = (size_t) w->ncols * SB_ENCREC_SIZE;
	for (int i = 0; i < w->ncols; i++)
	{
		unsigned char *r = p + (size_t) i * SB_ENCREC_SIZE;
		const sb_colenc *e = &w->enc[i];

		r[SB_ENC_KIND] = e->kind;
		r[SB_ENC_WIDTH] = e->width;
		if (e->kind == SB_ENC_OFFSET)
			sb_store64(r + SB_ENC_BASE, (uint64_t) e->min);
		if (e->kind == SB_ENC_SYMBOLS)
		{
			const sb_symtab *t = e->tab;

			r[SB_ENC_NSYMBOLS] = (unsigned char) t->nsym;
			sb_store32(r + SB_ENC_TABLE_OFF, (uint32_t) pos);
			memcpy(p + pos, t->len, t->nsym);
			pos += t->nsym;
			for (int c = 0; c < t->nsym; c++)
			{
				memcpy(p + pos, t->sym[c], t->len[c]);
				pos += t->len[c];
			}
		}
	}
	*sec = p;
	*len = pos;
	return SB_OK;
}

/* Free the encodings' state. */
void
sb_compact_free(sb_writer *w)
{
	for (int i = 0; w->enc && i < w->ncols; i++)
		free(w->enc[i].tab);
	free(w->enc);
	free(w->encbuf);
	free(w->narrow_offsets);
}
