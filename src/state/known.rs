//! `known_marketplaces.json`: every marketplace this user has added, keyed by name.
//!
//! ```json
//! {"m1": {"source": {"source": "directory", "path": "/fx/m1"}, "installLocation": "/fx/m1",
//!         "lastUpdated": "<ts>"}}
//! ```
//! 2-space indentation, no trailing newline (as Claude Code writes it). Entries are edited in
//! place so unknown keys (e.g. `autoUpdate`) survive.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::json::{JsonDoc, JsonFileError};
use super::transaction::Transaction;

/// One known marketplace as read from the file.
#[derive(Clone, Debug, PartialEq)]
pub struct KnownMarketplace {
    pub name: String,
    /// The `source` object exactly as stored (`{"source": "directory", "path": …}`, …).
    pub source: Value,
    pub install_location: PathBuf,
    pub last_updated: Option<String>,
}

#[derive(Debug)]
pub struct KnownMarketplaces {
    doc: JsonDoc,
}

impl KnownMarketplaces {
    pub fn read(path: &Path) -> Result<Self, JsonFileError> {
        Ok(Self {
            doc: JsonDoc::read(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.doc.path
    }

    /// Entries in file order (entries without a readable `source` are skipped but kept on write).
    pub fn all(&self) -> Vec<KnownMarketplace> {
        self.doc
            .map
            .iter()
            .filter_map(|(name, v)| Self::entry(name, v))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<KnownMarketplace> {
        self.doc.map.get(name).and_then(|v| Self::entry(name, v))
    }

    fn entry(name: &str, v: &Value) -> Option<KnownMarketplace> {
        let obj = v.as_object()?;
        let source = obj.get("source")?.clone();
        let install_location = PathBuf::from(obj.get("installLocation")?.as_str()?);
        Some(KnownMarketplace {
            name: name.to_string(),
            source,
            install_location,
            last_updated: obj
                .get("lastUpdated")
                .and_then(Value::as_str)
                .map(String::from),
        })
    }

    /// Insert or update `name`, keeping unknown keys of an existing entry.
    pub fn upsert(&mut self, name: &str, source: &Value, install_location: &Path, timestamp: &str) {
        let slot = self
            .doc
            .map
            .entry(name.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Some(obj) = slot.as_object_mut() {
            obj.insert("source".into(), source.clone());
            obj.insert(
                "installLocation".into(),
                json!(install_location.to_string_lossy()),
            );
            obj.insert("lastUpdated".into(), json!(timestamp));
        }
    }

    pub fn touch(&mut self, name: &str, timestamp: &str) {
        if let Some(obj) = self.doc.map.get_mut(name).and_then(Value::as_object_mut) {
            obj.insert("lastUpdated".into(), json!(timestamp));
        }
    }

    pub fn remove(&mut self, name: &str) -> bool {
        self.doc.map.shift_remove(name).is_some()
    }

    pub fn write(&self, tx: &mut Transaction) -> Result<(), JsonFileError> {
        self.doc.write(false, tx)
    }
}
