//! What `plugin cache prune` may remove: the policy (`--keep`, `--older-than`), listings of the
//! plugin cache and the download cache, and the decisions over those listings. Nothing here
//! removes anything or looks at processes; `ops::cache` does both.
//!
//! ```text
//! <plugins-root>/cache/
//! ├── <m>/<p>/<ver>/                 orphaned when no install record points at it; its age is
//! │   ├── .orphaned_at               Claude Code's marker (epoch ms) — no marker: written now
//! │   └── .in_use/<pid>              Claude Code's marker of a running session (name or content)
//! ├── <m>/<p>/<ver>.tmp~<HEX8>       Claude Code: an old folder moved aside during a replace
//! ├── <m>/<p>/.plugin-staging-<rnd>  ours: a staging folder (leftover once the lock is ours)
//! └── temp_{local,git,github,subdir,npm}_<MS>_<RND6>[…]   Claude Code: staging copies and clones
//!
//! <user cache>/plugin/downloads-v1/
//! ├── sha512-<hex>.tgz               npm tarballs (plugins and their locked dependencies)
//! ├── sha256-<hex>.whl | .zip        wheels and archives
//! ├── npm-seen/<hex>                 resolutions of exact npm versions (a hash of registry,
//! │                                  package and version: which install used it cannot be told)
//! └── .tmp-<pid>-<hex>               a download in progress (or left by a killed one)
//! ```

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{ORPHANED_AT, STAGING_PREFIX, read_dirs};
use crate::fsutil::JSON_FILE_LIMIT;
use crate::platform::process_alive;

/// Claude Code's temporary folders may be being written by a running Claude Code, which takes no
/// lock of ours: they are left alone until they are this old.
pub const TEMP_MIN_AGE: Duration = Duration::from_secs(3600);

/// Claude Code's prefixes of temporary folders directly under `cache/` (§1.6 of the spec).
const CLAUDE_TEMP_PREFIXES: [&str; 5] = [
    "temp_local_",
    "temp_git_",
    "temp_github_",
    "temp_subdir_",
    "temp_npm_",
];

/// Refusals of `--older-than`.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "invalid --older-than value \"{0}\": use a whole number followed by s, m, h, d or w (30s, 45m, 12h, 14d, 2w), or 0"
    )]
    BadAge(String),
}

/// How much `cache prune` keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Orphaned versions kept per plugin, newest first (0: none, once old enough).
    pub keep: usize,
    /// Orphans and unused downloads younger than this stay.
    pub older_than: Duration,
}

impl PrunePolicy {
    /// Parse `--older-than`.
    pub fn new(keep: usize, older_than: &str) -> Result<Self, PolicyError> {
        Ok(Self {
            keep,
            older_than: parse_age(older_than)?,
        })
    }
}

/// Parse `0` or a whole number with a unit: `30s`, `45m`, `12h`, `14d`, `2w`.
pub fn parse_age(raw: &str) -> Result<Duration, PolicyError> {
    let bad = || PolicyError::BadAge(raw.to_string());
    if raw == "0" {
        return Ok(Duration::ZERO);
    }
    let split = raw
        .len()
        .checked_sub(1)
        .filter(|&i| raw.is_char_boundary(i));
    let (number, unit) = split.map(|i| raw.split_at(i)).ok_or_else(bad)?;
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    // `parse` alone would accept a leading `+`.
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = number.parse().map_err(|_| bad())?;
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// A real version folder (never a symlink) as found under `cache/<m>/<p>/`.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionFolder {
    pub path: PathBuf,
    /// An install record (any scope, any project) points at it.
    pub referenced: bool,
    /// Claude Code's `.orphaned_at` (epoch ms); `None` when missing or unreadable.
    pub orphaned_at: Option<i64>,
}

/// What happens to one version folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionAction {
    Keep(KeepReason),
    /// An orphan without `.orphaned_at`: gets the marker now, so it ages from today.
    Mark,
    Remove,
}

/// Why a version folder stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepReason {
    /// An install record (or a link's kept original) points at it.
    Installed,
    /// One of the `--keep` newest orphans of its plugin.
    Newest,
    /// Orphaned for less than `--older-than`.
    Recent,
}

/// Decide for each folder (same order as `folders`): referenced folders stay; unmarked orphans
/// are marked; per plugin the `keep` newest orphans (by `.orphaned_at`, an unmarked one counting
/// as orphaned now) stay, and older ones go once they have been orphaned for `older_than`.
pub fn plan_versions(
    folders: &[VersionFolder],
    policy: &PrunePolicy,
    now_ms: i64,
) -> Vec<VersionAction> {
    let mut actions = vec![VersionAction::Keep(KeepReason::Installed); folders.len()];
    let mut orphans: Vec<usize> = (0..folders.len())
        .filter(|&i| !folders[i].referenced)
        .collect();
    // Newest first within each plugin folder; the name breaks ties so runs are repeatable.
    orphans.sort_by(|&a, &b| {
        let (fa, fb) = (&folders[a], &folders[b]);
        fa.path.parent().cmp(&fb.path.parent()).then_with(|| {
            let at = |f: &VersionFolder| f.orphaned_at.unwrap_or(now_ms);
            at(fb).cmp(&at(fa)).then_with(|| fb.path.cmp(&fa.path))
        })
    });
    let older_than_ms = i64::try_from(policy.older_than.as_millis()).unwrap_or(i64::MAX);
    let mut rank = 0;
    for (n, &i) in orphans.iter().enumerate() {
        let same_plugin =
            n > 0 && folders[orphans[n - 1]].path.parent() == folders[i].path.parent();
        rank = if same_plugin { rank + 1 } else { 0 };
        actions[i] = match folders[i].orphaned_at {
            None => VersionAction::Mark,
            Some(_) if rank < policy.keep => VersionAction::Keep(KeepReason::Newest),
            Some(at) if now_ms.saturating_sub(at) >= older_than_ms => VersionAction::Remove,
            Some(_) => VersionAction::Keep(KeepReason::Recent),
        };
    }
    actions
}

/// Every real version folder under `cache/<m>/<p>/` (symlinks, staging and temporary names
/// excluded), with `referenced` from `is_referenced`.
pub fn list_versions(
    cache_dir: &Path,
    is_referenced: impl Fn(&Path) -> bool,
) -> Vec<VersionFolder> {
    let mut out = Vec::new();
    for mkt in read_dirs(cache_dir) {
        if name_of(&mkt).is_some_and(|n| claude_temp_time(n).is_some()) {
            continue;
        }
        for plugin in read_dirs(&mkt) {
            out.extend(plugin_versions(&plugin, &is_referenced));
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The real version folders of one plugin folder (`cache/<m>/<p>`).
pub fn plugin_versions(plugin: &Path, is_referenced: impl Fn(&Path) -> bool) -> Vec<VersionFolder> {
    let mut out = Vec::new();
    for dir in read_dirs(plugin) {
        let Some(name) = name_of(&dir) else { continue };
        if name.starts_with(STAGING_PREFIX) || is_moved_aside(name) {
            continue;
        }
        let orphaned_at = crate::fsutil::read_regular_text(&dir.join(ORPHANED_AT), JSON_FILE_LIMIT)
            .ok()
            .and_then(|t| t.trim().parse().ok());
        out.push(VersionFolder {
            referenced: is_referenced(&dir),
            path: dir,
            orphaned_at,
        });
    }
    out
}

/// What a leftover is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftoverKind {
    /// Ours: removable whenever the cache lock is held exclusively.
    Staging,
    /// Claude Code's: removable once older than [`TEMP_MIN_AGE`].
    Temp,
}

/// A leftover folder of an interrupted install.
#[derive(Clone, Debug, PartialEq)]
pub struct Leftover {
    pub path: PathBuf,
    pub kind: LeftoverKind,
    /// When it was last written (Claude Code's temp names carry their creation time; else mtime).
    pub modified_ms: i64,
}

impl Leftover {
    pub fn removable(&self, now_ms: i64) -> bool {
        self.kind == LeftoverKind::Staging || old_enough(self.modified_ms, TEMP_MIN_AGE, now_ms)
    }
}

/// Our staging folders and Claude Code's temporary folders in the plugin cache.
pub fn list_leftovers(cache_dir: &Path) -> Vec<Leftover> {
    let mut out = Vec::new();
    for top in read_dirs(cache_dir) {
        if let Some(ms) = name_of(&top).and_then(claude_temp_time) {
            out.push(Leftover {
                modified_ms: ms.max(modified_ms(&top)),
                path: top,
                kind: LeftoverKind::Temp,
            });
            continue;
        }
        for plugin in read_dirs(&top) {
            for path in super::staging_in(&plugin) {
                out.push(Leftover {
                    modified_ms: modified_ms(&path),
                    path,
                    kind: LeftoverKind::Staging,
                });
            }
            for path in read_dirs(&plugin) {
                if name_of(&path).is_some_and(is_moved_aside) {
                    out.push(Leftover {
                        modified_ms: modified_ms(&path),
                        path,
                        kind: LeftoverKind::Temp,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The creation time in a Claude Code temp name (`temp_git_<MS>_<RND6>…`).
fn claude_temp_time(name: &str) -> Option<i64> {
    let rest = CLAUDE_TEMP_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))?;
    let (ms, _) = rest.split_once('_')?;
    (!ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()))
        .then(|| ms.parse().ok())
        .flatten()
}

/// `<ver>.tmp~<HEX8>`: an old version folder Claude Code moved aside while replacing it.
fn is_moved_aside(name: &str) -> bool {
    name.rsplit_once(".tmp~").is_some_and(|(ver, hex)| {
        !ver.is_empty() && hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// An entry of our own user-level caches (download cache, git cache).
#[derive(Clone, Debug, PartialEq)]
pub struct Artifact {
    pub path: PathBuf,
    /// Named by the `.plugin-ok` marker (or record) of an installed version folder.
    pub referenced: bool,
    /// A temporary entry (`.tmp-…`): judged by [`TEMP_MIN_AGE`] instead of `--older-than`.
    pub temporary: bool,
    /// The newest modification inside it.
    pub modified_ms: i64,
}

impl Artifact {
    pub fn removable(&self, policy: &PrunePolicy, now_ms: i64) -> bool {
        if self.temporary {
            return old_enough(self.modified_ms, TEMP_MIN_AGE, now_ms);
        }
        !self.referenced && old_enough(self.modified_ms, policy.older_than, now_ms)
    }
}

/// The download-cache file name (without extension) that provenance `integrity` names:
/// `sha256:<hex>` → `sha256-<hex>`, npm's SRI `sha512-<base64>` → `sha512-<hex>`. A bare
/// `sha1:` (npm packages that publish no integrity) names no file: those go by age only.
pub fn download_key(integrity: &str) -> Option<String> {
    if let Some(hex) = integrity.strip_prefix("sha256:") {
        return Some(format!("sha256-{}", hex.to_ascii_lowercase()));
    }
    crate::download::sri_sha512(integrity).map(|hex| format!("sha512-{hex}"))
}

/// The download cache's entries. A digest-named file is referenced when its name (without
/// extension) is in `referenced`; `npm-seen/` records are judged by age only (their names are
/// hashes that no marker records; a lost one costs one registry request).
pub fn list_downloads(dir: &Path, referenced: &HashSet<String>) -> Vec<Artifact> {
    let mut out = Vec::new();
    for entry in crate::fsutil::sorted_entries(dir) {
        let Some(name) = name_of(&entry) else {
            continue;
        };
        if name == "npm-seen" && entry.is_dir() && !entry.is_symlink() {
            for seen in crate::fsutil::sorted_entries(&entry) {
                out.push(artifact(seen, false, false));
            }
            continue;
        }
        let stem = name.split('.').next().unwrap_or(name);
        let temporary = name.starts_with(".tmp-");
        let is_referenced = referenced.contains(stem);
        out.push(artifact(entry, is_referenced, temporary));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// An [`Artifact`] for `path`, its age from the newest modification inside.
pub fn artifact(path: PathBuf, referenced: bool, temporary: bool) -> Artifact {
    Artifact {
        modified_ms: tree_stats(&path).1,
        path,
        referenced,
        temporary,
    }
}

/// A live process id that Claude Code's `.in_use/` folder inside `dir` names, as a file name or
/// as a file's content. Ids of processes that are gone do not count.
pub fn in_use_marker(dir: &Path) -> Option<i32> {
    crate::fsutil::sorted_entries(&dir.join(".in_use"))
        .into_iter()
        .find_map(|f| {
            let by_name = name_of(&f).and_then(|n| n.parse::<i32>().ok());
            let by_content = || {
                crate::fsutil::read_regular_text(&f, JSON_FILE_LIMIT)
                    .ok()
                    .and_then(|t| t.trim().parse::<i32>().ok())
            };
            [by_name, by_content()]
                .into_iter()
                .flatten()
                .find(|&pid| pid > 0 && process_alive(pid))
        })
}

/// Bytes of the files under `path` (links not followed) and the newest modification time (ms)
/// of anything in it.
pub fn tree_stats(path: &Path) -> (u64, i64) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return (0, 0);
    };
    // A file with other names (a version folder's link to a store object) frees nothing here;
    // the object's bytes are counted when it goes.
    let shared = || crate::platform::links_and_blocks(path).is_ok_and(|l| l.count > 1);
    let mut bytes = if meta.is_file() && !shared() {
        meta.len()
    } else {
        0
    };
    let mut newest = meta.modified().map(system_ms).unwrap_or(0);
    if meta.is_dir() {
        for child in crate::fsutil::sorted_entries(path) {
            let (b, m) = tree_stats(&child);
            bytes += b;
            newest = newest.max(m);
        }
    }
    (bytes, newest)
}

fn old_enough(modified_ms: i64, age: Duration, now_ms: i64) -> bool {
    let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    now_ms.saturating_sub(modified_ms) >= age_ms
}

fn modified_ms(path: &Path) -> i64 {
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .map(system_ms)
        .unwrap_or(0)
}

fn system_ms(t: SystemTime) -> i64 {
    jiff::Timestamp::try_from(t)
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

fn name_of(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn folder(path: &str, referenced: bool, orphaned_at: Option<i64>) -> VersionFolder {
        VersionFolder {
            path: PathBuf::from(path),
            referenced,
            orphaned_at,
        }
    }

    #[test]
    fn ages_parse() {
        let ok = |s: &str| parse_age(s).unwrap().as_secs();
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("30s"), 30);
        assert_eq!(ok("45m"), 2700);
        assert_eq!(ok("12h"), 43_200);
        assert_eq!(ok("14d"), 1_209_600);
        assert_eq!(ok("2w"), 1_209_600);
        for bad in [
            "",
            "d",
            "14",
            "1.5d",
            "-1d",
            "+1d",
            "14x",
            "14 d",
            "99999999999999999999w",
            "7ä",
        ] {
            let e = parse_age(bad).unwrap_err();
            assert!(e.to_string().contains(&format!("\"{bad}\"")), "{e}");
        }
        assert_eq!(PrunePolicy::new(0, "14d").unwrap().keep, 0);
    }

    #[test]
    fn plan_keeps_newest_orphans_and_young_ones() {
        let now = 100 * DAY;
        let policy = PrunePolicy::new(1, "14d").unwrap();
        let folders = [
            folder("c/m/p/1.0.0", false, Some(now - 40 * DAY)), // old, beyond keep → remove
            folder("c/m/p/1.1.0", false, Some(now - 30 * DAY)), // newest marked orphan → keep
            folder("c/m/p/1.2.0", true, Some(now - 50 * DAY)),  // referenced → keep
            folder("c/m/q/1.0.0", false, Some(now - 40 * DAY)), // only orphan of q → keep
            folder("c/m/q/0.9.0", false, Some(now - 60 * DAY)), // beyond keep, old → remove
            folder("c/m/r/1.0.0", false, Some(now - 20 * DAY)), // third newest, old → remove
            folder("c/m/r/0.1.0", false, Some(now - 2 * DAY)),  // newest of r
            folder("c/m/r/0.0.1", false, Some(now - 3 * DAY)),  // beyond keep, young → keep
            folder("c/m/s/2.0.0", false, None),                 // unmarked → mark
            folder("c/m/s/1.0.0", false, Some(now - 40 * DAY)), // unmarked counts as newest
        ];
        use KeepReason::*;
        use VersionAction::*;
        assert_eq!(
            plan_versions(&folders, &policy, now),
            vec![
                Remove,
                Keep(Newest),
                Keep(Installed),
                Keep(Newest),
                Remove,
                Remove,
                Keep(Newest),
                Keep(Recent),
                Mark,
                Remove
            ]
        );
        let keep2 = PrunePolicy::new(2, "0").unwrap();
        assert_eq!(
            plan_versions(&folders[..3], &keep2, now),
            vec![Keep(Newest), Keep(Newest), Keep(Installed)]
        );
        // --keep 0: every orphan old enough goes, the newest too; young ones and records stay.
        let keep0 = PrunePolicy::new(0, "14d").unwrap();
        assert_eq!(
            plan_versions(&folders[..8], &keep0, now),
            vec![
                Remove,
                Remove,
                Keep(Installed),
                Remove,
                Remove,
                Remove,
                Keep(Recent),
                Keep(Recent)
            ]
        );
    }

    #[test]
    fn temp_names() {
        assert_eq!(
            claude_temp_time("temp_git_1700000000000_abc123"),
            Some(1_700_000_000_000)
        );
        assert_eq!(claude_temp_time("temp_subdir_17_abc123.clone"), Some(17));
        assert_eq!(claude_temp_time("temp_npm_5_abc123_x"), Some(5));
        assert_eq!(claude_temp_time("temp_git_x_abc123"), None);
        assert_eq!(claude_temp_time("my-marketplace"), None);
        assert!(is_moved_aside("1.0.0.tmp~0a1B2c3D"));
        assert!(!is_moved_aside("1.0.0.tmp~0a1B2c3"));
        assert!(!is_moved_aside("1.0.0"));
    }

    #[test]
    fn download_keys_and_in_use_markers() {
        assert_eq!(download_key("sha256:ABcd").as_deref(), Some("sha256-abcd"));
        assert_eq!(
            download_key("sha512-AAEC").as_deref(),
            Some("sha512-000102")
        );
        assert_eq!(download_key("sha1:00ff"), None);

        let t = tempfile::tempdir().unwrap();
        let v = t.path().join("1.0.0");
        fs::create_dir_all(v.join(".in_use")).unwrap();
        assert_eq!(in_use_marker(&v), None, "an empty .in_use does not count");
        fs::write(v.join(".in_use/session"), "999999999").unwrap();
        assert_eq!(in_use_marker(&v), None, "a dead pid does not count");
        let me = std::process::id() as i32;
        fs::write(v.join(".in_use/other"), format!("{me}\n")).unwrap();
        assert_eq!(in_use_marker(&v), Some(me));
        fs::remove_file(v.join(".in_use/other")).unwrap();
        fs::write(v.join(format!(".in_use/{me}")), "").unwrap();
        assert_eq!(in_use_marker(&v), Some(me));
    }
}
