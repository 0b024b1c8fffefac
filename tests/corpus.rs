//! The real-world corpus: every `marketplace.json` and `.claude-plugin/plugin.json` of 31 public
//! Claude Code marketplaces (see `testdata/corpus/ORIGIN.md` and `STATS.md`) goes through our
//! parsers. Nothing may panic, every catalog entry must be parsed or reported, every repo-root
//! catalog must load, and the totals must match the corpus statistics, counted here from the raw
//! JSON independently of our parser.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use plugin::manifest::parse_manifest;
use plugin::schema::MarketplaceManifest;
use serde_json::Value;

/// Catalogs that our schema rejects, and must keep rejecting: (path under the corpus, text the
/// error must contain). None of them is at a repo's `.claude-plugin/marketplace.json`, and
/// Claude Code 2.1.328 refuses each one too (spec §2.6: missing `name` → `name: Invalid input:
/// expected string, received undefined`; missing `plugins` → `plugins: Invalid input: expected
/// array, received undefined`).
const EXPECTED_REJECTIONS: &[(&str, &str)] = &[
    // Not a marketplace: the project's own npm-CLI registry, a top-level `agents` array with no
    // `name`, `owner` or `plugins` (STATS.md §30).
    (
        "davila7__claude-code-templates/cli-tool/components/.claude-plugin/marketplace.json",
        "name: Invalid input: expected string, received undefined, plugins: Invalid input: expected array, received undefined",
    ),
    // A vendored copy of the davila7 file above inside an aggregator's plugin folder.
    (
        "kivilaid__plugin-marketplace/plugins/davila7-claude-code-templates/cli-tool/components/.claude-plugin/marketplace.json",
        "name: Invalid input: expected string, received undefined, plugins: Invalid input: expected array, received undefined",
    ),
    // Kimi's format: no `name` and no `owner`, a bare git URL string as source. Only Kimi reads
    // `.kimi-plugin/`; Claude Code would refuse it for the missing name.
    (
        "EveryInc__compound-engineering-plugin/.kimi-plugin/marketplace.json",
        "name: Invalid input: expected string, received undefined",
    ),
];

/// Accepted catalogs with defective entries: (path, how many entries, text every defect
/// contains). Every other catalog must parse with no problems and no defects.
const EXPECTED_DEFECTS: &[(&str, usize, &str)] = &[
    // GitHub Copilot CLI format: 92 string sources written `plugins/x`, without `./`. Claude Code
    // refuses those at install too (spec §4.1: `"plugins/a"` → `source: Invalid string: must
    // start with "./"`); its 38 `github` sources are fine. The catalog itself loads.
    (
        "github__awesome-copilot/.github/plugin/marketplace.json",
        92,
        "source: Invalid string: must start with \"./\"",
    ),
];

/// `.claude-plugin/plugin.json` files our manifest parser refuses, with the text the error must
/// contain. Every one is a manifest Claude Code 2.1.328 refuses too, with the same errors (checked
/// with its `plugin validate` on 2026-12-07; `scripts/validate-diff.sh` repeats it).
const EXPECTED_MANIFEST_FAILURES: &[(&str, &str)] = &[
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/plugin-enhancements/plugin-backups/ai-sdk-agents_20251019_193634/.claude-plugin/plugin.json",
        "dependencies: Invalid input: expected array",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/plugin-enhancements/plugin-backups/ai-sdk-agents_20251020_025914/.claude-plugin/plugin.json",
        "dependencies: Invalid input: expected array",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/plugin-enhancements/plugin-backups/devops-automation-pack_20251019_163103/.claude-plugin/plugin.json",
        "hooks: Invalid string: must end with \".json\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/plugin-enhancements/plugin-backups/devops-automation-pack_20251020_012013/.claude-plugin/plugin.json",
        "hooks: Invalid string: must end with \".json\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/plugin-enhancements/plugin-backups/openbb-terminal_20251020_071237/.claude-plugin/plugin.json",
        "dependencies: Invalid input: expected array",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/plugin-enhancements/plugin-backups/security-agent_20251019_163445/.claude-plugin/plugin.json",
        "agents: Invalid string: must end with \".md\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/plugin-enhancements/plugin-backups/security-agent_20251020_012159/.claude-plugin/plugin.json",
        "agents: Invalid string: must end with \".md\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skill-structure-cleanup-20251108-073936/plugins/ai-ml/ai-sdk-agents/.claude-plugin/plugin.json",
        "dependencies: Invalid input: expected array",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skill-structure-cleanup-20251108-073936/plugins/business-tools/excel-analyst-pro/.claude-plugin/plugin.json",
        "skills.0: Invalid string: must start with \"./\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skill-structure-cleanup-20251108-073936/plugins/examples/security-agent/.claude-plugin/plugin.json",
        "agents: Invalid string: must end with \".md\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skill-structure-cleanup-20251108-073936/plugins/finance/openbb-terminal/.claude-plugin/plugin.json",
        "dependencies: Invalid input: expected array",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skill-structure-cleanup-20251108-073936/plugins/packages/devops-automation-pack/.claude-plugin/plugin.json",
        "hooks: Invalid string: must end with \".json\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skills-migration-20251108-070147/plugins/ai-ml/ai-sdk-agents/.claude-plugin/plugin.json",
        "dependencies: Invalid input: expected array",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skills-migration-20251108-070147/plugins/business-tools/excel-analyst-pro/.claude-plugin/plugin.json",
        "skills.0: Invalid string: must start with \"./\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skills-migration-20251108-070147/plugins/examples/security-agent/.claude-plugin/plugin.json",
        "agents: Invalid string: must end with \".md\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skills-migration-20251108-070147/plugins/finance/openbb-terminal/.claude-plugin/plugin.json",
        "dependencies: Invalid input: expected array",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/backups/skills-migration-20251108-070147/plugins/packages/devops-automation-pack/.claude-plugin/plugin.json",
        "hooks: Invalid string: must end with \".json\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/plugins/saas-packs/langfuse-pack/.claude-plugin/plugin.json",
        "skills.0: Invalid string: must start with \"./\"",
    ),
    (
        "jeremylongshore__claude-code-plugins-plus-skills/templates/agent-plugin/.claude-plugin/plugin.json",
        "agents: Invalid string: must end with \".md\"",
    ),
    (
        "wshobson__agents/plugins/pptx-deck-creation/.claude-plugin/plugin.json",
        "agents.0: Invalid string: must end with \".md\"",
    ),
];

/// Figures of STATS.md ("Totals"): plugin entries in the 28 repo-root Claude-format catalogs.
const STATS_MARKETPLACES: usize = 28;
const STATS_PLUGINS: usize = 1380;
const STATS_KINDS: &[(&str, usize)] = &[
    ("git-subdir", 112),
    ("github", 40),
    ("relative", 1024),
    ("url", 204),
];
/// STATS.md: `.claude-plugin/plugin.json` files in all trees.
const STATS_PLUGIN_JSON: usize = 1806;
/// `marketplace.json` files in the corpus, any location (STATS.json `all_marketplace_files`).
const CORPUS_MARKETPLACE_FILES: usize = 51;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus")
}

/// Every regular file under `dir`, in no particular order (symlinks are not followed).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let rd = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for e in rd {
        let e = e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let ty = e.file_type().unwrap();
        if ty.is_dir() {
            walk(&e.path(), out);
        } else if ty.is_file() {
            out.push(e.path());
        }
    }
}

/// `path` relative to the corpus, written with `/` on every OS (as STATS.json keys are).
fn rel(path: &Path) -> String {
    let parts: Vec<_> = path
        .strip_prefix(corpus_root())
        .unwrap()
        .iter()
        .map(|c| c.to_string_lossy())
        .collect();
    parts.join("/")
}

fn read_json(path: &Path) -> (String, Value) {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: cannot read as UTF-8: {e}", rel(path)));
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", rel(path)));
    (text, value)
}

/// The source kind of a raw entry, read straight from the JSON (not through our parser), with
/// STATS.md's categories: `relative` = a `./path` (or `.`) string; an object → its `source`.
fn raw_kind(entry: &Value) -> String {
    match entry.get("source") {
        None => "missing".into(),
        Some(Value::String(s)) if s == "." || s.starts_with("./") => "relative".into(),
        Some(Value::String(_)) => "other-string".into(),
        Some(Value::Object(o)) => match o.get("source") {
            Some(Value::String(k)) => k.clone(),
            _ => "other-object".into(),
        },
        Some(_) => "other".into(),
    }
}

/// A `<repo>/.claude-plugin/marketplace.json`: the file `marketplace add owner/repo` reads.
fn is_canonical(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    parts.len() == 3 && parts[1] == ".claude-plugin" && parts[2] == "marketplace.json"
}

fn count(map: &mut BTreeMap<String, usize>, key: &str) {
    *map.entry(key.to_string()).or_default() += 1;
}

fn kinds_str(m: &BTreeMap<String, usize>) -> String {
    m.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Accepted {
    entries: usize,
    problems: Vec<String>,
    /// (entry name, its defects)
    defective: Vec<(String, Vec<String>)>,
    kinds: BTreeMap<String, usize>,
}

struct Report {
    rel: String,
    canonical: bool,
    /// Length of the raw `plugins` array, when it is an array.
    raw_plugins: Option<usize>,
    raw_kinds: BTreeMap<String, usize>,
    outcome: Result<Accepted, String>,
}

fn check_catalog(path: &Path, failures: &mut Vec<String>) -> Report {
    let rel = rel(path);
    let (_, value) = read_json(path);
    let raw_entries: Option<Vec<Value>> = value
        .get("plugins")
        .and_then(Value::as_array)
        .map(|a| a.to_vec());
    let mut raw_kinds = BTreeMap::new();
    for e in raw_entries.iter().flatten() {
        count(&mut raw_kinds, &raw_kind(e));
    }
    let parsed = catch_unwind(AssertUnwindSafe(|| MarketplaceManifest::from_value(value)));
    let outcome = match parsed {
        Err(_) => {
            failures.push(format!("{rel}: MarketplaceManifest::from_value panicked"));
            Err("panic".to_string())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(m)) => {
            let mut kinds = BTreeMap::new();
            for e in &m.entries {
                let kind = e.source.kind().to_string();
                // The parser's kind must agree with the raw JSON, entry by entry.
                let raw = raw_entries
                    .as_ref()
                    .and_then(|r| r.get(e.index))
                    .map(raw_kind)
                    .unwrap_or_else(|| "no such index".into());
                let agrees = raw == kind
                    // an unreadable source becomes `invalid`, with a defect saying why
                    || (kind == "invalid" && !e.defects.is_empty())
                    // a string other than `./x`: a bare name under pluginRoot, or a git URL
                    || (raw == "other-string" && (kind == "relative" || kind == "url"));
                if !agrees {
                    failures.push(format!(
                        "{rel}: entry {} ({}): parser says source kind {kind}, raw JSON says {raw}",
                        e.index, e.name
                    ));
                }
                count(&mut kinds, &kind);
            }
            let mut indices: Vec<usize> = m
                .entries
                .iter()
                .map(|e| e.index)
                .chain(m.problems.iter().map(|p| p.index))
                .collect();
            indices.sort_unstable();
            let n = raw_entries.as_ref().map_or(0, Vec::len);
            if indices != (0..n).collect::<Vec<_>>() {
                failures.push(format!(
                    "{rel}: {} entries + {} problems do not cover plugins[0..{n}] exactly once",
                    m.entries.len(),
                    m.problems.len()
                ));
            }
            Ok(Accepted {
                entries: m.entries.len(),
                problems: m.problems.iter().map(|p| p.message.clone()).collect(),
                defective: m
                    .entries
                    .iter()
                    .filter(|e| !e.defects.is_empty())
                    .map(|e| {
                        (
                            e.name.clone(),
                            e.defects.iter().map(ToString::to_string).collect(),
                        )
                    })
                    .collect(),
                kinds,
            })
        }
    };
    Report {
        canonical: is_canonical(&rel),
        rel,
        raw_plugins: raw_entries.as_ref().map(Vec::len),
        raw_kinds,
        outcome,
    }
}

/// `STATS.json`: per repo, the catalogs it lists (path → plugin count), keyed by corpus path.
fn stats_catalogs(stats: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for repo in stats["repos"].as_array().expect("STATS.json repos[]") {
        let dir = repo["repo"].as_str().unwrap().replace('/', "__");
        for m in repo["marketplaces"].as_array().unwrap() {
            let path = format!("{dir}/{}", m["path"].as_str().unwrap());
            out.insert(path, m["n_plugins"].as_u64().unwrap_or(0));
        }
        for p in repo["all_marketplace_files"].as_array().unwrap() {
            out.entry(format!("{dir}/{}", p.as_str().unwrap()))
                .or_insert(u64::MAX);
        }
    }
    out
}

#[test]
fn every_catalog_and_manifest_of_the_corpus() {
    let started = Instant::now();
    let root = corpus_root();
    assert!(
        root.join("STATS.md").is_file(),
        "corpus missing at {}",
        root.display()
    );
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut failures: Vec<String> = Vec::new();

    // ---- marketplace.json, any location ----
    let catalogs: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "marketplace.json"))
        .collect();
    let reports: Vec<Report> = catalogs
        .iter()
        .map(|p| check_catalog(p, &mut failures))
        .collect();

    // (a) every file processed, and exactly the files the corpus statistics list.
    let (_, stats) = read_json(&root.join("STATS.json"));
    let listed = stats_catalogs(&stats);
    let walked: BTreeSet<&str> = reports.iter().map(|r| r.rel.as_str()).collect();
    assert_eq!(reports.len(), CORPUS_MARKETPLACE_FILES);
    assert_eq!(
        walked,
        listed.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        "marketplace.json files on disk vs STATS.json"
    );
    for r in &reports {
        let n = listed[&r.rel];
        if n != u64::MAX && r.raw_plugins.unwrap_or(0) as u64 != n {
            failures.push(format!(
                "{}: {} raw plugins, STATS.json says {n}",
                r.rel,
                r.raw_plugins.unwrap_or(0)
            ));
        }
    }

    // (b) accepted catalogs: every entry parsed or reported.
    for r in &reports {
        if let Ok(a) = &r.outcome
            && Some(a.entries + a.problems.len()) != r.raw_plugins
        {
            failures.push(format!(
                "{}: {} entries + {} problems != {:?} plugins",
                r.rel,
                a.entries,
                a.problems.len(),
                r.raw_plugins
            ));
        }
    }

    // (c) rejections: exactly the expected ones, never a repo-root catalog.
    let expected: BTreeMap<&str, &str> = EXPECTED_REJECTIONS.iter().copied().collect();
    for r in &reports {
        match (&r.outcome, expected.get(r.rel.as_str())) {
            (Err(msg), _) if r.canonical => {
                failures.push(format!("{}: repo-root catalog rejected: {msg}", r.rel))
            }
            (Err(msg), Some(want)) if !msg.contains(want) => failures.push(format!(
                "{}: rejected for another reason: {msg} (expected: {want})",
                r.rel
            )),
            (Err(msg), None) => failures.push(format!("{}: unexpectedly rejected: {msg}", r.rel)),
            (Ok(_), Some(want)) => failures.push(format!(
                "{}: accepted, but expected a rejection containing: {want}",
                r.rel
            )),
            _ => {}
        }
    }
    for (path, _) in EXPECTED_REJECTIONS {
        assert!(!is_canonical(path), "{path} is a repo-root catalog");
        assert!(walked.contains(path), "{path} is not in the corpus");
    }

    // Entry-level: no entry is unaddressable anywhere; defects only where expected.
    let want_defects: BTreeMap<&str, (usize, &str)> = EXPECTED_DEFECTS
        .iter()
        .map(|(p, n, w)| (*p, (*n, *w)))
        .collect();
    for r in &reports {
        let Ok(a) = &r.outcome else { continue };
        for p in &a.problems {
            failures.push(format!("{}: entry not addressable: {p}", r.rel));
        }
        let (n, want) = want_defects.get(r.rel.as_str()).copied().unwrap_or((0, ""));
        if a.defective.len() != n {
            failures.push(format!(
                "{}: {} defective entries, expected {n}: {:?}",
                r.rel,
                a.defective.len(),
                a.defective.iter().take(5).collect::<Vec<_>>()
            ));
        }
        for (name, defects) in &a.defective {
            if defects.iter().any(|d| !d.contains(want)) {
                failures.push(format!(
                    "{}: entry {name}: unexpected defects {defects:?}",
                    r.rel
                ));
            }
        }
    }
    for (path, _, _) in EXPECTED_DEFECTS {
        assert!(walked.contains(path), "{path} is not in the corpus");
    }

    // (d) totals over the repo-root catalogs, from the raw JSON, against STATS.md / STATS.json;
    // and our parser's kinds against the raw ones.
    let canonical: Vec<&Report> = reports.iter().filter(|r| r.canonical).collect();
    let mut raw_total = 0;
    let mut raw_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut parsed_total = 0;
    let mut parsed_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in &canonical {
        raw_total += r.raw_plugins.unwrap_or(0);
        for (k, n) in &r.raw_kinds {
            *raw_kinds.entry(k.clone()).or_default() += n;
        }
        if let Ok(a) = &r.outcome {
            parsed_total += a.entries + a.problems.len();
            for (k, n) in &a.kinds {
                *parsed_kinds.entry(k.clone()).or_default() += n;
            }
        }
    }
    let stats_kinds: BTreeMap<String, usize> = STATS_KINDS
        .iter()
        .map(|(k, n)| (k.to_string(), *n))
        .collect();
    let json_kinds: BTreeMap<String, usize> = stats["source_types"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap() as usize))
        .collect();
    assert_eq!(canonical.len(), STATS_MARKETPLACES, "repo-root catalogs");
    assert_eq!(stats["totals"]["marketplaces"], STATS_MARKETPLACES);
    assert_eq!(stats["totals"]["plugins"], STATS_PLUGINS);
    assert_eq!(json_kinds, stats_kinds, "STATS.json vs STATS.md");
    assert_eq!(
        raw_total, STATS_PLUGINS,
        "plugin entries in repo-root catalogs"
    );
    assert_eq!(raw_kinds, stats_kinds, "source kinds in repo-root catalogs");
    assert_eq!(parsed_total, STATS_PLUGINS, "entries parsed or reported");
    assert_eq!(
        parsed_kinds, raw_kinds,
        "our parser's source kinds vs raw JSON"
    );

    // ---- .claude-plugin/plugin.json ----
    let manifests: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name().is_some_and(|n| n == "plugin.json")
                && p.parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == ".claude-plugin")
        })
        .collect();
    let mut manifest_failures: Vec<(String, String)> = Vec::new();
    for path in &manifests {
        let text = fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{}: cannot read as UTF-8: {e}", rel(path)));
        let plugin = path
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match catch_unwind(AssertUnwindSafe(|| {
            parse_manifest(&text, path.to_path_buf(), &plugin)
        })) {
            Err(_) => failures.push(format!("{}: parse_manifest panicked", rel(path))),
            Ok(Err(e)) => manifest_failures.push((rel(path), e.to_string())),
            Ok(Ok(m)) => {
                if m.name.is_empty() {
                    failures.push(format!("{}: accepted with an empty name", rel(path)));
                }
            }
        }
    }
    assert_eq!(
        manifests.len(),
        STATS_PLUGIN_JSON,
        ".claude-plugin/plugin.json files"
    );
    assert_eq!(stats["totals"]["plugin_json"], STATS_PLUGIN_JSON);
    let want_manifest: BTreeMap<&str, &str> = EXPECTED_MANIFEST_FAILURES.iter().copied().collect();
    for (path, msg) in &manifest_failures {
        match want_manifest.get(path.as_str()) {
            Some(want) if msg.contains(want) => {}
            _ => failures.push(format!("{path}: manifest unexpectedly refused: {msg}")),
        }
    }
    for (path, _) in EXPECTED_MANIFEST_FAILURES {
        if !manifest_failures.iter().any(|(p, _)| p == path) {
            failures.push(format!("{path}: manifest accepted, expected a refusal"));
        }
    }

    // ---- summary ----
    let mut out = String::new();
    writeln!(
        out,
        "\n{:<95} {:>4} {:>8} {:>7} {:>7} {:>7}  kinds (parser)",
        "marketplace.json", "root", "plugins", "entries", "problems", "defects"
    )
    .unwrap();
    for r in &reports {
        let plugins = r.raw_plugins.map_or("-".to_string(), |n| n.to_string());
        let root_mark = if r.canonical { "yes" } else { "" };
        match &r.outcome {
            Ok(a) => writeln!(
                out,
                "{:<95} {:>4} {:>8} {:>7} {:>7} {:>7}  {}",
                r.rel,
                root_mark,
                plugins,
                a.entries,
                a.problems.len(),
                a.defective.len(),
                kinds_str(&a.kinds)
            ),
            Err(msg) => writeln!(
                out,
                "{:<95} {:>4} {:>8}  REJECTED: {msg}",
                r.rel, root_mark, plugins
            ),
        }
        .unwrap();
    }
    let accepted = reports.iter().filter(|r| r.outcome.is_ok()).count();
    let sum = |f: &dyn Fn(&Accepted) -> usize| -> usize {
        reports
            .iter()
            .filter_map(|r| r.outcome.as_ref().ok())
            .map(f)
            .sum()
    };
    writeln!(
        out,
        "\ncatalogs: {} files, {accepted} accepted, {} rejected; all accepted: {} entries, {} problems, {} with defects",
        reports.len(),
        reports.len() - accepted,
        sum(&|a| a.entries),
        sum(&|a| a.problems.len()),
        sum(&|a| a.defective.len()),
    )
    .unwrap();
    writeln!(
        out,
        "repo-root catalogs: {} files, {raw_total} entries; kinds (raw JSON) {}; kinds (parser) {}",
        canonical.len(),
        kinds_str(&raw_kinds),
        kinds_str(&parsed_kinds)
    )
    .unwrap();
    writeln!(
        out,
        "plugin.json: {} files, {} refused",
        manifests.len(),
        manifest_failures.len()
    )
    .unwrap();
    for (path, msg) in &manifest_failures {
        writeln!(out, "  refused {path}: {}", msg.replace('\n', " ")).unwrap();
    }
    for r in &reports {
        let Ok(a) = &r.outcome else { continue };
        for p in &a.problems {
            writeln!(out, "  problem {}: {p}", r.rel).unwrap();
        }
        let mut by_defect: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, defects) in &a.defective {
            for d in defects {
                by_defect.entry(d.as_str()).or_default().push(name);
            }
        }
        for (d, names) in by_defect {
            writeln!(
                out,
                "  defect {} ×{}: {d} (e.g. {})",
                r.rel,
                names.len(),
                names[0]
            )
            .unwrap();
        }
    }
    writeln!(out, "elapsed: {:?}", started.elapsed()).unwrap();
    println!("{out}");

    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
