//! Managed settings: what an organisation pushes to every machine, read-only for us.
//!
//! `managed-settings.json` in the managed folder, then every `managed-settings.d/*.json` beside it
//! in name order (hidden and non-`.json` files ignored), merged as Claude Code merges them:
//! scalars, later wins; lists, union without duplicates; objects, deep merge; except
//! `extraKnownMarketplaces` (and its alias `additionalMarketplaces`), whose same-name entries
//! replace each other whole. A file that is not valid JSON is an error naming it, its line and
//! column: nothing may be installed from a policy that could not be read.
//!
//! The folder is `Locations::managed_dir` (the system's, or `PLUGIN_MANAGED_SETTINGS_DIR`).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::json::{JsonDoc, JsonFileError};

pub const FILE: &str = "managed-settings.json";
pub const DROP_IN_DIR: &str = "managed-settings.d";
/// Keys whose entries are replaced whole, never merged field by field.
const WHOLE_ENTRY_KEYS: &[&str] = &["extraKnownMarketplaces", "additionalMarketplaces"];

/// The merged managed settings and the files they came from.
#[derive(Debug, Clone, Default)]
pub struct ManagedSettings {
    pub map: Map<String, Value>,
    /// Each file as read, in merge order: what `plugin settings` uses to say which file set a
    /// value.
    pub layers: Vec<JsonDoc>,
}

impl ManagedSettings {
    /// Read and merge the managed folder `dir`; a missing folder or file contributes nothing.
    pub fn load(dir: &Path) -> Result<Self, JsonFileError> {
        let mut files = vec![dir.join(FILE)];
        let drop_ins = dir.join(DROP_IN_DIR);
        let mut extra: Vec<PathBuf> = fs::read_dir(&drop_ins)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                !name.starts_with('.')
                    && name.ends_with(".json")
                    && e.file_type().is_ok_and(|t| !t.is_dir())
            })
            .map(|e| e.path())
            .collect();
        extra.sort();
        files.extend(extra);
        let mut merged = ManagedSettings::default();
        for f in files {
            let doc = JsonDoc::read(&f)?;
            if doc.existed {
                merge_into(&mut merged.map, doc.map.clone(), true);
                merged.layers.push(doc);
            }
        }
        Ok(merged)
    }

    /// The files read, in merge order.
    pub fn sources(&self) -> impl Iterator<Item = &Path> {
        self.layers.iter().map(|d| d.path.as_path())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }
}

/// Merge `from` into `into` (see the module documentation). `top` marks the settings object
/// itself, where the whole-entry keys live.
fn merge_into(into: &mut Map<String, Value>, from: Map<String, Value>, top: bool) {
    for (key, value) in from {
        let whole_entries = top && WHOLE_ENTRY_KEYS.contains(&key.as_str());
        match (into.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) if whole_entries => {
                for (name, entry) in new {
                    old.insert(name, entry);
                }
            }
            (Some(Value::Object(old)), Value::Object(new)) => merge_into(old, new, false),
            (Some(Value::Array(old)), Value::Array(new)) => {
                for item in new {
                    if !old.contains(&item) {
                        old.push(item);
                    }
                }
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drop_ins_merge_in_name_order() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        fs::write(
            dir.join(FILE),
            json!({
                "enabledPlugins": {"a@m": true, "b@m": true},
                "strictKnownMarketplaces": [{"source": "github", "repo": "acme/one"}],
                "extraKnownMarketplaces": {"m": {"source": {"source": "github", "repo": "acme/m"}, "autoUpdate": true}},
                "model": "first"
            })
            .to_string(),
        )
        .unwrap();
        fs::create_dir(dir.join(DROP_IN_DIR)).unwrap();
        let d = dir.join(DROP_IN_DIR);
        fs::write(
            d.join("20-later.json"),
            json!({"model": "last", "enabledPlugins": {"c@m": true}}).to_string(),
        )
        .unwrap();
        fs::write(
            d.join("10-team.json"),
            json!({
                "enabledPlugins": {"b@m": false},
                "strictKnownMarketplaces": [{"source": "github", "repo": "acme/one"}, {"hostPattern": "^git\\.acme\\.com$"}],
                "extraKnownMarketplaces": {"m": {"source": {"source": "git", "url": "https://git.acme.com/m.git"}}},
                "model": "middle"
            })
            .to_string(),
        )
        .unwrap();
        fs::write(d.join(".hidden.json"), "not json").unwrap();
        fs::write(d.join("notes.txt"), "not json").unwrap();
        let m = ManagedSettings::load(dir).unwrap();
        assert_eq!(
            m.sources().map(Path::to_path_buf).collect::<Vec<_>>(),
            vec![
                dir.join(FILE),
                d.join("10-team.json"),
                d.join("20-later.json")
            ]
        );
        assert_eq!(m.get("model"), Some(&json!("last")));
        assert_eq!(
            m.get("enabledPlugins"),
            Some(&json!({"a@m": true, "b@m": false, "c@m": true}))
        );
        assert_eq!(
            m.get("strictKnownMarketplaces"),
            Some(
                &json!([{"source": "github", "repo": "acme/one"}, {"hostPattern": "^git\\.acme\\.com$"}])
            )
        );
        // Replaced whole: the later entry has no autoUpdate.
        assert_eq!(
            m.get("extraKnownMarketplaces"),
            Some(&json!({"m": {"source": {"source": "git", "url": "https://git.acme.com/m.git"}}}))
        );
    }

    #[test]
    fn a_missing_folder_is_empty_and_bad_json_names_the_file() {
        let t = tempfile::tempdir().unwrap();
        let none = ManagedSettings::load(&t.path().join("absent")).unwrap();
        assert!(none.map.is_empty() && none.sources().next().is_none());
        fs::create_dir(t.path().join(DROP_IN_DIR)).unwrap();
        let bad = t.path().join(DROP_IN_DIR).join("50-bad.json");
        fs::write(&bad, "{\n  \"enabledPlugins\": {,}\n}").unwrap();
        let err = ManagedSettings::load(t.path()).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:2:", bad.display())),
            "names the file and line: {err}"
        );
    }
}
