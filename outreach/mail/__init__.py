"""Outgoing e-mail: a durable queue written with the change that causes it, sent in the background.

- ``queue``: the ``mail_queue`` table (enqueue inside the caller's transaction, due, sent, failed, purge).
- ``messages``: one message's subject, plain text and HTML in the recipient's language; the MIME message.
- ``sender``: the background task that sends what is due through SMTP, with retries and backoff.
- ``events``: what each product event says and to whom (accounts, residents, volunteers).
- ``campaigns``: a coordinator's message to the follow-up contacts of one purpose.
- ``unsubscribe``: signed one-click links that withdraw one consent.

Domain functions take an ``Outbox`` (or None: e-mail off) and call ``events.*`` inside their
write transaction; nothing here is sent in a request.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..security import Signer


@dataclass(frozen=True)
class Outbox:
    """What queueing a message needs: absolute links and signed tokens. None means e-mail is off."""

    base_url: str
    signer: Signer
    default_locale: str = "fr"

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def outbox_for(request) -> Outbox | None:
    """The Outbox of this request's app, or None when no SMTP server is configured."""
    settings = request.app.state.settings
    if not settings.mail_enabled:
        return None
    base = settings.base_url or str(request.base_url)
    return Outbox(base_url=base.rstrip("/"), signer=request.app.state.signer, default_locale=settings.default_locale)
