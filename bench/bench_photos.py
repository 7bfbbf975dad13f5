"""How long the server takes to check, clean and store one photo (decode, strip metadata, re-encode, thumbnail).

    PYTHONPATH=. python bench/bench_photos.py [repetitions]
"""

from __future__ import annotations

import hashlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from outreach import migrations, refdata  # noqa: E402
from outreach.worksites import photos
from outreach.db import connect  # noqa: E402


def sample(size: tuple[int, int], fmt: str) -> bytes:
    """A photo-like image (gradients and noise compress like a real photo, unlike a flat colour)."""
    w, h = size
    gradient = Image.linear_gradient("L").resize((w, h))
    noise = Image.effect_noise((w, h), 40)
    img = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (45.0, 11.0, 22.0), 3: "E", 4: (5.0, 43.0, 10.0)}
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, "JPEG", quality=85, exif=exif)
    else:
        img.save(out, fmt)
    return out.getvalue()


def main(reps: int = 10) -> None:
    cases = [
        ("phone-resized JPEG 1600x1200", (1600, 1200), "JPEG"),
        ("camera JPEG 4000x3000 (no phone resize)", (4000, 3000), "JPEG"),
        ("PNG 1600x1200 (clean only, no store)", (1600, 1200), "PNG"),
        ("WebP 1600x1200 (clean only, no store)", (1600, 1200), "WEBP"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.db")
        migrations.apply(db)
        refdata.seed(db)
        print(f"photo processing, {reps} images per case (median and max, milliseconds per image)")
        for label, size, fmt in cases:
            base = sample(size, fmt)
            times = []
            for i in range(reps):
                # A different byte at the end makes each upload a new photo (a new sha256).
                data = base + bytes([i % 256]) if fmt == "JPEG" else base
                sha = hashlib.sha256(data).hexdigest()
                start = time.perf_counter()
                if fmt == "JPEG":
                    photos.store(db, Path(tmp) / "uploads", sha, data)
                else:
                    photos.clean(data)
                times.append((time.perf_counter() - start) * 1000)
            print(f"  {label:<42} {len(base) / 1024:8.0f} KiB in  "
                  f"median {statistics.median(times):7.1f} ms  max {max(times):7.1f} ms")
        db.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
