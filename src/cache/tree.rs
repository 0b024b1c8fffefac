//! What every writer of a version tree shares (the folder copy here, git export, package
//! unpacking): the names that are never written, and the report of a write. Writers outside the
//! cache use these through `cache`'s re-exports, not the copy's internals.

use std::path::{Path, PathBuf};

use super::listing::TreeListing;

/// Names of the cache's bookkeeping in a version folder (ours and Claude Code's). A source that
/// ships them would otherwise mark its own install complete, orphaned or in use.
pub const BOOKKEEPING_NAMES: &[&str] = &[
    super::MARKER,
    super::listing::LISTING,
    ".orphaned_at",
    ".in_use",
];

/// Why an entry named `name` is never installed, whatever the source (folder copy, git export,
/// npm tarball and its dependencies, wheel, zip) and at any depth: `.git` (its `config` and hooks
/// run programs when git is used in the plugin) and the bookkeeping names. Only the top of a
/// version folder is read as bookkeeping, but one rule for every depth needs no notion of
/// where that top is (an npm dependency is unpacked below it) and costs no real package
/// anything. Case is ignored: on a case-insensitive file system `.GIT` is `.git`.
pub fn excluded_name(name: &std::ffi::OsStr) -> Option<SkipReason> {
    let name = name.to_str()?;
    if name.eq_ignore_ascii_case(".git") {
        Some(SkipReason::GitMetadata)
    } else if BOOKKEEPING_NAMES
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        Some(SkipReason::Bookkeeping)
    } else {
        None
    }
}

/// The part of `rel` (a path inside the plugin) that [`excluded_name`] leaves out, if any:
/// `rel` up to its first excluded component, and why.
pub fn excluded_prefix(rel: &Path) -> Option<(PathBuf, SkipReason)> {
    let mut prefix = PathBuf::new();
    for c in rel.components() {
        prefix.push(c);
        if let Some(reason) = excluded_name(c.as_os_str()) {
            return Some((prefix, reason));
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    OutsideMarketplace,
    OutsideRepository,
    Cycle,
    DanglingOutside,
    SpecialFile,
    /// A symbolic link in a package (tarball, wheel, zip): never written.
    PackageSymlink,
    /// A hard link in a package: never written.
    HardLink,
    Bookkeeping,
    GitMetadata,
    Submodule,
}

impl SkipReason {
    /// What the skipped entry is, when it has a target: `symlink`, `hard link`.
    pub fn link_kind(self) -> &'static str {
        match self {
            SkipReason::HardLink => "hard link",
            _ => "symlink",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::OutsideMarketplace => "it points outside the marketplace",
            SkipReason::OutsideRepository => "it points outside the repository",
            SkipReason::Cycle => "it is part of a symlink cycle",
            SkipReason::DanglingOutside => "it is dangling and points outside the plugin",
            SkipReason::SpecialFile => "it is not a regular file, folder or symlink",
            SkipReason::PackageSymlink => "symbolic links in packages are not installed",
            SkipReason::HardLink => "hard links in packages are not installed",
            SkipReason::Bookkeeping => "the name is reserved for cache bookkeeping",
            SkipReason::GitMetadata => {
                "git metadata is not installed (its config could run programs)"
            }
            SkipReason::Submodule => "submodules are not fetched yet",
        }
    }
}

/// Something the copy left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Path inside the plugin.
    pub path: PathBuf,
    /// The link target as written, when it is a link.
    pub target: Option<PathBuf>,
    pub reason: SkipReason,
}

impl Skipped {
    /// A name [`excluded_name`] leaves out.
    pub fn excluded(path: PathBuf, reason: SkipReason) -> Skipped {
        Skipped {
            path,
            target: None,
            reason,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct CopyReport {
    pub files: u64,
    pub bytes: u64,
    pub links: u64,
    pub skipped: Vec<Skipped>,
    /// Things the user should know that are not problems (e.g. dependencies not installed).
    pub notes: Vec<String>,
    /// The written tree's listing, when the writer could build it on the way.
    pub listing: Option<TreeListing>,
    /// The files (listing keys) the writer took from the content store: nothing to add there.
    pub from_store: std::collections::HashSet<String>,
}

/// Whether creating a link failed because this system allows none here (Windows without
/// Developer Mode), so that a copy of the file is written in its place instead.
pub fn links_refused(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied
}

/// The note that `rel` is a copy of `target` (a file in the same plugin) where a link could not
/// be made.
pub fn link_copied_note(rel: &Path, target: &Path) -> String {
    format!(
        "{} is a copy of {}: this system allows no symbolic link here (on Windows, Developer Mode allows them)",
        crate::fsutil::slash_path(rel),
        crate::fsutil::slash_path(target)
    )
}
