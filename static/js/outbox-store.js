// The outbox's storage (Workbox's QueueStore and QueueDb): the schema, its upgrades, reads and writes.
import { collect, done, openDb, promised } from "./idb.js";

export const DB_NAME = "outreach-outbox";
export const DB_VERSION = 3;
// Entries, their photos' bytes, the outbox's meta (device id, owner, last sync), and the field
// app's own small state (field-context.js `kept`).
export const OUTBOX = "outbox";
export const PHOTOS = "photos";
export const META = "meta";
export const APP = "app";
// Keys v2 kept in META that belong to the app (moved to APP by v3).
const APP_KEYS = ["bootstrap", "current_outing"];

// One step per schema version; a step carries pending entries over, never drops them.
export function upgrade(db, oldVersion, tx) {
  if (oldVersion < 1) {
    db.createObjectStore(OUTBOX, { keyPath: "id" });
  }
  if (oldVersion < 2) {
    // v2: photos, a key/value store, indexes on state and age.
    const outbox = tx.objectStore(OUTBOX);
    outbox.createIndex("state", "state");
    outbox.createIndex("queued_at", "queued_at");
    db.createObjectStore(PHOTOS, { keyPath: "sha256" });
    db.createObjectStore(META, { keyPath: "key" });
    outbox.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      cursor.update(migrateItem(cursor.value));
      cursor.continue();
    };
  }
  if (oldVersion < 3) {
    const app = db.createObjectStore(APP, { keyPath: "key" });
    const meta = tx.objectStore(META);
    for (const key of APP_KEYS) {
      meta.get(key).onsuccess = (event) => {
        const row = event.target.result;
        if (!row) return;
        app.put(row);
        meta.delete(key);
      };
    }
  }
}

// A v1 item in the v2 shape. v1 had only field entries: a null endpoint means the signed-in sync.
function migrateItem(v) {
  const state = ["sent", "attention"].includes(v.state) ? v.state : "waiting";
  return {
    id: v.id,
    kind: v.kind,
    version: v.version || 1,
    created_at: v.created_at || new Date().toISOString(),
    data: v.data,
    endpoint: v.endpoint || null,
    state,
    message: v.message || null,
    errors: v.errors || null,
    receipt: v.receipt || null,
    photos: v.photos || [],
    queued_at: v.queued_at || v.created_at || new Date().toISOString(),
    sent_at: v.sent_at || null,
  };
}

let connection = null;

export function database() {
  if (!connection) {
    connection = openDb(DB_NAME, DB_VERSION, {
      upgrade,
      // Another tab (or a new service worker) upgrades the schema: reopen on next use.
      onVersionChange: () => { connection = null; },
    }).catch((error) => { connection = null; throw error; });
  }
  return connection;
}

const byAge = (a, b) => (a.queued_at < b.queued_at ? -1 : a.queued_at > b.queued_at ? 1 : 0);

// --- items

export async function add(item, photos = []) {
  const db = await database();
  const tx = db.transaction([OUTBOX, PHOTOS], "readwrite");
  const finished = done(tx);
  tx.objectStore(OUTBOX).put(item);
  for (const photo of photos) tx.objectStore(PHOTOS).put(photo);
  await finished;
}

export async function all() {
  const db = await database();
  return (await promised(db.transaction(OUTBOX).objectStore(OUTBOX).getAll())).sort(byAge);
}

export async function get(id) {
  const db = await database();
  return promised(db.transaction(OUTBOX).objectStore(OUTBOX).get(id));
}

// Items in any of these states, oldest first.
export async function withState(states) {
  const db = await database();
  const index = db.transaction(OUTBOX).objectStore(OUTBOX).index("state");
  const groups = await Promise.all(states.map((state) => promised(index.getAll(state))));
  return groups.flat().sort(byAge);
}

// How many items are not "sent" (counted on the index: no item is read).
export async function countUnsent() {
  const db = await database();
  const store = db.transaction(OUTBOX).objectStore(OUTBOX);
  const [count, sent] = await Promise.all([promised(store.count()), promised(store.index("state").count("sent"))]);
  return count - sent;
}

export async function newest(limit) {
  const db = await database();
  return collect(db.transaction(OUTBOX).objectStore(OUTBOX).index("queued_at").openCursor(null, "prev"), limit);
}

// Read-modify-write in one transaction: `changeItem(item)` gives the new item, or null to leave
// it. An item that becomes "sent" lets go of its photos already uploaded.
export async function change(ids, changeItem) {
  const db = await database();
  const tx = db.transaction([OUTBOX, PHOTOS], "readwrite");
  const finished = done(tx);
  const items = tx.objectStore(OUTBOX);
  const photos = tx.objectStore(PHOTOS);
  for (const id of ids) {
    items.get(id).onsuccess = (event) => {
      const item = event.target.result;
      const next = item && changeItem(item);
      if (!next) return;
      items.put(next);
      if (next.state !== "sent") return;
      for (const sha256 of next.photos || []) {
        photos.get(sha256).onsuccess = (e) => {
          if (e.target.result && e.target.result.state !== "waiting") photos.delete(sha256);
        };
      }
    };
  }
  await finished;
}

// Delete an item and its photos if `allowed(item)`; true when it was deleted.
export async function remove(id, allowed = () => true) {
  const db = await database();
  const tx = db.transaction([OUTBOX, PHOTOS], "readwrite");
  const finished = done(tx);
  let removed = false;
  tx.objectStore(OUTBOX).get(id).onsuccess = (event) => {
    const item = event.target.result;
    if (!item || !allowed(item)) return;
    removed = true;
    tx.objectStore(OUTBOX).delete(id);
    for (const sha256 of item.photos || []) tx.objectStore(PHOTOS).delete(sha256);
  };
  await finished;
  return removed;
}

export async function removeMany(ids) {
  const db = await database();
  const tx = db.transaction(OUTBOX, "readwrite");
  for (const id of ids) tx.objectStore(OUTBOX).delete(id);
  await done(tx);
}

// --- photos

export async function photosToUpload() {
  const db = await database();
  return (await promised(db.transaction(PHOTOS).objectStore(PHOTOS).getAll())).filter((p) => p.state === "waiting" && p.blob);
}

export async function changePhoto(sha256, changes) {
  const db = await database();
  const tx = db.transaction(PHOTOS, "readwrite");
  const store = tx.objectStore(PHOTOS);
  store.get(sha256).onsuccess = (event) => {
    if (event.target.result) store.put({ ...event.target.result, ...changes });
  };
  await done(tx);
}

// --- key/value stores: META, APP

export async function read(storeName, key) {
  const db = await database();
  const row = await promised(db.transaction(storeName).objectStore(storeName).get(key));
  return row ? row.value : undefined;
}

export async function write(storeName, key, value) {
  const db = await database();
  const tx = db.transaction(storeName, "readwrite");
  tx.objectStore(storeName).put({ key, value });
  await done(tx);
}

export async function clearStore(storeName) {
  const db = await database();
  const tx = db.transaction(storeName, "readwrite");
  tx.objectStore(storeName).clear();
  await done(tx);
}

export const getMeta = (key) => read(META, key);
export const setMeta = (key, value) => write(META, key, value);
