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
}
