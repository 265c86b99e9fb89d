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

#include "util.h"

/* Names of the key kinds (sb_key_kind). */
static const char *const key_kind_names[] = {
	"-", "bytes", "integer", "float", "varlena", "bpchar", "hashed"
};

/* Print the general facts: version, sizes, build time. */
static void
print_general(const char *path, const sb_info *b)
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
	printf("file size:         %llu bytes\n", (unsigned long long) b->file_size);
	printf("rows:              %llu\n", (unsigned long long) b->row_count);
	printf("row size:          %u bytes\n", b->row_size);
	printf("approximate:       %s\n",
		   b->approximate ? "yes (key columns not stored)" : "no");
	printf("hash:              XXH3-64, seed %llu\n", (unsigned long long) b->hash_seed);
}

/* Print the columns as a table. */
static void
print_columns(const sb_info *b)
{
	int			nw = 4,
				tw = 4;

	for (int i = 0; i < b->ncolumns; i++)
	{
		nw = Max(nw, (int) strlen(b->columns[i].name));
		tw = Max(tw, (int) strlen(b->columns[i].type_name));
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

/*
 * Print the columns stored in compact encodings (format 5), if any: how
 * each is stored and the width of its field in a row slot.
 */
static void
print_encodings(const sb_info *b)
{
	bool		any = false;

	for (int i = 0; i < b->ncolumns; i++)
		any |= b->encodings[i].kind != SB_ENC_NONE ||
			b->encodings[i].width != (b->columns[i].typlen > 0 ? b->columns[i].typlen : 8);
	if (!any)
		return;
	printf("\nencodings:\n");
	printf("  %4s  %-10s  %5s  %s\n", "#", "encoding", "width", "parameters");
	for (int i = 0; i < b->ncolumns; i++)
	{
		const sb_encoding *e = &b->encodings[i];

		if (e->kind == SB_ENC_OFFSET)
			printf("  %4d  %-10s  %5u  base %lld\n", i + 1, "offset", e->width,
				   (long long) e->base);
		else if (e->kind == SB_ENC_SYMBOLS)
			printf("  %4d  %-10s  %5u  %u symbols\n", i + 1, "symbols", e->width,
				   e->nsymbols);
		else
			printf("  %4d  %-10s  %5u\n", i + 1, "none", e->width);
	}
}

/* Print the sections, in file order. */
static void
print_sections(const sb_info *b)
{
	printf("\nsections:\n");
	printf("  %-15s  %14s  %14s\n", "kind", "offset", "bytes");
	for (int i = 0; i < b->nsections; i++)
		printf("  %-15s  %14llu  %14llu\n", b->sections[i].name,
			   (unsigned long long) b->sections[i].offset,
			   (unsigned long long) b->sections[i].length);
}

/* Print the index statistics. */
static void
print_index(const sb_info *b)
{
	printf("\nindex:\n");
	printf("  kind:              lines\n");
	printf("  lines:             %llu (%llu home lines of 64 bytes)\n",
		   (unsigned long long) b->index_lines, (unsigned long long) b->home_lines);
	printf("  fingerprint bytes: %u\n", b->fp_bytes);
	printf("  entries:           %llu\n", (unsigned long long) b->indexed_count);
	printf("  distinct keys:     %llu\n", (unsigned long long) b->distinct_keys);
	printf("  longest run:       %llu lines\n", (unsigned long long) b->longest_run);
	printf("  index bytes:       %llu\n", (unsigned long long) b->index_size);
	if (b->distinct_keys > 0)
		printf("  bytes per key:     %.2f\n",
			   (double) b->index_size / (double) b->distinct_keys);
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

	if ((rc = parse_arguments("info", info_usage, argc, argv, 1, 1, NULL,
							  NULL)) >= 0)
		return rc;
	if ((rc = open_bundle(argv[optind], &b)) != EXIT_OK)
		return rc;
	print_general(argv[optind], sb_bundle_info(b));
	print_columns(sb_bundle_info(b));
	print_encodings(sb_bundle_info(b));
	print_sections(sb_bundle_info(b));
	print_index(sb_bundle_info(b));
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

	if ((rc = parse_arguments("verify", verify_usage, argc, argv, 1, 0, NULL,
							  NULL)) >= 0)
		return rc;
	for (int i = optind; i < argc; i++)
	{
		rc = verify_one(argv[i]);
		if (rc > worst)
			worst = rc;
	}
	rc = finish_output();
	return rc > worst ? rc : worst;
}
