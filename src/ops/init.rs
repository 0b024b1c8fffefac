//! `init`: scaffold a plugin folder that validates clean and installs (a manifest, one skill,
//! one command, a README).

use std::fs;
use std::path::PathBuf;

use super::Context;
use crate::fsutil::{IoContext, IoError};
use crate::schema::names::{is_kebab, plugin_name_problem};

#[derive(Debug, Clone)]
pub struct InitReport {
    pub name: String,
    pub dir: PathBuf,
    /// Relative paths of the files written, in order.
    pub files: Vec<String>,
}

/// What can go wrong in `init`: a name Claude Code would not accept, a folder in use, or
/// writing the files (it reads no state, so nothing else can).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("Cannot create plugin \"{name}\": {problem}")]
    Name { name: String, problem: String },
    #[error("Cannot create the plugin in {}: the folder exists and is not empty; choose another with --dir", .path.display())]
    TargetNotEmpty { path: PathBuf },
    #[error(transparent)]
    Io(#[from] IoError),
}

impl InitError {
    pub fn failure_code(&self) -> &'static str {
        match self {
            InitError::Name { .. } | InitError::TargetNotEmpty { .. } => "error_validation",
            InitError::Io(_) => "error_unknown",
        }
    }
}

pub fn init(ctx: &Context, name: &str, dir: Option<&str>) -> Result<InitReport, InitError> {
    // Claude Code asks for kebab-case names; its own checks come first for their wording.
    let problem = plugin_name_problem(name).or_else(|| {
        (!is_kebab(name)).then(|| {
            "use kebab-case: lower-case letters, digits and single hyphens (e.g. \"my-plugin\")"
                .to_string()
        })
    });
    if let Some(problem) = problem {
        return Err(InitError::Name {
            name: name.to_string(),
            problem,
        });
    }
    let dir = ctx.loc.user_path(dir.unwrap_or(name));
    if dir.exists() {
        let empty = dir.is_dir()
            && fs::read_dir(&dir)
                .at("read directory", &dir)?
                .next()
                .is_none();
        if !empty {
            return Err(InitError::TargetNotEmpty { path: dir });
        }
    }
    let files = [
        (".claude-plugin/plugin.json".to_string(), manifest(name)),
        (format!("skills/{name}/SKILL.md"), skill(name)),
        (format!("commands/{name}.md"), command(name)),
        ("README.md".to_string(), readme(name)),
    ];
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).at("create directory", parent)?;
        }
        crate::fsutil::write_atomic(&path, text.as_bytes())?;
    }
    Ok(InitReport {
        name: name.to_string(),
        dir,
        files: files.into_iter().map(|(rel, _)| rel).collect(),
    })
}

fn manifest(name: &str) -> String {
    let v = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "description": format!("{name}: describe what this plugin does"),
        "author": {"name": "Your Name"},
        "license": "MIT",
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn skill(name: &str) -> String {
    format!(
        "---\nname: {name}\ndescription: Describe when Claude should use this skill, e.g. \"Use when the user asks about {name}.\"\n---\n\n# {name}\n\nInstructions Claude follows when this skill is used.\n"
    )
}

fn command(name: &str) -> String {
    format!(
        "---\ndescription: Run {name}\nargument-hint: [what to work on]\n---\n\nDo the {name} task for: $ARGUMENTS\n"
    )
}

fn readme(name: &str) -> String {
    format!(
        "# {name}\n\nA Claude Code plugin. Replace this paragraph with what the plugin does, who it is for, how to use it and any setup it needs, so that people who find it in a marketplace can decide whether to install it. Change `author` and `license` in `.claude-plugin/plugin.json` too.\n\n- `skills/{name}/SKILL.md`: a skill Claude uses when its description matches.\n- `commands/{name}.md`: the `/{name}` command.\n\n## Develop\n\n```sh\nplugin link .            # installs it as {name}@dev, linked to this folder\n# edit, then /reload-plugins in Claude Code\nplugin unlink {name}     # removes the link\n```\n"
    )
}
