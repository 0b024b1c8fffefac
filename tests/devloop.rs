//! The development loop: `link` / `unlink`, reinstalling a folder marketplace's plugin (digest
//! comparison, remembered stat data), and `init`.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn cache(env: &Env) -> PathBuf {
    env.plugins().join("cache")
}

/// Everything under HOME and the working directory, with file contents.
fn snapshot(env: &Env) -> Vec<String> {
    let mut out = tree_with_content(&env.home);
    out.extend(tree_with_content(&env.cwd));
    out
}

/// A checkout `dev/<folder>` holding plugin `name` at `version`.
fn checkout(env: &Env, folder: &str, name: &str, version: &str) -> PathBuf {
    let dir = env.fx.join("dev").join(folder);
    plugin(&dir, name, Some(version));
    dir
}

#[test]
fn link_records_enables_and_serves_edits_through_the_cache() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let co = checkout(&env, "tool", "tool", "0.3.0");
    let r = env.run(&["link", s(&co), "--json"]).ok();
    let link = join(&cache(&env), "dev/tool/0.3.0");
    assert_eq!(
        r.json(),
        json!({"schemaVersion":1,"command":"link","outcome":"ok","plugin":s(&co),"pluginId":"tool@dev","scope":"user",
            "message": format!("Linked plugin tool@dev (scope: user): {} → {}; edits there take effect at the next session start or /reload-plugins", link.display(), co.display()),
            "version":"0.3.0","installPath":s(&link),"checkout":s(&co)})
    );
    // The version entry is a link to the checkout; nothing was written inside the checkout.
    assert_eq!(fs::read_link(&link).unwrap(), co);
    assert_eq!(
        tree(&co),
        vec![
            "d 755 .claude-plugin/",
            "f 644 .claude-plugin/plugin.json 33",
            "d 755 commands/",
            "f 644 commands/c.md 7"
        ]
    );
    let rec = env.first_record("tool@dev");
    assert_eq!(rec["installPath"], json!(s(&link)));
    assert_eq!(rec["version"], json!("0.3.0"));
    assert_eq!(rec["scope"], json!("user"));
    // Enabled, and the `dev` marketplace is registered and declared so Claude Code loads it.
    let dev = env.plugins().join("marketplaces/dev");
    let settings = env.settings();
    assert_eq!(settings["enabledPlugins"], json!({"tool@dev": true}));
    assert_eq!(
        settings["extraKnownMarketplaces"]["dev"],
        json!({"source": {"source": "directory", "path": s(&dev)}})
    );
    assert_eq!(
        env.known()["dev"]["source"],
        json!({"source": "directory", "path": s(&dev)})
    );
    let catalog = env.read_json(&dev.join(".claude-plugin/marketplace.json"));
    assert_eq!(
        catalog["plugins"],
        json!([{"name":"tool","source":{"source":"link","path":s(&co)},"version":"0.3.0"}])
    );

    // Edits are visible through the cache path at once.
    write(&co.join("commands/c.md"), "edited\n");
    write(&co.join("commands/new.md"), "new\n");
    assert_eq!(
        fs::read_to_string(link.join("commands/c.md")).unwrap(),
        "edited\n"
    );
    assert!(link.join("commands/new.md").is_file());

    // list shows it; update leaves it pinned to the checkout; install says it is linked.
    let list = env.run(&["list", "--json"]).ok().json();
    assert_eq!(list[0]["id"], json!("tool@dev"));
    assert_eq!(list[0]["enabled"], json!(true));
    // Claude Code loads the recorded folder (the link), which resolve says.
    let r = env.run(&["resolve", "tool"]).ok();
    assert!(
        r.stdout.contains(&format!(
            "  root     {}  (the folder Claude Code loads)\n",
            link.display()
        )),
        "{}",
        r.stdout
    );
    let up = env.run(&["update", "tool", "--json"]).ok().json();
    assert_eq!(up["plugins"][0]["outcome"], json!("pinned"));
    assert_eq!(up["plugins"][0]["pinnedTo"], json!({"checkout": s(&co)}));
    let r = env.run(&["install", "tool@dev"]).ok();
    assert!(
        r.stdout.contains(&format!(
            "is already installed (scope: user), linked to the development checkout {}",
            co.display()
        )),
        "{}",
        r.stdout
    );
    // A prune never touches the link or the checkout.
    env.run(&["cache", "prune", "--older-than", "0", "--keep", "1"])
        .ok();
    assert_eq!(fs::read_link(&link).unwrap(), co);

    // unlink with nothing installed before: uninstalled, the dev marketplace forgotten.
    let r = env.run(&["unlink", "tool", "--json"]).ok();
    assert_eq!(r.json()["uninstalled"], json!(true));
    assert!(!link.exists() && !link.is_symlink());
    assert_eq!(env.installed()["plugins"], json!({}));
    assert_eq!(env.settings()["enabledPlugins"], json!({}));
    assert_eq!(env.settings()["extraKnownMarketplaces"], json!({}));
    assert_eq!(env.known(), json!({}));
    assert!(!dev.exists());
    assert!(!cache(&env).join("dev").exists());
    assert!(co.join("commands/new.md").is_file(), "the checkout stays");
}

#[test]
fn link_over_an_installed_plugin_needs_force_and_unlink_restores_it() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    // Same version in the checkout: the installed folder must be kept aside, not lost.
    let co = checkout(&env, "p1", "p1", "1.0.0");
    write(&co.join("commands/c.md"), "work in progress\n");
    let installed_before = env.installed();
    let v = join(&cache(&env), "m1/p1/1.0.0");

    // Without --force: refused, nothing changed.
    let before = snapshot(&env);
    let r = env.run(&["link", s(&co), "--as", "p1@m1"]).fails();
    assert_eq!(
        r.stderr,
        format!(
            "✘ Failed to link plugin \"{}\": Plugin \"p1@m1\" is already installed at user scope (version 1.0.0, {}); add --force to link over it (`plugin unlink p1@m1` restores it)\n",
            co.display(),
            v.display()
        )
    );
    assert_eq!(snapshot(&env), before);

    let r = env
        .run(&["link", s(&co), "--as", "p1@m1", "--force", "--json"])
        .ok();
    assert_eq!(r.json()["replacedVersion"], json!("1.0.0"));
    assert_eq!(fs::read_link(&v).unwrap(), co);
    assert_eq!(
        fs::read_to_string(v.join("commands/c.md")).unwrap(),
        "work in progress\n"
    );
    let aside = join(&cache(&env), "m1/p1/.1.0.0.plugin-unlinked");
    assert_eq!(
        fs::read_to_string(aside.join("commands/c.md")).unwrap(),
        "# p1\n"
    );
    assert_sealed(&aside);
    // No dev marketplace for --as into an existing one.
    assert!(!env.plugins().join("marketplaces/dev").exists());
    assert!(env.known().get("dev").is_none());
    // cache prune keeps what unlink needs.
    env.run(&["cache", "prune", "--older-than", "0"]).ok();
    assert!(aside.is_dir());

    let r = env.run(&["unlink", "p1@m1"]).ok();
    assert_eq!(
        r.stdout,
        format!(
            "✔ Unlinked plugin p1@m1 (scope: user) from {}; restored the installed version 1.0.0\n",
            co.display()
        )
    );
    assert!(v.is_dir() && !v.is_symlink());
    assert!(!aside.exists());
    assert_eq!(
        fs::read_to_string(v.join("commands/c.md")).unwrap(),
        "# p1\n"
    );
    assert_sealed(&v);
    let rec = env.first_record("p1@m1");
    assert_eq!(rec["installPath"], json!(s(&v)));
    assert_eq!(rec["version"], json!("1.0.0"));
    assert_eq!(
        rec["installedAt"],
        installed_before["plugins"]["p1@m1"][0]["installedAt"]
    );
    assert_eq!(env.settings()["enabledPlugins"], json!({"p1@m1": true}));
    assert!(!v.join(".orphaned_at").exists());

    // Unlinking again: not linked.
    let r = env.run(&["unlink", "p1@m1"]).fails();
    assert_eq!(
        r.stderr,
        "✘ Failed to unlink plugin \"p1@m1\": Plugin \"p1@m1\" is not linked at user scope (see `plugin list`)\n"
    );
}

#[test]
fn link_of_another_version_keeps_the_installed_folder_in_place() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let co = checkout(&env, "p1-next", "p1", "2.0.0-dev");
    env.run(&["link", s(&co), "--as", "p1@m1", "--force"]).ok();
    let old = join(&cache(&env), "m1/p1/1.0.0");
    let link = join(&cache(&env), "m1/p1/2.0.0-dev");
    assert!(old.is_dir() && !old.is_symlink());
    assert!(!old.join(".orphaned_at").exists(), "kept for unlink");
    assert_eq!(fs::read_link(&link).unwrap(), co);
    assert_eq!(env.first_record("p1@m1")["version"], json!("2.0.0-dev"));
    env.run(&["unlink", "p1"]).ok();
    assert!(!link.is_symlink());
    assert_eq!(env.first_record("p1@m1")["version"], json!("1.0.0"));
    assert_eq!(env.first_record("p1@m1")["installPath"], json!(s(&old)));
}

#[test]
fn link_refuses_what_is_not_a_plugin_and_changes_nothing() {
    let env = Env::new();
    let empty = env.fx.join("notes");
    write(&empty.join("todo.txt"), "x");
    let before = snapshot(&env);
    let r = env.run(&["link", s(&empty), "--json"]).fails();
    assert_eq!(r.json()["failureCode"], json!("error_validation"));
    assert_eq!(
        r.stderr,
        format!(
            "✘ Failed to link plugin \"{}\": Cannot link {}: it has no .claude-plugin/plugin.json and none of commands, agents, skills, output-styles, hooks/hooks.json, .mcp.json, .lsp.json, monitors/monitors.json, bin, SKILL.md; create one with `plugin init <name>`\n",
            empty.display(),
            empty.display()
        )
    );
    let missing = env.fx.join("nope");
    let r = env.run(&["link", s(&missing)]).fails();
    assert!(r.stderr.contains("it is not a folder"), "{}", r.stderr);
    // A name Claude Code cannot install.
    let co = checkout(&env, "ok", "ok", "1.0.0");
    let r = env.run(&["link", s(&co), "--as", "bad name"]).fails();
    assert!(r.stderr.contains("Name it with --as"), "{}", r.stderr);
    // An unknown marketplace for --as.
    let r = env.run(&["link", s(&co), "--as", "ok@nowhere"]).fails();
    assert!(
        r.stderr
            .contains("Marketplace \"nowhere\" is not configured"),
        "{}",
        r.stderr
    );
    // A corrupt manifest is named.
    let bad = env.fx.join("bad");
    write(&bad.join(".claude-plugin/plugin.json"), "{oops");
    let r = env.run(&["link", s(&bad)]).fails();
    assert!(r.stderr.contains("corrupt manifest"), "{}", r.stderr);
    let mut after = snapshot(&env);
    after.retain(|l| !l.contains("/fx/"));
    let mut want = before;
    want.retain(|l| !l.contains("/fx/"));
    assert_eq!(after, want);
    assert!(!env.plugins().join("installed_plugins.json").exists());
}

#[test]
fn link_without_manifest_uses_the_folder_name_and_version_unknown() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let co = env.fx.join("skills-only");
    write(&co.join("skills/s/SKILL.md"), "---\nname: s\n---\n");
    env.run(&["link", s(&co), "--scope", "project"]).ok();
    let link = join(&cache(&env), "dev/skills-only/unknown");
    assert_eq!(fs::read_link(&link).unwrap(), co);
    let rec = env.first_record("skills-only@dev");
    assert_eq!(rec["scope"], json!("project"));
    assert_eq!(rec["projectPath"], json!(s(&env.cwd)));
    assert_eq!(
        env.read_json(&env.cwd.join(".claude/settings.json"))["enabledPlugins"],
        json!({"skills-only@dev": true})
    );
    // Unlink at the wrong scope names the scope.
    let r = env.run(&["unlink", "skills-only"]).fails();
    assert!(
        r.stderr.contains("not linked at user scope"),
        "{}",
        r.stderr
    );
    env.run(&["unlink", "skills-only", "--scope", "project"])
        .ok();
    assert!(!link.is_symlink());
}

/// m1's p1 installed; returns the source folder.
fn installed_p1(env: &Env) -> PathBuf {
    let m = m1(env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    join(&m, "plugins/p1")
}

fn mtime_ns(p: &Path) -> i128 {
    plugin::platform::Stat::of_file(&fs::File::open(p).unwrap())
        .unwrap()
        .mtime_ns
}

#[test]
fn reinstall_of_unchanged_folder_plugin_does_nothing_and_says_so() {
    let env = Env::new();
    let src = installed_p1(&env);
    let state = env.plugins().join("installed_plugins.json");
    let before = (mtime_ns(&state), tree_with_content(&cache(&env)));
    let settings_before = mtime_ns(&env.claude().join("settings.json"));
    // --json is Claude Code's line exactly; the content check shows in human output.
    let r = env.run(&["install", "p1@m1", "--json"]).ok();
    let v = r.json();
    assert_eq!(
        v["message"],
        json!(format!(
            "Plugin \"p1@m1\" is already installed (scope: user) — it loads in place from {}, so edits there take effect at the next session start or /reload-plugins",
            src.display()
        ))
    );
    assert!(v.get("unchanged").is_none(), "{v}");
    let r = env.run(&["install", "p1@m1"]).ok();
    assert!(
        r.stdout
            .contains("  Content unchanged since version 1.0.0 was installed: nothing was copied. `--force` reinstalls it.")
            && !r.stdout.contains("sha256:"),
        "{}",
        r.stdout
    );
    assert_eq!((mtime_ns(&state), tree_with_content(&cache(&env))), before);
    assert_eq!(
        mtime_ns(&env.claude().join("settings.json")),
        settings_before
    );
}

#[test]
fn changed_content_needs_a_new_version_or_force() {
    let env = Env::new();
    let src = installed_p1(&env);
    let v = join(&cache(&env), "m1/p1/1.0.0");
    write(&src.join("commands/c.md"), "changed\n");

    // Same version, other content: refused, with the suggestion; nothing changed.
    let before = (
        fs::read(env.plugins().join("installed_plugins.json")).unwrap(),
        tree_with_content(&cache(&env)),
    );
    let r = env.run(&["install", "p1@m1", "--json"]).fails();
    assert_eq!(r.json()["failureCode"], json!("changed_same_version"));
    assert_eq!(
        r.stderr,
        format!(
            "✘ Failed to install plugin \"p1@m1\": The content of {} changed but its version 1.0.0 is the installed one; bump \"version\" in its plugin.json, or reinstall it as it is with `plugin install p1@m1 --force`\n",
            src.display()
        )
    );
    assert_eq!(
        (
            fs::read(env.plugins().join("installed_plugins.json")).unwrap(),
            tree_with_content(&cache(&env)),
        ),
        before
    );

    // --force reinstalls it in place.
    let r = env.run(&["install", "p1@m1", "--force"]).ok();
    assert!(r.stdout.contains("Successfully installed plugin: p1@m1"));
    assert_eq!(
        fs::read_to_string(v.join("commands/c.md")).unwrap(),
        "changed\n"
    );
    assert_sealed(&v);
    // And now it is unchanged again.
    let r = env.run(&["install", "p1@m1"]).ok();
    assert!(
        r.stdout.contains("Content unchanged since version 1.0.0"),
        "{}",
        r.stdout
    );

    // A new version is installed beside the old one, which is orphaned.
    write(&src.join("commands/c.md"), "next\n");
    write(
        &src.join(".claude-plugin/plugin.json"),
        r#"{"name":"p1","version":"1.0.1"}"#,
    );
    env.run(&["install", "p1@m1"]).ok();
    let rec = env.first_record("p1@m1");
    assert_eq!(rec["version"], json!("1.0.1"));
    let new = join(&cache(&env), "m1/p1/1.0.1");
    assert_eq!(
        fs::read_to_string(new.join("commands/c.md")).unwrap(),
        "next\n"
    );
    assert!(v.join(".orphaned_at").is_file());
}

/// The stat cache file of the one source folder installed from.
#[track_caller]
fn stat_cache_text(env: &Env) -> String {
    let stat_dir = env.user_cache().join("plugin/stat-v1");
    let files: Vec<_> = fs::read_dir(&stat_dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one stat cache file for the source folder");
    fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap()
}

#[test]
fn remembered_hashes_never_hide_a_change() {
    let env = Env::new();
    let src = installed_p1(&env);
    // Files must be older than the racy margin to be remembered.
    std::thread::sleep(Duration::from_millis(2100));
    env.run(&["install", "p1@m1"]).ok();
    let text = stat_cache_text(&env);
    assert!(
        text.starts_with("plugin-stat v2\ntree plugin-files v1 sha256:"),
        "{text}"
    );
    assert!(
        text.contains(" -\tcommands\n"),
        "folders are remembered: {text}"
    );
    assert!(text.contains("\tcommands/c.md\n"), "{text}");

    // Same size, same mtime, other bytes: ctime still moves, so it is hashed again.
    let f = src.join("commands/c.md");
    let before = fs::metadata(&f).unwrap();
    let before_ns = mtime_ns(&f);
    fs::write(&f, "# P1\n").unwrap();
    let times = fs::FileTimes::new().set_modified(before.modified().unwrap());
    fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_times(times)
        .unwrap();
    assert_eq!(fs::metadata(&f).unwrap().len(), before.len());
    assert_eq!(mtime_ns(&f), before_ns);
    let r = env.run(&["install", "p1@m1", "--json"]).fails();
    assert_eq!(r.json()["failureCode"], json!("changed_same_version"));
}

/// The copy an update makes of changed content keeps what its digest step remembered of the
/// whole folder, so the next no-op needs no walk.
#[test]
fn updating_changed_content_keeps_the_remembered_tree() {
    let env = Env::new();
    let src = installed_p1(&env);
    // Version `unknown`: an update refreshes changed content in place, after a digest.
    write(&src.join(".claude-plugin/plugin.json"), r#"{"name":"p1"}"#);
    env.run(&["install", "p1@m1"]).ok();
    assert_eq!(env.first_record("p1@m1")["version"], json!("unknown"));
    write(&src.join("commands/c.md"), "next\n");
    // Older than the racy margin, so every file and folder may be remembered.
    std::thread::sleep(Duration::from_millis(2100));
    env.run(&["update", "p1@m1"]).ok();
    let installed = PathBuf::from(env.first_record("p1@m1")["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_to_string(installed.join("commands/c.md")).unwrap(),
        "next\n"
    );
    let text = stat_cache_text(&env);
    assert!(
        text.starts_with("plugin-stat v2\ntree plugin-files v1 sha256:"),
        "{text}"
    );
}

#[test]
fn a_file_added_to_an_unchanged_folder_plugin_is_noticed() {
    let env = Env::new();
    let src = installed_p1(&env);
    std::thread::sleep(Duration::from_millis(2100));
    env.run(&["install", "p1@m1"]).ok();
    // Now vouched for by stat data alone (the whole-folder digest is reused).
    let r = env.run(&["install", "p1@m1"]).ok();
    assert!(
        r.stdout.contains("Content unchanged since version"),
        "{}",
        r.stdout
    );
    // No file that was listed changes; only the folder that gains one does.
    fs::write(src.join("commands/new.md"), "# new\n").unwrap();
    let r = env.run(&["install", "p1@m1", "--json"]).fails();
    assert_eq!(r.json()["failureCode"], json!("changed_same_version"));
    fs::remove_file(src.join("commands/new.md")).unwrap();
    fs::create_dir(src.join("agents")).unwrap();
    let r = env.run(&["install", "p1@m1", "--json"]).fails();
    assert_eq!(r.json()["failureCode"], json!("changed_same_version"));
}

#[test]
fn init_scaffolds_a_plugin_that_installs() {
    let env = Env::new();
    let r = env.run(&["init", "my-tool", "--json"]).ok();
    let dir = env.cwd.join("my-tool");
    assert_eq!(
        r.json(),
        json!({"schemaVersion":1,"command":"init","outcome":"ok","plugin":"my-tool","dir":s(&dir),
            "files":[".claude-plugin/plugin.json","skills/my-tool/SKILL.md","commands/my-tool.md","README.md"]})
    );
    let manifest: Value = env.read_json(&dir.join(".claude-plugin/plugin.json"));
    assert_eq!(manifest["name"], json!("my-tool"));
    assert_eq!(manifest["version"], json!("0.1.0"));
    assert!(
        fs::read_to_string(dir.join("skills/my-tool/SKILL.md"))
            .unwrap()
            .starts_with("---\nname: my-tool\ndescription: ")
    );
    // It installs from a folder marketplace around it, with our tool.
    marketplace(
        &env.cwd,
        "local",
        r#"[{"name":"my-tool","source":"./my-tool"}]"#,
    );
    env.run(&["marketplace", "add", s(&env.cwd)]).ok();
    env.run(&["install", "my-tool@local"]).ok();
    let v = join(&cache(&env), "local/my-tool/0.1.0");
    assert!(v.join("commands/my-tool.md").is_file());
    assert_sealed(&v);

    // Refusals: an invalid name, a non-empty folder; nothing written.
    let r = env.run(&["init", "My Tool"]).fails();
    assert!(
        r.stderr.contains("Cannot create plugin \"My Tool\""),
        "{}",
        r.stderr
    );
    let r = env.run(&["init", "MyTool"]).fails();
    assert!(r.stderr.contains("kebab-case"), "{}", r.stderr);
    assert!(!env.cwd.join("MyTool").exists());
    let r = env.run(&["init", "other", "--dir", s(&dir)]).fails();
    assert_eq!(
        r.stderr,
        format!(
            "✘ Cannot create the plugin in {}: the folder exists and is not empty; choose another with --dir\n",
            dir.display()
        )
    );
    // An empty existing folder is fine.
    fs::create_dir(env.cwd.join("empty")).unwrap();
    env.run(&["init", "x1", "--dir", "empty"]).ok();
    assert!(env.cwd.join("empty/.claude-plugin/plugin.json").is_file());
}

#[test]
fn link_over_a_folder_another_scope_uses_needs_force() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let co = checkout(&env, "p1", "p1", "1.0.0");
    let v = join(&cache(&env), "m1/p1/1.0.0");

    // Nothing installed at project scope, but the folder is the user-scope installation's.
    let before = snapshot(&env);
    let r = env
        .run(&[
            "link",
            s(&co),
            "--as",
            "p1@m1",
            "--scope",
            "project",
            "--json",
        ])
        .fails();
    assert_eq!(r.json()["failureCode"], json!("already_installed"));
    let r = env
        .run(&["link", s(&co), "--as", "p1@m1", "--scope", "project"])
        .fails();
    assert_eq!(
        r.stderr,
        format!(
            "✘ Failed to link plugin \"{}\": Plugin \"p1@m1\" version 1.0.0 ({}) is also installed at user scope, which would run the checkout too; add --force to link over it anyway (`plugin unlink p1@m1 --scope project` restores it)\n",
            co.display(),
            v.display()
        )
    );
    assert_eq!(snapshot(&env), before);
    assert!(v.is_dir() && !v.is_symlink());

    // And the other way round: a project-scope link is not replaced by a user-scope one.
    let m_co = checkout(&env, "p1-other", "p1", "1.0.0");
    env.run(&[
        "link",
        s(&co),
        "--as",
        "p1@m1",
        "--scope",
        "project",
        "--force",
    ])
    .ok();
    assert_eq!(fs::read_link(&v).unwrap(), co);
    let r = env
        .run(&["link", s(&m_co), "--as", "p1@m1", "--scope", "local"])
        .fails();
    assert!(
        r.stderr.contains(&format!(
            "is also installed at user scope, project scope ({})",
            env.cwd.display()
        )),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read_link(&v).unwrap(), co);

    env.run(&["unlink", "p1@m1", "--scope", "project"]).ok();
    assert!(v.is_dir() && !v.is_symlink());
    assert_eq!(
        fs::read_to_string(v.join("commands/c.md")).unwrap(),
        "# p1\n"
    );
    assert_eq!(env.first_record("p1@m1")["installPath"], json!(s(&v)));
}

#[test]
fn uninstall_of_a_linked_plugin_is_refused_in_favour_of_unlink() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let co = checkout(&env, "tool", "tool", "0.3.0");
    env.run(&["link", s(&co)]).ok();
    let before = snapshot(&env);
    let r = env.run(&["uninstall", "tool@dev", "--json"]).fails();
    assert_eq!(r.json()["failureCode"], json!("linked"));
    let r = env.run(&["uninstall", "tool"]).fails();
    assert_eq!(
        r.stderr,
        format!(
            "✘ Failed to uninstall plugin \"tool\": Plugin \"tool@dev\" is linked to the development checkout {} at user scope; run `plugin unlink tool@dev` instead (it puts back what the link replaced, or uninstalls)\n",
            co.display()
        )
    );
    assert_eq!(snapshot(&env), before);

    // Over an installed plugin at project scope: the hint names the scope.
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1", "--scope", "project"]).ok();
    let p1 = checkout(&env, "p1", "p1", "1.0.0");
    env.run(&[
        "link",
        s(&p1),
        "--as",
        "p1@m1",
        "--scope",
        "project",
        "--force",
    ])
    .ok();
    let r = env
        .run(&["uninstall", "p1@m1", "--scope", "project"])
        .fails();
    assert!(
        r.stderr
            .contains("run `plugin unlink p1@m1 --scope project` instead"),
        "{}",
        r.stderr
    );
    let aside = join(&cache(&env), "m1/p1/.1.0.0.plugin-unlinked");
    assert!(aside.is_dir());

    // unlink then uninstall: nothing of the link is left.
    env.run(&["unlink", "p1@m1", "--scope", "project"]).ok();
    env.run(&["uninstall", "p1@m1", "--scope", "project"]).ok();
    assert!(!aside.exists());
    assert!(env.installed()["plugins"].get("p1@m1").is_none());
    env.run(&["unlink", "tool"]).ok();
    env.run(&["uninstall", "tool"]).fails();
    assert!(!env.plugins().join("marketplaces/dev").exists());
    assert_eq!(
        env.read_json(&env.plugins().join(".plugin-links.json"))["links"],
        json!([])
    );
}

// Needs a dangling link that Windows processes see (wine hides them) and Unix's symlink call.
#[cfg(unix)]
#[test]
fn a_link_that_fails_halfway_puts_everything_back() {
    let env = Env::new();
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let co = checkout(&env, "p1", "p1", "1.0.0");
    let v = join(&cache(&env), "m1/p1/1.0.0");
    // The project settings cannot be written (the last step): `.claude` is a dangling link, so
    // reading finds no settings but creating the folder fails (even as root).
    std::os::unix::fs::symlink(env.fx.join("gone"), env.cwd.join(".claude")).unwrap();
    let before = snapshot(&env);

    // The installed folder was moved aside and the record written before the failure.
    let r = env
        .run(&[
            "link",
            s(&co),
            "--as",
            "p1@m1",
            "--scope",
            "project",
            "--force",
        ])
        .fails();
    assert!(r.stderr.contains(".claude"), "{}", r.stderr);
    assert_eq!(snapshot(&env), before);
    assert!(v.is_dir() && !v.is_symlink());
    assert_eq!(
        fs::read_to_string(v.join("commands/c.md")).unwrap(),
        "# p1\n"
    );
    assert!(!env.plugins().join(".plugin-links.json").exists());

    // A `dev` link: catalog, registration and declaration are undone too.
    let tool = checkout(&env, "tool", "tool", "0.3.0");
    let r = env.run(&["link", s(&tool), "--scope", "project"]).fails();
    assert!(r.stderr.contains(".claude"), "{}", r.stderr);
    assert_eq!(snapshot(&env), before);
    assert!(!env.plugins().join("marketplaces/dev").exists());
    assert!(!cache(&env).join("dev").exists());

    // With the settings writable again, the same link goes through and unlink restores.
    fs::remove_file(env.cwd.join(".claude")).unwrap();
    env.run(&[
        "link",
        s(&co),
        "--as",
        "p1@m1",
        "--scope",
        "project",
        "--force",
    ])
    .ok();
    assert_eq!(fs::read_link(&v).unwrap(), co);
    env.run(&["unlink", "p1@m1", "--scope", "project"]).ok();
    assert!(v.is_dir() && !v.is_symlink());
}

/// The entries of a plugin's cache folder: `name -> target` for links, `name/` for folders.
fn entries(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    match fs::read_link(e.path()) {
                        Ok(t) => format!("{name} -> {}", t.display()),
                        Err(_) => format!("{name}/"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn linking_again_at_another_version_takes_the_earlier_link_down() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let installed_before = env.installed();
    let co = checkout(&env, "p1", "p1", "1.0.0");
    env.run(&["link", s(&co), "--as", "p1@m1", "--force"]).ok();
    let dir = join(&cache(&env), "m1/p1");
    assert_eq!(
        entries(&dir),
        [
            ".1.0.0.plugin-unlinked/".to_string(),
            format!("1.0.0 -> {}", co.display())
        ]
    );

    // The checkout's version moves on; `link` again (no --force: the record is the link's).
    checkout(&env, "p1", "p1", "2.0.0");
    let r = env.run(&["link", s(&co), "--as", "p1@m1", "--json"]).ok();
    assert_eq!(r.json()["replacedVersion"], json!("1.0.0"));
    // The 1.0.0 link is gone and the installed 1.0.0 folder is back in its place.
    assert_eq!(
        entries(&dir),
        ["1.0.0/".to_string(), format!("2.0.0 -> {}", co.display())]
    );
    assert_eq!(
        fs::read_to_string(dir.join("1.0.0/commands/c.md")).unwrap(),
        "# p1\n"
    );
    assert_sealed(&dir.join("1.0.0"));
    assert_eq!(env.first_record("p1@m1")["version"], json!("2.0.0"));

    env.run(&["unlink", "p1@m1"]).ok();
    assert_eq!(entries(&dir), ["1.0.0/"]);
    let rec = env.first_record("p1@m1");
    assert_eq!(rec["version"], json!("1.0.0"));
    assert_eq!(
        rec["installedAt"],
        installed_before["plugins"]["p1@m1"][0]["installedAt"]
    );

    // In the `dev` marketplace: one link, at the new version, and the catalog follows.
    let tool = checkout(&env, "tool", "tool", "0.3.0");
    env.run(&["link", s(&tool)]).ok();
    checkout(&env, "tool", "tool", "0.4.0");
    env.run(&["link", s(&tool)]).ok();
    assert_eq!(
        entries(&join(&cache(&env), "dev/tool")),
        [format!("0.4.0 -> {}", tool.display())]
    );
    let catalog = env.read_json(
        &env.plugins()
            .join("marketplaces/dev/.claude-plugin/marketplace.json"),
    );
    assert_eq!(catalog["plugins"][0]["version"], json!("0.4.0"));
    env.run(&["unlink", "tool"]).ok();
    assert!(!cache(&env).join("dev").exists());
    assert!(
        !env.plugins().join(".plugin-links.json").exists()
            || env.read_json(&env.plugins().join(".plugin-links.json"))["links"] == json!([])
    );
}

#[test]
fn linking_again_needs_force_once_another_tool_replaced_the_record() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let co = checkout(&env, "p1", "p1", "1.0.0");
    env.run(&["link", s(&co), "--as", "p1@m1", "--force"]).ok();
    // Claude Code's `plugin update` knows nothing of links and records its own copy.
    let copy = join(&cache(&env), "m1/p1/1.1.0");
    fs::create_dir_all(&copy).unwrap();
    let file = env.plugins().join("installed_plugins.json");
    let mut v = env.installed();
    v["plugins"]["p1@m1"][0]["installPath"] = json!(s(&copy));
    v["plugins"]["p1@m1"][0]["version"] = json!("1.1.0");
    fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let before = fs::read(&file).unwrap();
    let r = env
        .run(&["link", s(&co), "--as", "p1@m1", "--json"])
        .fails();
    assert!(r.stderr.contains("1.1.0"), "{}", r.stderr);
    assert_eq!(fs::read(&file).unwrap(), before, "nothing changed");
}

#[test]
fn marketplace_remove_refuses_while_plugins_are_linked_into_it() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let m = m1(&env);
    env.run(&["marketplace", "add", s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let co = checkout(&env, "p1", "p1", "1.0.0");
    env.run(&["link", s(&co), "--as", "p1@m1", "--force"]).ok();
    let tool = checkout(&env, "tool", "tool", "0.3.0");
    env.run(&["link", s(&tool), "--scope", "local"]).ok();
    let before = snapshot(&env);

    let r = env.run(&["marketplace", "remove", "dev"]).fails();
    assert_eq!(
        r.stderr,
        format!(
            "✘ Failed to remove marketplace: Marketplace \"dev\" has plugins linked to development checkouts: tool@dev (local scope, {}); run `plugin unlink tool@dev --scope local` first (it puts back what each link replaced), then remove the marketplace\n",
            plugin::fsutil::canonicalize(&env.cwd).unwrap().display()
        )
    );
    let r = env.run(&["marketplace", "remove", "m1", "--json"]).fails();
    assert_eq!(r.json()["failureCode"], json!("linked"));
    assert_eq!(snapshot(&env), before);

    // Unlinked, the marketplace goes as usual (the last `dev` link takes `dev` with it).
    env.run(&["unlink", "tool", "--scope", "local"]).ok();
    env.run(&["unlink", "p1@m1"]).ok();
    env.run(&["marketplace", "remove", "m1"]).ok();
    assert!(env.installed()["plugins"].get("p1@m1").is_none());
    assert!(env.known().get("dev").is_none());
}

#[test]
fn sync_prune_leaves_a_linked_checkout_to_unlink() {
    let env = Env::new();
    if no_links(&env) {
        return;
    }
    let co = checkout(&env, "tool", "tool", "0.3.0");
    env.run(&["link", s(&co)]).ok();
    env.run(&["disable", "tool@dev"]).ok();
    let before = env.installed();
    let r = env.run(&["sync", "--prune", "--json"]).ok().json();
    assert_eq!(r["plugins"], json!([]), "{r}");
    assert_eq!(env.installed(), before);
    assert!(join(&cache(&env), "dev/tool/0.3.0").is_symlink());
    // unlink still finds what link recorded.
    env.run(&["unlink", "tool"]).ok();
    assert!(!cache(&env).join("dev").exists());
}
