#!/usr/bin/env bash
# fuzz.sh - a long fuzzing run of every parser that reads untrusted bytes (tests/fuzz/).
#
# CI runs each target for at most 3000 inputs or 3 s with a fixed seed; this runs each for
# SECONDS (default 50: 12 targets, about 10 minutes of target time, half that on 2 threads)
# with a fresh random seed, at the lowest CPU priority.
#
#   scripts/fuzz.sh [SECONDS] [TEST-NAME-FILTER]
#
# Environment: PLUGIN_FUZZ_SEED (default random; printed, so a run can be repeated),
# PLUGIN_FUZZ_THREADS (default 2). A failing input is saved under target/tmp/fuzz-crashes/ and
# the failure message says how to replay it alone (PLUGIN_FUZZ_SEED + PLUGIN_FUZZ_REPLAY).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-50}
filter=${2:-}
seed=${PLUGIN_FUZZ_SEED:-0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')}
echo "fuzz: ${secs} s per target, seed ${seed}"
PLUGIN_FUZZ_SECS=$secs PLUGIN_FUZZ_ITERATIONS=18446744073709551615 PLUGIN_FUZZ_SEED=$seed \
  RUST_BACKTRACE=0 nice -n 19 cargo test --test fuzz -- --nocapture \
  --test-threads="${PLUGIN_FUZZ_THREADS:-2}" ${filter:+"$filter"}
