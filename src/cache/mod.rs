//! The versioned plugin cache: staging, atomic publish, completion markers, orphan markers and
//! the sweep of leftovers.
//!
//! ```text
//! <plugins-root>/cache/<marketplace>/<plugin>/
//! ├── 1.0.0/                    a published version (renamed into place, never written in place)
//! │   ├── .plugin-ok            ours: written last before the rename; names the raw version
//! │   └── .orphaned_at          Claude Code's: epoch ms when no install uses the folder anymore
//! └── .plugin-staging-<rnd>/    being filled by a live process (or left by a dead one)
//! ```
//!
//! A version folder is only ever created by renaming a complete staging folder, so a crash
//! leaves either the old folder or the new one, never a half-written one under a version name.
//! Staging folders are swept by the next process that can take the cache lock exclusively.

pub mod copy;
pub mod journal;
pub mod listing;
pub mod prune;
pub mod statcache;
pub mod store;
pub mod tree;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::{IoContext, IoError, epoch_millis, random_hex, remove_tree, sync_dir};
use crate::state::Transaction;

pub use copy::{LinkPolicy, copy_plugin_tree};
pub use listing::{TreeDiff, TreeListing};
pub use tree::{
    CopyReport, SkipReason, Skipped, excluded_name, excluded_prefix, link_copied_note,
    links_refused,
};

/// Completion marker written into every version folder we publish.
pub const MARKER: &str = ".plugin-ok";
const STAGING_PREFIX: &str = ".plugin-staging-";
const ORPHANED_AT: &str = ".orphaned_at";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(
        "the cache folder name \"{name}\" is {len} bytes long, more than the {max} the filesystem at {} allows; nothing was written",
        dir.display()
    )]
    NameTooLong {
        name: String,
        len: usize,
        max: usize,
        dir: PathBuf,
    },
    #[error(
        "the marketplace name \"{name}\" is {len} bytes long, more than the {max} the filesystem at {} allows for the marketplace's cache folder, so none of its plugins could be installed; the catalog's \"name\" must be shorter. Nothing was written",
        dir.display()
    )]
    MarketplaceNameTooLong {
        name: String,
        len: usize,
        max: usize,
        dir: PathBuf,
    },
    #[error(
        "{} already holds version \"{existing}\"{}, which shares its folder name with version \"{version}\"; give the plugin a version that differs after replacing characters outside [A-Za-z0-9._-] with \"-\"",
        path.display(), .recorded_for.as_ref().map(|id| format!(" (recorded for {id})")).unwrap_or_default()
    )]
    VersionCollision {
        path: PathBuf,
        existing: String,
        version: String,
        /// The plugin id whose install record points at the folder, when known.
        recorded_for: Option<String>,
    },
    #[error(
        "{} differs from {} only by letter case; such folders collide on macOS and Windows, so rename one of them",
        path.display(), existing.display()
    )]
    CaseCollision { path: PathBuf, existing: PathBuf },
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// What the completion marker records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    pub v: u32,
    pub marketplace: String,
    pub plugin: String,
    pub version: String,
    pub files: u64,
    pub bytes: u64,
    /// Which exact release the bytes came from (absent for local folders and old markers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Provenance>,
    /// `sha256:<hex>` of the folder's listing (`.plugin-files`); absent in old markers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The exact artifact a cached copy was made from, so a copy can be traced back to a
/// registry release or commit and its digest checked again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `git`, `npm`, `pip` or `archive`.
    pub kind: String,
    /// `name@version` for npm, `name==version` for pip, the commit for git, the URL (without
    /// query or credentials) for archives.
    pub what: String,
    /// npm's SRI string as the registry gave it; `sha256:<hex>` / `sha1:<hex>` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
}

pub fn read_marker(version_dir: &Path) -> Option<Marker> {
    let text =
        crate::fsutil::read_regular_text(&version_dir.join(MARKER), crate::fsutil::JSON_FILE_LIMIT)
            .ok()?;
    serde_json::from_str(&text).ok()
}

/// The content digest of an installed version folder: the one its marker records, else (installed
/// by Claude Code, or by an older version of this tool) that of a listing made now.
pub fn installed_digest(version_dir: &Path, marker: Option<Marker>) -> Result<String, IoError> {
    match marker.and_then(|m| m.digest) {
        Some(d) => Ok(d),
        None => Ok(TreeListing::of_folder(version_dir)?.digest()),
    }
}

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    journal: journal::StagingJournal,
}

impl Cache {
    /// The cache `dir` (`<plugins-root>/cache`); its staging journal is beside it.
    pub fn new(dir: PathBuf) -> Self {
        let journal = journal::StagingJournal::new(dir.with_file_name(".plugin-journal-v1"));
        Self { dir, journal }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn plugin_dir(&self, marketplace: &str, plugin: &str) -> PathBuf {
        self.dir.join(marketplace).join(plugin)
    }

    /// Refuse a marketplace name no install could use: longer than the filesystem allows for its
    /// folder `cache/<marketplace>/` (checked when the marketplace is added).
    pub fn check_marketplace_name(&self, marketplace: &str) -> Result<(), CacheError> {
        check_name_length(&self.dir, marketplace, name_max(&self.dir)).map_err(|e| match e {
            CacheError::NameTooLong {
                name,
                len,
                max,
                dir,
            } => CacheError::MarketplaceNameTooLong {
                name,
                len,
                max,
                dir,
            },
            other => other,
        })
    }

    /// Refuse names the filesystem cannot hold or that collide by case, before anything is written.
    pub fn check_names(
        &self,
        marketplace: &str,
        plugin: &str,
        version_folder: &str,
    ) -> Result<(), CacheError> {
        let max = name_max(&self.dir);
        for (parent, name) in [
            (self.dir.clone(), marketplace),
            (self.dir.join(marketplace), plugin),
            (self.plugin_dir(marketplace, plugin), version_folder),
        ] {
            check_name_length(&parent, name, max)?;
            if let Some(existing) = case_twin(&parent, name) {
                return Err(CacheError::CaseCollision {
                    path: parent.join(name),
                    existing,
                });
            }
        }
        Ok(())
    }

    /// Create an empty staging folder beside the plugin's versions.
    pub fn stage(&self, marketplace: &str, plugin: &str) -> Result<StagedPlugin, CacheError> {
        let parent = self.plugin_dir(marketplace, plugin);
        let name = random_hex(8);
        let dir = parent.join(format!("{STAGING_PREFIX}{name}"));
        let journal = (self.journal).begin(&format!("{marketplace}/{plugin}"), &name, &dir)?;
        // A failed install of another process may remove the (empty) parent in between: retry.
        let mut attempts = 0;
        loop {
            fs::create_dir_all(&parent).at("create directory", &parent)?;
            match fs::create_dir(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
                Err(e) => return Err(IoError::new("create staging directory", &dir, e).into()),
            }
        }
        Ok(StagedPlugin {
            dir,
            published: false,
            digest: None,
            same_as: None,
            new_objects: Vec::new(),
            journal: Some(journal),
        })
    }

    /// Remove every staging folder, and put back a version folder that a killed exchange by
    /// renames left aside (`aside_for`): in the plugin folders the journal names (see
    /// [`journal`]), or in every one before the journal exists. The caller must hold the cache
    /// lock exclusively (so no live process is filling one). Returns how many were removed or
    /// put back.
    pub fn sweep_staging(&self) -> Result<usize, CacheError> {
        let Some(pending) = self.journal.pending() else {
            let swept = self.sweep_every_plugin()?;
            // Without it (a file in its way) every sweep looks everywhere, as before it existed.
            let _ = self.journal.create();
            return Ok(swept);
        };
        let swept = match pending.iter().all(|(_, rel)| rel.is_some()) {
            true => (pending.iter().filter_map(|(_, rel)| rel.as_ref()))
                .map(|rel| sweep_plugin_dir(&self.dir.join(rel)))
                .sum::<Result<usize, CacheError>>()?,
            false => self.sweep_every_plugin()?,
        };
        for (entry, _) in pending {
            let _ = fs::remove_file(&entry);
        }
        Ok(swept)
    }

    /// [`Cache::sweep_staging`] of every plugin folder.
    fn sweep_every_plugin(&self) -> Result<usize, CacheError> {
        let plugins: Vec<PathBuf> = read_dirs(&self.dir)
            .iter()
            .flat_map(|m| read_dirs(m))
            .collect();
        // One listing per plugin folder, on a few threads: hundreds may be installed.
        let swept = crate::parallel::map(&plugins, crate::parallel::disk_threads(), 64, |plugin| {
            sweep_plugin_dir(plugin)
        });
        swept.into_iter().sum()
    }

    /// Whether one plugin's folder holds staging folders (live, or left by a dead process).
    pub fn has_staging(&self, marketplace: &str, plugin: &str) -> bool {
        !staging_in(&self.plugin_dir(marketplace, plugin)).is_empty()
    }

    /// Remove the staging folders of one plugin (same locking rule as [`Cache::sweep_staging`]).
    pub fn sweep_plugin_staging(
        &self,
        marketplace: &str,
        plugin: &str,
    ) -> Result<usize, CacheError> {
        sweep_plugin_dir(&self.plugin_dir(marketplace, plugin))
    }
}

fn sweep_plugin_dir(plugin: &Path) -> Result<usize, CacheError> {
    let staging = staging_in(plugin);
    for entry in &staging {
        if let Some(target) = interrupted_exchange(entry) {
            crate::fsutil::rename(entry, &target).at("put back", &target)?;
            sync_dir(plugin)?;
        } else {
            remove_tree(entry)?;
        }
    }
    Ok(staging.len())
}

/// The marker of a version folder moved aside for an exchange done with renames (where the
/// filesystem cannot swap in one step, as on Windows): `old-<hex>-` then the folder's own name.
const ASIDE_MARK: &str = "old-";

/// Where the version folder `target` is moved while its replacement is renamed into place: a
/// staging name that also says which folder it came from, so that a crash between the renames
/// is undone by the next sweep ([`interrupted_exchange`]). A name too long for that only gets
/// the random part (the sweep then removes it, as any staging folder).
fn aside_for(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let short = format!("{STAGING_PREFIX}{ASIDE_MARK}{}", random_hex(8));
    let long = format!("{short}-{name}");
    target.with_file_name(if long.len() <= 255 { long } else { short })
}

/// For a folder [`aside_for`] named whose version folder no longer exists (the process was
/// killed after moving it aside and before renaming the new content into place): that folder.
fn interrupted_exchange(staging: &Path) -> Option<PathBuf> {
    let name = staging.file_name()?.to_str()?;
    let rest = name
        .strip_prefix(STAGING_PREFIX)?
        .strip_prefix(ASIDE_MARK)?;
    let (_, original) = rest.split_once('-')?;
    let target = staging.with_file_name(original);
    let missing =
        matches!(fs::symlink_metadata(&target), Err(e) if e.kind() == io::ErrorKind::NotFound);
    (!original.is_empty() && missing && read_marker(staging).is_some()).then_some(target)
}

/// The staging folders in one plugin folder (live or left by dead processes).
fn staging_in(plugin: &Path) -> Vec<PathBuf> {
    read_dirs(plugin)
        .into_iter()
        .filter(|entry| {
            entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(STAGING_PREFIX))
        })
        .collect()
}

/// Write Claude Code's orphan marker (epoch milliseconds, no newline).
// In place, not through `write_atomic` (see below); `tx` puts it back.
#[allow(clippy::disallowed_methods)]
pub fn mark_orphaned(version_dir: &Path, tx: &mut Transaction) -> Result<(), IoError> {
    if !version_dir.is_dir() || version_dir.is_symlink() {
        // A symlinked development checkout is never marked (Claude Code's rule).
        return Ok(());
    }
    // Part of the step that dropped its last record: undone with it. Written in place, as
    // Claude Code does, not through a temporary file: a kill must never leave a stray file in a
    // sealed version folder (its listing would no longer match).
    let mark = version_dir.join(ORPHANED_AT);
    tx.remember(&mark)?;
    fs::write(&mark, epoch_millis().to_string()).at("write", &mark)
}

/// Take the orphan mark off a version folder a record uses again. Part of the step that records
/// it: undone with it. A symlinked development checkout is never touched.
pub fn clear_orphan_mark(version_dir: &Path, tx: &mut Transaction) -> Result<(), IoError> {
    let mark = version_dir.join(ORPHANED_AT);
    if version_dir.is_symlink() || mark.symlink_metadata().is_err() {
        return Ok(());
    }
    tx.remember(&mark)?;
    match fs::remove_file(&mark) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(IoError::new("remove", mark, e)),
        _ => Ok(()),
    }
}

/// Sub-folders of `dir` (not following links); empty when `dir` is unreadable.
fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

/// Another entry of `parent` whose name equals `name` ignoring ASCII case.
fn case_twin(parent: &Path, name: &str) -> Option<PathBuf> {
    fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n != name && n.eq_ignore_ascii_case(name) && !n.starts_with(STAGING_PREFIX))
        .map(|n| parent.join(n))
}

fn check_name_length(parent: &Path, name: &str, max: usize) -> Result<(), CacheError> {
    if name.len() > max {
        return Err(CacheError::NameTooLong {
            name: name.to_string(),
            len: name.len(),
            max,
            dir: parent.to_path_buf(),
        });
    }
    Ok(())
}

/// The longest file name the filesystem holding `dir` (or its nearest existing ancestor) allows.
fn name_max(dir: &Path) -> usize {
    dir.ancestors()
        .find_map(crate::platform::name_max)
        .unwrap_or(255)
}

/// A staging folder being filled. Dropped unpublished, it is removed.
#[derive(Debug)]
pub struct StagedPlugin {
    dir: PathBuf,
    published: bool,
    /// The content digest, once sealed.
    digest: Option<String>,
    /// A folder found (by [`StagedPlugin::compare_with`]) to hold exactly this content.
    same_as: Option<PathBuf>,
    /// Store objects made from this folder's files: taken back when it is not published.
    new_objects: Vec<PathBuf>,
    /// Its journal entry, kept until its name is gone (handed to [`Displaced`] by an exchange).
    journal: Option<journal::JournalEntry>,
}

impl StagedPlugin {
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Record the staged content (listing and digest), write the completion marker and flush
    /// the tree to disk (on Linux one syncfs of its filesystem instead of an fsync per file).
    /// Done before any state lock is taken. Returns the content digest.
    /// `listing` is the writer's own listing of what it wrote, when it made one; otherwise the
    /// folder is listed here. The files are added to `store` (see [`store::Store::adopt`]; but
    /// those its set names, made from it) before the flush.
    // Written in place, not through `write_atomic`: the staging folder is published whole by a
    // rename once flushed, and a killed write's temporary file must not be left inside it.
    #[allow(clippy::disallowed_methods)]
    pub fn seal(
        &mut self,
        mut marker: Marker,
        listing: Option<TreeListing>,
        store: Option<(&store::Store, &std::collections::HashSet<String>)>,
    ) -> Result<String, CacheError> {
        let listing = match listing {
            Some(l) => l,
            None => TreeListing::of_folder(&self.dir)?,
        };
        if let Some((store, from_store)) = store {
            self.new_objects = store.adopt(&self.dir, &listing, from_store);
        }
        let digest = listing.digest();
        let listing_path = self.dir.join(listing::LISTING);
        fs::write(&listing_path, listing.to_text()).at("write", &listing_path)?;
        marker.digest = Some(digest.clone());
        let marker_path = self.dir.join(MARKER);
        let text = serde_json::to_string(&marker).unwrap_or_default();
        fs::write(&marker_path, text).at("write", &marker_path)?;
        sync_tree(&self.dir)?;
        self.digest = Some(digest.clone());
        Ok(digest)
    }

    /// The store objects [`StagedPlugin::seal`] made from this folder's files (for undoing a
    /// publish whose recording failed).
    pub fn new_objects(&self) -> &[PathBuf] {
        &self.new_objects
    }

    /// The content digest recorded by [`StagedPlugin::seal`].
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// Before the state lock is taken: whether `target` already holds exactly the sealed content
    /// (its marker's digest and a walk of its files agree), so that [`StagedPlugin::publish`]
    /// keeps it without reading it under the lock.
    pub fn compare_with(&mut self, target: &Path) {
        let matches = self.digest.is_some()
            && read_marker(target).is_some_and(|m| m.digest == self.digest)
            && TreeListing::of_folder(target).ok().map(|l| l.digest()) == self.digest;
        self.same_as = matches.then(|| target.to_path_buf());
    }

    /// Rename the sealed folder to `target`. An existing `target` is swapped out atomically
    /// (an exchange where the filesystem can); its old content is returned, to be removed once locks are released.
    /// An existing `target` found by [`StagedPlugin::compare_with`] to have the same content is
    /// kept (its orphan mark too: the recording step clears it), and the staged copy is dropped.
    /// A `target` holding another version (same folder name after sanitising) is refused.
    pub fn publish(
        mut self,
        target: &Path,
        version: &str,
    ) -> Result<Option<Displaced>, CacheError> {
        if let Some(existing) = read_marker(target) {
            if existing.version != version {
                return Err(CacheError::VersionCollision {
                    path: target.to_path_buf(),
                    existing: existing.version,
                    version: version.to_string(),
                    recorded_for: None,
                });
            }
            // The same content is already there (another scope's install, or an orphan being
            // reused): leave the folder, and the sessions running from it, alone. Only a folder
            // whose files really match counts, so a damaged copy is still replaced.
            if self.digest.is_some()
                && existing.digest == self.digest
                && self.same_as.as_deref() == Some(target)
            {
                // Its orphan mark is taken off by the step that records it ([`clear_orphan_mark`]),
                // so that a failed step leaves it marked.
                return Ok(None);
            }
        }
        let parent = target.parent().unwrap_or(Path::new("/"));
        let displaced = match crate::fsutil::rename(&self.dir, target) {
            Ok(()) => None,
            Err(e) if crate::platform::is_not_empty(&e) => {
                if let Err(e) = crate::fsutil::exchange(&self.dir, target, &aside_for(target)) {
                    // Where renames stand in for the swap, the version folder may be left
                    // aside: the sweep must look in this plugin folder.
                    if let Some(entry) = &mut self.journal {
                        entry.keep();
                    }
                    return Err(e.into());
                }
                // The staging name now holds the previous content; a crash before it is removed
                // leaves it for the sweep.
                Some(Displaced {
                    dir: self.dir.clone(),
                    journal: self.journal.take(),
                })
            }
            Err(e) => return Err(IoError::new("rename into place", target, e).into()),
        };
        self.published = true;
        sync_dir(parent)?;
        Ok(displaced)
    }
}

/// The previous content of a replaced version folder, removed when dropped.
#[derive(Debug)]
pub struct Displaced {
    dir: PathBuf,
    /// Dropped after the folder is removed (fields drop after `drop`); kept when a swap back
    /// failed, and the folder with it.
    journal: Option<journal::JournalEntry>,
}

impl Displaced {
    /// Swap the previous content back into `target` (the step that published over it failed);
    /// the content published is then removed with this.
    pub fn put_back(mut self, target: &Path) -> Result<(), IoError> {
        if let Err(e) = crate::fsutil::exchange(&self.dir, target, &aside_for(target)) {
            // Where renames stand in for the swap, a version folder may be left aside (the next
            // sweep puts it back). Where it is atomic, the version folder still holds the
            // content just published, whole, and the previous content stays here only until
            // the next sweep removes it.
            if let Some(entry) = &mut self.journal {
                entry.keep();
            }
            return Err(e);
        }
        sync_dir(target.parent().unwrap_or(Path::new("/")))
    }
}

impl Drop for Displaced {
    fn drop(&mut self) {
        if self.journal.as_ref().is_some_and(|j| j.is_kept()) {
            return;
        }
        let _ = remove_tree(&self.dir);
    }
}

impl Drop for StagedPlugin {
    fn drop(&mut self) {
        if !self.published {
            let _ = remove_tree(&self.dir);
            store::Store::take_back(&self.new_objects);
            // Leave no empty `<marketplace>/<plugin>/` behind a failed install (only empty
            // folders are removed, so a concurrent install's folders are safe).
            if let Some(plugin_dir) = self.dir.parent()
                && fs::remove_dir(plugin_dir).is_ok()
                && let Some(mkt_dir) = plugin_dir.parent()
            {
                let _ = fs::remove_dir(mkt_dir);
            }
        }
    }
}

/// Flush the staged tree (see [`crate::platform::flush_tree`] for how each OS does it).
fn sync_tree(dir: &Path) -> Result<(), IoError> {
    crate::platform::flush_tree(dir).at("sync", dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(version: &str) -> Marker {
        Marker {
            v: 1,
            marketplace: "m".into(),
            plugin: "p".into(),
            version: version.into(),
            files: 0,
            bytes: 0,
            resolved: None,
            digest: None,
        }
    }

    #[test]
    fn publish_replaces_and_sweep_cleans() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path().join("cache"));
        let target = cache.plugin_dir("m", "p").join("1.0.0");
        let mut s = cache.stage("m", "p").unwrap();
        fs::write(s.path().join("a"), "1").unwrap();
        s.seal(marker("1.0.0"), None, None).unwrap();
        assert!(s.publish(&target, "1.0.0").unwrap().is_none());
        assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "1");
        fs::write(target.join(".orphaned_at"), "1").unwrap();

        // The same content again: the folder in place is kept (same inode), no longer orphaned.
        let identity = || crate::platform::Stat::of_path(&target, &mut None).unwrap();
        let before = identity();
        let mut s = cache.stage("m", "p").unwrap();
        fs::write(s.path().join("a"), "1").unwrap();
        s.seal(marker("1.0.0"), None, None).unwrap();
        let staging = s.path().to_path_buf();
        s.compare_with(&target);
        assert!(s.publish(&target, "1.0.0").unwrap().is_none());
        assert!(identity().same_file(&before));
        // The recording step takes the mark off, and puts it back if it fails.
        let mut tx = Transaction::new();
        clear_orphan_mark(&target, &mut tx).unwrap();
        assert!(!target.join(".orphaned_at").exists());
        tx.roll_back().unwrap();
        assert_eq!(
            fs::read_to_string(target.join(".orphaned_at")).unwrap(),
            "1"
        );
        let mut tx = Transaction::new();
        clear_orphan_mark(&target, &mut tx).unwrap();
        tx.commit();
        assert!(!target.join(".orphaned_at").exists());
        assert!(!staging.exists());
        fs::write(target.join(".orphaned_at"), "1").unwrap();

        let mut s = cache.stage("m", "p").unwrap();
        fs::write(s.path().join("b"), "2").unwrap();
        s.seal(marker("1.0.0"), None, None).unwrap();
        let displaced = s
            .publish(&target, "1.0.0")
            .unwrap()
            .expect("old content displaced");
        drop(displaced);
        assert!(!target.join("a").exists());
        assert!(!target.join(".orphaned_at").exists());
        assert_eq!(read_marker(&target).unwrap().version, "1.0.0");

        let s = cache.stage("m", "p").unwrap();
        let err = s.publish(&target, "1.0.0+x").unwrap_err();
        assert!(matches!(err, CacheError::VersionCollision { .. }), "{err}");

        let left = cache.stage("m", "p").unwrap();
        let left_path = left.path().to_path_buf();
        std::mem::forget(left); // as if the process died
        assert_eq!(cache.sweep_staging().unwrap(), 1);
        assert!(!left_path.exists());
        let entries: Vec<_> = fs::read_dir(cache.plugin_dir("m", "p")).unwrap().collect();
        assert_eq!(entries.len(), 1);
    }

    /// Once the journal exists, a sweep looks only in the plugin folders its entries name.
    #[test]
    fn the_sweep_follows_the_journal_once_it_exists() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path().join("cache"));
        let journal = t.path().join(".plugin-journal-v1");
        let killed = |plugin: &str| {
            let s = cache.stage("m", plugin).unwrap();
            let path = s.path().to_path_buf();
            std::mem::forget(s);
            path
        };
        // A cache from before the journal: no entry is written, every plugin folder is swept.
        let old = killed("p");
        assert!(!journal.exists());
        assert_eq!(cache.sweep_staging().unwrap(), 1);
        assert!(!old.exists() && journal.is_dir());

        let (p, q) = (killed("p"), killed("q"));
        assert_eq!(fs::read_dir(&journal).unwrap().count(), 2);
        let unjournaled = cache.plugin_dir("m", "r").join(".plugin-staging-0000");
        fs::create_dir_all(&unjournaled).unwrap();
        assert_eq!(cache.sweep_staging().unwrap(), 2);
        assert!(!p.exists() && !q.exists());
        assert!(unjournaled.exists(), "left to `cache prune`");
        assert_eq!(fs::read_dir(&journal).unwrap().count(), 0);
        // An entry that names no plugin folder of the cache (cut short, or a way out): every
        // plugin folder is swept, nothing outside the cache touched.
        let outside = t.path().join("outside/.plugin-staging-1111");
        fs::create_dir_all(&outside).unwrap();
        fs::write(journal.join("bad"), "../outside").unwrap();
        fs::write(journal.join("empty"), "").unwrap();
        assert_eq!(cache.sweep_staging().unwrap(), 1);
        assert!(!unjournaled.exists() && outside.exists());
        assert_eq!(fs::read_dir(&journal).unwrap().count(), 0);

        // A finished staging takes its entry with it, published or not.
        let mut s = cache.stage("m", "p").unwrap();
        fs::write(s.path().join("a"), "1").unwrap();
        s.seal(marker("1.0.0"), None, None).unwrap();
        s.publish(&cache.plugin_dir("m", "p").join("1.0.0"), "1.0.0")
            .unwrap();
        drop(cache.stage("m", "p").unwrap());
        let mut s = cache.stage("m", "p").unwrap();
        fs::write(s.path().join("b"), "2").unwrap();
        s.seal(marker("1.0.0"), None, None).unwrap();
        let displaced = (s.publish(&cache.plugin_dir("m", "p").join("1.0.0"), "1.0.0"))
            .unwrap()
            .expect("replaced");
        assert_eq!(fs::read_dir(&journal).unwrap().count(), 1, "until removed");
        drop(displaced);
        assert_eq!(fs::read_dir(&journal).unwrap().count(), 0);

        // A swap back that fails keeps the previous content and its entry for the sweep.
        let mut s = cache.stage("m", "p").unwrap();
        fs::write(s.path().join("c"), "3").unwrap();
        s.seal(marker("1.0.0"), None, None).unwrap();
        let displaced = (s.publish(&cache.plugin_dir("m", "p").join("1.0.0"), "1.0.0"))
            .unwrap()
            .expect("replaced");
        let previous = displaced.dir.clone();
        assert!(
            displaced
                .put_back(&cache.plugin_dir("m", "p").join("gone"))
                .is_err()
        );
        assert_eq!(fs::read_to_string(previous.join("b")).unwrap(), "2");
        assert_eq!(fs::read_dir(&journal).unwrap().count(), 1);
        assert_eq!(cache.sweep_staging().unwrap(), 1);
    }

    #[test]
    fn long_and_case_colliding_names_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path().join("cache"));
        let long = "x".repeat(300);
        assert!(matches!(
            cache.check_names("m", "p", &long),
            Err(CacheError::NameTooLong { .. })
        ));
        fs::create_dir_all(cache.plugin_dir("m", "MyPlugin")).unwrap();
        assert!(matches!(
            cache.check_names("m", "myplugin", "1"),
            Err(CacheError::CaseCollision { .. })
        ));
        assert!(cache.check_names("m", "MyPlugin", "1").is_ok());
        assert!(!t.path().join("cache/m/p").exists());
    }

    #[test]
    fn a_version_folder_left_aside_by_a_killed_exchange_is_put_back() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path().join("cache"));
        let target = cache.plugin_dir("m", "p").join("1.0.0");
        let mut s = cache.stage("m", "p").unwrap();
        fs::write(s.path().join("a"), "old").unwrap();
        s.seal(marker("1.0.0"), None, None).unwrap();
        s.publish(&target, "1.0.0").unwrap();
        // Killed after the first of the three renames: the old content is under its aside
        // name, nothing at the version folder.
        let aside = aside_for(&target);
        crate::fsutil::rename(&target, &aside).unwrap();
        assert!(interrupted_exchange(&aside).is_some());
        // Another staging folder left by a killed install is removed as before.
        let other = cache.stage("m", "p").unwrap();
        let other_path = other.path().to_path_buf();
        std::mem::forget(other);
        assert_eq!(cache.sweep_staging().unwrap(), 2);
        assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "old");
        assert!(!aside.exists() && !other_path.exists());

        // Killed after the second rename: the new content is in place, the old one goes. (The
        // journal exists now: the killed install's entry names the plugin folder.)
        std::mem::forget(cache.stage("m", "p").unwrap());
        let aside = aside_for(&target);
        fs::create_dir(&aside).unwrap();
        fs::write(aside.join(".plugin-ok"), "{}").unwrap();
        assert!(interrupted_exchange(&aside).is_none());
        cache.sweep_staging().unwrap();
        assert!(!aside.exists());
        assert_eq!(fs::read_to_string(target.join("a")).unwrap(), "old");
    }
}
