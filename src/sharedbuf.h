/*-------------------------------------------------------------------------
 *
 * sharedbuf.h
 *	  Declarations shared by the sharedbuf extension's source files.
 *
 * The extension serves bundle files (see src/format) as foreign tables.
 * Names here are grouped by the file that defines them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHAREDBUF_H
#define SHAREDBUF_H

#include "postgres.h"

#include "compat.h"

#include "access/tupdesc.h"
#include "catalog/pg_attribute.h"
#include "fmgr.h"
#include "access/parallel.h"
#include "foreign/fdwapi.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include <sys/types.h>

#include "sbformat.h"

#define SB_BUNDLE_SUFFIX	".sb"

/* in sharedbuf.c */
extern char *sb_directory_setting;
extern char *sb_test_pause_setting;
extern int	sb_prewarm_setting;
extern int	sb_inline_limit_setting;
extern void SbTestPause(const char *point);

/* in paths.c */
extern void SbCheckBundleName(const char *name);
extern char *SbDatabaseDirectory(bool create);
extern char *SbBundlePath(const char *name);
extern char *SbTempPath(const char *name);
extern void SbResolveTemps(const char *name);
extern List *SbListDirectory(const char *suffix, bool hidden);

/* in options.c */
typedef struct SbTableOptions
{
	char	   *bundle;			/* bundle name, or NULL with filename */
	char	   *filename;		/* explicit path, or NULL */
	char	   *path;			/* the file to map */
	char	   *label;			/* names the bundle in messages */
	char	   *query;			/* stored build query, or NULL */
	char	   *key;			/* stored key columns, or NULL */
	bool		approximate;	/* stored build option */
} SbTableOptions;

extern SbTableOptions *SbGetTableOptions(Oid relid);
extern char *SbColumnName(Oid relid, AttrNumber attnum);
extern void SbCheckTable(Relation rel);

/* in errors.c */
pg_noreturn extern void SbReportError(const sb_error *err, const char *what);
pg_noreturn extern void SbReportBuildError(const sb_error *err, const char *what);

/* in cache.c */
typedef struct SbMapping SbMapping;

/* A pinned mapping; released when its memory context goes away. */
typedef struct SbMappingRef
{
	SbMapping  *mapping;
	const sb_bundle *bundle;
	dev_t		dev;			/* identity of the mapped file */
	ino_t		ino;
	uint64		mapping_id;		/* unique per mapping in this backend */
	MemoryContextCallback callback;
} SbMappingRef;

extern SbMappingRef *SbPinBundle(const char *path, const char *label,
								 MemoryContext cxt);
extern void SbUnpinBundle(SbMappingRef *ref);
extern void SbForgetReplacedMapping(const char *path);

/* in types.c */
typedef struct SbTypeInfo
{
	Oid			typid;			/* the column's type (possibly a domain) */
	Oid			basetypid;		/* after domains */
	int32		typmod;
	int16		typlen;			/* of the stored form */
	bool		typbyval;
	char		typalign;
	uint8		storage;		/* SB_STORAGE_* */
	uint8		flags;			/* SB_COLF_* */
	char	   *type_name;		/* "schema.type" */
} SbTypeInfo;

extern void SbDescribeType(Oid typid, int32 typmod, SbTypeInfo *info);
extern uint8 SbKeyKindForType(Oid typid, Oid collation, const char *colname);
extern char *SbQualifiedTypeName(Oid typid);
extern void SbStoreDatum(sb_writer *w, int col, const SbTypeInfo *ti,
						 Datum value, FmgrInfo *sendfn, const char *bundle);
extern Datum SbFetchDatum(const sb_bundle *b, const unsigned char *slot,
						  int col, const sb_column *c, FmgrInfo *recvfn,
						  Oid typioparam, int32 typmod, const char *label);

/* in keys.c */
typedef union SbKeyScratch
{
	float4		f4;
	float8		f8;
	char		bytes[8];
} SbKeyScratch;

/* How to turn probe values of one key column into key parts. */
typedef struct SbProbeInfo
{
	uint8		kind;			/* the bundle key column's sb_key_kind */
	int16		typlen;			/* the bundle key column's stored length */
	uint8		storage;		/* its SB_STORAGE_* */
	Oid			probetype;		/* type of the probe values */
	int16		probelen;
	bool		probebyval;
	FmgrInfo	sendfn;			/* for binary-form keys */
} SbProbeInfo;

extern void SbInitProbeInfo(SbProbeInfo *pi, const sb_column *keycol,
							Oid probetype);
extern bool SbProbeToKeyPart(const SbProbeInfo *pi, Datum value,
							 sb_key_part *part, SbKeyScratch *scratch);
extern bool SbProbeTypeAccepted(uint8 kind, Oid coltype, Oid probetype);
extern bool SbIsKeyEqualityOperator(Oid opno, Oid coltype, Oid inputcollid);

/* in build.c */
typedef struct SbBuildResult
{
	char	   *bundle;
	int64		rows;
	int64		bytes;
	int64		distinct_keys;
	int64		dedup_saved;
	double		seconds;
	List	   *colnames;		/* of the query's result */
	List	   *coltypes;		/* type OIDs */
	List	   *coltypmods;
	List	   *colcollations;
} SbBuildResult;

extern void SbBuildBundle(const char *name, const char *query,
						  const char *keyspec, bool approximate,
						  SbBuildResult *result);
extern Datum SbBuildResultDatum(FunctionCallInfo fcinfo,
								const SbBuildResult *r);

/* in operations.c */
extern unsigned SbPrewarmFlags(const char *mode);

/* in functions.c */
extern void SbRefreshTable(Oid relid, const char *query, SbBuildResult *result);

/* in swap.c */
extern void SbLockBundle(const char *name);
extern void SbMakeXidDurable(const char *name);
extern void SbResolveTempsIfIdle(const char *name);
extern void SbRegisterPendingSwap(const char *name, const char *temp,
								  const char *final);
extern bool SbPendingPath(const char *final, const char **temp);
extern void SbSwapInit(void);

/* in retire.c */
extern int	SbOpenShared(const char *file, bool *held);
extern void SbCloseShared(int fd);
extern bool SbRetireFile(const char *final, bool drop);
extern void SbSweepOwnRetired(void);
extern void SbSweepRetired(void);
extern void SbRetireInit(void);

/* in analyze.c */
extern bool sbAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
								  BlockNumber *totalpages);

/* in import.c */
extern List *sbImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid);

/* in planner.c */
extern void sbGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								Oid foreigntableid);
extern void sbGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
							  Oid foreigntableid);
extern ForeignScan *sbGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
									 Oid foreigntableid, ForeignPath *best_path,
									 List *tlist, List *scan_clauses,
									 Plan *outer_plan);

/* fdw_private of a ForeignScan plan node */
enum SbScanPrivateIndex
{
	SbPrivPath,					/* String: the bundle file */
	SbPrivLabel,				/* String: bundle name, for messages */
	SbPrivMode,					/* Integer: SbScanMode */
	SbPrivKeyNames,				/* List of String: bundle key columns probed */
	SbPrivAttrs,				/* List of Integer: attnums to fetch */
	SbPrivRows					/* Integer: rows in the bundle at plan time */
};

typedef enum SbScanMode
{
	SB_SCAN_SEQ = 0,			/* all rows */
	SB_SCAN_EQ = 1,				/* one key: fdw_exprs hold one expr per key column */
	SB_SCAN_ANY = 2				/* fdw_exprs hold one array expression */
} SbScanMode;

/* in colmap.c */
typedef struct SbColumnMap
{
	int			bcol;			/* bundle column, or -1 if dropped */
	int			keypos;			/* key position of an unstored key, or -1 */
	bool		binary;			/* stored in binary form */
	FmgrInfo	recv;
	Oid			typioparam;
	int32		typmod;
} SbColumnMap;

typedef struct SbTableMap
{
	int			natts;
	SbColumnMap *cols;			/* one per table column */
	bool		any_binary;
} SbTableMap;

extern SbTableMap *SbGetTableMap(Relation rel, const SbMappingRef *ref,
								 const char *label);

/* in scan.c */
extern int	SbBundleColumnFor(const sb_bundle *b, Relation rel,
							  Form_pg_attribute att, const char *label);
extern void sbBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *sbIterateForeignScan(ForeignScanState *node);
extern void sbReScanForeignScan(ForeignScanState *node);
extern void sbEndForeignScan(ForeignScanState *node);
extern void sbExplainForeignScan(ForeignScanState *node,
								 struct ExplainState *es);

/* in parallel.c */
typedef struct SbParallelState SbParallelState;
extern bool sbIsForeignScanParallelSafe(PlannerInfo *root, RelOptInfo *rel,
										RangeTblEntry *rte);
extern Size sbEstimateDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt);
extern void sbInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
									   void *coordinate);
extern void sbReInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
										 void *coordinate);
extern void sbInitializeWorkerForeignScan(ForeignScanState *node, shm_toc *toc,
										  void *coordinate);
extern bool SbParallelNextRow(SbParallelState *ps, uint64 nrows, uint64 *next,
							  uint64 *end);
extern const SbMappingRef *SbScanMappingRef(ForeignScanState *node);
extern void SbScanSetParallel(ForeignScanState *node, SbParallelState *ps);
extern void SbAddPartialPath(PlannerInfo *root, RelOptInfo *baserel, double pages,
							 double rows);

#endif							/* SHAREDBUF_H */
