//! What an operation can fail with. [`OpError`] is what `output` renders: its text, and its
//! `failureCode` in `--json`. It is made of concerns: [`StateError`] (this machine's state and
//! settings files, locks and folders), [`FetchError`] (catalogs, plugin sources, the cache),
//! [`LookupError`] (finding the plugin or marketplace a command names), and one enum per command
//! for the failures only that command has, declared in the command's module
//! ([`super::install::InstallError`], [`super::link::LinkError`], …). `?` on a lower layer's
//! error puts it in its concern. A command that can fail in no other way returns its own enum
//! ([`super::init::InitError`]); `cli` turns it into an `OpError` for `output`.

use crate::cache::CacheError;
use crate::fsutil::IoError;
use crate::locations::Scope;
use crate::lock::LockError;
use crate::manifest::ManifestError;
use crate::marketplace::MarketplaceError;
use crate::policy::PolicyError;
use crate::state::{JsonFileError, RollbackError};

use super::configure::ConfigureError;
use super::enable::ToggleError;
use super::init::InitError;
use super::install::InstallError;
use super::link::LinkError;
use super::marketplace::MarketplaceCommandError;
use super::resolve::NotInstalledForResolve;
use super::uninstall::UninstallError;
use super::update::UpdateError;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The managed settings' marketplace policy could not be read (fail closed).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Definition(#[from] crate::definition::DefinitionError),
    #[error("Invalid plugin id \"{raw}\": {problem}. Use <name> or <name>@<marketplace>.")]
    InvalidPluginId { raw: String, problem: &'static str },
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Uninstall(#[from] UninstallError),
    #[error(transparent)]
    Toggle(#[from] ToggleError),
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    MarketplaceCommand(#[from] MarketplaceCommandError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Init(#[from] InitError),
    #[error(transparent)]
    Resolve(#[from] NotInstalledForResolve),
    #[error(transparent)]
    Configure(#[from] ConfigureError),
    #[error(transparent)]
    Dependency(#[from] super::dependencies::DependencyError),
    /// A step failed and some of the files it had written could not be put back.
    #[error("{error}; then {rollback}")]
    NotRolledBack {
        error: Box<OpError>,
        rollback: RollbackError,
    },
}

/// Reading and writing this machine's files: the state and settings files, their locks, and
/// the folders a command changes.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{0}")]
    File(#[from] JsonFileError),
    #[error("Failed to update settings: {0}")]
    SettingsWrite(JsonFileError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Io(#[from] IoError),
}

impl StateError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            StateError::File(_) | StateError::SettingsWrite(_) => "settings_write_failed",
            StateError::Lock(_) | StateError::Io(_) => "error_unknown",
        }
    }
}

/// Getting what a command installs: a marketplace's catalog, a plugin's source (git, npm, pip,
/// archive, a folder) and its manifest, staged into the cache.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Marketplace(#[from] MarketplaceError),
    #[error("Marketplace \"{name}\" could not be loaded: {source}")]
    MarketplaceLoad {
        name: String,
        #[source]
        source: MarketplaceError,
    },
    /// Not `#[from]`: a relative path's refusal is worded for the plugin it names
    /// ([`InstallError::RelativeSource`]).
    #[error(transparent)]
    Source(crate::source::SourceError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    GitUrl(#[from] crate::git::GitUrlError),
    #[error(transparent)]
    Download(#[from] crate::download::DownloadError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl FetchError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            FetchError::Marketplace(e) | FetchError::MarketplaceLoad { source: e, .. } => {
                e.failure_code()
            }
            FetchError::Source(e) => e.failure_code(),
            FetchError::Git(e) => e.failure_code(),
            FetchError::GitUrl(_) => "invalid_source",
            FetchError::Download(_) => "error_network",
            FetchError::Manifest(_) => "error_validation",
            FetchError::Cache(CacheError::Io(_)) => "error_unknown",
            FetchError::Cache(_) => "error_validation",
        }
    }
}

/// `?` on a lower layer's error: into its concern.
macro_rules! into_concern {
    ($($error:ty => $concern:ident),* $(,)?) => {
        $(impl From<$error> for OpError {
            fn from(e: $error) -> Self {
                OpError::$concern(e.into())
            }
        })*
    };
}

into_concern!(
    JsonFileError => State,
    LockError => State,
    IoError => State,
    MarketplaceError => Fetch,
    crate::git::GitError => Fetch,
    crate::git::GitUrlError => Fetch,
    crate::download::DownloadError => Fetch,
    ManifestError => Fetch,
    CacheError => Fetch,
);

/// Finding the plugin or marketplace a command names: in the catalogs of the configured
/// marketplaces (under the organization's policy), or among the installations.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
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
    #[error(
        "Plugin \"{plugin}\" is from marketplace \"{marketplace}\", which is blocked by your organization's policy"
    )]
    MarketplaceBlocked { plugin: String, marketplace: String },
    #[error(
        "Plugin \"{name}\" not found in any marketplace your organization's policy allows (not searched: {})",
        .blocked.join(", ")
    )]
    NotFoundInAllowed { name: String, blocked: Vec<String> },
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

impl LookupError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            LookupError::PluginNotFound { .. }
            | LookupError::PluginNotFoundAnywhere { .. }
            | LookupError::NotFoundInAllowed { .. } => "not_found",
            LookupError::UnknownMarketplace { .. } => "not_configured",
            LookupError::Ambiguous { .. } | LookupError::AmbiguousInstalled { .. } => {
                "ambiguous_marketplace"
            }
            LookupError::DuplicateEntry { .. } => "error_validation",
            LookupError::MarketplaceBlocked { .. } => "marketplace_policy_blocked",
            LookupError::NotInstalled { .. } => "not_installed",
            LookupError::NotInstalledAtScope { .. } => "not_installed_at_scope",
        }
    }
}

impl OpError {
    /// A settings file that could not be written (or read before a write).
    pub fn settings_write(e: JsonFileError) -> Self {
        StateError::SettingsWrite(e).into()
    }

    /// A plugin source that could not be resolved or fetched (see [`FetchError::Source`]).
    pub fn from_source(e: crate::source::SourceError) -> Self {
        FetchError::Source(e).into()
    }

    /// The `failureCode` of `--json` output (Claude Code's codes where it has one).
    pub fn failure_code(&self) -> &'static str {
        match self {
            OpError::State(e) => e.failure_code(),
            OpError::Fetch(e) => e.failure_code(),
            OpError::Policy(_) => "managed_settings_invalid",
            OpError::Definition(e) => match e {
                crate::definition::DefinitionError::ConflictingManifests { .. } => {
                    "manifest_invalid"
                }
                crate::definition::DefinitionError::Manifest(_) => "error_validation",
                crate::definition::DefinitionError::RootMissing { .. } => "error_not_found",
            },
            OpError::InvalidPluginId { .. } => "invalid_plugin_id",
            OpError::Lookup(e) => e.failure_code(),
            OpError::Install(e) => e.failure_code(),
            OpError::Uninstall(e) => e.failure_code(),
            OpError::Toggle(e) => e.failure_code(),
            OpError::Update(e) => e.failure_code(),
            OpError::MarketplaceCommand(e) => e.failure_code(),
            OpError::Link(e) => e.failure_code(),
            OpError::Init(e) => e.failure_code(),
            OpError::Resolve(_) => "not_installed",
            OpError::Configure(e) => e.failure_code(),
            OpError::Dependency(e) => e.failure_code(),
            OpError::NotRolledBack { error, .. } => error.failure_code(),
        }
    }

    /// The scope the plugin is installed (or set) at, when the failure is that the command
    /// named another one (`installedScope` of `--json`).
    pub fn installed_scope(&self) -> Option<Scope> {
        match self {
            OpError::Lookup(LookupError::NotInstalledAtScope { installed, .. })
            | OpError::Toggle(ToggleError::SetAtOtherScope {
                found: installed, ..
            }) => Some(*installed),
            _ => None,
        }
    }

    /// `disable` refused: the names of the enabled plugins that need the plugin.
    pub fn reverse_dependents(&self) -> Option<Vec<String>> {
        match self {
            OpError::Toggle(ToggleError::RequiredByDependents { dependents, .. }) => Some(
                (dependents.iter())
                    .map(|i| super::plugin_name(i).to_string())
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `disable` refused: what to disable first (ids).
    pub fn disable_first(&self) -> Option<Vec<String>> {
        match self {
            OpError::Toggle(ToggleError::RequiredByDependents { disable_first, .. }) => {
                Some(disable_first.clone())
            }
            _ => None,
        }
    }

    /// `enable` refused: the dependencies that are not installed.
    pub fn missing_dependencies(&self) -> Option<Vec<String>> {
        match self {
            OpError::Toggle(ToggleError::DependencyMissing { missing, .. }) => {
                Some(missing.clone())
            }
            _ => None,
        }
    }

    /// What was shown of a `command` source that did not run.
    pub fn shown_command(&self) -> Option<&super::consent::ShownCommand> {
        match self {
            OpError::Install(e) => e.shown_command(),
            _ => None,
        }
    }

    /// Refusals Claude Code prints as they are, without "Failed to …" before them (a
    /// `command` source not accepted or not allowed, or what it printed refused).
    pub fn stands_alone(&self) -> bool {
        match self {
            OpError::Install(
                InstallError::CommandNotAccepted { .. }
                | InstallError::CommandDeclined { .. }
                | InstallError::CommandSourcesDisabled
                | InstallError::HelperNotInlined(_)
                | InstallError::HelperDisabled(_)
                | InstallError::HelperDeferred(_)
                | InstallError::MarketplaceHelperDisabled(_),
            ) => true,
            OpError::Fetch(FetchError::Source(crate::source::SourceError::Command(e))) => {
                e.is_refusal()
            }
            _ => false,
        }
    }

    /// Whether the plugin already is as the command would make it (enable of an enabled one…).
    pub fn is_already_in_goal_state(&self) -> bool {
        matches!(
            self,
            OpError::Toggle(ToggleError::AlreadyInGoalState { .. })
        )
    }

    /// Whether the organization's policy forbids refreshing this marketplace (left alone, not a
    /// failure, when every marketplace is refreshed).
    pub fn is_marketplace_update_blocked(&self) -> bool {
        matches!(
            self,
            OpError::MarketplaceCommand(MarketplaceCommandError::UpdateBlocked { .. })
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn io(op: &'static str) -> IoError {
        IoError::new(op, "/s/f.json", std::io::Error::other("denied"))
    }

    /// A lower layer's error keeps its text and its code through its concern.
    #[test]
    fn concerns_keep_texts_and_codes() {
        let cases: Vec<(OpError, &str, &str)> = vec![
            (
                io("write").into(),
                "write /s/f.json: denied",
                "error_unknown",
            ),
            (
                JsonFileError::Io(io("read")).into(),
                "read /s/f.json: denied",
                "settings_write_failed",
            ),
            (
                OpError::settings_write(JsonFileError::Io(io("read"))),
                "Failed to update settings: read /s/f.json: denied",
                "settings_write_failed",
            ),
            (
                LockError::Timeout {
                    path: PathBuf::from("/s/.lock"),
                    waited: std::time::Duration::from_secs(3),
                }
                .into(),
                "timed out after 3s waiting for the lock on /s/.lock (is another `plugin` process running? PLUGIN_LOCK_TIMEOUT sets the limit in seconds)",
                "error_unknown",
            ),
            (
                LookupError::NotInstalled { id: "p@m".into() }.into(),
                "Plugin \"p@m\" not found in installed plugins",
                "not_installed",
            ),
        ];
        for (e, text, code) in cases {
            assert_eq!((e.to_string().as_str(), e.failure_code()), (text, code));
        }
    }
}
