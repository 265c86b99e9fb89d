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

#include "access/transam.h"
#include "compat.h"

#include "access/sdir.h"
#include "access/stratnum.h"
#include "access/tupdesc.h"
#include "utils/snapshot.h"
#include "access/xlogdefs.h"
#include "catalog/pg_attribute.h"
#include "fmgr.h"
#include "tcop/dest.h"
#include "access/parallel.h"
#include "foreign/fdwapi.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include <sys/types.h>

#include "sbformat.h"

#define SB_BUNDLE_SUFFIX	".sb"

/* in settings.c */
extern char *sb_directory_setting;
extern int	sb_prewarm_setting;
extern int	sb_inline_limit_setting;
extern int	sb_fold_threshold_setting;
extern int	sb_follow_fold_threshold_setting;
extern double sb_fold_merge_limit_setting;
extern bool sb_compact_setting;
extern int	sb_stale_timeout_setting;
extern bool sb_wal_log_setting;
extern int	sb_wal_compression_setting;
extern void SbDefineSettings(void);
#ifdef SB_TEST_HOOKS
extern void SbTestPause(const char *point);
#else
#define SbTestPause(point)	((void) 0)
#endif

/* in paths.c */
extern bool SbIsBundleName(const char *name);
extern void SbCheckBundleName(const char *name);
extern char *SbDirectoryOf(Oid dboid, bool create);
extern char *SbDatabaseDirectory(bool create);
extern char *SbBundlePath(const char *name);
extern List *SbListDirectory(const char *suffix, bool hidden);

/* in settle.c */
typedef enum SbSettleMode
{
	SB_SETTLE_READER,			/* a backend of a running server */
	SB_SETTLE_COMMIT,			/* the backend that just committed */
	SB_SETTLE_REDO,				/* WAL replay */
	SB_SETTLE_RECOVERY_END		/* the end of WAL recovery */
} SbSettleMode;

extern char *SbFlightPath(Oid dboid, const char *name, TransactionId xid,
						  int pid, XLogRecPtr lsn, const char *suffix);
extern bool SbParseFlightName(const char *fname, const char *name,
							  const char *suffix, TransactionId *xid, int *pid,
							  XLogRecPtr *lsn);
extern char *SbFlightBundleName(const char *fname);
extern bool SbSettleBundle(Oid dboid, const char *name, SbSettleMode mode);
extern void SbSettleAll(void);

/* in catalog.c */
#define SB_BUILD_ID_LEN		32	/* hex digits */

typedef struct SbCatalogEntry
{
	Oid			owner;
	int64		generation;
	char		build_id[SB_BUILD_ID_LEN + 1];	/* "" if unknown */
} SbCatalogEntry;

extern char *SbOrigin(void);
extern Oid	SbExtensionSchema(void);
extern bool SbCatalogPresent(void);
extern bool SbCatalogLookup(const char *name, bool latest, SbCatalogEntry *entry);
extern bool SbCatalogCheckOwner(const char *name, SbCatalogEntry *entry);
extern bool SbCatalogMayUse(const char *name);
extern void SbCatalogRecordBuild(const char *name, int64 generation,
								 const char *build_id, const char *query,
								 const char *key);
extern void SbCatalogDelete(const char *name);
extern void SbLockBundle(const char *name);

/* in wal.c */
#define SB_RMGR_ID				128 /* RM_EXPERIMENTAL_ID, until one is reserved */
#define SB_WAL_COMPRESS_NONE	0
#define SB_WAL_COMPRESS_LZ4		1

extern void SbWalInit(void);
extern bool SbWalEnabled(void);
extern XLogRecPtr SbLogStart(const char *name, bool drop);
extern void SbLogFile(const char *name, XLogRecPtr begin, const char *temp);
extern void SbLogInstall(const char *name);

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
	bool		follow;			/* follows the table its query reads */
} SbTableOptions;

extern SbTableOptions *SbGetTableOptions(Oid relid);
extern char *SbColumnName(Oid relid, AttrNumber attnum);
extern SbTableOptions *SbOpenTable(Oid relid, Relation *relp);

/* in errors.c */
pg_noreturn extern void SbReportError(const sb_error *err, const char *what);
pg_noreturn extern void SbReportBuildError(const sb_error *err, const char *what);

/* in cache.c */
typedef struct SbMapping SbMapping;

/* A pinned mapping; released when its memory context goes away. */
typedef struct SbMappingRef
{
	SbMapping  *mapping;
	sb_bundle  *bundle;
	dev_t		dev;			/* identity of the mapped file */
	ino_t		ino;
	uint64		mapping_id;		/* unique per mapping in this backend */
	MemoryContextCallback callback;
} SbMappingRef;

extern SbMappingRef *SbPinBundle(const char *path, const char *label,
								 MemoryContext cxt);
extern void SbUnpinBundle(SbMappingRef *ref);
extern int64 SbMetaInt64(const sb_bundle *b, const char *key);
extern void SbCacheInit(void);

/* in names.c */
extern char *SbQualifiedRelationName(Oid relid);
extern char *SbQualifiedTypeName(Oid typid);
extern char *SbQualifiedFunctionName(Oid proc);
extern char *SbQualifiedOpfamilyName(Oid opfamily);
extern char *SbQualifiedCollationName(Oid collation);

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
extern void SbStoreDatum(sb_writer *w, int col, const SbTypeInfo *ti,
						 Datum value, FmgrInfo *sendfn, const char *bundle);
extern Datum SbFetchDatum(sb_bundle *b, const unsigned char *slot,
						  int col, const sb_column *c, FmgrInfo *recvfn,
						  Oid typioparam, int32 typmod, const char *label);

/* in keys.c */
typedef union SbKeyScratch
{
	float4		f4;
	float8		f8;
	uint64		hash;
	char		bytes[8];
} SbKeyScratch;

/* How a hashed key column's values are hashed (SB_KEY_HASHED). */
typedef struct SbKeyHash
{
	Oid			opfamily;		/* hash family of the type's default class */
	Oid			proc;			/* its extended hash function for the type */
	Oid			collation;		/* InvalidOid if the type has none */
	bool		trim_blanks;	/* character(n): hash without trailing blanks */
} SbKeyHash;

/* A lookup's probe of a hashed key part, as the plan chose it. */
typedef struct SbHashedProbe
{
	Oid			opfamily;		/* the key's hash family */
	Oid			opno;			/* the clause's equality */
	bool		key_left;		/* the key is the operator's left input */
	Oid			collation;		/* the clause's input collation */
	Oid			probetype;		/* the operator's type on the probe side */
	AttrNumber	attno;			/* the table's key column */
} SbHashedProbe;

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
	/* hashed keys */
	SbHashedProbe hashed;
	FmgrInfo	hashfn;			/* hashes probe values */
	FmgrInfo	confirmfn;		/* the clause's equality */
	FmgrInfo	probe_eqfn;		/* equality of two probe values */
	bool		have_probe_eq;
} SbProbeInfo;

#define SB_KEY_HASH_FIELDS	4

extern void SbInitProbeInfo(SbProbeInfo *pi, const sb_column *keycol,
							Oid probetype);
extern void SbInitHashedProbe(SbProbeInfo *pi, const SbHashedProbe *hp);
extern bool SbConfirmHashed(const SbProbeInfo *pi, Datum rowvalue, Datum probe);
extern bool SbProbesEqual(const SbProbeInfo *pi, Datum a, Datum b);
extern bool SbKeyHashFor(Oid typid, Oid collation, SbKeyHash *kh);
extern uint64 SbKeyHashValue(FmgrInfo *fn, Oid collation, bool trim_blanks,
							 Datum value);
extern void SbKeyHashValues(const SbKeyHash *kh, const char **values);
extern char *SbKeyHashMetaKey(int keypos, int field);
extern char *SbKeyHashSignature(const SbKeyHash *kh);
extern char *SbBundleKeyHashSignature(const sb_bundle *b, int k);
extern bool SbHashedOperatorUsable(const SbKeyHash *kh, Oid opno,
								   Oid inputcollid, bool key_left, bool is_any,
								   Oid *probetype);
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
extern void SbFoldBundle(Relation ftrel, const char *name, const char *query,
						 const char *keyspec, SbBuildResult *result);
extern Datum SbBuildResultDatum(FunctionCallInfo fcinfo,
								const SbBuildResult *r);

/* in operations.c */
extern unsigned SbPrewarmFlags(const char *mode);

/* in functions.c */
extern void SbRefreshTable(Oid relid, const char *query, SbBuildResult *result);
extern List *SbExecuteSql(const char *sql, bool read_only);
extern char *SbCurrentKey(const SbTableOptions *opts);

/* in swap.c */
extern void SbOnSwap(void (*callback) (const char *final));
extern void SbRegisterPendingSwap(const char *name, const char *file,
								  const char *final, bool drop);
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
	SbPrivRows,					/* Integer: rows in the bundle at plan time */
	SbPrivKeyProbes				/* List of List: per key probed, its kind and,
								 * if hashed, how (planner.c) */
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
	bool		any_binary;		/* some values are rebuilt per row: binary
								 * form, or symbol-coded */
} SbTableMap;

extern SbTableMap *SbGetTableMap(Relation rel, const SbMappingRef *ref,
								 const char *label);

/* in delta.c */
#define SB_DELTA_SCHEMA		"sharedbuf_delta"

typedef struct SbDelta
{
	Oid			relid;			/* the delta table */
	Oid			runas;			/* whose rights read and write it: the
								 * foreign table's owner */
	char	   *bundle;
	char	   *qualname;		/* its quoted, qualified name */
	char	   *seqname;		/* its generation sequence's */
	int			natts;			/* of the foreign table */
	char	  **colnames;		/* quoted; NULL for dropped columns */
	AttrNumber *deltaatts;		/* per table column, the delta's column */
	AttrNumber	gen_att;		/* the delta's sb_gen, sb_kind and sb_seq */
	AttrNumber	kind_att;
	AttrNumber	seq_att;
	int			nkeys;
	AttrNumber	keyattnos[SB_MAX_KEY_COLUMNS];	/* in the foreign table */
	Oid			keytypes[SB_MAX_KEY_COLUMNS];
	Oid			marker_index;	/* (key, sb_gen) of the markers */
	Oid			row_index;		/* (key, sb_gen) of the rows */
	Oid			gen_index;		/* (sb_gen) */
	bool		unique;			/* a key has at most one row */
} SbDelta;

extern Oid	SbDeltaSchema(void);
extern char *SbDeltaObject(const char *bundle, const char *suffix);
extern AttrNumber SbTableAttnum(Relation ftrel, const char *name);
extern Oid	SbDeltaRelid(const char *bundle);
extern SbDelta *SbDeltaFor(Relation ftrel, const char *bundle);
extern int	SbDeltaRun(Oid runas, const char *sql, int nargs, Oid *argtypes,
					   Datum *values, const char *nulls, bool read_only);
extern char *SbDeltaKeyCondition(const SbDelta *d, const char *alias, int first,
								 const Oid *argtypes);
extern char *SbDeltaColumnList(const SbDelta *d, const char *alias);
extern int64 SbDeltaGeneration(const SbDelta *d);
extern int64 SbFoldedThrough(sb_bundle *b);
extern int64 SbDeltaStartRebuild(const char *bundle);
extern void SbDeltaFinishRebuild(const char *bundle, int64 gen);
extern void SbDeltaCreate(Relation ftrel, const char *bundle, sb_bundle *b, Oid owner);
extern void SbDeltaDrop(const char *bundle, int64 folded_through, bool if_empty);
extern char *SbEqualitySql(Oid ltype, Oid rtype);
extern void SbDeltaCount(const SbDelta *d, int64 folded, Datum *keys, Datum *rows);
extern void SbDeltaClaimKey(const SbDelta *d, const char *ftname, int64 gen,
							const Datum *keys);
extern List *SbDeltaIndexRows(const SbDelta *d, Oid indexid, const Datum *keys,
							  const Oid *types, StrategyNumber genop, int64 gen,
							  Snapshot snapshot, ScanDirection dir, int limit);
extern List *SbDeltaKeyRows(const SbDelta *d, int64 gen, const Datum *keys);
extern bool SbDeltaHasRows(const SbDelta *d, int64 folded);

/* in deltaread.c */
typedef struct SbDeltaRead SbDeltaRead;

extern SbDeltaRead *SbDeltaBeginRead(Relation ftrel, const char *bundle,
									 sb_bundle *b, MemoryContext cxt);
extern bool SbDeltaEmpty(SbDeltaRead *dr);
extern bool SbDeltaLookup(SbDeltaRead *dr, const Datum *keys, const Oid *types,
						  List **rows);
extern void SbDeltaLoad(SbDeltaRead *dr);
extern bool SbDeltaOverrides(SbDeltaRead *dr, TupleTableSlot *slot);
extern List *SbDeltaAllRows(SbDeltaRead *dr);
extern void SbDeltaStoreRow(SbDeltaRead *dr, HeapTuple row, TupleTableSlot *slot);
extern List *SbDeltaClaim(SbDeltaRead *dr, TupleTableSlot *slot);
extern const char *SbDeltaName(SbDeltaRead *dr);
extern const SbDelta *SbDeltaDefinition(SbDeltaRead *dr);
extern long SbDeltaKeyCount(SbDeltaRead *dr);
extern void SbDeltaEachKey(SbDeltaRead *dr,
						   void (*fn) (void *arg, const Datum *keys, List *rows),
						   void *arg);

/* in deltaddl.c */
extern sb_bundle *SbOpenBundleFile(const char *name);
extern void SbMakeWritable(Relation rel, const char *bundle);

/* in merge.c */
typedef struct SbMerge SbMerge;

extern SbMerge *SbMergeStart(Relation ftrel, const char *bundle, MemoryContext cxt);
extern sb_bundle *SbMergeBase(SbMerge *mg);
extern int64 SbMergedRows(sb_bundle *b);
extern int64 SbMergeRows(SbMerge *mg, sb_writer *w, DestReceiver *dest);

/* in follow.c */
#define SB_FOLLOW_OLD		"sb_old"	/* the triggers' transition tables */
#define SB_FOLLOW_NEW		"sb_new"

typedef struct SbFollowPlan
{
	Oid			source;			/* the followed table */
	char	   *columns;		/* the delta's columns over its row "s" */
	char	   *qual;			/* the query's WHERE clause over "s" */
	char	   *keys;			/* "s.k1 AS sb_k1, ...": the key over "s" */
} SbFollowPlan;

extern SbFollowPlan *SbFollowPlanFor(Relation ftrel, const SbDelta *d,
									 const char *bundle, const char *query,
									 const char *keyspec);
extern void SbFollowStart(Relation ftrel, const SbFollowPlan *fp);
extern Oid	SbFollowStop(Oid ftrelid);
extern void SbFollowStopBundle(const char *bundle);
extern Oid	SbFollowedTable(Oid ftrelid);
extern char **SbTriggerArgs(Relation tgrel, HeapTuple tup);
extern Oid	SbFollowPrepare(Oid ftrelid, const char *bundle, const char *query,
							const char *keyspec, bool new_query);
extern void SbFollowFinish(Relation ftrel, const char *bundle, const char *query,
						   const char *keyspec);

/* in foldworker.c */
extern void SbFollowFoldIfPast(Relation ftrel, const SbDelta *d);

/* in writable.c */
extern void SbFoldTable(Relation rel, const SbTableOptions *opts, const SbDelta *d,
						SbBuildResult *result);

/* in modify.c */
extern int	sbIsForeignRelUpdatable(Relation rel);
extern void sbAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
									  RangeTblEntry *target_rte,
									  Relation target_relation);
extern List *sbPlanForeignModify(PlannerInfo *root, ModifyTable *plan,
								 Index resultRelation, int subplan_index);
extern void sbBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
								 List *fdw_private, int subplan_index, int eflags);
extern TupleTableSlot *sbExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
										   TupleTableSlot *slot,
										   TupleTableSlot *planSlot);
extern TupleTableSlot **sbExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo,
												 TupleTableSlot **slots,
												 TupleTableSlot **planSlots,
												 int *numSlots);
extern int	sbGetForeignModifyBatchSize(ResultRelInfo *rinfo);
extern TupleTableSlot *sbExecForeignUpdate(EState *estate, ResultRelInfo *rinfo,
										   TupleTableSlot *slot,
										   TupleTableSlot *planSlot);
extern TupleTableSlot *sbExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
										   TupleTableSlot *slot,
										   TupleTableSlot *planSlot);
extern void sbEndForeignModify(EState *estate, ResultRelInfo *rinfo);
extern void sbBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo);
extern void sbEndForeignInsert(EState *estate, ResultRelInfo *rinfo);
extern void sbExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
								   List *fdw_private, int subplan_index,
								   struct ExplainState *es);

/* in scan.c */
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
extern bool SbParallelTakeDelta(SbParallelState *ps);
extern const SbMappingRef *SbScanMappingRef(ForeignScanState *node);
extern void SbScanClaimKeys(ForeignScanState *node);
extern void SbScanSetParallel(ForeignScanState *node, SbParallelState *ps);
extern void SbAddPartialPath(PlannerInfo *root, RelOptInfo *baserel, double pages,
							 double rows);

#endif							/* SHAREDBUF_H */
