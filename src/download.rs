//! HTTP downloads (reqwest with rustls, blocking): catalogs of `url` marketplaces for now.

use std::io::Read;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("Could not connect to {url}: {message}. Check the address and your network connection")]
    Connect { url: String, message: String },
    #[error("{url} answered {status}{hint}")]
    Status {
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error("{url} is larger than {limit} bytes; refusing to download it")]
    TooLarge { url: String, limit: u64 },
    #[error("reading {url} failed: {message}")]
    Read { url: String, message: String },
}

/// GET `url` into memory (at most `limit` bytes), within `timeout`.
pub fn get(url: &str, timeout: Duration, limit: u64) -> Result<Vec<u8>, DownloadError> {
    let connect = |e: &dyn std::error::Error| DownloadError::Connect {
        url: url.to_string(),
        message: crate::git::database::error_chain(e),
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("plugin/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| connect(&e))?;
    let response = client.get(url).send().map_err(|e| connect(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(DownloadError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            hint: match status.as_u16() {
                404 => " (not found): check the URL",
                401 | 403 => " (access denied): the catalog must be readable without credentials",
                _ => "",
            },
        });
    }
    let mut bytes = Vec::new();
    response
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| DownloadError::Read {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(DownloadError::TooLarge {
            url: url.to_string(),
            limit,
        });
    }
    Ok(bytes)
}
