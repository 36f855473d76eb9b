//! Tool parameter schemas rewritten for servers that reject parts of JSON Schema, as OpenClaw
//! does (`compat.toolSchemaProfile`, `compat.unsupportedToolSchemaKeywords`). Applied to the
//! canonical request, so every dialect sends the same cleaned schema.
//!
//! Only schema keywords are touched: the names inside `properties` (and the other maps of
//! sub-schemas) are parameter names, so a parameter called `pattern` stays.
//!
//! | profile | removes |
//! |---|---|
//! | `llamacpp` | `pattern`; `maxLength` of 2000 or more (llama.cpp's grammar compiler rejects repetitions that large) |
//! | `gemini` | Gemini's unsupported keywords (`$ref`, `$defs`, `additionalProperties`, `format`, bounds, `not`, …); `const: x` becomes `enum: [x]` (`$ref`s are dropped, not inlined) |
//! | `xai` | `minLength`, `maxLength`, `minItems`, `maxItems`, `minContains`, `maxContains` |

use serde_json::{Map, Value};

use crate::spec::{CompatFlags, ToolSchemaProfile};

/// llama.cpp rejects grammar repetitions whose expanded rule count reaches this.
pub const LLAMACPP_MAX_LENGTH_LIMIT: u64 = 2000;

const GEMINI_UNSUPPORTED: &[&str] = &[
    "patternProperties",
    "additionalProperties",
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "definitions",
    "examples",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "multipleOf",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "not",
];

const XAI_UNSUPPORTED: &[&str] = &[
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minContains",
    "maxContains",
];

/// Keywords whose value maps names to sub-schemas.
const SCHEMA_MAPS: &[&str] = &[
    "properties",
    "$defs",
    "definitions",
    "patternProperties",
    "dependentSchemas",
];

/// Keywords whose value is a sub-schema or a list of them.
const SCHEMA_CHILDREN: &[&str] = &[
    "additionalItems",
    "additionalProperties",
    "allOf",
    "anyOf",
    "contains",
    "else",
    "if",
    "items",
    "not",
    "oneOf",
    "prefixItems",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
];

/// What to take out of a schema.
#[derive(Debug, Clone, Default)]
pub struct SchemaRewrite {
    drop: Vec<String>,
    llamacpp: bool,
    const_to_enum: bool,
}

impl SchemaRewrite {
    /// The rewrite a model's compat flags ask for; `None` when there is nothing to do.
    pub fn from_compat(compat: &CompatFlags) -> Option<Self> {
        let mut rewrite = Self::default();
        match compat.tool_schema_profile {
            Some(ToolSchemaProfile::LlamaCpp) => rewrite.llamacpp = true,
            Some(ToolSchemaProfile::Gemini) => {
                rewrite
                    .drop
                    .extend(GEMINI_UNSUPPORTED.iter().map(|k| k.to_string()));
                rewrite.const_to_enum = true;
            }
            Some(ToolSchemaProfile::Xai) => {
                rewrite
                    .drop
                    .extend(XAI_UNSUPPORTED.iter().map(|k| k.to_string()));
            }
            None => {}
        }
        let listed = compat.unsupported_tool_schema_keywords.iter().flatten();
        rewrite.drop.extend(
            listed
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty()),
        );
        (rewrite.llamacpp || rewrite.const_to_enum || !rewrite.drop.is_empty()).then_some(rewrite)
    }

    fn drops(&self, key: &str, value: &Value) -> bool {
        if self.drop.iter().any(|d| d == key) {
            return true;
        }
        self.llamacpp
            && (key == "pattern"
                || (key == "maxLength"
                    && value
                        .as_u64()
                        .is_some_and(|n| n >= LLAMACPP_MAX_LENGTH_LIMIT)))
    }

    /// Rewrites one schema in place.
    pub fn apply(&self, schema: &mut Value) {
        match schema {
            Value::Array(items) => items.iter_mut().for_each(|item| self.apply(item)),
            Value::Object(map) => self.apply_object(map),
            _ => {}
        }
    }

    fn apply_object(&self, map: &mut Map<String, Value>) {
        map.retain(|key, value| !self.drops(key, value));
        if self.const_to_enum
            && !map.contains_key("enum")
            && let Some(value) = map.remove("const")
        {
            map.insert("enum".into(), Value::Array(vec![value]));
        }
        for (key, value) in map.iter_mut() {
            if SCHEMA_MAPS.contains(&key.as_str()) {
                if let Value::Object(named) = value {
                    named.values_mut().for_each(|sub| self.apply(sub));
                }
            } else if SCHEMA_CHILDREN.contains(&key.as_str()) {
                self.apply(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rewrite(compat: CompatFlags, mut schema: Value) -> Value {
        if let Some(r) = SchemaRewrite::from_compat(&compat) {
            r.apply(&mut schema);
        }
        schema
    }

    #[test]
    fn llamacpp_drops_patterns_and_large_max_lengths_only() {
        let compat = CompatFlags {
            tool_schema_profile: Some(ToolSchemaProfile::LlamaCpp),
            ..CompatFlags::default()
        };
        let out = rewrite(
            compat,
            json!({"type": "object", "properties": {
                "pattern": {"type": "string", "pattern": "^a", "maxLength": 200},
                "script": {"type": "string", "minLength": 1, "maxLength": 65536},
                "nested": {"anyOf": [{"type": "string", "pattern": "x", "maxLength": 4096}]}
            }}),
        );
        assert_eq!(
            out,
            json!({"type": "object", "properties": {
                "pattern": {"type": "string", "maxLength": 200},
                "script": {"type": "string", "minLength": 1},
                "nested": {"anyOf": [{"type": "string"}]}
            }})
        );
    }

    #[test]
    fn listed_keywords_are_removed_at_every_depth() {
        let compat = CompatFlags {
            unsupported_tool_schema_keywords: Some(vec![" format ".into(), "minimum".into()]),
            ..CompatFlags::default()
        };
        let out = rewrite(
            compat,
            json!({"type": "object", "properties": {
                "when": {"type": "string", "format": "date-time"},
                "list": {"type": "array", "items": {"type": "integer", "minimum": 0}}
            }}),
        );
        assert_eq!(
            out,
            json!({"type": "object", "properties": {
                "when": {"type": "string"},
                "list": {"type": "array", "items": {"type": "integer"}}
            }})
        );
    }

    #[test]
    fn gemini_and_xai_profiles() {
        let gemini = CompatFlags {
            tool_schema_profile: Some(ToolSchemaProfile::Gemini),
            ..CompatFlags::default()
        };
        let out = rewrite(
            gemini,
            json!({"type": "object", "additionalProperties": false, "properties": {
                "mode": {"const": "fast"}, "n": {"type": "integer", "maximum": 3}
            }}),
        );
        assert_eq!(
            out,
            json!({"type": "object", "properties": {
                "mode": {"enum": ["fast"]}, "n": {"type": "integer"}
            }})
        );
        let xai = CompatFlags {
            tool_schema_profile: Some(ToolSchemaProfile::Xai),
            ..CompatFlags::default()
        };
        let out = rewrite(
            xai,
            json!({"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 9, "enum": ["a"]}}),
        );
        assert_eq!(
            out,
            json!({"type": "array", "items": {"type": "string", "enum": ["a"]}})
        );
        assert!(SchemaRewrite::from_compat(&CompatFlags::default()).is_none());
    }
}
