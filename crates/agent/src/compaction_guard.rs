//! The safeguard quality guard (`compaction.mode: "safeguard"`, after OpenClaw's): a summary
//! passes only when it has the required section headings in order, keeps the opaque
//! identifiers of what it summarises (under `identifierPolicy: "strict"`), and reflects the
//! latest user request. A failing summary is asked for again with the problems named; when no
//! attempt passes, the compaction fails and the history stays as it was.
//!
//! Identifiers are found with one regex per kind (hex ids, URLs, absolute paths, `host:port`,
//! long numbers); the latest ask counts as reflected when enough of its words appear.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

/// The headings a safeguard summary must have, in this order.
pub const REQUIRED_SECTIONS: [&str; 5] = [
    "## Decisions",
    "## Open TODOs",
    "## Constraints/Rules",
    "## Pending user asks",
    "## Exact identifiers",
];

/// At most this many identifiers are required (the first ones found).
const MAX_IDENTIFIERS: usize = 12;
/// At most this many words of the latest ask are looked for.
const MAX_ASK_WORDS: usize = 12;

static IDENTIFIER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"https?://[^\s<>()\[\]]+",
        r"|(?:^|[\s(\[])(/[\w.-]{2,}(?:/[\w.-]+)+)",
        r"|[A-Za-z]:\\[\w\\.-]+",
        r"|\b[A-Za-z0-9._-]+\.[A-Za-z0-9._-]+:\d{1,5}\b",
        r"|\b[0-9A-Fa-f]{8,}\b",
        r"|\b\d{6,}\b",
    ))
    .ok()
});

const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "that", "this", "from", "into", "what", "when", "which", "please",
    "can", "could", "would", "should", "you", "your", "are", "was", "were", "have", "has", "had",
    "not", "but", "all", "any", "its", "our", "out", "now", "then", "than", "there", "here",
    "also", "just", "about", "them", "they", "will", "make", "let", "get", "use",
];

/// What a summary of some messages must keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Identifiers to find verbatim (empty unless the identifier policy is strict).
    pub identifiers: Vec<String>,
    /// The latest user request among the summarised messages.
    pub latest_ask: Option<String>,
}

impl Expectations {
    /// From the summarised text (previous summary and rendered messages, oldest first) and
    /// the latest user request in it.
    pub fn new(text: &str, latest_ask: Option<&str>, strict_identifiers: bool) -> Self {
        Expectations {
            identifiers: if strict_identifiers {
                identifiers(text)
            } else {
                Vec::new()
            },
            latest_ask: latest_ask
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string),
        }
    }
}

/// Opaque identifiers in `text`, first ones first, de-duplicated.
pub fn identifiers(text: &str) -> Vec<String> {
    let Some(re) = IDENTIFIER.as_ref() else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        let raw = caps
            .get(1)
            .or_else(|| caps.get(0))
            .map_or("", |m| m.as_str());
        let value = raw.trim_end_matches(['.', ',', ';', ':', '!', '?', '"', '\'', '`', ')']);
        if value.len() >= 4 && seen.insert(value.to_string()) {
            out.push(value.to_string());
            if out.len() == MAX_IDENTIFIERS {
                break;
            }
        }
    }
    out
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// Why `summary` fails; empty when it passes.
pub fn audit(summary: &str, expect: &Expectations) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = summary.lines().map(str::trim).collect();
    let mut cursor = 0usize;
    for heading in REQUIRED_SECTIONS {
        match lines[cursor..].iter().position(|l| *l == heading) {
            Some(i) => cursor += i + 1,
            None => {
                let anywhere = lines.contains(&heading);
                problems.push(if anywhere {
                    format!("section \"{heading}\" is out of order")
                } else {
                    format!("section \"{heading}\" is missing")
                });
            }
        }
    }
    let missing: Vec<&str> = expect
        .identifiers
        .iter()
        .filter(|id| !summary.contains(id.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(3).copied().collect();
        problems.push(format!(
            "identifiers not kept exactly: {}",
            shown.join(", ")
        ));
    }
    if let Some(ask) = &expect.latest_ask {
        let mut wanted: Vec<String> = Vec::new();
        for w in words(ask) {
            if !wanted.contains(&w) && wanted.len() < MAX_ASK_WORDS {
                wanted.push(w);
            }
        }
        let present: HashSet<String> = words(summary).into_iter().collect();
        let hits = wanted.iter().filter(|w| present.contains(*w)).count();
        let needed = if wanted.len() >= 3 { 2 } else { 1 };
        if !wanted.is_empty() && hits < needed {
            problems.push("the latest user request is not reflected".to_string());
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "## Decisions\nUse port 8443.\n## Open TODOs\nNone.\n## Constraints/Rules\n\
                        None.\n## Pending user asks\n\"deploy the billing service\"\n\
                        ## Exact identifiers\n/srv/app/config.yaml, 9f8e7d6c5b4a\n";

    #[test]
    fn finds_opaque_identifiers() {
        let found = identifiers(
            "read /srv/app/config.yaml then GET https://example.com/x?y=1, commit \
             9f8e7d6c5b4a, host db.internal:5432, ticket 1234567, word abc",
        );
        assert_eq!(
            found,
            [
                "/srv/app/config.yaml",
                "https://example.com/x?y=1",
                "9f8e7d6c5b4a",
                "db.internal:5432",
                "1234567"
            ]
        );
    }

    #[test]
    fn a_complete_summary_passes() {
        let expect = Expectations::new(
            "edit /srv/app/config.yaml at 9f8e7d6c5b4a",
            Some("please deploy the billing service"),
            true,
        );
        assert!(
            audit(GOOD, &expect).is_empty(),
            "{:?}",
            audit(GOOD, &expect)
        );
    }

    #[test]
    fn names_every_problem() {
        let expect = Expectations::new(
            "edit /etc/other/file.conf",
            Some("rotate the staging certificates tonight"),
            true,
        );
        let summary = "## Open TODOs\nx\n## Decisions\ny\n## Pending user asks\nz\n";
        let problems = audit(summary, &expect);
        assert!(problems.contains(&"section \"## Open TODOs\" is out of order".to_string()));
        assert!(problems.contains(&"section \"## Constraints/Rules\" is missing".to_string()));
        assert!(
            problems.contains(&"identifiers not kept exactly: /etc/other/file.conf".to_string())
        );
        assert!(problems.contains(&"the latest user request is not reflected".to_string()));
    }

    #[test]
    fn identifiers_are_required_only_when_strict() {
        let lax = Expectations::new("edit /etc/other/file.conf", None, false);
        assert!(lax.identifiers.is_empty());
        assert!(audit(GOOD, &lax).is_empty());
    }
}
