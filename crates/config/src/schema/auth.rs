//! The `auth` section. clawgate implements `auth.cooldowns` (how long failed providers and keys
//! stay out of rotation, spec §3.4) with OpenClaw's key names, plus one key of its own for the
//! transient-failure schedule, which OpenClaw hard-codes; and OpenClaw's auth-profile metadata
//! `auth.profiles` (which stored profiles a provider uses, and of which type) and `auth.order`
//! (their order). The secrets themselves live in OpenClaw's profile store
//! (`crate::auth_store`), never in the config.
//!
//! Unset keys stay `None`: the router's `CooldownSchedule::default()` is the one place that
//! holds the defaults (OpenClaw's 1 min → 5 min → 25 min → 1 h; billing 5 h doubling to 24 h;
//! revoked keys 10 min doubling to 1 h; a 24 h failure window).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, describe, string_enum};
use crate::diagnostic::JsonPath;
use crate::refs::normalize_provider_id;
use crate::source::{Node, NodeKind};

/// Longest span any cooldown key may set: a year (keeps every duration far from overflow).
const MAX_HOURS: f64 = 8_760.0;
const MAX_MINUTES: f64 = MAX_HOURS * 60.0;

/// `auth`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthConfig {
    pub cooldowns: CooldownsConfig,
    /// `auth.profiles`, in file order: profile id → metadata (no secret).
    #[serde(serialize_with = "crate::schema::pairs_as_map")]
    pub profiles: Vec<(String, AuthProfileConfig)>,
    /// `auth.order`: provider id (normalised) → profile ids, first tried first.
    pub order: BTreeMap<String, Vec<String>>,
}

string_enum! {
    /// The credential type a configured profile must have (`auth.profiles.<id>.mode`).
    pub enum ProfileMode { ApiKey = "api_key", AwsSdk = "aws-sdk", OAuth = "oauth", Token = "token" }
}

/// One `auth.profiles.<id>`: which provider it serves and which credential type it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthProfileConfig {
    /// Normalised like `models.providers` keys.
    pub provider: String,
    pub mode: ProfileMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl Decode for AuthProfileConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let provider: Option<String> = o.required("provider", cx);
        let mode: Option<ProfileMode> = o.required("mode", cx);
        let p = Self {
            provider: normalize_provider_id(&provider?),
            mode: mode?,
            email: o.field("email", cx),
            display_name: o.field("displayName", cx),
        };
        o.finish(cx);
        Some(p)
    }
}

fn profiles(
    node: &Node,
    path: &JsonPath,
    cx: &mut Decoder,
) -> Option<Vec<(String, AuthProfileConfig)>> {
    let Some(props) = node.object() else {
        cx.expected(node, path, "an object of profile id → {provider, mode}");
        return None;
    };
    let mut out = Vec::new();
    for prop in props {
        let child = path.key(&prop.key);
        if prop.key.trim().is_empty() {
            cx.error(&child, &prop.key_pos, "expected a non-empty profile id");
            continue;
        }
        if let Some(p) = AuthProfileConfig::decode(&prop.value, &child, cx) {
            out.push((prop.key.clone(), p));
        }
    }
    Some(out)
}

fn order(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<BTreeMap<String, Vec<String>>> {
    let Some(props) = node.object() else {
        cx.expected(node, path, "an object of provider id → list of profile ids");
        return None;
    };
    let mut out = BTreeMap::new();
    for prop in props {
        let ids: Option<Vec<String>> = Decode::decode(&prop.value, &path.key(&prop.key), cx);
        if let Some(ids) = ids {
            out.insert(normalize_provider_id(&prop.key), ids);
        }
    }
    Some(out)
}

impl Decode for AuthConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let a = Self {
            cooldowns: o.field("cooldowns", cx).unwrap_or_default(),
            profiles: o.field_with("profiles", cx, profiles).unwrap_or_default(),
            order: o.field_with("order", cx, order).unwrap_or_default(),
        };
        o.finish(cx);
        Some(a)
    }
}

/// `auth.cooldowns`. Numbers may be fractional (`backoffMinutes: [0.5, 1, 5]` is OpenClaw's
/// later 30 s → 1 min → 5 min schedule).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CooldownsConfig {
    /// clawgate's own key: cooldown after the 1st, 2nd, … transient failure in the window, in
    /// minutes; the last step repeats. Non-empty, positive, never decreasing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_minutes: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_backoff_hours: Option<f64>,
    /// Provider ids normalised like `models.providers` keys.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub billing_backoff_hours_by_provider: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_max_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_permanent_backoff_minutes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_permanent_max_minutes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_window_hours: Option<f64>,
}

/// A number above 0 and at most `max`.
fn positive_up_to(node: &Node, path: &JsonPath, cx: &mut Decoder, max: f64) -> Option<f64> {
    match &node.kind {
        NodeKind::Number { value, .. } if value.is_finite() && *value > 0.0 && *value <= max => {
            Some(*value)
        }
        _ => {
            cx.expected(node, path, &format!("a number above 0 and at most {max}"));
            None
        }
    }
}

fn hours(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<f64> {
    positive_up_to(node, path, cx, MAX_HOURS)
}

fn minutes(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<f64> {
    positive_up_to(node, path, cx, MAX_MINUTES)
}

/// `backoffMinutes`: a non-empty list of positive minutes that never decreases (a later
/// failure never cools down for less than an earlier one).
fn backoff_steps(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Vec<f64>> {
    let NodeKind::Array(items) = &node.kind else {
        cx.expected(node, path, "a list of minutes");
        return None;
    };
    if items.is_empty() {
        cx.error(
            path,
            &node.pos,
            "expected at least one step (minutes), found an empty array",
        );
        return None;
    }
    let mut steps = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        let Some(step) = minutes(item, &item_path, cx) else {
            ok = false;
            continue;
        };
        if let Some(previous) = steps.last().copied()
            && step < previous
        {
            let found = describe(item, &item_path);
            cx.error(
                &item_path,
                &item.pos,
                format!("expected at least {previous} (steps never decrease), found {found}"),
            );
            ok = false;
            continue;
        }
        steps.push(step);
    }
    ok.then_some(steps)
}

fn hours_by_provider(
    node: &Node,
    path: &JsonPath,
    cx: &mut Decoder,
) -> Option<BTreeMap<String, f64>> {
    let NodeKind::Object(props) = &node.kind else {
        cx.expected(node, path, "an object of provider id → hours");
        return None;
    };
    let mut out = BTreeMap::new();
    for prop in props {
        if let Some(v) = hours(&prop.value, &path.key(&prop.key), cx) {
            out.insert(normalize_provider_id(&prop.key), v);
        }
    }
    Some(out)
}

impl Decode for CooldownsConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let c = Self {
            backoff_minutes: o.field_with("backoffMinutes", cx, backoff_steps),
            billing_backoff_hours: o.field_with("billingBackoffHours", cx, hours),
            billing_backoff_hours_by_provider: o
                .field_with("billingBackoffHoursByProvider", cx, hours_by_provider)
                .unwrap_or_default(),
            billing_max_hours: o.field_with("billingMaxHours", cx, hours),
            auth_permanent_backoff_minutes: o.field_with(
                "authPermanentBackoffMinutes",
                cx,
                minutes,
            ),
            auth_permanent_max_minutes: o.field_with("authPermanentMaxMinutes", cx, minutes),
            failure_window_hours: o.field_with("failureWindowHours", cx, hours),
        };
        // Auth-profile rotation knobs: clawgate rotates API keys by its own rule.
        o.ignore(
            &[
                "overloadedProfileRotations",
                "overloadedBackoffMs",
                "rateLimitedProfileRotations",
            ],
            cx,
        );
        o.finish(cx);
        Some(c)
    }
}
