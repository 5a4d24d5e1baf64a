// The list of event types: tabs, search, sorting, pagination, live 24 h figures, and the
// rows with their dependency button, segmentation switch and ⋮ menu.
import { api, ApiError, token } from "./api.js";
import { $, el, figure, formatCount, toast, DASH } from "./dom.js";

export const POLL_MS = 5000;

const CATEGORY_LABELS = {
  click: "Click",
  subscribe: "Subscribe",
  rfm: "RFM",
  import: "Import",
  notification: "Notification",
  regular_workflow: "Regular workflow",
  contact_field_change: "Contact field change",
  other: "Other",
};

export const state = {
  status: "all",
  dependency: "all",
  q: "",
  sort: "key",
  limit: 50,
  offset: 0,
  total: 0,
  items: [],
};

let actions = {}; // set by init: {dependencies(t), history(t), rules(t), structure(t), delete(t)}
let inFlight = null; // AbortController of the load under way
let pollTimer = null;
let menuFor = null; // the type whose ⋮ menu is open
let menuButton = null;

export function categoryLabel(category) { return CATEGORY_LABELS[category] || category || DASH; }

/** "Segment VIP buyers (ID 1234)" for system types, else "". */
export function systemLabel(t) {
  const s = t.system;
  if (!s) return "";
  if (s.segmentId !== undefined) return `Segment: ${s.segmentName} · ID ${s.segmentId}`;
  if (s.contactFieldId !== undefined) return `Contact field: ${s.contactFieldName} · ID ${s.contactFieldId}`;
  return "";
}

function depsSummary(deps) {
  const parts = [];
  if (deps.launch) parts.push(`${deps.launch} launch`);
  if (deps.stop) parts.push(`${deps.stop} stop`);
  if (deps.segments) parts.push(`${deps.segments} segment${deps.segments === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

function depsChips(deps) {
  const chips = [];
  if (deps.launch) chips.push(el("span", { className: "dep-count" }, el("b", {}, formatCount(deps.launch)), " launch"));
  if (deps.stop) chips.push(el("span", { className: "dep-count" }, el("b", {}, formatCount(deps.stop)), " stop"));
  if (deps.segments) chips.push(el("span", { className: "dep-count" }, el("b", {}, formatCount(deps.segments)), deps.segments === 1 ? " segment" : " segments"));
  return chips;
}

function query() {
  return {
    status: state.status,
    dependency: state.dependency,
    q: state.q || undefined,
    sort: state.sort,
    limit: state.limit,
    offset: state.offset,
  };
}

function filtered() { return state.status !== "all" || state.dependency !== "all" || state.q !== ""; }

/** Loads the current page. `background` loads (polls) never abort a user's load. */
export async function load({ background = false } = {}) {
  if (background && inFlight) return;
  if (inFlight) inFlight.abort();
  const controller = new AbortController();
  inFlight = controller;
  $("table-region").setAttribute("aria-busy", "true");
  try {
    const page = await api.listTypes(query(), controller.signal);
    if (controller !== inFlight) return;
    if (page.total > 0 && page.items.length === 0 && state.offset > 0) {
      // The page emptied (deletes, a filter): go to the last page that has rows.
      state.offset = Math.max(0, Math.floor((page.total - 1) / state.limit) * state.limit);
      inFlight = null;
      await load({ background });
      return;
    }
    state.total = page.total;
    state.items = page.items;
    render();
    $("load-error").hidden = true;
    $("updated").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
  } catch (err) {
    if (err.name === "AbortError" || controller !== inFlight) return;
    if (err instanceof ApiError && err.status === 401) return; // the token prompt is back
    $("load-error-text").textContent = `Could not load event types: ${err.message}`;
    $("load-error").hidden = false;
    if (!state.items.length) renderEmpty(false);
  } finally {
    if (controller === inFlight) {
      inFlight = null;
      $("table-region").setAttribute("aria-busy", "false");
    }
  }
}

function renderEmpty(show) {
  const empty = $("empty");
  empty.hidden = !show;
  if (!show) return;
  const text = filtered()
    ? "No event types match these filters."
    : "No event types yet. Publish an event to the ingest topic, or create one with “New event type”.";
  $("empty-text").textContent = text;
  $("clear-filters").hidden = !filtered();
}

function render() {
  const body = $("rows");
  const keys = state.items.map((t) => t.key);
  const current = [...body.children].map((tr) => tr.dataset.key);
  if (keys.length === current.length && keys.every((k, i) => k === current[i])) {
    // Same rows: update them in place, so focus and an open menu stay where they are.
    [...body.children].forEach((tr, i) => fillRow(tr, state.items[i]));
  } else {
    if (menuFor) closeMenu(false);
    body.replaceChildren(...state.items.map((t) => fillRow(buildRow(t), t)));
  }
  renderEmpty(state.total === 0 || state.items.length === 0);
  $("types").hidden = state.items.length === 0;
  renderPager();
  renderSort();
}

function buildRow(t) {
  const tr = el("tr", { "data-key": t.key });
  const name = el("span", { className: "type-name" });
  const key = el("code", { className: "type-key" });
  const system = el("span", { className: "type-system" });
  const badges = el("span", { className: "badges" });
  tr.append(el("th", { scope: "row", className: "type-cell" }, name, el("span", { className: "type-meta" }, key, badges), system));
  const deps = el("td", { className: "deps-cell" });
  const volume = el("td", { className: "num", "data-col": "volume" });
  const launched = el("td", { className: "num", "data-col": "launched" });
  const errors = el("td", { className: "num", "data-col": "errors" });
  const toggle = el("button", { type: "button", role: "switch", className: "switch" }, el("span", { className: "knob", "aria-hidden": "true" }));
  toggle.addEventListener("click", () => toggleSegmentation(tr, toggle));
  const more = el("button", { type: "button", className: "more", "aria-haspopup": "menu", "aria-expanded": "false" }, "⋮");
  more.addEventListener("click", () => openMenu(tr, more));
  more.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); openMenu(tr, more); }
  });
  tr.append(deps, volume, launched, errors, el("td", {}, toggle), el("td", { className: "actions-cell" }, more));
  tr._refs = { name, key, system, badges, deps, volume, launched, errors, toggle, more };
  return tr;
}

function fillRow(tr, t) {
  const r = tr._refs;
  tr._type = t;
  r.name.textContent = t.name;
  r.key.textContent = t.key;
  r.system.textContent = systemLabel(t);
  r.system.hidden = !t.system;
  const badges = [
    el("span", { className: `badge status-${t.status}` }, t.status === "active" ? "Active" : "Inactive"),
    el("span", { className: "badge" }, categoryLabel(t.category)),
  ];
  if (t.validation && t.validation.enabled) badges.push(el("span", { className: "badge validation" }, "Validation on"));
  r.badges.replaceChildren(...badges);
  const deps = t.dependencies;
  if (!deps) {
    r.deps.replaceChildren(DASH);
  } else if (!deps.total) {
    r.deps.replaceChildren(el("span", { className: "muted" }, "None"));
  } else {
    const button = el(
      "button",
      { type: "button", className: "deps", "aria-haspopup": "dialog", "aria-label": `${deps.total} dependencies of ${t.name}: ${depsSummary(deps)}` },
      ...depsChips(deps),
    );
    button.addEventListener("click", () => actions.dependencies(tr._type));
    r.deps.replaceChildren(button);
  }
  r.volume.textContent = figure(t.volume24h);
  r.launched.textContent = figure(t.launched24h);
  r.errors.textContent = figure(t.errors24h);
  r.errors.classList.toggle("bad", typeof t.errors24h === "number" && t.errors24h > 0);
  r.volume.title = typeof t.rejected24h === "number" ? `${formatCount(t.rejected24h)} rejected in 24 h` : "";
  r.toggle.setAttribute("aria-checked", String(Boolean(t.segmentation)));
  r.toggle.setAttribute("aria-label", `Use ${t.name} for segmentation`);
  r.more.setAttribute("aria-label", `Actions for ${t.name}`);
  return tr;
}

async function toggleSegmentation(tr, toggle) {
  const t = tr._type;
  const wanted = !t.segmentation;
  toggle.disabled = true;
  try {
    const updated = await api.patchType(t.key, { segmentation: wanted }, t.version);
    tr._type = { ...t, ...updated, dependencies: t.dependencies, validation: { enabled: updated.validation ? updated.validation.enabled : t.validation.enabled } };
    fillRow(tr, tr._type);
    toast(`Segmentation ${wanted ? "on" : "off"} for ${t.name}.`);
  } catch (err) {
    if (err.status === 412) {
      toast(`${t.name} was changed elsewhere; the list is reloaded. Try again.`, "error");
      await load();
    } else if (err.status !== 401) {
      toast(`Could not switch segmentation for ${t.name}: ${err.message}`, "error");
    }
  } finally {
    toggle.disabled = false;
  }
}

// -- the ⋮ menu -------------------------------------------------------------------------------

function menuItems() { return [...$("row-menu").querySelectorAll('[role="menuitem"]')]; }

function openMenu(tr, button) {
  if (menuFor && menuButton === button) { closeMenu(true); return; }
  if (menuFor) closeMenu(false);
  const menu = $("row-menu");
  const t = tr._type;
  menuFor = t;
  menuButton = button;
  const structure = menu.querySelector('[data-action="structure"]');
  const offered = Boolean(t.segmentation);
  structure.setAttribute("aria-disabled", String(!offered));
  structure.title = offered ? "" : "The structure preview is offered for types with segmentation on";
  button.setAttribute("aria-expanded", "true");
  menu.hidden = false;
  const rect = button.getBoundingClientRect();
  const top = rect.bottom + window.scrollY + 4;
  const left = Math.max(8, rect.right + window.scrollX - menu.offsetWidth);
  menu.style.top = `${top}px`;
  menu.style.left = `${left}px`;
  menuItems()[0].focus();
}

function closeMenu(refocus) {
  const menu = $("row-menu");
  menu.hidden = true;
  if (menuButton) {
    menuButton.setAttribute("aria-expanded", "false");
    if (refocus) menuButton.focus();
  }
  menuFor = null;
  menuButton = null;
}

function wireMenu() {
  const menu = $("row-menu");
  menu.addEventListener("click", (event) => {
    const item = event.target.closest('[role="menuitem"]');
    if (!item || !menuFor) return;
    if (item.getAttribute("aria-disabled") === "true") {
      toast(item.title);
      return;
    }
    const t = menuFor;
    closeMenu(true);
    actions[item.dataset.action](t);
  });
  menu.addEventListener("keydown", (event) => {
    const items = menuItems();
    const index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown") { event.preventDefault(); items[(index + 1) % items.length].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); items[(index - 1 + items.length) % items.length].focus(); }
    else if (event.key === "Home") { event.preventDefault(); items[0].focus(); }
    else if (event.key === "End") { event.preventDefault(); items[items.length - 1].focus(); }
    else if (event.key === "Escape") { event.preventDefault(); closeMenu(true); }
    else if (event.key === "Tab") { closeMenu(false); }
  });
  document.addEventListener("click", (event) => {
    if (menuFor && !menu.contains(event.target) && event.target.closest(".more") !== menuButton) closeMenu(false);
  });
}

// -- tabs, search, sorting, pages -------------------------------------------------------------

function wireTabs(list, field) {
  const tabs = [...list.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
    }
    state[field] = tab.dataset.value;
    state.offset = 0;
    load();
  };
  for (const tab of tabs) tab.addEventListener("click", () => select(tab));
  list.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
    else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
    else if (event.key === "Home") next = tabs[0];
    else if (event.key === "End") next = tabs[tabs.length - 1];
    if (next) { event.preventDefault(); next.focus(); select(next); }
  });
  return (value) => select(tabs.find((tab) => tab.dataset.value === value));
}

function renderSort() {
  for (const th of document.querySelectorAll("th[data-sort]")) {
    const field = th.dataset.sort;
    let sort = "none";
    if (state.sort === field) sort = "ascending";
    else if (state.sort === `-${field}`) sort = "descending";
    th.setAttribute("aria-sort", sort);
  }
}

function wireSort() {
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const field = th.dataset.sort;
      // ascending → descending → back to the default order (by key)
      if (state.sort === field) state.sort = `-${field}`;
      else if (state.sort === `-${field}`) state.sort = "key";
      else state.sort = field;
      state.offset = 0;
      renderSort();
      load();
    });
  }
}

function renderPager() {
  const { total, offset, limit, items } = state;
  const first = total === 0 ? 0 : offset + 1;
  const last = offset + items.length;
  $("range").textContent = total === 0 ? "0 event types" : `${formatCount(first)}–${formatCount(last)} of ${formatCount(total)} event types`;
  const pages = Math.max(1, Math.ceil(total / limit));
  $("page-of").textContent = `Page ${formatCount(Math.floor(offset / limit) + 1)} of ${formatCount(pages)}`;
  $("prev").disabled = offset === 0;
  $("next").disabled = offset + limit >= total;
}

function wirePager() {
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); load(); });
  $("next").addEventListener("click", () => { state.offset += state.limit; load(); });
  $("page-size").addEventListener("change", (event) => {
    state.limit = Number(event.target.value);
    state.offset = 0;
    load();
  });
}

function wireSearch() {
  let timer = null;
  $("search").addEventListener("input", (event) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.q = event.target.value.trim();
      state.offset = 0;
      load();
    }, 250);
  });
}

/** Polls the current page every POLL_MS while the page is visible; at once when it shows again. */
export function startPolling() {
  if (pollTimer) return;
  pollTimer = setInterval(() => {
    if (document.visibilityState === "visible" && token()) load({ background: true });
  }, POLL_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && token()) load({ background: true });
  });
}

export function initList(handlers) {
  actions = handlers;
  const setStatus = wireTabs($("status-tabs"), "status");
  const setDependency = wireTabs($("dependency-tabs"), "dependency");
  wireSort();
  wirePager();
  wireSearch();
  wireMenu();
  $("retry").addEventListener("click", () => load());
  $("clear-filters").addEventListener("click", () => {
    $("search").value = "";
    state.q = "";
    setStatus("all");
    setDependency("all");
  });
}
