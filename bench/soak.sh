#!/usr/bin/env bash
# Soak test on demand: mixed lookups, scans and refreshes for ten minutes
# (or SECONDS given as the first argument), checking that a long-lived
# backend's memory stays flat.  The test command runs the same test for
# one minute.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHAREDBUF_SOAK_SECONDS="${1:-600}"
exec env PROVE_TESTS="t/007_soak.pl" scripts/run-tap
