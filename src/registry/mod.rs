//! Package registries spoken natively (no npm, node, pip or python binary): npm and PyPI, and
//! the zip reading that wheels and plugin archives share.

pub mod metadata;
pub mod npm;
pub mod pypi;
pub mod zipfile;

/// Create a regular file unpacked from a package: parent folders made, mode 755 when the
/// archive gives any execute bit, else 644 (no setuid, no group-writable), never over an
/// existing file.
pub(crate) fn create_unpacked_file(
    target: &std::path::Path,
    archive_mode: u32,
) -> Result<std::fs::File, crate::fsutil::IoError> {
    use crate::fsutil::IoContext;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).at("create directory", parent)?;
    }
    let mode = if archive_mode & 0o111 != 0 {
        0o755
    } else {
        0o644
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(target)
        .at("create", target)
}

/// What one package (tarball, wheel or zip) may unpack to: a small download can inflate
/// enormously (a "zip bomb").
pub const MAX_UNPACKED: u64 = 1024 * 1024 * 1024;

/// What a manifest read from inside a package may weigh: it is held in memory.
pub const MAX_INNER_FILE: u64 = 16 * 1024 * 1024;
