//! The docs a clone carries: every relative link in the repository's Markdown resolves (to a
//! file, a folder, or a heading of the linked page), so nothing points outside the clone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../frontend/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

/// Tracked Markdown files (node_modules, build output and hidden folders skipped).
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                    walk(&p, out);
                }
            } else if name.ends_with(".md") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}

/// `](target)` links of a Markdown text, outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_relative_link_in_the_docs_resolves_in_a_clone() {
    let root = common::root();
    let files = markdown_files(&root);
    assert!(
        files.len() >= 8,
        "found only {} Markdown files",
        files.len()
    );
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            let rel = file.strip_prefix(&root).unwrap().display().to_string();
            let Ok(target) = target.canonicalize() else {
                broken.push(format!("{rel}: `{link}` does not exist"));
                continue;
            };
            if !target.starts_with(&root) {
                broken.push(format!("{rel}: `{link}` points outside the repository"));
                continue;
            }
            if !fragment.is_empty() && target.extension().is_some_and(|e| e == "md") {
                let page = std::fs::read_to_string(&target).unwrap();
                let found = page
                    .lines()
                    .filter_map(|l| l.strip_prefix('#'))
                    .any(|h| anchor(h.trim_start_matches('#')) == fragment);
                if !found {
                    broken.push(format!("{rel}: `{link}`: no such heading"));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "checked only {checked} links");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_checker_sees_broken_links() {
    let text = "see [a](missing.md) and [b](https://example.com) and\n```\n[c](in-code.md)\n```\n";
    assert_eq!(links(text), ["missing.md", "https://example.com"]);
    assert_eq!(
        anchor(" 7. Decisions and extensions of svcc"),
        "7-decisions-and-extensions-of-svcc"
    );
}
