// Needs the loopback git server (Python, git http-backend): Windows test processes cannot
// start Linux programs under wine, so this file runs on Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! Enterprise marketplace policy (`blockedMarketplaces`, `strictKnownMarketplaces`) in managed
//! settings: the refusals of `marketplace add`, `install`, `update`, `outdated` and
//! `marketplace update`, their messages and failure codes, that a refusal writes nothing, and —
//! with the loopback git server — that a refused source gets no request at all.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::path::Path;

use common::githttp::{GitServer, WorkRepo};
use common::*;
use serde_json::{Value, json};

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Everything under HOME, with content: what a refusal must leave as it was.
fn home_state(env: &Env) -> Vec<String> {
    tree_with_content(&env.home)
}

/// A second folder marketplace `mA` with plugin `pa`.
fn ma(env: &Env) -> std::path::PathBuf {
    let dir = env.fx.join("mA");
    plugin(&dir.join("plugins/pa"), "pa", Some("1.0.0"));
    marketplace(&dir, "mA", r#"[{"name":"pa","source":"./plugins/pa"}]"#);
    dir
}

#[test]
fn marketplace_add_refusals_use_claude_codes_messages_and_write_nothing() {
    let env = Env::new();
    let m1 = m1(&env);
    let ma = ma(&env);

    // Lockdown.
    env.write_managed(None, &json!({"strictKnownMarketplaces": []}));
    let out = env.run(&["marketplace", "add", p(&m1), "--json"]).fails();
    let message = format!(
        "Marketplace source 'dir:{}' is blocked by enterprise policy. No external marketplaces are allowed.",
        m1.display()
    );
    assert_eq!(
        out.json(),
        json!({"command": "marketplace-add", "outcome": "failed", "message": message,
               "failureCode": "source_blocked_by_policy"})
    );
    assert_eq!(
        out.stderr,
        format!("✘ Failed to add marketplace: {message}\n")
    );
    assert!(
        home_state(&env).is_empty(),
        "nothing written: {:?}",
        home_state(&env)
    );
    // Human form too.
    let out = env.run(&["marketplace", "add", p(&m1)]).fails();
    assert!(out.stderr.contains(&message), "{}", out.stderr);
    // `install --marketplace` adds first, so it is refused the same way.
    let out = env
        .run(&["install", "p1", "--marketplace", p(&m1), "--json"])
        .fails();
    assert_eq!(out.json()["failureCode"], "source_blocked_by_policy");
    assert!(home_state(&env).is_empty());

    // Allowlist: m1 yes, mA no (the message lists what is allowed).
    env.write_managed(
        None,
        &json!({"strictKnownMarketplaces": [
            {"source": "directory", "path": p(&m1)},
            {"source": "github", "repo": "acme/*"}
        ]}),
    );
    let out = env.run(&["marketplace", "add", p(&ma), "--json"]).fails();
    assert_eq!(
        out.json(),
        json!({"command": "marketplace-add", "outcome": "failed",
               "message": format!("Marketplace source 'dir:{}' is blocked by enterprise policy. Allowed sources: dir:{}, github:acme/*", ma.display(), m1.display()),
               "failureCode": "source_blocked_by_policy"})
    );
    assert!(home_state(&env).is_empty());
    env.run(&["marketplace", "add", p(&m1)]).ok();
    env.run(&["install", "p1@m1"]).ok();

    // Blocklist, however the path is spelt.
    env.write_managed(
        None,
        &json!({"blockedMarketplaces": [{"source": "directory", "path": format!("{}/", p(&ma))}]}),
    );
    let before = home_state(&env);
    for spelling in [p(&ma).to_string(), format!("{}/./", p(&ma))] {
        let out = env
            .run(&["marketplace", "add", &spelling, "--json"])
            .fails();
        let v = out.json();
        assert_eq!(v["failureCode"], "source_blocked_by_policy");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .ends_with("' is blocked by enterprise policy."),
            "{v}"
        );
    }
    assert_eq!(home_state(&env), before, "a refusal changes nothing");
}

#[test]
fn install_and_update_from_a_marketplace_that_became_blocked() {
    let env = Env::new();
    let m1 = m1(&env);
    let ma = ma(&env);
    env.run(&["marketplace", "add", p(&m1)]).ok();
    env.run(&["marketplace", "add", p(&ma)]).ok();
    env.run(&["install", "p1@m1"]).ok();

    env.write_managed(None, &json!({"strictKnownMarketplaces": []}));
    let before = home_state(&env);
    let blocked =
        "Plugin \"p1\" is from marketplace \"m1\", which is blocked by your organization's policy";

    // As Claude Code: an installed plugin is still "already installed" …
    let out = env.run(&["install", "p1@m1", "--json"]).ok();
    assert_eq!(
        out.json(),
        json!({"command": "install", "outcome": "ok", "plugin": "p1@m1", "pluginId": "p1@m1",
               "scope": "user", "message": "Plugin \"p1@m1\" is already installed (scope: user)",
               "installedVersion": "1.0.0", "availableVersion": "1.0.0"})
    );
    // … but not updated …
    let out = env.run(&["update", "p1", "--json"]).fails();
    assert_eq!(
        out.json(),
        json!({"schemaVersion": 1, "command": "update", "outcome": "failed", "plugins": [
                {"plugin": "p1@m1", "pluginId": "p1@m1", "scope": "user", "outcome": "failed",
                 "oldVersion": "1.0.0", "applied": false, "message": blocked,
                 "failureCode": "marketplace_policy_blocked"}]})
    );
    for args in [
        &["update", "--all", "--json"][..],
        &["outdated", "--json"],
        &["update", "p1@m1", "--force", "--json"],
    ] {
        let out = env.run(args).fails();
        assert_eq!(
            first_row(&out.json())["failureCode"],
            "marketplace_policy_blocked",
            "{args:?}"
        );
    }
    let out = env.run(&["update", "p1"]).fails();
    assert!(out.stderr.contains(blocked), "{}", out.stderr);
    // … nor refreshed.
    let out = env.run(&["marketplace", "update", "m1", "--json"]).fails();
    assert_eq!(
        out.json(),
        json!({"command": "marketplace-update", "marketplace": "m1", "outcome": "failed",
               "message": "Marketplace \"m1\" is not in the allowed marketplace list",
               "failureCode": "marketplace_policy_blocked"})
    );
    // Listing still works.
    let list = env.run(&["marketplace", "list", "--json"]).ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(home_state(&env), before, "refusals change nothing");

    // A plugin not installed yet is refused, named or bare.
    let out = env.run(&["install", "pa@mA", "--json"]).fails();
    assert_eq!(
        out.json(),
        json!({"command": "install", "outcome": "failed", "plugin": "pa@mA", "scope": "user",
               "message": "Plugin \"pa\" is from marketplace \"mA\", which is blocked by your organization's policy",
               "failureCode": "marketplace_policy_blocked"})
    );
    let out = env.run(&["install", "pa", "--json"]).fails();
    assert_eq!(
        out.json()["message"],
        "Plugin \"pa\" not found in any marketplace your organization's policy allows (not searched: m1, mA)"
    );
    // Bare name of an installed plugin, at another scope: the blocked marketplace is named.
    let out = env
        .run(&["install", "p1", "--scope", "project", "--json"])
        .fails();
    assert_eq!(out.json()["message"], blocked);
    assert_eq!(home_state(&env), before, "refusals change nothing");

    // Uninstall still works (as Claude Code).
    env.run(&["uninstall", "p1@m1"]).ok();
    let out = env.run(&["install", "p1@m1", "--json"]).fails();
    assert_eq!(out.json()["message"], blocked);

    // Blocklist wording for marketplace update; update of all skips what is blocked.
    env.write_managed(
        None,
        &json!({"blockedMarketplaces": [{"source": "directory", "path": p(&m1)}]}),
    );
    let out = env.run(&["marketplace", "update", "m1", "--json"]).fails();
    assert_eq!(
        out.json()["message"],
        "Marketplace \"m1\" is blocked by enterprise policy"
    );
    let out = env.run(&["marketplace", "update"]).ok();
    assert_eq!(
        out.stderr,
        "! Skipped marketplace m1: Marketplace \"m1\" is blocked by enterprise policy\n"
    );
    assert_eq!(
        out.stdout,
        "Updating marketplaces...\n✔ Successfully updated 1 marketplace\n"
    );
    // mA is not blocked: installs.
    env.run(&["install", "pa@mA"]).ok();
}

/// A git marketplace `gm` (plugin `rp` inside it) served at `git/mkt.git` and `o/mkt.git`.
fn git_marketplace(env: &Env) -> GitServer {
    let srv = env.fx.join("srv");
    let w = WorkRepo::init(&env.fx.join("work/mkt"));
    w.write(
        ".claude-plugin/marketplace.json",
        &json!({"name": "gm", "owner": {"name": "t"},
                "plugins": [{"name": "rp", "source": "./plugins/rp"}]})
        .to_string(),
    );
    w.write(
        "plugins/rp/.claude-plugin/plugin.json",
        r#"{"name":"rp","version":"1.0.0"}"#,
    );
    w.commit("m1");
    w.publish(&srv.join("git/mkt.git"));
    w.publish(&srv.join("o/mkt.git"));
    GitServer::start(&srv)
}

fn git_run(env: &Env, server: &GitServer, args: &[&str]) -> Run {
    Run::from(
        env.command_without_tools(args)
            .env("PLUGIN_GITHUB_BASE_URL", server.base_url())
            .output()
            .expect("run plugin"),
    )
}

#[test]
fn blocked_git_sources_get_zero_requests() {
    let env = Env::new();
    let server = git_marketplace(&env);
    let url = server.url("git/mkt.git");

    // Refused at add, for each way of writing the policy; the server hears nothing.
    for managed in [
        json!({"blockedMarketplaces": [{"source": "git", "url": server.url("git/mkt/")}]}),
        json!({"blockedMarketplaces": [{"source": "git", "url": "git@127.0.0.1:git/mkt.git"}]}),
        json!({"strictKnownMarketplaces": []}),
        json!({"strictKnownMarketplaces": [{"source": "hostPattern", "hostPattern": "^git\\.acme\\.com$"}]}),
        json!({"strictKnownMarketplaces": [{"source": "git", "url": server.url("git/mkt")}]}),
    ] {
        env.write_managed(None, &managed);
        let out = git_run(&env, &server, &["marketplace", "add", &url, "--json"]).fails();
        assert_eq!(
            out.json()["failureCode"],
            "source_blocked_by_policy",
            "{managed}"
        );
    }
    // github ↔ git equivalence in the blocklist, both ways.
    env.write_managed(
        None,
        &json!({"blockedMarketplaces": [{"source": "git", "url": "https://github.com/O/mkt.git"}]}),
    );
    let out = git_run(&env, &server, &["marketplace", "add", "o/mkt", "--json"]).fails();
    assert_eq!(
        out.json()["message"],
        "Marketplace source 'github:o/mkt' is blocked by enterprise policy."
    );
    assert_eq!(server.requests(), Vec::<String>::new());
    assert!(home_state(&env).is_empty(), "{:?}", home_state(&env));

    // Allowed by host: added (the server is asked), and rp installed.
    env.write_managed(
        None,
        &json!({"strictKnownMarketplaces": [{"source": "hostPattern", "hostPattern": "^127\\.0\\.0\\.1$"}]}),
    );
    git_run(&env, &server, &["marketplace", "add", &url]).ok();
    git_run(&env, &server, &["install", "rp@gm"]).ok();
    assert!(!server.requests().is_empty());
    age_marketplaces(&env);

    // Then blocked, in the SCP spelling of the same repository: nothing reaches the server.
    env.write_managed(
        None,
        &json!({"blockedMarketplaces": [{"source": "git", "url": "git@127.0.0.1:git/mkt"}]}),
    );
    let seen = server.requests().len();
    let before = home_state(&env);
    for args in [
        &["update", "rp", "--json"][..],
        &["update", "--all", "--json"],
        &["outdated", "--json"],
        &["marketplace", "update", "gm", "--json"],
    ] {
        let out = git_run(&env, &server, args).fails();
        let row = first_row(&out.json());
        assert_eq!(
            row["failureCode"], "marketplace_policy_blocked",
            "{args:?}: {row}"
        );
    }
    git_run(&env, &server, &["marketplace", "update"]).ok();
    let out = git_run(&env, &server, &["install", "rp@gm", "--json"]).ok();
    assert_eq!(out.json()["installedVersion"], "1.0.0");
    assert_eq!(
        server.requests()[seen..],
        [] as [String; 0],
        "no request once blocked"
    );
    assert_eq!(home_state(&env), before);

    env.run(&["uninstall", "rp@gm"]).ok();
    let out = git_run(&env, &server, &["install", "rp@gm", "--json"]).fails();
    assert_eq!(out.json()["failureCode"], "marketplace_policy_blocked");
    assert_eq!(server.requests().len(), seen);
}

/// Every guarded command, with `--json` where it has it.
const GUARDED: [&[&str]; 8] = [
    &["install", "p1@m1", "--json"],
    &["install", "p1", "--json"],
    &["update", "p1", "--json"],
    &["update", "--all", "--json"],
    &["outdated", "--json"],
    &["marketplace", "update", "m1", "--json"],
    &["marketplace", "update"],
    &["marketplace", "add", "M1", "--json"],
];

fn guarded_commands_fail(env: &Env, m1: &Path, expect_in_message: &[&str]) {
    let before = home_state(env);
    for args in GUARDED {
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "M1" { p(m1) } else { a })
            .collect();
        let out = env.run(&args).fails();
        for text in expect_in_message {
            assert!(out.stderr.contains(text), "{args:?}: {}", out.stderr);
        }
        if args.contains(&"--json") {
            let row = first_row(&out.json());
            assert_eq!(row["failureCode"], "managed_settings_invalid", "{args:?}");
            assert_eq!(row["outcome"], "failed");
        }
    }
    assert_eq!(home_state(env), before, "nothing changed");
}

#[test]
fn unreadable_or_invalid_policy_fails_closed() {
    let env = Env::new();
    let m1 = m1(&env);
    env.run(&["marketplace", "add", p(&m1)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let managed_file = env.managed().join("managed-settings.json");

    // Not JSON: the file, line and column are named.
    write(&managed_file, "{\n  \"strictKnownMarketplaces\": [,]\n}");
    guarded_commands_fail(
        &env,
        &m1,
        &[
            "Could not read the managed settings",
            &format!("{}:2:", managed_file.display()),
        ],
    );

    // A pattern that does not compile, in a drop-in: file, key, index and pattern named.
    env.write_managed(None, &json!({"model": "x"}));
    let drop_in = env.write_managed(
        Some("20-team.json"),
        &json!({"strictKnownMarketplaces": [
            {"source": "directory", "path": p(&m1)},
            {"source": "hostPattern", "hostPattern": "^(git"}
        ]}),
    );
    guarded_commands_fail(
        &env,
        &m1,
        &[&format!(
            "Invalid marketplace policy in managed settings {}: strictKnownMarketplaces[1]: hostPattern \"^(git\" is not a valid regular expression",
            drop_in.display()
        )],
    );

    // An entry of an unknown type in the blocklist.
    std::fs::remove_file(&drop_in).unwrap();
    env.write_managed(
        None,
        &json!({"blockedMarketplaces": [{"source": "svn", "url": "x"}]}),
    );
    guarded_commands_fail(
        &env,
        &m1,
        &["blockedMarketplaces[0]: unknown source \"svn\""],
    );

    // Unguarded commands still work: list, uninstall.
    env.run(&["list", "--json"]).ok();
    env.run(&["marketplace", "list", "--json"]).ok();
    env.run(&["uninstall", "p1@m1"]).ok();

    // Fixed: everything works again.
    env.write_managed(None, &json!({}));
    env.run(&["install", "p1@m1"]).ok();
    let v: Value = env.run(&["update", "p1", "--json"]).ok().json();
    assert_eq!(v["plugins"][0]["outcome"], "current");
}
