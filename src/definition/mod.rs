//! The plugin as a host loads it: [`PluginDefinition`], built from an installed version folder,
//! its `plugin.json` and its marketplace entry by Claude Code's rules (docs §2.5, §5, §5.1, §8).
//!
//! - **Strict mode.** With a `plugin.json` and `strict` true or unset, the manifest is the
//!   authority: the entry's `commands`, `agents`, `skills` and `outputStyles` are appended, and
//!   its inline `hooks` replace the manifest's matchers event by event. With `strict: false` and
//!   components in the entry, the entry must be the whole definition: a `plugin.json` beside it
//!   is refused ([`DefinitionError::ConflictingManifests`]), as Claude Code 2.1.328 refuses it
//!   even when that `plugin.json` declares no components. Without a `plugin.json` the entry is
//!   the manifest.
//! - **Default folders** ([`crate::manifest::DEFAULT_LAYOUT`]). `commands/`, `agents/`, `skills/`,
//!   `output-styles/`, `hooks/hooks.json`, `.mcp.json`, `.lsp.json`, `monitors/monitors.json`,
//!   `bin/`, and a root `SKILL.md`; also `themes/`, `workflows/` and `settings.json`, which do not
//!   make a folder a plugin by themselves. Manifest paths replace the default (`commands`,
//!   `agents`, `outputStyles`, `workflows`, themes, monitors, settings) or add to it (`skills`,
//!   `hooks`, `mcpServers`, `lspServers`). A path that escapes the plugin root or does not exist
//!   is a warning and the component is skipped.
//! - **Substitution** ([`substitute`]) only in the fields of docs §8; Markdown bodies are never
//!   rewritten (installed files stay byte-identical): their variables are reported instead.
//!
//! Nothing here writes to disk or prints: the caller creates `${CLAUDE_PLUGIN_DATA}` when
//! [`PluginDefinition::uses_data_dir`] says a substitution needed it.

mod components;
pub mod frontmatter;
pub mod paths;
pub mod substitute;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use crate::manifest::{ManifestError, PluginManifest, read_manifest, read_manifest_file};
use crate::schema::PluginEntry;

pub use substitute::Variables;

/// Version of the JSON shape (`plugin resolve --json`); bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Fields whose presence makes a manifest or an entry "declare components" (docs §2.5's six):
/// with `strict: false` they make a plugin.json beside the entry a conflict.
pub const DECLARING_FIELDS: &[&str] = &[
    "commands",
    "agents",
    "skills",
    "hooks",
    "mcpServers",
    "lspServers",
];

/// Entry fields a strict entry beside a plugin.json adds to the manifest's components (docs
/// §2.5); `hooks` matchers replace the manifest's event by event.
pub const APPENDED_FIELDS: &[&str] = &[
    "commands",
    "agents",
    "skills",
    "outputStyles",
    "themes",
    "hooks",
];

/// Entry fields Claude Code ignores in a strict entry beside a plugin.json (docs §2.5).
pub const IGNORED_IN_STRICT_ENTRY: &[&str] =
    &["mcpServers", "lspServers", "userConfig", "channels"];

#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error(
        "Plugin {name} has conflicting manifests: both plugin.json and marketplace entry specify components. The entry sets \"strict\": false, so it must be the whole definition; remove {} (or its components) or drop \"strict\": false from the entry",
        manifest.display()
    )]
    ConflictingManifests { name: String, manifest: PathBuf },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(
        "The installed folder of {id} is missing: {}. Reinstall it with `plugin update {id} --force`",
        root.display()
    )]
    RootMissing { id: String, root: PathBuf },
}

/// The installation being resolved (from `installed_plugins.json`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    pub plugin_id: String,
    pub name: String,
    pub marketplace: String,
    pub version: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    /// The installed version folder: `${CLAUDE_PLUGIN_ROOT}`.
    pub root: PathBuf,
    /// The marketplace folder Claude Code loads the plugin from in place instead of `root` (a
    /// relative plugin of a folder marketplace), as `plugin list` reports it. Human output only
    /// for now: the JSON report's schema is settled with the typed reports.
    #[serde(skip)]
    pub read_from_folder: Option<PathBuf>,
}

/// Everything [`PluginDefinition::build`] reads besides the plugin folder itself.
pub struct DefinitionInputs<'a> {
    pub installation: Installation,
    /// The marketplace entry, when the marketplace still lists the plugin.
    pub entry: Option<&'a PluginEntry>,
    /// `${CLAUDE_PLUGIN_DATA}` (not created here).
    pub data_dir: PathBuf,
    /// `${CLAUDE_PROJECT_DIR}`.
    pub project_dir: PathBuf,
    /// The option values set in settings (`pluginConfigs[<id>].options`; managed settings win
    /// over the user's, key by key).
    pub options: Named<OptionValue>,
    /// The sensitive options' values where Claude Code keeps them (`pluginSecrets[<id>]`);
    /// `None` when they cannot be read here (the macOS keychain).
    pub secrets: Option<serde_json::Map<String, Value>>,
    /// Substitute and show secrets as they are; else each reads [`SECRET_MASK`].
    pub show_secrets: bool,
    /// Warnings the caller already has (e.g. the marketplace no longer lists the plugin).
    pub warnings: Vec<Warning>,
    /// The manifest file to read, when the caller has chosen one (`validate <file>`); else the
    /// one the root holds, if any.
    pub manifest_file: Option<PathBuf>,
}

/// Where the components came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum DefinedBy {
    /// `plugin.json` and default folders; the entry adds nothing (or there is none).
    #[serde(rename = "plugin.json")]
    Manifest,
    /// `plugin.json`, with the entry's components appended (strict mode).
    #[serde(rename = "plugin.json+entry")]
    ManifestAndEntry,
    /// The marketplace entry: no `plugin.json`, or `strict: false` with components in the entry.
    #[serde(rename = "entry")]
    Entry,
    /// Neither a `plugin.json` nor a marketplace entry: default folders only.
    #[serde(rename = "defaults")]
    Defaults,
}

/// Which declaration a component comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A default folder or file of the plugin layout.
    Default,
    /// `plugin.json`.
    Manifest,
    /// The marketplace entry.
    Entry,
}

/// One dependency of the plugin and what satisfies it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DependencyState {
    /// `name@marketplace`.
    pub plugin_id: String,
    /// The range it declares, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// The installed version that satisfies it (a tag's `resolvedVersion`, else the manifest's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// Why it is not met (Claude Code's load error), when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmet: Option<String>,
}

/// The plugin as a host loads it. Serialized, this is `plugin resolve --json` (docs/schemas/resolve.schema.json;
/// docs/plugin-development.md, "Resolving a plugin").
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PluginDefinition {
    pub schema_version: u32,
    #[serde(flatten)]
    pub installation: Installation,
    /// `name` of `plugin.json` (components are namespaced `<manifestName>:<name>`), else the
    /// entry name.
    pub manifest_name: String,
    /// `${CLAUDE_PLUGIN_DATA}`.
    pub data_dir: PathBuf,
    /// `${CLAUDE_PROJECT_DIR}`.
    pub project_dir: PathBuf,
    /// The `plugin.json` read, if any.
    pub manifest: Option<PathBuf>,
    /// Its fields as read (for what reports show beside the components: description, options).
    #[serde(skip)]
    pub manifest_fields: Option<Map<String, Value>>,
    /// Whether the marketplace still lists the plugin (its entry took part).
    pub marketplace_entry: bool,
    /// The entry's `strict` (true when unset or when there is no entry).
    pub strict: bool,
    pub defined_by: DefinedBy,
    pub components: Components,
    /// Each option of `userConfig` (and any other option set in settings): its value and where
    /// it came from.
    pub user_config: Named<OptionValue>,
    /// Environment variables a host exports to the processes of each component kind.
    pub env: ExportedEnv,
    pub warnings: Vec<Warning>,
    /// The plugins it depends on and what is installed of each (filled in by `resolve`, which
    /// knows the installations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencyState>,
    /// A substitution used `${CLAUDE_PLUGIN_DATA}`: the folder must exist before anything runs.
    #[serde(skip)]
    pub uses_data_dir: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Components {
    pub commands: Vec<MarkdownComponent>,
    pub agents: Vec<MarkdownComponent>,
    pub skills: Vec<MarkdownComponent>,
    pub output_styles: Vec<MarkdownComponent>,
    /// Files of `themes/` (or `experimental.themes`); their format is not checked.
    pub themes: Vec<MarkdownComponent>,
    /// Files of `workflows/` (or `workflows`); their format is not checked.
    pub workflows: Vec<MarkdownComponent>,
    /// Event name → matcher groups, in load order.
    pub hooks: Named<Vec<HookGroup>>,
    pub mcp_servers: Named<ServerComponent>,
    pub lsp_servers: Named<ServerComponent>,
    /// `channels` entries whose `server` is one of `mcpServers`.
    pub channels: Vec<ConfigComponent>,
    pub monitors: Vec<ConfigComponent>,
    /// `bin/`, added to the Bash tool's `PATH`.
    pub bin: Option<PathBuf>,
    /// The plugin's settings (`settings.json` at the root, else the manifest's `settings`), only
    /// the keys that take effect (`agent`, `subagentStatusLine`).
    pub settings: Option<ConfigComponent>,
}

impl Components {
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
            && self.agents.is_empty()
            && self.skills.is_empty()
            && self.output_styles.is_empty()
            && self.themes.is_empty()
            && self.workflows.is_empty()
            && self.hooks.is_empty()
            && self.mcp_servers.is_empty()
            && self.lsp_servers.is_empty()
            && self.channels.is_empty()
            && self.monitors.is_empty()
            && self.bin.is_none()
            && self.settings.is_none()
    }
}

/// A command, agent, skill or output style: a Markdown file the host reads as it is (with its
/// variables substituted in memory).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarkdownComponent {
    pub name: String,
    /// The Markdown file; `None` for a command given inline (`content` in `plugin.json`).
    pub file: Option<PathBuf>,
    /// A skill's folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    pub from: Origin,
    /// Variables the body references (`CLAUDE_PLUGIN_ROOT`, `user_config.KEY`, …).
    pub references: Vec<String>,
}

/// One matcher group of a hook event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct HookGroup {
    pub matcher: Option<String>,
    pub from: Origin,
    /// The hooks file; `None` for inline hooks.
    pub file: Option<PathBuf>,
    /// The hook objects as written, `command` and `args` substituted.
    pub hooks: Vec<Value>,
}

/// An MCP or LSP server.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServerComponent {
    /// MCP: `stdio`, `http`, `sse`, `ws`, … (`type`, else `stdio` with a `command`, else `http`).
    /// LSP: `transport` when set, else `stdio`.
    pub transport: String,
    pub from: Origin,
    pub file: Option<PathBuf>,
    /// The configuration as written, with the §8 fields substituted.
    pub config: Value,
}

/// A monitor (a configuration object, `command` substituted), a channel or the plugin's settings.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConfigComponent {
    pub from: Origin,
    pub file: Option<PathBuf>,
    pub config: Value,
}

/// Where an option's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OptionSource {
    /// `pluginConfigs` of the managed settings (wins over the user's).
    Managed,
    /// `pluginConfigs` of the user settings.
    User,
    /// The option's declared `default`.
    Default,
    /// A `sensitive` option the host keeps in the macOS keychain: not read here.
    Keychain,
    /// A `sensitive` option set in Claude Code's secrets file (`pluginSecrets`): its value is
    /// shown as [`SECRET_MASK`] unless asked for.
    Secrets,
}

/// What a secret reads as in `resolve`'s output unless `--show-secrets` is given.
pub const SECRET_MASK: &str = "********";

/// One option of `userConfig`: its value (`null`: none here) and where it came from (`null`: no
/// value anywhere).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct OptionValue {
    pub value: Value,
    pub from: Option<OptionSource>,
}

/// Variables exported per component kind (docs §8; MCP stdio servers also get
/// `CLAUDE_PROJECT_DIR` since Claude Code 2.1.139). Empty when the plugin has no such component.
/// Monitors, remote MCP servers and Markdown get none.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportedEnv {
    pub hooks: Named<String>,
    pub mcp_servers: Named<String>,
    pub lsp_servers: Named<String>,
}

/// Something a host wants to know: the component it concerns was skipped or may misbehave.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    pub kind: WarningKind,
    /// `commands`, `hooks`, `mcpServers`, … (`None`: the plugin as a whole).
    pub component: Option<&'static str>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A component path leads outside the plugin root (`..`, absolute, backslash, symlink).
    PathEscapes,
    /// A component path does not exist.
    PathNotFound,
    /// A hooks, MCP, LSP or monitors file is not JSON (file:line:column).
    InvalidJson,
    /// A value of the wrong shape (skipped).
    InvalidConfig,
    /// A path variable outside quotes in a shell-form hook command.
    UnquotedPathVariable,
    /// `${user_config.KEY}` with no value and no default: left as written.
    UserConfigMissing,
    /// `${user_config.KEY}` of a sensitive option: left for the host (keychain).
    UserConfigSensitive,
    /// `${user_config.KEY}` in a field that does not take it: left as written.
    UserConfigNotAllowed,
    /// A field of the marketplace entry that strict mode ignores, a default folder a manifest
    /// key shadows, or a settings key that takes no effect.
    Ignored,
    /// A top-level `themes` or `monitors` key, which Claude Code still loads (with a warning)
    /// but expects under `experimental`.
    Deprecated,
    /// Something Claude Code loads that we do not resolve (MCP bundles, entry hooks files).
    Unsupported,
    /// The marketplace is gone or no longer lists the plugin: resolved without its entry.
    NoMarketplaceEntry,
}

impl Warning {
    pub fn new(kind: WarningKind, component: Option<&'static str>, message: String) -> Self {
        Self {
            kind,
            component,
            message,
        }
    }
}

/// An ordered map (key order = load order), serialized as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Named<V>(pub Vec<(String, V)>);

impl<V> Default for Named<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> Named<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Insert or replace (a replaced key keeps its place).
    pub fn insert(&mut self, key: String, value: V) {
        match self.get_mut(&key) {
            Some(v) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

#[cfg(test)]
impl<V: schemars::JsonSchema> schemars::JsonSchema for Named<V> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Named_{}", V::schema_name()).into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object", "additionalProperties": g.subschema_for::<V>()})
    }
}

impl<V: Serialize> Serialize for Named<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Whether a manifest or entry declares components (the fields of docs §2.5's strict rule).
pub fn declares_components(raw: &Map<String, Value>) -> bool {
    DECLARING_FIELDS.iter().any(|f| raw.contains_key(*f))
}

impl PluginDefinition {
    /// Build the definition of the installation in `inputs` (reads the plugin folder only).
    pub fn build(inputs: DefinitionInputs<'_>) -> Result<Self, DefinitionError> {
        let DefinitionInputs {
            installation,
            entry,
            data_dir,
            project_dir,
            options,
            secrets,
            show_secrets,
            mut warnings,
            manifest_file,
        } = inputs;
        let root = installation.root.clone();
        if !root.is_dir() {
            return Err(DefinitionError::RootMissing {
                id: installation.plugin_id,
                root,
            });
        }
        let manifest = match manifest_file {
            Some(file) => Some(read_manifest_file(file, &installation.name)?),
            None => read_manifest(&root, &root, &installation.name)?,
        };
        let strict = entry.and_then(|e| e.strict).unwrap_or(true);
        let empty = Map::new();
        let declarations =
            Declarations::of(manifest.as_ref(), entry.map(|e| &e.raw), strict, &empty);
        let Declarations {
            defined_by,
            primary,
            primary_origin,
            appended,
        } = match declarations {
            Ok(d) => d,
            Err(conflicting) => {
                return Err(DefinitionError::ConflictingManifests {
                    name: installation.name,
                    manifest: conflicting.to_path_buf(),
                });
            }
        };
        if let Some(e) = appended {
            warn_ignored_in_strict_entry(e, &mut warnings);
        }
        let manifest_name = manifest
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| installation.name.clone());
        let (vars, user_config) = components::variables(
            primary.get("userConfig"),
            options,
            components::Secrets {
                values: secrets,
                show: show_secrets,
            },
            &root,
            &data_dir,
            &project_dir,
        );
        let mut loader = components::Loader::new(
            &root,
            &installation.plugin_id,
            &manifest_name,
            vars,
            &mut warnings,
        );
        let components = loader.load(primary, primary_origin, appended);
        let uses_data_dir = loader.uses_data_dir;
        let env = loader.exported_env(&components);
        Ok(Self {
            schema_version: SCHEMA_VERSION,
            manifest_name,
            data_dir,
            project_dir,
            manifest_fields: manifest.as_ref().map(|m| m.raw.clone()),
            manifest: manifest.map(|m| m.path),
            marketplace_entry: entry.is_some(),
            strict,
            defined_by,
            components,
            user_config,
            env,
            warnings,
            dependencies: Vec::new(),
            uses_data_dir,
            installation,
        })
    }
}

/// Where the components are declared (docs §2.5's strict rule).
struct Declarations<'a> {
    defined_by: DefinedBy,
    /// The declaration that decides replace/add of default folders.
    primary: &'a Map<String, Value>,
    primary_origin: Origin,
    /// The entry of strict mode, whose components go after the manifest's.
    appended: Option<&'a Map<String, Value>>,
}

impl<'a> Declarations<'a> {
    /// Refused (the manifest's path) when there are both a manifest and a non-strict entry that
    /// declares components: Claude Code 2.1.328 refuses the pair even when plugin.json declares
    /// no components (docs §2.5: "Declares any → conflict"), so a host never loads it.
    fn of(
        manifest: Option<&'a PluginManifest>,
        entry: Option<&'a Map<String, Value>>,
        strict: bool,
        empty: &'a Map<String, Value>,
    ) -> Result<Self, &'a Path> {
        let entry_declares = entry.is_some_and(declares_components);
        let (defined_by, primary, primary_origin, appended) = match (manifest, entry) {
            (None, Some(e)) => (DefinedBy::Entry, e, Origin::Entry, None),
            (None, None) => (DefinedBy::Defaults, empty, Origin::Manifest, None),
            (Some(m), Some(_)) if !strict && entry_declares => return Err(&m.path),
            (Some(m), Some(e)) if entry_declares || has_appendable(e) => (
                DefinedBy::ManifestAndEntry,
                &m.raw,
                Origin::Manifest,
                Some(e),
            ),
            (Some(m), _) => (DefinedBy::Manifest, &m.raw, Origin::Manifest, None),
        };
        Ok(Self {
            defined_by,
            primary,
            primary_origin,
            appended,
        })
    }
}

/// A warning for each key of a strict entry that Claude Code ignores beside a plugin.json.
fn warn_ignored_in_strict_entry(entry: &Map<String, Value>, warnings: &mut Vec<Warning>) {
    for key in IGNORED_IN_STRICT_ENTRY {
        if entry.contains_key(*key) {
            warnings.push(Warning::new(
                WarningKind::Ignored,
                Some(*key),
                format!(
                    "the marketplace entry sets \"{key}\", which Claude Code ignores because the plugin has a plugin.json and the entry is strict; declare it in plugin.json"
                ),
            ));
        }
    }
}

/// Whether a strict entry has anything that is appended to the manifest's components.
fn has_appendable(e: &Map<String, Value>) -> bool {
    APPENDED_FIELDS.iter().any(|k| e.contains_key(*k))
}

/// `path` relative to `root` for messages (`./commands/x.md`), else as it is.
pub(crate) fn shown(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
        Ok(rel) => format!("./{}", crate::fsutil::slash_path(rel)),
        Err(_) => path.display().to_string(),
    }
}
