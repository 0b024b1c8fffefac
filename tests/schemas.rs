//! The `--json` contract: the real output of every command with `--json` (results and failures)
//! matches its docs/schemas/<command>.schema.json, every schema is exercised, and exactly our own
//! commands carry `"schemaVersion": 1`.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Commands whose `--json` mirrors Claude Code's (no `schemaVersion`).
const MIRRORED: &[&str] = &[
    "install",
    "uninstall",
    "enable",
    "disable",
    "list",
    "marketplace-add",
    "marketplace-list",
    "marketplace-update",
    "marketplace-remove",
    "validate",
    "configure",
];

fn schema_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas")
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Problems of `v` against `schema` (the subset of JSON Schema 2020-12 schemars writes: `$ref`
/// into `$defs`, `anyOf`/`oneOf`/`allOf`, `type`, `enum`, `const`, `properties`, `required`,
/// `additionalProperties`, `items`, `minItems`/`maxItems`, `minimum`). An object may hold only
/// the properties its schema names, unless `additionalProperties` says otherwise.
fn check(root: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let schema = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return errs.push(format!("{at}: nothing is allowed here")),
        s => s,
    };
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("a local $ref");
        check(root, &root["$defs"][name], v, at, errs);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let mut why = Vec::new();
            let fits = options.iter().any(|o| {
                let mut e = Vec::new();
                check(root, o, v, at, &mut e);
                why.extend(e.iter().cloned());
                e.is_empty()
            });
            if !fits {
                errs.push(format!("{at}: no option of {key} fits: {why:?}"));
            }
        }
    }
    for o in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(root, o, v, at, errs);
    }
    if let Some(t) = schema.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            other => panic!("{at}: unexpected type {other}"),
        };
        let actual = json_type(v);
        let fits =
            allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !fits {
            errs.push(format!("{at}: {actual} where the schema says {allowed:?}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {e:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        errs.push(format!("{at}: {v} is not {c}"));
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        errs.push(format!("{at}: {n} is below {min}"));
    }
    if let Value::Object(o) = v
        && (schema.get("properties").is_some() || schema.get("additionalProperties").is_some())
    {
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            let here = format!("{at}.{k}");
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => check(root, s, x, &here, errs),
                (None, Some(extra)) => check(root, extra, x, &here, errs),
                (None, None) => errs.push(format!("{here}: not in the schema")),
            }
        }
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().expect("a required name");
            if !o.contains_key(r) {
                errs.push(format!("{at}: required {r} is missing"));
            }
        }
    }
    if let Value::Array(a) = v {
        if let Some(items) = schema.get("items") {
            for (i, x) in a.iter().enumerate() {
                check(root, items, x, &format!("{at}[{i}]"), errs);
            }
        }
        let len = a.len() as u64;
        if schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
            || schema
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
        {
            errs.push(format!("{at}: {len} items is out of the schema's bounds"));
        }
    }
}

/// Runs commands and checks each `--json` output against its command's schema.
struct Checker {
    env: Env,
    seen: BTreeSet<String>,
}

impl Checker {
    /// Run `args` (exit code `code`) and check its output against its command's schema.
    #[track_caller]
    fn run(&mut self, args: &[&str], code: i32) -> Value {
        let schema = &match args {
            [group @ ("marketplace" | "cache"), sub, ..] => format!("{group}-{sub}"),
            [command, ..] => command.to_string(),
            [] => panic!("no command"),
        };
        let schema = schema.as_str();
        let r = self.env.run(args);
        assert_eq!(
            r.code, code,
            "{args:?}\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        let v = r.json();
        let root: Value = serde_json::from_str(
            &fs::read_to_string(schema_dir().join(format!("{schema}.schema.json")))
                .unwrap_or_else(|e| panic!("{schema}: {e}")),
        )
        .unwrap();
        let mut errs = Vec::new();
        check(&root, &root, &v, "$", &mut errs);
        assert!(
            errs.is_empty(),
            "{args:?} does not match {schema}: {errs:#?}\n{v:#}"
        );
        // Our own reports say which version of their shape they are; Claude Code's do not.
        let version = if v.is_array() { &v[0] } else { &v };
        if MIRRORED.contains(&schema) {
            assert!(version.get("schemaVersion").is_none(), "{args:?}: {v}");
        } else {
            assert_eq!(version["schemaVersion"], 1, "{args:?}: {v}");
        }
        self.seen.insert(schema.to_string());
        v
    }
}

/// A plugin with a hook, MCP servers of both kinds, an LSP server and a monitor, so that
/// `validate --json` fills every part of `provides`.
fn busy_plugin(dir: &Path) {
    plugin(dir, "busy", Some("1.0.0"));
    write(
        &dir.join("hooks/hooks.json"),
        r#"{"hooks":{"Stop":[{"matcher":"x","hooks":[{"type":"command","command":"${CLAUDE_PLUGIN_ROOT}/h.sh"},{"type":"http","url":"https://example.com"}]}]}}"#,
    );
    write(
        &dir.join(".mcp.json"),
        r#"{"mcpServers":{"local":{"command":"node","args":["s.js"]},"remote":{"type":"http","url":"https://example.com/mcp?k=1"}}}"#,
    );
    write(
        &dir.join(".lsp.json"),
        r#"{"rs":{"command":"rust-analyzer","extensionToLanguage":{".rs":"rust"}}}"#,
    );
    write(
        &dir.join("monitors/monitors.json"),
        r#"[{"name":"m","command":"tail -f log","description":"d"}]"#,
    );
    write(&dir.join("bin/tool"), "#!/bin/sh\n");
}

#[test]
fn every_json_output_matches_its_schema() {
    let env = Env::new();
    let dir = m1(&env);
    busy_plugin(&dir.join("plugins/busy"));
    marketplace(
        &dir,
        "m1",
        r#"[{"name":"p1","source":"./plugins/p1","description":"tiny"},{"name":"busy","source":"./plugins/busy"}]"#,
    );
    let m1 = dir.to_str().unwrap();
    let mut c = Checker {
        env,
        seen: BTreeSet::new(),
    };

    c.run(&["marketplace", "add", m1, "--json"], 0);
    c.run(&["marketplace", "add", "/no/such/dir", "--json"], 1);
    c.run(&["marketplace", "list", "--json"], 0);
    c.run(&["marketplace", "update", "m1", "--json"], 0);
    c.run(&["marketplace", "update", "zz", "--json"], 1);

    c.run(&["install", "p1@m1", "--json"], 0);
    c.run(&["install", "p1@m1", "--json"], 0);
    c.run(&["install", "busy@m1", "--json"], 0);
    c.run(&["install", "zz@m1", "--json"], 1);
    let v = c.run(&["list", "--json"], 0);
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
    c.run(&["list", "--available", "--json"], 0);

    c.run(&["disable", "p1@m1", "--json"], 0);
    let v = c.run(&["disable", "p1@m1", "--json"], 1);
    assert_eq!(v["alreadyInGoalState"], true, "{v}");
    c.run(&["enable", "p1@m1", "--json"], 0);
    c.run(&["enable", "p1@m1", "--scope", "project", "--json"], 1);
    c.run(&["disable", "--all", "--json"], 0);
    c.run(&["enable", "p1@m1", "--json"], 0);

    // A new version upstream: `outdated` sees it, `update` installs it.
    plugin(&dir.join("plugins/p1"), "p1", Some("1.1.0"));
    let v = c.run(&["outdated", "--json"], 0);
    assert_eq!(first_row(&v)["outcome"], "updated", "{v}");
    c.run(&["update", "p1@m1", "--json"], 0);
    c.run(&["update", "--all", "--json"], 0);
    c.run(&["update", "zz", "--json"], 1);

    c.run(&["cache", "verify", "--json"], 0);
    let cached = c.env.plugins().join("cache/m1/p1/1.1.0/commands/c.md");
    write(&cached, "edited\n");
    let v = c.run(&["cache", "verify", "p1", "--json"], 1);
    assert_eq!(v["outcome"], "failed", "{v}");
    c.run(&["cache", "prune", "--older-than", "0", "--json"], 0);
    c.run(&["cache", "prune", "--dry-run", "--json"], 0);
    c.run(&["prune", "--dry-run", "--json"], 0);

    c.run(&["validate", m1, "--json"], 0);
    let busy = dir.join("plugins/busy");
    let v = c.run(&["validate", busy.to_str().unwrap(), "--json"], 0);
    assert_eq!(
        v["provides"]["mcpServers"][1]["target"], "https://example.com/mcp",
        "{v}"
    );
    c.run(
        &["validate", "--strict", busy.to_str().unwrap(), "--json"],
        1,
    );

    c.run(&["resolve", "busy@m1", "--json"], 0);
    c.run(&["resolve", "zz@m1", "--json"], 1);
    c.run(&["details", "busy@m1", "--json"], 0);
    c.run(&["details", "zz@m1", "--json"], 1);
    c.run(&["configure", "busy@m1", "--json"], 0);

    let settings = c.env.cwd.join(".claude/settings.json");
    write(&settings, r#"{"enabledPlugins":{"p1@m1":false}}"#);
    c.run(&["settings", "--json"], 0);
    c.run(&["sync", "--dry-run", "--json"], 0);
    c.run(&["sync", "--json"], 0);
    write(&settings, "{");
    c.run(&["settings", "--json"], 1);
    c.run(&["sync", "--json"], 1);
    fs::remove_file(&settings).unwrap();

    c.run(&["init", "tool", "--json"], 0);
    c.run(&["init", "tool", "--json"], 1);
    if links_work(c.env.tmp.path()) {
        c.run(&["link", "tool", "--json"], 0);
        c.run(&["link", "/no/such/dir", "--json"], 1);
        c.run(&["unlink", "tool", "--json"], 0);
    } else {
        // Wine makes no links (Windows without Developer Mode neither): failure lines only.
        eprintln!("links cannot be made here: only the failures of link and unlink are checked");
        c.run(&["link", "/no/such/dir", "--json"], 1);
    }
    c.run(&["unlink", "tool", "--json"], 1);

    c.run(&["uninstall", "busy@m1", "--json"], 0);
    c.run(&["uninstall", "busy@m1", "--json"], 1);
    c.run(&["marketplace", "remove", "m1", "--json"], 0);
    c.run(&["marketplace", "remove", "m1", "--json"], 1);
    c.run(&["outdated", "--json"], 0);

    let schemas: BTreeSet<String> = fs::read_dir(schema_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|f| f.strip_suffix(".schema.json").map(str::to_string))
        .collect();
    assert_eq!(
        c.seen, schemas,
        "every schema is checked against real output"
    );
}

/// The checker itself: a wrong type, a missing required field and an unknown field are found.
#[test]
fn the_checker_finds_what_does_not_fit() {
    let root: Value = serde_json::from_str(
        &fs::read_to_string(schema_dir().join("cache-prune.schema.json")).unwrap(),
    )
    .unwrap();
    let fits = |v: Value| {
        let mut errs = Vec::new();
        check(&root, &root, &v, "$", &mut errs);
        errs
    };
    let good = serde_json::json!({"schemaVersion": 1, "command": "cache-prune", "outcome": "ok",
        "removed": [], "kept": [], "marked": [], "keptVersions": [], "bytes": 0, "storeObjects": 0, "storeBytes": 0, "dryRun": false});
    assert_eq!(fits(good.clone()), Vec::<String>::new());
    for bad in [
        {
            let mut v = good.clone();
            v["bytes"] = "0".into();
            v
        },
        {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove("dryRun");
            v
        },
        {
            let mut v = good.clone();
            v["surprise"] = true.into();
            v
        },
        {
            let mut v = good.clone();
            v["outcome"] = "maybe".into();
            v
        },
    ] {
        assert!(!fits(bad.clone()).is_empty(), "{bad}");
    }
}
