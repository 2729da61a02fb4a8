//! The shape of the code, checked: the domain's modules form the layers `src/domain/mod.rs`
//! states (no module imports one below it), no file of `src/domain` imports one that imports it
//! back (file by file, inside folders too; the emulator's remaining circles are a ratchet), no
//! source file holds more than 600 lines of non-test code, and no function is longer than 80 lines.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The limits are 600 lines a file and 80 a function; nothing may come within a tenth of them,
/// so the next change has room before a file or function must be split.
const MAX_FILE_LINES: usize = 600 - 60;
const MAX_FUNCTION_LINES: usize = 80 - 8;

/// Every crate's source, tests aside.
const SOURCE_ROOTS: &[&str] = &[
    "src",
    "crates/eks-emulator/src",
    "crates/local-stack/src",
    "crates/eks-rules/src",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code before its `#[cfg(test)]` module (tests may be as long as they need), or
/// nothing for a file that only holds tests.
fn non_test_code(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if name == "tests.rs" || name == "testing.rs" {
        return String::new();
    }
    let text = fs::read_to_string(path).expect("readable source file");
    // An inline test module (`mod tests {`), not a declaration of a test-only file (`mod testing;`).
    let inline_tests = text.match_indices("\n#[cfg(test)]\nmod ").find(|(at, m)| {
        let line = text[at + m.len()..].lines().next().unwrap_or_default();
        line.trim_end().ends_with('{')
    });
    match inline_tests {
        Some((at, _)) => text[..at].to_owned(),
        None => text,
    }
}

fn sources(roots: &[&str]) -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for root in roots {
        rust_files(&base.join(root), &mut files);
    }
    files.sort();
    files
}

/// The domain module a file of `src/domain` belongs to (`workflow` for
/// `src/domain/workflow/items.rs`), and the domain modules it imports.
fn domain_imports(path: &Path, domain: &Path) -> (String, Vec<String>) {
    let relative = path.strip_prefix(domain).expect("under src/domain");
    let mut parts = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned());
    let module = parts.next().unwrap_or_default();
    let depth = relative.components().count(); // 1: domain/x.rs; 2: domain/x/y.rs (or x/mod.rs)
    let is_mod_rs = relative.file_name().is_some_and(|n| n == "mod.rs");
    // How a path to a sibling domain module starts from this file.
    let to_domain = match (depth, is_mod_rs) {
        (1, _) | (2, true) => "super::".to_owned(),
        (d, true) => "super::".repeat(d - 1),
        (d, false) => "super::".repeat(d),
    };
    let code = non_test_code(path);
    let mut imports = Vec::new();
    for prefix in ["crate::domain::".to_owned(), to_domain] {
        for (at, _) in code.match_indices(&prefix) {
            let rest = &code[at + prefix.len()..];
            // `super::super::x` seen from `super::` is not a sibling: skip longer chains.
            if rest.starts_with("super::") {
                continue;
            }
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && name != module && name.chars().next().is_some_and(char::is_lowercase) {
                imports.push(name);
            }
        }
    }
    imports.sort();
    imports.dedup();
    (module, imports)
}

/// The layers as `src/domain/mod.rs` states them: lines `//! N. [`a`], [`b`] ...`.
fn stated_layers(domain: &Path) -> BTreeMap<String, usize> {
    let text = fs::read_to_string(domain.join("mod.rs")).expect("src/domain/mod.rs");
    let mut layers = BTreeMap::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("//! ")) {
        let Some((number, rest)) = line.split_once(". ") else {
            continue;
        };
        let Ok(number) = number.trim().parse::<usize>() else {
            continue;
        };
        for name in rest.split("[`").skip(1).filter_map(|s| s.split('`').next()) {
            layers.insert(name.to_owned(), number);
        }
    }
    layers
}

#[test]
fn the_domain_imports_only_from_the_layers_above_each_module() {
    let domain = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let layers = stated_layers(&domain);
    assert!(layers.len() >= 8, "src/domain/mod.rs states the layers: {layers:?}");
    let mut edges = BTreeMap::<String, Vec<String>>::new();
    for file in sources(&["src/domain"])
        .iter()
        .filter(|f| f.parent() != Some(domain.as_path()) || !f.ends_with("mod.rs"))
    {
        let (module, imports) = domain_imports(file, &domain);
        let rank = *layers.get(&module).unwrap_or_else(|| {
            panic!(
                "{module} (from {}) is not in the layers of src/domain/mod.rs",
                file.display()
            )
        });
        for import in imports {
            let theirs = *layers
                .get(&import)
                .unwrap_or_else(|| panic!("{} imports {import}, which is not in the layers", file.display()));
            assert!(
                theirs <= rank,
                "{} (layer {rank}) imports {import} (layer {theirs}): a module may import only from its layer or above",
                file.display()
            );
            edges.entry(module.clone()).or_default().push(import);
        }
    }
    // Within a layer too: no circle.
    fn visit(node: &str, edges: &BTreeMap<String, Vec<String>>, path: &mut Vec<String>) {
        assert!(
            !path.contains(&node.to_owned()),
            "import circle: {} -> {node}",
            path.join(" -> ")
        );
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, path);
        }
        path.pop();
    }
    for module in layers.keys() {
        visit(module, &edges, &mut Vec::new());
    }
}

#[test]
fn no_file_comes_within_a_tenth_of_600_lines_of_code() {
    let too_long: Vec<String> = sources(SOURCE_ROOTS)
        .iter()
        .map(|f| (f, non_test_code(f).lines().count()))
        .filter(|(_, lines)| *lines > MAX_FILE_LINES)
        .map(|(f, lines)| format!("{}: {lines} lines", f.display()))
        .collect();
    assert!(
        too_long.is_empty(),
        "files over {MAX_FILE_LINES} lines of non-test code: {too_long:#?}"
    );
}

#[test]
fn no_function_comes_within_a_tenth_of_80_lines() {
    let mut too_long = Vec::new();
    for file in sources(SOURCE_ROOTS) {
        let code = non_test_code(&file);
        let lines: Vec<&str> = code.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let indent = line.len() - line.trim_start().len();
            let trimmed = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "async fn ",
                "pub async fn ",
            ]
            .iter()
            .any(|p| trimmed.starts_with(p))
                || trimmed.starts_with("pub(crate) async fn ")
                || trimmed.starts_with("pub(super) async fn ");
            if !is_fn || trimmed.ends_with(';') {
                continue;
            }
            let closing = " ".repeat(indent) + "}";
            if let Some(length) = lines[start + 1..].iter().position(|l| *l == closing) {
                if length + 2 > MAX_FUNCTION_LINES {
                    too_long.push(format!("{}:{}: {} lines", file.display(), start + 1, length + 2));
                }
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines: {too_long:#?}"
    );
}

/// The file-level import graph of a crate's tree: which source file uses a name defined in which
/// other file. `use` trees are expanded, inline paths (`super::status::finish(...)`) count, and a
/// name a `mod.rs` only re-exports (`pub use`) is followed to the file that defines it, so a
/// facade is not a link. `mod x;` declarations are not imports.
mod file_graph {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    pub struct Crate {
        /// `src/` of the crate.
        pub root: PathBuf,
    }

    /// The module path of a file (`["domain", "workflow", "items"]`; `mod.rs` is its folder).
    fn module_of(root: &Path, file: &Path) -> Vec<String> {
        let relative = file.strip_prefix(root).expect("under the crate's src");
        let mut parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            parts.pop();
        }
        parts
    }

    impl Crate {
        /// The file of a module path, if it is a module.
        fn file_of(&self, module: &[String]) -> Option<PathBuf> {
            if module.is_empty() {
                return Some(self.root.join("lib.rs"));
            }
            let base = module.iter().fold(self.root.clone(), |p, m| p.join(m));
            let file = base.with_extension("rs");
            if file.is_file() {
                return Some(file);
            }
            let folder = base.join("mod.rs");
            folder.is_file().then_some(folder)
        }

        /// The file defining what `path` (already absolute: module segments then names) names:
        /// the deepest module it reaches, through that module's re-exports.
        fn resolve(&self, path: &[String], depth: usize) -> Option<PathBuf> {
            let mut module = Vec::new();
            let mut rest = path;
            while let Some((head, tail)) = rest.split_first() {
                let mut next = module.clone();
                next.push(head.clone());
                if self.file_of(&next).is_none() {
                    break;
                }
                module = next;
                rest = tail;
            }
            let file = self.file_of(&module)?;
            if let (Some(name), true) = (rest.first(), depth < 8) {
                // A name this module re-exports: the file it comes from.
                for target in uses(&file).into_iter().filter(|u| u.public) {
                    if target.path.last() == Some(name) {
                        let absolute = absolute(
                            &module,
                            &target.path,
                            file.ends_with("mod.rs") || file.ends_with("lib.rs"),
                        );
                        if let Some(found) = absolute.and_then(|a| self.resolve(&a, depth + 1)) {
                            return Some(found);
                        }
                    }
                }
            }
            Some(file)
        }

        /// Every file of `dir` with the files it imports.
        pub fn graph(&self, dir: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
            let mut files = Vec::new();
            super::rust_files(dir, &mut files);
            let mut graph = BTreeMap::new();
            for file in files {
                let module = module_of(&self.root, &file);
                let is_folder = ["mod.rs", "lib.rs", "main.rs"].iter().any(|n| file.ends_with(n));
                let mut targets = BTreeSet::new();
                let mut used = uses(&file);
                if is_folder {
                    used.extend(child_paths(&file));
                }
                for used in used.into_iter().filter(|u| !u.public || !is_folder) {
                    let Some(path) = absolute(&module, &used.path, is_folder) else {
                        continue;
                    };
                    if let Some(target) = self.resolve(&path, 0).filter(|t| *t != file) {
                        targets.insert(target);
                    }
                }
                graph.insert(file, targets);
            }
            graph
        }
    }

    /// A path used in a file, as written (`super`, `crate`, `self` kept).
    pub struct Used {
        path: Vec<String>,
        /// From a `pub use` (a re-export).
        public: bool,
    }

    /// `path` as seen from `module`, made absolute; `None` for an outside crate's path.
    fn absolute(module: &[String], path: &[String], is_folder: bool) -> Option<Vec<String>> {
        // From a file `x.rs`, `super` is the folder holding it; from `x/mod.rs`, the folder's parent.
        let mut at: Vec<String> = module.to_vec();
        let mut segments = path.iter().peekable();
        match segments.peek().map(|s| s.as_str()) {
            Some("crate") => {
                at.clear();
                segments.next();
            }
            Some("super" | "self") => {
                while let Some(s) = segments.peek().map(|s| s.as_str()) {
                    match s {
                        "self" => {}
                        "super" => {
                            at.pop();
                        }
                        _ => break,
                    }
                    segments.next();
                }
            }
            _ if is_folder || !path.is_empty() => {
                // `use items::x` in a mod.rs names a child module; elsewhere a relative path
                // names an outside crate (edition 2021).
                if !is_folder {
                    return None;
                }
            }
            _ => return None,
        }
        let _ = is_folder;
        at.extend(segments.cloned());
        Some(at)
    }

    /// The `use` trees (expanded) and inline `crate::` / `super::` / `self::` paths of a file's
    /// non-test code.
    fn uses(file: &Path) -> Vec<Used> {
        let code = super::non_test_code(file);
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = Vec::new();
        let mut rest = code.as_str();
        // `use` statements.
        while let Some(at) = find_use(rest) {
            let public = rest[..at].trim_end().ends_with("pub") || rest[..at].trim_end().ends_with(')');
            let body_start = at + "use ".len();
            let end = rest[body_start..].find(';').map_or(rest.len(), |e| body_start + e);
            let tree: String = rest[body_start..end].chars().filter(|c| !c.is_whitespace()).collect();
            expand(&tree, &mut Vec::new(), &mut |p| {
                out.push(Used { path: p, public });
            });
            rest = &rest[end..];
        }
        // Inline paths.
        for start in ["crate::", "super::", "self::"] {
            for (at, _) in code.match_indices(start) {
                let before = code[..at].chars().last().unwrap_or(' ');
                // `pub(in crate::model)` is a visibility, not a use.
                if before.is_alphanumeric() || before == '_' || before == ':' || code[..at].ends_with("(in ") {
                    continue;
                }
                let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
                if code[line_start..at].trim_start().starts_with("use ") || code[line_start..at].contains("use ") {
                    continue;
                }
                let text: String = code[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let path: Vec<String> = text.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
                out.push(Used { path, public: false });
            }
        }
        out
    }

    /// In a `mod.rs`, inline paths into its child modules (`items::on_item_started(...)`).
    fn child_paths(file: &Path) -> Vec<Used> {
        let folder = file.parent().expect("a folder");
        let children: Vec<String> = std::fs::read_dir(folder)
            .expect("readable folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p != file)
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                (p.is_dir() || name.ends_with(".rs")).then(|| name.trim_end_matches(".rs").to_owned())
            })
            .collect();
        let code: String = super::non_test_code(file)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            // `use` lines are read as use trees (a `pub use` re-export is no import).
            .filter(|l| !l.trim_start().starts_with("use ") && !l.trim_start().starts_with("pub use "))
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = Vec::new();
        for child in children {
            let start = format!("{child}::");
            for (at, _) in code.match_indices(&start) {
                let before = code[..at].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' || before == ':' {
                    continue;
                }
                let text: String = code[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut path = vec!["self".to_owned()];
                path.extend(text.split("::").filter(|s| !s.is_empty()).map(str::to_owned));
                out.push(Used { path, public: false });
            }
        }
        out
    }

    fn find_use(text: &str) -> Option<usize> {
        let mut from = 0;
        while let Some(i) = text[from..].find("use ") {
            let at = from + i;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let prefix = text[line_start..at].trim();
            if prefix.is_empty() || prefix == "pub" || prefix.starts_with("pub(") {
                return Some(at);
            }
            from = at + 4;
        }
        None
    }

    /// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
    fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut dyn FnMut(Vec<String>)) {
        if let Some(open) = tree.find('{') {
            let head: Vec<String> = tree[..open]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let depth0 = prefix.len();
            prefix.extend(head);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], prefix, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            expand(&inner[start..], prefix, out);
            prefix.truncate(depth0);
            return;
        }
        let tree = tree.split(" as ").next().unwrap_or(tree);
        let tree = tree
            .split("as")
            .next()
            .filter(|_| tree.contains("::") || !tree.is_empty())
            .unwrap_or(tree);
        let mut path = prefix.clone();
        path.extend(
            tree.split("::")
                .filter(|s| !s.is_empty() && *s != "*")
                .map(str::to_owned),
        );
        if path.last().is_some_and(|s| s == "self") {
            path.pop();
        }
        if !path.is_empty() {
            out(path);
        }
    }

    /// The files that import each other in a circle, one group per circle (the strongly
    /// connected components of more than one file), empty when there is none.
    pub fn circles(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<String> {
        let reach = |from: &PathBuf| {
            let mut seen = BTreeSet::new();
            let mut todo = vec![from.clone()];
            while let Some(node) = todo.pop() {
                for next in graph.get(&node).into_iter().flatten() {
                    if seen.insert(next.clone()) {
                        todo.push(next.clone());
                    }
                }
            }
            seen
        };
        let reachable: BTreeMap<&PathBuf, BTreeSet<PathBuf>> = graph.keys().map(|k| (k, reach(k))).collect();
        let mut grouped = BTreeSet::new();
        let mut found = Vec::new();
        for (node, from_node) in &reachable {
            if grouped.contains(*node) || !from_node.contains(*node) {
                continue;
            }
            let group: Vec<&PathBuf> = from_node
                .iter()
                .filter(|other| reachable.get(other).is_some_and(|r| r.contains(*node)))
                .collect();
            grouped.extend(group.iter().map(|p| (*p).clone()));
            found.push(
                group
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" <-> "),
            );
        }
        found
    }
}

fn file_circles(crate_src: &str, dir: &str) -> Vec<String> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = file_graph::Crate {
        root: base.join(crate_src),
    };
    let graph = krate.graph(&base.join(dir));
    assert!(graph.len() > 10, "{dir} was read: {} files", graph.len());
    file_graph::circles(&graph)
        .into_iter()
        .map(|c| c.replace(&format!("{}/", base.display()), ""))
        .collect()
}

#[test]
fn no_file_of_the_domain_imports_one_that_imports_it_back() {
    let circles = file_circles("src", "src/domain");
    assert!(
        circles.is_empty(),
        "import circles between files of src/domain: {circles:#?}"
    );
}

#[test]
fn no_file_of_the_emulator_imports_one_that_imports_it_back() {
    let circles = file_circles("crates/eks-emulator/src", "crates/eks-emulator/src");
    assert!(
        circles.is_empty(),
        "import circles between files of the emulator: {circles:#?}"
    );
}

#[test]
fn architecture_md_names_every_source_file() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(base.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let unnamed: Vec<String> = sources(&["src"])
        .iter()
        .map(|f| {
            f.strip_prefix(base.join("src"))
                .expect("under src")
                .display()
                .to_string()
        })
        .filter(|rel| !doc.contains(&format!("`{rel}`")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "files of src/ that ARCHITECTURE.md's \"Every file\" does not name: {unnamed:#?}"
    );
}
