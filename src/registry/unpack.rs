//! Writing the entries of a package (an npm tarball and its Node.js dependencies, a wheel, a
//! zip archive) into a staging folder: one set of rules whatever the archive format.
//!
//! * An entry named with an absolute path, a `..` component or a NUL refuses the package.
//! * So does an entry that writes a path an earlier entry wrote, or a file where a folder is
//!   (or the reverse): every reader of the package (the manifest read for the version, the
//!   layout check, the unpacking) then sees the same single content for each path.
//! * `.git` and the cache's bookkeeping names are left out at any depth, reported once each
//!   (`cache::excluded_name`).
//! * Links (symbolic and hard) and special files are never written, and are reported as what
//!   they are.
//! * Files get mode 644, or 755 when the archive gives any execute bit.
//! * Every byte written counts against the install's [`UnpackBudget`].

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cache::{CopyReport, SkipReason, Skipped, excluded_prefix};
use crate::fsutil::{IoContext, IoError};

/// What one install may unpack, the plugin and its Node.js dependencies together: a small
/// download can inflate enormously (a "zip bomb"), and so can many small ones.
pub const MAX_UNPACKED: u64 = 1024 * 1024 * 1024;

/// How many entries (files, folders, links, left-out names) one install may unpack: empty
/// entries cost no bytes, yet millions of them exhaust inodes and memory (a tarball of empty
/// files compresses to almost nothing).
pub const MAX_ENTRIES: u64 = 300_000;

pub use crate::environment::MAX_UNPACKED_VAR;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("could not be unpacked: {0}")]
    Io(#[from] IoError),
    #[error("holds an unsafe entry \"{entry}\": {why}; refusing to install it")]
    Unsafe { entry: String, why: &'static str },
    #[error(
        "cannot be unpacked: the install would write more than {limit} bytes (the plugin and its Node.js dependencies together); refusing to install it"
    )]
    TooLarge { limit: u64 },
    #[error(
        "cannot be unpacked: the install would create more than {limit} files and folders (the plugin and its Node.js dependencies together); refusing to install it"
    )]
    TooManyEntries { limit: u64 },
    #[error("could not be read: {0}")]
    Read(std::io::Error),
}

/// The bytes one install may still write, shared by every extraction of that install (the
/// plugin's package and each of its dependencies, on whichever thread).
#[derive(Debug)]
pub struct UnpackBudget {
    limit: u64,
    used: AtomicU64,
    entries: AtomicU64,
}

impl UnpackBudget {
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            used: AtomicU64::new(0),
            entries: AtomicU64::new(0),
        }
    }

    /// The budget of one install: [`MAX_UNPACKED`], or less when [`MAX_UNPACKED_VAR`] says so
    /// (`max_unpacked`, its value). It can only lower the cap: a variable that raised it would
    /// be a way past it.
    pub fn for_install(max_unpacked: Option<u64>) -> Self {
        let lowered = max_unpacked.filter(|&v| v < MAX_UNPACKED);
        Self::new(lowered.unwrap_or(MAX_UNPACKED))
    }

    /// Count one more entry; refused past [`MAX_ENTRIES`].
    fn charge_entry(&self) -> Result<(), UnpackError> {
        if self.entries.fetch_add(1, Ordering::Relaxed) >= MAX_ENTRIES {
            return Err(UnpackError::TooManyEntries { limit: MAX_ENTRIES });
        }
        Ok(())
    }

    /// Count `n` more bytes; refused once the total passes the limit.
    fn charge(&self, n: u64) -> Result<(), UnpackError> {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > self.limit {
            return Err(UnpackError::TooLarge { limit: self.limit });
        }
        Ok(())
    }
}

/// The path inside the package of the archive entry named `raw`, without its first `strip`
/// components (npm's `package/`); `None` when nothing is left. Refused (with the reason) when
/// it is absolute, climbs with `..` or holds a NUL, wherever that is in the name.
pub fn entry_path(raw: &Path, strip: usize) -> Result<Option<PathBuf>, &'static str> {
    if raw.as_os_str().as_encoded_bytes().contains(&0) {
        return Err("its name holds a NUL byte");
    }
    let mut parts = Vec::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err("it climbs out of its folder (\"..\")"),
            Component::RootDir | Component::Prefix(_) => return Err("it is an absolute path"),
        }
    }
    Ok((parts.len() > strip).then(|| parts[strip..].iter().collect()))
}

/// What an archive entry is.
pub enum EntryKind {
    Dir,
    /// A regular file and the mode the archive gives it.
    File(u32),
    /// A symbolic link and its target as written.
    Symlink(Option<PathBuf>),
    /// A hard link and the path (inside the package) it links to.
    HardLink(Option<PathBuf>),
    /// Devices, FIFOs and the like.
    Other,
}

/// Writes one package's entries into an existing folder (see the module documentation).
pub struct Unpacker<'a> {
    dst: &'a Path,
    budget: &'a UnpackBudget,
    /// Paths written so far, `true` for folders (made by an entry or as a parent).
    written: HashMap<PathBuf, bool>,
    /// Left-out paths already reported.
    excluded: HashSet<PathBuf>,
    report: CopyReport,
    buf: Vec<u8>,
}

impl<'a> Unpacker<'a> {
    pub fn new(dst: &'a Path, budget: &'a UnpackBudget) -> Self {
        Self {
            dst,
            budget,
            written: HashMap::new(),
            excluded: HashSet::new(),
            report: CopyReport::default(),
            buf: vec![0; 64 * 1024],
        }
    }

    /// Write (or leave out) the entry named `raw` in the archive, at `rel` inside the package;
    /// `data` is its content.
    pub fn entry(
        &mut self,
        raw: &str,
        rel: PathBuf,
        kind: EntryKind,
        data: &mut dyn Read,
    ) -> Result<(), UnpackError> {
        self.budget.charge_entry()?;
        if let Some((path, reason)) = excluded_prefix(&rel) {
            if self.excluded.insert(path.clone()) {
                self.report.skipped.push(Skipped::excluded(path, reason));
            }
            return Ok(());
        }
        let target = self.dst.join(&rel);
        match kind {
            EntryKind::Dir => {
                self.claim(raw, &rel, true)?;
                fs::create_dir_all(&target).at("create directory", &target)?;
            }
            EntryKind::File(mode) => {
                self.claim(raw, &rel, false)?;
                let n = self.write_file(&target, mode, data)?;
                self.report.bytes += n;
                self.report.files += 1;
            }
            EntryKind::Symlink(target) => self.skip(rel, target, SkipReason::PackageSymlink),
            EntryKind::HardLink(target) => self.skip(rel, target, SkipReason::HardLink),
            EntryKind::Other => self.skip(rel, None, SkipReason::SpecialFile),
        }
        Ok(())
    }

    pub fn finish(self) -> CopyReport {
        self.report
    }

    fn skip(&mut self, path: PathBuf, target: Option<PathBuf>, reason: SkipReason) {
        self.report.skipped.push(Skipped {
            path,
            target,
            reason,
        });
    }

    /// Record `rel` as written (a folder when `dir`), refusing what would write over an
    /// earlier entry or put a file and a folder at one path.
    fn claim(&mut self, raw: &str, rel: &Path, dir: bool) -> Result<(), UnpackError> {
        let refuse = |why| UnpackError::Unsafe {
            entry: raw.to_string(),
            why,
        };
        for parent in rel.ancestors().skip(1) {
            if parent.as_os_str().is_empty() {
                break;
            }
            match self.written.insert(parent.to_path_buf(), true) {
                Some(false) => {
                    return Err(refuse(
                        "an earlier entry wrote a file where this entry needs a folder",
                    ));
                }
                Some(true) => break,
                None => {}
            }
        }
        match self.written.insert(rel.to_path_buf(), dir) {
            None | Some(true) if dir => Ok(()),
            None => Ok(()),
            Some(true) => Err(refuse("an earlier entry wrote a folder at this path")),
            Some(false) => Err(refuse("an earlier entry wrote the same path")),
        }
    }

    /// Create the file `target` and copy `data` into it, within the budget.
    fn write_file(
        &mut self,
        target: &Path,
        archive_mode: u32,
        data: &mut dyn Read,
    ) -> Result<u64, UnpackError> {
        let mut out = create_unpacked_file(target, archive_mode)?;
        let mut written = 0;
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(UnpackError::Read(e)),
            };
            self.budget.charge(n as u64)?;
            out.write_all(&self.buf[..n]).at("write", target)?;
            written += n as u64;
        }
        Ok(written)
    }
}

/// Create a regular file unpacked from a package: parent folders made, mode 755 when the
/// archive gives any execute bit, else 644 (no setuid, no group-writable), never over an
/// existing file.
fn create_unpacked_file(target: &Path, archive_mode: u32) -> Result<fs::File, IoError> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).at("create directory", parent)?;
    }
    let mode = if archive_mode & 0o111 != 0 {
        0o755
    } else {
        0o644
    };
    crate::platform::create_new_file(target, mode).at("create", target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_budget_for_every_extraction_of_an_install() {
        let budget = UnpackBudget::new(10);
        budget.charge(4).unwrap();
        budget.charge(6).unwrap();
        assert!(matches!(
            budget.charge(1),
            Err(UnpackError::TooLarge { limit: 10 })
        ));
        // Shared across threads (dependencies unpack in parallel): the sum counts.
        let budget = UnpackBudget::new(1000);
        let refused = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..30).filter(|_| budget.charge(10).is_err()).count()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum::<usize>()
        });
        assert_eq!(refused, 4 * 30 - 100);
    }

    #[test]
    fn the_entry_count_is_capped_across_extractions() {
        let t = tempfile::tempdir().unwrap();
        let budget = UnpackBudget::new(u64::MAX);
        for _ in 0..MAX_ENTRIES - 1 {
            budget.charge_entry().unwrap();
        }
        let mut u = Unpacker::new(t.path(), &budget);
        u.entry("a", "a".into(), EntryKind::Dir, &mut std::io::empty())
            .unwrap();
        let err = u
            .entry("b", "b".into(), EntryKind::Dir, &mut std::io::empty())
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 300000 files and folders"), "{err}");
        assert!(!t.path().join("b").exists());
    }

    #[test]
    fn entry_paths() {
        let p = |raw: &str, strip| entry_path(Path::new(raw), strip);
        assert_eq!(p("package/a/b.js", 1), Ok(Some(PathBuf::from("a/b.js"))));
        assert_eq!(p("./package/a", 1), Ok(Some(PathBuf::from("a"))));
        assert_eq!(p("node/x", 1), Ok(Some(PathBuf::from("x"))));
        assert_eq!(p("package", 1), Ok(None));
        assert_eq!(p("a/./b", 0), Ok(Some(PathBuf::from("a/b"))));
        for bad in ["package/../../etc/passwd", "/etc/passwd", "a/../b", "../a"] {
            assert!(p(bad, 1).is_err(), "{bad}");
            assert!(p(bad, 0).is_err(), "{bad}");
        }
        assert!(p("a\0b", 0).is_err());
    }

    #[test]
    fn entries_are_written_once_and_names_left_out_once() {
        let t = tempfile::tempdir().unwrap();
        let budget = UnpackBudget::new(100);
        let mut u = Unpacker::new(t.path(), &budget);
        let file = |u: &mut Unpacker, rel: &str, data: &[u8]| {
            u.entry(
                rel,
                PathBuf::from(rel),
                EntryKind::File(0o644),
                &mut &data[..],
            )
        };
        file(&mut u, "a/b.md", b"x").unwrap();
        u.entry("a", "a".into(), EntryKind::Dir, &mut std::io::empty())
            .unwrap();
        let err = file(&mut u, "a/b.md", b"y").unwrap_err().to_string();
        assert!(
            err.contains("an earlier entry wrote the same path"),
            "{err}"
        );
        let err = file(&mut u, "a", b"y").unwrap_err().to_string();
        assert!(err.contains("wrote a folder at this path"), "{err}");
        let err = file(&mut u, "a/b.md/c", b"y").unwrap_err().to_string();
        assert!(
            err.contains("a file where this entry needs a folder"),
            "{err}"
        );
        for rel in [".git/config", ".git/hooks/x", "a/.In_Use/1"] {
            file(&mut u, rel, b"z").unwrap();
        }
        let err = file(&mut u, "big", &[0; 100]).unwrap_err().to_string();
        assert!(err.contains("more than 100 bytes"), "{err}");
        let report = u.finish();
        let skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|s| (s.path.clone(), s.reason))
            .collect();
        assert_eq!(
            skipped,
            [
                (PathBuf::from(".git"), SkipReason::GitMetadata),
                (PathBuf::from("a/.In_Use"), SkipReason::Bookkeeping)
            ]
        );
        assert_eq!(fs::read(t.path().join("a/b.md")).unwrap(), b"x");
        assert!(!t.path().join(".git").exists());
    }
}
