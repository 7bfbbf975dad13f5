// What the field page's modules share: the labels and URLs the server rendered into the page,
// the state of this phone (the bootstrap copy, the outing in progress), and the toast where
// every confirmation and error appears.
import { t } from "./i18n.js";
import { $, pageData } from "./page.js";

export const labels = pageData("labels"); // {table: {code: label}} for the codes the page shows
export const urls = pageData("urls");
export const lang = document.documentElement.lang || "fr";

export const state = {
  boot: null, // the bootstrap answer (network or kept copy)
  current: null, // the outing in progress on this phone: {id, data}
};

// Whether `n` takes the plural in the page's language (French: "0 saisie", "2 saisies").
export const many = (n) => (lang === "fr" ? n > 1 : n !== 1);

export function labelOf(table, code) {
  return (labels[table] && labels[table][code]) || code || "";
}

// A time as a person reads it: "14:05" today, "3 mars, 14:05" another day.
export function timeText(iso) {
  if (!iso) return t("never");
  const d = new Date(iso);
  const time = d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === new Date().toDateString() ? time
    : `${d.toLocaleDateString(lang, { day: "numeric", month: "long" })}, ${time}`;
}

// Put a message in the element `id`, styled by kind (ok, warn, error).
export function say(id, text, kind) {
  const node = $(id);
  node.textContent = text || "";
  node.className = (node.className.replace(/\bis-\w+/g, "").trim() + (kind ? ` is-${kind}` : "")).trim();
}

let toastTimer = null;

// A message where the eyes are: fixed at the bottom of the screen, read out by screen readers
// (at once for an error). `undo`, when given, is offered for as long as the toast stays.
export function toast(text, kind = "ok", undo = null) {
  const box = $("toast");
  const button = $("toast-undo");
  box.setAttribute("aria-live", kind === "error" ? "assertive" : "polite");
  say("toast-text", text);
  box.className = `toast is-${kind}`;
  box.hidden = false;
  button.hidden = !undo;
  button.onclick = async () => { box.hidden = true; await undo(); };
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 5000);
}
