// Needs the loopback git server (Python, git http-backend): Windows test processes cannot
// start Linux programs under wine, so this file runs on Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! Smoke tests of the harness's smart-HTTP git server (`tests/common/githttp.rs`), driven by the
//! git CLI: clone (full and shallow over protocol v2), ls-remote, fetch of a non-tip sha, gzip and
//! chunked request bodies, keep-alive, auth, and a clean stop on drop.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::githttp::{GitServer, WorkRepo, git, git_command};

/// Commits of the fixture, oldest first.
struct Fixture {
    c1: String, // tag v1 (lightweight)
    c2: String, // no ref points here
    c3: String, // branch dev, annotated tag v3
    c4: String, // main
}

/// `work` -> bare `<root>/git/repo.git`.
fn fixture(work: &Path, root: &Path) -> Fixture {
    let w = WorkRepo::init(work);
    w.write("README.md", "one\n");
    let c1 = w.commit("c1");
    w.tag("v1");
    w.write("bin/tool.sh", "#!/bin/sh\necho hi\n");
    w.chmod("bin/tool.sh", 0o755);
    let c2 = w.commit("c2");
    w.symlink("docs/link.md", "../README.md");
    let c3 = w.commit("c3");
    w.branch("dev");
    w.tag_annotated("v3", "release 3");
    w.write("README.md", "four\n");
    let c4 = w.commit("c4");
    w.publish(&root.join("git/repo.git"));
    Fixture { c1, c2, c3, c4 }
}

fn setup() -> (tempfile::TempDir, PathBuf, Fixture, GitServer) {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let fx = fixture(&t.join("work"), &t.join("srv"));
    let server = GitServer::start(&t.join("srv"));
    (tmp, t, fx, server)
}

#[test]
fn fixtures_are_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let a = fixture(&tmp.path().join("a"), &tmp.path().join("ra"));
    let b = fixture(&tmp.path().join("b"), &tmp.path().join("rb"));
    assert_eq!(
        [a.c1, a.c2, a.c3, a.c4].concat(),
        [b.c1, b.c2, b.c3, b.c4].concat()
    );
}

#[test]
fn clone_full() {
    let (_tmp, t, fx, server) = setup();
    let url = server.url("git/repo.git");
    git(&t, &["clone", "-q", &url, "c"]);
    let c = t.join("c");
    assert_eq!(git(&c, &["rev-parse", "HEAD"]), fx.c4);
    assert_eq!(fs::read_to_string(c.join("README.md")).unwrap(), "four\n");
    let mode = fs::metadata(c.join("bin/tool.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "executable bit survives");
    assert_eq!(
        fs::read_link(c.join("docs/link.md")).unwrap(),
        Path::new("../README.md")
    );
    assert_eq!(git(&c, &["rev-list", "--count", "HEAD"]), "4");
    assert_eq!(
        git(&c, &["rev-parse", "v1^{commit}", "v3^{commit}"]),
        format!("{}\n{}", fx.c1, fx.c3)
    );
    let reqs = server.requests();
    assert_eq!(
        reqs[0],
        "GET /git/repo.git/info/refs?service=git-upload-pack"
    );
    assert!(
        reqs.contains(&"POST /git/repo.git/git-upload-pack".to_string()),
        "{reqs:?}"
    );
}

#[test]
fn clone_shallow_over_protocol_v2() {
    let (_tmp, t, fx, server) = setup();
    let out = git_command(&t)
        .args(["-c", "protocol.version=2", "clone", "-q", "--depth", "1"])
        .args([&server.url("git/repo.git"), "s"])
        .env("GIT_TRACE_PACKET", "1")
        .output()
        .unwrap();
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{trace}");
    assert!(trace.contains("git< version 2"), "server spoke v2: {trace}");
    let s = t.join("s");
    assert_eq!(git(&s, &["rev-parse", "--is-shallow-repository"]), "true");
    assert_eq!(git(&s, &["rev-list", "--count", "HEAD"]), "1");
    assert_eq!(git(&s, &["rev-parse", "HEAD"]), fx.c4);
    // v2: ls-refs and fetch are both POSTs after the capability advertisement.
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.starts_with("POST "))
        .count();
    assert!(posts >= 2, "{:?}", server.requests());
}

#[test]
fn ls_remote_lists_refs() {
    let (_tmp, t, fx, server) = setup();
    let out = git(&t, &["ls-remote", &server.url("git/repo.git")]);
    let tag_obj = git(&t.join("srv/git/repo.git"), &["rev-parse", "v3"]);
    let want = [
        format!("{}\tHEAD", fx.c4),
        format!("{}\trefs/heads/dev", fx.c3),
        format!("{}\trefs/heads/main", fx.c4),
        format!("{}\trefs/tags/v1", fx.c1),
        format!("{tag_obj}\trefs/tags/v3"),
        format!("{}\trefs/tags/v3^{{}}", fx.c3),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
}

#[test]
fn fetch_non_tip_sha_v0_and_v2() {
    let (_tmp, t, fx, server) = setup();
    let url = server.url("git/repo.git");
    for v in ["0", "2"] {
        let e = t.join(format!("empty{v}"));
        fs::create_dir(&e).unwrap();
        git(&e, &["init", "-q"]);
        let pv = format!("protocol.version={v}");
        git(&e, &["-c", &pv, "fetch", "-q", &url, &fx.c2]);
        assert_eq!(git(&e, &["rev-parse", "FETCH_HEAD"]), fx.c2);
        assert_eq!(git(&e, &["cat-file", "-t", &fx.c2]), "commit");
    }
}

/// 60 refs, each on its own commit: a fetch of them sends more than 1 KiB of wants, which git
/// gzips; with `http.postBuffer` at its minimum (64 KiB) git counts any request as too large for
/// the buffer and sends it chunked (after a small `0000` probe request).
#[test]
fn gzip_and_chunked_request_bodies() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let bare = t.join("srv/many.git");
    fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    let mut stream = String::new();
    for i in 0..60 {
        let msg = format!("c{i}\n");
        stream += &format!("commit refs/tags/t{i}\ncommitter p <p@x> 1767225600 +0000\n");
        stream += &format!("data {}\n{msg}\n", msg.len());
    }
    let mut fi = git_command(&bare)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    fi.stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(fi.wait().unwrap().success());
    let server = GitServer::start(&t.join("srv"));
    for (buffer, header) in [
        ("1048576", "Content-Encoding: gzip"),
        ("65536", "Transfer-Encoding: chunked"),
    ] {
        let e = t.join(buffer);
        fs::create_dir(&e).unwrap();
        git(&e, &["init", "-q"]);
        let out = git_command(&e)
            .args(["-c", &format!("http.postBuffer={buffer}"), "fetch", "-q"])
            .args([&server.url("many.git"), "refs/tags/*:refs/tags/*"])
            .env("GIT_TRACE_CURL", "1")
            .env("GIT_TRACE_CURL_NO_DATA", "1")
            .output()
            .unwrap();
        let trace = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{header}: {trace}");
        let sent = format!("Send header: {header}");
        assert!(trace.contains(&sent), "expected {sent:?} in {trace}");
        assert_eq!(git(&e, &["tag", "-l"]).lines().count(), 60);
    }
}

/// Reads one response (headers + Content-Length body) from a raw connection.
fn read_response(rd: &mut impl BufRead) -> (String, Vec<u8>) {
    let mut status = String::new();
    rd.read_line(&mut status).unwrap();
    let mut len = 0;
    loop {
        let mut h = String::new();
        rd.read_line(&mut h).unwrap();
        if h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    rd.read_exact(&mut body).unwrap();
    (status.trim().to_string(), body)
}

#[test]
fn keep_alive_and_chunked_raw() {
    let (_tmp, _t, _fx, server) = setup();
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let adv = "GET /git/repo.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: x\r\n\r\n";
    // A v0 upload-pack request with no wants, chunked: the server just answers (empty pack).
    let post = "POST /git/repo.git/git-upload-pack HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/x-git-upload-pack-request\r\nTransfer-Encoding: chunked\r\n\r\n\
        4\r\n0000\r\n0\r\n\r\n";
    let missing = "GET /nope.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: x\r\n\r\n";
    write!(s, "{adv}{post}{missing}{adv}").unwrap(); // pipelined on one connection
    let mut rd = BufReader::new(s);
    let (st, body) = read_response(&mut rd);
    assert_eq!(st, "HTTP/1.1 200 OK");
    assert!(String::from_utf8_lossy(&body).contains("# service=git-upload-pack"));
    let (st, _) = read_response(&mut rd);
    assert_eq!(st, "HTTP/1.1 200 OK");
    let (st, _) = read_response(&mut rd);
    assert!(st.starts_with("HTTP/1.1 404"), "{st}");
    let (st, _) = read_response(&mut rd);
    assert_eq!(st, "HTTP/1.1 200 OK");
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn auth_token_required() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().canonicalize().unwrap();
    let fx = fixture(&t.join("work"), &t.join("srv"));
    let server = GitServer::start_with_auth(&t.join("srv"), "s3cret");
    let url = server.url("git/repo.git");
    let denied = git_command(&t).args(["ls-remote", &url]).output().unwrap();
    assert!(!denied.status.success());
    assert_eq!(server.requests().len(), 1);
    let bearer = "http.extraHeader=Authorization: Bearer s3cret";
    let out = git(&t, &["-c", bearer, "ls-remote", &url, "refs/heads/main"]);
    assert!(out.starts_with(&fx.c4), "{out}");
    let basic = url.replace("http://", "http://anyone:s3cret@");
    git(&t, &["clone", "-q", &basic, "b"]);
    assert_eq!(git(&t.join("b"), &["rev-parse", "HEAD"]), fx.c4);
}

/// Processes that are children of this test process and were started for `root`.
fn backends_for(root: &Path) -> usize {
    let me = std::process::id().to_string();
    let needle = format!("GIT_PROJECT_ROOT={}", root.display());
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let p = e.path();
            let stat = fs::read_to_string(p.join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...
            let ppid = stat
                .rsplit_once(") ")
                .and_then(|(_, r)| r.split(' ').nth(1));
            let env = fs::read(p.join("environ")).unwrap_or_default();
            ppid == Some(me.as_str()) && env.split(|&b| b == 0).any(|v| v == needle.as_bytes())
        })
        .count()
}

#[test]
fn drop_stops_server() {
    let (_tmp, t, _fx, server) = setup();
    git(&t, &["ls-remote", &server.url("git/repo.git")]);
    let addr = server.addr();
    // An idle keep-alive connection must not keep the server (or drop) alive.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Nor a client that stalls in the middle of a request body.
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled
        .write_all(
            b"POST /git/repo.git/git-upload-pack HTTP/1.1\r\nContent-Length: 100\r\n\r\n0000",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(100)); // let the server accept both
    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        started.elapsed()
    );
    let mut buf = [0; 1];
    assert!(
        matches!(idle.read(&mut buf), Ok(0) | Err(_)),
        "idle connection closed"
    );
    match TcpStream::connect(addr) {
        Err(_) => {} // refused: nobody listens any more
        Ok(mut s) => {
            // The port was reused by someone else in the meantime: our server must not answer.
            s.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let _ = s.write_all(b"GET /git/repo.git/info/refs HTTP/1.1\r\n\r\n");
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            assert!(!String::from_utf8_lossy(&out).contains("HTTP/1.1 200"));
        }
    }
    assert_eq!(backends_for(&t.join("srv")), 0);
}
