/*-------------------------------------------------------------------------
 *
 * harness.c
 *	  The test runner: temporary directories, child processes, TAP output.
 *
 * Usage: test_format [SUBSTRING]
 *
 * Runs every test whose name contains SUBSTRING (all tests without one).
 * Each test runs in a forked child, so that a crash or a sanitizer report
 * fails that test alone.  The child sends its diagnostics through a pipe
 * and exits with PASS_CODE or FAIL_CODE; the parent prints the TAP line,
 * and reports any other end (a signal, or a sanitizer's exit status) as a
 * failure.  LeakSanitizer checks each child at its exit.  Files go to a
 * directory made with mkdtemp under $TMPDIR (or /tmp), one subdirectory
 * per test, all removed at the end.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define PASS_CODE	10
#define FAIL_CODE	11
#define MAX_DIAGS	12
#define PATH_BUFS	8

typedef struct tf_test
{
	const char *name;
	void		(*fn) (void);
	bool		slow;
} tf_test;

static const tf_test tests[] = {
#define TF_TEST(name, slow) {#name, test_##name, slow},
#include "tests.h"
#undef TF_TEST
};

bool		tf_quick = false;
uint32_t	tf_inline_limit = 0;

static char root_dir[4096];
static char test_dir[4096];
static int	nfailed;
static char diags[MAX_DIAGS][512];

/* Record a failed check (kept for printing after the test's line). */
void
tf_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (nfailed < MAX_DIAGS)
	{
		n = snprintf(diags[nfailed], sizeof(diags[0]), "%s:%d: ", file, line);
		va_start(ap, fmt);
		vsnprintf(diags[nfailed] + n, sizeof(diags[0]) - n, fmt, ap);
		va_end(ap);
	}
	nfailed++;
}

/* Checks failed so far in this test. */
int
tf_failures(void)
{
	return nfailed;
}

/* Compare two integers; on a difference show both. */
bool
tf_check_eq(const char *file, int line, const char *expr, int64_t got,
			int64_t want)
{
	if (got == want)
		return true;
	tf_fail(file, line, "%s is %lld, expected %lld", expr,
			(long long) got, (long long) want);
	return false;
}

/* The running test's directory. */
const char *
tf_dir(void)
{
	return test_dir;
}

/* A path in the running test's directory, in a rotating static buffer. */
const char *
tf_path(const char *name)
{
	static char bufs[PATH_BUFS][4096];
	static int	next;
	char	   *p = bufs[next++ % PATH_BUFS];

	if (snprintf(p, sizeof(bufs[0]), "%s/%s", test_dir, name) >= (int) sizeof(bufs[0]))
		tf_fail(__FILE__, __LINE__, "path \"%s\" is too long", name);
	return p;
}

/* nftw callback: remove one entry (directories after their contents). */
static int
remove_entry(const char *path, const struct stat *st, int flag,
			 struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	if (remove(path) != 0)
		fprintf(stderr, "could not remove \"%s\": %s\n", path, strerror(errno));
	return 0;
}

/* Remove a directory tree. */
static void
remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * In the child: run one test, write its diagnostics to the pipe, and exit
 * (through exit(), so that LeakSanitizer checks the test).
 */
static void
run_child(const tf_test *t, int fd)
{
	FILE	   *out = fdopen(fd, "w");

	nfailed = 0;
	t->fn();
	for (int i = 0; out && i < nfailed && i < MAX_DIAGS; i++)
		fprintf(out, "# %s\n", diags[i]);
	if (out && nfailed > MAX_DIAGS)
		fprintf(out, "# ... and %d more failed checks\n", nfailed - MAX_DIAGS);
	if (out)
		fclose(out);
	fflush(stdout);
	exit(nfailed ? FAIL_CODE : PASS_CODE);
}

/* In the parent: collect what the child writes to the pipe. */
static void
read_diags(int fd, char *buf, size_t size)
{
	size_t		len = 0;
	ssize_t		n;

	while ((n = read(fd, buf + len, size - 1 - len)) != 0)
	{
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (len += (size_t) n) == size - 1)
			break;
	}
	buf[len] = '\0';
	close(fd);
}

/* A test's name in this pass: the inline pass adds " (inline)". */
static const char *
test_label(const tf_test *t)
{
	static char label[128];

	snprintf(label, sizeof(label), "%s%s", t->name,
			 tf_inline_limit ? "_inline" : "");
	return label;
}

/* Print a test's TAP line and diagnostics; true if it passed. */
static bool
report(int num, const tf_test *t, int status, const char *diag)
{
	bool		passed = WIFEXITED(status) && WEXITSTATUS(status) == PASS_CODE;

	printf("%s %d - %s\n%s", passed ? "ok" : "not ok", num, test_label(t), diag);
	if (WIFSIGNALED(status))
		printf("# the test process died of signal %d\n", WTERMSIG(status));
	else if (WEXITSTATUS(status) != PASS_CODE && WEXITSTATUS(status) != FAIL_CODE)
		printf("# the test process exited with status %d (sanitizer report on stderr)\n",
			   WEXITSTATUS(status));
	return passed;
}

/* Run one test in a child process and directory; true if it passed. */
static bool
run_test(int num, const tf_test *t)
{
	static char diag[MAX_DIAGS * 600];
	pid_t		pid = -1;
	int			status = 0,
				fds[2];

	diag[0] = '\0';
	if (snprintf(test_dir, sizeof(test_dir), "%s/%s", root_dir, test_label(t)) >=
		(int) sizeof(test_dir) ||
		mkdir(test_dir, 0700) != 0 || pipe(fds) != 0)
	{
		printf("not ok %d - %s\n# could not set up \"%s\": %s\n", num,
			   test_label(t), test_dir, strerror(errno));
		return false;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
	{
		close(fds[0]);
		run_child(t, fds[1]);
	}
	if (pid < 0)
	{
		printf("not ok %d - %s\n# could not fork: %s\n", num, test_label(t),
			   strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	close(fds[1]);
	read_diags(fds[0], diag, sizeof(diag));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	remove_tree(test_dir);
	return report(num, t, status, diag);
}

/* Make the run's root temporary directory. */
static bool
make_root_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(root_dir, sizeof(root_dir), "%s/sbformat_test.XXXXXX", tmp);
	if (mkdtemp(root_dir) == NULL)
	{
		fprintf(stderr, "could not create a directory in \"%s\": %s\n", tmp,
				strerror(errno));
		return false;
	}
	return true;
}

/* Run the selected tests; exit status 1 if any failed. */
int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *quick = getenv("SB_TEST_QUICK");
	int			num = 0,
				failed = 0;
	struct timeval start,
				end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tf_quick = quick != NULL && strcmp(quick, "1") == 0;
	if (!make_root_dir())
		return 2;
	gettimeofday(&start, NULL);

	/*
	 * Every test runs with values in the heap; the fast ones run again with
	 * inline values on by default (tf_options), their names ending in
	 * "_inline".
	 */
	for (int pass = 0; pass < 2; pass++)
	{
		tf_inline_limit = pass == 0 ? 0 : TF_INLINE_LIMIT;
		for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		{
			const tf_test *t = &tests[i];

			if (filter && strstr(test_label(t), filter) == NULL)
				continue;
			if (pass > 0 && t->slow)
				continue;		/* slow ones run in the first pass only */
			num++;
			if (tf_quick && t->slow)
			{
				printf("ok %d - %s # SKIP SB_TEST_QUICK=1\n", num, test_label(t));
				continue;
			}
			if (!run_test(num, t))
				failed++;
		}
	}
	remove_tree(root_dir);
	gettimeofday(&end, NULL);
	printf("1..%d\n", num);
	printf("# %d of %d tests failed, %.1f s\n", failed, num,
		   (end.tv_sec - start.tv_sec) + (end.tv_usec - start.tv_usec) / 1e6);
	return failed ? 1 : 0;
}
