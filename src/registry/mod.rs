//! Package registries spoken natively (no npm, pip or node binary): npm for now.

pub mod npm;
