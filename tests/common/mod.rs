//! Test harness: runs the real `plugin` binary in a throw-away HOME, and builds fixtures in code.
#![allow(dead_code)]

// A Python git server: Windows test processes cannot start Linux programs under wine.
#[cfg(unix)]
pub mod githttp;
pub mod http;
pub mod recorder;
pub mod registry;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ::plugin::platform;
use serde_json::Value;

/// Runs a command to its end. Under wine, starting a process now and then fails with
/// ERROR_INTERNAL_ERROR (1359) before the program runs at all; that is tried again (the program
/// never started, so nothing it would do is hidden). Any other failure to start is the test's.
pub fn run(c: &mut Command) -> Run {
    let mut tries = 0;
    loop {
        match c.output() {
            Ok(out) => return Run::from(out),
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(1359) && tries < 3 => tries += 1,
            Err(e) => panic!("run {c:?}: {e}"),
        }
    }
}

/// A fresh HOME (and working directory) per test. `CLAUDE_CONFIG_DIR` and
/// `CLAUDE_CODE_PLUGIN_CACHE_DIR` are cleared so only HOME decides where files go.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub cwd: PathBuf,
    pub fx: PathBuf,
}

/// What a command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self) -> Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Env {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = plugin::fsutil::canonicalize(tmp.path()).expect("canonical tmp");
        let home = root.join("home");
        let cwd = root.join("work");
        let fx = root.join("fx");
        for d in [&home, &cwd, &fx] {
            fs::create_dir_all(d).expect("mkdir");
        }
        Self { tmp, home, cwd, fx }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_plugin"));
        c.args(args)
            .current_dir(&self.cwd)
            .env("HOME", &self.home)
            // Windows: where the product (as Claude Code) finds the home and cache folders.
            .env("USERPROFILE", &self.home)
            .env("LOCALAPPDATA", self.home.join("AppData").join("Local"))
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CLAUDE_CODE_PLUGIN_CACHE_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("CLAUDE_CODE_PLUGIN_SEED_DIR")
            // Never the machine's own managed settings: each test's `managed()` folder.
            .env("PLUGIN_MANAGED_SETTINGS_DIR", self.managed())
            // Give up on a stuck lock instead of hanging the test.
            .env("PLUGIN_LOCK_TIMEOUT", "60");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }

    /// `plugin <args>` at a terminal (util-linux's `script` gives it one), `answer` typed once it
    /// had time to ask. Arguments are split on spaces.
    #[cfg(target_os = "linux")]
    pub fn at_terminal(&self, args: &str, answer: &str) -> Run {
        use std::io::Write;
        use std::process::Stdio;
        let line = format!("{} {args}", env!("CARGO_BIN_EXE_plugin"));
        let c = self.command(&[]);
        let mut script = Command::new("script");
        script
            .args(["-q", "-e", "-c", &line, "/dev/null"])
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in c.get_envs() {
            match v {
                Some(v) => script.env(k, v),
                None => script.env_remove(k),
            };
        }
        let mut child = script
            .spawn()
            .expect("util-linux's `script` runs the command at a terminal (install util-linux)");
        let mut stdin = child.stdin.take().expect("stdin piped");
        std::thread::sleep(std::time::Duration::from_millis(500));
        stdin.write_all(answer.as_bytes()).expect("type the answer");
        drop(stdin);
        Run::from(child.wait_with_output().expect("script ran"))
    }

    /// `command` with an empty `PATH`: the product must need no git, node, npm, pip or python.
    pub fn command_without_tools(&self, args: &[&str]) -> Command {
        let empty = self.fx.join("empty-path");
        fs::create_dir_all(&empty).expect("mkdir");
        let mut c = self.command(args);
        c.env("PATH", &empty);
        c
    }

    /// A folder marketplace `name` holding `entries` (a JSON array), added; returns its folder.
    pub fn add_marketplace(&self, name: &str, entries: &Value) -> PathBuf {
        let dir = self.fx.join(name);
        marketplace(&dir, name, &entries.to_string());
        self.run(&["marketplace", "add", dir.to_str().expect("utf-8 path")])
            .ok();
        dir
    }

    /// Where the product keeps its own caches for this test's home (`~/.cache` on Unix,
    /// `%LOCALAPPDATA%`, which `command` points into the home, on Windows).
    pub fn user_cache(&self) -> PathBuf {
        if cfg!(windows) {
            self.home.join("AppData").join("Local")
        } else {
            self.home.join(".cache")
        }
    }

    /// The first install record of `id`.
    pub fn first_record(&self, id: &str) -> Value {
        self.installed()["plugins"][id][0].clone()
    }

    /// Modes under the current umask of a new folder and of files created with 0o666 (what
    /// `fs::write` does), 0o644 and 0o755 (what a git checkout does for plain and executable files).
    pub fn default_modes(&self) -> (u32, u32, u32, u32) {
        let probe = self.tmp.path().join("mode-probe");
        let _ = fs::remove_dir_all(&probe);
        fs::create_dir_all(probe.join("dir")).expect("mkdir");
        let created = |name: &str, mode_bits: u32| {
            let p = probe.join(name);
            platform::create_new_file(&p, mode_bits).expect("create");
            mode(&p)
        };
        (
            mode(&probe.join("dir")),
            created("a", 0o666),
            created("b", 0o644),
            created("c", 0o755),
        )
    }

    /// The managed settings folder of this test (absent until a test writes into it).
    pub fn managed(&self) -> PathBuf {
        self.tmp.path().join("managed")
    }

    /// Write `managed-settings.json` (or a drop-in `managed-settings.d/<name>` when `drop_in`).
    pub fn write_managed(&self, drop_in: Option<&str>, value: &Value) -> PathBuf {
        let path = match drop_in {
            Some(name) => self.managed().join("managed-settings.d").join(name),
            None => self.managed().join("managed-settings.json"),
        };
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, serde_json::to_string_pretty(value).expect("json")).expect("write");
        path
    }

    pub fn claude(&self) -> PathBuf {
        self.home.join(".claude")
    }

    pub fn plugins(&self) -> PathBuf {
        self.claude().join("plugins")
    }

    pub fn read_json(&self, path: &Path) -> Value {
        let text =
            fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
    }

    pub fn settings(&self) -> Value {
        self.read_json(&self.claude().join("settings.json"))
    }

    pub fn installed(&self) -> Value {
        self.read_json(&self.plugins().join("installed_plugins.json"))
    }

    pub fn known(&self) -> Value {
        self.read_json(&self.plugins().join("known_marketplaces.json"))
    }
}

/// `rel`, written with `/`, with the OS's separator: a relative path as the product prints it.
pub fn native(rel: &str) -> String {
    rel.replace('/', std::path::MAIN_SEPARATOR_STR)
}

/// `base` joined with each `/`-separated component of `rel`, so its text is what the product
/// (which joins per component) prints; `Path::join("a/b")` would keep the `/` on Windows.
pub fn join(base: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(base.to_path_buf(), |p, c| p.join(c))
}

/// `path` as a JSON string literal (quoted, `\` escaped), for expected JSON text.
pub fn json_str(path: &Path) -> String {
    Value::String(path.to_str().expect("utf-8 path").to_owned()).to_string()
}

/// Whether symbolic links can be made here (`dir`): not under wine (where creating one
/// "succeeds" but makes nothing) nor on Windows without Developer Mode. Tests about links
/// return early, saying so, when this is false.
pub fn links_work(dir: &Path) -> bool {
    let probe = dir.join(format!("link-probe-{}", std::process::id()));
    let _ = fs::remove_dir_all(&probe);
    fs::create_dir_all(&probe).expect("mkdir");
    fs::write(probe.join("target"), "t").expect("write");
    let made = platform::symlink("target", probe.join("link")).is_ok()
        && fs::symlink_metadata(probe.join("link")).is_ok_and(|m| m.file_type().is_symlink());
    let _ = fs::remove_dir_all(&probe);
    made
}

/// True, after saying so on stderr, when `env`'s tests about links cannot run here: see
/// [`links_work`]. Use as `if no_links(&env) { return; }`.
pub fn no_links(env: &Env) -> bool {
    if links_work(env.tmp.path()) {
        return false;
    }
    eprintln!(
        "skipped: symbolic links cannot be made here (wine makes none; Windows needs Developer Mode)"
    );
    true
}

/// Write `text` to `path`, creating parent folders.
/// A copy of the folder `from` at `to` (files and folders; no links).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

pub fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// Set a file's permission bits (nothing on Windows, which has none).
pub fn chmod(path: &Path, mode: u32) {
    let f = fs::File::options()
        .write(true)
        .open(path)
        .or_else(|_| fs::File::open(path))
        .expect("open");
    platform::set_permissions(&f, mode).expect("chmod");
}

/// An entry's permission bits, as the product records them.
pub fn mode(path: &Path) -> u32 {
    platform::permissions(&fs::metadata(path).expect("meta"))
}

/// A plugin folder with a manifest (`version: None` = no version key) and one command.
pub fn plugin(dir: &Path, name: &str, version: Option<&str>) {
    write(&dir.join("commands/c.md"), &format!("# {name}\n"));
    let manifest = match version {
        Some(v) => serde_json::json!({"name": name, "version": v}),
        None => serde_json::json!({"name": name}),
    };
    write(
        &dir.join(".claude-plugin/plugin.json"),
        &manifest.to_string(),
    );
}

/// A marketplace folder `dir` named `name` whose `plugins` array is `plugins` (JSON text).
pub fn marketplace(dir: &Path, name: &str, plugins: &str) {
    write(
        &dir.join(".claude-plugin/marketplace.json"),
        &format!(r#"{{"name":"{name}","owner":{{"name":"Test"}},"plugins":{plugins}}}"#),
    );
}

/// `m1` from Claude Code's probes: one plugin `p1` at version 1.0.0. Returns the marketplace dir.
pub fn m1(env: &Env) -> PathBuf {
    let dir = env.fx.join("m1");
    plugin(&dir.join("plugins/p1"), "p1", Some("1.0.0"));
    marketplace(
        &dir,
        "m1",
        r#"[{"name":"p1","source":"./plugins/p1","description":"tiny"}]"#,
    );
    dir
}

/// A sorted listing of a tree: `<type> <mode> <path>[ -> target | size]`.
pub fn tree(root: &Path) -> Vec<String> {
    listing(root, false)
}

/// [`tree`] with every file's full content instead of its size.
pub fn tree_with_content(root: &Path) -> Vec<String> {
    listing(root, true)
}

fn listing(root: &Path, content: bool) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, content: bool, out: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            // Written with `/` on every OS, so one expected listing serves all.
            let rel: Vec<_> = p
                .strip_prefix(root)
                .expect("prefix")
                .iter()
                .map(|c| c.to_string_lossy())
                .collect();
            let rel = rel.join("/");
            let meta = fs::symlink_metadata(&p).expect("meta");
            let mode = platform::permissions(&meta);
            if meta.file_type().is_symlink() {
                out.push(format!(
                    "l {rel} -> {}",
                    fs::read_link(&p).expect("link").display()
                ));
            } else if meta.is_dir() {
                out.push(format!("d {mode:o} {rel}/"));
                walk(root, &p, content, out);
            } else if content {
                let bytes = fs::read(&p).expect("read");
                out.push(format!(
                    "f {mode:o} {rel} {:?}",
                    String::from_utf8_lossy(&bytes)
                ));
            } else {
                out.push(format!("f {mode:o} {rel} {}", meta.len()));
            }
        }
    }
    walk(root, root, content, &mut out);
    out
}

/// Panic unless the version folder `dir` is exactly what its completion marker recorded: the
/// marker's digest matches both the stored listing and the folder listed again now.
#[track_caller]
pub fn assert_sealed(dir: &Path) {
    let marker: Value = serde_json::from_str(
        &fs::read_to_string(dir.join(".plugin-ok"))
            .unwrap_or_else(|e| panic!("{}: no marker ({e})", dir.display())),
    )
    .unwrap_or_else(|e| panic!("{}: bad marker ({e})", dir.display()));
    let recorded = ::plugin::cache::TreeListing::read(dir)
        .unwrap_or_else(|| panic!("{}: no readable .plugin-files", dir.display()));
    let now = ::plugin::cache::TreeListing::of_folder(dir).unwrap();
    assert_eq!(marker["digest"], recorded.digest(), "{}", dir.display());
    assert_eq!(recorded.diff(&now), Default::default(), "{}", dir.display());
    assert_eq!(marker["files"].as_u64(), Some(recorded.files() as u64));
}

/// Make every known marketplace look refreshed long ago, so the next update refreshes it.
pub fn age_marketplaces(env: &Env) {
    let path = env.plugins().join("known_marketplaces.json");
    let mut known = env.read_json(&path);
    for (_, m) in known.as_object_mut().expect("an object") {
        m["lastUpdated"] = serde_json::json!("2020-01-01T00:00:00.000Z");
    }
    fs::write(&path, serde_json::to_string_pretty(&known).expect("JSON")).expect("write");
}

/// The first result of a `--json` report: the first of its `plugins` (`update`, `outdated`,
/// `cache verify`), or the report itself (a failure line).
pub fn first_row(v: &Value) -> Value {
    if v["plugins"].is_array() {
        v["plugins"][0].clone()
    } else {
        v.clone()
    }
}

/// Whether a `tree_with_content` line is part of the cache's machinery, which a command that
/// copies nothing may still set up (nothing a user's state depends on): the cache lock file, the
/// empty cache root, the staging journal, the content store's root and remembered link mode.
pub fn is_cache_machinery(line: &str) -> bool {
    line.contains(".plugin-cache.lock")
        || line.ends_with(" .claude/plugins/cache/")
        || line.contains(" .claude/plugins/.plugin-journal-v1/")
        || line.ends_with(" .claude/plugins/store-v1/")
        || line.contains(" .claude/plugins/store-v1/link-mode ")
}
