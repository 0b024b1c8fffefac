//! Hostile inputs and unlucky machines, one module per class of attack or failure (issue 13):
//! every test here failed before its fix. Real servers only (tests/common: loopback git, npm,
//! PyPI and archive servers, and a redirecting server).
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

#[path = "../common/mod.rs"]
mod common;

mod archives;
// Unix only: the loopback git server (Linux programs cannot be started from wine), FIFOs,
// links, owners and modes.
#[cfg(unix)]
mod credentials;
#[cfg(unix)]
mod escapes;
mod messages;
#[cfg(unix)]
mod pipes;
#[cfg(unix)]
mod state_writes;
