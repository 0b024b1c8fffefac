//! Shapes of plugin.json's object-valued fields (`userConfig`, `channels`, `mcpServers`,
//! `lspServers`, monitors, inline `hooks`) and its URLs, with Claude Code 2.1.328's messages.
//! Where Claude Code says only `Invalid input` (a union that did not match), we add what is wrong.

use serde_json::{Map, Value};

use super::content::check_inline_hooks;
use super::{Findings, expected};

const OPTION_TYPES: &[&str] = &["string", "number", "boolean", "directory", "file"];

/// Keys of a `userConfig` option, each with its type, in Claude Code's order (`true`: required).
const OPTION_FIELDS: &[super::TypedField] = &[
    ("title", "string", true),
    ("description", "string", true),
    ("required", "boolean", false),
    ("default", "any", false),
    ("multiple", "boolean", false),
    ("sensitive", "boolean", false),
    ("min", "number", false),
    ("max", "number", false),
    ("options", "string[]", false),
];

const LSP_KEYS: &[&str] = &[
    "command",
    "extensionToLanguage",
    "args",
    "transport",
    "env",
    "initializationOptions",
    "settings",
    "workspaceFolder",
    "startupTimeout",
    "shutdownTimeout",
    "restartOnCrash",
    "maxRestarts",
    "diagnostics",
];

/// Check the object-valued fields and URLs of a manifest.
pub(super) fn check_fields(raw: &Map<String, Value>, f: &mut Findings) {
    if let Some(Value::String(url)) = raw.get("homepage")
        && url::Url::parse(url).is_err()
    {
        f.error("homepage", "schema", "Invalid URL");
    }
    if let Some(Value::String(repo)) = raw.get("repository")
        && url::Url::parse(repo).is_err()
    {
        f.warn(
            "repository",
            "not-a-url",
            format!(
                "\"{repo}\" is not a URL. Claude Code accepts it, but a marketplace or the plugin directory that links to the repository cannot"
            ),
        );
    }
    if let Some(v) = raw.get("userConfig") {
        check_user_config("userConfig", v, f);
    }
    if let Some(v) = raw.get("channels") {
        check_channels(v, f);
    }
    if let Some(v) = raw.get("mcpServers")
        && let Some(why) = servers_problem("mcpServers", v, mcp_server_problem)
    {
        f.error("mcpServers", "schema", format!("Invalid input: {why}"));
    }
    if let Some(v) = raw.get("lspServers")
        && let Some(why) = servers_problem("lspServers", v, lsp_server_problem)
    {
        f.error("lspServers", "schema", format!("Invalid input: {why}"));
    }
    let experimental = raw.get("experimental").and_then(Value::as_object);
    let monitors = match experimental.and_then(|e| e.get("monitors")) {
        Some(v) => Some(("experimental.monitors", v)),
        None => raw.get("monitors").map(|v| ("monitors", v)),
    };
    if let Some((path, v)) = monitors
        && let Some(why) = monitors_problem(v)
    {
        f.error(path, "schema", format!("Invalid input: {why}"));
    }
    match raw.get("hooks") {
        None | Some(Value::String(_)) => {}
        Some(Value::Object(events)) => f.absorb(check_inline_hooks(events), ""),
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(_) => {}
                    Value::Object(events) => f.absorb(check_inline_hooks(events), ""),
                    other => f.error(
                        "hooks",
                        "schema",
                        format!(
                            "Invalid input: each item must be a path or an object of hook events, not {}",
                            crate::schema::json_type(Some(other))
                        ),
                    ),
                }
            }
        }
        Some(other) => f.error(
            "hooks",
            "schema",
            format!(
                "Invalid input: expected a path, an object of hook events or an array of them, received {}",
                crate::schema::json_type(Some(other))
            ),
        ),
    }
}

/// `userConfig` (or a channel's): option keys and strict option objects.
fn check_user_config(at: &str, v: &Value, f: &mut Findings) {
    let Value::Object(options) = v else {
        f.error(at, "schema", expected("record", Some(v)));
        return;
    };
    for (key, opt) in options {
        let here = format!("{at}.{key}");
        let valid_key = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            f.error(here, "schema", "Invalid key in record");
            continue;
        }
        let Value::Object(opt) = opt else {
            f.error(here, "schema", expected("object", Some(opt)));
            continue;
        };
        let ty = opt.get("type").and_then(Value::as_str);
        if !ty.is_some_and(|t| OPTION_TYPES.contains(&t)) {
            let list = OPTION_TYPES
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join("|");
            f.error(
                format!("{here}.type"),
                "schema",
                format!("Invalid option: expected one of {list}"),
            );
        }
        for (path, message) in super::typed_field_problems(opt, OPTION_FIELDS) {
            f.error(format!("{here}.{path}"), "schema", message);
        }
        let unknown: Vec<&String> = opt
            .keys()
            .filter(|k| *k != "type" && !OPTION_FIELDS.iter().any(|(f, _, _)| f == k))
            .collect();
        unrecognized(&here, &unknown, f);
        if let (Some(ty), Some(default)) = (ty, opt.get("default"))
            && OPTION_TYPES.contains(&ty)
            && let Some(why) = default_problem(ty, opt, default)
        {
            f.warn(
                format!("{here}.default"),
                "user-config-default",
                format!(
                    "{why}; Claude Code accepts the manifest, but the value it substitutes is not one the option allows"
                ),
            );
        }
    }
}

/// A default that does not fit its option (Claude Code does not check it).
fn default_problem(ty: &str, opt: &Map<String, Value>, default: &Value) -> Option<String> {
    let multiple = opt.get("multiple").and_then(Value::as_bool) == Some(true);
    let fits = |v: &Value| match ty {
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => v.is_string(),
    };
    let ok = match default {
        Value::Array(items) if multiple => items.iter().all(fits),
        v => fits(v),
    };
    if !ok {
        return Some(format!("the default {default} is not a {ty}"));
    }
    let allowed = opt.get("options").and_then(Value::as_array)?;
    let values: Vec<&Value> = match default {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    values
        .into_iter()
        .find(|v| !allowed.contains(v))
        .map(|v| format!("the default {v} is not one of its options"))
}

fn unrecognized(at: &str, keys: &[&String], f: &mut Findings) {
    if keys.is_empty() {
        return;
    }
    let list = keys
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let word = if keys.len() == 1 { "key" } else { "keys" };
    f.error(at, "schema", format!("Unrecognized {word}: {list}"));
}

/// `channels`: an array of strict `{server, displayName?, userConfig?}` objects.
fn check_channels(v: &Value, f: &mut Findings) {
    let Value::Array(items) = v else {
        f.error("channels", "schema", expected("array", Some(v)));
        return;
    };
    for (i, c) in items.iter().enumerate() {
        let at = format!("channels.{i}");
        let Value::Object(c) = c else {
            f.error(at, "schema", expected("object", Some(c)));
            continue;
        };
        let unknown: Vec<&String> = c
            .keys()
            .filter(|k| !["server", "displayName", "userConfig"].contains(&k.as_str()))
            .collect();
        unrecognized(&at, &unknown, f);
        if !c.get("server").is_some_and(Value::is_string) {
            f.error(
                format!("{at}.server"),
                "schema",
                expected("string", c.get("server")),
            );
        }
        if let Some(d) = c.get("displayName")
            && !d.is_string()
        {
            f.error(
                format!("{at}.displayName"),
                "schema",
                expected("string", Some(d)),
            );
        }
        if let Some(u) = c.get("userConfig") {
            check_user_config(&format!("{at}.userConfig"), u, f);
        }
    }
}

/// `mcpServers` / `lspServers`: a path, a map of server configs, or an array of them.
fn servers_problem(
    key: &str,
    v: &Value,
    server: fn(&str, &Value) -> Option<String>,
) -> Option<String> {
    let one = |item: &Value| match item {
        Value::String(_) => None,
        Value::Object(map) => map.iter().find_map(|(name, cfg)| server(name, cfg)),
        other => Some(format!(
            "{key} must be a path, an object of servers or an array of them, not {}",
            crate::schema::json_type(Some(other))
        )),
    };
    match v {
        Value::Array(items) => items.iter().find_map(one),
        other => one(other),
    }
}

fn mcp_server_problem(name: &str, cfg: &Value) -> Option<String> {
    let Value::Object(cfg) = cfg else {
        return Some(format!("server \"{name}\" is not an object"));
    };
    let ty = cfg.get("type").map(|t| t.as_str());
    match ty {
        None if cfg.contains_key("url") && !cfg.contains_key("command") => Some(format!(
            "server \"{name}\" has a \"url\" but no \"type\" (a remote server needs \"type\": \"http\", \"sse\" or \"ws\")"
        )),
        None | Some(Some("stdio")) => (!cfg.get("command").is_some_and(Value::is_string))
            .then(|| format!("server \"{name}\" needs a \"command\" string")),
        Some(Some("http" | "sse" | "ws")) => (!cfg.get("url").is_some_and(Value::is_string))
            .then(|| format!("server \"{name}\" needs a \"url\" string")),
        Some(_) => Some(format!(
            "server \"{name}\" has an unknown \"type\" (expected \"stdio\", \"http\", \"sse\" or \"ws\")"
        )),
    }
}

fn lsp_server_problem(name: &str, cfg: &Value) -> Option<String> {
    let Value::Object(cfg) = cfg else {
        return Some(format!("server \"{name}\" is not an object"));
    };
    if let Some(k) = cfg.keys().find(|k| !LSP_KEYS.contains(&k.as_str())) {
        return Some(format!("server \"{name}\" has an unknown key \"{k}\""));
    }
    if !cfg.get("command").is_some_and(Value::is_string) {
        return Some(format!("server \"{name}\" needs a \"command\" string"));
    }
    let ext_ok = cfg
        .get("extensionToLanguage")
        .and_then(Value::as_object)
        .is_some_and(|m| m.values().all(Value::is_string));
    (!ext_ok).then(|| {
        format!(
            "server \"{name}\" needs \"extensionToLanguage\", an object mapping file extensions to language ids"
        )
    })
}

/// Monitors: a path, or an array of `{name, command, description}` objects.
fn monitors_problem(v: &Value) -> Option<String> {
    let items = match v {
        Value::String(_) => return None,
        Value::Array(items) => items,
        other => {
            return Some(format!(
                "monitors must be a path or an array, not {}",
                crate::schema::json_type(Some(other))
            ));
        }
    };
    items.iter().enumerate().find_map(|(i, m)| {
        let Value::Object(m) = m else {
            return Some(format!("monitor {i} is not an object"));
        };
        ["name", "command", "description"]
            .iter()
            .find(|k| !m.get(**k).is_some_and(Value::is_string))
            .map(|k| format!("monitor {i} needs a \"{k}\" string"))
    })
}
