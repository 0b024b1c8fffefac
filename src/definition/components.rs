//! Loading each component kind from default folders and declarations, with path checks and
//! substitution (see the module doc of [`super`]).

use super::paths::{PathProblem, PluginRoot, markdown_files, theme_files, workflow_files};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::substitute::{Usage, Variables, references, unquoted_path_vars};
use super::{
    Components, ConfigComponent, ExportedEnv, HookGroup, MarkdownComponent, Named, OptionSource,
    OptionValue, Origin, ServerComponent, Warning, WarningKind, shown,
};

/// Markdown files larger than this are listed without scanning them for variables.
const MAX_SCAN: u64 = 1 << 20;

/// The sensitive options' values (`None`: kept where they cannot be read, the macOS keychain)
/// and whether to show them.
pub(super) struct Secrets {
    pub values: Option<Map<String, Value>>,
    pub show: bool,
}

/// The values of [`Variables`] (option values set in settings, then declared defaults; secrets
/// masked unless shown) and the report of every option: declared ones in declaration order,
/// then others set in settings.
pub(super) fn variables(
    declared: Option<&Value>,
    set: Named<OptionValue>,
    secrets: Secrets,
    root: &Path,
    data: &Path,
    project: &Path,
) -> (Variables, Named<OptionValue>) {
    let mut options: Map<String, Value> = set
        .iter()
        .map(|(k, o)| (k.to_string(), o.value.clone()))
        .collect();
    let mut sensitive = BTreeSet::new();
    let mut report = Named::default();
    for (key, decl) in declared.and_then(Value::as_object).into_iter().flatten() {
        let entry = if decl.get("sensitive").and_then(Value::as_bool) == Some(true) {
            // Never the settings' value (a secret there is not where hosts read it), and never
            // printed unless asked for.
            options.shift_remove(key.as_str());
            let held = secrets.values.as_ref().map(|v| v.get(key));
            match held {
                None => {
                    sensitive.insert(key.clone());
                    OptionValue {
                        value: Value::Null,
                        from: Some(OptionSource::Keychain),
                    }
                }
                Some(Some(v)) if v != &Value::String(String::new()) => {
                    let shown = if secrets.show {
                        v.clone()
                    } else {
                        Value::String(super::SECRET_MASK.to_string())
                    };
                    options.insert(key.clone(), shown.clone());
                    OptionValue {
                        value: shown,
                        from: Some(OptionSource::Secrets),
                    }
                }
                Some(_) => {
                    sensitive.insert(key.clone());
                    OptionValue {
                        value: Value::Null,
                        from: None,
                    }
                }
            }
        } else if let Some(o) = set.get(key) {
            o.clone()
        } else if let Some(d) = decl.get("default") {
            options.insert(key.clone(), d.clone());
            OptionValue {
                value: d.clone(),
                from: Some(OptionSource::Default),
            }
        } else {
            OptionValue {
                value: Value::Null,
                from: None,
            }
        };
        report.insert(key.clone(), entry);
    }
    for (key, o) in set.iter() {
        if report.get(key).is_none() {
            report.insert(key.to_string(), o.clone());
        }
    }
    let vars = Variables {
        root: root.to_string_lossy().into_owned(),
        data: data.to_string_lossy().into_owned(),
        project: project.to_string_lossy().into_owned(),
        options,
        sensitive,
    };
    (vars, report)
}

/// A kind of component read from the files of a folder, which a manifest key replaces.
struct MarkdownKind {
    key: &'static str,
    folder: &'static str,
    /// Whether `${user_config.KEY}` is substituted in its body (skills, commands, agents).
    user_config: bool,
    /// Whether the key belongs under `experimental` (Claude Code 2.1.129; a top-level key still
    /// loads, with a warning).
    experimental: bool,
    /// The files of a folder that are components.
    files: fn(&Path, &mut Vec<PathBuf>),
}

const COMMANDS: MarkdownKind = MarkdownKind {
    key: "commands",
    folder: "commands",
    user_config: true,
    experimental: false,
    files: markdown_files,
};
const AGENTS: MarkdownKind = MarkdownKind {
    key: "agents",
    folder: "agents",
    user_config: true,
    experimental: false,
    files: markdown_files,
};
const OUTPUT_STYLES: MarkdownKind = MarkdownKind {
    key: "outputStyles",
    folder: "output-styles",
    user_config: false,
    experimental: false,
    files: markdown_files,
};
const THEMES: MarkdownKind = MarkdownKind {
    key: "themes",
    folder: "themes",
    user_config: false,
    experimental: true,
    files: theme_files,
};
const WORKFLOWS: MarkdownKind = MarkdownKind {
    key: "workflows",
    folder: "workflows",
    user_config: false,
    experimental: false,
    files: workflow_files,
};

/// Keys of a plugin's settings that take effect (docs §5); the others are ignored.
const EFFECTIVE_SETTINGS: &[&str] = &["agent", "subagentStatusLine"];

#[derive(Clone, Copy, PartialEq)]
enum ServerKind {
    Mcp,
    Lsp,
}

impl ServerKind {
    fn key(self) -> &'static str {
        match self {
            ServerKind::Mcp => "mcpServers",
            ServerKind::Lsp => "lspServers",
        }
    }

    fn default_file(self) -> &'static str {
        match self {
            ServerKind::Mcp => ".mcp.json",
            ServerKind::Lsp => ".lsp.json",
        }
    }
}

pub(super) struct Loader<'a> {
    root: &'a Path,
    /// `root` with symlinks resolved (a linked checkout), for containment checks.
    paths: PluginRoot,
    id: &'a str,
    plugin_name: &'a str,
    vars: Variables,
    warnings: &'a mut Vec<Warning>,
    pub uses_data_dir: bool,
}

impl<'a> Loader<'a> {
    pub fn new(
        root: &'a Path,
        id: &'a str,
        plugin_name: &'a str,
        vars: Variables,
        warnings: &'a mut Vec<Warning>,
    ) -> Self {
        Self {
            paths: PluginRoot::new(root, None),
            root,
            id,
            plugin_name,
            vars,
            warnings,
            uses_data_dir: false,
        }
    }

    fn warn(&mut self, kind: WarningKind, component: &'static str, message: String) {
        self.warnings
            .push(Warning::new(kind, Some(component), message));
    }

    pub fn load(
        &mut self,
        primary: &Map<String, Value>,
        origin: Origin,
        appended: Option<&Map<String, Value>>,
    ) -> Components {
        // One after the other: warnings come in load order.
        let commands = self.markdown(&COMMANDS, primary, origin, appended);
        let agents = self.markdown(&AGENTS, primary, origin, appended);
        let skills = self.skills(primary, origin, appended);
        let output_styles = self.markdown(&OUTPUT_STYLES, primary, origin, appended);
        let themes = self.markdown(&THEMES, primary, origin, appended);
        let workflows = self.markdown(&WORKFLOWS, primary, origin, appended);
        let hooks = self.hooks(primary, origin, appended);
        let mcp_servers = self.servers(ServerKind::Mcp, primary, origin);
        let lsp_servers = self.servers(ServerKind::Lsp, primary, origin);
        let channels = self.channels(primary, origin, &mcp_servers);
        Components {
            commands,
            agents,
            skills,
            output_styles,
            themes,
            workflows,
            hooks,
            mcp_servers,
            lsp_servers,
            channels,
            monitors: self.monitors(primary, origin),
            bin: Some(self.root.join("bin")).filter(|b| b.is_dir()),
            settings: self.settings(primary, origin),
        }
    }

    pub fn exported_env(&self, c: &Components) -> ExportedEnv {
        let paths = || {
            let mut n = Named::default();
            n.insert("CLAUDE_PLUGIN_ROOT".into(), self.vars.root.clone());
            n.insert("CLAUDE_PLUGIN_DATA".into(), self.vars.data.clone());
            n.insert("CLAUDE_PROJECT_DIR".into(), self.vars.project.clone());
            n
        };
        let mut env = ExportedEnv::default();
        if !c.hooks.is_empty() {
            env.hooks = paths();
            for (k, v) in self.vars.option_env() {
                env.hooks.insert(k, v);
            }
        }
        if c.mcp_servers.iter().any(|(_, s)| s.transport == "stdio") {
            env.mcp_servers = paths();
        }
        if !c.lsp_servers.is_empty() {
            env.lsp_servers = paths();
        }
        env
    }

    // ------------------------------------------------------------------ paths

    /// A declared component path inside the plugin root that exists; else a warning (Claude
    /// Code's texts) and `None`.
    fn path(&mut self, component: &'static str, raw: &str) -> Option<PathBuf> {
        let (kind, message) = match self.paths.locate(raw) {
            Ok(path) => return Some(path),
            Err(PathProblem::NotFound) => (
                WarningKind::PathNotFound,
                format!("{component} path not found: {raw}; skipped"),
            ),
            Err(PathProblem::BrokenLink) => (
                WarningKind::PathNotFound,
                format!("{component} path not found: {raw} (a broken link); skipped"),
            ),
            Err(_) => (
                WarningKind::PathEscapes,
                format!("{component} path escapes plugin directory: {raw}; skipped"),
            ),
        };
        self.warn(kind, component, message);
        None
    }

    /// The strings of a path-or-array value; other shapes are warned about.
    fn path_list(&mut self, component: &'static str, v: &Value) -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    other => {
                        self.invalid(component, "a path string", other);
                        None
                    }
                })
                .collect(),
            other => {
                self.invalid(component, "a path or an array of paths", other);
                Vec::new()
            }
        }
    }

    fn invalid(&mut self, component: &'static str, expected: &str, got: &Value) {
        self.warn(
            WarningKind::InvalidConfig,
            component,
            format!(
                "{component}: expected {expected}, got {}; skipped",
                crate::schema::json_type(Some(got))
            ),
        );
    }

    /// "Default commands/ folder is ignored because the manifest sets "commands"" (no warning
    /// when a declared path points inside that folder).
    fn shadow_warning(&mut self, kind: &MarkdownKind, origin: Origin, v: &Value) {
        if !self.root.join(kind.folder).is_dir() {
            return;
        }
        let inside = |s: &str| {
            let s = s.strip_prefix("./").unwrap_or(s);
            s == kind.folder || s.starts_with(&format!("{}/", kind.folder))
        };
        let points_inside = match v {
            Value::String(s) => inside(s),
            Value::Array(a) => a.iter().filter_map(Value::as_str).any(inside),
            _ => false,
        };
        if !points_inside {
            let by = match origin {
                Origin::Entry => "marketplace entry",
                _ => "manifest",
            };
            self.warn(
                WarningKind::Ignored,
                kind.key,
                format!(
                    "Default {}/ folder is ignored because the {by} sets \"{}\"",
                    kind.folder, kind.key
                ),
            );
        }
    }

    // ------------------------------------------------------------------ Markdown kinds

    fn markdown(
        &mut self,
        kind: &MarkdownKind,
        primary: &Map<String, Value>,
        origin: Origin,
        appended: Option<&Map<String, Value>>,
    ) -> Vec<MarkdownComponent> {
        let mut out = Vec::new();
        let declared = if kind.experimental {
            self.experimental(primary, kind.key)
        } else {
            primary.get(kind.key)
        };
        match declared {
            Some(v) => {
                self.shadow_warning(kind, origin, v);
                self.markdown_decl(kind, v, origin, &mut out);
            }
            None => {
                let dir = self.root.join(kind.folder);
                if dir.is_dir() {
                    self.markdown_dir(kind, &dir, Origin::Default, &mut out);
                }
            }
        }
        if let Some(v) = appended.and_then(|e| e.get(kind.key)) {
            self.markdown_decl(kind, v, Origin::Entry, &mut out);
        }
        out
    }

    fn markdown_decl(
        &mut self,
        kind: &MarkdownKind,
        v: &Value,
        origin: Origin,
        out: &mut Vec<MarkdownComponent>,
    ) {
        if let (Value::Object(map), "commands") = (v, kind.key) {
            return self.command_map(map, origin, out);
        }
        for raw in self.path_list(kind.key, v) {
            let Some(p) = self.path(kind.key, &raw) else {
                continue;
            };
            if p.is_dir() {
                self.markdown_dir(kind, &p, origin, out);
            } else if !listed(out, &p) {
                let name = stem(&p);
                out.push(self.markdown_file(kind, name, p, None, origin));
            }
        }
    }

    /// `"commands": {"name": {"source": "./x.md"} | {"content": "…"}, …}`.
    fn command_map(
        &mut self,
        map: &Map<String, Value>,
        origin: Origin,
        out: &mut Vec<MarkdownComponent>,
    ) {
        for (name, spec) in map {
            let source = spec.get("source").and_then(Value::as_str);
            let content = spec.get("content").and_then(Value::as_str);
            match (source, content) {
                (Some(src), None) => {
                    if let Some(p) = self.path("commands", src)
                        && !listed(out, &p)
                    {
                        out.push(self.markdown_file(&COMMANDS, name.clone(), p, None, origin));
                    }
                }
                (None, Some(text)) => {
                    let refs = references(text);
                    self.markdown_refs(&COMMANDS, &refs, &format!("command {name} (inline)"));
                    out.push(MarkdownComponent {
                        name: name.clone(),
                        file: None,
                        dir: None,
                        from: origin,
                        references: refs,
                    });
                }
                _ => self.warn(
                    WarningKind::InvalidConfig,
                    "commands",
                    format!(
                        "commands.{name}: needs exactly one of \"source\" (a path) or \"content\" (text); skipped"
                    ),
                ),
            }
        }
    }

    /// Every file of the kind under `dir`; names are the relative path without its extension,
    /// `/` read as `:`.
    fn markdown_dir(
        &mut self,
        kind: &MarkdownKind,
        dir: &Path,
        origin: Origin,
        out: &mut Vec<MarkdownComponent>,
    ) {
        let mut files = Vec::new();
        (kind.files)(dir, &mut files);
        files.sort();
        for f in files {
            if listed(out, &f) {
                continue;
            }
            let rel = f.strip_prefix(dir).unwrap_or(&f).with_extension("");
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(":");
            out.push(self.markdown_file(kind, name, f, None, origin));
        }
    }

    fn markdown_file(
        &mut self,
        kind: &MarkdownKind,
        name: String,
        file: PathBuf,
        dir: Option<PathBuf>,
        origin: Origin,
    ) -> MarkdownComponent {
        // A regular file of at most MAX_SCAN bytes, never a FIFO (which would block).
        let text = self
            .paths
            .holds(&file)
            .then(|| crate::fsutil::read_regular_file(&file, MAX_SCAN).ok())
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let refs = text.as_deref().map(references).unwrap_or_default();
        // Claude Code names an agent by its frontmatter `name`, else after the file.
        let name = match text.as_deref() {
            Some(t) if kind.key == "agents" => frontmatter_name(t).unwrap_or(name),
            _ => name,
        };
        let shown = shown(self.root, &file);
        self.markdown_refs(kind, &refs, &shown);
        MarkdownComponent {
            name,
            file: Some(file),
            dir,
            from: origin,
            references: refs,
        }
    }

    /// Warnings for `${user_config.KEY}` in a body the host will substitute.
    fn markdown_refs(&mut self, kind: &MarkdownKind, refs: &[String], at: &str) {
        if !kind.user_config {
            return;
        }
        let mut usage = Usage::default();
        for r in refs {
            self.vars.expand(&format!("${{{r}}}"), true, &mut usage);
        }
        usage.data = false;
        self.usage_warnings(kind.key, at, usage);
    }

    // ------------------------------------------------------------------ skills

    fn skills(
        &mut self,
        primary: &Map<String, Value>,
        origin: Origin,
        appended: Option<&Map<String, Value>>,
    ) -> Vec<MarkdownComponent> {
        let mut out = Vec::new();
        let default = self.root.join("skills");
        if default.is_dir() {
            self.skills_in(&default, Origin::Default, &mut out);
        }
        let declared = [
            primary.get("skills").map(|v| (v, origin)),
            appended
                .and_then(|e| e.get("skills"))
                .map(|v| (v, Origin::Entry)),
        ];
        let any_declared = declared.iter().any(Option::is_some);
        for (v, from) in declared.into_iter().flatten() {
            for raw in self.path_list("skills", v) {
                let Some(p) = self.path("skills", &raw) else {
                    continue;
                };
                if p.join("SKILL.md").is_file() {
                    let name = if p == self.root {
                        self.plugin_name.to_string()
                    } else {
                        file_name(&p)
                    };
                    if !listed(&out, &p.join("SKILL.md")) {
                        out.push(self.skill(name, &p, from));
                    }
                } else if p.is_dir() {
                    self.skills_in(&p, from, &mut out);
                } else {
                    self.warn(
                        WarningKind::InvalidConfig,
                        "skills",
                        format!(
                            "skills path is not a folder: {raw} (expected a folder holding SKILL.md or <name>/SKILL.md); skipped"
                        ),
                    );
                }
            }
        }
        // A single-skill plugin: SKILL.md at the root, no skills/ folder and no `skills` key.
        if !default.is_dir() && !any_declared && self.root.join("SKILL.md").is_file() {
            let root = self.root.to_path_buf();
            // Claude Code names it by its frontmatter `name`, else after the plugin.
            let file = root.join("SKILL.md");
            let name = self
                .paths
                .holds(&file)
                .then(|| crate::fsutil::read_regular_text(&file, MAX_SCAN).ok())
                .flatten()
                .and_then(|text| frontmatter_name(&text))
                .unwrap_or_else(|| self.plugin_name.to_string());
            out.push(self.skill(name, &root, Origin::Default));
        }
        out
    }

    fn skills_in(&mut self, dir: &Path, origin: Origin, out: &mut Vec<MarkdownComponent>) {
        let mut subdirs: Vec<PathBuf> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.join("SKILL.md").is_file())
            .collect();
        subdirs.sort();
        for d in subdirs {
            if !listed(out, &d.join("SKILL.md")) {
                out.push(self.skill(file_name(&d), &d, origin));
            }
        }
    }

    fn skill(&mut self, name: String, dir: &Path, origin: Origin) -> MarkdownComponent {
        const SKILLS: MarkdownKind = MarkdownKind {
            key: "skills",
            folder: "skills",
            user_config: true,
            experimental: false,
            files: markdown_files,
        };
        self.markdown_file(
            &SKILLS,
            name,
            dir.join("SKILL.md"),
            Some(dir.to_path_buf()),
            origin,
        )
    }

    // ------------------------------------------------------------------ substitution

    fn expand(
        &mut self,
        component: &'static str,
        at: &str,
        text: &str,
        user_config: bool,
    ) -> String {
        let mut usage = Usage::default();
        let out = self.vars.expand(text, user_config, &mut usage);
        self.uses_data_dir |= usage.data;
        self.usage_warnings(component, at, usage);
        out
    }

    fn usage_warnings(&mut self, component: &'static str, at: &str, usage: Usage) {
        for key in usage.missing {
            self.warn(
                WarningKind::UserConfigMissing,
                component,
                format!(
                    "{at}: ${{user_config.{key}}} has no value (pluginConfigs[\"{}\"].options.{key} in the user or managed settings) and no default; left as written",
                    self.id
                ),
            );
        }
        for key in usage.sensitive {
            self.warn(
                WarningKind::UserConfigSensitive,
                component,
                format!(
                    "{at}: ${{user_config.{key}}} is a sensitive option with no value here (not set with `plugin configure`, or kept in the macOS keychain); left for the host to fill in"
                ),
            );
        }
        for key in usage.not_allowed {
            self.warn(
                WarningKind::UserConfigNotAllowed,
                component,
                format!(
                    "{at}: ${{user_config.{key}}} is not substituted here (Claude Code refuses it in shell-form hook commands, monitor commands and headersHelper); a hook can take it as an exec-form argument or read $CLAUDE_PLUGIN_OPTION_{}",
                    key.to_ascii_uppercase()
                ),
            );
        }
    }

    /// Substitute the strings of `obj[key]` (a string, an array of strings or an object of
    /// strings) in place.
    fn expand_field(
        &mut self,
        component: &'static str,
        at: &str,
        obj: &mut Map<String, Value>,
        key: &str,
        user_config: bool,
    ) {
        let Some(v) = obj.get_mut(key) else { return };
        let mut taken = std::mem::take(v);
        let where_ = format!("{at}.{key}");
        match &mut taken {
            Value::String(s) => *s = self.expand(component, &where_, s, user_config),
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::String(s) = item {
                        *s = self.expand(component, &format!("{where_}[{i}]"), s, user_config);
                    }
                }
            }
            Value::Object(m) => {
                for (k, item) in m.iter_mut() {
                    if let Value::String(s) = item {
                        *s = self.expand(component, &format!("{where_}.{k}"), s, user_config);
                    }
                }
            }
            _ => {}
        }
        if let Some(v) = obj.get_mut(key) {
            *v = taken;
        }
    }

    // ------------------------------------------------------------------ JSON files

    /// A JSON file of a component; a read or syntax error is a warning naming file:line:column.
    fn json_file(&mut self, component: &'static str, path: &Path) -> Option<Value> {
        if path.exists() && !self.paths.holds(path) {
            self.warn(
                WarningKind::PathEscapes,
                component,
                format!(
                    "{} leads outside the plugin folder through a symlink; its {component} are skipped",
                    path.display()
                ),
            );
            return None;
        }
        let text = match crate::fsutil::read_regular_text(path, crate::fsutil::JSON_FILE_LIMIT) {
            Ok(t) => t,
            Err(e) => {
                self.warn(
                    WarningKind::InvalidJson,
                    component,
                    format!(
                        "cannot read {}: {e}; its {component} are skipped",
                        path.display()
                    ),
                );
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = crate::state::json::syntax_message(&text, &e);
                self.warn(
                    WarningKind::InvalidJson,
                    component,
                    format!(
                        "{}:{}:{}: invalid JSON: {msg}; its {component} are skipped",
                        path.display(),
                        e.line(),
                        e.column()
                    ),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------------ hooks

    fn hooks(
        &mut self,
        primary: &Map<String, Value>,
        origin: Origin,
        appended: Option<&Map<String, Value>>,
    ) -> Named<Vec<HookGroup>> {
        let mut events: Named<Vec<HookGroup>> = Named::default();
        let mut loaded: Vec<PathBuf> = Vec::new();
        let default = self.root.join("hooks").join("hooks.json");
        if default.is_file() {
            self.hooks_file(&default, Origin::Default, &mut loaded, &mut events);
        }
        if let Some(v) = primary.get("hooks") {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                match item {
                    Value::Object(_) => {
                        let parsed = self.hook_events(item, origin, None, "hooks (inline)");
                        append_events(&mut events, parsed);
                    }
                    Value::String(raw) if origin != Origin::Entry => {
                        if let Some(p) = self.path("hooks", raw) {
                            self.hooks_file(&p, origin, &mut loaded, &mut events);
                        }
                    }
                    Value::String(_) if origin == Origin::Entry => self.entry_hooks_file(),
                    other => self.invalid("hooks", "a path, an object or an array of them", other),
                }
            }
        }
        if let Some(v) = appended.and_then(|e| e.get("hooks")) {
            match v {
                Value::Object(_) => {
                    // Strict mode: the entry's matchers replace the manifest's, event by event.
                    let parsed =
                        self.hook_events(v, Origin::Entry, None, "hooks (marketplace entry)");
                    for (event, groups) in parsed.0 {
                        events.insert(event, groups);
                    }
                }
                Value::String(_) | Value::Array(_) => self.entry_hooks_file(),
                other => self.invalid("hooks", "an object", other),
            }
        }
        events
    }

    fn entry_hooks_file(&mut self) {
        self.warn(
            WarningKind::Unsupported,
            "hooks",
            "the marketplace entry names hooks files; an entry's hooks load only as an inline object (Claude Code: \"not yet supported in a marketplace entry\"); skipped".into(),
        );
    }

    fn hooks_file(
        &mut self,
        path: &Path,
        origin: Origin,
        loaded: &mut Vec<PathBuf>,
        events: &mut Named<Vec<HookGroup>>,
    ) {
        // `"hooks": "./hooks/hooks.json"` names the default file again: load it once.
        let real = crate::fsutil::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if loaded.contains(&real) {
            return;
        }
        loaded.push(real);
        let Some(v) = self.json_file("hooks", path) else {
            return;
        };
        let at = shown(self.root, path);
        let parsed = self.hook_events(&v, origin, Some(path.to_path_buf()), &at);
        append_events(events, parsed);
    }

    /// `{"hooks": {Event: [groups]}}` or `{Event: [groups]}`.
    fn hook_events(
        &mut self,
        v: &Value,
        origin: Origin,
        file: Option<PathBuf>,
        at: &str,
    ) -> Named<Vec<HookGroup>> {
        let mut out = Named::default();
        let map = match v.get("hooks") {
            Some(Value::Object(m)) => m,
            _ => match v {
                Value::Object(m) => m,
                other => {
                    self.invalid("hooks", "an object", other);
                    return out;
                }
            },
        };
        for (event, groups) in map {
            if event == "description" && groups.is_string() {
                continue;
            }
            let Value::Array(groups) = groups else {
                self.warn(
                    WarningKind::InvalidConfig,
                    "hooks",
                    format!("{at}: hooks.{event} must be an array of matcher groups; skipped"),
                );
                continue;
            };
            let mut list = Vec::new();
            for (gi, g) in groups.iter().enumerate() {
                let hooks = g.get("hooks").and_then(Value::as_array);
                let Some(hooks) = hooks else {
                    self.warn(
                        WarningKind::InvalidConfig,
                        "hooks",
                        format!("{at}: hooks.{event}[{gi}] has no \"hooks\" array; skipped"),
                    );
                    continue;
                };
                let mut resolved = Vec::new();
                for (hi, h) in hooks.iter().enumerate() {
                    let here = format!("{at}: hooks.{event}[{gi}].hooks[{hi}]");
                    match h {
                        Value::Object(obj) => resolved.push(Value::Object(self.hook(obj, &here))),
                        _ => self.warn(
                            WarningKind::InvalidConfig,
                            "hooks",
                            format!("{here} is not an object; skipped"),
                        ),
                    }
                }
                list.push(HookGroup {
                    matcher: g.get("matcher").and_then(Value::as_str).map(String::from),
                    from: origin,
                    file: file.clone(),
                    hooks: resolved,
                });
            }
            out.insert(event.clone(), list);
        }
        out
    }

    /// One hook: `command` and (exec form) `args` substituted; shell-form quoting checked.
    fn hook(&mut self, obj: &Map<String, Value>, at: &str) -> Map<String, Value> {
        let mut h = obj.clone();
        let exec = h.get("args").is_some_and(Value::is_array);
        if let Some(Value::String(cmd)) = h.get("command")
            && !exec
        {
            let spaced = self.vars.root.contains(char::is_whitespace)
                || self.vars.data.contains(char::is_whitespace)
                || self.vars.project.contains(char::is_whitespace);
            for var in unquoted_path_vars(cmd) {
                self.warn(
                    WarningKind::UnquotedPathVariable,
                    "hooks",
                    format!(
                        "{at}.command: ${{{var}}} is not quoted in a shell-form command, so a path with spaces splits into several words ({}); write \"${{{var}}}\"",
                        if spaced {
                            "this installation's paths have spaces"
                        } else {
                            "this installation's paths have none"
                        }
                    ),
                );
            }
        }
        // `${user_config.…}` goes only into exec-form args (Claude Code refuses it in a
        // shell-form command, where a value could inject shell syntax).
        self.expand_field("hooks", at, &mut h, "command", false);
        if exec {
            self.expand_field("hooks", at, &mut h, "args", true);
        }
        h
    }

    // ------------------------------------------------------------------ MCP and LSP servers

    fn servers(
        &mut self,
        kind: ServerKind,
        primary: &Map<String, Value>,
        origin: Origin,
    ) -> Named<ServerComponent> {
        let mut out = Named::default();
        let default = self.root.join(kind.default_file());
        if default.is_file() {
            self.servers_file(kind, &default, Origin::Default, &mut out);
        }
        if let Some(v) = primary.get(kind.key()) {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                match item {
                    Value::Object(m) => {
                        let map = server_map(kind, m);
                        let at = format!("{} (inline)", kind.key());
                        self.server_entries(kind, map, origin, None, &at, &mut out);
                    }
                    Value::String(raw) if kind == ServerKind::Mcp && is_bundle(raw) => self.warn(
                        WarningKind::Unsupported,
                        kind.key(),
                        format!(
                            "mcpServers: {raw} is an MCP bundle (.mcpb/.dxt or URL), which Claude Code extracts at load time; not resolved here"
                        ),
                    ),
                    Value::String(raw) => {
                        // Naming the default file again loads it once.
                        if let Some(p) = self.path(kind.key(), raw)
                            && crate::fsutil::canonicalize(&p).ok() != crate::fsutil::canonicalize(&default).ok()
                        {
                            self.servers_file(kind, &p, origin, &mut out);
                        }
                    }
                    other => self.invalid(kind.key(), "a path, an object or an array of them", other),
                }
            }
        }
        out
    }

    fn servers_file(
        &mut self,
        kind: ServerKind,
        path: &Path,
        origin: Origin,
        out: &mut Named<ServerComponent>,
    ) {
        let Some(v) = self.json_file(kind.key(), path) else {
            return;
        };
        let Value::Object(m) = &v else {
            return self.invalid(kind.key(), "an object", &v);
        };
        let at = shown(self.root, path);
        let map = server_map(kind, m);
        self.server_entries(kind, map, origin, Some(path.to_path_buf()), &at, out);
    }

    fn server_entries(
        &mut self,
        kind: ServerKind,
        map: &Map<String, Value>,
        origin: Origin,
        file: Option<PathBuf>,
        at: &str,
        out: &mut Named<ServerComponent>,
    ) {
        for (name, cfg) in map {
            let Value::Object(cfg) = cfg else {
                self.warn(
                    WarningKind::InvalidConfig,
                    kind.key(),
                    format!("{at}: {}.{name} is not an object; skipped", kind.key()),
                );
                continue;
            };
            let mut cfg = cfg.clone();
            let here = format!("{at}: {}.{name}", kind.key());
            let component = kind.key();
            let transport = match kind {
                ServerKind::Mcp => cfg
                    .get("type")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .unwrap_or_else(|| {
                        if cfg.contains_key("command") || !cfg.contains_key("url") {
                            "stdio".into()
                        } else {
                            "http".into()
                        }
                    }),
                ServerKind::Lsp => cfg
                    .get("transport")
                    .and_then(Value::as_str)
                    .unwrap_or("stdio")
                    .to_string(),
            };
            let fields: &[&str] = match (kind, transport.as_str()) {
                (ServerKind::Mcp, "stdio") => &["command", "args", "env"],
                (ServerKind::Mcp, _) => &["url", "headers"],
                (ServerKind::Lsp, _) => &["command", "args", "env", "workspaceFolder"],
            };
            for f in fields {
                self.expand_field(component, &here, &mut cfg, f, true);
            }
            if kind == ServerKind::Mcp && transport != "stdio" {
                self.expand_field(component, &here, &mut cfg, "headersHelper", false);
            }
            // A later declaration of the same name replaces the earlier one.
            out.0.retain(|(n, _)| n != name);
            out.0.push((
                name.clone(),
                ServerComponent {
                    transport,
                    from: origin,
                    file: file.clone(),
                    config: Value::Object(cfg),
                },
            ));
        }
    }

    /// `experimental.<key>`, else a top-level `<key>` (still loaded, with Claude Code's warning).
    fn experimental<'m>(
        &mut self,
        primary: &'m Map<String, Value>,
        key: &'static str,
    ) -> Option<&'m Value> {
        if let Some(v) = primary.get("experimental").and_then(|e| e.get(key)) {
            return Some(v);
        }
        let v = primary.get(key)?;
        self.warn(
            WarningKind::Deprecated,
            key,
            format!("\"{key}\" belongs under \"experimental\" since Claude Code 2.1.129; the top-level key still loads"),
        );
        Some(v)
    }

    // ------------------------------------------------------------------ channels and settings

    /// `channels`: `{server, displayName?, userConfig?}`, `server` naming one of the plugin's MCP
    /// servers.
    fn channels(
        &mut self,
        primary: &Map<String, Value>,
        origin: Origin,
        mcp: &Named<ServerComponent>,
    ) -> Vec<ConfigComponent> {
        let mut out = Vec::new();
        let Some(v) = primary.get("channels") else {
            return out;
        };
        let Value::Array(items) = v else {
            self.invalid("channels", "an array of objects", v);
            return out;
        };
        for (i, c) in items.iter().enumerate() {
            let Value::Object(m) = c else {
                self.invalid("channels", "an object", c);
                continue;
            };
            let problem = match m.get("server") {
                Some(Value::String(s)) if mcp.get(s).is_some() => None,
                Some(Value::String(s)) => Some(format!(
                    "channels[{i}].server \"{s}\" is not one of the plugin's MCP servers; skipped"
                )),
                _ => Some(format!(
                    "channels[{i}] needs \"server\", the name of one of the plugin's MCP servers; skipped"
                )),
            };
            match problem {
                Some(message) => self.warn(WarningKind::InvalidConfig, "channels", message),
                None => out.push(ConfigComponent {
                    from: origin,
                    file: None,
                    config: c.clone(),
                }),
            }
        }
        out
    }

    /// The root `settings.json`, else the manifest's `settings` (the file wins, whole); only
    /// [`EFFECTIVE_SETTINGS`] are kept, the other keys are warned about.
    fn settings(
        &mut self,
        primary: &Map<String, Value>,
        origin: Origin,
    ) -> Option<ConfigComponent> {
        let file = self.root.join("settings.json");
        let declared = primary.get("settings");
        let (v, from, file) = if file.is_file() {
            if declared.is_some() {
                self.warn(
                    WarningKind::Ignored,
                    "settings",
                    "\"settings\" of plugin.json is ignored because the plugin has a settings.json, which wins".into(),
                );
            }
            (
                self.json_file("settings", &file)?,
                Origin::Default,
                Some(file),
            )
        } else {
            (declared?.clone(), origin, None)
        };
        let Value::Object(m) = v else {
            self.invalid("settings", "an object", &v);
            return None;
        };
        let at = file
            .as_deref()
            .map_or_else(|| "settings".into(), |f| shown(self.root, f));
        let (kept, ignored): (Map<String, Value>, Map<String, Value>) = m
            .into_iter()
            .partition(|(k, _)| EFFECTIVE_SETTINGS.contains(&k.as_str()));
        if !ignored.is_empty() {
            let keys: Vec<&str> = ignored.keys().map(String::as_str).collect();
            self.warn(
                WarningKind::Ignored,
                "settings",
                format!(
                    "{at}: only \"agent\" and \"subagentStatusLine\" take effect in a plugin's settings; ignored: {}",
                    keys.join(", ")
                ),
            );
        }
        (!kept.is_empty()).then(|| ConfigComponent {
            from,
            file,
            config: Value::Object(kept),
        })
    }

    // ------------------------------------------------------------------ monitors

    fn monitors(&mut self, primary: &Map<String, Value>, origin: Origin) -> Vec<ConfigComponent> {
        let declared = self.experimental(primary, "monitors");
        let mut out = Vec::new();
        match declared {
            Some(Value::String(raw)) => {
                if let Some(p) = self.path("monitors", raw) {
                    self.monitors_file(&p, origin, &mut out);
                }
            }
            Some(v @ Value::Array(_)) => {
                self.monitor_entries(v, origin, None, "monitors (inline)", &mut out)
            }
            Some(other) => self.invalid("monitors", "a path or an array", other),
            None => {
                let default = self.root.join("monitors").join("monitors.json");
                if default.is_file() {
                    self.monitors_file(&default, Origin::Default, &mut out);
                }
            }
        }
        out
    }

    fn monitors_file(&mut self, path: &Path, origin: Origin, out: &mut Vec<ConfigComponent>) {
        let Some(v) = self.json_file("monitors", path) else {
            return;
        };
        let list = v.get("monitors").cloned().unwrap_or(v);
        let at = shown(self.root, path);
        self.monitor_entries(&list, origin, Some(path.to_path_buf()), &at, out);
    }

    fn monitor_entries(
        &mut self,
        v: &Value,
        origin: Origin,
        file: Option<PathBuf>,
        at: &str,
        out: &mut Vec<ConfigComponent>,
    ) {
        let Value::Array(items) = v else {
            return self.invalid("monitors", "an array", v);
        };
        for (i, m) in items.iter().enumerate() {
            let Value::Object(m) = m else {
                self.invalid("monitors", "an object", m);
                continue;
            };
            let mut m = m.clone();
            self.expand_field(
                "monitors",
                &format!("{at}: monitors[{i}]"),
                &mut m,
                "command",
                false,
            );
            out.push(ConfigComponent {
                from: origin,
                file: file.clone(),
                config: Value::Object(m),
            });
        }
    }
}

/// Append `more`'s groups to `events` (an event seen again keeps its first place).
fn append_events(events: &mut Named<Vec<HookGroup>>, more: Named<Vec<HookGroup>>) {
    for (event, groups) in more.0 {
        match events.get_mut(&event) {
            Some(list) => list.extend(groups),
            None => events.0.push((event, groups)),
        }
    }
}

/// `{"mcpServers": {…}}` / `{"lspServers": {…}}` wrappers, or the map itself.
/// The servers of an MCP or LSP file or object. An MCP file may wrap them in `mcpServers` (the
/// `.mcp.json` convention); LSP files are flat: Claude Code 2.1.328 reads an `lspServers` key
/// there as a server of that name, and so do we.
fn server_map(kind: ServerKind, m: &Map<String, Value>) -> &Map<String, Value> {
    match (kind, m.get(kind.key())) {
        (ServerKind::Mcp, Some(Value::Object(inner))) => inner,
        _ => m,
    }
}

fn is_bundle(raw: &str) -> bool {
    raw.starts_with("https://")
        || raw.starts_with("http://")
        || raw.ends_with(".mcpb")
        || raw.ends_with(".dxt")
}

/// Whether `file` is already listed (a path declared twice, or by the manifest and the entry).
fn listed(out: &[MarkdownComponent], file: &Path) -> bool {
    out.iter().any(|c| c.file.as_deref() == Some(file))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `name` of a Markdown file's YAML frontmatter, when it is a non-empty string.
fn frontmatter_name(text: &str) -> Option<String> {
    super::frontmatter::parse(text)
        .string("name")
        .filter(|n| !n.is_empty())
        .map(String::from)
}

#[cfg(test)]
mod frontmatter_tests {
    #[test]
    fn name_of_frontmatter() {
        assert_eq!(
            super::frontmatter_name("---\nname: solo\n---\nbody"),
            Some("solo".into())
        );
        assert_eq!(
            super::frontmatter_name("---\nname: \"a b\"\n---\n"),
            Some("a b".into())
        );
        assert_eq!(super::frontmatter_name("no frontmatter\nname: x"), None);
        assert_eq!(
            super::frontmatter_name("---\ndescription: d\n---\nname: x"),
            None
        );
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    /// The paths the loader reads by default are the table `validate` and `link` use to tell a
    /// plugin folder (a folder with only one of them must be a plugin for both).
    #[test]
    fn loader_defaults_are_the_default_layout() {
        let mut loaded = vec![
            COMMANDS.folder,
            AGENTS.folder,
            "skills",
            OUTPUT_STYLES.folder,
            "hooks/hooks.json",
            ServerKind::Mcp.default_file(),
            ServerKind::Lsp.default_file(),
            "monitors/monitors.json",
            "bin",
            "SKILL.md",
            THEMES.folder,
            WORKFLOWS.folder,
            "settings.json",
        ];
        let mut table = crate::manifest::DEFAULT_LAYOUT.to_vec();
        // Loaded too, but names this common do not make a folder a plugin on their own.
        table.extend(["themes", "workflows", "settings.json"]);
        loaded.sort();
        table.sort();
        assert_eq!(loaded, table);
    }
}
