//! Reading zip archives (wheels, plugin archives) safely: names that would leave the folder
//! (`..`, absolute paths, NUL) refuse the whole archive; links are never written; modes are 644,
//! or 755 when an execute bit is set.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::cache::copy::{CopyReport, SkipReason, Skipped, is_bookkeeping};
use crate::fsutil::{IoContext, IoError};

#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("{} is not a readable zip archive: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    #[error("{} holds an unsafe entry \"{entry}\" (it would be written outside its folder); refusing to install it", path.display())]
    UnsafeEntry { path: PathBuf, entry: String },
}

fn open(path: &Path) -> Result<zip::ZipArchive<fs::File>, ZipError> {
    let f = fs::File::open(path).at("open", path)?;
    zip::ZipArchive::new(f).map_err(|e| ZipError::Unreadable {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> ZipError {
    ZipError::Unreadable {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The entry's path inside the archive, refused when it would leave the destination.
fn safe_name(path: &Path, f: &zip::read::ZipFile<'_, fs::File>) -> Result<PathBuf, ZipError> {
    f.enclosed_name().ok_or_else(|| ZipError::UnsafeEntry {
        path: path.to_path_buf(),
        entry: f
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(f.name_raw()).into_owned()),
    })
}

/// The (safe) names of the regular files in the archive. An unsafe name refuses the archive.
pub fn file_names(path: &Path) -> Result<Vec<PathBuf>, ZipError> {
    let mut archive = open(path)?;
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let f = archive.by_index(i).map_err(|e| unreadable(path, e))?;
        let name = safe_name(path, &f)?;
        if f.is_file() && !f.is_symlink() {
            names.push(name);
        }
    }
    Ok(names)
}

/// The content of the file `inner`, if the archive has it.
pub fn read_file(path: &Path, inner: &Path) -> Result<Option<Vec<u8>>, ZipError> {
    let mut archive = open(path)?;
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| unreadable(path, e))?;
        if f.is_file() && !f.is_symlink() && f.enclosed_name().as_deref() == Some(inner) {
            let limit = super::MAX_INNER_FILE;
            let mut data = Vec::new();
            io::Read::read_to_end(&mut io::Read::take(&mut f, limit + 1), &mut data)
                .map_err(|e| unreadable(path, e))?;
            if data.len() as u64 > limit {
                let e =
                    io::Error::other(format!("{} is larger than {limit} bytes", inner.display()));
                return Err(unreadable(path, e));
            }
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// Extract the entries under `prefix` (empty = all), with `prefix` removed, into the existing,
/// empty folder `dst`. At most `limit` bytes are written.
pub fn extract(path: &Path, prefix: &Path, dst: &Path, limit: u64) -> Result<CopyReport, ZipError> {
    let mut archive = open(path)?;
    let mut report = CopyReport::default();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| unreadable(path, e))?;
        let name = safe_name(path, &f)?;
        let Ok(rel) = name.strip_prefix(prefix) else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let rel = rel.to_path_buf();
        if is_bookkeeping(&rel) {
            report.skipped.push(Skipped::bookkeeping(rel));
            continue;
        }
        let target = dst.join(&rel);
        if f.is_symlink() {
            report.skipped.push(Skipped {
                path: rel,
                target: None,
                reason: SkipReason::SpecialFile,
            });
        } else if f.is_dir() {
            fs::create_dir_all(&target).at("create directory", &target)?;
        } else {
            let mut out = super::create_unpacked_file(&target, f.unix_mode().unwrap_or(0o644))?;
            let left = limit.saturating_sub(report.bytes);
            let n =
                io::copy(&mut io::Read::take(&mut f, left + 1), &mut out).at("write", &target)?;
            if n > left {
                return Err(unreadable(
                    path,
                    format!("it unpacks to more than {limit} bytes"),
                ));
            }
            report.bytes += n;
            report.files += 1;
        }
    }
    Ok(report)
}
