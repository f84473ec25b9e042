//! The orchestrator reads bottom-up: a static look at its imports finds no circle, and every import points down the
//! layers of docs/ARCHITECTURE.md's module map.
//!
//! Each source file belongs to a top-level module (`turn/waves.rs` to `turn`). Every `crate::x` path in its non-test
//! code (`use` lines and inline paths, `crate::{a, b}` groups too) is an edge from its module to `x`. The test fails on
//! an edge that climbs a layer, and on any circle.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: a panic is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first. A module may import from its own layer (the circle check covers that) and from any layer below.
const LAYERS: &[&[&str]] = &[
    &["chat", "tools", "llm", "documents"],
    &["evidence", "question", "fakes"],
    &["plan", "compose"],
    &["agent"],
    &["turn"],
    &[
        "api",
        "admission",
        "http_metrics",
        "identity",
        "lambda",
        "openapi",
        "setup",
        "tuning",
    ],
];

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/orchestrator/src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the orchestrator's sources") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without its test module: `tests.rs` files are all test, and an inline `#[cfg(test)] mod tests`
/// runs to the end of its file.
fn production_code(path: &Path) -> Option<String> {
    if path.file_name().is_some_and(|name| name == "tests.rs") {
        return None;
    }
    let text = std::fs::read_to_string(path).expect("a readable source file");
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    Some(text[..cut].to_string())
}

/// The top-level module a file belongs to; `None` for the crate root and the binary.
fn module_of(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The code without its comments: a doc comment may point a reader at any module.
fn without_comments(code: &str) -> String {
    code.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`.
fn imported_modules(code: &str) -> BTreeSet<String> {
    let code = without_comments(code);
    let code = code.as_str();
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        // `navigator_platform::...` is another crate; only a bare `crate::` is this one.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        found.insert(identifier(&group[i..]).to_string());
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(identifier(rest).to_string());
        }
    }
    // Items of the crate root (`crate::FUNCTION`) are no module.
    found.retain(|name| name.chars().next().is_some_and(|c| c.is_lowercase()));
    found
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let (Some(module), Some(code)) = (module_of(&root, &file), production_code(&file)) else {
            continue;
        };
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(imported_modules(&code).into_iter().filter(|m| *m != module));
    }
    graph
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// A circle through `graph`, if there is one, as the modules on it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn every_orchestrator_module_has_a_layer() {
    let graph = import_graph();
    assert!(graph.len() >= 10, "found the sources: {graph:?}");
    for module in graph.keys() {
        assert!(
            layer_of(module).is_some(),
            "{module} is in no layer of LAYERS (and of docs/ARCHITECTURE.md's module map)"
        );
    }
}

#[test]
fn orchestrator_imports_point_down_the_layers() {
    for (module, imports) in import_graph() {
        let Some(layer) = layer_of(&module) else { continue };
        for import in imports {
            let target = layer_of(&import).unwrap_or(usize::MAX);
            assert!(
                target <= layer,
                "{module} (layer {layer}) imports {import} (layer {target}): imports must point down"
            );
        }
    }
}

#[test]
fn orchestrator_imports_hold_no_circle() {
    let graph = import_graph();
    assert_eq!(find_circle(&graph), None, "{graph:#?}");
}

#[test]
fn the_checker_sees_groups_inline_paths_and_circles() {
    let code = "use crate::{turn::Navigator, plan::{Step, Planner}};\nfn f() { crate::chat::Role::User; }\n\
                use navigator_platform::crate_like::X;\n//! see `crate::api` for the router";
    let found: Vec<String> = imported_modules(code).into_iter().collect();
    assert_eq!(found, ["chat", "plan", "turn"]);
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_circle(&graph), Some(vec!["a".into(), "b".into(), "a".into()]));
}
