//! The report's `provides`: what the plugin loads, from `resolve`'s component discovery
//! ([`PluginDefinition`]) in Claude Code 2.1.328's element format (`plugin:name`, hook and
//! server summaries with their configuration as written).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::definition::{
    DefinitionInputs, Installation, MarkdownComponent, Named, PluginDefinition,
};

/// `provides` of the plugin at `root` whose manifest `manifest` names it `name`; `None` when it cannot be
/// loaded (Claude Code prints `null` then).
pub(super) fn provides(root: &Path, manifest: &Path, name: &str) -> Option<Value> {
    let installation = Installation {
        plugin_id: format!("{name}@validate"),
        name: name.to_string(),
        marketplace: "validate".into(),
        version: String::new(),
        scope: "user".into(),
        project_path: None,
        root: root.to_path_buf(),
        read_from_folder: None,
    };
    // The placeholders stand for themselves: `provides` shows configuration as written.
    let def = PluginDefinition::build(DefinitionInputs {
        installation,
        entry: None,
        data_dir: PathBuf::from("${CLAUDE_PLUGIN_DATA}"),
        project_dir: PathBuf::from("${CLAUDE_PROJECT_DIR}"),
        options: Named::default(),
        warnings: Vec::new(),
        manifest_file: Some(manifest.to_path_buf()),
    })
    .ok()?;
    let root_text = root.to_string_lossy().into_owned();
    let as_written = |v: &Value| unsubstitute(v, &root_text);
    let c = &def.components;
    let names = |list: &[MarkdownComponent]| {
        let mut n: Vec<String> = list
            .iter()
            .map(|m| format!("{}:{}", def.manifest_name, m.name))
            .collect();
        n.sort();
        n
    };
    let mut hooks = Vec::new();
    for (event, groups) in c.hooks.iter() {
        for g in groups {
            for h in &g.hooks {
                let mut o = Map::new();
                o.insert("event".into(), json!(event));
                if let Some(m) = &g.matcher {
                    o.insert("matcher".into(), json!(m));
                }
                for key in ["type", "command", "args", "prompt", "url"] {
                    if let Some(v) = h.get(key) {
                        let v = match (key, v.as_str()) {
                            ("url", Some(u)) => json!(normalized_url(u, false)),
                            _ => as_written(v),
                        };
                        o.insert(key.into(), v);
                    }
                }
                hooks.push(Value::Object(o));
            }
        }
    }
    let mut mcp: Vec<(&str, Value)> = c
        .mcp_servers
        .iter()
        .map(|(n, s)| {
            let cfg = as_written(&s.config);
            let v = if s.transport == "stdio" {
                json!({"name": n, "type": "stdio", "target": cfg.get("command"),
                       "args": cfg.get("args").cloned().unwrap_or(json!([]))})
            } else {
                let url = cfg.get("url").and_then(Value::as_str).unwrap_or_default();
                json!({"name": n, "type": s.transport, "target": normalized_url(url, true)})
            };
            (n, v)
        })
        .collect();
    mcp.sort_by(|a, b| a.0.cmp(b.0));
    let lsp: Vec<Value> = c
        .lsp_servers
        .iter()
        .map(|(n, s)| json!({"name": n, "command": as_written(&s.config).get("command")}))
        .collect();
    let monitors: Vec<Value> = c
        .monitors
        .iter()
        .map(|m| {
            let cfg = as_written(&m.config);
            json!({"name": cfg.get("name"), "command": cfg.get("command")})
        })
        .collect();
    let mut bin: Vec<String> = c
        .bin
        .as_deref()
        .and_then(|b| fs::read_dir(b).ok())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    bin.sort();
    Some(json!({
        "modules": [],
        "hooks": hooks,
        "mcpServers": mcp.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "lspServers": lsp,
        "monitors": monitors,
        "skills": names(&c.skills),
        "commands": names(&c.commands),
        "agents": names(&c.agents),
        "outputStyles": names(&c.output_styles),
        "themes": names(&c.themes),
        // Claude Code 2.1.328 lists none here, even for `.js` files `resolve` reports.
        "workflows": [],
        "bin": bin,
    }))
}

/// `v` with the plugin root put back as `${CLAUDE_PLUGIN_ROOT}`.
fn unsubstitute(v: &Value, root: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace(root, "${CLAUDE_PLUGIN_ROOT}")),
        Value::Array(a) => Value::Array(a.iter().map(|i| unsubstitute(i, root)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, i)| (k.clone(), unsubstitute(i, root)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A URL as WHATWG parsing writes it (`https://x` → `https://x/`); a server's target drops the
/// query and fragment, which may hold credentials. Unparsable text is kept.
fn normalized_url(raw: &str, target: bool) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if target {
                u.set_query(None);
                u.set_fragment(None);
            }
            u.to_string()
        }
        Err(_) => raw.to_string(),
    }
}
