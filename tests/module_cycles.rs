//! The layers of `src/` import downwards only: no module imports one that
//! imports it back, directly or around a circle.
//!
//! The graph is read from the source text: each top-level module under
//! `src/` is one node, and so is each family folder under the family roots
//! (a family is one folder that the rest reaches through its registry),
//! except the family's `options.rs`: the part the configuration reads,
//! below it, which must import nothing of the crate. An
//! edge is any `crate::…`, `super::…`, `self::…` path or path through a
//! child module that leads into another node; a path in a macro whose
//! family is a metavariable (`crate::appliances::$family::options`) leads
//! into that part of every family. Test code (`#[cfg(test)]`
//! modules) may use the simulators and is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Folders whose sub-folders are nodes of their own.
const FAMILY_ROOTS: &[&str] = &["appliances"];

/// Module graph: node → nodes it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_modules_of_src_import_without_a_cycle() {
    // MODULE_CYCLES_SRC checks another tree (e.g. an older checkout).
    let src = std::env::var_os("MODULE_CYCLES_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let graph = graph_of(&src);
    assert!(graph.len() > 5, "too few modules read: {graph:?}");
    for (node, edges) in &graph {
        assert!(
            !node.ends_with("::options") || edges.is_empty(),
            "{node} is read by the configuration and must import nothing of the crate: {edges:?}"
        );
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between modules of src/: {}\n(see ARCHITECTURE.md: lower layers never import higher ones)",
            cycle.join(" -> ")
        );
    }
}

/// A family folder that the families list (`config::families!`) leaves
/// out would not even be compiled; one the list names without a folder
/// would not compile.
#[test]
fn every_family_folder_is_in_the_families_list() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders = families_in(&src);
    let listed: BTreeSet<String> = appliance_exporter::config::Kind::ALL
        .iter()
        .map(|k| format!("appliances::{}", k.as_str()))
        .collect();
    assert_eq!(folders, listed);
}

#[test]
fn a_cycle_is_found_and_a_layered_graph_passes() {
    let mut g = Graph::new();
    let edge = |g: &mut Graph, a: &str, b: &str| {
        g.entry(a.to_owned()).or_default().insert(b.to_owned());
        g.entry(b.to_owned()).or_default();
    };
    edge(&mut g, "scrape", "collectors");
    edge(&mut g, "collectors", "upstream");
    edge(&mut g, "upstream", "json");
    edge(&mut g, "collectors", "json");
    assert_eq!(find_cycle(&g), None);
    edge(&mut g, "json", "collectors");
    let cycle = find_cycle(&g).expect("the cycle json -> collectors -> json");
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.contains(&"json".to_owned()) && cycle.contains(&"collectors".to_owned()));
}

#[test]
fn edges_are_read_from_paths_super_children_and_groups_but_not_tests() {
    let text = r##"
        //! crate::commented::out is no edge
        mod child;
        use super::json::Text;
        use self::options::Leases;
        use crate::{config::Auth, upstream::Upstream};
        fn f() { child::run(); crate::exposition::render(); }
        #[cfg(test)]
        mod tests {
            use crate::simulator::x;
            const S: &str = "}";
            fn g() { let c = '}'; let r = r#"{"#; }
        }
        fn h() { crate::budget::x(); }
        macro_rules! m { ($family:ident) => { crate::appliances::$family::options::Options }; }
    "##;
    let module = vec!["appliances".to_owned(), "sectona".to_owned()];
    let (targets, test_files) = edges_of(text, &module);
    let families: Families = [
        "appliances::sectona".to_owned(),
        "appliances::connect_secure".to_owned(),
    ]
    .into();
    let nodes: BTreeSet<String> = targets
        .iter()
        .flat_map(|p| nodes_of(p, &families))
        .collect();
    let expected: BTreeSet<String> = [
        "appliances",
        "appliances::sectona",
        "appliances::sectona::options",
        "appliances::connect_secure::options",
        "config",
        "upstream",
        "exposition",
        "budget",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(nodes, expected);
    assert!(test_files.is_empty());
    let (_, test_files) = edges_of("#[cfg(test)]\npub(crate) mod testdata;\n", &module);
    assert_eq!(test_files, vec!["testdata".to_owned()]);
}

/// The family folders: `root::family` for each folder under a family root.
type Families = BTreeSet<String>;

/// The node a module path belongs to.
fn node_of(path: &[String], families: &Families) -> String {
    match path {
        [root, family, options, ..]
            if options == "options" && families.contains(&format!("{root}::{family}")) =>
        {
            format!("{root}::{family}::options")
        }
        [root, family, ..] if families.contains(&format!("{root}::{family}")) => {
            format!("{root}::{family}")
        }
        [first, ..] => first.clone(),
        [] => "crate".to_owned(),
    }
}

/// The nodes a module path leads into: one, or, when its family is a
/// macro's metavariable, that part of every family.
fn nodes_of(path: &[String], families: &Families) -> Vec<String> {
    match path {
        [root, family, rest @ ..] if family.starts_with('$') => families
            .iter()
            .filter_map(|f| f.strip_prefix(&format!("{root}::")))
            .map(|f| {
                let mut each = vec![root.clone(), f.to_owned()];
                each.extend(rest.iter().cloned());
                node_of(&each, families)
            })
            .collect(),
        _ => vec![node_of(path, families)],
    }
}

fn families_in(src: &Path) -> Families {
    let mut out = Families::new();
    for root in FAMILY_ROOTS {
        for entry in std::fs::read_dir(src.join(root))
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().is_dir() {
                out.insert(format!("{root}::{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    out
}

/// The module path of a source file (`src/a/b.rs` → `[a, b]`, `mod.rs`
/// naming its folder).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" && stem != "main" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn graph_of(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut read: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
    for file in &files {
        let module = module_of(src, file);
        let text = std::fs::read_to_string(file).expect("read a source file");
        let (targets, tests) = edges_of(&text, &module);
        for t in tests {
            let mut m = module.clone();
            m.push(t);
            test_only.insert(m);
        }
        read.push((module, targets));
    }
    let families = families_in(src);
    let mut graph = Graph::new();
    for (module, targets) in read {
        if module.is_empty() || test_only.iter().any(|t| module.starts_with(t)) {
            continue; // the crate root wires everything; test files are tests
        }
        let from = node_of(&module, &families);
        let edges = graph.entry(from.clone()).or_default();
        for to in targets.iter().flat_map(|t| nodes_of(t, &families)) {
            if to != from && to != "crate" {
                edges.insert(to);
            }
        }
    }
    graph
}

/// The module paths a file's code refers to, and the child modules it
/// declares for tests only.
fn edges_of(text: &str, module: &[String]) -> (Vec<Vec<String>>, Vec<String>) {
    let code = without_tests(&without_comments(text));
    let children: Vec<String> = declared_modules(&code.code);
    let mut targets = Vec::new();
    let tokens = path_tokens(&code.code);
    for path in tokens {
        // `a::b as c` names `a::b`.
        let mut segs: Vec<&str> = path
            .split("::")
            .map(|s| s.split_whitespace().next().unwrap_or(""))
            .collect();
        let mut base: Vec<String>;
        match segs.first().copied() {
            Some("crate") => {
                segs.remove(0);
                base = Vec::new();
            }
            Some("self") => {
                segs.remove(0);
                base = module.to_vec();
            }
            Some("super") => {
                base = module.to_vec();
                while segs.first() == Some(&"super") {
                    segs.remove(0);
                    base.pop();
                }
            }
            Some(first) if children.iter().any(|c| c == first) => {
                base = module.to_vec();
            }
            _ => continue,
        }
        base.extend(segs.iter().take(3).map(|s| (*s).to_owned()));
        targets.push(base);
    }
    (targets, code.test_files)
}

/// `a::b::c` paths, with `crate::{x::y, z}` groups spread into one path
/// each.
fn path_tokens(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if starts_word && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
            let mut j = i;
            // `$` begins a macro's metavariable (`crate::appliances::$family`).
            while j < bytes.len()
                && (bytes[j].is_ascii_alphanumeric()
                    || bytes[j] == b'_'
                    || bytes[j] == b':'
                    || bytes[j] == b'$')
            {
                j += 1;
            }
            let path = &code[i..j];
            if path.ends_with("::") && bytes.get(j) == Some(&b'{') {
                let end = matching_brace(code, j).unwrap_or(code.len());
                for item in split_top_level(&code[j + 1..end]) {
                    out.push(format!("{path}{}", item.trim()));
                }
                i = end;
                continue;
            }
            if path.contains("::") {
                out.push(path.trim_end_matches(':').to_owned());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn matching_brace(code: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (k, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + k);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_top_level(group: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

fn declared_modules(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))
                .or_else(|| l.strip_prefix("pub(crate) mod "))?;
            Some(rest.trim_end_matches([';', '{', ' ']).to_owned())
        })
        .collect()
}

/// The text without `//` comments and without the contents of string and
/// char literals (so braces and `::` inside them do not count).
fn without_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        // Raw strings: r"…", r#"…"#, br#"…"#.
        if c == 'r' && (i == 0 || !chars[i - 1].is_alphanumeric() || chars[i - 1] == 'b') {
            let mut k = i + 1;
            let mut hashes = 0;
            while chars.get(k) == Some(&'#') {
                hashes += 1;
                k += 1;
            }
            if chars.get(k) == Some(&'"') && (hashes > 0 || i + 1 == k) {
                k += 1;
                loop {
                    if k >= chars.len() {
                        break;
                    }
                    if chars[k] == '"' && (1..=hashes).all(|h| chars.get(k + h) == Some(&'#')) {
                        k += 1 + hashes;
                        break;
                    }
                    k += 1;
                }
                out.push_str("\"\"");
                i = k;
                continue;
            }
        }
        if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '\''), not a lifetime.
            if chars.get(i + 1) == Some(&'\\') {
                let mut k = i + 2;
                while k < chars.len() && chars[k] != '\'' {
                    k += 1;
                }
                out.push_str("' '");
                i = k + 1;
                continue;
            }
            if chars.get(i + 2) == Some(&'\'') {
                out.push_str("' '");
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

struct WithoutTests {
    code: String,
    test_files: Vec<String>,
}

/// The code without `#[cfg(test)]` items: inline modules are cut out to
/// their closing brace, file modules are named in `test_files`.
fn without_tests(code: &str) -> WithoutTests {
    let mut out = String::new();
    let mut test_files = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item_end = after.find([';', '{']).unwrap_or(after.len());
        let item = &after[..item_end];
        if after[item_end..].starts_with(';') {
            if let Some(name) = declared_modules(item.trim()).first() {
                test_files.push(name.clone());
            }
            rest = &after[item_end + 1..];
        } else {
            let end = matching_brace(after, item_end).unwrap_or(after.len() - 1);
            rest = &after[end + 1..];
        }
    }
    out.push_str(rest);
    WithoutTests {
        code: out,
        test_files,
    }
}

/// One cycle of `graph` (first node repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            let mut stack = Vec::new();
            if let Some(c) = visit(node, graph, &mut marks, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}
