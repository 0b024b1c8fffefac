# diff-setup.sh - sourced by the scripts that run Claude Code and ours side by side
# (command-diff.sh, configure-diff.sh, dependency-diff.sh, details-diff.sh).
#
# USAGE   . "$(dirname "$0")/lib/diff-setup.sh" NAME   (NAME: the script's, for messages)
# SETS    repo (this checkout), cc (Claude Code: CLAUDE_BIN, or the npm copy
#         scripts/conformance.sh installs), ours (PLUGIN_BIN; default: `cargo build`, then
#         target/debug/plugin), work (a fresh folder, its real path, removed on exit).
repo=$(cd "$(dirname "$0")/.." && pwd)
cc=${CLAUDE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/plugin-conformance/cc-2.1.328/node_modules/@anthropic-ai/claude-code-linux-x64/claude}
[ -x "$cc" ] || { echo "$1: no Claude Code at $cc (run scripts/conformance.sh once, or set CLAUDE_BIN)" >&2; exit 1; }
ours=${PLUGIN_BIN:-}
if [ -z "$ours" ]; then (cd "$repo" && cargo build -q) && ours="$repo/target/debug/plugin"; fi
# A relative PLUGIN_BIN still names the binary after the scripts change folder.
case $ours in /*) ;; *) ours="$PWD/$ours" ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
work=$(cd "$work" && pwd -P)
