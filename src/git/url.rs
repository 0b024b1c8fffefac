//! Git remote URLs: which forms are accepted, and the canonical form that names a cached
//! repository (so `https://Host/o/r.git/` and `https://host/o/r` share one database).

use std::fmt;

use crate::credential::redact_url;
use crate::environment::Environment;

/// A git remote this tool may fetch from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitUrl {
    /// What is handed to the transport (scp-like forms are rewritten as `ssh://`).
    url: String,
    /// Lower-case host, no trailing `/` or `.git`: the identity of the repository.
    canonical: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitUrlError {
    #[error(
        "Invalid git URL: \"{0}\" (it could not be read as a URL). Supported: https, http, ssh (also written git+ssh or ssh+git), user@host:path, or a local file:// address with no host"
    )]
    Unreadable(String),
    #[error(
        "git URL \"{url}\" uses {scheme}, which is not allowed: {why}. Use https (or ssh) instead"
    )]
    Refused {
        url: String,
        scheme: String,
        why: &'static str,
    },
    #[error("\"{0}\" is not an owner/repo name (expected two parts like anthropics/claude-code)")]
    NotOwnerRepo(String),
}

impl GitUrl {
    pub fn parse(raw: &str) -> Result<Self, GitUrlError> {
        let raw = raw.trim();
        let unreadable = || GitUrlError::Unreadable(redact_url(raw));
        if let Some((scheme, rest)) = raw.split_once("://") {
            let scheme_l = scheme.to_ascii_lowercase();
            let url = match scheme_l.as_str() {
                "https" | "http" | "ssh" => raw.to_string(),
                "git+ssh" | "ssh+git" => format!("ssh://{rest}"),
                "file" => {
                    if !rest.starts_with('/') {
                        return Err(GitUrlError::Refused {
                            url: redact_url(raw),
                            scheme: "file:// with a host".into(),
                            why: "only local file:// addresses are read",
                        });
                    }
                    raw.to_string()
                }
                "git" => {
                    return Err(GitUrlError::Refused {
                        url: redact_url(raw),
                        scheme: "git://".into(),
                        why: "it is not encrypted",
                    });
                }
                _ => {
                    return Err(GitUrlError::Refused {
                        url: redact_url(raw),
                        scheme: format!("{scheme}://"),
                        why: "only network transports are used",
                    });
                }
            };
            let (_, rest) = url.split_once("://").ok_or_else(unreadable)?;
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            if host.is_empty() && scheme_l != "file" {
                return Err(unreadable());
            }
            let canonical = format!(
                "{}://{}/{}",
                if scheme_l == "git+ssh" || scheme_l == "ssh+git" {
                    "ssh"
                } else {
                    &scheme_l
                },
                host.to_ascii_lowercase(),
                trim_repo_path(path)
            );
            return Ok(Self { url, canonical });
        }
        if raw.starts_with("ext::") || raw.contains("::") {
            return Err(GitUrlError::Refused {
                url: redact_url(raw),
                scheme: "a remote helper (<transport>::)".into(),
                why: "remote helpers run local programs",
            });
        }
        // scp-like user@host:path
        if let Some((user_host, path)) = raw.split_once(':')
            && user_host.contains('@')
            && !user_host.contains('/')
            && !path.starts_with("//")
        {
            let (user, host) = user_host.split_once('@').ok_or_else(unreadable)?;
            if host.is_empty() || path.is_empty() {
                return Err(unreadable());
            }
            let path = path.trim_start_matches('/');
            return Ok(Self {
                url: format!("ssh://{user}@{host}/{path}"),
                canonical: format!(
                    "ssh://{user}@{}/{}",
                    host.to_ascii_lowercase(),
                    trim_repo_path(path)
                ),
            });
        }
        Err(unreadable())
    }

    /// `owner/repo` on GitHub (or on `PLUGIN_GITHUB_BASE_URL`, for GitHub Enterprise, mirrors and tests).
    pub fn github(repo: &str) -> Result<Self, GitUrlError> {
        let repo = repo.trim().trim_end_matches('/');
        let repo = repo.strip_suffix(".git").unwrap_or(repo);
        let parts: Vec<&str> = repo.split('/').collect();
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if parts.len() != 2 || !parts.iter().all(|p| segment_ok(p)) {
            return Err(GitUrlError::NotOwnerRepo(redact_url(repo)));
        }
        let base = Environment::get()
            .github_base_url
            .as_deref()
            .unwrap_or("https://github.com");
        Self::parse(&format!("{}/{repo}.git", base.trim_end_matches('/')))
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// A folder name for this repository: `<repo name>-<16 hex of sha256(canonical)>`.
    pub fn ident(&self) -> String {
        use sha2::{Digest, Sha256};
        let name: String = self
            .canonical
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("repo")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        let digest = Sha256::digest(self.canonical.as_bytes());
        format!("{name}-{}", &hex::encode(digest)[..16])
    }

    pub fn is_file(&self) -> bool {
        self.url.starts_with("file://")
    }
}

/// As shown to people: without credentials or query ([`redact_url`]); the transport gets
/// [`GitUrl::as_str`].
impl fmt::Display for GitUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.url))
    }
}

fn trim_repo_path(path: &str) -> String {
    let p = path.trim_end_matches('/');
    p.strip_suffix(".git").unwrap_or(p).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_canonical_identity() {
        let a = GitUrl::parse("https://GitHub.com/o/r.git/").unwrap();
        let b = GitUrl::parse("https://github.com/o/r").unwrap();
        assert_eq!(a.canonical(), b.canonical());
        assert_eq!(a.ident(), b.ident());
        assert!(a.ident().starts_with("r-"));
        let scp = GitUrl::parse("git@github.com:o/r.git").unwrap();
        assert_eq!(scp.as_str(), "ssh://git@github.com/o/r.git");
        assert_eq!(scp.canonical(), "ssh://git@github.com/o/r");
        assert_eq!(
            GitUrl::parse("git+ssh://git@h/x").unwrap().as_str(),
            "ssh://git@h/x"
        );
        assert!(GitUrl::parse("file:///srv/r.git").unwrap().is_file());
    }

    #[test]
    fn refused_forms_say_why() {
        assert!(
            GitUrl::parse("git://h/r")
                .unwrap_err()
                .to_string()
                .contains("not encrypted")
        );
        assert!(
            GitUrl::parse("ext::sh -c evil")
                .unwrap_err()
                .to_string()
                .contains("remote helpers")
        );
        assert!(
            GitUrl::parse("/srv/r.git")
                .unwrap_err()
                .to_string()
                .starts_with("Invalid git URL")
        );
        assert!(GitUrl::parse("file://host/r").is_err());
        assert!(GitUrl::parse("ftp://h/r").is_err());
    }

    #[test]
    fn github_shorthand() {
        assert_eq!(
            GitUrl::github("o/r").unwrap().as_str(),
            "https://github.com/o/r.git"
        );
        assert!(GitUrl::github("o").is_err());
        assert!(GitUrl::github("o/../x").is_err());
    }
}
