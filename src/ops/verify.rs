//! `cache verify`: list each installed folder again and compare it with the listing recorded
//! when it was published (`.plugin-files`, whose digest the completion marker holds).

use std::path::{Path, PathBuf};

use super::{Context, LookupError, OpError, PluginRef};
use crate::cache::store::ObjectProblem;
use crate::cache::{TreeDiff, TreeListing, read_marker};
use crate::fsutil::IoError;
use crate::locations::Scope;
use crate::lock::{FileLock, LockMode};

#[derive(Debug, Clone, PartialEq)]
pub enum VerifyStatus {
    /// Same content as recorded (this many files).
    Intact {
        files: usize,
    },
    Modified(TreeDiff),
    /// The recorded folder does not exist.
    FolderMissing,
    /// No listing to compare with: installed by Claude Code or an older version of this tool.
    Unrecorded,
    /// The version folder links to a development checkout, which is expected to change.
    Linked(PathBuf),
}

impl VerifyStatus {
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            VerifyStatus::Modified(_) | VerifyStatus::FolderMissing
        )
    }
}

#[derive(Debug, Clone)]
pub struct VerifyResult {
    pub id: String,
    pub scope: Option<Scope>,
    pub project_path: Option<String>,
    pub install_path: PathBuf,
    pub status: VerifyStatus,
}

/// What `cache verify` found in the content store.
#[derive(Debug, Clone, Default)]
pub struct StoreCheck {
    pub objects: usize,
    pub damaged: Vec<DamagedObject>,
    /// `--repair`: the damaged objects were taken out of the store.
    pub repaired: bool,
}

#[derive(Debug, Clone)]
pub struct DamagedObject {
    pub path: PathBuf,
    pub problem: ObjectProblem,
}

/// Check every object of the content store against its name (read whole, in parallel); with
/// `repair`, take the damaged ones out of the store, under the cache lock (no install links one
/// meanwhile). The version folders that share a damaged object are the installations verify
/// reports modified; `plugin update <id> --force` writes them again from their source.
pub fn verify_store(ctx: &Context, repair: bool) -> Result<StoreCheck, OpError> {
    let store = ctx.store()?;
    let _lock = match repair {
        true => Some(FileLock::acquire(
            &ctx.loc.cache_lock_file(),
            LockMode::Exclusive,
            ctx.env.lock_timeout,
            &*ctx.on_lock_wait,
        )?),
        false => None,
    };
    let objects = store.objects();
    let problems = crate::parallel::map(&objects, crate::parallel::disk_threads(), 16, |o| {
        store.check(o)
    });
    let damaged: Vec<DamagedObject> = (objects.iter().zip(problems))
        .filter_map(|(o, p)| {
            Some(DamagedObject {
                path: o.path.clone(),
                problem: p?,
            })
        })
        .collect();
    if repair {
        for d in &damaged {
            match std::fs::remove_file(&d.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(IoError::new("remove", &d.path, e).into());
                }
                _ => {}
            }
        }
    }
    Ok(StoreCheck {
        objects: objects.len(),
        damaged,
        repaired: repair,
    })
}

/// Verify the installations of `plugins` (every installation when empty).
pub fn verify(ctx: &Context, plugins: &[String]) -> Result<Vec<VerifyResult>, OpError> {
    let installed = ctx.installed()?;
    let wanted: Vec<PluginRef> = plugins.iter().map(|p| PluginRef::parse(p)).collect();
    let matches = |id: &str| wanted.iter().any(|w| w.matches(id));
    let records: Vec<_> = (installed.all().into_iter())
        .filter(|(id, _)| wanted.is_empty() || matches(id))
        .collect();
    if let Some(missing) = plugins.iter().find(|p| {
        let w = PluginRef::parse(p);
        !records.iter().any(|(id, _)| w.matches(id))
    }) {
        return Err(LookupError::NotInstalled {
            id: missing.clone(),
        }
        .into());
    }
    records
        .into_iter()
        .map(|(id, r)| {
            let install_path = PathBuf::from(&r.install_path);
            Ok(VerifyResult {
                status: check(&install_path)?,
                id,
                scope: r.scope(),
                project_path: r.project_path,
                install_path,
            })
        })
        .collect()
}

fn check(dir: &Path) -> Result<VerifyStatus, OpError> {
    if let Ok(checkout) = std::fs::read_link(dir) {
        return Ok(VerifyStatus::Linked(checkout));
    }
    if !dir.is_dir() {
        return Ok(VerifyStatus::FolderMissing);
    }
    // The listing only counts when the marker's digest vouches for it.
    let recorded = read_marker(dir)
        .and_then(|m| m.digest)
        .and_then(|d| TreeListing::read(dir).filter(|l| l.digest() == d));
    let Some(recorded) = recorded else {
        return Ok(VerifyStatus::Unrecorded);
    };
    let diff = recorded.diff(&TreeListing::of_folder(dir)?);
    Ok(if diff.is_empty() {
        VerifyStatus::Intact {
            files: recorded.files(),
        }
    } else {
        VerifyStatus::Modified(diff)
    })
}
