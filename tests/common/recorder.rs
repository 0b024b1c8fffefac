//! A loopback server that records every request with its headers and answers through a
//! closure: a "GitHub", registry or index that redirects, and the host it redirects to, for
//! tests that check where credentials go.
//!
//! With a TLS config it serves HTTPS and plain HTTP on the same port (told apart by the first
//! byte, 0x16 opening a TLS handshake), so a client that sends to `http://` the host and port
//! a credential is bound to is recorded too.

use std::io::{self, BufReader, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use super::http::{Listener, Request, read_request, write_response};

/// `(status line tail, headers, body)`, e.g. `("302 Found", [("Location", …)], vec![])`.
pub type Reply = (String, Vec<(String, String)>, Vec<u8>);
/// `("<METHOD> <target>", headers with lower-cased names)`, and whether it came over TLS.
pub type Logged = (String, Vec<(String, String)>, bool);

pub struct Recorder {
    listener: Listener,
    log: Arc<Mutex<Vec<Logged>>>,
    tls: bool,
}

impl Recorder {
    /// Serve on a free 127.0.0.1 port; `answer` gets each request.
    pub fn start(
        tls: Option<Arc<rustls::ServerConfig>>,
        answer: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Recorder {
        let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let (log2, is_tls) = (Arc::clone(&log), tls.is_some());
        let listener = Listener::start(move |stream| {
            let mut first = [0u8; 1];
            let handshake = stream.peek(&mut first).is_ok_and(|n| n == 1) && first[0] == 0x16;
            match tls
                .clone()
                .filter(|_| handshake)
                .and_then(|cfg| rustls::ServerConnection::new(cfg).ok())
            {
                Some(conn) => {
                    let _ = serve(&log2, &answer, rustls::StreamOwned::new(conn, stream), true);
                }
                None => {
                    let _ = serve(&log2, &answer, stream, false);
                }
            }
        });
        Recorder {
            listener,
            log,
            tls: is_tls,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// `https://127.0.0.1:<port>` (`http://` without TLS).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr())
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    /// The requests whose line or any header (Basic credentials decoded) holds `secret`.
    pub fn carrying(&self, secret: &str) -> Vec<Logged> {
        self.requests()
            .into_iter()
            .filter(|(line, headers, _)| {
                line.contains(secret)
                    || headers.iter().any(|(_, v)| {
                        v.contains(secret)
                            || v.strip_prefix("Basic ")
                                .and_then(base64_decode)
                                .is_some_and(|d| String::from_utf8_lossy(&d).contains(secret))
                    })
            })
            .collect()
    }
}

/// An answer that sends every request to the same path and query under `base`.
pub fn redirect_to(base: &str, req: &Request) -> Reply {
    let location = format!("{}{}", base.trim_end_matches('/'), req.target);
    (
        "302 Found".into(),
        vec![("Location".into(), location)],
        Vec::new(),
    )
}

pub fn reply(status: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    (
        status.into(),
        vec![("Content-Type".into(), content_type.into())],
        body.into(),
    )
}

/// `401` asking for Basic credentials.
pub fn unauthorized() -> Reply {
    let mut r = reply(
        "401 Unauthorized",
        "text/plain",
        "authentication required\n",
    );
    r.1.push(("WWW-Authenticate".into(), "Basic realm=\"test\"".into()));
    r
}

fn serve<S: Read + Write>(
    log: &Mutex<Vec<Logged>>,
    answer: &(dyn Fn(&Request) -> Reply + Send + Sync),
    stream: S,
    tls: bool,
) -> io::Result<()> {
    let mut rd = BufReader::new(stream);
    while let Some(req) = read_request(&mut rd)? {
        log.lock()
            .unwrap()
            .push((req.line(), req.headers.clone(), tls));
        let (status, headers, body) = answer(&req);
        write_response(rd.get_mut(), &req, &status, &headers, Some(&body))?;
        if !req.keep_alive {
            break;
        }
    }
    Ok(())
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}
