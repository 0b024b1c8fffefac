//! Settings files (`settings.json`, `.claude/settings.json`, `.claude/settings.local.json`): the
//! keys this tool owns are `enabledPlugins` and `extraKnownMarketplaces`; everything else is kept
//! byte-for-byte in value and in order. Written with 2-space indentation and a trailing newline.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::json::{JsonDoc, JsonFileError};
use super::transaction::Transaction;
use crate::locations::Scope;

const ENABLED: &str = "enabledPlugins";
const MARKETPLACES: &str = "extraKnownMarketplaces";
/// Per-plugin options; keyed by plugin id like `enabledPlugins`, so renames move its keys too.
const CONFIGS: &str = "pluginConfigs";

#[derive(Debug, Clone)]
pub struct SettingsFile {
    pub scope: Scope,
    doc: JsonDoc,
}

impl SettingsFile {
    pub fn read(scope: Scope, path: &Path) -> Result<Self, JsonFileError> {
        Ok(Self {
            scope,
            doc: JsonDoc::read(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.doc.path
    }

    /// The file as read (for positions in error messages and the raw values).
    pub fn doc(&self) -> &JsonDoc {
        &self.doc
    }

    pub fn exists(&self) -> bool {
        self.doc.existed
    }

    /// `enabledPlugins[id]` when it is a boolean.
    pub fn enabled(&self, id: &str) -> Option<bool> {
        self.doc
            .object(ENABLED)
            .and_then(|m| m.get(id))
            .and_then(Value::as_bool)
    }

    /// Every `enabledPlugins` entry with a boolean value, in file order.
    pub fn enabled_plugins(&self) -> Vec<(String, bool)> {
        self.doc
            .object(ENABLED)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_bool().map(|b| (k.clone(), b)))
            .collect()
    }

    pub fn set_enabled(&mut self, id: &str, value: bool) {
        self.doc
            .object_mut(ENABLED)
            .insert(id.to_string(), Value::Bool(value));
    }

    /// `pluginConfigs[id].options` (empty when unset).
    pub fn plugin_options(&self, id: &str) -> Map<String, Value> {
        self.doc
            .object(CONFIGS)
            .and_then(|m| m.get(id))
            .and_then(|c| c.get("options"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// Set `pluginConfigs[id].options` to `options`.
    pub fn set_plugin_options(&mut self, id: &str, options: Map<String, Value>) {
        let configs = self.doc.object_mut(CONFIGS);
        let entry = configs
            .entry(id.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(c) = entry {
            c.insert("options".to_string(), Value::Object(options));
        }
    }

    /// Remove `id` from `enabledPlugins`; the (possibly empty) object stays, as in Claude Code.
    pub fn remove_enabled(&mut self, id: &str) -> bool {
        self.doc.object(ENABLED).is_some_and(|m| m.contains_key(id))
            && self.doc.object_mut(ENABLED).shift_remove(id).is_some()
    }

    /// Every `enabledPlugins` key, whatever its value, in file order.
    pub fn enabled_plugin_keys(&self) -> Vec<String> {
        self.doc
            .object(ENABLED)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Follow the rename of plugin id `old` to `new` (`None`: withdrawn) in `enabledPlugins` and
    /// `pluginConfigs`, as Claude Code does: the old key goes; its value moves to `new` (at the
    /// end) unless `new` is already there, whose value then stays. `None` when neither object has
    /// `old`; else whether an existing `new` key was kept.
    pub fn rename_plugin(&mut self, old: &str, new: Option<&str>) -> Option<bool> {
        let mut outcome = None;
        for key in [ENABLED, CONFIGS] {
            if !self.doc.object(key).is_some_and(|m| m.contains_key(old)) {
                continue;
            }
            let map = self.doc.object_mut(key);
            let value = map.shift_remove(old);
            let mut kept = false;
            if let (Some(new), Some(value)) = (new, value) {
                kept = map.contains_key(new);
                if !kept {
                    map.insert(new.to_string(), value);
                }
            }
            if key == ENABLED || outcome.is_none() {
                outcome = Some(kept);
            }
        }
        outcome
    }

    pub fn declared_marketplace(&self, name: &str) -> Option<&Value> {
        self.doc.object(MARKETPLACES).and_then(|m| m.get(name))
    }

    pub fn declared_marketplaces(&self) -> Option<&Map<String, Value>> {
        self.doc.object(MARKETPLACES)
    }

    /// Declare a marketplace: `extraKnownMarketplaces[name] = {"source": source}`, keeping other
    /// keys of an existing declaration.
    pub fn declare_marketplace(&mut self, name: &str, source: &Value) {
        let slot = self
            .doc
            .object_mut(MARKETPLACES)
            .entry(name.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Some(obj) = slot.as_object_mut() {
            obj.insert("source".into(), source.clone());
        }
    }

    pub fn undeclare_marketplace(&mut self, name: &str) -> bool {
        self.doc
            .object(MARKETPLACES)
            .is_some_and(|m| m.contains_key(name))
            && self
                .doc
                .object_mut(MARKETPLACES)
                .shift_remove(name)
                .is_some()
    }

    pub fn write(&self, tx: &mut Transaction) -> Result<(), JsonFileError> {
        self.check_link_stays_in_project()?;
        self.doc.write(true, tx)
    }

    /// A project's `.claude/settings*.json` comes with its repository: written through a
    /// symbolic link only when the link ends inside the project, so that a cloned repository
    /// cannot point our write at `~/.claude/settings.json` or any other file.
    fn check_link_stays_in_project(&self) -> Result<(), JsonFileError> {
        let path = self.path();
        let project = match self.scope {
            Scope::Project | Scope::Local => path.parent().and_then(Path::parent),
            _ => None,
        };
        let Some(project) = project else {
            return Ok(());
        };
        let target = crate::fsutil::resolve_links(path)?;
        if target == path {
            return Ok(());
        }
        let inside = (target.parent())
            .and_then(|d| crate::fsutil::canonicalize(d).ok())
            .zip(crate::fsutil::canonicalize(project).ok())
            .is_some_and(|(dir, project)| dir.starts_with(project));
        if inside {
            return Ok(());
        }
        Err(crate::fsutil::IoError::new(
            "write",
            path,
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "it is a symbolic link to {}, outside the project {}; project settings are written only inside the project (replace the link with a file)",
                    target.display(),
                    project.display()
                ),
            ),
        )
        .into())
    }
}

/// Paths of the writable scopes, for reading every scope at once.
pub fn writable_scopes() -> [Scope; 3] {
    [Scope::User, Scope::Project, Scope::Local]
}

/// A settings path paired with its scope, for messages.
pub fn describe(scope: Scope, path: &Path) -> String {
    format!("{} settings ({})", scope, PathBuf::from(path).display())
}
