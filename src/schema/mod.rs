//! The data every layer shares about marketplaces: the typed catalog (`marketplace.json`), its
//! entries and their sources, name rules, renames, and where a relative source lands.
//!
//! It sits below the modules that read catalogs (`marketplace`), fetch what an entry points at
//! (`source`) and check plugins (`definition`), so each of them can use these types without
//! importing another. Loading a catalog from a folder, a clone or a download stays in
//! `marketplace` (its `impl Marketplace`).

pub mod catalog;
pub mod names;
pub mod plugin_manifest;
pub mod relative;
pub mod renames;
pub mod shape;

use std::path::PathBuf;

pub use catalog::{CommandSource, MarketplaceManifest, PluginEntry, PluginSource, json_type};
pub use relative::{Escape, RelativeSourceError, plugin_root_dir, relative_plugin_dir};

/// A loaded catalog with the folder its relative sources resolve from.
#[derive(Debug, Clone)]
pub struct Marketplace {
    pub root: PathBuf,
    /// A folder or file the user owns (plugins load in place), not a clone we manage.
    pub local: bool,
    /// Only the catalog was downloaded (a `url` marketplace): relative entries have no files.
    pub catalog_only: bool,
    /// The index file read, or `None` when the catalog was discovered from plugin folders.
    pub index: Option<PathBuf>,
    pub manifest: MarketplaceManifest,
}

impl Marketplace {
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The folder holding the plugin of a relative or bare `entry`.
    pub fn resolve_relative(&self, entry: &PluginEntry) -> Result<PathBuf, RelativeSourceError> {
        if self.catalog_only {
            return Err(RelativeSourceError::CatalogOnly);
        }
        let path = relative_plugin_dir(
            &self.root,
            self.manifest.plugin_root.as_deref(),
            &entry.source,
        )?;
        if !path.exists() {
            return Err(RelativeSourceError::Missing(path));
        }
        Ok(path)
    }
}
