"""The two digit networks and their shipped weights (torch): the CNN that classifies, and the
784-16-16-10 MLP that is drawn. models/digits turns drawings into their input and imports
this module on first use, so that the app starts without importing torch.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from models.digits import CLASSES, CONFIDENT, NONSENSE, WEIGHTS_DIR


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
def scores(images: np.ndarray, batch: int = 500) -> dict[str, np.ndarray]:
    """Many 28x28 images in [0, 1] at once (the Evaluation tab's held-out sets): each network's
    softmax ("cnn", "mlp": (N, 10)) and the CNN's "unfamiliarity" (N,), as predict() gives them
    for one image."""
    models = load()
    cnn, mlp, unfamiliar = [], [], []
    for start in range(0, len(images), batch):
        x = torch.from_numpy(np.asarray(images[start:start + batch], dtype=np.float32))
        features = models.cnn.features(x[:, None])
        probs = F.softmax(models.cnn.fc2(features), dim=-1)
        cnn.append(probs.numpy())
        mlp.append(F.softmax(models.mlp(x), dim=-1).numpy())
        unfamiliar += [_unfamiliarity(models, f, int(label))
                       for f, label in zip(features, probs.argmax(-1))]
    return {"cnn": np.concatenate(cnn), "mlp": np.concatenate(mlp),
            "unfamiliarity": np.array(unfamiliar)}


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

