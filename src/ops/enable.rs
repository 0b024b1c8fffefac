//! `enable` / `disable`: write `enabledPlugins[id]` in one settings scope.
//!
//! Without `--scope`, the most specific settings file that mentions the id (local → project →
//! user) is edited, else user settings; a bare name is looked up among the ids those files and
//! `installed_plugins.json` mention.

use super::{Context, OpError, PluginRef};
use crate::locations::Scope;
use crate::state::settings::writable_scopes;

#[derive(Debug, Clone)]
pub struct EnableReport {
    pub id: String,
    pub name: String,
    pub scope: Scope,
}

pub fn set_enabled(
    ctx: &Context,
    raw: &str,
    scope: Option<Scope>,
    enable: bool,
) -> Result<EnableReport, OpError> {
    let r = PluginRef::parse(raw);
    let _lock = ctx.lock_state()?;
    let mut files = Vec::new();
    for s in writable_scopes() {
        files.push(ctx.settings(s)?);
    }
    let id = match &r.marketplace {
        Some(m) => r.id(m),
        None => {
            let mut ids: Vec<String> = files
                .iter()
                .rev()
                .flat_map(|f| f.enabled_plugins().into_iter().map(|(id, _)| id))
                .chain(ctx.installed()?.all().into_iter().map(|(id, _)| id))
                .filter(|id| PluginRef::parse(id).name == r.name)
                .collect();
            ids.dedup();
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            match unique.len() {
                0 => return Err(OpError::NotInSettings { name: r.name }),
                1 => ids.remove(0),
                _ => {
                    return Err(OpError::Ambiguous {
                        name: r.name,
                        candidates: unique,
                    });
                }
            }
        }
    };
    let target = scope.unwrap_or_else(|| {
        [Scope::Local, Scope::Project, Scope::User]
            .into_iter()
            .find(|s| {
                files
                    .iter()
                    .any(|f| f.scope == *s && f.enabled(&id).is_some())
            })
            .unwrap_or(Scope::User)
    });
    let file = files
        .iter_mut()
        .find(|f| f.scope == target)
        .ok_or(OpError::NotInSettings {
            name: r.name.clone(),
        })?;
    let current = file.enabled(&id) == Some(true);
    if current == enable {
        return Err(OpError::AlreadyInGoalState {
            id,
            state: if enable { "enabled" } else { "disabled" },
            scope,
        });
    }
    file.set_enabled(&id, enable);
    file.write().map_err(OpError::SettingsWrite)?;
    Ok(EnableReport {
        id,
        name: r.name,
        scope: target,
    })
}

/// `disable --all`: every `true` in every writable scope becomes `false`. Returns how many.
pub fn disable_all(ctx: &Context) -> Result<usize, OpError> {
    let _lock = ctx.lock_state()?;
    // Read every scope first, so one unreadable file fails the command before any is rewritten.
    let mut files = Vec::new();
    for s in writable_scopes() {
        files.push(ctx.settings(s)?);
    }
    let mut count = 0;
    for mut f in files {
        let on: Vec<String> = f
            .enabled_plugins()
            .into_iter()
            .filter(|(_, v)| *v)
            .map(|(id, _)| id)
            .collect();
        for id in &on {
            f.set_enabled(id, false);
        }
        if !on.is_empty() {
            f.write().map_err(OpError::SettingsWrite)?;
        }
        count += on.len();
    }
    Ok(count)
}
