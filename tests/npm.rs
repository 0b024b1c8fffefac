//! npm sources against a loopback registry that speaks the npm protocol (tests/common/registry.rs):
//! resolution, integrity, safe extraction, tokens, retries, the download cache. No npm or node
//! is on PATH.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::PathBuf;

use common::registry::{Hits, Registry, TarEntry, tgz};
use common::*;
use serde_json::{Value, json};

/// A marketplace `mn` listing `entries` (JSON array), added.
fn market(env: &Env, entries: Value) {
    env.add_marketplace("mn", &entries);
}

/// Run with an empty PATH (no npm, node, git) and no npm configuration from the environment.
fn run(env: &Env, args: &[&str]) -> Run {
    Run::from(
        env.command_without_tools(args)
            .env_remove("npm_config_registry")
            .output()
            .expect("run plugin"),
    )
}

fn plugin_files(name: &str) -> Vec<(String, Vec<u8>, u32)> {
    vec![
        (
            ".claude-plugin/plugin.json".into(),
            json!({"name": name}).to_string().into_bytes(),
            0o644,
        ),
        ("commands/hi.md".into(), b"# hi\n".to_vec(), 0o644),
        ("bin/tool".into(), b"#!/bin/sh\n".to_vec(), 0o755),
    ]
}

fn publish(reg: &Registry, name: &str, version: &str) {
    let files = plugin_files(name);
    let refs: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(p, d, m)| (p.as_str(), d.as_slice(), *m))
        .collect();
    reg.add_npm(name, version, &refs);
}

#[test]
fn versions_ranges_tags_and_scoped_packages() {
    let env = Env::new();
    let reg = Registry::start();
    for v in ["1.0.0", "1.2.0", "2.0.0", "2.1.0", "3.0.0-beta.1"] {
        publish(&reg, "demo", v);
    }
    reg.set_dist_tag("demo", "next", "3.0.0-beta.1");
    publish(&reg, "@acme/tool", "0.4.2");
    let r = reg.base_url();
    market(
        &env,
        json!([
            {"name": "latest", "source": {"source": "npm", "package": "demo", "registry": r}},
            {"name": "caret", "source": {"source": "npm", "package": "demo", "version": "^1.0.0", "registry": r}},
            {"name": "exact", "source": {"source": "npm", "package": "demo", "version": "2.0.0", "registry": r}},
            {"name": "or", "source": {"source": "npm", "package": "demo", "version": "1.x || >=2.1.0 <3", "registry": r}},
            {"name": "tag", "source": {"source": "npm", "package": "demo", "version": "next", "registry": r}},
            {"name": "scoped", "source": {"source": "npm", "package": "@acme/tool", "registry": r}},
            {"name": "entryv", "source": {"source": "npm", "package": "demo", "registry": r}, "version": "9.9.9"},
            {"name": "none", "source": {"source": "npm", "package": "demo", "version": "^7", "registry": r}},
            {"name": "missing", "source": {"source": "npm", "package": "nope", "registry": r}},
        ]),
    );
    for (id, version) in [
        ("latest", "2.1.0"),
        ("caret", "1.2.0"),
        ("exact", "2.0.0"),
        ("or", "2.1.0"),
        ("tag", "3.0.0-beta.1"),
        ("scoped", "0.4.2"),
        ("entryv", "9.9.9"),
    ] {
        run(&env, &["install", &format!("{id}@mn")]).ok();
        assert_eq!(
            env.first_record(&format!("{id}@mn"))["version"],
            version,
            "{id}"
        );
    }
    let dir = PathBuf::from(
        env.first_record("caret@mn")["installPath"]
            .as_str()
            .unwrap(),
    );
    let (_, _, _, exec_mode) = env.default_modes();
    assert_eq!(
        fs::read_to_string(dir.join("commands/hi.md")).unwrap(),
        "# hi\n"
    );
    let pkg: Value = env.read_json(&dir.join("package.json"));
    assert_eq!(pkg["version"], "1.2.0");
    assert_eq!(mode(&dir.join("bin/tool")) & 0o777, exec_mode);
    // Abbreviated packuments were asked for.
    assert!(reg.requests().iter().any(|(line, headers)| {
        line.starts_with("GET /demo")
            && headers
                .iter()
                .any(|(k, v)| k == "accept" && v.contains("application/vnd.npm.install-v1+json"))
    }));

    let out = run(&env, &["install", "none@mn", "--json"]).fails().json();
    let msg = out["message"].as_str().unwrap();
    assert!(
        msg.contains("has no version matching \"^7\"") && msg.contains("2.1.0"),
        "{msg}"
    );
    assert_eq!(out["failureCode"], "error_not_found");
    let out = run(&env, &["install", "missing@mn", "--json"])
        .fails()
        .json();
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("npm package nope was not found"),
        "{out}"
    );
}

#[test]
fn integrity_is_checked_and_a_mismatch_installs_nothing() {
    let env = Env::new();
    let reg = Registry::start();
    publish(&reg, "good", "1.0.0");
    publish(&reg, "bad", "1.0.0");
    reg.corrupt_integrity("bad", "1.0.0");
    publish(&reg, "legacy", "1.0.0");
    reg.drop_integrity("legacy", "1.0.0");
    let r = reg.base_url();
    market(
        &env,
        json!([
            {"name": "good", "source": {"source": "npm", "package": "good", "registry": r}},
            {"name": "bad", "source": {"source": "npm", "package": "bad", "registry": r}},
            {"name": "legacy", "source": {"source": "npm", "package": "legacy", "registry": r}},
        ]),
    );
    let before = tree(&env.home);
    let out = run(&env, &["install", "bad@mn", "--json"]).fails().json();
    let msg = out["message"].as_str().unwrap();
    assert!(
        msg.contains("integrity check failed") && msg.contains("nothing was installed"),
        "{msg}"
    );
    let after = tree(&env.home);
    // The packument is kept for revalidation (it is only reused after a 304); the tarball
    // that failed its check is not kept.
    let new: Vec<_> = after
        .iter()
        .filter(|l| !before.contains(l) && !l.starts_with("d ") && !l.contains("/meta-v1/"))
        .collect();
    assert!(new.is_empty(), "a failed verification wrote {new:?}");
    // Without integrity, the sha1 shasum is checked.
    run(&env, &["install", "legacy@mn"]).ok();
    // The completion marker records the exact release and the digest that was checked.
    let marker = |id: &str| -> Value {
        let dir = PathBuf::from(env.first_record(id)["installPath"].as_str().unwrap());
        env.read_json(&dir.join(".plugin-ok"))
    };
    let legacy = marker("legacy@mn");
    assert_eq!(legacy["resolved"]["kind"], "npm");
    assert_eq!(legacy["resolved"]["what"], "legacy@1.0.0");
    assert!(
        legacy["resolved"]["integrity"]
            .as_str()
            .is_some_and(|s| s.starts_with("sha1:") && s.len() == 45),
        "{legacy}"
    );
    // The verified tarball is cached by digest: installing it again downloads nothing.
    run(&env, &["install", "good@mn"]).ok();
    assert_eq!(
        marker("good@mn")["resolved"]["integrity"],
        reg.npm_integrity("good", "1.0.0")
    );
    run(&env, &["uninstall", "good@mn"]).ok();
    reg.clear_requests();
    run(&env, &["install", "good@mn"]).ok();
    assert!(
        reg.request_lines().iter().all(|l| !l.contains(".tgz")),
        "{:?}",
        reg.request_lines()
    );
}

#[test]
fn unsafe_tarballs_are_refused_and_links_skipped() {
    let env = Env::new();
    let reg = Registry::start();
    let manifest = json!({"name": "x", "version": "1.0.0"}).to_string();
    reg.add_npm_raw_tarball(
        "climb",
        "1.0.0",
        tgz(&[
            TarEntry::file("package/package.json", manifest.as_bytes(), 0o644),
            TarEntry::file("package/../../evil.txt", b"evil", 0o644),
        ]),
    );
    reg.add_npm_raw_tarball(
        "abs",
        "1.0.0",
        tgz(&[
            TarEntry::file("package/package.json", manifest.as_bytes(), 0o644),
            TarEntry::file("/tmp/evil-abs.txt", b"evil", 0o644),
        ]),
    );
    reg.add_npm_raw_tarball(
        "links",
        "1.0.0",
        tgz(&[
            TarEntry::file("package/package.json", manifest.as_bytes(), 0o644),
            TarEntry::file("package/real.md", b"real", 0o644),
            TarEntry::symlink("package/out", "/etc/passwd"),
            TarEntry::hardlink("package/hard", "package/real.md"),
            TarEntry::file("package/.orphaned_at", b"1", 0o644),
        ]),
    );
    let r = reg.base_url();
    market(
        &env,
        json!([
            {"name": "climb", "source": {"source": "npm", "package": "climb", "registry": r}},
            {"name": "abs", "source": {"source": "npm", "package": "abs", "registry": r}},
            {"name": "links", "source": {"source": "npm", "package": "links", "registry": r}},
        ]),
    );
    for id in ["climb@mn", "abs@mn"] {
        let out = run(&env, &["install", id, "--json"]).fails().json();
        assert!(
            out["message"].as_str().unwrap().contains("unsafe entry"),
            "{id}: {out}"
        );
        assert!(!env.fx.join("evil.txt").exists() && !env.plugins().join("evil.txt").exists());
        assert!(
            !env.plugins().join("cache/mn").exists(),
            "{id} left a folder"
        );
    }
    let out = run(&env, &["install", "links@mn"]).ok();
    let dir = PathBuf::from(
        env.first_record("links@mn")["installPath"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(fs::read_to_string(dir.join("real.md")).unwrap(), "real");
    for gone in ["out", "hard", ".orphaned_at"] {
        assert!(
            fs::symlink_metadata(dir.join(gone)).is_err(),
            "{gone} should not be written"
        );
    }
    assert!(
        out.stderr
            .contains("warning: skipped symlink out -> /etc/passwd"),
        "{}",
        out.stderr
    );
}

#[test]
fn tokens_go_only_to_their_registry_and_retries_ride_out_a_500() {
    let env = Env::new();
    let reg = Registry::start();
    publish(&reg, "private", "1.0.0");
    reg.require_token("s3cret");
    let other = Registry::start();
    publish(&other, "public", "1.0.0");
    // The token is configured for the private registry's host and path only.
    let host = reg.base_url().trim_start_matches("http:").to_string();
    fs::write(
        env.cwd.join(".npmrc"),
        format!("{host}/:_authToken=${{TEST_NPM_TOKEN}}\n"),
    )
    .unwrap();
    market(
        &env,
        json!([
            {"name": "private", "source": {"source": "npm", "package": "private", "registry": reg.base_url()}},
            {"name": "public", "source": {"source": "npm", "package": "public", "registry": other.base_url()}},
        ]),
    );
    // Over plain http a configured token is never sent: the install is refused instead.
    let out = Run::from(
        env.command(&["install", "private@mn", "--json"])
            .env("TEST_NPM_TOKEN", "s3cret")
            .output()
            .unwrap(),
    )
    .fails()
    .json();
    assert!(
        out["message"].as_str().unwrap().contains("is unencrypted"),
        "{out}"
    );
    assert!(
        reg.requests().is_empty(),
        "nothing may reach a registry before that check"
    );
    // The other registry gets no Authorization header.
    other.fail_next("/public", 500, 1);
    Run::from(
        env.command(&["install", "public@mn"])
            .env("TEST_NPM_TOKEN", "s3cret")
            .output()
            .unwrap(),
    )
    .ok();
    let requests = other.requests();
    assert!(requests.len() >= 3, "a 500 was retried: {requests:?}");
    assert!(
        requests
            .iter()
            .all(|(_, h)| h.iter().all(|(k, _)| k != "authorization")),
        "{requests:?}"
    );
    // Without a token, the 401 says which .npmrc line would grant access.
    fs::remove_file(env.cwd.join(".npmrc")).unwrap();
    let out = run(&env, &["install", "private@mn", "--json"])
        .fails()
        .json();
    assert_eq!(
        out["message"],
        format!(
            "{}/private answered 401 (access denied) for npm package private: no token is configured for it; add \"{host}/:_authToken=${{NPM_TOKEN}}\" to ~/.npmrc or the project's .npmrc and set NPM_TOKEN",
            reg.base_url()
        ),
        "{out}"
    );
}

#[test]
fn node_dependencies_come_from_the_lockfile_without_npm() {
    let env = Env::new();
    let reg = Registry::start();
    reg.add_npm("dep-a", "1.0.0", &[("index.js", b"a", 0o644)]);
    reg.add_npm("dep-b", "2.0.0", &[("index.js", b"b", 0o644)]);
    reg.add_npm("dev-only", "1.0.0", &[("index.js", b"d", 0o644)]);
    let locked = |name: &str, v: &str| json!({"version": v, "resolved": reg.npm_tarball_url(name, v), "integrity": reg.npm_integrity(name, v)});
    let mut dev = locked("dev-only", "1.0.0");
    dev["dev"] = json!(true);
    let lock = json!({
        "name": "withdeps", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "withdeps", "version": "1.0.0", "dependencies": {"dep-a": "^1.0.0"}},
            "node_modules/dep-a": locked("dep-a", "1.0.0"),
            "node_modules/dep-a/node_modules/dep-b": locked("dep-b", "2.0.0"),
            "node_modules/dev-only": dev
        }
    });
    let manifest = json!({"name": "withdeps", "version": "1.0.0", "dependencies": {"dep-a": "^1.0.0"}, "scripts": {"postinstall": "touch /tmp/pwned-by-plugin-test"}});
    reg.add_npm(
        "withdeps",
        "1.0.0",
        &[
            ("package.json", manifest.to_string().as_bytes(), 0o644),
            ("npm-shrinkwrap.json", lock.to_string().as_bytes(), 0o644),
            (
                ".claude-plugin/plugin.json",
                br#"{"name":"withdeps"}"#,
                0o644,
            ),
        ],
    );
    let nolock = json!({"name": "nolock", "version": "1.0.0", "dependencies": {"dep-a": "^1.0.0"}});
    reg.add_npm(
        "nolock",
        "1.0.0",
        &[("package.json", nolock.to_string().as_bytes(), 0o644)],
    );
    let r = reg.base_url();
    market(
        &env,
        json!([
            {"name": "withdeps", "source": {"source": "npm", "package": "withdeps", "registry": r}},
            {"name": "nolock", "source": {"source": "npm", "package": "nolock", "registry": r}},
        ]),
    );
    run(&env, &["install", "withdeps@mn"]).ok();
    let dir = PathBuf::from(
        env.first_record("withdeps@mn")["installPath"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        fs::read_to_string(dir.join("node_modules/dep-a/index.js")).unwrap(),
        "a"
    );
    assert_eq!(
        fs::read_to_string(dir.join("node_modules/dep-a/node_modules/dep-b/index.js")).unwrap(),
        "b"
    );
    assert!(
        !dir.join("node_modules/dev-only").exists(),
        "dev dependencies are left out"
    );
    assert!(
        !std::path::Path::new("/tmp/pwned-by-plugin-test").exists(),
        "no script may run"
    );
    let out = run(&env, &["install", "nolock@mn"]).ok();
    assert!(
        out.stderr
            .contains("note: nolock declares dependencies but ships no lockfile"),
        "{}",
        out.stderr
    );
    let dir = PathBuf::from(
        env.first_record("nolock@mn")["installPath"]
            .as_str()
            .unwrap(),
    );
    assert!(!dir.join("node_modules").exists());
}

#[test]
fn exact_versions_download_alongside_the_packument_and_are_remembered() {
    let env = Env::new();
    let reg = Registry::start();
    publish(&reg, "demo", "1.0.0");
    publish(&reg, "demo", "1.1.0");
    publish(&reg, "moved", "1.0.0");
    reg.move_tarball("moved", "1.0.0", "/store/moved.tgz");
    publish(&reg, "bad", "1.0.0");
    reg.corrupt_integrity("bad", "1.0.0");
    let r = reg.base_url();
    market(
        &env,
        json!([
            {"name": "exact", "source": {"source": "npm", "package": "demo", "version": "1.0.0", "registry": r}},
            {"name": "moved", "source": {"source": "npm", "package": "moved", "version": "1.0.0", "registry": r}},
            {"name": "bad", "source": {"source": "npm", "package": "bad", "version": "1.0.0", "registry": r}},
        ]),
    );
    let downloads = env.user_cache().join("plugin/downloads-v1");
    let leftovers = || -> Vec<String> {
        fs::read_dir(&downloads)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp"))
            .collect()
    };
    // Cold: the packument and the tarball, each asked for once.
    run(&env, &["install", "exact@mn"]).ok();
    assert_eq!(env.first_record("exact@mn")["version"], "1.0.0");
    let mut lines = reg.request_lines();
    lines.sort();
    assert_eq!(
        lines,
        ["GET /demo", "GET /demo/-/demo-1.0.0.tgz"],
        "{lines:?}"
    );
    // Again, after uninstalling: an exact version never changes, so no request at all.
    run(&env, &["uninstall", "exact@mn"]).ok();
    reg.clear_requests();
    run(&env, &["install", "exact@mn"]).ok();
    assert_eq!(reg.request_lines(), Vec::<String>::new());
    // A registry that keeps tarballs elsewhere: the guess is dropped, the real one fetched.
    reg.clear_requests();
    run(&env, &["install", "moved@mn"]).ok();
    assert!(
        reg.request_lines()
            .contains(&"GET /store/moved.tgz".to_string()),
        "{:?}",
        reg.request_lines()
    );
    let dir = PathBuf::from(
        env.first_record("moved@mn")["installPath"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        fs::read_to_string(dir.join("commands/hi.md")).unwrap(),
        "# hi\n"
    );
    // A tarball that does not match its integrity is refused on this path too.
    let out = run(&env, &["install", "bad@mn", "--json"]).fails().json();
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("integrity check failed"),
        "{out}"
    );
    assert!(leftovers().is_empty(), "{:?}", leftovers());
}

#[test]
fn unreachable_and_non_tls_registries_fail_clearly() {
    let env = Env::new();
    let reg = Registry::start();
    publish(&reg, "demo", "1.0.0");
    // A port nobody listens on, and an https:// address served by a plain-HTTP server.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tls = reg.base_url().replace("http://", "https://");
    market(
        &env,
        json!([
            {"name": "down", "source": {"source": "npm", "package": "demo", "registry": format!("http://127.0.0.1:{closed}/")}},
            {"name": "tls", "source": {"source": "npm", "package": "demo", "registry": tls}},
        ]),
    );
    let before = tree(&env.home);
    // The plain server waits for a request that never comes, so the TLS handshake times out
    // (and is not retried: that would cost the whole limit again each time).
    let tls_msg = format!(
        "{}/demo did not answer within 2 s; check the address and your network connection, or raise CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS (milliseconds)",
        reg.base_url().replace("http://", "https://")
    );
    let cases = [
        (
            "down@mn",
            format!(
                "cannot reach 127.0.0.1:{closed}: connection refused; check the address and your network connection\n  cause: Could not connect to http://127.0.0.1:{closed}/demo"
            ),
        ),
        ("tls@mn", tls_msg),
    ];
    for (id, needle) in cases {
        let out = Run::from(
            env.command(&["install", id, "--json"])
                .env("CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS", "2000")
                .output()
                .unwrap(),
        )
        .fails()
        .json();
        let msg = out["message"].as_str().unwrap();
        assert!(msg.contains(&needle), "{id}: {msg}");
        assert_eq!(out["failureCode"], "error_network", "{out}");
    }
    assert_eq!(
        tree(&env.home),
        before,
        "a failed fetch changed something on disk"
    );
}

/// Issue 5: an update that finds nothing new costs one packument request, answered `304`.
#[test]
fn r5_ranges_revalidate_the_packument_with_its_etag() {
    let env = Env::new();
    let reg = Registry::start();
    publish(&reg, "demo", "1.0.0");
    let r = reg.base_url();
    market(
        &env,
        json!([{"name": "caret", "source": {"source": "npm", "package": "demo", "version": "^1.0.0", "registry": r}}]),
    );
    let meta = env.user_cache().join("plugin/downloads-v1/meta-v1");
    // Reinstall, then say what reached the registry: each packument request and whether it
    // was conditional.
    let reinstall = || -> Vec<(String, bool)> {
        let _ = run(&env, &["uninstall", "caret@mn"]);
        reg.clear_requests();
        run(&env, &["install", "caret@mn"]).ok();
        let conditional = |h: &[(String, String)]| h.iter().any(|(k, _)| k == "if-none-match");
        let sent = reg.requests().into_iter();
        sent.map(|(line, h)| (line, conditional(&h))).collect()
    };
    let version = || env.first_record("caret@mn")["version"].clone();
    let unconditional = |lines: &[&str]| -> Vec<(String, bool)> {
        lines.iter().map(|l| (l.to_string(), false)).collect()
    };

    assert_eq!(
        reinstall(),
        unconditional(&["GET /demo", "GET /demo/-/demo-1.0.0.tgz"])
    );
    // Nothing new: one conditional request, answered 304; the tarball comes from the cache.
    assert_eq!(reinstall(), [("GET /demo".to_string(), true)]);
    let counted = Hits {
        requests: 1,
        not_modified: 1,
    };
    assert_eq!((reg.hits("/demo"), version()), (counted, json!("1.0.0")));
    // A release in between changes the ETag: 200, and the range sees it.
    publish(&reg, "demo", "1.1.0");
    let sent = reinstall();
    assert_eq!(sent[0], ("GET /demo".to_string(), true));
    assert_eq!(reg.hits("/demo").not_modified, 0);
    assert_eq!(version(), "1.1.0");
    // A damaged stored body is ignored: the packument is fetched whole, unconditionally.
    for f in fs::read_dir(&meta).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "body") {
            let len = fs::metadata(&f).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(&f)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }
    }
    assert_eq!(reinstall(), unconditional(&["GET /demo"]));
    assert_eq!(version(), "1.1.0");
    assert_eq!(reinstall(), [("GET /demo".to_string(), true)]);
    // A registry without validators: the stored copy is forgotten, and nothing is conditional.
    reg.send_etags(false);
    reinstall();
    assert_eq!(fs::read_dir(&meta).unwrap().count(), 0);
    assert_eq!(reinstall(), unconditional(&["GET /demo"]));
    assert_eq!(version(), "1.1.0");
}

/// A project's `.npmrc` comes with its repository: one that is a FIFO is not read (opening it
/// would block the install for ever); the install goes ahead without it.
// FIFOs in folders are Unix's (and mkfifo a Linux program, which wine cannot start).
#[cfg(unix)]
#[test]
fn a_project_npmrc_that_is_a_fifo_does_not_hang_an_install() {
    use std::process::Stdio;
    let env = Env::new();
    let reg = Registry::start();
    publish(&reg, "demo", "1.0.0");
    market(
        &env,
        json!([{"name": "demo", "source": {"source": "npm", "package": "demo", "registry": reg.base_url()}}]),
    );
    let made = std::process::Command::new("mkfifo")
        .arg(env.cwd.join(".npmrc"))
        .status()
        .unwrap();
    assert!(made.success());
    let mut child = env
        .command_without_tools(&["install", "demo@mn"])
        .env_remove("npm_config_registry")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("plugin install hung on the .npmrc FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let r = Run::from(child.wait_with_output().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.plugins().join("cache/mn/demo/1.0.0").is_dir());
}
