//! Our own writes of the state and settings files. A command whose step writes several files
//! and fails part way (a full disk, a folder gone) must put back every file it wrote, byte for
//! byte; and a write must keep what the user made of the file: a symbolic link into a dotfiles
//! repository stays a link (its target gets the content), a `0600` file stays `0600`.
//!
//! "The disk is full" is real here: the command runs with a file-size limit (`ulimit -f`, which
//! binds root too) that the file chosen to fail exceeds once rewritten (it is padded with a large
//! key we do not own, which every rewrite keeps), while every other file stays far below it.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::*;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The file-size limit of a run on a "full disk", in 512-byte blocks (64 KiB).
const LIMIT_BLOCKS: u32 = 128;

/// Run `plugin args` unable to write any file larger than 64 KiB: such a write fails with
/// EFBIG, as on a full disk (SIGXFSZ ignored, so the write returns the error).
fn run_on_full_disk(env: &Env, args: &[&str]) -> Run {
    on_full_disk(env.command(args))
}

/// Run `c` unable to write any file larger than 64 KiB (see [`run_on_full_disk`]).
pub fn on_full_disk(c: std::process::Command) -> Run {
    let program = c.get_program().to_owned();
    let mut sh = std::process::Command::new("/bin/sh");
    sh.arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {LIMIT_BLOCKS} && exec \"$0\" \"$@\""
        ))
        .arg(program)
        .args(c.get_args())
        .current_dir(c.get_current_dir().expect("a working directory"));
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    Run::from(sh.output().expect("run plugin under sh"))
}

/// Pad the JSON object file `path` with a key of ours of 200 KiB, so that any rewrite of it
/// exceeds the limit of [`run_on_full_disk`].
fn pad(path: &Path) {
    let text = fs::read_to_string(path).unwrap_or_else(|_| "{}".into());
    let mut v: Value = serde_json::from_str(&text).expect("JSON");
    v["zzPadding"] = json!("x".repeat(200 * 1024));
    fs::write(path, serde_json::to_string_pretty(&v).expect("JSON")).expect("write");
}

/// Everything under HOME and the project, with file contents, modes and link targets.
fn snapshot(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    for root in [&env.home, &env.cwd] {
        out.push(format!("== {}", root.display()));
        out.extend(tree_with_content(root));
    }
    out
}

/// `plugin args` on a full disk fails with exit 1, names `file` (the one that could not be
/// written), and leaves everything exactly as it was.
#[track_caller]
fn fails_and_puts_back(env: &Env, args: &[&str], file: &Path) -> Run {
    let before = snapshot(env);
    let r = run_on_full_disk(env, args).fails();
    let after = snapshot(env);
    let changed: Vec<_> = (after.iter())
        .filter(|l| !before.contains(l))
        .map(|l| l.chars().take(300).collect::<String>())
        .collect();
    let lost: Vec<_> = (before.iter())
        .filter(|l| !after.contains(l))
        .map(|l| l.chars().take(300).collect::<String>())
        .collect();
    assert!(
        changed.is_empty() && lost.is_empty(),
        "`{}` left the disk changed\nnow: {changed:#?}\nbefore: {lost:#?}\nstderr: {}",
        args.join(" "),
        r.stderr
    );
    assert!(
        r.stderr.contains(s(file)),
        "the error should name {}:\n{}",
        file.display(),
        r.stderr
    );
    r
}

fn user_settings(env: &Env) -> PathBuf {
    env.claude().join("settings.json")
}

fn project_settings(env: &Env) -> PathBuf {
    env.cwd.join(".claude/settings.json")
}

fn installed_file(env: &Env) -> PathBuf {
    env.plugins().join("installed_plugins.json")
}

fn known_file(env: &Env) -> PathBuf {
    env.plugins().join("known_marketplaces.json")
}

/// m1 added and p1 installed (user scope).
fn installed_p1(env: &Env) {
    let dir = m1(env);
    env.run(&["marketplace", "add", s(&dir)]).ok();
    env.run(&["install", "p1@m1"]).ok();
}

// ---- class 1: a failed step puts back every file it wrote ----

#[test]
fn reinstall_whose_settings_write_fails_keeps_the_previous_record() {
    // The issue's case: the record of the installed plugin was removed instead of put back.
    for (prepare, args) in [
        (Some(["disable", "p1@m1"]), ["install", "p1@m1", ""]),
        (None, ["install", "p1@m1", "--force"]),
    ] {
        let env = Env::new();
        installed_p1(&env);
        if let Some(p) = prepare {
            env.run(&p).ok();
        }
        let record = env.first_record("p1@m1");
        pad(&user_settings(&env));
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let r = fails_and_puts_back(&env, &args, &user_settings(&env));
        assert!(
            r.stderr.contains("Failed to update settings"),
            "{}",
            r.stderr
        );
        assert_eq!(env.first_record("p1@m1"), record);
        // And with room on the disk it goes through.
        env.run(&args).ok();
        assert_eq!(env.settings()["enabledPlugins"]["p1@m1"], json!(true));
    }
}

#[test]
fn uninstall_whose_record_write_fails_keeps_the_plugin_enabled() {
    let env = Env::new();
    installed_p1(&env);
    pad(&installed_file(&env));
    fails_and_puts_back(&env, &["uninstall", "p1@m1"], &installed_file(&env));
    assert_eq!(env.settings()["enabledPlugins"]["p1@m1"], json!(true));
}

#[test]
fn disable_all_whose_second_settings_file_fails_leaves_the_first_as_it_was() {
    let env = Env::new();
    installed_p1(&env);
    // The second plugin is decided by project settings: two files to write.
    let dir = env.fx.join("m1");
    plugin(&dir.join("plugins/p2"), "p2", Some("1.0.0"));
    marketplace(
        &dir,
        "m1",
        r#"[{"name":"p1","source":"./plugins/p1"},{"name":"p2","source":"./plugins/p2"}]"#,
    );
    env.run(&["marketplace", "update", "m1"]).ok();
    env.run(&["install", "p2@m1", "--scope", "project"]).ok();
    pad(&project_settings(&env));
    fails_and_puts_back(&env, &["disable", "--all"], &project_settings(&env));
}

#[test]
fn marketplace_add_whose_settings_write_fails_forgets_the_marketplace_again() {
    let env = Env::new();
    installed_p1(&env);
    let m2 = env.fx.join("m2");
    plugin(&m2.join("plugins/q"), "q", Some("1.0.0"));
    marketplace(&m2, "m2", r#"[{"name":"q","source":"./plugins/q"}]"#);
    pad(&user_settings(&env));
    fails_and_puts_back(&env, &["marketplace", "add", s(&m2)], &user_settings(&env));
    assert!(env.known().get("m2").is_none());
}

#[test]
fn marketplace_remove_whose_later_write_fails_keeps_declarations_and_installs() {
    // Settings are written first, then the records, then the known marketplaces.
    for failing in [installed_file, known_file] {
        let env = Env::new();
        installed_p1(&env);
        pad(&failing(&env));
        fails_and_puts_back(&env, &["marketplace", "remove", "m1"], &failing(&env));
    }
}

#[test]
fn link_and_unlink_whose_later_write_fails_put_everything_back() {
    let setup = || {
        let env = Env::new();
        installed_p1(&env);
        let co = env.fx.join("checkout");
        plugin(&co, "tool", Some("0.3.0"));
        (env, co)
    };
    // link: the dev marketplace is registered and declared, then the record fails.
    let (env, co) = setup();
    pad(&installed_file(&env));
    fails_and_puts_back(&env, &["link", s(&co)], &installed_file(&env));
    // unlink: settings and records are written, then forgetting the dev marketplace fails; the
    // link it had taken down is back.
    let (env, co) = setup();
    env.run(&["link", s(&co)]).ok();
    pad(&known_file(&env));
    fails_and_puts_back(&env, &["unlink", "tool@dev"], &known_file(&env));
    let link = env.plugins().join("cache/dev/tool/0.3.0");
    assert_eq!(fs::read_link(&link).unwrap(), co);
}

#[test]
fn sync_following_renames_whose_second_settings_file_fails_changes_neither() {
    let env = Env::new();
    let dir = env.fx.join("m");
    plugin(&dir.join("plugins/new"), "new", Some("1.0.0"));
    let catalog = |renames: Value| {
        let c = json!({"name": "m", "owner": {"name": "Test"},
            "plugins": [{"name": "new", "source": "./plugins/new"}], "renames": renames});
        write(&dir.join(".claude-plugin/marketplace.json"), &c.to_string());
    };
    catalog(json!({}));
    env.run(&["marketplace", "add", s(&dir)]).ok();
    let mut user = env.settings();
    user["enabledPlugins"] = json!({"old@m": true});
    write(&user_settings(&env), &format!("{user:#}\n"));
    write(
        &project_settings(&env),
        &json!({"enabledPlugins": {"old@m": false}}).to_string(),
    );
    // The catalog now says `old` is `new`: user settings are followed first, then the project's.
    catalog(json!({"old": "new"}));
    pad(&project_settings(&env));
    fails_and_puts_back(&env, &["sync"], &project_settings(&env));
}

#[test]
fn update_whose_record_write_fails_leaves_no_new_version_folder() {
    let env = Env::new();
    installed_p1(&env);
    plugin(&env.fx.join("m1/plugins/p1"), "p1", Some("2.0.0"));
    pad(&installed_file(&env));
    fails_and_puts_back(&env, &["update", "p1@m1"], &installed_file(&env));
    assert!(!env.plugins().join("cache/m1/p1/2.0.0").exists());
}

#[test]
fn git_marketplace_add_and_update_whose_record_fails_take_back_the_clone() {
    let env = Env::new();
    let srv = env.fx.join("srv");
    let work = githttp::WorkRepo::init(&env.fx.join("work/mkt"));
    let catalog = |desc: &str| {
        work.write(
            ".claude-plugin/marketplace.json",
            &json!({"name": "gmk", "owner": {"name": "x"}, "description": desc,
                "plugins": [{"name": "p", "source": "./plugins/p"}]})
            .to_string(),
        );
        work.write("plugins/p/.claude-plugin/plugin.json", r#"{"name":"p"}"#);
        work.commit(desc);
        work.publish(&srv.join("git/mkt.git"));
    };
    catalog("first");
    let server = githttp::GitServer::start(&srv);
    let url = server.url("git/mkt.git");
    // add: the clone is made, then declaring it in settings fails; the clone goes again.
    env.run(&["marketplace", "add", s(&m1(&env))]).ok();
    pad(&user_settings(&env));
    fails_and_puts_back(&env, &["marketplace", "add", &url], &user_settings(&env));
    assert!(!env.plugins().join("marketplaces/gmk").exists());
    // update: a new commit is cloned and swapped in, then recording it fails; the old clone
    // is back.
    let mut settings = env.settings();
    settings.as_object_mut().unwrap().remove("zzPadding");
    fs::write(user_settings(&env), format!("{settings:#}\n")).unwrap();
    env.run(&["marketplace", "add", &url]).ok();
    catalog("second");
    pad(&known_file(&env));
    fails_and_puts_back(&env, &["marketplace", "update", "gmk"], &known_file(&env));
    let clone = env
        .plugins()
        .join("marketplaces/gmk/.claude-plugin/marketplace.json");
    assert_eq!(env.read_json(&clone)["description"], "first");
}

// ---- class 10: writes keep the file's link, mode and owner ----

#[test]
fn a_symlinked_settings_file_stays_a_link_and_its_target_gets_the_content() {
    let env = Env::new();
    // ~/.claude/settings.json -> ../dotfiles/claude.json -> real/settings.json (a chain).
    let dotfiles = env.home.join("dotfiles");
    write(
        &dotfiles.join("real/settings.json"),
        "{\"theme\": \"dark\"}",
    );
    std::os::unix::fs::symlink("real/settings.json", dotfiles.join("claude.json")).unwrap();
    fs::create_dir_all(env.claude()).unwrap();
    std::os::unix::fs::symlink("../dotfiles/claude.json", user_settings(&env)).unwrap();
    installed_p1(&env);
    assert_eq!(
        fs::read_link(user_settings(&env)).unwrap(),
        Path::new("../dotfiles/claude.json")
    );
    assert_eq!(
        fs::read_link(dotfiles.join("claude.json")).unwrap(),
        Path::new("real/settings.json")
    );
    let real: Value = env.read_json(&dotfiles.join("real/settings.json"));
    assert_eq!(real["theme"], "dark");
    assert_eq!(real["enabledPlugins"]["p1@m1"], json!(true));
    // No temporary file left beside either.
    assert_eq!(
        tree(&dotfiles).len(),
        3,
        "{:#?}",
        tree(&dotfiles) // real/, real/settings.json, claude.json
    );
}

#[test]
fn a_dangling_settings_link_gets_its_target_or_a_clear_error() {
    let env = Env::new();
    fs::create_dir_all(env.claude()).unwrap();
    let dotfiles = env.home.join("dotfiles");
    fs::create_dir_all(&dotfiles).unwrap();
    let target = dotfiles.join("settings.json");
    std::os::unix::fs::symlink(&target, user_settings(&env)).unwrap();
    installed_p1(&env);
    assert!(user_settings(&env).symlink_metadata().unwrap().is_symlink());
    assert_eq!(
        env.read_json(&target)["enabledPlugins"]["p1@m1"],
        json!(true)
    );

    // Its folder gone (the dotfiles repository moved): refused, naming the link, and the step
    // that wrote the record before it is undone.
    let env = Env::new();
    let dir = m1(&env);
    env.run(&["marketplace", "add", s(&dir)]).ok();
    fs::remove_file(user_settings(&env)).unwrap();
    std::os::unix::fs::symlink(env.home.join("gone/settings.json"), user_settings(&env)).unwrap();
    let before = snapshot(&env);
    let r = env.run(&["install", "p1@m1"]).fails();
    assert!(r.stderr.contains(s(&user_settings(&env))), "{}", r.stderr);
    assert!(
        r.stderr.contains("whose folder does not exist"),
        "{}",
        r.stderr
    );
    let after = snapshot(&env);
    // Nothing changed but the cache's machinery, set up for the copy.
    let state = |lines: Vec<String>| -> Vec<String> {
        (lines.into_iter())
            .filter(|l| !is_cache_machinery(l))
            .collect()
    };
    let (state, was) = (state(after), state(before));
    assert_eq!(state, was, "{}", r.stderr);
}

#[test]
fn a_private_file_stays_private_and_a_new_one_gets_the_default_mode() {
    let env = Env::new();
    installed_p1(&env);
    let (_, _, default_644, _) = env.default_modes();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    // New files: 0644 under the umask, as before.
    assert_eq!(mode(&user_settings(&env)), default_644);
    assert_eq!(mode(&installed_file(&env)), default_644);
    for f in [user_settings(&env), installed_file(&env), known_file(&env)] {
        chmod(&f, 0o600);
    }
    env.run(&["disable", "p1@m1"]).ok();
    env.run(&["install", "p1@m1"]).ok();
    env.run(&["marketplace", "update", "m1"]).ok();
    for f in [user_settings(&env), installed_file(&env), known_file(&env)] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[test]
fn the_owner_of_a_rewritten_file_is_kept_when_running_as_root() {
    let env = Env::new();
    installed_p1(&env);
    if !rustix::process::geteuid().is_root() {
        // Only root may give a file away; as anyone else the write keeps our owner.
        return;
    }
    let settings = user_settings(&env);
    std::os::unix::fs::chown(&settings, Some(4321), Some(4322)).unwrap();
    env.run(&["disable", "p1@m1"]).ok();
    let meta = fs::metadata(&settings).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
    assert_eq!(env.settings()["enabledPlugins"]["p1@m1"], json!(false));
}

/// A project's settings file comes with its repository: a link out of the project (here to the
/// user's own settings) is not written through, while a link inside the project is.
#[test]
fn project_settings_are_written_through_a_link_only_inside_the_project() {
    let env = Env::new();
    let dir = m1(&env);
    env.run(&["marketplace", "add", s(&dir)]).ok();
    let user = env.claude().join("settings.json");
    let user_before = fs::read(&user).unwrap();
    let project_settings = env.cwd.join(".claude/settings.json");
    fs::create_dir_all(project_settings.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&user, &project_settings).unwrap();
    // A link to the user settings file makes it the user settings file: no project here (as in
    // the home folder), refused before anything is done.
    let r = env.run(&["install", "p1@m1", "--scope", "project"]).fails();
    assert!(
        r.stderr.starts_with(&format!(
            "✘ --scope project: there is no project here: {} is your user settings file.",
            project_settings.display()
        )),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read(&user).unwrap(), user_before);
    // A link to any other file outside the project is refused when writing.
    let outside = env.fx.join("team-settings.json");
    write(&outside, "{}\n");
    fs::remove_file(&project_settings).unwrap();
    std::os::unix::fs::symlink(&outside, &project_settings).unwrap();
    let r = env.run(&["install", "p1@m1", "--scope", "project"]).fails();
    assert!(
        r.stderr.contains("outside the project") && r.stderr.contains("settings.json"),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read_to_string(&outside).unwrap(), "{}\n");
    assert_eq!(fs::read(&user).unwrap(), user_before);
    assert!(
        !env.plugins().join("installed_plugins.json").exists() || {
            let v: Value = serde_json::from_slice(
                &fs::read(env.plugins().join("installed_plugins.json")).unwrap(),
            )
            .unwrap();
            v["plugins"].get("p1@m1").is_none()
        }
    );

    // Inside the project: written through, the link kept.
    fs::remove_file(&project_settings).unwrap();
    write(&env.cwd.join("config/shared-settings.json"), "{}\n");
    std::os::unix::fs::symlink("../config/shared-settings.json", &project_settings).unwrap();
    env.run(&["install", "p1@m1", "--scope", "project"]).ok();
    assert!(project_settings.symlink_metadata().unwrap().is_symlink());
    let v: Value =
        serde_json::from_slice(&fs::read(env.cwd.join("config/shared-settings.json")).unwrap())
            .unwrap();
    assert_eq!(v["enabledPlugins"]["p1@m1"], json!(true));
}
