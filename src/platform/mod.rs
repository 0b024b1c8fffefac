//! The operating-system primitives the tool needs, with one implementation per OS; nothing
//! outside this module names an OS.
//!
//! - [`Stat`]: what `stat` says about an entry, taken through an open handle of its folder
//!   ([`Stat::of_path`], [`Stat::at`]) or of the file itself ([`Stat::of_file`]).
//! - [`Folder`]: an open folder, walked without following links (the plugin copy reads a
//!   source that may change under it through these, never by path).
//! - [`flush_tree`], [`sync_dir`]: make what was written durable before it is published.
//! - [`exchange`]: swap two existing paths in one step, where the filesystem can.
//! - [`clone_file`]: a copy-on-write clone, where the filesystem can; [`links_and_blocks`]: a
//!   file's hard-link count and size on disk (the content store's bookkeeping).
//! - [`scan_processes`]: the paths running processes hold, for "is this folder in use".
//! - [`symlink`], [`folder_link`]: create a symbolic link (for a link to a fixed folder, a
//!   junction on Windows where links are not allowed).
//! - File modes ([`permissions`], [`create_new_file`], [`created_mode`], [`set_permissions`],
//!   [`umask`]),
//!   owners ([`keep_owner_and_mode`]), processes ([`process_alive`], [`shell`], [`kill_shell`]), the filesystem's longest
//!   name ([`name_max`]), and the OS's error codes ([`is_link_loop`], [`is_not_empty`],
//!   [`is_transient_sharing`]).
//! - Where things are: the home and cache folders ([`user_dirs`]), Claude Code's managed
//!   settings folder ([`MANAGED_SETTINGS_DIR`]), the tool that shows permissions
//!   ([`PERMISSIONS_COMMAND`]).
//!
//! `unix.rs` holds what Linux and macOS share (rustix, `std::os::unix`); `linux.rs` and
//! `macos.rs` what differs between them; `windows.rs` the Windows side (std plus a few
//! `windows-sys` calls).

use std::path::PathBuf;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as os;
#[cfg(any(target_os = "linux", target_os = "macos"))]
mod unix;
#[cfg(any(target_os = "linux", target_os = "macos"))]
use unix as imp;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
compile_error!("no platform implementation for this operating system (src/platform/)");

pub use imp::{
    Folder, MANAGED_SETTINGS_DIR, PERMISSIONS_COMMAND, SECRETS_IN_FILE, clone_file,
    create_new_file, created_mode, exchange, flush_tree, folder_link, is_link_loop, is_not_empty,
    is_transient_sharing, keep_owner_and_mode, kill_shell, links_and_blocks, links_in, name_max,
    open_nofollow, open_nonblocking, permissions, process_alive, scan_processes, set_permissions,
    shell, symlink, sync_dir, umask, user_dirs,
};

/// What `stat` says about an entry, as the stat cache remembers and compares it. On Windows
/// `dev` is the volume serial number, `ino` the file index, and `mode` is made up from the
/// attributes (folder 040755, link 0120777, file 0100644 or 0100444 when read-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub mode: u32,
}

/// The names a file has (hard links), what it takes on disk, and which file it is (device and
/// inode; on Windows volume serial number and file index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Links {
    pub count: u64,
    /// Bytes on disk (on Windows its size: the size on disk of compressed or sparse files is
    /// not asked for).
    pub disk: u64,
    pub id: (u64, u64),
}

/// The kinds of entry the tool tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A symbolic link (on Windows also a junction: any name-surrogate reparse point).
    Link,
    /// A FIFO, socket or device.
    Other,
}

const S_IFMT: u32 = 0o170000;

impl Stat {
    /// What kind of entry was stat'ed.
    pub fn kind(&self) -> Kind {
        match self.mode & S_IFMT {
            0o100000 => Kind::File,
            0o040000 => Kind::Dir,
            0o120000 => Kind::Link,
            _ => Kind::Other,
        }
    }

    /// Whether `other` (taken of an open file) is the very file this stat was taken of.
    pub fn same_file(&self, other: &Stat) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }

    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }

    /// The later of the last content change and the last status change.
    pub fn newest_ns(&self) -> i128 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

/// The folder [`Stat::of_path`] last opened, kept for the next file.
pub type FolderHandles = Option<(PathBuf, imp::FolderHandle)>;

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
    use std::ffi::OsStr;
    use std::fs;

    fn stat_of(path: &std::path::Path) -> Stat {
        Stat::of_file(&fs::File::open(path).unwrap()).unwrap()
    }

    #[test]
    fn stat_through_folder_handles_matches_the_open_file_and_keeps_one_open() {
        let t = tempfile::tempdir().unwrap();
        let mut handles: FolderHandles = None;
        for d in ["a", "b", "c"] {
            fs::create_dir(t.path().join(d)).unwrap();
            for f in ["x.md", "y.md"] {
                let p = t.path().join(d).join(f);
                fs::write(&p, d).unwrap();
                let via_handle = Stat::of_path(&p, &mut handles).unwrap();
                assert_eq!(via_handle, stat_of(&p));
                assert_eq!(via_handle.kind(), Kind::File);
                assert_eq!(
                    handles.as_ref().map(|(dir, _)| dir.clone()),
                    Some(t.path().join(d))
                );
            }
        }
    }

    #[test]
    fn a_folder_lists_its_names_sorted_and_stats_them_without_following_links() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("f"), "x").unwrap();
        fs::create_dir(t.path().join("d")).unwrap();
        // Where links cannot be made (wine says yes and makes none), only the rest is checked.
        let linked = symlink("f", t.path().join("l")).is_ok()
            && fs::symlink_metadata(t.path().join("l")).is_ok();
        let dir = Folder::open(t.path()).unwrap();
        let mut want = vec!["d", "f"];
        if linked {
            want.push("l");
            let link = Stat::at(&dir, OsStr::new("l")).unwrap();
            assert_eq!(link.kind(), Kind::Link);
            // A link is not a folder to walk into.
            assert!(dir.open_child(OsStr::new("l")).is_err());
        }
        assert_eq!(dir.names().unwrap(), want);
        let file = Stat::at(&dir, OsStr::new("f")).unwrap();
        assert_eq!(file.kind(), Kind::File);
        assert_eq!(file, stat_of(&t.path().join("f")));
        assert!(file.same_file(&stat_of(&t.path().join("f"))));
        let sub = dir.open_child(OsStr::new("d")).unwrap();
        assert!(sub.names().unwrap().is_empty());
        assert_eq!(Stat::at(&dir, OsStr::new("d")).unwrap().kind(), Kind::Dir);
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
        } else {
            assert!(a.join("from-a").exists() && b.join("from-b").exists());
        }
    }

    #[test]
    fn flushing_a_tree_with_folders_and_links_succeeds() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("a/b")).unwrap();
        fs::write(t.path().join("a/b/f"), "x").unwrap();
        let _ = symlink("missing", t.path().join("a/dangling"));
        flush_tree(t.path()).unwrap();
        sync_dir(t.path()).unwrap();
    }

    #[test]
    fn kinds_come_from_the_mode() {
        let st = |mode| Stat {
            dev: 0,
            ino: 0,
            size: 0,
            mtime_ns: 0,
            ctime_ns: 0,
            mode,
        };
        assert_eq!(st(0o100644).kind(), Kind::File);
        assert_eq!(st(0o040755).kind(), Kind::Dir);
        assert_eq!(st(0o120777).kind(), Kind::Link);
        assert_eq!(st(0o010644).kind(), Kind::Other);
        assert_eq!(st(0o100755).permissions(), 0o755);
    }

    #[test]
    fn this_process_is_alive_and_a_new_file_is_created_once() {
        assert!(process_alive(std::process::id() as i32));
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("new");
        let f = create_new_file(&p, 0o644).unwrap();
        drop(f);
        assert!(create_new_file(&p, 0o644).is_err());
        assert_eq!(permissions(&fs::metadata(&p).unwrap()) & 0o600, 0o600);
    }
}
