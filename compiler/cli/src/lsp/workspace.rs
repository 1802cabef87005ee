//! The workspace as the server sees it: the `.svc` files under the root, the open documents'
//! unsaved text over them, and the latest compilation (plus the last one whose files all
//! parsed, which keeps navigation working while a file is mid-edit).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use svcc_frontend::resolve::load::FileSystem;
use svcc_frontend::source::{FileId, Span};
use svcc_frontend::{Compilation, Incremental, Options};

/// Open documents over the disk.
#[derive(Debug, Default)]
pub struct Overlay {
    pub open: HashMap<PathBuf, String>,
}

impl FileSystem for Overlay {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.open.get(path) {
            Some(t) => Ok(t.clone().into_bytes()),
            None => std::fs::read(path),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        self.open.contains_key(path) || path.is_file()
    }

    fn list_dir(&self, path: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        for p in self.open.keys() {
            if p.parent() == Some(path)
                && let Some(n) = p.file_name()
            {
                names.push(n.to_string_lossy().into_owned());
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// One compilation and the lookups the features need.
#[derive(Debug)]
pub struct Analysis {
    pub comp: Compilation,
    by_path: HashMap<PathBuf, FileId>,
}

impl Analysis {
    fn new(comp: Compilation) -> Analysis {
        let by_path = comp
            .sources
            .files()
            .map(|(id, f)| (f.path.clone(), id))
            .collect();
        Analysis { comp, by_path }
    }

    pub fn file(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.comp.sources.get(id).path
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.comp.sources.get(id).text
    }

    /// The package `file` declares (from its declarations; `None` for a file without any).
    pub fn package_of(&self, file: FileId) -> Option<String> {
        self.comp
            .symbols
            .iter()
            .find(|s| s.file == file)
            .map(|s| s.package.clone())
    }

    /// Whether every file parsed (no syntax error).
    fn parsed(&self) -> bool {
        !self
            .comp
            .diagnostics
            .iter()
            .any(|d| d.is_error() && d.code.starts_with("E000"))
    }

    /// The symbol declared or referenced at `offset` of `file`, and the span there.
    pub fn symbol_at(&self, file: FileId, offset: usize) -> Option<(usize, Span)> {
        let inside =
            |s: &Span| s.file == file && (s.start as usize) <= offset && offset <= s.end as usize;
        for (i, sym) in self.comp.symbols.iter().enumerate() {
            if inside(&sym.span) {
                return Some((i, sym.span));
            }
        }
        for (i, refs) in self.comp.references.iter().enumerate() {
            if let Some(s) = refs.iter().find(|s| inside(s)) {
                return Some((i, *s));
            }
        }
        None
    }
}

/// The server's state.
#[derive(Debug)]
pub struct Workspace {
    pub root: Option<PathBuf>,
    pub overlay: Overlay,
    /// Open documents' versions.
    pub versions: HashMap<PathBuf, i32>,
    inc: Incremental,
    /// The latest compilation when a file has a syntax error (else `None`).
    broken: Option<Analysis>,
    /// The latest compilation in which every file parsed.
    last_good: Option<Analysis>,
    /// Files that were given diagnostics last time (to clear them when they are clean).
    pub published: BTreeMap<PathBuf, usize>,
    pub options: Options,
}

impl Workspace {
    pub fn new(root: Option<PathBuf>) -> Workspace {
        let options = root
            .as_ref()
            .and_then(|r| svcc_frontend::config::discover(r))
            .and_then(|p| svcc_frontend::config::load(&p).ok())
            .map(|c| Options {
                include: c.include,
                lints: c.lints,
            })
            .unwrap_or_default();
        Workspace {
            root,
            overlay: Overlay::default(),
            versions: HashMap::new(),
            inc: Incremental::default(),
            broken: None,
            last_good: None,
            published: BTreeMap::new(),
            options,
        }
    }

    /// Compiles every `.svc` under the root and every open document.
    pub fn analyse(&mut self) {
        let mut inputs: Vec<PathBuf> = self
            .root
            .as_ref()
            .and_then(|r| svcc_frontend::collect_inputs(std::slice::from_ref(r)).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|p| std::path::absolute(&p).unwrap_or(p))
            .collect();
        for p in self.overlay.open.keys() {
            if !inputs.contains(p) {
                inputs.push(p.clone());
            }
        }
        inputs.sort();
        let comp = svcc_frontend::compile_incremental(
            &self.overlay,
            &inputs,
            &self.options,
            &mut self.inc,
        );
        let analysis = Analysis::new(comp);
        if analysis.parsed() {
            self.last_good = Some(analysis);
            self.broken = None;
        } else {
            self.broken = Some(analysis);
        }
    }

    /// The latest compilation (its diagnostics are the ones to publish).
    pub fn current(&self) -> Option<&Analysis> {
        self.broken.as_ref().or(self.last_good.as_ref())
    }

    /// The analysis to navigate `path` with: the latest when the file parsed, else the last
    /// good one (a user is mid-edit most of the time).
    pub fn for_file(&self, path: &Path) -> Option<(&Analysis, FileId)> {
        if let Some(a) = &self.broken {
            let broken = a.comp.diagnostics.iter().any(|d| {
                d.code.starts_with("E000") && a.file(path).is_some_and(|f| d.primary.file == f)
            });
            if !broken && let Some(f) = a.file(path) {
                return Some((a, f));
            }
        }
        let a = self.last_good.as_ref()?;
        Some((a, a.file(path)?))
    }

    /// The text of a document: open, else on disk.
    pub fn text(&self, path: &Path) -> Option<String> {
        self.overlay
            .open
            .get(path)
            .cloned()
            .or_else(|| std::fs::read_to_string(path).ok())
    }
}
