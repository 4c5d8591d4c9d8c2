"""Recurrent networks: a hidden state carried from step to step, backpropagation through time,
and why a plain RNN forgets what an LSTM or a GRU remembers.

Three parts, one per section of the Recurrent networks tab (the fourth, the LSTM against the GPT
on Shakespeare, is `models/recurrent/language.py`):

- `unroll(cell, sequence, hidden, seed)`: a small cell run over a short input step by step, with
  every piece of each step's arithmetic (for the RNN `h_t = tanh(W_x x_t + W_h h_{t-1} + b)`,
  for the LSTM its forget, input and output gates and its cell state, for the GRU its reset and
  update gates), computed from torch's own `nn.RNN` / `nn.LSTM` / `nn.GRU` weights; the tests
  check that it equals what those modules compute.
- The memory task and `Run`: a symbol (A, B, C or D) is shown, then `delay` - 1 distractors, then
  a "?"; the network must answer the symbol, shown `delay` steps before the "?". Chance is 25 %.
  `Run` trains one cell on it by Adam on fresh batches, with gradient clipping (by norm) and
  truncated backpropagation through time as options; `Race` trains several cells side by side
  on the same batches, on the shared runner (models/runner.py).
- `gradient_norms(...)`: for one fixed sequence, ‖∂L/∂h_t‖ at every step t, the loss's gradient
  with respect to each hidden state (an explicit loop over the cell, with each h_t kept as a
  leaf of the graph); `gradient_through_time(...)` does it for an untrained network whose
  recurrent weights are scaled up, with what clipping does to the step.

Everything is deterministic for a seed. No gradio here; torch is imported on first use.
"""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from models import runner
from models.checks import choice, integer, number
from models.lazy import no_grad, torch
from models.settings import Schema, Setting

CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
SYMBOLS = "ABCD"  # what is to be remembered
DISTRACTORS = "wxyz"  # what comes between
QUERY = "?"  # the step where the answer is asked for
ALPHABET = SYMBOLS + DISTRACTORS + QUERY  # the inputs, one-hot: index = position
CHANCE = 1 / len(SYMBOLS)

MAX_DELAY = 60
HIDDEN_RANGE = (4, 128)
BATCH = 32
LEARNING_RATE = 1e-3  # Adam's
MAX_STEPS = 5000  # per Play
MAX_SECONDS = 60.0  # per Play
EVAL_SEQUENCES = 256  # the fixed sequences accuracy and loss are measured on
EVAL_SEED = 12345  # ... the same for every seed, so that runs can be compared
LEARNED = 0.9  # an accuracy above this: the cell has learned to remember
CLIP_RANGE = (0.0, 100.0)
INIT_SCALE_RANGE = (0.1, 10.0)
DEFAULT_CLIP = 1.0  # the norm gradient_through_time clips to
STEP_RATE = 0.1  # ... and the learning rate of the one step it takes
FORGET_BIAS_RANGE = (-3.0, 5.0)

# The tiny cell of part 1: its arithmetic is written out, number by number.
UNROLL_HIDDEN_RANGE = (1, 4)
UNROLL_MAX_LENGTH = 12


def check_cell(value) -> str:
    return choice(value, "cell", CELLS)


def check_delay(value) -> int:
    return integer(value, "Delay", 1, MAX_DELAY)


def check_seed(value) -> int:
    return integer(value, "Seed", 0, 2 ** 31 - 1)


# The trainer's settings, each declared once, in the order train_recurrent takes them.
SETTINGS = Schema(
    Setting("cell", "lstm", "Cell", check_cell, control="radio",
            choices=[(label, name) for name, label in CELLS.items()]),
    Setting("delay", 20, "Delay N: the symbol to recall was shown N steps before the question",
            check_delay, control="slider", range=(1, MAX_DELAY), step=1),
    Setting("hidden", 32, "Hidden units", lambda v: integer(v, "Hidden units", *HIDDEN_RANGE),
            control="slider", range=HIDDEN_RANGE, step=1),
    Setting("steps", 600, "Steps per Play", lambda v: integer(v, "Steps", 1, MAX_STEPS),
            control="number", range=(1, MAX_STEPS), step=1),
    Setting("seed", 0, "Seed", check_seed, control="number", range=(0, 2 ** 31 - 1), step=1),
    Setting("clip", 0.0, "Clip the gradient's norm to (0 = off)",
            lambda v: number(v, "Clip", *CLIP_RANGE), control="number", range=CLIP_RANGE),
    Setting("truncate", 0, "Truncate backpropagation to the last k steps (0 = full BPTT)",
            lambda v: integer(v, "Truncate", 0, MAX_DELAY + 1), control="slider",
            range=(0, MAX_DELAY + 1), step=1),
    Setting("forget_bias", 1.0, "The LSTM's forget-gate bias at the start (torch leaves it "
            "near 0; 1 is the usual advice)", lambda v: number(v, "Forget bias",
                                                                *FORGET_BIAS_RANGE),
            control="slider", range=FORGET_BIAS_RANGE, step=0.5),
)
# The same without the cell: what the cells trained side by side share.
RACE_SETTINGS = Schema(*(s for s in SETTINGS if s.name != "cell"))


# -- 1. The unrolled cell ---------------------------------------------------------------------


def check_sequence(sequence) -> str:
    if not isinstance(sequence, str):
        raise ValueError("The sequence must be text: letters from " + ALPHABET + ".")
    sequence = sequence.strip().replace(" ", "")
    if not sequence:
        raise ValueError("Type a sequence: letters from " + ALPHABET + ", for example A w x ?.")
    if len(sequence) > UNROLL_MAX_LENGTH:
        raise ValueError(f"The sequence may have at most {UNROLL_MAX_LENGTH} steps, "
                         f"got {len(sequence):,}.")
    unknown = sorted(set(sequence) - set(ALPHABET))
    if unknown:
        raise ValueError(f"Only the letters {', '.join(ALPHABET)} can be read; "
                         f"{', '.join(map(repr, unknown[:5]))} cannot.")
    return sequence


SEEDING = runner.SEEDING


def torch_cell(cell: str, n_in: int, hidden: int, seed: int):
    """torch's own one-layer recurrent module, initialised from the seed as torch does."""
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    with SEEDING:
        torch.manual_seed(seed)
        return module(n_in, hidden, batch_first=True)


def one_hot(ids, n: int = len(ALPHABET)):
    """ids (B, T) -> (B, T, n) floats."""
    return torch.nn.functional.one_hot(torch.as_tensor(ids), n).float()


def _weights(module) -> dict:
    """The module's weights, split per gate, as numpy: torch stacks the gates' rows in the order
    i, f, g, o (LSTM) and r, z, n (GRU)."""
    names = {"rnn": ["h"], "lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"]}[_kind(module)]
    w_x, w_h = (getattr(module, f"weight_{k}_l0").detach().double().numpy() for k in ("ih", "hh"))
    b_x, b_h = (getattr(module, f"bias_{k}_l0").detach().double().numpy() for k in ("ih", "hh"))
    n = len(names)
    return {gate: {"W_x": np.split(w_x, n)[k], "W_h": np.split(w_h, n)[k],
                   "b_x": np.split(b_x, n)[k], "b_h": np.split(b_h, n)[k]}
            for k, gate in enumerate(names)}


def _kind(module) -> str:
    return {torch.nn.RNN: "rnn", torch.nn.LSTM: "lstm", torch.nn.GRU: "gru"}[type(module)]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def unroll_module(module, sequence: str) -> dict:
    """Run `module` (a one-layer nn.RNN, nn.LSTM or nn.GRU over one-hot letters of ALPHABET)
    over `sequence` step by step in plain numpy, keeping every piece of the arithmetic:
    {"cell", "tokens", "weights", "steps": [{"x", "h_prev", "h", ...}]} with per cell:
    rnn: "Wx_x", "Wh_h", "b", "z" (their sum), "h" = tanh(z);
    lstm: for each gate g in f, i, o: "g_z" (before the sigmoid) and "g"; "g_tilde" (the candidate,
    tanh), "c_prev", "c" = f * c_prev + i * g_tilde, "h" = o * tanh(c);
    gru: "r", "z", "n" (the candidate), "h" = (1 - z) * n + z * h_prev."""
    cell = _kind(module)
    w = _weights(module)
    H = module.hidden_size
    h, c = np.zeros(H), np.zeros(H)
    steps = []
    for token in sequence:
        x = np.zeros(len(ALPHABET))
        x[ALPHABET.index(token)] = 1.0
        step = {"token": token, "x": x, "h_prev": h}

        def pre(gate, x=x, h=h, h_part=None):
            g = w[gate]
            return g["W_x"] @ x + g["b_x"] + (g["W_h"] @ h + g["b_h"] if h_part is None
                                              else h_part)

        if cell == "rnn":
            g = w["h"]
            step.update(Wx_x=g["W_x"] @ x, Wh_h=g["W_h"] @ h, b=g["b_x"] + g["b_h"])
            step["z"] = step["Wx_x"] + step["Wh_h"] + step["b"]
            h = np.tanh(step["z"])
        elif cell == "lstm":
            for gate in "fio":
                step[f"{gate}_z"] = pre(gate)
                step[gate] = _sigmoid(step[f"{gate}_z"])
            step["g_tilde"] = np.tanh(pre("g"))
            step["c_prev"] = c
            c = step["f"] * c + step["i"] * step["g_tilde"]
            step["c"] = c
            h = step["o"] * np.tanh(c)
        else:
            step["r"] = _sigmoid(pre("r"))
            step["z"] = _sigmoid(pre("z"))
            # The reset gate scales the recurrent part of the candidate, bias included (torch's
            # GRU, as in the cuDNN formulation).
            step["n"] = np.tanh(pre("n", h_part=step["r"] * (w["n"]["W_h"] @ h + w["n"]["b_h"])))
            h = (1 - step["z"]) * step["n"] + step["z"] * h
        step["h"] = h
        steps.append(step)
    return {"cell": cell, "tokens": list(sequence), "hidden": H, "weights": w, "steps": steps}


def unroll(cell="rnn", sequence="A" + "w" * 3 + "?", hidden=3, seed=0) -> dict:
    """A freshly initialised one-layer cell (torch's initialisation, from the seed) unrolled over
    `sequence` (letters of ALPHABET): see `unroll_module`."""
    cell = check_cell(cell)
    sequence = check_sequence(sequence)
    hidden = integer(hidden, "Hidden units", *UNROLL_HIDDEN_RANGE)
    return unroll_module(torch_cell(cell, len(ALPHABET), hidden, check_seed(seed)), sequence)


# -- 2. The memory task ------------------------------------------------------------------------


def make_batch(delay: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n sequences of delay + 1 steps: a symbol, delay - 1 random distractors, a "?".
    Returns (ids (n, delay + 1) into ALPHABET, answers (n,) into SYMBOLS)."""
    answers = rng.integers(0, len(SYMBOLS), n)
    ids = np.empty((n, delay + 1), np.int64)
    ids[:, 0] = answers
    ids[:, 1:-1] = rng.integers(len(SYMBOLS), len(SYMBOLS) + len(DISTRACTORS), (n, delay - 1))
    ids[:, -1] = ALPHABET.index(QUERY)
    return ids, answers


def _network(cell: str, hidden: int, forget_bias: float = 0.0):
    """A one-layer recurrent cell over one-hot letters, and a linear read-out of its last hidden
    state: forward(x (B, T, n_in), truncate) -> logits (B, symbols). An LSTM's forget gate
    starts with the bias `forget_bias` (a forget gate of σ(1) = 0.73 keeps 0.73^k of its cell
    state after k steps, against σ(0)^k = 0.5^k: a thousand times more after 20 steps)."""
    nn = torch.nn

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](
                len(ALPHABET), hidden, batch_first=True)
            self.head = nn.Linear(hidden, len(SYMBOLS))
            if cell == "lstm":
                with torch.no_grad():  # torch's rows: input, forget, cell, output gates
                    self.cell.bias_ih_l0[hidden:2 * hidden] = forget_bias
                    self.cell.bias_hh_l0[hidden:2 * hidden] = 0.0

        def forward(self, x, truncate: int = 0):
            state = None
            if truncate and truncate < x.shape[1]:
                # Truncated BPTT: the steps before the last `truncate` run, but no gradient goes
                # back into them (their final state enters as a constant).
                with torch.no_grad():
                    _, state = self.cell(x[:, :-truncate])
                x = x[:, -truncate:]
            out, _ = self.cell(x, state)  # (B, T, hidden)
            return self.head(out[:, -1])  # (B, symbols)

    return Network()


def gradients_through_time(network, ids, answer: int, truncate: int = 0,
                           clip: float = 0.0) -> dict:
    """Backpropagation through time on one sequence, seen: the cross-entropy loss at its end,
    and its gradient with respect to each step's hidden state, ‖∂L/∂h_t‖ for t = 1 … T ("h"),
    and for an LSTM its cell state's too, ‖∂L/∂c_t‖ ("c"; None for the others).

    The cell is stepped one step at a time (torch's module, one step per call), each state kept
    in the graph with retain_grad. With `truncate` = k, the states before the last k steps enter
    as constants, so their gradients are 0. With `clip` > 0, the gradient flowing back into
    each state is rescaled to a norm of at most `clip` before it goes further back: clipping
    step by step, as it flows (Graves 2013; Karpathy's recurrentjs clips each number)."""
    cell = network.cell
    x = one_hot(np.asarray(ids)[None])  # (1, T, n_in)
    T = x.shape[1]
    state, hs, cs = None, [], []

    def clipped(g):
        return g * min(1.0, clip / (g.norm().item() or 1.0))

    for t in range(T):
        if truncate and t == T - truncate and state is not None:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else \
                state.detach()
        _, state = cell(x[:, t:t + 1], state)
        kept = state if isinstance(state, tuple) else (state,)  # (h, c) or (h,): (1, 1, hidden)
        for s in kept:
            if clip > 0:
                s.register_hook(clipped)  # runs before retain_grad's, so .grad is clipped
            s.retain_grad()
        hs.append(kept[0])
        if len(kept) > 1:
            cs.append(kept[1])
    logits = network.head(hs[-1][0])
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([answer]))
    loss.backward()
    network.zero_grad(set_to_none=True)

    def norms(states):
        return [0.0 if s.grad is None else s.grad.norm().item() for s in states]

    return {"h": norms(hs), "c": norms(cs) if cs else None}


def gradient_norms(network, ids, answer: int, truncate: int = 0) -> list[float]:
    """‖∂L/∂h_t‖ for t = 1 … T on one sequence: see gradients_through_time."""
    return gradients_through_time(network, ids, answer, truncate)["h"]


@dataclass(frozen=True)
class Settings:
    cell: str
    delay: int
    hidden: int
    seed: int
    clip: float
    truncate: int
    forget_bias: float


class Run(runner.Playable):
    """One cell learning the memory task by Adam on fresh random batches."""

    def __init__(self, cell="lstm", delay=20, hidden=32, seed=0, clip=0.0, truncate=0,
                 forget_bias=1.0):
        given = dict(cell=cell, delay=delay, hidden=hidden, seed=seed, clip=clip,
                     truncate=truncate, forget_bias=forget_bias)
        self.settings = Settings(**{k: v for k, v in SETTINGS.check(given).items()
                                    if k != "steps"})
        s = self.settings
        with SEEDING:  # the initial weights: torch's own initialisation, from the seed
            torch.manual_seed(s.seed)
            self.network = _network(s.cell, s.hidden, s.forget_bias)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=LEARNING_RATE)
        self.rng = np.random.default_rng(s.seed)  # the training batches
        ids, answers = make_batch(s.delay, EVAL_SEQUENCES, np.random.default_rng(EVAL_SEED))
        self.eval_x, self.eval_y = one_hot(ids), torch.as_tensor(answers)
        self.probe = (ids[0], int(answers[0]))  # the sequence whose gradients are drawn
        self.steps = 0
        self.gradient_norm = None  # the last step's, before clipping
        self.history: list[dict] = []
        self.status = "ready"  # ready | waiting | training | paused | done | capped | diverged
        self.stopped = False
        self.lock = threading.RLock()

    @property
    def cell(self) -> str:
        return self.settings.cell

    def step(self):
        """One Adam step on a fresh batch: the loss at the "?", backpropagated through time
        (truncated if asked), the gradient clipped to the norm asked (if asked)."""
        with self.lock:
            s = self.settings
            ids, answers = make_batch(s.delay, BATCH, self.rng)
            logits = self.network(one_hot(ids), s.truncate)
            loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(answers))
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(self.network.parameters(),
                                                  s.clip if s.clip > 0 else math.inf)
            self.gradient_norm = norm.item()
            if not math.isfinite(loss.item()) or not math.isfinite(self.gradient_norm):
                self.status = "diverged"
                return
            self.optimizer.step()
            self.steps += 1

    def train_one(self):
        self.step()

    @no_grad
    def evaluate(self) -> tuple[float, float]:
        """(loss, accuracy) on the fixed evaluation sequences."""
        logits = self.network(self.eval_x)
        loss = torch.nn.functional.cross_entropy(logits, self.eval_y).item()
        accuracy = (logits.argmax(-1) == self.eval_y).float().mean().item()
        return loss, accuracy

    def record(self) -> dict:
        """The state now: loss and accuracy on the fixed sequences, ‖∂L/∂h_t‖ on the probe."""
        with self.lock:
            loss, accuracy = self.evaluate()
            norms = gradients_through_time(self.network, *self.probe, self.settings.truncate)
            state = {"step": self.steps, "loss": loss, "accuracy": accuracy,
                     "grad_norms": norms["h"], "cell": self.cell, "status": self.status,
                     "gradient_norm": self.gradient_norm}
            if norms["c"] is not None:
                state["cell_grad_norms"] = norms["c"]
            if not self.history or self.history[-1]["step"] != self.steps:
                self.history.append({"step": self.steps, "loss": loss, "accuracy": accuracy})
            return state

    def inside(self) -> dict:
        """The trained cell unrolled over the probe sequence: its states and gates at every
        step (`unroll_module`)."""
        with self.lock:
            return unroll_module(self.network.cell,
                                 "".join(ALPHABET[i] for i in self.probe[0]))

    def run(self, steps: int) -> AsyncIterator[dict]:
        """Train on the shared runner: paced frames of states (see models/runner.py)."""
        return runner.live(self, integer(steps, "Steps", 1, MAX_STEPS), self.step, MAX_SECONDS)


class Race(runner.Playable):
    """Several cells, one Run each with the same settings, trained side by side: one step of
    each per step, on the same batches (the same seed), so that what differs is the cell."""

    def __init__(self, cells=tuple(CELLS), **settings):
        if not cells:
            raise ValueError("Choose at least one cell.")
        self.runs = {c: Run(cell=check_cell(c), **settings) for c in dict.fromkeys(cells)}
        first = next(iter(self.runs.values()))
        self.settings = first.settings
        self.steps = 0  # steps of the race (a cell that diverged stops; the others go on)
        self.status = "ready"
        self.stopped = False
        self.lock = threading.RLock()

    def step(self):
        with self.lock:
            for run in self.runs.values():
                if run.status != "diverged":
                    run.step()
            self.steps += 1
            if all(r.status == "diverged" for r in self.runs.values()):
                self.status = "diverged"

    def record(self) -> dict:
        with self.lock:
            return {"step": self.steps, "status": self.status,
                    "cells": {c: r.record() for c, r in self.runs.items()}}

    def run(self, steps: int) -> AsyncIterator[dict]:
        return runner.live(self, integer(steps, "Steps", 1, MAX_STEPS), self.step, MAX_SECONDS)


# -- 3. Exploding gradients ----------------------------------------------------------------------


def gradient_through_time(cell="rnn", delay=20, seed=0, init_scale=1.0, clip=DEFAULT_CLIP,
                          forget_bias=1.0) -> dict:
    """An untrained network of the seed (hidden 32), its recurrent weights (W_h, every gate's)
    multiplied by `init_scale`, on the probe sequence:
    - "grad_norms": ‖∂L/∂h_t‖ at each step t;
    - "clipped": the same when the gradient flowing back is clipped to `clip` at every step
      (it can no longer grow going back);
    - "gradient_norm", "clipped_gradient_norm": the norm of the whole gradient of the weights,
      before and after clipping it to `clip` (as training clips: the same direction, a bounded
      size; a gradient that vanished is not brought back by either);
    - "weights_norm", "step_size", "clipped_step_size": the norm of all the weights, and how
      far one step of gradient descent (learning rate STEP_RATE) would move them, with the
      gradient as it is and clipped."""
    cell, delay, seed = check_cell(cell), check_delay(delay), check_seed(seed)
    init_scale = number(init_scale, "Init scale", *INIT_SCALE_RANGE)
    clip = number(clip, "Clip", 1e-6, CLIP_RANGE[1])
    forget_bias = number(forget_bias, "Forget bias", *FORGET_BIAS_RANGE)
    with SEEDING:
        torch.manual_seed(seed)
        network = _network(cell, 32, forget_bias)
    with torch.no_grad():
        network.cell.weight_hh_l0.mul_(init_scale)
    ids, answers = make_batch(delay, EVAL_SEQUENCES, np.random.default_rng(EVAL_SEED))
    x, y = one_hot(ids), torch.as_tensor(answers)
    norms = gradients_through_time(network, ids[0], int(answers[0]))["h"]
    clipped = gradients_through_time(network, ids[0], int(answers[0]), clip=clip)["h"]
    torch.nn.functional.cross_entropy(network(x), y).backward()
    total = math.sqrt(sum(p.grad.norm().item() ** 2 for p in network.parameters()))
    weights = math.sqrt(sum(p.norm().item() ** 2 for p in network.parameters()))
    factor = min(1.0, clip / total) if total > 0 else 1.0
    return {"cell": cell, "delay": delay, "init_scale": init_scale, "clip": clip,
            "grad_norms": norms, "clipped": clipped, "gradient_norm": total,
            "clipped_gradient_norm": total * factor, "weights_norm": weights,
            "step_rate": STEP_RATE, "step_size": STEP_RATE * total,
            "clipped_step_size": STEP_RATE * total * factor}
