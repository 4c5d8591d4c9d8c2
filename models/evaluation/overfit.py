"""Overfitting, live: the 784-16-16-10 network trained on as few or as many MNIST digits as the
learner chooses, its loss and accuracy on them and on 1,000 validation digits it never trains
on, epoch by epoch, on the shared runner (models/runner.py).

    run = OverfitRun(n_train=100, weight_decay=0.0, dropout=0.0, augment=False, seed=0)
    for state in runner.iterate(run.run(150)): ...   # train until epoch 150

With few digits the network soon knows them by heart: its training loss keeps falling while
the validation loss, after a minimum, rises. Early stopping keeps the weights of the epoch with
the lowest validation loss ("best_epoch"). The cures: weight decay (a penalty on large
weights), dropout (hidden units dropped at random while training), more data, augmentation
(each digit shifted, turned and scaled afresh each time it is used).

The test digits (the 1,000 that no shipped digit network trained on) are used once: when the
run reaches its last epoch, the best epoch's weights are scored on them. Choosing anything
(the epoch, a cure) by the test score would make it one more validation set, and optimistic.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from models import checks, evaluation, runner
from models.lazy import no_grad, torch
from models.settings import Schema, Setting

MIN_TRAIN = 50
BATCH = 32
LEARNING_RATE = 3e-3
MAX_EPOCHS = 500
MAX_SECONDS = 120.0  # of training per Play or call
PATIENCE = 20  # epochs without a better validation loss after which early stopping would stop


def pool_size() -> int:
    return len(evaluation.data()["train_labels"])


SETTINGS = Schema(
    Setting("n_train", 100, "Training digits",
            lambda v: checks.integer(v, "The number of training digits", MIN_TRAIN, 7000),
            control="slider", range=(MIN_TRAIN, 7000), step=50,
            info="from the 7,000 MNIST digits kept for training"),
    Setting("epochs", 150, "Epochs (passes over the training digits)",
            lambda v: checks.integer(v, "Epochs", 1, MAX_EPOCHS), control="slider",
            range=(1, MAX_EPOCHS), step=1),
    Setting("weight_decay", 0.0, "Weight decay",
            lambda v: checks.number(v, "Weight decay", 0.0, 0.1), control="slider",
            range=(0.0, 0.1), step=0.001, info="a penalty on the squared weights"),
    Setting("dropout", 0.0, "Dropout",
            lambda v: checks.number(v, "Dropout", 0.0, 0.8), control="slider",
            range=(0.0, 0.8), step=0.05, info="share of hidden units dropped while training"),
    Setting("augment", False, "Augment (shift, turn, scale each digit afresh)",
            lambda v: checks.flag(v, "Augment"), control="checkbox"),
    Setting("seed", 0, "Seed", lambda v: checks.integer(v, "The seed", 0, 2 ** 31 - 1),
            control="number", step=1),
)


def network(dropout: float):
    """784 -> 16 -> 16 -> 10 (ReLU), as the Digits tab's network, with dropout after each
    hidden layer while training."""
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(16, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 10))


def augment(x, generator):
    """Each image (B, 28, 28) turned by up to 12 degrees, scaled by 0.9 to 1.1 and shifted by
    up to 2 pixels, afresh."""
    b = len(x)
    u = torch.rand(b, 4, generator=generator) * 2 - 1
    angle, scale = u[:, 0] * math.radians(12), 1 + 0.1 * u[:, 1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, u[:, 2] * 2 / 14], 1),
                         torch.stack([sin, cos, u[:, 3] * 2 / 14], 1)], 1)
    F = torch.nn.functional
    grid = F.affine_grid(theta, (b, 1, 28, 28), align_corners=False)
    return F.grid_sample(x[:, None], grid, align_corners=False)[:, 0]


def subset(n_train: int, seed: int) -> np.ndarray:
    """n_train indices of the training pool, the same share of each digit (the seed picks
    which): a smaller set is the start of a bigger one with the same seed."""
    labels = evaluation.data()["train_labels"]
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in range(10)]
    # Deal the digits out round-robin over the classes, so any prefix is balanced.
    dealt = [idx[i] for i in range(max(map(len, per_class))) for idx in per_class if i < len(idx)]
    return np.array(dealt[:n_train])


def _tensors(images: np.ndarray, labels: np.ndarray):
    return (torch.from_numpy(images.astype(np.float32) / 255),
            torch.from_numpy(labels.astype(np.int64)))


@no_grad
def measure(model, x, y) -> tuple[float, float]:
    """Mean cross-entropy and accuracy, the network in evaluation mode (no dropout)."""
    model.eval()
    logits = model(x)
    model.train()
    return (float(torch.nn.functional.cross_entropy(logits, y)),
            float((logits.argmax(-1) == y).float().mean()))


@dataclass(frozen=True)
class RunSettings:
    n_train: int
    weight_decay: float
    dropout: float
    augment: bool
    seed: int


class OverfitRun(runner.Playable):
    """One network learning n_train digits, an epoch a step, measured after every epoch."""

    def __init__(self, n_train: int = 100, weight_decay: float = 0.0, dropout: float = 0.0,
                 augment: bool = False, seed: int = 0):
        self.settings = RunSettings(n_train, weight_decay, dropout, augment, seed)
        d = evaluation.data()
        pick = subset(n_train, seed)
        self.x, self.y = _tensors(d["train_images"][pick], d["train_labels"][pick])
        self.x_val, self.y_val = _tensors(d["val_images"], d["val_labels"])
        with runner.SEEDING:
            torch.manual_seed(seed)
            self.model = network(dropout)
        self.generator = torch.Generator().manual_seed(seed)
        # Weight decay as the textbook's L2 penalty, (weight_decay / 2) * sum of squared weights
        # (not the biases) added to the loss; Adam's own weight_decay does the same gradient.
        weights = [p for n, p in self.model.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in self.model.named_parameters() if n.endswith("bias")]
        self.optimizer = torch.optim.Adam(
            [{"params": weights, "weight_decay": weight_decay},
             {"params": biases, "weight_decay": 0.0}], lr=LEARNING_RATE)
        self.history = {"epoch": [], "train_loss": [], "val_loss": [], "train_accuracy": [],
                        "val_accuracy": []}
        self.best = None  # (epoch, validation loss, weights)
        self.test = None
        self.target = 0  # the epoch this Play trains to
        self.steps = 0
        self.status = "ready"
        self.stopped = False
        self.lock = threading.RLock()
        self._measure()

    def _measure(self):
        train_loss, train_accuracy = measure(self.model, self.x, self.y)
        val_loss, val_accuracy = measure(self.model, self.x_val, self.y_val)
        for key, value in (("epoch", self.steps), ("train_loss", train_loss),
                           ("val_loss", val_loss), ("train_accuracy", train_accuracy),
                           ("val_accuracy", val_accuracy)):
            self.history[key].append(value)
        if self.steps and (self.best is None or val_loss < self.best[1]):
            self.best = (self.steps, val_loss, copy.deepcopy(self.model.state_dict()))

    def step(self):
        """One epoch: the training digits in a fresh order, BATCH at a time; then measured."""
        with self.lock:
            order = torch.randperm(len(self.x), generator=self.generator)
            for start in range(0, len(order), BATCH):
                batch = order[start:start + BATCH]
                x = self.x[batch]
                if self.settings.augment:
                    x = augment(x, self.generator)
                loss = torch.nn.functional.cross_entropy(self.model(x), self.y[batch])
                if not torch.isfinite(loss):
                    self.status = "diverged"
                    return
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            self.steps += 1
            self._measure()

    def early_stop_epoch(self) -> int | None:
        """Where early stopping with patience PATIENCE would have stopped: the first epoch
        PATIENCE epochs after the best so far (None if it would not have stopped yet)."""
        best, best_loss = 0, math.inf
        for epoch, loss in zip(self.history["epoch"][1:], self.history["val_loss"][1:]):
            if loss < best_loss:
                best, best_loss = epoch, loss
            elif epoch - best >= PATIENCE:
                return epoch
        return None

    def score_test(self) -> dict:
        """The best epoch's weights on the test digits: done once, when the run ends."""
        with self.lock:
            if self.test is None and self.best is not None:
                d = evaluation.data()
                x, y = _tensors(d["test_images"], d["test_labels"])
                model = network(self.settings.dropout)
                model.load_state_dict(self.best[2])
                loss, accuracy = measure(model, x, y)
                right = round(accuracy * len(y))
                self.test = {"epoch": self.best[0], "at_epoch": self.steps, "loss": loss,
                             "accuracy": accuracy, "n": len(y),
                             "interval": list(evaluation.wilson(right, len(y)))}
            return self.test

    def record(self) -> dict:
        with self.lock:
            if self.status in ("done", "capped") and self.steps:
                self.score_test()
            h = self.history
            return {"epoch": self.steps, "train_loss": h["train_loss"][-1],
                    "val_loss": h["val_loss"][-1], "train_accuracy": h["train_accuracy"][-1],
                    "val_accuracy": h["val_accuracy"][-1],
                    "best_epoch": self.best[0] if self.best else None,
                    "best_val_loss": self.best[1] if self.best else None,
                    "early_stop_epoch": self.early_stop_epoch(),
                    "history": {k: list(v) for k, v in h.items()},
                    "test": self.test, "status": self.status, "n_train": len(self.y),
                    "n_val": len(self.y_val), "target": self.target}

    def run(self, epochs: int) -> AsyncIterator[dict]:
        """Train until epoch `epochs` (what is left of it: Play after a Pause goes on)."""
        self.target = checks.integer(epochs, "Epochs", 1, MAX_EPOCHS)
        return runner.live(self, max(0, self.target - self.steps), self.step, MAX_SECONDS)
