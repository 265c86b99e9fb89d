/*-------------------------------------------------------------------------
 *
 * util.h
 *	  Error reporting, exit statuses and clean-up of sbundle.
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

extern void tool_error(const char *fmt,...) pg_attribute_printf(1, 2);
extern int	report_bundle_error(const char *path, const sb_error *err);
extern int	status_exit_code(sb_status code);

extern void cleanup_register(const char *path);
extern void cleanup_forget(void);

#endif							/* SBUNDLE_UTIL_H */
