//! `archive` sources: a zip over HTTPS, size-capped, sha256-verified when pinned, laid out as a
//! plugin at the top of the zip or inside its one top-level folder.
//!
//! Addresses: HTTPS only, and never loopback, link-local or cloud-metadata hosts (each redirect
//! hop is checked again). `PLUGIN_ALLOW_LOCAL_ARCHIVES=1` lifts both rules in debug builds, for the tests
//! ([`crate::fsutil::test_hook`]); release builds never read it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::credential::redact_url;
use crate::download::{self, DownloadError, Request};
use crate::fsutil::IoError;
use crate::registry::zipfile::{self, ZipError};

/// Claude Code's cap on archive downloads.
pub const MAX_ARCHIVE: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Zip(#[from] ZipError),
    #[error("archive URL {url} is not allowed: {why}")]
    Address { url: String, why: String },
    #[error("archive source sha256 \"{0}\" is not 64 hex characters")]
    BadPin(String),
    #[error(
        "Plugin archive integrity check failed for {url}: expected sha256 {expected}, got {actual}. The archive was not installed."
    )]
    Integrity {
        url: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{url} does not hold a plugin at its top or inside a single top-level folder (looked for .claude-plugin/, .qoder-plugin/, .plugin/, SKILL.md, commands/, agents/, skills/, hooks/)"
    )]
    Layout { url: String },
}

fn local_allowed() -> bool {
    crate::fsutil::test_hook("PLUGIN_ALLOW_LOCAL_ARCHIVES").is_some_and(|v| v == "1")
}

/// Refuse non-https URLs and loopback, link-local and metadata hosts.
pub fn check_url(url: &str) -> Result<(), String> {
    if local_allowed() {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("https://") else {
        return Err("only https:// archives are downloaded".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = if host.starts_with('[') {
        host.trim_start_matches('[')
            .split(']')
            .next()
            .unwrap_or("")
            .to_string()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    }
    .to_ascii_lowercase();
    let blocked_name = host == "localhost"
        || host.ends_with(".localhost")
        || host == "metadata.google.internal"
        || host == "metadata";
    let blocked_ip = match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            ip.is_loopback() || ip.is_link_local() || ip.is_unspecified()
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || host == "fd00:ec2::254"
        }
        Err(_) => false,
    };
    if blocked_name || blocked_ip {
        return Err(format!(
            "{host} is a loopback, link-local or metadata address"
        ));
    }
    Ok(())
}

/// Download `url` (from the download cache when the pin is already there), verify the pin,
/// and return the zip's path and sha256.
pub fn fetch(
    url: &str,
    pin: Option<&str>,
    cache: &Path,
    timeout: Duration,
    granted: Option<crate::credential::HeaderGrant>,
    progress: Option<&dyn crate::progress::Task>,
) -> Result<(PathBuf, String), ArchiveError> {
    check_url(url).map_err(|why| ArchiveError::Address {
        url: redact_url(url),
        why,
    })?;
    let pin = match pin {
        Some(p) if p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(p.to_ascii_lowercase())
        }
        Some(p) => return Err(ArchiveError::BadPin(p.to_string())),
        None => None,
    };
    if let Some(p) = &pin {
        let cached = cache.join(format!("sha256-{p}.zip"));
        if cached.is_file() {
            return Ok((cached, p.clone()));
        }
    }
    let mut req = Request::new(url, timeout, MAX_ARCHIVE);
    req.redirect_check = Some(check_url);
    req.granted = granted;
    let download = download::download_into(&req, cache, &[download::Algorithm::Sha256], progress)?;
    let actual = download.digests.sha256.clone().unwrap_or_default();
    if let Some(expected) = pin
        && expected != actual
    {
        return Err(ArchiveError::Integrity {
            url: redact_url(url),
            expected,
            actual,
        });
    }
    let dest = download.keep(&cache.join(format!("sha256-{actual}.zip")))?;
    Ok((dest, actual))
}

/// Names that show a folder holds a plugin.
fn is_plugin_top(names: &[PathBuf], prefix: &Path) -> bool {
    names.iter().any(|n| {
        n.strip_prefix(prefix).ok().is_some_and(|rel| {
            let first = rel
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            let nested = rel.components().count() > 1;
            match first.as_deref() {
                Some(
                    ".claude-plugin" | ".qoder-plugin" | ".plugin" | "commands" | "agents"
                    | "skills" | "hooks",
                ) => nested,
                Some("SKILL.md") => !nested,
                _ => false,
            }
        })
    })
}

/// Where the plugin is inside the zip: the top, or its one top-level folder.
pub fn layout(zip: &Path, url: &str) -> Result<PathBuf, ArchiveError> {
    let names = zipfile::file_names(zip)?;
    if is_plugin_top(&names, Path::new("")) {
        return Ok(PathBuf::new());
    }
    let mut tops: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.components().count() > 1)
        .filter_map(|n| n.components().next().map(|c| PathBuf::from(c.as_os_str())))
        .collect();
    tops.sort();
    tops.dedup();
    let all_inside = names.iter().all(|n| n.components().count() > 1);
    match tops.as_slice() {
        [one] if all_inside && is_plugin_top(&names, one) => Ok(one.clone()),
        _ => Err(ArchiveError::Layout {
            url: redact_url(url),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        if local_allowed() {
            return;
        }
        assert!(check_url("https://example.com/p.zip").is_ok());
        for bad in [
            "http://example.com/p.zip",
            "https://127.0.0.1/p.zip",
            "https://localhost:8443/p.zip",
            "https://169.254.169.254/latest",
            "https://[::1]/p.zip",
            "https://metadata.google.internal/x",
            "file:///etc/passwd",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
