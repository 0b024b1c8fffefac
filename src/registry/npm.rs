//! npm packages without npm: the registry protocol (abbreviated packuments), npm's version
//! rules (node-semver ranges, dist-tags), integrity checks, and a safe tarball extraction.
//!
//! Registry: the entry's `registry`, else the user's npm configuration (`.npmrc` of the project,
//! then of the home folder: `registry`, `@scope:registry`, `//host/path/:_authToken`, and
//! `npm_config_registry`), else `https://registry.npmjs.org/`. A token is sent only to URLs under
//! the host and path it was configured for.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::unpack::{self, EntryKind, UnpackBudget, UnpackError, Unpacker};
use crate::cache::{CopyReport, Skipped, excluded_prefix};
use crate::credential::{Credential, Scope, redact_url};
use crate::download::{self, DownloadError, Request, sri_sha512};
use crate::fsutil::{IoContext, IoError};

pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";
/// The largest tarball downloaded (npm's own limit is far lower in practice).
const MAX_TARBALL: u64 = 512 * 1024 * 1024;
/// The largest packument read into memory.
const MAX_PACKUMENT: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum NpmError {
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("npm package {package} was not found in the registry {registry}")]
    NotFound { package: String, registry: String },
    #[error("npm package {package} has no version matching \"{spec}\" (it has: {})", .available.join(", "))]
    NoVersion {
        package: String,
        spec: String,
        available: Vec<String>,
    },
    #[error("the registry's answer for {package} could not be read: {message}")]
    BadPackument { package: String, message: String },
    #[error(
        "{url}: integrity check failed: expected {expected}, got {actual}; nothing was installed"
    )]
    Integrity {
        url: String,
        expected: String,
        actual: String,
    },
    #[error(
        "the tarball of {package} holds an unsafe entry \"{entry}\": {why}; refusing to install it"
    )]
    UnsafeEntry {
        package: String,
        entry: String,
        why: &'static str,
    },
    #[error("the tarball of {package} could not be read: {message}")]
    BadTarball { package: String, message: String },
    #[error("the tarball of {package} {source}")]
    Unpack {
        package: String,
        source: UnpackError,
    },
    #[error(
        "\"{package}\" was not fetched: its npm registry, {registry}, is unencrypted and a token is configured for it, which would be sent in the clear; use an https:// registry"
    )]
    Unencrypted { package: String, registry: String },
    #[error(
        "{url} answered {status} (access denied) for npm package {package}: {}",
        if *.had_token {
            format!("the token configured for {nerf} was not accepted; renew it in .npmrc")
        } else {
            format!("no token is configured for it; add \"{nerf}:_authToken=${{NPM_TOKEN}}\" to ~/.npmrc or the project's .npmrc and set NPM_TOKEN")
        }
    )]
    Denied {
        url: String,
        status: u16,
        package: String,
        nerf: String,
        had_token: bool,
    },
}

/// Where to fetch a package from, and the token for that place.
#[derive(Debug, Clone, PartialEq)]
pub struct NpmRegistry {
    /// Base URL with a trailing `/`.
    pub url: String,
    /// `(nerf-darted prefix "//host/path/", token)` pairs from the configuration.
    tokens: Vec<(String, String)>,
}

impl NpmRegistry {
    /// The registry for `package`: `explicit` (an entry's `registry`), else npm configuration,
    /// where `env_registry` (`npm_config_registry`) comes after a scope's registry.
    pub fn for_package(
        package: &str,
        explicit: Option<&str>,
        env_registry: Option<&str>,
        project: &Path,
        home: &Path,
    ) -> Self {
        let config = NpmConfig::load(project, home);
        let scope = package.strip_prefix('@').and_then(|p| p.split('/').next());
        let url = explicit
            .map(String::from)
            .or_else(|| scope.and_then(|s| config.get(&format!("@{s}:registry"))))
            .or_else(|| env_registry.map(String::from))
            .or_else(|| config.get("registry"))
            .unwrap_or_else(|| DEFAULT_REGISTRY.to_string());
        let url = if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        };
        let tokens = config
            .values
            .iter()
            .filter_map(|(k, v)| {
                k.strip_suffix(":_authToken")
                    .map(|p| (p.to_string(), v.clone()))
            })
            .collect();
        Self { url, tokens }
    }

    /// A 401/403 from `url` as an error that says which `.npmrc` line grants access.
    fn access_error(&self, e: DownloadError, url: &str, package: &str) -> NpmError {
        match e {
            DownloadError::Status {
                status: status @ (401 | 403),
                ..
            } => {
                // npm's "nerf-dart": the registry URL without its scheme, or the host alone
                // for a tarball served elsewhere.
                let registry = redact_url(&self.url);
                let base = if url.starts_with(&self.url) {
                    registry.clone()
                } else {
                    redact_url(url)
                };
                let rest = base.split_once(':').map_or(base.as_str(), |(_, r)| r);
                let nerf = if base == registry {
                    rest.to_string()
                } else {
                    let host = rest.trim_start_matches('/').split('/').next().unwrap_or("");
                    format!("//{host}/")
                };
                NpmError::Denied {
                    url: redact_url(url),
                    status,
                    package: package.to_string(),
                    had_token: self.credential_for(url).is_some(),
                    nerf,
                }
            }
            e => e.into(),
        }
    }

    /// The token configured for `url` (the longest nerf-dart `//host[:port]/path/` that `url`
    /// starts with, scheme aside), as a credential bound to `https:` and that host, port and
    /// path: a request or redirect outside of that goes without it.
    fn credential_for(&self, url: &str) -> Option<Credential> {
        let nerfed = url.split_once(':').map(|(_, rest)| rest)?;
        let (prefix, token) = (self.tokens.iter())
            .filter(|(prefix, _)| nerfed.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())?;
        let dir = if prefix.ends_with('/') { "" } else { "/" };
        let scope = Scope::prefix_of(&format!("https:{prefix}{dir}"))?;
        Some(Credential::bearer(scope, token))
    }

    fn request<'a>(&self, url: &'a str, timeout: Duration, limit: u64) -> Request<'a> {
        Request::new(url, timeout, limit).credential(self.credential_for(url))
    }
}

/// `key=value` settings of `.npmrc` files (project first, then home; the first value wins).
struct NpmConfig {
    values: BTreeMap<String, String>,
}

impl NpmConfig {
    fn load(project: &Path, home: &Path) -> Self {
        let mut values = BTreeMap::new();
        for file in [project.join(".npmrc"), home.join(".npmrc")] {
            let Ok(text) = crate::fsutil::read_regular_text(&file, crate::fsutil::JSON_FILE_LIMIT)
            else {
                continue;
            };
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
                    continue;
                }
                if let Some((k, v)) = line.split_once('=') {
                    let v = expand_env(v.trim().trim_matches('"'));
                    values.entry(k.trim().to_string()).or_insert(v);
                }
            }
        }
        Self { values }
    }

    fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned()
    }
}

/// `${VAR}` in `.npmrc` values, as npm expands them.
fn expand_env(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                let name = &rest[start + 2..start + end];
                out.push_str(&std::env::var(name).unwrap_or_default());
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Deserialize)]
struct Packument {
    #[serde(rename = "dist-tags", default)]
    dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    versions: BTreeMap<String, PackumentVersion>,
}

#[derive(Debug, Deserialize)]
struct PackumentVersion {
    dist: Dist,
}

#[derive(Debug, Clone, Deserialize)]
struct Dist {
    tarball: String,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    shasum: Option<String>,
}

/// A resolved package version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NpmRelease {
    pub package: String,
    pub version: String,
    pub tarball: String,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
}

/// Resolve `spec` (exact version, node-semver range or dist-tag; default `latest`). The
/// packument is always asked for, conditionally when `cache` holds a copy (see
/// [`super::metadata`]): an unchanged one costs a `304` and no body.
pub fn resolve(
    reg: &NpmRegistry,
    package: &str,
    spec: Option<&str>,
    cache: &Path,
    timeout: Duration,
) -> Result<NpmRelease, NpmError> {
    refuse_token_in_clear(reg, package)?;
    let url = format!("{}{}", reg.url, package.replace('/', "%2f"));
    let req = reg.request(&url, timeout, MAX_PACKUMENT).header(
        "Accept",
        "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8",
    );
    let packument = super::metadata::fetch(&req, cache).map_err(|e| {
        if e.is_not_found() {
            NpmError::NotFound {
                package: package.to_string(),
                registry: redact_url(&reg.url),
            }
        } else {
            reg.access_error(e, &url, package)
        }
    })?;
    release_from_packument(package, spec, &packument.body)
}

/// The release of `package` that `spec` picks (default `latest`) from `body`, the registry's
/// packument: untrusted bytes, so every defect is an [`NpmError`].
pub fn release_from_packument(
    package: &str,
    spec: Option<&str>,
    body: &[u8],
) -> Result<NpmRelease, NpmError> {
    let packument: Packument =
        serde_json::from_slice(body).map_err(|e| NpmError::BadPackument {
            package: package.to_string(),
            message: e.to_string(),
        })?;
    let spec = spec
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("latest");
    let picked = pick_version(&packument, spec)
        .and_then(|v| packument.versions.get(&v).map(|p| (v, p.dist.clone())));
    let Some((version, dist)) = picked else {
        return Err(NpmError::NoVersion {
            package: package.to_string(),
            spec: spec.to_string(),
            available: newest(&packument, 8),
        });
    };
    Ok(NpmRelease {
        package: package.to_string(),
        version,
        tarball: dist.tarball,
        integrity: dist.integrity,
        shasum: dist.shasum,
    })
}

/// A configured token is never sent in the clear.
fn refuse_token_in_clear(reg: &NpmRegistry, package: &str) -> Result<(), NpmError> {
    if reg.url.starts_with("http://") && reg.credential_for(&reg.url).is_some() {
        return Err(NpmError::Unencrypted {
            package: package.to_string(),
            registry: redact_url(&reg.url),
        });
    }
    Ok(())
}

/// `spec` when it names one exact version (`1.2.3`, `2.0.0-rc.1`), not a range or tag.
fn exact_version(spec: Option<&str>) -> Option<String> {
    let spec = spec?.trim();
    let plain = spec
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    let v = nodejs_semver::Version::parse(spec).ok()?;
    (plain && spec.starts_with(|c: char| c.is_ascii_digit())).then(|| v.to_string())
}

/// Resolve `spec` and fetch its tarball, as [`resolve`] then [`fetch_tarball`], faster for an
/// exact version, which npm never lets change once published:
/// * seen before (same registry, package and version, tarball still in the download cache):
///   no request at all;
/// * otherwise the tarball at npm's conventional address is downloaded while the packument is
///   read, and kept only if the packument names that address and its digest matches.
pub fn resolve_and_fetch(
    reg: &NpmRegistry,
    package: &str,
    spec: Option<&str>,
    cache: &Path,
    timeout: Duration,
    progress: Option<&dyn crate::progress::Task>,
) -> Result<(NpmRelease, PathBuf), NpmError> {
    let Some(version) = exact_version(spec) else {
        let release = resolve(reg, package, spec, cache, timeout)?;
        let tgz = fetch_tarball(reg, &release, cache, timeout, progress)?;
        return Ok((release, tgz));
    };
    refuse_token_in_clear(reg, package)?;
    let seen = seen_path(cache, reg, package, &version);
    if let Some(hit) = crate::fsutil::read_regular_file(&seen, crate::fsutil::JSON_FILE_LIMIT)
        .ok()
        .and_then(|b| serde_json::from_slice::<NpmRelease>(&b).ok())
        .and_then(|r| cached_tarball(&r, cache).map(|p| (r, p)))
    {
        return Ok(hit);
    }
    let unscoped = package.rsplit('/').next().unwrap_or(package);
    let guess = format!("{}{package}/-/{unscoped}-{version}.tgz", reg.url);
    let (release, early) = std::thread::scope(|scope| {
        let early =
            scope.spawn(|| download_tarball(reg, &guess, package, cache, timeout, progress));
        let release = resolve(reg, package, spec, cache, timeout);
        (release, early.join().ok().and_then(Result::ok))
    });
    let fetched = match (release, early) {
        (Ok(release), Some(early)) if release.tarball == guess => {
            let tgz = match cached_tarball(&release, cache) {
                Some(hit) => hit,
                None => accept_tarball(early, &release, cache)?,
            };
            (release, tgz)
        }
        (release, early) => {
            drop(early);
            let release = release?;
            let tgz = fetch_tarball(reg, &release, cache, timeout, progress)?;
            (release, tgz)
        }
    };
    // A lost record costs one packument request next time, nothing more.
    if let Ok(json) = serde_json::to_vec(&fetched.0) {
        let _ = crate::fsutil::write_atomic(&seen, &json);
    }
    Ok(fetched)
}

/// Where an exact version's resolution is remembered.
fn seen_path(cache: &Path, reg: &NpmRegistry, package: &str, version: &str) -> PathBuf {
    use sha2::Digest;
    let key = sha2::Sha256::digest(format!("{}\0{package}\0{version}", reg.url));
    cache.join("npm-seen").join(hex::encode(&key[..16]))
}

/// npm's choice: a dist-tag, an exact version, else the highest version in the range
/// (prereleases only when the range names one). Always a key of `versions` as the registry
/// spelled it (`v1.0.0` parses, but its canonical form `1.0.0` may not be listed).
fn pick_version(p: &Packument, spec: &str) -> Option<String> {
    if let Some(v) = p.dist_tags.get(spec) {
        return p.versions.contains_key(v).then(|| v.clone());
    }
    if p.versions.contains_key(spec) {
        return Some(spec.to_string());
    }
    let range = nodejs_semver::Range::parse(spec).ok()?;
    p.versions
        .keys()
        .filter_map(|key| nodejs_semver::Version::parse(key).ok().map(|v| (v, key)))
        .filter(|(v, _)| range.satisfies(v))
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, key)| key.clone())
}

fn newest(p: &Packument, n: usize) -> Vec<String> {
    let mut versions: Vec<nodejs_semver::Version> = p
        .versions
        .keys()
        .filter_map(|v| nodejs_semver::Version::parse(v).ok())
        .collect();
    versions.sort();
    versions
        .iter()
        .rev()
        .take(n)
        .map(|v| v.to_string())
        .collect()
}

/// The tarball of `release`, from the download cache (keyed by digest) or downloaded and
/// verified: `integrity` (SRI sha512), else the sha1 `shasum`. A mismatch keeps nothing.
pub fn fetch_tarball(
    reg: &NpmRegistry,
    release: &NpmRelease,
    cache: &Path,
    timeout: Duration,
    progress: Option<&dyn crate::progress::Task>,
) -> Result<PathBuf, NpmError> {
    if let Some(hit) = cached_tarball(release, cache) {
        return Ok(hit);
    }
    let pending = download_tarball(
        reg,
        &release.tarball,
        &release.package,
        cache,
        timeout,
        progress,
    )?;
    accept_tarball(pending, release, cache)
}

/// The verified tarball of `release` in the download cache, if it is there.
fn cached_tarball(release: &NpmRelease, cache: &Path) -> Option<PathBuf> {
    let hex = release.integrity.as_deref().and_then(sri_sha512)?;
    let cached = cache.join(format!("sha512-{hex}.tgz"));
    cached.is_file().then_some(cached)
}

fn download_tarball(
    reg: &NpmRegistry,
    url: &str,
    package: &str,
    cache: &Path,
    timeout: Duration,
    progress: Option<&dyn crate::progress::Task>,
) -> Result<download::Downloaded, NpmError> {
    use download::Algorithm::{Sha1, Sha512};
    let req = reg.request(url, timeout, MAX_TARBALL);
    // sha512 names the cached file; sha1 is what old releases publish instead of integrity.
    download::download_into(&req, cache, &[Sha512, Sha1], progress)
        .map_err(|e| reg.access_error(e, url, package))
}

/// Check a download against `release` (`integrity`, else the sha1 `shasum`) and move it into
/// the cache under its sha512; a mismatch keeps nothing.
fn accept_tarball(
    download: download::Downloaded,
    release: &NpmRelease,
    cache: &Path,
) -> Result<PathBuf, NpmError> {
    let actual512 = download.digests.sha512.clone().unwrap_or_default();
    let actual1 = download.digests.sha1.clone().unwrap_or_default();
    let mismatch = match (
        release.integrity.as_deref().and_then(sri_sha512),
        &release.shasum,
    ) {
        (Some(want), _) if want != actual512 => Some((
            release.integrity.clone().unwrap_or_default(),
            format!(
                "sha512-{}",
                base64::engine::general_purpose::STANDARD
                    .encode(hex::decode(&actual512).unwrap_or_default())
            ),
        )),
        (None, Some(want)) if !want.eq_ignore_ascii_case(&actual1) => {
            Some((format!("sha1 {want}"), format!("sha1 {actual1}")))
        }
        _ => None,
    };
    if let Some((expected, actual)) = mismatch {
        return Err(NpmError::Integrity {
            url: redact_url(&release.tarball),
            expected,
            actual,
        });
    }
    Ok(download.keep(&cache.join(format!("sha512-{actual512}.tgz")))?)
}

/// npm-shrinkwrap.json / package-lock.json (lockfileVersion 2 and 3): the `packages` map.
#[derive(Debug, Deserialize)]
struct Lockfile {
    #[serde(rename = "lockfileVersion", default)]
    version: u32,
    #[serde(default)]
    packages: BTreeMap<String, LockedPackage>,
}

#[derive(Debug, Deserialize)]
struct LockedPackage {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    optional: bool,
    /// Shipped inside the package (npm's bundled dependencies): never fetched.
    #[serde(rename = "inBundle", default)]
    in_bundle: bool,
}

/// Install the package's Node.js dependencies into `<dir>/node_modules` from its lockfile
/// (`npm-shrinkwrap.json`, else `package-lock.json`): each locked tarball downloaded (cached by
/// digest) and verified, in parallel, and unpacked within `budget` (the install's, shared with
/// the package itself); scripts never run; dev dependencies left out, and so are lockfile
/// paths that [`excluded_prefix`] leaves out (`node_modules/.git`). The report holds what was
/// written and skipped (paths inside `dir`), and a note for the user when nothing could be
/// installed (no lockfile, an old lockfile format).
pub fn install_dependencies(
    dir: &Path,
    reg: &NpmRegistry,
    cache: &Path,
    timeout: Duration,
    budget: &UnpackBudget,
) -> Result<CopyReport, NpmError> {
    let mut report = CopyReport::default();
    let Some((name, lock)) = dependency_lockfile(dir, &mut report.notes)? else {
        return Ok(report);
    };
    let jobs = locked_dependencies(dir, &name, &lock, &mut report.skipped)?;
    let install = |dep: &LockedDependency| {
        let tgz = fetch_tarball(reg, &dep.release, cache, timeout, None)?;
        let target = dir.join(&dep.rel);
        fs::create_dir_all(&target).at("create directory", &target)?;
        extract(&tgz, &dep.release.package, &target, budget)
    };
    // Network-bound: up to 8 at once. A panicking worker is re-raised, never lost.
    let results = crate::parallel::map(&jobs, 8, 1, install);
    for (dep, r) in jobs.iter().zip(results) {
        match r {
            Ok(written) => {
                report.files += written.files;
                report.bytes += written.bytes;
                report
                    .skipped
                    .extend(written.skipped.into_iter().map(|s| Skipped {
                        path: dep.rel.join(s.path),
                        ..s
                    }));
            }
            // The install's cap is no optional matter: past it, nothing is installed.
            Err(
                e @ NpmError::Unpack {
                    source: UnpackError::TooLarge { .. } | UnpackError::TooManyEntries { .. },
                    ..
                },
            ) => return Err(e),
            Err(e) if dep.optional => report.notes.push(format!(
                "optional dependency {} skipped: {e}",
                dep.release.package
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// The package's name and its lockfile, when it declares dependencies and ships a lockfile we
/// read; otherwise `None`, with a note in `notes` when the user should know why nothing was
/// installed.
fn dependency_lockfile(
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<Option<(String, Lockfile)>, NpmError> {
    let package =
        crate::fsutil::read_regular_text(&dir.join("package.json"), crate::fsutil::JSON_FILE_LIMIT)
            .unwrap_or_default();
    let manifest: serde_json::Value = serde_json::from_str(&package).unwrap_or_default();
    let has_deps = manifest
        .get("dependencies")
        .and_then(|d| d.as_object())
        .is_some_and(|d| !d.is_empty());
    if !has_deps {
        return Ok(None);
    }
    let name = manifest
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("the package")
        .to_string();
    let Some(lockfile) = ["npm-shrinkwrap.json", "package-lock.json"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
    else {
        notes.push(format!(
            "{name} declares dependencies but ships no lockfile (npm-shrinkwrap.json or package-lock.json); none were installed"
        ));
        return Ok(None);
    };
    let text = crate::fsutil::read_regular_text(&lockfile, crate::fsutil::JSON_FILE_LIMIT)
        .at("read", &lockfile)?;
    let lock: Lockfile = serde_json::from_str(&text).map_err(|e| NpmError::BadPackument {
        package: name.clone(),
        message: format!("{}: {e}", lockfile.display()),
    })?;
    if lock.version < 2 {
        notes.push(format!(
            "{} is lockfileVersion {}; only versions 2 and 3 are read, so no dependency was installed",
            lockfile.display(),
            lock.version
        ));
        return Ok(None);
    }
    Ok(Some((name, lock)))
}

/// One dependency of the lockfile to fetch and unpack.
struct LockedDependency {
    /// Where it goes, inside the package (`node_modules/…`).
    rel: PathBuf,
    optional: bool,
    release: NpmRelease,
}

/// The dependencies of `lock` (the lockfile of package `name` in `dir`) to fetch: not dev, not
/// linked, not shipped by the package itself. Paths [`excluded_prefix`] leaves out go to
/// `skipped`; a path that is not safe inside the package is refused.
fn locked_dependencies(
    dir: &Path,
    name: &str,
    lock: &Lockfile,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<LockedDependency>, NpmError> {
    let mut jobs = Vec::new();
    for (key, p) in &lock.packages {
        if key.is_empty() || p.dev || p.link || !key.starts_with("node_modules/") {
            continue;
        }
        let rel = Path::new(key);
        // The archives' own rule for names (absolute, `..`, NUL).
        if let Err(why) = unpack::entry_path(rel, 0) {
            return Err(NpmError::UnsafeEntry {
                package: name.to_string(),
                entry: key.clone(),
                why,
            });
        }
        if let Some((path, reason)) = excluded_prefix(rel) {
            skipped.push(Skipped::excluded(path, reason));
            continue;
        }
        // What the package ships itself is kept, as npm keeps bundled dependencies (checked
        // before any dependency is written, so only the package's own folders count).
        if p.in_bundle || dir.join(rel).exists() {
            continue;
        }
        let Some(resolved) = &p.resolved else {
            continue;
        };
        let dep = key
            .rsplit("node_modules/")
            .next()
            .unwrap_or(key)
            .to_string();
        jobs.push(LockedDependency {
            rel: rel.to_path_buf(),
            optional: p.optional,
            release: NpmRelease {
                package: dep,
                version: p.version.clone().unwrap_or_default(),
                tarball: resolved.clone(),
                integrity: p.integrity.clone(),
                shasum: None,
            },
        });
    }
    Ok(jobs)
}

/// Open a gzip'd tarball.
fn open_tar(tgz: &Path) -> Result<tar::Archive<flate2::read::GzDecoder<fs::File>>, IoError> {
    let f = fs::File::open(tgz).at("open", tgz)?;
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(f)))
}

/// The first of `candidates` (paths inside the package, in order of preference) that the
/// tarball holds as a file, and its content: one pass over the tarball, however many
/// candidates.
pub fn read_first<'c>(
    tgz: &Path,
    package: &str,
    candidates: &'c [String],
) -> Result<Option<(&'c str, Vec<u8>)>, NpmError> {
    let bad = |e: std::io::Error| NpmError::BadTarball {
        package: package.to_string(),
        message: e.to_string(),
    };
    let mut best: Option<(usize, Vec<u8>)> = None;
    let mut archive = open_tar(tgz)?;
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = entry.path().map_err(bad)?.into_owned();
        let Some(rel) = unpack::entry_path(&raw, 1).ok().flatten() else {
            continue;
        };
        let Some(rank) = candidates.iter().position(|c| rel == Path::new(c)) else {
            continue;
        };
        if best.as_ref().is_some_and(|(b, _)| *b <= rank) {
            continue;
        }
        let limit = super::MAX_INNER_FILE;
        let mut data = Vec::new();
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut data)
            .map_err(bad)?;
        if data.len() as u64 > limit {
            return Err(bad(std::io::Error::other(format!(
                "{} is larger than {limit} bytes",
                candidates[rank]
            ))));
        }
        best = Some((rank, data));
        if rank == 0 {
            break;
        }
    }
    Ok(best.map(|(rank, data)| (candidates[rank].as_str(), data)))
}

/// Extract the package into the existing, empty folder `dst` under the rules of
/// [`super::unpack`]; every byte written counts against `budget`. No install script is ever
/// run.
pub fn extract(
    tgz: &Path,
    package: &str,
    dst: &Path,
    budget: &UnpackBudget,
) -> Result<CopyReport, NpmError> {
    let failed = |source: UnpackError| NpmError::Unpack {
        package: package.to_string(),
        source,
    };
    let bad = |e: std::io::Error| failed(UnpackError::Read(e));
    let mut unpacker = Unpacker::new(dst, budget);
    let mut archive = open_tar(tgz)?;
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let raw = entry.path().map_err(bad)?.into_owned();
        let shown = raw.display().to_string();
        let rel = match unpack::entry_path(&raw, 1) {
            Ok(Some(rel)) => rel,
            Ok(None) => continue,
            Err(why) => return Err(failed(UnpackError::Unsafe { entry: shown, why })),
        };
        let header = entry.header();
        let kind = header.entry_type();
        let link = || entry.link_name().ok().flatten().map(|l| l.into_owned());
        let kind = if kind.is_dir() {
            EntryKind::Dir
        } else if kind.is_file() {
            EntryKind::File(header.mode().unwrap_or(0o644))
        } else if kind.is_symlink() {
            EntryKind::Symlink(link())
        } else if kind.is_hard_link() {
            // Named like the entries: inside the package.
            EntryKind::HardLink(
                link().map(|l| unpack::entry_path(&l, 1).ok().flatten().unwrap_or(l)),
            )
        } else {
            EntryKind::Other
        };
        unpacker
            .entry(&shown, rel, kind, &mut entry)
            .map_err(failed)?;
    }
    Ok(unpacker.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_read_from_a_tarball_are_capped() {
        let t = tempfile::tempdir().unwrap();
        let tgz = t.path().join("p.tgz");
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(&tgz).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, len) in [
            ("package/small.json", 10u64),
            ("package/big.json", super::super::MAX_INNER_FILE + 1),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(len);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, std::io::repeat(b' ').take(len))
                .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        let wanted = ["missing.json".to_string(), "small.json".to_string()];
        let (name, data) = read_first(&tgz, "p", &wanted).unwrap().unwrap();
        assert_eq!((name, data.len()), ("small.json", 10));
        let err = read_first(&tgz, "p", &["big.json".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("big.json is larger than 16777216 bytes"),
            "{err}"
        );
        // Unpacking stops at its limit, whatever the tarball claims.
        let dst = t.path().join("out");
        fs::create_dir(&dst).unwrap();
        let err = extract(&tgz, "p", &dst, &UnpackBudget::new(1024))
            .unwrap_err()
            .to_string();
        assert!(err.contains("write more than 1024 bytes"), "{err}");
    }

    fn packument(versions: &[&str], latest: &str) -> Packument {
        let mut v = BTreeMap::new();
        for ver in versions {
            v.insert(
                ver.to_string(),
                PackumentVersion {
                    dist: Dist {
                        tarball: format!("https://r/x/-/x-{ver}.tgz"),
                        integrity: None,
                        shasum: None,
                    },
                },
            );
        }
        Packument {
            dist_tags: BTreeMap::from([
                ("latest".to_string(), latest.to_string()),
                ("next".to_string(), "3.0.0-beta.1".to_string()),
            ]),
            versions: v,
        }
    }

    #[test]
    fn npm_version_rules() {
        let p = packument(
            &["1.0.0", "1.2.0", "1.10.1", "2.0.0", "2.1.0", "3.0.0-beta.1"],
            "2.1.0",
        );
        let pick = |s: &str| pick_version(&p, s);
        assert_eq!(pick("latest").as_deref(), Some("2.1.0"));
        assert_eq!(pick("next").as_deref(), Some("3.0.0-beta.1"));
        assert_eq!(pick("1.2.0").as_deref(), Some("1.2.0"));
        assert_eq!(pick("^1.0.0").as_deref(), Some("1.10.1"));
        assert_eq!(pick("~1.2").as_deref(), Some("1.2.0"));
        assert_eq!(pick("1.x || >=2.1.0 <3").as_deref(), Some("2.1.0"));
        assert_eq!(pick("1.0.0 - 1.9.9").as_deref(), Some("1.2.0"));
        assert_eq!(pick("*").as_deref(), Some("2.1.0"));
        assert_eq!(pick(">=3.0.0-beta.0").as_deref(), Some("3.0.0-beta.1"));
        assert_eq!(pick("^4"), None);
    }

    #[test]
    fn registries_and_tokens() {
        let t = tempfile::tempdir().unwrap();
        let (project, home) = (t.path().join("p"), t.path().join("h"));
        fs::create_dir_all(&project).unwrap();
        fs::create_dir_all(&home).unwrap();
        fs::write(home.join(".npmrc"), "registry=https://home.example/\n@acme:registry=https://acme.example/npm/\n//acme.example/npm/:_authToken=${ACME_TEST_TOKEN_X}\n").unwrap();
        fs::write(
            project.join(".npmrc"),
            "; comment\nregistry=https://proj.example/\n",
        )
        .unwrap();
        let r = NpmRegistry::for_package("left-pad", None, None, &project, &home);
        assert_eq!(r.url, "https://proj.example/");
        let r = NpmRegistry::for_package("@acme/tool", None, None, &project, &home);
        assert_eq!(r.url, "https://acme.example/npm/");
        let r =
            NpmRegistry::for_package("x", Some("https://explicit.example"), None, &project, &home);
        assert_eq!(r.url, "https://explicit.example/");
        let r = NpmRegistry {
            url: "https://acme.example/npm/".into(),
            tokens: vec![("//acme.example/npm/".into(), "tok".into())],
        };
        let c = r.credential_for("https://acme.example/npm/@acme%2ftool");
        assert_eq!(
            c.as_ref().map(|c| c.authorization()).as_deref(),
            Some("Bearer tok")
        );
        // Bound to where it was configured: a redirect elsewhere does not carry it.
        let c = c.unwrap();
        assert_eq!(c.scope().to_string(), "https://acme.example/npm/");
        assert!(!c.admits("https://acme.example/other/x.tgz"));
        assert!(!c.admits("http://acme.example/npm/x.tgz"));
        assert_eq!(r.credential_for("https://acme.example/other"), None);
        assert_eq!(r.credential_for("https://evil.example/npm/x"), None);
    }

    #[test]
    fn sri() {
        assert_eq!(sri_sha512("sha1-xx sha512-AAAA").as_deref(), Some("000000"));
        assert_eq!(sri_sha512("sha1-xx"), None);
    }
}
