// The Requests view: the gateway's last requests (running ones first) with the model asked
// for, the model that answered, every attempt on the way, latency, tokens and outcome, so a
// failover shows up as it happens. Polls every 1.5 s while shown.

import { api } from "./api.js";
import { clock, compact, duration, el, replace, table } from "./dom.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1500;
let ctx = null;
let poll = null;

function attempts(entry) {
  if (!entry.attempts.length) return "–";
  const chainText = entry.attempts
    .map((a) => `${a.outcome === "ok" ? "✓" : a.outcome === "skipped" ? "↷" : "✗"} ${a.model}`)
    .join(" → ");
  if (entry.attempts.length === 1 && entry.attempts[0].outcome === "ok") return chainText;
  return el("details", {}, el("summary", {}, chainText),
    el("ul", { class: "attempts" }, entry.attempts.map((a) =>
      el("li", {}, `${a.model}: ${a.detail}${a.latencyMs ? ` (${duration(a.latencyMs)})` : ""}`))));
}

function outcome(entry) {
  if (!entry.outcome) return el("span", { class: "chip running" }, "running");
  const good = entry.outcome === "ok";
  const text = entry.status ? `${entry.outcome} ${entry.status}` : entry.outcome;
  return el("span", { class: good ? "good" : "bad", title: entry.error || "" }, text);
}

function row(entry) {
  const answered = entry.answered
    ? [el("code", {}, entry.answered), entry.fallback ? el("span", { class: "chip warn", title: `fallback: ${entry.fallback.reason}` }, "fallback") : null]
    : "–";
  const tokens = entry.tokens.input == null && entry.tokens.output == null
    ? "–" : `${compact(entry.tokens.input ?? 0)} → ${compact(entry.tokens.output ?? 0)}`;
  return el("tr", { "data-request": entry.id, class: entry.outcome ? "" : "running" },
    el("td", {}, clock(entry.startedAt)),
    el("td", {}, entry.route),
    el("td", {}, entry.asked ? el("code", {}, entry.asked) : "–", entry.session ? el("div", { class: "muted small" }, entry.session) : null),
    el("td", {}, answered),
    el("td", {}, attempts(entry)),
    el("td", { class: "num" }, entry.latencyMs == null ? "…" : duration(entry.latencyMs)),
    el("td", { class: "num" }, tokens),
    el("td", {}, outcome(entry)));
}

async function refresh() {
  try {
    const data = await api("requests?limit=100");
    const rows = [...data.running.slice().reverse(), ...data.requests];
    replace($("requests-list"), rows.length
      ? table(["time", "route", "asked", "answered", "attempts", "latency", "tokens", "outcome"], rows.map(row))
      : el("p", { class: "muted" }, "No requests yet."));
  } catch (error) {
    ctx.status(`requests: ${error.message}`);
  }
}

export function show(context) {
  ctx = context;
  replace($("view-requests"),
    el("div", { class: "view-head" }, el("h1", {}, "Requests"), el("span", { class: "muted small" }, "live, newest first")),
    el("div", { id: "requests-list" }, el("p", { class: "muted" }, "loading…")));
  refresh();
  clearInterval(poll);
  poll = setInterval(refresh, POLL_MS);
}

export function hide() {
  clearInterval(poll);
  poll = null;
}
