// Promises over IndexedDB, after Jake Archibald's idb: open with an upgrade step, and await a
// request or a whole transaction. Nothing here knows the outbox's stores.
// Rule for callers: never await anything but IndexedDB inside a transaction, or it commits early.

// Open (and upgrade) a database. `upgrade(db, oldVersion, tx)` runs in the versionchange
// transaction; `onVersionChange` is called when another tab or worker wants a newer schema
// (the connection is closed first, so that it can go ahead).
export function openDb(name, version, { upgrade, onVersionChange } = {}) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = (event) => upgrade && upgrade(request.result, event.oldVersion, request.transaction);
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => { db.close(); if (onVersionChange) onVersionChange(); };
      resolve(db);
    };
    request.onerror = () => reject(request.error);
  });
}

// The result of one request.
export function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Resolves when the transaction commits; rejects (with a QuotaExceededError, say) when it aborts.
export function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException("Transaction aborted", "AbortError"));
    tx.onerror = () => {}; // the abort that follows carries the error
  });
}

// Walk a cursor, collecting each value until `limit` values (or the end).
export function collect(request, limit = Infinity) {
  return new Promise((resolve, reject) => {
    const values = [];
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor || values.length >= limit) return resolve(values);
      values.push(cursor.value);
      cursor.continue();
    };
    request.onerror = () => reject(request.error);
  });
}
