"""One message in the recipient's language: subject, plain text, HTML; then the MIME message.

A message is a few paragraphs and at most one action link; its HTML part is rendered from the
same words through an autoescaping template (no images, no tracking pixel, no remote content).
Names and subjects are flattened to one line before they reach a header, and an address with
anything but an address in it is refused: no header can be injected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import i18n

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
_env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
# A deliberately plain address check: one @, no spaces, no control characters, no brackets.
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class AddressError(ValueError):
    """An address that cannot safely go into a header."""


def one_line(text: str | None, limit: int = 200) -> str:
    """Text fit for a header: control characters (CR, LF, …) become spaces, length bounded."""
    return " ".join(_CONTROL.sub(" ", text or "").split())[:limit]


def check_address(address: str | None) -> str:
    """The address itself, or AddressError (never something that could carry another header)."""
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise AddressError("not a plain e-mail address")
    return address.strip()


@dataclass
class Content:
    """What a message says; ``render`` turns it into its text and HTML parts."""

    subject: str
    greeting: str
    paragraphs: list[str]
    action: tuple[str, str] | None = None  # (label, absolute URL)
    unsubscribe_url: str | None = None
    footer: list[str] = field(default_factory=list)


def render(content: Content, locale: str) -> tuple[str, str, str]:
    """(subject, text, html) of one message, every fixed word in ``locale``."""
    token = i18n.set_locale(locale)
    try:
        _ = i18n.gettext
        unsubscribe_label = _("Stop these messages")
        # "label: link", with the language's own punctuation (French puts a space before the colon).
        labelled = _("%(label)s: %(link)s")
        lines = [content.greeting, ""]
        for paragraph in content.paragraphs:
            lines += [paragraph, ""]
        if content.action:
            lines += [(labelled % {"label": content.action[0], "link": ""}).rstrip(), content.action[1], ""]
        for line in content.footer:
            lines += [line]
        if content.unsubscribe_url:
            lines += ["", labelled % {"label": unsubscribe_label, "link": content.unsubscribe_url}]
        text = "\n".join(lines).strip() + "\n"
        html = _env.get_template("message.html").render(
            c=content, lang=i18n.get_locale(), unsubscribe_label=unsubscribe_label)
        return one_line(content.subject, 160), text, html
    finally:
        i18n._current.reset(token)


def build(row: dict, mail_from: str) -> EmailMessage:
    """The MIME message of one queued row: text and HTML alternatives, its stable Message-ID."""
    msg = EmailMessage()
    name, addr = parseaddr(mail_from)
    msg["From"] = Address(display_name=one_line(name, 80), addr_spec=check_address(addr))
    msg["To"] = Address(display_name=one_line(row.get("recipient_name"), 80), addr_spec=check_address(row["recipient"]))
    msg["Subject"] = one_line(row["subject"], 160)
    msg["Message-ID"] = row["message_id"]
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Auto-Submitted"] = "auto-generated"
    if row.get("unsubscribe_url"):
        # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the link.
        msg["List-Unsubscribe"] = f"<{row['unsubscribe_url']}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(row["body_text"])
    if row.get("body_html"):
        msg.add_alternative(row["body_html"], subtype="html")
    return msg
