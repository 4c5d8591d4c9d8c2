"""GANs that make digits, judged by the app's digit CNN.

- The shipped pair (models/weights/gan-digits/, trained by models/training/train_digit_gan.py):
  an unconditional DCGAN and a conditional one (the digit is an input). `generate` makes digits
  from a seed, each read by the CNN (its verdict and confidence) and set beside its nearest
  training image (is it a copy?); `walk` goes from one seed's noise to another's; `census`
  reads many samples, so that a missing class (mode collapse) shows in a histogram.
- `DigitRun`: a small DCGAN trained live from scratch on the same training digits, on the
  shared runner: samples from fixed noise, both losses, and the CNN's class histogram as it
  trains. A forger whose learning rate is far above its judge's tends to collapse.

No gradio here; torch is imported on first use.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from models import runner
from models.checks import integer, number
from models.gans import referee
from models.lazy import no_grad, torch
from models.settings import Schema, Setting

WEIGHTS_DIR = Path(__file__).parents[1] / "weights" / "gan-digits"
MAX_N = 64
CONFIDENT = 0.8  # the CNN "reads" a sample as a digit at this confidence or more
# A sample nearer than this to a training image would be a copy: the nearest of 1,000 held-out
# real digits (tests/data/mnist_heldout.npz) lies 1.23 from its nearest training digit, the
# 1st percentile 1.65, the median 4.8 (pixels in [0, 1], Euclidean; tests/slow/test_gans_quality).
COPY_DISTANCE = 1.0
CENSUS = 1000  # samples read for the class histogram
WALK_FRAMES = 9


def check_n(value) -> int:
    return integer(value, "n", 1, MAX_N)


def check_seed(value) -> int:
    return integer(value, "Seed", 0, 2 ** 31 - 1)


def check_digit(value) -> int | None:
    """A digit 0 to 9, or None (also "" or "none"): the unconditional generator."""
    if value is None or isinstance(value, str) and value.strip().lower() in ("", "none"):
        return None
    return integer(value, "Digit", 0, 9)


# -- The shipped generators --------------------------------------------------------------------


@lru_cache(maxsize=2)
def generator(conditional: bool):
    """The shipped generator (eval mode: batch norm's running statistics, so that a sample
    depends on its own noise only)."""
    from safetensors.torch import load_file

    from models.gans.networks import DigitGANConfig, DigitGenerator

    name = "conditional" if conditional else "unconditional"
    config = DigitGANConfig(**json.loads((WEIGHTS_DIR / "config.json").read_text())[name])
    g = DigitGenerator(config)
    g.load_state_dict(load_file(WEIGHTS_DIR / f"{name}.safetensors"))
    return g.eval()


@lru_cache(maxsize=1)
def training_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 7,000 digits the GANs were trained on: (images uint8 (N, 28, 28), labels)."""
    data = np.load(WEIGHTS_DIR / "training_digits.npz")
    return data["images"], data["labels"]


def training_log() -> dict:
    return json.loads((WEIGHTS_DIR / "training.json").read_text())


def noise(seed: int, n: int, z_dim: int) -> np.ndarray:
    """A seed's noise vectors (n, z_dim), standard normal; the first k are the same for any n."""
    return np.random.default_rng(seed).standard_normal((n, z_dim)).astype(np.float32)


@no_grad
def make(z: np.ndarray, digit: int | None) -> np.ndarray:
    """The shipped generator's images (N, 28, 28) in [0, 1] for noise z (N, z_dim)."""
    g = generator(digit is not None)
    labels = None if digit is None else torch.full((len(z),), digit, dtype=torch.long)
    from models.gans.networks import to_image

    return to_image(g(torch.from_numpy(z), labels)).squeeze(1).numpy()


def judged(images: np.ndarray) -> dict:
    """Images with the CNN's reading and their nearest training image."""
    read = referee.read(images)
    pool, _ = training_digits()
    index, dist = referee.nearest(images, pool)
    return {"images": images,
            "cnn": [{"digit": int(d), "confidence": float(c)}
                    for d, c in zip(read["digits"], read["confidence"])],
            "nearest_index": index.tolist(), "nearest_distance": dist.tolist(),
            "nearest": pool[index].astype(np.float32) / 255.0}


def generate(n=16, seed=0, digit=None) -> dict:
    """n digits from a seed's noise (`digit` None: the unconditional generator; 0-9: the
    conditional one, asked for that digit): see `judged`."""
    n, seed, digit = check_n(n), check_seed(seed), check_digit(digit)
    z = noise(seed, n, generator(digit is not None).config.z_dim)
    return {**judged(make(z, digit)), "digit": digit, "seed": seed}


def walk(seed_a=0, seed_b=1, digit=None, frames: int = WALK_FRAMES) -> dict:
    """From the first noise vector of seed_a to seed_b's, in `frames` even steps along the
    great circle between them (noise in many dimensions lives near a sphere: a straight line
    would pass through its faint middle)."""
    seed_a, seed_b, digit = check_seed(seed_a), check_seed(seed_b), check_digit(digit)
    frames = integer(frames, "frames", 2, 32)
    z_dim = generator(digit is not None).config.z_dim
    a, b = noise(seed_a, 1, z_dim)[0], noise(seed_b, 1, z_dim)[0]
    angle = math.acos(float(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1, 1)))
    t = np.linspace(0, 1, frames)[:, None]
    if angle < 1e-6:
        z = (1 - t) * a + t * b
    else:
        z = (np.sin((1 - t) * angle) * a + np.sin(t * angle) * b) / math.sin(angle)
    return {**judged(make(z.astype(np.float32), digit)), "t": t.ravel().tolist()}


@lru_cache(maxsize=16)
def census(seed=0, digit=None, n: int = CENSUS) -> dict:
    """n samples read by the CNN: how many of each class ("histogram": every reading;
    "confident_histogram": those read with CONFIDENT or more), the share read with CONFIDENT or
    more ("confident"), the classes present among the confident readings, the smallest
    distance to a training digit ("nearest_min"), and, for the conditional generator, the share
    read as the digit asked for ("as_asked")."""
    seed, digit = check_seed(seed), check_digit(digit)
    z = noise(seed, n, generator(digit is not None).config.z_dim)
    images = np.concatenate([make(z[i:i + 500], digit) for i in range(0, n, 500)])
    read = referee.read(images)
    counts = np.bincount(read["digits"], minlength=10)
    sure = read["confidence"] >= CONFIDENT
    sure_counts = np.bincount(read["digits"][sure], minlength=10)
    _, nearest_distance = referee.nearest(images, training_digits()[0])
    result = {"n": n, "histogram": counts.tolist(), "confident_histogram": sure_counts.tolist(),
              "confident": float(sure.mean()), "classes_present": int((sure_counts > 0).sum()),
              "nearest_min": float(nearest_distance.min())}
    if digit is not None:
        result["as_asked"] = float((read["digits"] == digit).mean())
    return result


def pixels(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """A 28 x 28 image in [0, 1] as uint8 pixels, each repeated scale x scale (crisp when
    shown large)."""
    return np.kron(np.clip(image * 255, 0, 255).round().astype(np.uint8),
                   np.ones((scale, scale), dtype=np.uint8))


def side_by_side(sample: np.ndarray, nearest: np.ndarray, scale: int = 4) -> np.ndarray:
    """A sample and its nearest training image, with a grey bar between."""
    bar = np.full((28 * scale, 2 * scale), 110, dtype=np.uint8)
    return np.concatenate([pixels(sample, scale), bar, pixels(nearest, scale)], axis=1)


def mosaic(images: np.ndarray, columns: int) -> np.ndarray:
    """Images (N, 28, 28) in a grid, one grey line between them (values in [0, 1], the gaps
    0.35): for a heatmap."""
    rows = -(-len(images) // columns)
    out = np.full((rows * 29 - 1, columns * 29 - 1), 0.35, dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[r * 29:r * 29 + 28, c * 29:c * 29 + 28] = image
    return out


# -- A small GAN trained live ------------------------------------------------------------------

LIVE_Z = 32
LIVE_WIDTH = 32
LIVE_BATCH = 32
MAX_STEPS = 3000  # per Play
MAX_SECONDS = 60.0  # per Play
LR_RANGE = (1e-5, 0.05)
SHOWN = 16  # samples drawn from fixed noise each frame
LIVE_CENSUS = 200  # ...and read by the CNN for the histogram
LIVE_NOISE_SEED = 7
# Reading LIVE_CENSUS samples with the CNN takes about 100 ms, more than a frame's training: while
# a run trains it is read at most this often (each frame still draws its samples), and always
# at the end of a Play.
CENSUS_SECONDS = 1.0

SETTINGS = Schema(
    Setting("steps", 1000, "Steps per Play", lambda v: integer(v, "Steps", 1, MAX_STEPS),
            control="number", range=(1, MAX_STEPS), step=1),
    Setting("lr_generator", 5e-3, "Forger's (G) learning rate",
            lambda v: number(v, "The forger's learning rate", *LR_RANGE), control="number",
            range=LR_RANGE),
    Setting("lr_discriminator", 1e-3, "Judge's (D) learning rate",
            lambda v: number(v, "The judge's learning rate", *LR_RANGE), control="number",
            range=LR_RANGE),
    Setting("seed", 0, "Seed", check_seed, control="number", range=(0, 2 ** 31 - 1), step=1),
)


def diversity(images: np.ndarray) -> float:
    """How different samples are from each other: the mean distance between consecutive
    pairs of them (pixels in [0, 1], Euclidean, as the nearest training digit's). Collapse
    drives it towards 0."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    half = len(flat) // 2
    return float(np.linalg.norm(flat[:half] - flat[half:2 * half], axis=1).mean())


@lru_cache(maxsize=1)
def real_diversity() -> float:
    """The same for LIVE_CENSUS training digits: what a forger that covers them all reaches."""
    images, _ = training_digits()
    picked = np.random.default_rng(0).choice(len(images), LIVE_CENSUS, replace=False)
    return diversity(images[picked] / 255.0)


@dataclass(frozen=True)
class LiveSettings:
    lr_generator: float
    lr_discriminator: float
    seed: int


class DigitRun(runner.Playable):
    """A small DCGAN (no hidden layer, 32 channels) learning digits from scratch by Adam."""

    def __init__(self, **given):
        checked = SETTINGS.check(given)
        checked.pop("steps")
        self.settings = s = LiveSettings(**checked)
        from models.gans.networks import (
            DigitDiscriminator,
            DigitGANConfig,
            DigitGenerator,
            dcgan_init,
        )

        config = DigitGANConfig(z_dim=LIVE_Z, width=LIVE_WIDTH)
        with runner.SEEDING:
            torch.manual_seed(s.seed)
            self.generator, self.discriminator = DigitGenerator(config), DigitDiscriminator(config)
            dcgan_init(self.generator)
            dcgan_init(self.discriminator)
        betas = (0.5, 0.999)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=s.lr_generator, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=s.lr_discriminator,
                                      betas=betas)
        self.torch_rng = torch.Generator().manual_seed(s.seed)
        self.fixed = torch.from_numpy(noise(LIVE_NOISE_SEED, LIVE_CENSUS, LIVE_Z))
        self.steps = 0
        self.losses = (None, None)  # the last step's (G, D); none before the first
        self.history: list[dict] = []
        self.census: tuple[float, dict] | None = None  # (when, the CNN's reading)
        self.status = "ready"
        self.stopped = False
        self.lock = threading.RLock()

    @staticmethod
    @lru_cache(maxsize=1)
    def _data():
        from models.gans.networks import from_image

        images, _ = training_digits()
        return from_image(torch.from_numpy(images).float().div(255).unsqueeze(1))

    def step(self):
        """One step of the judge, then one of the forger (non-saturating loss, real labels
        0.9), on a fresh batch of training digits and of noise."""
        F = torch.nn.functional
        with self.lock:
            data = self._data()
            idx = torch.randint(0, len(data), (LIVE_BATCH,), generator=self.torch_rng)
            z = torch.randn(LIVE_BATCH, LIVE_Z, generator=self.torch_rng)
            fake = self.generator(z)
            loss_d = (F.binary_cross_entropy_with_logits(self.discriminator(data[idx]),
                                                         torch.full((LIVE_BATCH,), 0.9))
                      + F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()),
                                                           torch.zeros(LIVE_BATCH)))
            if not math.isfinite(loss_d.item()):  # before the weights take it
                self.status = "diverged"
                return
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            loss_g = F.binary_cross_entropy_with_logits(self.discriminator(fake),
                                                        torch.ones(LIVE_BATCH))
            if not math.isfinite(loss_g.item()):
                self.status = "diverged"
                return
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            self.losses = (loss_g.item(), loss_d.item())
            self.steps += 1

    @no_grad
    def samples(self) -> np.ndarray:
        """The generator (eval mode) on the fixed noise: (LIVE_CENSUS, 28, 28) in [0, 1]."""
        from models.gans.networks import to_image

        self.generator.eval()
        try:
            return to_image(self.generator(self.fixed)).squeeze(1).numpy()
        finally:
            self.generator.train()

    def _read(self, images: np.ndarray) -> dict:
        """The CNN's reading of the fixed noise's samples: afresh unless the run is training
        and read them less than CENSUS_SECONDS ago."""
        now = time.monotonic()
        if (self.census is None or self.status != "training"
                or now - self.census[0] >= CENSUS_SECONDS):
            read = referee.read(images)
            sure = read["confidence"] >= CONFIDENT
            # The histogram counts the samples the CNN reads confidently: a blob it reads as
            # "1" with 40 % is not a 1.
            histogram = np.bincount(read["digits"][sure], minlength=10)
            self.census = (now, {
                "class_histogram": histogram.tolist(), "confident": float(sure.mean()),
                "classes_present": int((histogram > 0).sum()),
                "all_read": np.bincount(read["digits"], minlength=10).tolist(),
                "diversity": diversity(images), "read_at": self.steps,
                "cnn": [{"digit": int(d), "confidence": float(c)}
                        for d, c in zip(read["digits"][:SHOWN], read["confidence"][:SHOWN])]})
        return self.census[1]

    def record(self) -> dict:
        """The state now: losses, the fixed noise's samples and the CNN's reading of them
        (made at step "read_at")."""
        with self.lock:
            images = self.samples()
            read = self._read(images)
            loss_g, loss_d = self.losses
            entry = {"step": self.steps, "loss_g": loss_g, "loss_d": loss_d,
                     **{k: read[k] for k in ("class_histogram", "confident", "classes_present",
                                             "diversity")}}
            if not self.history or self.history[-1]["step"] != self.steps:
                self.history.append(entry)
            return {**entry, "status": self.status, "samples": images[:SHOWN],
                    "cnn": read["cnn"], "read_at": read["read_at"], "all_read": read["all_read"],
                    "real_diversity": real_diversity(), "history": runner.thinned(self.history)}

    def run(self, steps: int) -> AsyncIterator[dict]:
        return runner.live(self, integer(steps, "Steps", 1, MAX_STEPS), self.step, MAX_SECONDS)
