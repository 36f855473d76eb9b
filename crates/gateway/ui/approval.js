// An exec approval asked in the chat: the gateway sent an `approval_request` frame on the
// turn's stream and waits (bounded) for a decision posted to /clawgate/v1/approvals/{id}.
// The card shows the command (model output: text only, never HTML), why it needs an answer,
// where it runs, and Allow once / Always / Deny; the turn goes on once the gateway has the
// answer. "Always" is offered only when the gateway named programs it can allowlist.

import { api } from "./api.js";
import { el, replace } from "./dom.js";

const DECISION_TEXT = {
  "allow-once": "allowed once",
  "allow-always": "allowed always",
  deny: "denied",
};

/** The card for one `approval_request` frame. `card.close(text)` ends it unanswered. */
export function approvalCard(frame) {
  const status = el("div", { class: "approval-status", role: "status" });
  const buttons = el("div", { class: "approval-actions" });
  const card = el(
    "div",
    { class: "approval", "data-approval-id": frame.id || "" },
    el("div", { class: "approval-title" },
      "exec wants to run ", frame.sandboxed ? "in the sandbox" : "WITHOUT a sandbox", ":"),
    el("pre", { class: "approval-command" }, frame.command || ""),
    el("div", { class: "approval-why small" }, frame.reason || ""),
    el("div", { class: "approval-where small muted" },
      `agent ${frame.agent || "?"}`, frame.cwd ? ` · in ${frame.cwd}` : "",
      frame.expiresInMs ? ` · answer within ${Math.round(frame.expiresInMs / 1000)} s` : ""),
    buttons,
    status,
  );
  let open = true;
  const choices = [["allow-once", "Allow once", ""]];
  if ((frame.patterns || []).length) {
    choices.push(["allow-always", "Always", `add ${frame.patterns.join(", ")} to the allowlist of agent ${frame.agent}`]);
  }
  choices.push(["deny", "Deny", "danger"]);
  const all = choices.map(([decision, label, extra]) => {
    const button = el("button", {
      type: "button",
      class: `small ${decision === "deny" ? "danger" : ""}`,
      "data-decision": decision,
      title: decision === "allow-always" ? extra : null,
    }, label);
    button.addEventListener("click", () => decide(decision));
    return button;
  });
  buttons.append(...all);

  async function decide(decision) {
    if (!open) return;
    all.forEach((b) => { b.disabled = true; });
    replace(status, "sending…");
    try {
      const answer = await api(`approvals/${encodeURIComponent(frame.id)}`, {
        method: "POST",
        body: { decision },
      });
      open = false;
      card.classList.add("answered", decision === "deny" ? "denied" : "allowed");
      const remembered = (answer.remembered || []).length ? ` (added ${answer.remembered.join(", ")})` : "";
      replace(status, `${DECISION_TEXT[decision]}${remembered}`);
      buttons.remove();
    } catch (error) {
      replace(status, error.message);
      status.classList.add("error");
      // 404: the question is gone (expired, or the turn ended); nothing left to answer.
      if (error.status === 404) close(null);
      else all.forEach((b) => { b.disabled = false; });
    }
  }

  function close(text) {
    if (!open) return;
    open = false;
    card.classList.add("answered");
    buttons.remove();
    if (text) replace(status, text);
  }

  card.close = close;
  return card;
}
