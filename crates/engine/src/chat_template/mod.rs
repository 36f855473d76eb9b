//! Chat templates written in Jinja (a GGUF's `tokenizer.chat_template`, or a config
//! `chatTemplate`): the renderer set up like Hugging Face's ([`jinja`]), the Python-style
//! `tojson` it needs ([`py_json`]), and the `messages`/`tools` it reads, built from a
//! canonical request ([`messages`]).

pub mod jinja;
pub mod messages;
pub mod py_json;

#[cfg(test)]
mod family_tests;
