#!/usr/bin/env bash
# Run `plugin validate --json` over every marketplace of the shared corpus (../shared/corpus, 31
# repositories' data files) and print the findings counted by kind. Evidence that validate works
# on real catalogs: no crash (exit 0 or 1 only), and what it finds.
#
# Targets: each repository folder; when a repository has no index at its root, each
# `.claude-plugin/marketplace.json` inside it. The corpus holds only data files (marketplace.json,
# plugin.json, hooks.json, .mcp.json), so plugin folders and component files that hold none of
# those are absent: most `source-missing` and `path-not-found` findings are artifacts of the
# snapshot, not defects of the catalogs.
#
# Usage: scripts/validate-corpus.sh [CORPUS_DIR]   (needs python3 for the summary)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$here/../shared/corpus}"
if [ ! -d "$corpus" ]; then
    echo "validate-corpus: no corpus at $corpus (the shared workspace ../shared is absent);" >&2
    echo "pass a corpus folder as the first argument, e.g. testdata/corpus" >&2
    exit 2
fi
command -v python3 >/dev/null || { echo "validate-corpus: python3 is needed for the summary" >&2; exit 2; }

cargo build --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/debug/plugin"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

n=0
crashed=0
for repo in "$corpus"/*/; do
    repo="${repo%/}"
    targets=("$repo")
    if [ ! -f "$repo/.claude-plugin/marketplace.json" ] && [ ! -f "$repo/marketplace.json" ]; then
        mapfile -t targets < <(find "$repo" -path '*/.claude-plugin/marketplace.json' | sort)
        [ "${#targets[@]}" -gt 0 ] || targets=("$repo")
    fi
    for t in "${targets[@]}"; do
        n=$((n + 1))
        rc=0
        "$bin" validate "$t" --json >"$out/$n.json" 2>"$out/$n.err" || rc=$?
        if [ "$rc" -gt 1 ]; then
            crashed=$((crashed + 1))
            echo "UNEXPECTED exit $rc: $t" >&2
            cat "$out/$n.err" >&2
        fi
        printf '%s\t%s\n' "$rc" "${t#"$corpus"/}" >>"$out/index.tsv"
    done
done

python3 - "$out" <<'PY'
import collections, json, os, sys
out = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "index.tsv"))]
kinds = collections.Counter()
catalogs_with = collections.defaultdict(set)
passed = 0
for i, (rc, target) in enumerate(rows, 1):
    passed += rc == "0"
    try:
        d = json.load(open(os.path.join(out, f"{i}.json")))
    except ValueError:
        print(f"not JSON: {target}")
        continue
    files = ([d["manifest"]] if d["manifest"] else []) + d["contents"]
    for f in files:
        for sev in ("errors", "warnings"):
            for x in f[sev]:
                kinds[(sev[:-1], x["code"])] += 1
                catalogs_with[(sev[:-1], x["code"])].add(target.split("/")[0])
    status = "pass" if rc == "0" else "fail"
    e = sum(len(f["errors"]) for f in files)
    w = sum(len(f["warnings"]) for f in files)
    print(f"{status}  {e:4d} errors {w:4d} warnings  {target}")
print()
print(f"{len(rows)} targets, {passed} pass, {len(rows) - passed} fail")
print()
print("| severity | kind | findings | repositories |")
print("|---|---|---:|---:|")
for (sev, code), n in sorted(kinds.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
    print(f"| {sev} | `{code}` | {n} | {len(catalogs_with[(sev, code)])} |")
PY

if [ "$crashed" -gt 0 ]; then
    echo "$crashed target(s) ended with an unexpected exit code" >&2
    exit 1
fi
