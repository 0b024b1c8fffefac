//! Git, in-process through gix (no git binary): remote URLs, the shared object cache, exporting a
//! commit's tree into a staging folder, and the commit a local work tree is at.

pub mod auth;
pub mod clone;
pub mod database;
pub mod export;
pub mod progress;
pub mod push;
pub mod tag;
pub mod url;

use std::path::Path;

pub use database::{GitDatabase, GitError, Revision};

/// Run a blocking git operation on its own thread and give up after `limit`, the network timeout
/// ([`Environment::network_timeout`](crate::environment::Environment::network_timeout)). The
/// operation is in-process, so an abandoned one ends with the process: no child outlives us.
pub fn with_timeout<T: Send + 'static>(
    url: &GitUrl,
    limit: std::time::Duration,
    op: impl FnOnce() -> Result<T, GitError> + Send + 'static,
) -> Result<T, GitError> {
    within(limit, op, || GitError::Fetch {
        url: url.to_string(),
        message: format!(
            "timed out after {}s (CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS raises the limit)",
            limit.as_secs_f64()
        ),
    })
}

/// [`with_timeout`] for any operation: `timed_out` is its error when `limit` passes first.
pub fn within<T: Send + 'static, E: Send + 'static>(
    limit: std::time::Duration,
    op: impl FnOnce() -> Result<T, E> + Send + 'static,
    timed_out: impl FnOnce() -> E,
) -> Result<T, E> {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(op());
    });
    match rx.recv_timeout(limit) {
        Ok(done) => done,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(timed_out()),
        // It panicked: a bug, raised here as it would have been on this thread.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => Err(timed_out()),
        },
    }
}
pub use export::{ExportError, export_tree};
pub use url::{GitUrl, GitUrlError};

/// The tags of the repository whose work tree is exactly `dir` (not one enclosing it: Claude
/// Code lists `file://<dir>`, which git does not look up from) and the commits they point at,
/// annotated tags peeled. `None` when `dir` is no repository root.
pub fn local_tags(dir: &Path) -> Option<Vec<(String, String)>> {
    if !dir.join(".git").exists() {
        return None;
    }
    let repo = gix::open(dir).ok()?;
    let refs = repo.references().ok()?;
    let tags = refs.tags().ok()?;
    Some(
        tags.filter_map(|r| r.ok())
            .filter_map(|mut r| {
                let name = r.name().as_bstr().to_string();
                let tag = name.strip_prefix("refs/tags/")?.to_string();
                let commit = r.peel_to_commit().ok()?;
                Some((tag, commit.id.to_string()))
            })
            .collect(),
    )
}

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
