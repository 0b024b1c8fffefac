//! `plugin configure`: options listed and set as Claude Code 2.1.328's `claude plugin configure`
//! (the expected texts are what it printed for the same plugin, probed 2026-12-07); values
//! checked before anything is written; secrets in a 0600 file and never in a message.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::io::Write;
use std::process::Stdio;

use common::*;
use serde_json::{Value, json};

const OPTIONS: &str = r#"{"name":"p","version":"1.0.0",
 "mcpServers":{"api":{"command":"srv","env":{"TOKEN":"${user_config.token}","URL":"${user_config.api_url}"}}},
 "userConfig":{
 "api_url":{"type":"string","title":"API URL","description":"Where","default":"https://x"},
 "token":{"type":"string","title":"Token","description":"Secret","sensitive":true},
 "n":{"type":"number","title":"Count","description":"How many","min":1,"max":10},
 "flag":{"type":"boolean","title":"Flag","description":"On?"},
 "mode":{"type":"string","title":"Mode","description":"Which","options":["fast","slow"],"default":"fast"},
 "req":{"type":"string","title":"req","description":"Needed","required":true}
}}"#;

fn setup() -> Env {
    let env = Env::new();
    let m = env.fx.join("cm");
    write(&join(&m, "p/.claude-plugin/plugin.json"), OPTIONS);
    plugin(&m.join("q"), "q", Some("1.0.0"));
    marketplace(
        &m,
        "cm",
        r#"[{"name":"p","source":"./p"},{"name":"q","source":"./q"}]"#,
    );
    env.run(&["marketplace", "add", m.to_str().unwrap()]).ok();
    env.run(&["install", "p@cm"]).ok();
    env.run(&["install", "q@cm"]).ok();
    env
}

fn piped(env: &Env, args: &[&str], input: &str) -> Run {
    let mut c = env.command(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().expect("wait"))
}

fn settings(env: &Env) -> Value {
    serde_json::from_str(&std::fs::read_to_string(env.home.join(".claude/settings.json")).unwrap())
        .unwrap()
}

fn credentials(env: &Env) -> std::path::PathBuf {
    env.home.join(".claude/.credentials.json")
}

/// Everything under HOME: a refused value must change none of it.
fn home_files(env: &Env) -> Vec<String> {
    tree_with_content(&env.home)
}

#[test]
fn options_are_listed_as_claude_code_lists_them() {
    let env = setup();
    let r = env.run(&["configure", "p@cm"]).ok();
    assert_eq!(
        r.stdout,
        "Options for p (p@cm):\n  ❯ api_url — API URL (optional, not set)\n  ❯ token — Token (optional, sensitive, not set)\n  ❯ n — Count (optional, not set)\n  ❯ flag — Flag (optional, not set)\n  ❯ mode — Mode (optional, not set)\n  ❯ req (required, not set)\n\nSet values with /plugin configure <plugin> in Claude Code, or pipe a JSON object to `plugin configure <plugin> --values-stdin`.\n"
    );
    let v = env.run(&["configure", "p@cm", "--json"]).ok().json();
    assert_eq!(
        v["inputs"],
        json!({"api_url": "", "token": "", "n": "", "flag": "false", "mode": "fast", "req": ""})
    );
    assert_eq!(
        v["choices"],
        json!({"flag": ["true", "false"], "mode": ["fast", "slow"]})
    );
    // The schema's keys in Claude Code's order (`default` before `options`).
    let mode: Vec<&String> = v["schema"]["mode"].as_object().unwrap().keys().collect();
    assert_eq!(mode, ["type", "title", "description", "default", "options"]);
    assert_eq!(v["configured"], json!([]));
    assert_eq!(v["unconfigured"].as_array().unwrap().len(), 6);
    assert_eq!(
        env.run(&["configure", "q@cm"]).ok().stdout,
        "q (q@cm) has no options to set.\n"
    );
    // The full id is needed, as in Claude Code.
    let r = env.run(&["configure", "p"]).fails();
    assert_eq!(
        r.stderr.trim_end(),
        "✘ No installed plugin has the id \"p\". Use its full id (name@marketplace), as `plugin list` shows it."
    );
}

#[test]
fn values_are_coerced_and_secrets_kept_apart() {
    let env = setup();
    let r = piped(
        &env,
        &["configure", "p@cm", "--values-stdin"],
        r#"{"api_url":"https://y","token":"s3cr3t","n":"5","flag":"yes","mode":"slow","req":"r"}"#,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "Configuration saved. Restart Claude Code to apply it.\n"
    );
    assert_eq!(
        settings(&env)["pluginConfigs"],
        json!({"p@cm": {"options": {"api_url": "https://y", "n": 5, "flag": true, "mode": "slow", "req": "r"}}})
    );
    assert_eq!(
        std::fs::read_to_string(credentials(&env)).unwrap(),
        r#"{"pluginSecrets":{"p@cm":{"token":"s3cr3t"}}}"#
    );
    #[cfg(unix)]
    assert_eq!(mode(&credentials(&env)) & 0o777, 0o600);
    let v = env.run(&["configure", "p@cm", "--json"]).ok().json();
    assert_eq!(v["inputs"]["token"], "", "a secret is never shown");
    assert_eq!(v["inputs"]["n"], "5");
    assert_eq!(v["unconfigured"], json!([]));
    assert!(
        !env.run(&["configure", "p@cm"])
            .ok()
            .stdout
            .contains("s3cr3t")
    );

    // Nothing new: said so. A blank secret keeps the one held.
    let r = piped(
        &env,
        &["configure", "p@cm", "--values-stdin"],
        r#"{"token":""}"#,
    );
    assert_eq!(r.stdout, "No configuration changes.\n");
    let r = piped(
        &env,
        &["configure", "p@cm", "--values-stdin", "--json"],
        r#"{"n":"7"}"#,
    );
    assert_eq!(
        r.json(),
        json!({"pluginId": "p@cm", "displayName": "p", "saved": ["n"], "unconfigured": []})
    );
    // Other keys of the credentials file (Claude Code's own sign-in) are kept.
    let mut held: Value =
        serde_json::from_str(&std::fs::read_to_string(credentials(&env)).unwrap()).unwrap();
    held["claudeAiOauth"] = json!({"accessToken": "keep-me"});
    write(&credentials(&env), &held.to_string());
    piped(
        &env,
        &["configure", "p@cm", "--values-stdin"],
        r#"{"token":"t2"}"#,
    );
    let now: Value =
        serde_json::from_str(&std::fs::read_to_string(credentials(&env)).unwrap()).unwrap();
    assert_eq!(now["claudeAiOauth"]["accessToken"], "keep-me");
    assert_eq!(now["pluginSecrets"]["p@cm"]["token"], "t2");
}

#[test]
fn a_refused_value_writes_nothing_and_says_why() {
    let env = setup();
    for (input, said) in [
        (
            r#"{"zz":"1","yy":"2"}"#,
            "Failed to save configuration: This plugin has no options \"zz\", \"yy\". Known options: api_url, token, n, flag, mode, req.",
        ),
        (
            r#"{"n":"50"}"#,
            "Failed to save configuration: Count: It takes a number between 1 and 10.",
        ),
        (
            r#"{"flag":"maybe"}"#,
            "Failed to save configuration: Flag must be true or false (or 1/0, yes/no, on/off).",
        ),
        (
            "{\"api_url\":\"a\\nb\"}",
            "Failed to save configuration: API URL must be a single line.",
        ),
        (
            r#"{"req":"  "}"#,
            "Failed to save configuration: req is required but not provided",
        ),
        (
            r#"{"mode":"medium"}"#,
            "Failed to save configuration: Mode must be one of: fast, slow",
        ),
        (
            "not json",
            "The input on stdin isn't a JSON object of strings. Example: plugin configure <plugin> --values-stdin < values.json",
        ),
        (
            r#"{"n":5}"#,
            "The input on stdin isn't a JSON object of strings. Example: plugin configure <plugin> --values-stdin < values.json",
        ),
    ] {
        let before = home_files(&env);
        let r = piped(&env, &["configure", "p@cm", "--values-stdin"], input);
        assert_eq!(r.code, 1, "{input}");
        assert_eq!(r.stderr.trim_end(), format!("✘ {said}"), "{input}");
        assert_eq!(home_files(&env), before, "{input} changed the disk");
    }
    // A secret given beside a refused value appears in no message.
    let r = piped(
        &env,
        &["configure", "p@cm", "--values-stdin", "--json"],
        r#"{"token":"hunter2","mode":"hunter2"}"#,
    );
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"));
    assert_eq!(
        r.json()["refused"],
        json!({"option": "mode", "message": "Mode must be one of: fast, slow"})
    );
    assert!(!credentials(&env).exists());
}

#[test]
fn install_says_what_is_unset_and_takes_config_values() {
    let env = setup();
    // Already installed: Claude Code's hint about the options still unset.
    let v = env.run(&["install", "p@cm", "--json"]).ok().json();
    assert_eq!(v["unsetOptionCount"], 6);
    assert!(
        v["message"].as_str().unwrap().ends_with(
            "\n6 userConfig options not yet set (1 required) — run /plugin configure p@cm in Claude Code, or pass --config KEY=VALUE."
        ),
        "{v}"
    );
    let v = env
        .run(&[
            "install",
            "p@cm",
            "--config",
            "n=3",
            "--config",
            "token=abc",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        (v["configApplied"].clone(), v["unsetOptionCount"].clone()),
        (json!(true), json!(4))
    );
    assert_eq!(
        settings(&env)["pluginConfigs"]["p@cm"]["options"],
        json!({"n": 3})
    );
    assert_eq!(
        std::fs::read_to_string(credentials(&env)).unwrap(),
        r#"{"pluginSecrets":{"p@cm":{"token":"abc"}}}"#
    );
    // Refused values: the install stands, the values are not written, and it says why.
    let before = settings(&env);
    let r = env.run(&["install", "p@cm", "--config", "n=99"]).ok();
    assert!(
        r.stdout
            .contains("⚠ Installed, but --config not applied: --config validation failed: Count must be at most 10"),
        "{}",
        r.stdout
    );
    let v = env
        .run(&["install", "p@cm", "--config", "zz=1", "--json"])
        .ok()
        .json();
    assert_eq!(v["configApplied"], false);
    assert!(v["message"].as_str().unwrap().ends_with(
        "⚠ Installed, but --config not applied: --config key \"zz\" isn't declared in this plugin's userConfig. Known keys: api_url, token, n, flag, mode, req."
    ));
    assert_eq!(settings(&env), before);
    // No options: no hint.
    let v = env.run(&["install", "q@cm", "--json"]).ok().json();
    assert!(v.get("unsetOptionCount").is_none());
}

#[test]
fn resolve_substitutes_secrets_but_shows_them_only_when_asked() {
    let env = setup();
    let r = piped(
        &env,
        &["configure", "p@cm", "--values-stdin"],
        r#"{"token":"s3cr3t","api_url":"https://y"}"#,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let masked = env.run(&["resolve", "p@cm", "--json"]).ok();
    assert!(!masked.stdout.contains("s3cr3t"), "{}", masked.stdout);
    let v = masked.json();
    let server = &v["components"]["mcpServers"]["api"]["config"]["env"];
    assert_eq!(server["TOKEN"], "********");
    assert_eq!(server["URL"], "https://y");
    assert_eq!(
        v["userConfig"]["token"],
        json!({"value": "********", "from": "secrets"})
    );
    let human = env.run(&["resolve", "p@cm"]).ok();
    assert!(!human.stdout.contains("s3cr3t") && !human.stderr.contains("s3cr3t"));
    let shown = env
        .run(&["resolve", "p@cm", "--json", "--show-secrets"])
        .ok()
        .json();
    assert_eq!(
        shown["components"]["mcpServers"]["api"]["config"]["env"]["TOKEN"],
        "s3cr3t"
    );
}

/// Settings and secrets change in one step: when the secrets file cannot be written after the
/// settings were, the settings are put back as they were.
#[cfg(unix)] // a dangling symbolic link stands for a secrets file that cannot be written
#[test]
fn a_failed_secrets_write_puts_the_settings_back() {
    let env = setup();
    let before = std::fs::read(env.home.join(".claude/settings.json")).unwrap();
    std::os::unix::fs::symlink(
        env.home.join("no-such-folder/creds.json"),
        credentials(&env),
    )
    .unwrap();
    let r = piped(
        &env,
        &["configure", "p@cm", "--values-stdin"],
        r#"{"api_url":"https://y","token":"s3cr3t"}"#,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.starts_with("✘ "), "{}", r.stderr);
    assert!(!r.stderr.contains("s3cr3t"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(env.home.join(".claude/settings.json")).unwrap(),
        before
    );
}
