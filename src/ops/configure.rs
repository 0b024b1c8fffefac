//! `configure`: the `userConfig` options of an installed plugin — listed with what is set, or
//! set from a JSON object of strings, as Claude Code 2.1.328's `claude plugin configure` does.
//!
//! Non-sensitive values go to `pluginConfigs["<id>"].options` of the user settings; sensitive
//! ones where Claude Code keeps secrets (`platform::SECRETS_IN_FILE`: the config dir's
//! `.credentials.json`, `pluginSecrets`, mode 0600; the macOS keychain is not written).
//! Values are checked and coerced by the option's declared type before anything is written, and
//! both files change in one step under the state lock.

use serde_json::{Map, Value};

use super::{Context, OpError};
use crate::locations::Scope;
use crate::state::json::JsonDoc;

/// The largest piped input and value, as Claude Code.
pub const STDIN_LIMIT: usize = 256 * 1024;
const VALUE_LIMIT: usize = 64 * 1024;

/// Key order of an option as Claude Code prints it (its schema's).
const OPTION_KEYS: &[&str] = &[
    "type",
    "title",
    "description",
    "required",
    "default",
    "multiple",
    "sensitive",
    "min",
    "max",
    "options",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigureError {
    #[error(
        "No installed plugin has the id \"{0}\". Use its full id (name@marketplace), as `plugin list` shows it."
    )]
    NotInstalled(String),
    #[error("No option values were piped in. {EXAMPLE}")]
    NothingPiped,
    #[error("The input on stdin is over the 256 KB limit.")]
    TooLarge,
    #[error("The input on stdin isn't a JSON object of strings. {EXAMPLE}")]
    NotObjectOfStrings,
    /// A value refused; nothing was written.
    #[error("Failed to save configuration: {message}")]
    Refused {
        plugin_id: String,
        display_name: String,
        option: Option<String>,
        message: String,
    },
}

const EXAMPLE: &str = "Example: plugin configure <plugin> --values-stdin < values.json";

impl ConfigureError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            ConfigureError::NotInstalled(_) => "not_found",
            ConfigureError::NothingPiped
            | ConfigureError::TooLarge
            | ConfigureError::NotObjectOfStrings => "invalid_stdin",
            ConfigureError::Refused { .. } => "value_refused",
        }
    }
}

/// A plugin's options and what is set: Claude Code's `configure --json` document.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptionsView {
    pub plugin_id: String,
    pub display_name: String,
    /// Each option as declared, its keys in Claude Code's order.
    pub schema: Map<String, Value>,
    /// What the configuration dialog would start from (secrets as "").
    pub inputs: Map<String, Value>,
    /// The values a boolean or a string with `options` takes.
    pub choices: Map<String, Value>,
    pub configured: Vec<String>,
    pub unconfigured: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SaveReport {
    pub plugin_id: String,
    pub display_name: String,
    /// The options written (none: "No configuration changes.").
    pub saved: Vec<String>,
    pub unconfigured: Vec<String>,
}

/// The plugin `id` names (its full id), its declared options and its display name.
struct Declared {
    id: String,
    display_name: String,
    options: Map<String, Value>,
}

fn declared(ctx: &Context, id: &str) -> Result<Declared, OpError> {
    if !id.contains('@') || ctx.installed_now()?.records(id).is_empty() {
        return Err(ConfigureError::NotInstalled(id.to_string()).into());
    }
    let (def, entry) = super::resolve::resolve_with_entry(ctx, id, false)?;
    let from = |raw: Option<&Map<String, Value>>, k: &str| raw.and_then(|r| r.get(k)).cloned();
    let manifest_raw = def.manifest_fields.as_ref();
    let entry_raw = entry.as_ref().map(|e| &e.raw);
    let options = from(manifest_raw, "userConfig")
        .or_else(|| from(entry_raw, "userConfig"))
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let display_name = from(manifest_raw, "displayName")
        .or_else(|| from(entry_raw, "displayName"))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| def.manifest_name.clone());
    Ok(Declared {
        id: id.to_string(),
        display_name,
        options,
    })
}

/// What is saved for `id`: the user settings' options, then the secrets over them.
struct Saved {
    settings: Map<String, Value>,
    secrets: Map<String, Value>,
}

impl Saved {
    fn read(ctx: &Context, id: &str) -> Result<Self, OpError> {
        let settings = ctx.settings(Scope::User)?.plugin_options(id);
        let secrets = secrets_doc(ctx)?
            .object("pluginSecrets")
            .and_then(|m| m.get(id))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Ok(Self { settings, secrets })
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.secrets.get(key).or_else(|| self.settings.get(key))
    }

    /// Set: present and not an empty string.
    fn is_set(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v != &Value::String(String::new()))
    }
}

/// The secrets Claude Code keeps for `id` (`None` where they live in the macOS keychain).
pub(super) fn secrets_of(ctx: &Context, id: &str) -> Result<Option<Map<String, Value>>, OpError> {
    if !crate::platform::SECRETS_IN_FILE {
        return Ok(None);
    }
    Ok(Some(
        secrets_doc(ctx)?
            .object("pluginSecrets")
            .and_then(|m| m.get(id))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    ))
}

fn secrets_doc(ctx: &Context) -> Result<JsonDoc, OpError> {
    Ok(JsonDoc::read(
        &ctx.loc.config_dir.join(".credentials.json"),
    )?)
}

fn is_true(o: &Value, k: &str) -> bool {
    o.get(k) == Some(&Value::Bool(true))
}

fn kind(o: &Value) -> &str {
    o.get("type").and_then(Value::as_str).unwrap_or_default()
}

/// The label Claude Code uses for an option in messages: its title, else its key.
fn label<'a>(key: &'a str, o: &'a Value) -> &'a str {
    o.get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or(key)
}

/// Claude Code's `1/0, yes/no, on/off, true/false`.
fn boolean_of(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A number the option takes (within `min`/`max`).
fn number_of(s: &str, o: &Value) -> Option<f64> {
    let t = s.trim();
    let n: f64 = t
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && !t.is_empty())?;
    let bound = |k: &str| o.get(k).and_then(Value::as_f64);
    (bound("min").is_none_or(|m| n >= m) && bound("max").is_none_or(|m| n <= m)).then_some(n)
}

fn number_hint(o: &Value) -> String {
    let bound = |k: &str, none: &str| o.get(k).map_or_else(|| none.to_string(), |v| v.to_string());
    if o.get("min").is_some() || o.get("max").is_some() {
        format!(
            "It takes a number between {} and {}.",
            bound("min", "-∞"),
            bound("max", "∞")
        )
    } else {
        "It takes a number.".to_string()
    }
}

/// Claude Code's check of a value against its option (an empty value: unset).
fn value_problem(key: &str, value: Option<&Value>, o: &Value) -> Option<String> {
    let name = label(key, o);
    let empty = value.is_none() || value == Some(&Value::String(String::new()));
    if empty {
        return is_true(o, "required").then(|| format!("{name} is required but not provided"));
    }
    let v = value?;
    match kind(o) {
        "string" => match v {
            Value::Array(_) if !is_true(o, "multiple") => {
                Some(format!("{name} must be a string, not an array"))
            }
            Value::Array(items) if !items.iter().all(Value::is_string) => {
                Some(format!("{name} must be an array of strings"))
            }
            Value::Array(_) => None,
            Value::String(s) => {
                let options = o.get("options").and_then(Value::as_array)?;
                (!options.iter().any(|x| x.as_str() == Some(s))).then(|| {
                    let list: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
                    format!("{name} must be one of: {}", list.join(", "))
                })
            }
            _ => Some(format!("{name} must be a string")),
        },
        "number" => {
            let Some(n) = v.as_f64() else {
                return Some(format!("{name} must be a number"));
            };
            let bound = |k: &str| o.get(k).and_then(Value::as_f64);
            if let Some(m) = bound("min").filter(|m| n < *m) {
                Some(format!("{name} must be at least {}", shown(m)))
            } else {
                bound("max")
                    .filter(|m| n > *m)
                    .map(|m| format!("{name} must be at most {}", shown(m)))
            }
        }
        "boolean" => (!v.is_boolean()).then(|| format!("{name} must be a boolean")),
        "file" | "directory" => (!v.is_string()).then(|| format!("{name} must be a path string")),
        _ => None,
    }
}

/// A number as JavaScript prints it (`5`, not `5.0`).
fn shown(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn unconfigured(d: &Declared, saved: &Saved) -> Vec<String> {
    d.options
        .iter()
        .filter(|(k, o)| {
            !saved.is_set(k)
                || (!is_true(o, "sensitive") && value_problem(k, saved.get(k), o).is_some())
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// `configure <id>` without values: the options and what is set.
pub fn options(ctx: &Context, id: &str) -> Result<OptionsView, OpError> {
    let d = declared(ctx, id)?;
    let saved = Saved::read(ctx, id)?;
    let mut configured = Vec::new();
    let mut held = Map::new();
    for (k, o) in &d.options {
        if !saved.is_set(k) {
            continue;
        }
        configured.push(k.clone());
        if kind(o) == "boolean" {
            held.insert(k.clone(), saved.get(k).cloned().unwrap_or_default());
        } else if !is_true(o, "sensitive")
            && let Some(v) = saved
                .settings
                .get(k)
                .filter(|v| *v != &Value::String(String::new()))
        {
            held.insert(k.clone(), v.clone());
        }
    }
    let mut schema = Map::new();
    let mut inputs = Map::new();
    let mut choices = Map::new();
    for (k, o) in &d.options {
        let mut ordered = Map::new();
        for key in OPTION_KEYS {
            if let Some(v) = o.get(*key) {
                ordered.insert(key.to_string(), v.clone());
            }
        }
        schema.insert(k.clone(), Value::Object(ordered));
        let picks = choices_of(o);
        let value = held.get(k);
        let input = if kind(o) == "boolean" {
            let v = value.or_else(|| o.get("default"));
            (v == Some(&Value::Bool(true)) || v == Some(&Value::String("true".into()))).to_string()
        } else if let Some(picks) = &picks {
            [value, o.get("default")]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find(|s| picks.iter().any(|p| p == s))
                .map(str::to_string)
                .or_else(|| picks.first().cloned())
                .unwrap_or_default()
        } else {
            value.map(js_string).unwrap_or_default()
        };
        inputs.insert(k.clone(), Value::String(input));
        if let Some(picks) = picks {
            choices.insert(k.clone(), Value::from(picks));
        }
    }
    Ok(OptionsView {
        unconfigured: unconfigured(&d, &saved),
        plugin_id: d.id,
        display_name: d.display_name,
        schema,
        inputs,
        choices,
        configured,
    })
}

/// The values a boolean or a single string with `options` takes.
fn choices_of(o: &Value) -> Option<Vec<String>> {
    match kind(o) {
        "boolean" => Some(vec!["true".into(), "false".into()]),
        "string" if !is_true(o, "multiple") => {
            o.get("options").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
        }
        _ => None,
    }
}

/// A value as JavaScript's `String(…)` writes it.
fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(js_string).collect::<Vec<_>>().join(","),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Parse what was piped: a JSON object of strings.
pub fn parse_values(text: &str) -> Result<Vec<(String, String)>, ConfigureError> {
    if text.len() > STDIN_LIMIT {
        return Err(ConfigureError::TooLarge);
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(crate::state::json::strip_bom(text))
    else {
        return Err(ConfigureError::NotObjectOfStrings);
    };
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(ConfigureError::NotObjectOfStrings),
        })
        .collect()
}

/// `configure <id> --values-stdin`: check every value, then write them in one step.
pub fn save(ctx: &Context, id: &str, values: &[(String, String)]) -> Result<SaveReport, OpError> {
    let d = declared(ctx, id)?;
    let _lock = ctx.lock_state()?;
    let saved = Saved::read(ctx, id)?;
    // Secrets never appear in a message: each is replaced by "…".
    let secrets: Vec<&str> = {
        let mut s: Vec<&str> = values
            .iter()
            .filter(|(k, _)| d.options.get(k).is_some_and(|o| is_true(o, "sensitive")))
            .flat_map(|(_, v)| [v.as_str(), v.trim()])
            .filter(|v| !v.is_empty())
            .collect();
        s.sort_by_key(|v| std::cmp::Reverse(v.len()));
        s
    };
    let refuse = |option: Option<&str>, message: String| -> OpError {
        let message = secrets.iter().fold(message, |m, s| m.replace(s, "…"));
        ConfigureError::Refused {
            plugin_id: d.id.clone(),
            display_name: d.display_name.clone(),
            option: option.map(str::to_string),
            message,
        }
        .into()
    };
    let unknown: Vec<&str> = values
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !d.options.contains_key(*k))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = d.options.keys().map(String::as_str).collect();
        let word = if unknown.len() == 1 {
            "option"
        } else {
            "options"
        };
        let listed: Vec<String> = unknown.iter().map(|k| format!("\"{k}\"")).collect();
        let tail = if known.is_empty() {
            String::new()
        } else {
            format!(" Known options: {}.", known.join(", "))
        };
        return Err(refuse(
            None,
            format!("This plugin has no {word} {}.{tail}", listed.join(", ")),
        ));
    }
    for (k, v) in values {
        let o = &d.options[k];
        let name = label(k, o);
        if v.len() > VALUE_LIMIT {
            return Err(refuse(Some(k), format!("{name} is too long (over 64 KB).")));
        }
        if v.contains(['\r', '\n']) {
            return Err(refuse(Some(k), format!("{name} must be a single line.")));
        }
        let t = v.trim();
        let held_secret = is_true(o, "sensitive") && saved.is_set(k);
        if t.is_empty() && is_true(o, "required") && !held_secret {
            return Err(refuse(
                Some(k),
                format!("{name} is required but not provided"),
            ));
        }
        if kind(o) == "boolean" && !t.is_empty() && boolean_of(t).is_none() {
            return Err(refuse(
                Some(k),
                format!("{name} must be true or false (or 1/0, yes/no, on/off)."),
            ));
        }
        if kind(o) == "number" && !t.is_empty() && number_of(t, o).is_none() {
            return Err(refuse(Some(k), format!("{name}: {}", number_hint(o))));
        }
    }
    let to_save = coerce(&d, values, &saved);
    for (k, v) in &to_save {
        if let Some(p) = value_problem(k, Some(v), &d.options[k]) {
            return Err(refuse(Some(k), p));
        }
    }
    if !to_save.is_empty() {
        write(ctx, &d, &to_save, &refuse)?;
    }
    let after = Saved::read(ctx, id)?;
    Ok(SaveReport {
        unconfigured: unconfigured(&d, &after),
        plugin_id: d.id.clone(),
        display_name: d.display_name.clone(),
        saved: to_save.into_iter().map(|(k, _)| k).collect(),
    })
}

/// What an install says about the plugin's options (Claude Code's lines after its `✔`): the
/// `--config KEY=VALUE` values applied or why not, and how many options are still unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AfterInstall {
    pub lines: Vec<String>,
    /// Set when `--config` values were given.
    pub config_applied: Option<bool>,
    /// Options still unset (none: absent).
    pub unset_option_count: Option<usize>,
}

/// After an install of `id` (a new one or one already there): apply `--config` pairs, then
/// count what is unset.
pub fn after_install(ctx: &Context, id: &str, configs: &[String]) -> AfterInstall {
    let mut out = AfterInstall::default();
    match options_after_install(ctx, id, configs) {
        Ok(unset) => {
            if !configs.is_empty() {
                out.config_applied = Some(true);
            }
            if let Some((count, hint)) = unset {
                out.unset_option_count = Some(count);
                out.lines.push(hint);
            }
        }
        Err(reason) if !configs.is_empty() => {
            out.config_applied = Some(false);
            out.lines
                .push(format!("⚠ Installed, but --config not applied: {reason}"));
        }
        Err(_) => {}
    }
    out
}

/// Apply `configs`, then the hint about options still unset, and how many.
fn options_after_install(
    ctx: &Context,
    id: &str,
    configs: &[String],
) -> Result<Option<(usize, String)>, String> {
    let d = declared(ctx, id).map_err(|e| e.to_string())?;
    if !configs.is_empty() {
        apply_configs(ctx, &d, configs)?;
    }
    let saved = Saved::read(ctx, id).map_err(|e| e.to_string())?;
    let unset = unconfigured(&d, &saved);
    if unset.is_empty() {
        return Ok(None);
    }
    let required = unset
        .iter()
        .filter(|k| is_true(&d.options[k.as_str()], "required"))
        .count();
    let word = if unset.len() == 1 {
        "option"
    } else {
        "options"
    };
    let req = if required > 0 {
        format!(" ({required} required)")
    } else {
        String::new()
    };
    Ok(Some((
        unset.len(),
        format!(
            "{} userConfig {word} not yet set{req} — run /plugin configure {id} in Claude Code, or pass --config KEY=VALUE.",
            unset.len()
        ),
    )))
}

/// `install --config KEY=VALUE…`: declared keys only, values coerced and checked, then written
/// as `configure` writes them.
fn apply_configs(ctx: &Context, d: &Declared, configs: &[String]) -> Result<(), String> {
    let mut pairs = Vec::new();
    for c in configs {
        let (k, v) = c.split_once('=').unwrap_or((c.as_str(), ""));
        if !d.options.contains_key(k) {
            let known: Vec<&str> = d.options.keys().map(String::as_str).collect();
            return Err(format!(
                "--config key \"{k}\" isn't declared in this plugin's userConfig. Known keys: {}.",
                known.join(", ")
            ));
        }
        pairs.push((k.to_string(), v.to_string()));
    }
    let _lock = ctx.lock_state().map_err(|e| e.to_string())?;
    let saved = Saved::read(ctx, &d.id).map_err(|e| e.to_string())?;
    let to_save = coerce(d, &pairs, &saved);
    let problems: Vec<String> = to_save
        .iter()
        .filter_map(|(k, v)| value_problem(k, Some(v), &d.options[k]))
        .collect();
    if !problems.is_empty() {
        return Err(format!(
            "--config validation failed: {}",
            problems.join("; ")
        ));
    }
    if to_save.is_empty() {
        return Ok(());
    }
    let refuse = |_: Option<&str>, m: String| -> OpError {
        ConfigureError::Refused {
            plugin_id: d.id.clone(),
            display_name: d.display_name.clone(),
            option: None,
            message: m,
        }
        .into()
    };
    write(ctx, d, &to_save, &refuse).map_err(|e| match e {
        OpError::Configure(ConfigureError::Refused { message, .. }) => message,
        other => other.to_string(),
    })
}

/// Values as typed → values to save, as Claude Code coerces them: the first line, trimmed;
/// numbers and booleans by type; a blank left out where it would clear nothing (a number, a
/// secret held, an optional option not set).
fn coerce(d: &Declared, pairs: &[(String, String)], saved: &Saved) -> Vec<(String, Value)> {
    let mut to_save = Vec::new();
    for (k, v) in pairs {
        let o = &d.options[k];
        let t = v.split(['\r', '\n']).next().unwrap_or_default().trim();
        if t.is_empty()
            && ((is_true(o, "sensitive") && saved.get(k).is_some())
                || kind(o) == "number"
                || (!is_true(o, "required") && saved.get(k).is_none()))
        {
            continue;
        }
        let value = match kind(o) {
            "number" => match t.parse::<f64>() {
                Ok(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 9e15 => {
                    Value::from(n as i64)
                }
                Ok(n) => serde_json::Number::from_f64(n)
                    .map_or_else(|| Value::String(t.to_string()), Value::Number),
                Err(_) => Value::String(t.to_string()),
            },
            "boolean" => match boolean_of(t) {
                Some(b) => Value::Bool(b),
                None => continue,
            },
            _ => Value::String(t.to_string()),
        };
        to_save.push((k.clone(), value));
    }
    to_save
}

/// Write non-sensitive values into the user settings and sensitive ones into the secrets file,
/// in one step (a failure puts both back).
fn write(
    ctx: &Context,
    d: &Declared,
    to_save: &[(String, Value)],
    refuse: &dyn Fn(Option<&str>, String) -> OpError,
) -> Result<(), OpError> {
    let (secret, plain): (Vec<_>, Vec<_>) = to_save
        .iter()
        .partition(|(k, _)| is_true(&d.options[k], "sensitive"));
    if let (false, Some((k, _))) = (crate::platform::SECRETS_IN_FILE, secret.first()) {
        return Err(refuse(
            Some(k),
            format!(
                "{} is sensitive: Claude Code keeps it in the macOS keychain, which `plugin` does not write. Set it with /plugin configure {} in Claude Code.",
                label(k, &d.options[k]),
                d.id
            ),
        ));
    }
    let mut settings = ctx.settings(Scope::User)?;
    let mut secrets = secrets_doc(ctx)?;
    super::in_transaction(|tx| {
        // Settings: the new plain values; a key now kept as a secret leaves them.
        let mut options = settings.plugin_options(&d.id);
        for (k, _) in &secret {
            options.shift_remove(k.as_str());
        }
        for (k, v) in &plain {
            options.insert(k.clone(), v.clone());
        }
        let had = settings.plugin_options(&d.id);
        if options != had || !plain.is_empty() {
            settings.set_plugin_options(&d.id, options);
            settings.write(tx).map_err(OpError::settings_write)?;
        }
        // Secrets: the new ones; a key now kept in the settings leaves them.
        let stored = secrets
            .object("pluginSecrets")
            .and_then(|m| m.get(&d.id))
            .and_then(Value::as_object)
            .cloned();
        let mut mine = stored.clone().unwrap_or_default();
        for (k, _) in &plain {
            mine.shift_remove(k.as_str());
        }
        for (k, v) in &secret {
            mine.insert(k.clone(), Value::String(js_string(v)));
        }
        if Some(&mine) != stored.as_ref() && !(stored.is_none() && mine.is_empty()) {
            secrets
                .object_mut("pluginSecrets")
                .insert(d.id.clone(), Value::Object(mine));
            secrets.write_private(tx)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_judged_as_claude_code_judges_them() {
        let n = json!({"type": "number", "title": "Count", "min": 1, "max": 10});
        assert_eq!(number_of(" 5 ", &n), Some(5.0));
        assert_eq!(number_of("50", &n), None);
        assert_eq!(number_hint(&n), "It takes a number between 1 and 10.");
        assert_eq!(
            number_hint(&json!({"type": "number"})),
            "It takes a number."
        );
        assert_eq!(boolean_of("Yes"), Some(true));
        assert_eq!(boolean_of("off"), Some(false));
        assert_eq!(boolean_of("maybe"), None);
        let mode = json!({"type": "string", "title": "Mode", "options": ["fast", "slow"]});
        assert_eq!(
            value_problem("mode", Some(&json!("medium")), &mode).as_deref(),
            Some("Mode must be one of: fast, slow")
        );
        let req = json!({"type": "string", "required": true});
        assert_eq!(
            value_problem("req", Some(&json!("")), &req).as_deref(),
            Some("req is required but not provided")
        );
        assert_eq!(
            value_problem("n", Some(&json!(0)), &n).as_deref(),
            Some("Count must be at least 1")
        );
        assert!(matches!(
            parse_values("[]"),
            Err(ConfigureError::NotObjectOfStrings)
        ));
        assert!(matches!(
            parse_values(r#"{"n":5}"#),
            Err(ConfigureError::NotObjectOfStrings)
        ));
        assert_eq!(
            parse_values(r#"{"a":"1","b":"x"}"#).unwrap(),
            [
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "x".to_string())
            ]
        );
    }
}
