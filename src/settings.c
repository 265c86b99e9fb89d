/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The extension's settings (sharedbuf.*), and the pauses of crash tests.
 *
 * sharedbuf.test_pause and the pauses exist only in test builds (make
 * SB_TEST_HOOKS=1, as scripts/test builds).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <unistd.h>

#include "miscadmin.h"
#include "utils/guc.h"

char	   *sb_directory_setting = NULL;
#ifdef SB_TEST_HOOKS
static char *sb_test_pause_setting = NULL;
#endif
int			sb_prewarm_setting = 0;
int			sb_fold_threshold_setting = 0;
int			sb_follow_fold_threshold_setting = 100000;
double		sb_fold_merge_limit_setting = 0.25;
int			sb_inline_limit_setting = SB_INLINE_DEFAULT;
bool		sb_compact_setting = true;
int			sb_stale_timeout_setting = 5000;
bool		sb_wal_log_setting = true;
int			sb_wal_compression_setting = SB_WAL_COMPRESS_NONE;

static const struct config_enum_entry prewarm_options[] = {
	{"none", 0, false},
	{"index", SB_PREWARM_INDEX, false},
	{"rows", SB_PREWARM_INDEX | SB_PREWARM_ROWS, false},
	{"all", SB_PREWARM_ALL, false},
	{NULL, 0, false}
};

static const struct config_enum_entry wal_compression_options[] = {
	{"off", SB_WAL_COMPRESS_NONE, false},
#ifdef USE_LZ4
	{"lz4", SB_WAL_COMPRESS_LZ4, false},
#endif
	{NULL, 0, false}
};

/* The settings of where bundles live and how backends read them. */
static void
define_reading_settings(void)
{
	DefineCustomStringVariable("sharedbuf.directory",
							   "Directory that holds bundle files.",
							   "A relative path is taken from the data directory; each database "
							   "has a subdirectory named by its OID.",
							   &sb_directory_setting,
							   "sharedbuf",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomEnumVariable("sharedbuf.prewarm",
							 "What a backend reads into memory when it first maps a bundle.",
							 "\"index\" makes first lookups as fast as later ones; \"all\" also "
							 "the rows and values.",
							 &sb_prewarm_setting,
							 0,
							 prewarm_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("sharedbuf.inline_limit",
							"Widest area for short values inside each row slot of a new bundle.",
							"Builds keep values that fit next to their row, so a lookup reads "
							"one place in the file; 0 stores every value in the value heap.",
							&sb_inline_limit_setting,
							SB_INLINE_DEFAULT,
							0, SB_MAX_INLINE,
							PGC_USERSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sharedbuf.fold_threshold",
							"Rows in a writable bundle's delta past which a write folds it.",
							"At the end of a statement that wrote to a writable bundle whose "
							"delta then holds at least this many rows, the statement folds "
							"the delta into a new bundle, unless another writer is active; "
							"0 turns this off.",
							&sb_fold_threshold_setting,
							0,
							0, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sharedbuf.follow_fold_threshold",
							"Rows in a following bundle's delta past which a worker folds it.",
							"When a transaction that changed a followed table commits and the "
							"following bundle's delta holds at least this many rows, a "
							"background worker folds it; 0 turns this off.",
							&sb_follow_fold_threshold_setting,
							100000,
							0, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomRealVariable("sharedbuf.fold_merge_limit",
							 "Fraction of a writable bundle's rows a fold may replace by merging.",
							 "A fold copies the bundle's unchanged rows and values as they are and "
							 "adds the delta's rows, while the rows replaced so since the last "
							 "full build stay within this fraction of the bundle's rows; beyond it, "
							 "or at 0, a fold rewrites the bundle from the table.",
							 &sb_fold_merge_limit_setting,
							 0.25,
							 0.0, 1.0,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("sharedbuf.compact",
							 "Stores the columns of new bundles in compact encodings where they save space.",
							 "Integer columns as offsets in the fewest bytes their range needs, "
							 "short repetitive values with a symbol table, value references in "
							 "4 bytes; each only where it saves a third of the column.",
							 &sb_compact_setting,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/* The settings of the WAL and of standbys. */
static void
define_wal_settings(void)
{
	DefineCustomBoolVariable("sharedbuf.wal_log",
							 "Writes new bundles to the WAL, for standbys and recovery.",
							 "Takes effect only with sharedbuf in shared_preload_libraries and "
							 "wal_level replica or logical.",
							 &sb_wal_log_setting,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("sharedbuf.wal_compression",
							 "Compresses the bundle bytes a build writes to the WAL.",
							 NULL,
							 &sb_wal_compression_setting,
							 SB_WAL_COMPRESS_NONE,
							 wal_compression_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("sharedbuf.stale_timeout",
							"How long a reader waits for the committed generation of a bundle.",
							"A reader whose bundle file is older than the generation its "
							"snapshot sees committed waits this long for it, then fails.",
							&sb_stale_timeout_setting,
							5000,
							0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* Define the settings; called once from _PG_init. */
void
SbDefineSettings(void)
{
	define_reading_settings();
	define_wal_settings();
#ifdef SB_TEST_HOOKS
	DefineCustomStringVariable("sharedbuf.test_pause",
							   "Pauses a backend at a named point of a build, for crash tests.",
							   NULL,
							   &sb_test_pause_setting,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);
#endif
	MarkGUCPrefixReserved("sharedbuf");
}

#ifdef SB_TEST_HOOKS
/*
 * Crash tests: if sharedbuf.test_pause names this point, log it and wait
 * for a minute, or until a file "sharedbuf_test_release" appears in the
 * data directory (every pause goes on while it is there), or a file
 * "sharedbuf_test_step" (this pause goes on and removes it), so that a
 * test can kill the process here or let it go.
 */
void
SbTestPause(const char *point)
{
	char	   *release;
	char	   *step;

	if (sb_test_pause_setting == NULL || strcmp(sb_test_pause_setting, point) != 0)
		return;
	ereport(LOG, (errmsg("sharedbuf: paused at %s", point)));
	release = psprintf("%s/sharedbuf_test_release", DataDir);
	step = psprintf("%s/sharedbuf_test_step", DataDir);
	/* "step" lets one pause go on, and is used up; "release" lets all */
	for (int i = 0; i < 600 && access(release, F_OK) != 0 && unlink(step) != 0; i++)
		pg_usleep(100000L);
	pfree(release);
	pfree(step);
}
#endif
