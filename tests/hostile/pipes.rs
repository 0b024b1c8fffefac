//! Closed pipes: a reader that goes away (`plugin list --json | head -c 0`) ends printing
//! quietly. The command still does its work and exits with the code it has with a reader; it
//! never panics (exit 101).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

/// Which standard streams have no reader.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Both,
}

/// Run `cmd` with stdout (and maybe stderr) a pipe whose read end is closed before the command
/// starts, so its first write fails with EPIPE every time (no race with a reader).
fn run_unread(mut cmd: Command, closed: Closed) -> Run {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    cmd.stdin(Stdio::null());
    match closed {
        Closed::Stdout => {
            cmd.stdout(writer).stderr(Stdio::piped());
        }
        Closed::Both => {
            cmd.stdout(writer.try_clone().expect("dup")).stderr(writer);
        }
    }
    Run::from(cmd.output().expect("run plugin"))
}

/// A marketplace with `n` plugins (large enough listings that one write does not hold them).
fn big_marketplace(env: &Env, n: usize) -> std::path::PathBuf {
    let dir = env.fx.join("big");
    let mut entries = Vec::new();
    for i in 0..n {
        let name = format!("p{i}");
        plugin(&dir.join("plugins").join(&name), &name, Some("1.0.0"));
        entries.push(serde_json::json!({
            "name": name,
            "source": format!("./plugins/{name}"),
            "description": "x".repeat(200),
        }));
    }
    marketplace(&dir, "big", &serde_json::Value::from(entries).to_string());
    dir
}

fn str_of(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn every_printing_command_ends_quietly_on_a_closed_pipe() {
    let env = Env::new();
    let dir = big_marketplace(&env, 60);
    env.run(&["marketplace", "add", str_of(&dir)]).ok();
    for i in 0..40 {
        env.run(&["install", &format!("p{i}@big")]).ok();
    }
    let dir_s = str_of(&dir).to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["list", "--available", "--json"],
        vec!["marketplace", "list"],
        vec!["marketplace", "list", "--json"],
        vec!["outdated"],
        vec!["outdated", "--json"],
        vec!["cache", "verify"],
        vec!["cache", "verify", "--json"],
        vec!["cache", "dir"],
        vec!["cache", "prune", "--dry-run"],
        vec!["resolve", "p1@big"],
        vec!["resolve", "p1@big", "--json"],
        vec!["validate", &dir_s],
        vec!["validate", &dir_s, "--json"],
        vec!["settings"],
        vec!["settings", "--json"],
        vec!["update", "--all", "--no-refresh"],
        vec!["update", "--all", "--no-refresh", "--json"],
        vec!["sync", "--dry-run"],
        vec!["install", "p1@big"],
        vec!["install", "nope@big"],
        vec!["--help"],
        vec!["list", "--no-such-flag"],
    ];
    for args in &commands {
        let expected = env.run(args).code;
        for closed in [Closed::Stdout, Closed::Both] {
            let r = run_unread(env.command(args), closed);
            assert_eq!(
                r.code, expected,
                "plugin {args:?} with {closed:?} closed: exit {} (with a reader: {expected})\nstderr: {}",
                r.code, r.stderr
            );
            assert!(
                !r.stderr.contains("panicked") && !r.stderr.contains("Broken pipe"),
                "plugin {args:?}: {}",
                r.stderr
            );
        }
    }
}

#[test]
fn a_command_with_no_reader_still_does_its_work() {
    let env = Env::new();
    let dir = big_marketplace(&env, 3);
    env.run(&["marketplace", "add", str_of(&dir)]).ok();
    let r = run_unread(env.command(&["install", "p2@big"]), Closed::Both);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.first_record("p2@big")["version"], "1.0.0");
    assert!(
        env.plugins()
            .join("cache/big/p2/1.0.0/commands/c.md")
            .is_file()
    );
    assert_eq!(env.settings()["enabledPlugins"]["p2@big"], true);

    let r = run_unread(
        env.command(&["uninstall", "p2@big", "--json"]),
        Closed::Stdout,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.installed()["plugins"].get("p2@big").is_none());
}

/// Output that cannot be written for another reason than a gone reader (here: a full device)
/// fails the command, since what it was asked to print is incomplete.
#[test]
fn a_failed_write_to_stdout_is_a_failure() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let env = Env::new();
    let dir = big_marketplace(&env, 3);
    env.run(&["marketplace", "add", str_of(&dir)]).ok();
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = env.command(&["marketplace", "list", "--json"]);
    cmd.stdout(full);
    let r = Run::from(cmd.output().expect("run plugin"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}
