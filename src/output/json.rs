//! The `--json` contract: what each command prints, as types. [`super`] builds one of these from
//! an ops report and serialises it; nothing else writes `--json` output. docs/json.md describes
//! them, and docs/schemas/<command>.schema.json is generated from them (the unit test below
//! fails when a checked-in schema differs; `PLUGIN_BLESS=1` rewrites them).
//!
//! Field order is the printed key order. Commands that mirror Claude Code (install, uninstall,
//! enable, disable, list, marketplace add/list/update/remove, validate) print Claude
//! Code's bytes; our own commands start with `schemaVersion` ([`SCHEMA_VERSION`]).

use serde::Serialize;
use serde_json::Value;

use crate::definition::Named;
use crate::locations::Scope;

/// `schemaVersion` of the reports of our own commands (`resolve`'s is
/// [`crate::definition::SCHEMA_VERSION`], set where its document is built). Bumped on an
/// incompatible change of one of them; added fields are compatible.
pub const SCHEMA_VERSION: u32 = 1;

/// `Some(SCHEMA_VERSION)`: the `schemaVersion` of our own commands' lines.
pub const OWN: Option<u32> = Some(SCHEMA_VERSION);

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    pub fn of(failed: bool) -> Self {
        if failed { Self::Failed } else { Self::Ok }
    }
}

/// The line of a failed single-plugin command (install, uninstall, enable, disable; link,
/// unlink and resolve with `schemaVersion`).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PluginFailure {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    pub command: String,
    pub outcome: Outcome,
    /// The plugin as typed.
    pub plugin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    pub message: String,
    pub failure_code: String,
    /// The scope the plugin is installed (or set) at, when the command named another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_scope: Option<Scope>,
    /// `disable` of a disabled plugin, `enable` of an enabled one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_in_goal_state: Option<bool>,
    /// A `command` source shown and not run: what was shown, and the `sha256` that
    /// `--accept-command` takes to accept exactly that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown_command: Option<crate::ops::consent::ShownCommand>,
    /// `disable` of a plugin enabled plugins need: their names, and the ids to disable first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_dependents: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_first: Option<Vec<String>>,
    /// `enable` of a plugin whose dependencies are not installed: their ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<String>>,
}

/// The line of a failed command that names no plugin (marketplace commands, `disable --all`,
/// and our own commands with `schemaVersion`).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CommandFailure {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    pub command: String,
    /// `marketplace update` and `marketplace remove`: the name as typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<String>,
    pub outcome: Outcome,
    /// `init`: the name given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// `disable --all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    pub message: String,
    pub failure_code: String,
}

/// The fields every successful single-plugin line starts with.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PluginHead {
    pub command: String,
    pub outcome: Outcome,
    /// The plugin as typed.
    pub plugin: String,
    pub plugin_id: String,
    pub scope: Scope,
}

/// `install --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Installed {
    #[serde(flatten)]
    pub head: PluginHead,
    pub message: String,
    /// `--config` values were given: whether they were saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_applied: Option<bool>,
    /// How many `userConfig` options are still unset (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unset_option_count: Option<usize>,
    /// The seed folder it was copied from (`CLAUDE_CODE_PLUGIN_SEED_DIR`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_seed: Option<String>,
    /// Already installed: the recorded version and the one the marketplace has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_version: Option<String>,
    /// Already installed as a link to this development checkout (`plugin link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_to: Option<String>,
}

/// `uninstall --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Uninstalled {
    #[serde(flatten)]
    pub head: PluginHead,
    pub kept_data: bool,
    pub message: String,
}

/// `prune --json` (ours): the auto-installed plugins nothing needs, and what was removed.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DependenciesPruned {
    pub schema_version: u32,
    pub command: String,
    pub outcome: Outcome,
    pub scope: Scope,
    pub dry_run: bool,
    /// Auto-installed plugins no installed-by-name plugin needs.
    pub unneeded: Vec<UnneededPlugin>,
    /// Those removed by this run (`-y`).
    pub removed: Vec<String>,
    /// Installations whose manifest could not be read (then nothing is called unneeded).
    pub unloadable: Vec<String>,
    /// The text the command prints without `--json`.
    pub message: String,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnneededPlugin {
    pub plugin_id: String,
    pub version: String,
}

/// `enable --json`, `disable --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Toggled {
    #[serde(flatten)]
    pub head: PluginHead,
    pub message: String,
}

/// `disable --all --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DisabledAll {
    pub command: String,
    pub outcome: Outcome,
    pub all: bool,
    pub message: String,
    /// Plugins managed settings require, left enabled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_managed: Vec<String>,
}

/// `details --json`: an installed plugin's components and their estimated context cost.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PluginDetailsJson {
    pub schema_version: u32,
    pub plugin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `name@marketplace`.
    pub source: String,
    /// How tokens are estimated: `chars/4` (Claude Code's estimate without its API).
    pub estimate: String,
    /// Tokens every session carries for this plugin.
    pub always_on_tokens: u64,
    pub components: DetailsComponents,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DetailsComponents {
    pub skills: Vec<CostedJson>,
    pub agents: Vec<CostedJson>,
    pub commands: Vec<CostedJson>,
    /// Hook events (they add nothing to a model's context).
    pub hooks: Vec<String>,
    /// MCP servers (their tool schemas are resolved at run time; not counted).
    pub mcp_servers: Vec<String>,
    pub lsp_servers: Vec<String>,
}

/// A skill, agent or command: characters and estimated tokens, always on and on invoke.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CostedJson {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `null` when its file could not be read.
    pub chars: Option<CostJson>,
    pub tokens: Option<CostJson>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CostJson {
    pub always_on: u64,
    pub on_invoke: u64,
}

/// `configure --values-stdin --json`: what was saved, or the value refused (Claude Code's shape).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConfigureSavedJson {
    pub plugin_id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unconfigured: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<ConfigureRefusal>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ConfigureRefusal {
    /// The option refused (absent: options the plugin does not declare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    pub message: String,
}

/// One installation of `list --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstalledPlugin {
    pub id: String,
    pub version: String,
    pub scope: String,
    pub enabled: bool,
    pub install_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_from_folder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The kind of each manifest error (Claude Code's `errorDetails`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_details: Vec<ErrorDetail>,
    pub project_enabled: bool,
}

/// One of `list --json`'s `errorDetails`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ErrorDetail {
    /// `manifest-parse-error`, `manifest-validation-error` or `dependency-unsatisfied`.
    #[serde(rename = "type")]
    pub kind: String,
    pub plugin: String,
    /// The manifest (manifest errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The dependency's id (`dependency-unsatisfied`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependency: Option<String>,
}

/// One marketplace entry of `list --available --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AvailablePlugin {
    pub plugin_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub marketplace_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The entry's `source` as written, addresses without their secrets.
    pub source: Value,
}

/// `list --json`: the installations; with `--available`, the marketplaces' entries too.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum PluginList {
    Installed(Vec<InstalledPlugin>),
    WithAvailable {
        installed: Vec<InstalledPlugin>,
        available: Vec<AvailablePlugin>,
    },
}

/// A followed rename of a marketplace command's line.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FollowedRename {
    pub plugin_id: String,
    pub new_plugin_id: Option<String>,
    pub scope: Option<Scope>,
    pub file: Option<String>,
    pub outcome: RenameOutcome,
    pub message: String,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum RenameOutcome {
    Renamed,
    Removed,
    Unresolved,
    Invalid,
}

/// `marketplace add/update/remove --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceDone {
    pub command: String,
    pub outcome: Outcome,
    pub marketplace: String,
    pub message: String,
    /// Renames of the marketplace followed in settings (add and update), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renames: Option<Vec<FollowedRename>>,
    /// Why renames were not followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renames_error: Option<String>,
}

/// One marketplace of `marketplace list --json` (an array sorted by name).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceListed {
    pub name: String,
    /// The source kind (`github`, `git`, `directory`, …).
    pub source: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Value>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<Value>,
    pub install_location: String,
    /// The seed folder that provides it (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
}

/// Where `update` leaves a pinned plugin.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum PinnedTo {
    /// A commit of a git source.
    Commit(String),
    /// A development checkout its version folder links to.
    Checkout(String),
    /// The ranges installed plugins declare for it, which no newer version fits.
    Range(String),
}

/// The ranges installed plugins declare for a dependency `update` works on.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateConstraint {
    /// The ranges, joined with `, `.
    pub ranges: String,
    /// The plugins (`name@marketplace`) declaring them.
    pub required_by: Vec<String>,
}

/// The missing dependencies of an updated plugin, installed after it.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateDependencies {
    /// Installed now (`name@marketplace`), recorded `auto`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed: Vec<String>,
    /// Not installed: no added marketplace lists them, or they run a command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
    /// Why none could be installed (what this run installed was uninstalled again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One installation of `update --json` / `outdated --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateRow {
    /// The id, or the name as typed when it matched no installation.
    pub plugin: String,
    /// Absent when the name matched no installation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    /// `updated`, `current`, `changed-same-version`, `pinned` or `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_to: Option<PinnedTo>,
    /// The version ranges installed plugins declare for it (a dependency), which the new
    /// version had to satisfy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<UpdateConstraint>,
    /// Dependencies it declares that were missing, installed after the update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<UpdateDependencies>,
    /// Whether this run changed the installation (never for `outdated`).
    pub applied: bool,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
}

/// `update --json` and `outdated --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PluginUpdates {
    pub schema_version: u32,
    /// `update` or `outdated`.
    pub command: String,
    /// `failed` when a row failed.
    pub outcome: Outcome,
    pub plugins: Vec<UpdateRow>,
}

/// One installation of `cache verify --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub plugin_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    pub install_path: String,
    /// `intact`: how many files it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<usize>,
    /// `modified`: the paths that differ from what was installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<Vec<String>>,
    /// `linked`: the development checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout: Option<String>,
    pub status: VerifyState,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum VerifyState {
    Intact,
    Modified,
    FolderMissing,
    Unrecorded,
    Linked,
}

/// `cache verify --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifyList {
    pub schema_version: u32,
    pub command: String,
    /// `failed` when an installation is modified or missing.
    pub outcome: Outcome,
    pub plugins: Vec<Verified>,
    /// The content store's objects (checked when every installation is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreVerified>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct StoreVerified {
    /// How many objects were read.
    pub objects: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub damaged: Vec<DamagedObject>,
    /// `--repair`: the damaged objects were taken out of the store.
    pub repaired: bool,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct DamagedObject {
    pub path: String,
    /// `content-differs`, `touched` or `unreadable`.
    pub problem: String,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct PrunedEntry {
    pub path: String,
    pub kind: String,
    pub bytes: u64,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct KeptEntry {
    pub path: String,
    /// What holds it (`.in_use marker`, `git fetch`, …).
    pub reason: String,
    /// The process using it; `null` for a git fetch lock.
    pub pid: Option<i32>,
}

/// `cache prune --json` (absolute paths).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Pruned {
    pub schema_version: u32,
    pub command: String,
    pub outcome: Outcome,
    pub removed: Vec<PrunedEntry>,
    pub kept: Vec<KeptEntry>,
    /// Orphans marked in this run (`.orphaned_at`).
    pub marked: Vec<String>,
    /// Version folders that stay by the policy, and why (in-use ones are in `kept`).
    pub kept_versions: Vec<KeptVersionEntry>,
    /// Everything freed, `storeBytes` included.
    pub bytes: u64,
    /// Content-store objects no version folder uses any more (removed, or would be).
    pub store_objects: u64,
    pub store_bytes: u64,
    pub dry_run: bool,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct KeptVersionEntry {
    pub path: String,
    /// `plugin@marketplace`.
    pub plugin: String,
    pub version: String,
    pub reason: KeepReasonJson,
}

/// Why `cache prune` keeps a version folder.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum KeepReasonJson {
    /// An installation records it.
    #[serde(rename = "installed")]
    Installed,
    /// One of the newest orphans `--keep` keeps.
    #[serde(rename = "keep")]
    Keep,
    /// Orphaned more recently than `--older-than`.
    #[serde(rename = "older-than")]
    OlderThan,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ValidateIssue {
    pub path: String,
    pub message: String,
    pub code: String,
}

/// One file of `validate --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ValidatedFile {
    pub file: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub errors: Vec<ValidateIssue>,
    pub warnings: Vec<ValidateIssue>,
    // Claude Code's fields we have nothing for.
    pub notes: [Value; 0],
    pub gating_hooks: [Value; 0],
    pub wasm: [Value; 0],
    pub modules: [Value; 0],
}

/// `validate --json` (Claude Code's report).
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Validated {
    pub success: bool,
    pub strict: bool,
    pub target: String,
    pub manifest: Option<ValidatedFile>,
    pub contents: Vec<ValidatedFile>,
    pub provides: Option<crate::ops::validate::Provides>,
    pub hosts: Option<Value>,
    pub advice: [Value; 0],
    pub directory: Option<Value>,
}

/// `link --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Linked {
    pub schema_version: u32,
    #[serde(flatten)]
    pub head: PluginHead,
    pub message: String,
    pub version: String,
    /// The version folder, now a link to the checkout.
    pub install_path: String,
    pub checkout: String,
    /// The installed version the link replaced (`unlink` restores it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_version: Option<String>,
}

/// `unlink --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Unlinked {
    pub schema_version: u32,
    #[serde(flatten)]
    pub head: PluginHead,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_version: Option<String>,
    /// No installed version to go back to: the plugin is uninstalled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uninstalled: Option<bool>,
}

/// `init --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Initialised {
    pub schema_version: u32,
    pub command: String,
    pub outcome: Outcome,
    pub plugin: String,
    pub dir: String,
    /// The files written, relative to `dir`.
    pub files: Vec<String>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncedMarketplace {
    pub name: String,
    /// The scope whose declaration was used.
    pub scope: Scope,
    pub source: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    /// `present`, `registered`, `repointed`, `would-register`, `untrusted` or `failed`.
    pub action: String,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncedPlugin {
    pub id: String,
    pub scope: Scope,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed_folder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    /// `present`, `installed`, `seeded`, `would-install`, `untrusted`, `pruned`, `would-prune`
    /// or `failed`.
    pub action: String,
}

/// `sync --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Synced {
    pub schema_version: u32,
    pub command: String,
    pub outcome: Outcome,
    pub dry_run: bool,
    pub marketplaces: Vec<SyncedMarketplace>,
    pub plugins: Vec<SyncedPlugin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renames: Option<Vec<FollowedRename>>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct SettingsFileJson {
    pub scope: Scope,
    pub path: String,
    pub exists: bool,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct EnabledOverride {
    pub scope: Scope,
    pub value: bool,
    pub file: String,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct EnabledSetting {
    pub value: bool,
    pub scope: Scope,
    pub file: String,
    /// Values of less specific files it overrides, least specific first.
    pub overrides: Vec<EnabledOverride>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct DeclarationOverride {
    pub scope: Scope,
    pub file: String,
    pub entry: serde_json::Map<String, Value>,
}

#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct DeclarationSetting {
    pub entry: serde_json::Map<String, Value>,
    pub scope: Scope,
    pub file: String,
    pub overrides: Vec<DeclarationOverride>,
}

/// `settings --json`.
#[derive(Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SettingsJson {
    pub schema_version: u32,
    pub command: String,
    pub outcome: Outcome,
    /// Lowest precedence first.
    pub files: Vec<SettingsFileJson>,
    pub enabled_plugins: Named<EnabledSetting>,
    pub extra_known_marketplaces: Named<DeclarationSetting>,
    /// `strictKnownMarketplaces` / `blockedMarketplaces` as managed settings give them.
    pub policy: Named<Option<Value>>,
    /// Why project and local settings were not read (the folder's `.claude/settings.json` is
    /// the user settings file); absent when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_project: Option<String>,
}

#[cfg(test)]
mod schemas {
    //! docs/schemas/<command>.schema.json, one per command with `--json`.

    use schemars::{JsonSchema, Schema, schema_for};

    use super::*;
    use crate::definition::PluginDefinition;

    // What each command may print: its result, or its failure line.
    #[derive(JsonSchema)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Either<A, B> {
        Done(A),
        Failed(B),
    }

    #[derive(JsonSchema)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Disable {
        One(Toggled),
        All(DisabledAll),
        Failed(Box<PluginFailure>),
        AllFailed(CommandFailure),
    }

    fn all() -> Vec<(&'static str, Schema)> {
        vec![
            ("install", schema_for!(Either<Installed, PluginFailure>)),
            ("uninstall", schema_for!(Either<Uninstalled, PluginFailure>)),
            ("enable", schema_for!(Either<Toggled, PluginFailure>)),
            ("disable", schema_for!(Disable)),
            ("list", schema_for!(PluginList)),
            (
                "marketplace-add",
                schema_for!(Either<MarketplaceDone, CommandFailure>),
            ),
            ("marketplace-list", schema_for!(Vec<MarketplaceListed>)),
            (
                "marketplace-update",
                schema_for!(Either<MarketplaceDone, CommandFailure>),
            ),
            (
                "marketplace-remove",
                schema_for!(Either<MarketplaceDone, CommandFailure>),
            ),
            ("update", schema_for!(Either<PluginUpdates, CommandFailure>)),
            (
                "outdated",
                schema_for!(Either<PluginUpdates, CommandFailure>),
            ),
            ("validate", schema_for!(Validated)),
            (
                "cache-verify",
                schema_for!(Either<VerifyList, CommandFailure>),
            ),
            ("cache-prune", schema_for!(Either<Pruned, CommandFailure>)),
            (
                "prune",
                schema_for!(Either<DependenciesPruned, CommandFailure>),
            ),
            ("sync", schema_for!(Either<Synced, CommandFailure>)),
            (
                "settings",
                schema_for!(Either<SettingsJson, CommandFailure>),
            ),
            ("link", schema_for!(Either<Linked, PluginFailure>)),
            ("unlink", schema_for!(Either<Unlinked, PluginFailure>)),
            ("init", schema_for!(Either<Initialised, CommandFailure>)),
            (
                "resolve",
                schema_for!(Either<PluginDefinition, PluginFailure>),
            ),
            (
                "details",
                schema_for!(Either<PluginDetailsJson, PluginFailure>),
            ),
            (
                "configure",
                schema_for!(Either<crate::ops::configure::OptionsView, ConfigureSavedJson>),
            ),
        ]
    }

    /// The checked-in schemas are the types' (`PLUGIN_BLESS=1 cargo test --lib schemas`
    /// rewrites them), and there is no other file in docs/schemas.
    #[test]
    fn checked_in_schemas_match_the_report_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas");
        let bless = std::env::var_os("PLUGIN_BLESS").is_some_and(|v| v == "1");
        let mut stale = Vec::new();
        let mut names = Vec::new();
        for (name, mut schema) in all() {
            schema.insert(
                "title".into(),
                format!("plugin {} --json", name.replacen('-', " ", 1)).into(),
            );
            let file = format!("{name}.schema.json");
            let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
            let path = dir.join(&file);
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(file.clone());
            }
            names.push(file);
        }
        let mut extra: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
            })
            .into_iter()
            .flatten()
            .filter(|f| !names.contains(f))
            .collect();
        extra.sort();
        assert!(
            stale.is_empty() && extra.is_empty(),
            "docs/schemas is out of date (stale: {stale:?}, not generated: {extra:?}); \
             `PLUGIN_BLESS=1 cargo test --lib schemas` rewrites it"
        );
    }
}
