#!/usr/bin/env bash
# configure-diff.sh - run the same `plugin configure` session with Claude Code 2.1.328 and ours
# and compare what each prints and writes.
#
# The session (testdata/configure/market: plugin p with six userConfig options of every kind, q
# with none): list the options (text and --json), then pipe values: unknown options, numbers out
# of range, a bad boolean, a multi-line value, input that is not a JSON object of strings, a
# blank required value, a value outside `options` (all refused), a full set, a partial update,
# a blank that clears, an empty object, a blank secret; then list again; then installs of the
# installed plugin with and without `--config KEY=VALUE` (the unset-options hint). Compared: exit codes,
# stdout and stderr of every step (ours puts "✘ " before a failure and says `plugin` where
# Claude Code says `claude plugin`: both normalised), then `pluginConfigs` of the settings and
# the secrets file, byte for byte, and its mode.
#
# USAGE   scripts/configure-diff.sh
# NEEDS   jq; Claude Code (CLAUDE_BIN, or the npm copy scripts/conformance.sh installs); our
#         binary (PLUGIN_BIN; default: `cargo build`, then target/debug/plugin).
# OUTPUT  the differences, then "configure-diff: N steps, all the same" (exit 0) or
#         "configure-diff: N steps, M differ" (exit 1).
set -euo pipefail
. "$(dirname "$0")/lib/diff-setup.sh" configure-diff
cp -r "$repo/testdata/configure/market" "$work/market"
mkdir -p "$work/a" "$work/b"
A() { HOME="$work/a" DISABLE_AUTOUPDATER=1 "$cc" plugin "$@"; }
B() { CLAUDE_CONFIG_DIR="$work/b/.claude" HOME="$work/b" "$ours" "$@"; }
for T in A B; do
  $T marketplace add "$work/market" >/dev/null 2>&1
  $T install p@cm >/dev/null 2>&1
  $T install q@cm >/dev/null 2>&1
done
steps=0 differ=0
normalise() { sed -e 's/^✘ //' -e 's/`claude plugin /`plugin /g' -e 's/Example: claude plugin /Example: plugin /'; }
step() { # step NAME STDIN ARGS...
  local name=$1 input=$2; shift 2
  steps=$((steps + 1))
  local T out rc
  for T in A B; do
    rc=0; out=$(printf '%s' "$input" | $T "$@" 2>&1) || rc=$?
    printf '%s\nexit %s\n' "$out" "$rc" | normalise >"$work/out.$T"
  done
  if ! diff -u --label "claude code" --label ours "$work/out.A" "$work/out.B" >"$work/diff"; then
    differ=$((differ + 1)); echo "DIFFERENT $name"; sed 's/^/    /' "$work/diff"
  fi
}
step list "" configure p@cm
step list-json "" configure p@cm --json
step no-options "" configure q@cm
step not-installed "" configure p
for v in '{"zz":"1","yy":"2"}' '{"n":"x"}' '{"n":"50"}' '{"flag":"maybe"}' '{"api_url":"a\nb"}' 'not json' \
         '{"n":5}' '[]' '{"req":"  "}' '{"mode":"medium"}' '{"token":"new\r"}' \
         '{"api_url":"https://y","token":"s3cr3t","n":"5","flag":"yes","mode":"slow","req":"r"}' \
         '{"n":"7"}' '{"api_url":""}' '{}' '{"token":"","req":"r2"}' '{"token":"zz","n":"bad"}'; do
  step "values $v" "$v" configure p@cm --values-stdin --json
done
step list-after "" configure p@cm
step list-json-after "" configure p@cm --json
# install: the unset-options hint, and --config KEY=VALUE (applied, refused, unknown key).
step install-again "" install p@cm --json
step install-config "" install p@cm --config n=4 --config flag=off --json
step install-config-range "" install p@cm --config n=99 --json
step install-config-unknown "" install p@cm --config zz=1 --json
step install-no-options "" install q@cm --json
steps=$((steps + 1))
if ! diff <(jq -S .pluginConfigs "$work/a/.claude/settings.json") <(jq -S .pluginConfigs "$work/b/.claude/settings.json") >"$work/diff" ||
   ! cmp -s "$work/a/.claude/.credentials.json" "$work/b/.claude/.credentials.json" ||
   [ "$(stat -c %a "$work/a/.claude/.credentials.json")" != "$(stat -c %a "$work/b/.claude/.credentials.json")" ]; then
  differ=$((differ + 1)); echo "DIFFERENT files"; sed 's/^/    /' "$work/diff"
fi
if [ "$differ" -eq 0 ]; then echo "configure-diff: $steps steps, all the same"; else
  echo "configure-diff: $steps steps, $differ differ"; exit 1; fi
