// Windows that change things: the rules editor, the delete confirmation and the
// "New event type" form. Server errors (422, 409) are shown where they belong.
import { api } from "./api.js";
import { $, el, openDialog, showText, toast } from "./dom.js";
import { dependencyGroups } from "./views.js";

export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const SIMPLE_EXAMPLE = [
  { name: "sku", required: true, type: "string" },
  { name: "price", required: false, type: "number" },
];
const SCHEMA_EXAMPLE = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: { sku: { type: "string" }, price: { type: "number", minimum: 0 } },
  required: ["sku"],
};

/** The server's problem as one line: message plus where it points (details.path). */
function problemText(err) {
  const details = err.details;
  let where = "";
  if (details && typeof details === "object" && !Array.isArray(details) && details.path !== undefined && details.path !== null) {
    where = ` (at ${Array.isArray(details.path) ? details.path.join("/") || "/" : details.path})`;
  }
  return `${err.message}${where}`;
}

/** Rules text → value: "" is null; otherwise JSON (throws SyntaxError with a readable message). */
function parseRules(text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  try {
    return JSON.parse(trimmed);
  } catch (err) {
    throw new SyntaxError(`The rules are not valid JSON: ${err.message}`);
  }
}

// -- the rules editor -------------------------------------------------------------------------

let rulesFor = null; // {type, version, onSaved}

/** The editor's controls stay disabled until the type's current rules are in: what is typed
 * before they arrive would be overwritten by them, and saving unseen rules would replace them. */
function setRulesLoading(loading) {
  $("rules-form").setAttribute("aria-busy", String(loading));
  for (const control of $("rules-form").querySelectorAll("input, textarea, .dialog-body button, [type='submit']")) {
    control.disabled = loading;
  }
}

export async function showRules(t, onSaved) {
  const opened = { type: t, version: t.version, onSaved };
  rulesFor = opened;
  $("rules-title").textContent = `Validate parameters: ${t.name}`;
  $("rules-enabled").checked = Boolean(t.validation && t.validation.enabled);
  $("rules-text").value = "";
  $("rules-text").removeAttribute("aria-invalid");
  showText($("rules-error"), "");
  setRulesLoading(true);
  openDialog($("rules-dialog"), $("rules-dialog").querySelector(".close"));
  try {
    const [validation, fresh] = await Promise.all([api.getValidation(t.key), api.getType(t.key)]);
    if (rulesFor !== opened) return; // closed and opened for another type meanwhile
    opened.version = fresh.version;
    $("rules-enabled").checked = Boolean(validation.enabled);
    $("rules-text").value = validation.rules === null || validation.rules === undefined ? "" : JSON.stringify(validation.rules, null, 2);
    setRulesLoading(false);
    $("rules-enabled").focus();
  } catch (err) {
    if (rulesFor === opened && err.status !== 401) showText($("rules-error"), `Could not load the rules: ${err.message}`);
  }
}

async function saveRules(event) {
  event.preventDefault();
  if (!rulesFor) return;
  const { type, version, onSaved } = rulesFor;
  const text = $("rules-text");
  let rules;
  try {
    rules = parseRules(text.value);
  } catch (err) {
    text.setAttribute("aria-invalid", "true");
    showText($("rules-error"), err.message);
    text.focus();
    return;
  }
  text.removeAttribute("aria-invalid");
  showText($("rules-error"), "");
  const submit = $("rules-form").querySelector('[type="submit"]');
  submit.disabled = true;
  try {
    await api.putValidation(type.key, { enabled: $("rules-enabled").checked, rules }, version);
    $("rules-dialog").close();
    toast(`Validation ${$("rules-enabled").checked ? "on" : "off"} for ${type.name}; rules saved.`);
    onSaved();
  } catch (err) {
    if (err.status === 401) return;
    if (err.status === 422) text.setAttribute("aria-invalid", "true");
    const prefix = err.status === 412 ? "The type changed meanwhile; reopen the editor. " : "";
    showText($("rules-error"), prefix + problemText(err));
  } finally {
    submit.disabled = false;
  }
}

// -- delete -------------------------------------------------------------------------------------

let deleting = null;

export function confirmDelete(t, onDeleted) {
  deleting = { type: t, onDeleted };
  $("delete-title").textContent = `Delete ${t.name}?`;
  $("delete-text").replaceChildren(
    "The event type ", el("strong", {}, t.name), " (", el("code", {}, t.key), ") is deleted, with its 24 h counters and its event history.");
  $("delete-note").replaceChildren(
    "The next event with the key ", el("code", {}, t.key),
    " registers it again automatically — with validation off.");
  $("delete-error").replaceChildren();
  $("delete-error").hidden = true;
  $("delete-confirm").disabled = false;
  openDialog($("delete-dialog"), $("delete-dialog").querySelector(".actions .close"));
}

async function doDelete() {
  if (!deleting) return;
  const { type, onDeleted } = deleting;
  const box = $("delete-error");
  $("delete-confirm").disabled = true;
  try {
    await api.deleteType(type.key, type.version);
    $("delete-dialog").close();
    toast(`Deleted ${type.name} (${type.key}).`);
    onDeleted();
  } catch (err) {
    if (err.status === 401) return;
    if (err.status === 409 && err.details && Array.isArray(err.details.dependencies)) {
      box.replaceChildren(
        el("p", {}, `${type.name} cannot be deleted while these depend on it. Remove it from them first.`),
        ...dependencyGroups(err.details.dependencies));
    } else {
      box.replaceChildren(el("p", {}, `Could not delete ${type.name}: ${err.message}`));
      $("delete-confirm").disabled = false;
    }
    box.hidden = false;
  }
}

// -- new event type -----------------------------------------------------------------------------

function fieldError(id, message) {
  const input = $(id);
  const box = $(`${id}-error`);
  showText(box, message);
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return !message;
}

function checkKey() {
  const key = $("create-key").value;
  if (!key) return fieldError("create-key", "Enter a key.");
  if (!KEY_PATTERN.test(key)) {
    return fieldError("create-key", "Use 1–100 letters, digits, “_”, “.” or “-”, starting with a letter or digit.");
  }
  return fieldError("create-key", "");
}

function checkName() {
  const name = $("create-name").value;
  if (!name.trim()) return fieldError("create-name", "Enter a name.");
  return fieldError("create-name", "");
}

export function showCreate(onCreated) {
  const form = $("create-form");
  form.reset();
  form.onCreated = onCreated;
  for (const id of ["create-name", "create-key", "create-rules"]) fieldError(id, "");
  showText($("create-error"), "");
  openDialog($("create-dialog"), $("create-name"));
}

async function create(event) {
  event.preventDefault();
  const form = $("create-form");
  showText($("create-error"), "");
  const nameOk = checkName();
  const keyOk = checkKey();
  let rules = null;
  let rulesOk = true;
  try {
    rules = parseRules($("create-rules").value);
    fieldError("create-rules", "");
  } catch (err) {
    rulesOk = fieldError("create-rules", err.message);
  }
  if (!(nameOk && keyOk && rulesOk)) {
    form.querySelector('[aria-invalid="true"]').focus();
    return;
  }
  const body = {
    name: $("create-name").value,
    key: $("create-key").value,
    category: $("create-category").value,
    segmentation: $("create-segmentation").checked,
    validation: { enabled: $("create-validation").checked, rules },
  };
  const submit = form.querySelector('[type="submit"]');
  submit.disabled = true;
  try {
    const created = await api.createType(body);
    $("create-dialog").close();
    toast(`Created ${created.name} (${created.key}).`);
    form.onCreated(created);
  } catch (err) {
    if (err.status === 401) return;
    if (err.status === 409) {
      fieldError("create-key", err.message);
      $("create-key").focus();
    } else if (err.status === 422 && err.code === "invalid_rules") {
      fieldError("create-rules", problemText(err));
      $("create-rules").focus();
    } else {
      showText($("create-error"), problemText(err));
    }
  } finally {
    submit.disabled = false;
  }
}

export function initForms() {
  $("rules-form").addEventListener("submit", saveRules);
  $("rules-example-simple").addEventListener("click", () => { $("rules-text").value = JSON.stringify(SIMPLE_EXAMPLE, null, 2); });
  $("rules-example-schema").addEventListener("click", () => { $("rules-text").value = JSON.stringify(SCHEMA_EXAMPLE, null, 2); });
  $("delete-confirm").addEventListener("click", doDelete);
  $("create-form").addEventListener("submit", create);
  $("create-key").addEventListener("blur", () => { if ($("create-key").value) checkKey(); });
  $("create-key").addEventListener("input", () => { if ($("create-key").getAttribute("aria-invalid")) checkKey(); });
}
