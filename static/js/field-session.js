// Who is signed in, and bootstrap (reference data, planned outings, teammates, consent text):
// kept for the days without network, refreshed when a sync says it changed. And "Install the app".
import * as outbox from "./outbox.js";
import { $, el, t } from "./page.js";
import { kept, labelOf, labels, many, state, toast, urls } from "./field-context.js";
import { chooseZone } from "./field-encounter.js";
import { render as renderOuting, renderTally } from "./field-outing.js";

let etag = null; // the version of the kept copy (bootstrap's ETag)

// With a kept copy, ask only for a newer one (304 when unchanged).
export async function loadBootstrap() {
  let response;
  try {
    response = await fetch(urls.bootstrap, {
      credentials: "same-origin",
      headers: { Accept: "application/json", ...(etag && state.boot ? { "If-None-Match": etag } : {}) },
    });
  } catch (error) {
    return; // offline: the kept copy will do
  }
  if (response.status === 401) {
    showSignIn(true);
    return;
  }
  if (response.status === 304) {
    await outbox.markSynced();
    return;
  }
  if (!response.ok) return;
  // An outing the office cancelled is said, not just dropped.
  const known = new Set(((state.boot && state.boot.outings) || []).map((o) => o.id));
  state.boot = await response.json();
  etag = response.headers.get("ETag");
  await kept.set("bootstrap", state.boot);
  await kept.set("bootstrap_etag", etag);
  await outbox.setOwner(state.boot.user.id);
  await outbox.markSynced();
  showSignIn(false);
  applyBootstrap();
  const cancelled = (state.boot.cancelled_outings || []).filter((o) => known.has(o.id));
  if (cancelled.length) {
    toast(t("Cancelled by the office: {what}", {
      what: cancelled.map((o) => `${labelOf("format", o.format)} · ${labelOf("zone", o.zone)} · ${o.planned_date}`).join(" ; "),
    }), "error");
  }
}

// After a sync: fetch bootstrap again when the sync answer names another version.
export async function refreshBootstrap(version) {
  if (!version || version !== etag) await loadBootstrap();
}

export async function loadKeptBootstrap() {
  state.boot = (await kept.get("bootstrap")) || null;
  etag = (await kept.get("bootstrap_etag")) || null;
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
  renderOuting();
  renderTally();
  chooseZone();
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
    $("signin-error").textContent = t("No network: sign in again when you are back online.");
    return;
  }
  if (!response.ok) {
    let message = t("Sign-in failed.");
    try { message = (await response.json()).error || message; } catch (error) { /* keep the default */ }
    $("signin-error").textContent = message;
    return;
  }
  $("signin-error").textContent = "";
  $("signin-password").value = "";
  showSignIn(false);
  await outbox.signedIn();
  await loadBootstrap();
  outbox.syncNow();
}

// Sign out on a shared phone: warn about unsent entries (they stay, locked to their author),
// then delete the person's sent entries, the bootstrap copy and the outing in progress.
async function signOut(event) {
  event.preventDefault();
  const unsent = await outbox.pendingCount();
  const warning = many(unsent)
    ? t("{n} entries have not been sent yet. They stay on this phone and will be sent when you sign in again. Sign out?", { n: unsent })
    : t("1 entry has not been sent yet. It stays on this phone and will be sent when you sign in again. Sign out?");
  if (unsent && !window.confirm(warning)) return;
  await outbox.forget();
  await kept.clear();
  state.boot = null;
  etag = null;
  event.target.submit();
}

// Where the browser offers it; on an iPhone, how; nothing once installed.
function offerInstall() {
  if (matchMedia("(display-mode: standalone)").matches || navigator.standalone) return;
  if (/iPhone|iPad/.test(navigator.userAgent)) $("install-ios").hidden = false;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    $("install").hidden = false;
    $("install").onclick = () => { $("install").hidden = true; event.prompt(); };
  });
}

export function init() {
  $("signin-form").addEventListener("submit", signIn);
  $("header-signout").addEventListener("submit", signOut);
  offerInstall();
}
