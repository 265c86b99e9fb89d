/*-------------------------------------------------------------------------
 *
 * sbreader.c
 *	  Opening a bundle: mapping it and validating its structure.
 *
 * Everything the reader relies on is checked here, once, and copied out of
 * the mapping: the header (under its checksum), the section table (every
 * offset and length against the file size, no overlaps), the schema (under
 * its checksum, every field inside the row slot).  Later accesses use only
 * the copies and check each heap offset and index entry as they read it,
 * so no bytes in the file, even bytes that change after the open, can
 * make the reader touch memory outside the mapping.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static sb_status validate(sb_bundle *b, sb_error *err);

/* Map a bundle file read-only and validate it. */
sb_status
sb_open(const char *path, sb_bundle **out, sb_error *err)
{
	int			fd;
	sb_status	s;

	*out = NULL;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return sb_fail_errno(err, "could not open file \"%s\"", path);
	s = sb_open_fd(fd, path, out, err);
	close(fd);
	return s;
}

/*
 * Map the bundle file open on 'fd' read-only and validate it; 'path' names
 * it in messages.  The descriptor stays the caller's: the mapping does not
 * need it, so it may be closed at once or kept (to hold a lock on the file).
 */
sb_status
sb_open_fd(int fd, const char *path, sb_bundle **out, sb_error *err)
{
	struct stat st;
	void	   *base;
	sb_status	s;

	*out = NULL;
	if (fstat(fd, &st) != 0)
		return sb_fail_errno(err, "could not stat file \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return sb_fail(err, SB_ERR_NOT_REGULAR, "\"%s\" is not a regular file",
					   path);
	if ((uint64_t) st.st_size < SB_HEADER_FIXED)
		return sb_fail(err, SB_ERR_TRUNCATED,
					   "file \"%s\" has %lld bytes, fewer than a header",
					   path, (long long) st.st_size);
	base = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return sb_fail_errno(err, "could not map file \"%s\"", path);

	/*
	 * Lookups read the file at random.  Say so before validation touches
	 * the header and the metadata at the end of the file: otherwise each
	 * of those first faults reads up to the device's read-ahead around it.
	 */
	(void) madvise(base, (size_t) st.st_size, MADV_RANDOM);
	s = sb_open_memory(base, (size_t) st.st_size, out, err);
	if (s != SB_OK)
	{
		munmap(base, (size_t) st.st_size);
		return s;
	}
	(*out)->mapped = true;
	return SB_OK;
}

/* Validate a bundle image already in memory (the caller keeps it alive). */
sb_status
sb_open_memory(const void *data, size_t size, sb_bundle **out, sb_error *err)
{
	sb_bundle  *b = calloc(1, sizeof(sb_bundle));
	sb_status	s;

	*out = NULL;
	if (b == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate bundle");
	b->base = data;
	b->size = size;
	if ((s = validate(b, err)) != SB_OK)
	{
		free(b->columns);
		free(b->slot_offsets);
		free(b->encodings);
		free(b->symbols);
		free(b->strings);
		free(b->verified);
		free(b);
		return s;
	}
	sb_fill_info(b);
	*out = b;
	return SB_OK;
}

/* Release a bundle and its mapping. */
void
sb_close(sb_bundle *b)
{
	if (b == NULL)
		return;
	if (b->mapped)
		munmap((void *) b->base, b->size);
	free(b->columns);
	free(b->slot_offsets);
	free(b->encodings);
	free(b->symbols);
	free(b->strings);
	free(b->verified);
	free(b);
}

/* Check the magic, byte order, version and checksum; copy the header. */
static sb_status
read_header(sb_bundle *b, unsigned char *hdr, sb_error *err)
{
	uint32_t	bom,
				hsize,
				nsec;
	uint64_t	sum;

	if (memcmp(b->base, SB_MAGIC, SB_MAGIC_LEN) != 0)
		return sb_fail(err, SB_ERR_BAD_MAGIC, "the file does not start with the bundle magic number");
	bom = sb_load32(b->base + SB_HDR_BYTE_ORDER);
	if (bom == __builtin_bswap32(SB_BYTE_ORDER_MARK))
		return sb_fail(err, SB_ERR_BYTE_ORDER, "the file's byte order is the opposite of this machine's");
	if (bom != SB_BYTE_ORDER_MARK)
		return sb_fail(err, SB_ERR_CORRUPT, "invalid byte-order mark 0x%08x", bom);
	b->major = sb_load16(b->base + SB_HDR_MAJOR);
	b->minor = sb_load16(b->base + SB_HDR_MINOR);
	if (b->major >= 1 && b->major <= SB_OBSOLETE_MAJOR)
		return sb_fail(err, SB_ERR_OBSOLETE,
					   "the file has format version %u.%u, whose index is no longer read; rebuild the bundle",
					   b->major, b->minor);
	if (b->major < SB_LINES_MAJOR || b->major > SB_FORMAT_MAJOR)
		return sb_fail(err, SB_ERR_VERSION,
					   "the file has format version %u.%u; this reader reads versions %d.x and %d.x",
					   b->major, b->minor, SB_LINES_MAJOR, SB_FORMAT_MAJOR);
	hsize = sb_load32(b->base + SB_HDR_HEADER_SIZE);
	nsec = sb_load32(b->base + SB_HDR_NSECTIONS);
	if (nsec < 1 || nsec > SB_MAX_SECTIONS ||
		hsize != SB_HEADER_FIXED + nsec * SB_SECTION_ENTRY)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "invalid header size %u for %u sections", hsize, nsec);
	if (hsize > b->size)
		return sb_fail(err, SB_ERR_TRUNCATED,
					   "the file has %llu bytes, fewer than its %u-byte header",
					   (unsigned long long) b->size, hsize);
	memcpy(hdr, b->base, hsize);
	sum = sb_load64(hdr + SB_HDR_CHECKSUM);
	sb_store64(hdr + SB_HDR_CHECKSUM, 0);
	if (sb_checksum(hdr, hsize) != sum)
		return sb_fail(err, SB_ERR_CHECKSUM, "header checksum mismatch");
	b->header_size = hsize;
	b->nsections = (int) nsec;
	return SB_OK;
}

/*
 * Check the index fields: a line index, with fingerprints of 2 bytes (4
 * in an approximate bundle).  The bucketed and sorted index kinds of
 * earlier versions are obsolete.
 */
static sb_status
read_index_fields(const sb_bundle *b, const unsigned char *hdr, sb_error *err)
{
	uint32_t	kind = sb_load32(hdr + SB_HDR_INDEX_KIND);

	if (kind == 1 || kind == 2)
		return sb_fail(err, SB_ERR_OBSOLETE,
					   "the file has the %s index, which is no longer read; rebuild the bundle",
					   kind == 1 ? "bucketed" : "sorted");
	if (kind != SB_INDEX_LINES)
		return sb_fail(err, SB_ERR_UNSUPPORTED, "unknown index kind %u", kind);
	if (hdr[SB_HDR_BUCKET_BITS] != 0 ||
		b->fp_bytes != ((b->flags & SB_BUNDLE_APPROXIMATE) ? 4 : 2) ||
		b->home_lines > UINT32_MAX)
		return sb_fail(err, SB_ERR_CORRUPT, "invalid index parameters %u/%llu",
					   b->fp_bytes, (unsigned long long) b->home_lines);
	return SB_OK;
}

/* Read and check the fixed header fields. */
static sb_status
read_fields(sb_bundle *b, const unsigned char *hdr, sb_error *err)
{
	uint64_t	file_size = sb_load64(hdr + SB_HDR_FILE_SIZE);
	uint32_t	ncols = sb_load32(hdr + SB_HDR_NCOLUMNS),
				nkeys = sb_load32(hdr + SB_HDR_NKEYS);

	if (file_size > b->size)
		return sb_fail(err, SB_ERR_TRUNCATED,
					   "the file has %llu bytes; its header says %llu",
					   (unsigned long long) b->size, (unsigned long long) file_size);
	if (file_size < b->size)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "the file has %llu bytes after its end",
					   (unsigned long long) (b->size - file_size));
	b->row_count = sb_load64(hdr + SB_HDR_ROW_COUNT);
	b->indexed_count = sb_load64(hdr + SB_HDR_INDEXED);
	b->distinct_keys = sb_load64(hdr + SB_HDR_DISTINCT);
	b->max_run = sb_load64(hdr + SB_HDR_MAX_RUN);
	b->row_size = sb_load32(hdr + SB_HDR_ROW_SIZE);
	b->flags = sb_load32(hdr + SB_HDR_FLAGS);
	b->hash_id = sb_load32(hdr + SB_HDR_HASH_ID);
	b->hash_seed = sb_load64(hdr + SB_HDR_HASH_SEED);
	b->fp_bytes = hdr[SB_HDR_FP_BYTES];
	b->home_lines = sb_load64(hdr + SB_HDR_HOME_LINES);
	b->pg_major = sb_load32(hdr + SB_HDR_PG_MAJOR);
	b->build_time = sb_load64(hdr + SB_HDR_BUILD_TIME);
	b->bitmap_bytes = (ncols + 7) / 8;

	if (ncols < 1 || ncols > SB_MAX_COLUMNS || nkeys > SB_MAX_KEY_COLUMNS ||
		nkeys > ncols)
		return sb_fail(err, SB_ERR_CORRUPT, "invalid column count %u or key count %u",
					   ncols, nkeys);
	b->ncolumns = (int) ncols;
	b->nkeys = (int) nkeys;
	if ((b->flags & ~SB_BUNDLE_APPROXIMATE) != 0)
		return sb_fail(err, SB_ERR_UNSUPPORTED, "unknown flags 0x%x", b->flags);
	if (b->hash_id != SB_HASH_XXH3)
		return sb_fail(err, SB_ERR_UNSUPPORTED, "unknown hash function %u", b->hash_id);
	if (hdr[SB_HDR_MAXALIGN] != 8)
		return sb_fail(err, SB_ERR_UNSUPPORTED, "unsupported maximum alignment %u",
					   hdr[SB_HDR_MAXALIGN]);
	if (b->row_size < b->bitmap_bytes || b->row_size % 8 != 0 ||
		b->row_size > UINT32_MAX / 2)
		return sb_fail(err, SB_ERR_CORRUPT, "invalid row size %u", b->row_size);
	if (b->indexed_count > b->row_count || b->row_count > SB_MAX_ROWS ||
		((b->flags & SB_BUNDLE_APPROXIMATE) && nkeys == 0))
		return sb_fail(err, SB_ERR_CORRUPT, "invalid row count %llu or index count %llu",
					   (unsigned long long) b->row_count,
					   (unsigned long long) b->indexed_count);
	return read_index_fields(b, hdr, err);
}

/*
 * Is a section kind one this reader knows?  Kind 5, the directory of the
 * bucketed index, is not one any more.  Kind 8, the encodings, is read
 * with the schema.
 */
static bool
known_kind(uint32_t kind)
{
	return kind >= SB_SECTION_SCHEMA && kind <= SB_SECTION_ENCODINGS && kind != 5;
}

/* Record a section from the table, checking its place in the file. */
static sb_status
read_section(sb_bundle *b, const unsigned char *e, int i, sb_error *err)
{
	sb_section_info *s = &b->sections[i];

	s->kind = sb_load32(e + SB_SEC_KIND);
	s->flags = sb_load32(e + SB_SEC_FLAGS);
	s->offset = sb_load64(e + SB_SEC_OFFSET);
	s->length = sb_load64(e + SB_SEC_LENGTH);
	s->checksum = sb_load64(e + SB_SEC_CHECKSUM);
	if (s->offset < b->header_size || s->offset % 8 != 0 ||
		s->offset > b->size || s->length > b->size - s->offset)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "section %d (kind %u) at offset %llu with length %llu does not fit in the file",
					   i, s->kind, (unsigned long long) s->offset,
					   (unsigned long long) s->length);
	for (int j = 0; j < i; j++)
	{
		const sb_section_info *o = &b->sections[j];

		if (o->kind == s->kind)
			return sb_fail(err, SB_ERR_CORRUPT, "section kind %u appears twice",
						   s->kind);
		if (s->length > 0 && o->length > 0 &&
			s->offset < o->offset + o->length && o->offset < s->offset + s->length)
			return sb_fail(err, SB_ERR_CORRUPT, "sections %d and %d overlap", j, i);
	}
	if (!known_kind(s->kind))
	{
		if (s->flags & SB_SECF_REQUIRED)
			return sb_fail(err, SB_ERR_UNSUPPORTED,
						   "unknown required section kind %u", s->kind);
		return SB_OK;
	}
	switch (s->kind)
	{
		case SB_SECTION_SCHEMA:
			break;
		case SB_SECTION_META:
			b->meta = b->base + s->offset;
			b->meta_size = s->length;
			break;
		case SB_SECTION_ROWS:
			b->rows = b->base + s->offset;
			break;
		case SB_SECTION_HEAP:
			b->heap = b->base + s->offset;
			b->heap_size = s->length;
			break;
		case SB_SECTION_ENTRIES:
			b->entries = b->base + s->offset;
			b->entries_size = s->length;
			break;
	}
	return SB_OK;
}

/* Find a section by kind, or NULL. */
static const sb_section_info *
find_section(const sb_bundle *b, uint32_t kind)
{
	for (int i = 0; i < b->nsections; i++)
		if (b->sections[i].kind == kind)
			return &b->sections[i];
	return NULL;
}

/*
 * Does the line index's size fit its entries?  Every entry fits in the lines
 * (none when there are none), and the lines past the home lines can be no
 * more than the entries could overflow into.
 */
static bool
line_sizes_valid(const sb_bundle *b)
{
	uint64_t	cap = sb_line_capacity(b->fp_bytes);

	if (b->indexed_count == 0)
		return b->home_lines == 0 && b->nlines == 0;
	return b->home_lines > 0 && b->nlines >= b->home_lines &&
		b->nlines <= b->home_lines + (b->indexed_count + cap - 1) / cap &&
		b->nlines * cap >= b->indexed_count;
}

/* Check that the sections hold what the header promises. */
static sb_status
check_section_sizes(sb_bundle *b, sb_error *err)
{
	const sb_section_info *rows = find_section(b, SB_SECTION_ROWS);
	const sb_section_info *meta = find_section(b, SB_SECTION_META);

	if (!rows || !b->heap || !b->entries || !find_section(b, SB_SECTION_SCHEMA))
		return sb_fail(err, SB_ERR_CORRUPT, "a required section is missing");
	if (rows->length / b->row_size != b->row_count ||
		rows->length % b->row_size != 0)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "row section of %llu bytes does not hold %llu rows of %u bytes",
					   (unsigned long long) rows->length,
					   (unsigned long long) b->row_count, b->row_size);
	b->nlines = b->entries_size / SB_LINE_BYTES;
	if (!line_sizes_valid(b) || b->entries_size % SB_LINE_BYTES != 0)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "index sections do not match %llu entries",
					   (unsigned long long) b->indexed_count);
	if (meta && sb_checksum(b->meta, b->meta_size) != meta->checksum)
		return sb_fail(err, SB_ERR_CHECKSUM, "metadata checksum mismatch");
	return SB_OK;
}

/* Copy a name out of the schema section as a NUL-terminated string. */
static sb_status
copy_name(const unsigned char *sec, uint64_t seclen, uint32_t off,
		  uint32_t len, char **pos, const char *end, const char **out,
		  sb_error *err)
{
	if (len > SB_MAX_NAME_LEN || off > seclen || len > seclen - off ||
		memchr(sec + off, 0, len) != NULL || len + 1 > (size_t) (end - *pos))
		return sb_fail(err, SB_ERR_CORRUPT, "invalid name in the schema");
	memcpy(*pos, sec + off, len);
	(*pos)[len] = 0;
	*out = *pos;
	*pos += len + 1;
	return SB_OK;
}

/*
 * Check where a column's field sits in the row slot.  A field narrower
 * than the column's datum image or reference (format 5) may sit at any
 * offset.
 */
static sb_status
check_slot(const sb_bundle *b, const sb_column *c, const sb_encoding *e,
		   uint32_t at, sb_error *err)
{
	/*
	 * A fixed-length field not stored as an offset holds the whole datum
	 * image, whatever its (one-byte) width says: typlen may exceed 255
	 */
	uint32_t	width = c->typlen > 0 && e->kind != SB_ENC_OFFSET ?
		(uint32_t) c->typlen : e->width;
	unsigned	align = c->typlen > 0 ? sb_typalign_bytes(c->typalign) : 8;
	bool		approx = (b->flags & SB_BUNDLE_APPROXIMATE) != 0;

	if (width != (c->typlen > 0 ? (uint32_t) c->typlen : 8))
		align = 1;

	if (at == SB_NOT_STORED)
	{
		if (approx && c->key_position > 0)
			return SB_OK;
		return sb_fail(err, SB_ERR_CORRUPT, "column \"%s\" is not stored", c->name);
	}
	if (approx && c->key_position > 0)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "key column \"%s\" of an approximate bundle is stored", c->name);
	if (at < b->bitmap_bytes || at % align != 0 || at > b->row_size ||
		width > b->row_size - at)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "column \"%s\" at slot offset %u does not fit in a %u-byte row",
					   c->name, at, b->row_size);
	return SB_OK;
}

/* Parse one column record of the schema section. */
static sb_status
read_column(sb_bundle *b, const unsigned char *sec, uint64_t seclen, int i,
			char **pos, const char *end, sb_error *err)
{
	const unsigned char *r = sec + (size_t) i * SB_COLREC_SIZE;
	sb_column  *c = &b->columns[i];
	sb_status	s;

	if ((s = copy_name(sec, seclen, sb_load32(r + SB_COL_NAME_OFF),
					   sb_load32(r + SB_COL_NAME_LEN), pos, end, &c->name,
					   err)) != SB_OK ||
		(s = copy_name(sec, seclen, sb_load32(r + SB_COL_TYPE_OFF),
					   sb_load32(r + SB_COL_TYPE_LEN), pos, end, &c->type_name,
					   err)) != SB_OK)
		return s;
	b->slot_offsets[i] = sb_load32(r + SB_COL_SLOT_OFF);
	c->typmod = (int32_t) sb_load32(r + SB_COL_TYPMOD);
	c->typlen = (int16_t) sb_load16(r + SB_COL_TYPLEN);
	c->typbyval = r[SB_COL_BYVAL] != 0;
	c->typalign = (char) r[SB_COL_ALIGN];
	c->key_position = r[SB_COL_KEYPOS];
	c->key_kind = r[SB_COL_KEYKIND];
	c->storage = r[SB_COL_STORAGE];
	c->flags = r[SB_COL_FLAGS];
	if (r[SB_COL_BYVAL] > 1)
		return sb_fail(err, SB_ERR_CORRUPT, "invalid by-value flag");
	/* a key this reader cannot hash or compare is never trusted */
	if (c->key_kind > SB_KEY_HASHED)
		return sb_fail(err, SB_ERR_UNSUPPORTED,
					   "key column \"%s\" has key kind %u, which this reader does not know",
					   c->name, c->key_kind);
	if (c->key_kind == SB_KEY_HASHED && b->major < SB_HASHED_MAJOR)
		return sb_fail(err, SB_ERR_CORRUPT,
					   "key column \"%s\" is hashed in a file of format version %u",
					   c->name, b->major);
	if (sb_schema_check_column(c, b->ncolumns, err) != SB_OK)
	{
		if (err)
			err->code = SB_ERR_CORRUPT;
		return SB_ERR_CORRUPT;
	}
	if (c->key_position > b->nkeys)
		return sb_fail(err, SB_ERR_CORRUPT, "column \"%s\" has key position %u of %d",
					   c->name, c->key_position, b->nkeys);
	if (c->key_position > 0)
	{
		if (b->key_columns[c->key_position - 1] >= 0)
			return sb_fail(err, SB_ERR_CORRUPT, "key position %u appears twice",
						   c->key_position);
		b->key_columns[c->key_position - 1] = i;
	}
	return SB_OK;
}

/*
 * Read the columns' encodings: from the encodings section, which a file
 * has exactly when its major is 5 or later; then check every field's
 * place in the slot.
 */
static sb_status
read_encodings(sb_bundle *b, sb_error *err)
{
	const sb_section_info *sec = find_section(b, SB_SECTION_ENCODINGS);
	sb_status	s;

	b->encodings = calloc(b->ncolumns, sizeof(sb_encoding));
	if (b->encodings == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate encodings");
	if ((sec != NULL) != (b->major >= SB_COMPACT_MAJOR))
		return sb_fail(err, SB_ERR_CORRUPT,
					   "a file of format version %u %s an encodings section",
					   b->major, sec ? "has" : "lacks");
	if (sec == NULL)
		sb_encodings_default(b);
	else
	{
		if (sb_checksum(b->base + sec->offset, sec->length) != sec->checksum)
			return sb_fail(err, SB_ERR_CHECKSUM, "encodings checksum mismatch");
		if ((s = sb_encodings_read(b, b->base + sec->offset, sec->length,
								   err)) != SB_OK)
			return s;
	}
	for (int i = 0; i < b->ncolumns; i++)
		if ((s = check_slot(b, &b->columns[i], &b->encodings[i],
							b->slot_offsets[i], err)) != SB_OK)
			return s;
	return SB_OK;
}

/*
 * Note when the key is one integer column stored in the row slot, so that
 * lookups can hash and compare it without the general key-part code:
 * where its field is, how wide, and whether it holds an offset from the
 * column's base (format 5) or the value's image.
 */
static void
set_int_key(sb_bundle *b)
{
	int			col = b->key_columns[0];

	b->int_key = -1;
	b->int_key_unique = false;
	if (b->nkeys == 1 && b->columns[col].key_kind == SB_KEY_INTEGER &&
		b->slot_offsets[col] != SB_NOT_STORED)
	{
		b->int_key = col;
		b->int_key_offset = b->slot_offsets[col];
		b->int_key_offset_enc = b->encodings[col].kind == SB_ENC_OFFSET;
		b->int_key_len = b->int_key_offset_enc ? b->encodings[col].width :
			b->columns[col].typlen;
		b->int_key_base = b->int_key_offset_enc ? b->encodings[col].base : 0;
		b->int_key_unique = b->distinct_keys == b->indexed_count &&
			!(b->flags & SB_BUNDLE_APPROXIMATE);
	}
}

/* Parse and check the schema section. */
static sb_status
read_schema(sb_bundle *b, sb_error *err)
{
	const sb_section_info *sec = find_section(b, SB_SECTION_SCHEMA);
	const unsigned char *p = b->base + sec->offset;
	char	   *pos,
			   *end;
	size_t		strsize;
	sb_status	s;

	if ((uint64_t) b->ncolumns * SB_COLREC_SIZE > sec->length)
		return sb_fail(err, SB_ERR_CORRUPT, "schema section is too short for %d columns",
					   b->ncolumns);
	if (sb_checksum(p, sec->length) != sec->checksum)
		return sb_fail(err, SB_ERR_CHECKSUM, "schema checksum mismatch");
	b->columns = calloc(b->ncolumns, sizeof(sb_column));
	b->slot_offsets = calloc(b->ncolumns, sizeof(uint32_t));
	/* names are stored with a NUL each, so copies fit in the string area */
	strsize = sec->length - (size_t) b->ncolumns * SB_COLREC_SIZE;
	b->strings = malloc(strsize + 1);
	if (b->columns == NULL || b->slot_offsets == NULL || b->strings == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate schema");
	for (int k = 0; k < SB_MAX_KEY_COLUMNS; k++)
		b->key_columns[k] = -1;
	pos = b->strings;
	end = b->strings + strsize;
	for (int i = 0; i < b->ncolumns; i++)
		if ((s = read_column(b, p, sec->length, i, &pos, end, err)) != SB_OK)
			return s;
	for (int k = 0; k < b->nkeys; k++)
		if (b->key_columns[k] < 0)
			return sb_fail(err, SB_ERR_CORRUPT, "key position %d has no column", k + 1);
	if ((s = read_encodings(b, err)) != SB_OK)
		return s;
	set_int_key(b);
	return SB_OK;
}

/* Validate everything the reader relies on. */
static sb_status
validate(sb_bundle *b, sb_error *err)
{
	unsigned char hdr[SB_HEADER_FIXED + SB_MAX_SECTIONS * SB_SECTION_ENTRY];
	sb_status	s;

	if (b->size < SB_HEADER_FIXED)
		return sb_fail(err, SB_ERR_TRUNCATED, "the file has %llu bytes, fewer than a header",
					   (unsigned long long) b->size);
	if ((s = read_header(b, hdr, err)) != SB_OK ||
		(s = read_fields(b, hdr, err)) != SB_OK)
		return s;
	for (int i = 0; i < b->nsections; i++)
		if ((s = read_section(b, hdr + SB_HEADER_FIXED + i * SB_SECTION_ENTRY,
							  i, err)) != SB_OK)
			return s;
	if ((s = check_section_sizes(b, err)) != SB_OK ||
		(s = read_schema(b, err)) != SB_OK)
		return s;
	return sb_blocks_open(b, find_section(b, SB_SECTION_BLOCKSUMS),
						  hdr[SB_HDR_BLOCK_SHIFT], err);
}
