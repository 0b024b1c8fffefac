//! `plugin`: a daemon-less installer and cache manager for Claude Code plugin marketplaces.
//!
//! Data flows one way: [`cli`] → [`ops`] → [`marketplace`] → source resolution → [`version`] →
//! [`cache`] → [`state`]. Only [`output`] prints.
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
pub mod fsutil;
pub mod git;
pub mod inuse;
pub mod locations;
pub mod manifest;
pub mod marketplace;
pub mod ops;
pub mod output;
pub mod parallel;
pub mod policy;
pub mod progress;
pub mod registry;
pub mod source;
pub mod state;
pub mod version;
