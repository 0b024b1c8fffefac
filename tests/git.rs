// Needs the loopback git server (Python, git http-backend): Windows test processes cannot
// start Linux programs under wine, so this file runs on Unix only (docs/windows-under-wine.md).
#![cfg(unix)]

//! Git plugin sources (`url`, `github`, `git-subdir`, URL strings) installed from a real git
//! server on 127.0.0.1 (`git http-backend` behind the harness's HTTP server). The git CLI only
//! builds fixtures; the product runs with no git on PATH.
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::githttp::{GitServer, WorkRepo, git};
use common::*;
use serde_json::{Value, json};

/// Fixture repositories published under `<fx>/srv`, served over loopback HTTP.
struct Remote {
    server: GitServer,
    srv: PathBuf,
    /// Commits of `gp` (plugin at the root): c1 (tag t1), c2 (HEAD of main).
    c1: String,
    c2: String,
    /// HEAD of `mono` (plugin in tools/sub).
    mono: String,
}

fn remote(env: &Env) -> Remote {
    let srv = env.fx.join("srv");
    let gp = WorkRepo::init(&env.fx.join("work/gp"));
    gp.write(".claude-plugin/plugin.json", r#"{"name":"gp"}"#);
    gp.write("commands/one.md", "# one\n");
    gp.write("scripts/run.sh", "#!/bin/sh\necho hi\n");
    gp.chmod("scripts/run.sh", 0o755);
    gp.write(".hidden", "h\n");
    gp.symlink("link-one.md", "commands/one.md");
    gp.symlink("absout", "/etc/hostname");
    gp.symlink("relout", "../../outside.txt");
    gp.symlink("loop1", "loop2");
    gp.symlink("loop2", "loop1");
    let c1 = gp.commit("c1");
    gp.tag("t1");
    gp.write("commands/two.md", "# two\n");
    let c2 = gp.commit("c2");
    gp.publish(&srv.join("git/gp.git"));
    gp.publish(&srv.join("o/gp.git")); // for github sources: <base>/o/gp.git

    let mono = WorkRepo::init(&env.fx.join("work/mono"));
    mono.write("tools/sub/.claude-plugin/plugin.json", r#"{"name":"sub"}"#);
    mono.write("tools/sub/commands/x.md", "x\n");
    mono.write("shared/s.md", "shared\n");
    mono.symlink("tools/sub/commands/s.md", "../../../shared/s.md");
    mono.write("other/o.txt", "other\n");
    let mono_head = mono.commit("m1");
    mono.publish(&srv.join("git/mono.git"));

    let server = GitServer::start(&srv);
    Remote {
        server,
        srv,
        c1,
        c2,
        mono: mono_head,
    }
}

/// A local marketplace `mg` whose entries are `entries` (a JSON array).
fn market(env: &Env, entries: Value) -> PathBuf {
    env.add_marketplace("mg", &entries)
}

/// Run with GitHub pointed at the loopback server and no git binary on PATH.
fn run(env: &Env, r: &Remote, args: &[&str]) -> Run {
    Run::from(
        env.command_without_tools(args)
            .env("PLUGIN_GITHUB_BASE_URL", r.server.base_url())
            .output()
            .expect("run plugin"),
    )
}

#[test]
fn url_github_string_and_subdir_sources_install_from_the_server() {
    let env = Env::new();
    let r = remote(&env);
    let gp = r.server.url("git/gp.git");
    market(
        &env,
        json!([
            {"name": "gp", "source": {"source": "url", "url": gp}},
            {"name": "gh", "source": {"source": "github", "repo": "o/gp"}},
            {"name": "str", "source": r.server.url("git/gp.git")},
            {"name": "sub", "source": {"source": "git-subdir", "url": r.server.url("git/mono.git"), "path": "tools/sub"}},
        ]),
    );

    let out = run(&env, &r, &["install", "gp@mg", "--json"]).ok();
    assert_eq!(
        out.json(),
        json!({"command":"install","outcome":"ok","plugin":"gp@mg","pluginId":"gp@mg","scope":"user",
               "message":"Successfully installed plugin: gp@mg (scope: user)"})
    );
    let short = &r.c2[..12];
    let rec = env.first_record("gp@mg");
    assert_eq!(rec["version"], short);
    assert_eq!(rec["gitCommitSha"], r.c2.as_str());
    let dir = env.plugins().join("cache/mg/gp").join(short);
    assert_eq!(rec["installPath"], dir.to_str().unwrap());
    // The tree is the commit's (modulo the symlink policy), modes from the tree.
    let listing: Vec<String> = tree(&dir)
        .into_iter()
        .filter(|l| !l.contains(".plugin-ok") && !l.contains(".plugin-files"))
        .collect();
    let (dm, _, fm, xm) = env.default_modes();
    assert_sealed(&dir);
    assert_eq!(
        listing,
        [
            format!("d {dm:o} .claude-plugin/"),
            format!("f {fm:o} .claude-plugin/plugin.json 13"),
            format!("f {fm:o} .hidden 2"),
            format!("d {dm:o} commands/"),
            format!("f {fm:o} commands/one.md 6"),
            format!("f {fm:o} commands/two.md 6"),
            "l link-one.md -> commands/one.md".to_string(),
            format!("d {dm:o} scripts/"),
            format!("f {xm:o} scripts/run.sh 18"),
        ]
    );
    for path in [
        "commands/one.md",
        "commands/two.md",
        "scripts/run.sh",
        ".claude-plugin/plugin.json",
    ] {
        let want = git(
            &r.srv.join("git/gp.git"),
            &["show", &format!("{}:{path}", r.c2)],
        );
        assert_eq!(
            fs::read_to_string(dir.join(path)).unwrap().trim_end(),
            want,
            "{path}"
        );
    }
    for (link, why) in [
        ("absout", "it points outside the repository"),
        ("relout", "it points outside the repository"),
        ("loop1", "it is part of a symlink cycle"),
    ] {
        assert!(
            out.stderr
                .contains(&format!("warning: skipped symlink {link} -> "))
                && out.stderr.contains(why),
            "{link}: {}",
            out.stderr
        );
    }

    // github shorthand and a plain URL string: same commit, same version, own folders.
    run(&env, &r, &["install", "gh@mg"]).ok();
    run(&env, &r, &["install", "str@mg"]).ok();
    assert_eq!(env.first_record("gh@mg")["version"], short);
    assert_eq!(env.first_record("str@mg")["gitCommitSha"], r.c2.as_str());

    // git-subdir: only the folder, version <sha12>-<sha256(path)[:8]>, in-repo link dereferenced.
    run(&env, &r, &["install", "sub@mg"]).ok();
    let rec = env.first_record("sub@mg");
    let version = format!("{}-{}", &r.mono[..12], "67ea16a3");
    assert_eq!(rec["version"], version.as_str());
    let sub = env.plugins().join("cache/mg/sub").join(&version);
    assert_eq!(
        fs::read_to_string(sub.join("commands/x.md")).unwrap(),
        "x\n"
    );
    assert_eq!(
        fs::read_to_string(sub.join("commands/s.md")).unwrap(),
        "shared\n"
    );
    assert!(!sub.join("commands/s.md").is_symlink());
    assert!(!sub.join("other").exists() && !sub.join("tools").exists());
}

#[test]
fn refs_and_pinned_shas() {
    let env = Env::new();
    let r = remote(&env);
    let gp = r.server.url("git/gp.git");
    market(
        &env,
        json!([
            {"name": "tag", "source": {"source": "url", "url": gp, "ref": "t1"}},
            {"name": "pin", "source": {"source": "url", "url": gp, "sha": r.c1}},
            {"name": "both", "source": {"source": "url", "url": gp, "ref": "main", "sha": r.c1}},
            {"name": "pinv", "source": {"source": "url", "url": gp, "sha": r.c1}, "version": "3.3.3"},
            {"name": "short", "source": {"source": "url", "url": gp, "sha": &r.c1[..7]}},
            {"name": "nope", "source": {"source": "url", "url": gp, "ref": "nope"}},
            {"name": "gone", "source": {"source": "url", "url": gp, "sha": "1".repeat(40)}},
            {"name": "nosub", "source": {"source": "git-subdir", "url": r.server.url("git/mono.git"), "path": "tools/none"}},
            {"name": "upsub", "source": {"source": "git-subdir", "url": r.server.url("git/mono.git"), "path": "../x"}},
            {"name": "norepo", "source": {"source": "url", "url": r.server.url("git/missing.git")}},
            {"name": "gitproto", "source": {"source": "url", "url": "git://127.0.0.1:9/x.git"}},
        ]),
    );
    run(&env, &r, &["install", "tag@mg"]).ok();
    assert_eq!(env.first_record("tag@mg")["gitCommitSha"], r.c1.as_str());
    run(&env, &r, &["install", "pin@mg"]).ok();
    assert_eq!(env.first_record("pin@mg")["version"], &r.c1[..12]);
    // sha wins over ref; the pinned commit is already in the cache: no request at all.
    let before = r.server.requests().len();
    run(&env, &r, &["install", "both@mg"]).ok();
    assert_eq!(env.first_record("both@mg")["gitCommitSha"], r.c1.as_str());
    assert_eq!(
        r.server.requests().len(),
        before,
        "a cached pinned sha must not fetch"
    );
    run(&env, &r, &["install", "pinv@mg"]).ok();
    assert_eq!(env.first_record("pinv@mg")["version"], "3.3.3");

    let refused = |id: &str, code: &str, needle: &str| {
        let before = tree(&env.home);
        let out = run(&env, &r, &["install", id, "--json"]).fails();
        let v = out.json();
        assert_eq!(v["failureCode"], code, "{id}: {v}");
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{id}: {msg}");
        let after = tree(&env.home);
        let changed: Vec<_> = after
            .iter()
            .filter(|l| !before.contains(l) && !l.contains(".cache/plugin/git-v1"))
            .collect();
        assert!(changed.is_empty(), "{id} changed {changed:?}");
    };
    refused("short@mg", "error_validation", "40-character");
    refused(
        "nope@mg",
        "error_not_found",
        "ref \"nope\" does not exist in",
    );
    refused("nope@mg", "error_not_found", "main, t1");
    refused(
        "gone@mg",
        "error_not_found",
        &format!("commit {} is not available", "1".repeat(40)),
    );
    refused(
        "nosub@mg",
        "error_not_found",
        "path \"tools/none\" does not exist at commit",
    );
    refused(
        "upsub@mg",
        "error_validation",
        "must be a relative path inside the repository",
    );
    refused("norepo@mg", "error_network", "Failed to fetch");
    refused("gitproto@mg", "error_validation", "not encrypted");
}

#[test]
fn one_database_per_repository_fetched_incrementally() {
    let env = Env::new();
    let r = remote(&env);
    let gp = r.server.url("git/gp.git");
    market(
        &env,
        json!([
            {"name": "a", "source": {"source": "url", "url": gp}},
            {"name": "b", "source": {"source": "url", "url": format!("{gp}/")}},
            {"name": "c", "source": {"source": "github", "repo": "o/gp"}},
        ]),
    );
    run(&env, &r, &["install", "a@mg"]).ok();
    // The same repository again, unpinned: the advertised HEAD is already in the cache, so only
    // the ref negotiation happens (capabilities + ls-refs), no pack is fetched.
    let before = r.server.requests().len();
    run(&env, &r, &["install", "b@mg"]).ok();
    let requests = r.server.requests()[before..].to_vec();
    assert_eq!(requests.len(), 2, "{requests:?}");
    run(&env, &r, &["install", "c@mg"]).ok();
    let dbs: Vec<String> = fs::read_dir(env.user_cache().join("plugin/git-v1/db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    // `<url>` and `<url>/` share one database; the github mirror path is another repository.
    assert_eq!(dbs.len(), 2, "{dbs:?}");
    assert!(dbs.iter().all(|d| d.starts_with("gp-")), "{dbs:?}");
}

#[test]
fn an_upstream_commit_is_a_new_version_on_reinstall() {
    let env = Env::new();
    let r = remote(&env);
    market(
        &env,
        json!([{"name": "gp", "source": {"source": "url", "url": r.server.url("git/gp.git")}}]),
    );
    run(&env, &r, &["install", "gp@mg"]).ok();
    let work = WorkRepo {
        dir: env.fx.join("work/gp"),
    };
    work.write("commands/three.md", "# three\n");
    let c3 = work.commit("c3");
    work.publish(&r.srv.join("git/gp.git"));
    // Installed and enabled: install reports the version the source would install now.
    let out = run(&env, &r, &["install", "gp@mg", "--json"]).ok().json();
    assert_eq!(out["installedVersion"], &r.c2[..12]);
    assert_eq!(out["availableVersion"], &c3[..12]);
    assert!(Path::new(&env.plugins().join("cache/mg/gp").join(&r.c2[..12])).is_dir());
}

/// A git-hosted marketplace `gmk` with a versioned and a versionless relative plugin.
fn marketplace_repo(env: &Env, srv: &Path) -> WorkRepo {
    let w = WorkRepo::init(&env.fx.join("work/mkt"));
    w.write(
        ".claude-plugin/marketplace.json",
        r#"{"name":"gmk","owner":{"name":"x"},"plugins":[{"name":"rv","source":"./plugins/rv"},{"name":"rnv","source":"./plugins/rnv"}]}"#,
    );
    w.write(
        "plugins/rv/.claude-plugin/plugin.json",
        r#"{"name":"rv","version":"1.0.0"}"#,
    );
    w.write("plugins/rv/commands/c.md", "v1\n");
    w.write(
        "plugins/rnv/.claude-plugin/plugin.json",
        r#"{"name":"rnv"}"#,
    );
    w.write("plugins/rnv/commands/c.md", "v1\n");
    w.symlink(
        "plugins/rnv/commands/link-to-rv.md",
        "../../rv/commands/c.md",
    );
    w.commit("m1");
    w.publish(&srv.join("git/mkt.git"));
    w.publish(&srv.join("o/mkt.git"));
    w
}

#[test]
fn git_marketplaces_clone_install_and_update() {
    let env = Env::new();
    let r = remote(&env);
    let w = marketplace_repo(&env, &r.srv);
    let m1 = git(&w.dir, &["rev-parse", "HEAD"]);
    let url = r.server.url("git/mkt.git");

    let out = run(&env, &r, &["marketplace", "add", &url, "--json"]).ok();
    let message = format!(
        "Refreshing marketplace cache (timeout: 120s)…\nCloning repository (timeout: 120s): {url}\n\
         Clone complete, validating marketplace…\nCleaning up old marketplace cache…\n\
         Successfully added marketplace: gmk (declared in user settings)"
    );
    assert_eq!(
        out.json(),
        json!({"command":"marketplace-add","outcome":"ok","marketplace":"gmk","message":message})
    );
    let clone = env.plugins().join("marketplaces/gmk");
    assert_eq!(
        env.known()["gmk"]["source"],
        json!({"source": "git", "url": url})
    );
    assert_eq!(
        env.known()["gmk"]["installLocation"],
        clone.to_str().unwrap()
    );
    // A normal work tree: Claude Code's own `marketplace update` runs git in it.
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]), m1);
    assert_eq!(git(&clone, &["status", "--porcelain"]), "");
    let leftovers: Vec<_> = fs::read_dir(env.plugins().join("marketplaces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["gmk"]);

    // Relative plugins of a git marketplace: versionless ones take the marketplace commit, and
    // every record carries it; they are copied, not loaded in place.
    run(&env, &r, &["install", "rv@gmk"]).ok();
    run(&env, &r, &["install", "rnv@gmk"]).ok();
    assert_eq!(env.first_record("rv@gmk")["version"], "1.0.0");
    assert_eq!(env.first_record("rv@gmk")["gitCommitSha"], m1.as_str());
    assert_eq!(env.first_record("rnv@gmk")["version"], &m1[..12]);
    let rnv = env.plugins().join("cache/gmk/rnv").join(&m1[..12]);
    assert_eq!(
        fs::read_to_string(rnv.join("commands/link-to-rv.md")).unwrap(),
        "v1\n"
    );
    let again = run(&env, &r, &["install", "rnv@gmk", "--json"]).ok().json();
    assert!(
        !again["message"]
            .as_str()
            .unwrap()
            .contains("loads in place"),
        "{again}"
    );

    // Nothing new upstream: one ref negotiation, no clone.
    let before = r.server.requests().len();
    let out = run(&env, &r, &["marketplace", "update", "gmk", "--json"])
        .ok()
        .json();
    assert_eq!(
        out["message"],
        format!(
            "Already at the latest commit ({})\nSuccessfully updated marketplace: gmk",
            &m1[..12]
        )
    );
    let requests = r.server.requests()[before..].to_vec();
    assert!(requests.len() <= 2, "{requests:?}");
    assert!(requests.iter().all(|q| !q.contains("git-upload-pack")
        || q.starts_with("POST")
        || q.contains("info/refs")));

    // A new commit upstream: update swaps in a fresh clone; the plugin's new version shows.
    w.write("plugins/rnv/commands/c.md", "v2\n");
    let m2 = w.commit("m2");
    w.publish(&r.srv.join("git/mkt.git"));
    let out = run(&env, &r, &["marketplace", "update", "gmk"]).ok();
    assert!(
        out.stdout.contains("Successfully updated marketplace: gmk"),
        "{}",
        out.stdout
    );
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]), m2);
    // Swapped in one step; the replaced clone is gone, nothing is left beside it.
    let beside: Vec<String> = fs::read_dir(clone.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, vec!["gmk".to_string()]);
    let v = run(&env, &r, &["install", "rnv@gmk", "--json"]).ok().json();
    assert_eq!(v["availableVersion"], &m2[..12]);

    // Adding the same source again does not clone again.
    let before = r.server.requests().len();
    let out = run(&env, &r, &["marketplace", "add", &url]).ok();
    assert!(
        out.stdout.contains("Marketplace 'gmk' already on disk"),
        "{}",
        out.stdout
    );
    assert_eq!(r.server.requests().len(), before);

    // Removing it deletes the clone.
    run(&env, &r, &["marketplace", "remove", "gmk"]).ok();
    assert!(!clone.exists());
}

#[test]
fn github_marketplace_forms_and_refusals() {
    let env = Env::new();
    let r = remote(&env);
    marketplace_repo(&env, &r.srv);
    run(&env, &r, &["marketplace", "add", "o/mkt@main"]).ok();
    assert_eq!(
        env.known()["gmk"]["source"],
        json!({"source": "github", "repo": "o/mkt", "ref": "main"})
    );
    run(&env, &r, &["install", "rv@gmk"]).ok();

    // A ref that does not exist, and a repository that does not: refused, nothing left behind.
    let env2 = Env::new();
    for (src, code) in [
        ("o/mkt#nope", "error_not_found"),
        ("o/missing", "error_network"),
    ] {
        let out = run(&env2, &r, &["marketplace", "add", src, "--json"]).fails();
        assert_eq!(out.json()["failureCode"], code, "{src}: {}", out.stdout);
        let dir = env2.plugins().join("marketplaces");
        let left: Vec<_> = fs::read_dir(&dir).map(|d| d.count()).into_iter().collect();
        assert!(
            left.iter().all(|n| *n == 0),
            "{src} left {left:?} in {}",
            dir.display()
        );
        assert!(!env2.plugins().join("known_marketplaces.json").exists());
    }
}

#[test]
fn reserved_names_need_the_anthropics_organisation() {
    let env = Env::new();
    let r = remote(&env);
    let w = WorkRepo::init(&env.fx.join("work/official"));
    w.write(
        ".claude-plugin/marketplace.json",
        r#"{"name":"claude-plugins-official","owner":{"name":"x"},"plugins":[]}"#,
    );
    w.commit("c");
    w.publish(&r.srv.join("o/official.git"));
    w.publish(&r.srv.join("anthropics/official.git"));
    let out = run(&env, &r, &["marketplace", "add", "o/official", "--json"]).fails();
    assert!(
        out.json()["message"]
            .as_str()
            .unwrap()
            .contains("is reserved for official Anthropic marketplaces")
    );
    assert!(
        fs::read_dir(env.plugins().join("marketplaces"))
            .unwrap()
            .next()
            .is_none()
    );
    run(&env, &r, &["marketplace", "add", "anthropics/official"]).ok();
}

#[test]
fn refused_credentials_say_which_token_or_helper_would_help() {
    let env = Env::new();
    let r = remote(&env);
    let secured = GitServer::start_with_auth(&r.srv, "s3cret");
    market(
        &env,
        json!([
            {"name": "gh", "source": {"source": "github", "repo": "o/gp"}},
            {"name": "other", "source": {"source": "url", "url": secured.url("git/gp.git")}},
        ]),
    );
    let with = |token: Option<&str>, args: &[&str]| {
        let mut c = env.command(args);
        c.env("PLUGIN_GITHUB_BASE_URL", secured.base_url())
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        if let Some(t) = token {
            c.env("GH_TOKEN", t);
        }
        common::run(&mut c)
    };
    let out = with(None, &["install", "gh@mg", "--json"]).fails().json();
    let msg = out["message"].as_str().unwrap();
    assert!(
        msg.contains("refused access") && msg.contains("set GITHUB_TOKEN or GH_TOKEN"),
        "{msg}"
    );
    assert_eq!(out["failureCode"], "error_network");
    // A token is only ever sent over https (gix refuses clear text; the accepted-token path is
    // `github_tokens_authenticate_over_https`).
    let out = with(Some("s3cret"), &["install", "gh@mg", "--json"])
        .fails()
        .json();
    let msg = out["message"].as_str().unwrap();
    assert!(msg.contains("never sent over plain http"), "{msg}");
    // Other hosts do not get the GitHub token: they need a credential helper.
    let out = with(None, &["install", "other@mg", "--json"])
        .fails()
        .json();
    let msg = out["message"].as_str().unwrap();
    assert!(msg.contains("credential helper"), "{msg}");
    assert!(!env.plugins().join("installed_plugins.json").exists());
}

#[test]
fn unsafe_trees_are_refused() {
    let env = Env::new();
    let r = remote(&env);
    // Two names that differ only by case (they collide on macOS and Windows).
    let w = WorkRepo::init(&env.fx.join("work/case"));
    w.write("commands/Readme.md", "a\n");
    w.write("commands/README.md", "b\n");
    w.commit("c");
    w.publish(&r.srv.join("git/case.git"));
    // A `.git` entry inside the tree, written with plumbing (porcelain refuses to).
    let p = WorkRepo::init(&env.fx.join("work/dotgit"));
    p.write("ok.md", "ok\n");
    p.commit("c");
    let blob = git(&p.dir, &["hash-object", "-w", "ok.md"]);
    let inner = mktree(&p.dir, &format!("100644 blob {blob}\tconfig\n"));
    let outer = mktree(
        &p.dir,
        &format!("040000 tree {inner}\t.git\n100644 blob {blob}\tok.md\n"),
    );
    let commit = git(&p.dir, &["commit-tree", &outer, "-m", "evil"]);
    git(&p.dir, &["update-ref", "refs/heads/main", &commit]);
    p.publish(&r.srv.join("git/dotgit.git"));
    market(
        &env,
        json!([
            {"name": "case", "source": {"source": "url", "url": r.server.url("git/case.git")}},
            {"name": "dotgit", "source": {"source": "url", "url": r.server.url("git/dotgit.git")}},
        ]),
    );
    for (id, why) in [
        ("case@mg", "differs from it only by letter case"),
        ("dotgit@mg", "a .git entry"),
    ] {
        let out = run(&env, &r, &["install", id, "--json"]).fails().json();
        let msg = out["message"].as_str().unwrap();
        assert!(
            msg.contains("holds an unsafe entry") && msg.contains(why),
            "{id}: {msg}"
        );
        assert!(
            !env.plugins().join("cache/mg").exists(),
            "{id} left a folder"
        );
    }
}

/// `git mktree` with `listing` on stdin; returns the tree id.
fn mktree(dir: &Path, listing: &str) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = common::githttp::git_command(dir)
        .arg("mktree")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git mktree");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(listing.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("git mktree");
    assert!(out.status.success(), "git mktree failed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_silent_server_times_out_with_the_variable_named() {
    let env = Env::new();
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    market(
        &env,
        json!([{"name": "slow", "source": {"source": "url", "url": format!("http://{addr}/x.git")}}]),
    );
    let start = std::time::Instant::now();
    let out = env
        .command(&["install", "slow@mg", "--json"])
        .env("CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS", "700")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("timed out after 0.7s") && msg.contains("CLAUDE_CODE_PLUGIN_GIT_TIMEOUT_MS"),
        "{msg}"
    );
    assert_eq!(v["failureCode"], "error_network");
}

#[test]
fn submodules_are_fetched_and_laid_out() {
    let env = Env::new();
    let r = remote(&env);
    let skills = WorkRepo::init(&env.fx.join("work/skills"));
    skills.write("greet/SKILL.md", "---\nname: greet\n---\nhi\n");
    skills.commit("s1");
    skills.publish(&r.srv.join("git/skills.git"));
    let sup = WorkRepo::init(&env.fx.join("work/super"));
    sup.write(".claude-plugin/plugin.json", r#"{"name":"super"}"#);
    sup.commit("c1");
    git(
        &sup.dir,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            r.srv.join("git/skills.git").to_str().unwrap(),
            "skills/shared",
        ],
    );
    // A relative URL, resolved against the superproject's (as on any git host).
    git(
        &sup.dir,
        &[
            "config",
            "-f",
            ".gitmodules",
            "submodule.skills/shared.url",
            "../skills.git",
        ],
    );
    sup.commit("add submodule");
    sup.publish(&r.srv.join("git/super.git"));
    market(
        &env,
        json!([{"name": "super", "source": {"source": "url", "url": r.server.url("git/super.git")}}]),
    );
    let out = run(&env, &r, &["install", "super@mg"]).ok();
    let dir = PathBuf::from(
        env.first_record("super@mg")["installPath"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        fs::read_to_string(dir.join("skills/shared/greet/SKILL.md")).unwrap(),
        "---\nname: greet\n---\nhi\n",
        "{}",
        out.stderr
    );
    assert!(!dir.join("skills/shared/.git").exists());
    // The recorded listing (built while writing, submodule included) is what is on disk.
    assert_sealed(&dir);
    // The submodule's commit went through the shared git cache.
    let dbs: Vec<String> = fs::read_dir(env.user_cache().join("plugin/git-v1/db"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        dbs.iter()
            .any(|d| d.starts_with("skills-") && !d.ends_with(".lock")),
        "{dbs:?}"
    );
}

#[test]
fn url_catalog_marketplaces() {
    let env = Env::new();
    let r = remote(&env);
    let catalog = json!({"name": "webm", "owner": {"name": "x"}, "plugins": [
        {"name": "rel", "source": "./plugins/rel"},
        {"name": "gitp", "source": {"source": "url", "url": r.server.url("git/gp.git")}}
    ]});
    fs::write(r.srv.join("cat.json"), catalog.to_string()).unwrap();
    let url = r.server.url("cat.json");
    let out = run(&env, &r, &["marketplace", "add", &url, "--json"])
        .ok()
        .json();
    assert_eq!(out["marketplace"], "webm");
    let stored = env.plugins().join("marketplaces/webm");
    assert!(stored.is_file());
    assert_eq!(env.read_json(&stored), catalog);
    assert_eq!(
        env.known()["webm"]["source"],
        json!({"source": "url", "url": url})
    );
    assert_eq!(
        env.known()["webm"]["installLocation"],
        stored.to_str().unwrap()
    );
    run(&env, &r, &["install", "gitp@webm"]).ok();
    let out = run(&env, &r, &["install", "rel@webm", "--json"])
        .fails()
        .json();
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("added from a URL of its catalog only"),
        "{out}"
    );
    run(&env, &r, &["marketplace", "update", "webm"]).ok();
    // 404 and a catalog that is not a marketplace: refused, nothing written.
    let env2 = Env::new();
    let out = run(
        &env2,
        &r,
        &[
            "marketplace",
            "add",
            &r.server.url("missing.json"),
            "--json",
        ],
    )
    .fails()
    .json();
    assert!(
        out["message"].as_str().unwrap().contains("answered 404"),
        "{out}"
    );
    fs::write(r.srv.join("bad.json"), "{\"plugins\": 3}").unwrap();
    let out = run(
        &env2,
        &r,
        &["marketplace", "add", &r.server.url("bad.json"), "--json"],
    )
    .fails()
    .json();
    assert!(
        out["message"].as_str().unwrap().contains("Invalid schema"),
        "{out}"
    );
    assert!(!env2.plugins().join("known_marketplaces.json").exists());
    run(&env, &r, &["marketplace", "remove", "webm"]).ok();
    assert!(!stored.exists());
}

#[test]
fn git_url_rewrites_from_the_users_git_config_apply() {
    let env = Env::new();
    let r = remote(&env);
    // A user's `url.<base>.insteadOf` (how one asks for SSH, a mirror or a proxy) is honoured.
    let cfg = env.fx.join("gitconfig");
    fs::write(
        &cfg,
        format!(
            "[url \"{}/git/\"]\n\tinsteadOf = https://example.invalid/\n",
            r.server.base_url()
        ),
    )
    .unwrap();
    market(
        &env,
        json!([{"name": "gp", "source": {"source": "url", "url": "https://example.invalid/gp.git"}}]),
    );
    let out = env
        .command_without_tools(&["install", "gp@mg", "--json"])
        .env("GIT_CONFIG_GLOBAL", &cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(env.first_record("gp@mg")["gitCommitSha"], r.c2.as_str());
}

#[test]
fn killed_mid_fetch_the_next_run_completes() {
    let env = Env::new();
    let r = remote(&env);
    // A repository big enough that a fetch takes a while over loopback.
    let big = WorkRepo::init(&env.fx.join("work/big"));
    big.write(".claude-plugin/plugin.json", r#"{"name":"big"}"#);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..8 {
        let mut data = Vec::with_capacity(1 << 20);
        while data.len() < (1 << 20) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            data.extend_from_slice(&seed.to_le_bytes());
        }
        fs::create_dir_all(big.dir.join("data")).unwrap();
        fs::write(big.dir.join(format!("data/blob{i}.bin")), &data).unwrap();
    }
    let head = big.commit("big");
    big.publish(&r.srv.join("git/big.git"));
    market(
        &env,
        json!([{"name": "big", "source": {"source": "url", "url": r.server.url("git/big.git")}}]),
    );
    for (i, delay_ms) in [5u64, 20, 40, 60, 90, 120, 160, 250]
        .into_iter()
        .enumerate()
    {
        let mut child = env.command(&["install", "big@mg"]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Never a partial install: either nothing is recorded, or all of it is there.
        if let Some(rec) = env
            .plugins()
            .join("installed_plugins.json")
            .exists()
            .then(|| env.first_record("big@mg"))
            && !rec.is_null()
        {
            let dir = PathBuf::from(rec["installPath"].as_str().unwrap());
            assert_eq!(
                fs::read_dir(dir.join("data")).unwrap().count(),
                8,
                "iteration {i}"
            );
            run(&env, &r, &["uninstall", "big@mg"]).ok();
        }
        // The next run completes from whatever the killed fetch left in the git cache.
        run(&env, &r, &["install", "big@mg"]).ok();
        assert_eq!(
            env.first_record("big@mg")["gitCommitSha"],
            head.as_str(),
            "iteration {i}"
        );
        run(&env, &r, &["uninstall", "big@mg"]).ok();
        let db = env.user_cache().join("plugin/git-v1/db");
        if i % 2 == 1 {
            // Half the time, start from an empty git cache so kills land inside a first fetch.
            fs::remove_dir_all(&db).unwrap();
        }
    }
}

#[test]
fn github_tokens_authenticate_over_https() {
    let env = Env::new();
    let r = remote(&env);
    let (secure, ca) = GitServer::start_tls(&r.srv, Some("s3cret"), &env.fx.join("tls"));
    market(
        &env,
        json!([{"name": "gh", "source": {"source": "github", "repo": "o/gp"}}]),
    );
    let run_tls = |token: Option<&str>, base: &str, args: &[&str]| {
        let mut c = env.command(args);
        c.env("PLUGIN_GITHUB_BASE_URL", base)
            .env("SSL_CERT_FILE", &ca)
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        if let Some(t) = token {
            c.env("GITHUB_TOKEN", t);
        }
        common::run(&mut c)
    };
    let base = secure.base_url();
    assert!(base.starts_with("https://"));
    let out = run_tls(None, &base, &["install", "gh@mg", "--json"])
        .fails()
        .json();
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("set GITHUB_TOKEN or GH_TOKEN"),
        "{out}"
    );
    let out = run_tls(Some("wrong"), &base, &["install", "gh@mg", "--json"])
        .fails()
        .json();
    assert!(
        out["message"].as_str().unwrap().contains("refused access"),
        "{out}"
    );
    run_tls(Some("s3cret"), &base, &["install", "gh@mg"]).ok();
    assert_eq!(env.first_record("gh@mg")["gitCommitSha"], r.c2.as_str());
    assert!(!secure.requests().is_empty());
}

#[test]
fn cache_prune_keeps_the_database_an_install_was_made_from() {
    let env = Env::new();
    let r = remote(&env);
    market(
        &env,
        json!([{"name": "a", "source": {"source": "url", "url": r.server.url("git/gp.git")}}]),
    );
    run(&env, &r, &["install", "a@mg"]).ok();
    let root = env.user_cache().join("plugin/git-v1/db");
    let db = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a database");
    // Nothing in it changes from here on, so only the reference keeps it.
    let prune = |env: &Env| run(env, &r, &["cache", "prune", "--older-than", "0", "--json"]).ok();
    let v = prune(&env).json();
    assert_eq!(v["removed"], json!([]), "{v}");
    assert!(db.join("HEAD").is_file());

    run(&env, &r, &["uninstall", "a@mg"]).ok();
    let v = prune(&env).json();
    assert_eq!(v["removed"][0]["path"], json!(db.to_str().unwrap()), "{v}");
    assert_eq!(v["removed"][0]["kind"], json!("git"));
    assert!(!db.exists());
}

/// A repository fetched over the network whose `.gitmodules` names a repository on this machine
/// (`file:///…`) must not pull that repository into the cache.
#[test]
fn a_network_repository_cannot_name_a_local_submodule() {
    let env = Env::new();
    let r = remote(&env);
    let private = WorkRepo::init(&env.fx.join("work/private"));
    private.write("secret.txt", "s3cret-local-content\n");
    private.commit("p1");
    let private_bare = env.fx.join("private.git");
    private.publish(&private_bare);
    let sup = WorkRepo::init(&env.fx.join("work/super"));
    sup.write(".claude-plugin/plugin.json", r#"{"name":"super"}"#);
    sup.commit("c1");
    let local_url = format!("file://{}", private_bare.display());
    git(
        &sup.dir,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &local_url,
            "stolen",
        ],
    );
    sup.commit("add submodule");
    sup.publish(&r.srv.join("git/super.git"));
    market(
        &env,
        json!([{"name": "super", "source": {"source": "url", "url": r.server.url("git/super.git")}}]),
    );
    let installed = env.plugins().join("installed_plugins.json");
    let before = fs::read(&installed).ok();
    // With git on PATH, as on any developer machine: gix runs git-upload-pack for file:// URLs.
    let out = Run::from(env.command(&["install", "super@mg"]).output().unwrap()).fails();
    assert!(
        out.stderr.contains("submodule stolen")
            && out.stderr.contains("names a repository on this machine"),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read(&installed).ok(), before);
    let cache = env.plugins().join("cache");
    fs::create_dir_all(&cache).unwrap();
    assert!(
        !tree_with_content(&cache)
            .iter()
            .any(|l| l.contains("s3cret-local-content")),
        "{:?}",
        tree_with_content(&cache)
    );
}
