//! The report's `provides`: what the plugin loads, from `resolve`'s component discovery
//! ([`PluginDefinition`]) in Claude Code 2.1.328's element format (`plugin:name`, hook and
//! server summaries with their configuration as written).

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::definition::{
    DefinitionInputs, HookGroup, Installation, MarkdownComponent, Named, PluginDefinition,
    ServerComponent,
};

/// What the plugin loads, in Claude Code's element format (`validate --json`'s `provides`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Provides {
    /// Claude Code lists MCP bundles here; we have none.
    pub modules: [Value; 0],
    pub hooks: Vec<ProvidedHook>,
    /// Sorted by name.
    pub mcp_servers: Vec<ProvidedMcpServer>,
    pub lsp_servers: Vec<ProvidedLspServer>,
    pub monitors: Vec<ProvidedMonitor>,
    /// `<plugin>:<name>`, sorted.
    pub skills: Vec<String>,
    pub commands: Vec<String>,
    pub agents: Vec<String>,
    pub output_styles: Vec<String>,
    pub themes: Vec<String>,
    /// Claude Code 2.1.328 lists none here, even for `.js` files `resolve` reports.
    pub workflows: [Value; 0],
    /// The files of `bin/`, sorted.
    pub bin: Vec<String>,
}

/// One hook: its event and matcher, and its fields as written (those present).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ProvidedHook {
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matcher: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Value>,
    /// Normalised as WHATWG parsing writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Value>,
}

/// An MCP server: a stdio command and its arguments, or a remote server's URL.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum ProvidedMcpServer {
    Stdio {
        name: String,
        /// Always `stdio`.
        #[serde(rename = "type")]
        kind: String,
        /// The command as written (`null` when there is none).
        target: Option<Value>,
        args: Value,
    },
    Remote {
        name: String,
        /// `http`, `sse`, `ws`, …
        #[serde(rename = "type")]
        kind: String,
        /// The URL without its query and fragment (they may hold credentials).
        target: String,
    },
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ProvidedLspServer {
    pub name: String,
    pub command: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ProvidedMonitor {
    pub name: Option<Value>,
    pub command: Option<Value>,
}

/// `provides` of the plugin at `root` whose manifest `manifest` names it `name`; `None` when it cannot be
/// loaded (Claude Code prints `null` then).
pub(super) fn provides(root: &Path, manifest: &Path, name: &str) -> Option<Provides> {
    let def = definition_as_written(root, manifest, name)?;
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
    let lsp = c
        .lsp_servers
        .iter()
        .map(|(n, s)| ProvidedLspServer {
            name: n.to_string(),
            command: as_written(&s.config).get("command").cloned(),
        })
        .collect();
    let monitors = c
        .monitors
        .iter()
        .map(|m| {
            let cfg = as_written(&m.config);
            ProvidedMonitor {
                name: cfg.get("name").cloned(),
                command: cfg.get("command").cloned(),
            }
        })
        .collect();
    Some(Provides {
        modules: [],
        hooks: provided_hooks(&c.hooks, &root_text),
        mcp_servers: provided_mcp_servers(&c.mcp_servers, &root_text),
        lsp_servers: lsp,
        monitors,
        skills: names(&c.skills),
        commands: names(&c.commands),
        agents: names(&c.agents),
        output_styles: names(&c.output_styles),
        themes: names(&c.themes),
        workflows: [],
        bin: bin_files(c.bin.as_deref()),
    })
}

/// The plugin as `resolve` loads it, but with the placeholders standing for themselves:
/// `provides` shows configuration as written.
fn definition_as_written(root: &Path, manifest: &Path, name: &str) -> Option<PluginDefinition> {
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
    PluginDefinition::build(DefinitionInputs {
        installation,
        entry: None,
        data_dir: PathBuf::from("${CLAUDE_PLUGIN_DATA}"),
        project_dir: PathBuf::from("${CLAUDE_PROJECT_DIR}"),
        options: Named::default(),
        // Validate reads no secrets: a sensitive option stays as written.
        secrets: None,
        show_secrets: false,
        warnings: Vec::new(),
        manifest_file: Some(manifest.to_path_buf()),
    })
    .ok()
}

/// One element per hook, event by event.
fn provided_hooks(hooks: &Named<Vec<HookGroup>>, root: &str) -> Vec<ProvidedHook> {
    let as_written = |v: &Value| unsubstitute(v, root);
    let mut out = Vec::new();
    for (event, groups) in hooks.iter() {
        for g in groups {
            for h in &g.hooks {
                let field = |key: &str| h.get(key).map(as_written);
                out.push(ProvidedHook {
                    event: event.to_string(),
                    matcher: g.matcher.clone(),
                    kind: field("type"),
                    command: field("command"),
                    args: field("args"),
                    prompt: field("prompt"),
                    url: h.get("url").map(|v| match v.as_str() {
                        Some(u) => Value::String(normalized_url(u, false)),
                        None => as_written(v),
                    }),
                });
            }
        }
    }
    out
}

/// The MCP servers sorted by name: a stdio server's command and arguments, a remote one's URL.
fn provided_mcp_servers(servers: &Named<ServerComponent>, root: &str) -> Vec<ProvidedMcpServer> {
    let mut mcp: Vec<ProvidedMcpServer> = servers
        .iter()
        .map(|(n, s)| {
            let cfg = unsubstitute(&s.config, root);
            if s.transport == "stdio" {
                ProvidedMcpServer::Stdio {
                    name: n.to_string(),
                    kind: "stdio".into(),
                    target: cfg.get("command").cloned(),
                    args: cfg.get("args").cloned().unwrap_or(Value::Array(Vec::new())),
                }
            } else {
                let url = cfg.get("url").and_then(Value::as_str).unwrap_or_default();
                ProvidedMcpServer::Remote {
                    name: n.to_string(),
                    kind: s.transport.clone(),
                    target: normalized_url(url, true),
                }
            }
        })
        .collect();
    mcp.sort_by(|a, b| a.name().cmp(b.name()));
    mcp
}

/// The names of the files in `bin/`, sorted.
fn bin_files(bin: Option<&Path>) -> Vec<String> {
    let mut bin: Vec<String> = bin
        .and_then(|b| fs::read_dir(b).ok())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    bin.sort();
    bin
}

impl ProvidedMcpServer {
    fn name(&self) -> &str {
        match self {
            Self::Stdio { name, .. } | Self::Remote { name, .. } => name,
        }
    }
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
