//! Which plugin folders may hold staging folders, so that the sweep after a killed install looks
//! there instead of listing every plugin folder of the cache (with hundreds installed, that
//! listing was most of an install).
//!
//! `<plugins-root>/.plugin-journal-v1/<random>`: one small file per staging folder, holding the
//! plugin folder's path under the cache (`<marketplace>/<plugin>`). It is written before the
//! staging folder is made and removed once that name is gone (published, removed, or the
//! replaced content it came to hold removed), so an entry left over names a plugin folder a
//! killed process was staging in. Before the journal folder exists (a cache written by an
//! earlier release) no entry is written and the sweep lists every plugin folder once, then
//! makes the folder.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::fsutil::{IoContext, IoError};

/// The journal folder of one cache.
#[derive(Debug, Clone)]
pub struct StagingJournal {
    dir: PathBuf,
}

/// The journal's note of one staging folder; removed when dropped once the folder's name is gone.
#[derive(Debug)]
pub struct JournalEntry {
    file: Option<PathBuf>,
    staging: PathBuf,
    /// Left for the next sweep (see [`JournalEntry::keep`]).
    kept: bool,
}

impl StagingJournal {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Note that `staging` (named `<prefix><name>`) is about to be made in plugin folder `rel`
    /// (`<marketplace>/<plugin>`). Nothing is written before the journal exists (see above).
    // Written in place: an entry is a hint for the sweep, read whole or not at all.
    #[allow(clippy::disallowed_methods)]
    pub fn begin(&self, rel: &str, name: &str, staging: &Path) -> Result<JournalEntry, IoError> {
        let file = self.dir.join(name);
        match fs::write(&file, rel) {
            Ok(()) => Ok(JournalEntry {
                file: Some(file),
                staging: staging.to_path_buf(),
                kept: false,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(JournalEntry {
                file: None,
                staging: staging.to_path_buf(),
                kept: false,
            }),
            Err(e) => Err(IoError::new("write", &file, e)),
        }
    }

    /// The entry files, each with the plugin folder (relative to the cache) it names, or
    /// `None` when it names none that can be trusted (cut short by a power loss, or not ours):
    /// then every plugin folder is to be swept. `None` when the journal does not exist yet.
    pub fn pending(&self) -> Option<Vec<(PathBuf, Option<PathBuf>)>> {
        let entries = fs::read_dir(&self.dir).ok()?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let file = entry.path();
            let rel = crate::fsutil::read_regular_text(&file, 4096)
                .ok()
                .map(PathBuf::from)
                // Never a way out of the cache: two plain names.
                .filter(|rel| {
                    rel.components().count() == 2
                        && rel.components().all(|c| matches!(c, Component::Normal(_)))
                });
            out.push((file, rel));
        }
        Some(out)
    }

    /// Start the journal (after a sweep of every plugin folder).
    pub fn create(&self) -> Result<(), IoError> {
        fs::create_dir_all(&self.dir).at("create directory", &self.dir)
    }
}

impl JournalEntry {
    /// Leave the entry for the next sweep: the staging folder's content (or a version folder
    /// moved aside for it) may still be somewhere in the plugin folder, and whoever holds this
    /// entry leaves it there.
    pub fn keep(&mut self) {
        self.kept = true;
    }

    pub fn is_kept(&self) -> bool {
        self.kept
    }
}

impl Drop for JournalEntry {
    fn drop(&mut self) {
        // (Not a folder: its parent is a file, so it was never made.)
        let gone = fs::symlink_metadata(&self.staging).is_err_and(|e| {
            matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            )
        });
        if let Some(file) = &self.file
            && !self.kept
            && gone
        {
            let _ = fs::remove_file(file);
        }
    }
}
