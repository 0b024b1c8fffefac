//! Reading zip archives (wheels, plugin archives) safely, under the rules of [`super::unpack`]:
//! names that would leave the folder (`..`, absolute paths, NUL) or that two entries share
//! refuse the whole archive; links are never written; modes are 644, or 755 when an execute
//! bit is set.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::unpack::{self, EntryKind, UnpackBudget, UnpackError, Unpacker};
use crate::cache::CopyReport;
use crate::fsutil::{IoContext, IoError};

#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("{} is not a readable zip archive: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    #[error("{} {source}", path.display())]
    Unpack { path: PathBuf, source: UnpackError },
}

fn open(path: &Path) -> Result<zip::ZipArchive<fs::File>, ZipError> {
    let f = fs::File::open(path).at("open", path)?;
    let archive = zip::ZipArchive::new(f).map_err(|e| unreadable(path, e))?;
    if archive.has_duplicate_names() {
        // The zip reader keeps one of them: which content is installed would be a guess.
        return Err(unreadable(
            path,
            "it holds two entries with the same name; refusing to install it",
        ));
    }
    Ok(archive)
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> ZipError {
    ZipError::Unreadable {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The entry's name as written (with `\` read as `/`, as zips made on Windows use it), and its
/// path inside the archive; refused when it is absolute or climbs out.
fn safe_name(
    path: &Path,
    f: &zip::read::ZipFile<'_, fs::File>,
) -> Result<(String, PathBuf), ZipError> {
    let raw = f
        .name()
        .map(|n| n.into_owned())
        .unwrap_or_else(|_| String::from_utf8_lossy(f.name_raw()).into_owned());
    let refuse = |why| ZipError::Unpack {
        path: path.to_path_buf(),
        source: UnpackError::Unsafe {
            entry: raw.clone(),
            why,
        },
    };
    match unpack::entry_path(Path::new(&raw.replace('\\', "/")), 0) {
        Ok(Some(name)) => Ok((raw, name)),
        Ok(None) => Ok((raw, PathBuf::new())),
        Err(why) => Err(refuse(why)),
    }
}

/// The (safe) names of the regular files in the archive. An unsafe name refuses the archive.
pub fn file_names(path: &Path) -> Result<Vec<PathBuf>, ZipError> {
    let mut archive = open(path)?;
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let f = archive.by_index(i).map_err(|e| unreadable(path, e))?;
        let (_, name) = safe_name(path, &f)?;
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
        if f.is_file() && !f.is_symlink() && safe_name(path, &f)?.1 == inner {
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

/// The most of a symlink's target read to report it.
const MAX_LINK_TARGET: u64 = 4096;

/// Extract the entries under `prefix` (empty = all), with `prefix` removed, into the existing,
/// empty folder `dst`; every byte written counts against `budget`.
pub fn extract(
    path: &Path,
    prefix: &Path,
    dst: &Path,
    budget: &UnpackBudget,
) -> Result<CopyReport, ZipError> {
    let failed = |source| ZipError::Unpack {
        path: path.to_path_buf(),
        source,
    };
    let mut archive = open(path)?;
    let mut unpacker = Unpacker::new(dst, budget);
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).map_err(|e| unreadable(path, e))?;
        let (raw, name) = safe_name(path, &f)?;
        let Ok(rel) = name.strip_prefix(prefix) else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let rel = rel.to_path_buf();
        let kind = if f.is_symlink() {
            let mut target = Vec::new();
            io::Read::read_to_end(&mut io::Read::take(&mut f, MAX_LINK_TARGET), &mut target)
                .map_err(|e| failed(UnpackError::Read(e)))?;
            let target = String::from_utf8_lossy(&target).into_owned();
            EntryKind::Symlink(Some(PathBuf::from(target)))
        } else if f.is_dir() {
            EntryKind::Dir
        } else {
            EntryKind::File(f.unix_mode().unwrap_or(0o644))
        };
        unpacker.entry(&raw, rel, kind, &mut f).map_err(failed)?;
    }
    Ok(unpacker.finish())
}
