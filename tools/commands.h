/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  The commands of sbundle, and what they share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBUNDLE_COMMANDS_H
#define SBUNDLE_COMMANDS_H

#include "sbformat.h"

extern int	cmd_build(int argc, char **argv);
extern int	cmd_info(int argc, char **argv);
extern int	cmd_verify(int argc, char **argv);
extern int	cmd_get(int argc, char **argv);
extern int	cmd_dump(int argc, char **argv);

extern int	open_bundle(const char *path, sb_bundle **b);
extern int	bad_option(const char *command, int c, int argc, char **argv);
extern int	finish_output(void);

#endif							/* SBUNDLE_COMMANDS_H */
