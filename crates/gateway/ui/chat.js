// The Chat view: talk to an agent (`clawgate/<id>`, on a session the gateway keeps) or to a
// model ref or alias (the conversation kept in this tab), over the gateway's OpenAI chat
// completions endpoint, streamed, with clawgate's own stream frames turned on
// (`x-clawgate-events: on`) for tool cards, notices and which model answered. Stop aborts the
// fetch; the gateway then cancels the turn and its upstream call. Slash commands go to the
// agent as messages (it runs /new, /model, /compact, /status itself); for a model they are
// handled here. The open chat (target, session key, a model chat's messages) survives a
// reload through sessionStorage; an agent's conversation is read back from its transcript.

import { api, authHeaders, errorOf } from "./api.js";
import { Answer, commandReply, noticeLine, pastAnswer, userMessage } from "./chat_render.js";
import { compact, el, replace } from "./dom.js";
import { sseEvents } from "./sse.js";

const STATE_KEY = "clawgate.chat";
const $ = (id) => document.getElementById(id);

let ctx = null;
let state = { target: null, sessions: {}, history: {} };
let running = null; // AbortController of the answer being streamed
let wired = false;

function save() {
  sessionStorage.setItem(STATE_KEY, JSON.stringify(state));
}

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STATE_KEY) || "null");
    if (saved && typeof saved === "object") state = { sessions: {}, history: {}, ...saved };
  } catch {
    // a damaged entry: start fresh
  }
}

function agentOf(target) {
  const m = /^(?:clawgate|openclaw)\/(.+)$/.exec(target || "");
  return m ? m[1] : null;
}

function newSessionKey(agent) {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  const suffix = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `agent:${agent}:ui-${suffix}`;
}

function sessionKey() {
  const agent = agentOf(state.target);
  if (!agent) return null;
  if (!state.sessions[agent]) {
    state.sessions[agent] = newSessionKey(agent);
    save();
  }
  return state.sessions[agent];
}

function messages() {
  return $("messages");
}

function scrollDown() {
  const list = messages();
  list.scrollTop = list.scrollHeight;
}

function fillTargets() {
  const select = $("target");
  const overview = ctx.overview;
  const agents = overview.agents.map((a) =>
    el("option", { value: `clawgate/${a.id}` }, `agent ${a.id}${a.default ? " (default)" : ""}`));
  const models = overview.models.map((m) =>
    el("option", { value: m.ref }, m.alias ? `${m.ref} (${m.alias})` : m.ref));
  replace(select, el("optgroup", { label: "Agents" }, agents), el("optgroup", { label: "Models" }, models));
  const known = [...select.options].map((o) => o.value);
  if (!known.includes(state.target)) state.target = `clawgate/${overview.defaultAgent}`;
  select.value = state.target;
}

/** Selects a target (and an agent's session) from elsewhere, e.g. the Sessions view. */
export function select(target, key) {
  state.target = target;
  const agent = agentOf(target);
  if (agent && key) state.sessions[agent] = key;
  save();
  if (ctx) {
    fillTargets();
    redraw();
  }
}

function modelHistory() {
  if (!state.history[state.target]) state.history[state.target] = [];
  return state.history[state.target];
}

/** Redraws the conversation: an agent's from its transcript, a model chat's from this tab. */
async function redraw() {
  const list = messages();
  const agent = agentOf(state.target);
  $("session-label").textContent = agent ? sessionKey() : "conversation kept in this tab";
  replace(list);
  if (!agent) {
    for (const m of modelHistory()) {
      list.append(m.role === "user" ? userMessage(m.content) : pastAnswer({ text: m.content, model: m.model }, new Map()));
    }
    updateMeter(null);
    scrollDown();
    return;
  }
  const key = sessionKey();
  try {
    const session = await api(`sessions/${encodeURIComponent(key)}?agent=${encodeURIComponent(agent)}`);
    if (state.target !== `clawgate/${agent}`) return;
    renderTranscript(session);
    updateMeter(session);
  } catch (error) {
    if (error.status === 404) updateMeter({ context: null });
    else list.append(noticeLine(`could not load the session: ${error.message}`, "error"));
  }
  scrollDown();
}

function renderTranscript(session) {
  const list = messages();
  const results = new Map();
  for (const m of session.messages) for (const r of m.toolResults || []) results.set(r.id, r);
  for (const m of session.messages) {
    if (m.role === "user") list.append(userMessage(m.text));
    else if (m.role === "assistant") list.append(pastAnswer(m, results));
    else if (m.role === "compaction") {
      list.append(noticeLine(`↻ compacted (~${compact(m.tokensBefore)} tokens summarised)`, "info"));
    }
  }
}

/** The context meter: tokens in context against the window, and compactions. */
function updateMeter(session, usage) {
  const box = $("context");
  const meter = $("context-meter");
  const text = $("context-text");
  if (session && session.context) {
    const c = session.context;
    box.hidden = false;
    meter.max = c.window || 1;
    meter.value = Math.min(c.tokens || 0, meter.max);
    text.textContent = `${compact(c.tokens ?? 0)} / ${compact(c.window)} tokens in context · ${c.compactions} compaction${c.compactions === 1 ? "" : "s"} · ${c.model || ""}`;
    return;
  }
  if (!agentOf(state.target) && usage) {
    const model = ctx.overview.models.find((m) => m.ref === state.target || m.alias === state.target);
    const used = (usage.input_tokens || 0) + (usage.output_tokens || 0);
    box.hidden = false;
    meter.max = model?.contextWindow || 1;
    meter.value = Math.min(used, meter.max);
    text.textContent = `${compact(used)} / ${compact(model?.contextWindow)} tokens (last answer)`;
    return;
  }
  box.hidden = !session;
  meter.value = 0;
  text.textContent = session ? "new session" : "";
}

function setRunning(controller) {
  running = controller;
  $("send").hidden = !!controller;
  $("stop").hidden = !controller;
  $("target").disabled = !!controller;
}

/** Slash commands for a model chat (an agent runs its own). */
function modelCommand(text) {
  const [word, ...rest] = text.trim().slice(1).split(/\s+/);
  const arg = rest.join(" ");
  switch (word.toLowerCase()) {
    case "new":
    case "reset":
      state.history[state.target] = [];
      save();
      redraw();
      return "New conversation.";
    case "model": {
      if (!arg) return `Model: ${state.target}`;
      const found = ctx.overview.models.find((m) => m.ref === arg || m.alias === arg);
      const target = found ? found.ref : ctx.overview.agents.some((a) => `clawgate/${a.id}` === arg) ? arg : null;
      if (!target) return `Model not changed: ${arg} is not a configured model ref or alias.`;
      select(target);
      return `Chatting with ${target}.`;
    }
    case "status":
      return `Target: ${state.target} (a model: no agent, no tools, no session on the gateway)\nMessages: ${modelHistory().length} in this tab`;
    case "compact":
      return "Compaction needs an agent: pick clawgate/<agent> to chat with a session the gateway compacts.";
    case "help":
      return "/new — clear this conversation\n/model [ref|alias] — show or switch the model\n/status — what this chat is\nAgents also take /compact and /reasoning on|off.";
    default:
      return null;
  }
}

async function send(text) {
  const agent = agentOf(state.target);
  if (!agent && text.startsWith("/")) {
    const reply = modelCommand(text);
    if (reply !== null) {
      messages().append(userMessage(text), commandReply(reply));
      scrollDown();
      return;
    }
  }
  const list = messages();
  list.append(userMessage(text));
  const answer = new Answer();
  list.append(answer.node);
  scrollDown();
  const headers = authHeaders({ "content-type": "application/json", "x-clawgate-events": "on" });
  let body;
  if (agent) {
    headers["x-clawgate-session-key"] = sessionKey();
    body = { model: state.target, messages: [{ role: "user", content: text }] };
  } else {
    const history = modelHistory();
    history.push({ role: "user", content: text });
    save();
    body = { model: state.target, messages: history.map(({ role, content }) => ({ role, content })) };
  }
  body.stream = true;
  body.stream_options = { include_usage: true };
  const controller = new AbortController();
  setRunning(controller);
  const started = performance.now();
  let finish = {};
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST", headers, body: JSON.stringify(body), signal: controller.signal,
    });
    finish.requestId = response.headers.get("x-clawgate-request-id");
    if (!response.ok) throw await errorOf(response);
    finish = { ...finish, ...(await readStream(response, answer)) };
  } catch (error) {
    if (error.name === "AbortError") finish.stopped = true;
    else finish.error = error.message;
  }
  finish.elapsedMs = performance.now() - started;
  setRunning(null);
  const command = agent && /^\/(new|reset|compact|model|status|help|reasoning)(\s|$)/i.exec(text.trim());
  if (command && !finish.error && !finish.stopped && answer.text) {
    answer.node.replaceWith(commandReply(answer.text));
    if (/^(new|reset)$/i.test(command[1])) {
      await redraw();
      messages().append(commandReply(answer.text));
    }
  } else {
    answer.finish(finish);
  }
  if (!agent && answer.text && !finish.error) {
    modelHistory().push({ role: "assistant", content: answer.text, model: answer.routes.at(-1)?.model });
    save();
  }
  scrollDown();
  if (agent) {
    try {
      const session = await api(`sessions/${encodeURIComponent(sessionKey())}?agent=${encodeURIComponent(agent)}`);
      updateMeter(session);
      $("session-label").textContent = sessionKey();
    } catch {
      // the meter keeps its last value
    }
  } else {
    updateMeter(null, finish.usage);
  }
}

/** Reads the chat completions stream into `answer`; resolves to {usage, requestId}. */
async function readStream(response, answer) {
  const out = {};
  for await (const { event, data } of sseEvents(response)) {
    if (event === "clawgate") {
      const frame = JSON.parse(data);
      if (frame.type === "route") answer.route(frame);
      else if (frame.type === "tool_call") answer.toolCall(frame);
      else if (frame.type === "tool_result") answer.toolResult(frame);
      else if (frame.type === "approval_request") answer.approval(frame);
      // A fallback is shown from its `route` frame, with the attempt record.
      else if (frame.type === "notice" && !frame.text.startsWith("↪ fallback")) answer.notice(frame.text);
      else if (frame.type === "compacted") answer.notice(`↻ context compacted (${frame.trigger}): ~${compact(frame.tokensBefore)} tokens summarised`, "info");
      else if (frame.type === "done") {
        out.usage = frame.usage;
        out.requestId = frame.requestId;
      }
      scrollDown();
      continue;
    }
    if (data === "[DONE]") continue;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(chunk.error.message || "the stream failed");
    const delta = chunk.choices?.[0]?.delta || {};
    if (delta.reasoning_content) answer.appendReasoning(delta.reasoning_content);
    if (delta.content) {
      answer.appendText(delta.content);
      scrollDown();
    }
    if (chunk.usage) {
      out.usage = {
        input_tokens: chunk.usage.prompt_tokens,
        output_tokens: chunk.usage.completion_tokens,
      };
    }
  }
  return out;
}

function wire() {
  if (wired) return;
  wired = true;
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("prompt").value.trim();
    if (!text || running) return;
    $("prompt").value = "";
    send(text);
  });
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", () => running?.abort());
  $("target").addEventListener("change", () => select($("target").value));
  $("new-session").addEventListener("click", () => {
    const agent = agentOf(state.target);
    if (agent) state.sessions[agent] = newSessionKey(agent);
    else state.history[state.target] = [];
    save();
    redraw();
  });
}

export function init(context) {
  ctx = context;
  load();
  wire();
  fillTargets();
  save();
  redraw();
}

export function show() {
  $("prompt").focus();
}

export function hide() {}
