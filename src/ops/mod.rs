//! Operations behind the commands. Each takes a [`Context`] and a request, does its work through
//! the lower layers (marketplace → source → version → cache → state) and returns a report for
//! `output` to render. Nothing here prints.
//!
//! Ordering rule for every change: fetch and stage first, without locks on state; then, under the
//! exclusive state lock, re-read the state files, publish, and write `installed_plugins.json`
//! before the settings file. A crash at any point leaves either the old state or a complete new
//! version folder that nothing records yet (never a record of a partial folder). A step that
//! fails puts back every state file it wrote ([`in_transaction`]).

pub mod cache;
pub mod enable;
pub mod init;
pub mod install;
pub mod link;
pub mod list;
pub mod marketplace;
pub mod renames;
pub mod resolve;
pub mod seed;
pub mod sync;
pub mod uninstall;
pub mod update;
pub mod validate;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::cache::{Cache, CacheError};
use crate::fsutil::IoError;
use crate::locations::{Locations, Scope};
use crate::lock::{FileLock, LockError, LockMode};
use crate::manifest::ManifestError;
use crate::marketplace::{Marketplace, MarketplaceError, MarketplaceSource, RelativeSourceError};
use crate::policy::{MarketplacePolicy, PolicyError, PolicyViolation};
use crate::state::managed::ManagedSettings;
use crate::state::{
    InstalledPlugins, JsonFileError, KnownMarketplaces, RollbackError, SeedFolders, SettingsFile,
    Transaction,
};

/// What every operation needs: where things are, and how to tell the user we are waiting.
pub struct Context {
    pub loc: Locations,
    pub on_lock_wait: Box<dyn Fn(&Path) + Send + Sync>,
    /// Progress of long operations (fetches, clones).
    pub reporter: std::sync::Arc<dyn crate::progress::Reporter>,
    /// Threads of this process (parallel updates) take turns here before the file locks, so
    /// "waiting for lock" is only ever said about another process.
    state_turn: Mutex<()>,
    /// Whether this process has looked for staging leftovers yet (once is enough).
    staging_probed: Mutex<bool>,
    /// Managed settings, read once per process (they are read-only for us).
    managed: std::sync::OnceLock<ManagedSettings>,
    /// The marketplace policy of the managed settings, read once per process.
    policy: std::sync::OnceLock<MarketplacePolicy>,
    /// The seed folders' marketplace lists, read once per process (seeds are read-only).
    seeds: std::sync::OnceLock<SeedFolders>,
}

/// The exclusive state lock, held by one thread of one process.
pub struct StateLock<'a> {
    _file: FileLock,
    _turn: MutexGuard<'a, ()>,
}

impl Context {
    pub fn new(loc: Locations) -> Self {
        Self {
            loc,
            on_lock_wait: Box::new(|_| {}),
            reporter: std::sync::Arc::new(crate::progress::Silent),
            state_turn: Mutex::new(()),
            staging_probed: Mutex::new(false),
            managed: std::sync::OnceLock::new(),
            policy: std::sync::OnceLock::new(),
            seeds: std::sync::OnceLock::new(),
        }
    }

    /// The seed folders of `CLAUDE_CODE_PLUGIN_SEED_DIR` (read-only; see `state::seed`).
    pub fn seeds(&self) -> &SeedFolders {
        self.seeds
            .get_or_init(|| SeedFolders::read(&self.loc.seed_dirs))
    }

    /// Every configured marketplace: the user's `known_marketplaces.json` entries in file order,
    /// each replaced by a seed's entry of the same name (Claude Code: seed marketplaces overwrite
    /// same-name user entries), then the seeds' other marketplaces. Nothing is written: seed
    /// entries are layered at read time, never copied into the user's file.
    pub fn configured_marketplaces(&self) -> Result<Vec<ConfiguredMarketplace>, JsonFileError> {
        let seeds = self.seeds();
        let mut seeded = seeds.marketplaces();
        let mut out = Vec::new();
        for k in self.known()?.all() {
            match seeded.iter().position(|m| m.name == k.name) {
                Some(i) => out.push(ConfiguredMarketplace::from_seed(seeded.remove(i))),
                None => out.push(ConfiguredMarketplace {
                    name: k.name,
                    source: k.source,
                    location: k.install_location,
                    last_updated: k.last_updated,
                    seed: None,
                }),
            }
        }
        out.extend(seeded.into_iter().map(ConfiguredMarketplace::from_seed));
        Ok(out)
    }

    /// The merged managed settings (`Locations::managed_dir`). A file that is not valid JSON is
    /// an error every time it is asked for: nothing may act on a policy we could not read.
    pub fn managed(&self) -> Result<&ManagedSettings, JsonFileError> {
        if let Some(m) = self.managed.get() {
            return Ok(m);
        }
        let loaded = ManagedSettings::load(&self.loc.managed_dir)?;
        Ok(self.managed.get_or_init(|| loaded))
    }

    /// The enterprise marketplace policy (`blockedMarketplaces`, `strictKnownMarketplaces`). An
    /// unreadable managed file or an invalid entry is an error every time: fail closed.
    pub fn policy(&self) -> Result<&MarketplacePolicy, PolicyError> {
        if let Some(p) = self.policy.get() {
            return Ok(p);
        }
        let loaded = MarketplacePolicy::from_managed(self.managed()?)?;
        Ok(self.policy.get_or_init(|| loaded))
    }

    /// Refuse to touch marketplace `name` (recorded with `source`) when the policy forbids it.
    pub fn check_marketplace(&self, name: &str, source: &serde_json::Value) -> Result<(), OpError> {
        self.policy()?.check_recorded(source).map_err(|violation| {
            OpError::MarketplaceUpdateBlocked {
                name: name.to_string(),
                violation,
            }
        })
    }

    pub fn cache(&self) -> Cache {
        Cache::new(self.loc.cache_dir())
    }

    /// The exclusive lock around read-modify-write of the state files.
    pub fn lock_state(&self) -> Result<StateLock<'_>, LockError> {
        let turn = self.state_turn.lock().unwrap_or_else(|p| p.into_inner());
        Ok(StateLock {
            _file: FileLock::acquire(
                &self.loc.state_lock_file(),
                LockMode::Exclusive,
                &*self.on_lock_wait,
            )?,
            _turn: turn,
        })
    }

    /// The shared cache lock held while staging; sweeps leftover staging folders first when no
    /// other process is using the cache.
    pub fn lock_cache_for_staging(&self) -> Result<FileLock, OpError> {
        let path = self.loc.cache_lock_file();
        let mut probed = self
            .staging_probed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !*probed {
            *probed = true;
            if let Some(exclusive) = FileLock::try_acquire(&path, LockMode::Exclusive)? {
                self.cache().sweep_staging()?;
                return Ok(exclusive.downgrade()?);
            }
        }
        drop(probed);
        Ok(FileLock::acquire(
            &path,
            LockMode::Shared,
            &*self.on_lock_wait,
        )?)
    }

    /// Remove leftovers of killed installs of one plugin when no process is staging (cheap; used
    /// on paths that do not stage, such as "already installed").
    pub fn sweep_plugin_staging(&self, marketplace: &str, plugin: &str) -> Result<(), OpError> {
        let _probing = self
            .staging_probed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(_idle) =
            FileLock::try_acquire(&self.loc.cache_lock_file(), LockMode::Exclusive)?
        {
            self.cache().sweep_plugin_staging(marketplace, plugin)?;
        }
        Ok(())
    }

    pub fn settings(&self, scope: Scope) -> Result<SettingsFile, JsonFileError> {
        let path = self
            .loc
            .settings_file(scope)
            .unwrap_or_else(|| PathBuf::from("/nonexistent"));
        SettingsFile::read(scope, &path)
    }

    /// The user, project and local settings files, all read before any is used (one that cannot
    /// be read fails the command before anything is rewritten).
    pub fn writable_settings(&self) -> Result<Vec<SettingsFile>, JsonFileError> {
        crate::state::settings::writable_scopes()
            .into_iter()
            .map(|s| self.settings(s))
            .collect()
    }

    pub fn installed(&self) -> Result<InstalledPlugins, JsonFileError> {
        InstalledPlugins::read(&self.loc.installed_plugins_file())
    }

    pub fn known(&self) -> Result<KnownMarketplaces, JsonFileError> {
        KnownMarketplaces::read(&self.loc.known_marketplaces_file())
    }

    /// The project path recorded for `scope` (`None` for user scope).
    pub fn project_for(&self, scope: Scope) -> Option<PathBuf> {
        scope
            .is_project_bound()
            .then(|| self.loc.project_path().to_path_buf())
    }
}

/// Run `step`, which writes the state files through its [`Transaction`]: when it fails, every
/// file it wrote is put back to exactly what it held before, and its error is returned (with
/// the files that could not be put back, if any).
pub fn in_transaction<T>(
    step: impl FnOnce(&mut Transaction) -> Result<T, OpError>,
) -> Result<T, OpError> {
    let mut tx = Transaction::new();
    match step(&mut tx) {
        Ok(v) => {
            tx.commit();
            Ok(v)
        }
        Err(error) => Err(after_rollback(error, tx.roll_back())),
    }
}

/// `error` of a step whose files were then put back (`rollback`): with the files that could not
/// be, when some could not.
pub fn after_rollback(error: OpError, rollback: Result<(), RollbackError>) -> OpError {
    match rollback {
        Ok(()) => error,
        Err(rollback) => OpError::NotRolledBack {
            error: Box::new(error),
            rollback,
        },
    }
}

/// `error` of a step whose folder change was then undone (`undo`): with the trouble of the undo
/// when it failed too.
pub fn with_undo(error: OpError, undo: Result<(), IoError>) -> OpError {
    after_rollback(error, undo.map_err(|e| RollbackError(vec![e])))
}

/// A plugin id as typed: `name` or `name@marketplace` (split at the first `@`).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginRef {
    pub name: String,
    pub marketplace: Option<String>,
}

impl PluginRef {
    pub fn parse(raw: &str) -> Self {
        match raw.split_once('@') {
            Some((n, m)) => Self {
                name: n.to_string(),
                marketplace: Some(m.split('@').next().unwrap_or(m).to_string()),
            },
            None => Self {
                name: raw.to_string(),
                marketplace: None,
            },
        }
    }

    /// [`PluginRef::parse`], refusing an empty name or marketplace (`""`, `@m`, `p@`).
    pub fn parse_checked(raw: &str) -> Result<Self, OpError> {
        let r = Self::parse(raw);
        let problem = if raw.trim().is_empty() {
            "it is empty"
        } else if r.name.trim().is_empty() {
            "the plugin name before \"@\" is empty"
        } else if r
            .marketplace
            .as_deref()
            .is_some_and(|m| m.trim().is_empty())
        {
            "the marketplace name after \"@\" is empty"
        } else {
            return Ok(r);
        };
        Err(OpError::InvalidPluginId {
            raw: raw.to_string(),
            problem,
        })
    }

    /// Whether the installed or listed id `id` is what this reference names (any marketplace
    /// when it names none).
    pub fn matches(&self, id: &str) -> bool {
        let other = PluginRef::parse(id);
        other.name == self.name
            && (self.marketplace.is_none() || other.marketplace == self.marketplace)
    }

    pub fn id(&self, marketplace: &str) -> String {
        format!("{}@{marketplace}", self.name)
    }
}

/// A marketplace as every command sees it: the user's entry, or a seed's (see
/// [`Context::configured_marketplaces`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfiguredMarketplace {
    pub name: String,
    /// The recorded `source` object. For a seed marketplace it is the seed's recorded source,
    /// which is what allow/block-list policy must judge (Claude Code checks the seed's recorded
    /// source, not where its copy lies).
    pub source: serde_json::Value,
    /// Where its content is read from (for a seed marketplace: probed inside the seed).
    pub location: PathBuf,
    pub last_updated: Option<String>,
    /// The seed folder that provides it: read-only, never refreshed, updated or removed.
    pub seed: Option<PathBuf>,
}

impl ConfiguredMarketplace {
    pub fn from_seed(m: crate::state::SeedMarketplace) -> Self {
        Self {
            name: m.name,
            source: m.recorded_source,
            location: m.root,
            last_updated: m.last_updated,
            seed: Some(m.seed),
        }
    }

    /// The recorded source, parsed (`None` for a source type we do not know).
    pub fn recorded_source(&self) -> Option<MarketplaceSource> {
        MarketplaceSource::from_json(&self.source)
    }

    /// Load its catalog. A seed's copy is read where it lies now (a clone folder or a catalog
    /// file) and is never refreshed; a local source is read in place.
    pub fn load(&self) -> Result<Marketplace, MarketplaceError> {
        let unsupported = || {
            MarketplaceError::Unsupported(
                self.source
                    .get("source")
                    .and_then(|v| v.as_str())
                    .unwrap_or("unknown")
                    .to_string(),
            )
        };
        let source = self.recorded_source().ok_or_else(unsupported)?;
        match &self.seed {
            Some(seed) if self.location.starts_with(seed) => {
                if self.location.is_dir() {
                    Marketplace::load_clone(&self.location)
                } else {
                    Marketplace::load_catalog(&self.location)
                }
            }
            _ => Marketplace::load_installed(&source, &self.location),
        }
    }
}

/// What `marketplace update` / `remove` / `add` were refused on a seed marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedRefusal {
    Update,
    Remove,
    AddOtherSource,
}

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Marketplace(#[from] MarketplaceError),
    #[error("{0}")]
    State(#[from] JsonFileError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("Plugin \"{name}\" not found in marketplace \"{marketplace}\".{} Your local copy may be out of date — try `plugin marketplace update {marketplace}`.", did_you_mean(.suggestions))]
    PluginNotFound {
        name: String,
        marketplace: String,
        suggestions: Vec<String>,
    },
    #[error("Plugin \"{name}\" not found in any configured marketplace.{}", did_you_mean(.suggestions))]
    PluginNotFoundAnywhere {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("Marketplace \"{name}\" is not configured.{} Add it with `plugin marketplace add <source>`.", known_list(.known))]
    UnknownMarketplace { name: String, known: Vec<String> },
    #[error("Plugin \"{name}\" is offered by several marketplaces: {}. Name one, e.g. `plugin install {}`.", .candidates.join(", "), .candidates.first().map(String::as_str).unwrap_or_default())]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    #[error("Marketplace \"{marketplace}\" lists plugin \"{name}\" {count} times (entries {}); fix the duplicate names in its marketplace.json", .indices.iter().map(|i| format!("plugins[{i}]")).collect::<Vec<_>>().join(", "))]
    DuplicateEntry {
        name: String,
        marketplace: String,
        count: usize,
        indices: Vec<usize>,
    },
    #[error("This plugin's marketplace entry is invalid: {}", .0.join(", "))]
    EntryInvalid(Vec<String>),
    #[error("{}", relative_source_message(.id, .source))]
    RelativeSource {
        id: String,
        #[source]
        source: RelativeSourceError,
    },
    #[error(transparent)]
    Source(crate::source::SourceError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    GitUrl(#[from] crate::git::GitUrlError),
    #[error(transparent)]
    Download(#[from] crate::download::DownloadError),
    #[error("Marketplace \"{name}\" could not be loaded: {source}")]
    MarketplaceLoad {
        name: String,
        #[source]
        source: MarketplaceError,
    },
    #[error("Plugin \"{id}\" not found in installed plugins")]
    NotInstalled { id: String },
    #[error(
        "Plugin \"{id}\" is installed in {installed} scope, not {requested}. Use --scope {installed} to {command}."
    )]
    NotInstalledAtScope {
        id: String,
        installed: Scope,
        requested: Scope,
        /// The command to run again with `--scope` (`uninstall`, `update`).
        command: &'static str,
    },
    #[error("Plugin \"{name}\" is installed from several marketplaces: {}. Name one, e.g. `plugin update {}`.", .candidates.join(", "), .candidates.first().map(String::as_str).unwrap_or_default())]
    AmbiguousInstalled {
        name: String,
        candidates: Vec<String>,
    },
    #[error(
        "Plugin \"{name}\" is no longer listed in marketplace \"{marketplace}\"; the installed copy stays. Remove it with `plugin uninstall {name}@{marketplace}` if it is gone for good."
    )]
    NoLongerListed { name: String, marketplace: String },
    #[error(
        "Could not refresh marketplace \"{name}\", so updates of its plugins were not checked: {message}"
    )]
    RefreshFailed { name: String, message: String },
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
    #[error("Marketplace '{0}' not found")]
    MarketplaceNotConfigured(String),
    #[error("Marketplace '{name}' not found. Available marketplaces: {}", .available.join(", "))]
    MarketplaceNotConfiguredUpdate {
        name: String,
        available: Vec<String>,
    },
    #[error(
        "Marketplace '{name}' is not declared in {scope} settings. Omit --scope to remove it from all scopes."
    )]
    NotDeclaredAtScope { name: String, scope: Scope },
    #[error(
        "Marketplace declared in settings as \"{key}\" is named \"{actual}\" in its marketplace.json; rename the extraKnownMarketplaces key to \"{actual}\" (and the @{key} in enabledPlugins ids)"
    )]
    DeclaredNameMismatch { key: String, actual: String },
    #[error("Failed to update settings: {0}")]
    SettingsWrite(JsonFileError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// `marketplace add` of a source the policy forbids.
    #[error(transparent)]
    SourceBlocked(PolicyViolation),
    #[error(
        "Plugin \"{plugin}\" is from marketplace \"{marketplace}\", which is blocked by your organization's policy"
    )]
    MarketplaceBlocked { plugin: String, marketplace: String },
    #[error(
        "Plugin \"{name}\" not found in any marketplace your organization's policy allows (not searched: {})",
        .blocked.join(", ")
    )]
    NotFoundInAllowed { name: String, blocked: Vec<String> },
    /// `marketplace update` (or the refresh before `update`) of a marketplace the policy forbids.
    #[error("{}", blocked_marketplace_message(.name, .violation))]
    MarketplaceUpdateBlocked {
        name: String,
        violation: PolicyViolation,
    },
    #[error("Invalid plugin id \"{raw}\": {problem}. Use <name> or <name>@<marketplace>.")]
    InvalidPluginId { raw: String, problem: &'static str },
    #[error(
        "Managed settings are read-only: they come from your organization and this tool never writes them. Use --scope user, project or local."
    )]
    ManagedReadOnly,
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
    PolicyBlockedEnable { id: String },
    #[error("Plugin \"{name}\" is blocked by your organization's policy and cannot be installed")]
    PolicyBlockedInstall { name: String },
    #[error("This plugin is managed by your organization. Contact your admin to disable it.")]
    ManagedOverride,
    #[error(
        "Plugin \"{id}\" is installed at managed scope because your organization's managed settings enable it; `plugin sync --prune` removes it once they no longer do."
    )]
    InstalledForManagedSettings { id: String },
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
    #[error("Cannot link {}: {why}", .path.display())]
    NotAPluginFolder { path: PathBuf, why: String },
    #[error("Cannot link plugin \"{name}\": {problem}. Name it with --as <name>[@<marketplace>].")]
    LinkName { name: String, problem: String },
    #[error(
        "Plugin \"{id}\" is already installed at {scope} scope (version {version}, {}); add --force to link over it (`plugin unlink {id}` restores it)",
        .path.display()
    )]
    LinkOverInstalled {
        id: String,
        scope: Scope,
        version: String,
        path: PathBuf,
    },
    #[error(
        "Plugin \"{id}\" version {version} ({}) is also installed at {others}, which would run the checkout too; add --force to link over it anyway (`{unlink}` restores it)",
        .path.display()
    )]
    LinkOverShared {
        id: String,
        version: String,
        path: PathBuf,
        /// "user scope", "project scope (/p)", …
        others: String,
        /// The `plugin unlink …` command for this link.
        unlink: String,
    },
    #[error(
        "Plugin \"{id}\" is linked to the development checkout {} at {scope} scope; run `{unlink}` instead (it puts back what the link replaced, or uninstalls)",
        .checkout.display()
    )]
    UninstallLinked {
        id: String,
        scope: Scope,
        checkout: PathBuf,
        unlink: String,
    },
    #[error(
        "A marketplace named \"dev\" is already configured from {}; link under another marketplace with --as <name>@<marketplace>",
        .location.display()
    )]
    DevMarketplaceTaken { location: PathBuf },
    #[error("Plugin \"{typed}\" is not linked at {scope} scope (see `plugin list`)")]
    NotLinked { typed: String, scope: Scope },
    #[error(
        "Marketplace \"{name}\" has plugins linked to development checkouts: {links}; run {unlink} first (it puts back what each link replaced), then remove the marketplace"
    )]
    MarketplaceHasLinks {
        name: String,
        /// "p@dev (user scope)", "q@dev (local scope, /proj)", …
        links: String,
        /// The `plugin unlink …` commands, quoted.
        unlink: String,
    },
    #[error("Cannot create plugin \"{name}\": {problem}")]
    InitName { name: String, problem: String },
    #[error("Cannot create the plugin in {}: the folder exists and is not empty; choose another with --dir", .path.display())]
    InitTargetNotEmpty { path: PathBuf },
    #[error("{}", seed_refusal_message(.name, .seed, *.refusal))]
    SeedManaged {
        name: String,
        seed: PathBuf,
        refusal: SeedRefusal,
    },
    #[error("{}", not_installed_for_resolve(.typed, .project, .elsewhere.as_deref()))]
    NotInstalledForResolve {
        typed: String,
        project: PathBuf,
        /// A project it is installed for (project or local scope), when there is one.
        elsewhere: Option<PathBuf>,
    },
    #[error(transparent)]
    Definition(#[from] crate::definition::DefinitionError),
    /// A step failed and some of the files it had written could not be put back.
    #[error("{error}; then {rollback}")]
    NotRolledBack {
        error: Box<OpError>,
        rollback: RollbackError,
    },
}

/// `resolve` of a plugin with no installation visible here: say how to get one.
fn not_installed_for_resolve(typed: &str, project: &Path, elsewhere: Option<&Path>) -> String {
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

/// The wording: the blocklist "blocks"; an allowlist that does not name it "does not list".
fn blocked_marketplace_message(name: &str, v: &PolicyViolation) -> String {
    if v.is_blocklisted() {
        format!("Marketplace \"{name}\" is blocked by enterprise policy")
    } else {
        format!("Marketplace \"{name}\" is not in the allowed marketplace list")
    }
}

/// Claude Code's texts for a seed marketplace (with `plugin` for `claude plugin`, and no
/// "re-registered on next startup": we layer seeds at read time and register nothing).
fn seed_refusal_message(name: &str, seed: &Path, refusal: SeedRefusal) -> String {
    let seed = seed.display();
    match refusal {
        SeedRefusal::Update => format!(
            "Marketplace '{name}' is seed-managed ({seed}) and its content is controlled by the seed image. To update: ask your admin to update the seed."
        ),
        SeedRefusal::Remove => format!(
            "Marketplace '{name}' is registered from the read-only seed directory ({seed}) and stays configured while CLAUDE_CODE_PLUGIN_SEED_DIR names that folder. To stop using its plugins: plugin disable <plugin>@{name}"
        ),
        SeedRefusal::AddOtherSource => format!(
            "Marketplace '{name}' is seed-managed ({seed}). To use a different source, ask your admin to update the seed, or use a different marketplace name."
        ),
    }
}

/// A missing folder reads as Claude Code's "Source path does not exist: …"; other refusals name the plugin.
fn relative_source_message(id: &str, e: &RelativeSourceError) -> String {
    match e {
        RelativeSourceError::Missing(_) => e.to_string(),
        _ => format!("Cannot install {id}: {e}"),
    }
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" Did you mean: {}?", s.join(", "))
    }
}

fn known_list(k: &[String]) -> String {
    if k.is_empty() {
        " No marketplaces are configured.".into()
    } else {
        format!(" Configured: {}.", k.join(", "))
    }
}

impl OpError {
    /// The `failureCode` of `--json` output (Claude Code's codes where it has one).
    pub fn failure_code(&self) -> &'static str {
        match self {
            OpError::Marketplace(e) | OpError::MarketplaceLoad { source: e, .. } => {
                e.failure_code()
            }
            OpError::State(_) | OpError::SettingsWrite(_) => "settings_write_failed",
            OpError::Lock(_) | OpError::Io(_) => "error_unknown",
            OpError::Cache(CacheError::Io(_)) => "error_unknown",
            OpError::Cache(_) => "error_validation",
            OpError::Manifest(_) => "error_validation",
            OpError::PluginNotFound { .. } => "not_found",
            OpError::PluginNotFoundAnywhere { .. } => "not_found",
            OpError::UnknownMarketplace { .. } => "not_configured",
            OpError::Ambiguous { .. } => "ambiguous_marketplace",
            OpError::DuplicateEntry { .. } | OpError::EntryInvalid(_) => "error_validation",
            OpError::RelativeSource { source, .. } => match source {
                RelativeSourceError::Missing(_) => "error_not_found",
                _ => "error_validation",
            },
            OpError::Source(e) => e.failure_code(),
            OpError::Git(e) => e.failure_code(),
            OpError::GitUrl(_) => "invalid_source",
            OpError::Download(_) => "error_network",
            OpError::NotInstalled { .. } => "not_installed",
            OpError::NotInstalledAtScope { .. } => "not_installed_at_scope",
            OpError::AmbiguousInstalled { .. } => "ambiguous_marketplace",
            OpError::NoLongerListed { .. } => "not_found",
            OpError::RefreshFailed { .. } => "marketplace_refresh_failed",
            OpError::DeclaredNameMismatch { .. } => "marketplace_name_mismatch",
            OpError::AlreadyInGoalState { .. } => "already_in_goal_state",
            OpError::NotInSettings { .. } => "ambiguous_marketplace",
            OpError::MarketplaceNotConfigured(_)
            | OpError::MarketplaceNotConfiguredUpdate { .. }
            | OpError::NotDeclaredAtScope { .. } => "not_configured",
            OpError::Policy(_) => "managed_settings_invalid",
            OpError::SourceBlocked(_) => "source_blocked_by_policy",
            OpError::MarketplaceBlocked { .. } | OpError::MarketplaceUpdateBlocked { .. } => {
                "marketplace_policy_blocked"
            }
            OpError::NotFoundInAllowed { .. } => "not_found",
            OpError::InvalidPluginId { .. } => "invalid_plugin_id",
            OpError::ManagedReadOnly => "error_validation",
            OpError::SetAtOtherScope { .. } => "not_installed_at_scope",
            OpError::NotInSettingsAtScope { .. } => "ambiguous_marketplace",
            OpError::PolicyBlockedEnable { .. } | OpError::PolicyBlockedInstall { .. } => {
                "plugin_policy_blocked"
            }
            OpError::ManagedOverride | OpError::InstalledForManagedSettings { .. } => {
                "managed_settings_override"
            }
            OpError::SeedManaged { .. } => "managed",
            OpError::NotInstalledForResolve { .. } => "not_installed",
            OpError::Definition(e) => match e {
                crate::definition::DefinitionError::ConflictingManifests { .. } => {
                    "manifest_invalid"
                }
                crate::definition::DefinitionError::Manifest(_) => "error_validation",
                crate::definition::DefinitionError::RootMissing { .. } => "error_not_found",
            },
            OpError::ChangedSameVersion { .. } => "changed_same_version",
            OpError::LinkedNotReplaced { .. } => "linked",
            OpError::NotAPluginFolder { .. }
            | OpError::LinkName { .. }
            | OpError::InitName { .. }
            | OpError::InitTargetNotEmpty { .. } => "error_validation",
            OpError::LinkOverInstalled { .. } | OpError::LinkOverShared { .. } => {
                "already_installed"
            }
            OpError::UninstallLinked { .. } | OpError::MarketplaceHasLinks { .. } => "linked",
            OpError::DevMarketplaceTaken { .. } => "marketplace_name_mismatch",
            OpError::NotLinked { .. } => "not_linked",
            OpError::NotRolledBack { error, .. } => error.failure_code(),
        }
    }
}

/// Names in `candidates` close to `name`: an edit distance of at most a third of its length
/// (at least 1), or one containing the other.
pub fn close_names<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
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

/// A configured marketplace with its catalog loaded.
pub struct LoadedMarketplace {
    pub name: String,
    pub marketplace: Result<Marketplace, MarketplaceError>,
}

/// Load the configured marketplaces `wanted` accepts (in order); load failures are kept per
/// marketplace.
pub fn load_configured(
    configured: &[ConfiguredMarketplace],
    wanted: impl Fn(&str) -> bool,
) -> Vec<LoadedMarketplace> {
    configured
        .iter()
        .filter(|c| wanted(&c.name))
        .map(|c| LoadedMarketplace {
            name: c.name.clone(),
            marketplace: c.load(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_at_first_at() {
        assert_eq!(
            PluginRef::parse("a@b@c"),
            PluginRef {
                name: "a".into(),
                marketplace: Some("b".into())
            }
        );
        assert_eq!(PluginRef::parse("a").marketplace, None);
    }

    #[test]
    fn suggestions() {
        let c = ["p1", "p2", "formatter", "other", "bs", "up"];
        assert_eq!(close_names("p3", c), vec!["p1", "p2"]);
        assert_eq!(close_names("formater", c), vec!["formatter"]);
        assert_eq!(close_names("format", c), vec!["formatter"]);
        assert!(close_names("zzzzzz", c).is_empty());
    }
}
