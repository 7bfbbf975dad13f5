"""How a view stores entries through the one intake path (``field/sync.py``): checked outside
the write lock, compared and stored inside it; each stored report gets its tracking link.

Used by /api/v1/sync, /api/v1/reports, the no-script encounter form and the /report form.
"""

from __future__ import annotations

from typing import Callable

from sqlite_utils import Database
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..field import sync
from ..worksites import public

STORED = ("created", "unchanged", "updated")


def tracking_url(request: Request, report_id: str) -> str:
    """The absolute link to a report's private status page (``/track/<token>``)."""
    token = public.tracking_token(request.app.state.signer, report_id)
    base = request.app.state.settings.base_url
    path = request.url_for("track", token=token).path
    return (base.rstrip("/") + path) if base else str(request.url_for("track", token=token))


async def store_entries(request: Request, user: dict | None, entries: list, *, device_id: str | None = None,
                        app_version: str | None = None, then: Callable[[Database], dict] | None = None) -> dict:
    """Check and store a batch (``user`` None: a resident); the protocol's answer, tracking links added.

    ``then(db)``: read once the batch is stored, in the same worker thread; its keys join the answer.
    """
    store = request.app.state.store
    settings = request.app.state.settings
    # The language the person writes in: the contacts they leave are e-mailed in it.
    locale = request.scope.get("outreach.locale")

    def check_and_store():
        # One trip to a worker thread for every step (each trip costs the event loop).
        batch = sync.prepare(store.db(), user, entries, device_id=device_id, app_version=app_version, settings=settings,
                             locale=locale)
        if batch.settled:  # replays only (a phone that lost an answer): nothing to write
            answer = sync.settled_answer(batch)
        else:
            # Stored in a transaction shared with the batches that are waiting meanwhile (group commit).
            answer = store.write_grouped(lambda db: sync.write_batch(db, batch))
        if then is not None:
            answer.update(then(store.db()))
        return answer

    answer = await run_in_threadpool(check_and_store)
    # A report's author (a resident, or the worker who files it with one) keeps its private link.
    for entry, result in zip(entries, answer["results"]):
        if isinstance(entry, dict) and entry.get("kind") == "report" and result["status"] in STORED:
            result["tracking_url"] = tracking_url(request, result["id"])
    return answer
