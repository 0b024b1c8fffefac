//! macOS: `fstatat` through read-only folder handles, `renameatx_np(RENAME_SWAP)` (APFS),
//! `fsync` of every entry plus one `F_FULLFSYNC` instead of `syncfs`, libproc for the processes
//! using a folder.
//!
//! Compiled and type-checked on Linux (`scripts/cross.sh`); its unit tests run only on a Mac.

use std::ffi::{CStr, OsStr};
use std::fs;
use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fd::AsFd;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::{How, Stat};

/// The errors of `renameatx_np(RENAME_SWAP)` where it cannot swap: `ENOTSUP` on a filesystem
/// without it (HFS+, FAT, SMB), `ENOSYS` before macOS 10.12 (rustix's answer when the call is
/// missing), `EINVAL` as on Linux.
pub(super) const EXCHANGE_UNSUPPORTED: &[Errno] =
    &[Errno::NOTSUP, Errno::OPNOTSUPP, Errno::NOSYS, Errno::INVAL];

/// macOS has no `O_PATH`: a read-only folder handle (the folders stat'ed through it are the
/// ones being listed, so they are readable anyway).
pub(super) const FOLDER_HANDLE: OFlags = OFlags::RDONLY;

/// `fstatat`, converted as std's `MetadataExt` converts `stat`, so that a stat taken here
/// equals one taken through `fs::metadata`.
pub(super) fn stat_at(dir: impl AsFd, name: &OsStr, flags: AtFlags) -> io::Result<Stat> {
    let st = rustix::fs::statat(dir, name, flags)?;
    Ok(Stat {
        dev: st.st_dev as u64,
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime_ns: i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec),
        ctime_ns: i128::from(st.st_ctime) * 1_000_000_000 + i128::from(st.st_ctime_nsec),
        mode: u32::from(st.st_mode),
    })
}

/// Flush what was written under `dir`. macOS has no `syncfs`, and its `fsync` hands the data
/// to the drive without making the drive write its cache. So every file and folder of the
/// tree is `fsync`ed (each entry's data and names reach the drive), then one
/// `fcntl(F_FULLFSYNC)` on `dir` makes the drive flush its whole cache, which holds all of
/// them: the cost of a full flush once, not once per file. Links are not opened (their
/// folder's `fsync` covers them).
pub fn flush_tree(dir: &Path) -> io::Result<()> {
    fsync_entries(dir)?;
    let root = fs::File::open(dir)?;
    match rustix::fs::fcntl_fullfsync(&root) {
        Ok(()) => Ok(()),
        // A filesystem without it (some network and FUSE ones): the fsyncs are all there is.
        Err(Errno::NOTSUP | Errno::OPNOTSUPP | Errno::INVAL | Errno::NOTTY) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn fsync_entries(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            fsync_entries(&entry.path())?;
        } else if kind.is_file() {
            fs::File::open(entry.path())?.sync_all()?;
        }
    }
    fs::File::open(dir)?.sync_all()
}

/// Make `dst` (new) a copy-on-write clone of `src` (`clonefile`, APFS), with the permission
/// bits `mode`. Fails where the filesystem cannot share blocks; nothing is left at `dst` then.
pub fn clone_file(src: &Path, dst: &Path, mode: u32) -> io::Result<()> {
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (from, to) = (c(src)?, c(dst)?);
    // SAFETY: both are NUL-terminated paths that live through the call.
    // <sys/clonefile.h>'s CLONE_NOFOLLOW (the libc crate does not name it).
    const CLONE_NOFOLLOW: u32 = 0x0001;
    if unsafe { libc::clonefile(from.as_ptr(), to.as_ptr(), CLONE_NOFOLLOW) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let set = fs::File::open(dst).and_then(|f| super::unix::set_permissions(&f, mode));
    if set.is_err() {
        let _ = fs::remove_file(dst);
    }
    set
}

/// A mode as `u32` (`mode_t` is `u16` here).
pub(super) fn mode_bits(mode: Mode) -> u32 {
    u32::from(mode.as_raw_mode())
}

/// Call `visit` with every path a process of our user (other than this one) holds, lowest
/// process id first, through libproc: the working folder (`PROC_PIDVNODEPATHINFO`), the
/// executable (`proc_pidpath`) and every open file or folder (`PROC_PIDLISTFDS`, then
/// `PROC_PIDFDVNODEPATHINFO` for each vnode). Processes that exit or refuse meanwhile are
/// skipped, as are other users' (macOS refuses their file lists to a non-root caller anyway).
pub(super) fn scan_processes(visit: &mut dyn FnMut(i32, &Path, How)) {
    let me = std::process::id();
    let uid = rustix::process::getuid().as_raw();
    let mut pids: Vec<i32> = all_pids()
        .into_iter()
        .filter(|&pid| pid > 0 && pid.unsigned_abs() != me)
        .collect();
    pids.sort_unstable();
    for pid in pids {
        let owner = pid_info::<libc::proc_bsdinfo>(pid, libc::PROC_PIDTBSDINFO);
        if owner.map(|b| b.pbi_uid) != Some(uid) {
            continue;
        }
        if let Some(v) = pid_info::<libc::proc_vnodepathinfo>(pid, libc::PROC_PIDVNODEPATHINFO)
            && let Some(cwd) = vnode_path(&v.pvi_cdir)
        {
            visit(pid, &cwd, How::Cwd);
        }
        if let Some(exe) = exe_path(pid) {
            visit(pid, &exe, How::Exe);
        }
        for fd in open_fds(pid) {
            if fd.proc_fdtype != libc::PROX_FDTYPE_VNODE as u32 {
                continue;
            }
            if let Some(v) = fd_vnode_info(pid, fd.proc_fd)
                && let Some(path) = vnode_path(&v.pvip)
            {
                visit(pid, &path, How::OpenFile);
            }
        }
    }
}

/// `PROC_PIDFDVNODEPATHINFO` of `sys/proc_info.h` (not in the libc crate).
const PROC_PIDFDVNODEPATHINFO: libc::c_int = 2;

/// `struct proc_fileinfo` of `sys/proc_info.h`.
#[repr(C)]
#[derive(Clone, Copy)]
struct ProcFileInfo {
    fi_openflags: u32,
    fi_status: u32,
    fi_offset: libc::off_t,
    fi_type: i32,
    fi_guardflags: u32,
}

/// `struct vnode_fdinfowithpath` of `sys/proc_info.h`.
#[repr(C)]
#[derive(Clone, Copy)]
struct VnodeFdInfoWithPath {
    pfi: ProcFileInfo,
    pvip: libc::vnode_info_path,
}

/// Every process id (the list may be stale by the time it is used).
fn all_pids() -> Vec<i32> {
    // SAFETY: a null buffer asks for the number of processes only.
    let n = unsafe { libc::proc_listallpids(std::ptr::null_mut(), 0) };
    let Ok(n) = usize::try_from(n) else {
        return Vec::new();
    };
    // Room for processes started between the two calls.
    let mut pids = vec![0i32; n + 64];
    let bytes = i32::try_from(pids.len() * size_of::<i32>()).unwrap_or(i32::MAX);
    // SAFETY: the buffer holds `bytes` bytes of pids.
    let got = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast(), bytes) };
    pids.truncate(usize::try_from(got).unwrap_or(0));
    pids
}

/// One `proc_pidinfo` record of type `T`, when the process answers with a whole one.
fn pid_info<T: Copy>(pid: i32, flavor: libc::c_int) -> Option<T> {
    let mut out = MaybeUninit::<T>::zeroed();
    let size = i32::try_from(size_of::<T>()).ok()?;
    // SAFETY: `out` has room for `size` bytes; the kernel writes at most that many.
    let got = unsafe { libc::proc_pidinfo(pid, flavor, 0, out.as_mut_ptr().cast(), size) };
    // SAFETY: a return of the full size means the record was written whole (and the plain
    // C struct was zeroed before).
    (got == size).then(|| unsafe { out.assume_init() })
}

fn fd_vnode_info(pid: i32, fd: i32) -> Option<VnodeFdInfoWithPath> {
    let mut out = MaybeUninit::<VnodeFdInfoWithPath>::zeroed();
    let size = i32::try_from(size_of::<VnodeFdInfoWithPath>()).ok()?;
    // SAFETY: as in `pid_info`.
    let got = unsafe {
        libc::proc_pidfdinfo(
            pid,
            fd,
            PROC_PIDFDVNODEPATHINFO,
            out.as_mut_ptr().cast(),
            size,
        )
    };
    // SAFETY: as in `pid_info`.
    (got == size).then(|| unsafe { out.assume_init() })
}

/// The open file descriptors of `pid`.
fn open_fds(pid: i32) -> Vec<libc::proc_fdinfo> {
    // SAFETY: a null buffer asks for the size of the list in bytes.
    let bytes =
        unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, std::ptr::null_mut(), 0) };
    let Ok(bytes) = usize::try_from(bytes) else {
        return Vec::new();
    };
    // Room for files opened between the two calls.
    let mut fds = vec![
        libc::proc_fdinfo {
            proc_fd: 0,
            proc_fdtype: 0
        };
        bytes / size_of::<libc::proc_fdinfo>() + 16
    ];
    let room = i32::try_from(fds.len() * size_of::<libc::proc_fdinfo>()).unwrap_or(i32::MAX);
    // SAFETY: the buffer holds `room` bytes of records.
    let got =
        unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, fds.as_mut_ptr().cast(), room) };
    fds.truncate(usize::try_from(got).unwrap_or(0) / size_of::<libc::proc_fdinfo>());
    fds
}

fn exe_path(pid: i32) -> Option<PathBuf> {
    let mut buf = vec![0u8; libc::PROC_PIDPATHINFO_MAXSIZE as usize];
    let room = u32::try_from(buf.len()).ok()?;
    // SAFETY: the buffer holds `room` bytes.
    let len = unsafe { libc::proc_pidpath(pid, buf.as_mut_ptr().cast(), room) };
    buf.truncate(usize::try_from(len).ok().filter(|&n| n > 0)?);
    Some(PathBuf::from(OsStr::from_bytes(&buf)))
}

/// The path of a vnode record (NUL-terminated in a `MAXPATHLEN` array); `None` when empty.
fn vnode_path(v: &libc::vnode_info_path) -> Option<PathBuf> {
    // SAFETY: `vip_path` is a plain `[[c_char; 32]; 32]`, the same bytes as `[u8; 1024]`.
    let bytes: &[u8; 1024] = unsafe { &*(&raw const v.vip_path).cast() };
    let path = CStr::from_bytes_until_nul(bytes).ok()?.to_bytes();
    (!path.is_empty()).then(|| PathBuf::from(OsStr::from_bytes(path)))
}

/// Where Claude Code reads managed settings on macOS.
pub const MANAGED_SETTINGS_DIR: &str = "/Library/Application Support/ClaudeCode";

/// Claude Code keeps plugin secrets in the login keychain on macOS, which this build does not
/// write: `configure` refuses sensitive values there (set them in Claude Code).
pub const SECRETS_IN_FILE: bool = false;
