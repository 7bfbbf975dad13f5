"""Photos: decode every upload with Pillow, strip its metadata, store it by sha256.

The bytes a phone sends are named by their sha256 (the report entry refers to them by
that name, possibly before they arrive). The server checks the name, decodes the image
(refusing anything that is not a JPEG, PNG or WebP, and decompression bombs), re-encodes
it as a JPEG without EXIF/GPS/ICC or any other metadata, and keeps it under
``uploads_dir`` at a path made only from the checked hash — never from the request.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlite_utils import Database

from ..i18n import gettext as _
from ..refdata import now_iso

SHA256 = re.compile(r"^[0-9a-f]{64}$")
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
# Phones send ~1600 px and cameras ~12 MP: more is refused from the header, before decoding.
MAX_PIXELS = 12_500_000
# What one decoded image may take in memory (a 12 MP RGBA photo is 48 MB).
MAX_DECODED_BYTES = 64 * 1024 * 1024
# Images decoded at once, whatever the number of uploads arriving: decoding is what costs
# memory (tens of MB per photo), and a worker thread per upload would multiply it.
DECODE_SLOTS = threading.BoundedSemaphore(2)
_BYTES_PER_BAND = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}
MAX_SIDE = 2048  # uploads without the phone's resize (plain form) are brought down to this
THUMB_SIDE = 320
QUALITY = 85


class PhotoError(ValueError):
    """An upload refused; ``status`` is the HTTP status that says why (400, 413, 415)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class CleanImage:
    jpeg: bytes
    thumb: bytes
    width: int
    height: int


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and bool(SHA256.match(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean(data: bytes, *, max_bytes: int = 10 * 1024 * 1024) -> CleanImage:
    """Decode, check and re-encode one image without any metadata; raise PhotoError."""
    if len(data) > max_bytes:
        raise PhotoError(413, _("the photo is too large (at most %(mb)d MiB)") % {"mb": max_bytes // (1024 * 1024)})
    if not data:
        raise PhotoError(415, _("this file is empty, not an image"))
    with DECODE_SLOTS:
        img = _decode(data)
        if max(img.size) > MAX_SIDE:
            img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        width, height = img.size
        jpeg = _encode(img)
        thumb_img = img.copy()
        thumb_img.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        return CleanImage(jpeg=jpeg, thumb=_encode(thumb_img), width=width, height=height)


def _decoded_size(img: Image.Image) -> int:
    """The bytes the decoded pixels will take, read from the header (nothing decoded yet)."""
    return img.width * img.height * len(img.getbands()) * _BYTES_PER_BAND.get(img.mode, 1)


def _decode(data: bytes) -> Image.Image:
    """The pixels of a JPEG, PNG or WebP as RGB, reduced towards MAX_SIDE; PhotoError otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in ACCEPTED_FORMATS:
                    raise PhotoError(415, _("only JPEG, PNG and WebP photos are accepted"))
                # The header is read, the pixels are not: refuse bombs before decoding them.
                if img.width * img.height > MAX_PIXELS or _decoded_size(img) > MAX_DECODED_BYTES:
                    raise PhotoError(415, _("this image is too large to be a photo"))
                if img.format == "JPEG":
                    # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: never more pixels than kept.
                    img.draft("RGB", (MAX_SIDE, MAX_SIDE))
                img.load()
                factor = max(img.size) // MAX_SIDE
                if factor >= 2:
                    img = img.reduce(factor)  # a cheap box reduction before any copy is made
                img = ImageOps.exif_transpose(img)  # keep the orientation the EXIF asked for
                return _flatten(img)
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(415, _("this file is not a photo we can read (JPEG, PNG or WebP)"))
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
        # Truncated or corrupt images raise a variety of errors from the decoders.
        raise PhotoError(415, _("this file is not a photo we can read (JPEG, PNG or WebP)"))


def _flatten(img: Image.Image) -> Image.Image:
    """RGB pixels only: transparency is laid on white, palettes and CMYK converted."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGB", rgba.size, (255, 255, 255))
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return img.convert("RGB") if img.mode != "RGB" else img.copy()


def _encode(img: Image.Image) -> bytes:
    # A fresh image object carries no info dict: nothing but pixels is written.
    out = io.BytesIO()
    bare = Image.new("RGB", img.size)
    bare.paste(img)
    bare.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def relative_paths(sha256: str) -> tuple[str, str]:
    """Where the photo and its thumbnail live under uploads_dir (made from a checked hash only)."""
    if not is_sha256(sha256):
        raise PhotoError(400, _("not a sha256 name"))
    return f"{sha256[:2]}/{sha256}.jpg", f"{sha256[:2]}/{sha256}.thumb.jpg"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def has(db: Database, sha256: str) -> bool:
    return is_sha256(sha256) and bool(db.execute("select 1 from attachments where sha256 = ?", [sha256]).fetchone())


def prepare(uploads_dir: Path, sha256: str, data: bytes, *, max_bytes: int) -> dict:
    """Check the name, clean the image and write its files; return the attachment row to insert.

    The slow part (decoding) runs outside the database transaction; writing the files
    is harmless if repeated (same name, same bytes, atomic replace).
    """
    if not is_sha256(sha256):
        raise PhotoError(400, _("the name must be the sha256 of the photo, in lowercase hexadecimal"))
    if len(data) > max_bytes:
        raise PhotoError(413, _("the photo is too large (at most %(mb)d MiB)") % {"mb": max_bytes // (1024 * 1024)})
    if sha256_hex(data) != sha256:
        raise PhotoError(400, _("the bytes received do not match their sha256 name: send the photo again"))
    image = clean(data, max_bytes=max_bytes)
    rel, rel_thumb = relative_paths(sha256)
    _write_atomic(Path(uploads_dir) / rel, image.jpeg)
    _write_atomic(Path(uploads_dir) / rel_thumb, image.thumb)
    return {
        "sha256": sha256,
        "media_type": "image/jpeg",
        "size": len(image.jpeg),
        "width": image.width,
        "height": image.height,
        "path": rel,
        "thumb_path": rel_thumb,
        "created_at": now_iso(),
    }


def record(db: Database, row: dict) -> bool:
    """Insert the attachment row; True if it is new (INSERT OR IGNORE makes retries harmless)."""
    cursor = db.execute(
        "insert or ignore into attachments (sha256, media_type, size, width, height, path, thumb_path, created_at)"
        " values (:sha256, :media_type, :size, :width, :height, :path, :thumb_path, :created_at)",
        row,
    )
    return cursor.rowcount == 1


def store(db: Database, uploads_dir: Path, sha256: str, data: bytes, *, max_bytes: int = 10 * 1024 * 1024) -> bool:
    """Check, clean and keep one photo; True if stored now, False if it was already there."""
    if has(db, sha256):
        return False
    row = prepare(uploads_dir, sha256, data, max_bytes=max_bytes)
    with db.atomic():
        return record(db, row)


def file_for(db: Database, uploads_dir: Path, sha256: str, *, thumb: bool = False) -> Path | None:
    """The stored file of a photo, or None; the path comes from our own row, never the request."""
    if not is_sha256(sha256):
        return None
    row = db.execute("select path, thumb_path from attachments where sha256 = ?", [sha256]).fetchone()
    if not row:
        return None
    rel = row[1] if thumb and row[1] else row[0]
    base = Path(uploads_dir).resolve()
    path = (base / rel).resolve()
    if base not in path.parents or not path.is_file():
        return None
    return path


def is_public(db: Database, sha256: str) -> bool:
    """A photo anyone may see: attached to a worksite a coordinator has accepted onward."""
    from .states import ACCEPTED_ONWARD

    marks = ",".join("?" * len(ACCEPTED_ONWARD))
    return bool(db.execute(
        f"select 1 from report_photos p join reports r on r.id = p.report_id"
        f" where p.sha256 = ? and r.status in ({marks}) limit 1",
        [sha256, *sorted(ACCEPTED_ONWARD)],
    ).fetchone())
