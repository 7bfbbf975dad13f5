"""The background task that sends what is due, through SMTP, with retries and backoff.

Sending happens outside any database transaction (a slow mail server never holds the write
lock); each message is marked sent right after the server accepted it. A crash between the
two resends it once more with the same Message-ID, which receiving systems treat as one message.
Permanent refusals (5xx, an unusable address) fail at once; anything else is retried, waiting
1, 2, 4 … minutes up to an hour, until ``mail_max_attempts``; then admins see it on /admin/mail.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage

from . import messages, queue

log = logging.getLogger("outreach.mail")
POLL_SECONDS = 5
TIMEOUT = 30


class SmtpTransport:
    """One SMTP session (standard library), used from a worker thread."""

    def __init__(self, settings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpTransport":
        s = self.settings
        if s.smtp_security == "tls":
            self.smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            self.smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT)
            if s.smtp_security == "starttls":
                self.smtp.starttls(context=ssl.create_default_context())
        if s.smtp_user:
            self.smtp.login(s.smtp_user, s.smtp_password)
        return self

    def send(self, message: EmailMessage) -> None:
        assert self.smtp is not None
        self.smtp.send_message(message)

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()


def _permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def send_due(store, settings, now: datetime | None = None, transport=SmtpTransport) -> dict:
    """Send every message due at ``now``; returns counts {sent, retry, failed}."""
    now = now or queue.utcnow()
    with store.write() as db:
        rows = queue.claim(db, now)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not rows:
        return counts

    def failed(row, error: Exception, permanent: bool) -> None:
        with store.write() as db:
            status = queue.mark_failed(db, row["id"], f"{type(error).__name__}: {error}", now,
                                       max_attempts=settings.mail_max_attempts, permanent=permanent)
        counts["failed" if status == queue.FAILED else "retry"] += 1
        log.warning("mail %s to message %s not sent (%s): %s", row["kind"], row["id"], status, error)

    try:
        with transport(settings) as smtp:
            for i, row in enumerate(rows):
                try:
                    message = messages.build(row, settings.mail_from)
                except (messages.AddressError, ValueError) as error:
                    failed(row, error, permanent=True)
                    continue
                try:
                    smtp.send(message)
                except (smtplib.SMTPException, OSError) as error:
                    failed(row, error, permanent=_permanent(error))
                    if isinstance(error, (smtplib.SMTPServerDisconnected, OSError)):
                        for rest in rows[i + 1:]:
                            failed(rest, error, permanent=False)
                        break
                    continue
                with store.write() as db:
                    queue.mark_sent(db, row["id"], now)
                counts["sent"] += 1
    except (smtplib.SMTPException, OSError) as error:  # could not connect, greet or log in
        done = counts["sent"] + counts["retry"] + counts["failed"]
        for row in rows[done:]:
            failed(row, error, permanent=False)
    return counts


async def run(store, settings, *, interval: float = POLL_SECONDS, clock=queue.utcnow) -> None:
    """Send due mail forever (started in the app's lifespan when SMTP is configured)."""
    while True:
        try:
            while (await asyncio.to_thread(send_due, store, settings, clock()))["sent"]:
                pass  # more may be due: a large campaign goes out in batches without waiting
        except asyncio.CancelledError:
            raise
        except Exception:  # a full disk or a locked database: try again on the next round
            log.exception("the mail sender could not run; it will try again")
        await asyncio.sleep(interval)
