//! The shape of the code, checked: the domain's modules form the layers `src/domain/mod.rs`
//! states (no module imports one below it, so there is no import circle), no source file holds
//! more than 600 lines of non-test code, and no function is longer than 80 lines.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FUNCTION_LINES: usize = 80;

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
    match text.find("\n#[cfg(test)]\nmod ") {
        Some(at) => text[..at].to_owned(),
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
fn no_file_holds_more_than_600_lines_of_code() {
    let too_long: Vec<String> = sources(&["src", "crates/eks-emulator/src", "crates/local-stack/src"])
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
fn no_function_is_longer_than_80_lines() {
    let mut too_long = Vec::new();
    for file in sources(&["src", "crates/eks-emulator/src", "crates/local-stack/src"]) {
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
