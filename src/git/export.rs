//! Writing the plugin tree of a commit straight from the object database into a staging folder
//! (no work-tree checkout), under the same symlink policy as folder copies:
//! a link resolving inside the plugin stays a (relative) link; inside the repository but outside
//! the plugin it is dereferenced; absolute, escaping, dangling-outside and cyclic links are skipped
//! and reported. Executable bits come from the tree.
//!
//! A tree that would write outside the folder (`..`, `/` in a name), holds a `.git` entry, or has
//! two names that differ only by case (they collide on macOS and Windows) is refused.

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use gix::objs::tree::EntryKind;

use sha2::{Digest, Sha256};

use crate::cache::listing::{Entry, TreeListing};
use crate::cache::store::{BlobMemo, OBJECT_MTIME, Store};
use crate::cache::{
    CopyReport, SkipReason, Skipped, excluded_name, link_copied_note, links_refused,
};
use crate::fsutil::relative_path;
use crate::fsutil::{IoContext, IoError};

/// Symlink hops followed while resolving one link (git's own limit is 40).
const MAX_LINK_HOPS: u32 = 40;
/// Dereferenced trees nested deeper than this are cut.
const MAX_DEREF_DEPTH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("path \"{path}\" does not exist at commit {commit}")]
    PathMissing { path: String, commit: String },
    #[error("path \"{path}\" at commit {commit} is not a folder")]
    NotAFolder { path: String, commit: String },
    #[error("commit {commit} holds an unsafe entry \"{path}\": {why}; refusing to install it")]
    UnsafeEntry {
        commit: String,
        path: String,
        why: &'static str,
    },
    #[error("submodule {path}: {message}")]
    Submodule { path: String, message: String },
    #[error("cannot read {what} at commit {commit}: {message}")]
    Object {
        commit: String,
        what: String,
        message: String,
    },
}

/// Export `subdir` (empty = the whole tree) of `commit` into the existing, empty folder `dst`.
/// Blobs the content `store` holds (by the database's [`BlobMemo`]) are linked from it.
pub fn export_tree(
    repo: &gix::Repository,
    commit: &str,
    subdir: &str,
    dst: &Path,
    submodules: Option<&Submodules>,
    store: Option<&Store>,
) -> Result<CopyReport, ExportError> {
    let prefix: Vec<String> = subdir
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(String::from)
        .collect();
    let mut exporter = Exporter::new(repo, commit, prefix.clone())?;
    exporter.submodules = submodules;
    exporter.store = store;
    let plugin_tree = match exporter.lookup(&prefix)? {
        Some((EntryKind::Tree, oid)) => oid,
        Some(_) => {
            return Err(ExportError::NotAFolder {
                path: subdir.to_string(),
                commit: commit.to_string(),
            });
        }
        None => {
            return Err(ExportError::PathMissing {
                path: subdir.to_string(),
                commit: commit.to_string(),
            });
        }
    };
    let mut state = State {
        report: CopyReport::default(),
        stack: vec![prefix.clone()],
        files: Vec::new(),
        listing: TreeListing::default(),
    };
    exporter.export_dir(&mut state, plugin_tree, &prefix, dst, Path::new(""), false)?;
    let mut report = state.report;
    let memo = store.and_then(|s| Some((s, s.blob_memo(repo.git_dir())?)));
    let (bytes, entries) = write_files(repo, commit, &state.files, memo.as_ref())?;
    if let Some((_, memo)) = memo {
        memo.save();
    }
    for ((_, _, file), (entry, linked)) in state.files.iter().zip(entries) {
        let rel = file.strip_prefix(dst).unwrap_or(file);
        if linked {
            report
                .from_store
                .insert(crate::cache::listing::escape_path(rel));
        }
        state.listing.insert(rel, entry);
    }
    report.files += state.files.len() as u64;
    report.bytes += bytes;
    report.listing = Some(state.listing);
    Ok(report)
}

/// Write the collected files on a few threads (each with its own handle on the object store):
/// decompressing blobs and creating files overlap well.
/// A blob `memo` names is linked from the store when it has it (nothing inflated or hashed);
/// what is written is remembered in the memo.
fn write_files(
    repo: &gix::Repository,
    commit: &str,
    files: &[(gix::ObjectId, EntryKind, PathBuf)],
    memo: Option<&(&Store, BlobMemo)>,
) -> Result<(u64, Vec<(Entry, bool)>), ExportError> {
    let write_one = |repo: &gix::Repository,
                     (id, kind, dst): &(gix::ObjectId, EntryKind, PathBuf)| {
        let mode = if *kind == EntryKind::BlobExecutable {
            0o755
        } else {
            0o644
        };
        let created = crate::platform::created_mode(mode);
        let oid = id.to_string();
        if let Some((store, memo)) = memo
            && let Some((sha256, size)) = memo.get(&oid)
            && store
                .materialise(sha256, created, size, dst)
                .at("link", dst)?
        {
            let sha256 = sha256.to_string();
            return Ok((
                size,
                Entry::File {
                    mode: created,
                    sha256,
                },
                true,
            ));
        }
        let blob = repo.find_blob(*id).map_err(|e| ExportError::Object {
            commit: commit.to_string(),
            what: format!("the file for {}", dst.display()),
            message: e.to_string(),
        })?;
        let mut f = crate::platform::create_new_file(dst, mode).at("create", dst)?;
        f.write_all(&blob.data).at("write", dst)?;
        // The bytes are in memory already: hashing them here spares the listing a second read.
        let sha256 = hex::encode(Sha256::digest(&blob.data));
        let size = blob.data.len() as u64;
        if let Some((_, memo)) = memo {
            // The store adopts it when sealed: dated as its objects are, through this handle.
            f.set_modified(std::time::SystemTime::UNIX_EPOCH + OBJECT_MTIME)
                .at("write", dst)?;
            memo.add(oid, sha256.clone(), size);
        }
        let entry = Entry::File {
            mode: created,
            sha256,
        };
        Ok::<(u64, Entry, bool), ExportError>((size, entry, false))
    };
    let threads = crate::parallel::disk_threads();
    let written: Vec<Result<(u64, Entry, bool), ExportError>> = if threads == 1 || files.len() < 64
    {
        files.iter().map(|f| write_one(repo, f)).collect()
    } else {
        // Repository handles stay on their thread: each worker opens its own.
        let git_dir = repo.git_dir().to_path_buf();
        crate::parallel::map_init_across_folders(
            files,
            |(_, _, path)| path.parent(),
            threads,
            1,
            || gix::open(&git_dir),
            |opened, file| match opened {
                Ok(repo) => write_one(repo, file),
                Err(e) => Err(ExportError::Object {
                    commit: commit.to_string(),
                    what: "the repository".into(),
                    message: e.to_string(),
                }),
            },
        )
    };
    let mut bytes = 0;
    let mut entries = Vec::with_capacity(written.len());
    for w in written {
        let (n, entry, linked) = w?;
        bytes += n;
        entries.push((entry, linked));
    }
    Ok((bytes, entries))
}

/// Refuse a `subdir` that is not a folder at `commit` (before anything is staged).
pub fn check_folder(repo: &gix::Repository, commit: &str, subdir: &str) -> Result<(), ExportError> {
    let parts: Vec<String> = subdir
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(String::from)
        .collect();
    let exporter = Exporter::new(repo, commit, parts.clone())?;
    match exporter.lookup(&parts)? {
        Some((EntryKind::Tree, _)) => Ok(()),
        Some(_) => Err(ExportError::NotAFolder {
            path: subdir.to_string(),
            commit: commit.to_string(),
        }),
        None => Err(ExportError::PathMissing {
            path: subdir.to_string(),
            commit: commit.to_string(),
        }),
    }
}

/// The content of the file at `path` in `commit`, if there is one (links are not followed).
pub fn read_file(
    repo: &gix::Repository,
    commit: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, ExportError> {
    let exporter = Exporter::new(repo, commit, Vec::new())?;
    let parts: Vec<String> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    match exporter.lookup(&parts)? {
        Some((EntryKind::Blob | EntryKind::BlobExecutable, id)) => Ok(Some(exporter.blob(id)?)),
        _ => Ok(None),
    }
}

struct Exporter<'a> {
    repo: &'a gix::Repository,
    commit: &'a str,
    root: gix::ObjectId,
    /// Components of the plugin folder inside the repository.
    prefix: Vec<String>,
    /// How to fetch submodules; `None` skips them with a warning.
    submodules: Option<&'a Submodules>,
    store: Option<&'a Store>,
}

/// Where submodules come from: the superproject's URL (relative submodule URLs resolve from
/// it) and the git cache they are fetched into.
pub struct Submodules {
    pub git_root: PathBuf,
    pub superproject: super::url::GitUrl,
    /// How their fetches wait and authenticate.
    pub env: crate::environment::Environment,
    /// How many submodule levels deep we are (nesting is cut at 8).
    pub depth: usize,
    /// Where fetch progress goes.
    pub task: std::sync::Arc<dyn crate::progress::Task>,
}

impl Submodules {
    /// Resolve a `.gitmodules` URL against the superproject's.
    fn resolve_url(&self, raw: &str) -> String {
        if !(raw.starts_with("./") || raw.starts_with("../")) {
            return raw.to_string();
        }
        let mut base: Vec<&str> = self
            .superproject
            .as_str()
            .trim_end_matches('/')
            .split('/')
            .collect();
        for part in raw.split('/') {
            match part {
                "." => {}
                ".." => {
                    base.pop();
                }
                p => base.push(p),
            }
        }
        base.join("/")
    }
}

/// `(path, url)` of each submodule in a `.gitmodules` file.
fn parse_gitmodules(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut path, mut url) = (None::<String>, None::<String>);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            if let (Some(p), Some(u)) = (path.take(), url.take()) {
                out.push((p, u));
            }
        } else if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').to_string();
            match k.trim() {
                "path" => path = Some(v),
                "url" => url = Some(v),
                _ => {}
            }
        }
    }
    if let (Some(p), Some(u)) = (path, url) {
        out.push((p, u));
    }
    out
}

struct State {
    report: CopyReport,
    /// Repository paths of the trees being written (the plugin and dereferenced trees).
    stack: Vec<Vec<String>>,
    /// Files to write once their folders exist: (blob, kind, destination).
    files: Vec<(gix::ObjectId, EntryKind, PathBuf)>,
    /// What is written, folders and links so far; files are added once written.
    listing: TreeListing,
}

/// Where a link leads inside the commit.
enum Target {
    Entry(EntryKind, gix::ObjectId, Vec<String>),
    Missing(Vec<String>),
    Escapes,
    Loop,
}

impl<'a> Exporter<'a> {
    fn new(
        repo: &'a gix::Repository,
        commit: &'a str,
        prefix: Vec<String>,
    ) -> Result<Self, ExportError> {
        let object_error = |what: &str, e: &dyn std::fmt::Display| ExportError::Object {
            commit: commit.to_string(),
            what: what.to_string(),
            message: e.to_string(),
        };
        let id = gix::ObjectId::from_hex(commit.as_bytes())
            .map_err(|e| object_error("the commit id", &e))?;
        let root = repo
            .find_commit(id)
            .map_err(|e| object_error("the commit", &e))?
            .tree_id()
            .map_err(|e| object_error("the commit's tree", &e))?
            .detach();
        Ok(Self {
            repo,
            commit,
            root,
            prefix,
            submodules: None,
            store: None,
        })
    }

    fn object_error(&self, what: &str, e: &dyn std::fmt::Display) -> ExportError {
        ExportError::Object {
            commit: self.commit.to_string(),
            what: what.to_string(),
            message: e.to_string(),
        }
    }

    /// The entries of a tree: (name, kind, id).
    fn entries(
        &self,
        tree: gix::ObjectId,
    ) -> Result<Vec<(String, EntryKind, gix::ObjectId)>, ExportError> {
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(|e| self.object_error("a tree", &e))?;
        let decoded = tree.decode().map_err(|e| self.object_error("a tree", &e))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| (e.filename.to_string(), e.mode.kind(), e.oid.to_owned()))
            .collect())
    }

    fn blob(&self, id: gix::ObjectId) -> Result<Vec<u8>, ExportError> {
        let blob = self
            .repo
            .find_blob(id)
            .map_err(|e| self.object_error("a file", &e))?;
        Ok(blob.data.clone())
    }

    /// The entry at `path` (components from the repository root); the root itself is a tree.
    fn lookup(&self, path: &[String]) -> Result<Option<(EntryKind, gix::ObjectId)>, ExportError> {
        let mut current = (EntryKind::Tree, self.root);
        for c in path {
            if current.0 != EntryKind::Tree {
                return Ok(None);
            }
            match self
                .entries(current.1)?
                .into_iter()
                .find(|(n, _, _)| n == c)
            {
                Some((_, kind, id)) => current = (kind, id),
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    /// Follow `literal`, written in folder `parent`, through the commit's tree.
    fn resolve(&self, parent: &[String], literal: &str) -> Result<Target, ExportError> {
        if literal.starts_with('/') {
            return Ok(Target::Escapes);
        }
        let mut todo: VecDeque<String> = literal.split('/').map(String::from).collect();
        let mut cur: Vec<String> = parent.to_vec();
        let mut hops = 0;
        while let Some(c) = todo.pop_front() {
            match c.as_str() {
                "" | "." => continue,
                ".." => {
                    if cur.pop().is_none() {
                        return Ok(Target::Escapes);
                    }
                    continue;
                }
                _ => cur.push(c),
            }
            match self.lookup(&cur)? {
                None => {
                    cur.extend(todo.drain(..).filter(|c| !c.is_empty() && c != "."));
                    return Ok(Target::Missing(cur));
                }
                Some((EntryKind::Link, id)) => {
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Ok(Target::Loop);
                    }
                    let target = String::from_utf8_lossy(&self.blob(id)?).into_owned();
                    if target.starts_with('/') {
                        return Ok(Target::Escapes);
                    }
                    cur.pop();
                    for part in target.split('/').rev() {
                        todo.push_front(part.to_string());
                    }
                }
                Some((EntryKind::Tree, _)) => {}
                Some(_) if !todo.iter().all(|c| c.is_empty() || c == ".") => {
                    return Ok(Target::Missing(cur));
                }
                Some(_) => {}
            }
        }
        Ok(match self.lookup(&cur)? {
            Some((kind, id)) => Target::Entry(kind, id, cur),
            None => Target::Missing(cur),
        })
    }

    fn export_dir(
        &self,
        state: &mut State,
        tree: gix::ObjectId,
        repo_path: &[String],
        dst: &Path,
        rel: &Path,
        dereferenced: bool,
    ) -> Result<(), ExportError> {
        let entries = self.entries(tree)?;
        let mut seen = HashSet::new();
        for (name, kind, id) in entries {
            let shown = repo_path
                .iter()
                .chain([&name])
                .cloned()
                .collect::<Vec<_>>()
                .join("/");
            let unsafe_entry = |why| ExportError::UnsafeEntry {
                commit: self.commit.to_string(),
                path: shown.clone(),
                why,
            };
            if name.is_empty()
                || name == "."
                || name == ".."
                || name.contains('/')
                || name.contains('\0')
            {
                return Err(unsafe_entry("the name would leave its folder"));
            }
            if name.eq_ignore_ascii_case(".git") {
                return Err(unsafe_entry(
                    "a .git entry could rewrite repository metadata",
                ));
            }
            if !seen.insert(name.to_lowercase()) {
                return Err(unsafe_entry(
                    "another entry differs from it only by letter case",
                ));
            }
            let rel_child = rel.join(&name);
            if let Some(reason) = excluded_name(name.as_ref()) {
                state
                    .report
                    .skipped
                    .push(Skipped::excluded(rel_child, reason));
                continue;
            }
            let dst_child = dst.join(&name);
            let mut child_path = repo_path.to_vec();
            child_path.push(name.clone());
            match kind {
                EntryKind::Tree => {
                    fs::create_dir(&dst_child).at("create directory", &dst_child)?;
                    state.listing.insert(&rel_child, Entry::Dir);
                    self.export_dir(state, id, &child_path, &dst_child, &rel_child, dereferenced)?;
                }
                EntryKind::Blob | EntryKind::BlobExecutable => {
                    self.write_file(state, id, kind, &dst_child)?;
                }
                EntryKind::Link => {
                    let literal = String::from_utf8_lossy(&self.blob(id)?).into_owned();
                    self.export_link(
                        state,
                        repo_path,
                        &literal,
                        &dst_child,
                        &rel_child,
                        dereferenced,
                    )?;
                }
                EntryKind::Commit => match self.submodules.filter(|s| s.depth < 8) {
                    Some(subs) => {
                        self.export_submodule(state, subs, &child_path, id, &dst_child, &rel_child)?
                    }
                    None => state.report.skipped.push(Skipped {
                        path: rel_child,
                        target: None,
                        reason: SkipReason::Submodule,
                    }),
                },
            }
        }
        Ok(())
    }

    /// Fetch the submodule at repository path `path` (commit `id`) and write its tree at `dst`.
    fn export_submodule(
        &self,
        state: &mut State,
        subs: &Submodules,
        path: &[String],
        id: gix::ObjectId,
        dst: &Path,
        rel: &Path,
    ) -> Result<(), ExportError> {
        let gitmodules = match self.lookup(&[".gitmodules".to_string()])? {
            Some((EntryKind::Blob, blob)) => {
                String::from_utf8_lossy(&self.blob(blob)?).into_owned()
            }
            _ => String::new(),
        };
        let wanted = path.join("/");
        let submodule_error = |message: String| ExportError::Submodule {
            path: wanted.clone(),
            message,
        };
        let Some((_, raw_url)) = parse_gitmodules(&gitmodules)
            .into_iter()
            .find(|(p, _)| *p == wanted)
        else {
            state.report.skipped.push(Skipped {
                path: rel.to_path_buf(),
                target: None,
                reason: SkipReason::Submodule,
            });
            return Ok(());
        };
        let url = super::url::GitUrl::parse(&subs.resolve_url(&raw_url))
            .map_err(|e| submodule_error(e.to_string()))?;
        // A repository from elsewhere must not pull a repository of this machine into the cache
        // (git refuses it too since 2.38.1: protocol.file.allow=user).
        if url.is_file() && !subs.superproject.is_file() {
            return Err(submodule_error(format!(
                "its URL {raw_url} names a repository on this machine, which a repository fetched over the network may not do; the plugin was not installed"
            )));
        }
        let sha = id.to_string();
        let rev = super::Revision::Sha(sha.clone());
        let (db, _) = super::GitDatabase::fetch_timed(
            &subs.git_root,
            &url,
            rev,
            &subs.env,
            subs.task.clone(),
        )
        .map_err(|e| submodule_error(e.to_string()))?;
        let nested = Submodules {
            git_root: subs.git_root.clone(),
            superproject: url.clone(),
            env: subs.env.clone(),
            depth: subs.depth + 1,
            task: subs.task.clone(),
        };
        fs::create_dir(dst).at("create directory", dst)?;
        state.listing.insert(rel, Entry::Dir);
        let report = export_tree(db.repo(), &sha, "", dst, Some(&nested), self.store)?;
        if let Some(nested_listing) = report.listing {
            state.listing.insert_under(rel, nested_listing);
        }
        state.report.files += report.files;
        state.report.bytes += report.bytes;
        state.report.links += report.links;
        state
            .report
            .skipped
            .extend(report.skipped.into_iter().map(|mut s| {
                s.path = rel.join(&s.path);
                s
            }));
        Ok(())
    }

    fn write_file(
        &self,
        state: &mut State,
        id: gix::ObjectId,
        kind: EntryKind,
        dst: &Path,
    ) -> Result<(), ExportError> {
        state.files.push((id, kind, dst.to_path_buf()));
        Ok(())
    }

    /// Write the tree a link points at (`p`, object `id`) in the link's place at `dst`, as a
    /// folder; `false` (nothing written) when that tree holds the link, or links nest too deep.
    fn export_linked_tree(
        &self,
        state: &mut State,
        id: gix::ObjectId,
        p: &[String],
        dst: &Path,
        rel: &Path,
    ) -> Result<bool, ExportError> {
        let recursive = state.stack.iter().any(|s| s.starts_with(p));
        if recursive || state.stack.len() > MAX_DEREF_DEPTH {
            return Ok(false);
        }
        fs::create_dir(dst).at("create directory", dst)?;
        state.listing.insert(rel, Entry::Dir);
        state.stack.push(p.to_vec());
        let r = self.export_dir(state, id, p, dst, rel, true);
        state.stack.pop();
        r.map(|()| true)
    }

    fn export_link(
        &self,
        state: &mut State,
        parent: &[String],
        literal: &str,
        dst: &Path,
        rel: &Path,
        dereferenced: bool,
    ) -> Result<(), ExportError> {
        let skip = |state: &mut State, reason| {
            state.report.skipped.push(Skipped {
                path: rel.to_path_buf(),
                target: Some(PathBuf::from(literal)),
                reason,
            })
        };
        let in_plugin = |p: &[String]| p.starts_with(&self.prefix);
        let plugin_rel = |p: &[String]| p[self.prefix.len()..].iter().collect::<PathBuf>();
        let parent_rel = rel.parent().unwrap_or(Path::new(""));
        match self.resolve(parent, literal)? {
            Target::Escapes => skip(state, SkipReason::OutsideRepository),
            Target::Loop => skip(state, SkipReason::Cycle),
            Target::Missing(p) if in_plugin(&p) && !dereferenced => {
                crate::platform::symlink(literal, dst).at("create link", dst)?;
                state.listing.insert(rel, Entry::link(Path::new(literal)));
                state.report.links += 1;
            }
            Target::Missing(_) => skip(state, SkipReason::DanglingOutside),
            Target::Entry(kind, id, p) if in_plugin(&p) => {
                let target = relative_path(parent_rel, &plugin_rel(&p));
                match crate::platform::symlink(&target, dst) {
                    Ok(()) => {
                        state.listing.insert(rel, Entry::link(&target));
                        state.report.links += 1;
                    }
                    // Where no link may be made: the file itself, from its blob, or the folder's
                    // tree written out (as a link out of the plugin is).
                    Err(e)
                        if links_refused(&e)
                            && matches!(kind, EntryKind::Blob | EntryKind::BlobExecutable) =>
                    {
                        state.report.notes.push(link_copied_note(rel, &target));
                        self.write_file(state, id, kind, dst)?;
                    }
                    Err(e) if links_refused(&e) && kind == EntryKind::Tree => {
                        if self.export_linked_tree(state, id, &p, dst, rel)? {
                            state.report.notes.push(link_copied_note(rel, &target));
                        } else {
                            skip(state, SkipReason::Cycle);
                        }
                    }
                    Err(e) => return Err(IoError::new("create link", dst, e).into()),
                }
            }
            Target::Entry(EntryKind::Tree, id, p) => {
                if !self.export_linked_tree(state, id, &p, dst, rel)? {
                    skip(state, SkipReason::Cycle);
                }
            }
            Target::Entry(kind @ (EntryKind::Blob | EntryKind::BlobExecutable), id, _) => {
                self.write_file(state, id, kind, dst)?;
            }
            Target::Entry(_, _, _) => skip(state, SkipReason::SpecialFile),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Reporter;

    #[test]
    fn gitmodules_and_relative_urls() {
        let text = "[submodule \"a\"]\n\tpath = skills/a\n\turl = ../a.git\n[submodule \"b\"]\n\turl = https://h/b\n\tpath = b\n";
        assert_eq!(
            parse_gitmodules(text),
            vec![
                ("skills/a".into(), "../a.git".into()),
                ("b".into(), "https://h/b".into())
            ]
        );
        let subs = Submodules {
            git_root: PathBuf::new(),
            superproject: super::super::url::GitUrl::parse("https://h/org/super.git").unwrap(),
            env: crate::environment::Environment::from_process(),
            depth: 0,
            task: crate::progress::Silent.start(""),
        };
        assert_eq!(subs.resolve_url("../a.git"), "https://h/org/a.git");
        assert_eq!(subs.resolve_url("./x"), "https://h/org/super.git/x");
        assert_eq!(subs.resolve_url("https://o/r"), "https://o/r");
    }
}
