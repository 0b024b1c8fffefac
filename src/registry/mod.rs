//! Package registries spoken natively (no npm, node, pip or python binary): npm and PyPI, and
//! the zip reading that wheels and plugin archives share.

pub mod metadata;
pub mod npm;
pub mod pypi;
pub mod zipfile;

pub mod unpack;

pub use unpack::{MAX_UNPACKED, UnpackBudget, UnpackError};

/// What a manifest read from inside a package may weigh: it is held in memory.
pub const MAX_INNER_FILE: u64 = 16 * 1024 * 1024;
