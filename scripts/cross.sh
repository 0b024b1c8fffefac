#!/usr/bin/env bash
# cross.sh - type-check the crate (library, binary, unit and integration tests) for other
# targets from this Linux machine, with clippy's warnings as errors.
#
#   scripts/cross.sh [TARGET...]     default: x86_64-apple-darwin aarch64-apple-darwin
#                                    (x86_64-pc-windows-gnu too, see "Windows" below)
#   CROSS_BUILD=1 scripts/cross.sh   also build and link the release binary of each target
#                                    (target/TARGET/release/plugin)
#
# For every TARGET it runs
#     cargo-zigbuild clippy --target TARGET --all-targets -- -D warnings
# and, with CROSS_BUILD=1, the release build (for a macOS TARGET see below; others:
#     cargo zigbuild --release --target TARGET)
# zig is the C compiler and linker (aws-lc-sys compiles C even for a type check, and zig carries
# the macOS libc headers and libSystem stubs), so no macOS SDK is needed. Unit tests of the macOS
# implementation (src/platform/macos.rs) are compiled here, not run: they run only on a Mac.
#
# Linking a macOS binary also needs the Security and CoreFoundation frameworks (the OS trust
# store of rustls-platform-verifier), which zig does not carry. Without a macOS SDK the link uses
# the text stubs in scripts/macos-frameworks/ (install names and exactly the symbols we import;
# see its README), so for an apple TARGET the release build is
#     cargo-zigbuild rustc --release --target TARGET --bin plugin -- -L framework=scripts/macos-frameworks
# The search path goes to the final link only (`cargo rustc` arguments reach that one crate), so
# no dependency is rebuilt for it and Linux builds never see it. With SDKROOT naming a real
# MacOSX.sdk, cargo-zigbuild links against the SDK's frameworks instead and the stubs are unused.
# The binary is linked, never run here; rustc's warning that xcrun is missing is expected.
# The oldest macOS the binary accepts (LC_BUILD_VERSION/LC_VERSION_MIN) is MACOSX_DEPLOYMENT_TARGET,
# by default 10.14 on Intel (rustc's own is 10.12, but the trust store's SecTrustEvaluateWithError
# exists from 10.14: an older Mac should refuse to start the binary, not fail on a missing symbol)
# and rustc's 11.0 on Apple silicon. Unset, zig would stamp its own default (15.0) and older Macs
# would refuse to start it.
# rustc and cargo track the variable, so changing it rebuilds everything for that target.
#
# Windows (x86_64-pc-windows-gnu) builds with mingw-w64's gcc and linker, not zig: plain
# `cargo clippy`/`cargo build --release --target x86_64-pc-windows-gnu`. Its clippy run allows
# `result_large_err` only: a PathBuf is 32 bytes there (24 on Unix), which pushes error enums
# that Linux's clippy accepts over the lint's threshold; Linux keeps the lint.
# Needs: `pip install ziglang cargo-zigbuild` and `rustup target add TARGET`; for Windows,
# mingw-w64 (Debian: apt-get install gcc-mingw-w64-x86-64).
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
for t in "${targets[@]}"; do
    if [[ "$t" == *-windows-gnu ]] && ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
        echo "cross.sh: mingw-w64 not found; install it (Debian/Ubuntu: apt-get install gcc-mingw-w64-x86-64)" >&2
        missing=1
    fi
done
installed=$(rustup target list --installed 2>/dev/null || true)
for t in "${targets[@]}"; do
    if ! grep -qx "$t" <<<"$installed"; then
        echo "cross.sh: the Rust standard library for $t is missing; add it with: rustup target add $t" >&2
        missing=1
    fi
done
[ "$missing" -eq 0 ] || exit 2

stubs="$PWD/scripts/macos-frameworks"
user_deployment_target="${MACOSX_DEPLOYMENT_TARGET:-}"
for t in "${targets[@]}"; do
    case "$t" in
        x86_64-apple-*) export MACOSX_DEPLOYMENT_TARGET="${user_deployment_target:-10.14}" ;;
        *-apple-*) export MACOSX_DEPLOYMENT_TARGET="${user_deployment_target:-11.0}" ;;
        *) unset MACOSX_DEPLOYMENT_TARGET ;;
    esac
    if [[ "$t" == *-windows-gnu ]]; then
        echo "== $t: clippy --all-targets" >&2
        cargo clippy --target "$t" --all-targets -- -D warnings -A clippy::result_large_err
        if [ "${CROSS_BUILD:-0}" = 1 ]; then
            echo "== $t: release build" >&2
            cargo build --release --target "$t"
        fi
        continue
    fi
    echo "== $t: clippy --all-targets" >&2
    cargo-zigbuild clippy --target "$t" --all-targets -- -D warnings
    [ "${CROSS_BUILD:-0}" = 1 ] || continue
    if [[ "$t" == *-apple-* && -z "${SDKROOT:-}" ]]; then
        echo "== $t: release build (frameworks: $stubs; macOS >= $MACOSX_DEPLOYMENT_TARGET)" >&2
        if ! cargo-zigbuild rustc --release --target "$t" --bin plugin -- -L "framework=$stubs"; then
            echo "cross.sh: the release build for $t failed. If the link says \"undefined symbol: _CF…\" (or _Sec…)," \
                "our dependencies now import it: add it to scripts/macos-frameworks/<Framework>.framework/<Framework>.tbd" >&2
            exit 1
        fi
    else
        echo "== $t: release build" >&2
        cargo zigbuild --release --target "$t"
    fi
done
echo "cross.sh: ok for ${targets[*]}" >&2
