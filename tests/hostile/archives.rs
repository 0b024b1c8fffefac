//! Packages as archives (npm tarballs and their Node.js dependencies, wheels, zip archives):
//! names that are never installed, one unpack cap per install, entries that refuse the package,
//! and what a skipped entry is called.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::registry::{Registry, TarEntry, ZipEntry, tgz, wheel, zip};
use crate::common::*;
use serde_json::{Value, json};

/// No git, npm, node, pip on PATH; no npm or pip configuration from the environment; loopback
/// archives allowed (the test-only switch).
fn command(env: &Env, args: &[&str]) -> std::process::Command {
    let mut c = env.command_without_tools(args);
    c.env("PLUGIN_ALLOW_LOCAL_ARCHIVES", "1")
        .env_remove("npm_config_registry")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_CONFIG_FILE")
        .env_remove("PLUGIN_MAX_UNPACK_BYTES");
    c
}

fn run(env: &Env, args: &[&str]) -> Run {
    Run::from(command(env, args).output().expect("run plugin"))
}

fn install_path(env: &Env, id: &str) -> PathBuf {
    PathBuf::from(env.first_record(id)["installPath"].as_str().unwrap())
}

/// Every path under `root`, relative, sorted (folders too).
fn paths(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The plugin cache, the download cache aside, and the state files: what a failed install
/// must leave exactly as it was.
fn snapshot(env: &Env) -> (Vec<String>, Value, Value) {
    let cache = env.plugins().join("cache");
    let tree = if cache.exists() {
        paths(&cache)
    } else {
        Vec::new()
    };
    let read = |p: PathBuf| -> Value {
        fs::read(&p)
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or(Value::Null)
    };
    (
        tree,
        read(env.plugins().join("installed_plugins.json")),
        read(env.claude().join("settings.json")),
    )
}

fn plugin_json(name: &str) -> Vec<u8> {
    json!({"name": name}).to_string().into_bytes()
}

const GIT_CONFIG: &[u8] = b"[core]\n\tfsmonitor = touch /tmp/pwned-by-plugin-test\n";

/// A `.git/` folder or a cache bookkeeping name, at the top or deeper, is never installed from
/// any kind of package, a Node.js dependency included; each is reported once.
#[test]
fn git_folders_and_bookkeeping_names_are_left_out_of_every_package_at_any_depth() {
    let env = Env::new();
    let reg = Registry::start();
    // A Node.js dependency shipping a .git folder, and a lockfile that would install another
    // dependency *as* node_modules/.git.
    reg.add_npm(
        "dep-a",
        "1.0.0",
        &[
            ("index.js", b"a", 0o644),
            (".git/config", GIT_CONFIG, 0o644),
        ],
    );
    reg.add_npm("dep-git", "1.0.0", &[("config", GIT_CONFIG, 0o644)]);
    let locked = |name: &str| {
        json!({"version": "1.0.0", "resolved": reg.npm_tarball_url(name, "1.0.0"),
               "integrity": reg.npm_integrity(name, "1.0.0")})
    };
    let lock = json!({
        "name": "dots", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "dots", "version": "1.0.0", "dependencies": {"dep-a": "1.0.0"}},
            "node_modules/dep-a": locked("dep-a"),
            "node_modules/.git": locked("dep-git"),
        }
    });
    let manifest = json!({"name": "dots", "version": "1.0.0", "dependencies": {"dep-a": "1.0.0"}});
    let hostile: &[(&str, &[u8], u32)] = &[
        (".in_use/1", b"", 0o644),
        (".orphaned_at", b"1", 0o644),
        (".plugin-ok", b"{}", 0o644),
        ("lib/.plugin-files", b"x", 0o644),
        (".git/config", GIT_CONFIG, 0o644),
        (".git/hooks/post-checkout", b"#!/bin/sh\n", 0o755),
        ("lib/.git/config", GIT_CONFIG, 0o644),
        (".GIT/config", GIT_CONFIG, 0o644),
    ];
    let (manifest, lock) = (manifest.to_string(), lock.to_string());
    let mut files: Vec<(&str, &[u8], u32)> = vec![
        ("package.json", manifest.as_bytes(), 0o644),
        ("npm-shrinkwrap.json", lock.as_bytes(), 0o644),
        (".claude-plugin/plugin.json", b"{\"name\":\"dots\"}", 0o644),
        ("lib/ok.js", b"ok", 0o644),
    ];
    files.extend_from_slice(hostile);
    reg.add_npm("dots", "1.0.0", &files);
    // The same names in a wheel and in a zip archive.
    let mut wheel_files: Vec<(String, Vec<u8>, u32)> = vec![
        (
            "dots_py/.claude-plugin/plugin.json".into(),
            plugin_json("dots-py"),
            0o644,
        ),
        ("dots_py/lib/ok.py".into(), b"ok".to_vec(), 0o644),
    ];
    let mut zip_entries = vec![
        ZipEntry::file(
            "p/.claude-plugin/plugin.json",
            &plugin_json("dots-zip"),
            0o644,
        ),
        ZipEntry::file("p/lib/ok.md", b"ok", 0o644),
    ];
    for (path, data, mode) in hostile {
        wheel_files.push((format!("dots_py/{path}"), data.to_vec(), *mode));
        zip_entries.push(ZipEntry::file(&format!("p/{path}"), data, *mode));
    }
    let refs: Vec<(&str, &[u8], u32)> = wheel_files
        .iter()
        .map(|(p, d, m)| (p.as_str(), d.as_slice(), *m))
        .collect();
    reg.add_wheel("dots-py", "1.0.0", "dots_py-1.0.0-py3-none-any.whl", &refs);
    reg.add_file("/dots.zip", zip(&zip_entries));
    let r = reg.base_url();
    env.add_marketplace(
        "mx",
        &json!([
            {"name": "dots", "source": {"source": "npm", "package": "dots", "registry": r}},
            {"name": "dots-py", "source": {"source": "pip", "package": "dots-py", "registry": reg.url("simple/")}},
            {"name": "dots-zip", "source": {"source": "archive", "url": reg.url("dots.zip")}},
        ]),
    );
    for (id, ok) in [
        ("dots@mx", "lib/ok.js"),
        ("dots-py@mx", "lib/ok.py"),
        ("dots-zip@mx", "lib/ok.md"),
    ] {
        let out = run(&env, &["install", id]).ok();
        let dir = install_path(&env, id);
        assert!(dir.join(ok).is_file(), "{id}: {:?}", paths(&dir));
        let installed = paths(&dir);
        for gone in [".in_use", "lib/.plugin-files", ".git", "lib/.git", ".GIT"] {
            assert!(
                !installed.contains(&gone.to_string()),
                "{id}: {gone} was installed: {installed:?}"
            );
        }
        // Ours, written after the content, are the only bookkeeping files.
        let marker: Value =
            serde_json::from_str(&fs::read_to_string(dir.join(".plugin-ok")).unwrap()).unwrap();
        assert_eq!(marker["plugin"], id.split('@').next().unwrap(), "{id}");
        assert!(!dir.join(".orphaned_at").exists(), "{id}");
        // One warning per left-out name, not one per file under it.
        for (name, why) in [
            (".in_use", "the name is reserved for cache bookkeeping"),
            (".orphaned_at", "the name is reserved for cache bookkeeping"),
            (".plugin-ok", "the name is reserved for cache bookkeeping"),
            (
                "lib/.plugin-files",
                "the name is reserved for cache bookkeeping",
            ),
            (".git", "git metadata"),
            ("lib/.git", "git metadata"),
            (".GIT", "git metadata"),
        ] {
            let line = format!("warning: skipped {name}: ");
            assert_eq!(
                out.stderr.matches(&line).count(),
                1,
                "{id}: {line}\n{}",
                out.stderr
            );
            let full = out.stderr.lines().find(|l| l.starts_with(&line)).unwrap();
            assert!(full.contains(why), "{id}: {full}");
        }
        if id == "dots@mx" {
            assert_eq!(
                fs::read_to_string(dir.join("node_modules/dep-a/index.js")).unwrap(),
                "a"
            );
            for gone in ["node_modules/dep-a/.git", "node_modules/.git"] {
                assert!(!dir.join(gone).exists(), "{gone} was installed");
                assert!(
                    out.stderr.contains(&format!("warning: skipped {gone}: ")),
                    "{gone}\n{}",
                    out.stderr
                );
            }
        }
    }
    assert!(!Path::new("/tmp/pwned-by-plugin-test").exists());
}

/// Folder copies leave nested bookkeeping names out too (the same rule for every source).
#[test]
fn folder_copies_leave_out_bookkeeping_names_at_any_depth() {
    let env = Env::new();
    let mkt = env.fx.join("mkt");
    marketplace(&mkt, "mf", r#"[{"name":"p","source":"./p"}]"#);
    plugin(&mkt.join("p"), "p", Some("1.0.0"));
    write(&mkt.join("p/lib/.in_use/1"), "");
    write(&mkt.join("p/lib/ok.md"), "ok");
    run(&env, &["marketplace", "add", mkt.to_str().unwrap()]).ok();
    let out = run(&env, &["install", "p@mf"]).ok();
    let dir = install_path(&env, "p@mf");
    assert!(dir.join("lib/ok.md").is_file());
    assert!(!dir.join("lib/.in_use").exists(), "{:?}", paths(&dir));
    assert!(
        out.stderr
            .contains("warning: skipped lib/.in_use: the name is reserved for cache bookkeeping"),
        "{}",
        out.stderr
    );
}

/// Node.js dependencies that are each under the cap but together over it: the install is
/// refused as a whole, and nothing it staged is left.
#[test]
fn the_unpack_cap_is_for_the_whole_install_with_its_dependencies() {
    let env = Env::new();
    let reg = Registry::start();
    let blob = vec![b'x'; 3000];
    let mut lock_packages = serde_json::Map::new();
    lock_packages.insert(
        String::new(),
        json!({"name": "fat", "version": "1.0.0", "dependencies": {}}),
    );
    for i in 0..4 {
        let name = format!("dep-{i}");
        reg.add_npm(&name, "1.0.0", &[("blob.bin", &blob, 0o644)]);
        lock_packages.insert(
            format!("node_modules/{name}"),
            json!({"version": "1.0.0", "resolved": reg.npm_tarball_url(&name, "1.0.0"),
                   "integrity": reg.npm_integrity(&name, "1.0.0")}),
        );
    }
    let lock =
        json!({"name": "fat", "version": "1.0.0", "lockfileVersion": 3, "packages": lock_packages});
    let manifest = json!({"name": "fat", "version": "1.0.0", "dependencies": {"dep-0": "1.0.0"}});
    reg.add_npm(
        "fat",
        "1.0.0",
        &[
            ("package.json", manifest.to_string().as_bytes(), 0o644),
            ("npm-shrinkwrap.json", lock.to_string().as_bytes(), 0o644),
            (".claude-plugin/plugin.json", &plugin_json("fat"), 0o644),
        ],
    );
    // A zip archive over the cap on its own: the same cap, the same message.
    reg.add_file(
        "/fat.zip",
        zip(&[
            ZipEntry::file(".claude-plugin/plugin.json", &plugin_json("fatzip"), 0o644),
            ZipEntry::file("a.bin", &blob, 0o644),
            ZipEntry::file("b.bin", &blob, 0o644),
            ZipEntry::file("c.bin", &blob, 0o644),
            ZipEntry::file("d.bin", &blob, 0o644),
        ]),
    );
    let r = reg.base_url();
    env.add_marketplace(
        "mc",
        &json!([
            {"name": "fat", "source": {"source": "npm", "package": "fat", "registry": r}},
            {"name": "fatzip", "source": {"source": "archive", "url": reg.url("fat.zip")}},
        ]),
    );
    // An earlier install, so that "state unchanged" has something to keep.
    let mkt = env.fx.join("mkt");
    marketplace(&mkt, "mf", r#"[{"name":"p","source":"./p"}]"#);
    plugin(&mkt.join("p"), "p", Some("1.0.0"));
    run(&env, &["marketplace", "add", mkt.to_str().unwrap()]).ok();
    run(&env, &["install", "p@mf"]).ok();
    for id in ["fat@mc", "fatzip@mc"] {
        let before = snapshot(&env);
        let out = Run::from(
            command(&env, &["install", id, "--json"])
                .env("PLUGIN_MAX_UNPACK_BYTES", "10000")
                .output()
                .unwrap(),
        )
        .fails()
        .json();
        let msg = out["message"].as_str().unwrap();
        assert!(
            msg.contains("the install would write more than 10000 bytes"),
            "{id}: {msg}"
        );
        assert_eq!(
            snapshot(&env),
            before,
            "{id} changed the cache or the state"
        );
    }
    // The variable only ever lowers the cap (a larger value is ignored), and the default holds
    // these small packages.
    Run::from(
        command(&env, &["install", "fat@mc"])
            .env("PLUGIN_MAX_UNPACK_BYTES", "99999999999999")
            .output()
            .unwrap(),
    )
    .ok();
    let dir = install_path(&env, "fat@mc");
    for i in 0..4 {
        assert_eq!(
            fs::read(dir.join(format!("node_modules/dep-{i}/blob.bin")))
                .unwrap()
                .len(),
            3000
        );
    }
}

/// Zip entries that are absolute or climb with `..` refuse the whole package (as tar entries
/// do), naming the entry; so do entries that write a path twice, in tarballs, zips and wheels.
#[test]
fn absolute_climbing_and_duplicate_entries_refuse_the_package() {
    let env = Env::new();
    let reg = Registry::start();
    let manifest = plugin_json("x");
    let top = |extra: ZipEntry| {
        zip(&[
            ZipEntry::file(".claude-plugin/plugin.json", &manifest, 0o644),
            extra,
        ])
    };
    reg.add_file("/abs.zip", top(ZipEntry::file("/abs.txt", b"x", 0o644)));
    reg.add_file(
        "/climb.zip",
        top(ZipEntry::file("sub/../climb.txt", b"x", 0o644)),
    );
    reg.add_file(
        "/backslash.zip",
        top(ZipEntry::file("sub\\..\\..\\out.txt", b"x", 0o644)),
    );
    reg.add_file(
        "/dup.zip",
        zip(&[
            ZipEntry::file(".claude-plugin/plugin.json", &manifest, 0o644),
            ZipEntry::file("a.md", b"first", 0o644),
            ZipEntry::file("./a.md", b"second", 0o644),
        ]),
    );
    reg.add_file(
        "/dupraw.zip",
        raw_zip(&[
            (".claude-plugin/plugin.json", &manifest),
            ("a.md", b"first"),
            ("a.md", b"second"),
        ]),
    );
    reg.add_file(
        "/fileasdir.zip",
        zip(&[
            ZipEntry::file(".claude-plugin/plugin.json", &manifest, 0o644),
            ZipEntry::file("lib", b"a file", 0o644),
            ZipEntry::file("lib/x.md", b"under it", 0o644),
        ]),
    );
    let wheel_climb = wheel(
        "wclimb",
        "1.0.0",
        "wclimb-1.0.0-py3-none-any.whl",
        &[
            ("wclimb/.claude-plugin/plugin.json", &manifest, 0o644),
            ("wclimb/x/../y.md", b"y", 0o644),
        ],
    );
    reg.add_pypi_file_raw(
        "wclimb",
        "1.0.0",
        "wclimb-1.0.0-py3-none-any.whl",
        wheel_climb,
        false,
    );
    let tar_manifest = json!({"name": "tdup", "version": "1.0.0"}).to_string();
    reg.add_npm_raw_tarball(
        "tdup",
        "1.0.0",
        tgz(&[
            TarEntry::file("package/package.json", tar_manifest.as_bytes(), 0o644),
            TarEntry::file("package/a.md", b"first", 0o644),
            TarEntry::file("package/a.md", b"second", 0o644),
        ]),
    );
    reg.add_npm_raw_tarball(
        "tdup2",
        "1.0.0",
        tgz(&[
            TarEntry::file("package/package.json", tar_manifest.as_bytes(), 0o644),
            TarEntry::file("package/a.md", b"first", 0o644),
            TarEntry::file("other/a.md", b"second", 0o644),
        ]),
    );
    let r = reg.base_url();
    env.add_marketplace(
        "mz",
        &json!([
            {"name": "abs", "source": {"source": "archive", "url": reg.url("abs.zip")}},
            {"name": "climb", "source": {"source": "archive", "url": reg.url("climb.zip")}},
            {"name": "backslash", "source": {"source": "archive", "url": reg.url("backslash.zip")}},
            {"name": "dup", "source": {"source": "archive", "url": reg.url("dup.zip")}},
            {"name": "dupraw", "source": {"source": "archive", "url": reg.url("dupraw.zip")}},
            {"name": "fileasdir", "source": {"source": "archive", "url": reg.url("fileasdir.zip")}},
            {"name": "wclimb", "source": {"source": "pip", "package": "wclimb", "registry": reg.url("simple/")}},
            {"name": "tdup", "source": {"source": "npm", "package": "tdup", "registry": r}},
            {"name": "tdup2", "source": {"source": "npm", "package": "tdup2", "registry": r}},
        ]),
    );
    for (id, entry, why) in [
        ("abs@mz", "\"/abs.txt\"", "it is an absolute path"),
        ("climb@mz", "\"sub/../climb.txt\"", "\"..\""),
        ("backslash@mz", "\"sub\\..\\..\\out.txt\"", "\"..\""),
        (
            "dup@mz",
            "\"./a.md\"",
            "an earlier entry wrote the same path",
        ),
        ("dupraw@mz", "", "two entries with the same name"),
        (
            "fileasdir@mz",
            "\"lib/x.md\"",
            "an earlier entry wrote a file where this entry needs a folder",
        ),
        ("wclimb@mz", "\"wclimb/x/../y.md\"", "\"..\""),
        (
            "tdup@mz",
            "\"package/a.md\"",
            "an earlier entry wrote the same path",
        ),
        (
            "tdup2@mz",
            "\"other/a.md\"",
            "an earlier entry wrote the same path",
        ),
    ] {
        let before = snapshot(&env);
        let out = run(&env, &["install", id, "--json"]).fails().json();
        let msg = out["message"].as_str().unwrap();
        assert!(
            msg.contains(entry) && msg.contains(why) && msg.contains("refusing to install it"),
            "{id}: {msg}"
        );
        assert!(!msg.contains("os error"), "{id}: {msg}");
        assert_eq!(
            snapshot(&env),
            before,
            "{id} changed the cache or the state"
        );
    }
    assert!(!env.fx.join("out.txt").exists());
}

/// A hard link is called a hard link, the same from a tarball and a zip; a zip's symlink is
/// reported with its target, as a tarball's is.
#[test]
fn skipped_links_say_what_they_are() {
    let env = Env::new();
    let reg = Registry::start();
    let manifest = json!({"name": "links", "version": "1.0.0"}).to_string();
    reg.add_npm_raw_tarball(
        "links",
        "1.0.0",
        tgz(&[
            TarEntry::file("package/package.json", manifest.as_bytes(), 0o644),
            TarEntry::file("package/real.md", b"real", 0o644),
            TarEntry::hardlink("package/hard", "package/real.md"),
            TarEntry::symlink("package/soft", "real.md"),
            TarEntry::special("package/fifo", b'6', 0o644),
        ]),
    );
    reg.add_file(
        "/links.zip",
        zip(&[
            ZipEntry::file(".claude-plugin/plugin.json", &plugin_json("zlinks"), 0o644),
            ZipEntry::file("real.md", b"real", 0o644),
            ZipEntry::symlink("soft", "real.md"),
        ]),
    );
    env.add_marketplace(
        "ml",
        &json!([
            {"name": "links", "source": {"source": "npm", "package": "links", "registry": reg.base_url()}},
            {"name": "zlinks", "source": {"source": "archive", "url": reg.url("links.zip")}},
        ]),
    );
    let out = run(&env, &["install", "links@ml"]).ok();
    assert!(
        out.stderr.contains(
            "warning: skipped hard link hard -> real.md: hard links in packages are not installed"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "warning: skipped symlink soft -> real.md: symbolic links in packages are not installed"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("warning: skipped fifo: it is not a regular file, folder or symlink"),
        "{}",
        out.stderr
    );
    let out = run(&env, &["install", "zlinks@ml"]).ok();
    assert!(
        out.stderr.contains(
            "warning: skipped symlink soft -> real.md: symbolic links in packages are not installed"
        ),
        "{}",
        out.stderr
    );
    for id in ["links@ml", "zlinks@ml"] {
        let dir = install_path(&env, id);
        assert_eq!(fs::read_to_string(dir.join("real.md")).unwrap(), "real");
        for gone in ["hard", "soft", "fifo"] {
            assert!(
                fs::symlink_metadata(dir.join(gone)).is_err(),
                "{id}: {gone}"
            );
        }
    }
}

/// A zip of stored (uncompressed) files written byte by byte, so that names the zip crate's
/// writer refuses (the same name twice) can be served.
fn raw_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let (n, len) = (name.len() as u16, data.len() as u32);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(&n.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&(0x0300u16 | 20).to_le_bytes()); // made by Unix
        common(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&((0o100644u32) << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let start = out.len() as u32;
    let count = files.len() as u16;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A package that ships a dependency's folder itself (npm's bundled dependencies) while its
/// lockfile locks the same path: the shipped copy is kept, as npm keeps bundled dependencies,
/// instead of failing on a path the package already wrote.
#[test]
fn dependencies_the_package_ships_itself_are_kept() {
    let env = Env::new();
    let reg = Registry::start();
    reg.add_npm(
        "dep-a",
        "1.0.0",
        &[("index.js", b"from the registry", 0o644)],
    );
    reg.add_npm("dep-b", "1.0.0", &[("index.js", b"b", 0o644)]);
    let locked = |name: &str| {
        json!({"version": "1.0.0", "resolved": reg.npm_tarball_url(name, "1.0.0"),
               "integrity": reg.npm_integrity(name, "1.0.0")})
    };
    let mut bundled_b = locked("dep-b");
    bundled_b["inBundle"] = json!(true);
    let lock = json!({
        "name": "bundles", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "bundles", "version": "1.0.0", "dependencies": {"dep-a": "1.0.0"}},
            "node_modules/dep-a": locked("dep-a"),
            "node_modules/dep-b": bundled_b,
        }
    })
    .to_string();
    let manifest = json!({"name": "bundles", "version": "1.0.0",
        "dependencies": {"dep-a": "1.0.0", "dep-b": "1.0.0"}, "bundleDependencies": ["dep-a"]})
    .to_string();
    reg.add_npm(
        "bundles",
        "1.0.0",
        &[
            ("package.json", manifest.as_bytes(), 0o644),
            ("npm-shrinkwrap.json", lock.as_bytes(), 0o644),
            (".claude-plugin/plugin.json", &plugin_json("bundles"), 0o644),
            ("node_modules/dep-a/index.js", b"shipped", 0o644),
        ],
    );
    env.add_marketplace(
        "mb",
        &json!([{"name": "bundles", "source": {"source": "npm", "package": "bundles", "registry": reg.base_url()}}]),
    );
    run(&env, &["install", "bundles@mb"]).ok();
    let dir = install_path(&env, "bundles@mb");
    assert_eq!(
        fs::read_to_string(dir.join("node_modules/dep-a/index.js")).unwrap(),
        "shipped"
    );
    // Marked as bundled but not shipped: nothing to install from the registry either.
    assert!(!dir.join("node_modules/dep-b").exists());
}

/// A write that fails while a package is unpacked (here a file-size limit, as on a full disk)
/// leaves nothing behind: no staging folder, no record, no settings change.
#[cfg(unix)] // a full disk is simulated with a file size limit (setrlimit)
#[test]
fn a_failed_write_while_unpacking_leaves_nothing_behind() {
    let env = Env::new();
    let reg = Registry::start();
    let big = vec![b'x'; 200 * 1024];
    reg.add_npm(
        "huge",
        "1.0.0",
        &[
            (".claude-plugin/plugin.json", &plugin_json("huge"), 0o644),
            ("data/big.bin", &big, 0o644),
        ],
    );
    env.add_marketplace(
        "mc",
        &json!([{"name": "huge", "source": {"source": "npm", "package": "huge", "registry": reg.base_url()}}]),
    );
    let before = snapshot(&env);
    let r = crate::state_writes::on_full_disk(command(&env, &["install", "huge@mc"])).fails();
    assert!(
        r.stderr.contains("big.bin") && r.stderr.contains("File too large"),
        "{}",
        r.stderr
    );
    assert_eq!(snapshot(&env), before);
    // Without the limit the same install succeeds.
    run(&env, &["install", "huge@mc"]).ok();
}
