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

/// A version resolved from a `{name}--v{version}` tag, as Claude Code records it: the version
/// found there, then `-` and the first 12 hex of the commit (unless it ends so already).
pub fn with_commit(version: &str, commit: &str) -> String {
    let short = &commit[..12.min(commit.len())];
    match version.ends_with(&format!("-{short}")) {
        true => version.to_string(),
        false => format!("{version}-{short}"),
    }
}

/// Why ranges cannot be met together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeProblem {
    /// One of them is not a node-semver range.
    Invalid,
    /// No version satisfies all of them.
    Disjoint,
}

/// The node-semver range every one of `ranges` allows (`None`: no range, anything goes).
pub fn intersect_ranges(ranges: &[String]) -> Result<Option<nodejs_semver::Range>, RangeProblem> {
    let mut out: Option<nodejs_semver::Range> = None;
    for r in ranges {
        let parsed = nodejs_semver::Range::parse(r).map_err(|_| RangeProblem::Invalid)?;
        out = Some(match out {
            None => parsed,
            Some(acc) => acc.intersect(&parsed).ok_or(RangeProblem::Disjoint)?,
        });
    }
    Ok(out)
}

/// The tags named `{name}--v{version}` among `tags` (name, commit) whose version parses, as
/// (version, tag, commit), highest first.
fn release_tags<'a>(
    name: &str,
    tags: &'a [(String, String)],
) -> Vec<(nodejs_semver::Version, &'a str, &'a str)> {
    let prefix = format!("{name}--v");
    let mut out: Vec<_> = tags
        .iter()
        .filter_map(|(tag, commit)| {
            let v = tag.strip_prefix(&prefix)?;
            let parsed = nodejs_semver::Version::parse(v.trim_start_matches(['v', '='])).ok()?;
            Some((parsed, tag.as_str(), commit.as_str()))
        })
        .collect();
    // Of equal versions (`v1.0.0`, `1.0.0`) the last listed wins, as it always has.
    out.reverse();
    out.sort_by(|a, b| b.0.cmp(&a.0));
    out
}

/// Of the tags named `{name}--v{version}` among `tags` (name, commit), the highest whose
/// version `range` allows (pre-releases only when it asks for them), as (version, tag, commit).
pub fn highest_tag(
    name: &str,
    tags: &[(String, String)],
    range: &nodejs_semver::Range,
) -> Option<(String, String, String)> {
    release_tags(name, tags)
        .into_iter()
        .find(|(v, _, _)| range.satisfies(v))
        .map(|(v, tag, commit)| (v.to_string(), tag.to_string(), commit.to_string()))
}

/// The names of `name`'s release tags among `tags`, highest first, at most `n`: what to show
/// when none is in range.
pub fn release_tag_names(name: &str, tags: &[(String, String)], n: usize) -> Vec<String> {
    release_tags(name, tags)
        .into_iter()
        .take(n)
        .map(|(_, tag, _)| tag.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_versions_and_ranges_as_claude_code_resolves_them() {
        let sha = "ca0cab27d69993decea5f40182c821ff713f2aba";
        assert_eq!(with_commit("2.1.3", sha), "2.1.3-ca0cab27d699");
        assert_eq!(with_commit("2.1.3-ca0cab27d699", sha), "2.1.3-ca0cab27d699");
        let tags: Vec<(String, String)> = [
            "fmt--v2.0.0",
            "fmt--v2.1.3",
            "fmt--v2.1.5-beta.1",
            "fmt--v2.2.0",
            "other--v2.1.9",
            "fmt--vnot-semver",
        ]
        .iter()
        .map(|t| (t.to_string(), format!("c-{t}")))
        .collect();
        let range = |r: &[&str]| {
            intersect_ranges(&r.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap()
                .unwrap()
        };
        let pick = |r: &[&str]| highest_tag("fmt", &tags, &range(r)).map(|(v, _, _)| v);
        assert_eq!(
            pick(&["~2.1.0"]).as_deref(),
            Some("2.1.3"),
            "pre-releases left out"
        );
        assert_eq!(pick(&["^2.0.0", "<2.2.0"]).as_deref(), Some("2.1.3"));
        assert_eq!(pick(&[">=2.1.5-0 <2.2.0"]).as_deref(), Some("2.1.5-beta.1"));
        assert_eq!(
            release_tag_names("fmt", &tags, 3),
            ["fmt--v2.2.0", "fmt--v2.1.5-beta.1", "fmt--v2.1.3"]
        );
        assert_eq!(pick(&["^3.0.0"]), None);
        assert_eq!(range(&["^9.0.0"]).to_string(), ">=9.0.0 <10.0.0-0");
        let strings = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            intersect_ranges(&strings(&["~2.1.0", "^2.2.0"])).unwrap_err(),
            RangeProblem::Disjoint
        );
        assert_eq!(
            intersect_ranges(&strings(&["not a range!!"])).unwrap_err(),
            RangeProblem::Invalid
        );
        assert!(intersect_ranges(&[]).unwrap().is_none());
    }

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
