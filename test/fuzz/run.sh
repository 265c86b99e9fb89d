#!/usr/bin/env bash
#
# run.sh - build and run the bundle fuzzers for a bounded time.
#
# Usage: test/fuzz/run.sh [SECONDS] [struct|plain|both]
#
#   SECONDS  time each harness runs (default 20)
#   plain    fuzz_bundle: the reader over arbitrary bytes
#   struct   fuzz_bundle_struct: the same with a structure-aware mutator
#   both     the two, one after the other (default)
#
# Each harness is built into test/fuzz/ with libFuzzer and the address and
# undefined-behaviour sanitizers (leak checking is on with the address
# sanitizer), the seed corpus test/fuzz/corpus/ is copied into a scratch
# directory test/fuzz/scratch/HARNESS/ (the committed corpus is never
# changed), and libFuzzer runs there.  Prints one TAP line per harness and
# exits non-zero if any harness crashed, leaked, hit a sanitizer report,
# timed out or ran out of memory; the log and the failing input are left
# in test/fuzz/scratch/HARNESS/.
#
# Environment: CLANG (default clang), FUZZ_MAX_LEN (default 65536),
# FUZZ_TIMEOUT (seconds per input, default 30), FUZZ_MALLOC_LIMIT (MB in
# one allocation, default 256: far more than any input of at most 64 KB
# should need, so that an allocation out of proportion to the input is
# reported as a failure).
#
# The seed corpus is written by make_corpus.c; to regenerate it:
#   clang -Isrc/format src/format/*.c test/fuzz/make_corpus.c -lm -o make_corpus
#   ./make_corpus test/fuzz/corpus
# Inputs that once crashed are kept in the corpus as regression seeds
# (regress-*.sb); make_corpus leaves them alone.

set -euo pipefail

secs="${1:-20}"
mode="${2:-both}"
cc="${CLANG:-clang}"
max_len="${FUZZ_MAX_LEN:-65536}"
timeout="${FUZZ_TIMEOUT:-30}"
malloc_limit="${FUZZ_MALLOC_LIMIT:-256}"

case "$secs" in
  '' | *[!0-9]*)
    echo "usage: $0 [SECONDS] [struct|plain|both]" >&2
    exit 2
    ;;
esac
case "$mode" in
  plain) harnesses=(fuzz_bundle) ;;
  struct) harnesses=(fuzz_bundle_struct) ;;
  both) harnesses=(fuzz_bundle fuzz_bundle_struct) ;;
  *)
    echo "usage: $0 [SECONDS] [struct|plain|both]" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
fuzzdir=test/fuzz

echo "1..${#harnesses[@]}"

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "Bail out! $cc not found (set CLANG)"
  exit 2
fi

# Build one harness into test/fuzz/.
build() {
  local name="$1"

  "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Isrc/format src/format/*.c "$fuzzdir/fuzz_common.c" "$fuzzdir/$name.c" \
    -lm -o "$fuzzdir/$name"
}

# Run one harness in its scratch directory; print its TAP line.
run_one() {
  local n="$1" name="$2"
  local work="$fuzzdir/scratch/$name"
  local log="$work/fuzz.log"
  local rc=0 execs cov failed=""

  if ! build "$name" >"$fuzzdir/scratch/$name.build.log" 2>&1; then
    echo "not ok $n - $name: build failed"
    sed 's/^/# /' "$fuzzdir/scratch/$name.build.log"
    return 1
  fi
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$fuzzdir"/corpus/* "$work/corpus/"

  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$fuzzdir/$name" \
    -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb="$malloc_limit" \
    -max_len="$max_len" \
    -timeout="$timeout" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1 || rc=$?

  execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
  cov="$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1 || true)"
  if [ "$rc" -ne 0 ]; then
    failed="libFuzzer exited with status $rc"
  elif grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|sbfuzz: check failed|deadly signal' "$log"; then
    failed="sanitizer report"
  elif [ -n "$(ls -A "$work/artifacts")" ]; then
    failed="artifacts left"
  elif [ -z "$execs" ]; then
    failed="no final statistics"
  fi

  if [ -n "$failed" ]; then
    echo "not ok $n - $name: $failed, see $work/"
    grep -E 'ERROR|runtime error|SUMMARY|check failed|Test unit written|^    #[0-9]' "$log" |
      head -n 25 | sed 's/^/# /' || true
    return 1
  fi
  echo "ok $n - $name: $execs executions, no crash"
  echo "# $name: $cov, $(ls "$work/corpus" | wc -l) inputs in the working corpus"
  return 0
}

mkdir -p "$fuzzdir/scratch"
status=0
n=0
for h in "${harnesses[@]}"; do
  n=$((n + 1))
  run_one "$n" "$h" || status=1
done
exit "$status"
