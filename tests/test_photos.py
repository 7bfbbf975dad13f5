"""Photos: decoded, cleaned of metadata, stored by sha256, bad uploads refused."""

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from outreach.worksites import photos
from outreach.worksites.photos import PhotoError


def jpeg_with_gps(size=(800, 600)) -> bytes:
    img = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    gps = {1: "N", 2: (45.0, 11.0, 22.0), 3: "E", 4: (5.0, 43.0, 10.0)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_bytes(size=(50, 40), mode="RGBA") -> bytes:
    out = io.BytesIO()
    color = {"RGBA": (0, 128, 0, 128), "RGB": (0, 128, 0), "L": 128}[mode]
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def png_bomb(width=30000, height=30000) -> bytes:
    """A tiny PNG whose header claims 900 megapixels (the classic decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = zlib.compress(b"\x00" * (width // 8 + 1) * 100)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_stored_jpeg_has_no_exif_left(fresh_db, tmp_path):
    data = jpeg_with_gps()
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get(0x8825)  # the fixture really carries GPS
    assert photos.store(fresh_db, tmp_path, sha(data), data) is True
    path = photos.file_for(fresh_db, tmp_path, sha(data))
    with Image.open(path) as stored:
        assert stored.format == "JPEG"
        assert len(stored.getexif()) == 0
        assert "exif" not in stored.info
        assert stored.size == (800, 600)
    thumb = photos.file_for(fresh_db, tmp_path, sha(data), thumb=True)
    with Image.open(thumb) as t:
        assert max(t.size) == photos.THUMB_SIDE
        assert len(t.getexif()) == 0
    row = fresh_db["attachments"].get(sha(data))
    assert (row["width"], row["height"], row["media_type"]) == (800, 600, "image/jpeg")


def test_storing_twice_is_harmless(fresh_db, tmp_path):
    data = png_bytes()
    assert photos.store(fresh_db, tmp_path, sha(data), data) is True
    assert photos.store(fresh_db, tmp_path, sha(data), data) is False
    assert fresh_db["attachments"].count == 1


def test_png_with_transparency_and_webp_are_accepted(fresh_db, tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, "WEBP")
    for data in (png_bytes(), out.getvalue(), png_bytes(mode="L")):
        assert photos.store(fresh_db, tmp_path, sha(data), data)


def test_huge_photo_is_brought_down(fresh_db, tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (9, 9, 9)).save(out, "JPEG")
    data = out.getvalue()
    photos.store(fresh_db, tmp_path, sha(data), data)
    assert fresh_db["attachments"].get(sha(data))["width"] == photos.MAX_SIDE


def gif_bytes():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize("data,status", [
    (b"hello, this is text named photo.jpg", 415),
    (b"", 415),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, 415),  # a JPEG header and nothing else
    (png_bomb(), 415),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415),
])
def test_non_images_and_bombs_are_refused(fresh_db, tmp_path, data, status):
    with pytest.raises(PhotoError) as caught:
        photos.store(fresh_db, tmp_path, sha(data), data)
    assert caught.value.status == status
    assert fresh_db["attachments"].count == 0
    assert not any(tmp_path.rglob("*.jpg"))


def test_gif_is_refused(fresh_db, tmp_path):
    data = gif_bytes()
    with pytest.raises(PhotoError) as caught:
        photos.store(fresh_db, tmp_path, sha(data), data)
    assert caught.value.status == 415


def test_wrong_hash_is_refused(fresh_db, tmp_path):
    data = png_bytes()
    with pytest.raises(PhotoError) as caught:
        photos.store(fresh_db, tmp_path, "0" * 64, data)
    assert caught.value.status == 400
    assert fresh_db["attachments"].count == 0


@pytest.mark.parametrize("name", ["../../etc/passwd", "A" * 64, "0" * 63, "0" * 64 + "/x", "..%2f" + "0" * 60])
def test_names_that_are_not_a_sha256_are_refused(fresh_db, tmp_path, name):
    with pytest.raises(PhotoError) as caught:
        photos.store(fresh_db, tmp_path, name, png_bytes())
    assert caught.value.status == 400
    assert photos.file_for(fresh_db, tmp_path, name) is None


def test_too_large_is_refused_before_decoding(fresh_db, tmp_path):
    data = b"\xff" * (11 * 1024 * 1024)
    with pytest.raises(PhotoError) as caught:
        photos.store(fresh_db, tmp_path, sha(data), data)
    assert caught.value.status == 413


def test_unknown_photo_has_no_file(fresh_db, tmp_path):
    assert photos.file_for(fresh_db, tmp_path, "a" * 64) is None
