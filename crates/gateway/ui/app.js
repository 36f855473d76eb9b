// The Control UI's entry point: takes a token from the URL fragment, asks for one when the
// gateway refuses the request, loads the overview (agents, models, chain) and switches between
// the views by the URL hash (#chat, #sessions, #models, #requests, #config). Each view module
// exports show(context) and hide(); views that poll stop polling when hidden.

import { ApiError, api, setToken, takeTokenFromFragment, token, whenUnauthorized } from "./api.js";
import * as chat from "./chat.js";
import * as config from "./config.js";
import * as models from "./models.js";
import * as requests from "./requests.js";
import * as sessions from "./sessions.js";

const VIEWS = { chat, sessions, models, requests, config };
const $ = (id) => document.getElementById(id);

const context = {
  overview: null,
  /** Opens the chat on `target` (and `sessionKey` for an agent). */
  openChat(target, sessionKey) {
    chat.select(target, sessionKey);
    location.hash = "#chat";
  },
  status(text) {
    $("status-line").textContent = text || "";
  },
};

let current = null;

function showView() {
  const name = location.hash.replace(/^#/, "").split(/[?&]/)[0] || "chat";
  const view = VIEWS[name] ? name : "chat";
  if (current && current !== view) VIEWS[current].hide();
  for (const key of Object.keys(VIEWS)) $(`view-${key}`).hidden = key !== view;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  current = view;
  VIEWS[view].show(context);
}

function showLogin(message) {
  for (const key of Object.keys(VIEWS)) {
    $(`view-${key}`).hidden = true;
    VIEWS[key].hide();
  }
  current = null;
  $("nav").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

async function start() {
  const presented = token() !== "";
  context.overview = null;
  try {
    context.overview = await api("overview");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const refused = presented;
      setToken("");
      showLogin(refused ? "The gateway refused this token." : "");
    } else if (error instanceof ApiError && error.status === 429) {
      showLogin(error.message);
    } else {
      showLogin(`Could not reach the gateway: ${error.message}`);
    }
    return;
  }
  $("login").hidden = true;
  $("nav").hidden = false;
  chat.init(context);
  showView();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setToken($("token").value.trim());
  $("token").value = "";
  start();
});

whenUnauthorized(() => {
  if (!context.overview) return; // start() handles a refusal of its own call
  context.overview = null;
  setToken("");
  showLogin("The gateway refused the token (it may have changed). Enter it again.");
});

window.addEventListener("hashchange", () => {
  if (takeTokenFromFragment()) {
    start();
    return;
  }
  if (context.overview) showView();
});

takeTokenFromFragment();
start();
