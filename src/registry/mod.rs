//! Package registries spoken natively (no npm, node, pip or python binary): npm and PyPI, and
//! the zip reading that wheels and plugin archives share.

pub mod npm;
pub mod pypi;
pub mod zipfile;
