//! `update` and `outdated`: refresh the marketplaces first, re-resolve each installed plugin,
//! decide by version as Claude Code does and, beyond it, by content; publish new versions the
//! way `install` does (staged, sealed, renamed into place, recorded under the state lock).
//!
//! Decision for one installation, in order:
//! 1. its version folder is a symlink (a development checkout): `pinned`, never replaced;
//! 2. `--force`: reinstall whatever the source holds now;
//! 3. a `sha`-pinned git source whose commit is the recorded one: `pinned`;
//! 4. another version: `updated` (a new folder; the old one is marked orphaned and kept);
//! 5. the same version: compare content. The exact release (commit, registry digest) recorded
//!    in the folder's marker answers without fetching anything more; a folder source is listed
//!    in place; other sources are unpacked into staging and compared by digest. Same content:
//!    `current`. Other content: `changed-same-version` (nothing replaced), except for the
//!    version `unknown`, which carries no information and is refreshed in place.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::dependencies::{DependencyReport, Held};
use super::install::{
    FoundPlugin, check_collision, orphan_if_unused, resolve_plugin, stage_resolved, undo_publish,
};
use super::{Context, FetchError, LookupError, OpError, PluginRef, load_configured, marketplace};
use crate::cache::{CopyReport, StagedPlugin, read_marker};
use crate::fsutil::iso_timestamp;
use crate::locations::Scope;
use crate::lock::FileLock;
use crate::marketplace::Marketplace;
use crate::source::ResolvedPlugin;
use crate::state::{InstallRecord, InstalledPlugins, NewInstall};
use crate::version;

/// What only `update` and `outdated` report for a plugin.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(
        "Plugin \"{name}\" is no longer listed in marketplace \"{marketplace}\"; the installed copy stays. Remove it with `plugin uninstall {name}@{marketplace}` if it is gone for good."
    )]
    NoLongerListed { name: String, marketplace: String },
    #[error(
        "Could not refresh marketplace \"{name}\", so updates of its plugins were not checked: {message}"
    )]
    RefreshFailed { name: String, message: String },
}

impl UpdateError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            UpdateError::NoLongerListed { .. } => "not_found",
            UpdateError::RefreshFailed { .. } => "marketplace_refresh_failed",
        }
    }
}

/// A marketplace refreshed more recently than this is not refreshed again.
const FRESH_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// `name` or `name@marketplace`, as typed; empty with `all`.
    pub plugins: Vec<String>,
    pub all: bool,
    pub scope: Option<Scope>,
    pub force: bool,
    pub refresh: bool,
    /// `false` for `outdated`: decide, change nothing in the cache or the state files.
    pub apply: bool,
    /// Installations worked on at once (fetches are network-bound).
    pub jobs: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PinReason {
    /// The source names this commit.
    Sha(String),
    /// The version folder is a link to this development checkout.
    Linked(PathBuf),
    /// Installed plugins need it within their ranges ([`UpdateResult::constraint`]), which
    /// no newer version fits.
    Range(Held),
}

/// The ranges installed plugins declare for a plugin `update` works on.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// The ranges, joined with `, ` (Claude Code's words).
    pub ranges: String,
    /// The plugins declaring them.
    pub by: Vec<String>,
    /// Whether the version `update` found is a `{name}--v{version}` tag's (else the entry's).
    pub tagged: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// A new version was installed (with `outdated`: is available). `from == to` after
    /// `--force` and for a refreshed `unknown` version.
    Updated {
        from: String,
        to: String,
    },
    Current {
        version: String,
    },
    ChangedSameVersion {
        version: String,
    },
    Pinned {
        version: String,
        reason: PinReason,
    },
    Failed {
        message: String,
        code: &'static str,
    },
}

impl UpdateOutcome {
    /// The outcome's name in `--json` output.
    pub fn name(&self) -> &'static str {
        match self {
            UpdateOutcome::Updated { .. } => "updated",
            UpdateOutcome::Current { .. } => "current",
            UpdateOutcome::ChangedSameVersion { .. } => "changed-same-version",
            UpdateOutcome::Pinned { .. } => "pinned",
            UpdateOutcome::Failed { .. } => "failed",
        }
    }

    fn failed(e: &OpError) -> Self {
        UpdateOutcome::Failed {
            message: e.to_string(),
            code: e.failure_code(),
        }
    }
}

/// The result for one installation (or for one name that matched none).
#[derive(Debug, Clone)]
pub struct UpdateResult {
    /// `name@marketplace`, or the name as typed when it matched no installation.
    pub id: String,
    pub scope: Option<Scope>,
    pub project_path: Option<PathBuf>,
    /// The recorded version before the update.
    pub old_version: Option<String>,
    pub outcome: UpdateOutcome,
    pub report: Option<CopyReport>,
    /// What installed plugins' ranges allowed (a dependency's update).
    pub constraint: Option<Constraint>,
    /// Dependencies it declares that were missing, installed after it was updated (or found
    /// current); `Err`: why they could not be (the update itself stands).
    pub dependencies: Option<Result<DependencyReport, String>>,
}

/// What [`update_one`] came to.
struct Updated {
    outcome: UpdateOutcome,
    report: Option<CopyReport>,
    constraint: Option<Constraint>,
    dependencies: Option<Result<DependencyReport, String>>,
}

impl From<UpdateOutcome> for Updated {
    fn from(outcome: UpdateOutcome) -> Self {
        Updated {
            outcome,
            report: None,
            constraint: None,
            dependencies: None,
        }
    }
}

/// One installation to work on.
#[derive(Debug, Clone)]
struct Target {
    id: String,
    name: String,
    marketplace: String,
    scope: Scope,
    project: Option<PathBuf>,
    record: InstallRecord,
}

/// Update (or, with `apply: false`, check) the requested installations. An `Err` means nothing
/// could be looked at (e.g. an unreadable `installed_plugins.json`); per-plugin problems are
/// `Failed` results.
pub fn update(ctx: &Context, req: &UpdateRequest) -> Result<Vec<UpdateResult>, OpError> {
    // Nothing happens under a policy we could not read.
    let policy = ctx.policy()?;
    let installed = ctx.installed()?;
    let (targets, mut results) = select_targets(ctx, req, &installed);
    // Plugins of marketplaces the policy forbids fail here, before any refresh or fetch. A seed's
    // marketplace is judged by the seed's recorded source, as `install` judges it.
    let configured = ctx.configured_marketplaces()?;
    let forbidden = |m: &str| {
        (configured.iter())
            .find(|c| c.name == m)
            .is_some_and(|c| policy.check_recorded(&c.source).is_err())
    };
    let (blocked, targets): (Vec<Target>, Vec<Target>) =
        targets.into_iter().partition(|t| forbidden(&t.marketplace));
    results.extend(blocked.into_iter().map(|t| {
        let e = LookupError::MarketplaceBlocked {
            plugin: t.name.clone(),
            marketplace: t.marketplace.clone(),
        };
        t.into_result(UpdateOutcome::failed(&e.into()).into())
    }));
    let names: BTreeSet<String> = targets.iter().map(|t| t.marketplace.clone()).collect();
    let refresh_failures = if req.refresh {
        refresh(ctx, &configured, &names, req.jobs)
    } else {
        BTreeMap::new()
    };
    // Read again after a refresh: it may have re-recorded them.
    let configured = match req.refresh {
        true => ctx.configured_marketplaces()?,
        false => configured,
    };
    let loaded = load_marketplaces(&configured, &names);
    // What installed plugins need of each other (dependency ranges), read once.
    let graph = match targets.is_empty() {
        true => Vec::new(),
        false => super::dependencies::installed_graph(ctx)?,
    };
    let referenced = installed.install_paths();
    let outcomes = crate::parallel::map(&targets, req.jobs, 1, |t| {
        let found = match (
            refresh_failures.get(&t.marketplace),
            loaded.get(&t.marketplace),
        ) {
            (Some(message), _) => Err(UpdateOutcome::failed(
                &UpdateError::RefreshFailed {
                    name: t.marketplace.clone(),
                    message: message.clone(),
                }
                .into(),
            )),
            (None, Some(Ok(m))) => Ok(m),
            (None, Some(Err(failed))) => Err(failed.clone()),
            (None, None) => Err(UpdateOutcome::failed(
                &LookupError::UnknownMarketplace {
                    name: t.marketplace.clone(),
                    known: configured.iter().map(|c| c.name.clone()).collect(),
                }
                .into(),
            )),
        };
        let pins = super::dependencies::pinning_ranges(&graph, &t.id);
        match found.map(|m| update_one(ctx, t, (m, &referenced), req, pins)) {
            Ok(Ok(updated)) => updated,
            Ok(Err(e)) => UpdateOutcome::failed(&e).into(),
            Err(failed) => failed.into(),
        }
    });
    for (t, mut updated) in targets.into_iter().zip(outcomes) {
        // One plugin after another (two may need the same one; a failure undoes what it
        // installed, which must not be what another needs).
        if req.apply
            && matches!(
                updated.outcome,
                UpdateOutcome::Updated { .. } | UpdateOutcome::Current { .. }
            )
            && let Some(Ok(m)) = loaded.get(&t.marketplace)
        {
            updated.dependencies = complete_dependencies(ctx, &t, m, &updated.outcome);
        }
        results.push(t.into_result(updated));
    }
    Ok(results)
}

impl Target {
    fn into_result(self, updated: Updated) -> UpdateResult {
        UpdateResult {
            id: self.id,
            scope: Some(self.scope),
            project_path: self.project,
            old_version: Some(self.record.version),
            outcome: updated.outcome,
            report: updated.report,
            constraint: updated.constraint,
            dependencies: updated.dependencies,
        }
    }
}

/// The marketplaces named, loaded once each; a failure becomes each of its plugins' outcome.
fn load_marketplaces(
    configured: &[super::ConfiguredMarketplace],
    names: &BTreeSet<String>,
) -> BTreeMap<String, Result<Arc<Marketplace>, UpdateOutcome>> {
    load_configured(configured, |n| names.contains(n))
        .into_iter()
        .map(|l| {
            let name = l.name.clone();
            let m = l.marketplace.map(Arc::new).map_err(|source| {
                UpdateOutcome::failed(
                    &FetchError::MarketplaceLoad {
                        name: l.name,
                        source,
                    }
                    .into(),
                )
            });
            (name, m)
        })
        .collect()
}

/// The installations the request names, visible from here: user-scope ones and those recorded
/// for the current project. Names that match none become `Failed` results.
fn select_targets(
    ctx: &Context,
    req: &UpdateRequest,
    installed: &InstalledPlugins,
) -> (Vec<Target>, Vec<UpdateResult>) {
    let visible = installed.visible_from(ctx.loc.project_path());
    let target = |id: &str, r: &InstallRecord, scope: Scope| {
        let (name, marketplace) = id.split_once('@').unwrap_or((id, ""));
        Target {
            id: id.to_string(),
            name: name.to_string(),
            marketplace: marketplace.to_string(),
            scope,
            project: r.project_path.as_ref().map(PathBuf::from),
            record: r.clone(),
        }
    };
    let mut targets: Vec<Target> = Vec::new();
    let mut failures = Vec::new();
    if req.all {
        targets = (visible.iter())
            .filter(|(_, _, s)| req.scope.is_none_or(|want| want == *s))
            .map(|(id, r, s)| target(id, r, *s))
            .collect();
    }
    for raw in &req.plugins {
        let wanted = PluginRef::parse(raw);
        let ids: BTreeSet<&str> = (visible.iter())
            .map(|(id, _, _)| id.as_str())
            .filter(|id| wanted.matches(id))
            .collect();
        let picked = match ids.len() {
            0 => Err(LookupError::NotInstalled { id: raw.clone() }.into()),
            1 => {
                let id = ids.first().copied().unwrap_or_default();
                let mut records: Vec<&(String, InstallRecord, Scope)> =
                    visible.iter().filter(|(i, _, _)| i == id).collect();
                // Without --scope the most specific installation is updated (Claude Code's rule).
                records.sort_by_key(|(_, _, s)| std::cmp::Reverse(specificity(*s)));
                match req.scope {
                    None => Ok(records[0]),
                    Some(want) => records.iter().find(|(_, _, s)| *s == want).copied().ok_or(
                        LookupError::NotInstalledAtScope {
                            id: id.to_string(),
                            installed: records[0].2,
                            requested: want,
                            command: "update",
                        }
                        .into(),
                    ),
                }
            }
            _ => Err(LookupError::AmbiguousInstalled {
                name: wanted.name.clone(),
                candidates: ids.iter().map(|s| s.to_string()).collect(),
            }
            .into()),
        };
        match picked {
            Ok((id, r, s)) => targets.push(target(id, r, *s)),
            Err(e) => failures.push(UpdateResult {
                id: raw.clone(),
                scope: req.scope,
                project_path: None,
                old_version: None,
                outcome: UpdateOutcome::failed(&e),
                report: None,
                constraint: None,
                dependencies: None,
            }),
        }
    }
    let mut seen = BTreeSet::new();
    targets.retain(|t| seen.insert((t.id.clone(), t.scope, t.project.clone())));
    (targets, failures)
}

fn specificity(s: Scope) -> u8 {
    match s {
        Scope::Local => 3,
        Scope::Project => 2,
        Scope::User => 1,
        Scope::Managed => 0,
    }
}

/// Refresh each marketplace not refreshed in the last [`FRESH_FOR`]; the failures, by name.
/// Seed marketplaces are never refreshed (their content is the seed's).
fn refresh(
    ctx: &Context,
    configured: &[super::ConfiguredMarketplace],
    names: &BTreeSet<String>,
    jobs: usize,
) -> BTreeMap<String, String> {
    let now = jiff::Timestamp::now();
    let entry = |n: &str| configured.iter().find(|c| c.name == n);
    let stale: Vec<&String> = names
        .iter()
        .filter(|n| entry(n).is_none_or(|c| c.seed.is_none()))
        .filter(|n| {
            let last = entry(n)
                .and_then(|c| c.last_updated.as_deref())
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            last.is_none_or(|t| {
                now.duration_since(t)
                    .try_into()
                    .is_ok_and(|d: Duration| d >= FRESH_FOR)
            })
        })
        .collect();
    let results =
        crate::parallel::map(&stale, jobs, 1, |n| marketplace::refresh_one(ctx, n, false));
    stale
        .into_iter()
        .zip(results)
        .filter_map(|(n, r)| r.err().map(|e| (n.clone(), e.to_string())))
        .collect()
}

/// Decide, and apply when asked, for one installation.
/// `pins`: the ranges installed plugins declare for it (`(declaring id, range)`).
fn update_one(
    ctx: &Context,
    t: &Target,
    (mkt, seen): (&Arc<Marketplace>, &HashSet<PathBuf>),
    req: &UpdateRequest,
    pins: Vec<(String, String)>,
) -> Result<Updated, OpError> {
    let mut constraint = (!pins.is_empty()).then(|| Constraint {
        ranges: (pins.iter().map(|(_, r)| r.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        by: pins.iter().map(|(id, _)| id.clone()).collect(),
        tagged: false,
    });
    let (outcome, report) = decide(ctx, t, (mkt, seen), req, &pins, &mut constraint)?;
    Ok(Updated {
        outcome,
        report,
        constraint,
        dependencies: None,
    })
}

/// After an update (or finding it current), what the plugin now declares and is not
/// installed: installed as `install` installs it, as Claude Code does after an update.
fn complete_dependencies(
    ctx: &Context,
    t: &Target,
    mkt: &Arc<Marketplace>,
    outcome: &UpdateOutcome,
) -> Option<Result<DependencyReport, String>> {
    let entry = mkt.manifest.entries_named(&t.name).next()?.clone();
    // Where it is now: the record read before, unless this update moved it.
    let dir = PathBuf::from(match outcome {
        UpdateOutcome::Updated { .. } => {
            (ctx.installed().ok()?)
                .find(&t.id, t.scope, t.project.as_deref())?
                .install_path
        }
        _ => t.record.install_path.clone(),
    });
    if !super::dependencies::declares_any(&dir, &entry, &t.marketplace) {
        return None;
    }
    let root = FoundPlugin {
        marketplace_name: t.marketplace.clone(),
        marketplace: Arc::clone(mkt),
        entry,
    };
    // Where a person's settings can enable them (for a managed plugin: the user's).
    let scope = match t.scope {
        Scope::Managed => Scope::User,
        s => s,
    };
    Some(super::dependencies::install_missing(ctx, &root, &dir, scope).map_err(|e| e.to_string()))
}

fn decide(
    ctx: &Context,
    t: &Target,
    (mkt, seen): (&Arc<Marketplace>, &HashSet<PathBuf>),
    req: &UpdateRequest,
    pins: &[(String, String)],
    constraint: &mut Option<Constraint>,
) -> Result<(UpdateOutcome, Option<CopyReport>), OpError> {
    let old = t.record.version.clone();
    let installed_dir = Path::new(&t.record.install_path);
    if let Ok(checkout) = std::fs::read_link(installed_dir) {
        return Ok((
            UpdateOutcome::Pinned {
                version: old,
                reason: PinReason::Linked(checkout),
            },
            None,
        ));
    }
    let Some(entry) = mkt.manifest.entries_named(&t.name).next().cloned() else {
        return Err(UpdateError::NoLongerListed {
            name: t.name.clone(),
            marketplace: t.marketplace.clone(),
        }
        .into());
    };
    let pin = entry.source.pinned_sha().map(str::to_string);
    let found = FoundPlugin {
        marketplace_name: t.marketplace.clone(),
        marketplace: Arc::clone(mkt),
        entry,
    };
    // Other plugins' ranges hold it: the highest tag they allow, or as it is.
    let resolved = match pins.is_empty() {
        true => resolve_plugin(ctx, &found)?,
        false => {
            let ranges: Vec<String> = pins.iter().map(|(_, r)| r.clone()).collect();
            match super::dependencies::resolve_constrained(ctx, &found, &t.id, &ranges)? {
                Ok(r) => {
                    if let Some(c) = constraint {
                        c.tagged = r.resolved_version.is_some();
                    }
                    r
                }
                Err(held) => {
                    return Ok((
                        UpdateOutcome::Pinned {
                            version: old,
                            reason: PinReason::Range(held),
                        },
                        None,
                    ));
                }
            }
        }
    };
    let new = resolved.version.clone();
    let updated = UpdateOutcome::Updated {
        from: old.clone(),
        to: new.clone(),
    };
    if !req.force {
        if let Some(sha) = pin
            && t.record.git_commit_sha.as_deref() == Some(sha.as_str())
            && new == old
        {
            return Ok((
                UpdateOutcome::Pinned {
                    version: old,
                    reason: PinReason::Sha(sha),
                },
                None,
            ));
        }
        if new == old && installed_dir.is_dir() {
            let staged = match compare_content(ctx, t, &resolved, req.apply)? {
                Content::Same => {
                    if req.apply {
                        tidy_after_interrupted_update(ctx, t, seen)?;
                        remember_command(ctx, t, &resolved)?;
                    }
                    return Ok((UpdateOutcome::Current { version: old }, None));
                }
                Content::Differs(staged) => staged.map(|s| *s),
            };
            if old != version::UNKNOWN {
                return Ok((UpdateOutcome::ChangedSameVersion { version: old }, None));
            }
            if !req.apply {
                return Ok((updated, None));
            }
            return publish(ctx, t, &resolved, staged).map(|r| (updated, Some(r)));
        }
    }
    if !req.apply {
        return Ok((updated, None));
    }
    publish(ctx, t, &resolved, None).map(|r| (updated, Some(r)))
}

/// Finish what an update killed after recording its new version left undone: remove the
/// displaced old copy (a staging folder) and mark version folders no installation uses.
/// Only folders we sealed are marked: Claude Code writes its updates in place, so a folder
/// without our marker may be one it is still filling.
///
/// `seen` is the state as the command read it first: when by it there is nothing to tidy (the
/// common case), no lock is taken and nothing read again. (A folder it calls used and that is no
/// longer was left by an uninstall, which marks it itself.)
fn tidy_after_interrupted_update(
    ctx: &Context,
    t: &Target,
    seen: &HashSet<PathBuf>,
) -> Result<(), OpError> {
    let plugin_dir = ctx.cache().plugin_dir(&t.marketplace, &t.name);
    let untidy = |referenced: &dyn Fn(&Path) -> bool| {
        crate::cache::prune::plugin_versions(&plugin_dir, referenced)
            .into_iter()
            .filter(|v| !v.referenced && v.orphaned_at.is_none() && read_marker(&v.path).is_some())
            .map(|v| v.path)
            .collect::<Vec<_>>()
    };
    let staging = ctx.cache().has_staging(&t.marketplace, &t.name);
    if !staging && untidy(&|p| seen.contains(p)).is_empty() {
        return Ok(());
    }
    ctx.sweep_plugin_staging(&t.marketplace, &t.name)?;
    let _state_lock = ctx.lock_state()?;
    let installed = ctx.installed()?;
    super::in_transaction(|tx| {
        for v in untidy(&|p| installed.references(p)) {
            crate::cache::mark_orphaned(&v, tx)?;
        }
        Ok(())
    })
}

/// A `command` source that ran to the installed content: its record still says which command
/// was accepted (it may be a new one) and which folder it printed.
fn remember_command(ctx: &Context, t: &Target, resolved: &ResolvedPlugin) -> Result<(), OpError> {
    let Some((command, producer)) = resolved.produced_by() else {
        return Ok(());
    };
    let producer_text = producer.to_string_lossy();
    if t.record.source_command.as_deref() == Some(command.as_str())
        && t.record.source_producer_path.as_deref() == Some(&*producer_text)
    {
        return Ok(());
    }
    let _state_lock = ctx.lock_state()?;
    let mut installed = ctx.installed()?;
    let Some(current) = installed.find(&t.id, t.scope, t.project.as_deref()) else {
        return Err(LookupError::NotInstalled { id: t.id.clone() }.into());
    };
    installed.upsert(
        &t.id,
        &NewInstall {
            scope: t.scope,
            project_path: t.project.clone(),
            install_path: PathBuf::from(&current.install_path),
            version: current.version,
            git_commit_sha: None,
            produced_by: Some((command, producer.to_path_buf())),
            resolved_version: current.resolved_version.clone(),
            auto: None,
            timestamp: iso_timestamp(),
        },
    );
    super::in_transaction(|tx| Ok(installed.write(tx)?))
}

/// A staged copy with its copy report and the cache lock that keeps it from being swept.
type Staged = (StagedPlugin, CopyReport, FileLock);

enum Content {
    Same,
    /// Other content; the staged copy when one had to be made to find out (boxed: the common
    /// answer is `Same`).
    Differs(Option<Box<Staged>>),
}

/// Compare the source's content with the installed folder's at the same version.
fn compare_content(
    ctx: &Context,
    t: &Target,
    resolved: &ResolvedPlugin,
    may_stage: bool,
) -> Result<Content, OpError> {
    let installed_dir = Path::new(&t.record.install_path);
    let marker = read_marker(installed_dir);
    // The same release or commit: nothing to fetch or unpack.
    if let (Some(m), Some(p)) = (&marker, &resolved.provenance)
        && m.resolved.as_ref() == Some(p)
    {
        return Ok(Content::Same);
    }
    let installed_digest = crate::cache::installed_digest(installed_dir, marker)?;
    if let Some(digest) = (resolved.digest_with_stat_cache(&ctx.loc.stat_cache_dir()))
        .map_err(OpError::from_source)?
    {
        return Ok(if digest == installed_digest {
            Content::Same
        } else {
            Content::Differs(None)
        });
    }
    let (staged, report, lock) = stage_resolved(ctx, &t.marketplace, &t.name, resolved)?;
    if staged.digest() == Some(installed_digest.as_str()) {
        return Ok(Content::Same);
    }
    Ok(Content::Differs(
        may_stage.then(|| Box::new((staged, report, lock))),
    ))
}

/// Publish a new copy for the installation and record it; the previous folder is marked
/// orphaned when nothing else uses it (it is never removed here).
fn publish(
    ctx: &Context,
    t: &Target,
    resolved: &ResolvedPlugin,
    staged: Option<Staged>,
) -> Result<CopyReport, OpError> {
    let cache = ctx.cache();
    let folder = version::folder_name(&resolved.version);
    cache.check_names(&t.marketplace, &t.name, &folder)?;
    let target = cache.plugin_dir(&t.marketplace, &t.name).join(&folder);
    let (mut staged, report, _cache_lock) = match staged {
        Some(s) => s,
        None => stage_resolved(ctx, &t.marketplace, &t.name, resolved)?,
    };
    // Outside the state lock: a walk of an existing folder of the same version.
    staged.compare_with(&target);
    let displaced = {
        let _state_lock = ctx.lock_state()?;
        let mut installed = ctx.installed()?;
        let Some(current) = installed.find(&t.id, t.scope, t.project.as_deref()) else {
            // Uninstalled while we fetched.
            return Err(LookupError::NotInstalled { id: t.id.clone() }.into());
        };
        check_collision(&installed, &target, &resolved.version)?;
        let fresh = target.symlink_metadata().is_err();
        let objects = staged.new_objects().to_vec();
        let displaced = staged.publish(&target, &resolved.version)?;
        installed.upsert(
            &t.id,
            &NewInstall {
                scope: t.scope,
                project_path: t.project.clone(),
                install_path: target.clone(),
                version: resolved.version.clone(),
                git_commit_sha: resolved.git_commit.clone(),
                produced_by: (resolved.produced_by()).map(|(c, p)| (c, p.to_path_buf())),
                resolved_version: resolved.resolved_version.clone(),
                auto: None,
                timestamp: iso_timestamp(),
            },
        );
        let recorded = super::in_transaction(|tx| {
            crate::cache::clear_orphan_mark(&target, tx)?;
            installed.write(tx)?;
            orphan_if_unused(&installed, Path::new(&current.install_path), &target, tx)
        });
        if let Err(e) = recorded {
            return Err(undo_publish(&target, fresh, displaced, &objects, e));
        }
        displaced
    };
    drop(displaced);
    Ok(report)
}
