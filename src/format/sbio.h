/*-------------------------------------------------------------------------
 *
 * sbio.h
 *	  Buffered file output, temporary files and raw I/O for the writer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBIO_H
#define SBIO_H

#include "sbinternal.h"

/*
 * A buffered, sequential output stream that starts at a given offset of a
 * file and optionally keeps a running checksum of what it writes.
 */
typedef struct sb_sink
{
	int			fd;
	uint64_t	start;			/* file offset of the first byte */
	uint64_t	flushed;		/* bytes already in the file */
	unsigned char *buf;
	size_t		len;
	size_t		cap;
	sb_checksum_state *ck;		/* or NULL */
	sb_blocksums *blocks;		/* block checksums, or NULL */
} sb_sink;

extern sb_status sb_sink_init(sb_sink *s, int fd, uint64_t start, size_t cap,
							  bool checksum, sb_error *err);
extern sb_status sb_sink_track_blocks(sb_sink *s, sb_error *err);
extern sb_status sb_sink_write(sb_sink *s, const void *data, size_t len,
							   sb_error *err);
extern sb_status sb_sink_pad(sb_sink *s, uint64_t align, sb_error *err);
extern sb_status sb_sink_flush(sb_sink *s, sb_error *err);
extern void sb_sink_free(sb_sink *s);

/* Bytes written so far, flushed or not. */
static inline uint64_t
sb_sink_size(const sb_sink *s)
{
	return s->flushed + s->len;
}

extern sb_status sb_temp_open(const char *dir, int *fd, sb_error *err);
extern sb_status sb_pwrite_all(int fd, const void *buf, size_t len,
							   uint64_t off, sb_error *err);
extern sb_status sb_pread_all(int fd, void *buf, size_t len, uint64_t off,
							  sb_error *err);
extern sb_status sb_copy_fd(int src, uint64_t src_off, int dst,
							uint64_t dst_off, uint64_t len,
							sb_checksum_state *ck, sb_error *err);

#endif							/* SBIO_H */
