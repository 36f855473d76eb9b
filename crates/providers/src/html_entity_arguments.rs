//! `compat.toolCallArgumentsEncoding: "html-entities"`: some servers (Grok) write the strings
//! inside tool-call arguments HTML-escaped (`cd a &amp;&amp; echo &quot;x&quot;`). As OpenClaw
//! does, the arguments of each call are parsed and every string in them decoded, so a tool gets
//! what the model meant. A streamed call's argument deltas are held until the call is
//! complete (the next event that is not one of its deltas), then sent as one decoded delta;
//! arguments that are not JSON pass unchanged.
//!
//! Hand-written: the decoder knows the six entities and numeric references these servers use,
//! decoded in one pass (so `&amp;lt;` stays `&lt;`); a general HTML crate is far more than this.

use clawgate_wire::Event;
use serde_json::Value;

/// Decodes `&amp; &lt; &gt; &quot; &#39; &apos;` and `&#NN;` / `&#xHH;` in one pass.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code = if let Some(hex) =
                        name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        name.strip_prefix('#').and_then(|d| d.parse::<u32>().ok())
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_strings(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('&') => *s = decode_entities(s),
        Value::Array(items) => items.iter_mut().for_each(decode_strings),
        Value::Object(map) => map.values_mut().for_each(decode_strings),
        _ => {}
    }
}

/// Complete arguments JSON with its strings decoded (unchanged when not JSON).
pub fn decode_arguments(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(mut value) => {
            decode_strings(&mut value);
            value.to_string()
        }
        Err(_) => arguments.to_string(),
    }
}

/// Holds one streamed call's argument deltas until the call is complete.
#[derive(Debug, Default)]
pub struct ArgumentsDecoder {
    held: Option<(u32, String)>,
}

impl ArgumentsDecoder {
    /// The events `event` becomes.
    pub fn push(&mut self, event: Event) -> Vec<Event> {
        if let Event::ToolCallArgsDelta { index, delta } = &event {
            match &mut self.held {
                Some((held, text)) if held == index => {
                    text.push_str(delta);
                    return Vec::new();
                }
                _ => {
                    let out = self.flush();
                    self.held = Some((*index, delta.clone()));
                    return out;
                }
            }
        }
        let mut out = self.flush();
        out.push(event);
        out
    }

    fn flush(&mut self) -> Vec<Event> {
        match self.held.take() {
            Some((index, text)) => vec![Event::ToolCallArgsDelta {
                index,
                delta: decode_arguments(&text),
            }],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clawgate_wire::StopReason;

    use super::*;

    #[test]
    fn entities_decode_in_one_pass() {
        assert_eq!(
            decode_entities(
                "cd ~/dev &amp;&amp; echo &quot;ok&quot; &#39;a&#x27; &lt;b&gt; &amp;lt;"
            ),
            "cd ~/dev && echo \"ok\" 'a' <b> &lt;"
        );
        assert_eq!(decode_entities("R&D & co &unknown;"), "R&D & co &unknown;");
    }

    #[test]
    fn streamed_arguments_are_held_then_decoded() {
        let mut d = ArgumentsDecoder::default();
        let mut out = Vec::new();
        for e in [
            Event::ToolCallStart {
                index: 0,
                id: "c".into(),
                name: "exec".into(),
            },
            Event::ToolCallArgsDelta {
                index: 0,
                delta: "{\"command\":\"a &am".into(),
            },
            Event::ToolCallArgsDelta {
                index: 0,
                delta: "p;&amp; b\"}".into(),
            },
            Event::Finished {
                stop_reason: StopReason::ToolUse,
            },
        ] {
            out.extend(d.push(e));
        }
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(
            out[1],
            Event::ToolCallArgsDelta {
                index: 0,
                delta: "{\"command\":\"a && b\"}".into()
            }
        );
        assert!(matches!(out[2], Event::Finished { .. }));
    }
}
