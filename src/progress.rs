//! How long operations report progress without printing: lower layers call a [`Reporter`],
//! `output` implements it (an indicatif spinner on a terminal, nothing in pipes or with `--json`).

use std::sync::Arc;

/// One running operation's progress line.
pub trait Task: Send + Sync {
    /// Replace the detail shown after the task's label (e.g. `receiving pack 1.2 MB/3.4 MB`).
    fn detail(&self, text: &str);
}

/// `done` bytes of `total` (when known), as `1.2 MB / 3.4 MB`.
pub fn byte_count(done: u64, total: Option<u64>) -> String {
    fn mb(n: u64) -> String {
        format!("{:.1} MB", n as f64 / 1e6)
    }
    match total {
        Some(t) => format!("{} / {}", mb(done), mb(t)),
        None => mb(done),
    }
}

/// Starts tasks; the task ends when its last handle is dropped.
pub trait Reporter: Send + Sync {
    fn start(&self, label: &str) -> Arc<dyn Task>;
}

/// A reporter that shows nothing.
pub struct Silent;

struct SilentTask;

impl Task for SilentTask {
    fn detail(&self, _: &str) {}
}

impl Reporter for Silent {
    fn start(&self, _: &str) -> Arc<dyn Task> {
        Arc::new(SilentTask)
    }
}
