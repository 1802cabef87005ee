//! Loading files: reading (from disk or memory), decoding, parsing, following imports,
//! and finding import cycles.

use super::diagnostics as diag;
use crate::syntax::diagnostics as pdiag;
use crate::syntax::{self, ast, decode};
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use svcc_model::Diagnostic;
use svcc_model::source::{FileId, SourceMap, Span};

/// Where source files come from: the disk, or memory (tests, fuzzing, editors).
pub trait FileSystem {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    fn is_file(&self, path: &Path) -> bool;
    /// The names of the entries of a folder (for "did you mean" on a missing import); empty
    /// when unknown.
    fn list_dir(&self, path: &Path) -> Vec<String> {
        let _ = path;
        Vec::new()
    }
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiskFs;

impl FileSystem for DiskFs {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
    fn list_dir(&self, path: &Path) -> Vec<String> {
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Files held in memory, by normalised path.
#[derive(Debug, Default, Clone)]
pub struct MemoryFs {
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryFs {
    pub fn new() -> MemoryFs {
        MemoryFs::default()
    }

    pub fn add(&mut self, path: impl AsRef<Path>, text: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path.as_ref()), text.into());
    }
}

impl FileSystem for MemoryFs {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }
    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(&normalize(path))
    }
    fn list_dir(&self, path: &Path) -> Vec<String> {
        let dir = normalize(path);
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&dir).ok()?.components().next())
            .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Removes `.` and folds `..` lexically (so one file has one key however it is reached).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let popped =
                    matches!(out.components().next_back(), Some(Component::Normal(_))) && out.pop();
                if !popped {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// One import edge, resolved to a file.
#[derive(Debug, Clone)]
pub struct ImportEdge {
    pub from: FileId,
    /// Index of the import in the importing file.
    pub index: usize,
    pub to: FileId,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    /// Parsed trees by file id; `None` where the file failed to read or parse.
    pub trees: Vec<Option<std::sync::Arc<ast::File>>>,
    pub edges: Vec<ImportEdge>,
    /// The files named on the command line (or found in named directories).
    pub roots: Vec<FileId>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files with an import that could not be found: names they cannot resolve are not
    /// reported again (the missing file may have declared them).
    pub broken_imports: std::collections::HashSet<FileId>,
}

impl Loaded {
    pub fn tree(&self, id: FileId) -> Option<&ast::File> {
        self.trees.get(id.0 as usize).and_then(Option::as_deref)
    }
}

/// Parsed files kept between compilations (`svcc watch`): a file whose bytes and position in
/// the compilation are unchanged is not parsed again.
#[derive(Debug, Default)]
pub struct ParseCache {
    entries: HashMap<PathBuf, CacheEntry>,
    /// Files parsed and files reused by the last compilation.
    pub parsed: usize,
    pub reused: usize,
    /// The files whose text is new or changed since the last compilation.
    pub changed: Vec<PathBuf>,
}

#[derive(Debug)]
struct CacheEntry {
    hash: u64,
    id: FileId,
    tree: Option<std::sync::Arc<ast::File>>,
    diagnostics: Vec<Diagnostic>,
    /// The text the tree was parsed from: an edit re-parses only the declarations it touched.
    text: std::sync::Arc<str>,
}

fn hash_text(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Reads `inputs` and everything they import, transitively.
pub fn load(fs: &dyn FileSystem, inputs: &[PathBuf], include: &[PathBuf]) -> Loaded {
    load_cached(fs, inputs, include, &mut None)
}

/// Like [`load`], reusing and refreshing `cache`.
pub fn load_cached(
    fs: &dyn FileSystem,
    inputs: &[PathBuf],
    include: &[PathBuf],
    cache: &mut Option<&mut ParseCache>,
) -> Loaded {
    if let Some(c) = cache.as_deref_mut() {
        c.parsed = 0;
        c.reused = 0;
        c.changed.clear();
    }
    let mut l = Loaded::default();
    let mut by_key: HashMap<PathBuf, FileId> = HashMap::new();
    let mut queue: Vec<FileId> = Vec::new();
    for input in inputs {
        let key = normalize(input);
        if let Some(id) = by_key.get(&key) {
            if !l.roots.contains(id) {
                l.roots.push(*id);
            }
            continue;
        }
        let id = read_one(fs, &mut l, input.clone(), None, cache);
        by_key.insert(key, id);
        l.roots.push(id);
        queue.push(id);
    }
    while let Some(id) = queue.pop() {
        let Some(tree) = l.tree(id) else { continue };
        let dir = l
            .sources
            .get(id)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let imports: Vec<(usize, String, Span)> = tree
            .imports
            .iter()
            .enumerate()
            .map(|(i, imp)| (i, imp.path.value.clone(), imp.path.span))
            .collect();
        for (index, rel, span) in imports {
            let mut candidates = vec![dir.join(&rel)];
            candidates.extend(include.iter().map(|root| root.join(&rel)));
            let found = candidates.iter().find(|c| fs.is_file(c)).cloned();
            let Some(path) = found else {
                let tried: Vec<String> = candidates
                    .iter()
                    .map(|c| format!("`{}`", normalize(c).display()))
                    .collect();
                let near = near_path(fs, &dir, &rel);
                l.diagnostics
                    .push(diag::import_not_found(span, &rel, &tried, near));
                l.broken_imports.insert(id);
                continue;
            };
            let key = normalize(&path);
            let to = match by_key.get(&key) {
                Some(to) => *to,
                None => {
                    let to = read_one(fs, &mut l, key.clone(), Some(span), cache);
                    by_key.insert(key, to);
                    queue.push(to);
                    to
                }
            };
            l.edges.push(ImportEdge {
                from: id,
                index,
                to,
                span,
            });
        }
    }
    find_cycles(&mut l);
    l
}

fn read_one(
    fs: &dyn FileSystem,
    l: &mut Loaded,
    path: PathBuf,
    from: Option<Span>,
    cache: &mut Option<&mut ParseCache>,
) -> FileId {
    let path = normalize(&path);
    let bytes = match fs.read(&path) {
        Ok(b) => b,
        Err(e) => {
            let id = l.sources.add(path.clone(), String::new());
            l.trees.push(None);
            let shown = path.display().to_string();
            match from {
                Some(span) => l
                    .diagnostics
                    .push(diag::import_io(span, &shown, &e.to_string())),
                None => l.diagnostics.push(diag::unreadable_input(
                    Span::new(id, 0, 0),
                    &shown,
                    &e.to_string(),
                )),
            }
            return id;
        }
    };
    let (text, utf8_error) = decode(bytes);
    let id = l.sources.add(path, text);
    if let Some(offset) = utf8_error {
        let text = &l.sources.get(id).text;
        let len = text[offset..].chars().next().map_or(0, char::len_utf8);
        l.diagnostics
            .push(pdiag::invalid_utf8(Span::new(id, offset, offset + len)));
        l.trees.push(None);
        return id;
    }
    let text = &l.sources.get(id).text;
    let path = l.sources.get(id).path.clone();
    if let Some(c) = cache.as_deref_mut() {
        let hash = hash_text(text);
        if let Some(e) = c.entries.get(&path)
            && e.hash == hash
            && e.id == id
        {
            l.diagnostics.extend(e.diagnostics.iter().cloned());
            l.trees.push(e.tree.clone());
            c.reused += 1;
            return id;
        }
        // Trees hold file ids, so a file renumbered by another file coming or going is parsed
        // again; its text did not change, so it does not count as changed.
        let same_text = c.entries.get(&path).is_some_and(|e| e.hash == hash);
        let reparsed = c.entries.get(&path).and_then(|e| {
            let old = e.tree.as_ref()?;
            syntax::reparse(id, text, &e.text, old)
        });
        let (tree, diags) = match reparsed {
            Some(tree) => (Some(tree), Vec::new()),
            None => syntax::parse_file(id, text),
        };
        let tree = tree.map(std::sync::Arc::new);
        c.entries.insert(
            path,
            CacheEntry {
                hash,
                id,
                tree: tree.clone(),
                diagnostics: diags.clone(),
                text: std::sync::Arc::from(text.as_str()),
            },
        );
        c.parsed += 1;
        if !same_text {
            c.changed.push(l.sources.get(id).path.clone());
        }
        l.diagnostics.extend(diags);
        l.trees.push(tree);
        return id;
    }
    let (tree, diags) = syntax::parse_file(id, text);
    l.diagnostics.extend(diags);
    l.trees.push(tree.map(std::sync::Arc::new));
    id
}

/// Reports every import cycle once, naming the whole cycle.
fn find_cycles(l: &mut Loaded) {
    let n = l.sources.len();
    let mut adj: Vec<Vec<&ImportEdge>> = vec![Vec::new(); n];
    for e in &l.edges {
        adj[e.from.0 as usize].push(e);
    }
    // Iterative DFS with colours; a back edge closes a cycle.
    let mut colour = vec![0u8; n];
    let mut reported: Vec<Vec<FileId>> = Vec::new();
    let mut out = Vec::new();
    for start in 0..n {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        let mut path_edges: Vec<&ImportEdge> = Vec::new();
        colour[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(edge) = adj[node].get(*next).copied() {
                *next += 1;
                let to = edge.to.0 as usize;
                match colour[to] {
                    0 => {
                        colour[to] = 1;
                        path_edges.push(edge);
                        stack.push((to, 0));
                    }
                    1 => {
                        // Cycle: the edges on the path from `to` to `node`, plus this edge.
                        let first = path_edges
                            .iter()
                            .position(|e| e.from.0 as usize == to)
                            .unwrap_or(path_edges.len());
                        let mut cycle_edges: Vec<&ImportEdge> = path_edges[first..].to_vec();
                        cycle_edges.push(edge);
                        let mut files: Vec<FileId> = cycle_edges.iter().map(|e| e.from).collect();
                        files.sort();
                        if !reported.contains(&files) {
                            reported.push(files);
                            let mut names: Vec<String> = cycle_edges
                                .iter()
                                .map(|e| file_name(&l.sources, e.from))
                                .collect();
                            names.push(file_name(&l.sources, edge.to));
                            let others = cycle_edges[..cycle_edges.len() - 1]
                                .iter()
                                .map(|e| {
                                    (
                                        e.span,
                                        format!(
                                            "`{}` is imported here",
                                            file_name(&l.sources, e.to)
                                        ),
                                    )
                                })
                                .collect();
                            out.push(diag::import_cycle(edge.span, &names, others));
                        }
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
                path_edges.pop();
            }
        }
    }
    l.diagnostics.extend(out);
}

fn file_name(sources: &SourceMap, id: FileId) -> String {
    sources.get(id).path.display().to_string()
}

/// A path like `rel` (from `dir`) that exists, with each missing folder or file name replaced
/// by the closest name beside it: `../comon/ids.svc` → `../common/ids.svc`.
fn near_path(fs: &dyn FileSystem, dir: &Path, rel: &str) -> Option<String> {
    let mut at = dir.to_path_buf();
    let mut parts: Vec<String> = Vec::new();
    let mut changed = false;
    for part in rel.split('/') {
        let name = if part.is_empty() || part == "." || part == ".." {
            part.to_string()
        } else {
            let names = fs.list_dir(&at);
            if names.iter().any(|n| n == part) {
                part.to_string()
            } else {
                changed = true;
                svcc_model::diagnostic::suggest(part, names.iter().map(String::as_str))?
            }
        };
        at = normalize(&at.join(&name));
        parts.push(name);
    }
    (changed && fs.is_file(&at)).then(|| parts.join("/"))
}
