/*-------------------------------------------------------------------------
 *
 * harness.h
 *	  A tiny TAP harness for the format library's unit tests.
 *
 * Each test is a function "void test_NAME(void)" listed in tests.h.  The
 * harness runs every test in a child process of its own, in a fresh
 * temporary directory, and prints one TAP line per test: "ok N - NAME" or
 * "not ok N - NAME" followed by "# " diagnostic lines, then the plan
 * "1..N".  A check that fails records a diagnostic and the test goes on;
 * REQUIRE also returns from the test function.
 *
 *-------------------------------------------------------------------------
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SB_TEST_QUICK=1 in the environment: tests may do less work. */
extern bool tf_quick;
extern uint32_t tf_inline_limit;	/* tf_options' inline_limit in this pass */

#define TF_INLINE_LIMIT 256			/* the inline pass's limit */

/* Record a failed check of the running test. */
extern void tf_fail(const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Number of checks failed so far in the running test. */
extern int	tf_failures(void);

/*
 * A path inside the running test's temporary directory.  The result is
 * one of a few static buffers, valid until several more calls.
 */
extern const char *tf_path(const char *name);

/* The running test's temporary directory. */
extern const char *tf_dir(void);

/* Evaluate to the truth of cond, recording a failure when it is false. */
#define CHECK(cond) \
	((cond) ? true : (tf_fail(__FILE__, __LINE__, "check failed: %s", #cond), false))

/* Like CHECK, with a formatted diagnostic. */
#define CHECKF(cond, ...) \
	((cond) ? true : (tf_fail(__FILE__, __LINE__, __VA_ARGS__), false))

/* Check, and return from the test function if the check failed. */
#define REQUIRE(cond) \
	do { if (!CHECK(cond)) return; } while (0)

#define REQUIREF(cond, ...) \
	do { if (!CHECKF(cond, __VA_ARGS__)) return; } while (0)

/* Compare two integers, showing both values when they differ. */
#define CHECK_EQ(got, want) \
	tf_check_eq(__FILE__, __LINE__, #got, (int64_t) (got), (int64_t) (want))

extern bool tf_check_eq(const char *file, int line, const char *expr,
						int64_t got, int64_t want);

/* The test functions, declared from their list. */
#define TF_TEST(name, slow) extern void test_##name(void);
#include "tests.h"
#undef TF_TEST

#endif							/* HARNESS_H */
