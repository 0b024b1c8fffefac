//! The writes of one step of a command, undone together: a step that changes several state
//! files (`installed_plugins.json`, a settings file, `known_marketplaces.json`, …) and fails part
//! way puts every file it already wrote back to exactly the bytes it held before (or removes it,
//! when there was none), so a failed step leaves the disk as it found it.
//!
//! Each file's bytes are read just before the step first writes it, under the state lock the
//! caller holds. Putting back is an atomic write like any other ([`write_atomic`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::fsutil::{IoError, resolve_links, sync_dir, write_atomic};

/// The files written so far in one step, with what they held before. Dropped without
/// [`Transaction::commit`] (an early return), it puts them back; [`Transaction::roll_back`]
/// does the same and says what could not be put back.
#[derive(Debug, Default)]
#[must_use = "dropping a transaction puts back the files it wrote"]
pub struct Transaction {
    /// In order of first write: the file (at the end of its links) and its bytes before
    /// (`None`: it did not exist).
    before: Vec<(PathBuf, Option<Vec<u8>>)>,
}

/// Files a failed step had written that could not be put back.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} could not be put back as it was before this command ({}); check {}",
    if .0.len() == 1 { "a file" } else { "some files" },
    .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
    if .0.len() == 1 { "it" } else { "them" }
)]
pub struct RollbackError(pub Vec<IoError>);

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replace `path` with `bytes` atomically, first remembering what it held.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), IoError> {
        self.remember(path)?;
        if let Some(e) = crate::fsutil::write_fault(path) {
            return Err(IoError::new("write", path, e));
        }
        write_atomic(path, bytes)
    }

    /// [`Transaction::write`] for a file only its owner may read (secrets, `0600`).
    pub fn write_private(&mut self, path: &Path, bytes: &[u8]) -> Result<(), IoError> {
        self.remember(path)?;
        crate::fsutil::write_atomic_private(path, bytes)
    }

    /// Remember what `path` holds now, to put it back if the step fails (for a file changed by
    /// other means than [`Transaction::write`], e.g. removed). Only the first call for a file
    /// counts: it is the state before the step.
    pub fn remember(&mut self, path: &Path) -> Result<(), IoError> {
        let file = resolve_links(path)?;
        if self.before.iter().any(|(p, _)| *p == file) {
            return Ok(());
        }
        let bytes = match crate::fsutil::read_regular_file(&file, crate::fsutil::JSON_FILE_LIMIT) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(IoError::new("read", path, e)),
        };
        self.before.push((file, bytes));
        Ok(())
    }

    /// The step succeeded: keep what it wrote.
    pub fn commit(mut self) {
        self.before.clear();
    }

    /// Put back every file written, latest first; every one is tried, whatever happens to the
    /// others.
    pub fn roll_back(mut self) -> Result<(), RollbackError> {
        self.put_back()
    }

    fn put_back(&mut self) -> Result<(), RollbackError> {
        let mut failed = Vec::new();
        for (file, bytes) in self.before.drain(..).rev() {
            let now = crate::fsutil::read_regular_file(&file, crate::fsutil::JSON_FILE_LIMIT);
            let unchanged = match (&bytes, &now) {
                (Some(before), Ok(now)) => before == now,
                (None, Err(e)) => e.kind() == io::ErrorKind::NotFound,
                _ => false,
            };
            if unchanged {
                continue;
            }
            let restored = match &bytes {
                Some(b) => write_atomic(&file, b),
                None => match fs::remove_file(&file) {
                    Ok(()) => sync_dir(file.parent().unwrap_or(Path::new("."))),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(IoError::new("remove", &file, e)),
                },
            };
            if let Err(e) = restored {
                failed.push(e);
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(RollbackError(failed))
        }
    }
}

/// State files as they were before a command of several steps (an install with its
/// dependencies). When the command fails, its steps are undone one by one (uninstalls), which
/// can leave a file that means what it meant but is spelled otherwise (`"enabledPlugins": {}`,
/// an installed-plugins file with no plugins where there was none): those are put back byte for
/// byte. A file that means something else (another process changed it meanwhile) is left.
#[derive(Debug)]
pub struct Snapshot {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Snapshot {
    pub fn take(paths: &[PathBuf]) -> Result<Self, IoError> {
        let mut tx = Transaction::new();
        for p in paths {
            tx.remember(p)?;
        }
        let files = std::mem::take(&mut tx.before);
        tx.commit();
        Ok(Snapshot { files })
    }

    /// Put back the files that mean what they meant, through `tx` (the caller holds the state
    /// lock).
    pub fn restore_spelling(&self, tx: &mut Transaction) -> Result<(), IoError> {
        for (file, before) in &self.files {
            let now = match crate::fsutil::read_regular_file(file, crate::fsutil::JSON_FILE_LIMIT) {
                Ok(b) => Some(b),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(IoError::new("read", file, e)),
            };
            if now == *before || meaning(now.as_deref()) != meaning(before.as_deref()) {
                continue;
            }
            match before {
                Some(b) => tx.write(file, b)?,
                None => {
                    tx.remember(file)?;
                    match fs::remove_file(file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(IoError::new("remove", file, e)),
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a state file says, for [`Snapshot`]: its JSON without empty objects and arrays; no file,
/// and a file that says nothing but its format `version`, say nothing. `Err`: not JSON (never
/// the same as anything).
fn meaning(bytes: Option<&[u8]>) -> Result<serde_json::Value, ()> {
    use serde_json::Value;
    fn strip(v: Value) -> Option<Value> {
        match v {
            Value::Object(m) => {
                let m: serde_json::Map<String, Value> = (m.into_iter())
                    .filter_map(|(k, v)| Some((k, strip(v)?)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Value::Array(a) if a.is_empty() => None,
            other => Some(other),
        }
    }
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    let v: Value = serde_json::from_slice(bytes).map_err(|_| ())?;
    Ok(match strip(v) {
        Some(Value::Object(m)) if m.keys().all(|k| k == "version") => Value::Null,
        Some(v) => v,
        None => Value::Null,
    })
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let _ = self.put_back();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_back_restores_bytes_and_absence() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.json"), d.path().join("b.json"));
        fs::write(&a, "{\"old\": 1}").unwrap();
        let mut tx = Transaction::new();
        tx.write(&a, b"{}").unwrap();
        tx.write(&a, b"{\"twice\": 2}").unwrap();
        tx.write(&b, b"{}").unwrap();
        tx.roll_back().unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "{\"old\": 1}");
        assert!(!b.exists());
    }

    #[test]
    fn drop_without_commit_restores_and_commit_keeps() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.json");
        fs::write(&a, "old").unwrap();
        {
            let mut tx = Transaction::new();
            tx.write(&a, b"new").unwrap();
        }
        assert_eq!(fs::read_to_string(&a).unwrap(), "old");
        let mut tx = Transaction::new();
        tx.write(&a, b"new").unwrap();
        tx.commit();
        assert_eq!(fs::read_to_string(&a).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_file_is_put_back_through_its_link() {
        let d = tempfile::tempdir().unwrap();
        let (real, link) = (d.path().join("real.json"), d.path().join("link.json"));
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        let mut tx = Transaction::new();
        tx.write(&link, b"new").unwrap();
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        tx.roll_back().unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "old");
    }

    #[test]
    fn a_snapshot_puts_back_only_what_means_the_same() {
        let d = tempfile::tempdir().unwrap();
        let (settings, installed, other) = (
            d.path().join("settings.json"),
            d.path().join("installed.json"),
            d.path().join("other.json"),
        );
        fs::write(&settings, "{\"model\": \"x\"}").unwrap();
        fs::write(&other, "{\"a\": 1}").unwrap();
        let snap = Snapshot::take(&[settings.clone(), installed.clone(), other.clone()]).unwrap();
        // Undone step by step: the same meaning, spelled otherwise.
        fs::write(
            &settings,
            "{\n  \"model\": \"x\",\n  \"enabledPlugins\": {}\n}",
        )
        .unwrap();
        fs::write(&installed, "{\"version\": 2, \"plugins\": {}}").unwrap();
        // Changed by someone else meanwhile.
        fs::write(&other, "{\"a\": 2}").unwrap();
        let mut tx = Transaction::new();
        snap.restore_spelling(&mut tx).unwrap();
        tx.commit();
        assert_eq!(fs::read_to_string(&settings).unwrap(), "{\"model\": \"x\"}");
        assert!(!installed.exists());
        assert_eq!(fs::read_to_string(&other).unwrap(), "{\"a\": 2}");
    }
}
