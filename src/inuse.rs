//! Which running processes use a folder: their working directory, executable or an open file
//! lies inside it. `cache prune` asks before removing anything, so a Claude Code session, a shell
//! or a plugin's server running from an old version keeps its files.
//!
//! Linux only (`/proc/<pid>/{cwd,exe,fd/*}`), one pass over all processes of our own user for all
//! candidates; entries that vanish or cannot be read meanwhile are skipped. Elsewhere nothing is
//! found, and only Claude Code's `.in_use` markers protect a folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How a process holds a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    Cwd,
    Exe,
    OpenFile,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Cwd => "cwd",
            How::Exe => "exe",
            How::OpenFile => "open file",
        }
    }
}

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
        if let Ok(canonical) = c.canonicalize() {
            wanted.insert(canonical, i);
        }
    }
    let mut found: Vec<Option<Use>> = vec![None; candidates.len()];
    if !wanted.is_empty() {
        scan(&mut |pid, target, how| {
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

/// Call `visit` with every path a process of our user holds, lowest process id first.
#[cfg(target_os = "linux")]
fn scan(visit: &mut dyn FnMut(i32, &Path, How)) {
    use std::fs;
    use std::os::unix::fs::MetadataExt;

    let me = std::process::id();
    let uid = rustix::process::getuid().as_raw();
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&pid| pid != me)
        .collect();
    pids.sort_unstable();
    for pid in pids {
        let base = PathBuf::from(format!("/proc/{pid}"));
        if fs::metadata(&base).map(|m| m.uid()).ok() != Some(uid) {
            continue;
        }
        let Ok(pid) = i32::try_from(pid) else {
            continue;
        };
        for (link, how) in [("cwd", How::Cwd), ("exe", How::Exe)] {
            if let Ok(target) = fs::read_link(base.join(link)) {
                visit(pid, &target, how);
            }
        }
        for fd in fs::read_dir(base.join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(target) = fs::read_link(fd.path()) {
                visit(pid, &target, How::OpenFile);
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn scan(_visit: &mut dyn FnMut(i32, &Path, How)) {}

#[cfg(all(test, target_os = "linux"))]
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
        let fd3 = PathBuf::from(format!("/proc/{}/fd/3", open.id()));
        for _ in 0..200 {
            if std::fs::read_link(&fd3).is_ok_and(|t| t == f) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let found = processes_using(&[a.clone(), b.clone()]);
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
