"""Handwritten digits: a small CNN that reads them, and the 784-16-16-10 MLP that explains them.

Two networks are trained on the same MNIST digits (see models/training/train_digits.py):

- ``DigitCNN`` does the classifying: two conv blocks and a small classifier, >98.5 % on held-out
  digits. Its penultimate features also tell us when a drawing is unlike any digit it was
  trained on (see ``_unfamiliarity``).
- ``DigitMLP`` is the network of the classic explanations: 784 pixels -> 16 -> 16 -> 10, small
  enough that every neuron can be drawn. It is shown, not trusted.

Drawings are turned into what MNIST looks like before either network sees them: white ink on
black, the digit fitted into a 20x20 box and placed in a 28x28 image by its centre of mass.
That part is here (numpy, PIL); the networks themselves are in models/digits/networks.py (torch),
imported on first use so that the app starts without importing torch.
"""


from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

WEIGHTS_DIR = Path(__file__).parents[1] / "weights" / "digits"
CLASSES = [str(d) for d in range(10)]

# A prediction below this confidence is reported as "not sure"; below NONSENSE the network spreads
# its bets over three or more digits, which it was trained to do for non-digits (outlier
# exposure, see models/training/train_digits.py), so we say it does not look like a digit.
CONFIDENT = 0.80
NONSENSE = 0.35
# Pixels fainter than this (0..1) count as background when we look for the ink's bounding box.
INK_THRESHOLD = 0.1

# What models/digits/networks.py (torch) provides, imported on first use: the app starts without
# importing torch, and `digits.load()`, `digits.DigitCNN` ... still work.
_NETWORKS = {"MLPConfig", "DigitCNN", "DigitMLP", "ACTIVATIONS", "DigitModels", "save", "load",
             "load_mlp", "mlp_inside"}


def __getattr__(name: str):
    if name in _NETWORKS:
        from models.digits import networks as digit_networks

        return getattr(digit_networks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def training_log() -> dict:
    """Accuracies and per-epoch curves recorded when the shipped weights were trained."""
    return json.loads((WEIGHTS_DIR / "training.json").read_text())



# ---------------------------------------------------------------------------------------------
# From a drawing to an MNIST-style 28x28 image


# The digit is cropped and shrunk to 20 x 20 anyway: a picture larger than this on a side is
# reduced first (a 2,000 x 2,000 one would otherwise become 64 MB of floats per layer).
MAX_SIDE = 560  # twice the canvas


def reduced(image: np.ndarray) -> np.ndarray:
    """An (H, W, C) picture with no side over MAX_SIDE: shrunk by an integer factor, each
    output pixel the mean of its block (as PIL's BOX filter), in the picture's own dtype."""
    factor = -(-max(image.shape[:2]) // MAX_SIDE)  # ceiling division
    if factor <= 1:
        return image
    if image.dtype == np.uint8 and image.shape[2] in (1, 3, 4):
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[image.shape[2]]
        picture = Image.fromarray(image[:, :, 0] if mode == "L" else image, mode)
        small = np.asarray(picture.reduce(factor))
        return small[:, :, None] if small.ndim == 2 else small
    return image[::factor, ::factor]  # any other kind: every factor-th pixel


def ink_from_image(image: np.ndarray, alpha_is_ink: bool = False) -> np.ndarray:
    """How much ink each pixel holds (0..1), for an image of any size, colour and polarity.

    A Sketchpad layer (`alpha_is_ink`), or any image with transparency, is ink where it is
    opaque, whatever the colour. An opaque image is
    ink where it differs from its background, which we take to be the colour of its border: so
    black-on-white, white-on-black and a dark-theme grey canvas all work, and a blank one is empty.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f"Expected an image of shape (H, W[, C]), got {image.shape}.")
    image = reduced(image)  # before the float copy, which is four times the bytes
    image = image.astype(np.float32)
    if image.max() > 1.0:
        image = image / 255.0
    channels = image.shape[2]
    if channels in (2, 4):
        alpha = image[:, :, -1]
        if alpha_is_ink or alpha.min() < 0.99:  # transparency carries the drawing
            return alpha
        image = image[:, :, :-1]
    # The channels' mean, added plane by plane: numpy's mean over the last axis of an (H, W, C)
    # array took ten times as long (1.3 ms of a 6.5 ms classification at 280x280).
    gray = sum(image[:, :, c] for c in range(image.shape[2])) / image.shape[2]  # (H, W)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = np.abs(gray - np.median(border))
    peak = ink.max()
    return ink / peak if peak > 0.25 else np.zeros_like(ink)  # faint noise is not a drawing


def ink_from_sketch(background=None, layers=None, composite=None) -> np.ndarray | None:
    """Combine a Sketchpad value's parts (RGBA arrays) into one ink map, or None if there are none.

    Strokes live in the layers' alpha channel, which does not depend on theme or brush colour. A
    picture sent through the API arrives as background or composite instead.
    """
    inks = [ink_from_image(layer, alpha_is_ink=True) for layer in (layers or [])
            if layer is not None]
    if background is not None:
        inks.append(ink_from_image(background))
    if not any(ink.max() > 0 for ink in inks) and composite is not None:
        inks.append(ink_from_image(composite))
    inks = [ink for ink in inks if ink.max() > 0]
    if not inks:
        return None
    shape = inks[0].shape
    if any(ink.shape != shape for ink in inks):
        raise ValueError("The drawing's layers have different sizes.")
    return np.max(np.stack(inks), axis=0)


def image_from_sketch(sketch, empty: str) -> np.ndarray:
    """A Sketchpad value (a dict of background, layers and composite; anything else is taken as
    empty) -> the 28 x 28 image the networks see. Raises ValueError(empty) when nothing is
    drawn, and preprocess's and ink_from_sketch's errors."""
    if not isinstance(sketch, dict):
        sketch = {}
    ink = ink_from_sketch(sketch.get("background"), sketch.get("layers"), sketch.get("composite"))
    if ink is None:
        raise ValueError(empty)
    return preprocess(ink)


def preprocess(ink: np.ndarray) -> np.ndarray:
    """MNIST's own recipe: crop to the ink, fit into 20x20 keeping the aspect ratio, then place
    in 28x28 so that the centre of mass sits at the centre. Returns float32 (28, 28) in [0, 1].

    Raises ValueError when there is no ink at all.
    """
    ink = np.clip(np.asarray(ink, dtype=np.float32), 0.0, 1.0)
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    if rows.size == 0:
        raise ValueError("The canvas is empty: draw a digit first.")
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    # Resizing with antialiasing averages the strokes into grey edges, as MNIST's scanning did.
    small = Image.fromarray(crop).resize((new_w, new_h), Image.Resampling.BOX if scale < 1
                                         else Image.Resampling.BILINEAR)
    small = np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0)
    if small.max() > 0:
        small = small / small.max()  # a thin stroke shrinks to grey; MNIST's strokes peak at white
    # Place the box in the middle, then shift so the centre of mass lands on (14, 14).
    out = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    out[top:top + new_h, left:left + new_w] = small
    ys, xs = np.indices(out.shape)
    mass = out.sum()
    dy = int(round(13.5 - (ys * out).sum() / mass))
    dx = int(round(13.5 - (xs * out).sum() / mass))
    dy = int(np.clip(dy, -top, 28 - new_h - top))  # never push ink off the image
    dx = int(np.clip(dx, -left, 28 - new_w - left))
    return np.roll(out, (dy, dx), axis=(0, 1))


# ---------------------------------------------------------------------------------------------
# Predicting


def predict(image: np.ndarray) -> dict:
    """Classify one 28x28 image in [0, 1] (white ink on black): see digit_networks.predict."""
    from models.digits import networks as digit_networks

    return digit_networks.predict(image)



def classify_sketch(background=None, layers=None, composite=None) -> dict:
    """From a Sketchpad's arrays to a prediction, with the 28x28 image the networks saw.

    Returns predict()'s dict plus "image" (28x28 float array) and "message" (a sentence for the
    user), or {"image": None, "message": ...} when there is nothing to classify.
    """
    ink = ink_from_sketch(background, layers, composite)
    if ink is None:
        return {"image": None, "message": "Draw a digit (0-9) on the canvas."}
    coverage = float((ink > INK_THRESHOLD).mean())
    image = preprocess(ink)
    result = predict(image)
    result["image"] = image
    rows = np.flatnonzero(ink.max(axis=1) > INK_THRESHOLD)
    cols = np.flatnonzero(ink.max(axis=0) > INK_THRESHOLD)
    extent = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) / max(ink.shape)
    if extent < 0.08:
        result["verdict"] = "not a digit"
        result["message"] = "That is only a dot: draw a digit across a good part of the canvas."
    elif coverage > 0.5:
        result["verdict"] = "not a digit"
        result["message"] = "The canvas is mostly ink: that does not look like a digit."
    else:
        result["message"] = _message(result)
    return result


def _message(result: dict) -> str:
    label, conf = result["label"], result["confidence"]
    if result["verdict"] == "not a digit":
        return (f"This does not look like a digit. The best guess would be {label} ({conf:.0%}), "
                "but a classifier always names some class: don't trust it.")
    if result["verdict"] == "not sure":
        ranked = sorted(result["probabilities"].items(), key=lambda kv: -kv[1])
        (a, pa), (b, pb) = ranked[:2]
        return f"Not sure: maybe {a} ({pa:.0%}), maybe {b} ({pb:.0%})."
    return f"It's a {label} ({conf:.0%} confident)."
