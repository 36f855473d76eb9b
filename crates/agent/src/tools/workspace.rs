//! The folder the built-in tools work in. Every path a model passes is resolved against it and
//! must stay inside: `..` that climbs above the root is refused, absolute paths must lie under
//! it, and the nearest existing ancestor is canonicalised so a symlink cannot lead out.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// Create (if needed) and canonicalise `root`.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.as_ref())?;
        Ok(Workspace {
            root: std::fs::canonicalize(root.as_ref())?,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolve a model-supplied path to a path inside the workspace (which may not exist yet).
    pub fn resolve(&self, requested: &str) -> Result<PathBuf, String> {
        let requested = requested.trim();
        let joined = if requested.is_empty() || requested == "." {
            self.root.clone()
        } else {
            self.root.join(requested)
        };
        let mut normal = PathBuf::new();
        for component in joined.components() {
            match component {
                Component::ParentDir => {
                    if !normal.pop() || !normal.starts_with(&self.root) {
                        return Err(format!("path {requested} escapes the workspace"));
                    }
                }
                Component::CurDir => {}
                other => normal.push(other.as_os_str()),
            }
        }
        if !normal.starts_with(&self.root) {
            return Err(format!("path {requested} is outside the workspace"));
        }
        // Canonicalise the nearest existing ancestor: a symlink on the way must stay inside.
        let mut existing = normal.as_path();
        let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
        loop {
            if std::fs::symlink_metadata(existing).is_ok() {
                break;
            }
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name);
                    existing = parent;
                }
                _ => return Err(format!("path {requested} cannot be resolved")),
            }
        }
        let canonical =
            std::fs::canonicalize(existing).map_err(|e| format!("path {requested}: {e}"))?;
        if !canonical.starts_with(&self.root) {
            return Err(format!(
                "path {requested} leaves the workspace through a symlink"
            ));
        }
        let mut out = canonical;
        for name in rest.into_iter().rev() {
            out.push(name);
        }
        Ok(out)
    }

    /// The path as shown to the model: relative to the root.
    pub fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .map(|p| {
                let s = p.display().to_string();
                if s.is_empty() { ".".to_string() } else { s }
            })
            .unwrap_or_else(|_| path.display().to_string())
    }
}
