//! Marketplaces: where a catalog comes from ([`MarketplaceSource`]), loading it into a
//! [`Marketplace`], and resolving an entry's relative source to a folder.
//!
//! Only local sources (`directory`, `file`) are fetched here; git and URL marketplaces are
//! recognised and stored but refused as "not supported yet" until the git layer exists.

pub mod discover;
pub mod names;
pub mod renames;
pub mod schema;

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};

pub use schema::{MarketplaceManifest, PluginEntry, PluginSource};

use crate::containment::{LinkEscape, real_path_inside};
use crate::credential::redact_url;
use crate::git::{self, GitUrl, GitUrlError};

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    #[error("Path does not exist: {}", .0.display())]
    PathNotFound(PathBuf),
    #[error(
        "Marketplace file not found in {}: looked for {} and found no plugin folders to discover (a folder with .claude-plugin/plugin.json, commands/, skills/, agents/ or SKILL.md, up to two levels down)",
        root.display(), discover::INDEX_PATHS.join(", ")
    )]
    NoIndex { root: PathBuf },
    #[error("Failed to read marketplace file at {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Failed to parse marketplace file at {}: Invalid JSON in {}:{line}:{column}: {message}", path.display(), path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("Failed to parse marketplace file at {}: {source}", path.display())]
    Schema {
        path: PathBuf,
        #[source]
        source: schema::SchemaError,
    },
    #[error("Marketplace file {} leads outside the marketplace {}: {}; the catalog must be a file inside its marketplace", .0.path.display(), .0.root.display(), .0.link_text())]
    IndexOutside(Box<LinkEscape>),
    #[error("Invalid marketplace source format. Try: owner/repo, https://..., or ./path")]
    InvalidSource(String),
    #[error("{0}")]
    Reserved(String),
    #[error(
        "marketplace source type {0} is not supported yet (this version reads local folders and marketplace.json files)"
    )]
    Unsupported(String),
}

impl MarketplaceError {
    /// The `failureCode` Claude Code reports for this kind of failure.
    pub fn failure_code(&self) -> &'static str {
        match self {
            MarketplaceError::PathNotFound(_) | MarketplaceError::InvalidSource(_) => {
                "invalid_source"
            }
            MarketplaceError::NoIndex { .. } => "manifest_missing",
            MarketplaceError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                "manifest_missing"
            }
            MarketplaceError::Read { .. } => "manifest_missing",
            MarketplaceError::Json { .. }
            | MarketplaceError::Schema { .. }
            | MarketplaceError::IndexOutside(_) => "manifest_invalid",
            MarketplaceError::Reserved(_) | MarketplaceError::Unsupported(_) => "error_unknown",
        }
    }
}

/// Where a marketplace comes from, as stored in `known_marketplaces.json` and settings.
#[derive(Clone, Debug, PartialEq)]
pub enum MarketplaceSource {
    Directory(PathBuf),
    File(PathBuf),
    Git {
        url: String,
        reference: Option<String>,
    },
    Github {
        repo: String,
        reference: Option<String>,
    },
    Url(String),
}

impl MarketplaceSource {
    /// Read what a user typed after `marketplace add`. Local paths are made absolute against
    /// `resolve_path` (which expands `~`).
    pub fn parse_cli(
        raw: &str,
        resolve_path: impl Fn(&str) -> PathBuf,
    ) -> Result<Self, MarketplaceError> {
        let raw = raw.trim();
        let local = raw.starts_with("./")
            || raw.starts_with("../")
            || raw.starts_with('/')
            || raw.starts_with('~')
            || raw == "."
            || raw == "..";
        if local {
            let path = resolve_path(raw);
            let meta =
                fs::metadata(&path).map_err(|_| MarketplaceError::PathNotFound(path.clone()))?;
            return Ok(if meta.is_file() {
                MarketplaceSource::File(path)
            } else {
                MarketplaceSource::Directory(path)
            });
        }
        let (base, reference) = match raw.split_once('#') {
            Some((b, r)) if !r.is_empty() => (b, Some(r.to_string())),
            _ => (raw, None),
        };
        if base.starts_with("file://")
            || base.starts_with("ssh://")
            || base.starts_with("git+ssh://")
        {
            return Ok(MarketplaceSource::Git {
                url: base.to_string(),
                reference,
            });
        }
        if base.starts_with("https://") || base.starts_with("http://") {
            if reference.is_none() && base.to_ascii_lowercase().ends_with(".json") {
                return Ok(MarketplaceSource::Url(base.to_string()));
            }
            return Ok(MarketplaceSource::Git {
                url: base.to_string(),
                reference,
            });
        }
        if base.contains('@') && base.contains(':') && !base.contains("://") {
            return Ok(MarketplaceSource::Git {
                url: base.to_string(),
                reference,
            });
        }
        let (repo, reference) = match (reference, base.split_once('@')) {
            (None, Some((r, at))) if !at.is_empty() => (r, Some(at.to_string())),
            (reference, _) => (base, reference),
        };
        let parts: Vec<&str> = repo.split('/').collect();
        let is_segment = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if parts.len() == 2 && parts.iter().all(|p| is_segment(p)) {
            return Ok(MarketplaceSource::Github {
                repo: repo.to_string(),
                reference,
            });
        }
        Err(MarketplaceError::InvalidSource(raw.to_string()))
    }

    /// The `source` object Claude Code stores.
    pub fn to_json(&self) -> Value {
        match self {
            MarketplaceSource::Directory(p) => {
                json!({"source": "directory", "path": p.to_string_lossy()})
            }
            MarketplaceSource::File(p) => json!({"source": "file", "path": p.to_string_lossy()}),
            MarketplaceSource::Git { url, reference } => {
                let mut v = json!({"source": "git", "url": url});
                if let Some(r) = reference {
                    v["ref"] = json!(r);
                }
                v
            }
            MarketplaceSource::Github { repo, reference } => {
                let mut v = json!({"source": "github", "repo": repo});
                if let Some(r) = reference {
                    v["ref"] = json!(r);
                }
                v
            }
            MarketplaceSource::Url(u) => json!({"source": "url", "url": u}),
        }
    }

    pub fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Some(match v.get("source")?.as_str()? {
            "directory" => MarketplaceSource::Directory(PathBuf::from(s("path")?)),
            "file" => MarketplaceSource::File(PathBuf::from(s("path")?)),
            "git" => MarketplaceSource::Git {
                url: s("url")?,
                reference: s("ref"),
            },
            "github" => MarketplaceSource::Github {
                repo: s("repo")?,
                reference: s("ref"),
            },
            "url" => MarketplaceSource::Url(s("url")?),
            _ => return None,
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            MarketplaceSource::Directory(_) => "directory",
            MarketplaceSource::File(_) => "file",
            MarketplaceSource::Git { .. } => "git",
            MarketplaceSource::Github { .. } => "github",
            MarketplaceSource::Url(_) => "url",
        }
    }

    /// The git remote and ref of a git-hosted marketplace.
    pub fn git_remote(&self) -> Option<Result<(GitUrl, Option<String>), GitUrlError>> {
        match self {
            MarketplaceSource::Git { url, reference } => {
                Some(GitUrl::parse(url).map(|u| (u, reference.clone())))
            }
            MarketplaceSource::Github { repo, reference } => {
                Some(GitUrl::github(repo).map(|u| (u, reference.clone())))
            }
            _ => None,
        }
    }

    /// Whether the source is a GitHub repository of the `anthropics` organisation, the only
    /// place reserved marketplace names may come from.
    pub fn is_anthropics_github(&self) -> bool {
        match self {
            MarketplaceSource::Github { repo, .. } => {
                repo.to_ascii_lowercase().starts_with("anthropics/")
            }
            MarketplaceSource::Git { url, .. } => {
                let u = url.to_ascii_lowercase();
                [
                    "https://github.com/anthropics/",
                    "git@github.com:anthropics/",
                    "ssh://git@github.com/anthropics/",
                ]
                .iter()
                .any(|p| u.starts_with(p))
            }
            _ => false,
        }
    }

    /// Where the catalog is read from: the folder for local sources.
    pub fn local_root(&self) -> Option<PathBuf> {
        match self {
            MarketplaceSource::Directory(p) => Some(p.clone()),
            MarketplaceSource::File(p) => Some(discover::root_of_index(p)),
            _ => None,
        }
    }

    /// Short form used in messages (`dir:/x`, `file:/x/m.json`, `git:url`, …), URLs without
    /// their secrets.
    pub fn describe(&self) -> String {
        match self {
            MarketplaceSource::Directory(p) => format!("dir:{}", p.display()),
            MarketplaceSource::File(p) => format!("file:{}", p.display()),
            MarketplaceSource::Git { url, .. } => format!("git:{}", redact_url(url)),
            MarketplaceSource::Github { repo, .. } => format!("github:{repo}"),
            MarketplaceSource::Url(u) => format!("url:{}", redact_url(u)),
        }
    }
}

/// A loaded catalog with the folder its relative sources resolve from.
#[derive(Debug, Clone)]
pub struct Marketplace {
    pub root: PathBuf,
    /// A folder or file the user owns (plugins load in place), not a clone we manage.
    pub local: bool,
    /// Only the catalog was downloaded (a `url` marketplace): relative entries have no files.
    pub catalog_only: bool,
    /// The index file read, or `None` when the catalog was discovered from plugin folders.
    pub index: Option<PathBuf>,
    pub manifest: MarketplaceManifest,
}

impl Marketplace {
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// Load a local marketplace.
    pub fn load(source: &MarketplaceSource) -> Result<Self, MarketplaceError> {
        match source {
            MarketplaceSource::Directory(dir) => Self::load_dir(dir),
            MarketplaceSource::File(file) => Self::load_file(file, discover::root_of_index(file)),
            other => Err(MarketplaceError::Unsupported(other.kind().to_string())),
        }
    }

    /// Load a known marketplace: local sources in place, git ones from their clone.
    pub fn load_installed(
        source: &MarketplaceSource,
        install_location: &Path,
    ) -> Result<Self, MarketplaceError> {
        match source {
            MarketplaceSource::Git { .. } | MarketplaceSource::Github { .. } => {
                Self::load_clone(install_location)
            }
            MarketplaceSource::Url(_) => Self::load_catalog(install_location),
            other => Self::load(other),
        }
    }

    /// Load a downloaded catalog (a `url` marketplace): only the JSON exists, no plugin folders.
    pub fn load_catalog(file: &Path) -> Result<Self, MarketplaceError> {
        let mut m = Self::load_file(file, file.to_path_buf())?;
        m.local = false;
        m.catalog_only = true;
        Ok(m)
    }

    /// Parse a catalog downloaded from `url` (nothing is written).
    pub fn from_catalog_bytes(url: &str, bytes: &[u8]) -> Result<Self, MarketplaceError> {
        let path = PathBuf::from(url);
        let manifest = parse_catalog(&path, bytes)?;
        Ok(Self {
            root: path,
            local: false,
            catalog_only: true,
            index: None,
            manifest,
        })
    }

    /// Load the catalog of a clone we manage (a git-hosted marketplace).
    pub fn load_clone(dir: &Path) -> Result<Self, MarketplaceError> {
        let mut m = Self::load_dir(dir)?;
        m.local = false;
        Ok(m)
    }

    fn load_dir(dir: &Path) -> Result<Self, MarketplaceError> {
        if !dir.is_dir() {
            return Err(MarketplaceError::PathNotFound(dir.to_path_buf()));
        }
        if let Some(index) = discover::find_index(dir) {
            real_path_inside(&index, dir)
                .map_err(|e| MarketplaceError::IndexOutside(Box::new(e)))?;
            return Self::load_file(&index, dir.to_path_buf());
        }
        let value = discover::synthesize(dir).ok_or_else(|| MarketplaceError::NoIndex {
            root: dir.to_path_buf(),
        })?;
        let manifest =
            MarketplaceManifest::from_value(value).map_err(|source| MarketplaceError::Schema {
                path: dir.to_path_buf(),
                source,
            })?;
        Ok(Self {
            root: dir.to_path_buf(),
            local: true,
            catalog_only: false,
            index: None,
            manifest,
        })
    }

    fn load_file(file: &Path, root: PathBuf) -> Result<Self, MarketplaceError> {
        let bytes = crate::fsutil::read_regular_file(file, crate::fsutil::JSON_FILE_LIMIT)
            .map_err(|source| MarketplaceError::Read {
                path: file.to_path_buf(),
                source,
            })?;
        let manifest = parse_catalog(file, &bytes)?;
        Ok(Self {
            root,
            local: true,
            catalog_only: false,
            index: Some(file.to_path_buf()),
            manifest,
        })
    }

    /// The commit that versions a plugin in `plugin_dir` of this folder marketplace, if any.
    pub fn git_commit_for(&self, plugin_dir: &Path) -> Option<String> {
        git::head_commit_within(plugin_dir, &self.root)
    }

    /// The folder holding the plugin of a relative or bare `entry`.
    pub fn resolve_relative(&self, entry: &PluginEntry) -> Result<PathBuf, RelativeSourceError> {
        if self.catalog_only {
            return Err(RelativeSourceError::CatalogOnly);
        }
        let path = relative_plugin_dir(
            &self.root,
            self.manifest.plugin_root.as_deref(),
            &entry.source,
        )?;
        if !path.exists() {
            return Err(RelativeSourceError::Missing(path));
        }
        Ok(path)
    }
}

/// The folder `metadata.pluginRoot` (`raw`) names in the marketplace at `root`, when it stays
/// inside it.
pub fn plugin_root_dir(root: &Path, raw: &str) -> Option<PathBuf> {
    let rel = raw.strip_prefix("./").unwrap_or(raw);
    escape_of(rel).is_none().then(|| root.join(rel))
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
            let direct = root.join(rel);
            // Open plugin spec: `./x` resolves under pluginRoot; Claude Code resolves it from
            // the root. Take the root when it exists there, else pluginRoot.
            Ok(match plugin_root() {
                Some(pr) if !rel.is_empty() && !direct.exists() && pr.join(rel).exists() => {
                    pr.join(rel)
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

/// Parse catalog JSON read from `path` (a file, or the URL it was downloaded from).
fn parse_catalog(path: &Path, bytes: &[u8]) -> Result<MarketplaceManifest, MarketplaceError> {
    let bytes = crate::state::json::strip_bom_bytes(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| MarketplaceError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    })?;
    MarketplaceManifest::from_value(value).map_err(|source| MarketplaceError::Schema {
        path: path.to_path_buf(),
        source,
    })
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

    fn parse(raw: &str) -> Result<MarketplaceSource, MarketplaceError> {
        MarketplaceSource::parse_cli(raw, |p| PathBuf::from("/nonexistent-base").join(p))
    }

    #[test]
    fn cli_source_forms() {
        assert_eq!(
            parse("owner/repo").unwrap(),
            MarketplaceSource::Github {
                repo: "owner/repo".into(),
                reference: None
            }
        );
        assert_eq!(
            parse("owner/repo@v1").unwrap(),
            MarketplaceSource::Github {
                repo: "owner/repo".into(),
                reference: Some("v1".into())
            }
        );
        assert_eq!(
            parse("owner/repo#main").unwrap(),
            MarketplaceSource::Github {
                repo: "owner/repo".into(),
                reference: Some("main".into())
            }
        );
        assert_eq!(
            parse("https://h/x.git#main").unwrap(),
            MarketplaceSource::Git {
                url: "https://h/x.git".into(),
                reference: Some("main".into())
            }
        );
        assert_eq!(
            parse("https://h/cat.json").unwrap(),
            MarketplaceSource::Url("https://h/cat.json".into())
        );
        assert!(matches!(
            parse("git@github.com:o/r.git").unwrap(),
            MarketplaceSource::Git { .. }
        ));
        assert!(matches!(
            parse("mR"),
            Err(MarketplaceError::InvalidSource(_))
        ));
        assert!(matches!(
            parse("./missing"),
            Err(MarketplaceError::PathNotFound(_))
        ));
    }

    #[test]
    fn source_json_round_trip() {
        for s in [
            MarketplaceSource::Directory("/a".into()),
            MarketplaceSource::File("/a/m.json".into()),
            MarketplaceSource::Git {
                url: "https://x/y.git".into(),
                reference: Some("main".into()),
            },
            MarketplaceSource::Github {
                repo: "o/r".into(),
                reference: None,
            },
            MarketplaceSource::Url("https://x/c.json".into()),
        ] {
            assert_eq!(MarketplaceSource::from_json(&s.to_json()).unwrap(), s);
        }
    }

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
