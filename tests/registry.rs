//! Smoke tests of the test registry (tests/common/registry.rs) with plain HTTP requests: the
//! npm and PyPI protocols it speaks, the archives it builds, and its failure knobs.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use common::registry::{
    Hits, NPM_ABBREVIATED, NPM_MTIME, PYPI_JSON, Registry, TarEntry, ZipEntry, tgz, zip,
};

/// What npm sends when it wants the abbreviated packument.
const NPM_ACCEPT: &str = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
/// What pip sends.
const PIP_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    BufReader::new(s)
}

fn send(
    c: &mut BufReader<TcpStream>,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    close: bool,
) {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    if close {
        req += "Connection: close\r\n";
    }
    req += "\r\n";
    c.get_mut().write_all(req.as_bytes()).expect("send");
}

/// `None` when the server closed the connection without answering.
fn receive(c: &mut BufReader<TcpStream>, head_only: bool) -> Option<Resp> {
    let mut line = String::new();
    if c.read_line(&mut line).expect("status line") == 0 {
        return None;
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .expect("status")
        .parse()
        .expect("status code");
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        c.read_line(&mut h).expect("header");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').expect("header line");
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut r = Resp {
        status,
        headers,
        body: Vec::new(),
    };
    let len: usize = r
        .header("content-length")
        .map_or(0, |n| n.parse().expect("length"));
    if !head_only && status != 304 {
        r.body.resize(len, 0);
        c.read_exact(&mut r.body).expect("body");
    }
    Some(r)
}

fn request(reg: &Registry, method: &str, target: &str, headers: &[(&str, &str)]) -> Option<Resp> {
    let mut c = connect(reg.addr());
    send(&mut c, method, target, headers, true);
    receive(&mut c, method == "HEAD")
}

fn get(reg: &Registry, target: &str, headers: &[(&str, &str)]) -> Resp {
    request(reg, "GET", target, headers).expect("an answer")
}

/// The path part of a URL on this registry.
fn path_of(reg: &Registry, url: &str) -> String {
    url.strip_prefix(&reg.base_url())
        .expect("URL on the registry")
        .to_string()
}

fn sri(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    )
}

/// `(path, type, mode, size, link)` of each tar entry, read raw (no path checks).
fn tar_listing(tgz_bytes: &[u8]) -> Vec<(String, tar::EntryType, u32, u64, Option<String>, u64)> {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(tgz_bytes));
    a.entries()
        .expect("entries")
        .map(|e| {
            let e = e.expect("entry");
            let h = e.header();
            (
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                h.entry_type(),
                h.mode().unwrap(),
                h.size().unwrap(),
                e.link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned()),
                h.mtime().unwrap(),
            )
        })
        .collect()
}

fn demo_package_json() -> &'static [u8] {
    br#"{"name":"ignored","version":"0.0.0","description":"d","dependencies":{"left-pad":"^1.3.0"},"scripts":{"postinstall":"echo hi"}}"#
}

#[test]
fn npm_packument_full_and_abbreviated() {
    let reg = Registry::start();
    let files: &[(&str, &[u8], u32)] = &[
        ("package.json", demo_package_json(), 0o644),
        (".claude-plugin/plugin.json", br#"{"name":"demo"}"#, 0o644),
    ];
    reg.add_npm("demo", "1.0.0", files);
    reg.add_npm("demo", "1.1.0", files);
    reg.add_npm("demo", "2.0.0-beta.1", files); // a prerelease does not move latest
    reg.set_dist_tag("demo", "next", "2.0.0-beta.1");

    let full = get(&reg, "/demo", &[]);
    assert_eq!(full.status, 200);
    assert_eq!(full.header("content-type"), Some("application/json"));
    let doc = full.json();
    assert_eq!(doc["name"], "demo");
    assert_eq!(doc["_id"], "demo");
    assert_eq!(doc["dist-tags"]["latest"], "1.1.0");
    assert_eq!(doc["dist-tags"]["next"], "2.0.0-beta.1");
    let v = &doc["versions"]["1.0.0"];
    assert_eq!(v["name"], "demo", "name comes from add_npm");
    assert_eq!(v["version"], "1.0.0");
    assert_eq!(v["_id"], "demo@1.0.0");
    assert_eq!(v["description"], "d");
    assert_eq!(v["scripts"]["postinstall"], "echo hi");
    assert!(doc["time"]["1.1.0"].is_string() && doc["time"]["modified"].is_string());
    let keys: Vec<&String> = doc["versions"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["1.0.0", "1.1.0", "2.0.0-beta.1"]);

    let abbr = get(&reg, "/demo", &[("Accept", NPM_ACCEPT)]);
    assert_eq!(abbr.status, 200);
    assert_eq!(abbr.header("content-type"), Some(NPM_ABBREVIATED));
    let doc = abbr.json();
    let top: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(top, ["name", "modified", "dist-tags", "versions"]);
    let v = &doc["versions"]["1.0.0"];
    assert_eq!(v["dependencies"]["left-pad"], "^1.3.0");
    assert_eq!(v["hasInstallScript"], true);
    assert!(v.get("scripts").is_none() && v.get("description").is_none());
    let dist = &v["dist"];
    assert!(dist["integrity"].as_str().unwrap().starts_with("sha512-"));
    assert_eq!(dist["shasum"].as_str().unwrap().len(), 40);
    assert_eq!(
        dist["tarball"].as_str().unwrap(),
        format!("{}/demo/-/demo-1.0.0.tgz", reg.base_url())
    );

    // Version documents by version or dist-tag; unknown names and versions are 404.
    assert_eq!(get(&reg, "/demo/latest", &[]).json()["version"], "1.1.0");
    assert_eq!(get(&reg, "/demo/1.0.0", &[]).json()["version"], "1.0.0");
    assert_eq!(get(&reg, "/demo/9.9.9", &[]).status, 404);
    assert_eq!(get(&reg, "/nope", &[]).status, 404);

    // Explicit latest is pinned; a higher release afterwards leaves it alone.
    reg.set_dist_tag("demo", "latest", "1.0.0");
    reg.add_npm("demo", "1.2.0", files);
    assert_eq!(
        get(&reg, "/demo", &[]).json()["dist-tags"]["latest"],
        "1.0.0"
    );
}

#[test]
fn npm_scoped_names_in_every_spelling() {
    let reg = Registry::start();
    reg.add_npm("@acme/tools", "1.0.0", &[("index.js", b"//\n", 0o644)]);
    for target in [
        "/@acme%2ftools",
        "/@acme%2Ftools",
        "/@acme/tools",
        "/%40acme%2ftools",
    ] {
        let r = get(&reg, target, &[("Accept", NPM_ACCEPT)]);
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.json()["name"], "@acme/tools");
    }
    let doc = get(&reg, "/@acme%2ftools", &[]).json();
    let url = doc["versions"]["1.0.0"]["dist"]["tarball"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        url,
        format!("{}/@acme/tools/-/tools-1.0.0.tgz", reg.base_url())
    );
    assert_eq!(url, reg.npm_tarball_url("@acme/tools", "1.0.0"));
    let tgz = get(&reg, &path_of(&reg, &url), &[]);
    assert_eq!(tgz.status, 200);
    assert_eq!(sri(&tgz.body), reg.npm_integrity("@acme/tools", "1.0.0"));
    // An encoded slash in the tarball path works too.
    assert_eq!(
        get(&reg, "/@acme%2ftools/-/tools-1.0.0.tgz", &[]).body,
        tgz.body
    );
    assert_eq!(get(&reg, "/@acme/other", &[]).status, 404);
}

#[test]
fn npm_tarball_matches_dist_and_is_a_real_npm_tarball() {
    let reg = Registry::start();
    reg.add_npm(
        "demo",
        "1.0.0",
        &[
            (".claude-plugin/plugin.json", br#"{"name":"demo"}"#, 0o644),
            ("bin/run.sh", b"#!/bin/sh\necho run\n", 0o755),
        ],
    );
    let doc = get(&reg, "/demo", &[("Accept", NPM_ACCEPT)]).json();
    let dist = &doc["versions"]["1.0.0"]["dist"];
    let r = get(&reg, &path_of(&reg, dist["tarball"].as_str().unwrap()), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(sri(&r.body), dist["integrity"].as_str().unwrap());
    assert_eq!(
        hex::encode(Sha1::digest(&r.body)),
        dist["shasum"].as_str().unwrap()
    );
    assert_eq!(r.body, reg.npm_tarball("demo", "1.0.0"));

    let list = tar_listing(&r.body);
    let names: Vec<&str> = list.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "package/package.json",
            "package/.claude-plugin/plugin.json",
            "package/bin/run.sh"
        ]
    );
    assert!(
        list.iter()
            .all(|e| e.1 == tar::EntryType::Regular && e.5 == NPM_MTIME)
    );
    assert_eq!(list[2].2, 0o755);
    assert_eq!(list[1].2, 0o644);
    // The generated package.json.
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(&r.body[..]));
    let mut first = a.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    first.read_to_string(&mut text).unwrap();
    let pj: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(pj, serde_json::json!({"name": "demo", "version": "1.0.0"}));
}

#[test]
fn npm_etag_and_304() {
    let reg = Registry::start();
    reg.add_npm("demo", "1.0.0", &[]);
    let full = get(&reg, "/demo", &[]);
    let etag = full.header("etag").expect("ETag").to_string();
    let abbr = get(&reg, "/demo", &[("Accept", NPM_ACCEPT)]);
    let abbr_etag = abbr.header("etag").expect("ETag").to_string();
    assert_ne!(etag, abbr_etag, "the two representations differ");

    let r = get(&reg, "/demo", &[("If-None-Match", &etag)]);
    assert_eq!((r.status, r.body.len()), (304, 0));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let r = get(
        &reg,
        "/demo",
        &[
            ("Accept", NPM_ACCEPT),
            ("If-None-Match", &format!("W/{abbr_etag}")),
        ],
    );
    assert_eq!(r.status, 304, "weak comparison");
    let r = get(&reg, "/demo", &[("If-None-Match", "\"other\"")]);
    assert_eq!(r.status, 200);

    reg.add_npm("demo", "1.0.1", &[]);
    let r = get(&reg, "/demo", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 200, "a new version changes the ETag");
    assert_ne!(r.header("etag"), Some(etag.as_str()));
    let counted = Hits {
        requests: 6,
        not_modified: 2,
    };
    assert_eq!(reg.hits("/demo"), counted);

    // A registry without validators: no ETag, and If-None-Match changes nothing.
    reg.send_etags(false);
    reg.clear_requests();
    let etag = r.header("etag").unwrap();
    let r = get(&reg, "/demo", &[("If-None-Match", etag)]);
    assert_eq!((r.status, r.header("etag")), (200, None));
    let counted = Hits {
        requests: 1,
        not_modified: 0,
    };
    assert_eq!(reg.hits("/demo"), counted);
}

#[test]
fn npm_integrity_knobs() {
    let reg = Registry::start();
    reg.add_npm("demo", "1.0.0", &[]);
    let tarball = reg.npm_tarball("demo", "1.0.0");
    reg.corrupt_integrity("demo", "1.0.0");
    let dist = get(&reg, "/demo", &[]).json()["versions"]["1.0.0"]["dist"].clone();
    assert_ne!(dist["integrity"].as_str().unwrap(), sri(&tarball));
    assert_ne!(
        dist["shasum"].as_str().unwrap(),
        hex::encode(Sha1::digest(&tarball))
    );
    assert_eq!(reg.npm_tarball("demo", "1.0.0"), tarball, "bytes unchanged");

    reg.add_npm("old", "0.1.0", &[]);
    reg.drop_integrity("old", "0.1.0");
    let dist =
        get(&reg, "/old", &[("Accept", NPM_ACCEPT)]).json()["versions"]["0.1.0"]["dist"].clone();
    assert!(dist.get("integrity").is_none());
    assert_eq!(dist["shasum"], reg.npm_shasum("old", "0.1.0"));
}

#[test]
fn npm_raw_malicious_tarball() {
    let reg = Registry::start();
    let long_dir = "d".repeat(120);
    let bytes = tgz(&[
        TarEntry::dir("package", 0o755),
        TarEntry::file("package/ok.txt", b"ok", 0o600),
        TarEntry::file("package/../evil.txt", b"evil", 0o644),
        TarEntry::file("/etc/evil", b"abs", 0o644),
        TarEntry::symlink("package/link", "../../../etc/passwd"),
        TarEntry::symlink("package/abs-link", "/etc/passwd"),
        TarEntry::hardlink("package/hard", "/etc/passwd"),
        TarEntry::special("package/fifo", b'6', 0o644),
        TarEntry::file(&format!("package/{long_dir}/f"), b"long", 0o4755),
    ]);
    reg.add_npm_raw_tarball("evil", "1.0.0", bytes.clone());
    let dist = get(&reg, "/evil", &[]).json()["versions"]["1.0.0"]["dist"].clone();
    let r = get(&reg, &path_of(&reg, dist["tarball"].as_str().unwrap()), &[]);
    assert_eq!(r.body, bytes);
    assert_eq!(sri(&r.body), dist["integrity"].as_str().unwrap());

    let list = tar_listing(&r.body);
    let got: Vec<(&str, tar::EntryType, Option<&str>)> = list
        .iter()
        .map(|e| (e.0.as_str(), e.1, e.4.as_deref()))
        .collect();
    let long = format!("package/{long_dir}/f");
    assert_eq!(
        got,
        [
            ("package/", tar::EntryType::Directory, None),
            ("package/ok.txt", tar::EntryType::Regular, None),
            ("package/../evil.txt", tar::EntryType::Regular, None),
            ("/etc/evil", tar::EntryType::Regular, None),
            (
                "package/link",
                tar::EntryType::Symlink,
                Some("../../../etc/passwd")
            ),
            (
                "package/abs-link",
                tar::EntryType::Symlink,
                Some("/etc/passwd")
            ),
            ("package/hard", tar::EntryType::Link, Some("/etc/passwd")),
            ("package/fifo", tar::EntryType::Fifo, None),
            (long.as_str(), tar::EntryType::Regular, None),
        ]
    );
    assert_eq!(list[8].2, 0o4755);

    // GNU tar reads it the same way (a Linux program: wine's Windows processes cannot start it).
    if !cfg!(unix) {
        return;
    }
    let mut child = Command::new("tar")
        .args(["-tzf", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped()) // "Removing leading `/'", as expected
        .spawn()
        .expect("tar");
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.lines().any(|l| l == "package/../evil.txt"),
        "{listed}"
    );
    assert!(listed.lines().any(|l| l == long), "{listed}");
}

#[test]
fn token_required_and_logged() {
    let reg = Registry::start();
    reg.add_npm("demo", "1.0.0", &[]);
    reg.require_token("s3cret");
    let r = get(&reg, "/demo", &[]);
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(
        get(&reg, "/demo", &[("Authorization", "Bearer wrong")]).status,
        401
    );
    assert_eq!(
        get(&reg, "/demo", &[("Authorization", "Basic czNjcmV0")]).status,
        401
    );
    let url = reg.npm_tarball_url("demo", "1.0.0");
    assert_eq!(
        get(&reg, &path_of(&reg, &url), &[]).status,
        401,
        "tarballs too"
    );
    assert_eq!(
        get(&reg, "/demo", &[("Authorization", "Bearer s3cret")]).status,
        200
    );

    let log = reg.requests();
    assert_eq!(log.len(), 5);
    let auth = |i: usize| {
        log[i]
            .1
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(log[0].0, "GET /demo");
    assert_eq!(auth(0), None);
    assert_eq!(auth(4), Some("Bearer s3cret"));
    assert!(
        log[0].1.iter().any(|(k, _)| k == "host"),
        "names are lower-cased"
    );
    reg.clear_requests();
    assert!(reg.requests().is_empty());
}

#[test]
fn fail_next_then_success() {
    let reg = Registry::start();
    reg.add_npm("demo", "1.0.0", &[]);
    reg.fail_next("/demo", 500, 2);
    reg.fail_next("/demo/-/", 404, 1);
    assert_eq!(get(&reg, "/demo", &[]).status, 500);
    assert_eq!(get(&reg, "/demo", &[]).status, 500);
    assert_eq!(get(&reg, "/demo", &[]).status, 200);
    let tarball = path_of(&reg, &reg.npm_tarball_url("demo", "1.0.0"));
    assert_eq!(get(&reg, &tarball, &[]).status, 404);
    assert_eq!(get(&reg, &tarball, &[]).status, 200);

    // Status 0: the connection is dropped without an answer, once.
    reg.fail_next("/demo", 0, 1);
    assert!(request(&reg, "GET", "/demo", &[]).is_none());
    assert_eq!(get(&reg, "/demo", &[]).status, 200);
}

#[test]
fn keep_alive_head_and_method() {
    let reg = Registry::start();
    reg.add_npm("demo", "1.0.0", &[]);
    let mut c = connect(reg.addr());
    send(&mut c, "GET", "/demo", &[], false);
    let a = receive(&mut c, false).expect("first");
    send(&mut c, "HEAD", "/demo", &[], false);
    let b = receive(&mut c, true).expect("second");
    send(&mut c, "POST", "/demo", &[("Content-Length", "2")], false);
    c.get_mut().write_all(b"{}").unwrap();
    let p = receive(&mut c, false).expect("third");
    send(&mut c, "GET", "/demo", &[], true);
    let d = receive(&mut c, false).expect("fourth");
    assert_eq!(
        (a.status, b.status, p.status, d.status),
        (200, 200, 405, 200)
    );
    assert_eq!(
        b.header("content-length"),
        Some(a.body.len().to_string().as_str())
    );
    assert_eq!(a.header("connection"), Some("keep-alive"));
    assert_eq!(d.header("connection"), Some("close"));
    assert_eq!(a.body, d.body);
}

fn pypi_fixture(reg: &Registry) {
    reg.add_wheel(
        "Demo.Plugin",
        "1.0.0",
        "demo_plugin-1.0.0-py3-none-any.whl",
        &[
            ("demo_plugin/__init__.py", b"", 0o644),
            (
                "demo_plugin/.claude-plugin/plugin.json",
                br#"{"name":"demo"}"#,
                0o644,
            ),
            ("demo_plugin/bin/tool", b"#!/bin/sh\n", 0o755),
        ],
    );
    reg.add_pypi_file_raw(
        "demo-plugin",
        "1.0.0",
        "demo_plugin-1.0.0.tar.gz",
        b"sdist".to_vec(),
        false,
    );
    reg.add_pypi_file_raw(
        "demo_plugin",
        "0.9.0",
        "demo_plugin-0.9.0-py3-none-any.whl",
        zip(&[]),
        true,
    );
    reg.set_requires_python("demo_plugin-1.0.0-py3-none-any.whl", ">=3.8");
}

#[test]
fn pypi_json_and_html_by_accept() {
    let reg = Registry::start();
    pypi_fixture(&reg);
    let wheel = "demo_plugin-1.0.0-py3-none-any.whl";

    for accept in [PYPI_JSON, PIP_ACCEPT] {
        let r = get(&reg, "/simple/demo-plugin/", &[("Accept", accept)]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some(PYPI_JSON));
        let doc = r.json();
        assert_eq!(doc["meta"]["api-version"], "1.1");
        assert_eq!(doc["name"], "demo-plugin");
        assert_eq!(doc["versions"], serde_json::json!(["1.0.0", "0.9.0"]));
        let files = doc["files"].as_array().unwrap();
        let names: Vec<&str> = files
            .iter()
            .map(|f| f["filename"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                wheel,
                "demo_plugin-1.0.0.tar.gz",
                "demo_plugin-0.9.0-py3-none-any.whl"
            ]
        );
        assert_eq!(files[0]["url"], reg.pypi_file_url(wheel));
        assert_eq!(files[0]["hashes"]["sha256"], reg.pypi_sha256(wheel));
        assert_eq!(files[0]["requires-python"], ">=3.8");
        assert_eq!(files[0]["yanked"], false);
        assert_eq!(files[2]["yanked"], true);
        assert!(files[1].get("requires-python").is_none());
        assert!(files[0]["size"].as_u64().unwrap() > 0);
    }

    for headers in [&[][..], &[("Accept", "text/html")][..]] {
        let r = get(&reg, "/simple/demo-plugin/", headers);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let html = r.text();
        let anchor = format!(
            "<a href=\"{}#sha256={}\" data-requires-python=\"&gt;=3.8\">{wheel}</a>",
            reg.pypi_file_url(wheel),
            reg.pypi_sha256(wheel)
        );
        assert!(html.contains(&anchor), "{html}");
        assert!(
            html.contains("data-yanked=\"\">demo_plugin-0.9.0-py3-none-any.whl</a>"),
            "{html}"
        );
    }
    let r = get(
        &reg,
        "/simple/demo-plugin/",
        &[("Accept", "application/vnd.pypi.simple.v1+html")],
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pypi.simple.v1+html")
    );
    let r = get(
        &reg,
        "/simple/demo-plugin/?format=application/vnd.pypi.simple.v1%2Bjson",
        &[],
    );
    assert_eq!(r.header("content-type"), Some(PYPI_JSON));

    // Normalisation and the trailing slash redirect; unknown projects are 404.
    for target in [
        "/simple/Demo.Plugin/",
        "/simple/demo__plugin/",
        "/simple/demo-plugin",
    ] {
        let r = get(&reg, target, &[("Accept", PYPI_JSON)]);
        assert_eq!(r.status, 301, "{target}");
        assert_eq!(r.header("location"), Some("/simple/demo-plugin/"));
    }
    assert_eq!(
        get(&reg, "/simple/other/", &[("Accept", PYPI_JSON)]).status,
        404
    );
    let root = get(&reg, "/simple/", &[("Accept", PYPI_JSON)]).json();
    assert_eq!(
        root["projects"],
        serde_json::json!([{"name": "Demo.Plugin"}])
    );

    // ETag on pages; yanks and relative URLs.
    let r = get(&reg, "/simple/demo-plugin/", &[("Accept", PYPI_JSON)]);
    let etag = r.header("etag").unwrap().to_string();
    let again = get(
        &reg,
        "/simple/demo-plugin/",
        &[("Accept", PYPI_JSON), ("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    reg.yank_pypi_file(wheel, Some("broken"));
    reg.pypi_relative_urls(true);
    let doc = get(&reg, "/simple/demo-plugin/", &[("Accept", PYPI_JSON)]).json();
    assert_eq!(doc["files"][0]["yanked"], "broken");
    assert_eq!(doc["files"][0]["url"], format!("../../files/{wheel}"));
}

#[test]
fn wheel_download_matches_sha256_and_is_a_real_wheel() {
    let reg = Registry::start();
    pypi_fixture(&reg);
    let wheel = "demo_plugin-1.0.0-py3-none-any.whl";
    let doc = get(&reg, "/simple/demo-plugin/", &[("Accept", PIP_ACCEPT)]).json();
    let f = &doc["files"][0];
    assert_eq!(f["filename"], wheel);
    let r = get(&reg, &path_of(&reg, f["url"].as_str().unwrap()), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        hex::encode(Sha256::digest(&r.body)),
        f["hashes"]["sha256"].as_str().unwrap()
    );
    assert_eq!(r.body.len() as u64, f["size"].as_u64().unwrap());

    let mut z = zip::ZipArchive::new(std::io::Cursor::new(r.body)).expect("a zip");
    let names: Vec<String> = z
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    for n in [
        "demo_plugin/.claude-plugin/plugin.json",
        "demo_plugin-1.0.0.dist-info/METADATA",
        "demo_plugin-1.0.0.dist-info/WHEEL",
        "demo_plugin-1.0.0.dist-info/RECORD",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    assert_eq!(
        z.by_name("demo_plugin/bin/tool").unwrap().unix_mode(),
        Some(0o100755)
    );
    let mut read = |n: &str| {
        let mut s = String::new();
        z.by_name(n).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let metadata = read("demo_plugin-1.0.0.dist-info/METADATA");
    assert!(
        metadata.contains("Name: Demo.Plugin\nVersion: 1.0.0\n"),
        "{metadata}"
    );
    assert!(read("demo_plugin-1.0.0.dist-info/WHEEL").contains("Tag: py3-none-any\n"));
    let record = read("demo_plugin-1.0.0.dist-info/RECORD");
    let plugin_json = br#"{"name":"demo"}"#;
    let digest =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(plugin_json));
    assert!(record.contains(&format!(
        "demo_plugin/.claude-plugin/plugin.json,sha256={digest},15\n"
    )));
    assert!(record.ends_with("demo_plugin-1.0.0.dist-info/RECORD,,\n"));
}

#[test]
fn zip_builder_keeps_malicious_names_links_and_modes() {
    let bytes = zip(&[
        ZipEntry::dir("p", 0o755),
        ZipEntry::file("p/ok.txt", b"ok", 0o644),
        ZipEntry::file("p/setuid", b"x", 0o4755),
        ZipEntry::file("../evil.txt", b"evil", 0o644),
        ZipEntry::file("/abs.txt", b"abs", 0o644),
        ZipEntry::symlink("p/link", "../../etc/passwd"),
    ]);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let names: Vec<String> = z
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "p/",
            "p/ok.txt",
            "p/setuid",
            "../evil.txt",
            "/abs.txt",
            "p/link"
        ]
    );
    assert_eq!(z.by_name("p/").unwrap().unix_mode(), Some(0o040755));
    // All 12 permission bits are stored (the zip crate's unix_mode() clears the special ones).
    let setuid = z.by_name("p/setuid").unwrap();
    assert_eq!(setuid.external_attributes() >> 16, 0o104755);
    assert_eq!(setuid.unix_mode(), Some(0o100755));
    drop(setuid);
    assert!(z.by_name("../evil.txt").unwrap().enclosed_name().is_none());
    let mut link = z.by_name("p/link").unwrap();
    assert_eq!(link.unix_mode(), Some(0o120777));
    let mut target = String::new();
    link.read_to_string(&mut target).unwrap();
    assert_eq!(target, "../../etc/passwd");
}

#[test]
fn archive_files_and_redirects() {
    let reg = Registry::start();
    let bytes = zip(&[ZipEntry::file(
        ".claude-plugin/plugin.json",
        br#"{"name":"a"}"#,
        0o644,
    )]);
    reg.add_file("/dl/plugin.zip", bytes.clone());
    reg.redirect("/latest.zip", &reg.url("dl/plugin.zip"));
    let r = get(&reg, "/latest.zip", &[]);
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some(reg.url("dl/plugin.zip").as_str())
    );
    let r = get(&reg, "/dl/plugin.zip", &[]);
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/zip"))
    );
    assert_eq!(r.body, bytes);
    assert_eq!(get(&reg, "/dl/missing.zip", &[]).status, 404);

    // A real client follows the redirect to the bytes (curl, a Linux program: wine's Windows
    // processes cannot start it).
    if !cfg!(unix) {
        return;
    }
    let out = Command::new("curl")
        .args(["-sSfL", &reg.url("latest.zip")])
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, bytes);
    let lines = reg.request_lines();
    assert_eq!(
        lines[lines.len() - 2..],
        ["GET /latest.zip", "GET /dl/plugin.zip"]
    );
}

#[test]
fn stops_on_drop() {
    let reg = Registry::start();
    let addr = reg.addr();
    let mut idle = connect(addr); // an idle keep-alive connection must not block the drop
    send(&mut idle, "GET", "/x", &[], false);
    assert_eq!(receive(&mut idle, false).unwrap().status, 404);
    drop(reg);
    // The idle connection was shut (EOF, not a timeout), and the port no longer answers.
    let mut rest = Vec::new();
    assert_eq!(idle.read_to_end(&mut rest).expect("EOF, not a timeout"), 0);
    assert!(TcpStream::connect(addr).is_err());
}
