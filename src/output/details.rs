//! `details`: Claude Code's layout of a plugin's inventory and projected token cost, or our
//! JSON report.

use super::json::{CostJson, CostedJson, DetailsComponents, PluginDetailsJson};
use super::{Out, json_pretty, lossy, plugin_failure};
use crate::ops::OpError;
use crate::ops::details::{Chars, PluginDetails, estimated_tokens};

pub fn details(out: &Out, typed: &str, r: Result<PluginDetails, OpError>) -> i32 {
    let d = match r {
        Ok(d) => d,
        Err(e) => return plugin_failure(out, super::OWN, "details", "show", typed, None, &e),
    };
    if out.json {
        json_pretty(&as_json(&d));
    } else {
        println!("{}", human(&d).join("\n"));
    }
    0
}

fn as_json(d: &PluginDetails) -> PluginDetailsJson {
    let cost = |c: Chars, f: &dyn Fn(usize) -> u64| CostJson {
        always_on: f(c.always_on),
        on_invoke: f(c.on_invoke),
    };
    let list = |l: &[crate::ops::details::CostedComponent]| -> Vec<CostedJson> {
        l.iter()
            .map(|c| CostedJson {
                name: c.name.clone(),
                file: c.file.as_deref().map(lossy),
                chars: c.chars.map(|ch| cost(ch, &|n| n as u64)),
                tokens: c.chars.map(|ch| cost(ch, &estimated_tokens)),
            })
            .collect()
    };
    PluginDetailsJson {
        schema_version: super::SCHEMA_VERSION,
        plugin: d.name.clone(),
        display_name: d.display_name.clone(),
        version: d.version.clone(),
        description: d.description.clone(),
        source: d.source.clone(),
        estimate: "chars/4".into(),
        always_on_tokens: estimated_tokens(d.always_on_chars()),
        components: DetailsComponents {
            skills: list(&d.skills),
            agents: list(&d.agents),
            commands: list(&d.commands),
            hooks: d.hooks.clone(),
            mcp_servers: d.mcp_servers.clone(),
            lsp_servers: d.lsp_servers.clone(),
        },
    }
}

/// Claude Code 2.1.328's `plugin details` text, line by line.
fn human(d: &PluginDetails) -> Vec<String> {
    let mut lines = Vec::new();
    let title = match &d.display_name {
        Some(shown) => format!("{shown} ({})", d.name),
        None => d.name.clone(),
    };
    lines.push(format!("{title} {}", d.version).trim_end().to_string());
    if let Some(desc) = &d.description {
        let mut parts = desc.split('\n');
        lines.push(format!(
            "  Description: {}",
            parts.next().unwrap_or_default()
        ));
        lines.extend(parts.map(|p| format!("      {p}")));
    }
    lines.push(format!("  Source: {}", d.source));
    lines.push(String::new());
    lines.push("Component inventory".into());
    let mut skills: Vec<&str> = d
        .skills
        .iter()
        .chain(&d.commands)
        .map(|c| c.name.as_str())
        .collect();
    skills.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    let agents: Vec<&str> = d.agents.iter().map(|c| c.name.as_str()).collect();
    for (label, list, note) in [
        ("Skills", skills, ""),
        ("Agents", agents, ""),
        (
            "Hooks",
            names(&d.hooks),
            "  (harness-only — no model context cost)",
        ),
        (
            "MCP servers",
            names(&d.mcp_servers),
            "  (tool schemas resolved at runtime; not counted)",
        ),
        (
            "LSP servers",
            names(&d.lsp_servers),
            "  (no model context cost)",
        ),
    ] {
        if list.is_empty() {
            lines.push(format!("  {label} (0)"));
        } else {
            lines.push(format!(
                "  {label} ({})  {}{note}",
                list.len(),
                list.join(", ")
            ));
        }
    }
    lines.push(String::new());
    lines.push("Projected token cost".into());
    lines.push(format!(
        "  Always-on:   ~{} tok   added to every session",
        grouped(estimated_tokens(d.always_on_chars()))
    ));
    let rows: Vec<_> = d.costed().collect();
    if !rows.is_empty() {
        lines.push(String::new());
        lines.push("Per-component (rounded)".into());
        let width = rows
            .iter()
            .map(|(c, _)| c.name.encode_utf16().count())
            .max()
            .unwrap_or(0)
            .max(9);
        let pad = |s: &str| {
            format!(
                "{s}{}",
                " ".repeat(width - s.encode_utf16().count().min(width))
            )
        };
        lines.push(format!(
            "  {}  {:>9}  {:>9}",
            pad("component"),
            "always-on",
            "on-invoke"
        ));
        for (c, ch) in rows {
            lines.push(format!(
                "  {}  {:>9}  {:>9}",
                pad(&c.name),
                rounded(estimated_tokens(ch.always_on)),
                rounded(estimated_tokens(ch.on_invoke))
            ));
        }
        lines.push(String::new());
        lines.push("  On-invoke cost is paid each time a skill or agent fires.".into());
        lines.push("  Token counts are estimates and may differ from actual usage.".into());
    }
    lines
}

/// `1,234` (en-US grouping).
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Claude Code's per-component figure: `< 20`, else `~` and the count rounded to tens, compact
/// above a thousand (`~1.7k`, `~3k`, `~2.1m`).
fn rounded(tokens: u64) -> String {
    if tokens < 20 {
        return "< 20".into();
    }
    let n = (tokens + 5) / 10 * 10;
    let compact = |unit: u64, suffix: char| {
        // Tenths, rounded half up as Intl.NumberFormat does.
        let tenths = (n * 10 + unit / 2) / unit;
        let text = format!("{}.{}{suffix}", tenths / 10, tenths % 10);
        text.replacen(".0", "", 1)
    };
    let figure = match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => compact(1_000, 'k'),
        _ => compact(1_000_000, 'm'),
    };
    format!("~{figure}")
}

fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_as_claude_code_prints_them() {
        assert_eq!(rounded(12), "< 20");
        assert_eq!(rounded(96), "~100");
        assert_eq!(rounded(1_650), "~1.7k");
        assert_eq!(rounded(2_996), "~3k");
        assert_eq!(rounded(2_004_000), "~2m");
        assert_eq!(grouped(888), "888");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
