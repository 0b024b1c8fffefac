//! `plugin validate <path> [--json] [--strict]`: every check on the fixtures of
//! `testdata/validate/` (see its README), human and JSON output, exit codes, `--strict`, and a
//! no-crash pass over the copied real-world corpus (`testdata/corpus/`).
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::{Env, Run, join, write};
use serde_json::Value;

/// `testdata/validate/<rel>` as the product prints it: the real path of the fixture root (`Z:\…`
/// under wine, where `CARGO_MANIFEST_DIR` reads `/work/…`), `rel` joined per component.
fn fixture(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join("validate");
    let root = plugin::fsutil::canonicalize(&root).expect("testdata/validate");
    join(&root, rel)
}

fn validate(env: &Env, path: &Path, extra: &[&str]) -> Run {
    let p = path.to_string_lossy().into_owned();
    let mut args = vec!["validate", p.as_str()];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// `(path, code)` of every error or warning of the manifest report.
fn findings(v: &Value, severity: &str) -> Vec<(String, String)> {
    v["manifest"][severity]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_string(),
                i["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn message<'a>(v: &'a Value, severity: &str, path: &str) -> &'a str {
    v["manifest"][severity]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == path)
        .unwrap_or_else(|| panic!("no {severity} at {path}: {v:#}"))["message"]
        .as_str()
        .unwrap()
}

fn has(list: &[(String, String)], path: &str, code: &str) -> bool {
    list.iter().any(|(p, c)| p == path && c == code)
}

#[test]
fn clean_plugin_and_marketplace_pass_even_strict() {
    let env = Env::new();
    for name in ["clean-plugin", "clean-market"] {
        let r = validate(&env, &fixture(name), &["--json", "--strict"]).ok();
        let v = r.json();
        assert_eq!(v["success"], true, "{v:#}");
        assert_eq!(v["strict"], true);
        assert_eq!(v["manifest"]["errors"], serde_json::json!([]));
        assert_eq!(v["manifest"]["warnings"], serde_json::json!([]));
        assert_eq!(v["contents"], serde_json::json!([]));
        let r = validate(&env, &fixture(name), &[]).ok();
        assert!(r.stdout.ends_with("✔ Validation passed\n"), "{}", r.stdout);
    }
}

#[test]
fn json_report_has_claude_codes_shape() {
    let env = Env::new();
    let v = validate(&env, &fixture("clean-plugin"), &["--json"])
        .ok()
        .json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "success",
            "strict",
            "target",
            "manifest",
            "contents",
            "provides",
            "hosts",
            "advice",
            "directory"
        ]
    );
    let target = fixture("clean-plugin/.claude-plugin/plugin.json");
    assert_eq!(v["target"], target.to_string_lossy().as_ref());
    assert_eq!(v["manifest"]["file"], v["target"]);
    assert_eq!(v["manifest"]["type"], "plugin");
    let mk: Vec<&str> = v["manifest"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        mk,
        [
            "file",
            "type",
            "errors",
            "warnings",
            "notes",
            "gatingHooks",
            "wasm",
            "modules"
        ]
    );
}

#[test]
fn plugin_warnings_pass_but_fail_strict() {
    let env = Env::new();
    let v = validate(&env, &fixture("warn-plugin"), &["--json"])
        .ok()
        .json();
    assert_eq!(v["success"], true);
    let w = findings(&v, "warnings");
    for (path, code) in [
        ("name", "name-not-kebab"),
        ("version", "missing-version"),
        ("description", "missing-description"),
        ("author", "missing-author"),
        ("descripton", "unknown-field"),
        ("frobnicate", "unknown-field"),
        ("category", "misplaced-field"),
    ] {
        assert!(has(&w, path, code), "{path} {code}: {w:?}");
    }
    assert_eq!(
        message(&v, "warnings", "descripton"),
        "Unknown field 'descripton' — did you mean 'description'? Claude Code ignores unrecognized fields at load time, so this field has no effect."
    );
    assert_eq!(
        message(&v, "warnings", "frobnicate"),
        "Unknown field 'frobnicate'. Claude Code ignores it at load time."
    );
    assert_eq!(
        message(&v, "warnings", "name"),
        "Plugin name \"WarnPlugin\" is not kebab-case. Claude Code accepts it, but the Claude.ai marketplace sync requires kebab-case (lowercase letters, digits, and hyphens only, e.g., \"my-plugin\")."
    );
    // Content files: a command without frontmatter, a root CLAUDE.md.
    let contents: Vec<(&str, &str)> = v["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap(),
                c["warnings"][0]["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(contents, [("plugin", "root"), ("command", "frontmatter")]);

    let strict = validate(&env, &fixture("warn-plugin"), &["--json", "--strict"])
        .fails()
        .json();
    assert_eq!(strict["success"], false);
    let human = validate(&env, &fixture("warn-plugin"), &["--strict"]).fails();
    assert!(
        human
            .stdout
            .ends_with("✘ Validation failed (--strict treats warnings as errors)\n")
    );
    let human = validate(&env, &fixture("warn-plugin"), &[]).ok();
    assert!(
        human
            .stdout
            .contains("⚠ Found 7 warnings:\n\n  ❯ name: Plugin name")
    );
    assert!(
        human
            .stdout
            .ends_with("✔ Validation passed with warnings\n")
    );
}

#[test]
fn plugin_errors_and_component_paths() {
    let env = Env::new();
    let r = validate(&env, &fixture("bad-plugin"), &["--json"]).fails();
    let v = r.json();
    assert_eq!(v["success"], false);
    let e = findings(&v, "errors");
    for (path, code) in [
        ("version", "schema"),
        ("commands", "schema"),
        ("commands[1]", "path-not-found"),
        ("commands[2]", "path-escapes"),
        ("commands[3]", "path-not-found"),
        ("agents[0]", "path-escapes"),
        ("mcpServers", "path-not-found"),
        ("experimental.monitors", "schema"),
    ] {
        assert!(has(&e, path, code), "{path} {code}: {e:?}");
    }
    // The existing path and the existing hooks file are fine.
    assert!(!e.iter().any(|(p, _)| p == "commands[0]" || p == "hooks[0]"));
    assert_eq!(
        message(&v, "errors", "version"),
        "Invalid input: expected string, received number"
    );
    assert_eq!(
        message(&v, "errors", "commands[2]"),
        "Path contains \"..\" which could be a path traversal attempt: ./../outside.md"
    );
    assert_eq!(
        message(&v, "errors", "commands[3]"),
        "Path not found: ./missing.md. The runtime loader will report this as a load failure."
    );
    // Claude Code's schema refuses "commands/b.md" (no "./"; with "./a.md" beside it no
    // alternative fits), and its path check still looks for it.
    assert_eq!(message(&v, "errors", "commands"), "Invalid input");
    assert_eq!(
        message(&v, "errors", "commands[1]"),
        "Path not found: commands/b.md. The runtime loader will report this as a load failure."
    );
    // hooks.json that is not JSON is a content error.
    let hooks = &v["contents"][0];
    assert_eq!(hooks["type"], "hooks");
    assert_eq!(hooks["errors"][0]["path"], "json");
    assert!(
        hooks["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON syntax: ")
    );
    let human = validate(&env, &fixture("bad-plugin"), &[]).fails();
    assert!(human.stdout.starts_with(&format!(
        "Validating plugin manifest: {}\n\n✘ Found 9 errors:\n\n  ❯ version: Invalid input: expected string, received number\n",
        fixture("bad-plugin/.claude-plugin/plugin.json").display()
    )));
    assert!(human.stdout.contains("Validating hooks: "));
    assert!(human.stdout.ends_with("✘ Validation failed\n"));
}

#[test]
fn unreadable_json_and_missing_manifests() {
    let env = Env::new();
    let v = validate(&env, &fixture("badjson-plugin"), &["--json"])
        .fails()
        .json();
    assert_eq!(
        findings(&v, "errors"),
        [("json".into(), "json-syntax".into())]
    );
    let v = validate(&env, &fixture("badjson-market"), &["--json"])
        .fails()
        .json();
    assert_eq!(v["manifest"]["type"], "marketplace");
    assert_eq!(
        findings(&v, "errors"),
        [("json".into(), "json-syntax".into())]
    );

    let v = validate(&env, &fixture("bare-plugin"), &["--json"])
        .ok()
        .json();
    assert_eq!(v["manifest"], Value::Null);
    assert_eq!(v["success"], true);

    let v = validate(&env, &fixture("not-a-plugin"), &["--json"])
        .fails()
        .json();
    assert_eq!(
        message(&v, "errors", "directory"),
        "No manifest found in directory. Expected .claude-plugin/marketplace.json or .claude-plugin/plugin.json"
    );
}

#[test]
fn unreadable_path_exits_2() {
    let env = Env::new();
    let gone = env.fx.join("nope");
    let r = validate(&env, &gone, &["--json"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let v = r.json();
    assert_eq!(v["success"], false);
    assert_eq!(
        message(&v, "errors", "file"),
        format!(
            "Path does not exist: {}; name a marketplace folder, a marketplace.json file or a plugin folder",
            gone.display()
        )
    );
    let r = validate(&env, &gone, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains(&format!(
            "  ❯ file: Path does not exist: {};",
            gone.display()
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("✘ Validation could not run\n"));
}

#[test]
fn marketplace_checks_claude_code_misses() {
    let env = Env::new();
    let v = validate(&env, &fixture("market"), &["--json"])
        .fails()
        .json();
    assert_eq!(v["manifest"]["type"], "marketplace");
    let e = findings(&v, "errors");
    let w = findings(&v, "warnings");
    for (path, code) in [
        ("plugins[4].name", "duplicate-name"),
        ("plugins[5].source", "source-missing"),
        ("plugins[6].source", "source-escapes"),
        ("plugins.10.source", "source"),
        ("plugins.12.name", "name"),
        ("plugins[12].name", "name"),
        ("plugins[3].strict", "conflicting-manifests"),
        ("renames.broken", "renames"),
    ] {
        assert!(has(&e, path, code), "error {path} {code}: {e:?}");
    }
    for (path, code) in [
        ("name", "reserved-name"),
        ("descriptoin", "unknown-field"),
        ("plugins[1].name", "name-mismatch"),
        ("plugins[1].version", "version-mismatch"),
        ("plugins[2].strict", "strict-inline-components"),
        ("plugins[7].source.version", "unpinned-package"),
        ("plugins[9].source", "pip-source"),
        ("plugins[9].source.version", "unpinned-package"),
        ("plugins[11].tgas", "unknown-field"),
    ] {
        assert!(has(&w, path, code), "warning {path} {code}: {w:?}");
    }
    // Pinned npm and the valid renames are fine; the clean entry has no findings at all.
    assert!(!has(&w, "plugins[8].source.version", "unpinned-package"));
    assert!(!e.iter().any(|(p, _)| p.starts_with("renames.old-")));
    assert!(
        !e.iter()
            .chain(&w)
            .any(|(p, _)| p.starts_with("plugins[0]") || p.starts_with("plugins.0"))
    );
    assert_eq!(
        message(&v, "errors", "plugins[4].name"),
        "Duplicate plugin name \"good\" found in marketplace (first at plugins[0])"
    );
    assert_eq!(
        message(&v, "warnings", "plugins[1].version"),
        "Entry declares version \"1.0.0\" but plugins/renamed/.claude-plugin/plugin.json says \"2.0.0\". At install time, plugin.json wins (calculatePluginVersion precedence) — the entry version is silently ignored. Update this entry to \"2.0.0\" to match."
    );
    assert_eq!(
        message(&v, "errors", "plugins[5].source"),
        "Plugin directory not found at path: ./plugins/missing. Check that the marketplace entry has the correct path."
    );
    assert!(
        message(&v, "errors", "plugins[6].source")
            .starts_with("Path contains \"..\": ./../elsewhere.")
    );
    // Duplicates are reported although other schema errors exist (Claude Code hides them then).
    assert!(has(&e, "plugins.10.source", "source"));
}

#[test]
fn marketplace_file_and_plugin_json_paths_are_accepted() {
    let env = Env::new();
    let index = fixture("clean-market/.claude-plugin/marketplace.json");
    let v = validate(&env, &index, &["--json"]).ok().json();
    assert_eq!(v["target"], index.to_string_lossy().as_ref());
    let manifest = fixture("clean-plugin/.claude-plugin/plugin.json");
    let v = validate(&env, &manifest, &["--json"]).ok().json();
    assert_eq!(v["manifest"]["type"], "plugin");
}

#[test]
fn marketplace_validates_each_plugin_folder() {
    let env = Env::new();
    let m = env.fx.join("m");
    write(
        &m.join(".claude-plugin/marketplace.json"),
        r#"{"name":"m","owner":{"name":"o"},"description":"d","plugins":[{"name":"p","source":"./p"}]}"#,
    );
    write(
        &m.join("p/.claude-plugin/plugin.json"),
        r#"{"name":"p","version":1,"description":"d","author":{"name":"a"},"agents":["./nope.md"]}"#,
    );
    write(&m.join("p/commands/c.md"), "no frontmatter\n");
    let v = validate(&env, &m, &["--json"]).fails().json();
    let e = findings(&v, "errors");
    assert!(
        has(&e, "plugins[0] plugin.json → version", "schema"),
        "{e:?}"
    );
    assert!(
        has(&e, "plugins[0] plugin.json → agents[0]", "path-not-found"),
        "{e:?}"
    );
    assert_eq!(v["contents"][0]["type"], "command");
}

/// Links the install would leave out, judged with the cache's policy: inside the marketplace is
/// fine (copied), outside it, dangling outwards and cycles are skipped.
#[cfg(unix)]
#[test]
fn symlinks_skipped_at_install_are_warned() {
    let env = Env::new();
    let m = env.fx.join("m");
    write(
        &m.join(".claude-plugin/marketplace.json"),
        r#"{"name":"m","owner":{"name":"o"},"description":"d","plugins":[{"name":"p","source":"./p"}]}"#,
    );
    let p = m.join("p");
    write(
        &p.join(".claude-plugin/plugin.json"),
        r#"{"name":"p","version":"1.0.0","description":"d","author":{"name":"a"},"commands":["./commands/out.md"]}"#,
    );
    write(&m.join("shared/s.md"), "---\ndescription: s\n---\n");
    write(&env.fx.join("outside.md"), "---\ndescription: o\n---\n");
    fs::create_dir_all(p.join("commands")).unwrap();
    symlink("../../shared/s.md", p.join("commands/shared.md")).unwrap();
    symlink(env.fx.join("outside.md"), p.join("commands/out.md")).unwrap();
    symlink("loop2", p.join("loop1")).unwrap();
    symlink("loop1", p.join("loop2")).unwrap();

    let v = validate(&env, &m, &["--json"]).fails().json();
    let w = findings(&v, "warnings");
    assert!(
        has(&w, "plugins[0] → commands/out.md", "symlink-skipped"),
        "{w:?}"
    );
    assert!(has(&w, "plugins[0] → loop1", "symlink-skipped"), "{w:?}");
    assert!(!w.iter().any(|(p, _)| p.contains("shared.md")), "{w:?}");
    // The declared command path leads out of the plugin and the marketplace.
    let e = findings(&v, "errors");
    assert!(
        has(&e, "plugins[0] plugin.json → commands[0]", "path-escapes"),
        "{e:?}"
    );

    // The plugin folder alone still knows its marketplace (it sits inside it).
    let v = validate(&env, &p, &["--json"]).fails().json();
    let w = findings(&v, "warnings");
    assert!(has(&w, "commands/out.md", "symlink-skipped"), "{w:?}");
    assert!(!w.iter().any(|(p, _)| p.contains("shared.md")), "{w:?}");
    assert!(message(&v, "warnings", "commands/out.md").ends_with(
        "would be left out when the plugin is installed: it points outside the marketplace"
    ));
}

/// Every repo-root catalog of the copied corpus validates without a crash, with exit 0 or 1.
#[test]
fn corpus_catalogs_validate_without_crashing() {
    let env = Env::new();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let mut seen = 0;
    for entry in fs::read_dir(&corpus).unwrap() {
        let dir = entry.unwrap().path();
        let index = dir.join(".claude-plugin/marketplace.json");
        if !index.is_file() {
            continue;
        }
        seen += 1;
        let r = validate(&env, &dir, &["--json"]);
        assert!(
            r.code == 0 || r.code == 1,
            "{}: exit {}\n{}",
            dir.display(),
            r.code,
            r.stderr
        );
        let v = r.json();
        assert_eq!(v["manifest"]["type"], "marketplace", "{}", dir.display());
        assert_eq!(v["success"], r.code == 0);
    }
    assert!(seen >= 25, "only {seen} catalogs");
}

#[test]
fn strict_false_entry_with_components_conflicts_with_any_plugin_json() {
    // Claude Code 2.1.328 refuses the pair even when plugin.json declares no components.
    let env = Env::new();
    let m = env.fx.join("m");
    write(
        &m.join("p/.claude-plugin/plugin.json"),
        r#"{"name":"p","version":"1.0.0","description":"d","author":{"name":"a"}}"#,
    );
    write(&m.join("p/tools/run.md"), "---\ndescription: x\n---\nrun\n");
    write(
        &m.join(".claude-plugin/marketplace.json"),
        r#"{"name":"m","owner":{"name":"t"},"description":"d","plugins":[{"name":"p","source":"./p","strict":false,"commands":["./tools/run.md"]}]}"#,
    );
    let r = validate(&env, &m, &["--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v = r.json();
    assert!(
        has(
            &findings(&v, "errors"),
            "plugins[0].strict",
            "conflicting-manifests"
        ),
        "{v}"
    );
}

#[test]
fn strict_entry_keys_are_added_or_ignored_as_resolve_does() {
    // Beside a plugin.json a strict entry's commands are added; its servers and options are
    // ignored (docs §2.5), as `plugin resolve` reports.
    let env = Env::new();
    let m = env.fx.join("m");
    write(
        &m.join("p/.claude-plugin/plugin.json"),
        r#"{"name":"p","version":"1.0.0","description":"d","author":{"name":"a"}}"#,
    );
    write(&m.join("p/tools/run.md"), "---\ndescription: x\n---\nrun\n");
    write(&m.join("p/servers.json"), r#"{"mcpServers":{}}"#);
    write(
        &m.join(".claude-plugin/marketplace.json"),
        r#"{"name":"m","owner":{"name":"t"},"description":"d","plugins":[{"name":"p","source":"./p","commands":["./tools/run.md"],"mcpServers":"./servers.json","userConfig":{}}]}"#,
    );
    let v = validate(&env, &m, &["--json"]).ok().json();
    let w = findings(&v, "warnings");
    for (path, code) in [
        ("plugins[0].strict", "strict-inline-components"),
        ("plugins[0].mcpServers", "strict-entry-ignored"),
        ("plugins[0].userConfig", "strict-entry-ignored"),
    ] {
        assert!(has(&w, path, code), "warning {path} {code}: {w:?}");
    }
    assert!(
        message(&v, "warnings", "plugins[0].strict").starts_with(
            "Entry declares components (commands) while \"strict\" is true (the default): Claude Code adds them"
        ),
        "{v:#}"
    );
    assert_eq!(
        message(&v, "warnings", "plugins[0].mcpServers"),
        "Entry sets \"mcpServers\" while \"strict\" is true (the default): Claude Code ignores it because the plugin has a plugin.json. Declare it in plugin.json, or set \"strict\": false to make the entry the whole definition."
    );
}

#[test]
fn a_folder_with_any_default_component_is_a_plugin() {
    // What `plugin resolve` loads without a manifest makes the folder a plugin here too.
    let env = Env::new();
    for (name, file) in [
        ("styles", "output-styles/terse.md"),
        ("watch", "monitors/monitors.json"),
        ("tools", "bin/run"),
    ] {
        let dir = env.fx.join(name);
        write(&dir.join(file), "[]");
        let v = validate(&env, &dir, &["--json"]).ok().json();
        assert_eq!(v["manifest"], Value::Null, "{name}: {v:#}");
    }
}

/// `(type, path, message)` of every finding of the component reports, errors then warnings.
fn contents(v: &Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for c in v["contents"].as_array().unwrap() {
        let file = c["file"].as_str().unwrap();
        // Its last two components (split on the OS's separators), written with `/`.
        let file: Vec<_> = Path::new(file).iter().rev().take(2).collect();
        let file = format!("{}/{}", file[1].display(), file[0].display());
        for sev in ["errors", "warnings"] {
            for i in c[sev].as_array().unwrap() {
                out.push((
                    file.clone(),
                    c["type"].as_str().unwrap().to_string(),
                    i["path"].as_str().unwrap().to_string(),
                    i["message"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out
}

fn manifest_plugin(dir: &Path, extra: &str) {
    write(
        &dir.join(".claude-plugin/plugin.json"),
        &format!(
            r#"{{"name":"p","version":"1.0.0","description":"d","author":{{"name":"a"}}{extra}}}"#
        ),
    );
}

#[test]
fn skill_agent_and_command_frontmatter_as_claude_code_checks_it() {
    let env = Env::new();
    let dir = env.fx.join("fm");
    manifest_plugin(&dir, "");
    write(&dir.join("skills/bare/SKILL.md"), "no frontmatter\n");
    write(
        &dir.join("skills/nodesc/SKILL.md"),
        "---\nname: nodesc\n---\n",
    );
    write(
        &dir.join("skills/renamed/SKILL.md"),
        "---\nname: other\ndescription: d\n---\n",
    );
    write(
        &dir.join("skills/shell/SKILL.md"),
        "---\ndescription: d\nshell: zsh\nallowed-tools: 5\n---\n",
    );
    write(
        &dir.join("agents/ok.md"),
        "---\nname: ok\ndescription: d\n---\n",
    );
    // Claude Code quotes `[bad` and `x: y` and parses again: no finding.
    write(
        &dir.join("agents/rescued.md"),
        "---\nname: [bad\ndescription: x: y\n---\n",
    );
    write(
        &dir.join("agents/broken.md"),
        "---\nname: x\n  description: y\n---\n",
    );
    write(&dir.join("agents/list.md"), "---\n- a\n---\n");
    write(
        &dir.join("agents/num.md"),
        "---\nname: 5\ndescription: d\n---\n",
    );
    write(&dir.join("commands/c.md"), "body\n");
    let r = validate(&env, &dir, &["--json"]).fails();
    let v = r.json();
    let got = contents(&v);
    let no_fm = "No frontmatter block found. Add YAML frontmatter between --- delimiters at the top of the file to set description and other metadata.";
    let expect = |file: &str, ty: &str, path: &str, msg: &str| {
        assert!(
            got.iter()
                .any(|(f, t, p, m)| f == file && t == ty && p == path && m == msg),
            "missing {file} {ty} {path}: {msg}\n{got:#?}"
        );
    };
    expect("bare/SKILL.md", "skill", "frontmatter", no_fm);
    expect(
        "nodesc/SKILL.md",
        "skill",
        "description",
        "No description in frontmatter. A description helps users and Claude understand when to use this skill.",
    );
    expect(
        "renamed/SKILL.md",
        "skill",
        "name",
        "Frontmatter name \"other\" differs from the skill's folder \"renamed\"; Claude Code names the skill after its folder",
    );
    expect(
        "shell/SKILL.md",
        "skill",
        "shell",
        "shell must be 'bash' or 'powershell', got 'zsh'.",
    );
    expect(
        "shell/SKILL.md",
        "skill",
        "allowed-tools",
        "allowed-tools must be a string or array of strings, got number.",
    );
    expect(
        "agents/list.md",
        "agent",
        "frontmatter",
        "Frontmatter must be a YAML mapping (key: value pairs), got an array.",
    );
    expect(
        "agents/num.md",
        "agent",
        "name",
        "name must be a string, got number.",
    );
    expect("commands/c.md", "command", "frontmatter", no_fm);
    let broken = got
        .iter()
        .find(|(f, ..)| f == "agents/broken.md")
        .expect("broken frontmatter reported");
    assert!(
        broken.3.starts_with("YAML frontmatter failed to parse: "),
        "{broken:?}"
    );
    assert!(broken.3.ends_with(". At runtime this agent loads with its name taken from the filename and every other frontmatter field silently dropped."));
    assert!(
        !got.iter()
            .any(|(f, ..)| f == "agents/rescued.md" || f == "agents/ok.md")
    );
    // Claude Code's order: skills, agents, commands.
    let kinds: Vec<&str> = v["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| ["skill", "agent", "command"].iter().position(|x| x == k));
    assert_eq!(kinds, sorted);
    // Warnings only: passes, fails with --strict.
    for f in [
        "agents/broken.md",
        "agents/list.md",
        "agents/num.md",
        "skills/shell/SKILL.md",
    ] {
        fs::remove_file(dir.join(f)).unwrap();
    }
    validate(&env, &dir, &["--json"]).ok();
    validate(&env, &dir, &["--strict"]).fails();
}

#[test]
fn hooks_files_and_inline_hooks_are_checked() {
    let env = Env::new();
    let dir = env.fx.join("hooky");
    manifest_plugin(
        &dir,
        r#","hooks":["./extra.json",{"Stop":[{"hooks":[{"type":"command"}]}]}]"#,
    );
    write(
        &dir.join("hooks/hooks.json"),
        r#"{"hooks":{"Bogus":[],"SessionStart":[{"matcher":5,"hooks":[]}],"Stop":[{"hooks":[{"type":"shell"},{"command":"x"},"x",{"type":"http"}]},{"matcher":"m"}],"PostToolUse":{}}}"#,
    );
    write(
        &dir.join("extra.json"),
        r#"{"hooks":{"PreToolUse":[{"hooks":[{"type":"command","command":"${CLAUDE_PLUGIN_ROOT}/x.sh"}]}]}}"#,
    );
    let v = validate(&env, &dir, &["--json"]).ok().json();
    let got: Vec<(String, String)> = contents(&v)
        .into_iter()
        .map(|(f, _, p, m)| (f, format!("{p}: {m}")))
        .collect();
    let hooks: Vec<&str> = got
        .iter()
        .filter(|(f, _)| f == "hooks/hooks.json")
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(
        hooks,
        [
            "hooks: hooks.Bogus: unknown hook event; entry ignored at runtime",
            "hooks: hooks.SessionStart.0: Invalid hook matcher (matcher: Invalid input: expected string, received number); entry ignored at runtime",
            "hooks: hooks.Stop.0.hooks.0: Unknown hook type \"shell\"; entry ignored at runtime",
            "hooks: hooks.Stop.0.hooks.1: Hook entry has no \"type\"; entry ignored at runtime",
            "hooks: hooks.Stop.0.hooks.2: Hook entry must be an object; received a string; entry ignored at runtime",
            "hooks: hooks.Stop.0.hooks.3: Invalid http hook (url: Invalid input: expected string, received undefined); entry ignored at runtime",
            "hooks: hooks.Stop.1: Hook matcher \"hooks\" must be an array of hook entries; received undefined; entry ignored at runtime",
            "hooks: hooks.PostToolUse: must be an array of matchers; received an object; entry ignored at runtime",
        ]
    );
    let extra: Vec<&str> = got
        .iter()
        .filter(|(f, _)| f == "hooky/extra.json")
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(
        extra,
        [
            "hooks.PreToolUse: Shell command uses ${CLAUDE_PLUGIN_ROOT} without quotes: ${CLAUDE_PLUGIN_ROOT}/x.sh. If the expanded path contains a space the command can split into several words and fail. Wrap the placeholder in double quotes, or use exec form: {\"command\": \"<executable>\", \"args\": [\"${CLAUDE_PLUGIN_ROOT}/...\"]}."
        ]
    );
    assert_eq!(
        message(&v, "warnings", "hooks"),
        "hooks.1.Stop.0.hooks.0: Invalid command hook (command: Invalid input: expected string, received undefined); entry ignored at runtime"
    );
    // A broken PreToolUse hook may be a permission guard: an error.
    write(
        &dir.join("extra.json"),
        r#"{"hooks":{"PreToolUse":[{"hooks":[{"type":"command"}]}]}}"#,
    );
    let v = validate(&env, &dir, &["--json"]).fails().json();
    assert!(contents(&v).iter().any(|(f, _, _, m)| f == "hooky/extra.json"
        && m == "hooks.PreToolUse.0.hooks.0: Invalid command hook (command: Invalid input: expected string, received undefined) — a PreToolUse/PermissionRequest hook that cannot be loaded may be what guards the permissions declared beside it, so nothing it sits in is applied until the entry is fixed or removed"));
    write(&dir.join("extra.json"), "{}");
    let v = validate(&env, &dir, &["--json"]).fails().json();
    assert!(contents(&v).iter().any(|(f, _, p, m)| f == "hooky/extra.json" && p == "root"
        && m == "hooks.json must have `hooks` (the hook matchers) or `modules` (hooks modules), or both"));
}

#[test]
fn object_fields_and_urls_of_plugin_json() {
    let env = Env::new();
    let dir = env.fx.join("fields");
    manifest_plugin(
        &dir,
        r#","homepage":"not a url","repository":"also not","userConfig":{"1x":{},"KEY":{"type":"color","title":"T","sensitive":"yes","extra":1},"N":{"type":"number","title":"T","description":"D","default":"x"}},"channels":[{"server":"s","foo":1},{"displayName":5}],"mcpServers":{"s":{"url":"https://x"}},"lspServers":{"go":{"command":"gopls"}},"experimental":{"monitors":[{"command":"x"}]}"#,
    );
    let v = validate(&env, &dir, &["--json"]).fails().json();
    let errors: Vec<String> = v["manifest"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i["path"].as_str().unwrap(),
                i["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            // Claude Code 2.1.328's words and order (its schema's field order; faults of
            // display-only fields such as `homepage` last).
            "channels.0: Unrecognized key: \"foo\"",
            "channels.1.server: Invalid input: expected string, received undefined",
            "channels.1.displayName: Invalid input: expected string, received number",
            "mcpServers: Invalid input",
            "lspServers: Invalid input",
            "userConfig.1x: Invalid key in record",
            "userConfig.KEY.type: Invalid option: expected one of \"string\"|\"number\"|\"boolean\"|\"directory\"|\"file\"",
            "userConfig.KEY.description: Invalid input: expected string, received undefined",
            "userConfig.KEY.sensitive: Invalid input: expected boolean, received string",
            "userConfig.KEY: Unrecognized key: \"extra\"",
            "experimental.monitors: Invalid input",
            "homepage: Invalid URL",
        ]
    );
    // Where Claude Code says only "Invalid input", a warning of ours says what is wrong.
    assert_eq!(
        message(&v, "warnings", "mcpServers"),
        "(ours) server \"s\" has a \"url\" but no \"type\" (a remote server needs \"type\": \"http\", \"sse\" or \"ws\")"
    );
    assert_eq!(
        message(&v, "warnings", "lspServers"),
        "(ours) server \"go\" needs \"extensionToLanguage\", an object mapping file extensions to language ids"
    );
    assert_eq!(
        message(&v, "warnings", "experimental.monitors"),
        "(ours) monitor 0 needs a \"name\" string"
    );
    assert!(has(&findings(&v, "warnings"), "repository", "not-a-url"));
    assert!(has(
        &findings(&v, "warnings"),
        "userConfig.N.default",
        "user-config-default"
    ));
    assert_eq!(
        v["provides"],
        Value::Null,
        "a manifest with errors provides nothing"
    );
}

#[test]
fn provides_lists_what_resolve_loads_in_claude_codes_format() {
    let env = Env::new();
    let dir = env.fx.join("full");
    manifest_plugin(
        &dir,
        r#","lspServers":{"go":{"command":"gopls","extensionToLanguage":{".go":"go"}}}"#,
    );
    for f in [
        "commands/c.md",
        "commands/sub/deep.md",
        "agents/ag.md",
        "output-styles/os.md",
    ] {
        write(&dir.join(f), "---\ndescription: d\n---\n");
    }
    write(
        &dir.join("agents/ag2.md"),
        "---\nname: agname\ndescription: d\n---\n",
    );
    write(
        &dir.join("skills/sk/SKILL.md"),
        "---\nname: sk\ndescription: d\n---\n",
    );
    write(&dir.join("bin/tool"), "#!/bin/sh\n");
    // Themes: top-level `.json` files only; workflows are not listed (as Claude Code 2.1.328).
    for f in ["themes/t.json", "themes/sub/c.json", "workflows/w.js"] {
        write(&dir.join(f), "{}\n");
    }
    write(&dir.join("themes/a.md"), "---\ndescription: d\n---\n");
    write(
        &dir.join("hooks/hooks.json"),
        r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"\"${CLAUDE_PLUGIN_ROOT}/a\""},{"type":"http","url":"https://h"}]}],"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"c","args":["1"]}]}]}}"#,
    );
    write(
        &dir.join(".mcp.json"),
        r#"{"mcpServers":{"srv":{"command":"${CLAUDE_PLUGIN_ROOT}/x"},"remote":{"type":"sse","url":"https://x/a?key=1"}}}"#,
    );
    write(
        &dir.join("monitors/monitors.json"),
        r#"[{"name":"mon","command":"x","description":"d"}]"#,
    );
    let v = validate(&env, &dir, &["--json", "--strict"]).ok().json();
    assert_eq!(
        v["provides"],
        serde_json::json!({
            "modules": [],
            "hooks": [
                {"event": "Stop", "type": "command", "command": "\"${CLAUDE_PLUGIN_ROOT}/a\""},
                {"event": "Stop", "type": "http", "url": "https://h/"},
                {"event": "PreToolUse", "matcher": "Bash", "type": "command", "command": "c", "args": ["1"]}
            ],
            "mcpServers": [
                {"name": "remote", "type": "sse", "target": "https://x/a"},
                {"name": "srv", "type": "stdio", "target": "${CLAUDE_PLUGIN_ROOT}/x", "args": []}
            ],
            "lspServers": [{"name": "go", "command": "gopls"}],
            "monitors": [{"name": "mon", "command": "x"}],
            "skills": ["p:sk"],
            "commands": ["p:c", "p:sub:deep"],
            "agents": ["p:ag", "p:agname"],
            "outputStyles": ["p:os"],
            "themes": ["p:t"],
            "workflows": [],
            "bin": ["tool"]
        })
    );
    // No manifest: Claude Code prints `provides: null`.
    fs::remove_dir_all(dir.join(".claude-plugin")).unwrap();
    let v = validate(&env, &dir, &["--json"]).ok().json();
    assert_eq!(v["provides"], Value::Null);
}

#[test]
fn relative_sources_that_leave_the_marketplace_are_named_by_how() {
    let env = Env::new();
    let m = env.fx.join("m");
    write(
        &m.join(".claude-plugin/marketplace.json"),
        r#"{"name":"m","owner":{"name":"o"},"description":"d","plugins":[
            {"name":"up","source":"./../x"},
            {"name":"abs","source":".//etc"},
            {"name":"bs","source":"./a\\b"}]}"#,
    );
    let v = validate(&env, &m, &["--json"]).fails().json();
    assert!(
        message(&v, "errors", "plugins[0].source").starts_with("Path contains \"..\": ./../x.")
    );
    assert!(
        message(&v, "errors", "plugins[1].source")
            .starts_with("Path leaves the marketplace root: .//etc."),
        "{v}"
    );
    assert!(
        message(&v, "errors", "plugins[2].source")
            .starts_with("Path contains a backslash: ./a\\b.")
    );
}

#[test]
fn provides_comes_from_the_manifest_file_that_was_validated() {
    let env = Env::new();
    let dir = env.fx.join("two");
    write(
        &dir.join(".claude-plugin/plugin.json"),
        r#"{"name":"cc","version":"1.0.0","description":"d","author":{"name":"a"},"commands":["./a"]}"#,
    );
    write(
        &dir.join(".plugin/plugin.json"),
        r#"{"name":"open","version":"1.0.0","description":"d","author":{"name":"a"},"commands":["./b"]}"#,
    );
    write(&dir.join("a/x.md"), "---\ndescription: d\n---\n");
    write(&dir.join("b/y.md"), "---\ndescription: d\n---\n");
    let v = validate(&env, &dir.join(".plugin/plugin.json"), &["--json"])
        .ok()
        .json();
    assert_eq!(
        v["provides"]["commands"],
        serde_json::json!(["open:y"]),
        "{v}"
    );
}

/// Every manifest of testdata/manifest-schema, validated on its own as a plugin folder: the
/// same verdict and errors as Claude Code 2.1.328's `plugin validate` (recorded by
/// scripts/manifest-oracle.sh), and its warnings too; besides those only warnings of ours,
/// each with its own code.
#[test]
fn every_recorded_manifest_validates_as_claude_code_does() {
    let cases: Value =
        serde_json::from_str(include_str!("../testdata/manifest-schema/cases.json")).unwrap();
    let cc: Value =
        serde_json::from_str(include_str!("../testdata/manifest-schema/claude-code.json")).unwrap();
    const OURS: &[&str] = &[
        "why-invalid",
        "user-config-default",
        "not-a-url",
        "dependency-range",
        "dependency-range-dropped",
        "self-dependency",
    ];
    let env = Env::new();
    let pairs = |v: &Value, key: &str| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["path"].as_str().unwrap().to_string(),
                    i["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let mut wrong = Vec::new();
    for (name, manifest) in cases.as_object().unwrap() {
        let dir = env.fx.join("cases").join(name);
        write(
            &dir.join(".claude-plugin/plugin.json"),
            &serde_json::to_string(manifest).unwrap(),
        );
        let run = validate(&env, &dir, &["--json"]);
        let v = run.json();
        let want = &cc[name];
        let ours = &v["manifest"];
        let our_warnings: Vec<(String, String)> = ours["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| !OURS.contains(&w["code"].as_str().unwrap_or("")))
            .map(|i| {
                (
                    i["path"].as_str().unwrap().to_string(),
                    i["message"].as_str().unwrap().to_string(),
                )
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let same = v["success"] == want["success"]
            && pairs(ours, "errors") == pairs(want, "errors")
            && our_warnings == pairs(want, "warnings");
        if !same {
            wrong.push(format!(
                "{name}:\n  claude code: {} {:?} {:?}\n  ours:        {} {:?} {:?}",
                want["success"],
                pairs(want, "errors"),
                pairs(want, "warnings"),
                v["success"],
                pairs(ours, "errors"),
                our_warnings
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
