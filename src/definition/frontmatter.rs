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
    let text = crate::state::json::strip_bom(text);
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

/// The Markdown after the frontmatter block (and the whitespace after its closing `---`), or
/// the whole text when there is no block: what a skill or command says when it is invoked.
pub fn body(text: &str) -> &str {
    let text = crate::state::json::strip_bom(text);
    let Some(block) = block(text) else {
        return text;
    };
    // `block` is a slice of `text`: the closing `---` follows it.
    let end = block.as_ptr() as usize - text.as_ptr() as usize + block.len() + 3;
    text.get(end..).unwrap_or_default().trim_start()
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

/// Nodes a frontmatter may hold once its aliases are expanded, and how deep it may nest: the
/// loader copies an aliased node at every use, so a few lines of nested anchors ("billion
/// laughs") would otherwise take all memory, and dropping a very deep tree recurses.
const MAX_NODES: u64 = 10_000;
const MAX_DEPTH: usize = 64;

fn load(text: &str) -> Result<Yaml, String> {
    let at = |e: yaml_rust2::ScanError| {
        let at = e.marker();
        format!("{} at line {} column {}", e.info(), at.line(), at.col() + 1)
    };
    check_size(text).map_err(|e| {
        e.map_or_else(
            || {
                "the frontmatter is too large or too deeply nested once its aliases are expanded"
                    .to_string()
            },
            at,
        )
    })?;
    let docs = YamlLoader::load_from_str(text).map_err(at)?;
    Ok(docs.into_iter().next().unwrap_or(Yaml::Null))
}

/// Walk the parser's events, counting the nodes each anchor stands for, before anything is
/// built. `Err(None)` when over [`MAX_NODES`] or [`MAX_DEPTH`].
fn check_size(text: &str) -> Result<(), Option<yaml_rust2::ScanError>> {
    use std::collections::HashMap;
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut anchored: HashMap<usize, u64> = HashMap::new();
    // Open collections: (anchor id, nodes so far); the bottom counts the whole stream.
    let mut open: Vec<(usize, u64)> = vec![(0, 0)];
    loop {
        let (event, _) = parser.next_token().map_err(Some)?;
        let nodes = match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(id, _) | Event::MappingStart(id, _) => {
                open.push((id, 1));
                if open.len() > MAX_DEPTH {
                    return Err(None);
                }
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((id, n)) = open.pop() else {
                    return Err(None);
                };
                if id != 0 {
                    anchored.insert(id, n);
                }
                n
            }
            Event::Scalar(_, _, id, _) => {
                if id != 0 {
                    anchored.insert(id, 1);
                }
                1
            }
            Event::Alias(id) => anchored.get(&id).copied().unwrap_or(1),
            _ => continue,
        };
        let Some((_, total)) = open.last_mut() else {
            return Err(None);
        };
        *total = total.saturating_add(nodes);
        if *total > MAX_NODES {
            return Err(None);
        }
    }
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
    fn the_body_follows_the_block() {
        assert_eq!(
            body("---\nname: x\n---\n\n# Title\ntext\n"),
            "# Title\ntext\n"
        );
        assert_eq!(body("# no block\n"), "# no block\n");
        assert_eq!(body("---\nname: x\nno end\n"), "---\nname: x\nno end\n");
    }

    /// Files saved on Windows end their lines with CRLF: the block and its values read the same.
    #[test]
    fn crlf_files_read_as_lf_files() {
        let crlf = parse("---\r\nname: s\r\ndescription: A skill\r\n---\r\n\r\n# Body\r\n");
        assert_eq!(crlf.string("name"), Some("s"));
        assert_eq!(crlf.string("description"), Some("A skill"));
        assert_eq!(
            crlf,
            parse("---\nname: s\ndescription: A skill\n---\n\n# Body\n")
        );
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused_without_expanding() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert_eq!(check_size(&bomb).map_err(|e| e.is_some()), Err(false));
        let deep = format!("k: {}1{}\n", "[".repeat(100), "]".repeat(100));
        assert_eq!(check_size(&deep).map_err(|e| e.is_some()), Err(false));
        // A few aliases are fine.
        assert_eq!(check_size("a: &x [1, 2]\nb: *x\n"), Ok(()));
        let text = format!("---\n{bomb}---\nbody\n");
        assert!(
            !matches!(parse(&text), Frontmatter::Parsed(ref y) if get(y, "a9").is_some_and(|v| v.as_vec().is_some())),
            "never expanded"
        );
    }

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
