// "Me too" on open reports near the one a resident is writing, instead of a duplicate. Online
// only: report.js imports this when the network is there; the service worker never precaches it.
import { newId } from "./outbox.js";
import { el, t } from "./page.js";

// Fill `box` with the open reports near `query` ({category, lat, lon}); `say(text, kind)` tells the result of a tap.
export async function showNearby(box, urls, query, say) {
  const response = await fetch(`${urls.nearby}?${new URLSearchParams(query)}`, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const found = (await response.json()).reports || [];
  if (!found.length) return;
  box.append(
    el("h2", {}, t("Already reported nearby")),
    el("p", {}, t("If your report is one of these, say “me too” instead of filing it again.")),
    el("ul", { className: "nearby-list" }, ...found.map((report) => {
      const button = el("button", { type: "button", className: "button secondary" }, t("Me too"));
      button.addEventListener("click", () => meToo(urls.me_too.replace("{id}", encodeURIComponent(report.id)), button, say));
      return el("li", {}, el("strong", {}, report.title),
        el("span", {}, ` — ${report.distance_m} m${report.address ? " · " + report.address : ""}`), el("br"), button);
    })),
  );
  box.hidden = false;
}

async function meToo(url, button, say) {
  button.disabled = true;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ id: newId() }),
    });
    if (!response.ok) throw new Error(String(response.status));
    button.textContent = t("Thank you: counted");
    say(t("Thank you: your support was added to this report."), "ok");
  } catch (err) {
    button.disabled = false;
    say(t("Could not send your “me too”: try again when online."), "error");
  }
}
