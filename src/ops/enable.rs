//! `enable` / `disable`: write `enabledPlugins[id]` in one settings scope, as Claude Code does.
//!
//! Without `--scope`, the most specific settings file that mentions the id (local → project →
//! user) is edited, else user settings; a bare name is looked up among the ids those files and
//! `installed_plugins.json` mention. An explicit `--scope` of higher precedence than that file
//! writes an override there; a lower one that does not mention the id is refused (the value would
//! be overridden anyway). Managed settings are read, never written: a plugin they set to `true`
//! cannot be disabled, one they set to `false` cannot be enabled.

use serde_json::Value;

use super::{Context, LookupError, OpError, PluginRef};
use crate::locations::Scope;
use crate::state::SettingsFile;
use crate::state::managed::ManagedSettings;

/// What only `enable` and `disable` refuse.
#[derive(Debug, thiserror::Error)]
pub enum ToggleError {
    #[error("Plugin \"{id}\" is already {state}{}", .scope.map(|s| format!(" at {s} scope")).unwrap_or_default())]
    AlreadyInGoalState {
        id: String,
        state: &'static str,
        scope: Option<Scope>,
    },
    #[error(
        "Plugin \"{name}\" not found in any editable settings scope. Use plugin@marketplace format."
    )]
    NotInSettings { name: String },
    #[error(
        "Plugin \"{typed}\" is installed at {found} scope, not {requested}. Use --scope {found} or omit --scope to auto-detect."
    )]
    SetAtOtherScope {
        typed: String,
        found: Scope,
        requested: Scope,
    },
    #[error("Plugin \"{name}\" not found in settings. Use plugin@marketplace format.")]
    NotInSettingsAtScope { name: String },
    #[error("Plugin \"{id}\" is blocked by your organization's policy and cannot be enabled")]
    PolicyBlocked { id: String },
    #[error("This plugin is managed by your organization. Contact your admin to disable it.")]
    ManagedOverride,
    #[error(
        "Managed settings are read-only: they come from your organization and this tool never writes them. Use --scope user, project or local."
    )]
    ManagedReadOnly,
    /// Disabling a plugin that enabled plugins depend on (Claude Code's message and chain).
    #[error(
        "{name} is still required by {}. Disable {} first, or disable everything together: {}",
        names(.dependents).join(", "),
        if .dependents.len() == 1 { "that plugin" } else { "those plugins" },
        .disable_first.iter().chain(std::iter::once(.id)).map(|i| format!("plugin disable {i}")).collect::<Vec<_>>().join(" && ")
    )]
    RequiredByDependents {
        id: String,
        name: String,
        /// The enabled plugins that name it (ids).
        dependents: Vec<String>,
        /// Every enabled plugin depending on it, the most dependent first.
        disable_first: Vec<String>,
    },
    #[error(
        "{name} depends on {}, which {} not installed. Install {} first: {}",
        .missing.join(", "),
        if .missing.len() == 1 { "is" } else { "are" },
        if .missing.len() == 1 { "it" } else { "them" },
        .missing.iter().map(|i| format!("plugin install {i}")).collect::<Vec<_>>().join(" && ")
    )]
    DependencyMissing { name: String, missing: Vec<String> },
    #[error(
        "{name} depends on {}, which {} blocked by your organization's plugin policy. Ask an admin to allow {}.",
        .blocked.join(", "),
        if .blocked.len() == 1 { "is" } else { "are" },
        if .blocked.len() == 1 { "it" } else { "them" }
    )]
    DependencyBlocked { name: String, blocked: Vec<String> },
    #[error(
        "{name} depends on {dependency} ({scope} scope), which is disabled there. Enable it at that scope, or use --scope {scope} to write where the override lives."
    )]
    DependencyDisabled {
        name: String,
        dependency: String,
        scope: Scope,
    },
}

/// The names of plugin ids.
fn names(ids: &[String]) -> Vec<&str> {
    ids.iter().map(|i| super::plugin_name(i)).collect()
}

impl ToggleError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            ToggleError::AlreadyInGoalState { .. } => "already_in_goal_state",
            ToggleError::NotInSettings { .. } | ToggleError::NotInSettingsAtScope { .. } => {
                "ambiguous_marketplace"
            }
            ToggleError::SetAtOtherScope { .. } => "not_installed_at_scope",
            ToggleError::PolicyBlocked { .. } => "plugin_policy_blocked",
            ToggleError::ManagedOverride => "managed_settings_override",
            ToggleError::RequiredByDependents { .. } => "required_by_dependents",
            ToggleError::DependencyMissing { .. } => "dependency_missing",
            ToggleError::DependencyBlocked { .. } => "dependency_policy_blocked",
            ToggleError::DependencyDisabled { .. } => "dependency_disabled",
            ToggleError::ManagedReadOnly => "error_validation",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EnableReport {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// Dependencies enabled with it (ids).
    pub also_enabled: Vec<String>,
}

/// What managed settings say about `id` in `enabledPlugins`: `true` forces it on everywhere,
/// `false` blocks it everywhere.
pub fn managed_value(managed: &ManagedSettings, id: &str) -> Option<bool> {
    managed
        .get("enabledPlugins")
        .and_then(|v| v.get(id))
        .and_then(Value::as_bool)
}

/// Whether `id` is enabled where it counts from here: managed settings, else the most specific
/// of `files` that says.
pub fn is_enabled(managed: &ManagedSettings, files: &[SettingsFile], id: &str) -> bool {
    managed_value(managed, id).or(deciding(files, id).map(|(_, v)| v)) == Some(true)
}

/// The most specific writable scope whose file mentions `id`, with its value.
pub(super) fn deciding(files: &[SettingsFile], id: &str) -> Option<(Scope, bool)> {
    files
        .iter()
        .filter_map(|f| f.enabled(id).map(|v| (f.scope, v)))
        .max_by_key(|(s, _)| *s)
}

/// The id a bare plugin name stands for: the one settings files (most specific first) or
/// installations mention.
fn id_of_bare_name(
    ctx: &Context,
    files: &[SettingsFile],
    name: &str,
    scope: Option<Scope>,
) -> Result<String, OpError> {
    let mut ids: Vec<String> = files
        .iter()
        .rev()
        .flat_map(|f| f.enabled_plugins().into_iter().map(|(id, _)| id))
        .chain(ctx.installed()?.all().into_iter().map(|(id, _)| id))
        .filter(|id| {
            let p = PluginRef::parse(id);
            p.name == name && p.marketplace.is_some_and(|m| !m.is_empty())
        })
        .collect();
    ids.dedup();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    match unique.len() {
        0 if scope.is_some() => Err(ToggleError::NotInSettingsAtScope {
            name: name.to_string(),
        }
        .into()),
        0 => Err(ToggleError::NotInSettings {
            name: name.to_string(),
        }
        .into()),
        1 => Ok(ids.remove(0)),
        _ => Err(LookupError::Ambiguous {
            name: name.to_string(),
            candidates: unique,
        }
        .into()),
    }
}

pub fn set_enabled(
    ctx: &Context,
    raw: &str,
    scope: Option<Scope>,
    enable: bool,
) -> Result<EnableReport, OpError> {
    if scope == Some(Scope::Managed) {
        return Err(ToggleError::ManagedReadOnly.into());
    }
    let r = PluginRef::parse_checked(raw)?;
    let managed = ctx.managed()?;
    let _lock = ctx.lock_state()?;
    let mut files = ctx.writable_settings()?;
    let id = match &r.marketplace {
        Some(m) => r.id(m),
        None => id_of_bare_name(ctx, &files, &r.name, scope)?,
    };
    // Claude Code's order: the policy first, then the scope, then the goal state.
    let forced = managed_value(managed, &id);
    if enable && forced == Some(false) {
        return Err(ToggleError::PolicyBlocked { id }.into());
    }
    if !enable && forced == Some(true) {
        return Err(ToggleError::ManagedOverride.into());
    }
    let found = deciding(&files, &id);
    let target = match scope {
        Some(s) => s,
        None => found.map(|(s, _)| s).unwrap_or(Scope::User),
    };
    let file_index = files
        .iter()
        .position(|f| f.scope == target)
        .ok_or(ToggleError::ManagedReadOnly)?;
    let at_target = files[file_index].enabled(&id);
    // An override is written only above the deciding file; below it, the value would not count.
    let above = match (scope, found) {
        (Some(s), Some((f, _))) => s > f,
        _ => false,
    };
    if let (Some(s), Some((f, _)), None) = (scope, found, at_target)
        && f != s
        && !above
    {
        return Err(ToggleError::SetAtOtherScope {
            typed: raw.to_string(),
            found: f,
            requested: s,
        }
        .into());
    }
    // The state the command is judged against: that of the named scope when it is the deciding
    // one (or below it but mentioning the id), else the effective one.
    let current = if scope.is_some() && !above {
        at_target == Some(true)
    } else {
        forced.or(found.map(|(_, v)| v)) == Some(true)
    };
    if current == enable {
        return Err(ToggleError::AlreadyInGoalState {
            id: raw.to_string(),
            state: if enable { "enabled" } else { "disabled" },
            scope,
        }
        .into());
    }
    // Dependencies: a plugin others need stays enabled; one enabled brings what it needs.
    let nodes = super::dependencies::installed_graph(ctx)?;
    let graph = super::dependencies::declared_dependencies(&nodes);
    let effective = |other: &str| is_enabled(managed, &files, other);
    // Only plugins that load count as needing it (Claude Code sets aside the others).
    let loaded = super::dependencies::loading(&nodes, effective);
    let effective = |other: &str| loaded.iter().any(|l| l == other);
    let mut also_enabled = Vec::new();
    if enable {
        let at_target = |other: &str| files[file_index].enabled(other) == Some(true);
        also_enabled =
            super::dependencies::to_enable_with(&graph, &id, at_target).map_err(|missing| {
                ToggleError::DependencyMissing {
                    name: r.name.clone(),
                    missing,
                }
            })?;
        // Managed settings block some, or a more specific file turns one off: refused.
        let blocked: Vec<String> = (also_enabled.iter())
            .filter(|d| managed_value(managed, d) == Some(false))
            .cloned()
            .collect();
        if !blocked.is_empty() {
            return Err(ToggleError::DependencyBlocked {
                name: r.name,
                blocked,
            }
            .into());
        }
        let overridden = also_enabled.iter().find_map(|d| match deciding(&files, d) {
            Some((s, false)) if s > target => Some((d.clone(), s)),
            _ => None,
        });
        if let Some((dependency, scope)) = overridden {
            return Err(ToggleError::DependencyDisabled {
                name: r.name,
                dependency,
                scope,
            }
            .into());
        }
    } else {
        let (dependents, disable_first) =
            super::dependencies::enabled_dependents(&graph, &id, effective);
        if !dependents.is_empty() {
            return Err(ToggleError::RequiredByDependents {
                id,
                name: r.name,
                dependents,
                disable_first,
            }
            .into());
        }
    }
    let file = &mut files[file_index];
    file.set_enabled(&id, enable);
    for dep in &also_enabled {
        file.set_enabled(dep, true);
    }
    super::in_transaction(|tx| file.write(tx).map_err(OpError::settings_write))?;
    Ok(EnableReport {
        id,
        name: r.name,
        scope: target,
        also_enabled,
    })
}

#[derive(Debug, Clone, Default)]
pub struct DisableAllReport {
    /// Ids disabled, with the scope written.
    pub disabled: Vec<(String, Scope)>,
    /// Ids left alone because managed settings force them on.
    pub skipped_managed: Vec<String>,
}

/// `disable --all`, as Claude Code: every plugin enabled here (by user, project or local
/// settings) is disabled in the file that decides it, except those managed settings force on,
/// which are counted and left alone.
pub fn disable_all(ctx: &Context) -> Result<DisableAllReport, OpError> {
    let managed = ctx.managed()?;
    let _lock = ctx.lock_state()?;
    let mut files = ctx.writable_settings()?;
    let installed: std::collections::HashSet<String> = ctx
        .installed()?
        .all()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut ids: Vec<String> = Vec::new();
    for f in &files {
        for (id, _) in f.enabled_plugins() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let mut report = DisableAllReport::default();
    for id in &ids {
        if let Some((scope, true)) = deciding(&files, id)
            && managed_value(managed, id).is_none()
        {
            report.disabled.push((id.clone(), scope));
        }
    }
    // Counted as Claude Code counts them: forced plugins enabled here or installed.
    if let Some(Value::Object(m)) = managed.get("enabledPlugins") {
        for (id, v) in m {
            if v == &Value::Bool(true)
                && (installed.contains(id) || matches!(deciding(&files, id), Some((_, true))))
            {
                report.skipped_managed.push(id.clone());
            }
        }
    }
    // One step: a file that cannot be written leaves the others as they were.
    super::in_transaction(|tx| {
        for f in &mut files {
            let mine: Vec<&String> = (report.disabled.iter())
                .filter(|(_, s)| *s == f.scope)
                .map(|(id, _)| id)
                .collect();
            for id in &mine {
                f.set_enabled(id, false);
            }
            if !mine.is_empty() {
                f.write(tx).map_err(OpError::settings_write)?;
            }
        }
        Ok(())
    })?;
    Ok(report)
}
