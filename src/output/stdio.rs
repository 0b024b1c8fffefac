//! Writing to stdout and stderr without panicking.
//!
//! `std`'s `println!` panics when the write fails, and Rust ignores SIGPIPE, so `plugin list |
//! head -c 0` used to end with a panic (exit 101). Here a stream whose reader went away
//! (`BrokenPipe`) is marked closed and later writes to it are dropped: the command still
//! finishes what it was doing (its state is never left to the timing of a reader) and exits
//! with its own code. Any other write failure (a full disk behind `> file`) is remembered so the
//! exit code says the output is incomplete.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);
/// A write to stdout failed for another reason than a closed reader (stderr's failures are
/// dropped: warnings are not the output asked for).
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Run `write` unless the stream is closed; returns the error that closed it.
fn write_to(closed: &AtomicBool, write: impl FnOnce() -> io::Result<()>) -> Option<io::Error> {
    if closed.load(Ordering::Relaxed) {
        return None;
    }
    let e = write().err()?;
    closed.store(true, Ordering::Relaxed);
    Some(e)
}

fn note_stdout_error(e: Option<io::Error>) {
    if e.is_some_and(|e| e.kind() != io::ErrorKind::BrokenPipe) {
        STDOUT_FAILED.store(true, Ordering::Relaxed);
    }
}

pub fn stdout(args: fmt::Arguments<'_>) {
    note_stdout_error(write_to(&STDOUT_CLOSED, || {
        io::stdout().lock().write_fmt(args)
    }));
}

pub fn stderr(args: fmt::Arguments<'_>) {
    let _ = write_to(&STDERR_CLOSED, || io::stderr().lock().write_fmt(args));
}

/// Push out a line printed without its newline (progress before a result).
pub fn flush_stdout() {
    note_stdout_error(write_to(&STDOUT_CLOSED, || io::stdout().lock().flush()));
}

/// The exit code of a command that returned `code`, once its output is flushed: a write that
/// failed for another reason than a closed pipe turns success into failure (1), as the output
/// the caller asked for is incomplete.
pub fn exit_code(code: i32) -> i32 {
    flush_stdout();
    if code == 0 && STDOUT_FAILED.load(Ordering::Relaxed) {
        1
    } else {
        code
    }
}
