// Coordinator map: Leaflet (served by the app from the xstatic-leaflet package), points from
// the map.geojson endpoint. Tiles only when a tile URL is configured; without tiles (or when
// they cannot load) the points still show on the plain background of the map element.

const el = document.getElementById("map");

const messages = (() => {
  try {
    return JSON.parse(document.getElementById("i18n")?.textContent || "{}");
  } catch {
    return {};
  }
})();
const t = (msg) => messages[msg] || msg;

function note(text) {
  const p = document.createElement("p");
  p.className = "map-message";
  p.setAttribute("role", "status");
  p.textContent = text;
  el.after(p);
}

function popupFor(props) {
  // Built with textContent: titles come from residents and are never parsed as HTML.
  const div = document.createElement("div");
  const strong = document.createElement("strong");
  const line = document.createElement("span");
  if (props.kind === "report") {
    strong.textContent = t("Worksite report");
    line.textContent = `${props.title} (${props.status})`;
  } else {
    strong.textContent = `${props.count} ${t("encounters")}`;
    line.textContent = `${props.people} ${t("people")}`;
  }
  div.append(strong, document.createElement("br"), line);
  return div;
}

async function main() {
  if (!el) return;
  const L = await import(el.dataset.leaflet);
  el.textContent = "";
  el.classList.add("map-ready");
  const centre = [Number(el.dataset.lat), Number(el.dataset.lon)];
  const map = L.map(el).setView(centre, 13);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
  }
  let data;
  try {
    const response = await fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    data = await response.json();
  } catch {
    note(t("The map data could not be loaded."));
    return;
  }
  const max = Math.max(1, ...data.features.filter((f) => f.properties.kind === "encounters").map((f) => f.properties.count));
  const zones = data.features.filter((f) => f.properties.kind === "zone");
  const points = { type: "FeatureCollection", features: data.features.filter((f) => f.properties.kind !== "zone") };
  for (const z of zones) {
    const [lon, lat] = z.geometry.coordinates;
    // A text node: zone names come from admins and imported files, and Leaflet parses a string as HTML.
    const name = document.createElement("span");
    name.textContent = z.properties.label.split(" — ")[0];
    L.tooltip({ permanent: true, direction: "center", className: "map-zone-label", interactive: false })
      .setLatLng([lat, lon]).setContent(name).addTo(map);
  }
  const layer = L.geoJSON(points, {
    pointToLayer: (feature, latlng) => {
      const p = feature.properties;
      if (p.kind === "report") {
        return L.circleMarker(latlng, { radius: 6, className: "map-report", weight: 2 });
      }
      return L.circleMarker(latlng, { radius: 4 + 14 * Math.sqrt(p.count / max), className: "map-encounters", weight: 1 });
    },
    onEachFeature: (feature, marker) => marker.bindPopup(popupFor(feature.properties)),
  }).addTo(map);
  if (points.features.length) {
    map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 16, animate: false });
  } else {
    note(t("No point to show for these filters."));
  }
}

main();
