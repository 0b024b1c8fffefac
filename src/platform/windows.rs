//! Windows: std's file API with `FILE_FLAG_OPEN_REPARSE_POINT` where a link must not be
//! followed, and a few `windows-sys` calls for what std does not say (file index and volume,
//! change time, reparse tags, processes, free space).
//!
//! What differs from Unix, and why it is safe:
//! - A folder being walked is held open without `FILE_SHARE_DELETE`: while it is open, neither
//!   it nor a folder above it can be renamed or removed, so its entries are reached by path
//!   (Windows has no `openat`) and still come from that very folder.
//! - No exchange of two paths: [`exchange`] says so, and the caller moves the old folder aside
//!   first (a crash between the renames leaves the old content under its aside name, which the
//!   next run's staging sweep finds).
//! - No POSIX modes: files are 0644 (0444 when read-only), folders 0755, whatever a source
//!   says; executable bits are not applied, and listings record what the disk holds.
//! - Processes that use a folder are not listed ([`scan_processes`] finds none): Windows
//!   itself refuses to remove a folder that is a process's working folder or holds an open
//!   file, and the removal fails with a message.
//! - Links: where the user may not create symbolic links (no Developer Mode, not an
//!   administrator), [`symlink`] is refused with `PermissionDenied` and the cache writers copy
//!   the target in the link's place (with a note); [`folder_link`] (`plugin link`'s link to a
//!   checkout) becomes a junction.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::mem::{size_of, zeroed};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_CANT_RESOLVE_FILENAME,
    ERROR_DIR_NOT_EMPTY, ERROR_FILE_EXISTS, ERROR_LOCK_VIOLATION, ERROR_PRIVILEGE_NOT_HELD,
    ERROR_SHARING_VIOLATION, FILETIME, HANDLE, STILL_ACTIVE,
};
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_READONLY,
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_ATTRIBUTE_TAG_INFO, FILE_BASIC_INFO,
    FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, FILE_INFO_BY_HANDLE_CLASS,
    FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ,
    FILE_SHARE_WRITE, FileAttributeTagInfo, FileBasicInfo, GetFileInformationByHandle,
    GetFileInformationByHandleEx,
};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
};

use super::{FolderHandles, How, Kind, Stat};

/// Reparse tags with this bit name another file (symbolic links, junctions): links to us.
/// Others (OneDrive placeholders, deduplicated files) are the files themselves.
const NAME_SURROGATE: u32 = 0x2000_0000;

/// 100-nanosecond intervals from 1601-01-01 to 1970-01-01.
const EPOCH_DIFFERENCE: i64 = 116_444_736_000_000_000;

fn unix_ns(intervals: i64) -> i128 {
    i128::from(intervals - EPOCH_DIFFERENCE) * 100
}

fn filetime(t: FILETIME) -> i64 {
    (i64::from(t.dwHighDateTime) << 32) | i64::from(t.dwLowDateTime)
}

/// Open `path` to read what it is (no data access, sharing everything);
/// `FILE_FLAG_BACKUP_SEMANTICS` lets folders open too.
fn open_attributes(path: &Path, follow: bool) -> io::Result<File> {
    let reparse = if follow {
        0
    } else {
        FILE_FLAG_OPEN_REPARSE_POINT
    };
    OpenOptions::new()
        .access_mode(FILE_READ_ATTRIBUTES)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | reparse)
        .open(path)
}

/// What `GetFileInformationByHandleEx` says of class `class` about the open `handle`; `T` must
/// be the structure that class fills.
fn info_by_handle<T: Copy>(handle: HANDLE, class: FILE_INFO_BY_HANDLE_CLASS) -> io::Result<T> {
    // SAFETY: the buffer is a zeroed `T` (plain integers), passed with its own size; the caller
    // names the class that fills a `T`, and `handle` is open while the caller holds its file.
    unsafe {
        let mut value: T = zeroed();
        if GetFileInformationByHandleEx(
            handle,
            class,
            (&raw mut value).cast(),
            size_of::<T>() as u32,
        ) == 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(value)
    }
}

impl Stat {
    /// Stat an open file (or folder, or link opened as itself).
    pub fn of_file(file: &File) -> io::Result<Self> {
        let handle = file.as_raw_handle() as HANDLE;
        let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { zeroed() };
        // SAFETY: `handle` is open for as long as `file` lives; `info` is the type the call fills.
        if unsafe { GetFileInformationByHandle(handle, &mut info) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let basic: FILE_BASIC_INFO = info_by_handle(handle, FileBasicInfo)?;
        let tag = if info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
            info_by_handle::<FILE_ATTRIBUTE_TAG_INFO>(handle, FileAttributeTagInfo)?.ReparseTag
        } else {
            0
        };
        let attributes = info.dwFileAttributes;
        let mode = if attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 && tag & NAME_SURROGATE != 0 {
            0o120777
        } else if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
            0o040755
        } else if attributes & FILE_ATTRIBUTE_READONLY != 0 {
            0o100444
        } else {
            0o100644
        };
        // Change time is 0 where the filesystem keeps none (FAT): the write time stands in.
        let change = if basic.ChangeTime == 0 {
            filetime(info.ftLastWriteTime)
        } else {
            basic.ChangeTime
        };
        Ok(Stat {
            dev: u64::from(info.dwVolumeSerialNumber),
            ino: (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
            size: (u64::from(info.nFileSizeHigh) << 32) | u64::from(info.nFileSizeLow),
            mtime_ns: unix_ns(filetime(info.ftLastWriteTime)),
            ctime_ns: unix_ns(change),
            mode,
        })
    }

    /// Stat `path`, following links. Its folder is held open in `dirs` meanwhile, so that it
    /// is not renamed between the entries stat'ed in it.
    pub fn of_path(path: &Path, dirs: &mut FolderHandles) -> io::Result<Self> {
        if let Some(parent) = path.parent()
            && dirs.as_ref().is_none_or(|(open, _)| open != parent)
            && let Ok(folder) = Folder::open(parent)
        {
            *dirs = Some((parent.to_path_buf(), FolderHandle(folder)));
        }
        Self::of_file(&open_attributes(path, true)?)
    }

    /// Stat `name` in the open folder `dir` without following a link.
    pub fn at(dir: &Folder, name: &OsStr) -> io::Result<Self> {
        Self::of_file(&open_attributes(&dir.path.join(name), false)?)
    }
}

/// An open folder that entries are stat'ed in.
#[derive(Debug)]
pub struct FolderHandle(#[allow(dead_code)] Folder);

/// An open folder, reached without following a link (see the module documentation for why
/// its entries are safe to reach by path).
#[derive(Debug)]
pub struct Folder {
    path: PathBuf,
    _held: File,
}

impl Folder {
    /// Open the folder `path`; fails when `path` itself is a link or junction.
    pub fn open(path: &Path) -> io::Result<Self> {
        let held = OpenOptions::new()
            .access_mode(FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES)
            .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path)?;
        match Stat::of_file(&held)?.kind() {
            Kind::Dir => Ok(Self {
                path: path.to_path_buf(),
                _held: held,
            }),
            Kind::Link => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a link, where a folder was expected",
            )),
            _ => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "it is not a folder",
            )),
        }
    }

    /// Open the folder `name` in this one; fails when it is a link or not a folder.
    pub fn open_child(&self, name: &OsStr) -> io::Result<Self> {
        Self::open(&self.path.join(name))
    }

    /// The names of the entries in this folder, sorted.
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let mut names = fs::read_dir(&self.path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }
}

/// Windows cannot swap two paths in one step.
pub fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Create a symbolic link at `link` to `target` (relative to the link's folder), where the user
/// may create them (Developer Mode, or an administrator); else `PermissionDenied`, on which the
/// cache writers copy the target in the link's place. (No junction here: a junction holds an
/// absolute target, which would still name the staging folder once it is renamed into place.)
pub fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (target, link) = (target.as_ref(), link.as_ref());
    let resolved = match link.parent() {
        Some(dir) => dir.join(target),
        None => target.to_path_buf(),
    };
    let made = if fs::metadata(&resolved).is_ok_and(|m| m.is_dir()) {
        std::os::windows::fs::symlink_dir(target, link)
    } else {
        std::os::windows::fs::symlink_file(target, link)
    };
    // A link the call says it made but that is not there (wine) is refused as well.
    let made = made.and_then(|()| {
        fs::symlink_metadata(link)
            .map(drop)
            .map_err(|_| io::Error::from_raw_os_error(ERROR_PRIVILEGE_NOT_HELD as i32))
    });
    match made {
        Err(e) if e.raw_os_error() == Some(ERROR_PRIVILEGE_NOT_HELD as i32) => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "Windows allows symbolic links only in Developer Mode (Settings > System > For \
             developers) or to administrators",
        )),
        other => other,
    }
}

/// Link `link` to the folder `target` (an absolute path that stays where it is, such as a
/// development checkout): a symbolic link where allowed, else a junction, which needs no
/// privilege.
pub fn folder_link(target: &Path, link: &Path) -> io::Result<()> {
    match symlink(target, link) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            junction::create(std::path::absolute(target)?, link)
        }
        other => other,
    }
}

/// Flush what was written under `dir`: every file's data (Windows has no call for a whole
/// filesystem, and folders cannot be flushed).
pub fn flush_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() && !kind.is_symlink() {
            flush_tree(&entry.path())?;
        } else if kind.is_file() {
            // FlushFileBuffers needs write access; opening for write changes nothing.
            OpenOptions::new()
                .write(true)
                .open(entry.path())?
                .sync_all()?;
        }
    }
    Ok(())
}

/// Folders cannot be flushed on Windows: renames inside one are durable once the call returns
/// on NTFS (its journal), so there is nothing to do.
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Windows reports no processes here (see the module documentation).
pub fn scan_processes(_visit: &mut dyn FnMut(i32, &Path, How)) {}

/// Whether a process with this id is running.
pub fn process_alive(pid: i32) -> bool {
    let Ok(pid) = u32::try_from(pid) else {
        return false;
    };
    // SAFETY: plain calls on a handle this function opens and closes.
    unsafe {
        let handle = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if handle.is_null() {
            // Refused access means it exists; anything else (invalid id) means gone.
            return io::Error::last_os_error().raw_os_error() == Some(ERROR_ACCESS_DENIED as i32);
        }
        let mut code = 0u32;
        let ok = GetExitCodeProcess(handle, &mut code) != 0;
        CloseHandle(handle);
        ok && code == STILL_ACTIVE as u32
    }
}

/// Windows has no umask: files come out as asked (and without mode bits anyway).
pub fn umask() -> u32 {
    0o022
}

/// What the tool records as an entry's permission bits (see the module documentation).
pub fn permissions(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

/// The permission bits a file created with `mode` ends up with, as [`permissions`] reads them
/// back: always 0644 (an executable bit is neither applied nor recorded, so that a listing taken
/// at install time matches the folder listed again later).
pub fn created_mode(_mode: u32) -> u32 {
    0o644
}

/// Create the new file `path` for writing (`mode` cannot be applied); fails when it exists.
pub fn create_new_file(path: &Path, _mode: u32) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Windows has no copy-on-write clone of a file that std or this tool reaches (ReFS block
/// cloning is left out): the store falls back to a copy.
pub fn clone_file(_src: &Path, _dst: &Path, _mode: u32) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// [`links_and_blocks`] (Windows' metadata holds no link count: the file is opened).
pub fn links_in(path: &Path, _meta: &fs::Metadata) -> io::Result<super::Links> {
    links_and_blocks(path)
}

/// The names of the file at `path`, its size and identity; a link at `path` is not followed.
pub fn links_and_blocks(path: &Path) -> io::Result<super::Links> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)?;
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { zeroed() };
    // SAFETY: the handle is open for as long as `file` lives; `info` is the type the call fills.
    if unsafe { GetFileInformationByHandle(file.as_raw_handle() as HANDLE, &mut info) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(super::Links {
        count: u64::from(info.nNumberOfLinks),
        disk: (u64::from(info.nFileSizeHigh) << 32) | u64::from(info.nFileSizeLow),
        id: (
            u64::from(info.dwVolumeSerialNumber),
            (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
        ),
    })
}

/// Nothing to apply on Windows.
pub fn set_permissions(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// A replaced file keeps its read-only flag; owners are left to the folder's inheritance.
pub fn keep_owner_and_mode(f: &File, old: &fs::Metadata) -> io::Result<()> {
    if old.permissions().readonly() {
        let mut p = f.metadata()?.permissions();
        p.set_readonly(true);
        f.set_permissions(p)?;
    }
    Ok(())
}

/// Open `path` for reading (Windows has no FIFOs in its filesystem to block on).
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// Open `path` for reading without following a link at its last component: a link is opened
/// as itself, which its metadata then shows.
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)
}

/// NTFS, ReFS and exFAT all allow 255 UTF-16 units.
pub fn name_max(_dir: &Path) -> Option<usize> {
    Some(255)
}

/// A chain of links that does not end (what resolving a cycle gives).
pub fn is_link_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(ERROR_CANT_RESOLVE_FILENAME as i32)
}

/// A rename onto a folder that exists (Windows says "access denied" for a folder).
pub fn is_not_empty(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error().map(|c| c as u32),
        Some(ERROR_DIR_NOT_EMPTY | ERROR_ALREADY_EXISTS | ERROR_FILE_EXISTS | ERROR_ACCESS_DENIED)
    )
}

/// Another process (an antivirus or indexer scanning what was just written) holds the file
/// for a moment.
pub fn is_transient_sharing(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error().map(|c| c as u32),
        Some(ERROR_SHARING_VIOLATION | ERROR_LOCK_VIOLATION | ERROR_ACCESS_DENIED)
    )
}

/// Where Claude Code reads managed settings on Windows.
pub const MANAGED_SETTINGS_DIR: &str = r"C:\Program Files\ClaudeCode";

/// Claude Code keeps plugin secrets in `<config dir>\\.credentials.json` on Windows (protected
/// by the user profile's permissions).
pub const SECRETS_IN_FILE: bool = true;

/// The home folder and the user's cache folder: `%USERPROFILE%` and `%LOCALAPPDATA%` when set
/// (as Claude Code, through Node's `os.homedir()`, reads them), else what Windows says.
pub fn user_dirs() -> Option<(PathBuf, PathBuf)> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let known = directories::BaseDirs::new();
    let home = env("USERPROFILE").or_else(|| Some(known.as_ref()?.home_dir().to_path_buf()))?;
    let cache = env("LOCALAPPDATA")
        .or_else(|| Some(known.as_ref()?.cache_dir().to_path_buf()))
        .unwrap_or_else(|| home.join("AppData").join("Local"));
    Some((home, cache))
}

/// What to run to see a file's owner and permissions (named in "access denied" hints).
pub const PERMISSIONS_COMMAND: &str = "`icacls`, or Properties > Security";

/// `cmd.exe /d /s /c <line>`, without a console window.
pub fn shell(line: &str) -> std::process::Command {
    use std::os::windows::process::CommandExt;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    let mut cmd = std::process::Command::new("cmd.exe");
    cmd.raw_arg(format!("/d /s /c \"{line}\""))
        .creation_flags(CREATE_NO_WINDOW);
    cmd
}

/// Stop a [`shell`] (the processes it started may outlive it: their output is not waited for).
pub fn kill_shell(child: &mut std::process::Child) {
    let _ = child.kill();
}
