//! `resolve`: the installed plugin as a host loads it ([`PluginDefinition`]): its installation
//! visible from the project, its marketplace entry (when still listed), the `pluginConfigs`
//! options of the user and managed settings. Reads only; the one thing it may create is the plugin's data folder,
//! when a substitution used `${CLAUDE_PLUGIN_DATA}` (Claude Code creates it on first reference).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Context, LookupError, OpError, PluginRef, load_configured};
use crate::definition::{
    DefinitionInputs, Installation, Named, OptionSource, OptionValue, PluginDefinition, Warning,
    WarningKind,
};
use crate::fsutil::IoContext;
use crate::locations::Scope;
use crate::marketplace::Marketplace;
use crate::state::InstallRecord;

/// `resolve` of a plugin with no installation visible here: says how to get one.
#[derive(Debug, thiserror::Error)]
#[error("{}", not_installed_message(.typed, .project, .elsewhere.as_deref()))]
pub struct NotInstalledForResolve {
    typed: String,
    project: PathBuf,
    /// A project it is installed for (project or local scope), when there is one.
    elsewhere: Option<PathBuf>,
}

fn not_installed_message(typed: &str, project: &Path, elsewhere: Option<&Path>) -> String {
    match elsewhere {
        Some(p) => format!(
            "Plugin \"{typed}\" is installed only for the project {}, not for {}. Resolve it there (--project-dir {}), or install it here with `plugin install {typed}`.",
            p.display(),
            project.display(),
            p.display()
        ),
        None => format!(
            "Plugin \"{typed}\" is not installed. Install it with `plugin install {typed}`, then resolve it."
        ),
    }
}

/// `show_secrets`: substitute and show sensitive options as they are (else masked).
pub fn resolve(ctx: &Context, raw: &str, show_secrets: bool) -> Result<PluginDefinition, OpError> {
    resolve_with_entry(ctx, raw, show_secrets).map(|(def, _)| def)
}

/// [`resolve`], and the marketplace entry that took part (when still listed).
pub(super) fn resolve_with_entry(
    ctx: &Context,
    raw: &str,
    show_secrets: bool,
) -> Result<(PluginDefinition, Option<crate::marketplace::PluginEntry>), OpError> {
    let (id, record, scope) = installation_loading_here(ctx, raw)?;
    let r = PluginRef::parse(&id);
    let (name, marketplace) = (r.name, r.marketplace.unwrap_or_default());

    let mut warnings = Vec::new();
    let catalog = load_catalog(ctx, &marketplace, &mut warnings)?;
    let entry = catalog
        .as_ref()
        .and_then(|m| m.manifest.entries.iter().find(|e| e.name == name));
    if catalog.is_some() && entry.is_none() {
        warnings.push(no_entry(format!(
            "marketplace \"{marketplace}\" no longer lists \"{name}\"; resolved from plugin.json and the plugin's folders only"
        )));
    }

    let options = set_options(ctx, &id)?;
    let data_dir = ctx.loc.plugin_data_dir(&id);
    let def = PluginDefinition::build(DefinitionInputs {
        installation: Installation {
            plugin_id: id.clone(),
            name,
            marketplace,
            version: record.version,
            scope: scope.as_str().to_string(),
            project_path: record.project_path,
            root: PathBuf::from(&record.install_path),
            read_from_folder: catalog
                .as_ref()
                .zip(entry)
                .and_then(|(m, e)| super::list::loaded_in_place(m, e)),
        },
        entry,
        data_dir,
        project_dir: ctx.loc.project_path().to_path_buf(),
        options,
        secrets: super::configure::secrets_of(ctx, &id)?,
        show_secrets,
        warnings,
        manifest_file: None,
    })?;
    if def.uses_data_dir {
        std::fs::create_dir_all(&def.data_dir).at("create", &def.data_dir)?;
    }
    let mut def = def;
    def.dependencies = dependency_states(ctx, &def)?;
    Ok((def, entry.cloned()))
}

/// The installation of the plugin `raw` names that loads in this project: the most specific
/// scope (local > project > user), a managed one above all. Refused when `raw` matches several
/// plugins, or none installed here.
fn installation_loading_here(
    ctx: &Context,
    raw: &str,
) -> Result<(String, InstallRecord, Scope), OpError> {
    let r = PluginRef::parse_checked(raw)?;
    let installed = ctx.installed_now()?;
    let here = ctx.loc.project_path();
    let visible: Vec<_> = installed
        .visible_from(here)
        .into_iter()
        .filter(|(id, _, _)| r.matches(id))
        .collect();
    let mut ids: Vec<&str> = visible.iter().map(|(id, _, _)| id.as_str()).collect();
    ids.dedup();
    if ids.len() > 1 {
        return Err(LookupError::AmbiguousInstalled {
            name: r.name,
            candidates: ids.iter().map(|s| s.to_string()).collect(),
        }
        .into());
    }
    let Some(found) = visible.into_iter().max_by_key(|(_, _, scope)| *scope) else {
        let elsewhere = installed
            .all()
            .into_iter()
            .filter(|(id, _)| r.matches(id))
            .find_map(|(_, rec)| rec.project_path);
        return Err(NotInstalledForResolve {
            typed: raw.to_string(),
            project: here.to_path_buf(),
            elsewhere: elsewhere.map(PathBuf::from),
        }
        .into());
    };
    Ok(found)
}

/// The plugin's marketplace, loaded; `None`, with a warning, when it cannot be.
fn load_catalog(
    ctx: &Context,
    marketplace: &str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Marketplace>, OpError> {
    let configured = ctx.configured_marketplaces()?;
    let loaded = load_configured(&configured, |n| n == marketplace);
    Ok(match loaded.into_iter().next().map(|l| l.marketplace) {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            warnings.push(no_entry(format!(
                "marketplace \"{marketplace}\" could not be loaded ({e}); resolved from plugin.json and the plugin's folders only"
            )));
            None
        }
        None => {
            warnings.push(no_entry(format!(
                "marketplace \"{marketplace}\" is not configured any more; resolved from plugin.json and the plugin's folders only"
            )));
            None
        }
    })
}

/// `pluginConfigs[id].options` of the user settings, then of the managed settings, which win key
/// by key (docs §5.2; project and local settings are not read since Claude Code 2.1.207, and
/// `plugin` has no `--settings`).
fn set_options(ctx: &Context, id: &str) -> Result<Named<OptionValue>, OpError> {
    let user = ctx.settings(Scope::User)?;
    let managed = ctx.managed()?;
    let layers = [
        (user.doc().object("pluginConfigs"), OptionSource::User),
        (
            managed.get("pluginConfigs").and_then(Value::as_object),
            OptionSource::Managed,
        ),
    ];
    let mut out = Named::default();
    for (configs, from) in layers {
        let options = configs
            .and_then(|m| m.get(id))
            .and_then(|c| c.get("options"))
            .and_then(Value::as_object);
        for (key, value) in options.into_iter().flatten() {
            out.insert(
                key.clone(),
                OptionValue {
                    value: value.clone(),
                    from: Some(from),
                },
            );
        }
    }
    Ok(out)
}

fn no_entry(message: String) -> Warning {
    Warning::new(WarningKind::NoMarketplaceEntry, None, message)
}

/// What the plugin's manifest says it depends on, and what is installed of each.
fn dependency_states(
    ctx: &Context,
    def: &PluginDefinition,
) -> Result<Vec<crate::definition::DependencyState>, OpError> {
    let Some(fields) = &def.manifest_fields else {
        return Ok(Vec::new());
    };
    let declared =
        crate::schema::plugin_manifest::dependencies(fields, &def.installation.marketplace);
    if declared.is_empty() {
        return Ok(Vec::new());
    }
    let nodes = super::dependencies::installed_graph(ctx)?;
    let loading = super::dependencies::loading(&nodes, super::dependencies::enabled_in(ctx)?);
    Ok(declared
        .iter()
        .map(|d| crate::definition::DependencyState {
            plugin_id: d.id.clone(),
            range: d.range.clone(),
            installed: (nodes.iter().find(|n| n.id == d.id)).and_then(|n| n.version.clone()),
            unmet: super::dependencies::unmet(&nodes, &loading, d).map(|(_, why)| why),
        })
        .collect())
}
