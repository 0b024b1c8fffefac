//! Registry metadata (npm packuments, PyPI project pages) kept in the download cache with the
//! validators the registry sent (`ETag`, `Last-Modified`), so that asking again for a document
//! that did not change costs one `304 Not Modified` and no body.
//!
//! The registry is asked every time: a stored copy is used only after a `304` confirms it, so
//! ranges and dist-tags see every new release. This saves transfers; it is not an offline mode.
//!
//! ```text
//! <downloads>/meta-v1/
//! ├── <key>.body   the document as received
//! └── <key>.json   {"v":1,"url":…,"content_type":…,"etag":…,"last_modified":…,"sha256":…}
//! ```
//!
//! `<key>` is the first 32 hex digits of sha256(request URL, Accept): index URLs may carry
//! credentials, the key only their hash. The record holds the URL redacted and no header the
//! request sent. Its `sha256` ties the two files together: a body that does not match it
//! (truncated, or renamed in by another process between our two renames) is ignored and the
//! document fetched whole, without conditions.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::download::{self, Conditional, DownloadError, Request, Validators};

/// The record format; another value is ignored (fetched whole and rewritten).
const FORMAT: u32 = 1;

/// A registry document, fetched or confirmed current.
#[derive(Debug)]
pub struct Document {
    /// The URL answered from, after redirects (relative links resolve against it).
    pub url: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The registry answered `304` and the stored body was used.
    pub revalidated: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    v: u32,
    /// Redacted: for people looking at the cache, never sent.
    url: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(flatten)]
    validators: Validators,
    sha256: String,
}

/// GET `req` (at most `req.limit` bytes), conditionally when `downloads` holds a copy with
/// validators; a new body with validators replaces the stored copy. Failing to store is not
/// an error: it costs a whole transfer next time.
pub fn fetch(req: &Request, downloads: &Path) -> Result<Document, DownloadError> {
    let entry = Entry::new(req, downloads);
    let resp = match entry.load(req.limit) {
        Some((record, body)) => match download::get_conditional(req, &record.validators)? {
            Conditional::NotModified { url } => {
                return Ok(Document {
                    url,
                    content_type: record.content_type,
                    body,
                    revalidated: true,
                });
            }
            Conditional::Fresh(resp) => resp,
        },
        None => download::get(req)?,
    };
    let (url, content_type, validators) = (
        resp.url.clone(),
        resp.content_type.clone(),
        resp.validators.clone(),
    );
    let body = resp.bytes(req)?;
    entry.store(req.url, content_type.as_deref(), validators, &body);
    Ok(Document {
        url,
        content_type,
        body,
        revalidated: false,
    })
}

/// Where one request's document is stored.
struct Entry {
    record: PathBuf,
    body: PathBuf,
}

impl Entry {
    fn new(req: &Request, downloads: &Path) -> Self {
        let accept = req.header_value("accept").unwrap_or("");
        let key = Sha256::digest(format!("{}\0{accept}", req.url));
        let stem = downloads.join("meta-v1").join(&hex::encode(key)[..32]);
        Self {
            record: stem.with_extension("json"),
            body: stem.with_extension("body"),
        }
    }

    /// The stored record and body, if both are there, agree and have validators to send.
    fn load(&self, limit: u64) -> Option<(Record, Vec<u8>)> {
        let record: Record = serde_json::from_slice(
            &crate::fsutil::read_regular_file(&self.record, crate::fsutil::JSON_FILE_LIMIT).ok()?,
        )
        .ok()?;
        if record.v != FORMAT || record.validators.is_empty() {
            return None;
        }
        // Larger than `limit`: not read, and fetched again.
        let body = crate::fsutil::read_regular_file(&self.body, limit).ok()?;
        let intact = hex::encode(Sha256::digest(&body)).eq_ignore_ascii_case(&record.sha256);
        intact.then_some((record, body))
    }

    /// Keep `body` for next time, or forget the old copy when there is nothing to revalidate
    /// it with (its validators would describe another body).
    fn store(&self, url: &str, content_type: Option<&str>, validators: Validators, body: &[u8]) {
        if validators.is_empty() {
            let _ = fs::remove_file(&self.record);
            let _ = fs::remove_file(&self.body);
            return;
        }
        let record = Record {
            v: FORMAT,
            url: crate::credential::redact_url(url),
            content_type: content_type.map(String::from),
            validators,
            sha256: hex::encode(Sha256::digest(body)),
        };
        let Ok(json) = serde_json::to_vec(&record) else {
            return;
        };
        // Body first: a record always names a body that was complete when it was written.
        if crate::fsutil::write_atomic(&self.body, body).is_ok() {
            let _ = crate::fsutil::write_atomic(&self.record, &json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn validators(etag: &str) -> Validators {
        Validators {
            etag: Some(etag.into()),
            last_modified: Some("Sat, 21 Nov 2026 22:43:51 GMT".into()),
        }
    }

    #[test]
    fn stored_copies_round_trip_without_secrets() {
        let t = tempfile::tempdir().unwrap();
        let url = "https://user:s3cret@pypi.example/simple/demo/?token=t0k";
        let req = Request::new(url, Duration::from_secs(1), 1024)
            .header("Accept", "application/json")
            .credential(
                crate::credential::Scope::origin_of(url)
                    .map(|scope| crate::credential::Credential::bearer(scope, "npm_T0KEN")),
            );
        let entry = Entry::new(&req, t.path());
        entry.store(url, Some("application/json"), validators("\"a\""), b"{}");
        let (record, body) = entry.load(1024).expect("stored");
        assert_eq!(
            (record.validators, body),
            (validators("\"a\""), b"{}".to_vec())
        );
        for f in fs::read_dir(t.path().join("meta-v1")).unwrap() {
            let f = f.unwrap();
            let name = f.file_name().to_string_lossy().into_owned();
            let text = fs::read_to_string(f.path()).unwrap();
            for secret in ["s3cret", "t0k", "npm_T0KEN", "user"] {
                assert!(
                    !name.contains(secret) && !text.contains(secret),
                    "{name}: {text}"
                );
            }
        }
        // Another Accept is another document (npm's abbreviated and full packuments).
        let full = Request::new(url, Duration::from_secs(1), 1024);
        assert!(Entry::new(&full, t.path()).load(1024).is_none());
    }

    #[test]
    fn damaged_or_unvalidated_copies_are_not_used() {
        let t = tempfile::tempdir().unwrap();
        let req = Request::new("https://r.example/demo", Duration::from_secs(1), 8);
        let entry = Entry::new(&req, t.path());
        entry.store(req.url, None, validators("\"a\""), b"{\"a\":1}");
        assert!(entry.load(8).is_some());
        assert!(entry.load(4).is_none(), "over the size limit");
        fs::write(&entry.body, b"{\"a\"").unwrap();
        assert!(entry.load(8).is_none(), "truncated body");
        entry.store(req.url, None, validators("\"b\""), b"{}");
        fs::write(&entry.record, b"{\"v\":1,").unwrap();
        assert!(entry.load(8).is_none(), "truncated record");
        entry.store(req.url, None, validators("\"b\""), b"{}");
        entry.store(req.url, None, Validators::default(), b"[]");
        assert!(
            entry.load(8).is_none(),
            "a body without validators forgets the old copy"
        );
    }
}
