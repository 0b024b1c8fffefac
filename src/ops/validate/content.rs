//! Checks of component files on their own, with Claude Code 2.1.328's messages: the frontmatter
//! of skills, agents and commands, and hooks (a hooks file, or `hooks` inline in plugin.json).

use serde_json::{Map, Value};
use yaml_rust2::Yaml;

use super::{FileKind, Findings};
use crate::definition::frontmatter::{self, Frontmatter};
use crate::definition::substitute::unquoted_path_vars;

use crate::schema::plugin_manifest::{
    GUARD_EVENTS, GUARD_WHY, HOOK_EVENTS, described as a_type, hook_entry_problem as hook_problem,
};

/// What a refused guard hook's message ends with.
fn guard_tail() -> String {
    format!(" — {GUARD_WHY}")
}

// ------------------------------------------------------------------ frontmatter

/// The frontmatter block, when it is a YAML mapping (or empty); else the finding that says why
/// it is not (missing, not YAML, not a mapping), and `None`.
fn frontmatter_mapping(text: &str, kind: FileKind, f: &mut Findings) -> Option<Yaml> {
    let what = kind.as_str();
    let y = match frontmatter::parse(text) {
        Frontmatter::Missing => {
            f.warn(
                "frontmatter",
                "frontmatter-missing",
                "No frontmatter block found. Add YAML frontmatter between --- delimiters at the top of the file to set description and other metadata.",
            );
            return None;
        }
        Frontmatter::Invalid(e) => {
            let tail = if kind == FileKind::Agent {
                "At runtime this agent loads with its name taken from the filename and every other frontmatter field silently dropped.".to_string()
            } else {
                format!(
                    "At runtime this {what} loads with empty metadata (all frontmatter fields silently dropped)."
                )
            };
            f.error(
                "frontmatter",
                "frontmatter-yaml",
                format!("YAML frontmatter failed to parse: {e}. {tail}"),
            );
            return None;
        }
        Frontmatter::Parsed(y) => y,
    };
    if !matches!(y, Yaml::Null | Yaml::Hash(_)) {
        let got = if y.is_array() {
            "an array"
        } else {
            js_type(&y)
        };
        f.error(
            "frontmatter",
            "frontmatter-not-mapping",
            format!("Frontmatter must be a YAML mapping (key: value pairs), got {got}."),
        );
        return None;
    }
    Some(y)
}

/// The frontmatter of a skill (`SKILL.md` in `folder`), agent or command file.
pub(super) fn check_frontmatter(text: &str, kind: FileKind, folder: Option<&str>) -> Findings {
    let mut f = Findings::default();
    let Some(y) = frontmatter_mapping(text, kind, &mut f) else {
        return f;
    };
    check_description(&y, kind, &mut f);
    check_name(&y, folder, &mut f);
    check_allowed_tools(&y, &mut f);
    if matches!(kind, FileKind::Skill | FileKind::Command) {
        check_metadata_and_shell(&y, &mut f);
    }
    f
}

/// A frontmatter field that is set (YAML `null` counts as absent).
fn field<'a>(y: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    frontmatter::get(y, key).filter(|v| !matches!(v, Yaml::Null))
}

fn check_description(y: &Yaml, kind: FileKind, f: &mut Findings) {
    let what = kind.as_str();
    match frontmatter::get(y, "description") {
        None => f.warn(
            "description",
            "missing-description",
            format!(
                "No description in frontmatter. A description helps users and Claude understand when to use this {what}."
            ),
        ),
        Some(Yaml::Array(_)) | Some(Yaml::Hash(_)) | Some(Yaml::Alias(_)) => f.error(
            "description",
            "schema",
            format!(
                "description must be a string, got {}. At runtime this value is dropped.",
                array_or_type(frontmatter::get(y, "description"))
            ),
        ),
        Some(_) => {}
    }
}

/// `name`; for a skill, also whether it matches the folder Claude Code names it after.
fn check_name(y: &Yaml, folder: Option<&str>, f: &mut Findings) {
    match field(y, "name") {
        Some(Yaml::String(name)) => {
            // Ours: Claude Code names a skill after its folder and ignores this `name`.
            if let Some(dir) = folder
                && name != dir
            {
                f.warn(
                    "name",
                    "skill-name-mismatch",
                    format!(
                        "Frontmatter name \"{name}\" differs from the skill's folder \"{dir}\"; Claude Code names the skill after its folder"
                    ),
                );
            }
        }
        Some(other) => f.error(
            "name",
            "schema",
            format!("name must be a string, got {}.", js_type(other)),
        ),
        None => {}
    }
}

fn check_allowed_tools(y: &Yaml, f: &mut Findings) {
    match field(y, "allowed-tools") {
        Some(Yaml::String(_)) | None => {}
        Some(Yaml::Array(items)) => {
            if items.iter().any(|i| !matches!(i, Yaml::String(_))) {
                f.error(
                    "allowed-tools",
                    "schema",
                    "allowed-tools array must contain only strings.",
                );
            }
        }
        Some(other) => f.error(
            "allowed-tools",
            "schema",
            format!(
                "allowed-tools must be a string or array of strings, got {}.",
                js_type(other)
            ),
        ),
    }
}

/// The fields only skills and commands have.
fn check_metadata_and_shell(y: &Yaml, f: &mut Findings) {
    if let Some(m) = field(y, "metadata")
        && !m.is_hash()
    {
        f.warn(
            "metadata",
            "schema",
            format!(
                "'metadata' must be a mapping (key: value pairs); got {}. It is dropped at load time.",
                array_or_type(Some(m))
            ),
        );
    }
    match field(y, "shell") {
        None => {}
        Some(Yaml::String(s)) => {
            let s2 = s.trim().to_ascii_lowercase();
            if s2 != "bash" && s2 != "powershell" {
                f.error(
                    "shell",
                    "schema",
                    format!("shell must be 'bash' or 'powershell', got '{s}'."),
                );
            }
        }
        Some(other) => f.error(
            "shell",
            "schema",
            format!("shell must be a string, got {}.", js_type(other)),
        ),
    }
}

/// JavaScript's `typeof` of a parsed YAML value.
fn js_type(y: &Yaml) -> &'static str {
    match y {
        Yaml::Real(_) | Yaml::Integer(_) => "number",
        Yaml::String(_) => "string",
        Yaml::Boolean(_) => "boolean",
        _ => "object",
    }
}

fn array_or_type(y: Option<&Yaml>) -> &'static str {
    match y {
        Some(Yaml::Array(_)) => "array",
        Some(y) => js_type(y),
        None => "undefined",
    }
}

// ------------------------------------------------------------------ hooks

/// A hooks file: `{"hooks": {Event: [matcher groups]}, "description"?, "modules"?}`.
pub(super) fn check_hooks_file(v: &Value) -> Findings {
    let mut f = Findings::default();
    let Value::Object(top) = v else {
        f.error("root", "schema", super::expected("object", Some(v)));
        return f;
    };
    // Claude Code words a `hooks` array the same way (it cannot tell which events it holds).
    if top.get("hooks").is_some_and(Value::is_array)
        || GUARD_EVENTS.iter().any(|e| {
            top.get(*e)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        })
    {
        f.error(
            "hooks",
            "hooks-schema",
            format!(
                "PreToolUse/PermissionRequest is declared at the top level, outside the \"hooks\" object{}",
                guard_tail()
            ),
        );
        return f;
    }
    if !top.contains_key("hooks") && !top.contains_key("modules") {
        f.error(
            "root",
            "hooks-schema",
            "hooks.json must have `hooks` (the hook matchers) or `modules` (hooks modules), or both",
        );
        return f;
    }
    if let Some(d) = top.get("description")
        && !d.is_string()
    {
        f.error("description", "schema", super::expected("string", Some(d)));
    }
    if let Some(m) = top.get("modules")
        && !m.is_array()
    {
        f.error("modules", "schema", super::expected("array", Some(m)));
    }
    match top.get("hooks") {
        None => {}
        Some(Value::Object(events)) => check_events(events, &mut f),
        Some(other) => f.error("hooks", "schema", super::expected("record", Some(other))),
    }
    f
}

/// Each event's matcher groups and hook entries; broken entries of guard events are errors,
/// others warnings (Claude Code skips them at load).
fn check_events(events: &Map<String, Value>, f: &mut Findings) {
    let mut unquoted = Vec::new();
    for (event, groups) in events {
        let guard = GUARD_EVENTS.contains(&event.as_str());
        let mut report = |what: String| {
            if guard {
                f.error("hooks", "hooks-schema", format!("{what}{}", guard_tail()));
            } else {
                f.warn(
                    "hooks",
                    "hooks-schema",
                    format!("{what}; entry ignored at runtime"),
                );
            }
        };
        if !HOOK_EVENTS.contains(&event.as_str()) {
            report(format!("hooks.{event}: unknown hook event"));
            continue;
        }
        let Value::Array(groups) = groups else {
            report(format!(
                "hooks.{event}: must be an array of matchers; received {}",
                a_type(Some(groups))
            ));
            continue;
        };
        for (gi, g) in groups.iter().enumerate() {
            let at = format!("hooks.{event}.{gi}");
            let Value::Object(g) = g else {
                report(format!(
                    "{at}: Hook matcher must be an object; received {}",
                    a_type(Some(g))
                ));
                continue;
            };
            let Some(Value::Array(hooks)) = g.get("hooks") else {
                report(format!(
                    "{at}: Hook matcher \"hooks\" must be an array of hook entries; received {}",
                    a_type(g.get("hooks"))
                ));
                continue;
            };
            if let Some(m) = g.get("matcher")
                && !m.is_string()
            {
                report(format!(
                    "{at}: Invalid hook matcher (matcher: {})",
                    super::expected("string", Some(m))
                ));
                continue;
            }
            for (hi, h) in hooks.iter().enumerate() {
                let at = format!("{at}.hooks.{hi}");
                match hook_problem(h) {
                    Some(p) => report(format!("{at}: {p}")),
                    None => {
                        if let (Some(cmd), None) = (
                            h.get("command").and_then(Value::as_str),
                            h.get("args").filter(|a| a.is_array()),
                        ) {
                            let vars = unquoted_path_vars(cmd);
                            if !vars.is_empty() {
                                unquoted.push((event.clone(), vars, cmd.to_string()));
                            }
                        }
                    }
                }
            }
        }
    }
    // Claude Code reports unquoted placeholders only when nothing else is wrong with the file.
    if f.errors.is_empty() {
        for (event, vars, cmd) in unquoted {
            let vars: Vec<String> = vars.iter().map(|v| format!("${{{v}}}")).collect();
            f.warn(
                format!("hooks.{event}"),
                "unquoted-path-variable",
                format!(
                    "Shell command uses {} without quotes: {cmd}. If the expanded path contains a space the command can split into several words and fail. Wrap the placeholder in double quotes, or use exec form: {{\"command\": \"<executable>\", \"args\": [\"${{CLAUDE_PLUGIN_ROOT}}/...\"]}}.",
                    vars.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn says(f: &Findings) -> Vec<String> {
        f.errors
            .iter()
            .chain(&f.warnings)
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect()
    }

    #[test]
    fn hook_entries_as_claude_code_words_them() {
        let f = check_hooks_file(&json!({"hooks": {"Stop": [{"hooks": [
            {"type": "command", "timeout": "5", "args": [1]},
            {"type": "shell"},
            {"command": "x"},
        ]}]}}));
        assert!(f.errors.is_empty());
        assert_eq!(
            says(&f),
            [
                "hooks: hooks.Stop.0.hooks.0: Invalid command hook (command: Invalid input: expected string, received undefined; args.0: Invalid input: expected string, received number; timeout: Invalid input: expected number, received string); entry ignored at runtime",
                "hooks: hooks.Stop.0.hooks.1: Unknown hook type \"shell\"; entry ignored at runtime",
                "hooks: hooks.Stop.0.hooks.2: Hook entry has no \"type\"; entry ignored at runtime",
            ]
        );
    }

    #[test]
    fn frontmatter_types() {
        let f = check_frontmatter(
            "---\nname: 5\ndescription: [a]\nallowed-tools: [1]\nshell: zsh\n---\n",
            FileKind::Skill,
            None,
        );
        assert_eq!(
            says(&f),
            [
                "description: description must be a string, got array. At runtime this value is dropped.",
                "name: name must be a string, got number.",
                "allowed-tools: allowed-tools array must contain only strings.",
                "shell: shell must be 'bash' or 'powershell', got 'zsh'.",
            ]
        );
    }
}
