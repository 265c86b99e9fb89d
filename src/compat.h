/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  What differs between the PostgreSQL major versions sharedbuf builds
 *	  against (15, 17 and 18), in one place.
 *
 * The code is written against PostgreSQL 15's interfaces; where a later
 * major changed one, a wrapper or a macro here gives the code one spelling
 * that works on every supported major.  Each entry names the major that
 * made the change.  Included by sharedbuf.h, after postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SHAREDBUF_COMPAT_H
#define SHAREDBUF_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "sharedbuf needs PostgreSQL 15 or later"
#endif

/*
 * 18: pg_attribute_noreturn(), after a declaration, gave way to pg_noreturn,
 * before it.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * 16: the pg_*_ownercheck functions became one object_ownercheck() that
 * takes the catalog's OID.  Callers need utils/acl.h and catalog/pg_class.h.
 */
#if PG_VERSION_NUM >= 160000
#define sb_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define sb_class_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#endif

/*
 * 16: ALTER ... OWNER TO requires that the role may SET ROLE to the new
 * owner (check_can_set_role), where it required membership.
 */
#if PG_VERSION_NUM >= 160000
#define sb_check_can_own(member, role) check_can_set_role((member), (role))
#else
#define sb_check_can_own(member, role) check_is_member_of_role((member), (role))
#endif

/*
 * 16: stringToQualifiedNameList() takes an error-saving context (NULL:
 * throw errors, as before).
 */
#if PG_VERSION_NUM >= 160000
#define sb_stringToQualifiedNameList(string) \
	stringToQualifiedNameList((string), NULL)
#else
#define sb_stringToQualifiedNameList(string) \
	stringToQualifiedNameList(string)
#endif

/*
 * 17: a PGPROC's local transaction ID moved into its virtual transaction
 * ID (vxid.lxid).
 */
#if PG_VERSION_NUM >= 170000
#define SB_MY_LOCAL_XID (MyProc->vxid.lxid)
#else
#define SB_MY_LOCAL_XID (MyProc->lxid)
#endif

/*
 * 17: ShmemVariableCache was renamed TransamVariables.  Callers need
 * access/transam.h.
 */
#if PG_VERSION_NUM < 170000
#define TransamVariables ShmemVariableCache
#endif

/*
 * 17: LogLogicalMessage() can flush the record itself (a fifth argument);
 * callers here flush it themselves, as on 15.
 */
#if PG_VERSION_NUM >= 170000
#define sb_LogLogicalMessage(prefix, message, size, transactional) \
	LogLogicalMessage((prefix), (message), (size), (transactional), false)
#else
#define sb_LogLogicalMessage(prefix, message, size, transactional) \
	LogLogicalMessage((prefix), (message), (size), (transactional))
#endif

/*
 * 18: ExplainState and the ExplainProperty*() functions moved from
 * commands/explain.h to headers of their own.
 */
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif

/*
 * create_foreignscan_path() gained fdw_restrictinfo (17, before
 * fdw_private) and disabled_nodes (18, after rows).  sharedbuf passes no
 * restriction clauses for a foreign join or upper relation and disables no
 * path.
 */
#if PG_VERSION_NUM >= 180000
#define sb_create_foreignscan_path(root, rel, target, rows, startup_cost, \
								   total_cost, pathkeys, required_outer, \
								   fdw_outerpath, fdw_private) \
	create_foreignscan_path((root), (rel), (target), (rows), 0, \
							(startup_cost), (total_cost), (pathkeys), \
							(required_outer), (fdw_outerpath), NIL, \
							(fdw_private))
#elif PG_VERSION_NUM >= 170000
#define sb_create_foreignscan_path(root, rel, target, rows, startup_cost, \
								   total_cost, pathkeys, required_outer, \
								   fdw_outerpath, fdw_private) \
	create_foreignscan_path((root), (rel), (target), (rows), \
							(startup_cost), (total_cost), (pathkeys), \
							(required_outer), (fdw_outerpath), NIL, \
							(fdw_private))
#else
#define sb_create_foreignscan_path(root, rel, target, rows, startup_cost, \
								   total_cost, pathkeys, required_outer, \
								   fdw_outerpath, fdw_private) \
	create_foreignscan_path((root), (rel), (target), (rows), \
							(startup_cost), (total_cost), (pathkeys), \
							(required_outer), (fdw_outerpath), \
							(fdw_private))
#endif

/*
 * 18: index_beginscan() takes the scan's instrumentation (or NULL) before
 * its numbers of keys.  Callers need access/genam.h.
 */
#if PG_VERSION_NUM >= 180000
#define sb_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), (norderbys))
#else
#define sb_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), (norderbys))
#endif

/*
 * 16: the cumulative statistics' count of a table's live rows lost its
 * "n_" prefix.
 */
#if PG_VERSION_NUM >= 160000
#define SB_STAT_LIVE_TUPLES live_tuples
#else
#define SB_STAT_LIVE_TUPLES n_live_tuples
#endif

#endif							/* SHAREDBUF_COMPAT_H */
