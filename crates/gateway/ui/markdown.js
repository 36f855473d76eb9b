// A small Markdown renderer for model answers, hand-written because it must be safe by
// construction: it only ever creates elements and text nodes (never parses HTML), so raw HTML
// in an answer shows as text, and links keep only http(s) and mailto targets. Images are shown
// as links, never loaded (a remote image would leak the conversation). It covers what models
// write: fenced code, headings, lists, quotes, tables, rules, and inline code, emphasis,
// strike-through, links and bare URLs. A well-kept library (marked + DOMPurify) would weigh
// ~60 KB and still need the sanitiser to be right; this is ~250 lines with nothing to sanitise.

import { el } from "./dom.js";

const SAFE_URL = /^(https?:|mailto:)/i;

/** A link to `href` when it is http(s)/mailto, else the label as plain text. */
function link(href, label) {
  let url;
  try {
    url = new URL(href, "https://invalid.invalid/");
  } catch {
    return document.createTextNode(label);
  }
  if (!SAFE_URL.test(href) || !SAFE_URL.test(url.protocol)) return document.createTextNode(label);
  return el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow" }, label);
}

// One alternation; the first group that matched says which inline construct it is.
const INLINE = new RegExp(
  [
    /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/.source, // 1,2 code span
    /\*\*(?=\S)([\s\S]*?\S)\*\*/.source, // 3 strong
    /__(?=\S)([\s\S]*?\S)__(?![\w])/.source, // 4 strong
    /\*(?=[^\s*])([\s\S]*?[^\s*])\*(?!\*)/.source, // 5 emphasis
    /(?<![\w])_(?=[^\s_])([\s\S]*?[^\s_])_(?![\w])/.source, // 6 emphasis
    /~~(?=\S)([\s\S]*?\S)~~/.source, // 7 strike
    /!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/.source, // 8,9 image
    /\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/.source, // 10,11 link
    /(https?:\/\/[^\s<>]*[^\s<>.,;:!?)\]'"*_])/.source, // 12 bare URL
  ].join("|"),
);

/** Inline Markdown of one block's text, as nodes. */
export function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    if (m[1] !== undefined) out.push(el("code", {}, m[2].replace(/^ (.*) $/s, "$1")));
    else if (m[3] !== undefined) out.push(el("strong", {}, inline(m[3])));
    else if (m[4] !== undefined) out.push(el("strong", {}, inline(m[4])));
    else if (m[5] !== undefined) out.push(el("em", {}, inline(m[5])));
    else if (m[6] !== undefined) out.push(el("em", {}, inline(m[6])));
    else if (m[7] !== undefined) out.push(el("del", {}, inline(m[7])));
    else if (m[8] !== undefined) out.push(link(m[9], `[image: ${m[8] || m[9]}]`));
    else if (m[10] !== undefined) {
      const label = link(m[11], "");
      if (label instanceof Text) out.push(...inline(m[10]));
      else {
        label.append(...inline(m[10]).map((n) => (n instanceof Node ? n : document.createTextNode(n))));
        out.push(label);
      }
    } else if (m[12] !== undefined) out.push(link(m[12], m[12]));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

/** Lines with their hard breaks (two trailing spaces or a backslash) as <br>. */
function paragraphLines(lines) {
  const nodes = [];
  lines.forEach((line, i) => {
    const hard = /( {2,}|\\)$/.test(line);
    nodes.push(...inline(line.replace(/( {2,}|\\)$/, "")));
    if (i < lines.length - 1) nodes.push(hard ? el("br") : "\n");
  });
  return nodes;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const BULLET = /^(\s*)([-*+])\s+(.*)$/;
const ORDERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

function cells(row) {
  const trimmed = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  return trimmed.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
}

function isBlockStart(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line)
    || BULLET.test(line) || ORDERED.test(line);
}

/** Renders Markdown `text` into a fragment of safe nodes. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const close = new RegExp(`^ {0,3}${fence[1][0]}{${fence[1].length},}\\s*$`);
      const body = [];
      i += 1;
      while (i < lines.length && !close.test(lines[i])) body.push(lines[i++]);
      i += 1; // the closing fence (or the end of an unfinished stream)
      const code = el("code", fence[2] ? { class: `language-${fence[2]}` } : {}, body.join("\n"));
      fragment.append(el("pre", { class: "code" }, code));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      fragment.append(el(`h${heading[1].length}`, {}, inline(heading[2])));
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      fragment.append(el("hr"));
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && QUOTE.test(lines[i])) body.push(QUOTE.exec(lines[i++])[1]);
      fragment.append(el("blockquote", {}, renderMarkdown(body.join("\n"))));
      continue;
    }
    if (BULLET.test(line) || ORDERED.test(line)) {
      i = list(lines, i, fragment);
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1])) {
      const head = cells(line);
      const rows = [];
      i += 2;
      while (i < lines.length && lines[i].includes("|") && lines[i].trim()) rows.push(cells(lines[i++]));
      fragment.append(el("div", { class: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, head.map((c) => el("th", {}, inline(c))))),
        el("tbody", {}, rows.map((r) => el("tr", {}, head.map((_, k) => el("td", {}, inline(r[k] || "")))))),
      )));
      continue;
    }
    const body = [];
    while (i < lines.length && lines[i].trim() && !(body.length && isBlockStart(lines[i]))) {
      body.push(lines[i++]);
    }
    fragment.append(el("p", {}, paragraphLines(body)));
  }
  return fragment;
}

/** One list (bullets or numbers) starting at line `i`; nested lists by indentation. */
function list(lines, i, parent) {
  const first = BULLET.exec(lines[i]) || ORDERED.exec(lines[i]);
  const ordered = !BULLET.test(lines[i]);
  const indent = first[1].length;
  const node = ordered && first[2] !== "1" ? el("ol", { start: first[2] }) : el(ordered ? "ol" : "ul");
  let item = null;
  let itemLines = [];
  const flush = () => {
    if (item) item.append(renderMarkdown(itemLines.join("\n")));
    itemLines = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    const m = (ordered ? ORDERED : BULLET).exec(line);
    if (m && m[1].length === indent) {
      flush();
      item = el("li");
      node.append(item);
      itemLines.push(m[3]);
      i += 1;
      continue;
    }
    const continued = line.trim() && (line.search(/\S/) > indent || !isBlockStart(line));
    if (!line.trim()) {
      const next = lines[i + 1];
      if (next === undefined || !(next.search(/\S/) > indent)) break;
      itemLines.push("");
      i += 1;
      continue;
    }
    if (!continued) break;
    itemLines.push(line.slice(Math.min(line.search(/\S/), indent + 2)));
    i += 1;
  }
  flush();
  // Items of a tight list are single paragraphs: show them without paragraph spacing.
  for (const li of node.children) {
    if (li.children.length === 1 && li.firstElementChild.tagName === "P") {
      li.replaceChildren(...li.firstElementChild.childNodes);
    }
  }
  parent.append(node);
  return i;
}
