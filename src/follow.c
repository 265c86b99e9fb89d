/*-------------------------------------------------------------------------
 *
 * follow.c
 *	  Bundles that follow their source table: which queries can be
 *	  followed, and the triggers that follow them.
 *
 * A writable bundle (delta.c) whose build query projects the rows of one
 * table, keyed by columns that identify a row of it, can follow that
 * table: statement-level triggers with transition tables on the table
 * write, in the same transaction, the new state of every key a statement
 * changed into the bundle's delta (followwrite.c).  This file checks a
 * query's shape, turning it into what the triggers run (its select list
 * and WHERE clause over the transition table, deparsed with every name
 * qualified), and creates and drops the triggers.  They are internal
 * triggers, like a foreign key's: not dumped, not shown by \d, dropped
 * with the table, the foreign table or the extension.  An event trigger
 * checks the followed tables after ALTER TABLE and DROP INDEX, and a
 * bundle whose query no longer fits its table stops following, with a
 * warning; its last rows stay readable, and a refresh follows again.
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/varlena.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#define SB_FOLLOW_FUNCTION	"sharedbuf_follow_trigger"
#define SB_FOLLOW_ALIAS		"s"

PG_FUNCTION_INFO_V1(sharedbuf_follow_ddl);

/* Refuse a query that cannot be followed, saying which part. */
pg_noreturn static void
refuse(const char *bundle, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("bundle \"%s\" cannot follow its query", bundle),
			 errdetail("%s", detail),
			 errhint("A following bundle's query selects expressions of the columns of one table, "
					 "optionally with a WHERE clause on them, keyed by columns that include a "
					 "primary key or a unique index on NOT NULL columns.")));
}

/* Parse and analyze a build query. */
static Query *
analyze_query(const char *bundle, const char *query)
{
	List	   *raw = pg_parse_query(query);
	Query	   *q;

	if (list_length(raw) != 1)
		refuse(bundle, "The query is not a single statement.");
	q = parse_analyze_fixedparams(linitial_node(RawStmt, raw), query, NULL, 0, NULL);
	if (q->commandType != CMD_SELECT || q->utilityStmt != NULL)
		refuse(bundle, "The query is not a SELECT.");
	return q;
}

/* Check the parts of a query around its one table. */
static void
check_query_shape(const char *bundle, Query *q)
{
	if (q->setOperations)
		refuse(bundle, "The query combines queries with UNION, INTERSECT or EXCEPT.");
	if (q->cteList)
		refuse(bundle, "The query has a WITH clause.");
	if (q->hasAggs || q->groupClause || q->groupingSets || q->havingQual)
		refuse(bundle, "The query aggregates rows.");
	if (q->hasWindowFuncs)
		refuse(bundle, "The query has a window function.");
	if (q->distinctClause)
		refuse(bundle, "The query has DISTINCT.");
	if (q->limitCount || q->limitOffset)
		refuse(bundle, "The query has LIMIT or OFFSET.");
	if (q->hasTargetSRFs)
		refuse(bundle, "The query's select list returns sets.");
	if (q->hasSubLinks)
		refuse(bundle, "The query has a subquery.");
	if (q->rowMarks)
		refuse(bundle, "The query locks rows.");
	if (list_length(q->rtable) != 1 || list_length(q->jointree->fromlist) != 1 ||
		!IsA(linitial(q->jointree->fromlist), RangeTblRef))
		refuse(bundle, "The query does not read exactly one table.");
}

/* The table a query reads, checked. */
static Oid
query_source(const char *bundle, Query *q)
{
	RangeTblEntry *rte = linitial_node(RangeTblEntry, q->rtable);
	char		kind;

	if (rte->rtekind != RTE_RELATION)
		refuse(bundle, "The query does not read a table.");
	kind = get_rel_relkind(rte->relid);
	if (kind == RELKIND_PARTITIONED_TABLE)
		refuse(bundle, "The query reads a partitioned table.");
	if (kind != RELKIND_RELATION)
		refuse(bundle, "The query reads a view, a foreign table or another object that is not a table.");
	if (rte->tablesample)
		refuse(bundle, "The query samples its table.");
	if (rte->inh && has_subclass(rte->relid))
		refuse(bundle, "The query reads a table with inheritance children (use FROM ONLY).");
	if (get_rel_persistence(rte->relid) == RELPERSISTENCE_TEMP)
		refuse(bundle, "The query reads a temporary table.");
	return rte->relid;
}

/* The target entry of a bundle column, or NULL. */
static TargetEntry *
target_named(Query *q, const char *name)
{
	ListCell   *lc;

	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk && tle->resname && strcmp(tle->resname, name) == 0)
			return tle;
	}
	return NULL;
}

/* Check that a query's expressions depend on the row alone. */
static void
check_expressions(const char *bundle, Query *q)
{
	ListCell   *lc;

	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		if (contain_mutable_functions((Node *) tle->expr))
			refuse(bundle, psprintf("The select list's column \"%s\" calls a function that is not immutable.",
									tle->resname));
	}
	if (q->jointree->quals && contain_mutable_functions(q->jointree->quals))
		refuse(bundle, "The WHERE clause calls a function that is not immutable.");
}

/* Whether a column of a table is NOT NULL. */
static bool
column_not_null(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	bool		notnull;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u", attnum, relid);
	notnull = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
	ReleaseSysCache(tup);
	return notnull;
}

/*
 * The source table's column numbers of the key columns 'keyspec' names,
 * each of which must be a plain NOT NULL column of the table.
 */
static int
key_source_columns(const char *bundle, Query *q, Oid source, const char *keyspec,
				   AttrNumber *attnos)
{
	char	   *spec = pstrdup(keyspec ? keyspec : "");
	List	   *names;
	ListCell   *lc;
	int			n = 0;

	if (keyspec == NULL || !SplitIdentifierString(spec, ',', &names) || names == NIL)
		refuse(bundle, "The bundle has no key.");
	foreach(lc, names)
	{
		TargetEntry *tle = target_named(q, lfirst(lc));
		Var		   *var = tle ? (Var *) tle->expr : NULL;

		if (var == NULL || !IsA(var, Var) || var->varattno <= 0)
			refuse(bundle, psprintf("The key column \"%s\" is not a plain column of the table.",
									(char *) lfirst(lc)));
		if (!column_not_null(source, var->varattno))
			refuse(bundle, psprintf("The key column \"%s\" is not NOT NULL in the table.",
									(char *) lfirst(lc)));
		attnos[n++] = var->varattno;
	}
	return n;
}

/* Whether an index is a valid unique index on some of 'attnos' only. */
static bool
index_identifies(Oid indexid, const AttrNumber *attnos, int n)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	Form_pg_index ix;
	bool		ok;

	if (!HeapTupleIsValid(tup))
		return false;
	ix = (Form_pg_index) GETSTRUCT(tup);
	ok = ix->indisunique && ix->indimmediate && ix->indisvalid &&
		heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
		heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
	for (int i = 0; ok && i < ix->indnkeyatts; i++)
	{
		bool		found = false;

		for (int k = 0; k < n; k++)
			found |= ix->indkey.values[i] == attnos[k];
		ok = found;
	}
	ReleaseSysCache(tup);
	return ok;
}

/* Check that the key columns include a unique index's. */
static void
check_key_identifies(const char *bundle, Oid source, const AttrNumber *attnos, int n)
{
	Relation	rel = table_open(source, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	if (rel->rd_rel->relrowsecurity)
		refuse(bundle, "The table has row-level security.");
	foreach(lc, indexes)
		found |= index_identifies(lfirst_oid(lc), attnos, n);
	table_close(rel, AccessShareLock);
	if (!found)
		refuse(bundle, "The key does not include a primary key or a unique index of the table "
			   "(an immediate one, on columns, without a WHERE clause).");
}

/* Deparse an expression over the source row, every name qualified. */
static char *
deparse(Node *expr, List *context)
{
	return deparse_expression(expr, context, true, false);
}

/*
 * Check that 'query' can be followed with key 'keyspec' and, given the
 * delta 'd' of foreign table 'ftrel', also turn it into what the triggers
 * run: the delta's columns and the key as expressions over the source
 * row, and the WHERE clause.
 */
SbFollowPlan *
SbFollowPlanFor(Relation ftrel, const SbDelta *d, const char *bundle,
				const char *query, const char *keyspec)
{
	Query	   *q = analyze_query(bundle, query);
	SbFollowPlan *fp = palloc0(sizeof(SbFollowPlan));
	AttrNumber	attnos[SB_MAX_KEY_COLUMNS];
	int			nkeys;
	List	   *context;
	StringInfoData cols;
	int			nest;

	check_query_shape(bundle, q);
	fp->source = query_source(bundle, q);
	check_expressions(bundle, q);
	nkeys = key_source_columns(bundle, q, fp->source, keyspec, attnos);
	check_key_identifies(bundle, fp->source, attnos, nkeys);
	if (d == NULL)
		return fp;

	/* deparse with only pg_catalog visible, so that every other name is qualified */
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	context = deparse_context_for(SB_FOLLOW_ALIAS, fp->source);
	initStringInfo(&cols);
	for (int i = 0; i < d->natts; i++)
	{
		TargetEntry *tle;
		char	   *name;

		if (d->colnames[i] == NULL)
			continue;
		name = SbColumnName(RelationGetRelid(ftrel), i + 1);
		tle = target_named(q, name);
		if (tle == NULL || exprType((Node *) tle->expr) !=
			TupleDescAttr(RelationGetDescr(ftrel), i)->atttypid)
			refuse(bundle, psprintf("The query has no column \"%s\" of foreign table \"%s\"'s type.",
									name, RelationGetRelationName(ftrel)));
		appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", deparse((Node *) tle->expr, context));
	}
	fp->columns = cols.data;
	fp->qual = q->jointree->quals ? deparse(q->jointree->quals, context) : pstrdup("true");
	initStringInfo(&cols);
	for (int k = 0; k < d->nkeys; k++)
	{
		TargetEntry *tle = target_named(q, SbColumnName(RelationGetRelid(ftrel),
														d->keyattnos[k]));

		if (tle == NULL || !IsA(tle->expr, Var))
			refuse(bundle, "The delta's key is not the query's.");
		appendStringInfo(&cols, "%s%s AS sb_k%d", k ? ", " : "",
						 deparse((Node *) tle->expr, context), k + 1);
	}
	fp->keys = cols.data;
	AtEOXact_GUC(true, nest);
	return fp;
}

/*
 * The trigger function of following bundles, or InvalidOid with SQL
 * objects older than 0.4.0.
 */
static Oid
follow_function(void)
{
	Oid			nsp = SbExtensionSchema();

	if (!OidIsValid(nsp))
		return InvalidOid;
	return LookupFuncName(list_make2(makeString(get_namespace_name(nsp)),
									 makeString(SB_FOLLOW_FUNCTION)),
						  0, NULL, true);
}

/* Create one of a following bundle's triggers on its source. */
static void
create_trigger(Oid source, Oid ftrelid, Oid func, int16 event, const SbFollowPlan *fp,
			   const char *suffix, List *transitions)
{
	CreateTrigStmt *st = makeNode(CreateTrigStmt);
	ObjectAddress trig,
				ft;

	st->trigname = psprintf("sharedbuf_follow_%u_%s", ftrelid, suffix);
	st->relation = makeRangeVar(get_namespace_name(get_rel_namespace(source)),
								get_rel_name(source), -1);
	st->funcname = NIL;
	st->args = list_make4(makeString(psprintf("%u", ftrelid)),
						  makeString(fp->columns), makeString(fp->qual),
						  makeString(fp->keys));
	st->row = false;
	st->timing = TRIGGER_TYPE_AFTER;
	st->events = event;
	st->transitionRels = transitions;
	trig = CreateTriggerFiringOn(st, "sharedbuf follow", source, InvalidOid, InvalidOid,
								 InvalidOid, func, InvalidOid, NULL, true, false,
								 TRIGGER_FIRES_ALWAYS);
	/* dropping the foreign table drops its triggers */
	ObjectAddressSet(ft, RelationRelationId, ftrelid);
	recordDependencyOn(&trig, &ft, DEPENDENCY_AUTO);
}

/* A transition table of a trigger. */
static TriggerTransition *
transition(const char *name, bool is_new)
{
	TriggerTransition *tt = makeNode(TriggerTransition);

	tt->name = pstrdup(name);
	tt->isNew = is_new;
	tt->isTable = true;
	return tt;
}

/*
 * Make foreign table 'ftrel' follow its plan's source: lock the source
 * against writes until commit and create the triggers.  The caller then
 * builds from a snapshot taken after the lock.
 */
void
SbFollowStart(Relation ftrel, const SbFollowPlan *fp)
{
	Oid			func = follow_function();
	Oid			ftrelid = RelationGetRelid(ftrel);
	AclResult	acl = pg_class_aclcheck(fp->source, GetUserId(), ACL_TRIGGER);

	if (!OidIsValid(func))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("following a table needs version 0.4.0 of extension \"sharedbuf\""),
				 errhint("Update it with ALTER EXTENSION sharedbuf UPDATE.")));
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(fp->source));
	LockRelationOid(fp->source, ShareRowExclusiveLock);
	(void) SbFollowStop(ftrelid);
	create_trigger(fp->source, ftrelid, func, TRIGGER_TYPE_INSERT, fp, "ins",
				   list_make1(transition(SB_FOLLOW_NEW, true)));
	create_trigger(fp->source, ftrelid, func, TRIGGER_TYPE_UPDATE, fp, "upd",
				   list_make2(transition(SB_FOLLOW_OLD, false),
							  transition(SB_FOLLOW_NEW, true)));
	create_trigger(fp->source, ftrelid, func, TRIGGER_TYPE_DELETE, fp, "del",
				   list_make1(transition(SB_FOLLOW_OLD, false)));
	create_trigger(fp->source, ftrelid, func, TRIGGER_TYPE_TRUNCATE, fp, "trunc", NIL);
	CommandCounterIncrement();
}

/*
 * The triggers of following bundles: of foreign table 'ftrelid' (or of
 * every table, if invalid), as a list of their pg_trigger rows.
 */
static List *
follow_triggers(Oid ftrelid)
{
	Oid			func = follow_function();
	Relation	tgrel;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	if (!OidIsValid(func))
		return NIL;
	tgrel = table_open(TriggerRelationId, AccessShareLock);
	scan = systable_beginscan(tgrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger tg = (Form_pg_trigger) GETSTRUCT(tup);
		char	  **args;

		if (tg->tgfoid != func || tg->tgnargs < 1)
			continue;
		args = SbTriggerArgs(tgrel, tup);
		if (!OidIsValid(ftrelid) || atooid(args[0]) == ftrelid)
			result = lappend(result, heap_copytuple(tup));
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
	return result;
}

/* The arguments of a trigger, from its pg_trigger row. */
char	  **
SbTriggerArgs(Relation tgrel, HeapTuple tup)
{
	Form_pg_trigger tg = (Form_pg_trigger) GETSTRUCT(tup);
	bool		isnull;
	Datum		val = heap_getattr(tup, Anum_pg_trigger_tgargs,
								   RelationGetDescr(tgrel), &isnull);
	bytea	   *raw = DatumGetByteaPP(val);
	char	   *p = VARDATA_ANY(raw);
	char	  **args = palloc0(sizeof(char *) * Max(1, tg->tgnargs));

	for (int i = 0; i < tg->tgnargs; i++)
	{
		args[i] = pstrdup(p);
		p += strlen(p) + 1;
	}
	return args;
}

/*
 * Stop foreign table 'ftrelid' following: drop its triggers.  Returns the
 * table it followed, or InvalidOid.
 */
Oid
SbFollowStop(Oid ftrelid)
{
	List	   *triggers = follow_triggers(ftrelid);
	ListCell   *lc;
	Oid			source = InvalidOid;

	foreach(lc, triggers)
	{
		Form_pg_trigger tg = (Form_pg_trigger) GETSTRUCT((HeapTuple) lfirst(lc));
		ObjectAddress addr;

		source = tg->tgrelid;
		ObjectAddressSet(addr, TriggerRelationId, tg->oid);
		performDeletion(&addr, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	}
	if (triggers != NIL)
		CommandCounterIncrement();
	return source;
}

/* Stop every foreign table over bundle 'bundle' following (it is dropped). */
void
SbFollowStopBundle(const char *bundle)
{
	List	   *triggers = follow_triggers(InvalidOid);
	Relation	tgrel = table_open(TriggerRelationId, AccessShareLock);
	List	   *tables = NIL;
	ListCell   *lc;

	foreach(lc, triggers)
	{
		Oid			ftrelid = atooid(SbTriggerArgs(tgrel, lfirst(lc))[0]);
		SbTableOptions *opts = SbGetTableOptions(ftrelid);

		if (opts->bundle && strcmp(opts->bundle, bundle) == 0)
			tables = list_append_unique_oid(tables, ftrelid);
	}
	table_close(tgrel, AccessShareLock);
	foreach(lc, tables)
		(void) SbFollowStop(lfirst_oid(lc));
}

/* The table foreign table 'ftrelid' follows, or InvalidOid. */
Oid
SbFollowedTable(Oid ftrelid)
{
	List	   *triggers = follow_triggers(ftrelid);

	if (triggers == NIL)
		return InvalidOid;
	return ((Form_pg_trigger) GETSTRUCT((HeapTuple) linitial(triggers)))->tgrelid;
}

/* Whether foreign table 'ftrelid' follows with the triggers of 'fp'. */
static bool
follows_with(Oid ftrelid, const SbFollowPlan *fp)
{
	List	   *triggers = follow_triggers(ftrelid);
	Relation	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ListCell   *lc;
	bool		same = list_length(triggers) == 4;

	foreach(lc, triggers)
	{
		HeapTuple	tup = lfirst(lc);
		char	  **args = SbTriggerArgs(tgrel, tup);

		same &= ((Form_pg_trigger) GETSTRUCT(tup))->tgrelid == fp->source &&
			((Form_pg_trigger) GETSTRUCT(tup))->tgnargs == 4 &&
			strcmp(args[1], fp->columns) == 0 && strcmp(args[2], fp->qual) == 0 &&
			strcmp(args[3], fp->keys) == 0;
	}
	table_close(tgrel, AccessShareLock);
	return same;
}

/*
 * Before a build of a following bundle (of foreign table 'ftrelid', or a
 * new one): check its query and, unless the table already follows the
 * same query, lock the source against writes until commit, so that the
 * build (whose snapshot the caller takes after this) and the triggers miss
 * no change between them.  Returns the source.
 */
Oid
SbFollowPrepare(Oid ftrelid, const char *bundle, const char *query,
				const char *keyspec, bool new_query)
{
	SbFollowPlan *fp = SbFollowPlanFor(NULL, NULL, bundle, query, keyspec);

	if (new_query || !OidIsValid(ftrelid) || SbFollowedTable(ftrelid) != fp->source)
		LockRelationOid(fp->source, ShareRowExclusiveLock);
	return fp->source;
}

/*
 * After the build: give the bundle a delta if it has none, and the source
 * the triggers of its query if it has not got them.
 */
void
SbFollowFinish(Relation ftrel, const char *bundle, const char *query,
			   const char *keyspec)
{
	SbDelta    *d = SbDeltaFor(ftrel, bundle);
	SbFollowPlan *fp;

	if (d == NULL)
	{
		SbMakeWritable(ftrel, bundle);
		CommandCounterIncrement();
		d = SbDeltaFor(ftrel, bundle);
	}
	fp = SbFollowPlanFor(ftrel, d, bundle, query, keyspec);
	if (!follows_with(RelationGetRelid(ftrel), fp))
		SbFollowStart(ftrel, fp);
}

/*
 * Check a following table after DDL; its plan now, or NULL and the reason
 * in '*why' if its query no longer fits its source.
 */
static SbFollowPlan *
recheck(Oid ftrelid, Oid source, char **why)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	SbFollowPlan *fp = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		Relation	ftrel;
		SbTableOptions *opts = SbOpenTable(ftrelid, &ftrel);
		SbDelta    *d = SbDeltaFor(ftrel, opts->bundle);

		if (d == NULL || opts->query == NULL)
			elog(ERROR, "bundle \"%s\" has no delta or no stored query", opts->label);
		fp = SbFollowPlanFor(ftrel, d, opts->bundle, opts->query, opts->key);
		if (fp->source != source)
			elog(ERROR, "the query no longer reads the table the bundle follows");
		table_close(ftrel, NoLock);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		*why = edata->detail ? edata->detail :
			psprintf("The query fails: %s.", edata->message);
		fp = NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return fp;
}

/*
 * After DDL on a followed table, check every following bundle of it: one
 * whose query no longer fits stops following, one whose deparsed query
 * changed gets new triggers.
 */
static void
recheck_followers(void)
{
	List	   *triggers = follow_triggers(InvalidOid);
	List	   *seen = NIL;
	Relation	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ListCell   *lc;

	foreach(lc, triggers)
	{
		HeapTuple	tup = lfirst(lc);
		Form_pg_trigger tg = (Form_pg_trigger) GETSTRUCT(tup);
		char	  **args = SbTriggerArgs(tgrel, tup);
		Oid			ftrelid = atooid(args[0]);
		SbFollowPlan *fp;
		char	   *why = NULL;

		if (list_member_oid(seen, ftrelid) || tg->tgnargs < 4)
			continue;
		seen = lappend_oid(seen, ftrelid);
		fp = recheck(ftrelid, tg->tgrelid, &why);
		if (fp == NULL)
		{
			(void) SbFollowStop(ftrelid);
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("foreign table \"%s\" stops following table \"%s\"",
							get_rel_name(ftrelid), get_rel_name(tg->tgrelid)),
					 errdetail("%s", why),
					 errhint("Its rows stay as they were; sharedbuf_refresh() rebuilds it and follows the table again.")));
		}
		else if (!follows_with(ftrelid, fp))
		{
			Relation	ftrel = table_open(ftrelid, AccessShareLock);

			SbFollowStart(ftrel, fp);
			table_close(ftrel, NoLock);
		}
	}
	table_close(tgrel, AccessShareLock);
}

/*
 * sharedbuf_follow_ddl()
 *		The event trigger that rechecks following bundles after ALTER TABLE,
 *		ALTER INDEX and DROP INDEX.
 */
Datum
sharedbuf_follow_ddl(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sharedbuf_follow_ddl() must be called as an event trigger")));
	recheck_followers();
	PG_RETURN_VOID();
}
