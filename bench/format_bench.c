/*-------------------------------------------------------------------------
 *
 * format_bench.c
 *	  Microbenchmark of bundle lookups against tinycdb and LMDB.
 *
 * For one dataset (int8 or 32-byte text keys, values of 80 to 120 bytes,
 * all from a fixed seed) this program builds a bundle, a tinycdb file and
 * an LMDB environment, timing each build from RAM to an fsync'd file, and
 * the seed library's sorted index in memory over the bundle's key hashes
 * (bench_sorted.c).  It opens them all, makes one full warm-up pass over
 * every key in each, then times the same random probe sequence on every
 * store, several runs with the store order rotated from run to run.  Every
 * lookup reads its whole value; the checksums must match the dataset's.
 * Last, traced lookups count the index cache lines each lookup touches.
 *
 * The results are printed as Markdown, and optionally appended as
 * tab-separated records to a file for the summary and the charts.
 *
 * Usage: format_bench --dir DIR [--type int8|text] [--keys N]
 *			[--lookups M] [--runs R] [--stage-runs R] [--seed S]
 *			[--tsv FILE] [--keep] [--stores LIST] [--profile STORE]
 *		  format_bench --latency
 *
 *-------------------------------------------------------------------------
 */
#include "bench.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define NSTORES		6
#define ST_LINES	0			/* the baseline of every ratio */
#define ST_SORTED	1			/* the seed's search, over the bundle's rows */
#define ST_CDB		2
#define ST_LMDB		3
#define ST_BATCHED	4			/* views of the line-index bundle: */
#define ST_BOUND	5			/* batched lookups, and the bound */
#define NTRACED		2			/* stores whose index reads are traced */
#define MAX_RUNS	25
#define STAGE_LOOKUPS	1000000	/* probes timed per stage */

/* The timed runs of one store. */
typedef struct run_stats
{
	double		rate[MAX_RUNS];	/* lookups per CPU second, each run */
	double		wall_rate[MAX_RUNS];	/* lookups per wall second */
	uint64_t	minflt;			/* page faults in the timed runs */
	uint64_t	majflt;
	double		cpu;			/* CPU seconds in the timed runs */
	double		wall;			/* wall seconds in the timed runs */
} run_stats;

typedef struct options
{
	const char *dir;
	const char *tsv;
	key_type	type;
	uint64_t	keys;
	uint64_t	lookups;
	int			runs;
	uint64_t	seed;
	int			stage_runs;
	const char *profile;		/* run only this store's probes once */
	bool		on[NSTORES];	/* stores to run (--stores) */
	bool		nodedup;		/* also time a build without dedup */
	bool		keep;
	bool		latency;
} options;

static const char *const store_tags[NSTORES] = {
	"lines", "sorted", "cdb", "lmdb", "batched", "bound"
};

/* The store named by a tag, or -1. */
static int
store_index(const char *tag)
{
	for (int s = 0; s < NSTORES; s++)
		if (strcmp(tag, store_tags[s]) == 0)
			return s;
	return -1;
}

/* The store a --profile name builds on (-1 if unknown). */
static int
profile_base(const char *tag)
{
	int			s = store_index(tag);

	return s == ST_BATCHED || s == ST_BOUND ? ST_LINES : s;
}

/* Does a store read the line-index bundle (and so need it built)? */
static bool
needs_bundle(int s)
{
	return s == ST_LINES || s == ST_SORTED || s == ST_BATCHED || s == ST_BOUND;
}

/* --stores: a comma-separated list of store tags, and "nodedup". */
static void
parse_stores(const char *list, options *o)
{
	char		buf[256];

	memset(o->on, 0, sizeof(o->on));
	o->nodedup = false;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
	{
		int			s = store_index(t);

		if (strcmp(t, "nodedup") == 0)
			o->nodedup = true;
		else if (s < 0)
			die("unknown store \"%s\"", t);
		else
			o->on[s] = true;
	}
}

/* Print usage and exit. */
static void
usage(void)
{
	fprintf(stderr,
			"usage: format_bench --dir DIR [--type int8|text] [--keys N] [--lookups M]\n"
			"                    [--runs R] [--stage-runs R] [--seed S] [--tsv FILE] [--keep]\n"
			"                    [--stores LIST] [--profile STORE]\n"
			"  stores: lines sorted cdb lmdb batched bound (and nodedup for --stores)\n"
			"       format_bench --latency\n");
	exit(2);
}

/* Parse the command line. */
static void
parse_options(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"type", required_argument, NULL, 't'},
		{"keys", required_argument, NULL, 'n'},
		{"lookups", required_argument, NULL, 'l'},
		{"runs", required_argument, NULL, 'r'},
		{"stage-runs", required_argument, NULL, 'S'},
		{"seed", required_argument, NULL, 's'},
		{"tsv", required_argument, NULL, 'o'},
		{"keep", no_argument, NULL, 'k'},
		{"profile", required_argument, NULL, 'P'},
		{"stores", required_argument, NULL, 'T'},
		{"latency", no_argument, NULL, 'L'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	memset(o, 0, sizeof(*o));
	for (int s = 0; s < NSTORES; s++)
		o->on[s] = true;
	o->nodedup = true;
	o->type = KEYS_INT8;
	o->keys = 1000000;
	o->runs = 5;
	o->stage_runs = 3;
	o->seed = 20251125;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				o->dir = optarg;
				break;
			case 't':
				if (strcmp(optarg, "int8") == 0)
					o->type = KEYS_INT8;
				else if (strcmp(optarg, "text") == 0)
					o->type = KEYS_TEXT;
				else
					usage();
				break;
			case 'n':
				o->keys = strtoull(optarg, NULL, 10);
				break;
			case 'l':
				o->lookups = strtoull(optarg, NULL, 10);
				break;
			case 'r':
				o->runs = atoi(optarg);
				break;
			case 'S':
				o->stage_runs = atoi(optarg);
				break;
			case 's':
				o->seed = strtoull(optarg, NULL, 10);
				break;
			case 'o':
				o->tsv = optarg;
				break;
			case 'k':
				o->keep = true;
				break;
			case 'P':
				o->profile = optarg;
				if (profile_base(optarg) < 0)
					usage();
				break;
			case 'T':
				parse_stores(optarg, o);
				break;
			case 'L':
				o->latency = true;
				break;
			default:
				usage();
		}
	}
	if (optind != argc || (!o->latency && o->dir == NULL) ||
		o->runs < 1 || o->runs > MAX_RUNS || o->stage_runs < 1 ||
		o->stage_runs > MAX_RUNS || o->keys == 0)
		usage();
	if (o->lookups == 0)
		o->lookups = o->keys / 2;
	o->on[ST_LINES] = true;		/* the baseline of every ratio */
	if (o->profile)
	{
		memset(o->on, 0, sizeof(o->on));
		o->on[profile_base(o->profile)] = true;
		o->on[ST_LINES] = needs_bundle(store_index(o->profile));
		o->nodedup = false;
	}
}

/* Median of n doubles (sorts a copy). */
static double
median(const double *v, int n)
{
	double		a[MAX_RUNS];

	memcpy(a, v, n * sizeof(double));
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && a[j] < a[j - 1]; j--)
		{
			double		t = a[j];

			a[j] = a[j - 1];
			a[j - 1] = t;
		}
	return n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

/* Smallest and largest of n doubles. */
static void
min_max(const double *v, int n, double *lo, double *hi)
{
	*lo = *hi = v[0];
	for (int i = 1; i < n; i++)
	{
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
}

/*
 * Print the pointer-chase latencies over buffers from what the caches
 * hold to what only memory does: where the step lies tells how large an
 * index can be and still be read from the cache.
 */
static void
print_latency(void)
{
	static const int mib[] = {4, 16, 64, 1024};

	printf("| buffer | dependent random load (4 KiB pages) |\n|---|---|\n");
	for (int i = 0; i < (int) (sizeof(mib) / sizeof(mib[0])); i++)
		printf("| %d MiB | %.1f ns |\n", mib[i],
			   chase_latency_ns((size_t) mib[i] << 20, 10000000, 7));
}

/* One row of the build table (and its record). */
static void
print_build_row(const dataset *d, const store *s, FILE *tsv, const char *slug)
{
	const store_info *in = &s->info;
	double		over = ((double) in->file_bytes - (double) d->key_bytes -
						(double) d->value_bytes) / (double) d->n;

	if (in->file_bytes == 0)		/* in memory */
		printf("| %s | %.0f | %.2f | - | %.2f | - |\n", s->name,
			   (double) d->n / in->build_sec, in->build_sec,
			   (double) in->index_bytes / (double) d->n);
	else
		printf("| %s | %.0f | %.2f | %.1f | %.2f | %.2f |\n", s->name,
			   (double) d->n / in->build_sec, in->build_sec,
			   (double) in->file_bytes / 1e6,
			   (double) in->index_bytes / (double) d->n, over);
	if (tsv)
		fprintf(tsv, "build\t%s\t%s\t%.0f\t%llu\t%.3f\t%.3f\n", slug, s->tag,
				(double) d->n / in->build_sec,
				(unsigned long long) in->file_bytes,
				(double) in->index_bytes / (double) d->n, over);
}

/* Print the build and size table. */
static void
print_builds(const dataset *d, store *st, const bool *on, store *nodedup,
			 FILE *tsv, const char *slug)
{
	bool		first = true;

	printf("\n| store | build keys/s | build s | file MB | index B/key | overhead B/key |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for (int s = 0; s < ST_BATCHED; s++)
		if (on[s])
			print_build_row(d, &st[s], tsv, slug);
	if (nodedup)
	{
		nodedup->info.index_bytes = st[ST_LINES].info.index_bytes;
		print_build_row(d, nodedup, tsv, slug);
	}
	printf("\nBuild = from the data in RAM to a complete, fsync'd file (LMDB's "
		   "includes sorting the keys; the sorted search's is hashing and "
		   "sorting in memory).  Index bytes: ");
	for (int s = 0; s < ST_BATCHED; s++)
	{
		if (!on[s])
			continue;
		printf("%s%s: %s", first ? "" : "; ", st[s].name, st[s].info.note);
		first = false;
	}
	printf(".\n");
	printf("Overhead = (file - key bytes - value bytes) / keys; key bytes %.1f MB, "
		   "value bytes %.1f MB.  MB = 10^6 bytes.\n", (double) d->key_bytes / 1e6,
		   (double) d->value_bytes / 1e6);
}

/* Print the lookup table: medians, spread, per-run ratios. */
static void
print_lookups(store *st, const bool *on, const run_stats *rs, int runs,
			  FILE *tsv, const char *slug, double *med_ratio)
{
	printf("\n| store | lookups/s (median) | ns/lookup | min..max | ratio to lines | "
		   "wall-clock lookups/s | CPU share | faults minor/major | runs (M lookups/s) |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (int s = 0; s < NSTORES; s++)
	{
		double		ratio[MAX_RUNS],
					med = median(rs[s].rate, runs),
					lo,
					hi;
		char		list[256];
		size_t		pos = 0;

		if (!on[s])
			continue;
		for (int r = 0; r < runs; r++)
		{
			ratio[r] = rs[s].rate[r] / rs[ST_LINES].rate[r];
			pos += snprintf(list + pos, sizeof(list) - pos, "%s%.3f",
							r ? " " : "", rs[s].rate[r] / 1e6);
		}
		med_ratio[s] = median(ratio, runs);
		min_max(rs[s].rate, runs, &lo, &hi);
		printf("| %s | %.0f | %.0f | %.2fM..%.2fM | %.2f | %.0f | %.0f%% | %llu/%llu | %s |\n",
			   st[s].name, med, 1e9 / med, lo / 1e6, hi / 1e6, med_ratio[s],
			   median(rs[s].wall_rate, runs), 100 * rs[s].cpu / rs[s].wall,
			   (unsigned long long) rs[s].minflt, (unsigned long long) rs[s].majflt,
			   list);
		if (tsv)
			fprintf(tsv, "lookup\t%s\t%s\t%.0f\t%.4f\t%.0f\t%.0f\t%.0f\t%.3f\n",
					slug, st[s].tag, med, med_ratio[s], lo, hi,
					median(rs[s].wall_rate, runs), rs[s].cpu / rs[s].wall);
	}
	printf("\nLookups/s = lookups per second of the process's CPU time (on an idle "
		   "core this is the wall-clock rate; on a shared one it leaves out the time "
		   "the benchmark was descheduled).  Ratio = this store's lookups/s over the "
		   "line-index bundle's single lookups/s in the same run, median over the "
		   "runs.  The batched row is not a single-lookup figure.  The bound row "
		   "is not a lookup: it reads each key's row with the row number given "
		   "(key compared, value read), what any index must still do after it "
		   "finds the row.  CPU share = CPU time over wall time in the timed "
		   "runs: below 100%% the core was shared with other processes.\n");
}

/* Print the cache-line table of the traced indexes. */
static void
print_lines(const dataset *d, store *st, const bool *on,
			const trace_result *tr, FILE *tsv, const char *slug)
{
	printf("\n| index | distinct index lines: mean | p50 | p99 | max | "
		   "index pages: mean | p99 | index reads: mean |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int s = 0; s < NTRACED; s++)
	{
		const trace_result *t = &tr[s];

		if (!on[s])
			continue;
		printf("| %s | %.2f | %u | %u | %u | %.2f | %u | %.2f |\n", st[s].name,
			   t->index_lines.mean, t->index_lines.p50, t->index_lines.p99,
			   t->index_lines.max, t->index_pages.mean, t->index_pages.p99,
			   t->index_reads.mean);
		if (tsv)
			fprintf(tsv, "lines\t%s\t%s\t%.3f\t%u\t%u\t%u\n", slug, st[s].tag,
					t->index_lines.mean, t->index_lines.p50,
					t->index_lines.p99, t->index_lines.max);
	}
	printf("\nData lines after the index (row slot with the %svalue inside it, or "
		   "in the heap if long), the same for both: mean %.2f, p99 %u, max %u.\n",
		   d->type == KEYS_TEXT ? "key image and the " : "",
		   tr[0].data_lines.mean,
		   tr[0].data_lines.p99, tr[0].data_lines.max);
}

/*
 * Time the bundle lookups cut short after each stage, and cdb_find with
 * and without reading the value: what each dependent step costs.  Median
 * of 'runs' runs, interleaved, over the first STAGE_LOOKUPS probes.
 */
static void
stage_breakdown(const dataset *d, store *st, const bool *on, int runs,
				FILE *tsv, const char *slug)
{
	enum
	{
		NITEMS = 9
	};
	double		ns[NITEMS][MAX_RUNS],
				med[NITEMS];
	bool		have_sorted = on[ST_SORTED],
				have_cdb = on[ST_CDB];
	volatile uint64_t sink = 0;
	key_seq		q = d->probes;
	static const char *const step[4] = {
		"key hash (sb_key_hash)",
		"+ sb_lookup_start (nothing read yet)",
		"+ sb_lookup_next (index, row slot, key check)",
		"+ sb_slot_value, read the value (full lookup)"
	};

	if (q.n > STAGE_LOOKUPS)
		q.n = STAGE_LOOKUPS;
	for (int r = 0; r < runs; r++)
	{
		for (int i = 0; i < NITEMS; i++)
		{
			double		t0;

			if ((i >= 4 && i < 7 && !have_sorted) || (i >= 7 && !have_cdb))
			{
				ns[i][r] = 0;
				continue;
			}
			t0 = cpu_sec();
			if (i < 4)
				sink += bundle_stage_lookup(&st[ST_LINES], &q, i + 1);
			else if (i < 7)
				sink += sorted_stage_lookup(&st[ST_SORTED], &q, i - 2);
			else if (i == 7)
				sink += cdb_find_only(&st[ST_CDB], &q);
			else
				sink += st[ST_CDB].lookup(&st[ST_CDB], &q);
			ns[i][r] = (cpu_sec() - t0) * 1e9 / (double) q.n;
		}
	}
	(void) sink;
	for (int i = 0; i < NITEMS; i++)
		med[i] = median(ns[i], runs);

	printf("\nWhere the time goes (ns per lookup, cumulative, median of %d runs over "
		   "%llu lookups; each row adds one step to the loop above it; the sorted "
		   "search makes its search in the second step, and reads the row and "
		   "checks the key in the third):\n\n", runs,
		   (unsigned long long) q.n);
	printf("| step | lines ns | step adds | sorted (seed) ns | step adds |\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (int k = 0; k < 4; k++)
	{
		double		b = med[k],
					bprev = k ? med[k - 1] : 0,
					so = k ? med[3 + k] : med[0],
					sprev = k > 1 ? med[3 + k - 1] : (k ? med[0] : 0);

		if (have_sorted)
			printf("| %s | %.0f | %.0f | %.0f | %.0f |\n", step[k], b, b - bprev,
				   so, so - sprev);
		else
			printf("| %s | %.0f | %.0f | - | - |\n", step[k], b, b - bprev);
		if (tsv)
			fprintf(tsv, "stage\t%s\t%d\t%.1f\t%.1f\n", slug, k + 1, b, so);
	}
	if (!have_cdb)
		return;
	printf("\ntinycdb: cdb_find (slot, record key) %.0f ns; with the value read "
		   "%.0f ns.\n", med[7], med[8]);
	if (tsv)
		fprintf(tsv, "stage\t%s\tcdb\t%.1f\t%.1f\n", slug, med[7], med[8]);
}

/* Print the acceptance targets as measured in this run. */
static void
print_targets(const dataset *d, store *st, const bool *on,
			  const trace_result *tr, const double *med_ratio)
{
	double		bpk = (double) st[ST_LINES].info.index_bytes / (double) d->n;
	double		vs_cdb = 1.0 / med_ratio[ST_CDB],
				vs_seed = 1.0 / med_ratio[ST_SORTED];

	printf("\nTargets (they apply to int8 10M; shown for every dataset):\n\n");
	printf("| target | measured | met |\n|---|---:|---|\n");
	printf("| line index <= 10 B/key | %.2f B/key | %s |\n", bpk,
		   bpk <= 10 ? "yes" : "**no**");
	printf("| line index <= 3 distinct index lines per lookup (mean) | %.2f (p99 %u, max %u) | %s |\n",
		   tr[0].index_lines.mean, tr[0].index_lines.p99, tr[0].index_lines.max,
		   tr[0].index_lines.mean <= 3 ? "yes" : "**no**");
	if (on[ST_CDB])
		printf("| line index lookups/s >= tinycdb's | %.3fx | %s |\n", vs_cdb,
			   vs_cdb >= 1 ? "yes" : "**no**");
	if (on[ST_SORTED])
		printf("| line index lookups/s >= 3x the seed's search | %.3fx | %s |\n",
			   vs_seed, vs_seed >= 3 ? "yes" : "**no**");
	if (on[ST_SORTED] && on[ST_BOUND])
		printf("\nThe bound (each key's row read with its number given, no index) "
			   "ran %.2fx the seed's search: no index can make lookups faster than "
			   "that in this run.\n", med_ratio[ST_BOUND] / med_ratio[ST_SORTED]);
}

/* The probe loop alone, for a profiler to single out. */
static __attribute__((noinline)) uint64_t
profile_run(store *s, const key_seq *q)
{
	return s->lookup(s, q);
}

/*
 * --profile: after the build and one warm-up pass, run the probes once
 * through one store, for valgrind --tool=callgrind
 * --toggle-collect=profile_run (instructions per lookup = collected
 * instructions / lookups) or perf record.
 */
static int
profile_store(const options *o, const dataset *d, store *st)
{
	store	   *ps = &st[store_index(o->profile)];
	double		t0;

	if (ps->lookup(ps, &d->all) != d->all_sum)
		die("%s returned wrong values in the warm-up pass", ps->name);
	t0 = now_sec();
	if (profile_run(ps, &d->probes) != d->probe_sum)
		die("%s returned wrong values", ps->name);
	printf("%s: %llu lookups in %.3f s\n", ps->name,
		   (unsigned long long) d->nprobe, now_sec() - t0);
	for (int s = ST_BATCHED - 1; s >= 0; s--)
	{
		if (!o->on[s])
			continue;
		st[s].close(&st[s]);
		if (!o->keep)
			st[s].remove(&st[s]);
	}
	return 0;
}

/* Build, warm up, time and trace every store on one dataset. */
int
main(int argc, char **argv)
{
	options		o;
	dataset		d;
	store		st[NSTORES],
				nodedup;
	run_stats	rs[NSTORES];
	double		med_ratio[NSTORES];
	trace_result tr[NTRACED];
	char		prefix[900],
				slug[64];
	FILE	   *tsv = NULL;
	double		t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(rs, 0, sizeof(rs));
	parse_options(argc, argv, &o);
	if (o.latency)
	{
		print_latency();
		return 0;
	}
	if (o.tsv && (tsv = fopen(o.tsv, "a")) == NULL)
		die("could not open \"%s\"", o.tsv);

	t0 = now_sec();
	dataset_generate(&d, o.type, o.keys, o.lookups, o.seed);
	snprintf(slug, sizeof(slug), "%s", d.name);
	for (char *c = slug; *c; c++)
		if (*c == ' ')
			*c = '-';
	snprintf(prefix, sizeof(prefix), "%s/%s", o.dir, slug);
	fprintf(stderr, "[%s] generated in %.1f s\n", d.name, now_sec() - t0);

	store_bundle_init(&st[ST_LINES]);
	store_sorted_init(&st[ST_SORTED], &st[ST_LINES]);
	store_cdb_init(&st[ST_CDB]);
	store_lmdb_init(&st[ST_LMDB]);
	for (int s = 0; s < ST_BATCHED; s++)
	{
		if (!o.on[s])
			continue;
		st[s].build(&st[s], &d, prefix);
		st[s].open(&st[s], &d);
		fprintf(stderr, "[%s] %s built in %.1f s\n", d.name, st[s].name,
				st[s].info.build_sec);
	}
	store_batched_init(&st[ST_BATCHED], &st[ST_LINES]);
	store_bound_init(&st[ST_BOUND], &st[ST_LINES]);
	if (o.profile)
		return profile_store(&o, &d, st);
	if (o.nodedup)
	{
		store_nodedup_init(&nodedup);
		nodedup.build(&nodedup, &d, prefix);
		nodedup.remove(&nodedup);
		fprintf(stderr, "[%s] %s built in %.1f s\n", d.name, nodedup.name,
				nodedup.info.build_sec);
	}

	/* warm-up: every key once in every store, checking every value */
	for (int s = 0; s < NSTORES; s++)
	{
		if (!o.on[s])
			continue;
		t0 = now_sec();
		if (st[s].lookup(&st[s], &d.all) != d.all_sum)
			die("%s returned wrong values in the warm-up pass", st[s].name);
		fprintf(stderr, "[%s] %s warm-up %.1f s\n", d.name, st[s].name,
				now_sec() - t0);
	}

	/* timed runs, rotating which store goes first */
	for (int r = 0; r < o.runs; r++)
	{
		for (int k = 0; k < NSTORES; k++)
		{
			int			s = (r + k) % NSTORES;
			usage_snap	u0,
						u1;
			uint64_t	sum;

			if (!o.on[s])
				continue;
			usage_snapshot(&u0);
			sum = st[s].lookup(&st[s], &d.probes);
			usage_snapshot(&u1);
			if (sum != d.probe_sum)
				die("%s returned wrong values", st[s].name);
			rs[s].rate[r] = (double) d.nprobe / (u1.cpu_sec - u0.cpu_sec);
			rs[s].wall_rate[r] = (double) d.nprobe / (u1.wall_sec - u0.wall_sec);
			rs[s].minflt += u1.minflt - u0.minflt;
			rs[s].majflt += u1.majflt - u0.majflt;
			rs[s].cpu += u1.cpu_sec - u0.cpu_sec;
			rs[s].wall += u1.wall_sec - u0.wall_sec;
		}
		fprintf(stderr, "[%s] run %d: lines %.2fM/s\n", d.name, r + 1,
				rs[ST_LINES].rate[r] / 1e6);
	}

	trace_lookups(store_bundle_handle(&st[ST_LINES]), &d.probes, &tr[ST_LINES]);
	if (o.on[ST_SORTED])
		trace_sorted(&st[ST_SORTED], &d.probes, &tr[ST_SORTED]);

	printf("\n### %s: %llu keys, values %d-%d B, %llu random lookups of present keys, "
		   "%d runs\n", d.name, (unsigned long long) d.n, VALUE_MIN, VALUE_MAX,
		   (unsigned long long) d.nprobe, o.runs);
	print_builds(&d, st, o.on, o.nodedup ? &nodedup : NULL, tsv, slug);
	print_lookups(st, o.on, rs, o.runs, tsv, slug, med_ratio);
	print_lines(&d, st, o.on, tr, tsv, slug);
	stage_breakdown(&d, st, o.on, o.stage_runs, tsv, slug);
	print_targets(&d, st, o.on, tr, med_ratio);

	for (int s = 0; s < NSTORES; s++)
	{
		if (!o.on[s])
			continue;
		st[s].close(&st[s]);
		if (!o.keep)
			st[s].remove(&st[s]);
	}
	if (tsv)
		fclose(tsv);
	dataset_free(&d);
	return 0;
}
