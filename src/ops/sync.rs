//! `sync`: make this machine match the settings. Registers the marketplaces settings declare
//! (missing, or declared with another source), installs every plugin the effective
//! `enabledPlugins` turns on that no visible installation provides, and, with `--prune`, removes
//! installations nothing enables any more. Nothing is uninstalled unless asked.
//!
//! Trust: `.claude/settings.json` comes with the repository, so what only it asks for is not
//! fetched from outside unless the user names the project (`--project DIR`): its marketplace
//! declarations are not registered, and plugins only it enables are installed only when their
//! content is already here (a relative-path plugin of a registered marketplace). User, local and
//! managed settings are the user's or the organisation's own and always count (as in Claude
//! Code, which fetches external sources only for those).
//!
//! Scopes: a plugin is installed at the scope whose file wins for it (managed → `managed`, as
//! Claude Code records them); a project-enabled plugin that may not be fetched for the project
//! but that user settings also enable is installed at user scope.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::install::{Enable, InstallOutcome, Reinstall, find_plugin, install_found};
use super::marketplace::MarketplaceCommandError;
use super::renames::RenameNotice;
use super::{ConfiguredMarketplace, Context, OpError, PluginRef, marketplace};
use crate::locations::Scope;
use crate::marketplace::MarketplaceSource;
use crate::state::effective::{EffectiveSettings, Enablement, Layer};
use crate::state::{InstallRecord, SettingsFile};

/// Claude Code's official marketplace, which `name@claude-plugins-official` declares by itself.
const OFFICIAL: &str = "claude-plugins-official";
const OFFICIAL_REPO: &str = "anthropics/claude-plugins-official";

#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// `--project DIR` was given: the project's own settings are trusted.
    pub trust_project: bool,
    pub dry_run: bool,
    pub prune: bool,
    pub jobs: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MarketplaceAction {
    /// Known with the declared source.
    Present,
    Registered,
    /// Known with another source; fetched again from the declared one.
    Repointed {
        previous: String,
    },
    WouldRegister,
    /// Declared only by untrusted project settings.
    Untrusted,
    Failed {
        message: String,
        code: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct MarketplaceSync {
    pub name: String,
    /// The scope whose declaration was used.
    pub scope: Scope,
    pub source: Value,
    pub action: MarketplaceAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PluginAction {
    /// A visible installation provides it.
    Present {
        version: String,
    },
    Installed {
        version: String,
    },
    /// A seed folder holds it (`CLAUDE_CODE_PLUGIN_SEED_DIR`): loaded from there, not installed.
    Seeded {
        version: String,
        dir: PathBuf,
    },
    WouldInstall,
    /// Enabled only by untrusted project settings and its content is not here.
    Untrusted,
    Pruned {
        version: String,
    },
    WouldPrune {
        version: String,
    },
    Failed {
        message: String,
        code: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct PluginSync {
    pub id: String,
    /// Where it is (or would be) installed.
    pub scope: Scope,
    pub action: PluginAction,
}

#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// The project whose settings were read (named in the advice to trust them).
    pub project_dir: std::path::PathBuf,
    pub marketplaces: Vec<MarketplaceSync>,
    pub plugins: Vec<PluginSync>,
    /// `renames` of the marketplaces followed in the settings files (before plugins are
    /// looked at), and problems with them.
    pub renames: Vec<RenameNotice>,
}

impl SyncReport {
    pub fn failed(&self) -> bool {
        self.marketplaces
            .iter()
            .any(|m| matches!(m.action, MarketplaceAction::Failed { .. }))
            || self
                .plugins
                .iter()
                .any(|p| matches!(p.action, PluginAction::Failed { .. }))
    }
}

/// The settings files read, and their merge.
pub struct SettingsView {
    pub files: Vec<SettingsFile>,
    /// Managed files in merge order.
    pub managed_files: Vec<PathBuf>,
    pub effective: EffectiveSettings,
    /// `strictKnownMarketplaces` / `blockedMarketplaces` as managed settings give them.
    pub policy: Vec<(&'static str, Option<Value>)>,
    /// The folder that is no project (the home folder): no project or local settings were read.
    pub no_project: Option<PathBuf>,
}

/// Read every scope (user < project < local < managed) and merge them; any file that is not
/// valid, or any malformed entry, fails here, before anything is done.
pub fn settings_view(ctx: &Context) -> Result<SettingsView, OpError> {
    let files = ctx.writable_settings()?;
    let managed = ctx.managed()?;
    let mut layers: Vec<Layer<'_>> = files
        .iter()
        .map(|f| Layer {
            scope: f.scope,
            doc: f.doc(),
        })
        .collect();
    layers.extend(managed.layers.iter().map(|doc| Layer {
        scope: Scope::Managed,
        doc,
    }));
    let effective = EffectiveSettings::merge(&layers)?;
    // Both allowlist keys, as the policy enforces each one that is set.
    let policy = crate::policy::ALLOWED_KEYS
        .into_iter()
        .chain([crate::policy::BLOCKED_KEY])
        .map(|k| (k, managed.get(k).cloned()))
        .collect();
    Ok(SettingsView {
        managed_files: managed.sources().map(Path::to_path_buf).collect(),
        files,
        effective,
        policy,
        no_project: ctx.loc.no_project().map(Path::to_path_buf),
    })
}

pub fn sync(ctx: &Context, req: &SyncRequest) -> Result<SyncReport, OpError> {
    let mut view = settings_view(ctx)?;
    let mut renames = Vec::new();
    let marketplaces = sync_marketplaces(ctx, req, &view.effective, &mut renames)?;
    // Read after registering: what the plugins below are looked up in.
    let configured = ctx.configured_marketplaces()?;
    if !req.dry_run {
        follow_renames(
            ctx,
            &view.effective,
            &marketplaces,
            &configured,
            &mut renames,
        )?;
        if renames.iter().any(RenameNotice::changed) {
            view = settings_view(ctx)?;
        }
    }
    let settings = &view.effective;
    let (mut plugins, to_install) = plan_plugins(ctx, req, settings, &configured, &marketplaces)?;
    let outcomes = crate::parallel::map(&to_install, req.jobs, 1, |(id, scope, trusted)| {
        install_one(ctx, id, *scope, *trusted, req.dry_run)
    });
    for ((id, scope, _), action) in to_install.into_iter().zip(outcomes) {
        plugins.push(PluginSync { id, scope, action });
    }

    if req.prune {
        plugins.extend(prune(ctx, settings, req.dry_run)?);
    }
    plugins.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(SyncReport {
        project_dir: ctx.loc.project_dir.clone(),
        marketplaces,
        plugins,
        renames,
    })
}

/// A plugin to install: id, scope, and whether its source may be fetched from outside.
type ToInstall = (String, Scope, bool);

/// What becomes of each plugin the settings enable: provided by a visible installation, decided
/// by its marketplace (not registered), or to install.
fn plan_plugins(
    ctx: &Context,
    req: &SyncRequest,
    settings: &EffectiveSettings,
    configured: &[ConfiguredMarketplace],
    marketplaces: &[MarketplaceSync],
) -> Result<(Vec<PluginSync>, Vec<ToInstall>), OpError> {
    // Marketplaces that were not registered decide for their plugins.
    let unregistered: BTreeMap<&str, &MarketplaceAction> = marketplaces
        .iter()
        .filter(|m| {
            matches!(
                m.action,
                MarketplaceAction::Failed { .. }
                    | MarketplaceAction::WouldRegister
                    | MarketplaceAction::Untrusted
            )
        })
        .map(|m| (m.name.as_str(), &m.action))
        .collect();

    let mut plugins = Vec::new();
    let installed = ctx.installed()?;
    let here = ctx.loc.project_path();
    let visible = installed.visible_from(here);
    let mut to_install: Vec<ToInstall> = Vec::new();
    let installable =
        |e: &&Enablement| e.winner.value && !crate::schema::names::is_origin(&e.marketplace);
    for e in settings.enabled.values().filter(installable) {
        let provided = visible
            .iter()
            .filter(|(id, r, _)| *id == e.id && Path::new(&r.install_path).is_dir())
            .max_by_key(|(_, _, s)| *s);
        if let Some((_, r, s)) = provided {
            plugins.push(PluginSync {
                id: e.id.clone(),
                scope: *s,
                action: PluginAction::Present {
                    version: r.version.clone(),
                },
            });
            continue;
        }
        let chosen = install_scope(e, req.trust_project);
        let scope = chosen.unwrap_or(Scope::Project);
        let decided = match unregistered.get(e.marketplace.as_str()) {
            Some(MarketplaceAction::Failed { message, code }) => Some(PluginAction::Failed {
                message: format!("marketplace \"{}\" failed: {message}", e.marketplace),
                code,
            }),
            Some(MarketplaceAction::WouldRegister) => {
                Some(unregistered_lists(ctx, marketplaces, e))
            }
            Some(_) if configured.iter().all(|c| c.name != e.marketplace) => {
                Some(PluginAction::Untrusted)
            }
            _ => None,
        };
        if let Some(action) = decided {
            plugins.push(PluginSync {
                id: e.id.clone(),
                scope,
                action,
            });
            continue;
        }
        to_install.push((e.id.clone(), scope, chosen.is_some()));
    }
    Ok((plugins, to_install))
}

/// Dry run, for a plugin of a marketplace not registered yet: a local marketplace is read to
/// tell whether it lists the plugin (a real run would fail on one it does not list); a remote
/// one is not fetched, so its plugins would be installed as far as can be told.
fn unregistered_lists(ctx: &Context, synced: &[MarketplaceSync], e: &Enablement) -> PluginAction {
    let Some(m) = synced.iter().find(|m| m.name == e.marketplace) else {
        return PluginAction::WouldInstall;
    };
    let Some(source) = parse_declared(ctx, m.scope, &m.source).filter(|s| s.local_root().is_some())
    else {
        return PluginAction::WouldInstall;
    };
    let Ok(catalog) = crate::marketplace::Marketplace::load(&source) else {
        return PluginAction::WouldInstall;
    };
    let name = &PluginRef::parse(&e.id).name;
    if catalog.manifest.entries.iter().any(|p| &p.name == name) {
        return PluginAction::WouldInstall;
    }
    PluginAction::Failed {
        message: format!(
            "cannot be installed: marketplace \"{}\" ({}) does not list a plugin \"{name}\"; check the name enabled in settings",
            e.marketplace,
            source.describe()
        ),
        code: "not_found",
    }
}

/// Where an enabled plugin is installed; `None` only when untrusted project settings alone
/// enable it: then nothing is fetched from outside for it, though it may still be installed at
/// project scope if its content is already here.
fn install_scope(e: &Enablement, trust_project: bool) -> Option<Scope> {
    match e.winner.scope {
        Scope::Project if !trust_project => e.enabled_at(Scope::User).then_some(Scope::User),
        s => Some(s),
    }
}

fn install_one(
    ctx: &Context,
    id: &str,
    scope: Scope,
    trusted: bool,
    dry_run: bool,
) -> PluginAction {
    let failed = |e: OpError| PluginAction::Failed {
        message: e.to_string(),
        code: e.failure_code(),
    };
    let found = match find_plugin(ctx, &PluginRef::parse(id)) {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    // A seed holds it: Claude Code loads it from there; nothing to fetch or copy.
    match super::seed::provided_by_seed(ctx, &found) {
        Ok(Some(s)) => {
            return PluginAction::Seeded {
                version: s.version,
                dir: s.dir,
            };
        }
        Ok(None) => {}
        Err(e) => return failed(e),
    }
    if !trusted && !found.entry.source.is_relative() {
        return PluginAction::Untrusted;
    }
    if dry_run {
        return PluginAction::WouldInstall;
    }
    let root = super::install::FoundPlugin {
        marketplace_name: found.marketplace_name.clone(),
        marketplace: found.marketplace.clone(),
        entry: found.entry.clone(),
    };
    match install_found(
        ctx,
        found,
        scope,
        Enable::AlreadyBySettings,
        Reinstall::Never,
        super::install::InstallAs::default(),
    ) {
        Ok(r) => {
            // What it needs, installed and enabled where a person's settings can say so (for
            // a plugin managed settings enable: the user's), as Claude Code does at startup.
            let deps_scope = match scope {
                Scope::Managed => Scope::User,
                s => s,
            };
            let project = ctx.project_for(scope);
            let dir = (ctx.installed().ok())
                .and_then(|i| i.find(id, scope, project.as_deref()))
                .map(|rec| PathBuf::from(rec.install_path));
            if let Some(dir) = dir
                && let Err(e) = super::dependencies::install_missing(ctx, &root, &dir, deps_scope)
            {
                return failed(e);
            }
            installed_action(r.outcome)
        }
        Err(e) => failed(e),
    }
}

fn installed_action(outcome: InstallOutcome) -> PluginAction {
    match outcome {
        InstallOutcome::Installed { version, .. } => PluginAction::Installed { version },
        InstallOutcome::AlreadyInstalled {
            installed_version, ..
        } => PluginAction::Present {
            version: installed_version,
        },
    }
}

/// Follow the `renames` of every known marketplace settings mention that was not registered
/// just now (registering follows them already).
fn follow_renames(
    ctx: &Context,
    settings: &EffectiveSettings,
    synced: &[MarketplaceSync],
    configured: &[super::ConfiguredMarketplace],
    notices: &mut Vec<RenameNotice>,
) -> Result<(), OpError> {
    let fresh: BTreeSet<&str> = (synced.iter())
        .filter(|m| {
            matches!(
                m.action,
                MarketplaceAction::Registered | MarketplaceAction::Repointed { .. }
            )
        })
        .map(|m| m.name.as_str())
        .collect();
    let mentioned: BTreeSet<&str> = (settings.enabled.values())
        .map(|e| e.marketplace.as_str())
        .chain(settings.marketplaces.keys().map(String::as_str))
        .filter(|n| !fresh.contains(n))
        .collect();
    for loaded in super::load_configured(configured, |n| mentioned.contains(n)) {
        // One that cannot be loaded is reported with its plugins.
        if let Ok(m) = &loaded.marketplace {
            notices.extend(super::renames::follow(ctx, &loaded.name, m)?);
        }
    }
    Ok(())
}

/// Register declared marketplaces that are missing or whose source changed.
fn sync_marketplaces(
    ctx: &Context,
    req: &SyncRequest,
    settings: &EffectiveSettings,
    renames: &mut Vec<RenameNotice>,
) -> Result<Vec<MarketplaceSync>, OpError> {
    // Nothing is registered under a policy we could not read.
    let policy = ctx.policy()?;
    let configured = ctx.configured_marketplaces()?;
    let mut out = Vec::new();
    let mut work = Vec::new();
    for (name, scope, raw) in declared_marketplaces(settings, req.trust_project) {
        let source = parse_declared(ctx, scope, &raw);
        let current = configured.iter().find(|c| c.name == name);
        // A seed's marketplace of that name is used whatever settings declare (seeds win).
        let same = current.is_some_and(|c| {
            c.seed.is_some()
                || (c.location.exists()
                    && (c.source == raw || c.recorded_source().is_some_and(|r| Some(r) == source)))
        });
        let blocked = source
            .as_ref()
            .and_then(|s| policy.check_source(s).err())
            .map(MarketplaceCommandError::SourceBlocked);
        let action = if let Some(e) = blocked {
            MarketplaceAction::Failed {
                message: e.to_string(),
                code: e.failure_code(),
            }
        } else if same {
            MarketplaceAction::Present
        } else if scope == Scope::Project && !req.trust_project {
            MarketplaceAction::Untrusted
        } else if let Some(source) = source {
            if !req.dry_run {
                work.push((name, scope, raw, source));
                continue;
            }
            MarketplaceAction::WouldRegister
        } else {
            let kind = raw.get("source").and_then(Value::as_str).unwrap_or("?");
            MarketplaceAction::Failed {
                message: format!(
                    "unsupported marketplace source type \"{kind}\" (github, git, url, directory and file are supported)"
                ),
                code: "invalid_source",
            }
        };
        out.push(MarketplaceSync {
            name,
            scope,
            source: raw,
            action,
        });
    }
    let results = crate::parallel::map(&work, req.jobs, 1, |(name, scope, _, source)| {
        marketplace::register(ctx, source.clone(), *scope, Some(name))
    });
    for ((name, scope, raw, _), r) in work.into_iter().zip(results) {
        out.push(MarketplaceSync {
            name,
            scope,
            source: raw,
            action: registered(r, renames),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The marketplaces settings declare, as (name, scope of the winning declaration, source), and
/// the official one when a plugin of it is enabled and nothing declares it.
fn declared_marketplaces(
    settings: &EffectiveSettings,
    trust_project: bool,
) -> Vec<(String, Scope, Value)> {
    let mut declared: Vec<(String, Scope, Value)> = settings
        .marketplaces
        .values()
        .map(|d| (d.name.clone(), d.winner.scope, d.source().clone()))
        .collect();
    // The declaration is as trusted as the most trusted file enabling one of its plugins: untrusted
    // project settings alone do not get it cloned.
    let official_by = (settings.enabled.values())
        .filter(|e| e.winner.value && e.marketplace == OFFICIAL)
        .map(|e| install_scope(e, trust_project).unwrap_or(Scope::Project))
        .min_by_key(|s| *s == Scope::Project);
    if let Some(scope) = official_by
        && !settings.marketplaces.contains_key(OFFICIAL)
    {
        declared.push((
            OFFICIAL.to_string(),
            scope,
            json!({"source": "github", "repo": OFFICIAL_REPO}),
        ));
    }
    declared
}

/// The action of a marketplace sync registered; the renames it followed go to `renames`.
fn registered(
    r: Result<marketplace::AddReport, OpError>,
    renames: &mut Vec<RenameNotice>,
) -> MarketplaceAction {
    match r {
        Ok(a) => {
            // Settings were read (and so are readable) before; nothing to lose here.
            renames.extend(a.renames.unwrap_or_default());
            match a.outcome {
                marketplace::AddOutcome::Repointed { previous } => {
                    MarketplaceAction::Repointed { previous }
                }
                _ => MarketplaceAction::Registered,
            }
        }
        Err(e) => MarketplaceAction::Failed {
            message: e.to_string(),
            code: e.failure_code(),
        },
    }
}

/// A declared source as a [`MarketplaceSource`]. Relative `directory`/`file` paths in project
/// and local settings resolve against the project folder, elsewhere against the working
/// directory; `~` is expanded.
fn parse_declared(ctx: &Context, scope: Scope, raw: &Value) -> Option<MarketplaceSource> {
    let source = MarketplaceSource::from_json(raw)?;
    let base = if scope.is_project_bound() {
        ctx.loc.project_path()
    } else {
        &ctx.loc.cwd
    };
    let resolve = |p: &Path| {
        crate::fsutil::absolutize(
            &crate::fsutil::expand_tilde(&p.to_string_lossy(), &ctx.loc.home),
            base,
        )
    };
    Some(match source {
        MarketplaceSource::Directory(p) => MarketplaceSource::Directory(resolve(&p)),
        MarketplaceSource::File(p) => MarketplaceSource::File(resolve(&p)),
        other => other,
    })
}

/// Remove the visible installations that no settings file enables any more.
fn prune(
    ctx: &Context,
    settings: &EffectiveSettings,
    dry_run: bool,
) -> Result<Vec<PluginSync>, OpError> {
    let _lock = (!dry_run).then(|| ctx.lock_state()).transpose()?;
    let mut installed = ctx.installed()?;
    let gone: Vec<(String, InstallRecord, Scope)> = installed
        .visible_from(ctx.loc.project_path())
        .into_iter()
        .filter(|(id, _, _)| settings.enabled(id) != Some(true))
        // A linked development checkout is the developer's: `plugin unlink` takes it down.
        .filter(|(_, rec, _)| !Path::new(&rec.install_path).is_symlink())
        .collect();
    let mut out = Vec::new();
    for (id, rec, scope) in &gone {
        let version = rec.version.clone();
        out.push(PluginSync {
            id: id.clone(),
            scope: *scope,
            action: if dry_run {
                PluginAction::WouldPrune { version }
            } else {
                PluginAction::Pruned { version }
            },
        });
        if !dry_run {
            installed.remove(id, *scope, rec.project_path.as_deref().map(Path::new));
        }
    }
    if !dry_run && !gone.is_empty() {
        super::in_transaction(|tx| {
            installed.write(tx)?;
            for (_, rec, _) in &gone {
                super::uninstall::orphan_if_unreferenced(
                    &installed,
                    Path::new(&rec.install_path),
                    tx,
                )?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}
