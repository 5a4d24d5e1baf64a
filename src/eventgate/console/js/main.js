// The console's entry point: the token prompt, then the list and its windows.
import { forgetToken, setToken, setUnauthorizedHandler, token } from "./api.js";
import { $, openDialog, showText, wireDialogs } from "./dom.js";
import { confirmDelete, initForms, showCreate, showRules } from "./forms.js";
import { initList, load, startPolling, state } from "./list.js";
import { initViews, showDependencies, showHistory, showRoute, showStructure } from "./views.js";

function askForToken(reason) {
  for (const dialog of document.querySelectorAll("dialog[open]")) {
    if (dialog.id !== "token-dialog") dialog.close();
  }
  $("list").hidden = true;
  $("new-type").hidden = true;
  $("sign-out").hidden = true;
  showText($("token-reason"), reason || "");
  $("token").value = "";
  openDialog($("token-dialog"), $("token"));
}

function showConsole() {
  $("list").hidden = false;
  $("new-type").hidden = false;
  $("sign-out").hidden = false;
  load();
  startPolling();
  showRoute();
}

function main() {
  wireDialogs();
  initForms();
  initViews();
  initList({
    dependencies: showDependencies,
    history: showHistory,
    structure: showStructure,
    rules: (t) => showRules(t, () => load()),
    delete: (t) => confirmDelete(t, () => load()),
  });
  setUnauthorizedHandler((message) => askForToken(`The API refused the token (${message}). Enter a valid token.`));
  $("token-dialog").addEventListener("cancel", (event) => event.preventDefault()); // no console without a token
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    setToken(value);
    $("token-dialog").close();
    showConsole();
  });
  $("sign-out").addEventListener("click", () => {
    forgetToken();
    state.items = [];
    askForToken("");
  });
  $("new-type").addEventListener("click", () => showCreate((created) => {
    // Show the new type: search for its key from the first page.
    $("search").value = created.key;
    state.q = created.key;
    state.offset = 0;
    load();
  }));
  window.addEventListener("hashchange", () => { if (token()) showRoute(); });
  if (token()) showConsole();
  else askForToken("");
}

main();
