//! `installed_plugins.json`: one record per installation (scope × project), as Claude Code writes it.
//!
//! ```json
//! {"version": 2, "plugins": {"p1@m1": [{"scope": "user", "installPath": "…/cache/m1/p1/1.0.0",
//!   "version": "1.0.0", "installedAt": "<ts>", "lastUpdated": "<ts>"}]}}
//! ```
//! Fields in order: `scope`, [`projectPath`], `installPath`, `version`, `installedAt`,
//! `lastUpdated`, [`gitCommitSha`], [`sourceCommand`, `sourceProducerPath`]. Written with 2-space indentation and no trailing newline.
//! Records are edited in place, so keys we do not know and their order survive.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::json::{JsonDoc, JsonFileError};
use super::transaction::Transaction;
use crate::locations::Scope;

const FORMAT_VERSION: u64 = 2;

/// One installation as read from the file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstallRecord {
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    pub install_path: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit_sha: Option<String>,
    /// A `command` source's accepted command (and mode), as it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_command: Option<String>,
    /// The folder that command printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_producer_path: Option<String>,
    /// A dependency resolved from a `{name}--v{version}` tag: that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_version: Option<String>,
    /// Installed because another plugin needs it (what `prune` may remove).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<bool>,
}

impl InstallRecord {
    pub fn scope(&self) -> Option<Scope> {
        Scope::parse(&self.scope)
    }

    pub fn matches(&self, scope: Scope, project: Option<&Path>) -> bool {
        self.scope == scope.as_str()
            && (!scope.is_project_bound() || self.project_path.as_deref().map(Path::new) == project)
    }
}

/// What an install writes into a record.
#[derive(Clone, Debug)]
pub struct NewInstall {
    pub scope: Scope,
    pub project_path: Option<PathBuf>,
    pub install_path: PathBuf,
    pub version: String,
    pub git_commit_sha: Option<String>,
    /// A `command` source: the accepted command and the folder it printed.
    pub produced_by: Option<(String, PathBuf)>,
    /// The version of the `{name}--v{version}` tag a dependency was resolved from.
    pub resolved_version: Option<String>,
    /// `Some(true)`: installed as a dependency; `Some(false)`: installed by name (an earlier
    /// `auto` is cleared); `None`: as it was.
    pub auto: Option<bool>,
    pub timestamp: String,
}

impl InstallRecord {
    /// This record written again at `scope` (`project`): as it is, `auto` as given.
    pub fn as_new(&self, scope: Scope, project: Option<PathBuf>, auto: Option<bool>) -> NewInstall {
        NewInstall {
            scope,
            project_path: project,
            install_path: PathBuf::from(&self.install_path),
            version: self.version.clone(),
            git_commit_sha: self.git_commit_sha.clone(),
            produced_by: (self.source_command.clone())
                .zip(self.source_producer_path.clone().map(PathBuf::from)),
            resolved_version: self.resolved_version.clone(),
            auto,
            timestamp: self.last_updated.clone().unwrap_or_default(),
        }
    }
}

/// `sourceCommand` and `sourceProducerPath` of a `command` source's install.
fn insert_produced_by(obj: &mut Map<String, Value>, new: &NewInstall) {
    if let Some((command, producer)) = &new.produced_by {
        obj.insert("sourceCommand".into(), json!(command));
        obj.insert(
            "sourceProducerPath".into(),
            json!(producer.to_string_lossy()),
        );
    }
}

#[derive(Debug, Clone)]
pub struct InstalledPlugins {
    doc: JsonDoc,
}

impl InstalledPlugins {
    /// Read the file; a missing file is an empty version-2 document. A file of another format
    /// version is refused, never replaced (Claude Code moves it aside and forgets every install).
    pub fn read(path: &Path) -> Result<Self, JsonFileError> {
        Self::read_reusing(path, None)
    }

    /// [`InstalledPlugins::read`], reusing `previous` (a reading of the same file) when the
    /// file's text is the same.
    pub fn read_reusing(path: &Path, previous: Option<&Self>) -> Result<Self, JsonFileError> {
        let mut doc = JsonDoc::read_reusing(path, previous.map(|p| &p.doc))?;
        if !doc.existed {
            doc.map.insert("version".into(), json!(FORMAT_VERSION));
            doc.map.insert("plugins".into(), json!({}));
            return Ok(Self { doc });
        }
        match doc.map.get("version").and_then(Value::as_u64) {
            Some(FORMAT_VERSION) => {}
            other => {
                let found =
                    other.map_or_else(|| "no version".to_string(), |v| format!("version {v}"));
                return Err(doc.shape_error(
                    "version",
                    format!("installed_plugins.json has {found}; this tool reads version {FORMAT_VERSION}"),
                    "move it away to start with no recorded installs, or let the Claude Code that wrote it migrate it",
                ));
            }
        }
        if !doc.map.get("plugins").is_some_and(Value::is_object) {
            return Err(doc.shape_error(
                "plugins",
                "\"plugins\" must be an object of plugin ids".into(),
                "fix it (or move the file away) and try again",
            ));
        }
        Ok(Self { doc })
    }

    pub fn path(&self) -> &Path {
        &self.doc.path
    }

    fn plugins(&self) -> Option<&Map<String, Value>> {
        self.doc.object("plugins")
    }

    /// Every readable record, in file order.
    pub fn all(&self) -> Vec<(String, InstallRecord)> {
        let mut out = Vec::new();
        for (id, list) in self.plugins().into_iter().flatten() {
            out.extend(read_records(list).map(|r| (id.clone(), r)));
        }
        out
    }

    /// The records that apply in `project`: user and managed ones, and project and local ones
    /// of that project, with their scope.
    pub fn visible_from(&self, project: &Path) -> Vec<(String, InstallRecord, Scope)> {
        self.all()
            .into_iter()
            .filter_map(|(id, r)| {
                let scope = r.scope()?;
                let seen = !scope.is_project_bound()
                    || r.project_path.as_deref().map(Path::new) == Some(project);
                seen.then_some((id, r, scope))
            })
            .collect()
    }

    /// The readable records of `id` (only those are read: hundreds of plugins may be recorded).
    pub fn records(&self, id: &str) -> Vec<InstallRecord> {
        (self.plugins().and_then(|p| p.get(id)))
            .map(|list| read_records(list).collect())
            .unwrap_or_default()
    }

    pub fn find(&self, id: &str, scope: Scope, project: Option<&Path>) -> Option<InstallRecord> {
        self.records(id)
            .into_iter()
            .find(|r| r.matches(scope, project))
    }

    /// Every folder a record (of any id) points at, for asking [`InstalledPlugins::references`]
    /// of many folders.
    pub fn install_paths(&self) -> std::collections::HashSet<PathBuf> {
        self.install_path_strs().map(PathBuf::from).collect()
    }

    /// Whether any record (of any id) points at `install_path`.
    pub fn references(&self, install_path: &Path) -> bool {
        self.install_path_strs()
            .any(|p| Path::new(p) == install_path)
    }

    /// Every record's `installPath`, read from the document as it is: no record is made (callers
    /// ask once per folder of every plugin; a copy of every record each time grows with the
    /// square).
    fn install_path_strs(&self) -> impl Iterator<Item = &str> {
        (self.plugins().into_iter().flatten())
            .flat_map(|(_, list)| list.as_array().into_iter().flatten())
            .filter_map(|rec| rec.get("installPath")?.as_str())
    }

    /// Add a record, or update the matching one in place (keeping `installedAt` and key order).
    pub fn upsert(&mut self, id: &str, new: &NewInstall) {
        let project = new.project_path.as_deref();
        let list = self
            .doc
            .object_mut("plugins")
            .entry(id.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        let Value::Array(items) = list else { return };
        let existing = items.iter_mut().find(|v| {
            serde_json::from_value::<InstallRecord>((*v).clone())
                .is_ok_and(|r| r.matches(new.scope, project))
        });
        match existing.and_then(Value::as_object_mut) {
            Some(obj) => {
                obj.insert(
                    "installPath".into(),
                    json!(new.install_path.to_string_lossy()),
                );
                obj.insert("version".into(), json!(new.version));
                obj.insert("lastUpdated".into(), json!(new.timestamp));
                match &new.git_commit_sha {
                    Some(sha) => {
                        obj.insert("gitCommitSha".into(), json!(sha));
                    }
                    None => {
                        obj.shift_remove("gitCommitSha");
                    }
                }
                match &new.produced_by {
                    Some(_) => insert_produced_by(obj, new),
                    None => {
                        obj.shift_remove("sourceCommand");
                        obj.shift_remove("sourceProducerPath");
                    }
                }
                match &new.resolved_version {
                    Some(v) => {
                        obj.insert("resolvedVersion".into(), json!(v));
                    }
                    None => {
                        obj.shift_remove("resolvedVersion");
                    }
                }
                match new.auto {
                    Some(true) => {
                        obj.insert("auto".into(), json!(true));
                    }
                    Some(false) => {
                        obj.shift_remove("auto");
                    }
                    None => {}
                }
            }
            None => {
                let mut obj = Map::new();
                obj.insert("scope".into(), json!(new.scope.as_str()));
                if let (true, Some(p)) = (new.scope.is_project_bound(), project) {
                    obj.insert("projectPath".into(), json!(p.to_string_lossy()));
                }
                obj.insert(
                    "installPath".into(),
                    json!(new.install_path.to_string_lossy()),
                );
                obj.insert("version".into(), json!(new.version));
                obj.insert("installedAt".into(), json!(new.timestamp));
                obj.insert("lastUpdated".into(), json!(new.timestamp));
                if let Some(sha) = &new.git_commit_sha {
                    obj.insert("gitCommitSha".into(), json!(sha));
                }
                if let Some(v) = &new.resolved_version {
                    obj.insert("resolvedVersion".into(), json!(v));
                }
                if new.auto == Some(true) {
                    obj.insert("auto".into(), json!(true));
                }
                insert_produced_by(&mut obj, new);
                items.push(Value::Object(obj));
            }
        }
    }

    /// Remove the record for `scope` (and project); drops the id when no record is left.
    pub fn remove(
        &mut self,
        id: &str,
        scope: Scope,
        project: Option<&Path>,
    ) -> Option<InstallRecord> {
        let plugins = self.doc.object_mut("plugins");
        let Value::Array(items) = plugins.get_mut(id)? else {
            return None;
        };
        let idx = items.iter().position(|v| {
            serde_json::from_value::<InstallRecord>(v.clone())
                .is_ok_and(|r| r.matches(scope, project))
        })?;
        let removed = serde_json::from_value(items.remove(idx)).ok();
        if items.is_empty() {
            plugins.shift_remove(id);
        }
        removed
    }

    pub fn write(&self, tx: &mut Transaction) -> Result<(), JsonFileError> {
        self.doc.write(false, tx)
    }
}

/// The readable records of one id's list (read in place, not copied first).
fn read_records(list: &Value) -> impl Iterator<Item = InstallRecord> + '_ {
    (list.as_array().into_iter().flatten()).filter_map(|rec| InstallRecord::deserialize(rec).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(scope: Scope, project: Option<&str>, version: &str) -> NewInstall {
        NewInstall {
            scope,
            project_path: project.map(PathBuf::from),
            install_path: PathBuf::from(format!("/c/m/p/{version}")),
            version: version.into(),
            git_commit_sha: None,
            produced_by: None,
            resolved_version: None,
            auto: None,
            timestamp: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn upsert_matches_scope_and_project() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("installed_plugins.json");
        let mut s = InstalledPlugins::read(&p).unwrap();
        s.upsert("p@m", &new(Scope::User, None, "1.0.0"));
        s.upsert("p@m", &new(Scope::Project, Some("/a"), "1.0.0"));
        s.upsert("p@m", &new(Scope::Project, Some("/b"), "1.0.0"));
        s.upsert("p@m", &new(Scope::Project, Some("/a"), "2.0.0"));
        let mut tx = Transaction::new();
        s.write(&mut tx).unwrap();
        tx.commit();
        let s = InstalledPlugins::read(&p).unwrap();
        let recs = s.records("p@m");
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].version, "2.0.0");
        assert_eq!(recs[1].project_path.as_deref(), Some("/a"));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.ends_with('\n'));
        assert!(text.starts_with("{\n  \"version\": 2,\n  \"plugins\": {"));
    }

    #[test]
    fn unknown_version_is_refused_with_position() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("installed_plugins.json");
        std::fs::write(&p, "{\n  \"version\": 1,\n  \"plugins\": {}\n}").unwrap();
        let e = InstalledPlugins::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("installed_plugins.json:2:3: installed_plugins.json has version 1"),
            "{e}"
        );
    }

    #[test]
    fn remove_drops_empty_ids_and_keeps_others() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("installed_plugins.json");
        std::fs::write(
            &p,
            r#"{"version":2,"plugins":{"a@m":[{"scope":"user","installPath":"/x","version":"1","installedAt":"t","lastUpdated":"t","extra":1}],"b@m":[]},"other":true}"#,
        )
        .unwrap();
        let mut s = InstalledPlugins::read(&p).unwrap();
        assert!(
            s.remove("a@m", Scope::Project, Some(Path::new("/w")))
                .is_none()
        );
        assert!(s.remove("a@m", Scope::User, None).is_some());
        let mut tx = Transaction::new();
        s.write(&mut tx).unwrap();
        tx.commit();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(v, json!({"version":2,"plugins":{"b@m":[]},"other":true}));
    }
}
