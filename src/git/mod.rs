//! Git, in-process through gix (no git binary): remote URLs, the shared object cache, exporting a
//! commit's tree into a staging folder, and the commit a local work tree is at.

pub mod auth;
pub mod clone;
pub mod database;
pub mod export;
pub mod url;

use std::path::Path;

pub use database::{GitDatabase, GitError, Revision};
pub use export::{ExportError, export_tree};
pub use url::{GitUrl, GitUrlError};

/// The commit of the nearest git work tree found from `start` upwards, not above `stop`
/// (Claude Code's rule for relative plugins of a folder marketplace: a repository that merely
/// encloses the marketplace, such as a git-managed home, does not count).
/// `None` when there is none or its `HEAD` has no commit yet.
pub fn head_commit_within(start: &Path, stop: &Path) -> Option<String> {
    let dir = start
        .ancestors()
        .take_while(|d| d.starts_with(stop))
        .find(|d| d.join(".git").exists())?;
    let repo = gix::open(dir).ok()?;
    let id = repo.head_id().ok()?;
    Some(id.detach().to_string())
}
