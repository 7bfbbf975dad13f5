// Promises over IndexedDB, after Jake Archibald's idb. Nothing here knows the outbox's stores.
// Callers: never await anything but IndexedDB inside a transaction, or it commits early.

// `upgrade(db, oldVersion, tx)` runs in the versionchange transaction; `onVersionChange` when
// another tab or worker wants a newer schema (this connection closes first, to let it).
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

// Values of a cursor, up to `limit`.
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
