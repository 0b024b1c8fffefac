//! Marketplaces: where a catalog comes from ([`MarketplaceSource`]), loading it into a
//! [`Marketplace`], and resolving an entry's relative source to a folder.
//!
//! Only local sources (`directory`, `file`) are fetched here; git and URL marketplaces are
//! recognised and stored but refused as "not supported yet" until the git layer exists.

pub mod discover;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub use crate::schema::{
    Escape, Marketplace, MarketplaceManifest, PluginEntry, PluginSource, RelativeSourceError,
    plugin_root_dir, relative_plugin_dir,
};

use crate::containment::{LinkEscape, real_path_inside};
use crate::credential::redact_url;
use crate::git::{GitUrl, GitUrlError};

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
        source: crate::schema::catalog::SchemaError,
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
        // `./p`, `../p`, `/p`, `~/p`, and where the OS writes them so, `.\p`, `..\p`, `C:\p`.
        let after_dots = raw.strip_prefix("..").or_else(|| raw.strip_prefix('.'));
        let local = after_dots
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(std::path::is_separator))
            || raw.starts_with('/')
            || raw.starts_with('~')
            || Path::new(raw).is_absolute();
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

    /// The git remote and ref of a git-hosted marketplace (`github_base`: where `github`
    /// sources live, `PLUGIN_GITHUB_BASE_URL`, default github.com).
    pub fn git_remote(
        &self,
        github_base: Option<&str>,
    ) -> Option<Result<(GitUrl, Option<String>), GitUrlError>> {
        match self {
            MarketplaceSource::Git { url, reference } => {
                Some(GitUrl::parse(url).map(|u| (u, reference.clone())))
            }
            MarketplaceSource::Github { repo, reference } => {
                Some(GitUrl::github(repo, github_base).map(|u| (u, reference.clone())))
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

/// Loading a catalog from where it lives (the type is in [`crate::schema`], below the
/// sources that read it).
impl Marketplace {
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
}
