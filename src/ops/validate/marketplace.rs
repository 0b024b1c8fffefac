//! Checks of a marketplace index and of each relative-path plugin folder it lists.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::plugin::{
    CheckedManifest, ENTRY_ONLY_KEYS, Listed, check_component_paths, check_plugin_folder,
    manifest_keys,
};
use super::{
    Bom, FileKind, FileReport, Findings, Issue, ValidateReport, expected, not_kebab, read_json,
    unknown_field,
};
use crate::definition::{
    APPENDED_FIELDS, DECLARING_FIELDS, IGNORED_IN_STRICT_ENTRY, declares_components,
};
use crate::marketplace::discover::root_of_index;
use crate::marketplace::{Escape, RelativeSourceError, plugin_root_dir, relative_plugin_dir};
use crate::schema::catalog::entry_defects;
use crate::schema::names::{
    ReservedName, is_kebab, marketplace_name_problem, may_use_reserved_plugin_names,
    plugin_id_problem, plugin_name_problem, reserved_name_problem, reserved_plugin_name,
};
use crate::schema::plugin_manifest::{Dependency, dependencies};
use crate::schema::renames::{RenameTarget, Renames, Resolution, Unresolved};
use crate::schema::{PluginEntry, PluginSource};

const TOP_KEYS: &[&str] = &[
    "$schema",
    "name",
    "owner",
    "plugins",
    "description",
    "version",
    "metadata",
    "forceRemoveDeletedPlugins",
    "allowCrossMarketplaceDependenciesOn",
    "renames",
];

type ReadError = (PathBuf, io::Error);

/// `plugin validate <marketplace folder | index file>`.
pub(super) fn validate_catalog(index: &Path, strict: bool) -> Result<ValidateReport, ReadError> {
    let root = root_of_index(index);
    let mut f = Findings::default();
    let mut contents = Vec::new();
    match read_json(index, "", Bom::Skip)? {
        Err(issue) => f.errors.push(issue),
        Ok(value) => check_catalog(&value, &root, &mut f, &mut contents)?,
    }
    Ok(catalog_report(index, strict, f, contents))
}

/// The report of a catalog file: its findings and those of the plugins it lists.
fn catalog_report(
    index: &Path,
    strict: bool,
    findings: Findings,
    contents: Vec<FileReport>,
) -> ValidateReport {
    ValidateReport {
        strict,
        target: index.to_path_buf(),
        manifest: Some(FileReport {
            file: index.to_path_buf(),
            kind: FileKind::Marketplace,
            findings,
        }),
        contents,
        provides: None,
        unexpected: false,
    }
}

/// The report for a marketplace folder whose catalog is a link out of it: not read, as an
/// install refuses it.
pub(super) fn escaping_catalog(
    index: &Path,
    escape: &crate::containment::LinkEscape,
    strict: bool,
) -> ValidateReport {
    let mut f = Findings::default();
    f.errors.push(Issue::escape(
        "catalog-escapes",
        "Marketplace file",
        escape,
        "marketplace",
    ));
    catalog_report(index, strict, f, Vec::new())
}

fn check_catalog(
    value: &Value,
    root: &Path,
    f: &mut Findings,
    contents: &mut Vec<FileReport>,
) -> Result<(), ReadError> {
    let Value::Object(raw) = value else {
        f.error("", "schema", expected("object", Some(value)));
        return Ok(());
    };
    check_catalog_name(raw.get("name"), f);
    f.check_person("owner", raw.get("owner"));
    let metadata = raw.get("metadata").and_then(Value::as_object);
    let has_description = raw.get("description").is_some_and(Value::is_string)
        || metadata.is_some_and(|m| m.get("description").is_some_and(Value::is_string));
    let plugin_root = catalog_plugin_root(metadata, root, f);
    for (key, _) in raw {
        if !TOP_KEYS.contains(&key.as_str()) {
            f.warnings.push(unknown_field(key, key, TOP_KEYS));
        }
    }
    let plugins = catalog_plugins(raw, f);
    if !has_description {
        f.warn(
            "description",
            "missing-description",
            "No marketplace description provided. Adding a description helps users understand what this marketplace offers",
        );
    }
    // Anthropic's own catalogs may list plugins named like Anthropic's.
    let official = raw
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(may_use_reserved_plugin_names);
    let mut first_index: HashMap<String, usize> = HashMap::new();
    let mut listed = HashSet::new();
    let mut declared = Vec::new();
    for (i, v) in plugins.iter().enumerate() {
        if let Some(name) = v.get("name").and_then(Value::as_str) {
            listed.insert(name);
            if let Some(first) = first_index.get(name) {
                // Claude Code reports duplicates only when nothing else is wrong; always here.
                f.error(
                    format!("plugins[{i}].name"),
                    "duplicate-name",
                    format!("Duplicate plugin name \"{name}\" found in marketplace (first at plugins[{first}])"),
                );
            } else {
                first_index.insert(name.to_string(), i);
            }
        }
        let deps = check_entry(i, v, official, root, plugin_root, f, contents)?;
        declared.push((i, v.get("name").and_then(Value::as_str), deps));
    }
    check_renames(raw.get("renames"), &listed, f);
    check_dependency_targets(raw, &declared, &listed, f);
    Ok(())
}

/// The marketplace's `name`: a valid name, and not one only Anthropic may add.
fn check_catalog_name(name: Option<&Value>, f: &mut Findings) {
    match name {
        Some(Value::String(name)) => {
            if let Some(p) = marketplace_name_problem(name) {
                f.error("name", "name", p);
            } else if let Some(p) = reserved_name_problem(name) {
                // Only `marketplace add` refuses it, and only from outside github.com/anthropics.
                f.warn(
                    "name",
                    "reserved-name",
                    format!("{p} Adding this marketplace from any other source fails."),
                );
            }
        }
        other => f.error("name", "schema", expected("string", other)),
    }
}

/// `metadata.pluginRoot`, under which bare source names resolve; `None` (with the error) when
/// it is not a relative path inside the marketplace root.
fn catalog_plugin_root<'a>(
    metadata: Option<&'a Map<String, Value>>,
    root: &Path,
    f: &mut Findings,
) -> Option<&'a str> {
    match metadata.and_then(|m| m.get("pluginRoot")) {
        None => None,
        Some(Value::String(pr)) => {
            if plugin_root_dir(root, pr).is_some() {
                Some(pr.as_str())
            } else {
                f.error(
                    "metadata.pluginRoot",
                    "plugin-root",
                    format!("pluginRoot \"{pr}\" must be a relative path inside the marketplace root (no \"..\", absolute paths or backslashes); bare source names can't resolve under it"),
                );
                None
            }
        }
        Some(other) => {
            f.error(
                "metadata.pluginRoot",
                "schema",
                expected("string", Some(other)),
            );
            None
        }
    }
}

/// The `plugins` array (empty, with the error, when it is not one).
fn catalog_plugins<'a>(raw: &'a Map<String, Value>, f: &mut Findings) -> &'a [Value] {
    let plugins = match raw.get("plugins") {
        Some(Value::Array(p)) => p.as_slice(),
        other => {
            f.error("plugins", "schema", expected("array", other));
            &[]
        }
    };
    if raw.get("plugins").is_some_and(Value::is_array) && plugins.is_empty() {
        f.warn(
            "plugins",
            "no-plugins",
            "Marketplace has no plugins defined",
        );
    }
    plugins
}

/// The entry's name, `None` (with the error) when it is missing or not a plugin name.
fn entry_name<'a>(
    i: usize,
    raw: &'a Map<String, Value>,
    official: bool,
    f: &mut Findings,
) -> Option<&'a str> {
    let name = match raw.get("name") {
        Some(Value::String(n)) => n.as_str(),
        other => {
            f.error(
                format!("plugins.{i}.name"),
                "schema",
                expected("string", other),
            );
            return None;
        }
    };
    if name.contains(' ') {
        // Claude Code's two errors: the schema's, and the plugin-id rule's.
        f.error(
            format!("plugins.{i}.name"),
            "name",
            "Plugin name cannot contain spaces. Use kebab-case (e.g., \"my-plugin\")",
        );
    }
    // With a space, Claude Code reports the plugin-id rule under the schema's error.
    let problem = match name.contains(' ') {
        true => plugin_id_problem(name),
        false => plugin_name_problem(name),
    };
    if let Some(p) = problem {
        f.error(format!("plugins[{i}].name"), "name", p);
        return None;
    }
    if !is_kebab(name) {
        f.warn(
            format!("plugins[{i}].name"),
            "name-not-kebab",
            not_kebab(name),
        );
    }
    match (!official).then(|| reserved_plugin_name(name)).flatten() {
        Some(ReservedName::Reserved(m)) => {
            f.error(format!("plugins[{i}].name"), "reserved-name", m)
        }
        Some(ReservedName::LooksOfficial(m)) => {
            f.warn(format!("plugins[{i}].name"), "looks-official", m)
        }
        None => {}
    }
    Some(name)
}

/// Warn about keys neither plugin.json nor a marketplace entry knows.
fn warn_unknown_keys(i: usize, raw: &Map<String, Value>, f: &mut Findings) {
    let mut all = manifest_keys();
    all.extend(ENTRY_ONLY_KEYS);
    for (key, _) in raw {
        if !all.contains(&key.as_str()) {
            f.warnings
                .push(unknown_field(&format!("plugins[{i}].{key}"), key, &all));
        }
    }
}

/// The folder of a relative source (and the path as written), checked; the other sources get
/// their warnings here and have no folder to check.
fn relative_source_dir(
    i: usize,
    raw: &Map<String, Value>,
    entry: &PluginEntry,
    root: &Path,
    plugin_root: Option<&str>,
    f: &mut Findings,
) -> Option<(PathBuf, String)> {
    let at = |field: &str| format!("plugins[{i}].{field}");
    match &entry.source {
        PluginSource::Relative(written) | PluginSource::Bare(written) => {
            match relative_plugin_dir(root, plugin_root, &entry.source) {
                Ok(dir) => Some((dir, written.clone())),
                Err(e) => {
                    let (code, message) = match e {
                        RelativeSourceError::Escapes { how: Escape::ParentDir, .. } => ("source-escapes", format!("Path contains \"..\": {written}. Plugin source paths are resolved relative to the marketplace root (the directory containing .claude-plugin/), not relative to marketplace.json. Use \"./plugins/my-plugin\" instead of \"{written}\".")),
                        RelativeSourceError::Escapes { how: Escape::Backslash, .. } => ("source-escapes", format!("Path contains a backslash: {written}. Claude Code refuses it on macOS and Linux; use \"/\"")),
                        RelativeSourceError::Escapes { .. } => ("source-escapes", format!("Path leaves the marketplace root: {written}. Plugin source paths are relative to the marketplace root (the directory containing .claude-plugin/).")),
                        RelativeSourceError::BareWithoutPluginRoot => ("source", "Bare source names resolve under metadata.pluginRoot, which this marketplace does not set (or sets to a path outside the marketplace root). Use a \"./relative/path\" source, or set metadata.pluginRoot to allow bare names.".to_string()),
                        other => ("source", other.to_string()),
                    };
                    f.error(at("source"), code, message);
                    None
                }
            }
        }
        PluginSource::GitUrl { .. } if raw.get("source").is_some_and(Value::is_string) => {
            f.warn(
                at("source"),
                "source",
                "Claude Code refuses a git URL written as a plain string (source: Invalid string: must start with \"./\"); only this tool reads it. Write {\"source\": \"url\", \"url\": \"…\"} instead.",
            );
            None
        }
        PluginSource::Unknown(kind) => {
            f.error(
                format!("plugins.{i}.source"),
                "source",
                format!("Invalid input (unknown source type \"{kind}\")"),
            );
            None
        }
        PluginSource::Npm { version, .. } => {
            if version.is_none() {
                f.warn(
                    at("source.version"),
                    "unpinned-package",
                    "npm source without a version: every install takes whatever the registry's latest is, and Claude Code records the version as \"unknown\". Set \"version\" (e.g. \"1.2.3\" or \"^1.2.0\").",
                );
            }
            None
        }
        PluginSource::Pip { version, .. } => {
            f.warn(
                at("source"),
                "pip-source",
                "Claude Code cannot install pip sources (\"This plugin uses a source type your Claude Code version does not support\") and its validate rejects them (source: Invalid input); only this tool installs them.",
            );
            if version.is_none() {
                f.warn(
                    at("source.version"),
                    "unpinned-package",
                    "pip source without a version: every install takes whatever the index's latest is. Set \"version\" (e.g. \"==1.2.3\").",
                );
            }
            None
        }
        _ => None,
    }
}

/// What `"strict"` makes of the entry's components beside the plugin's plugin.json.
fn check_strict(
    i: usize,
    name: &str,
    raw: &Map<String, Value>,
    entry: &PluginEntry,
    has_manifest: bool,
    has_manifest_file: bool,
    f: &mut Findings,
) {
    let at = |field: &str| format!("plugins[{i}].{field}");
    let present = |keys: &[&'static str]| -> Vec<&'static str> {
        keys.iter()
            .copied()
            .filter(|k| raw.contains_key(*k))
            .collect()
    };
    let (appended, ignored) = (present(APPENDED_FIELDS), present(IGNORED_IN_STRICT_ENTRY));
    // The same rule as `resolve` (definition::PluginDefinition::build, docs §2.5).
    let strict = match entry.strict {
        None => "\"strict\" is true (the default)".to_string(),
        Some(true) => "\"strict\" is true".to_string(),
        Some(false) => format!(
            "\"strict\" is false but the entry declares none of {} (so it behaves as strict)",
            DECLARING_FIELDS.join(", ")
        ),
    };
    let whole_definition = entry.strict == Some(false) && declares_components(raw);
    if whole_definition && has_manifest {
        f.error(
            at("strict"),
            "conflicting-manifests",
            format!("Plugin {name} has conflicting manifests: both plugin.json and marketplace entry specify components. With \"strict\": false the entry must be the whole definition: remove plugin.json (or its components), or drop \"strict\": false."),
        );
    } else if !whole_definition && has_manifest_file {
        if !appended.is_empty() {
            f.warn(
                at("strict"),
                "strict-inline-components",
                format!("Entry declares components ({}) while {strict}: Claude Code adds them to those of plugin.json (entry hooks replace its matchers event by event). If this entry is meant to be the whole definition, set \"strict\": false.", appended.join(", ")),
            );
        }
        for key in ignored {
            f.warn(
                at(key),
                "strict-entry-ignored",
                format!("Entry sets \"{key}\" while {strict}: Claude Code ignores it because the plugin has a plugin.json. Declare it in plugin.json, or set \"strict\": false to make the entry the whole definition."),
            );
        }
    }
}

/// Checks entry `i` and the folder it names; what the entry and its plugin.json declare in
/// `dependencies` (names of other marketplaces as `name@marketplace`, own ones bare).
fn check_entry(
    i: usize,
    v: &Value,
    official: bool,
    root: &Path,
    plugin_root: Option<&str>,
    f: &mut Findings,
    contents: &mut Vec<FileReport>,
) -> Result<Vec<Dependency>, ReadError> {
    let Value::Object(raw) = v else {
        f.error(
            format!("plugins.{i}"),
            "schema",
            expected("object", Some(v)),
        );
        return Ok(Vec::new());
    };
    let mut deps = dependencies(raw, "");
    let Some(name) = entry_name(i, raw, official, f) else {
        // Claude Code's schema still reports the rest of a nameless entry.
        if !raw.get("name").is_some_and(Value::is_string) {
            for d in entry_defects(raw).1.iter().filter(|d| d.path != "name") {
                f.error(
                    format!("plugins.{i}.{}", d.path),
                    "schema",
                    d.message.clone(),
                );
            }
        }
        return Ok(deps);
    };
    warn_unknown_keys(i, raw, f);
    let Ok(entry) = PluginEntry::from_value(i, v.clone()) else {
        return Ok(deps);
    };
    report_entry_defects(i, name, &entry, f);
    let at = |field: &str| format!("plugins[{i}].{field}");
    let dir = relative_source_dir(i, raw, &entry, root, plugin_root, f);
    let Some((dir, shown)) = dir else {
        return Ok(deps);
    };
    if !dir.is_dir() {
        f.error(
            at("source"),
            "source-missing",
            format!("Plugin directory not found at path: {shown}. Check that the marketplace entry has the correct path."),
        );
        return Ok(deps);
    }
    let manifest_file = crate::manifest::find_manifest(&dir);
    let checked = check_plugin_folder(
        &dir,
        manifest_file.as_deref(),
        Some(root),
        Listed::Entry(name),
    )?;
    if let Some(m) = checked.manifest.as_ref().and_then(|cm| cm.raw.as_ref()) {
        deps.extend(dependencies(m, ""));
    }
    let has_manifest = match checked.manifest {
        Some(cm) => check_beside_manifest(i, name, raw, &entry, cm, root, f),
        None => false,
    };
    check_strict(
        i,
        name,
        raw,
        &entry,
        has_manifest,
        manifest_file.is_some(),
        f,
    );
    // Entry component paths are checked whatever strict says: without a plugin.json they load.
    // (Not of an entry Claude Code's schema refuses: it says only that, as Claude Code does.)
    if entry.defects.is_empty()
        && DECLARING_FIELDS
            .iter()
            .chain(APPENDED_FIELDS)
            .any(|k| raw.contains_key(*k))
    {
        let paths = check_component_paths(&dir, Some(root), raw, false);
        f.absorb(paths, &format!("plugins[{i}]."));
    }
    f.absorb(checked.folder, &format!("plugins[{i}] → "));
    contents.extend(checked.contents);
    Ok(deps)
}

/// The entry's schema defects, and a `headersHelper` the entry may not set.
fn report_entry_defects(i: usize, name: &str, entry: &PluginEntry, f: &mut Findings) {
    // Claude Code names a defect's field `plugins.<i>.<field>`.
    for d in &entry.defects {
        let code = if d.path.starts_with("source") {
            "source"
        } else {
            "schema"
        };
        f.error(format!("plugins.{i}.{}", d.path), code, d.message.clone());
    }
    if entry.raw.get("headersHelper").is_some() && entry.strict != Some(false) {
        f.error(
            format!("plugins[{i}].headersHelper"),
            "schema",
            format!("Plugin \"{name}\" sets headersHelper but is not \"strict\": false"),
        );
    }
}

/// The findings of the plugin.json beside the entry (less what the entry supplies), and where
/// the two disagree; whether that plugin.json is a JSON object.
fn check_beside_manifest(
    i: usize,
    name: &str,
    raw: &Map<String, Value>,
    entry: &PluginEntry,
    cm: CheckedManifest,
    root: &Path,
    f: &mut Findings,
) -> bool {
    let at = |field: &str| format!("plugins[{i}].{field}");
    let shown_manifest = |file: &Path| match file.strip_prefix(root) {
        Ok(rel) => crate::fsutil::slash_path(rel),
        Err(_) => file.display().to_string(),
    };
    let (file, mut pf, manifest) = (cm.file, cm.findings, cm.raw);
    // The entry supplies what plugin.json lacks; warn only when neither has it.
    let entry_has = |k: &str| raw.contains_key(k);
    pf.warnings.retain(|w| match w.code {
        "missing-version" => !entry_has("version"),
        "missing-description" => !entry_has("description"),
        "missing-author" => !entry_has("author"),
        _ => true,
    });
    f.absorb(pf, &format!("plugins[{i}] plugin.json → "));
    let Some(m) = manifest else {
        return false;
    };
    if let Some(mname) = m.get("name").and_then(Value::as_str)
        && mname != name
    {
        f.warn(
            at("name"),
            "name-mismatch",
            format!("Entry name \"{name}\" differs from \"{mname}\" in {}. Claude Code installs and enables it as \"{name}\" but namespaces its components as \"{mname}:…\"; use one name in both places.", shown_manifest(&file)),
        );
    }
    if let (Some(ev), Some(Value::String(mv))) = (&entry.version, m.get("version"))
        && ev != mv
    {
        f.warn(
            at("version"),
            "version-mismatch",
            format!("Entry declares version \"{ev}\" but {} says \"{mv}\". At install time, plugin.json wins (calculatePluginVersion precedence) — the entry version is silently ignored. Update this entry to \"{mv}\" to match.", shown_manifest(&file)),
        );
    }
    true
}

/// Dependencies installs will not find (ours: Claude Code's validate passes them): a name this
/// catalog does not list, or one of a marketplace its `allowCrossMarketplaceDependenciesOn`
/// does not allow; and cycles among its plugins.
fn check_dependency_targets<'a>(
    raw: &Map<String, Value>,
    declared: &'a [(usize, Option<&'a str>, Vec<Dependency>)],
    listed: &HashSet<&str>,
    f: &mut Findings,
) {
    let own = raw.get("name").and_then(Value::as_str).unwrap_or_default();
    let allowed: Vec<&str> = raw
        .get("allowCrossMarketplaceDependenciesOn")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let split = |id: &'a str| match id.rsplit_once('@') {
        Some((n, m)) if !m.is_empty() => (n, m),
        _ => (id.trim_end_matches('@'), own),
    };
    // This catalog's plugins and the plugins of it each needs (the first entry of a name).
    let mut graph: Vec<(&str, Vec<&str>)> = Vec::new();
    for (_, name, deps) in declared {
        if let Some(name) = name
            && !graph.iter().any(|(n, _)| n == name)
        {
            let needs = (deps.iter().map(|d| split(&d.id)))
                .filter(|(n, m)| *m == own && listed.contains(n) && n != name)
                .map(|(n, _)| n)
                .collect();
            graph.push((name, needs));
        }
    }
    for cycle in dependency_cycles(&graph) {
        let Some(i) = declared
            .iter()
            .find(|(_, n, _)| *n == Some(cycle[0]))
            .map(|d| d.0)
        else {
            continue;
        };
        f.warn(
            format!("plugins[{i}].dependencies"),
            "dependency-cycle",
            format!(
                "(ours) dependency cycle: {} → {}; installs stop where it closes",
                cycle.join(" → "),
                cycle[0]
            ),
        );
    }
    for (i, _, deps) in declared {
        let mut seen = HashSet::new();
        for d in deps.iter().filter(|d| seen.insert(d.id.as_str())) {
            let (name, marketplace) = split(&d.id);
            if marketplace == own && !listed.contains(name) {
                f.warn(
                    format!("plugins[{i}].dependencies"),
                    "dependency-unknown",
                    format!("(ours) \"{name}\" is not a plugin of this marketplace: installs cannot bring it, and the plugin will not load without it"),
                );
            } else if marketplace != own && !allowed.contains(&marketplace) {
                f.warn(
                    format!("plugins[{i}].dependencies"),
                    "dependency-cross-marketplace",
                    format!("(ours) \"{name}@{marketplace}\" is in another marketplace, which allowCrossMarketplaceDependenciesOn does not list: installs skip it unless it is installed already"),
                );
            }
        }
    }
}

/// Cycles of `graph` (plugin, what it needs), each from its first plugin in `graph`'s order:
/// at least one for every group of plugins that need each other.
fn dependency_cycles<'a>(graph: &[(&'a str, Vec<&'a str>)]) -> Vec<Vec<&'a str>> {
    fn visit<'a>(
        graph: &[(&'a str, Vec<&'a str>)],
        at: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut HashSet<&'a str>,
        out: &mut Vec<Vec<&'a str>>,
    ) {
        if let Some(start) = path.iter().position(|p| *p == at) {
            let mut cycle = path[start..].to_vec();
            // One rotation for every cycle: from its plugin listed first.
            let first = (0..cycle.len())
                .min_by_key(|k| graph.iter().position(|(n, _)| *n == cycle[*k]))
                .unwrap_or(0);
            cycle.rotate_left(first);
            if !out.contains(&cycle) {
                out.push(cycle);
            }
            return;
        }
        if done.contains(at) {
            return;
        }
        path.push(at);
        for (_, needs) in graph.iter().filter(|(n, _)| *n == at) {
            for next in needs {
                visit(graph, next, path, done, out);
            }
        }
        path.pop();
        done.insert(at);
    }
    let mut out = Vec::new();
    let mut done = HashSet::new();
    for (name, _) in graph {
        visit(graph, name, &mut Vec::new(), &mut done, &mut out);
    }
    out
}

fn check_renames(value: Option<&Value>, listed: &HashSet<&str>, f: &mut Findings) {
    let renames = Renames::parse(value);
    if let Some(p) = &renames.problem {
        f.error("renames", "renames", p.clone());
        return;
    }
    for (key, target) in &renames.entries {
        let path = format!("renames.{key}");
        if let RenameTarget::Name(t) = target
            && plugin_name_problem(t).is_some()
        {
            f.error(
                path,
                "renames",
                format!("target \"{t}\" is not a valid plugin name (PluginIdSchema)"),
            );
            continue;
        }
        if let Some(Resolution::Unresolved { reason, chain }) = renames.resolve(key, listed) {
            let why = match reason {
                Unresolved::TargetMissing => format!(
                    " — \"{}\" is not listed in plugins[]",
                    chain.last().map(String::as_str).unwrap_or_default()
                ),
                _ => String::new(),
            };
            f.error(
                path,
                "renames",
                format!("chain does not resolve ({reason}) — target must be a name in plugins[], a key in renames, or null{why}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dependency_cycles;

    #[test]
    fn every_cycle_is_named_once_from_its_first_plugin() {
        let graph = vec![
            ("e", vec!["a"]),
            ("a", vec!["b"]),
            ("b", vec!["c", "d"]),
            ("c", vec!["a"]),
            ("d", vec!["d2"]),
            ("d2", vec!["d"]),
            ("f", vec![]),
        ];
        assert_eq!(
            dependency_cycles(&graph),
            [vec!["a", "b", "c"], vec!["d", "d2"]]
        );
        assert!(dependency_cycles(&[("x", vec!["y"]), ("y", vec![])]).is_empty());
    }
}
