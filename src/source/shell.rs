//! Running a line a marketplace declares (a `command` source, a `headersHelper`) through the
//! platform shell: stdin closed, stdout and stderr read while it runs (each capped), stopped
//! with everything it started when its time is up or its stdout overflows.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Exited with this code, or (no code) was killed by this signal.
    Exited(Option<i32>, Option<String>),
    TimedOut,
    /// Printed more than the stdout cap.
    Overflow,
}

/// A finished run: how it ended and what it printed.
#[derive(Debug)]
pub struct ShellRun {
    pub ended: Ended,
    pub stdout: Vec<u8>,
    /// At most the stderr cap.
    pub stderr: Vec<u8>,
}

/// What a run may take and where it runs.
pub struct ShellLimits<'a> {
    pub cwd: &'a Path,
    /// Variables set for it, and removed from what it inherits.
    pub set_env: &'a [(String, String)],
    pub remove_env: &'a [String],
    pub timeout: Duration,
    pub stdout_cap: usize,
    pub stderr_cap: usize,
}

/// Run `line`; `Err` only when it could not be started (or waited for).
pub fn run(line: &str, limits: &ShellLimits) -> std::io::Result<ShellRun> {
    let mut cmd = crate::platform::shell(line);
    cmd.current_dir(limits.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in limits.remove_env {
        cmd.env_remove(k);
    }
    for (k, v) in limits.set_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    // Readers on their own threads: a full pipe must not stall the command, and a process it
    // left behind that keeps a pipe open must not stall us once it is stopped.
    let (tx, rx) = std::sync::mpsc::channel::<(bool, Vec<u8>)>();
    let pipes: [(bool, Option<Box<dyn Read + Send>>); 2] = [
        (true, child.stdout.take().map(|p| Box::new(p) as _)),
        (false, child.stderr.take().map(|p| Box::new(p) as _)),
    ];
    for (is_out, pipe) in pipes {
        let Some(mut pipe) = pipe else { continue };
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 || tx.send((is_out, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let deadline = Instant::now() + limits.timeout;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut pipes_open = true;
    let mut exited_at: Option<Instant> = None;
    let ended = loop {
        loop {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok((true, bytes)) => stdout.extend_from_slice(&bytes),
                Ok((false, bytes)) => {
                    let room = limits.stderr_cap.saturating_sub(stderr.len());
                    stderr.extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    pipes_open = false;
                    std::thread::sleep(Duration::from_millis(5));
                    break;
                }
            }
            if stdout.len() > limits.stdout_cap {
                break;
            }
        }
        if stdout.len() > limits.stdout_cap {
            crate::platform::kill_shell(&mut child);
            let _ = child.wait();
            break Ended::Overflow;
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                // Exited: what is still in the pipes is read, for a little while.
                let at = *exited_at.get_or_insert_with(Instant::now);
                if !pipes_open || at.elapsed() > Duration::from_secs(2) {
                    break ended_by(status);
                }
            }
            Ok(None) if Instant::now() > deadline => {
                crate::platform::kill_shell(&mut child);
                let _ = child.wait();
                break Ended::TimedOut;
            }
            Ok(None) => {}
            Err(e) => {
                crate::platform::kill_shell(&mut child);
                return Err(e);
            }
        }
    };
    Ok(ShellRun {
        ended,
        stdout,
        stderr,
    })
}

fn ended_by(status: std::process::ExitStatus) -> Ended {
    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.signal().map(signal_name)
    };
    #[cfg(not(unix))]
    let signal = None;
    Ended::Exited(status.code(), signal)
}

#[cfg(unix)]
fn signal_name(n: i32) -> String {
    match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => return format!("signal {n}"),
    }
    .to_string()
}

/// Why a `headersHelper` gave no headers (Claude Code's reasons, shown in its messages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HelperFailure {
    /// It could not start, failed, timed out, printed too much or nothing.
    ExecFailed,
    ParseFailed,
    NonObject,
    NonStringValue,
}

impl HelperFailure {
    pub fn reason(self) -> &'static str {
        match self {
            HelperFailure::ExecFailed => "exec_failed",
            HelperFailure::ParseFailed => "parse_failed",
            HelperFailure::NonObject => "non_object",
            HelperFailure::NonStringValue => "non_string_value",
        }
    }
}

/// Claude Code's limits of a `headersHelper`: 10 s, 1 MB of output.
const HELPER_TIMEOUT: Duration = Duration::from_secs(10);
const HELPER_OUTPUT_CAP: usize = 1_000_000;

/// Run a `headersHelper`: it must exit 0 within 10 s having printed one JSON object whose
/// values are strings. `scrub`: leave out of its environment the variables that look like
/// credentials (a helper a catalog or a project declared is not trusted with them).
pub fn headers_helper(
    line: &str,
    cwd: &Path,
    set_env: &[(String, String)],
    scrub: bool,
) -> Result<Vec<(String, String)>, HelperFailure> {
    let remove: Vec<String> = match scrub {
        true => std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| looks_like_credential(k))
            .collect(),
        false => Vec::new(),
    };
    let limits = ShellLimits {
        cwd,
        set_env,
        remove_env: &remove,
        timeout: HELPER_TIMEOUT,
        stdout_cap: HELPER_OUTPUT_CAP,
        stderr_cap: HELPER_OUTPUT_CAP,
    };
    let out = run(line, &limits).map_err(|_| HelperFailure::ExecFailed)?;
    let text = String::from_utf8_lossy(&out.stdout);
    if out.ended != Ended::Exited(Some(0), None) || text.trim().is_empty() {
        return Err(HelperFailure::ExecFailed);
    }
    let value: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|_| HelperFailure::ParseFailed)?;
    let serde_json::Value::Object(map) = value else {
        return Err(HelperFailure::NonObject);
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            _ => Err(HelperFailure::NonStringValue),
        })
        .collect()
}

/// A variable name that says it holds a secret (`GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`,
/// `NPM_CONFIG__AUTH`, `ANTHROPIC_API_KEY`, `DB_PASSWORD`, …).
pub fn looks_like_credential(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "_AUTH",
        "AUTH_",
        "SESSION",
        "COOKIE",
    ]
    .iter()
    .any(|w| n.contains(w))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_helper_prints_one_object_of_strings() {
        let cwd = std::env::temp_dir();
        let run = |line: &str| headers_helper(line, &cwd, &[], true);
        assert_eq!(
            run(r#"echo '{"Authorization":"Bearer x"}'"#),
            Ok(vec![("Authorization".into(), "Bearer x".into())])
        );
        assert_eq!(run("exit 1"), Err(HelperFailure::ExecFailed));
        assert_eq!(run("true"), Err(HelperFailure::ExecFailed));
        assert_eq!(run("echo nope"), Err(HelperFailure::ParseFailed));
        assert_eq!(run("echo '[1]'"), Err(HelperFailure::NonObject));
        assert_eq!(run(r#"echo '{"a":1}'"#), Err(HelperFailure::NonStringValue));
    }

    #[test]
    fn credential_names() {
        for n in [
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "ANTHROPIC_API_KEY",
            "npm_config__auth",
        ] {
            assert!(looks_like_credential(n), "{n}");
        }
        for n in ["PATH", "HOME", "LANG", "USER"] {
            assert!(!looks_like_credential(n), "{n}");
        }
    }
}
