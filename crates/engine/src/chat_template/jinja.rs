//! A model's own chat template (Jinja, as `tokenizer.chat_template` in a GGUF or a config
//! `chatTemplate`), rendered with [minijinja] set up the way Hugging Face renders templates
//! in Python, so a real template gives the prompt the model was tuned on:
//!
//! - `trim_blocks` and `lstrip_blocks` on (transformers' environment);
//! - Python string, dict and list methods (`.strip()`, `.split()`, `.items()`, `.get()`, …)
//!   through minijinja-contrib's `pycompat` callback;
//! - `raise_exception(msg)` fails the render with the template's own message;
//! - `strftime_now(fmt)` formats the render time ([`RenderInput::now`], injected so tests
//!   are deterministic);
//! - `tojson` writes Python's `json.dumps` layout (see [`super::py_json`]).
//!
//! minijinja because it is the maintained Rust Jinja engine that HF-style servers use for
//! exactly this (its contrib crate carries the Python compatibility layer).

use minijinja::value::{Kwargs, Serde};
use minijinja::{Environment, Error, ErrorKind, State, Value};
use serde_json::{Map, Value as Json};

use super::py_json::{PyJsonStyle, dumps};

const TEMPLATE_NAME: &str = "chat_template";
/// Context key carrying the render time for `strftime_now` (not a name templates use).
const NOW_KEY: &str = "__clawgate_render_time";

/// A compiled chat template.
pub struct JinjaChatTemplate {
    env: Environment<'static>,
    source: String,
}

impl std::fmt::Debug for JinjaChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JinjaChatTemplate")
            .field("source_len", &self.source.len())
            .finish_non_exhaustive()
    }
}

/// What one render gets: the variables real templates read.
#[derive(Debug, Clone)]
pub struct RenderInput {
    /// OpenAI-shaped messages (`role`, `content`, `tool_calls`, `tool_call_id`, `name`,
    /// `reasoning_content`).
    pub messages: Vec<Json>,
    /// OpenAI-shaped tools (`{"type": "function", "function": {…}}`); `None` leaves
    /// `tools` undefined, as llama.cpp and transformers do when there are none.
    pub tools: Option<Vec<Json>>,
    pub add_generation_prompt: bool,
    pub bos_token: String,
    pub eos_token: String,
    /// Qwen3-style thinking switch; llama.cpp's default is on.
    pub enable_thinking: bool,
    /// gpt-oss `reasoning_effort` (`low`/`medium`/`high`), when the request sets one.
    pub reasoning_effort: Option<String>,
    /// The render time (`strftime_now`, `date_string`).
    pub now: jiff::ZonedDateTime,
}

impl JinjaChatTemplate {
    /// Compiles the template; a syntax error comes back with its line.
    pub fn compile(source: impl Into<String>) -> Result<Self, String> {
        let source = source.into();
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| e.to_string())?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_filter("tojson", tojson);
        env.add_template_owned(TEMPLATE_NAME, source.clone())
            .map_err(|e| describe(&e))?;
        Ok(Self { env, source })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders the prompt text.
    pub fn render(&self, input: &RenderInput) -> Result<String, String> {
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| describe(&e))?;
        let mut context = Map::new();
        context.insert("messages".into(), Json::Array(input.messages.clone()));
        if let Some(tools) = &input.tools {
            context.insert("tools".into(), Json::Array(tools.clone()));
        }
        context.insert(
            "add_generation_prompt".into(),
            Json::Bool(input.add_generation_prompt),
        );
        context.insert("bos_token".into(), Json::String(input.bos_token.clone()));
        context.insert("eos_token".into(), Json::String(input.eos_token.clone()));
        context.insert("enable_thinking".into(), Json::Bool(input.enable_thinking));
        if let Some(effort) = &input.reasoning_effort {
            context.insert("reasoning_effort".into(), Json::String(effort.clone()));
        }
        // llama.cpp's extra context: Llama 3.x templates read `date_string`.
        context.insert(
            "date_string".into(),
            Json::String(input.now.strftime("%d %b %Y").to_string()),
        );
        context.insert(NOW_KEY.into(), Json::String(input.now.to_string()));
        template
            .render(Value::from(Serde(Json::Object(context))))
            .map_err(|e| describe(&e))
    }
}

/// The error with its cause chain (minijinja puts the template's line in the detail).
fn describe(err: &Error) -> String {
    let mut text = match err.kind() {
        // The template's own message, as its author wrote it.
        ErrorKind::InvalidOperation => err.detail().unwrap_or("invalid operation").to_owned(),
        _ => err.to_string(),
    };
    if let Some(line) = err.line() {
        text.push_str(&format!(" (template line {line})"));
    }
    text
}

fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

fn strftime_now(state: &State, format: String) -> Result<Value, Error> {
    let now = state
        .lookup(NOW_KEY)
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse::<jiff::ZonedDateTime>().ok())
        })
        .unwrap_or_else(jiff::ZonedDateTime::now);
    let mut out = String::new();
    std::fmt::write(&mut out, format_args!("{}", now.strftime(&format))).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("strftime_now: cannot format with {format:?}"),
        )
    })?;
    Ok(Value::from(out))
}

/// `tojson(indent=None, separators=None, sort_keys=False, ensure_ascii=…)`.
fn tojson(value: Value, indent: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let indent = match indent {
        Some(v) => Some(v),
        None => kwargs.get::<Option<Value>>("indent")?,
    };
    let indent = indent
        .filter(|v| !v.is_none() && !v.is_undefined())
        .map(|v| {
            v.as_usize().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    "tojson: indent must be a number",
                )
            })
        })
        .transpose()?;
    let mut style = indent.map_or_else(PyJsonStyle::default, PyJsonStyle::indented);
    if let Some(separators) = kwargs.get::<Option<Value>>("separators")?
        && !separators.is_none()
    {
        let pair: Vec<String> = separators
            .try_iter()?
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .unwrap_or_default();
        let [item, key] = <[String; 2]>::try_from(pair).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "tojson: separators must be two strings",
            )
        })?;
        style.item_separator = item;
        style.key_separator = key;
    }
    if let Some(sort_keys) = kwargs.get::<Option<bool>>("sort_keys")? {
        style.sort_keys = sort_keys;
    }
    // `ensure_ascii` is accepted; output is always `ensure_ascii=False` (HF's setting).
    let _: Option<Value> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let json = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))?;
    Ok(Value::from(dumps(&json, &style)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(messages: Vec<Json>) -> RenderInput {
        RenderInput {
            messages,
            tools: None,
            add_generation_prompt: true,
            bos_token: "<s>".into(),
            eos_token: "</s>".into(),
            enable_thinking: true,
            reasoning_effort: None,
            now: "2026-03-01T10:00:00+00:00[UTC]"
                .parse()
                .unwrap_or_else(|_| jiff::ZonedDateTime::now()),
        }
    }

    fn render(source: &str, messages: Vec<Json>) -> Result<String, String> {
        JinjaChatTemplate::compile(source)?.render(&input(messages))
    }

    #[test]
    fn trim_and_lstrip_blocks_like_transformers() {
        let source = "{% for m in messages %}\n    {% if m.role == 'user' %}\nU:{{ m.content }}\n    {% endif %}\n{% endfor %}";
        let out = render(source, vec![json!({"role": "user", "content": "hi"})]);
        assert_eq!(out.as_deref(), Ok("U:hi\n"));
    }

    #[test]
    fn python_methods_work() {
        let source = "{{ messages[0].content.strip().upper() }}|{{ messages[0].get('missing', 'd') }}|{% for k, v in messages[0].items() %}{{ k }}{% endfor %}";
        let out = render(source, vec![json!({"role": "user", "content": "  hi  "})]);
        assert_eq!(out.as_deref(), Ok("HI|d|rolecontent"));
    }

    #[test]
    fn raise_exception_carries_the_templates_message() {
        let source = "{{ raise_exception('Conversation roles must alternate') }}";
        let err = render(source, vec![]).unwrap_err();
        assert!(
            err.starts_with("Conversation roles must alternate"),
            "{err}"
        );
    }

    #[test]
    fn strftime_now_uses_the_injected_time() {
        let out = render("{{ strftime_now('%d %b %Y') }}/{{ date_string }}", vec![]);
        assert_eq!(out.as_deref(), Ok("01 Mar 2026/01 Mar 2026"));
    }

    #[test]
    fn tojson_is_pythons() {
        let source = "{{ messages[0] | tojson }}|{{ messages[0] | tojson(indent=2) }}|{{ {'b': 1, 'a': '<x>'} | tojson(sort_keys=true, separators=(',', ':')) }}";
        let out = render(source, vec![json!({"role": "user", "content": "é"})]).unwrap();
        assert_eq!(
            out,
            "{\"role\": \"user\", \"content\": \"é\"}|{\n  \"role\": \"user\",\n  \"content\": \"é\"\n}|{\"a\":\"<x>\",\"b\":1}"
        );
    }

    #[test]
    fn tools_are_undefined_when_absent_and_loop_controls_work() {
        let source = "{% if tools is defined %}T{% endif %}{% for i in [1,2,3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}";
        assert_eq!(render(source, vec![]).as_deref(), Ok("1"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = JinjaChatTemplate::compile("line one\n{% if %}").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }
}
