// How chat messages look: the user's text, and an answer built up while it streams (a
// collapsed "thinking" block for reasoning, a card per tool call with its arguments and
// output, the answer as Markdown, notices, and a footer saying which model answered and, after
// a fallback, which model failed and how). Model output only ever goes through
// renderMarkdown or textContent.

import { approvalCard } from "./approval.js";
import { compact, duration, el, replace } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

/** The user's message (plain text, kept as typed). */
export function userMessage(text) {
  return el("div", { class: "msg user" }, el("div", { class: "bubble" }, text));
}

/** A one-line notice (compaction, agent notices, page messages). */
export function noticeLine(text, kind) {
  return el("div", { class: `notice ${kind || ""}` }, text);
}

/** Pretty JSON arguments when they parse, else as sent. */
function prettyArguments(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text || "";
  }
}

/** A tool call card; fill its output later with `toolResult`. */
export function toolCard(call) {
  const output = el("pre", { class: "tool-output pending" }, "running…");
  const card = el(
    "details",
    { class: "tool-card", "data-tool-id": call.id || "", open: true },
    el("summary", {}, el("span", { class: "tool-icon" }, "⚙"), " ", el("code", {}, call.name || "tool")),
    el("div", { class: "tool-label" }, "arguments"),
    el("pre", { class: "tool-args" }, prettyArguments(call.arguments)),
    el("div", { class: "tool-label" }, "output"),
    output,
  );
  card.outputNode = output;
  return card;
}

/** Fills a tool card with its result. */
export function toolResult(card, result) {
  const output = card.outputNode;
  output.classList.remove("pending");
  output.textContent = result.output ?? "";
  if (result.truncated) output.append(document.createTextNode("\n[output shortened for display]"));
  if (result.isError) card.classList.add("failed");
  card.open = false;
}

/** What failed before the answering model, one line per attempt. */
export function attemptLines(attempts) {
  return (attempts || [])
    .filter((a) => a.outcome !== "ok")
    .map((a) => `${a.model}: ${a.detail}`);
}

/**
 * An answer being streamed. `update*` methods are cheap to call per delta: Markdown is
 * re-rendered at most once per animation frame.
 */
export class Answer {
  constructor() {
    this.text = "";
    this.reasoning = "";
    this.routes = [];
    this.thinking = null;
    this.body = el("div", { class: "answer" });
    this.tools = el("div", { class: "tools" });
    this.notices = el("div", { class: "answer-notices" });
    this.footer = el("div", { class: "meta small" });
    this.node = el("div", { class: "msg assistant" },
      el("div", { class: "bubble" }, this.notices, this.tools, this.body, this.footer));
    this.pending = false;
    this.cards = new Map();
    this.approvals = [];
  }

  appendText(delta) {
    this.text += delta;
    this.schedule();
  }

  appendReasoning(delta) {
    this.reasoning += delta;
    if (!this.thinking) {
      this.thinkingText = el("div", { class: "thinking-text" });
      this.thinking = el("details", { class: "thinking" }, el("summary", {}, "thinking"), this.thinkingText);
      this.node.firstChild.insertBefore(this.thinking, this.notices);
    }
    this.thinkingText.textContent = this.reasoning;
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    replace(this.body, renderMarkdown(this.text));
  }

  toolCall(event) {
    const card = toolCard(event);
    this.cards.set(event.id, card);
    this.tools.append(card);
  }

  /** An exec approval question: a card with the command and the decision buttons. */
  approval(event) {
    const card = approvalCard(event);
    this.approvals.push(card);
    this.tools.append(card);
  }

  /** Questions still open when their tool returned or the turn ended can no longer be answered. */
  closeApprovals(text) {
    for (const card of this.approvals) card.close(text);
  }

  toolResult(event) {
    this.closeApprovals("no longer open");
    let card = this.cards.get(event.id);
    if (!card) {
      card = toolCard({ id: event.id, name: event.name, arguments: "" });
      this.tools.append(card);
    }
    toolResult(card, event);
  }

  notice(text, kind) {
    this.notices.append(noticeLine(text, kind));
  }

  /** A `route` event: which model answered, and the attempt record after a fallback. */
  route(event) {
    this.routes.push(event);
    if (event.fallback) {
      const failed = attemptLines(event.attempts);
      const notice = el("div", { class: "notice fallback", role: "note" },
        el("strong", {}, "↪ fallback: "),
        `${event.model} answered for ${event.fallback.requested} (${event.fallback.reason})`,
        failed.length ? el("ul", { class: "attempts" }, failed.map((line) => el("li", {}, line))) : null);
      this.notices.append(notice);
    }
  }

  /** Finishes the answer: final render and the footer. */
  finish({ usage, elapsedMs, stopped, error, requestId, model } = {}) {
    this.render();
    this.closeApprovals("no longer open: the turn ended");
    const last = this.routes[this.routes.length - 1];
    const answeredBy = last ? last.model : model;
    const parts = [];
    if (answeredBy) parts.push(el("span", { class: "model", title: "the model that answered" }, answeredBy));
    if (elapsedMs !== undefined) parts.push(duration(elapsedMs));
    if (usage && (usage.input_tokens || usage.output_tokens)) {
      parts.push(`${compact(usage.input_tokens || 0)} → ${compact(usage.output_tokens || 0)} tokens`);
    }
    if (requestId) parts.push(el("a", { href: "#requests", title: `request ${requestId}` }, "request"));
    replace(this.footer, parts.flatMap((p, i) => (i ? [" · ", p] : [p])));
    if (stopped) {
      this.node.classList.add("stopped");
      this.notice("stopped: the turn and its model call were cancelled", "warn");
    }
    if (error) {
      this.node.classList.add("failed");
      this.notices.append(el("div", { class: "notice error", role: "alert" }, error));
    }
    if (!this.text && !error && !stopped && !this.cards.size) {
      this.body.append(el("span", { class: "muted" }, "(no answer)"));
    }
  }
}

/** A past assistant message from a transcript (no streaming). */
export function pastAnswer(message, results) {
  const answer = new Answer();
  if (message.reasoning) answer.appendReasoning(message.reasoning);
  for (const call of message.toolCalls || []) {
    answer.toolCall(call);
    const result = results.get(call.id);
    if (result) answer.toolResult(result);
  }
  answer.text = message.text || "";
  answer.finish({ model: message.model });
  return answer.node;
}

/** A slash command's reply (`/status` and the like): preformatted, not Markdown. */
export function commandReply(text) {
  return el("div", { class: "msg assistant command" }, el("pre", { class: "bubble" }, text));
}
