//! Remembered file hashes of a plugin source folder, keyed by what `stat` says about each file,
//! so that checking an unchanged folder against its installed copy reads no file contents.
//!
//! One file per source folder: `${XDG_CACHE_HOME:-~/.cache}/plugin/stat-v1/<16 hex of
//! sha256(folder path)>`, ours only (Claude Code never reads it; deleting it only costs one
//! full re-hash; a file of another format version reads as empty). After the header, an
//! optional `tree plugin-files v1 sha256:<hex>` line (the digest of the folder's listing in that
//! format, see [`StatCache::unchanged_tree`]), then one line per file or folder:
//! `dev ino size mtime_ns ctime_ns mode <sha256 or -> <TAB> path`, the path escaped as in
//! `.plugin-files`.
//!
//! Why it is safe: a remembered hash is used only when device, inode, size, mode, mtime and
//! ctime (nanoseconds) of the file are all unchanged. Any write changes mtime and ctime; a
//! rename or replacement changes the inode; `touch -r` or a restored mtime still moves ctime,
//! which no user-level call can set. A file changed within the same timestamp tick as our
//! reading would look unchanged ("racy" in git's terms), so files modified less than
//! [`RACY_MARGIN`] before the folder was hashed are never remembered: they are hashed again
//! next time. The same margin holds for folders, whose stat data vouches for their list of names.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::fsutil::write_atomic;

/// Files changed this recently are not remembered (timestamp granularity, clock skew of
/// network filesystems).
pub const RACY_MARGIN: Duration = Duration::from_secs(2);
const HEADER: &str = "plugin-stat v2";

/// What `stat` (following links, as hashing does) says about a file, taken through an open
/// handle of its folder where it can be.
pub use crate::platform::{FolderHandles, Stat as FileStat};

/// The remembered hashes of one source folder.
#[derive(Debug)]
pub struct StatCache {
    file: PathBuf,
    root: PathBuf,
    /// The file as read; parsed into `entries` only when a file has to be looked up.
    text: String,
    entries: OnceLock<HashMap<String, (FileStat, String)>>,
    /// What this run hashed or confirmed (files) or walked (folders, hash `-`), written back
    /// by [`StatCache::save`].
    seen: HashMap<String, (FileStat, String)>,
    /// No digest of the whole folder may be written: the listing met symlinks (see
    /// [`crate::cache::copy::TreePlan::links`]), or the folders were not walked.
    no_tree: bool,
    started_ns: i128,
}

/// The hash field of a folder's line.
const FOLDER: &str = "-";
const TREE: &str = "tree ";

impl StatCache {
    /// The cache for source folder `root`, kept under `dir` (an unreadable or damaged file
    /// reads as empty).
    pub fn load(dir: &Path, root: &Path) -> Self {
        let key = hex::encode(&Sha256::digest(root.as_os_str().as_encoded_bytes())[..8]);
        let file = dir.join(key);
        let text = crate::fsutil::read_regular_text(&file, crate::fsutil::JSON_FILE_LIMIT)
            .ok()
            .filter(|t| t.lines().next() == Some(HEADER))
            .unwrap_or_default();
        let started_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        Self {
            file,
            root: root.to_path_buf(),
            text,
            entries: OnceLock::new(),
            seen: HashMap::new(),
            no_tree: false,
            started_ns,
        }
    }

    /// The content digest of the whole folder as last listed, when that listing can be
    /// vouched for without making it again: it met no symlinks, and every folder and file it
    /// saw has the same stat data now. A folder's entries change only with its mtime and ctime
    /// (adding, removing or renaming a name writes the folder), so same folders and same files
    /// make the same listing. One stat per entry (through folder handles), nothing read, no
    /// listing built.
    pub fn unchanged_tree(&self) -> Option<String> {
        let mut lines = self.text.lines().skip(1);
        // A digest of a listing in another format says nothing about this one.
        let digest = (lines.next()?.strip_prefix(TREE)?)
            .strip_prefix(super::listing::HEADER)?
            .strip_prefix(' ')?;
        let lines: Vec<&str> = lines.collect();
        let same = crate::parallel::map_init(
            &lines,
            crate::parallel::disk_threads(),
            256,
            || (FolderHandles::None, PathBuf::new()),
            |(dirs, path), line| {
                let Some((stat, _, key)) = parse_line(line) else {
                    return false;
                };
                // Keys of a tree line's file need no unescaping (see `save`).
                path.clear();
                path.push(&self.root);
                if !key.is_empty() {
                    path.push(key);
                }
                FileStat::of_path(path, dirs).is_ok_and(|now| now == stat)
            },
        );
        same.iter().all(|s| *s).then(|| digest.to_string())
    }

    /// The remembered sha256 of the file listed as `key`, when its stat is unchanged.
    pub fn lookup(&self, key: &str, stat: &FileStat) -> Option<&str> {
        let entries = self.entries.get_or_init(|| parse(&self.text));
        entries
            .get(key)
            .filter(|(s, h)| s == stat && h != FOLDER)
            .map(|(_, h)| h.as_str())
    }

    /// Remember what was found for `key` (hashed now, or confirmed from the cache).
    pub fn record(&mut self, key: String, stat: FileStat, sha256: String) {
        self.seen.insert(key, (stat, sha256));
    }

    /// Remember a folder the listing walked.
    pub fn record_folder(&mut self, key: String, stat: FileStat) {
        self.seen.insert(key, (stat, FOLDER.to_string()));
    }

    /// Leave the whole folder's digest out of what [`StatCache::save`] writes: the listing met
    /// symlinks, or only files were seen.
    pub fn without_tree(&mut self) {
        self.no_tree = true;
    }

    /// Write what this run saw (entries not seen are dropped), with `digest`, the listing's
    /// digest, when [`StatCache::unchanged_tree`] may vouch for it later; nothing when the file
    /// would not change. Failure to write is not an error: the cache only saves time.
    pub fn save(self, digest: &str) {
        let margin = RACY_MARGIN.as_nanos() as i128;
        let mut keep: Vec<(&String, &(FileStat, String))> = (self.seen.iter())
            .filter(|(_, (s, _))| s.newest_ns() < self.started_ns - margin)
            .collect();
        keep.sort_by(|a, b| a.0.cmp(b.0));
        // Only when every entry is remembered and every key is its path as written.
        let whole = !self.no_tree
            && keep.len() == self.seen.len()
            && keep.iter().all(|(k, _)| !k.contains('\\'));
        let mut out = String::with_capacity(self.text.len().max(keep.len() * 128));
        out.push_str(HEADER);
        out.push('\n');
        if whole {
            out.push_str(TREE);
            out.push_str(super::listing::HEADER);
            out.push(' ');
            out.push_str(digest);
            out.push('\n');
        }
        for (k, (s, h)) in keep {
            use std::fmt::Write;
            let _ = writeln!(
                out,
                "{} {} {} {} {} {} {h}\t{k}",
                s.dev, s.ino, s.size, s.mtime_ns, s.ctime_ns, s.mode
            );
        }
        let nothing = out.len() == HEADER.len() + 1 && self.text.is_empty();
        if out == self.text || nothing {
            return;
        }
        if let Some(parent) = self.file.parent()
            && fs::create_dir_all(parent).is_ok()
        {
            let _ = write_atomic(&self.file, out.as_bytes());
        }
    }
}

/// One entry line: stat data, hash (or `-` for a folder) and key.
fn parse_line(line: &str) -> Option<(FileStat, &str, &str)> {
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
    Some((stat, f.next()?, key))
}

/// The entries of a cache file's text (empty when it is damaged).
fn parse(text: &str) -> HashMap<String, (FileStat, String)> {
    let mut out = HashMap::with_capacity(text.len() / 120);
    for line in text.lines().skip(1).filter(|l| !l.starts_with(TREE)) {
        let Some((stat, hash, key)) = parse_line(line) else {
            return HashMap::new();
        };
        out.insert(key.to_string(), (stat, hash.to_string()));
    }
    out
}

// Links, modes and non-UTF-8 names throughout: Unix only (Windows has none of them here).
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
        c.save("sha256:x");
        assert!(
            StatCache::load(&dir, t.path())
                .lookup("a.md", &stat)
                .is_none()
        );

        // Old enough (the run started well after the file's last change): remembered.
        let mut c = StatCache::load(&dir, t.path());
        c.started_ns += 10 * 1_000_000_000;
        c.record("a.md".into(), stat, "h1".into());
        c.save("sha256:x");
        let c = StatCache::load(&dir, t.path());
        assert_eq!(c.lookup("a.md", &stat), Some("h1"));

        // Any change of the stat data is a miss.
        fs::write(&file, "two").unwrap();
        let changed = FileStat::of(&fs::metadata(&file).unwrap());
        assert!(c.lookup("a.md", &changed).is_none());
        assert!(c.lookup("b.md", &stat).is_none());
    }

    /// List `root` as install does, as if the run started well after the files were written
    /// (their mtimes set an hour back, so that a change made in the same timestamp tick as the
    /// test's setup still shows).
    fn list_later(stat: &Path, root: &Path, container: Option<&Path>) -> String {
        fn backdate(path: &Path, past: SystemTime) {
            if fs::symlink_metadata(path).unwrap().is_dir() {
                for e in fs::read_dir(path).unwrap() {
                    backdate(&e.unwrap().path(), past);
                }
            } else if path.is_symlink() {
                return;
            }
            fs::File::open(path).unwrap().set_modified(past).unwrap();
        }
        backdate(root, SystemTime::now() - Duration::from_secs(3600));
        let policy = crate::cache::copy::LinkPolicy {
            plugin_root: root.to_path_buf(),
            container: container.map(Path::to_path_buf),
        };
        let mut c = StatCache::load(stat, root);
        c.started_ns += 10 * 1_000_000_000;
        let (listing, _) =
            crate::cache::listing::TreeListing::of_source_cached(&policy, &mut c).unwrap();
        let digest = listing.digest();
        c.save(&digest);
        digest
    }

    #[test]
    fn an_unchanged_tree_keeps_its_digest_and_any_change_drops_it() {
        let t = tempfile::tempdir().unwrap();
        let root = crate::fsutil::canonicalize(t.path()).unwrap().join("pl");
        let stat = t.path().join("stat");
        fs::create_dir_all(root.join("d/e")).unwrap();
        fs::write(root.join("a.md"), "a").unwrap();
        fs::write(root.join("d/e/b.md"), "b").unwrap();
        let digest = list_later(&stat, &root, None);
        assert_eq!(
            StatCache::load(&stat, &root).unchanged_tree(),
            Some(digest.clone())
        );

        // A file added deep down changes its folder's stat, not any file's.
        fs::write(root.join("d/e/new.md"), "n").unwrap();
        assert_eq!(StatCache::load(&stat, &root).unchanged_tree(), None);
        fs::remove_file(root.join("d/e/new.md")).unwrap();
        let digest = list_later(&stat, &root, None);
        assert!(StatCache::load(&stat, &root).unchanged_tree().is_some());

        // Content, mode, a removed folder.
        fs::write(root.join("a.md"), "A").unwrap();
        assert_eq!(StatCache::load(&stat, &root).unchanged_tree(), None);
        assert_ne!(list_later(&stat, &root, None), digest);
        fs::set_permissions(root.join("a.md"), fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(StatCache::load(&stat, &root).unchanged_tree(), None);
        list_later(&stat, &root, None);
        fs::remove_file(root.join("d/e/b.md")).unwrap();
        fs::remove_dir(root.join("d/e")).unwrap();
        assert_eq!(StatCache::load(&stat, &root).unchanged_tree(), None);
    }

    #[test]
    fn no_tree_digest_for_recent_changes_or_symlinks() {
        let t = tempfile::tempdir().unwrap();
        let mkt = crate::fsutil::canonicalize(t.path()).unwrap();
        let root = mkt.join("pl");
        let stat = t.path().join("stat");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("a.md"), "a").unwrap();

        // Written just now: nothing vouches for it yet.
        let policy = crate::cache::copy::LinkPolicy {
            plugin_root: root.clone(),
            container: None,
        };
        let mut c = StatCache::load(&stat, &root);
        let (l, _) = crate::cache::listing::TreeListing::of_source_cached(&policy, &mut c).unwrap();
        c.save(&l.digest());
        assert_eq!(StatCache::load(&stat, &root).unchanged_tree(), None);

        // A link's fate depends on its target, which no folder stat covers.
        fs::write(mkt.join("shared.md"), "s").unwrap();
        std::os::unix::fs::symlink("../shared.md", root.join("s.md")).unwrap();
        list_later(&stat, &root, Some(&mkt));
        assert_eq!(StatCache::load(&stat, &root).unchanged_tree(), None);
        let c = StatCache::load(&stat, &root);
        let a = FileStat::of(&fs::metadata(root.join("a.md")).unwrap());
        assert!(c.lookup("a.md", &a).is_some(), "file hashes still kept");
    }
}
