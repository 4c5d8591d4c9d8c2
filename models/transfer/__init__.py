"""Transfer learning: new classes (symbols, letters, shapes) learned from a few drawings, three
ways, on the digit CNN's architecture (models/digits/networks.py):

- "feature_extraction": the shipped CNN's four convolutional layers (and their batch norms)
  frozen; a new head (fc1 128, fc2 one output per class) trained on what they compute;
- "fine_tune": every layer starts from the shipped weights (fc2 new: it has the new classes) and
  is trained at a small learning rate; the first `freeze` conv layers may be kept frozen;
- "scratch": the same architecture, every weight random.

Why the first two work: the early layers of a network trained on digits learned strokes, edges
and corners, which every drawing is made of; a new head only has to learn which of them make
a star. From scratch, 5 drawings per class must teach strokes and stars at once.

    examples = parse_examples([{"label": "star", "image": pixels}, ...])
    run = TransferRun(examples, methods=["feature_extraction", "scratch"], steps=...)
    for state in runner.iterate(run.run(200)): ...
    run.learners["scratch"].classify(images)   # probabilities, one row per image

The examples are split once, by the seed: when every class has at least HOLDOUT_MIN drawings,
a HOLDOUT_SHARE of each class is kept aside for validation; with fewer, each drawing is held
out once (k folds, each leaving one drawing of each class out, trained side by side, and a
model on all of them that is the one used). The split is the same for every method.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from models import checks, runner
from models.checks import integer
from models.settings import Schema, Setting

WEIGHTS_DIR = Path(__file__).parents[1] / "weights" / "transfer"
METHODS = ("feature_extraction", "fine_tune", "scratch")
METHOD_NAMES = {"feature_extraction": "feature extraction", "fine_tune": "fine-tuning",
                "scratch": "from scratch"}
CONV_LAYERS = ("conv1", "conv2", "conv3", "conv4")
# Frozen with its conv layer: the batch norm that follows it.
FOLLOWS = {"conv2": "bn1", "conv4": "bn2"}

MIN_CLASSES, MAX_CLASSES = 2, 10
MIN_PER_CLASS = 2  # one to learn from and one to check it on
MAX_EXAMPLES = 500
MAX_LABEL = 40  # characters in a class's name
MAX_TEST_IMAGES = 100
MAX_PNG_BYTES = 2_000_000
MAX_PNG_SIDE = 2000
MAX_STEPS = 2000
MAX_SECONDS = 120.0  # of training per Play or call

HOLDOUT_MIN = 5  # drawings per class from which a share is held out (else leave-one-out)
HOLDOUT_SHARE = 0.2
BATCH = 32
EVAL_EVERY = 10  # steps between two validations while training
CONFIDENT = 0.80  # below it, "not sure" (as in Digits)
# Adam's learning rates: a new layer's (and every layer's from scratch), and a pretrained layer's
# when fine-tuning, which moves what the digits taught only gently.
LEARNING_RATE = 1e-3
FINE_TUNE_RATE = 5e-4
NEW_LAYERS = {"feature_extraction": ("fc1", "fc2"), "fine_tune": ("fc2",)}


def check_seed(value) -> int:
    return integer(value, "The seed", 0, 2 ** 31 - 1)


SETTINGS = Schema(
    Setting("method", "feature_extraction", "Way to learn",
            lambda v: checks.choice(v, "The method", METHODS), control="radio",
            choices=[(METHOD_NAMES[m], m) for m in METHODS]),
    Setting("freeze", 2, "Conv layers frozen when fine-tuning",
            lambda v: integer(v, "Frozen layers", 0, len(CONV_LAYERS)), control="slider",
            range=(0, len(CONV_LAYERS)), step=1),
    Setting("steps", 150, "Steps", lambda v: integer(v, "Steps", 1, MAX_STEPS),
            control="number", range=(1, MAX_STEPS), step=1),
    Setting("augment", True, "Augment (shifts, turns, thickness)",
            lambda v: checks.flag(v, "augment"), control="checkbox"),
    Setting("seed", 0, "Seed", check_seed, control="number", range=(0, 2 ** 31 - 1), step=1),
)


# ---------------------------------------------------------------------------------------------
# The examples: checked at the edge, before any picture is decoded or any network runs


@dataclass(eq=False)
class Examples:
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1], 1 = ink
    labels: np.ndarray  # (N,) int64, indices into classes
    classes: list[str]  # in the order they first appear

    def __eq__(self, other) -> bool:
        return (isinstance(other, Examples) and self.classes == other.classes
                and np.array_equal(self.labels, other.labels)
                and np.array_equal(self.images, other.images))

    def __len__(self) -> int:
        return len(self.labels)

    def counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=len(self.classes)).tolist()

    def as_json(self) -> list[dict]:
        """As the API takes them: [{"label", "image": 28 × 28 list}, ...]."""
        return [{"label": self.classes[y], "image": np.round(x, 3).tolist()}
                for x, y in zip(self.images, self.labels)]


def _upload_dirs() -> list[Path]:
    """Where gradio keeps uploaded files: the only folders a client's path may point into."""
    import os
    import tempfile

    root = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
    return [Path(root).resolve()]


def _png_bytes(value, where: str) -> bytes:
    """A PNG's bytes from a data URI, a base64 string, or gradio's file reference (a path in
    its upload folder, as gradio_client's handle_file sends it)."""
    if isinstance(value, dict):
        path = value.get("path")
        if not isinstance(path, str):
            raise ValueError(f"{where}: a file must be given as gradio's file reference.")
        resolved = Path(path).resolve()
        if not any(resolved.is_relative_to(d) for d in _upload_dirs()) or not resolved.is_file():
            raise ValueError(f"{where}: only a file uploaded to this server can be read.")
        if resolved.stat().st_size > MAX_PNG_BYTES:
            raise ValueError(f"{where}: the file is over {MAX_PNG_BYTES // 1_000_000} MB.")
        return resolved.read_bytes()
    text = value.split(",", 1)[1] if value.startswith("data:") else value
    if len(text) > MAX_PNG_BYTES * 4 // 3 + 4:
        raise ValueError(f"{where}: the picture is over {MAX_PNG_BYTES // 1_000_000} MB.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: a string must be a PNG in base64 (or a data: URI).") from None


def _decode_png(data: bytes, where: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    from models.digits import ink_from_image, preprocess

    try:
        picture = Image.open(io.BytesIO(data))
        if picture.format != "PNG":
            raise ValueError
        if max(picture.size) > MAX_PNG_SIDE:  # read from the header, before decoding
            raise ValueError(f"{where}: the picture is {picture.size[0]} × {picture.size[1]}; "
                             f"at most {MAX_PNG_SIDE} px a side.")
        picture.load()
    except ValueError as e:
        raise ValueError(str(e) or f"{where}: not a PNG picture.") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValueError(f"{where}: not a PNG picture that can be read.") from None
    if picture.mode not in ("L", "LA", "RGB", "RGBA"):
        picture = picture.convert("RGBA")
    try:
        return preprocess(ink_from_image(np.asarray(picture)))
    except ValueError:
        raise ValueError(f"{where}: the picture has no drawing on it.") from None


def parse_image(value, where: str) -> np.ndarray:
    """One image as the API takes it: a 28 × 28 list of numbers in [0, 1] (1 = ink), taken as
    it is, or a PNG of any size (a drawing, dark on light or light on dark), made 28 × 28 as
    drawings are. Raises ValueError naming what is wrong."""
    if isinstance(value, (str, dict)):
        return _decode_png(_png_bytes(value, where), where)
    if not isinstance(value, list) or len(value) != 28:
        raise ValueError(f"{where}: an image is a 28 × 28 list of numbers in [0, 1] "
                         "(or a PNG).")
    if not all(isinstance(row, list) and len(row) == 28 for row in value):
        raise ValueError(f"{where}: every row of the image must have 28 numbers.")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for row in value for v in row):
        raise ValueError(f"{where}: the image must hold numbers only.")
    image = np.asarray(value, dtype=np.float32)
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise ValueError(f"{where}: pixel values must be numbers in [0, 1] (1 = ink).")
    return image


def parse_label(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: a label is a class's name, a non-empty text.")
    label = " ".join(value.split())
    if len(label) > MAX_LABEL:
        raise ValueError(f"{where}: a class's name has at most {MAX_LABEL} characters.")
    return label


def parse_examples(examples) -> Examples:
    """The API's `examples`, checked: 2 to 10 classes, each with at least 2 drawings, at most
    MAX_EXAMPLES in all. Counts and labels are checked before any picture is decoded."""
    if isinstance(examples, dict) and "examples" in examples:  # a downloaded set
        examples = examples["examples"]
    if not isinstance(examples, list) or not examples:
        raise ValueError("There are no examples: draw a few of each class (2 to 10 classes), "
                         "or load the starter set.")
    if len(examples) > MAX_EXAMPLES:
        raise ValueError(f"{len(examples)} examples: at most {MAX_EXAMPLES}.")
    labels = []
    for i, example in enumerate(examples, 1):
        if not isinstance(example, dict) or set(example) != {"label", "image"}:
            raise ValueError(f"Example {i}: each example is {{\"label\": ..., \"image\": ...}}.")
        labels.append(parse_label(example["label"], f"Example {i}"))
    classes = check_counts(labels)
    images = np.stack([parse_image(e["image"], f"Example {i} ({e['label']!r})")
                       for i, e in enumerate(examples, 1)])
    return Examples(images, np.array([classes.index(c) for c in labels]), classes)


def check_counts(labels: list[str]) -> list[str]:
    """The classes, in the order they first appear, if there are enough of them and of each."""
    classes = list(dict.fromkeys(labels))
    if len(classes) < MIN_CLASSES:
        raise ValueError(f"Only one class ({classes[0]!r}): a classifier needs at least "
                         f"{MIN_CLASSES} classes to choose between.")
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"{len(classes)} classes: at most {MAX_CLASSES}.")
    counts = {c: labels.count(c) for c in classes}
    few = [c for c, n in counts.items() if n < MIN_PER_CLASS]
    if few:
        raise ValueError(f"{few[0]!r} has {counts[few[0]]} drawing: every class needs at least "
                         f"{MIN_PER_CLASS} (one to learn from, one to check it on).")
    return classes


def examples_from(labels: list[str], images: list) -> Examples:
    """A session's drawings (labels, 28 × 28 arrays made by the page), checked as the API's."""
    if not labels:
        raise ValueError("There are no drawings yet: draw a few of each class (2 to 10 "
                         "classes), or load the starter set.")
    if len(labels) > MAX_EXAMPLES:
        raise ValueError(f"{len(labels)} drawings: at most {MAX_EXAMPLES}.")
    classes = check_counts(labels)
    return Examples(np.stack(images).astype(np.float32),
                    np.array([classes.index(c) for c in labels]), classes)


def parse_test_images(values) -> np.ndarray:
    if values is None or values == []:
        return np.zeros((0, 28, 28), np.float32)
    if not isinstance(values, list):
        raise ValueError("test_images is a list of images (28 × 28 lists or PNGs).")
    if len(values) > MAX_TEST_IMAGES:
        raise ValueError(f"{len(values)} test images: at most {MAX_TEST_IMAGES}.")
    return np.stack([parse_image(v, f"Test image {i}") for i, v in enumerate(values, 1)])


# ---------------------------------------------------------------------------------------------
# The starter set


@lru_cache(maxsize=1)
def starter_set() -> dict:
    """The shipped symbols (models/training/make_symbols.py): "classes", and the training pool's
    and held-out variants' images (uint8, 255 = ink) and labels."""
    with np.load(WEIGHTS_DIR / "symbols.npz") as data:
        return {k: data[k] for k in data.files} | {"classes": data["classes"].tolist()}


def starter_examples(per_class: int = 5, classes=None, seed: int = 0) -> Examples:
    """`per_class` drawings of each starter class (all ten unless `classes` names some), picked
    from the training pool by the seed."""
    data = starter_set()
    names = data["classes"] if classes is None else list(classes)
    per_class = integer(per_class, "Drawings per class", 1, 40)
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k, name in enumerate(names):
        pool = np.flatnonzero(data["train_labels"] == data["classes"].index(name))
        for i in rng.choice(pool, per_class, replace=False):
            images.append(data["train_images"][i] / np.float32(255))
            labels.append(k)
    return Examples(np.stack(images).astype(np.float32), np.array(labels), names)


def heldout_examples() -> Examples:
    data = starter_set()
    return Examples(data["heldout_images"].astype(np.float32) / 255,
                    data["heldout_labels"].astype(np.int64), data["classes"])


# ---------------------------------------------------------------------------------------------
# Splitting


def split(labels: np.ndarray, seed: int) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    """How the drawings are validated, and the folds: ("holdout", [(train, val)]) when every
    class has HOLDOUT_MIN drawings or more, else ("leave_one_out", k folds), fold j holding out
    every k-th drawing of each class from the j-th on (k = the smallest class's count, at most
    HOLDOUT_MIN - 1), so that each drawing is held out exactly once."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    smallest = min(len(p) for p in per_class)
    if smallest >= HOLDOUT_MIN:
        val = np.concatenate([p[:max(1, round(HOLDOUT_SHARE * len(p)))] for p in per_class])
        return "holdout", [(np.setdiff1d(np.arange(len(labels)), val), np.sort(val))]
    folds = []
    for j in range(smallest):
        val = np.sort(np.concatenate([p[j::smallest] for p in per_class]))
        folds.append((np.setdiff1d(np.arange(len(labels)), val), val))
    return "leave_one_out", folds


# ---------------------------------------------------------------------------------------------
# The networks (torch, imported on first use)


def augment(x, generator):
    """Shifts of up to 2 px, turns of up to 12°, and strokes thickened or thinned, a fresh draw
    for each image: the variety a few drawings lack. x: (B, 1, 28, 28)."""
    import torch
    import torch.nn.functional as F

    b = x.shape[0]
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(12)
    shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * (2 / 14)  # in [-1, 1] units
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, align_corners=False)
    thick = F.max_pool2d(x, 3, 1, 1)  # each pixel the brightest of its 3 × 3: thicker
    thin = -F.max_pool2d(-x, 3, 1, 1)  # the darkest: thinner
    pick = torch.randint(0, 3, (b, 1, 1, 1), generator=generator)
    half = 0.5  # halfway there: a full 3 × 3 step is a lot at 28 × 28
    return torch.where(pick == 1, x + half * (thick - x),
                       torch.where(pick == 2, x + half * (thin - x), x))


def frozen_names(method: str, freeze: int) -> list[str]:
    """The modules whose weights do not change: the conv layers (and their batch norms)."""
    n = {"feature_extraction": len(CONV_LAYERS), "fine_tune": freeze, "scratch": 0}[method]
    names = []
    for conv in CONV_LAYERS[:n]:
        names += [conv] + ([FOLLOWS[conv]] if conv in FOLLOWS else [])
    return names


def build(method: str, n_classes: int, freeze: int, seed: int):
    """The digit CNN's architecture with `n_classes` outputs, its weights as `method` wants
    them, the frozen ones marked (requires_grad False)."""
    import torch

    from models.digits import networks

    with runner.SEEDING:
        torch.manual_seed(seed)
        net = networks.DigitCNN()  # random weights
        if method != "scratch":
            net.load_state_dict(networks.load().cnn.state_dict())
        if method == "feature_extraction":  # a new head: fc1 afresh
            net.fc1 = torch.nn.Linear(net.fc1.in_features, net.fc1.out_features)
        net.fc2 = torch.nn.Linear(net.fc2.in_features, n_classes)
    for name in frozen_names(method, freeze):
        for p in getattr(net, name).parameters():
            p.requires_grad_(False)
    return net


class Learner:
    """One network learning the classes by Adam, on batches of BATCH drawings (augmented or not)
    from its training indices."""

    def __init__(self, method: str, images, labels, n_classes: int, freeze: int, augment: bool,
                 seed: int):
        import torch

        self.method, self.freeze, self.augment = method, freeze, augment
        self.net = build(method, n_classes, freeze, seed)
        self.frozen = frozen_names(method, freeze)
        self.x = torch.from_numpy(np.asarray(images, np.float32)).unsqueeze(1)  # (N, 1, 28, 28)
        self.y = torch.from_numpy(np.asarray(labels, np.int64))
        new = NEW_LAYERS.get(method)
        groups = [{"params": [p for name, p in self.net.named_parameters() if p.requires_grad
                              and (new is None or name.split(".")[0] in new)]},
                  {"params": [p for name, p in self.net.named_parameters() if p.requires_grad
                              and new is not None and name.split(".")[0] not in new],
                   "lr": FINE_TUNE_RATE}]
        self.optimizer = torch.optim.Adam([g for g in groups if g["params"]], lr=LEARNING_RATE)
        self.generator = torch.Generator().manual_seed(seed)
        self.loss: float | None = None

    def train_mode(self):
        """Training mode, but the frozen layers' batch norms keep their statistics, and so do
        all of a pretrained network's: a few drawings are too few to re-estimate them."""
        self.net.train()
        for name in ("bn1", "bn2"):
            if self.method != "scratch" or name in self.frozen:
                getattr(self.net, name).eval()

    def step(self) -> float:
        import torch
        import torch.nn.functional as F

        self.train_mode()
        idx = torch.randint(0, len(self.y), (BATCH,), generator=self.generator)
        x = self.x[idx]
        if self.augment:
            x = augment(x, self.generator)
        loss = F.cross_entropy(self.net(x), self.y[idx])
        if not math.isfinite(loss.item()):
            raise FloatingPointError("the loss is no longer a number")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.loss = loss.item()
        return self.loss

    def classify(self, images) -> np.ndarray:
        """Probabilities (N, classes) for 28 × 28 images in [0, 1]."""
        import torch

        self.net.eval()
        with torch.no_grad():
            x = torch.from_numpy(np.asarray(images, np.float32)).reshape(-1, 1, 28, 28)
            return torch.softmax(self.net(x), -1).numpy() if len(x) else np.zeros((0, 0))


class Method:
    """One way of learning, on every fold of the split (and, with leave-one-out, on all the
    drawings: the model that is used)."""

    def __init__(self, method: str, examples: Examples, folds, freeze: int, augment: bool,
                 seed: int):
        k = len(examples.classes)
        self.method, self.folds = method, folds
        self.learners = [Learner(method, examples.images[tr], examples.labels[tr], k, freeze,
                                 augment, seed + j) for j, (tr, _) in enumerate(folds)]
        if len(folds) > 1:
            self.learners.append(Learner(method, examples.images, examples.labels, k, freeze,
                                         augment, seed + len(folds)))
        self.examples = examples
        self.history: list[dict] = []  # {"step", "loss", "val_accuracy"}
        self._evaluated: tuple[int, dict] | None = None

    @property
    def model(self) -> Learner:
        """The network that answers: the one trained on every drawing not held out."""
        return self.learners[-1]

    def step(self):
        for learner in self.learners:
            learner.step()

    def loss(self) -> float | None:
        return self.model.loss

    def validation(self, steps: int) -> dict:
        """Each held-out drawing's probabilities from the fold model that did not see it."""
        if self._evaluated and self._evaluated[0] == steps:
            return self._evaluated[1]
        n, k = len(self.examples), len(self.examples.classes)
        probs = np.zeros((n, k), np.float32)
        held = np.zeros(n, bool)
        for learner, (_, val) in zip(self.learners, self.folds):
            probs[val] = learner.classify(self.examples.images[val])
            held[val] = True
        index = np.flatnonzero(held)
        result = evaluation(self.examples.labels[index], probs[index].argmax(1),
                            self.examples.classes)
        result |= {"index": index.tolist(), "truth": self.examples.labels[index].tolist(),
                   "predicted": probs[index].argmax(1).tolist(),
                   "confidence": probs[index].max(1).tolist()}
        self._evaluated = (steps, result)
        return result


def evaluation(truth, predicted, classes: list[str]) -> dict:
    """Accuracy, the confusion matrix (rows: the true class, columns: the one predicted) and
    each class's accuracy (its row's diagonal over its row's sum; None without drawings)."""
    k = len(classes)
    matrix = np.zeros((k, k), dtype=int)
    np.add.at(matrix, (np.asarray(truth, int), np.asarray(predicted, int)), 1)
    rows = matrix.sum(1)
    per_class = {c: (float(matrix[i, i] / rows[i]) if rows[i] else None)
                 for i, c in enumerate(classes)}
    n = int(matrix.sum())
    return {"accuracy": float(np.trace(matrix) / n) if n else None, "matrix": matrix.tolist(),
            "per_class": per_class, "n": n}


@dataclass(frozen=True)
class RunSettings:
    examples: Examples
    methods: tuple[str, ...]
    freeze: int
    augment: bool
    seed: int


class TransferRun(runner.Playable):
    """Some of the three ways learning the same drawings side by side, on the shared runner:
    one step trains each of them one step."""

    def __init__(self, examples: Examples, methods=METHODS, freeze: int = 2,
                 augment: bool = True, seed: int = 0):
        self.settings = RunSettings(examples, tuple(methods), freeze, augment, seed)
        self.examples = examples
        self.mode, self.folds = split(examples.labels, seed)
        self.methods = {m: Method(m, examples, self.folds, freeze, augment, seed)
                        for m in methods}
        self.steps = 0
        self.status = "ready"
        self.stopped = False
        self.lock = threading.RLock()

    def step(self):
        with self.lock:
            try:
                for method in self.methods.values():
                    method.step()
            except FloatingPointError:
                self.status = "diverged"
                return
            self.steps += 1

    def record(self) -> dict:
        """Each way's loss and validation now, and its history (validated every EVAL_EVERY
        steps while training, and whenever a frame is drawn)."""
        with self.lock:
            out = {}
            for name, method in self.methods.items():
                val = method.validation(self.steps)
                entry = {"step": self.steps, "loss": method.loss(),
                         "val_accuracy": val["accuracy"]}
                if self.steps and (not method.history or method.history[-1]["step"] != self.steps):
                    method.history.append(entry)
                out[name] = {**entry, "validation": val, "history": runner.thinned(method.history)}
            return {"step": self.steps, "status": self.status, "mode": self.mode,
                    "folds": len(self.folds), "held_out": int(sum(len(v) for _, v in self.folds)),
                    "methods": out}

    def train_one(self):
        self.step()
        if self.steps % EVAL_EVERY == 0:
            for method in self.methods.values():
                method.validation(self.steps)

    def run(self, steps: int) -> AsyncIterator[dict]:
        return runner.live(self, integer(steps, "Steps", 1, MAX_STEPS), self.train_one,
                           MAX_SECONDS)

    def predictions(self, images: np.ndarray, method: str) -> list[dict]:
        with self.lock:
            probs = self.methods[method].model.classify(images)
        classes = self.examples.classes
        return [{"label": classes[int(p.argmax())], "confidence": float(p.max())} for p in probs]


# ---------------------------------------------------------------------------------------------
# Trying a trained model, and exporting it


def verdict(probabilities: np.ndarray, classes: list[str]) -> dict:
    k = int(probabilities.argmax())
    confidence = float(probabilities[k])
    return {"label": classes[k], "confidence": confidence,
            "probabilities": {c: float(p) for c, p in zip(classes, probabilities)},
            "verdict": "confident" if confidence >= CONFIDENT else "not sure"}


def export(learner: Learner, classes: list[str], path) -> Path:
    """The network's weights as safetensors, its class names and method in the file's
    metadata: `load_exported(path)` gives it back."""
    from safetensors.torch import save_file

    path = Path(path)
    state = {k: v.contiguous() for k, v in learner.net.state_dict().items()}
    save_file(state, path, metadata={"classes": json.dumps(classes), "method": learner.method,
                                     "architecture": "models.digits.networks.DigitCNN, fc2 with "
                                                     "one output per class"})
    return path


class Exported:
    """A network exported by `export`, loaded: `classify(image)` for a 28 × 28 image."""

    def __init__(self, path):
        import torch
        from safetensors import safe_open
        from safetensors.torch import load_file

        from models.digits import networks

        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
        try:
            self.classes = json.loads(meta["classes"])
        except (KeyError, ValueError):
            raise ValueError("Not a model exported by the Transfer learning tab.") from None
        self.net = networks.DigitCNN()
        self.net.fc2 = torch.nn.Linear(self.net.fc2.in_features, len(self.classes))
        self.net.load_state_dict(load_file(str(path)))
        self.net.eval()

    def probabilities(self, images) -> np.ndarray:
        import torch

        with torch.no_grad():
            x = torch.from_numpy(np.asarray(images, np.float32)).reshape(-1, 1, 28, 28)
            return torch.softmax(self.net(x), -1).numpy()

    def classify(self, image) -> dict:
        return verdict(self.probabilities(image)[0], self.classes)


def load_exported(path) -> Exported:
    return Exported(path)


# ---------------------------------------------------------------------------------------------
# What pretraining buys: accuracy against drawings per class


# The starter set's curve, made by models/training/transfer_curve.py
CURVE_FILE = WEIGHTS_DIR / "curve.json"
CURVE_COUNTS = (1, 2, 3, 5, 10, 20)  # drawings per class, on the starter set
MAX_CURVE_POINTS = 5  # on a learner's own set


def shipped_curve() -> dict:
    return json.loads(CURVE_FILE.read_text())


def curve_counts(examples: Examples) -> list[int]:
    """Drawings per class to learn from, on a learner's own set: from 1 to one fewer than the
    smallest class has (the rest of each class checks it), at most MAX_CURVE_POINTS of them."""
    most = min(examples.counts()) - 1
    counts = [n for n in (1, 2, 3, 5, 10, 20, 40, 80) if n <= most]
    if most not in counts:
        counts.append(most)
    return counts[-MAX_CURVE_POINTS:] if len(counts) > MAX_CURVE_POINTS else counts


def learn_and_score(method: str, train: Examples, test: Examples, steps: int, freeze: int,
                    augment: bool, seed: int) -> float:
    """Train one network `steps` steps on `train`; its accuracy on `test`."""
    learner = Learner(method, train.images, train.labels, len(train.classes), freeze, augment,
                      seed)
    for _ in range(steps):
        learner.step()
    return float((learner.classify(test.images).argmax(1) == test.labels).mean())


def subset(examples: Examples, per_class: int, seed: int) -> tuple[Examples, Examples]:
    """`per_class` drawings of each class picked by the seed, and the rest."""
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.permutation(np.flatnonzero(examples.labels == c))[:per_class]
                             for c in range(len(examples.classes))])
    rest = np.setdiff1d(np.arange(len(examples)), chosen)
    return (Examples(examples.images[chosen], examples.labels[chosen], examples.classes),
            Examples(examples.images[rest], examples.labels[rest], examples.classes))


class CurveRun(runner.Playable):
    """The curve on a learner's own drawings, measured live: for each count of drawings per
    class (curve_counts) and each way, a network trained `steps_each` steps on that many of each
    class and scored on the rest. One runner step is one training step of the job at hand."""

    def __init__(self, examples: Examples, steps_each: int = 100, freeze: int = 2,
                 augment: bool = True, seed: int = 0):
        self.examples, self.steps_each = examples, steps_each
        self.freeze, self.augment, self.seed = freeze, augment, seed
        self.jobs = [(n, m) for n in curve_counts(examples) for m in METHODS]
        self.points: list[dict] = []  # {"per_class", "method", "accuracy"}
        self._learner: tuple[Learner, Examples] | None = None
        self._done_steps = 0
        self.steps = 0
        self.status = "ready"
        self.stopped = False
        self.lock = threading.RLock()

    @property
    def total_steps(self) -> int:
        return len(self.jobs) * self.steps_each

    def step(self):
        with self.lock:
            job = len(self.points)
            if job >= len(self.jobs):
                self.status = "done"
                return
            n, method = self.jobs[job]
            if self._learner is None:
                train, test = subset(self.examples, n, self.seed)
                self._learner = (Learner(method, train.images, train.labels,
                                         len(train.classes), self.freeze, self.augment,
                                         self.seed), test)
                self._done_steps = 0
            learner, test = self._learner
            learner.step()
            self._done_steps += 1
            self.steps += 1
            if self._done_steps == self.steps_each:
                accuracy = float((learner.classify(test.images).argmax(1) == test.labels).mean())
                self.points.append({"per_class": n, "method": method, "accuracy": accuracy,
                                    "tested_on": len(test)})
                self._learner = None

    def record(self) -> dict:
        with self.lock:
            return {"step": self.steps, "total": self.total_steps, "status": self.status,
                    "points": list(self.points)}

    def run(self, steps: int | None = None) -> AsyncIterator[dict]:
        left = self.total_steps - self.steps
        return runner.live(self, max(1, left if steps is None else min(steps, left)), self.step,
                           MAX_SECONDS * 2)


# ---------------------------------------------------------------------------------------------
# Why features separate the classes: two maps, and a nearest-neighbour score


def frozen_features(images) -> np.ndarray:
    """What the shipped CNN's frozen conv layers make of each image: (N, 64·7·7)."""
    import torch
    import torch.nn.functional as F

    from models.digits import networks

    cnn = networks.load().cnn
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(images, np.float32)).reshape(-1, 1, 28, 28)
        x = F.relu(cnn.conv1(x))
        x = F.max_pool2d(F.relu(cnn.bn1(cnn.conv2(x))), 2)  # (N, 32, 14, 14)
        x = F.relu(cnn.conv3(x))
        x = F.max_pool2d(F.relu(cnn.bn2(cnn.conv4(x))), 2)  # (N, 64, 7, 7)
        return x.flatten(1).numpy()


def pca2(vectors: np.ndarray) -> np.ndarray:
    """The two directions along which the points spread most (principal components)."""
    centred = vectors - vectors.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T  # (N, 2)


def nearest_neighbour_accuracy(vectors: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out: the share of drawings whose nearest other drawing is of their class."""
    v = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8)
    d = -(v @ v.T)  # for unit vectors, the nearest is the one with the largest dot product
    np.fill_diagonal(d, np.inf)
    return float((labels[d.argmin(1)] == labels).mean())


def maps(examples: Examples) -> dict:
    """Each drawing placed in 2-D from its pixels and from its frozen features (PCA of each),
    with the nearest-neighbour score of each space in full."""
    pixels = examples.images.reshape(len(examples), -1)
    features = frozen_features(examples.images)
    return {"classes": examples.classes, "labels": examples.labels.tolist(),
            "pixels": pca2(pixels), "features": pca2(features),
            "pixels_nn": nearest_neighbour_accuracy(pixels, examples.labels),
            "features_nn": nearest_neighbour_accuracy(features, examples.labels)}
