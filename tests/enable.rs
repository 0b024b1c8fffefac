//! `enable` / `disable` across scopes, managed settings refusals, malformed ids, and a
//! marketplace's `renames` followed in user, project and local settings. Every test runs the real
//! binary in a throw-away HOME (working directory = the project) with its own managed folder.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Everything under HOME, the working directory and the managed folder, with file contents.
fn snapshot(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    for (label, root) in [
        ("HOME", env.home.clone()),
        ("CWD", env.cwd.clone()),
        ("MANAGED", env.managed()),
    ] {
        out.push(format!("== {label}"));
        if root.exists() {
            out.extend(tree_with_content(&root));
        }
    }
    out
}

/// Run a command that must fail with exit 1 and change nothing on disk.
#[track_caller]
fn fails_unchanged(env: &Env, args: &[&str]) -> Run {
    let before = snapshot(env);
    let r = env.run(args).fails();
    assert_eq!(
        before,
        snapshot(env),
        "`{}` changed the disk\nstderr: {}",
        args.join(" "),
        r.stderr
    );
    r
}

/// The exact bytes of a settings file holding only `value`.
fn settings_bytes(value: &Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(value).expect("JSON"))
}

fn user_settings(env: &Env) -> PathBuf {
    env.claude().join("settings.json")
}

fn project_settings(env: &Env) -> PathBuf {
    join(&env.cwd, ".claude/settings.json")
}

fn local_settings(env: &Env) -> PathBuf {
    join(&env.cwd, ".claude/settings.local.json")
}

/// Folder marketplace `m1` offering `names` (each a plugin at 1.0.0), added.
fn marketplace_m1(env: &Env, names: &[&str]) -> PathBuf {
    let dir = env.fx.join("m1");
    let entries: Vec<Value> = names
        .iter()
        .map(|n| {
            plugin(&dir.join("plugins").join(n), n, Some("1.0.0"));
            json!({"name": n, "source": format!("./plugins/{n}")})
        })
        .collect();
    marketplace(&dir, "m1", &Value::Array(entries).to_string());
    env.run(&["marketplace", "add", s(&dir)]).ok();
    dir
}

// ---------------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------------

#[test]
fn explicit_scope_below_the_deciding_file_is_refused_above_it_writes_an_override() {
    let env = Env::new();
    marketplace_m1(&env, &["p1", "p2"]);
    env.run(&["install", "p1@m1", "--scope", "project"]).ok();
    let project = project_settings(&env);
    let project_bytes = settings_bytes(&json!({"enabledPlugins": {"p1@m1": true}}));
    assert_eq!(read(&project), project_bytes);

    // Lower than project, and user settings do not mention it: refused, nothing written.
    let r = fails_unchanged(&env, &["disable", "p1@m1", "--scope", "user"]);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "✘ Failed to disable plugin \"p1@m1\": Plugin \"p1@m1\" is installed at project scope, not user. Use --scope project or omit --scope to auto-detect.\n"
    );
    let r = fails_unchanged(&env, &["disable", "p1", "--scope", "user", "--json"]);
    assert_eq!(
        r.stdout,
        "{\"command\":\"disable\",\"outcome\":\"failed\",\"plugin\":\"p1\",\"scope\":\"user\",\"message\":\"Plugin \\\"p1\\\" is installed at project scope, not user. Use --scope project or omit --scope to auto-detect.\",\"failureCode\":\"not_installed_at_scope\",\"installedScope\":\"project\"}\n"
    );

    // Higher than project: an override in settings.local.json; the project file is untouched.
    let r = env.run(&["disable", "p1@m1", "--scope", "local"]).ok();
    assert_eq!(
        r.stdout,
        "✔ Successfully disabled plugin: p1 (scope: local)\n"
    );
    assert_eq!(
        read(&local_settings(&env)),
        "{\n  \"enabledPlugins\": {\n    \"p1@m1\": false\n  }\n}\n"
    );
    assert_eq!(read(&project), project_bytes);

    // Auto-detect now finds the local file: already disabled there.
    let r = fails_unchanged(&env, &["disable", "p1@m1"]);
    assert_eq!(
        r.stderr,
        "✘ Failed to disable plugin \"p1@m1\": Plugin \"p1@m1\" is already disabled\n"
    );
    // Project still says true; naming it judges by that file.
    let r = fails_unchanged(&env, &["enable", "p1@m1", "--scope", "project", "--json"]);
    assert_eq!(
        r.json(),
        json!({"command":"enable","outcome":"failed","plugin":"p1@m1","scope":"project",
               "message":"Plugin \"p1@m1\" is already enabled at project scope",
               "failureCode":"already_in_goal_state","alreadyInGoalState":true})
    );
    let r = fails_unchanged(&env, &["enable", "p1@m1", "--scope", "user"]);
    assert_eq!(
        r.stderr,
        "✘ Failed to enable plugin \"p1@m1\": Plugin \"p1@m1\" is installed at local scope, not user. Use --scope local or omit --scope to auto-detect.\n"
    );
    let r = env.run(&["enable", "p1", "--json"]).ok();
    assert_eq!(
        r.json(),
        json!({"command":"enable","outcome":"ok","plugin":"p1","pluginId":"p1@m1","scope":"local",
               "message":"Successfully enabled plugin: p1 (scope: local)"})
    );
    assert_eq!(
        read(&local_settings(&env)),
        "{\n  \"enabledPlugins\": {\n    \"p1@m1\": true\n  }\n}\n"
    );

    // A user-scope plugin disabled for this project only: `false` appended to the project file.
    env.run(&["install", "p2@m1"]).ok();
    let r = env.run(&["disable", "p2@m1", "--scope", "project"]).ok();
    assert_eq!(
        r.stdout,
        "✔ Successfully disabled plugin: p2 (scope: project)\n"
    );
    assert_eq!(
        read(&project),
        "{\n  \"enabledPlugins\": {\n    \"p1@m1\": true,\n    \"p2@m1\": false\n  }\n}\n"
    );
    assert!(
        read(&user_settings(&env)).contains("\"p2@m1\": true"),
        "user settings keep their value"
    );
    // Enabling it again at user scope (where it is already true) is judged by the user file.
    let r = fails_unchanged(&env, &["enable", "p2@m1", "--scope", "user"]);
    assert_eq!(
        r.stderr,
        "✘ Failed to enable plugin \"p2@m1\": Plugin \"p2@m1\" is already enabled at user scope\n"
    );

    // A bare name nothing mentions, with a scope: Claude Code's other wording.
    let r = fails_unchanged(&env, &["enable", "zz", "--scope", "user", "--json"]);
    assert_eq!(
        r.json(),
        json!({"command":"enable","outcome":"failed","plugin":"zz","scope":"user",
               "message":"Plugin \"zz\" not found in settings. Use plugin@marketplace format.",
               "failureCode":"ambiguous_marketplace"})
    );
}

#[test]
fn managed_scope_is_read_only_for_every_writing_command() {
    let env = Env::new();
    marketplace_m1(&env, &["p1"]);
    env.run(&["install", "p1@m1"]).ok();
    let message = "✘ Managed settings are read-only: they come from your organization and this tool never writes them. Use one of: user, project, local\n";
    for args in [
        &["enable", "p1@m1", "--scope", "managed"][..],
        &["disable", "p1@m1", "--scope", "managed", "--json"][..],
        &["install", "p1@m1", "--scope", "managed"][..],
        &["uninstall", "p1@m1", "-s", "managed"][..],
    ] {
        let r = fails_unchanged(&env, args);
        assert_eq!(r.stdout, "", "{args:?}");
        assert_eq!(r.stderr, message, "{args:?}");
    }
    let r = fails_unchanged(
        &env,
        &[
            "marketplace",
            "add",
            s(&env.fx.join("m1")),
            "--scope",
            "managed",
        ],
    );
    // The same shape as every other refusal.
    assert_eq!(r.stderr, message);
}

// ---------------------------------------------------------------------------------------------
// Managed settings
// ---------------------------------------------------------------------------------------------

#[test]
fn managed_true_cannot_be_disabled_managed_false_cannot_be_enabled() {
    let env = Env::new();
    marketplace_m1(&env, &["p1", "p2"]);
    env.run(&["install", "p1@m1"]).ok();
    env.run(&["install", "p2@m1"]).ok();
    env.write_managed(None, &json!({"enabledPlugins": {"p1@m1": true}}));
    env.write_managed(
        Some("10-team.json"),
        &json!({"enabledPlugins": {"p2@m1": false}}),
    );

    for args in [
        &["disable", "p1@m1"][..],
        &["disable", "p1"][..],
        &["disable", "p1@m1", "--scope", "local"][..],
    ] {
        let r = fails_unchanged(&env, args);
        assert_eq!(
            r.stderr,
            format!(
                "✘ Failed to disable plugin \"{}\": This plugin is managed by your organization. Contact your admin to disable it.\n",
                args[1]
            )
        );
    }
    let r = fails_unchanged(&env, &["disable", "p1@m1", "--json"]);
    assert_eq!(
        r.stdout,
        "{\"command\":\"disable\",\"outcome\":\"failed\",\"plugin\":\"p1@m1\",\"message\":\"This plugin is managed by your organization. Contact your admin to disable it.\",\"failureCode\":\"managed_settings_override\"}\n"
    );
    // Forced on: enabling it is a no-op.
    let r = fails_unchanged(&env, &["enable", "p1@m1"]);
    assert_eq!(
        r.stderr,
        "✘ Failed to enable plugin \"p1@m1\": Plugin \"p1@m1\" is already enabled\n"
    );

    // Blocked (user settings still say true): enabling is refused, by id, even for a bare name.
    for typed in ["p2@m1", "p2"] {
        let r = fails_unchanged(&env, &["enable", typed]);
        assert_eq!(
            r.stderr,
            format!(
                "✘ Failed to enable plugin \"{typed}\": Plugin \"p2@m1\" is blocked by your organization's policy and cannot be enabled\n"
            )
        );
    }
    let r = fails_unchanged(&env, &["enable", "p2@m1", "--scope", "local", "--json"]);
    assert_eq!(
        r.json(),
        json!({"command":"enable","outcome":"failed","plugin":"p2@m1","scope":"local",
               "message":"Plugin \"p2@m1\" is blocked by your organization's policy and cannot be enabled",
               "failureCode":"plugin_policy_blocked"})
    );
    // Blocked means off: disabling it is a no-op.
    let r = fails_unchanged(&env, &["disable", "p2@m1"]);
    assert_eq!(
        r.stderr,
        "✘ Failed to disable plugin \"p2@m1\": Plugin \"p2@m1\" is already disabled\n"
    );
}

#[test]
fn install_of_a_blocked_plugin_is_refused_before_its_source_is_fetched() {
    let env = Env::new();
    let dir = env.fx.join("m1");
    plugin(&dir.join("plugins/p1"), "p1", Some("1.0.0"));
    // A git source nobody answers for: fetching it would fail with a network error instead.
    marketplace(
        &dir,
        "m1",
        r#"[{"name":"p1","source":"./plugins/p1"},{"name":"remote","source":{"source":"url","url":"https://127.0.0.1:9/remote.git"}}]"#,
    );
    env.run(&["marketplace", "add", s(&dir)]).ok();
    env.write_managed(
        Some("50-block.json"),
        &json!({"enabledPlugins": {"p1@m1": false, "remote@m1": false}}),
    );
    for (typed, name) in [("p1@m1", "p1"), ("p1", "p1"), ("remote@m1", "remote")] {
        let r = fails_unchanged(&env, &["install", typed]);
        assert_eq!(
            r.stderr,
            format!(
                "✘ Failed to install plugin \"{typed}\": Plugin \"{name}\" is blocked by your organization's policy and cannot be installed\n"
            )
        );
    }
    let r = fails_unchanged(
        &env,
        &["install", "remote@m1", "--scope", "project", "--json"],
    );
    assert_eq!(
        r.json(),
        json!({"command":"install","outcome":"failed","plugin":"remote@m1","scope":"project",
               "message":"Plugin \"remote\" is blocked by your organization's policy and cannot be installed",
               "failureCode":"plugin_policy_blocked"})
    );
    assert!(!env.plugins().join("cache").exists());
}

#[test]
fn disable_all_leaves_forced_plugins_alone_and_says_so() {
    let env = Env::new();
    marketplace_m1(&env, &["forced", "blocked", "mine", "shared"]);
    for p in ["forced", "blocked", "mine", "shared"] {
        env.run(&["install", &format!("{p}@m1")]).ok();
    }
    // `shared` is enabled by user and project settings: only the deciding (project) file changes.
    env.run(&["install", "shared@m1", "--scope", "project"])
        .ok();
    env.write_managed(
        None,
        &json!({"enabledPlugins": {"forced@m1": true, "blocked@m1": false, "absent@m1": true}}),
    );

    let r = env.run(&["disable", "--all"]).ok();
    assert_eq!(
        r.stdout,
        "✔ Disabled 2 plugins (skipped 1 required by your organization)\n"
    );
    let user = env.read_json(&user_settings(&env));
    assert_eq!(
        user["enabledPlugins"],
        json!({"forced@m1": true, "blocked@m1": true, "mine@m1": false, "shared@m1": true})
    );
    assert_eq!(
        read(&project_settings(&env)),
        settings_bytes(&json!({"enabledPlugins": {"shared@m1": false}}))
    );

    let r = env.run(&["disable", "--all", "--json"]).ok();
    assert_eq!(
        r.stdout,
        "{\"command\":\"disable\",\"outcome\":\"ok\",\"all\":true,\"message\":\"No enabled plugins to disable (skipped 1 required by your organization)\",\"skippedManaged\":[\"forced@m1\"]}\n"
    );
    let r = env.run(&["disable", "--all"]).ok();
    assert_eq!(
        r.stdout,
        "✔ No enabled plugins to disable (skipped 1 required by your organization)\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_ids_are_refused_by_enable_disable_and_install() {
    let env = Env::new();
    marketplace_m1(&env, &["p1"]);
    env.run(&["install", "p1@m1"]).ok();
    for (raw, problem) in [
        ("@m1", "the plugin name before \"@\" is empty"),
        ("p1@", "the marketplace name after \"@\" is empty"),
        ("", "it is empty"),
        (" ", "it is empty"),
    ] {
        let message =
            format!("Invalid plugin id \"{raw}\": {problem}. Use <name> or <name>@<marketplace>.");
        for command in ["enable", "disable"] {
            let r = fails_unchanged(&env, &[command, raw]);
            assert_eq!(
                r.stderr,
                format!("✘ Failed to {command} plugin \"{raw}\": {message}\n")
            );
            let r = fails_unchanged(&env, &[command, raw, "--json"]);
            assert_eq!(r.json()["failureCode"], json!("invalid_plugin_id"));
            assert_eq!(r.json()["message"], json!(message));
        }
        let r = fails_unchanged(&env, &["install", raw, "--json"]);
        assert_eq!(
            r.json()["failureCode"],
            json!("invalid_plugin_id"),
            "{raw:?}"
        );
        assert_eq!(
            r.stderr,
            format!("✘ Failed to install plugin \"{raw}\": {message}\n")
        );
    }
}

#[test]
fn a_settings_file_that_is_not_json_is_named_and_nothing_is_written() {
    let env = Env::new();
    marketplace_m1(&env, &["p1"]);
    env.run(&["install", "p1@m1"]).ok();
    let project = project_settings(&env);
    write(&project, "{\n  \"enabledPlugins\": {\"p1@m1\": true,}\n}\n");
    let expected = format!(
        "{}:2:36: invalid JSON: trailing comma. The file was left unchanged; fix it (or move it away) and try again",
        project.display()
    );
    for args in [
        &["disable", "p1@m1"][..],
        &["disable", "p1@m1", "--scope", "user"][..],
        &["enable", "p1@m1", "--scope", "local"][..],
        &["disable", "--all"][..],
    ] {
        let r = fails_unchanged(&env, args);
        assert!(r.stderr.contains(&expected), "{args:?}: {}", r.stderr);
    }
    let r = fails_unchanged(&env, &["disable", "p1@m1", "--json"]);
    assert_eq!(r.json()["failureCode"], json!("settings_write_failed"));
    assert_eq!(r.json()["message"], json!(expected));
}

// ---------------------------------------------------------------------------------------------
// Renames
// ---------------------------------------------------------------------------------------------

/// Write marketplace `m` (folder `dir`) listing `names` (plugin folders created) with `renames`.
fn catalog_m(dir: &Path, names: &[&str], renames: Option<Value>) {
    let entries: Vec<Value> = names
        .iter()
        .map(|n| {
            plugin(&dir.join("plugins").join(n), n, Some("1.0.0"));
            json!({"name": n, "source": format!("./plugins/{n}")})
        })
        .collect();
    let mut catalog = json!({"name": "m", "owner": {"name": "Test"}, "plugins": entries});
    if let Some(r) = renames {
        catalog["renames"] = r;
    }
    write(
        &dir.join(".claude-plugin/marketplace.json"),
        &catalog.to_string(),
    );
}

#[test]
fn renames_are_followed_in_user_project_and_local_settings_never_managed() {
    let env = Env::new();
    let dir = env.fx.join("m");
    catalog_m(&dir, &["old1", "gone", "keep"], None);
    env.run(&["marketplace", "add", s(&dir)]).ok();
    env.run(&["install", "old1@m"]).ok();
    env.run(&["install", "gone@m"]).ok();
    env.run(&["install", "keep@m", "--scope", "project"]).ok();
    // Project: old1 disabled here (the value must survive the rename).
    env.run(&["disable", "old1@m", "--scope", "project"]).ok();
    // Local: already names the new id (kept), and the old one (dropped); keys of other tools kept.
    write(
        &local_settings(&env),
        "{\n  \"model\": \"opus\",\n  \"enabledPlugins\": {\n    \"new1@m\": false,\n    \"old1@m\": true\n  }\n}\n",
    );
    // User: per-plugin options move with the key; broken chains and other marketplaces stay.
    let user = user_settings(&env);
    let mut u = env.read_json(&user);
    u["enabledPlugins"]["loop-a@m"] = json!(true);
    u["enabledPlugins"]["lost@m"] = json!(true);
    u["enabledPlugins"]["other@x"] = json!(true);
    u["pluginConfigs"] = json!({"old1@m": {"options": {"k": 1}}});
    write(&user, &settings_bytes(&u));
    let managed_file = env.write_managed(None, &json!({"enabledPlugins": {"old1@m": true}}));
    let managed_before = read(&managed_file);
    let installed_before = read(&env.plugins().join("installed_plugins.json"));

    // The catalog renames old1 → mid → new1 and withdraws gone.
    fs::rename(dir.join("plugins/old1"), dir.join("plugins/new1")).unwrap();
    catalog_m(
        &dir,
        &["new1", "keep"],
        Some(json!({
            "old1": "mid", "mid": "new1", "gone": null,
            "loop-a": "loop-b", "loop-b": "loop-a", "lost": "nowhere"
        })),
    );
    let r = env.run(&["marketplace", "update", "m"]).ok();
    let (us, ps, ls) = (
        settings::describe("user", &user),
        settings::describe("project", &project_settings(&env)),
        settings::describe("local", &local_settings(&env)),
    );
    assert_eq!(
        r.stdout,
        format!(
            "Updating marketplace: m...Validating local marketplace\n✔ Successfully updated marketplace: m\n\
             old1@m → new1@m in {us}: Renamed to \"new1\" in the \"m\" marketplace\n\
             gone@m dropped from {us}: Removed from the \"m\" marketplace\n\
             old1@m → new1@m in {ps}: Renamed to \"new1\" in the \"m\" marketplace\n\
             old1@m → new1@m in {ls}: Renamed to \"new1\" in the \"m\" marketplace (new1@m was already set there and keeps its value)\n"
        )
    );
    let tail =
        "left unchanged. A renames target must be a name in plugins[], a key in renames, or null";
    assert_eq!(
        r.stderr,
        format!(
            "warning: {us}: Plugin \"loop-a@m\" has a renames entry but it does not resolve (cycle: loop-a → loop-b → loop-a); {tail}\n\
             warning: {us}: Plugin \"lost@m\" has a renames entry but it does not resolve (target-missing: lost → nowhere); {tail}\n"
        )
    );

    let mut expected_user = u.clone();
    expected_user["enabledPlugins"] = json!({
        "loop-a@m": true, "lost@m": true, "other@x": true, "new1@m": true
    });
    expected_user["pluginConfigs"] = json!({"new1@m": {"options": {"k": 1}}});
    assert_eq!(read(&user), settings_bytes(&expected_user));
    assert_eq!(
        read(&project_settings(&env)),
        settings_bytes(&json!({"enabledPlugins": {"keep@m": true, "new1@m": false}}))
    );
    assert_eq!(
        read(&local_settings(&env)),
        "{\n  \"model\": \"opus\",\n  \"enabledPlugins\": {\n    \"new1@m\": false\n  }\n}\n"
    );
    assert_eq!(read(&managed_file), managed_before);
    // Install records keep the old ids (a reinstall under the new name is the user's call).
    assert_eq!(
        read(&env.plugins().join("installed_plugins.json")),
        installed_before
    );

    // Following again changes no settings file; the broken chains are reported again.
    let files = [user.clone(), project_settings(&env), local_settings(&env)];
    let before: Vec<String> = files.iter().map(|f| read(f)).collect();
    let r = env.run(&["marketplace", "update", "m", "--json"]).ok();
    assert_eq!(before, files.iter().map(|f| read(f)).collect::<Vec<_>>());
    let v = r.json();
    assert_eq!(
        v["renames"],
        json!([
            {"pluginId": "loop-a@m", "newPluginId": null, "scope": "user", "file": s(&user),
             "outcome": "unresolved",
             "message": format!("Plugin \"loop-a@m\" has a renames entry but it does not resolve (cycle: loop-a → loop-b → loop-a); {tail}")},
            {"pluginId": "lost@m", "newPluginId": null, "scope": "user", "file": s(&user),
             "outcome": "unresolved",
             "message": format!("Plugin \"lost@m\" has a renames entry but it does not resolve (target-missing: lost → nowhere); {tail}")}
        ])
    );
}

/// `settings::describe` as the binary prints it.
mod settings {
    use std::path::Path;
    pub fn describe(scope: &str, path: &Path) -> String {
        format!("{scope} settings ({})", path.display())
    }
}

#[test]
fn marketplace_add_follows_renames_and_reports_them_in_json() {
    let env = Env::new();
    let dir = env.fx.join("m");
    catalog_m(&dir, &["new1"], Some(json!({"old1": "new1", "gone": null})));
    write(
        &project_settings(&env),
        "{\"enabledPlugins\":{\"old1@m\":true,\"gone@m\":false,\"new1@other\":true}}",
    );
    let r = env.run(&["marketplace", "add", s(&dir), "--json"]).ok();
    let project = project_settings(&env);
    assert_eq!(
        r.json()["renames"],
        json!([
            {"pluginId": "old1@m", "newPluginId": "new1@m", "scope": "project", "file": s(&project),
             "outcome": "renamed", "message": "Renamed to \"new1\" in the \"m\" marketplace"},
            {"pluginId": "gone@m", "newPluginId": null, "scope": "project", "file": s(&project),
             "outcome": "removed", "message": "Removed from the \"m\" marketplace"}
        ])
    );
    assert_eq!(
        read(&project),
        settings_bytes(&json!({"enabledPlugins": {"new1@other": true, "new1@m": true}}))
    );
    // No renames in the catalog: no key in the JSON line.
    let r = env.run(&["marketplace", "update", "m", "--json"]).ok();
    assert!(r.json().get("renames").is_none(), "{}", r.stdout);
}

#[test]
fn a_renames_that_is_not_an_object_is_reported_and_nothing_changes() {
    let env = Env::new();
    let dir = env.fx.join("m");
    catalog_m(&dir, &["new1"], Some(json!(["old1", "new1"])));
    write(
        &user_settings(&env),
        "{\n  \"enabledPlugins\": {\n    \"old1@m\": true\n  }\n}\n",
    );
    let r = env.run(&["marketplace", "add", s(&dir)]).ok();
    assert_eq!(
        r.stderr,
        "warning: Marketplace \"m\": renames: Invalid input: expected object, received array; its renames were not followed\n"
    );
    assert_eq!(
        env.read_json(&user_settings(&env))["enabledPlugins"],
        json!({"old1@m": true})
    );
}

#[test]
fn an_unreadable_settings_file_stops_renames_but_not_the_update() {
    let env = Env::new();
    let dir = env.fx.join("m");
    catalog_m(&dir, &["new1"], None);
    env.run(&["marketplace", "add", s(&dir)]).ok();
    write(
        &user_settings(&env),
        &read(&user_settings(&env)).replace(
            "\"extraKnownMarketplaces\"",
            "\"enabledPlugins\": {\"old1@m\": true},\n  \"extraKnownMarketplaces\"",
        ),
    );
    let local = local_settings(&env);
    write(&local, "{ not json");
    catalog_m(&dir, &["new1"], Some(json!({"old1": "new1"})));
    let user_before = read(&user_settings(&env));
    let r = env.run(&["marketplace", "update", "m"]).ok();
    assert_eq!(
        r.stderr,
        format!(
            "warning: renames were not followed: Failed to update settings: {}:1:3: invalid JSON: key must be a string. The file was left unchanged; fix it (or move it away) and try again\n",
            local.display()
        )
    );
    assert_eq!(read(&user_settings(&env)), user_before);
    assert_eq!(read(&local), "{ not json");
}

#[test]
fn plugin_update_and_outdated_refresh_catalogs_without_following_renames() {
    let env = Env::new();
    let dir = env.fx.join("m");
    catalog_m(&dir, &["keep"], None);
    env.run(&["marketplace", "add", s(&dir)]).ok();
    env.run(&["install", "keep@m"]).ok();
    let user = user_settings(&env);
    let mut u = env.read_json(&user);
    u["enabledPlugins"]["old1@m"] = json!(true);
    write(&user, &settings_bytes(&u));
    catalog_m(&dir, &["keep", "new1"], Some(json!({"old1": "new1"})));
    let before = read(&user);
    for args in [&["outdated"][..], &["update", "--all"][..]] {
        age_marketplaces(&env);
        let r = env.run(args).ok();
        assert!(!r.stdout.contains("Renamed"), "{args:?}: {}", r.stdout);
        assert_eq!(read(&user), before, "{args:?}");
    }
    let r = env.run(&["marketplace", "update", "m"]).ok();
    assert!(
        r.stdout.contains("old1@m → new1@m in user settings"),
        "{}",
        r.stdout
    );
    assert_eq!(
        env.read_json(&user)["enabledPlugins"],
        json!({"keep@m": true, "new1@m": true})
    );
}
