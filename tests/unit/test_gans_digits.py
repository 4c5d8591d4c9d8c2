"""The digit GANs' mechanics: nearest training digits, generating, the walk, bad requests, the
Fréchet distance, and the live run. (How good the shipped GANs are: tests/slow.)"""

import numpy as np
import pytest

from models import runner
from models.gans import digits as gd
from models.gans import referee
from tests.conftest import DATA


@pytest.fixture(scope="module")
def heldout():
    data = np.load(DATA / "mnist_heldout.npz")
    return data["images"] / 255.0, data["labels"]


def test_the_nearest_training_digit_is_the_nearest(heldout):
    pool, _ = gd.training_digits()
    images = heldout[0][:3]
    index, dist = referee.nearest(images, pool)
    brute = np.linalg.norm(pool.reshape(len(pool), -1)[None] / 255.0
                           - images.reshape(3, 1, -1), axis=-1)
    np.testing.assert_array_equal(index, brute.argmin(1))
    np.testing.assert_allclose(dist, brute.min(1), rtol=1e-4)


def test_generate_gives_images_in_0_1_the_cnns_reading_and_is_seeded():
    a = gd.generate(5, seed=3)
    assert a["images"].shape == (5, 28, 28) and 0 <= a["images"].min() and a["images"].max() <= 1
    assert [set(r) for r in a["cnn"]] == [{"digit", "confidence"}] * 5
    b = gd.generate(8, seed=3)
    np.testing.assert_allclose(a["images"], b["images"][:5], atol=1e-6)  # the first k: the same
    assert not np.allclose(a["images"], gd.generate(5, seed=4)["images"])
    read = referee.read(a["images"])
    assert [r["digit"] for r in a["cnn"]] == read["digits"].tolist()


def test_the_walk_starts_and_ends_at_each_seeds_first_sample():
    walk = gd.walk(2, 9)
    assert len(walk["images"]) == gd.WALK_FRAMES and walk["t"][0] == 0 and walk["t"][-1] == 1
    np.testing.assert_allclose(walk["images"][0], gd.generate(1, 2)["images"][0], atol=1e-5)
    np.testing.assert_allclose(walk["images"][-1], gd.generate(1, 9)["images"][0], atol=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda: gd.generate(0), "between 1 and 64"), (lambda: gd.generate(65), "between 1 and 64"),
    (lambda: gd.generate(4, seed=-2), "Seed"), (lambda: gd.generate(4, digit=10), "Digit"),
    (lambda: gd.generate(4, digit="seven"), "Digit"), (lambda: gd.generate("x"), "n must"),
    (lambda: gd.walk(0, 1e12), "Seed"),
])
def test_bad_requests_are_refused_with_a_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_none_means_the_unconditional_generator():
    for empty in (None, "", "none", "None"):
        assert gd.check_digit(empty) is None
    assert gd.check_digit("7") == 7


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 4))
    assert referee.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    # Two Gaussians with the same covariance: the distance is the squared shift of the means.
    assert referee.frechet_distance(a, a + [2, 0, 0, 0]) == pytest.approx(4, rel=1e-6)
    cov_a, cov_b = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])  # tr(A + B - 2 (AB)^1/2) = 10 - 8
    x = rng.multivariate_normal([0, 0], cov_a, 200_000)
    y = rng.multivariate_normal([0, 0], cov_b, 200_000)
    assert referee.frechet_distance(x, y) == pytest.approx(2, abs=0.05)


def test_the_live_gan_trains_on_the_runner_and_reads_its_samples():
    run = gd.DigitRun(seed=1)
    states = list(runner.iterate(run.run(5)))
    last = states[-1]
    assert last["step"] == 5 and last["status"] == "done"
    assert len(last["samples"]) == gd.SHOWN and sum(last["all_read"]) == gd.LIVE_CENSUS
    assert sum(last["class_histogram"]) <= gd.LIVE_CENSUS
    assert np.isfinite([last["loss_g"], last["loss_d"]]).all()


def test_the_same_seed_trains_the_same_live_forger():
    a, b = gd.DigitRun(seed=4), gd.DigitRun(seed=4)
    for _ in range(3):
        a.step()
        b.step()
    np.testing.assert_allclose(a.samples(), b.samples(), atol=1e-6)
