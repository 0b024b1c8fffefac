//! Crash test (issue 2): `kill -9` an install of a 2,000-file plugin at reproducible pseudo-random
//! moments and check that what is left on disk is never a partial installation.
//!
//! After every kill the state must be one of:
//! * **not installed**: no record in `installed_plugins.json`, no `enabledPlugins` entry;
//! * **installed**: record, complete version folder, `enabledPlugins` entry `true`;
//! * **recorded, not yet enabled**: the kill landed between the write of `installed_plugins.json`
//!   and the write of `settings.json` (two files cannot be replaced in one atomic step). The
//!   version folder is complete; a rerun of `install` must finish the job.
//!
//! In every state each version folder under `cache/m/big/` carries a valid `.plugin-ok` marker
//! whose `files` count matches the folder; `.plugin-staging-*` folders may be left by the killed
//! process, and must be gone after the next complete install.
//!
//! Kill delays are drawn from a seeded xorshift per iteration in `[0, 1.2 × a measured install]`,
//! so the sequence of fractions is reproducible (the absolute delays follow the machine's speed).
//!
//! Timing: creating or deleting a file costs about 0.5–1 ms on the CI disk, and an iteration
//! creates and later deletes about 2,000 files on average, so 50 iterations take 2–3 minutes.
//! Set `PLUGIN_CRASH_ITERATIONS` to run more (or fewer).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{Env, marketplace, write};
use serde_json::Value;

const ID: &str = "big@m";
const DIRS: usize = 20;
const FILES_PER_DIR: usize = 100;
/// 2,000 files plus `.claude-plugin/plugin.json`.
const PLUGIN_FILES: u64 = (DIRS * FILES_PER_DIR) as u64 + 1;
const MARKER: &str = ".plugin-ok";
const LISTING: &str = ".plugin-files";
const ORPHANED_AT: &str = ".orphaned_at";
const STAGING_PREFIX: &str = ".plugin-staging-";

/// xorshift64*, seeded through splitmix64 so that consecutive seeds give unrelated streams.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `[0, max]`.
    fn duration_up_to(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros() as u64;
        Duration::from_micros(self.next() % (micros + 1))
    }
}

/// Marketplace `m` in `<dir>/m` with plugin `big` (2,000 small files in 20 folders).
fn big_marketplace(dir: &Path, version: &str) -> PathBuf {
    let root = dir.join("m");
    let plugin = root.join("plugins/big");
    for d in 0..DIRS {
        let sub = plugin.join(format!("d{d:02}"));
        fs::create_dir_all(&sub).unwrap();
        for f in 0..FILES_PER_DIR {
            fs::write(
                sub.join(format!("f{f:03}.txt")),
                format!("dir {d} file {f}\n"),
            )
            .unwrap();
        }
    }
    set_version(&root, version);
    marketplace(&root, "m", r#"[{"name":"big","source":"./plugins/big"}]"#);
    root
}

fn set_version(marketplace_root: &Path, version: &str) {
    write(
        &marketplace_root.join("plugins/big/.claude-plugin/plugin.json"),
        &serde_json::json!({"name": "big", "version": version}).to_string(),
    );
}

fn timed_install(env: &Env) -> Duration {
    let start = Instant::now();
    env.run(&["install", ID]).ok();
    start.elapsed()
}

/// Start `plugin install big@m`, SIGKILL it after `delay`. Returns whether it had already exited.
fn kill_install_after(env: &Env, delay: Duration) -> bool {
    let mut child = env
        .command(&["install", ID])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn plugin");
    std::thread::sleep(delay);
    let finished = child.try_wait().expect("try_wait").is_some();
    if !finished {
        child.kill().expect("kill -9");
    }
    child.wait().expect("wait");
    finished
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotInstalled,
    Installed,
    /// Killed between the `installed_plugins.json` and the `settings.json` write.
    RecordedNotEnabled,
}

/// Regular files under `dir`, as paths relative to it.
fn regular_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(root, &e.path(), out);
            } else if t.is_file() {
                out.push(e.path().strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// Panic unless `dir` is a complete version folder of `version`: a marker whose `files` equals
/// the regular files beside it, and exactly the plugin's 2,001 files.
#[track_caller]
fn assert_complete_version(dir: &Path, version: &str, ctx: &str) {
    let marker_text = fs::read_to_string(dir.join(MARKER)).unwrap_or_else(|e| {
        panic!(
            "{ctx}: version folder {} has no marker ({e})",
            dir.display()
        )
    });
    let marker: Value = serde_json::from_str(&marker_text).unwrap_or_else(|e| {
        panic!(
            "{ctx}: bad marker in {} ({e}): {marker_text}",
            dir.display()
        )
    });
    assert_eq!(marker["version"], version, "{ctx}: marker {marker_text}");
    let files = regular_files(dir);
    // `.orphaned_at` is Claude Code's, added after publication by an uninstall.
    let content = files
        .iter()
        .filter(|p| {
            *p != Path::new(MARKER) && *p != Path::new(LISTING) && *p != Path::new(ORPHANED_AT)
        })
        .count() as u64;
    assert_eq!(
        marker["files"].as_u64(),
        Some(content),
        "{ctx}: marker of {} says {marker_text}, folder holds {content} files",
        dir.display()
    );
    assert_eq!(
        content,
        PLUGIN_FILES,
        "{ctx}: {} is incomplete",
        dir.display()
    );
    let manifest = fs::read_to_string(dir.join(".claude-plugin/plugin.json")).unwrap();
    assert!(
        manifest.contains(&format!("\"{version}\"")),
        "{ctx}: {manifest}"
    );
    common::assert_sealed(dir);
}

fn read_json_if_exists(path: &Path, ctx: &str) -> Option<Value> {
    let text = fs::read_to_string(path).ok()?;
    Some(
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("{ctx}: {} is not valid JSON ({e}): {text}", path.display())
        }),
    )
}

/// Staging folders under `cache/` (any marketplace, any plugin).
fn staging_leftovers(env: &Env) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let cache = env.plugins().join("cache");
    for level1 in fs::read_dir(&cache).into_iter().flatten().flatten() {
        for level2 in fs::read_dir(level1.path()).into_iter().flatten().flatten() {
            for e in fs::read_dir(level2.path()).into_iter().flatten().flatten() {
                if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                    out.push(e.path());
                }
            }
        }
    }
    out
}

/// Temporary files of atomic JSON writes (`.<file>.plugin-tmp-<pid>-<hex>`) left by a killed process.
fn json_temp_leftovers(env: &Env) -> usize {
    [env.claude(), env.plugins()]
        .iter()
        .flat_map(|d| fs::read_dir(d).into_iter().flatten().flatten())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains(".json.plugin-tmp-")
        })
        .count()
}

/// Check the invariants and classify the state. Every version folder present must be complete;
/// `current` is the version the install was publishing (the one a record may point to).
#[track_caller]
fn check_state(env: &Env, current: &str, ctx: &str) -> State {
    let plugin_dir = env.plugins().join("cache/m/big");
    for e in fs::read_dir(&plugin_dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(STAGING_PREFIX) {
            continue;
        }
        assert!(
            e.file_type().unwrap().is_dir(),
            "{ctx}: unexpected file {name} in {}",
            plugin_dir.display()
        );
        // Every version folder, whatever its version, must be complete.
        assert_complete_version(&e.path(), &name, ctx);
    }

    let installed = read_json_if_exists(&env.plugins().join("installed_plugins.json"), ctx);
    let settings = read_json_if_exists(&env.claude().join("settings.json"), ctx);
    let records = installed
        .as_ref()
        .and_then(|v| v["plugins"].get(ID))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let enabled = settings
        .as_ref()
        .and_then(|s| s["enabledPlugins"].get(ID))
        .cloned();

    if records.is_empty() {
        // installed_plugins.json is written before settings.json, so no enablement either.
        assert_eq!(
            enabled, None,
            "{ctx}: enabled without a record\nsettings: {settings:?}"
        );
        return State::NotInstalled;
    }
    assert_eq!(records.len(), 1, "{ctx}: {installed:?}");
    let rec = &records[0];
    let version_dir = plugin_dir.join(current);
    assert_eq!(rec["scope"], "user", "{ctx}: {rec}");
    assert_eq!(rec["version"], current, "{ctx}: {rec}");
    assert_eq!(
        rec["installPath"].as_str(),
        Some(version_dir.to_str().unwrap()),
        "{ctx}: {rec}"
    );
    assert!(
        version_dir.is_dir(),
        "{ctx}: record for a missing folder {}",
        version_dir.display()
    );
    assert_complete_version(&version_dir, current, ctx);
    match enabled {
        Some(Value::Bool(true)) => State::Installed,
        None => State::RecordedNotEnabled,
        other => panic!("{ctx}: enabledPlugins[{ID}] = {other:?}"),
    }
}

#[track_caller]
fn assert_fully_installed(env: &Env, version: &str, ctx: &str) {
    assert_eq!(check_state(env, version, ctx), State::Installed, "{ctx}");
    let version_dir = env.plugins().join("cache/m/big").join(version);
    assert!(
        !version_dir.join(ORPHANED_AT).exists(),
        "{ctx}: installed folder is marked orphaned"
    );
    let left = staging_leftovers(env);
    assert!(left.is_empty(), "{ctx}: staging leftovers {left:?}");
}

#[derive(Default, Debug)]
struct Tally {
    not_installed: usize,
    not_installed_with_staging: usize,
    /// Killed after the new folder was renamed into place, before it was recorded.
    published_not_recorded: usize,
    installed: usize,
    recorded_not_enabled: usize,
    finished_before_kill: usize,
    json_temp_leftovers: usize,
}

impl Tally {
    /// `before`: the identity of the version folder before the killed install started.
    fn add(&mut self, env: &Env, version: &str, before: Option<u64>, state: State, finished: bool) {
        self.finished_before_kill += usize::from(finished);
        self.json_temp_leftovers += json_temp_leftovers(env);
        let replaced = folder_id(env, version) != before;
        match state {
            State::NotInstalled if replaced => self.published_not_recorded += 1,
            State::NotInstalled if staging_leftovers(env).is_empty() => self.not_installed += 1,
            State::NotInstalled => self.not_installed_with_staging += 1,
            State::Installed => self.installed += 1,
            State::RecordedNotEnabled => self.recorded_not_enabled += 1,
        }
    }
}

/// The inode of a version folder (a publish renames a new folder over it).
fn folder_id(env: &Env, version: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(env.plugins().join("cache/m/big").join(version))
        .ok()
        .map(|m| m.ino())
}

/// The two kill tests each keep the disk busy; run them one after the other so that neither
/// skews the other's measured install time (and so its kill delays).
static DISK: Mutex<()> = Mutex::new(());

fn iterations() -> u64 {
    std::env::var("PLUGIN_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// A HOME with marketplace `m` added.
fn home_with_marketplace(mkt: &Path) -> Env {
    let env = Env::new();
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    env
}

#[test]
fn kill_9_during_install_never_leaves_a_partial_install() {
    let _disk = DISK.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let fixtures = Env::new();
    let mkt = big_marketplace(&fixtures.fx, "1.0.0");
    let fixture_time = started.elapsed();

    // Measure both paths: a first install (rename into a new folder), and a reinstall after
    // uninstall (atomic exchange with the orphaned folder, then removal of the old content),
    // which is what most iterations below do.
    let mut env = home_with_marketplace(&mkt);
    let fresh = timed_install(&env);
    assert_fully_installed(&env, "1.0.0", "first install");
    env.run(&["uninstall", ID]).ok();
    let over_orphan = timed_install(&env);
    assert_fully_installed(&env, "1.0.0", "reinstall");
    env.run(&["uninstall", ID]).ok();
    let max_delay = fresh.max(over_orphan).mul_f64(1.2);
    eprintln!(
        "crash: fixture {fixture_time:.2?}; install {fresh:.2?} (new folder), {over_orphan:.2?} \
         (over orphaned folder); kill delays in [0, {max_delay:.2?}]"
    );

    let mut tally = Tally::default();
    let (mut killed_time, mut rerun_time, mut new_home_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let n = iterations();
    for i in 0..n {
        // Every tenth iteration starts from a fresh HOME, so the first-publish path (no previous
        // version folder) is killed too, not only the exchange path.
        if i % 10 == 9 {
            let t = Instant::now();
            env = home_with_marketplace(&mkt);
            new_home_time += t.elapsed();
        }
        let mut rng = Rng::new(i);
        let delay = rng.duration_up_to(max_delay);
        let before = folder_id(&env, "1.0.0");
        let t = Instant::now();
        let finished = kill_install_after(&env, delay);
        killed_time += t.elapsed();
        let ctx = format!("iteration {i}, killed after {delay:.2?}");
        let state = check_state(&env, "1.0.0", &ctx);
        tally.add(&env, "1.0.0", before, state, finished);

        let mut recorded = state != State::NotInstalled;
        if i % 2 == 1 || state == State::RecordedNotEnabled {
            rerun_time += timed_install(&env);
            assert_fully_installed(&env, "1.0.0", &format!("{ctx}, after rerun"));
            recorded = true;
        }
        if recorded {
            env.run(&["uninstall", ID]).ok();
            assert_eq!(
                check_state(&env, "1.0.0", &format!("{ctx}, after uninstall")),
                State::NotInstalled
            );
        }
    }
    eprintln!(
        "crash: {n} kills, {:.1?} in all ({killed_time:.1?} in killed installs, {rerun_time:.1?} \
         in reruns, {new_home_time:.1?} replacing HOMEs): {tally:?}",
        started.elapsed()
    );
}

/// Kill an install of version 2.0.0 while 1.0.0's folder is in the cache (orphaned by an
/// uninstall): the old folder must stay complete, the new one must be absent or complete.
#[test]
fn kill_9_during_install_of_a_new_version_keeps_the_old_one() {
    let _disk = DISK.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let fixtures = Env::new();
    let mkt = big_marketplace(&fixtures.fx, "1.0.0");
    let env = home_with_marketplace(&mkt);
    env.run(&["install", ID]).ok();
    assert_fully_installed(&env, "1.0.0", "1.0.0 installed");
    env.run(&["uninstall", ID]).ok();
    set_version(&mkt, "2.0.0");
    let full = timed_install(&env);
    assert_fully_installed(&env, "2.0.0", "2.0.0 installed");
    let old = env.plugins().join("cache/m/big/1.0.0");
    let new = env.plugins().join("cache/m/big/2.0.0");
    let max_delay = full.mul_f64(1.2);

    let mut tally = Tally::default();
    let n = 4;
    for i in 0..n {
        env.run(&["uninstall", ID]).ok();
        fs::remove_dir_all(&new).unwrap();
        let delay = Rng::new(1000 + i).duration_up_to(max_delay);
        let finished = kill_install_after(&env, delay);
        let ctx = format!("new version, iteration {i}, killed after {delay:.2?}");
        let state = check_state(&env, "2.0.0", &ctx);
        tally.add(&env, "2.0.0", None, state, finished);
        assert_complete_version(&old, "1.0.0", &ctx);
        assert!(
            old.join(ORPHANED_AT).exists(),
            "{ctx}: old folder lost its orphan mark"
        );
        env.run(&["install", ID]).ok();
        assert_fully_installed(&env, "2.0.0", &format!("{ctx}, after rerun"));
        assert_complete_version(&old, "1.0.0", &ctx);
    }
    eprintln!(
        "crash (new version): {n} kills in {:.1?}: {tally:?}",
        started.elapsed()
    );
}

/// The state a kill between the two state-file writes leaves (recorded, folder complete, not in
/// `enabledPlugins`) is repaired by running the install again.
#[test]
fn rerun_enables_a_recorded_but_not_enabled_install() {
    let env = Env::new();
    let mkt = common::m1(&env);
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let path = env.claude().join("settings.json");
    let mut settings = env.settings();
    settings["enabledPlugins"]
        .as_object_mut()
        .unwrap()
        .remove("p1@m1");
    fs::write(&path, serde_json::to_string_pretty(&settings).unwrap()).unwrap();

    env.run(&["install", "p1@m1"]).ok();
    assert_eq!(env.settings()["enabledPlugins"]["p1@m1"], true);
    let records = env.installed()["plugins"]["p1@m1"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(records, 1);
}
