//! Imports instead of absolute paths: the package writer spells every runtime and std path in
//! full (`::svcc_runtime::Validate`, `::core::option::Option`), which is always correct and
//! never clashes with a contract's names. This pass then `use`s each item once at the top of
//! its module and writes the short name — unless the module declares an item of that name (a
//! contract may call its types `Option`, `Error` or `Context`), or another import took the
//! name first; then the path stays absolute.
//!
//! Only paths (types, expressions, patterns, macros) are rewritten; string literals such as
//! `#[serde(default = "…")]` keep their absolute paths.

use std::collections::{BTreeMap, HashSet};
use syn::visit_mut::VisitMut;

/// The std and core items worth importing; other std paths (traits in `impl` headers, `fmt`)
/// stay absolute, where they read as what they are.
const STD_ITEMS: &[&str] = &[
    "::core::option::Option",
    "::core::result::Result",
    "::std::string::String",
    "::std::vec::Vec",
    "::std::boxed::Box",
    "::std::collections::BTreeMap",
];

/// Rewrites `file` and every inline module in it.
pub(super) fn shorten(file: &mut syn::File) {
    shorten_items(&mut file.items);
}

fn shorten_items(items: &mut Vec<syn::Item>) {
    // Nested modules first: each gets its own imports.
    for item in items.iter_mut() {
        if let syn::Item::Mod(m) = item
            && let Some((_, inner)) = &mut m.content
        {
            shorten_items(inner);
        }
    }
    let declared: HashSet<String> = items.iter().filter_map(item_name).collect();
    let mut pass = Pass {
        declared,
        imports: BTreeMap::new(),
        removed: 0,
    };
    for item in items.iter_mut() {
        if !matches!(item, syn::Item::Mod(_)) {
            pass.visit_item_mut(item);
        }
    }
    // One `use` per root (`::std`, `::svcc_runtime`, a sibling package), its items sorted.
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in pass.imports.into_values() {
        let (root, rest) = split_root(&path);
        groups.entry(root).or_default().push(rest);
    }
    let at = items
        .iter()
        .take_while(|i| matches!(i, syn::Item::Use(_)))
        .count();
    for (i, (root, mut rest)) in groups.into_iter().enumerate() {
        rest.sort();
        let text = if rest.len() == 1 {
            format!("use {root}::{};", rest[0])
        } else {
            format!("use {root}::{{{}}};", rest.join(", "))
        };
        if let Ok(u) = syn::parse_str::<syn::ItemUse>(&text) {
            items.insert(at + i, syn::Item::Use(u));
        }
    }
}

/// `::std::vec::Vec` → (`::std`, `vec::Vec`); `super::super::common::v1::Id` →
/// (`super::super::common::v1`, `Id`).
fn split_root(path: &str) -> (String, String) {
    if path.starts_with("super::") {
        let (root, last) = path.rsplit_once("::").unwrap_or(("", path));
        return (root.to_string(), last.to_string());
    }
    let body = path.trim_start_matches("::");
    let (root, rest) = body.split_once("::").unwrap_or((body, ""));
    (format!("::{root}"), rest.to_string())
}

/// The name an item declares in its module (types, values, modules, imports).
fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Const(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Mod(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Use(u) => return use_name(&u.tree),
        _ => return None,
    };
    Some(ident.to_string().trim_start_matches("r#").to_string())
}

fn use_name(tree: &syn::UseTree) -> Option<String> {
    match tree {
        syn::UseTree::Path(p) => use_name(&p.tree),
        syn::UseTree::Name(n) => Some(n.ident.to_string()),
        syn::UseTree::Rename(r) => Some(r.rename.to_string()),
        _ => None,
    }
}

struct Pass {
    /// Names the module declares itself.
    declared: HashSet<String>,
    /// Short name → the absolute path imported under it.
    imports: BTreeMap<String, String>,
    /// Segments the last rewritten path lost (to fix `<T as Trait>::x`'s position).
    removed: usize,
}

impl Pass {
    /// A declaration of another package (`super::super::common::v1::UserId`): imported up to
    /// its type.
    fn other_package_len(segments: &[String]) -> Option<usize> {
        let ups = segments.iter().take_while(|s| *s == "super").count();
        if ups < 2 || segments.len() < ups + 2 {
            return None;
        }
        segments
            .iter()
            .enumerate()
            .skip(ups)
            .find(|(_, s)| {
                s.trim_start_matches("r#")
                    .starts_with(|c: char| c.is_ascii_uppercase())
            })
            .map(|(i, _)| i + 1)
    }

    /// How many leading segments of an absolute path to import, or `None` to leave it.
    fn import_len(segments: &[String]) -> Option<usize> {
        match segments.first().map(String::as_str) {
            Some("svcc_runtime") => {
                let start = if segments.get(1).is_some_and(|s| s == "__private") {
                    2
                } else {
                    1
                };
                // Up to the first type-like segment (`Validate`, `wire::Timestamp`), else the
                // module right after the facade (`serde_json`, `client`).
                let upper = segments
                    .iter()
                    .enumerate()
                    .skip(start)
                    .find(|(_, s)| s.starts_with(|c: char| c.is_ascii_uppercase()))
                    .map(|(i, _)| i + 1);
                upper.or(Some(start + 1)).filter(|&n| n <= segments.len())
            }
            Some("core" | "std") => STD_ITEMS
                .iter()
                .find(|item| {
                    let parts: Vec<&str> = item.trim_start_matches("::").split("::").collect();
                    segments.len() >= parts.len() && parts.iter().zip(segments).all(|(a, b)| a == b)
                })
                .map(|item| item.trim_start_matches("::").split("::").count()),
            _ => None,
        }
    }
}

/// `<T as ::a::Trait>::item`: the trait's segments are counted by `qself.position`, so a
/// shortened trait path moves it.
macro_rules! keep_qself_position {
    ($name:ident, $ty:ty, $walk:path) => {
        fn $name(&mut self, node: &mut $ty) {
            $walk(self, node);
            if let Some(q) = &mut node.qself {
                q.position = q.position.saturating_sub(self.removed);
            }
            self.removed = 0;
        }
    };
}

impl VisitMut for Pass {
    keep_qself_position!(
        visit_expr_path_mut,
        syn::ExprPath,
        syn::visit_mut::visit_expr_path_mut
    );
    keep_qself_position!(
        visit_type_path_mut,
        syn::TypePath,
        syn::visit_mut::visit_type_path_mut
    );
    keep_qself_position!(
        visit_expr_struct_mut,
        syn::ExprStruct,
        syn::visit_mut::visit_expr_struct_mut
    );
    keep_qself_position!(
        visit_pat_struct_mut,
        syn::PatStruct,
        syn::visit_mut::visit_pat_struct_mut
    );
    keep_qself_position!(
        visit_pat_tuple_struct_mut,
        syn::PatTupleStruct,
        syn::visit_mut::visit_pat_tuple_struct_mut
    );

    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        // Generic arguments first (`Option<::std::string::String>`).
        syn::visit_mut::visit_path_mut(self, path);
        self.removed = 0;
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(n) = (if path.leading_colon.is_some() {
            Self::import_len(&segments)
        } else {
            Self::other_package_len(&segments)
        }) else {
            return;
        };
        // The imported segments must carry no generic arguments.
        if path
            .segments
            .iter()
            .take(n - 1)
            .any(|s| !s.arguments.is_none())
        {
            return;
        }
        let short = segments[n - 1].trim_start_matches("r#").to_string();
        let full = format!(
            "{}{}",
            if path.leading_colon.is_some() {
                "::"
            } else {
                ""
            },
            segments[..n].join("::")
        );
        if self.declared.contains(&short) {
            return;
        }
        match self.imports.get(&short) {
            Some(existing) if *existing != full => return,
            Some(_) => {}
            None => {
                self.imports.insert(short, full);
            }
        }
        let segments = std::mem::take(&mut path.segments);
        path.segments = segments.into_iter().skip(n - 1).collect();
        path.leading_colon = None;
        self.removed = n - 1;
    }
}
