//! Linux: `statx` through `O_PATH` folder handles, `syncfs`, `renameat2(RENAME_EXCHANGE)`,
//! `/proc` for the processes using a folder.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fd::AsFd;
use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags, statx};
use rustix::io::Errno;

use super::{How, Stat};

/// The errors of `renameat2(RENAME_EXCHANGE)` on a filesystem (or kernel) that cannot exchange.
pub(super) const EXCHANGE_UNSUPPORTED: &[Errno] = &[Errno::INVAL, Errno::NOSYS, Errno::OPNOTSUPP];

/// A handle that can only be used as the folder of `*at` calls: opening it checks no read
/// permission and costs less than a readable one.
pub(super) const FOLDER_HANDLE: OFlags = OFlags::PATH;

pub(super) fn stat_at(dir: impl AsFd, name: &OsStr, flags: AtFlags) -> io::Result<Stat> {
    let x = statx(dir, name, flags, StatxFlags::BASIC_STATS)?;
    let ns = |t: rustix::fs::StatxTimestamp| {
        i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
    };
    Ok(Stat {
        // As std computes `Metadata::dev` from statx, so remembered entries still match.
        dev: rustix::fs::makedev(x.stx_dev_major, x.stx_dev_minor),
        ino: x.stx_ino,
        size: x.stx_size,
        mtime_ns: ns(x.stx_mtime),
        ctime_ns: ns(x.stx_ctime),
        mode: u32::from(x.stx_mode),
    })
}

/// Flush what was written under `dir`: one syncfs of its filesystem instead of an fsync per
/// file.
pub fn flush_tree(dir: &Path) -> io::Result<()> {
    let f = fs::File::open(dir)?;
    Ok(rustix::fs::syncfs(&f)?)
}

/// Make `dst` (new) a copy-on-write clone of `src` (`FICLONE`: btrfs, XFS, bcachefs…), with
/// the permission bits `mode`. Fails where the filesystem cannot share blocks; nothing is left
/// at `dst` then.
pub fn clone_file(src: &Path, dst: &Path, mode: u32) -> io::Result<()> {
    let from = fs::File::open(src)?;
    let to = super::unix::create_new_file(dst, mode)?;
    let cloned = rustix::fs::ioctl_ficlone(&to, &from)
        .map_err(io::Error::from)
        .and_then(|()| super::unix::set_permissions(&to, mode));
    if cloned.is_err() {
        drop(to);
        let _ = fs::remove_file(dst);
    }
    cloned
}

/// A mode as `u32` (`mode_t` is already one here).
pub(super) fn mode_bits(mode: Mode) -> u32 {
    mode.as_raw_mode()
}

/// Call `visit` with every path a process of our user (other than this one) holds, lowest
/// process id first: `/proc/<pid>/{cwd,exe,fd/*}`. Entries that vanish or cannot be read
/// meanwhile are skipped.
pub(super) fn scan_processes(visit: &mut dyn FnMut(i32, &Path, How)) {
    let me = std::process::id();
    let uid = rustix::process::getuid().as_raw();
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&pid| pid != me)
        .collect();
    pids.sort_unstable();
    for pid in pids {
        let base = PathBuf::from(format!("/proc/{pid}"));
        if fs::metadata(&base).map(|m| m.uid()).ok() != Some(uid) {
            continue;
        }
        let Ok(pid) = i32::try_from(pid) else {
            continue;
        };
        for (link, how) in [("cwd", How::Cwd), ("exe", How::Exe)] {
            if let Ok(target) = fs::read_link(base.join(link)) {
                visit(pid, &target, how);
            }
        }
        for fd in fs::read_dir(base.join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(target) = fs::read_link(fd.path()) {
                visit(pid, &target, How::OpenFile);
            }
        }
    }
}

/// Where Claude Code reads managed settings on Linux.
pub const MANAGED_SETTINGS_DIR: &str = "/etc/claude-code";

/// Claude Code keeps plugin secrets in `<config dir>/.credentials.json` (mode 0600) on Linux.
pub const SECRETS_IN_FILE: bool = true;
