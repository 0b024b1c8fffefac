//! HTTP downloads (reqwest with rustls, blocking): catalogs, registry metadata and artifacts.
//!
//! Retries with backoff on 5xx answers and broken connections; bodies are capped; artifacts
//! stream to a file (bounded memory) while their digests are computed. A conditional GET
//! ([`get_conditional`]) sends the validators of a copy already held and accepts `304`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::credential::{Credential, CredentialError, HeaderGrant, redact_url};
use crate::fsutil::{IoContext, IoError};

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{}", connect_failure(url, message))]
    Connect { url: String, message: String },
    #[error("{url} answered {status}{hint}")]
    Status {
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error(
        "{url} did not answer within {seconds} s; check the address and your network connection, or raise CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS (milliseconds)"
    )]
    Timeout { url: String, seconds: f64 },
    #[error("{url} is larger than {limit} bytes; refusing to download it")]
    TooLarge { url: String, limit: u64 },
    #[error("reading {url} failed: {message}")]
    Read { url: String, message: String },
    #[error("{url} redirected to {to}, which is refused: {why}")]
    Redirect {
        url: String,
        to: String,
        why: String,
    },
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Io(#[from] IoError),
}

impl DownloadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, DownloadError::Status { status: 404, .. })
    }
}

/// Accepts or refuses (with the reason) a redirect target.
pub type RedirectCheck = fn(&str) -> Result<(), String>;

/// A GET request: headers (e.g. Accept), credential, time limit, size limit.
pub struct Request<'a> {
    /// A `user:password@` in it is a credential for its origin (see [`Credential::split_from_url`]).
    pub url: &'a str,
    /// Set through [`Request::header`], which never takes a secret-bearing header.
    headers: Vec<(String, String)>,
    /// Sent (as `Authorization`) to each hop its scope admits, and to no other.
    pub credential: Option<Credential>,
    pub timeout: Duration,
    pub limit: u64,
    /// Every redirect target must pass this check (archives re-check each hop).
    pub redirect_check: Option<RedirectCheck>,
    /// Declared headers, sent to the hops on their origin only.
    pub granted: Option<HeaderGrant>,
}

impl<'a> Request<'a> {
    pub fn new(url: &'a str, timeout: Duration, limit: u64) -> Self {
        Self {
            url,
            headers: Vec::new(),
            credential: None,
            timeout,
            limit,
            redirect_check: None,
            granted: None,
        }
    }

    /// An extra header, sent to every hop. Headers that carry a secret are dropped: a credential
    /// goes in [`Request::credential`], which knows where it may go.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        const SECRET: &[&str] = &["authorization", "proxy-authorization", "cookie"];
        if !SECRET.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            self.headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// The value of header `name` (case-insensitive), as set by [`Request::header`].
    pub fn header_value(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn credential(mut self, credential: Option<Credential>) -> Self {
        self.credential = credential;
        self
    }
}

/// What a successful GET returned.
pub struct Response {
    /// The URL answered from, after redirects (relative links resolve against it).
    pub url: String,
    pub content_type: Option<String>,
    /// `Content-Length`, when the server sent one.
    pub length: Option<u64>,
    /// What identifies this body's version, to ask later whether it changed.
    pub validators: Validators,
    body: Box<dyn Read + Send>,
}

/// The `ETag` and `Last-Modified` a server gave for a body (RFC 9110 section 8.8), sent back as
/// `If-None-Match` and `If-Modified-Since`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }

    /// The request headers that ask "changed since?".
    fn conditions(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let etag = self.etag.as_deref().map(|v| ("If-None-Match", v));
        let date = (self.last_modified.as_deref()).map(|v| ("If-Modified-Since", v));
        etag.into_iter().chain(date)
    }

    fn of(resp: &reqwest::blocking::Response) -> Self {
        let header = |name| {
            (resp.headers().get(name))
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        Self {
            etag: header("etag"),
            last_modified: header("last-modified"),
        }
    }
}

/// The answer to a conditional GET.
pub enum Conditional {
    /// A body (2xx): the copy held is outdated, or there was none.
    Fresh(Response),
    /// `304 Not Modified`: the copy the validators came from is current; no body was sent.
    NotModified {
        /// The URL answered from, after redirects.
        url: String,
    },
}

const ATTEMPTS: u32 = 3;

/// Send a GET, retrying on 5xx answers and connection failures (not on 4xx).
/// Non-2xx answers are errors.
pub fn get(req: &Request) -> Result<Response, DownloadError> {
    match send(req, None)? {
        Conditional::Fresh(resp) => Ok(resp),
        // Only a conditional request can be answered so.
        Conditional::NotModified { .. } => Err(status_error(req.url, 304)),
    }
}

/// Send a GET as [`get`] does, asking whether the copy `known` describes is still current
/// (no condition when `known` is empty): `304` is [`Conditional::NotModified`].
pub fn get_conditional(req: &Request, known: &Validators) -> Result<Conditional, DownloadError> {
    send(req, Some(known).filter(|k| !k.is_empty()))
}

fn send(req: &Request, known: Option<&Validators>) -> Result<Conditional, DownloadError> {
    let client = client(req)?;
    let (url, embedded) = Credential::split_from_url(req.url);
    let credential = req.credential.as_ref().or(embedded.as_ref());
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200 * 4u64.pow(attempt - 1)));
        }
        match follow(&client, req, &url, credential, known) {
            Ok(resp) if resp.status().is_server_error() => {
                last = Some(status_error(req.url, resp.status().as_u16()));
            }
            Ok(resp) if resp.status().is_success() => {
                let content_type = resp
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                return Ok(Conditional::Fresh(Response {
                    url: resp.url().to_string(),
                    content_type,
                    length: resp.content_length(),
                    validators: Validators::of(&resp),
                    body: Box::new(resp),
                }));
            }
            Ok(resp) if resp.status() == reqwest::StatusCode::NOT_MODIFIED && known.is_some() => {
                return Ok(Conditional::NotModified {
                    url: resp.url().to_string(),
                });
            }
            Ok(resp) => return Err(status_error(req.url, resp.status().as_u16())),
            Err(Hop::Refused(e)) => return Err(e),
            // A server that accepts and then says nothing would cost the whole time limit again
            // on every attempt.
            Err(Hop::Failed(e)) if e.is_timeout() => {
                return Err(DownloadError::Timeout {
                    url: redact_url(req.url),
                    seconds: req.timeout.as_secs_f64(),
                });
            }
            Err(Hop::Failed(e)) => last = Some(connect(req.url, &e)),
        }
    }
    Err(last.unwrap_or_else(|| connect(req.url, &std::io::Error::other("no attempt made"))))
}

/// The most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Why a request (with its redirects) got no answer.
enum Hop {
    /// The network failed: worth another attempt.
    Failed(reqwest::Error),
    /// A rule refused a hop: final.
    Refused(DownloadError),
}

/// Send `req` to `url`, following redirects here rather than in reqwest, so that each hop is
/// checked ([`Request::redirect_check`]) and carries the credential only when its scope admits
/// that hop. Leaving the scope is allowed (registries send tarballs to CDNs) but the credential
/// stays behind; a hop inside the scope over plain http is refused.
fn follow(
    client: &reqwest::blocking::Client,
    req: &Request,
    url: &str,
    credential: Option<&Credential>,
    known: Option<&Validators>,
) -> Result<reqwest::blocking::Response, Hop> {
    let mut at = reqwest::Url::parse(url).map_err(|e| {
        Hop::Refused(DownloadError::Connect {
            url: redact_url(url),
            message: e.to_string(),
        })
    })?;
    for hops in 0.. {
        let mut builder = client.get(at.clone()).timeout(req.timeout);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        for (k, v) in known.into_iter().flat_map(Validators::conditions) {
            builder = builder.header(k, v);
        }
        let granted = (req.granted.as_ref()).filter(|g| g.admits(at.as_str()));
        if let Some(g) = granted.filter(|g| g.carries_secret() && !g.scope().is_encrypted()) {
            return Err(Hop::Refused(
                CredentialError::Unencrypted {
                    scope: g.scope().clone(),
                    url: redact_url(at.as_str()),
                }
                .into(),
            ));
        }
        for (k, v) in granted.into_iter().flat_map(|g| g.headers()) {
            builder = builder.header(k, v);
        }
        // A declared Authorization stands for the credential on its origin.
        let declared_auth = granted.is_some_and(|g| g.sets("authorization"));
        if let Some(c) = credential.filter(|c| !declared_auth && c.admits(at.as_str())) {
            if !c.scope().is_encrypted() {
                return Err(Hop::Refused(
                    CredentialError::Unencrypted {
                        scope: c.scope().clone(),
                        url: redact_url(at.as_str()),
                    }
                    .into(),
                ));
            }
            builder = builder.header(reqwest::header::AUTHORIZATION, c.authorization());
        }
        let resp = builder.send().map_err(Hop::Failed)?;
        let location = (resp.status().is_redirection()
            && resp.status() != reqwest::StatusCode::NOT_MODIFIED)
            .then(|| resp.headers().get(reqwest::header::LOCATION))
            .flatten()
            .and_then(|v| v.to_str().ok());
        let Some(location) = location else {
            return Ok(resp);
        };
        let refused = |to: &str, why: String| {
            Hop::Refused(DownloadError::Redirect {
                url: redact_url(at.as_str()),
                to: redact_url(to),
                why,
            })
        };
        let next = at
            .join(location)
            .map_err(|e| refused(location, e.to_string()))?;
        if hops == MAX_REDIRECTS {
            return Err(refused(next.as_str(), "too many redirects".into()));
        }
        if !matches!(next.scheme(), "https" | "http") {
            return Err(refused(next.as_str(), "only http(s) is followed".into()));
        }
        if let Some(check) = req.redirect_check {
            check(next.as_str()).map_err(|why| refused(next.as_str(), why))?;
        }
        at = next;
    }
    Err(Hop::Refused(DownloadError::Redirect {
        url: redact_url(url),
        to: redact_url(at.as_str()),
        why: "too many redirects".into(),
    }))
}

/// GET into memory (at most `req.limit` bytes).
pub fn get_bytes(req: &Request) -> Result<Vec<u8>, DownloadError> {
    let resp = get(req)?;
    read_capped(req, resp.body)
}

fn read_capped(req: &Request, body: Box<dyn Read + Send>) -> Result<Vec<u8>, DownloadError> {
    let mut bytes = Vec::new();
    body.take(req.limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| DownloadError::Read {
            url: redact_url(req.url),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > req.limit {
        return Err(DownloadError::TooLarge {
            url: redact_url(req.url),
            limit: req.limit,
        });
    }
    Ok(bytes)
}

impl Response {
    pub fn bytes(self, req: &Request) -> Result<Vec<u8>, DownloadError> {
        read_capped(req, self.body)
    }
}

/// A digest a download can be checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// Hex digests of a download: those that were asked for.
#[derive(Debug, Default)]
pub struct Digests {
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
}

/// A download in a temporary file of a cache folder, not yet trusted: the file is removed
/// when this is dropped, unless [`Downloaded::keep`] moved it into place.
pub struct Downloaded {
    tmp: PathBuf,
    kept: bool,
    pub digests: Digests,
}

impl Downloaded {
    /// Move the file to `dest` (in the same folder; an existing file of that name, with the
    /// same digest, is replaced).
    pub fn keep(mut self, dest: &Path) -> Result<PathBuf, IoError> {
        crate::fsutil::rename(&self.tmp, dest).at("rename into place", dest)?;
        self.kept = true;
        Ok(dest.to_path_buf())
    }
}

impl Drop for Downloaded {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Stream a GET into a new temporary file of `dir` (at most `req.limit` bytes), computing the
/// digests in `algorithms` on the way and flushing the file to disk.
pub fn download_into(
    req: &Request,
    dir: &Path,
    algorithms: &[Algorithm],
    progress: Option<&dyn crate::progress::Task>,
) -> Result<Downloaded, DownloadError> {
    fs::create_dir_all(dir).at("create directory", dir)?;
    let mut out = Downloaded {
        tmp: crate::fsutil::temp_path(dir, ".tmp-"),
        kept: false,
        digests: Digests::default(),
    };
    let resp = get(req)?;
    let total = resp.length;
    let mut body = resp.body;
    let mut file = fs::File::create(&out.tmp).at("create", &out.tmp)?;
    let wants = |a| algorithms.contains(&a);
    let mut s1 = wants(Algorithm::Sha1).then(sha1::Sha1::new);
    let mut s256 = wants(Algorithm::Sha256).then(sha2::Sha256::new);
    let mut s512 = wants(Algorithm::Sha512).then(sha2::Sha512::new);
    let (mut len, mut shown) = (0u64, 0u64);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = body.read(&mut buf).map_err(|e| DownloadError::Read {
            url: redact_url(req.url),
            message: e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        len += n as u64;
        if len > req.limit {
            return Err(DownloadError::TooLarge {
                url: redact_url(req.url),
                limit: req.limit,
            });
        }
        let chunk = &buf[..n];
        s1.iter_mut().for_each(|h| h.update(chunk));
        s256.iter_mut().for_each(|h| h.update(chunk));
        s512.iter_mut().for_each(|h| h.update(chunk));
        file.write_all(chunk).at("write", &out.tmp)?;
        if let Some(task) = progress.filter(|_| len - shown >= 256 * 1024) {
            shown = len;
            task.detail(&crate::progress::byte_count(len, total));
        }
    }
    file.sync_all().at("sync", &out.tmp)?;
    out.digests = Digests {
        sha1: s1.map(|h| hex::encode(h.finalize())),
        sha256: s256.map(|h| hex::encode(h.finalize())),
        sha512: s512.map(|h| hex::encode(h.finalize())),
    };
    Ok(out)
}

/// One client per process, so a packument and its tarball share the connection, the TLS
/// session and the loaded root certificates. It follows no redirect itself ([`follow`] does)
/// and sends no `Referer`, which would carry a signed URL's query to the next host.
fn client(req: &Request) -> Result<reqwest::blocking::Client, DownloadError> {
    static SHARED: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    if let Some(c) = SHARED.get() {
        return Ok(c.clone());
    }
    let c = reqwest::blocking::Client::builder()
        .user_agent(concat!("plugin/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()
        .map_err(|e| connect(req.url, &e))?;
    Ok(SHARED.get_or_init(|| c).clone())
}

/// [`DownloadError::Connect`]'s text: what went wrong in a person's words first, when known.
fn connect_failure(url: &str, message: &str) -> String {
    match crate::credential::unreachable_lead(url, message) {
        lead if lead.is_empty() => format!(
            "Could not connect to {url}: {message}. Check the address and your network connection"
        ),
        lead => format!("{lead}Could not connect to {url}: {message}"),
    }
}

fn connect(url: &str, e: &dyn std::error::Error) -> DownloadError {
    DownloadError::Connect {
        url: redact_url(url),
        message: crate::credential::error_chain(e),
    }
}

fn status_error(url: &str, status: u16) -> DownloadError {
    DownloadError::Status {
        url: redact_url(url),
        status,
        hint: match status {
            404 => " (not found): check the name and the address",
            401 | 403 => " (access denied): a token for this host is missing or not accepted",
            _ => "",
        },
    }
}

/// The hex sha512 digest of an SRI string (`sha512-<base64>`, possibly among others).
pub fn sri_sha512(sri: &str) -> Option<String> {
    sri.split_whitespace()
        .find_map(|s| s.strip_prefix("sha512-"))
        .and_then(|b64| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b64).ok()
        })
        .map(hex::encode)
}

#[cfg(test)]
mod tests {
    use super::Validators;

    /// A secret never rides in a plain header (it would follow every redirect hop).
    #[test]
    fn secret_headers_are_refused() {
        let r = super::Request::new("https://a.example/x", std::time::Duration::from_secs(1), 1)
            .header("Accept", "application/json")
            .header("Authorization", "Bearer t")
            .header("cookie", "s=1")
            .header("Proxy-Authorization", "Basic x");
        assert_eq!(r.header_value("accept"), Some("application/json"));
        for h in ["authorization", "Cookie", "proxy-authorization"] {
            assert_eq!(r.header_value(h), None, "{h}");
        }
    }

    #[test]
    fn validators_become_conditions() {
        let v = Validators {
            etag: Some("W/\"1a\"".into()),
            last_modified: Some("Sat, 21 Nov 2026 22:43:51 GMT".into()),
        };
        let sent: Vec<_> = v.conditions().collect();
        assert_eq!(
            sent,
            [
                ("If-None-Match", "W/\"1a\""),
                ("If-Modified-Since", "Sat, 21 Nov 2026 22:43:51 GMT")
            ]
        );
        assert_eq!(Validators::default().conditions().count(), 0);
    }
}
