//! The module layering of ARCHITECTURE.md ("Layers") as a test: every `crate::` and `super::`
//! path in `src/` (test code aside) is resolved to its unit, and an edge between two units that
//! the table does not allow fails, as does an allowed edge nothing uses any more or a cycle.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Units finer than a top-level module, where the pure cores sit below their IO neighbours.
/// The longest listed prefix of a module path is its unit; otherwise its top-level module.
const UNITS: &[&str] = &[
    "checkout::flow",
    "checkout::adapter",
    "checkout::reasons",
    "checkout::messages",
    "checkout::progress",
    "checkout::reconcile",
    "checkout::order_no",
    "checkout::fingerprint",
    "shift::report",
    "shift::text",
    "wxpay::sign",
    "wxpay::xml",
    "wxpay::endpoint",
    "wxpay::api",
    "wxpay::client",
    "wxpay::call",
    "tui::app",
    "tui::view",
    "tui::i18n",
    "pole::decode",
    "pole::total",
];

type Edges = BTreeMap<String, BTreeSet<String>>;

fn unit_of(module: &str) -> String {
    UNITS
        .iter()
        .filter(|u| module == **u || module.starts_with(&format!("{u}::")))
        .max_by_key(|u| u.len())
        .map(|u| u.to_string())
        .unwrap_or_else(|| module.split("::").next().unwrap_or("").to_string())
}

/// The module path of a source file: `src/tui/app/mod.rs` → `tui::app`.
fn module_of(file: &Path, src: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// Source without comments and without `#[cfg(test)]` items (tests may use anything).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<i32> = None;
    let mut pending_test = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if let Some(d) = skip_depth.as_mut() {
            *d += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if *d <= 0 && line.contains('}') {
                skip_depth = None;
            }
            continue;
        }
        if t.starts_with("#[cfg(test)]") {
            pending_test = true;
            continue;
        }
        if pending_test {
            pending_test = false;
            let depth = line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if depth > 0 {
                skip_depth = Some(depth);
            }
            // A one-line item (`mod tests;`, `use …;`) is skipped whole.
            continue;
        }
        let code = line.split(" // ").next().unwrap_or(line);
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The child modules `code` declares (`mod x;`, `pub mod x;`, `pub(crate) mod x;`).
fn children_of(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub(crate) ")
                .or(l.strip_prefix("pub "))
                .unwrap_or(l);
            let name = rest.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_string())
        })
        .collect()
}

/// The module paths `code` (of module `here`) names through `crate::`, `super::` or one of
/// its own child modules.
fn paths_named(code: &str, here: &str) -> BTreeSet<String> {
    let children = children_of(code);
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let start_ok = i == 0 || !ident(bytes[i - 1]);
        let rest = &code[i..];
        let (base, skip): (Vec<String>, usize) = if start_ok && rest.starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if start_ok && rest.starts_with("super::") {
            let mut parts: Vec<String> = here.split("::").map(String::from).collect();
            let mut n = 0;
            while code[i + n..].starts_with("super::") {
                parts.pop();
                n += "super::".len();
            }
            (parts, n)
        } else if let Some(child) = children.iter().find(|c| {
            start_ok && (i == 0 || bytes[i - 1] != b':') && rest.starts_with(&format!("{c}::"))
        }) {
            let mut parts: Vec<String> = here.split("::").map(String::from).collect();
            parts.retain(|p| !p.is_empty());
            parts.push(child.clone());
            (parts, child.len() + 2)
        } else {
            i += 1;
            continue;
        };
        // Follow lowercase segments (modules); stop at a type, a brace or a glob.
        let mut path = base;
        let mut j = i + skip;
        loop {
            let seg_end = code[j..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(code.len(), |k| j + k);
            let seg = &code[j..seg_end];
            if seg.is_empty() || !seg.starts_with(|c: char| c.is_ascii_lowercase()) {
                break;
            }
            path.push(seg.to_string());
            if code[seg_end..].starts_with("::") {
                j = seg_end + 2;
            } else {
                break;
            }
        }
        if !path.is_empty() {
            found.insert(path.join("::"));
        }
        i = j.max(i + 1);
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every unit-to-unit edge the code uses.
fn observed(src: &Path) -> Edges {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges = Edges::new();
    for file in files {
        let module = module_of(&file, src);
        // Test-only files: `tests.rs`, `core_tests.rs`, `testkit.rs`, `…/tests/…`.
        if module
            .split("::")
            .any(|p| p == "tests" || p.ends_with("_tests"))
            || module.ends_with("testkit")
            || module.is_empty()
            || module == "main"
        {
            continue;
        }
        let from = unit_of(&module);
        let text = std::fs::read_to_string(&file).unwrap();
        for path in paths_named(&code_of(&text), &module) {
            let to = unit_of(&path);
            if to != from && !to.is_empty() {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// The allowed edges: the fenced block under "## Layers" in ARCHITECTURE.md,
/// one `unit -> dep, dep` per line (`unit ->` for a leaf).
fn allowed(architecture: &str) -> Edges {
    let section = architecture
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a '## Layers' section");
    let block = section
        .split("```")
        .nth(1)
        .expect("the Layers section has a fenced block");
    let mut edges = Edges::new();
    for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (from, to) = line
            .split_once("->")
            .unwrap_or_else(|| panic!("'{line}' is not 'unit -> deps'"));
        let deps = edges.entry(from.trim().to_string()).or_default();
        for d in to.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            deps.insert(d.to_string());
        }
    }
    edges
}

/// A cycle in `edges`, if any, as the list of units around it.
fn cycle(edges: &Edges) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &Edges,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|s| s == n) {
            return Some(stack[pos..].to_vec());
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for d in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn module_edges_follow_the_layers_of_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let allowed = allowed(&arch);
    let seen = observed(&root.join("src"));
    let mut problems = Vec::new();
    for (from, deps) in &seen {
        for to in deps {
            if !allowed.get(from).is_some_and(|a| a.contains(to)) {
                problems.push(format!(
                    "{from} -> {to} is not allowed (ARCHITECTURE.md, Layers)"
                ));
            }
        }
    }
    for (from, deps) in &allowed {
        for to in deps {
            if !seen.get(from).is_some_and(|s| s.contains(to)) {
                problems.push(format!(
                    "{from} -> {to} is allowed but unused: remove it from the Layers table"
                ));
            }
        }
    }
    if let Some(c) = cycle(&allowed) {
        problems.push(format!("the Layers table has a cycle: {}", c.join(" -> ")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_edges_and_cycles() {
    // `super::` climbs from the file's module; types and comments are not modules.
    let code = code_of(
        "use crate::wxpay::api::{self, Call};\n// crate::cli::x\nuse super::super::journal::Sale;\n\
         #[cfg(test)]\nmod tests {\n    use crate::simulator::x;\n}\nfn f() { crate::money::Fen(1); }\n",
    );
    let named = paths_named(&code, "checkout::flow::rules");
    assert_eq!(
        named,
        ["checkout::journal", "money", "wxpay::api"]
            .map(String::from)
            .into()
    );
    assert_eq!(unit_of("wxpay::api::micropay"), "wxpay::api");
    assert_eq!(unit_of("checkout::runner"), "checkout");
    let mut e = Edges::new();
    e.entry("a".into()).or_default().insert("b".into());
    assert_eq!(cycle(&e), None);
    e.entry("b".into()).or_default().insert("a".into());
    assert!(cycle(&e).is_some());
    let arch = "x\n## Layers\n\n```\nmoney ->\njournal -> money\n```\n";
    let a = allowed(arch);
    assert!(a["money"].is_empty());
    assert!(a["journal"].contains("money"));
}
