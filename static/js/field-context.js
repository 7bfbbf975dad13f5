// What the field page's modules share: the labels and URLs the server rendered into the page,
// and the state of this phone (the bootstrap copy, the outing in progress).
import { t } from "./i18n.js";
import { $, pageData } from "./page.js";

export const labels = pageData("labels"); // {table: {code: label}} for the codes the page shows
export const urls = pageData("urls");
export const lang = document.documentElement.lang || "fr";

export const state = {
  boot: null, // the bootstrap answer (network or kept copy)
  current: null, // the outing in progress on this phone: {id, data}
};

export function labelOf(table, code) {
  return (labels[table] && labels[table][code]) || code || "";
}

export function timeText(iso) {
  if (!iso) return t("never");
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString(lang, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

// Put a message in the element `id`, styled by kind (ok, warn, error).
export function say(id, text, kind) {
  const node = $(id);
  node.textContent = text || "";
  node.className = (node.className.replace(/\bis-\w+/g, "").trim() + (kind ? ` is-${kind}` : "")).trim();
}
