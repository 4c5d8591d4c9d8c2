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
    # every digit present, each read surely at least 20 times in 1,000 (2 % of the samples)
    assert census["classes_present"] == 10 and min(census["confident_histogram"]) >= 20


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
    """Each of 1,000 samples is farther from its nearest training digit than the threshold."""
    assert gd.census(seed=11, digit=digit, n=1000)["nearest_min"] > gd.COPY_DISTANCE


def trained(steps: int, **settings) -> dict:
    run = gd.DigitRun(**settings)
    for _ in range(steps):
        run.step()
    return run.record()


def test_a_forger_far_faster_than_its_judge_collapses_and_the_default_does_not():
    """The live tab's last preset: after 600 steps, every sample is one blob of one class. With
    the defaults, the same steps give varied samples, some read surely, no class dominating."""
    collapsed = trained(600, lr_generator=2e-2, lr_discriminator=1e-4, seed=0)
    assert max(collapsed["all_read"]) >= 0.8 * gd.LIVE_CENSUS
    assert collapsed["diversity"] < 0.5 * collapsed["real_diversity"]
    default = trained(600, seed=0)
    assert default["diversity"] > 0.7 * default["real_diversity"]
    assert max(default["all_read"]) < 0.5 * gd.LIVE_CENSUS
    assert default["confident"] > 0.1
