// The encounter form: three taps (place, tools, outcome) on one screen save an encounter in the
// outbox; then a toast offers "Undo" and the form is back at its top, place and zone kept.
// Also corrects a refused entry.
import * as outbox from "./outbox.js";
import { $, isoNow, locate, t } from "./page.js";
import { kept, state, toast, urls } from "./field-context.js";
import { zoneAt } from "./zones.js";

const form = $("encounter-form");
const UNDO_MS = 5000; // a new encounter waits this long on the phone, for "Undo"
const LEGACY_PLACE_KEY = "outreach.place_type"; // before the app store

let editing = null; // the entry being corrected: {id, occurred_at, outing_id}
let position = null;
let rememberedPlace = null;
let lastZone = null;

function checkedValues(name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function encounterData(outcome) {
  const current = state.current;
  const data = {
    occurred_at: editing ? editing.occurred_at : isoNow(),
    outing_id: editing ? editing.outing_id : (current ? current.id : null),
    place_type: (form.querySelector('input[name="place_type"]:checked') || {}).value || "other",
    zone: $("encounter-zone").value || null,
    location: position,
    people_count: Number($("people-count").value || 1),
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

// What the phone can say at once; the server checks the rest.
function problems(data) {
  const people = $("people-count");
  const min = Number(people.min);
  const max = Number((state.boot && state.boot.limits && state.boot.limits.people_count_max) || people.max);
  if (!Number.isInteger(data.people_count) || data.people_count < min || data.people_count > max) {
    return [people, t("The number of people must be between {min} and {max}.", { min, max })];
  }
  if (data.follow_up) {
    if (!data.follow_up.consent) return [$("consent"), t("Without the person's consent, no contact is kept. Tick the box or untick the follow-up.")];
    if (!$("contact").checkValidity()) {
      return [$("contact"), data.follow_up.channel === "email" ? t("Enter a valid email address.") : t("Enter a valid phone number.")];
    }
  }
  return null;
}

async function save(event) {
  event.preventDefault();
  const outcome = event.submitter && event.submitter.value;
  if (!outcome) return;
  const data = encounterData(outcome);
  const problem = problems(data);
  if (problem) {
    const [field, message] = problem;
    form.querySelector("details").open = true;
    toast(message, "error");
    field.focus();
    return;
  }
  const id = editing ? editing.id : outbox.newId();
  const corrected = Boolean(editing);
  try {
    if (editing) {
      await outbox.update(id, data);
    } else {
      await outbox.enqueue({ id, kind: "encounter", version: 1, created_at: isoNow(), data }, { hold: UNDO_MS });
    }
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  rememberedPlace = data.place_type;
  kept.set("place_type", data.place_type);
  if (data.zone) { lastZone = data.zone; kept.set("zone", data.zone); }
  reset();
  window.scrollTo(0, 0);
  if (corrected) toast(t("Correction saved. It will be sent again."));
  else toast(t("Encounter saved."), "ok", () => undo(id));
  // A small worksite to file with the resident, linked to this encounter.
  $("report-with-link").href = `${urls.report}?encounter=${encodeURIComponent(id)}`;
  $("report-with").classList.add("is-shown");
}

async function undo(id) {
  toast(await outbox.cancel(id) ? t("Encounter removed.") : t("Already sent: it stays."), "ok");
}

// The zone of the next encounter: the outing's, else the position's (outlines from bootstrap,
// offline too), else the last one used.
export function chooseZone() {
  const select = $("encounter-zone");
  const zone = (state.current && state.current.data.zone) ||
    (position && state.boot && zoneAt(state.boot.zone_outlines, position.lat, position.lon)) || lastZone;
  if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
}

// The browser checks an e-mail address.
function contactKind() {
  $("contact").type = $("channel").value === "email" ? "email" : "tel";
  $("contact").required = $("follow-up-toggle").checked;
}

function showFollowUp(show) {
  $("follow-up").hidden = !show;
  contactKind();
}

function checkRememberedPlace() {
  const radio = rememberedPlace && form.querySelector(`input[name="place_type"][value="${CSS.escape(rememberedPlace)}"]`);
  if (radio) radio.checked = true;
}

export function reset() {
  form.reset();
  checkRememberedPlace();
  chooseZone();
  setPosition(null);
  showFollowUp(false);
  form.querySelector("details").open = false;
  editing = null;
  $("editing-notice").hidden = true;
  $("encounter-title").textContent = t("New encounter");
}

// Open an entry that needs attention, to correct it.
export function edit(item) {
  reset();
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
    $("consent").checked = d.follow_up.consent === true;
    $("channel").value = d.follow_up.channel;
    $("contact").value = d.follow_up.contact || "";
    $("contact-name").value = d.follow_up.name || "";
    for (const p of d.follow_up.purposes || []) set("purposes", p);
    showFollowUp(true);
  }
  form.querySelector("details").open = true;
  $("editing-notice").hidden = false;
  $("encounter-title").textContent = t("Correct an encounter");
  if (item.message) toast(item.message, "error");
  form.scrollIntoView();
  $("encounter-title").focus();
}

function setPosition(value) {
  position = value;
  $("unlocate").hidden = !value;
  $("position-status").textContent = value
    ? t("Position added (about {m} m).", { m: Math.max(100, Math.round(value.accuracy_m || 100)) })
    : t("Only when you tap; kept rounded to about 100 m.");
}

function askPosition() {
  if (!navigator.geolocation) {
    $("position-status").textContent = t("This phone cannot give a position.");
    return;
  }
  $("position-status").textContent = t("Looking for the position…");
  // Rounded on the phone too (about 100 m): a doorstep never leaves it.
  locate(3, { timeout: 15000 }).then(
    (p) => { setPosition(p); chooseZone(); },
    () => { $("position-status").textContent = t("No position: permission refused or no signal."); },
  );
}

export async function init() {
  form.addEventListener("submit", save);
  $("edit-cancel").addEventListener("click", reset);
  $("locate").addEventListener("click", askPosition);
  $("unlocate").addEventListener("click", () => setPosition(null));
  $("follow-up-toggle").addEventListener("change", (e) => showFollowUp(e.target.checked));
  $("channel").addEventListener("change", contactKind);
  reset(); // usable at once, before IndexedDB answers
  rememberedPlace = (await kept.get("place_type")) || localStorage.getItem(LEGACY_PLACE_KEY);
  lastZone = (await kept.get("zone")) || null;
  if (!editing) { checkRememberedPlace(); chooseZone(); }
}
