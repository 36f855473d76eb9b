//! OpenClaw's model allowlist: which models a request, `/model` or a session override may
//! pick. Where it comes from, as OpenClaw 2026.9's source decides it:
//!
//! 1. an agent's own `agents.list[].modelPolicy.allow` (when the agent's `modelPolicy` has
//!    `allow`), else
//! 2. `agents.defaults.modelPolicy.allow`, else
//! 3. the keys of `agents.defaults.models` — the older rule, still applied to configs that
//!    OpenClaw has not migrated (no `meta.migrations.modelPolicyAllowlist` marker and no
//!    `agents.defaults.modelPolicy` object), else
//! 4. nothing: any model.
//!
//! An empty list allows any model. Entries are exact refs, aliases (case-insensitive),
//! `provider/*` and `provider/prefix/*` wildcards, and OpenClaw's `openrouter:auto` /
//! `openrouter:free` selectors. The agent's configured primary and fallbacks are always allowed
//! (the chain never filters them; a config cannot lock its own default out).

use crate::diagnostic::Diagnostic;
use crate::refs::{ModelRef, parse_ref};
use crate::registry::Registry;
use crate::registry_build::bare_matches;
use crate::schema::ClawgateConfig;
use crate::source::Pos;

/// One allowlist as written, with where it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WrittenList {
    pub entries: Vec<(String, Option<Pos>)>,
    /// `agents.defaults.modelPolicy.allow`, … (for messages).
    pub path: String,
}

/// The allowlists of one config, unresolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PolicyConfig {
    pub defaults: Option<WrittenList>,
    /// Per agent id: its own list, when its `modelPolicy` has `allow`.
    pub agents: Vec<(String, WrittenList)>,
}

fn written(allow: &[String], pos: &[Pos], path: String) -> WrittenList {
    WrittenList {
        entries: allow
            .iter()
            .enumerate()
            .map(|(i, e)| (e.clone(), pos.get(i).cloned()))
            .collect(),
        path,
    }
}

impl PolicyConfig {
    pub fn from_config(config: &ClawgateConfig) -> Self {
        let d = &config.agents.defaults;
        let defaults = match &d.model_policy {
            Some(policy) => policy.allow.as_ref().map(|allow| {
                written(
                    allow,
                    &policy.allow_pos,
                    "agents.defaults.modelPolicy.allow".into(),
                )
            }),
            None if !config.model_policy_migrated && !d.models.is_empty() => Some(WrittenList {
                entries: d
                    .models
                    .iter()
                    .map(|(k, e)| (k.clone(), e.key_pos.clone()))
                    .collect(),
                path: "agents.defaults.models".into(),
            }),
            None => None,
        };
        let agents = config
            .agents
            .list
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let policy = a.model_policy.as_ref()?;
                let allow = policy.allow.as_ref()?;
                let path = format!("agents.list[{i}].modelPolicy.allow");
                Some((a.id.clone(), written(allow, &policy.allow_pos, path)))
            })
            .collect();
        Self { defaults, agents }
    }
}

/// One resolved entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Exact(ModelRef),
    /// `provider/` or `provider/prefix/`: every model whose `provider/model` key starts so.
    Prefix(String),
}

/// Resolves one entry against the registry; `None` when it names nothing.
fn resolve_entry(registry: &Registry, entry: &str) -> Option<Allowed> {
    let trimmed = entry.trim();
    if let Some(name) = trimmed.strip_prefix("openrouter:")
        && matches!(name, "auto" | "free")
    {
        return Some(Allowed::Exact(ModelRef::new("openrouter", name)));
    }
    if let Some(prefix) = trimmed.strip_suffix("/*") {
        let reference = parse_ref(&format!("{prefix}/x")).reference?;
        let rest = prefix.split_once('/').map_or("", |(_, r)| r);
        let key = if rest.is_empty() {
            format!("{}/", reference.provider)
        } else {
            format!("{}/{rest}/", reference.provider)
        };
        return Some(Allowed::Prefix(key));
    }
    if let Some((_, target)) = registry
        .aliases()
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(trimmed))
    {
        return Some(Allowed::Exact(target.clone()));
    }
    let parsed = parse_ref(trimmed);
    match parsed.reference {
        Some(r) => Some(Allowed::Exact(r)),
        None => {
            let mut hits = bare_matches(registry, &parsed.text);
            (hits.len() == 1).then(|| Allowed::Exact(hits.remove(0)))
        }
    }
}

fn allows(list: &[Allowed], reference: &ModelRef) -> bool {
    let key = reference.key();
    list.iter().any(|a| match a {
        Allowed::Exact(r) => r == reference,
        Allowed::Prefix(p) => key.starts_with(p.as_str()),
    })
}

impl Registry {
    /// The list that applies to `agent` (`None` = the defaults), `None` when any model goes.
    fn written_allowlist(&self, agent: Option<&str>) -> Option<&WrittenList> {
        let policy = &self.selection.policy;
        let list = agent
            .and_then(|id| policy.agents.iter().find(|(a, _)| a == id))
            .map(|(_, l)| l)
            .or(policy.defaults.as_ref())?;
        (!list.entries.is_empty()).then_some(list)
    }

    /// Whether `agent` (`None` = the defaults) has an allowlist at all.
    pub fn has_allowlist(&self, agent: Option<&str>) -> bool {
        self.written_allowlist(agent).is_some()
    }

    /// Whether `agent` may use `reference`: listed (or matched by a wildcard), or one of the
    /// agent's configured primary and fallbacks; always true without an allowlist.
    pub fn model_allowed(&self, agent: Option<&str>, reference: &ModelRef) -> bool {
        let Some(list) = self.written_allowlist(agent) else {
            return true;
        };
        let resolved: Vec<Allowed> = list
            .entries
            .iter()
            .filter_map(|(e, _)| resolve_entry(self, e))
            .collect();
        if allows(&resolved, reference) {
            return true;
        }
        let sel = self.selection(agent);
        std::iter::once(&sel.primary)
            .chain(&sel.fallbacks)
            .filter_map(|text| self.resolve(text).ok())
            .any(|r| r.reference == *reference)
    }

    /// The models `agent` may pick, for listing (`/model`): its primary and fallbacks, then
    /// every registry row the allowlist admits (a wildcard admits the rows registered for
    /// it). `None` when there is no allowlist.
    pub fn allowed_models(&self, agent: Option<&str>) -> Option<Vec<String>> {
        let list = self.written_allowlist(agent)?;
        let sel = self.selection(agent);
        let mut out: Vec<String> = std::iter::once(&sel.primary)
            .chain(&sel.fallbacks)
            .filter_map(|text| self.resolve(text).ok())
            .map(|r| r.reference.key())
            .collect();
        let resolved: Vec<Allowed> = list
            .entries
            .iter()
            .filter_map(|(e, _)| resolve_entry(self, e))
            .collect();
        for a in &resolved {
            if let Allowed::Exact(r) = a {
                out.push(r.key());
            }
        }
        for row in self.models() {
            if allows(&resolved, &row.model_ref()) {
                out.push(row.reference.clone());
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|k| seen.insert(k.clone()));
        Some(out)
    }
}

/// Warns about allowlist entries that name nothing (a typo would silently lock models out).
pub(crate) fn check_policy(registry: &Registry, diags: &mut Vec<Diagnostic>) {
    let policy = &registry.selection.policy;
    let lists = policy
        .defaults
        .iter()
        .chain(policy.agents.iter().map(|(_, l)| l));
    for list in lists {
        for (i, (entry, pos)) in list.entries.iter().enumerate() {
            if entry.trim().is_empty() {
                continue; // reported by the schema
            }
            let unknown = match resolve_entry(registry, entry) {
                None => true,
                Some(Allowed::Exact(r)) => registry.provider(&r.provider).is_none(),
                Some(Allowed::Prefix(p)) => {
                    let provider = p.split('/').next().unwrap_or_default();
                    registry.provider(provider).is_none()
                }
            };
            if !unknown {
                continue;
            }
            let path = if list.path.ends_with("allow") {
                format!("{}[{i}]", list.path)
            } else {
                list.path.clone()
            };
            let mut d = Diagnostic::warning(format!(
                "model allowlist entry \"{entry}\" names no alias, known provider or \
                 provider/* wildcard; it allows nothing"
            ));
            d = match pos {
                Some(pos) => d.at(path, pos.location()),
                None => d.at_path(path),
            };
            diags.push(d);
        }
    }
}
