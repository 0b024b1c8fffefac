//! Git remote URLs: which forms are accepted, and the two identities of a repository.
//!
//! * [`GitUrl::canonical`], the cache identity: scheme, user, host (lower-case), port and path
//!   (case kept), without a trailing `/` or `.git`, so `https://Host/o/r.git/` and
//!   `https://host/o/r` share one object database. It names folders under the git cache
//!   ([`GitUrl::ident`]) and is recorded in state, so it must never change: a different
//!   identity would orphan every existing clone.
//! * [`RepoKey`], the policy identity: host and path only, both lower-case (no scheme, user or
//!   port), so `git@host:o/r`, `ssh://git@host:22/o/r` and `https://user@host/O/R.git` are one
//!   repository. Managed settings block a repository however its URL is spelt; the cache may
//!   fetch two spellings twice, which costs disk, never safety.

use std::fmt;

use crate::credential::redact_url;

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

    /// `owner/repo` on GitHub, or on `github_base` (`PLUGIN_GITHUB_BASE_URL`, for GitHub
    /// Enterprise, mirrors and tests).
    pub fn github(repo: &str, github_base: Option<&str>) -> Result<Self, GitUrlError> {
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
        let base = github_base.unwrap_or("https://github.com");
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

/// A git repository named independently of how its URL is spelt: host (no user, no port) and
/// path (no leading or trailing slash, no `.git`), both lower-case. The policy's identity (see
/// the module comment for why it differs from [`GitUrl::canonical`]). Read from any spelling,
/// including forms [`GitUrl::parse`] refuses to fetch, so a blocklist entry written as `git://…`
/// still covers the `https://` spelling of the same repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoKey {
    pub host: String,
    pub path: String,
}

impl RepoKey {
    /// `owner/repo` on github.com.
    pub fn github(repo: &str) -> Self {
        RepoKey {
            host: "github.com".to_string(),
            path: canonical_repo_path(repo),
        }
    }

    /// `scheme://[user@]host[:port]/path[#ref]` or SCP-style `user@host:path`; `None` for
    /// anything else (a bare path).
    pub fn of_url(url: &str) -> Option<Self> {
        let url = url.trim();
        let url = url.split('#').next().unwrap_or(url);
        let url = url.split('?').next().unwrap_or(url);
        let (host, path) = match url.split_once("://") {
            Some((_, rest)) => {
                let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                (host_of_authority(authority), path)
            }
            None => {
                let (user_host, path) = scp_split(url)?;
                (user_host.to_ascii_lowercase(), path)
            }
        };
        Some(RepoKey {
            host,
            path: canonical_repo_path(path),
        })
    }
}

fn canonical_repo_path(p: &str) -> String {
    let p = p.trim_matches('/');
    let lower = p.to_ascii_lowercase();
    let p = match lower.strip_suffix(".git") {
        Some(stem) => stem,
        None => &lower,
    };
    p.trim_end_matches('/').to_string()
}

/// `user@host:path` → (`host`, `path`): the part before the first `:` must hold an `@` and no
/// `/` (so `/a:b` and `C:\x` are not taken for hosts).
fn scp_split(s: &str) -> Option<(&str, &str)> {
    let (before, path) = s.split_once(':')?;
    if before.contains('/') {
        return None;
    }
    let (_, host) = before.rsplit_once('@')?;
    (!host.is_empty()).then_some((host, path))
}

/// The host of `[user@]host[:port]`, lower-case.
fn host_of_authority(authority: &str) -> String {
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = match host.strip_prefix('[') {
        // IPv6 literal: keep the brackets' content.
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.split(':').next().unwrap_or(host),
    };
    host.to_ascii_lowercase()
}

/// The host of a URL or SCP-style address, as Claude Code's `hostPattern` sees it; `None` for
/// schemeless forms other than `user@host:path`.
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let host = match url.split_once("://") {
        Some((_, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            host_of_authority(&rest[..end])
        }
        None => scp_split(url)?.0.to_ascii_lowercase(),
    };
    (!host.is_empty()).then_some(host)
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

    /// The cache identity keeps what the policy identity drops (see the module comment).
    #[test]
    fn cache_and_policy_identities_differ_on_purpose() {
        let spellings = [
            "https://user@Git.Acme.com:8443/Team/M.git/",
            "ssh://git@git.acme.com:22/team/m",
            "git@git.acme.com:team/m.git",
        ];
        let canonical: Vec<String> = spellings
            .iter()
            .map(|s| GitUrl::parse(s).unwrap().canonical().to_string())
            .collect();
        assert_eq!(
            canonical,
            [
                "https://user@git.acme.com:8443/Team/M",
                "ssh://git@git.acme.com:22/team/m",
                "ssh://git@git.acme.com/team/m",
            ]
        );
        for s in spellings {
            assert_eq!(
                RepoKey::of_url(s),
                Some(RepoKey {
                    host: "git.acme.com".into(),
                    path: "team/m".into()
                }),
                "{s}"
            );
        }
        // The policy reads spellings the fetcher refuses.
        assert!(GitUrl::parse("git://git.acme.com/team/m").is_err());
        assert_eq!(
            RepoKey::of_url("git://git.acme.com/team/m#main"),
            RepoKey::of_url("https://git.acme.com/team/m")
        );
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
            GitUrl::github("o/r", None).unwrap().as_str(),
            "https://github.com/o/r.git"
        );
        assert!(GitUrl::github("o", None).is_err());
        assert!(GitUrl::github("o/../x", None).is_err());
    }
}
