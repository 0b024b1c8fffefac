//! `plugin`: a daemon-less installer and cache manager for Claude Code plugin marketplaces.
//!
//! Data flows one way: [`cli`] → [`ops`] → [`marketplace`] → [`source`] (local, [`git`],
//! [`registry`] for npm and PyPI, archives) → [`version`] → [`cache`] → [`state`]. Only
//! [`output`] prints.
//!
//! The layers, top first; a module imports only from its own layer or below
//! (`docs/architecture.md` has the module map, `tests/architecture.rs` keeps the code to it):
//!
//! 1. entry: [`cli`]
//! 2. presentation: [`output`] (renders the reports of `ops`)
//! 3. commands: [`ops`]
//! 4. rules: [`policy`]
//! 5. catalogs: [`marketplace`]
//! 6. plugins: [`source`], [`definition`]
//! 7. fetchers: [`git`], [`registry`]
//! 8. model: [`schema`], [`manifest`], [`version`]
//! 9. cache: [`cache`]
//! 10. state: [`state`], [`locations`]
//! 11. foundation: [`lock`], [`environment`], [`download`], [`credential`], [`fsutil`],
//!     [`containment`], [`progress`], [`parallel`], [`inuse`], [`platform`]
//!
//! The compiler keeps two rules of the library: nothing prints outside `output` (which allows
//! itself), and nothing is unwrapped outside tests (clippy.toml lets `#[cfg(test)]` code).
#![deny(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used
)]
// clippy.toml's disallowed raw `std::fs` calls are checked in the library as built without
// `cfg(test)`; its unit tests build fixtures with them freely.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod cache;
pub mod cli;
pub mod containment;
pub mod credential;
pub mod definition;
pub mod download;
pub mod environment;
pub mod fsutil;
pub mod git;
pub mod inuse;
pub mod locations;
pub mod lock;
pub mod manifest;
pub mod marketplace;
pub mod ops;
pub mod output;
pub mod parallel;
pub mod platform;
pub mod policy;
pub mod progress;
pub mod registry;
pub mod schema;
pub mod source;
pub mod state;
pub mod version;
