//! Content listings of version folders: every entry's path, kind, mode and sha256 (or link
//! target), sorted by path. The sha256 of the listing's text is the folder's content digest.
//!
//! The listing is written beside the completion marker as `.plugin-files`, so `cache verify` can
//! name the files that changed, and `update` can tell new content under an unchanged version.
//! Claude Code ignores both files.
//!
//! ```text
//! plugin-files v1
//! d <TAB> - <TAB> - <TAB> commands
//! f <TAB> 644 <TAB> <sha256 hex> <TAB> commands/hello.md
//! l <TAB> - <TAB> hello.md <TAB> commands/alias.md
//! ```
//! Fields are tab-separated; `\`, tab, CR, LF and bytes that are not UTF-8 are escaped
//! (`\\`, `\t`, `\r`, `\n`, `\xNN`), so any path round-trips as one line.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::copy::{LinkPolicy, PlannedEntry, open_listed, plan_plugin_tree};
use super::statcache::{FileStat, FolderHandles, StatCache};
use super::tree::{Skipped, excluded_name};
use crate::fsutil::{IoContext, IoError};

/// The listing's file name inside a version folder.
pub const LISTING: &str = ".plugin-files";
/// The listing format; digests are of listings in this format.
pub(super) const HEADER: &str = "plugin-files v1";

/// One entry: the escaped path and what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir,
    File { mode: u32, sha256: String },
    Link { target: String },
}

impl Entry {
    pub fn link(target: &Path) -> Entry {
        Entry::Link {
            target: escape_path(target),
        }
    }

    fn line(&self, path: &str) -> String {
        match self {
            Entry::Dir => format!("d\t-\t-\t{path}"),
            Entry::File { mode, sha256 } => format!("f\t{mode:o}\t{sha256}\t{path}"),
            Entry::Link { target } => format!("l\t-\t{target}\t{path}"),
        }
    }
}

/// A folder's content, keyed by escaped path (so it sorts and compares the same everywhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeListing {
    entries: BTreeMap<String, Entry>,
}

/// How an installed folder differs from its listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDiff {
    /// Present in both, with other bytes, mode, kind or link target.
    pub modified: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

impl TreeDiff {
    pub fn is_empty(&self) -> bool {
        self.modified.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

impl TreeListing {
    pub fn insert(&mut self, rel: &Path, entry: Entry) {
        self.entries.insert(escape_path(rel), entry);
    }

    /// Add every entry of `other` under the folder `rel` (a submodule's tree).
    pub fn insert_under(&mut self, rel: &Path, other: TreeListing) {
        let prefix = escape_path(rel);
        for (path, entry) in other.entries {
            self.entries.insert(format!("{prefix}/{path}"), entry);
        }
    }

    /// List a folder as it is on disk (links are listed, not followed). The cache's bookkeeping
    /// names at its top are left out.
    pub fn of_folder(root: &Path) -> Result<Self, IoError> {
        let mut files = Vec::new();
        let mut entries = BTreeMap::new();
        for (rel, kind) in walk(root)? {
            let key = escape_path(&rel);
            match kind {
                Kind::Dir => {
                    entries.insert(key, Entry::Dir);
                }
                Kind::Link => {
                    let p = root.join(&rel);
                    let target = fs::read_link(&p).at("read link", &p)?;
                    entries.insert(
                        key,
                        Entry::Link {
                            target: escape_path(&target),
                        },
                    );
                }
                Kind::File => files.push((key, root.join(&rel))),
            }
        }
        hash_files(&mut entries, files)?;
        Ok(Self { entries })
    }

    /// List what copying the plugin under `policy` would produce, reading the source instead of
    /// a copy (what `install` and `update` compare against an installed folder), taking the hash
    /// of each file whose stat data `cache` remembers unchanged instead of reading it (see
    /// `statcache`), and recording what it saw: files, and the folders walked when the plugin
    /// has no symlinks.
    pub fn of_source_cached(
        policy: &LinkPolicy,
        cache: &mut StatCache,
    ) -> Result<(Self, Vec<Skipped>), IoError> {
        let plan = plan_plugin_tree(policy)?;
        let mut entries = BTreeMap::new();
        let mut files = Vec::new();
        let mut folders = vec![(String::new(), policy.plugin_root.clone())];
        for p in plan.entries {
            match p {
                PlannedEntry::Dir(rel) => {
                    let key = escape_path(&rel);
                    if plan.links == 0 {
                        folders.push((key.clone(), policy.plugin_root.join(&rel)));
                    }
                    entries.insert(key, Entry::Dir);
                }
                PlannedEntry::Link { rel, target } => {
                    entries.insert(escape_path(&rel), Entry::link(&target));
                }
                PlannedEntry::File { rel, src, stat } => files.push((escape_path(&rel), src, stat)),
            }
        }
        if plan.links > 0 {
            cache.without_tree();
        } else {
            let mut dirs = FolderHandles::None;
            for (key, path) in folders {
                let stat = FileStat::of_path(&path, &mut dirs).at("inspect", &path)?;
                cache.record_folder(key, stat);
            }
        }
        let cached: &StatCache = cache;
        // The stat data is the planner's, taken through each file's folder when it was listed;
        // a file is read only if it is still that file (see `copy::open_listed`).
        let hashed = crate::parallel::map(
            &files,
            crate::parallel::disk_threads(),
            64,
            |(key, p, stat)| {
                if let Some(sha) = cached.lookup(key, stat) {
                    return Ok((*stat, sha.to_string()));
                }
                let (file, _) = open_listed(p, stat).at("read", p)?;
                let (_, sha256) = hash_reader(file).at("read", p)?;
                Ok((*stat, sha256))
            },
        );
        for ((key, _, _), h) in files.into_iter().zip(hashed) {
            let (stat, sha256) = h?;
            entries.insert(
                key.clone(),
                Entry::File {
                    mode: stat.permissions(),
                    sha256: sha256.clone(),
                },
            );
            cache.record(key, stat, sha256);
        }
        Ok((Self { entries }, plan.skipped))
    }

    /// Whether `version_dir` holds what this listing says, judged by stat data alone (nothing
    /// read): the same entries (its bookkeeping names aside), kinds, permission bits and link
    /// targets, and every file still dated as the store dates what it shares
    /// ([`super::store::OBJECT_MTIME`]), which a write since would have moved. A folder written
    /// without the store (copy mode) never qualifies.
    pub fn held_by(&self, version_dir: &Path) -> bool {
        let Ok(walked) = walk(version_dir) else {
            return false;
        };
        if walked.len() != self.entries.len() {
            return false;
        }
        let mut files = Vec::new();
        for (rel, kind) in &walked {
            let same = match (kind, self.entries.get(&escape_path(rel))) {
                (Kind::Dir, Some(Entry::Dir)) => true,
                (Kind::Link, Some(Entry::Link { target })) => {
                    fs::read_link(version_dir.join(rel)).is_ok_and(|t| escape_path(&t) == *target)
                }
                (Kind::File, Some(Entry::File { mode, .. })) => {
                    files.push((version_dir.join(rel), *mode));
                    true
                }
                _ => false,
            };
            if !same {
                return false;
            }
        }
        let dated =
            crate::parallel::map(&files, crate::parallel::disk_threads(), 64, |(p, mode)| {
                fs::symlink_metadata(p).is_ok_and(|m| {
                    m.is_file()
                        && crate::platform::permissions(&m) == *mode
                        && super::store::is_pristine(&m)
                })
            });
        dated.into_iter().all(|d| d)
    }

    /// The listing stored in a version folder, if it has a readable one.
    pub fn read(version_dir: &Path) -> Option<Self> {
        Self::parse(
            &crate::fsutil::read_regular_text(
                &version_dir.join(LISTING),
                crate::fsutil::JSON_FILE_LIMIT,
            )
            .ok()?,
        )
    }

    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let mut entries = BTreeMap::new();
        for line in lines {
            let mut f = line.splitn(4, '\t');
            let (kind, mode, data, path) = (f.next()?, f.next()?, f.next()?, f.next()?);
            let entry = match kind {
                "d" => Entry::Dir,
                "f" => Entry::File {
                    mode: u32::from_str_radix(mode, 8).ok()?,
                    sha256: data.to_string(),
                },
                "l" => Entry::Link {
                    target: data.to_string(),
                },
                _ => return None,
            };
            entries.insert(path.to_string(), entry);
        }
        Some(Self { entries })
    }

    pub fn to_text(&self) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        for (path, entry) in &self.entries {
            out.push_str(&entry.line(path));
            out.push('\n');
        }
        out
    }

    /// `sha256:<hex>` of the listing's text: one value for paths, modes, link targets and bytes.
    pub fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(self.to_text())))
    }

    /// Regular files listed.
    /// The regular files listed, as paths under `root`, each with its mode and sha256 (names
    /// that cannot be spelled on this system are left out).
    pub fn files_under<'a>(&'a self, root: &'a Path) -> Vec<(PathBuf, u32, &'a str)> {
        self.keyed_files_under(root)
            .map(|(_, path, mode, sha)| (path, mode, sha))
            .collect()
    }

    /// [`TreeListing::files_under`], each with its key (its path as listed).
    pub fn keyed_files_under<'a>(
        &'a self,
        root: &'a Path,
    ) -> impl Iterator<Item = (&'a str, PathBuf, u32, &'a str)> + 'a {
        (self.entries.iter()).filter_map(|(key, entry)| match entry {
            Entry::File { mode, sha256 } => {
                let rel = unescape(key)?;
                // Only names beneath `root`, whatever a listing says.
                let beneath =
                    (rel.components()).all(|c| matches!(c, std::path::Component::Normal(_)));
                beneath.then(|| (key.as_str(), root.join(rel), *mode, sha256.as_str()))
            }
            _ => None,
        })
    }

    /// The entry listed under `key` (a path as [`escape_path`] spells it).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub fn files(&self) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e, Entry::File { .. }))
            .count()
    }

    /// What `actual` has that differs from this (expected) listing.
    pub fn diff(&self, actual: &TreeListing) -> TreeDiff {
        let mut d = TreeDiff::default();
        for (path, want) in &self.entries {
            match actual.entries.get(path) {
                None => d.missing.push(path.clone()),
                Some(got) if got != want => d.modified.push(path.clone()),
                Some(_) => {}
            }
        }
        d.extra = (actual.entries.keys())
            .filter(|p| !self.entries.contains_key(*p))
            .cloned()
            .collect();
        d
    }
}

/// Hash files on a few threads and add them to `entries`.
fn hash_files(
    entries: &mut BTreeMap<String, Entry>,
    files: Vec<(String, PathBuf)>,
) -> Result<(), IoError> {
    let hashed = crate::parallel::map(&files, crate::parallel::disk_threads(), 64, |(_, p)| {
        hash_file(p).at("read", p)
    });
    for ((key, _), h) in files.into_iter().zip(hashed) {
        entries.insert(key, h?);
    }
    Ok(())
}

/// A file's mode and sha256 (following a link, as a copy does).
pub(super) fn hash_file(path: &Path) -> std::io::Result<Entry> {
    let (mode, sha256) = hash_contents(path)?;
    Ok(Entry::File { mode, sha256 })
}

/// A file's permission bits and the hex sha256 of its bytes.
fn hash_contents(path: &Path) -> std::io::Result<(u32, String)> {
    hash_reader(fs::File::open(path)?)
}

/// The open file's permission bits and the hex sha256 of its bytes.
pub(crate) fn hash_reader(mut f: fs::File) -> std::io::Result<(u32, String)> {
    let mode = crate::platform::permissions(&f.metadata()?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok((mode, hex::encode(hasher.finalize())))
}

enum Kind {
    Dir,
    File,
    Link,
}

/// Every entry under `root` (relative paths, not following links), the names no install writes
/// (`tree::excluded_name`) and special files left out.
fn walk(root: &Path) -> Result<Vec<(PathBuf, Kind)>, IoError> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let dir = root.join(&rel);
        for e in fs::read_dir(&dir).at("read directory", &dir)? {
            let e = e.at("read directory", &dir)?;
            if excluded_name(&e.file_name()).is_some() {
                continue;
            }
            let child = rel.join(e.file_name());
            let ft = e.file_type().at("inspect", &e.path())?;
            if ft.is_dir() {
                dirs.push(child.clone());
                out.push((child, Kind::Dir));
            } else if ft.is_symlink() {
                out.push((child, Kind::Link));
            } else if ft.is_file() {
                out.push((child, Kind::File));
            }
        }
    }
    Ok(out)
}

/// A path as one listing field, with `/` between its parts whatever the OS's separator, so
/// that a tree lists the same everywhere.
pub fn escape_path(path: &Path) -> String {
    if std::path::MAIN_SEPARATOR == '/' {
        escape(path.as_os_str())
    } else {
        escape(OsStr::new(&crate::fsutil::slash_path(path)))
    }
}

/// A path as one listing field (see the module documentation).
pub fn escape(raw: &OsStr) -> String {
    let mut out = String::new();
    for chunk in raw.as_encoded_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The path a listing field spells ([`escape`] undone); `None` for bytes this system cannot
/// hold in a name (not UTF-8, outside Unix).
pub fn unescape(field: &str) -> Option<PathBuf> {
    let mut bytes = Vec::with_capacity(field.len());
    let mut rest = field.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        let (&esc, tail) = rest.split_first()?;
        rest = tail;
        match esc {
            b'\\' => bytes.push(b'\\'),
            b't' => bytes.push(b'\t'),
            b'n' => bytes.push(b'\n'),
            b'r' => bytes.push(b'\r'),
            b'x' => {
                let hex = std::str::from_utf8(rest.get(..2)?).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
                rest = &rest[2..];
            }
            _ => return None,
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(bytes).ok().map(PathBuf::from)
    }
}

// Links, modes and non-UTF-8 names throughout: Unix only (Windows has none of them here).
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn listing_round_trips_and_diffs() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir_all(root.join("commands")).unwrap();
        fs::write(root.join("commands/hello.md"), "hi").unwrap();
        fs::write(root.join("tab\tname\n"), "x").unwrap();
        fs::write(root.join(OsStr::from_bytes(b"bad\xff")), "y").unwrap();
        fs::write(root.join(".plugin-ok"), "{}").unwrap();
        fs::write(root.join(LISTING), "old").unwrap();
        symlink("hello.md", root.join("commands/alias.md")).unwrap();
        let a = TreeListing::of_folder(root).unwrap();
        let text = a.to_text();
        assert!(text.starts_with("plugin-files v1\n"), "{text}");
        assert!(
            text.contains("l\t-\thello.md\tcommands/alias.md\n"),
            "{text}"
        );
        assert!(text.contains("\ttab\\tname\\n\n"), "{text}");
        assert!(text.contains("\tbad\\xff\n"), "{text}");
        assert!(!text.contains(".plugin-ok"), "bookkeeping is not content");
        assert_eq!(TreeListing::parse(&text).unwrap(), a);
        assert_eq!(a.files(), 3);
        // Every listed file is found again from its field, odd bytes and all.
        for (path, _, _) in a.files_under(root) {
            assert!(path.is_file(), "{}", path.display());
        }
        assert_eq!(a.files_under(root).len(), 3);

        fs::write(root.join("commands/hello.md"), "changed").unwrap();
        fs::remove_file(root.join("tab\tname\n")).unwrap();
        fs::write(root.join("new.md"), "n").unwrap();
        let b = TreeListing::of_folder(root).unwrap();
        assert_ne!(a.digest(), b.digest());
        let d = a.diff(&b);
        assert_eq!(d.modified, vec!["commands/hello.md"]);
        assert_eq!(d.missing, vec!["tab\\tname\\n"]);
        assert_eq!(d.extra, vec!["new.md"]);

        // A mode change alone changes the digest.
        let c0 = TreeListing::of_folder(root).unwrap();
        fs::set_permissions(root.join("new.md"), fs::Permissions::from_mode(0o755)).unwrap();
        let c1 = TreeListing::of_folder(root).unwrap();
        assert_eq!(c0.diff(&c1).modified, vec!["new.md"]);
    }

    #[test]
    fn a_source_lists_as_its_copy_does() {
        let t = tempfile::tempdir().unwrap();
        let mkt = crate::fsutil::canonicalize(t.path()).unwrap().join("mkt");
        let pl = mkt.join("pl");
        fs::create_dir_all(pl.join("sub")).unwrap();
        fs::create_dir_all(mkt.join("shared")).unwrap();
        fs::write(mkt.join("shared/s.md"), "shared").unwrap();
        fs::write(pl.join("sub/a.sh"), "#!/bin/sh").unwrap();
        fs::set_permissions(pl.join("sub/a.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        symlink("../shared", pl.join("shared")).unwrap();
        symlink("sub/a.sh", pl.join("run")).unwrap();
        let policy = LinkPolicy {
            plugin_root: pl.clone(),
            container: Some(mkt.clone()),
        };
        let dst = t.path().join("dst");
        fs::create_dir(&dst).unwrap();
        let report = super::super::copy_plugin_tree(&dst, &policy).unwrap();
        let mut stat = StatCache::load(&t.path().join("stat"), &pl);
        let (source, _) = TreeListing::of_source_cached(&policy, &mut stat).unwrap();
        assert_eq!(source, TreeListing::of_folder(&dst).unwrap());
        assert_eq!(
            report.listing.as_ref(),
            Some(&source),
            "the copy's own listing"
        );
        assert_eq!(source.files(), 2);
    }
}
