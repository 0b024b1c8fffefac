//! A real package registry for tests: the npm registry protocol (packuments, tarballs) and the
//! PyPI simple API (PEP 691 JSON, PEP 503 HTML, files), plus plain files and redirects for
//! archive sources, on `http://127.0.0.1:<free port>`. Everything it serves is built in memory
//! by the tests: real gzip'd ustar tarballs and real zips, with the digests the real services
//! publish (`dist.shasum`, `dist.integrity`, `hashes.sha256`).
//!
//! Only std for the server, as in `githttp.rs`: a `TcpListener`, one thread per connection,
//! HTTP/1.1 keep-alive; it stops when dropped.
//!
//! ```ignore
//! let reg = Registry::start();
//! reg.add_npm("@acme/tools", "1.2.0", &[(".claude-plugin/plugin.json", br#"{"name":"tools"}"#, 0o644)]);
//! reg.set_dist_tag("@acme/tools", "next", "1.2.0");
//! reg.add_wheel("Demo.Plugin", "1.0.0", "demo_plugin-1.0.0-py3-none-any.whl",
//!     &[("demo_plugin/.claude-plugin/plugin.json", br#"{"name":"demo"}"#, 0o644)]);
//! reg.add_file("/a/plugin.zip", zip(&[ZipEntry::file("p/README.md", b"hi", 0o644)]));
//! let npm_registry = reg.base_url();            // http://127.0.0.1:<port>
//! let pip_index = reg.url("simple/");           // http://127.0.0.1:<port>/simple/
//! ```
//!
//! Routes (paths are percent-decoded before routing; `requests()` shows them as sent):
//! - `GET /<name>` and `/@scope/<name>` (also `@scope%2f<name>`): the packument. Full JSON, or
//!   the abbreviated one (`application/vnd.npm.install-v1+json`) when Accept asks for it. Both
//!   carry an `ETag`; a matching `If-None-Match` gets `304`.
//! - `GET /<name>/<version|dist-tag>`: that version's document.
//! - `GET /<name>/-/<basename>-<version>.tgz`: the tarball (`dist.tarball` points here).
//! - `GET /simple/`: the project list; `GET /simple/<project>/`: the project page, PEP 691 JSON
//!   when Accept (or `?format=`) prefers `application/vnd.pypi.simple.v1+json`, else PEP 503
//!   HTML. Not-normalised names and a missing trailing slash get `301` to the canonical URL.
//! - `GET /files/<filename>`: PyPI files. Any path given to `add_file`: its bytes.
//! - A path given to `redirect`: `302` to the URL given.
//! - `HEAD` works wherever `GET` does; other methods get `405`; anything else `404`.
//!
//! Packuments and `/simple/` pages carry an `ETag` (a hash of the body) unless `send_etags(false)`
//! turned it off, and a matching `If-None-Match` gets `304` without a body. `hits` counts the
//! requests for a path and how many of them were answered `304`.
//!
//! Before routing, `require_token` answers `401` to requests without the bearer token, then
//! `fail_next` injects statuses (or a dropped connection, status `0`).

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use serde_json::{Map, Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::http::{Listener, Request, read_request, write_response};

/// The mtime npm gives every tarball entry (1985-10-26T08:15:00Z).
pub const NPM_MTIME: u64 = 499_162_500;

pub const NPM_ABBREVIATED: &str = "application/vnd.npm.install-v1+json";
pub const PYPI_JSON: &str = "application/vnd.pypi.simple.v1+json";
pub const PYPI_HTML: &str = "application/vnd.pypi.simple.v1+html";

type Blob = Arc<[u8]>;
/// `("GET /path?query", headers with lower-cased names)`
pub type LoggedRequest = (String, Vec<(String, String)>);

/// A running registry; stops when dropped (listener closed, connections shut, threads joined).
pub struct Registry {
    listener: Listener,
    shared: Arc<Shared>,
}

struct Shared {
    log: Mutex<Vec<LoggedRequest>>,
    /// `(path without query, status)` of every answer; status 0 for a dropped connection.
    answers: Mutex<Vec<(String, u16)>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    base: String,
    token: Option<String>,
    fails: Vec<Fail>,
    npm: BTreeMap<String, NpmPackage>,
    /// By normalised project name.
    pypi: BTreeMap<String, PyProject>,
    /// Decoded path (leading `/`) -> bytes: tarballs, PyPI files, `add_file`.
    files: HashMap<String, Blob>,
    redirects: HashMap<String, String>,
    /// Logical clock for packument times: one second per change.
    clock: u64,
    pypi_relative_urls: bool,
    /// `send_etags(false)`: a registry without validators.
    no_etags: bool,
}

struct Fail {
    prefix: String,
    status: u16,
    left: usize,
}

struct NpmPackage {
    name: String,
    versions: Vec<NpmVersion>,
    tags: Vec<(String, String)>,
    /// `set_dist_tag(.., "latest", ..)` was called: `add_npm` no longer moves `latest`.
    latest_pinned: bool,
    created: u64,
    modified: u64,
}

struct NpmVersion {
    version: String,
    manifest: Map<String, Value>,
    path: String,
    shasum: String,
    integrity: String,
    publish_integrity: bool,
    time: u64,
}

struct PyProject {
    name: String,
    files: Vec<PyFile>,
}

struct PyFile {
    filename: String,
    version: String,
    sha256: String,
    size: usize,
    /// `Some("")`: yanked without a reason.
    yanked: Option<String>,
    requires_python: Option<String>,
}

impl Registry {
    /// Serve at `http://127.0.0.1:<free port>`, empty.
    pub fn start() -> Registry {
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            answers: Mutex::new(Vec::new()),
            state: Mutex::new(State::default()),
        });
        let s = Arc::clone(&shared);
        let listener = Listener::start(move |stream| {
            let _ = serve(&s, stream);
        });
        shared.state.lock().unwrap().base = format!("http://{}", listener.addr());
        Registry { listener, shared }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// `http://127.0.0.1:<port>` (no trailing slash): the npm registry URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// `http://127.0.0.1:<port>/<rel>`, e.g. `url("simple/")` for a pip index URL.
    pub fn url(&self, rel: &str) -> String {
        format!("{}/{}", self.base_url(), rel.trim_start_matches('/'))
    }

    /// Every request so far, in arrival order: `"<METHOD> <target as sent>"` and its headers
    /// (names lower-cased, values as sent).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Just the `"<METHOD> <target>"` lines of `requests()`.
    pub fn request_lines(&self) -> Vec<String> {
        self.requests().into_iter().map(|(l, _)| l).collect()
    }

    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap().clear();
        self.shared.answers.lock().unwrap().clear();
    }

    /// Requests for `path` (as sent, query left out) since the last `clear_requests`.
    pub fn hits(&self, path: &str) -> Hits {
        let answers = self.shared.answers.lock().unwrap();
        let mine = answers.iter().filter(|(p, _)| p == path);
        Hits {
            requests: mine.clone().count(),
            not_modified: mine.filter(|(_, status)| *status == 304).count(),
        }
    }

    /// With `false`, packuments and `/simple/` pages carry no `ETag` and `If-None-Match` is
    /// ignored, as on a registry that offers no validators.
    pub fn send_etags(&self, on: bool) {
        self.state().no_etags = !on;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    // -- access control and failures ------------------------------------------------------------

    /// From now on every request without `Authorization: Bearer <token>` gets 401.
    pub fn require_token(&self, token: &str) {
        self.state().token = Some(token.to_string());
    }

    /// The next `times` requests whose path (as sent or decoded, query left out) starts with
    /// `path_prefix` get `status` with a small JSON body; status `0` closes the connection
    /// without answering (a reset for the client). Checked after the token, in the order the
    /// failures were added.
    pub fn fail_next(&self, path_prefix: &str, status: u16, times: usize) {
        self.state().fails.push(Fail {
            prefix: path_prefix.to_string(),
            status,
            left: times,
        });
    }

    // -- npm ------------------------------------------------------------------------------------

    /// Publishes `name@version` (`"pkg"` or `"@scope/pkg"`): a real npm tarball (gzip'd ustar,
    /// every entry under `package/`, mtime `NPM_MTIME`, modes as given) of `files` (paths
    /// relative to the package root), with a `package.json` of `{"name","version"}` put first
    /// when `files` has none. A given `package.json` must be JSON: its fields (dependencies,
    /// scripts, bin, ...) become the version's manifest, with `name`/`version` set to the ones
    /// given here. `latest` moves to this version when there is none yet, or when it is not a
    /// prerelease and is above the current `latest` (unless `latest` was set by
    /// `set_dist_tag`).
    pub fn add_npm(&self, name: &str, version: &str, files: &[(&str, &[u8], u32)]) {
        let has_manifest = files.iter().any(|(p, _, _)| *p == "package.json");
        let mut manifest = Map::new();
        let mut entries = Vec::new();
        if !has_manifest {
            let generated = json!({"name": name, "version": version});
            let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
            entries.push(TarEntry::file(
                "package/package.json",
                text.as_bytes(),
                0o644,
            ));
        }
        for (path, data, mode) in files {
            if *path == "package.json" {
                let v: Value = serde_json::from_slice(data).unwrap_or_else(|e| {
                    panic!(
                        "{name}@{version}: package.json is not JSON ({e}); use add_npm_raw_tarball"
                    )
                });
                manifest = v.as_object().cloned().expect("package.json is an object");
            }
            entries.push(TarEntry::file(&format!("package/{path}"), data, *mode));
        }
        self.publish_npm(name, version, manifest, tgz(&entries));
    }

    /// Publishes `tgz_bytes` as-is as `name@version` (crafted tarballs: `../` entries, absolute
    /// paths, links, no `package/` prefix, not even gzip); digests are computed over these
    /// bytes, and the manifest is just `{"name","version"}`.
    pub fn add_npm_raw_tarball(&self, name: &str, version: &str, tgz_bytes: Vec<u8>) {
        self.publish_npm(name, version, Map::new(), tgz_bytes);
    }

    fn publish_npm(
        &self,
        name: &str,
        version: &str,
        mut manifest: Map<String, Value>,
        tgz: Vec<u8>,
    ) {
        manifest.insert("name".into(), name.into());
        manifest.insert("version".into(), version.into());
        let basename = name.rsplit('/').next().unwrap();
        let path = format!("/{name}/-/{basename}-{version}.tgz");
        let v = NpmVersion {
            version: version.to_string(),
            manifest,
            path: path.clone(),
            shasum: hex::encode(Sha1::digest(&tgz)),
            integrity: sri_sha512(&tgz),
            publish_integrity: true,
            time: 0,
        };
        let mut st = self.state();
        st.clock += 1;
        let now = st.clock;
        st.files.insert(path, Blob::from(tgz));
        let pkg = st
            .npm
            .entry(name.to_string())
            .or_insert_with(|| NpmPackage {
                name: name.to_string(),
                versions: Vec::new(),
                tags: Vec::new(),
                latest_pinned: false,
                created: now,
                modified: now,
            });
        pkg.modified = now;
        pkg.versions.retain(|o| o.version != version);
        pkg.versions.push(NpmVersion { time: now, ..v });
        if !pkg.latest_pinned {
            let current = pkg.tag("latest").map(str::to_string);
            let newer = match current {
                None => true,
                Some(cur) => {
                    !is_prerelease(version)
                        && (is_prerelease(&cur)
                            || semver_cmp(version, &cur) == CmpOrdering::Greater)
                }
            };
            if newer {
                pkg.set_tag("latest", version);
            }
        }
    }

    /// Points dist-tag `tag` of `name` at `version` (which need not exist). Setting `latest`
    /// pins it: later `add_npm` calls leave it alone.
    pub fn set_dist_tag(&self, name: &str, tag: &str, version: &str) {
        let mut st = self.state();
        st.clock += 1;
        let now = st.clock;
        let pkg = st.npm_mut(name);
        pkg.set_tag(tag, version);
        pkg.modified = now;
        if tag == "latest" {
            pkg.latest_pinned = true;
        }
    }

    /// The advertised `dist.integrity` and `dist.shasum` of `name@version` become digests of
    /// other bytes (the tarball served is unchanged).
    pub fn corrupt_integrity(&self, name: &str, version: &str) {
        let mut st = self.state();
        let path = st.npm_version(name, version).path.clone();
        let mut other = st.files[&path].to_vec();
        other.extend_from_slice(b"corrupt");
        let v = st.npm_version_mut(name, version);
        v.integrity = sri_sha512(&other);
        v.shasum = hex::encode(Sha1::digest(&other));
        st.touch(name);
    }

    /// Serve the tarball of `name@version` from `path` instead of npm's conventional address
    /// (as registries that store tarballs elsewhere do); `dist.tarball` follows.
    pub fn move_tarball(&self, name: &str, version: &str, path: &str) {
        let mut st = self.state();
        let old = st.npm_version(name, version).path.clone();
        let blob = st.files.remove(&old).unwrap();
        st.files.insert(path.to_string(), blob);
        st.npm_version_mut(name, version).path = path.to_string();
        st.touch(name);
    }

    /// `dist.integrity` of `name@version` is left out of packuments (old packages only have
    /// `dist.shasum`).
    pub fn drop_integrity(&self, name: &str, version: &str) {
        let mut st = self.state();
        st.npm_version_mut(name, version).publish_integrity = false;
        st.touch(name);
    }

    /// `sha512-<base64>` as advertised for `name@version`.
    pub fn npm_integrity(&self, name: &str, version: &str) -> String {
        self.state().npm_version(name, version).integrity.clone()
    }

    /// The advertised sha1 hex of `name@version`.
    pub fn npm_shasum(&self, name: &str, version: &str) -> String {
        self.state().npm_version(name, version).shasum.clone()
    }

    /// `dist.tarball` of `name@version`.
    pub fn npm_tarball_url(&self, name: &str, version: &str) -> String {
        let st = self.state();
        format!("{}{}", st.base, st.npm_version(name, version).path)
    }

    /// The tarball bytes served for `name@version`.
    pub fn npm_tarball(&self, name: &str, version: &str) -> Vec<u8> {
        let st = self.state();
        st.files[&st.npm_version(name, version).path].to_vec()
    }

    // -- PyPI -----------------------------------------------------------------------------------

    /// Publishes a real wheel `filename` (`<dist>-<version>-<py>-<abi>-<platform>.whl`) of
    /// project `project`: a zip of `files` (paths relative to the wheel root, modes as given)
    /// followed by `<dist>-<version>.dist-info/{METADATA,WHEEL,RECORD}`, RECORD listing every
    /// file's urlsafe-base64 sha256 and size.
    pub fn add_wheel(
        &self,
        project: &str,
        version: &str,
        filename: &str,
        files: &[(&str, &[u8], u32)],
    ) {
        self.add_pypi_file_raw(
            project,
            version,
            filename,
            wheel(project, version, filename, files),
            false,
        );
    }

    /// Publishes `bytes` as file `filename` of `project` `version` (sdists, platform wheels,
    /// crafted zips), served at `/files/<filename>` with its sha256 in the index.
    pub fn add_pypi_file_raw(
        &self,
        project: &str,
        version: &str,
        filename: &str,
        bytes: Vec<u8>,
        yanked: bool,
    ) {
        let file = PyFile {
            filename: filename.to_string(),
            version: version.to_string(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            size: bytes.len(),
            yanked: yanked.then(String::new),
            requires_python: None,
        };
        let mut st = self.state();
        st.files
            .insert(format!("/files/{filename}"), Blob::from(bytes));
        let p = st
            .pypi
            .entry(normalize_pypi(project))
            .or_insert_with(|| PyProject {
                name: project.to_string(),
                files: Vec::new(),
            });
        p.files.retain(|f| f.filename != filename);
        p.files.push(file);
    }

    /// Marks `filename` yanked (`reason` `None`: `"yanked": true`, else the reason string).
    pub fn yank_pypi_file(&self, filename: &str, reason: Option<&str>) {
        self.state().pypi_file_mut(filename).yanked = Some(reason.unwrap_or("").to_string());
    }

    /// Sets the `requires-python` (`data-requires-python`) of `filename`.
    pub fn set_requires_python(&self, filename: &str, spec: &str) {
        self.state().pypi_file_mut(filename).requires_python = Some(spec.to_string());
    }

    /// File URLs in project pages become relative (`../../files/<filename>`), as some private
    /// indexes serve them; absolute (`<base>/files/<filename>`) by default.
    pub fn pypi_relative_urls(&self, on: bool) {
        self.state().pypi_relative_urls = on;
    }

    /// The sha256 hex of PyPI file `filename`.
    pub fn pypi_sha256(&self, filename: &str) -> String {
        self.state().pypi_file_mut(filename).sha256.clone()
    }

    /// The absolute URL of PyPI file `filename`.
    pub fn pypi_file_url(&self, filename: &str) -> String {
        self.url(&format!("files/{filename}"))
    }

    // -- archives -------------------------------------------------------------------------------

    /// Serves `bytes` at `path` (e.g. `/plugins/p.zip`; a missing leading `/` is added).
    pub fn add_file(&self, path: &str, bytes: Vec<u8>) {
        self.state().files.insert(slash(path), Blob::from(bytes));
    }

    /// `GET from` (a path) answers `302 Found` with `Location: to_url`.
    pub fn redirect(&self, from: &str, to_url: &str) {
        self.state()
            .redirects
            .insert(slash(from), to_url.to_string());
    }
}

impl State {
    fn npm_mut(&mut self, name: &str) -> &mut NpmPackage {
        self.npm
            .get_mut(name)
            .unwrap_or_else(|| panic!("no npm package {name}"))
    }

    fn npm_version(&self, name: &str, version: &str) -> &NpmVersion {
        self.npm
            .get(name)
            .and_then(|p| p.versions.iter().find(|v| v.version == version))
            .unwrap_or_else(|| panic!("no npm package {name}@{version}"))
    }

    fn npm_version_mut(&mut self, name: &str, version: &str) -> &mut NpmVersion {
        self.npm_mut(name)
            .versions
            .iter_mut()
            .find(|v| v.version == version)
            .unwrap_or_else(|| panic!("no npm package {name}@{version}"))
    }

    fn touch(&mut self, name: &str) {
        self.clock += 1;
        let now = self.clock;
        self.npm_mut(name).modified = now;
    }

    fn pypi_file_mut(&mut self, filename: &str) -> &mut PyFile {
        self.pypi
            .values_mut()
            .flat_map(|p| p.files.iter_mut())
            .find(|f| f.filename == filename)
            .unwrap_or_else(|| panic!("no PyPI file {filename}"))
    }
}

impl NpmPackage {
    fn tag(&self, tag: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(t, _)| t == tag)
            .map(|(_, v)| v.as_str())
    }

    fn set_tag(&mut self, tag: &str, version: &str) {
        match self.tags.iter_mut().find(|(t, _)| t == tag) {
            Some((_, v)) => *v = version.to_string(),
            None if tag == "latest" => self.tags.insert(0, (tag.into(), version.into())),
            None => self.tags.push((tag.into(), version.into())),
        }
    }

    fn dist(&self, base: &str, v: &NpmVersion) -> Value {
        let mut dist = Map::new();
        if v.publish_integrity {
            dist.insert("integrity".into(), v.integrity.clone().into());
        }
        dist.insert("shasum".into(), v.shasum.clone().into());
        dist.insert("tarball".into(), format!("{base}{}", v.path).into());
        Value::Object(dist)
    }

    /// The version document of the full packument (and of `GET /<name>/<version>`).
    fn version_doc(&self, base: &str, v: &NpmVersion) -> Value {
        let mut doc = v.manifest.clone();
        doc.insert("_id".into(), format!("{}@{}", self.name, v.version).into());
        doc.insert("dist".into(), self.dist(base, v));
        Value::Object(doc)
    }

    fn packument(&self, base: &str, abbreviated: bool) -> Value {
        let tags: Map<String, Value> = self
            .tags
            .iter()
            .map(|(t, v)| (t.clone(), v.clone().into()))
            .collect();
        let mut versions = Map::new();
        for v in &self.versions {
            let doc = if abbreviated {
                let mut doc = Map::new();
                for k in ABBREVIATED_FIELDS {
                    if let Some(x) = v.manifest.get(*k) {
                        doc.insert(k.to_string(), x.clone());
                    }
                }
                let scripts = v.manifest.get("scripts").and_then(Value::as_object);
                if scripts.is_some_and(|s| {
                    ["preinstall", "install", "postinstall"]
                        .iter()
                        .any(|k| s.contains_key(*k))
                }) {
                    doc.insert("hasInstallScript".into(), true.into());
                }
                doc.insert("dist".into(), self.dist(base, v));
                Value::Object(doc)
            } else {
                self.version_doc(base, v)
            };
            versions.insert(v.version.clone(), doc);
        }
        if abbreviated {
            json!({
                "name": self.name,
                "modified": stamp(self.modified),
                "dist-tags": tags,
                "versions": versions,
            })
        } else {
            let mut time = Map::new();
            time.insert("created".into(), stamp(self.created).into());
            time.insert("modified".into(), stamp(self.modified).into());
            for v in &self.versions {
                time.insert(v.version.clone(), stamp(v.time).into());
            }
            json!({
                "_id": self.name,
                "_rev": format!("{}-{:032x}", self.modified, self.modified),
                "name": self.name,
                "dist-tags": tags,
                "versions": versions,
                "time": time,
            })
        }
    }
}

/// Manifest fields kept in the abbreviated packument (npm's registry/pacote list).
const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "bundledDependencies",
    "devDependencies",
    "bin",
    "directories",
    "engines",
    "cpu",
    "os",
    "_hasShrinkwrap",
];

impl PyProject {
    fn versions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in &self.files {
            if !out.contains(&f.version) {
                out.push(f.version.clone());
            }
        }
        out
    }

    fn file_url(&self, base: &str, relative: bool, f: &PyFile) -> String {
        if relative {
            format!("../../files/{}", f.filename)
        } else {
            format!("{base}/files/{}", f.filename)
        }
    }

    fn json_page(&self, base: &str, relative: bool) -> Value {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|f| {
                let mut o = Map::new();
                o.insert("filename".into(), f.filename.clone().into());
                o.insert("url".into(), self.file_url(base, relative, f).into());
                o.insert("hashes".into(), json!({"sha256": f.sha256}));
                if let Some(rp) = &f.requires_python {
                    o.insert("requires-python".into(), rp.clone().into());
                }
                o.insert("size".into(), f.size.into());
                let yanked = match &f.yanked {
                    None => Value::Bool(false),
                    Some(r) if r.is_empty() => Value::Bool(true),
                    Some(r) => Value::String(r.clone()),
                };
                o.insert("yanked".into(), yanked);
                Value::Object(o)
            })
            .collect();
        json!({
            "meta": {"api-version": "1.1"},
            "name": normalize_pypi(&self.name),
            "files": files,
            "versions": self.versions(),
        })
    }

    fn html_page(&self, base: &str, relative: bool) -> String {
        let name = normalize_pypi(&self.name);
        let mut out = format!(
            "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" \
             content=\"1.1\">\n    <title>Links for {name}</title>\n  </head>\n  <body>\n    \
             <h1>Links for {name}</h1>\n"
        );
        for f in &self.files {
            let href = format!("{}#sha256={}", self.file_url(base, relative, f), f.sha256);
            let mut attrs = format!("href=\"{}\"", html_escape(&href));
            if let Some(rp) = &f.requires_python {
                attrs += &format!(" data-requires-python=\"{}\"", html_escape(rp));
            }
            if let Some(r) = &f.yanked {
                attrs += &format!(" data-yanked=\"{}\"", html_escape(r));
            }
            out += &format!("    <a {attrs}>{}</a><br />\n", html_escape(&f.filename));
        }
        out + "  </body>\n</html>\n"
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Blob,
}

impl Response {
    fn new(status: u16, content_type: &str, body: impl Into<Blob>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    fn json(status: u16, content_type: &str, v: &Value) -> Response {
        Response::new(status, content_type, serde_json::to_vec(v).unwrap())
    }

    fn error(status: u16, msg: &str) -> Response {
        Response::json(status, "application/json", &json!({ "error": msg }))
    }

    fn redirect(status: u16, location: &str) -> Response {
        let mut r = Response::new(status, "text/plain", Vec::new());
        r.headers.push(("Location".into(), location.into()));
        r
    }

    fn header(mut self, k: &str, v: &str) -> Response {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// How often a path was asked for, and how many of those answers were `304 Not Modified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    pub requests: usize,
    pub not_modified: usize,
}

/// One connection: requests in a loop while the client keeps it alive (HTTP/1.1 default).
fn serve(s: &Shared, stream: TcpStream) -> io::Result<()> {
    let mut rd = BufReader::new(stream);
    while let Some(req) = read_request(&mut rd)? {
        s.log
            .lock()
            .unwrap()
            .push((req.line(), req.headers.clone()));
        let resp = respond(s, &req);
        let path = req.target.split('?').next().unwrap_or_default().to_string();
        let status = resp.as_ref().map_or(0, |r| r.status);
        s.answers.lock().unwrap().push((path, status));
        let Some(resp) = resp else {
            // An injected failure: drop the connection without a word.
            let _ = rd.get_mut().shutdown(Shutdown::Both);
            return Ok(());
        };
        let status = format!("{} {}", resp.status, reason(resp.status));
        let body = (resp.status != 304).then_some(&resp.body[..]);
        write_response(rd.get_mut(), &req, &status, &resp.headers, body)?;
        if !req.keep_alive {
            break;
        }
    }
    Ok(())
}

/// `None`: drop the connection (an injected failure with status 0).
fn respond(s: &Shared, req: &Request) -> Option<Response> {
    let mut st = s.state.lock().unwrap();
    let (raw_path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let path = percent_decode(raw_path);

    if let Some(token) = &st.token {
        let ok = req
            .header("authorization")
            .and_then(|h| h.trim().split_once(' '))
            .is_some_and(|(scheme, cred)| {
                scheme.eq_ignore_ascii_case("bearer") && cred.trim() == token
            });
        if !ok {
            return Some(
                Response::error(401, "unauthorized")
                    .header("WWW-Authenticate", "Bearer realm=\"registry\""),
            );
        }
    }
    if let Some(f) = st
        .fails
        .iter_mut()
        .find(|f| f.left > 0 && (raw_path.starts_with(&f.prefix) || path.starts_with(&f.prefix)))
    {
        f.left -= 1;
        return match f.status {
            0 => None,
            status => Some(Response::error(status, &format!("injected {status}"))),
        };
    }
    if req.method != "GET" && req.method != "HEAD" {
        return Some(Response::error(405, "method not allowed").header("Allow", "GET, HEAD"));
    }
    if let Some(to) = st
        .redirects
        .get(raw_path)
        .or_else(|| st.redirects.get(&path))
    {
        return Some(Response::redirect(302, to));
    }
    if let Some(bytes) = st.files.get(&path) {
        return Some(Response::new(200, content_type(&path), Arc::clone(bytes)));
    }
    let resp = if path == "/simple" || path.starts_with("/simple/") {
        simple(&st, req, &path, query)
    } else {
        npm(&st, req, &path)
    };
    Some(resp)
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => "application/json",
        "zip" => "application/zip",
        "tgz" | "gz" => "application/gzip",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// npm routes: `/<name>` and `/<name>/<version|tag>` (`name` may be `@scope/pkg`).
fn npm(st: &State, req: &Request, path: &str) -> Response {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (name, rest) = match segs.as_slice() {
        [scope, pkg, rest @ ..] if scope.starts_with('@') => (format!("{scope}/{pkg}"), rest),
        [pkg, rest @ ..] => (pkg.to_string(), rest),
        [] => unreachable!(),
    };
    let Some(pkg) = st.npm.get(&name) else {
        return Response::error(404, "Not found");
    };
    match rest {
        [] | [""] => {
            let abbreviated = req
                .header("accept")
                .is_some_and(|a| accept_q(a, &[NPM_ABBREVIATED]) > 0.0);
            let (ct, doc) = if abbreviated {
                (NPM_ABBREVIATED, pkg.packument(&st.base, true))
            } else {
                ("application/json", pkg.packument(&st.base, false))
            };
            cacheable(
                st,
                req,
                Response::json(200, ct, &doc).header("Vary", "Accept"),
            )
        }
        [spec] => {
            let version = pkg.tag(spec).unwrap_or(spec);
            match pkg.versions.iter().find(|v| v.version == version) {
                Some(v) => Response::json(200, "application/json", &pkg.version_doc(&st.base, v)),
                None => Response::error(404, "version not found"),
            }
        }
        _ => Response::error(404, "Not found"),
    }
}

/// PyPI simple API routes under `/simple`.
fn simple(st: &State, req: &Request, path: &str, query: &str) -> Response {
    let format = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("format="))
        .map(percent_decode);
    let accept = format.or_else(|| req.header("accept").map(str::to_string));
    let json = accept.as_deref().is_some_and(prefers_pypi_json);
    let rest = path.trim_start_matches("/simple");
    if rest.is_empty() || rest == "/" {
        if rest.is_empty() {
            return Response::redirect(301, "/simple/");
        }
        let names: Vec<String> = st.pypi.values().map(|p| p.name.clone()).collect();
        if json {
            let projects: Vec<Value> = names.iter().map(|n| json!({ "name": n })).collect();
            let doc = json!({"meta": {"api-version": "1.1"}, "projects": projects});
            return cacheable(
                st,
                req,
                Response::json(200, PYPI_JSON, &doc).header("Vary", "Accept"),
            );
        }
        let mut html = String::from("<!DOCTYPE html>\n<html>\n  <body>\n");
        for n in &names {
            let (href, n) = (html_escape(&normalize_pypi(n)), html_escape(n));
            html += &format!("    <a href=\"{href}/\">{n}</a>\n");
        }
        html += "  </body>\n</html>\n";
        return cacheable(
            st,
            req,
            html_response(html, &accept).header("Vary", "Accept"),
        );
    }
    let name = rest.trim_start_matches('/');
    let (name, slash) = match name.strip_suffix('/') {
        Some(n) => (n, true),
        None => (name, false),
    };
    if name.is_empty() || name.contains('/') {
        return Response::error(404, "Not Found");
    }
    let normal = normalize_pypi(name);
    if !slash || normal != name {
        let location = match query {
            "" => format!("/simple/{normal}/"),
            q => format!("/simple/{normal}/?{q}"),
        };
        return Response::redirect(301, &location);
    }
    let Some(project) = st.pypi.get(&normal) else {
        return Response::error(404, "Not Found");
    };
    let resp = if json {
        Response::json(
            200,
            PYPI_JSON,
            &project.json_page(&st.base, st.pypi_relative_urls),
        )
    } else {
        html_response(project.html_page(&st.base, st.pypi_relative_urls), &accept)
    };
    cacheable(st, req, resp.header("Vary", "Accept"))
}

fn html_response(html: String, accept: &Option<String>) -> Response {
    let versioned = accept.as_deref().is_some_and(|a| {
        let v1 = accept_q(a, &[PYPI_HTML, "application/vnd.pypi.simple.latest+html"]);
        v1 > 0.0 && v1 >= accept_q(a, &["text/html"])
    });
    let ct = if versioned {
        PYPI_HTML
    } else {
        "text/html; charset=utf-8"
    };
    Response::new(200, ct, html.into_bytes())
}

/// PEP 691 negotiation: JSON when its quality is positive and not below any HTML form's.
fn prefers_pypi_json(accept: &str) -> bool {
    let json = accept_q(
        accept,
        &[PYPI_JSON, "application/vnd.pypi.simple.latest+json"],
    );
    let html = accept_q(
        accept,
        &[
            PYPI_HTML,
            "application/vnd.pypi.simple.latest+html",
            "text/html",
            "text/*",
            "*/*",
        ],
    );
    json > 0.0 && json >= html
}

/// The highest quality `accept` gives any of `types` (0 when none is listed).
fn accept_q(accept: &str, types: &[&str]) -> f32 {
    let mut best = 0.0f32;
    for item in accept.split(',') {
        let mut params = item.split(';');
        let ty = params.next().unwrap_or("").trim().to_ascii_lowercase();
        if !types.iter().any(|t| t.eq_ignore_ascii_case(&ty)) {
            continue;
        }
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        best = best.max(q);
    }
    best
}

/// Adds an `ETag` over the body, and turns the answer into `304` when `If-None-Match` has it.
fn cacheable(st: &State, req: &Request, resp: Response) -> Response {
    if st.no_etags {
        return resp;
    }
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&resp.body))[..32]);
    let hit = req.header("if-none-match").is_some_and(|inm| {
        inm.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
    });
    if hit {
        return Response {
            status: 304,
            headers: vec![("ETag".into(), etag)],
            body: Blob::from(Vec::new()),
        };
    }
    resp.header("ETag", &etag)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// PEP 503: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep {
                out.push('-');
                sep = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    if sep {
        out.push('-');
    }
    out
}

/// `sha512-<base64>`: npm's Subresource Integrity string of `bytes`.
pub fn sri_sha512(bytes: &[u8]) -> String {
    format!("sha512-{}", B64.encode(Sha512::digest(bytes)))
}

fn slash(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = b.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A fixed-epoch timestamp `tick` seconds after 2026-01-01T00:00:00Z.
fn stamp(tick: u64) -> String {
    let (d, h, m, s) = (
        1 + tick / 86_400,
        tick / 3600 % 24,
        tick / 60 % 60,
        tick % 60,
    );
    format!("2026-01-{d:02}T{h:02}:{m:02}:{s:02}.000Z")
}

fn is_prerelease(v: &str) -> bool {
    v.split('+').next().unwrap_or(v).contains('-')
}

/// semver 2.0 precedence (enough to pick `latest`).
fn semver_cmp(a: &str, b: &str) -> CmpOrdering {
    fn parts(v: &str) -> (Vec<u64>, Option<&str>) {
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        let mut nums: Vec<u64> = core.split('.').map(|n| n.parse().unwrap_or(0)).collect();
        nums.resize(3, 0);
        (nums, pre)
    }
    let ((an, ap), (bn, bp)) = (parts(a), parts(b));
    an.cmp(&bn).then_with(|| match (ap, bp) {
        (None, None) => CmpOrdering::Equal,
        (None, Some(_)) => CmpOrdering::Greater,
        (Some(_), None) => CmpOrdering::Less,
        (Some(x), Some(y)) => {
            let (mut xs, mut ys) = (x.split('.'), y.split('.'));
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return CmpOrdering::Equal,
                    (None, Some(_)) => return CmpOrdering::Less,
                    (Some(_), None) => return CmpOrdering::Greater,
                    (Some(p), Some(q)) => {
                        let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                            (Ok(i), Ok(j)) => i.cmp(&j),
                            (Ok(_), Err(_)) => CmpOrdering::Less,
                            (Err(_), Ok(_)) => CmpOrdering::Greater,
                            (Err(_), Err(_)) => p.cmp(q),
                        };
                        if o != CmpOrdering::Equal {
                            return o;
                        }
                    }
                }
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Archive builders
// ---------------------------------------------------------------------------------------------

/// One tar entry. Paths and link targets are written byte for byte (no checks at all: `../x`,
/// `/etc/x` and `a/../../b` are fine), in ustar fields (path ≤ 100 bytes, or split into
/// prefix ≤ 155 + name ≤ 100 at a `/`; link target ≤ 100 bytes). uid/gid 0, mtime `NPM_MTIME`.
#[derive(Clone, Debug)]
pub enum TarEntry {
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    /// `path` gets a trailing `/` if it has none.
    Dir {
        path: String,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
    },
    /// A hard link to another entry's path (`target`, as written in the archive).
    Hardlink {
        path: String,
        target: String,
    },
    /// Any other type flag with no data, e.g. `b'3'` char device, `b'4'` block device,
    /// `b'6'` FIFO.
    Special {
        path: String,
        entry_type: u8,
        mode: u32,
    },
}

impl TarEntry {
    pub fn file(path: &str, data: &[u8], mode: u32) -> TarEntry {
        TarEntry::File {
            path: path.into(),
            data: data.into(),
            mode,
        }
    }
    pub fn dir(path: &str, mode: u32) -> TarEntry {
        TarEntry::Dir {
            path: path.into(),
            mode,
        }
    }
    pub fn symlink(path: &str, target: &str) -> TarEntry {
        TarEntry::Symlink {
            path: path.into(),
            target: target.into(),
        }
    }
    pub fn hardlink(path: &str, target: &str) -> TarEntry {
        TarEntry::Hardlink {
            path: path.into(),
            target: target.into(),
        }
    }
    pub fn special(path: &str, entry_type: u8, mode: u32) -> TarEntry {
        TarEntry::Special {
            path: path.into(),
            entry_type,
            mode,
        }
    }
}

/// An uncompressed ustar archive of `entries`, in order.
pub fn tar(entries: &[TarEntry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        let (path, kind, mode, data, link): (String, tar::EntryType, u32, &[u8], Option<&str>) =
            match e {
                TarEntry::File { path, data, mode } => (
                    path.clone(),
                    tar::EntryType::Regular,
                    *mode,
                    data.as_slice(),
                    None,
                ),
                TarEntry::Dir { path, mode } => {
                    let p = if path.ends_with('/') {
                        path.clone()
                    } else {
                        format!("{path}/")
                    };
                    (p, tar::EntryType::Directory, *mode, &[], None)
                }
                TarEntry::Symlink { path, target } => (
                    path.clone(),
                    tar::EntryType::Symlink,
                    0o777,
                    &[],
                    Some(target.as_str()),
                ),
                TarEntry::Hardlink { path, target } => (
                    path.clone(),
                    tar::EntryType::Link,
                    0o644,
                    &[],
                    Some(target.as_str()),
                ),
                TarEntry::Special {
                    path,
                    entry_type,
                    mode,
                } => (
                    path.clone(),
                    tar::EntryType::new(*entry_type),
                    *mode,
                    &[],
                    None,
                ),
            };
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(NPM_MTIME);
        h.set_uid(0);
        h.set_gid(0);
        let ustar = h.as_ustar_mut().expect("ustar header");
        let (prefix, name) = split_ustar_path(path.as_bytes());
        ustar.prefix[..prefix.len()].copy_from_slice(prefix);
        ustar.name[..name.len()].copy_from_slice(name);
        if let Some(link) = link {
            let link = link.as_bytes();
            assert!(
                link.len() <= 100,
                "tar link target over 100 bytes: {link:?}"
            );
            ustar.linkname[..link.len()].copy_from_slice(link);
        }
        h.set_cksum();
        b.append(&h, data).expect("tar append");
    }
    b.into_inner().expect("tar finish")
}

/// ustar `(prefix, name)` for `path`.
fn split_ustar_path(path: &[u8]) -> (&[u8], &[u8]) {
    if path.len() <= 100 {
        return (&[], path);
    }
    (0..path.len())
        .filter(|&i| path[i] == b'/' && i <= 155 && path.len() - i - 1 <= 100 && i > 0)
        .map(|i| (&path[..i], &path[i + 1..]))
        .next()
        .unwrap_or_else(|| panic!("path too long for ustar: {}", String::from_utf8_lossy(path)))
}

/// `tar(entries)` gzip'd (no file name, mtime 0: reproducible).
pub fn tgz(entries: &[TarEntry]) -> Vec<u8> {
    gzip(&tar(entries))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// One zip entry. Names are written as given (no checks: `../x`, `/abs`, `a\..\b` are fine).
#[derive(Clone, Debug)]
pub enum ZipEntry {
    /// Deflated; `mode` (all 12 permission bits) kept in the Unix external attributes.
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    /// `path` gets a trailing `/` if it has none.
    Dir { path: String, mode: u32 },
    /// Unix symlink (`S_IFLNK`, target stored as the entry's data).
    Symlink { path: String, target: String },
}

impl ZipEntry {
    pub fn file(path: &str, data: &[u8], mode: u32) -> ZipEntry {
        ZipEntry::File {
            path: path.into(),
            data: data.into(),
            mode,
        }
    }
    pub fn dir(path: &str, mode: u32) -> ZipEntry {
        ZipEntry::Dir {
            path: path.into(),
            mode,
        }
    }
    pub fn symlink(path: &str, target: &str) -> ZipEntry {
        ZipEntry::Symlink {
            path: path.into(),
            target: target.into(),
        }
    }
}

/// A zip of `entries`, in order (Unix "made by", DOS time 1980-01-01: reproducible).
pub fn zip(entries: &[ZipEntry]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let base = SimpleFileOptions::default().system(zip::System::Unix);
    for e in entries {
        match e {
            ZipEntry::File { path, data, mode } => {
                let opts = base
                    .compression_method(zip::CompressionMethod::Deflated)
                    .external_attributes((0o100000 | (mode & 0o7777)) << 16);
                w.start_file(path.as_str(), opts).expect("zip file");
                w.write_all(data).expect("zip write");
            }
            ZipEntry::Dir { path, mode } => {
                w.add_directory(path.as_str(), base.unix_permissions(*mode))
                    .expect("zip dir");
            }
            ZipEntry::Symlink { path, target } => {
                w.add_symlink(path.as_str(), target.as_str(), base)
                    .expect("zip symlink");
            }
        }
    }
    w.finish().expect("zip finish").into_inner()
}

/// A wheel (see `Registry::add_wheel`).
pub fn wheel(
    project: &str,
    version: &str,
    filename: &str,
    files: &[(&str, &[u8], u32)],
) -> Vec<u8> {
    let stem = filename.strip_suffix(".whl").unwrap_or(filename);
    let parts: Vec<&str> = stem.split('-').collect();
    let dist = parts[0];
    let tags = if parts.len() >= 5 {
        parts[parts.len() - 3..].join("-")
    } else {
        "py3-none-any".to_string()
    };
    let info = format!("{dist}-{version}.dist-info");
    let metadata = format!("Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n");
    let mut wheel_file =
        "Wheel-Version: 1.0\nGenerator: plugin-tests (0.1)\nRoot-Is-Purelib: true\n".to_string();
    let (py, abi, plat) = {
        let t: Vec<&str> = tags.split('-').collect();
        (t[0], t[1], t[2])
    };
    for p in py.split('.') {
        for a in abi.split('.') {
            for pl in plat.split('.') {
                wheel_file += &format!("Tag: {p}-{a}-{pl}\n");
            }
        }
    }
    let mut all: Vec<(String, Vec<u8>, u32)> = files
        .iter()
        .map(|(p, d, m)| (p.to_string(), d.to_vec(), *m))
        .collect();
    all.push((format!("{info}/METADATA"), metadata.into_bytes(), 0o644));
    all.push((format!("{info}/WHEEL"), wheel_file.into_bytes(), 0o644));
    let mut record = String::new();
    for (p, d, _) in &all {
        let digest = B64URL.encode(Sha256::digest(d));
        record += &format!("{p},sha256={digest},{}\n", d.len());
    }
    record += &format!("{info}/RECORD,,\n");
    all.push((format!("{info}/RECORD"), record.into_bytes(), 0o644));
    let entries: Vec<ZipEntry> = all
        .iter()
        .map(|(p, d, m)| ZipEntry::file(p, d, *m))
        .collect();
    zip(&entries)
}
