//! The operating-system primitives the tool needs, with one implementation per OS (`linux.rs`,
//! `macos.rs`); nothing outside this module names an OS.
//!
//! - [`Stat`]: what `stat` says about an entry, taken through an open handle of its folder
//!   ([`Stat::of_path`], [`Stat::at`]): one path component for the kernel to look up.
//! - [`flush_tree`]: make what was written under a folder durable before it is published.
//! - [`exchange`]: swap two existing paths in one step, where the filesystem can.
//! - [`scan_processes`]: the paths running processes hold (working folder, executable, open
//!   files), for "is this folder in use".
//! - [`symlink`]: create a symbolic link.
//! - [`mode_bits`], [`file_type`]: file modes as one type (`u32`), whatever the OS's `mode_t`.
//!
//! The shared Unix part (rustix, `std::os::unix`) lives here; the OS files hold what differs.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as os;
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
compile_error!("no platform implementation for this operating system (src/platform/)");

pub use os::{file_type, flush_tree, mode_bits, scan_processes};

/// What `stat` says about an entry, as the stat cache remembers and compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub mode: u32,
}

impl Stat {
    pub fn of(meta: &fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            mode: meta.mode(),
        }
    }

    /// Stat `path` (following links) through an open handle of its folder, kept in `dirs`: one
    /// path component for the kernel to look up instead of the whole path, which is most of the
    /// cost of checking a large unchanged folder.
    pub fn of_path(path: &Path, dirs: &mut FolderHandles) -> io::Result<Self> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return fs::metadata(path).map(|m| Self::of(&m));
        };
        // Files arrive in walk order, so one open folder at a time serves them (and a tree of
        // thousands of folders never holds more than one handle per thread).
        let dir = match dirs {
            Some((open, handle)) if open == parent => &*handle,
            _ => {
                let handle = FolderHandle(rustix::fs::open(
                    parent,
                    os::FOLDER_HANDLE | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )?);
                &dirs.insert((parent.to_path_buf(), handle)).1
            }
        };
        os::stat_at(&dir.0, name, AtFlags::empty())
    }

    /// Stat `name` in the open folder `dir` without following a link: the entry itself, as
    /// it is in that very folder (nothing on a path can be swapped in between).
    pub fn at(dir: impl AsFd, name: &OsStr) -> io::Result<Self> {
        os::stat_at(dir, name, AtFlags::SYMLINK_NOFOLLOW)
    }

    /// What kind of entry was stat'ed.
    pub fn file_type(&self) -> rustix::fs::FileType {
        file_type(self.mode)
    }

    /// Whether `meta` (of an open file) is the very file this stat was taken of.
    pub fn same_file(&self, meta: &fs::Metadata) -> bool {
        meta.dev() == self.dev && meta.ino() == self.ino
    }

    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }

    /// The later of the last content change and the last status change.
    pub fn newest_ns(&self) -> i128 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

/// An open folder that entries are stat'ed through (nothing is read through it).
#[derive(Debug)]
pub struct FolderHandle(OwnedFd);

/// The folder [`Stat::of_path`] last opened, kept for the next file.
pub type FolderHandles = Option<(PathBuf, FolderHandle)>;

/// Swap two existing paths in one step, so that a crash leaves one or the other in place,
/// never neither. `Ok(false)` when the filesystem cannot exchange (the caller then falls back
/// to renames).
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e) if os::EXCHANGE_UNSUPPORTED.contains(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Create a symbolic link at `link` whose target is `target` (a relative target is relative to
/// the link's folder).
pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// How a process holds a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    Cwd,
    Exe,
    OpenFile,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Cwd => "cwd",
            How::Exe => "exe",
            How::OpenFile => "open file",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_through_folder_handles_matches_std_and_keeps_one_open() {
        let t = tempfile::tempdir().unwrap();
        let mut handles: FolderHandles = None;
        for d in ["a", "b", "c"] {
            fs::create_dir(t.path().join(d)).unwrap();
            for f in ["x.md", "y.md"] {
                let p = t.path().join(d).join(f);
                fs::write(&p, d).unwrap();
                let via_handle = Stat::of_path(&p, &mut handles).unwrap();
                assert_eq!(via_handle, Stat::of(&fs::metadata(&p).unwrap()));
                assert_eq!(
                    handles.as_ref().map(|(dir, _)| dir.clone()),
                    Some(t.path().join(d))
                );
            }
        }
    }

    #[test]
    fn stat_at_does_not_follow_links_and_knows_the_type() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("f"), "x").unwrap();
        std::os::unix::fs::symlink("f", t.path().join("l")).unwrap();
        let dir = fs::File::open(t.path()).unwrap();
        let link = Stat::at(&dir, OsStr::new("l")).unwrap();
        assert_eq!(link.file_type(), rustix::fs::FileType::Symlink);
        let file = Stat::at(&dir, OsStr::new("f")).unwrap();
        assert_eq!(file.file_type(), rustix::fs::FileType::RegularFile);
        assert_eq!(file, Stat::of(&fs::metadata(t.path().join("f")).unwrap()));
    }

    #[test]
    fn exchange_swaps_two_folders() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("from-a"), "").unwrap();
        fs::write(b.join("from-b"), "").unwrap();
        // A filesystem that cannot exchange says so rather than failing.
        if exchange(&a, &b).unwrap() {
            assert!(a.join("from-b").exists() && b.join("from-a").exists());
        }
    }

    #[test]
    fn flushing_a_tree_with_folders_and_links_succeeds() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("a/b")).unwrap();
        fs::write(t.path().join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink("missing", t.path().join("a/dangling")).unwrap();
        flush_tree(t.path()).unwrap();
    }

    #[test]
    fn mode_bits_round_trip_through_the_type() {
        assert_eq!(mode_bits(rustix::fs::Mode::from_raw_mode(0o755)), 0o755);
        assert_eq!(file_type(0o100644), rustix::fs::FileType::RegularFile);
        assert_eq!(file_type(0o040755), rustix::fs::FileType::Directory);
    }
}
