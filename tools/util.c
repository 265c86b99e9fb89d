/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Error reporting, exit statuses and memory helpers of sbundle.
 *
 * Messages go to stderr as "sbundle: message", in the style of
 * PostgreSQL's client programs.  A build registers its temporary output
 * file here, so that it is removed however the program ends: by an error
 * exit, a failed allocation or a terminating signal.
 *
 *-------------------------------------------------------------------------
 */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *progname = "sbundle";

static char cleanup_path[PATH_MAX];
static volatile sig_atomic_t cleanup_armed = 0;

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

/* Print a message and exit with the given status. */
void
tool_fatal(int status, const char *fmt,...)
{
	va_list		ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
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

/* malloc that reports failure and exits. */
void *
xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		tool_fatal(EXIT_USAGE, "out of memory");
	return p;
}

/* realloc that reports failure and exits. */
void *
xrealloc(void *p, size_t size)
{
	void	   *q = realloc(p, size ? size : 1);

	if (q == NULL)
		tool_fatal(EXIT_USAGE, "out of memory");
	return q;
}

/* strdup that reports failure and exits. */
char *
xstrdup(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		tool_fatal(EXIT_USAGE, "out of memory");
	return p;
}

/* Remove the registered file, if any; safe in a signal handler. */
static void
cleanup_run(void)
{
	if (cleanup_armed)
	{
		cleanup_armed = 0;
		unlink(cleanup_path);
	}
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
 * at exit() and on SIGINT, SIGTERM, SIGHUP and SIGQUIT.
 */
void
cleanup_register(const char *path)
{
	static bool installed = false;

	if (strlen(path) >= sizeof(cleanup_path))
		tool_fatal(EXIT_USAGE, "file name \"%s\" is too long", path);
	strcpy(cleanup_path, path);
	cleanup_armed = 1;
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
	cleanup_armed = 0;
}
