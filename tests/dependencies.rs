// Fixtures are git repositories made with the git CLI, and one is served by the loopback git
// server (Python, git http-backend): Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! Plugin dependencies: installed with the plugin that needs them, at the highest
//! `{name}--v{version}` tag their ranges allow (a folder marketplace's own repository, or the
//! plugin's git repository on the loopback server), recorded as Claude Code 2.1.328 records them
//! (`auto`, `resolvedVersion`, `<version>-<sha12>`); refusals roll everything back.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::githttp::{GitServer, WorkRepo};
use common::*;
use serde_json::{Value, json};

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A plugin folder `plugins/<name>` of `repo` at `version`, needing `deps`.
fn plugin_at(repo: &WorkRepo, name: &str, version: &str, deps: Option<Value>) {
    let mut manifest = json!({"name": name, "version": version});
    if let Some(d) = deps {
        manifest["dependencies"] = d;
    }
    repo.write(
        &format!("plugins/{name}/.claude-plugin/plugin.json"),
        &manifest.to_string(),
    );
    repo.write(
        &format!("plugins/{name}/commands/{name}.md"),
        &format!("# {name} {version}\n"),
    );
}

/// `plugin tag ARGS…` with a fixed git identity and date (the tag object's bytes are known).
fn plugin_tag(env: &Env, args: &[&str]) -> Run {
    let mut full = vec!["tag"];
    full.extend_from_slice(args);
    Run::from(
        env.command(&full)
            .env("GIT_COMMITTER_NAME", "Rel Ease")
            .env("GIT_COMMITTER_EMAIL", "rel@example.com")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .output()
            .expect("run plugin"),
    )
}

/// Claude Code's probe fixture (spec §18): folder marketplace `dm`, a git work tree: `app`
/// needs `lib` and `fmt ~2.1.0`, `lib` needs `core`; `fmt` tagged 2.0.0, 2.1.3, 2.2.0.
/// Returns the marketplace folder and the commit of `fmt--v2.1.3`.
fn dm(env: &Env, extra_entries: &[Value]) -> (PathBuf, String) {
    let dir = env.fx.join("dm");
    let repo = WorkRepo::init(&dir);
    let mut entries = vec![
        json!({"name": "app", "source": "./plugins/app", "version": "1.0.0"}),
        json!({"name": "lib", "source": "./plugins/lib", "version": "0.5.0"}),
        json!({"name": "core", "source": "./plugins/core"}),
        json!({"name": "fmt", "source": "./plugins/fmt"}),
    ];
    entries.extend(extra_entries.iter().cloned());
    repo.write(
        ".claude-plugin/marketplace.json",
        &json!({"name": "dm", "owner": {"name": "o"}, "plugins": entries}).to_string(),
    );
    plugin_at(
        &repo,
        "app",
        "1.0.0",
        Some(json!(["lib", {"name": "fmt", "version": "~2.1.0"}])),
    );
    plugin_at(&repo, "lib", "0.5.0", Some(json!(["core"])));
    plugin_at(&repo, "core", "1.0.0", None);
    let mut at_213 = String::new();
    for v in ["2.0.0", "2.1.3", "2.2.0"] {
        plugin_at(&repo, "fmt", v, None);
        let c = repo.commit(&format!("fmt {v}"));
        repo.tag(&format!("fmt--v{v}"));
        if v == "2.1.3" {
            at_213 = c;
        }
    }
    env.run(&["marketplace", "add", p(&dir)]).ok();
    (dir, at_213)
}

#[test]
fn dependencies_install_with_the_plugin_as_claude_code_records_them() {
    let env = Env::new();
    let (_, at_213) = dm(&env, &[]);
    let out = env.run(&["install", "app@dm"]).ok();
    assert_eq!(
        out.stdout,
        "Installing plugin \"app@dm\"...✔ Successfully installed plugin: app@dm (scope: user) (+ 3 dependencies: lib, fmt, core)\n"
    );
    let installed = env.installed();
    let ids: Vec<&String> = installed["plugins"].as_object().unwrap().keys().collect();
    assert_eq!(ids, ["app@dm", "lib@dm", "fmt@dm", "core@dm"]);
    let fmt = env.first_record("fmt@dm");
    let version = format!("2.1.3-{}", &at_213[..12]);
    assert_eq!(fmt["version"], version.as_str());
    assert_eq!(fmt["resolvedVersion"], "2.1.3");
    assert_eq!(fmt["gitCommitSha"], at_213.as_str());
    assert_eq!(fmt["auto"], true);
    let keys: Vec<&str> = fmt
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
            "gitCommitSha",
            "resolvedVersion",
            "auto"
        ]
    );
    let dir = env.plugins().join("cache/dm/fmt").join(&version);
    assert_eq!(fmt["installPath"], p(&dir));
    // The tagged commit's files, not the work tree's (which is at 2.2.0).
    assert_eq!(
        fs::read_to_string(dir.join("commands/fmt.md")).unwrap(),
        "# fmt 2.1.3\n"
    );
    for id in ["lib@dm", "core@dm"] {
        let rec = env.first_record(id);
        assert_eq!(rec["auto"], true, "{id}");
        assert!(rec.get("resolvedVersion").is_none(), "{id}");
    }
    assert!(env.first_record("app@dm").get("auto").is_none());
    let enabled = &env.settings()["enabledPlugins"];
    for id in ["app@dm", "lib@dm", "fmt@dm", "core@dm"] {
        assert_eq!(enabled[id], true, "{id}");
    }
}

#[test]
fn conflicting_or_invalid_ranges_refuse_and_leave_nothing_recorded() {
    let env = Env::new();
    let dir = env.fx.join("cm");
    let repo = WorkRepo::init(&dir);
    repo.write(
        ".claude-plugin/marketplace.json",
        &json!({"name": "cm", "owner": {"name": "o"}, "plugins": [
            {"name": "a", "source": "./plugins/a"},
            {"name": "b", "source": "./plugins/b"},
            {"name": "bad", "source": "./plugins/bad"},
            {"name": "fmt", "source": "./plugins/fmt"},
        ]})
        .to_string(),
    );
    plugin_at(
        &repo,
        "a",
        "1.0.0",
        Some(json!(["b", {"name": "fmt", "version": "~2.1.0"}])),
    );
    plugin_at(
        &repo,
        "b",
        "1.0.0",
        Some(json!([{"name": "fmt", "version": "^2.2.0"}])),
    );
    plugin_at(
        &repo,
        "bad",
        "1.0.0",
        Some(json!([{"name": "fmt", "version": "not a range!!"}])),
    );
    plugin_at(&repo, "fmt", "2.2.0", None);
    repo.commit("all");
    repo.tag("fmt--v2.2.0");
    env.run(&["marketplace", "add", p(&dir)]).ok();

    let out = env.run(&["install", "a@cm", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        doc["message"],
        "Dependency \"fmt@cm\" has conflicting version requirements (no version satisfies all of: ~2.1.0, ^2.2.0)"
    );
    assert_eq!(doc["failureCode"], "dependency_version_conflict");
    // All rolled back, to the byte: no installed_plugins.json, no `enabledPlugins`.
    assert!(!env.plugins().join("installed_plugins.json").exists());
    assert!(env.settings().get("enabledPlugins").is_none());

    let out = env.run(&["install", "bad@cm"]).fails();
    assert_eq!(
        out.stderr,
        "✘ Failed to install plugin \"bad@cm\": Dependency \"fmt@cm\" has an invalid version requirement among: “not a range!!”\n"
    );
    assert!(!env.plugins().join("installed_plugins.json").exists());
}

#[test]
fn unknown_cross_marketplace_and_circular_dependencies() {
    let env = Env::new();
    let other = env.fx.join("ot");
    // helper@ot needs far@th, which ot's catalog (not em's) allows.
    let third = env.fx.join("th");
    plugin(&third.join("plugins/far"), "far", Some("1.0.0"));
    marketplace(&third, "th", r#"[{"name":"far","source":"./plugins/far"}]"#);
    env.run(&["marketplace", "add", p(&third)]).ok();
    write(
        &other.join("plugins/helper/.claude-plugin/plugin.json"),
        &json!({"name": "helper", "version": "1.0.0", "dependencies": ["far@th"]}).to_string(),
    );
    write(
        &other.join(".claude-plugin/marketplace.json"),
        &json!({"name": "ot", "owner": {"name": "o"}, "allowCrossMarketplaceDependenciesOn": ["th"],
                "plugins": [{"name": "helper", "source": "./plugins/helper"}]})
        .to_string(),
    );
    env.run(&["marketplace", "add", p(&other)]).ok();
    let em = env.fx.join("em");
    let write_plugin = |name: &str, deps: Value| {
        write(
            &em.join(format!("plugins/{name}/.claude-plugin/plugin.json")),
            &json!({"name": name, "version": "1.0.0", "dependencies": deps}).to_string(),
        );
    };
    write_plugin("unk", json!(["nope"]));
    write_plugin("xm", json!(["helper@ot"]));
    write_plugin("pca", json!(["pcb"]));
    write_plugin("pcb", json!(["pca"]));
    let entries = |allow: Option<&str>| {
        let mut doc = json!({"name": "em", "owner": {"name": "o"}, "plugins": [
            {"name": "unk", "source": "./plugins/unk"},
            {"name": "xm", "source": "./plugins/xm"},
            {"name": "pca", "source": "./plugins/pca"},
            {"name": "pcb", "source": "./plugins/pcb"},
        ]});
        if let Some(m) = allow {
            doc["allowCrossMarketplaceDependenciesOn"] = json!([m]);
        }
        write(
            &em.join(".claude-plugin/marketplace.json"),
            &doc.to_string(),
        );
    };
    entries(None);
    env.run(&["marketplace", "add", p(&em)]).ok();

    let out = env.run(&["install", "unk@em"]).ok();
    assert_eq!(
        out.stdout,
        "Installing plugin \"unk@em\"...✔ Successfully installed plugin: unk@em (scope: user). Warning: dependency \"nope@em\" was not installed (no marketplace you have added lists it). \"unk\" will not load without it\n"
    );
    // Another marketplace, not allowed by this one: skipped without a word.
    let out = env.run(&["install", "xm@em"]).ok();
    assert_eq!(
        out.stdout,
        "Installing plugin \"xm@em\"...✔ Successfully installed plugin: xm@em (scope: user)\n"
    );
    assert!(env.installed()["plugins"].get("helper@ot").is_none());
    // Allowed: installed.
    env.run(&["uninstall", "xm@em"]).ok();
    entries(Some("ot"));
    env.run(&["marketplace", "update", "em"]).ok();
    let out = env.run(&["install", "xm@em"]).ok();
    assert!(
        out.stdout.ends_with("(+ 1 dependency: helper)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("helper@ot")["auto"], true);
    // Trust does not chain: only the root's catalog (em) counts, and it does not allow th.
    assert!(env.installed()["plugins"].get("far@th").is_none());
    // Installed by name, helper is the root: its own catalog allows th.
    let out = env.run(&["install", "helper@ot"]).ok();
    assert!(
        out.stdout.contains("(+ 1 dependency: far)"),
        "{}",
        out.stdout
    );
    env.run(&["uninstall", "far@th"]).ok();
    // A dependency whose marketplace managed settings block refuses the install.
    env.run(&["uninstall", "xm@em"]).ok();
    env.run(&["uninstall", "helper@ot"]).ok();
    env.write_managed(
        None,
        &json!({"blockedMarketplaces": [{"source": "directory", "path": p(&other)}]}),
    );
    let out = env.run(&["install", "xm@em", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        doc["message"],
        "Plugin \"xm\" depends on \"helper@ot\" from marketplace \"ot\", which is blocked by your organization's policy"
    );
    assert_eq!(doc["failureCode"], "dependency_policy_blocked");
    assert!(env.installed()["plugins"].get("xm@em").is_none());
    fs::remove_dir_all(env.managed()).unwrap();
    // A cycle ends the walk.
    let out = env.run(&["install", "pca@em"]).ok();
    assert!(
        out.stdout.ends_with("(+ 1 dependency: pcb)\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_git_dependency_resolves_the_highest_tag_of_its_repository() {
    let env = Env::new();
    let srv = env.fx.join("srv");
    let gd = WorkRepo::init(&env.fx.join("work/gd"));
    let mut commits = Vec::new();
    for v in ["1.0.0", "1.5.0", "3.0.0-beta.1"] {
        gd.write(
            ".claude-plugin/plugin.json",
            &json!({"name": "gd", "version": v}).to_string(),
        );
        gd.write("commands/gd.md", &format!("# gd {v}\n"));
        commits.push(gd.commit(v));
        if v == "1.5.0" {
            gd.tag_annotated(&format!("gd--v{v}"), "release");
        } else {
            gd.tag(&format!("gd--v{v}"));
        }
    }
    gd.publish(&srv.join("git/gd.git"));
    let server = GitServer::start(&srv);
    let url = server.url("git/gd.git");
    let m = env.fx.join("gm");
    for (name, range) in [("wants1", "^1.0.0"), ("wants9", "^9.0.0")] {
        write(
            &m.join(format!("plugins/{name}/.claude-plugin/plugin.json")),
            &json!({"name": name, "version": "1.0.0",
                    "dependencies": [{"name": "gd", "version": range}]})
            .to_string(),
        );
    }
    marketplace(
        &m,
        "gm",
        &json!([
            {"name": "wants1", "source": "./plugins/wants1"},
            {"name": "wants9", "source": "./plugins/wants9"},
            {"name": "gd", "source": {"source": "url", "url": url}},
        ])
        .to_string(),
    );
    env.run(&["marketplace", "add", p(&m)]).ok();
    let out = env.run(&["install", "wants1@gm"]).ok();
    assert!(
        out.stdout.ends_with("(+ 1 dependency: gd)\n"),
        "{}",
        out.stdout
    );
    let rec = env.first_record("gd@gm");
    // The annotated tag's commit, not the tag object; the pre-release is not in ^1.0.0.
    assert_eq!(rec["gitCommitSha"], commits[1].as_str());
    assert_eq!(rec["resolvedVersion"], "1.5.0");
    assert_eq!(
        rec["version"],
        format!("1.5.0-{}", &commits[1][..12]).as_str()
    );
    let dir = PathBuf::from(rec["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_to_string(dir.join("commands/gd.md")).unwrap(),
        "# gd 1.5.0\n"
    );

    // What installed plugins need of it counts too (this run's ranges first).
    let out = env.run(&["install", "wants9@gm"]).fails();
    assert_eq!(
        out.stderr,
        "✘ Failed to install plugin \"wants9@gm\": Dependency \"gd@gm\" has conflicting version requirements (no version satisfies all of: ^9.0.0, ^1.0.0)\n"
    );
    assert!(env.installed()["plugins"].get("wants9@gm").is_none());
    env.run(&["uninstall", "wants1@gm"]).ok();
    let out = env.run(&["install", "wants9@gm"]).fails();
    assert_eq!(
        out.stderr,
        "✘ Failed to install plugin \"wants9@gm\": Dependency \"gd@gm\" is installed at 1.5.0, which does not satisfy: ^9.0.0. To look for a version in range, run `plugin update gd@gm`\n"
    );
    assert!(env.installed()["plugins"].get("wants9@gm").is_none());
    env.run(&["uninstall", "gd@gm"]).ok();
    let out = env.run(&["install", "wants9@gm"]).fails();
    assert_eq!(
        out.stderr,
        "✘ Failed to install plugin \"wants9@gm\": Dependency \"gd@gm\" has no git tag satisfying >=9.0.0 <10.0.0-0 (its highest tags: gd--v3.0.0-beta.1, gd--v1.5.0, gd--v1.0.0)\n"
    );
    assert!(env.installed()["plugins"].get("wants9@gm").is_none());
}

#[test]
fn a_dependency_managed_settings_block_refuses_the_install() {
    let env = Env::new();
    dm(&env, &[]);
    env.write_managed(None, &json!({"enabledPlugins": {"core@dm": false}}));
    let out = env.run(&["install", "app@dm", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        doc["message"],
        "Plugin \"app\" depends on \"core@dm\", which is blocked by your organization's policy"
    );
    assert_eq!(doc["failureCode"], "dependency_policy_blocked");
    // All rolled back, to the byte: there was no installed_plugins.json before.
    assert!(!env.plugins().join("installed_plugins.json").exists());
}

#[test]
fn uninstall_names_what_is_no_longer_needed_and_prune_removes_it() {
    let env = Env::new();
    let (_, at_213) = dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    let out = env.run(&["uninstall", "app@dm"]).ok();
    assert_eq!(
        out.stdout,
        "✔ Successfully uninstalled plugin: app (scope: user)\n3 auto-installed dependencies no longer needed: lib, fmt, core. Run `plugin prune` to remove.\n"
    );
    let listing = format!(
        "3 auto-installed plugins no longer needed at user scope:\n  lib@dm (0.5.0)\n  fmt@dm (2.1.3-{})\n  core@dm (1.0.0)\n",
        &at_213[..12]
    );
    let out = env.run(&["prune", "--dry-run"]).ok();
    assert_eq!(
        out.stdout,
        format!("{listing}(dry run — nothing removed)\n")
    );
    // In a pipe without -y: listed, nothing removed, exit 0 (Claude Code's).
    let out = env.run(&["autoremove"]).ok();
    assert_eq!(
        out.stdout,
        format!("{listing}Not a TTY — run `plugin prune -y` to remove.\n")
    );
    assert_eq!(env.installed()["plugins"].as_object().unwrap().len(), 3);

    let out = env.run(&["prune", "-y", "--json"]).ok();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(doc["removed"], json!(["lib@dm", "fmt@dm", "core@dm"]));
    assert_eq!(
        doc["message"],
        "Removed 3 auto-installed plugins: lib, fmt, core"
    );
    assert_eq!(env.installed()["plugins"], json!({}));
    assert_eq!(env.settings()["enabledPlugins"], json!({}));
    // The version folders stay, marked orphaned (Claude Code's); `cache prune` removes them.
    assert!(
        env.plugins()
            .join("cache/dm/fmt")
            .join(format!("2.1.3-{}", &at_213[..12]))
            .join(".orphaned_at")
            .is_file()
    );
    let out = env.run(&["prune"]).ok();
    assert_eq!(
        out.stdout,
        "Nothing to prune (no auto-installed plugins at user scope).\n"
    );

    // Something installed by name keeps what it needs.
    env.run(&["install", "app@dm"]).ok();
    env.run(&["uninstall", "fmt@dm"]).ok();
    let out = env.run(&["prune"]).ok();
    assert_eq!(
        out.stdout,
        "Nothing to prune (2 auto-installed plugins at user scope, all still needed).\n"
    );
}

#[test]
fn disable_and_enable_follow_dependencies() {
    let env = Env::new();
    dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    let out = env.run(&["disable", "core@dm"]).fails();
    assert_eq!(
        out.stderr,
        "✘ Failed to disable plugin \"core@dm\": core is still required by lib. Disable that plugin first, or disable everything together: plugin disable app@dm && plugin disable lib@dm && plugin disable core@dm\n"
    );
    let out = env.run(&["disable", "lib@dm", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(doc["failureCode"], "required_by_dependents");
    assert_eq!(doc["reverseDependents"], json!(["app"]));
    assert_eq!(doc["disableFirst"], json!(["app@dm"]));
    assert_eq!(
        env.settings()["enabledPlugins"]["lib@dm"],
        true,
        "unchanged"
    );

    for id in ["app@dm", "lib@dm", "core@dm"] {
        env.run(&["disable", id]).ok();
    }
    let out = env.run(&["enable", "app@dm"]).ok();
    assert_eq!(
        out.stdout,
        "✔ Successfully enabled plugin: app (scope: user) (also enabled 2 dependencies: lib, core)\n"
    );
    let enabled = &env.settings()["enabledPlugins"];
    for id in ["app@dm", "lib@dm", "core@dm", "fmt@dm"] {
        assert_eq!(enabled[id], true, "{id}");
    }

    let out = env.run(&["uninstall", "lib@dm"]).ok();
    assert_eq!(
        out.stdout,
        "✔ Successfully uninstalled plugin: lib (scope: user) — warning: required by app\n1 auto-installed dependency no longer needed: core. Run `plugin prune` to remove.\n"
    );
    env.run(&["disable", "app@dm"]).ok();
    let out = env.run(&["enable", "app@dm", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        doc["message"],
        "app depends on lib@dm, which is not installed. Install it first: plugin install lib@dm"
    );
    assert_eq!(doc["failureCode"], "dependency_missing");
    assert_eq!(doc["dependencies"], json!(["lib@dm"]));
    assert_eq!(env.settings()["enabledPlugins"]["app@dm"], false);
}

/// `dm` with `newer` (needs `mid`) and `mid` (needs `fmt ^2.2.0`), `app` installed (so fmt
/// 2.1.3), then `newer`: what needs ^2.2.0 through `mid` installs (Claude Code's walk leaves
/// installed dependencies of dependencies alone), and does not load.
fn newer_needs_mid_needs_fmt_2_2(env: &Env) {
    let (dir, _) = dm(
        env,
        &[
            json!({"name": "newer", "source": "./plugins/newer"}),
            json!({"name": "mid", "source": "./plugins/mid"}),
        ],
    );
    write(
        &dir.join("plugins/newer/.claude-plugin/plugin.json"),
        &json!({"name": "newer", "version": "1.0.0", "dependencies": ["mid"]}).to_string(),
    );
    write(
        &dir.join("plugins/mid/.claude-plugin/plugin.json"),
        &json!({"name": "mid", "version": "1.0.0",
                "dependencies": [{"name": "fmt", "version": "^2.2.0"}]})
        .to_string(),
    );
    env.run(&["install", "app@dm"]).ok();
    env.run(&["install", "newer@dm"]).ok();
}

#[test]
fn list_reports_unmet_dependencies_as_claude_code_does() {
    let env = Env::new();
    newer_needs_mid_needs_fmt_2_2(&env);
    let settings = env.claude().join("settings.json");
    let mut doc = env.read_json(&settings);
    doc["enabledPlugins"]["core@dm"] = json!(false);
    fs::write(&settings, doc.to_string()).unwrap();
    let rows = env.run(&["list", "--json"]).ok().json();
    let row = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        row("lib@dm")["errors"],
        json!(["Dependency \"core@dm\" is disabled — enable it or remove the dependency"])
    );
    // Set aside because what it needs is: the cascade.
    assert_eq!(
        row("app@dm")["errorDetails"],
        json!([{"type": "dependency-unsatisfied", "plugin": "app", "dependency": "lib@dm"}])
    );
    assert_eq!(
        row("mid@dm")["errors"],
        json!(["Requires \"fmt@dm\" ^2.2.0, installed 2.1.3"])
    );
    assert_eq!(
        row("mid@dm")["errorDetails"][0]["type"],
        "dependency-version-unsatisfied"
    );
    assert_eq!(
        row("newer@dm")["errors"],
        json!(["Dependency \"mid@dm\" is disabled — enable it or remove the dependency"])
    );
    assert!(row("fmt@dm").get("errors").is_none_or(Value::is_null));
}

/// Ranges that exclude each other are refused at install (`dependency_version_conflict`); what
/// got installed around that check (a dependency of a dependency is left alone) loads as Claude
/// Code 2.1.328 loads it: the plugin whose range is not met is set aside, its error is
/// `dependency-version-unsatisfied` (Claude Code's load check has no `range-conflict` kind).
#[test]
fn list_reports_ranges_that_exclude_each_other_as_claude_code_does() {
    let env = Env::new();
    newer_needs_mid_needs_fmt_2_2(&env);
    // app loads and holds fmt to ~2.1.0; mid asks ^2.2.0 of the same fmt 2.1.3.
    let app = env.run(&["list", "--json"]).ok().json();
    assert!(
        (app.as_array().unwrap().iter())
            .any(|r| r["id"] == "app@dm" && r.get("errors").is_none_or(Value::is_null)),
        "app loads"
    );
    let rows = env.run(&["list", "--json"]).ok().json();
    let mid = (rows.as_array().unwrap().iter())
        .find(|r| r["id"] == "mid@dm")
        .cloned()
        .unwrap();
    assert_eq!(
        mid["errors"],
        json!(["Requires \"fmt@dm\" ^2.2.0, installed 2.1.3"])
    );
    assert_eq!(
        mid["errorDetails"],
        json!([{"type": "dependency-version-unsatisfied", "plugin": "mid", "dependency": "fmt@dm"}])
    );
    let resolved = env.run(&["resolve", "mid@dm", "--json"]).ok().json();
    assert_eq!(
        resolved["dependencies"][0]["unmet"], mid["errors"][0],
        "resolve says the same"
    );
}

/// An npm dependency installs as its entry says (its range is not used to fetch it) and the
/// range is checked when it loads, as Claude Code does; a registry release in range then fits.
#[test]
fn an_npm_dependency_s_range_is_checked_when_it_loads() {
    let env = Env::new();
    let reg = common::registry::Registry::start();
    let publish = |version: &str| {
        let manifest = json!({"name": "nd", "version": version}).to_string();
        reg.add_npm(
            "nd-pkg",
            version,
            &[
                (".claude-plugin/plugin.json", manifest.as_bytes(), 0o644),
                ("commands/nd.md", b"# nd\n", 0o644),
            ],
        );
    };
    publish("1.0.0");
    let dir = env.fx.join("nm");
    write(
        &dir.join("plugins/wants/.claude-plugin/plugin.json"),
        &json!({"name": "wants", "version": "1.0.0",
                "dependencies": [{"name": "nd", "version": "^2.0.0"}]})
        .to_string(),
    );
    let npm = |version: &str| {
        json!({"name": "nd", "source": {"source": "npm", "package": "nd-pkg",
               "version": version, "registry": reg.base_url()}})
    };
    let catalog = |nd: Value| {
        write(
            &dir.join(".claude-plugin/marketplace.json"),
            &json!({"name": "nm", "owner": {"name": "o"},
                    "plugins": [{"name": "wants", "source": "./plugins/wants"}, nd]})
            .to_string(),
        );
    };
    catalog(npm("1.0.0"));
    env.run(&["marketplace", "add", p(&dir)]).ok();
    let out = env.run(&["install", "wants@nm"]).ok();
    assert!(
        out.stdout.ends_with("(+ 1 dependency: nd)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("nd@nm")["version"], "1.0.0");
    let row = |id: &str| {
        let rows = env.run(&["list", "--json"]).ok().json();
        (rows.as_array().unwrap().iter())
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        row("wants@nm")["errors"],
        json!(["Requires \"nd@nm\" ^2.0.0, installed 1.0.0"])
    );
    // The entry moves to a release in range: `update` brings it, and wants loads.
    publish("2.1.0");
    catalog(npm("^2.0.0"));
    env.run(&["marketplace", "update", "nm"]).ok();
    env.run(&["update", "nd@nm"]).ok();
    assert_eq!(env.first_record("nd@nm")["version"], "2.1.0");
    assert!(row("wants@nm").get("errors").is_none_or(Value::is_null));
}

#[test]
fn installing_again_adds_what_is_missing_and_by_name_marks_it_manual() {
    let env = Env::new();
    dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    env.run(&["uninstall", "lib@dm"]).ok();
    let out = env.run(&["install", "app@dm"]).ok();
    assert!(
        out.stdout.contains(" (+ 1 dependency: lib)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("lib@dm")["auto"], true);
    let out = env.run(&["install", "lib@dm"]).ok();
    assert!(
        out.stdout.starts_with(
            "Installing plugin \"lib@dm\"...✔ Plugin \"lib@dm\" is already installed (scope: user) — marked as manually installed — it loads in place from "
        ),
        "{}",
        out.stdout
    );
    assert!(env.first_record("lib@dm").get("auto").is_none());
    // Installed by name now: uninstalling app leaves it needed.
    let out = env.run(&["uninstall", "app@dm"]).ok();
    assert!(
        out.stdout
            .contains("1 auto-installed dependency no longer needed: fmt."),
        "{}",
        out.stdout
    );
}

#[test]
fn sync_installs_what_the_plugins_it_installs_need() {
    let env = Env::new();
    dm(&env, &[]);
    let settings = env.claude().join("settings.json");
    let mut doc = env.read_json(&settings);
    doc["enabledPlugins"] = json!({"app@dm": true});
    fs::write(&settings, doc.to_string()).unwrap();
    env.run(&["sync"]).ok();
    let installed = env.installed();
    for id in ["app@dm", "lib@dm", "fmt@dm", "core@dm"] {
        assert!(installed["plugins"].get(id).is_some(), "{id}: {installed}");
    }
    assert_eq!(env.first_record("fmt@dm")["resolvedVersion"], "2.1.3");
    assert_eq!(env.first_record("lib@dm")["auto"], true);
    assert!(env.first_record("app@dm").get("auto").is_none());
    assert_eq!(env.settings()["enabledPlugins"]["core@dm"], true);
    // Nothing to do the second time.
    let out = env.run(&["sync", "--json"]).ok().json();
    assert_eq!(out["outcome"], "ok", "{out}");
}

/// Without `GIT_COMMITTER_*` the tagger is the person's git configuration (`user.*`); with none
/// anywhere, the refusal says how to set one and nothing is written.
#[test]
fn tag_signs_with_the_configured_identity_or_says_how_to_set_one() {
    let env = Env::new();
    let (dir, _) = dm(&env, &[]);
    common::githttp::git(&dir, &["add", "-A"]);
    common::githttp::git(&dir, &["commit", "-q", "--allow-empty", "-m", "all"]);
    let lib = dir.join("plugins/lib");
    let tag = || {
        let mut c = env.command(&["tag", p(&lib)]);
        for var in ["NAME", "EMAIL"] {
            for who in ["COMMITTER", "AUTHOR"] {
                c.env_remove(format!("GIT_{who}_{var}"));
            }
        }
        Run::from(
            c.env("GIT_CONFIG_NOSYSTEM", "1")
                .env_remove("GIT_CONFIG_GLOBAL")
                .env_remove("EMAIL")
                .output()
                .expect("run plugin"),
        )
    };
    let out = tag();
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("no git identity to sign the tag with: set user.name and user.email"),
        "{}",
        out.stdout
    );
    assert_eq!(
        common::githttp::git(&dir, &["tag", "-l"]).lines().count(),
        3,
        "fmt's only"
    );
    write(
        &env.home.join(".gitconfig"),
        "[user]\n\tname = Cfg Person\n\temail = cfg@example.com\n",
    );
    let out = tag();
    assert_eq!(out.code, 0, "{}", out.stdout);
    let object = common::githttp::git(&dir, &["cat-file", "-p", "lib--v0.5.0"]);
    assert!(
        object.contains("\ntagger Cfg Person <cfg@example.com> "),
        "{object}"
    );
}

#[test]
fn tag_creates_the_release_tag_dependency_ranges_resolve() {
    let env = Env::new();
    let (dir, _) = dm(&env, &[]);
    common::githttp::git(&dir, &["add", "-A"]);
    common::githttp::git(&dir, &["commit", "-q", "--allow-empty", "-m", "all"]);
    let tag = |args: &[&str]| plugin_tag(&env, args);
    let lib = dir.join("plugins/lib");
    let out = tag(&[p(&lib), "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains(&format!(
        "Plugin:  lib\nVersion: 0.5.0 (from plugin.json)\nMarketplace entry: plugins[1] in {} (version: 0.5.0)\nTag:     lib--v0.5.0\n\n✔ Dry run — would create tag lib--v0.5.0 at HEAD in {}\n  git -C {1} tag -a lib--v0.5.0 -m \"lib 0.5.0\"\n",
        p(&dir.join(".claude-plugin/marketplace.json")),
        p(&dir)
    )), "{}", out.stdout);
    assert_eq!(common::githttp::git(&dir, &["tag", "-l", "lib--v*"]), "");

    let out = tag(&[p(&lib), "-m", "release %s"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("✔ Created tag lib--v0.5.0\n"),
        "{}",
        out.stdout
    );
    let object = common::githttp::git(&dir, &["cat-file", "-p", "lib--v0.5.0"]);
    assert!(object.contains("type commit\ntag lib--v0.5.0\ntagger Rel Ease <rel@example.com> 1767225600 +0000\n\nrelease 0.5.0"), "{object}");
    let out = tag(&[p(&lib)]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.ends_with("✘ Tag \"lib--v0.5.0\" already exists locally. Bump the version in plugin.json, or re-run with --force to move the tag.\n"), "{}", out.stdout);

    // What the tag covers must be committed.
    write(&dir.join("plugins/core/commands/core.md"), "changed\n");
    write(&dir.join("plugins/core/new.md"), "new\n");
    let out = tag(&[p(&dir.join("plugins/core"))]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.ends_with("✘ Uncommitted changes affecting this release — commit them first so the tag points at the version you intend to release (or use --force):   plugins/core/commands/core.md   plugins/core/new.md\n"), "{}", out.stdout);
    // Changes elsewhere do not count; the versions must agree.
    let app = dir.join("plugins/app/.claude-plugin/plugin.json");
    write(&app, r#"{"name":"app","version":"1.1.0"}"#);
    common::githttp::git(&dir, &["commit", "-qam", "app 1.1.0"]);
    let out = tag(&[p(&dir.join("plugins/app"))]);
    assert_eq!(out.code, 1);
    // (Paths relative to the working folder, as Claude Code writes them.)
    assert!(out.stdout.ends_with("✘ Version mismatch: plugin.json says \"1.1.0\" but ../fx/dm/.claude-plugin/marketplace.json plugins[0].version says \"1.0.0\". plugin.json wins at install time, so update the marketplace entry to \"1.1.0\" (or remove it) before tagging.\n"), "{}", out.stdout);
    let out = tag(&[p(&dir.join("plugins/missing"))]);
    assert_eq!(
        out.stdout,
        format!("✘ Path not found: {}\n", p(&dir.join("plugins/missing")))
    );
}

#[test]
fn update_keeps_a_constrained_dependency_within_its_dependents_ranges() {
    let env = Env::new();
    let (dir, _) = dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    // A newer tag inside ~2.1.0, and the work tree moving on beyond it.
    let repo = WorkRepo { dir: dir.clone() };
    plugin_at(&repo, "fmt", "2.1.4", None);
    let at_214 = repo.commit("fmt 2.1.4");
    repo.tag("fmt--v2.1.4");
    plugin_at(&repo, "fmt", "2.3.0", None);
    repo.commit("fmt 2.3.0");
    repo.tag("fmt--v2.3.0");

    let version = format!("2.1.4-{}", &at_214[..12]);
    // `outdated` offers the tag the range allows, not the newest, and changes nothing.
    let before = env.installed();
    let out = env.run(&["outdated"]).ok();
    assert!(
        out.stdout.contains(&format!(
            "↑ fmt@dm (user): 2.1.3-{} → {version} available (highest tag satisfying ~2.1.0 from app)\n"
        , &env.first_record("fmt@dm")["gitCommitSha"].as_str().unwrap()[..12])),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("2.3.0"), "{}", out.stdout);
    assert_eq!(env.installed(), before);
    let out = env.run(&["update", "fmt@dm"]).ok();
    // Claude Code's words for why this version: the range and who asked for it.
    assert!(
        out.stdout.contains(&format!(
            "→ {version} (highest tag satisfying ~2.1.0 from app)\n"
        )),
        "{}",
        out.stdout
    );
    let rec = env.first_record("fmt@dm");
    assert_eq!(rec["version"], version.as_str());
    assert_eq!(rec["resolvedVersion"], "2.1.4");
    assert_eq!(rec["auto"], true, "still a dependency");
    let dir_214 = PathBuf::from(rec["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_to_string(dir_214.join("commands/fmt.md")).unwrap(),
        "# fmt 2.1.4\n"
    );
    // Nothing newer fits: current, and `update --all` leaves it there too.
    let out = env.run(&["update", "--all"]).ok();
    assert!(!out.stdout.contains("2.3.0"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "fmt@dm (user): current {version}: the latest version satisfying ~2.1.0 (required by app)\n"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("fmt@dm")["version"], version.as_str());
    let out = env.run(&["update", "fmt@dm", "--json"]).ok();
    let row = &serde_json::from_str::<Value>(&out.stdout).unwrap()["plugins"][0];
    assert_eq!(row["outcome"], "current");
    assert_eq!(
        row["constraint"],
        json!({"ranges": "~2.1.0", "requiredBy": ["app@dm"]})
    );

    // A second dependent whose range excludes app's: held where it is, both named.
    write(
        &dir.join("plugins/pre/.claude-plugin/plugin.json"),
        &json!({"name": "pre", "version": "1.0.0",
                "dependencies": [{"name": "fmt", "version": "^2.2.0"}]})
        .to_string(),
    );
    let mut catalog: Value = serde_json::from_str(
        &fs::read_to_string(dir.join(".claude-plugin/marketplace.json")).unwrap(),
    )
    .unwrap();
    catalog["plugins"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "pre", "source": "./plugins/pre"}));
    fs::write(
        dir.join(".claude-plugin/marketplace.json"),
        catalog.to_string(),
    )
    .unwrap();
    // Our install of pre is refused (its range and app's conflict); Claude Code keeps such a
    // record (difference 47), so it is written by hand.
    let mut installed = env.installed();
    let mut pre = installed["plugins"]["app@dm"][0].clone();
    pre["installPath"] = json!(p(&dir.join("plugins/pre")));
    installed["plugins"]["pre@dm"] = json!([pre]);
    fs::write(
        env.plugins().join("installed_plugins.json"),
        serde_json::to_string_pretty(&installed).unwrap(),
    )
    .unwrap();
    let out = env.run(&["update", "fmt@dm"]).ok();
    assert!(
        out.stdout.contains(&format!(
            "fmt@dm (user): held at {version}: conflicting version requirements (no version satisfies all of: ~2.1.0, ^2.2.0; required by app@dm, pre@dm)\n"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("fmt@dm")["version"], version.as_str());
}

#[test]
fn catalog_entry_dependencies_are_checked_before_anything_is_written() {
    let env = Env::new();
    let ce = env.fx.join("ce");
    for name in ["cyca", "cycb", "xnf", "xe", "ed", "lib2"] {
        write(
            &ce.join(format!("plugins/{name}/.claude-plugin/plugin.json")),
            &json!({"name": name, "version": "1.0.0"}).to_string(),
        );
    }
    let entry = |name: &str, deps: Value| json!({"name": name, "source": format!("./plugins/{name}"), "dependencies": deps});
    marketplace(
        &ce,
        "ce",
        &json!([
            entry("cyca", json!(["cycb"])),
            entry("cycb", json!(["cyca"])),
            entry("xnf", json!(["ghost"])),
            entry("xe", json!(["zz@ot3"])),
            entry("ed", json!(["lib2"])),
            entry("lib2", json!([])),
        ])
        .to_string(),
    );
    env.run(&["marketplace", "add", p(&ce)]).ok();
    let before = tree_with_content(&env.home);
    for (id, message) in [
        ("cyca@ce", "Dependency cycle: cyca@ce → cycb@ce → cyca@ce".to_string()),
        (
            "xnf@ce",
            "Dependency \"ghost@ce\" (required by xnf@ce) not found. Is the \"ce\" marketplace added?".to_string(),
        ),
        (
            "xe@ce",
            "Dependency \"zz@ot3\" (required by xe@ce) is in marketplace \"ot3\", which is not in the allowlist — cross-marketplace dependencies are blocked by default. Install it manually first. Add \"ot3\" to allowCrossMarketplaceDependenciesOn in the ROOT marketplace's marketplace.json (the marketplace of the plugin you're installing — only its allowlist applies; no transitive trust).".to_string(),
        ),
    ] {
        let out = env.run(&["install", id, "--json"]).fails();
        let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
        assert_eq!(doc["message"], message.as_str(), "{id}");
        assert_eq!(doc["failureCode"], "dependency_resolution_failed", "{id}");
        assert_eq!(tree_with_content(&env.home), before, "{id}: nothing written");
    }
    let out = env.run(&["install", "ed@ce"]).ok();
    assert!(
        out.stdout.ends_with("(+ 1 dependency: lib2)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("lib2@ce")["auto"], true);
}

/// At a terminal `prune` asks; at another scope only that scope's plugins count, and the hint
/// names the scope.
#[cfg(target_os = "linux")]
#[test]
fn prune_asks_at_a_terminal_and_keeps_to_its_scope() {
    let env = Env::new();
    dm(&env, &[]);
    env.run(&["install", "app@dm", "--scope", "project"]).ok();
    env.run(&["install", "app@dm"]).ok();
    env.run(&["uninstall", "app@dm", "--scope", "project"]).ok();
    let project = |id: &str| {
        (env.installed()["plugins"][id]
            .as_array()
            .into_iter()
            .flatten())
        .any(|r| r["scope"] == "project")
    };
    assert!(project("lib@dm"));
    // Nothing is unneeded at user scope: app still needs its dependencies there.
    let out = env.run(&["prune"]).ok();
    assert_eq!(
        out.stdout,
        "Nothing to prune (3 auto-installed plugins at user scope, all still needed).\n"
    );
    let out = env.run(&["prune", "--scope", "project"]).ok();
    assert!(
        out.stdout
            .ends_with("Not a TTY — run `plugin prune --scope project -y` to remove.\n"),
        "{}",
        out.stdout
    );
    let out = env.at_terminal("prune --scope project", "n\n");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Remove? [y/N] "), "{}", out.stdout);
    assert!(out.stdout.contains("Aborted."), "{}", out.stdout);
    assert!(project("lib@dm"), "nothing removed");
    let out = env.at_terminal("prune --scope project", "y\n");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for id in ["lib@dm", "fmt@dm", "core@dm"] {
        assert!(!project(id), "{id} removed at project scope");
        assert!(
            env.installed()["plugins"][id]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["scope"] == "user"),
            "{id} kept at user scope"
        );
    }
}

#[test]
fn uninstall_prune_removes_what_nothing_needs_with_yes() {
    let env = Env::new();
    dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    let out = env
        .run(&["uninstall", "app@dm", "--prune", "--json"])
        .fails();
    assert!(
        out.stderr.contains("--json cannot be used with --prune"),
        "{}",
        out.stderr
    );
    assert!(
        env.installed()["plugins"].get("app@dm").is_some(),
        "nothing done"
    );
    let out = env.run(&["uninstall", "app@dm", "--prune", "-y"]).ok();
    assert_eq!(
        out.stdout,
        "✔ Successfully uninstalled plugin: app (scope: user)\nRemoved 3 auto-installed plugins: lib, fmt, core\n"
    );
    assert_eq!(env.installed()["plugins"], json!({}));
}

#[test]
fn a_git_hosted_marketplaces_relative_dependency_resolves_its_repositorys_tags() {
    let env = Env::new();
    let srv = env.fx.join("srv");
    let repo = WorkRepo::init(&env.fx.join("work/gmk"));
    repo.write(
        ".claude-plugin/marketplace.json",
        &json!({"name": "gmk", "owner": {"name": "o"}, "plugins": [
            {"name": "app", "source": "./plugins/app"},
            {"name": "fmt", "source": "./plugins/fmt"},
        ]})
        .to_string(),
    );
    plugin_at(
        &repo,
        "app",
        "1.0.0",
        Some(json!([{"name": "fmt", "version": "~2.1.0"}])),
    );
    let mut at_213 = String::new();
    for v in ["2.1.3", "2.2.0"] {
        plugin_at(&repo, "fmt", v, None);
        let c = repo.commit(&format!("fmt {v}"));
        repo.tag(&format!("fmt--v{v}"));
        if v == "2.1.3" {
            at_213 = c;
        }
    }
    repo.publish(&srv.join("git/gmk.git"));
    let server = GitServer::start(&srv);
    env.run(&["marketplace", "add", &server.url("git/gmk.git")])
        .ok();
    let out = env.run(&["install", "app@gmk"]).ok();
    assert!(
        out.stdout.ends_with("(+ 1 dependency: fmt)\n"),
        "{}",
        out.stdout
    );
    let rec = env.first_record("fmt@gmk");
    assert_eq!(rec["version"], format!("2.1.3-{}", &at_213[..12]).as_str());
    assert_eq!(rec["resolvedVersion"], "2.1.3");
    assert_eq!(rec["gitCommitSha"], at_213.as_str());
    let dir = PathBuf::from(rec["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_to_string(dir.join("commands/fmt.md")).unwrap(),
        "# fmt 2.1.3\n"
    );
}

#[test]
fn install_json_says_the_dependencies_in_its_message_as_claude_code_does() {
    let env = Env::new();
    dm(&env, &[]);
    let out = env.run(&["install", "app@dm", "--json"]).ok().json();
    assert_eq!(
        out,
        json!({"command": "install", "outcome": "ok", "plugin": "app@dm", "pluginId": "app@dm",
               "scope": "user",
               "message": "Successfully installed plugin: app@dm (scope: user) (+ 3 dependencies: lib, fmt, core)"})
    );
}

#[test]
fn validate_says_what_installs_will_make_of_declarations() {
    let env = Env::new();
    let dir = env.fx.join("vp");
    write(
        &dir.join(".claude-plugin/plugin.json"),
        &json!({"name": "vp", "version": "1.0.0", "description": "d", "author": {"name": "a"},
                "dependencies": ["vp", {"name": "x", "version": "not a range!!"}, "y@^1.0.0", "z@other"]})
        .to_string(),
    );
    let v = env.run(&["validate", p(&dir), "--json"]).ok().json();
    let warnings = v["manifest"]["warnings"].as_array().unwrap();
    let by_code = |code: &str| -> Vec<(String, String)> {
        warnings
            .iter()
            .filter(|w| w["code"] == code)
            .map(|w| {
                (
                    w["path"].as_str().unwrap().to_string(),
                    w["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        by_code("self-dependency"),
        [(
            "dependencies.0".to_string(),
            "(ours) \"vp\" depends on itself; the dependency is never needed".to_string()
        )]
    );
    assert_eq!(by_code("dependency-range")[0].0, "dependencies.1.version");
    assert_eq!(by_code("dependency-range-dropped")[0].0, "dependencies.2");
    assert_eq!(
        v["manifest"]["errors"],
        json!([]),
        "warnings only: Claude Code passes it"
    );
}

#[test]
fn validate_of_a_marketplace_names_dependencies_installs_cannot_find_and_cycles() {
    let env = Env::new();
    let m = env.fx.join("vm");
    write(
        &m.join(".claude-plugin/marketplace.json"),
        &json!({"name": "vm", "owner": {"name": "o"}, "description": "d",
                "allowCrossMarketplaceDependenciesOn": ["ok"],
                "plugins": [
                    {"name": "app", "source": "./app", "dependencies": ["gone@vm"]},
                    {"name": "lib", "source": "./lib"}]})
        .to_string(),
    );
    for (name, deps) in [
        (
            "app",
            json!(["lib", "lib@vm", "ghost", {"name": "x", "marketplace": "other"}, "y@ok"]),
        ),
        ("lib", json!(["app@vm"])),
    ] {
        write(
            &m.join(name).join(".claude-plugin/plugin.json"),
            &json!({"name": name, "version": "1.0.0", "description": "d", "author": {"name": "a"},
                    "dependencies": deps})
            .to_string(),
        );
    }
    let v = env.run(&["validate", p(&m), "--json"]).ok().json();
    let found: Vec<(&str, &str, &str)> = v["manifest"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"].as_str().unwrap().starts_with("dependency-"))
        .map(|w| {
            (
                w["path"].as_str().unwrap(),
                w["code"].as_str().unwrap(),
                w["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "plugins[0].dependencies",
                "dependency-cycle",
                "(ours) dependency cycle: app → lib → app; installs stop where it closes"
            ),
            (
                "plugins[0].dependencies",
                "dependency-unknown",
                "(ours) \"gone\" is not a plugin of this marketplace: installs cannot bring it, and the plugin will not load without it"
            ),
            (
                "plugins[0].dependencies",
                "dependency-unknown",
                "(ours) \"ghost\" is not a plugin of this marketplace: installs cannot bring it, and the plugin will not load without it"
            ),
            (
                "plugins[0].dependencies",
                "dependency-cross-marketplace",
                "(ours) \"x@other\" is in another marketplace, which allowCrossMarketplaceDependenciesOn does not list: installs skip it unless it is installed already"
            ),
        ]
    );
    assert_eq!(v["success"], true, "warnings only: Claude Code passes it");
}

/// A crash (`kill -9` at each step boundary of the install) never leaves a record without its
/// folder or a torn state file, and installing again completes the set.
#[test]
fn a_crash_at_any_step_of_a_dependency_install_is_completed_by_the_next_run() {
    let env = Env::new();
    dm(&env, &[]);
    let clean = tree_with_content(&env.home);
    let mut crashed = 0;
    for at in 1.. {
        let out = Run::from(
            env.command(&["install", "app@dm"])
                .env("PLUGIN_CRASH_AT", at.to_string())
                .output()
                .expect("run plugin"),
        );
        if out.code == 0 {
            break;
        }
        crashed += 1;
        assert!(at < 200, "no end to the crash points");
        completed_after_a_crash(&env, &format!("crash at {at}"));
        assert_eq!(tree_with_content(&env.home).len(), clean.len());
    }
    assert!(crashed > 5, "the install has step boundaries ({crashed})");
}

/// `kill -9` at moments spread over a dependency install: the same guarantees as at its step
/// boundaries.
#[test]
fn kill_9_during_a_dependency_install_is_completed_by_the_next_run() {
    let env = Env::new();
    dm(&env, &[]);
    let started = std::time::Instant::now();
    env.run(&["install", "app@dm"]).ok();
    let took = started.elapsed();
    completed_after_a_crash(&env, "no kill");
    let mut killed = 0;
    for i in 0..12u32 {
        let delay = took * i / 10;
        let mut child = env
            .command(&["install", "app@dm"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start plugin");
        std::thread::sleep(delay);
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("kill -9");
            killed += 1;
        }
        child.wait().expect("reap");
        completed_after_a_crash(&env, &format!("kill after {delay:?}"));
    }
    assert!(killed > 3, "most runs were killed ({killed} of 12)");
}

/// What a crash left: every state file parses, every record's folder is complete; then the
/// next run completes the set, and the home is made as it was before the install.
#[track_caller]
fn completed_after_a_crash(env: &Env, ctx: &str) {
    let file = env.plugins().join("installed_plugins.json");
    if file.exists() {
        for (id, recs) in env.installed()["plugins"].as_object().unwrap() {
            for rec in recs.as_array().unwrap() {
                let dir = PathBuf::from(rec["installPath"].as_str().unwrap());
                assert!(
                    dir.join(".claude-plugin/plugin.json").is_file()
                        && dir.join(".plugin-ok").is_file(),
                    "{ctx}: {id} recorded without its whole folder"
                );
            }
        }
    }
    if env.claude().join("settings.json").exists() {
        env.settings();
    }
    env.run(&["install", "app@dm"]).ok();
    let installed = env.installed();
    for id in ["app@dm", "lib@dm", "fmt@dm", "core@dm"] {
        assert!(
            installed["plugins"].get(id).is_some(),
            "{ctx}: {id} missing after the rerun: {installed}"
        );
        assert_eq!(env.settings()["enabledPlugins"][id], true, "{ctx}: {id}");
    }
    assert_eq!(env.first_record("fmt@dm")["resolvedVersion"], "2.1.3");
    // Back to the start for the next crash.
    let _ = fs::remove_dir_all(env.claude());
    let _ = fs::remove_dir_all(env.user_cache());
    env.run(&["marketplace", "add", p(&env.fx.join("dm"))]).ok();
}

#[test]
fn enable_refuses_dependencies_policy_blocks_or_a_more_specific_file_turns_off() {
    let env = Env::new();
    dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    for id in ["app@dm", "lib@dm", "core@dm"] {
        env.run(&["disable", id]).ok();
    }
    env.write_managed(None, &json!({"enabledPlugins": {"core@dm": false}}));
    let out = env.run(&["enable", "app@dm", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        doc["message"],
        "app depends on core@dm, which is blocked by your organization's plugin policy. Ask an admin to allow it."
    );
    assert_eq!(doc["failureCode"], "dependency_policy_blocked");
    fs::remove_dir_all(env.managed()).unwrap();
    // Local settings of this project turn lib off: enabling at user scope would not count.
    write(
        &env.cwd.join(".claude/settings.local.json"),
        &json!({"enabledPlugins": {"lib@dm": false}}).to_string(),
    );
    let out = env.run(&["enable", "app@dm", "--json"]).fails();
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        doc["message"],
        "app depends on lib@dm (local scope), which is disabled there. Enable it at that scope, or use --scope local to write where the override lives."
    );
    assert_eq!(doc["failureCode"], "dependency_disabled");
    assert_eq!(
        env.settings()["enabledPlugins"]["app@dm"],
        false,
        "nothing written"
    );
}

#[test]
fn resolve_lists_dependencies_and_what_satisfies_each() {
    let env = Env::new();
    let (_, at_213) = dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    let v = env.run(&["resolve", "app@dm", "--json"]).ok().json();
    assert_eq!(
        v["dependencies"],
        json!([
            {"pluginId": "lib@dm", "installed": "0.5.0"},
            {"pluginId": "fmt@dm", "range": "~2.1.0", "installed": "2.1.3"},
        ])
    );
    let _ = at_213;
    env.run(&["uninstall", "lib@dm"]).ok();
    let out = env.run(&["resolve", "app@dm"]).ok();
    assert!(out.stdout.contains("dependencies\n  lib@dm: ✘ Dependency \"lib@dm\" is not installed — run `claude plugin install lib@dm`, or check that its marketplace is added\n  fmt@dm ~2.1.0: ✔ 2.1.3\n"), "{}", out.stdout);
}

#[test]
fn dependencies_from_three_repositories_install_together_each_repository_listed_once() {
    let env = Env::new();
    let srv = env.fx.join("srv");
    // `tools` holds two tagged plugins; `c` is tagged at its root; `d` is taken at its HEAD.
    let tools = WorkRepo::init(&env.fx.join("work/tools"));
    let mut a_110 = String::new();
    for (name, v) in [
        ("a", "1.0.0"),
        ("b", "2.0.0"),
        ("a", "1.1.0"),
        ("a", "2.0.0"),
    ] {
        plugin_at(&tools, name, v, None);
        let c = tools.commit(&format!("{name} {v}"));
        tools.tag(&format!("{name}--v{v}"));
        if (name, v) == ("a", "1.1.0") {
            a_110 = c;
        }
    }
    tools.publish(&srv.join("git/tools.git"));
    let c = WorkRepo::init(&env.fx.join("work/c"));
    for v in ["0.1.0", "0.2.0"] {
        c.write(
            ".claude-plugin/plugin.json",
            &json!({"name": "c", "version": v}).to_string(),
        );
        c.write("commands/c.md", &format!("# c {v}\n"));
        c.commit(v);
        c.tag(&format!("c--v{v}"));
    }
    c.publish(&srv.join("git/c.git"));
    let d = WorkRepo::init(&env.fx.join("work/d"));
    d.write(
        ".claude-plugin/plugin.json",
        &json!({"name": "d", "version": "3.0.0"}).to_string(),
    );
    let d_head = d.commit("d");
    d.publish(&srv.join("git/d.git"));
    let server = GitServer::start(&srv);
    let (tools_url, c_url) = (server.url("git/tools.git"), server.url("git/c.git"));

    let m = env.fx.join("gm");
    write(
        &m.join("plugins/app/.claude-plugin/plugin.json"),
        &json!({"name": "app", "version": "1.0.0", "dependencies": [
            {"name": "a", "version": "^1.0.0"}, {"name": "b", "version": "^2.0.0"},
            {"name": "c", "version": "~0.1.0"}, "d"]})
        .to_string(),
    );
    marketplace(
        &m,
        "gm",
        &json!([
            {"name": "app", "source": "./plugins/app"},
            {"name": "a", "source": {"source": "git-subdir", "url": tools_url, "path": "plugins/a"}},
            {"name": "b", "source": {"source": "git-subdir", "url": tools_url, "path": "plugins/b"}},
            {"name": "c", "source": {"source": "url", "url": c_url}},
            {"name": "d", "source": {"source": "url", "url": server.url("git/d.git")}},
        ])
        .to_string(),
    );
    env.run(&["marketplace", "add", p(&m)]).ok();
    let out = env.run(&["install", "app@gm"]).ok();
    // In the order declared, whichever fetch ended first.
    assert!(
        out.stdout.ends_with("(+ 4 dependencies: a, b, c, d)\n"),
        "{}",
        out.stdout
    );
    let a = env.first_record("a@gm");
    assert_eq!(a["resolvedVersion"], "1.1.0");
    assert_eq!(a["gitCommitSha"], a_110.as_str());
    let dir = PathBuf::from(a["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_to_string(dir.join("commands/a.md")).unwrap(),
        "# a 1.1.0\n"
    );
    assert_eq!(env.first_record("b@gm")["resolvedVersion"], "2.0.0");
    let c_rec = env.first_record("c@gm");
    assert_eq!(c_rec["resolvedVersion"], "0.1.0");
    let dir = PathBuf::from(c_rec["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_to_string(dir.join("commands/c.md")).unwrap(),
        "# c 0.1.0\n"
    );
    let d_rec = env.first_record("d@gm");
    assert_eq!(d_rec["version"], "3.0.0");
    assert_eq!(d_rec["gitCommitSha"], d_head.as_str());
    assert!(d_rec.get("resolvedVersion").is_none(), "{d_rec}");
    for id in ["a@gm", "b@gm", "c@gm", "d@gm"] {
        assert_eq!(env.first_record(id)["auto"], true, "{id}");
    }
    // `tools` serves two dependencies: its tags were listed once (one ref advertisement for
    // the listing, one for each of the two fetches).
    let adverts = |repo: &str| {
        (server.requests().iter())
            .filter(|r| r.contains(&format!("/git/{repo}.git/info/refs")))
            .count()
    };
    assert_eq!(adverts("tools"), 3, "{:#?}", server.requests());
    assert_eq!(adverts("c"), 2, "{:#?}", server.requests());
}

#[test]
fn update_installs_what_the_new_version_needs() {
    let env = Env::new();
    let (dir, _) = dm(
        &env,
        &[json!({"name": "extra", "source": "./plugins/extra"})],
    );
    env.run(&["install", "app@dm"]).ok();
    // app 1.1.0 needs `extra` too, and `nope`, which no marketplace lists.
    let repo = WorkRepo { dir: dir.clone() };
    plugin_at(&repo, "extra", "0.1.0", None);
    plugin_at(
        &repo,
        "app",
        "1.1.0",
        Some(json!(["lib", {"name": "fmt", "version": "~2.1.0"}, "extra", "nope"])),
    );
    let out = env.run(&["update", "app@dm"]).ok();
    assert!(
        out.stdout.contains(
            "app@dm (user): updated 1.0.0 → 1.1.0 (+ 1 dependency: extra) — 1 dependency still unresolved: nope@dm.\n"
        ),
        "{}",
        out.stdout
    );
    let extra = env.first_record("extra@dm");
    assert_eq!(extra["auto"], true);
    assert_eq!(env.settings()["enabledPlugins"]["extra@dm"], true);

    // Nothing more to install: the row says nothing of dependencies.
    let out = env.run(&["update", "app@dm", "--json"]).ok();
    let row = &serde_json::from_str::<Value>(&out.stdout).unwrap()["plugins"][0];
    assert_eq!(row["outcome"], "current", "{row}");
    assert_eq!(row["dependencies"], json!({"unresolved": ["nope@dm"]}));

    // A dependency outside the new version's range is not replaced: said, the update stands.
    plugin_at(
        &repo,
        "app",
        "1.2.0",
        Some(json!(["lib", {"name": "fmt", "version": "^2.2.0"}])),
    );
    let out = env.run(&["update", "app@dm"]).ok();
    assert!(
        out.stdout.contains("app@dm (user): updated 1.1.0 → 1.2.0 — dependencies not installed: Dependency \"fmt@dm\" is installed at 2.1.3, which does not satisfy: ^2.2.0."),
        "{}",
        out.stdout
    );
    assert_eq!(env.first_record("app@dm")["version"], "1.2.0");
}

#[test]
fn a_settings_write_failing_mid_dependency_install_puts_back_every_state_file() {
    let env = Env::new();
    dm(&env, &[]);
    let files = [
        env.plugins().join("installed_plugins.json"),
        env.claude().join("settings.json"),
    ];
    let bytes = |f: &PathBuf| fs::read(f).ok();
    let before: Vec<_> = files.iter().map(bytes).collect();
    // Writes of settings.json: app enabled (1), then its dependencies lib (2), fmt (3), core (4).
    for n in 2..=4 {
        let out = Run::from(
            env.command(&["install", "app@dm"])
                .env("PLUGIN_FAIL_WRITE", format!("settings.json:{n}"))
                .output()
                .expect("run plugin"),
        );
        assert_eq!(out.code, 1, "write {n}: {}", out.stdout);
        assert!(
            out.stderr
                .starts_with("✘ Failed to install plugin \"app@dm\": ")
                && out.stderr.contains("settings.json")
                && out.stderr.contains("no space left on device"),
            "write {n}: {}",
            out.stderr
        );
        let after: Vec<_> = files.iter().map(bytes).collect();
        assert_eq!(after, before, "write {n}: the state files are as they were");
    }
    // Nothing in the way of the next run.
    let out = env.run(&["install", "app@dm"]).ok();
    assert!(
        out.stdout.ends_with("(+ 3 dependencies: lib, fmt, core)\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn tag_push_sends_the_tag_and_what_the_remote_lacks_over_http_and_to_a_path() {
    let env = Env::new();
    let (dir, _) = dm(&env, &[]);
    let srv = env.fx.join("srv");
    let repo = WorkRepo { dir: dir.clone() };
    repo.commit("all");
    repo.publish(&srv.join("git/dm.git"));
    common::githttp::git(
        &srv.join("git/dm.git"),
        &["config", "http.receivepack", "true"],
    );
    let server = GitServer::start(&srv);
    common::githttp::git(
        &dir,
        &["remote", "add", "origin", &server.url("git/dm.git")],
    );
    // A commit the remote has not seen yet: the tag needs it.
    plugin_at(&repo, "lib", "0.5.0", Some(json!(["core"])));
    repo.write("plugins/lib/commands/more.md", "# more\n");
    let head = repo.commit("lib: more");
    let tag = |args: &[&str]| plugin_tag(&env, args);
    let lib = dir.join("plugins/lib");
    let out = tag(&[p(&lib), "--push"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .ends_with("✔ Created tag lib--v0.5.0\n✔ Pushed to origin\n"),
        "{}",
        out.stdout
    );
    let bare = srv.join("git/dm.git");
    let local = common::githttp::git(&dir, &["rev-parse", "lib--v0.5.0"]);
    assert_eq!(
        common::githttp::git(&bare, &["rev-parse", "lib--v0.5.0"]),
        local
    );
    assert_eq!(
        common::githttp::git(&bare, &["rev-parse", "lib--v0.5.0^{commit}"]),
        head
    );
    // Everything the tag reaches arrived, and nothing is broken.
    common::githttp::git(&bare, &["fsck", "--full", "--strict"]);
    assert_eq!(
        common::githttp::git(&bare, &["show", "lib--v0.5.0:plugins/lib/commands/more.md"]),
        "# more"
    );

    // The remote's tag is not moved without --force, whatever the local one says.
    common::githttp::git(&dir, &["tag", "-d", "lib--v0.5.0"]);
    let out = tag(&[p(&lib), "--push", "-m", "again %s"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.ends_with(&format!(
            "✘ Tag created locally but push failed: the remote already has refs/tags/lib--v0.5.0 (at {local}); re-run with --force to move it\n"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(
        common::githttp::git(&bare, &["rev-parse", "lib--v0.5.0"]),
        local
    );
    let out = tag(&[p(&lib), "--push", "-f", "-m", "again %s"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let moved = common::githttp::git(&dir, &["rev-parse", "lib--v0.5.0"]);
    assert_ne!(moved, local);
    assert_eq!(
        common::githttp::git(&bare, &["rev-parse", "lib--v0.5.0"]),
        moved
    );

    // A remote that is a folder on this machine: written into directly.
    let plain = env.fx.join("plain.git");
    common::githttp::git(&env.fx, &["init", "-q", "--bare", p(&plain)]);
    common::githttp::git(&dir, &["remote", "add", "mirror", p(&plain)]);
    let out = tag(&[p(&dir.join("plugins/core")), "--push", "--remote", "mirror"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.ends_with("✔ Pushed to mirror\n"),
        "{}",
        out.stdout
    );
    common::githttp::git(&plain, &["fsck", "--full", "--strict"]);
    assert_eq!(
        common::githttp::git(&plain, &["rev-parse", "core--v1.0.0^{commit}"]),
        head
    );

    // A server that refuses the update (its pre-receive hook says no): said, nothing moved.
    let hook = bare.join("hooks/pre-receive");
    fs::write(&hook, "#!/bin/sh\necho 'tags are frozen' >&2\nexit 1\n").unwrap();
    fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = tag(&[p(&dir.join("plugins/app")), "--push"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.ends_with(&format!(
            "✘ Tag created locally but push failed: {} refused refs/tags/app--v1.0.0: pre-receive hook declined\n",
            server.url("git/dm.git")
        )),
        "{}",
        out.stdout
    );
    assert_eq!(common::githttp::git(&bare, &["tag", "-l", "app--v*"]), "");

    // A remote that does not exist: the tag stays, nothing is sent.
    let out = tag(&[
        p(&dir.join("plugins/fmt")),
        "--push",
        "-f",
        "--remote",
        "nosuch",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.ends_with("✘ Tag created locally but push failed: 'nosuch' does not appear to be a git repository: it is not a remote of this repository (git remote -v lists them)\n"), "{}", out.stdout);
}

#[test]
fn a_reinstall_whose_dependencies_fail_puts_back_the_installation_it_replaced() {
    let env = Env::new();
    let (dir, _) = dm(&env, &[]);
    env.run(&["install", "app@dm"]).ok();
    let files = [
        env.plugins().join("installed_plugins.json"),
        env.claude().join("settings.json"),
    ];
    let before: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
    // A new version in its folder that needs what the installed fmt (2.1.3) is not.
    let repo = WorkRepo { dir: dir.clone() };
    plugin_at(
        &repo,
        "app",
        "1.1.0",
        Some(json!(["lib", {"name": "fmt", "version": "^3.0.0"}])),
    );
    let out = env.run(&["install", "app@dm"]).fails();
    assert!(
        out.stderr.contains(
            "Dependency \"fmt@dm\" is installed at 2.1.3, which does not satisfy: ^3.0.0"
        ),
        "{}",
        out.stderr
    );
    // The 1.0.0 installation is recorded and enabled as it was, to the byte.
    let after: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
    assert_eq!(after, before);
    let rec = env.first_record("app@dm");
    assert_eq!(rec["version"], "1.0.0");
    assert!(PathBuf::from(rec["installPath"].as_str().unwrap()).is_dir());
}
