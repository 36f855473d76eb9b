//! clawgate-config: loading OpenClaw-compatible JSON5 config (`$include`, `${VAR}`, `.env`),
//! the typed schema, validation diagnostics with JSON path and line/column, the effective model
//! registry (built-in catalog + implicit local providers + config, `merge`/`replace`), model
//! refs and aliases.
//!
//! Must not know about: HTTP, async.
