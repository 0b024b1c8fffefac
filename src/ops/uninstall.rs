//! `uninstall`: drop an installation record and its enablement, orphan its cache folder.

use std::path::{Path, PathBuf};

use super::{Context, LookupError, OpError, PluginRef};
use crate::cache::mark_orphaned;
use crate::fsutil::remove_tree;
use crate::locations::Scope;
use crate::state::{InstalledPlugins, SettingsFile, Transaction};

/// What only `uninstall` refuses.
#[derive(Debug, thiserror::Error)]
pub enum UninstallError {
    #[error(
        "Plugin \"{id}\" is linked to the development checkout {} at {scope} scope; run `{unlink}` instead (it puts back what the link replaced, or uninstalls)",
        .checkout.display()
    )]
    Linked {
        id: String,
        scope: Scope,
        checkout: PathBuf,
        unlink: String,
    },
    #[error(
        "Plugin \"{id}\" is installed at managed scope because your organization's managed settings enable it; `plugin sync --prune` removes it once they no longer do."
    )]
    InstalledForManagedSettings { id: String },
}

impl UninstallError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            UninstallError::Linked { .. } => "linked",
            UninstallError::InstalledForManagedSettings { .. } => "managed_settings_override",
        }
    }
}

#[derive(Debug, Clone)]
pub struct UninstallReport {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub kept_data: bool,
}

pub fn uninstall(
    ctx: &Context,
    raw: &str,
    scope: Scope,
    keep_data: bool,
) -> Result<UninstallReport, OpError> {
    let r = PluginRef::parse(raw);
    let _lock = ctx.lock_state()?;
    let mut installed = ctx.installed()?;
    let id = match &r.marketplace {
        Some(m) => r.id(m),
        None => resolve_installed_name(&installed, &r.name)?,
    };
    let project = ctx.project_for(scope);
    let Some(record) = installed.find(&id, scope, project.as_deref()) else {
        let other = installed
            .records(&id)
            .into_iter()
            .find_map(|rec| rec.scope().filter(|s| *s != scope));
        return Err(match other {
            // Managed settings own it: `--scope managed` is refused for commands that write.
            Some(Scope::Managed) => UninstallError::InstalledForManagedSettings { id }.into(),
            Some(installed_scope) => LookupError::NotInstalledAtScope {
                id,
                installed: installed_scope,
                requested: scope,
                command: "uninstall",
            }
            .into(),
            None => LookupError::NotInstalled {
                id: raw.to_string(),
            }
            .into(),
        });
    };
    // A link keeps what it replaced (an install record, a folder moved aside) and a `dev`
    // catalog entry; only `unlink` puts those back, so it is the one way out of a link.
    let links = crate::state::Links::read(&ctx.loc.links_file())?;
    if let Some(link) = links.find(&id, scope, project.as_deref()) {
        return Err(UninstallError::Linked {
            unlink: super::link::unlink_command(&id, scope),
            checkout: link.checkout.clone(),
            id,
            scope,
        }
        .into());
    }
    // Settings first: a crash after this leaves an installed-but-disabled plugin, still visible.
    let mut settings = ctx.settings(scope)?;
    super::in_transaction(|tx| {
        if settings.remove_enabled(&id) {
            settings.write(tx).map_err(OpError::settings_write)?;
        }
        installed.remove(&id, scope, project.as_deref());
        installed.write(tx)?;
        orphan_if_unreferenced(&installed, Path::new(&record.install_path), tx)
    })?;
    // Not undoable, so only once the records are written.
    let last = installed.records(&id).is_empty();
    if last && !keep_data {
        remove_tree(&ctx.loc.plugin_data_dir(&id))?;
    }
    Ok(UninstallReport {
        name: r.name,
        id,
        scope,
        kept_data: keep_data,
    })
}

/// The id of the installed plugin called `name`; refused when several marketplaces have one.
fn resolve_installed_name(installed: &InstalledPlugins, name: &str) -> Result<String, OpError> {
    let mut ids: Vec<String> = installed
        .all()
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| PluginRef::parse(id).name == name)
        .collect();
    ids.dedup();
    match ids.len() {
        0 => Err(LookupError::NotInstalled {
            id: name.to_string(),
        }
        .into()),
        1 => Ok(ids.remove(0)),
        _ => Err(LookupError::Ambiguous {
            name: name.to_string(),
            candidates: ids,
        }
        .into()),
    }
}

pub(super) fn orphan_if_unreferenced(
    installed: &InstalledPlugins,
    path: &Path,
    tx: &mut Transaction,
) -> Result<(), OpError> {
    if !installed.references(path) {
        mark_orphaned(path, tx)?;
    }
    Ok(())
}

/// Uninstall every plugin of marketplace `name` from every scope (for `marketplace remove`), as
/// part of `tx`; returns their ids, whose data folders the caller removes once `tx` is done.
/// The caller holds the state lock and passes the settings files it already read.
pub fn remove_marketplace_installs(
    ctx: &Context,
    name: &str,
    settings: &mut [SettingsFile],
    tx: &mut Transaction,
) -> Result<Vec<String>, OpError> {
    let suffix = format!("@{name}");
    let mut installed = ctx.installed()?;
    let records: Vec<(String, crate::state::InstallRecord)> = installed
        .all()
        .into_iter()
        .filter(|(id, _)| id.ends_with(&suffix))
        .collect();
    let mut ids: Vec<String> = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    for (id, rec) in &records {
        if let Some(scope) = rec.scope() {
            installed.remove(id, scope, rec.project_path.as_deref().map(Path::new));
        }
        if !ids.contains(id) {
            ids.push(id.clone());
        }
        paths.push(PathBuf::from(&rec.install_path));
    }
    for f in settings.iter_mut() {
        let mut changed = false;
        for id in &ids {
            changed |= f.remove_enabled(id);
        }
        if changed {
            f.write(tx).map_err(OpError::settings_write)?;
        }
    }
    if !records.is_empty() {
        installed.write(tx)?;
    }
    for p in paths {
        orphan_if_unreferenced(&installed, &p, tx)?;
    }
    Ok(ids)
}
