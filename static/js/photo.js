// Photos on the phone: shrink to about 1600 px on the longest side before queueing,
// and name the bytes by their sha256 (the server checks the name on upload).

export const MAX_SIDE = 1600;
export const QUALITY = 0.85;

async function decode(file) {
  if ("createImageBitmap" in window) {
    try {
      // Honour the EXIF orientation so portrait photos stay upright once metadata is gone.
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (err) {
      // Some browsers reject the options bag: fall back to a plain <img>.
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function canvasToBlob(canvas, type, quality) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("canvas.toBlob failed"))), type, quality);
  });
}

export async function resize(file, maxSide = MAX_SIDE, quality = QUALITY) {
  const source = await decode(file);
  const width = source.width;
  const height = source.height;
  if (!width || !height) throw new Error("not an image");
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(w, h) : Object.assign(document.createElement("canvas"), { width: w, height: h });
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; // transparent PNGs become white, as on the server
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(source, 0, 0, w, h);
  if (source.close) source.close();
  const blob = await canvasToBlob(canvas, "image/jpeg", quality);
  return { blob, width: w, height: h };
}

export async function sha256Hex(blob) {
  const buffer = await blob.arrayBuffer();
  if (globalThis.crypto && crypto.subtle) {
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // Only plain-http origins lack crypto.subtle, and no service worker runs there: the fallback
  // is fetched when needed, never precached.
  const { sha256Fallback } = await import("./sha256.js");
  return sha256Fallback(new Uint8Array(buffer));
}

// {sha256, blob, type, width, height} of a chosen file, resized.
export async function prepare(file) {
  const { blob, width, height } = await resize(file);
  return { sha256: await sha256Hex(blob), blob, type: "image/jpeg", width, height };
}
