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

#include "csv.h"
#include "types.h"
#include "util.h"

/* Prints rows of a bundle as CSV on standard output. */
typedef struct printer
{
	sb_bundle  *b;
	const sb_info *info;		/* the bundle's */
	const char *path;
	const sbt_type **types;
	bool		images;			/* print datum images, not text */
	StringInfoData buf;
	unsigned char *decoded;		/* a coded value's image (pg_malloc) */
	size_t		decoded_cap;
} printer;

/*
 * Set up a printer; to print text, every column's type must be one this
 * tool knows.
 */
static int
printer_init(printer *p, sb_bundle *b, const char *path, bool images)
{
	p->b = b;
	p->info = sb_bundle_info(b);
	p->path = path;
	p->images = images;
	p->decoded = NULL;
	p->decoded_cap = 0;
	p->types = pg_malloc(p->info->ncolumns * sizeof(sbt_type *));
	initStringInfo(&p->buf);
	for (int i = 0; i < p->info->ncolumns; i++)
	{
		const sb_column *c = &p->info->columns[i];

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
	free(p->decoded);
	pfree(p->buf.data);
}

/* Print the column names, as COPY's HEADER does. */
static void
print_header(const printer *p)
{
	for (int i = 0; i < p->info->ncolumns; i++)
	{
		const sb_column *c = &p->info->columns[i];

		if (i > 0)
			putchar(',');
		csv_write_value(stdout, c->name, strlen(c->name),
						p->info->ncolumns == 1);
	}
	putchar('\n');
}

/* Print one row. */
static int
print_row(printer *p, uint64_t row)
{
	sb_bundle  *b = p->b;
	const sb_info *in = p->info;
	const unsigned char *slot;
	sb_error	rerr;

	if (sb_row_get(b, row, &slot, &rerr) != SB_OK)
		return report_bundle_error(p->path, &rerr);
	for (int i = 0; i < in->ncolumns; i++)
	{
		sb_value	v;
		sb_error	err;

		if (i > 0)
			putchar(',');
		if (sb_slot_isnull(in, slot, i))
			continue;
		if (sb_slot_value(b, slot, i, &v, &err) != SB_OK ||
			sb_value_materialize(b, i, &v, &p->decoded, &p->decoded_cap,
								 &err) != SB_OK)
			return report_bundle_error(p->path, &err);
		resetStringInfo(&p->buf);
		if (p->images)
			sbt_append_hex(&p->buf, v.ptr, v.len);
		else if (!sbt_format(p->types[i], v.ptr, v.len, &p->buf))
		{
			tool_error("%s: row %llu, column \"%s\" holds an invalid %s value",
					   p->path, (unsigned long long) row, in->columns[i].name,
					   p->types[i]->typname);
			return EXIT_INVALID;
		}
		csv_write_value(stdout, p->buf.data, p->buf.len, in->ncolumns == 1);
	}
	putchar('\n');
	return EXIT_OK;
}

/* The options of dump and get, for their help. */
#define PRINT_OPTIONS \
	"Options:\n" \
	"  --header    first print a line of column names\n" \
	"  --images    print each value's datum image in hex (\\x...), not its text\n" \
	"  -h, --help  show this help, then exit\n"

/* Print the help of "sbundle dump". */
static void
dump_usage(void)
{
	printf("Usage:\n"
		   "  %s dump [--header] [--images] FILE\n\n"
		   "Print all rows of a bundle, in row order, as CSV exactly as PostgreSQL's\n"
		   "COPY ... TO STDOUT (FORMAT csv) prints them.\n\n"
		   PRINT_OPTIONS,
		   progname);
}

/* Print every row. */
static int
dump_rows(printer *p, bool header)
{
	int			rc = EXIT_OK;

	if (header)
		print_header(p);
	for (uint64_t r = 0; r < p->info->row_count && rc == EXIT_OK; r++)
		rc = print_row(p, r);
	return rc;
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
		   PRINT_OPTIONS,
		   progname);
}

/*
 * Parse the key columns' texts into key parts ('values' holds decoded
 * payloads).  Sets *null if a part is NULL, which matches nothing.
 */
static int
parse_parts(const printer *p, const csv_field *f, sbt_value *values,
			sb_key_part *parts, bool *null)
{
	const sb_info *b = p->info;

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

/*
 * Print the rows matching one KEY argument: the key's text, or with a
 * composite key one CSV record of the key columns' texts.
 */
static int
get_key(printer *p, const char *key, sbt_value *values)
{
	sb_key_part parts[SB_MAX_KEY_COLUMNS];
	csv_field	whole = {key, strlen(key)};
	const csv_field *f = &whole;
	csv_reader *r = NULL;
	char		msg[600];
	int			n = 1,
				rc = EXIT_USAGE;
	bool		null;

	if (p->info->nkeys > 1)
	{
		if ((r = csv_read_string(key, msg, sizeof(msg))) == NULL)
		{
			tool_error("%s", msg);
			return EXIT_USAGE;
		}
		f = csv_fields(r, &n);
	}
	if (n != p->info->nkeys)
		tool_error("key \"%s\" has %d value%s, but the bundle's key has %d columns",
				   key, n, n == 1 ? "" : "s", p->info->nkeys);
	else if ((rc = parse_parts(p, f, values, parts, &null)) == EXIT_OK && !null)
		rc = print_matches(p, parts);
	csv_close(r);
	return rc;
}

/* Look up every KEY argument. */
static int
get_keys(printer *p, char **keys, int nkeys, bool header)
{
	sbt_value	values[SB_MAX_KEY_COLUMNS];
	int			rc = EXIT_OK;

	if (p->info->nkeys == 0)
	{
		tool_error("%s: the bundle has no key", p->path);
		return EXIT_INVALID;
	}
	for (int k = 0; k < p->info->nkeys; k++)
	{
		const sb_column *c = &p->info->columns[p->info->key_columns[k]];
		char		name[64];
		size_t		len = 0;
		const char *fn;

		if (c->key_kind == SB_KEY_HASHED)
		{
			/* the hash function the bundle records, which we cannot run */
			snprintf(name, sizeof(name), "key.%d.hash_function", k + 1);
			if ((fn = sb_meta_get(p->b, name, &len)) == NULL)
				len = strlen(fn = "not recorded");
			tool_error("%s: cannot look keys up: key column \"%s\" is hashed with PostgreSQL's %.*s, which this tool cannot compute",
					   p->path, c->name, (int) len, fn);
			fprintf(stderr, "Look keys up in PostgreSQL, or print every row with \"%s dump\".\n",
					progname);
			return EXIT_INVALID;
		}
		if (p->types[p->info->key_columns[k]] == NULL)
		{
			tool_error("%s: key column \"%s\" has type %s, which this tool cannot read",
					   p->path, c->name, c->type_name);
			return EXIT_INVALID;
		}
	}
	for (int k = 0; k < p->info->nkeys; k++)
		sbt_value_init(&values[k]);
	if (header)
		print_header(p);
	for (int i = 0; i < nkeys && rc == EXIT_OK; i++)
		rc = get_key(p, keys[i], values);
	for (int k = 0; k < p->info->nkeys; k++)
		sbt_value_free(&values[k]);
	return rc;
}

/* Run get or dump. */
static int
query(const char *command, void (*usage) (void), int argc, char **argv)
{
	bool		get = strcmp(command, "get") == 0;
	sb_bundle  *b;
	printer		p;
	bool		header,
				images;
	int			rc;

	if ((rc = parse_arguments(command, usage, argc, argv, get ? 2 : 1,
							  get ? 0 : 1, &header, &images)) >= 0)
		return rc;
	if ((rc = open_bundle(argv[optind], &b)) != EXIT_OK)
		return rc;
	if ((rc = printer_init(&p, b, argv[optind], images)) == EXIT_OK)
		rc = get ? get_keys(&p, argv + optind + 1, argc - optind - 1, header) :
			dump_rows(&p, header);
	printer_free(&p);
	sb_close(b);
	return rc == EXIT_OK ? finish_output() : rc;
}

/* sbundle get */
int
cmd_get(int argc, char **argv)
{
	return query("get", get_usage, argc, argv);
}

/* sbundle dump */
int
cmd_dump(int argc, char **argv)
{
	return query("dump", dump_usage, argc, argv);
}
