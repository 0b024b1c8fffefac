//! Python packages without pip: the simple API (PEP 691 JSON, PEP 503 HTML fallback), PEP 440
//! versions and specifiers, pure-Python wheels only, sha256 verified.
//!
//! Index: the entry's `registry`, else `PIP_INDEX_URL`, else `index-url` of pip's configuration
//! (`$PIP_CONFIG_FILE`, `~/.config/pip/pip.conf`, `~/.pip/pip.conf`), else PyPI.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;

use crate::credential::Credential;
use crate::download::{self, DownloadError, Request};
use crate::environment::Environment;
use crate::fsutil::IoError;

pub const DEFAULT_INDEX: &str = "https://pypi.org/simple/";
const MAX_PAGE: u64 = 64 * 1024 * 1024;
const MAX_WHEEL: u64 = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PypiError {
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("Python package {project} was not found on the index {index}")]
    NotFound { project: String, index: String },
    #[error("\"{spec}\" is not a PEP 440 version or specifier for {project}: {message}")]
    BadSpec {
        project: String,
        spec: String,
        message: String,
    },
    #[error("Python package {project} has no release matching \"{spec}\" (it has: {})", .available.join(", "))]
    NoVersion {
        project: String,
        spec: String,
        available: Vec<String>,
    },
    #[error(
        "Python package {project} {version} has no pure-Python wheel (py3-none-any); found: {}. Plugins are installed from wheels only (building an sdist would run its code)",
        .found.join(", ")
    )]
    NoPureWheel {
        project: String,
        version: String,
        found: Vec<String>,
    },
    #[error("{url}: sha256 check failed: expected {expected}, got {actual}; nothing was installed")]
    Integrity {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("the index page of {project} could not be read: {message}")]
    BadPage { project: String, message: String },
    #[error(
        "the index {index} answered {status} (access denied) for {project}: give it credentials in the index URL (https://user:token@host/simple/), set as the entry's \"registry\", PIP_INDEX_URL or index-url in pip.conf"
    )]
    Denied {
        index: String,
        project: String,
        status: u16,
    },
}

/// PEP 503 name normalisation: lower case, runs of `-_.` become `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The index to use: `explicit`, else the environment and pip's configuration, else PyPI.
pub fn index_url(explicit: Option<&str>, env: &Environment, home: &Path) -> String {
    let from_conf = || {
        let files = [
            env.pip_config_file.clone(),
            Some(home.join(".config/pip/pip.conf")),
            Some(home.join(".pip/pip.conf")),
        ];
        files.into_iter().flatten().find_map(|f| {
            let text = crate::fsutil::read_regular_text(&f, crate::fsutil::JSON_FILE_LIMIT).ok()?;
            text.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "index-url" || k.trim() == "index_url").then(|| v.trim().to_string())
            })
        })
    };
    let url = explicit
        .map(String::from)
        .or_else(|| env.pip_index_url.clone())
        .or_else(from_conf)
        .unwrap_or_else(|| DEFAULT_INDEX.to_string());
    if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    }
}

/// One distribution file listed by the index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexFile {
    pub filename: String,
    pub url: String,
    pub sha256: Option<String>,
    pub yanked: bool,
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    yanked: serde_json::Value,
}

/// The files of `project` on the index (PEP 691 JSON, or PEP 503 HTML when that is what comes).
/// The page is always asked for, conditionally when `cache` holds a copy (see
/// [`super::metadata`]): an unchanged one costs a `304` and no body.
pub fn list_files(
    index: &str,
    project: &str,
    cache: &Path,
    timeout: Duration,
) -> Result<Vec<IndexFile>, PypiError> {
    let url = format!("{index}{}/", normalize(project));
    let req = Request::new(&url, timeout, MAX_PAGE).header(
        "Accept",
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1",
    );
    let fetched = super::metadata::fetch(&req, cache).map_err(|e| {
        if e.is_not_found() {
            PypiError::NotFound {
                project: project.to_string(),
                index: crate::credential::redact_url(index),
            }
        } else if let DownloadError::Status {
            status: status @ (401 | 403),
            ..
        } = e
        {
            PypiError::Denied {
                index: crate::credential::redact_url(index),
                project: project.to_string(),
                status,
            }
        } else {
            e.into()
        }
    })?;
    let is_json = fetched
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("json"));
    parse_index_page(project, &fetched.url, is_json, &fetched.body)
}

/// The files listed by an index page of `project` fetched from `base`: PEP 691 JSON when
/// `is_json`, else PEP 503 HTML. Untrusted bytes: every defect is a [`PypiError`].
pub fn parse_index_page(
    project: &str,
    base: &str,
    is_json: bool,
    bytes: &[u8],
) -> Result<Vec<IndexFile>, PypiError> {
    let bad = |m: String| PypiError::BadPage {
        project: project.to_string(),
        message: m,
    };
    let files = if is_json {
        let page: JsonPage = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        page.files
            .into_iter()
            .map(|f| IndexFile {
                url: join_url(base, &f.url),
                sha256: f.hashes.get("sha256").cloned(),
                yanked: !matches!(
                    f.yanked,
                    serde_json::Value::Null | serde_json::Value::Bool(false)
                ),
                filename: f.filename,
            })
            .collect()
    } else {
        parse_html(&String::from_utf8_lossy(bytes), base)
    };
    Ok(files)
}

/// `<a href="…#sha256=…" data-yanked>name</a>` anchors of a PEP 503 page.
fn parse_html(html: &str, base: &str) -> Vec<IndexFile> {
    let mut out = Vec::new();
    for part in html.split("<a ").skip(1) {
        let Some(href_start) = part.find("href=\"") else {
            continue;
        };
        let rest = &part[href_start + 6..];
        let Some(href_end) = rest.find('"') else {
            continue;
        };
        let href = rest[..href_end].replace("&amp;", "&");
        let text = part.split_once('>').map(|(_, t)| t).unwrap_or("");
        let filename = text.split("</a>").next().unwrap_or("").trim().to_string();
        let (link, fragment) = href.split_once('#').unwrap_or((&href, ""));
        out.push(IndexFile {
            url: join_url(base, link),
            sha256: fragment.strip_prefix("sha256=").map(String::from),
            yanked: part[..part.find('>').unwrap_or(0)].contains("data-yanked"),
            filename,
        });
    }
    out
}

/// Resolve `link` against the page URL `base`.
fn join_url(base: &str, link: &str) -> String {
    if link.contains("://") {
        return link.to_string();
    }
    let (scheme_host, path) = match base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
    {
        Some(split) => (&base[..split], &base[split..]),
        None => (base, "/"),
    };
    if link.starts_with('/') {
        return format!("{scheme_host}{link}");
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop(); // the page's own last segment
    for seg in link.split('/') {
        match seg {
            "." => {}
            ".." => {
                if parts.len() > 1 {
                    parts.pop();
                }
            }
            s => parts.push(s),
        }
    }
    format!("{scheme_host}{}", parts.join("/"))
}

/// `(version, is pure-Python wheel)` of a distribution file name, if it is one.
fn parse_filename(project: &str, filename: &str) -> Option<(Version, bool)> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() < 5 {
            return None;
        }
        let version = Version::from_str(parts[1]).ok()?;
        let (py, abi, plat) = (
            parts[parts.len() - 3],
            parts[parts.len() - 2],
            parts[parts.len() - 1],
        );
        let pure = abi == "none" && plat == "any" && py.split('.').any(|t| t.starts_with("py3"));
        return Some((version, pure));
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    let norm = normalize(project);
    let (name, ver) = stem.rsplit_once('-')?;
    (normalize(name) == norm).then_some(())?;
    Some((Version::from_str(ver).ok()?, false))
}

/// The chosen wheel of a project.
#[derive(Debug, Clone)]
pub struct Wheel {
    pub version: String,
    pub file: IndexFile,
}

/// Pick the release `spec` asks for (PEP 440 specifiers, or a bare version meaning `==`;
/// default: the newest non-prerelease), skipping yanked files, and its pure-Python wheel.
pub fn choose(project: &str, files: &[IndexFile], spec: Option<&str>) -> Result<Wheel, PypiError> {
    let spec_text = spec.map(str::trim).filter(|s| !s.is_empty());
    let specifiers = match spec_text {
        None => None,
        Some(s) => {
            let s = if s.starts_with(|c: char| c.is_ascii_digit()) {
                format!("=={s}")
            } else {
                s.to_string()
            };
            Some(
                VersionSpecifiers::from_str(&s).map_err(|e| PypiError::BadSpec {
                    project: project.to_string(),
                    spec: s.clone(),
                    message: e.to_string(),
                })?,
            )
        }
    };
    let live: Vec<(&IndexFile, Version, bool)> = files
        .iter()
        .filter(|f| !f.yanked)
        .filter_map(|f| parse_filename(project, &f.filename).map(|(v, pure)| (f, v, pure)))
        .collect();
    let allow_pre = specifiers
        .as_ref()
        .is_some_and(|s| s.iter().any(|x| x.version().any_prerelease()));
    let mut versions: Vec<&Version> = live
        .iter()
        .map(|(_, v, _)| v)
        .filter(|v| allow_pre || !v.any_prerelease())
        .filter(|v| specifiers.as_ref().is_none_or(|s| s.contains(v)))
        .collect();
    versions.sort();
    versions.dedup();
    let Some(version) = versions.last().map(|v| (*v).clone()) else {
        let mut all: Vec<&Version> = live.iter().map(|(_, v, _)| v).collect();
        all.sort();
        all.dedup();
        return Err(PypiError::NoVersion {
            project: project.to_string(),
            spec: spec_text.unwrap_or("latest").to_string(),
            available: all.iter().rev().take(8).map(|v| v.to_string()).collect(),
        });
    };
    let of_version: Vec<&(&IndexFile, Version, bool)> =
        live.iter().filter(|(_, v, _)| *v == version).collect();
    match of_version.iter().find(|(_, _, pure)| *pure) {
        Some((f, v, _)) => Ok(Wheel {
            version: v.to_string(),
            file: (*f).clone(),
        }),
        None => Err(PypiError::NoPureWheel {
            project: project.to_string(),
            version: version.to_string(),
            found: of_version
                .iter()
                .map(|(f, _, _)| f.filename.clone())
                .collect(),
        }),
    }
}

/// The wheel file, from the download cache (by sha256) or downloaded and verified. Credentials
/// in the `index` URL go with it when it is on the index's host and port (as pip sends them).
pub fn fetch_wheel(
    index: &str,
    wheel: &Wheel,
    cache: &Path,
    timeout: Duration,
    progress: Option<&dyn crate::progress::Task>,
) -> Result<PathBuf, PypiError> {
    if let Some(sha) = &wheel.file.sha256 {
        let cached = cache.join(format!("sha256-{}.whl", sha.to_ascii_lowercase()));
        if cached.is_file() {
            return Ok(cached);
        }
    }
    let download = download::download_into(
        &Request::new(&wheel.file.url, timeout, MAX_WHEEL)
            .credential(Credential::split_from_url(index).1),
        cache,
        &[download::Algorithm::Sha256],
        progress,
    )?;
    let actual = download.digests.sha256.clone().unwrap_or_default();
    if let Some(want) = &wheel.file.sha256
        && !want.eq_ignore_ascii_case(&actual)
    {
        return Err(PypiError::Integrity {
            url: crate::credential::redact_url(&wheel.file.url),
            expected: want.clone(),
            actual,
        });
    }
    Ok(download.keep(&cache.join(format!("sha256-{actual}.whl")))?)
}

/// Where the plugin sits inside a wheel: the folder holding `.claude-plugin/plugin.json` (at
/// the top or inside a top-level package), else the single top-level package folder, else the
/// top (metadata folders `*.dist-info` and `*.data` never count).
pub fn plugin_root(names: &[PathBuf]) -> PathBuf {
    let manifest = Path::new(".claude-plugin/plugin.json");
    if names.iter().any(|n| n == manifest) {
        return PathBuf::new();
    }
    let mut candidates: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.components().count() == 3 && n.ends_with(manifest))
        .filter_map(|n| n.components().next().map(|c| PathBuf::from(c.as_os_str())))
        .collect();
    candidates.sort();
    if let Some(first) = candidates.into_iter().next() {
        return first;
    }
    let mut packages: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.components().count() > 1)
        .filter_map(|n| n.components().next().map(|c| PathBuf::from(c.as_os_str())))
        .filter(|p| {
            let s = p.to_string_lossy();
            !s.ends_with(".dist-info") && !s.ends_with(".data")
        })
        .collect();
    packages.sort();
    packages.dedup();
    if packages.len() == 1 {
        packages.remove(0)
    } else {
        PathBuf::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, yanked: bool) -> IndexFile {
        IndexFile {
            filename: name.into(),
            url: format!("https://h/{name}"),
            sha256: None,
            yanked,
        }
    }

    #[test]
    fn choosing_wheels() {
        let files = vec![
            file("demo-1.0.0-py3-none-any.whl", false),
            file("demo-1.2.0-py2.py3-none-any.whl", false),
            file("demo-1.3.0-py3-none-any.whl", true),
            file("demo-2.0.0rc1-py3-none-any.whl", false),
            file("demo-1.4.0.tar.gz", false),
            file("demo-1.5.0-cp312-cp312-manylinux_2_17_x86_64.whl", false),
        ];
        assert!(
            choose("demo", &files, None)
                .unwrap_err()
                .to_string()
                .contains("1.5.0")
        );
        assert_eq!(
            choose("demo", &files, Some("<1.4")).unwrap().version,
            "1.2.0"
        );
        assert_eq!(
            choose("demo", &files, Some("1.0.0")).unwrap().version,
            "1.0.0"
        );
        assert!(
            choose("demo", &files, Some("~=1.0"))
                .unwrap_err()
                .to_string()
                .contains("no pure-Python wheel")
        );
        assert_eq!(
            choose("demo", &files, Some(">=2.0.0rc1")).unwrap().version,
            "2.0.0rc1"
        );
        let e = choose("demo", &files, Some(">=3")).unwrap_err().to_string();
        assert!(
            e.contains("no release matching") && e.contains("1.5.0"),
            "{e}"
        );
        assert!(
            choose("demo", &files, Some("~~1"))
                .unwrap_err()
                .to_string()
                .contains("PEP 440")
        );
    }

    #[test]
    fn names_urls_and_roots() {
        assert_eq!(normalize("Demo.Plugin__x"), "demo-plugin-x");
        assert_eq!(
            join_url("https://h/simple/demo/", "../../files/a.whl"),
            "https://h/files/a.whl"
        );
        assert_eq!(
            join_url("https://h/simple/demo/", "/files/a.whl"),
            "https://h/files/a.whl"
        );
        let html = r#"<a href="../../files/d-1.0-py3-none-any.whl#sha256=ab" data-yanked="">d-1.0-py3-none-any.whl</a>"#;
        let f = parse_html(html, "https://h/simple/d/");
        assert_eq!(
            (f[0].sha256.as_deref(), f[0].yanked, f[0].filename.as_str()),
            (Some("ab"), true, "d-1.0-py3-none-any.whl")
        );
        let n = |v: &[&str]| v.iter().map(PathBuf::from).collect::<Vec<_>>();
        assert_eq!(
            plugin_root(&n(&[
                "pkg/.claude-plugin/plugin.json",
                "pkg/x.py",
                "pkg-1.dist-info/RECORD"
            ])),
            PathBuf::from("pkg")
        );
        assert_eq!(
            plugin_root(&n(&["pkg/x.py", "pkg-1.dist-info/RECORD"])),
            PathBuf::from("pkg")
        );
        assert_eq!(
            plugin_root(&n(&[".claude-plugin/plugin.json", "pkg/x.py"])),
            PathBuf::new()
        );
    }
}
