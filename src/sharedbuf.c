/*-------------------------------------------------------------------------
 *
 * sharedbuf.c
 *	  Module entry points: settings, the foreign-data wrapper handler.
 *
 * sharedbuf needs no shared memory and works without
 * shared_preload_libraries: every backend maps bundle files on its own,
 * and the operating system's page cache shares their pages.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

char	   *sb_directory_setting = NULL;
char	   *sb_test_pause_setting = NULL;
int			sb_prewarm_setting = 0;
int			sb_inline_limit_setting = SB_INLINE_DEFAULT;

static const struct config_enum_entry prewarm_options[] = {
	{"none", 0, false},
	{"index", SB_PREWARM_INDEX, false},
	{"rows", SB_PREWARM_INDEX | SB_PREWARM_ROWS, false},
	{"all", SB_PREWARM_ALL, false},
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
	MarkGUCPrefixReserved("sharedbuf");
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
 * Crash tests: if sharedbuf.test_pause names this point, log it and sleep
 * for a minute, so that a test can kill the backend here.
 */
void
SbTestPause(const char *point)
{
	if (sb_test_pause_setting == NULL || strcmp(sb_test_pause_setting, point) != 0)
		return;
	ereport(LOG, (errmsg("sharedbuf: paused at %s", point)));
	pg_usleep(60L * 1000000L);
}
