// One round trip of the outbox: photos, a batch of entries, and what the answer means for each
// item. Says "retry", "auth" or "ok"; when to try again is outbox.js's call.
import * as store from "./outbox-store.js";
import { t } from "./page.js";

const BATCH_SIZE = 100;
const BATCH_BYTES = 900 * 1024; // under the server's 1 MiB limit
const STORED = ["created", "unchanged", "updated"];

function retryable(status) {
  return status === 408 || status === 429 || status >= 500;
}

function retryAfter(response) {
  const value = Number(response.headers.get("Retry-After"));
  return Number.isFinite(value) && value > 0 ? Math.min(value, 3600) : 0;
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error) return String(body.error);
  } catch (error) { /* not JSON */ }
  return t("The server refused this entry (error {status}).", { status: response.status });
}

export function* batches(items) {
  let batch = [];
  let bytes = 0;
  for (const item of items) {
    const size = JSON.stringify(item.data).length + 200;
    if (batch.length && (batch.length >= BATCH_SIZE || bytes + size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length) yield batch;
}

export async function uploadPhotos(attachmentUrl) {
  for (const photo of await store.photosToUpload()) {
    let response;
    try {
      response = await fetch(attachmentUrl.replace("{sha256}", photo.sha256), {
        method: "PUT",
        body: photo.blob,
        headers: { "Content-Type": photo.type },
        credentials: "same-origin",
      });
    } catch (error) {
      return { status: "retry" };
    }
    if (response.status === 200 || response.status === 201) {
      await store.changePhoto(photo.sha256, { state: "uploaded", blob: null });
    } else if (response.status === 401) {
      return { status: "auth" };
    } else if (retryable(response.status)) {
      return { status: "retry", retryAfter: retryAfter(response) };
    } else if (response.status !== 404) {
      // Never taken (not an image, too large): say so, the entry goes on.
      await store.changePhoto(photo.sha256, { state: "refused", message: await errorMessage(response) });
    }
  }
  return { status: "ok" };
}

export async function sendBatch(endpoint, batch, envelope, notify) {
  const versions = new Map(batch.map((item) => [item.id, item.version]));
  const ids = [...versions.keys()];
  await store.change(ids, (item) => ({ ...item, state: "sending", endpoint }));
  notify({ type: "change" });
  const body = {
    ...envelope,
    entries: batch.map(({ id, kind, version, created_at, data }) => ({ id, kind, version, created_at, data })),
  };
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (error) {
    await backToWaiting(ids, notify);
    return { status: "retry" };
  }
  if (response.status === 401) {
    await backToWaiting(ids, notify);
    return { status: "auth" };
  }
  if (retryable(response.status)) {
    await backToWaiting(ids, notify);
    return { status: "retry", retryAfter: retryAfter(response) };
  }
  if (!response.ok) {
    // The whole request refused (400, 403, 413, 415): nothing dropped, a person must look.
    const message = await errorMessage(response);
    await store.change(ids, (item) => (item.state === "sending" ? { ...item, state: "attention", message } : null));
    notify({ type: "change" });
    return { status: "ok" };
  }
  let answer;
  try {
    answer = await response.json();
  } catch (error) {
    await backToWaiting(ids, notify); // a cut answer: a replay is harmless ("unchanged")
    return { status: "retry" };
  }
  const results = new Map((answer.results || []).map((r) => [r.id, r]));
  await store.change(ids, (item) => receive(item, results.get(item.id), versions.get(item.id)));
  notify({ type: "change" });
  return { status: "ok", bootstrap: answer.bootstrap_version || null };
}

// Once the server has a resident's contact details, the phone forgets them.
function withoutContact(data) {
  const out = { ...data };
  if (out.follow_up) out.follow_up = { ...out.follow_up, contact: null, name: null };
  if (out.reporter) out.reporter = { consent: out.reporter.consent };
  return out;
}

function receive(item, receipt, sentVersion) {
  if (!receipt || item.version !== sentVersion) {
    // No answer for it, or corrected while in flight: the newer version still has to go.
    return { ...item, state: "waiting" };
  }
  if (STORED.includes(receipt.status)) {
    return { ...item, data: withoutContact(item.data), state: "sent", receipt, message: null, errors: null, sent_at: new Date().toISOString() };
  }
  return {
    ...item,
    state: "attention",
    receipt: null,
    message: receipt.message || t("The server could not store this entry."),
    errors: receipt.errors || null,
    current_version: receipt.current_version || item.current_version || 0,
  };
}

async function backToWaiting(ids, notify) {
  await store.change(ids, (item) => (item.state === "sending" ? { ...item, state: "waiting" } : null));
  notify({ type: "change" });
}

