//! `plugin cache prune` and `plugin cache dir` against real installs, real markers, real
//! processes and the real cache lock.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Env, copy_tree, join, m1, plugin, tree, write};
use plugin::lock::{FileLock, LockMode};
use serde_json::json;

const DAY_MS: u128 = 86_400_000;

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis()
}

fn cache(env: &Env) -> PathBuf {
    env.plugins().join("cache")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `p1@m1` installed at 2.0.0 after 1.0.0 was installed and uninstalled, so `cache/m1/p1/1.0.0`
/// is a real orphan with Claude Code's marker; returns the plugin's cache folder.
fn installed_twice(env: &Env) -> PathBuf {
    let m = m1(env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    env.run(&["uninstall", "p1@m1"]).ok();
    plugin(&m.join("plugins/p1"), "p1", Some("2.0.0"));
    env.run(&["install", "p1@m1"]).ok();
    let p1 = join(&cache(env), "m1/p1");
    assert!(p1.join("1.0.0/.orphaned_at").is_file());
    assert_eq!(
        env.first_record("p1@m1")["installPath"],
        json!(s(&p1.join("2.0.0")))
    );
    p1
}

/// [`installed_twice`] plus a newer orphan 1.1.0 (30 days), so 1.0.0 (40 days) is removable
/// with the defaults; returns both folders.
fn removable_orphan(env: &Env) -> (PathBuf, PathBuf) {
    let p1 = installed_twice(env);
    let (v100, v110) = (p1.join("1.0.0"), p1.join("1.1.0"));
    copy_tree(&v100, &v110);
    orphaned_days_ago(&v100, 40);
    orphaned_days_ago(&v110, 30);
    (v100, v110)
}

fn orphaned_days_ago(version_dir: &Path, days: u128) {
    write(
        &version_dir.join(".orphaned_at"),
        &(now_ms() - days * DAY_MS).to_string(),
    );
}

/// A folder opened so that its times can be set: Windows opens a folder only with backup
/// semantics, and setting times needs write access to its attributes.
fn open_folder_for_times(path: &Path) -> fs::File {
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_WRITE_ATTRIBUTES: u32 = 0x100;
        const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
        fs::OpenOptions::new()
            .access_mode(FILE_WRITE_ATTRIBUTES)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(path)
            .expect("open folder")
    }
    #[cfg(not(windows))]
    fs::File::open(path).expect("open folder")
}

/// Set the modification time of everything under `path` to `days` ago.
fn age_tree(path: &Path, days: u64) {
    let t = SystemTime::now() - Duration::from_secs(days * 86_400);
    let meta = fs::symlink_metadata(path).expect("meta");
    if meta.is_dir() {
        for e in fs::read_dir(path).expect("read_dir") {
            age_tree(&e.expect("entry").path(), days);
        }
        open_folder_for_times(path).set_modified(t).expect("touch");
    } else {
        let f = fs::OpenOptions::new().write(true).open(path).expect("open");
        f.set_modified(t).expect("touch");
    }
}

/// Bytes of the files under `path`.
/// What removing `path` frees: files with other names (links to content-store objects) count
/// nothing here.
fn du(path: &Path) -> u64 {
    let meta = fs::symlink_metadata(path).expect("meta");
    if !meta.is_dir() {
        let shared =
            meta.is_file() && ::plugin::platform::links_and_blocks(path).is_ok_and(|l| l.count > 1);
        return if shared { 0 } else { meta.len() };
    }
    fs::read_dir(path)
        .expect("read_dir")
        .map(|e| du(&e.expect("entry").path()))
        .sum()
}

/// Every file under HOME (plugins root and user cache).
fn snapshot(env: &Env) -> Vec<String> {
    common::tree_with_content(&env.home)
}

#[cfg(unix)] // used by Unix-only tests
fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn tree_without(root: &Path, gone: &[&Path]) -> Vec<String> {
    let rel: Vec<String> = gone
        .iter()
        // With `/`, as `tree` writes them.
        .map(|g| {
            let parts: Vec<_> = g
                .strip_prefix(root)
                .expect("inside")
                .iter()
                .map(|c| c.to_string_lossy())
                .collect();
            parts.join("/")
        })
        .collect();
    tree(root)
        .into_iter()
        .filter(|line| {
            let path = line.split(' ').nth(2).unwrap_or_default();
            !rel.iter()
                .any(|r| path == format!("{r}/") || path.starts_with(&format!("{r}/")))
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn prunes_old_orphans_beyond_keep_and_marks_unmarked_ones() {
    let env = Env::new();
    let p1 = installed_twice(&env);
    let (v090, v100, v110, v200) = (
        p1.join("0.9.0"),
        p1.join("1.0.0"),
        p1.join("1.1.0"),
        p1.join("2.0.0"),
    );
    copy_tree(&v100, &v090);
    copy_tree(&v100, &v110);
    orphaned_days_ago(&v090, 50);
    orphaned_days_ago(&v100, 40);
    orphaned_days_ago(&v110, 30); // newest orphan: kept by --keep 1 though old
    orphaned_days_ago(&v200, 60); // recorded: never removed, marker or not
    // Another plugin: two young orphans.
    let p2 = join(&cache(&env), "m1/p2");
    copy_tree(&v100, &p2.join("0.5.0"));
    copy_tree(&v100, &p2.join("0.4.0"));
    orphaned_days_ago(&p2.join("0.5.0"), 2);
    orphaned_days_ago(&p2.join("0.4.0"), 3);
    // An orphan without Claude Code's marker.
    let p3 = join(&cache(&env), "m1/p3/1.0.0");
    copy_tree(&v100, &p3);
    fs::remove_file(p3.join(".orphaned_at")).unwrap();
    // A version entry that links to a development checkout, marked long ago.
    let dev = env.fx.join("dev-checkout");
    copy_tree(&v100, &dev);
    orphaned_days_ago(&dev, 90);
    std::os::unix::fs::symlink(&dev, p1.join("0.0.1-dev")).unwrap();

    let (b090, b100) = (du(&v090), du(&v100));
    let expected_tree = tree_without(&cache(&env), &[&v090, &v100]);
    let dev_before = common::tree_with_content(&dev);
    let r = env.run(&["cache", "prune"]).ok();
    assert_eq!(
        r.stdout,
        format!(
            "removed cache/m1/p1/0.9.0 (version, {b090} B)\nremoved cache/m1/p1/1.0.0 (version, {b100} B)\n\
             kept p1@m1 1.1.0: the newest orphan (--keep 1)\nkept p1@m1 2.0.0: installed\n\
             kept p2@m1 0.4.0: orphaned more recently than --older-than\nkept p2@m1 0.5.0: the newest orphan (--keep 1)\n\
             marked cache/m1/p3/1.0.0 orphaned (it ages from now)\nRemoved 2 folders, {} B\n",
            b090 + b100
        )
    );
    assert_eq!(r.stderr, "");
    let marker = fs::read_to_string(p3.join(".orphaned_at")).unwrap();
    let ms: u128 = marker.parse().unwrap();
    assert!(now_ms().abs_diff(ms) < 600_000, "{marker}");
    let mut expected_tree = expected_tree;
    expected_tree.push(format!(
        "f {:o} m1/p3/1.0.0/.orphaned_at 13",
        fs::metadata(p3.join(".orphaned_at"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    ));
    assert_eq!(sorted(tree(&cache(&env))), sorted(expected_tree));
    assert_eq!(common::tree_with_content(&dev), dev_before);

    // The unmarked orphan aged from today: with --older-than 0 and --keep 1 it is still the
    // only orphan of p3, so it stays; p2's older young orphan goes.
    let r = env
        .run(&["cache", "prune", "--older-than", "0", "--json"])
        .ok();
    let v = r.json();
    assert_eq!(v["removed"][0]["path"], json!(s(&p2.join("0.4.0"))));
    assert_eq!(v["removed"].as_array().unwrap().len(), 1);
    assert!(p3.is_dir() && v110.is_dir() && v200.is_dir() && p2.join("0.5.0").is_dir());
}

#[cfg(unix)]
fn spawn_sleep_in(dir: &Path) -> std::process::Child {
    std::process::Command::new("sleep")
        .arg("30")
        .current_dir(dir)
        .spawn()
        .expect("spawn sleep")
}

/// What `removable_orphan` keeps, and why.
const KEPT_P1: &str =
    "kept p1@m1 1.1.0: the newest orphan (--keep 1)\nkept p1@m1 2.0.0: installed\n";

fn kept_p1_json(env: &Env) -> serde_json::Value {
    let p1 = join(&cache(env), "m1/p1");
    json!([
        {"path": s(&p1.join("1.1.0")), "plugin": "p1@m1", "version": "1.1.0", "reason": "keep"},
        {"path": s(&p1.join("2.0.0")), "plugin": "p1@m1", "version": "2.0.0", "reason": "installed"},
    ])
}

// Folders of live processes are found through /proc (Windows has no such scan), and `sleep` is a
// Linux program, which wine's Windows processes cannot start.
#[cfg(unix)]
#[test]
fn a_live_process_keeps_its_folder_until_it_exits() {
    let env = Env::new();
    let (v100, v110) = removable_orphan(&env);
    let mut child = spawn_sleep_in(&v100);
    let pid = child.id();

    let r = env.run(&["cache", "prune"]).ok();
    assert_eq!(
        r.stdout,
        format!(
            "kept cache/m1/p1/1.0.0: in use by pid {pid} (cwd)\n{KEPT_P1}Removed 0 folders, 0 B\n"
        )
    );
    assert!(v100.join(".plugin-ok").is_file());
    let r = env.run(&["cache", "prune", "--json"]).ok();
    assert_eq!(
        r.json(),
        json!({"schemaVersion": 1, "command": "cache-prune", "outcome": "ok", "removed": [], "kept": [{"path": s(&v100), "reason": "cwd", "pid": pid}],
            "marked": [], "keptVersions": kept_p1_json(&env), "bytes": 0, "storeObjects": 0, "storeBytes": 0, "dryRun": false})
    );

    let _ = child.kill();
    let _ = child.wait();
    let bytes = du(&v100);
    let r = env.run(&["cache", "prune", "--json"]).ok();
    assert_eq!(
        r.json(),
        json!({"schemaVersion": 1, "command": "cache-prune", "outcome": "ok", "removed": [{"path": s(&v100), "kind": "version", "bytes": bytes}], "kept": [],
            "marked": [], "keptVersions": kept_p1_json(&env), "bytes": bytes, "storeObjects": 0, "storeBytes": 0, "dryRun": false})
    );
    assert!(!v100.exists());
    assert!(v110.is_dir());
}

#[test]
fn in_use_markers_of_live_processes_keep_a_folder() {
    let env = Env::new();
    let (v100, _) = removable_orphan(&env);
    let me = std::process::id();
    write(&v100.join(format!(".in_use/{me}")), "");

    let r = env.run(&["cache", "prune"]).ok();
    assert_eq!(
        r.stdout,
        format!(
            "kept cache/m1/p1/1.0.0: in use by pid {me} (.in_use marker)\n{KEPT_P1}Removed 0 folders, 0 B\n"
        )
    );
    assert!(v100.is_dir());

    // A pid in a file's content counts the same; a dead one does not.
    fs::remove_file(v100.join(format!(".in_use/{me}"))).unwrap();
    write(&v100.join(".in_use/session"), &me.to_string());
    env.run(&["cache", "prune"]).ok();
    assert!(v100.is_dir());
    fs::remove_file(v100.join(".in_use/session")).unwrap();
    write(&v100.join(".in_use/999999999"), "");
    let r = env.run(&["cache", "prune"]).ok();
    assert!(
        r.stdout.starts_with("removed cache/m1/p1/1.0.0 (version, "),
        "{}",
        r.stdout
    );
    assert!(!v100.exists());
}

/// A tree of every kind of removable entry; returns the entries that a prune removes.
fn everything_removable(env: &Env) -> Vec<PathBuf> {
    let (v100, _) = removable_orphan(env);
    let p1 = join(&cache(env), "m1/p1");
    let staging = p1.join(".plugin-staging-0123abcd");
    write(&staging.join("commands/c.md"), "half");
    let old_ms = now_ms() - 2 * 3_600_000;
    let old_temp = cache(env).join(format!("temp_git_{old_ms}_a1b2c3"));
    write(&old_temp.join("README.md"), "clone");
    age_tree(&old_temp, 1);
    let fresh_temp = cache(env).join(format!("temp_git_{}_d4e5f6", now_ms()));
    write(&fresh_temp.join("README.md"), "clone");
    let aside = p1.join("1.0.0.tmp~0a1b2c3d");
    write(&aside.join("x"), "old");
    age_tree(&aside, 1);
    write(
        &env.plugins().join("marketplaces/.tmp-left/x"),
        "not ours to prune",
    );
    vec![v100, staging, old_temp, aside]
}

#[test]
fn leftovers_are_removed_fresh_temps_kept() {
    let env = Env::new();
    let gone = everything_removable(&env);
    let sizes: Vec<u64> = gone.iter().map(|p| du(p)).collect();
    let expected_tree = tree_without(
        &cache(&env),
        &gone.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
    );
    let r = env.run(&["cache", "prune", "--json"]).ok();
    let total: u64 = sizes.iter().sum();
    assert_eq!(
        r.json(),
        json!({"schemaVersion": 1, "command": "cache-prune", "outcome": "ok", "removed": [
            {"path": s(&gone[0]), "kind": "version", "bytes": sizes[0]},
            {"path": s(&gone[1]), "kind": "staging", "bytes": sizes[1]},
            {"path": s(&gone[3]), "kind": "temp", "bytes": sizes[3]},
            {"path": s(&gone[2]), "kind": "temp", "bytes": sizes[2]},
        ], "kept": [], "marked": [], "keptVersions": kept_p1_json(&env), "bytes": total, "storeObjects": 0, "storeBytes": 0, "dryRun": false})
    );
    assert_eq!(tree(&cache(&env)), expected_tree);
    assert!(env.plugins().join("marketplaces/.tmp-left/x").is_file());
}

#[test]
fn dry_run_changes_nothing_and_reports_bytes() {
    let env = Env::new();
    let gone = everything_removable(&env);
    let unmarked = join(&cache(&env), "m1/p3/1.0.0");
    copy_tree(&gone[0], &unmarked);
    fs::remove_file(unmarked.join(".orphaned_at")).unwrap();
    let total: u64 = gone.iter().map(|p| du(p)).sum();
    let before = snapshot(&env);
    let r = env.run(&["cache", "prune", "--dry-run"]).ok();
    assert_eq!(snapshot(&env), before);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{}", r.stdout);
    assert!(lines[0].starts_with("would remove cache/m1/p1/1.0.0 (version, "));
    assert!(lines[1].starts_with("would remove cache/m1/p1/.plugin-staging-0123abcd (staging, "));
    assert_eq!(lines[4..6].join("\n") + "\n", KEPT_P1);
    assert_eq!(
        lines[6],
        "would mark cache/m1/p3/1.0.0 orphaned (it ages from now)"
    );
    assert_eq!(lines[7], format!("Would remove 4 folders, {total} B"));
    let r = env.run(&["cache", "prune", "--dry-run", "--json"]).ok();
    assert_eq!(snapshot(&env), before);
    let v = r.json();
    assert_eq!(v["dryRun"], json!(true));
    assert_eq!(v["bytes"], json!(total));
    assert_eq!(v["marked"], json!([s(&unmarked)]));
}

#[test]
fn bad_options_are_refused_before_anything_changes() {
    let env = Env::new();
    everything_removable(&env);
    let before = snapshot(&env);
    for bad in ["14", "10x", "1.5d", "-3d"] {
        let r = env
            .run(&["cache", "prune", &format!("--older-than={bad}")])
            .fails();
        assert_eq!(
            r.stderr,
            format!(
                "✘ invalid --older-than value \"{bad}\": use a whole number followed by s, m, h, d or w (30s, 45m, 12h, 14d, 2w), or 0\n"
            )
        );
    }
    assert_eq!(snapshot(&env), before);
}

/// `--keep 0` lets the last orphan of a plugin go too, once old enough; the output says what
/// stayed and why.
#[test]
fn keep_zero_removes_the_newest_orphan_too() {
    let env = Env::new();
    let (v100, v110) = removable_orphan(&env);
    let p1 = join(&cache(&env), "m1/p1");
    let young = p1.join("1.2.0");
    copy_tree(&v110, &young);
    orphaned_days_ago(&young, 2);
    let (b100, b110) = (du(&v100), du(&v110));
    let r = env.run(&["cache", "prune", "--keep", "0"]).ok();
    assert_eq!(
        r.stdout,
        format!(
            "removed cache/m1/p1/1.0.0 (version, {b100} B)\nremoved cache/m1/p1/1.1.0 (version, {b110} B)\n\
             kept p1@m1 1.2.0: orphaned more recently than --older-than\nkept p1@m1 2.0.0: installed\n\
             Removed 2 folders, {} B\n",
            b100 + b110
        )
    );
    assert!(!v100.exists() && !v110.exists() && young.is_dir() && p1.join("2.0.0").is_dir());
    let v = env
        .run(&[
            "cache",
            "prune",
            "--keep",
            "0",
            "--older-than",
            "0",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["removed"][0]["path"], json!(s(&young)));
    assert_eq!(
        v["keptVersions"],
        json!([{"path": s(&p1.join("2.0.0")), "plugin": "p1@m1", "version": "2.0.0", "reason": "installed"}])
    );
    assert!(!young.exists());
    // With --keep 2, both orphans are named as kept by it.
    copy_tree(&p1.join("2.0.0"), &v100);
    copy_tree(&p1.join("2.0.0"), &v110);
    orphaned_days_ago(&v100, 40);
    orphaned_days_ago(&v110, 30);
    let r = env.run(&["cache", "prune", "--keep", "2"]).ok();
    assert!(
        r.stdout
            .contains("kept p1@m1 1.0.0: one of the 2 newest orphans (--keep)\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn downloads_and_git_databases_nothing_references_go_when_old() {
    let env = Env::new();
    let p1 = installed_twice(&env);
    let downloads = join(&env.user_cache(), "plugin/downloads-v1");
    let (used, unused, young) = ("ab".repeat(32), "cd".repeat(32), "ef".repeat(32));
    // The recorded version folder names the archive it was made from.
    let ok_path = p1.join("2.0.0/.plugin-ok");
    let mut marker: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&ok_path).unwrap()).unwrap();
    marker["resolved"] = json!({"kind": "archive", "what": "https://example.com/p1.zip", "integrity": format!("sha256:{used}")});
    fs::write(&ok_path, marker.to_string()).unwrap();
    for (hex, days) in [(&used, 30), (&unused, 30), (&young, 1)] {
        let f = downloads.join(format!("sha256-{hex}.zip"));
        write(&f, "zip bytes");
        age_tree(&f, days);
    }
    let seen = join(&downloads, "npm-seen/0123");
    write(&seen, "{}");
    age_tree(&seen, 30);
    let db = join(&env.user_cache(), "plugin/git-v1/db");
    let (old_db, busy_db, young_db) = (
        db.join("old-0123456789abcdef"),
        db.join("busy-0123456789abcdef"),
        db.join("new-0123456789abcdef"),
    );
    for (d, days) in [(&old_db, 30), (&busy_db, 30), (&young_db, 1)] {
        write(&d.join("HEAD"), "ref: refs/heads/main\n");
        write(&d.join("objects/pack/x.pack"), "pack");
        age_tree(d, days);
    }
    write(&db.join("old-0123456789abcdef.lock"), "");
    let fetching = FileLock::acquire(
        &db.join("busy-0123456789abcdef.lock"),
        LockMode::Exclusive,
        Duration::from_secs(1),
        &|_| {},
    )
    .unwrap();

    let r = env.run(&["cache", "prune", "--json"]).ok();
    drop(fetching);
    let v = r.json();
    let removed: Vec<(&str, &str)> = v["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    let unused_zip = downloads.join(format!("sha256-{unused}.zip"));
    assert_eq!(
        removed,
        vec![
            (s(&seen), "download"),
            (s(&unused_zip), "download"),
            (s(&old_db), "git"),
        ]
    );
    assert_eq!(
        v["kept"],
        json!([{"path": s(&busy_db), "reason": "git fetch", "pid": null}])
    );
    assert!(downloads.join(format!("sha256-{used}.zip")).is_file());
    assert!(downloads.join(format!("sha256-{young}.zip")).is_file());
    assert!(busy_db.join("HEAD").is_file() && young_db.join("HEAD").is_file());
    assert!(
        db.join("old-0123456789abcdef.lock").is_file(),
        "lock files stay"
    );
}

#[test]
fn prune_waits_for_the_cache_lock() {
    let env = Env::new();
    let (v100, _) = removable_orphan(&env);
    let lock_file = env.plugins().join(".plugin-cache.lock");
    let held = FileLock::acquire(
        &lock_file,
        LockMode::Shared,
        Duration::from_secs(1),
        &|_| {},
    )
    .unwrap();
    let mut child = env
        .command(&["cache", "prune"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(
        line,
        format!(
            "waiting for lock on {} (another plugin process is running)\n",
            lock_file.display()
        )
    );
    assert!(child.try_wait().unwrap().is_none(), "prune must wait");
    assert!(v100.is_dir(), "nothing removed while the lock is held");
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("removed cache/m1/p1/1.0.0 "));
    assert!(!v100.exists());
}

#[test]
fn cache_dir_follows_the_environment() {
    let env = Env::new();
    let r = env.run(&["cache", "dir"]).ok();
    assert_eq!(r.stdout, format!("{}\n", cache(&env).display()));
    let out = env
        .command(&["cache", "dir"])
        .env("CLAUDE_CONFIG_DIR", "cfg")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", join(&env.cwd, "cfg/plugins/cache").display())
    );
    let out = env
        .command(&["cache", "dir"])
        .env("CLAUDE_CONFIG_DIR", "cfg")
        .env("CLAUDE_CODE_PLUGIN_CACHE_DIR", "~/pc")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", join(&env.home, "pc/cache").display())
    );
}
