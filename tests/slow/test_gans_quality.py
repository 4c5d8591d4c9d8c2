"""How good the digit GANs are, judged by the app's digit CNN (the issue's thresholds); that
their samples are not copies, with the threshold measured on real held-out digits; and that the
live GAN's mismatched preset does collapse."""

import numpy as np
import pytest

from models.gans import digits as gd
from models.gans import referee
from tests.conftest import DATA


@pytest.fixture(scope="module")
def heldout():
    data = np.load(DATA / "mnist_heldout.npz")
    return data["images"] / 255.0, data["labels"]


def test_the_unconditional_gans_samples_are_read_as_digits_and_every_digit_is_there():
    census = gd.census(seed=0, digit=None, n=1000)
    assert census["confident"] >= 0.8  # at least 80 % read with at least 0.8 confidence
    assert census["classes_present"] == 10 and min(census["histogram"]) > 0


def test_the_conditional_gan_makes_the_digit_asked_for():
    shares = [gd.census(seed=1, digit=d, n=100)["as_asked"] for d in range(10)]
    assert np.mean(shares) >= 0.9, shares


def test_no_held_out_real_digit_is_nearer_a_training_digit_than_the_copy_threshold(heldout):
    """The threshold is measured on real digits that were never trained on: none is nearer to
    a training digit than COPY_DISTANCE (the closest is 1.23)."""
    pool, _ = gd.training_digits()
    _, dist = referee.nearest(heldout[0], pool)
    assert dist.min() > gd.COPY_DISTANCE
    assert dist.min() == pytest.approx(1.23, abs=0.01)


@pytest.mark.parametrize("digit", [None, 3])
def test_samples_are_not_copies_of_training_digits(digit):
    made = gd.generate(64, seed=11, digit=digit)
    assert min(made["nearest_distance"]) > gd.COPY_DISTANCE


def test_a_forger_far_faster_than_its_judge_collapses():
    """The live tab's last preset: within 600 steps, every sample is one blob of one class."""
    run = gd.DigitRun(lr_generator=2e-2, lr_discriminator=1e-4, seed=0)
    for _ in range(600):
        run.step()
    state = run.record()
    assert max(state["all_read"]) >= 0.8 * gd.LIVE_CENSUS
    assert state["diversity"] < 0.5 * state["real_diversity"]
    balanced = gd.DigitRun(seed=0)
    for _ in range(600):
        balanced.step()
    assert balanced.record()["diversity"] > 0.7 * state["real_diversity"]
