// Needs the loopback git server (Python, git http-backend): Windows test processes cannot
// start Linux programs under wine, so this file runs on Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! Seed folders (`CLAUDE_CODE_PLUGIN_SEED_DIR`): seeds built with our own binary
//! (`CLAUDE_CODE_PLUGIN_CACHE_DIR=<seed> plugin marketplace add … / install …`), then moved
//! elsewhere and made read-only, are used without network and never written.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::githttp::{GitServer, WorkRepo};
use common::*;
use serde_json::{Value, json};

/// Restores write permission on the seeds when dropped (so the temporary folders can be
/// removed even when an assertion failed).
struct ReadOnly(Vec<PathBuf>);

impl ReadOnly {
    fn make(dirs: &[&Path]) -> Self {
        for d in dirs {
            set_writable(d, false);
        }
        Self(dirs.iter().map(|d| d.to_path_buf()).collect())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        for d in &self.0 {
            set_writable(d, true);
        }
    }
}

/// `chmod -R a-w` (or `u+w`), links left alone.
fn set_writable(root: &Path, on: bool) {
    let meta = fs::symlink_metadata(root).expect("meta");
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = meta.permissions().mode();
    let mode = if on { mode | 0o200 } else { mode & !0o222 };
    if meta.is_dir() {
        if on {
            fs::set_permissions(root, fs::Permissions::from_mode(mode)).expect("chmod");
        }
        for e in fs::read_dir(root).expect("read_dir") {
            set_writable(&e.expect("entry").path(), on);
        }
    }
    fs::set_permissions(root, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A tree's entries with content, without modes (a read-only seed's modes differ from a
/// copy's) and without the cache's bookkeeping files.
fn content(root: &Path) -> Vec<String> {
    tree_with_content(root)
        .into_iter()
        .filter(|l| {
            ![" .plugin-ok ", " .plugin-files "]
                .iter()
                .any(|n| l.contains(n))
        })
        .map(|l| {
            let parts: Vec<&str> = l.splitn(3, ' ').collect();
            match parts[0] {
                "d" | "f" => format!("{} {}", parts[0], parts[2]),
                _ => l,
            }
        })
        .collect()
}

fn run_with(env: &Env, vars: &[(&str, &Path)], args: &[&str]) -> Run {
    let mut c = env.command(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    common::run(&mut c)
}

struct Fixture {
    server: GitServer,
    gm_url: String,
    gp_commit: String,
    fm: PathBuf,
}

/// A git marketplace `gm` (relative `rp`, git `ext`, git `other`) on a loopback server, and a
/// folder marketplace `fm` (`fp`, `fq`).
fn fixture(env: &Env) -> Fixture {
    let srv = env.fx.join("srv");
    fs::create_dir_all(&srv).unwrap();
    let server = GitServer::start(&srv);
    let gp = WorkRepo::init(&env.fx.join("work/gp"));
    gp.write(
        ".claude-plugin/plugin.json",
        r#"{"name":"ext","version":"2.0.0"}"#,
    );
    gp.write("commands/one.md", "# one\n");
    gp.symlink("commands/alias.md", "one.md");
    let gp_commit = gp.commit("gp1");
    gp.publish(&srv.join("git/gp.git"));
    let other = WorkRepo::init(&env.fx.join("work/other"));
    other.write(
        ".claude-plugin/plugin.json",
        r#"{"name":"other","version":"3.0.0"}"#,
    );
    other.write("commands/o.md", "# other\n");
    other.commit("o1");
    other.publish(&srv.join("git/other.git"));
    let gm = WorkRepo::init(&env.fx.join("work/gm"));
    gm.write(
        ".claude-plugin/marketplace.json",
        &json!({"name": "gm", "owner": {"name": "t"}, "plugins": [
            {"name": "rp", "source": "./plugins/rp"},
            {"name": "ext", "source": {"source": "url", "url": server.url("git/gp.git")}},
            {"name": "other", "source": {"source": "url", "url": server.url("git/other.git")}},
        ]})
        .to_string(),
    );
    gm.write(
        "plugins/rp/.claude-plugin/plugin.json",
        r#"{"name":"rp","version":"1.0.0"}"#,
    );
    gm.write("plugins/rp/commands/r.md", "# rp\n");
    gm.commit("m1");
    gm.publish(&srv.join("git/gm.git"));
    let fm = env.fx.join("fm");
    plugin(&fm.join("plugins/fp"), "fp", Some("1.0.0"));
    plugin(&fm.join("plugins/fq"), "fq", Some("1.0.0"));
    marketplace(
        &fm,
        "fm",
        r#"[{"name":"fp","source":"./plugins/fp"},{"name":"fq","source":"./plugins/fq"}]"#,
    );
    Fixture {
        gm_url: server.url("git/gm.git"),
        server,
        gp_commit,
        fm,
    }
}

#[test]
fn moved_read_only_seeds_are_used_without_network_and_never_written() {
    let builder = Env::new();
    let fx = fixture(&builder);
    let fp_file = fx.fm.join("plugins/fp/commands/c.md");

    // Seed A: the folder marketplace, fp's content "A". Seed B: both marketplaces, rp and ext
    // installed, fp's content "B".
    let build_a = builder.fx.join("build-a");
    let build_b = builder.fx.join("build-b");
    let in_a = [("CLAUDE_CODE_PLUGIN_CACHE_DIR", build_a.as_path())];
    let in_b = [("CLAUDE_CODE_PLUGIN_CACHE_DIR", build_b.as_path())];
    let fm_arg = fx.fm.to_str().unwrap();
    write(&fp_file, "A\n");
    run_with(&builder, &in_a, &["marketplace", "add", fm_arg]).ok();
    run_with(&builder, &in_a, &["install", "fp@fm"]).ok();
    write(&fp_file, "B\n");
    run_with(&builder, &in_b, &["marketplace", "add", &fx.gm_url]).ok();
    run_with(&builder, &in_b, &["marketplace", "add", fm_arg]).ok();
    for p in ["rp@gm", "ext@gm", "fp@fm"] {
        run_with(&builder, &in_b, &["install", p]).ok();
    }
    // The folder moves on: what is installed must come from the seed, not from here.
    write(&fp_file, "now\n");

    // Moved elsewhere (stored paths now point nowhere) and made read-only.
    let user = Env::new();
    let opt = user.tmp.path().join("opt");
    fs::create_dir_all(&opt).unwrap();
    let (seed_a, seed_b) = (opt.join("seed-a"), opt.join("seed-b"));
    fs::rename(&build_a, &seed_a).unwrap();
    fs::rename(&build_b, &seed_b).unwrap();
    let _read_only = ReadOnly::make(&[&seed_a, &seed_b]);
    let before = (tree_with_content(&seed_a), tree_with_content(&seed_b));
    let seeds = format!("{}::{}", seed_a.display(), seed_b.display());
    let run = |args: &[&str]| {
        let mut c = user.command(args);
        c.env("CLAUDE_CODE_PLUGIN_SEED_DIR", &seeds);
        common::run(&mut c)
    };
    let requests_before = fx.server.requests().len();

    // Listed as seed marketplaces, where the content now is.
    let list = run(&["marketplace", "list", "--json"]).ok().json();
    assert_eq!(
        list,
        json!([
            {"name": "fm", "source": "directory", "path": fm_arg,
             "installLocation": fm_arg, "seed": seed_a},
            {"name": "gm", "source": "git", "url": fx.gm_url,
             "installLocation": seed_b.join("marketplaces/gm"), "seed": seed_b},
        ])
    );
    let human = run(&["marketplace", "list"]).ok();
    assert!(
        human.stdout.contains(&format!(
            "  ❯ gm\n    Source: Git ({})\n    Seed: {} (read-only)\n",
            fx.gm_url,
            seed_b.display()
        )),
        "{}",
        human.stdout
    );

    // Installs copy the seeds' version folders: a relative plugin of the seed's git clone, a
    // git plugin whose version only the seed knows, and the first seed's copy of fp.
    for (id, seed) in [("rp@gm", &seed_b), ("ext@gm", &seed_b), ("fp@fm", &seed_a)] {
        let out = run(&["install", id, "--json"]).ok();
        let v = out.json();
        let (name, m) = id.split_once('@').unwrap();
        let version = user.first_record(id)["version"]
            .as_str()
            .unwrap()
            .to_string();
        let from = seed.join("cache").join(m).join(name).join(&version);
        assert_eq!(v["fromSeed"], json!(from), "{id}");
        assert!(
            out.stderr.contains("copied from the seed folder"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("warning"), "{}", out.stderr);
        let installed = PathBuf::from(user.first_record(id)["installPath"].as_str().unwrap());
        assert_eq!(
            installed,
            user.plugins()
                .join("cache")
                .join(m)
                .join(name)
                .join(&version)
        );
        assert_eq!(content(&installed), content(&from), "{id}");
        assert_sealed(&installed);
        assert_eq!(user.settings()["enabledPlugins"][id], true);
    }
    assert_eq!(user.first_record("ext@gm")["version"], "2.0.0");
    assert_eq!(user.first_record("ext@gm")["gitCommitSha"], fx.gp_commit);
    let fp = PathBuf::from(user.first_record("fp@fm")["installPath"].as_str().unwrap());
    assert_eq!(fs::read_to_string(fp.join("commands/c.md")).unwrap(), "A\n");
    let ext = PathBuf::from(user.first_record("ext@gm")["installPath"].as_str().unwrap());
    assert_eq!(
        fs::read_link(ext.join("commands/alias.md")).unwrap(),
        Path::new("one.md")
    );
    assert_eq!(
        fx.server.requests().len(),
        requests_before,
        "no git request"
    );
    assert!(
        !user.plugins().join("known_marketplaces.json").exists(),
        "seed entries are not copied into the user's known_marketplaces.json"
    );

    // What `sync` asks: which plugins a seed provides, and where (nothing fetched).
    let mut loc =
        ::plugin::locations::Locations::new(user.home.clone(), user.cwd.clone(), None, None);
    loc.seed_dirs = vec![seed_a.clone(), seed_b.clone()];
    let ctx = ::plugin::ops::Context::new(loc, ::plugin::environment::Environment::from_process());
    let seeded = |id: &str| ::plugin::ops::seed::seeded_plugin(&ctx, id).unwrap();
    let rp = seeded("rp@gm").unwrap();
    assert_eq!(
        (rp.seed, rp.dir, rp.version),
        (
            seed_b.clone(),
            seed_b.join("cache/gm/rp/1.0.0"),
            "1.0.0".into(),
        )
    );
    assert_eq!(seeded("ext@gm").unwrap().version, "2.0.0");
    assert_eq!(seeded("fp@fm").unwrap().seed, seed_a);
    assert_eq!(seeded("other@gm"), None);
    assert_eq!(seeded("fq@fm"), None);
    assert_eq!(
        fx.server.requests().len(),
        requests_before,
        "no git request"
    );

    // Updating a plugin of a seed marketplace does not refresh the marketplace.
    let out = run(&["update", "rp@gm", "--json"]).ok();
    assert_eq!(out.json()["plugins"][0]["outcome"], "current");
    assert_eq!(fx.server.requests().len(), requests_before, "no refresh");

    // Seed marketplaces cannot be updated or removed; update-all skips them.
    let state = tree_with_content(&user.home);
    let out = run(&["marketplace", "update", "gm", "--json"]).fails();
    assert_eq!(out.json()["failureCode"], "managed");
    assert!(
        out.stderr.contains(&format!(
            "Marketplace 'gm' is seed-managed ({}) and its content is controlled by the seed image",
            seed_b.display()
        )),
        "{}",
        out.stderr
    );
    let out = run(&["marketplace", "remove", "gm"]).fails();
    assert!(
        out.stderr.contains(&format!(
            "Marketplace 'gm' is registered from the read-only seed directory ({})",
            seed_b.display()
        )),
        "{}",
        out.stderr
    );
    run(&["marketplace", "remove", "fm", "--json"]).fails();
    let out = run(&["marketplace", "update"]).ok();
    assert!(
        out.stdout.contains(&format!(
            "Skipped seed marketplace gm (read-only, from {})",
            seed_b.display()
        )),
        "{}",
        out.stdout
    );
    assert_eq!(tree_with_content(&user.home), state, "nothing changed");
    assert_eq!(fx.server.requests().len(), requests_before, "no refresh");

    // Adding a seed's own source only declares it; another source under its name is refused.
    run(&["marketplace", "add", &fx.gm_url]).ok();
    assert_eq!(
        user.settings()["extraKnownMarketplaces"]["gm"]["source"],
        json!({"source": "git", "url": fx.gm_url})
    );
    assert!(!user.plugins().join("known_marketplaces.json").exists());
    assert_eq!(
        fx.server.requests().len(),
        requests_before,
        "nothing fetched"
    );
    let other_gm = user.fx.join("other-gm");
    marketplace(&other_gm, "gm", "[]");
    let state = tree_with_content(&user.home);
    let out = run(&["marketplace", "add", other_gm.to_str().unwrap()]).fails();
    assert!(
        out.stderr.contains(&format!(
            "Marketplace 'gm' is seed-managed ({}). To use a different source",
            seed_b.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(tree_with_content(&user.home), state, "nothing changed");

    // Plugins no seed holds install from their sources.
    let out = run(&["install", "other@gm", "--json"]).ok();
    assert_eq!(out.json().get("fromSeed"), None);
    assert!(
        fx.server.requests().len() > requests_before,
        "fetched from its source"
    );
    assert_eq!(user.first_record("other@gm")["version"], "3.0.0");
    let out = run(&["install", "fq@fm", "--json"]).ok();
    assert_eq!(out.json().get("fromSeed"), None);

    // The seeds are byte-for-byte what they were.
    assert_eq!(
        (tree_with_content(&seed_a), tree_with_content(&seed_b)),
        before
    );
}

#[test]
fn a_broken_seed_is_a_warning_and_provides_nothing() {
    let env = Env::new();
    let seed = env.fx.join("seed");
    write(&seed.join("known_marketplaces.json"), "{not json");
    let mut c = env.command(&["marketplace", "list", "--json"]);
    c.env("CLAUDE_CODE_PLUGIN_SEED_DIR", &seed);
    let out = Run::from(c.output().unwrap()).ok();
    assert_eq!(out.json(), json!([]));
    assert!(
        out.stderr.contains("warning: seed folder")
            && out.stderr.contains("known_marketplaces.json"),
        "{}",
        out.stderr
    );
    let _: Value = out.json();
}
