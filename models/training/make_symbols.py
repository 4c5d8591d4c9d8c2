"""Make the Transfer learning tab's starter set: ten symbols drawn by a simulated hand.

No data set of hand-drawn symbols is on a package registry we can reach, so the hand is
simulated: each symbol is a template of strokes (a triangle is one closed stroke, an arrow two),
and every drawing of it varies as a person's would: turned up to 25°, slanted, stretched, each
stroke wobbling (a smooth random displacement), started late or stopped short, drawn with a
pen 8 to 34 px wide on the same
280 × 280 canvas as the app's, then made into 28 × 28 exactly as a drawing is (models.digits:
cropped, fitted into 20 × 20, centred by mass). The training pool and the held-out variants come
from different random streams: no held-out drawing is a copy of a training one.

    python -m models.training.make_symbols            # writes models/weights/transfer/symbols.npz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from models.digits import ink_from_image, preprocess

OUT = Path(__file__).parents[1] / "weights" / "transfer" / "symbols.npz"
CANVAS = 280


def _circle(turns=1.08, r0=0.38, r1=0.38, n=40):
    t = np.linspace(0, 2 * np.pi * turns, n)
    r = np.linspace(r0, r1, n)
    return [list(zip(0.5 + r * np.cos(t), 0.5 + r * np.sin(t)))]


def _star():
    angles = np.deg2rad(-90 + 144 * np.arange(6))
    return [list(zip(0.5 + 0.45 * np.cos(angles), 0.52 + 0.45 * np.sin(angles)))]


def _heart():
    t = np.linspace(0, 2 * np.pi, 48)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return [list(zip(0.5 + x / 36, 0.45 - y / 36))]


# Each symbol: its strokes, each a list of (x, y) in a unit square, y pointing down.
TEMPLATES = {
    "triangle": [[(0.5, 0.1), (0.9, 0.85), (0.1, 0.85), (0.5, 0.1)]],
    "square": [[(0.15, 0.15), (0.85, 0.15), (0.85, 0.85), (0.15, 0.85), (0.15, 0.15)]],
    "circle": _circle(),
    "star": _star(),
    "heart": _heart(),
    "arrow": [[(0.08, 0.5), (0.92, 0.5)], [(0.65, 0.25), (0.92, 0.5), (0.65, 0.75)]],
    "cross": [[(0.15, 0.15), (0.85, 0.85)], [(0.85, 0.15), (0.15, 0.85)]],
    "lightning": [[(0.62, 0.05), (0.3, 0.52), (0.66, 0.48), (0.36, 0.95)]],
    "spiral": _circle(turns=2.3, r0=0.03, r1=0.42, n=80),
    "A": [[(0.15, 0.92), (0.5, 0.08), (0.85, 0.92)], [(0.3, 0.6), (0.7, 0.6)]],
}
CLASSES = list(TEMPLATES)


def _resample(stroke, step=0.02):
    """Points every `step` along a stroke, so that the wobble bends its straight parts too."""
    stroke = np.asarray(stroke, dtype=float)
    out = [stroke[0]]
    for a, b in zip(stroke[:-1], stroke[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.extend(a + (b - a) * k / n for k in range(1, n + 1))
    return np.array(out)


def draw(symbol: str, rng: np.random.Generator) -> np.ndarray:
    """One drawing of `symbol` by the simulated hand: a 28 × 28 float image in [0, 1]."""
    angle = np.deg2rad(rng.uniform(-25, 25))
    shear = rng.uniform(-0.35, 0.35)
    sx, sy = rng.uniform(0.65, 1.35, size=2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    affine = rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    # The wobble: two smooth waves across the square, of random direction, phase and size.
    waves = [(rng.normal(size=2) * 6, rng.uniform(0, 2 * np.pi, size=2), rng.uniform(0.01, 0.05))
             for _ in range(3)]
    width = int(rng.uniform(8, 34))
    picture = Image.new("L", (CANVAS, CANVAS), 0)
    pen = ImageDraw.Draw(picture)
    for stroke in TEMPLATES[symbol]:
        points = _resample(stroke)
        points = (points - 0.5) @ affine.T + 0.5
        for k, phase, size in waves:
            points = points + size * np.sin(points @ k[:, None] + phase)  # (N, 2)
        if rng.random() < 0.4:  # sometimes the pen stops short, or starts late
            n = len(points)
            points = points[int(n * rng.uniform(0, 0.08)): max(2, int(n * rng.uniform(0.85, 1)))]
        xy = [tuple(p) for p in (0.1 + 0.8 * points) * CANVAS]
        pen.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round pen ends
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return preprocess(ink_from_image(np.asarray(picture)))


def make(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(per_class):
        for label, symbol in enumerate(CLASSES):
            images.append(draw(symbol, rng))
            labels.append(label)
    return (np.round(np.stack(images) * 255).astype(np.uint8), np.array(labels, dtype=np.uint8))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-class", type=int, default=40, help="training drawings per symbol")
    parser.add_argument("--heldout-per-class", type=int, default=40)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    train_images, train_labels = make(args.per_class, seed=0)
    heldout_images, heldout_labels = make(args.heldout_per_class, seed=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, classes=np.array(CLASSES), train_images=train_images,
                        train_labels=train_labels, heldout_images=heldout_images,
                        heldout_labels=heldout_labels)
    print(json.dumps({"classes": CLASSES, "train": len(train_labels),
                      "heldout": len(heldout_labels), "out": str(args.out)}))


if __name__ == "__main__":
    main()
