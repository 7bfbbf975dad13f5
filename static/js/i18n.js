// Interface strings for scripts: the page puts their translations in <script type="application/json" id="i18n">.
let table = null;

function load() {
  if (table) return table;
  table = {};
  const node = typeof document !== "undefined" && document.getElementById("i18n");
  if (node) {
    try { table = JSON.parse(node.textContent) || {}; } catch (e) { table = {}; }
  }
  return table;
}

// t(msgid, {n: 3}): the message in the page's language, with {name} placeholders filled.
export function t(msgid, values) {
  let text = load()[msgid] || msgid;
  if (values) {
    for (const [key, value] of Object.entries(values)) text = text.split("{" + key + "}").join(String(value));
  }
  return text;
}
