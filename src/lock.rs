//! Advisory file locks (std `File::lock`, flock(2) on Unix).
//!
//! Two locks live in the plugins root:
//! * `.plugin-state.lock`: exclusive around every read-modify-write of `installed_plugins.json`,
//!   `known_marketplaces.json` and the settings files, so parallel processes never lose an entry.
//!   Held briefly: long copies happen before it is taken.
//! * `.plugin-cache.lock`: shared while a process stages and publishes cache folders, exclusive
//!   (try-only) while leftover staging folders are swept, so a sweep never deletes a folder that a
//!   live process is still filling; exclusive (waiting) for the whole of `cache prune`.
//!
//! Order: the cache lock is taken before the state lock, never the other way round.
//! The kernel releases both when a process dies, including on `kill -9`.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::fsutil::{IoContext, IoError};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(
        "timed out after {}s waiting for the lock on {} (is another `plugin` process running? \
         PLUGIN_LOCK_TIMEOUT sets the limit in seconds)",
        waited.as_secs(), path.display()
    )]
    Timeout { path: PathBuf, waited: Duration },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    Shared,
    Exclusive,
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Acquire `mode` on `path`, creating the file if needed. When the lock is busy,
    /// `on_wait` is called once (to tell the user) and the call blocks up to `timeout`
    /// (`PLUGIN_LOCK_TIMEOUT`, see `environment`).
    pub fn acquire(
        path: &Path,
        mode: LockMode,
        timeout: Duration,
        on_wait: &dyn Fn(&Path),
    ) -> Result<Self, LockError> {
        let file = open_lock_file(path)?;
        if try_lock(&file, mode, path)? {
            return Ok(Self {
                file,
                path: path.to_path_buf(),
            });
        }
        on_wait(path);
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            std::thread::sleep(pause);
            if try_lock(&file, mode, path)? {
                return Ok(Self {
                    file,
                    path: path.to_path_buf(),
                });
            }
            if start.elapsed() >= timeout {
                return Err(LockError::Timeout {
                    path: path.to_path_buf(),
                    waited: start.elapsed(),
                });
            }
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Try once; `None` when another process holds a conflicting lock.
    pub fn try_acquire(path: &Path, mode: LockMode) -> Result<Option<Self>, LockError> {
        let file = open_lock_file(path)?;
        Ok(try_lock(&file, mode, path)?.then(|| Self {
            file,
            path: path.to_path_buf(),
        }))
    }

    /// Convert an exclusive lock to a shared one. Not atomic: the exclusive lock is released,
    /// then a shared one taken (flock does the same inside `lock_shared`; Windows' LockFileEx
    /// would wait for ever for a shared lock over the exclusive one the same handle holds).
    pub fn downgrade(self) -> Result<Self, LockError> {
        // Wine reports an error for an unlock that worked (docs/windows-under-wine.md); the
        // shared lock below is what counts.
        let _ = self.file.unlock();
        self.file.lock_shared().at("lock", &self.path)?;
        Ok(self)
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open_lock_file(path: &Path) -> Result<File, IoError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).at("create directory", dir)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .at("open lock file", path)
}

fn try_lock(file: &File, mode: LockMode, path: &Path) -> Result<bool, IoError> {
    let r = match mode {
        LockMode::Shared => file.try_lock_shared(),
        LockMode::Exclusive => file.try_lock(),
    };
    match r {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        // Filesystems without flock support (some network mounts): proceed unlocked, as cargo does.
        Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => Ok(true),
        Err(TryLockError::Error(e)) => Err(IoError::new("lock", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_shared_shares() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.lock");
        let a = FileLock::try_acquire(&p, LockMode::Shared)
            .unwrap()
            .unwrap();
        let b = FileLock::try_acquire(&p, LockMode::Shared).unwrap();
        assert!(b.is_some());
        assert!(
            FileLock::try_acquire(&p, LockMode::Exclusive)
                .unwrap()
                .is_none()
        );
        drop((a, b));
        let e = FileLock::try_acquire(&p, LockMode::Exclusive)
            .unwrap()
            .unwrap();
        assert!(
            FileLock::try_acquire(&p, LockMode::Shared)
                .unwrap()
                .is_none()
        );
        drop(e);
    }
}
