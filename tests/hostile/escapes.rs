//! Class 3 and 4: a marketplace must not pull files from outside itself into the cache, through
//! a symlinked folder on the way to a plugin or its manifest, or by swapping a file for a link
//! while it is being copied.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::githttp::{GitServer, WorkRepo};
use crate::common::*;

const SECRET: &str = "-----BEGIN OPENSSH PRIVATE KEY----- secret bytes";

/// A folder outside every marketplace that looks like a plugin (`p/`), with a key and a
/// manifest of its own that claims another version. Returns the folder holding `p/`.
fn secret_folder(env: &Env) -> PathBuf {
    let outside = env.fx.join("dot-ssh");
    write(&outside.join("p/id_ed25519"), SECRET);
    write(&outside.join("p/commands/c.md"), SECRET);
    write(
        &outside.join("p/.claude-plugin/plugin.json"),
        r#"{"name":"p","version":"6.6.6-outside"}"#,
    );
    outside
}

/// A marketplace `m` with `metadata` and one plugin `p` whose source is `source`.
fn catalog(dir: &Path, metadata: serde_json::Value, source: &str) {
    let v = json!({
        "name": "m", "owner": {"name": "T"}, "metadata": metadata,
        "plugins": [{"name": "p", "source": source}]
    });
    write(&dir.join(".claude-plugin/marketplace.json"), &v.to_string());
}

/// Every file of the cache and the plugins folder's records whose bytes hold the secret.
fn secret_in_plugins(env: &Env) -> Vec<PathBuf> {
    let mut out = files_with_secret(&env.plugins().join("cache"));
    for e in fs::read_dir(env.plugins()).into_iter().flatten().flatten() {
        if e.file_type().unwrap().is_file()
            && fs::read_to_string(e.path()).unwrap().contains(SECRET)
        {
            out.push(e.path());
        }
    }
    out
}

/// Every file under `dir` whose bytes hold the secret (links in it are read through).
fn files_with_secret(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.extend(files_with_secret(&p));
        } else if t.is_symlink() {
            // A link in the cache pointing out would read the secret too.
            if fs::read(&p).is_ok_and(|b| b.windows(10).any(|w| w == &SECRET.as_bytes()[..10])) {
                out.push(p);
            }
        } else if fs::read(&p)
            .unwrap()
            .windows(10)
            .any(|w| w == &SECRET.as_bytes()[..10])
        {
            out.push(p);
        }
    }
    out
}

/// Install refuses, naming the link; nothing of the secret reaches the plugins folder and the
/// install records are untouched; `validate` reports the same link.
#[track_caller]
fn assert_refused(env: &Env, mkt: &Path, link: &Path) {
    let records = env.plugins().join("installed_plugins.json");
    let before = fs::read(&records).ok();
    let out = env.run(&["install", "p@m"]).fails();
    let shown = link.display().to_string();
    assert!(
        out.stderr.contains(&shown) && out.stderr.contains("leads outside"),
        "the message names the link {shown}: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("6.6.6"), "{}", out.stderr);
    assert_eq!(secret_in_plugins(env), Vec::<PathBuf>::new());
    assert!(!env.plugins().join("cache/m").exists());
    assert_eq!(
        fs::read(&records).ok(),
        before,
        "installed_plugins.json changed"
    );

    let v = env.run(&["validate", mkt.to_str().unwrap()]).fails();
    let all = format!("{}{}", v.stdout, v.stderr);
    assert!(
        all.contains(&shown) && all.contains("leads outside"),
        "validate names the link {shown}: {all}"
    );
}

#[test]
fn a_plugin_folder_linked_out_of_the_marketplace_is_refused() {
    let env = Env::new();
    let outside = secret_folder(&env);
    let mkt = env.fx.join("mkt");
    catalog(&mkt, json!({}), "./plugins/p");
    fs::create_dir_all(mkt.join("plugins")).unwrap();
    symlink(outside.join("p"), mkt.join("plugins/p")).unwrap();
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    assert_refused(&env, &mkt, &mkt.join("plugins/p"));
}

#[test]
fn a_parent_folder_linked_out_of_the_marketplace_is_refused() {
    let env = Env::new();
    let outside = secret_folder(&env);
    let mkt = env.fx.join("mkt");
    catalog(&mkt, json!({}), "./plugins/p");
    symlink("../dot-ssh", mkt.join("plugins")).unwrap();
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    assert!(outside.join("p").is_dir());
    assert_refused(&env, &mkt, &mkt.join("plugins"));
}

#[test]
fn a_plugin_root_linked_out_of_the_marketplace_is_refused() {
    let env = Env::new();
    let outside = secret_folder(&env);
    let mkt = env.fx.join("mkt");
    catalog(&mkt, json!({"pluginRoot": "./plugins"}), "p");
    symlink(&outside, mkt.join("plugins")).unwrap();
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    assert_refused(&env, &mkt, &mkt.join("plugins"));
}

#[test]
fn a_manifest_folder_linked_out_of_the_marketplace_is_refused() {
    let env = Env::new();
    let outside = secret_folder(&env);
    let mkt = env.fx.join("mkt");
    catalog(&mkt, json!({}), "./plugins/p");
    write(&mkt.join("plugins/p/commands/own.md"), "# own\n");
    symlink(
        outside.join("p/.claude-plugin"),
        mkt.join("plugins/p/.claude-plugin"),
    )
    .unwrap();
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    assert_refused(&env, &mkt, &mkt.join("plugins/p/.claude-plugin"));
    // `list` does not show the outside manifest's version either.
    let list = env.run(&["list", "--available", "--json"]);
    assert!(!list.stdout.contains("6.6.6"), "{}", list.stdout);
}

#[test]
fn a_catalog_linked_out_of_the_marketplace_is_refused() {
    let env = Env::new();
    let outside = env.fx.join("elsewhere");
    catalog(&outside, json!({}), "./p");
    let mkt = env.fx.join("mkt");
    fs::create_dir_all(mkt.join(".claude-plugin")).unwrap();
    symlink(
        outside.join(".claude-plugin/marketplace.json"),
        mkt.join(".claude-plugin/marketplace.json"),
    )
    .unwrap();
    let out = env
        .run(&["marketplace", "add", mkt.to_str().unwrap()])
        .fails();
    assert!(
        out.stderr.contains("leads outside")
            && out.stderr.contains(
                &mkt.join(".claude-plugin/marketplace.json")
                    .display()
                    .to_string()
            ),
        "{}",
        out.stderr
    );
    assert!(!env.plugins().join("known_marketplaces.json").exists());
    let v = env.run(&["validate", mkt.to_str().unwrap()]).fails();
    assert!(v.stdout.contains("leads outside"), "{}", v.stdout);
}

/// Links that stay inside the marketplace are still followed: a linked plugin folder, parent
/// folder and `.claude-plugin/` (the manifest of a sibling folder).
#[test]
fn links_inside_the_marketplace_still_work() {
    let env = Env::new();
    let mkt = env.fx.join("mkt");
    plugin(&mkt.join("real/p"), "p", Some("2.0.0"));
    write(
        &mkt.join("shared-manifest/plugin.json"),
        r#"{"name":"q","version":"3.0.0"}"#,
    );
    write(&mkt.join("real/q/commands/q.md"), "# q\n");
    symlink("../../shared-manifest", mkt.join("real/q/.claude-plugin")).unwrap();
    symlink("real", mkt.join("plugins")).unwrap();
    symlink("../real/p", mkt.join("real/p-link")).unwrap();
    let v = json!({
        "name": "m", "owner": {"name": "T"},
        "plugins": [{"name": "p", "source": "./plugins/p-link"}, {"name": "q", "source": "./plugins/q"}]
    });
    write(&mkt.join(".claude-plugin/marketplace.json"), &v.to_string());
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    env.run(&["install", "p@m"]).ok();
    env.run(&["install", "q@m"]).ok();
    let p = env.plugins().join("cache/m/p/2.0.0");
    assert_eq!(
        fs::read_to_string(p.join("commands/c.md")).unwrap(),
        "# p\n"
    );
    let q = env.plugins().join("cache/m/q/3.0.0");
    assert_eq!(
        fs::read_to_string(q.join("commands/q.md")).unwrap(),
        "# q\n"
    );
    assert!(q.join(".claude-plugin/plugin.json").is_file());
    env.run(&["validate", mkt.to_str().unwrap()]).ok();
}

/// A git marketplace's clone is the marketplace: a committed link out of it is refused the same way.
#[test]
fn a_git_marketplace_with_a_plugin_linked_out_of_its_clone_is_refused() {
    let env = Env::new();
    let outside = secret_folder(&env);
    let srv = env.fx.join("srv");
    let w = WorkRepo::init(&env.fx.join("work/mkt"));
    w.write(
        ".claude-plugin/marketplace.json",
        &json!({"name": "m", "owner": {"name": "T"},
                "plugins": [{"name": "p", "source": "./plugins/p"}]})
        .to_string(),
    );
    w.symlink("plugins/p", outside.join("p").to_str().unwrap());
    w.commit("m1");
    w.publish(&srv.join("git/mkt.git"));
    let server = GitServer::start(&srv);
    let run = |args: &[&str]| Run::from(env.command_without_tools(args).output().unwrap());
    run(&["marketplace", "add", &server.url("git/mkt.git")]).ok();
    let out = run(&["install", "p@m"]).fails();
    assert!(out.stderr.contains("leads outside"), "{}", out.stderr);
    assert_eq!(secret_in_plugins(&env), Vec::<PathBuf>::new());
    assert!(!env.plugins().join("cache/m").exists());
}

/// Class 4, a real race: while installs run in a loop, another thread keeps swapping a plugin
/// file for a link to a secret outside the marketplace (and back). Every install either copies
/// the real file or fails with exit 1; none ever holds the secret's bytes.
#[test]
fn a_file_swapped_for_a_link_during_installs_never_brings_the_secret() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = Env::new();
    let secret = env.fx.join("dot-ssh/id_ed25519");
    write(&secret, SECRET);
    let mkt = env.fx.join("mkt");
    plugin(&mkt.join("plugins/p"), "p", Some("1.0.0"));
    for i in 0..20 {
        write(&mkt.join(format!("plugins/p/commands/x{i}.md")), "x\n");
    }
    catalog(&mkt, json!({}), "./plugins/p");
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();

    let target = mkt.join("plugins/p/commands/c.md");
    let aside = env.fx.join("aside"); // same filesystem, outside the plugin: renames are atomic
    fs::create_dir_all(&aside).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, target, secret) = (stop.clone(), target.clone(), secret.clone());
        std::thread::spawn(move || {
            let (link, file) = (aside.join("link"), aside.join("file"));
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = fs::remove_file(&link);
                symlink(&secret, &link).unwrap();
                fs::rename(&link, &target).unwrap();
                fs::write(&file, "# p\n").unwrap();
                fs::rename(&file, &target).unwrap();
                swaps += 1;
            }
            swaps
        })
    };
    let started = std::time::Instant::now();
    let (mut installed, mut refused) = (0, 0);
    while started.elapsed() < std::time::Duration::from_secs(20) && installed + refused < 60 {
        let out = env.run(&["install", "p@m"]);
        assert!(out.code == 0 || out.code == 1, "{out:?}");
        let leaked = secret_in_plugins(&env);
        assert_eq!(
            leaked,
            Vec::<PathBuf>::new(),
            "install {}: {out:?}",
            installed + refused
        );
        if out.code == 0 {
            installed += 1;
        } else {
            assert!(out.stderr.contains("changed while"), "{}", out.stderr);
            refused += 1;
        }
        // Start over, so that the next install copies again.
        let _ = fs::remove_dir_all(env.plugins().join("cache"));
        let _ = fs::remove_file(env.plugins().join("installed_plugins.json"));
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 100, "the swapper ran ({swaps} swaps)");
    assert!(
        installed + refused >= 10,
        "{installed} installs, {refused} refused"
    );
}

/// `validate` does not read a component file linked out of the marketplace: its bytes would
/// reach the report (a hooks file's unknown event names are quoted).
#[test]
fn validate_does_not_read_component_files_linked_out_of_the_marketplace() {
    let env = Env::new();
    let outside = env.fx.join("dot-config/hooks.json");
    write(&outside, r#"{"hooks":{"SECRET_TOKEN_4242":[]}}"#);
    let mkt = env.fx.join("mkt");
    plugin(&mkt.join("plugins/p"), "p", Some("1.0.0"));
    symlink(&outside, mkt.join("plugins/p/hooks.json")).unwrap();
    fs::create_dir_all(mkt.join("plugins/p/hooks")).unwrap();
    symlink(&outside, mkt.join("plugins/p/hooks/hooks.json")).unwrap();
    catalog(&mkt, json!({}), "./plugins/p");
    for target in [mkt.clone(), mkt.join("plugins/p")] {
        let out = env.run(&["validate", target.to_str().unwrap(), "--json"]);
        assert!(!out.stdout.contains("SECRET_TOKEN"), "{}", out.stdout);
        assert!(out.stdout.contains("symlink-skipped"), "{}", out.stdout);
    }
}

/// Nor does `resolve`'s component loading (which `validate` uses for `provides`): a hooks file
/// linked out of the plugin is skipped with a warning, never echoed.
#[test]
fn provides_does_not_read_a_hooks_file_linked_out_of_the_plugin() {
    let env = Env::new();
    let outside = env.fx.join("dot-config/hooks.json");
    write(
        &outside,
        r#"{"hooks":{"PreToolUse":[{"hooks":[{"type":"command","command":"echo SECRET_TOKEN_4242"}]}]}}"#,
    );
    let p = env.fx.join("p");
    plugin(&p, "p", Some("1.0.0"));
    fs::create_dir_all(p.join("hooks")).unwrap();
    symlink(&outside, p.join("hooks/hooks.json")).unwrap();
    let out = env.run(&["validate", p.to_str().unwrap(), "--json"]);
    assert!(!out.stdout.contains("SECRET_TOKEN"), "{}", out.stdout);
    assert!(out.stdout.contains("symlink-skipped"), "{}", out.stdout);
}
