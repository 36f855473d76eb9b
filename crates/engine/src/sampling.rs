//! The llama.cpp sampler chain for one request: the request's settings over the model's
//! defaults ([`SamplingDefaults`]), in llama.cpp's own order (grammar, repeat penalty,
//! top-k, top-p, min-p, temperature, then a seeded draw; temperature 0 decodes greedily),
//! and, for a forced tool call, the grammar that makes the output one valid call.

use clawgate_wire::{Request, ToolSpec};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use crate::prompt_plan::ToolPlan;
use crate::tool_calls::format::ToolCallFormat;
use crate::tool_calls::grammar::{ToolArgsGrammar, forced_call_grammar};
use crate::{DEFAULT_TEMPERATURE, EngineError, SamplingDefaults};

/// Tokens the repeat penalty looks back over (llama.cpp's default).
const PENALTY_LAST_N: usize = 64;

pub(crate) fn sampler_for(
    model: &LlamaModel,
    request: &Request,
    defaults: &SamplingDefaults,
    plan: &ToolPlan,
    prompt: &[LlamaToken],
) -> Result<LlamaSampler, EngineError> {
    let mut chain = Vec::new();
    if let ToolPlan::Forced { format, allowed } = plan {
        chain.push(call_grammar(model, *format, allowed)?);
    }
    if let Some(penalty) = defaults.repeat_penalty.filter(|p| *p > 0.0 && *p != 1.0) {
        let mut penalties = LlamaSampler::penalties(
            model.n_vocab(),
            i32::try_from(PENALTY_LAST_N).unwrap_or(64),
            penalty,
            0.0,
            0.0,
        );
        // The penalty counts the end of the prompt too, as llama-server does.
        penalties.accept_many(&prompt[prompt.len().saturating_sub(PENALTY_LAST_N)..]);
        chain.push(penalties);
    }
    let temperature = request
        .temperature
        .or(defaults.temperature)
        .unwrap_or(DEFAULT_TEMPERATURE);
    if temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
        return Ok(LlamaSampler::chain_simple(chain));
    }
    if let Some(k) = defaults.top_k.filter(|k| *k > 0) {
        chain.push(LlamaSampler::top_k(i32::try_from(k).unwrap_or(i32::MAX)));
    }
    if let Some(top_p) = request
        .top_p
        .or(defaults.top_p)
        .filter(|p| *p > 0.0 && *p < 1.0)
    {
        chain.push(LlamaSampler::top_p(top_p, 1));
    }
    if let Some(min_p) = defaults.min_p.filter(|p| *p > 0.0) {
        chain.push(LlamaSampler::min_p(min_p, 1));
    }
    chain.push(LlamaSampler::temp(temperature));
    // A request's seed wins; `u32::MAX` is llama.cpp's "pick a random seed".
    let seed = request
        .seed
        .map(|seed| seed as u32)
        .or(defaults.seed)
        .unwrap_or(u32::MAX);
    chain.push(LlamaSampler::dist(seed));
    Ok(LlamaSampler::chain_simple(chain))
}

/// The grammar of one call to one of `allowed`, each tool's arguments converted from its
/// JSON schema by llama.cpp.
fn call_grammar(
    model: &LlamaModel,
    format: ToolCallFormat,
    allowed: &[ToolSpec],
) -> Result<LlamaSampler, EngineError> {
    let tools = allowed
        .iter()
        .map(|tool| {
            let gbnf =
                llama_cpp_2::json_schema_to_grammar(&tool.parameters.to_string()).map_err(|e| {
                    EngineError::Unsupported(format!(
                        "cannot force a call to tool `{}`: llama.cpp cannot turn its \
                         parameter schema into a grammar ({e})",
                        tool.name
                    ))
                })?;
            Ok(ToolArgsGrammar {
                name: tool.name.clone(),
                gbnf,
            })
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    let grammar = forced_call_grammar(format, &tools);
    LlamaSampler::grammar(model, &grammar, "root").map_err(|e| {
        EngineError::Inference(format!(
            "the tool-call grammar was rejected by llama.cpp: {e}"
        ))
    })
}
