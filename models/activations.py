"""Activation functions, their derivatives, and softmax with temperature.

Each function is written out by hand, value and derivative, so that the formulas shown in the tab
are the ones computed here; tests/unit/test_activations_model.py checks every one against
torch.nn.functional and torch.autograd. Everything works on float64 numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models import checks, digits

# Below this slope a unit is "saturated": gradients passing through it nearly vanish.
SATURATION_SLOPE = 0.05
MAX_POINTS = 2001
MAX_RANGE = 1000.0  # |x| beyond this is not a useful picture of any activation function
ALPHA_RANGE = (0.0, 5.0)


def _sigmoid(x):
    # Split by sign so that exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_erf = np.vectorize(math.erf, otypes=[float])


def _phi(x):  # the standard normal density
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _Phi(x):  # and its cumulative distribution
    return 0.5 * (1 + _erf(x / math.sqrt(2)))


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))  # log(1 + e^x), stable


def _elu(x, a):
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))


@dataclass(frozen=True)
class Activation:
    name: str
    label: str
    f: Callable[[np.ndarray, float], np.ndarray]
    df: Callable[[np.ndarray, float], np.ndarray]
    latex: str
    note: str
    uses_alpha: bool = False


FUNCTIONS: dict[str, Activation] = {a.name: a for a in [
    Activation("sigmoid", "Sigmoid", lambda x, a: _sigmoid(x),
               lambda x, a: _sigmoid(x) * (1 - _sigmoid(x)),
               r"\sigma(x) = \frac{1}{1 + e^{-x}}, \quad \sigma'(x) = \sigma(x)\,(1 - \sigma(x))",
               "Squashes any input into (0, 1). Its slope is at most 0.25 and nearly 0 for "
               "|x| > 5: deep stacks of sigmoids pass back almost no gradient."),
    Activation("tanh", "Tanh", lambda x, a: np.tanh(x), lambda x, a: 1 - np.tanh(x) ** 2,
               r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}, \quad "
               r"\tanh'(x) = 1 - \tanh^2(x)",
               "A sigmoid stretched to (-1, 1) and centred on 0; slope 1 at 0, saturates too."),
    Activation("relu", "ReLU", lambda x, a: np.maximum(x, 0), lambda x, a: (x > 0) * 1.0,
               r"\mathrm{ReLU}(x) = \max(0, x), \quad \mathrm{ReLU}'(x) = [x > 0]",
               "Passes positives unchanged, zeroes negatives. Never saturates for x > 0, "
               "but a neuron stuck at x < 0 gets no gradient at all (a 'dead' ReLU)."),
    Activation("leaky_relu", "Leaky ReLU", lambda x, a: np.where(x > 0, x, a * x),
               lambda x, a: np.where(x > 0, 1.0, a),
               r"\mathrm{LeakyReLU}(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0"
               r"\end{cases}",
               "ReLU with a small slope α for negatives, so no neuron dies.", True),
    Activation("elu", "ELU", _elu, lambda x, a: np.where(x > 0, 1.0, _elu(x, a) + a),
               r"\mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0"
               r"\end{cases}",
               "Smooth for negatives, levelling off at -α.", True),
    Activation("gelu", "GELU", lambda x, a: x * _Phi(x), lambda x, a: _Phi(x) + x * _phi(x),
               r"\mathrm{GELU}(x) = x\,\Phi(x), \quad \Phi = \text{standard normal CDF}",
               "Weights x by the chance that a standard normal is below it: a smooth ReLU, "
               "used in BERT and GPT-2 (and so in this app's transformers)."),
    Activation("silu", "SiLU / Swish", lambda x, a: x * _sigmoid(x),
               lambda x, a: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))),
               r"\mathrm{SiLU}(x) = x\,\sigma(x)",
               "x gated by its own sigmoid; dips slightly below 0 before rising."),
    Activation("softplus", "Softplus", lambda x, a: _softplus(x), lambda x, a: _sigmoid(x),
               r"\mathrm{softplus}(x) = \ln(1 + e^{x}), \quad \mathrm{softplus}'(x) = \sigma(x)",
               "A smooth ReLU whose slope is exactly the sigmoid."),
    Activation("step", "Step", lambda x, a: (x >= 0) * 1.0, lambda x, a: np.zeros_like(x),
               r"H(x) = [x \ge 0]",
               "The perceptron's all-or-nothing unit. Its slope is 0 everywhere (undefined at "
               "0), so gradient descent cannot train it: the reason smooth functions won."),
    Activation("identity", "Identity (linear)", lambda x, a: x * 1.0,
               lambda x, a: np.ones_like(x), r"f(x) = x",
               "No activation at all: a stack of linear layers is still one linear layer."),
]}


def _check_names(names) -> list[str]:
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ValueError("Choose at least one activation function.")
    unknown = [n for n in names if n not in FUNCTIONS]
    if unknown:
        raise ValueError(f"Unknown activation function(s) {unknown}; choose from "
                         f"{', '.join(FUNCTIONS)}.")
    return list(dict.fromkeys(names))  # unique, in order


def check_alpha(alpha) -> float:
    alpha = checks.number(alpha, "α")
    if not ALPHA_RANGE[0] <= alpha <= ALPHA_RANGE[1]:
        raise ValueError(f"α must be between {ALPHA_RANGE[0]} and {ALPHA_RANGE[1]}, got {alpha}.")
    return alpha


def check_range(x_min, x_max) -> tuple[float, float]:
    x_min, x_max = checks.number(x_min, "x min"), checks.number(x_max, "x max")
    if x_min >= x_max:
        raise ValueError(f"x min ({x_min}) must be smaller than x max ({x_max}).")
    if max(abs(x_min), abs(x_max)) > MAX_RANGE:
        raise ValueError(f"Keep the x-range within ±{MAX_RANGE:g}.")
    return x_min, x_max


def value(name: str, x, alpha: float = 0.1) -> np.ndarray:
    return FUNCTIONS[name].f(np.asarray(x, dtype=np.float64), alpha)


def derivative(name: str, x, alpha: float = 0.1) -> np.ndarray:
    return FUNCTIONS[name].df(np.asarray(x, dtype=np.float64), alpha)


def saturated_regions(name: str, x: np.ndarray, alpha: float = 0.1,
                      threshold: float = SATURATION_SLOPE) -> list[tuple[float, float]]:
    """The x-intervals where |f'(x)| < threshold: where learning through this unit stalls."""
    flat = np.abs(derivative(name, x, alpha)) < threshold
    # Region edges fall halfway between a saturated grid point and its unsaturated neighbour.
    edges = np.flatnonzero(np.diff(flat.astype(np.int8)))  # flat changes between i and i+1
    mids = [(x[i] + x[i + 1]) / 2 for i in edges]
    bounds = ([x[0]] if flat[0] else []) + mids + ([x[-1]] if flat[-1] else [])
    return [(float(a), float(b)) for a, b in zip(bounds[::2], bounds[1::2])]


def curves(functions, x_min=-6.0, x_max=6.0, alpha=0.1, points=801) -> dict:
    """Values, derivatives and saturated regions of several functions on one grid.

    Returns {"x": [...], "functions": {name: {"label", "y", "dy", "saturated", "latex",
    "note"}}}. Raises ValueError with a sentence for the user on bad arguments.
    """
    names = _check_names(functions)
    x_min, x_max = check_range(x_min, x_max)
    alpha = check_alpha(alpha)
    points = int(min(max(points, 2), MAX_POINTS))
    x = np.linspace(x_min, x_max, points)
    out = {}
    for name in names:
        a = FUNCTIONS[name]
        out[name] = {"label": a.label, "y": value(name, x, alpha).tolist(),
                     "dy": derivative(name, x, alpha).tolist(),
                     "saturated": saturated_regions(name, x, alpha),
                     "latex": a.latex, "note": a.note}
    return {"x": x.tolist(), "functions": out, "alpha": alpha}


def probe(functions, x0: float, alpha: float = 0.1) -> dict[str, dict[str, float]]:
    """Each function's value and slope at one input x0."""
    names = _check_names(functions)
    x0 = checks.number(x0, "x")
    alpha = check_alpha(alpha)
    return {n: {"value": float(value(n, x0, alpha)), "slope": float(derivative(n, x0, alpha))}
            for n in names}


def neuron(name: str, w: float, b: float, x_min=-6.0, x_max=6.0, alpha=0.1,
           points=401) -> dict:
    """One neuron a = f(w·x + b) over a range of inputs x: w turns the curve, b shifts it."""
    _check_names([name])
    w, b = checks.number(w, "w"), checks.number(b, "b")
    x_min, x_max = check_range(x_min, x_max)
    alpha = check_alpha(alpha)
    x = np.linspace(x_min, x_max, points)
    z = w * x + b
    return {"x": x.tolist(), "a": value(name, z, alpha).tolist(),
            "plain": value(name, x, alpha).tolist()}


def parse_logits(text) -> list[float]:
    """'2, 1, 0.1' -> [2.0, 1.0, 0.1], with a clear message for anything else."""
    if isinstance(text, (list, tuple)):
        parts = list(text)
    else:
        parts = [p for p in str(text if text is not None else "").replace(";", ",").split(",")
                 if p.strip()]
    if not parts:
        raise ValueError("Enter some logits, separated by commas, for example 2, 1, 0.1.")
    if len(parts) > 50:
        raise ValueError("Use at most 50 logits.")
    logits = []
    for p in parts:
        try:
            v = float(p)
        except (TypeError, ValueError):
            raise ValueError(f"'{str(p).strip()}' is not a number.") from None
        if not math.isfinite(v):
            raise ValueError(f"Logits must be finite numbers, got {str(p).strip()}.")
        if abs(v) > 1e6:
            raise ValueError("Keep logits within ±1,000,000.")
        logits.append(v)
    return logits


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / T). T -> 0 puts all the mass on the largest logit (argmax; ties share
    it); T = 1 leaves the logits as they are; large T flattens towards uniform.

    This is exactly how the text-generation tab turns next-token logits into probabilities.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size == 0:
        raise ValueError("Logits must be a non-empty list of numbers.")
    t = checks.number(temperature, "Temperature")
    if t < 0:
        raise ValueError("Temperature must be 0 or more.")
    if t == 0:
        top = z == z.max()
        return top / top.sum()
    z = (z - z.max()) / t  # subtracting the max changes nothing but keeps exp from overflowing
    e = np.exp(z)
    return e / e.sum()


def training_comparison() -> dict:
    """The 784-16-16-10 MNIST network trained with sigmoid, tanh and ReLU, same data, seed and
    steps (models/training/train_digits.py): per-epoch loss and held-out accuracy of each."""
    return digits.training_log()["mlp"]
