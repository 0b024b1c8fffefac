//! `${…}` substitution as Claude Code performs it when it loads a plugin: one pass over the
//! text, no recursion (a substituted value is never scanned again), and only the variables we
//! know; any other `${…}` (a shell's `${HOME}`, `${X:-default}`) is left for the process that
//! runs the command.
//!
//! Variables: `${CLAUDE_PLUGIN_ROOT}`, `${CLAUDE_PLUGIN_DATA}`, `${CLAUDE_PROJECT_DIR}`, the open
//! plugin spec's `${PLUGIN_ROOT}` / `${PLUGIN_DATA}`, Qoder's `${QODER_PLUGIN_ROOT}`, and
//! `${user_config.KEY}` (non-sensitive options the user set, or the option's declared default).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Path variables, each with what it stands for.
const PATHS: &[(&str, PathVar)] = &[
    ("CLAUDE_PLUGIN_ROOT", PathVar::Root),
    ("PLUGIN_ROOT", PathVar::Root),
    ("QODER_PLUGIN_ROOT", PathVar::Root),
    ("CLAUDE_PLUGIN_DATA", PathVar::Data),
    ("PLUGIN_DATA", PathVar::Data),
    ("CLAUDE_PROJECT_DIR", PathVar::Project),
];

const USER_CONFIG: &str = "user_config.";

#[derive(Clone, Copy, PartialEq, Eq)]
enum PathVar {
    Root,
    Data,
    Project,
}

/// The values substituted for one plugin.
#[derive(Debug, Clone)]
pub struct Variables {
    pub root: String,
    pub data: String,
    pub project: String,
    /// Option values by key: the user's `pluginConfigs[id].options`, then declared defaults.
    pub options: Map<String, Value>,
    /// Keys the plugin declares `sensitive` (kept in the OS keychain; never substituted here).
    pub sensitive: BTreeSet<String>,
}

/// What one substitution met, for the caller's warnings.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Usage {
    /// `${CLAUDE_PLUGIN_DATA}` / `${PLUGIN_DATA}` was substituted (the folder must exist).
    pub data: bool,
    /// `${user_config.KEY}` with no value: left as written.
    pub missing: Vec<String>,
    /// `${user_config.KEY}` of a sensitive option: left as written.
    pub sensitive: Vec<String>,
    /// `${user_config.KEY}` where this field does not take it: left as written.
    pub not_allowed: Vec<String>,
}

impl Usage {
    fn push(list: &mut Vec<String>, key: &str) {
        if !list.iter().any(|k| k == key) {
            list.push(key.to_string());
        }
    }
}

impl Variables {
    /// Substitute in `text`. `user_config`: whether this field takes `${user_config.KEY}`.
    pub fn expand(&self, text: &str, user_config: bool, usage: &mut Usage) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            match self.value_of(name, user_config, usage) {
                Some(v) => {
                    out.push_str(&v);
                    rest = &after[end + 1..];
                }
                None => {
                    // Unknown or left as written: keep "${" and scan on from the name, so that
                    // `${X:-${CLAUDE_PLUGIN_ROOT}}` still gets its inner variable.
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn value_of(&self, name: &str, user_config: bool, usage: &mut Usage) -> Option<String> {
        if let Some((_, var)) = PATHS.iter().find(|(n, _)| *n == name) {
            return Some(match var {
                PathVar::Root => self.root.clone(),
                PathVar::Data => {
                    usage.data = true;
                    self.data.clone()
                }
                PathVar::Project => self.project.clone(),
            });
        }
        let key = name.strip_prefix(USER_CONFIG)?;
        if key.is_empty() {
            return None;
        }
        if !user_config {
            Usage::push(&mut usage.not_allowed, key);
            return None;
        }
        if self.sensitive.contains(key) {
            Usage::push(&mut usage.sensitive, key);
            return None;
        }
        match self.options.get(key) {
            Some(v) => Some(option_text(v)),
            None => {
                Usage::push(&mut usage.missing, key);
                None
            }
        }
    }

    /// `CLAUDE_PLUGIN_OPTION_<KEY>` values exported to hook processes (non-sensitive options).
    pub fn option_env(&self) -> Vec<(String, String)> {
        self.options
            .iter()
            .filter(|(k, _)| !self.sensitive.contains(*k))
            .map(|(k, v)| {
                (
                    format!("CLAUDE_PLUGIN_OPTION_{}", k.to_ascii_uppercase()),
                    option_text(v),
                )
            })
            .collect()
    }
}

/// An option value as text: strings as they are, lists joined by commas, the rest as JSON.
pub fn option_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(option_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The known variables `text` references, in first-seen order (`user_config.KEY` included).
pub fn references(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        let known = PATHS.iter().any(|(n, _)| *n == name)
            || name
                .strip_prefix(USER_CONFIG)
                .is_some_and(|k| !k.is_empty());
        if known {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
            rest = &after[end + 1..];
        } else {
            rest = after;
        }
    }
    out
}

/// Path variables (`${NAME}` or `$NAME`) that appear outside quotes in the shell command `cmd`:
/// once substituted or expanded, a path with a space splits into two words there.
pub fn unquoted_path_vars(cmd: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum Q {
        None,
        Single,
        Double,
    }
    let bytes = cmd.as_bytes();
    let mut state = Q::None;
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match state {
            Q::Single => {
                if c == b'\'' {
                    state = Q::None;
                }
            }
            Q::Double => match c {
                b'\\' => i += 1,
                b'"' => state = Q::None,
                _ => {}
            },
            Q::None => match c {
                b'\\' => i += 1,
                b'\'' => state = Q::Single,
                b'"' => state = Q::Double,
                b'$' => {
                    if let Some((name, len)) = path_var_at(&cmd[i + 1..]) {
                        if !found.iter().any(|n| n == name) {
                            found.push(name.to_string());
                        }
                        i += len;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    found
}

/// A path variable right after a `$`: `{NAME}` or `NAME` not followed by a name character.
fn path_var_at(s: &str) -> Option<(&'static str, usize)> {
    for (name, _) in PATHS {
        if let Some(r) = s.strip_prefix('{')
            && r.strip_prefix(name).is_some_and(|t| t.starts_with('}'))
        {
            return Some((name, name.len() + 2));
        }
        if let Some(t) = s.strip_prefix(name)
            && !t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            return Some((name, name.len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Variables {
        let mut options = Map::new();
        options.insert("region".into(), json!("eu"));
        options.insert("tags".into(), json!(["a", "b"]));
        options.insert("port".into(), json!(8080));
        options.insert("token".into(), json!("secret"));
        Variables {
            root: "/c/p 1".into(),
            data: "/d/p-m".into(),
            project: "/w".into(),
            options,
            sensitive: ["token".to_string()].into_iter().collect(),
        }
    }

    #[test]
    fn one_pass_no_recursion() {
        let mut v = vars();
        v.root = "${CLAUDE_PLUGIN_DATA}".into();
        let mut u = Usage::default();
        assert_eq!(
            v.expand("${CLAUDE_PLUGIN_ROOT}/x", true, &mut u),
            "${CLAUDE_PLUGIN_DATA}/x"
        );
        assert!(!u.data);
    }

    #[test]
    fn every_variable() {
        let v = vars();
        let mut u = Usage::default();
        let s = v.expand(
            "${PLUGIN_ROOT}|${QODER_PLUGIN_ROOT}|${PLUGIN_DATA}|${CLAUDE_PROJECT_DIR}|${user_config.region}|${user_config.tags}|${user_config.port}|${HOME}|${X:-${CLAUDE_PLUGIN_ROOT}}|${open",
            true,
            &mut u,
        );
        assert_eq!(
            s,
            "/c/p 1|/c/p 1|/d/p-m|/w|eu|a,b|8080|${HOME}|${X:-/c/p 1}|${open"
        );
        assert!(u.data);
        assert_eq!(
            u,
            Usage {
                data: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn user_config_left_as_written() {
        let v = vars();
        let mut u = Usage::default();
        assert_eq!(
            v.expand("${user_config.nope} ${user_config.token}", true, &mut u),
            "${user_config.nope} ${user_config.token}"
        );
        assert_eq!(u.missing, vec!["nope"]);
        assert_eq!(u.sensitive, vec!["token"]);
        let mut u = Usage::default();
        assert_eq!(
            v.expand("${user_config.region}", false, &mut u),
            "${user_config.region}"
        );
        assert_eq!(u.not_allowed, vec!["region"]);
    }

    #[test]
    fn references_in_markdown() {
        assert_eq!(
            references(
                "run ${CLAUDE_PLUGIN_ROOT}/a ${HOME} ${user_config.k} ${CLAUDE_PLUGIN_ROOT}"
            ),
            vec!["CLAUDE_PLUGIN_ROOT", "user_config.k"]
        );
    }

    #[test]
    fn quoting() {
        assert!(unquoted_path_vars(r#""${CLAUDE_PLUGIN_ROOT}/x.sh" a"#).is_empty());
        assert!(unquoted_path_vars("'${CLAUDE_PLUGIN_ROOT}/x.sh'").is_empty());
        assert!(unquoted_path_vars(r#"sh -c "cd \"$CLAUDE_PLUGIN_ROOT\"""#).is_empty());
        assert_eq!(
            unquoted_path_vars(
                "${CLAUDE_PLUGIN_ROOT}/x.sh $CLAUDE_PLUGIN_DATA ${CLAUDE_PLUGIN_ROOTS}"
            ),
            vec!["CLAUDE_PLUGIN_ROOT", "CLAUDE_PLUGIN_DATA"]
        );
        assert_eq!(
            unquoted_path_vars(r#"echo \"${PLUGIN_ROOT}"#),
            vec!["PLUGIN_ROOT"]
        );
    }
}
