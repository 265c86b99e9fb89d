/*-------------------------------------------------------------------------
 *
 * planner.c
 *	  Planning scans of sharedbuf foreign tables: sizes, paths, plans.
 *
 * A scan is either sequential or a key lookup.  A lookup needs an equality
 * on every key column (or "key = ANY(array)" on a one-column key), with
 * values from constants or parameters (a restriction path) or from other
 * relations (a parameterized path: a nested loop probes the bundle once
 * per outer row).  Sizes and costs come from the bundle's header: rows,
 * rows per distinct key, bytes.  The clauses a lookup enforces are not
 * rechecked on its rows (the rows of a hashed key the scan confirms with
 * the clause's operator); they are kept aside so that a plan stays correct
 * when a refresh changes the bundle's key under a prepared statement.
 * A hashed key is looked up only where the table's column hashes as the
 * bundle records and the clause is its hash family's equality under the
 * key's collation (keys.c).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <math.h>

#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/clauses.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Estimated CPU cost of one key lookup: hash, directory, entries, compare. */
#define SB_LOOKUP_COST		(8 * cpu_operator_cost)
/* Probes assumed for "= ANY" of an array whose size is unknown. */
#define SB_DEFAULT_ANY_PROBES	10

/* A clause usable for a lookup on key column 'keypos'. */
typedef struct SbKeyClause
{
	RestrictInfo *rinfo;
	int			keypos;
	Expr	   *probe;			/* the value side */
	bool		is_any;			/* "key = ANY(probe)" */
	Oid			opno;			/* the clause's operator */
	Oid			collid;			/* its input collation */
	bool		key_left;		/* the key is its left input */
	Oid			hashtype;		/* hashed keys: the probe side's type */
} SbKeyClause;

/* What the planner knows about a sharedbuf relation. */
typedef struct SbRelInfo
{
	SbTableOptions *opts;
	const char *label;
	double		rows;			/* rows in the bundle */
	double		rows_per_key;	/* average rows of a key, >= 1 */
	double		pages;			/* bytes of rows and values, in pages */
	int			nkeys;
	bool		keyed;			/* every key column is a table column */
	bool		approximate;
	AttrNumber	keyattno[SB_MAX_KEY_COLUMNS];
	Oid			keytype[SB_MAX_KEY_COLUMNS];	/* table column's type */
	uint8		keykind[SB_MAX_KEY_COLUMNS];
	char	   *keyname[SB_MAX_KEY_COLUMNS];
	SbKeyHash	keyhash[SB_MAX_KEY_COLUMNS];	/* hashed keys: the column's */
	char	   *keysig[SB_MAX_KEY_COLUMNS];	/* hashed keys: the bundle's */
	/* the lookup the restriction clauses allow, found once */
	SbScanMode	restrict_mode;
	SbKeyClause restrict_chosen[SB_MAX_KEY_COLUMNS];
} SbRelInfo;


/* Find the table column that reads bundle column 'name', or 0. */
static AttrNumber
table_column_for(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped &&
			strcmp(SbColumnName(RelationGetRelid(rel), att->attnum), name) == 0)
			return att->attnum;
	}
	return 0;
}

/* Read what planning needs from the bundle's header. */
static SbRelInfo *
describe_relation(Oid relid)
{
	SbRelInfo  *info = palloc0(sizeof(SbRelInfo));
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "sharedbuf planning",
											  ALLOCSET_SMALL_SIZES);
	SbMappingRef *ref;
	const sb_info *b;
	Relation	rel;
	Form_pg_attribute att;

	info->opts = SbGetTableOptions(relid);
	info->label = info->opts->label;
	ref = SbPinBundle(info->opts->path, info->label, tmp);
	b = sb_bundle_info(ref->bundle);
	info->rows = (double) b->row_count;
	info->rows_per_key = b->distinct_keys > 0 ?
		Max(1.0, (double) b->indexed_count / (double) b->distinct_keys) : 1.0;
	info->pages = ceil(((double) b->row_count * b->row_size + b->heap_size) / BLCKSZ);
	info->approximate = b->approximate;
	info->nkeys = b->nkeys;
	info->keyed = b->nkeys > 0;
	rel = table_open(relid, NoLock);
	for (int k = 0; k < b->nkeys; k++)
	{
		const sb_column *c = &b->columns[b->key_columns[k]];

		info->keyname[k] = pstrdup(c->name);
		info->keykind[k] = c->key_kind;
		info->keyattno[k] = table_column_for(rel, c->name);
		if (info->keyattno[k] == 0)
		{
			info->keyed = false;
			continue;
		}
		att = TupleDescAttr(RelationGetDescr(rel), info->keyattno[k] - 1);
		info->keytype[k] = att->atttypid;

		/*
		 * A hashed key is looked up only if the table's column hashes its
		 * values as the bundle's build did: same function, family,
		 * collation locale and PostgreSQL major version.
		 */
		if (c->key_kind == SB_KEY_HASHED)
		{
			info->keysig[k] = SbBundleKeyHashSignature(ref->bundle, k);
			if (!SbKeyHashFor(att->atttypid, att->attcollation, &info->keyhash[k]) ||
				strcmp(SbKeyHashSignature(&info->keyhash[k]), info->keysig[k]) != 0)
				info->keyed = false;
		}
	}
	table_close(rel, NoLock);
	MemoryContextDelete(tmp);
	return info;
}

/* If 'node' is a Var of the key column 'keypos' of this rel, say which. */
static int
key_position_of(const SbRelInfo *info, Index relid, Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var) || ((Var *) node)->varno != relid ||
		((Var *) node)->varlevelsup != 0)
		return -1;
	for (int k = 0; k < info->nkeys; k++)
		if (info->keyattno[k] == ((Var *) node)->varattno)
			return k;
	return -1;
}

/*
 * Can 'probe' be evaluated once per scan and used as key 'keypos' of the
 * clause 'kc' (whose operator, collation and sides are filled in)?  For a
 * hashed key, sets the probe side's type to hash.
 */
static bool
probe_usable(PlannerInfo *root, const SbRelInfo *info, RelOptInfo *rel,
			 SbKeyClause *kc, Oid probetype)
{
	int			k = kc->keypos;

	if (bms_is_member(rel->relid, pull_varnos(root, (Node *) kc->probe)) ||
		contain_volatile_functions((Node *) kc->probe) ||
		contain_subplans((Node *) kc->probe))
		return false;
	if (info->keykind[k] == SB_KEY_HASHED)
		return SbHashedOperatorUsable(&info->keyhash[k], kc->opno, kc->collid,
									  kc->key_left, kc->is_any, &kc->hashtype);
	return SbIsKeyEqualityOperator(kc->opno, info->keytype[k], kc->collid) &&
		SbProbeTypeAccepted(info->keykind[k], info->keytype[k], probetype);
}

/* Is the clause "key = value" or "key = ANY(values)" for this rel? */
static bool
match_key_clause(PlannerInfo *root, const SbRelInfo *info, RelOptInfo *rel,
				 RestrictInfo *ri, SbKeyClause *out)
{
	Expr	   *clause = ri->clause;

	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;

		for (int side = 0; side < 2; side++)
		{
			int			k = key_position_of(info, rel->relid,
											list_nth(op->args, side));
			Expr	   *probe = list_nth(op->args, 1 - side);

			*out = (SbKeyClause) {ri, k, probe, false, op->opno, op->inputcollid,
			side == 0, InvalidOid};
			if (k >= 0 && probe_usable(root, info, rel, out, exprType((Node *) probe)))
				return true;
		}
	}
	else if (IsA(clause, ScalarArrayOpExpr) && ((ScalarArrayOpExpr *) clause)->useOr &&
			 info->nkeys == 1)
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		Expr	   *array = lsecond(saop->args);
		Oid			elemtype = get_element_type(exprType((Node *) array));

		*out = (SbKeyClause) {ri, 0, array, true, saop->opno, saop->inputcollid,
		true, InvalidOid};
		if (key_position_of(info, rel->relid, linitial(saop->args)) == 0 &&
			OidIsValid(elemtype) && probe_usable(root, info, rel, out, elemtype))
			return true;
	}
	return false;
}

/*
 * Find a lookup in 'clauses': an equality for every key column (preferring
 * plain equalities), or one "= ANY" on a one-column key.  Fills 'chosen'
 * per key position and returns the scan mode (SB_SCAN_SEQ if none).
 */
static SbScanMode
find_lookup(PlannerInfo *root, const SbRelInfo *info, RelOptInfo *rel,
			List *clauses, SbKeyClause *chosen)
{
	bool		have[SB_MAX_KEY_COLUMNS] = {false};
	SbKeyClause any = {0};
	ListCell   *lc;

	if (!info->keyed)
		return SB_SCAN_SEQ;
	foreach(lc, clauses)
	{
		SbKeyClause kc;

		if (!match_key_clause(root, info, rel, lfirst_node(RestrictInfo, lc), &kc))
			continue;
		if (kc.is_any)
		{
			if (any.rinfo == NULL)
				any = kc;
		}
		else if (!have[kc.keypos])
		{
			chosen[kc.keypos] = kc;
			have[kc.keypos] = true;
		}
	}
	for (int k = 0; k < info->nkeys; k++)
		if (!have[k])
		{
			if (any.rinfo == NULL)
				return SB_SCAN_SEQ;
			chosen[0] = any;
			return SB_SCAN_ANY;
		}
	return SB_SCAN_EQ;
}

/* Number of probes of an "= ANY" array, as far as the plan shows. */
static double
any_probe_count(Expr *array)
{
	if (IsA(array, Const) && !((Const *) array)->constisnull)
	{
		ArrayType  *arr = DatumGetArrayTypeP(((Const *) array)->constvalue);

		return Max(1, ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)));
	}
	if (IsA(array, ArrayExpr))
		return Max(1, list_length(((ArrayExpr *) array)->elements));
	return SB_DEFAULT_ANY_PROBES;
}

/*
 * sbGetForeignRelSize
 *		Estimate the relation's rows from the bundle header.
 */
void
sbGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	SbRelInfo  *info = describe_relation(foreigntableid);
	SbKeyClause *chosen = info->restrict_chosen;
	SbScanMode	mode;
	double		sel;

	baserel->fdw_private = info;
	baserel->tuples = info->rows;
	sel = clauselist_selectivity(root, baserel->baserestrictinfo, 0, JOIN_INNER, NULL);
	baserel->rows = clamp_row_est(info->rows * sel);

	/* a lookup returns the rows of its keys, whatever the default selectivity says */
	mode = find_lookup(root, info, baserel, baserel->baserestrictinfo, chosen);
	info->restrict_mode = mode;
	if (mode == SB_SCAN_EQ)
		baserel->rows = clamp_row_est(Min(baserel->rows, info->rows_per_key));
	else if (mode == SB_SCAN_ANY)
		baserel->rows = clamp_row_est(Min(baserel->rows, info->rows_per_key *
										  any_probe_count(chosen[0].probe)));
}

/*
 * Add a path that parallel workers must not run: each participant would
 * map the bundle on its own, and a refresh in between would let one
 * statement read two generations.  (The parallel-aware sequential scan
 * checks for that instead; see parallel.c.)
 */
static void
add_unshared_path(RelOptInfo *baserel, Path *path)
{
	path->parallel_safe = false;
	add_path(baserel, path);
}

/* Add a lookup path for the given key clauses and outer relations. */
static void
add_lookup_path(PlannerInfo *root, RelOptInfo *baserel, SbRelInfo *info,
				SbScanMode mode, const SbKeyClause *chosen, Relids required_outer)
{
	double		probes = mode == SB_SCAN_ANY ? any_probe_count(chosen[0].probe) : 1;
	double		rows = clamp_row_est(Min(info->rows, probes * info->rows_per_key));
	Cost		startup = cpu_operator_cost * 10;
	Cost		total;
	ParamPathInfo *ppi = NULL;

	if (!bms_is_empty(required_outer))
	{
		ppi = get_baserel_parampathinfo(root, baserel, required_outer);
		ppi->ppi_rows = rows;
	}
	else
		rows = baserel->rows;
	total = startup + probes * SB_LOOKUP_COST +
		rows * (cpu_tuple_cost + baserel->baserestrictcost.per_tuple) +
		baserel->baserestrictcost.startup;
	add_unshared_path(baserel, (Path *)
					  sb_create_foreignscan_path(root, baserel, NULL, rows, startup,
												 total, NIL, required_outer, NULL,
												 list_make1(makeInteger(mode))));
}

/* Add the sequential path: reads every row slot and value. */
static void
add_seq_path(PlannerInfo *root, RelOptInfo *baserel, SbRelInfo *info)
{
	Cost		startup = baserel->baserestrictcost.startup;
	Cost		total = startup + info->pages * seq_page_cost +
		info->rows * (cpu_tuple_cost + baserel->baserestrictcost.per_tuple);

	add_unshared_path(baserel, (Path *)
					  sb_create_foreignscan_path(root, baserel, NULL, baserel->rows,
												 startup, total, NIL,
												 baserel->lateral_relids, NULL,
												 list_make1(makeInteger(SB_SCAN_SEQ))));
}

/* Callback for generate_implied_equalities_for_column: our key column? */
static bool
ec_member_is_key(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
				 EquivalenceMember *em, void *arg)
{
	Node	   *node = (Node *) em->em_expr;
	Var		   *var;

	/* a key of a domain type, or of varchar, appears relabeled */
	while (IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	var = (Var *) node;
	return IsA(var, Var) && var->varno == rel->relid && var->varlevelsup == 0 &&
		var->varattno == *(AttrNumber *) arg;
}

/* Join clauses that could feed key lookups: joininfo and implied ones. */
static List *
candidate_join_clauses(PlannerInfo *root, RelOptInfo *baserel, SbRelInfo *info)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (join_clause_is_movable_to(ri, baserel))
			result = lappend(result, ri);
	}
	if (baserel->has_eclass_joins)
	{
		for (int k = 0; k < info->nkeys; k++)
		{
			List	   *implied;

			implied = generate_implied_equalities_for_column(root, baserel,
															 ec_member_is_key,
															 &info->keyattno[k],
															 baserel->lateral_referencers);
			foreach(lc, implied)
				if (join_clause_is_movable_to(lfirst_node(RestrictInfo, lc), baserel))
					result = lappend(result, lfirst(lc));
		}
	}
	return result;
}

/* Is 'relids' in the list of Relids 'seen'? */
static bool
relids_listed(List *seen, Relids relids)
{
	ListCell   *lc;

	foreach(lc, seen)
		if (bms_equal(lfirst(lc), relids))
			return true;
	return false;
}

/*
 * Add parameterized lookup paths: for each join clause on a key column,
 * complete the key from restriction clauses or other join clauses.
 */
static void
add_parameterized_paths(PlannerInfo *root, RelOptInfo *baserel, SbRelInfo *info)
{
	List	   *joins = candidate_join_clauses(root, baserel, info);
	List	   *seen = NIL;
	ListCell   *lc;

	foreach(lc, joins)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		SbKeyClause kc;
		SbKeyClause chosen[SB_MAX_KEY_COLUMNS];
		Relids		outer;
		List	   *clauses;
		SbScanMode	mode;

		if (!match_key_clause(root, info, baserel, ri, &kc) || kc.is_any)
			continue;
		/* this clause first, then whatever completes the key */
		clauses = lcons(ri, list_concat_copy(baserel->baserestrictinfo, joins));
		mode = find_lookup(root, info, baserel, clauses, chosen);
		if (mode != SB_SCAN_EQ)
			continue;
		outer = bms_copy(baserel->lateral_relids);
		for (int k = 0; k < info->nkeys; k++)
			outer = bms_union(outer, bms_difference(chosen[k].rinfo->clause_relids,
													baserel->relids));
		if (bms_is_empty(outer) || relids_listed(seen, outer))
			continue;
		seen = lappend(seen, outer);
		add_lookup_path(root, baserel, info, SB_SCAN_EQ, chosen, outer);
	}
}

/*
 * sbGetForeignPaths
 *		Add a sequential path, a lookup path for restriction clauses on the
 *		key, and parameterized lookup paths for joins on the key.
 */
void
sbGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	SbRelInfo  *info = baserel->fdw_private;

	add_seq_path(root, baserel, info);
	if (baserel->consider_parallel && bms_is_empty(baserel->lateral_relids))
		SbAddPartialPath(root, baserel, info->pages, info->rows);
	if (info->restrict_mode != SB_SCAN_SEQ)
		add_lookup_path(root, baserel, info, info->restrict_mode,
						info->restrict_chosen, baserel->lateral_relids);
	if (info->keyed)
		add_parameterized_paths(root, baserel, info);
}

/* Attribute numbers the scan must fetch: those in the target list and quals. */
static List *
needed_attributes(RelOptInfo *baserel, List *quals)
{
	Bitmapset  *attrs = NULL;
	List	   *result = NIL;
	int			x = -1;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	pull_varattnos((Node *) quals, baserel->relid, &attrs);
	if (bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, attrs))
	{
		for (AttrNumber a = 1; a <= baserel->max_attr; a++)
			result = lappend_int(result, a);
		return result;
	}
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;

		if (a > 0)
			result = lappend_int(result, a);
	}
	return result;
}

/*
 * What the scan needs to know of a lookup's key part, as a list (see
 * SbPrivKeyProbes): the key kind planned for, and for a hashed key the
 * bundle's hash signature and the SbHashedProbe to hash probe values with
 * and to confirm rows by.
 */
static List *
key_probe_private(const SbRelInfo *info, const SbKeyClause *kc)
{
	int			k = kc->keypos;

	if (info->keykind[k] != SB_KEY_HASHED)
		return list_make1(makeInteger(info->keykind[k]));
	return list_make4(makeInteger(SB_KEY_HASHED),
					  makeString(info->keysig[k]),
					  list_make3(makeInteger((int) info->keyhash[k].opfamily),
								 makeInteger((int) kc->opno),
								 makeInteger((int) kc->key_left)),
					  list_make3(makeInteger((int) kc->collid),
								 makeInteger((int) kc->hashtype),
								 makeInteger((int) info->keyattno[k])));
}

/*
 * sbGetForeignPlan
 *		Make the ForeignScan.  The lookup's probe expressions go to
 *		fdw_exprs, and its own clauses leave the qual: a lookup compares
 *		canonical keys, which for key types is SQL equality, so rechecking
 *		them would only cost time (an "= ANY" of n values, n comparisons a
 *		row); the rows of a hashed key the scan confirms itself, with the
 *		clause's operator against the probe that found them.  The clauses
 *		go to fdw_recheck_quals instead, for EvalPlanQual, and for the scan
 *		itself if a refresh changed the bundle's key after planning (it
 *		then reads every row and filters).
 */
ForeignScan *
sbGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				 ForeignPath *best_path, List *tlist, List *scan_clauses,
				 Plan *outer_plan)
{
	SbRelInfo  *info = baserel->fdw_private;
	SbScanMode	mode = intVal(linitial(best_path->fdw_private));
	SbKeyClause found_chosen[SB_MAX_KEY_COLUMNS];
	SbKeyClause *chosen = info->restrict_chosen;
	List	   *fdw_exprs = NIL;
	List	   *keynames = NIL;
	List	   *keyprobes = NIL;
	List	   *recheck = NIL;
	List	   *qual_rinfos = list_copy(scan_clauses);
	List	   *private;

	if (mode != SB_SCAN_SEQ)
	{
		SbScanMode	found = info->restrict_mode;

		/* a parameterized path's clauses include join clauses: match again */
		if (scan_clauses != baserel->baserestrictinfo)
		{
			chosen = found_chosen;
			found = find_lookup(root, info, baserel, scan_clauses, chosen);
		}
		if (found != mode)
			elog(ERROR, "sharedbuf: lookup clauses of the chosen path not found");
		for (int k = 0; k < (mode == SB_SCAN_ANY ? 1 : info->nkeys); k++)
		{
			fdw_exprs = lappend(fdw_exprs, chosen[k].probe);
			keynames = lappend(keynames, makeString(info->keyname[k]));
			keyprobes = lappend(keyprobes, key_probe_private(info, &chosen[k]));
			qual_rinfos = list_delete_ptr(qual_rinfos, chosen[k].rinfo);
			if (!info->approximate)
				recheck = lappend(recheck, chosen[k].rinfo->clause);
		}
	}
	scan_clauses = extract_actual_clauses(qual_rinfos, false);

	private = list_make5(makeString(info->opts->path),
						 makeString((char *) info->label),
						 makeInteger(mode),
						 keynames,
						 needed_attributes(baserel, list_concat_copy(scan_clauses, recheck)));
	private = lappend(private, makeInteger((int) Min(info->rows, PG_INT32_MAX)));
	private = lappend(private, keyprobes);

	return make_foreignscan(tlist, scan_clauses, baserel->relid, fdw_exprs,
							private, NIL, recheck, outer_plan);
}
