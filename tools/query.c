/*-------------------------------------------------------------------------
 *
 * query.c
 *	  "sbundle get" and "sbundle dump": rows as CSV.
 *
 * Rows are printed exactly as PostgreSQL's COPY ... TO STDOUT (FORMAT csv)
 * prints them, with the optional header line COPY's HEADER gives.  In an
 * approximate bundle the key columns are not stored and print as NULL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <getopt.h>

#include "commands.h"
#include "csv.h"
#include "types.h"
#include "util.h"

/* Prints rows of a bundle as CSV on standard output. */
typedef struct printer
{
	const sb_bundle *b;
	const char *path;
	const sbt_type **types;
	bool		images;			/* print datum images, not text */
	StringInfoData buf;
} printer;

/*
 * Set up a printer; to print text, every column's type must be one this
 * tool knows.
 */
static int
printer_init(printer *p, const sb_bundle *b, const char *path, bool images)
{
	p->b = b;
	p->path = path;
	p->images = images;
	p->types = pg_malloc(b->ncolumns * sizeof(sbt_type *));
	initStringInfo(&p->buf);
	for (int i = 0; i < b->ncolumns; i++)
	{
		const sb_column *c = &b->columns[i];

		if ((p->types[i] = sbt_for_column(c)) == NULL && !images)
		{
			tool_error("%s: column \"%s\" has type %s%s, which this tool cannot print as text (--images prints datum images)",
					   path, c->name, c->type_name,
					   c->storage == SB_STORAGE_BINARY ? " in binary storage" : "");
			return EXIT_INVALID;
		}
	}
	return EXIT_OK;
}

/* Release a printer. */
static void
printer_free(printer *p)
{
	free(p->types);
	pfree(p->buf.data);
}

/* Print the column names, as COPY's HEADER does. */
static void
print_header(const printer *p)
{
	for (int i = 0; i < p->b->ncolumns; i++)
	{
		const sb_column *c = &p->b->columns[i];

		if (i > 0)
			putchar(',');
		csv_write_value(stdout, c->name, c->name_len, p->b->ncolumns == 1);
	}
	putchar('\n');
}

/* Print one row. */
static int
print_row(printer *p, uint64_t row)
{
	const sb_bundle *b = p->b;
	const unsigned char *slot;
	sb_error	rerr;

	if (sb_row_get(b, row, &slot, &rerr) != SB_OK)
		return report_bundle_error(p->path, &rerr);
	for (int i = 0; i < b->ncolumns; i++)
	{
		sb_value	v;
		sb_error	err;

		if (i > 0)
			putchar(',');
		if (sb_slot_isnull(b, slot, i))
			continue;
		if (sb_slot_value(b, slot, i, &v, &err) != SB_OK)
			return report_bundle_error(p->path, &err);
		resetStringInfo(&p->buf);
		if (p->images)
			sbt_append_hex(&p->buf, v.ptr, v.len);
		else if (!sbt_format(p->types[i], v.ptr, v.len, &p->buf))
		{
			tool_error("%s: row %llu, column \"%s\" holds an invalid %s value",
					   p->path, (unsigned long long) row, b->columns[i].name,
					   p->types[i]->typname);
			return EXIT_INVALID;
		}
		csv_write_value(stdout, p->buf.data, p->buf.len, b->ncolumns == 1);
	}
	putchar('\n');
	return EXIT_OK;
}

/* Parse the options shared by get and dump: --header, --images, --help. */
static int
parse_print_options(const char *command, void (*usage) (void), int argc,
					char **argv, bool *header, bool *images)
{
	static const struct option longopts[] = {
		{"header", no_argument, NULL, 'H'},
		{"images", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	*header = *images = false;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
	{
		if (c == 'h')
		{
			usage();
			return EXIT_OK;
		}
		if (c != 'H' && c != 'I')
			return bad_option(command, c, argc, argv);
		*header |= c == 'H';
		*images |= c == 'I';
	}
	return -1;
}

/* Print the help of "sbundle dump". */
static void
dump_usage(void)
{
	printf("Usage:\n"
		   "  %s dump [--header] [--images] FILE\n\n"
		   "Print all rows of a bundle, in row order, as CSV exactly as PostgreSQL's\n"
		   "COPY ... TO STDOUT (FORMAT csv) prints them.\n\n"
		   "Options:\n"
		   "  --header    first print a line of column names\n"
		   "  --images    print each value's datum image in hex (\\x...), not its text\n"
		   "  -h, --help  show this help, then exit\n",
		   progname);
}

/* sbundle dump */
int
cmd_dump(int argc, char **argv)
{
	sb_bundle  *b;
	printer		p;
	bool		header,
				images;
	int			rc;

	if ((rc = parse_print_options("dump", dump_usage, argc, argv, &header,
								  &images)) >= 0)
		return rc;
	if (argc - optind != 1)
	{
		tool_error(optind >= argc ? "no bundle file given" : "too many arguments");
		fprintf(stderr, "Try \"%s dump --help\" for more information.\n", progname);
		return EXIT_USAGE;
	}
	if ((rc = open_bundle(argv[optind], &b)) != EXIT_OK)
		return rc;
	if ((rc = printer_init(&p, b, argv[optind], images)) == EXIT_OK)
	{
		if (header)
			print_header(&p);
		for (uint64_t r = 0; r < b->row_count && rc == EXIT_OK; r++)
			rc = print_row(&p, r);
	}
	printer_free(&p);
	sb_close(b);
	return rc == EXIT_OK ? finish_output() : rc;
}

/* Print the help of "sbundle get". */
static void
get_usage(void)
{
	printf("Usage:\n"
		   "  %s get [--header] [--images] FILE KEY...\n\n"
		   "Print the rows whose key equals each KEY, as CSV (as \"dump\" prints them).\n"
		   "KEY is the key's text as its type reads it.  With a composite key, KEY is\n"
		   "one CSV record holding the key columns' values in key order, e.g. '42,abc'\n"
		   "or '42,\"a,b\"'; an empty unquoted field is NULL, which matches nothing.\n"
		   "Put -- before keys that start with '-'.  In an approximate bundle, rows\n"
		   "whose key has the same hash also match.  A bundle whose key is hashed\n"
		   "with a PostgreSQL hash function (numeric, jsonb, text under a\n"
		   "nondeterministic collation, ...) cannot be probed here.\n\n"
		   "Options:\n"
		   "  --header    first print a line of column names\n"
		   "  --images    print each value's datum image in hex (\\x...), not its text\n"
		   "  -h, --help  show this help, then exit\n",
		   progname);
}

/* The text of each key column's value: the KEY, or its CSV fields. */
static bool
split_key(const sb_bundle *b, const char *key, csv_field **fields,
		  char **storage)
{
	const char *msg;
	int			n;

	if (b->nkeys == 1)
	{
		*storage = NULL;
		*fields = pg_malloc(sizeof(csv_field));
		(*fields)[0].data = key;
		(*fields)[0].len = strlen(key);
		return true;
	}
	if (!csv_parse_string(key, &n, fields, storage, &msg))
	{
		tool_error("%s", msg);
		return false;
	}
	if (n != b->nkeys)
	{
		tool_error("key \"%s\" has %d value%s, but the bundle's key has %d columns",
				   key, n, n == 1 ? "" : "s", b->nkeys);
		free(*fields);
		free(*storage);
		return false;
	}
	return true;
}

/*
 * Parse the key columns' texts into key parts ('values' holds decoded
 * payloads).  Sets *null if a part is NULL, which matches nothing.
 */
static int
parse_parts(const printer *p, const csv_field *f, sbt_value *values,
			sb_key_part *parts, bool *null)
{
	const sb_bundle *b = p->b;

	*null = false;
	for (int k = 0; k < b->nkeys; k++)
	{
		int			col = b->key_columns[k];
		const sbt_type *t = p->types[col];
		char	   *msg;

		if (f[k].data == NULL)
		{
			*null = true;
			return EXIT_OK;
		}
		if ((msg = sbt_parse(t, f[k].data, f[k].len, &values[k])) != NULL)
		{
			tool_error("invalid key for column \"%s\": %s", b->columns[col].name, msg);
			return EXIT_USAGE;
		}
		sbt_key_part(t, b->columns[col].key_kind, &values[k], &parts[k]);
	}
	return EXIT_OK;
}

/* Print the rows holding the key given as parts. */
static int
print_matches(printer *p, const sb_key_part *parts)
{
	sb_lookup	it;
	sb_error	err;
	uint64_t	hash,
				row;
	int			rc,
				m;

	if (sb_key_hash(p->b, parts, &hash, &err) != SB_OK)
		return report_bundle_error(p->path, &err);
	sb_lookup_start(p->b, parts, hash, &it);
	while ((m = sb_lookup_next(p->b, &it, &row, &err)) == 1)
		if ((rc = print_row(p, row)) != EXIT_OK)
			return rc;
	return m < 0 ? report_bundle_error(p->path, &err) : EXIT_OK;
}

/* Print the rows matching one KEY argument. */
static int
get_key(printer *p, const char *key, sbt_value *values)
{
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	csv_field  *f;
	char	   *storage;
	bool		null;
	int			rc;

	if (!split_key(p->b, key, &f, &storage))
		return EXIT_USAGE;
	rc = parse_parts(p, f, values, parts, &null);
	if (rc == EXIT_OK && !null)
		rc = print_matches(p, parts);
	free(f);
	free(storage);
	return rc;
}

/* The hash function a hashed key part was hashed with, as recorded. */
static const char *
hash_function(const sb_bundle *b, int k)
{
	static char buf[256];
	char		key[64];
	size_t		len;
	const char *v;

	snprintf(key, sizeof(key), "key.%d.hash_function", k + 1);
	v = sb_meta_get(b, key, &len);
	if (v == NULL)
		return "not recorded";
	snprintf(buf, sizeof(buf), "%.*s", (int) len, v);
	return buf;
}

/* Look up every KEY argument. */
static int
get_keys(printer *p, char **keys, int nkeys, bool header)
{
	sbt_value	values[SB_MAX_KEY_COLUMNS];
	int			rc = EXIT_OK;

	if (p->b->nkeys == 0)
	{
		tool_error("%s: the bundle has no key", p->path);
		return EXIT_INVALID;
	}
	for (int k = 0; k < p->b->nkeys; k++)
	{
		const sb_column *c = &p->b->columns[p->b->key_columns[k]];

		if (c->key_kind == SB_KEY_HASHED)
		{
			tool_error("%s: cannot look keys up: key column \"%s\" is hashed with PostgreSQL's %s, which this tool cannot compute",
					   p->path, c->name, hash_function(p->b, k));
			fprintf(stderr, "Look keys up in PostgreSQL, or print every row with \"%s dump\".\n",
					progname);
			return EXIT_INVALID;
		}
		if (p->types[p->b->key_columns[k]] == NULL)
		{
			tool_error("%s: key column \"%s\" has type %s, which this tool cannot read",
					   p->path, c->name, c->type_name);
			return EXIT_INVALID;
		}
	}
	for (int k = 0; k < p->b->nkeys; k++)
		sbt_value_init(&values[k]);
	if (header)
		print_header(p);
	for (int i = 0; i < nkeys && rc == EXIT_OK; i++)
		rc = get_key(p, keys[i], values);
	for (int k = 0; k < p->b->nkeys; k++)
		sbt_value_free(&values[k]);
	return rc;
}

/* sbundle get */
int
cmd_get(int argc, char **argv)
{
	sb_bundle  *b;
	printer		p;
	bool		header,
				images;
	int			rc;

	if ((rc = parse_print_options("get", get_usage, argc, argv, &header,
								  &images)) >= 0)
		return rc;
	if (argc - optind < 2)
	{
		tool_error(optind >= argc ? "no bundle file given" : "no key given");
		fprintf(stderr, "Try \"%s get --help\" for more information.\n", progname);
		return EXIT_USAGE;
	}
	if ((rc = open_bundle(argv[optind], &b)) != EXIT_OK)
		return rc;
	if ((rc = printer_init(&p, b, argv[optind], images)) == EXIT_OK)
		rc = get_keys(&p, argv + optind + 1, argc - optind - 1, header);
	printer_free(&p);
	sb_close(b);
	return rc == EXIT_OK ? finish_output() : rc;
}
