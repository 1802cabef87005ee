//! Resolution: syntax trees → the [`Model`].
//!
//! Files are grouped into packages, every declaration gets a fully qualified name, every
//! reference is looked up in its file's scope (own package, plain imports, `as` aliases,
//! fully qualified names), annotations are checked against the registry and folded into
//! effective settings. What is left to check on the finished model lives in `crate::check`.

pub mod annotations;
mod diagnostics;
pub mod load;
pub mod lower;

use crate::syntax::ast::{self, QualName};
use diagnostics as diag;
use load::Loaded;
use std::collections::{BTreeMap, HashMap, HashSet};
use svcc_model::Diagnostic;
use svcc_model::diagnostic::suggest;
use svcc_model::source::{FileId, Span};
use svcc_model::{Model, Primitive, QualifiedName, TypeRef};

/// A declaration in the symbol table.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub file: FileId,
    pub index: usize,
    pub package: String,
    pub name: String,
    pub kind: &'static str,
    pub span: Span,
}

impl Symbol {
    pub fn qualified(&self) -> QualifiedName {
        QualifiedName {
            package: self.package.clone(),
            name: self.name.clone(),
        }
    }
}

/// `@allow(...)` lists, for lints: by package, and by the source range of the item that
/// carries them (a lint is silenced when its location lies inside such a range).
#[derive(Debug, Default, Clone)]
pub struct Allows {
    pub packages: HashMap<String, Vec<String>>,
    pub items: Vec<(Span, Vec<String>)>,
    /// `@breaking(rule, …, reason = "…")`: deliberate breaking changes `svcc breaking`
    /// accepts, on the package or on an item.
    pub breaks: Vec<AllowedBreak>,
}

/// One `@breaking(…)` annotation.
#[derive(Debug, Clone)]
pub struct AllowedBreak {
    /// The package, for an annotation on the package (empty on an item).
    pub package: String,
    /// The annotated item's source range; `None` on the package (it covers all of it).
    pub scope: Option<Span>,
    pub rules: Vec<String>,
    pub reason: String,
}

impl Allows {
    pub fn allowed(&self, lint: &str, package: &str, at: Span) -> bool {
        let has = |v: &Vec<String>| v.iter().any(|l| l == lint);
        self.packages.get(package).is_some_and(has)
            || self
                .items
                .iter()
                .any(|(s, v)| s.file == at.file && s.start <= at.start && at.end <= s.end && has(v))
    }
}

/// Per-file scope.
#[derive(Debug, Default)]
struct Scope {
    /// The file's own package (its names live in `Resolver::package_names`, shared by the
    /// package's files instead of copied into each).
    package: String,
    /// Simple names brought in by plain imports → (symbol index, import index).
    simple: HashMap<String, Vec<(usize, Option<usize>)>>,
    /// Alias → (file, import index).
    aliases: HashMap<String, (FileId, usize)>,
}

/// One annotation as written.
#[derive(Debug, Clone)]
pub struct AnnotationUse {
    pub name: String,
    pub span: Span,
    pub package: String,
    /// Where it stands: `package`, `record`, `service`, `method`, `field`, `parameter`, …
    pub site: &'static str,
    /// Its first positional argument when that is an identifier (`bearer` of
    /// `@security(bearer)`).
    pub first_ident: Option<String>,
}

/// What resolution produced, besides diagnostics.
#[derive(Debug, Default)]
pub struct Resolved {
    pub model: Model,
    pub symbols: Vec<Symbol>,
    pub allows: Allows,
    /// Imports (file, index) through which nothing was used.
    pub unused_imports: Vec<Span>,
    /// Where each symbol is referenced (by index into `symbols`).
    pub references: Vec<Vec<Span>>,
    /// The package each parsed file declares.
    pub file_packages: HashMap<FileId, String>,
    /// Every annotation written (for lints).
    pub annotation_uses: Vec<AnnotationUse>,
}

#[derive(Debug)]
pub struct Resolver<'a> {
    loaded: &'a Loaded,
    symbols: Vec<Symbol>,
    by_fqn: HashMap<String, usize>,
    scopes: HashMap<FileId, Scope>,
    /// Package → simple name → symbol index.
    package_names: HashMap<String, HashMap<String, usize>>,
    used_imports: HashSet<(FileId, usize)>,
    references: Vec<Vec<Span>>,
    diags: Vec<Diagnostic>,
}

/// Marker for a reference that did not resolve (an error was reported already); later stages
/// skip it rather than report a cascade.
pub fn unresolved_type() -> TypeRef {
    TypeRef::Named(QualifiedName {
        package: String::new(),
        name: "<unresolved>".to_string(),
    })
}

pub fn resolve(loaded: &Loaded) -> (Resolved, Vec<Diagnostic>) {
    let mut r = Resolver {
        loaded,
        symbols: Vec::new(),
        by_fqn: HashMap::new(),
        scopes: HashMap::new(),
        package_names: HashMap::new(),
        used_imports: HashSet::new(),
        references: Vec::new(),
        diags: Vec::new(),
    };
    let packages = r.collect_symbols();
    r.build_scopes();
    let mut allows = Allows::default();
    let mut lowered = Vec::with_capacity(packages.len());
    for (name, files) in &packages {
        lowered.push(lower::lower_package(&mut r, name, files, &mut allows));
    }
    let mut model = Model::new(lowered);
    // `@sensitive` values nested anywhere in a method's parameters and results: known only now
    // that every package's types are lowered.
    let mut sensitive = Vec::new();
    for pkg in &model.packages {
        for svc in &pkg.services {
            for m in &svc.methods {
                let results = match &m.result {
                    svcc_model::MethodResult::Named(results) => results.as_slice(),
                    _ => &[],
                };
                sensitive.push(model.sensitive_paths(m.params.iter().chain(results)));
            }
        }
    }
    let mut found = sensitive.into_iter();
    for pkg in &mut model.packages {
        for svc in &mut pkg.services {
            for m in &mut svc.methods {
                m.settings.policies.sensitive = found.next().unwrap_or_default().into();
            }
        }
    }
    let mut unused_imports = Vec::new();
    for (id, _) in loaded.sources.files() {
        if let Some(tree) = loaded.tree(id) {
            for (i, imp) in tree.imports.iter().enumerate() {
                let resolved = loaded.edges.iter().any(|e| e.from == id && e.index == i);
                if resolved && !r.used_imports.contains(&(id, i)) {
                    unused_imports.push(imp.span);
                }
            }
        }
    }
    let file_packages: HashMap<FileId, String> = loaded
        .sources
        .files()
        .filter_map(|(id, _)| Some((id, loaded.tree(id)?.package.name.text())))
        .collect();
    let mut annotation_uses: Vec<AnnotationUse> = Vec::new();
    for (file, package) in &file_packages {
        if let Some(tree) = loaded.tree(*file) {
            tree.each_annotation(|a, site| {
                annotation_uses.push(AnnotationUse {
                    name: a.name.name.clone(),
                    span: a.span,
                    package: package.clone(),
                    site,
                    first_ident: a
                        .args
                        .as_ref()
                        .and_then(|args| args.iter().find(|arg| arg.name.is_none()))
                        .and_then(|arg| match &arg.value.kind {
                            crate::syntax::ast::ValueKind::Ident(q) => Some(q.text()),
                            _ => None,
                        }),
                });
            });
        }
    }
    annotation_uses.sort_by_key(|u| (u.span.file, u.span.start));
    let resolved = Resolved {
        annotation_uses,
        file_packages,
        model,
        symbols: r.symbols,
        allows,
        unused_imports,
        references: r.references,
    };
    (resolved, r.diags)
}

impl<'a> Resolver<'a> {
    /// Groups files by package (sorted by name; files by path) and fills the symbol table.
    fn collect_symbols(&mut self) -> BTreeMap<String, Vec<FileId>> {
        let mut packages: BTreeMap<String, Vec<FileId>> = BTreeMap::new();
        let mut files: Vec<FileId> = self
            .loaded
            .sources
            .files()
            .filter(|(id, _)| self.loaded.tree(*id).is_some())
            .map(|(id, _)| id)
            .collect();
        files.sort_by(|a, b| {
            self.loaded
                .sources
                .get(*a)
                .path
                .cmp(&self.loaded.sources.get(*b).path)
        });
        for id in files {
            let Some(tree) = self.loaded.tree(id) else {
                continue;
            };
            for seg in &tree.package.name.segments {
                let ok = seg
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    self.diags.push(diag::bad_package_name(seg.span, &seg.name));
                }
            }
            let package = tree.package.name.text();
            packages.entry(package.clone()).or_default().push(id);
            for (index, d) in tree.decls.iter().enumerate() {
                if Primitive::from_name(&d.name.name).is_some()
                    || d.name.name == "list"
                    || d.name.name == "map"
                {
                    self.diags
                        .push(diag::builtin_shadowed(d.name.span, &d.name.name));
                    continue;
                }
                let fqn = format!("{package}.{}", d.name.name);
                if let Some(&first) = self.by_fqn.get(&fqn) {
                    let first_span = self.symbols[first].span;
                    self.diags.push(diag::duplicate_declaration(
                        d.name.span,
                        &d.name.name,
                        first_span,
                    ));
                    continue;
                }
                self.by_fqn.insert(fqn, self.symbols.len());
                self.symbols.push(Symbol {
                    file: id,
                    index,
                    package: package.clone(),
                    name: d.name.name.clone(),
                    kind: d.kind.describe(),
                    span: d.name.span,
                });
                self.references.push(Vec::new());
            }
        }
        packages
    }

    fn build_scopes(&mut self) {
        let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
        let mut package_names: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (i, s) in self.symbols.iter().enumerate() {
            package_names
                .entry(s.package.clone())
                .or_default()
                .insert(s.name.clone(), i);
            by_file.entry(s.file).or_default().push(i);
        }
        self.package_names = package_names;
        let mut scopes = HashMap::new();
        for (id, _) in self.loaded.sources.files() {
            let Some(tree) = self.loaded.tree(id) else {
                continue;
            };
            let mut scope = Scope {
                package: tree.package.name.text(),
                ..Scope::default()
            };
            let mut alias_spans: HashMap<String, Span> = HashMap::new();
            for e in self.loaded.edges.iter().filter(|e| e.from == id) {
                let Some(imp) = tree.imports.get(e.index) else {
                    continue;
                };
                match &imp.alias {
                    Some(alias) => {
                        if let Some(first) = alias_spans.get(&alias.name) {
                            self.diags.push(diag::duplicate_import_alias(
                                alias.span,
                                &alias.name,
                                *first,
                            ));
                            continue;
                        }
                        alias_spans.insert(alias.name.clone(), alias.span);
                        scope.aliases.insert(alias.name.clone(), (e.to, e.index));
                    }
                    None => {
                        for &i in by_file.get(&e.to).into_iter().flatten() {
                            let entry = scope
                                .simple
                                .entry(self.symbols[i].name.clone())
                                .or_default();
                            entry.push((i, Some(e.index)));
                        }
                    }
                }
            }
            scopes.insert(id, scope);
        }
        self.scopes = scopes;
    }

    /// Looks a name up from `file`; reports and returns `None` when it is not found or ambiguous.
    pub fn lookup(&mut self, file: FileId, name: &QualName, what: &str) -> Option<usize> {
        let segs: Vec<&str> = name.segments.iter().map(|s| s.name.as_str()).collect();
        let scope = self.scopes.get(&file)?;
        let found = if let [simple] = segs.as_slice() {
            let own = self
                .package_names
                .get(&scope.package)
                .and_then(|m| m.get(*simple))
                .map(|&i| (i, None));
            let imported: &[(usize, Option<usize>)] =
                scope.simple.get(*simple).map_or(&[], Vec::as_slice);
            let merged: Vec<(usize, Option<usize>)>;
            let cands: &[(usize, Option<usize>)] = match (own, imported.is_empty()) {
                (Some(o), true) => {
                    merged = vec![o];
                    &merged
                }
                (None, _) => imported,
                (Some(o), false) => {
                    merged = std::iter::once(o).chain(imported.iter().copied()).collect();
                    &merged
                }
            };
            let first = cands.first().map(|c| c.0);
            let unique = cands.iter().all(|c| Some(c.0) == first);
            match first {
                None => None,
                Some(one) if unique => {
                    let imports: Vec<usize> = cands.iter().filter_map(|c| c.1).collect();
                    for imp in imports {
                        self.used_imports.insert((file, imp));
                    }
                    Some(one)
                }
                Some(_) => {
                    let mut distinct: Vec<usize> = cands.iter().map(|c| c.0).collect();
                    distinct.sort_unstable();
                    distinct.dedup();
                    let candidates = distinct
                        .iter()
                        .map(|&i| {
                            (
                                self.symbols[i].span,
                                self.symbols[i].qualified().to_string(),
                            )
                        })
                        .collect();
                    self.diags
                        .push(diag::ambiguous(name.span, simple, candidates));
                    return None;
                }
            }
        } else if let Some((target, imp)) = scope.aliases.get(segs[0]).copied() {
            let rest = segs[1..].join(".");
            let hit = self
                .symbols
                .iter()
                .position(|s| s.file == target && s.name == rest);
            if hit.is_some() {
                self.used_imports.insert((file, imp));
            }
            hit
        } else {
            self.by_fqn.get(&name.text()).copied()
        };
        match found {
            Some(i) => {
                self.references[i].push(name.span);
                Some(i)
            }
            // A file whose import is missing says so once (E0100); the names that file would
            // have brought are not reported again.
            None if self.loaded.broken_imports.contains(&file) => None,
            None => {
                let text = name.text();
                let suggestion = self.suggest_name(file, &text);
                self.diags
                    .push(diag::unresolved(name.span, &text, what, suggestion));
                None
            }
        }
    }

    fn suggest_name(&self, file: FileId, text: &str) -> Option<String> {
        let scope = self.scopes.get(&file)?;
        let mut names: Vec<String> = scope.simple.keys().cloned().collect();
        if let Some(own) = self.package_names.get(&scope.package) {
            names.extend(own.keys().cloned());
        }
        for (alias, (target, _)) in &scope.aliases {
            for s in self.symbols.iter().filter(|s| s.file == *target) {
                names.push(format!("{alias}.{}", s.name));
            }
        }
        if text.contains('.') {
            names.extend(self.by_fqn.keys().cloned());
        } else {
            names.extend(Primitive::ALL.iter().map(|(n, _)| (*n).to_string()));
        }
        names.sort();
        suggest(text, names.iter().map(String::as_str))
    }

    /// Resolves a type expression; unresolved parts become [`unresolved_type`].
    pub fn resolve_type(&mut self, file: FileId, t: &ast::TypeExpr) -> TypeRef {
        match &t.kind {
            ast::TypeExprKind::List(inner) => {
                TypeRef::List(Box::new(self.resolve_type(file, inner)))
            }
            ast::TypeExprKind::Map(k, v) => TypeRef::Map(
                Box::new(self.resolve_type(file, k)),
                Box::new(self.resolve_type(file, v)),
            ),
            ast::TypeExprKind::Named(q) => {
                if let [one] = q.segments.as_slice()
                    && let Some(p) = Primitive::from_name(&one.name)
                {
                    return TypeRef::Primitive(p);
                }
                let Some(i) = self.lookup(file, q, "type") else {
                    return unresolved_type();
                };
                let sym = &self.symbols[i];
                match sym.kind {
                    "record" | "alias" | "enum" | "union" => TypeRef::Named(sym.qualified()),
                    kind => {
                        let d = diag::not_a_type(q.span, &q.text(), article(kind), sym.span);
                        self.diags.push(d);
                        unresolved_type()
                    }
                }
            }
        }
    }

    /// Resolves a `throws` entry to an error.
    pub fn resolve_error(&mut self, file: FileId, q: &QualName) -> Option<QualifiedName> {
        let i = self.lookup(file, q, "error")?;
        let sym = &self.symbols[i];
        if sym.kind == "error" {
            Some(sym.qualified())
        } else {
            let d = diag::not_an_error(q.span, &q.text(), article(sym.kind), sym.span);
            self.diags.push(d);
            None
        }
    }

    /// Resolves an `emits` entry to an event.
    pub fn resolve_event(&mut self, file: FileId, q: &QualName) -> Option<QualifiedName> {
        let i = self.lookup(file, q, "event")?;
        let sym = &self.symbols[i];
        if sym.kind == "event" {
            Some(sym.qualified())
        } else {
            let d = diag::not_an_event(q.span, &q.text(), article(sym.kind), sym.span);
            self.diags.push(d);
            None
        }
    }

    /// The loaded files (outlives the resolver's own borrows).
    pub fn loaded(&self) -> &'a Loaded {
        self.loaded
    }

    pub fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn report_all(&mut self, ds: Vec<Diagnostic>) {
        self.diags.extend(ds);
    }
}

fn article(kind: &str) -> &'static str {
    match kind {
        "record" => "a record",
        "alias" => "an alias",
        "enum" => "an enum",
        "union" => "a union",
        "error" => "an error",
        "service" => "a service",
        "event" => "an event",
        _ => "a declaration",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_combinations() {
        use annotations::parse_duration_ms as d;
        assert_eq!(d("250ms"), Some(250));
        assert_eq!(d("1.5s"), Some(1500));
        assert_eq!(d("1h30m"), Some(5_400_000));
        assert_eq!(d("1d"), Some(86_400_000));
        assert_eq!(d("5 seconds"), None);
        assert_eq!(d("s"), None);
        assert_eq!(d(""), None);
    }
}
