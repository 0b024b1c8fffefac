//! Name rules for marketplaces and plugins, with Claude Code 2.1.328's messages.
//!
//! A name becomes a folder under `cache/`, so on top of Claude Code's schema checks every id
//! part must match `^[A-Za-z0-9][-A-Za-z0-9._]*$` (Claude Code's plugin-id rule).

/// Official names, reserved unless the marketplace comes from github.com/anthropics.
const RESERVED: &[&str] = &[
    "claude-code-marketplace",
    "claude-code-plugins",
    "claude-plugins-official",
    "anthropic-marketplace",
    "anthropic-plugins",
    "agent-skills",
    "anthropic-agent-skills",
    "life-sciences",
    "knowledge-work-plugins",
    "claude-for-legal",
    "claude-for-financial-services",
    "financial-services-plugins",
    "first-party-plugins",
    "claude-tag-plugins",
    "claude-community",
    "claude-plugins-community",
    "healthcare",
    "anthropic-plugin-directory",
    "claude-plugin-directory",
];

/// Names Claude Code uses for plugin origins.
const ORIGINS: &[(&str, &str)] = &[
    ("inline", "--plugin-dir session plugins"),
    ("builtin", "built-in plugins"),
    ("skills-dir", "plugins auto-loaded from .claude/skills/"),
    ("synced", "plugins synced from your claude.ai account"),
    ("claude-plugin-test", "plugins loaded by claude plugin test"),
];

/// Whether `name` (any casing) is one of Claude Code's plugin origins (`inline`, `builtin`, …):
/// plugins of these "marketplaces" are loaded by a session, never installed.
pub fn is_origin(name: &str) -> bool {
    ORIGINS.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Package-manager names Claude Code reserves in any casing.
const TOOL_NAMES: &[&str] = &["npm", "pip", "uv", "cargo", "github", "gh"];

/// Whether `name` is usable as one part of `plugin@marketplace` and as a folder name.
pub fn is_valid_id_part(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

fn has_control_or_bidi(name: &str) -> bool {
    name.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

/// Schema problems of a marketplace `name` (the messages of Claude Code's validator).
pub fn marketplace_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("Marketplace must have a name".into());
    }
    if name.contains(' ') {
        return Some(
            "Marketplace name cannot contain spaces. Use kebab-case (e.g., \"my-marketplace\")"
                .into(),
        );
    }
    if has_control_or_bidi(name) {
        return Some(
            "Marketplace name cannot contain control or bidirectional-formatting characters".into(),
        );
    }
    if name.contains('/') || name.contains('\\') || name.contains("..") || name == "." {
        return Some(
            "Marketplace name cannot contain path separators (/ or \\), \"..\" sequences, or be \".\""
                .into(),
        );
    }
    if impersonates(name) {
        return Some(
            "Marketplace name impersonates an official Anthropic/Claude marketplace".into(),
        );
    }
    let lower = name.to_ascii_lowercase();
    if let Some((_, what)) = ORIGINS.iter().find(|(n, _)| *n == lower) {
        return Some(format!(
            "Marketplace name \"{lower}\" is reserved for {what}"
        ));
    }
    if TOOL_NAMES.contains(&lower.as_str()) {
        return Some(format!(
            "Marketplace name \"{name}\" is reserved (it names a package tool)"
        ));
    }
    if !is_valid_id_part(name) {
        return Some(format!(
            "Marketplace name \"{name}\" may use only the letters a-z and A-Z, digits, \".\", \"_\" and \"-\", and must start with a letter or digit"
        ));
    }
    None
}

/// The reserved-name refusal for a marketplace that is not from github.com/anthropics, also
/// catching look-alike spellings (`claude.code.plugins`, `claude-plugins-official.`).
pub fn reserved_name_problem(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let normalized: String = lower
        .trim_end_matches('.')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    (RESERVED.contains(&lower.as_str()) || RESERVED.contains(&normalized.as_str())).then(|| {
        format!(
            "The name '{name}' is reserved for official Anthropic marketplaces and can only be used with GitHub sources from the 'anthropics' organization."
        )
    })
}

/// Claude Code's impersonation test: names that read as an official Anthropic/Claude catalog.
pub fn impersonates(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) {
        return false;
    }
    if name.chars().any(|c| !(' '..='~').contains(&c)) {
        return true;
    }
    const WORDS: &[&str] = &[
        "marketplace",
        "plugins",
        "official",
        "directory",
        "directories",
    ];
    let trimmed = lower.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    if official_pattern(&lower) || prefix_pattern(&lower, WORDS) || prefix_pattern(trimmed, WORDS) {
        return true;
    }
    let squashed: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    if [
        "officialanthropic",
        "officialclaude",
        "anthropicofficial",
        "claudeofficial",
    ]
    .iter()
    .any(|p| squashed.contains(p))
    {
        return true;
    }
    // Word prefixes joined without separators: "claude" + "plugins" (+ "s").
    let limit = 9 + WORDS.iter().map(|w| w.len()).max().unwrap_or(0) + 1;
    let mut joined = String::new();
    for word in lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        joined.push_str(word);
        for brand in ["anthropic", "claude"] {
            if let Some(rest) = joined.strip_prefix(brand)
                && (WORDS.contains(&rest)
                    || rest.strip_suffix('s').is_some_and(|r| WORDS.contains(&r)))
            {
                return true;
            }
        }
        if joined.len() > limit {
            break;
        }
    }
    false
}

/// `official<sep>*(anthropic|claude)` or `(anthropic|claude)<sep>*official` anywhere.
fn official_pattern(lower: &str) -> bool {
    let skip_sep = |s: &str| {
        s.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string()
    };
    for (i, _) in lower.match_indices("official") {
        let rest = skip_sep(&lower[i + "official".len()..]);
        if rest.starts_with("anthropic") || rest.starts_with("claude") {
            return true;
        }
    }
    for brand in ["anthropic", "claude"] {
        for (i, _) in lower.match_indices(brand) {
            if skip_sep(&lower[i + brand.len()..]).starts_with("official") {
                return true;
            }
        }
    }
    false
}

/// `^(anthropic|claude)<sep>*(word)`.
fn prefix_pattern(lower: &str, words: &[&str]) -> bool {
    ["anthropic", "claude"].iter().any(|brand| {
        lower.strip_prefix(brand).is_some_and(|rest| {
            let rest = rest.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
            words.iter().any(|w| rest.starts_with(w))
        })
    })
}

/// Schema problems of a plugin entry `name`, then the plugin-id rule's.
pub fn plugin_name_problem(name: &str) -> Option<String> {
    plugin_schema_problem(name).or_else(|| plugin_id_problem(name))
}

/// The catalog schema's rules for a plugin name: not empty, no spaces, no control or bidi
/// characters.
pub fn plugin_schema_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("Plugin name cannot be empty".into());
    }
    if name.contains(' ') {
        return Some(
            "Plugin name cannot contain spaces. Use kebab-case (e.g., \"my-plugin\")".into(),
        );
    }
    has_control_or_bidi(name)
        .then(|| "Plugin name cannot contain control or bidirectional-formatting characters".into())
}

/// The rule for a part of a plugin id (`plugin@marketplace`) Claude Code can install.
pub fn plugin_id_problem(name: &str) -> Option<String> {
    (!is_valid_id_part(name)).then(|| format!(
        "Claude Code cannot install plugin \"{name}\". Each part of a plugin id (plugin@marketplace) may use only the letters a-z and A-Z, digits, \".\", \"_\" and \"-\", and must start with a letter or digit. Change this entry's \"name\"."
    ))
}

/// Claude Code's kebab-case rule for names (lowercase letters, digits, single hyphens).
pub fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab() {
        assert!(is_kebab("my-plugin-2"));
        for bad in ["MyPlugin", "a.b", "a_b", "-a", "a--b", ""] {
            assert!(!is_kebab(bad), "{bad}");
        }
    }

    #[test]
    fn claude_code_accepts_and_refuses_the_same_names() {
        for ok in [
            "MyMarket",
            "anthropic",
            "anthropic-tools",
            "claude-code-plugins-plus",
            "claude-code-workflows",
            "claude-mem",
            "m1",
        ] {
            assert_eq!(marketplace_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "claude-plugins",
            "claude-official",
            "official-claude-plugins",
            "claude-plugins-official-2",
            "claudeplugins",
            "é1",
        ] {
            assert!(
                marketplace_name_problem(bad)
                    .unwrap()
                    .contains("impersonates"),
                "{bad}"
            );
        }
        assert!(
            marketplace_name_problem("my market")
                .unwrap()
                .contains("spaces")
        );
        assert!(
            marketplace_name_problem("a/b")
                .unwrap()
                .contains("path separators")
        );
        assert!(
            marketplace_name_problem("..")
                .unwrap()
                .contains("path separators")
        );
        assert!(
            marketplace_name_problem("../x")
                .unwrap()
                .contains("path separators")
        );
        assert!(
            marketplace_name_problem("inline")
                .unwrap()
                .contains("reserved for --plugin-dir")
        );
        assert!(
            marketplace_name_problem("NPM")
                .unwrap()
                .contains("reserved")
        );
        assert!(
            marketplace_name_problem("-x")
                .unwrap()
                .contains("must start")
        );
    }

    #[test]
    fn reserved_and_look_alikes() {
        for n in [
            "claude-plugins-official",
            "life-sciences",
            "Claude-Code-Plugins",
            "claude.code.plugins",
            "claude-plugins-official.",
        ] {
            assert!(reserved_name_problem(n).is_some(), "{n}");
        }
        assert!(reserved_name_problem("my-plugins").is_none());
        assert!(reserved_name_problem("claude_code_plugins").is_none());
    }

    #[test]
    fn plugin_names() {
        assert_eq!(plugin_name_problem("a.b_c-1"), None);
        assert!(plugin_name_problem("My Plugin").unwrap().contains("spaces"));
        assert!(
            plugin_name_problem("a@b")
                .unwrap()
                .contains("Each part of a plugin id")
        );
        assert!(plugin_name_problem("").unwrap().contains("empty"));
    }
}
