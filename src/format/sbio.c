/*-------------------------------------------------------------------------
 *
 * sbio.c
 *	  Buffered file output, temporary files and raw I/O for the writer.
 *
 * Every write goes through pwrite() so that a full disk is an error
 * (ENOSPC) the caller can report, never a signal from a mapped page.
 * Temporary files are unlinked as soon as they exist, so that nothing is
 * left behind if the process dies.
 *
 *-------------------------------------------------------------------------
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sbio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Set up a sink writing at 'start' of 'fd' with a buffer of 'cap' bytes. */
sb_status
sb_sink_init(sb_sink *s, int fd, uint64_t start, size_t cap, bool checksum,
			 sb_error *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->start = start;
	s->cap = cap;
	s->buf = malloc(cap);
	if (s->buf == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate %zu bytes", cap);
	if (checksum && (s->ck = sb_checksum_create()) == NULL)
	{
		free(s->buf);
		s->buf = NULL;
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate checksum state");
	}
	return SB_OK;
}

/* Write out the buffered bytes. */
sb_status
sb_sink_flush(sb_sink *s, sb_error *err)
{
	sb_status	st;

	if (s->len == 0)
		return SB_OK;
	st = sb_pwrite_all(s->fd, s->buf, s->len, s->start + s->flushed, err);
	if (st != SB_OK)
		return st;
	s->flushed += s->len;
	s->len = 0;
	return SB_OK;
}

/* Append bytes; large writes bypass the buffer. */
sb_status
sb_sink_write(sb_sink *s, const void *data, size_t len, sb_error *err)
{
	sb_status	st;

	if (s->ck)
		sb_checksum_update(s->ck, data, len);
	if (s->blocks)
		sb_blocksums_feed(s->blocks, data, len);
	if (s->len + len <= s->cap)
	{
		memcpy(s->buf + s->len, data, len);
		s->len += len;
		return SB_OK;
	}
	if ((st = sb_sink_flush(s, err)) != SB_OK)
		return st;
	if (len <= s->cap)
	{
		memcpy(s->buf, data, len);
		s->len = len;
		return SB_OK;
	}
	st = sb_pwrite_all(s->fd, data, len, s->start + s->flushed, err);
	if (st == SB_OK)
		s->flushed += len;
	return st;
}

/* Append zero bytes up to a multiple of 'align' from the sink's start. */
sb_status
sb_sink_pad(sb_sink *s, uint64_t align, sb_error *err)
{
	static const unsigned char zeros[64];
	uint64_t	n = sb_align_up(sb_sink_size(s), align) - sb_sink_size(s);

	while (n > 0)
	{
		size_t		chunk = n < sizeof(zeros) ? (size_t) n : sizeof(zeros);
		sb_status	st = sb_sink_write(s, zeros, chunk, err);

		if (st != SB_OK)
			return st;
		n -= chunk;
	}
	return SB_OK;
}

/* Also collect block checksums of what the sink writes. */
sb_status
sb_sink_track_blocks(sb_sink *s, sb_error *err)
{
	s->blocks = sb_blocksums_create();
	if (s->blocks == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate block checksums");
	return SB_OK;
}

/* Release a sink's memory (it does not flush). */
void
sb_sink_free(sb_sink *s)
{
	free(s->buf);
	s->buf = NULL;
	if (s->ck)
		sb_checksum_free(s->ck);
	s->ck = NULL;
	sb_blocksums_free(s->blocks);
	s->blocks = NULL;
}

/* Open an anonymous temporary file in 'dir' that vanishes when closed. */
sb_status
sb_temp_open(const char *dir, int *fd, sb_error *err)
{
	char		path[4096];

#ifdef O_TMPFILE
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd >= 0)
		return SB_OK;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return sb_fail_errno(err, "could not create temporary file in \"%s\"",
							 dir);
#endif
	if (snprintf(path, sizeof(path), "%s/.sbtmp.XXXXXX", dir) >=
		(int) sizeof(path))
		return sb_fail(err, SB_ERR_INVALID, "temporary directory name is too long");
	*fd = mkostemp(path, O_CLOEXEC);
	if (*fd < 0)
		return sb_fail_errno(err, "could not create temporary file \"%s\"",
							 path);
	unlink(path);
	return SB_OK;
}

/*
 * The most a single pwrite() writes.  The page cache keeps a file as it
 * was written, and on the machine the benchmarks ran on, lookups over
 * pages written 1 MiB at a time slowed down up to threefold while another
 * process kept memory busy; over pages written 16 KiB at a time they did
 * not (bench/format-analysis.md).  It has costs: builds take about a
 * quarter longer, and a reader's first touches of a refreshed bundle cost
 * more (docs/benchmarks.md, goal (f)); the choice is still open.
 */
#define SB_WRITE_CHUNK	((size_t) 16 << 10)

/* Write all of 'buf' at 'off', in chunks, retrying short writes. */
sb_status
sb_pwrite_all(int fd, const void *buf, size_t len, uint64_t off, sb_error *err)
{
	const unsigned char *p = buf;

	while (len > 0)
	{
		ssize_t		n = pwrite(fd, p, len < SB_WRITE_CHUNK ? len : SB_WRITE_CHUNK,
							   (off_t) off);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return sb_fail_errno(err, "could not write %zu bytes at offset %llu",
								 len, (unsigned long long) off);
		}
		if (n == 0)
		{
			errno = ENOSPC;
			return sb_fail_errno(err, "could not write at offset %llu",
								 (unsigned long long) off);
		}
		p += n;
		len -= (size_t) n;
		off += (uint64_t) n;
	}
	return SB_OK;
}

/* Read exactly 'len' bytes at 'off'. */
sb_status
sb_pread_all(int fd, void *buf, size_t len, uint64_t off, sb_error *err)
{
	unsigned char *p = buf;

	while (len > 0)
	{
		ssize_t		n = pread(fd, p, len, (off_t) off);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return sb_fail_errno(err, "could not read %zu bytes at offset %llu",
								 len, (unsigned long long) off);
		}
		if (n == 0)
			return sb_fail(err, SB_ERR_IO, "unexpected end of file at offset %llu",
						   (unsigned long long) off);
		p += n;
		len -= (size_t) n;
		off += (uint64_t) n;
	}
	return SB_OK;
}

/* Copy 'len' bytes between files, adding them to a checksum if given. */
sb_status
sb_copy_fd(int src, uint64_t src_off, int dst, uint64_t dst_off, uint64_t len,
		   sb_checksum_state *ck, sb_error *err)
{
	size_t		cap = 1 << 20;
	unsigned char *buf = malloc(cap);
	sb_status	st = SB_OK;

	if (buf == NULL)
		return sb_fail(err, SB_ERR_NOMEM, "could not allocate copy buffer");
	while (len > 0 && st == SB_OK)
	{
		size_t		chunk = len < cap ? (size_t) len : cap;

		st = sb_pread_all(src, buf, chunk, src_off, err);
		if (st == SB_OK)
			st = sb_pwrite_all(dst, buf, chunk, dst_off, err);
		if (st == SB_OK && ck)
			sb_checksum_update(ck, buf, chunk);
		src_off += chunk;
		dst_off += chunk;
		len -= chunk;
	}
	free(buf);
	return st;
}
