//! `marketplace add | list | update | remove`.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use super::{Context, OpError, uninstall};
use crate::fsutil::iso_timestamp;
use crate::locations::Scope;
use crate::marketplace::names::reserved_name_problem;
use crate::marketplace::{Marketplace, MarketplaceError, MarketplaceSource};
use crate::state::settings::writable_scopes;

#[derive(Debug, Clone, PartialEq)]
pub enum AddOutcome {
    Added,
    /// Same name and source: nothing to fetch; the declaration is (re)written for the scope.
    AlreadyOnDisk,
    /// Same name, other source: re-pointed (`previous` is the old source's description).
    Repointed {
        previous: String,
    },
}

#[derive(Debug, Clone)]
pub struct AddReport {
    pub name: String,
    pub scope: Scope,
    pub source: MarketplaceSource,
    pub outcome: AddOutcome,
    /// Entries that cannot be installed (reported, never fatal).
    pub entry_problems: Vec<String>,
}

pub fn add(ctx: &Context, raw: &str, scope: Scope) -> Result<AddReport, OpError> {
    let source = MarketplaceSource::parse_cli(raw, |p| ctx.loc.user_path(p))?;
    let marketplace = Marketplace::load(&source)?;
    let name = marketplace.name().to_string();
    if let Some(msg) = reserved_name_problem(&name) {
        return Err(MarketplaceError::Reserved(msg).into());
    }
    let source_json = source.to_json();
    let install_location = source
        .local_root()
        .unwrap_or_else(|| ctx.loc.marketplaces_dir().join(&name));

    let _lock = ctx.lock_state()?;
    let mut known = ctx.known()?;
    let mut settings = ctx.settings(scope)?;
    let outcome = match known.get(&name) {
        Some(k) if k.source == source_json => AddOutcome::AlreadyOnDisk,
        Some(k) => AddOutcome::Repointed {
            previous: MarketplaceSource::from_json(&k.source)
                .map(|s| s.describe())
                .unwrap_or_else(|| k.source.to_string()),
        },
        None => AddOutcome::Added,
    };
    fs::create_dir_all(ctx.loc.marketplaces_dir()).map_err(|e| {
        crate::fsutil::IoError::new("create directory", ctx.loc.marketplaces_dir(), e)
    })?;
    if outcome != AddOutcome::AlreadyOnDisk {
        known.upsert(&name, &source_json, &install_location, &iso_timestamp());
        known.write()?;
    }
    if settings
        .declared_marketplace(&name)
        .and_then(|d| d.get("source"))
        != Some(&source_json)
    {
        settings.declare_marketplace(&name, &source_json);
        settings.write()?;
    }
    let entry_problems = marketplace
        .manifest
        .problems
        .iter()
        .map(|p| p.message.clone())
        .collect();
    Ok(AddReport {
        name,
        scope,
        source,
        outcome,
        entry_problems,
    })
}

/// One row of `marketplace list`.
#[derive(Debug, Clone)]
pub struct MarketplaceRow {
    pub name: String,
    pub source: Value,
    pub install_location: PathBuf,
}

/// Known marketplaces in the order they were added.
pub fn list(ctx: &Context) -> Result<Vec<MarketplaceRow>, OpError> {
    Ok(ctx
        .known()?
        .all()
        .into_iter()
        .map(|k| MarketplaceRow {
            name: k.name,
            source: k.source,
            install_location: k.install_location,
        })
        .collect())
}

#[derive(Debug, Clone)]
pub struct UpdateReport {
    pub name: String,
    pub steps: Vec<String>,
}

/// Re-read and validate one marketplace (local sources are read in place).
pub fn update_one(ctx: &Context, name: &str) -> Result<UpdateReport, OpError> {
    let known = ctx.known()?;
    let Some(entry) = known.get(name) else {
        return Err(OpError::MarketplaceNotConfiguredUpdate {
            name: name.to_string(),
            available: known.all().into_iter().map(|k| k.name).collect(),
        });
    };
    let source = MarketplaceSource::from_json(&entry.source)
        .ok_or_else(|| MarketplaceError::Unsupported(entry.source.to_string()))?;
    Marketplace::load(&source).map_err(|e| OpError::MarketplaceLoad {
        name: name.to_string(),
        source: e,
    })?;
    let _lock = ctx.lock_state()?;
    let mut known = ctx.known()?;
    known.touch(name, &iso_timestamp());
    known.write()?;
    Ok(UpdateReport {
        name: name.to_string(),
        steps: vec![
            "Validating local marketplace".to_string(),
            format!("Successfully updated marketplace: {name}"),
        ],
    })
}

/// The result of updating one marketplace, by name.
pub type NamedUpdate = (String, Result<UpdateReport, OpError>);

/// Update every known marketplace; one result per marketplace.
pub fn update_all(ctx: &Context) -> Result<Vec<NamedUpdate>, OpError> {
    let names: Vec<String> = ctx.known()?.all().into_iter().map(|k| k.name).collect();
    Ok(names
        .into_iter()
        .map(|n| {
            let r = update_one(ctx, &n);
            (n, r)
        })
        .collect())
}

#[derive(Debug, Clone)]
pub struct RemoveReport {
    pub name: String,
    /// The scope named with `--scope`, if any.
    pub only_scope: Option<Scope>,
    pub uninstalled: Vec<String>,
}

/// Remove a marketplace's declaration (from one scope, or every scope). When no declaration is
/// left, its plugins are uninstalled, their folders orphaned, and it is forgotten.
pub fn remove(ctx: &Context, name: &str, scope: Option<Scope>) -> Result<RemoveReport, OpError> {
    let _lock = ctx.lock_state()?;
    let mut known = ctx.known()?;
    // Refuse an unreadable installed_plugins.json before any settings file is rewritten.
    ctx.installed()?;
    let mut files = Vec::new();
    for s in writable_scopes() {
        files.push(ctx.settings(s)?);
    }
    let declared_in = |s: Scope| {
        files
            .iter()
            .any(|f| f.scope == s && f.declared_marketplace(name).is_some())
    };
    if let Some(s) = scope {
        if !declared_in(s) {
            return Err(OpError::NotDeclaredAtScope {
                name: name.to_string(),
                scope: s,
            });
        }
    } else if known.get(name).is_none() && !writable_scopes().iter().any(|s| declared_in(*s)) {
        return Err(OpError::MarketplaceNotConfigured(name.to_string()));
    }
    for f in files.iter_mut() {
        if scope.is_none_or(|s| s == f.scope) && f.undeclare_marketplace(name) {
            f.write()?;
        }
    }
    let still_declared =
        scope.is_some() && files.iter().any(|f| f.declared_marketplace(name).is_some());
    if still_declared {
        return Ok(RemoveReport {
            name: name.to_string(),
            only_scope: scope,
            uninstalled: Vec::new(),
        });
    }
    let uninstalled = uninstall::remove_marketplace_installs(ctx, name, &mut files)?;
    if known.remove(name) {
        known.write()?;
    }
    let clone = ctx.loc.marketplaces_dir().join(name);
    if clone.exists() {
        crate::fsutil::remove_tree(&clone)?;
    }
    Ok(RemoveReport {
        name: name.to_string(),
        only_scope: scope,
        uninstalled,
    })
}
