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
pub mod configure;
pub mod consent;
pub mod dependencies;
pub mod details;
pub mod enable;
mod error;
pub mod headers;
pub mod init;
pub mod install;
pub mod link;
pub mod list;
pub mod marketplace;
pub mod renames;
pub mod resolve;
pub mod seed;
pub mod sync;
pub mod tag;
pub mod uninstall;
pub mod update;
pub mod validate;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub use error::{FetchError, LookupError, OpError, StateError};

use crate::cache::Cache;
use crate::environment::Environment;
use crate::fsutil::IoError;
use crate::locations::{Locations, Scope};
use crate::lock::{FileLock, LockError, LockMode};
use crate::marketplace::{Marketplace, MarketplaceError, MarketplaceSource};
use crate::policy::{MarketplacePolicy, PolicyError};
use crate::state::managed::ManagedSettings;
use crate::state::{
    InstalledPlugins, JsonFileError, KnownMarketplaces, RollbackError, SeedFolders, SettingsFile,
    Transaction,
};

/// What every operation needs: where things are, the settings read from the environment, and
/// how to tell the user we are waiting.
pub struct Context {
    pub loc: Locations,
    /// Time limits, GitHub base and token, npm and pip overrides (read once, by `cli`).
    pub env: Environment,
    pub on_lock_wait: Box<dyn Fn(&Path) + Send + Sync>,
    /// Progress of long operations (fetches, clones).
    pub reporter: std::sync::Arc<dyn crate::progress::Reporter>,
    /// How the person running this is asked before a marketplace's command runs (nobody, by
    /// default: only commands accepted before run).
    pub command_review: Box<dyn consent::CommandReview>,
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
    /// The content store, opened once per process (its link mode is found once).
    store: std::sync::OnceLock<crate::cache::store::Store>,
    /// `installed_plugins.json` as last read, with the stat data it was read under.
    installed_memo: Mutex<Option<(crate::platform::Stat, std::sync::Arc<InstalledPlugins>)>>,
}

/// The exclusive state lock, held by one thread of one process.
pub struct StateLock<'a> {
    _file: FileLock,
    _turn: MutexGuard<'a, ()>,
}

impl Context {
    pub fn new(loc: Locations, env: Environment) -> Self {
        Self {
            loc,
            env,
            on_lock_wait: Box::new(|_| {}),
            reporter: std::sync::Arc::new(crate::progress::Silent),
            command_review: Box::new(consent::NoReview),
            state_turn: Mutex::new(()),
            staging_probed: Mutex::new(false),
            installed_memo: Mutex::new(None),
            managed: std::sync::OnceLock::new(),
            policy: std::sync::OnceLock::new(),
            seeds: std::sync::OnceLock::new(),
            store: std::sync::OnceLock::new(),
        }
    }

    /// The content store beside the cache (`PLUGIN_LINK_MODE` checked here).
    pub fn store(&self) -> Result<&crate::cache::store::Store, crate::cache::CacheError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let opened = crate::cache::store::Store::new(
            &self.loc.plugins_root,
            &self.loc.cache_dir(),
            self.env.link_mode.as_deref(),
        )?;
        Ok(self.store.get_or_init(|| opened))
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
                self.env.lock_timeout,
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
            self.env.lock_timeout,
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

    /// `installed_plugins.json` read now, to change it (under the state lock): its bytes are
    /// always read (stat data alone is not trusted here), but not parsed again when they are
    /// those [`Context::installed_now`] last parsed.
    /// A new parse is remembered for [`Context::installed_now`] (under the stat data taken
    /// before the read: a file replaced in between is only parsed again).
    pub fn installed(&self) -> Result<InstalledPlugins, JsonFileError> {
        let path = self.loc.installed_plugins_file();
        let mut memo = self
            .installed_memo
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let stat = crate::platform::Stat::of_path(&path, &mut crate::platform::FolderHandles::None);
        let previous = memo.as_ref().map(|(_, doc)| doc.clone());
        let read = InstalledPlugins::read_reusing(&path, previous.as_deref())?;
        match stat {
            Ok(stat) if memo.as_ref().is_none_or(|(seen, _)| *seen != stat) => {
                *memo = Some((stat, std::sync::Arc::new(read.clone())));
            }
            Ok(_) => {}
            Err(_) => *memo = None,
        }
        Ok(read)
    }

    /// `installed_plugins.json` to look at: parsed again only when its stat data changed since
    /// this process last read it (a write replaces it: a new inode). With hundreds of plugins
    /// recorded, parsing it at each step of one install was most of the install.
    pub fn installed_now(&self) -> Result<std::sync::Arc<InstalledPlugins>, JsonFileError> {
        let path = self.loc.installed_plugins_file();
        let mut memo = self
            .installed_memo
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Stat first: a file replaced before the read is only read again next time.
        let Ok(stat) =
            crate::platform::Stat::of_path(&path, &mut crate::platform::FolderHandles::None)
        else {
            *memo = None;
            return Ok(std::sync::Arc::new(InstalledPlugins::read(&path)?));
        };
        if let Some((seen, doc)) = memo.as_ref()
            && *seen == stat
        {
            return Ok(doc.clone());
        }
        let doc = std::sync::Arc::new(InstalledPlugins::read(&path)?);
        *memo = Some((stat, doc.clone()));
        Ok(doc)
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

    /// Fetch `entry`'s source (as given: a dependency's may be pinned at a tag) through this
    /// context's caches, limits and progress.
    pub fn fetch_source(
        &self,
        marketplace: &Marketplace,
        entry: &crate::schema::PluginEntry,
        archive_headers: Option<crate::credential::HeaderGrant>,
    ) -> Result<crate::source::ResolvedPlugin, crate::source::SourceError> {
        let cx = crate::source::SourceContext {
            git_root: &self.loc.git_db_dir(),
            downloads: &self.loc.downloads_dir(),
            project: self.loc.project_path(),
            home: &self.loc.home,
            reporter: &*self.reporter,
            env: &self.env,
            archive_headers,
        };
        crate::source::resolve(marketplace, entry, &cx)
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

/// The name part of a recorded id `name@marketplace` (the id itself when it has no `@`).
pub fn plugin_name(id: &str) -> &str {
    id.rsplit_once('@').map_or(id, |(n, _)| n)
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
}
