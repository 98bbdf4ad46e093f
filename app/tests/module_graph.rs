//! `app::http` has no import cycles: each module of the crate (a file) is a node, each path it
//! names in non-test code (`use` items and inline paths starting at `crate`, `super`, `self` or
//! a child module) an edge to the module that path lands in, and no cycle may pass through
//! `app::http`. Test modules (`#[cfg(test)]` to the end of a file) and comments are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`crate::http::body`) → the paths of the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every module file under `src` (the binary's `main.rs` aside), by module path.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &str, found: &mut BTreeMap<String, PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("a readable source directory")
            .map(|entry| entry.expect("an entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                walk(&path, &format!("{prefix}::{stem}"), found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match stem {
                    "mod" => prefix.to_owned(),
                    _ => format!("{prefix}::{stem}"),
                };
                found.insert(module, path);
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(src, "crate", &mut found);
    found.remove("crate::main");
    if let Some(lib) = found.remove("crate::lib") {
        found.insert("crate".into(), lib);
    }
    found
}

/// The non-test code of `text` without comments.
fn code(text: &str) -> String {
    text.lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| line.split(" //").next().unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths of `use` items (braces expanded) and every other `a::b` path in `code`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let boundary = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let end = rest[at..].find(';').map_or(rest.len(), |end| at + end);
        if boundary {
            expand("", &rest[at + 4..end], &mut found);
        }
        rest = &rest[end.min(rest.len() - 1) + 1..];
    }
    let mut token = String::new();
    for c in code.chars().chain([' ']) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            token.push(c);
        } else {
            if token.contains("::") {
                found.push(token.split("::").map(str::to_owned).collect());
            }
            token.clear();
        }
    }
    found
}

/// Expands the use tree `tree` under `prefix` into `found`.
fn expand(prefix: &str, tree: &str, found: &mut Vec<Vec<String>>) {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let tree = tree
        .trim_start_matches("pub(crate)")
        .trim_start_matches("pub");
    match tree.find('{') {
        None => {
            let full = format!("{prefix}{tree}");
            let path = full.split(" as ").next().unwrap_or(&full);
            found.push(path.split("::").map(str::to_owned).collect());
        }
        Some(open) => {
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            for (index, c) in inner.char_indices().chain([(inner.len(), ',')]) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let item = &inner[start..index];
                        if !item.is_empty() {
                            expand(&format!("{prefix}{}", &tree[..open]), item, found);
                        }
                        start = index + 1;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The module `path`, named inside `module`, lands in, if it names one of `known`.
fn resolve(module: &str, path: &[String], known: &BTreeSet<String>) -> Option<String> {
    let mut at: Vec<&str> = module.split("::").collect();
    let mut segments = path.iter().map(String::as_str).peekable();
    match segments.peek().copied() {
        Some("crate") => {
            at.truncate(1);
            segments.next();
        }
        Some("self") => {
            segments.next();
        }
        Some("super") => {
            while segments.peek() == Some(&"super") {
                at.pop();
                segments.next();
            }
        }
        Some(child) if known.contains(&format!("{module}::{child}")) => {}
        _ => return None,
    }
    let mut target = at.join("::");
    for segment in segments {
        let deeper = format!("{target}::{segment}");
        if !known.contains(&deeper) {
            break;
        }
        target = deeper;
    }
    Some(target)
}

/// `code` split into its inline modules (`mod name { ... }`, by name) and the rest (`""`).
fn inline_modules(code: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut outer = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("mod ") {
        let after = &rest[at + 4..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let opens = after[name.len()..].trim_start().starts_with('{');
        let boundary = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        if name.is_empty() || !opens || !boundary {
            outer.push_str(&rest[..at + 4]);
            rest = after;
            continue;
        }
        let open = at + 4 + after.find('{').unwrap_or(0);
        let mut depth = 0;
        let mut close = rest.len();
        for (index, c) in rest[open..].char_indices() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth == 0 {
                close = open + index;
                break;
            }
        }
        outer.push_str(&rest[..at]);
        let inner = inline_modules(&rest[(open + 1).min(close)..close]);
        parts.extend(inner.into_iter().map(|(path, text)| match path.as_str() {
            "" => (name.clone(), text),
            path => (format!("{name}::{path}"), text),
        }));
        rest = &rest[(close + 1).min(rest.len())..];
    }
    outer.push_str(rest);
    parts.push((String::new(), outer));
    parts
}

fn graph(src: &Path) -> Graph {
    let modules = modules(src);
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(module, file)| {
            let text = std::fs::read_to_string(file).expect("a readable source file");
            let mut targets = BTreeSet::new();
            for (inline, part) in inline_modules(&code(&text)) {
                let within = match inline.as_str() {
                    "" => module.clone(),
                    inline => format!("{module}::{inline}"),
                };
                targets.extend(
                    paths(&part)
                        .iter()
                        .filter_map(|path| resolve(&within, path, &known))
                        .filter(|target| target != module),
                );
            }
            (module.clone(), targets)
        })
        .collect()
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct Search<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<BTreeSet<String>>,
    }
    impl<'g> Search<'g> {
        fn visit(&mut self, node: &'g str) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                while let Some(member) = self.stack.pop() {
                    component.insert(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.found
}

/// `app/src`, or the directory `MODULE_GRAPH_SRC` names (to check another tree).
fn src() -> PathBuf {
    std::env::var_os("MODULE_GRAPH_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn no_import_cycle_passes_through_app_http() {
    let graph = graph(&src());
    let through_http: Vec<_> = cycles(&graph)
        .into_iter()
        .filter(|cycle| cycle.iter().any(|m| m.starts_with("crate::http")))
        .collect();
    assert!(
        through_http.is_empty(),
        "modules that import each other: {through_http:#?}"
    );
}

#[test]
fn the_graph_sees_the_imports_it_is_about() {
    let graph = graph(&src());
    let edges = |module: &str| graph.get(module).cloned().unwrap_or_default();
    assert!(edges("crate::http").contains("crate::http::handlers"));
    assert!(edges("crate::http::handlers::create").contains("crate::http::state"));
    assert!(edges("crate::http::middleware::request_id").contains("crate::http::json_text"));
    assert!(
        edges("crate::http::json_text").is_empty(),
        "{:?}",
        edges("crate::http::json_text")
    );
    let toy: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .into_iter()
        .fold(Graph::new(), |mut graph, (from, to)| {
            graph.entry(from.into()).or_default().insert(to.into());
            graph
        });
    assert_eq!(
        cycles(&toy),
        vec![BTreeSet::from(["a".into(), "b".into(), "c".into()])]
    );
}
