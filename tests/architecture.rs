//! The module map in docs/architecture.md is the truth about the layering, and this test keeps
//! the code to it: every top-level module of src/lib.rs is in the map (and nothing else is), no
//! module imports one of a higher layer, and the map's "Imports" column is what the code imports.
//!
//! An import is any `crate::<module>` in a module's files (a `use` line, a path in a function
//! body, a doc link), `use crate::{a, b::c}` groups included, up to the file's first
//! `#[cfg(test)]` (unit tests may reach anywhere).
#![allow(clippy::disallowed_methods)] // tests read and write their fixtures with std::fs

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// One row of the module map: its layer (1 is the top) and the imports it lists.
struct Row {
    layer: u32,
    imports: BTreeSet<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `pub mod x;` lines of src/lib.rs.
fn lib_modules() -> BTreeSet<String> {
    let lib = fs::read_to_string(root().join("src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').trim().to_string())
        .collect()
}

/// The rows of the module map table: `| `module` | layer | imports | purpose |`.
fn module_map(doc: &str) -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let [module, layer, imports, _purpose] = cells[..] else {
            continue;
        };
        let (Some(module), Ok(layer)) = (
            module.strip_prefix('`').and_then(|m| m.strip_suffix('`')),
            layer.parse::<u32>(),
        ) else {
            continue;
        };
        let imports = imports
            .split(',')
            .map(|i| i.trim().trim_matches('`').to_string())
            .filter(|i| !i.is_empty() && i != "—")
            .collect();
        let old = rows.insert(module.to_string(), Row { layer, imports });
        assert!(old.is_none(), "docs/architecture.md lists `{module}` twice");
    }
    rows
}

/// The top-level module names `text` refers to through `crate::`.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        // `$crate::` in a macro and `foo_crate::` are not this crate's paths.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the names at the group's first level.
            let (mut depth, mut item_start) = (0, true);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        out.insert(ident(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Which top-level modules each top-level module of src/ imports (itself left out).
fn import_graph(modules: &BTreeSet<String>) -> Graph {
    let src = root().join("src");
    let mut graph = Graph::new();
    for m in modules {
        let mut files = Vec::new();
        let file = src.join(format!("{m}.rs"));
        if file.exists() {
            files.push(file);
        }
        if src.join(m).is_dir() {
            rust_files(&src.join(m), &mut files);
        }
        assert!(!files.is_empty(), "no source for module `{m}`");
        let mut imports = BTreeSet::new();
        for f in files {
            let text = fs::read_to_string(&f).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            imports.extend(crate_refs(text));
        }
        imports.retain(|i| i != m && modules.contains(i));
        graph.insert(m.clone(), imports);
    }
    graph
}

/// Every import of a module from a higher layer (a smaller number) than its own.
fn upward_edges(map: &BTreeMap<String, Row>, graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for (from, imports) in graph {
        for to in imports {
            let (Some(a), Some(b)) = (map.get(from), map.get(to)) else {
                continue;
            };
            if b.layer < a.layer {
                out.push(format!(
                    "`{from}` (layer {}) imports `{to}` (layer {}), a higher layer",
                    a.layer, b.layer
                ));
            }
        }
    }
    out
}

fn doc() -> String {
    fs::read_to_string(root().join("docs/architecture.md")).unwrap()
}

#[test]
fn every_module_is_in_the_map_and_only_those() {
    let modules = lib_modules();
    let mapped: BTreeSet<String> = module_map(&doc()).into_keys().collect();
    let missing: Vec<_> = modules.difference(&mapped).collect();
    let extra: Vec<_> = mapped.difference(&modules).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/architecture.md's module map is out of date: add {missing:?} (modules of src/lib.rs), \
         remove {extra:?} (not modules of src/lib.rs)"
    );
}

#[test]
fn no_module_imports_a_higher_layer() {
    let map = module_map(&doc());
    let graph = import_graph(&lib_modules());
    let upward = upward_edges(&map, &graph);
    assert!(
        upward.is_empty(),
        "imports against the layering of docs/architecture.md (move the shared piece down, or \
         change the layering there):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_maps_imports_are_what_the_code_imports() {
    let map = module_map(&doc());
    let graph = import_graph(&lib_modules());
    let mut wrong = Vec::new();
    for (m, imports) in &graph {
        if let Some(row) = map.get(m)
            && row.imports != *imports
        {
            let list: Vec<&str> = imports.iter().map(String::as_str).collect();
            wrong.push(format!("`{m}`: {}", list.join(", ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "the Imports column of docs/architecture.md differs from the code; it should read:\n{}",
        wrong.join("\n")
    );
}

/// The checks above can fail: the scanner sees every form of import, and an upward one is named.
#[test]
fn the_check_finds_an_upward_import() {
    let text = "use crate::{low::X, other};\nfn f() { crate::high::run(); }\n\
                macro_rules! m { () => { $crate::skipped::x() } }\n";
    let refs = crate_refs(text);
    let want: BTreeSet<String> = ["high", "low", "other"].map(String::from).into();
    assert_eq!(refs, want);
    let map = module_map(
        "| `high` | 1 | low | top |\n| `low` | 2 | — | bottom |\n| `other` | 2 | — | bottom |",
    );
    let graph = Graph::from([
        ("low".to_string(), refs),
        ("high".to_string(), BTreeSet::from(["low".to_string()])),
    ]);
    assert_eq!(
        upward_edges(&map, &graph),
        ["`low` (layer 2) imports `high` (layer 1), a higher layer"]
    );
}
