"""How a network learns: gradient descent on a cost of two weights, a small network trained live
on 2-D points, and one step of backpropagation written out.

Three parts, one per section of the Learning tab:

- `descend(surface, start, learning_rate, momentum, steps)`: gradient descent (torch's SGD) on a
  cost function of two weights, with the path, the costs, the slopes, and what went on
  (crawling, zig-zagging, overshooting, diverged, arrived).
- `Training`: a small torch MLP (2 inputs, hidden layers of up to 16 neurons, 2 outputs, softmax
  cross-entropy) trained by mini-batch SGD on `make_dataset(...)`. `step()` is one training step
  (loss and gradients); `run(steps)` trains it on the shared runner (models/runner.py: paced
  frames, capped in steps and seconds, a slot or a place in line). The learning rate and the
  batch size change between steps without a reset.
- `backprop(...)`: one example's forward pass through a 2-3-2 network and the gradient of every
  weight and bias by the chain rule, layer by layer, with the derivatives the Activation functions
  tab shows; `batch_step(...)` averages them over a batch and takes the step. The tests check
  them against torch.autograd and finite differences.

Everything is deterministic for a given seed. No gradio here; torch is imported on first use.
"""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from models import activations, runner
from models.checks import choice, flag, integer, number  # noqa: F401 (also for the trainers)
from models.lazy import no_grad, torch
from models.settings import LIST, ROWS, Schema, Setting

# -- validation at the edge: every number a visitor or a client sends passes through these -----


# -- 1. Down the hill: gradient descent on a cost of two weights -------------------------------


@dataclass(frozen=True)
class Surface:
    name: str
    label: str
    formula: str  # LaTeX
    extent: tuple[float, float]  # both weights range over [lo, hi]
    note: str

    def cost(self, w1, w2):
        """The cost at (w1, w2): tensors or floats, any shape (a grid or one point)."""
        if self.name == "bowl":
            return w1 ** 2 + w2 ** 2
        if self.name == "valley":  # an ellipse 20 times longer than wide, turned by 30 degrees
            u = math.cos(math.pi / 6) * w1 + math.sin(math.pi / 6) * w2
            v = -math.sin(math.pi / 6) * w1 + math.cos(math.pi / 6) * w2
            return 0.05 * u ** 2 + 2 * v ** 2
        # two minima: a double well in w1 tilted so that the left one is lower
        return (w1 ** 2 - 1) ** 2 + 0.3 * w1 + 0.5 * w2 ** 2


SURFACES: dict[str, Surface] = {s.name: s for s in [
    Surface("bowl", "A round bowl", r"C(w_1, w_2) = w_1^2 + w_2^2", (-3.0, 3.0),
            "The slope always points straight away from the bottom: any small enough learning "
            "rate gets there. Above 1 every step lands higher than it started."),
    Surface("valley", "A long narrow valley",
            r"C = 0.05\,u^2 + 2\,v^2, \quad (u, v) = (w_1, w_2) \text{ turned by } 30^\circ",
            (-4.0, 4.0),
            "Steep across, nearly flat along: a learning rate large enough to move along the "
            "floor zig-zags across it (above 0.5 it diverges). Momentum helps here."),
    Surface("two_minima", "Two minima",
            r"C = (w_1^2 - 1)^2 + 0.3\,w_1 + 0.5\,w_2^2", (-2.0, 2.0),
            "Two valleys, the left one deeper. Gradient descent only feels the slope where it "
            "stands: start on the right and it settles in the shallower valley."),
]}
LEARNING_RATE_RANGE = (0.0001, 5.0)
MOMENTUM_RANGE = (0.0, 0.99)
MAX_DESCENT_STEPS = 500
BLOWN_UP = 1e6  # a cost this far above the start means the steps have left the map for good


def _minima(surface: Surface) -> list[tuple[float, float]]:
    """Where the cost is lowest in each valley (found numerically once, to name the arrival)."""
    if surface.name != "two_minima":
        return [(0.0, 0.0)]
    # d/dw1 = 4 w1 (w1^2 - 1) + 0.3 = 0: the outer two roots are the minima.
    roots = sorted(r.real for r in np.roots([4.0, 0.0, -4.0, 0.3]) if abs(r.imag) < 1e-9)
    return [(roots[0], 0.0), (roots[-1], 0.0)]


def cost_grid(surface: str, points: int = 61) -> dict:
    """The cost on a points x points grid over the surface's extent: {"w": [...], "cost": rows}
    (row i is w2 = w[i], column j is w1 = w[j]) and its minima."""
    s = SURFACES[choice(surface, "cost surface", SURFACES)]
    points = integer(points, "grid points", 2, 400)
    w = np.linspace(*s.extent, points)
    w1, w2 = np.meshgrid(w, w)  # (points, points): w1 varies along a row
    return {"w": w.tolist(), "cost": s.cost(w1, w2).tolist(),
            "minima": [{"w": list(m), "cost": float(s.cost(*m))} for m in _minima(s)]}


def check_descent(surface, start_w1, start_w2, learning_rate, momentum, steps):
    s = SURFACES[choice(surface, "cost surface", SURFACES)]
    lo, hi = s.extent
    start = (number(start_w1, "start w1", lo, hi), number(start_w2, "start w2", lo, hi))
    lr = number(learning_rate, "Learning rate", *LEARNING_RATE_RANGE)
    mu = number(momentum, "Momentum", *MOMENTUM_RANGE)
    steps = integer(steps, "Steps", 0, MAX_DESCENT_STEPS)
    return s, start, lr, mu, steps


def descend(surface: str, start_w1: float, start_w2: float, learning_rate: float,
            momentum: float = 0.0, steps: int = 30) -> dict:
    """Gradient descent from (start_w1, start_w2): torch.optim.SGD on the surface's cost.

    Each step: cost = C(w), slope = dC/dw by autograd, then w <- w - lr * slope (with momentum:
    velocity <- momentum * velocity + slope; w <- w - lr * velocity). Stops early when the cost
    blows up. Returns {"path": [[w1, w2], ...] (steps + 1 points), "costs", "slopes",
    "verdict", "message", "steps_taken"}.
    """
    s, path, costs, slopes, lr, mu, steps = _descent(surface, start_w1, start_w2,
                                                     learning_rate, momentum, steps)
    verdict, message = _diagnose(s, path, costs, slopes, lr, mu, steps)
    return {"path": path, "costs": costs, "slopes": slopes, "verdict": verdict,
            "message": message, "steps_taken": len(path) - 1}


def descend_step_by_step(surface: str, start_w1: float, start_w2: float,
                         learning_rate: float, momentum: float = 0.0,
                         steps: int = 30) -> list[dict]:
    """The same descent, once, seen after 0, 1, ... steps: what `descend` returns for each
    number of steps (a Play button draws them in turn)."""
    s, path, costs, slopes, lr, mu, steps = _descent(surface, start_w1, start_w2,
                                                     learning_rate, momentum, steps)
    frames = []
    for k in range(1, len(path) + 1):
        asked = steps if k == len(path) else k - 1
        verdict, message = _diagnose(s, path[:k], costs[:k], slopes[:k], lr, mu, asked)
        frames.append({"path": path[:k], "costs": costs[:k], "slopes": slopes[:k],
                       "verdict": verdict, "message": message, "steps_taken": k - 1})
    return frames


def _descent(surface, start_w1, start_w2, learning_rate, momentum, steps):
    """The checked inputs' descent: (surface, path, costs, slopes, lr, momentum, steps)."""
    s, start, lr, mu, steps = check_descent(surface, start_w1, start_w2, learning_rate,
                                            momentum, steps)
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.SGD([w], lr=lr, momentum=mu)
    path, costs, slopes = [], [], []
    for step in range(steps + 1):
        optimiser.zero_grad()
        cost = s.cost(w[0], w[1])
        cost.backward()
        path.append(w.detach().tolist())
        costs.append(cost.item())
        slopes.append(w.grad.tolist())
        if not math.isfinite(costs[-1]) or costs[-1] > BLOWN_UP * max(1.0, abs(costs[0])):
            break
        if step < steps:
            optimiser.step()
    return s, path, costs, slopes, lr, mu, steps


def _diagnose(s: Surface, path, costs, slopes, lr, mu, steps) -> tuple[str, str]:
    """Name what the learning rate is doing, in a sentence for the learner."""
    n = len(path) - 1
    if n == 0 and steps == 0:
        return "start", "Press Step or Play: each step moves against the slope (the arrow)."
    last = costs[-1]
    if not math.isfinite(last) or last > BLOWN_UP * max(1.0, abs(costs[0])):
        return "diverged", (f"The steps overshoot: the cost blew up (to {last:.3g} after {n} "
                            "steps). Each step jumped past the bottom and landed higher up the "
                            "other side, so the next slope was steeper and the next jump longer. "
                            "Lower the learning rate.")
    minima = _minima(s)
    nearest = min(minima, key=lambda m: math.dist(m, path[-1]))
    bottom = float(s.cost(*nearest))  # the valley it is in
    slope = math.hypot(*slopes[-1])
    rises = sum(b > a + 1e-12 for a, b in zip(costs, costs[1:]))
    moves = np.diff(np.asarray(path), axis=0)
    turns = int(np.sum(np.einsum("ij,ij->i", moves[1:], moves[:-1]) < 0)) if n > 2 else 0
    where = ""
    if len(minima) > 1:
        where = (" This is the deeper valley." if nearest == minima[0] else
                 " This is the shallower valley, not the lowest point: the slope here says "
                 "nothing about the other valley.")
    if slope < 1e-2:
        return "arrived", (f"Arrived: the slope is flat ({slope:.1e}) after {n} steps, cost "
                           f"{last:.4f}.{where}")
    if rises > n // 3 and rises >= 2:
        if mu >= 0.5:
            return "overshooting", (f"Overshooting: the cost went up on {rises} of {n} steps. "
                                    f"Momentum {mu:g} carries each step on past the bottom, like "
                                    "a ball rolling through a valley: it swings back and forth "
                                    "before it settles. Less momentum calms it.")
        return "overshooting", (f"Overshooting: the cost went up on {rises} of {n} steps. The "
                                "learning rate is too large, so each step jumps past the bottom "
                                "of the valley to a higher point on the other side.")
    if turns > n // 3 and turns >= 2:
        return "zigzag", (f"Zig-zagging: {turns} of {n} steps turned back across the valley. "
                          "The learning rate is near the largest that still works on the steep "
                          "side; a little smaller, or momentum, goes more directly.")
    drop = (costs[0] - last) / max(costs[0] - bottom, 1e-12)
    if drop < 0.5:
        return "crawling", (f"Crawling: after {n} steps the cost fell only {drop:.0%} of the "
                            f"way to the bottom. Each step is learning rate × slope = "
                            f"{lr:g} × {slope:.3g}: too small a learning rate (or a flat "
                            "floor) makes tiny steps. Raise it, or take more steps.")
    return "descending", (f"Going down: {drop:.1%} of the way to the bottom of this valley in "
                          f"{n} steps (slope {slope:.3g} now; the steps shrink as the slope "
                          f"flattens).{where}")


# -- 2. Train a network live -----------------------------------------------------------------


DATASETS = {  # classification: label = class
    "blobs": "Two blobs: a straight line separates them.",
    "circles": "A disc inside a ring: no straight line separates them.",
    "xor": "XOR: opposite corners share a class.",
    "spirals": "Two interleaved spirals: the hardest.",
    "three": "Three classes in three wedges of a disc: one output each, and a softmax over them.",
}
# The two-class sets: what a network with two outputs (the 2-3-2 one, the quantization tab's
# comparison) can be shown on.
TWO_CLASS_SETS = ("blobs", "circles", "xor", "spirals")
REGRESSION_SETS = {  # regression: label = a number in [-1, 1]
    "plane": "A tilted plane: the value is (x₁ + x₂) / 2.",
    "gaussians": "Four bumps, two up and two down: the value is their sum.",
}
OWN = "own"  # the learner's own points (`points`) instead of a data set
PROBLEMS = {"classification": DATASETS, "regression": REGRESSION_SETS}
N_TRAIN = N_TEST = 200
N_POINTS = N_TRAIN + N_TEST  # a data set's points; `train_share` of them are for training
TRAIN_SHARE_RANGE = (0.1, 0.9)
EXTENT = 1.5  # the points lie in [-1.5, 1.5]^2, where the boundary is drawn
NOISE_RANGE = (0.0, 0.5)
MAX_LAYERS = 4
MAX_WIDTH = 16
MAX_CLASSES = 4  # own points: labels 0 to 3
MAX_POINTS = 500  # own points: at most this many (TensorFlow Playground draws 500)
MIN_POINTS = 4
# The inputs a network may be given, computed from each point (x1, x2): TensorFlow
# Playground's seven.
FEATURES = {
    "x1": ("x₁", lambda x1, x2: x1), "x2": ("x₂", lambda x1, x2: x2),
    "x1^2": ("x₁²", lambda x1, x2: x1 * x1), "x2^2": ("x₂²", lambda x1, x2: x2 * x2),
    "x1x2": ("x₁x₂", lambda x1, x2: x1 * x2),
    "sin_x1": ("sin x₁", lambda x1, x2: torch.sin(x1)),
    "sin_x2": ("sin x₂", lambda x1, x2: torch.sin(x2)),
}
DEFAULT_FEATURES = ("x1", "x2")
REGULARIZATIONS = ("none", "l1", "l2")
REGULARIZATION_RATES = (0.0, 10.0)
OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = ("cross_entropy", "squared_error")
DROPOUT_RANGE = (0.0, 0.9)
# The Activation functions tab's list; the step function trains nothing (its slope is 0).
ACTIVATIONS = list(activations.FUNCTIONS)
ALPHA = 0.1  # leaky ReLU's and ELU's α, as the Activation functions tab has it
TRAIN_LEARNING_RATES = (0.0001, 10.0)
# A batch's mean loss above this (for cross-entropy: the right class given e^-50) means the
# steps have overshot so far that the network is certain and wrong: training stops, and says so.
BLOWN_UP_LOSS = 50.0
MAX_STEPS = 20_000  # per run (one Play, or one API call)
MAX_SECONDS = 60.0  # per run
NEURON_GRID = 12  # each neuron's picture: its output on a 12 x 12 grid (TFP draws 10 x 10)


@dataclass(frozen=True)
class Preset:
    name: str
    why: str  # one sentence: why it trains well, or what its failure teaches
    dataset: str
    noise: float
    layers: tuple[int, ...]
    activation: str
    learning_rate: float
    batch_size: int
    steps: int


# The first is the default. It was chosen on data seeds 1-9 (circles and XOR: 96.5-100 % test
# accuracy after 2,000 steps); the tests hold it to 95 % on seed 0, the app's default.
PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("Circles: three layers of 8, tanh (default)",
           "Each hidden layer bends the plane a little more; tanh's slope is 1 at 0, so the "
           "gradient reaches the first layer, and a learning rate of 0.3 moves fast without "
           "overshooting.", "circles", 0.05, (8, 8, 8), "tanh", 0.3, 10, 2000),
    Preset("XOR: the same network",
           "No single line separates XOR's corners; two hidden layers combine lines into the "
           "four quadrants.", "xor", 0.05, (8, 8, 8), "tanh", 0.3, 10, 2000),
    Preset("Two blobs: no hidden layer",
           "A straight line separates two blobs, and a network with no hidden layer (logistic "
           "regression) draws exactly one straight line.", "blobs", 0.05, (), "tanh", 0.3, 10,
           500),
    Preset("Spirals: three layers of 16, ReLU",
           "Spirals need many bends: more neurons, and ReLU, whose slope does not fade in deep "
           "stacks.", "spirals", 0.0, (16, 16, 16), "relu", 0.1, 10, 5000),
    Preset("Batch size 1: stochastic gradient descent",
           "One point per step: each step follows one example's wishes, so the loss jitters, "
           "but on average it still goes down hill.", "circles", 0.05, (8, 8, 8), "tanh", 0.03,
           1, 2000),
    Preset("Fails: circles with no hidden layer",
           "Fails on purpose: without a hidden layer the boundary can only be a straight line, "
           "and no line separates a disc from the ring around it.", "circles", 0.05, (), "tanh",
           0.3, 10, 1000),
    Preset("Fails: learning rate 10",
           "Fails on purpose: every step overshoots, the weights grow with each jump, and the "
           "loss blows up.", "spirals", 0.0, (16, 16, 16), "relu", 10.0, 10, 500),
    Preset("Fails: step activation",
           "Fails on purpose: the step function is flat everywhere, so its slope is 0 and no "
           "gradient reaches the hidden layers; only the last layer learns.", "circles", 0.05,
           (8, 8, 8), "step", 0.3, 10, 1000),
    Preset("Fails slowly: deep sigmoid",
           "Crawls: each sigmoid passes back at most a quarter of the gradient, so four layers "
           "deep almost nothing reaches the first one (vanishing gradients).", "circles", 0.05,
           (8, 8, 8, 8), "sigmoid", 0.3, 10, 2000),
]}
DEFAULT = next(iter(PRESETS.values()))


def make_dataset(name: str = "circles", noise: float = 0.05, seed: int = 0,
                 train_share: float = 0.5) -> dict:
    """N_POINTS points of one of DATASETS or REGRESSION_SETS, with Gaussian jitter of standard
    deviation `noise` (in units of the data's radius, about 1), `train_share` of them for
    training (0.5: N_TRAIN and N_TEST).

    Returns {"x_train": (N, 2) float32, "y_train": (N,) int64 (a class) or float32 (a value in
    [-1, 1], regression), "x_test", "y_test"}.
    """
    name = choice(name, "data set", {**DATASETS, **REGRESSION_SETS})
    noise = number(noise, "Noise", *NOISE_RANGE)
    seed = integer(seed, "Seed", 0, 2 ** 31 - 1)
    train_share = number(train_share, "Share of training data", *TRAIN_SHARE_RANGE)
    rng = np.random.default_rng(seed)
    n = N_POINTS
    y = np.arange(n) % 2  # balanced
    if name == "blobs":
        centre = np.where(y[:, None] == 1, [[0.5, 0.5]], [[-0.5, -0.5]])
        x = centre + rng.normal(0, 0.25, (n, 2))
    elif name == "circles":
        r = np.where(y == 1, rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
    elif name == "xor":
        x = rng.uniform(-1, 1, (n, 2))
        x += np.sign(x) * 0.05  # a small margin around the axes, as TensorFlow Playground has
        y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    elif name == "spirals":  # class 1 is class 0 turned by half a turn
        t = rng.uniform(0, 1, n)
        angle = 1.75 * 2 * np.pi * t + np.pi * y
        x = np.stack([t * np.cos(angle), t * np.sin(angle)], 1)
    elif name == "three":  # three wedges of a disc, a thin gap between them
        y = np.arange(n) % 3
        r = np.sqrt(rng.uniform(0.01, 1, n))
        angle = (y + rng.uniform(0.08, 0.92, n)) * 2 * np.pi / 3
        x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
    else:  # regression: a value in [-1, 1] from the point's place, before the noise
        x = rng.uniform(-1, 1, (n, 2))
        if name == "plane":
            y = (x[:, 0] + x[:, 1]) / 2
        else:  # gaussians: bumps up at (-0.5, 0.5) and (0.5, -0.5), down at the other two
            y = sum(sign * np.exp(-((x - c) ** 2).sum(1) / (2 * 0.25 ** 2))
                    for c, sign in (((-0.5, 0.5), 1), ((0.5, -0.5), 1), ((0.5, 0.5), -1),
                                    ((-0.5, -0.5), -1)))
            y = np.clip(y, -1, 1)
    x = x + rng.normal(0, noise, x.shape) if noise else x
    x = np.clip(x, -EXTENT, EXTENT).astype(np.float32)
    order = rng.permutation(n)
    x = x[order]
    y = y[order].astype(np.float32 if name in REGRESSION_SETS else np.int64)
    k = round(n * train_share)
    return {"x_train": x[:k], "y_train": y[:k], "x_test": x[k:], "y_test": y[k:]}


def check_points(points, problem: str = "classification") -> tuple:
    """A learner's own points: a list of [x1, x2, label] (MIN_POINTS to MAX_POINTS of them, in
    the plane's square; a label is a class 0 to MAX_CLASSES - 1, at least two of them, or for
    regression a value in [-1, 1]). Returns them as a tuple of (x1, x2, label) tuples."""
    if not isinstance(points, (list, tuple)):
        raise ValueError("Points must be a list of [x1, x2, label].")
    if not MIN_POINTS <= len(points) <= MAX_POINTS:
        raise ValueError(f"Give between {MIN_POINTS} and {MAX_POINTS} points, got "
                         f"{len(points)}.")
    out = []
    for i, p in enumerate(points, 1):
        if not isinstance(p, (list, tuple)) or len(p) != 3:
            raise ValueError(f"Point {i} must be [x1, x2, label], got {str(p)[:40]}.")
        x1, x2 = (number(v, f"Point {i}'s x{j}", -EXTENT, EXTENT) for j, v in enumerate(p[:2], 1))
        if problem == "regression":
            label = number(p[2], f"Point {i}'s value", -1, 1)
        else:
            label = integer(p[2], f"Point {i}'s class", 0, MAX_CLASSES - 1)
        out.append((x1, x2, label))
    if problem != "regression" and len({p[2] for p in out}) < 2:
        raise ValueError("Points of at least two classes are needed to tell them apart.")
    return tuple(out)


def own_dataset(points: tuple, problem: str, seed: int, train_share: float) -> dict:
    """Checked points split into training and test points (shuffled by the seed; at least one
    of each)."""
    rng = np.random.default_rng(seed)
    array = np.asarray(points, dtype=np.float64)[rng.permutation(len(points))]
    x = array[:, :2].astype(np.float32)
    y = array[:, 2].astype(np.float32 if problem == "regression" else np.int64)
    k = min(max(round(len(points) * train_share), 1), len(points) - 1)
    return {"x_train": x[:k], "y_train": y[:k], "x_test": x[k:], "y_test": y[k:]}


def parse_layers(layers) -> list[int]:
    """Hidden layer widths: "8, 8", "8 8", [8, 8] or "" (no hidden layer)."""
    if isinstance(layers, (int, float)) and not isinstance(layers, bool):
        layers = [layers]
    if isinstance(layers, str):
        parts = layers.replace(",", " ").split()
    elif isinstance(layers, (list, tuple)):
        parts = list(layers)
    else:
        raise ValueError("Hidden layers: give the neurons per layer, like \"8, 8\".")
    if len(parts) > MAX_LAYERS:
        raise ValueError(f"At most {MAX_LAYERS} hidden layers, got {len(parts)}.")
    return [integer(p, "Neurons per hidden layer", 1, MAX_WIDTH) for p in parts]


def parse_activations(activation, layers: int) -> tuple[str, ...]:
    """One activation for every hidden layer ("tanh"), or one per layer ("relu, tanh" or a
    list), as many as there are hidden layers."""
    if isinstance(activation, str):
        names = [a.strip() for a in activation.split(",") if a.strip()] or [""]
    elif isinstance(activation, (list, tuple)) and activation:
        names = list(activation)
    else:
        raise ValueError(f"Activation: choose from {', '.join(ACTIVATIONS)}.")
    names = [choice(a, "activation", ACTIVATIONS) for a in names]
    if len(names) == 1:
        return tuple(names * layers) if layers else (names[0],)
    if len(names) != layers:
        raise ValueError(f"Give one activation, or one per hidden layer ({layers}), got "
                         f"{len(names)}.")
    return tuple(names)


def parse_features(features) -> tuple[str, ...]:
    """Input features: a list of FEATURES' names (or one name, or "x1, x2"); at least one,
    each once, kept in FEATURES' order."""
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    if not isinstance(features, (list, tuple)) or not features:
        raise ValueError(f"Choose at least one input feature of {', '.join(FEATURES)}.")
    chosen = {choice(f, "input feature", FEATURES) for f in features}
    return tuple(f for f in FEATURES if f in chosen)


def _activation(name: str):
    F = torch.nn.functional
    return {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, ALPHA), "elu": lambda z: F.elu(z, ALPHA),
        "gelu": F.gelu, "silu": F.silu, "softplus": F.softplus,
        "step": lambda z: (z >= 0).to(z.dtype),  # no slope: nothing flows back through it
        "identity": lambda z: z,
    }[name]


@dataclass(frozen=True)
class Config:
    """What defines a training run; changing any of these starts again from scratch. (The
    learning rate, batch size and regularisation may change while it trains.)"""
    dataset: str = DEFAULT.dataset
    noise: float = DEFAULT.noise
    layers: tuple[int, ...] = DEFAULT.layers
    activation: str | tuple[str, ...] = DEFAULT.activation  # one, or one per hidden layer
    seed: int = 0
    features: tuple[str, ...] = DEFAULT_FEATURES
    problem: str = "classification"
    train_share: float = 0.5
    optimizer: str = "sgd"
    momentum: float = 0.9  # the momentum optimiser's
    betas: tuple[float, float] = (0.9, 0.999)  # Adam's
    loss: str = "cross_entropy"  # classification; regression's is squared error
    dropout: float = 0.0  # of each hidden neuron, while training
    points: tuple | None = None  # own data: ((x1, x2, label), ...); replaces the data set

    @classmethod
    def checked(cls, dataset=DEFAULT.dataset, noise=DEFAULT.noise, layers=DEFAULT.layers,
                activation=DEFAULT.activation, seed=0, features=DEFAULT_FEATURES,
                problem="classification", train_share=0.5, optimizer="sgd", momentum=0.9,
                beta1=0.9, beta2=0.999, loss="cross_entropy", dropout=0.0, points=None):
        """A Config from its settings, each checked as SETTINGS declares it."""
        given = dict(dataset=dataset, noise=noise, layers=layers, activation=activation,
                     seed=seed, features=features, problem=problem, train_share=train_share,
                     optimizer=optimizer, momentum=momentum, beta1=beta1, beta2=beta2,
                     loss=loss, dropout=dropout, points=points)
        return cls.of(SETTINGS.check(given))

    @classmethod
    def of(cls, s: dict) -> Config:
        """A Config from checked settings (SETTINGS.check's), and what they must agree on: a
        data set belongs to its problem, own points are a problem's points, one activation or
        one per hidden layer."""
        dataset, points, problem = s["dataset"], s["points"], s["problem"]
        if points is not None:
            points = check_points(points, problem)
            dataset = OWN
        elif dataset == OWN:
            raise ValueError("Your own data has no points yet: click on the plane to add some, "
                             "or upload a CSV of x1, x2, label.")
        elif dataset not in PROBLEMS[problem]:
            raise ValueError(f"{dataset} is not a {problem} data set: for {problem} choose "
                             f"{', '.join(PROBLEMS[problem])}.")
        activation = parse_activations(s["activation"], len(s["layers"]))
        return cls(dataset, s["noise"], s["layers"],
                   activation[0] if len(set(activation)) == 1 else activation, s["seed"],
                   s["features"], problem, s["train_share"], s["optimizer"], s["momentum"],
                   (s["beta1"], s["beta2"]), s["loss"], s["dropout"], points)

    @property
    def activations(self) -> tuple[str, ...]:
        """The activation of each hidden layer."""
        return parse_activations(self.activation, len(self.layers))


def check_learning_rate(value) -> float:
    return number(value, "Learning rate", *TRAIN_LEARNING_RATES)


def check_batch_size(value) -> int:
    return integer(value, "Batch size", 1, N_POINTS)


def check_steps(value) -> int:
    return integer(value, "Steps", 1, MAX_STEPS)


def check_regularization(kind, rate) -> tuple[str, float]:
    return (choice(kind, "regularization", REGULARIZATIONS),
            number(rate, "Regularization rate", *REGULARIZATION_RATES))


def _activation_names(activation) -> tuple[str, ...]:
    """One activation, or one per hidden layer ("relu, tanh" or a list; how many is checked
    against the layers by Config.of)."""
    if isinstance(activation, str):
        names = [a.strip() for a in activation.split(",") if a.strip()] or [""]
    elif isinstance(activation, (list, tuple)) and activation:
        names = list(activation)
    else:
        raise ValueError(f"Activation: choose from {', '.join(ACTIVATIONS)}.")
    return tuple(choice(a, "activation", ACTIVATIONS) for a in names)


def _own_points(points):
    """Own points, or None for none (they are checked against the problem by Config.of)."""
    if points in (None, [], (), ""):
        return None
    if not isinstance(points, (list, tuple)):
        raise ValueError("Points must be a list of [x1, x2, label].")
    return points


# The trainer's settings, each declared once, in the order train_network takes them: the tab's
# controls, the endpoint's keyword arguments, the checks and the address all come from here.
DATASET_NAMES = {"xor": "XOR", "three": "Three classes", "plane": "Plane (regression)",
                 "gaussians": "Gaussian bumps (regression)"}
LEARNING_RATE_CHOICES = (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATE_CHOICES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SETTINGS = Schema(
    Setting("dataset", DEFAULT.dataset, "Data",
            lambda v: v if v == OWN else choice(v, "data set", {**DATASETS, **REGRESSION_SETS}),
            control="radio",
            choices=[(DATASET_NAMES.get(k, k.capitalize()), k)
                     for k in (*DATASETS, *REGRESSION_SETS)] + [("Your points", OWN)]),
    Setting("noise", DEFAULT.noise, "Noise", lambda v: number(v, "Noise", *NOISE_RANGE),
            control="slider", range=NOISE_RANGE, step=0.01),
    Setting("layers", ", ".join(map(str, DEFAULT.layers)),
            f"Hidden layers: neurons per layer (up to {MAX_LAYERS} layers of {MAX_WIDTH}; "
            "empty = none)", lambda v: tuple(parse_layers(v)),
            show=lambda v: ", ".join(map(str, v))),
    Setting("activation", DEFAULT.activation, "Activation (or one per layer, typed: relu, tanh)",
            _activation_names, control="dropdown", custom=True,
            choices=[(a.label, a.name) for a in activations.FUNCTIONS.values()],
            show=lambda v: v if isinstance(v, str) else v[0] if len(set(v)) == 1 else
            ", ".join(v)),
    Setting("learning_rate", DEFAULT.learning_rate, "Learning rate", check_learning_rate,
            control="dropdown", choices=LEARNING_RATE_CHOICES, custom=True),
    Setting("batch_size", DEFAULT.batch_size,
            "Batch size (1 = stochastic; all the training points: true gradient descent)",
            check_batch_size, control="slider", range=(1, N_POINTS), step=1),
    Setting("steps", DEFAULT.steps, "Steps per Play", check_steps, control="number",
            range=(1, MAX_STEPS), step=1),
    Setting("seed", 0, "Seed", lambda v: integer(v, "Seed", 0, 2 ** 31 - 1), control="number",
            range=(0, 2 ** 31 - 1), step=1),
    Setting("show_test_points", False,
            "Show the test points too (hollow; each frame costs the browser more to draw)",
            lambda v: flag(v, "Show the test points"), control="checkbox"),
    Setting("features", list(DEFAULT_FEATURES), "Input features (what the first layer sees)",
            lambda v: parse_features(DEFAULT_FEATURES if v is None else v),
            control="checkboxes", form=LIST, show=list,
            choices=[(label, name) for name, (label, _) in FEATURES.items()]),
    Setting("regularization", "none", "Regularisation",
            lambda v: choice(v, "regularization", REGULARIZATIONS), control="radio",
            choices=[("None", "none"), ("L1", "l1"), ("L2", "l2")]),
    Setting("regularization_rate", 0.0, "Regularisation rate",
            lambda v: number(v, "Regularization rate", *REGULARIZATION_RATES),
            control="dropdown", choices=REGULARIZATION_RATE_CHOICES, custom=True),
    Setting("problem", "classification", "Problem", lambda v: choice(v, "problem", PROBLEMS),
            control="radio", choices=[("Classification", "classification"),
                                      ("Regression", "regression")]),
    Setting("train_share", 0.5, "Share of the points used for training (the rest test it)",
            lambda v: number(v, "Share of training data", *TRAIN_SHARE_RANGE), control="slider",
            range=TRAIN_SHARE_RANGE, step=0.1),
    Setting("optimizer", "sgd", "Optimiser", lambda v: choice(v, "optimizer", OPTIMIZERS),
            control="radio", choices=[("SGD", "sgd"), ("Momentum", "momentum"),
                                      ("Adam", "adam")]),
    Setting("points", None, "Your points (x1, x2, label)", _own_points, control="hidden",
            form=ROWS, show=lambda v: [list(p) for p in v] if v else []),
    Setting("loss", "cross_entropy", "Loss (classification)",
            lambda v: choice(v, "loss", LOSSES), control="radio",
            choices=[("Cross-entropy", "cross_entropy"), ("Squared error", "squared_error")]),
    Setting("dropout", 0.0, "Dropout (each hidden neuron, while training)",
            lambda v: number(v, "Dropout", *DROPOUT_RANGE), control="slider",
            range=DROPOUT_RANGE, step=0.05),
    Setting("momentum", 0.9, "Momentum (momentum's)", lambda v: number(v, "Momentum", 0, 0.999),
            control="slider", range=(0, 0.99), step=0.01),
    Setting("beta1", 0.9, "β1 (Adam's)", lambda v: number(v, "Adam's β1", 0, 0.999),
            control="slider", range=(0, 0.99), step=0.01),
    Setting("beta2", 0.999, "β2 (Adam's)", lambda v: number(v, "Adam's β2", 0, 0.9999),
            control="slider", range=(0.9, 0.9999), step=0.0001),
    Setting("show_neurons", True, "Draw every neuron while it trains",
            lambda v: flag(v, "Draw every neuron"), control="checkbox"),
)
# What may change while a run trains (the rest define the network: a change starts afresh).
LIVE_SETTINGS = ("learning_rate", "batch_size", "regularization", "regularization_rate")


class Training(runner.Playable):
    """One network learning one data set by mini-batch gradient descent.

    The network: the chosen input features of each point -> Linear -> f1 -> ... -> Linear ->
    outputs (one per class, softmax; or one value, for regression). The loss: cross-entropy or
    squared error on the softmax's probabilities (classification), squared error (regression),
    plus the regularisation's rate × Σ|w| (L1) or rate × ½Σw² (L2) over the weights (not the
    biases). Dropout, if any, zeroes each hidden neuron with that probability in training
    steps (and scales the rest up to keep the sum). Weights start Glorot-uniform, biases at 0,
    from the seed; mini-batches are drawn in an order shuffled from the seed each epoch.
    `learning_rate`, `batch_size`, `regularization` and `regularization_rate` may change
    between steps.
    """

    def __init__(self, config: Config, learning_rate: float = DEFAULT.learning_rate,
                 batch_size: int = DEFAULT.batch_size, regularization: str = "none",
                 regularization_rate: float = 0.0):
        self.config = config
        self.learning_rate = check_learning_rate(learning_rate)
        self.batch_size = check_batch_size(batch_size)
        self.regularization, self.regularization_rate = check_regularization(
            regularization, regularization_rate)
        if config.points is not None:
            data = own_dataset(config.points, config.problem, config.seed, config.train_share)
        else:
            data = make_dataset(config.dataset, config.noise, config.seed, config.train_share)
        self.x_train, self.y_train = torch.from_numpy(data["x_train"]), torch.from_numpy(
            data["y_train"])
        self.x_test, self.y_test = torch.from_numpy(data["x_test"]), torch.from_numpy(
            data["y_test"])
        self.regression = config.problem == "regression"
        self.classes = 1 if self.regression else max(
            2, int(torch.cat([self.y_train, self.y_test]).max()) + 1)
        self.generator = torch.Generator().manual_seed(config.seed)
        widths = [len(config.features), *config.layers, self.classes]
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b, dtype=torch.float32) for a, b in zip(widths, widths[1:]))
        with torch.no_grad():
            for layer in self.layers:
                bound = math.sqrt(6 / (layer.in_features + layer.out_features))  # Glorot
                layer.weight.uniform_(-bound, bound, generator=self.generator)
                layer.bias.zero_()
        self.fs = [_activation(a) for a in config.activations]
        self.f = self.fs[0]  # the first layer's (all of them, unless chosen per layer)
        self.parameters = list(self._named())  # [(name, tensor)], looked up on every step
        params = [p for _, p in self.parameters]
        self.optimizer = (
            torch.optim.SGD(params, lr=self.learning_rate) if config.optimizer == "sgd" else
            torch.optim.SGD(params, lr=self.learning_rate, momentum=config.momentum)
            if config.optimizer == "momentum" else
            torch.optim.Adam(params, lr=self.learning_rate, betas=config.betas))
        self.steps = 0
        self.order = torch.empty(0, dtype=torch.long)  # the rest of this epoch's shuffle
        self.history: list[dict] = []  # {"step", "train_loss", "test_loss", ...} per frame
        self.status = "ready"  # ready | waiting | training | paused | done | capped | diverged
        self.stopped = False  # set by stop(): a run in progress ends at its next frame
        # Held while weights change: a run trains in one thread while a visitor's Pause or Step
        # arrives in another.
        self.lock = threading.RLock()
        self.record()

    def inputs(self, x):
        """(N, 2) points -> (N, features): the chosen features of each point."""
        x1, x2 = x[:, 0], x[:, 1]
        return torch.stack([FEATURES[f][1](x1, x2) for f in self.config.features], 1)

    def hidden(self, x, drop: bool = False) -> list:
        """Every hidden layer's outputs for (N, 2) points, then the outputs (logits, or the
        regression's value): a list of (N, width) tensors."""
        F = torch.nn.functional
        out, h = [], self.inputs(x)
        for i, f in enumerate(self.fs[:len(self.layers) - 1]):
            h = f(F.linear(h, self.weight(i), self.layers[i].bias))
            if drop and self.config.dropout:
                keep = torch.bernoulli(torch.full_like(h, 1 - self.config.dropout),
                                       generator=self.generator)
                h = h * keep / (1 - self.config.dropout)
            out.append(h)
        last = len(self.layers) - 1
        return [*out, F.linear(h, self.weight(last), self.layers[last].bias)]

    def weight(self, i: int):
        """Layer i's weight matrix as the forward pass uses it (quantization rounds it)."""
        return self.layers[i].weight

    def logits(self, x):
        """(N, 2) points -> (N, classes) logits (regression: (N, 1) values)."""
        return self.hidden(x)[-1]

    def data_loss(self, outputs, y):
        """The mean loss of outputs against labels, without the regularisation."""
        F = torch.nn.functional
        if self.regression:
            return F.mse_loss(outputs[:, 0], y)
        if self.config.loss == "squared_error":  # on the probabilities, against one-hot
            p = outputs.softmax(1)
            return ((p - F.one_hot(y, self.classes).to(p.dtype)) ** 2).sum(1).mean()
        return F.cross_entropy(outputs, y)

    def penalty(self):
        """The regularisation term: rate × Σ|w| or rate × ½Σw², over every weight matrix."""
        if self.regularization == "none" or not self.regularization_rate:
            return None
        weights = [layer.weight for layer in self.layers]
        total = (sum(w.abs().sum() for w in weights) if self.regularization == "l1" else
                 sum((w ** 2).sum() for w in weights) / 2)
        return self.regularization_rate * total

    def _batch(self):
        """The next batch_size indices of this epoch's shuffle (a new shuffle when it runs out)."""
        n = len(self.x_train)
        size = min(self.batch_size, n)
        if len(self.order) < size:
            fresh = torch.randperm(n, generator=self.generator)
            self.order = torch.cat([self.order, fresh])
        batch, self.order = self.order[:size], self.order[size:]
        return batch

    def step(self) -> dict:
        """One step of gradient descent on the next mini-batch: the batch's mean loss (with the
        regularisation), its gradient for every parameter, then the optimiser's update (SGD:
        w <- w - learning_rate * gradient).

        Returns {"loss": float (the data loss), "gradients": {"layer1.weight": array, ...}}. A
        loss that blows up (not finite, or above BLOWN_UP_LOSS) sets status "diverged", and the
        weights stay as they were.
        """
        with self.lock:
            return self._step()

    def _step(self) -> dict:
        batch = self._batch()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.data_loss(self.hidden(self.x_train[batch], drop=True)[-1],
                              self.y_train[batch])
        penalty = self.penalty()
        (loss if penalty is None else loss + penalty).backward()
        value = loss.item()
        for _, p in self.parameters:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        out = {"loss": value, "gradients": {name: p.grad.numpy() for name, p in self.parameters}}
        if not math.isfinite(value) or value > BLOWN_UP_LOSS:
            self.status = "diverged"  # and the weights stay as they were
            return out
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate
        self.optimizer.step()
        self.steps += 1
        return out

    def _named(self):
        for i, layer in enumerate(self.layers, 1):
            yield f"layer{i}.weight", layer.weight
            yield f"layer{i}.bias", layer.bias

    def weights_norm(self) -> float:
        """√(Σw²) over every weight (not the biases): what L2 keeps small."""
        return math.sqrt(sum(float((layer.weight.detach() ** 2).sum()) for layer in self.layers))

    @no_grad
    def evaluate(self) -> dict:
        """Loss (the data loss: cross-entropy or squared error) on the training and test points,
        and for classification the accuracy (regression: None)."""
        out = {}
        for part, x, y in (("train", self.x_train, self.y_train),
                           ("test", self.x_test, self.y_test)):
            outputs = self.logits(x)
            out[f"{part}_loss"] = float(self.data_loss(outputs, y))
            out[f"{part}_accuracy"] = (None if self.regression else
                                       float((outputs.argmax(1) == y).float().mean()))
        return out

    def record(self) -> dict:
        """Losses, accuracies and the weights' norm now, added to the history. Weights that
        stopped being finite (a step too large for a loss that still looked finite) mark the run
        diverged."""
        entry = {"step": self.steps, **self.evaluate(), "weights_norm": self.weights_norm()}
        if not (self.history and self.history[-1]["step"] == self.steps):
            self.history.append(entry)
        if not all(math.isfinite(v) for v in entry.values() if v is not None):
            self.status = "diverged"
        return entry

    def _grid(self, points: int):
        g = torch.linspace(-EXTENT, EXTENT, points)
        a, b = torch.meshgrid(g, g, indexing="xy")  # a varies along a row
        return g, torch.stack([a.reshape(-1), b.reshape(-1)], 1)  # (points^2, 2)

    @no_grad
    def boundary(self, points: int = 41) -> dict:
        """What the network answers over the data's square, on a points x points grid (row i is
        the second coordinate x[i]): {"x": [...], and for two classes "p": p(class 1) rows; for
        more, "classes" (the most likely class) and "confidence" (its probability) rows; for
        regression "value" rows}."""
        g, grid = self._grid(points)
        out = self.logits(grid)
        if self.regression:
            return {"x": g.tolist(),
                    "value": torch.nan_to_num(out[:, 0], nan=0.0).reshape(points, points).tolist()}
        p = torch.nan_to_num(torch.softmax(out, 1), nan=1 / self.classes)
        if self.classes == 2:
            return {"x": g.tolist(), "p": p[:, 1].reshape(points, points).tolist()}
        confidence, classes = p.max(1)
        return {"x": g.tolist(), "classes": classes.reshape(points, points).tolist(),
                "confidence": confidence.reshape(points, points).tolist()}

    @no_grad
    def neurons(self, points: int = NEURON_GRID) -> dict:
        """Every neuron's output over the plane, as TensorFlow Playground draws them on its
        diagram: {"x": grid, "features": [(points x points) map of each input feature],
        "layers": [[map of each neuron] of each hidden layer], "weights": [each layer's
        weight matrix (out x in)], "biases"}."""
        g, grid = self._grid(points)
        maps = [self.inputs(grid), *self.hidden(grid)[:-1]]
        shaped = [[torch.nan_to_num(m[:, j]).reshape(points, points).tolist()
                   for j in range(m.shape[1])] for m in maps]
        return {"x": g.tolist(), "features": shaped[0], "layers": shaped[1:],
                "weights": [layer.weight.detach().tolist() for layer in self.layers],
                "biases": [layer.bias.detach().tolist() for layer in self.layers]}

    def data(self) -> dict:
        return {"x_train": self.x_train.tolist(), "y_train": self.y_train.tolist(),
                "x_test": self.x_test.tolist(), "y_test": self.y_test.tolist()}

    def run(self, steps: int, max_seconds: float = MAX_SECONDS,
            frame_seconds: float = runner.FRAME_SECONDS) -> AsyncIterator[dict]:
        """Train for up to `steps` steps (and `max_seconds`) on the shared runner
        (models/runner.py: paced frames, a place in line while the server's slots are full),
        yielding the state (`record()` plus "steps_per_second") about every `frame_seconds`,
        and once more at the end."""
        return runner.live(self, check_steps(steps), self._step, max_seconds, frame_seconds)




# -- 3. One step, seen: backpropagation by the chain rule in a 2-3-2 network ---------------------


TINY = (2, 3, 2)


def tiny_network(seed: int = 0) -> dict:
    """Weights and biases of a 2-3-2 network, Glorot-uniform from the seed, as plain lists:
    {"W1": 3x2, "b1": 3, "W2": 2x3, "b2": 2} (row j of W holds neuron j's incoming weights)."""
    rng = np.random.default_rng(integer(seed, "Seed", 0, 2 ** 31 - 1))
    params = {}
    for i, (a, b) in enumerate(zip(TINY, TINY[1:]), 1):
        bound = math.sqrt(6 / (a + b))
        params[f"W{i}"] = rng.uniform(-bound, bound, (b, a)).tolist()
        params[f"b{i}"] = [0.0] * b
    return params


def _arrays(params: dict) -> dict:
    try:
        out = {k: np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")}
    except (KeyError, TypeError, ValueError):
        raise ValueError("The network's weights are not a 2-3-2 network's.") from None
    shapes = {"W1": (3, 2), "b1": (3,), "W2": (2, 3), "b2": (2,)}
    if any(out[k].shape != s for k, s in shapes.items()) or not all(
            np.isfinite(v).all() for v in out.values()):
        raise ValueError("The network's weights are not a 2-3-2 network's.")
    return out


def backprop(params: dict, x, y: int, activation: str = "tanh") -> dict:
    """One example through the 2-3-2 network, forward and back, by hand.

    Forward:  z1 = W1 x + b1,  a1 = f(z1),  z2 = W2 a1 + b2,  p = softmax(z2),
              cost C = -ln p[y]  (cross-entropy).
    Backward (the chain rule, last layer first):
              dC/dz2 = p - onehot(y)                 (softmax and cross-entropy together)
              dC/dW2 = dC/dz2 a1^T,   dC/db2 = dC/dz2
              dC/da1 = W2^T dC/dz2                   (each hidden neuron's share of the blame)
              dC/dz1 = dC/da1 * f'(z1)               (f' from the Activation functions tab)
              dC/dW1 = dC/dz1 x^T,    dC/db1 = dC/dz1
    Returns plain lists: the forward values and {"W1": ..., ...} gradients.
    """
    w = _arrays(params)
    activation = choice(activation, "activation", ACTIVATIONS)
    x = np.asarray(x, dtype=np.float64).reshape(2)
    y = int(y)
    z1 = w["W1"] @ x + w["b1"]
    a1 = activations.value(activation, z1, ALPHA)
    z2 = w["W2"] @ a1 + w["b2"]
    p = np.exp(z2 - z2.max())
    p /= p.sum()
    cost = -math.log(max(p[y], 1e-300))
    dz2 = p - np.eye(2)[y]
    da1 = w["W2"].T @ dz2
    dz1 = da1 * activations.derivative(activation, z1, ALPHA)
    grads = {"W1": np.outer(dz1, x), "b1": dz1, "W2": np.outer(dz2, a1), "b2": dz2}
    return {"x": x.tolist(), "y": y, "z1": z1.tolist(), "a1": a1.tolist(), "z2": z2.tolist(),
            "p": p.tolist(), "cost": cost, "dz2": dz2.tolist(), "da1": da1.tolist(),
            "dz1": dz1.tolist(), "gradients": {k: v.tolist() for k, v in grads.items()}}


def autograd_gradients(params: dict, xs, ys, activation: str = "tanh") -> dict:
    """The same gradients (of the mean cost over the examples) from torch.autograd, float64."""
    w = {k: torch.tensor(v, requires_grad=True) for k, v in _arrays(params).items()}
    f = _activation(choice(activation, "activation", ACTIVATIONS))
    x = torch.tensor(np.asarray(xs, dtype=np.float64).reshape(-1, 2))
    logits = f(x @ w["W1"].T + w["b1"]) @ w["W2"].T + w["b2"]
    cost = torch.nn.functional.cross_entropy(logits, torch.tensor(np.asarray(ys).reshape(-1)))
    cost.backward()
    return {k: (v.grad if v.grad is not None else torch.zeros_like(v)).tolist()
            for k, v in w.items()}


def batch_step(params: dict, xs, ys, index: int, learning_rate: float,
               activation: str = "tanh") -> dict:
    """The whole of one gradient-descent step on a batch, seen from one example in it.

    `index` picks the example shown in detail. Returns {"example": backprop(...) of that one,
    "per_example": [gradients of each], "mean": the batch's mean gradient, "autograd": torch's
    gradient of the batch's mean cost, "step": -learning_rate * mean, "new": params + step,
    "cost_before"/"cost_after" (of the example and of the batch mean)}.
    """
    w = _arrays(params)
    xs = np.asarray(xs, dtype=np.float64).reshape(-1, 2)
    ys = np.asarray(ys).reshape(-1).astype(int)
    index = integer(index, "Training point", 0, len(xs) - 1)
    lr = number(learning_rate, "Learning rate", *TRAIN_LEARNING_RATES)
    each = [backprop(params, x, y, activation) for x, y in zip(xs, ys)]
    mean = {k: np.mean([e["gradients"][k] for e in each], axis=0) for k in w}
    step = {k: -lr * mean[k] for k in w}
    new = {k: (w[k] + step[k]).tolist() for k in w}
    after = [backprop(new, x, y, activation)["cost"] for x, y in zip(xs, ys)]
    return {
        "example": each[index],
        "per_example": [e["gradients"] for e in each],
        "mean": {k: v.tolist() for k, v in mean.items()},
        "autograd": autograd_gradients(params, xs, ys, activation),
        "step": {k: v.tolist() for k, v in step.items()},
        "new": new,
        "cost_before": {"example": each[index]["cost"],
                        "batch": float(np.mean([e["cost"] for e in each]))},
        "cost_after": {"example": after[index], "batch": float(np.mean(after))},
    }
