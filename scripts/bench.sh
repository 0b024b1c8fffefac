#!/usr/bin/env bash
# bench.sh - the project's speed check (speed goals are checked here, never in timed tests).
#
# WHAT IT MEASURES (median wall-clock time over BENCH_RUNS runs, each run after one untimed
# warm-up run):
#   (a) `plugin install tiny@mT`              tiny = plugin.json + 1 file
#   (b) `plugin install files2000@mT`         files2000 = plugin.json + 20 dirs x 100 small files
#   (c) `cp -rL <files2000 dir> <dest>`       reference for (b): plain copy, same disk
#   (d) `plugin install tiny@mT` when tiny@mT is already installed (no-op)
#   (e) `plugin list --json` with 6 plugins installed from 2 marketplaces
#   (f) `plugin resolve tiny@mT --json` with tiny@mT installed: start-up, reading the state
#       files and the catalog, merging and substituting (no component to speak of)
#   (h) `plugin details skills100@mT` with skills100 (100 skills, ~1 KB each, 3 userConfig
#       options) installed: the inventory and the token estimate of every skill; with Claude
#       Code, `claude plugin details` of the same
#   (k) `plugin configure skills100@mT --json`: its options and what is set (start-up, state,
#       settings and secrets files); with Claude Code, `claude plugin configure` of the same
#   and, when Claude Code 2.1.328 is available, `claude plugin install` for (a) and (b).
# GIT SOURCES (BENCH_GIT_RUNS runs, same method), over loopback smart HTTP: bare repos served by
# ${SHARED_DIR}/tools/githttp.py (git http-backend) on a free 127.0.0.1 port, from folder marketplace
# mG whose entries are {"source":"url","url":"http://127.0.0.1:<port>/<repo>.git"} and
# {"source":"git-subdir","url":".../multi.git","path":"a"|"b"} (mGP: the same two pinned by sha):
#   (g1) `plugin install files2000@mG`         repo files2000 = plugin.json + 20 x 100 small files
#   (g2) `plugin install big50@mG`             repo big50 = plugin.json + 10 x 5 MiB random files
#   (g3) `git clone --depth 1 <url> <dest>`    reference for (g1) and (g2), same repos
#   (g4) `plugin install b@mG`                 second plugin from a known repo: the git cache already
#        holds multi (a@mG installed untimed, same XDG_CACHE_HOME, other config dir); an unpinned
#        entry still asks the remote for its HEAD; the pinned variant (b@mGP) needs no network
#   (g5) `plugin marketplace update gmk`       no-op update of a git-hosted marketplace (added untimed):
#        one ref negotiation, no pack, no clone
#   and, with Claude Code, `claude plugin install` for (g1) and (g2).
# UPDATES (no-op rows: the plugin installed untimed in the run's fresh config dir; "refreshing"
# means the marketplace's lastUpdated is set back first, so that `update` refreshes it as it does
# for a user a while after the last refresh, instead of skipping one refreshed seconds ago):
#   (u1) `plugin update files2000@mG`          no-op, git (mG as above): refresh of the folder
#        marketplace, one ref negotiation, nothing fetched; also with `--no-refresh`; with Claude
#        Code, `claude plugin update files2000@mG` (CC_RUNS runs; Claude Code clones again)
#   (u2) `plugin update --all`                 20 git plugins up01..up20 (one small repo each),
#        installed from their branch v1 (version 1.0.0), the run's marketplace then switched to
#        their default branch (a newer commit, 1.0.1): every plugin really updates (a fetch and a
#        publish each), up to --jobs 8 at once; vs the same with `--jobs 1` (one after another)
#   (u3) `plugin update files2000@mT`          no-op, folder source (refreshing): the digest walk
#        of the 2,000 files; vs `cp -r` of the same folder (RUNS runs)
#   (r1) `plugin install files2000@mT` when it is installed and its source unchanged (no-op
#        reinstall: the source's content digest equals the installed one, nothing copied or
#        written), after the first digest: every run shares one XDG_CACHE_HOME ($W/xdg-f) whose
#        stat-v1 file remembers the source files' hashes by stat data (written by an untimed
#        no-op install in run 0's setup), so only stat calls remain (RUNS runs)
# CONTENT STORE (RUNS runs): folder marketplace mZ, plugin s2k = plugin.json + 20 dirs x 100
# files of 4 KiB (8 MB), dated an hour back; each run copies mZ (cp -a) into its own dir with its own
# XDG_CACHE_HOME:
#   (z1) `plugin update s2k@mZ --no-refresh`   a new version (1.0.0 installed untimed, then the
#        manifest says 2.0.0 and one file changed): unchanged files are links to store objects
#   (z2) `plugin update s2k@mZ --force`        the installed version written again (every
#        source file read and hashed again, every file a link, the old folder removed): info
#   (z6) `plugin install s2k@mZ`               again after `uninstall` (its version folder left
#        orphaned): recorded against that folder, which is checked by stat data
#   (z7) `plugin install s2k@mZ --scope project`  with it installed at user scope: the same
#   (z0) `cp -al <s2k> <dest>`                 reference for (z1), (z6), (z7): a tree of hard links
#   (z3) `plugin install s2k@mZ`               first install (files written, then adopted by the
#        store) vs (z4) `cp -rL <s2k> <dest> && sync` (we flush before publishing; cp does not)
#   (z5) bytes on disk after 10 successive versions, 1% of the files (20) changed in each
#        (`du -sk` of cache and store, hard links counted once) vs one copy of s2k
# SCALE (RUNS runs): one config dir with 500 one-command plugins p001..p500 installed from folder
# marketplace mL (by one untimed `sync` of settings enabling them all), shared by the runs:
#   (l1) `plugin update --all --no-refresh`    no-op: every plugin found current
#   (l2) `plugin outdated --no-refresh`        every plugin compared with its source
#   (l3) `plugin install x@m1`                 one more plugin (uninstalled untimed first) vs (l0)
#        the same install into a config dir holding nothing else
#   (l4) `plugin list --json`                  (l5) `plugin sync` (no-op)
# SYNC (settings-driven installs; BENCH_GIT_RUNS runs): folder marketplace mS lists 50 plugins
# s01..s50 as git-subdir entries of 5 repos sr1..sr5 (10 plugin folders each); the run's user
# settings declare mS in extraKnownMarketplaces and enable all 50 (managed settings: an empty
# folder, via PLUGIN_MANAGED_SETTINGS_DIR):
#   (s1) `plugin sync`                         registers mS and installs the 50 (one fetch per repo)
#   (s2) the same 50 installed one by one: `plugin marketplace add` untimed, then 50 timed
#        `plugin install s<NN>@mS` in a row (one shell loop, the way a script without sync does it)
#   (s3) `plugin sync` again with the 50 installed (no-op: nothing fetched, nothing written)
# DEPENDENCIES (BENCH_GIT_RUNS runs): folder marketplace mD lists app (a relative plugin needing
# d01..d10, each at ^1.0.0) and d01..d10 as git-subdir entries of 3 repos dr1 (d01-d04), dr2
# (d05-d07), dr3 (d08-d10), every plugin tagged d<NN>--v1.0.0 and d<NN>--v1.1.0:
#   (d1) `plugin install app@mD`               app and its 10 dependencies, each at its highest tag in
#        range (1.1.0): one tag listing per repository, the fetches of one level at once
#   (d2) the 10 installed one by one: `plugin install d<NN>@mD` x 10 in a row (no ranges: HEAD)
#   (d3) with Claude Code, `claude plugin install app@mD` (CC_RUNS runs; git on PATH)
#   (d4) `plugin install app@mD` again with the 11 installed (no-op: nothing fetched or written)
#   Besides the fresh config dir, every git run gets a fresh, empty XDG_CACHE_HOME (so the git
#   cache $XDG_CACHE_HOME/plugin/git-v1 starts empty), except for what (g4)'s setup puts there.
#   The fixtures are built with the git CLI inside the work dir only (GIT_CEILING_DIRECTORIES
#   keeps it from ever reaching an enclosing repository); the server is stopped by PID at exit.
# NPM SOURCES (BENCH_NPM_RUNS runs, same method), against the REAL public registry
# https://registry.npmjs.org/ (live: network and registry load are part of every number), from
# folder marketplace mN whose entry isodd is {"source":"npm","package":"is-odd","version":"3.0.1"}:
#   (n1) `plugin install isodd@mN`            cold: fresh config dir AND fresh XDG_CACHE_HOME, so the
#        download cache $XDG_CACHE_HOME/plugin/downloads-v1 is empty and every run downloads
#        (2 requests at once, the version being exact: the abbreviated packument, and the 2.7 KB
#        tarball at npm's conventional address, kept because the packument names it)
#   (n2) `curl -q -sSfL -o <fresh file> https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz`
#        reference for (n1): one raw download of the same tarball (-q: no ~/.curlrc)
#   (n3) `plugin install isodd@mN`            fresh config dir, but one XDG_CACHE_HOME shared by all
#        runs and warmed (untimed) beforehand: an exact version seen before needs no request (its
#        resolution is remembered, the tarball is in the download cache; checked: the cached
#        tarball is never rewritten)
#   (n4) with Claude Code and `npm` on PATH (Claude Code runs the npm client for npm sources),
#        `claude plugin install isodd@mN`, CC_RUNS runs, fresh HOME (so a cold ~/.npm) and fresh
#        XDG_CACHE_HOME per run; npm_config_update_notifier=false, because a fresh HOME would
#        otherwise make npm check for its own update on every run (~0.1-0.2 s no user pays each time).
#   The part is skipped, with a note (never an error), when registry.npmjs.org does not resolve or
#   cannot be connected to (probe: one untimed curl of the tarball, or a TCP connect to port 443
#   when there is no curl). An answer that is wrong (HTTP error, bad tarball) is not skipped: it
#   shows as an ERROR row. The caller's npm registry/cache/offline settings (npm_config_*) are
#   unset so that every row talks to the public registry with a cold npm cache.
# Every timed run gets a FRESH config dir (CLAUDE_CONFIG_DIR=<work>/<op>-run-<i>; for Claude Code a
# fresh HOME), a fresh cp destination, and a cwd outside any git work tree. Everything a run
# needs (marketplace add, earlier installs, removing the previous run's dir) happens before the
# clock starts, followed by `sync` so the previous run's write-back does not land in this one.
# The clock covers only fork+exec+wait of the command itself (bash's builtin $EPOCHREALTIME, no
# fork inside the timed window; `date +%s%N` only on bash < 5). hyperfine is deliberately not
# used: its --prepare cannot give each run its own directory, and one method for every row
# (ours, cp, Claude Code) keeps the ratios honest. Peak RSS of one (b) install is printed via
# `/usr/bin/time -f %M` when that exists. (a)-(f) are interleaved run by run (a b c d e f, a b
# c ...), as are the two Claude Code rows, so that a change in machine load hits ours and the
# reference alike. Still, other disk writers make the numbers swing a lot (the load average is
# printed; look at the min-max column): for a verdict, run it on a quiet machine.
#
# GOALS: (a) <= 20 ms; (f) <= 20 ms; (b) <= 1.0x (c); (g1), (g2) <= 1.0x (g3) of the same repo; (g4), (g5) <= 50 ms
# (both variants); (u1) <= 50 ms (both variants); (n1) <= 400 ms and <= 1.5x (n2). Ratios against
# (s3) <= 30 ms; (r1) <= 10 ms; (d4) <= 20 ms. Claude Code, (u2), (u3), (s1) vs (s2) and (d1) vs
# (d2) are informational.
#
# USAGE   scripts/bench.sh
# ENVIRONMENT
#   PLUGIN_BIN     our binary. Default: `cargo build --release`, then <repo>/target/release/plugin.
#   CLAUDE_BIN     Claude Code binary. Default: ${XDG_CACHE_HOME:-$HOME/.cache}/plugin-conformance/
#                  cc-2.1.328/node_modules/@anthropic-ai/claude-code-linux-x64/claude if it exists
#                  (scripts/conformance.sh installs it there); the Claude Code rows are skipped
#                  when there is none.
#   BENCH_RUNS     timed runs per operation (default 10).
#   BENCH_CC_RUNS  timed runs per Claude Code operation (default 3; it takes ~0.5 s+ per run).
#   BENCH_GIT      0 skips the git-source part (default 1). It is also skipped, with a note, when
#                  githttp.py, git or python3 is missing or the server does not come up.
#   BENCH_GIT_RUNS timed runs per git operation (default 5).
#   SHARED_DIR     where tools/githttp.py lives (default <repo>/../shared).
#   BENCH_NPM      0 skips the npm part (default 1). Skipped with a note when the registry's host
#                  does not resolve or cannot be reached (no network).
#   BENCH_NPM_RUNS timed runs per npm operation (default 5; Claude Code's npm row uses BENCH_CC_RUNS).
#   BENCH_DIR      folder for fixtures and config dirs. tmpfs vs disk changes the numbers a lot,
#                  so the default is a temp dir under <repo>/target/ (same disk as a real
#                  ~/.claude usually is). A bench.XXXXXX folder is made inside it and removed at exit.
# OUTPUT  a table (operation, our median, reference median, ratio, goal, PASS/MISS), peak RSS,
#         then the list of missed goals. Exit 0 even when goals are missed (it's a report);
#         exit 1 only when nothing can be measured (build failure, missing binary, bad env).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-10}
CC_RUNS=${BENCH_CC_RUNS:-3}
GIT_RUNS=${BENCH_GIT_RUNS:-5}
NPM_RUNS=${BENCH_NPM_RUNS:-5}
die() { echo "bench: $*" >&2; exit 1; }
for v in RUNS CC_RUNS GIT_RUNS NPM_RUNS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_${v} must be a positive integer (got '${!v}')"
done
case ${BENCH_GIT:-1} in 0 | 1) ;; *) die "BENCH_GIT must be 0 or 1 (got '$BENCH_GIT')" ;; esac
case ${BENCH_NPM:-1} in 0 | 1) ;; *) die "BENCH_NPM must be 0 or 1 (got '$BENCH_NPM')" ;; esac
# The script sets these explicitly per command; don't let the caller's values leak in.
unset CLAUDE_CONFIG_DIR CLAUDE_CODE_PLUGIN_CACHE_DIR
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
  GIT_NAMESPACE GIT_CONFIG_GLOBAL GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT GIT_PROTOCOL
# npm reads its settings from the environment case-insensitively: drop those that would point the
# npm rows at another registry, a warm cache or offline mode (proxy and CA settings are kept).
for v in $(compgen -e); do
  case ${v,,} in
    npm_config_registry | npm_config_cache | npm_config_userconfig | \
      npm_config_globalconfig | npm_config_offline | npm_config_prefer_offline | \
      npm_config_prefer_online | npm_config_update_notifier) unset "$v" ;;
  esac
done

# ---------------------------------------------------------------- binaries
if [ -n "${PLUGIN_BIN:-}" ]; then
  BIN=$PLUGIN_BIN
else
  echo "bench: cargo build --release ..." >&2
  (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
  BIN=$ROOT/target/release/plugin
fi
[ -x "$BIN" ] || die "binary not found or not executable: $BIN"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

CC=${CLAUDE_BIN:-}
if [ -z "$CC" ]; then
  d=${XDG_CACHE_HOME:-$HOME/.cache}/plugin-conformance/cc-2.1.328/node_modules/@anthropic-ai/claude-code-linux-x64/claude
  [ -x "$d" ] && CC=$d
elif [ ! -x "$CC" ]; then
  die "CLAUDE_BIN is not an executable: $CC"
fi

HAVE_TIME=0
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then HAVE_TIME=1; fi

# ---------------------------------------------------------------- work dirs
if [ -n "${BENCH_DIR:-}" ]; then BASE=$BENCH_DIR; else BASE=$ROOT/target; fi
mkdir -p "$BASE" || die "cannot create $BASE"
W=$(mktemp -d "$BASE/bench.XXXXXX")
W=$(cd "$W" && pwd)
# Working directory of every command: empty and outside any git work tree, so no project
# settings are found (BENCH_DIR's default lies inside the repo's work tree).
CWD=$(mktemp -d "${TMPDIR:-/tmp}/bench-cwd.XXXXXX")
ERRF=$CWD.err
GPID=""   # githttp.py server, started below when the git part runs
cleanup() {
  if [ -n "$GPID" ]; then kill "$GPID" 2> /dev/null || true; wait "$GPID" 2> /dev/null || true; fi
  rm -rf "$W" "$CWD" "$ERRF"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/home" "$W/t"
cd "$CWD"

# ---------------------------------------------------------------- fixtures
# Same layout as ../shared/tools/make-fixtures.sh's mT (tiny, files2000; big50 is not used),
# plus mC: 4 one-file plugins, so that `list --json` has a few installs to show.
FX=$W/fx
mkt() { mkdir -p "$1/.claude-plugin"; printf '%s\n' "$2" > "$1/.claude-plugin/marketplace.json"; }
pjson() { mkdir -p "$1/.claude-plugin"; printf '{\n  "name": "%s",\n  "version": "1.0.0"\n}\n' "$2" > "$1/.claude-plugin/plugin.json"; }
pjson "$FX/mT/tiny" tiny; echo hi > "$FX/mT/tiny/README.md"
pjson "$FX/mT/files2000" files2000
for d in $(seq 1 20); do
  mkdir -p "$FX/mT/files2000/d$d"
  for f in $(seq 1 100); do echo "file $d $f" > "$FX/mT/files2000/d$d/f$f.md"; done
done
mkdir -p "$FX/mT/skills100/.claude-plugin"
printf '{"name":"skills100","version":"1.0.0","userConfig":{"url":{"type":"string","title":"URL","description":"Where"},"token":{"type":"string","title":"Token","description":"Secret","sensitive":true},"n":{"type":"number","title":"N","description":"How many","min":1}}}\n' > "$FX/mT/skills100/.claude-plugin/plugin.json"
for i in $(seq 1 100); do
  mkdir -p "$FX/mT/skills100/skills/s$i"
  { printf -- '---\nname: s%s\ndescription: Skill number %s of the benchmark, doing one small thing well.\n---\n\n# Skill %s\n\n' "$i" "$i" "$i"
    for l in $(seq 1 12); do echo "Step $l: read the input, check it, and write what was found to the report."; done
  } > "$FX/mT/skills100/skills/s$i/SKILL.md"
done
mkt "$FX/mT" '{"name":"mT","owner":{"name":"x"},"plugins":[{"name":"tiny","source":"./tiny"},{"name":"files2000","source":"./files2000"},{"name":"skills100","source":"./skills100"}]}'
e=""
for i in 1 2 3 4; do
  pjson "$FX/mC/c$i" "c$i"; mkdir -p "$FX/mC/c$i/commands"; echo "# c$i" > "$FX/mC/c$i/commands/c.md"
  e="$e{\"name\":\"c$i\",\"source\":\"./c$i\"},"
done
mkt "$FX/mC" "{\"name\":\"mC\",\"owner\":{\"name\":\"x\"},\"plugins\":[${e%,}]}"
# mZ/s2k: 2,000 files of 4 KiB, dated an hour back (the stat cache remembers only older files).
mkdir -p "$FX/mZ/s2k"
pjson "$FX/mZ/s2k" s2k
head -c $((2000 * 4096)) /dev/urandom | split -b 4096 -a 4 -d - "$FX/mZ/s2k/f"
for d in $(seq -w 1 20); do mkdir -p "$FX/mZ/s2k/d$d"; done
i=0; for f in "$FX"/mZ/s2k/f*; do mv "$f" "$FX/mZ/s2k/d$(printf %02d $((i % 20 + 1)))/$(basename "$f").md"; i=$((i + 1)); done
mkt "$FX/mZ" '{"name":"mZ","owner":{"name":"x"},"plugins":[{"name":"s2k","source":"./s2k"}]}'
find "$FX/mZ" -exec touch -h -d '1 hour ago' {} +
# mL: 500 one-command plugins; m1: one more plugin, x.
mkdir -p "$FX/mL"
e=""
for i in $(seq -w 1 500); do
  mkdir -p "$FX/mL/p$i/commands" && pjson "$FX/mL/p$i" "p$i" && echo "# p$i" > "$FX/mL/p$i/commands/c.md"
  e="$e{\"name\":\"p$i\",\"source\":\"./p$i\"},"
done
mkt "$FX/mL" "{\"name\":\"mL\",\"owner\":{\"name\":\"x\"},\"plugins\":[${e%,}]}"
mkdir -p "$FX/m1/x/commands" && pjson "$FX/m1/x" x && echo "# x" > "$FX/m1/x/commands/c.md"
mkt "$FX/m1" '{"name":"m1","owner":{"name":"x"},"plugins":[{"name":"x","source":"./x"}]}'
F2K=$FX/mT/files2000
n=$(find "$F2K" -type f | wc -l); [ "$n" -eq 2001 ] || die "fixture files2000 has $n files, expected 2001"

# A release build reads no test hook (src/fsutil.rs test_hook): with PLUGIN_CRASH_AT=1 it must
# not abort at its first step boundary, and PLUGIN_ALLOW_LOCAL_ARCHIVES is never honoured.
if [ -z "${PLUGIN_BIN:-}" ]; then
  hk=$W/hooks-check
  CLAUDE_CONFIG_DIR=$hk HOME=$W/home PLUGIN_CRASH_AT=1 "$BIN" marketplace add "$FX/mT" > /dev/null 2> "$ERRF" \
    && CLAUDE_CONFIG_DIR=$hk HOME=$W/home PLUGIN_CRASH_AT=1 "$BIN" install tiny@mT > /dev/null 2>> "$ERRF" \
    || die "the release build honoured PLUGIN_CRASH_AT (a test hook): $(cat "$ERRF")"
  rm -rf "$hk"
fi

# ---------------------------------------------------------------- git fixtures and server
# Work trees in $GW are committed once and published as bare repos $GSRV/<name>.git (one pack,
# as a real host serves them), then served by githttp.py. Every git command of this script goes
# through gitx: fresh HOME, no system config, fixed identity, and GIT_CEILING_DIRECTORIES=$W so
# that git never looks above the work dir (BENCH_DIR's default lies inside the project's repo).
GHTTP=${SHARED_DIR:-$ROOT/../shared}/tools/githttp.py
GW=$W/git/work GSRV=$W/git/srv GLOG=$W/git/githttp.log GURL="" GPORT=""
GIT_ON=0 GIT_NOTE=""
gitx() {
  GIT_CEILING_DIRECTORIES=$W HOME=$W/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
    GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_AUTHOR_DATE=2026-01-01T00:00:00Z \
    GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
    git "$@"
}
# gcommit NAME MSG: commit all of $GW/NAME (made a repository, branch main, on the first call).
gcommit() {
  local wt=$GW/$1
  { [ -d "$wt/.git" ] || gitx init -q -b main "$wt"; } && gitx -C "$wt" add -A && gitx -C "$wt" commit -q -m "$2"
}
# gpublish NAME: publish $GW/NAME as the bare $GSRV/NAME.git (every branch), drop the work tree.
gpublish() { gitx clone -q --bare --no-local "$GW/$1" "$GSRV/$1.git" && rm -rf "$GW/$1"; }
# drange R: the plugins of dependency repository dr<R> (01-04, 05-07, 08-10).
drange() { case $1 in 1) seq -w 1 4 | sed 's/^/0/' ;; 2) seq 5 7 | sed 's/^/0/' ;; 3) printf '08\n09\n10\n' ;; esac; }
# grepo NAME: commit $GW/NAME (already filled) once and publish it.
grepo() { gcommit "$1" init && gpublish "$1"; }
git_fixtures() {
  mkdir -p "$GW" "$GSRV" && cp -r "$F2K" "$GW/files2000" && grepo files2000 || return 1
  pjson "$GW/big50" big50 && mkdir -p "$GW/big50/data" || return 1
  local i; for i in $(seq 1 10); do head -c 5242880 /dev/urandom > "$GW/big50/data/blob$i.bin" || return 1; done
  grepo big50 || return 1
  for i in a b; do
    pjson "$GW/multi/$i" "$i" && mkdir -p "$GW/multi/$i/commands" && echo "# $i" > "$GW/multi/$i/commands/c.md" || return 1
  done
  grepo multi || return 1
  # up01..up20 for (u2): version 1.0.0 on branch v1, then 1.0.1 in a newer commit on main.
  local n
  for i in $(seq -w 1 20); do
    n=up$i
    pjson "$GW/$n" "$n" && mkdir -p "$GW/$n/commands" && echo "# $n" > "$GW/$n/commands/c.md" &&
      gcommit "$n" v1 && gitx -C "$GW/$n" branch v1 &&
      sed -i 's/"1\.0\.0"/"1.0.1"/' "$GW/$n/.claude-plugin/plugin.json" && echo "# $n 1.0.1" > "$GW/$n/commands/c.md" &&
      gcommit "$n" v2 && gpublish "$n" || return 1
  done
  # sr1..sr5 for (s1)-(s3): 10 plugin folders each.
  local r j
  for r in 1 2 3 4 5; do
    for j in $(seq 1 10); do
      n=s$(printf %02d $(((r - 1) * 10 + j)))
      pjson "$GW/sr$r/$n" "$n" && mkdir -p "$GW/sr$r/$n/commands" && echo "# $n" > "$GW/sr$r/$n/commands/c.md" || return 1
    done
    grepo "sr$r" || return 1
  done
  # dr1..dr3 for (d1)-(d4): plugins d01..d10, tagged at 1.0.0 and 1.1.0.
  local v
  for r in 1 2 3; do
    for j in $(drange "$r"); do
      pjson "$GW/dr$r/d$j" "d$j" && mkdir -p "$GW/dr$r/d$j/commands" && echo "# d$j" > "$GW/dr$r/d$j/commands/c.md" || return 1
    done
    for v in 1.0.0 1.1.0; do
      for j in $(drange "$r"); do sed -i "s/\"version\": \"[0-9.]*\"/\"version\": \"$v\"/" "$GW/dr$r/d$j/.claude-plugin/plugin.json"; done
      gcommit "dr$r" "$v" || return 1
      for j in $(drange "$r"); do gitx -C "$GW/dr$r" tag "d$j--v$v" || return 1; done
    done
    gpublish "dr$r" || return 1
  done
  mkdir -p "$GW/gmkt/.claude-plugin" && pjson "$GW/gmkt/p" p || return 1
  echo '{"name":"gmk","owner":{"name":"bench"},"plugins":[{"name":"p","source":"./p"}]}' \
    > "$GW/gmkt/.claude-plugin/marketplace.json" && grepo gmkt
}
# start_githttp: serve $GSRV on a free loopback port; sets GPID, GPORT, GURL. Retries with another
# port when the one picked was taken in between; ready = `git ls-remote` answers.
start_githttp() {
  local try n port
  for try in 1 2 3; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || return 1
    HOME=$W/home GIT_CONFIG_NOSYSTEM=1 python3 "$GHTTP" "$GSRV" "$port" < /dev/null > /dev/null 2>> "$GLOG" &
    GPID=$!
    for ((n = 0; n < 100; n++)); do
      if gitx ls-remote "http://127.0.0.1:$port/multi.git" > /dev/null 2>&1; then
        GPORT=$port GURL=http://127.0.0.1:$port; return 0
      fi
      kill -0 "$GPID" 2> /dev/null || break
      sleep 0.1
    done
    kill "$GPID" 2> /dev/null || true; wait "$GPID" 2> /dev/null || true; GPID=""
  done
  return 1
}
if [ "${BENCH_GIT:-1}" = 0 ]; then GIT_NOTE="skipped: BENCH_GIT=0"
elif [ ! -f "$GHTTP" ]; then GIT_NOTE="skipped: $GHTTP not found (shared tools absent; set SHARED_DIR)"
elif ! command -v git > /dev/null; then GIT_NOTE="skipped: no git CLI on PATH"
elif ! command -v python3 > /dev/null; then GIT_NOTE="skipped: no python3 on PATH (needed by githttp.py)"
elif ! git_fixtures > "$ERRF" 2>&1; then GIT_NOTE="skipped: building the git fixtures failed: $(head -c 300 "$ERRF" | tr '\n' ' ')"
elif ! start_githttp; then GIT_NOTE="skipped: githttp.py did not come up (log: $(tail -c 300 "$GLOG" 2> /dev/null | tr '\n' ' '))"
else
  GIT_ON=1
  MSHA=$(gitx -C "$GSRV/multi.git" rev-parse HEAD)
  gsub() { printf '{"name":"%s","source":{"source":"git-subdir","url":"%s/multi.git","path":"%s"%s}}' "$1" "$GURL" "$1" "${2:+,\"sha\":\"$2\"}"; }
  mkt "$FX/mG" "{\"name\":\"mG\",\"owner\":{\"name\":\"x\"},\"plugins\":[
    {\"name\":\"files2000\",\"source\":{\"source\":\"url\",\"url\":\"$GURL/files2000.git\"}},
    {\"name\":\"big50\",\"source\":{\"source\":\"url\",\"url\":\"$GURL/big50.git\"}},
    $(gsub a),$(gsub b)]}"
  mkt "$FX/mGP" "{\"name\":\"mGP\",\"owner\":{\"name\":\"x\"},\"plugins\":[$(gsub a "$MSHA"),$(gsub b "$MSHA")]}"
  e="" en=""
  for i in $(seq 1 50); do
    n=s$(printf %02d "$i")
    e="$e{\"name\":\"$n\",\"source\":{\"source\":\"git-subdir\",\"url\":\"$GURL/sr$(((i - 1) / 10 + 1)).git\",\"path\":\"$n\"}},"
    en="$en\"$n@mS\":true,"
  done
  mkt "$FX/mS" "{\"name\":\"mS\",\"owner\":{\"name\":\"x\"},\"plugins\":[${e%,}]}"
  e="" dl=""
  for i in $(seq -w 1 10); do
    e="$e{\"name\":\"d$i\",\"source\":{\"source\":\"git-subdir\",\"url\":\"$GURL/dr$(((10#$i <= 4) ? 1 : (10#$i <= 7) ? 2 : 3)).git\",\"path\":\"d$i\"}},"
    dl="$dl{\"name\":\"d$i\",\"version\":\"^1.0.0\"},"
  done
  mkt "$FX/mD" "{\"name\":\"mD\",\"owner\":{\"name\":\"x\"},\"plugins\":[{\"name\":\"app\",\"source\":\"./app\"},${e%,}]}"
  mkdir -p "$FX/mD/app/.claude-plugin" "$FX/mD/app/commands" && echo "# app" > "$FX/mD/app/commands/c.md"
  printf '{"name":"app","version":"1.0.0","dependencies":[%s]}\n' "${dl%,}" > "$FX/mD/app/.claude-plugin/plugin.json"
  SYNC_SETTINGS="{\"extraKnownMarketplaces\":{\"mS\":{\"source\":{\"source\":\"directory\",\"path\":\"$FX/mS\"}}},\"enabledPlugins\":{${en%,}}}"
fi

# ---------------------------------------------------------------- npm: marketplace and registry probe
# mN is always written (cheap); NPM_ON says whether the registry can be reached at all. A host that
# does not resolve or refuses/drops the connection means "no network": skip. Anything else (an
# HTTP error, a TLS problem) is left for the rows to show as ERROR.
NPM_HOST=registry.npmjs.org
NPM_TGZ=https://$NPM_HOST/is-odd/-/is-odd-3.0.1.tgz
NPM_ON=0 NPM_NOTE="" HAVE_CURL=0 HAVE_NPM=0
command -v curl > /dev/null && HAVE_CURL=1
command -v npm > /dev/null && HAVE_NPM=1
mkt "$FX/mN" '{"name":"mN","owner":{"name":"x"},"plugins":[{"name":"isodd","source":{"source":"npm","package":"is-odd","version":"3.0.1"}}]}'
# resolves HOST: 0 yes, 1 no, 2 cannot tell (no getent and no python3)
resolves() {
  if command -v getent > /dev/null; then getent ahosts "$1" > /dev/null 2>&1 && return 0 || return 1; fi
  if command -v python3 > /dev/null; then
    python3 -c 'import socket, sys; socket.getaddrinfo(sys.argv[1], 443)' "$1" > /dev/null 2>&1 && return 0 || return 1
  fi
  return 2
}
# npm_probe: one untimed request (curl: the tarball itself; else a TCP connect to port 443).
# Returns 1, with the reason in NPM_NOTE, only for "cannot connect at all".
npm_probe() {
  local rc=0 tmo=""
  command -v timeout > /dev/null && tmo="timeout 20"
  if ((HAVE_CURL)); then
    HOME=$W/home curl -q -sS -o /dev/null --connect-timeout 10 --max-time 30 "$NPM_TGZ" 2> "$ERRF" || rc=$?
    case $rc in
      5 | 6 | 7 | 28) NPM_NOTE="skipped: $NPM_HOST cannot be reached (curl exit $rc: $(head -c 200 "$ERRF" | tr '\n' ' '))"; return 1 ;;
    esac
  elif ! $tmo bash -c ': > "/dev/tcp/$1/443"' _ "$NPM_HOST" 2> /dev/null; then
    NPM_NOTE="skipped: no TCP connection to $NPM_HOST:443"; return 1
  fi
  return 0
}
rc=0; resolves "$NPM_HOST" || rc=$?
if [ "${BENCH_NPM:-1}" = 0 ]; then NPM_NOTE="skipped: BENCH_NPM=0"
elif ((rc == 1)); then NPM_NOTE="skipped: $NPM_HOST does not resolve on this machine (no network?)"
elif npm_probe; then NPM_ON=1
fi

# ---------------------------------------------------------------- timing machinery
# Durations are kept in microseconds, one per line, in $W/t/<key>.
declare -A ERR=()
if [ -n "${EPOCHREALTIME:-}" ]; then
  stamp() { local t=$EPOCHREALTIME; T=${t/[.,]/}; }         # builtin: no fork
else
  stamp() { T=$(($(date +%s%N) / 1000)); }
fi

# measure RUNS KEY... - for i = 0..RUNS, for each KEY in turn: `prep_KEY i` (untimed, must
# succeed), sync, then time `cmd_KEY i` (stdin /dev/null, stdout discarded). Run 0 is a warm-up
# and not recorded. Operations are interleaved run by run so that load changes on the machine
# hit ours and the reference alike. The first failure of an operation stops it (ERR[KEY]).
measure() {
  local runs=$1 i k rc t0; shift
  for k; do : > "$W/t/$k"; done
  for ((i = 0; i <= runs; i++)); do
    for k; do
      [ -z "${ERR[$k]:-}" ] || continue
      if ! "prep_$k" "$i" > /dev/null 2> "$ERRF" < /dev/null; then
        ERR[$k]="setup of run $i failed: $(head -c 400 "$ERRF")"; continue
      fi
      sync
      rc=0
      stamp; t0=$T
      "cmd_$k" "$i" < /dev/null > /dev/null 2> "$ERRF" || rc=$?
      stamp
      if ((rc != 0)); then ERR[$k]="run $i exited $rc: $(head -c 400 "$ERRF")"; continue; fi
      ((i == 0)) || echo $((T - t0)) >> "$W/t/$k"
    done
  done
}

# stat KEY -> "median min max" in ms (empty when there are no samples)
stats() {
  [ -s "$W/t/$1" ] || return 0
  sort -n "$W/t/$1" | awk '{ a[NR] = $1 }
    END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
          printf "%.2f %.2f %.2f\n", m / 1000, a[1] / 1000, a[NR] / 1000 }'
}
median() { local s; s=$(stats "$1"); echo "${s%% *}"; }

# ---------------------------------------------------------------- operations
ours() { CLAUDE_CONFIG_DIR=$D HOME=$W/home "$BIN" "$@"; }
cc() {
  HOME=$D DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 \
    DISABLE_ERROR_REPORTING=1 "$CC" plugin "$@"
}
# fresh NAME i: D = a new, empty dir for run i of NAME; the previous run's dir is removed.
fresh() { D=$W/$1-run-$2; rm -rf "$W/$1-run-$(($2 - 1))" "$D"; mkdir -p "$D"; }

prep_a() { fresh a "$1" && ours marketplace add "$FX/mT"; }
cmd_a() { ours install tiny@mT; }
prep_b() { fresh b "$1" && ours marketplace add "$FX/mT"; }
cmd_b() { ours install files2000@mT; }
prep_c() { fresh c "$1"; }
cmd_c() { cp -rL "$F2K" "$D/files2000"; }
prep_d() { fresh d "$1" && ours marketplace add "$FX/mT" && ours install tiny@mT; }
cmd_d() { ours install tiny@mT; }
prep_e() {
  fresh e "$1" && ours marketplace add "$FX/mT" && ours marketplace add "$FX/mC" || return 1
  local p; for p in tiny@mT files2000@mT c1@mC c2@mC c3@mC c4@mC; do ours install "$p" || return 1; done
}
cmd_e() { ours list --json; }
prep_f() { fresh f "$1" && ours marketplace add "$FX/mT" && ours install tiny@mT; }
cmd_f() { ours resolve tiny@mT --json; }
prep_h() { fresh h "$1" && ours marketplace add "$FX/mT" && ours install skills100@mT; }
cmd_h() { ours details skills100@mT; }
prep_cch() { fresh cch "$1" && cc marketplace add "$FX/mT" && cc install skills100@mT; }
cmd_cch() { cc details skills100@mT; }
prep_k() { fresh k "$1" && ours marketplace add "$FX/mT" && ours install skills100@mT; }
cmd_k() { ours configure skills100@mT --json; }
prep_cck() { fresh cck "$1" && cc marketplace add "$FX/mT" && cc install skills100@mT; }
cmd_cck() { cc configure skills100@mT --json; }
prep_cca() { fresh cca "$1" && cc marketplace add "$FX/mT"; }
cmd_cca() { cc install tiny@mT; }
prep_ccb() { fresh ccb "$1" && cc marketplace add "$FX/mT"; }
cmd_ccb() { cc install files2000@mT; }

# Store rows. zfresh NAME i: a fresh run dir with its own copy of mZ ($D/mZ, dates kept), config
# dir $D/cfg and XDG_CACHE_HOME $D/xdg; zours runs ours there.
zfresh() { fresh "$1" "$2" && cp -a "$FX/mZ" "$D/mZ" && mkdir -p "$D/cfg" "$D/xdg"; }
zours() { CLAUDE_CONFIG_DIR=$D/cfg XDG_CACHE_HOME=$D/xdg HOME=$W/home "$BIN" "$@"; }
# zversion V N: s2k says version V, and N of its files (every 100th from file N*7) change.
zversion() {
  printf '{\n  "name": "s2k",\n  "version": "%s"\n}\n' "$1" > "$D/mZ/s2k/.claude-plugin/plugin.json"
  local f; for f in $(find "$D/mZ/s2k" -name '*.md' | sort | awk -v n="$2" -v s="$1" 'NR % 100 == (s * 7) % 100 && n-- > 0'); do
    echo "changed in $1" >> "$f"
  done
}
# The copy's files changed status (ctime) just now: the stat cache remembers no file that changed
# in the last 2 s (timestamps of racy writes), so the untimed install waits that long first.
prep_z1() { zfresh z1 "$1" && sleep 2.1 && zours marketplace add "$D/mZ" && zours install s2k@mZ && zversion 2.0.0 1; }
cmd_z1() { zours update s2k@mZ --no-refresh; }
prep_z2() { zfresh z2 "$1" && sleep 2.1 && zours marketplace add "$D/mZ" && zours install s2k@mZ; }
cmd_z2() { zours update s2k@mZ --force --no-refresh; }
prep_z6() { zfresh z6 "$1" && sleep 2.1 && zours marketplace add "$D/mZ" && zours install s2k@mZ && zours uninstall s2k@mZ; }
cmd_z6() { zours install s2k@mZ; }
# The project is its own git work tree (else the one holding the bench's folder would be).
prep_z7() { zfresh z7 "$1" && mkdir -p "$D/project/.git" && sleep 2.1 && zours marketplace add "$D/mZ" && zours install s2k@mZ; }
cmd_z7() { (cd "$D/project" && zours install s2k@mZ --scope project); }
prep_z0() { fresh z0 "$1"; }
cmd_z0() { cp -al "$FX/mZ/s2k" "$D/s2k"; }
prep_z3() { zfresh z3 "$1" && zours marketplace add "$D/mZ"; }
cmd_z3() { zours install s2k@mZ; }
prep_z4() { fresh z4 "$1"; }
cmd_z4() { cp -rL "$FX/mZ/s2k" "$D/s2k" && sync; }

# Scale rows: L = the config dir with the 500 installed (made once, below); XL its XDG cache.
lours() { CLAUDE_CONFIG_DIR=$L XDG_CACHE_HOME=$XL HOME=$W/home "$BIN" "$@"; }
prep_l1() { :; }
cmd_l1() { lours update --all --no-refresh; }
prep_l2() { :; }
cmd_l2() { lours outdated --no-refresh; }
prep_l3() { lours uninstall x@m1 || true; }
cmd_l3() { lours install x@m1; }
prep_l0() { fresh l0 "$1" && ours marketplace add "$FX/m1"; }
cmd_l0() { ours install x@m1; }
prep_l4() { :; }
cmd_l4() { lours list --json; }
prep_l5() { :; }
cmd_l5() { lours sync; }
# lsetup: the 500 installed and enabled, and m1 added.
lsetup() {
  L=$W/l-cfg XL=$W/l-xdg; mkdir -p "$L" "$XL"
  local e="" i
  for i in $(seq -w 1 500); do e="$e\"p$i@mL\":true,"; done
  printf '{"enabledPlugins":{%s}}\n' "${e%,}" > "$L/settings.json"
  lours marketplace add "$FX/mL" && lours marketplace add "$FX/m1" && lours sync &&
    [ "$(lours list --json | grep -c '"id"')" -eq 500 ]
}

# Git rows. gfresh NAME i: like fresh, then D = <run dir>/cfg (config dir, or HOME for Claude
# Code) and XC = <run dir>/xdg (XDG_CACHE_HOME: the git cache starts empty), both new and empty.
gfresh() { fresh "$1" "$2" && XC=$D/xdg && D=$D/cfg && mkdir -p "$D" "$XC"; }
gours() { CLAUDE_CONFIG_DIR=$D XDG_CACHE_HOME=$XC HOME=$W/home "$BIN" "$@"; }
ccx() { XDG_CACHE_HOME=$XC cc "$@"; }
prep_g1() { gfresh g1 "$1" && gours marketplace add "$FX/mG"; }
cmd_g1() { gours install files2000@mG; }
prep_g2() { gfresh g2 "$1" && gours marketplace add "$FX/mG"; }
cmd_g2() { gours install big50@mG; }
prep_g3a() { gfresh g3a "$1"; }
cmd_g3a() { gitx clone -q --depth 1 "$GURL/files2000.git" "$D/files2000"; }
prep_g3b() { gfresh g3b "$1"; }
cmd_g3b() { gitx clone -q --depth 1 "$GURL/big50.git" "$D/big50"; }
# g4prep NAME MKT i: a@MKT installed (config dir <run>/cfg-a) so that the git cache holds multi,
# then a fresh config dir <run>/cfg with MKT added; the same XDG_CACHE_HOME for both.
g4prep() {
  gfresh "$1" "$3" || return 1
  local cfg=$D; D=$cfg-a; mkdir -p "$D"
  gours marketplace add "$FX/$2" && gours install "a@$2" || return 1
  D=$cfg; gours marketplace add "$FX/$2"
}
prep_g4() { g4prep g4 mG "$1"; }
cmd_g4() { gours install b@mG; }
prep_g4p() { g4prep g4p mGP "$1"; }
cmd_g4p() { gours install b@mGP; }
prep_g5() { gfresh g5 "$1" && gours marketplace add "$GURL/gmkt.git"; }
cmd_g5() { gours marketplace update gmk; }
prep_ccg1() { gfresh ccg1 "$1" && ccx marketplace add "$FX/mG"; }
cmd_ccg1() { ccx install files2000@mG; }
prep_ccg2() { gfresh ccg2 "$1" && ccx marketplace add "$FX/mG"; }
cmd_ccg2() { ccx install big50@mG; }

# Update rows. stale: set the last refresh of every marketplace of config dir $D back to 2000, so
# that the timed `update` refreshes them (one refreshed under 30 s ago would be skipped).
stale() { sed -i 's/"lastUpdated": *"[^"]*"/"lastUpdated": "2000-01-01T00:00:00.000Z"/' "$D/plugins/known_marketplaces.json"; }
prep_u1() { gfresh u1 "$1" && gours marketplace add "$FX/mG" && gours install files2000@mG && stale; }
cmd_u1() { gours update files2000@mG; }
prep_u1n() { gfresh u1n "$1" && gours marketplace add "$FX/mG" && gours install files2000@mG; }
cmd_u1n() { gours update files2000@mG --no-refresh; }
prep_ccu1() { gfresh ccu1 "$1" && ccx marketplace add "$FX/mG" && ccx install files2000@mG; }
cmd_ccu1() { ccx update files2000@mG; }
# umkt DIR REF: marketplace mU in DIR listing up01..up20 from their repos, at branch REF if given.
umkt() {
  local i e=""
  for i in $(seq -w 1 20); do
    e="$e{\"name\":\"up$i\",\"source\":{\"source\":\"url\",\"url\":\"$GURL/up$i.git\"${2:+,\"ref\":\"$2\"}}},"
  done
  mkt "$1" "{\"name\":\"mU\",\"owner\":{\"name\":\"x\"},\"plugins\":[${e%,}]}"
}
# u2prep NAME i: the 20 plugins installed at v1 (checked: 20 records of 1.0.0) from the run's own
# mU, which then lists main.
u2prep() {
  gfresh "$1" "$2" || return 1
  local m=${D%/cfg}/mU i
  umkt "$m" v1 && gours marketplace add "$m" || return 1
  for i in $(seq -w 1 20); do gours install "up$i@mU" || return 1; done
  [ "$(grep -c '"version": *"1.0.0"' "$D/plugins/installed_plugins.json")" -eq 20 ] || return 1
  umkt "$m" ""
}
prep_u2() { u2prep u2 "$1"; }
cmd_u2() { gours update --all; }
prep_u2s() { u2prep u2s "$1"; }
cmd_u2s() { gours update --all --jobs 1; }
# Sync rows: the run's user settings declare mS and enable s01..s50; no managed settings.
mkdir -p "$W/no-managed"
export PLUGIN_MANAGED_SETTINGS_DIR=$W/no-managed
sprep() { gfresh "$1" "$2" && printf '%s\n' "$SYNC_SETTINGS" > "$D/settings.json"; }
prep_s1() { sprep s1 "$1"; }
cmd_s1() { gours sync; }
prep_s2() { sprep s2 "$1" && gours marketplace add "$FX/mS"; }
cmd_s2() { local i; for i in $(seq -w 1 50); do gours install "s$i@mS" || return 1; done; }
prep_s3() { sprep s3 "$1" && gours sync; }
cmd_s3() { gours sync; }
# Dependency rows (mD: app needs d01..d10 from 3 repositories).
prep_d1() { gfresh d1 "$1" && gours marketplace add "$FX/mD"; }
cmd_d1() { gours install app@mD; }
prep_d2() { gfresh d2 "$1" && gours marketplace add "$FX/mD"; }
cmd_d2() { local i; for i in $(seq -w 1 10); do gours install "d$i@mD" || return 1; done; }
prep_d3() { gfresh d3 "$1" && ccx marketplace add "$FX/mD"; }
cmd_d3() { ccx install app@mD; }
prep_d4() { gfresh d4 "$1" && gours marketplace add "$FX/mD" && gours install app@mD; }
cmd_d4() { gours install app@mD; }
prep_u3() { fresh u3 "$1" && ours marketplace add "$FX/mT" && ours install files2000@mT && stale; }
cmd_u3() { ours update files2000@mT; }
prep_r1() {
  fresh r1 "$1" && fours marketplace add "$FX/mT" && fours install files2000@mT &&
    fours install files2000@mT
}
cmd_r1() { fours install files2000@mT; }
fours() { CLAUDE_CONFIG_DIR=$D XDG_CACHE_HOME=$W/xdg-f HOME=$W/home "$BIN" "$@"; }
prep_u3c() { fresh u3c "$1"; }
cmd_u3c() { cp -r "$F2K" "$D/files2000"; }

# npm rows. n1 and ccn: gfresh (fresh config dir / HOME and fresh XDG_CACHE_HOME); n3: fresh config
# dir, XDG_CACHE_HOME = $NXC for every run (warmed by npm_warm before the clock ever runs).
NXC=$W/n3-xdg
prep_n1() { gfresh n1 "$1" && gours marketplace add "$FX/mN"; }
cmd_n1() { gours install isodd@mN; }
prep_n2() { fresh n2 "$1"; }
cmd_n2() { HOME=$W/home curl -q -sSfL -o "$D/is-odd-3.0.1.tgz" "$NPM_TGZ"; }
prep_n3() { fresh n3 "$1" && XC=$NXC && gours marketplace add "$FX/mN"; }
cmd_n3() { gours install isodd@mN; }
npm_warm() { D=$W/n3-warm XC=$NXC && mkdir -p "$D" "$XC" && gours marketplace add "$FX/mN" && gours install isodd@mN; }
# npm_dl DIR: "inode mtime size name" of every tarball in DIR/plugin/downloads-v1 (the download cache)
npm_dl() { (cd "$1/plugin/downloads-v1" 2> /dev/null && find . -type f -name '*.tgz' -exec stat -c '%i %Y %s %n' {} + | sort) || true; }
prep_ccn() { gfresh ccn "$1" && ccx marketplace add "$FX/mN"; }
cmd_ccn() { npm_config_update_notifier=false ccx install isodd@mN; }

LOAD=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
echo "bench: binary      $BIN"
echo "bench: work dir    $W ($(stat -f -c %T "$W" 2>/dev/null || echo '?'))"
echo "bench: runs        $RUNS${CC:+ (Claude Code: $CC_RUNS)}, each after 1 untimed warm-up; load avg $LOAD"
echo "bench: Claude Code ${CC:-not found (rows skipped)}"
if ((GIT_ON)); then
  echo "bench: git         loopback smart HTTP $GURL (githttp.py, pid $GPID), $GIT_RUNS runs$([ -z "$CC" ] || echo " (Claude Code: $CC_RUNS)")"
else
  echo "bench: git         $GIT_NOTE"
fi
if ((NPM_ON)); then
  echo "bench: npm         live https://$NPM_HOST/ (is-odd 3.0.1), $NPM_RUNS runs$([ -z "$CC" ] || ! ((HAVE_NPM)) || echo " (Claude Code: $CC_RUNS, npm $(npm --version 2> /dev/null || echo '?'))")"
else
  echo "bench: npm         $NPM_NOTE"
fi
echo

step() { printf 'bench: measuring %s ...\n' "$1" >&2; }
step "(a)-(k), interleaved";  measure "$RUNS" a b c d e f h k
# Sanity check: a fast (b) must not be a (b) that copied nothing (the last run's dir is kept).
if [ -z "${ERR[b]:-}" ]; then
  n=$( (find "$W/b-run-$RUNS/plugins/cache" -path '*files2000*' -type f 2>/dev/null || true) | wc -l)
  [ "$n" -ge 2001 ] || ERR[b]="install reported success but the cache holds $n files of files2000 (expected >= 2001)"
fi
# (f) must have printed the definition, not an error (the last run's dir is kept).
if [ -z "${ERR[f]:-}" ]; then
  out=$(D=$W/f-run-$RUNS ours resolve tiny@mT --json 2>&1 < /dev/null) || true
  grep -q '"pluginId": *"tiny@mT"' <<< "$out" || ERR[f]="resolve did not print the definition: $(head -c 300 <<< "$out" | tr '\n' ' ')"
fi
# (h) must have listed the 100 skills.
if [ -z "${ERR[h]:-}" ]; then
  out=$(D=$W/h-run-$RUNS ours details skills100@mT 2>&1 < /dev/null) || true
  grep -q 'Skills (100)' <<< "$out" || ERR[h]="details did not list the 100 skills: $(head -c 300 <<< "$out" | tr '\n' ' ')"
fi
if [ -z "${ERR[k]:-}" ]; then
  out=$(D=$W/k-run-$RUNS ours configure skills100@mT --json 2>&1 < /dev/null) || true
  grep -q '"unconfigured"' <<< "$out" || ERR[k]="configure did not list the options: $(head -c 300 <<< "$out" | tr '\n' ' ')"
fi
if [ -n "$CC" ]; then
  step "Claude Code install tiny / files2000, details and configure skills100, interleaved"
  measure "$CC_RUNS" cca ccb cch cck
fi
# noop_check KEY RUN CMD...: after `prep_KEY RUN` (untimed), CMD --json must say "current": a fast
# no-op row must not be one that updated, or failed without saying so.
noop_check() {
  local k=$1 run=$2 out; shift 2
  [ -z "${ERR[$k]:-}" ] || return 0
  out=$("prep_$k" "$run" > /dev/null 2>&1 < /dev/null && "$@" --json 2>&1 < /dev/null) || true
  grep -q '"outcome": *"current"' <<< "$out" || ERR[$k]="not a no-op: $(head -c 300 <<< "$out" | tr '\n' ' ')"
}
step "(u3) no-op update of a folder plugin vs cp -r, interleaved"; measure "$RUNS" u3 u3c
noop_check u3 $((RUNS + 1)) ours update files2000@mT
step "(z0)-(z7) the content store, interleaved"; measure "$RUNS" z1 z2 z6 z7 z0 z3 z4
# (z1) must have made 2.0.0 with its unchanged files shared (the last run's dir is kept).
if [ -z "${ERR[z1]:-}" ]; then
  f=$(find "$W/z1-run-$RUNS/cfg/plugins/cache/mZ/s2k/2.0.0" -name '*.md' -links +1 2> /dev/null | wc -l)
  [ "$f" -ge 1990 ] || ERR[z1]="2.0.0 shares only $f files with the store (expected >= 1990)"
fi
# (z6), (z7) must have recorded s2k against the folder it had (the last run's dirs are kept).
for k in z6 z7; do
  [ -z "${ERR[$k]:-}" ] || continue
  d=$W/$k-run-$RUNS/cfg/plugins
  want='"s2k@mZ"'; [ "$k" = z6 ] || want='"scope": "project"'
  if [ -e "$d/cache/mZ/s2k/1.0.0/.orphaned_at" ] || ! grep -q "$want" "$d/installed_plugins.json" 2> /dev/null; then
    ERR[$k]="s2k@mZ is not recorded against its version folder"
  fi
done
# (z5): 10 versions, 20 files changed in each; du counts a file with several names once.
Z5=""
if zfresh z5 1 > /dev/null 2>&1 && sleep 2.1 && zours marketplace add "$D/mZ" > /dev/null 2>&1 && zours install s2k@mZ > /dev/null 2>&1; then
  for v in 2 3 4 5 6 7 8 9 10; do
    zversion "$v.0.0" 20 && zours update s2k@mZ --no-refresh > /dev/null 2>&1 || { Z5=ERROR; break; }
  done
  n=$(find "$D/cfg/plugins/cache/mZ/s2k" -mindepth 1 -maxdepth 1 -type d | wc -l)
  [ "$n" -eq 10 ] || Z5=ERROR
  if [ -z "$Z5" ]; then
    ZK=$(du -sk "$D/cfg/plugins/cache" "$D/cfg/plugins/store-v1" | awk '{ s += $1 } END { print s }')
    Z1K=$(du -sk "$FX/mZ/s2k" | awk '{ print $1 }')
    Z5=$(awk -v a="$ZK" -v b="$Z1K" 'BEGIN { printf "%.2f", a / b }')
  fi
else
  Z5=ERROR
fi
step "(l0)-(l5) 500 plugins installed, interleaved"
if lsetup > "$ERRF" 2>&1 < /dev/null; then
  measure "$RUNS" l1 l2 l3 l0 l4 l5
  out=$(lours update --all --no-refresh --json 2>&1 < /dev/null) || true
  [ "$(grep -o '"outcome": *"current"' <<< "$out" | wc -l)" -ge 500 ] || ERR[l1]="not 500 plugins found current: $(head -c 300 <<< "$out" | tr '\n' ' ')"
else
  for k in l1 l2 l3 l0 l4 l5; do ERR[$k]="setup of the 500 plugins failed: $(head -c 300 "$ERRF" | tr '\n' ' ')"; done
fi
step "(r1) no-op reinstall of a folder plugin (remembered stat data)"; measure "$RUNS" r1
if [ -z "${ERR[r1]:-}" ]; then
  out=$(prep_r1 $((RUNS + 1)) > /dev/null 2>&1 < /dev/null && fours install files2000@mT 2>&1 < /dev/null) || true
  grep -q 'Content unchanged since version' <<< "$out" || ERR[r1]="not a no-op: $(head -c 300 <<< "$out" | tr '\n' ' ')"
  [ -n "$(ls -A "$W/xdg-f/plugin/stat-v1" 2> /dev/null)" ] || ERR[r1]="no stat data was remembered in $W/xdg-f/plugin/stat-v1"
fi

if ((GIT_ON)); then
  step "(g1)-(g4) git sources, interleaved"; measure "$GIT_RUNS" g1 g2 g3a g3b g4 g4p g5
  # Sanity checks on the last run's dirs (kept): the installs must have written the files.
  gcount() { (find "$W/$1-run-$GIT_RUNS/cfg/plugins/cache" "${@:2}" 2> /dev/null || true) | wc -l; }
  if [ -z "${ERR[g1]:-}" ]; then
    n=$(gcount g1 -path '*files2000*' -type f)
    [ "$n" -ge 2001 ] || ERR[g1]="install reported success but the cache holds $n files of files2000 (expected >= 2001)"
  fi
  if [ -z "${ERR[g2]:-}" ]; then
    n=$(gcount g2 -path '*big50*' -name 'blob*.bin' -size 5120k)
    [ "$n" -eq 10 ] || ERR[g2]="install reported success but the cache holds $n of the 10 5-MiB files of big50"
  fi
  for k in g4 g4p; do
    [ -z "${ERR[$k]:-}" ] || continue
    n=$(gcount "$k" -path '*/b/*' -name c.md)
    [ "$n" -ge 1 ] || ERR[$k]="install reported success but b's files are not in the plugin cache"
  done
  # Requests the server saw during one more (untimed) run of each command: shows what (g4)'s
  # unpinned entry costs on the wire (ref advertisement only, or a fetch too) and that the
  # pinned one costs nothing. The server logs a request after answering it, hence the pause.
  reqs() {
    local n0 n1
    "prep_$1" $((GIT_RUNS + 1)) > /dev/null 2>&1 < /dev/null || { echo "?"; return 0; }
    sleep 0.3; n0=$(wc -l < "$GLOG")
    "cmd_$1" $((GIT_RUNS + 1)) > /dev/null 2>&1 < /dev/null || { echo "?"; return 0; }
    sleep 0.3; n1=$(wc -l < "$GLOG")
    echo $((n1 - n0))
  }
  REQS="install files2000 (cold) $(reqs g1); git clone --depth 1 $(reqs g3a); install b, repo cached: unpinned $(reqs g4), pinned $(reqs g4p)"
  if [ -n "$CC" ]; then
    step "Claude Code install files2000 / big50 from git, interleaved"; measure "$CC_RUNS" ccg1 ccg2
  fi
  step "(u1), (u2) updates of git plugins, interleaved"; measure "$GIT_RUNS" u1 u1n u2 u2s
  # Every plugin of the last (u2) runs (kept) must have been updated.
  for k in u2 u2s; do
    [ -z "${ERR[$k]:-}" ] || continue
    n=$(grep -c '"version": *"1.0.1"' "$W/$k-run-$GIT_RUNS/cfg/plugins/installed_plugins.json" 2> /dev/null || true)
    [ "${n:-0}" -eq 20 ] || ERR[$k]="update reported success but ${n:-0} of the 20 plugins are recorded at 1.0.1"
  done
  step "(s1)-(s3) sync of 50 git plugins vs one by one, no-op sync, interleaved"; measure "$GIT_RUNS" s1 s2 s3
  for k in s1 s2; do
    [ -z "${ERR[$k]:-}" ] || continue
    n=$(grep -c '"version": *"1.0.0"' "$W/$k-run-$GIT_RUNS/cfg/plugins/installed_plugins.json" 2> /dev/null || true)
    [ "${n:-0}" -eq 50 ] || ERR[$k]="reported success but ${n:-0} of the 50 plugins are recorded"
  done
  if [ -z "${ERR[s3]:-}" ]; then
    out=$(prep_s3 $((GIT_RUNS + 1)) > /dev/null 2>&1 < /dev/null && gours sync --json 2>&1 < /dev/null) || true
    [ "$(grep -c '"action": *"present"' <<< "$out")" -eq 51 ] || ERR[s3]="not a no-op: $(head -c 300 <<< "$out" | tr '\n' ' ')"
  fi
  step "(d1), (d2), (d4) a plugin with 10 dependencies from 3 repositories, interleaved"; measure "$GIT_RUNS" d1 d2 d4
  for k in d1 d2; do
    [ -z "${ERR[$k]:-}" ] || continue
    n=$(grep -c '"installPath"' "$W/$k-run-$GIT_RUNS/cfg/plugins/installed_plugins.json" 2> /dev/null || true)
    want=$([ "$k" = d1 ] && echo 11 || echo 10)
    [ "${n:-0}" -eq "$want" ] || ERR[$k]="reported success but ${n:-0} of the $want plugins are recorded"
  done
  if [ -z "${ERR[d1]:-}" ]; then
    n=$(grep -c '"resolvedVersion": *"1.1.0"' "$W/d1-run-$GIT_RUNS/cfg/plugins/installed_plugins.json" 2> /dev/null || true)
    [ "${n:-0}" -eq 10 ] || ERR[d1]="${n:-0} of the 10 dependencies were resolved from their 1.1.0 tag"
  fi
  if [ -z "${ERR[d4]:-}" ]; then
    out=$(prep_d4 $((GIT_RUNS + 1)) > /dev/null 2>&1 < /dev/null && gours install app@mD 2>&1 < /dev/null) || true
    grep -q 'already installed\|unchanged' <<< "$out" || ERR[d4]="not a no-op: $(head -c 300 <<< "$out" | tr '\n' ' ')"
  fi
  REQS="$REQS; install with 10 dependencies $(reqs d1), 10 installs $(reqs d2)"
  if [ -n "$CC" ]; then
    step "Claude Code install of a plugin with 10 dependencies"; measure "$CC_RUNS" d3
  fi
  noop_check u1 $((GIT_RUNS + 1)) gours update files2000@mG
  noop_check u1n $((GIT_RUNS + 1)) gours update files2000@mG --no-refresh
  REQS="$REQS; no-op update $(reqs u1), --no-refresh $(reqs u1n)"
  if [ -n "$CC" ]; then
    step "Claude Code no-op update files2000@mG (git)"; measure "$CC_RUNS" ccu1
    REQS="$REQS; Claude Code's no-op update $(reqs ccu1)"
  fi
fi

if ((NPM_ON)); then
  # (n3)'s cache is warmed first (untimed); its download cache must then stay as it is.
  if ! npm_warm > /dev/null 2> "$ERRF" < /dev/null; then
    ERR[n3]="warming the download cache failed: $(head -c 400 "$ERRF")"
  elif [ -z "$(npm_dl "$NXC")" ]; then
    ERR[n3]="warming install succeeded but $NXC/plugin/downloads-v1 is empty"
  fi
  NDL0=$(npm_dl "$NXC")
  NPM_KEYS=(n1 n3); ((HAVE_CURL)) && NPM_KEYS=(n1 n2 n3)
  step "(n1)-(n3) npm, live registry, interleaved"; measure "$NPM_RUNS" "${NPM_KEYS[@]}"
  # Sanity checks on the last run's dirs (kept).
  if [ -z "${ERR[n1]:-}" ]; then
    nd=$W/n1-run-$NPM_RUNS
    if ! grep -q '"version": *"3.0.1"' "$nd/cfg/plugins/cache/mN/isodd/3.0.1/package.json" 2> /dev/null ||
      [ ! -f "$nd/cfg/plugins/cache/mN/isodd/3.0.1/index.js" ]; then
      ERR[n1]="install reported success but cache/mN/isodd/3.0.1 does not hold is-odd 3.0.1's package.json and index.js"
    elif [ "$(npm_dl "$nd/xdg" | wc -l)" -ne 1 ]; then
      ERR[n1]="install reported success but the run's download cache holds $(npm_dl "$nd/xdg" | wc -l) files (expected the 1 tarball)"
    fi
  fi
  # The raw download and ours must be the same bytes: ours names its cached file by its sha512.
  if ((HAVE_CURL)) && [ -z "${ERR[n2]:-}" ] && [ -z "${ERR[n1]:-}" ] && command -v sha512sum > /dev/null; then
    h=$(sha512sum < "$W/n2-run-$NPM_RUNS/is-odd-3.0.1.tgz"); h=${h%% *}
    [ -f "$W/n1-run-$NPM_RUNS/xdg/plugin/downloads-v1/sha512-$h.tgz" ] ||
      ERR[n2]="curl's tarball (sha512 ${h:0:16}...) is not the one ours downloaded: $(npm_dl "$W/n1-run-$NPM_RUNS/xdg" | tr '\n' ' ')"
  fi
  if [ -z "${ERR[n3]:-}" ]; then
    if [ ! -f "$W/n3-run-$NPM_RUNS/plugins/cache/mN/isodd/3.0.1/index.js" ]; then
      ERR[n3]="install reported success but cache/mN/isodd/3.0.1/index.js is missing"
    elif [ "$(npm_dl "$NXC")" != "$NDL0" ]; then
      ERR[n3]="the download cache changed during the runs (tarball downloaded again?): before [$NDL0], after [$(npm_dl "$NXC" | tr '\n' ' ')]"
    fi
  fi
  if [ -n "$CC" ] && ((HAVE_NPM)); then
    step "Claude Code install isodd@mN (npm)"; measure "$CC_RUNS" ccn
    if [ -z "${ERR[ccn]:-}" ]; then
      n=$( (find "$W/ccn-run-$CC_RUNS/cfg/.claude/plugins/cache/mN/isodd" -name index.js -type f 2> /dev/null || true) | wc -l)
      [ "$n" -ge 1 ] || ERR[ccn]="install reported success but is-odd's index.js is not in Claude Code's plugin cache"
    fi
  fi
fi

# Peak RSS (KiB) of one run, printed after the table.
rss() { # rss NAME PREP CMD-ARGS...
  local name=$1 prep=$2; shift 2
  "$prep" 1 > /dev/null 2>&1 < /dev/null || { echo "setup failed"; return 0; }
  if /usr/bin/time -f %M -o "$W/rss" "$@" < /dev/null > /dev/null 2>&1; then
    awk '{ printf "%.1f MiB", $1 / 1024 }' "$W/rss"
  else
    echo "command failed"
  fi
}
if ((HAVE_TIME)); then
  step "peak RSS"
  RSS_B=$(rss rss-b prep_b env CLAUDE_CONFIG_DIR="$W/b-run-1" HOME="$W/home" "$BIN" install files2000@mT)
  RSS_C=$(rss rss-c prep_c cp -rL "$F2K" "$W/c-run-1/files2000")
  if [ -n "$CC" ]; then
    RSS_CC=$(rss rss-cc prep_ccb env HOME="$W/ccb-run-1" DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
      DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 "$CC" plugin install files2000@mT)
  fi
  if ((GIT_ON)); then
    RSS_G2=$(rss rss-g2 prep_g2 env CLAUDE_CONFIG_DIR="$W/g2-run-1/cfg" XDG_CACHE_HOME="$W/g2-run-1/xdg" \
      HOME="$W/home" "$BIN" install big50@mG)
    RSS_G3=$(rss rss-g3 prep_g3b env GIT_CEILING_DIRECTORIES="$W" HOME="$W/home" GIT_CONFIG_NOSYSTEM=1 \
      git clone -q --depth 1 "$GURL/big50.git" "$W/g3b-run-1/cfg/big50")
  fi
fi

# ---------------------------------------------------------------- report
MISSED=()
FMT='%-40s %9s %-17s %-14s %9s %8s  %-22s %s\n'
printf "$FMT" operation "ours ms" "(min-max)" reference "ref ms" ratio goal result
printf "$FMT" "$(printf -- '-%.0s' {1..40})" --------- ----------------- -------------- --------- -------- ---------------------- ------
# row LABEL KEY REFLABEL REFKEY GOAL-KIND GOAL-VALUE
#   GOAL-KIND: ms (ours median <= value), ratio (ours/ref <= value), info (no goal)
row() {
  local label=$1 key=$2 reflabel=$3 refkey=$4 kind=$5 val=$6
  local s m mm ref=- ratio=- goal=info result=- e shown
  s=$(stats "$key"); m=${s%% *}
  [ -z "${ERR[$key]:-}" ] || s=
  if [ -n "$s" ]; then mm=$(awk -v s="$s" 'BEGIN { split(s, a, " "); printf "(%s-%s)", a[2], a[3] }'); else m=ERROR; mm=; fi
  if [ -n "$refkey" ]; then
    ref=$(median "$refkey"); [ -n "$ref" ] && [ -z "${ERR[$refkey]:-}" ] || ref=ERROR
    if [ "$m" != ERROR ] && [ "$ref" != ERROR ]; then
      ratio=$(awk -v a="$m" -v b="$ref" 'BEGIN { r = a / b; printf (r < 0.1 ? "%.3fx" : "%.2fx"), r }')
    fi
  fi
  case $kind in
    ms)    goal="<= $val ms"
           if [ "$m" = ERROR ]; then result=MISS
           elif awk -v a="$m" -v b="$val" 'BEGIN { exit !(a <= b) }'; then result=PASS; else result=MISS; fi ;;
    ratio) goal="<= ${val}x $reflabel"
           if [ "$ratio" = - ]; then result=MISS
           elif awk -v a="$m" -v b="$ref" -v g="$val" 'BEGIN { exit !(a <= g * b) }'; then result=PASS; else result=MISS; fi ;;
  esac
  printf "$FMT" "$label" "$m" "$mm" "${reflabel:--}" "$ref" "$ratio" "$goal" "$result"
  shown="$m ms"; [ "$m" != ERROR ] || shown=ERROR
  [ "$result" = MISS ] && MISSED+=("$label: $shown, goal $goal$([ "$ratio" = - ] || echo " (ratio $ratio)")")
  for e in "$key" "$refkey"; do
    [ -n "$e" ] && [ -n "${ERR[$e]:-}" ] && printf '    ! %s: %s\n' "$e" "$(tr '\n' ' ' <<< "${ERR[$e]}")"
  done
  return 0
}
row "(a) install tiny@mT"               a "" ""     ms    20
row "(b) install files2000@mT"          b "(c) cp -rL" c ratio 1.0
if [ -n "$CC" ]; then
  row "    install tiny@mT vs Claude Code"      a "claude plugin" cca info ""
  row "    install files2000@mT vs Claude Code" b "claude plugin" ccb info ""
else
  echo "    (Claude Code comparison skipped: no CLAUDE_BIN and none in the conformance cache)"
fi
row "(d) no-op install tiny@mT"         d "" ""     info  ""
row "(e) list --json (6 installed)"     e "" ""     info  ""
row "(f) resolve tiny@mT --json"        f "" ""     ms    20
row "(h) details skills100@mT"          h "" ""     ms    20
row "(k) configure skills100@mT --json"  k "" ""     ms    20
if [ -n "$CC" ]; then
  row "    details skills100@mT vs Claude Code"   h "claude plugin" cch info ""
  row "    configure skills100@mT vs Claude Code" k "claude plugin" cck info ""
fi
row "(u3) no-op update files2000@mT"    u3 "cp -r" u3c info  ""
row "(r1) no-op reinstall files2000@mT" r1 "" ""     ms    10
row "(l1) no-op update --all, 500 installed" l1 "" ""           ms    100
row "(l2) outdated, 500 installed"          l2 "" ""           ms    50
row "(l3) install, 500 installed"           l3 "(l0) empty" l0 ratio 1.5
row "(l4) list --json, 500 installed"       l4 "" ""           ms    20
row "(l5) no-op sync, 500 installed"        l5 "" ""           ms    20
row "(z1) new version, 1 of 2000 changed"  z1 "(z0) cp -al" z0 ratio 1.2
row "(z2) same version written again"      z2 "(z0) cp -al" z0 info ""
row "(z6) install again after uninstall"   z6 "(z0) cp -al" z0 ratio 1.2
row "(z7) install at another scope"        z7 "(z0) cp -al" z0 ratio 1.2
row "(z3) first install s2k@mZ (8 MB)"     z3 "(z4) cp+sync" z4 ratio 1.0
if [ "$Z5" = ERROR ]; then
  printf "$FMT" "(z5) 10 versions on disk" ERROR "" "1 copy" - - "<= 1.3x 1 copy" MISS
  MISSED+=("(z5) 10 versions on disk: the updates failed")
else
  r=$(awk -v z="$Z5" 'BEGIN { exit !(z <= 1.3) }' && echo PASS || echo MISS)
  printf "$FMT" "(z5) 10 versions on disk (KiB)" "$ZK" "" "1 copy" "$Z1K" "${Z5}x" "<= 1.3x 1 copy" "$r"
  [ "$r" = PASS ] || MISSED+=("(z5) 10 versions on disk: ${Z5}x one copy, goal <= 1.3x")
fi
if ((GIT_ON)); then
  row "(g1) install files2000@mG (git, cold)" g1 "(g3) git clone" g3a ratio 1.0
  row "(g2) install big50@mG (git, cold)"     g2 "(g3) git clone" g3b ratio 1.0
  row "(g4) install b@mG, repo in git cache"  g4 "" ""            ms    50
  row "     same, entries pinned by sha"      g4p "" ""           ms    50
  if [ -n "$CC" ]; then
    row "     files2000@mG (git) vs Claude Code"   g1 "claude plugin" ccg1 info ""
    row "     big50@mG (git) vs Claude Code"       g2 "claude plugin" ccg2 info ""
  fi
  echo "    (git) requests served per command: $REQS"
  row "(g5) no-op marketplace update (git)"  g5 "" ""            ms    50
  row "(u1) no-op update files2000@mG (git)" u1 "" ""            ms    50
  row "     same, --no-refresh"               u1n "" ""           ms    50
  if [ -n "$CC" ]; then
    row "     no-op update (git) vs Claude Code" u1 "claude plugin" ccu1 info ""
  fi
  row "(u2) update --all, 20 git plugins"    u2 "--jobs 1" u2s    info  ""
  row "(s1) sync: 50 git plugins, 5 repos"    s1 "(s2) 1 by 1" s2  info  ""
  row "(s3) no-op sync, 50 installed"         s3 "" ""             ms    30
  row "(d1) install, 10 deps from 3 repos"    d1 "(d2) 10 installs" d2 info ""
  [ -z "$CC" ] || row "     same vs Claude Code"    d1 "claude plugin" d3 info ""
  row "(d4) no-op reinstall with 10 deps"     d4 "" ""             ms    20
else
  echo "    (git rows $GIT_NOTE)"
fi
if ((NPM_ON)); then
  row "(n1) install isodd@mN (npm, cold)"      n1 "" ""             ms    400
  if ((HAVE_CURL)); then
    row "     same vs one raw download"          n1 "(n2) curl" n2    ratio 1.5
    row "(n3) same, exact version seen before"   n3 "(n2) curl" n2    info  ""
  else
    echo "    ((n2) skipped: no curl on PATH; goal (n1) <= 1.5x (n2) not checked)"
    row "(n3) same, exact version seen before"   n3 "" ""             info  ""
  fi
  if [ -z "$CC" ]; then
    echo "    ((n4) Claude Code comparison skipped: no CLAUDE_BIN and none in the conformance cache)"
  elif ((HAVE_NPM)); then
    row "(n4) isodd@mN (npm) vs Claude Code"     n1 "claude plugin" ccn info ""
  else
    echo "    ((n4) Claude Code comparison skipped: no npm on PATH, which Claude Code needs for npm sources)"
  fi
else
  echo "    (npm rows $NPM_NOTE)"
fi
echo
echo "ratio = ours / reference (below 1 = we are faster). Medians of $RUNS runs$(
  ((GIT_ON)) && echo " (git: $GIT_RUNS)")$(((NPM_ON)) && echo " (npm: $NPM_RUNS, live registry)")${CC:+ (Claude Code: $CC_RUNS)}."
if ((HAVE_TIME)); then
  echo "peak RSS, one install files2000@mT: ours ${RSS_B}; cp -rL ${RSS_C}${RSS_CC:+; Claude Code ${RSS_CC}}"
  ((GIT_ON)) && echo "peak RSS, one install big50@mG (git): ours ${RSS_G2}; git clone --depth 1 ${RSS_G3} (largest process of its tree)"
else
  echo "peak RSS: skipped (/usr/bin/time with -f %M not available)"
fi
echo
if ((${#ERR[@]})); then
  echo "bench: ${#ERR[@]} operation(s) FAILED (see '!' lines): ${!ERR[*]}"
fi
if ((${#MISSED[@]})); then
  echo "bench: ${#MISSED[@]} goal(s) MISSED:"
  printf '  - %s\n' "${MISSED[@]}"
else
  echo "bench: all goals met"
fi
exit 0
