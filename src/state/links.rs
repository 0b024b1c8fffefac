//! `.plugin-links.json` (ours, in the plugins root): what `plugin link` replaced, so that
//! `plugin unlink` can put it back. Claude Code never reads it.
//!
//! ```json
//! {"version": 1, "links": [{"id": "p@acme", "scope": "user", "checkout": "/src/p",
//!   "linkPath": "…/cache/acme/p/1.0.0", "aside": "…/cache/acme/p/.1.0.0.plugin-unlinked",
//!   "previous": {<the install record before the link>}, "previousEnabled": true}]}
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::installed::InstallRecord;
use super::json::{JsonDoc, JsonFileError};
use super::transaction::Transaction;
use crate::locations::Scope;

/// One linked installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkEntry {
    pub id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    pub checkout: PathBuf,
    pub link_path: PathBuf,
    /// The installed folder that stood where the link is (same version), moved aside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aside: Option<PathBuf>,
    /// The install record the link replaced (restored by `unlink`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<InstallRecord>,
    /// `enabledPlugins[id]` at the scope before the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_enabled: Option<bool>,
}

impl LinkEntry {
    pub fn matches(&self, id: &str, scope: Scope, project: Option<&Path>) -> bool {
        self.id == id
            && self.scope == scope.as_str()
            && (!scope.is_project_bound() || self.project_path.as_deref().map(Path::new) == project)
    }

    /// Folders this link keeps for `unlink` (not to be pruned while it exists).
    pub fn kept(&self) -> impl Iterator<Item = PathBuf> + '_ {
        (self.aside.iter().cloned())
            .chain(self.previous.iter().map(|p| PathBuf::from(&p.install_path)))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LinksDoc {
    version: u32,
    links: Vec<LinkEntry>,
}

pub struct Links {
    doc: JsonDoc,
    pub entries: Vec<LinkEntry>,
}

impl Links {
    pub fn read(path: &Path) -> Result<Self, JsonFileError> {
        let doc = JsonDoc::read(path)?;
        let parsed: LinksDoc = if doc.map.is_empty() {
            LinksDoc::default()
        } else {
            serde_json::from_value(serde_json::Value::Object(doc.map.clone())).map_err(|e| {
                doc.shape_error(
                    "links",
                    format!("not a plugin links file: {e}"),
                    "it is written by `plugin link`; move it away to forget the links it records",
                )
            })?
        };
        Ok(Self {
            doc,
            entries: parsed.links,
        })
    }

    pub fn find(&self, id: &str, scope: Scope, project: Option<&Path>) -> Option<&LinkEntry> {
        self.entries.iter().find(|e| e.matches(id, scope, project))
    }

    pub fn upsert(&mut self, entry: LinkEntry) {
        let scope = Scope::parse(&entry.scope).unwrap_or(Scope::User);
        let project = entry.project_path.clone();
        self.entries
            .retain(|e| !e.matches(&entry.id, scope, project.as_deref().map(Path::new)));
        self.entries.push(entry);
    }

    pub fn remove(&mut self, id: &str, scope: Scope, project: Option<&Path>) {
        self.entries.retain(|e| !e.matches(id, scope, project));
    }

    /// Every folder some link keeps for `unlink`.
    pub fn kept(&self) -> Vec<PathBuf> {
        self.entries.iter().flat_map(|e| e.kept()).collect()
    }

    pub fn write(&mut self, tx: &mut Transaction) -> Result<(), JsonFileError> {
        let value = serde_json::to_value(LinksDoc {
            version: 1,
            links: self.entries.clone(),
        })
        .unwrap_or_default();
        if let serde_json::Value::Object(map) = value {
            self.doc.map = map;
        }
        self.doc.write(true, tx)
    }
}
