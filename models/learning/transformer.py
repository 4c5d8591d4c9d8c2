"""A tiny transformer that learns in front of you: one or two layers, a few heads, a width of 32,
trained from random weights on a sequence task in a few seconds of CPU.

Tasks (`TASKS`):
- `repeat`: random tokens, and somewhere in them a random stretch of 4 to 8 tokens said twice.
  Once the model has seen the first copy it can predict the second, but only by looking back to
  where the current token last occurred and copying the token that came *after* it: an
  **induction head** (Olsson et al. 2022, "In-context learning and induction heads"). Where the
  repeat starts and how long it is change from sequence to sequence, so position alone cannot
  solve it; one layer cannot either (a head would have to find "the token after the previous
  copy of mine", which needs one head to note each position's previous token and a second,
  later head to look for it). So the model is two layers of attention only (no MLP, as the
  paper's small models), and the moment the second layer's head locks on, the loss falls from
  about 2.8 nats to near 0 within a few hundred steps.
- `sort`: eight digits, a `|`, and the same digits sorted; the model learns to write the sorted
  list (attention and MLPs).

`Run` holds one training run: `step()` is one AdamW step on a fresh batch, `state()` the loss on
what can be learned, the induction score and every head's attention pattern on a fixed example,
and `run(steps)` streams states a few times a second, capped in steps and seconds, as
`learning.Training.run` does. Everything is deterministic for a seed. No gradio here.
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


@dataclass(frozen=True)
class Task:
    name: str
    label: str
    vocab: list[str]  # the token strings, id = index
    length: int  # tokens per sequence
    mlp: bool  # attention-only for repeat: the circuit is attention alone
    learning_rate: float
    steps: int  # the default budget of one Play
    note: str


TASKS: dict[str, Task] = {t.name: t for t in [
    Task("repeat", "Repeat a random sequence (an induction head)",
         list("ABCDEFGHIJKLMNOP"), 24, False, 0.003, 2000,
         "Each sequence is random tokens with one random stretch said twice. The second copy "
         "can only be predicted by an induction head: look back to where this token came "
         "before, and copy what followed it."),
    Task("sort", "Sort eight digits",
         [*"0123456789", "|"], 17, True, 0.003, 2000,
         "Eight random digits, a bar, then the same digits in order. The model learns to write "
         "the sorted list: each answer attends to the digits not yet written."),
]}
WIDTH = 32
MAX_LAYERS, MAX_HEADS = 2, 4
BATCH = 32
MAX_STEPS = 10_000  # per run
MAX_SECONDS = 60.0  # per run
EVAL_SEQUENCES = 64  # the fixed batch the loss and the induction score are measured on
REPEAT_LENGTHS = (4, 8)  # the repeated stretch: between these many tokens
INDUCTION_FORMED = 0.5  # an induction score above this: the head has formed


def check(task, layers, heads, steps, seed):
    task = TASKS[choice(task, "task", TASKS)]
    heads = integer(heads, "Heads", 1, MAX_HEADS)
    if WIDTH % heads:
        raise ValueError(f"Heads must divide the width of {WIDTH}: 1, 2 or 4, got {heads}.")
    return (task, integer(layers, "Layers", 1, MAX_LAYERS), heads,
            integer(steps, "Steps", 1, MAX_STEPS), integer(seed, "Seed", 0, 2 ** 31 - 1))


def make_batch(task: Task, n: int, rng: np.random.Generator) -> dict:
    """n sequences of the task: {"tokens": (n, T) int64, "learnable": (n, T - 1) bool (which
    next-token predictions can be right), "repeat": (n, 2) [start, length] of the repeated
    stretch (repeat only)}."""
    T = task.length
    if task.name == "repeat":
        tokens = rng.integers(0, len(task.vocab), (n, T))
        lengths = rng.integers(REPEAT_LENGTHS[0], REPEAT_LENGTHS[1] + 1, n)
        starts = np.array([rng.integers(0, T - 2 * k + 1) for k in lengths])
        learnable = np.zeros((n, T - 1), bool)
        for i, (s, k) in enumerate(zip(starts, lengths)):
            tokens[i, s + k:s + 2 * k] = tokens[i, s:s + k]
            # Predicting token j from position j - 1: the second copy's tokens after its first.
            learnable[i, s + k:s + 2 * k - 1] = True
        return {"tokens": tokens, "learnable": learnable,
                "repeat": np.stack([starts, lengths], 1)}
    digits = rng.integers(0, 10, (n, 8))
    tokens = np.concatenate([digits, np.full((n, 1), 10), np.sort(digits, 1)], 1)
    learnable = np.zeros((n, T - 1), bool)
    learnable[:, 8:] = True  # from the bar on, every next token is determined
    return {"tokens": tokens, "learnable": learnable}


def induction_score(attention: np.ndarray, repeat: np.ndarray) -> np.ndarray:
    """For each head: the mean attention, over the second copy of each sequence, from each
    position to the position just after its token's earlier occurrence.

    attention: (n, layers, heads, T, T); repeat: (n, 2) [start, length]. Returns (layers, heads).
    """
    scores = []
    for a, (s, k) in zip(attention, repeat):
        i = np.arange(s + k, s + 2 * k)  # the second copy: token i is token i - k again
        scores.append(a[:, :, i, i - k + 1].mean(-1))
    return np.mean(scores, 0)


def _model(task: Task, layers: int, heads: int):
    """A decoder-only transformer: token and learned position embeddings, `layers` blocks of
    pre-LayerNorm causal self-attention (and an MLP of 4 × width, if the task has one), a final
    LayerNorm and an unembedding. forward(tokens) returns (logits, attention (B, L, H, T, T))."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(WIDTH)
            self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
            self.out = nn.Linear(WIDTH, WIDTH)
            self.mlp = nn.Sequential(nn.LayerNorm(WIDTH), nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(),
                                     nn.Linear(4 * WIDTH, WIDTH)) if task.mlp else None

        def forward(self, x, mask):
            B, T, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, heads, WIDTH // heads).unbind(2)
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, H, T, d)
            scores = q @ k.transpose(-1, -2) / math.sqrt(WIDTH // heads)
            attention = scores.masked_fill(mask, float("-inf")).softmax(-1)
            x = x + self.out((attention @ v).transpose(1, 2).reshape(B, T, WIDTH))
            if self.mlp is not None:
                x = x + self.mlp(x)
            return x, attention

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(len(task.vocab), WIDTH)
            self.position = nn.Embedding(task.length, WIDTH)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.ln = nn.LayerNorm(WIDTH)
            self.unembed = nn.Linear(WIDTH, len(task.vocab))

        def forward(self, tokens):
            T = tokens.shape[1]
            x = self.embed(tokens) + self.position(torch.arange(T))
            mask = torch.ones(T, T, dtype=torch.bool).triu(1)
            patterns = []
            for block in self.blocks:
                x, attention = block(x, mask)
                patterns.append(attention)
            return self.unembed(self.ln(x)), torch.stack(patterns, 1)

    return Model()


class Run(runner.Playable):
    """One tiny transformer learning one task by AdamW on fresh random batches."""

    def __init__(self, task: str = "repeat", layers: int = 2, heads: int = 2, seed: int = 0,
                 learning_rate: float | None = None):
        self.task, self.layers, self.heads, _, self.seed = check(task, layers, heads, 1, seed)
        self.learning_rate = (self.task.learning_rate if learning_rate is None else
                              number(learning_rate, "Learning rate", 1e-4, 0.1))
        torch.manual_seed(seed)  # the initial weights (torch's own initialisation) from the seed
        self.model = _model(self.task, self.layers, self.heads)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.learning_rate,
                                           weight_decay=0.0)
        self.rng = np.random.default_rng(seed)  # the training batches
        # The fixed evaluation sequences (the first is the example drawn), the same for every
        # seed so that runs can be compared.
        self.eval = make_batch(self.task, EVAL_SEQUENCES, np.random.default_rng(12345))
        self.steps = 0
        self.history: list[dict] = []
        self.formed_at: int | None = None  # the step the induction score first passed 0.5
        self.status = "ready"  # ready | waiting | training | paused | done | capped
        self.stopped = False
        self.lock = threading.RLock()
        self.record()

    def _loss(self, logits, tokens, learnable):
        """Mean next-token cross-entropy over the predictions that can be right."""
        losses = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1),
            reduction="none").view(tokens.shape[0], -1)
        return losses[learnable].mean()

    def step(self) -> float:
        """One AdamW step on a fresh batch; returns its loss before the step."""
        with self.lock:
            batch = make_batch(self.task, BATCH, self.rng)
            tokens = torch.from_numpy(batch["tokens"])
            logits, _ = self.model(tokens)
            loss = self._loss(logits, tokens, torch.from_numpy(batch["learnable"]))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            return loss.item()

    @no_grad
    def state(self) -> dict:
        """Now, on the fixed evaluation sequences: {"step", "loss" (on what can be learned),
        "accuracy" (of those predictions), "induction_score" (best head; None for tasks without
        a repeat), "head_scores" (layers x heads), "example": {"tokens", "attention" (layers x
        heads x T x T), "predicted", "probability" (of the predicted token), "learnable"}}."""
        tokens = torch.from_numpy(self.eval["tokens"])
        logits, attention = self.model(tokens)
        learnable = torch.from_numpy(self.eval["learnable"])
        loss = float(self._loss(logits, tokens, learnable))
        predicted = logits[:, :-1].argmax(-1)
        accuracy = float((predicted == tokens[:, 1:])[learnable].float().mean())
        attention = attention.numpy()
        heads = (induction_score(attention, self.eval["repeat"])
                 if "repeat" in self.eval else None)
        p = logits[0, :-1].softmax(-1)
        return {
            "step": self.steps, "loss": loss, "accuracy": accuracy,
            "induction_score": None if heads is None else float(heads.max()),
            "head_scores": None if heads is None else heads.tolist(),
            "example": {"tokens": [self.task.vocab[t] for t in self.eval["tokens"][0]],
                        "attention": attention[0].tolist(),
                        "predicted": [self.task.vocab[t] for t in predicted[0].tolist()],
                        "probability": p.max(-1).values.tolist(),
                        "learnable": self.eval["learnable"][0].tolist()},
        }

    def record(self) -> dict:
        entry = self.state()
        if not (self.history and self.history[-1]["step"] == self.steps):
            self.history.append({k: entry[k] for k in ("step", "loss", "accuracy",
                                                         "induction_score")})
        score = entry["induction_score"]
        if self.formed_at is None and score is not None and score > INDUCTION_FORMED:
            self.formed_at = self.steps
        return entry

    def run(self, steps: int, max_seconds: float = MAX_SECONDS,
            frame_seconds: float = runner.FRAME_SECONDS,
            share: float = runner.TRAIN_SHARE) -> AsyncIterator[dict]:
        """Train up to `steps` steps (and `max_seconds`), yielding `record()` plus
        "steps_per_second" about every `frame_seconds` and once at the end; training takes
        `share` of the time, the rest is left to other visitors. Closing the generator stops
        it."""
        return runner.live(self, integer(steps, "Steps", 1, MAX_STEPS), self.step, max_seconds,
                           frame_seconds, share)
