//! `list`: every installation (all scopes, all projects), and optionally what is available.

use std::path::{Path, PathBuf};

use super::{Context, LoadedMarketplace, OpError, load_configured};
use crate::locations::Scope;
use crate::manifest::{ManifestError, read_manifest};

#[derive(Debug, Clone)]
pub struct InstalledRow {
    pub id: String,
    pub version: String,
    pub scope: String,
    pub enabled: bool,
    pub install_path: String,
    /// For relative plugins of folder marketplaces: the folder Claude Code loads in place.
    pub read_from_folder: Option<PathBuf>,
    pub folder_version: Option<String>,
    pub installed_at: Option<String>,
    pub last_updated: Option<String>,
    pub project_path: Option<String>,
    pub project_enabled: bool,
    /// Why the plugin cannot be shown fully or loaded (its marketplace fails to load, its
    /// manifest is refused), in Claude Code's words.
    pub errors: Vec<String>,
    /// The kind of each manifest error, as Claude Code's `errorDetails`.
    pub error_details: Vec<ErrorDetail>,
}

/// One of Claude Code's `errorDetails`: what kind of error, of which plugin, and in which file
/// or about which dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// `manifest-parse-error`, `manifest-validation-error` or `dependency-unsatisfied`.
    pub kind: &'static str,
    pub plugin: String,
    pub path: Option<PathBuf>,
    /// The dependency's id (`dependency-unsatisfied`).
    pub dependency: Option<String>,
}

/// The folder Claude Code loads a plugin from in place: a relative plugin's folder in its
/// marketplace (`readFromFolder`); `None` when it loads the installed copy in the cache.
pub(super) fn loaded_in_place(
    m: &crate::marketplace::Marketplace,
    entry: &crate::marketplace::PluginEntry,
) -> Option<PathBuf> {
    entry
        .source
        .is_relative()
        .then(|| m.resolve_relative(entry).ok())
        .flatten()
}

#[derive(Debug, Clone)]
pub struct AvailableRow {
    pub plugin_id: String,
    pub name: String,
    pub description: Option<String>,
    pub marketplace_name: String,
    pub version: Option<String>,
    pub source: serde_json::Value,
}

pub fn list(
    ctx: &Context,
    with_available: bool,
) -> Result<(Vec<InstalledRow>, Vec<AvailableRow>), OpError> {
    let installed = ctx.installed()?;
    let files = ctx.writable_settings()?;
    let value_in = |scope: Scope, id: &str| {
        files
            .iter()
            .find(|f| f.scope == scope)
            .and_then(|f| f.enabled(id))
    };
    // Managed settings only speak for ids no writable file mentions (Claude Code's list ignores a
    // managed `false` of a user-enabled plugin); a plugin `sync` installed for them is enabled.
    let managed = ctx.managed().ok();
    let effective = |id: &str| {
        super::enable::deciding(&files, id)
            .map(|(_, v)| v)
            .or_else(|| managed.and_then(|m| super::enable::managed_value(m, id)))
            .unwrap_or(false)
    };
    let loaded = load_configured(&ctx.configured_marketplaces()?, |_| true);
    let here = ctx.loc.project_path();

    let mut rows = Vec::new();
    for (id, rec) in installed.all() {
        let FromMarketplace {
            read_from_folder,
            folder_version,
            mut errors,
        } = from_marketplace(&loaded, &id);
        // The manifest Claude Code loads: the folder's, or the installed copy's.
        let name = id.split_once('@').map_or(id.as_str(), |(n, _)| n);
        let loads_from = read_from_folder
            .clone()
            .unwrap_or_else(|| PathBuf::from(&rec.install_path));
        let mkt = id.split_once('@').map_or("", |(_, m)| m);
        let problem = load_problem(&loads_from, name, mkt, |dep| {
            !installed.records(dep).is_empty()
        });
        let mut error_details = Vec::new();
        let folder_version = match problem {
            Some((message, detail)) => {
                let manifest_refused = detail.path.is_some();
                errors.push(message);
                error_details.push(detail);
                folder_version.filter(|_| !manifest_refused)
            }
            None => folder_version,
        };
        let foreign_project = rec.scope().is_some_and(Scope::is_project_bound)
            && rec.project_path.as_deref().map(Path::new) != Some(here);
        rows.push(InstalledRow {
            enabled: !foreign_project && effective(&id),
            project_enabled: value_in(Scope::Project, &id) == Some(true),
            version: rec.version,
            scope: rec.scope,
            install_path: rec.install_path,
            read_from_folder,
            folder_version,
            installed_at: rec.installed_at,
            last_updated: rec.last_updated,
            project_path: rec.project_path,
            errors,
            error_details,
            id,
        });
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let available = if with_available {
        available_rows(&loaded, &rows)
    } else {
        Vec::new()
    };
    Ok((rows, available))
}

/// What an installation's row takes from its marketplace.
struct FromMarketplace {
    /// A relative plugin's folder, loaded in place, and the version it declares.
    read_from_folder: Option<PathBuf>,
    folder_version: Option<String>,
    /// Why the marketplace has nothing to say.
    errors: Vec<String>,
}

fn from_marketplace(loaded: &[LoadedMarketplace], id: &str) -> FromMarketplace {
    let mkt_name = id.split_once('@').map(|(_, m)| m).unwrap_or_default();
    let plugin_name = id.split_once('@').map(|(n, _)| n).unwrap_or(id);
    let mut out = FromMarketplace {
        read_from_folder: None,
        folder_version: None,
        errors: Vec::new(),
    };
    match loaded
        .iter()
        .find(|l| l.name == mkt_name)
        .map(|l| &l.marketplace)
    {
        Some(Ok(m)) => {
            if let Some(entry) = m.manifest.entries_named(plugin_name).next()
                && let Some(dir) = loaded_in_place(m, entry)
            {
                out.folder_version = read_manifest(&dir, &m.root, plugin_name)
                    .ok()
                    .flatten()
                    .and_then(|mf| mf.version)
                    .or_else(|| entry.version.clone());
                out.read_from_folder = Some(dir);
            }
        }
        Some(Err(e)) => (out.errors).push(format!("Marketplace {mkt_name} failed to load: {e}")),
        None => (out.errors).push(format!("Marketplace {mkt_name} is not configured")),
    }
    out
}

/// Why Claude Code would not load the plugin in `dir`: its manifest does not parse, its schema
/// refuses it, or (the first of) its dependencies is not installed. Claude Code turns `"` into
/// `”` in manifest messages.
fn load_problem(
    dir: &Path,
    plugin: &str,
    marketplace: &str,
    is_installed: impl Fn(&str) -> bool,
) -> Option<(String, ErrorDetail)> {
    let detail = |kind, path: Option<PathBuf>, dependency: Option<String>| ErrorDetail {
        kind,
        plugin: plugin.to_string(),
        path,
        dependency,
    };
    let (kind, what, path) = match read_manifest(dir, dir, plugin) {
        Ok(Some(m)) => {
            let missing = declared_dependencies(&m.raw, marketplace)
                .into_iter()
                .find(|d| !is_installed(d))?;
            return Some((
                format!(
                    "Dependency \"{missing}\" is not installed — run `claude plugin install {missing}`, or check that its marketplace is added"
                ),
                detail("dependency-unsatisfied", None, Some(missing)),
            ));
        }
        Err(ManifestError::Corrupt { message, path, .. }) => (
            "manifest-parse-error",
            format!("Manifest parse error: {message}"),
            path,
        ),
        Err(ManifestError::Invalid { errors, path, .. }) => (
            "manifest-validation-error",
            format!("Manifest validation failed: {}", errors.join(", ")),
            path,
        ),
        _ => return None,
    };
    let message = format!("{} (in {})", what.replace('"', "”"), path.display());
    Some((message, detail(kind, Some(path), None)))
}

/// A manifest's `dependencies` as plugin ids: `name`, `name@marketplace` or `{name,
/// marketplace}`; a version range (`@^1.0`) dropped, a bare name in the plugin's own marketplace.
fn declared_dependencies(
    raw: &serde_json::Map<String, serde_json::Value>,
    own: &str,
) -> Vec<String> {
    use serde_json::Value;
    let Some(Value::Array(items)) = raw.get("dependencies") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|d| match d {
            Value::String(s) => Some(match s.rfind("@^") {
                Some(i) if !s[i + 2..].contains('@') => s[..i].to_string(),
                _ => s.clone(),
            }),
            Value::Object(o) => {
                let name = o.get("name")?.as_str()?;
                Some(match o.get("marketplace").and_then(Value::as_str) {
                    Some(m) => format!("{name}@{m}"),
                    None => name.to_string(),
                })
            }
            _ => None,
        })
        .map(|d| {
            if d.contains('@') {
                d
            } else {
                format!("{d}@{own}")
            }
        })
        .collect()
}

/// The plugins of the loaded marketplaces that are not installed (in no row).
fn available_rows(loaded: &[LoadedMarketplace], rows: &[InstalledRow]) -> Vec<AvailableRow> {
    let mut available = Vec::new();
    for l in loaded {
        let Ok(m) = &l.marketplace else { continue };
        for e in &m.manifest.entries {
            let plugin_id = format!("{}@{}", e.name, l.name);
            if rows.iter().any(|r| r.id == plugin_id) {
                continue;
            }
            available.push(AvailableRow {
                plugin_id,
                name: e.name.clone(),
                description: e.description.clone(),
                marketplace_name: l.name.clone(),
                version: e.version.clone(),
                source: e.raw.get("source").cloned().unwrap_or_default(),
            });
        }
    }
    available
}
