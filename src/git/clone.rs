//! Git-hosted marketplaces: a shallow clone with a normal work tree (so Claude Code's own
//! `marketplace update` keeps working on it), and the cheap "did the remote move?" check.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use gix::progress::Discard;
use gix::remote::Direction;

use super::database::{GitError, fetch_failure};
use super::progress::TaskProgress;
use super::url::GitUrl;
use crate::environment::Environment;
use crate::progress::Task;

/// Clone `url` at `reference` (default: the remote's HEAD), depth 1, into the new folder `dest`.
/// Returns the commit checked out. On failure `dest` is removed again.
pub fn clone_work_tree(
    url: &GitUrl,
    reference: Option<&str>,
    dest: &Path,
    env: &Environment,
    task: Arc<dyn Task>,
) -> Result<String, GitError> {
    use gix::remote::fetch::Shallow;
    let github_base = env.github_base_url.as_deref();
    let failure = |e: &dyn std::error::Error| fetch_failure(url, github_base, e);
    let interrupt = AtomicBool::new(false);
    let mut prepare = gix::prepare_clone(url.as_str(), dest)
        .map_err(|e| failure(&e))?
        .with_shallow(Shallow::DepthAtRemote(std::num::NonZeroU32::MIN));
    let (auth_url, auth_env) = (url.clone(), env.clone());
    prepare = prepare.configure_connection(move |con| {
        let auth = super::auth::authenticator(con.remote().repo(), &auth_url, &auth_env);
        con.set_credentials(auth);
        Ok(())
    });
    if let Some(r) = reference {
        prepare = prepare.with_ref_name(Some(r)).map_err(|e| failure(&e))?;
    }
    let (mut checkout, _) = prepare
        .fetch_then_checkout(TaskProgress::new(task.clone()), &interrupt)
        .map_err(|e| match reference {
            Some(r) if e.to_string().contains("didn't have any ref") => GitError::RefNotFound {
                url: url.to_string(),
                reference: r.to_string(),
                available: Vec::new(),
            },
            _ => failure(&e),
        })?;
    let (repo, _) = checkout
        .main_worktree(TaskProgress::new(task), &interrupt)
        .map_err(|e| failure(&e))?;
    let head = repo.head_id().map_err(|e| failure(&e))?;
    Ok(head.detach().to_string())
}

/// The commit `reference` (default: HEAD) points at on the remote, using the refs of a ref
/// negotiation only (no pack is downloaded). `repo_dir` is any repository to speak from.
pub fn remote_tip(
    repo_dir: &Path,
    url: &GitUrl,
    reference: Option<&str>,
    env: &Environment,
) -> Result<Option<String>, GitError> {
    let github_base = env.github_base_url.as_deref();
    let failure = |e: &dyn std::error::Error| fetch_failure(url, github_base, e);
    let repo = gix::open(repo_dir).map_err(|e| failure(&e))?;
    let wanted: Vec<String> = match reference {
        None => vec!["HEAD".into()],
        Some(r) if r.starts_with("refs/") => vec![r.to_string()],
        Some(r) => vec![format!("refs/heads/{r}"), format!("refs/tags/{r}")],
    };
    let specs: Vec<String> = wanted
        .iter()
        .map(|w| format!("{w}:refs/plugin/tip/{}", w.replace('/', "-")))
        .collect();
    let remote = repo
        .remote_at(url.as_str())
        .map_err(|e| failure(&e))?
        .with_refspecs(specs.iter().map(String::as_str), Direction::Fetch)
        .map_err(|e| failure(&e))?;
    let (map, _) = remote
        .connect(Direction::Fetch)
        .map_err(|e| failure(&e))?
        .with_credentials(super::auth::authenticator(&repo, url, env))
        .ref_map(Discard, Default::default())
        .map_err(|e| failure(&e))?;
    for w in &wanted {
        for r in &map.remote_refs {
            let (name, target, peeled) = r.unpack();
            if *name == *w.as_str() {
                return Ok(peeled.or(target).map(|id| id.to_string()));
            }
        }
    }
    Ok(None)
}

/// The commit a work tree's `HEAD` is at.
pub fn head_of(dir: &Path) -> Option<String> {
    let repo = gix::open(dir).ok()?;
    Some(repo.head_id().ok()?.detach().to_string())
}
