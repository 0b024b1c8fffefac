#!/usr/bin/env bash
# windows-tests.sh - run the Windows build (x86_64-pc-windows-gnu) under wine: the library's unit
# tests, every integration test that compiles for Windows, and README's demo install.
#
#   scripts/windows-tests.sh [CARGO TEST ARGS...]    e.g. --test cli
#
# Tests that need what a Windows process under wine cannot have are compiled out with
# `#[cfg(unix)]` and say why beside it: the loopback git server (Python and git http-backend are
# Linux programs, which a wine process cannot start), FIFOs, POSIX modes and owners. Tests about
# symbolic links skip themselves where links cannot be made (wine accepts the call and makes
# none); on a real Windows with Developer Mode they run. docs/windows-under-wine.md lists it all.
# Needs: wine and mingw-w64 (Debian: apt-get install wine wine64 gcc-mingw-w64-x86-64) and
# `rustup target add x86_64-pc-windows-gnu`; scripts/wine-run says what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
target=x86_64-pc-windows-gnu
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "windows-tests.sh: the Rust standard library for $target is missing; add it with: rustup target add $target" >&2
    exit 2
fi
for tool in wine x86_64-w64-mingw32-gcc; do
    if ! command -v "$tool" >/dev/null; then
        echo "windows-tests.sh: $tool not found; install it (Debian/Ubuntu: apt-get install wine wine64 gcc-mingw-w64-x86-64)" >&2
        exit 2
    fi
done
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/wine-run"
# tests/crash.rs kills installs at random moments 50 times per test on Linux; each wine process
# start costs tens of milliseconds and 2,000-file installs take seconds, so the Windows run kills
# 3 times (9 minutes with 10 on a 2-core machine; the rename-based publish,
# Windows' own path, is what it exercises).
export PLUGIN_CRASH_ITERATIONS="${PLUGIN_CRASH_ITERATIONS:-3}"

echo "== $target: cargo test under wine" >&2
if [ $# -gt 0 ]; then
    cargo test --target "$target" "$@"
    exit 0
fi
cargo test --target "$target" --tests

# README's first command, with the Windows binary: add the demo marketplace, install from it.
echo "== $target: README demo under wine" >&2
exe="target/$target/debug/plugin.exe"
cargo build -q --target "$target" --bin plugin
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
run() { CLAUDE_CONFIG_DIR="$config" scripts/wine-run "$exe" "$@"; }
run marketplace add ./testdata/demo-marketplace
out=$(run install hello@demo)
echo "$out"
run list
fail() { echo "windows-tests.sh: the demo install under wine did not do what it should: $*" >&2; exit 1; }
[ "$out" = 'Installing plugin "hello@demo"...✔ Successfully installed plugin: hello@demo (scope: user)' ] \
    || fail "unexpected output"
version_dir="$config/plugins/cache/demo/hello/1.0.0"
[ -f "$version_dir/.claude-plugin/plugin.json" ] || fail "no $version_dir/.claude-plugin/plugin.json"
diff -r testdata/demo-marketplace/plugins/hello "$version_dir" --exclude=.plugin-ok --exclude=.plugin-files >/dev/null \
    || fail "$version_dir differs from the demo plugin"
# The record names the folder as Windows writes it: a drive letter (wine shows / as Z:) and backslashes.
python3 - "$config" <<'PY' || fail "installed_plugins.json"
import json, sys
rec = json.load(open(sys.argv[1] + "/plugins/installed_plugins.json"))["plugins"]["hello@demo"][0]
want = "Z:" + sys.argv[1].replace("/", "\\") + "\\plugins\\cache\\demo\\hello\\1.0.0"
assert rec["installPath"] == want, (rec["installPath"], want)
assert json.load(open(sys.argv[1] + "/settings.json"))["enabledPlugins"]["hello@demo"] is True
PY
echo "windows-tests.sh: ok" >&2
