//! Pushing one release tag to a remote (`plugin tag --push`) with no git binary: the
//! receive-pack protocol (v0) over gix's transports (http(s) with the fetch credentials, ssh
//! through the ssh program), sending the tag object and whatever the remote lacks of the commit
//! it names (commits it cannot reach from its refs, with their trees); a remote that is a local
//! repository (a path, `file://`) gets the missing objects written into it directly.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::protocol::transport::client::blocking_io::{ExtendedBufRead, Transport};
use gix::protocol::transport::client::{MessageKind, WriteMode};

use crate::environment::Environment;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(
        "'{0}' does not appear to be a git repository: it is not a remote of this repository (git remote -v lists them)"
    )]
    NoRemote(String),
    #[error("the remote already has {reference} (at {at}); re-run with --force to move it")]
    Exists { reference: String, at: String },
    #[error("{url} refused {reference}: {reason}")]
    Refused {
        url: String,
        reference: String,
        reason: String,
    },
    #[error("pushing to {url} failed: {message}")]
    Transport { url: String, message: String },
    #[error("cannot read the repository {}: {message}", .dir.display())]
    Repository { dir: PathBuf, message: String },
    #[error(
        "pushing to {url} timed out after {secs}s (CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS raises the limit)"
    )]
    Timeout { url: String, secs: u64 },
}

/// Push `refs/tags/<tag>` of the repository at `root` to its remote `remote` (`force`: move the
/// remote's tag if it has another). Under the network time limit of `env`.
pub fn push_tag(
    root: &Path,
    remote: &str,
    tag: &str,
    force: bool,
    env: &Environment,
) -> Result<(), PushError> {
    let repo = open(root)?;
    let reference = format!("refs/tags/{tag}");
    let tag_id = (repo.find_reference(reference.as_str()))
        .map_err(|e| repository(root, &e))?
        .target()
        .try_id()
        .map(|id| id.to_owned())
        .ok_or_else(|| repository(root, &"the tag is a symbolic reference"))?;
    let url = match repo.find_remote(remote) {
        Ok(r) => r
            .url(gix::remote::Direction::Push)
            .cloned()
            .ok_or_else(|| PushError::NoRemote(remote.to_string()))?,
        Err(_) => return Err(PushError::NoRemote(remote.to_string())),
    };
    let shown = crate::credential::redact_url(&url.to_bstring().to_string());
    if url.scheme == gix::url::Scheme::File {
        // A relative path is the work tree's, as for `git -C <root> push`.
        let path = gix::path::from_bstr(url.path.as_bstr()).map_err(|e| repository(root, &e))?;
        let path = root.join(path);
        return push_local(&repo, &path, &reference, tag_id, force);
    }
    let (root, env_sent) = (root.to_path_buf(), env.clone());
    super::within(
        env.network_timeout,
        move || push_remote(&root, &url, &reference, tag_id, force, &env_sent),
        || PushError::Timeout {
            url: shown,
            secs: env.network_timeout.as_secs(),
        },
    )
}

fn open(root: &Path) -> Result<gix::Repository, PushError> {
    gix::open(root).map_err(|e| repository(root, &e))
}

fn repository(dir: &Path, e: &dyn std::fmt::Display) -> PushError {
    PushError::Repository {
        dir: dir.to_path_buf(),
        message: e.to_string(),
    }
}

/// Into a repository on this machine: the objects it lacks written into it, then the ref.
fn push_local(
    repo: &gix::Repository,
    remote: &Path,
    reference: &str,
    tag_id: ObjectId,
    force: bool,
) -> Result<(), PushError> {
    let target = open(remote)?;
    let existing = (target.try_find_reference(reference).ok().flatten())
        .and_then(|r| r.target().try_id().map(|id| id.to_owned()));
    // What it has is what its refs reach, as for a remote over the network: a push cut short
    // may have left objects in it that nothing refers to (a commit without its tree).
    let tips: Vec<ObjectId> = (target.references().map_err(|e| repository(remote, &e))?)
        .all()
        .map_err(|e| repository(remote, &e))?
        .filter_map(Result::ok)
        .filter_map(|r| r.target().try_id().map(|id| id.to_owned()))
        .filter(|id| repo.has_object(id))
        .collect();
    let Some(objects) = objects_to_send(repo, reference, tag_id, existing, force, &tips)? else {
        return Ok(());
    };
    for id in objects {
        if target.has_object(id) {
            continue;
        }
        let object = repo.find_object(id).map_err(|e| repository(remote, &e))?;
        gix::objs::Write::write_buf(&target.objects, object.kind, &object.data)
            .map_err(|e| repository(remote, &e))?;
    }
    let previous = match existing {
        // Moved only from where it was seen (not from where another push just put it).
        Some(at) => {
            gix::refs::transaction::PreviousValue::ExistingMustMatch(gix::refs::Target::Object(at))
        }
        None => gix::refs::transaction::PreviousValue::MustNotExist,
    };
    target
        .reference(reference, tag_id, previous, "push")
        .map_err(|e| repository(remote, &e))?;
    Ok(())
}

/// Over the network: the receive-pack handshake (the remote's refs), one update command and a
/// pack of what the remote lacks, and its report.
fn push_remote(
    root: &Path,
    url: &gix::Url,
    reference: &str,
    tag_id: ObjectId,
    force: bool,
    env: &Environment,
) -> Result<(), PushError> {
    let repo = open(root)?;
    let shown = crate::credential::redact_url(&url.to_bstring().to_string());
    let failed = |e: &dyn std::fmt::Display| PushError::Transport {
        url: shown.clone(),
        message: crate::credential::redact_urls_in(&e.to_string()),
    };
    let ours = super::GitUrl::parse(&url.to_bstring().to_string()).map_err(|e| failed(&e))?;
    let mut transport = gix::protocol::transport::client::blocking_io::connect::connect(
        url.clone(),
        gix::protocol::transport::client::blocking_io::connect::Options {
            version: gix::protocol::transport::Protocol::V1,
            ..Default::default()
        },
    )
    .map_err(|e| failed(&e))?;
    let handshake = gix::protocol::handshake(
        &mut transport,
        gix::protocol::transport::Service::ReceivePack,
        super::auth::authenticator(&repo, &ours, env),
        Vec::new(),
        &mut gix::progress::Discard,
    )
    .map_err(|e| failed(&e))?;
    let refs = handshake.refs.unwrap_or_default();
    let mut existing = None;
    let mut tips: Vec<ObjectId> = Vec::new();
    for r in &refs {
        let (name, target, peeled) = r.unpack();
        if name == reference.as_bytes() {
            existing = target.map(|at| at.to_owned());
        }
        tips.extend(
            [target, peeled]
                .into_iter()
                .flatten()
                .filter(|id| repo.has_object(id))
                .map(|id| id.to_owned()),
        );
    }
    let Some(objects) = objects_to_send(&repo, reference, tag_id, existing, force, &tips)? else {
        return Ok(());
    };
    let pack = pack(&repo, &objects)?;
    let old = existing.unwrap_or_else(|| ObjectId::null(gix::hash::Kind::Sha1));
    let report = handshake.capabilities.contains("report-status");
    let mut command = format!("{old} {tag_id} {reference}\0");
    if report {
        command.push_str("report-status ");
    }
    command.push_str(concat!("agent=plugin/", env!("CARGO_PKG_VERSION"), "\n"));
    let mut writer = transport
        .request(WriteMode::Binary, MessageKind::Flush, false)
        .map_err(|e| failed(&e))?;
    // One write is one packet line.
    writer
        .write_all(command.as_bytes())
        .map_err(|e| failed(&e))?;
    writer
        .write_message(MessageKind::Flush)
        .map_err(|e| failed(&e))?;
    let (mut raw, mut reader) = writer.into_parts();
    raw.write_all(&pack).map_err(|e| failed(&e))?;
    raw.flush().map_err(|e| failed(&e))?;
    // The request must be finished before its answer is read.
    drop(raw);
    if !report {
        return Ok(());
    }
    read_report(&mut *reader, reference).map_err(|reason| match reason {
        Report::Io(e) => failed(&e),
        Report::Refused(reason) => PushError::Refused {
            url: shown.clone(),
            reference: reference.to_string(),
            reason,
        },
    })
}

enum Report {
    Io(std::io::Error),
    Refused(String),
}

/// The server's `report-status`: `unpack ok`, then `ok <ref>` or `ng <ref> <reason>`.
fn read_report(reader: &mut dyn ExtendedBufRead<'_>, reference: &str) -> Result<(), Report> {
    let mut line = String::new();
    let mut accepted = false;
    loop {
        line.clear();
        if reader.readline_str(&mut line).map_err(Report::Io)? == 0 {
            break;
        }
        let text = line.trim_end();
        if let Some(status) = text.strip_prefix("unpack ") {
            if status != "ok" {
                return Err(Report::Refused(format!("it could not unpack: {status}")));
            }
        } else if let Some(rest) = text.strip_prefix("ng ") {
            let reason = rest.strip_prefix(reference).unwrap_or(rest).trim();
            return Err(Report::Refused(reason.to_string()));
        } else if text.strip_prefix("ok ") == Some(reference) {
            accepted = true;
        }
    }
    match accepted {
        true => Ok(()),
        false => Err(Report::Refused("it did not confirm the update".into())),
    }
}

/// What a push of the tag `tag_id` sends to a remote whose `reference` is at `existing` and
/// whose refs point at `tips` (those we have): the tag, the commits it cannot reach from them,
/// and what of their trees it does not hold for sure (the trees of the commits they build on).
/// `None`: it has the tag already.
fn objects_to_send(
    repo: &gix::Repository,
    reference: &str,
    tag_id: ObjectId,
    existing: Option<ObjectId>,
    force: bool,
    tips: &[ObjectId],
) -> Result<Option<Vec<ObjectId>>, PushError> {
    match existing {
        Some(at) if at == tag_id => return Ok(None),
        Some(at) if !force => {
            return Err(PushError::Exists {
                reference: reference.to_string(),
                at: at.to_string(),
            });
        }
        _ => {}
    }
    let dir = repo.path().to_path_buf();
    let fail = |e: &dyn std::fmt::Display| repository(&dir, e);
    let commit_of = |id: ObjectId| -> Option<ObjectId> {
        Some(repo.find_object(id).ok()?.peel_to_commit().ok()?.id)
    };
    let commit = commit_of(tag_id).ok_or_else(|| fail(&"the tag does not name a commit"))?;
    let hidden: Vec<ObjectId> = tips.iter().filter_map(|t| commit_of(*t)).collect();
    let mut new: Vec<gix::Commit<'_>> = Vec::new();
    for info in (repo.rev_walk([commit]).with_hidden(hidden).all()).map_err(|e| fail(&e))? {
        let id = info.map_err(|e| fail(&e))?.id;
        new.push(repo.find_commit(id).map_err(|e| fail(&e))?);
    }
    let new_ids: HashSet<ObjectId> = new.iter().map(|c| c.id).collect();
    let is_new = |id: &ObjectId| new_ids.contains(id);
    let mut known: HashSet<ObjectId> = HashSet::new();
    for c in &new {
        for parent in c.parent_ids().map(|p| p.detach()).filter(|p| !is_new(p)) {
            let tree = (repo
                .find_commit(parent)
                .and_then(|p| Ok(p.tree_id()?.detach())))
            .map_err(|e| fail(&e))?;
            add_tree(repo, tree, &mut known, &HashSet::new(), &mut Vec::new())?;
        }
    }
    let mut out = vec![tag_id];
    let mut sent: HashSet<ObjectId> = HashSet::new();
    for c in &new {
        out.push(c.id);
        let tree = c.tree_id().map_err(|e| fail(&e))?.detach();
        add_tree(repo, tree, &mut sent, &known, &mut out)?;
    }
    Ok(Some(out))
}

/// `tree` and what is under it, into `out` (and `seen`), but for what is in `skip` or was seen.
fn add_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    seen: &mut HashSet<ObjectId>,
    skip: &HashSet<ObjectId>,
    out: &mut Vec<ObjectId>,
) -> Result<(), PushError> {
    if skip.contains(&tree) || !seen.insert(tree) {
        return Ok(());
    }
    out.push(tree);
    let dir = repo.path().to_path_buf();
    let t = repo.find_tree(tree).map_err(|e| repository(&dir, &e))?;
    let decoded = t.decode().map_err(|e| repository(&dir, &e))?;
    let entries: Vec<(bool, bool, ObjectId)> = (decoded.entries.iter())
        .map(|e| (e.mode.is_tree(), e.mode.is_commit(), e.oid.to_owned()))
        .collect();
    for (is_tree, is_submodule, id) in entries {
        if is_tree {
            add_tree(repo, id, seen, skip, out)?;
        } else if !is_submodule && !skip.contains(&id) && seen.insert(id) {
            out.push(id);
        }
    }
    Ok(())
}

/// A version 2 pack of `objects`, each whole (no deltas), with its SHA-1 trailer.
fn pack(repo: &gix::Repository, objects: &[ObjectId]) -> Result<Vec<u8>, PushError> {
    use sha1::Digest;
    let dir = repo.path().to_path_buf();
    let mut out = Vec::new();
    out.extend_from_slice(b"PACK");
    out.extend_from_slice(&2u32.to_be_bytes());
    let count = u32::try_from(objects.len()).map_err(|e| repository(&dir, &e))?;
    out.extend_from_slice(&count.to_be_bytes());
    for id in objects {
        let object = repo.find_object(*id).map_err(|e| repository(&dir, &e))?;
        let kind: u8 = match object.kind {
            gix::objs::Kind::Commit => 1,
            gix::objs::Kind::Tree => 2,
            gix::objs::Kind::Blob => 3,
            gix::objs::Kind::Tag => 4,
        };
        // Type and size: 3 bits and 4 bits, then 7 bits a byte while the high bit is set.
        let mut size = object.data.len();
        let mut byte = (kind << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            out.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        out.push(byte);
        let mut z = flate2::write::ZlibEncoder::new(&mut out, flate2::Compression::default());
        z.write_all(&object.data)
            .and_then(|()| z.finish().map(|_| ()))
            .map_err(|e| repository(&dir, &e))?;
    }
    let digest = sha1::Sha1::digest(&out);
    out.extend_from_slice(&digest);
    Ok(out)
}
