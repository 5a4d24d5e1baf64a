// Read-only windows: a type's dependencies (with links to each workflow and segment, shown by
// the hash route #/workflows/{id} and #/segments/{id}), its event history and its structure.
import { api } from "./api.js";
import { $, el, copyText, formatTime, openDialog, showText, toast, DASH } from "./dom.js";

const KIND_TITLES = { launch: "Launch workflow", stop: "Stop workflow", segment: "Segments" };

// -- dependencies -------------------------------------------------------------------------------

export async function showDependencies(t) {
  const body = $("deps-body");
  $("deps-title").textContent = `Dependencies of ${t.name}`;
  body.replaceChildren(el("p", { className: "muted" }, "Loading…"));
  openDialog($("deps-dialog"), $("deps-dialog").querySelector(".close"));
  try {
    const deps = await api.getDependencies(t.key);
    body.replaceChildren(...dependencyGroups(deps.items));
  } catch (err) {
    if (err.status !== 401) body.replaceChildren(el("p", { className: "error", role: "alert" }, `Could not load the dependencies: ${err.message}`));
  }
}

export function dependencyGroups(items) {
  if (!items.length) return [el("p", { className: "muted" }, "Nothing depends on this event type.")];
  const groups = [];
  for (const kind of ["launch", "stop", "segment"]) {
    const mine = items.filter((item) => item.kind === kind);
    if (!mine.length) continue;
    const headingId = `deps-${kind}`;
    groups.push(el("section", { className: "dep-group", "aria-labelledby": headingId },
      el("h3", { id: headingId }, `${KIND_TITLES[kind]} (${mine.length})`),
      el("ul", { className: "dep-list" }, mine.map((item) => {
        const path = kind === "segment" ? "segments" : "workflows";
        return el("li", {},
          el("span", { className: "dep-name" }, item.name),
          el("code", { className: "muted" }, item.id),
          item.status ? el("span", { className: `badge status-${item.status}` }, item.status === "active" ? "Active" : "Inactive") : null,
          el("a", { href: `#/${path}/${encodeURIComponent(item.id)}`, "aria-label": `View ${kind === "segment" ? "segment" : "workflow"} ${item.name}` }, "View"));
      })),
    ));
  }
  return groups;
}

/** #/workflows/{id} and #/segments/{id}: the resource in a window. */
export async function showRoute() {
  const match = /^#\/(workflows|segments)\/(.+)$/.exec(window.location.hash);
  if (!match) return;
  const [, kind, rawId] = match;
  const id = decodeURIComponent(rawId);
  const dialog = $("resource-dialog");
  const body = $("resource-body");
  $("resource-title").textContent = `${kind === "workflows" ? "Workflow" : "Segment"} ${id}`;
  body.replaceChildren(el("p", { className: "muted" }, "Loading…"));
  if (!dialog.open) {
    openDialog(dialog, dialog.querySelector(".close"));
    dialog.addEventListener("close", () => {
      if (window.location.hash.startsWith(`#/${kind}/`)) history.replaceState(null, "", window.location.pathname + window.location.search);
    }, { once: true });
  }
  try {
    const found = kind === "workflows" ? await api.getWorkflow(id) : await api.getSegment(id);
    $("resource-title").textContent = `${kind === "workflows" ? "Workflow" : "Segment"}: ${found.name}`;
    body.replaceChildren(resourceFacts(kind, found));
  } catch (err) {
    if (err.status !== 401) body.replaceChildren(el("p", { className: "error", role: "alert" }, err.message));
  }
}

function keyList(keys) {
  return keys && keys.length ? keys.map((k) => el("code", { className: "chip" }, k)) : [DASH];
}

function resourceFacts(kind, found) {
  const rows = [["ID", el("code", {}, found.id)], ["Name", found.name]];
  if (kind === "workflows") {
    rows.push(["Status", found.status === "active" ? "Active" : "Inactive"]);
    rows.push(["Launched by", keyList(found.launchOn)]);
    rows.push(["Stopped by", keyList(found.stopOn)]);
    const c = found.launchCondition;
    if (c) {
      const text = c.segmentId !== undefined ? `Segment ${c.segmentName} (ID ${c.segmentId})` : `Contact field ${c.contactFieldName} (ID ${c.contactFieldId})`;
      rows.push(["Launch condition", text]);
      rows.push(["System event type", keyList(found.systemType ? [found.systemType] : [])]);
    }
  } else {
    rows.push(["Event types", keyList(found.eventTypeKeys)]);
  }
  return el("dl", { className: "facts" }, rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

// -- event history ----------------------------------------------------------------------------

const historyState = { key: null, cursor: null };

function outcomeCell(item) {
  const outcome = item.outcome || DASH;
  const cell = el("td", {}, el("span", { className: `badge outcome-${outcome}` }, outcome));
  if (item.reason) cell.append(" ", el("code", { className: "reason" }, item.reason));
  return cell;
}

function historyRow(item) {
  const launched = item.launchedWorkflows || item.launched || [];
  const time = item.timeMs ?? item.time ?? item.occurredAt;
  return el("tr", {},
    el("td", {}, el("time", { dateTime: typeof time === "number" ? new Date(time).toISOString() : String(time || "") }, formatTime(time))),
    el("td", {}, item.contact ?? DASH),
    outcomeCell(item),
    el("td", {}, launched.length ? launched.map((id) => el("code", { className: "chip" }, id)) : el("span", { className: "muted" }, "None")));
}

async function loadHistory() {
  const more = $("history-more");
  more.disabled = true;
  try {
    const page = await api.getHistory(historyState.key, historyState.cursor);
    const items = page.items || [];
    $("history-rows").append(...items.map(historyRow));
    historyState.cursor = page.nextCursor || null;
    more.hidden = !historyState.cursor;
    $("history-empty").hidden = $("history-rows").children.length > 0;
    $("history-table").hidden = $("history-rows").children.length === 0;
  } catch (err) {
    if (err.status !== 401) {
      const missing = err.status === 404 && err.code === "not_found" && !String(err.message).includes(historyState.key);
      showText($("history-error"), missing ? "This API does not serve event history yet." : `Could not load the history: ${err.message}`);
    }
  } finally {
    more.disabled = false;
  }
}

export function initViews() {
  $("history-more").addEventListener("click", () => loadHistory());
}

export async function showHistory(t) {
  historyState.key = t.key;
  historyState.cursor = null;
  $("history-title").textContent = `Event history: ${t.name}`;
  $("history-rows").replaceChildren();
  $("history-empty").hidden = true;
  $("history-table").hidden = true;
  $("history-more").hidden = true;
  showText($("history-error"), "");
  openDialog($("history-dialog"), $("history-dialog").querySelector(".close"));
  await loadHistory();
}

// -- structure preview -------------------------------------------------------------------------

async function copyWithFeedback(text, button, what) {
  const ok = await copyText(text);
  const label = button.textContent;
  button.textContent = ok ? "Copied" : "Copy failed";
  toast(ok ? `Copied ${what}.` : `Could not copy ${what}.`, ok ? "info" : "error");
  setTimeout(() => { button.textContent = label; }, 1500);
}

export async function showStructure(t) {
  $("structure-title").textContent = `Structure preview: ${t.name}`;
  $("structure-json").textContent = "Loading…";
  $("structure-paths").replaceChildren();
  $("structure-count").textContent = "";
  showText($("structure-error"), "");
  openDialog($("structure-dialog"), $("structure-dialog").querySelector(".close"));
  try {
    const found = await api.getStructure(t.key);
    const json = JSON.stringify(found.json, null, 2);
    $("structure-json").textContent = json;
    $("copy-json").onclick = () => copyWithFeedback(json, $("copy-json"), "the JSON");
    const paths = found.paths || [];
    $("structure-count").textContent = `${paths.length} path${paths.length === 1 ? "" : "s"}` + (found.maxPaths ? ` (at most ${found.maxPaths})` : "");
    if (!paths.length) {
      $("structure-paths").replaceChildren(el("li", { className: "muted" }, "No parameters seen yet."));
      return;
    }
    $("structure-paths").replaceChildren(...paths.map((p) => {
      const button = el("button", { type: "button", className: "copy", "aria-label": `Copy ${p.path}` }, "Copy");
      button.addEventListener("click", () => copyWithFeedback(p.path, button, p.path));
      return el("li", {},
        el("code", { className: "path" }, p.path),
        el("span", { className: "badge" }, p.kind),
        button);
    }));
  } catch (err) {
    $("structure-json").textContent = "";
    if (err.status !== 401) showText($("structure-error"), `Could not load the structure: ${err.message}`);
  }
}
