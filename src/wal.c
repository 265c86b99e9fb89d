/*-------------------------------------------------------------------------
 *
 * wal.c
 *	  Bundles in the WAL: a custom resource manager that carries builds
 *	  and drops to crash recovery, standbys and archive recovery.
 *
 * With sharedbuf in shared_preload_libraries and wal_level replica or
 * logical, a build logs a BEGIN record (flushed) before it creates its
 * file, then, once the file is complete and fsynced, its bytes in CHUNK
 * records of at most 1 MB (lz4-compressed if sharedbuf.wal_compression
 * says so), then an END record.  A drop logs a DROP record.  Right after a
 * swap, the committing backend logs INSTALL.  Replay writes the same
 * files under the same names and settles them (settle.c) exactly as the
 * primary does: a build's file takes the bundle's place once its
 * transaction's commit has been replayed, and goes if it aborted.  Since
 * every byte of a file is on disk before its first CHUNK record, a base
 * backup taken in the middle of a build copies what the WAL after its
 * start does not replay.
 *
 * Replay never raises an error for a file it cannot write: it warns and
 * leaves the bundle's old file, which readers then refuse to serve
 * because the catalog names a newer one (see cache.c).
 *
 *-------------------------------------------------------------------------
 */
#include "sharedbuf.h"

#include <fcntl.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xloginsert.h"
#include "access/xlogreader.h"
#include "miscadmin.h"
#include "replication/message.h"
#include "storage/fd.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#ifdef USE_LZ4
#include <lz4.h>
#endif

#define XLOG_SB_BEGIN		0x00
#define XLOG_SB_CHUNK		0x10
#define XLOG_SB_END			0x20
#define XLOG_SB_INSTALL		0x30
#define XLOG_SB_DROP		0x40

#define SB_WAL_CHUNK		(1024 * 1024)

/* Names the file of one build or drop on every server. */
typedef struct xl_sb_ident
{
	Oid			dboid;
	TransactionId xid;			/* of the (sub)transaction that made it */
	int32		pid;			/* of the backend that made it */
	XLogRecPtr	lsn;			/* end of its BEGIN record; 0 in BEGIN, DROP */
	char		name[NAMEDATALEN];
} xl_sb_ident;

typedef struct xl_sb_chunk
{
	xl_sb_ident id;
	uint64		offset;
	uint32		rawlen;			/* bytes of the file */
	uint32		datalen;		/* bytes that follow */
	uint8		method;			/* SB_WAL_COMPRESS_* */
} xl_sb_chunk;

typedef struct xl_sb_end
{
	xl_sb_ident id;
	uint64		size;
} xl_sb_end;

static bool sb_wal_registered = false;

static void sb_redo(XLogReaderState *record);
static void sb_desc(StringInfo buf, XLogReaderState *record);
static const char *sb_identify(uint8 info);
static void sb_cleanup(void);

static RmgrData sb_rmgr = {
	.rm_name = "sharedbuf",
	.rm_redo = sb_redo,
	.rm_desc = sb_desc,
	.rm_identify = sb_identify,
	.rm_cleanup = sb_cleanup,
};

/* Register the resource manager, if the library is being preloaded. */
void
SbWalInit(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	RegisterCustomRmgr(SB_RMGR_ID, &sb_rmgr);
	sb_wal_registered = true;
}

/* Do builds and drops of this server go to the WAL? */
bool
SbWalEnabled(void)
{
	return sb_wal_registered && sb_wal_log_setting && XLogIsNeeded();
}

/* Fill a record's identification of a file. */
static void
fill_ident(xl_sb_ident *id, const char *name, XLogRecPtr lsn)
{
	memset(id, 0, sizeof(*id));
	id->dboid = MyDatabaseId;
	id->xid = GetCurrentTransactionId();
	id->pid = MyProcPid;
	id->lsn = lsn;
	strlcpy(id->name, name, sizeof(id->name));
}

/*
 * Log the start of a build or a drop of bundle 'name' and flush it: the
 * returned position names its file.  Flushing also makes the transaction
 * ID durable before a file bears it; otherwise, after a crash, the ID
 * could be handed out again and the file taken for a later transaction's
 * work.  Without the resource manager, a logical message does that, and
 * a warning says that standbys will not receive the bundle.
 */
XLogRecPtr
SbLogStart(const char *name, bool drop)
{
	xl_sb_ident id;
	XLogRecPtr	lsn;

	if (!SbWalEnabled())
	{
		if (XLogIsNeeded() && sb_wal_log_setting)
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("%s of bundle \"%s\" will not reach standbys",
							drop ? "the drop" : "the build", name),
					 errdetail("sharedbuf is not in shared_preload_libraries, so it cannot write bundles to the WAL."),
					 errhint("Add sharedbuf to shared_preload_libraries on this server and its standbys, or set sharedbuf.wal_log to off.")));
		(void) GetCurrentTransactionId();
		lsn = sb_LogLogicalMessage("sharedbuf", name, strlen(name), true);
	}
	else
	{
		fill_ident(&id, name, InvalidXLogRecPtr);
		XLogBeginInsert();
		XLogRegisterData((char *) &id, sizeof(id));
		lsn = XLogInsert(SB_RMGR_ID, drop ? XLOG_SB_DROP : XLOG_SB_BEGIN);
	}
	XLogFlush(lsn);
	return lsn;
}

/* Compress a chunk into 'out' if that saves space; its method. */
static uint8
compress_chunk(const char *in, uint32 len, char *out, uint32 *outlen)
{
#ifdef USE_LZ4
	if (sb_wal_compression_setting == SB_WAL_COMPRESS_LZ4)
	{
		int			n = LZ4_compress_default(in, out, (int) len,
											 LZ4_compressBound(SB_WAL_CHUNK));

		if (n > 0 && (uint32) n < len)
		{
			*outlen = (uint32) n;
			return SB_WAL_COMPRESS_LZ4;
		}
	}
#endif
	*outlen = len;
	return SB_WAL_COMPRESS_NONE;
}

/*
 * Log the bytes of the complete, fsynced file 'temp' of the build that
 * SbLogStart logged at 'begin', then its end.  Nothing to do unless
 * builds go to the WAL.
 */
void
SbLogFile(const char *name, XLogRecPtr begin, const char *temp)
{
	char	   *raw,
			   *packed;
	xl_sb_chunk chunk;
	xl_sb_end	end;
	int			fd;
	ssize_t		n;

	if (!SbWalEnabled())
		return;
	fd = OpenTransientFile(temp, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", temp)));
	raw = palloc(SB_WAL_CHUNK);
#ifdef USE_LZ4
	packed = palloc(LZ4_compressBound(SB_WAL_CHUNK));
#else
	packed = palloc(SB_WAL_CHUNK);
#endif
	fill_ident(&chunk.id, name, begin);
	chunk.offset = 0;
	while ((n = read(fd, raw, SB_WAL_CHUNK)) > 0)
	{
		chunk.rawlen = (uint32) n;
		chunk.method = compress_chunk(raw, (uint32) n, packed, &chunk.datalen);
		XLogBeginInsert();
		XLogRegisterData((char *) &chunk, sizeof(chunk));
		XLogRegisterData(chunk.method == SB_WAL_COMPRESS_NONE ? raw : packed,
						 chunk.datalen);
		(void) XLogInsert(SB_RMGR_ID, XLOG_SB_CHUNK);
		chunk.offset += (uint64) n;
		CHECK_FOR_INTERRUPTS();
	}
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", temp)));
	CloseTransientFile(fd);
	end.id = chunk.id;
	end.size = chunk.offset;
	XLogBeginInsert();
	XLogRegisterData((char *) &end, sizeof(end));
	(void) XLogInsert(SB_RMGR_ID, XLOG_SB_END);
	pfree(raw);
	pfree(packed);
}

/*
 * Log that this backend settled bundle 'name' after its commit, so that
 * replay settles it at once.  Runs after commit: never errors.
 */
void
SbLogInstall(const char *name)
{
	xl_sb_ident id;

	if (!SbWalEnabled())
		return;
	memset(&id, 0, sizeof(id));
	id.dboid = MyDatabaseId;
	strlcpy(id.name, name, sizeof(id.name));
	XLogBeginInsert();
	XLogRegisterData((char *) &id, sizeof(id));
	/* have the WAL writer flush it soon, as for an asynchronous commit */
	XLogSetAsyncXactLSN(XLogInsert(SB_RMGR_ID, XLOG_SB_INSTALL));
}

/* Replay: create a directory that may not exist yet; false on failure. */
static bool
redo_directory(Oid dboid)
{
	char	   *top = SbDirectoryOf(InvalidOid, false);
	char	   *dir = SbDirectoryOf(dboid, false);
	bool		ok = true;

	if ((MakePGDirectory(top) != 0 && errno != EEXIST) ||
		(MakePGDirectory(dir) != 0 && errno != EEXIST))
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
		ok = false;
	}
	pfree(top);
	pfree(dir);
	return ok;
}

/* Replay of BEGIN or DROP: settle what came before, create the new file. */
static void
redo_start(const xl_sb_ident *id, XLogRecPtr lsn, bool drop)
{
	char	   *path;
	int			fd;

	if (!redo_directory(id->dboid))
		return;
	(void) SbSettleBundle(id->dboid, id->name, SB_SETTLE_REDO);
	path = SbFlightPath(id->dboid, id->name, id->xid, id->pid, lsn,
						drop ? ".drop" : ".tmp");
	fd = BasicOpenFile(path, O_CREAT | O_TRUNC | O_WRONLY | PG_BINARY);
	if (fd < 0)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	else
	{
		close(fd);
		(void) fsync_fname_ext(path, false, false, WARNING);
		pfree(path);
		path = SbDirectoryOf(id->dboid, false);
		(void) fsync_fname_ext(path, true, false, WARNING);
	}
	pfree(path);
}

/* Open the file of a build being replayed; -1 if it is gone (settled). */
static int
redo_open(const xl_sb_ident *id, char **path)
{
	int			fd;

	*path = SbFlightPath(id->dboid, id->name, id->xid, id->pid, id->lsn, ".tmp");
	fd = BasicOpenFile(*path, O_WRONLY | PG_BINARY);
	if (fd < 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", *path)));
	return fd;
}

/* Replay of CHUNK: write the bytes at their place, durably. */
static void
redo_chunk(const xl_sb_chunk *chunk)
{
	static char *raw = NULL;
	const char *data = (const char *) chunk + sizeof(xl_sb_chunk);
	char	   *path;
	int			fd = redo_open(&chunk->id, &path);

	SbTestPause("redo_chunk");
	if (fd < 0)
		return;
	if (chunk->method == SB_WAL_COMPRESS_LZ4)
	{
#ifdef USE_LZ4
		if (raw == NULL)
			raw = MemoryContextAlloc(TopMemoryContext, SB_WAL_CHUNK);
		if (chunk->rawlen > SB_WAL_CHUNK ||
			LZ4_decompress_safe(data, raw, (int) chunk->datalen,
								SB_WAL_CHUNK) != (int) chunk->rawlen)
			data = NULL;
		else
			data = raw;
#else
		data = NULL;
#endif
	}
	if (data == NULL)
		ereport(WARNING,
				(errmsg("could not decompress a chunk of bundle \"%s\"", chunk->id.name)));
	else if (pg_pwrite(fd, data, chunk->rawlen, (off_t) chunk->offset) != chunk->rawlen ||
			 pg_fdatasync(fd) != 0)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", path)));
	close(fd);
	pfree(path);
}

/*
 * Replay of END: the file must now be whole; if it is not a bundle of the
 * logged size, remove it, so that the old bundle stays and readers know
 * it is not the committed one.
 */
static void
redo_end(const xl_sb_end *end)
{
	char	   *path;
	int			fd = redo_open(&end->id, &path);
	sb_bundle  *b;
	sb_error	err;

	if (fd < 0)
		return;
	if (ftruncate(fd, (off_t) end->size) != 0 || pg_fsync(fd) != 0)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", path)));
	close(fd);
	if (sb_open(path, &b, &err) != SB_OK)
	{
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("replayed file of bundle \"%s\" is not valid: %s",
						end->id.name, err.detail),
				 errdetail("The bundle keeps its previous file on this server.")));
		(void) unlink(path);
	}
	else
		sb_close(b);
	pfree(path);
}

/* The resource manager's redo routine. */
static void
sb_redo(XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;
	char	   *data = XLogRecGetData(record);

	switch (info)
	{
		case XLOG_SB_BEGIN:
		case XLOG_SB_DROP:
			redo_start((xl_sb_ident *) data, record->EndRecPtr,
					   info == XLOG_SB_DROP);
			break;
		case XLOG_SB_CHUNK:
			redo_chunk((xl_sb_chunk *) data);
			break;
		case XLOG_SB_END:
			redo_end((xl_sb_end *) data);
			break;
		case XLOG_SB_INSTALL:
			(void) SbSettleBundle(((xl_sb_ident *) data)->dboid,
								  ((xl_sb_ident *) data)->name, SB_SETTLE_REDO);
			SbSweepOwnRetired();
			break;
		default:
			elog(PANIC, "sharedbuf redo: unknown op code %u", info);
	}
}

/* End of recovery: no build is in progress any more; settle them all. */
static void
sb_cleanup(void)
{
	SbSettleAll();
	SbSweepOwnRetired();
}

/* The resource manager's description of a record. */
static void
sb_desc(StringInfo buf, XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;
	const xl_sb_ident *id = (const xl_sb_ident *) XLogRecGetData(record);

	appendStringInfo(buf, "bundle \"%s\" of database %u", id->name, id->dboid);
	if (info == XLOG_SB_BEGIN || info == XLOG_SB_DROP)
		appendStringInfo(buf, ", xid %u, pid %d", id->xid, id->pid);
	else if (info == XLOG_SB_CHUNK)
	{
		const xl_sb_chunk *c = (const xl_sb_chunk *) id;

		appendStringInfo(buf, ", build %X/%X, offset " UINT64_FORMAT ", %u bytes",
						 LSN_FORMAT_ARGS(id->lsn), c->offset, c->rawlen);
		if (c->method == SB_WAL_COMPRESS_LZ4)
			appendStringInfo(buf, " (lz4: %u)", c->datalen);
	}
	else if (info == XLOG_SB_END)
		appendStringInfo(buf, ", build %X/%X, " UINT64_FORMAT " bytes",
						 LSN_FORMAT_ARGS(id->lsn), ((const xl_sb_end *) id)->size);
}

/* The name of a record type. */
static const char *
sb_identify(uint8 info)
{
	switch (info & ~XLR_INFO_MASK)
	{
		case XLOG_SB_BEGIN:
			return "BEGIN";
		case XLOG_SB_CHUNK:
			return "CHUNK";
		case XLOG_SB_END:
			return "END";
		case XLOG_SB_INSTALL:
			return "INSTALL";
		case XLOG_SB_DROP:
			return "DROP";
	}
	return NULL;
}
