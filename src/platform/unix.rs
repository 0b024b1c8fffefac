//! What Linux and macOS share: rustix's `*at` calls on folder handles, `std::os::unix`'s
//! modes and owners, signals for process checks. What differs between them is in `os`
//! (`linux.rs`, `macos.rs`).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::os;
use super::{FolderHandles, How, Stat};

pub use os::{clone_file, flush_tree};

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

    /// Stat an open file.
    pub fn of_file(file: &File) -> io::Result<Self> {
        file.metadata().map(|m| Self::of(&m))
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
    pub fn at(dir: &Folder, name: &OsStr) -> io::Result<Self> {
        os::stat_at(&dir.0, name, AtFlags::SYMLINK_NOFOLLOW)
    }
}

/// An open folder that entries are stat'ed through (nothing is read through it).
#[derive(Debug)]
pub struct FolderHandle(OwnedFd);

/// An open, readable folder, reached without following a link.
#[derive(Debug)]
pub struct Folder(OwnedFd);

fn folder_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl Folder {
    /// Open the folder `path`; fails when `path` itself is a link (a link on the way to it is
    /// followed).
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(Self(rustix::fs::open(path, folder_flags(), Mode::empty())?))
    }

    /// Open the folder `name` in this one; fails when it is a link or not a folder.
    pub fn open_child(&self, name: &OsStr) -> io::Result<Self> {
        Ok(Self(rustix::fs::openat(
            self.0.as_fd(),
            name,
            folder_flags(),
            Mode::empty(),
        )?))
    }

    /// The names of the entries in this folder (without `.` and `..`), sorted.
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.0)? {
            let entry = entry?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name != "." && name != ".." {
                names.push(name.to_os_string());
            }
        }
        names.sort();
        Ok(names)
    }
}

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

/// Link `link` to the folder `target` (an absolute path that stays where it is, such as a
/// development checkout).
pub fn folder_link(target: &Path, link: &Path) -> io::Result<()> {
    symlink(target, link)
}

/// Flush a folder's entries (after a rename or create inside it) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Call `visit` with every path a process of our user (other than this one) holds.
pub fn scan_processes(visit: &mut dyn FnMut(i32, &Path, How)) {
    os::scan_processes(visit)
}

/// Whether a process with this id exists (signal 0; a process we may not signal still exists).
pub fn process_alive(pid: i32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return false;
    };
    !matches!(rustix::process::test_kill_process(pid), Err(Errno::SRCH))
}

/// The process umask (read once, and set back at once).
pub fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let old = rustix::process::umask(Mode::from_raw_mode(0o022));
        rustix::process::umask(old);
        os::mode_bits(old)
    })
}

/// The permission bits (and set-id/sticky bits) of an entry.
pub fn permissions(meta: &fs::Metadata) -> u32 {
    meta.permissions().mode() & 0o7777
}

/// The permission bits a file created with `mode` ends up with (the umask taken away).
pub fn created_mode(mode: u32) -> u32 {
    mode & !umask()
}

/// Create the new file `path` for writing, with `mode` (minus the umask); fails when it exists.
pub fn create_new_file(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

/// Give `file` exactly the permission bits `mode` (whatever the umask took away).
pub fn set_permissions(file: &File, mode: u32) -> io::Result<()> {
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Give the new file `f` the owner, group and permission bits of the file it replaces. Only
/// root may give a file away: a refused change of owner is not an error (the write goes on
/// with ours), as `cp -p` does.
pub fn keep_owner_and_mode(f: &File, old: &fs::Metadata) -> io::Result<()> {
    let new = f.metadata()?;
    if (new.uid(), new.gid()) != (old.uid(), old.gid()) {
        match std::os::unix::fs::fchown(f, Some(old.uid()), Some(old.gid())) {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                // Not allowed to give it away; at least keep the group when we belong to it.
                let _ = std::os::unix::fs::fchown(f, None, Some(old.gid()));
            }
            other => other?,
        }
    }
    // After the chown. Permission bits only: a set-id or sticky bit has no business on a JSON file.
    f.set_permissions(fs::Permissions::from_mode(old.mode() & 0o777))
}

/// Open `path` for reading without blocking (a FIFO or device must not hang the open; regular
/// files ignore the flag). Links are followed.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NONBLOCK | OFlags::CLOEXEC).bits() as i32)
        .open(path)
}

/// Open `path` for reading without following a link at its last component: a link gives an
/// error for which [`is_link_loop`] is true. Never blocks, as [`open_nonblocking`].
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC).bits() as i32)
        .open(path)
}

/// The names of the file at `path`, its size on disk and identity; a link at `path` is not
/// followed.
pub fn links_and_blocks(path: &Path) -> io::Result<super::Links> {
    links_in(path, &fs::symlink_metadata(path)?)
}

/// [`links_and_blocks`] of the file at `path` whose metadata (not following a link) is `meta`:
/// no further call here.
pub fn links_in(_path: &Path, meta: &fs::Metadata) -> io::Result<super::Links> {
    Ok(super::Links {
        count: meta.nlink(),
        disk: meta.blocks() * 512,
        id: (meta.dev(), meta.ino()),
    })
}

/// The longest file name the filesystem holding `dir` allows, when it says.
pub fn name_max(dir: &Path) -> Option<usize> {
    let n = rustix::fs::statvfs(dir).ok()?.f_namemax;
    usize::try_from(n).ok().filter(|&n| n > 0)
}

/// A link loop (or, from [`open_nofollow`], a link where none may be).
pub fn is_link_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(Errno::LOOP.raw_os_error())
}

/// A rename onto a folder that is not empty (or exists, as some systems say).
pub fn is_not_empty(e: &io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(Errno::NOTEMPTY.raw_os_error()) || code == Some(Errno::EXIST.raw_os_error())
}

/// A failure that another process holding the file for a moment causes (Windows' sharing
/// violations); Unix has none of those.
pub fn is_transient_sharing(_e: &io::Error) -> bool {
    false
}

/// The home folder (`$HOME`, else the password database) and the user's cache folder
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS).
pub fn user_dirs() -> Option<(PathBuf, PathBuf)> {
    let dirs = directories::BaseDirs::new()?;
    Some((
        dirs.home_dir().to_path_buf(),
        dirs.cache_dir().to_path_buf(),
    ))
}

pub use os::{MANAGED_SETTINGS_DIR, SECRETS_IN_FILE};

/// What to run to see a file's owner and permissions (named in "permission denied" hints).
pub const PERMISSIONS_COMMAND: &str = "`ls -ld`";

/// `sh -c <line>`, in a process group of its own so that [`kill_shell`] reaches whatever it
/// started.
pub fn shell(line: &str) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg(line).process_group(0);
    cmd
}

/// Stop a [`shell`] and everything in its process group.
pub fn kill_shell(child: &mut std::process::Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
}
