//! Our checks of plugin.json's object-valued fields, on top of Claude Code's schema
//! (`schema::plugin_manifest`): where it says only `Invalid input` (no alternative of a union
//! fitted) we say what is wrong, and we warn of what it accepts but cannot use (a `userConfig`
//! default its option does not allow, a `repository` that is not a URL).

use serde_json::{Map, Value};

use super::Findings;

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
    "requestTimeout",
    "restartOnCrash",
    "maxRestarts",
    "diagnostics",
];

/// Warnings of ours about the object-valued fields and URLs of a manifest. `schema_errors` are
/// the paths Claude Code's schema already reported as `Invalid input`.
pub(super) fn check_fields(raw: &Map<String, Value>, invalid_input: &[String], f: &mut Findings) {
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
    let says_invalid = |p: &str| invalid_input.iter().any(|i| i == p);
    for key in ["mcpServers", "lspServers"] {
        let server = if key == "mcpServers" {
            mcp_server_problem
        } else {
            lsp_server_problem
        };
        if says_invalid(key)
            && let Some(why) = raw.get(key).and_then(|v| servers_problem(key, v, server))
        {
            f.warn(key, "why-invalid", format!("(ours) {why}"));
        }
    }
    let experimental = raw.get("experimental").and_then(Value::as_object);
    for (path, v) in [
        ("monitors", raw.get("monitors")),
        (
            "experimental.monitors",
            experimental.and_then(|e| e.get("monitors")),
        ),
    ] {
        if says_invalid(path)
            && let Some(why) = v.and_then(monitors_problem)
        {
            f.warn(path, "why-invalid", format!("(ours) {why}"));
        }
    }
    let mut option_sets: Vec<(String, &Map<String, Value>)> = Vec::new();
    if let Some(Value::Object(u)) = raw.get("userConfig") {
        option_sets.push(("userConfig".into(), u));
    }
    if let Some(Value::Array(channels)) = raw.get("channels") {
        for (i, c) in channels.iter().enumerate() {
            if let Some(Value::Object(u)) = c.get("userConfig") {
                option_sets.push((format!("channels.{i}.userConfig"), u));
            }
        }
    }
    for (at, options) in option_sets {
        for (key, opt) in options {
            let Value::Object(opt) = opt else { continue };
            if let (Some(ty), Some(default)) =
                (opt.get("type").and_then(Value::as_str), opt.get("default"))
                && ["string", "number", "boolean", "directory", "file"].contains(&ty)
                // With `options`, Claude Code's schema checks the default itself.
                && !opt.contains_key("options")
                && let Some(why) = default_problem(ty, opt, default)
            {
                f.warn(
                    format!("{at}.{key}.default"),
                    "user-config-default",
                    format!(
                        "{why}; Claude Code accepts the manifest, but the value it substitutes is not one the option allows"
                    ),
                );
            }
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
