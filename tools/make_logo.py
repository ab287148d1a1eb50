"""Generate the Hydra project logo (``hydra.png`` at the repository root).

Dev tool only: it needs Pillow, which is *not* a runtime dependency of
hydra-shell.  Install it into your dev environment and run::

    pip install Pillow
    python tools/make_logo.py            # writes ./hydra.png
    python tools/make_logo.py out.png    # or somewhere else

The picture is drawn entirely from code: a coiled serpent body with five
necks (cubic Bezier curves stroked with tapering discs) each ending in a
serpent head, on a dark rounded badge, with the word "Hydra" underneath.
Everything is drawn at 4x and downsampled for anti-aliasing.  The output is
deterministic.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 512  # final image size in pixels (square)
SS = 4  # supersampling factor
W = SIZE * SS

BG_TOP = (16, 32, 48)
BG_BOTTOM = (10, 20, 32)
OUTLINE = (8, 28, 24)
SKIN = (46, 160, 120)
SKIN_DARK = (30, 118, 90)
BELLY = (150, 220, 170)
EYE = (255, 214, 64)
PUPIL = (20, 20, 20)
TONGUE = (220, 50, 70)
SPIKE = (236, 170, 60)
TEXT = (225, 245, 235)


def s(v: float) -> float:
    """Scale a coordinate from the 512-px design grid to the canvas."""
    return v * SS


def bezier(p0, p1, p2, p3, t):
    u = 1 - t
    x = u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0]
    y = u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]
    return x, y


def disc(d: ImageDraw.ImageDraw, x, y, r, fill):
    d.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def lerp_color(a, b, t):
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))


def neck_fill(d, samples, radii, belly_side, start=0):
    """Skin and belly stripe of a neck from sample ``start`` to its tip."""
    steps = len(samples) - 1
    for i in range(start, steps + 1):
        x, y = samples[i]
        disc(d, x, y, radii[i], lerp_color(SKIN_DARK, SKIN, i / steps))
    # belly stripe: offset to one side of the direction of travel
    for i in range(max(start, 1), steps):
        (xa, ya), (xb, yb) = samples[i - 1], samples[i + 1]
        tx, ty = xb - xa, yb - ya
        n = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / n * belly_side, tx / n * belly_side
        r = radii[i]
        x, y = samples[i]
        disc(d, x + nx * r * 0.38, y + ny * r * 0.38, r * 0.42, BELLY)


def draw_neck(d, pts, r0, r1, steps=220, belly_side=1.0):
    """Stroke a tapering tube along a cubic Bezier: outline, skin, belly.

    Returns a callable that repaints the last stretch of the neck (used to
    blend the neck into the back of its head)."""
    samples = [bezier(*pts, i / steps) for i in range(steps + 1)]
    radii = [r0 + (r1 - r0) * (i / steps) for i in range(steps + 1)]
    ow = s(3.2)
    for (x, y), r in zip(samples, radii):
        disc(d, x, y, r + ow, OUTLINE)
    neck_fill(d, samples, radii, belly_side)
    # scale bands across the belly
    for i in range(12, steps - 8, 14):
        (xa, ya), (xb, yb) = samples[i - 1], samples[i + 1]
        tx, ty = xb - xa, yb - ya
        n = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / n * belly_side, tx / n * belly_side
        r = radii[i]
        x, y = samples[i]
        cx, cy = x + nx * r * 0.38, y + ny * r * 0.38
        d.line(
            (cx - nx * r * 0.42, cy - ny * r * 0.42, cx + nx * r * 0.42, cy + ny * r * 0.42),
            fill=SKIN_DARK,
            width=int(s(1.4)),
        )

    def repaint_tip(start_frac=0.93):
        neck_fill(d, samples, radii, belly_side, int(steps * start_frac))

    return samples[-1], samples[-8], repaint_tip


def draw_path(d, samples, r0, r1):
    """Stroke a tapering tube along a polyline: outline, skin, lighter belly
    on its lower side, and scale bands across the belly."""
    n = len(samples) - 1
    rad = [r0 + (r1 - r0) * i / n for i in range(n + 1)]
    ow = s(3.2)
    for (x, y), r in zip(samples, rad):
        disc(d, x, y, r + ow, OUTLINE)
    for (x, y), r in zip(samples, rad):
        disc(d, x, y, r, SKIN)
    for (x, y), r in zip(samples, rad):
        disc(d, x, y + r * 0.45, r * 0.42, BELLY)
    for i in range(3, n - 2, 5):
        x, y = samples[i]
        r = rad[i]
        d.line((x, y + r * 0.05, x, y + r * 0.85), fill=SKIN_DARK, width=int(s(1.4)))


def local(origin, angle, flip):
    """Return a transform from head-local coords (x forward, y down) to canvas."""
    ox, oy = origin
    ca, sa = math.cos(angle), math.sin(angle)

    def tf(x, y):
        if flip:
            y = -y
        return ox + x * ca - y * sa, oy + x * sa + y * ca

    return tf


def draw_head(d, end, before, r, flip, tongue=False, repaint_neck=None):
    """Serpent head in profile at the end of a neck, pointing along it."""
    angle = math.atan2(end[1] - before[1], end[0] - before[0])
    tf = local(end, angle, flip)
    k = r / 10.0  # head scale relative to the neck tip radius

    # head silhouette: skull bump on top, long snout, flat jaw
    outline = [
        (-6, -9), (2, -12.5), (12, -12), (22, -9.5), (30, -7),
        (36, -4.5), (39, -1.5), (39, 1.5), (35, 4), (26, 6.5),
        (14, 9), (4, 10.5), (-6, 9),
    ]
    poly = [tf(x * k, y * k) for x, y in outline]
    # crest spikes at the back of the skull, behind the head
    for bx, by, tx, ty in [(-7, -5.0, -21, -14), (-1, -9.5, -12, -22), (7, -12.0, 1, -25)]:
        spike = [tf(bx * k, by * k), tf((bx + 10) * k, (by - 1.5) * k), tf(tx * k, ty * k)]
        d.polygon(spike, fill=SPIKE, outline=OUTLINE, width=int(s(1.6)))
    # silhouette outline: a thick closed stroke, then the fill
    d.line(poly + poly[:2], fill=OUTLINE, width=int(s(6.4)), joint="curve")
    for px, py in poly:
        disc(d, px, py, s(3.2), OUTLINE)
    d.polygon(poly, fill=SKIN)
    if repaint_neck is not None:
        repaint_neck()  # hide the outline where the skull's back crosses the neck

    # lower jaw (lighter) and mouth line
    jaw = [(-4, 0.5), (2, 2.6), (8, 4.2), (14, 4.2), (26, 3.2), (35, 2.2), (35, 4), (26, 6.5),
           (14, 9), (4, 10.5), (-6, 9)]
    d.polygon([tf(x * k, y * k) for x, y in jaw], fill=BELLY)
    d.line([tf(x * k, y * k) for x, y in [(7, 4.2), (14, 4.2), (26, 3.2), (37, 1.8)]],
           fill=OUTLINE, width=int(s(2.2)), joint="curve")

    # brow ridge
    d.line([tf(x * k, y * k) for x, y in [(4, -11.0), (12, -13.5), (20, -10.0)]],
           fill=OUTLINE, width=int(s(2.4)), joint="curve")

    # eye
    ex, ey = tf(14 * k, -6.0 * k)
    er = 3.6 * k
    disc(d, ex, ey, er + s(1.6), OUTLINE)
    disc(d, ex, ey, er, EYE)
    # slit pupil, oriented across the head
    p1 = tf(14 * k, -8.6 * k)
    p2 = tf(14 * k, -3.4 * k)
    d.line([p1, p2], fill=PUPIL, width=int(1.5 * k))
    # nostril
    nx, ny = tf(33 * k, -3.2 * k)
    disc(d, nx, ny, 1.0 * k, OUTLINE)

    if tongue:
        pts = [(39, 0.5), (47, 0.5)]
        fork = [(47, 0.5), (52, -3.0), (47, 0.5), (52, 4.0)]
        d.line([tf(x * k, y * k) for x, y in pts], fill=TONGUE, width=int(1.4 * k))
        d.line([tf(x * k, y * k) for x, y in fork[:2]], fill=TONGUE, width=int(1.2 * k))
        d.line([tf(x * k, y * k) for x, y in fork[2:]], fill=TONGUE, width=int(1.2 * k))


def rounded_badge(img):
    """Vertical gradient on a rounded square, transparent corners."""
    grad = Image.new("RGB", (1, W))
    for y in range(W):
        grad.putpixel((0, y), lerp_color(BG_TOP, BG_BOTTOM, y / (W - 1)))
    grad = grad.resize((W, W))
    mask = Image.new("L", (W, W), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, W - 1, W - 1), radius=s(72), fill=255)
    img.paste(grad, (0, 0), mask)


def load_font(px):
    for name in ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                 "Arial Bold.ttf", "arialbd.ttf"):
        try:
            return ImageFont.truetype(name, px)
        except OSError:
            continue
    return ImageFont.load_default(size=px)


def make_logo() -> Image.Image:
    img = Image.new("RGBA", (W, W), (0, 0, 0, 0))
    rounded_badge(img)
    d = ImageDraw.Draw(img)

    # Necks, back to front: Bezier control points on the 512-px design grid,
    # base radius, tip radius, and whether the head faces left.  The last
    # control segment sets the direction the head looks in.
    necks = [
        (((222, 362), (120, 340), (128, 214), (96, 206)), 19, 11, True),    # far left
        (((290, 362), (392, 340), (384, 214), (416, 206)), 19, 11, False),   # far right
        (((238, 356), (176, 290), (206, 138), (164, 126)), 20, 12, True),    # inner left
        (((274, 356), (336, 290), (306, 138), (348, 126)), 20, 12, False),   # inner right
        (((256, 352), (236, 250), (222, 96), (266, 78)), 21, 13, False),     # centre
    ]
    tips = []
    for (p0, p1, p2, p3), r0, r1, left in necks:
        pts = [(s(x), s(y)) for x, y in (p0, p1, p2, p3)]
        end, before, repaint = draw_neck(d, pts, s(r0), s(r1), belly_side=-1.0 if left else 1.0)
        tips.append((end, before, s(r1), left, repaint))

    # the body: stacked coils of a thick serpent seen from the front.  A dark
    # mound fills the space behind; each coil is the front arc of a ring, and
    # lower coils are drawn later so they sit in front of the ones above.
    coils = [(344, 56, 12, 16), (366, 88, 16, 18), (392, 118, 20, 20)]
    mound = []
    for i in range(0, 361, 4):
        a = math.radians(i)
        mound.append((s(256 + 112 * math.cos(a)), s(360 + 40 * math.sin(a))))
    d.polygon(mound, fill=SKIN_DARK, outline=OUTLINE, width=int(s(3)))
    for cy, rx, ry, r in coils:
        arc = []
        for i in range(-12, 193, 2):
            a = math.radians(i)
            arc.append((s(256 + rx * math.cos(a)), s(cy + ry * math.sin(a))))
        draw_path(d, arc, s(r), s(r))
    # tail curling off to the right
    tail = [(s(362), s(404)), (s(430), s(410)), (s(452), s(356)), (s(418), s(344))]
    draw_neck(d, tail, s(16), s(3), belly_side=1.0)

    # heads on top of everything; a left-facing head is a mirrored right one
    for i, (end, before, r, left, repaint) in enumerate(tips):
        draw_head(d, end, before, r * 1.45, flip=left, tongue=(i == len(tips) - 1),
                  repaint_neck=repaint)

    # wordmark
    font = load_font(int(s(62)))
    text = "Hydra"
    bbox = d.textbbox((0, 0), text, font=font)
    tw = bbox[2] - bbox[0]
    d.text(((W - tw) / 2 - bbox[0], s(420)), text, font=font, fill=TEXT)

    return img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "hydra.png"
    img = make_logo()
    img.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
