#!/usr/bin/env bash
# details-diff.sh - compare Claude Code 2.1.328's `plugin details` with ours on real plugins.
#
# For each marketplace folder given (a fetched public marketplace: its relative-path plugins),
# both tools add it and install every plugin in a fresh throw-away home, then print `details`
# of each; the two texts are compared line by line. A plugin counts as
#   SAME        byte for byte the same text
#   CLOSE       same lines but for token figures, each within 10 % of Claude Code's (or both
#               under 20 tokens)
#   DIFFERENT   anything else (the diff is printed)
# Plugins either tool cannot install are skipped (and counted).
#
# USAGE   scripts/details-diff.sh <marketplace-folder>...
# NEEDS   jq; Claude Code (CLAUDE_BIN, or the npm copy scripts/conformance.sh installs); our
#         binary (PLUGIN_BIN; default: `cargo build`, then target/debug/plugin).
# OUTPUT  DIFFERENT blocks, then "details-diff: N plugins: S same, C close, D different,
#         K skipped"; exit 1 when any is DIFFERENT.
set -euo pipefail
[ $# -gt 0 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 1; }
. "$(dirname "$0")/lib/diff-setup.sh" details-diff
same=0 close=0 different=0 skipped=0
for mkt in "$@"; do
  mkt=$(cd "$mkt" && pwd)
  index="$mkt/.claude-plugin/marketplace.json"
  [ -f "$index" ] || { echo "details-diff: $mkt has no .claude-plugin/marketplace.json" >&2; continue; }
  name=$(jq -r .name "$index")
  home="$work/home-$name" cfg="$work/cfg-$name"
  mkdir -p "$home" "$cfg"
  if ! HOME="$home" "$cc" plugin marketplace add "$mkt" >/dev/null 2>&1; then
    # A reserved name (Anthropic's own catalogs) is added only from GitHub: use a renamed copy.
    cp -r "$mkt" "$work/copy-$name"
    mkt="$work/copy-$name" index="$work/copy-$name/.claude-plugin/marketplace.json" name="details-diff-copy"
    jq --arg n "$name" '.name = $n' "$index" >"$index.tmp" && mv "$index.tmp" "$index"
    HOME="$home" "$cc" plugin marketplace add "$mkt" >/dev/null 2>&1 || true
  fi
  CLAUDE_CONFIG_DIR="$cfg" "$ours" marketplace add "$mkt" >/dev/null 2>&1 || true
  for p in $(jq -r '.plugins[] | select(.source | type == "string") | .name' "$index"); do
    if ! HOME="$home" "$cc" plugin install "$p@$name" >/dev/null 2>&1 ||
       ! CLAUDE_CONFIG_DIR="$cfg" "$ours" install "$p@$name" >/dev/null 2>&1; then
      skipped=$((skipped + 1)); continue
    fi
    HOME="$home" "$cc" plugin details "$p@$name" >"$work/cc.txt" 2>&1 || true
    CLAUDE_CONFIG_DIR="$cfg" "$ours" details "$p@$name" >"$work/ours.txt" 2>&1 || true
    if cmp -s "$work/cc.txt" "$work/ours.txt"; then same=$((same + 1)); continue; fi
    # Same lines but for the figures, each within 10 %?
    if python3 - "$work/cc.txt" "$work/ours.txt" <<'PY'
import re, sys
a = open(sys.argv[1]).read().splitlines(); b = open(sys.argv[2]).read().splitlines()
def figs(line):
    out = []
    for m in re.finditer(r'(< 20|~[0-9.,]+[km]?)', line):
        t = m.group(1)
        if t == '< 20': out.append(None); continue
        t = t[1:].replace(',', ''); mult = 1000 if t.endswith('k') else 1_000_000 if t.endswith('m') else 1
        out.append(float(t.rstrip('km')) * mult)
    return out
ok = len(a) == len(b)
for x, y in zip(a, b):
    if not ok: break
    if re.sub(r'(< 20|~[0-9.,]+[km]?)', '#', x) != re.sub(r'(< 20|~[0-9.,]+[km]?)', '#', y): ok = False; break
    for f, g in zip(figs(x), figs(y)):
        if f is None or g is None:
            if not ((f is None or f < 20) and (g is None or g < 20)) and abs((f or 0) - (g or 0)) > 20: ok = False
        elif abs(f - g) > 0.1 * f + 10: ok = False
sys.exit(0 if ok else 1)
PY
    then close=$((close + 1)); else
      different=$((different + 1))
      echo "DIFFERENT $p@$name"
      diff "$work/cc.txt" "$work/ours.txt" | sed 's/^/    /' | head -20 || true
    fi
  done
done
total=$((same + close + different + skipped))
echo "details-diff: $total plugins: $same same, $close close, $different different, $skipped skipped"
[ "$different" -eq 0 ]
