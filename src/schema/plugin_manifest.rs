//! `plugin.json` as Claude Code 2.1.328 checks it: its schema (read from Claude Code's bundle,
//! field by field) and the steps around it — hooks for unknown events or of a wrong shape are
//! dropped with a note, PreToolUse/PermissionRequest hooks that cannot load refuse the
//! manifest, and faults in display-only fields (`homepage`, `author`, …) do not refuse it.
//!
//! One description serves install, update, sync (refuse what Claude Code refuses, with its
//! message) and `validate` (report the same errors).

use std::sync::LazyLock;

use regex_lite::Regex;
use serde_json::{Map, Value};

use super::shape::{
    ArrayCheck, NumCheck, Shape, StrCheck, Unknown, array, number, object, optional, record,
    strict_object, string, string_with, union,
};

/// Hook events Claude Code 2.1.328 knows, in its order.
pub const HOOK_EVENTS: &[&str] = &[
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "SessionStart",
    "SessionEnd",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "PreModelSwitch",
    "PostModelSwitch",
    "PermissionRequest",
    "PermissionDenied",
    "Setup",
    "TeammateIdle",
    "TaskCreated",
    "TaskCompleted",
    "Elicitation",
    "ElicitationResult",
    "ConfigChange",
    "WorktreeCreate",
    "WorktreeRemove",
    "InstructionsLoaded",
    "CwdChanged",
    "FileChanged",
    "DirectoryAdded",
    "MessageDisplay",
];

/// Events whose hooks may guard permissions: one that cannot load refuses the whole manifest.
pub const GUARD_EVENTS: &[&str] = &["PreToolUse", "PermissionRequest"];

const HOOK_TYPES: &[&str] = &["command", "prompt", "agent", "http", "mcp_tool"];

/// Fields only shown to people: a fault there is reported but does not refuse a plugin.json.
const DISPLAY_FIELDS: &[&str] = &[
    "$schema",
    "displayName",
    "description",
    "author",
    "homepage",
    "repository",
    "license",
    "keywords",
];

/// What Claude Code adds to a refusal of a guard hook.
pub const GUARD_WHY: &str = "a PreToolUse/PermissionRequest hook that cannot be loaded may be what guards the permissions declared beside it, so nothing it sits in is applied until the entry is fixed or removed";

/// Which document the manifest comes from (Claude Code words its refusal by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    PluginJson,
    /// A marketplace entry standing in for a plugin.json (`strict: false`).
    MarketplaceEntry,
}

/// One finding: `path` (dotted, empty for the whole document) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub message: String,
}

impl Finding {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// `path: message`, or the message alone.
    pub fn joined(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

/// What Claude Code's manifest check finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestCheck {
    /// Faults that make Claude Code refuse the manifest, in its order.
    pub errors: Vec<Finding>,
    /// Faults in display-only fields (errors for `validate`, not a refusal at install).
    pub display_faults: Vec<Finding>,
    /// Hooks dropped at load time, as `hooks.<event>…: <problem>; entry ignored`.
    pub hook_notes: Vec<String>,
}

impl ManifestCheck {
    /// Claude Code refuses the manifest.
    pub fn refused(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Every finding Claude Code lists after `Validation errors: ` when it refuses.
    pub fn all(&self) -> impl Iterator<Item = &Finding> {
        self.errors.iter().chain(&self.display_faults)
    }
}

/// Check a manifest as Claude Code does when it loads or installs a plugin.
pub fn check(raw: &Value, doc: Document) -> ManifestCheck {
    let mut out = ManifestCheck::default();
    let Value::Object(map) = raw else {
        out.errors
            .push(Finding::new("", "manifest must be an object"));
        return out;
    };
    let mut h = map.clone();
    if doc == Document::MarketplaceEntry {
        for k in ["id", "source", "strict"] {
            h.remove(k);
        }
    }
    // Guards declared where no hook loads them.
    let experimental = match h.get("experimental") {
        Some(Value::Object(e)) => e.clone(),
        _ => Map::new(),
    };
    let unlifted = Value::Object(Map::from_iter([(
        "unlifted".to_string(),
        Value::Object(experimental),
    )]));
    for (doc_value, where_) in [
        (Value::Object(h.clone()), "top level"),
        (unlifted, "`experimental`"),
    ] {
        if guards_outside_hooks(&doc_value) {
            out.errors.push(Finding::new(
                "hooks",
                format!("PreToolUse/PermissionRequest hooks are declared at the {where_} outside \"hooks\" (or under an unrecognized key) — {GUARD_WHY}"),
            ));
        }
    }
    if let Some(Value::Array(items)) = h.get("hooks")
        && items
            .iter()
            .any(|i| matches!(i, Value::Array(_)) && holds_guard(i))
    {
        out.errors.push(Finding::new(
            "hooks",
            format!("a nested array holds PreToolUse/PermissionRequest hooks this build cannot load — {GUARD_WHY}"),
        ));
    }
    // Hooks that cannot load are dropped (a note) unless they may guard permissions.
    if let Some(hooks) = h.get_mut("hooks") {
        let mut sets: Vec<(&mut Map<String, Value>, String)> = match hooks {
            Value::Object(m) => vec![(m, "hooks".to_string())],
            Value::Array(items) => items
                .iter_mut()
                .enumerate()
                .filter_map(|(i, v)| v.as_object_mut().map(|m| (m, format!("hooks.{i}"))))
                .collect(),
            _ => Vec::new(),
        };
        for (set, at) in sets.iter_mut() {
            let (notes, guards) = sanitize_hooks(set);
            out.hook_notes
                .extend(notes.iter().map(|n| replace_hooks_prefix(n, at)));
            for g in guards {
                out.errors.push(Finding::new(
                    at.clone(),
                    format!("{} — {GUARD_WHY}", replace_hooks_prefix(&g, at)),
                ));
            }
        }
    }
    let value = Value::Object(h);
    let mut issues = PLUGIN_MANIFEST.check(Some(&value));
    if doc == Document::PluginJson {
        let (display, rest): (Vec<_>, Vec<_>) = issues.into_iter().partition(|i| {
            i.path
                .first()
                .is_some_and(|k| DISPLAY_FIELDS.contains(&k.as_str()))
        });
        issues = rest;
        out.display_faults = display
            .iter()
            .map(|i| Finding::new(i.dotted(), i.message.clone()))
            .collect();
    }
    out.errors.extend(
        issues
            .iter()
            .map(|i| Finding::new(i.dotted(), i.message.clone())),
    );
    out
}

fn replace_hooks_prefix(s: &str, at: &str) -> String {
    match s.strip_prefix("hooks") {
        Some(rest) => format!("{at}{rest}"),
        None => s.to_string(),
    }
}

/// One plugin a manifest says it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// `name@marketplace` (a bare name is in the declaring plugin's marketplace).
    pub id: String,
    /// An object entry's `version` (a node-semver range), as written. A string entry's `@^…`
    /// is dropped, as Claude Code drops it.
    pub range: Option<String>,
}

impl Dependency {
    pub fn name(&self) -> &str {
        self.id.rsplit_once('@').map_or(&self.id, |(n, _)| n)
    }

    pub fn marketplace(&self) -> &str {
        self.id.rsplit_once('@').map_or("", |(_, m)| m)
    }
}

/// A manifest's `dependencies`: `name`, `name@marketplace` or `{name, marketplace?,
/// version?}`, in order; entries of another shape are the schema's business and left out.
pub fn dependencies(raw: &Map<String, Value>, own: &str) -> Vec<Dependency> {
    let Some(Value::Array(items)) = raw.get("dependencies") else {
        return Vec::new();
    };
    let qualified = |d: String| {
        if d.contains('@') {
            d
        } else {
            format!("{d}@{own}")
        }
    };
    items
        .iter()
        .filter_map(|d| match d {
            Value::String(s) => Some(Dependency {
                id: qualified(match s.rfind("@^") {
                    Some(i) if !s[i + 2..].contains('@') => s[..i].to_string(),
                    _ => s.clone(),
                }),
                range: None,
            }),
            Value::Object(o) => {
                let name = o.get("name")?.as_str().filter(|n| !n.is_empty())?;
                let id = match o.get("marketplace").and_then(Value::as_str) {
                    Some(m) => format!("{name}@{m}"),
                    None => name.to_string(),
                };
                Some(Dependency {
                    id: qualified(id),
                    range: o.get("version").and_then(Value::as_str).map(str::to_string),
                })
            }
            _ => None,
        })
        .collect()
}

/// [`dependencies`], their ids only.
pub fn dependency_ids(raw: &Map<String, Value>, own: &str) -> Vec<String> {
    dependencies(raw, own).into_iter().map(|d| d.id).collect()
}

// ---------------------------------------------------------------- hooks, as Claude Code loads them

fn is_map(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

fn is_guard_event(k: &str) -> bool {
    GUARD_EVENTS.contains(&k)
}

fn is_event(k: &str) -> bool {
    HOOK_EVENTS.contains(&k)
}

fn non_empty(v: &Value) -> bool {
    !matches!(v, Value::Null) && !matches!(v, Value::Array(a) if a.is_empty())
}

/// An object with a non-empty PreToolUse/PermissionRequest key.
fn has_guard_key(v: &Value) -> bool {
    is_map(v).is_some_and(|m| m.iter().any(|(k, v)| is_guard_event(k) && non_empty(v)))
}

/// Looks like a hook matcher (`{"matcher":…,"hooks":…}` or `{"hooks":[…]}`).
fn looks_like_matcher(v: &Value) -> bool {
    let Some(m) = is_map(v) else { return false };
    if !m.contains_key("matcher") && m.keys().any(|k| is_event(k)) {
        return false;
    }
    match m.get("hooks") {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => {
            m.contains_key("matcher") || matches!(o.get("type"), Some(Value::String(_)))
        }
        _ => false,
    }
}

struct Scan<'a> {
    matchers_count: bool,
    unscanned: &'a [&'a str],
    in_hooks_list: bool,
}

/// Whether `v`, to `depth` levels, holds PreToolUse/PermissionRequest hooks.
fn holds_guards(v: &Value, depth: u32, scan: &Scan) -> bool {
    if has_guard_key(v) || (scan.matchers_count && looks_like_matcher(v)) {
        return true;
    }
    if depth == 0 {
        return false;
    }
    match v {
        Value::Array(items) => items.iter().any(|i| holds_guards(i, depth - 1, scan)),
        Value::Object(m) => {
            if scan.in_hooks_list && matches!(m.get("type"), Some(Value::String(_))) {
                return false;
            }
            m.iter().any(|(k, v)| {
                !scan.unscanned.contains(&k.as_str())
                    && holds_guards(
                        v,
                        depth - 1,
                        &Scan {
                            matchers_count: scan.matchers_count && !is_event(k),
                            unscanned: scan.unscanned,
                            in_hooks_list: k == "hooks" && v.is_array(),
                        },
                    )
            })
        }
        _ => false,
    }
}

/// Keys that may hold hook-looking objects for reasons of their own.
const UNSCANNED: &[&str] = &["metadata", "mcpServers", "lspServers", "experimental"];

fn guards_outside_hooks(v: &Value) -> bool {
    let Some(m) = is_map(v) else { return false };
    has_guard_key(v)
        || m.iter().any(|(k, v)| {
            k != "hooks"
                && !UNSCANNED.contains(&k.as_str())
                && holds_guards(
                    v,
                    3,
                    &Scan {
                        matchers_count: !is_event(k),
                        unscanned: UNSCANNED,
                        in_hooks_list: false,
                    },
                )
        })
}

fn holds_guard(v: &Value) -> bool {
    if looks_like_matcher(v) {
        return true;
    }
    match v {
        Value::Array(items) => items.iter().any(holds_guard),
        Value::Object(m) => m.iter().any(|(k, v)| is_guard_event(k) && non_empty(v)),
        _ => false,
    }
}

/// `a string`, `an object`, `an array`, `null` — as Claude Code describes what it received.
pub fn described(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Array(_)) => "an array",
        Some(Value::Object(_)) => "an object",
        Some(Value::String(_)) => "a string",
        Some(Value::Number(_)) => "a number",
        Some(Value::Bool(_)) => "a boolean",
    }
}

const NO_SCAN: Scan = Scan {
    matchers_count: false,
    unscanned: &[],
    in_hooks_list: false,
};

/// Drop what cannot load from one hooks object; return (notes, unloadable guards).
fn sanitize_hooks(set: &mut Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let whole = Value::Object(set.clone());
    if looks_like_matcher(&whole) {
        return (
            Vec::new(),
            vec!["hooks: must be an object mapping event names to matcher arrays; received a single matcher".to_string()],
        );
    }
    let mut notes = Vec::new();
    let mut guards = Vec::new();
    let keys: Vec<String> = set.keys().cloned().collect();
    for event in keys {
        let Some(g) = set.get_mut(&event) else {
            continue;
        };
        if !is_event(&event) {
            let scan = Scan {
                matchers_count: !g.is_array(),
                ..NO_SCAN
            };
            if holds_guards(g, 3, &scan) {
                guards.push(format!(
                    "hooks.{event}: not a hook event, but it holds PreToolUse/PermissionRequest hooks"
                ));
            } else {
                set.shift_remove(&event);
                notes.push(format!("hooks.{event}: unknown hook event; entry ignored"));
            }
            continue;
        }
        let Value::Array(matchers) = g else {
            let what = described(Some(g));
            if (is_guard_event(&event) && !g.is_null()) || holds_guards(g, 3, &NO_SCAN) {
                guards.push(format!(
                    "hooks.{event}: must be an array of matchers; received {what}"
                ));
            } else {
                set.shift_remove(&event);
                notes.push(format!(
                    "hooks.{event}: must be an array of matchers; received {what}; entry ignored"
                ));
            }
            continue;
        };
        let (stripped, unloadable) = sanitize_matchers(matchers, is_guard_event(&event));
        notes.extend(
            stripped
                .iter()
                .map(|(p, problem)| format!("hooks.{event}.{p}: {problem}; entry ignored")),
        );
        guards.extend(
            unloadable
                .iter()
                .map(|(p, problem)| format!("hooks.{event}.{p}: {problem}")),
        );
    }
    (notes, guards)
}

/// One event's matcher list: entries that cannot load are removed (not for guard events, whose
/// problems are returned as unloadable). Returns (stripped, unloadable) as (path, problem).
type Problems = Vec<(String, String)>;

fn sanitize_matchers(list: &mut Vec<Value>, guard: bool) -> (Problems, Problems) {
    let mut found: Problems = Vec::new();
    let mut misplaced: Problems = Vec::new();
    for f in (0..list.len()).rev() {
        if holds_guards(&list[f], 3, &NO_SCAN) {
            let p = (
                f.to_string(),
                "holds PreToolUse/PermissionRequest hooks where a matcher was expected".to_string(),
            );
            if guard {
                found.push(p)
            } else {
                misplaced.push(p)
            }
            continue;
        }
        let drop = |list: &mut Vec<Value>, found: &mut Problems, problem: String| {
            if !guard {
                list.remove(f);
            }
            found.push((f.to_string(), problem));
        };
        let Some(m) = list[f].as_object() else {
            let what = described(Some(&list[f]));
            drop(
                list,
                &mut found,
                format!("Hook matcher must be an object; received {what}"),
            );
            continue;
        };
        let Some(Value::Array(_)) = m.get("hooks") else {
            let what = described(m.get("hooks"));
            drop(
                list,
                &mut found,
                format!("Hook matcher \"hooks\" must be an array of hook entries; received {what}"),
            );
            continue;
        };
        let mut entries_found: Problems = Vec::new();
        if let Some(Value::Array(hooks)) = list[f].get_mut("hooks") {
            for c in (0..hooks.len()).rev() {
                if let Some(problem) = hook_entry_problem(&hooks[c]) {
                    if !guard {
                        hooks.remove(c);
                    }
                    entries_found.push((format!("{f}.hooks.{c}"), problem));
                }
            }
        }
        let mut probe = list[f].clone();
        if guard && let Some(o) = probe.as_object_mut() {
            o.insert("hooks".to_string(), Value::Array(Vec::new()));
        }
        let issues = HOOK_MATCHER.check(Some(&probe));
        if !issues.is_empty() {
            drop(
                list,
                &mut found,
                format!("Invalid hook matcher ({})", joined_issues(&issues)),
            );
            continue;
        }
        found.extend(entries_found);
    }
    found.reverse();
    misplaced.reverse();
    if guard {
        (Vec::new(), found)
    } else {
        (found, misplaced)
    }
}

fn joined_issues(issues: &[super::shape::Issue]) -> String {
    issues
        .iter()
        .map(|i| {
            if i.path.is_empty() {
                i.message.clone()
            } else {
                format!("{}: {}", i.dotted(), i.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What keeps one hook entry from loading, in Claude Code's words (`Unknown hook type "x"`,
/// `Invalid command hook (command: …)`); `None` when it loads.
pub fn hook_entry_problem(e: &Value) -> Option<String> {
    let Some(m) = e.as_object() else {
        return Some(format!(
            "Hook entry must be an object; received {}",
            described(Some(e))
        ));
    };
    let t = match m.get("type") {
        None => return Some("Hook entry has no \"type\"".to_string()),
        Some(Value::String(t)) => t,
        Some(other) => {
            return Some(format!(
                "Hook entry \"type\" must be a string; received {}",
                described(Some(other))
            ));
        }
    };
    if !HOOK_TYPES.contains(&t.as_str()) {
        return Some(format!("Unknown hook type \"{t}\""));
    }
    let issues = HOOK_ENTRY.check(Some(e));
    (!issues.is_empty()).then(|| format!("Invalid {t} hook ({})", joined_issues(&issues)))
}

// ---------------------------------------------------------------- the schema

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file; a test compiles every one.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"))
}

/// `./…` (Claude Code's relative path).
fn rel() -> Vec<StrCheck> {
    vec![StrCheck::StartsWith("./", None)]
}

fn rel_path() -> Shape {
    string_with(rel())
}

fn rel_ending(suffix: &'static str) -> Shape {
    string_with(vec![
        StrCheck::StartsWith("./", None),
        StrCheck::EndsWith(suffix),
    ])
}

fn one_or_list(s: fn() -> Shape) -> Shape {
    union(vec![s(), array(s())])
}

fn opt_str() -> Shape {
    optional(string())
}

fn opt_bool() -> Shape {
    optional(Shape::Bool)
}

fn positive_int() -> Shape {
    number(vec![NumCheck::Int, NumCheck::Positive])
}

/// Control, invisible (format) or bidirectional-formatting characters.
fn has_invisible(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
    })
}

fn plugin_name() -> Shape {
    string_with(vec![
        StrCheck::Min(1, Some("Plugin name cannot be empty")),
        StrCheck::Refine(
            |s| !s.contains(' '),
            "Plugin name cannot contain spaces. Use kebab-case (e.g., \"my-plugin\")",
            false,
        ),
        StrCheck::Refine(
            |s| !super::names::has_control_or_bidi(s),
            "Plugin name cannot contain control or bidirectional-formatting characters",
            false,
        ),
    ])
}

fn author() -> Shape {
    object(vec![
        (
            "name",
            string_with(vec![StrCheck::Min(1, Some("Author name cannot be empty"))]),
        ),
        ("email", opt_str()),
        ("url", opt_str()),
    ])
}

fn dependency() -> Shape {
    let plain = r"^[A-Za-z0-9][-A-Za-z0-9._]*$";
    union(vec![
        Shape::Transformed(Box::new(string_with(vec![StrCheck::Regex(
            re(r"^[A-Za-z0-9][-A-Za-z0-9._]*(@[A-Za-z0-9][-A-Za-z0-9._]*)?(@\^[^@]*)?$"),
            "",
            Some("Dependency must be a plugin name, optionally qualified with @marketplace"),
        )]))),
        Shape::Transformed(Box::new(Shape::Object {
            fields: vec![
                (
                    "name",
                    string_with(vec![
                        StrCheck::Min(1, None),
                        StrCheck::Regex(re(plain), "/^[A-Za-z0-9][-A-Za-z0-9._]*$/", None),
                    ]),
                ),
                (
                    "marketplace",
                    optional(string_with(vec![
                        StrCheck::Min(1, None),
                        StrCheck::Regex(re(plain), "/^[A-Za-z0-9][-A-Za-z0-9._]*$/", None),
                    ])),
                ),
            ],
            unknown: Unknown::Keep,
            refine: Vec::new(),
        })),
    ])
}

fn json_path() -> Shape {
    rel_ending(".json")
}

fn hook_entry() -> Shape {
    let on_failure = || optional(Shape::Enum(&["continue", "block"]));
    let timeout = || optional(number(vec![NumCheck::Positive]));
    let command = object(vec![
        ("type", Shape::Literal("command")),
        ("command", string()),
        ("args", optional(array(string()))),
        ("if", opt_str()),
        ("shell", optional(Shape::Enum(&["bash", "powershell"]))),
        ("timeout", timeout()),
        ("onFailure", on_failure()),
        ("statusMessage", opt_str()),
        ("once", opt_bool()),
        ("async", opt_bool()),
        ("asyncRewake", opt_bool()),
        (
            "rewakeMessage",
            optional(string_with(vec![StrCheck::Min(1, None)])),
        ),
        (
            "rewakeSummary",
            optional(string_with(vec![StrCheck::Min(1, None)])),
        ),
        ("cloud", Shape::Lenient),
    ]);
    let prompt = object(vec![
        ("type", Shape::Literal("prompt")),
        ("prompt", string()),
        ("if", opt_str()),
        ("timeout", timeout()),
        ("model", opt_str()),
        ("continueOnBlock", opt_bool()),
        ("statusMessage", opt_str()),
        ("once", opt_bool()),
    ]);
    let agent = object(vec![
        ("type", Shape::Literal("agent")),
        ("prompt", string()),
        ("if", opt_str()),
        ("timeout", timeout()),
        ("model", opt_str()),
        ("statusMessage", opt_str()),
        ("once", opt_bool()),
    ]);
    let http = object(vec![
        ("type", Shape::Literal("http")),
        ("url", string_with(vec![StrCheck::Url])),
        ("if", opt_str()),
        ("timeout", timeout()),
        ("onFailure", on_failure()),
        ("headers", optional(record(string()))),
        ("allowedEnvVars", optional(array(string()))),
        ("statusMessage", opt_str()),
        ("once", opt_bool()),
        ("cloud", Shape::Lenient),
    ]);
    let mcp_tool = object(vec![
        ("type", Shape::Literal("mcp_tool")),
        ("server", string()),
        ("tool", string()),
        ("input", optional(record(Shape::Any))),
        ("if", opt_str()),
        ("timeout", timeout()),
        ("onFailure", Shape::Lenient),
        ("statusMessage", opt_str()),
        ("once", opt_bool()),
    ]);
    Shape::Tagged(
        "type",
        vec![
            ("command", command),
            ("prompt", prompt),
            ("agent", agent),
            ("http", http),
            ("mcp_tool", mcp_tool),
        ],
    )
}

fn hook_matcher() -> Shape {
    object(vec![("matcher", opt_str()), ("hooks", array(hook_entry()))])
}

fn hooks_by_event() -> Shape {
    Shape::Record {
        key: Box::new(Shape::Enum(HOOK_EVENTS)),
        value: Box::new(array(hook_matcher())),
        partial: true,
    }
}

static HOOK_ENTRY: LazyLock<Shape> = LazyLock::new(hook_entry);
static HOOK_MATCHER: LazyLock<Shape> = LazyLock::new(hook_matcher);

fn hooks_field() -> Shape {
    union(vec![
        json_path(),
        hooks_by_event(),
        array(union(vec![json_path(), hooks_by_event()])),
    ])
}

fn command_path() -> Shape {
    union(vec![rel_ending(".md"), rel_path()])
}

fn commands_field() -> Shape {
    let meta = Shape::Object {
        fields: vec![
            ("source", optional(command_path())),
            ("content", opt_str()),
            ("description", opt_str()),
            ("argumentHint", opt_str()),
            ("model", opt_str()),
            ("allowedTools", optional(array(string()))),
        ],
        unknown: Unknown::Strip,
        refine: vec![|m| {
            let truthy = |k: &str| match m.get(k) {
                Some(Value::String(s)) => !s.is_empty(),
                _ => false,
            };
            if truthy("source") != truthy("content") {
                Vec::new()
            } else {
                vec![(
                    Vec::new(),
                    "Command must have either \"source\" (file path) or \"content\" (inline markdown), but not both".to_string(),
                )]
            }
        }],
    };
    union(vec![command_path(), array(command_path()), record(meta)])
}

fn skill_path() -> Shape {
    union(vec![Shape::Literal("."), rel_path()])
}

fn mcpb() -> Shape {
    fn ends_mcpb(s: &str) -> bool {
        s.ends_with(".mcpb") || s.ends_with(".dxt")
    }
    union(vec![
        string_with(vec![
            StrCheck::StartsWith("./", None),
            StrCheck::Refine(
                ends_mcpb,
                "MCPB file path must end with .mcpb or .dxt",
                false,
            ),
        ]),
        string_with(vec![
            StrCheck::Url,
            StrCheck::Refine(ends_mcpb, "MCPB URL must end with .mcpb or .dxt", false),
        ]),
    ])
}

fn server_url() -> Shape {
    string_with(vec![StrCheck::Refine(
        |s| s.encode_utf16().count() <= 65536,
        "url is too long",
        true,
    )])
}

fn tool_permissions() -> Shape {
    optional(record(Shape::Enum(&["allow", "ask", "blocked"])))
}

fn tools() -> Shape {
    optional(array(object(vec![
        ("name", string()),
        (
            "permission_policy",
            optional(Shape::Enum(&["always_allow", "always_ask", "always_deny"])),
        ),
    ])))
}

fn oauth() -> Shape {
    optional(object(vec![
        ("clientId", opt_str()),
        ("callbackPort", optional(positive_int())),
        (
            "authServerMetadataUrl",
            optional(string_with(vec![
                StrCheck::Refine(
                    |s| s.encode_utf16().count() <= 4096,
                    "authServerMetadataUrl is too long",
                    true,
                ),
                StrCheck::Url,
                StrCheck::StartsWith("https://", Some("authServerMetadataUrl must use https://")),
            ])),
        ),
        (
            "scopes",
            optional(string_with(vec![StrCheck::Min(1, None)])),
        ),
        ("xaa", opt_bool()),
    ]))
}

/// An HTTP-like server (`sse`, `http`/`streamable-http`): `type` given by `kind`.
fn remote_server(kind: Shape) -> Shape {
    Shape::Transformed(Box::new(object(vec![
        ("type", kind),
        ("url", server_url()),
        ("headers", optional(record(string()))),
        ("headersHelper", opt_str()),
        ("oauth", oauth()),
        ("timeout", optional(positive_int())),
        ("request_timeout_ms", Shape::Lenient),
        ("tools", tools()),
        ("alwaysLoad", opt_bool()),
        ("displayName", Shape::Lenient),
        ("bareElicitationCapability", opt_bool()),
        ("discoveryCache", opt_bool()),
        ("role", Shape::Lenient),
        ("toolPermissions", tool_permissions()),
    ])))
}

fn mcp_server() -> Shape {
    let timeout = || optional(positive_int());
    let stdio = object(vec![
        ("type", optional(Shape::Literal("stdio"))),
        (
            "command",
            string_with(vec![StrCheck::Min(1, Some("Command cannot be empty"))]),
        ),
        ("args", optional(array(string()))),
        ("env", optional(record(string()))),
        ("timeout", timeout()),
        ("alwaysLoad", opt_bool()),
        ("bareElicitationCapability", opt_bool()),
        ("role", Shape::Lenient),
        ("network", Shape::Lenient),
    ]);
    let ide = |kind: &'static str, token: bool| {
        let mut fields = vec![
            ("type", Shape::Literal(kind)),
            ("url", server_url()),
            ("ideName", string()),
        ];
        if token {
            fields.push(("authToken", opt_str()));
        }
        fields.extend([
            ("ideRunningInWindows", opt_bool()),
            ("timeout", timeout()),
            ("alwaysLoad", opt_bool()),
            ("role", Shape::Lenient),
        ]);
        object(fields)
    };
    let ws = object(vec![
        ("type", Shape::Literal("ws")),
        ("url", server_url()),
        ("headers", optional(record(string()))),
        ("headersHelper", opt_str()),
        ("timeout", timeout()),
        ("alwaysLoad", opt_bool()),
        ("bareElicitationCapability", opt_bool()),
        ("role", Shape::Lenient),
    ]);
    let sdk = object(vec![
        ("type", Shape::Literal("sdk")),
        ("name", string()),
        ("timeout", timeout()),
        ("alwaysLoad", opt_bool()),
        ("disableAutoBackground", Shape::Lenient),
        ("tools", Shape::Lenient),
        ("connectorId", Shape::Lenient),
        ("autoModeVerdictTools", Shape::Lenient),
        ("dataFlowServer", Shape::Lenient),
        ("onPersonsMachine", Shape::Lenient),
    ]);
    let proxy = object(vec![
        ("type", Shape::Literal("claudeai-proxy")),
        ("url", server_url()),
        (
            "id",
            string_with(vec![StrCheck::Regex(
                re("^[A-Za-z0-9_-]+$"),
                "/^[A-Za-z0-9_-]+$/",
                None,
            )]),
        ),
        ("displayName", opt_str()),
        ("urlReportable", opt_bool()),
        ("noDirectoryEntry", opt_bool()),
        ("iconUrl", opt_str()),
        ("timeout", timeout()),
        ("alwaysLoad", opt_bool()),
        ("toolPermissions", tool_permissions()),
        ("stateless", opt_bool()),
        (
            "cachedInitResponse",
            Shape::Nullish(Box::new(record(Shape::Any))),
        ),
        ("discoverSupport", Shape::Lenient),
        (
            "cachedDiscoverResponse",
            Shape::Nullish(Box::new(record(Shape::Any))),
        ),
        ("eligible", Shape::Nullish(Box::new(Shape::Bool))),
        ("ineligibleReason", Shape::Nullish(Box::new(string()))),
        ("enterpriseManaged", opt_bool()),
    ]);
    union(vec![
        stdio,
        remote_server(Shape::Literal("sse")),
        ide("sse-ide", false),
        ide("ws-ide", true),
        remote_server(Shape::Transformed(Box::new(Shape::Enum(&[
            "http",
            "streamable-http",
        ])))),
        ws,
        sdk,
        proxy,
    ])
}

fn mcp_servers_field() -> Shape {
    union(vec![
        json_path(),
        mcpb(),
        record(mcp_server()),
        array(union(vec![json_path(), mcpb(), record(mcp_server())])),
    ])
}

fn lsp_server() -> Shape {
    let non_empty = || string_with(vec![StrCheck::Min(1, None)]);
    let timeout = || optional(positive_int());
    strict_object(vec![
        (
            "command",
            string_with(vec![
                StrCheck::Min(1, None),
                StrCheck::Refine(
                    |s| !s.contains(' ') || s.starts_with('/'),
                    "Command should not contain spaces. Use args array for arguments.",
                    false,
                ),
            ]),
        ),
        ("args", optional(array(non_empty()))),
        (
            "extensionToLanguage",
            Shape::Refined(
                Box::new(Shape::Record {
                    key: Box::new(string_with(vec![
                        StrCheck::Min(2, None),
                        StrCheck::Refine(
                            |s| s.starts_with('.'),
                            "File extensions must start with dot (e.g., \".ts\", not \"ts\")",
                            false,
                        ),
                    ])),
                    value: Box::new(non_empty()),
                    partial: false,
                }),
                |v| v.as_object().is_some_and(|m| !m.is_empty()),
                "extensionToLanguage must have at least one mapping",
            ),
        ),
        ("transport", optional(Shape::Enum(&["stdio", "socket"]))),
        ("env", optional(record(string()))),
        ("initializationOptions", Shape::Any),
        ("settings", Shape::Any),
        ("workspaceFolder", opt_str()),
        ("startupTimeout", timeout()),
        ("shutdownTimeout", timeout()),
        (
            "requestTimeout",
            optional(number(vec![
                NumCheck::Int,
                NumCheck::Positive,
                NumCheck::Max(2147483647.0),
            ])),
        ),
        ("restartOnCrash", opt_bool()),
        (
            "maxRestarts",
            optional(number(vec![NumCheck::Int, NumCheck::NonNegative])),
        ),
        ("diagnostics", opt_bool()),
    ])
}

fn lsp_servers_field() -> Shape {
    union(vec![
        json_path(),
        record(lsp_server()),
        array(union(vec![json_path(), record(lsp_server())])),
    ])
}

fn monitors_field() -> Shape {
    let monitor = strict_object(vec![
        ("name", string_with(vec![StrCheck::Min(1, None)])),
        ("command", string_with(vec![StrCheck::Min(1, None)])),
        ("description", string_with(vec![StrCheck::Min(1, None)])),
        (
            "when",
            optional(union(vec![
                Shape::Literal("always"),
                string_with(vec![
                    StrCheck::StartsWith("on-skill-invoke:", None),
                    StrCheck::Refine(
                        |s| s.encode_utf16().count() > 16,
                        "on-skill-invoke: must specify a skill name",
                        false,
                    ),
                ]),
            ])),
        ),
    ]);
    let list = Shape::Array(
        Box::new(monitor),
        vec![ArrayCheck::Refine(
            |items| {
                let names: Vec<Option<&str>> = items
                    .iter()
                    .map(|i| i.get("name").and_then(Value::as_str))
                    .collect();
                let unique: std::collections::HashSet<_> = names.iter().collect();
                unique.len() == names.len()
            },
            "Monitor names must be unique within a plugin",
        )],
    );
    union(vec![json_path(), list])
}

fn user_config_option() -> Shape {
    let option = string_with(vec![
        StrCheck::Min(1, Some("An option cannot be empty")),
        StrCheck::Max(64, Some("An option can be at most 64 characters")),
        StrCheck::Refine(
            |s| !has_invisible(s),
            "An option cannot contain control, invisible or bidirectional-formatting characters",
            false,
        ),
        StrCheck::Refine(
            |s| s.trim() == s,
            "An option cannot start or end with a space",
            false,
        ),
    ]);
    let options = Shape::Array(
        Box::new(option),
        vec![
            ArrayCheck::Min(1, "options needs at least one value"),
            ArrayCheck::Refine(
                |items| {
                    let lower: std::collections::HashSet<String> = items
                        .iter()
                        .map(|v| v.as_str().unwrap_or_default().to_lowercase())
                        .collect();
                    lower.len() == items.len()
                },
                "options cannot repeat a value (in any letter case)",
            ),
        ],
    );
    Shape::Object {
        fields: vec![
            (
                "type",
                Shape::Enum(&["string", "number", "boolean", "directory", "file"]),
            ),
            ("title", string()),
            ("description", string()),
            ("required", opt_bool()),
            (
                "default",
                optional(union(vec![
                    string(),
                    number(Vec::new()),
                    Shape::Bool,
                    array(string()),
                ])),
            ),
            ("multiple", opt_bool()),
            ("sensitive", opt_bool()),
            ("min", optional(number(Vec::new()))),
            ("max", optional(number(Vec::new()))),
            ("options", optional(options)),
        ],
        unknown: Unknown::Refuse,
        refine: vec![options_rule],
    }
}

/// `options` only on a plain string field, with a default among them or `required: true`.
fn options_rule(m: &Map<String, Value>) -> Vec<(Vec<String>, String)> {
    let Some(Value::Array(options)) = m.get("options") else {
        return Vec::new();
    };
    let is_true = |k: &str| m.get(k) == Some(&Value::Bool(true));
    if m.get("type").and_then(Value::as_str) != Some("string")
        || is_true("multiple")
        || is_true("sensitive")
    {
        return vec![(
            vec!["options".to_string()],
            "options is only for a field of type \"string\" that is neither multiple nor sensitive"
                .to_string(),
        )];
    }
    match m.get("default") {
        None if is_true("required") => Vec::new(),
        None => vec![(
            vec!["default".to_string()],
            "a field with options needs a default among them, or required: true".to_string(),
        )],
        Some(d) if d.is_string() && options.contains(d) => Vec::new(),
        Some(_) => {
            let list: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
            vec![(
                vec!["default".to_string()],
                format!("default must be one of the options: {}", list.join(", ")),
            )]
        }
    }
}

fn user_config_field() -> Shape {
    optional(Shape::Record {
        key: Box::new(string_with(vec![StrCheck::Regex(
            re(r"^[A-Za-z_]\w*$"),
            "",
            Some(
                "Option keys must be valid identifiers (letters, digits, underscore; no leading digit) — they become CLAUDE_PLUGIN_OPTION_<KEY> env vars in hooks",
            ),
        )])),
        value: Box::new(user_config_option()),
        partial: false,
    })
}

fn channels_field() -> Shape {
    optional(array(strict_object(vec![
        ("server", string_with(vec![StrCheck::Min(1, None)])),
        ("displayName", opt_str()),
        ("userConfig", optional(record(user_config_option()))),
    ])))
}

fn types_field() -> Shape {
    optional(string_with(vec![
        StrCheck::StartsWith("./", None),
        StrCheck::Refine(
            |s| s.ends_with(".d.ts"),
            "types must name a TypeScript declaration file ending in '.d.ts'",
            false,
        ),
        StrCheck::Refine(
            |s| !s.split(['/', '\\']).any(|p| p == ".."),
            "types must stay inside the plugin directory (no '..' segment)",
            false,
        ),
    ]))
}

fn experimental_field() -> Shape {
    let language = strict_object(vec![
        (
            "id",
            string_with(vec![
                StrCheck::Max(64, None),
                StrCheck::Regex(
                    re("^[a-z][a-z0-9_-]*$"),
                    "",
                    Some("must match ^[a-z][a-z0-9_-]*$"),
                ),
            ]),
        ),
        (
            "remote",
            optional(string_with(vec![
                StrCheck::Max(256, None),
                StrCheck::Regex(
                    re(
                        r"^(npm:[@a-z0-9/._-]+(@[a-z0-9._+-]+)?|github:[\w.-]+/[\w.-]+@[\w./-]+#.+\.js)$",
                    ),
                    "",
                    Some("must be npm:<pkg>[@ver] or github:<owner>/<repo>@<ref>#<path>.js"),
                ),
            ])),
        ),
        (
            "integrity",
            optional(string_with(vec![
                StrCheck::Max(512, None),
                StrCheck::Regex(
                    re("^sha(256|384|512)-[A-Za-z0-9+/=]+$"),
                    "",
                    Some("must be SRI form: sha256-, sha384-, or sha512-<base64>"),
                ),
            ])),
        ),
    ]);
    let highlighting = strict_object(vec![(
        "hljsLanguages",
        Shape::Array(
            Box::new(language),
            vec![ArrayCheck::Max(
                16,
                "Too big: expected array to have <=16 items",
            )],
        ),
    )]);
    Shape::IfObject(Box::new(Shape::Object {
        fields: vec![
            ("themes", optional(one_or_list(rel_path))),
            ("syntaxHighlighting", optional(highlighting)),
            ("monitors", optional(monitors_field())),
            ("outputStyles", optional(one_or_list(rel_path))),
            ("evals", optional(union(vec![string(), array(string())]))),
        ],
        unknown: Unknown::Keep,
        refine: Vec::new(),
    }))
}

fn plugin_manifest() -> Shape {
    object(plugin_manifest_fields())
}

fn plugin_manifest_fields() -> Vec<(&'static str, Shape)> {
    vec![
        ("$schema", opt_str()),
        ("name", plugin_name()),
        ("displayName", opt_str()),
        ("version", opt_str()),
        ("description", opt_str()),
        ("author", optional(author())),
        ("homepage", optional(string_with(vec![StrCheck::Url]))),
        ("repository", opt_str()),
        ("license", opt_str()),
        ("keywords", optional(array(string()))),
        ("defaultEnabled", opt_bool()),
        ("dependencies", optional(array(dependency()))),
        ("metadata", Shape::Lenient),
        ("engines", Shape::Lenient),
        ("network", Shape::Lenient),
        ("hooks", optional(hooks_field())),
        ("commands", optional(commands_field())),
        ("agents", optional(one_or_list(|| rel_ending(".md")))),
        ("skills", optional(one_or_list(skill_path))),
        ("outputStyles", optional(one_or_list(rel_path))),
        ("themes", optional(one_or_list(rel_path))),
        ("workflows", optional(one_or_list(rel_path))),
        ("channels", channels_field()),
        ("mcpServers", optional(mcp_servers_field())),
        ("lspServers", optional(lsp_servers_field())),
        ("monitors", optional(monitors_field())),
        ("settings", optional(record(Shape::Any))),
        ("types", types_field()),
        ("userConfig", user_config_field()),
        ("binaries", Shape::Lenient),
        ("experimental", experimental_field()),
    ]
}

/// The whole plugin.json schema, built once.
pub static PLUGIN_MANIFEST: LazyLock<Shape> = LazyLock::new(plugin_manifest);

/// Keys of a marketplace entry after plugin.json's (Claude Code adds them to its schema in this
/// order, `source` first, which `schema::catalog` checks itself).
pub const ENTRY_TAIL: &[&str] = &[
    "headers",
    "headersHelper",
    "category",
    "tags",
    "strict",
    "relevance",
];

/// A `marketplace.json` entry: plugin.json's fields, each optional but `name`, then the entry's
/// own (`source` left to `schema::catalog`).
fn marketplace_entry() -> Shape {
    let mut fields: Vec<(&'static str, Shape)> = plugin_manifest_fields()
        .into_iter()
        .map(|(name, shape)| {
            if name == "name" {
                (name, shape)
            } else {
                (name, optional(shape))
            }
        })
        .collect();
    fields.extend([
        ("headers", optional(record(string()))),
        ("headersHelper", opt_str()),
        ("category", opt_str()),
        ("tags", optional(array(string()))),
        ("strict", opt_bool()),
        ("relevance", Shape::Lenient),
    ]);
    object(fields)
}

/// The marketplace entry schema, built once.
pub static MARKETPLACE_ENTRY: LazyLock<Shape> = LazyLock::new(marketplace_entry);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(v: Value) -> Vec<String> {
        let c = check(&v, Document::PluginJson);
        c.all().map(Finding::joined).collect()
    }

    #[test]
    fn the_schema_builds() {
        // Every pattern compiles (they are constants; a typo must fail here, not at install).
        let _ = &*PLUGIN_MANIFEST;
        let _ = &*HOOK_ENTRY;
    }

    #[test]
    fn messages_match_claude_code_2_1_328() {
        // Each expectation below is what `claude plugin validate --json` 2.1.328 printed for the
        // same manifest (probed 2026-12-07).
        assert_eq!(
            errors(json!({"name":"p","agents":["./agents"]})),
            ["agents.0: Invalid string: must end with \".md\""]
        );
        assert_eq!(
            errors(
                json!({"name":"p","version":"1.0.0","agents":["./agents"],"homepage":"not a url","keywords":"x","author":{"email":"a"},"hooks":{"PreToolUse":[{"hooks":[{"type":"command"}]}],"Bogus":[]},"mcpServers":{"s":{"command":3}},"lspServers":{"l":{"command":"a b"}},"userConfig":{"1x":{"type":"string"}},"dependencies":[3],"commands":"commands","skills":["skills"]})
            ),
            [
                "hooks: hooks.PreToolUse.0.hooks.0: Invalid command hook (command: Invalid input: expected string, received undefined) — a PreToolUse/PermissionRequest hook that cannot be loaded may be what guards the permissions declared beside it, so nothing it sits in is applied until the entry is fixed or removed",
                "dependencies.0: Invalid input",
                "hooks: Invalid input",
                "commands: Invalid input",
                "agents.0: Invalid string: must end with \".md\"",
                "skills.0: Invalid string: must start with \"./\"",
                "mcpServers: Invalid input",
                "lspServers: Invalid input",
                "userConfig.1x: Invalid key in record",
                "author.name: Invalid input: expected string, received undefined",
                "homepage: Invalid URL",
                "keywords: Invalid input: expected array, received string",
            ]
        );
        assert_eq!(
            errors(
                json!({"name":"p","userConfig":{"a":{"type":"string","title":"t","description":"d","extra":1}}})
            ),
            ["userConfig.a: Unrecognized key: \"extra\""]
        );
    }

    #[test]
    fn display_faults_do_not_refuse_and_dropped_hooks_are_notes() {
        let c = check(
            &json!({"name":"p","homepage":"nope","hooks":{"Bogus":[],"Stop":[{"hooks":[{"type":"command"}]}]}}),
            Document::PluginJson,
        );
        assert!(!c.refused());
        assert_eq!(c.display_faults, [Finding::new("homepage", "Invalid URL")]);
        assert_eq!(
            c.hook_notes,
            [
                "hooks.Bogus: unknown hook event; entry ignored",
                "hooks.Stop.0.hooks.0: Invalid command hook (command: Invalid input: expected string, received undefined); entry ignored"
            ]
        );
    }

    /// Every case of testdata/manifest-schema: what Claude Code 2.1.328's `plugin validate`
    /// reported (recorded by scripts/manifest-oracle.sh) is what this check finds — its path
    /// checks ("Path not found", "Path contains \"..\"") and name rules aside, which `validate`
    /// adds (tests/validate.rs compares the whole of `validate`).
    #[test]
    fn every_recorded_case_matches_claude_code() {
        let cases: Map<String, Value> =
            serde_json::from_str(include_str!("../../testdata/manifest-schema/cases.json"))
                .unwrap();
        let cc: Map<String, Value> = serde_json::from_str(include_str!(
            "../../testdata/manifest-schema/claude-code.json"
        ))
        .unwrap();
        let mut wrong = Vec::new();
        for (name, manifest) in &cases {
            let verdict = &cc[name];
            let listed = |key: &str, keep: &dyn Fn(&str) -> bool| -> Vec<String> {
                verdict[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| keep(e["message"].as_str().unwrap()))
                    .map(|e| {
                        // validate names the whole document "root".
                        let path = e["path"].as_str().unwrap();
                        Finding::new(
                            if path == "root" { "" } else { path },
                            e["message"].as_str().unwrap(),
                        )
                        .joined()
                    })
                    .collect()
            };
            let want_errors = listed("errors", &|m| {
                !m.starts_with("Path not found")
                    && !m.starts_with("Path contains \"..\"")
                    && !m.contains("is reserved: it passes as one of Anthropic's own")
            });
            let want_notes: Vec<String> = verdict["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|w| w["message"].as_str()?.strip_suffix(" at runtime"))
                .map(str::to_string)
                .collect();
            let c = check(manifest, Document::PluginJson);
            let got_errors: Vec<String> = c.all().map(Finding::joined).collect();
            if got_errors != want_errors || c.hook_notes != want_notes {
                wrong.push(format!(
                    "{name}:\n  claude code: {want_errors:?} {want_notes:?}\n  ours:        {got_errors:?} {:?}",
                    c.hook_notes
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn valid_manifests_pass() {
        for v in [
            json!({"name":"p"}),
            json!({"name":"p","version":"1","skills":"./","commands":{"x":{"content":"hi"}},"hooks":"./hooks/h.json","mcpServers":{"s":{"command":"node","args":["a"]},"h":{"type":"http","url":"https://x.test/mcp"}},"lspServers":{"ts":{"command":"tsserver","extensionToLanguage":{".ts":"typescript"}}},"userConfig":{"k":{"type":"string","title":"t","description":"d","options":["a","b"],"default":"a"}},"dependencies":["a",{"name":"b","version":"~1"}],"metadata":3,"experimental":{"monitors":[{"name":"m","command":"c","description":"d"}]}}),
        ] {
            assert_eq!(errors(v.clone()), Vec::<String>::new(), "{v}");
        }
    }
}
