/*-------------------------------------------------------------------------
 *
 * sharedbuf.c
 *	  Module entry points: settings, the foreign-data wrapper handler.
 *
 * sharedbuf needs no shared memory: every backend maps bundle files on its
 * own, and the operating system's page cache shares their pages.  It works
 * without shared_preload_libraries; preloaded, it also registers the WAL
 * resource manager that carries bundles to standbys (wal.c).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <unistd.h>

#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

char	   *sb_directory_setting = NULL;
char	   *sb_test_pause_setting = NULL;
int			sb_prewarm_setting = 0;
int			sb_inline_limit_setting = SB_INLINE_DEFAULT;
int			sb_stale_timeout_setting = 5000;

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

PG_FUNCTION_INFO_V1(sharedbuf_fdw_handler);

void		_PG_init(void);

/* Define the settings and register transaction callbacks. */
void
_PG_init(void)
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
	DefineCustomStringVariable("sharedbuf.test_pause",
							   "Pauses a backend at a named point of a build, for crash tests.",
							   NULL,
							   &sb_test_pause_setting,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);
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
	MarkGUCPrefixReserved("sharedbuf");
	SbWalInit();
	SbSwapInit();
	SbRetireInit();
}

/*
 * sharedbuf_fdw_handler
 *		Return the FdwRoutine of the sharedbuf foreign-data wrapper.
 */
Datum
sharedbuf_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = sbGetForeignRelSize;
	routine->GetForeignPaths = sbGetForeignPaths;
	routine->GetForeignPlan = sbGetForeignPlan;
	routine->BeginForeignScan = sbBeginForeignScan;
	routine->IterateForeignScan = sbIterateForeignScan;
	routine->ReScanForeignScan = sbReScanForeignScan;
	routine->EndForeignScan = sbEndForeignScan;
	routine->ExplainForeignScan = sbExplainForeignScan;
	routine->AnalyzeForeignTable = sbAnalyzeForeignTable;
	routine->ImportForeignSchema = sbImportForeignSchema;
	routine->IsForeignScanParallelSafe = sbIsForeignScanParallelSafe;
	routine->EstimateDSMForeignScan = sbEstimateDSMForeignScan;
	routine->InitializeDSMForeignScan = sbInitializeDSMForeignScan;
	routine->ReInitializeDSMForeignScan = sbReInitializeDSMForeignScan;
	routine->InitializeWorkerForeignScan = sbInitializeWorkerForeignScan;

	PG_RETURN_POINTER(routine);
}

/*
 * Crash tests: if sharedbuf.test_pause names this point, log it and wait
 * for a minute, or until a file "sharedbuf_test_release" appears in the
 * data directory, so that a test can kill the process here or let it go.
 */
void
SbTestPause(const char *point)
{
	char	   *release;

	if (sb_test_pause_setting == NULL || strcmp(sb_test_pause_setting, point) != 0)
		return;
	ereport(LOG, (errmsg("sharedbuf: paused at %s", point)));
	release = psprintf("%s/sharedbuf_test_release", DataDir);
	for (int i = 0; i < 600 && access(release, F_OK) != 0; i++)
		pg_usleep(100000L);
	pfree(release);
}
