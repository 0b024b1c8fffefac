//! `details`: an installed plugin's component inventory and what it adds to a model's context,
//! as Claude Code 2.1.328's `claude plugin details` counts it — from the same model of the
//! plugin `resolve` builds.
//!
//! Always-on: what every session carries for each skill, command and agent (its name,
//! description and `when_to_use`); on-invoke: its body, read when it fires. Claude Code asks
//! the API to count tokens when it can and otherwise estimates a quarter of a token per
//! character (UTF-16 code units), which is what this does (no network, no account).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Context, OpError};
use crate::definition::{MarkdownComponent, PluginDefinition, frontmatter};
use crate::marketplace::PluginEntry;

/// The largest component file read, as Claude Code (1 MiB).
const READ_LIMIT: u64 = 1 << 20;

/// Characters per token of the estimate.
const CHARS_PER_TOKEN: f64 = 4.0;

#[derive(Debug, Clone)]
pub struct PluginDetails {
    /// The plugin's name (plugin.json's, else the entry's).
    pub name: String,
    /// plugin.json's `displayName`, when it differs from the name.
    pub display_name: Option<String>,
    pub version: String,
    pub description: Option<String>,
    /// `name@marketplace`.
    pub source: String,
    pub skills: Vec<CostedComponent>,
    pub commands: Vec<CostedComponent>,
    pub agents: Vec<CostedComponent>,
    /// Hook events with hooks.
    pub hooks: Vec<String>,
    pub mcp_servers: Vec<String>,
    pub lsp_servers: Vec<String>,
}

/// A skill, command or agent and the characters it adds to a context.
#[derive(Debug, Clone)]
pub struct CostedComponent {
    pub name: String,
    pub file: Option<PathBuf>,
    /// `None` when its file could not be read.
    pub chars: Option<Chars>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chars {
    pub always_on: usize,
    pub on_invoke: usize,
}

impl PluginDetails {
    /// The components counted, in Claude Code's order: skills, agents, commands.
    pub fn costed(&self) -> impl Iterator<Item = (&CostedComponent, Chars)> {
        self.skills
            .iter()
            .chain(&self.agents)
            .chain(&self.commands)
            .filter_map(|c| c.chars.map(|ch| (c, ch)))
    }

    /// Characters added to every session, all components together.
    pub fn always_on_chars(&self) -> usize {
        self.costed().map(|(_, c)| c.always_on).sum()
    }
}

/// Claude Code's estimate of the tokens of `chars` characters.
pub fn estimated_tokens(chars: usize) -> u64 {
    (chars as f64 / CHARS_PER_TOKEN).round() as u64
}

pub fn details(ctx: &Context, raw: &str) -> Result<PluginDetails, OpError> {
    let (def, entry) = super::resolve::resolve_with_entry(ctx, raw, false)?;
    Ok(from_definition(&def, entry.as_ref()))
}

fn from_definition(def: &PluginDefinition, entry: Option<&PluginEntry>) -> PluginDetails {
    // Claude Code shows the entry's words over plugin.json's.
    let text = |k: &str| {
        let from = |raw: Option<&serde_json::Map<String, serde_json::Value>>| {
            raw.and_then(|r| r.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        from(entry.map(|e| &e.raw)).or_else(|| from(def.manifest_fields.as_ref()))
    };
    let name = def.manifest_name.clone();
    let c = &def.components;
    let mut readdir = ReaddirOrder::default();
    let costed = |list: &[MarkdownComponent], kind: Kind, readdir: &mut ReaddirOrder| {
        let mut out: Vec<CostedComponent> = list
            .iter()
            .filter(|m| m.file.is_some())
            .map(|m| cost(m, kind, &name))
            .collect();
        readdir.sort(&mut out, kind);
        out
    };
    PluginDetails {
        display_name: text("displayName").filter(|d| *d != name),
        // The manifest's (the entry's first), as Claude Code prints it; none for "unknown".
        version: text("version").unwrap_or_default(),
        description: text("description"),
        source: def.installation.plugin_id.clone(),
        skills: costed(&c.skills, Kind::Skill, &mut readdir),
        commands: costed(&c.commands, Kind::Command, &mut readdir),
        agents: costed(&c.agents, Kind::Agent, &mut readdir),
        hooks: c
            .hooks
            .iter()
            .filter(|(_, groups)| !groups.is_empty())
            .map(|(event, _)| event.to_string())
            .collect(),
        mcp_servers: c.mcp_servers.iter().map(|(n, _)| n.to_string()).collect(),
        lsp_servers: c.lsp_servers.iter().map(|(n, _)| n.to_string()).collect(),
        name,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Skill,
    Command,
    Agent,
}

/// What one component adds: always on, `<plugin>:<name> <description> <when_to_use>` (an agent:
/// its bare name and text as written; a skill's or command's text made one line, `<` and `>`
/// escaped); on invoke, the body after its frontmatter.
fn cost(m: &MarkdownComponent, kind: Kind, plugin: &str) -> CostedComponent {
    let read = m.file.as_deref().and_then(|f| {
        let file = fs::File::open(f).ok()?;
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, READ_LIMIT), &mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf).into_owned())
    });
    let chars = read.map(|text| {
        let fm = frontmatter::parse(&text);
        let body = frontmatter::body(&text);
        let scalar = |k: &str| match &fm {
            frontmatter::Frontmatter::Parsed(y) => frontmatter::get(y, k).and_then(yaml_text),
            _ => None,
        };
        let description = scalar("description")
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| first_line(body));
        let when = scalar("when_to_use");
        let name = listed_name(m, kind);
        let (shown_name, description, when) = match kind {
            Kind::Agent => (name, description, when),
            Kind::Skill | Kind::Command => (
                format!("{plugin}:{}", id_chars(&name)),
                one_line(&description),
                when.as_deref().map(one_line),
            ),
        };
        let always_on = [Some(shown_name), Some(description), when]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Chars {
            always_on: utf16_len(&always_on),
            on_invoke: utf16_len(body.trim()),
        }
    });
    CostedComponent {
        name: listed_name(m, kind),
        file: m.file.clone(),
        chars,
    }
}

/// The name Claude Code's inventory gives a component: an agent's or command's file name
/// without `.md`, a skill's folder name (its frontmatter's `name` is what hosts use, and what
/// `resolve` shows).
fn listed_name(m: &MarkdownComponent, kind: Kind) -> String {
    let path = match kind {
        Kind::Skill => m.dir.as_deref(),
        Kind::Agent | Kind::Command => m.file.as_deref(),
    };
    let stem = match kind {
        Kind::Skill => path.and_then(Path::file_name),
        Kind::Agent | Kind::Command => path.and_then(Path::file_stem),
    };
    stem.map_or_else(|| m.name.clone(), |s| s.to_string_lossy().into_owned())
}

/// A frontmatter value as text: strings, numbers and booleans (Claude Code drops the rest).
fn yaml_text(y: &yaml_rust2::Yaml) -> Option<String> {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Without a `description`: the first non-empty line of the body, a heading's text without its
/// `#`s, cut to 100 characters; "Skill" when there is none.
fn first_line(body: &str) -> String {
    let Some(line) = body.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return "Skill".to_string();
    };
    let heading = line.trim_start_matches('#');
    let text = if heading.len() < line.len() && heading.starts_with(char::is_whitespace) {
        heading.trim_start()
    } else {
        line
    };
    if text.chars().count() > 100 {
        format!("{}...", text.chars().take(97).collect::<String>())
    } else {
        text.to_string()
    }
}

/// A skill's or command's text as Claude Code lists it: control characters and line breaks
/// become single spaces, `<` and `>` are escaped.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else if c == '<' {
            out.push_str("&lt;");
        } else if c == '>' {
            out.push_str("&gt;");
        } else {
            out.push(c);
        }
    }
    out
}

/// A component name in an id: characters other than letters, digits, `_` and `-` become `-`.
fn id_chars(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Length in UTF-16 code units, as JavaScript counts a string.
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Claude Code lists a folder's skills, commands and agents in the order the folder yields them
/// (not sorted), and so does this: components keep their folders' order, and within a folder
/// the order of its listing.
#[derive(Default)]
struct ReaddirOrder {
    listings: HashMap<PathBuf, Vec<std::ffi::OsString>>,
}

impl ReaddirOrder {
    fn position(&mut self, entry: &Path) -> (PathBuf, usize) {
        let (Some(parent), Some(name)) = (entry.parent(), entry.file_name()) else {
            return (PathBuf::new(), usize::MAX);
        };
        let listing = self
            .listings
            .entry(parent.to_path_buf())
            .or_insert_with(|| {
                fs::read_dir(parent)
                    .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
                    .unwrap_or_default()
            });
        let at = listing.iter().position(|n| n == name).unwrap_or(usize::MAX);
        (parent.to_path_buf(), at)
    }

    fn sort(&mut self, list: &mut [CostedComponent], kind: Kind) {
        // A skill is its folder (holding SKILL.md); others are their files.
        let entry = |c: &CostedComponent| -> PathBuf {
            let f = c.file.clone().unwrap_or_default();
            match kind {
                Kind::Skill => f.parent().map(Path::to_path_buf).unwrap_or(f),
                _ => f,
            }
        };
        let mut folders: Vec<PathBuf> = Vec::new();
        let mut keys: Vec<(usize, usize)> = Vec::with_capacity(list.len());
        for c in list.iter() {
            let (parent, at) = self.position(&entry(c));
            let folder = match folders.iter().position(|f| *f == parent) {
                Some(i) => i,
                None => {
                    folders.push(parent);
                    folders.len() - 1
                }
            };
            keys.push((folder, at));
        }
        let mut indexed: Vec<(usize, (usize, usize))> = keys.into_iter().enumerate().collect();
        indexed.sort_by_key(|(_, k)| *k);
        let order: Vec<usize> = indexed.into_iter().map(|(i, _)| i).collect();
        let sorted: Vec<CostedComponent> = order.iter().map(|&i| list[i].clone()).collect();
        list.clone_from_slice(&sorted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_and_the_text_are_claude_codes() {
        assert_eq!(estimated_tokens(888 * 4), 888);
        assert_eq!(estimated_tokens(6), 2);
        assert_eq!(one_line("a\nb\r\n<c>"), "a b &lt;c&gt;");
        assert_eq!(id_chars("a.b c"), "a-b-c");
        assert_eq!(first_line("\n\n## Deploy it\nmore"), "Deploy it");
        assert_eq!(first_line(""), "Skill");
        assert_eq!(first_line(&"x".repeat(120)).len(), 100);
    }
}
