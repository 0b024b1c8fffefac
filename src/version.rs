//! The version a plugin installs as, and the cache folder name derived from it.
//!
//! Precedence (Claude Code §5.1): `version` in plugin.json → `version` in the marketplace entry →
//! a source-derived version (first 12 hex of the git commit) → `unknown`.

/// The version recorded when nothing else is known.
pub const UNKNOWN: &str = "unknown";

/// Pick the version to install as: `derived` is the source's own version (a short commit id).
/// Empty strings count as absent.
pub fn resolve(manifest: Option<&str>, entry: Option<&str>, derived: Option<&str>) -> String {
    let present = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(String::from);
    present(manifest)
        .or_else(|| present(entry))
        .or_else(|| present(derived))
        .unwrap_or_else(|| UNKNOWN.to_string())
}

/// The folder name of a version: every UTF-16 code unit outside `[A-Za-z0-9._-]` becomes `-`,
/// and `.` / `..` become `-` (exactly Claude Code's rule, so both tools share folders).
pub fn folder_name(version: &str) -> String {
    let mut out = String::with_capacity(version.len());
    for c in version.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('-', c.len_utf16()));
        }
    }
    if out == "." || out == ".." {
        out = "-".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        assert_eq!(resolve(Some("2.0.0"), Some("9.9.9"), None), "2.0.0");
        assert_eq!(resolve(Some(""), Some("5.5.5"), None), "5.5.5");
        assert_eq!(resolve(None, None, Some("872ef10f8bbb")), "872ef10f8bbb");
        assert_eq!(resolve(None, Some(""), None), "unknown");
    }

    #[test]
    fn sanitisation_table_from_claude_code() {
        let table = [
            ("1.0.0-beta.1+build.5", "1.0.0-beta.1-build.5"),
            ("v1/2", "v1-2"),
            ("1 0", "1-0"),
            ("1.0.0 ", "1.0.0-"),
            (" 1.0", "-1.0"),
            ("..", "-"),
            (".", "-"),
            ("...", "..."),
            ("a..b", "a..b"),
            (".a.", ".a."),
            (".hidden", ".hidden"),
            ("../../etc", "..-..-etc"),
            ("a/../b", "a-..-b"),
            ("v1:2", "v1-2"),
            ("a_b~c", "a_b-c"),
            ("x\\y", "x-y"),
            ("a%2e", "a-2e"),
            ("~1", "-1"),
            ("é1", "-1"),
            ("ü", "-"),
            ("😀", "--"),
            ("1.0.0\\n", "1.0.0-n"),
            ("CON", "CON"),
            ("A.B", "A.B"),
            ("-", "-"),
        ];
        for (v, f) in table {
            assert_eq!(folder_name(v), f, "{v:?}");
        }
    }
}
