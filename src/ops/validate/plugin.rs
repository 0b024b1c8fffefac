//! Checks of one plugin folder: its plugin.json, its component paths, the symlinks an install
//! would skip, and the component files Claude Code's validator reads (commands, hooks.json,
//! .mcp.json, a root CLAUDE.md).

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::content::{check_frontmatter, check_hooks_file};
use super::{
    Bom, FileKind, FileReport, Findings, Issue, ValidateReport, not_kebab, read_json, unknown_field,
};
use crate::cache::SkipReason;
use crate::cache::copy::{LinkPolicy, plan_plugin_tree};
use crate::definition::paths::{PathProblem, PluginRoot, markdown_files};
use crate::schema::plugin_manifest::{self, Document};

/// Top-level keys of plugin.json: Claude Code's schema fields, and `icon` (its directory checks
/// read it).
pub(super) fn manifest_keys() -> Vec<&'static str> {
    let mut known = plugin_manifest::PLUGIN_MANIFEST.field_names();
    known.push("icon");
    known
}

/// Keys that belong in a marketplace entry; in plugin.json they are harmless but unused.
pub(super) const ENTRY_ONLY_KEYS: &[&str] = &[
    "source",
    "strict",
    "category",
    "tags",
    "relevance",
    "headers",
    "headersHelper",
];

/// Component keys whose paths are checked, and the default folder a manifest value replaces.
const COMPONENTS: &[(&str, Option<&str>)] = &[
    ("commands", Some("commands")),
    ("agents", Some("agents")),
    ("skills", None),
    ("hooks", None),
    ("mcpServers", None),
    ("lspServers", None),
    ("outputStyles", Some("output-styles")),
    ("workflows", Some("workflows")),
    ("themes", Some("themes")),
    ("monitors", None),
    ("types", None),
];

type ReadError = (PathBuf, io::Error);

/// A checked plugin.json.
pub(super) struct CheckedManifest {
    pub file: PathBuf,
    /// Its findings, component paths included.
    pub findings: Findings,
    /// Its keys, when it is a JSON object.
    pub raw: Option<Map<String, Value>>,
}

/// What one plugin folder holds, checked.
pub(super) struct PluginFolder {
    pub manifest: Option<CheckedManifest>,
    /// Findings about the folder itself (symlinks an install would skip).
    pub folder: Findings,
    pub contents: Vec<FileReport>,
}

/// `plugin validate <plugin folder>` (or its plugin.json).
pub(super) fn validate_plugin_folder(
    root: &Path,
    manifest: Option<&Path>,
    strict: bool,
) -> Result<ValidateReport, ReadError> {
    // A plugin inside a marketplace folder is installed from it: links into the marketplace
    // are copied then, so judge them as the install would.
    let container = root
        .ancestors()
        .skip(1)
        .find(|d| crate::marketplace::discover::find_index(d).is_some())
        .map(Path::to_path_buf);
    let checked = check_plugin_folder(root, manifest, container.as_deref(), Listed::Alone)?;
    let checked_name = checked
        .manifest
        .as_ref()
        .and_then(|m| m.raw.as_ref())
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .map(String::from);
    let (file, mut findings) = match checked.manifest {
        Some(m) => (m.file, m.findings),
        None => (root.to_path_buf(), Findings::default()),
    };
    findings.absorb(checked.folder, "");
    // Without a manifest Claude Code reports `manifest: null`; folder findings still need a home.
    let has_findings = !findings.errors.is_empty() || !findings.warnings.is_empty();
    let report = (manifest.is_some() || has_findings).then(|| FileReport {
        file: file.clone(),
        kind: FileKind::Plugin,
        findings,
    });
    // Claude Code fills `provides` only for a manifest without errors.
    let provides = report
        .as_ref()
        .filter(|r| manifest.is_some() && r.findings.errors.is_empty())
        .and(checked_name.as_deref())
        .and_then(|name| super::provides::provides(root, &file, name));
    Ok(ValidateReport {
        strict,
        target: file,
        manifest: report,
        contents: checked.contents,
        provides,
        unexpected: false,
    })
}

/// Check the plugin in `root` with manifest `manifest`; `container` is the marketplace root
/// when the plugin is installed from one (links into it are copied, not skipped).
pub(super) fn check_plugin_folder(
    root: &Path,
    manifest: Option<&Path>,
    container: Option<&Path>,
    listed: Listed,
) -> Result<PluginFolder, ReadError> {
    // The same rule as install: a manifest linked out of the marketplace (or, without one, out
    // of the plugin) is not read.
    let escape = manifest.and_then(|file| {
        crate::containment::real_path_inside(file, container.unwrap_or(root)).err()
    });
    let manifest = match manifest {
        None => None,
        Some(file) if let Some(e) = escape => Some(CheckedManifest {
            file: file.to_path_buf(),
            findings: Findings {
                errors: vec![Issue::escape("manifest-escapes", "Manifest", &e, "plugin")],
                warnings: Vec::new(),
            },
            raw: None,
        }),
        Some(file) => Some(match read_json(file, "", Bom::Skip)? {
            Err(issue) => CheckedManifest {
                file: file.to_path_buf(),
                findings: Findings {
                    errors: vec![issue],
                    warnings: Vec::new(),
                },
                raw: None,
            },
            Ok(value) => {
                let (mut findings, raw) = check_manifest(&value, listed);
                if let Some(raw) = &raw {
                    let paths = check_component_paths(root, container, raw, true);
                    findings.errors.extend(paths.errors);
                    findings.warnings.extend(paths.warnings);
                }
                CheckedManifest {
                    file: file.to_path_buf(),
                    findings,
                    raw,
                }
            }
        }),
    };
    let raw = manifest.as_ref().and_then(|m| m.raw.as_ref());
    let contents = check_contents(root, container.unwrap_or(root), raw)?;
    Ok(PluginFolder {
        manifest,
        folder: skipped_symlinks(root, container),
        contents,
    })
}

/// plugin.json's own fields: Claude Code's schema (its errors and the hooks it drops), then
/// our warnings: names, missing version/description/author, unknown and misplaced keys.
pub(super) fn check_manifest(
    value: &Value,
    listed: Listed,
) -> (Findings, Option<Map<String, Value>>) {
    let mut f = Findings::default();
    let check = plugin_manifest::check(value, Document::PluginJson);
    for e in check.all() {
        // Claude Code's validate names the whole document "root".
        let path = if e.path.is_empty() {
            "root"
        } else {
            e.path.as_str()
        };
        f.error(path, "schema", e.message.clone());
    }
    for note in &check.hook_notes {
        f.warn("hooks", "hook-ignored", format!("{note} at runtime"));
    }
    let Value::Object(raw) = value else {
        return (f, None);
    };
    // Claude Code judges name, version, description and author only of a manifest that passed.
    let passed = check.errors.is_empty() && check.display_faults.is_empty();
    let absent = |k: &str| match raw.get(k) {
        None | Some(Value::Null | Value::Bool(false)) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    if passed && let Some(Value::String(name)) = raw.get("name") {
        if !crate::schema::names::is_kebab(name) {
            f.warn("name", "name-not-kebab", not_kebab(name));
        }
        reserved_name(name, listed, &mut f);
    }
    if passed && absent("version") {
        f.warn(
            "version",
            "missing-version",
            "No version specified. Consider adding a version following semver (e.g., \"1.0.0\")",
        );
    }
    if passed && absent("description") {
        f.warn(
            "description",
            "missing-description",
            "No description provided. Adding a description helps users understand what your plugin does",
        );
    }
    if passed && absent("author") {
        f.warn(
            "author",
            "missing-author",
            "No author information provided. Consider adding author details for plugin attribution",
        );
    }
    ignored_field_warnings(raw, &mut f);
    dependency_warnings(raw, &mut f);
    let known = manifest_keys();
    for (key, _) in raw {
        if ENTRY_ONLY_KEYS.contains(&key.as_str()) {
            f.warn(
                key.as_str(),
                "misplaced-field",
                format!(
                    "Field '{key}' belongs in the marketplace entry (marketplace.json), not plugin.json. It's harmless here but unused — Claude Code ignores it at load time."
                ),
            );
        } else if !known.contains(&key.as_str()) {
            f.warnings.push(unknown_field(key, key, &known));
        }
    }
    let invalid_input: Vec<String> = check
        .errors
        .iter()
        .filter(|e| e.message == "Invalid input")
        .map(|e| e.path.clone())
        .collect();
    super::fields::check_fields(raw, &invalid_input, &mut f);
    for key in ["monitors", "themes"] {
        if raw.contains_key(key) {
            f.warn(
                key,
                "experimental-top-level",
                format!(
                    "'{key}' is an experimental component; declare it under 'experimental.{key}' instead of at the top level. Top-level still loads for now but will be removed in a future release."
                ),
            );
        }
    }
    (f, Some(raw.clone()))
}

/// Whose name rules apply to a plugin.json: a plugin validated on its own, or one a catalog
/// lists under the entry name given.
#[derive(Debug, Clone, Copy)]
pub(super) enum Listed<'a> {
    Alone,
    Entry(&'a str),
}

/// Claude Code's rule against names that pass as Anthropic's own: judged of a plugin on its
/// own, and of a listed one whose plugin.json renames it (the entry name is judged with the
/// catalog, where official catalogs may use such names).
fn reserved_name(name: &str, listed: Listed, f: &mut Findings) {
    use crate::schema::names::{ReservedName, reserved_plugin_name};
    let judged = match listed {
        Listed::Alone => true,
        Listed::Entry(entry) => entry != name,
    };
    let Some(found) = judged.then(|| reserved_plugin_name(name)).flatten() else {
        return;
    };
    let tail = match listed {
        Listed::Alone => {
            " If this is one of Anthropic's own plugins, validate the marketplace that lists it."
        }
        Listed::Entry(_) => "",
    };
    match found {
        ReservedName::Reserved(m) => f.error("name", "reserved-name", format!("{m}{tail}")),
        ReservedName::LooksOfficial(m) => f.warn("name", "looks-official", format!("{m}{tail}")),
    }
}

/// Fields Claude Code's schema lets through whatever they hold, but ignores unless they have
/// the right shape — its warnings, words and order.
fn ignored_field_warnings(raw: &Map<String, Value>, f: &mut Findings) {
    let got = |v: &Value| crate::schema::json_type(Some(v));
    match raw.get("experimental") {
        Some(v) if !v.is_object() => f.warn(
            "experimental",
            "ignored-field",
            format!("'experimental' must be an object containing component declarations; got {}. It will be ignored at load time.", got(v)),
        ),
        _ => {}
    }
    match raw.get("metadata") {
        Some(v) if !v.is_object() => f.warn(
            "metadata",
            "ignored-field",
            format!(
                "'metadata' must be a free-form object; got {}. It will be ignored at load time.",
                got(v)
            ),
        ),
        _ => {}
    }
    match raw.get("engines") {
        Some(v) if !v.is_object() => f.warn(
            "engines",
            "ignored-field",
            format!("'engines' must be an object such as {{ \"claude-code\": \">=2.1.0\" }}; got {}. It will be ignored at load time.", got(v)),
        ),
        _ => {}
    }
    match raw.get("network") {
        Some(v) if !v.get("hosts").is_some_and(Value::is_array) || !v.is_object() => f.warn(
            "network",
            "ignored-field",
            "'network' must be an object with a list of hosts, such as { \"hosts\": [\"api.example.com\"] }. It will be ignored at load time.",
        ),
        _ => {}
    }
    match raw.get("binaries") {
        Some(v) if !v.is_object() => f.warn(
            "binaries",
            "ignored-field",
            format!("'binaries' must be an object mapping basenames to {{ sha256 }}; got {}. It will be ignored at install time.", got(v)),
        ),
        _ => {}
    }
}

/// Check every component path declared in `decl` (plugin.json, or a marketplace entry's inline
/// components) against the plugin at `root`: it must start with `./`, stay inside the plugin
/// (no `..`, no backslash, no symlink leading outside the plugin unless into `container`, the
/// marketplace root, whose links the install copies) and exist. With `replaces_defaults` (a
/// manifest) it also warns when a declared path makes Claude Code ignore a default folder.
pub(super) fn check_component_paths(
    root: &Path,
    container: Option<&Path>,
    decl: &Map<String, Value>,
    replaces_defaults: bool,
) -> Findings {
    let mut f = Findings::default();
    let plugin_root = PluginRoot::new(root, container);
    let experimental = decl.get("experimental").and_then(Value::as_object);
    for (key, default_dir) in COMPONENTS {
        let (value, named) = match (key, experimental) {
            (&"themes" | &"monitors", Some(e)) if e.contains_key(*key) => {
                (e.get(*key), format!("experimental.{key}"))
            }
            _ => (decl.get(*key), key.to_string()),
        };
        let Some(value) = value else { continue };
        let paths = component_paths(&named, value);
        for (json_path, p) in &paths {
            if let Some(issue) = check_one_path(key, json_path, p, &plugin_root) {
                f.errors.push(issue);
            }
        }
        // A declared path inside the default folder keeps it; anything else shadows it.
        if let Some(dir) = default_dir
            && replaces_defaults
            && root.join(dir).is_dir()
            && !paths.is_empty()
            && !paths.iter().any(|(_, p)| {
                let rel = p.strip_prefix("./").unwrap_or(p);
                Path::new(rel).starts_with(dir)
            })
        {
            f.warn(
                *key,
                "default-folder-ignored",
                format!("Default {dir}/ folder is ignored because the manifest sets \"{key}\""),
            );
        }
    }
    f
}

/// The path strings of one component value, with Claude Code's names for them (`agents[0]`,
/// `commands`, `commands.deploy.source`). Inline objects (hooks, servers) hold no paths.
fn component_paths(key: &str, value: &Value) -> Vec<(String, String)> {
    match value {
        // Claude Code names a lone skills/hooks/agents path as the first of a list.
        Value::String(s) if matches!(key, "skills" | "hooks" | "agents") => {
            vec![(format!("{key}[0]"), s.clone())]
        }
        Value::String(s) => vec![(key.to_string(), s.clone())],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_str().map(|s| (format!("{key}[{i}]"), s.to_string())))
            .collect(),
        Value::Object(map) if key == "commands" => map
            .iter()
            .filter_map(|(name, v)| {
                v.get("source")
                    .and_then(Value::as_str)
                    .map(|s| (format!("commands.{name}.source"), s.to_string()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn check_one_path(key: &str, json_path: &str, p: &str, root: &PluginRoot) -> Option<Issue> {
    let issue = |code, msg: String| Some(Issue::new(json_path, code, msg));
    if key == "mcpServers" && p.starts_with("https://") {
        return None;
    }
    if key == "skills" && (p == "." || p == "./") {
        return None;
    }
    // A path without "./" or of the wrong kind is a schema error already; Claude Code still
    // looks for it.
    // Claude Code's validate refuses any `..`, even one that stays inside.
    if Path::new(p).components().any(|c| c == Component::ParentDir) {
        return issue(
            "path-escapes",
            format!("Path contains \"..\" which could be a path traversal attempt: {p}"),
        );
    }
    match root.locate(p) {
        Ok(_) => None,
        Err(PathProblem::Backslash) => issue(
            "path-escapes",
            format!(
                "Path contains a backslash, which Claude Code treats as leaving the plugin directory on macOS and Linux: {p}"
            ),
        ),
        Err(PathProblem::LinksOutside(real)) => issue(
            "path-escapes",
            format!(
                "{key} path escapes plugin directory: {p} (a symlink leads to {}, which an install does not copy)",
                real.display()
            ),
        ),
        Err(PathProblem::OutsideRoot) => issue(
            "path-escapes",
            format!("{key} path escapes plugin directory: {p}"),
        ),
        Err(PathProblem::NotFound | PathProblem::BrokenLink) => {
            let tail = if key == "mcpServers" && p.ends_with(".json") {
                "The plugin loader skips a missing MCP servers file without reporting it, so none of its servers will load."
            } else {
                "The runtime loader will report this as a load failure."
            };
            issue("path-not-found", format!("Path not found: {p}. {tail}"))
        }
    }
}

/// Symlinks the install would leave out, judged by the cache's own copy policy.
pub(super) fn skipped_symlinks(root: &Path, container: Option<&Path>) -> Findings {
    let mut f = Findings::default();
    let (Ok(plugin_root), container) = (
        crate::fsutil::canonicalize(root),
        container.and_then(|c| crate::fsutil::canonicalize(c).ok()),
    ) else {
        return f;
    };
    let policy = LinkPolicy {
        plugin_root,
        container,
    };
    let skipped = match plan_plugin_tree(&policy) {
        Ok(plan) => plan.skipped,
        Err(e) => {
            f.warn(
                "",
                "unreadable",
                format!("Cannot walk the plugin folder: {e}"),
            );
            return f;
        }
    };
    for s in skipped {
        let path = s.path.to_string_lossy().into_owned();
        let what = match &s.target {
            Some(t) => format!("Symlink {path} -> {}", t.display()),
            None => path.clone(),
        };
        let why = match s.reason {
            SkipReason::OutsideMarketplace if policy.container.is_none() => {
                "it points outside the plugin"
            }
            r => r.describe(),
        };
        f.warn(
            path,
            "symlink-skipped",
            format!("{what} would be left out when the plugin is installed: {why}"),
        );
    }
    f
}

/// The component files Claude Code's validator reads on their own, in its order: a root
/// CLAUDE.md, the default skills, agents and commands, the hooks files, `.mcp.json`.
/// Files whose real path lies outside `within` (the marketplace, else the plugin) are not read:
/// an install leaves them out (reported as skipped links), and their bytes must not reach the
/// report.
fn check_contents(
    root: &Path,
    within: &Path,
    raw: Option<&Map<String, Value>>,
) -> Result<Vec<FileReport>, ReadError> {
    let inside = |file: &Path| crate::containment::real_path_inside(file, within).is_ok();
    let mut out = Vec::new();
    let mut push = |file: PathBuf, kind, findings: Findings| {
        if !findings.errors.is_empty() || !findings.warnings.is_empty() {
            out.push(FileReport {
                file,
                kind,
                findings,
            });
        }
    };
    let claude_md = root.join("CLAUDE.md");
    if claude_md.is_file() {
        let mut f = Findings::default();
        f.warn(
            "root",
            "root-claude-md",
            "CLAUDE.md at the plugin root is not loaded as project context. To ship context with your plugin, use a skill (skills/<name>/SKILL.md) instead.",
        );
        push(claude_md, FileKind::RootFile, f);
    }
    for (file, kind, folder) in markdown_components(root) {
        if !inside(&file) {
            continue;
        }
        let text = crate::fsutil::read_regular_file(&file, crate::fsutil::JSON_FILE_LIMIT)
            .map_err(|e| (file.clone(), e))?;
        let findings = check_frontmatter(&String::from_utf8_lossy(&text), kind, folder.as_deref());
        push(file, kind, findings);
    }
    for file in hooks_files(root, raw).into_iter().filter(|f| inside(f)) {
        let tail = ". At runtime this breaks the entire plugin load.";
        let findings = match read_json(&file, tail, Bom::Refuse)? {
            Err(issue) => Findings {
                errors: vec![issue],
                warnings: Vec::new(),
            },
            Ok(v) => check_hooks_file(&v),
        };
        push(file, FileKind::Hooks, findings);
    }
    let mcp = root.join(".mcp.json");
    if mcp.is_file()
        && inside(&mcp)
        && let Err(issue) = read_json(&mcp, ". None of its MCP servers will load.", Bom::Refuse)?
    {
        let findings = Findings {
            errors: vec![issue],
            warnings: Vec::new(),
        };
        push(mcp, FileKind::Mcp, findings);
    }
    Ok(out)
}

/// The Markdown files whose frontmatter Claude Code checks: `skills/<name>/SKILL.md` (with the
/// folder name), then `agents/**/*.md` and `commands/**/*.md`. Linked skill folders are skipped.
fn markdown_components(root: &Path) -> Vec<(PathBuf, FileKind, Option<String>)> {
    let mut out = Vec::new();
    let mut skills: Vec<PathBuf> = fs::read_dir(root.join("skills"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path().join("SKILL.md"))
        .filter(|p| p.is_file())
        .collect();
    skills.sort();
    for file in skills {
        let folder = file
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned());
        out.push((file, FileKind::Skill, folder));
    }
    for (dir, kind) in [("agents", FileKind::Agent), ("commands", FileKind::Command)] {
        let mut files = Vec::new();
        markdown_files(&root.join(dir), &mut files);
        files.sort();
        out.extend(files.into_iter().map(|f| (f, kind, None)));
    }
    out
}

/// `hooks/hooks.json` and the hooks files plugin.json names (each once; paths that do not
/// resolve inside the plugin are reported with the manifest).
fn hooks_files(root: &Path, raw: Option<&Map<String, Value>>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let default = root.join("hooks").join("hooks.json");
    if default.is_file() {
        files.push(default);
    }
    let declared = raw.and_then(|r| r.get("hooks"));
    let plugin_root = PluginRoot::new(root, None);
    for (_, p) in declared
        .map(|v| component_paths("hooks", v))
        .unwrap_or_default()
    {
        if let Ok(file) = plugin_root.locate(&p)
            && file.is_file()
        {
            let real = crate::fsutil::canonicalize(&file).ok();
            if !files
                .iter()
                .any(|f| crate::fsutil::canonicalize(f).ok() == real)
            {
                files.push(file);
            }
        }
    }
    files
}

/// What installs will make of `dependencies` that Claude Code's validate does not say (ours):
/// a range that is not one (the install is refused), a range on a string entry (dropped), a
/// plugin that depends on itself.
fn dependency_warnings(raw: &Map<String, Value>, f: &mut Findings) {
    let Some(Value::Array(items)) = raw.get("dependencies") else {
        return;
    };
    let own = raw.get("name").and_then(Value::as_str).unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        let at = format!("dependencies.{i}");
        let name = match item {
            Value::String(s) => {
                if let Some((_, range)) = s.split_once("@^") {
                    f.warn(
                        at.clone(),
                        "dependency-range-dropped",
                        format!(
                            "(ours) the range \"^{range}\" of a string entry is dropped (Claude Code's rule); write {{\"name\": …, \"version\": \"^{range}\"}} to constrain it"
                        ),
                    );
                }
                // A name of its own marketplace (no `@marketplace`, perhaps a dropped range).
                let mut parts = s.split('@');
                let name = parts.next().unwrap_or_default();
                match parts.next() {
                    None => name.to_string(),
                    Some(p) if p.starts_with('^') => name.to_string(),
                    Some(_) => String::new(),
                }
            }
            Value::Object(o) => {
                if let Some(range) = o.get("version").and_then(Value::as_str)
                    && nodejs_semver::Range::parse(range).is_err()
                {
                    f.warn(
                        format!("{at}.version"),
                        "dependency-range",
                        format!(
                            "(ours) \"{range}\" is not a node-semver range: installing this plugin is refused"
                        ),
                    );
                }
                let own_marketplace = o.get("marketplace").is_none();
                match (o.get("name").and_then(Value::as_str), own_marketplace) {
                    (Some(n), true) => n.to_string(),
                    _ => String::new(),
                }
            }
            _ => String::new(),
        };
        if !own.is_empty() && name == own {
            f.warn(
                at,
                "self-dependency",
                format!("(ours) \"{own}\" depends on itself; the dependency is never needed"),
            );
        }
    }
}
