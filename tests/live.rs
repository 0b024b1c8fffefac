// The real npm registry and PyPI over HTTPS: under wine the OS trust store that
// rustls-platform-verifier asks refuses every certificate (its revocation check cannot
// complete), so this file runs on Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! A few installs from the real npm registry (reachable from every machine of this project,
//! CI included). They fail loudly when the registry answers wrongly, and skip (saying so) only
//! when the registry's host does not resolve at all.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::net::ToSocketAddrs;

use common::*;
use serde_json::json;

fn registry_resolves(host: &str) -> bool {
    let ok = (host, 443)
        .to_socket_addrs()
        .is_ok_and(|mut a| a.next().is_some());
    if !ok {
        eprintln!("skipped: {host} does not resolve on this machine");
    }
    ok
}

#[test]
fn npm_packages_from_the_public_registry() {
    if !registry_resolves("registry.npmjs.org") {
        return;
    }
    let env = Env::new();
    let m = env.fx.join("mN");
    marketplace(
        &m,
        "mN",
        &json!([
            {"name": "exact", "source": {"source": "npm", "package": "is-odd", "version": "3.0.0"}},
            {"name": "range", "source": {"source": "npm", "package": "is-odd", "version": "^2.0.0"}},
            {"name": "scoped", "source": {"source": "npm", "package": "@isaacs/string-locale-compare", "version": "1.1.0"}},
            {"name": "nope", "source": {"source": "npm", "package": "this-package-does-not-exist-zz9q"}}
        ])
        .to_string(),
    );
    env.run(&["marketplace", "add", m.to_str().unwrap()]).ok();
    env.run(&["install", "exact@mN"]).ok();
    env.run(&["install", "range@mN"]).ok();
    env.run(&["install", "scoped@mN"]).ok();
    let installed = env.installed();
    // The resolved npm version is the plugin's version (Claude Code records "unknown").
    assert_eq!(installed["plugins"]["exact@mN"][0]["version"], "3.0.0");
    assert_eq!(installed["plugins"]["range@mN"][0]["version"], "2.0.0");
    assert_eq!(installed["plugins"]["scoped@mN"][0]["version"], "1.1.0");
    let dir = env.plugins().join("cache/mN/exact/3.0.0");
    let pkg: serde_json::Value = env.read_json(&dir.join("package.json"));
    assert_eq!(
        (pkg["name"].as_str(), pkg["version"].as_str()),
        (Some("is-odd"), Some("3.0.0"))
    );
    assert!(dir.join("index.js").is_file());
    assert!(
        !dir.join("node_modules").exists(),
        "no dependency is installed without a lockfile"
    );
    let out = env.run(&["install", "nope@mN", "--json"]).fails().json();
    assert_eq!(out["failureCode"], "error_not_found");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("was not found in the registry https://registry.npmjs.org/")
    );
}

#[test]
fn a_pure_wheel_from_pypi() {
    if !registry_resolves("pypi.org") {
        return;
    }
    let env = Env::new();
    let m = env.fx.join("mP");
    marketplace(
        &m,
        "mP",
        &json!([
            {"name": "six", "source": {"source": "pip", "package": "six", "version": "==1.16.0"}},
            {"name": "numpy", "source": {"source": "pip", "package": "numpy", "version": "==2.1.0"}}
        ])
        .to_string(),
    );
    env.run(&["marketplace", "add", m.to_str().unwrap()]).ok();
    let out = env
        .command(&["install", "six@mP"])
        .env_remove("PIP_INDEX_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = env.installed();
    assert_eq!(installed["plugins"]["six@mP"][0]["version"], "1.16.0");
    let dir = env.plugins().join("cache/mP/six/1.16.0");
    assert!(
        dir.join("six.py").is_file(),
        "the wheel's top level is the plugin when it has no package folder"
    );
    // numpy publishes platform wheels and an sdist only: refused, naming what was found.
    let out = env
        .command(&["install", "numpy@mP", "--json"])
        .env_remove("PIP_INDEX_URL")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("no pure-Python wheel"),
        "{v}"
    );
}
