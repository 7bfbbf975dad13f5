// The outbox in view: the header's line (a tap opens the details), "Sync now", and the list of
// entries on this phone with what to do about a refused one.
import * as outbox from "./outbox.js";
import { $, el, stateText, t } from "./page.js";
import { edit } from "./field-encounter.js";
import { refreshBootstrap, showSignIn } from "./field-session.js";
import { labelOf, lang, many, state, timeText, toast } from "./field-context.js";

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
  return t("Report · {title}", { title: d.title || "" });
}

let renderTimer = null;

// A burst of changes (a sync of hundreds of entries) is one redraw.
function renderSoon() {
  clearTimeout(renderTimer);
  renderTimer = setTimeout(render, 150);
}

export async function render() {
  const pending = await outbox.pendingCount();
  $("pending-count").textContent = String(pending);
  $("pending-label").textContent = many(pending) ? t("entries waiting") : t("entry waiting");
  const last = await outbox.lastSyncedAt();
  $("last-sync").textContent = timeText(last);
  $("last-sync-long").textContent = timeText(last);
  $("sync-status").dataset.pending = pending ? "1" : "0";
  const shown = await outbox.recent(50);
  const shownIds = new Set(shown.map((i) => i.id));
  // Entries that need attention are on screen however old.
  const attention = (await outbox.needingAttention()).filter((i) => !shownIds.has(i.id));
  const items = [...attention, ...shown];
  $("outbox-empty").hidden = items.length > 0;
  $("outbox-list").replaceChildren(...items.map(row));
}

function row(item) {
  const li = el("li", { className: `outbox-item state-${item.state}`, dataset: { id: item.id, state: item.state } },
    el("span", { className: "outbox-what" }, describe(item)),
    el("span", { className: `badge badge-${item.state}` }, stateText()[item.state] || item.state));
  if (item.state !== "sent" && item.owner != null && state.boot && item.owner !== state.boot.user.id) {
    li.append(el("p", { className: "outbox-message" }, t("Entered under another account: it will be sent when that person signs in on this phone.")));
  }
  if (item.state === "attention") {
    li.append(el("p", { className: "outbox-message" }, item.message || ""));
    const buttons = el("div", { className: "button-row" });
    if (item.kind === "encounter") {
      const fix = el("button", { type: "button", className: "button" }, t("Correct"));
      fix.addEventListener("click", () => edit(item));
      buttons.append(fix);
    }
    const again = el("button", { type: "button", className: "button" }, t("Send again"));
    again.addEventListener("click", () => outbox.update(item.id, item.data));
    const drop = el("button", { type: "button", className: "button button-danger" }, t("Delete"));
    drop.addEventListener("click", () => {
      if (window.confirm(t("Delete this entry from the phone? It has not reached the server."))) outbox.discard(item.id);
    });
    buttons.append(again, drop);
    li.append(buttons);
  }
  return li;
}

let asked = false; // "Sync now" was tapped: say how it went (the timer's syncs stay quiet)

function onEvent(event) {
  if (event.type === "auth") showSignIn(true);
  if (asked && event.type === "offline") toast(t("No network: entries wait safely on the phone."), "warn");
  if (asked && event.type === "retry") {
    toast(t("The server cannot be reached; next try at {time}.", { time: new Date(event.at).toLocaleTimeString(lang) }), "warn");
  }
  if (event.type === "synced") {
    resendOutingConflicts();
    if (event.sent) showSignIn(false); // the server took entries: the session is good
    refreshBootstrap(event.bootstrap).then(() => { if (asked) toast(t("Sync done.")); });
  }
  if (["offline", "retry", "synced", "auth"].includes(event.type)) asked = false;
  if (event.type === "storage" && event.quota) {
    const mb = (n) => Math.round(n / 1e6);
    $("storage-info").textContent = t("Storage used: {used} MB of {quota} MB.", { used: mb(event.usage || 0), quota: mb(event.quota) })
      + (event.persisted ? "" : " " + t("The browser may clear it if the phone runs out of space."));
  }
  renderSoon();
}

// Teammates on one outing send the same outing id, so one phone gets a conflict. The server adds
// up each phone's own taps: sending again with a higher version loses nothing (once per entry).
const resent = new Set();
async function resendOutingConflicts() {
  for (const item of await outbox.needingAttention()) {
    if (item.kind === "outing" && item.current_version && !resent.has(item.id)) {
      resent.add(item.id);
      await outbox.update(item.id, item.data);
    }
  }
}

export function init() {
  $("sync-now").addEventListener("click", () => { asked = true; outbox.syncNow(); });
  $("sync-status").addEventListener("click", () => {
    const open = $("sync-panel").hidden;
    $("sync-panel").hidden = !open;
    $("sync-status").setAttribute("aria-expanded", String(open));
  });
  outbox.onChange(onEvent);
}
