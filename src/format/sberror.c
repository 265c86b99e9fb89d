/*-------------------------------------------------------------------------
 *
 * sberror.c
 *	  Status codes of the format library, their names and messages.
 *
 * The extension maps these codes to SQLSTATEs in one place (src/errors.c);
 * the command-line tool prints the message and the detail.
 *
 *-------------------------------------------------------------------------
 */
#include "sbinternal.h"

#include <errno.h>
#include <stdio.h>

/* A status code's symbolic name, e.g. "SB_ERR_CORRUPT". */
const char *
sb_status_name(sb_status code)
{
	switch (code)
	{
		case SB_OK:
			return "SB_OK";
		case SB_ERR_IO:
			return "SB_ERR_IO";
		case SB_ERR_NOMEM:
			return "SB_ERR_NOMEM";
		case SB_ERR_NOT_REGULAR:
			return "SB_ERR_NOT_REGULAR";
		case SB_ERR_TRUNCATED:
			return "SB_ERR_TRUNCATED";
		case SB_ERR_BAD_MAGIC:
			return "SB_ERR_BAD_MAGIC";
		case SB_ERR_BYTE_ORDER:
			return "SB_ERR_BYTE_ORDER";
		case SB_ERR_VERSION:
			return "SB_ERR_VERSION";
		case SB_ERR_CHECKSUM:
			return "SB_ERR_CHECKSUM";
		case SB_ERR_CORRUPT:
			return "SB_ERR_CORRUPT";
		case SB_ERR_UNSUPPORTED:
			return "SB_ERR_UNSUPPORTED";
		case SB_ERR_INVALID:
			return "SB_ERR_INVALID";
		case SB_ERR_LIMIT:
			return "SB_ERR_LIMIT";
		case SB_ERR_STATE:
			return "SB_ERR_STATE";
		case SB_ERR_OBSOLETE:
			return "SB_ERR_OBSOLETE";
	}
	return "SB_ERR_UNKNOWN";
}

/* A status code's message, lower case, as a PostgreSQL primary message. */
const char *
sb_status_message(sb_status code)
{
	switch (code)
	{
		case SB_OK:
			return "success";
		case SB_ERR_IO:
			return "input/output error";
		case SB_ERR_NOMEM:
			return "out of memory";
		case SB_ERR_NOT_REGULAR:
			return "not a regular file";
		case SB_ERR_TRUNCATED:
			return "bundle file is truncated";
		case SB_ERR_BAD_MAGIC:
			return "not a bundle file";
		case SB_ERR_BYTE_ORDER:
			return "bundle file was written with another byte order";
		case SB_ERR_VERSION:
			return "bundle file has an unsupported format version";
		case SB_ERR_CHECKSUM:
			return "bundle file checksum mismatch";
		case SB_ERR_CORRUPT:
			return "bundle file is corrupt";
		case SB_ERR_UNSUPPORTED:
			return "bundle file uses an unsupported feature";
		case SB_ERR_INVALID:
			return "invalid argument";
		case SB_ERR_LIMIT:
			return "limit exceeded";
		case SB_ERR_STATE:
			return "operation not valid in this state";
		case SB_ERR_OBSOLETE:
			return "bundle file has an obsolete format";
	}
	return "unknown error";
}

/* Record a failure with a formatted detail; returns the code. */
sb_status
sb_fail(sb_error *err, sb_status code, const char *fmt,...)
{
	if (err)
	{
		va_list		ap;

		err->code = code;
		err->sys_errno = 0;
		va_start(ap, fmt);
		vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Record a failed system call: errno is kept and named in the detail. */
sb_status
sb_fail_errno(sb_error *err, const char *fmt,...)
{
	int			save_errno = errno;

	if (err)
	{
		va_list		ap;
		size_t		n;

		err->code = save_errno == ENOMEM ? SB_ERR_NOMEM : SB_ERR_IO;
		err->sys_errno = save_errno;
		va_start(ap, fmt);
		vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
		va_end(ap);
		n = strlen(err->detail);
		snprintf(err->detail + n, sizeof(err->detail) - n, ": %s",
				 strerror(save_errno));
	}
	errno = save_errno;
	return save_errno == ENOMEM ? SB_ERR_NOMEM : SB_ERR_IO;
}
