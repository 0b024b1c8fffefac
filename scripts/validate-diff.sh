#!/usr/bin/env bash
# validate-diff.sh - run Claude Code 2.1.328's `plugin validate` and ours over the same targets
# and print where they disagree.
#
# Targets: every marketplace of ../shared/corpus (its folder, or the file when it is not
# .claude-plugin/marketplace.json), every plugin folder of the corpus (each
# .claude-plugin/plugin.json), and every folder given on the command line (fetched real
# marketplaces: their catalog and each plugin.json below them).
#
# For each target both tools run `validate <target> --json`; compared: success, and the errors
# (path: message). Kinds of disagreement:
#   CC-FAILS-OURS-PASSES   a defect of ours: validate must never pass what Claude Code fails
#   OURS-FAILS-CC-PASSES   one of our extra checks (README lists them as deliberate)
#   BOTH-FAIL-OTHER-ERRORS both fail, with different errors (shown with --verbose)
#   UNREADABLE             a tool printed no JSON report for it
#
# USAGE   scripts/validate-diff.sh [--verbose] [--jobs N] [folder...]
# NEEDS   jq; ../shared/corpus (SHARED_DIR); Claude Code (CLAUDE_BIN, or the npm copy
#         scripts/conformance.sh installs); our binary (PLUGIN_BIN; default: `cargo build`, then
#         target/debug/plugin).
# OUTPUT  one line per disagreement, then a summary; exit 1 when any CC-FAILS-OURS-PASSES.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_DIR:-$repo/../shared}
verbose=0 jobs=2 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --verbose) verbose=1;;
    --jobs) jobs=$2; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0;;
    *) extra+=("$(cd "$1" && pwd)");;
  esac
  shift
done
cc=${CLAUDE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/plugin-conformance/cc-2.1.328/node_modules/@anthropic-ai/claude-code-linux-x64/claude}
[ -x "$cc" ] || { echo "validate-diff: no Claude Code at $cc (run scripts/conformance.sh once, or set CLAUDE_BIN)" >&2; exit 1; }
ours=${PLUGIN_BIN:-}
if [ -z "$ours" ]; then
  (cd "$repo" && cargo build -q) && ours="$repo/target/debug/plugin"
fi
roots=()
if [ -d "$shared/corpus" ]; then roots+=("$(cd "$shared/corpus" && pwd)"); else
  echo "validate-diff: $shared/corpus is absent: only the folders given are checked" >&2; fi
roots+=("${extra[@]}")
[ ${#roots[@]} -gt 0 ] || { echo "validate-diff: nothing to check" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home" "$work/cfg" "$work/out"
for r in "${roots[@]}"; do
  find "$r" -name marketplace.json -not -path '*/node_modules/*' | while read -r f; do
    case $f in */.claude-plugin/marketplace.json) dirname "$(dirname "$f")";; *) echo "$f";; esac
  done
  find "$r" -path '*/.claude-plugin/plugin.json' -not -path '*/node_modules/*' | while read -r f; do
    dirname "$(dirname "$f")"
  done
done | sort -u >"$work/targets"

# verdict TOOL TARGET -> {"success":…,"errors":[sorted "path: message"]}
export cc ours work
worker() {
  local t=$1 id
  id=$(printf '%s' "$t" | sha1sum | cut -c1-16)
  local a b
  a=$(HOME="$work/home" "$cc" plugin validate "$t" --json 2>/dev/null | jq -c '{success, errors: ([.manifest.errors[]? | "\(.path): \(.message)"] | sort)}' 2>/dev/null) || true
  b=$(CLAUDE_CONFIG_DIR="$work/cfg" "$ours" validate "$t" --json 2>/dev/null | jq -c '{success, errors: ([.manifest.errors[]? | "\(.path): \(.message)"] | sort)}' 2>/dev/null) || true
  jq -nc --arg t "$t" --argjson a "${a:-null}" --argjson b "${b:-null}" '{target: $t, cc: $a, ours: $b}' >"$work/out/$id.json"
}
export -f worker
xargs -d '\n' -P "$jobs" -I{} bash -c 'worker "$1"' _ {} <"$work/targets"

jq -s '.' "$work/out"/*.json >"$work/all.json"
jq -r --argjson v "$verbose" '
  def few: if length > 3 then (.[:3] + ["(\(length - 3) more)"]) else . end;
  (.[] | select(.cc == null or .ours == null) | "UNREADABLE \(.target) (no JSON report from \(if .cc == null then "Claude Code" else "ours" end))"),
  (.[] | select(.cc != null and .ours != null) | .cc.errors |= few | .ours.errors |= few |
  if .cc.success == false and .ours.success == true then "CC-FAILS-OURS-PASSES \(.target)\n    claude code: \(.cc.errors | join(" | "))"
  elif .cc.success == true and .ours.success == false then "OURS-FAILS-CC-PASSES \(.target)\n    ours: \(.ours.errors | join(" | "))"
  elif $v == 1 and .cc.success == false and .cc.errors != .ours.errors then "BOTH-FAIL-OTHER-ERRORS \(.target)\n    claude code: \(.cc.errors | join(" | "))\n    ours:        \(.ours.errors | join(" | "))"
  else empty end)' "$work/all.json"
jq -r '
  def n(f): map(select(f)) | length;
  "validate-diff: \(length) targets; agree on success: \(n(.cc != null and .ours != null and .cc.success == .ours.success)) (same errors when failing: \(n(.cc != null and .ours != null and .cc.success == false and .ours.success == false and .cc.errors == .ours.errors)) of \(n(.cc != null and .ours != null and .cc.success == false and .ours.success == false))); CC-FAILS-OURS-PASSES: \(n(.cc.success == false and .ours.success == true)); OURS-FAILS-CC-PASSES: \(n(.cc.success == true and .ours.success == false)); unreadable: \(n(.cc == null or .ours == null))"' "$work/all.json"
[ "$(jq '[.[] | select(.cc.success == false and .ours.success == true)] | length' "$work/all.json")" -eq 0 ]
