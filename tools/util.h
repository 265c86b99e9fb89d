/*-------------------------------------------------------------------------
 *
 * util.h
 *	  What the files of sbundle share: the commands, their command-line
 *	  handling, error reporting, exit statuses and clean-up.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_UTIL_H
#define SBUNDLE_UTIL_H

#include "sbformat.h"

/* Exit statuses; "sbundle --help" documents them. */
#define EXIT_OK			0		/* success */
#define EXIT_INVALID	1		/* invalid or corrupt bundle, or bad input data */
#define EXIT_USAGE		2		/* usage, I/O or resource error */

extern const char *progname;

/* The commands: build.c, inspect.c and query.c */
extern int	cmd_build(int argc, char **argv);
extern int	cmd_info(int argc, char **argv);
extern int	cmd_verify(int argc, char **argv);
extern int	cmd_get(int argc, char **argv);
extern int	cmd_dump(int argc, char **argv);

/* sbundle.c */
extern int	parse_arguments(const char *command, void (*usage) (void),
							int argc, char **argv, int min_args, int max_args,
							bool *header, bool *images);
extern int	bad_option(const char *command, int c, int argc, char **argv);
extern int	usage_error(const char *command, const char *msg);
extern int	open_bundle(const char *path, sb_bundle **b);
extern int	finish_output(void);

/* util.c */
extern void tool_error(const char *fmt,...) pg_attribute_printf(1, 2);
extern int	report_bundle_error(const char *path, const sb_error *err);
extern int	status_exit_code(sb_status code);
extern void cleanup_register(const char *path);
extern void cleanup_forget(void);

#endif							/* SBUNDLE_UTIL_H */
