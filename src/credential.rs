//! Credentials bound to the place they were configured for, and URLs as shown to people.
//!
//! A [`Credential`] (a GitHub token, an npm `_authToken`, the `user:password@` of an index or
//! archive URL, what a git credential helper answers) carries its [`Scope`]: the origin
//! (scheme, host, port) and path prefix it was configured for. Whoever sends a request asks the
//! credential about the URL of that request, on every request and on every redirect hop, and
//! sends it only where the scope admits that URL. A credential is never sent over plain
//! `http://`: a request that would carry one is refused instead.

use std::fmt;

/// Where a credential may be sent: one origin and the paths under a prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct Scope {
    scheme: String,
    host: String,
    port: Option<u16>,
    /// Starts and ends with `/`.
    path: String,
}

impl Scope {
    /// The whole origin of `url` (`https://host:port/`).
    pub fn origin_of(url: &str) -> Option<Scope> {
        let u = url::Url::parse(url).ok()?;
        Some(Scope {
            scheme: u.scheme().to_string(),
            host: u.host_str()?.to_string(),
            port: u.port_or_known_default(),
            path: "/".into(),
        })
    }

    /// The origin of `url` and its path up to its last `/` (`https://host/npm/` for
    /// `https://host/npm/`, and for `https://host/npm/pkg`).
    pub fn prefix_of(url: &str) -> Option<Scope> {
        let u = url::Url::parse(url).ok()?;
        let path = u.path();
        let path = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        Some(Scope {
            path: if path.is_empty() { "/" } else { path }.to_string(),
            ..Self::origin_of(url)?
        })
    }

    /// Whether a request to `url` may carry a credential of this scope: same scheme, host and
    /// port, and a path under the prefix (dot segments resolved, as the server will).
    pub fn admits(&self, url: &str) -> bool {
        let Ok(u) = url::Url::parse(url) else {
            return false;
        };
        let path = u.path();
        u.scheme() == self.scheme
            && u.host_str() == Some(self.host.as_str())
            && u.port_or_known_default() == self.port
            && (path.starts_with(&self.path) || format!("{path}/") == self.path)
    }

    /// Whether what is sent within this scope is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.scheme == "https"
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = match self.scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        };
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port.filter(|p| Some(*p) != default) {
            Some(p) => write!(f, "{}://{host}:{p}{}", self.scheme, self.path),
            None => write!(f, "{}://{host}{}", self.scheme, self.path),
        }
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

/// Headers a marketplace declares (`headers`, or what its `headersHelper` printed) for one
/// origin: sent to each hop of a request on that origin, never to another (a redirect that
/// leaves the origin drops them). Their values may be secrets and are never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderGrant {
    scope: Scope,
    headers: Vec<(String, String)>,
}

impl fmt::Debug for HeaderGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "HeaderGrant({}, {names:?})", self.scope)
    }
}

/// Headers that route a request or say who sent it: taken from the person's own settings,
/// never from a catalog or a project (Claude Code's list).
const ROUTING_HEADERS: &[&str] = &[
    "host",
    "cookie",
    "forwarded",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    "x-cluster-client-ip",
    "connection",
    "upgrade",
    "transfer-encoding",
    "content-length",
    "te",
    "trailer",
    "expect",
    "via",
];
const ROUTING_PREFIXES: &[&str] = &["x-forwarded-", "x-original-", "proxy-"];

impl HeaderGrant {
    /// `headers` for the origin of `url` (`None`: not a URL with a host).
    pub fn for_origin(url: &str, headers: Vec<(String, String)>) -> Option<Self> {
        Some(Self {
            scope: Scope::origin_of(url)?,
            headers,
        })
    }

    pub fn admits(&self, url: &str) -> bool {
        self.scope.admits(url)
    }

    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Whether it sets `name` (case-insensitive).
    pub fn sets(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    }

    /// Whether a header looks like it carries a secret (then it goes over https only).
    pub fn carries_secret(&self) -> bool {
        self.headers.iter().any(|(k, _)| {
            let k = k.to_ascii_lowercase();
            [
                "auth", "token", "key", "secret", "cookie", "session", "password",
            ]
            .iter()
            .any(|w| k.contains(w))
        })
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

/// Declared headers as they may be sent: a name that is an HTTP token and a value without line
/// breaks or NUL, and, unless `operator` (the person's own or managed settings declared them),
/// no routing or identity header. Returns them and the names dropped.
pub fn usable_headers<'a>(
    declared: impl IntoIterator<Item = (&'a str, &'a str)>,
    operator: bool,
) -> (Vec<(String, String)>, Vec<String>) {
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    for (name, value) in declared {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+.^_`|~-".contains(&b));
        let lower = name.to_ascii_lowercase();
        let routing = ROUTING_HEADERS.contains(&lower.as_str())
            || ROUTING_PREFIXES.iter().any(|p| lower.starts_with(p));
        if !token || value.contains(['\r', '\n', '\0']) || (routing && !operator) {
            dropped.push(name.to_string());
        } else {
            kept.push((name.to_string(), value.to_string()));
        }
    }
    (kept, dropped)
}

/// `base` with `over` laid on it: a header of `over` replaces one of the same name (any case).
pub fn overlay_headers(
    base: Vec<(String, String)>,
    over: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = base
        .into_iter()
        .filter(|(k, _)| !over.iter().any(|(o, _)| o.eq_ignore_ascii_case(k)))
        .collect();
    out.extend(over);
    out
}

/// What a credential proves identity with.
#[derive(Clone, PartialEq, Eq)]
enum Secret {
    Bearer(String),
    Basic { user: String, password: String },
}

/// A secret and the one scope it may be sent to.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    scope: Scope,
    secret: Secret,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential({}, ***)", self.scope)
    }
}

impl Credential {
    /// A token sent as `Authorization: Bearer <token>`.
    pub fn bearer(scope: Scope, token: &str) -> Self {
        Self {
            scope,
            secret: Secret::Bearer(token.to_string()),
        }
    }

    /// A user name and password sent as `Authorization: Basic …`.
    pub fn basic(scope: Scope, user: &str, password: &str) -> Self {
        Self {
            scope,
            secret: Secret::Basic {
                user: user.to_string(),
                password: password.to_string(),
            },
        }
    }

    /// `url` without its `user:password@`, and that userinfo as a credential for the origin of
    /// `url` (pip's rule for index credentials: any path of that host and port).
    pub fn split_from_url(url: &str) -> (String, Option<Credential>) {
        let Ok(mut u) = url::Url::parse(url) else {
            return (url.to_string(), None);
        };
        if u.username().is_empty() && u.password().is_none() {
            return (url.to_string(), None);
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (user, password) = (decode(u.username()), decode(u.password().unwrap_or("")));
        let _ = u.set_username("");
        let _ = u.set_password(None);
        let bare = u.to_string();
        let credential = Scope::origin_of(&bare).map(|scope| Self::basic(scope, &user, &password));
        (bare, credential)
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Whether a request to `url` may carry this credential.
    pub fn admits(&self, url: &str) -> bool {
        self.scope.admits(url)
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> String {
        use base64::Engine;
        match &self.secret {
            Secret::Bearer(t) => format!("Bearer {t}"),
            Secret::Basic { user, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
        }
    }

    /// User name and password, for transports that take them apart (git).
    pub fn user_and_password(&self) -> (&str, &str) {
        match &self.secret {
            Secret::Bearer(t) => ("x-access-token", t),
            Secret::Basic { user, password } => (user, password),
        }
    }
}

/// Why a credential was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "the credentials for {scope} are not sent to {url}, which the server redirected to (a credential is only sent to the host and path it is configured for)"
    )]
    OutOfScope { scope: Scope, url: String },
    #[error(
        "credentials for {scope} would be sent unencrypted to {url}; they are only sent over https, so use the https:// address"
    )]
    Unencrypted { scope: Scope, url: String },
}

/// `url` as shown to people and recorded for them: without credentials (`user:password@`),
/// query or fragment, where signed and token-carrying URLs keep their secrets. Every message,
/// progress line and JSON field that names a URL goes through this.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.has_host() || u.scheme() == "file" => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        // scp-like `user@host:path` and other unparsed forms: drop what follows `?`/`#`, and
        // a password before the last `@` of the authority.
        _ => {
            let bare = url.split(['?', '#']).next().unwrap_or_default();
            match bare.split_once('@') {
                Some((user, rest)) if user.contains(':') => {
                    let (scheme, _) = user.split_once("://").unwrap_or(("", ""));
                    let scheme = if scheme.is_empty() {
                        String::new()
                    } else {
                        format!("{scheme}://")
                    };
                    format!("{scheme}{rest}")
                }
                _ => bare.to_string(),
            }
        }
    }
}

/// `text` (a library's error message) with every URL in it as [`redact_url`] shows it.
pub fn redact_urls_in(text: &str) -> String {
    static URL: std::sync::OnceLock<Option<regex_lite::Regex>> = std::sync::OnceLock::new();
    let found = URL
        .get_or_init(|| regex_lite::Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>()]+"#).ok());
    match found {
        Some(re) => re
            .replace_all(text, |m: &regex_lite::Captures| redact_url(&m[0]))
            .into_owned(),
        None => text.to_string(),
    }
}

/// Why a connection failed, in words a person knows, read from an error's causes (as
/// [`error_chain`] writes them); `None` when they tell no connection failure.
pub fn connection_failure(causes: &str) -> Option<&'static str> {
    let lower = causes.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    Some(
        if has(&[
            "dns error",
            "failed to lookup address",
            "name or service not known",
            "could not resolve host",
            "no address associated with hostname",
            "temporary failure in name resolution",
        ]) {
            "DNS lookup failed"
        } else if has(&["connection refused"]) {
            "connection refused"
        } else if has(&["timed out", "deadline has elapsed"]) {
            "timed out"
        } else if has(&["network is unreachable", "no route to host"]) {
            "no route to the host (network unreachable)"
        } else if has(&["connection reset"]) {
            "the connection was reset"
        } else if has(&["certificate"]) {
            "its TLS certificate was not accepted"
        } else {
            return None;
        },
    )
}

/// The first line of a failure to reach `url`: `cannot reach github.com: DNS lookup failed;
/// check …`, then `  cause: ` before the causes; empty when `causes` tell no connection failure.
pub fn unreachable_lead(url: &str, causes: &str) -> String {
    let Some(why) = connection_failure(causes) else {
        return String::new();
    };
    let host = match url::Url::parse(url) {
        Ok(u) => u.host_str().map(|h| match u.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        }),
        // `git@host:path`
        Err(_) => url
            .rsplit_once('@')
            .map_or(url, |(_, rest)| rest)
            .split(':')
            .next()
            .map(str::to_string),
    };
    let host = host.unwrap_or_else(|| redact_url(url));
    format!("cannot reach {host}: {why}; check the address and your network connection\n  cause: ")
}

/// An error and its causes on one line (`top: cause: cause`), without repeats, and without the
/// secrets of any URL a library put in it.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = c.source();
    }
    redact_urls_in(&parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_lead_with_a_line_a_person_understands() {
        let dns = "error sending request: client error (Connect): dns error: failed to lookup address information: Name or service not known";
        assert_eq!(
            unreachable_lead("https://github.com/o/r.git", dns),
            "cannot reach github.com: DNS lookup failed; check the address and your network connection\n  cause: "
        );
        assert_eq!(
            unreachable_lead(
                "http://127.0.0.1:9/x",
                "tcp connect error: Connection refused (os error 111)"
            ),
            "cannot reach 127.0.0.1:9: connection refused; check the address and your network connection\n  cause: "
        );
        assert!(
            unreachable_lead("git@example.com:o/r.git", "operation timed out")
                .starts_with("cannot reach example.com: timed out;")
        );
        assert_eq!(
            unreachable_lead("https://x.test/", "Received HTTP status 404"),
            ""
        );
    }

    #[test]
    fn scopes_admit_their_origin_and_prefix_only() {
        let s = Scope::prefix_of("https://r.example/npm/").unwrap();
        assert_eq!(s.to_string(), "https://r.example/npm/");
        assert!(s.admits("https://R.example:443/npm/pkg"));
        assert!(s.admits("https://r.example/npm"));
        assert!(!s.admits("https://r.example/npmx/pkg"));
        assert!(!s.admits("https://r.example/npm/../other/pkg"));
        assert!(!s.admits("https://r.example/npm/%2e%2e/other/pkg"));
        assert!(!s.admits("http://r.example/npm/pkg"));
        assert!(!s.admits("https://r.example:8443/npm/pkg"));
        assert!(!s.admits("https://r.example.evil/npm/pkg"));
        assert!(!s.admits("https://evil@r.example.evil/npm/pkg"));
        let o = Scope::origin_of("https://127.0.0.1:4430/a/b").unwrap();
        assert_eq!(o.to_string(), "https://127.0.0.1:4430/");
        assert!(o.admits("https://127.0.0.1:4430/x"));
        assert!(!o.admits("https://127.0.0.2:4430/x"));
    }

    #[test]
    fn userinfo_is_a_credential_for_its_origin() {
        let (bare, c) = Credential::split_from_url("https://me:p%40ss@pypi.example/simple/");
        assert_eq!(bare, "https://pypi.example/simple/");
        let c = c.unwrap();
        assert_eq!(c.user_and_password(), ("me", "p@ss"));
        assert!(c.admits("https://pypi.example/packages/x.whl"));
        assert!(!c.admits("https://files.example/packages/x.whl"));
        assert_eq!(format!("{c:?}"), "Credential(https://pypi.example/, ***)");
        let (bare, c) = Credential::split_from_url("https://pypi.example/simple/");
        assert_eq!((bare.as_str(), c), ("https://pypi.example/simple/", None));
    }

    #[test]
    fn shown_urls_carry_no_secrets() {
        for (url, shown) in [
            (
                "https://user:tok@example.com/a/p.zip?X-Amz-Signature=s#f",
                "https://example.com/a/p.zip",
            ),
            (
                "https://user:s3cret@127.0.0.1:9/o/r.git?token=t0k",
                "https://127.0.0.1:9/o/r.git",
            ),
            ("ssh://git:pw@host/o/r.git", "ssh://host/o/r.git"),
            ("git@github.com:o/r.git", "git@github.com:o/r.git"),
            ("user:pw@host:o/r.git", "host:o/r.git"),
            ("file:///srv/r.git", "file:///srv/r.git"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        assert_eq!(
            redact_urls_in(
                "error sending request for url (https://h:1/a?token=t0k): Redirect url \"https://u:pw@o/b\" refused"
            ),
            "error sending request for url (https://h:1/a): Redirect url \"https://o/b\" refused"
        );
    }
}
