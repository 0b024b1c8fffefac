//! `install`: resolve `name[@marketplace]`, copy the plugin into a staging folder, publish it as
//! its version folder, then record and enable it.

use std::path::{Path, PathBuf};

use super::{
    Context, FetchError, LoadedMarketplace, LookupError, OpError, PluginRef, load_configured,
    marketplace,
};
use crate::cache::{CopyReport, Marker, Skipped, StagedPlugin};
use crate::fsutil::iso_timestamp;
use crate::locations::Scope;
use crate::lock::FileLock;
use crate::marketplace::{Marketplace, PluginEntry, RelativeSourceError};
use crate::schema::PluginSource;
use crate::source::{ResolvedPlugin, SourceError};
use crate::state::{InstalledPlugins, NewInstall, SettingsFile, Transaction};
use crate::version;

use super::consent::ShownCommand;

/// What only installing (`install`, and the installs of `update`, `sync` and `link`) refuses.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("This plugin's marketplace entry is invalid: {}", .0.join(", "))]
    EntryInvalid(Vec<String>),
    #[error("{}", relative_source_message(.id, .source))]
    RelativeSource {
        id: String,
        #[source]
        source: RelativeSourceError,
    },
    #[error(
        "The content of {} changed but its version {version} is the installed one; bump \"version\" in its plugin.json, or reinstall it as it is with `plugin install {id} --force`",
        .folder.display()
    )]
    ChangedSameVersion {
        id: String,
        version: String,
        folder: PathBuf,
    },
    #[error(
        "Plugin \"{id}\" is linked to the development checkout {}; `plugin unlink {id}` removes the link first",
        .checkout.display()
    )]
    LinkedNotReplaced { id: String, checkout: PathBuf },
    #[error("Plugin \"{name}\" is blocked by your organization's policy and cannot be installed")]
    PolicyBlocked { name: String },
    #[error(
        "Command-sourced plugins are disabled by your organization's managed settings (disableCommandPluginSources / allowManagedHooksOnly). The plugin was not installed or updated and its command was not run."
    )]
    CommandSourcesDisabled,
    /// A `command` source shown and not accepted: nothing ran.
    #[error("{message}")]
    CommandNotAccepted {
        message: String,
        shown: Box<ShownCommand>,
    },
    #[error("Aborted — the command was not run.")]
    CommandDeclined { shown: Box<ShownCommand> },
    #[error(
        "Plugin \"{0}\" declares a headersHelper but is not strict:false — an entry with headersHelper must inline its manifest so its capabilities can be reviewed before the command runs."
    )]
    HelperNotInlined(String),
    #[error(
        "\"{0}\" fetches its archive through a marketplace-declared headersHelper command, and your organization's managed settings disable marketplace-declared commands (disableCommandPluginSources / allowManagedHooksOnly). The plugin was not installed or updated and the command was not run; ask your admin to allow it or to declare the marketplace in managed settings."
    )]
    HelperDisabled(String),
    #[error(
        "Plugin \"{0}\" fetches its archive through a headersHelper, which only runs when you install or update it from its own details view — open this plugin in /plugin (or run `plugin install`/`update`), where the command is shown first."
    )]
    HelperDeferred(String),
    /// An archive entry's `headersHelper` shown and not accepted (or declined).
    #[error("Aborted — the headersHelper command was not confirmed, so it was not run.")]
    HelperNotConfirmed {
        shown: Box<ShownCommand>,
        declined: bool,
    },
    #[error("plugin headersHelper for \"{name}\" failed ({reason})")]
    HelperFailed { name: String, reason: &'static str },
    #[error(
        "marketplace {0}: your organization's managed settings disable marketplace-declared commands (disableCommandPluginSources / allowManagedHooksOnly), and this marketplace's headersHelper is not declared in managed settings. The marketplace was not fetched and the command was not run; ask your admin to allow it or to declare the marketplace in managed settings."
    )]
    MarketplaceHelperDisabled(String),
    #[error("marketplace headersHelper failed ({0})")]
    MarketplaceHelperFailed(&'static str),
}

/// A missing folder reads as Claude Code's "Source path does not exist: …"; other refusals name the plugin.
fn relative_source_message(id: &str, e: &RelativeSourceError) -> String {
    match e {
        RelativeSourceError::Missing(_) => e.to_string(),
        _ => format!("Cannot install {id}: {e}"),
    }
}

impl InstallError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            InstallError::EntryInvalid(_) => "error_validation",
            InstallError::RelativeSource { source, .. } => match source {
                RelativeSourceError::Missing(_) => "error_not_found",
                _ => "error_validation",
            },
            InstallError::ChangedSameVersion { .. } => "changed_same_version",
            InstallError::LinkedNotReplaced { .. } => "linked",
            InstallError::PolicyBlocked { .. } => "plugin_policy_blocked",
            InstallError::CommandSourcesDisabled => "command_source_disabled",
            InstallError::CommandNotAccepted { .. } => "command_source_refused",
            InstallError::CommandDeclined { .. } => "command_source_declined",
            InstallError::HelperNotInlined(_) => "entry_helper_not_inlined",
            InstallError::HelperDisabled(_) => "entry_helper_disabled_by_policy",
            InstallError::HelperDeferred(_) => "entry_helper_deferred",
            InstallError::HelperNotConfirmed { declined: true, .. } => "entry_helper_declined",
            InstallError::HelperNotConfirmed { .. } => "entry_helper_unconfirmed",
            InstallError::HelperFailed { .. } | InstallError::MarketplaceHelperFailed(_) => {
                "error_unknown"
            }
            InstallError::MarketplaceHelperDisabled(_) => "marketplace_policy_blocked",
        }
    }

    /// What was shown of a `command` source that did not run (`shownCommand` in `--json`).
    pub fn shown_command(&self) -> Option<&ShownCommand> {
        match self {
            InstallError::CommandNotAccepted { shown, .. }
            | InstallError::CommandDeclined { shown }
            | InstallError::HelperNotConfirmed { shown, .. } => Some(shown),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct InstallRequest {
    /// As typed: `name` or `name@marketplace`.
    pub plugin: String,
    pub scope: Scope,
    /// `--marketplace <source>`: add this marketplace first.
    pub marketplace_source: Option<String>,
    /// `--force`: reinstall an installed plugin even when its version and content are unchanged.
    pub force: bool,
}

#[derive(Debug, Clone)]
pub enum InstallOutcome {
    Installed {
        version: String,
        install_path: PathBuf,
        skipped: Vec<Skipped>,
        /// Things to tell the user (e.g. dependencies not installed for want of a lockfile).
        notes: Vec<String>,
        /// The seed version folder the files were copied from (nothing was fetched).
        from_seed: Option<PathBuf>,
    },
    AlreadyInstalled {
        installed_version: String,
        available_version: String,
        /// The source folder a folder marketplace's plugin is read from.
        in_place_from: Option<PathBuf>,
        /// What was checked beyond the record.
        note: AlreadyNote,
    },
}

/// Why an installed plugin was left as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum AlreadyNote {
    /// Only the record was looked at (not a folder marketplace, or `sync`).
    Recorded,
    /// A folder marketplace's plugin: the source has the installed content digest.
    Unchanged { digest: String },
    /// The version folder is a link to this development checkout (`plugin link`).
    Linked(PathBuf),
    /// A `command` source's plugin: its command was not run (so no other version is known);
    /// when the marketplace's command is not the one accepted, what to do about it.
    CommandNotRun { unreviewed: Option<String> },
}

/// How `install` treats a plugin that is already installed and enabled at the scope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reinstall {
    /// Report it as installed (what `sync` needs).
    Never,
    /// `plugin install`: a folder marketplace's plugin is reinstalled under a new version, or
    /// with `force`; same version and other content is refused; same content does nothing.
    WhenChanged { force: bool },
}

#[derive(Debug, Clone)]
pub struct InstallReport {
    pub id: String,
    pub scope: Scope,
    pub added_marketplace: Option<marketplace::AddReport>,
    pub outcome: InstallOutcome,
    /// The plugin's dependencies this install installed, and those it could not find.
    pub dependencies: super::dependencies::DependencyReport,
    /// It was installed as a dependency and is now installed by name (`auto` cleared).
    pub marked_manual: bool,
}

/// A plugin entry located in a loaded marketplace.
pub struct FoundPlugin {
    pub marketplace_name: String,
    /// Shared: a bulk command finds every plugin of one catalog.
    pub marketplace: std::sync::Arc<Marketplace>,
    pub entry: PluginEntry,
}

impl InstallReport {
    /// A report of `outcome`, with no dependencies installed.
    fn of(
        id: String,
        scope: Scope,
        added_marketplace: Option<marketplace::AddReport>,
        outcome: InstallOutcome,
    ) -> Self {
        Self {
            id,
            scope,
            added_marketplace,
            outcome,
            dependencies: Default::default(),
            marked_manual: false,
        }
    }
}

impl FoundPlugin {
    /// `name@marketplace`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.entry.name, self.marketplace_name)
    }
}

pub fn install(ctx: &Context, req: &InstallRequest) -> Result<InstallReport, OpError> {
    // Nothing happens under a policy we could not read.
    ctx.policy()?;
    PluginRef::parse_checked(&req.plugin)?;
    let mut plugin = req.plugin.clone();
    let mut added = None;
    if let Some(source) = &req.marketplace_source {
        let a = marketplace::add(ctx, source, Scope::User)?;
        plugin = format!("{}@{}", PluginRef::parse(&plugin).name, a.name);
        added = Some(a);
    }
    let found = match find_plugin(ctx, &PluginRef::parse_checked(&plugin)?) {
        Err(OpError::Lookup(LookupError::MarketplaceBlocked {
            plugin,
            marketplace,
        })) => return already_installed_from_blocked(ctx, plugin, marketplace, req.scope),
        other => other?,
    };
    // A linked checkout (`plugin link`) is the installation; its source is not read.
    let id = found.id();
    if let Some(rec) =
        ctx.installed_now()?
            .find(&id, req.scope, ctx.project_for(req.scope).as_deref())
        && let Ok(checkout) = std::fs::read_link(&rec.install_path)
    {
        if req.force {
            return Err(InstallError::LinkedNotReplaced { id, checkout }.into());
        }
        let outcome = InstallOutcome::AlreadyInstalled {
            available_version: rec.version.clone(),
            installed_version: rec.version,
            in_place_from: None,
            note: AlreadyNote::Linked(checkout),
        };
        return Ok(InstallReport::of(id, req.scope, added, outcome));
    }
    // Managed `false` blocks the plugin everywhere; refused before its source is fetched.
    if super::enable::managed_value(ctx.managed()?, &id) == Some(false) {
        return Err(InstallError::PolicyBlocked {
            name: found.entry.name,
        }
        .into());
    }
    if !req.force
        && let Some(outcome) = command_plugin_installed(ctx, &found, req.scope)?
    {
        return Ok(InstallReport::of(id, req.scope, added, outcome));
    }
    let root = FoundPlugin {
        marketplace_name: found.marketplace_name.clone(),
        marketplace: found.marketplace.clone(),
        entry: found.entry.clone(),
    };
    // What catalog entries declare is checked before anything is written.
    super::dependencies::check_catalog_entries(ctx, &root)?;
    // A failed dependency install undoes the plugin too: to the byte, where nothing else
    // changed these files meanwhile.
    let files: Vec<PathBuf> = std::iter::once(ctx.loc.installed_plugins_file())
        .chain(ctx.loc.settings_file(req.scope))
        .collect();
    let before = crate::state::Snapshot::take(&files).map_err(OpError::from)?;
    let project = ctx.project_for(req.scope);
    // What this install replaces, if anything: put back should it fail.
    let replaced = (ctx
        .installed_now()?
        .find(&id, req.scope, project.as_deref()))
    .map(|rec| {
        (
            rec,
            ctx.settings(req.scope).ok().and_then(|s| s.enabled(&id)),
        )
    });
    let mut report = install_found(
        ctx,
        found,
        req.scope,
        Enable::Write,
        Reinstall::WhenChanged { force: req.force },
        InstallAs {
            auto: Some(false),
            resolved: None,
        },
    )?;
    report.added_marketplace = added;
    crate::fsutil::crash_point();
    if matches!(report.outcome, InstallOutcome::AlreadyInstalled { .. }) {
        report.marked_manual = super::dependencies::mark_manual(ctx, &id, req.scope)?;
    }
    if let Some(rec) = ctx
        .installed_now()?
        .find(&id, req.scope, project.as_deref())
    {
        match super::dependencies::install_missing(
            ctx,
            &root,
            Path::new(&rec.install_path),
            req.scope,
        ) {
            Ok(deps) => report.dependencies = deps,
            Err(e) => {
                // Nothing of a failed install stays recorded: the plugin goes too, or the
                // installation it replaced comes back. Best effort: the failure is what is
                // reported.
                if matches!(report.outcome, InstallOutcome::Installed { .. }) {
                    match replaced.filter(|(rec, _)| Path::new(&rec.install_path).is_dir()) {
                        Some((rec, enabled)) => {
                            let _ = put_back(ctx, &id, req.scope, &rec, enabled);
                        }
                        None => {
                            let _ = super::uninstall::uninstall(ctx, &id, req.scope, false);
                        }
                    }
                }
                // Best effort: the failure is what is reported.
                if let Ok(_lock) = ctx.lock_state() {
                    let _ = super::in_transaction(|tx| Ok(before.restore_spelling(tx)?));
                }
                return Err(e);
            }
        }
    }
    Ok(report)
}

/// The installation of `id` at `scope` an install replaced, recorded again (with what the
/// scope's settings said of it), after that install failed.
fn put_back(
    ctx: &Context,
    id: &str,
    scope: Scope,
    rec: &crate::state::InstallRecord,
    enabled: Option<bool>,
) -> Result<(), OpError> {
    let _lock = ctx.lock_state()?;
    let mut installed = ctx.installed()?;
    let mut settings = ctx.settings(scope).map_err(OpError::settings_write)?;
    installed.upsert(id, &rec.as_new(scope, ctx.project_for(scope), rec.auto));
    match enabled {
        Some(v) => settings.set_enabled(id, v),
        None => {
            settings.remove_enabled(id);
        }
    }
    super::in_transaction(|tx| {
        installed.write(tx)?;
        settings.write(tx).map_err(OpError::settings_write)
    })
}

/// A `command` source's plugin installed and enabled at `scope`: reported as installed without
/// running its command (`update` runs it again), saying so when the marketplace's command is
/// not the one accepted.
fn command_plugin_installed(
    ctx: &Context,
    found: &FoundPlugin,
    scope: Scope,
) -> Result<Option<InstallOutcome>, OpError> {
    let PluginSource::Command(source) = &found.entry.source else {
        return Ok(None);
    };
    let id = found.id();
    let installed = ctx.installed_now()?;
    let settings = ctx.settings(scope).map_err(OpError::settings_write)?;
    let project = ctx.project_for(scope);
    let Some(rec) = installed.find(&id, scope, project.as_deref()) else {
        return Ok(None);
    };
    if settings.enabled(&id) != Some(true) || !Path::new(&rec.install_path).is_dir() {
        return Ok(None);
    }
    let records = installed.records(&id);
    let key = source.accepted_as();
    let unreviewed = if records
        .iter()
        .any(|r| r.source_command.as_deref() == Some(key.as_str()))
    {
        None
    } else {
        let what = match records.iter().all(|r| r.source_command.is_none()) {
            true => {
                "entry now installs it by running a command on this machine that has not been reviewed yet."
            }
            false => "has since changed the command that installs it (or how its output is used).",
        };
        let scope_flag = match scope {
            Scope::User => String::new(),
            other => format!(" --scope {other}"),
        };
        Some(format!(
            "\"{}\" is already installed, and its marketplace {what} Review and accept it: run `plugin update {id}{scope_flag}`.",
            crate::source::command::shown(&found.entry.name, 200)
        ))
    };
    Ok(Some(InstallOutcome::AlreadyInstalled {
        available_version: rec.version.clone(),
        installed_version: rec.version,
        in_place_from: None,
        note: AlreadyNote::CommandNotRun { unreviewed },
    }))
}

/// The catalogs to look for `r` in: its marketplace's, or those of every marketplace the
/// policy allows (the names of the others are returned: they are not searched).
fn catalogs_to_search(
    ctx: &Context,
    r: &PluginRef,
) -> Result<(Vec<LoadedMarketplace>, Vec<String>), OpError> {
    let policy = ctx.policy()?;
    let configured = ctx.configured_marketplaces()?;
    let mut forbidden = Vec::new();
    let loaded: Vec<LoadedMarketplace> = match &r.marketplace {
        Some(m) => {
            let Some(k) = configured.iter().find(|c| &c.name == m) else {
                return Err(LookupError::UnknownMarketplace {
                    name: m.clone(),
                    known: configured.iter().map(|c| c.name.clone()).collect(),
                }
                .into());
            };
            if policy.check_recorded(&k.source).is_err() {
                return Err(LookupError::MarketplaceBlocked {
                    plugin: r.name.clone(),
                    marketplace: m.clone(),
                }
                .into());
            }
            load_configured(&configured, |n| n == m)
        }
        None => {
            for k in &configured {
                if policy.check_recorded(&k.source).is_err() {
                    forbidden.push(k.name.clone());
                }
            }
            load_configured(&configured, |n| !forbidden.iter().any(|f| f == n))
        }
    };
    Ok((loaded, forbidden))
}

/// Why `r` is in none of the catalogs searched: installed from a forbidden marketplace, in
/// none of the allowed ones, or not listed (with the close names of those listed: `listed`).
fn not_found(
    ctx: &Context,
    r: &PluginRef,
    forbidden: Vec<String>,
    listed: &[String],
) -> Result<LookupError, OpError> {
    if !forbidden.is_empty() {
        // Installed from a forbidden marketplace: answered from the install record alone.
        let installed = ctx.installed_now()?;
        let from = forbidden.iter().find(|m| {
            let id = r.id(m);
            installed.all().iter().any(|(i, _)| *i == id)
        });
        return Ok(match from {
            Some(m) => LookupError::MarketplaceBlocked {
                plugin: r.name.clone(),
                marketplace: m.clone(),
            },
            None => LookupError::NotFoundInAllowed {
                name: r.name.clone(),
                blocked: forbidden,
            },
        });
    }
    let suggestions = close_names(&r.name, listed.iter().map(String::as_str));
    Ok(match &r.marketplace {
        Some(m) => LookupError::PluginNotFound {
            name: r.name.clone(),
            marketplace: m.clone(),
            suggestions,
        },
        None => LookupError::PluginNotFoundAnywhere {
            name: r.name.clone(),
            suggestions,
        },
    })
}

/// Names in `candidates` close to `name`: an edit distance of at most a third of its length
/// (at least 1), or one containing the other.
fn close_names<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let cl = c.to_ascii_lowercase();
            let d = edit_distance(&lower, &cl);
            let max = (lower.chars().count() / 3).max(1);
            (d <= max || (lower.len() >= 3 && (cl.contains(&lower) || lower.contains(&cl))))
                .then(|| (d, c.to_string()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(5).map(|(_, c)| c).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Locate `r` among the known marketplaces the policy allows; their catalogs are read only
/// once allowed. A named marketplace the policy forbids is `MarketplaceBlocked`; so is a bare
/// name found nowhere else but installed from a forbidden marketplace.
pub fn find_plugin(ctx: &Context, r: &PluginRef) -> Result<FoundPlugin, OpError> {
    let (loaded, forbidden) = catalogs_to_search(ctx, r)?;
    let mut hits = Vec::new();
    let mut all_names = Vec::new();
    for l in loaded {
        let mkt = match l.marketplace {
            Ok(m) => m,
            Err(source) if r.marketplace.is_some() => {
                return Err(FetchError::MarketplaceLoad {
                    name: l.name,
                    source,
                }
                .into());
            }
            Err(_) => continue,
        };
        let entries: Vec<&PluginEntry> = mkt.manifest.entries_named(&r.name).collect();
        if entries.len() > 1 {
            return Err(LookupError::DuplicateEntry {
                name: r.name.clone(),
                marketplace: l.name,
                count: entries.len(),
                indices: entries.iter().map(|e| e.index).collect(),
            }
            .into());
        }
        if let Some(problem) = mkt
            .manifest
            .problems
            .iter()
            .find(|p| p.name.as_deref() == Some(&r.name))
            && entries.is_empty()
            && r.marketplace.is_some()
        {
            return Err(InstallError::EntryInvalid(vec![problem.message.clone()]).into());
        }
        all_names.extend(mkt.manifest.entries.iter().map(|e| e.name.clone()));
        if let Some(entry) = entries.first() {
            let entry = (*entry).clone();
            hits.push(FoundPlugin {
                marketplace_name: l.name,
                marketplace: mkt.into(),
                entry,
            });
        }
    }
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 => Err(not_found(ctx, r, forbidden, &all_names)?.into()),
        _ => Err(LookupError::Ambiguous {
            name: r.name.clone(),
            candidates: hits.iter().map(|h| r.id(&h.marketplace_name)).collect(),
        }
        .into()),
    }
}

/// `install` of a plugin whose marketplace the policy forbids: still "already installed" when
/// it is (as Claude Code says), without reading the source; otherwise refused.
fn already_installed_from_blocked(
    ctx: &Context,
    plugin: String,
    marketplace: String,
    scope: Scope,
) -> Result<InstallReport, OpError> {
    let id = format!("{plugin}@{marketplace}");
    let installed = ctx.installed_now()?;
    let settings = ctx.settings(scope).map_err(OpError::settings_write)?;
    match installed.find(&id, scope, ctx.project_for(scope).as_deref()) {
        Some(rec)
            if settings.enabled(&id) == Some(true) && Path::new(&rec.install_path).is_dir() =>
        {
            let outcome = InstallOutcome::AlreadyInstalled {
                // The source may not be read, so no other version is known.
                available_version: rec.version.clone(),
                installed_version: rec.version,
                in_place_from: None,
                note: AlreadyNote::Recorded,
            };
            Ok(InstallReport::of(id, scope, None, outcome))
        }
        _ => Err(LookupError::MarketplaceBlocked {
            plugin,
            marketplace,
        }
        .into()),
    }
}

/// Fetch the found plugin's source and work out its version.
pub fn resolve_plugin(ctx: &Context, found: &FoundPlugin) -> Result<ResolvedPlugin, OpError> {
    // A `command` source runs only when accepted.
    super::consent::check(ctx, found)?;
    let headers = super::headers::for_archive(ctx, found)?;
    (ctx.fetch_source(&found.marketplace, &found.entry, headers)).map_err(|e| match e {
        SourceError::Relative(source) => InstallError::RelativeSource {
            id: found.id(),
            source,
        }
        .into(),
        other => OpError::from_source(other),
    })
}

/// Whether an install writes `enabledPlugins[id] = true` into its scope's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Enable {
    Write,
    /// Settings already enable it (`sync`); managed settings cannot be written anyway.
    AlreadyBySettings,
}

/// What `install_found` installs (the resolved source), and where: `id` at `scope`, into the
/// version folder `target`.
struct InstallPlan {
    id: String,
    name: String,
    mkt: String,
    scope: Scope,
    project: Option<PathBuf>,
    target: PathBuf,
    resolved: ResolvedPlugin,
    enable: Enable,
    /// `auto` to record (see [`NewInstall::auto`]).
    auto: Option<bool>,
}

impl InstallPlan {
    /// The outcome to report when the plugin is already installed as asked.
    fn already(
        &self,
        installed: &InstalledPlugins,
        settings: &SettingsFile,
    ) -> Option<InstallOutcome> {
        already_installed(
            installed,
            settings,
            &self.id,
            self.scope,
            self.project.as_deref(),
            &self.resolved,
            self.enable,
        )
    }

    fn report(&self, outcome: InstallOutcome) -> InstallReport {
        InstallReport::of(self.id.clone(), self.scope, None, outcome)
    }

    /// The record of this install, made now.
    fn new_install(&self) -> NewInstall {
        NewInstall {
            scope: self.scope,
            project_path: self.project.clone(),
            install_path: self.target.clone(),
            version: self.resolved.version.clone(),
            git_commit_sha: self.resolved.git_commit.clone(),
            produced_by: (self.resolved.produced_by()).map(|(c, p)| (c, p.to_path_buf())),
            resolved_version: self.resolved.resolved_version.clone(),
            auto: self.auto,
            timestamp: iso_timestamp(),
        }
    }
}

/// What to do about an installation already at the scope.
enum Existing {
    /// Not installed at the scope as asked: install.
    Absent,
    /// Keep it; the outcome to report.
    Keep(InstallOutcome),
    /// Replace it with a fresh copy of the source.
    Reinstall,
}

/// What an install is besides its source: asked for by name (`auto` cleared), a dependency
/// (`auto` set, and resolved from a tag when a range asked for one), or as settings say (`sync`:
/// `auto` left as it was).
#[derive(Default)]
pub(super) struct InstallAs {
    pub auto: Option<bool>,
    /// Already fetched (a dependency, perhaps at a tag); else the entry's source is.
    pub resolved: Option<Prefetched>,
}

/// A plugin's source fetched, and the seed version folder to copy instead when one has it.
pub(super) type Prefetched = (ResolvedPlugin, Option<super::seed::SeedCopy>);

pub(super) fn install_found(
    ctx: &Context,
    found: FoundPlugin,
    scope: Scope,
    enable: Enable,
    reinstall: Reinstall,
    how: InstallAs,
) -> Result<InstallReport, OpError> {
    let (plan, seed) = plan_install(ctx, &found, scope, enable, how)?;
    let reinstalling = match existing_install(ctx, &plan, reinstall)? {
        Existing::Keep(outcome) => return Ok(plan.report(outcome)),
        Existing::Absent => false,
        Existing::Reinstall => true,
    };
    let forced = matches!(reinstall, Reinstall::WhenChanged { force: true });
    if !reinstalling
        && !forced
        && seed.is_none()
        && let Some(outcome) = record_held_content(ctx, &plan)?
    {
        return Ok(plan.report(outcome));
    }

    let (mut staged, copied, _cache_lock) =
        stage_with(ctx, &plan.mkt, &plan.name, &plan.resolved, seed.as_ref())?;
    crate::fsutil::crash_point();
    staged.compare_with(&plan.target);
    let displaced = match publish_under_state_lock(ctx, &plan, staged, reinstalling)? {
        Published::Already(outcome) => return Ok(plan.report(outcome)),
        Published::Installed(displaced) => displaced,
    };
    drop(displaced);
    let outcome = InstallOutcome::Installed {
        version: plan.resolved.version,
        install_path: plan.target,
        skipped: copied.skipped,
        notes: copied.notes,
        from_seed: seed.map(|s| s.dir),
    };
    Ok(InstallReport::of(plan.id, scope, None, outcome))
}

/// Resolve the plugin's source (or a seed copy of it) and the version folder it goes to.
fn plan_install(
    ctx: &Context,
    found: &FoundPlugin,
    scope: Scope,
    enable: Enable,
    how: InstallAs,
) -> Result<(InstallPlan, Option<super::seed::SeedCopy>), OpError> {
    let name = found.entry.name.clone();
    let mkt = found.marketplace_name.clone();
    let (resolved, seed) = match how.resolved {
        Some(fetched) => fetched,
        None => super::seed::resolve_for_install(ctx, found)?,
    };
    let folder = version::folder_name(&resolved.version);
    let cache = ctx.cache();
    cache.check_names(&mkt, &name, &folder)?;
    let plan = InstallPlan {
        id: format!("{name}@{mkt}"),
        target: cache.plugin_dir(&mkt, &name).join(&folder),
        project: ctx.project_for(scope),
        name,
        mkt,
        scope,
        resolved,
        enable,
        auto: how.auto,
    };
    Ok((plan, seed))
}

fn existing_install(
    ctx: &Context,
    plan: &InstallPlan,
    reinstall: Reinstall,
) -> Result<Existing, OpError> {
    // Reading the settings file also validates it before anything is written.
    let (installed, settings) = (
        ctx.installed_now()?,
        ctx.settings(plan.scope).map_err(OpError::settings_write)?,
    );
    let Some(mut already) = plan.already(&installed, &settings) else {
        return Ok(Existing::Absent);
    };
    let InstallOutcome::AlreadyInstalled {
        installed_version,
        note,
        ..
    } = &mut already
    else {
        return Ok(Existing::Absent);
    };
    let dir = (installed.find(&plan.id, plan.scope, plan.project.as_deref()))
        .map(|r| PathBuf::from(r.install_path))
        .unwrap_or_default();
    match decide_reinstall(
        ctx,
        &plan.id,
        &dir,
        installed_version,
        &plan.resolved,
        reinstall,
    )? {
        Some(kept) => {
            *note = kept;
            // An install killed after publishing can leave its displaced old copy behind.
            ctx.sweep_plugin_staging(&plan.mkt, &plan.name)?;
            Ok(Existing::Keep(already))
        }
        None => Ok(Existing::Reinstall),
    }
}

/// What publishing under the state lock came to.
enum Published {
    /// Another process installed it while we copied.
    Already(InstallOutcome),
    /// The old content of a folder it replaced: removed when dropped, outside the state lock.
    Installed(Option<crate::cache::Displaced>),
}

/// Rename the staged copy into place and record it. Under the state lock only renames and small
/// JSON writes happen; a replaced folder's old content is removed after the lock is released.
fn publish_under_state_lock(
    ctx: &Context,
    plan: &InstallPlan,
    staged: StagedPlugin,
    reinstalling: bool,
) -> Result<Published, OpError> {
    let _state_lock = ctx.lock_state()?;
    // Another process may have installed it while we copied.
    let mut installed = ctx.installed()?;
    let mut settings = ctx.settings(plan.scope).map_err(OpError::settings_write)?;
    // (A reinstall goes ahead: the copy it publishes is the source as it is now.)
    if let (false, Some(already)) = (reinstalling, plan.already(&installed, &settings)) {
        return Ok(Published::Already(already));
    }
    let (target, version) = (&plan.target, &plan.resolved.version);
    check_collision(&installed, target, version)?;
    let fresh = target.symlink_metadata().is_err();
    let objects = staged.new_objects().to_vec();
    let displaced = staged.publish(target, version)?;
    crate::fsutil::crash_point();
    let new = plan.new_install();
    let recorded = record_install(&mut installed, &mut settings, &plan.id, &new, plan.enable);
    if let Err(e) = recorded {
        // The records are back as they were: so is the folder a reinstall replaced.
        return Err(undo_publish(target, fresh, displaced, &objects, e));
    }
    Ok(Published::Installed(displaced))
}

/// An install the version folder already holds, whole (another scope or project, or the same
/// again after an uninstall left the folder orphaned): recorded against that folder, nothing
/// copied. `None` when the folder is not there, holds other content, or cannot be vouched for by
/// stat data (see [`crate::cache::TreeListing::held_by`]): then it is copied as usual.
fn record_held_content(
    ctx: &Context,
    plan: &InstallPlan,
) -> Result<Option<InstallOutcome>, OpError> {
    let (target, version) = (&plan.target, &plan.resolved.version);
    let held = |digest: &str| {
        crate::cache::read_marker(target)
            .is_some_and(|m| m.version == *version && m.digest.as_deref() == Some(digest))
    };
    if crate::cache::read_marker(target).is_none_or(|m| m.version != *version) {
        return Ok(None);
    }
    let Some((listing, skipped)) = plan
        .resolved
        .listing_with_stat_cache(&ctx.loc.stat_cache_dir())
        .map_err(OpError::from_source)?
    else {
        return Ok(None);
    };
    // Held from here until it is recorded: `cache prune` waits, so the folder stays.
    let _cache_lock = ctx.lock_cache_for_staging()?;
    if !held(&listing.digest()) || !listing.held_by(target) {
        return Ok(None);
    }
    let _state_lock = ctx.lock_state()?;
    let mut installed = ctx.installed()?;
    let mut settings = ctx.settings(plan.scope).map_err(OpError::settings_write)?;
    if let Some(already) = plan.already(&installed, &settings) {
        return Ok(Some(already));
    }
    check_collision(&installed, target, version)?;
    record_install(
        &mut installed,
        &mut settings,
        &plan.id,
        &plan.new_install(),
        plan.enable,
    )?;
    Ok(Some(InstallOutcome::Installed {
        version: version.clone(),
        install_path: target.clone(),
        skipped,
        notes: Vec::new(),
        from_seed: None,
    }))
}

/// Record `new`, a published install of `id`: `installed_plugins.json`, then the settings
/// (unless `enable` says they already enable it); the version folder it replaces is marked
/// orphaned when nothing else uses it. All put back when one write fails.
fn record_install(
    installed: &mut InstalledPlugins,
    settings: &mut SettingsFile,
    id: &str,
    new: &NewInstall,
    enable: Enable,
) -> Result<(), OpError> {
    let target = new.install_path.as_path();
    let previous = installed.find(id, new.scope, new.project_path.as_deref());
    installed.upsert(id, new);
    settings.set_enabled(id, true);
    super::in_transaction(|tx| {
        crate::cache::clear_orphan_mark(target, tx)?;
        installed.write(tx)?;
        if enable == Enable::Write {
            settings.write(tx).map_err(OpError::settings_write)?;
        }
        if let Some(prev) = previous {
            orphan_if_unused(installed, Path::new(&prev.install_path), target, tx)?;
        }
        Ok(())
    })
}

/// For an installed, enabled plugin: `Some(outcome)` to leave it as it is, `None` to install
/// it again (see [`Reinstall`]).
fn decide_reinstall(
    ctx: &Context,
    id: &str,
    installed_dir: &Path,
    installed_version: &str,
    resolved: &ResolvedPlugin,
    reinstall: Reinstall,
) -> Result<Option<AlreadyNote>, OpError> {
    let Reinstall::WhenChanged { force } = reinstall else {
        return Ok(Some(AlreadyNote::Recorded));
    };
    // A link made since `install` looked: replacing it would drop the development checkout.
    if let Ok(checkout) = std::fs::read_link(installed_dir) {
        return match force {
            true => Err(InstallError::LinkedNotReplaced {
                id: id.to_string(),
                checkout,
            }
            .into()),
            false => Ok(Some(AlreadyNote::Linked(checkout))),
        };
    }
    if force {
        return Ok(None);
    }
    let Some(source_dir) = resolved.in_place_folder() else {
        return Ok(Some(AlreadyNote::Recorded));
    };
    if installed_version != resolved.version {
        return Ok(None);
    }
    let installed_digest =
        crate::cache::installed_digest(installed_dir, crate::cache::read_marker(installed_dir))?;
    let source_digest = resolved
        .digest_with_stat_cache(&ctx.loc.stat_cache_dir())
        .map_err(OpError::from_source)?;
    if source_digest.as_deref() == Some(installed_digest.as_str()) {
        return Ok(Some(AlreadyNote::Unchanged {
            digest: installed_digest,
        }));
    }
    if installed_version == version::UNKNOWN {
        // `unknown` says nothing about content: refreshed, as `update` does.
        return Ok(None);
    }
    Err(InstallError::ChangedSameVersion {
        id: id.to_string(),
        version: installed_version.to_string(),
        folder: source_dir.to_path_buf(),
    }
    .into())
}

/// Write the resolved plugin into a new staging folder and seal it, holding the cache lock
/// (shared) that the caller keeps until the folder is published.
pub(super) fn stage_resolved(
    ctx: &Context,
    mkt: &str,
    name: &str,
    resolved: &ResolvedPlugin,
) -> Result<(StagedPlugin, CopyReport, FileLock), OpError> {
    stage_with(ctx, mkt, name, resolved, None)
}

/// [`stage_resolved`], for files copied from a seed's version folder when `seed` is given:
/// the seed's own bookkeeping files are left out without a warning, and the seed marker's
/// provenance is kept only when our copy has the content digest that marker records.
fn stage_with(
    ctx: &Context,
    mkt: &str,
    name: &str,
    resolved: &ResolvedPlugin,
    seed: Option<&super::seed::SeedCopy>,
) -> Result<(StagedPlugin, CopyReport, FileLock), OpError> {
    let cache_lock = ctx.lock_cache_for_staging()?;
    let mut staged = ctx.cache().stage(mkt, name)?;
    let store = ctx.store()?;
    let mut copied = resolved
        .write_to(
            staged.path(),
            &ctx.env,
            &*ctx.reporter,
            (store, &ctx.loc.stat_cache_dir()),
        )
        .map_err(OpError::from_source)?;
    let listing = copied.listing.take();
    let provenance = match seed {
        None => resolved.provenance.clone(),
        Some(seed) => {
            copied
                .skipped
                .retain(|s| s.reason != crate::cache::SkipReason::Bookkeeping);
            let digest = listing.as_ref().map(|l| l.digest());
            seed.marker
                .as_ref()
                .filter(|m| m.digest.is_some() && m.digest == digest)
                .and_then(|m| m.resolved.clone())
        }
    };
    staged.seal(
        Marker {
            v: 1,
            marketplace: mkt.to_string(),
            plugin: name.to_string(),
            version: resolved.version.clone(),
            files: copied.files,
            bytes: copied.bytes,
            resolved: provenance,
            digest: None,
        },
        listing,
        Some((store, &copied.from_store)),
    )?;
    Ok((staged, copied, cache_lock))
}

/// Refuse to publish `version` into `target` when another record keeps a different version
/// there (two versions that share a folder name after sanitising).
pub(super) fn check_collision(
    installed: &InstalledPlugins,
    target: &Path,
    version: &str,
) -> Result<(), OpError> {
    match installed
        .all()
        .into_iter()
        .find(|(_, r)| Path::new(&r.install_path) == target && r.version != version)
    {
        Some((other, rec)) => Err(crate::cache::CacheError::VersionCollision {
            path: target.to_path_buf(),
            existing: rec.version,
            version: version.to_string(),
            recorded_for: Some(other),
        }
        .into()),
        None => Ok(()),
    }
}

/// After the step recording a publish failed (its state files are back as they were), undo the
/// publish too: a folder it created (`fresh`) goes, a folder it replaced comes back, and so do
/// the store `objects` its files made. `error` is returned, with the folder's trouble if that
/// failed.
pub(super) fn undo_publish(
    target: &Path,
    fresh: bool,
    displaced: Option<crate::cache::Displaced>,
    objects: &[std::path::PathBuf],
    error: OpError,
) -> OpError {
    let undone = match displaced {
        _ if fresh => crate::fsutil::remove_tree(target).map(|()| {
            // And the plugin and marketplace folders it may have created, when empty.
            for dir in target.ancestors().skip(1).take(2) {
                if std::fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }),
        Some(d) => d.put_back(target),
        None => Ok(()),
    };
    crate::cache::store::Store::take_back(objects);
    super::with_undo(error, undone)
}

/// Mark the folder an install record used to point at as orphaned, once it is not `now_used`
/// and no other record points at it.
pub(super) fn orphan_if_unused(
    installed: &InstalledPlugins,
    previous: &Path,
    now_used: &Path,
    tx: &mut Transaction,
) -> Result<(), OpError> {
    if previous != now_used && !installed.references(previous) {
        crate::cache::mark_orphaned(previous, tx)?;
    }
    Ok(())
}

/// "Already installed" when a record exists at this scope, its folder exists and the plugin is
/// enabled there. A disabled plugin is reinstalled and enabled again (as Claude Code does); so is
/// one missing from `enabledPlugins`, the state a crash between our two state writes leaves.
fn already_installed(
    installed: &InstalledPlugins,
    settings: &SettingsFile,
    id: &str,
    scope: Scope,
    project: Option<&Path>,
    resolved: &ResolvedPlugin,
    enable: Enable,
) -> Option<InstallOutcome> {
    let rec = installed.find(id, scope, project)?;
    let enabled = enable == Enable::AlreadyBySettings || settings.enabled(id) == Some(true);
    if !enabled || !Path::new(&rec.install_path).is_dir() {
        return None;
    }
    Some(InstallOutcome::AlreadyInstalled {
        installed_version: rec.version,
        available_version: resolved.version.clone(),
        in_place_from: resolved.in_place_folder().map(Path::to_path_buf),
        note: AlreadyNote::Recorded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let c = ["p1", "p2", "formatter", "other", "bs", "up"];
        assert_eq!(close_names("p3", c), vec!["p1", "p2"]);
        assert_eq!(close_names("formater", c), vec!["formatter"]);
        assert_eq!(close_names("format", c), vec!["formatter"]);
        assert!(close_names("zzzzzz", c).is_empty());
    }
}
