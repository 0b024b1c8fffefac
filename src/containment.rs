//! The one rule for paths derived from a marketplace: what is read through them must lie, after
//! every symlink is resolved, inside the real path of the folder they were derived from (the
//! marketplace root; for a git marketplace its clone). A plugin folder, a parent folder on its
//! source path, `metadata.pluginRoot`, `.claude-plugin/` or the catalog itself may be a link
//! within the marketplace, never out of it: otherwise an entry could pull any local folder
//! (`~/.ssh`) into the cache, or take its version from a manifest outside the marketplace.
//! The copy's symlink policy (`cache::copy`) judges links inside a plugin by the same rule.

use std::fs;
use std::path::{Path, PathBuf};

/// A path that leads out of its root through a symlink.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} leads outside {}: {}", path.display(), root.display(), self.link_text())]
pub struct LinkEscape {
    /// The path as derived (root joined with what the marketplace wrote).
    pub path: PathBuf,
    /// The folder it must stay in.
    pub root: PathBuf,
    /// The symlink on the way that leaves the root (the path itself when no single one does).
    pub link: PathBuf,
    /// The link's target as written.
    pub literal: PathBuf,
    /// Where the link really leads.
    pub real: PathBuf,
}

impl LinkEscape {
    /// `<link> is a symlink to <target>`, with the real path when the target is relative.
    pub fn link_text(&self) -> String {
        let mut out = format!(
            "{} is a symlink to {}",
            self.link.display(),
            self.literal.display()
        );
        if self.literal != self.real {
            out.push_str(&format!(" ({})", self.real.display()));
        }
        out
    }
}

/// Whether the real path `real` lies inside the real path `real_root` (both canonical).
pub fn lies_inside(real: &Path, real_root: &Path) -> bool {
    real.starts_with(real_root)
}

/// Whether `path` is `root` joined with plain names none of which is a symlink (one `lstat` per
/// name): then its real path lies inside `root`'s whatever `root` resolves to, and
/// [`real_path_inside`] (a `realpath` of both, a `readlink` per component) can be spared.
pub fn plainly_inside(path: &Path, root: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut at = root.to_path_buf();
    for c in rel.components() {
        let std::path::Component::Normal(name) = c else {
            return false;
        };
        at.push(name);
        if fs::symlink_metadata(&at).map_or(true, |m| m.file_type().is_symlink()) {
            return false;
        }
    }
    true
}

/// The real path of `path`, checked to lie inside the real path of `root`. `Ok(None)` when
/// either cannot be resolved (missing, dangling, unreadable): nothing can be read through it,
/// and the caller reports a missing path its own way.
pub fn real_path_inside(path: &Path, root: &Path) -> Result<Option<PathBuf>, LinkEscape> {
    let (Ok(real), Ok(real_root)) = (
        crate::fsutil::canonicalize(path),
        crate::fsutil::canonicalize(root),
    ) else {
        return Ok(None);
    };
    if lies_inside(&real, &real_root) {
        return Ok(Some(real));
    }
    let (link, literal, link_real) = escaping_link(path, root, &real_root)
        .unwrap_or_else(|| (path.to_path_buf(), real.clone(), real.clone()));
    Err(LinkEscape {
        path: path.to_path_buf(),
        root: root.to_path_buf(),
        link,
        literal,
        real: link_real,
    })
}

/// The first symlink below `root` on the way to `path` that leads out of `real_root`: the link,
/// its target as written and its real path.
fn escaping_link(
    path: &Path,
    root: &Path,
    real_root: &Path,
) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let rel = path.strip_prefix(root).ok()?;
    let mut at = root.to_path_buf();
    for c in rel.components() {
        at.push(c);
        let Ok(literal) = fs::read_link(&at) else {
            continue;
        };
        if let Ok(real) = crate::fsutil::canonicalize(&at)
            && !lies_inside(&real, real_root)
        {
            return Some((at, literal, real));
        }
    }
    None
}

// Links made on purpose throughout: Unix only.
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_inside_pass_and_links_outside_are_named() {
        let t = tempfile::tempdir().unwrap();
        let fx = crate::fsutil::canonicalize(t.path()).unwrap();
        let mkt = fx.join("mkt");
        fs::create_dir_all(mkt.join("real/p")).unwrap();
        fs::create_dir_all(fx.join("secret/p")).unwrap();
        symlink("real", mkt.join("inside")).unwrap();
        symlink(fx.join("secret"), mkt.join("outside")).unwrap();

        assert_eq!(
            real_path_inside(&mkt.join("inside/p"), &mkt).unwrap(),
            Some(mkt.join("real/p"))
        );
        let e = real_path_inside(&mkt.join("outside/p"), &mkt).unwrap_err();
        assert_eq!(e.link, mkt.join("outside"));
        assert_eq!(e.literal, fx.join("secret"));
        assert_eq!(e.real, fx.join("secret"));
        assert_eq!(real_path_inside(&mkt.join("missing"), &mkt).unwrap(), None);
        // The root itself may be reached through a link.
        symlink(&mkt, fx.join("mkt-link")).unwrap();
        assert!(real_path_inside(&fx.join("mkt-link/inside/p"), &fx.join("mkt-link")).is_ok());
    }
}
