// The field app: encounters in three taps, outings with tallies, and the outbox always in view.
// The page is the same for everyone (the service worker keeps it); the worker's own data comes
// from /api/v1/bootstrap and is kept in IndexedDB for the days without network.
import * as outbox from "./outbox.js";
import { t } from "./i18n.js";
import { zoneAt } from "./zones.js";

const $ = (id) => document.getElementById(id);
const labels = JSON.parse($("labels").textContent);
const urls = labels.urls;
const lang = document.documentElement.lang || "fr";
const form = $("encounter-form");
const PLACE_KEY = "outreach.place_type";

let boot = null; // the bootstrap answer (network or kept copy)
let current = null; // the outing in progress on this phone: {id, data}
let editing = null; // the entry being corrected: {id, occurred_at, outing_id}
let position = null;
const undo = [];

// --- small helpers ----------------------------------------------------------------------

function isoNow() {
  // Local time with its offset: the server wants ISO 8601 with an offset.
  const d = new Date();
  const pad = (n) => String(Math.abs(n)).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:` +
    `${pad(d.getSeconds())}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

function timeText(iso) {
  if (!iso) return t("never");
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString(lang, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function say(id, text, kind) {
  const node = $(id);
  node.textContent = text || "";
  node.className = (node.className.replace(/\bis-\w+/g, "").trim() + (kind ? ` is-${kind}` : "")).trim();
}

function checkedValues(name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function labelOf(table, code) {
  return (labels[table] && labels[table][code]) || code || "";
}

// --- bootstrap (reference data, outings planned for me, teammates) -----------------------

async function loadBootstrap() {
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
  boot = await response.json();
  await outbox.setMeta("bootstrap", boot);
  await outbox.setOwner(boot.user.id);
  showSignIn(false);
  applyBootstrap();
}

function applyBootstrap() {
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
  const mates = $("teammates");
  mates.replaceChildren(...(boot.teammates || []).map((m) =>
    el("label", { className: "checkbox" }, el("input", { type: "checkbox", name: "member", value: String(m.id) }), el("span", {}, m.display_name))));
  $("teammates-fieldset").hidden = !(boot.teammates || []).length;
  renderPlanned();
  renderTally();
}

function fillToggles(container, type, name, items) {
  const chosen = new Set(checkedValues(name));
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

// --- signing in again --------------------------------------------------------------------

function showSignIn(show) {
  $("signin").hidden = !show;
  $("header-signout").hidden = show;
  // Someone who never signed in on this phone is not asked to sign in "again".
  for (const node of document.querySelectorAll(".signin-again")) node.hidden = !boot;
  for (const node of document.querySelectorAll(".signin-first")) node.hidden = Boolean(boot);
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
  await outbox.setMeta("auth_required", false);
  await loadBootstrap();
  outbox.syncNow();
}

// --- encounters ----------------------------------------------------------------------------

function encounterData(outcome) {
  const people = Number($("people-count").value || 1);
  const data = {
    occurred_at: editing ? editing.occurred_at : isoNow(),
    outing_id: editing ? editing.outing_id : (current ? current.id : null),
    place_type: (form.querySelector('input[name="place_type"]:checked') || {}).value || "other",
    zone: $("encounter-zone").value || (current ? current.data.zone : null) || null,
    location: position,
    people_count: people,
    outcome,
    tools: checkedValues("tools"),
    interest: (form.querySelector('input[name="interest"]:checked') || {}).value || "none",
    audience: null,
    note: $("note").value.trim(),
    follow_up: null,
  };
  if ($("age-band").value || $("language").value) {
    data.audience = { age_band: $("age-band").value || null, language: $("language").value || null };
  }
  if ($("follow-up-toggle").checked) {
    data.follow_up = {
      consent: $("consent").checked,
      consent_text_version: $("consent-text").dataset.version,
      channel: $("channel").value,
      contact: $("contact").value.trim(),
      name: $("contact-name").value.trim(),
      purposes: checkedValues("purposes"),
    };
  }
  return data;
}

function problems(data) {
  if (!Number.isInteger(data.people_count) || data.people_count < 1 || data.people_count > 200) {
    return [$("people-count"), t("The number of people must be between 1 and 200.")];
  }
  if (data.follow_up) {
    if (!data.follow_up.consent) return [$("consent"), t("Without the person's consent, no contact is kept. Tick the box or untick the follow-up.")];
    const contact = data.follow_up.contact;
    if (data.follow_up.channel === "email" && !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(contact)) {
      return [$("contact"), t("Enter a valid email address.")];
    }
    if (data.follow_up.channel !== "email" && !/^\+?[0-9 .()-]{6,24}$/.test(contact)) {
      return [$("contact"), t("Enter a valid phone number.")];
    }
  }
  return null;
}

async function saveEncounter(event) {
  event.preventDefault();
  const outcome = event.submitter && event.submitter.value;
  if (!outcome) return;
  const data = encounterData(outcome);
  const problem = problems(data);
  if (problem) {
    const [field, message] = problem;
    form.querySelector("details").open = true;
    say("form-message", message, "error");
    field.focus();
    return;
  }
  const id = editing ? editing.id : outbox.newId();
  try {
    if (editing) {
      await outbox.update(id, data);
    } else {
      await outbox.enqueue({ id, kind: "encounter", version: 1, created_at: isoNow(), data });
    }
  } catch (error) {
    say("form-message", error.message, "error");
    return;
  }
  localStorage.setItem(PLACE_KEY, data.place_type);
  say("form-message", editing ? t("Correction saved. It will be sent again.") : t("Encounter saved on the phone."), "ok");
  resetForm();
  // The resident may have a small worksite in mind: file it together, linked to this encounter.
  if (urls.report) {
    $("report-with-link").href = `${urls.report}?encounter=${encodeURIComponent(id)}`;
    $("report-with").hidden = false;
  }
}

function resetForm() {
  const place = localStorage.getItem(PLACE_KEY);
  form.reset();
  if (place) {
    const radio = form.querySelector(`input[name="place_type"][value="${CSS.escape(place)}"]`);
    if (radio) radio.checked = true;
  }
  setPosition(null);
  $("follow-up").hidden = true;
  form.querySelector("details").open = false;
  editing = null;
  $("editing-notice").hidden = true;
  $("encounter-title").textContent = t("New encounter");
}

function editEncounter(item) {
  resetForm();
  const d = item.data;
  editing = { id: item.id, occurred_at: d.occurred_at, outing_id: d.outing_id || null };
  const set = (name, value) => {
    const input = form.querySelector(`input[name="${name}"][value="${CSS.escape(String(value))}"]`);
    if (input) input.checked = true;
  };
  set("place_type", d.place_type);
  set("interest", d.interest || "none");
  for (const tool of d.tools || []) set("tools", tool);
  $("people-count").value = d.people_count;
  $("encounter-zone").value = d.zone || "";
  $("note").value = d.note || "";
  $("age-band").value = (d.audience && d.audience.age_band) || "";
  $("language").value = (d.audience && d.audience.language) || "";
  setPosition(d.location || null);
  if (d.follow_up) {
    $("follow-up-toggle").checked = true;
    $("follow-up").hidden = false;
    $("consent").checked = d.follow_up.consent === true;
    $("channel").value = d.follow_up.channel;
    $("contact").value = d.follow_up.contact || "";
    $("contact-name").value = d.follow_up.name || "";
    for (const p of d.follow_up.purposes || []) set("purposes", p);
  }
  form.querySelector("details").open = true;
  $("editing-notice").hidden = false;
  $("encounter-title").textContent = t("Correct an encounter");
  if (item.message) say("form-message", item.message, "error");
  form.scrollIntoView();
  $("encounter-title").focus();
}

function setPosition(value) {
  position = value;
  // A position gives the zone, offline too, unless the worker or the outing already chose one.
  const zone = $("encounter-zone");
  if (value && !zone.value && !(current && current.data.zone) && boot) {
    const found = zoneAt(boot.zone_outlines, value.lat, value.lon);
    if (found) zone.value = found;
  }
  $("unlocate").hidden = !value;
  $("position-status").textContent = value
    ? t("Position added (about {m} m).", { m: Math.max(100, Math.round(value.accuracy_m || 100)) })
    : t("Only when you tap; kept rounded to about 100 m.");
}

function locate() {
  if (!navigator.geolocation) {
    $("position-status").textContent = t("This phone cannot give a position.");
    return;
  }
  $("position-status").textContent = t("Looking for the position…");
  navigator.geolocation.getCurrentPosition(
    (p) => setPosition({
      // Rounded on the phone too: a doorstep never leaves it.
      lat: Math.round(p.coords.latitude * 1000) / 1000,
      lon: Math.round(p.coords.longitude * 1000) / 1000,
      accuracy_m: Math.round(p.coords.accuracy),
    }),
    () => { $("position-status").textContent = t("No position: permission refused or no signal."); },
    { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 },
  );
}

// --- outings -------------------------------------------------------------------------------

async function saveCurrent() {
  await outbox.setMeta("current_outing", current);
}

async function startOuting(event) {
  event.preventDefault();
  const data = {
    zone: $("outing-zone").value || null,
    format: $("outing-format").value,
    started_at: isoNow(),
    ended_at: null,
    members: [...document.querySelectorAll('input[name="member"]:checked')].map((i) => Number(i.value)),
    tallies: {},
    debrief: "",
  };
  const id = outbox.newId();
  try {
    await outbox.enqueue({ id, kind: "outing", version: 1, created_at: isoNow(), data });
  } catch (error) {
    say("form-message", error.message, "error");
    return;
  }
  current = { id, data };
  await saveCurrent();
  $("outing-start-details").open = false;
  renderOuting();
}

async function joinOuting(outing) {
  const data = {
    zone: outing.zone || null,
    format: outing.format,
    started_at: outing.started_at || isoNow(),
    ended_at: null,
    members: (outing.members || []).map((m) => m.id),
    tallies: outing.tallies || {},
    debrief: "",
  };
  const existing = await outbox.get(outing.id);
  if (!existing) {
    await outbox.enqueue({ id: outing.id, kind: "outing", version: (outing.version || 0) + 1, created_at: isoNow(), data });
  }
  current = { id: outing.id, data: existing ? existing.data : data };
  await saveCurrent();
  renderOuting();
}

async function endOuting(event) {
  event.preventDefault();
  if (!current) return;
  const data = { ...current.data, ended_at: isoNow(), debrief: $("debrief").value.trim() };
  try {
    await outbox.update(current.id, data);
  } catch (error) {
    say("form-message", error.message, "error");
    return;
  }
  current = null;
  undo.length = 0;
  await saveCurrent();
  $("debrief").value = "";
  $("tally-panel").hidden = true;
  say("form-message", t("Outing ended. Thank you!"), "ok");
  renderOuting();
}

async function tally(tool, step) {
  if (!current) return;
  const tallies = { ...current.data.tallies };
  tallies[tool] = Math.max(0, (tallies[tool] || 0) + step);
  current = { ...current, data: { ...current.data, tallies } };
  renderTally(); // show the count at once; IndexedDB keeps the taps in order behind it
  await saveCurrent();
  await outbox.update(current.id, current.data);
}

function renderTally() {
  const counts = current ? current.data.tallies : {};
  const tools = boot ? boot.tools : Object.entries(labels.tool).map(([code, label]) => ({ code, label }));
  const grid = $("tally-grid");
  grid.replaceChildren(...tools.map((tool) => el("button", { type: "button", className: "tally-button", dataset: { tool: tool.code } },
    el("span", { className: "tally-count" }, String(counts[tool.code] || 0)), el("span", { className: "tally-label" }, tool.label))));
  $("tally-undo").disabled = !undo.length;
}

function renderOuting() {
  $("outing-current").hidden = !current;
  $("outing-none").hidden = Boolean(current);
  if (current) {
    const d = current.data;
    $("outing-summary").textContent = t("In progress: {format}, {zone}, since {time}.", {
      format: labelOf("format", d.format), zone: labelOf("zone", d.zone) || t("no zone"), time: timeText(d.started_at),
    });
  } else {
    $("tally-panel").hidden = true;
  }
  renderPlanned();
}

function renderPlanned() {
  const planned = ((boot && boot.outings) || []).filter((o) => !current || o.id !== current.id);
  $("planned-block").hidden = !planned.length;
  $("planned-outings").replaceChildren(...planned.map((o) => {
    const day = o.planned_date
      ? new Date(`${o.planned_date}T12:00:00`).toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long" })
      : "";
    const when = o.status === "started" ? t("started at {time}", { time: timeText(o.started_at) }) : day;
    const names = (o.members || []).map((m) => m.display_name).join(", ");
    const what = el("span", { id: `planned-${o.id}` }, `${labelOf("format", o.format)} · ${labelOf("zone", o.zone)} · ${when}`);
    const button = el("button", { type: "button", className: "button" }, t("Join"));
    button.setAttribute("aria-describedby", what.id);
    button.addEventListener("click", () => joinOuting(o));
    return el("li", { className: "planned" }, what, names ? el("span", { className: "muted" }, names) : null, button);
  }));
}

// --- the outbox, always in view ----------------------------------------------------------------

const STATE_TEXT = () => ({ waiting: t("Waiting"), sending: t("Sending…"), sent: t("Sent"), attention: t("Needs attention") });

function describe(item) {
  const d = item.data || {};
  if (item.kind === "encounter") {
    return t("Encounter · {place} · {outcome} · {time}", {
      place: labelOf("place_type", d.place_type), outcome: labelOf("outcome", d.outcome), time: timeText(d.occurred_at),
    });
  }
  if (item.kind === "outing") {
    return t("Outing · {format} · {time}", { format: labelOf("format", d.format), time: timeText(d.started_at) })
      + (d.ended_at ? " · " + t("ended") : "");
  }
  return `${item.kind} · ${d.title || ""}`;
}

let renderTimer = null;

// Redraw at most every 150 ms: a burst of changes (a sync of hundreds of entries) is one redraw.
function renderOutboxSoon() {
  clearTimeout(renderTimer);
  renderTimer = setTimeout(renderOutbox, 150);
}

async function renderOutbox() {
  const pending = await outbox.pendingCount();
  $("pending-count").textContent = String(pending);
  $("pending-label").textContent = pending === 1 ? t("entry waiting") : t("entries waiting");
  $("last-sync").textContent = timeText(await outbox.lastSyncedAt());
  const states = STATE_TEXT();
  const shown = await outbox.recent(50);
  const shownIds = new Set(shown.map((i) => i.id));
  // Entries that need attention are always on screen, however old.
  const attention = (await outbox.needingAttention()).filter((i) => !shownIds.has(i.id));
  const items = [...attention, ...shown];
  $("outbox-empty").hidden = items.length > 0;
  $("outbox-list").replaceChildren(...items.map((item) => {
    const li = el("li", { className: `outbox-item state-${item.state}`, dataset: { id: item.id, state: item.state } },
      el("span", { className: "outbox-what" }, describe(item)),
      el("span", { className: `badge badge-${item.state}` }, states[item.state] || item.state));
    if (item.state !== "sent" && item.owner != null && boot && item.owner !== boot.user.id) {
      li.append(el("p", { className: "outbox-message" }, t("Entered under another account: it will be sent when that person signs in on this phone.")));
    }
    if (item.state === "attention") {
      li.append(el("p", { className: "outbox-message" }, item.message || ""));
      const row = el("div", { className: "button-row" });
      if (item.kind === "encounter") {
        const fix = el("button", { type: "button", className: "button" }, t("Correct"));
        fix.addEventListener("click", () => editEncounter(item));
        row.append(fix);
      }
      const again = el("button", { type: "button", className: "button" }, t("Send again"));
      again.addEventListener("click", () => outbox.update(item.id, item.data));
      const drop = el("button", { type: "button", className: "button button-danger" }, t("Delete"));
      drop.addEventListener("click", () => {
        if (window.confirm(t("Delete this entry from the phone? It has not reached the server."))) outbox.discard(item.id);
      });
      row.append(again, drop);
      li.append(row);
    }
    return li;
  }));
}

async function onOutboxEvent(event) {
  if (event.type === "auth") showSignIn(true);
  if (event.type === "offline") say("sync-message", t("No network: entries wait safely on the phone."), "warn");
  if (event.type === "syncing") say("sync-message", t("Sending…"));
  if (event.type === "retry") {
    say("sync-message", t("The server cannot be reached; next try at {time}.", { time: new Date(event.at).toLocaleTimeString(lang) }), "warn");
  }
  if (event.type === "synced") {
    resendOutingConflicts();
    say("sync-message", "");
    if (event.sent) showSignIn(false); // the server took entries: the session is good
  }
  if (event.type === "storage" && event.quota) {
    const mb = (n) => Math.round(n / 1e6);
    $("storage-info").textContent = t("Storage used: {used} MB of {quota} MB.", { used: mb(event.usage || 0), quota: mb(event.quota) })
      + (event.persisted ? "" : " " + t("The browser may clear it if the phone runs out of space."));
  }
  renderOutboxSoon();
}

// Teammates on one outing send the same outing id from their phones, so one of them gets a
// conflict (same version). The server adds up each phone's own taps, so sending again with a
// higher version loses nothing: do it once per entry, on its own (a refusal stays shown).
const resent = new Set();
async function resendOutingConflicts() {
  for (const item of await outbox.needingAttention()) {
    if (item.kind === "outing" && item.current_version && !resent.has(item.id)) {
      resent.add(item.id);
      await outbox.update(item.id, item.data);
    }
  }
}

// --- the service worker and new versions -----------------------------------------------------

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || !urls.sw) return;
  let reg;
  try {
    reg = await navigator.serviceWorker.register(urls.sw, { type: "module", scope: "/" });
  } catch (error) {
    console.warn("service worker not registered", error);
    return;
  }
  const offer = () => { if (reg.waiting && navigator.serviceWorker.controller) $("update-banner").hidden = false; };
  offer();
  reg.addEventListener("updatefound", () => {
    const worker = reg.installing;
    if (worker) worker.addEventListener("statechange", () => { if (worker.state === "installed") offer(); });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !$("update-banner").dataset.asked) return;
    reloading = true;
    window.location.reload();
  });
  $("reload-app").addEventListener("click", async () => {
    $("update-banner").dataset.asked = "1";
    // The new version takes over only between syncs, never in the middle of one.
    await outbox.betweenSyncs(async () => { if (reg.waiting) reg.waiting.postMessage({ type: "skip-waiting" }); });
  });
  window.outreachServiceWorker = reg;
}

// --- start -------------------------------------------------------------------------------------

async function init() {
  form.addEventListener("submit", saveEncounter);
  $("edit-cancel").addEventListener("click", () => { resetForm(); say("form-message", ""); });
  $("locate").addEventListener("click", locate);
  $("unlocate").addEventListener("click", () => setPosition(null));
  $("follow-up-toggle").addEventListener("change", (e) => { $("follow-up").hidden = !e.target.checked; });
  $("outing-start").addEventListener("submit", startOuting);
  $("outing-end").addEventListener("submit", endOuting);
  $("tally-open").addEventListener("click", () => { $("tally-panel").hidden = false; renderTally(); $("tally-title").scrollIntoView(); });
  $("tally-close").addEventListener("click", () => { $("tally-panel").hidden = true; });
  $("tally-grid").addEventListener("click", (e) => {
    const button = e.target.closest("[data-tool]");
    if (!button) return;
    undo.push(button.dataset.tool);
    tally(button.dataset.tool, 1);
  });
  $("tally-undo").addEventListener("click", () => { const tool = undo.pop(); if (tool) tally(tool, -1); });
  $("sync-now").addEventListener("click", () => { outbox.syncNow(); });
  $("signin-form").addEventListener("submit", signIn);
  outbox.onChange(onOutboxEvent);
  resetForm();

  boot = (await outbox.getMeta("bootstrap")) || null;
  current = (await outbox.getMeta("current_outing")) || null;
  applyBootstrap();
  renderOuting();
  await renderOutbox();
  if (await outbox.needsSignIn()) showSignIn(true);
  else if (boot) $("header-signout").hidden = false;
  document.body.dataset.ready = "1";
  registerServiceWorker();
  loadBootstrap();
  outbox.start();
}

init();
