// What the field modules share: the page's labels and URLs, this phone's state, and the toast.
import { APP, clearStore, read, write } from "./outbox-store.js";
import { $, pageData, t } from "./page.js";

export const labels = pageData("labels"); // {table: {code: label}}
export const urls = pageData("urls");
export const lang = document.documentElement.lang || "fr";

export const state = {
  boot: null, // the bootstrap answer (network or kept copy)
  current: null, // the outing in progress on this phone: {id, data}
};

// The field app's own keys on the phone, apart from the outbox's meta.
export const kept = {
  get: (key) => read(APP, key),
  set: (key, value) => write(APP, key, value),
  clear: () => clearStore(APP), // sign-out on a shared phone
};

// Whether `n` takes the plural in the page's language (French: "0 saisie", "2 saisies").
export const many = (n) => (lang === "fr" ? n > 1 : n !== 1);

export const labelOf = (table, code) => (labels[table] && labels[table][code]) || code || "";

// A time as a person reads it: "14:05" today, "3 mars, 14:05" another day.
export function timeText(iso) {
  if (!iso) return t("never");
  const d = new Date(iso);
  const time = d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === new Date().toDateString() ? time
    : `${d.toLocaleDateString(lang, { day: "numeric", month: "long" })}, ${time}`;
}

let toastTimer = null;

// Every confirmation and error, where the eyes are, read out (at once for an error); `undo` is
// offered while it shows.
export function toast(text, kind = "ok", undo = null) {
  const box = $("toast");
  const button = $("toast-undo");
  box.setAttribute("aria-live", kind === "error" ? "assertive" : "polite");
  $("toast-text").textContent = text;
  box.className = `toast is-${kind}`;
  box.hidden = false;
  button.hidden = !undo;
  button.onclick = async () => { box.hidden = true; await undo(); };
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 5000);
}
