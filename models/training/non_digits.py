"""Drawings that are not digits, for teaching the digit CNN to say so (outlier exposure).

What visitors draw to test a digit classifier: letters, symbols and shapes. Each function draws
on a 280x280 canvas, as the Digits tab's, and returns the ink in [0, 1] (white on black):

- `hand_letter`: a capital letter drawn as a few strokes, as a hand with a mouse would: jittered
  points, a random size, place, slant and brush width;
- `font_glyph`: a letter or symbol rendered from a font the machine has (DejaVu, Liberation),
  with the same geometric variety;
- `shape`: a hand-drawn shape: triangle, square, star, heart, arrow, plus, hash, spiral, wave,
  house, zigzag.

Glyphs that *are* digit-like are left out, since a person would read them as a digit too:
O o D Q (a 0), I l i j | ! / (a 1), S s (a 5), Z z (a 2), B (an 8), G b (a 6), q g (a 9), ? (a 2).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CANVAS = 280
# Capital letters as strokes, in a unit box (x right, y down).
LETTERS = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(1, 0), (0, 0), (0, 1), (1, 1)], [(0, 0.5), (0.75, 0.5)]],
    "F": [[(1, 0), (0, 0), (0, 1)], [(0, 0.48), (0.75, 0.48)]],
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(1, 0), (0.05, 0.55), (1, 1)]],
    "M": [[(0, 1), (0, 0), (0.5, 0.65), (1, 0), (1, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "R": [[(0, 1), (0, 0), (0.65, 0), (0.9, 0.12), (0.9, 0.36), (0.65, 0.5), (0, 0.5)],
          [(0.35, 0.5), (1, 1)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "L": [[(0, 0), (0, 1), (0.8, 1)]],
    "T": [[(0, 0), (1, 0)], [(0.5, 0), (0.5, 1)]],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "Y": [[(0, 0), (0.5, 0.5), (1, 0)], [(0.5, 0.5), (0.5, 1)]],
    "P": [[(0, 1), (0, 0), (0.7, 0), (0.95, 0.15), (0.95, 0.35), (0.7, 0.5), (0, 0.5)]],
    "U": [[(0, 0), (0, 0.75), (0.2, 1), (0.8, 1), (1, 0.75), (1, 0)]],
}
SHAPES = ["triangle", "square", "star", "heart", "arrow", "plus", "hash", "spiral", "wave",
          "house", "zigzag"]
DIGIT_LIKE = set("OoDQIlij|!/SsZzBGbqg?")
GLYPHS = [c for c in "ACEFHKLMNPRTUVWXYacdefhkmnprtuvwxy#%&*+=@<>{}[]~^" if c not in DIGIT_LIKE]


def _shape_strokes(kind: str, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """A shape's strokes in the unit box."""
    if kind == "triangle":
        return [[(0.5, 0), (1, 1), (0, 1), (0.5, 0)]]
    if kind == "square":
        return [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]]
    if kind == "star":
        pts = [(0.5 + 0.5 * math.sin(k * 4 * math.pi / 5), 0.5 - 0.5 * math.cos(k * 4 * math.pi /
                                                                               5))
               for k in range(6)]
        return [pts]
    if kind == "heart":
        t = np.linspace(0, 2 * np.pi, 40)
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return [list(zip((x + 17) / 34, (13 - y) / 30))]
    if kind == "arrow":
        return [[(0, 0.5), (1, 0.5)], [(0.65, 0.2), (1, 0.5), (0.65, 0.8)]]
    if kind == "plus":
        return [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]]
    if kind == "hash":
        return [[(0.35, 0), (0.3, 1)], [(0.7, 0), (0.65, 1)], [(0, 0.33), (1, 0.33)],
                [(0, 0.66), (1, 0.66)]]
    if kind == "spiral":
        turns = rng.uniform(2, 3.5)
        t = np.linspace(0, turns * 2 * np.pi, 80)
        r = 0.5 * t / t[-1]
        return [list(zip(0.5 + r * np.cos(t), 0.5 + r * np.sin(t)))]
    if kind == "wave":
        periods = rng.uniform(1.5, 3)
        x = np.linspace(0, 1, 60)
        return [list(zip(x, 0.5 + 0.3 * np.sin(x * periods * 2 * np.pi)))]
    if kind == "house":
        return [[(0, 0.45), (0, 1), (1, 1), (1, 0.45), (0, 0.45), (0.5, 0), (1, 0.45)]]
    if kind == "zigzag":
        n = int(rng.integers(4, 8))
        return [[(i / n, 0.2 if i % 2 else 0.8) for i in range(n + 1)]]
    raise ValueError(f"unknown shape {kind!r}")


def _draw_strokes(strokes, rng: np.random.Generator, size: float | None = None,
                  width: int | None = None) -> np.ndarray:
    """Strokes in the unit box, drawn by a shaky hand: resampled and jittered, slanted, scaled
    to `size` of the canvas (random if None), placed at random, with a round brush of `width`
    pixels (random if None)."""
    size = size if size is not None else rng.uniform(0.35, 0.9)
    width = width if width is not None else int(rng.integers(8, 28))
    aspect = rng.uniform(0.7, 1.3)
    angle = rng.uniform(-0.3, 0.3)
    shear = rng.uniform(-0.2, 0.2)
    span = size * CANVAS
    cx = rng.uniform(span / 2 + 10, CANVAS - span / 2 - 10) if span < CANVAS - 20 else CANVAS / 2
    cy = rng.uniform(span / 2 + 10, CANVAS - span / 2 - 10) if span < CANVAS - 20 else CANVAS / 2
    cos, sin = math.cos(angle), math.sin(angle)
    wobble = rng.uniform(0.002, 0.012)
    img = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=float)
        # Resample each segment into short steps, so that the jitter makes a wobbly line.
        dense = [pts[0]]
        for a, b in zip(pts[:-1], pts[1:]):
            n = max(2, int(np.linalg.norm(b - a) / 0.05))
            dense += [a + (b - a) * k / n for k in range(1, n + 1)]
        pts = np.asarray(dense) + rng.normal(0, wobble, (len(dense), 2))
        x, y = (pts[:, 0] - 0.5) * aspect, pts[:, 1] - 0.5
        x, y = x + shear * y, y
        x, y = x * cos - y * sin, x * sin + y * cos
        xy = list(zip(cx + x * span, cy + y * span))
        draw.line(xy, fill=255, width=width, joint="curve")
        for px, py in (xy[0], xy[-1]):  # round ends, as a brush leaves them
            draw.ellipse([px - width / 2, py - width / 2, px + width / 2, py + width / 2],
                         fill=255)
    return np.asarray(img, np.float32) / 255


def hand_letter(letter: str, rng: np.random.Generator, size=None, width=None) -> np.ndarray:
    return _draw_strokes(LETTERS[letter], rng, size, width)


def shape(kind: str, rng: np.random.Generator, size=None, width=None) -> np.ndarray:
    return _draw_strokes(_shape_strokes(kind, rng), rng, size, width)


@lru_cache(maxsize=1)
def fonts() -> list[str]:
    """The TrueType fonts of Debian's DejaVu and Liberation packages, where installed."""
    found = []
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"):
        found += sorted(str(p) for p in Path(folder).glob("*.ttf"))
    if not found:
        raise SystemExit("No DejaVu or Liberation fonts: apt-get install fonts-dejavu-core "
                         "fonts-liberation")
    return found


def font_glyph(char: str, rng: np.random.Generator) -> np.ndarray:
    """A glyph from a random font, at a random size, place and slant."""
    font = ImageFont.truetype(fonts()[int(rng.integers(len(fonts())))],
                              int(rng.integers(90, 250)))
    img = Image.new("L", (CANVAS * 2, CANVAS * 2), 0)
    ImageDraw.Draw(img).text((CANVAS, CANVAS), char, fill=255, font=font, anchor="mm")
    img = img.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
    box = img.getbbox() or (0, 0, 1, 1)
    glyph = img.crop(box)
    out = Image.new("L", (CANVAS, CANVAS), 0)
    w, h = glyph.size
    if max(w, h) > CANVAS - 20:
        k = (CANVAS - 20) / max(w, h)
        glyph = glyph.resize((max(1, int(w * k)), max(1, int(h * k))))
        w, h = glyph.size
    out.paste(glyph, (int(rng.integers(5, CANVAS - w - 4)), int(rng.integers(5, CANVAS - h - 4))))
    return np.asarray(out, np.float32) / 255


def sample(kind: str, n: int, seed: int) -> list[np.ndarray]:
    """n canvases of one kind: "letters" (half hand-drawn, half font glyphs) or "shapes"."""
    rng = np.random.default_rng(seed)
    if kind == "letters":
        names = list(LETTERS)
        return [hand_letter(names[int(rng.integers(len(names)))], rng) if i % 2 == 0
                else font_glyph(GLYPHS[int(rng.integers(len(GLYPHS)))], rng) for i in range(n)]
    if kind == "shapes":
        return [shape(SHAPES[int(rng.integers(len(SHAPES)))], rng) for _ in range(n)]
    raise ValueError(f"unknown kind {kind!r}")
