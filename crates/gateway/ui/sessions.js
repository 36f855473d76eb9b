// The Sessions view: an agent's sessions (most recent first) with their model, context,
// tokens and compactions; open one in the chat to continue it, start a new one, or export a
// transcript (Markdown or the JSONL file as stored).

import { api, download } from "./api.js";
import { clock, compact, el, replace, table } from "./dom.js";

const $ = (id) => document.getElementById(id);
let ctx = null;
let agent = null;

function newKey(id) {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `agent:${id}:ui-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function exportButton(row, format, label) {
  const button = el("button", { type: "button", class: "ghost small" }, label);
  button.addEventListener("click", async () => {
    try {
      const path = `sessions/${encodeURIComponent(row.key)}/export?agent=${encodeURIComponent(agent)}&format=${format}`;
      await download(path, `session-${row.sessionId}.${format === "markdown" ? "md" : "jsonl"}`);
    } catch (error) {
      ctx.status(`export failed: ${error.message}`);
    }
  });
  return button;
}

function row(session) {
  const open = el("button", { type: "button", class: "small" }, "Open");
  open.addEventListener("click", () => ctx.openChat(`clawgate/${agent}`, session.key));
  const model = session.modelOverride ? `${session.modelOverride} (/model)` : session.lastModel || "–";
  return el("tr", { "data-key": session.key },
    el("td", {}, el("code", {}, session.key)),
    el("td", {}, model),
    el("td", { class: "num" }, session.contextTokens == null ? "–" : compact(session.contextTokens)),
    el("td", { class: "num" }, compact(session.totalTokens)),
    el("td", { class: "num" }, String(session.compactionCount)),
    el("td", {}, session.updatedAt ? clock(session.updatedAt) : "–"),
    el("td", { class: "actions" }, open, " ", exportButton(session, "markdown", ".md"), " ", exportButton(session, "jsonl", ".jsonl")));
}

async function render() {
  const view = $("view-sessions");
  const picker = el("select", { id: "sessions-agent", "aria-label": "agent" },
    ctx.overview.agents.map((a) => el("option", { value: a.id }, `agent ${a.id}`)));
  picker.value = agent;
  picker.addEventListener("change", () => {
    agent = picker.value;
    render();
  });
  const fresh = el("button", { type: "button" }, "New session");
  fresh.addEventListener("click", () => ctx.openChat(`clawgate/${agent}`, newKey(agent)));
  const list = el("div", {}, el("p", { class: "muted" }, "loading…"));
  replace(view, el("div", { class: "view-head" }, el("h1", {}, "Sessions"), picker, fresh), list);
  try {
    const data = await api(`sessions?agent=${encodeURIComponent(agent)}`);
    if (!data.sessions.length) {
      replace(list, el("p", { class: "muted" }, `No sessions for agent ${agent} yet.`));
      return;
    }
    replace(list, table(["session", "model", "context", "tokens", "compactions", "updated", ""], data.sessions.map(row)));
  } catch (error) {
    replace(list, el("p", { class: "error" }, error.message));
  }
}

export function show(context) {
  ctx = context;
  agent = agent || ctx.overview.defaultAgent;
  render();
}

export function hide() {}
