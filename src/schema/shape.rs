//! A JSON validator with the semantics and messages of Zod 4, the library Claude Code 2.1.328
//! checks `plugin.json` with — so a manifest fails here exactly where, and with the words, it
//! fails there.
//!
//! What matters for matching Claude Code is which issues an alternative of a union reports:
//! Zod tries every alternative; if none passes and exactly one failed only on checks (a length,
//! a prefix, a refinement: "non-aborting" issues), that alternative's issues are reported,
//! otherwise the union reports a bare `Invalid input`. `Outcome::aborted` carries that.

use regex_lite::Regex;
use serde_json::{Map, Value};

/// One problem: where (object keys and array indexes) and what, in Zod's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: Vec<String>,
    pub message: String,
    /// Zod's `continue`: a failed check (other checks still ran) rather than a wrong type.
    cont: bool,
    /// The keys of Zod's `unrecognized_keys` (the one kind a pipe lets through); else empty.
    pub unrecognized: Vec<String>,
}

impl Issue {
    fn new(message: impl Into<String>, cont: bool) -> Self {
        Self {
            path: Vec::new(),
            message: message.into(),
            cont,
            unrecognized: Vec::new(),
        }
    }

    /// `a.b.0`, as Claude Code joins a path.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// The issues of one value, and whether a pipe marked it aborted.
#[derive(Debug, Default)]
struct Outcome {
    issues: Vec<Issue>,
    aborted: bool,
}

impl Outcome {
    fn push(&mut self, i: Issue) {
        self.issues.push(i);
    }

    fn is_aborted(&self) -> bool {
        self.aborted || self.issues.iter().any(|i| !i.cont)
    }

    /// Take `other`'s issues under the key or index `seg`.
    fn nest(&mut self, seg: &str, other: Outcome) {
        for mut i in other.issues {
            i.path.insert(0, seg.to_string());
            self.issues.push(i);
        }
    }
}

/// A check on a string, run in order after the type check.
pub enum StrCheck {
    Min(usize, Option<&'static str>),
    Max(usize, Option<&'static str>),
    StartsWith(&'static str, Option<&'static str>),
    EndsWith(&'static str),
    /// A regular expression, its JavaScript spelling (for the default message), and a message.
    Regex(Regex, &'static str, Option<&'static str>),
    Url,
    /// A refinement: the message when `fn` says no; `abort` stops later checks.
    Refine(fn(&str) -> bool, &'static str, bool),
}

pub enum NumCheck {
    Int,
    /// `> 0`
    Positive,
    /// `>= 0`
    NonNegative,
    Max(f64),
}

pub enum ArrayCheck {
    Min(usize, &'static str),
    Max(usize, &'static str),
    Refine(fn(&[Value]) -> bool, &'static str),
}

/// What an object does with keys its shape does not name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Dropped silently (`z.object`).
    Strip,
    /// Kept (`.loose()`, `.passthrough()`).
    Keep,
    /// Reported: `Unrecognized key: "x"` (`.strict()`).
    Refuse,
}

/// A refinement of a whole object: the issues (path inside the object, message) it finds.
pub type ObjectRefine = fn(&Map<String, Value>) -> Vec<(Vec<String>, String)>;

pub enum Shape {
    Any,
    Str(Vec<StrCheck>),
    Num(Vec<NumCheck>),
    Bool,
    /// One allowed string.
    Literal(&'static str),
    /// One of these strings.
    Enum(&'static [&'static str]),
    Array(Box<Shape>, Vec<ArrayCheck>),
    /// A map with keys checked by `key`. `partial` with an `Enum` key: keys outside it are
    /// reported together as unrecognized rather than one by one as invalid.
    Record {
        key: Box<Shape>,
        value: Box<Shape>,
        partial: bool,
    },
    Object {
        fields: Vec<(&'static str, Shape)>,
        unknown: Unknown,
        refine: Vec<ObjectRefine>,
    },
    Union(Vec<Shape>),
    /// A union chosen by the string at key `tag` (Zod's discriminated union).
    Tagged(&'static str, Vec<(&'static str, Shape)>),
    /// May be absent (`.optional()`, `.default(…)`).
    Optional(Box<Shape>),
    /// Never fails (`.catch(…)`, or a preprocess that turns what it cannot use into nothing).
    Lenient,
    /// Followed by a transform: any issue other than an unrecognized key aborts it (Zod's pipe).
    Transformed(Box<Shape>),
    /// Absent or `null` is fine (`.nullish()`).
    Nullish(Box<Shape>),
    /// Checked when it is an object, taken as absent otherwise (a preprocess Claude Code uses).
    IfObject(Box<Shape>),
    /// Then a refinement of the whole value, run when nothing aborted.
    Refined(Box<Shape>, fn(&Value) -> bool, &'static str),
}

/// Shorthands in the spirit of Zod's builders.
pub fn string() -> Shape {
    Shape::Str(Vec::new())
}

pub fn string_with(checks: Vec<StrCheck>) -> Shape {
    Shape::Str(checks)
}

pub fn number(checks: Vec<NumCheck>) -> Shape {
    Shape::Num(checks)
}

pub fn array(of: Shape) -> Shape {
    Shape::Array(Box::new(of), Vec::new())
}

pub fn record(value: Shape) -> Shape {
    Shape::Record {
        key: Box::new(string()),
        value: Box::new(value),
        partial: false,
    }
}

pub fn object(fields: Vec<(&'static str, Shape)>) -> Shape {
    Shape::Object {
        fields,
        unknown: Unknown::Strip,
        refine: Vec::new(),
    }
}

pub fn strict_object(fields: Vec<(&'static str, Shape)>) -> Shape {
    Shape::Object {
        fields,
        unknown: Unknown::Refuse,
        refine: Vec::new(),
    }
}

pub fn union(options: Vec<Shape>) -> Shape {
    Shape::Union(options)
}

pub fn optional(s: Shape) -> Shape {
    Shape::Optional(Box::new(s))
}

/// `Invalid input: expected string, received number` — Zod's type names.
pub fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

fn invalid_type(expected: &str, v: Option<&Value>) -> Issue {
    Issue::new(
        format!(
            "Invalid input: expected {expected}, received {}",
            type_name(v)
        ),
        false,
    )
}

/// Zod's list of values: `"a"|"b"`, `"x", "y"`.
fn quoted(values: &[&str], sep: &str) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(sep)
}

fn unrecognized(keys: &[&str]) -> Issue {
    let s = if keys.len() > 1 { "s" } else { "" };
    let mut i = Issue::new(format!("Unrecognized key{s}: {}", quoted(keys, ", ")), true);
    i.unrecognized = keys.iter().map(|k| k.to_string()).collect();
    i
}

impl Shape {
    /// Every issue of `value` (`None`: absent), in Zod's order.
    pub fn check(&self, value: Option<&Value>) -> Vec<Issue> {
        self.run(value).issues
    }

    /// The keys an object shape names, in order (none for other shapes).
    pub fn field_names(&self) -> Vec<&'static str> {
        match self {
            Shape::Object { fields, .. } => fields.iter().map(|(n, _)| *n).collect(),
            _ => Vec::new(),
        }
    }

    fn optional_ok(&self) -> bool {
        match self {
            Shape::Optional(_)
            | Shape::Lenient
            | Shape::Any
            | Shape::Nullish(_)
            | Shape::IfObject(_) => true,
            Shape::Transformed(inner) | Shape::Refined(inner, ..) => inner.optional_ok(),
            _ => false,
        }
    }

    fn run(&self, value: Option<&Value>) -> Outcome {
        let mut out = Outcome::default();
        match self {
            Shape::Any | Shape::Lenient => {}
            Shape::Optional(inner) => {
                if value.is_some() {
                    return inner.run(value);
                }
            }
            Shape::Nullish(inner) => {
                if !matches!(value, None | Some(Value::Null)) {
                    return inner.run(value);
                }
            }
            Shape::IfObject(inner) => {
                if let Some(Value::Object(_)) = value {
                    return inner.run(value);
                }
            }
            Shape::Refined(inner, f, message) => {
                out = inner.run(value);
                if !out.is_aborted()
                    && let Some(v) = value
                    && !f(v)
                {
                    out.push(Issue::new(*message, true));
                }
            }
            Shape::Transformed(inner) => {
                out = inner.run(value);
                // Zod's pipe: the transform runs only on a clean value; anything but an
                // unrecognized key makes the whole thing count as aborted.
                if out.issues.iter().any(|i| i.unrecognized.is_empty()) {
                    out.aborted = true;
                }
            }
            Shape::Str(checks) => match value {
                Some(Value::String(s)) => run_str_checks(s, checks, &mut out),
                other => out.push(invalid_type("string", other)),
            },
            Shape::Num(checks) => match value {
                Some(Value::Number(n)) => run_num_checks(n, checks, &mut out),
                other => out.push(invalid_type("number", other)),
            },
            Shape::Bool => {
                if !matches!(value, Some(Value::Bool(_))) {
                    out.push(invalid_type("boolean", value));
                }
            }
            Shape::Literal(want) => {
                if value.and_then(Value::as_str) != Some(want) {
                    out.push(Issue::new(
                        format!("Invalid input: expected \"{want}\""),
                        false,
                    ));
                }
            }
            Shape::Enum(values) => {
                let ok = value
                    .and_then(Value::as_str)
                    .is_some_and(|s| values.contains(&s));
                if !ok {
                    out.push(Issue::new(
                        format!("Invalid option: expected one of {}", quoted(values, "|")),
                        false,
                    ));
                }
            }
            Shape::Array(of, checks) => match value {
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        out.nest(&i.to_string(), of.run(Some(item)));
                    }
                    if !out.is_aborted() {
                        for c in checks {
                            let failed = match c {
                                ArrayCheck::Min(n, m) => (items.len() < *n).then_some(*m),
                                ArrayCheck::Max(n, m) => (items.len() > *n).then_some(*m),
                                ArrayCheck::Refine(f, m) => (!f(items)).then_some(*m),
                            };
                            if let Some(m) = failed {
                                out.push(Issue::new(m, true));
                            }
                        }
                    }
                }
                other => out.push(invalid_type("array", other)),
            },
            Shape::Record {
                key,
                value: of,
                partial,
            } => match value {
                Some(Value::Object(map)) => {
                    let mut outside = Vec::new();
                    for (k, v) in map {
                        if !key.run(Some(&Value::String(k.clone()))).issues.is_empty() {
                            if *partial && matches!(**key, Shape::Enum(_)) {
                                outside.push(k.as_str());
                            } else {
                                let mut i = Issue::new("Invalid key in record", false);
                                i.path.push(k.clone());
                                out.push(i);
                            }
                            continue;
                        }
                        out.nest(k, of.run(Some(v)));
                    }
                    if !outside.is_empty() {
                        out.push(unrecognized(&outside));
                    }
                }
                other => out.push(invalid_type("record", other)),
            },
            Shape::Object {
                fields,
                unknown,
                refine,
            } => match value {
                Some(Value::Object(map)) => {
                    for (name, shape) in fields {
                        let v = map.get(*name);
                        if v.is_none() && shape.optional_ok() {
                            continue;
                        }
                        out.nest(name, shape.run(v));
                    }
                    if *unknown == Unknown::Refuse {
                        let extra: Vec<&str> = map
                            .keys()
                            .map(String::as_str)
                            .filter(|k| !fields.iter().any(|(n, _)| n == k))
                            .collect();
                        if !extra.is_empty() {
                            out.push(unrecognized(&extra));
                        }
                    }
                    if !out.is_aborted() {
                        for r in refine {
                            for (path, message) in r(map) {
                                let mut i = Issue::new(message, true);
                                i.path = path;
                                out.push(i);
                            }
                        }
                    }
                }
                other => out.push(invalid_type("object", other)),
            },
            Shape::Union(options) => {
                if let [only] = options.as_slice() {
                    return only.run(value);
                }
                let mut results = Vec::new();
                for o in options {
                    let r = o.run(value);
                    if r.issues.is_empty() && !r.aborted {
                        return r;
                    }
                    results.push(r);
                }
                let mut standing = results.into_iter().filter(|r| !r.is_aborted());
                match (standing.next(), standing.next()) {
                    (Some(one), None) => return one,
                    _ => out.push(Issue::new("Invalid input", false)),
                }
            }
            Shape::Tagged(tag, options) => match value {
                Some(Value::Object(map)) => {
                    let t = map.get(*tag).and_then(Value::as_str);
                    match options.iter().find(|(name, _)| Some(*name) == t) {
                        Some((_, shape)) => return shape.run(value),
                        None => {
                            let names: Vec<String> =
                                options.iter().map(|(n, _)| format!("'{n}'")).collect();
                            let mut i = Issue::new(
                                format!(
                                    "Invalid discriminator value. Expected {}",
                                    names.join(" | ")
                                ),
                                false,
                            );
                            i.path.push(tag.to_string());
                            out.push(i);
                        }
                    }
                }
                other => out.push(invalid_type("object", other)),
            },
        }
        out
    }
}

fn run_str_checks(s: &str, checks: &[StrCheck], out: &mut Outcome) {
    // Zod counts length in UTF-16 code units.
    let len = s.encode_utf16().count();
    for c in checks {
        if out.is_aborted() {
            return;
        }
        let (message, cont) = match c {
            StrCheck::Min(n, m) if len < *n => (
                m.map(str::to_string).unwrap_or_else(|| {
                    format!("Too small: expected string to have >={n} characters")
                }),
                true,
            ),
            StrCheck::Max(n, m) if len > *n => (
                m.map(str::to_string).unwrap_or_else(|| {
                    format!("Too big: expected string to have <={n} characters")
                }),
                true,
            ),
            StrCheck::StartsWith(p, m) if !s.starts_with(p) => (
                m.map(str::to_string)
                    .unwrap_or_else(|| format!("Invalid string: must start with \"{p}\"")),
                true,
            ),
            StrCheck::EndsWith(p) if !s.ends_with(p) => {
                (format!("Invalid string: must end with \"{p}\""), true)
            }
            StrCheck::Regex(re, js, m) if !re.is_match(s) => (
                m.map(str::to_string)
                    .unwrap_or_else(|| format!("Invalid string: must match pattern {js}")),
                true,
            ),
            StrCheck::Url if !is_url(s) => ("Invalid URL".to_string(), true),
            StrCheck::Refine(f, m, abort) if !f(s) => (m.to_string(), !abort),
            _ => continue,
        };
        out.push(Issue::new(message, cont));
    }
}

/// Zod's `.url()`: what the WHATWG URL parser accepts, after trimming.
fn is_url(s: &str) -> bool {
    url::Url::parse(s.trim()).is_ok()
}

fn run_num_checks(n: &serde_json::Number, checks: &[NumCheck], out: &mut Outcome) {
    let x = n.as_f64().unwrap_or(f64::NAN);
    for c in checks {
        if out.is_aborted() {
            return;
        }
        let issue = match c {
            NumCheck::Int if x.fract() != 0.0 => {
                Issue::new("Invalid input: expected int, received number", false)
            }
            NumCheck::Int if x.abs() > 9_007_199_254_740_991.0 => Issue::new(
                if x > 0.0 {
                    "Too big: expected int to be <=9007199254740991"
                } else {
                    "Too small: expected int to be >=-9007199254740991"
                },
                true,
            ),
            NumCheck::Positive if x <= 0.0 => {
                Issue::new("Too small: expected number to be >0", true)
            }
            NumCheck::NonNegative if x < 0.0 => {
                Issue::new("Too small: expected number to be >=0", true)
            }
            NumCheck::Max(m) if x > *m => {
                Issue::new(format!("Too big: expected number to be <={m}"), true)
            }
            _ => continue,
        };
        out.push(issue);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(s: &Shape, v: Value) -> Vec<String> {
        s.check(Some(&v))
            .iter()
            .map(|i| format!("{}: {}", i.dotted(), i.message))
            .collect()
    }

    fn md_path() -> Shape {
        string_with(vec![
            StrCheck::StartsWith("./", None),
            StrCheck::EndsWith(".md"),
        ])
    }

    #[test]
    fn a_union_with_one_alternative_failing_only_on_checks_reports_it() {
        // plugin.json `agents`: a path or a list of paths, each "./…" ending in ".md".
        let agents = union(vec![md_path(), array(md_path())]);
        assert_eq!(
            messages(&agents, json!(["./agents"])),
            ["0: Invalid string: must end with \".md\""]
        );
        assert_eq!(
            messages(&agents, json!("agents")),
            [
                ": Invalid string: must start with \"./\"",
                ": Invalid string: must end with \".md\""
            ]
        );
        // Two alternatives standing (both only failed checks): a bare "Invalid input".
        let either = union(vec![
            md_path(),
            string_with(vec![StrCheck::StartsWith("./", None)]),
        ]);
        assert_eq!(messages(&either, json!("x")), [": Invalid input"]);
        assert_eq!(messages(&agents, json!(3)), [": Invalid input"]);
        assert!(messages(&agents, json!("./a.md")).is_empty());
    }

    #[test]
    fn a_transform_aborts_what_failed_before_it() {
        let dep = union(vec![
            Shape::Transformed(Box::new(string_with(vec![StrCheck::Min(2, None)]))),
            object(vec![("name", string())]),
        ]);
        assert_eq!(messages(&dep, json!("a")), [": Invalid input"]);
        assert!(messages(&dep, json!({"name": "x"})).is_empty());
    }

    #[test]
    fn objects_records_and_types_say_what_zod_says() {
        let s = strict_object(vec![
            ("title", string()),
            (
                "n",
                optional(number(vec![NumCheck::Int, NumCheck::Positive])),
            ),
            ("kind", optional(Shape::Enum(&["a", "b"]))),
            ("lit", optional(Shape::Literal("x"))),
        ]);
        assert_eq!(
            messages(
                &s,
                json!({"n": 1.5, "kind": "c", "lit": "y", "zz": 1, "yy": 2})
            ),
            [
                "title: Invalid input: expected string, received undefined",
                "n: Invalid input: expected int, received number",
                "kind: Invalid option: expected one of \"a\"|\"b\"",
                "lit: Invalid input: expected \"x\"",
                ": Unrecognized keys: \"zz\", \"yy\""
            ]
        );
        assert_eq!(
            messages(&s, json!({"title": "t", "n": 0})),
            ["n: Too small: expected number to be >0"]
        );
        let keyed = Shape::Record {
            key: Box::new(string_with(vec![StrCheck::Regex(
                Regex::new("^[a-z]+$").unwrap(),
                "/^[a-z]+$/",
                None,
            )])),
            value: Box::new(string()),
            partial: false,
        };
        assert_eq!(
            messages(&keyed, json!({"1x": "v", "ok": 3})),
            [
                "1x: Invalid key in record",
                "ok: Invalid input: expected string, received number"
            ]
        );
        let events = Shape::Record {
            key: Box::new(Shape::Enum(&["Stop"])),
            value: Box::new(array(string())),
            partial: true,
        };
        assert_eq!(
            messages(&events, json!({"Bogus": [], "Stop": [1]})),
            [
                "Stop.0: Invalid input: expected string, received number",
                ": Unrecognized key: \"Bogus\""
            ]
        );
        let tagged = Shape::Tagged(
            "type",
            vec![("command", object(vec![("command", string())]))],
        );
        assert_eq!(
            messages(&tagged, json!({"type": "x"})),
            ["type: Invalid discriminator value. Expected 'command'"]
        );
        assert_eq!(
            messages(&Shape::Bool, json!(null)),
            [": Invalid input: expected boolean, received null"]
        );
    }
}
