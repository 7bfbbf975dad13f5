"""The phone's outbox as browser tests see it: read it, fill it, wait for it.

Tests call these functions instead of writing JavaScript: ``outbox.entries(page)``,
``outbox.wait_for_sync(page)``. Each runs in the page through the same modules the app uses
(``/static/js/outbox.js``, ``/static/js/outbox-store.js``: a page imports them at these URLs, so
the test talks to the page's own instance). Waits poll a condition in the page, never a fixed delay.
"""

from __future__ import annotations

OUTBOX = "/static/js/outbox.js"
STORE = "/static/js/outbox-store.js"
POLL_MS = 100

# `body` sees `outbox`, `store` (the outbox's storage), `app` (the field app's own keys, in the
# store's APP) and `arg`.
_PRELUDE = (
    f"const outbox = await import('{OUTBOX}'); const store = await import('{STORE}');"
    " const app = { get: (key) => store.read(store.APP, key) };"
)


def run(page, body: str, arg=None):
    """Evaluate `body` (statements ending in a `return`) with the outbox modules in scope."""
    return page.evaluate(f"async (arg) => {{ {_PRELUDE} {body} }}", arg)


def wait_for(page, condition: str, arg=None, *, timeout: float = 20.0, what: str | None = None):
    """Wait until the JS expression `condition` is truthy (the outbox modules in scope); return its value."""
    value = page.evaluate(
        f"""async ([arg, timeoutMs]) => {{
              {_PRELUDE}
              const deadline = Date.now() + timeoutMs;
              for (;;) {{
                const value = await ({condition});
                if (value) return value;
                if (Date.now() > deadline) return null;
                await new Promise((resolve) => setTimeout(resolve, {POLL_MS}));
              }}
            }}""",
        [arg, timeout * 1000],
    )
    if not value:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
    return value


# --- reading ---------------------------------------------------------------------------------


def entries(page) -> list[dict]:
    """Every item of the outbox, oldest first (id, kind, version, data, endpoint, state, receipt, …)."""
    return run(page, "return outbox.list();")


def states(page) -> list[str]:
    return [item["state"] for item in entries(page)]


def pending_count(page) -> int:
    """Entries not yet stored on the server (waiting, sending, or needing attention)."""
    return run(page, "return outbox.pendingCount();")


def needing_attention(page) -> list[dict]:
    return run(page, "return outbox.needingAttention();")


def owner(page):
    """The user id the phone's new field entries belong to."""
    return run(page, "return outbox.owner();")


def kept_bootstrap(page) -> dict | None:
    """The bootstrap answer the field app keeps for the days without network."""
    return run(page, "return (await app.get('bootstrap')) ?? null;")


def photos_on_phone(page) -> int:
    """How many photos the outbox still holds (bytes waiting to go, or waiting for their entry)."""
    return run(page, "const db = await store.database(); return new Promise((resolve) => {"
                     " db.transaction(store.PHOTOS).objectStore(store.PHOTOS).count().onsuccess = (e) => resolve(e.target.result); });")


# --- acting ----------------------------------------------------------------------------------


def enqueue(page, kind: str, data: dict, *, photos: list[dict] | None = None) -> str:
    """Put an entry in the outbox as the app would (photos: [{sha256, bytes, type}]); return its id."""
    return run(
        page,
        """const [kind, data, photos] = arg;
           const id = outbox.newId();
           await outbox.enqueue({id, kind, version: 1, created_at: new Date().toISOString(), data}, {
             photos: photos.map((p) => ({sha256: p.sha256, type: p.type, blob: new Blob([new Uint8Array(p.bytes)], {type: p.type})})),
           });
           return id;""",
        [kind, data, [{**p, "bytes": list(p["bytes"])} for p in photos or []]],
    )


def sync_now(page) -> dict:
    """Run a sync (or join the one under way) and return its outcome once it is over."""
    return run(page, "return outbox.syncNow();")


# --- waiting ---------------------------------------------------------------------------------


def wait_for_sync(page, *, timeout: float = 20.0) -> None:
    """Wait until nothing is left to send: every entry has its receipt."""
    wait_for(page, "(await outbox.pendingCount()) === 0", timeout=timeout, what="every entry to be sent")


def wait_for_all_sent(page, *, timeout: float = 20.0) -> list[dict]:
    """Wait until the outbox holds entries and all of them are sent; return them."""
    return wait_for(page, "(async () => { const l = await outbox.list(); return l.length && l.every((i) => i.state === 'sent') && l; })()",
                    timeout=timeout, what="the outbox's entries to be sent")


def wait_for_entries(page, count: int, *, timeout: float = 20.0) -> list[dict]:
    """Wait until the outbox holds exactly `count` items; return them."""
    found = wait_for(page, "(async () => { const l = await outbox.list(); return l.length === arg && {items: l}; })()", count,
                     timeout=timeout, what=f"{count} entries in the outbox")
    return found["items"]


def wait_for_more_entries(page, than: int, *, timeout: float = 20.0) -> None:
    wait_for(page, "(await outbox.list()).length > arg", than, timeout=timeout, what=f"more than {than} entries")


def wait_for_state(page, state: str, *, timeout: float = 20.0) -> None:
    """Wait until some entry is in `state` (waiting, sending, sent, attention)."""
    wait_for(page, "(await outbox.list()).some((i) => i.state === arg)", state, timeout=timeout, what=f"an entry in state {state}")


def wait_for_nothing_to_fix(page, *, timeout: float = 20.0) -> None:
    """Wait until every entry is sent and none needs attention (a conflict resent on its own)."""
    wait_for(page, "(await outbox.pendingCount()) === 0 && (await outbox.needingAttention()).length === 0",
             timeout=timeout, what="every entry sent, none needing attention")


def wait_for_bootstrap(page, *, user_id: int | None = None, timeout: float = 20.0) -> dict:
    """Wait until the app keeps a bootstrap copy (for `user_id`, when given); return it."""
    return wait_for(page, "(async () => { const b = await app.get('bootstrap'); return b && (arg === null || b.user.id === arg) && b; })()",
                    user_id, timeout=timeout, what="the bootstrap copy")


def wait_for_owner(page, user_id: int, *, timeout: float = 20.0) -> None:
    wait_for(page, "(await outbox.owner()) === arg", user_id, timeout=timeout, what=f"user {user_id} to own new entries")


# --- a phone from before ---------------------------------------------------------------------


def install_v1_outbox(page, entry: dict) -> None:
    """Make this origin's outbox a version-1 database (its first schema) holding `entry`, as an old phone has."""
    page.evaluate(
        """(entry) => new Promise((resolve, reject) => {
          indexedDB.deleteDatabase('outreach-outbox');
          const open = indexedDB.open('outreach-outbox', 1);
          open.onupgradeneeded = () => open.result.createObjectStore('outbox', {keyPath: 'id'});
          open.onsuccess = () => {
            const tx = open.result.transaction('outbox', 'readwrite');
            tx.objectStore('outbox').put(entry);
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
          };
          open.onerror = () => reject(open.error);
        })""",
        entry,
    )


def install_v2_outbox(page, entry: dict, meta: dict) -> None:
    """Make this origin's outbox a version-2 database holding `entry` (waiting) and these meta keys,
    as the app before the app-state store kept them (bootstrap, current outing, owner)."""
    page.evaluate(
        """([entry, meta]) => new Promise((resolve, reject) => {
          indexedDB.deleteDatabase('outreach-outbox');
          const open = indexedDB.open('outreach-outbox', 2);
          open.onupgradeneeded = () => {
            const outbox = open.result.createObjectStore('outbox', {keyPath: 'id'});
            outbox.createIndex('state', 'state');
            outbox.createIndex('queued_at', 'queued_at');
            open.result.createObjectStore('photos', {keyPath: 'sha256'});
            open.result.createObjectStore('meta', {keyPath: 'key'});
          };
          open.onsuccess = () => {
            const tx = open.result.transaction(['outbox', 'meta'], 'readwrite');
            tx.objectStore('outbox').put({...entry, endpoint: '/api/v1/sync', state: 'waiting', owner: meta.owner ?? null,
              message: null, errors: null, receipt: null, photos: [], queued_at: entry.created_at, sent_at: null});
            for (const [key, value] of Object.entries(meta)) tx.objectStore('meta').put({key, value});
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
          };
          open.onerror = () => reject(open.error);
        })""",
        [entry, meta],
    )
