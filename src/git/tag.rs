//! Release tags of a plugin in the repository it lives in (`plugin tag`): whether what a tag
//! would cover has changes that are not committed, whether the tag exists, and the annotated
//! tag itself, written by gix with the person's git identity (no git binary).

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

#[derive(Debug, thiserror::Error)]
pub enum TagError {
    #[error("cannot read the git repository {}: {message}", .dir.display())]
    Repository { dir: PathBuf, message: String },
    #[error(
        "no git identity to sign the tag with: set user.name and user.email (git config --global user.name …), or GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL"
    )]
    NoIdentity,
    #[error("the repository has no commit to tag (HEAD is unborn)")]
    NoCommit,
    #[error("{0}")]
    Write(String),
}

/// The root of the git work tree that holds `dir` (its nearest ancestor with `.git`).
pub fn work_tree_of(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn open(root: &Path) -> Result<gix::Repository, TagError> {
    gix::open(root).map_err(|e| TagError::Repository {
        dir: root.to_path_buf(),
        message: e.to_string(),
    })
}

/// Paths (relative to `root`, `/`-separated) under the folders or files `scopes` whose content
/// differs from HEAD: changed, added (untracked) or removed. `.git` folders are not looked at.
pub fn uncommitted(root: &Path, scopes: &[String]) -> Result<Vec<String>, TagError> {
    let repo = open(root)?;
    let mut committed: Vec<(String, gix::ObjectId)> = Vec::new();
    if let Ok(commit) = repo.head_commit() {
        let tree = commit.tree().map_err(|e| TagError::Write(e.to_string()))?;
        let mut rec = gix::traverse::tree::Recorder::default();
        tree.traverse()
            .breadthfirst(&mut rec)
            .map_err(|e| TagError::Write(e.to_string()))?;
        for entry in rec.records {
            if entry.mode.is_blob() || entry.mode.is_link() {
                committed.push((entry.filepath.to_str_lossy().into_owned(), entry.oid));
            }
        }
    }
    let inside = |p: &str| {
        scopes
            .iter()
            .any(|s| s.is_empty() || p == s || p.starts_with(&format!("{s}/")))
    };
    let mut on_disk: Vec<(String, gix::ObjectId)> = Vec::new();
    for scope in scopes {
        collect(root, &root.join(scope), &mut on_disk);
    }
    let mut changed: Vec<String> = Vec::new();
    for (path, id) in &on_disk {
        if !committed.iter().any(|(p, c)| p == path && c == id) {
            changed.push(path.clone());
        }
    }
    for (path, _) in committed.iter().filter(|(p, _)| inside(p)) {
        if !on_disk.iter().any(|(p, _)| p == path) {
            changed.push(path.clone());
        }
    }
    changed.sort();
    changed.dedup();
    Ok(changed)
}

/// Every file and link under `at` with the id git would give its content.
fn collect(root: &Path, at: &Path, out: &mut Vec<(String, gix::ObjectId)>) {
    let Ok(meta) = std::fs::symlink_metadata(at) else {
        return;
    };
    let rel = || crate::fsutil::slash_path(&crate::fsutil::relative_path(root, at));
    if meta.is_dir() {
        if at.file_name().is_some_and(|n| n == ".git") {
            return;
        }
        let Ok(entries) = std::fs::read_dir(at) else {
            return;
        };
        for e in entries.flatten() {
            collect(root, &e.path(), out);
        }
    } else if meta.file_type().is_symlink() {
        if let Ok(target) = std::fs::read_link(at) {
            let bytes = target.to_string_lossy().into_owned().into_bytes();
            if let Ok(id) =
                gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &bytes)
            {
                out.push((rel(), id));
            }
        }
    } else if meta.is_file()
        && let Ok(bytes) = crate::fsutil::read_regular_file(at, 1 << 32)
        && let Ok(id) =
            gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &bytes)
    {
        out.push((rel(), id));
    }
}

/// Whether the tag exists in the repository.
pub fn tag_exists(root: &Path, tag: &str) -> Result<bool, TagError> {
    let repo = open(root)?;
    Ok(repo
        .try_find_reference(format!("refs/tags/{tag}").as_str())
        .ok()
        .flatten()
        .is_some())
}

/// The annotated tag `tag` at HEAD with `message`, signed by the person's git identity
/// (`force`: an existing one is moved).
pub fn create_annotated(
    root: &Path,
    tag: &str,
    message: &str,
    force: bool,
) -> Result<(), TagError> {
    let repo = open(root)?;
    let head = repo.head_id().map_err(|_| TagError::NoCommit)?.detach();
    let tagger = match repo.committer() {
        Some(Ok(t)) => t,
        _ => return Err(TagError::NoIdentity),
    };
    let constraint = match force {
        true => gix::refs::transaction::PreviousValue::Any,
        false => gix::refs::transaction::PreviousValue::MustNotExist,
    };
    repo.tag(
        tag,
        head,
        gix::objs::Kind::Commit,
        Some(tagger),
        format!("{message}\n"),
        constraint,
    )
    .map_err(|e| TagError::Write(e.to_string()))?;
    Ok(())
}
