//! Crash tests: `kill -9` an install (issue 2) or an update (issue 5) of a 2,000-file plugin at
//! reproducible pseudo-random moments and check that what is left on disk is never a partial
//! installation. The update test's own states are described on
//! [`kill_9_during_update_keeps_a_complete_recorded_version`]; what follows is the install's.
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
//! Set `PLUGIN_CRASH_ITERATIONS` to run more (or fewer) kills in each of the two long tests.
//!
//! `link` and `unlink` are quick, so they are stopped at each step boundary instead
//! (`PLUGIN_CRASH_AT`, see [`link_and_unlink_recover_from_a_crash_at_every_step`]).
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{Env, join, marketplace, write};
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
    kill_after(env, &["install", ID], delay).is_some()
}

/// Start `plugin <args>`, SIGKILL it after `delay`. Returns its run time when it exited before.
fn kill_after(env: &Env, args: &[&str], delay: Duration) -> Option<Duration> {
    kill_when(env, args, delay, || false)
}

/// [`kill_after`], killing as soon as `now()` holds if that comes first.
fn kill_when(
    env: &Env,
    args: &[&str],
    delay: Duration,
    now: impl Fn() -> bool,
) -> Option<Duration> {
    let mut child = env
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn plugin");
    let start = Instant::now();
    // Polled rather than slept through, so that an early exit tells how long a run takes.
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return Some(start.elapsed());
        }
        let left = delay.saturating_sub(start.elapsed());
        if left.is_zero() || now() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_micros(500)));
    }
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    None
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

/// Every object of the content store holds the bytes its name says (a killed install never
/// leaves a partial or wrong object to be linked later).
fn assert_store_intact(env: &Env, ctx: &str) {
    let r = env.run(&["cache", "verify", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{ctx}: cache verify --json: {e}: {}", r.stdout));
    assert!(
        v["store"]["damaged"]
            .as_array()
            .is_none_or(|d| d.is_empty()),
        "{ctx}: {v}"
    );
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
    let plugin_dir = join(&env.plugins(), "cache/m/big");
    assert_version_folders_complete(env, ctx);

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

/// Every folder under `cache/m/big/` but staging ones is a complete version folder, whatever its
/// version.
#[track_caller]
fn assert_version_folders_complete(env: &Env, ctx: &str) {
    let plugin_dir = join(&env.plugins(), "cache/m/big");
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
        assert_complete_version(&e.path(), &name, ctx);
    }
}

#[track_caller]
fn assert_fully_installed(env: &Env, version: &str, ctx: &str) {
    assert_eq!(check_state(env, version, ctx), State::Installed, "{ctx}");
    let version_dir = join(&env.plugins(), "cache/m/big").join(version);
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

/// The identity (inode, file index) of a version folder (a publish renames a new folder over it).
fn folder_id(env: &Env, version: &str) -> Option<u64> {
    let dir = fs::File::open(join(&env.plugins(), "cache/m/big").join(version)).ok()?;
    plugin::platform::Stat::of_file(&dir).ok().map(|s| s.ino)
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

/// What each kill test starts from: the disk to itself, the time it got it, and marketplace `m`
/// with big at 1.0.0 (in the returned `Env`'s folder, kept while it lives).
fn big_fixture() -> (MutexGuard<'static, ()>, Instant, Env, PathBuf) {
    let disk = DISK.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let fixtures = Env::new();
    let mkt = big_marketplace(&fixtures.fx, "1.0.0");
    (disk, started, fixtures, mkt)
}

/// A HOME with marketplace `m` added.
fn home_with_marketplace(mkt: &Path) -> Env {
    let env = Env::new();
    env.run(&["marketplace", "add", mkt.to_str().unwrap()]).ok();
    env
}

#[test]
fn kill_9_during_install_never_leaves_a_partial_install() {
    let (_disk, started, _fixtures, mkt) = big_fixture();
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
        assert_store_intact(&env, &ctx);

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
    let (_disk, started, _fixtures, mkt) = big_fixture();
    let env = home_with_marketplace(&mkt);
    env.run(&["install", ID]).ok();
    assert_fully_installed(&env, "1.0.0", "1.0.0 installed");
    env.run(&["uninstall", ID]).ok();
    set_version(&mkt, "2.0.0");
    let full = timed_install(&env);
    assert_fully_installed(&env, "2.0.0", "2.0.0 installed");
    let old = join(&env.plugins(), "cache/m/big/1.0.0");
    let new = join(&env.plugins(), "cache/m/big/2.0.0");
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
        assert_store_intact(&env, &ctx);
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

/// What an update round does besides being killed. Two versions alternate instead of a rising
/// sequence: that covers both ways a new version is published while the cache stays two folders
/// (a rising sequence would only ever rename into new folders, and grow the cache every round).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    /// To the other version, whose folder is absent (removed, as Claude Code's cleanup removes an
    /// orphaned folder): the staged copy is renamed into a new folder.
    NewFolder,
    /// To the other version, whose orphaned folder is still there: the staged copy is exchanged
    /// with it and the displaced content removed.
    OverOrphan,
    /// `--force` at the same version: exchanged with the recorded folder itself.
    Force,
}

impl Round {
    /// In this order, so that an `OverOrphan` round finds the folder the `NewFolder` round before
    /// it left orphaned.
    const ALL: [Round; 3] = [Round::NewFolder, Round::OverOrphan, Round::Force];
}

/// One update round: its command, and the versions and content it goes between.
struct Plan {
    args: Vec<&'static str>,
    previous: String,
    target: String,
    /// What the plugin's first file holds this round. Every round changes it, so that every
    /// publish brings new content (a publish of the same content may keep the folder in place).
    stamp: String,
}

/// The file that carries [`Plan::stamp`].
const STAMPED: &str = "d00/f000.txt";

/// Where the kills of `update` landed, told from what each left.
#[derive(Default, Debug)]
struct UpdateTally {
    finished_before_kill: usize,
    /// Record and target folder untouched (resolving, staging, sealing).
    before_publish: usize,
    /// The target folder was created or replaced, the record not yet written.
    published_not_recorded: usize,
    /// Recorded; the displaced copy's removal or the previous folder's orphan mark still pending.
    recorded_cleanup_pending: usize,
    /// Recorded and cleaned up, killed before exiting.
    recorded_done: usize,
    /// Recorded before the kill, the previous folder not yet marked orphaned: the rerun
    /// (`current`) does not mark it either; Claude Code's startup sweep marks unreferenced folders.
    previous_left_unmarked: usize,
    json_temp_leftovers: usize,
}

/// Set up round `i`, of kind `round`, from the recorded version.
fn prepare_update_round(
    env: &Env,
    mkt: &Path,
    (i, round): (u64, Round),
    recorded: &str,
    refresh: bool,
) -> Plan {
    let target = match (round, recorded) {
        (Round::Force, _) => recorded,
        (_, "1.0.0") => "2.0.0",
        _ => "1.0.0",
    };
    set_version(mkt, target);
    let stamp = format!("round {i}\n");
    fs::write(mkt.join("plugins/big").join(STAMPED), &stamp).unwrap();
    let target_dir = join(&env.plugins(), "cache/m/big").join(target);
    match round {
        Round::NewFolder if target_dir.exists() => fs::remove_dir_all(&target_dir).unwrap(),
        Round::OverOrphan => assert!(
            target_dir.join(ORPHANED_AT).exists(),
            "round setup: {} is not an orphaned folder",
            target_dir.display()
        ),
        _ => {}
    }
    let mut args = vec!["update", ID, "--json"];
    if refresh {
        common::age_marketplaces(env);
    } else {
        args.push("--no-refresh");
    }
    if round == Round::Force {
        args.push("--force");
    }
    Plan {
        args,
        previous: recorded.to_string(),
        target: target.to_string(),
        stamp,
    }
}

/// Check what an update may leave at any moment: the state files parse, exactly one version of
/// big@m is recorded (the previous or the target one) and enabled, its folder is complete and
/// not marked orphaned, the previous folder is still there, and every version folder is
/// complete. Returns the record.
#[track_caller]
fn check_update_state(env: &Env, plan: &Plan, ctx: &str) -> Value {
    let (previous, target) = (plan.previous.as_str(), plan.target.as_str());
    assert_version_folders_complete(env, ctx);
    let parsed = |path: PathBuf| {
        read_json_if_exists(&path, ctx)
            .unwrap_or_else(|| panic!("{ctx}: {} is gone", path.display()))
    };
    parsed(env.plugins().join("known_marketplaces.json"));
    let settings = parsed(env.claude().join("settings.json"));
    assert_eq!(settings["enabledPlugins"][ID], true, "{ctx}: {settings}");
    let installed = parsed(env.plugins().join("installed_plugins.json"));
    let records = installed["plugins"][ID]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(records.len(), 1, "{ctx}: {installed}");
    let rec = records[0].clone();
    let version = rec["version"].as_str().unwrap_or_default();
    assert!(
        version == previous || version == target,
        "{ctx}: records {version}, expected {previous} or {target}"
    );
    let plugin_dir = join(&env.plugins(), "cache/m/big");
    let dir = plugin_dir.join(version);
    assert_eq!(rec["installPath"].as_str(), dir.to_str(), "{ctx}: {rec}");
    // Both folders were checked complete above, with every other one; here they must exist.
    assert!(dir.is_dir(), "{ctx}: recorded folder {version} is missing");
    assert!(
        !dir.join(ORPHANED_AT).exists(),
        "{ctx}: the recorded folder {version} is marked orphaned"
    );
    assert!(
        plugin_dir.join(previous).is_dir(),
        "{ctx}: the previously recorded folder {previous} is gone"
    );
    rec
}

/// Rerun the killed command unkilled: it must say `expected` and leave the target version
/// recorded with this round's content, sealed and verified, no staging folder, and (when
/// `mark_previous`) the previous folder, if another, marked orphaned. Returns how long the
/// command took.
#[track_caller]
fn assert_update_converges(
    env: &Env,
    plan: &Plan,
    expected: &str,
    mark_previous: bool,
    ctx: &str,
) -> Duration {
    let t = Instant::now();
    let out = env.run(&plan.args).ok().json();
    let took = t.elapsed();
    let row = &out["plugins"][0];
    assert_eq!(row["outcome"], expected, "{ctx}, rerun: {out}");
    assert_eq!(row["newVersion"], plan.target, "{ctx}, rerun: {out}");
    let ctx = format!("{ctx}, after rerun");
    let rec = check_update_state(env, plan, &ctx);
    assert_eq!(rec["version"], plan.target, "{ctx}: {rec}");
    let dir = join(&env.plugins(), "cache/m/big").join(&plan.target);
    let stamp = fs::read_to_string(dir.join(STAMPED)).unwrap();
    assert_eq!(stamp, plan.stamp, "{ctx}: not this round's content");
    let left = staging_leftovers(env);
    assert!(left.is_empty(), "{ctx}: staging leftovers {left:?}");
    if mark_previous && plan.previous != plan.target {
        let old = join(&env.plugins(), "cache/m/big").join(&plan.previous);
        assert!(
            old.join(ORPHANED_AT).exists(),
            "{ctx}: {} not marked orphaned",
            plan.previous
        );
    }
    env.run(&["cache", "verify", ID]).ok();
    took
}

/// Issue 5: `kill -9` an `update` of the 2,001-file plugin at reproducible pseudo-random moments
/// (delays in `[0, 1.2 × an unkilled update of the same kind]`). After every kill exactly one
/// version is recorded, its folder complete; the previously recorded folder is still there and
/// every version folder is complete; rerunning the command converges. Half of the rounds refresh
/// the marketplace first (a `known_marketplaces.json` rewrite the kill may hit), half run with
/// `--no-refresh`.
#[test]
fn kill_9_during_update_keeps_a_complete_recorded_version() {
    let (_disk, started, _fixtures, mkt) = big_fixture();
    let env = home_with_marketplace(&mkt);
    env.run(&["install", ID]).ok();
    let mut recorded = "1.0.0".to_string();

    // One unkilled round of each kind (refreshing) estimates its run time; kill delays are drawn
    // in [0, 1.2 × the estimate]. Other builders make the disk's speed drift, so a killed run that
    // exits early, or outlives the estimate, moves it halfway to what it showed. (Reruns are no
    // measure: they also sweep what the kill left.)
    let mut full = [Duration::ZERO; 3];
    for (k, round) in Round::ALL.into_iter().enumerate() {
        // Round numbers past the killed ones, so that stamps stay unique.
        let plan = prepare_update_round(&env, &mkt, (1000 + k as u64, round), &recorded, true);
        let ctx = format!(
            "unkilled {round:?} round, {} → {}",
            plan.previous, plan.target
        );
        full[k] = assert_update_converges(&env, &plan, "updated", true, &ctx);
        recorded = plan.target;
    }
    eprintln!(
        "crash (update): unkilled {:?} updates took {full:.2?}",
        Round::ALL
    );

    let mut tally = UpdateTally::default();
    let (mut killed_time, mut rerun_time) = (Duration::ZERO, Duration::ZERO);
    let plugin_dir = join(&env.plugins(), "cache/m/big");
    let n = iterations();
    let mut at_publish = 0;
    // Besides the `n` kills at random moments, every fifth round kills as soon as the target
    // folder is replaced: the short window between the publish and the record (a few ms out of
    // a second) is otherwise rarely hit.
    for i in 0..n + n / 4 {
        let targeted = i % 5 == 4;
        let k = i as usize % Round::ALL.len();
        let round = Round::ALL[k];
        let refresh = i % 2 == 1;
        let plan = prepare_update_round(&env, &mkt, (i, round), &recorded, refresh);
        let record_before = env.first_record(ID);
        let target_before = folder_id(&env, &plan.target);
        let t = Instant::now();
        let (finished, ctx) = if targeted {
            at_publish += 1;
            let published = || folder_id(&env, &plan.target) != target_before;
            let finished = kill_when(&env, &plan.args, full[k] * 3, published);
            (finished.is_some(), "killed once published".to_string())
        } else {
            let delay = Rng::new(2000 + i).duration_up_to(full[k].mul_f64(1.2));
            let finished = kill_after(&env, &plan.args, delay);
            match finished {
                Some(run) => full[k] = (full[k] + run) / 2,
                None if delay > full[k] => full[k] = (full[k] + delay) / 2,
                None => {}
            }
            (finished.is_some(), format!("killed after {delay:.2?}"))
        };
        killed_time += t.elapsed();
        let ctx = format!(
            "update round {i} ({round:?}, {} → {}, refresh {refresh}), {ctx}",
            plan.previous, plan.target
        );

        let rec = check_update_state(&env, &plan, &ctx);
        let recorded_by_kill = rec != record_before;
        let previous_unmarked = plan.previous != plan.target
            && !plugin_dir.join(&plan.previous).join(ORPHANED_AT).exists();
        let cleanup_pending = !staging_leftovers(&env).is_empty() || previous_unmarked;
        tally.json_temp_leftovers += json_temp_leftovers(&env);
        let landed = if finished {
            &mut tally.finished_before_kill
        } else if recorded_by_kill && cleanup_pending {
            &mut tally.recorded_cleanup_pending
        } else if recorded_by_kill {
            &mut tally.recorded_done
        } else if folder_id(&env, &plan.target) != target_before {
            &mut tally.published_not_recorded
        } else {
            &mut tally.before_publish
        };
        *landed += 1;

        // A version recorded by the killed run makes the rerun a no-op, which leaves the
        // previous folder as the kill did.
        let noop = recorded_by_kill && round != Round::Force;
        tally.previous_left_unmarked += usize::from(noop && previous_unmarked);
        let expected = if noop { "current" } else { "updated" };
        rerun_time += assert_update_converges(&env, &plan, expected, !noop, &ctx);
        recorded = plan.target;
    }
    eprintln!(
        "crash (update): {n} kills at random moments and {at_publish} once published, {:.1?} in \
         all ({killed_time:.1?} in killed updates, {rerun_time:.1?} in reruns, the rest in \
         checks): {tally:?}",
        started.elapsed()
    );
}

// ------------------------------------------------------------------ link / unlink
//
// `link` and `unlink` change several files and the cache one step after the other; each step
// boundary is a crash point (`PLUGIN_CRASH_AT=<n>` aborts the process at the n-th one, as a
// `kill -9` there would). After a crash at any of them, running the same command again must
// reach the state a complete run reaches, and `unlink` must reach the state before the link.

/// The state `link` and `unlink` change, normalised: timestamps and empty objects dropped (a
/// file that was never written and one emptied again compare equal).
fn link_state(env: &Env) -> Value {
    fn normalise(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, _| k != "installedAt" && k != "lastUpdated");
                for x in m.values_mut() {
                    normalise(x);
                }
                m.retain(|_, x| !x.is_null() && !matches!(x, Value::Object(o) if o.is_empty()));
            }
            Value::Array(a) => a.iter_mut().for_each(normalise),
            _ => {}
        }
    }
    fn listing(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            match fs::read_link(e.path()) {
                Ok(t) => out.push(format!("{name} -> {}", t.display())),
                Err(_) if e.path().is_dir() => {
                    out.push(format!("{name}/"));
                    listing(&e.path(), &format!("{name}/"), out);
                }
                Err(_) => out.push(format!("{name} {}", fs::read(e.path()).unwrap().len())),
            }
        }
    }
    let read = |p: PathBuf| read_json_if_exists(&p, "link state").unwrap_or(Value::Null);
    let plugins = env.plugins();
    let mut cache = Vec::new();
    listing(&plugins.join("cache"), "", &mut cache);
    cache.sort();
    let links = read(plugins.join(".plugin-links.json"));
    let mut state = serde_json::json!({
        "installed": read(plugins.join("installed_plugins.json")),
        "known": read(plugins.join("known_marketplaces.json")),
        "user": read(env.claude().join("settings.json")),
        "local": read(env.cwd.join(".claude/settings.local.json")),
        "links": links.get("links").cloned().unwrap_or(serde_json::json!([])),
        "devCatalog": read(plugins.join("marketplaces/dev/.claude-plugin/marketplace.json")),
        "cache": cache,
    });
    normalise(&mut state);
    state
}

/// Run `plugin <op>` crashing at step 1, 2, … until a run completes. After each crash, `plugin
/// <recover>` must succeed and leave `want`; `reset` then brings back the state `op` starts
/// from. Returns the number of steps that crashed.
fn crash_at_each_step(
    env: &Env,
    op: &[&str],
    recover: &[&str],
    want: &Value,
    reset: &dyn Fn(&Env),
) -> u32 {
    let start = link_state(env);
    for n in 1..100u32 {
        let out = env
            .command(op)
            .env("PLUGIN_CRASH_AT", n.to_string())
            .output()
            .expect("run plugin");
        if out.status.success() {
            return n - 1;
        }
        assert_eq!(
            out.status.code(),
            None,
            "{op:?} with a crash at step {n} failed instead: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        env.run(recover).ok();
        assert_eq!(
            &link_state(env),
            want,
            "{op:?} crashed at step {n}, then {recover:?}"
        );
        reset(env);
        assert_eq!(link_state(env), start, "reset after step {n} of {op:?}");
    }
    panic!("{op:?} never completed");
}

#[test]
fn link_and_unlink_recover_from_a_crash_at_every_step() {
    let env = Env::new();
    if common::no_links(&env) {
        return;
    }
    let m = common::m1(&env);
    let s = |p: &Path| p.to_str().expect("utf-8").to_string();
    env.run(&["marketplace", "add", &s(&m)]).ok();
    env.run(&["install", "p1@m1"]).ok();
    let co = env.fx.join("dev/p1");
    common::plugin(&co, "p1", Some("1.0.0"));
    let tool = env.fx.join("dev/tool");
    common::plugin(&tool, "tool", Some("0.3.0"));
    let (co_s, tool_s) = (s(&co), s(&tool));
    let link_p1: &[&str] = &["link", &co_s, "--as", "p1@m1", "--force"];
    let link_tool: &[&str] = &["link", &tool_s, "--scope", "local"];
    let unlink_p1: &[&str] = &["unlink", "p1@m1"];
    let unlink_tool: &[&str] = &["unlink", "tool", "--scope", "local"];

    let installed = link_state(&env);
    env.run(link_p1).ok();
    let linked = link_state(&env);
    env.run(link_tool).ok();
    let both = link_state(&env);
    env.run(unlink_tool).ok();
    assert_eq!(link_state(&env), linked);
    env.run(unlink_p1).ok();
    assert_eq!(link_state(&env), installed);

    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        move |e: &Env| {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            e.run(&a).ok();
        }
    };
    // A completed run leaves the state after the command; each scenario starts from its own.
    let mut steps = Vec::new();
    // Link over an installed plugin (its folder is moved aside), then a `dev` link: unlink
    // puts back the state before; linking again finishes the link.
    steps.push(crash_at_each_step(
        &env,
        link_p1,
        unlink_p1,
        &installed,
        &|_| {},
    ));
    env.run(unlink_p1).ok();
    steps.push(crash_at_each_step(
        &env,
        link_p1,
        link_p1,
        &linked,
        &run(unlink_p1),
    ));
    steps.push(crash_at_each_step(
        &env,
        link_tool,
        unlink_tool,
        &linked,
        &|_| {},
    ));
    env.run(unlink_tool).ok();
    steps.push(crash_at_each_step(
        &env,
        link_tool,
        link_tool,
        &both,
        &run(unlink_tool),
    ));
    // Unlink, crashed and run again.
    steps.push(crash_at_each_step(
        &env,
        unlink_tool,
        unlink_tool,
        &linked,
        &run(link_tool),
    ));
    steps.push(crash_at_each_step(
        &env,
        unlink_p1,
        unlink_p1,
        &installed,
        &run(link_p1),
    ));
    assert_eq!(link_state(&env), installed);

    // Linking again at another version: the earlier link goes and the installed folder it had
    // moved aside comes back; unlink after a crash still restores the installed plugin.
    let first_link = {
        let co = co.clone();
        let link = run(link_p1);
        move |e: &Env| {
            // Not linked any more when the recovery was an unlink.
            let _ = e.command(&["unlink", "p1@m1"]).output();
            common::plugin(&co, "p1", Some("1.0.0"));
            link(e);
            common::plugin(&co, "p1", Some("2.0.0"));
        }
    };
    first_link(&env);
    env.run(link_p1).ok();
    let relinked = link_state(&env);
    first_link(&env);
    steps.push(crash_at_each_step(
        &env,
        link_p1,
        link_p1,
        &relinked,
        &first_link,
    ));
    first_link(&env);
    steps.push(crash_at_each_step(
        &env,
        link_p1,
        unlink_p1,
        &installed,
        &first_link,
    ));
    assert!(
        steps.iter().all(|n| *n >= 2),
        "crash points reached: {steps:?}"
    );
}
