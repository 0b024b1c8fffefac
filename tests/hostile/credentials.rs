//! Class 2 (credentials follow redirects) and class 8 (passwords in messages).
//!
//! A credential is bound to the origin and path it was configured for; a server that
//! redirects elsewhere gets its request followed without it (git: refused once the other host
//! asks for credentials). Loopback servers on other ports stand for other hosts; HTTPS through
//! a throw-away CA (`SSL_CERT_FILE`), since credentials are never sent over plain http.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::json;

use crate::common::githttp::tls_config;
use crate::common::http::Request;
use crate::common::recorder::{Recorder, Reply, redirect_to, reply, unauthorized};
use crate::common::registry::{TarEntry, ZipEntry, sri_sha512, tgz, wheel, zip};
use crate::common::*;

/// A command with the test CA trusted and no git, npm or pip configuration of the machine.
fn command(env: &Env, ca: &Path, args: &[&str]) -> Command {
    let mut c = env.command_without_tools(args);
    c.env("SSL_CERT_FILE", ca)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env_remove("PLUGIN_GITHUB_BASE_URL")
        .env_remove("npm_config_registry")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_CONFIG_FILE")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    c
}

fn output(mut c: Command) -> Run {
    Run::from(c.output().expect("run plugin"))
}

fn tls(env: &Env) -> (Arc<rustls::ServerConfig>, PathBuf) {
    tls_config(&env.fx.join("tls"))
}

/// A "GitHub" that sends every request to `other`, which asks for credentials.
fn github_redirecting_to_a_host_that_asks(cfg: &Arc<rustls::ServerConfig>) -> (Recorder, Recorder) {
    let other = Recorder::start(Some(cfg.clone()), |_| unauthorized());
    let target = other.base_url();
    let github = Recorder::start(Some(cfg.clone()), move |req| redirect_to(&target, req));
    (github, other)
}

#[test]
fn the_github_token_does_not_follow_a_redirect_to_another_host() {
    let env = Env::new();
    let (cfg, ca) = tls(&env);
    let (github, other) = github_redirecting_to_a_host_that_asks(&cfg);
    env.add_marketplace(
        "mg",
        &json!([{"name": "gh", "source": {"source": "github", "repo": "o/r"}}]),
    );
    let mut c = command(&env, &ca, &["install", "gh@mg", "--json"]);
    c.env("PLUGIN_GITHUB_BASE_URL", github.base_url())
        .env("GITHUB_TOKEN", "ghp_T0KEN");
    let out = output(c).fails().json();
    // The redirect was followed, so the other host was asked, but never with the token.
    assert!(!other.requests().is_empty(), "{out}");
    assert_eq!(other.carrying("ghp_T0KEN"), vec![], "{out}");
    let msg = out["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!(
            "the credentials for {}/ are not sent to {}/o/r.git",
            github.base_url(),
            other.base_url()
        )),
        "{msg}"
    );
    assert!(
        msg.contains("use the address the server redirects to"),
        "{msg}"
    );
    assert!(!msg.contains("ghp_T0KEN"), "{msg}");
    assert!(!env.plugins().join("installed_plugins.json").exists());
}

#[test]
fn an_authenticated_request_redirected_elsewhere_loses_the_token() {
    // Held before the fix too (gix follows only the first request's redirect, and reqwest
    // drops Authorization when the origin changes); kept so that it stays so.
    let env = Env::new();
    let (cfg, ca) = tls(&env);
    let other = Recorder::start(Some(cfg.clone()), |_| unauthorized());
    let target = other.base_url();
    // This "GitHub" wants the token first, and only then redirects.
    let github = Recorder::start(Some(cfg), move |req| match req.header("authorization") {
        Some(_) => redirect_to(&target, req),
        None => unauthorized(),
    });
    env.add_marketplace(
        "mg",
        &json!([{"name": "gh", "source": {"source": "github", "repo": "o/r"}}]),
    );
    let mut c = command(&env, &ca, &["install", "gh@mg", "--json"]);
    c.env("PLUGIN_GITHUB_BASE_URL", github.base_url())
        .env("GITHUB_TOKEN", "ghp_T0KEN");
    let out = output(c).fails().json();
    assert!(!github.carrying("ghp_T0KEN").is_empty(), "{out}");
    // gix follows a redirect on the first request only, so `other` may not be asked at all.
    assert_eq!(other.carrying("ghp_T0KEN"), vec![], "{out}");
}

#[test]
fn a_credential_helper_for_one_host_is_not_asked_for_another() {
    let env = Env::new();
    let (cfg, ca) = tls(&env);
    let (origin, other) = github_redirecting_to_a_host_that_asks(&cfg);
    let asked = env.fx.join("helper-asked");
    let gitconfig = env.fx.join("gitconfig");
    fs::write(
        &gitconfig,
        format!(
            "[credential \"{}\"]\n\thelper = \"!f() {{ cat >> '{}'; echo username=u; echo password=helper-s3cret; }}; f\"\n",
            origin.base_url(),
            asked.display()
        ),
    )
    .unwrap();
    let url = format!("{}/o/r.git", origin.base_url());
    env.add_marketplace(
        "mg",
        &json!([{"name": "p", "source": {"source": "url", "url": url}}]),
    );
    let mut c = command(&env, &ca, &["install", "p@mg", "--json"]);
    // The helper is a shell function: `sh` must be found.
    c.env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_GLOBAL", &gitconfig);
    let out = output(c).fails().json();
    assert!(!other.requests().is_empty(), "{out}");
    assert_eq!(other.carrying("helper-s3cret"), vec![], "{out}");
    let asked = fs::read_to_string(&asked).unwrap_or_default();
    assert!(
        !asked.contains(&other.addr().port().to_string()),
        "the helper was asked about the other host:\n{asked}"
    );
    assert!(
        out["message"].as_str().unwrap().contains("are not sent to"),
        "{out}"
    );
}

/// An npm package `pkg@1.0.0` (a plugin) as a tarball, and its integrity.
fn npm_tarball() -> (Vec<u8>, String) {
    let manifest = json!({"name": "pkg", "version": "1.0.0"}).to_string();
    let plugin = json!({"name": "pkg"}).to_string();
    let bytes = tgz(&[
        TarEntry::file("package/package.json", manifest.as_bytes(), 0o644),
        TarEntry::file(
            "package/.claude-plugin/plugin.json",
            plugin.as_bytes(),
            0o644,
        ),
    ]);
    let integrity = sri_sha512(&bytes);
    (bytes, integrity)
}

fn packument(tarball: &str, integrity: &str) -> Reply {
    let doc = json!({
        "name": "pkg",
        "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {"name": "pkg", "version": "1.0.0",
            "dist": {"tarball": tarball, "integrity": integrity}}},
    });
    reply("200 OK", "application/json", doc.to_string())
}

/// An npm registry at `https://<host>/npm/` whose token (in ~/.npmrc) is for that path only.
fn npm_env(env: &Env, registry: &Recorder) -> String {
    let url = format!("{}/npm/", registry.base_url());
    let nerf = url.trim_start_matches("https:");
    fs::write(
        env.home.join(".npmrc"),
        format!("{nerf}:_authToken=npm_T0KEN\n"),
    )
    .unwrap();
    url
}

#[test]
fn an_npm_token_stays_with_its_host_and_path() {
    let env = Env::new();
    let (cfg, ca) = tls(&env);
    let (tarball, integrity) = npm_tarball();
    // The other host serves the tarball: the install succeeds without the token there.
    let bytes = tarball.clone();
    let cdn = Recorder::start(Some(cfg.clone()), move |_| {
        reply("200 OK", "application/octet-stream", bytes.clone())
    });
    let cdn_url = cdn.base_url();
    let registry = Recorder::start(Some(cfg.clone()), move |req: &Request| {
        let port = req.header("host").unwrap_or("").to_string();
        match req.target.as_str() {
            // Packuments: `cdn` sends its tarball elsewhere, `moved` redirects out of /npm/,
            // `plain` names a tarball on the same host and port over plain http.
            "/npm/cdn" => packument(
                &format!("https://{port}/npm/cdn/-/pkg-1.0.0.tgz"),
                &integrity,
            ),
            "/npm/cdn/-/pkg-1.0.0.tgz" => redirect_to(&cdn_url, req),
            "/npm/moved" => redirect_to(&format!("https://{port}/elsewhere"), req),
            "/npm/plain" => packument(
                &format!("http://{port}/npm/plain/-/pkg-1.0.0.tgz"),
                &integrity,
            ),
            _ => reply("404 Not Found", "application/json", "{}"),
        }
    });
    let url = npm_env(&env, &registry);
    env.add_marketplace(
        "mn",
        &json!([
            {"name": "cdn", "source": {"source": "npm", "package": "cdn", "registry": url}},
            {"name": "moved", "source": {"source": "npm", "package": "moved", "registry": url}},
            {"name": "plain", "source": {"source": "npm", "package": "plain", "registry": url}},
        ]),
    );
    output(command(&env, &ca, &["install", "moved@mn"])).fails();
    // Before `cdn`, whose tarball (the same bytes) would then come from the download cache.
    output(command(&env, &ca, &["install", "plain@mn"])).fails();
    output(command(&env, &ca, &["install", "cdn@mn"])).ok();
    assert!(!cdn.requests().is_empty());
    assert_eq!(cdn.carrying("npm_T0KEN"), vec![]);
    let seen = registry.requests();
    assert!(seen.iter().any(|(l, _, _)| l == "GET /elsewhere/npm/moved"));
    assert!(
        seen.iter().any(|(_, _, tls)| !tls),
        "the http tarball was asked for"
    );
    // The token went to /npm/ over https, and nowhere else.
    let with_token = registry.carrying("npm_T0KEN");
    assert!(!with_token.is_empty());
    for (line, _, tls) in &with_token {
        assert!(line.starts_with("GET /npm/") && *tls, "{line} (tls: {tls})");
    }
}

/// A PEP 691 page listing one wheel at `url`.
fn index_page(url: &str, sha256: &str) -> Reply {
    let doc = json!({"meta": {"api-version": "1.0"}, "name": "demo",
        "files": [{"filename": "demo-1.0.0-py3-none-any.whl", "url": url,
            "hashes": {"sha256": sha256}}]});
    reply(
        "200 OK",
        "application/vnd.pypi.simple.v1+json",
        doc.to_string(),
    )
}

#[test]
fn index_credentials_stay_with_their_host_and_never_go_over_http() {
    use sha2::Digest;
    let env = Env::new();
    let (cfg, ca) = tls(&env);
    let plugin = json!({"name": "demo"}).to_string();
    let whl = wheel(
        "demo",
        "1.0.0",
        "demo-1.0.0-py3-none-any.whl",
        &[("demo/.claude-plugin/plugin.json", plugin.as_bytes(), 0o644)],
    );
    let sha = hex::encode(sha2::Sha256::digest(&whl));
    let mirror = Recorder::start(Some(cfg.clone()), move |req: &Request| {
        let host = req.header("host").unwrap_or("").to_string();
        match req.target.as_str() {
            "/simple/demo/" => index_page(&format!("https://{host}/files/demo.whl"), &sha),
            "/files/demo.whl" => reply("200 OK", "application/octet-stream", whl.clone()),
            _ => reply("404 Not Found", "text/plain", ""),
        }
    });
    let target = mirror.base_url();
    let index = Recorder::start(Some(cfg.clone()), move |req| redirect_to(&target, req));
    let host = index.addr();
    let secured = format!("https://me:pyp1-s3cret@{host}/simple/");
    let plain = format!("http://me:pyp1-s3cret@{host}/simple/");
    env.add_marketplace(
        "mp",
        &json!([
            {"name": "redirected", "source": {"source": "pip", "package": "demo", "registry": secured}},
            {"name": "plain", "source": {"source": "pip", "package": "demo", "registry": plain}},
        ]),
    );
    output(command(&env, &ca, &["install", "redirected@mp"])).ok();
    assert_eq!(mirror.requests().len(), 2, "{:?}", mirror.requests());
    assert_eq!(mirror.carrying("pyp1-s3cret"), vec![]);
    assert_eq!(index.carrying("pyp1-s3cret").len(), 1);
    // Over plain http the credentials are refused before anything is sent.
    let before = index.requests().len();
    let out = output(command(&env, &ca, &["install", "plain@mp", "--json"]))
        .fails()
        .json();
    let msg = out["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!(
            "credentials for http://{host}/ would be sent unencrypted"
        )) && msg.contains("use the https:// address"),
        "{msg}"
    );
    assert!(!msg.contains("pyp1-s3cret"), "{msg}");
    assert_eq!(index.requests().len(), before);
}

/// Class 8: what a command prints (human and `--json`, stdout and stderr) holds neither the
/// password nor the query token of the URLs it was given.
#[track_caller]
fn assert_no_secrets(what: &str, run: &Run) {
    for secret in ["s3cret", "t0k"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{what} shows {secret}:\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn urls_are_shown_without_passwords_or_query() {
    use crate::common::githttp::{GitServer, WorkRepo};
    let env = Env::new();
    // An archive server (`/p.zip`, else 404) and a git marketplace behind a password, over
    // https with two CAs, trusted from one file.
    let (cfg, ca) = tls(&env);
    let zip_bytes = zip(&[ZipEntry::file(
        ".claude-plugin/plugin.json",
        json!({"name": "zp"}).to_string().as_bytes(),
        0o644,
    )]);
    let files = Recorder::start(Some(cfg), move |req| match req.target.split('?').next() {
        Some("/p.zip") => reply("200 OK", "application/zip", zip_bytes.clone()),
        _ => reply("404 Not Found", "text/plain", ""),
    });
    let absent = files.addr();
    let srv = env.fx.join("srv");
    let m = WorkRepo::init(&env.fx.join("work/m"));
    m.write(
        ".claude-plugin/marketplace.json",
        &json!({"name": "mg", "owner": {"name": "t"}, "plugins": [
            {"name": "zp", "source": {"source": "archive",
                "url": format!("https://user:s3cret@{absent}/p.zip?token=t0k")}},
            {"name": "zq", "source": {"source": "archive",
                "url": format!("https://user:s3cret@{absent}/q.zip?token=t0k")}},
        ]})
        .to_string(),
    );
    m.commit("c1");
    m.publish(&srv.join("git/m.git"));
    let (git, git_ca) = GitServer::start_tls(&srv, Some("s3cret"), &env.fx.join("tls-git"));
    let both = env.fx.join("cas.pem");
    let pems = [fs::read(&git_ca).unwrap(), fs::read(&ca).unwrap()].concat();
    fs::write(&both, pems).unwrap();
    let run = |args: &[&str]| {
        let mut c = command(&env, &both, args);
        c.env("PLUGIN_ALLOW_LOCAL_ARCHIVES", "1");
        output(c)
    };
    for url in [
        format!("https://user:s3cret@{absent}/o/r.git"),
        format!("https://user:s3cret@{absent}/o/r.git?token=t0k"),
        format!("https://user:s3cret@{absent}/m/marketplace.json?token=t0k"),
        format!("https://user:s3cret@{absent}/m/marketplace.json"),
        "ssh://user:s3cret@127.0.0.1:1/o/r.git".to_string(),
        format!("git://user:s3cret@{absent}/o/r.git?token=t0k"),
    ] {
        assert_no_secrets(&url, &run(&["marketplace", "add", &url]).fails());
        assert_no_secrets(&url, &run(&["marketplace", "add", &url, "--json"]).fails());
    }
    let good = format!("https://user:s3cret@{}/git/m.git?", git.addr());
    let good = good.trim_end_matches('?');
    let added = run(&["marketplace", "add", good, "--json"]).ok();
    assert_no_secrets("add --json", &added);
    assert!(added.json()["message"].as_str().unwrap().contains(&format!(
        "Cloning repository (timeout: 120s): https://{}/git/m.git",
        git.addr()
    )));
    for args in [
        &["marketplace", "list"][..],
        &["marketplace", "list", "--json"],
        &["list", "--available", "--json"],
        &["install", "zq@mg"],
        &["install", "zq@mg", "--json"],
    ] {
        assert_no_secrets(&args.join(" "), &run(args));
    }
    assert_no_secrets("install", &run(&["install", "zp@mg"]).ok());
    assert_no_secrets("list --json", &run(&["list", "--json"]).ok());
    assert_no_secrets("update", &run(&["update", "zp@mg", "--json"]));
    // What is recorded stays as given (Claude Code's known_marketplaces.json).
    let known = fs::read_to_string(env.plugins().join("known_marketplaces.json")).unwrap();
    assert!(known.contains(good), "{known}");
}
