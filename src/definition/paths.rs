//! Where a component path declared in a manifest lands: one rule for `resolve` (what a host
//! loads) and `validate` (what it reports).

use std::fs;
use std::path::{Component, Path, PathBuf};

/// Why a declared path is not used.
#[derive(Debug, Clone, PartialEq)]
pub enum PathProblem {
    /// A backslash: never a separator on macOS and Linux, and Claude Code treats it as an escape.
    Backslash,
    /// Absolute, or `..` climbing above the root.
    OutsideRoot,
    NotFound,
    /// A link whose target does not exist.
    BrokenLink,
    /// A link leading out of every allowed folder; the real path.
    LinksOutside(PathBuf),
}

/// The plugin folder `root` (and its canonical form) that declared paths must stay in.
#[derive(Debug, Clone)]
pub struct PluginRoot {
    root: PathBuf,
    allowed: Vec<PathBuf>,
}

impl PluginRoot {
    /// `also_inside`: folders links may lead into as well (the marketplace around a plugin that
    /// is validated in place: an install resolves such links).
    pub fn new(root: &Path, also_inside: Option<&Path>) -> Self {
        let canonical =
            |p: &Path| crate::fsutil::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let mut allowed = vec![canonical(root)];
        allowed.extend(also_inside.map(canonical));
        Self {
            root: root.to_path_buf(),
            allowed,
        }
    }

    /// Whether the existing `path` lies, after links, inside the root (or a folder allowed
    /// besides): only such files are read, so a link cannot bring another file's bytes in.
    pub fn holds(&self, path: &Path) -> bool {
        crate::fsutil::canonicalize(path).is_ok_and(|real| {
            (self.allowed.iter()).any(|a| crate::containment::lies_inside(&real, a))
        })
    }

    /// The existing file or folder `raw` names, inside the root after lexical `..` and after
    /// links.
    pub fn locate(&self, raw: &str) -> Result<PathBuf, PathProblem> {
        if raw.contains('\\') {
            return Err(PathProblem::Backslash);
        }
        let mut rel = PathBuf::new();
        for c in Path::new(raw).components() {
            match c {
                Component::CurDir => {}
                Component::Normal(n) => rel.push(n),
                Component::ParentDir => {
                    if !rel.pop() {
                        return Err(PathProblem::OutsideRoot);
                    }
                }
                Component::RootDir | Component::Prefix(_) => return Err(PathProblem::OutsideRoot),
            }
        }
        let path = self.root.join(&rel);
        if fs::symlink_metadata(&path).is_err() {
            return Err(PathProblem::NotFound);
        }
        match crate::fsutil::canonicalize(&path) {
            Ok(real)
                if (self.allowed.iter()).any(|a| crate::containment::lies_inside(&real, a)) =>
            {
                Ok(path)
            }
            Ok(real) => Err(PathProblem::LinksOutside(real)),
            Err(_) => Err(PathProblem::BrokenLink),
        }
    }
}

/// The `.md` files under `dir`, unsorted: files and links to files. Linked folders are not
/// entered (a link cycle would never end). The one walk of `resolve` and `validate`.
pub(crate) fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    files_where(dir, &|p| p.extension().is_some_and(|x| x == "md"), out);
}

/// Theme files: the `.json` files directly in the folder (Claude Code 2.1.328 lists no other,
/// and none from subfolders).
pub(crate) fn theme_files(dir: &Path, out: &mut Vec<PathBuf>) {
    top_level_with_extension(dir, "json", out);
}

/// Workflow scripts: the `.js` files directly in the folder (docs: "a workflows directory or .js
/// file").
pub(crate) fn workflow_files(dir: &Path, out: &mut Vec<PathBuf>) {
    top_level_with_extension(dir, "js", out);
}

fn top_level_with_extension(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let visible = !e.file_name().to_string_lossy().starts_with('.');
        if visible && p.extension().is_some_and(|x| x == ext) && p.is_file() {
            out.push(p);
        }
    }
}

fn files_where(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            files_where(&p, keep, out);
        } else if keep(&p) && p.is_file() {
            out.push(p);
        }
    }
}

// Links made on purpose: Unix only.
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("p");
        fs::create_dir_all(root.join("commands")).unwrap();
        fs::create_dir_all(t.path().join("outside")).unwrap();
        std::os::unix::fs::symlink("../outside", root.join("out")).unwrap();
        std::os::unix::fs::symlink("nowhere", root.join("broken")).unwrap();
        let r = PluginRoot::new(&root, None);
        assert_eq!(r.locate("./commands"), Ok(root.join("commands")));
        assert_eq!(r.locate("./x/../commands"), Ok(root.join("commands")));
        assert_eq!(r.locate("../p/commands"), Err(PathProblem::OutsideRoot));
        assert_eq!(r.locate("/etc"), Err(PathProblem::OutsideRoot));
        assert_eq!(r.locate(".\\commands"), Err(PathProblem::Backslash));
        assert_eq!(r.locate("./missing"), Err(PathProblem::NotFound));
        assert_eq!(r.locate("./broken"), Err(PathProblem::BrokenLink));
        let real = crate::fsutil::canonicalize(t.path().join("outside")).unwrap();
        assert_eq!(r.locate("./out"), Err(PathProblem::LinksOutside(real)));
        let with_container = PluginRoot::new(&root, Some(t.path()));
        assert_eq!(with_container.locate("./out"), Ok(root.join("out")));
    }

    #[test]
    fn markdown_walk_follows_links_to_files_only() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("commands");
        fs::create_dir_all(d.join("sub")).unwrap();
        fs::write(d.join("a.md"), "").unwrap();
        fs::write(d.join("sub/b.md"), "").unwrap();
        fs::write(d.join("note.txt"), "").unwrap();
        fs::write(t.path().join("real.md"), "").unwrap();
        std::os::unix::fs::symlink("../real.md", d.join("linked.md")).unwrap();
        std::os::unix::fs::symlink("nowhere.md", d.join("broken.md")).unwrap();
        std::os::unix::fs::symlink("sub", d.join("again")).unwrap();
        let mut found = Vec::new();
        markdown_files(&d, &mut found);
        found.sort();
        assert_eq!(
            found,
            [d.join("a.md"), d.join("linked.md"), d.join("sub/b.md")]
        );
    }
}
