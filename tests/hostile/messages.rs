//! Messages that say what is wrong: a UTF-8 byte-order mark (BOM) at the start of a JSON file,
//! and a marketplace name too long for any install.

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use crate::common::*;

const BOM: &[u8] = b"\xef\xbb\xbf";

fn prepend_bom(path: &Path) {
    let bytes = fs::read(path).expect("read");
    let mut with = BOM.to_vec();
    with.extend_from_slice(&bytes);
    fs::write(path, with).expect("write");
}

/// Claude Code 2.1.328 reads a catalog, a plugin manifest and a settings file that start with a
/// BOM (probed); we read every state file with one too, and write them back without it.
#[test]
fn json_files_starting_with_a_bom_are_read() {
    let env = Env::new();
    let dir = m1(&env);
    prepend_bom(&dir.join(".claude-plugin/marketplace.json"));
    let manifest = dir.join("plugins/p1/.claude-plugin/plugin.json");
    fs::write(&manifest, r#"{"name":"p1","version":"2.5.0"}"#).expect("write");
    prepend_bom(&manifest);
    env.run(&["marketplace", "add", dir.to_str().expect("utf-8")])
        .ok();
    env.run(&["install", "p1@m1"]).ok();
    assert_eq!(env.first_record("p1@m1")["version"], "2.5.0");
    assert!(env.plugins().join("cache/m1/p1/2.5.0").is_dir());

    let settings = env.claude().join("settings.json");
    let installed = env.plugins().join("installed_plugins.json");
    let known = env.plugins().join("known_marketplaces.json");
    for f in [&settings, &installed, &known] {
        prepend_bom(f);
    }
    let list = env.run(&["list", "--json"]).ok().json();
    assert_eq!(list[0]["id"], "p1@m1");
    assert_eq!(list[0]["enabled"], true);
    env.run(&["marketplace", "list", "--json"]).ok();

    // A rewrite keeps every value and drops the BOM (as Claude Code does for settings.json).
    env.run(&["disable", "p1@m1"]).ok();
    let text = fs::read(&settings).expect("settings");
    assert!(!text.starts_with(BOM));
    let v: Value = serde_json::from_slice(&text).expect("json");
    assert_eq!(v["enabledPlugins"]["p1@m1"], false);
    assert!(v["extraKnownMarketplaces"]["m1"].is_object());
    env.run(&["uninstall", "p1@m1"]).ok();
    let text = fs::read(&installed).expect("installed");
    assert!(!text.starts_with(BOM));
    assert_eq!(env.installed()["plugins"], json!({}));
}

/// A hooks.json that starts with a BOM breaks the whole plugin in Claude Code (probed:
/// `Unrecognized token ''`); we say it is a BOM and how to fix it.
#[test]
fn a_bom_in_hooks_json_is_named() {
    let env = Env::new();
    let dir = m1(&env);
    let hooks = dir.join("plugins/p1/hooks/hooks.json");
    write(&hooks, r#"{"hooks":{}}"#);
    prepend_bom(&hooks);
    let r = env.run(&["validate", dir.join("plugins/p1").to_str().expect("utf-8")]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("byte-order mark (BOM)") && r.stdout.contains("without a BOM"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("expected value"), "{}", r.stdout);

    env.run(&["marketplace", "add", dir.to_str().expect("utf-8")])
        .ok();
    env.run(&["install", "p1@m1"]).ok();
    let r = env.run(&["resolve", "p1@m1"]);
    assert!(
        r.stderr.contains("byte-order mark (BOM)"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn a_marketplace_name_too_long_for_its_cache_folder_is_refused_when_added() {
    let env = Env::new();
    let name = "m".repeat(256);
    let dir = env.fx.join("long");
    plugin(&dir.join("p"), "p", Some("1.0.0"));
    marketplace(&dir, &name, r#"[{"name":"p","source":"./p"}]"#);
    let r = env
        .run(&["marketplace", "add", dir.to_str().expect("utf-8")])
        .fails();
    assert!(
        r.stderr.contains("is 256 bytes long, more than the 255")
            && r.stderr.contains("the catalog's \"name\" must be shorter"),
        "{}",
        r.stderr
    );
    assert!(!env.claude().exists(), "{:?}", tree(&env.home));

    // One byte less installs.
    let name = "m".repeat(255);
    marketplace(&dir, &name, r#"[{"name":"p","source":"./p"}]"#);
    env.run(&["marketplace", "add", dir.to_str().expect("utf-8")])
        .ok();
    env.run(&["install", &format!("p@{name}")]).ok();
}

/// A project's `.claude/settings.json` comes with its repository: a link to `/dev/zero` (which
/// git stores) or a FIFO must fail with a message, not fill memory or hang every command run
/// there.
#[cfg(unix)]
#[test]
fn project_settings_that_are_not_a_regular_file_fail_fast() {
    let env = Env::new();
    let settings = env.cwd.join(".claude/settings.json");
    fs::create_dir_all(settings.parent().expect("parent")).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", &settings).expect("symlink");
    let started = std::time::Instant::now();
    let r = env.run(&["list"]).fails();
    assert!(
        r.stderr
            .contains(".claude/settings.json: it is not a regular file"),
        "{}",
        r.stderr
    );
    fs::remove_file(&settings).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&settings)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let r = env.run(&["settings"]).fails();
    assert!(
        r.stderr.contains("it is not a regular file"),
        "{}",
        r.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// A catalog or manifest that is a FIFO never hangs a command: it is not read as one.
// FIFOs in folders are Unix's (and mkfifo a Linux program, which wine cannot start).
#[cfg(unix)]
#[test]
fn a_catalog_or_manifest_that_is_a_fifo_never_hangs() {
    let env = Env::new();
    let dir = m1(&env);
    env.run(&["marketplace", "add", dir.to_str().expect("utf-8")])
        .ok();
    let manifest = dir.join("plugins/p1/.claude-plugin/plugin.json");
    mkfifo_over(&manifest);
    // No manifest: the plugin installs without one, the FIFO left out with a warning.
    let r = run_within(&env, &["install", "p1@m1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("skipped .claude-plugin/plugin.json: it is not a regular file"),
        "{}",
        r.stderr
    );
    mkfifo_over(&dir.join(".claude-plugin/marketplace.json"));
    let r = run_within(&env, &["marketplace", "update", "m1"]);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    let r = run_within(&env, &["validate", dir.to_str().expect("utf-8")]);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
}

#[cfg(unix)]
fn mkfifo_over(path: &Path) {
    let _ = fs::remove_file(path);
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(made.success());
}

/// Run `plugin args`, failing the test (and killing the process) after 30 s.
#[cfg(unix)]
fn run_within(env: &Env, args: &[&str]) -> Run {
    use std::process::Stdio;
    let mut child = env
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("plugin {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().expect("output"))
}
