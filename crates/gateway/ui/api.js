// Talking to the gateway: the token (kept in sessionStorage for this tab only, never in a
// cookie or localStorage), the JSON endpoints under /clawgate/v1/, and errors in the
// gateway's OpenAI shape turned into Error objects with the HTTP status.

const TOKEN_KEY = "clawgate.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Moves a token given in the URL fragment (`#token=...`, what `clawgate dashboard` prints) into
 * sessionStorage and removes it from the address bar and history. The fragment never reaches
 * the server, so the token is not in any request line or log.
 */
export function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!match) return false;
  try {
    setToken(decodeURIComponent(match[1]));
  } catch {
    setToken(match[1]);
  }
  history.replaceState(null, "", location.pathname + location.search);
  return true;
}

/** Headers for a gateway call. */
export function authHeaders(extra) {
  const headers = { ...(extra || {}) };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  return headers;
}

/** An HTTP error with the gateway's message. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The error of a failed response, from its JSON body when it has one. */
export async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const body = await response.json();
    const error = body.error || body;
    if (error && error.message) message = error.message;
    if (error && error.code) code = error.code;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code);
}

let onUnauthorized = () => {};

/** What to do when the gateway answers 401 (show the token prompt). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** GET (or `method`, with a JSON `body`) a /clawgate/v1 endpoint; resolves to its JSON. */
export async function api(path, options = {}) {
  const json = options.body !== undefined;
  const response = await fetch(`/clawgate/v1/${path}`, {
    method: options.method || "GET",
    headers: authHeaders(json ? { "content-type": "application/json" } : {}),
    body: json ? JSON.stringify(options.body) : undefined,
    signal: options.signal,
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return response.json();
}

/** Downloads a /clawgate/v1 resource as a file (a fetch with the token, then a blob link). */
export async function download(path, fallbackName) {
  const response = await fetch(`/clawgate/v1/${path}`, { headers: authHeaders() });
  if (!response.ok) throw await errorOf(response);
  const disposition = response.headers.get("content-disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
