//! A marketplace's `renames` map (`{"<old name>": "<new name>" | null}`, Claude Code 2.1.193+):
//! how a catalog tells installs that a plugin changed its name or was withdrawn.
//!
//! Resolution follows Claude Code: a name that is not a key resolves to nothing; otherwise the
//! chain is followed key by key until it reaches a name listed in `plugins[]` (renamed), `null`
//! (removed), a name seen before (cycle) or a name that is neither a key nor listed
//! (target missing). Parsing is lenient, like the rest of the catalog: a bad value only makes
//! chains through it unresolvable.

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;

use super::catalog::json_type;
use super::names::plugin_name_problem;

/// One `renames` value as written.
#[derive(Debug, Clone, PartialEq)]
pub enum RenameTarget {
    Name(String),
    Removed,
    /// Neither a string nor `null` (its JSON type).
    Invalid(&'static str),
}

/// The parsed `renames` map, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Renames {
    pub entries: Vec<(String, RenameTarget)>,
    /// Set when `renames` is present but not an object (then `entries` is empty).
    pub problem: Option<String>,
}

/// Where the chain starting at one name ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    Renamed {
        to: String,
    },
    Removed,
    Unresolved {
        reason: Unresolved,
        chain: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unresolved {
    Cycle,
    /// The last name is neither a key of `renames` nor a name in `plugins[]`.
    TargetMissing,
    /// A value is not a string or `null`, or the final name is not a valid plugin name.
    InvalidTarget,
    /// More than [`MAX_CHAIN`] names to look at.
    TooDeep,
}

/// Names a chain may pass through before it counts as unresolvable (Claude Code 2.1.328: 16).
const MAX_CHAIN: usize = 16;

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claude Code's reason words (`chain does not resolve (cycle)`).
        f.write_str(match self {
            Unresolved::Cycle => "cycle",
            Unresolved::TargetMissing => "target-missing",
            Unresolved::InvalidTarget => "invalid-target",
            Unresolved::TooDeep => "chain-too-deep",
        })
    }
}

impl Renames {
    /// Parse the top-level `renames` value of a catalog (`None` when absent).
    pub fn parse(v: Option<&Value>) -> Self {
        match v {
            None | Some(Value::Null) => Self::default(),
            Some(Value::Object(map)) => Self {
                entries: map
                    .iter()
                    .map(|(k, v)| {
                        let target = match v {
                            Value::String(s) => RenameTarget::Name(s.clone()),
                            Value::Null => RenameTarget::Removed,
                            other => RenameTarget::Invalid(json_type(Some(other))),
                        };
                        (k.clone(), target)
                    })
                    .collect(),
                problem: None,
            },
            Some(other) => Self {
                entries: Vec::new(),
                problem: Some(format!(
                    "renames: Invalid input: expected object, received {}",
                    json_type(Some(other))
                )),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.problem.is_none()
    }

    fn get(&self, name: &str) -> Option<&RenameTarget> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, t)| t)
    }

    /// Follow the chain from `name`; `None` when `name` is not a key. `listed` are the names in
    /// `plugins[]`.
    pub fn resolve(&self, name: &str, listed: &HashSet<&str>) -> Option<Resolution> {
        self.get(name)?;
        let mut chain = vec![name.to_string()];
        let mut current = name.to_string();
        loop {
            let unresolved = |reason, chain| Some(Resolution::Unresolved { reason, chain });
            match self.get(&current) {
                None if listed.contains(current.as_str()) => {
                    return match plugin_name_problem(&current) {
                        None => Some(Resolution::Renamed { to: current }),
                        Some(_) => unresolved(Unresolved::InvalidTarget, chain),
                    };
                }
                None => return unresolved(Unresolved::TargetMissing, chain),
                Some(RenameTarget::Removed) => return Some(Resolution::Removed),
                Some(RenameTarget::Invalid(_)) => {
                    return unresolved(Unresolved::InvalidTarget, chain);
                }
                Some(RenameTarget::Name(next)) => {
                    let cycle = chain.contains(next);
                    chain.push(next.clone());
                    if cycle {
                        return unresolved(Unresolved::Cycle, chain);
                    }
                    if chain.len() > MAX_CHAIN {
                        return unresolved(Unresolved::TooDeep, chain);
                    }
                    current = next.clone();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn renames(v: Value) -> Renames {
        Renames::parse(Some(&v))
    }

    #[test]
    fn chains_nulls_and_failures() {
        let r = renames(json!({
            "a": "b", "b": "c", "gone": null, "via": "gone",
            "loop1": "loop2", "loop2": "loop1", "self": "self",
            "lost": "nowhere", "odd": 7, "bad": "Bad Name"
        }));
        let listed: HashSet<&str> = ["c", "Bad Name"].into_iter().collect();
        assert_eq!(
            r.resolve("a", &listed),
            Some(Resolution::Renamed { to: "c".into() })
        );
        assert_eq!(r.resolve("via", &listed), Some(Resolution::Removed));
        assert_eq!(r.resolve("c", &listed), None);
        assert_eq!(
            r.resolve("loop1", &listed),
            Some(Resolution::Unresolved {
                reason: Unresolved::Cycle,
                chain: vec!["loop1".into(), "loop2".into(), "loop1".into()]
            })
        );
        assert!(matches!(
            r.resolve("self", &listed),
            Some(Resolution::Unresolved {
                reason: Unresolved::Cycle,
                ..
            })
        ));
        assert_eq!(
            r.resolve("lost", &listed),
            Some(Resolution::Unresolved {
                reason: Unresolved::TargetMissing,
                chain: vec!["lost".into(), "nowhere".into()]
            })
        );
        for name in ["odd", "bad"] {
            assert!(matches!(
                r.resolve(name, &listed),
                Some(Resolution::Unresolved {
                    reason: Unresolved::InvalidTarget,
                    ..
                })
            ));
        }
    }

    #[test]
    fn chains_of_more_than_sixteen_names_do_not_resolve() {
        // n0 → n1 → … → n<hops>, the last one listed.
        let chain = |hops: usize| {
            let map: serde_json::Map<String, Value> = (0..hops)
                .map(|i| (format!("n{i}"), json!(format!("n{}", i + 1))))
                .collect();
            (renames(Value::Object(map)), format!("n{hops}"))
        };
        let (r, last) = chain(15);
        let listed: HashSet<&str> = [last.as_str()].into_iter().collect();
        assert_eq!(
            r.resolve("n0", &listed),
            Some(Resolution::Renamed { to: last.clone() })
        );
        let (r, last) = chain(16);
        let listed: HashSet<&str> = [last.as_str()].into_iter().collect();
        assert!(matches!(
            r.resolve("n0", &listed),
            Some(Resolution::Unresolved {
                reason: Unresolved::TooDeep,
                ..
            })
        ));
    }

    #[test]
    fn a_renames_that_is_not_an_object_is_a_problem() {
        let r = renames(json!(["a"]));
        assert!(r.entries.is_empty());
        assert_eq!(
            r.problem.as_deref(),
            Some("renames: Invalid input: expected object, received array")
        );
        assert!(Renames::parse(None).is_empty());
    }
}
