// Who is signed in, and what the server sent for them (bootstrap: reference data, outings planned
// for them, teammates, consent text, limits), kept on the phone for the days without network.
import * as appState from "./app-state.js";
import { t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { $, el } from "./page.js";
import { labels, say, state, urls } from "./field-context.js";
import { renderPlanned, renderTally } from "./field-outing.js";

export async function loadBootstrap() {
  let response;
  try {
    response = await fetch(urls.bootstrap, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch (error) {
    return; // offline: the kept copy will do
  }
  if (response.status === 401) {
    showSignIn(true);
    return;
  }
  if (!response.ok) return;
  state.boot = await response.json();
  await appState.set("bootstrap", state.boot);
  await outbox.setOwner(state.boot.user.id);
  showSignIn(false);
  applyBootstrap();
}

export async function loadKeptBootstrap() {
  state.boot = (await appState.get("bootstrap")) || null;
}

export function applyBootstrap() {
  const boot = state.boot;
  if (!boot) return;
  labels.tool = Object.fromEntries(boot.tools.map((x) => [x.code, x.label]));
  labels.zone = Object.fromEntries(boot.zones.map((x) => [x.code, x.label]));
  fillToggles($("tool-toggles"), "checkbox", "tools", boot.tools);
  fillSelect($("outing-zone"), boot.zones, null);
  fillSelect($("encounter-zone"), boot.zones, t("Not specified"));
  if (boot.consent) {
    $("consent-text").textContent = boot.consent.text;
    $("consent-text").dataset.version = boot.consent.version;
  }
  const mates = boot.teammates || [];
  $("teammates").replaceChildren(...mates.map((m) => el("label", { className: "checkbox" },
    el("input", { type: "checkbox", name: "member", value: String(m.id) }), el("span", {}, m.display_name))));
  $("teammates-fieldset").hidden = !mates.length;
  renderPlanned();
  renderTally();
}

function fillToggles(container, type, name, items) {
  const chosen = new Set([...container.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value));
  container.replaceChildren(...items.map((item) => el("label", { className: "toggle" },
    el("input", { type, name, value: item.code, checked: chosen.has(item.code) }), el("span", {}, item.label))));
}

function fillSelect(select, items, emptyLabel) {
  const value = select.value;
  const options = items.map((item) => el("option", { value: item.code }, item.label));
  if (emptyLabel !== null) options.unshift(el("option", { value: "" }, emptyLabel));
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === value)) select.value = value;
}

export function showSignIn(show) {
  $("signin").hidden = !show;
  $("header-signout").hidden = show;
  // Someone who never signed in on this phone is not asked to sign in "again".
  for (const node of document.querySelectorAll(".signin-again")) node.hidden = !state.boot;
  for (const node of document.querySelectorAll(".signin-first")) node.hidden = Boolean(state.boot);
}

async function signIn(event) {
  event.preventDefault();
  const body = { email: $("signin-email").value.trim(), password: $("signin-password").value };
  let response;
  try {
    response = await fetch(urls.session, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    say("signin-error", t("No network: sign in again when you are back online."));
    return;
  }
  if (!response.ok) {
    let message = t("Sign-in failed.");
    try { message = (await response.json()).error || message; } catch (error) { /* keep the default */ }
    say("signin-error", message);
    return;
  }
  say("signin-error", "");
  $("signin-password").value = "";
  showSignIn(false);
  await outbox.signedIn();
  await loadBootstrap();
  outbox.syncNow();
}

export function init() {
  $("signin-form").addEventListener("submit", signIn);
}
