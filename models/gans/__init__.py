"""Generative adversarial networks: a forger (the generator G) that turns noise into samples and
a judge (the discriminator D) that tells real samples from fakes, trained against each other.

This part is the plane, as GAN Lab shows it: the real data is a distribution of points in 2-D;
G maps 2-D noise (uniform in the square [-1, 1]^2) to points; D gives every point of the plane
a score, high where it believes points are real. Each step of `PlaneRun` trains D for `d_steps`
batches, then G for one, with the loss chosen:

- minimax (the original game): D maximises log D(x) + log(1 - D(G(z))); G minimises
  log(1 - D(G(z))). When D confidently rejects the fakes, this G's gradient vanishes;
- non-saturating: the same D; G maximises log D(G(z)) instead, which is steep exactly there;
- least squares (LSGAN): D's score is pulled to 1 on real points and 0 on fakes; G pulls its
  fakes' scores to 1.

What a frame shows is computed here and tested to be what the networks compute: D's heatmap
over a grid of the plane (`heatmap`), the image under G of a grid of noise (`noise_grid_image`),
and each shown fake's arrow, the direction in which G's loss pushes it (minus the gradient of
its loss with respect to the point). How far the fakes are from the real data is the earth
mover's distance (`distance`). The digits are models/gans/digits.py.

No gradio here; torch is imported on first use.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from models import runner
from models.checks import choice, integer, number
from models.lazy import no_grad, torch
from models.settings import ROWS, Schema, Setting

DISTRIBUTIONS = {"gaussians": "Four Gaussians", "ring": "Ring", "moons": "Two moons",
                 "line": "Line", "drawn": "Drawn by you"}
LOSSES = {"minimax": "Minimax (the original game)", "non_saturating": "Non-saturating",
          "least_squares": "Least squares"}
EXTENT = 1.5  # the plane shown: [-1.5, 1.5]^2 (the real data lies within [-1, 1]^2)
Z_DIM = 2  # the noise is 2-D, so that a grid of it can be drawn
HIDDEN = 32
BATCH = 128
BETAS = (0.5, 0.999)  # Adam's, as DCGAN's
LR_RANGE = (1e-5, 0.1)
MAX_D_STEPS = 10
MAX_STEPS = 5000  # per Play
MAX_SECONDS = 60.0  # per Play
HEAT = 41  # D's heatmap: HEAT x HEAT points over the plane
GRID = 11  # the noise grid: GRID lines each way...
GRID_POINTS = 21  # ...each GRID_POINTS points long
SHOWN = 200  # fakes (with arrows) and real points drawn
EVAL = 256  # fakes and real points the distance is measured on (fixed for a run; the exact
# pairing of 500 took 120 ms a frame, of 256 about 20)
EVAL_SEED = 2024
ARROW_SCALE = 0.1  # an arrow is this times minus the gradient of the fake's own loss...
ARROW_CAP = 0.5  # ...and at most this long
DRAWN_SPREAD = 0.03  # a drawn point stands for a small Gaussian of this width
MIN_POINTS, MAX_POINTS = 5, 1000
START_FRACTION = 0.4  # the seeded default run ends below this share of its starting distance


def check_points(points) -> list[list[float]] | None:
    """A drawn distribution: MIN_POINTS to MAX_POINTS points [x, y] inside [-1.5, 1.5]^2, or
    None (nothing drawn)."""
    if points is None or points == []:
        return None
    if not isinstance(points, (list, tuple)):
        raise ValueError("Points must be a list of [x, y] pairs.")
    if not MIN_POINTS <= len(points) <= MAX_POINTS:
        raise ValueError(f"Draw between {MIN_POINTS} and {MAX_POINTS:,} points, got "
                         f"{len(points):,}.")
    checked = []
    for point in points:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise ValueError("Each point must be a pair [x, y].")
        checked.append([number(v, "A point's coordinate", -EXTENT, EXTENT) for v in point])
    return checked


def check_rate(value, who: str) -> float:
    return number(value, f"The {who}'s learning rate", *LR_RANGE)


SETTINGS = Schema(
    Setting("distribution", "gaussians", "Real data",
            lambda v: choice(v, "distribution", DISTRIBUTIONS), control="dropdown",
            choices=[(label, name) for name, label in DISTRIBUTIONS.items()]),
    Setting("steps", 1500, "Steps per Play (one step: the judge's, then one of the forger's)",
            lambda v: integer(v, "Steps", 1, MAX_STEPS), control="number", range=(1, MAX_STEPS),
            step=1),
    Setting("lr_generator", 1e-3, "Forger's (G) learning rate", lambda v: check_rate(v, "forger"),
            control="number", range=LR_RANGE),
    Setting("lr_discriminator", 1e-3, "Judge's (D) learning rate",
            lambda v: check_rate(v, "judge"), control="number", range=LR_RANGE),
    Setting("d_steps", 3, "Judge's steps per forger's step",
            lambda v: integer(v, "Judge's steps", 1, MAX_D_STEPS), control="slider",
            range=(1, MAX_D_STEPS), step=1),
    Setting("loss", "non_saturating", "Loss", lambda v: choice(v, "loss", LOSSES),
            control="radio", choices=[(label, name) for name, label in LOSSES.items()]),
    Setting("seed", 0, "Seed", lambda v: integer(v, "Seed", 0, 2 ** 31 - 1), control="number",
            range=(0, 2 ** 31 - 1), step=1),
    Setting("points", None, "Your distribution's points", check_points, control="hidden",
            form=ROWS),
)


# -- The real data ------------------------------------------------------------------------------


def sample_real(distribution: str, n: int, rng: np.random.Generator,
                points: list | None = None) -> np.ndarray:
    """n points (n, 2) of one of DISTRIBUTIONS ("drawn": around the points given)."""
    if distribution == "gaussians":  # four hills at the corners of a square
        centres = np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])
        return centres[rng.integers(0, 4, n)] + rng.normal(0, 0.08, (n, 2))
    if distribution == "ring":
        angle = rng.uniform(0, 2 * math.pi, n)
        radius = 0.75 + rng.normal(0, 0.03, n)
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    if distribution == "moons":  # two interleaved half circles, as scikit-learn's make_moons
        t = rng.uniform(0, math.pi, n)
        upper = rng.random(n) < 0.5
        x = np.where(upper, np.cos(t), 1 - np.cos(t))
        y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
        return np.stack([(x - 0.5) * 0.7, (y - 0.25) * 0.7], 1) + rng.normal(0, 0.04, (n, 2))
    if distribution == "line":
        t = rng.uniform(-1, 1, n)
        across = rng.normal(0, 0.02, n)[:, None] * np.array([-0.53, 0.85])  # across the line
        return np.stack([0.8 * t, 0.5 * t], 1) + across
    if distribution == "drawn":
        if not points:
            raise ValueError("Draw some points first (at least "
                             f"{MIN_POINTS}), or choose another distribution.")
        given = np.asarray(points, dtype=np.float64)
        return given[rng.integers(0, len(given), n)] + rng.normal(0, DRAWN_SPREAD, (n, 2))
    raise ValueError(f"Unknown distribution {distribution!r}.")


# -- The distance ----------------------------------------------------------------------------


def distance(fake: np.ndarray, real: np.ndarray) -> float:
    """The earth mover's distance between two equal sets of points: pair every fake with one
    real point so that the average distance between partners is as small as it can be (the
    Hungarian algorithm), and report that average. 0 when the fakes sit on the real points; it
    does not saturate when the two sets do not overlap, as KL and JS divergence do."""
    from scipy.optimize import linear_sum_assignment

    cost = np.linalg.norm(fake[:, None, :] - real[None, :, :], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


@functools.lru_cache(maxsize=16)
def distance_floor(distribution: str, points: tuple | None = None) -> float:
    """The distance between two sets of EVAL points drawn from the real data itself: as low as
    the fakes' can be expected to go (two samples never coincide)."""
    rng = np.random.default_rng(EVAL_SEED + 1)
    return distance(sample_real(distribution, EVAL, rng, points),
                    sample_real(distribution, EVAL, rng, points))


# -- A run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    distribution: str
    lr_generator: float
    lr_discriminator: float
    d_steps: int
    loss: str
    seed: int
    points: list | None


def d_loss(loss: str, real_out, fake_out):
    """D's loss from its outputs (logits, or scores for least squares) on real points and on
    fakes, a mean over each batch."""
    if loss == "least_squares":
        return ((real_out - 1) ** 2).mean() / 2 + (fake_out ** 2).mean() / 2
    # -log D(x) - log(1 - D(G(z))), with D = sigmoid(logit): softplus(-r) + softplus(f)
    softplus = torch.nn.functional.softplus
    return softplus(-real_out).mean() + softplus(fake_out).mean()


def g_loss(loss: str, fake_out):
    """G's loss from D's outputs on its fakes, a mean over the batch."""
    if loss == "least_squares":
        return ((fake_out - 1) ** 2).mean() / 2
    softplus = torch.nn.functional.softplus
    if loss == "minimax":
        return -softplus(fake_out).mean()  # log(1 - D(G(z))): G makes it as low as it can
    return softplus(-fake_out).mean()  # -log D(G(z))


def heat_axis() -> np.ndarray:
    return np.linspace(-EXTENT, EXTENT, HEAT)


def noise_grid() -> np.ndarray:
    """GRID horizontal then GRID vertical lines across the noise square, each GRID_POINTS
    points: (2 * GRID, GRID_POINTS, 2)."""
    ticks, along = np.linspace(-1, 1, GRID), np.linspace(-1, 1, GRID_POINTS)
    rows = [np.stack([along, np.full_like(along, t)], 1) for t in ticks]
    cols = [np.stack([np.full_like(along, t), along], 1) for t in ticks]
    return np.stack(rows + cols)


class PlaneRun(runner.Playable):
    """A forger and a judge on the plane, trained by Adam from a seed."""

    def __init__(self, **given):
        checked = SETTINGS.check(given)
        checked.pop("steps")
        self.settings = s = Settings(**checked)
        if s.distribution == "drawn" and not s.points:
            raise ValueError(f"Draw at least {MIN_POINTS} points first, or choose another "
                             "distribution.")
        from models.gans.networks import PlaneMLP

        with runner.SEEDING:
            torch.manual_seed(s.seed)
            self.generator = PlaneMLP(Z_DIM, 2, HIDDEN)
            self.discriminator = PlaneMLP(2, 1, HIDDEN)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=s.lr_generator,
                                      betas=BETAS)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=s.lr_discriminator,
                                      betas=BETAS)
        self.rng = np.random.default_rng(s.seed)  # batches of real points and noise
        fixed = np.random.default_rng(EVAL_SEED)
        self.real_eval = sample_real(s.distribution, EVAL, fixed, s.points)
        self.noise_eval = fixed.uniform(-1, 1, (EVAL, Z_DIM))
        self.steps = 0
        self.losses = (None, None)  # the last step's (G, D); none before the first
        self.history: list[dict] = []
        self.status = "ready"
        self.stopped = False
        self.lock = threading.RLock()

    def _tensor(self, array: np.ndarray):
        return torch.as_tensor(array, dtype=torch.float32)

    def step(self):
        """`d_steps` steps of the judge on fresh batches, then one of the forger."""
        with self.lock:
            s = self.settings
            G, D = self.generator, self.discriminator
            for _ in range(s.d_steps):
                real = self._tensor(sample_real(s.distribution, BATCH, self.rng, s.points))
                with torch.no_grad():
                    fake = G(self._tensor(self.rng.uniform(-1, 1, (BATCH, Z_DIM))))
                loss_d = d_loss(s.loss, D(real).squeeze(1), D(fake).squeeze(1))
                if not math.isfinite(loss_d.item()):  # before the weights take it
                    self.status = "diverged"
                    return
                self.opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                self.opt_d.step()
            fake_out = D(G(self._tensor(self.rng.uniform(-1, 1, (BATCH, Z_DIM))))).squeeze(1)
            loss_g = g_loss(s.loss, fake_out)
            if not math.isfinite(loss_g.item()):
                self.status = "diverged"
                return
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            self.losses = (loss_g.item(), loss_d.item())
            self.steps += 1

    def train_one(self):
        self.step()

    @no_grad
    def generate(self, noise: np.ndarray) -> np.ndarray:
        """G on noise (n, 2) -> points (n, 2)."""
        return self.generator(self._tensor(noise)).numpy().astype(np.float64)

    @no_grad
    def judge(self, points: np.ndarray) -> np.ndarray:
        """How real D finds each point (n,): its probability (sigmoid of its logit) for the
        cross-entropy losses; its score clipped to [0, 1] for least squares."""
        out = self.discriminator(self._tensor(points)).squeeze(1)
        return (out.clamp(0, 1) if self.settings.loss == "least_squares"
                else torch.sigmoid(out)).numpy().astype(np.float64)

    def heatmap(self) -> dict:
        """D over a HEAT x HEAT grid of the plane: {"axis": the grid's coordinates, "d": rows
        (y) of columns (x)}."""
        axis = heat_axis()
        xs, ys = np.meshgrid(axis, axis)  # row i: y = axis[i]
        d = self.judge(np.stack([xs.ravel(), ys.ravel()], 1)).reshape(HEAT, HEAT)
        return {"axis": axis.tolist(), "d": d.tolist()}

    def noise_grid_image(self) -> list[list[list[float]]]:
        """The noise grid's lines, each mapped through G: where G sends the square."""
        grid = noise_grid()
        return self.generate(grid.reshape(-1, Z_DIM)).reshape(grid.shape).tolist()

    def arrows(self, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fakes G makes from `noise`, and for each the direction its own loss pushes it:
        minus the gradient of that fake's term of G's loss with respect to the point."""
        with torch.enable_grad():
            points = self.generator(self._tensor(noise)).detach().requires_grad_(True)
            out = self.discriminator(points).squeeze(1)
            loss = g_loss(self.settings.loss, out)
            (grad,) = torch.autograd.grad(loss * len(points), points)  # each fake's own term
        return points.detach().numpy().astype(np.float64), -grad.numpy().astype(np.float64)

    def record(self) -> dict:
        """The state now: losses, the distance, and what the plane shows."""
        with self.lock:
            fakes = self.generate(self.noise_eval)
            dist = distance(fakes, self.real_eval)
            shown, push = self.arrows(self.noise_eval[:SHOWN])
            loss_g, loss_d = self.losses
            entry = {"step": self.steps, "loss_g": loss_g, "loss_d": loss_d, "distance": dist}
            if not self.history or self.history[-1]["step"] != self.steps:
                self.history.append(entry)
            points = tuple(map(tuple, self.settings.points)) if self.settings.points else None
            return {**entry, "status": self.status, "loss": self.settings.loss,
                    "floor": distance_floor(self.settings.distribution, points),
                    "fakes": shown.tolist(), "push": push.tolist(),
                    "real": self.real_eval[:SHOWN].tolist(), "heatmap": self.heatmap(),
                    "noise_grid": self.noise_grid_image(), "history": runner.thinned(self.history)}

    def run(self, steps: int) -> AsyncIterator[dict]:
        """Train on the shared runner: paced frames of states (see models/runner.py)."""
        return runner.live(self, integer(steps, "Steps", 1, MAX_STEPS), self.step, MAX_SECONDS)
