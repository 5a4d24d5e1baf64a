// Small DOM helpers shared by the console's modules (no framework).
export const $ = (id) => document.getElementById(id);

/** el("td", {className: "num"}, "text", child) — attributes: properties, `data-*`/`aria-*` as attributes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("data-") || name.startsWith("aria-") || name === "role" || name === "for") {
      node.setAttribute(name, value === true ? "" : String(value));
    } else if (name === "on") {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else {
      node[name] = value;
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const numberFormat = new Intl.NumberFormat("en-US");
export const DASH = "—";

/** A 24 h figure: the number, or a dash when the API did not send it. */
export function figure(value) {
  return typeof value === "number" && Number.isFinite(value) ? numberFormat.format(value) : DASH;
}

export function formatCount(n) { return numberFormat.format(n); }

/** Local date and time of an ISO string or epoch milliseconds; a dash when absent. */
export function formatTime(value) {
  if (value === undefined || value === null || value === "") return DASH;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString("en-GB", {
    year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

let toastTimer = null;
/** A short status message in the polite live region. */
export function toast(message, kind = "info") {
  const box = $("toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

/** Opens a <dialog> modally; focus returns to what had it when the dialog closes. */
export function openDialog(dialog, focusTarget) {
  const opener = document.activeElement;
  if (!dialog.open) dialog.showModal();
  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
  }, { once: true });
  const target = focusTarget || dialog.querySelector("[autofocus], input, textarea, select, button:not(.close)");
  if (target) target.focus();
}

/** Every `.close` button closes its dialog; a click on the backdrop too. */
export function wireDialogs() {
  for (const dialog of document.querySelectorAll("dialog")) {
    for (const button of dialog.querySelectorAll(".close")) {
      button.addEventListener("click", () => dialog.close());
    }
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog && dialog.id !== "token-dialog") dialog.close();
    });
  }
}

/** Copies text to the clipboard (navigator.clipboard, else a hidden textarea). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch { /* fall back below */ }
  }
  const area = el("textarea", { value: text, readOnly: true, className: "visually-hidden" });
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch { ok = false; }
  area.remove();
  return ok;
}

/** Shows `text` in a hidden-by-default element, or hides it when text is empty. */
export function showText(node, text) {
  node.textContent = text || "";
  node.hidden = !text;
}
