//! `plugin resolve`: golden tests. Each folder of `testdata/resolve/` holds a marketplace
//! (`market/`, named `m`), a `case.json` (what to install, what to resolve, extra arguments,
//! user and managed settings, a config dir) and the expected output (`expected.json`, temp paths written `<TMP>`).
//! The real binary installs the plugin into a throw-away HOME and resolves it with `--json`.
//! `UPDATE_GOLDEN=1 cargo test --test resolve` rewrites the expected files (review the diff).
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/resolve")
        .join(name)
}

/// What a case did: the environment, its config dir and the resolve run.
struct Outcome {
    env: Env,
    config: PathBuf,
    run: Run,
    tmp: String,
}

/// Run the case `name`: install as `case.json` says, snapshot the plugin cache, resolve, check
/// the cache is byte-identical afterwards, and return the run.
fn run_case(name: &str, json_flag: bool) -> Outcome {
    let dir = case_dir(name);
    let case: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("case.json")).expect("case.json"))
            .expect("case.json is JSON");
    let env = Env::new();
    // The form the product prints (C:\… rather than \\?\C:\… on Windows).
    let tmp = plugin::fsutil::canonicalize(env.tmp.path())
        .expect("tmp")
        .display()
        .to_string();
    let config = match case["configDir"].as_str() {
        Some(c) => plugin::fsutil::canonicalize(env.tmp.path())
            .expect("tmp")
            .join(c),
        None => env.claude(),
    };
    let cmd = |args: &[&str]| {
        let mut c = env.command(args);
        c.env("CLAUDE_CONFIG_DIR", &config);
        common::run(&mut c)
    };
    if let Some(settings) = case.get("settings") {
        write(
            &config.join("settings.json"),
            &serde_json::to_string_pretty(settings).expect("JSON"),
        );
    }
    if let Some(managed) = case.get("managed") {
        env.write_managed(None, managed);
    }
    for d in case["mkdirs"].as_array().into_iter().flatten() {
        fs::create_dir_all(env.tmp.path().join(d.as_str().expect("mkdirs: strings")))
            .expect("mkdir");
    }
    let market = env.fx.join("market");
    copy_tree(&dir.join("market"), &market);
    cmd(&["marketplace", "add", market.to_str().expect("utf-8")]).ok();
    if let Some(p) = case["install"].as_str() {
        cmd(&["install", p]).ok();
    }
    let cache = config.join("plugins/cache");
    let before = cache.exists().then(|| tree_with_content(&cache));

    let mut args: Vec<String> = vec![
        "resolve".into(),
        case["resolve"].as_str().expect("resolve").into(),
    ];
    for a in case["args"].as_array().into_iter().flatten() {
        args.push(a.as_str().expect("args: strings").replace("<TMP>", &tmp));
    }
    if json_flag {
        args.push("--json".into());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cmd(&argv);
    let expected_exit = case["exit"].as_i64().unwrap_or(0) as i32;
    assert_eq!(
        run.code, expected_exit,
        "{name}: exit code\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    // Substitution happens in memory: installed files stay byte-identical.
    assert_eq!(
        before,
        cache.exists().then(|| tree_with_content(&cache)),
        "{name}: resolve changed the plugin cache"
    );
    Outcome {
        env,
        config,
        run,
        tmp,
    }
}

/// `s` as it reads inside a JSON string (`\` doubled).
fn json_text(s: &str) -> String {
    let quoted = Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Windows: `\` becomes `/` in every string holding a temp path, so one `expected.json` (written
/// with `/`) serves both OSes; strings without `<TMP>` (a catalog's own paths) stay as they are.
fn slashes_in_tmp_paths(v: &mut Value) {
    match v {
        Value::String(s) if s.contains("<TMP>") => *s = s.replace('\\', "/"),
        Value::Array(items) => items.iter_mut().for_each(slashes_in_tmp_paths),
        Value::Object(map) => map.values_mut().for_each(slashes_in_tmp_paths),
        _ => {}
    }
}

/// Compare the `--json` output of case `name` with its `expected.json` (or rewrite it).
fn golden(name: &str) -> Outcome {
    let o = run_case(name, true);
    let text = o.run.stdout.replace(&json_text(&o.tmp), "<TMP>");
    let mut got: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{name}: stdout is not JSON ({e}): {}", o.run.stdout));
    if cfg!(windows) {
        slashes_in_tmp_paths(&mut got);
    }
    let expected_file = case_dir(name).join("expected.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let pretty = serde_json::to_string_pretty(&got).expect("JSON") + "\n";
        fs::write(&expected_file, pretty).expect("write expected.json");
    }
    let expected: Value =
        serde_json::from_str(&fs::read_to_string(&expected_file).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (UPDATE_GOLDEN=1 writes it)",
                expected_file.display()
            )
        }))
        .expect("expected.json is JSON");
    assert_eq!(
        got,
        expected,
        "{name}: output differs from {}\ngot:\n{}",
        expected_file.display(),
        serde_json::to_string_pretty(&got).unwrap_or_default()
    );
    o
}

fn data_dir(o: &Outcome) -> PathBuf {
    o.config.join("plugins/data/p-m")
}

#[test]
fn every_case_folder_has_a_test() {
    let mut names: Vec<String> =
        fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/resolve"))
            .expect("testdata/resolve")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "conflicting-manifests",
            "entry-as-manifest",
            "escaping-paths",
            "hooks-not-json",
            "managed-user-config",
            "mcp-lsp-user-config",
            "monitors-key-replaces-default",
            "not-installed",
            "path-with-spaces",
            "settings-themes-workflows-channels",
            "strict-false",
            "strict-true",
        ]
    );
}

#[test]
fn strict_true_appends_entry_components_and_replaces_hook_matchers_per_event() {
    let o = golden("strict-true");
    let v: Value = o.run.json();
    let hooks = &v["components"]["hooks"];
    // The entry's PreToolUse matchers replaced the manifest's; SessionStart (manifest only) and
    // the manifest's inline PostToolUse stay.
    assert_eq!(hooks["PreToolUse"][0]["matcher"], "Edit");
    assert_eq!(hooks["PreToolUse"][0]["from"], "entry");
    assert_eq!(hooks["PreToolUse"].as_array().map(Vec::len), Some(1));
    assert_eq!(hooks["SessionStart"][0]["from"], "default");
    assert_eq!(hooks["PostToolUse"][0]["from"], "manifest");
    assert!(
        !data_dir(&o).exists(),
        "no substitution used ${{CLAUDE_PLUGIN_DATA}}"
    );
}

#[test]
fn strict_false_entry_is_the_whole_definition() {
    let o = golden("strict-false");
    assert!(data_dir(&o).is_dir(), "created on first use");
}

#[test]
fn conflicting_manifests_are_refused() {
    let o = golden("conflicting-manifests");
    assert!(
        o.run.stderr.contains("Plugin p has conflicting manifests: both plugin.json and marketplace entry specify components"),
        "{}",
        o.run.stderr
    );
    let human = run_case("conflicting-manifests", false);
    assert!(human.run.stdout.is_empty(), "{}", human.run.stdout);
}

#[test]
fn entry_is_the_manifest_without_plugin_json() {
    let o = golden("entry-as-manifest");
    assert!(
        data_dir(&o).is_dir(),
        "the monitor command used ${{CLAUDE_PLUGIN_DATA}}"
    );
}

#[test]
fn mcp_and_lsp_servers_with_user_config() {
    let o = golden("mcp-lsp-user-config");
    let v = o.run.json();
    assert_eq!(v["env"]["hooks"]["CLAUDE_PLUGIN_OPTION_REGION"], "eu-west");
    assert_eq!(v["env"]["hooks"]["CLAUDE_PLUGIN_OPTION_EXTRA"], "true");
}

#[test]
fn path_with_spaces_warns_about_unquoted_variables() {
    let o = golden("path-with-spaces");
    let v = o.run.json();
    let root = v["root"].as_str().expect("root");
    assert!(root.contains("config dir"), "{root}");
    let hooks = &v["components"]["hooks"]["PreToolUse"][0]["hooks"];
    assert_eq!(
        hooks[0]["command"],
        json!(format!("\"{root}/hooks/ok.sh\" --quoted"))
    );
    // Exec form: one argument, spaces and all.
    assert_eq!(
        hooks[2]["args"][0],
        json!(format!("{root}/in args is one word"))
    );
}

#[test]
fn escaping_and_missing_paths_are_skipped() {
    golden("escaping-paths");
}

#[test]
fn hooks_file_that_is_not_json_names_line_and_column() {
    let o = golden("hooks-not-json");
    let human = run_case("hooks-not-json", false);
    assert!(
        human
            .run
            .stderr
            .contains(&native("/hooks/hooks.json:3:20: invalid JSON: ")),
        "{}",
        human.run.stderr
    );
    assert!(
        human.run.stdout.contains("still-loads"),
        "{}",
        human.run.stdout
    );
    drop(o);
}

#[test]
fn not_installed_suggests_install() {
    golden("not-installed");
    let human = run_case("not-installed", false);
    assert_eq!(
        human.run.stderr.trim(),
        "✘ Failed to resolve plugin \"p@m\": Plugin \"p@m\" is not installed. Install it with `plugin install p@m`, then resolve it."
    );
    assert!(!human.env.plugins().join("data").exists());
}

#[test]
fn human_output_lists_resolved_commands() {
    let o = run_case("strict-true", false);
    let root = join(&o.config, "plugins/cache/m/p/1.0.0");
    let out = &o.run.stdout;
    // A folder marketplace's plugin: Claude Code loads the marketplace's folder in place, which
    // `plugin list` shows under "Read from"; resolve says the same.
    assert!(
        out.contains(&format!(
            "  root     {}  (the installed copy)\n  loads    {}  (Claude Code reads this marketplace folder in place; `plugin list`: \"Read from\")\n",
            root.display(),
            join(&o.env.fx, "market/p").display()
        )),
        "{out}"
    );
    let list = o.env.run(&["list"]).stdout;
    assert!(
        list.contains(&format!(
            "Read from: {}\n",
            join(&o.env.fx, "market/p").display()
        )),
        "{list}"
    );
    assert!(
        out.starts_with(
            "p@m 1.0.0 (user scope), defined by plugin.json + marketplace entry (strict)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "    sh: \"{}/scripts/entry-guard.sh\"\n",
            root.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  p:build  {}  uses CLAUDE_PLUGIN_ROOT\n",
            join(&root, "cmds/build.md").display()
        )),
        "{out}"
    );
    assert!(
        o.run.stderr.contains(
            "warning: Default commands/ folder is ignored because the manifest sets \"commands\""
        ),
        "{}",
        o.run.stderr
    );
}

#[test]
fn a_link_out_of_the_plugin_root_escapes() {
    let o = run_case("escaping-paths", true);
    if no_links(&o.env) {
        return;
    }
    let root = join(&o.config, "plugins/cache/m/p/1.0.0");
    let outside = o.env.fx.join("outside.md");
    write(&outside, "# outside\n");
    plugin::platform::symlink(&outside, root.join("linked.md")).expect("symlink");
    plugin::platform::symlink("ok.md", root.join("inside.md")).expect("symlink");
    write(
        &root.join(".claude-plugin/plugin.json"),
        r#"{"name":"p","version":"1.0.0","commands":["./linked.md","./inside.md"]}"#,
    );
    let mut c = o.env.command(&["resolve", "p@m", "--json"]);
    c.env("CLAUDE_CONFIG_DIR", &o.config);
    let v = common::run(&mut c).ok().json();
    let names: Vec<&str> = (v["components"]["commands"]
        .as_array()
        .expect("commands")
        .iter())
    .filter_map(|c| c["name"].as_str())
    .collect();
    assert_eq!(names, ["inside"]);
    assert_eq!(
        v["warnings"][0]["message"],
        "commands path escapes plugin directory: ./linked.md; skipped"
    );
}

#[test]
fn managed_plugin_configs_win_over_the_users_key_by_key() {
    let o = golden("managed-user-config");
    let v = o.run.json();
    let headers = &v["components"]["mcpServers"]["api"]["config"]["headers"];
    assert_eq!(headers["X-Region"], "us-east", "managed wins");
    assert_eq!(
        headers["X-Level"], "3",
        "the user's value where managed sets none"
    );
    assert_eq!(headers["X-Mode"], "fast", "the declared default");
    assert_eq!(
        v["components"]["mcpServers"]["api"]["config"]["url"],
        "https://mcp.corp.example/mcp"
    );
    assert_eq!(v["userConfig"]["region"]["from"], "managed");
    assert_eq!(v["userConfig"]["level"]["from"], "user");
    assert_eq!(v["userConfig"]["mode"]["from"], "default");
    let human = run_case("managed-user-config", false);
    let out = &human.run.stdout;
    assert!(
        out.contains("user config\n  region = us-east (managed settings)\n  endpoint = https://mcp.corp.example (managed settings)\n  level = 3 (user settings)\n  mode = fast (default)\n"),
        "{out}"
    );
}

#[test]
fn project_plugin_configs_are_not_read() {
    let o = run_case("managed-user-config", true);
    // Claude Code ignores pluginConfigs of project and local settings since 2.1.207.
    write(
        &o.env.cwd.join(".claude/settings.json"),
        r#"{"pluginConfigs": {"p@m": {"options": {"level": 9, "mode": "slow"}}}}"#,
    );
    let mut c = o.env.command(&["resolve", "p@m", "--json"]);
    c.env("CLAUDE_CONFIG_DIR", &o.config);
    let v = common::run(&mut c).ok().json();
    assert_eq!(v["userConfig"]["level"]["value"], 3);
    assert_eq!(v["userConfig"]["mode"]["value"], "fast");
}

#[test]
fn monitors_key_replaces_the_default_file() {
    let o = golden("monitors-key-replaces-default");
    let v = o.run.json();
    let monitors = v["components"]["monitors"].as_array().expect("monitors");
    assert_eq!(monitors.len(), 1);
    assert_eq!(monitors[0]["config"]["name"], "build");
    assert_eq!(monitors[0]["from"], "manifest");
    assert_eq!(v["warnings"][0]["kind"], "deprecated");
}

#[test]
fn settings_themes_workflows_and_channels() {
    let o = golden("settings-themes-workflows-channels");
    let v = o.run.json();
    let c = &v["components"];
    // settings.json wins over the manifest's `settings`; only two keys take effect.
    assert_eq!(c["settings"]["from"], "default");
    assert_eq!(c["settings"]["config"]["agent"], "reviewer");
    assert!(c["settings"]["config"].get("permissions").is_none());
    let names = |k: &str| -> Vec<String> {
        c[k].as_array()
            .expect("array")
            .iter()
            .map(|x| x["name"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        names("themes"),
        ["midnight"],
        "experimental.themes replaces themes/"
    );
    // Only top-level `.js` files are workflows (not ci/check.yaml, notes.md, .notes).
    assert_eq!(names("workflows"), ["release"]);
    let channels = c["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0]["config"]["server"], "chat");
    let human = run_case("settings-themes-workflows-channels", false);
    assert!(
        human.run.stdout.contains("channels\n  chat (Team chat)\n"),
        "{}",
        human.run.stdout
    );
    assert!(
        human.run.stdout.contains("settings (")
            && human.run.stdout.contains("  agent: \"reviewer\"\n"),
        "{}",
        human.run.stdout
    );
}

/// `details` prints what Claude Code 2.1.328's `plugin details` printed for the same plugins
/// (testdata/details/*.claude-code.txt; `scripts/details-diff.sh` repeats it live). The
/// per-component rows come in the order the folders list their entries, which depends on the
/// file system: they are compared as a set.
#[test]
fn details_prints_what_claude_code_prints() {
    let env = Env::new();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/details");
    let m = env.fx.join("details-market");
    copy_tree(&data.join("market"), &m);
    env.run(&["marketplace", "add", m.to_str().unwrap()]).ok();
    let split = |text: &str| -> (Vec<String>, Vec<String>) {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let start = lines
            .iter()
            .position(|l| l.starts_with("  component "))
            .map(|i| i + 1);
        let end = start.and_then(|s| lines[s..].iter().position(String::is_empty).map(|n| s + n));
        match (start, end) {
            (Some(s), Some(e)) => {
                let mut rows = lines[s..e].to_vec();
                rows.sort();
                let mut rest = lines[..s].to_vec();
                rest.extend_from_slice(&lines[e..]);
                (rest, rows)
            }
            _ => (lines, Vec::new()),
        }
    };
    for p in ["toolkit", "bare"] {
        env.run(&["install", &format!("{p}@dm")]).ok();
        let ours = env.run(&["details", &format!("{p}@dm")]).ok().stdout;
        let want = fs::read_to_string(data.join(format!("{p}.claude-code.txt"))).unwrap();
        assert_eq!(split(&ours), split(&want), "{p}:\n{ours}");
    }
    // The JSON report: the same figures, per component.
    let v = env.run(&["details", "toolkit@dm", "--json"]).ok().json();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["alwaysOnTokens"], 78);
    assert_eq!(v["displayName"], "Test Toolkit");
    let long = v["components"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "long")
        .unwrap();
    assert_eq!(long["tokens"]["onInvoke"], 1875);
    assert_eq!(
        v["components"]["hooks"],
        serde_json::json!(["SessionStart", "Stop"])
    );
    // Not installed: the ✘ line and exit 1.
    let r = env.run(&["details", "nothere@dm"]).fails();
    assert!(r.stderr.starts_with("✘ "), "{}", r.stderr);
}
