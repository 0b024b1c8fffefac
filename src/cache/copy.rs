//! Copying a plugin folder into a staging folder under the symlink policy.
//!
//! Every link is judged by where it resolves:
//! * inside the plugin: kept as a link, relative (absolute links are rewritten), so the cached
//!   copy never points back at the source;
//! * inside the container (the marketplace root) but outside the plugin: dereferenced, the file
//!   or the whole tree is copied in its place;
//! * outside the container, dangling towards the outside, or part of a cycle: skipped, and
//!   reported so the caller can warn (Claude Code skips silently).
//!
//! A dereferenced tree that contains its own ancestor (`plugins/x -> ..`) is cut at the link
//! that would recurse. `.git` folders are not copied; file modes are kept; folders get the
//! default mode. This is the one function that turns a source tree into a version folder.
//!
//! The source may change while it is read (another process, a hostile one swapping a file for
//! a link to `~/.ssh/id_ed25519`). So folders are walked through open handles (`openat` without
//! following links, never by path), each file's identity (device and inode) is taken from its
//! own folder's handle when it is listed, and a file is copied or hashed only if opening it
//! without following a link gives that very file; anything else stops the copy.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::listing::{Entry, TreeListing, escape_path};
use super::statcache::{FileStat, StatCache};
use super::store::{LinkMode, OBJECT_MTIME, Store};
use super::tree::{
    CopyReport, SkipReason, Skipped, excluded_name, link_copied_note, links_refused,
};
use crate::fsutil::{IoContext, IoError, normalize_lexically, relative_path};
use crate::platform::{Folder, Kind};

/// Dereferenced trees nested deeper than this are cut (guards against link fan-out).
const MAX_DEREF_DEPTH: usize = 32;

#[derive(Debug, Clone)]
pub struct LinkPolicy {
    /// The plugin folder, canonical.
    pub plugin_root: PathBuf,
    /// Links into this folder (canonical) are dereferenced; `None` keeps only in-plugin links.
    pub container: Option<PathBuf>,
}

/// One entry of a plugin tree as the policy will write it, in walk order (a folder before
/// what it holds). Paths are relative to the plugin root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedEntry {
    Dir(PathBuf),
    /// A regular file and where its bytes come from (a dereferenced link's target included),
    /// with its stat data when it was listed: only that very file may be read.
    File {
        rel: PathBuf,
        src: PathBuf,
        stat: FileStat,
    },
    Link {
        rel: PathBuf,
        target: PathBuf,
    },
}

/// What the symlink policy makes of a plugin folder.
#[derive(Debug, Default)]
pub struct TreePlan {
    pub entries: Vec<PlannedEntry>,
    pub skipped: Vec<Skipped>,
    /// Symlinks met. What becomes of a link depends on files outside the folders walked (its
    /// target), so a plan with links cannot be vouched for by the stat data of what it lists.
    pub links: usize,
}

/// What the symlink policy makes of the plugin at `policy.plugin_root`, without writing
/// anything: the entries to create and what is left out.
pub fn plan_plugin_tree(policy: &LinkPolicy) -> Result<TreePlan, IoError> {
    let mut planner = Planner {
        policy,
        stack: vec![policy.plugin_root.clone()],
        plan: TreePlan::default(),
    };
    let root = &policy.plugin_root;
    let dir = open_dir_beneath(policy.container.as_deref(), root).at("open", root)?;
    planner.walk_dir(dir, root, Path::new(""), false)?;
    Ok(planner.plan)
}

/// Copy the plugin at `policy.plugin_root` into the existing, empty folder `dst`.
pub fn copy_plugin_tree(dst: &Path, policy: &LinkPolicy) -> Result<CopyReport, IoError> {
    copy_planned(dst, plan_plugin_tree(policy)?)
}

/// What lets a copy take files from the content store instead of reading and writing them.
pub struct Reuse<'a> {
    pub store: &'a Store,
    /// Where the remembered hashes of source folders are kept (see `statcache`).
    pub stat_dir: &'a Path,
}

/// [`copy_plugin_tree`], taking from the store each file whose hash the stat cache vouches for
/// and the store holds (a link instead of a read and a write), and remembering the hashes of
/// the files it read for the next time.
pub fn copy_plugin_tree_reusing(
    dst: &Path,
    policy: &LinkPolicy,
    reuse: &Reuse,
) -> Result<CopyReport, IoError> {
    let mut known = StatCache::load(reuse.stat_dir, &policy.plugin_root);
    let plan = plan_plugin_tree(policy)?;
    let stats: Vec<(String, FileStat)> = (plan.entries.iter())
        .filter_map(|e| match e {
            PlannedEntry::File { rel, stat, .. } => Some((escape_path(rel), *stat)),
            _ => None,
        })
        .collect();
    let report = copy_planned_with(dst, plan, &make_symlink, Some((reuse.store, &known)))?;
    if let Some(listing) = &report.listing {
        // Saved only when this copy learnt a hash: after an install's digest step saved the
        // file with its whole-tree line, a save here (files only) would drop that line.
        let mut learnt = false;
        for (key, stat) in stats {
            if let Some(Entry::File { sha256, .. }) = listing.get(&key) {
                learnt |= known.lookup(&key, &stat) != Some(sha256.as_str());
                let sha256 = sha256.clone();
                known.record(key, stat, sha256);
            }
        }
        if learnt {
            // Folders were not walked here: the files' hashes are remembered, not the tree's.
            known.without_tree();
            known.save(&listing.digest());
        }
    }
    Ok(report)
}

fn make_symlink(target: &Path, link: &Path) -> io::Result<()> {
    crate::platform::symlink(target, link)
}

/// Write what `plan` lists into the existing, empty folder `dst`.
pub fn copy_planned(dst: &Path, plan: TreePlan) -> Result<CopyReport, IoError> {
    copy_planned_with(dst, plan, &make_symlink, None)
}

/// [`copy_planned`], links made by `make_link` (the tests' way to be a system that refuses
/// them).
fn copy_planned_with(
    dst: &Path,
    plan: TreePlan,
    make_link: &dyn Fn(&Path, &Path) -> io::Result<()>,
    reuse: Option<(&Store, &StatCache)>,
) -> Result<CopyReport, IoError> {
    let TreePlan {
        entries, skipped, ..
    } = plan;
    let mut report = CopyReport {
        skipped,
        ..CopyReport::default()
    };
    let mut listing = TreeListing::default();
    let mut files = Vec::new();
    let mut copied_links = Vec::new();
    for entry in &entries {
        match entry {
            PlannedEntry::Dir(rel) => {
                let d = dst.join(rel);
                fs::create_dir(&d).at("create directory", &d)?;
                listing.insert(rel, Entry::Dir);
            }
            PlannedEntry::Link { rel, target } => {
                let d = dst.join(rel);
                match make_link(target, &d) {
                    Ok(()) => {
                        listing.insert(rel, Entry::link(target));
                        report.links += 1;
                    }
                    // Its target is copied once every file is written.
                    Err(e) if links_refused(&e) => copied_links.push((rel, target)),
                    Err(e) => return Err(IoError::new("create link", &d, e)),
                }
            }
            PlannedEntry::File { rel, src, stat } => {
                files.push((rel.as_path(), src.as_path(), stat))
            }
        }
    }
    let umask = crate::platform::umask();
    // A file the store will adopt gets the objects' date now, through the open file, rather
    // than by opening it again then.
    let stamp = reuse
        .filter(|(store, _)| store.mode() != LinkMode::Copy)
        .map(|_| std::time::SystemTime::UNIX_EPOCH + OBJECT_MTIME);
    let copied = crate::parallel::map_init_across_folders(
        &files,
        |(rel, ..)| rel.parent(),
        crate::parallel::disk_threads(),
        64,
        || (),
        |(), (rel, src, stat)| {
            let to = dst.join(rel);
            if let Some((store, known)) = reuse {
                let key = escape_path(rel);
                if let Some(sha256) = known.lookup(&key, stat) {
                    let mode = stat.permissions();
                    if store
                        .materialise(sha256, mode, stat.size, &to)
                        .at("link", &to)?
                    {
                        let sha256 = sha256.to_string();
                        return Ok((stat.size, Entry::File { mode, sha256 }, Some(key)));
                    }
                }
            }
            let (bytes, entry) = copy_file(src, stat, &to, umask, stamp).at("copy", src)?;
            Ok((bytes, entry, None))
        },
    );
    for ((rel, _, _), c) in files.iter().zip(copied) {
        let (bytes, entry, from_store) = c?;
        report.bytes += bytes;
        if let Some(key) = from_store {
            report.from_store.insert(key);
        }
        listing.insert(rel, entry);
    }
    report.files = files.len() as u64;
    // A link is copied once what it points at holds no link still to copy, so that a link to
    // a link, or to a folder holding links, finds their copies; what never gets there points
    // into itself.
    let mut pending: Vec<(&Path, &Path, PathBuf)> = copied_links
        .into_iter()
        .map(|(rel, target)| {
            let parent = rel.parent().unwrap_or(Path::new(""));
            (
                rel.as_path(),
                target.as_path(),
                normalize_lexically(&parent.join(target)),
            )
        })
        .collect();
    let cycle = |rel: &Path, target: &Path| Skipped {
        path: rel.to_path_buf(),
        target: Some(target.to_path_buf()),
        reason: SkipReason::Cycle,
    };
    // A link to the folder that holds it: a copy would never end.
    pending.retain(|(rel, target, from)| {
        let holds_itself = rel.starts_with(from);
        if holds_itself {
            report.skipped.push(cycle(rel, target));
        }
        !holds_itself
    });
    while !pending.is_empty() {
        let ready = |from: &Path| !pending.iter().any(|(rel, _, _)| rel.starts_with(from));
        let Some(i) = pending.iter().position(|(_, _, from)| ready(from)) else {
            for (rel, target, _) in pending.drain(..) {
                report.skipped.push(cycle(rel, target));
            }
            break;
        };
        let (rel, target, from) = pending.remove(i);
        // The plan keeps only links that land inside the plugin; a copy never reads elsewhere.
        if from
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(IoError::new(
                "copy",
                dst.join(rel),
                io::Error::other("its link points outside the plugin"),
            ));
        }
        if fs::symlink_metadata(dst.join(&from)).is_err() {
            // A dangling link inside the plugin: nothing to copy in its place.
            report.notes.push(format!(
                "{} was left out: it is a link to nothing ({}), and this system allows no symbolic link here",
                crate::fsutil::slash_path(rel),
                crate::fsutil::slash_path(target)
            ));
            continue;
        }
        let (files, bytes) = copy_within(dst, &from, rel, &mut listing)?;
        report.notes.push(link_copied_note(rel, target));
        report.files += files;
        report.bytes += bytes;
    }
    report.listing = Some(listing);
    Ok(report)
}

/// Copy the entry `from` of the tree being written in `dst` (a file, or a folder with all it
/// holds) to `to`, both relative to `dst`, listing what is written: the stand-in for a link the
/// system refused. Returns the files and bytes written.
fn copy_within(
    dst: &Path,
    from: &Path,
    to: &Path,
    listing: &mut TreeListing,
) -> Result<(u64, u64), IoError> {
    let (src, d) = (dst.join(from), dst.join(to));
    let meta = fs::symlink_metadata(&src).at("inspect", &src)?;
    if meta.is_file() {
        let bytes = fs::copy(&src, &d).at("copy", &src)?;
        listing.insert(to, super::listing::hash_file(&d).at("read", &d)?);
        return Ok((1, bytes));
    }
    if !meta.is_dir() {
        return Err(IoError::new(
            "copy",
            &src,
            io::Error::other("neither a file nor a folder, so no copy can stand in for the link"),
        ));
    }
    fs::create_dir(&d).at("create directory", &d)?;
    listing.insert(to, Entry::Dir);
    let mut names = fs::read_dir(&src)
        .and_then(|entries| {
            entries
                .map(|e| e.map(|e| e.file_name()))
                .collect::<io::Result<Vec<_>>>()
        })
        .at("read directory", &src)?;
    names.sort();
    let mut total = (0, 0);
    for name in names {
        let (files, bytes) = copy_within(dst, &from.join(&name), &to.join(&name), listing)?;
        total = (total.0 + files, total.1 + bytes);
    }
    Ok(total)
}

/// The error of a source entry that is no longer what was listed.
fn changed_while_read() -> io::Error {
    io::Error::other(
        "it changed while the plugin was being read (replaced by a link or another file); nothing was installed, run the command again",
    )
}

/// Open the file listed with `listed` for reading, without following a link, and only if it is
/// still that very regular file (not swapped for a link, a FIFO or another file since). Returns
/// the open file and its stat, taken of the open file itself.
pub(crate) fn open_listed(src: &Path, listed: &FileStat) -> io::Result<(fs::File, FileStat)> {
    let replaced = changed_while_read;
    // Non-blocking, so a FIFO swapped in cannot hang the open.
    let file = match crate::platform::open_nofollow(src) {
        Err(e) if crate::platform::is_link_loop(&e) => return Err(replaced()),
        other => other?,
    };
    let now = FileStat::of_file(&file)?;
    if now.kind() != Kind::File || !listed.same_file(&now) {
        return Err(replaced());
    }
    Ok((file, now))
}

/// Copy one file into a new file with the same mode (and modification time `stamp`, when
/// given); returns its size and listing entry.
fn copy_file(
    src: &Path,
    listed: &FileStat,
    dst: &Path,
    umask: u32,
    stamp: Option<std::time::SystemTime>,
) -> io::Result<(u64, Entry)> {
    use std::io::{Read, Write};
    let (mut from, stat) = open_listed(src, listed)?;
    let mode = stat.permissions();
    let mut to = crate::platform::create_new_file(dst, mode)?;
    if mode & umask != 0 {
        crate::platform::set_permissions(&to, mode)?;
    }
    // Through userspace, so the bytes are hashed on the way (the listing needs no second read).
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; stat.size.clamp(1, 256 * 1024) as usize];
    let mut copied = 0u64;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        copied += n as u64;
    }
    if let Some(t) = stamp {
        to.set_modified(t)?;
    }
    let entry = Entry::File {
        mode,
        sha256: hex::encode(hasher.finalize()),
    };
    Ok((copied, entry))
}

struct Planner<'a> {
    policy: &'a LinkPolicy,
    /// Real folders being walked (the plugin root and dereferenced trees).
    stack: Vec<PathBuf>,
    plan: TreePlan,
}

impl Planner<'_> {
    /// Walk the open folder `dir` (at `src`, a path without links).
    fn walk_dir(
        &mut self,
        dir: Folder,
        src: &Path,
        rel: &Path,
        dereferenced: bool,
    ) -> Result<(), IoError> {
        let names = dir.names().at("read directory", src)?;
        for name in names {
            let src_child = src.join(&name);
            let rel_child = rel.join(&name);
            match excluded_name(&name) {
                // A checkout's own `.git` is expected in a marketplace folder: left out quietly.
                Some(SkipReason::GitMetadata) => continue,
                Some(reason) => {
                    self.skip(rel_child, None, reason);
                    continue;
                }
                None => {}
            }
            let stat = FileStat::at(&dir, &name).at("inspect", &src_child)?;
            match stat.kind() {
                Kind::Dir => {
                    self.plan.entries.push(PlannedEntry::Dir(rel_child.clone()));
                    let child = dir.open_child(&name).at("open", &src_child)?;
                    self.walk_dir(child, &src_child, &rel_child, dereferenced)?;
                }
                Kind::File => self.file(&src_child, rel_child, stat),
                Kind::Link => self.link(&src_child, &rel_child, dereferenced)?,
                Kind::Other => self.skip(rel_child, None, SkipReason::SpecialFile),
            }
        }
        Ok(())
    }

    fn file(&mut self, src: &Path, rel: PathBuf, stat: FileStat) {
        self.plan.entries.push(PlannedEntry::File {
            rel,
            src: src.to_path_buf(),
            stat,
        });
    }

    fn link_to(&mut self, rel: &Path, target: PathBuf) {
        self.plan.entries.push(PlannedEntry::Link {
            rel: rel.to_path_buf(),
            target,
        });
    }

    fn skip(&mut self, path: PathBuf, target: Option<PathBuf>, reason: SkipReason) {
        self.plan.skipped.push(Skipped {
            path,
            target,
            reason,
        });
    }

    fn link(&mut self, src: &Path, rel: &Path, dereferenced: bool) -> Result<(), IoError> {
        self.plan.links += 1;
        let literal = match fs::read_link(src) {
            // Listed as a link, no longer one.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Err(changed_while_read()),
            other => other,
        }
        .at("read link", src)?;
        let parent_rel = rel.parent().unwrap_or(Path::new(""));
        let resolved = match crate::fsutil::canonicalize(src) {
            Ok(t) => t,
            Err(e) if crate::platform::is_link_loop(&e) => {
                self.skip(rel.to_path_buf(), Some(literal), SkipReason::Cycle);
                return Ok(());
            }
            Err(_) => {
                // Dangling: keep it when it would dangle inside the plugin (as Claude Code does).
                match inside_plugin_lexically(parent_rel, &literal) {
                    Some(_) if !dereferenced => self.link_to(rel, literal),
                    _ => self.skip(
                        rel.to_path_buf(),
                        Some(literal),
                        SkipReason::DanglingOutside,
                    ),
                }
                return Ok(());
            }
        };
        if let Ok(target_rel) = resolved.strip_prefix(&self.policy.plugin_root) {
            let keep_literal = !dereferenced
                && inside_plugin_lexically(parent_rel, &literal).as_deref() == Some(target_rel);
            let target = if keep_literal {
                literal
            } else {
                relative_path(parent_rel, target_rel)
            };
            self.link_to(rel, target);
            return Ok(());
        }
        let in_container = self
            .policy
            .container
            .as_ref()
            .is_some_and(|c| crate::containment::lies_inside(&resolved, c));
        if !in_container {
            self.skip(
                rel.to_path_buf(),
                Some(literal),
                SkipReason::OutsideMarketplace,
            );
            return Ok(());
        }
        // The target is stat'ed through its folder, opened from the container down without
        // following links: a folder on the way swapped for a link since it was resolved fails.
        let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) else {
            self.skip(rel.to_path_buf(), Some(literal), SkipReason::SpecialFile);
            return Ok(());
        };
        let stat = open_dir_beneath(self.policy.container.as_deref(), parent)
            .and_then(|d| FileStat::at(&d, name))
            .at("inspect", &resolved)?;
        if stat.kind() == Kind::File {
            self.file(&resolved, rel.to_path_buf(), stat);
            return Ok(());
        }
        if stat.kind() != Kind::Dir {
            self.skip(rel.to_path_buf(), Some(literal), SkipReason::SpecialFile);
            return Ok(());
        }
        let recursive = self.stack.iter().any(|d| d.starts_with(&resolved));
        if recursive || self.stack.len() > MAX_DEREF_DEPTH {
            self.skip(rel.to_path_buf(), Some(literal), SkipReason::Cycle);
            return Ok(());
        }
        self.plan.entries.push(PlannedEntry::Dir(rel.to_path_buf()));
        let dir =
            open_dir_beneath(self.policy.container.as_deref(), &resolved).at("open", &resolved)?;
        self.stack.push(resolved.clone());
        let r = self.walk_dir(dir, &resolved, rel, true);
        self.stack.pop();
        r
    }
}

/// Open the folder `real` (a path without links) following no link on the way down from
/// `beneath` (an ancestor of it, also without links), so that a folder replaced by a link
/// since `real` was resolved is refused rather than entered. Without `beneath`, or when `real`
/// is not under it, only `real` itself must not be a link.
fn open_dir_beneath(beneath: Option<&Path>, real: &Path) -> io::Result<Folder> {
    let (start, rest) = match beneath.and_then(|b| Some((b, real.strip_prefix(b).ok()?))) {
        Some(split) => split,
        None => (real, Path::new("")),
    };
    let mut dir = Folder::open(start)?;
    for c in rest.components() {
        dir = dir.open_child(c.as_os_str())?;
    }
    Ok(dir)
}

/// Where `literal`, written in folder `parent_rel` of the plugin, lands inside the plugin, or
/// `None` when it is absolute or climbs out.
fn inside_plugin_lexically(parent_rel: &Path, literal: &Path) -> Option<PathBuf> {
    if literal.is_absolute() {
        return None;
    }
    let joined = normalize_lexically(&parent_rel.join(literal));
    let escapes = joined
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::RootDir));
    (!escapes).then_some(joined)
}

// Links, modes and non-UTF-8 names throughout: Unix only (Windows has none of them here).
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    /// A file swapped for a link to a secret between listing and copying is not followed:
    /// the copy stops instead of writing the secret.
    #[test]
    fn a_file_swapped_for_a_link_after_listing_is_not_copied() {
        let t = tempfile::tempdir().unwrap();
        let fx = crate::fsutil::canonicalize(t.path()).unwrap();
        let pl = fx.join("mkt/pl");
        fs::create_dir_all(pl.join("commands")).unwrap();
        fs::write(pl.join("commands/c.md"), "real").unwrap();
        fs::write(fx.join("secret"), "SECRET").unwrap();
        let policy = LinkPolicy {
            plugin_root: pl.clone(),
            container: Some(fx.join("mkt")),
        };
        let plan = plan_plugin_tree(&policy).unwrap();
        fs::remove_file(pl.join("commands/c.md")).unwrap();
        symlink(fx.join("secret"), pl.join("commands/c.md")).unwrap();
        let dst = fx.join("dst");
        fs::create_dir(&dst).unwrap();
        let err = copy_planned(&dst, plan).unwrap_err();
        assert!(err.to_string().contains("commands/c.md"), "{err}");
        assert!(fs::read(dst.join("commands/c.md")).is_err());

        // A folder swapped for a link to a folder holding a file of the same name: the file
        // copied would be another one, so the copy stops too.
        fs::remove_file(pl.join("commands/c.md")).unwrap();
        fs::write(pl.join("commands/c.md"), "real").unwrap();
        fs::create_dir(fx.join("ssh")).unwrap();
        fs::write(fx.join("ssh/c.md"), "SECRET").unwrap();
        let plan = plan_plugin_tree(&policy).unwrap();
        fs::rename(pl.join("commands"), fx.join("commands-aside")).unwrap();
        symlink(fx.join("ssh"), pl.join("commands")).unwrap();
        let dst = fx.join("dst2");
        fs::create_dir(&dst).unwrap();
        assert!(copy_planned(&dst, plan).is_err());
        assert!(fs::read(dst.join("commands/c.md")).is_err());
    }

    /// Where links are refused (Windows without Developer Mode), what a link points at (a file,
    /// or a folder with the links in it copied first) is copied in its place, listed as what it
    /// is, and the user is told; a link into its own folder and a dangling one are left out.
    #[test]
    fn a_refused_link_becomes_a_copy_with_a_note() {
        let t = tempfile::tempdir().unwrap();
        let pl = crate::fsutil::canonicalize(t.path()).unwrap().join("pl");
        fs::create_dir_all(pl.join("sub")).unwrap();
        fs::write(pl.join("sub/real.md"), "real").unwrap();
        symlink("real.md", pl.join("sub/alias.md")).unwrap();
        symlink("sub/alias.md", pl.join("chained.md")).unwrap();
        symlink("sub", pl.join("folder")).unwrap();
        symlink(".", pl.join("sub/up")).unwrap();
        symlink("missing.md", pl.join("dangling.md")).unwrap();
        let policy = LinkPolicy {
            plugin_root: pl.clone(),
            container: None,
        };
        let dst = t.path().join("dst");
        fs::create_dir(&dst).unwrap();
        let refuse = |_: &Path, _: &Path| Err(io::Error::from(io::ErrorKind::PermissionDenied));
        let report =
            copy_planned_with(&dst, plan_plugin_tree(&policy).unwrap(), &refuse, None).unwrap();
        for copy in [
            "sub/alias.md",
            "chained.md",
            "folder/real.md",
            "folder/alias.md",
        ] {
            let meta = fs::symlink_metadata(dst.join(copy)).unwrap();
            assert!(meta.is_file(), "{copy}");
            assert_eq!(fs::read_to_string(dst.join(copy)).unwrap(), "real");
        }
        assert!(fs::symlink_metadata(dst.join("folder")).unwrap().is_dir());
        // A link to the folder that holds it is left out (a copy would never end), as is one
        // to nothing.
        assert!(!dst.join("sub/up").exists() && !dst.join("folder/up").exists());
        assert!(!dst.join("dangling.md").exists());
        assert_eq!((report.files, report.links, report.bytes), (5, 0, 20));
        let note =
            ": this system allows no symbolic link here (on Windows, Developer Mode allows them)";
        assert_eq!(
            report.notes,
            [
                format!("chained.md is a copy of sub/real.md{note}"),
                "dangling.md was left out: it is a link to nothing (missing.md), and this system allows no symbolic link here".to_string(),
                format!("sub/alias.md is a copy of real.md{note}"),
                format!("folder is a copy of sub{note}"),
            ]
        );
        let cycles: Vec<_> = report
            .skipped
            .iter()
            .map(|s| (s.path.clone(), s.reason))
            .collect();
        assert_eq!(cycles, [(PathBuf::from("sub/up"), SkipReason::Cycle)]);
        // The listing says what is on disk: three files with the same bytes.
        let listing = report.listing.unwrap();
        assert_eq!(listing, TreeListing::of_folder(&dst).unwrap());
        // Any other failure to make a link stops the copy.
        let dst2 = t.path().join("dst2");
        fs::create_dir(&dst2).unwrap();
        let broken = |_: &Path, _: &Path| Err(io::Error::other("disk on fire"));
        let err = copy_planned_with(&dst2, plan_plugin_tree(&policy).unwrap(), &broken, None)
            .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
    }

    /// The symlink zoo of Claude Code's §6.1, built in a temp folder.
    #[test]
    fn symlink_policy() {
        let t = tempfile::tempdir().unwrap();
        let fx = crate::fsutil::canonicalize(t.path()).unwrap();
        let mkt = fx.join("mkt");
        let pl = mkt.join("pl");
        fs::create_dir_all(pl.join("commands")).unwrap();
        fs::create_dir_all(pl.join(".git")).unwrap();
        fs::create_dir_all(mkt.join("shared")).unwrap();
        fs::create_dir_all(fx.join("outside")).unwrap();
        fs::write(fx.join("outside/file.txt"), "out").unwrap();
        fs::write(mkt.join("shared/s.md"), "shared").unwrap();
        fs::write(pl.join("commands/real.md"), "real").unwrap();
        fs::write(pl.join("secret.txt"), "s").unwrap();
        fs::set_permissions(pl.join("secret.txt"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(pl.join(".orphaned_at"), "1").unwrap();
        symlink("real.md", pl.join("commands/filelink.md")).unwrap();
        symlink(
            pl.join("commands/real.md"),
            pl.join("commands/absinside.md"),
        )
        .unwrap();
        symlink("commands", pl.join("dirlink")).unwrap();
        symlink("nonexistent", pl.join("dangling")).unwrap();
        symlink("../../nowhere", pl.join("dangling-out")).unwrap();
        symlink("../shared", pl.join("relshared")).unwrap();
        symlink("../../shared/s.md", pl.join("commands/tosibling.md")).unwrap();
        symlink("../../outside/file.txt", pl.join("outrel.txt")).unwrap();
        symlink(fx.join("outside"), pl.join("outabs")).unwrap();
        symlink("loop2", pl.join("loop1")).unwrap();
        symlink("loop1", pl.join("loop2")).unwrap();
        symlink("..", pl.join("up")).unwrap();

        let dst = fx.join("dst");
        fs::create_dir(&dst).unwrap();
        let policy = LinkPolicy {
            plugin_root: pl.clone(),
            container: Some(mkt.clone()),
        };
        let report = copy_plugin_tree(&dst, &policy).unwrap();

        let link = |p: &str| fs::read_link(dst.join(p)).unwrap();
        assert_eq!(link("commands/filelink.md"), PathBuf::from("real.md"));
        assert_eq!(link("commands/absinside.md"), PathBuf::from("real.md"));
        assert_eq!(link("dirlink"), PathBuf::from("commands"));
        assert_eq!(link("dangling"), PathBuf::from("nonexistent"));
        assert_eq!(
            fs::read_to_string(dst.join("relshared/s.md")).unwrap(),
            "shared"
        );
        assert!(!dst.join("relshared").is_symlink());
        assert_eq!(
            fs::read_to_string(dst.join("commands/tosibling.md")).unwrap(),
            "shared"
        );
        assert_eq!(
            fs::metadata(dst.join("secret.txt"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        for gone in [
            ".git",
            "outrel.txt",
            "outabs",
            "loop1",
            "loop2",
            "up",
            "dangling-out",
            ".orphaned_at",
        ] {
            assert!(
                fs::symlink_metadata(dst.join(gone)).is_err(),
                "{gone} should be skipped"
            );
        }
        let mut skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|s| (s.path.to_string_lossy().into_owned(), s.reason))
            .collect();
        skipped.sort();
        assert_eq!(
            skipped,
            vec![
                (".orphaned_at".into(), SkipReason::Bookkeeping),
                ("dangling-out".into(), SkipReason::DanglingOutside),
                ("loop1".into(), SkipReason::Cycle),
                ("loop2".into(), SkipReason::Cycle),
                ("outabs".into(), SkipReason::OutsideMarketplace),
                ("outrel.txt".into(), SkipReason::OutsideMarketplace),
                ("up".into(), SkipReason::Cycle),
            ]
        );
        assert_eq!(report.files, 4);
    }
}
