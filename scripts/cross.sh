#!/usr/bin/env bash
# cross.sh - type-check the crate (library, binary, unit and integration tests) for other
# targets from this Linux machine, with clippy's warnings as errors.
#
#   scripts/cross.sh [TARGET...]     default: x86_64-apple-darwin aarch64-apple-darwin
#   CROSS_BUILD=1 scripts/cross.sh   also build (and link) the release binary of each target
#
# For every TARGET it runs
#     cargo-zigbuild clippy --target TARGET --all-targets -- -D warnings
# and, with CROSS_BUILD=1,
#     cargo zigbuild --release --target TARGET
# zig is the C compiler and linker (aws-lc-sys compiles C even for a type check, and zig carries
# the macOS libc headers and libSystem stubs), so no macOS SDK is needed. Unit tests of the macOS
# implementation (src/platform/macos.rs) are compiled here, not run: they run only on a Mac.
# Linking a macOS binary (CROSS_BUILD=1) also needs the macOS SDK's frameworks (Security and
# CoreFoundation, for the OS trust store of rustls-platform-verifier): zig does not carry them,
# so without SDKROOT pointing at a MacOSX.sdk the link fails ("unable to find system framework").
# Needs: `pip install ziglang cargo-zigbuild` and `rustup target add TARGET`.
set -euo pipefail

cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-apple-darwin aarch64-apple-darwin)

missing=0
if ! command -v cargo-zigbuild >/dev/null; then
    echo "cross.sh: cargo-zigbuild not found; install it with: pip install ziglang cargo-zigbuild" >&2
    missing=1
fi
# cargo-zigbuild finds zig on PATH or as the `ziglang` Python package.
if ! command -v zig >/dev/null && ! python3 -c 'import ziglang' 2>/dev/null; then
    echo "cross.sh: zig not found; install it with: pip install ziglang" >&2
    missing=1
fi
installed=$(rustup target list --installed 2>/dev/null || true)
for t in "${targets[@]}"; do
    if ! grep -qx "$t" <<<"$installed"; then
        echo "cross.sh: the Rust standard library for $t is missing; add it with: rustup target add $t" >&2
        missing=1
    fi
done
[ "$missing" -eq 0 ] || exit 2

for t in "${targets[@]}"; do
    echo "== $t: clippy --all-targets" >&2
    cargo-zigbuild clippy --target "$t" --all-targets -- -D warnings
    if [ "${CROSS_BUILD:-0}" = 1 ]; then
        echo "== $t: release build" >&2
        cargo zigbuild --release --target "$t"
    fi
done
echo "cross.sh: ok for ${targets[*]}" >&2
