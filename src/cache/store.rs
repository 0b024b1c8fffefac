//! The content store: every file of every version folder kept once, by content and mode, so
//! that a new version, a re-install or the same plugin in another scope costs a link per file
//! instead of a write.
//!
//! ```text
//! <plugins-root>/store-v1/
//! ├── link-mode                 how this filesystem shares files: hardlink, clone or copy
//! ├── tmp/                      objects being made (clone mode), the link probe
//! ├── git-blobs/<16 hex>         per git database: what its blobs hold ([`BlobMemo`])
//! └── objects/<sha256>-<mode>   an object: a file with these bytes and permission bits (octal)
//! ```
//!
//! A version folder stays a real folder of real files (what Claude Code reads is unchanged);
//! each file is a hard link to its object ([`LinkMode::Hardlink`]), a copy-on-write clone of it
//! ([`LinkMode::Clone`]) or a plain copy ([`LinkMode::Copy`], no store). The mode is found once
//! per store (so per filesystem, as the store sits beside the cache) and kept in `link-mode`;
//! `PLUGIN_LINK_MODE` forces one.
//!
//! Objects are only ever made from a file already written whole into a staging folder, before
//! that folder is flushed and published: `link(2)` names the object atomically and never
//! replaces one, so a half-written object is never there to be linked. Every object's
//! modification time is [`OBJECT_MTIME`]: an in-place edit of an installed file (which, with
//! hard links, edits every version sharing it) moves it, and such an object is never linked
//! again; `cache verify` reports it and `cache verify --repair` drops it from the store.
//!
//! An object whose link count is 1 and that no version folder's listing names is used by no
//! version folder: `cache prune` removes it, holding the cache lock exclusively (installs hold
//! it shared from staging to publish, so nothing links an object meanwhile).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::listing::TreeListing;
use crate::fsutil::{random_hex, sorted_entries};

pub const STORE_DIR: &str = "store-v1";
const MODE_FILE: &str = "link-mode";
const TMP_DIR: &str = "tmp";
/// One flat folder: the filesystems in question index large folders, and shard folders would
/// cost a block each (256 of them would weigh more than a plugin's versions share).
const OBJECTS_DIR: &str = "objects";
const BLOB_MEMO_DIR: &str = "git-blobs";

/// The modification time of every object (2000-01-01T00:00:00Z): not the epoch, which zip
/// tools refuse.
pub const OBJECT_MTIME: Duration = Duration::from_secs(946_684_800);

/// How a version folder gets a file the store holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// A hard link to the object: no bytes written, but an in-place edit reaches every version.
    Hardlink,
    /// A copy-on-write clone (btrfs, XFS, APFS): its own file, blocks shared until written.
    Clone,
    /// A plain copy; the store is not used.
    Copy,
}

impl LinkMode {
    pub const NAMES: &'static str = "hardlink, clone or copy";

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "hardlink" => Some(Self::Hardlink),
            "clone" | "reflink" => Some(Self::Clone),
            "copy" => Some(Self::Copy),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hardlink => "hardlink",
            Self::Clone => "clone",
            Self::Copy => "copy",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("PLUGIN_LINK_MODE is \"{0}\", which is no link mode; use {names}", names = LinkMode::NAMES)]
    UnknownLinkMode(String),
}

/// The content store of one plugins root.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    /// Where version folders are made (the probe links into it).
    cache_dir: PathBuf,
    forced: Option<LinkMode>,
    mode: OnceLock<LinkMode>,
    /// Set when linking failed in a way that says this filesystem cannot (then copies).
    gave_up: AtomicBool,
}

/// One object of the store, as found on disk.
#[derive(Debug, Clone)]
pub struct Object {
    pub path: PathBuf,
    /// `<sha256>-<mode>`, the name it is kept under.
    pub key: String,
    pub sha256: String,
    pub size: u64,
    pub links: u64,
    /// Bytes on disk.
    pub disk: u64,
    /// Its modification time is still [`OBJECT_MTIME`] (not edited in place since).
    pub pristine: bool,
}

impl Store {
    /// The store of `plugins_root`; `forced` is `PLUGIN_LINK_MODE` as given.
    pub fn new(
        plugins_root: &Path,
        cache_dir: &Path,
        forced: Option<&str>,
    ) -> Result<Self, StoreError> {
        let forced = match forced.map(str::trim).filter(|f| !f.is_empty()) {
            Some(raw) => Some(
                LinkMode::parse(raw).ok_or_else(|| StoreError::UnknownLinkMode(raw.to_string()))?,
            ),
            None => None,
        };
        Ok(Self {
            dir: plugins_root.join(STORE_DIR),
            cache_dir: cache_dir.to_path_buf(),
            forced,
            mode: OnceLock::new(),
            gave_up: AtomicBool::new(false),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The mode in force: the forced one, else the one remembered in `link-mode`, else found
    /// now by a probe (and remembered).
    pub fn mode(&self) -> LinkMode {
        if self.gave_up.load(Ordering::Relaxed) {
            return LinkMode::Copy;
        }
        *self.mode.get_or_init(|| {
            self.known_mode().unwrap_or_else(|| {
                let found = self.probe();
                // Only saves a probe next time: a failure to write is not an error.
                let file = self.dir.join(MODE_FILE);
                let _ = crate::fsutil::write_atomic(&file, found.as_str().as_bytes());
                found
            })
        })
    }

    /// The mode forced or remembered, without probing (nothing is written).
    pub fn known_mode(&self) -> Option<LinkMode> {
        self.forced.or_else(|| {
            crate::fsutil::read_regular_text(&self.dir.join(MODE_FILE), 64)
                .ok()
                .and_then(|t| LinkMode::parse(&t))
        })
    }

    /// Whether a file can be linked, else cloned, from the store into the cache folder.
    fn probe(&self) -> LinkMode {
        let tmp = self.dir.join(TMP_DIR);
        if fs::create_dir_all(&tmp).is_err() || fs::create_dir_all(&self.cache_dir).is_err() {
            return LinkMode::Copy;
        }
        let name = format!("probe-{}", random_hex(8));
        let (object, copy) = (tmp.join(&name), self.cache_dir.join(format!(".{name}")));
        if crate::fsutil::write_atomic(&object, b"probe").is_err() {
            return LinkMode::Copy;
        }
        let mode = if fs::hard_link(&object, &copy).is_ok() {
            LinkMode::Hardlink
        } else if crate::platform::clone_file(&object, &copy, 0o644).is_ok() {
            LinkMode::Clone
        } else {
            LinkMode::Copy
        };
        let _ = fs::remove_file(&copy);
        let _ = fs::remove_file(&object);
        let _ = fs::remove_dir(&tmp);
        mode
    }

    pub fn object_path(&self, sha256: &str, mode: u32) -> PathBuf {
        self.dir.join(OBJECTS_DIR).join(object_key(sha256, mode))
    }

    /// Make `dst` (new) a file with the content `sha256` and permission bits `mode` from the
    /// store, when it holds an intact object of that `size`: `Ok(false)` when it does not (the
    /// caller writes the file itself). Nothing is left at `dst` when it fails.
    pub fn materialise(&self, sha256: &str, mode: u32, size: u64, dst: &Path) -> io::Result<bool> {
        let how = self.mode();
        if how == LinkMode::Copy {
            return Ok(false);
        }
        let object = self.object_path(sha256, mode);
        match fs::symlink_metadata(&object) {
            Ok(m) if m.is_file() && m.len() == size && is_pristine(&m) => {}
            _ => return Ok(false),
        }
        let made = match how {
            LinkMode::Hardlink => fs::hard_link(&object, dst),
            LinkMode::Clone => crate::platform::clone_file(&object, dst, mode),
            LinkMode::Copy => return Ok(false),
        };
        match made {
            Ok(()) => Ok(true),
            // Gone since (a prune without the lock?), or too many links: the caller copies.
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                self.note_failure(&e);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Add the files of a staging folder, written and listed in `listing`, to the store: each
    /// becomes an object (or, when the store already has the object, is replaced by a link to
    /// it). Files already linked from the store are left. Call before the folder is flushed.
    /// The store only saves space and time: a file that cannot be added stays as written.
    /// Returns the objects it made (a staging folder that is not published takes them back,
    /// see [`Store::take_back`]).
    /// `from_store`: the listing keys of files made from the store (left alone unlooked-at).
    pub fn adopt(
        &self,
        dir: &Path,
        listing: &TreeListing,
        from_store: &HashSet<String>,
    ) -> Vec<PathBuf> {
        if self.mode() == LinkMode::Copy {
            return Vec::new();
        }
        let files: Vec<(PathBuf, u32, &str)> = (listing.keyed_files_under(dir))
            .filter(|(key, ..)| !from_store.contains(*key))
            .map(|(_, path, mode, sha)| (path, mode, sha))
            .collect();
        let done = crate::parallel::map(
            &files,
            crate::parallel::disk_threads(),
            64,
            // A file the store could not take stays as written (the one change to it, a
            // rename over it, is whole or not at all).
            |(file, mode, sha)| self.adopt_file(file, sha, *mode).unwrap_or(false),
        );
        (files.iter().zip(done))
            .filter(|(_, made)| *made)
            .map(|((_, mode, sha), _)| self.object_path(sha, *mode))
            .collect()
    }

    /// Remove the objects a staging folder that was not published made ([`Store::adopt`]),
    /// unless something else links them since, so that a failed install leaves the store as
    /// it found it.
    pub fn take_back(objects: &[PathBuf]) {
        for object in objects {
            if crate::platform::links_and_blocks(object).is_ok_and(|l| l.count == 1) {
                let _ = fs::remove_file(object);
                if let Some(objects) = object.parent() {
                    // Only when empty (a first install that failed leaves no folder behind).
                    let _ = fs::remove_dir(objects);
                }
            }
        }
    }

    /// Whether the object for `file` was made from it.
    fn adopt_file(&self, file: &Path, sha256: &str, mode: u32) -> io::Result<bool> {
        let object = self.object_path(sha256, mode);
        let meta = fs::symlink_metadata(file)?;
        if crate::platform::links_in(file, &meta)?.count > 1 {
            // Made from the store (or linked by its unpacker): nothing to add.
            return Ok(false);
        }
        let intact = |object: &Path| {
            fs::symlink_metadata(object)
                .is_ok_and(|m| m.is_file() && m.len() == meta.len() && is_pristine(&m))
        };
        match self.mode() {
            LinkMode::Hardlink => {
                // Writers that know of the store date their files already (see `copy`).
                if !is_pristine(&meta) && set_object_mtime(file).is_err() {
                    // Not ours to change (a read-only file on Windows): left out of the store.
                    return Ok(false);
                }
                // The common case first: a file the store does not have yet becomes its object.
                match link_making_parent(file, &object) {
                    Ok(()) => return Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => {
                        self.note_failure(&e);
                        return Ok(false);
                    }
                }
                if intact(&object) {
                    // The store has it: this file becomes a link to it (one copy on disk).
                    let tmp = sibling_temp(file);
                    match fs::hard_link(&object, &tmp) {
                        Ok(()) => crate::fsutil::rename(&tmp, file).inspect_err(|_| {
                            let _ = fs::remove_file(&tmp);
                        })?,
                        Err(e) => self.note_failure(&e),
                    }
                    return Ok(false);
                }
                // Edited in place or damaged: this file takes its name (versions linked to the
                // old one keep it; `cache verify` names them).
                let tmp = self.temp_name()?;
                fs::hard_link(file, &tmp)?;
                crate::fsutil::rename(&tmp, &object)?;
                Ok(false)
            }
            LinkMode::Clone if intact(&object) => {
                let tmp = sibling_temp(file);
                match crate::platform::clone_file(&object, &tmp, mode) {
                    Ok(()) => crate::fsutil::rename(&tmp, file)?,
                    Err(e) => self.note_failure(&e),
                }
                Ok(false)
            }
            LinkMode::Clone => {
                let existed = fs::symlink_metadata(&object).is_ok();
                let tmp = self.temp_name()?;
                if let Err(e) = crate::platform::clone_file(file, &tmp, mode) {
                    self.note_failure(&e);
                    return Ok(false);
                }
                if set_object_mtime(&tmp).is_err() {
                    let _ = fs::remove_file(&tmp);
                    return Ok(false);
                }
                if let Some(parent) = object.parent() {
                    fs::create_dir_all(parent)?;
                }
                // A name is given whole, or the damaged object it replaces is.
                let named = crate::fsutil::rename(&tmp, &object);
                if named.is_err() {
                    let _ = fs::remove_file(&tmp);
                }
                named.map(|()| !existed)
            }
            LinkMode::Copy => Ok(false),
        }
    }

    /// A free name in the store's `tmp/`.
    fn temp_name(&self) -> io::Result<PathBuf> {
        let tmp_dir = self.dir.join(TMP_DIR);
        fs::create_dir_all(&tmp_dir)?;
        Ok(tmp_dir.join(random_hex(12)))
    }

    /// A link or clone failed in a way that says this filesystem cannot do it at all (another
    /// device, not supported, not permitted): copies from now on, in this process.
    fn note_failure(&self, e: &io::Error) {
        let cannot = matches!(
            e.kind(),
            io::ErrorKind::CrossesDevices
                | io::ErrorKind::Unsupported
                | io::ErrorKind::PermissionDenied
        ) || e.raw_os_error() == Some(18);
        if cannot {
            self.gave_up.store(true, Ordering::Relaxed);
        }
    }

    /// Every object in the store, in name order.
    pub fn objects(&self) -> Vec<Object> {
        let mut out = Vec::new();
        for path in sorted_entries(&self.dir.join(OBJECTS_DIR)) {
            let Some(key) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            let Some((sha, _)) = key.split_once('-') else {
                continue;
            };
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let (links, disk) =
                crate::platform::links_in(&path, &meta).map_or((1, 0), |l| (l.count, l.disk));
            out.push(Object {
                sha256: sha.to_string(),
                size: meta.len(),
                pristine: meta.is_file() && is_pristine(&meta),
                key,
                path,
                links,
                disk,
            });
        }
        out
    }

    /// What is wrong with `object`, if anything: its bytes are not those its name says (read
    /// now, whole), or it was written since it was stored.
    pub fn check(&self, object: &Object) -> Option<ObjectProblem> {
        let file = match crate::platform::open_nofollow(&object.path) {
            Ok(f) => f,
            Err(_) => return Some(ObjectProblem::Unreadable),
        };
        match super::listing::hash_reader(file) {
            Ok((_, sha)) if sha == object.sha256 && object.pristine => None,
            Ok((_, sha)) if sha == object.sha256 => Some(ObjectProblem::Touched),
            Ok(_) => Some(ObjectProblem::ContentDiffers),
            Err(_) => Some(ObjectProblem::Unreadable),
        }
    }

    /// The blob memo of the git database at `git_dir` (empty when the store is not used).
    pub fn blob_memo(&self, git_dir: &Path) -> Option<BlobMemo> {
        if self.mode() == LinkMode::Copy {
            return None;
        }
        let key = hex::encode(&Sha256::digest(git_dir.as_os_str().as_encoded_bytes())[..8]);
        let file = self.dir.join(BLOB_MEMO_DIR).join(key);
        let text = crate::fsutil::read_regular_text(&file, crate::fsutil::JSON_FILE_LIMIT)
            .ok()
            .filter(|t| t.lines().next() == Some(BLOB_MEMO_HEADER))
            .unwrap_or_default();
        let known = (text.lines().skip(1))
            .filter_map(|line| {
                let mut f = line.split(' ');
                let (oid, sha, size) = (f.next()?, f.next()?, f.next()?.parse().ok()?);
                let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
                // SHA-1 or SHA-256 repositories.
                let oid_ok = matches!(oid.len(), 40 | 64) && hex(oid);
                (oid_ok && sha.len() == 64 && hex(sha))
                    .then(|| (oid.to_string(), (sha.to_string(), size)))
            })
            .collect();
        Some(BlobMemo {
            file,
            known,
            added: Mutex::new(Vec::new()),
        })
    }

    /// Leftovers of interrupted object writes and probes.
    pub fn temporaries(&self) -> Vec<PathBuf> {
        sorted_entries(&self.dir.join(TMP_DIR))
    }
}

/// What the blobs of one git database were found to hold when they were written: sha256 and
/// size by blob id, so that a blob met again (the unchanged files of a new commit) is linked
/// from the store without being inflated or hashed. One file per database in
/// `store-v1/git-blobs/`: `plugin-blobs v1`, then `<blob id> <sha256> <size>` lines. Only a
/// time saver: a lost or damaged file means files are written again.
#[derive(Debug)]
pub struct BlobMemo {
    file: PathBuf,
    known: HashMap<String, (String, u64)>,
    added: Mutex<Vec<(String, String, u64)>>,
}

const BLOB_MEMO_HEADER: &str = "plugin-blobs v1";

impl BlobMemo {
    /// The sha256 and size of blob `oid` (hex), when written before.
    pub fn get(&self, oid: &str) -> Option<(&str, u64)> {
        self.known.get(oid).map(|(sha, size)| (sha.as_str(), *size))
    }

    /// Remember what blob `oid` holds.
    pub fn add(&self, oid: String, sha256: String, size: u64) {
        if let Ok(mut added) = self.added.lock() {
            added.push((oid, sha256, size));
        }
    }

    /// Write what was added (a failure only costs time later).
    pub fn save(self) {
        let added = self.added.into_inner().unwrap_or_default();
        if added.is_empty() {
            return;
        }
        let mut all: Vec<(String, (String, u64))> = self.known.into_iter().collect();
        all.extend(added.into_iter().map(|(o, s, n)| (o, (s, n))));
        all.sort();
        all.dedup_by(|a, b| a.0 == b.0);
        let mut out = String::with_capacity(all.len() * 120);
        out.push_str(BLOB_MEMO_HEADER);
        out.push('\n');
        for (oid, (sha, size)) in all {
            out.push_str(&format!("{oid} {sha} {size}\n"));
        }
        if let Some(parent) = self.file.parent()
            && fs::create_dir_all(parent).is_ok()
        {
            let _ = crate::fsutil::write_atomic(&self.file, out.as_bytes());
        }
    }
}

/// What `cache verify` finds wrong with a store object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectProblem {
    /// Its bytes are not the ones its name says: an installed file was edited in place (with
    /// hard links, in every version folder sharing it).
    ContentDiffers,
    /// Same bytes, but written to since it was stored (so it is no longer linked).
    Touched,
    Unreadable,
}

impl ObjectProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentDiffers => "content-differs",
            Self::Touched => "touched",
            Self::Unreadable => "unreadable",
        }
    }
}

/// The object keys the listings of the version folders under `cache_dir` name, leaving out
/// the folders `skip` is true for.
pub fn listed_keys(cache_dir: &Path, skip: impl Fn(&Path) -> bool) -> HashSet<String> {
    let mut keys = HashSet::new();
    for mkt in sorted_entries(cache_dir) {
        for plugin in sorted_entries(&mkt) {
            for version in sorted_entries(&plugin) {
                if skip(&version) {
                    continue;
                }
                let Some(listing) = TreeListing::read(&version) else {
                    continue;
                };
                for (_, mode, sha256) in listing.files_under(&version) {
                    keys.insert(object_key(sha256, mode));
                }
            }
        }
    }
    keys
}

fn object_key(sha256: &str, mode: u32) -> String {
    format!("{sha256}-{mode:o}")
}

/// `link(2)`, making the objects folder when this is the first object.
fn link_making_parent(file: &Path, object: &Path) -> io::Result<()> {
    match fs::hard_link(file, object) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = object.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::hard_link(file, object)
        }
        other => other,
    }
}

pub(crate) fn is_pristine(meta: &fs::Metadata) -> bool {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .is_some_and(|d| d.as_secs() == OBJECT_MTIME.as_secs())
}

fn set_object_mtime(path: &Path) -> io::Result<()> {
    // Unix lets the owner set times through any descriptor (a read-only file stays read-only);
    // Windows wants a handle open for writing.
    let mut open = fs::OpenOptions::new();
    if cfg!(windows) {
        open.write(true);
    } else {
        open.read(true);
    }
    open.open(path)?
        .set_modified(SystemTime::UNIX_EPOCH + OBJECT_MTIME)
}

/// A free name beside `file`, for a file that replaces it by a rename.
fn sibling_temp(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.with_file_name(format!(".{name}.{}.tmp", random_hex(6)))
}
