// The zone of a position, offline, by the server's rule: a zone whose polygon covers it (a border
// counts, a hole does not); on a shared border the smallest code wins. `outlines`: bootstrap's
// zone_outlines (GeoJSON Polygon/MultiPolygon by code, [lon, lat]).

const EPS = 1e-9;

function onSegment(x, y, [x1, y1], [x2, y2]) {
  const cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1);
  if (Math.abs(cross) > EPS) return false;
  return Math.min(x1, x2) - EPS <= x && x <= Math.max(x1, x2) + EPS && Math.min(y1, y2) - EPS <= y && y <= Math.max(y1, y2) + EPS;
}

// 1 inside, 0 on the ring, -1 outside (even-odd ray casting).
function ringSide(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    if (onSegment(x, y, ring[j], ring[i])) return 0;
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside ? 1 : -1;
}

function polygonCovers(x, y, rings) {
  if (!rings.length || ringSide(x, y, rings[0]) < 0) return false;
  // Inside a hole (not on its edge) is outside the polygon.
  return rings.slice(1).every((hole) => ringSide(x, y, hole) <= 0);
}

export function covers(geometry, lon, lat) {
  const polygons = geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
  return polygons.some((rings) => polygonCovers(lon, lat, rings));
}

export function zoneAt(outlines, lat, lon) {
  if (!outlines || lat == null || lon == null) return null;
  const codes = Object.keys(outlines).sort();
  return codes.find((code) => covers(outlines[code], lon, lat)) || null;
}
