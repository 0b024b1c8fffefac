//! Fuzzing of every parser that reads untrusted bytes, on stable Rust with no extra crate: seeds
//! (real files from testdata/ and hand-written hostile ones) mutated by `mutate::Mutator`, each
//! input run through the library's real entry point. Every target asserts that nothing panics,
//! that every rejection is the parser's typed error with a message naming what it read, and the
//! target's own invariants (nothing written outside an extraction folder, a state file we
//! accept can be written back and read again unchanged, ...).
//!
//! Bounded for CI: each target stops after `PLUGIN_FUZZ_ITERATIONS` inputs (default 3000) or
//! `PLUGIN_FUZZ_SECS` seconds (default 3), whichever comes first. `PLUGIN_FUZZ_SEED` changes the
//! inputs (default: fixed, so CI is reproducible); `PLUGIN_FUZZ_REPLAY=<n>` runs only input `n`.
//! A failing (or replayed) input is saved under `target/tmp/fuzz-crashes/`. `scripts/fuzz.sh` does a long run.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod mutate;

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use fastrand::Rng;
use mutate::{JSON_TOKENS, Mutator};
use serde_json::json;

use plugin::locations::Scope;
use plugin::marketplace::{Marketplace, MarketplaceSource, relative_plugin_dir};
use plugin::schema::PluginSource;

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

struct Budget {
    iterations: u64,
    time: Duration,
    seed: u64,
    replay: Option<u64>,
}

fn budget() -> Budget {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let number = |k: &str| {
        var(k).map(|v| {
            let v = v.trim_start_matches("0x");
            u64::from_str_radix(
                v,
                if var(k).is_some_and(|s| s.starts_with("0x")) {
                    16
                } else {
                    10
                },
            )
            .unwrap_or_else(|_| panic!("{k} must be a number"))
        })
    };
    let secs = var("PLUGIN_FUZZ_SECS")
        .map(|v| {
            v.parse::<f64>()
                .unwrap_or_else(|_| panic!("PLUGIN_FUZZ_SECS must be a number"))
        })
        .unwrap_or(3.0);
    Budget {
        iterations: number("PLUGIN_FUZZ_ITERATIONS").unwrap_or(3000),
        time: Duration::from_secs_f64(secs),
        seed: number("PLUGIN_FUZZ_SEED").unwrap_or(0x5eed),
        replay: number("PLUGIN_FUZZ_REPLAY"),
    }
}

/// Run `check` on inputs made by `generate` within the budget. Input `n` depends only on the
/// seed, the target's name and `n`, so any input can be made again alone.
fn fuzz(name: &str, mut generate: impl FnMut(&mut Rng) -> Vec<u8>, mut check: impl FnMut(&[u8])) {
    let b = budget();
    let base = b.seed
        ^ name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, c| {
            (h ^ c as u64).wrapping_mul(0x100_0000_01b3)
        });
    let started = Instant::now();
    let range = match b.replay {
        Some(n) => n..n + 1,
        None => 0..b.iterations,
    };
    ACCEPTED.set(0);
    let mut done = 0u64;
    // (input, time, length) of the slowest input: a parser that can be made slow is a finding.
    let mut slowest = (0u64, Duration::ZERO, 0usize);
    for n in range {
        if b.replay.is_none() && started.elapsed() >= b.time {
            break;
        }
        let one = Instant::now();
        let mut rng = Rng::with_seed(base ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let input = generate(&mut rng);
        let saved = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("fuzz-crashes")
            .join(format!("{name}-{:#x}-{n}", b.seed));
        if b.replay.is_some() {
            // A replayed input is kept for a look at it.
            let _ = fs::create_dir_all(saved.parent().unwrap())
                .and_then(|()| fs::write(&saved, &input));
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        let took = one.elapsed();
        if took > slowest.1 {
            slowest = (n, took, input.len());
        }
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let _ = fs::create_dir_all(saved.parent().unwrap())
                .and_then(|()| fs::write(&saved, &input));
            panic!(
                "fuzz target {name} failed on input {n}: {message}\n  input saved to {}\n  replay: PLUGIN_FUZZ_SEED={:#x} PLUGIN_FUZZ_REPLAY={n} cargo test --test fuzz {name}",
                saved.display(),
                b.seed
            );
        }
        done += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuzz {name}: {done} inputs ({} accepted) in {secs:.1} s (seed {:#x}); slowest: input {} ({} bytes) in {} ms",
        ACCEPTED.get(),
        b.seed,
        slowest.0,
        slowest.2,
        slowest.1.as_millis()
    );
    // A target that cannot get through a few dozen inputs tests nothing.
    assert!(
        b.replay.is_some() || done >= 30.min(b.iterations),
        "{name}: only {done} inputs in {secs:.1} s"
    );
}

thread_local! {
    /// Inputs the target's parser accepted (the rest were rejected): the summary shows how many
    /// inputs got past the syntax into the code behind it.
    static ACCEPTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Count an accepted input.
fn accepted<T>(t: T) -> T {
    ACCEPTED.set(ACCEPTED.get() + 1);
    t
}

/// A rejection: the parser's typed error, whose message is not empty and names `what` (the
/// file or URL it read, or the package), so a user can tell what to fix.
fn assert_rejection(e: &dyn std::error::Error, what: &str) {
    assert_rejection_naming(e, &[what]);
}

/// A rejection whose message names one of `what`.
fn assert_rejection_naming(e: &dyn std::error::Error, what: &[&str]) {
    let text = e.to_string();
    assert!(!text.trim().is_empty(), "an error with no message: {e:?}");
    assert!(
        what.iter().any(|w| text.contains(w)),
        "the error names none of {what:?}: {text}"
    );
}

fn text_of(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

/// Files under `dir` (testdata/…) named `name`, at most `max`, spread over the sorted list.
fn seed_files(dir: &str, keep: impl Fn(&Path) -> bool, max: usize) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() && keep(&p) => found.push(p),
                _ => {}
            }
        }
    }
    found.sort();
    found.retain(|p| fs::metadata(p).is_ok_and(|m| m.len() <= 24 * 1024));
    let step = found.len().div_ceil(max).max(1);
    found
        .iter()
        .step_by(step)
        .filter_map(|p| fs::read(p).ok())
        .collect()
}

fn named(name: &'static str) -> impl Fn(&Path) -> bool {
    move |p| p.file_name().is_some_and(|n| n == name)
}

fn with(mut seeds: Vec<Vec<u8>>, extra: &[&str]) -> Vec<Vec<u8>> {
    seeds.extend(extra.iter().map(|s| s.as_bytes().to_vec()));
    seeds
}

/// Paths of everything under `dir` (not following links).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

fn has_parent_dir(p: &Path) -> bool {
    p.components().any(|c| c == Component::ParentDir)
}

// ---------------------------------------------------------------------------------------------
// JSON: marketplace.json, plugin.json, the state files, managed settings, registry answers
// ---------------------------------------------------------------------------------------------

const CATALOG_URL: &str = "https://catalog.example/marketplace.json";

#[test]
fn marketplace_json() {
    let seeds = with(
        seed_files("testdata", named("marketplace.json"), 24),
        &[
            r#"{"name":"m","owner":{"name":"o"},"metadata":{"pluginRoot":"./plugins"},"plugins":[{"name":"a","source":"./a"},{"name":"b","source":"b"},{"name":"c","source":{"source":"github","repo":"o/r","ref":"main","sha":"0123456789abcdef0123456789abcdef01234567"}},{"name":"d","source":{"source":"git-subdir","url":"https://h/r.git","path":"p"}},{"name":"e","source":{"source":"npm","package":"@s/p","version":"^1"}},{"name":"f","source":{"source":"pip","package":"p","registry":"https://i/simple/"}},{"name":"g","source":{"source":"archive","url":"https://h/p.zip","sha256":"00"}},{"name":"h","source":{"source":"url","url":"https://h/r.git"}}],"renames":{"old":"a","gone":null}}"#,
        ],
    );
    let m = Mutator::new(seeds, JSON_TOKENS);
    let root = tempfile::tempdir().unwrap();
    fuzz(
        "marketplace_json",
        |rng| m.json(rng),
        |input| {
            let catalog = match Marketplace::from_catalog_bytes(CATALOG_URL, input) {
                Ok(c) => accepted(c),
                Err(e) => return assert_rejection(&e, CATALOG_URL),
            };
            let manifest = &catalog.manifest;
            let listed: std::collections::HashSet<&str> =
                manifest.entries.iter().map(|e| e.name.as_str()).collect();
            for e in &manifest.entries {
                let _ = (
                    e.source.kind(),
                    e.source.pinned_sha(),
                    manifest.entries_named(&e.name).count(),
                );
                let _ = manifest.renames.resolve(&e.name, &listed);
                if e.source.is_relative() {
                    // The folder a relative source names never leaves the marketplace.
                    if let Ok(dir) =
                        relative_plugin_dir(root.path(), manifest.plugin_root.as_deref(), &e.source)
                    {
                        let inside = dir.strip_prefix(root.path());
                        assert!(
                            inside.is_ok_and(|rel| !has_parent_dir(rel)),
                            "{:?} resolves outside the marketplace: {}",
                            e.source,
                            dir.display()
                        );
                    }
                }
                match &e.source {
                    PluginSource::Github { repo, .. } => {
                        drop(plugin::git::GitUrl::github(repo, None))
                    }
                    PluginSource::GitUrl { url, .. } | PluginSource::GitSubdir { url, .. } => {
                        drop(plugin::git::GitUrl::parse(url))
                    }
                    PluginSource::Archive { url, .. } => {
                        drop(plugin::source::archive::check_url(url))
                    }
                    _ => {}
                }
            }
            for p in &manifest.problems {
                assert!(!p.message.is_empty(), "an entry problem with no message");
            }
        },
    );
}

#[test]
fn plugin_json() {
    let seeds = with(
        seed_files("testdata", named("plugin.json"), 32),
        &[
            r#"{"name":"p","version":"1.0.0","description":"d","author":{"name":"a","email":"a@b"},"commands":["./c.md"],"agents":"./agents/","hooks":{"PreToolUse":[]},"mcpServers":{"s":{"command":"x"}},"keywords":["k"]}"#,
        ],
    );
    let m = Mutator::new(seeds, JSON_TOKENS);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plugin.json");
    fuzz(
        "plugin_json",
        |rng| m.json(rng),
        |input| {
            fs::write(&file, input).unwrap();
            match plugin::manifest::read_manifest_file(file.clone(), "fuzzed") {
                Ok(manifest) => assert_eq!(accepted(manifest).path, file),
                Err(e) => assert_rejection(&e, &file.display().to_string()),
            }
        },
    );
}

/// The hand-written state files that seed the state targets: the shapes Claude Code writes.
const SETTINGS_SEEDS: &[&str] = &[
    r#"{"enabledPlugins":{"a@m":true,"b@m":false},"extraKnownMarketplaces":{"m":{"source":{"source":"github","repo":"o/r"}},"d":{"source":{"source":"directory","path":"/tmp/x"}}},"theme":"dark"}"#,
    r#"{"additionalMarketplaces":{"u":{"source":{"source":"url","url":"https://h/m.json"}},"g":{"source":{"source":"git","url":"https://h/r.git","ref":"v1"}}},"enabledPlugins":{}}"#,
    "{\n  \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n  \"enabledPlugins\": {\"x@y\": true}\n}\n",
];

#[test]
fn settings_json() {
    let seeds = with(
        seed_files(
            "testdata",
            |p| {
                p.file_name().is_some_and(|n| {
                    n.to_string_lossy().starts_with("settings")
                        && n.to_string_lossy().ends_with(".json")
                })
            },
            8,
        ),
        SETTINGS_SEEDS,
    );
    let m = Mutator::new(seeds, JSON_TOKENS);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    let named_file = file.display().to_string();
    fuzz(
        "settings_json",
        |rng| m.json(rng),
        |input| {
            fs::write(&file, input).unwrap();
            let mut settings = match plugin::state::SettingsFile::read(Scope::User, &file) {
                Ok(s) => accepted(s),
                Err(e) => {
                    assert_eq!(
                        fs::read(&file).unwrap(),
                        input,
                        "a refused file was changed"
                    );
                    return assert_rejection(&e, &named_file);
                }
            };
            let _ = (settings.enabled_plugins(), settings.enabled_plugin_keys());
            for v in settings
                .declared_marketplaces()
                .into_iter()
                .flat_map(|m| m.values())
            {
                let _ = v.get("source").and_then(MarketplaceSource::from_json);
            }
            let layer = plugin::state::effective::Layer {
                scope: Scope::User,
                doc: settings.doc(),
            };
            if let Err(e) = plugin::state::effective::EffectiveSettings::merge(&[layer]) {
                return assert_rejection(&e, &named_file);
            }
            // What we accept we can change, write and read back.
            settings.set_enabled("fuzz@market", true);
            settings
                .declare_marketplace("fuzz-market", &json!({"source": "github", "repo": "o/r"}));
            let mut tx = plugin::state::Transaction::new();
            settings.write(&mut tx).unwrap();
            tx.commit();
            let again = plugin::state::SettingsFile::read(Scope::User, &file).unwrap();
            assert_eq!(
                again.doc().map,
                settings.doc().map,
                "the rewritten file reads back different"
            );
            assert_eq!(again.enabled("fuzz@market"), Some(true));
        },
    );
}

const INSTALLED_SEEDS: &[&str] = &[
    r#"{"version":2,"plugins":{"p1@m1":[{"scope":"user","installPath":"/h/.claude/plugins/cache/m1/p1/1.0.0","version":"1.0.0","installedAt":"2026-01-01T00:00:00.000Z","lastUpdated":"2026-01-01T00:00:00.000Z","gitCommitSha":"0123456789abcdef0123456789abcdef01234567"},{"scope":"project","projectPath":"/w/p","installPath":"/h/c/m1/p1/2.0.0","version":"2.0.0"}],"p2@m2":[{"scope":"local","projectPath":"/w/q","installPath":"/h/c/m2/p2/x","version":"x"}]}}"#,
    r#"{"version":2,"plugins":{}}"#,
    r#"{"version":1,"plugins":{"a@b":{"version":"1","installedAt":"t","lastUpdated":"t","installPath":"/x","gitCommitSha":"s","isLocal":true}}}"#,
];

#[test]
fn installed_plugins_json() {
    let m = Mutator::new(with(Vec::new(), INSTALLED_SEEDS), JSON_TOKENS);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("installed_plugins.json");
    let named_file = file.display().to_string();
    fuzz(
        "installed_plugins_json",
        |rng| m.json(rng),
        |input| {
            fs::write(&file, input).unwrap();
            let mut installed = match plugin::state::InstalledPlugins::read(&file) {
                Ok(i) => accepted(i),
                Err(e) => {
                    assert_eq!(
                        fs::read(&file).unwrap(),
                        input,
                        "a refused file was changed"
                    );
                    return assert_rejection(&e, &named_file);
                }
            };
            let all = installed.all();
            let _ = installed.visible_from(Path::new("/w/p"));
            for (id, record) in &all {
                let _ = (
                    installed.records(id),
                    record.scope(),
                    installed.references(Path::new(&record.install_path)),
                );
                let _ = installed.find(id, Scope::Project, Some(Path::new("/w/p")));
            }
            installed.upsert(
                "fuzz@market",
                &plugin::state::NewInstall {
                    scope: Scope::Project,
                    project_path: Some(PathBuf::from("/w/p")),
                    install_path: PathBuf::from("/h/c/market/fuzz/1.0.0"),
                    version: "1.0.0".into(),
                    git_commit_sha: None,
                    produced_by: Some(("echo /x".into(), PathBuf::from("/x"))),
                    resolved_version: Some("1.0.0".into()),
                    auto: Some(true),
                    timestamp: "2026-01-01T00:00:00.000Z".into(),
                },
            );
            let mut tx = plugin::state::Transaction::new();
            installed.write(&mut tx).unwrap();
            tx.commit();
            let again = plugin::state::InstalledPlugins::read(&file).unwrap();
            assert_eq!(
                again.all(),
                installed.all(),
                "the rewritten file reads back different"
            );
            assert!(
                again
                    .find("fuzz@market", Scope::Project, Some(Path::new("/w/p")))
                    .is_some()
            );
        },
    );
}

const KNOWN_SEEDS: &[&str] = &[
    r#"{"m":{"source":{"source":"github","repo":"o/r"},"installLocation":"/h/.claude/plugins/marketplaces/m","lastUpdated":"2026-01-01T00:00:00.000Z"},"d":{"source":{"source":"directory","path":"/w/d"},"installLocation":"/w/d","lastUpdated":"t"},"u":{"source":{"source":"url","url":"https://h/m.json"},"installLocation":"/h/x.json"},"g":{"source":{"source":"git","url":"https://h/r.git","ref":"main"},"installLocation":"/h/g"},"f":{"source":{"source":"file","path":"/w/m.json"},"installLocation":"/w"}}"#,
    "{}",
];

#[test]
fn known_marketplaces_json() {
    let m = Mutator::new(with(Vec::new(), KNOWN_SEEDS), JSON_TOKENS);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("known_marketplaces.json");
    let named_file = file.display().to_string();
    fuzz(
        "known_marketplaces_json",
        |rng| m.json(rng),
        |input| {
            fs::write(&file, input).unwrap();
            let mut known = match plugin::state::KnownMarketplaces::read(&file) {
                Ok(k) => accepted(k),
                Err(e) => {
                    assert_eq!(
                        fs::read(&file).unwrap(),
                        input,
                        "a refused file was changed"
                    );
                    return assert_rejection(&e, &named_file);
                }
            };
            for k in known.all() {
                if let Some(source) = MarketplaceSource::from_json(&k.source) {
                    let _ = (
                        source.describe(),
                        source.to_json(),
                        source.git_remote(None),
                        source.local_root(),
                    );
                }
                assert!(known.get(&k.name).is_some());
            }
            known.upsert(
                "fuzz",
                &json!({"source": "github", "repo": "o/r"}),
                Path::new("/h/m/fuzz"),
                "2026-01-01T00:00:00.000Z",
            );
            let mut tx = plugin::state::Transaction::new();
            known.write(&mut tx).unwrap();
            tx.commit();
            let again = plugin::state::KnownMarketplaces::read(&file).unwrap();
            assert_eq!(
                again.all(),
                known.all(),
                "the rewritten file reads back different"
            );
        },
    );
}

#[test]
fn managed_settings_json() {
    let seeds = with(
        Vec::new(),
        &[
            r#"{"strictKnownMarketplaces":[{"source":"github","repo":"o/r"},{"source":"hostPattern","hostPattern":"^git\\.corp\\.example$"},{"source":"pathPattern","pathPattern":"^/opt/m/.*"},{"source":"url","url":"https://h/m.json"}],"blockedMarketplaces":[{"source":"github","repo":"evil/r"},{"source":"npm","package":"x"}],"extraKnownMarketplaces":{"m":{"source":{"source":"github","repo":"o/r"}}},"enabledPlugins":{"a@m":true}}"#,
            r#"{"strictKnownMarketplaces":[],"allowManagedHooksOnly":true}"#,
            r#"{"blockedMarketplaces":[{"source":"git","url":"https://h/r.git"},{"source":"directory","path":"/tmp"},{"source":"file","path":"/tmp/m.json"}]}"#,
        ],
    );
    let m = Mutator::new(seeds, JSON_TOKENS);
    let dir = tempfile::tempdir().unwrap();
    let main_file = dir.path().join("managed-settings.json");
    let drop_ins = dir.path().join("managed-settings.d");
    fs::create_dir(&drop_ins).unwrap();
    let drop_in = drop_ins.join("10-fuzz.json");
    let probes = [
        MarketplaceSource::Github {
            repo: "o/r".into(),
            reference: None,
        },
        MarketplaceSource::Git {
            url: "https://git.corp.example/r.git".into(),
            reference: Some("v1".into()),
        },
        MarketplaceSource::Url("https://h/m.json".into()),
        MarketplaceSource::Directory(PathBuf::from("/opt/m/x")),
        MarketplaceSource::File(PathBuf::from("/tmp/m.json")),
    ];
    let dir_name = dir.path().display().to_string();
    fuzz(
        "managed_settings_json",
        |rng| {
            // One file, or two to merge (a NUL byte splits them).
            let mut input = m.json(rng);
            if rng.bool() {
                input.push(0);
                input.extend(m.json(rng));
            }
            input
        },
        |input| {
            let mut parts = input.splitn(2, |&b| b == 0);
            fs::write(&main_file, parts.next().unwrap_or_default()).unwrap();
            match parts.next() {
                Some(second) => fs::write(&drop_in, second).unwrap(),
                None => drop(fs::remove_file(&drop_in)),
            }
            let managed = match plugin::state::ManagedSettings::load(dir.path()) {
                Ok(m) => m,
                Err(e) => return assert_rejection(&e, &dir_name),
            };
            let policy = match plugin::policy::MarketplacePolicy::from_managed(&managed) {
                Ok(p) => accepted(p),
                Err(e) => return assert_rejection(&e, &dir_name),
            };
            for source in &probes {
                if let Err(v) = policy.check_source(source) {
                    assert!(!v.to_string().is_empty());
                }
            }
            for v in managed.map.values() {
                if let Err(v) = policy.check_recorded(v) {
                    assert!(!v.to_string().is_empty());
                }
            }
        },
    );
}

#[test]
fn npm_packument() {
    let seeds: Vec<Vec<u8>> = vec![
        json!({"name":"@acme/tools","dist-tags":{"latest":"1.2.0","next":"2.0.0-rc.1"},"versions":{
            "1.0.0":{"dist":{"tarball":"https://r/@acme/tools/-/tools-1.0.0.tgz","shasum":"0000000000000000000000000000000000000000"}},
            "1.2.0":{"dist":{"tarball":"https://r/@acme/tools/-/tools-1.2.0.tgz","integrity":"sha512-AAAA sha1-BBBB"}},
            "2.0.0-rc.1":{"dist":{"tarball":"https://r/t.tgz","integrity":"sha512-z"}}}})
        .to_string()
        .into_bytes(),
        json!({"dist-tags":{"latest":"0.1.0"},"versions":{"0.1.0":{"name":"p","version":"0.1.0","dist":{"tarball":"https://r/p/-/p-0.1.0.tgz"}}},"modified":"2026-01-01"})
            .to_string()
            .into_bytes(),
    ];
    let m = Mutator::new(seeds, JSON_TOKENS);
    let specs = [
        None,
        Some("latest"),
        Some("next"),
        Some("^1.0.0"),
        Some("1.2.0"),
        Some("*"),
        Some(">=0.1.0 <3"),
        Some("1.x || 2.x"),
        Some("v1.0.0"),
        Some(""),
    ];
    fuzz(
        "npm_packument",
        |rng| {
            let mut input = vec![rng.u8(..specs.len() as u8)];
            input.extend(m.json(rng));
            input
        },
        |input| {
            let spec = specs[input[0] as usize % specs.len()];
            match plugin::registry::npm::release_from_packument("@acme/tools", spec, &input[1..]) {
                Ok(r) => assert!(!accepted(r).version.is_empty() || spec.is_some()),
                Err(e) => assert_rejection(&e, "@acme/tools"),
            }
        },
    );
}

/// Found by `npm_packument`: a range resolved to the canonical form of a listed version
/// (`v1.0.0` → `1.0.0`) and the packument was then indexed by it: a panic on any registry that
/// lists versions in a loose spelling.
#[test]
fn npm_packument_versions_spelled_loosely() {
    for key in ["v1.0.0", " 1.0.0", "01.0.0", "1.0.0-rc.01", "=1.0.0"] {
        let body =
            json!({"versions": {key: {"dist": {"tarball": format!("https://r/p-{key}.tgz")}}}});
        let found = catch_unwind(|| {
            plugin::registry::npm::release_from_packument(
                "p",
                Some("^1.0.0-0"),
                body.to_string().as_bytes(),
            )
        })
        .unwrap_or_else(|_| panic!("a packument listing {key:?} panics"));
        if let Ok(release) = found {
            assert_eq!(
                (release.version.as_str(), release.tarball),
                (key, format!("https://r/p-{key}.tgz"))
            );
        }
    }
}

#[test]
fn pypi_index_page() {
    let json_page = json!({"meta":{"api-version":"1.1"},"name":"demo-plugin","files":[
        {"filename":"demo_plugin-1.0.0-py3-none-any.whl","url":"../../files/demo_plugin-1.0.0-py3-none-any.whl","hashes":{"sha256":"ab"},"yanked":false},
        {"filename":"demo_plugin-1.1.0-py2.py3-none-any.whl","url":"https://files.example/d-1.1.0.whl","hashes":{},"yanked":"broken"},
        {"filename":"demo_plugin-2.0.0rc1-py3-none-any.whl","url":"/files/x.whl","hashes":{"sha256":"cd"}},
        {"filename":"demo_plugin-1.2.0-cp312-cp312-manylinux_2_17_x86_64.whl","url":"x.whl"},
        {"filename":"demo-plugin-1.2.0.tar.gz","url":"./y.tar.gz","yanked":true}]})
    .to_string();
    let html_page = "<!DOCTYPE html><html><body>\n<a href=\"../../files/demo_plugin-1.0.0-py3-none-any.whl#sha256=ab\">demo_plugin-1.0.0-py3-none-any.whl</a><br/>\n<a href=\"/files/demo_plugin-1.1.0-py3-none-any.whl\" data-yanked=\"bad\">demo_plugin-1.1.0-py3-none-any.whl</a>\n<a href=\"https://h/demo-plugin-1.2.0.tar.gz?x=1&amp;y=2#sha256=ef\" data-requires-python=\"&gt;=3.8\">demo-plugin-1.2.0.tar.gz</a>\n</body></html>";
    let m = Mutator::new(
        vec![json_page.into_bytes(), html_page.as_bytes().to_vec()],
        &[
            JSON_TOKENS,
            &[
                "<a ",
                "href=\"",
                "\">",
                "</a>",
                "#sha256=",
                "data-yanked",
                "&amp;",
                "://",
                "/../",
                ".whl",
                "-py3-none-any",
                ".tar.gz",
                "-",
                "<",
                ">",
            ],
        ]
        .concat(),
    );
    let specs = [
        None,
        Some("1.0.0"),
        Some(">=1,<2"),
        Some("==2.0.0rc1"),
        Some("~=1.0"),
        Some("!!"),
        Some(">=1.*"),
        Some("latest"),
    ];
    let project = "Demo.Plugin";
    fuzz(
        "pypi_index_page",
        |rng| {
            let mut input = vec![rng.u8(..)];
            input.extend(m.json(rng));
            input
        },
        |input| {
            let (is_json, spec) = (
                input[0] & 1 == 1,
                specs[(input[0] >> 1) as usize % specs.len()],
            );
            let base = "https://index.example/simple/demo-plugin/";
            let files =
                match plugin::registry::pypi::parse_index_page(project, base, is_json, &input[1..])
                {
                    Ok(f) => f,
                    Err(e) => return assert_rejection(&e, project),
                };
            match plugin::registry::pypi::choose(project, &files, spec) {
                Ok(w) => assert!(files.contains(&accepted(w).file)),
                Err(e) => assert_rejection(&e, project),
            }
        },
    );
}

// ---------------------------------------------------------------------------------------------
// YAML frontmatter, and the plugin folders `validate` reads
// ---------------------------------------------------------------------------------------------

const FRONTMATTER_TOKENS: &[&str] = &[
    "---",
    "---\n",
    "\n",
    ": ",
    "- ",
    "? ",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "!!str ",
    "!!map ",
    "!custom ",
    "|\n",
    ">-\n",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "#",
    "\t",
    "\r",
    "\u{feff}",
    "\u{2028}",
    "%YAML 1.2\n",
    "%TAG ! tag:x:\n",
    "...\n",
    "\\",
    "\0",
    "\u{85}",
];

fn frontmatter_seeds() -> Vec<Vec<u8>> {
    let starts_with_block = |p: &Path| {
        p.extension().is_some_and(|e| e == "md") && fs::read(p).is_ok_and(|b| b.starts_with(b"---"))
    };
    with(
        seed_files("testdata", starts_with_block, 32),
        &[
            "---\nname: x\ndescription: a: b [c] {d} #e\nallowed-tools: [Read, Write]\nmodel: sonnet\n---\nbody\n",
            "---\nanchors: &a {k: [1, 2, {x: y}]}\nuse: *a\nmerge:\n  <<: *a\n  extra: 1\nlist:\n  - a\n  - b: c\n---\n",
            "---\nname: \"quoted\"\ndescription: |\n  multi\n  line\n\ttabbed: x\n---\n",
        ],
    )
}

#[test]
fn frontmatter_yaml() {
    let m = Mutator::new(frontmatter_seeds(), FRONTMATTER_TOKENS);
    fuzz(
        "frontmatter_yaml",
        |rng| m.bytes(rng),
        |input| {
            use plugin::definition::frontmatter::{Frontmatter, parse};
            let f = parse(&text_of(input));
            match &f {
                Frontmatter::Invalid(why) => assert!(!why.is_empty(), "an empty YAML error"),
                Frontmatter::Parsed(_) => {
                    accepted(());
                    let _ = (f.string("name"), f.string("description"));
                }
                Frontmatter::Missing => {
                    let _ = (f.string("name"), f.string("description"));
                }
            }
        },
    );
}

/// `plugin validate` on a plugin folder whose files are fuzzed one at a time.
#[cfg(unix)]
#[test]
fn validate_plugin_folder() {
    const FILES: &[&str] = &[
        ".claude-plugin/plugin.json",
        ".claude-plugin/marketplace.json",
        "hooks/hooks.json",
        ".mcp.json",
        ".lsp.json",
        "commands/c.md",
        "agents/a.md",
        "skills/s/SKILL.md",
    ];
    let json_seeds = with(
        [
            named("plugin.json"),
            named("hooks.json"),
            named(".mcp.json"),
        ]
        .iter()
        .flat_map(|f| seed_files("testdata", f, 10))
        .collect(),
        &[
            r#"{"name":"m","owner":{"name":"o"},"plugins":[{"name":"p","source":"./","version":"1.0.0"}]}"#,
        ],
    );
    let json = Mutator::new(json_seeds, JSON_TOKENS);
    let md = Mutator::new(frontmatter_seeds(), FRONTMATTER_TOKENS);
    let root = tempfile::tempdir().unwrap();
    let plugin_dir = root.path().join("p");
    fuzz(
        "validate_plugin_folder",
        |rng| {
            let which = rng.usize(..FILES.len());
            let mut input = vec![which as u8];
            input.extend(if FILES[which].ends_with(".md") {
                md.bytes(rng)
            } else {
                json.json(rng)
            });
            input
        },
        |input| {
            let _ = fs::remove_dir_all(&plugin_dir);
            let (name, content) = (FILES[input[0] as usize % FILES.len()], &input[1..]);
            for f in [".claude-plugin/plugin.json", name] {
                let p = plugin_dir.join(f);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                let default = br#"{"name":"p","version":"1.0.0"}"#;
                fs::write(&p, if f == name { content } else { default }).unwrap();
            }
            let report = plugin::ops::validate::validate(&plugin_dir, false);
            if report.success() {
                accepted(());
            }
            let _ = (
                report.error_count(),
                report.warning_count(),
                report.success(),
                report.exit_code(),
            );
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Archives: npm tarballs and zips (wheels, plugin archives), extracted into a scratch folder
// ---------------------------------------------------------------------------------------------

/// What an extraction may write: small, so hostile sizes hit the limit.
const UNPACK_LIMIT: u64 = 256 * 1024;

/// Names a hostile archive uses; `{root}` is the scratch folder around the extraction.
const ARCHIVE_NAMES: &[&str] = &[
    "package/package.json",
    "package/.claude-plugin/plugin.json",
    "package/commands/c.md",
    "package/bin/run",
    "package/a/b/c/d.txt",
    "package/",
    "package",
    "package/a",
    "package/a/",
    "package/../escaped",
    "package/../../escaped",
    "../escaped",
    "../../escaped",
    "/abs-escaped",
    "{root}/escaped",
    "package/a/../../../escaped",
    "./package/x",
    "package/./y",
    "package//z",
    "package/.git/config",
    "package/node_modules/.bin/x",
    "package/link",
    "package/link/through",
    "package/a\\..\\..\\escaped",
    "C:\\escaped",
    "package/\u{202e}gpj.exe",
    "package/x\0y",
    "p/.claude-plugin/plugin.json",
    "demo_plugin/.claude-plugin/plugin.json",
    "demo_plugin-1.0.0.dist-info/METADATA",
    ".claude-plugin/plugin.json",
    "SKILL.md",
];

const LINK_TARGETS: &[&str] = &[
    "/etc",
    "..",
    "../..",
    "{root}",
    "package/a",
    "/",
    "../../escaped",
];

fn archive_name(rng: &mut Rng, root: &str) -> String {
    let n = ARCHIVE_NAMES[rng.usize(..ARCHIVE_NAMES.len())];
    let n = n.replace("{root}", root);
    if rng.u8(..10) == 0 {
        // Past ustar's 100 bytes: GNU long names and pax paths.
        format!("package/{}/{n}", "d".repeat(rng.usize(90..300)))
    } else {
        n
    }
}

#[cfg(unix)] // used by Unix-only tests
/// One ustar header (any name: no checks, unlike `tar::Builder`).
fn tar_header(name: &[u8], kind: u8, size: u64, link: &[u8], mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, len: usize, v: &[u8]| {
        let n = v.len().min(len);
        h[at..at + n].copy_from_slice(&v[..n]);
    };
    put(&mut h, 0, 100, name);
    put(&mut h, 100, 8, format!("{mode:07o}\0").as_bytes());
    put(&mut h, 108, 8, b"0000000\0");
    put(&mut h, 116, 8, b"0000000\0");
    put(
        &mut h,
        124,
        12,
        format!("{:011o}\0", size.min(0o77777777777)).as_bytes(),
    );
    put(&mut h, 136, 12, b"03560543244\0");
    h[156] = kind;
    put(&mut h, 157, 100, link);
    put(&mut h, 257, 8, b"ustar\x0000");
    fix_tar_checksum(&mut h);
    h
}

#[cfg(unix)] // used by Unix-only tests
fn fix_tar_checksum(h: &mut [u8]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

#[cfg(unix)] // used by Unix-only tests
/// A tar of random hostile entries: files, folders, links, devices, long names (GNU `L` and
/// pax `x` records), sizes that lie.
fn random_tar(rng: &mut Rng, root: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let block = |out: &mut Vec<u8>, header: [u8; 512], data: &[u8]| {
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    };
    for _ in 0..rng.usize(1..8) {
        let name = archive_name(rng, root);
        let kinds = [
            b'0', b'0', b'0', b'5', b'2', b'1', b'3', b'4', b'6', b'7', b'\0', b'g', b'K',
        ];
        let kind = kinds[rng.usize(..kinds.len())];
        let link = LINK_TARGETS[rng.usize(..LINK_TARGETS.len())].replace("{root}", root);
        let data: Vec<u8> = match rng.u8(..6) {
            0 => vec![b'x'; rng.usize(0..(UNPACK_LIMIT as usize + 2000))],
            _ => br#"{"name":"p","version":"1.0.0"}"#.to_vec(),
        };
        if name.len() > 100 || rng.u8(..8) == 0 {
            if rng.bool() {
                let record = format!("path={name}");
                let record = format!(
                    "{} {record}\n",
                    record.len() + 3 + (record.len() + 3).to_string().len() - 1
                );
                block(
                    &mut out,
                    tar_header(b"././@PaxHeader", b'x', record.len() as u64, b"", 0o644),
                    record.as_bytes(),
                );
            } else {
                let long = [name.as_bytes(), b"\0"].concat();
                block(
                    &mut out,
                    tar_header(b"././@LongLink", b'L', long.len() as u64, b"", 0o644),
                    &long,
                );
            }
        }
        let size = if matches!(kind, b'0' | b'\0' | b'7') {
            data.len() as u64
        } else {
            0
        };
        let claimed = if rng.u8(..10) == 0 {
            size + rng.u64(1..100_000)
        } else {
            size
        };
        let mode = [0o644, 0o755, 0o4777, 0o7777, 0o000][rng.usize(..5)];
        let header = tar_header(name.as_bytes(), kind, claimed, link.as_bytes(), mode);
        block(&mut out, header, if size > 0 { &data } else { &[] });
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[cfg(unix)] // used by Unix-only tests
/// Gzip `bytes` (fast: the tarball is what is fuzzed, not the inflater).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// After extracting into `<scratch>/out/dst`: nothing else appeared in the scratch folder, no
/// link was made, every file has mode 644 or 755, and no more than `limit` bytes were written
/// (the extractors write one byte past their limit to know it was passed, then fail).
fn assert_contained(scratch: &Path, keep: &[&str], dst: &Path, limit: u64) {
    let mut top: Vec<String> = fs::read_dir(scratch)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top, keep,
        "something was written beside the extraction folder"
    );
    let out: Vec<_> = fs::read_dir(dst.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        out,
        [dst.to_path_buf()],
        "something was written beside the extraction folder"
    );
    let mut bytes = 0;
    for p in walk(dst) {
        let meta = fs::symlink_metadata(&p).unwrap();
        assert!(
            !meta.file_type().is_symlink(),
            "a link was extracted: {}",
            p.display()
        );
        if meta.is_file() {
            let mode = plugin::platform::permissions(&meta);
            assert!(
                mode == 0o644 || mode == 0o755,
                "{} has mode {mode:o}",
                p.display()
            );
            bytes += meta.len();
        } else {
            assert!(
                meta.is_dir(),
                "a special file was extracted: {}",
                p.display()
            );
        }
    }
    assert!(
        bytes <= limit,
        "{bytes} bytes written, over the limit {limit}"
    );
}

fn fresh_dir(dst: &Path) {
    if let Err(e) = fs::remove_dir_all(dst) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::NotFound,
            "{}: {e}",
            dst.display()
        );
    }
    fs::create_dir_all(dst).unwrap();
}

#[cfg(unix)]
#[test]
fn npm_tarball() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().display().to_string();
    let seeds: Vec<Vec<u8>> = (0..16)
        .map(|i| random_tar(&mut Rng::with_seed(i), &root))
        .collect();
    let m = Mutator::new(
        seeds,
        &[
            "package/",
            "../",
            "/",
            "\0",
            "ustar\x0000",
            "././@LongLink",
            "path=",
            "linkpath=",
        ],
    );
    let tgz = scratch.path().join("p.tgz");
    let tgz_name = tgz.display().to_string();
    let dst = scratch.path().join("out").join("dst");
    let dst_name = dst.display().to_string();
    let candidates = [
        "package.json".to_string(),
        ".claude-plugin/plugin.json".to_string(),
    ];
    fuzz(
        "npm_tarball",
        |rng| match rng.u8(..8) {
            0..3 => gzip(&random_tar(rng, &root)),
            3..7 => {
                let mut tar = m.bytes(rng);
                if rng.u8(..4) != 0 {
                    for h in tar
                        .chunks_mut(512)
                        .filter(|h| h.len() == 512 && &h[257..262] == b"ustar")
                    {
                        fix_tar_checksum(h);
                    }
                }
                gzip(&tar)
            }
            _ => {
                let mut gz = gzip(m.seed(rng));
                m.mutate_bytes(rng, &mut gz);
                gz
            }
        },
        |input| {
            fs::write(&tgz, input).unwrap();
            fresh_dir(&dst);
            use plugin::registry::npm;
            let limit = match npm::extract(
                &tgz,
                "fuzzed-pkg",
                &dst,
                &plugin::registry::UnpackBudget::new(UNPACK_LIMIT),
            ) {
                Ok(report) => accepted(report).bytes,
                Err(e) => {
                    assert_rejection_naming(&e, &["fuzzed-pkg", &dst_name]);
                    UNPACK_LIMIT + 1
                }
            };
            assert_contained(scratch.path(), &["out", "p.tgz"], &dst, limit);
            match npm::read_first(&tgz, "fuzzed-pkg", &candidates) {
                Ok(found) => {
                    assert!(found.is_none_or(|(name, _)| candidates.iter().any(|c| c == name)))
                }
                Err(e) => assert_rejection_naming(&e, &["fuzzed-pkg", &tgz_name]),
            }
        },
    );
}

/// A zip of random hostile entries (stored or deflated files, folders, links).
fn random_zip(rng: &mut Rng, root: &str) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let base = SimpleFileOptions::default().system(zip::System::Unix);
    for _ in 0..rng.usize(1..8) {
        let name = archive_name(rng, root);
        let method = if rng.bool() {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let mode = [0o644, 0o755, 0o4777, 0o7777, 0o000][rng.usize(..5)];
        let _ = match rng.u8(..6) {
            0 => w.add_directory(name.as_str(), base.unix_permissions(mode)),
            1 => {
                let target = LINK_TARGETS[rng.usize(..LINK_TARGETS.len())].replace("{root}", root);
                w.add_symlink(name.as_str(), target.as_str(), base)
            }
            _ => w
                .start_file(
                    name.as_str(),
                    base.compression_method(method).unix_permissions(mode),
                )
                .and_then(|()| {
                    let len = if rng.u8(..6) == 0 {
                        UNPACK_LIMIT as usize + 1000
                    } else {
                        30
                    };
                    w.write_all(&vec![b'{'; len]).map_err(Into::into)
                }),
        };
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

#[test]
fn zip_archive() {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().display().to_string();
    let seeds: Vec<Vec<u8>> = (0..16)
        .map(|i| random_zip(&mut Rng::with_seed(i), &root))
        .collect();
    let m = Mutator::new(
        seeds,
        &[
            "PK\x03\x04",
            "PK\x01\x02",
            "PK\x05\x06",
            "PK\x06\x06",
            "../",
            "/",
            "\0",
            "\u{ffff}",
        ],
    );
    let file = scratch.path().join("a.zip");
    let dst = scratch.path().join("out").join("dst");
    let dst_name = dst.display().to_string();
    fuzz(
        "zip_archive",
        |rng| {
            if rng.u8(..3) == 0 {
                random_zip(rng, &root)
            } else {
                m.bytes(rng)
            }
        },
        |input| {
            use plugin::registry::{pypi, zipfile};
            fs::write(&file, input).unwrap();
            fresh_dir(&dst);
            let named_file = file.display().to_string();
            let names = match zipfile::file_names(&file) {
                Ok(names) => names,
                Err(e) => return assert_rejection(&e, &named_file),
            };
            for n in &names {
                assert!(
                    n.is_relative() && !has_parent_dir(n),
                    "an unsafe name was listed: {}",
                    n.display()
                );
            }
            let wheel_root = pypi::plugin_root(&names);
            let prefix = match plugin::source::archive::layout(&file, "https://h/a.zip") {
                Ok(p) => p,
                Err(e) => {
                    assert_rejection_naming(&e, &["https://h/a.zip", &named_file]);
                    wheel_root
                }
            };
            if let Err(e) = zipfile::read_file(&file, &prefix.join(".claude-plugin/plugin.json")) {
                assert_rejection(&e, &named_file);
            }
            let limit = match zipfile::extract(
                &file,
                &prefix,
                &dst,
                &plugin::registry::UnpackBudget::new(UNPACK_LIMIT),
            ) {
                Ok(report) => {
                    let report = accepted(report);
                    assert!(report.bytes <= UNPACK_LIMIT);
                    report.bytes
                }
                Err(e) => {
                    assert_rejection_naming(&e, &[&named_file, &dst_name]);
                    UNPACK_LIMIT + 1
                }
            };
            assert_contained(scratch.path(), &["a.zip", "out"], &dst, limit);
        },
    );
}
