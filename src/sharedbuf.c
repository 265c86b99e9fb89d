/*-------------------------------------------------------------------------
 *
 * sharedbuf.c
 *	  Module entry points: _PG_init, the foreign-data wrapper handler.
 *
 * sharedbuf needs no shared memory: every backend maps bundle files on its
 * own, and the operating system's page cache shares their pages.  It works
 * without shared_preload_libraries; preloaded, it also registers the WAL
 * resource manager that carries bundles to standbys (wal.c).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "foreign/fdwapi.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(sharedbuf_fdw_handler);

void		_PG_init(void);

/* Define the settings, register callbacks and the WAL resource manager. */
void
_PG_init(void)
{
	SbDefineSettings();
	SbCacheInit();
	SbSwapInit();
	SbRetireInit();
	SbWalInit();
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
	routine->IsForeignRelUpdatable = sbIsForeignRelUpdatable;
	routine->AddForeignUpdateTargets = sbAddForeignUpdateTargets;
	routine->PlanForeignModify = sbPlanForeignModify;
	routine->BeginForeignModify = sbBeginForeignModify;
	routine->ExecForeignInsert = sbExecForeignInsert;
	routine->ExecForeignBatchInsert = sbExecForeignBatchInsert;
	routine->GetForeignModifyBatchSize = sbGetForeignModifyBatchSize;
	routine->ExecForeignUpdate = sbExecForeignUpdate;
	routine->ExecForeignDelete = sbExecForeignDelete;
	routine->EndForeignModify = sbEndForeignModify;
	routine->BeginForeignInsert = sbBeginForeignInsert;
	routine->EndForeignInsert = sbEndForeignInsert;
	routine->ExplainForeignModify = sbExplainForeignModify;
	routine->ImportForeignSchema = sbImportForeignSchema;
	routine->IsForeignScanParallelSafe = sbIsForeignScanParallelSafe;
	routine->EstimateDSMForeignScan = sbEstimateDSMForeignScan;
	routine->InitializeDSMForeignScan = sbInitializeDSMForeignScan;
	routine->ReInitializeDSMForeignScan = sbReInitializeDSMForeignScan;
	routine->InitializeWorkerForeignScan = sbInitializeWorkerForeignScan;

	PG_RETURN_POINTER(routine);
}
