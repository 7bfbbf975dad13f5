// Outings: start one, join one planned (warned when it is for another day), tally (full screen,
// with undo), end with a debrief. The outing in progress is an outbox entry, a new version per tap.
import * as outbox from "./outbox.js";
import { $, el, isoNow, t } from "./page.js";
import { kept, labelOf, labels, lang, many, state, timeText, toast } from "./field-context.js";
import { chooseZone } from "./field-encounter.js";

const undo = [];

async function begin(id, data) {
  state.current = { id, data };
  await kept.set("current_outing", state.current);
  $("outing-none").open = false;
  render();
  chooseZone();
  toast(t("Outing started."));
}

async function start(event) {
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
    toast(error.message, "error");
    return;
  }
  await begin(id, data);
}

const dayText = (day) => new Date(`${day}T12:00:00`).toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long" });

async function join(outing) {
  const today = isoNow().slice(0, 10);
  if (outing.status === "planned" && outing.planned_date && outing.planned_date !== today &&
      !window.confirm(t("This outing is planned for {day}, not today. Join it anyway?", { day: dayText(outing.planned_date) }))) {
    return;
  }
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
  await begin(outing.id, existing ? existing.data : data);
}

async function end() {
  if (!state.current) return;
  const data = { ...state.current.data, ended_at: isoNow(), debrief: $("debrief").value.trim() };
  try {
    await outbox.update(state.current.id, data);
  } catch (error) {
    toast(error.message, "error");
    return;
  }
  state.current = null;
  undo.length = 0;
  await kept.set("current_outing", null);
  $("debrief").value = "";
  render();
  chooseZone();
  toast(t("Outing ended. Thank you!"));
}

async function tally(tool, step) {
  if (!state.current) return;
  const tallies = { ...state.current.data.tallies };
  tallies[tool] = Math.max(0, (tallies[tool] || 0) + step);
  state.current = { ...state.current, data: { ...state.current.data, tallies } };
  renderTally(); // show the count at once; IndexedDB keeps the taps in order behind it
  await kept.set("current_outing", state.current);
  await outbox.update(state.current.id, state.current.data);
}

export function renderTally() {
  const counts = state.current ? state.current.data.tallies : {};
  const tools = state.boot ? state.boot.tools : Object.entries(labels.tool).map(([code, label]) => ({ code, label }));
  $("tally-grid").replaceChildren(...tools.map((tool) => el("button", { type: "button", className: "tally-button", dataset: { tool: tool.code } },
    el("span", { className: "tally-count" }, String(counts[tool.code] || 0)), el("span", { className: "tally-label" }, tool.label))));
  $("tally-undo").disabled = !undo.length;
}

function showTally(show) {
  $("tally-panel").hidden = !show;
  document.body.classList.toggle("tally-on", show);
  $("toast").hidden = true; // it would cover the counts
  if (show) { renderTally(); $("tally-title").focus(); } else $("tally-open").focus();
}

export function render() {
  const current = state.current;
  $("outing-current").hidden = !current;
  $("outing-none").hidden = Boolean(current);
  if (current) {
    const d = current.data;
    $("outing-summary").textContent = t("In progress: {format}, {zone}, since {time}.", {
      format: labelOf("format", d.format), zone: labelOf("zone", d.zone) || t("no zone"), time: timeText(d.started_at),
    });
  } else if (!$("tally-panel").hidden) {
    showTally(false);
  }
  renderPlanned();
}

function renderPlanned() {
  const planned = ((state.boot && state.boot.outings) || []).filter((o) => !state.current || o.id !== state.current.id);
  const n = planned.length;
  $("outing-none-text").textContent = !n ? t("No outing in progress")
    : many(n) ? t("No outing in progress · {n} planned", { n }) : t("No outing in progress · 1 planned");
  $("planned-title").hidden = !n;
  $("planned-outings").replaceChildren(...planned.map((o) => {
    const hours = o.planned_start ? ` ${o.planned_start}${o.planned_end ? "–" + o.planned_end : ""}` : "";
    const when = o.status === "started" ? t("started at {time}", { time: timeText(o.started_at) }) : o.planned_date ? dayText(o.planned_date) + hours : "";
    const names = (o.members || []).map((m) => m.display_name).join(", ");
    const what = el("span", { id: `planned-${o.id}` }, `${labelOf("format", o.format)} · ${labelOf("zone", o.zone)} · ${when}`);
    const button = el("button", { type: "button", className: "button" }, t("Join"));
    button.setAttribute("aria-describedby", what.id);
    button.addEventListener("click", () => join(o));
    const meet = o.meeting_point ? el("span", { className: "muted" }, t("Meeting point: {place}", { place: o.meeting_point })) : null;
    return el("li", { className: "planned", dataset: { id: o.id } }, what, meet, names ? el("span", { className: "muted" }, names) : null, button);
  }));
}

export async function init() {
  $("outing-start").addEventListener("submit", start);
  $("outing-end-open").addEventListener("click", () => { $("outing-end-dialog").returnValue = ""; $("outing-end-dialog").showModal(); });
  $("outing-end-dialog").addEventListener("close", () => { if ($("outing-end-dialog").returnValue === "end") end(); });
  $("tally-open").addEventListener("click", () => showTally(true));
  $("tally-close").addEventListener("click", () => showTally(false));
  $("tally-grid").addEventListener("click", (e) => {
    const button = e.target.closest("[data-tool]");
    if (!button) return;
    undo.push(button.dataset.tool);
    tally(button.dataset.tool, 1);
  });
  $("tally-undo").addEventListener("click", () => { const tool = undo.pop(); if (tool) tally(tool, -1); });
  state.current = (await kept.get("current_outing")) || null;
}
