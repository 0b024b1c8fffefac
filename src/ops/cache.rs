//! `cache prune` and `cache dir`.
//!
//! Prune holds the cache lock exclusively for the whole run (installs hold it shared from staging
//! through publish and recording), reads `installed_plugins.json` under it, decides with
//! [`crate::cache::prune`], and spares whatever a live process uses ([`crate::inuse`], Claude
//! Code's `.in_use` markers) or is fetching into (a git database's own lock).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Context, OpError};
use crate::cache::prune::{
    Artifact, KeepReason, LeftoverKind, PrunePolicy, VersionAction, artifact, download_key,
    in_use_marker, list_downloads, list_leftovers, list_versions, plan_versions, tree_stats,
};
use crate::cache::store::listed_keys;
use crate::cache::{mark_orphaned, read_marker};
use crate::fsutil::{IoError, epoch_millis, remove_tree, sorted_entries};
use crate::git::database::{holds_any_commit, lock_path};
use crate::inuse::{self, Use};
use crate::lock::{FileLock, LockMode};
use crate::state::InstallRecord;

/// What a pruned entry was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PruneKind {
    Version,
    Staging,
    Temp,
    Download,
    Git,
}

impl PruneKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PruneKind::Version => "version",
            PruneKind::Staging => "staging",
            PruneKind::Temp => "temp",
            PruneKind::Download => "download",
            PruneKind::Git => "git",
        }
    }
}

/// An entry removed (or, in a dry run, removable).
#[derive(Clone, Debug)]
pub struct Removed {
    pub path: PathBuf,
    pub kind: PruneKind,
    pub bytes: u64,
    pub is_dir: bool,
}

/// Why a removable entry stayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeptReason {
    /// A process's working directory, executable or open file is inside.
    Process(Use),
    /// Claude Code's `.in_use/` names a live process.
    InUseMarker { pid: i32 },
    /// Another process holds the git database's fetch lock.
    GitFetch,
}

impl KeptReason {
    pub fn pid(self) -> Option<i32> {
        match self {
            KeptReason::Process(u) => Some(u.pid),
            KeptReason::InUseMarker { pid } => Some(pid),
            KeptReason::GitFetch => None,
        }
    }

    /// What holds the entry: `cwd`, `exe`, `open file`, `.in_use marker` or `git fetch`.
    pub fn what(self) -> &'static str {
        match self {
            KeptReason::Process(u) => u.how.as_str(),
            KeptReason::InUseMarker { .. } => ".in_use marker",
            KeptReason::GitFetch => "git fetch",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Kept {
    pub path: PathBuf,
    pub reason: KeptReason,
}

/// A version folder that stays, and why (`plugin@marketplace` and version from its path).
#[derive(Clone, Debug)]
pub struct KeptVersion {
    pub path: PathBuf,
    pub id: String,
    pub version: String,
    pub reason: KeepReason,
}

#[derive(Clone, Debug)]
pub struct PruneReport {
    /// Paths under it are shown relative to it.
    pub plugins_root: PathBuf,
    pub removed: Vec<Removed>,
    pub kept: Vec<Kept>,
    /// Orphans that got `.orphaned_at` in this run (or would, in a dry run).
    pub marked: Vec<PathBuf>,
    /// Version folders that stay by the policy (in use ones are in `kept`).
    pub kept_versions: Vec<KeptVersion>,
    /// The policy's `--keep`, for saying why.
    pub keep: usize,
    /// Everything freed, the store objects' bytes included.
    pub bytes: u64,
    /// Objects of the content store that no version folder uses any more, and their bytes.
    pub store_objects: u64,
    pub store_bytes: u64,
    pub dry_run: bool,
}

/// The plugin cache folder.
pub fn dir(ctx: &Context) -> PathBuf {
    ctx.loc.cache_dir()
}

/// What `cache dir --usage` reports.
#[derive(Clone, Debug, Default)]
pub struct CacheUsage {
    pub versions: u64,
    /// Regular files in the version folders, and their sizes added up.
    pub files: u64,
    pub logical: u64,
    /// What the version folders and the store take on disk, a file with several names once.
    pub disk: u64,
    /// Files of version folders with another name (their store object).
    pub shared_files: u64,
    /// `None` before the first install made the store.
    pub link_mode: Option<crate::cache::store::LinkMode>,
}

/// How much the version folders hold, and what they and the content store take on disk.
pub fn usage(ctx: &Context) -> CacheUsage {
    let mut u = CacheUsage {
        link_mode: ctx.store().ok().and_then(|s| s.known_mode()),
        ..CacheUsage::default()
    };
    let mut seen = HashSet::new();
    let cache_dir = ctx.loc.cache_dir();
    for mkt in read_subdirs(&cache_dir) {
        for plugin in read_subdirs(&mkt) {
            for version in read_subdirs(&plugin) {
                u.versions += 1;
                add_usage(&version, true, &mut u, &mut seen);
            }
        }
    }
    if let Ok(store) = ctx.store() {
        add_usage(store.dir(), false, &mut u, &mut seen);
    }
    u
}

/// Count what is under `path` (links not followed) into `u`: files and their sizes when
/// `logical`, and on-disk bytes of every file not `seen` before (by device and inode).
fn add_usage(path: &Path, logical: bool, u: &mut CacheUsage, seen: &mut HashSet<(u64, u64)>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        for child in sorted_entries(path) {
            add_usage(&child, logical, u, seen);
        }
        return;
    }
    if !meta.is_file() {
        return;
    }
    let links = crate::platform::links_in(path, &meta).unwrap_or(crate::platform::Links {
        count: 1,
        disk: meta.len(),
        id: (0, 0),
    });
    if logical {
        u.files += 1;
        u.logical += meta.len();
        u.shared_files += u64::from(links.count > 1);
    }
    if links.count <= 1 || seen.insert(links.id) {
        u.disk += links.disk;
    }
}

fn read_subdirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir)
        .into_iter()
        .filter(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
        .collect()
}

/// Remove old orphaned version folders, leftovers of interrupted installs and unused downloads
/// and git databases (docs/updating.md, "Pruning the cache").
pub fn prune(ctx: &Context, policy: &PrunePolicy, dry_run: bool) -> Result<PruneReport, OpError> {
    let _lock = FileLock::acquire(
        &ctx.loc.cache_lock_file(),
        LockMode::Exclusive,
        ctx.env.lock_timeout,
        &*ctx.on_lock_wait,
    )?;
    let installed = ctx.installed()?;
    let now = epoch_millis();
    let records: Vec<InstallRecord> = installed.all().into_iter().map(|(_, r)| r).collect();
    let recorded = recorded_folders(ctx, &records)?;
    let is_referenced = |p: &Path| {
        recorded.contains(p) || crate::fsutil::canonicalize(p).is_ok_and(|c| recorded.contains(&c))
    };

    let mut candidates = Vec::new();
    let mut marked = Vec::new();
    let mut kept_versions = Vec::new();
    let cache_dir = ctx.loc.cache_dir();
    let versions = list_versions(&cache_dir, is_referenced);
    for (v, action) in versions.iter().zip(plan_versions(&versions, policy, now)) {
        match action {
            VersionAction::Remove => candidates.push(Candidate::new(&v.path, PruneKind::Version)),
            VersionAction::Mark => marked.push(v.path.clone()),
            VersionAction::Keep(reason) => kept_versions.push(kept_version(&v.path, reason)),
        }
    }
    for l in list_leftovers(&cache_dir) {
        if l.removable(now) {
            let kind = match l.kind {
                LeftoverKind::Staging => PruneKind::Staging,
                LeftoverKind::Temp => PruneKind::Temp,
            };
            candidates.push(Candidate::new(&l.path, kind));
        }
    }
    candidates.extend(unused_artifacts(ctx, &records, policy, now));

    let mut report = PruneReport {
        plugins_root: ctx.loc.plugins_root.clone(),
        removed: Vec::new(),
        kept: Vec::new(),
        marked,
        kept_versions,
        keep: policy.keep,
        bytes: 0,
        store_objects: 0,
        store_bytes: 0,
        dry_run,
    };
    remove_unless_held(candidates, &mut report)?;
    let removed_versions: HashSet<PathBuf> = (report.removed.iter())
        .filter(|r| r.kind == PruneKind::Version)
        .map(|r| r.path.clone())
        .collect();
    let (objects, bytes) = unused_objects(ctx, &removed_versions, dry_run)?;
    report.store_objects = objects;
    report.store_bytes = bytes;
    report.bytes += bytes;
    if !dry_run {
        super::in_transaction(|tx| {
            for m in &report.marked {
                mark_orphaned(m, tx)?;
            }
            Ok(())
        })?;
    }
    Ok(report)
}

/// Remove the content store's objects that no version folder uses once `removed` (version
/// folders) are gone, and the store's leftover temporaries; a dry run counts them. An object is
/// used when a remaining folder's listing names it or another name links it (a folder with no
/// listing), see `cache::store`. Returns how many objects, and their bytes.
fn unused_objects(
    ctx: &Context,
    removed: &HashSet<PathBuf>,
    dry_run: bool,
) -> Result<(u64, u64), OpError> {
    let store = ctx.store()?;
    if !store.dir().is_dir() {
        return Ok((0, 0));
    }
    let cache_dir = ctx.loc.cache_dir();
    let listed = listed_keys(&cache_dir, |v| removed.contains(v));
    // In a dry run the removed folders still link their objects.
    let linked_by_removed = match dry_run {
        true => listed_keys(&cache_dir, |v| !removed.contains(v)),
        false => HashSet::new(),
    };
    let (mut count, mut bytes) = (0, 0);
    for o in store.objects() {
        let other_links = o.links > 1 && !linked_by_removed.contains(&o.key);
        if listed.contains(&o.key) || other_links {
            continue;
        }
        if !dry_run {
            remove_entry(&o.path, false)?;
        }
        count += 1;
        bytes += o.size;
    }
    if !dry_run {
        // No install is running (the cache lock is ours): a temporary is a dead one's.
        for t in store.temporaries() {
            remove_entry(&t, false)?;
        }
    }
    Ok((count, bytes))
}

/// An entry prune removes unless something holds it.
struct Candidate {
    path: PathBuf,
    kind: PruneKind,
    /// A git database: removed only under its fetch lock.
    fetch_lock: bool,
}

impl Candidate {
    fn new(path: &Path, kind: PruneKind) -> Self {
        Self {
            path: path.to_path_buf(),
            kind,
            fetch_lock: false,
        }
    }
}

/// The recorded install folders and what `plugin link` replaced (kept for `plugin unlink`), each
/// as recorded and canonical.
fn recorded_folders(ctx: &Context, records: &[InstallRecord]) -> Result<HashSet<PathBuf>, OpError> {
    let linked = crate::state::Links::read(&ctx.loc.links_file())?.kept();
    Ok(records
        .iter()
        .map(|r| PathBuf::from(&r.install_path))
        .chain(linked)
        .flat_map(|p| [crate::fsutil::canonicalize(&p).ok(), Some(p)])
        .flatten()
        .collect())
}

/// Downloads and git databases no recorded version folder was made from, old enough to go.
fn unused_artifacts(
    ctx: &Context,
    records: &[InstallRecord],
    policy: &PrunePolicy,
    now: i64,
) -> Vec<Candidate> {
    let provenance: Vec<_> = records
        .iter()
        .filter_map(|r| read_marker(Path::new(&r.install_path))?.resolved)
        .collect();
    let keys: HashSet<String> = provenance
        .iter()
        .filter_map(|p| download_key(p.integrity.as_deref()?))
        .collect();
    let commits: Vec<String> = provenance
        .iter()
        .filter(|p| p.kind == "git")
        .map(|p| p.what.clone())
        .chain(records.iter().filter_map(|r| r.git_commit_sha.clone()))
        .collect();
    let downloads = list_downloads(&ctx.loc.downloads_dir(), &keys)
        .into_iter()
        .filter(|a| a.removable(policy, now))
        .map(|a| Candidate::new(&a.path, PruneKind::Download));
    let databases = git_databases(&ctx.loc.git_db_dir(), &commits)
        .into_iter()
        .filter(|a| a.removable(policy, now))
        .map(|a| Candidate {
            path: a.path,
            kind: PruneKind::Git,
            fetch_lock: !a.temporary,
        });
    downloads.chain(databases).collect()
}

/// Remove each candidate (a dry run only counts it) unless a process, an `.in_use` marker or a
/// running git fetch holds it; what stays goes to `report.kept`.
fn remove_unless_held(candidates: Vec<Candidate>, report: &mut PruneReport) -> Result<(), OpError> {
    let dry_run = report.dry_run;
    let paths: Vec<PathBuf> = candidates.iter().map(|c| c.path.clone()).collect();
    let uses: HashMap<PathBuf, Use> = inuse::processes_using(&paths).into_iter().collect();
    for Candidate {
        path,
        kind,
        fetch_lock,
    } in candidates
    {
        let held = uses
            .get(&path)
            .map(|&u| KeptReason::Process(u))
            .or_else(|| in_use_marker(&path).map(|pid| KeptReason::InUseMarker { pid }));
        if let Some(reason) = held {
            report.kept.push(Kept { path, reason });
            continue;
        }
        // Held until the database is gone, so no fetch starts into it meanwhile.
        let _fetch_lock = if fetch_lock {
            match try_fetch_lock(&path, dry_run)? {
                Some(lock) => lock,
                None => {
                    report.kept.push(Kept {
                        path,
                        reason: KeptReason::GitFetch,
                    });
                    continue;
                }
            }
        } else {
            None
        };
        let (bytes, _) = tree_stats(&path);
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if !dry_run {
            remove_entry(&path, is_dir)?;
        }
        report.bytes += bytes;
        report.removed.push(Removed {
            path,
            kind,
            bytes,
            is_dir,
        });
    }
    Ok(())
}

/// `cache/<m>/<p>/<version>` as `p@m` and `version`.
fn kept_version(path: &Path, reason: KeepReason) -> KeptVersion {
    let name = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let plugin = path.parent();
    KeptVersion {
        id: format!("{}@{}", name(plugin), name(plugin.and_then(Path::parent))),
        version: name(Some(path)),
        path: path.to_path_buf(),
        reason,
    }
}

/// The git cache's databases and leftovers of interrupted creations (`.tmp-<hex>`). A database
/// is referenced when it holds a commit that a recorded version folder was made from. Fetch
/// locks (`<db>.lock`) are left in place: removing a lock file another process may be about to
/// open would let two processes lock different files.
fn git_databases(root: &Path, commits: &[String]) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            let path = e.path();
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                artifact(path, false, true)
            } else {
                let referenced = holds_any_commit(&path, commits);
                artifact(path, referenced, false)
            }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Take a git database's fetch lock without waiting: `Ok(None)` when a fetch holds it,
/// `Ok(Some(None))` in a dry run without a lock file (none is created then; nobody is fetching).
fn try_fetch_lock(db: &Path, dry_run: bool) -> Result<Option<Option<FileLock>>, OpError> {
    let lock = lock_path(db);
    if dry_run && !lock.exists() {
        return Ok(Some(None));
    }
    Ok(FileLock::try_acquire(&lock, LockMode::Exclusive)?.map(Some))
}

fn remove_entry(path: &Path, is_dir: bool) -> Result<(), IoError> {
    if is_dir {
        return remove_tree(path);
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(IoError::new("remove", path, e)),
        _ => Ok(()),
    }
}
