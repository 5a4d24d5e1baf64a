"use strict";
// Operator console: lists event types from /api/v1/event-types and refreshes them live.
const TOKEN_KEY = "eventgate.token";
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(path) {
  const answer = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (answer.status === 401) { sessionStorage.removeItem(TOKEN_KEY); showLogin(); throw new Error("token refused"); }
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.error ? body.error.message : answer.statusText);
  return body;
}

function cell(text, extra) {
  const td = document.createElement("td");
  td.textContent = text;
  if (extra) { const span = document.createElement("span"); span.className = "key"; span.textContent = extra; td.appendChild(span); }
  return td;
}

async function refresh() {
  const q = $("search").value.trim();
  const params = new URLSearchParams({ limit: "100" });
  if (q) params.set("q", q);
  try {
    const page = await api(`/api/v1/event-types?${params}`);
    const rows = $("rows");
    rows.replaceChildren(...page.items.map((t) => {
      const tr = document.createElement("tr");
      tr.append(cell(t.name, t.key), cell(t.category), cell(t.status), cell(String(t.dependencies.total)), cell(t.origin));
      return tr;
    }));
    $("total").textContent = `${page.total} event type${page.total === 1 ? "" : "s"}`;
    $("empty").hidden = page.total !== 0;
    $("error").hidden = true;
  } catch (err) {
    $("error").textContent = `Could not load event types: ${err.message}`;
    $("error").hidden = false;
  }
}

function showLogin() { $("login").hidden = false; $("list").hidden = true; }
function showList() { $("login").hidden = true; $("list").hidden = false; refresh(); }

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  showList();
});
$("search").addEventListener("input", () => refresh());
setInterval(() => { if (token()) refresh(); }, 5000);
if (token()) showList(); else showLogin();
