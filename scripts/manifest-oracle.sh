#!/usr/bin/env bash
# manifest-oracle.sh - ask Claude Code 2.1.328 what it says of each plugin.json in
# testdata/manifest-schema/cases.json, and write (or, with --check, compare against)
# testdata/manifest-schema/claude-code.json, which `cargo test` reads (src/schema/plugin_manifest.rs).
#
# For every case: a plugin folder holding only .claude-plugin/plugin.json, then
# `claude plugin validate <folder> --json`; kept: success and the manifest's errors and warnings.
#
# USAGE   scripts/manifest-oracle.sh [--check]
# NEEDS   jq, node; CLAUDE_BIN or the npm copy scripts/conformance.sh installs
#         (${XDG_CACHE_HOME:-$HOME/.cache}/plugin-conformance/cc-2.1.328).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cases="$repo/testdata/manifest-schema/cases.json"
recorded="$repo/testdata/manifest-schema/claude-code.json"
cc=${CLAUDE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/plugin-conformance/cc-2.1.328/node_modules/@anthropic-ai/claude-code-linux-x64/claude}
if [[ ! -x $cc ]]; then
  echo "manifest-oracle: no Claude Code at $cc (run scripts/conformance.sh once, or set CLAUDE_BIN)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
out="$work/out.json"
echo '{}' > "$out"
for name in $(jq -r 'keys_unsorted[]' "$cases"); do
  dir="$work/$name"
  mkdir -p "$dir/.claude-plugin"
  jq --arg n "$name" '.[$n]' "$cases" > "$dir/.claude-plugin/plugin.json"
  verdict=$(cd "$work" && HOME="$work/home" "$cc" plugin validate "$name" --json 2>/dev/null |
    jq -c '{success, errors: [.manifest.errors[]? | {path, message}], warnings: [.manifest.warnings[]? | {path, message}]}') || true
  jq --arg n "$name" --argjson v "${verdict:-null}" '.[$n] = $v' "$out" > "$out.tmp" && mv "$out.tmp" "$out"
done
if [[ ${1:-} == --check ]]; then
  if diff <(jq -S . "$recorded") <(jq -S . "$out"); then
    echo "manifest-oracle: Claude Code agrees with $recorded"
  else
    echo "manifest-oracle: Claude Code's answers differ from $recorded (above)" >&2
    exit 1
  fi
else
  jq . "$out" > "$recorded"
  echo "manifest-oracle: wrote $recorded ($(jq length "$recorded") cases)"
fi
