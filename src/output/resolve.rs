//! `resolve`: the plugin as a host loads it. `--json` prints the [`PluginDefinition`] itself
//! (pretty-printed; schema docs/schemas/resolve.schema.json); human mode lists the components with
//! their resolved paths and commands on stdout and the warnings on stderr.

use serde_json::Value;

use super::{Out, json_pretty, plugin_failure};
use crate::definition::substitute::option_text;
use crate::definition::{Components, Named, OptionSource, PluginDefinition};
use crate::ops::OpError;

pub fn resolve(out: &Out, typed: &str, r: Result<PluginDefinition, OpError>) -> i32 {
    let def = match r {
        Ok(d) => d,
        Err(e) => return plugin_failure(out, super::OWN, "resolve", "resolve", typed, None, &e),
    };
    if out.json {
        match serde_json::to_value(&def) {
            Ok(v) => json_pretty(&v),
            Err(e) => {
                eprintln!("✘ Failed to resolve plugin \"{typed}\": cannot print it as JSON: {e}");
                return 1;
            }
        }
        return 0;
    }
    for w in &def.warnings {
        eprintln!("warning: {}", w.message);
    }
    print_human(&def);
    0
}

fn print_human(d: &PluginDefinition) {
    let i = &d.installation;
    let defined_by = match d.defined_by {
        crate::definition::DefinedBy::Manifest => "plugin.json",
        crate::definition::DefinedBy::ManifestAndEntry => {
            "plugin.json + marketplace entry (strict)"
        }
        crate::definition::DefinedBy::Entry => "the marketplace entry",
        crate::definition::DefinedBy::Defaults => "default folders only",
    };
    println!(
        "{} {} ({} scope), defined by {defined_by}",
        i.plugin_id, i.version, i.scope
    );
    // Which folder Claude Code loads, as `plugin list` says it ("Read from").
    match &i.read_from_folder {
        None => println!(
            "  root     {}  (the folder Claude Code loads)",
            i.root.display()
        ),
        Some(dir) => {
            println!("  root     {}  (the installed copy)", i.root.display());
            println!(
                "  loads    {}  (Claude Code reads this marketplace folder in place; `plugin list`: \"Read from\")",
                dir.display()
            );
        }
    }
    println!("  data     {}", d.data_dir.display());
    println!("  project  {}", d.project_dir.display());
    print_components(&d.manifest_name, &d.components);
    if !d.user_config.is_empty() {
        println!("user config");
        for (key, o) in d.user_config.iter() {
            let line = match o.from {
                Some(OptionSource::Keychain) => {
                    "(sensitive: kept in the keychain, not read here)".to_string()
                }
                Some(from) => format!("{} ({})", option_text(&o.value), source_name(from)),
                None => "(not set, no default)".to_string(),
            };
            println!("  {key} = {line}");
        }
    }
    if !d.dependencies.is_empty() {
        println!("dependencies");
        for dep in &d.dependencies {
            let range = dep
                .range
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default();
            let state = match (&dep.unmet, &dep.installed) {
                (Some(why), _) => format!("✘ {why}"),
                (None, Some(v)) => format!("✔ {v}"),
                (None, None) => "✔".to_string(),
            };
            println!("  {}{range}: {state}", dep.plugin_id);
        }
    }
    for (title, env) in [
        ("hooks", &d.env.hooks),
        ("MCP stdio servers", &d.env.mcp_servers),
        ("LSP servers", &d.env.lsp_servers),
    ] {
        if !env.is_empty() {
            println!("env for {title}: {}", env_names(env));
        }
    }
}

/// Every component, grouped by kind, or "no components".
fn print_components(manifest_name: &str, c: &Components) {
    for (title, list) in [
        ("commands", &c.commands),
        ("agents", &c.agents),
        ("skills", &c.skills),
        ("output styles", &c.output_styles),
        ("themes", &c.themes),
        ("workflows", &c.workflows),
    ] {
        if list.is_empty() {
            continue;
        }
        println!("{title}");
        for m in list {
            let file = m
                .file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "(inline)".into());
            let refs = if m.references.is_empty() {
                String::new()
            } else {
                format!("  uses {}", m.references.join(", "))
            };
            println!("  {manifest_name}:{}  {file}{refs}", m.name);
        }
    }
    print_hooks(c);
    for (title, servers) in [
        ("MCP servers", &c.mcp_servers),
        ("LSP servers", &c.lsp_servers),
    ] {
        if servers.is_empty() {
            continue;
        }
        println!("{title}");
        for (name, s) in servers.iter() {
            println!("  {name} ({}): {}", s.transport, server_line(&s.config));
        }
    }
    if !c.channels.is_empty() {
        println!("channels");
        for ch in &c.channels {
            let server = ch
                .config
                .get("server")
                .and_then(Value::as_str)
                .unwrap_or("");
            match ch.config.get("displayName").and_then(Value::as_str) {
                Some(shown) => println!("  {server} ({shown})"),
                None => println!("  {server}"),
            }
        }
    }
    if !c.monitors.is_empty() {
        println!("monitors");
        for m in &c.monitors {
            let name = m.config.get("name").and_then(Value::as_str).unwrap_or("-");
            let cmd = m
                .config
                .get("command")
                .and_then(Value::as_str)
                .unwrap_or("");
            println!("  {name}: {cmd}");
        }
    }
    if let Some(bin) = &c.bin {
        println!("bin (on the Bash tool's PATH)\n  {}", bin.display());
    }
    if let Some(s) = &c.settings {
        let file = s
            .file
            .as_ref()
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "plugin.json \"settings\"".into());
        println!("settings ({file})");
        for (k, v) in s.config.as_object().into_iter().flatten() {
            println!("  {k}: {v}");
        }
    }
    if c.is_empty() {
        println!("no components");
    }
}

fn print_hooks(c: &Components) {
    if !c.hooks.is_empty() {
        println!("hooks");
        for (event, groups) in c.hooks.iter() {
            for g in groups {
                let matcher = g
                    .matcher
                    .as_deref()
                    .map(|m| format!(" [{m}]"))
                    .unwrap_or_default();
                println!("  {event}{matcher}");
                for h in &g.hooks {
                    println!("    {}", hook_line(h));
                }
            }
        }
    }
}

fn source_name(from: OptionSource) -> &'static str {
    match from {
        OptionSource::Managed => "managed settings",
        OptionSource::User => "user settings",
        OptionSource::Default => "default",
        OptionSource::Keychain => "keychain",
        OptionSource::Secrets => "secrets file",
    }
}

fn env_names(env: &Named<String>) -> String {
    env.iter().map(|(k, _)| k).collect::<Vec<_>>().join(", ")
}

/// `command args…` of a command hook (exec form: arguments shown quoted when they have spaces).
fn hook_line(h: &Value) -> String {
    let Some(cmd) = h.get("command").and_then(Value::as_str) else {
        let ty = h.get("type").and_then(Value::as_str).unwrap_or("?");
        return format!("({ty} hook)");
    };
    match h.get("args").and_then(Value::as_array) {
        Some(args) => {
            let mut parts = vec![quoted(cmd)];
            parts.extend(args.iter().filter_map(Value::as_str).map(quoted));
            format!("exec: {}", parts.join(" "))
        }
        None => format!("sh: {cmd}"),
    }
}

fn server_line(cfg: &Value) -> String {
    if let Some(cmd) = cfg.get("command").and_then(Value::as_str) {
        let mut parts = vec![quoted(cmd)];
        if let Some(args) = cfg.get("args").and_then(Value::as_array) {
            parts.extend(args.iter().filter_map(Value::as_str).map(quoted));
        }
        return parts.join(" ");
    }
    cfg.get("url")
        .and_then(Value::as_str)
        .map(crate::credential::redact_url)
        .unwrap_or_default()
}

fn quoted(s: &str) -> String {
    if s.is_empty() || s.contains(char::is_whitespace) {
        format!("'{s}'")
    } else {
        s.to_string()
    }
}
