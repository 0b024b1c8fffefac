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
    // What loads, as Claude Code decides it (a plugin whose dependency does not is set aside).
    let nodes = super::dependencies::installed_graph(ctx)?;
    let loading = super::dependencies::loading(&nodes, effective);
    let dependency_problem = |d: &crate::schema::plugin_manifest::Dependency| {
        super::dependencies::unmet(&nodes, &loading, d)
    };

    let records = installed.all();
    // Where each plugin loads from and its manifest, read on a few threads (hundreds may be
    // installed): the manifest Claude Code loads, read once: the folder's in the marketplace
    // (inside it), or the installed copy's.
    let found = crate::parallel::map(
        &records,
        crate::parallel::disk_threads(),
        32,
        |(id, rec)| {
            let r = super::PluginRef::parse(id);
            let (name, mkt) = (
                r.name.as_str(),
                r.marketplace.as_deref().unwrap_or_default(),
            );
            let from = from_marketplace(&loaded, name, mkt);
            let installed_copy = PathBuf::from(&rec.install_path);
            let manifest = match &from.in_place {
                Some(p) => read_manifest(&p.dir, &p.root, name),
                None => read_manifest(&installed_copy, &installed_copy, name),
            };
            (from, manifest)
        },
    );
    let mut rows = Vec::new();
    for ((id, rec), (from, manifest)) in records.into_iter().zip(found) {
        let r = super::PluginRef::parse(&id);
        let (name, mkt) = (
            r.name.as_str(),
            r.marketplace.as_deref().unwrap_or_default(),
        );
        let FromMarketplace {
            in_place,
            mut errors,
        } = from;
        let folder_version = in_place.as_ref().and_then(|p| match &manifest {
            Ok(m) => m
                .as_ref()
                .and_then(|m| m.version.clone())
                .or_else(|| p.entry_version.clone()),
            Err(_) => None,
        });
        let mut error_details = Vec::new();
        if let Some((message, detail)) = load_problem(&manifest, name, mkt, dependency_problem) {
            errors.push(message);
            error_details.push(detail);
        }
        let foreign_project = rec.scope().is_some_and(Scope::is_project_bound)
            && rec.project_path.as_deref().map(Path::new) != Some(here);
        rows.push(InstalledRow {
            enabled: !foreign_project && effective(&id),
            project_enabled: value_in(Scope::Project, &id) == Some(true),
            version: rec.version,
            scope: rec.scope,
            install_path: rec.install_path,
            read_from_folder: in_place.map(|p| p.dir),
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
    /// A relative plugin of a folder marketplace: Claude Code loads it in place.
    in_place: Option<InPlace>,
    /// Why the marketplace has nothing to say.
    errors: Vec<String>,
}

struct InPlace {
    /// The plugin's folder in the marketplace, and the marketplace's root it lies in.
    dir: PathBuf,
    root: PathBuf,
    /// The entry's version, for a folder whose plugin.json has none.
    entry_version: Option<String>,
}

fn from_marketplace(
    loaded: &[LoadedMarketplace],
    plugin_name: &str,
    mkt_name: &str,
) -> FromMarketplace {
    let mut out = FromMarketplace {
        in_place: None,
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
                out.in_place = Some(InPlace {
                    dir,
                    root: m.root.clone(),
                    entry_version: entry.version.clone(),
                });
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
    manifest: &Result<Option<crate::manifest::PluginManifest>, ManifestError>,
    plugin: &str,
    marketplace: &str,
    unmet: impl Fn(&crate::schema::plugin_manifest::Dependency) -> Option<(&'static str, String)>,
) -> Option<(String, ErrorDetail)> {
    let detail = |kind, path: Option<PathBuf>, dependency: Option<String>| ErrorDetail {
        kind,
        plugin: plugin.to_string(),
        path,
        dependency,
    };
    let (kind, what, path) = match manifest {
        Ok(Some(m)) => {
            let (dependency, (kind, message)) =
                crate::schema::plugin_manifest::dependencies(&m.raw, marketplace)
                    .into_iter()
                    .find_map(|d| unmet(&d).map(|p| (d.id, p)))?;
            return Some((message, detail(kind, None, Some(dependency))));
        }
        Err(ManifestError::Corrupt { message, path, .. }) => (
            "manifest-parse-error",
            format!("Manifest parse error: {message}"),
            path.clone(),
        ),
        Err(ManifestError::Invalid { errors, path, .. }) => (
            "manifest-validation-error",
            format!("Manifest validation failed: {}", errors.join(", ")),
            path.clone(),
        ),
        _ => return None,
    };
    let message = format!("{} (in {})", what.replace('"', "”"), path.display());
    Some((message, detail(kind, Some(path), None)))
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
