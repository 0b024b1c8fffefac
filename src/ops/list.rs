//! `list`: every installation (all scopes, all projects), and optionally what is available.

use std::path::{Path, PathBuf};

use super::{Context, LoadedMarketplace, OpError, load_configured};
use crate::locations::Scope;
use crate::manifest::read_manifest;

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
    /// Why the plugin cannot be shown fully (e.g. its marketplace fails to load).
    pub errors: Vec<String>,
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
            errors,
        } = from_marketplace(&loaded, &id);
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
