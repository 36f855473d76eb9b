// The Models view: the default chain (primary, then fallbacks), each provider's health with
// its cooldown counting down live, the registry as `clawgate models list` shows it, and a
// probe button that runs `models status --probe` on the gateway: reachability, latency, which
// models each server serves and has loaded, and context windows that differ from the config.
// Polls every 2 s while shown; the countdown ticks every second from the server's clock.

import { api } from "./api.js";
import { compact, duration, el, replace, table } from "./dom.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;

let ctx = null;
let poll = null;
let tick = null;
let data = null; // {now, list, status}
let fetchedAt = 0;
let probe = null; // the last probe's status
let probing = false;

/** The server's now, advanced by the time since the last answer. */
function serverNow() {
  return data.now + (Date.now() - fetchedAt);
}

function chain(status) {
  const items = [el("span", { class: "chip primary" }, status.primary)];
  for (const f of status.fallbacks) items.push(" → ", el("span", { class: "chip" }, f));
  return el("p", { class: "chain" }, el("strong", {}, "chain "), items);
}

function health(provider) {
  const c = provider.cooldown;
  if (provider.problem) return el("span", { class: "bad" }, `not built: ${provider.problem}`);
  if (!c) return el("span", { class: "good" }, "ok");
  const left = Math.max(0, c.until - serverNow());
  const state = c.disabled ? "disabled" : "cooling down";
  const errors = `${c.errorCount} error${c.errorCount === 1 ? "" : "s"}`;
  return el("span", { class: "bad cooldown", "data-until": c.until },
    `${state} ${left > 0 ? duration(left) : "ending"} (${c.reason}, ${errors})`);
}

function probeCell(provider) {
  const p = (probe?.providers || []).find((x) => x.id === provider.id)?.probe;
  if (!probe) return "";
  if (!p) return "–";
  if (p.reachable) return el("span", { class: "good" }, `ok ${p.latencyMs} ms`);
  return el("span", { class: "bad" }, `unreachable${p.error ? `: ${p.error.message}` : ""}`);
}

function providers(status) {
  const headers = ["provider", "role", "api", "base URL", "key", "health"];
  if (probe) headers.push("probe");
  return table(headers, status.providers.map((p) => {
    const key = p.key.state === "present" ? `${p.key.redacted} (${p.key.source})` : p.key.state;
    const cells = [
      el("td", {}, el("code", {}, p.id)),
      el("td", {}, p.role || ""),
      el("td", {}, p.api),
      el("td", { class: "url" }, p.baseUrl),
      el("td", {}, key),
      el("td", { class: "health" }, health(p)),
    ];
    if (probe) cells.push(el("td", {}, probeCell(p)));
    return el("tr", { "data-provider": p.id }, cells);
  }));
}

function yesNo(value) {
  return value === true ? "yes" : value === false ? "no" : "?";
}

function modelRows(list) {
  const probed = new Map((probe?.models || []).map((m) => [m.ref, m]));
  const headers = ["model", "alias", "role", "context", "max out", "source"];
  if (probe) headers.push("served", "loaded", "server context");
  return table(headers, list.models.map((m) => {
    const cells = [
      el("td", {}, el("code", {}, m.ref)),
      el("td", {}, m.alias || ""),
      el("td", {}, (m.roles || []).join(", ")),
      el("td", { class: "num" }, compact(m.contextWindow)),
      el("td", { class: "num" }, compact(m.maxTokens)),
      el("td", {}, m.source),
    ];
    if (probe) {
      const p = probed.get(m.ref) || {};
      const mismatch = p.serverContextWindow && p.serverContextWindow < m.contextWindow;
      cells.push(el("td", {}, yesNo(p.served)), el("td", {}, yesNo(p.loaded)),
        el("td", { class: mismatch ? "num bad" : "num" }, p.serverContextWindow ? compact(p.serverContextWindow) : "–"));
    }
    return el("tr", {}, cells);
  }));
}

function verdict(status) {
  const check = status.check;
  const lines = [];
  if (check.ok) lines.push(el("p", { class: "good" }, "✓ the primary can serve"));
  else lines.push(el("p", { class: "bad" }, `✗ the primary cannot serve: ${check.problems.join("; ")}`));
  for (const w of [...(status.warnings || []), ...(probe?.warnings || [])]) {
    lines.push(el("p", { class: "warn" }, `warning: ${w}`));
  }
  return lines;
}

function render() {
  if (!data) return;
  const probeButton = el("button", { type: "button", id: "probe", disabled: probing }, probing ? "Probing…" : "Probe");
  probeButton.addEventListener("click", runProbe);
  replace($("view-models"),
    el("div", { class: "view-head" }, el("h1", {}, "Models"), probeButton),
    chain(data.status), verdict(data.status),
    el("h2", {}, "Providers"), providers(data.status),
    el("h2", {}, "Registry"), modelRows(data.list));
}

/** Updates the countdowns without a refetch. */
function tickCountdowns() {
  for (const node of document.querySelectorAll("#view-models .cooldown")) {
    const provider = data.status.providers.find((p) => p.cooldown && String(p.cooldown.until) === node.dataset.until);
    if (provider) node.replaceWith(health(provider));
  }
}

async function refresh() {
  try {
    data = await api("models");
    fetchedAt = Date.now();
    render();
  } catch (error) {
    ctx.status(`models: ${error.message}`);
  }
}

async function runProbe() {
  probing = true;
  render();
  try {
    const result = await api("models/probe", { method: "POST" });
    probe = result.status;
  } catch (error) {
    ctx.status(`probe failed: ${error.message}`);
  }
  probing = false;
  render();
}

export function show(context) {
  ctx = context;
  refresh();
  clearInterval(poll);
  clearInterval(tick);
  poll = setInterval(refresh, POLL_MS);
  tick = setInterval(tickCountdowns, 1000);
}

export function hide() {
  clearInterval(poll);
  clearInterval(tick);
  poll = tick = null;
}
