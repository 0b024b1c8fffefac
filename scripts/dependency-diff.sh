#!/usr/bin/env bash
# dependency-diff.sh - install, disable, enable, uninstall and prune plugins with dependencies
# with Claude Code 2.1.328 and ours, and compare what each prints and records.
#
# The fixture (built here, as the behaviour spec's §18 probe): a folder marketplace `dm` that is
# a git work tree; `app` needs `lib` and `fmt ~2.1.0`, `lib` needs `core`; `fmt` is tagged
# fmt--v2.0.0, fmt--v2.1.3 and fmt--v2.2.0 on three commits; `conf` needs fmt `~2.1.0` and `^2.2.0`
# through `conf2` (a range conflict), `unk` needs a plugin no marketplace lists. Steps: installs
# (app with three dependencies, one from a tag; the conflict, rolled back; the unknown one),
# disable refusals with their chains (text and --json), enable bringing dependencies back,
# uninstall naming what is no longer needed and who still needs it, prune (dry run, in a pipe,
# -y); `update` of the constrained dependency after newer tags (records only: difference 20);
# `plugin tag` in a second repository (dry run, created, -f -m, exists, dirty, version mismatch,
# no version, not semver, no git, a bad push remote, a push to a local remote). Compared after every step: exit code,
# stdout and stderr (ours says `plugin` where Claude
# Code says `claude plugin`, and puts "✘ " before failures: normalised), the records of
# installed_plugins.json (timestamps left out, the home spelled HOME), enabledPlugins, and the
# version folders. Known difference 47 (all or nothing) shows in no step here.
#
# USAGE   scripts/dependency-diff.sh
# NEEDS   git, jq; Claude Code (CLAUDE_BIN, or the npm copy scripts/conformance.sh installs); our
#         binary (PLUGIN_BIN; default: `cargo build`, then target/debug/plugin).
# OUTPUT  the differences, then "dependency-diff: N steps, all the same" (exit 0) or
#         "dependency-diff: N steps, M differ" (exit 1).
set -euo pipefail
. "$(dirname "$0")/lib/diff-setup.sh" dependency-diff
m="$work/dm"
mkdir -p "$m/.claude-plugin" "$work/a" "$work/b" "$work/cwd"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x \
  GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
  GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
plugin() { # plugin NAME VERSION [DEPS-JSON]
  mkdir -p "$m/plugins/$1/.claude-plugin" "$m/plugins/$1/commands"
  jq -n --arg n "$1" --arg v "$2" --argjson d "${3:-null}" \
    '{name:$n, version:$v} + (if $d == null then {} else {dependencies:$d} end)' \
    >"$m/plugins/$1/.claude-plugin/plugin.json"
  echo "# $1 $2" >"$m/plugins/$1/commands/$1.md"
}
jq -n '{name:"dm", owner:{name:"o"}, plugins:[
  {name:"app", source:"./plugins/app", version:"1.0.0"},
  {name:"lib", source:"./plugins/lib", version:"0.5.0"},
  {name:"core", source:"./plugins/core"},
  {name:"fmt", source:"./plugins/fmt"},
  {name:"conf", source:"./plugins/conf"},
  {name:"conf2", source:"./plugins/conf2"},
  {name:"unk", source:"./plugins/unk"}]}' >"$m/.claude-plugin/marketplace.json"
plugin app 1.0.0 '["lib",{"name":"fmt","version":"~2.1.0"}]'
plugin lib 0.5.0 '["core"]'
plugin core 1.0.0
plugin conf 1.0.0 '["conf2",{"name":"fmt","version":"~2.1.0"}]'
plugin conf2 1.0.0 '[{"name":"fmt","version":"^2.2.0"}]'
plugin unk 1.0.0 '["nope"]'
git -C "$m" init -q -b main
for v in 2.0.0 2.1.3 2.2.0; do
  plugin fmt "$v"
  git -C "$m" add -A && git -C "$m" commit -qm "fmt $v" && git -C "$m" tag "fmt--v$v"
done
A() { (cd "$work/cwd" && HOME="$work/a" DISABLE_AUTOUPDATER=1 "$cc" plugin "$@"); }
B() { (cd "$work/cwd" && CLAUDE_CONFIG_DIR="$work/b/.claude" HOME="$work/b" "$ours" "$@"); }
for T in A B; do $T marketplace add "$m" >/dev/null 2>&1; done
steps=0 differ=0
normalise() { sed -e 's/^✘ //' -e 's/`claude plugin /`plugin /g' -e 's/: claude plugin /: plugin /g' -e 's/ && claude plugin / \&\& plugin /g'; }
state() { # the records, enablement and version folders of home $1
  local f="$work/$1/.claude/plugins/installed_plugins.json"
  if [ -f "$f" ]; then
    jq -S '.plugins | map_values(map(del(.installedAt, .lastUpdated)))' "$f" | sed "s#$work/$1#HOME#g"
  else echo "(no installed_plugins.json)"; fi
  jq -S '.enabledPlugins // {}' "$work/$1/.claude/settings.json" 2>/dev/null || echo "(no settings)"
  (cd "$work/$1/.claude/plugins/cache" 2>/dev/null && find . -mindepth 3 -maxdepth 3 | sort) || true
}
step() { # step NAME ARGS...
  local name=$1; shift
  steps=$((steps + 1))
  local T rc
  for T in A B; do
    rc=0; $T "$@" </dev/null >"$work/o" 2>"$work/e" || rc=$?
    { cat "$work/o"; echo "--- stderr"; cat "$work/e"; echo "exit $rc"; } | normalise >"$work/out.$T"
  done
  state a >>"$work/out.A"; state b >>"$work/out.B"
  if ! diff -u --label "claude code" --label ours "$work/out.A" "$work/out.B" >"$work/diff"; then
    differ=$((differ + 1)); echo "DIFFERENT $name"; sed 's/^/    /' "$work/diff"
  fi
}
step install install app@dm
step install-json-again install app@dm --json
step conflict install conf@dm
step unknown install unk@dm
step disable-needed disable core@dm
step disable-needed-json disable lib@dm --json
step disable-bare disable fmt
step disable-app disable app@dm
step disable-lib disable lib@dm
step enable-brings enable app@dm
step uninstall-needed uninstall lib@dm
step prune-dry prune --dry-run
step prune-pipe prune
step uninstall-app uninstall app@dm --json
step prune-yes prune -y
step prune-nothing prune

# Update of a constrained dependency: outputs differ by design (difference 20: ours is a report
# of rows), so only the exit code and what each recorded are compared.
state_step() { # state_step NAME ARGS...
  local name=$1; shift
  steps=$((steps + 1))
  local T rc
  for T in A B; do
    rc=0; $T "$@" </dev/null >/dev/null 2>&1 || rc=$?
    echo "exit $rc" >"$work/out.$T"
  done
  state a >>"$work/out.A"; state b >>"$work/out.B"
  if ! diff -u --label "claude code" --label ours "$work/out.A" "$work/out.B" >"$work/diff"; then
    differ=$((differ + 1)); echo "DIFFERENT $name"; sed 's/^/    /' "$work/diff"
  fi
}
for T in A B; do $T install app@dm >/dev/null 2>&1 || true; done
plugin fmt 2.1.4
git -C "$m" add -A && git -C "$m" commit -qm "fmt 2.1.4" && git -C "$m" tag "fmt--v2.1.4"
plugin fmt 2.3.0
git -C "$m" add -A && git -C "$m" commit -qm "fmt 2.3.0" && git -C "$m" tag "fmt--v2.3.0"
state_step update-constrained update fmt@dm
state_step update-constrained-again update fmt@dm

# `plugin tag`: the same checks, output and tag object. Each tool runs on a fresh copy of one
# repository at the same path; the tags there (name, object id: the tag object's bytes) are
# compared after each step.
t="$work/tg" pristine="$work/tg-pristine"
mkdir -p "$pristine/.claude-plugin" "$work/nogit/.claude-plugin"
jq -n '{name:"tg", owner:{name:"o"}, plugins:[
  {name:"core", source:"./plugins/core", version:"1.0.0"},
  {name:"lib", source:"./plugins/lib", version:"0.5.0"},
  {name:"mism", source:"./plugins/mism", version:"0.9.0"},
  {name:"nov", source:"./plugins/nov"},
  {name:"loose", source:"./plugins/loose"}]}' >"$pristine/.claude-plugin/marketplace.json"
m=$pristine
plugin core 1.0.0; plugin lib 0.5.0; plugin mism 1.0.0; plugin loose 1.0
mkdir -p "$m/plugins/nov/.claude-plugin" && echo '{"name":"nov"}' >"$m/plugins/nov/.claude-plugin/plugin.json"
echo '{"name":"ng","version":"1.0.0"}' >"$work/nogit/.claude-plugin/plugin.json"
git -C "$m" init -q -b main && git -C "$m" add -A && git -C "$m" commit -qm release
# Why a push failed is git's stderr with Claude Code, ours in our words (difference 48): the
# failure is compared, not its words.
failed_push() { sed 's/^Tag created locally but push failed.*/Tag created locally but push failed: …/'; }
tag_step() { # tag_step NAME SETUP ARGS... (SETUP: a command run in the fresh copy first)
  local name=$1 setup=$2; shift 2
  steps=$((steps + 1))
  local T rc
  for T in A B; do
    rm -rf "$t" "$work/tg-remote.git" && cp -a "$pristine" "$t" && (cd "$t" && eval "$setup")
    rc=0; (cd "$t" && $T tag "$@") </dev/null >"$work/o" 2>"$work/e" || rc=$?
    { cat "$work/o"; echo "--- stderr"; cat "$work/e"; echo "exit $rc"
      git -C "$t" for-each-ref refs/tags --format='%(refname) %(objectname)'
      if [ -d "$work/tg-remote.git" ]; then
        echo "--- remote"; git -C "$work/tg-remote.git" for-each-ref --format='%(refname) %(objectname)'
        git -C "$work/tg-remote.git" fsck --full --strict 2>&1 | grep -v '^notice' || true
      fi; } | normalise | failed_push >"$work/out.$T"
  done
  if ! diff -u --label "claude code" --label ours "$work/out.A" "$work/out.B" >"$work/diff"; then
    differ=$((differ + 1)); echo "DIFFERENT $name"; sed 's/^/    /' "$work/diff"
  fi
}
A() { HOME="$work/a" DISABLE_AUTOUPDATER=1 "$cc" plugin "$@"; }
B() { CLAUDE_CONFIG_DIR="$work/b/.claude" HOME="$work/b" "$ours" "$@"; }
tag_step tag-dry-run : plugins/lib --dry-run
tag_step tag-created : plugins/lib
tag_step tag-message-force 'git tag core--v1.0.0' plugins/core -f -m 'release %s of core'
tag_step tag-exists 'git tag lib--v0.5.0' plugins/lib
tag_step tag-dirty 'echo x >plugins/core/new.md; echo y >>plugins/core/commands/core.md' plugins/core
tag_step tag-dirty-elsewhere 'echo x >plugins/lib/new.md' plugins/core
tag_step tag-mismatch : plugins/mism
tag_step tag-no-version : plugins/nov
tag_step tag-not-semver : plugins/loose
tag_step tag-manifest-file : plugins/core/.claude-plugin/plugin.json
tag_step tag-missing : plugins/none
tag_step tag-no-git : "$work/nogit"
tag_step tag-bad-remote : plugins/lib --push --remote 'bad remote'
# Pushed to a repository on this machine that has the branch but not the newest commit (Claude
# Code runs git push; ours writes the objects itself): the same refs, a sound repository.
remote_setup='git init -q --bare ../tg-remote.git && git remote add origin ../tg-remote.git &&
  git push -q origin main && echo y >>plugins/lib/commands/lib.md && git commit -qam more'
tag_step tag-push "$remote_setup" plugins/lib --push
tag_step tag-push-remote-has-it "$remote_setup && git tag -a lib--v0.5.0 -m x && git push -q origin lib--v0.5.0 && git tag -d lib--v0.5.0 >/dev/null" plugins/lib --push
if [ "$differ" -eq 0 ]; then echo "dependency-diff: $steps steps, all the same"; else
  echo "dependency-diff: $steps steps, $differ differ"; exit 1; fi
