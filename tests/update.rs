// Needs the loopback git server (Python, git http-backend): Windows test processes cannot
// start Linux programs under wine, so this file runs on Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! `update`, `outdated` and `cache verify` on folder, git (loopback `git http-backend`) and npm
//! (loopback registry) sources: every outcome, the JSON shape, exit codes, what is written and
//! what is not, and what a no-op costs on the wire.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::githttp::{GitServer, WorkRepo};
use common::registry::Registry;
use common::*;
use serde_json::{Value, json};

/// The rows of `update --json`, `outdated --json` and `cache verify --json` (their `plugins`).
fn rows(run: &Run) -> Vec<Value> {
    run.json()["plugins"]
        .as_array()
        .expect("a report with plugins")
        .clone()
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["plugin"] == id)
        .unwrap_or_else(|| panic!("no row for {id}: {rows:#?}"))
}

/// `(row[a], row[b])` of every row, sorted.
fn sorted_pairs(rows: &[Value], a: &str, b: &str) -> Vec<(String, String)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|r| (r[a].as_str().unwrap().into(), r[b].as_str().unwrap().into()))
        .collect();
    v.sort();
    v
}

fn outcomes(rows: &[Value]) -> Vec<(String, String)> {
    sorted_pairs(rows, "plugin", "outcome")
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A folder marketplace `name` with plugins `(name, manifest version)` under `plugins/`,
/// added; returns its folder.
fn folder_market(env: &Env, name: &str, plugins: &[(&str, Option<&str>)]) -> PathBuf {
    let m = env.fx.join(name);
    let entries: Vec<Value> = plugins
        .iter()
        .map(|(p, v)| {
            plugin(&m.join("plugins").join(p), p, *v);
            json!({"name": p, "source": format!("./plugins/{p}")})
        })
        .collect();
    env.add_marketplace(name, &Value::Array(entries))
}

fn install_path(env: &Env, id: &str) -> PathBuf {
    PathBuf::from(env.first_record(id)["installPath"].as_str().unwrap())
}

#[test]
fn folder_plugins_current_changed_forced_updated_and_unknown() {
    let env = Env::new();
    let m = folder_market(&env, "mu", &[("p1", Some("1.0.0")), ("pu", None)]);
    env.run(&["install", "p1@mu"]).ok();
    env.run(&["install", "pu@mu"]).ok();
    let v1 = install_path(&env, "p1@mu");
    let before = tree_with_content(&env.plugins().join("cache"));
    let record_before = env.first_record("p1@mu");

    // Nothing changed: current, nothing rewritten.
    let out = env.run(&["update", "p1", "--json"]).ok();
    assert_eq!(
        rows(&out),
        vec![
            json!({"plugin": "p1@mu", "pluginId": "p1@mu", "scope": "user", "outcome": "current",
                    "oldVersion": "1.0.0", "newVersion": "1.0.0", "applied": false,
                    "message": "current 1.0.0"})
        ]
    );
    let v = out.json();
    assert_eq!(
        (&v["schemaVersion"], &v["command"], &v["outcome"]),
        (&json!(1), &json!("update"), &json!("ok"))
    );
    assert_eq!(tree_with_content(&env.plugins().join("cache")), before);
    assert_eq!(env.first_record("p1@mu"), record_before);

    // New content, same version: said, not applied; exit 0.
    let cmd = m.join("plugins/p1/commands/hello.md");
    write(&cmd, "# changed\n");
    let out = env.run(&["update", "p1@mu"]).ok();
    assert_eq!(
        out.stdout,
        "! p1@mu (user): content changed upstream but version 1.0.0 is unchanged; use --force to reinstall\n1 changed-same-version\n"
    );
    assert_eq!(tree_with_content(&env.plugins().join("cache")), before);

    // --force reinstalls in place, complete and sealed.
    let out = env.run(&["update", "p1@mu", "--force", "--json"]).ok();
    let r = &rows(&out)[0];
    assert_eq!(
        (
            &r["outcome"],
            &r["oldVersion"],
            &r["newVersion"],
            &r["applied"]
        ),
        (
            &json!("updated"),
            &json!("1.0.0"),
            &json!("1.0.0"),
            &json!(true)
        )
    );
    assert_eq!(read(&v1.join("commands/hello.md")), "# changed\n");
    assert_sealed(&v1);
    assert_eq!(
        env.first_record("p1@mu")["installedAt"],
        record_before["installedAt"]
    );

    // A new version: `outdated` says so and changes nothing; `update` installs it beside the
    // old folder, which is kept and marked orphaned.
    let pj = m.join("plugins/p1/.claude-plugin/plugin.json");
    write(&pj, &read(&pj).replace("1.0.0", "1.1.0"));
    let cache_before = tree_with_content(&env.plugins().join("cache"));
    let out = env.run(&["outdated", "--json"]).ok();
    let rs = rows(&out);
    assert_eq!(row(&rs, "p1@mu")["outcome"], "updated");
    assert_eq!(row(&rs, "p1@mu")["applied"], false);
    assert_eq!(row(&rs, "p1@mu")["message"], "1.0.0 → 1.1.0 available");
    assert_eq!(row(&rs, "pu@mu")["outcome"], "current");
    assert_eq!(
        tree_with_content(&env.plugins().join("cache")),
        cache_before
    );
    let out = env.run(&["update", "p1@mu"]).ok();
    assert_eq!(
        out.stdout,
        "✔ p1@mu (user): updated 1.0.0 → 1.1.0\n1 updated. Restart Claude Code (or /reload-plugins) to apply changes.\n"
    );
    let v2 = install_path(&env, "p1@mu");
    assert_eq!(v2, v1.with_file_name("1.1.0"));
    assert_sealed(&v2);
    let rec = env.first_record("p1@mu");
    assert_eq!(rec["version"], "1.1.0");
    assert_eq!(rec["installedAt"], record_before["installedAt"]);
    assert_ne!(rec["lastUpdated"], record_before["lastUpdated"]);
    let orphaned: i64 = read(&v1.join(".orphaned_at")).parse().unwrap();
    assert!(orphaned > 1_700_000_000_000, "epoch ms: {orphaned}");
    assert_eq!(read(&v1.join("commands/hello.md")), "# changed\n");
    // A kill between recording 1.1.0 and marking 1.0.0 leaves 1.0.0 unmarked: the next update
    // that finds the plugin current marks it.
    fs::remove_file(v1.join(".orphaned_at")).unwrap();
    env.run(&["update", "p1@mu"]).ok();
    assert!(v1.join(".orphaned_at").is_file());
    assert!(!v2.join(".orphaned_at").exists());

    // `unknown` tells nothing, so new content is refreshed in place.
    let pu = install_path(&env, "pu@mu");
    write(&m.join("plugins/pu/commands/hello.md"), "# new\n");
    let out = env.run(&["update", "pu@mu", "--json"]).ok();
    let r = &rows(&out)[0];
    assert_eq!(
        (&r["outcome"], &r["oldVersion"], &r["newVersion"]),
        (&json!("updated"), &json!("unknown"), &json!("unknown"))
    );
    assert_eq!(read(&pu.join("commands/hello.md")), "# new\n");
    assert_sealed(&pu);
    let out = env.run(&["update", "pu@mu", "--json"]).ok();
    assert_eq!(rows(&out)[0]["outcome"], "current");

    // verify: intact, then a modified, a missing and an extra file are named; exit 1.
    env.run(&["cache", "verify"]).ok();
    write(&v2.join("commands/hello.md"), "edited in the cache\n");
    fs::remove_file(v2.join(".claude-plugin/plugin.json")).unwrap();
    write(&v2.join("stray.txt"), "x");
    let out = env.run(&["cache", "verify", "p1", "--json"]).fails();
    let r = &rows(&out)[0];
    assert_eq!(r["status"], "modified");
    assert_eq!(r["modified"], json!(["commands/hello.md"]));
    assert_eq!(r["missing"], json!([".claude-plugin/plugin.json"]));
    assert_eq!(r["extra"], json!(["stray.txt"]));
    let out = env.run(&["cache", "verify", "p1"]).fails();
    assert!(
        out.stderr.contains("    modified: commands/hello.md"),
        "{}",
        out.stderr
    );
    // --force repairs it.
    env.run(&["update", "p1", "--force"]).ok();
    env.run(&["cache", "verify", "p1"]).ok();
}

#[test]
fn failures_are_per_plugin_and_exit_1() {
    let env = Env::new();
    let v1 = Some("1.0.0");
    let m = folder_market(&env, "mf", &[("a", v1), ("b", v1), ("c", v1)]);
    for p in ["a", "b", "c"] {
        env.run(&["install", p]).ok();
    }
    // a: new version; b: removed from the catalog; c: unchanged.
    let pj = m.join("plugins/a/.claude-plugin/plugin.json");
    write(&pj, &read(&pj).replace("1.0.0", "2.0.0"));
    marketplace(
        &m,
        "mf",
        r#"[{"name":"a","source":"./plugins/a"},{"name":"c","source":"./plugins/c"}]"#,
    );
    let b_before = env.first_record("b@mf");
    let out = env.run(&["update", "--all", "--json"]).fails();
    assert_eq!(out.json()["outcome"], "failed", "a row failed: exit 1");
    let rs = rows(&out);
    assert_eq!(rs.len(), 3, "{rs:#?}");
    assert_eq!(row(&rs, "a@mf")["outcome"], "updated");
    assert_eq!(row(&rs, "c@mf")["outcome"], "current");
    let b = row(&rs, "b@mf");
    assert_eq!(b["outcome"], "failed");
    assert_eq!(b["failureCode"], "not_found");
    assert_eq!(
        b["message"],
        "Plugin \"b\" is no longer listed in marketplace \"mf\"; the installed copy stays. Remove it with `plugin uninstall b@mf` if it is gone for good."
    );
    assert_eq!(env.first_record("b@mf"), b_before);
    assert!(install_path(&env, "b@mf").is_dir());

    // Names that match nothing, and a scope without an installation.
    let out = env.run(&["update", "zz", "c", "--json"]).fails();
    let rs = rows(&out);
    assert_eq!(
        row(&rs, "zz"),
        &json!({"plugin": "zz", "outcome": "failed", "applied": false,
                "message": "Plugin \"zz\" not found in installed plugins",
                "failureCode": "not_installed"})
    );
    assert_eq!(row(&rs, "c@mf")["outcome"], "current");
    let out = env.run(&["update", "c", "--scope", "local"]).fails();
    assert!(
        out.stderr
            .contains("is installed in user scope, not local. Use --scope user to update."),
        "{}",
        out.stderr
    );
    let out = env.run(&["update", "c", "--scope", "weird"]).fails();
    assert!(
        out.stderr.contains("Unknown scope \"weird\""),
        "{}",
        out.stderr
    );
    let out = env.run(&["update"]);
    assert_eq!(out.code, 2, "clap usage error: {}", out.stderr);

    // The marketplace folder is gone: its refresh fails, and that is each plugin's failure
    // (never "current"); nothing changes.
    age_marketplaces(&env);
    let state = read(&env.plugins().join("installed_plugins.json"));
    fs::rename(&m, env.fx.join("moved")).unwrap();
    let out = env.run(&["update", "a", "c", "--json"]).fails();
    for r in rows(&out) {
        assert_eq!(r["outcome"], "failed", "{r:#}");
        assert_eq!(r["failureCode"], "marketplace_refresh_failed", "{r:#}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("Could not refresh marketplace \"mf\""),
            "{r:#}"
        );
    }
    assert_eq!(read(&env.plugins().join("installed_plugins.json")), state);
    // --no-refresh does not try, but the catalog cannot be read either.
    env.run(&["update", "c", "--no-refresh"]).fails();
}

#[test]
fn the_most_specific_scope_is_updated_unless_one_is_named() {
    let env = Env::new();
    let m = folder_market(&env, "ms", &[("p", Some("1.0.0"))]);
    env.run(&["install", "p", "--scope", "user"]).ok();
    env.run(&["install", "p", "--scope", "project"]).ok();
    let pj = m.join("plugins/p/.claude-plugin/plugin.json");
    write(&pj, &read(&pj).replace("1.0.0", "1.0.1"));
    let out = env.run(&["update", "p", "--json"]).ok();
    let r = &rows(&out)[0];
    assert_eq!(
        (&r["scope"], &r["outcome"]),
        (&json!("project"), &json!("updated"))
    );
    assert_eq!(r["projectPath"], env.cwd.to_str().unwrap());
    let versions = |env: &Env| {
        sorted_pairs(
            env.installed()["plugins"]["p@ms"].as_array().unwrap(),
            "scope",
            "version",
        )
    };
    assert_eq!(
        versions(&env),
        [
            ("project".into(), "1.0.1".into()),
            ("user".into(), "1.0.0".into())
        ]
    );
    // The user installation still uses 1.0.0: not orphaned.
    assert!(!env.plugins().join("cache/ms/p/1.0.0/.orphaned_at").exists());
    // The user installation moves into the folder the project one already uses: the same
    // content, so that folder (and whatever runs from it) is left in place.
    let shared = env.plugins().join("cache/ms/p/1.0.1");
    let inode = fs::metadata(&shared).unwrap().ino();
    env.run(&["update", "p", "--scope", "user"]).ok();
    assert_eq!(fs::metadata(&shared).unwrap().ino(), inode);
    assert_sealed(&shared);
    assert_eq!(
        versions(&env),
        [
            ("project".into(), "1.0.1".into()),
            ("user".into(), "1.0.1".into())
        ]
    );
    assert!(
        env.plugins()
            .join("cache/ms/p/1.0.0/.orphaned_at")
            .is_file()
    );
}

/// A plugin repository served over loopback HTTP.
struct GitFixture {
    server: GitServer,
    srv: PathBuf,
    repo: WorkRepo,
}

fn git_fixture(env: &Env) -> GitFixture {
    let srv = env.fx.join("srv");
    let repo = WorkRepo::init(&env.fx.join("work/gp"));
    repo.write(
        ".claude-plugin/plugin.json",
        r#"{"name":"gp","version":"1.0.0"}"#,
    );
    repo.write("commands/one.md", "# one\n");
    repo.commit("c1");
    repo.publish(&srv.join("git/gp.git"));
    let nv = WorkRepo::init(&env.fx.join("work/nv"));
    nv.write("commands/n.md", "n1\n");
    nv.commit("n1");
    nv.publish(&srv.join("git/nv.git"));
    let server = GitServer::start(&srv);
    GitFixture { server, srv, repo }
}

fn git_run(env: &Env, args: &[&str]) -> Run {
    Run::from(
        env.command_without_tools(args)
            .output()
            .expect("run plugin"),
    )
}

#[test]
fn git_sources_noop_pinned_moved_and_changed_same_version() {
    let env = Env::new();
    let fx = git_fixture(&env);
    let gp = fx.server.url("git/gp.git");
    let nv_url = fx.server.url("git/nv.git");
    let c1 = common::githttp::git(&fx.repo.dir, &["rev-parse", "HEAD"]);
    env.add_marketplace(
        "mg",
        &json!([
            {"name": "gv", "source": {"source": "url", "url": gp}},
            {"name": "pin", "source": {"source": "url", "url": gp, "sha": c1}},
            {"name": "nv", "source": {"source": "url", "url": nv_url}},
        ]),
    );
    for p in ["gv", "pin", "nv"] {
        git_run(&env, &["install", &format!("{p}@mg")]).ok();
    }
    let folder_inode = |id: &str| fs::metadata(install_path(&env, id)).unwrap().ino();
    let inodes: Vec<u64> = ["gv@mg", "pin@mg", "nv@mg"].map(folder_inode).to_vec();

    // No-op: one ref negotiation per repository, no pack, nothing rewritten.
    let seen = fx.server.requests().len();
    let out = git_run(&env, &["update", "--all", "--json"]).ok();
    let rs = rows(&out);
    assert_eq!(
        outcomes(&rs),
        pairs(&[
            ("gv@mg", "current"),
            ("nv@mg", "current"),
            ("pin@mg", "pinned")
        ])
    );
    assert_eq!(row(&rs, "pin@mg")["pinnedTo"], json!({"commit": c1}));
    let mut requests: Vec<String> = fx.server.requests()[seen..].to_vec();
    requests.sort();
    // One ref negotiation (advertisement + ls-refs) per repository and no pack: gv and pin
    // share gp's database, and pin's commit is cached, so it needs no request at all.
    assert_eq!(
        requests,
        [
            "GET /git/gp.git/info/refs?service=git-upload-pack",
            "GET /git/nv.git/info/refs?service=git-upload-pack",
            "POST /git/gp.git/git-upload-pack",
            "POST /git/nv.git/git-upload-pack",
        ]
    );
    assert_eq!(
        ["gv@mg", "pin@mg", "nv@mg"].map(folder_inode).to_vec(),
        inodes,
        "nothing republished"
    );

    // New commits: the versionless plugin moves to the new commit's version; the versioned one
    // reports new content under 1.0.0; the pinned one stays.
    fx.repo.write("commands/two.md", "# two\n");
    fx.repo.commit("c2");
    fx.repo.publish(&fx.srv.join("git/gp.git"));
    let nvr = WorkRepo {
        dir: env.fx.join("work/nv"),
    };
    nvr.write("commands/n.md", "n2\n");
    let n2 = nvr.commit("n2");
    nvr.publish(&fx.srv.join("git/nv.git"));
    let old_nv = env.first_record("nv@mg")["version"].clone();
    let out = git_run(&env, &["update", "--all", "--json"]).ok();
    let rs = rows(&out);
    assert_eq!(
        outcomes(&rs),
        pairs(&[
            ("gv@mg", "changed-same-version"),
            ("nv@mg", "updated"),
            ("pin@mg", "pinned")
        ])
    );
    let nv = row(&rs, "nv@mg");
    assert_eq!(nv["oldVersion"], old_nv);
    assert_eq!(nv["newVersion"], n2[..12]);
    assert_eq!(env.first_record("nv@mg")["gitCommitSha"], n2);
    let nv_dir = install_path(&env, "nv@mg");
    assert_eq!(read(&nv_dir.join("commands/n.md")), "n2\n");
    assert_sealed(&nv_dir);
    let gv_dir = install_path(&env, "gv@mg");
    assert!(!gv_dir.join("commands/two.md").exists());
    git_run(&env, &["update", "gv", "--force"]).ok();
    assert_eq!(read(&gv_dir.join("commands/two.md")), "# two\n");
    assert_sealed(&gv_dir);
    assert_eq!(
        env.first_record("gv@mg")["gitCommitSha"],
        common::githttp::git(&fx.repo.dir, &["rev-parse", "HEAD"])
    );
}

#[test]
fn a_git_marketplace_is_refreshed_first_unless_fresh() {
    let env = Env::new();
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
    let server = GitServer::start(&srv);
    let url = server.url("git/mkt.git");
    git_run(&env, &["marketplace", "add", &url]).ok();
    git_run(&env, &["install", "rp@gm"]).ok();

    w.write(
        "plugins/rp/.claude-plugin/plugin.json",
        r#"{"name":"rp","version":"1.1.0"}"#,
    );
    w.commit("m2");
    w.publish(&srv.join("git/mkt.git"));
    // Refreshed moments ago (by `marketplace add`): not fetched again.
    let out = git_run(&env, &["update", "rp", "--json"]).ok();
    assert_eq!(rows(&out)[0]["outcome"], "current");
    // --no-refresh never fetches.
    age_marketplaces(&env);
    let out = git_run(&env, &["outdated", "--no-refresh", "--json"]).ok();
    assert_eq!(rows(&out)[0]["outcome"], "current");
    // Otherwise the catalog is fetched first and the new version seen.
    let out = git_run(&env, &["update", "rp", "--json"]).ok();
    let r = &rows(&out)[0];
    assert_eq!(
        (&r["outcome"], &r["newVersion"]),
        (&json!("updated"), &json!("1.1.0"))
    );
    assert_sealed(&install_path(&env, "rp@gm"));

    // The server is gone: the refresh fails, and so does the plugin's update.
    drop(server);
    age_marketplaces(&env);
    let out = git_run(&env, &["update", "rp", "--json"]).fails();
    assert_eq!(rows(&out)[0]["failureCode"], "marketplace_refresh_failed");
}

#[test]
fn npm_ranges_update_with_one_conditional_request() {
    let env = Env::new();
    let reg = Registry::start();
    let files: Vec<(&str, &[u8], u32)> = vec![
        (".claude-plugin/plugin.json", br#"{"name":"np"}"#, 0o644),
        ("commands/hi.md", b"# hi\n", 0o644),
    ];
    reg.add_npm("demo", "1.0.0", &files);
    env.add_marketplace(
        "mn",
        &json!([{"name": "np", "source": {"source": "npm", "package": "demo",
                 "version": "^1.0.0", "registry": reg.base_url()}}]),
    );
    let run = |args: &[&str]| {
        Run::from(
            env.command_without_tools(args)
                .env_remove("npm_config_registry")
                .output()
                .expect("run plugin"),
        )
    };
    run(&["install", "np@mn"]).ok();
    let before = reg.hits("/demo");
    let out = run(&["update", "np", "--json"]).ok();
    assert_eq!(rows(&out)[0]["outcome"], "current");
    let after = reg.hits("/demo");
    assert_eq!(after.requests - before.requests, 1, "one metadata request");
    assert_eq!(after.not_modified - before.not_modified, 1, "answered 304");
    assert_eq!(
        reg.request_lines()
            .iter()
            .filter(|l| l.contains(".tgz"))
            .count(),
        1,
        "the tarball was downloaded once, at install: {:#?}",
        reg.request_lines()
    );

    reg.add_npm("demo", "1.1.0", &files);
    let out = run(&["update", "np", "--json"]).ok();
    let r = &rows(&out)[0];
    assert_eq!(
        (&r["outcome"], &r["oldVersion"], &r["newVersion"]),
        (&json!("updated"), &json!("1.0.0"), &json!("1.1.0"))
    );
    let dir = install_path(&env, "np@mn");
    assert!(dir.ends_with("cache/mn/np/1.1.0"));
    assert_sealed(&dir);
    let marker = env.read_json(&dir.join(".plugin-ok"));
    assert_eq!(marker["resolved"]["what"], "demo@1.1.0");

    // A new release that fails its integrity check: a failure, and 1.1.0 stays recorded,
    // enabled and intact.
    reg.add_npm("demo", "1.2.0", &files);
    reg.corrupt_integrity("demo", "1.2.0");
    let state = read(&env.plugins().join("installed_plugins.json"));
    let out = run(&["update", "np", "--json"]).fails();
    let r = &rows(&out)[0];
    assert_eq!(
        (&r["outcome"], &r["oldVersion"]),
        (&json!("failed"), &json!("1.1.0"))
    );
    assert!(
        r["message"].as_str().unwrap().contains("integrity"),
        "{r:#}"
    );
    assert_eq!(read(&env.plugins().join("installed_plugins.json")), state);
    assert_eq!(env.settings()["enabledPlugins"]["np@mn"], true);
    assert_sealed(&dir);
    assert!(!dir.with_file_name("1.2.0").exists());
}

#[test]
fn a_version_folder_linked_to_a_checkout_is_pinned() {
    let env = Env::new();
    let m = folder_market(&env, "ml", &[("p", Some("1.0.0"))]);
    env.run(&["install", "p@ml"]).ok();
    // A developer points the version folder at their checkout.
    let v = install_path(&env, "p@ml");
    let checkout = env.fx.join("checkout");
    plugin(&checkout, "p", Some("1.0.0"));
    fs::remove_dir_all(&v).unwrap();
    std::os::unix::fs::symlink(&checkout, &v).unwrap();
    let pj = m.join("plugins/p/.claude-plugin/plugin.json");
    write(&pj, &read(&pj).replace("1.0.0", "2.0.0"));
    let out = env.run(&["update", "p", "--json"]).ok();
    let r = &rows(&out)[0];
    assert_eq!(r["outcome"], "pinned");
    assert_eq!(
        r["pinnedTo"],
        json!({"checkout": checkout.to_str().unwrap()})
    );
    assert_eq!(env.first_record("p@ml")["version"], "1.0.0");
    assert!(fs::symlink_metadata(&v).unwrap().is_symlink());
    assert!(!checkout.join(".orphaned_at").exists());
    let out = env.run(&["cache", "verify", "--json"]).ok();
    assert_eq!(rows(&out)[0]["status"], "linked");
}

#[test]
fn an_npm_release_under_an_unchanged_manifest_version_is_changed_same_version() {
    let env = Env::new();
    let reg = Registry::start();
    // The manifest's version wins over the npm version (Claude Code's order), so a new npm
    // release that forgot to bump plugin.json keeps the version: its content still counts.
    let manifest: &[u8] = br#"{"name":"npv","version":"1.0.0"}"#;
    reg.add_npm(
        "demo2",
        "1.0.0",
        &[
            (".claude-plugin/plugin.json", manifest, 0o644),
            ("a.md", b"one\n", 0o644),
        ],
    );
    env.add_marketplace(
        "mn",
        &json!([{"name": "npv", "source": {"source": "npm", "package": "demo2",
                 "registry": reg.base_url()}}]),
    );
    let run = |args: &[&str]| {
        Run::from(
            env.command_without_tools(args)
                .env_remove("npm_config_registry")
                .output()
                .expect("run plugin"),
        )
    };
    run(&["install", "npv@mn"]).ok();
    reg.add_npm(
        "demo2",
        "1.0.1",
        &[
            (".claude-plugin/plugin.json", manifest, 0o644),
            ("a.md", b"two\n", 0o644),
        ],
    );
    let dir = install_path(&env, "npv@mn");
    let out = run(&["update", "npv", "--json"]).ok();
    let r = &rows(&out)[0];
    assert_eq!(
        (&r["outcome"], &r["newVersion"]),
        (&json!("changed-same-version"), &json!("1.0.0"))
    );
    assert_eq!(read(&dir.join("a.md")), "one\n");
    let out = run(&["update", "npv", "--force", "--json"]).ok();
    assert_eq!(rows(&out)[0]["outcome"], "updated");
    assert_eq!(read(&dir.join("a.md")), "two\n");
    assert_eq!(
        env.read_json(&dir.join(".plugin-ok"))["resolved"]["what"],
        "demo2@1.0.1"
    );
    // The recorded release now matches: current, with nothing unpacked.
    let out = run(&["update", "npv", "--json"]).ok();
    assert_eq!(rows(&out)[0]["outcome"], "current");
}

/// `outdated --exit-code N` lets a script tell "updates pending" from "all current" (0) and
/// from a failure (1).
#[test]
fn outdated_exit_code_says_whether_updates_are_pending() {
    let env = Env::new();
    let dir = m1(&env);
    env.run(&["marketplace", "add", dir.to_str().unwrap()]).ok();
    env.run(&["install", "p1@m1"]).ok();
    env.run(&["outdated", "--exit-code", "3"]).ok();
    plugin(&dir.join("plugins/p1"), "p1", Some("1.1.0"));
    let r = env.run(&["outdated", "--exit-code", "3", "--json"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert_eq!(rows(&r)[0]["outcome"], "updated");
    // Without the flag: 0, as before.
    env.run(&["outdated"]).ok();
    // 1 stays the failure code.
    assert_eq!(env.run(&["outdated", "--exit-code", "1"]).code, 2);
    env.run(&["update", "--all"]).ok();
    env.run(&["outdated", "--exit-code", "3"]).ok();
}
