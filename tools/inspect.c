/*-------------------------------------------------------------------------
 *
 * inspect.c
 *	  "sbundle info" and "sbundle verify": describe and check a bundle.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <getopt.h>
#include <time.h>

#include "commands.h"
#include "util.h"

/* Names of the section kinds, as docs/format.md numbers them. */
static const char *const section_names[] = {
	"?", "schema", "metadata", "rows", "heap", "directory", "entries", "block checksums"
};

/* Names of the key kinds (sb_key_kind). */
static const char *const key_kind_names[] = {
	"-", "bytes", "integer", "float", "varlena", "bpchar", "hashed"
};

/* Parse options of a command that takes only --help. */
static int
parse_help_only(const char *command, void (*usage) (void), int argc,
				char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
	{
		if (c != 'h')
			return bad_option(command, c, argc, argv);
		usage();
		return EXIT_OK;
	}
	return -1;
}

/* A section kind's name. */
static const char *
section_name(uint32_t kind)
{
	return kind < sizeof(section_names) / sizeof(section_names[0]) ?
		section_names[kind] : "unknown";
}

/* Print the general facts: version, sizes, build time. */
static void
print_general(const char *path, const sb_bundle *b)
{
	time_t		secs = (time_t) (b->build_time / 1000000);
	struct tm	tm;
	char		when[64] = "?";

	if (gmtime_r(&secs, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("file:              %s\n", path);
	printf("format version:    %u.%u\n", b->major, b->minor);
	printf("PostgreSQL major:  %u\n", b->pg_major);
	printf("build time:        %s\n", when);
	printf("file size:         %llu bytes\n", (unsigned long long) b->size);
	printf("rows:              %llu\n", (unsigned long long) b->row_count);
	printf("row size:          %u bytes\n", b->row_size);
	printf("approximate:       %s\n",
		   (b->flags & SB_BUNDLE_APPROXIMATE) ? "yes (key columns not stored)" : "no");
	printf("hash:              %s, seed %llu\n",
		   b->hash_id == SB_HASH_XXH3 ? "XXH3-64" : "unknown",
		   (unsigned long long) b->hash_seed);
}

/* Print the columns as a table. */
static void
print_columns(const sb_bundle *b)
{
	int			nw = 4,
				tw = 4;

	for (int i = 0; i < b->ncolumns; i++)
	{
		if ((int) b->columns[i].name_len > nw)
			nw = (int) b->columns[i].name_len;
		if ((int) b->columns[i].type_name_len > tw)
			tw = (int) b->columns[i].type_name_len;
	}
	printf("\ncolumns (%d, key columns %d):\n", b->ncolumns, b->nkeys);
	printf("  %4s  %-*s  %-*s  %6s  %6s  %5s  %5s  %-7s  %3s  %s\n", "#", nw, "name",
		   tw, "type", "typmod", "typlen", "byval", "align", "storage", "key",
		   "key kind");
	for (int i = 0; i < b->ncolumns; i++)
	{
		const sb_column *c = &b->columns[i];
		char		keypos[8] = "-";

		if (c->key_position > 0)
			snprintf(keypos, sizeof(keypos), "%u", c->key_position);
		printf("  %4d  %-*s  %-*s  %6d  %6d  %5s  %5c  %-7s  %3s  %s\n", i + 1,
			   nw, c->name, tw, c->type_name, c->typmod, c->typlen,
			   c->typbyval ? "t" : "f", c->typalign,
			   c->storage == SB_STORAGE_BINARY ? "binary" : "datum", keypos,
			   c->key_kind < sizeof(key_kind_names) / sizeof(key_kind_names[0]) ?
			   key_kind_names[c->key_kind] : "?");
	}
}

/* Print the section table, in file order. */
static void
print_sections(const sb_bundle *b)
{
	int			order[16];

	for (int i = 0; i < b->nsections; i++)
	{
		int			j = i;

		/* insertion sort by offset */
		while (j > 0 && b->sections[order[j - 1]].offset > b->sections[i].offset)
		{
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	printf("\nsections:\n");
	printf("  %-15s  %14s  %14s\n", "kind", "offset", "bytes");
	for (int i = 0; i < b->nsections; i++)
	{
		const struct sb_section_info *s = &b->sections[order[i]];

		printf("  %-15s  %14llu  %14llu\n", section_name(s->kind),
			   (unsigned long long) s->offset, (unsigned long long) s->length);
	}
}

/* Print the index statistics. */
static void
print_index(const sb_bundle *b)
{
	uint64_t	bytes = b->dir_size + b->entries_size;

	printf("\nindex:\n");
	printf("  kind:              %s\n", b->index_kind == SB_INDEX_LINES ? "lines" :
		   b->index_kind == SB_INDEX_BUCKETED ? "bucketed" :
		   b->index_kind == SB_INDEX_SORTED ? "sorted" : "unknown");
	if (b->index_kind == SB_INDEX_LINES)
	{
		printf("  lines:             %llu (%llu home lines of 64 bytes)\n",
			   (unsigned long long) b->nlines, (unsigned long long) b->home_lines);
		printf("  fingerprint bytes: %u\n", b->fp_bytes);
	}
	else if (b->index_kind == SB_INDEX_BUCKETED)
	{
		printf("  bucket bits:       %u (%llu buckets)\n", b->bucket_bits,
			   (unsigned long long) 1 << b->bucket_bits);
		printf("  fingerprint bytes: %u\n", b->fp_bytes);
	}
	printf("  entries:           %llu\n", (unsigned long long) b->indexed_count);
	printf("  distinct keys:     %llu\n", (unsigned long long) b->distinct_keys);
	if (b->index_kind == SB_INDEX_LINES)
		printf("  longest run:       %llu lines\n", (unsigned long long) b->max_bucket);
	else if (b->index_kind == SB_INDEX_BUCKETED)
		printf("  largest bucket:    %llu entries\n", (unsigned long long) b->max_bucket);
	printf("  index bytes:       %llu\n", (unsigned long long) bytes);
	if (b->distinct_keys > 0)
		printf("  bytes per key:     %.2f\n", (double) bytes / (double) b->distinct_keys);
	else
		printf("  bytes per key:     -\n");
}

/* Print the build metadata entries. */
static void
print_meta(const sb_bundle *b)
{
	uint64_t	pos = 0;
	const char *k,
			   *v;
	size_t		kl,
				vl;

	printf("\nmetadata:\n");
	while (sb_meta_next(b, &pos, &k, &kl, &v, &vl))
		printf("  %.*s = %.*s\n", (int) kl, k, (int) vl, v);
}

/* Print the help of "sbundle info". */
static void
info_usage(void)
{
	printf("Usage:\n"
		   "  %s info FILE\n\n"
		   "Show a bundle's format version, PostgreSQL major version, build time,\n"
		   "size, schema, sections, index statistics and build metadata.  The file is\n"
		   "opened and its structure checked, but not fully verified (see \"verify\").\n\n"
		   "Options:\n"
		   "  -h, --help  show this help, then exit\n",
		   progname);
}

/* sbundle info */
int
cmd_info(int argc, char **argv)
{
	sb_bundle  *b;
	int			rc;

	if ((rc = parse_help_only("info", info_usage, argc, argv)) >= 0)
		return rc;
	if (argc - optind != 1)
	{
		tool_error(optind >= argc ? "no bundle file given" : "too many arguments");
		fprintf(stderr, "Try \"%s info --help\" for more information.\n", progname);
		return EXIT_USAGE;
	}
	if ((rc = open_bundle(argv[optind], &b)) != EXIT_OK)
		return rc;
	print_general(argv[optind], b);
	print_columns(b);
	print_sections(b);
	print_index(b);
	print_meta(b);
	sb_close(b);
	return finish_output();
}

/* Print the help of "sbundle verify". */
static void
verify_usage(void)
{
	printf("Usage:\n"
		   "  %s verify FILE...\n\n"
		   "Check each bundle completely: header, checksums of every section, every\n"
		   "row and value, zero padding, and that the index holds each keyed row\n"
		   "exactly once under its key's hash.  Prints \"FILE: ok\" for a valid bundle\n"
		   "and the problem found otherwise.  Exit status: 0 if all are valid, 1 if\n"
		   "one is invalid or corrupt, 2 if one could not be read.\n\n"
		   "Options:\n"
		   "  -h, --help  show this help, then exit\n",
		   progname);
}

/* Verify one file; returns its exit status. */
static int
verify_one(const char *path)
{
	sb_bundle  *b;
	sb_error	err;
	int			rc;

	if ((rc = open_bundle(path, &b)) != EXIT_OK)
		return rc;
	if (sb_verify(b, &err) != SB_OK)
		rc = report_bundle_error(path, &err);
	else
		printf("%s: ok\n", path);
	sb_close(b);
	return rc;
}

/* sbundle verify */
int
cmd_verify(int argc, char **argv)
{
	int			rc,
				worst = EXIT_OK;

	if ((rc = parse_help_only("verify", verify_usage, argc, argv)) >= 0)
		return rc;
	if (optind >= argc)
	{
		tool_error("no bundle file given");
		fprintf(stderr, "Try \"%s verify --help\" for more information.\n", progname);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
	{
		rc = verify_one(argv[i]);
		if (rc > worst)
			worst = rc;
	}
	rc = finish_output();
	return rc > worst ? rc : worst;
}
