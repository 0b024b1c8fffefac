// Executable bits and links inside wheels and archives are what these check: Unix only.
#![cfg(unix)]
//! pip and archive sources against a loopback registry (PEP 691 / PEP 503 simple API, wheels,
//! zips). No pip or python is on PATH.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::PathBuf;

use common::registry::{Hits, Registry, ZipEntry, zip};
use common::*;
use serde_json::{Value, json};

fn market(env: &Env, entries: Value) {
    env.add_marketplace("mp", &entries);
}

/// No python/pip/git on PATH; loopback archives allowed (test-only switch).
fn run(env: &Env, args: &[&str]) -> Run {
    Run::from(
        env.command_without_tools(args)
            .env("PLUGIN_ALLOW_LOCAL_ARCHIVES", "1")
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_CONFIG_FILE")
            .output()
            .expect("run plugin"),
    )
}

fn install_path(env: &Env, id: &str) -> PathBuf {
    PathBuf::from(env.first_record(id)["installPath"].as_str().unwrap())
}

#[test]
fn wheels_resolve_verify_and_lay_out_the_plugin() {
    let env = Env::new();
    let reg = Registry::start();
    let pkg_files = |v: &str| -> Vec<(String, Vec<u8>, u32)> {
        vec![
            ("demo_plugin/__init__.py".into(), b"".to_vec(), 0o644),
            (
                "demo_plugin/.claude-plugin/plugin.json".into(),
                json!({"name": "demo"}).to_string().into_bytes(),
                0o644,
            ),
            (
                "demo_plugin/commands/hi.md".into(),
                format!("# {v}\n").into_bytes(),
                0o644,
            ),
            ("demo_plugin/bin/run".into(), b"#!/bin/sh\n".to_vec(), 0o755),
        ]
    };
    for v in ["1.0.0", "1.2.0", "2.0.0rc1"] {
        let files = pkg_files(v);
        let refs: Vec<(&str, &[u8], u32)> = files
            .iter()
            .map(|(p, d, m)| (p.as_str(), d.as_slice(), *m))
            .collect();
        reg.add_wheel(
            "Demo.Plugin",
            v,
            &format!("demo_plugin-{v}-py3-none-any.whl"),
            &refs,
        );
    }
    // A newer release that is yanked, one that is sdist-only, one with platform wheels only.
    let files = pkg_files("1.3.0");
    let refs: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(p, d, m)| (p.as_str(), d.as_slice(), *m))
        .collect();
    reg.add_wheel(
        "Demo.Plugin",
        "1.3.0",
        "demo_plugin-1.3.0-py3-none-any.whl",
        &refs,
    );
    reg.yank_pypi_file("demo_plugin-1.3.0-py3-none-any.whl", Some("broken"));
    reg.add_pypi_file_raw(
        "other",
        "0.1.0",
        "other-0.1.0.tar.gz",
        b"not really".to_vec(),
        false,
    );
    reg.add_pypi_file_raw(
        "native",
        "1.0.0",
        "native-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        zip(&[]),
        false,
    );
    let index = reg.url("simple/");
    market(
        &env,
        json!([
            {"name": "latest", "source": {"source": "pip", "package": "demo-plugin", "registry": index}},
            {"name": "spec", "source": {"source": "pip", "package": "demo_plugin", "version": ">=1.0,<1.2", "registry": index}},
            {"name": "pre", "source": {"source": "pip", "package": "demo-plugin", "version": ">=2.0.0rc1", "registry": index}},
            {"name": "sdist", "source": {"source": "pip", "package": "other", "registry": index}},
            {"name": "native", "source": {"source": "pip", "package": "native", "registry": index}},
            {"name": "missing", "source": {"source": "pip", "package": "nope", "registry": index}},
        ]),
    );
    run(&env, &["install", "latest@mp"]).ok();
    assert_eq!(
        env.first_record("latest@mp")["version"],
        "1.2.0",
        "yanked 1.3.0 and prerelease skipped"
    );
    let dir = install_path(&env, "latest@mp");
    assert_eq!(
        fs::read_to_string(dir.join("commands/hi.md")).unwrap(),
        "# 1.2.0\n"
    );
    assert!(dir.join(".claude-plugin/plugin.json").is_file() && !dir.join("demo_plugin").exists());
    assert!(!dir.join("demo_plugin-1.2.0.dist-info").exists());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(dir.join("bin/run"))
            .unwrap()
            .permissions()
            .mode()
            & 0o111,
        0o111
    );
    run(&env, &["install", "spec@mp"]).ok();
    assert_eq!(env.first_record("spec@mp")["version"], "1.0.0");
    run(&env, &["install", "pre@mp"]).ok();
    assert_eq!(env.first_record("pre@mp")["version"], "2.0.0rc1");
    for (id, needle) in [
        ("sdist@mp", "no pure-Python wheel"),
        ("native@mp", "manylinux"),
        ("missing@mp", "was not found on the index"),
    ] {
        let out = run(&env, &["install", id, "--json"]).fails().json();
        assert!(
            out["message"].as_str().unwrap().contains(needle),
            "{id}: {out}"
        );
    }
    // The JSON simple API was asked for.
    assert!(reg.requests().iter().any(|(_, h)| {
        h.iter()
            .any(|(k, v)| k == "accept" && v.contains("application/vnd.pypi.simple.v1+json"))
    }));
    // An index that wants credentials says where they go, without echoing any.
    reg.require_token("t");
    let out = run(&env, &["install", "missing@mp", "--json"])
        .fails()
        .json();
    let msg = out["message"].as_str().unwrap();
    assert!(
        msg.contains("answered 401 (access denied) for nope")
            && msg.contains("PIP_INDEX_URL or index-url in pip.conf"),
        "{out}"
    );
}

/// Issue 5: an unchanged project page costs one conditional request, answered `304`.
#[test]
fn r5_project_pages_revalidate_with_their_etag() {
    let env = Env::new();
    let reg = Registry::start();
    let publish = |v: &str| {
        let manifest = json!({"name": "demo"}).to_string();
        let files: [(&str, &[u8], u32); 1] = [(
            "demo_plugin/.claude-plugin/plugin.json",
            manifest.as_bytes(),
            0o644,
        )];
        let filename = format!("demo_plugin-{v}-py3-none-any.whl");
        reg.add_wheel("Demo.Plugin", v, &filename, &files);
    };
    publish("1.0.0");
    // Relative file URLs: after a 304 they resolve against the page's address all the same.
    reg.pypi_relative_urls(true);
    let index = reg.url("simple/");
    market(
        &env,
        json!([{"name": "demo", "source": {"source": "pip", "package": "Demo.Plugin", "version": ">=1.0", "registry": index}}]),
    );
    let page = "/simple/demo-plugin/";
    let reinstall = || -> (Hits, bool, Value) {
        let _ = run(&env, &["uninstall", "demo@mp"]);
        reg.clear_requests();
        run(&env, &["install", "demo@mp"]).ok();
        let conditional = reg.requests().iter().any(|(line, h)| {
            line == &format!("GET {page}") && h.iter().any(|(k, _)| k == "if-none-match")
        });
        let version = env.first_record("demo@mp")["version"].clone();
        (reg.hits(page), conditional, version)
    };
    let hits = |requests, not_modified| Hits {
        requests,
        not_modified,
    };
    assert_eq!(reinstall(), (hits(1, 0), false, json!("1.0.0")));
    // Nothing new: one 304 and no wheel download (cached by digest).
    assert_eq!(reinstall(), (hits(1, 1), true, json!("1.0.0")));
    assert_eq!(reg.request_lines(), [format!("GET {page}")]);
    // A release in between: the page changed, 200, and the specifier sees it.
    publish("1.1.0");
    assert_eq!(reinstall(), (hits(1, 0), true, json!("1.1.0")));
    // A damaged stored page is ignored and fetched whole.
    let meta = env.user_cache().join("plugin/downloads-v1/meta-v1");
    for f in fs::read_dir(&meta).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "body") {
            fs::write(&f, b"{\"files\": [").unwrap();
        }
    }
    assert_eq!(reinstall(), (hits(1, 0), false, json!("1.1.0")));
    // An index without validators: never conditional.
    reg.send_etags(false);
    reinstall();
    assert_eq!(reinstall(), (hits(1, 0), false, json!("1.1.0")));
}

#[test]
fn archives_are_verified_and_laid_out() {
    let env = Env::new();
    let reg = Registry::start();
    let plugin = zip(&[
        ZipEntry::file(
            "myplugin/.claude-plugin/plugin.json",
            br#"{"name":"z"}"#,
            0o644,
        ),
        ZipEntry::file("myplugin/commands/c.md", b"c", 0o644),
        ZipEntry::symlink("myplugin/link", "/etc/passwd"),
    ]);
    let skill = zip(&[ZipEntry::file("SKILL.md", b"---\nname: s\n---\n", 0o644)]);
    let qoder = zip(&[ZipEntry::file(
        ".qoder-plugin/plugin.json",
        br#"{"name":"q","version":"4.0.0"}"#,
        0o644,
    )]);
    let flat = zip(&[ZipEntry::file("README.md", b"no plugin here", 0o644)]);
    let evil = zip(&[ZipEntry::file("../escape.txt", b"x", 0o644)]);
    reg.add_file("/p.zip", plugin.clone());
    reg.add_file("/skill.zip", skill);
    reg.add_file("/qoder.zip", qoder);
    reg.add_file("/flat.zip", flat);
    reg.add_file("/evil.zip", evil);
    reg.redirect("/moved.zip", &reg.url("p.zip"));
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&plugin))
    };
    market(
        &env,
        json!([
            {"name": "pinned", "source": {"source": "archive", "url": reg.url("p.zip"), "sha256": sha}},
            {"name": "moved", "source": {"source": "archive", "url": reg.url("moved.zip")}},
            {"name": "skill", "source": {"source": "archive", "url": reg.url("skill.zip")}},
            {"name": "qoder", "source": {"source": "archive", "url": reg.url("qoder.zip")}},
            {"name": "wrongpin", "source": {"source": "archive", "url": reg.url("p.zip"), "sha256": "0".repeat(64)}},
            {"name": "flat", "source": {"source": "archive", "url": reg.url("flat.zip")}},
            {"name": "evil", "source": {"source": "archive", "url": reg.url("evil.zip")}},
        ]),
    );
    run(&env, &["install", "pinned@mp"]).ok();
    assert_eq!(env.first_record("pinned@mp")["version"], &sha[..12]);
    let dir = install_path(&env, "pinned@mp");
    let marker: Value = env.read_json(&dir.join(".plugin-ok"));
    assert_eq!(marker["resolved"]["kind"], "archive");
    assert_eq!(marker["resolved"]["integrity"], format!("sha256:{sha}"));
    assert_eq!(fs::read_to_string(dir.join("commands/c.md")).unwrap(), "c");
    assert!(fs::symlink_metadata(dir.join("link")).is_err());
    run(&env, &["install", "moved@mp"]).ok();
    run(&env, &["install", "skill@mp"]).ok();
    assert!(install_path(&env, "skill@mp").join("SKILL.md").is_file());
    run(&env, &["install", "qoder@mp"]).ok();
    assert_eq!(env.first_record("qoder@mp")["version"], "4.0.0");
    let out = run(&env, &["install", "wrongpin@mp", "--json"])
        .fails()
        .json();
    assert_eq!(
        out["message"],
        format!(
            "Plugin archive integrity check failed for {}: expected sha256 {}, got {sha}. The archive was not installed.",
            reg.url("p.zip"),
            "0".repeat(64)
        )
    );
    let out = run(&env, &["install", "flat@mp", "--json"]).fails().json();
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("does not hold a plugin"),
        "{out}"
    );
    let out = run(&env, &["install", "evil@mp", "--json"]).fails().json();
    assert!(
        out["message"].as_str().unwrap().contains("unsafe entry"),
        "{out}"
    );
    // Without the test-only switch, loopback and plain-http archives are refused before any request.
    run(&env, &["uninstall", "moved@mp"]).ok();
    reg.clear_requests();
    let out = Run::from(
        env.command(&["install", "moved@mp", "--json"])
            .output()
            .unwrap(),
    )
    .fails()
    .json();
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("only https:// archives"),
        "{out}"
    );
    assert!(reg.requests().is_empty());
}
