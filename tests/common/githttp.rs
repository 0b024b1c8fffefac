//! A real git server for tests: smart HTTP on 127.0.0.1 through `git http-backend` (CGI), plus
//! fixture helpers that build repositories with reproducible SHAs.
//!
//! Why our own server: git sources are fetched in-process (gix over HTTP), so the tests need a
//! genuine smart-HTTP endpoint (protocol v2, `--depth 1`, fetch by sha) that the harness starts
//! and stops by itself. Only std is used: a `TcpListener`, one thread per connection, and one
//! `git-http-backend` process per request, always waited for before the request is answered.
//!
//! ```ignore
//! let work = WorkRepo::init(&tmp.join("work"));
//! work.write("README.md", "hi\n");
//! let sha = work.commit("c1");
//! work.publish(&tmp.join("srv/git/repo.git"));
//! let server = GitServer::start(&tmp.join("srv"));
//! let url = server.url("git/repo.git"); // http://127.0.0.1:<port>/git/repo.git
//! ```
//!
//! Served paths: `GET` of a regular file under `root` without a query string is answered
//! statically (catalogue JSON files, and dumb-HTTP files, which http-backend would serve the
//! same way); everything else goes to http-backend, which finds the repository itself.
//! Paths are passed as sent (no percent-decoding): keep fixture names plain.
//!
//! Fetching unadvertised commits by sha is allowed through `GIT_CONFIG_COUNT` in the backend's
//! environment (`uploadpack.allowAnySHA1InWant`, `uploadpack.allowReachableSHA1InWant`,
//! `uploadpack.allowFilter`), so bare repositories need no per-repo config.

use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use super::http::{Listener, Request, read_request, write_response};

/// Config given to every backend (and so to `git upload-pack`) through the environment.
const BACKEND_CONFIG: [(&str, &str); 3] = [
    ("uploadpack.allowAnySHA1InWant", "true"),
    ("uploadpack.allowReachableSHA1InWant", "true"),
    ("uploadpack.allowFilter", "true"),
];

/// Inherited variables that would point git somewhere else (e.g. when `cargo test` runs from
/// a git hook, `GIT_DIR` names the project's own repository) or change its config.
const GIT_ENV_TO_CLEAR: [&str; 10] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG_PARAMETERS",
    "GIT_PROTOCOL",
    "HTTP_CONTENT_ENCODING",
];

/// A running server; stops when dropped (listener closed, connections shut, threads joined).
pub struct GitServer {
    listener: Listener,
    shared: Arc<Shared>,
    tls: bool,
}

struct Shared {
    root: PathBuf,
    backend: PathBuf,
    token: Option<String>,
    requests: Mutex<Vec<String>>,
}

impl GitServer {
    /// Serve every repository (and file) under `root` at `http://127.0.0.1:<free port>/<rel>`.
    pub fn start(root: &Path) -> GitServer {
        Self::spawn(root, None, None)
    }

    /// Like `start`, but every request gets 401 unless it carries `Authorization: Bearer
    /// <token>` or Basic credentials whose password is `token` (any user name).
    pub fn start_with_auth(root: &Path, token: &str) -> GitServer {
        Self::spawn(root, Some(token.to_string()), None)
    }

    /// Like `start_with_auth` (or `start` without a token), over HTTPS with a certificate for
    /// 127.0.0.1 signed by a throw-away CA. Clients trust it through `SSL_CERT_FILE` = the
    /// returned CA file.
    pub fn start_tls(root: &Path, token: Option<&str>, dir: &Path) -> (GitServer, PathBuf) {
        let (config, ca) = tls_config(dir);
        (Self::spawn(root, token.map(String::from), Some(config)), ca)
    }

    fn spawn(
        root: &Path,
        token: Option<String>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> GitServer {
        let exec_path = git(Path::new("/"), &["--exec-path"]);
        let shared = Arc::new(Shared {
            // http-backend wants an absolute GIT_PROJECT_ROOT.
            root: root.canonicalize().expect("server root"),
            backend: Path::new(&exec_path).join("git-http-backend"),
            token,
            requests: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&shared);
        let is_tls = tls.is_some();
        let listener = Listener::start(move |stream| {
            match tls
                .clone()
                .and_then(|cfg| rustls::ServerConnection::new(cfg).ok())
            {
                Some(conn) => {
                    let _ = serve(&s, rustls::StreamOwned::new(conn, stream));
                }
                None => {
                    let _ = serve(&s, stream);
                }
            }
        });
        GitServer {
            listener,
            shared,
            tls: is_tls,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr())
    }

    /// `http://127.0.0.1:<port>/<rel>`
    pub fn url(&self, rel: &str) -> String {
        format!("{}/{}", self.base_url(), rel.trim_start_matches('/'))
    }

    /// `<METHOD> <target>` of each request received so far (HTTP version left out), in arrival
    /// order, e.g. `GET /git/repo.git/info/refs?service=git-upload-pack`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }
}

/// One connection: requests in a loop while the client keeps it alive (HTTP/1.1 default).
fn serve<S: Read + Write>(s: &Shared, stream: S) -> io::Result<()> {
    let mut rd = BufReader::new(stream);
    while let Some(req) = read_request(&mut rd)? {
        s.requests.lock().unwrap().push(req.line());
        let (status, headers, body) = respond(s, &req);
        write_response(rd.get_mut(), &req, &status, &headers, Some(&body))?;
        if !req.keep_alive {
            break;
        }
    }
    Ok(())
}

type Response = (String, Vec<(String, String)>, Vec<u8>);

fn respond(s: &Shared, req: &Request) -> Response {
    let text = |status: &str, body: &str| -> Response {
        let ct = ("Content-Type".to_string(), "text/plain".to_string());
        (status.to_string(), vec![ct], body.as_bytes().to_vec())
    };
    if let Some(token) = &s.token
        && !authorized(token, req.header("authorization"))
    {
        let (status, mut headers, body) = text("401 Unauthorized", "authentication required\n");
        headers.push(("WWW-Authenticate".into(), "Basic realm=\"git\"".into()));
        return (status, headers, body);
    }
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    if req.method == "GET"
        && query.is_empty()
        && let Some(file) = static_file(&s.root, path)
    {
        let ct = if path.ends_with(".json") {
            "application/json"
        } else {
            "application/octet-stream"
        };
        return (
            "200 OK".into(),
            vec![("Content-Type".into(), ct.into())],
            file,
        );
    }
    match cgi(s, req, path, query) {
        Ok(r) => r,
        Err(e) => text("500 Internal Server Error", &format!("http-backend: {e}\n")),
    }
}

/// Runs `git-http-backend` for one request and turns its CGI output into a response.
fn cgi(s: &Shared, req: &Request, path: &str, query: &str) -> io::Result<Response> {
    let mut cmd = Command::new(&s.backend);
    for k in GIT_ENV_TO_CLEAR {
        cmd.env_remove(k);
    }
    cmd.env("GIT_PROJECT_ROOT", &s.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REQUEST_METHOD", &req.method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", req.header("content-type").unwrap_or(""))
        .env("CONTENT_LENGTH", req.body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("GIT_CONFIG_COUNT", BACKEND_CONFIG.len().to_string());
    for (i, (k, v)) in BACKEND_CONFIG.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{i}"), k)
            .env(format!("GIT_CONFIG_VALUE_{i}"), v);
    }
    if let Some(p) = req.header("git-protocol") {
        // http-backend copies HTTP_GIT_PROTOCOL to GIT_PROTOCOL; set both to be explicit.
        cmd.env("GIT_PROTOCOL", p).env("HTTP_GIT_PROTOCOL", p);
    }
    if let Some(e) = req.header("content-encoding") {
        // http-backend inflates gzip request bodies itself (CONTENT_LENGTH = compressed size).
        cmd.env("HTTP_CONTENT_ENCODING", e);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let mut stdin = child.stdin.take().expect("stdin");
    // Feed the body from another thread while collecting output, so neither pipe can fill up
    // and deadlock; wait_with_output always reaps the child.
    let output = thread::scope(|sc| {
        sc.spawn(move || {
            let _ = stdin.write_all(&req.body); // dropping stdin sends EOF
        });
        child.wait_with_output()
    })?;
    let out = &output.stdout;
    let end = [&b"\r\n\r\n"[..], b"\n\n"]
        .iter()
        .filter_map(|sep| find(out, sep).map(|i| (i, i + sep.len())))
        .min();
    let Some((head_end, body_start)) = end else {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(io::Error::other(format!("{}: {err}", output.status)));
    };
    let mut status = "200 OK".to_string();
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(&out[..head_end]).lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim().to_string());
        match k.to_ascii_lowercase().as_str() {
            "status" => status = v,
            "content-length" | "transfer-encoding" | "connection" => {} // we set our own
            _ => headers.push((k.to_string(), v)),
        }
    }
    Ok((status, headers, out[body_start..].to_vec()))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A regular file under `root` named by the URL path (no `..` components).
fn static_file(root: &Path, path: &str) -> Option<Vec<u8>> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel.split('/').any(|c| c == "..") {
        return None;
    }
    let p = root.join(rel);
    if p.is_file() { fs::read(p).ok() } else { None }
}

fn authorized(token: &str, header: Option<&str>) -> bool {
    let Some((scheme, cred)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => cred.trim() == token,
        "basic" => base64_decode(cred.trim())
            .and_then(|b| String::from_utf8(b).ok())
            .is_some_and(|up| up.split_once(':').is_some_and(|(_, pw)| pw == token)),
        _ => false,
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// Fixed identities and dates (as in shared/tools/make-fixtures.sh) so SHAs are reproducible.
const FIXED_ENV: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "p"),
    ("GIT_AUTHOR_EMAIL", "p@x"),
    ("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z"),
    ("GIT_COMMITTER_NAME", "p"),
    ("GIT_COMMITTER_EMAIL", "p@x"),
    ("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"),
];

/// `git` in `dir` with the fixed identity, no system/global config (a user's
/// `init.defaultBranch`, `commit.gpgSign`, ... cannot change fixtures) and no prompts.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for k in GIT_ENV_TO_CLEAR {
        cmd.env_remove(k);
    }
    cmd.current_dir(dir)
        .envs(FIXED_ENV)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    cmd
}

/// Runs git in `dir`; panics with its stderr on failure; returns trimmed stdout.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed ({}):\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A non-bare work repository on branch `main`.
pub struct WorkRepo {
    pub dir: PathBuf,
}

impl WorkRepo {
    pub fn init(dir: &Path) -> WorkRepo {
        fs::create_dir_all(dir).expect("mkdir work repo");
        git(dir, &["init", "-q", "-b", "main"]);
        WorkRepo {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        let p = self.dir.join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        p
    }

    pub fn write(&self, rel: &str, text: &str) {
        fs::write(self.path(rel), text).expect("write");
    }

    /// `rel` -> `target` (target as given, usually relative).
    pub fn symlink(&self, rel: &str, target: &str) {
        let p = self.path(rel);
        let _ = fs::remove_file(&p);
        std::os::unix::fs::symlink(target, p).expect("symlink");
    }

    /// Note that git only records 644 vs 755.
    pub fn chmod(&self, rel: &str, mode: u32) {
        fs::set_permissions(self.dir.join(rel), fs::Permissions::from_mode(mode)).expect("chmod");
    }

    /// `git add -A` + commit (empty commits allowed); returns the full sha.
    pub fn commit(&self, msg: &str) -> String {
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "-q", "--allow-empty", "-m", msg]);
        git(&self.dir, &["rev-parse", "HEAD"])
    }

    /// Lightweight tag at HEAD (moved if it exists).
    pub fn tag(&self, name: &str) {
        git(&self.dir, &["tag", "-f", name]);
    }

    /// Annotated tag at HEAD: its ref names a tag object, which clients must peel.
    pub fn tag_annotated(&self, name: &str, msg: &str) {
        git(&self.dir, &["tag", "-f", "-a", name, "-m", msg]);
    }

    /// Branch `name` at HEAD (moved if it exists); the current branch stays checked out.
    pub fn branch(&self, name: &str) {
        git(&self.dir, &["branch", "-f", name]);
    }

    /// Mirrors all branches and tags to the bare repository `bare` (created with HEAD ->
    /// main if missing; refs deleted here are deleted there) and runs `update-server-info`.
    pub fn publish(&self, bare: &Path) {
        if !bare.exists() {
            fs::create_dir_all(bare).expect("mkdir bare");
            git(bare, &["init", "-q", "--bare", "-b", "main"]);
        }
        let dest = bare.to_str().expect("utf-8 path");
        git(&self.dir, &["push", "-q", "--mirror", dest]);
        git(bare, &["update-server-info"]);
    }
}

/// A server config with a certificate for 127.0.0.1 signed by a throw-away CA (made with the
/// openssl CLI in `dir`); returns it and the CA certificate file.
pub fn tls_config(dir: &Path) -> (Arc<rustls::ServerConfig>, PathBuf) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    fs::create_dir_all(dir).expect("tls dir");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n",
    )
    .expect("ext");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=plugin test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("leaf.pem"))
        .expect("leaf.pem")
        .map(|c| c.expect("cert"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).expect("leaf.key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server cert");
    (Arc::new(config), dir.join("ca.pem"))
}
