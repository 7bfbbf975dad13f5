"""Draw the app icons (192 and 512 px, plain and maskable) into static/icons/.

    /tmp/venv/bin/python tools/make_icons.py

Flat shapes in a few colours, saved as palette PNGs: a few kilobytes each, because every
byte of them is precached on the phone.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
BLUE = (29, 79, 145, 255)
WHITE = (255, 255, 255, 255)
AMBER = (240, 165, 0, 255)


def draw(size: int, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then shrink: smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle([0, 0, s, s], fill=BLUE)  # full bleed; the launcher cuts its own shape
        inner = 0.62  # keep the drawing inside the 80 % safe circle
    else:
        d.rounded_rectangle([0, 0, s - 1, s - 1], radius=s // 5, fill=BLUE)
        inner = 0.78
    box = s * inner
    x0 = (s - box) / 2
    y0 = (s - box) / 2 - box * 0.04
    # A speech bubble (a conversation in the street) with three people-dots.
    d.rounded_rectangle([x0, y0, x0 + box, y0 + box * 0.72], radius=box * 0.18, fill=WHITE)
    d.polygon([(x0 + box * 0.22, y0 + box * 0.70), (x0 + box * 0.22, y0 + box * 0.98), (x0 + box * 0.48, y0 + box * 0.70)], fill=WHITE)
    r = box * 0.085
    cy = y0 + box * 0.36
    for i, colour in enumerate((BLUE, AMBER, BLUE)):
        cx = x0 + box * (0.27 + 0.23 * i)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    img = img.resize((size, size), Image.LANCZOS)
    return img.quantize(colors=32, method=Image.Quantize.FASTOCTREE)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, False).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, True).save(OUT / f"maskable-{size}.png", optimize=True)
    for path in sorted(OUT.glob("*.png")):
        print(path.name, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
