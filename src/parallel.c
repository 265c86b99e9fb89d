/*-------------------------------------------------------------------------
 *
 * parallel.c
 *	  Parallel sequential scans of bundles.
 *
 * Row slots have a fixed width, so participants share a scan by taking
 * chunks of row numbers from an atomic counter in dynamic shared memory.
 * Every participant maps the bundle itself; the leader records which file
 * it mapped, and a worker that finds another file at the path (a refresh
 * committed in between) stops with an error rather than mix two
 * generations in one statement.  Only the sequential scan is parallel:
 * lookups are too cheap to share, and their paths are kept out of
 * workers so that one statement always reads one generation.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/parallel.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "port/atomics.h"

#define SB_PARALLEL_CHUNK	2048	/* rows a participant takes at a time */

struct SbParallelState
{
	dev_t		dev;			/* the file the leader mapped */
	ino_t		ino;
	pg_atomic_uint64 next_row;	/* first row not yet handed out */
	pg_atomic_uint32 delta_taken;	/* a participant returns the delta's rows */
};

/*
 * sbIsForeignScanParallelSafe
 *		Bundles can be read by parallel workers.
 */
bool
sbIsForeignScanParallelSafe(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	return true;
}

/* PostgreSQL's share of the work for 'workers' workers and the leader. */
static double
parallel_divisor(int workers)
{
	double		divisor = workers;

	if (parallel_leader_participation)
	{
		double		leader = 1.0 - 0.3 * workers;

		if (leader > 0)
			divisor += leader;
	}
	return divisor;
}

/*
 * Add a parallel-aware sequential path: the CPU cost is shared among the
 * participants, reading the pages is not (as for heap scans).
 */
void
SbAddPartialPath(PlannerInfo *root, RelOptInfo *baserel, double pages, double rows)
{
	int			workers = compute_parallel_worker(baserel, pages, -1,
												  max_parallel_workers_per_gather);
	double		divisor;
	Cost		startup = baserel->baserestrictcost.startup;
	Cost		cpu;
	ForeignPath *path;

	if (workers <= 0)
		return;
	divisor = parallel_divisor(workers);
	cpu = rows * (cpu_tuple_cost + baserel->baserestrictcost.per_tuple) / divisor;
	path = sb_create_foreignscan_path(root, baserel, NULL,
									  clamp_row_est(baserel->rows / divisor),
									  startup, startup + pages * seq_page_cost + cpu,
									  NIL, NULL, NULL,
									  list_make1(makeInteger(SB_SCAN_SEQ)));
	path->path.parallel_aware = true;
	path->path.parallel_safe = true;
	path->path.parallel_workers = workers;
	add_partial_path(baserel, (Path *) path);
}

/*
 * sbEstimateDSMForeignScan
 *		The shared state of a parallel scan.
 */
Size
sbEstimateDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt)
{
	return sizeof(SbParallelState);
}

/*
 * sbInitializeDSMForeignScan
 *		Record the leader's file and start handing out rows from 0.
 */
void
sbInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
						   void *coordinate)
{
	SbParallelState *ps = coordinate;
	const SbMappingRef *ref = SbScanMappingRef(node);

	ps->dev = ref ? ref->dev : 0;
	ps->ino = ref ? ref->ino : 0;
	pg_atomic_init_u64(&ps->next_row, 0);
	pg_atomic_init_u32(&ps->delta_taken, 0);
	SbScanSetParallel(node, ps);
}

/*
 * sbReInitializeDSMForeignScan
 *		Start over for a rescan.
 */
void
sbReInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
							 void *coordinate)
{
	pg_atomic_write_u64(&((SbParallelState *) coordinate)->next_row, 0);
	pg_atomic_write_u32(&((SbParallelState *) coordinate)->delta_taken, 0);
}

/*
 * sbInitializeWorkerForeignScan
 *		Join the scan, if this worker mapped the leader's file.
 */
void
sbInitializeWorkerForeignScan(ForeignScanState *node, shm_toc *toc,
							  void *coordinate)
{
	SbParallelState *ps = coordinate;
	const SbMappingRef *ref = SbScanMappingRef(node);

	if (ref == NULL)
		return;
	if (ref->dev != ps->dev || ref->ino != ps->ino)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("bundle was replaced while a parallel scan of it started"),
				 errhint("Run the query again.")));
	SbScanSetParallel(node, ps);
}

/*
 * Take the next chunk of rows for this participant: false when all rows
 * are handed out.
 */
bool
SbParallelNextRow(SbParallelState *ps, uint64 nrows, uint64 *next, uint64 *end)
{
	uint64		start = pg_atomic_fetch_add_u64(&ps->next_row, SB_PARALLEL_CHUNK);

	if (start >= nrows)
		return false;
	*next = start;
	*end = Min(start + SB_PARALLEL_CHUNK, nrows);
	return true;
}

/* Is this participant the one that returns the delta's rows? */
bool
SbParallelTakeDelta(SbParallelState *ps)
{
	return pg_atomic_exchange_u32(&ps->delta_taken, 1) == 0;
}
