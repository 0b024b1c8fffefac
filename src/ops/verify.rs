//! `cache verify`: list each installed folder again and compare it with the listing recorded
//! when it was published (`.plugin-files`, whose digest the completion marker holds).

use std::path::{Path, PathBuf};

use super::{Context, LookupError, OpError, PluginRef};
use crate::cache::{TreeDiff, TreeListing, read_marker};
use crate::locations::Scope;

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
