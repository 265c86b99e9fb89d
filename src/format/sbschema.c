/*-------------------------------------------------------------------------
 *
 * sbschema.c
 *	  Column validation and the layout of fields in a row slot.
 *
 * A row slot starts with a NULL bitmap (bit c of byte c/8 set when column
 * c is NULL), followed by one field per stored column: a fixed-length
 * datum image, or an 8-byte offset into the value heap for a
 * variable-length one.  Narrow fields first fill the space between the
 * bitmap and the next 8-byte boundary; the rest follow in order of
 * decreasing alignment, which keeps padding between them small.  Each
 * field sits at an offset that satisfies its typalign; the slot width is
 * a multiple of 8.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

/*
 * Bytes a column's field takes in a slot: its datum image or an 8-byte
 * reference, unless 'widths' gives a narrower field (format 5).
 */
static uint32_t
field_width(const sb_column *c, const uint8_t *widths, int i)
{
	if (widths)
		return widths[i];
	return c->typlen > 0 ? (uint32_t) c->typlen : 8;
}

/* Alignment of a column's field in a slot: 1 for a narrowed field. */
static unsigned
field_align(const sb_column *c, const uint8_t *widths, int i)
{
	if (widths && widths[i] != field_width(c, NULL, i))
		return 1;
	return c->typlen > 0 ? sb_typalign_bytes(c->typalign) : 8;
}

/* Check one column definition for consistency; ncols is for messages. */
sb_status
sb_schema_check_column(const sb_column *c, int ncols, sb_error *err)
{
	const char *name = c->name ? c->name : "?";

	(void) ncols;
	if (c->typlen == 0 || c->typlen < -1)
		return sb_fail(err, SB_ERR_INVALID,
					   "column \"%s\" has invalid length %d", name, c->typlen);
	if (sb_typalign_bytes(c->typalign) == 0)
		return sb_fail(err, SB_ERR_INVALID,
					   "column \"%s\" has invalid alignment code %d",
					   name, c->typalign);
	if (c->typbyval && c->typlen != 1 && c->typlen != 2 &&
		c->typlen != 4 && c->typlen != 8)
		return sb_fail(err, SB_ERR_INVALID,
					   "column \"%s\" is passed by value but has length %d",
					   name, c->typlen);
	if (c->storage > SB_STORAGE_BINARY ||
		(c->storage == SB_STORAGE_BINARY && c->typlen != -1))
		return sb_fail(err, SB_ERR_INVALID,
					   "column \"%s\" has invalid storage %u", name, c->storage);
	if ((c->flags & ~SB_COLF_SHORT_VARLENA) != 0 ||
		((c->flags & SB_COLF_SHORT_VARLENA) && c->typlen != -1))
		return sb_fail(err, SB_ERR_INVALID,
					   "column \"%s\" has invalid flags 0x%x", name, c->flags);
	if ((c->key_kind == SB_KEY_NONE) != (c->key_position == 0))
		return sb_fail(err, SB_ERR_INVALID,
					   "column \"%s\" has inconsistent key settings", name);
	switch (c->key_kind)
	{
		case SB_KEY_NONE:
			return SB_OK;
		case SB_KEY_BYTES:
			if (c->typlen > 0)
				return SB_OK;
			break;
		case SB_KEY_INTEGER:
			if (c->typbyval && (c->typlen == 2 || c->typlen == 4 ||
								c->typlen == 8))
				return SB_OK;
			break;
		case SB_KEY_FLOAT:
			if (c->typlen == 4 || c->typlen == 8)
				return SB_OK;
			break;
		case SB_KEY_VARLENA:
		case SB_KEY_BPCHAR:
			if (c->typlen == -1)
				return SB_OK;
			break;
		case SB_KEY_HASHED:
			return SB_OK;		/* any type: the caller hashes the values */
	}
	return sb_fail(err, SB_ERR_INVALID,
				   "column \"%s\" cannot be a key of kind %u", name,
				   c->key_kind);
}

#define SB_UNPLACED		(UINT32_MAX - 1)	/* slot offset during layout */

/*
 * Place the not yet placed columns of one field alignment from *off on,
 * in column order.  With a nonzero 'limit', only those that end by it.
 */
static void
place_columns(const sb_column *cols, int ncols, const uint8_t *widths,
			  uint32_t *offsets, unsigned align, uint64_t limit, uint64_t *off)
{
	for (int i = 0; i < ncols; i++)
	{
		const sb_column *c = &cols[i];
		uint64_t	at = sb_align_up(*off, align);

		if (offsets[i] != SB_UNPLACED || field_align(c, widths, i) != align)
			continue;
		if (limit != 0 && at + field_width(c, widths, i) > limit)
			continue;
		offsets[i] = (uint32_t) at;
		*off = at + field_width(c, widths, i);
	}
}

/*
 * Assign slot offsets to the columns (in 'offsets') and compute the slot
 * width: first fill the gap between the NULL bitmap and the next 8-byte
 * boundary with narrow fields, then place the rest by decreasing
 * alignment (format.md 6.3).  With 'approximate', key columns are not
 * stored at all.  'widths', if not NULL, gives each column's field width
 * (format.md 19.4); *fields_end, if not NULL, gets the end of the last
 * field before the slot is rounded up to 8 bytes.
 */
static uint64_t place_all(const sb_column *cols, int ncols, bool approximate,
						  const uint8_t *widths, uint32_t *offsets,
						  bool narrow_first);

sb_status
sb_schema_layout(const sb_column *cols, int ncols, bool approximate,
				 const uint8_t *widths, uint32_t *offsets, uint32_t *row_size,
				 uint32_t *fields_end, sb_error *err)
{
	uint64_t	end = place_all(cols, ncols, approximate, widths, offsets, false),
				off;

	/*
	 * With narrowed fields (alignment 1), filling the gap with them first
	 * may leave less padding: keep whichever order ends first.
	 */
	if (widths &&
		place_all(cols, ncols, approximate, widths, offsets, true) > end)
		end = place_all(cols, ncols, approximate, widths, offsets, false);
	else if (widths)
		end = place_all(cols, ncols, approximate, widths, offsets, true);
	off = sb_align_up(end, 8);
	if (off > UINT32_MAX / 2)
		return sb_fail(err, SB_ERR_LIMIT, "row slot of %llu bytes is too wide",
					   (unsigned long long) off);
	*row_size = (uint32_t) off;
	if (fields_end)
		*fields_end = (uint32_t) end;
	return SB_OK;
}

/*
 * Place every stored column: the gap after the bitmap first, by
 * alignments 4, 2, 1 (or 1, 2, 4 with 'narrow_first'), then the rest by
 * decreasing alignment.  Returns the end of the last field.
 */
static uint64_t
place_all(const sb_column *cols, int ncols, bool approximate,
		  const uint8_t *widths, uint32_t *offsets, bool narrow_first)
{
	uint64_t	off = ((uint64_t) ncols + 7) / 8;
	uint64_t	gap_end = sb_align_up(off, 8);
	uint64_t	end = 0;

	for (int i = 0; i < ncols; i++)
		offsets[i] = approximate && cols[i].key_position != 0 ?
			SB_NOT_STORED : SB_UNPLACED;
	for (unsigned k = 0; k < 3; k++)
		place_columns(cols, ncols, widths, offsets,
					  narrow_first ? 1u << k : 4u >> k, gap_end, &off);
	end = off;
	off = gap_end;
	for (unsigned align = 8; align >= 1; align /= 2)
		place_columns(cols, ncols, widths, offsets, align, 0, &off);
	if (off > gap_end || end > gap_end)
		end = off;
	return end;
}
