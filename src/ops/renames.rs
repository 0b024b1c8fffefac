//! Following a marketplace's `renames` in the settings files: `enabledPlugins` (and
//! `pluginConfigs`) keys `old@m` become `new@m`, or go when the chain ends in `null`, in user,
//! project and local settings, as Claude Code does at session start. Managed settings are never
//! written. `installed_plugins.json` is left alone: an installed copy keeps its old id until the
//! new one is installed (Claude Code too needs a reinstall for a renamed remote plugin).

use std::collections::HashSet;
use std::path::PathBuf;

use super::{Context, OpError};
use crate::locations::Scope;
use crate::marketplace::Marketplace;
use crate::schema::renames::{Resolution, Unresolved};

/// What following the renames did (or could not do) to one key of one settings file.
#[derive(Debug, Clone, PartialEq)]
pub struct RenameNotice {
    pub marketplace: String,
    /// The key as found (`old@m`); empty for a problem of the catalog itself.
    pub old_id: String,
    /// The settings file; `None` for a problem of the catalog itself.
    pub scope: Option<Scope>,
    pub file: Option<PathBuf>,
    pub change: RenameChange,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RenameChange {
    /// The key now reads `new_id` (`kept_existing`: `new_id` was already there and kept its
    /// value; the old key was dropped).
    Renamed {
        new_id: String,
        new_name: String,
        kept_existing: bool,
    },
    /// The chain ends in `null`: the key was dropped.
    Removed,
    /// The chain does not resolve; the key was left as it is.
    Unresolved {
        reason: Unresolved,
        chain: Vec<String>,
    },
    /// The catalog's `renames` is unusable (not an object); nothing was followed.
    InvalidRenames(String),
}

impl RenameNotice {
    /// Whether a settings file was changed.
    pub fn changed(&self) -> bool {
        matches!(
            self.change,
            RenameChange::Renamed { .. } | RenameChange::Removed
        )
    }

    /// The notice in Claude Code's words.
    pub fn message(&self) -> String {
        let m = &self.marketplace;
        match &self.change {
            RenameChange::Renamed { new_name, .. } => {
                format!("Renamed to \"{new_name}\" in the \"{m}\" marketplace")
            }
            RenameChange::Removed => format!("Removed from the \"{m}\" marketplace"),
            RenameChange::Unresolved { reason, chain } => format!(
                "Plugin \"{}\" has a renames entry but it does not resolve ({reason}: {}); left unchanged. A renames target must be a name in plugins[], a key in renames, or null",
                self.old_id,
                chain.join(" → ")
            ),
            RenameChange::InvalidRenames(problem) => {
                format!("Marketplace \"{m}\": {problem}; its renames were not followed")
            }
        }
    }
}

/// Follow `marketplace`'s renames (it is known as `name`) in every writable settings file, under
/// the state lock. All three files are read before any is written, so an unreadable one changes
/// nothing; a file is rewritten (atomically, other keys kept) only when something changed.
pub fn follow(
    ctx: &Context,
    name: &str,
    marketplace: &Marketplace,
) -> Result<Vec<RenameNotice>, OpError> {
    let renames = &marketplace.manifest.renames;
    if let Some(problem) = &renames.problem {
        return Ok(vec![RenameNotice {
            marketplace: name.to_string(),
            old_id: String::new(),
            scope: None,
            file: None,
            change: RenameChange::InvalidRenames(problem.clone()),
        }]);
    }
    if renames.entries.is_empty() {
        return Ok(Vec::new());
    }
    let listed: HashSet<&str> = marketplace
        .manifest
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let _lock = ctx.lock_state()?;
    let mut files = ctx.writable_settings().map_err(OpError::settings_write)?;
    let mut notices = Vec::new();
    // One step: a file that cannot be written leaves the others as they were.
    super::in_transaction(|tx| {
        for file in &mut files {
            let mut changed = false;
            for old_id in file.enabled_plugin_keys() {
                let Some((plugin, mkt)) = old_id.split_once('@') else {
                    continue;
                };
                // A name still listed is still that plugin, whatever renames says (Claude Code).
                if mkt != name || listed.contains(plugin) {
                    continue;
                }
                let Some(resolution) = renames.resolve(plugin, &listed) else {
                    continue;
                };
                let change = match resolution {
                    Resolution::Renamed { to } => {
                        let new_id = format!("{to}@{name}");
                        let kept_existing =
                            file.rename_plugin(&old_id, Some(&new_id)) == Some(true);
                        RenameChange::Renamed {
                            new_id,
                            new_name: to,
                            kept_existing,
                        }
                    }
                    Resolution::Removed => {
                        file.rename_plugin(&old_id, None);
                        RenameChange::Removed
                    }
                    Resolution::Unresolved { reason, chain } => {
                        RenameChange::Unresolved { reason, chain }
                    }
                };
                let notice = RenameNotice {
                    marketplace: name.to_string(),
                    old_id,
                    scope: Some(file.scope),
                    file: Some(file.path().to_path_buf()),
                    change,
                };
                changed |= notice.changed();
                notices.push(notice);
            }
            if changed {
                file.write(tx).map_err(OpError::settings_write)?;
            }
        }
        Ok(())
    })?;
    Ok(notices)
}
