// Needs the loopback git server (Python, git http-backend): Windows test processes cannot
// start Linux programs under wine, so this file runs on Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! `plugin sync` and `plugin settings`: settings from every scope (managed + drop-ins, user,
//! project, local) decide what is installed, at which scope; a second sync changes nothing;
//! project settings are not trusted to fetch from outside unless the project is named.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::githttp::{GitServer, WorkRepo};
use common::{Env, Run, m1, marketplace, plugin, tree, tree_with_content};
use serde_json::{Value, json};

fn write_json(path: &Path, v: &Value) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn project_settings(env: &Env) -> PathBuf {
    env.cwd.join(".claude/settings.json")
}

fn local_settings(env: &Env) -> PathBuf {
    env.cwd.join(".claude/settings.local.json")
}

fn user_settings(env: &Env) -> PathBuf {
    env.claude().join("settings.json")
}

/// Marketplace `acme` (a folder) with relative-path plugins a…g and `ext`, a plugin whose source
/// is a git repository on a loopback server (an external source).
struct Fixture {
    env: Env,
    acme: PathBuf,
    server: GitServer,
}

fn fixture() -> Fixture {
    let env = Env::new();
    let acme = env.fx.join("acme");
    let names = ["a", "b", "c", "d", "e", "f", "g"];
    for n in names {
        plugin(&acme.join("plugins").join(n), n, Some("1.0.0"));
    }
    let srv = env.fx.join("srv");
    let repo = WorkRepo::init(&env.fx.join("work/ext"));
    repo.write(
        ".claude-plugin/plugin.json",
        r#"{"name":"ext","version":"2.0.0"}"#,
    );
    repo.write("commands/x.md", "# x\n");
    repo.commit("c1");
    repo.publish(&srv.join("git/ext.git"));
    let server = GitServer::start(&srv);
    let mut entries: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "source": format!("./plugins/{n}")}))
        .collect();
    entries.push(
        json!({"name": "ext", "source": {"source": "url", "url": server.url("git/ext.git")}}),
    );
    marketplace(&acme, "acme", &Value::Array(entries).to_string());
    Fixture { env, acme, server }
}

/// The settings of the issue's example: managed file + drop-in, user, project and local.
fn write_settings(f: &Fixture) {
    let env = &f.env;
    env.write_managed(
        None,
        &json!({
            "extraKnownMarketplaces": {"acme": {"source": {"source": "directory", "path": f.acme}}},
            "enabledPlugins": {"a@acme": true}
        }),
    );
    env.write_managed(
        Some("10-team.json"),
        &json!({"enabledPlugins": {"b@acme": true, "f@acme": false}}),
    );
    write_json(
        &user_settings(env),
        // `@inline` ids are session-only plugins (--plugin-dir): nothing to install.
        &json!({"theme": "dark", "enabledPlugins": {"c@acme": true, "f@acme": true, "g@acme": false, "dev@inline": true}}),
    );
    write_json(
        &project_settings(env),
        &json!({"enabledPlugins": {"d@acme": true, "ext@acme": true}}),
    );
    write_json(
        &local_settings(env),
        &json!({"enabledPlugins": {"e@acme": true, "c@acme": false}}),
    );
}

/// `{id: [(scope, projectPath)]}` of installed_plugins.json.
fn recorded(env: &Env) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let v = env.installed();
    for (id, list) in v["plugins"].as_object().unwrap() {
        for r in list.as_array().unwrap() {
            out.push((
                id.clone(),
                r["scope"].as_str().unwrap().to_string(),
                r["projectPath"].as_str().map(String::from),
            ));
        }
    }
    out.sort();
    out
}

fn actions(report: &Value, key: &str) -> Vec<(String, String)> {
    let id = if key == "plugins" { "id" } else { "name" };
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[id].as_str().unwrap().to_string(),
                p["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn sync_installs_the_effective_set_at_the_enabling_scopes_and_is_idempotent() {
    let f = fixture();
    let env = &f.env;
    write_settings(&f);
    let before: Vec<Vec<u8>> = [
        user_settings(env),
        project_settings(env),
        local_settings(env),
    ]
    .iter()
    .map(|p| fs::read(p).unwrap())
    .collect();

    let r = env.run(&["sync", "--json"]).ok();
    let report = r.json();
    assert_eq!(report["outcome"], "ok");
    assert_eq!(
        actions(&report, "marketplaces"),
        [("acme".into(), "registered".into())]
    );
    assert_eq!(
        actions(&report, "plugins"),
        [
            ("a@acme".to_string(), "installed".to_string()),
            ("b@acme".into(), "installed".into()),
            ("d@acme".into(), "installed".into()),
            ("e@acme".into(), "installed".into()),
            ("ext@acme".into(), "untrusted".into()),
        ]
    );
    let cwd = env.cwd.to_str().unwrap().to_string();
    assert_eq!(
        recorded(env),
        [
            ("a@acme".to_string(), "managed".to_string(), None),
            ("b@acme".into(), "managed".into(), None),
            ("d@acme".into(), "project".into(), Some(cwd.clone())),
            ("e@acme".into(), "local".into(), Some(cwd)),
        ]
    );
    // The untrusted external plugin was not fetched at all.
    assert!(f.server.requests().is_empty(), "{:?}", f.server.requests());
    // Settings are read, never written.
    let after: Vec<Vec<u8>> = [
        user_settings(env),
        project_settings(env),
        local_settings(env),
    ]
    .iter()
    .map(|p| fs::read(p).unwrap())
    .collect();
    assert_eq!(before, after);
    let a = env.first_record("a@acme");
    let installed_tree: Vec<String> = tree(Path::new(a["installPath"].as_str().unwrap()))
        .into_iter()
        .filter(|l| !l.contains(" .plugin-"))
        .collect();
    assert_eq!(installed_tree, tree(&f.acme.join("plugins/a")));
    common::assert_sealed(Path::new(a["installPath"].as_str().unwrap()));
    assert_eq!(env.known()["acme"]["source"]["source"], "directory");

    // Second run: nothing to do, nothing written.
    let state = fs::read(env.plugins().join("installed_plugins.json")).unwrap();
    let known = fs::read(env.plugins().join("known_marketplaces.json")).unwrap();
    let again = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&again, "plugins")
            .into_iter()
            .filter(|(_, a)| a != "present")
            .collect::<Vec<_>>(),
        [("ext@acme".to_string(), "untrusted".to_string())]
    );
    assert_eq!(
        actions(&again, "marketplaces"),
        [("acme".into(), "present".into())]
    );
    assert_eq!(
        fs::read(env.plugins().join("installed_plugins.json")).unwrap(),
        state
    );
    assert_eq!(
        fs::read(env.plugins().join("known_marketplaces.json")).unwrap(),
        known
    );
    let human = env.run(&["sync"]).ok();
    assert!(
        human.stdout.contains(&format!(
            "Plugin \"ext\" is enabled in project settings but isn't installed here; run `plugin sync --project {}`",
            env.cwd.display()
        )),
        "{}",
        human.stdout
    );

    // Naming the project trusts it: the external plugin is fetched and recorded there.
    let trusted = env.run(&["sync", "--project", ".", "--json"]).ok().json();
    assert!(
        actions(&trusted, "plugins").contains(&("ext@acme".into(), "installed".into())),
        "{trusted}"
    );
    assert!(!f.server.requests().is_empty());
    assert!(recorded(env).contains(&(
        "ext@acme".into(),
        "project".into(),
        Some(env.cwd.to_str().unwrap().into())
    )));
    let r = env.run(&["uninstall", "a@acme"]).fails();
    assert!(
        r.stderr.contains(
            "is installed at managed scope because your organization's managed settings enable it"
        ),
        "{}",
        r.stderr
    );
    let last = env.run(&["sync", "--project", "."]).ok();
    assert!(
        last.stdout.starts_with(
            "In sync: 5 enabled plugins installed, 1 declared marketplace registered."
        ),
        "{}",
        last.stdout
    );

    // Managed settings stop enabling `a`: only `--prune` removes its managed-scope install.
    env.write_managed(
        None,
        &json!({"extraKnownMarketplaces": {"acme": {"source": {"source": "directory", "path": f.acme}}}}),
    );
    env.run(&["sync"]).ok();
    assert!(env.installed()["plugins"]["a@acme"].is_array());
    let r = env
        .run(&["sync", "--project", ".", "--prune", "--json"])
        .ok()
        .json();
    assert_eq!(
        actions(&r, "plugins")
            .into_iter()
            .filter(|(_, a)| a != "present")
            .collect::<Vec<_>>(),
        [("a@acme".to_string(), "pruned".to_string())]
    );
    assert!(env.installed()["plugins"].get("a@acme").is_none());
}

#[test]
fn project_declared_marketplaces_are_registered_only_for_a_named_project() {
    let env = Env::new();
    let team = env.cwd.join("tools/team");
    plugin(&team.join("plugins/t"), "t", Some("0.1.0"));
    marketplace(&team, "team", r#"[{"name":"t","source":"./plugins/t"}]"#);
    write_json(
        &project_settings(&env),
        &json!({
            "extraKnownMarketplaces": {"team": {"source": {"source": "directory", "path": "./tools/team"}}},
            "enabledPlugins": {"t@team": true}
        }),
    );
    let r = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "marketplaces"),
        [("team".into(), "untrusted".into())]
    );
    assert_eq!(
        actions(&r, "plugins"),
        [("t@team".into(), "untrusted".into())]
    );
    assert!(!env.plugins().join("known_marketplaces.json").exists());

    let r = env
        .run(&["sync", "--project", env.cwd.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(
        actions(&r, "marketplaces"),
        [("team".into(), "registered".into())]
    );
    assert_eq!(
        actions(&r, "plugins"),
        [("t@team".into(), "installed".into())]
    );
    // The relative path was resolved against the project folder.
    assert_eq!(
        env.known()["team"]["source"]["path"],
        team.to_str().unwrap()
    );
    assert_eq!(env.first_record("t@team")["scope"], "project");
}

#[test]
fn dry_run_changes_nothing() {
    let f = fixture();
    write_settings(&f);
    let r = f.env.run(&["sync", "--dry-run", "--json"]).ok().json();
    assert_eq!(r["dryRun"], true);
    assert_eq!(
        actions(&r, "marketplaces"),
        [("acme".into(), "would-register".into())]
    );
    assert!(actions(&r, "plugins").contains(&("a@acme".into(), "would-install".into())));
    assert!(
        !f.env.plugins().exists(),
        "nothing written under the plugins root"
    );
    // The human summary counts what would be installed (it said "0 installed").
    let would = actions(&r, "plugins")
        .iter()
        .filter(|(_, a)| a == "would-install")
        .count();
    let human = f.env.run(&["sync", "--dry-run"]).ok();
    assert!(
        human
            .stdout
            .contains(&format!("Dry run: {would} would be installed, ")),
        "{}",
        human.stdout
    );
}

/// A plugin the (not yet registered, local) marketplace does not list: the dry run says it
/// cannot be installed, as the real run fails on it, instead of "would be installed".
#[test]
fn dry_run_names_a_plugin_the_marketplace_does_not_list() {
    let f = fixture();
    write_settings(&f);
    let env = &f.env;
    write_json(
        &user_settings(env),
        &json!({"enabledPlugins": {"c@acme": true, "nope@acme": true}}),
    );
    let r = env.run(&["sync", "--dry-run", "--json"]).fails().json();
    let nope = (r["plugins"].as_array().unwrap().iter())
        .find(|p| p["id"] == "nope@acme")
        .unwrap()
        .clone();
    assert_eq!(nope["action"], "failed", "{r}");
    assert_eq!(
        nope["message"],
        format!(
            "cannot be installed: marketplace \"acme\" (dir:{}) does not list a plugin \"nope\"; check the name enabled in settings",
            f.acme.display()
        )
    );
    assert!(actions(&r, "plugins").contains(&("a@acme".into(), "would-install".into())));
    let human = env.run(&["sync", "--dry-run"]).fails();
    assert!(
        human
            .stderr
            .contains("✘ nope@acme (user): cannot be installed: marketplace \"acme\""),
        "{}",
        human.stderr
    );
    assert!(human.stdout.contains(", 1 would fail."), "{}", human.stdout);
    assert!(!env.plugins().exists());
    // The real run fails on it too.
    let real = env.run(&["sync", "--json"]).fails().json();
    assert!(actions(&real, "plugins").contains(&("nope@acme".into(), "failed".into())));
}

#[test]
fn prune_removes_installs_nothing_enables_only_when_asked() {
    let env = Env::new();
    let dir = common::m1(&env);
    env.run(&["marketplace", "add", dir.to_str().unwrap()]).ok();
    env.run(&["install", "p1@m1"]).ok();
    env.run(&["disable", "p1@m1"]).ok();
    let path = PathBuf::from(env.first_record("p1@m1")["installPath"].as_str().unwrap());

    let r = env.run(&["sync", "--json"]).ok().json();
    assert!(actions(&r, "plugins").is_empty(), "{r}");
    let r = env
        .run(&["sync", "--prune", "--dry-run", "--json"])
        .ok()
        .json();
    assert_eq!(
        actions(&r, "plugins"),
        [("p1@m1".into(), "would-prune".into())]
    );
    assert!(env.installed()["plugins"]["p1@m1"].is_array());

    let r = env.run(&["sync", "--prune"]).ok();
    assert!(
        r.stdout
            .contains("✔ p1@m1 (user): uninstalled 1.0.0 (no settings file enables it)"),
        "{}",
        r.stdout
    );
    assert!(env.installed()["plugins"].get("p1@m1").is_none());
    assert!(
        path.join(".orphaned_at").exists(),
        "the version folder is orphaned, not deleted"
    );
    // The user's own `false` stays.
    assert_eq!(
        env.read_json(&user_settings(&env))["enabledPlugins"]["p1@m1"],
        false
    );
}

#[test]
fn source_changed_in_settings_is_fetched_again() {
    let f = fixture();
    let env = &f.env;
    let other = env.fx.join("acme2");
    plugin(&other.join("plugins/a"), "a", Some("2.0.0"));
    marketplace(&other, "acme", r#"[{"name":"a","source":"./plugins/a"}]"#);
    write_json(
        &user_settings(env),
        &json!({"extraKnownMarketplaces": {"acme": {"source": {"source": "directory", "path": f.acme}}}}),
    );
    env.run(&["sync"]).ok();
    assert_eq!(
        env.known()["acme"]["source"]["path"],
        f.acme.to_str().unwrap()
    );
    write_json(
        &user_settings(env),
        &json!({"extraKnownMarketplaces": {"acme": {"source": {"source": "directory", "path": other}}}}),
    );
    let r = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "marketplaces"),
        [("acme".into(), "repointed".into())]
    );
    assert_eq!(
        env.known()["acme"]["source"]["path"],
        other.to_str().unwrap()
    );
}

#[test]
fn bad_settings_fail_before_anything_is_done() {
    let f = fixture();
    let env = &f.env;
    write_settings(&f);
    // A key without @marketplace.
    write_json(
        &local_settings(env),
        &json!({"enabledPlugins": {"e": true}}),
    );
    let r = env.run(&["sync"]).fails();
    assert!(
        r.stderr
            .contains(&format!("{}:3:", local_settings(env).display()))
            && r.stderr
                .contains("key \"e\" is not of the form \"name@marketplace\""),
        "{}",
        r.stderr
    );
    assert!(!env.plugins().exists());
    let r = env.run(&["settings"]).fails();
    assert!(r.stderr.contains("is not of the form"), "{}", r.stderr);

    // Managed settings that are not JSON: nothing is installed from a policy we could not read.
    write_json(&local_settings(env), &json!({}));
    let bad = env.managed().join("managed-settings.d/20-bad.json");
    fs::write(&bad, "{\"enabledPlugins\": {\"a@acme\": tru}}").unwrap();
    let r = env.run(&["sync", "--json"]).fails();
    assert!(
        r.stderr.contains(&format!("{}:1:", bad.display())),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["outcome"], "failed");
    assert!(!env.plugins().exists());
    fs::remove_file(&bad).unwrap();

    // A project folder without .claude/.
    let r = env
        .run(&["sync", "--project", env.fx.to_str().unwrap()])
        .fails();
    assert!(r.stderr.contains("has no .claude/ folder"), "{}", r.stderr);

    // A declared marketplace whose catalog has another name: that marketplace fails, and its
    // plugins with it; nothing is recorded for it.
    env.write_managed(
        None,
        &json!({"extraKnownMarketplaces": {"tools": {"source": {"source": "directory", "path": f.acme}}},
                "enabledPlugins": {"a@tools": true}}),
    );
    fs::remove_file(env.managed().join("managed-settings.d/10-team.json")).unwrap();
    write_json(&project_settings(env), &json!({}));
    write_json(&user_settings(env), &json!({}));
    let r = env.run(&["sync", "--json"]).fails().json();
    assert_eq!(
        r["marketplaces"][0]["failureCode"],
        "marketplace_name_mismatch"
    );
    assert!(
        r["marketplaces"][0]["message"]
            .as_str()
            .unwrap()
            .contains("declared in settings as \"tools\" is named \"acme\""),
        "{r}"
    );
    assert_eq!(r["plugins"][0]["action"], "failed");
    assert!(!env.plugins().join("known_marketplaces.json").exists());
}

#[test]
fn settings_shows_each_value_and_where_it_came_from() {
    let f = fixture();
    let env = &f.env;
    write_settings(&f);
    let v = env.run(&["settings", "--json"]).ok().json();
    let files: Vec<(String, bool)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["scope"].as_str().unwrap().to_string(),
                x["exists"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("user".to_string(), true),
            ("project".into(), true),
            ("local".into(), true),
            ("managed".into(), true),
            ("managed".into(), true),
        ]
    );
    let f_ = &v["enabledPlugins"]["f@acme"];
    assert_eq!(f_["value"], false);
    assert_eq!(f_["scope"], "managed");
    assert!(
        f_["file"]
            .as_str()
            .unwrap()
            .ends_with("managed-settings.d/10-team.json")
    );
    assert_eq!(
        f_["overrides"],
        json!([{"scope": "user", "value": true, "file": user_settings(env)}])
    );
    assert_eq!(v["enabledPlugins"]["c@acme"]["scope"], "local");
    assert_eq!(v["extraKnownMarketplaces"]["acme"]["scope"], "managed");
    assert_eq!(v["policy"]["strictKnownMarketplaces"], Value::Null);

    let human = env.run(&["settings"]).ok().stdout;
    assert!(human.contains("✘ f@acme false — managed ("), "{human}");
    assert!(human.contains("; overrides user: true"), "{human}");
    assert!(
        human.contains("strictKnownMarketplaces: not set"),
        "{human}"
    );
}

#[test]
fn policy_is_applied_before_any_request() {
    let env = Env::new();
    let srv = env.fx.join("srv");
    let repo = WorkRepo::init(&env.fx.join("work/gm"));
    repo.write(
        ".claude-plugin/marketplace.json",
        r#"{"name":"gm","owner":{"name":"t"},"plugins":[{"name":"q","source":"./q"}]}"#,
    );
    repo.write(
        "q/.claude-plugin/plugin.json",
        r#"{"name":"q","version":"3.0.0"}"#,
    );
    repo.write("q/commands/q.md", "# q\n");
    repo.commit("c1");
    repo.publish(&srv.join("git/gm.git"));
    let server = GitServer::start(&srv);
    write_json(
        &user_settings(&env),
        &json!({"extraKnownMarketplaces": {"gm": {"source": {"source": "git", "url": server.url("git/gm.git")}}},
                "enabledPlugins": {"q@gm": true}}),
    );
    env.write_managed(
        None,
        &json!({"strictKnownMarketplaces": [{"source": "hostPattern", "hostPattern": "^github\\.com$"}]}),
    );
    let r = env.run(&["sync", "--json"]).fails().json();
    assert_eq!(
        r["marketplaces"][0]["failureCode"], "source_blocked_by_policy",
        "{r}"
    );
    assert!(
        r["marketplaces"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is blocked by enterprise policy"),
        "{r}"
    );
    assert_eq!(r["plugins"][0]["action"], "failed");
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    assert!(!env.plugins().join("known_marketplaces.json").exists());

    // A pattern that does not compile: fail closed, before anything.
    env.write_managed(
        None,
        &json!({"strictKnownMarketplaces": [{"source": "hostPattern", "hostPattern": "^127\\.0\\.0\\.(1$"}]}),
    );
    let r = env.run(&["sync"]).fails();
    assert!(r.stderr.contains("hostPattern"), "{}", r.stderr);
    assert!(server.requests().is_empty());

    env.write_managed(
        None,
        &json!({"strictKnownMarketplaces": [{"source": "hostPattern", "hostPattern": "^127\\.0\\.0\\.1$"}]}),
    );
    let r = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "plugins"),
        [("q@gm".into(), "installed".into())]
    );
    assert!(!server.requests().is_empty());
    assert_eq!(env.first_record("q@gm")["version"], "3.0.0");
}

#[test]
fn renames_are_followed_before_plugins_are_looked_at() {
    let env = Env::new();
    let acme = env.fx.join("acme");
    plugin(&acme.join("plugins/fmt"), "fmt", Some("1.0.0"));
    write_json(
        &acme.join(".claude-plugin/marketplace.json"),
        &json!({"name": "acme", "owner": {"name": "t"},
                "plugins": [{"name": "fmt", "source": "./plugins/fmt"}],
                "renames": {"formatter": "fmt", "gone": null}}),
    );
    env.run(&["marketplace", "add", acme.to_str().unwrap()])
        .ok();
    write_json(
        &user_settings(&env),
        &json!({"enabledPlugins": {"formatter@acme": true, "gone@acme": true},
                "extraKnownMarketplaces": {"acme": {"source": {"source": "directory", "path": acme}}}}),
    );
    let r = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "plugins"),
        [("fmt@acme".into(), "installed".into())],
        "{r}"
    );
    let outcomes: Vec<&str> = r["renames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["renamed", "removed"]);
    assert_eq!(
        env.read_json(&user_settings(&env))["enabledPlugins"],
        json!({"fmt@acme": true})
    );
    let again = env.run(&["sync"]).ok();
    assert!(
        again
            .stdout
            .starts_with("In sync: 1 enabled plugin installed"),
        "{}",
        again.stdout
    );
}

#[test]
fn plugins_of_one_repository_share_one_ref_negotiation() {
    let env = Env::new();
    let srv = env.fx.join("srv");
    let repo = WorkRepo::init(&env.fx.join("work/multi"));
    for n in ["w", "x", "y", "z"] {
        repo.write(
            &format!("{n}/.claude-plugin/plugin.json"),
            &format!(r#"{{"name":"{n}","version":"1.0.0"}}"#),
        );
        repo.write(&format!("{n}/commands/c.md"), &format!("# {n}\n"));
    }
    repo.commit("c1");
    repo.publish(&srv.join("git/multi.git"));
    let server = GitServer::start(&srv);
    let mkt = env.fx.join("mm");
    let entries: Vec<Value> = ["w", "x", "y", "z"]
        .iter()
        .map(|n| json!({"name": n, "source": {"source": "git-subdir", "url": server.url("git/multi.git"), "path": n}}))
        .collect();
    marketplace(&mkt, "mm", &Value::Array(entries).to_string());
    write_json(
        &user_settings(&env),
        &json!({"extraKnownMarketplaces": {"mm": {"source": {"source": "directory", "path": mkt}}},
                "enabledPlugins": {"w@mm": true, "x@mm": true, "y@mm": true, "z@mm": true}}),
    );
    let r = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "plugins")
            .iter()
            .filter(|(_, a)| a == "installed")
            .count(),
        4,
        "{r}"
    );
    let advertisements = server
        .requests()
        .iter()
        .filter(|r| r.contains("info/refs"))
        .count();
    assert_eq!(advertisements, 1, "{:?}", server.requests());
}

#[test]
fn plugins_a_seed_holds_are_left_to_the_seed() {
    let env = Env::new();
    let dir = common::m1(&env);
    let seed = env.fx.join("seed");
    let in_seed = |args: &[&str]| {
        common::Run::from(
            env.command(args)
                .env("CLAUDE_CODE_PLUGIN_CACHE_DIR", &seed)
                .output()
                .unwrap(),
        )
    };
    in_seed(&["marketplace", "add", dir.to_str().unwrap()]).ok();
    in_seed(&["install", "p1@m1"]).ok();
    fs::remove_dir_all(env.claude()).unwrap();
    write_json(
        &user_settings(&env),
        &json!({"enabledPlugins": {"p1@m1": true},
                "extraKnownMarketplaces": {"m1": {"source": {"source": "directory", "path": dir}}}}),
    );
    let with_seed = |args: &[&str]| {
        common::Run::from(
            env.command(args)
                .env("CLAUDE_CODE_PLUGIN_SEED_DIR", &seed)
                .output()
                .unwrap(),
        )
    };
    let r = with_seed(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "marketplaces"),
        [("m1".into(), "present".into())],
        "{r}"
    );
    assert_eq!(
        actions(&r, "plugins"),
        [("p1@m1".into(), "seeded".into())],
        "{r}"
    );
    assert_eq!(
        r["plugins"][0]["seedFolder"],
        json!(seed.join("cache/m1/p1/1.0.0"))
    );
    assert!(!env.plugins().join("installed_plugins.json").exists());
    assert!(!env.plugins().join("known_marketplaces.json").exists());
    // Without the seed the same settings install it.
    let r = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "plugins"),
        [("p1@m1".into(), "installed".into())],
        "{r}"
    );
}

#[test]
fn untrusted_project_settings_do_not_declare_the_official_marketplace() {
    let env = Env::new();
    write_json(
        &project_settings(&env),
        &json!({"enabledPlugins": {"x@claude-plugins-official": true}}),
    );
    // Without --project nothing is fetched (this would be a clone from github.com).
    let r = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&r, "marketplaces"),
        [("claude-plugins-official".into(), "untrusted".into())]
    );
    assert_eq!(
        actions(&r, "plugins"),
        [("x@claude-plugins-official".into(), "untrusted".into())]
    );
    assert!(!env.plugins().join("known_marketplaces.json").exists());
}

#[test]
fn settings_shows_both_allowlist_keys() {
    let env = Env::new();
    env.write_managed(
        None,
        &json!({"allowedMarketplaces": [{"source": "github", "repo": "acme/*"}],
                "strictKnownMarketplaces": []}),
    );
    let v = env.run(&["settings", "--json"]).ok().json();
    assert_eq!(v["policy"]["strictKnownMarketplaces"], json!([]));
    assert_eq!(
        v["policy"]["allowedMarketplaces"],
        json!([{"source": "github", "repo": "acme/*"}])
    );
    assert_eq!(v["policy"]["blockedMarketplaces"], Value::Null);
    let human = env.run(&["settings"]).ok().stdout;
    assert!(
        human.contains("strictKnownMarketplaces: [] (no marketplace may be added)"),
        "{human}"
    );
    assert!(human.contains("allowedMarketplaces: [{"), "{human}");
}

#[test]
fn update_judges_a_seed_marketplace_by_the_seeds_recorded_source() {
    let env = Env::new();
    let dir = common::m1(&env);
    let seed = env.fx.join("seed");
    let with = |var: &str, path: &Path, args: &[&str]| {
        common::Run::from(env.command(args).env(var, path).output().unwrap())
    };
    with(
        "CLAUDE_CODE_PLUGIN_CACHE_DIR",
        &seed,
        &["marketplace", "add", dir.to_str().unwrap()],
    )
    .ok();
    with("CLAUDE_CODE_PLUGIN_CACHE_DIR", &seed, &["install", "p1@m1"]).ok();
    fs::remove_dir_all(env.claude()).unwrap();
    // Installed from the seed: the user's known_marketplaces.json does not list m1.
    with("CLAUDE_CODE_PLUGIN_SEED_DIR", &seed, &["install", "p1@m1"]).ok();
    env.write_managed(
        None,
        &json!({"blockedMarketplaces": [{"source": "directory", "path": dir}]}),
    );
    let r = with(
        "CLAUDE_CODE_PLUGIN_SEED_DIR",
        &seed,
        &["update", "p1@m1", "--json"],
    )
    .fails();
    assert_eq!(
        r.json()["plugins"][0]["failureCode"],
        "marketplace_policy_blocked",
        "{}",
        r.stdout
    );
}

#[test]
fn untrusted_project_settings_install_bare_name_plugins_and_skip_session_origins() {
    let env = Env::new();
    let acme = env.fx.join("acme");
    plugin(&acme.join("plugins/h"), "h", Some("1.0.0"));
    write_json(
        &acme.join(".claude-plugin/marketplace.json"),
        &json!({"name": "acme", "owner": {"name": "T"}, "metadata": {"pluginRoot": "./plugins"},
                "plugins": [{"name": "h", "source": "h"}]}),
    );
    env.run(&["marketplace", "add", acme.to_str().unwrap()])
        .ok();
    // Project settings alone (not trusted): a plugin whose content is in a registered
    // marketplace's folder is still installed; `builtin` plugins come with Claude Code.
    write_json(
        &project_settings(&env),
        &json!({"enabledPlugins": {"h@acme": true, "x@builtin": true, "y@claude-plugin-test": true}}),
    );
    let report = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        actions(&report, "plugins"),
        [("h@acme".to_string(), "installed".to_string())]
    );
}

/// Run from the home folder, the project's `.claude/settings.json` is the user settings file:
/// that folder is no project (as git sees no repository there), so nothing is listed twice and
/// no project scope is reported or written.
#[test]
fn the_home_folder_is_no_project() {
    let mut env = Env::new();
    let m1 = m1(&env);
    env.cwd = env.home.clone();
    env.run(&["marketplace", "add", m1.to_str().unwrap()]).ok();
    env.run(&["install", "p1@m1"]).ok();

    let human = env.run(&["settings"]).ok().stdout;
    assert!(!human.contains("  project "), "{human}");
    assert!(!human.contains("  local "), "{human}");
    assert!(
        human.contains(&format!(
            "note: no project or local settings: {} is your user settings file",
            user_settings(&env).display()
        )),
        "{human}"
    );
    assert!(human.contains("✔ p1@m1 true — user ("), "{human}");
    assert!(!human.contains("overrides"), "{human}");
    let v = env.run(&["settings", "--json"]).ok().json();
    assert_eq!(v["files"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["noProject"].as_str().unwrap().contains("user settings"));
    assert_eq!(v["enabledPlugins"]["p1@m1"]["overrides"], json!([]));

    let r = env.run(&["disable", "p1@m1", "--json"]).ok().json();
    assert_eq!(r["scope"], "user", "{r}");

    // Project and local scopes are refused, before anything is done.
    let before = tree_with_content(&env.home);
    for scope in ["project", "local"] {
        let r = env.run(&["install", "p1@m1", "--scope", scope]).fails();
        assert_eq!(
            r.stderr,
            format!(
                "✘ --scope {scope}: there is no project here: {} is your user settings file. Run the command from the project's folder, or use --scope user\n",
                user_settings(&env).display()
            )
        );
        env.run(&["enable", "p1@m1", "-s", scope]).fails();
        env.run(&["marketplace", "add", m1.to_str().unwrap(), "-s", scope])
            .fails();
        for args in [
            &["update", "p1@m1", "--scope", scope][..],
            &["update", "--all", "-s", scope, "--json"],
            &["outdated", "--scope", scope],
        ] {
            let r = env.run(args).fails();
            assert!(
                r.stderr.contains("there is no project here") && r.stdout.is_empty(),
                "{args:?}: {}{}",
                r.stdout,
                r.stderr
            );
        }
    }
    assert_eq!(tree_with_content(&env.home), before);
    // Run from a sub-folder of a home that is a git work tree: no project either.
    fs::create_dir_all(env.home.join(".git")).unwrap();
    fs::create_dir_all(env.home.join("notes")).unwrap();
    env.cwd = env.home.join("notes");
    env.run(&["install", "p1@m1", "-s", "project"]).fails();

    // With CLAUDE_CONFIG_DIR elsewhere, ~/.claude/settings.json is a project's file like any other.
    env.cwd = env.home.clone();
    let config = env.tmp.path().join("config");
    let r = Run::from(
        env.command(&["settings", "--json"])
            .env("CLAUDE_CONFIG_DIR", &config)
            .output()
            .unwrap(),
    )
    .ok();
    let v = r.json();
    assert_eq!(v["files"][1]["scope"], "project", "{v}");
    assert_eq!(v["files"][1]["path"], json!(user_settings(&env)));
    assert_eq!(v["noProject"], Value::Null);
}
