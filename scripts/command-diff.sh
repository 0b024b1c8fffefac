#!/usr/bin/env bash
# command-diff.sh - install and update `command`-sourced plugins with Claude Code 2.1.328 and
# ours, and compare what each prints and records.
#
# The fixture (built here): a folder marketplace `cmk` whose entries run commands printing a
# plugin folder (copy and link mode), a relative path, a failing command, a slow one, an empty
# folder, two lines, nothing. Steps: installs in a pipe without acceptance (refused: the
# disclosure, the refusal, `--json` with `shownCommand` and its sha256), with `-y`, with
# `--accept-command` (the hash Claude Code printed, and a wrong one), each failure, an install
# of an installed plugin; then updates after the folder's content changed and after the
# catalog changed the command (refused in a pipe, then accepted with -y). Compared: exit codes,
# stdout and stderr of installs (ours says `plugin` where Claude Code says `claude plugin`, and
# puts "✘ " before failures: normalised); for updates, whose report differs by design
# (difference 6), the exit code and the command's disclosure; after every step the records of
# installed_plugins.json (version, installPath under the home, sourceCommand,
# sourceProducerPath, gitCommitSha) and the version folders.
#
# USAGE   scripts/command-diff.sh
# NEEDS   jq; Claude Code (CLAUDE_BIN, or the npm copy scripts/conformance.sh installs); our
#         binary (PLUGIN_BIN; default: `cargo build`, then target/debug/plugin).
# OUTPUT  the differences, then "command-diff: N steps, all the same" (exit 0) or
#         "command-diff: N steps, M differ" (exit 1).
set -euo pipefail
. "$(dirname "$0")/lib/diff-setup.sh" command-diff
prod="$work/prod" empty="$work/empty" m="$work/market"
mkdir -p "$prod/.claude-plugin" "$prod/skills/s1" "$empty" "$m/.claude-plugin" "$work/a" "$work/b"
echo '{"name":"cp","version":"3.1.0"}' >"$prod/.claude-plugin/plugin.json"
printf -- '---\nname: s1\ndescription: d\n---\nbody\n' >"$prod/skills/s1/SKILL.md"
catalog() { # catalog COMMAND-OF-cp
  jq -n --arg cp "$1" --arg prod "$prod" --arg empty "$empty" '{name:"cmk", owner:{name:"o"}, plugins:[
    {name:"cp", source:{source:"command", command:$cp}},
    {name:"lp", source:{source:"command", command:("echo " + $prod), mode:"link"}},
    {name:"bare", source:{source:"command", command:("echo " + $prod), timeout:5}},
    {name:"bad", source:{source:"command", command:"echo relative/x"}},
    {name:"fail", source:{source:"command", command:"echo oops >&2; exit 3"}},
    {name:"slow", source:{source:"command", command:"sleep 5", timeout:1}},
    {name:"empty", source:{source:"command", command:("echo " + $empty)}},
    {name:"lines", source:{source:"command", command:("echo " + $prod + "; echo " + $prod)}},
    {name:"nothing", source:{source:"command", command:"true"}}]}' >"$m/.claude-plugin/marketplace.json"
}
catalog "echo $prod"
A() { HOME="$work/a" DISABLE_AUTOUPDATER=1 "$cc" plugin "$@"; }
B() { CLAUDE_CONFIG_DIR="$work/b/.claude" HOME="$work/b" "$ours" "$@"; }
for T in A B; do $T marketplace add "$m" >/dev/null 2>&1; done
steps=0 differ=0
normalise() { sed -e 's/^✘ //' -e 's/`claude plugin /`plugin /g'; }
records() { # the records, the home spelled HOME, timestamps dropped
  local f="$work/$1/.claude/plugins/installed_plugins.json"
  [ -f "$f" ] || { echo "(no installed_plugins.json)"; return; }
  jq -S '.plugins | map_values(map(del(.installedAt, .lastUpdated)))' "$f" | sed "s#$work/$1#HOME#g"
  (cd "$work/$1/.claude/plugins/cache" 2>/dev/null && find . -mindepth 3 -maxdepth 3 | sort) || true
}
compare() { # compare NAME: the captured outputs and the records
  local name=$1
  records a >>"$work/out.A"; records b >>"$work/out.B"
  if ! diff -u --label "claude code" --label ours "$work/out.A" "$work/out.B" >"$work/diff"; then
    differ=$((differ + 1)); echo "DIFFERENT $name"; sed 's/^/    /' "$work/diff"
  fi
}
step() { # step NAME ARGS...: install steps, every byte compared
  local name=$1; shift
  steps=$((steps + 1))
  local T rc
  for T in A B; do
    rc=0; $T "$@" </dev/null >"$work/o" 2>"$work/e" || rc=$?
    { cat "$work/o"; echo "--- stderr"; cat "$work/e"; echo "exit $rc"; } | normalise >"$work/out.$T"
  done
  compare "$name"
}
update_step() { # update_step NAME ARGS...: the exit code and the disclosure
  local name=$1; shift
  steps=$((steps + 1))
  local T rc
  for T in A B; do
    rc=0; $T "$@" </dev/null >"$work/o" 2>"$work/e" || rc=$?
    { grep -E '^("|  |Not an interactive|--accept-command)' "$work/o" || true; echo "exit $rc"; } >"$work/out.$T"
  done
  compare "$name"
}
step refused install cp@cmk
step refused-json install lp@cmk --json
sha=$( (A install lp@cmk --json </dev/null 2>/dev/null || true) | tail -1 | jq -r .shownCommand.sha256)
step yes install cp@cmk -y
step accept-command install lp@cmk --accept-command "$sha"
step accept-wrong install bare@cmk --accept-command "$sha"
step accept-upper install bare@cmk --accept-command "$(printf '%s' "$sha" | tr a-f A-F)"
for p in bad fail slow empty lines nothing; do step "failure-$p" install "$p@cmk" -y; done
step installed install cp@cmk
step installed-json install cp@cmk --json
echo more >>"$prod/skills/s1/SKILL.md"
update_step update-content update cp@cmk
update_step update-link update lp@cmk
catalog "echo  $prod"
for T in A B; do $T marketplace update cmk >/dev/null 2>&1; done
step installed-changed install cp@cmk
update_step update-changed update cp@cmk
update_step update-changed-yes update cp@cmk -y
if [ "$differ" -eq 0 ]; then echo "command-diff: $steps steps, all the same"; else
  echo "command-diff: $steps steps, $differ differ"; exit 1; fi
