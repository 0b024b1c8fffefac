//! Where a relative (`./x`) or bare (`x`) plugin source lands in its marketplace folder, and the
//! ways it may not leave it.

use std::path::{Component, Path, PathBuf};

use super::PluginSource;
use crate::containment::{LinkEscape, real_path_inside};
use crate::fsutil::join_slashed;

/// The folder `metadata.pluginRoot` (`raw`) names in the marketplace at `root`, when it stays
/// inside it.
pub fn plugin_root_dir(root: &Path, raw: &str) -> Option<PathBuf> {
    let rel = raw.strip_prefix("./").unwrap_or(raw);
    escape_of(rel).is_none().then(|| join_slashed(root, rel))
}

/// Where a relative (`./x`) or bare (`x`) plugin source lands in the marketplace at `root` whose
/// `metadata.pluginRoot` is `plugin_root` (the folder may not exist). An existing folder must
/// lie inside the marketplace after symlinks (the folder itself, a parent on the way or
/// pluginRoot may be a link, but not one out of the marketplace). Other sources are the
/// caller's mistake.
pub fn relative_plugin_dir(
    root: &Path,
    plugin_root: Option<&str>,
    source: &PluginSource,
) -> Result<PathBuf, RelativeSourceError> {
    let dir = lexical_plugin_dir(root, plugin_root, source)?;
    real_path_inside(&dir, root).map_err(|e| RelativeSourceError::LinksOutside(Box::new(e)))?;
    Ok(dir)
}

/// [`relative_plugin_dir`] before links are looked at.
fn lexical_plugin_dir(
    root: &Path,
    plugin_root: Option<&str>,
    source: &PluginSource,
) -> Result<PathBuf, RelativeSourceError> {
    let plugin_root = || plugin_root.and_then(|raw| plugin_root_dir(root, raw));
    match source {
        PluginSource::Relative(raw) => {
            let rel = raw.strip_prefix("./").unwrap_or("");
            if let Some(how) = escape_of(rel) {
                return Err(RelativeSourceError::Escapes {
                    raw: raw.clone(),
                    root: root.to_path_buf(),
                    how,
                });
            }
            let direct = join_slashed(root, rel);
            // Open plugin spec: `./x` resolves under pluginRoot; Claude Code resolves it from
            // the root. Take the root when it exists there, else pluginRoot.
            Ok(match plugin_root() {
                Some(pr)
                    if !rel.is_empty() && !direct.exists() && join_slashed(&pr, rel).exists() =>
                {
                    join_slashed(&pr, rel)
                }
                _ => direct,
            })
        }
        PluginSource::Bare(name) => plugin_root()
            .map(|pr| pr.join(name))
            .ok_or(RelativeSourceError::BareWithoutPluginRoot),
        _ => unreachable!("relative_plugin_dir is called for relative sources only"),
    }
}

/// How a relative path (after `./`) would leave its base, if it would.
fn escape_of(rel: &str) -> Option<Escape> {
    let mut components = Path::new(rel).components();
    if components.clone().any(|c| c == Component::ParentDir) {
        Some(Escape::ParentDir)
    } else if rel.contains('\\') {
        Some(Escape::Backslash)
    } else if components.any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        Some(Escape::Absolute)
    } else {
        None
    }
}

/// How a relative source leaves the marketplace root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    ParentDir,
    Absolute,
    Backslash,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RelativeSourceError {
    #[error("its source \"{raw}\" leaves the marketplace directory {}; relative sources must stay inside it (no \"..\", absolute paths or backslashes)", root.display())]
    Escapes {
        raw: String,
        root: PathBuf,
        how: Escape,
    },
    #[error(
        "This plugin's marketplace entry is invalid: Bare source names resolve under metadata.pluginRoot, which this marketplace does not set (or sets to a path outside the marketplace root). Use a \"./relative/path\" source, or set metadata.pluginRoot to allow bare names."
    )]
    BareWithoutPluginRoot,
    #[error("its folder {} leads outside the marketplace {}: {}; a plugin folder must stay inside its marketplace (move it in, or point the link inside)", .0.path.display(), .0.root.display(), .0.link_text())]
    LinksOutside(Box<LinkEscape>),
    #[error("Source path does not exist: {}", .0.display())]
    Missing(PathBuf),
    #[error(
        "its source is a relative path, but this marketplace was added from a URL of its catalog only, so it has no plugin folders; add the marketplace from its git repository instead"
    )]
    CatalogOnly,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment() {
        assert_eq!(escape_of("plugins/a"), None);
        assert_eq!(escape_of(""), None);
        assert_eq!(escape_of("../b"), Some(Escape::ParentDir));
        assert_eq!(escape_of("a/../../b"), Some(Escape::ParentDir));
        assert_eq!(escape_of("a\\b"), Some(Escape::Backslash));
        assert_eq!(escape_of("/abs"), Some(Escape::Absolute));
    }
}
