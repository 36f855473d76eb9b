//! Typed, path-tracking reads of untrusted JSON. Every codec decodes bodies written by someone
//! else; when a field has the wrong type we want an error that names the exact JSON path
//! (`$.messages[2].content`) so a bad upstream or client can be diagnosed from one log line.
//! Missing and `null` optional fields are treated alike, as the dialects' servers do.
//! The path is kept as links to the parent (`Path`) and written out as text only for an
//! error: formatting it for every field read was most of the codecs' decoding time.

use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::{Frame, WireError};

pub(crate) type Result<T> = std::result::Result<T, WireError>;

/// Where a value sits in the body: the root, or a step down from a parent.
#[derive(Clone)]
enum Path<'a> {
    Root,
    Child(Rc<(Path<'a>, Step<'a>)>),
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    fn child(&self, step: Step<'a>) -> Path<'a> {
        Path::Child(Rc::new((self.clone(), step)))
    }

    fn write(&self, out: &mut String) {
        match self {
            Path::Root => out.push('$'),
            Path::Child(link) => {
                let (parent, step) = &**link;
                parent.write(out);
                let _ = match step {
                    Step::Key(key) => write!(out, ".{key}"),
                    Step::Index(index) => write!(out, "[{index}]"),
                };
            }
        }
    }
}

/// A JSON value together with where it sits in the body and which dialect is reading it.
#[derive(Clone)]
pub(crate) struct At<'a> {
    pub value: &'a Value,
    path: Path<'a>,
    dialect: &'static str,
}

impl<'a> At<'a> {
    pub fn root(value: &'a Value, dialect: &'static str) -> Self {
        At {
            value,
            path: Path::Root,
            dialect,
        }
    }

    pub fn malformed(&self, message: impl Into<String>) -> WireError {
        let mut path = String::new();
        self.path.write(&mut path);
        WireError::Malformed {
            dialect: self.dialect,
            path,
            message: message.into(),
        }
    }

    /// The child at `key`, or `None` when it is missing or `null`.
    pub fn get(&self, key: &str) -> Option<At<'a>> {
        match self.value.as_object()?.get_key_value(key) {
            None | Some((_, Value::Null)) => None,
            Some((key, value)) => Some(At {
                value,
                path: self.path.child(Step::Key(key)),
                dialect: self.dialect,
            }),
        }
    }

    /// The child at `key`, which must be present.
    pub fn req(&self, key: &str) -> Result<At<'a>> {
        self.get(key)
            .ok_or_else(|| self.malformed(format!("missing field `{key}`")))
    }

    /// The elements of this array.
    pub fn items(&self) -> Result<Vec<At<'a>>> {
        let Value::Array(items) = self.value else {
            return Err(self.malformed("expected an array"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(index, value)| At {
                value,
                path: self.path.child(Step::Index(index)),
                dialect: self.dialect,
            })
            .collect())
    }

    /// The elements of the array at `key`; a missing key is an empty array.
    pub fn items_at(&self, key: &str) -> Result<Vec<At<'a>>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(child) => child.items(),
        }
    }

    pub fn as_str(&self) -> Result<&'a str> {
        self.value
            .as_str()
            .ok_or_else(|| self.malformed("expected a string"))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        self.get(key).map(|child| child.as_str()).transpose()
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str> {
        self.req(key)?.as_str()
    }

    pub fn as_u64(&self) -> Result<u64> {
        self.value
            .as_u64()
            .or_else(|| {
                // Some servers send counts as floats (`12.0`).
                self.value
                    .as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                    .map(|f| f as u64)
            })
            .ok_or_else(|| self.malformed("expected a non-negative integer"))
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        self.get(key).map(|child| child.as_u64()).transpose()
    }

    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>> {
        match self.get(key) {
            None => Ok(None),
            Some(child) => {
                let n = child.as_u64()?;
                u32::try_from(n)
                    .map(Some)
                    .map_err(|_| child.malformed("integer out of range"))
            }
        }
    }

    /// A positive integer; zero and negative values (servers' "off", e.g. vLLM's `top_k: -1`)
    /// read as unset.
    pub fn opt_positive_u32(&self, key: &str) -> Result<Option<u32>> {
        Ok(self
            .opt_i64(key)?
            .filter(|n| *n > 0)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    pub fn opt_i64(&self, key: &str) -> Result<Option<i64>> {
        self.get(key)
            .map(|child| {
                child
                    .value
                    .as_i64()
                    .ok_or_else(|| child.malformed("expected an integer"))
            })
            .transpose()
    }

    pub fn opt_f32(&self, key: &str) -> Result<Option<f32>> {
        self.get(key)
            .map(|child| {
                child
                    .value
                    .as_f64()
                    .map(|f| f as f32)
                    .ok_or_else(|| child.malformed("expected a number"))
            })
            .transpose()
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        self.get(key)
            .map(|child| {
                child
                    .value
                    .as_bool()
                    .ok_or_else(|| child.malformed("expected a boolean"))
            })
            .transpose()
    }

    /// The `type` discriminator of an object, if any.
    pub fn kind(&self) -> Option<&'a str> {
        self.value.get("type").and_then(Value::as_str)
    }
}

/// Parses one frame's data as JSON, reporting the dialect on failure.
pub(crate) fn parse_frame_json(data: &str, dialect: &'static str) -> Result<Value> {
    serde_json::from_str(data).map_err(|err| WireError::Malformed {
        dialect,
        path: "$".to_owned(),
        message: format!("invalid JSON in stream frame: {err}"),
    })
}

/// One frame of a dialect whose events name their type (Anthropic, Responses): its JSON and
/// its kind, the JSON `type` first and the `event:` line as the fallback. `None` for
/// keep-alive frames and `[DONE]`.
pub(crate) fn typed_frame(frame: &Frame, dialect: &'static str) -> Result<Option<(Value, String)>> {
    let data = frame.data.trim();
    if data.is_empty() || data == "[DONE]" {
        return Ok(None);
    }
    let value = parse_frame_json(data, dialect)?;
    let kind = match At::root(&value, dialect).kind() {
        Some(kind) => kind.to_owned(),
        None => frame.event.clone().unwrap_or_default(),
    };
    Ok(Some((value, kind)))
}

/// Inserts `value` under `key` only when it is `Some`.
/// `{}` in a written struct (an empty object the wire format requires).
#[derive(serde::Serialize)]
pub(crate) struct EmptyObject {}

pub(crate) fn put_opt<T: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value.into());
    }
}

/// f32 → JSON number without inventing digits (`0.7f32` is sent as `0.7`, not
/// `0.699999988079071`): the shortest decimal that round-trips the f32 is parsed as f64.
pub(crate) fn f32_value(value: f32) -> Value {
    let shortest: f64 = value.to_string().parse().unwrap_or(f64::from(value));
    serde_json::Number::from_f64(shortest)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Tool-call arguments as the JSON object a dialect wants (Anthropic `input`, Ollama
/// `arguments`). Empty text is `{}`. Text that is not a JSON object cannot be expressed as an
/// object; `None` lets the caller decide (drop to `{}` or send the raw string).
pub(crate) fn arguments_object(arguments: &str) -> Option<Value> {
    if arguments.trim().is_empty() {
        return Some(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => Some(value),
        _ => None,
    }
}

/// An image as a `data:` URL (OpenAI dialects carry base64 images this way).
pub(crate) fn data_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

/// Splits a `data:<media>;base64,<data>` URL; anything else is a plain URL.
pub(crate) fn image_from_url(url: &str) -> crate::ImageSource {
    if let Some(rest) = url.strip_prefix("data:")
        && let Some((meta, data)) = rest.split_once(',')
        && let Some(media_type) = meta.strip_suffix(";base64")
    {
        return crate::ImageSource::Base64 {
            media_type: media_type.to_owned(),
            data: data.to_owned(),
        };
    }
    crate::ImageSource::Url {
        url: url.to_owned(),
    }
}

/// The URL form of an image source.
pub(crate) fn image_to_url(source: &crate::ImageSource) -> String {
    match source {
        crate::ImageSource::Base64 { media_type, data } => data_url(media_type, data),
        crate::ImageSource::Url { url } => url.clone(),
    }
}

/// Joins system prompt pieces the way every codec folds them: blank line between pieces.
pub(crate) fn fold_system(system: &mut Option<String>, piece: &str) {
    match system {
        Some(existing) => {
            existing.push_str("\n\n");
            existing.push_str(piece);
        }
        None => *system = Some(piece.to_owned()),
    }
}
