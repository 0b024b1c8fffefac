//! Command-line parsing and dispatch: turn arguments into an `ops` call and hand its report to
//! `output`. Sub-commands, flags and aliases follow `claude plugin …` (Claude Code 2.1.328).

use clap::{Args, Parser, Subcommand};

use crate::environment::Environment;
use crate::locations::{Locations, Scope};
use crate::ops::{self, Context};
use crate::output::{self, Out};

#[derive(Debug, Parser)]
#[command(
    name = "plugin",
    version,
    about = "Install and manage Claude Code plugins from marketplaces (daemon-less; same files as Claude Code)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install a plugin from a configured marketplace
    #[command(visible_alias = "i")]
    Install(InstallArgs),
    /// Uninstall an installed plugin
    #[command(visible_aliases = ["remove", "rm"])]
    Uninstall(UninstallArgs),
    /// List installed plugins
    List(ListArgs),
    /// Enable a disabled plugin
    Enable(EnableArgs),
    /// Disable an enabled plugin
    Disable(DisableArgs),
    /// Update installed plugins: refresh their marketplaces, then install what changed
    #[command(
        visible_alias = "upgrade",
        override_usage = "plugin update <PLUGIN>... [OPTIONS]\n       plugin update --all [OPTIONS]"
    )]
    Update(UpdateArgs),
    /// Show which installed plugins an update would change (nothing is applied)
    Outdated(OutdatedArgs),
    /// Remove auto-installed dependencies that are no longer needed
    #[command(visible_alias = "autoremove")]
    Prune(PruneDepsArgs),
    /// Create a {name}--v{version} git tag for a plugin release, checking that plugin.json and
    /// any enclosing marketplace entry agree
    Tag(TagArgs),
    /// Manage Claude Code marketplaces
    #[command(subcommand)]
    Marketplace(MarketplaceCommand),
    /// Inspect and clean the plugin cache
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Make this machine match the settings: register declared marketplaces, install enabled plugins
    Sync(SyncArgs),
    /// Show the effective plugin settings and which file set each value
    Settings(SettingsArgs),
    /// Check a marketplace folder, a marketplace.json file or a plugin folder (nothing is installed)
    Validate(ValidateArgs),
    /// Show an installed plugin as hosts load it: merged components, variables substituted
    Resolve(ResolveArgs),
    /// Show a plugin's component inventory and projected token cost
    Details(DetailsArgs),
    /// Show or set an installed plugin's userConfig options
    Configure(ConfigureArgs),
    /// Install a development checkout as a link: edits are live at the host's next reload
    Link(LinkArgs),
    /// Remove a link made by `plugin link`, restoring what it replaced
    Unlink(UnlinkArgs),
    /// Create a new plugin folder (manifest, one skill, one command, README)
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct PruneDepsArgs {
    /// List what would be removed without removing
    #[arg(long)]
    pub dry_run: bool,
    /// Prune at scope: user, project, or local
    #[arg(short, long, default_value = "user")]
    pub scope: String,
    /// Skip the confirmation prompt (required when input or output is piped or redirected)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The plugin folder or its plugin.json (default: the working folder)
    pub path: Option<String>,
    /// Print what would be tagged without creating it
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the dirty-working-tree and tag-already-exists checks (moves an existing tag)
    #[arg(short, long)]
    pub force: bool,
    /// Tag annotation message (%s stands for the version)
    #[arg(short, long, value_name = "MSG")]
    pub message: Option<String>,
    /// Push the tag to --remote after creating it
    #[arg(long)]
    pub push: bool,
    /// Remote to push to with --push
    #[arg(long, default_value = "origin", value_name = "NAME")]
    pub remote: String,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// A marketplace folder, a marketplace.json file, or a plugin folder
    pub path: String,
    /// Print one JSON object (Claude Code's report shape)
    #[arg(long)]
    pub json: bool,
    /// Fail on warnings too
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Plugin name, or name@marketplace
    pub plugin: String,
    /// The project: ${CLAUDE_PROJECT_DIR}, and whose project/local installs count (default: the
    /// git root around the working directory, else the working directory)
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<String>,
    /// Print the definition as JSON (schema: docs/schemas/resolve.schema.json)
    #[arg(long)]
    pub json: bool,
    /// Show sensitive options' values (by default each reads ********)
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Args)]
pub struct DetailsArgs {
    /// Plugin name, or name@marketplace
    pub plugin: String,
    /// Print the report as JSON (schema: docs/schemas/details.schema.json)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// The plugin's full id: name@marketplace
    pub plugin: String,
    /// Read option values from stdin: a JSON object of single-line strings
    #[arg(long)]
    pub values_stdin: bool,
    /// Print one JSON object (Claude Code's shape; schema: docs/schemas/configure.schema.json)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The plugin's folder (a checkout)
    pub path: String,
    /// Record it as name@marketplace (default: its plugin.json name, or folder name, @dev)
    #[arg(long = "as", value_name = "NAME[@MARKETPLACE]")]
    pub as_id: Option<String>,
    /// Installation scope: user, project, or local
    #[arg(short, long, default_value = "user")]
    pub scope: String,
    /// Link over an installed plugin (`plugin unlink` restores it)
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UnlinkArgs {
    /// Plugin name, or name@marketplace
    pub plugin: String,
    /// Scope of the linked installation: user, project, or local
    #[arg(short, long, default_value = "user")]
    pub scope: String,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The plugin's name (kebab-case)
    pub name: String,
    /// Folder to create it in (default: ./<name>); must be absent or empty
    #[arg(long, value_name = "DIR")]
    pub dir: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The project whose .claude/ settings to apply; naming it trusts its settings to fetch from
    /// outside (default: the current project, untrusted)
    #[arg(long, value_name = "DIR")]
    pub project: Option<String>,
    /// Say what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also uninstall installations no settings file enables any more
    #[arg(long)]
    pub prune: bool,
    /// Plugins and marketplaces worked on at once
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// The project whose .claude/ settings to read (default: the current project)
    #[arg(long, value_name = "DIR")]
    pub project: Option<String>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Plugins to update: name or name@marketplace
    #[arg(
        required_unless_present = "all",
        conflicts_with = "all",
        value_name = "PLUGIN"
    )]
    pub plugins: Vec<String>,
    /// Update every installed plugin visible from here (user scope and this project)
    #[arg(long)]
    pub all: bool,
    /// Only installations of this scope: user, project, local, or managed
    #[arg(short, long)]
    pub scope: Option<String>,
    /// Reinstall even when the version and content are unchanged
    #[arg(long)]
    pub force: bool,
    /// Do not refresh the marketplaces first
    #[arg(long)]
    pub no_refresh: bool,
    /// Plugins worked on at once
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    // Not with --all: only commands accepted before run then.
    #[command(flatten)]
    pub consent: ConsentArgs,
    /// Print the result as JSON, a row per installation
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    /// Plugins to check (default: every installed plugin visible from here)
    pub plugins: Vec<String>,
    /// Only installations of this scope: user, project, local, or managed
    #[arg(short, long)]
    pub scope: Option<String>,
    /// Do not refresh the marketplaces first
    #[arg(long)]
    pub no_refresh: bool,
    /// Exit with this code when an update is available (or content changed under the same
    /// version), so scripts can tell; a failure still exits 1 (default: 0)
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(u8).range(2..))]
    pub exit_code: Option<u8>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Plugin name, or name@marketplace
    pub plugin: String,
    /// Installation scope: user, project, or local
    #[arg(short, long, default_value = "user")]
    pub scope: String,
    /// Add this marketplace source first, then install the plugin from it
    #[arg(long, value_name = "SOURCE")]
    pub marketplace: Option<String>,
    /// Reinstall an installed plugin even when its version and content are unchanged
    #[arg(long)]
    pub force: bool,
    /// Set a userConfig option declared in the plugin's manifest (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    #[command(flatten)]
    pub consent: ConsentArgs,
    /// Print one JSON line
    #[arg(long)]
    pub json: bool,
}

/// Accepting a marketplace's `command` source without a prompt.
#[derive(Debug, Args)]
pub struct ConsentArgs {
    /// Accept the command shown first (a `command` source, or the headersHelper that fetches an
    /// archive) without asking
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Accept the command shown before, named by its sha256 (`shownCommand.sha256` of --json)
    #[arg(long, value_name = "SHA256")]
    pub accept_command: Option<String>,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Plugin name, or name@marketplace
    pub plugin: String,
    /// Uninstall from scope: user, project, or local
    #[arg(short, long, default_value = "user")]
    pub scope: String,
    /// Keep the plugin's data folder (${CLAUDE_PLUGIN_DATA})
    #[arg(long)]
    pub keep_data: bool,
    /// Also remove auto-installed dependencies that are no longer needed (requires -y in
    /// non-interactive contexts)
    #[arg(long)]
    pub prune: bool,
    /// Skip the --prune confirmation prompt (required when input or output is piped or redirected)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
    /// Also list plugins the configured marketplaces offer (with --json)
    #[arg(long)]
    pub available: bool,
}

#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Plugin name, or name@marketplace
    pub plugin: String,
    /// Scope to write: user, project, or local (default: the most specific one that mentions it)
    #[arg(short, long)]
    pub scope: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DisableArgs {
    /// Plugin name, or name@marketplace (or --all)
    pub plugin: Option<String>,
    /// Disable every enabled plugin
    #[arg(short, long)]
    pub all: bool,
    /// Scope to write: user, project, or local (default: the most specific one that mentions it)
    #[arg(short, long)]
    pub scope: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MarketplaceCommand {
    /// Add a marketplace from a folder, a marketplace.json file, a git URL or owner/repo
    Add {
        /// A folder, a marketplace.json file or URL, a git URL, or owner/repo on GitHub
        source: String,
        /// Where to declare it: user, project, or local
        #[arg(short, long, default_value = "user")]
        scope: String,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// List configured marketplaces
    List {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Refresh one marketplace, or all of them
    Update {
        /// The marketplace's name (default: every configured marketplace)
        name: Option<String>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove a configured marketplace
    #[command(visible_alias = "rm")]
    Remove {
        /// The marketplace's name
        name: String,
        /// Remove only this scope's declaration
        #[arg(short, long)]
        scope: Option<String>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

/// `update --scope`: the four scopes, managed included (Claude Code accepts it there).
fn update_scope(raw: Option<&str>) -> Result<Option<Scope>, ()> {
    match raw {
        None => Ok(None),
        Some(r) => Scope::parse(r).map(Some).ok_or_else(|| {
            output::fatal(&format!(
                "Unknown scope \"{r}\". Use one of: user, project, local, managed."
            ))
        }),
    }
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Check installed plugin folders against the content recorded when they were installed
    Verify {
        /// Plugins to check, name or name@marketplace (default: every installation, and the
        /// content store's objects)
        plugins: Vec<String>,
        /// Take store objects whose content no longer matches their name out of the store
        #[arg(long)]
        repair: bool,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove old orphaned versions, leftovers of interrupted installs, and unused downloads
    Prune(PruneArgs),
    /// Print the plugin cache folder
    Dir {
        /// Also print how much the version folders hold and how much of it is on disk (files
        /// shared through the content store count once)
        #[arg(long)]
        usage: bool,
    },
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// List what would be removed, and how many bytes, without changing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Orphaned versions to keep per plugin, newest first (0: remove every old enough orphan)
    #[arg(long, default_value_t = 1)]
    pub keep: usize,
    /// Keep orphans and unused downloads younger than this: 30s, 45m, 12h, 14d, 2w or 0
    #[arg(long, default_value = "14d", value_name = "AGE")]
    pub older_than: String,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `plugin cache …`; returns the exit code.
fn run_cache(ctx: &Context, command: CacheCommand) -> i32 {
    match command {
        CacheCommand::Prune(a) => {
            let policy = match crate::cache::prune::PrunePolicy::new(a.keep, &a.older_than) {
                Ok(p) => p,
                Err(e) => {
                    output::fatal(&format!("✘ {e}"));
                    return 1;
                }
            };
            output::cache_prune(
                &Out::new(a.json),
                ops::cache::prune(ctx, &policy, a.dry_run),
            )
        }
        CacheCommand::Dir { usage } => {
            output::cache_dir(&ops::cache::dir(ctx), usage.then(|| ops::cache::usage(ctx)))
        }
        CacheCommand::Verify {
            plugins,
            repair,
            json,
        } => {
            let plugins_result = ops::verify::verify(ctx, &plugins);
            // The store is checked when every installation is.
            let store = (plugins.is_empty() && plugins_result.is_ok())
                .then(|| ops::verify::verify_store(ctx, repair));
            output::verify(&Out::new(json), plugins_result, store)
        }
    }
}

/// Scopes a command accepts, and how it words a refusal (Claude Code has four wordings).
///
/// Not a clap `ValueEnum`: clap would refuse with its own text and exit 2, where Claude Code
/// prints these texts (with no JSON line even under `--json`) and exits 1; and an empty
/// `--scope ""` means user scope.
fn parse_scope(raw: &str, style: ScopeStyle) -> Result<Scope, String> {
    if raw.is_empty() {
        return Ok(Scope::User);
    }
    match Scope::parse(raw) {
        Some(Scope::Managed) => Err(format!(
            "{}Managed settings are read-only: they come from your organization and this tool never writes them. Use one of: user, project, local",
            if matches!(style, ScopeStyle::Marketplace) {
                "✘ "
            } else {
                ""
            }
        )),
        Some(s) => Ok(s),
        None => Err(match style {
            ScopeStyle::Install => {
                format!("Unknown scope \"{raw}\". Use one of: user, project, local.")
            }
            ScopeStyle::Toggle => {
                format!("Unknown scope \"{raw}\". Use one of: user, project, local")
            }
            ScopeStyle::Marketplace => {
                format!("✘ Unknown scope '{raw}'. Use one of: user, project, local")
            }
        }),
    }
}

/// Parse an optional `--scope`, printing the refusal (then `Err`) when it is not allowed.
fn optional_scope(raw: Option<&str>, style: ScopeStyle) -> Result<Option<Scope>, ()> {
    raw.map(|s| parse_scope(s, style).map_err(|m| output::fatal(&m)))
        .transpose()
}

#[derive(Clone, Copy)]
enum ScopeStyle {
    Install,
    Toggle,
    Marketplace,
}

fn wants_json(c: &Command) -> bool {
    match c {
        Command::Install(a) => a.json,
        Command::Uninstall(a) => a.json,
        Command::List(a) => a.json,
        Command::Enable(a) => a.json,
        Command::Disable(a) => a.json,
        Command::Update(a) => a.json,
        Command::Outdated(a) => a.json,
        Command::Prune(a) => a.json,
        Command::Tag(_) => false,
        Command::Cache(CacheCommand::Verify { json, .. }) => *json,
        Command::Marketplace(
            MarketplaceCommand::Add { json, .. }
            | MarketplaceCommand::List { json }
            | MarketplaceCommand::Update { json, .. }
            | MarketplaceCommand::Remove { json, .. },
        ) => *json,
        Command::Cache(CacheCommand::Prune(a)) => a.json,
        Command::Cache(CacheCommand::Dir { .. }) => false,
        Command::Sync(a) => a.json,
        Command::Settings(a) => a.json,
        Command::Validate(a) => a.json,
        Command::Resolve(a) => a.json,
        Command::Details(a) => a.json,
        Command::Configure(a) => a.json,
        Command::Link(a) => a.json,
        Command::Unlink(a) => a.json,
        Command::Init(a) => a.json,
    }
}

/// The `--scope` of a command that writes settings or picks installations by scope, as typed.
fn scope_arg(c: &Command) -> Option<&str> {
    match c {
        Command::Install(InstallArgs { scope, .. })
        | Command::Uninstall(UninstallArgs { scope, .. })
        | Command::Link(LinkArgs { scope, .. })
        | Command::Unlink(UnlinkArgs { scope, .. })
        | Command::Prune(PruneDepsArgs { scope, .. })
        | Command::Marketplace(MarketplaceCommand::Add { scope, .. }) => Some(scope),
        Command::Enable(EnableArgs { scope, .. })
        | Command::Disable(DisableArgs { scope, .. })
        | Command::Update(UpdateArgs { scope, .. })
        | Command::Outdated(OutdatedArgs { scope, .. })
        | Command::Marketplace(MarketplaceCommand::Remove { scope, .. }) => scope.as_deref(),
        _ => None,
    }
}

/// Run a parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let command = match cli.command {
        // Reads only the given path: no HOME, settings or lock needed.
        Command::Validate(a) => return validate(&a),
        // Reads the plugin's folder and repository only.
        Command::Tag(a) => return tag(&a),
        other => other,
    };
    let Some(ctx) = context(&command) else {
        return 1;
    };
    match command {
        Command::Install(a) => install(&ctx, a),
        Command::Uninstall(a) => uninstall(&ctx, &a),
        Command::List(a) => output::list(
            &Out::new(a.json),
            a.available,
            ops::list::list(&ctx, a.available),
        ),
        Command::Enable(a) => enable(&ctx, &a),
        Command::Disable(a) => disable(&ctx, a),
        Command::Update(a) => update(&ctx, a),
        Command::Outdated(a) => outdated(&ctx, a),
        Command::Prune(a) => prune(&ctx, &a),
        Command::Tag(a) => tag(&a),
        Command::Marketplace(m) => run_marketplace(&ctx, m),
        Command::Cache(c) => run_cache(&ctx, c),
        Command::Sync(a) => sync(&ctx, &a),
        Command::Settings(a) => output::settings(&Out::new(a.json), ops::sync::settings_view(&ctx)),
        Command::Validate(a) => validate(&a),
        Command::Resolve(a) => output::resolve(
            &Out::new(a.json),
            &a.plugin,
            ops::resolve::resolve(&ctx, &a.plugin, a.show_secrets),
        ),
        Command::Details(a) => output::details(
            &Out::new(a.json),
            &a.plugin,
            ops::details::details(&ctx, &a.plugin),
        ),
        Command::Configure(a) => configure(&ctx, &a),
        Command::Link(a) => link(&ctx, a),
        Command::Unlink(a) => unlink(&ctx, &a),
        Command::Init(a) => output::init(
            &Out::new(a.json),
            &a.name,
            ops::init::init(&ctx, &a.name, a.dir.as_deref()).map_err(Into::into),
        ),
    }
}

fn configure(ctx: &Context, a: &ConfigureArgs) -> i32 {
    use ops::configure::{ConfigureError, STDIN_LIMIT, parse_values, save};
    use std::io::{IsTerminal, Read};
    let out = Out::new(a.json);
    if !a.values_stdin {
        return output::configure::options(&out, ops::configure::options(ctx, &a.plugin));
    }
    let stdin = std::io::stdin();
    let values = if stdin.is_terminal() {
        Err(ConfigureError::NothingPiped)
    } else {
        let mut text = String::new();
        match stdin
            .lock()
            .take(STDIN_LIMIT as u64 + 1)
            .read_to_string(&mut text)
        {
            Ok(_) => parse_values(&text),
            Err(_) => Err(ConfigureError::NotObjectOfStrings),
        }
    };
    let r = values
        .map_err(ops::OpError::from)
        .and_then(|v| save(ctx, &a.plugin, &v));
    output::configure::saved(&out, r)
}

fn validate(a: &ValidateArgs) -> i32 {
    let report = ops::validate::validate(std::path::Path::new(&a.path), a.strict);
    output::validate(&Out::new(a.json), &report)
}

/// The context of every command but `validate`: the locations (with the project a command
/// names), and the terminal's lock-wait and progress reporting. `None` once a refusal is printed.
fn context(command: &Command) -> Option<Context> {
    let mut loc = match Locations::from_env() {
        Ok(l) => l,
        Err(e) => {
            output::fatal(&e.to_string());
            return None;
        }
    };
    let project = match command {
        Command::Sync(a) => a.project.as_deref(),
        Command::Settings(a) => a.project.as_deref(),
        _ => None,
    };
    if let Some(raw) = project {
        let dir = loc.user_path(raw);
        if !dir.join(".claude").is_dir() {
            output::fatal(&format!(
                "✘ {} has no .claude/ folder, so it has no project settings; name the project's root folder (the one holding .claude/settings.json)",
                dir.display()
            ));
            return None;
        }
        loc.project_dir = dir;
    }
    if let Command::Resolve(ResolveArgs {
        project_dir: Some(raw),
        ..
    }) = command
    {
        let dir = loc.user_path(raw);
        if !dir.is_dir() {
            output::fatal(&format!(
                "✘ --project-dir {}: no such folder; name the project's root folder",
                dir.display()
            ));
            return None;
        }
        loc.project_dir = dir;
    }
    // From the home folder, project settings would be the user settings file: refused, not mixed
    // (`update` and `outdated` too: there are no project installations to pick).
    if let (Some(dir), Some(scope)) = (loc.no_project(), scope_arg(command).and_then(Scope::parse))
        && scope.is_project_bound()
    {
        output::fatal(&format!(
            "✘ --scope {scope}: there is no project here: {}. Run the command from the project's folder, or use --scope user",
            output::no_project_reason(dir)
        ));
        return None;
    }
    let mut ctx = Context::new(loc, Environment::from_process());
    ctx.on_lock_wait = Box::new(output::waiting_for_lock);
    ctx.reporter = std::sync::Arc::new(output::TerminalReporter::new(wants_json(command)));
    // Only a command naming its plugins asks before a marketplace's command runs.
    let consent = match command {
        Command::Install(a) => Some(&a.consent),
        Command::Update(a) if !a.all => Some(&a.consent),
        _ => None,
    };
    if let Some(c) = consent {
        ctx.command_review = Box::new(output::consent::TerminalReview::new(
            c.yes,
            c.accept_command.clone(),
        ));
    }
    Some(ctx)
}

/// A scope `--scope` must name, printing the refusal (then `Err`) when it is not allowed.
fn required_scope(raw: &str, style: ScopeStyle) -> Result<Scope, ()> {
    parse_scope(raw, style).map_err(|m| output::fatal(&m))
}

fn install(ctx: &Context, a: InstallArgs) -> i32 {
    let Ok(scope) = required_scope(&a.scope, ScopeStyle::Install) else {
        return 1;
    };
    // Not `conflicts_with`: the clash is inside the plugin's value, and clap's refusal would
    // exit 2 where every usage mistake of ours exits 1.
    if a.marketplace.is_some() && a.plugin.contains('@') {
        output::fatal(
            "✘ Name the marketplace once: <plugin>@<marketplace>, or plugin install <plugin> --marketplace <source>",
        );
        return 1;
    }
    let out = Out::new(a.json);
    let req = ops::install::InstallRequest {
        plugin: a.plugin.clone(),
        scope,
        marketplace_source: a.marketplace,
        force: a.force,
    };
    let r = ops::install::install(ctx, &req);
    let after = match &r {
        Ok(rep) => ops::configure::after_install(ctx, &rep.id, &a.config),
        Err(_) => Default::default(),
    };
    output::install(&out, &a.plugin, scope, r, &after)
}

fn uninstall(ctx: &Context, a: &UninstallArgs) -> i32 {
    let Ok(scope) = required_scope(&a.scope, ScopeStyle::Install) else {
        return 1;
    };
    if a.prune && a.json {
        output::fatal("--json cannot be used with --prune");
        return 1;
    }
    // Who needs it (asked while it still loads), and what the uninstall left unneeded (a failed
    // scan says nothing).
    let required_by = ops::dependencies::required_by(ctx, &a.plugin).unwrap_or_default();
    let r = ops::uninstall::uninstall(ctx, &a.plugin, scope, a.keep_data);
    let required_by = if r.is_ok() { required_by } else { Vec::new() };
    let note = match (a.prune, &r) {
        (false, Ok(_)) => ops::dependencies::unneeded(ctx, scope)
            .ok()
            .and_then(|found| ops::dependencies::unneeded_note(&found, scope)),
        _ => None,
    };
    let ok = r.is_ok();
    let code = output::uninstall(
        &Out::new(a.json),
        &a.plugin,
        scope,
        r,
        &required_by,
        note.as_deref(),
    );
    if !(ok && a.prune) {
        return code;
    }
    // `--prune`: what nothing needs now, removed as `plugin prune -y` would (asked at a terminal).
    prune_after(ctx, scope, a.yes, a.keep_data)
}

/// `plugin tag`: check, then create the release tag (or say what would be created).
fn tag(a: &TagArgs) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_default();
    let path = std::path::PathBuf::from(a.path.as_deref().unwrap_or("."));
    let (warnings, plan) = ops::tag::plan(&path, &cwd, a.force, a.message.as_deref());
    let created = match (&plan, a.dry_run) {
        (Ok(p), false) => Some(ops::tag::create(p, a.force).and_then(|()| match a.push {
            true => ops::tag::push(p, &a.remote, a.force, &Environment::from_process()),
            false => Ok(()),
        })),
        _ => None,
    };
    let how = output::TagFlags {
        dry_run: a.dry_run,
        force: a.force,
        push: a.push,
        remote: &a.remote,
    };
    output::tag(&how, &warnings, plan, created)
}

/// `plugin prune`: list what nothing needs, then (asked at a terminal, or with `-y`) remove it.
fn prune(ctx: &Context, a: &PruneDepsArgs) -> i32 {
    let Ok(scope) = required_scope(&a.scope, ScopeStyle::Install) else {
        return 1;
    };
    prune_at(ctx, scope, a.dry_run, a.yes, a.json, false)
}

/// `uninstall --prune`'s second half.
fn prune_after(ctx: &Context, scope: Scope, yes: bool, keep_data: bool) -> i32 {
    prune_at(ctx, scope, false, yes, false, keep_data)
}

fn prune_at(
    ctx: &Context,
    scope: Scope,
    dry_run: bool,
    yes: bool,
    json: bool,
    keep_data: bool,
) -> i32 {
    use std::io::IsTerminal;
    let out = Out::new(json);
    let found = match ops::dependencies::unneeded(ctx, scope) {
        Ok(f) => f,
        Err(e) => return output::prune_failed(&out, &e),
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let decision = if dry_run || found.plugins.is_empty() || !found.unloadable.is_empty() {
        output::PruneDecision::Nothing
    } else if yes {
        output::PruneDecision::Remove
    } else if !terminal || json {
        output::PruneDecision::NeedsYes
    } else if output::confirm_prune(&found, scope) {
        output::PruneDecision::Remove
    } else {
        output::PruneDecision::Aborted
    };
    let removed = match decision {
        output::PruneDecision::Remove => {
            match ops::dependencies::prune(ctx, scope, false, keep_data) {
                Ok(done) => Some(done),
                Err(e) => return output::prune_failed(&out, &e),
            }
        }
        _ => None,
    };
    output::prune(&out, scope, dry_run, &found, decision, removed.as_ref())
}

fn enable(ctx: &Context, a: &EnableArgs) -> i32 {
    let Ok(scope) = optional_scope(a.scope.as_deref(), ScopeStyle::Toggle) else {
        return 1;
    };
    output::toggle(
        &Out::new(a.json),
        true,
        &a.plugin,
        scope,
        ops::enable::set_enabled(ctx, &a.plugin, scope, true),
    )
}

/// Claude Code's own wording (and exit code 1) for the `--all` clashes, so these are checked
/// here rather than by clap's `conflicts_with` / `required_unless_present` (exit 2, clap's text).
fn disable(ctx: &Context, a: DisableArgs) -> i32 {
    let out = Out::new(a.json);
    if a.all {
        if a.plugin.is_some() {
            output::fatal("--all can't be used with a plugin name");
            return 1;
        }
        if a.scope.is_some() {
            output::fatal("Cannot use --scope with --all");
            return 1;
        }
        return output::disable_all(&out, ops::enable::disable_all(ctx));
    }
    let Some(plugin) = a.plugin else {
        output::fatal("Please specify a plugin name or use --all to disable all plugins");
        return 1;
    };
    let Ok(scope) = optional_scope(a.scope.as_deref(), ScopeStyle::Toggle) else {
        return 1;
    };
    output::toggle(
        &out,
        false,
        &plugin,
        scope,
        ops::enable::set_enabled(ctx, &plugin, scope, false),
    )
}

fn update(ctx: &Context, a: UpdateArgs) -> i32 {
    let Ok(scope) = update_scope(a.scope.as_deref()) else {
        return 1;
    };
    let req = ops::update::UpdateRequest {
        all: a.all,
        plugins: a.plugins,
        scope,
        force: a.force,
        refresh: !a.no_refresh,
        apply: true,
        jobs: usize::from(a.jobs),
    };
    output::update(&Out::new(a.json), true, ops::update::update(ctx, &req))
}

fn outdated(ctx: &Context, a: OutdatedArgs) -> i32 {
    let Ok(scope) = update_scope(a.scope.as_deref()) else {
        return 1;
    };
    let req = ops::update::UpdateRequest {
        all: a.plugins.is_empty(),
        plugins: a.plugins,
        scope,
        force: false,
        refresh: !a.no_refresh,
        apply: false,
        jobs: 8,
    };
    let results = ops::update::update(ctx, &req);
    let pending = results.as_ref().is_ok_and(|r| {
        r.iter().any(|r| {
            matches!(
                r.outcome,
                ops::update::UpdateOutcome::Updated { .. }
                    | ops::update::UpdateOutcome::ChangedSameVersion { .. }
            )
        })
    });
    match output::update(&Out::new(a.json), false, results) {
        0 if pending => a.exit_code.map_or(0, i32::from),
        code => code,
    }
}

/// `plugin marketplace …`; returns the exit code.
fn run_marketplace(ctx: &Context, command: MarketplaceCommand) -> i32 {
    match command {
        MarketplaceCommand::Add {
            source,
            scope,
            json,
        } => {
            let Ok(scope) = required_scope(&scope, ScopeStyle::Marketplace) else {
                return 1;
            };
            output::marketplace_add(&Out::new(json), ops::marketplace::add(ctx, &source, scope))
        }
        MarketplaceCommand::List { json } => {
            output::warnings(ctx.seeds().problems());
            output::marketplace_list(&Out::new(json), ops::marketplace::list(ctx))
        }
        MarketplaceCommand::Update { name, json } => {
            let out = Out::new(json);
            match name {
                Some(n) => {
                    output::marketplace_update_one(&out, &n, ops::marketplace::update_one(ctx, &n))
                }
                // Not `requires`: clap's refusal would not say what to do, and exits 2.
                None if json => {
                    output::fatal(
                        "✘ --json needs a marketplace name, for example: plugin marketplace update <name> --json",
                    );
                    1
                }
                None => output::marketplace_update_all(ops::marketplace::update_all(ctx)),
            }
        }
        MarketplaceCommand::Remove { name, scope, json } => {
            let Ok(scope) = optional_scope(scope.as_deref(), ScopeStyle::Marketplace) else {
                return 1;
            };
            output::marketplace_remove(
                &Out::new(json),
                &name,
                ops::marketplace::remove(ctx, &name, scope),
            )
        }
    }
}

fn sync(ctx: &Context, a: &SyncArgs) -> i32 {
    let req = ops::sync::SyncRequest {
        trust_project: a.project.is_some(),
        dry_run: a.dry_run,
        prune: a.prune,
        jobs: usize::from(a.jobs),
    };
    output::sync(&Out::new(a.json), a.dry_run, ops::sync::sync(ctx, &req))
}

fn link(ctx: &Context, a: LinkArgs) -> i32 {
    let Ok(scope) = required_scope(&a.scope, ScopeStyle::Install) else {
        return 1;
    };
    let req = ops::link::LinkRequest {
        path: a.path.clone(),
        as_id: a.as_id,
        scope,
        force: a.force,
    };
    output::link(
        &Out::new(a.json),
        &a.path,
        scope,
        ops::link::link(ctx, &req),
    )
}

fn unlink(ctx: &Context, a: &UnlinkArgs) -> i32 {
    let Ok(scope) = required_scope(&a.scope, ScopeStyle::Install) else {
        return 1;
    };
    output::unlink(
        &Out::new(a.json),
        &a.plugin,
        scope,
        ops::link::unlink(ctx, &a.plugin, scope),
    )
}
