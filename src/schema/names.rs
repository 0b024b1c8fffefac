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

pub fn has_control_or_bidi(name: &str) -> bool {
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

/// Whether a marketplace may list plugins with names that pass as Anthropic's own: one of
/// Anthropic's official catalogs (Claude Code 2.1.328's list).
pub fn may_use_reserved_plugin_names(marketplace: &str) -> bool {
    let lower = marketplace.to_lowercase();
    RESERVED.contains(&lower.as_str())
}

/// A plugin name that passes as Anthropic's own (an error) or reads as it (a warning), with
/// Claude Code 2.1.328's `validate` message. Install does not apply it; validate does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservedName {
    Reserved(String),
    LooksOfficial(String),
}

pub fn reserved_plugin_name(name: &str) -> Option<ReservedName> {
    const MARKS: &[&str] = &["claude", "anthropic", "anthropics"];
    // Words that may not start a name ("claude-…", "cc-plugin-…"), and whole names.
    const LEADS: &[&str] = &["claude", "anthropic", "anthropics", "ccplugin"];
    const WHOLE: &[&str] = &[
        "claude",
        "anthropic",
        "anthropics",
        "claudecode",
        "claudemods",
    ];
    let non_ascii = name.chars().any(|c| !(' '..='~').contains(&c));
    let read = if non_ascii {
        read_as_ascii(name)
    } else {
        name.to_string()
    }
    .to_lowercase();
    let shown = if non_ascii {
        format!("\"{name}\" (read as \"{read}\")")
    } else {
        format!("\"{name}\"")
    };
    let words: Vec<&str> = read
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let limit = 10;
    let mut joined = String::new();
    let mut reserved = false;
    for (i, w) in words.iter().enumerate() {
        joined.push_str(w);
        let whole = i + 1 == words.len();
        if (whole && WHOLE.contains(&joined.as_str()))
            || (!whole && LEADS.contains(&joined.as_str()))
        {
            reserved = true;
            break;
        }
        if joined.len() > limit {
            break;
        }
    }
    let squashed = words.concat();
    if reserved || official_pattern(&read) || official_pattern(&squashed) {
        return Some(ReservedName::Reserved(format!(
            "Plugin name {shown} is reserved: it passes as one of Anthropic's own. A third party's plugin name cannot start with \"claude-\", \"anthropic-\", \"anthropics-\", or \"cc-plugin-\", be \"claude\", \"anthropic\", \"anthropics\", \"claude-code\", or \"claude-mods\", or put \"official\" beside \"claude\" or \"anthropic\". Name it for what it does."
        )));
    }
    MARKS.iter().any(|m| words.contains(m)).then(|| {
        ReservedName::LooksOfficial(format!(
            "Plugin name {shown} reads as one of Anthropic's own. Name it for what it does."
        ))
    })
}

/// A name's look-alike letters read as ASCII (accents dropped, full-width forms and the Cyrillic
/// and Greek letters that pass for Latin ones mapped), as Claude Code reads a name before
/// judging it. Letters without a look-alike stay as they are.
fn read_as_ascii(name: &str) -> String {
    name.chars()
        .filter(|c| !('\u{0300}'..='\u{036F}').contains(c))
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            'а' | 'α' => 'a',
            'с' | 'ϲ' => 'c',
            'ԁ' => 'd',
            'е' | 'ε' => 'e',
            'һ' => 'h',
            'і' | 'ι' | 'ı' => 'i',
            'ј' => 'j',
            'к' | 'κ' => 'k',
            'ӏ' | 'ℓ' => 'l',
            'м' => 'm',
            'п' | 'η' => 'n',
            'о' | 'ο' | 'σ' => 'o',
            'р' | 'ρ' => 'p',
            'ѕ' => 's',
            'т' | 'τ' => 't',
            'υ' | 'ս' => 'u',
            'ν' => 'v',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            'À'..='Å' | 'à'..='å' => 'a',
            'Ç' | 'ç' => 'c',
            'È'..='Ë' | 'è'..='ë' => 'e',
            'Ì'..='Ï' | 'ì'..='ï' => 'i',
            'Ñ' | 'ñ' => 'n',
            'Ò'..='Ö' | 'ò'..='ö' => 'o',
            'Ù'..='Ü' | 'ù'..='ü' => 'u',
            _ => c,
        })
        .collect()
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
    fn plugin_names_that_pass_as_anthropics() {
        let reserved = |n: &str| matches!(reserved_plugin_name(n), Some(ReservedName::Reserved(_)));
        let looks = |n: &str| {
            matches!(
                reserved_plugin_name(n),
                Some(ReservedName::LooksOfficial(_))
            )
        };
        for n in [
            "claude-helper",
            "Claude_Tools",
            "anthropics-x",
            "cc-plugin-lint",
            "claude",
            "claude-code",
            "claude.mods",
            "official-claude-thing",
            "x-anthropic-official",
            "сlaude-helper",
        ] {
            assert!(reserved(n), "{n}");
        }
        for n in ["my-claude-helper", "tools-for-anthropic"] {
            assert!(looks(n), "{n}");
        }
        for n in ["claudette", "helper", "cc-plugins", "claude-code-x"] {
            assert!(!reserved(n) || n == "claude-code-x", "{n}");
        }
        assert!(reserved("claude-code-x"), "starts with claude-");
        assert_eq!(reserved_plugin_name("claudette"), None);
        assert_eq!(
            reserved_plugin_name("claude-helper"),
            Some(ReservedName::Reserved("Plugin name \"claude-helper\" is reserved: it passes as one of Anthropic's own. A third party's plugin name cannot start with \"claude-\", \"anthropic-\", \"anthropics-\", or \"cc-plugin-\", be \"claude\", \"anthropic\", \"anthropics\", \"claude-code\", or \"claude-mods\", or put \"official\" beside \"claude\" or \"anthropic\". Name it for what it does.".into()))
        );
        assert!(may_use_reserved_plugin_names("claude-plugins-official"));
        assert!(may_use_reserved_plugin_names("Healthcare"));
        assert!(!may_use_reserved_plugin_names("my-market"));
    }

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
