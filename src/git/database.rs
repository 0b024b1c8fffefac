//! The git object cache: one bare repository per remote, shared by every plugin, version and
//! marketplace that comes from it, fetched incrementally (cargo's `git/db` idea).
//!
//! ```text
//! <user cache dir>/plugin/git-v1/db/
//! ├── <repo>-<16 hex of the canonical URL>/     bare repository (objects + refs/plugin/…)
//! └── <repo>-<…>.lock                           held while fetching into it
//! ```
//! Fetched refs live under `refs/plugin/` so they never collide with anything a user configures.
//! Creating a database is atomic (initialised under a temporary name, then renamed), and a fetch
//! only ever adds objects, so a process killed mid-fetch leaves a usable database.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

use gix::progress::Discard;
use gix::remote::Direction;

use super::progress::TaskProgress;
use super::url::GitUrl;
use crate::environment::Environment;
use crate::fsutil::{IoContext, IoError, random_hex};
use crate::lock::{FileLock, LockError, LockMode};
use crate::progress::Task;

/// What to fetch: the remote's default branch, a branch or tag, or one exact commit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Revision {
    Head,
    Ref(String),
    Sha(String),
}

impl Revision {
    /// `sha` wins over `ref` (Claude Code's rule); neither = the remote's HEAD.
    pub fn from_pin(reference: Option<&str>, sha: Option<&str>) -> Self {
        match (sha, reference) {
            (Some(s), _) => Revision::Sha(s.to_string()),
            (None, Some(r)) => Revision::Ref(r.to_string()),
            (None, None) => Revision::Head,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot open the git cache at {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    /// A failure this process met already (said again to those that waited for it).
    #[error("{0}")]
    Again(String),
    /// A connection failure leads with what went wrong in a person's words.
    #[error(
        "{}Failed to fetch {url}: {message}",
        crate::credential::unreachable_lead(url, message)
    )]
    Fetch { url: String, message: String },
    #[error("{url} refused access ({message}); {hint}")]
    Auth {
        url: String,
        message: String,
        hint: String,
    },
    #[error("ref \"{reference}\" does not exist in {url}{}", available_refs(.available))]
    RefNotFound {
        url: String,
        reference: String,
        available: Vec<String>,
    },
    #[error("commit {sha} is not available from {url}: {message}")]
    ShaNotFound {
        url: String,
        sha: String,
        message: String,
    },
    #[error("{what} of {url} is not a commit")]
    NotACommit { url: String, what: String },
}

impl GitError {
    /// The `failureCode` of `--json` output.
    pub fn failure_code(&self) -> &'static str {
        match self {
            GitError::Fetch { .. } | GitError::Auth { .. } => "error_network",
            GitError::RefNotFound { .. } | GitError::ShaNotFound { .. } => "error_not_found",
            _ => "error_unknown",
        }
    }
}

/// A transport error, told apart: refused credentials say which token or helper would help
/// (`github_base`: the configured GitHub base, whose hosts take a GitHub token).
pub fn fetch_failure(
    url: &GitUrl,
    github_base: Option<&str>,
    e: &dyn std::error::Error,
) -> GitError {
    let message = crate::credential::error_chain(e);
    let lower = message.to_ascii_lowercase();
    // Status codes as whole words: a port such as 45403 in the URL is not a 403.
    let status = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "401" || w == "403");
    let auth = status
        || ["authentication", "unauthorized", "credentials"]
            .iter()
            .any(|k| lower.contains(k));
    if auth {
        // Our authenticator's refusal, somewhere among the causes.
        let redirected = std::iter::successors(e.source(), |c| c.source())
            .any(|c| c.is::<crate::credential::CredentialError>());
        let hint = if lower.contains("clear text") {
            "credentials are never sent over plain http; use the https:// address".to_string()
        } else if redirected {
            "use the address the server redirects to, with a credential configured for it".into()
        } else {
            super::auth::auth_hint(url, github_base)
        };
        GitError::Auth {
            url: url.to_string(),
            message,
            hint,
        }
    } else {
        GitError::Fetch {
            url: url.to_string(),
            message,
        }
    }
}

/// Remove git's own `*.lock` files from a database. Only called while holding our exclusive
/// lock on it, so any such file was left by a process killed mid-fetch, and would make every
/// later fetch fail ("could not be locked").
fn clear_stale_git_locks(db: &Path) {
    for name in [
        "shallow.lock",
        "packed-refs.lock",
        "HEAD.lock",
        "config.lock",
        "index.lock",
    ] {
        let _ = fs::remove_file(db.join(name));
    }
    let mut dirs = vec![db.join("refs")];
    while let Some(dir) = dirs.pop() {
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "lock") {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// Short names of the branches and tags among advertised refs.
fn branch_and_tag_names(refs: &[gix::protocol::handshake::Ref]) -> Vec<String> {
    refs.iter()
        .filter_map(|r| {
            let (name, _, _) = r.unpack();
            let name = name.to_string();
            name.strip_prefix("refs/heads/")
                .or_else(|| name.strip_prefix("refs/tags/"))
                .map(String::from)
        })
        .collect()
}

/// The refspecs that fetch `rev`, and the local refs it may land in (none for a sha: it is
/// looked up by id).
fn refspecs(rev: &Revision) -> (Vec<String>, Vec<String>) {
    match rev {
        Revision::Head => (
            vec!["+HEAD:refs/plugin/remote/HEAD".into()],
            vec!["refs/plugin/remote/HEAD".into()],
        ),
        Revision::Ref(r) if r.starts_with("refs/") => (
            vec![format!("+{r}:refs/plugin/remote/{}", &r["refs/".len()..])],
            vec![format!("refs/plugin/remote/{}", &r["refs/".len()..])],
        ),
        Revision::Ref(r) => (
            vec![
                format!("+refs/heads/{r}:refs/plugin/remote/heads/{r}"),
                format!("+refs/tags/{r}:refs/plugin/remote/tags/{r}"),
            ],
            vec![
                format!("refs/plugin/remote/heads/{r}"),
                format!("refs/plugin/remote/tags/{r}"),
            ],
        ),
        Revision::Sha(sha) => (vec![format!("{sha}:refs/plugin/pins/{sha}")], vec![]),
    }
}

/// The remote ref names that can satisfy `rev` (none for a sha).
fn remote_names(rev: &Revision) -> Option<Vec<String>> {
    match rev {
        Revision::Head => Some(vec!["HEAD".into()]),
        Revision::Ref(r) if r.starts_with("refs/") => Some(vec![r.clone()]),
        Revision::Ref(r) => Some(vec![format!("refs/heads/{r}"), format!("refs/tags/{r}")]),
        Revision::Sha(_) => None,
    }
}

fn available_refs(refs: &[String]) -> String {
    if refs.is_empty() {
        String::new()
    } else {
        format!(" (it has: {})", refs.join(", "))
    }
}

/// Commits this process already resolved, by database and revision.
fn resolved_this_process() -> &'static Mutex<HashMap<(PathBuf, Revision), String>> {
    static RESOLVED: OnceLock<Mutex<HashMap<(PathBuf, Revision), String>>> = OnceLock::new();
    RESOLVED.get_or_init(Default::default)
}

/// The lock held while fetching into the database at `db` (`cache prune` takes it too).
pub fn lock_path(db: &Path) -> PathBuf {
    db.with_extension("lock")
}

/// Whether the database at `db` holds any of `commits` (40 hex); `false` when it cannot be opened.
pub fn holds_any_commit(db: &Path, commits: &[String]) -> bool {
    let Ok(repo) = gix::open(db) else {
        return false;
    };
    commits
        .iter()
        .filter_map(|c| gix::ObjectId::from_hex(c.as_bytes()).ok())
        .any(|id| repo.has_object(id))
}

/// A cached bare repository for one remote.
pub struct GitDatabase {
    path: PathBuf,
    url: GitUrl,
    repo: gix::Repository,
    /// Fetches' time limits, GitHub base and token.
    env: Environment,
}

impl GitDatabase {
    /// Open the database for `url` under `root`, creating it (atomically) when missing; `env`
    /// says how its fetches wait and authenticate.
    pub fn open(root: &Path, url: &GitUrl, env: &Environment) -> Result<Self, GitError> {
        fs::create_dir_all(root).at("create directory", root)?;
        let path = root.join(url.ident());
        if !path.join("HEAD").exists() {
            let tmp = root.join(format!(".tmp-{}", random_hex(8)));
            gix::init_bare(&tmp).map_err(|e| GitError::Open {
                path: tmp.clone(),
                message: e.to_string(),
            })?;
            if crate::fsutil::rename(&tmp, &path).is_err() {
                // Another process created it first; use theirs.
                let _ = crate::fsutil::remove_tree(&tmp);
            }
        }
        let repo = gix::open(&path).map_err(|e| GitError::Open {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            path,
            url: url.clone(),
            repo,
            env: env.clone(),
        })
    }

    pub fn repo(&self) -> &gix::Repository {
        &self.repo
    }

    /// The database's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn url(&self) -> &GitUrl {
        &self.url
    }

    /// Open the database of `url` under `root`, fetch `rev` into it under the network time
    /// limit, and return it (reopened on this thread: repositories stay on the thread that
    /// opened them) with the fetched commit.
    pub fn fetch_timed(
        root: &Path,
        url: &GitUrl,
        rev: Revision,
        env: &Environment,
        task: Arc<dyn Task>,
    ) -> Result<(GitDatabase, String), GitError> {
        let (r, u, e) = (root.to_path_buf(), url.clone(), env.clone());
        let commit = super::with_timeout(url, env.network_timeout, move || {
            GitDatabase::open(&r, &u, &e)?.fetch(&rev, task)
        })?;
        Ok((GitDatabase::open(root, url, env)?, commit))
    }

    /// Make `rev` available locally and return its commit (40 hex). A pinned commit that is
    /// already in the database costs no network round trip.
    /// A branch, tag or HEAD is asked of the remote once per process: the plugins of one repository
    /// that a `sync` or `update --all` works on at once all get the commit the first one saw.
    pub fn fetch(&mut self, rev: &Revision, task: Arc<dyn Task>) -> Result<String, GitError> {
        if let Revision::Sha(sha) = rev
            && let Some(id) = self.local_commit(sha)
        {
            return Ok(id);
        }
        let _lock = FileLock::acquire(
            &lock_path(&self.path),
            LockMode::Exclusive,
            self.env.lock_timeout,
            &|_| {},
        )?;
        // What a fetch that held the lock before us wrote (packs, refs, the shallow file) is
        // not seen by a handle opened before it: negotiating from that one fails.
        self.reopen()?;
        let key = (self.path.clone(), rev.clone());
        let seen = resolved_this_process()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some(id) = seen.and_then(|id| self.local_commit(&id)) {
            return Ok(id);
        }
        let id = self.fetch_locked(rev, task)?;
        resolved_this_process()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, id.clone());
        Ok(id)
    }

    /// [`GitDatabase::fetch`] with the database's fetch lock held.
    fn fetch_locked(&mut self, rev: &Revision, task: Arc<dyn Task>) -> Result<String, GitError> {
        clear_stale_git_locks(&self.path);
        let (specs, wanted) = refspecs(rev);
        let remote = self
            .repo
            .remote_at(self.url.as_str())
            .map_err(|e| self.fetch_failure(&e))?
            .with_refspecs(specs.iter().map(String::as_str), Direction::Fetch)
            .map_err(|e| self.fetch_failure(&e))?;
        let interrupt = AtomicBool::new(false);
        let prepared = remote
            .connect(Direction::Fetch)
            .map_err(|e| self.fetch_failure(&e))?
            .with_credentials(super::auth::authenticator(&self.repo, &self.url, &self.env))
            .prepare_fetch(TaskProgress::new(task.clone()), Default::default());
        // The ref advertisement may already name a commit we have: then no pack is needed.
        if let (Ok(p), Some(remote_names)) = (&prepared, remote_names(rev)) {
            let tip = p.ref_map().remote_refs.iter().find_map(|r| {
                let (name, target, peeled) = r.unpack();
                let name = name.to_string();
                remote_names
                    .contains(&name)
                    .then(|| peeled.or(target).map(|id| id.to_owned()))
                    .flatten()
            });
            if let Some(id) = tip.and_then(|id| self.local_commit(&id.to_string())) {
                return Ok(id);
            }
        }
        let outcome = prepared
            .map_err(|e| self.fetch_failure(&e))?
            // Only the wanted commit is needed: a shallow fetch keeps first installs of repositories
            // with long histories as cheap as `git clone --depth 1`.
            .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
                std::num::NonZeroU32::MIN,
            ))
            .receive(TaskProgress::new(task), &interrupt);
        let outcome = outcome.map_err(|e| self.fetch_refused(rev, &e))?;
        self.fetched_commit(rev, &wanted, &outcome.ref_map.remote_refs)
    }

    fn reopen(&mut self) -> Result<(), GitError> {
        self.repo = gix::open(&self.path).map_err(|e| GitError::Open {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(())
    }

    /// [`fetch_failure`] of this database's remote.
    fn fetch_failure(&self, e: &dyn std::error::Error) -> GitError {
        fetch_failure(&self.url, self.env.github_base_url.as_deref(), e)
    }

    /// Why fetching `rev` failed: a sha or ref the remote does not have, said as such.
    fn fetch_refused(&self, rev: &Revision, e: &dyn std::error::Error) -> GitError {
        match rev {
            Revision::Sha(sha) => GitError::ShaNotFound {
                url: self.url.to_string(),
                sha: sha.clone(),
                message: crate::credential::redact_urls_in(&e.to_string()),
            },
            Revision::Ref(r) => {
                // gix refuses refspecs that match nothing; say which refs do exist.
                let available = self.remote_ref_names().unwrap_or_default();
                let known = available
                    .iter()
                    .any(|a| a == r || format!("refs/{a}") == *r);
                if known {
                    self.fetch_failure(e)
                } else {
                    GitError::RefNotFound {
                        url: self.url.to_string(),
                        reference: r.clone(),
                        available: available.into_iter().take(8).collect(),
                    }
                }
            }
            Revision::Head => self.fetch_failure(e),
        }
    }

    /// The commit a fetch of `rev` brought: the sha itself, or the first of the local refs
    /// `wanted` it wrote (`advertised`: the remote's refs, named when none matched).
    fn fetched_commit(
        &mut self,
        rev: &Revision,
        wanted: &[String],
        advertised: &[gix::protocol::handshake::Ref],
    ) -> Result<String, GitError> {
        // Re-open so the refs and packs written by the fetch are seen.
        self.reopen()?;
        if let Revision::Sha(sha) = rev {
            return self.local_commit(sha).ok_or_else(|| GitError::ShaNotFound {
                url: self.url.to_string(),
                sha: sha.clone(),
                message: "the server did not send it".into(),
            });
        }
        for name in wanted {
            if let Ok(mut r) = self.repo.find_reference(name.as_str()) {
                let id = r.peel_to_commit().map_err(|_| GitError::NotACommit {
                    url: self.url.to_string(),
                    what: name.clone(),
                })?;
                return Ok(id.id.to_string());
            }
        }
        let reference = match rev {
            Revision::Ref(r) => r.clone(),
            _ => "HEAD".into(),
        };
        let mut available = branch_and_tag_names(advertised);
        available.truncate(8);
        Err(GitError::RefNotFound {
            url: self.url.to_string(),
            reference,
            available,
        })
    }

    /// Branch and tag names the remote advertises (an ls-remote, no pack is downloaded).
    fn remote_ref_names(&self) -> Result<Vec<String>, GitError> {
        let refs = self.advertised(&[
            "+refs/heads/*:refs/plugin/ls/heads/*",
            "+refs/tags/*:refs/plugin/ls/tags/*",
        ])?;
        Ok(branch_and_tag_names(&refs))
    }

    /// The remote's tags and the commits they point at (annotated tags peeled): what `git
    /// ls-remote --tags` lists, without fetching anything. Asked of the remote once per process:
    /// the dependencies of one repository (fetched at once) share one listing.
    pub fn remote_tags(&self) -> Result<Vec<(String, String)>, GitError> {
        // A failure is remembered too: the threads waiting for the same listing fail at once.
        type Listing = Arc<Mutex<Option<Result<Vec<(String, String)>, String>>>>;
        static LISTED: OnceLock<Mutex<HashMap<PathBuf, Listing>>> = OnceLock::new();
        let listing: Listing = (LISTED.get_or_init(Default::default).lock())
            .unwrap_or_else(|p| p.into_inner())
            .entry(self.path.clone())
            .or_default()
            .clone();
        // Held while listing: another thread wanting the same tags waits for this answer.
        let mut listed = listing.lock().unwrap_or_else(|p| p.into_inner());
        match &*listed {
            Some(Ok(tags)) => return Ok(tags.clone()),
            Some(Err(message)) => return Err(GitError::Again(message.clone())),
            None => {}
        }
        // Under the network time limit, on a thread of its own (a repository handle stays on
        // the thread that opened it).
        let root = self.path.parent().unwrap_or(&self.path).to_path_buf();
        let (url, env) = (self.url.clone(), self.env.clone());
        let tags = super::with_timeout(&self.url, self.env.network_timeout, move || {
            GitDatabase::open(&root, &url, &env)?.list_remote_tags()
        });
        *listed = Some(tags.as_ref().map(Vec::clone).map_err(ToString::to_string));
        tags
    }

    fn list_remote_tags(&self) -> Result<Vec<(String, String)>, GitError> {
        let refs = self.advertised(&["+refs/tags/*:refs/plugin/ls/tags/*"])?;
        Ok((refs.iter())
            .filter_map(|r| {
                let (name, target, peeled) = r.unpack();
                let tag = name.to_string().strip_prefix("refs/tags/")?.to_string();
                Some((tag, peeled.or(target)?.to_string()))
            })
            .collect())
    }

    /// The refs the remote advertises for `refspecs` (nothing is fetched).
    fn advertised(
        &self,
        refspecs: &[&str],
    ) -> Result<Vec<gix::protocol::handshake::Ref>, GitError> {
        let remote = self
            .repo
            .remote_at(self.url.as_str())
            .map_err(|e| self.fetch_failure(&e))?
            .with_refspecs(refspecs.iter().copied(), Direction::Fetch)
            .map_err(|e| self.fetch_failure(&e))?;
        let (map, _) = remote
            .connect(Direction::Fetch)
            .map_err(|e| self.fetch_failure(&e))?
            .with_credentials(super::auth::authenticator(&self.repo, &self.url, &self.env))
            .ref_map(Discard, Default::default())
            .map_err(|e| self.fetch_failure(&e))?;
        Ok(map.remote_refs)
    }

    /// The commit `sha` when the database already has it.
    fn local_commit(&self, sha: &str) -> Option<String> {
        let id = gix::ObjectId::from_hex(sha.as_bytes()).ok()?;
        let commit = self.repo.find_commit(id).ok()?;
        Some(commit.id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_access_is_told_by_status_not_by_digits_in_the_address() {
        let url = GitUrl::parse("http://127.0.0.1:45403/git/missing.git").unwrap();
        let not_found = std::io::Error::other(
            "Received HTTP status 404 for url (http://127.0.0.1:45403/git/missing.git/info/refs)",
        );
        assert!(matches!(
            fetch_failure(&url, None, &not_found),
            GitError::Fetch { .. }
        ));
        let refused = std::io::Error::other("Received HTTP status 403 for url (http://x/y)");
        assert!(matches!(
            fetch_failure(&url, None, &refused),
            GitError::Auth { .. }
        ));
    }
}
