//! Editing the config file for the CLI's writing commands, keeping the user's comments and
//! formatting (jsonc-parser's CST).
//!
//! Every edit is a `set` or `remove` at a JSON path of the root file (never of an included
//! file: a key set in the root wins over included values, so that is enough). Each edit is
//! applied twice, to the CST and to a plain JSON copy; `save` checks that the edited text
//! parses back to exactly the JSON copy. When it does not, the CST could not express the
//! edit faithfully, so the original is backed up to `<file>.bak` and the JSON copy is written
//! instead (comments lost, and the caller says so).

use std::path::{Path, PathBuf};

use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use serde_json::Value;

use crate::error::ConfigError;
use crate::source::json5_options;

/// What `save` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Edited in place; comments and formatting kept.
    Edited,
    /// The file did not exist and was created.
    Created,
    /// Rewritten as plain JSON after backing the original up.
    Rewritten { backup: PathBuf },
    /// Nothing changed.
    Unchanged,
}

/// One config file open for editing.
pub struct ConfigDocument {
    path: PathBuf,
    original: Option<String>,
    root: CstRootNode,
    value: Value,
}

impl std::fmt::Debug for ConfigDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigDocument")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ConfigDocument {
    /// Opens `path`; a missing file is an empty document (created on save).
    pub fn open(path: &Path) -> Result<Self, ConfigError> {
        let original = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let text = original.clone().unwrap_or_else(|| "{}\n".to_string());
        let edit_err = |message: String| ConfigError::Edit {
            path: path.to_path_buf(),
            message,
        };
        let root =
            CstRootNode::parse(&text, &json5_options()).map_err(|e| edit_err(e.to_string()))?;
        let value = root
            .to_serde_value()
            .unwrap_or_else(|| Value::Object(Default::default()));
        if !value.is_object() {
            return Err(edit_err("the file's top level is not an object".into()));
        }
        Ok(Self {
            path: path.to_path_buf(),
            original,
            root,
            value,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.original.is_some()
    }

    /// The value at `path` in this file (not including `$include`d content).
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.value, |v, k| v.get(*k))
    }

    /// Sets `path` to `value`, creating intermediate objects.
    pub fn set(&mut self, path: &[&str], value: Value) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut obj = self.root.object_value_or_set();
        for key in parents {
            obj = obj.object_value_or_set(key);
        }
        match obj.get(last) {
            Some(prop) => prop.set_value(to_input(&value)),
            None => {
                obj.append(last, to_input(&value));
            }
        }
        let mut target = &mut self.value;
        for key in parents {
            make_object(target);
            let Some(map) = target.as_object_mut() else {
                return;
            };
            target = map
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Default::default()));
        }
        make_object(target);
        if let Some(map) = target.as_object_mut() {
            map.insert(last.to_string(), value);
        }
    }

    /// Removes `path` when present.
    pub fn remove(&mut self, path: &[&str]) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        let Some(start) = self.root.object_value() else {
            return false;
        };
        let Some(obj) = parents
            .iter()
            .try_fold(start, |o: CstObject, k| o.object_value(k))
        else {
            return false;
        };
        let Some(prop) = obj.get(last) else {
            return false;
        };
        prop.remove();
        let parent = parents
            .iter()
            .try_fold(&mut self.value, |v, k| v.get_mut(*k));
        if let Some(Value::Object(map)) = parent {
            map.shift_remove(*last);
        }
        true
    }

    /// The edited text.
    pub fn text(&self) -> String {
        self.root.to_string()
    }

    /// Writes the file atomically (temp file + rename), falling back to a backed-up plain
    /// JSON rewrite when the CST edit did not round-trip.
    pub fn save(&self) -> Result<SaveOutcome, ConfigError> {
        let text = self.text();
        if self.original.as_deref() == Some(text.as_str()) {
            return Ok(SaveOutcome::Unchanged);
        }
        let round_trips = parse_plain(&text).is_some_and(|v| v == self.value);
        let io = |source| ConfigError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        if round_trips {
            write_atomic(&self.path, &text).map_err(io)?;
            return Ok(if self.original.is_some() {
                SaveOutcome::Edited
            } else {
                SaveOutcome::Created
            });
        }
        let mut backup = None;
        if let Some(original) = &self.original {
            let bak = PathBuf::from(format!("{}.bak", self.path.display()));
            write_atomic(&bak, original).map_err(io)?;
            backup = Some(bak);
        }
        let pretty = serde_json::to_string_pretty(&self.value).map_err(|e| ConfigError::Edit {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&self.path, &format!("{pretty}\n")).map_err(io)?;
        Ok(match backup {
            Some(backup) => SaveOutcome::Rewritten { backup },
            None => SaveOutcome::Created,
        })
    }

    /// Puts the original text back (after a save whose result failed validation).
    pub fn restore(&self) -> Result<(), ConfigError> {
        let io = |source| ConfigError::Io {
            path: self.path.clone(),
            source,
        };
        match &self.original {
            Some(text) => write_atomic(&self.path, text).map_err(io),
            None => match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
                _ => Ok(()),
            },
        }
    }
}

/// Mirrors `object_value_or_set`: a non-object in the way is replaced by an object.
fn make_object(v: &mut Value) {
    if !v.is_object() {
        *v = Value::Object(Default::default());
    }
}

/// Parses JSON5 text to plain JSON (positions dropped).
pub fn parse_plain(text: &str) -> Option<Value> {
    let ast = jsonc_parser::parse_to_ast(text, &Default::default(), &json5_options()).ok()?;
    ast.value.map(Value::from)
}

fn to_input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(to_input).collect()),
        Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_keeps_comments_and_creates_parents() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json5");
        std::fs::write(
            &file,
            "{\n  // my models\n  models: { mode: 'merge' }, // keep\n}\n",
        )
        .unwrap();
        let mut doc = ConfigDocument::open(&file).unwrap();
        doc.set(
            &["agents", "defaults", "model", "primary"],
            json!("openai/gpt-5"),
        );
        assert_eq!(doc.save().unwrap(), SaveOutcome::Edited);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("// my models") && text.contains("// keep"),
            "{text}"
        );
        let v = parse_plain(&text).unwrap();
        assert_eq!(v["agents"]["defaults"]["model"]["primary"], "openai/gpt-5");
        assert_eq!(v["models"]["mode"], "merge");
    }

    #[test]
    fn remove_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub").join("new.json");
        let mut doc = ConfigDocument::open(&file).unwrap();
        assert!(!doc.exists());
        doc.set(&["a", "b"], json!([1, 2]));
        doc.set(&["a", "c"], json!(true));
        assert!(doc.remove(&["a", "c"]));
        assert!(!doc.remove(&["x", "y"]));
        assert_eq!(doc.save().unwrap(), SaveOutcome::Created);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(v, json!({"a": {"b": [1, 2]}}));
        doc.restore().unwrap();
        assert!(!file.exists());
    }
}
