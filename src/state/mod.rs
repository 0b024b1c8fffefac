//! Persistent state: `installed_plugins.json`, `known_marketplaces.json`, the settings files of
//! each scope (their read-modify-write cycles run under the state lock of the `lock` module).
//!
//! Every file is replaced atomically (temporary file, fsync, rename, fsync of the directory),
//! under the exclusive state lock, and keeps the keys it does not own. A file that cannot be
//! parsed is reported with its line and column and left untouched. Every write goes through a
//! [`Transaction`], so a command step that fails part way puts back the files it already wrote.

pub mod effective;
pub mod installed;
pub mod json;
pub mod known;
pub mod links;
pub mod managed;
pub mod seed;
pub mod settings;
pub mod transaction;

pub use installed::{InstallRecord, InstalledPlugins, NewInstall};
pub use json::JsonFileError;
pub use known::{KnownMarketplace, KnownMarketplaces};
pub use links::{LinkEntry, Links};
pub use managed::ManagedSettings;
pub use seed::{SeedFolders, SeedMarketplace, SeedVersion};
pub use settings::SettingsFile;
pub use transaction::{RollbackError, Snapshot, Transaction};
