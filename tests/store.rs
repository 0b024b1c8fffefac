//! The content store (issue 18): version folders share files with `store-v1/` objects by hard
//! link, so a new version or another marketplace's copy of the same plugin costs a link per
//! unchanged file; the folders still hold exactly what a plain copy holds; an edit in place is
//! found by `cache verify` and never linked again; `cache prune` removes objects nothing uses.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{Env, is_cache_machinery, join, marketplace, plugin, tree_with_content, write};
use serde_json::{Value, json};

/// A plugin `p` with `n` command files (and, on Unix, an executable script), in marketplace
/// `name` at `dir`; its files dated an hour ago, so the stat cache may remember their hashes.
fn fixture(dir: &Path, name: &str, version: &str, n: usize) {
    let p = dir.join("p");
    plugin(&p, "p", Some(version));
    for i in 0..n {
        write(
            &p.join(format!("commands/c{i}.md")),
            &format!("# command {i}\n"),
        );
    }
    write(&p.join("bin/run.sh"), "#!/bin/sh\necho hi\n");
    #[cfg(unix)]
    common::chmod(&p.join("bin/run.sh"), 0o755);
    marketplace(dir, name, r#"[{"name":"p","source":"./p"}]"#);
    age(&p);
}

/// Date every file under `dir` an hour back.
fn age(dir: &Path) {
    let past = SystemTime::now() - Duration::from_secs(3600);
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            age(&path);
        } else {
            let f = fs::OpenOptions::new().append(true).open(&path).unwrap();
            f.set_modified(past).unwrap();
        }
    }
}

fn set_version(dir: &Path, version: &str) {
    write(
        &dir.join("p/.claude-plugin/plugin.json"),
        &json!({"name": "p", "version": version}).to_string(),
    );
}

/// Device and inode: which files are one.
#[cfg(unix)]
fn identity(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = fs::symlink_metadata(path).unwrap();
    (m.dev(), m.ino())
}

/// `new` holds the very files of `old` named `shared` (one file, two names), but its own
/// `changed`, and `bin/run.sh` kept its executable mode.
#[cfg(unix)]
fn assert_shares(old: &Path, new: &Path, shared: &[&str], changed: &str) {
    for f in shared {
        assert_eq!(identity(&old.join(f)), identity(&new.join(f)), "{f}");
    }
    assert_ne!(identity(&old.join(changed)), identity(&new.join(changed)));
    assert_eq!(common::mode(&new.join("bin/run.sh")), 0o755);
}

fn links(path: &Path) -> u64 {
    ::plugin::platform::links_and_blocks(path).unwrap().count
}

fn version_dir(env: &Env, mkt: &str, version: &str) -> PathBuf {
    join(&env.plugins(), &format!("cache/{mkt}/p/{version}"))
}

fn store(env: &Env) -> PathBuf {
    env.plugins().join("store-v1")
}

/// The store's objects (`objects/<sha256>-<mode>`).
fn objects(env: &Env) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(store(env).join("objects"))
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

/// The same tree, without the modification times the store sets (`tree_with_content` has none).
fn content(dir: &Path) -> Vec<String> {
    tree_with_content(dir)
}

/// `cache prune` of every orphan, however young, with `extra` options.
fn prune_all(env: &Env, extra: &[&str]) -> common::Run {
    let mut args = vec!["cache", "prune", "--keep", "0", "--older-than", "0"];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn add(env: &Env, dir: &Path) {
    env.run(&["marketplace", "add", dir.to_str().unwrap()]).ok();
}

/// Marketplaces `a` and `b`, each listing its own copy of plugin p (`n` commands), and p
/// installed from both; their version folders.
fn installed_from_two(env: &Env, n: usize) -> (PathBuf, PathBuf) {
    for name in ["a", "b"] {
        let dir = env.fx.join(name);
        fixture(&dir, name, "1.0.0", n);
        add(env, &dir);
        env.run(&["install", &format!("p@{name}")]).ok();
    }
    (
        version_dir(env, "a", "1.0.0"),
        version_dir(env, "b", "1.0.0"),
    )
}

#[test]
fn a_new_version_links_its_unchanged_files_and_holds_what_a_copy_holds() {
    let env = Env::new();
    let m = env.fx.join("m");
    fixture(&m, "m", "1.0.0", 40);
    add(&env, &m);
    env.run(&["install", "p@m"]).ok();
    let v1 = version_dir(&env, "m", "1.0.0");
    // Every file is also an object (one link in the folder, one in the store).
    let files = 40 + 3;
    assert_eq!(objects(&env).len(), files, "{:?}", objects(&env));
    assert_eq!(links(&v1.join("commands/c0.md")), 2);
    assert_eq!(
        fs::read_to_string(store(&env).join("link-mode")).unwrap(),
        "hardlink"
    );

    set_version(&m, "2.0.0");
    write(&m.join("p/commands/c7.md"), "# changed\n");
    env.run(&["update", "p@m"]).ok();
    let v2 = version_dir(&env, "m", "2.0.0");
    common::assert_sealed(&v2);
    // Unchanged files are the very same files as in 1.0.0; the changed ones are not.
    #[cfg(unix)]
    {
        assert_shares(
            &v1,
            &v2,
            &["commands/c0.md", "bin/run.sh"],
            "commands/c7.md",
        );
    }
    assert_eq!(links(&v2.join("commands/c0.md")), 3);
    assert_eq!(
        objects(&env).len(),
        files + 2,
        "c7.md and plugin.json are new"
    );

    // What a plain copy (no store) makes of the same source: the same tree, byte for byte,
    // with the same modes and bookkeeping.
    let copy = Env::new();
    add(&copy, &m);
    let r = copy
        .command(&["install", "p@m"])
        .env("PLUGIN_LINK_MODE", "copy")
        .output()
        .unwrap();
    assert!(r.status.success(), "{r:?}");
    let plain = version_dir(&copy, "m", "2.0.0");
    assert_eq!(content(&plain), content(&v2));
    assert_eq!(links(&plain.join("commands/c0.md")), 1);
    assert!(objects(&copy).is_empty());
    assert_eq!(
        fs::read_to_string(plain.join(".plugin-files")).unwrap(),
        fs::read_to_string(v2.join(".plugin-files")).unwrap()
    );
}

#[test]
fn the_same_plugin_from_another_marketplace_is_linked_not_written() {
    let env = Env::new();
    let (va, vb) = installed_from_two(&env, 20);
    common::assert_sealed(&vb);
    for f in ["commands/c3.md", "bin/run.sh", ".claude-plugin/plugin.json"] {
        assert_eq!(
            links(&vb.join(f)),
            3,
            "{f}: a's folder, b's folder and the store"
        );
    }
    // The same tree but for the marker, which names its marketplace.
    let unmarked = |dir: &Path| -> Vec<String> {
        (content(dir).into_iter())
            .filter(|l| !l.contains(".plugin-ok"))
            .collect()
    };
    assert_eq!(unmarked(&va), unmarked(&vb));
    assert_eq!(objects(&env).len(), 23);
}

/// `install` with `PLUGIN_CRASH_AT=1`: the process aborts at its first step boundary. A
/// plugin recorded against the folder it finds whole gets there only once it is recorded; a
/// copy gets there once staged, before anything is recorded.
fn install_crashing_at_first_step(env: &Env, args: &[&str]) -> bool {
    let out = env
        .command(args)
        .env("PLUGIN_CRASH_AT", "1")
        .output()
        .unwrap();
    assert!(!out.status.success(), "it went through: {out:?}");
    env.installed()["plugins"]["p@m"]
        .as_array()
        .is_some_and(|r| !r.is_empty())
}

/// Installed again after an uninstall (the version folder left orphaned), or at another scope:
/// the folder already holds the content, so it is recorded against it, nothing copied — but
/// only when its files can be vouched for by their stat data.
#[test]
fn an_install_the_version_folder_already_holds_is_recorded_not_copied() {
    let env = Env::new();
    let m = env.fx.join("m");
    fixture(&m, "m", "1.0.0", 30);
    add(&env, &m);
    env.run(&["install", "p@m"]).ok();
    let v1 = version_dir(&env, "m", "1.0.0");
    let before = content(&v1);
    env.run(&["uninstall", "p@m"]).ok();
    assert!(v1.join(".orphaned_at").exists());

    // Recorded before any step that copies: a crash at the first step leaves it installed.
    assert!(install_crashing_at_first_step(&env, &["install", "p@m"]));
    assert!(!v1.join(".orphaned_at").exists(), "no longer orphaned");
    assert_eq!(content(&v1), before);
    assert_eq!(
        env.first_record("p@m")["installPath"],
        json!(v1.to_str().unwrap())
    );
    assert_eq!(env.settings()["enabledPlugins"]["p@m"], json!(true));

    // Another scope: the same folder, recorded at once too.
    let out = env
        .command(&["install", "p@m", "--scope", "project"])
        .env("PLUGIN_CRASH_AT", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let records = env.installed()["plugins"]["p@m"].clone();
    assert_eq!(records.as_array().unwrap().len(), 2, "{records}");
    assert_eq!(records[1]["installPath"], records[0]["installPath"]);
    assert_eq!(records[1]["scope"], json!("project"));
    // What it prints is what a copy prints.
    env.run(&["uninstall", "p@m"]).ok();
    let again = env.run(&["install", "p@m"]).ok();
    assert!(
        again
            .stdout
            .contains("Successfully installed plugin: p@m (scope: user)"),
        "{}",
        again.stdout
    );
}

/// A folder whose files cannot be vouched for is copied again, as before: a file edited in
/// place (its date moved), a file added, `install --force`, or files written without the store.
#[test]
fn an_install_copies_again_what_the_version_folder_cannot_vouch_for() {
    let env = Env::new();
    let m = env.fx.join("m");
    fixture(&m, "m", "1.0.0", 5);
    add(&env, &m);
    env.run(&["install", "p@m"]).ok();
    let v1 = version_dir(&env, "m", "1.0.0");
    let installed = content(&v1);

    // Edited in place (through a hard link, every version sharing the file sees it).
    env.run(&["uninstall", "p@m"]).ok();
    let edited = v1.join("commands/c1.md");
    fs::OpenOptions::new()
        .append(true)
        .open(&edited)
        .unwrap()
        .set_len(3)
        .unwrap();
    assert!(!install_crashing_at_first_step(&env, &["install", "p@m"]));
    env.run(&["install", "p@m"]).ok();
    assert_eq!(fs::read_to_string(&edited).unwrap(), "# command 1\n");
    assert_eq!(content(&v1), installed);

    // A file added.
    env.run(&["uninstall", "p@m"]).ok();
    write(&v1.join("commands/extra.md"), "# extra\n");
    assert!(!install_crashing_at_first_step(&env, &["install", "p@m"]));
    env.run(&["install", "p@m"]).ok();
    assert_eq!(content(&v1), installed, "the added file is gone");

    // Asked to copy.
    env.run(&["uninstall", "p@m"]).ok();
    assert!(!install_crashing_at_first_step(
        &env,
        &["install", "p@m", "--force"]
    ));

    // Written without the store: nothing dates its files.
    let copy = Env::new();
    add(&copy, &m);
    let copied = |args: &[&str], crash: bool| {
        let mut c = copy.command(args);
        c.env("PLUGIN_LINK_MODE", "copy");
        if crash {
            c.env("PLUGIN_CRASH_AT", "1");
        }
        c.output().unwrap()
    };
    assert!(copied(&["install", "p@m"], false).status.success());
    assert!(copied(&["uninstall", "p@m"], false).status.success());
    assert!(!copied(&["install", "p@m"], true).status.success());
    assert!(
        copy.installed()["plugins"]["p@m"]
            .as_array()
            .is_none_or(|r| r.is_empty()),
        "recorded without a copy: {}",
        copy.installed()
    );
}

#[test]
fn an_unknown_link_mode_is_refused_and_changes_nothing() {
    let env = Env::new();
    let m = env.fx.join("m");
    fixture(&m, "m", "1.0.0", 2);
    add(&env, &m);
    let before = tree_with_content(&env.home);
    let r = common::run(
        env.command(&["install", "p@m"])
            .env("PLUGIN_LINK_MODE", "symlink"),
    )
    .fails();
    assert_eq!(
        r.stderr,
        "✘ Failed to install plugin \"p@m\": PLUGIN_LINK_MODE is \"symlink\", which is no link mode; use hardlink, clone or copy\n"
    );
    let after: Vec<String> = tree_with_content(&env.home)
        .into_iter()
        .filter(|l| !is_cache_machinery(l))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn an_installed_file_edited_in_place_is_found_and_never_linked_again() {
    let env = Env::new();
    let m = env.fx.join("m");
    fixture(&m, "m", "1.0.0", 5);
    add(&env, &m);
    env.run(&["install", "p@m"]).ok();
    let r = env.run(&["cache", "verify"]).ok();
    assert!(
        r.stdout.contains("✔ content store: 8 objects intact"),
        "{}",
        r.stdout
    );

    // Someone edits the installed copy in place: with hard links that is the store object too.
    let v1 = version_dir(&env, "m", "1.0.0");
    let edited = v1.join("commands/c1.md");
    fs::write(&edited, "# edited in place\n").unwrap();
    let r = env.run(&["cache", "verify", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v: Value = r.json();
    assert_eq!(v["plugins"][0]["status"], "modified");
    assert_eq!(v["plugins"][0]["modified"], json!(["commands/c1.md"]));
    assert_eq!(v["store"]["objects"], 8);
    assert_eq!(v["store"]["damaged"][0]["problem"], "content-differs");
    assert_eq!(v["store"]["repaired"], false);
    let damaged = PathBuf::from(v["store"]["damaged"][0]["path"].as_str().unwrap());

    // --repair takes the damaged object out of the store (the edited folder stays modified).
    let r = env.run(&["cache", "verify", "--repair"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("Taken out of the store: 1 of 8 objects."),
        "{}",
        r.stdout
    );
    assert!(!damaged.exists());

    // Another marketplace with the same plugin gets intact files, and the store its object back.
    let b = env.fx.join("b");
    fixture(&b, "b", "1.0.0", 5);
    add(&env, &b);
    env.run(&["install", "p@b"]).ok();
    let vb = version_dir(&env, "b", "1.0.0");
    common::assert_sealed(&vb);
    assert_eq!(fs::read_to_string(&damaged).unwrap(), "# command 1\n");

    // Without --repair: an edited object is never linked; the next copy takes its name.
    let other = v1.join("commands/c2.md");
    fs::write(&other, "# edited too\n").unwrap();
    let c = env.fx.join("c");
    fixture(&c, "c", "1.0.0", 5);
    add(&env, &c);
    env.run(&["install", "p@c"]).ok();
    let vc = version_dir(&env, "c", "1.0.0");
    common::assert_sealed(&vc);
    assert_eq!(
        fs::read_to_string(vc.join("commands/c2.md")).unwrap(),
        "# command 2\n"
    );

    // The edit reached every folder sharing that file (the trade-off of hard links): b's too.
    let r = env.run(&["cache", "verify", "p@b"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("modified: commands/c2.md"),
        "{}",
        r.stderr
    );

    // `update --force` writes the edited folders again, from the store's intact objects.
    env.run(&["update", "p@m", "--force"]).ok();
    env.run(&["update", "p@b", "--force"]).ok();
    common::assert_sealed(&v1);
    common::assert_sealed(&vb);
    assert_eq!(
        fs::read_to_string(v1.join("commands/c1.md")).unwrap(),
        "# command 1\n"
    );
    env.run(&["cache", "verify"]).ok();
}

#[test]
fn prune_removes_the_objects_no_version_uses_and_counts_their_bytes() {
    let env = Env::new();
    let m = env.fx.join("m");
    fixture(&m, "m", "1.0.0", 3);
    add(&env, &m);
    env.run(&["install", "p@m"]).ok();
    env.run(&["uninstall", "p@m"]).ok();
    let before = tree_with_content(&env.home);
    let object_bytes: u64 = objects(&env)
        .iter()
        .map(|o| fs::metadata(o).unwrap().len())
        .sum();
    let r = prune_all(&env, &["--dry-run", "--json"]).ok();
    let v: Value = r.json();
    assert_eq!(v["storeObjects"], 6);
    assert_eq!(v["storeBytes"], object_bytes);
    assert_eq!(
        tree_with_content(&env.home),
        before,
        "a dry run changes nothing"
    );

    let r = env
        .run(&["cache", "prune", "--keep", "0", "--older-than", "0"])
        .ok();
    assert!(
        r.stdout
            .contains("removed 6 store objects no version folder uses ("),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Removed 1 folder and 6 store objects, "),
        "{}",
        r.stdout
    );
    assert!(objects(&env).is_empty());
    assert!(!version_dir(&env, "m", "1.0.0").exists());
}

#[test]
fn prune_keeps_objects_an_installed_version_uses() {
    let env = Env::new();
    let m = env.fx.join("m");
    fixture(&m, "m", "1.0.0", 3);
    add(&env, &m);
    env.run(&["install", "p@m"]).ok();
    set_version(&m, "2.0.0");
    write(&m.join("p/commands/c1.md"), "# changed\n");
    env.run(&["update", "p@m"]).ok();
    // 1.0.0 is an orphan now; its own files (old c1.md, old plugin.json) are the only objects
    // that go with it.
    let r = prune_all(&env, &["--json"]).ok();
    let v: Value = r.json();
    assert_eq!(v["storeObjects"], 2, "{v}");
    common::assert_sealed(&version_dir(&env, "m", "2.0.0"));
    assert_eq!(objects(&env).len(), 6);
    env.run(&["cache", "verify"]).ok();
}

#[test]
fn cache_dir_usage_counts_shared_files_once() {
    let env = Env::new();
    installed_from_two(&env, 10);
    let r = env.run(&["cache", "dir", "--usage"]).ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], env.plugins().join("cache").to_str().unwrap());
    assert!(
        lines[1].starts_with("2 version folders, 30 files, "),
        "{}",
        r.stdout
    );
    assert!(
        lines[1].ends_with("(26 of the files are shared through the content store, hardlink)"),
        "{}",
        r.stdout
    );
}

/// Installs of the same content from four marketplaces at once: all succeed, every folder is
/// complete, and the store holds each file once.
#[test]
fn parallel_installs_share_objects() {
    let env = Env::new();
    let names = ["a", "b", "c", "d"];
    for n in names {
        let dir = env.fx.join(n);
        fixture(&dir, n, "1.0.0", 50);
        add(&env, &dir);
    }
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            env.command(&["install", &format!("p@{n}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for n in names {
        common::assert_sealed(&version_dir(&env, n, "1.0.0"));
    }
    assert_eq!(objects(&env).len(), 53);
    env.run(&["cache", "verify"]).ok();
}

/// A new commit of a git plugin: the blobs it shares with the installed commit are linked from
/// the store (the database's blob memo names them), not inflated and written again.
#[cfg(unix)]
#[test]
fn a_new_git_commit_links_the_blobs_it_shares() {
    use common::githttp::{GitServer, WorkRepo};
    let env = Env::new();
    let srv = env.fx.join("srv");
    let work = WorkRepo::init(&env.fx.join("work/gp"));
    work.write(".claude-plugin/plugin.json", r#"{"name":"gp"}"#);
    for i in 0..30 {
        work.write(&format!("commands/c{i}.md"), &format!("# {i}\n"));
    }
    work.write("bin/run.sh", "#!/bin/sh\n");
    work.chmod("bin/run.sh", 0o755);
    let c1 = work.commit("c1");
    work.publish(&srv.join("gp.git"));
    let server = GitServer::start(&srv);
    let m = env.fx.join("mg");
    marketplace(
        &m,
        "mg",
        &json!([{"name": "gp", "source": {"source": "url", "url": server.url("gp.git")}}])
            .to_string(),
    );
    add(&env, &m);
    env.run(&["install", "gp@mg"]).ok();
    let old = join(&env.plugins(), &format!("cache/mg/gp/{}", &c1[..12]));
    common::assert_sealed(&old);
    assert_eq!(links(&old.join("commands/c0.md")), 2);
    let memo: Vec<PathBuf> = fs::read_dir(store(&env).join("git-blobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(memo.len(), 1, "one memo per git database");
    assert_eq!(
        fs::read_to_string(&memo[0]).unwrap().lines().count(),
        1 + 32
    );

    work.write("commands/c5.md", "# changed\n");
    let c2 = work.commit("c2");
    work.publish(&srv.join("gp.git"));
    env.run(&["update", "gp@mg"]).ok();
    let new = join(&env.plugins(), &format!("cache/mg/gp/{}", &c2[..12]));
    common::assert_sealed(&new);
    assert_shares(
        &old,
        &new,
        &["commands/c0.md", "bin/run.sh"],
        "commands/c5.md",
    );
    assert_eq!(
        fs::read_to_string(new.join("commands/c5.md")).unwrap(),
        "# changed\n"
    );
    assert_eq!(
        fs::read_to_string(&memo[0]).unwrap().lines().count(),
        1 + 33
    );
}
