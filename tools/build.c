/*-------------------------------------------------------------------------
 *
 * build.c
 *	  "sbundle build": write a bundle from CSV.
 *
 * The bundle is written to OUT.tmp.<pid>, which the writer fsyncs when it
 * finishes; only then is it renamed to OUT (never replacing a file that
 * appeared meanwhile), and the directory is fsynced.  On any failure, and
 * on SIGINT, SIGTERM, SIGHUP or SIGQUIT, the temporary file is removed,
 * so OUT is either absent or complete.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_utils.h"
#include "csv.h"
#include "schema.h"
#include "types.h"
#include "util.h"

#define DEFAULT_MEMORY_MB	128
#define MAX_MEMORY_MB		(1024 * 1024)

/* What the command line asks for. */
typedef struct build_options
{
	const char *schema;
	char	  **keys;
	int			nkeys;
	char	  **meta;
	int			nmeta;
	bool		header;
	bool		approximate;
	bool		dedup;
	bool		compact;
	bool		verbose;
	size_t		memory;
	uint32_t	inline_limit;
	const char *out;
	const char *in;
} build_options;

/* The state of a build in progress. */
typedef struct build_state
{
	const build_options *opts;
	tool_schema schema;
	sbt_value  *values;			/* one per column */
	char	   *tmp;			/* the temporary output file */
	FILE	   *in;
	csv_reader *csv;
	sb_writer  *writer;
	sb_build_stats stats;
} build_state;

/* Print the help of "sbundle build". */
static void
build_usage(void)
{
	printf("Usage:\n"
		   "  %s build --schema NAME:TYPE,... --key COLUMN [OPTION]... OUT.sb [IN.csv|-]\n\n"
		   "Build a bundle from CSV in the format of PostgreSQL's COPY ... (FORMAT csv):\n"
		   "an unquoted empty field is NULL, a quoted one (\"\") the empty string.\n"
		   "Reads standard input if IN.csv is - or absent.  The bundle is written to\n"
		   "OUT.sb.tmp.PID and renamed to OUT.sb when complete; OUT.sb must not exist.\n\n"
		   "Options:\n"
		   "  --schema NAME:TYPE,...   the columns, in CSV order (required)\n"
		   "  --key COLUMN             a key column; repeat for a composite key, in key\n"
		   "                           order (at least one)\n"
		   "  --header                 the first CSV line is a header; skip it\n"
		   "  --approximate            do not store the key columns; lookups match on the\n"
		   "                           key's hash only\n"
		   "  --no-dedup               store identical values separately\n"
		   "  --no-compact             store every column as its datum images, not in\n"
		   "                           compact encodings where they save a third\n"
		   "  --memory MB              memory for the index sort and dedup (default: %d)\n"
		   "  --inline BYTES           widest area for short values inside each row slot,\n"
		   "                           0 to %d; 0 keeps all values in the heap (default: %d)\n"
		   "  --meta KEY=VALUE         add a build metadata entry; may be repeated\n"
		   "  -v, --verbose            report what was written\n"
		   "  -h, --help               show this help, then exit\n\n"
		   "Types: %s.\n"
		   "Text is UTF-8; date and time values are ISO 8601 as PostgreSQL prints them\n"
		   "with DateStyle ISO; a timestamptz without a zone is taken to be UTC.\n",
		   progname, DEFAULT_MEMORY_MB, SB_MAX_INLINE, SB_INLINE_DEFAULT, sbt_names());
}

/*
 * Parse the value of option --name as an integer from min to max (in
 * 'unit', for the message); false after reporting a bad value.
 */
static bool
parse_bounded(const char *name, const char *arg, long min, long max,
			  const char *unit, long *value)
{
	char	   *end;

	errno = 0;
	*value = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || *value < min || *value > max)
	{
		tool_error("invalid --%s value \"%s\": must be %ld to %ld %s",
				   name, arg, min, max, unit);
		return false;
	}
	return true;
}

/* Apply one option; false after reporting a bad value. */
static bool
apply_option(build_options *o, int c, char *arg)
{
	long		n;

	switch (c)
	{
		case 's':
			o->schema = arg;
			return true;
		case 'k':
			o->keys = pg_realloc(o->keys, (o->nkeys + 1) * sizeof(char *));
			o->keys[o->nkeys++] = arg;
			return true;
		case 'm':
			o->meta = pg_realloc(o->meta, (o->nmeta + 1) * sizeof(char *));
			o->meta[o->nmeta++] = arg;
			return true;
		case 'M':
			if (!parse_bounded("memory", arg, 1, MAX_MEMORY_MB, "megabytes", &n))
				return false;
			o->memory = (size_t) n << 20;
			return true;
		case 'I':
			if (!parse_bounded("inline", arg, 0, SB_MAX_INLINE, "bytes", &n))
				return false;
			o->inline_limit = (uint32_t) n;
			return true;
	}
	return true;
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_options(int argc, char **argv, build_options *o)
{
	static const struct option longopts[] = {
		{"schema", required_argument, NULL, 's'},
		{"key", required_argument, NULL, 'k'},
		{"header", no_argument, NULL, 'H'},
		{"approximate", no_argument, NULL, 'a'},
		{"no-dedup", no_argument, NULL, 'D'},
		{"no-compact", no_argument, NULL, 'C'},
		{"memory", required_argument, NULL, 'M'},
		{"inline", required_argument, NULL, 'I'},
		{"meta", required_argument, NULL, 'm'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	memset(o, 0, sizeof(*o));
	o->dedup = true;
	o->compact = true;
	o->memory = (size_t) DEFAULT_MEMORY_MB << 20;
	o->inline_limit = SB_INLINE_DEFAULT;
	while ((c = getopt_long(argc, argv, ":hv", longopts, NULL)) != -1)
	{
		if (c == 'h')
		{
			build_usage();
			return EXIT_OK;
		}
		else if (c == '?' || c == ':')
			return bad_option("build", c, argc, argv);
		o->header |= c == 'H';
		o->approximate |= c == 'a';
		o->dedup &= c != 'D';
		o->compact &= c != 'C';
		o->verbose |= c == 'v';
		if (!apply_option(o, c, optarg))
			return EXIT_USAGE;
	}
	if (o->schema == NULL || optind >= argc || argc - optind > 2)
		return usage_error("build", o->schema == NULL ? "no --schema given" :
						   optind >= argc ? "no output file given" :
						   "too many arguments");
	o->out = argv[optind];
	o->in = optind + 1 < argc ? argv[optind + 1] : "-";
	return -1;
}

/* Check the --meta entries: KEY=VALUE, KEY not empty or reserved. */
static bool
check_meta(const build_options *o)
{
	for (int i = 0; i < o->nmeta; i++)
	{
		const char *eq = strchr(o->meta[i], '=');

		if (eq == NULL || eq == o->meta[i])
		{
			tool_error("invalid --meta value \"%s\": expected KEY=VALUE", o->meta[i]);
			return false;
		}
		if ((eq - o->meta[i] == 4 && strncmp(o->meta[i], "tool", 4) == 0) ||
			(eq - o->meta[i] == 6 && strncmp(o->meta[i], "source", 6) == 0))
		{
			tool_error("metadata key \"%.*s\" is reserved", (int) (eq - o->meta[i]),
					   o->meta[i]);
			return false;
		}
	}
	return true;
}

/* Open the input: a file, or standard input for "-". */
static int
open_input(build_state *st)
{
	const char *in = st->opts->in;

	if (strcmp(in, "-") == 0)
		st->in = stdin;
	else if ((st->in = fopen(in, "r")) == NULL)
	{
		tool_error("could not open file \"%s\" for reading: %s", in, strerror(errno));
		return EXIT_USAGE;
	}
	st->csv = csv_open(st->in, strcmp(in, "-") == 0 ? "standard input" : in);
	return EXIT_OK;
}

/* Report a writer failure, with the line it happened on if any. */
static int
writer_error(build_state *st, const sb_error *err, bool at_line)
{
	if (err->sys_errno != 0)
		tool_error("%s", err->detail);
	else if (at_line)
		tool_error("line %llu: %s: %s",
				   (unsigned long long) csv_record_line(st->csv),
				   sb_status_message(err->code), err->detail);
	else
		tool_error("could not build \"%s\": %s: %s", st->opts->out,
				   sb_status_message(err->code), err->detail);
	return status_exit_code(err->code);
}

/* Create the writer on the temporary file and record the metadata. */
static int
start_writer(build_state *st)
{
	const build_options *o = st->opts;
	sb_writer_options wo;
	sb_error	err;
	char		tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", o->out, (int) getpid());
	st->tmp = pg_strdup(tmp);
	memset(&wo, 0, sizeof(wo));
	wo.path = st->tmp;
	wo.memory_budget = o->memory;
	wo.hash_seed = 0;
	wo.approximate = o->approximate;
	wo.dedup = o->dedup;
	wo.inline_limit = o->inline_limit;
	wo.compact = o->compact;
	wo.pg_major = SB_PG_MAJOR;
	wo.ncolumns = st->schema.ncolumns;
	wo.columns = st->schema.columns;
	cleanup_register(st->tmp);
	if (sb_writer_create(&wo, &st->writer, &err) != SB_OK ||
		sb_writer_add_meta(st->writer, "tool", "sbundle", &err) != SB_OK ||
		sb_writer_add_meta(st->writer, "source", o->in, &err) != SB_OK)
		return writer_error(st, &err, false);
	for (int i = 0; i < o->nmeta; i++)
	{
		char	   *key = pg_strdup(o->meta[i]);
		char	   *eq = strchr(key, '=');
		sb_status	s;

		*eq = '\0';
		s = sb_writer_add_meta(st->writer, key, eq + 1, &err);
		free(key);
		if (s != SB_OK)
			return writer_error(st, &err, false);
	}
	return EXIT_OK;
}

/* Store one field of the current row. */
static int
load_field(build_state *st, int col, const csv_field *f)
{
	const sbt_type *t = st->schema.types[col];
	sbt_value  *v = &st->values[col];
	char	   *msg;
	sb_error	err;
	sb_status	s;

	if ((msg = sbt_parse(t, f->data, f->len, v)) != NULL)
	{
		tool_error("line %llu, column \"%s\": %s",
				   (unsigned long long) csv_record_line(st->csv),
				   st->schema.columns[col].name, msg);
		return EXIT_INVALID;
	}
	if (t->typlen > 0)
		s = sb_writer_set_fixed(st->writer, col, v->image, &err);
	else
		s = sb_writer_set_varlena(st->writer, col, v->data, v->len, &err);
	return s == SB_OK ? EXIT_OK : writer_error(st, &err, true);
}

/* Store the current CSV record as a row. */
static int
load_record(build_state *st)
{
	int			n;
	const csv_field *f = csv_fields(st->csv, &n);
	unsigned long long line = (unsigned long long) csv_record_line(st->csv);
	sb_error	err;
	int			rc;

	if (n > st->schema.ncolumns)
	{
		tool_error("line %llu: extra data after last expected column", line);
		return EXIT_INVALID;
	}
	if (n < st->schema.ncolumns)
	{
		tool_error("line %llu: missing data for column \"%s\"", line,
				   st->schema.columns[n].name);
		return EXIT_INVALID;
	}
	sb_writer_begin_row(st->writer);
	for (int i = 0; i < n; i++)
		if (f[i].data != NULL && (rc = load_field(st, i, &f[i])) != EXIT_OK)
			return rc;
	if (sb_writer_end_row(st->writer, &err) != SB_OK)
		return writer_error(st, &err, true);
	return EXIT_OK;
}

/* Read every CSV record into the writer. */
static int
load_rows(build_state *st)
{
	bool		skip = st->opts->header;
	int			r,
				rc;

	while ((r = csv_read(st->csv)) == CSV_RECORD)
	{
		if (skip)
			skip = false;
		else if ((rc = load_record(st)) != EXIT_OK)
			return rc;
	}
	if (r == CSV_END)
		return EXIT_OK;
	tool_error("%s", csv_error(st->csv));
	return r == CSV_IO_ERROR ? EXIT_USAGE : EXIT_INVALID;
}

/* Rename tmp to out, refusing to replace an existing file. */
static int
install_output(const char *tmp, const char *out)
{
	int			r;
	mode_t		mask = umask(0);

	/* the writer creates the file 0600; give it the usual permissions */
	umask(mask);
	if (chmod(tmp, 0666 & ~mask) != 0)
	{
		tool_error("could not change permissions of file \"%s\": %s", tmp, strerror(errno));
		return EXIT_USAGE;
	}
#ifdef RENAME_NOREPLACE
	r = renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE);
	if (r != 0 && (errno == EINVAL || errno == ENOSYS))
#endif
	{
		struct stat sb;

		r = lstat(out, &sb) == 0 ? (errno = EEXIST, -1) : rename(tmp, out);
	}
	if (r != 0)
	{
		if (errno == EEXIST)
			tool_error("output file \"%s\" already exists", out);
		else
			tool_error("could not rename file \"%s\" to \"%s\": %s", tmp, out,
					   strerror(errno));
		return EXIT_USAGE;
	}
	cleanup_forget();
	/* make the rename last; fsync_parent_path reports a failure itself */
	return fsync_parent_path(out) == 0 ? EXIT_OK : EXIT_USAGE;
}

/* Complete the bundle and put it in place. */
static int
finish_build(build_state *st)
{
	sb_error	err;
	int			rc;

	if (sb_writer_finish(st->writer, &st->stats, &err) != SB_OK)
		return writer_error(st, &err, false);
	if ((rc = install_output(st->tmp, st->opts->out)) != EXIT_OK)
		return rc;
	if (st->opts->verbose)
		fprintf(stderr, "%s: wrote \"%s\": %llu rows, %llu indexed, %llu distinct keys, %llu values inline, %llu bytes\n",
				progname, st->opts->out, (unsigned long long) st->stats.rows,
				(unsigned long long) st->stats.indexed,
				(unsigned long long) st->stats.distinct_keys,
				(unsigned long long) st->stats.inline_values,
				(unsigned long long) st->stats.file_size);
	return EXIT_OK;
}

/* Parse the schema and keys and check the output does not exist. */
static int
prepare(build_state *st)
{
	const build_options *o = st->opts;
	char		msg[1024];
	struct stat sb;

	if (!schema_parse(o->schema, &st->schema, msg, sizeof(msg)) ||
		!schema_set_keys(&st->schema, o->keys, o->nkeys, msg, sizeof(msg)))
	{
		tool_error("%s", msg);
		return EXIT_USAGE;
	}
	if (!check_meta(o))
		return EXIT_USAGE;
	if (lstat(o->out, &sb) == 0)
	{
		tool_error("output file \"%s\" already exists", o->out);
		return EXIT_USAGE;
	}
	st->values = pg_malloc(st->schema.ncolumns * sizeof(sbt_value));
	for (int i = 0; i < st->schema.ncolumns; i++)
		sbt_value_init(&st->values[i]);
	return EXIT_OK;
}

/* Release what a build holds; an unfinished output file is removed. */
static void
build_cleanup(build_state *st)
{
	sb_writer_free(st->writer);
	if (st->tmp != NULL)
	{
		cleanup_forget();
		unlink(st->tmp);
	}
	csv_close(st->csv);
	if (st->in != NULL && st->in != stdin)
		fclose(st->in);
	for (int i = 0; st->values && i < st->schema.ncolumns; i++)
		sbt_value_free(&st->values[i]);
	free(st->values);
	free(st->tmp);
	schema_free(&st->schema);
}

/* sbundle build */
int
cmd_build(int argc, char **argv)
{
	build_options o;
	build_state st;
	int			rc;

	if ((rc = parse_options(argc, argv, &o)) >= 0)
		return rc;
	memset(&st, 0, sizeof(st));
	st.opts = &o;
	if ((rc = prepare(&st)) == EXIT_OK &&
		(rc = open_input(&st)) == EXIT_OK &&
		(rc = start_writer(&st)) == EXIT_OK &&
		(rc = load_rows(&st)) == EXIT_OK)
		rc = finish_build(&st);
	build_cleanup(&st);
	free(o.keys);
	free(o.meta);
	return rc;
}
