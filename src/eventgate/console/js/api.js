// The API client of the console: the bearer token (sessionStorage only), JSON requests,
// and errors as ApiError carrying the server's {"error": {code, message, details}}.
const TOKEN_KEY = "eventgate.token";
const BASE = "/api/v1";
export const HISTORY_PAGE = 20;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let onUnauthorized = () => {};

/** Called with the server's message whenever an answer is 401 (the token is then forgotten). */
export function setUnauthorizedHandler(handler) { onUnauthorized = handler; }

export function token() { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(value) { sessionStorage.setItem(TOKEN_KEY, value); }
export function forgetToken() { sessionStorage.removeItem(TOKEN_KEY); }

/** An ETag for If-Match from a type's version. */
export function ifMatch(version) { return version === undefined || version === null ? {} : { "If-Match": `"${version}"` }; }

/**
 * `request("GET", "/event-types", {query, body, headers, signal})` → parsed JSON (null for 204).
 * Throws ApiError for any non-2xx answer and for network failures (status 0).
 */
export async function request(method, path, options = {}) {
  const { query, body, headers = {}, signal } = options;
  let url = BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const init = { method, headers: { Accept: "application/json", ...headers }, signal, cache: "no-store" };
  const current = token();
  if (current) init.headers.Authorization = `Bearer ${current}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let answer;
  try {
    answer = await fetch(url, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "The API did not answer (network error). Is eventgate running?", null);
  }
  if (answer.status === 204) return null;
  let parsed = null;
  const text = await answer.text();
  if (text) {
    try { parsed = JSON.parse(text); } catch { parsed = null; }
  }
  if (!answer.ok) {
    const problem = parsed && parsed.error ? parsed.error : {};
    const error = new ApiError(
      answer.status,
      problem.code || `http_${answer.status}`,
      problem.message || `${answer.status} ${answer.statusText}`.trim(),
      problem.details ?? null,
    );
    if (answer.status === 401) {
      forgetToken();
      onUnauthorized(error.message);
    }
    throw error;
  }
  return parsed;
}

export const api = {
  listTypes: (query, signal) => request("GET", "/event-types", { query, signal }),
  getType: (key) => request("GET", `/event-types/${encodeURIComponent(key)}`),
  createType: (body) => request("POST", "/event-types", { body }),
  patchType: (key, patch, version) =>
    request("PATCH", `/event-types/${encodeURIComponent(key)}`, { body: patch, headers: ifMatch(version) }),
  deleteType: (key, version) =>
    request("DELETE", `/event-types/${encodeURIComponent(key)}`, { headers: ifMatch(version) }),
  getValidation: (key) => request("GET", `/event-types/${encodeURIComponent(key)}/validation`),
  putValidation: (key, body, version) =>
    request("PUT", `/event-types/${encodeURIComponent(key)}/validation`, { body, headers: ifMatch(version) }),
  getStructure: (key) => request("GET", `/event-types/${encodeURIComponent(key)}/structure`),
  getDependencies: (key) => request("GET", `/event-types/${encodeURIComponent(key)}/dependencies`),
  getHistory: (key, cursor) =>
    request("GET", `/event-types/${encodeURIComponent(key)}/history`, { query: { limit: HISTORY_PAGE, cursor } }),
  getWorkflow: (id) => request("GET", `/workflows/${encodeURIComponent(id)}`),
  getSegment: (id) => request("GET", `/segments/${encodeURIComponent(id)}`),
};
