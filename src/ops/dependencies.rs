//! Plugin dependencies (`dependencies` in plugin.json), installed with the plugin that needs
//! them as Claude Code 2.1.328 installs them.
//!
//! After a plugin is installed, its dependencies are walked level by level: each one not yet
//! installed and enabled at the scope is found in its marketplace and installed there, recorded
//! `"auto": true`, and then its own dependencies are walked. A dependency in another marketplace
//! is installed only when the root plugin's marketplace lists that marketplace in
//! `allowCrossMarketplaceDependenciesOn` (trust does not chain); otherwise it is skipped, as
//! Claude Code skips it, and `list` reports it missing. One that no added marketplace lists is
//! reported after the install (the plugin will not load without it). Cycles end the walk.
//!
//! A `version` range on an object entry (node-semver; pre-releases only when asked for) picks
//! the highest `{name}--v{version}` tag satisfying every range declared in the run: in the
//! plugin's own repository (github, url, git-subdir; no such tag is an error), or for a relative
//! plugin of a folder marketplace that is a git work tree, in that repository (no such tag: the
//! folder as it is). Such a dependency records `resolvedVersion` and the version
//! `<plugin.json version at the tag>-<sha12>`. Ranges that exclude each other, or one that is
//! not a range, refuse the install; what this run installed is then uninstalled again.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::install::{
    Enable, FoundPlugin, InstallAs, InstallOutcome, Prefetched, Reinstall, find_plugin,
    install_found,
};
use super::{Context, OpError, PluginRef};
use crate::locations::Scope;
use crate::schema::PluginSource;
use crate::schema::plugin_manifest::{Dependency, dependencies};
use crate::source::ResolvedPlugin;
use crate::state::{InstalledPlugins, SettingsFile};
use crate::version::{RangeProblem, highest_tag, intersect_ranges, release_tag_names};

/// Why a dependency could not be installed (the plugin that needs it is not installed either).
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    #[error("Dependency cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error(
        "Dependency \"{dependency}\" (required by {by}) is in marketplace \"{marketplace}\", which is not in the allowlist — cross-marketplace dependencies are blocked by default. Install it manually first. Add \"{marketplace}\" to allowCrossMarketplaceDependenciesOn in the ROOT marketplace's marketplace.json (the marketplace of the plugin you're installing — only its allowlist applies; no transitive trust)."
    )]
    CrossMarketplace {
        dependency: String,
        by: String,
        marketplace: String,
    },
    #[error(
        "Dependency \"{dependency}\" (required by {by}) not found. Is the \"{marketplace}\" marketplace added?"
    )]
    NotFound {
        dependency: String,
        by: String,
        marketplace: String,
    },
    #[error(
        "Dependency \"{id}\" has conflicting version requirements (no version satisfies all of: {})",
        .ranges.join(", ")
    )]
    Conflict { id: String, ranges: Vec<String> },
    #[error(
        "Dependency \"{id}\" has an invalid version requirement among: {}",
        .ranges.iter().map(|r| format!("“{}”", crate::source::command::shown(r, 64))).collect::<Vec<_>>().join(", ")
    )]
    InvalidRange { id: String, ranges: Vec<String> },
    #[error(
        "Dependency \"{id}\" has no git tag satisfying {range} ({})",
        match .tags.as_slice() {
            [] => format!("its repository has no tag {}--v<version>", .name),
            tags => format!("its highest tags: {}", tags.join(", ")),
        }
    )]
    NoMatchingTag {
        id: String,
        name: String,
        range: String,
        /// The plugin's highest release tags (ours: Claude Code names none).
        tags: Vec<String>,
    },
    #[error(
        "Dependency \"{id}\" is installed at {installed}, which does not satisfy: {}. To look for a version in range, run `plugin update {id}`",
        .ranges.join(", ")
    )]
    InstalledOutOfRange {
        id: String,
        installed: String,
        ranges: Vec<String>,
    },
    #[error(
        "Plugin \"{plugin}\" depends on \"{dependency}\", which is blocked by your organization's policy"
    )]
    Blocked { plugin: String, dependency: String },
    #[error(
        "Plugin \"{plugin}\" depends on \"{dependency}\" from marketplace \"{marketplace}\", which is blocked by your organization's policy"
    )]
    MarketplaceBlocked {
        plugin: String,
        dependency: String,
        marketplace: String,
    },
}

impl DependencyError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            DependencyError::Blocked { .. } | DependencyError::MarketplaceBlocked { .. } => {
                "dependency_policy_blocked"
            }
            DependencyError::Cycle(_)
            | DependencyError::CrossMarketplace { .. }
            | DependencyError::NotFound { .. } => "dependency_resolution_failed",
            _ => "dependency_version_conflict",
        }
    }
}

/// What installing a plugin's dependencies did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DependencyReport {
    /// The dependencies this run installed (`name@marketplace`), in order.
    pub installed: Vec<String>,
    /// Dependencies no added marketplace lists (`name@marketplace`).
    pub not_found: Vec<String>,
    /// Dependencies that run a marketplace's command (a `command` source, an archive's
    /// `headersHelper`): never installed as a dependency, only by name.
    pub command_sourced: Vec<String>,
}

impl DependencyReport {
    /// What was not installed: not listed anywhere, or running a command.
    pub fn unresolved(&self) -> Vec<String> {
        [self.not_found.as_slice(), &self.command_sourced].concat()
    }
}

/// Install what `root` (installed at `scope`, in `root_dir`) needs and is not installed and
/// enabled there. On a failure, the dependencies this run installed are uninstalled again.
pub fn install_missing(
    ctx: &Context,
    root: &FoundPlugin,
    root_dir: &Path,
    scope: Scope,
) -> Result<DependencyReport, OpError> {
    let mut report = DependencyReport::default();
    match walk(ctx, root, root_dir, scope, &mut report) {
        Ok(()) => Ok(report),
        Err(e) => {
            for id in report.installed.iter().rev() {
                // Best effort: the failure is what is reported.
                let _ = super::uninstall::uninstall(ctx, id, scope, false);
            }
            Err(e)
        }
    }
}

/// Dependencies of one level fetched at once: they do not depend on each other.
const PARALLEL_FETCHES: usize = 8;

/// What the walk reads once, before it installs anything: what was installed, and enabled at
/// the scope. Plugins this run installs are never looked up here (the walk has seen them).
struct Before {
    installed: InstalledPlugins,
    settings: SettingsFile,
    project: Option<PathBuf>,
    scope: Scope,
    /// Ranges installed plugins (enabled or not) declare: `(declaring id, dependency id, range)`.
    pins: Vec<(String, String, String)>,
}

impl Before {
    fn read(ctx: &Context, scope: Scope) -> Result<Self, OpError> {
        let graph = installed_graph(ctx)?;
        // A plugin set aside for an unmet dependency of its own holds nothing to its range
        // (Claude Code reads the ranges of the plugins that load, and of disabled ones).
        // (Unreadable settings elsewhere: every installed plugin's ranges count.)
        let enabled = enabled_in(ctx).ok();
        let is_enabled = |id: &str| enabled.as_ref().is_some_and(|e| e(id));
        let loads = loading(&graph, is_enabled);
        let pins = (graph.into_iter())
            .filter(|n| !is_enabled(&n.id) || loads.contains(&n.id))
            .flat_map(|n| {
                let by = n.id;
                (n.dependencies.into_iter()).filter_map(move |d| Some((by.clone(), d.id, d.range?)))
            })
            .collect();
        Ok(Before {
            installed: ctx.installed()?,
            settings: ctx.settings(scope).map_err(OpError::settings_write)?,
            project: ctx.project_for(scope),
            scope,
            pins,
        })
    }

    /// The folder of `id` installed at the scope.
    fn install_dir(&self, id: &str) -> Option<PathBuf> {
        (self.installed.find(id, self.scope, self.project.as_deref()))
            .map(|r| PathBuf::from(&r.install_path))
    }

    /// The version of `id` installed and enabled at the scope (its tag's when it was resolved
    /// from one), or `None` when it is not.
    fn enabled_version(&self, id: &str) -> Option<String> {
        let rec = self
            .installed
            .find(id, self.scope, self.project.as_deref())?;
        (self.settings.enabled(id) == Some(true) && Path::new(&rec.install_path).is_dir())
            .then(|| rec.resolved_version.clone().unwrap_or(rec.version.clone()))
    }
}

/// A dependency to install: found in its marketplace, with the ranges it must satisfy.
struct Missing {
    id: String,
    found: FoundPlugin,
    /// This run's ranges so far, then installed plugins' (Claude Code's order).
    wanted: Vec<String>,
    /// Of `wanted`, installed plugins'.
    pinned: Vec<String>,
}

/// `missing` fetched: at the highest tag its ranges allow, else as its entry says (from a seed
/// when one has it).
fn fetch(ctx: &Context, missing: &Missing) -> Result<Prefetched, OpError> {
    match at_tag(ctx, &missing.found, &missing.id, &missing.wanted)? {
        Some(resolved) => Ok((resolved, None)),
        None => super::seed::resolve_for_install(ctx, &missing.found),
    }
}

/// One dependency of a level, in the order declared.
enum Step {
    /// Installed and enabled already: what it declares is walked next.
    Installed(PathBuf, Box<FoundPlugin>),
    /// To install (fetched with the others of its level).
    Missing(Box<Missing>),
}

fn walk(
    ctx: &Context,
    root: &FoundPlugin,
    root_dir: &Path,
    scope: Scope,
    report: &mut DependencyReport,
) -> Result<(), OpError> {
    let root_id = root.id();
    // Ranges declared in this run, by dependency id.
    let mut ranges: Vec<(String, String)> = Vec::new();
    let mut level = declared(root_dir, &root.entry, &root.marketplace_name, &mut ranges);
    if level.is_empty() {
        return Ok(());
    }
    let allowed = cross_marketplace_allowlist(root);
    let before = Before::read(ctx, scope)?;
    let mut seen = vec![root_id.clone()];
    // Only the plugin's own dependencies are held to their ranges when already installed; deeper
    // ones already installed are left as they are (Claude Code's walk), and `list` says when
    // one does not fit.
    let mut depth = 0;
    while !level.is_empty() {
        // What the levels before this one declared (for depth 0: the plugin's own ranges).
        let declared_before = ranges.clone();
        let mut steps = Vec::new();
        for dep in level {
            if seen.contains(&dep.id) {
                continue;
            }
            seen.push(dep.id.clone());
            if dep.marketplace() != root.marketplace_name
                && !allowed.iter().any(|m| m == dep.marketplace())
            {
                continue;
            }
            if let Some(installed) = before.enabled_version(&dep.id) {
                // Held to the plugin's own ranges (and installed plugins'), not to what
                // dependencies fetched in this run declare (Claude Code's walk).
                if depth == 0 {
                    let mut wanted = ranges_for(&declared_before, &dep.id);
                    wanted.extend(pins_of(&before, &seen, &dep.id));
                    check_installed(&dep.id, &installed, &wanted)?;
                }
                // What it needs is walked too: a run that was killed may have left some out.
                if let (Some(dir), Ok(found)) = (
                    before.install_dir(&dep.id),
                    find_plugin(ctx, &PluginRef::parse(&dep.id)),
                ) {
                    steps.push(Step::Installed(dir, Box::new(found)));
                }
                continue;
            }
            let found = match find_plugin(ctx, &PluginRef::parse(&dep.id)) {
                // What runs a marketplace's command (a `command` source, an archive's
                // `headersHelper`) is never installed as a dependency, only by name.
                Ok(f) if runs_a_command(&f) => {
                    report.command_sourced.push(dep.id.clone());
                    continue;
                }
                Ok(f) => f,
                Err(OpError::Lookup(super::LookupError::MarketplaceBlocked { .. })) => {
                    return Err(DependencyError::MarketplaceBlocked {
                        plugin: root.entry.name.clone(),
                        dependency: dep.id.clone(),
                        marketplace: dep.marketplace().to_string(),
                    }
                    .into());
                }
                Err(_) => {
                    report.not_found.push(dep.id.clone());
                    continue;
                }
            };
            if super::enable::managed_value(ctx.managed()?, &dep.id) == Some(false) {
                return Err(DependencyError::Blocked {
                    plugin: root.entry.name.clone(),
                    dependency: dep.id.clone(),
                }
                .into());
            }
            let pinned = pins_of(&before, &seen, &dep.id);
            steps.push(Step::Missing(Box::new(Missing {
                wanted: [ranges_for(&ranges, &dep.id), pinned.clone()].concat(),
                id: dep.id,
                found,
                pinned,
            })));
        }
        // The missing ones of this level are fetched at once ...
        let missing: Vec<&Missing> = (steps.iter())
            .filter_map(|s| match s {
                Step::Missing(m) => Some(&**m),
                Step::Installed(..) => None,
            })
            .collect();
        let mut fetched =
            crate::parallel::map(&missing, PARALLEL_FETCHES, 2, |m| fetch(ctx, m)).into_iter();
        // ... then the level is gone through in the order declared, as Claude Code's walk does:
        // each one's declarations count for the ones after it.
        let mut next = Vec::new();
        for step in steps {
            let mut m = match step {
                Step::Installed(dir, found) => {
                    next.extend(declared(
                        &dir,
                        &found.entry,
                        &found.marketplace_name,
                        &mut ranges,
                    ));
                    continue;
                }
                Step::Missing(m) => *m,
            };
            let prefetched = fetched.next();
            // What came before it in this level may have declared ranges for it too: then it
            // is fetched again, at the range of them all.
            let wanted = [ranges_for(&ranges, &m.id), m.pinned.clone()].concat();
            let source = match (wanted == m.wanted, prefetched) {
                (true, Some(prefetched)) => prefetched?,
                _ => {
                    m.wanted = wanted;
                    fetch(ctx, &m)?
                }
            };
            let (mkt, entry) = (m.found.marketplace_name.clone(), m.found.entry.clone());
            let installed = install_found(
                ctx,
                m.found,
                scope,
                Enable::Write,
                Reinstall::Never,
                InstallAs {
                    auto: Some(true),
                    resolved: Some(source),
                },
            )?;
            let dir = match &installed.outcome {
                InstallOutcome::Installed { install_path, .. } => {
                    report.installed.push(installed.id.clone());
                    Some(install_path.clone())
                }
                InstallOutcome::AlreadyInstalled { .. } => install_dir(ctx, &installed.id, scope)?,
            };
            crate::fsutil::crash_point();
            if let Some(dir) = dir {
                next.extend(declared(&dir, &entry, &mkt, &mut ranges));
            }
        }
        level = next;
        depth += 1;
    }
    Ok(())
}

/// The ranges `list` holds for `id`.
fn ranges_for(list: &[(String, String)], id: &str) -> Vec<String> {
    (list.iter())
        .filter(|(d, _)| d == id)
        .map(|(_, r)| r.clone())
        .collect()
}

/// The ranges installed plugins outside this run declare for `id`.
fn pins_of(before: &Before, seen: &[String], id: &str) -> Vec<String> {
    (before.pins.iter())
        .filter(|(by, d, _)| d == id && by != id && !seen.contains(by))
        .map(|(_, _, r)| r.clone())
        .collect()
}

/// A `command` source, or an archive fetched through its entry's `headersHelper`.
fn runs_a_command(found: &FoundPlugin) -> bool {
    match &found.entry.source {
        PluginSource::Command(_) => true,
        PluginSource::Archive { .. } => (found.entry.raw.get("headersHelper"))
            .and_then(Value::as_str)
            .is_some_and(|h| !h.is_empty()),
        _ => false,
    }
}

/// Whether the plugin in `dir` (its catalog entry, or its manifest) declares dependencies.
pub fn declares_any(dir: &Path, entry: &crate::schema::PluginEntry, marketplace: &str) -> bool {
    !declared(dir, entry, marketplace, &mut Vec::new()).is_empty()
}

/// The dependencies the plugin in `dir` declares, noting their ranges.
fn declared(
    dir: &Path,
    entry: &crate::schema::PluginEntry,
    marketplace: &str,
    ranges: &mut Vec<(String, String)>,
) -> Vec<Dependency> {
    // The catalog entry's, then the manifest's.
    let mut deps = dependencies(&entry.raw, marketplace);
    if let Ok(Some(manifest)) = crate::manifest::read_manifest(dir, dir, &entry.name) {
        for d in dependencies(&manifest.raw, marketplace) {
            if !deps.iter().any(|e| e.id == d.id && e.range == d.range) {
                deps.push(d);
            }
        }
    }
    for d in &deps {
        if let Some(r) = &d.range {
            ranges.push((d.id.clone(), r.clone()));
        }
    }
    deps
}

/// `allowCrossMarketplaceDependenciesOn` of the root plugin's catalog.
fn cross_marketplace_allowlist(root: &FoundPlugin) -> Vec<String> {
    let Some(index) = &root.marketplace.index else {
        return Vec::new();
    };
    let Ok(text) = crate::fsutil::read_regular_text(index, crate::fsutil::JSON_FILE_LIMIT) else {
        return Vec::new();
    };
    let doc: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap_or_default();
    (doc.get("allowCrossMarketplaceDependenciesOn")
        .and_then(Value::as_array))
    .into_iter()
    .flatten()
    .filter_map(Value::as_str)
    .map(str::to_string)
    .collect()
}

/// An installed dependency must satisfy the ranges declared for it.
fn check_installed(id: &str, installed: &str, ranges: &[String]) -> Result<(), OpError> {
    let range = match intersect_ranges(ranges) {
        Ok(Some(range)) => range,
        Ok(None) => return Ok(()),
        Err(problem) => return Err(range_problem(id, ranges, problem)),
    };
    let version = nodejs_semver::Version::parse(installed).ok();
    if version.as_ref().is_some_and(|v| range.satisfies(v)) {
        return Ok(());
    }
    Err(DependencyError::InstalledOutOfRange {
        id: id.to_string(),
        installed: match version {
            Some(_) => installed.to_string(),
            None => "an unknown version".into(),
        },
        ranges: ranges.to_vec(),
    }
    .into())
}

/// The refusal of ranges that cannot be met together.
fn range_problem(id: &str, ranges: &[String], problem: RangeProblem) -> OpError {
    let (id, ranges) = (id.to_string(), ranges.to_vec());
    match problem {
        RangeProblem::Invalid => DependencyError::InvalidRange { id, ranges }.into(),
        RangeProblem::Disjoint => DependencyError::Conflict { id, ranges }.into(),
    }
}

/// Where the installation of `id` at `scope` is.
fn install_dir(ctx: &Context, id: &str, scope: Scope) -> Result<Option<PathBuf>, OpError> {
    let project = ctx.project_for(scope);
    Ok((ctx.installed_now()?.find(id, scope, project.as_deref()))
        .map(|r| PathBuf::from(r.install_path)))
}

/// `found` at the highest `{name}--v{version}` tag its `ranges` allow, when they say anything
/// and its repository has tags; `None`: install it as the entry says.
fn at_tag(
    ctx: &Context,
    found: &FoundPlugin,
    id: &str,
    ranges: &[String],
) -> Result<Option<ResolvedPlugin>, OpError> {
    let range = match intersect_ranges(ranges) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(None),
        Err(problem) => return Err(range_problem(id, ranges, problem)),
    };
    let name = &found.entry.name;
    let m = &found.marketplace;
    match &found.entry.source {
        PluginSource::Relative(_) | PluginSource::Bare(_) if m.local => {
            // A folder marketplace that is a git work tree: its own tags (no network).
            let Some(tags) = crate::git::local_tags(&m.root) else {
                return Ok(None);
            };
            let Some((version, _tag, commit)) = highest_tag(name, &tags, &range) else {
                return Ok(None);
            };
            crate::source::resolve_local_commit(m, &found.entry, &m.root, &commit, &version)
                .map(Some)
                .map_err(OpError::from_source)
        }
        PluginSource::Relative(_) | PluginSource::Bare(_) => {
            // A git-hosted marketplace: the tags of its repository; the plugin's folder there.
            let Some(url) = marketplace_remote(ctx, &found.marketplace_name) else {
                return Ok(None);
            };
            let db = crate::git::GitDatabase::open(&ctx.loc.git_db_dir(), &url, &ctx.env)?;
            let Some((version, tag, commit)) = highest_tag(name, &db.remote_tags()?, &range) else {
                return Ok(None);
            };
            let dir = m
                .resolve_relative(&found.entry)
                .map_err(|e| OpError::from_source(crate::source::SourceError::Relative(e)))?;
            let path = crate::fsutil::slash_path(&crate::fsutil::relative_path(&m.root, &dir));
            let source = match path.as_str() {
                "." => PluginSource::GitUrl {
                    url: url.as_str().to_string(),
                    reference: None,
                    sha: None,
                },
                _ => PluginSource::GitSubdir {
                    url: url.as_str().to_string(),
                    path,
                    reference: None,
                    sha: None,
                },
            };
            at_commit(ctx, found, &source, &tag, &commit, version).map(Some)
        }
        PluginSource::Github { .. }
        | PluginSource::GitUrl { .. }
        | PluginSource::GitSubdir { .. } => {
            let url = git_url(ctx, &found.entry.source).map_err(OpError::from_source)?;
            let db = crate::git::GitDatabase::open(&ctx.loc.git_db_dir(), &url, &ctx.env)?;
            let tags = db.remote_tags()?;
            let Some((version, tag, commit)) = highest_tag(name, &tags, &range) else {
                return Err(DependencyError::NoMatchingTag {
                    id: id.to_string(),
                    name: name.to_string(),
                    range: range.to_string(),
                    tags: release_tag_names(name, &tags, 5),
                }
                .into());
            };
            at_commit(ctx, found, &found.entry.source, &tag, &commit, version).map(Some)
        }
        // npm, pip, archives: the range is checked when the plugin loads, as Claude Code does.
        _ => Ok(None),
    }
}

/// `found` fetched from `source` pinned at the tag's commit, recorded as Claude Code records a
/// tagged dependency.
fn at_commit(
    ctx: &Context,
    found: &FoundPlugin,
    source: &PluginSource,
    tag: &str,
    commit: &str,
    version: String,
) -> Result<ResolvedPlugin, OpError> {
    let mut entry = found.entry.clone();
    entry.source = pinned(source, &format!("refs/tags/{tag}"), commit);
    let mut resolved =
        (ctx.fetch_source(&found.marketplace, &entry, None)).map_err(OpError::from_source)?;
    resolved.version = crate::version::with_commit(&resolved.version, commit);
    resolved.resolved_version = Some(version);
    Ok(resolved)
}

/// The git remote of a git-hosted marketplace (`None` for other kinds).
fn marketplace_remote(ctx: &Context, name: &str) -> Option<crate::git::GitUrl> {
    let configured = ctx.configured_marketplaces().ok()?;
    let m = configured.into_iter().find(|c| c.name == name)?;
    let source = crate::marketplace::MarketplaceSource::from_json(&m.source)?;
    source
        .git_remote(ctx.env.github_base_url.as_deref())?
        .ok()
        .map(|(url, _)| url)
}

fn git_url(
    ctx: &Context,
    source: &PluginSource,
) -> Result<crate::git::GitUrl, crate::source::SourceError> {
    let github = |repo: &str| crate::git::GitUrl::github(repo, ctx.env.github_base_url.as_deref());
    Ok(match source {
        PluginSource::Github { repo, .. } => github(repo)?,
        PluginSource::GitSubdir { url, .. }
            if !url.contains(':') && url.split('/').count() == 2 =>
        {
            github(url)?
        }
        PluginSource::GitUrl { url, .. } | PluginSource::GitSubdir { url, .. } => {
            crate::git::GitUrl::parse(url)?
        }
        _ => {
            return Err(crate::source::SourceError::Unsupported(
                source.kind().into(),
            ));
        }
    })
}

/// `source` pinned to the tag `reference` at `commit`.
fn pinned(source: &PluginSource, reference: &str, commit: &str) -> PluginSource {
    let (reference, sha) = (Some(reference.to_string()), Some(commit.to_string()));
    match source.clone() {
        PluginSource::Github { repo, .. } => PluginSource::Github {
            repo,
            reference,
            sha,
        },
        PluginSource::GitUrl { url, .. } => PluginSource::GitUrl {
            url,
            reference,
            sha,
        },
        PluginSource::GitSubdir { url, path, .. } => PluginSource::GitSubdir {
            url,
            path,
            reference,
            sha,
        },
        other => other,
    }
}

/// Claude Code's ` (+ N dependencies: a, b)` after an install's line (five names at most).
pub fn installed_suffix(report: &DependencyReport) -> String {
    let n = report.installed.len();
    if n == 0 {
        return String::new();
    }
    let word = if n == 1 { "dependency" } else { "dependencies" };
    let names = first_names(report.installed.iter().map(String::as_str));
    format!(" (+ {n} {word}: {names})")
}

/// The plugin names of `ids`, five at most, then `…` (Claude Code's lists).
fn first_names<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> String {
    let more = ids.len() > 5;
    let mut names = (ids.take(5))
        .map(super::plugin_name)
        .collect::<Vec<_>>()
        .join(", ");
    if more {
        names.push_str(", …");
    }
    names
}

/// Claude Code's warning about dependencies no added marketplace lists (`root`: the plugin's
/// name).
pub fn not_found_warning(report: &DependencyReport, root: &str) -> String {
    let missing: Vec<String> = (report.not_found.iter())
        .map(|id| {
            format!("dependency \"{id}\" was not installed (no marketplace you have added lists it)")
        })
        .chain(report.command_sourced.iter().map(|id| {
            format!(
                "dependency \"{id}\" was not installed (it runs a command from its marketplace: install it by name)"
            )
        }))
        .collect();
    if missing.is_empty() {
        return String::new();
    }
    let mut parts: Vec<String> = missing.iter().take(5).cloned().collect();
    if missing.len() > 5 {
        parts.push(format!("and {} more", missing.len() - 5));
    }
    let them = if missing.len() == 1 { "it" } else { "them" };
    format!(
        ". Warning: {}. \"{root}\" will not load without {them}",
        parts.join("; ")
    )
}

/// The auto-installed plugins at a scope that nothing needs any more: those recorded `auto`
/// that no plugin installed by name reaches through `dependencies`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unneeded {
    /// `(id, recorded version)`, in the order of the records.
    pub plugins: Vec<(String, String)>,
    /// How many plugins at the scope are auto-installed.
    pub auto_count: usize,
    /// Installations whose manifest cannot be read: what they need is unknown, so nothing is
    /// called unneeded.
    pub unloadable: Vec<String>,
}

/// [`Unneeded`] at `scope` (and this project, for project and local scope).
pub fn unneeded(ctx: &Context, scope: Scope) -> Result<Unneeded, OpError> {
    let project = ctx.project_for(scope);
    let records: Vec<(String, crate::state::InstallRecord)> =
        (ctx.installed_now()?.all().into_iter())
            .filter(|(_, r)| r.matches(scope, project.as_deref()))
            .collect();
    let mut needs: Vec<(String, Vec<String>)> = Vec::new();
    let mut out = Unneeded::default();
    for (id, rec) in &records {
        let (name, marketplace) = id.rsplit_once('@').unwrap_or((id.as_str(), ""));
        let dir = Path::new(&rec.install_path);
        match crate::manifest::read_manifest(dir, dir, name) {
            Ok(m) if dir.is_dir() => needs.push((
                id.clone(),
                m.map(|m| crate::schema::plugin_manifest::dependency_ids(&m.raw, marketplace))
                    .unwrap_or_default(),
            )),
            _ => out.unloadable.push(id.clone()),
        }
    }
    if !out.unloadable.is_empty() {
        return Ok(out);
    }
    let mut reached: Vec<String> = (records.iter())
        .filter(|(_, r)| r.auto != Some(true))
        .map(|(id, _)| id.clone())
        .collect();
    let mut i = 0;
    while i < reached.len() {
        let id = reached[i].clone();
        for (_, deps) in needs.iter().filter(|(n, _)| *n == id) {
            for d in deps {
                if !reached.contains(d) {
                    reached.push(d.clone());
                }
            }
        }
        i += 1;
    }
    for (id, rec) in &records {
        if rec.auto == Some(true) {
            out.auto_count += 1;
            if !reached.contains(id) {
                out.plugins.push((id.clone(), rec.version.clone()));
            }
        }
    }
    Ok(out)
}

/// `plugin prune`: the unneeded plugins at `scope`, uninstalled unless `dry_run` (records and
/// `enabledPlugins` keys go, data folders are deleted, version folders are marked orphaned).
pub fn prune(
    ctx: &Context,
    scope: Scope,
    dry_run: bool,
    keep_data: bool,
) -> Result<Unneeded, OpError> {
    let found = unneeded(ctx, scope)?;
    if !dry_run && found.unloadable.is_empty() {
        for (id, _) in &found.plugins {
            super::uninstall::uninstall(ctx, id, scope, keep_data)?;
        }
    }
    Ok(found)
}

/// Claude Code's line after an uninstall that left auto-installed plugins unneeded.
pub fn unneeded_note(found: &Unneeded, scope: Scope) -> Option<String> {
    if found.plugins.is_empty() || !found.unloadable.is_empty() {
        return None;
    }
    let n = found.plugins.len();
    let word = if n == 1 { "dependency" } else { "dependencies" };
    let names = first_names(found.plugins.iter().map(|(id, _)| id.as_str()));
    let flag = match scope {
        Scope::User => String::new(),
        other => format!(" --scope {other}"),
    };
    Some(format!(
        "{n} auto-installed {word} no longer needed: {names}. Run `plugin prune{flag}` to remove."
    ))
}

/// A plugin installed where it counts from here, what it depends on, and the version its
/// dependents' ranges are checked against.
#[derive(Debug, Clone)]
pub struct InstalledNode {
    pub id: String,
    pub dependencies: Vec<Dependency>,
    /// `resolvedVersion` (a tag's), else its manifest's version.
    pub version: Option<String>,
}

/// Each plugin installed where it counts from here (user and managed scope, and this
/// project's), with what its manifest says it depends on.
pub fn installed_graph(ctx: &Context) -> Result<Vec<InstalledNode>, OpError> {
    let project = ctx.loc.project_path().to_path_buf();
    let mut seen = std::collections::HashSet::new();
    let records: Vec<(String, crate::state::InstallRecord)> =
        (ctx.installed_now()?.visible_from(&project))
            .into_iter()
            .filter(|(id, _, _)| seen.insert(id.clone()))
            .map(|(id, rec, _)| (id, rec))
            .collect();
    // One manifest per installed plugin: read on a few threads (hundreds may be installed).
    Ok(crate::parallel::map(
        &records,
        crate::parallel::disk_threads(),
        32,
        |(id, rec)| {
            let (name, marketplace) = id.rsplit_once('@').unwrap_or((id.as_str(), ""));
            let dir = Path::new(&rec.install_path);
            let manifest = crate::manifest::read_manifest(dir, dir, name)
                .ok()
                .flatten();
            InstalledNode {
                dependencies: (manifest.as_ref())
                    .map(|m| dependencies(&m.raw, marketplace))
                    .unwrap_or_default(),
                version: (rec.resolved_version.clone())
                    .or_else(|| manifest.and_then(|m| m.version)),
                id: id.clone(),
            }
        },
    ))
}

/// Whether a plugin is enabled where it counts from here ([`super::enable::is_enabled`]), the
/// settings read once.
pub(super) fn enabled_in(ctx: &Context) -> Result<impl Fn(&str) -> bool + '_, OpError> {
    let files = ctx.writable_settings()?;
    let managed = ctx.managed()?;
    Ok(move |id: &str| super::enable::is_enabled(managed, &files, id))
}

/// The enabled plugins of `graph` that load: Claude Code sets aside (demotes) one whose
/// dependency is not installed, not enabled, set aside itself, or outside its range.
pub fn loading(graph: &[InstalledNode], enabled: impl Fn(&str) -> bool) -> Vec<String> {
    let mut loaded: Vec<String> = (graph.iter())
        .filter(|n| enabled(&n.id))
        .map(|n| n.id.clone())
        .collect();
    loop {
        let before = loaded.len();
        let keep: Vec<String> = (loaded.iter())
            .filter(|id| {
                let Some(node) = graph.iter().find(|n| n.id == **id) else {
                    return false;
                };
                node.dependencies.iter().all(|d| {
                    let Some(dep) = graph.iter().find(|n| n.id == d.id) else {
                        return false;
                    };
                    loaded.contains(&d.id) && satisfies(dep.version.as_deref(), d.range.as_deref())
                })
            })
            .cloned()
            .collect();
        loaded = keep;
        if loaded.len() == before {
            return loaded;
        }
    }
}

/// Whether an installed `version` is in `range` (node-semver; a loose version is coerced).
fn satisfies(version: Option<&str>, range: Option<&str>) -> bool {
    let Some(range) = range else { return true };
    let (Ok(range), Some(v)) = (nodejs_semver::Range::parse(range), version) else {
        return false;
    };
    match nodejs_semver::Version::parse(v) {
        Ok(v) => range.satisfies(&v),
        Err(_) => false,
    }
}

/// `graph` as ids and the ids each depends on.
pub fn declared_dependencies(graph: &[InstalledNode]) -> Vec<(String, Vec<String>)> {
    graph
        .iter()
        .map(|n| {
            (
                n.id.clone(),
                n.dependencies.iter().map(|d| d.id.clone()).collect(),
            )
        })
        .collect()
}

/// The enabled plugins that depend on `id`: those that name it (their names, Claude Code's
/// `reverseDependents`), and every enabled plugin that depends on it through others, the most
/// dependent first (what must be disabled before it).
pub fn enabled_dependents(
    graph: &[(String, Vec<String>)],
    id: &str,
    is_enabled: impl Fn(&str) -> bool,
) -> (Vec<String>, Vec<String>) {
    let direct: Vec<String> = (graph.iter())
        .filter(|(other, deps)| other != id && is_enabled(other) && deps.iter().any(|d| d == id))
        .map(|(other, _)| other.clone())
        .collect();
    // Depth first, dependents of a dependent before it.
    fn visit(
        graph: &[(String, Vec<String>)],
        id: &str,
        is_enabled: &dyn Fn(&str) -> bool,
        out: &mut Vec<String>,
        on_path: &mut Vec<String>,
    ) {
        for (other, deps) in graph {
            if other == id
                || !is_enabled(other)
                || !deps.iter().any(|d| d == id)
                || out.contains(other)
                || on_path.contains(other)
            {
                continue;
            }
            on_path.push(other.clone());
            visit(graph, other, is_enabled, out, on_path);
            on_path.pop();
            out.push(other.clone());
        }
    }
    let mut chain = Vec::new();
    visit(
        graph,
        id,
        &is_enabled,
        &mut chain,
        &mut vec![id.to_string()],
    );
    (direct, chain)
}

/// What enabling `id` must enable with it: its dependencies, transitively, that are not
/// enabled yet (breadth first); `Err` with those not installed at all.
pub fn to_enable_with(
    graph: &[(String, Vec<String>)],
    id: &str,
    is_enabled: impl Fn(&str) -> bool,
) -> Result<Vec<String>, Vec<String>> {
    let installed = |d: &str| graph.iter().any(|(i, _)| i == d);
    let mut seen = vec![id.to_string()];
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut i = 0;
    while i < seen.len() {
        let at = seen[i].clone();
        for (_, deps) in graph.iter().filter(|(g, _)| *g == at) {
            for d in deps {
                if seen.contains(d) {
                    continue;
                }
                seen.push(d.clone());
                if !installed(d) {
                    missing.push(d.clone());
                } else if !is_enabled(d) {
                    out.push(d.clone());
                }
            }
        }
        i += 1;
    }
    match missing.is_empty() {
        true => Ok(out),
        false => Err(missing),
    }
}

/// The names of the enabled plugins that name `plugin` (`name` or `name@marketplace`) as a
/// dependency (Claude Code warns about them when it is uninstalled).
pub fn required_by(ctx: &Context, plugin: &str) -> Result<Vec<String>, OpError> {
    let nodes = installed_graph(ctx)?;
    let named = |n: &InstalledNode| n.id.contains('@') && super::plugin_name(&n.id) == plugin;
    let Some(id) = (match plugin.contains('@') {
        true => Some(plugin.to_string()),
        false => nodes.iter().find(|n| named(n)).map(|n| n.id.clone()),
    }) else {
        return Ok(Vec::new());
    };
    let id = id.as_str();
    let loaded = loading(&nodes, enabled_in(ctx)?);
    let graph = declared_dependencies(&nodes);
    let (direct, _) = enabled_dependents(&graph, id, |i| loaded.iter().any(|l| l == i));
    Ok(direct
        .iter()
        .map(|i| super::plugin_name(i).to_string())
        .collect())
}

/// What keeps dependency `d` from being met, as `list` reports it (Claude Code's kind and
/// words): not installed, installed but not loading (disabled, or set aside), or outside its
/// range.
pub fn unmet(
    graph: &[InstalledNode],
    loading: &[String],
    d: &Dependency,
) -> Option<(&'static str, String)> {
    let id = &d.id;
    let Some(node) = graph.iter().find(|n| n.id == *id) else {
        return Some((
            "dependency-unsatisfied",
            format!(
                "Dependency \"{id}\" is not installed — run `claude plugin install {id}`, or check that its marketplace is added"
            ),
        ));
    };
    if !loading.contains(id) {
        return Some((
            "dependency-unsatisfied",
            format!("Dependency \"{id}\" is disabled — enable it or remove the dependency"),
        ));
    }
    let range = d.range.as_deref()?;
    if satisfies(node.version.as_deref(), Some(range)) {
        return None;
    }
    let installed = match &node.version {
        Some(v) => format!("installed {v}"),
        None => "installed version unknown".to_string(),
    };
    Some((
        "dependency-version-unsatisfied",
        format!("Requires \"{id}\" {range}, {installed}"),
    ))
}

/// A plugin installed as a dependency, now asked for by name: its `auto` is cleared (Claude
/// Code's "marked as manually installed"). Whether it was.
pub fn mark_manual(ctx: &Context, id: &str, scope: Scope) -> Result<bool, OpError> {
    let project = ctx.project_for(scope);
    let auto = |installed: &InstalledPlugins| {
        (installed.find(id, scope, project.as_deref())).filter(|r| r.auto == Some(true))
    };
    // Most plugins asked for by name were: no lock for them.
    if auto(&*ctx.installed_now()?).is_none() {
        return Ok(false);
    }
    let _lock = ctx.lock_state()?;
    let mut installed = ctx.installed()?;
    let Some(rec) = auto(&installed) else {
        return Ok(false);
    };
    installed.upsert(id, &rec.as_new(scope, project.clone(), Some(false)));
    super::in_transaction(|tx| Ok(installed.write(tx)?))?;
    Ok(true)
}

/// The ranges the plugins of `graph` (enabled or not) declare for `id`: `(declaring id, range)`.
pub fn pinning_ranges(graph: &[InstalledNode], id: &str) -> Vec<(String, String)> {
    (graph.iter())
        .filter(|n| n.id != id)
        .flat_map(|n| {
            (n.dependencies.iter())
                .filter(|d| d.id == id)
                .filter_map(|d| Some((n.id.clone(), d.range.clone()?)))
        })
        .collect()
}

/// Why `update` keeps a plugin other installed plugins constrain as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    /// Their ranges exclude each other.
    Conflict,
    /// No tag could be listed or none fits, and the entry's version (this one) is outside them.
    Outside(String),
}

/// How `update` resolves a plugin other installed plugins constrain with `ranges`: at the
/// highest tag they allow; where no tag can be listed or none fits, as its entry says, kept
/// only when its version fits. `Err`: it stays as it is.
pub fn resolve_constrained(
    ctx: &Context,
    found: &FoundPlugin,
    id: &str,
    ranges: &[String],
) -> Result<Result<ResolvedPlugin, Held>, OpError> {
    let range = match intersect_ranges(ranges) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(Ok(super::install::resolve_plugin(ctx, found)?)),
        Err(_) => return Ok(Err(Held::Conflict)),
    };
    match at_tag(ctx, found, id, ranges) {
        Ok(Some(resolved)) => return Ok(Ok(resolved)),
        Ok(None) | Err(OpError::Dependency(DependencyError::NoMatchingTag { .. })) => {}
        Err(e) => return Err(e),
    }
    let resolved = super::install::resolve_plugin(ctx, found)?;
    let fits = nodejs_semver::Version::parse(&resolved.version).is_ok_and(|v| range.satisfies(&v));
    Ok(match fits {
        true => Ok(resolved),
        false => Err(Held::Outside(resolved.version)),
    })
}

/// Claude Code's checks of the dependencies catalog entries declare (`dependencies` beside
/// `source`), before anything is installed: following them from `root`'s entry, a cycle, a
/// dependency in a marketplace the root's catalog does not allow (unless it is enabled already),
/// or one its marketplace does not list refuses the install.
pub fn check_catalog_entries(ctx: &Context, root: &FoundPlugin) -> Result<(), OpError> {
    let allowed = cross_marketplace_allowlist(root);
    let files = ctx.writable_settings().ok();
    let enabled = |id: &str| {
        (files.as_deref())
            .and_then(|f| super::enable::deciding(f, id))
            .is_some_and(|(_, v)| v)
    };
    fn visit(
        ctx: &Context,
        at: &FoundPlugin,
        root_marketplace: &str,
        allowed: &[String],
        enabled: &dyn Fn(&str) -> bool,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) -> Result<(), OpError> {
        let here = at.id();
        for dep in dependencies(&at.entry.raw, &at.marketplace_name) {
            if let Some(start) = path.iter().position(|p| *p == dep.id) {
                let mut cycle = path[start..].to_vec();
                cycle.push(dep.id.clone());
                return Err(DependencyError::Cycle(cycle).into());
            }
            if done.contains(&dep.id) {
                continue;
            }
            if dep.marketplace() != root_marketplace
                && !allowed.iter().any(|m| m == dep.marketplace())
                && !enabled(&dep.id)
            {
                return Err(DependencyError::CrossMarketplace {
                    dependency: dep.id.clone(),
                    by: here,
                    marketplace: dep.marketplace().to_string(),
                }
                .into());
            }
            let Ok(found) = find_plugin(ctx, &PluginRef::parse(&dep.id)) else {
                return Err(DependencyError::NotFound {
                    dependency: dep.id.clone(),
                    by: here,
                    marketplace: dep.marketplace().to_string(),
                }
                .into());
            };
            path.push(dep.id.clone());
            visit(ctx, &found, root_marketplace, allowed, enabled, path, done)?;
            path.pop();
            done.push(dep.id.clone());
        }
        Ok(())
    }
    visit(
        ctx,
        root,
        &root.marketplace_name,
        &allowed,
        &enabled,
        &mut vec![root.id()],
        &mut Vec::new(),
    )
}
