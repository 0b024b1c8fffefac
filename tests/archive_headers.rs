// The helpers of these fixtures are `sh` lines (Windows runs them through cmd.exe, which the
// tests under wine cannot drive): Unix only.
#![cfg(unix)]

//! Declared headers against a loopback server: a `url` marketplace's `headers` on its catalog
//! and on same-origin archives, an archive entry's `headers` and `headersHelper` (shown and run
//! only when accepted, only for entries that inline their manifest, never from `sync`), routing
//! headers dropped, headers dropped on a redirect to another origin, secrets never over http.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;

use common::registry::{Registry, ZipEntry, zip};
use common::*;
use serde_json::{Value, json};

/// No tools on PATH; loopback archives allowed (test-only switch); a GITHUB_TOKEN in the
/// environment a catalog's helper must not see.
fn run(env: &Env, args: &[&str]) -> Run {
    Run::from(
        env.command(args)
            .env("PLUGIN_ALLOW_LOCAL_ARCHIVES", "1")
            .env("GITHUB_TOKEN", "ghp_secret_of_the_user")
            .output()
            .expect("run plugin"),
    )
}

fn plugin_zip() -> Vec<u8> {
    zip(&[ZipEntry::file(
        ".claude-plugin/plugin.json",
        br#"{"name":"z","version":"1.0.0"}"#,
        0o644,
    )])
}

/// The headers of the requests for `path`.
fn headers_of(reg: &Registry, path: &str) -> Vec<Vec<(String, String)>> {
    reg.requests()
        .into_iter()
        .filter(|(line, _)| line == &format!("GET {path}"))
        .map(|(_, h)| h)
        .collect()
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn entry_headers_go_to_the_archive_origin_only_without_routing_headers() {
    let env = Env::new();
    let reg = Registry::start();
    let other = Registry::start();
    reg.add_file("/p.zip", plugin_zip());
    other.add_file("/p.zip", plugin_zip());
    reg.redirect("/away.zip", &other.url("p.zip"));
    env.add_marketplace(
        "mh",
        &json!([
            {"name": "h", "source": {"source": "archive", "url": reg.url("p.zip")},
             "headers": {"X-Team": "t1", "X-Forwarded-For": "10.0.0.1", "Host": "evil.example"}},
            {"name": "away", "source": {"source": "archive", "url": reg.url("away.zip")},
             "headers": {"X-Team": "t1"}},
            {"name": "secret", "source": {"source": "archive", "url": reg.url("p.zip")},
             "headers": {"Authorization": "Bearer s3cr3t-value"}},
        ]),
    );
    run(&env, &["install", "h@mh"]).ok();
    let sent = headers_of(&reg, "/p.zip");
    assert_eq!(sent.len(), 1);
    assert_eq!(header(&sent[0], "x-team"), Some("t1"));
    assert_eq!(
        header(&sent[0], "x-forwarded-for"),
        None,
        "routing header dropped"
    );
    assert_ne!(header(&sent[0], "host"), Some("evil.example"));

    // A redirect to another origin: followed, the headers stay behind.
    run(&env, &["install", "away@mh"]).ok();
    assert_eq!(
        header(&headers_of(&reg, "/away.zip")[0], "x-team"),
        Some("t1")
    );
    let there = headers_of(&other, "/p.zip");
    assert_eq!(there.len(), 1);
    assert_eq!(header(&there[0], "x-team"), None);

    // A secret header is never sent over plain http, nor shown.
    reg.clear_requests();
    let out = run(&env, &["install", "secret@mh"]).fails();
    assert!(
        out.stderr.contains("would be sent unencrypted"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cr3t"), "{}", out.stderr);
    assert!(headers_of(&reg, "/p.zip").is_empty(), "no request made");
}

#[test]
fn an_entry_helper_runs_only_when_accepted_for_the_plugin_named() {
    let env = Env::new();
    let reg = Registry::start();
    reg.add_file("/p.zip", plugin_zip());
    let seen = env.fx.join("helper-env");
    let helper = format!(
        "env > {} && pwd >> {} && echo '{{\"X-Minted\":\"m1\",\"X-Team\":\"from-helper\",\"Cookie\":\"c\"}}'",
        seen.display(),
        seen.display()
    );
    env.add_marketplace(
        "mh",
        &json!([
            {"name": "hh", "strict": false, "source": {"source": "archive", "url": reg.url("p.zip")},
             "headers": {"X-Team": "static"}, "headersHelper": helper},
            {"name": "strict", "source": {"source": "archive", "url": reg.url("p.zip")},
             "headersHelper": "echo '{}'"},
        ]),
    );
    // Not accepted in a pipe: shown, not run.
    let out = run(&env, &["install", "hh@mh", "--json"]).fails();
    assert!(out.stdout.starts_with(&format!(
        "Fetching this plugin's archive sends helper-minted headers to {}; the local command it runs (headersHelper) is: {helper}\n",
        reg.url("p.zip")
    )), "{}", out.stdout);
    let doc: Value = serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(doc["failureCode"], "entry_helper_unconfirmed");
    assert_eq!(
        doc["message"],
        "Aborted — the headersHelper command was not confirmed, so it was not run."
    );
    assert_eq!(doc["shownCommand"]["kind"], "entry_helper");
    assert_eq!(doc["shownCommand"]["archiveUrl"], reg.url("p.zip"));
    assert!(doc["shownCommand"].get("mode").is_none());
    assert!(!seen.exists(), "the helper did not run");
    assert!(headers_of(&reg, "/p.zip").is_empty());

    // Accepted by its hash: it runs from the config folder, without the user's token, and its
    // headers (routing ones dropped) go with the download, over the entry's own.
    let sha = doc["shownCommand"]["sha256"].as_str().unwrap().to_string();
    run(&env, &["install", "hh@mh", "--accept-command", &sha]).ok();
    let env_text = fs::read_to_string(&seen).unwrap();
    assert!(
        env_text.contains("CLAUDE_CODE_PLUGIN_NAME=hh\n"),
        "{env_text}"
    );
    assert!(
        env_text.contains(&format!(
            "CLAUDE_CODE_PLUGIN_ARCHIVE_URL={}\n",
            reg.url("p.zip")
        )),
        "{env_text}"
    );
    assert!(!env_text.contains("ghp_secret_of_the_user"), "{env_text}");
    assert!(
        env_text.ends_with(&format!("{}\n", env.claude().display())),
        "cwd: {env_text}"
    );
    let sent = headers_of(&reg, "/p.zip");
    assert_eq!(header(&sent[0], "x-minted"), Some("m1"));
    assert_eq!(header(&sent[0], "x-team"), Some("from-helper"));
    assert_eq!(header(&sent[0], "cookie"), None);

    // An entry that does not inline its manifest may not run one.
    let out = run(&env, &["install", "strict@mh", "-y"]).fails();
    assert_eq!(
        out.stderr,
        "Plugin \"strict\" declares a headersHelper but is not strict:false — an entry with headersHelper must inline its manifest so its capabilities can be reviewed before the command runs.\n"
    );

    // `sync` never runs one.
    run(&env, &["uninstall", "hh@mh"]).ok();
    fs::remove_file(&seen).unwrap();
    let settings = env.claude().join("settings.json");
    let mut doc = env.read_json(&settings);
    doc["enabledPlugins"] = json!({"hh@mh": true});
    fs::write(&settings, doc.to_string()).unwrap();
    let out = run(&env, &["sync"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("fetches its archive through a headersHelper, which only runs when you install or update it"), "{}", out.stderr);
    assert!(!seen.exists());

    // Managed settings that turn marketplace commands off.
    env.write_managed(None, &json!({"disableCommandPluginSources": true}));
    let out = run(&env, &["install", "hh@mh", "-y"]).fails();
    assert!(out.stderr.starts_with("\"hh\" fetches its archive through a marketplace-declared headersHelper command, and your organization's managed settings disable marketplace-declared commands"), "{}", out.stderr);
    assert!(!seen.exists());
}

#[test]
fn a_url_marketplaces_headers_go_to_its_catalog_and_same_origin_archives() {
    let env = Env::new();
    let reg = Registry::start();
    let other = Registry::start();
    reg.add_file("/p.zip", plugin_zip());
    other.add_file("/p.zip", plugin_zip());
    let catalog = json!({"name": "um", "owner": {"name": "o"}, "plugins": [
        {"name": "same", "source": {"source": "archive", "url": reg.url("p.zip")},
         "headers": {"X-Entry": "e"}},
        {"name": "elsewhere", "source": {"source": "archive", "url": other.url("p.zip")}},
    ]});
    reg.add_file("/market.json", catalog.to_string().into_bytes());
    let ran = env.fx.join("helper-ran");
    // Declared in the user's settings: trusted (its helper would run, but not over http).
    let settings = env.claude().join("settings.json");
    write(
        &settings,
        &json!({"extraKnownMarketplaces": {"um": {"source": {
            "source": "url", "url": reg.url("market.json"),
            "headers": {"X-Mkt": "m", "X-Forwarded-Host": "kept.example"},
            "headersHelper": format!("touch {} && echo '{{}}'", ran.display())}}}})
        .to_string(),
    );
    run(&env, &["sync"]).ok();
    let sent = headers_of(&reg, "/market.json");
    assert_eq!(header(&sent[0], "x-mkt"), Some("m"));
    assert_eq!(
        header(&sent[0], "x-forwarded-host"),
        Some("kept.example"),
        "the person's own settings may set routing headers"
    );
    assert!(!ran.exists(), "a helper runs for https marketplaces only");

    run(&env, &["install", "same@um"]).ok();
    let sent = headers_of(&reg, "/p.zip");
    assert_eq!(header(&sent[0], "x-mkt"), Some("m"));
    assert_eq!(header(&sent[0], "x-entry"), Some("e"));
    run(&env, &["install", "elsewhere@um"]).ok();
    assert_eq!(header(&headers_of(&other, "/p.zip")[0], "x-mkt"), None);
}

#[test]
fn a_marketplace_helper_declared_by_the_person_runs_with_its_variables() {
    let env = Env::new();
    let reg = Registry::start();
    reg.add_file("/p.zip", plugin_zip());
    let catalog = json!({"name": "um", "owner": {"name": "o"}, "plugins": [
        {"name": "same", "source": {"source": "archive", "url": reg.url("p.zip")}},
    ]});
    reg.add_file("/market.json", catalog.to_string().into_bytes());
    let seen = env.fx.join("helper-env");
    let declare = |helper: &str, scope_file: &std::path::Path| {
        write(
            scope_file,
            &json!({"extraKnownMarketplaces": {"um": {"source": {
                "source": "url", "url": reg.url("market.json"), "headersHelper": helper}}}})
            .to_string(),
        );
    };
    let helper = format!(
        "env > {0} && pwd >> {0} && echo '{{\"X-Helper\":\"h1\"}}'",
        seen.display()
    );
    declare(&helper, &env.claude().join("settings.json"));
    let run_http = |args: &[&str]| {
        Run::from(
            env.command(args)
                .env("PLUGIN_ALLOW_LOCAL_ARCHIVES", "1")
                .env("PLUGIN_ALLOW_HTTP_HELPERS", "1")
                .env("GITHUB_TOKEN", "ghp_secret_of_the_user")
                .output()
                .expect("run plugin"),
        )
    };
    run_http(&["sync"]).ok();
    let text = fs::read_to_string(&seen).unwrap();
    assert!(
        text.contains(&format!(
            "CLAUDE_CODE_MARKETPLACE_URL={}\n",
            reg.url("market.json")
        )),
        "{text}"
    );
    assert!(text.contains("CLAUDE_CODE_MARKETPLACE_NAME=um\n"), "{text}");
    // The person's own helper keeps the person's environment.
    assert!(
        text.contains("GITHUB_TOKEN=ghp_secret_of_the_user\n"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("{}\n", env.claude().display())),
        "{text}"
    );
    assert_eq!(
        header(&headers_of(&reg, "/market.json")[0], "x-helper"),
        Some("h1")
    );
    run_http(&["install", "same@um"]).ok();
    assert_eq!(
        header(&headers_of(&reg, "/p.zip")[0], "x-helper"),
        Some("h1")
    );

    // A helper that fails stops the fetch, saying why.
    declare("exit 3", &env.claude().join("settings.json"));
    let out = run_http(&["marketplace", "update", "um"]).fails();
    assert!(
        out.stderr
            .contains("marketplace headersHelper failed (exec_failed)"),
        "{}",
        out.stderr
    );

    // Managed settings that turn marketplace commands off stop it, unless they declare it.
    declare(&helper, &env.claude().join("settings.json"));
    fs::remove_file(&seen).unwrap();
    env.write_managed(None, &json!({"disableCommandPluginSources": true}));
    let out = run_http(&["marketplace", "update", "um"]).fails();
    assert!(out.stderr.contains("marketplace um: your organization's managed settings disable marketplace-declared commands"), "{}", out.stderr);
    assert!(!seen.exists());
    env.write_managed(
        None,
        &json!({"disableCommandPluginSources": true,
                "extraKnownMarketplaces": {"um": {"source": {
                    "source": "url", "url": reg.url("market.json"), "headersHelper": helper}}}}),
    );
    run_http(&["marketplace", "update", "um"]).ok();
    assert!(seen.exists());

    // Declared in project settings: not run (no workspace trust here), static headers only.
    fs::remove_file(&seen).unwrap();
    fs::remove_dir_all(env.managed()).unwrap();
    write(&env.claude().join("settings.json"), "{}");
    declare(&helper, &env.cwd.join(".claude/settings.json"));
    run_http(&["marketplace", "update", "um"]).ok();
    assert!(!seen.exists());
}

#[test]
fn an_archive_with_a_headers_helper_is_never_installed_as_a_dependency() {
    let env = Env::new();
    let reg = Registry::start();
    reg.add_file("/p.zip", plugin_zip());
    let ran = env.fx.join("helper-ran");
    let dir = env.add_marketplace(
        "mh",
        &json!([
            {"name": "hh", "strict": false, "source": {"source": "archive", "url": reg.url("p.zip")},
             "headersHelper": format!("touch {} && echo '{{}}'", ran.display())},
            {"name": "needs", "source": "./plugins/needs"},
        ]),
    );
    write(
        &dir.join("plugins/needs/.claude-plugin/plugin.json"),
        &json!({"name": "needs", "version": "1.0.0", "dependencies": ["hh"]}).to_string(),
    );
    // Even with -y, which would accept the helper of the plugin named.
    let out = run(&env, &["install", "needs@mh", "-y"]).ok();
    assert!(
        out.stdout.ends_with(". Warning: dependency \"hh@mh\" was not installed (it runs a command from its marketplace: install it by name). \"needs\" will not load without it\n"),
        "{}",
        out.stdout
    );
    assert!(!ran.exists(), "the helper did not run");
    assert!(headers_of(&reg, "/p.zip").is_empty());
}
