//! Concurrency tests (issue 2): many `plugin` processes changing one HOME at the same time must
//! all succeed and lose nothing (Claude Code loses up to 60 % of the entries, spec §14.1).
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Instant;

use common::{Env, join, marketplace, plugin};
use serde_json::Value;

const STAGING_PREFIX: &str = ".plugin-staging-";

/// Spawn every command before waiting for any; all must exit 0. Returns their stdouts.
#[track_caller]
fn run_all_at_once(env: &Env, commands: &[Vec<String>]) -> Vec<String> {
    let children: Vec<(String, Child)> = commands
        .iter()
        .map(|args| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let child = env
                .command(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn plugin");
            (args.join(" "), child)
        })
        .collect();
    let mut failures = Vec::new();
    let mut stdouts = Vec::new();
    for (what, child) in children {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            failures.push(format!(
                "`plugin {what}` exited with {}\nstdout: {stdout}\nstderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        stdouts.push(stdout);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    stdouts
}

/// Everything under `cache/` whose name starts with the staging prefix, at any depth.
fn staging_leftovers(env: &Env) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                out.push(e.path());
            } else if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&e.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&env.plugins().join("cache"), &mut out);
    out
}

/// Temporary files of atomic JSON writes left next to the state files.
fn json_temp_leftovers(env: &Env) -> Vec<PathBuf> {
    [env.claude(), env.plugins()]
        .iter()
        .flat_map(|d| fs::read_dir(d).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".json.plugin-tmp-"))
        .collect()
}

#[track_caller]
fn assert_no_leftovers(env: &Env) {
    let staging = staging_leftovers(env);
    assert!(staging.is_empty(), "staging leftovers: {staging:?}");
    let temps = json_temp_leftovers(env);
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
}

/// Panic unless `dir` holds a marker whose `files` count equals the regular files beside it.
#[track_caller]
fn assert_valid_marker(dir: &Path, version: &str) {
    fn count(dir: &Path) -> u64 {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| {
                let t = e.file_type().unwrap();
                if t.is_dir() {
                    count(&e.path())
                } else {
                    u64::from(t.is_file())
                }
            })
            .sum()
    }
    let text = fs::read_to_string(dir.join(".plugin-ok"))
        .unwrap_or_else(|e| panic!("{}: no marker ({e})", dir.display()));
    let marker: Value = serde_json::from_str(&text).expect("marker JSON");
    assert_eq!(marker["version"], version, "{text}");
    // The marker and the listing are bookkeeping, not content.
    assert_eq!(
        marker["files"].as_u64(),
        Some(count(dir) - 2),
        "{}: {text}",
        dir.display()
    );
    common::assert_sealed(dir);
}

/// `count` small plugins `c0`… `c<count-1>` (version 1.0.0) in marketplace `m`.
fn many_plugins(env: &Env, count: usize) -> PathBuf {
    let dir = env.fx.join("m");
    let mut entries = Vec::new();
    for i in 0..count {
        let name = format!("c{i}");
        plugin(&dir.join("plugins").join(&name), &name, Some("1.0.0"));
        entries.push(serde_json::json!({"name": name, "source": format!("./plugins/{name}")}));
    }
    marketplace(&dir, "m", &Value::Array(entries).to_string());
    dir
}

#[test]
fn twenty_parallel_installs_of_different_plugins_all_land() {
    const N: usize = 20;
    for round in 0..3 {
        let env = Env::new();
        let mkt = many_plugins(&env, N);
        env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
        let commands: Vec<Vec<String>> = (0..N)
            .map(|i| vec!["install".into(), format!("c{i}@m")])
            .collect();
        let start = Instant::now();
        run_all_at_once(&env, &commands);
        eprintln!(
            "concurrency: round {round}: {N} parallel installs in {:.2?}",
            start.elapsed()
        );

        let installed = env.installed();
        let plugins = installed["plugins"].as_object().unwrap();
        assert_eq!(plugins.len(), N, "round {round}: {installed:#}");
        let enabled = env.settings()["enabledPlugins"].clone();
        let enabled = enabled.as_object().unwrap();
        assert_eq!(enabled.len(), N, "round {round}: {enabled:?}");
        for i in 0..N {
            let id = format!("c{i}@m");
            let records = plugins[&id].as_array().unwrap();
            assert_eq!(records.len(), 1, "round {round}: {id}: {records:?}");
            let path = join(&env.plugins(), &format!("cache/m/c{i}/1.0.0"));
            assert_eq!(records[0]["installPath"], path.to_str().unwrap());
            assert_valid_marker(&path, "1.0.0");
            assert_eq!(enabled[&id], true, "round {round}: {id}");
        }
        assert_eq!(env.known()["m"]["source"]["source"], "directory");
        assert_no_leftovers(&env);
    }
}

#[test]
fn parallel_installs_of_the_same_plugin_publish_once() {
    const N: usize = 8;
    const FILLER: usize = 200;
    for round in 0..3 {
        let env = Env::new();
        let mkt = many_plugins(&env, 1);
        // Enough files that the copies of the processes overlap.
        for f in 0..FILLER {
            common::write(&mkt.join(format!("plugins/c0/data/f{f}.txt")), "x\n");
        }
        env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
        let commands = vec![vec!["install".into(), "c0@m".into(), "--json".into()]; N];
        let start = Instant::now();
        let stdouts = run_all_at_once(&env, &commands);
        let already = stdouts
            .iter()
            .filter(|o| o.contains("\"installedVersion\""))
            .count();
        eprintln!(
            "concurrency: round {round}: {N} parallel installs of one plugin in {:.2?} \
             ({} installed, {already} found it installed)",
            start.elapsed(),
            N - already
        );
        assert!(already < N, "nobody installed it: {stdouts:?}");

        let installed = env.installed();
        let plugins = installed["plugins"].as_object().unwrap();
        assert_eq!(plugins.len(), 1, "{installed:#}");
        assert_eq!(
            plugins["c0@m"].as_array().unwrap().len(),
            1,
            "{installed:#}"
        );
        let plugin_dir = env.plugins().join("cache/m/c0");
        let entries: Vec<String> = fs::read_dir(&plugin_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries, ["1.0.0"], "round {round}");
        assert_valid_marker(&plugin_dir.join("1.0.0"), "1.0.0");
        assert_eq!(env.settings()["enabledPlugins"]["c0@m"], true);
        assert_no_leftovers(&env);
    }
}

#[test]
fn parallel_marketplace_adds_are_all_recorded() {
    const N: usize = 10;
    for round in 0..3 {
        let env = Env::new();
        let mut commands = Vec::new();
        for i in 0..N {
            let dir = env.fx.join(format!("mk{i}"));
            plugin(&dir.join("plugins/p"), "p", Some("1.0.0"));
            marketplace(
                &dir,
                &format!("mk{i}"),
                r#"[{"name":"p","source":"./plugins/p"}]"#,
            );
            commands.push(vec![
                "marketplace".to_string(),
                "add".to_string(),
                dir.to_string_lossy().into_owned(),
            ]);
        }
        let start = Instant::now();
        run_all_at_once(&env, &commands);
        eprintln!(
            "concurrency: round {round}: {N} parallel marketplace adds in {:.2?}",
            start.elapsed()
        );

        let known = env.known();
        let extra = env.settings()["extraKnownMarketplaces"].clone();
        for i in 0..N {
            let name = format!("mk{i}");
            let path = env.fx.join(&name);
            let path = path.to_str().unwrap();
            assert_eq!(
                known[&name]["source"],
                serde_json::json!({"source": "directory", "path": path}),
                "round {round}: {known:#}"
            );
            assert_eq!(known[&name]["installLocation"], path);
            assert_eq!(
                extra[&name]["source"],
                serde_json::json!({"source": "directory", "path": path}),
                "round {round}: {extra:#}"
            );
        }
        assert_eq!(known.as_object().unwrap().len(), N, "{known:#}");
        assert_eq!(extra.as_object().unwrap().len(), N, "{extra:#}");
        assert!(json_temp_leftovers(&env).is_empty());
    }
}
