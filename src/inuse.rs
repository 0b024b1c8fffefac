//! Which running processes use a folder: their working directory, executable or an open file
//! lies inside it. `cache prune` asks before removing anything, so a Claude Code session, a shell
//! or a plugin's server running from an old version keeps its files.
//!
//! One pass over all processes of our own user for all candidates
//! ([`crate::platform::scan_processes`]: `/proc` on Linux, libproc on macOS); entries that
//! vanish or cannot be read meanwhile are skipped.

use std::collections::HashMap;
use std::path::PathBuf;

pub use crate::platform::How;

/// A process using a candidate path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Use {
    pub pid: i32,
    pub how: How,
}

/// For each of `candidates` (files or folders) that a live process other than this one uses, the
/// use by the lowest process id.
pub fn processes_using(candidates: &[PathBuf]) -> Vec<(PathBuf, Use)> {
    // /proc shows resolved paths, so each candidate is looked up by its canonical form too.
    let mut wanted: HashMap<PathBuf, usize> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        wanted.insert(c.clone(), i);
        if let Ok(canonical) = crate::fsutil::canonicalize(c) {
            wanted.insert(canonical, i);
        }
    }
    let mut found: Vec<Option<Use>> = vec![None; candidates.len()];
    if !wanted.is_empty() {
        crate::platform::scan_processes(&mut |pid, target, how| {
            if let Some(&i) = target.ancestors().find_map(|a| wanted.get(a))
                && found[i].is_none()
            {
                found[i] = Some(Use { pid, how });
            }
        });
    }
    candidates
        .iter()
        .zip(found)
        .filter_map(|(c, u)| u.map(|u| (c.clone(), u)))
        .collect()
}

// Windows lists no processes (it refuses to remove a folder in use itself).
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_child_by_cwd_and_open_file() {
        let t = tempfile::tempdir().unwrap();
        let (a, b, idle) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
        for d in [&a, &b, &idle] {
            std::fs::create_dir(d).unwrap();
        }
        std::fs::write(b.join("f"), "x").unwrap();
        let mut cwd = std::process::Command::new("sleep")
            .arg("30")
            .current_dir(&a)
            .spawn()
            .unwrap();
        // A shell holding a file of `b` open on fd 3.
        let f = b.join("f");
        let mut open = std::process::Command::new("sh")
            .args(["-c", "exec 3<\"$1\"; sleep 30", "sh"])
            .arg(&f)
            .current_dir(&idle)
            .spawn()
            .unwrap();
        // Wait until the shell has opened the file.
        let mut found = Vec::new();
        for _ in 0..200 {
            found = processes_using(&[a.clone(), b.clone()]);
            if found.len() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = (cwd.kill(), open.kill(), cwd.wait(), open.wait());
        assert_eq!(
            found,
            vec![
                (
                    a,
                    Use {
                        pid: cwd.id() as i32,
                        how: How::Cwd
                    }
                ),
                (
                    b,
                    Use {
                        pid: open.id() as i32,
                        how: How::OpenFile
                    }
                ),
            ]
        );
    }
}
