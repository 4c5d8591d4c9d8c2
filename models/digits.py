"""Handwritten digits: a small CNN that reads them, and the 784-16-16-10 MLP that explains them.

Two networks are trained on the same MNIST digits (see models/training/train_digits.py):

- ``DigitCNN`` does the classifying: two conv blocks and a small classifier, >98.5 % on held-out
  digits. Its penultimate features also tell us when a drawing is unlike any digit it was
  trained on (see ``_unfamiliarity``).
- ``DigitMLP`` is the network of the classic explanations: 784 pixels -> 16 -> 16 -> 10, small
  enough that every neuron can be drawn. It is shown, not trusted.

Drawings are turned into what MNIST looks like before either network sees them: white ink on
black, the digit fitted into a 20x20 box and placed in a 28x28 image by its centre of mass.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file

WEIGHTS_DIR = Path(__file__).parent / "weights" / "digits"
CLASSES = [str(d) for d in range(10)]

# A prediction below this confidence is reported as "not sure"; below NONSENSE the network spreads
# its bets over three or more digits, which it was trained to do for non-digits (outlier
# exposure, see models/training/train_digits.py), so we say it does not look like a digit.
CONFIDENT = 0.80
NONSENSE = 0.35
# Pixels fainter than this (0..1) count as background when we look for the ink's bounding box.
INK_THRESHOLD = 0.1


@dataclass
class MLPConfig:
    n_in: int = 784
    n_hidden: int = 16
    n_out: int = 10
    activation: str = "relu"  # "sigmoid", "tanh" or "relu": the comparison in the Activations tab


class DigitCNN(nn.Module):
    """conv(32) conv(32) pool, conv(64) conv(64) pool, fc(128), fc(10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 1, 28, 28) -> (B, 128), the representation the classifier reads
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.bn1(self.conv2(x))), 2)  # (B, 32, 14, 14)
        x = F.relu(self.conv3(x))
        x = F.max_pool2d(F.relu(self.bn2(self.conv4(x))), 2)  # (B, 64, 7, 7)
        x = x.flatten(1)  # (B, 64*7*7)
        return F.relu(self.fc1(self.dropout(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(self.features(x)))  # logits (B, 10)


ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


class DigitMLP(nn.Module):
    """784 -> 16 -> 16 -> 10, 13,002 weights and biases."""

    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        self.fc1 = nn.Linear(config.n_in, config.n_hidden)
        self.fc2 = nn.Linear(config.n_hidden, config.n_hidden)
        self.fc3 = nn.Linear(config.n_hidden, config.n_out)

    def layers(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        act = ACTIVATIONS[self.config.activation]
        h1 = act(self.fc1(x.flatten(1)))  # (B, 16)
        h2 = act(self.fc2(h1))  # (B, 16)
        return h1, h2, self.fc3(h2)  # logits (B, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)[2]


# ---------------------------------------------------------------------------------------------
# Saving and loading


def save(cnn: DigitCNN, mlps: dict[str, DigitMLP], ood: dict[str, torch.Tensor], meta: dict):
    """Write the shipped weights: one safetensors file per network, plus a JSON of metadata."""
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    save_file({**cnn.state_dict(), **{f"ood.{k}": v for k, v in ood.items()}},
              WEIGHTS_DIR / "cnn.safetensors")
    for name, mlp in mlps.items():
        save_file(mlp.state_dict(), WEIGHTS_DIR / f"mlp_{name}.safetensors",
                  metadata={"config": json.dumps(asdict(mlp.config))})
    (WEIGHTS_DIR / "training.json").write_text(json.dumps(meta, indent=1) + "\n")


@dataclass
class DigitModels:
    cnn: DigitCNN
    mlp: DigitMLP
    class_means: torch.Tensor  # (10, 128) mean CNN feature of each class on training digits
    feature_scale: torch.Tensor  # (128,) per-feature spread, to normalise distances
    ood_threshold: float  # distances above this were seen on <1 % of held-out digits


def load_mlp(activation: str = "relu") -> DigitMLP:
    path = WEIGHTS_DIR / f"mlp_{activation}.safetensors"
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        config = MLPConfig(**json.loads(f.metadata()["config"]))
    mlp = DigitMLP(config)
    mlp.load_state_dict(load_file(path))
    return mlp.eval()


@lru_cache(maxsize=1)
def load() -> DigitModels:
    """Load the shipped networks once (they are small: ~2 MB)."""
    state = load_file(WEIGHTS_DIR / "cnn.safetensors")
    ood = {k.removeprefix("ood."): state.pop(k) for k in list(state) if k.startswith("ood.")}
    cnn = DigitCNN()
    cnn.load_state_dict(state)
    return DigitModels(cnn.eval(), load_mlp("relu"), ood["class_means"], ood["feature_scale"],
                       float(ood["threshold"]))


def training_log() -> dict:
    """Accuracies and per-epoch curves recorded when the shipped weights were trained."""
    return json.loads((WEIGHTS_DIR / "training.json").read_text())


# ---------------------------------------------------------------------------------------------
# From a drawing to an MNIST-style 28x28 image


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
    image = image.astype(np.float32)
    if image.max() > 1.0:
        image = image / 255.0
    channels = image.shape[2]
    if channels in (2, 4):
        alpha = image[:, :, -1]
        if alpha_is_ink or alpha.min() < 0.99:  # transparency carries the drawing
            return alpha
        image = image[:, :, :-1]
    gray = image.mean(axis=2)  # (H, W)
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


def _unfamiliarity(models: DigitModels, features: torch.Tensor, label: int) -> float:
    """Distance of a drawing's CNN features from the predicted class's mean, divided by the
    distance that 99 % of held-out real digits stay under. Above 1: unlike the digits it knows.

    A softmax always sums to one, so a classifier will confidently name nonsense; this measures
    how far from its training data an input lies instead.
    """
    d = ((features - models.class_means[label]) / models.feature_scale).norm().item()
    return d / models.ood_threshold


@torch.no_grad()
def predict(image: np.ndarray) -> dict:
    """Classify one 28x28 image in [0, 1] (white ink on black).

    Returns {"probabilities": {"0": p0, ..., "9": p9}, "label", "confidence", "unfamiliarity",
    "verdict" ("confident" | "not sure" | "not a digit"), "mlp": the MLP's inside view}.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.shape != (28, 28):
        raise ValueError(f"Expected a 28x28 image, got {image.shape}.")
    if not np.isfinite(image).all():
        raise ValueError("The image contains NaN or infinite values.")
    models = load()
    x = torch.from_numpy(np.clip(image, 0, 1)).view(1, 1, 28, 28)  # (B=1, C=1, H, W)
    features = models.cnn.features(x)
    probs = F.softmax(models.cnn.fc2(features), dim=-1)[0]
    label = int(probs.argmax())
    confidence = float(probs[label])
    unfamiliarity = _unfamiliarity(models, features[0], label)
    if unfamiliarity > 1.0 or confidence < NONSENSE:
        verdict = "not a digit"
    elif confidence < CONFIDENT:
        verdict = "not sure"
    else:
        verdict = "confident"
    return {
        "probabilities": {c: float(p) for c, p in zip(CLASSES, probs)},
        "label": CLASSES[label],
        "confidence": confidence,
        "unfamiliarity": unfamiliarity,
        "verdict": verdict,
        "mlp": mlp_inside(image, models.mlp),
    }


@torch.no_grad()
def mlp_inside(image: np.ndarray, mlp: DigitMLP) -> dict:
    """Everything needed to draw the MLP at work on one image.

    "hidden1", "hidden2": the 16 activations of each hidden layer; "output": the 10 softmax
    probabilities; "w2", "w3": each connection's contribution to the next layer's input,
    weight x activation of its source neuron (shapes (16, 16) and (10, 16)).
    """
    x = torch.from_numpy(np.asarray(image, dtype=np.float32)).view(1, 784)
    h1, h2, logits = mlp.layers(x)
    h1, h2 = h1[0], h2[0]
    return {
        "activation": mlp.config.activation,
        "hidden1": h1.tolist(),
        "hidden2": h2.tolist(),
        "output": F.softmax(logits[0], dim=-1).tolist(),
        "w2": (mlp.fc2.weight * h1[None, :]).tolist(),  # (16 out, 16 in)
        "w3": (mlp.fc3.weight * h2[None, :]).tolist(),  # (10 out, 16 in)
    }


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
