//! The effective settings: every scope's `enabledPlugins` and `extraKnownMarketplaces` merged by
//! precedence (user < project < local < managed), each value with the file that set it and the
//! values it overrides.
//!
//! `enabledPlugins` merge key by key: the most specific file that mentions an id wins, so managed
//! `true` forces a plugin on and managed `false` blocks it everywhere. A declared marketplace is
//! taken whole from the most specific file that declares it (Claude Code 2.1.228+); within one
//! file `extraKnownMarketplaces` beats its alias `additionalMarketplaces`.
//!
//! Reading validates: an `enabledPlugins` key that is not `name@marketplace`, a value that is not
//! a boolean, a declaration that is not an object with a `source` object, or a `settings`-type
//! declaration whose `name` differs from its key, is an error positioned in its file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::json::{JsonDoc, JsonFileError};
use crate::locations::Scope;

const ENABLED: &str = "enabledPlugins";
const MARKETPLACE_KEYS: [&str; 2] = ["extraKnownMarketplaces", "additionalMarketplaces"];

/// One settings file as a layer of the merge.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    pub scope: Scope,
    pub doc: &'a JsonDoc,
}

/// A value and the file that set it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub scope: Scope,
    pub file: PathBuf,
}

/// The winning `enabledPlugins` value of one id.
#[derive(Debug, Clone, PartialEq)]
pub struct Enablement {
    pub id: String,
    pub marketplace: String,
    pub winner: Setting<bool>,
    /// Values of less specific files that the winner overrides, least specific first.
    pub overridden: Vec<Setting<bool>>,
}

impl Enablement {
    /// Whether `scope`'s own file says `true` (whatever wins).
    pub fn enabled_at(&self, scope: Scope) -> bool {
        std::iter::once(&self.winner)
            .chain(&self.overridden)
            .any(|s| s.scope == scope && s.value)
    }
}

/// One `extraKnownMarketplaces` entry (`source`, `autoUpdate`, …).
pub type DeclarationEntry = Map<String, Value>;

/// A marketplace declared in settings, taken whole from the most specific file.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    pub name: String,
    /// The declaration object (`source`, `autoUpdate`, …).
    pub winner: Setting<Map<String, Value>>,
    /// Scopes of the declarations it replaces, least specific first.
    pub overridden: Vec<Setting<Map<String, Value>>>,
}

impl Declaration {
    pub fn source(&self) -> &Value {
        self.winner.value.get("source").unwrap_or(&Value::Null)
    }
}

#[derive(Debug, Clone, Default)]
pub struct EffectiveSettings {
    /// By id.
    pub enabled: BTreeMap<String, Enablement>,
    /// By marketplace name.
    pub marketplaces: BTreeMap<String, Declaration>,
}

impl EffectiveSettings {
    /// Merge `layers`, given least specific first.
    pub fn merge(layers: &[Layer<'_>]) -> Result<Self, JsonFileError> {
        let mut out = EffectiveSettings::default();
        for layer in layers {
            for (id, value) in enabled_entries(layer.doc)? {
                let marketplace = id.split_once('@').map_or("", |(_, m)| m);
                let setting = Setting {
                    value,
                    scope: layer.scope,
                    file: layer.doc.path.clone(),
                };
                match out.enabled.get_mut(&id) {
                    Some(e) => e.overridden.push(std::mem::replace(&mut e.winner, setting)),
                    None => {
                        out.enabled.insert(
                            id.clone(),
                            Enablement {
                                marketplace: marketplace.to_string(),
                                id,
                                winner: setting,
                                overridden: Vec::new(),
                            },
                        );
                    }
                }
            }
            for (name, decl) in declarations(layer.doc)? {
                let setting = Setting {
                    value: decl,
                    scope: layer.scope,
                    file: layer.doc.path.clone(),
                };
                match out.marketplaces.get_mut(&name) {
                    Some(d) => d.overridden.push(std::mem::replace(&mut d.winner, setting)),
                    None => {
                        out.marketplaces.insert(
                            name.clone(),
                            Declaration {
                                name,
                                winner: setting,
                                overridden: Vec::new(),
                            },
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// The effective value of `id` (`None`: no file mentions it).
    pub fn enabled(&self, id: &str) -> Option<bool> {
        self.enabled.get(id).map(|e| e.winner.value)
    }
}

/// `enabledPlugins` of one file, validated, in file order.
fn enabled_entries(doc: &JsonDoc) -> Result<Vec<(String, bool)>, JsonFileError> {
    let Some(raw) = doc.map.get(ENABLED) else {
        return Ok(Vec::new());
    };
    let Some(map) = raw.as_object() else {
        return Err(doc.shape_error(
            ENABLED,
            format!("\"{ENABLED}\" must be an object of \"name@marketplace\": true|false"),
            "fix it and try again",
        ));
    };
    let mut out = Vec::new();
    for (id, value) in map {
        if !is_plugin_id(id) {
            return Err(doc.shape_error(
                id,
                format!("\"{ENABLED}\" key \"{id}\" is not of the form \"name@marketplace\""),
                "write the plugin's id as name@marketplace (e.g. \"formatter@acme-tools\") and try again",
            ));
        }
        let Some(on) = value.as_bool() else {
            return Err(doc.shape_error(
                id,
                format!("\"{ENABLED}\".\"{id}\" must be true or false, not {value}"),
                "fix it and try again",
            ));
        };
        out.push((id.clone(), on));
    }
    Ok(out)
}

/// `name@marketplace`, both parts non-empty, one `@`, no whitespace.
pub fn is_plugin_id(id: &str) -> bool {
    match id.split_once('@') {
        Some((n, m)) => {
            !n.is_empty()
                && !m.is_empty()
                && !m.contains('@')
                && !id.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// The declarations of one file (`extraKnownMarketplaces` over `additionalMarketplaces`).
fn declarations(doc: &JsonDoc) -> Result<Vec<(String, DeclarationEntry)>, JsonFileError> {
    let mut out: Vec<(String, DeclarationEntry)> = Vec::new();
    for key in MARKETPLACE_KEYS {
        let Some(raw) = doc.map.get(key) else {
            continue;
        };
        let Some(map) = raw.as_object() else {
            return Err(doc.shape_error(
                key,
                format!("\"{key}\" must be an object of marketplace name → {{\"source\": {{…}}}}"),
                "fix it and try again",
            ));
        };
        for (name, decl) in map {
            if out.iter().any(|(n, _)| n == name) {
                continue;
            }
            let Some(obj) = decl
                .as_object()
                .filter(|o| o.get("source").is_some_and(Value::is_object))
            else {
                return Err(doc.shape_error(
                    name,
                    format!("\"{key}\".\"{name}\" must be an object with a \"source\" object"),
                    "declare it as {\"source\": {\"source\": \"github\", \"repo\": \"owner/repo\"}} (or git, url, directory, file) and try again",
                ));
            };
            let source = &obj["source"];
            if source.get("source").and_then(Value::as_str) == Some("settings") {
                let inner = source.get("name").and_then(Value::as_str).unwrap_or("");
                if inner != name {
                    return Err(doc.shape_error(
                        name,
                        format!(
                            "marketplace declared as \"{name}\" has \"name\": \"{inner}\"; a settings marketplace's name must equal its key"
                        ),
                        "make the key and the name the same and try again",
                    ));
                }
            }
            out.push((name.clone(), obj.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::fs;

    fn doc(dir: &std::path::Path, name: &str, v: Value) -> JsonDoc {
        let p = dir.join(name);
        fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        JsonDoc::read(&p).unwrap()
    }

    #[test]
    fn most_specific_file_wins_and_overrides_are_kept() {
        let t = tempfile::tempdir().unwrap();
        let user = doc(
            t.path(),
            "user.json",
            json!({"enabledPlugins": {"a@m": false, "b@m": true, "c@m": true},
                   "extraKnownMarketplaces": {"m": {"source": {"source": "github", "repo": "acme/m"}, "autoUpdate": true}}}),
        );
        let project = doc(
            t.path(),
            "project.json",
            json!({"enabledPlugins": {"a@m": true},
                   "additionalMarketplaces": {"m": {"source": {"source": "git", "url": "https://x/m.git"}}}}),
        );
        let local = doc(
            t.path(),
            "local.json",
            json!({"enabledPlugins": {"b@m": false}}),
        );
        let managed = doc(
            t.path(),
            "managed.json",
            json!({"enabledPlugins": {"c@m": false}}),
        );
        let e = EffectiveSettings::merge(&[
            Layer {
                scope: Scope::User,
                doc: &user,
            },
            Layer {
                scope: Scope::Project,
                doc: &project,
            },
            Layer {
                scope: Scope::Local,
                doc: &local,
            },
            Layer {
                scope: Scope::Managed,
                doc: &managed,
            },
        ])
        .unwrap();
        assert_eq!(e.enabled("a@m"), Some(true));
        assert_eq!(e.enabled.get("a@m").unwrap().winner.scope, Scope::Project);
        assert_eq!(e.enabled("b@m"), Some(false));
        assert!(e.enabled.get("b@m").unwrap().enabled_at(Scope::User));
        assert_eq!(e.enabled("c@m"), Some(false));
        assert_eq!(e.enabled.get("c@m").unwrap().winner.scope, Scope::Managed);
        assert_eq!(e.enabled("d@m"), None);
        let m = e.marketplaces.get("m").unwrap();
        assert_eq!(m.winner.scope, Scope::Project);
        // Whole entry: no autoUpdate carried over from the user's declaration.
        assert_eq!(
            Value::Object(m.winner.value.clone()),
            json!({"source": {"source": "git", "url": "https://x/m.git"}})
        );
        assert_eq!(m.overridden.len(), 1);
    }

    #[test]
    fn bad_input_is_positioned_in_its_file() {
        let t = tempfile::tempdir().unwrap();
        let check = |v: Value, want: &str| {
            let d = doc(t.path(), "s.json", v);
            let err = EffectiveSettings::merge(&[Layer {
                scope: Scope::User,
                doc: &d,
            }])
            .unwrap_err()
            .to_string();
            assert!(err.contains(want), "{err}");
            assert!(
                err.starts_with(&format!("{}:", t.path().join("s.json").display())),
                "{err}"
            );
        };
        check(
            json!({"enabledPlugins": {"formatter": true}}),
            "key \"formatter\" is not of the form",
        );
        check(json!({"enabledPlugins": {"a@": true}}), "key \"a@\"");
        check(
            json!({"enabledPlugins": {"a@m": "yes"}}),
            "must be true or false",
        );
        check(json!({"enabledPlugins": []}), "must be an object");
        check(
            json!({"extraKnownMarketplaces": {"m": {"repo": "a/b"}}}),
            "must be an object with a \"source\" object",
        );
        check(
            json!({"extraKnownMarketplaces": {"m": {"source": {"source": "settings", "name": "other", "plugins": []}}}}),
            "has \"name\": \"other\"",
        );
        assert!(is_plugin_id("a@b") && !is_plugin_id("a@b@c") && !is_plugin_id("a b@c"));
    }
}
