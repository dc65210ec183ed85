//! The shape of the tree (docs/ARCHITECTURE.md): no import cycles between the modules of the
//! crate, and every document a code comment cites is in the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` → ["a", "b"]; `src/lib.rs` → [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its `mod tests`.
fn code_of(text: &str) -> String {
    let without_tests = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    without_tests
        .lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each `prefix` path in `code` (`crate::a::b::{…}` → ["a", "b"]).
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let rest = &code[i + prefix.len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        out.push(
            path.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        );
    }
    out
}

#[test]
fn modules_have_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // The binary's own modules (main.rs, cli.rs) use the library by name, not `crate::`.
    files.retain(|f| !f.ends_with("main.rs") && !f.ends_with("cli.rs"));
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|f| {
            (
                module_of(&src, f),
                code_of(&std::fs::read_to_string(f).unwrap()),
            )
        })
        .collect();
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains_key(p))
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, code) in &modules {
        let e = edges.entry(module.clone()).or_default();
        for line in code.lines() {
            let t = line.trim_start();
            let t = t.strip_prefix("pub ").unwrap_or(t);
            if let Some(name) = t.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                let mut child = module.clone();
                child.push(name.trim().to_string());
                e.insert(child);
            }
        }
        let mut targets = paths_after(code, "crate::");
        for p in paths_after(code, "super::") {
            let mut full = module[..module.len().saturating_sub(1)].to_vec();
            full.extend(p);
            targets.push(full);
        }
        for t in targets {
            if let Some(target) = resolve(&t)
                && &target != module
                && !target.is_empty()
            {
                e.insert(target);
            }
        }
    }
    // A module that reaches itself through others is in a cycle.
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Vec<String>> = edges[start].iter().collect();
        while let Some(m) = stack.pop() {
            assert!(
                m != start,
                "import cycle through {}: it reaches itself",
                start.join("::")
            );
            if seen.insert(m.clone())
                && let Some(next) = edges.get(m)
            {
                stack.extend(next.iter());
            }
        }
    }
    assert!(modules.len() > 30, "found the modules");
}

#[test]
fn every_document_a_comment_cites_is_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "sims/src", "tests", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut cited = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
            for word in line.split(|c: char| c.is_whitespace() || "(),`'\"[]".contains(c)) {
                let word = word.trim_end_matches(['.', ':', ';']);
                if word.ends_with(".md") {
                    cited.insert((word.to_string(), f.display().to_string()));
                }
            }
        }
    }
    assert!(!cited.is_empty());
    for (doc, file) in cited {
        assert!(
            root.join(&doc).is_file(),
            "{file} cites {doc}, which is not in the repository"
        );
    }
}

#[test]
fn every_source_file_the_documents_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        // Only the documents: docs/ also holds pictures (docs/engagement.png).
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path);
        }
    }
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        for word in text.split(|c: char| c.is_whitespace() || "(),`'\"[]|".contains(c)) {
            let word = word.trim_end_matches(['.', ':', ';']);
            let named = ["src/", "tests/", "sims/", "benches/"]
                .iter()
                .any(|p| word.starts_with(p))
                && word.ends_with(".rs");
            if named {
                assert!(
                    root.join(word).is_file(),
                    "{} names {word}, which does not exist",
                    doc.display()
                );
            }
        }
    }
}
