//! Tool calls on the embedded engine: the call syntax of each model family ([`format`]),
//! spotting a call in streamed output ([`scanner`]), reading it back into structured calls
//! ([`parse`]), and the grammar that forces a call when the request demands one
//! ([`grammar`]).

pub mod format;
pub mod grammar;
pub mod parse;
pub mod scanner;
