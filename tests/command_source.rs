// The commands of these fixtures are `sh` lines; Windows runs them through cmd.exe, which the
// tests under wine cannot drive, so this file runs on Unix only.
#![cfg(unix)]

//! `command` sources: shown and accepted before they run (`-y`, `--accept-command`, a
//! terminal), refused otherwise with nothing recorded; what an accepted command prints is
//! copied (or linked) with Claude Code's content-hash versions and recorded with
//! `sourceCommand` / `sourceProducerPath`; a changed command is not run until accepted again;
//! `sync` and `update --all` run only what was accepted; managed settings turn them off.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A plugin folder a command prints: Claude Code 2.1.328 gave this content the version
/// `3.1.0-95ac1429ec7e` (probed).
fn producer(env: &Env, name: &str) -> PathBuf {
    let dir = env.fx.join(name);
    write(
        &dir.join(".claude-plugin/plugin.json"),
        "{\"name\":\"cp\",\"version\":\"3.1.0\"}\n",
    );
    write(
        &dir.join("skills/s1/SKILL.md"),
        "---\nname: s1\ndescription: d\n---\nbody\n",
    );
    dir
}

/// Marketplace `cmk` with `entries`; added.
fn catalog(env: &Env, entries: Value) -> PathBuf {
    env.add_marketplace("cmk", &entries)
}

fn command_entry(name: &str, command: &str) -> Value {
    json!({"name": name, "source": {"source": "command", "command": command}})
}

/// The catalog's entries replaced (and the marketplace refreshed).
fn rewrite(env: &Env, dir: &Path, entries: Value) {
    marketplace(dir, "cmk", &entries.to_string());
    env.run(&["marketplace", "update", "cmk"]).ok();
}

fn disclosure(name: &str, command: &str, how: &str) -> String {
    format!(
        "\"{name}\" is installed by running a command from marketplace \"cmk\" on this machine:\n  {command}\n  ({how})\n"
    )
}

const COPY: &str = "mode \"copy\": its output directory is copied into the plugin cache";
const NOT_A_TERMINAL: &str = "Not an interactive terminal, so the command was only displayed, not accepted. Re-run in a terminal to confirm it, or pass -y/--yes to accept the command shown above.\n";

#[test]
fn a_command_is_shown_and_not_run_without_acceptance_then_installed_with_yes() {
    let env = Env::new();
    let prod = producer(&env, "prod");
    let ran = env.fx.join("ran");
    let command = format!("touch {} && echo {}", p(&ran), p(&prod));
    catalog(&env, json!([command_entry("cp", &command)]));
    let before = tree_with_content(&env.home);

    let out = env.run(&["install", "cp@cmk"]).fails();
    assert_eq!(
        out.stdout,
        format!(
            "{}{NOT_A_TERMINAL}Installing plugin \"cp@cmk\"...\n",
            disclosure("cp", &command, COPY)
        )
    );
    assert_eq!(
        out.stderr,
        format!(
            "cp@cmk is installed by running a command on this machine (`{command}`) that has not been reviewed yet, so it was not run. Review and accept it from its /plugin details pane, or in a terminal: run `plugin install cp@cmk`.\n"
        )
    );
    assert!(!ran.exists(), "the command did not run");
    assert_eq!(tree_with_content(&env.home), before, "nothing written");

    let out = env.run(&["install", "cp@cmk", "-y"]).ok();
    assert_eq!(
        out.stdout,
        format!(
            "{}Installing plugin \"cp@cmk\"...✔ Successfully installed plugin: cp@cmk (scope: user)\n",
            disclosure("cp", &command, COPY)
        )
    );
    assert!(ran.exists(), "the command ran");
    let rec = env.first_record("cp@cmk");
    let version = "3.1.0-95ac1429ec7e";
    let install_path = env.plugins().join("cache/cmk/cp").join(version);
    assert_eq!(rec["version"], version, "Claude Code's content hash");
    assert_eq!(rec["installPath"], p(&install_path));
    assert_eq!(rec["sourceCommand"], command);
    assert_eq!(rec["sourceProducerPath"], p(&prod));
    assert!(rec.get("gitCommitSha").is_none());
    let keys: Vec<&str> = rec
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "scope",
            "installPath",
            "version",
            "installedAt",
            "lastUpdated",
            "sourceCommand",
            "sourceProducerPath"
        ]
    );
    assert_eq!(
        fs::read_to_string(install_path.join("skills/s1/SKILL.md")).unwrap(),
        "---\nname: s1\ndescription: d\n---\nbody\n"
    );
    assert_eq!(env.settings()["enabledPlugins"]["cp@cmk"], true);

    // Installed: not run again by `install`.
    fs::remove_file(&ran).unwrap();
    let out = env.run(&["install", "cp@cmk"]).ok();
    assert_eq!(
        out.stdout,
        "Installing plugin \"cp@cmk\"...✔ Plugin \"cp@cmk\" is already installed (scope: user)\n"
    );
    assert!(!ran.exists());
}

#[test]
fn accept_command_takes_the_hash_of_exactly_what_was_shown() {
    let env = Env::new();
    let prod = producer(&env, "prod");
    let command = format!("echo {}", p(&prod));
    catalog(&env, json!([command_entry("cp", &command)]));

    let out = env.run(&["install", "cp@cmk", "--json"]).fails();
    let line = out.stdout.lines().last().unwrap();
    let doc: Value = serde_json::from_str(line).unwrap();
    assert_eq!(doc["failureCode"], "command_source_refused");
    let shown = &doc["shownCommand"];
    assert_eq!(shown["kind"], "command_source");
    assert_eq!(shown["pluginId"], "cp@cmk");
    assert_eq!(shown["command"], command);
    assert_eq!(shown["mode"], "copy");
    assert!(
        shown["catalogRevision"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let sha = shown["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    assert!(!env.plugins().join("installed_plugins.json").exists());

    // Another hash: shown, said so, not run.
    let other = "0".repeat(64);
    let out = env
        .run(&["install", "cp@cmk", "--accept-command", &other])
        .fails();
    assert!(out.stdout.contains("--accept-command does not name the command shown above (it may have changed since it was shown), so it was not run. Show it to the person again before accepting it.\n"), "{}", out.stdout);
    assert!(!env.plugins().join("installed_plugins.json").exists());

    // The catalog changed since it was shown: the old hash no longer accepts it.
    let dir = env.fx.join("cmk");
    rewrite(
        &env,
        &dir,
        json!([{"name": "cp", "description": "now described",
                 "source": {"source": "command", "command": command}}]),
    );
    env.run(&["install", "cp@cmk", "--accept-command", &sha])
        .fails();
    let out = env.run(&["install", "cp@cmk", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap();
    let sha = doc["shownCommand"]["sha256"].as_str().unwrap().to_string();
    env.run(&["install", "cp@cmk", "--accept-command", &sha.to_uppercase()])
        .ok();
    assert_eq!(env.first_record("cp@cmk")["version"], "3.1.0-95ac1429ec7e");
}

#[test]
fn update_runs_the_accepted_command_again_and_a_changed_one_only_when_accepted() {
    let env = Env::new();
    let prod = producer(&env, "prod");
    let command = format!("echo {}", p(&prod));
    let dir = catalog(&env, json!([command_entry("cp", &command)]));
    env.run(&["install", "cp@cmk", "-y"]).ok();

    // Same output: current, nothing asked.
    let out = env.run(&["update", "cp@cmk"]).ok();
    assert!(
        !out.stdout.contains("is installed by running"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("current 3.1.0-95ac1429ec7e"),
        "{}",
        out.stdout
    );

    // New content: a new version, without asking (the command is the accepted one).
    write(&prod.join("skills/s1/SKILL.md"), "changed\n");
    let out = env.run(&["update", "cp@cmk"]).ok();
    let rec = env.first_record("cp@cmk");
    let version = rec["version"].as_str().unwrap().to_string();
    assert!(version.starts_with("3.1.0-") && version != "3.1.0-95ac1429ec7e");
    assert!(
        out.stdout.contains(&format!("→ {version}")),
        "{}",
        out.stdout
    );
    assert_eq!(
        fs::read_to_string(
            env.plugins()
                .join("cache/cmk/cp")
                .join(&version)
                .join("skills/s1/SKILL.md")
        )
        .unwrap(),
        "changed\n"
    );

    // A changed command: shown as changed, refused in a pipe, the record kept.
    let ran = env.fx.join("ran");
    let changed = format!("touch {} && echo {}", p(&ran), p(&prod));
    rewrite(&env, &dir, json!([command_entry("cp", &changed)]));
    let out = env.run(&["install", "cp@cmk"]).ok();
    assert!(out.stdout.starts_with("\"cp\" is already installed, and its marketplace has since changed the command that installs it (or how its output is used). Review and accept it: run `plugin update cp@cmk`.\n"), "{}", out.stdout);
    let out = env.run(&["update", "cp@cmk"]).fails();
    assert!(out.stdout.starts_with(&format!(
        "\"cp\" is installed by running a command from marketplace \"cmk\" on this machine — and that command (or how its output is used) CHANGED since you accepted it:\n  {changed}\n"
    )), "{}", out.stdout);
    assert!(out.stderr.contains(&format!(
        "cp@cmk's marketplace changed the command that installs it, or how its output is used (now `{changed}`), since it was accepted, so it was not run. Review and accept the new command: run `plugin update cp@cmk` in a terminal (add `--scope` for a project/local install)."
    )), "{}", out.stderr);
    assert!(!ran.exists());
    assert_eq!(env.first_record("cp@cmk")["sourceCommand"], command);

    // Not with --all either.
    env.run(&["update", "--all"]).fails();
    assert!(!ran.exists());

    // Accepted: it runs, the content is the same, the new command is remembered.
    let out = env.run(&["update", "cp@cmk", "-y"]).ok();
    assert!(ran.exists());
    assert!(
        out.stdout.contains(&format!("current {version}")),
        "{}",
        out.stdout
    );
    let rec = env.first_record("cp@cmk");
    assert_eq!(rec["sourceCommand"], changed);
    assert_eq!(rec["version"], version.as_str());
    // And runs again without asking.
    fs::remove_file(&ran).unwrap();
    env.run(&["update", "--all"]).ok();
    assert!(ran.exists());
}

#[test]
fn what_the_command_prints_is_checked() {
    let env = Env::new();
    let prod = producer(&env, "prod");
    let empty = env.fx.join("empty");
    fs::create_dir_all(&empty).unwrap();
    let file = env.fx.join("file");
    fs::write(&file, "x").unwrap();
    let cases: Vec<(&str, String, String)> = vec![
        (
            "relative",
            "echo relative/x".into(),
            "✘ Failed to install plugin \"relative@cmk\": Plugin source command `echo relative/x` printed `relative/x`, which is not an absolute path.".into(),
        ),
        (
            "exit",
            "echo oops >&2; exit 3".into(),
            "✘ Failed to install plugin \"exit@cmk\": Plugin source command `echo oops >&2; exit 3` exited with code 3: oops".into(),
        ),
        (
            "silent",
            "exit 4".into(),
            "✘ Failed to install plugin \"silent@cmk\": Plugin source command `exit 4` exited with code 4 and no error output.".into(),
        ),
        (
            "nothing",
            "true".into(),
            "✘ Failed to install plugin \"nothing@cmk\": Plugin source command `true` printed nothing; it must print the absolute path of the plugin directory.".into(),
        ),
        (
            "lines",
            format!("echo {0}; echo {0}", p(&prod)),
            format!("✘ Failed to install plugin \"lines@cmk\": Plugin source command `echo {0}; echo {0}` printed 2 lines; it must print exactly one absolute path.", p(&prod)),
        ),
        (
            "empty",
            format!("echo {}", p(&empty)),
            format!("✘ Failed to install plugin \"empty@cmk\": Plugin source command `echo {0}` printed `{0}`, but that directory has no plugin content (expected .claude-plugin/ or a commands/, skills/, agents/, hooks/, themes/, output-styles/, monitors/, workflows/, SKILL.md, .mcp.json, or .lsp.json at the top level). Nothing was installed.", p(&empty)),
        ),
        (
            "file",
            format!("echo {}", p(&file)),
            format!("✘ Failed to install plugin \"file@cmk\": Plugin source command `echo {0}` printed `{0}`, which is not a directory.", p(&file)),
        ),
        (
            "missing",
            "echo /nonexistent/plugin".into(),
            "✘ Failed to install plugin \"missing@cmk\": Plugin source command `echo /nonexistent/plugin` printed `/nonexistent/plugin`, but that path could not be resolved (ENOENT).".into(),
        ),
        (
            "slow",
            "sleep 30".into(),
            "✘ Failed to install plugin \"slow@cmk\": Plugin source command `sleep 30` did not finish within 1s and was stopped.".into(),
        ),
        (
            // The folder this runs in (the test's working folder is inside fx's parent).
            "ancestor",
            format!("echo {}", p(env.cwd.parent().unwrap())),
            format!("Plugin source command printed the working directory or one of its parents ({}); refusing to use it as a plugin.", p(env.cwd.parent().unwrap())),
        ),
    ];
    // The working folder's parent needs plugin content to get as far as that check.
    fs::create_dir_all(env.cwd.parent().unwrap().join("skills")).unwrap();
    let entries: Vec<Value> = (cases.iter())
        .map(|(name, command, _)| {
            let mut e = command_entry(name, command);
            if *name == "slow" {
                e["source"]["timeout"] = json!(1);
            }
            e
        })
        .collect();
    catalog(&env, Value::Array(entries));
    let before = tree_with_content(&env.plugins());
    for (name, _, message) in &cases {
        let started = std::time::Instant::now();
        let out = env.run(&["install", &format!("{name}@cmk"), "-y"]).fails();
        assert_eq!(out.stderr, format!("{message}\n"), "{name}");
        if *name == "slow" {
            assert!(started.elapsed().as_secs() < 20, "stopped at its timeout");
        }
    }
    assert_eq!(tree_with_content(&env.plugins()), before, "nothing written");
}

#[test]
fn link_mode_links_each_top_level_entry_and_refuses_links_out_of_the_folder() {
    let env = Env::new();
    let prod = producer(&env, "prod");
    let command = format!("echo {}", p(&prod));
    catalog(
        &env,
        json!([{"name": "lp", "source": {"source": "command", "command": command, "mode": "link"}}]),
    );
    let out = env.run(&["install", "lp@cmk", "-y"]).ok();
    assert!(
        out.stdout.contains(
            "(mode \"link\": its output directory is used in place (linked, not copied))"
        )
    );
    let rec = env.first_record("lp@cmk");
    assert_eq!(rec["sourceCommand"], format!("{command}\n[mode: link]"));
    let dir = PathBuf::from(rec["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_link(dir.join("skills")).unwrap(),
        prod.join("skills")
    );
    assert_eq!(
        fs::read_link(dir.join(".claude-plugin")).unwrap(),
        prod.join(".claude-plugin")
    );
    assert_eq!(
        env.read_json(&dir.join(".claude-plugin-link")),
        json!({"target": p(&prod)})
    );
    // The version hashes where the links point, not the content.
    write(&prod.join("skills/s1/SKILL.md"), "changed\n");
    let out = env.run(&["update", "lp@cmk"]).ok();
    assert!(out.stdout.contains("current"), "{}", out.stdout);
    assert_eq!(
        fs::read_to_string(dir.join("skills/s1/SKILL.md")).unwrap(),
        "changed\n"
    );

    // A top-level link out of the printed folder.
    let outside = env.fx.join("outside");
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, prod.join("agents")).unwrap();
    let out = env.run(&["update", "lp@cmk"]).fails();
    assert!(out.stderr.contains("A top-level entry of the plugin directory its command produced (agents) points outside that directory; refusing to link it."), "{}", out.stderr);

    // Removing the installation never reaches through the links into the printed folder.
    env.run(&["uninstall", "lp@cmk"]).ok();
    env.run(&["cache", "prune", "--keep", "0", "--older-than", "0"])
        .ok();
    assert!(!dir.exists());
    assert_eq!(
        fs::read_to_string(prod.join("skills/s1/SKILL.md")).unwrap(),
        "changed\n"
    );
    assert!(prod.join(".claude-plugin/plugin.json").is_file());
}

#[test]
fn managed_settings_turn_command_sources_off_and_sync_never_asks() {
    let env = Env::new();
    let prod = producer(&env, "prod");
    let ran = env.fx.join("ran");
    let command = format!("touch {} && echo {}", p(&ran), p(&prod));
    catalog(
        &env,
        json!([
            command_entry("cp", &command),
            command_entry("cq", &format!("echo {}", p(&prod)))
        ]),
    );

    for policy in [
        json!({"disableCommandPluginSources": true}),
        json!({"allowManagedHooksOnly": true}),
    ] {
        env.write_managed(None, &policy);
        let out = env.run(&["install", "cp@cmk", "-y"]).fails();
        assert_eq!(
            out.stderr,
            "Command-sourced plugins are disabled by your organization's managed settings (disableCommandPluginSources / allowManagedHooksOnly). The plugin was not installed or updated and its command was not run.\n"
        );
        assert!(!ran.exists());
    }
    // Explicitly allowed despite allowManagedHooksOnly.
    env.write_managed(
        None,
        &json!({"allowManagedHooksOnly": true, "disableCommandPluginSources": false}),
    );
    env.run(&["install", "cq@cmk", "-y"]).ok();
    fs::remove_dir_all(env.managed()).unwrap();

    // Settings enable it, nothing was accepted: sync does not run it.
    let settings = env.claude().join("settings.json");
    let mut doc = env.read_json(&settings);
    doc["enabledPlugins"] = json!({"cp@cmk": true});
    fs::write(&settings, doc.to_string()).unwrap();
    let out = env.run(&["sync"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("cp@cmk is installed by running a command on this machine"),
        "{}",
        out.stderr
    );
    assert!(!ran.exists(), "sync never runs a command not accepted");
    assert!(env.installed()["plugins"].get("cp@cmk").is_none());
}

/// At a terminal the person is asked; `y` runs it, anything else does not (util-linux's
/// `script` gives the command a terminal).
#[cfg(target_os = "linux")]
#[test]
fn at_a_terminal_the_person_is_asked() {
    let env = Env::new();
    let prod = producer(&env, "prod");
    let command = format!("echo {}", p(&prod));
    catalog(
        &env,
        json!([command_entry("cp", &command), command_entry("cq", &command)]),
    );
    let out = env.at_terminal("install cp@cmk", "y\n");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Run this command now? [y/N] "),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("cp@cmk")["sourceCommand"], command);

    let out = env.at_terminal("install cq@cmk", "n\n");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Aborted — the command was not run."),
        "{}",
        out.stdout
    );
    assert!(env.installed()["plugins"].get("cq@cmk").is_none());
}

#[test]
fn a_copied_folder_has_claude_codes_limits() {
    let env = Env::new();
    let prod = producer(&env, "big");
    let many = prod.join("skills/many");
    fs::create_dir_all(&many).unwrap();
    for i in 0..20_001 {
        fs::write(many.join(format!("f{i}")), "").unwrap();
    }
    catalog(
        &env,
        json!([command_entry("big", &format!("echo {}", p(&prod)))]),
    );
    let out = env.run(&["install", "big@cmk", "-y"]).fails();
    assert_eq!(
        out.stderr,
        "✘ Failed to install plugin \"big@cmk\": Plugin directory has more than 20000 entries; refusing to install it as a plugin.\n"
    );
    assert!(!env.plugins().join("installed_plugins.json").exists());
}
