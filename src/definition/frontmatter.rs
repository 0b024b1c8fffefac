//! YAML frontmatter of skill, agent and command files, read as Claude Code 2.1.328 reads it:
//! the block is the text between a first line `---` and the next `---` (anywhere, even inside a
//! value), parsed as YAML; when that fails, values holding YAML syntax characters are quoted and
//! leading tabs turned into spaces, and the block is parsed again.

use yaml_rust2::{Yaml, YamlLoader};

/// The frontmatter of a Markdown file.
#[derive(Debug, Clone, PartialEq)]
pub enum Frontmatter {
    /// No block (no `---` first line, or no closing `---`).
    Missing,
    /// The block is not YAML, even after Claude Code's quoting retry.
    Invalid(String),
    /// The parsed block (`Yaml::Null` when empty).
    Parsed(Yaml),
}

impl Frontmatter {
    /// The string value of `key` of a mapping frontmatter.
    pub fn string(&self, key: &str) -> Option<&str> {
        match self {
            Frontmatter::Parsed(y) => get(y, key).and_then(Yaml::as_str),
            _ => None,
        }
    }
}

/// `key` of a YAML mapping.
pub fn get<'a>(y: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    y.as_hash()?.get(&Yaml::String(key.to_string()))
}

/// The frontmatter of `text` (a leading byte-order mark is ignored).
pub fn parse(text: &str) -> Frontmatter {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let Some(block) = block(text) else {
        return Frontmatter::Missing;
    };
    match load(block) {
        Ok(y) => Frontmatter::Parsed(y),
        Err(_) => match load(&untab(&quote_values(block))) {
            Ok(y) => Frontmatter::Parsed(y),
            Err(e) => Frontmatter::Invalid(e),
        },
    }
}

/// Claude Code's `/^---\s*\n([\s\S]*?)---\s*\n?/`: after the opening `---`, whitespace up to
/// its last newline, then everything up to the first `---`.
fn block(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---")?;
    let ws = rest.len() - rest.trim_start().len();
    let newline = rest[..ws].rfind('\n')?;
    let body = &rest[newline + 1..];
    body.find("---").map(|end| &body[..end])
}

fn load(text: &str) -> Result<Yaml, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        let at = e.marker();
        format!("{} at line {} column {}", e.info(), at.line(), at.col() + 1)
    })?;
    Ok(docs.into_iter().next().unwrap_or(Yaml::Null))
}

/// Claude Code's retry: a `key: value` line whose unquoted value holds `{}[]*&#!|>%@` or a
/// backtick, or `: `, gets the value double-quoted (a flow list that parses is kept).
fn quote_values(block: &str) -> String {
    let special = |v: &str| v.contains(": ") || v.chars().any(|c| "{}[]*&#!|>%@`".contains(c));
    block
        .split('\n')
        .map(|line| {
            let Some((key, value)) = key_value(line) else {
                return line.to_string();
            };
            let quoted = (value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\''));
            let flow_list = value.starts_with('[')
                && value.ends_with(']')
                && matches!(load(value), Ok(Yaml::Array(_)));
            if quoted || flow_list || !special(value) {
                return line.to_string();
            }
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            format!("{key}: \"{escaped}\"")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `^([a-zA-Z_-]+):\s+(\S.*)$` (JavaScript's `.` stops at a carriage return).
fn key_value(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let key = &line[..colon];
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-')
    {
        return None;
    }
    let after = &line[colon + 1..];
    let value = after.trim_start();
    if value.len() == after.len() || value.is_empty() {
        return None;
    }
    if value.contains(['\r', '\u{2028}', '\u{2029}']) {
        return None;
    }
    Some((key, value))
}

/// Leading tabs become two spaces each.
fn untab(text: &str) -> String {
    text.split('\n')
        .map(|l| {
            let tabs = l.len() - l.trim_start_matches('\t').len();
            format!("{}{}", "  ".repeat(tabs), &l[tabs..])
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_as_claude_code_finds_them() {
        assert_eq!(block("---\nname: x\n---\nbody"), Some("name: x\n"));
        assert_eq!(block("--- \n\nname: x\n---"), Some("name: x\n"));
        assert_eq!(block("---\nname: a---b\n---"), Some("name: a"));
        assert_eq!(block("---\nname: x\n"), None);
        assert_eq!(block("----\nname: x\n---"), None);
        assert_eq!(block("body\n---\n---"), None);
    }

    #[test]
    fn retry_quotes_values_and_untabs() {
        let f = parse("---\nname: [bad\ndescription: x: y\n---\n");
        assert_eq!(f.string("name"), Some("[bad"));
        assert_eq!(f.string("description"), Some("x: y"));
        let f = parse("---\ntools: [Read, Write]\n---\n");
        assert!(
            matches!(f, Frontmatter::Parsed(ref y) if get(y, "tools").is_some_and(|t| t.as_vec().is_some()))
        );
        assert!(matches!(
            parse("---\nname: \"open\ndescription: d\n---\n"),
            Frontmatter::Invalid(_)
        ));
        assert_eq!(parse("---\n---\n"), Frontmatter::Parsed(Yaml::Null));
        assert_eq!(parse("no block"), Frontmatter::Missing);
    }
}
