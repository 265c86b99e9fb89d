# sharedbuf: shared, memory-mapped lookup bundles for PostgreSQL
#
# Builds the extension (PGXS), the bundle command-line tool "sbundle", and
# the stand-alone format tests.  See README.md.

EXTENSION = sharedbuf
MODULE_big = sharedbuf
EXTVERSION = 0.4.0
PGFILEDESC = "sharedbuf - shared memory-mapped lookup bundles"

DATA = sharedbuf--0.1.0.sql sharedbuf--0.1.0--0.2.0.sql sharedbuf--0.2.0--0.3.0.sql sharedbuf--0.3.0--0.4.0.sql

FORMAT_OBJS = \
	src/format/sbaccess.o \
	src/format/sbblocks.o \
	src/format/sbcompact.o \
	src/format/sberror.o \
	src/format/sbdedup.o \
	src/format/sbencode.o \
	src/format/sbfinish.o \
	src/format/sbhash.o \
	src/format/sbinline.o \
	src/format/sbio.o \
	src/format/sbmerge.o \
	src/format/sbmergeheap.o \
	src/format/sblookup.o \
	src/format/sbprewarm.o \
	src/format/sbreader.o \
	src/format/sbschema.o \
	src/format/sbsort.o \
	src/format/sbverify.o \
	src/format/sbwriter.o

EXT_OBJS = \
	src/analyze.o \
	src/build.o \
	src/cache.o \
	src/catalog.o \
	src/claim.o \
	src/colmap.o \
	src/delta.o \
	src/deltaddl.o \
	src/deltaread.o \
	src/errors.o \
	src/foldworker.o \
	src/follow.o \
	src/followwrite.o \
	src/functions.o \
	src/import.o \
	src/info.o \
	src/keys.o \
	src/merge.o \
	src/modify.o \
	src/names.o \
	src/operations.o \
	src/options.o \
	src/parallel.o \
	src/paths.o \
	src/planner.o \
	src/retire.o \
	src/scan.o \
	src/settings.o \
	src/settle.o \
	src/sharedbuf.o \
	src/swap.o \
	src/types.o \
	src/wal.o \
	src/writable.o

OBJS = $(EXT_OBJS) $(FORMAT_OBJS)

REGRESS = build options scan types keytypes equivalence compact operations ownership upgrade writable follow
# the tests' text is UTF-8, and their output must not depend on the locale
# of the server they run against
REGRESS_OPTS = --encoding=UTF8 --no-locale
ISOLATION = refresh_readers refresh_refresh writable_writers writable_fold follow_writers

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/format \
	-DSB_EXTENSION_VERSION='"$(EXTVERSION)"'
# The pauses of crash tests are compiled only into test builds
# (make SB_TEST_HOOKS=1); changing the flag rebuilds the extension.
ifdef SB_TEST_HOOKS
PG_CPPFLAGS += -DSB_TEST_HOOKS
endif
BUILD_FLAGS = .build-flags
$(shell echo 'SB_TEST_HOOKS=$(SB_TEST_HOOKS)' | cmp -s - $(BUILD_FLAGS) || \
	echo 'SB_TEST_HOOKS=$(SB_TEST_HOOKS)' > $(BUILD_FLAGS))
# lz4, which PostgreSQL links too, compresses bundles in the WAL
SHLIB_LINK = -lm -llz4

TOOL = sbundle
EXTRA_CLEAN = $(BUILD_FLAGS) $(TOOL) tools/*.o test/format/test_format test/fuzz/fuzz_bundle \
	test/fuzz/fuzz_bundle_struct test/fuzz/scratch/ \
	results/ regression.diffs regression.out output_iso/ tmp_check/ tmp_check_iso/

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Rebuild objects when a header changes (PGXS does not track it here).
$(EXT_OBJS): src/sharedbuf.h src/compat.h src/format/sbformat.h $(BUILD_FLAGS)
$(FORMAT_OBJS): src/format/*.h

# The command-line tool writes images for this PostgreSQL major version.
PG_MAJOR := $(MAJORVERSION)

all: $(TOOL)

TOOL_OBJS = tools/sbundle.o tools/csv.o tools/types.o \
	tools/build.o tools/datetime.o tools/inspect.o \
	tools/query.o tools/schema.o tools/util.o

# The tool is a frontend program: it links PostgreSQL's libpgcommon and
# libpgport, which postgresql-server-dev installs in pkglibdir, and
# libpgtypes (libecpg-dev), whose headers are in includedir.  Linked
# statically, libpgcommon's encoding functions have their "_private"
# names (PostgreSQL 18), which USE_PRIVATE_ENCODING_FUNCS selects.
TOOL_LIBS = -L$(pkglibdir) -L$(libdir) -lpgcommon -lpgport -lpgtypes -lm

$(TOOL): $(TOOL_OBJS) $(FORMAT_OBJS)
	$(CC) $(CFLAGS) $^ $(LDFLAGS) $(TOOL_LIBS) -o $@

$(TOOL_OBJS): tools/*.h src/format/sbformat.h Makefile

tools/%.o: tools/%.c
	$(CC) $(CPPFLAGS) -I$(includedir) $(CFLAGS) -DSB_PG_MAJOR=$(PG_MAJOR) \
		-DUSE_PRIVATE_ENCODING_FUNCS -Isrc/format -c $< -o $@

# sbundle goes to PostgreSQL's bindir, which is not on users' PATH on
# Debian, with a symbolic link to it in TOOL_BINDIR (none if empty).
TOOL_BINDIR ?= /usr/local/bin

install: install-tool

install-tool: $(TOOL) installdirs
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(TOOL)$(X) '$(DESTDIR)$(bindir)/'
ifneq ($(TOOL_BINDIR),)
	$(MKDIR_P) '$(DESTDIR)$(TOOL_BINDIR)'
	ln -sf '$(bindir)/$(TOOL)$(X)' '$(DESTDIR)$(TOOL_BINDIR)/$(TOOL)$(X)'
endif

uninstall: uninstall-tool

uninstall-tool:
	rm -f '$(DESTDIR)$(bindir)/$(TOOL)$(X)'
ifneq ($(TOOL_BINDIR),)
	rm -f '$(DESTDIR)$(TOOL_BINDIR)/$(TOOL)$(X)'
endif

# Stand-alone format tests (no server), with sanitizers.
FORMAT_SRCS = $(FORMAT_OBJS:.o=.c)
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# The worked example test reads docs/format.md (at run time, by this path).
test/format/test_format: test/format/*.c test/format/*.h $(FORMAT_SRCS) src/format/*.h
	$(CC) -std=gnu11 -O1 -g $(SANITIZE) -Wall -Isrc/format -Itest/format \
		-DTF_FORMAT_DOC='"$(abspath $(srcdir)/docs/format.md)"' \
		test/format/*.c $(FORMAT_SRCS) -lm -o $@

check-format: test/format/test_format
	./test/format/test_format

.PHONY: install-tool uninstall-tool check-format
