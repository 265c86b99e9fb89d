/*-------------------------------------------------------------------------
 *
 * sbundle.c
 *	  The bundle command-line tool: command dispatch and shared helpers.
 *
 * sbundle builds bundles from CSV and inspects, verifies and queries them
 * without a server.  Each command is in its own file: build.c, inspect.c
 * (info, verify) and query.c (get, dump).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <getopt.h>

#include "common/logging.h"
#include "util.h"

/* The commands. */
static const struct
{
	const char *name;
	int			(*run) (int argc, char **argv);
	const char *summary;
}			commands[] = {
	{"build", cmd_build, "build a bundle from CSV"},
	{"info", cmd_info, "show a bundle's schema, sizes, index statistics and metadata"},
	{"verify", cmd_verify, "check a bundle completely"},
	{"get", cmd_get, "print the rows matching keys, as CSV"},
	{"dump", cmd_dump, "print all rows, as CSV"},
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/* Print the general help. */
static void
usage(void)
{
	printf("%s builds, inspects, verifies and queries sharedbuf bundle files.\n\n"
		   "Usage:\n"
		   "  %s COMMAND [OPTION]... ARGUMENT...\n\n"
		   "Commands:\n", progname, progname);
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-8s%s\n", commands[i].name, commands[i].summary);
	printf("\nRun \"%s COMMAND --help\" for a command's usage.\n\n"
		   "Options:\n"
		   "  -V, --version  show the version, then exit\n"
		   "  -h, --help     show this help, then exit\n\n"
		   "Exit status:\n"
		   "  0  success\n"
		   "  1  a bundle is invalid or corrupt, or the input data is invalid\n"
		   "  2  usage error, I/O error or lack of resources\n"
		   "Errors are reported on standard error.\n", progname);
}

/*
 * Report a bad option found by getopt_long (opterr off, optstring
 * starting with ':'), given what it returned, and return the usage exit
 * status.
 */
int
bad_option(const char *command, int c, int argc, char **argv)
{
	const char *arg = optind - 1 < argc ? argv[optind - 1] : "";

	if (c == ':')
		tool_error("%s: option \"%s\" requires an argument", command, arg);
	else if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		tool_error("%s: invalid option -- '%c'", command, optopt);
	else
		tool_error("%s: unrecognized option \"%s\"", command, arg);
	return usage_error(command, NULL);
}

/*
 * Report a usage error of a command (NULL: of sbundle itself), unless
 * 'msg' is NULL, point to the help, and return the usage exit status.
 */
int
usage_error(const char *command, const char *msg)
{
	if (msg != NULL)
		tool_error("%s", msg);
	fprintf(stderr, "Try \"%s%s%s --help\" for more information.\n", progname,
			command ? " " : "", command ? command : "");
	return EXIT_USAGE;
}

/*
 * Parse the command line of info, verify, get or dump: --help, and
 * --header and --images if 'header' and 'images' are not NULL; then check
 * that min_args to max_args (0: any number) arguments follow, a file
 * first.  Returns -1 to go on, else an exit status.
 */
int
parse_arguments(const char *command, void (*usage) (void), int argc,
				char **argv, int min_args, int max_args, bool *header,
				bool *images)
{
	static const struct option longopts[] = {
		{"header", no_argument, NULL, 'H'},
		{"images", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c,
				n;

	if (header != NULL)
		*header = *images = false;
	while ((c = getopt_long(argc, argv, ":h", header ? longopts : longopts + 2,
							NULL)) != -1)
	{
		if (c == 'h')
		{
			usage();
			return EXIT_OK;
		}
		if (c != 'H' && c != 'I')
			return bad_option(command, c, argc, argv);
		*(c == 'H' ? header : images) = true;
	}
	n = argc - optind;
	if (n < 1 || n < min_args || (max_args > 0 && n > max_args))
		return usage_error(command, n < 1 ? "no bundle file given" :
						   n < min_args ? "no key given" : "too many arguments");
	return -1;
}

/* Open a bundle, reporting failure; returns an exit status. */
int
open_bundle(const char *path, sb_bundle **b)
{
	sb_error	err;

	memset(&err, 0, sizeof(err));
	if (sb_open(path, b, &err) != SB_OK)
		return report_bundle_error(path, &err);
	return EXIT_OK;
}

/* Flush standard output and report a failed write; an exit status. */
int
finish_output(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		tool_error("could not write to standard output: %s", strerror(errno));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Run the command named by the first argument. */
int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	pg_logging_init(argv[0]);	/* for libpgcommon's own messages */
	opterr = 0;
	if (cmd == NULL)
		return usage_error(NULL, "no command given");
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
		strcmp(cmd, "help") == 0)
	{
		usage();
		return finish_output();
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
	{
		printf("%s (sharedbuf) bundle formats 3.0, 4.0 (a hashed key) and %d.%d (compact encodings), PostgreSQL %d images\n",
			   progname, SB_FORMAT_MAJOR, SB_FORMAT_MINOR, SB_PG_MAJOR);
		return finish_output();
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	tool_error("unknown command \"%s\"", cmd);
	return usage_error(NULL, NULL);
}
