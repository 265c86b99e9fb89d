/*-------------------------------------------------------------------------
 *
 * errors.c
 *	  The one place where format-library errors become PostgreSQL errors.
 *
 * A damaged, truncated or foreign file is data corruption (XX001), and a
 * file in a format since dropped is not in a state to be read (55000):
 * both name the bundle and hint at a rebuild.  Failed system calls get the
 * file-access SQLSTATE of their errno; a path that is not a regular file
 * is a wrong object type.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

/* The format library's detail as a sentence: capitalized, with a period. */
static char *
detail_sentence(const char *detail)
{
	char	   *s = psprintf("%s.", detail);

	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = s[0] - 'a' + 'A';
	return s;
}

/* The primary message for a format-level failure of bundle 'what'. */
static char *
corruption_message(sb_status code, const char *what)
{
	switch (code)
	{
		case SB_ERR_TRUNCATED:
			return psprintf("bundle \"%s\" is truncated", what);
		case SB_ERR_BAD_MAGIC:
			return psprintf("file of bundle \"%s\" is not a bundle file", what);
		case SB_ERR_BYTE_ORDER:
			return psprintf("bundle \"%s\" was written on a machine with another byte order", what);
		case SB_ERR_VERSION:
			return psprintf("bundle \"%s\" has an unsupported format version", what);
		case SB_ERR_CHECKSUM:
			return psprintf("bundle \"%s\" has a checksum mismatch", what);
		case SB_ERR_UNSUPPORTED:
			return psprintf("bundle \"%s\" uses an unsupported format feature", what);
		case SB_ERR_OBSOLETE:
			return psprintf("bundle \"%s\" was written in a format that is no longer read", what);
		default:
			return psprintf("bundle \"%s\" is corrupt", what);
	}
}

/*
 * Raise an ERROR for a failed format-library call on bundle 'what' (its
 * name, or the table that reads a file); 'writing' if it was building.
 */
static void
report(const sb_error *err, const char *what, bool writing)
{
	switch (err->code)
	{
		case SB_ERR_IO:
			errno = err->sys_errno;
			ereport(ERROR,
					(errcode_for_file_access(),
					 writing ?
					 errmsg("could not write bundle \"%s\": %m", what) :
					 errmsg("could not read bundle \"%s\": %m", what),
					 errdetail("%s", detail_sentence(err->detail))));
			break;
		case SB_ERR_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("%s", detail_sentence(err->detail))));
			break;
		case SB_ERR_NOT_REGULAR:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("file of bundle \"%s\" is not a regular file", what),
					 errdetail("%s", detail_sentence(err->detail))));
			break;
		case SB_ERR_INVALID:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid bundle definition for \"%s\"", what),
					 errdetail("%s", detail_sentence(err->detail))));
			break;
		case SB_ERR_LIMIT:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("bundle \"%s\" exceeds a limit", what),
					 errdetail("%s", detail_sentence(err->detail))));
			break;
		case SB_ERR_STATE:
		case SB_OK:
			elog(ERROR, "unexpected bundle library state for \"%s\": %s",
				 what, err->detail);
			break;
		default:
			ereport(ERROR,
					(errcode(err->code == SB_ERR_OBSOLETE ?
							 ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE :
							 ERRCODE_DATA_CORRUPTED),
					 errmsg_internal("%s", corruption_message(err->code, what)),
					 errdetail("%s", detail_sentence(err->detail)),
					 errhint("Rebuild the bundle, for example with sharedbuf_refresh().")));
	}
	pg_unreachable();
}

/* Raise an ERROR for a failure reading bundle 'what'. */
void
SbReportError(const sb_error *err, const char *what)
{
	report(err, what, false);
	pg_unreachable();
}

/* Raise an ERROR for a failure building bundle 'what'. */
void
SbReportBuildError(const sb_error *err, const char *what)
{
	report(err, what, true);
	pg_unreachable();
}
