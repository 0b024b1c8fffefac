//! Remembered file hashes of a plugin source folder, keyed by what `stat` says about each file,
//! so that checking an unchanged folder against its installed copy reads no file contents.
//!
//! One file per source folder: `${XDG_CACHE_HOME:-~/.cache}/plugin/stat-v1/<16 hex of
//! sha256(folder path)>`, ours only (Claude Code never reads it; deleting it only costs one
//! full re-hash). Each line: `dev ino size mtime_ns ctime_ns mode sha256 <TAB> path`, the path
//! escaped as in `.plugin-files`.
//!
//! Why it is safe: a remembered hash is used only when device, inode, size, mode, mtime and
//! ctime (nanoseconds) of the file are all unchanged. Any write changes mtime and ctime; a
//! rename or replacement changes the inode; `touch -r` or a restored mtime still moves ctime,
//! which no user-level call can set. A file changed within the same timestamp tick as our
//! reading would look unchanged ("racy" in git's terms), so files modified less than
//! [`RACY_MARGIN`] before the folder was hashed are never remembered: they are hashed again
//! next time.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::fsutil::write_atomic;

/// Files changed this recently are not remembered (timestamp granularity, clock skew of
/// network filesystems).
pub const RACY_MARGIN: Duration = Duration::from_secs(2);
const HEADER: &str = "plugin-stat v1";

/// What `stat` (following links, as hashing does) says about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    mode: u32,
}

impl FileStat {
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
    pub fn of_path(path: &Path, dirs: &mut FolderHandles) -> std::io::Result<Self> {
        use rustix::fs::{AtFlags, StatxFlags, makedev, statx};
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return fs::metadata(path).map(|m| Self::of(&m));
        };
        // Files arrive in walk order, so one open folder at a time serves them (and a tree of
        // thousands of folders never holds more than one handle per thread).
        if dirs.as_ref().is_none_or(|(open, _)| open != parent) {
            let fd = rustix::fs::open(
                parent,
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )?;
            *dirs = Some((parent.to_path_buf(), fd));
        }
        let Some((_, dir)) = dirs.as_ref() else {
            return fs::metadata(path).map(|m| Self::of(&m));
        };
        let x = statx(dir, name, AtFlags::empty(), StatxFlags::BASIC_STATS)?;
        let ns = |t: rustix::fs::StatxTimestamp| {
            i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
        };
        Ok(Self {
            // As std computes `Metadata::dev` from statx, so remembered entries still match.
            dev: makedev(x.stx_dev_major, x.stx_dev_minor),
            ino: x.stx_ino,
            size: x.stx_size,
            mtime_ns: ns(x.stx_mtime),
            ctime_ns: ns(x.stx_ctime),
            mode: u32::from(x.stx_mode),
        })
    }

    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }

    fn newest_ns(&self) -> i128 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

/// The folder [`FileStat::of_path`] last opened, kept for the next file.
pub type FolderHandles = Option<(PathBuf, rustix::fd::OwnedFd)>;

/// The remembered hashes of one source folder.
#[derive(Debug)]
pub struct StatCache {
    file: PathBuf,
    entries: HashMap<String, (FileStat, String)>,
    /// What this run hashed or confirmed, written back by [`StatCache::save`].
    seen: HashMap<String, (FileStat, String)>,
    started_ns: i128,
}

impl StatCache {
    /// The cache for source folder `root`, kept under `dir` (an unreadable or damaged file
    /// reads as empty).
    pub fn load(dir: &Path, root: &Path) -> Self {
        let key = hex::encode(&Sha256::digest(root.as_os_str().as_encoded_bytes())[..8]);
        let file = dir.join(key);
        let entries = fs::read_to_string(&file)
            .ok()
            .and_then(|t| parse(&t))
            .unwrap_or_default();
        let started_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        Self {
            file,
            // Sized once: growing a map of thousands of entries shows in a no-op check.
            seen: HashMap::with_capacity(entries.len()),
            entries,
            started_ns,
        }
    }

    /// The remembered sha256 of the file listed as `key`, when its stat is unchanged.
    pub fn lookup(&self, key: &str, stat: &FileStat) -> Option<&str> {
        self.entries
            .get(key)
            .filter(|(s, _)| s == stat)
            .map(|(_, h)| h.as_str())
    }

    /// Remember what was found for `key` (hashed now, or confirmed from the cache).
    pub fn record(&mut self, key: String, stat: FileStat, sha256: String) {
        self.seen.insert(key, (stat, sha256));
    }

    /// Write what this run saw (entries not seen are dropped), unless nothing changed. Failure
    /// to write is not an error: the cache only saves time.
    pub fn save(self) {
        let margin = RACY_MARGIN.as_nanos() as i128;
        let mut keep: Vec<(&String, &(FileStat, String))> = (self.seen.iter())
            .filter(|(_, (s, _))| s.newest_ns() < self.started_ns - margin)
            .collect();
        let unchanged = keep.len() == self.entries.len()
            && keep.iter().all(|(k, v)| self.entries.get(*k) == Some(*v));
        if unchanged {
            return;
        }
        keep.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::from(HEADER);
        out.push('\n');
        for (k, (s, h)) in keep {
            out.push_str(&format!(
                "{} {} {} {} {} {} {h}\t{k}\n",
                s.dev, s.ino, s.size, s.mtime_ns, s.ctime_ns, s.mode
            ));
        }
        if let Some(parent) = self.file.parent()
            && fs::create_dir_all(parent).is_ok()
        {
            let _ = write_atomic(&self.file, out.as_bytes());
        }
    }
}

fn parse(text: &str) -> Option<HashMap<String, (FileStat, String)>> {
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let mut out = HashMap::with_capacity(text.len() / 120);
    for line in lines {
        let (fields, key) = line.split_once('\t')?;
        let mut f = fields.split(' ');
        let mut num = || f.next()?.parse::<i128>().ok();
        let stat = FileStat {
            dev: u64::try_from(num()?).ok()?,
            ino: u64::try_from(num()?).ok()?,
            size: u64::try_from(num()?).ok()?,
            mtime_ns: num()?,
            ctime_ns: num()?,
            mode: u32::try_from(num()?).ok()?,
        };
        let hash = f.next()?.to_string();
        out.insert(key.to_string(), (stat, hash));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stat_through_folder_handles_matches_std_and_keeps_one_open() {
        let t = tempfile::tempdir().unwrap();
        let mut handles: FolderHandles = None;
        for d in ["a", "b", "c"] {
            fs::create_dir(t.path().join(d)).unwrap();
            for f in ["x.md", "y.md"] {
                let p = t.path().join(d).join(f);
                fs::write(&p, d).unwrap();
                let via_handle = FileStat::of_path(&p, &mut handles).unwrap();
                assert_eq!(via_handle, FileStat::of(&fs::metadata(&p).unwrap()));
                assert_eq!(
                    handles.as_ref().map(|(dir, _)| dir.clone()),
                    Some(t.path().join(d))
                );
            }
        }
    }

    use super::*;

    #[test]
    fn remembers_old_files_and_notices_changes() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("a.md");
        fs::write(&file, "one").unwrap();
        let stat = FileStat::of(&fs::metadata(&file).unwrap());
        let dir = t.path().join("stat");

        // Too recent: not remembered.
        let mut c = StatCache::load(&dir, t.path());
        c.record("a.md".into(), stat, "h1".into());
        c.save();
        assert!(
            StatCache::load(&dir, t.path())
                .lookup("a.md", &stat)
                .is_none()
        );

        // Old enough (the run started well after the file's last change): remembered.
        let mut c = StatCache::load(&dir, t.path());
        c.started_ns += 10 * 1_000_000_000;
        c.record("a.md".into(), stat, "h1".into());
        c.save();
        let c = StatCache::load(&dir, t.path());
        assert_eq!(c.lookup("a.md", &stat), Some("h1"));

        // Any change of the stat data is a miss.
        fs::write(&file, "two").unwrap();
        let changed = FileStat::of(&fs::metadata(&file).unwrap());
        assert!(c.lookup("a.md", &changed).is_none());
        assert!(c.lookup("b.md", &stat).is_none());
    }
}
