//! Filesystem primitives shared by `state` and `cache`: atomic file replacement, durable
//! renames, and the random/time helpers used for temporary names and timestamps.
//!
//! Every function returns an [`IoError`] that carries the path it failed on, so no I/O error
//! reaches the user without saying which file was involved.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An I/O error together with the path and the operation that failed (the file the user knows,
/// never our temporary file beside it), with what to do when the system refused access.
#[derive(Debug, thiserror::Error)]
#[error("{op} {}: {source}{}", path.display(), access_hint(source, path))]
pub struct IoError {
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl IoError {
    pub fn new(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self {
            op,
            path: path.into(),
            source,
        }
    }

    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

/// For the system's "permission denied" (not our own refusals, which say why themselves).
fn access_hint(e: &io::Error, path: &Path) -> String {
    if e.kind() == io::ErrorKind::PermissionDenied && e.raw_os_error().is_some() {
        let folder = path.parent().unwrap_or(Path::new("/"));
        format!(
            "; check the owner and permissions of {} and of its folder {} ({})",
            path.display(),
            folder.display(),
            crate::platform::PERMISSIONS_COMMAND
        )
    } else {
        String::new()
    }
}

/// Attach a path and an operation name to a `std::io::Result`.
pub trait IoContext<T> {
    fn at(self, op: &'static str, path: &Path) -> Result<T, IoError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, op: &'static str, path: &Path) -> Result<T, IoError> {
        self.map_err(|e| IoError::new(op, path, e))
    }
}

/// The value of a test-only environment variable (`PLUGIN_CRASH_AT`,
/// `PLUGIN_ALLOW_LOCAL_ARCHIVES`, `PLUGIN_ALLOW_HTTP_HELPERS`): read in debug builds, which the tests run, and never in
/// release builds, so what ships cannot be made to abort or to lift a safety rule by an
/// inherited environment.
pub fn test_hook(name: &str) -> Option<String> {
    if cfg!(debug_assertions) {
        std::env::var(name).ok()
    } else {
        None
    }
}

/// A step boundary of a multi-file operation, for the crash tests: with `PLUGIN_CRASH_AT=<n>`
/// (a [`test_hook`]) the n-th boundary reached in this process aborts it, leaving the disk as a
/// `kill -9` there would (no cleanup runs). Unset, or in a release build, it does nothing.
pub fn crash_point() {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};
    static AT: OnceLock<Option<u32>> = OnceLock::new();
    static REACHED: AtomicU32 = AtomicU32::new(0);
    let at = AT.get_or_init(|| test_hook("PLUGIN_CRASH_AT")?.parse().ok());
    if let Some(n) = at
        && REACHED.fetch_add(1, Ordering::SeqCst) + 1 == *n
    {
        std::process::abort();
    }
}

/// A write that fails as a full disk would, for the tests of what a failed step puts back:
/// with `PLUGIN_FAIL_WRITE=<file name>:<n>` (a [`test_hook`]) the n-th state-file write of a
/// file of that name in this process fails. Unset, or in a release build, never.
pub fn write_fault(path: &Path) -> Option<std::io::Error> {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};
    static AT: OnceLock<Option<(String, u32)>> = OnceLock::new();
    static REACHED: AtomicU32 = AtomicU32::new(0);
    let (name, n) = AT
        .get_or_init(|| {
            let hook = test_hook("PLUGIN_FAIL_WRITE")?;
            let (name, n) = hook.rsplit_once(':')?;
            Some((name.to_string(), n.parse().ok()?))
        })
        .as_ref()?;
    if path.file_name()? != name.as_str() {
        return None;
    }
    (REACHED.fetch_add(1, Ordering::SeqCst) + 1 == *n)
        .then(|| std::io::Error::other("no space left on device (PLUGIN_FAIL_WRITE)"))
}

/// Lower-case hex of `n` random bytes (for temporary names).
pub fn random_hex(n: usize) -> String {
    (0..n)
        .map(|_| format!("{:02x}", fastrand::u8(..)))
        .collect()
}

/// Random lower-case base-36 string of `n` characters.
pub fn random_base36(n: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..n)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

/// Milliseconds since the Unix epoch.
pub fn epoch_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// ISO-8601 UTC timestamp with milliseconds, the format Claude Code writes (`2026-11-21T19:05:03.725Z`).
pub fn iso_timestamp() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Flush a directory entry (after a rename or create inside it) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), IoError> {
    crate::platform::sync_dir(dir).at("sync directory", dir)
}

/// The largest settings, state, catalog or manifest file read (real ones are kilobytes).
pub const JSON_FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// Read a file that must be a regular file of at most `limit` bytes (a symlink to one is
/// followed). A project's `.claude/settings.json` comes with the repository: a link to
/// `/dev/zero` or a FIFO there must fail with a message, not fill memory or hang. The open never
/// blocks (`O_NONBLOCK`), and the type is checked on the opened file itself.
pub fn read_regular_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = crate::platform::open_nonblocking(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a FIFO, device or socket); replace it with a file",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is larger than {} MiB", limit / (1024 * 1024)),
        ));
    }
    Ok(bytes)
}

/// [`read_regular_file`] as UTF-8 text.
pub fn read_regular_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_regular_file(path, limit)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))
}

/// Replace `path` with `bytes` atomically: write a temporary file beside it, fsync it, rename it
/// over `path`, fsync the directory. A crash leaves either the old or the new content, plus at
/// worst a temporary `.<file>.plugin-tmp-<pid>-<hex>`, which the next write removes once its
/// process is gone.
///
/// A symbolic link (a settings file kept in a dotfiles repository) is written through: the file
/// at the end of the chain of links is replaced, beside itself, and the links stay. A dangling
/// link gets its target created when the target's folder exists; else the write fails, naming
/// both (a folder is created only for a plain path). The replaced file's permission bits, owner
/// and group are kept (the owner only where allowed); a new file gets `0644` minus the umask.
/// Errors name `path`, the file the user knows, not the temporary file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_as(path, bytes, false)
}

/// [`write_atomic`] for a file only its owner may read (secrets): created `0600`, and an
/// existing file's wider mode narrowed to it, before any byte is written.
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_as(path, bytes, true)
}

fn write_atomic_as(path: &Path, bytes: &[u8], private: bool) -> Result<(), IoError> {
    let target = resolve_links(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    if target == path {
        fs::create_dir_all(dir).at("create directory", dir)?;
    } else if !dir.is_dir() {
        return Err(IoError::new(
            "write",
            path,
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "it is a symbolic link to {}, whose folder does not exist",
                    target.display()
                ),
            ),
        ));
    }
    let previous = fs::metadata(&target).ok();
    // Renaming over a device, FIFO or folder a link points at would replace it (as root:
    // `/dev/null`); only a regular file is ever replaced.
    if previous.as_ref().is_some_and(|m| !m.is_file()) {
        return Err(IoError::new(
            "write",
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a regular file; replace it with a file",
                    target.display()
                ),
            ),
        ));
    }
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = temp_path(dir, &format!(".{file_name}.plugin-tmp-"));
    let result = (|| {
        let mode = if private { 0o600 } else { 0o644 };
        let mut f = crate::platform::create_new_file(&tmp, mode).at("write", path)?;
        if let Some(old) = &previous {
            crate::platform::keep_owner_and_mode(&f, old).at("write", path)?;
        }
        if private {
            crate::platform::set_permissions(&f, 0o600).at("write", path)?;
        }
        f.write_all(bytes).at("write", path)?;
        f.sync_all().at("write", path)?;
        drop(f);
        rename(&tmp, &target).at("write", path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The file a write to `path` must replace: `path` itself, or, when it is a symbolic link, the
/// end of its chain of links (relative targets are relative to the link's folder). The result
/// may not exist (a dangling link, or a new file).
pub fn resolve_links(path: &Path) -> Result<PathBuf, IoError> {
    // As the kernel: a longer chain is a loop.
    const MAX_LINKS: usize = 40;
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&current).at("read link", &current)?;
                current = match current.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(IoError::new("read", &current, e)),
        }
    }
    Err(IoError::new(
        "write",
        path,
        io::Error::other("too many levels of symbolic links"),
    ))
}

/// A fresh temporary name `<prefix><pid>-<hex>` in `dir`; files of that pattern left by
/// processes that no longer exist (killed mid-write) are removed first.
pub fn temp_path(dir: &Path, prefix: &str) -> PathBuf {
    remove_stale_temps(dir, prefix);
    dir.join(format!("{prefix}{}-{}", std::process::id(), random_hex(6)))
}

/// Remove temporary files (or links) named `<prefix><pid>-<hex>` whose process no longer exists.
pub fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| !crate::platform::process_alive(p)) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Swap two existing paths in one step ([`crate::platform::exchange`]), so that a crash leaves
/// one or the other in place, never neither. Only where the filesystem cannot exchange, `b` is
/// moved to `aside` first (three renames; put back if the second fails).
pub fn exchange(a: &Path, b: &Path, aside: &Path) -> Result<(), IoError> {
    if crate::platform::exchange(a, b).at("swap into place", b)? {
        return Ok(());
    }
    rename(b, aside).at("move aside", b)?;
    if let Err(e) = rename(a, b) {
        let _ = rename(aside, b);
        return Err(IoError::new("rename into place", b, e));
    }
    rename(aside, a).at("rename", aside)
}

/// `fs::rename`, tried again for a while when another process holds the file for a moment
/// (on Windows an antivirus or indexer scanning what was just written makes a rename fail
/// with a sharing violation or "access denied"): up to 8 tries over about 2.5 seconds, then
/// the last error. A rename onto an existing folder fails at once: Windows says "access denied"
/// for it too, and no wait makes it succeed (the caller swaps instead).
#[allow(clippy::disallowed_methods)] // the helper clippy.toml points to
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    let mut delay = std::time::Duration::from_millis(10);
    for _ in 0..7 {
        match fs::rename(from, to) {
            Err(e)
                if crate::platform::is_transient_sharing(&e)
                    && !fs::symlink_metadata(to).is_ok_and(|m| m.is_dir()) =>
            {
                std::thread::sleep(delay);
                delay *= 2;
            }
            other => return other,
        }
    }
    fs::rename(from, to)
}

/// Remove a directory tree, succeeding when it is already gone. Tried again for about 1.3 s
/// when a file in it is held: on Windows a removed name whose file another process has open
/// (the same file under another name, as store-linked files are) stays until that handle
/// closes, and keeps its folder from being removed meanwhile.
#[allow(clippy::disallowed_methods)] // the helper clippy.toml points to
pub fn remove_tree(path: &Path) -> Result<(), IoError> {
    let mut delay = std::time::Duration::from_millis(10);
    let mut tries = 0;
    loop {
        match fs::remove_dir_all(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e)
                if tries < 7
                    && (crate::platform::is_not_empty(&e)
                        || crate::platform::is_transient_sharing(&e)) =>
            {
                tries += 1;
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(e) => return Err(IoError::new("remove", path, e)),
        }
    }
}

/// The real path of `path` (links resolved), written as the user knows it: on Windows without
/// the `\\?\` prefix std adds where it is not needed (Claude Code writes `C:\Users\…`).
#[allow(clippy::disallowed_methods)] // the helper clippy.toml points to
pub fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    dunce::canonicalize(path)
}

/// Expand a leading `~` or `~/` (`~\` on Windows) with the user's home directory.
pub fn expand_tilde(raw: &str, home: &Path) -> PathBuf {
    match raw.strip_prefix('~') {
        Some("") => home.to_path_buf(),
        Some(rest) if rest.starts_with(std::path::is_separator) => home.join(&rest[1..]),
        _ => PathBuf::from(raw),
    }
}

/// Make `path` absolute against `base` and remove `.` and `..` components lexically
/// (without touching the filesystem, so symlinks are not resolved).
pub fn absolutize(path: &Path, base: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    normalize_lexically(&joined)
}

/// Remove `.` and `..` components without touching the filesystem.
pub fn normalize_lexically(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let at_parent = matches!(
                    out.components().next_back(),
                    None | Some(Component::ParentDir)
                );
                if at_parent {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A relative path written with `/` between its parts, whatever the OS's separator (for what
/// is written into catalogs and listings, which are the same on every OS).
pub fn slash_path(rel: &Path) -> String {
    let parts: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
    parts.join("/")
}

/// `base` joined with `rel`, a relative path as catalogs write it (`/` between parts), in the
/// OS's own spelling (`\` on Windows, as Claude Code's `path.join` gives there).
pub fn join_slashed(base: &Path, rel: &str) -> PathBuf {
    if std::path::MAIN_SEPARATOR == '/' {
        base.join(rel)
    } else {
        base.join(rel.replace('/', std::path::MAIN_SEPARATOR_STR))
    }
}

/// The relative path from folder `from` to `to` (both relative to the same root).
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The entries of `dir` (full paths, links not followed), in name order; none when it cannot be
/// read.
pub fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    /// A file another process holds for a moment (an antivirus scanning it) makes a rename
    /// over it fail with a sharing violation on Windows; the rename waits and succeeds.
    #[cfg(windows)]
    #[test]
    fn a_rename_over_a_file_held_for_a_moment_is_retried() {
        use std::os::windows::fs::OpenOptionsExt;
        let t = tempfile::tempdir().unwrap();
        let (from, to) = (t.path().join("new"), t.path().join("settings.json"));
        fs::File::create(&from).unwrap();
        fs::File::create(&to).unwrap();
        // No sharing at all: neither a rename over it nor a delete can happen while it is open.
        let held = fs::OpenOptions::new()
            .read(true)
            .share_mode(0)
            .open(&to)
            .unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(150));
            drop(held);
        });
        let started = std::time::Instant::now();
        rename(&from, &to).unwrap();
        assert!(started.elapsed() >= std::time::Duration::from_millis(100));
        release.join().unwrap();
        assert!(!from.exists() && to.exists());
    }

    /// A rename onto a folder that holds something fails at once, on every OS, in the way
    /// the cache's publish recognises (it then swaps the folders instead).
    #[test]
    fn a_rename_onto_a_full_folder_fails_at_once() {
        let t = tempfile::tempdir().unwrap();
        let (from, to) = (t.path().join("new"), t.path().join("old"));
        fs::create_dir_all(&from).unwrap();
        fs::create_dir_all(to.join("x")).unwrap();
        let started = std::time::Instant::now();
        let e = rename(&from, &to).unwrap_err();
        assert!(crate::platform::is_not_empty(&e), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        assert!(from.is_dir() && to.join("x").is_dir());
    }

    #[cfg(unix)] // the raw error code and its text are the OS's
    #[test]
    fn permission_errors_name_the_file_and_what_to_check() {
        let p = Path::new("/h/.claude/plugins/installed_plugins.json");
        let e = IoError::new("write", p, io::Error::from_raw_os_error(13));
        assert_eq!(
            e.to_string(),
            "write /h/.claude/plugins/installed_plugins.json: Permission denied (os error 13); check the owner and permissions of /h/.claude/plugins/installed_plugins.json and of its folder /h/.claude/plugins (`ls -ld`)"
        );
        // Our own refusals carry their reason already.
        let own = io::Error::new(io::ErrorKind::PermissionDenied, "it is a link outside");
        assert_eq!(
            IoError::new("write", p, own).to_string(),
            "write /h/.claude/plugins/installed_plugins.json: it is a link outside"
        );
    }

    /// Root ignores permission bits: the failure is made with a folder that is a file instead.
    #[test]
    fn write_atomic_errors_name_the_file_not_the_temporary_one() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("plugins"), "a file").unwrap();
        let target = t.path().join("plugins/installed_plugins.json");
        let e = write_atomic(&target, b"{}").unwrap_err().to_string();
        assert!(!e.contains("plugin-tmp"), "{e}");
        assert!(
            e.contains(&t.path().join("plugins").display().to_string()),
            "{e}"
        );
    }

    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(Path::new("commands"), Path::new("commands/r.md")),
            PathBuf::from("r.md")
        );
        assert_eq!(
            relative_path(Path::new("a/b"), Path::new("c")),
            PathBuf::from("../../c")
        );
        assert_eq!(
            relative_path(Path::new(""), Path::new("x/y")),
            PathBuf::from("x/y")
        );
        assert_eq!(
            relative_path(Path::new("a"), Path::new("a")),
            PathBuf::from(".")
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_something_else_than_a_file_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let p = dir.path().join("settings.json");
        std::os::unix::fs::symlink(&fifo, &p).unwrap();
        let e = write_atomic(&p, b"{}").unwrap_err().to_string();
        assert!(e.contains("is not a regular file"), "{e}");
        use std::os::unix::fs::FileTypeExt;
        assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());
        assert!(p.symlink_metadata().unwrap().file_type().is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn writes_go_through_links_and_keep_the_mode() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/real.json");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        symlink("dotfiles/real.json", dir.path().join("middle")).unwrap();
        let p = dir.path().join("settings.json");
        symlink("middle", &p).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert!(p.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_dir(real.parent().unwrap()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_written_only_into_an_existing_folder() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("settings.json");
        symlink("there/s.json", &p).unwrap();
        let e = write_atomic(&p, b"{}").unwrap_err().to_string();
        assert!(e.contains("settings.json: it is a symbolic link to"), "{e}");
        assert!(!dir.path().join("there").exists());
        fs::create_dir(dir.path().join("there")).unwrap();
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(fs::read(dir.path().join("there/s.json")).unwrap(), b"{}");
        let looped = dir.path().join("loop");
        symlink("loop", &looped).unwrap();
        assert!(write_atomic(&looped, b"{}").is_err());
    }

    #[test]
    fn stale_temps_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        let dead = dir.path().join(".s.json.plugin-tmp-999999999-abcd");
        let live = dir
            .path()
            .join(format!(".s.json.plugin-tmp-{}-abcd", std::process::id()));
        fs::write(&dead, "x").unwrap();
        fs::write(&live, "x").unwrap();
        write_atomic(&p, b"{}").unwrap();
        assert!(!dead.exists());
        assert!(live.exists());
    }

    #[test]
    fn timestamp_has_millis_and_z() {
        let ts = iso_timestamp();
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(ts.ends_with('Z'));
        assert_eq!(&ts[19..20], ".");
    }

    #[test]
    fn tilde_and_lexical_normalisation() {
        let home = Path::new("/home/u");
        assert_eq!(expand_tilde("~/x", home), PathBuf::from("/home/u/x"));
        assert_eq!(expand_tilde("a/~", home), PathBuf::from("a/~"));
        assert_eq!(
            absolutize(Path::new("../b/./c"), Path::new("/w/a")),
            PathBuf::from("/w/b/c")
        );
        assert_eq!(
            normalize_lexically(Path::new("../../x")),
            PathBuf::from("../../x")
        );
        assert_eq!(
            normalize_lexically(Path::new("a/../../x")),
            PathBuf::from("../x")
        );
    }
}
