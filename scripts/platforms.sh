#!/usr/bin/env bash
# platforms.sh - what README's test command checks beyond Linux (issue 15):
#   1. the release binary cross-builds and links for macOS (Intel, Apple silicon) and Windows,
#      with clippy's warnings as errors for each (scripts/cross.sh; tests type-checked too);
#   2. the Windows build's tests and README's demo run under wine (scripts/windows-tests.sh).
# Each script says what to install when a tool is missing (exit 2); .ci/run installs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
CROSS_BUILD=1 bash scripts/cross.sh x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu
bash scripts/windows-tests.sh
