/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Error reporting, exit statuses and clean-up of sbundle.
 *
 * Messages go to stderr as "sbundle: message".  They are not written with
 * pg_log_error(), which would print "sbundle: error: message" and so
 * change every message the tool has always printed.  A build registers
 * its temporary output file here, so that it is removed however the
 * program ends: by an error exit or a terminating signal.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <signal.h>
#include <unistd.h>

#include "util.h"

const char *progname = "sbundle";

static const char *volatile cleanup_file = NULL;

/* Print "sbundle: message" to stderr. */
void
tool_error(const char *fmt,...)
{
	va_list		ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The exit status for a format library failure. */
int
status_exit_code(sb_status code)
{
	switch (code)
	{
		case SB_OK:
			return EXIT_OK;
		case SB_ERR_IO:
		case SB_ERR_NOMEM:
		case SB_ERR_NOT_REGULAR:
		case SB_ERR_INVALID:
		case SB_ERR_STATE:
			return EXIT_USAGE;
		default:
			return EXIT_INVALID;
	}
}

/*
 * Report a format library failure concerning the bundle at 'path' and
 * return the exit status for it.  The detail of a failed system call, or of
 * a file that is not a regular one, already names the file and the cause.
 */
int
report_bundle_error(const char *path, const sb_error *err)
{
	if ((err->sys_errno != 0 || err->code == SB_ERR_NOT_REGULAR) &&
		err->detail[0] != '\0')
		tool_error("%s", err->detail);
	else if (err->detail[0] != '\0')
		tool_error("%s: %s: %s", path, sb_status_message(err->code),
				   err->detail);
	else
		tool_error("%s: %s", path, sb_status_message(err->code));
	return status_exit_code(err->code);
}

/* Remove the registered file, if any; safe in a signal handler. */
static void
cleanup_run(void)
{
	const char *path = cleanup_file;

	cleanup_file = NULL;
	if (path != NULL)
		unlink(path);
}

/* Signal handler: remove the file, then die of the same signal. */
static void
cleanup_signal(int signo)
{
	cleanup_run();
	signal(signo, SIG_DFL);
	raise(signo);
}

/*
 * Register a file to remove if the program ends before cleanup_forget():
 * at exit() and on SIGINT, SIGTERM, SIGHUP and SIGQUIT.  The caller keeps
 * 'path' until then.
 */
void
cleanup_register(const char *path)
{
	static bool installed = false;

	cleanup_file = path;
	if (!installed)
	{
		atexit(cleanup_run);
		signal(SIGINT, cleanup_signal);
		signal(SIGTERM, cleanup_signal);
		signal(SIGHUP, cleanup_signal);
		signal(SIGQUIT, cleanup_signal);
		installed = true;
	}
}

/* The registered file is no longer ours to remove. */
void
cleanup_forget(void)
{
	cleanup_file = NULL;
}
