// The Config view: the config file the gateway runs with (includes and ${VAR} applied,
// secrets redacted, as `clawgate config show`) and the validation of that file as it is on
// disk now (`clawgate config validate`): every diagnostic with its JSON path and line/column.

import { api } from "./api.js";
import { el, replace } from "./dom.js";

const $ = (id) => document.getElementById(id);

function diagnostic(d) {
  const where = [d.path, d.location ? `line ${d.location.line}, column ${d.location.column}` : null]
    .filter(Boolean).join(" · ");
  return el("li", { class: d.severity === "error" ? "bad" : "warn" },
    el("strong", {}, d.severity), where ? ` ${where}: ` : ": ", d.message,
    d.hint ? el("div", { class: "muted small" }, d.hint) : null);
}

function validation(report) {
  if (!report) return el("p", { class: "muted" }, "The gateway was started without a config location: no check of the file on disk.");
  if (report.error) return el("p", { class: "bad" }, report.error);
  const file = report.config || "(no file: built-in defaults)";
  const verdict = report.valid
    ? el("p", { class: "good" }, `✓ ${file} is valid`)
    : el("p", { class: "bad" }, `✗ ${file} is invalid: the running config is the last valid one`);
  return [verdict,
    report.diagnostics.length ? el("ul", { class: "diagnostics" }, report.diagnostics.map(diagnostic)) : null,
    report.ignored.length ? el("p", { class: "muted small" }, `ignored OpenClaw keys: ${report.ignored.join(", ")}`) : null];
}

export async function show(ctx) {
  const view = $("view-config");
  replace(view, el("div", { class: "view-head" }, el("h1", {}, "Config")), el("p", { class: "muted" }, "loading…"));
  try {
    const data = await api("config");
    replace(view,
      el("div", { class: "view-head" }, el("h1", {}, "Config")),
      el("h2", {}, "File on disk"), validation(data.validation),
      el("p", { class: "muted small" }, "Change the file, then send the gateway SIGHUP (or restart it) to apply it."),
      el("h2", {}, "Running config"),
      el("p", { class: "muted small" }, `${data.path || "built-in defaults"} (${data.source}), secrets redacted`),
      el("pre", { class: "code config" }, JSON.stringify(data.effective, null, 2)));
  } catch (error) {
    ctx.status(`config: ${error.message}`);
  }
}

export function hide() {}
