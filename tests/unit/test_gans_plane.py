"""The plane's GAN: what a frame shows is what the networks compute (D's heatmap, G's image of
the noise grid, the arrows), the losses as written, the distance, and that the seeded default
run learns the four Gaussians."""

import math

import numpy as np
import pytest
import torch

from models import gans, runner


@pytest.fixture(scope="module")
def trained():
    run = gans.PlaneRun(seed=3)
    for _ in range(60):
        run.step()
    return run


def test_the_heatmap_is_the_discriminator_on_the_grid(trained):
    heat = trained.heatmap()
    axis = np.array(heat["axis"])
    assert len(axis) == gans.HEAT and axis[0] == -gans.EXTENT and axis[-1] == gans.EXTENT
    d = np.array(heat["d"])
    for i, j in [(0, 0), (5, 30), (40, 40), (20, 7)]:  # row i is y = axis[i], column j x
        logit = trained.discriminator(torch.tensor([[axis[j], axis[i]]], dtype=torch.float32))
        assert d[i, j] == pytest.approx(torch.sigmoid(logit).item(), abs=1e-6)


def test_the_noise_grids_image_is_the_generator_on_the_grid(trained):
    image = np.array(trained.noise_grid_image())
    grid = gans.noise_grid()
    assert image.shape == grid.shape == (2 * gans.GRID, gans.GRID_POINTS, 2)
    assert grid.min() == -1 and grid.max() == 1  # the whole noise square
    with torch.no_grad():
        expected = trained.generator(torch.tensor(grid.reshape(-1, 2), dtype=torch.float32))
    np.testing.assert_allclose(image.reshape(-1, 2), expected.numpy(), atol=1e-6)


def test_least_squares_heatmap_is_the_score_clipped():
    run = gans.PlaneRun(loss="least_squares", seed=1)
    for _ in range(20):
        run.step()
    axis = np.array(run.heatmap()["axis"])
    d = np.array(run.heatmap()["d"])
    score = run.discriminator(torch.tensor([[axis[3], axis[9]]], dtype=torch.float32)).item()
    assert d[9, 3] == pytest.approx(min(max(score, 0), 1), abs=1e-6)


@pytest.mark.parametrize("loss", list(gans.LOSSES))
def test_each_arrow_is_minus_the_gradient_of_that_fakes_loss(trained, loss):
    run = gans.PlaneRun(loss=loss, seed=3)
    noise = np.random.default_rng(0).uniform(-1, 1, (5, 2))
    points, push = run.arrows(noise)
    for k in range(5):
        x = torch.tensor(points[k:k + 1], dtype=torch.float32, requires_grad=True)
        out = run.discriminator(x).squeeze(1)
        own = {"minimax": torch.log1p(-torch.sigmoid(out)),  # log(1 - D)
               "non_saturating": -torch.log(torch.sigmoid(out)),
               "least_squares": (out - 1) ** 2 / 2}[loss].sum()
        (grad,) = torch.autograd.grad(own, x)
        np.testing.assert_allclose(push[k], -grad[0].numpy(), rtol=1e-4, atol=1e-6)


def test_the_losses_are_the_games_as_written():
    r, f = torch.tensor([0.3, -1.0]), torch.tensor([2.0, -0.5])
    D = torch.sigmoid
    assert gans.d_loss("minimax", r, f).item() == pytest.approx(
        (-torch.log(D(r)) - torch.log(1 - D(f))).mean().item(), rel=1e-5)
    assert gans.g_loss("minimax", f).item() == pytest.approx(torch.log(1 - D(f)).mean().item(),
                                                             rel=1e-5)
    assert gans.g_loss("non_saturating", f).item() == pytest.approx(
        (-torch.log(D(f))).mean().item(), rel=1e-5)
    assert gans.d_loss("least_squares", r, f).item() == pytest.approx(
        (((r - 1) ** 2).mean() / 2 + (f ** 2).mean() / 2).item())


def test_the_distance_is_the_best_pairings_mean_and_zero_only_for_the_same_points():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 2))
    assert gans.distance(a, a[::-1].copy()) == pytest.approx(0, abs=1e-12)
    assert gans.distance(a, a + [3, 4]) == pytest.approx(5)  # every point moved by 5
    b = rng.normal(size=(50, 2))
    pairs = np.linalg.norm(a - b, axis=1).mean()  # one pairing, not the best
    assert gans.distance(a, b) <= pairs


def test_the_seeded_default_run_learns_the_four_gaussians():
    """The issue's test: distance at the end below START_FRACTION of where it started."""
    run = gans.PlaneRun()  # the defaults: four Gaussians, seed 0
    start = run.record()["distance"]
    for _ in range(gans.SETTINGS["steps"].default):  # flat out: the runner's pacing aside,
        run.step()  # what a Play trains (tests/browser sees it through the page)
    assert run.record()["distance"] < gans.START_FRACTION * start


def test_a_run_trains_on_the_shared_runner_and_streams_its_state():
    run = gans.PlaneRun(seed=1)
    states = list(runner.iterate(run.run(20)))
    assert states[-1]["step"] == 20 and states[-1]["status"] == "done"
    assert {"heatmap", "noise_grid", "fakes", "push", "real", "history", "floor",
            "steps_per_second"} <= set(states[-1])


def test_the_same_seed_trains_the_same_forger():
    a, b = gans.PlaneRun(seed=5, distribution="ring"), gans.PlaneRun(seed=5, distribution="ring")
    for _ in range(10):
        a.step()
        b.step()
    assert a.record()["fakes"] == b.record()["fakes"]


@pytest.mark.parametrize("distribution", [d for d in gans.DISTRIBUTIONS if d != "drawn"])
def test_every_distribution_lies_in_the_square(distribution):
    points = gans.sample_real(distribution, 2000, np.random.default_rng(0))
    assert points.shape == (2000, 2) and np.abs(points).max() < 1.2


def test_a_drawn_distribution_is_its_points_spread_a_little():
    points = [[0.5, 0.5], [-0.5, 0.2], [0.0, -0.8], [0.3, 0.3], [0.1, 0.1]]
    run = gans.PlaneRun(distribution="drawn", points=points)
    real = np.array(run.record()["real"])
    nearest = np.min(np.linalg.norm(real[:, None] - np.array(points)[None], axis=-1), axis=1)
    assert nearest.max() < 6 * gans.DRAWN_SPREAD


@pytest.mark.parametrize("given, message", [
    ({"distribution": "spiral"}, "Unknown distribution"),
    ({"loss": "wasserstein"}, "Unknown loss"),
    ({"lr_generator": 5}, "between"), ({"lr_discriminator": "fast"}, "must be a number"),
    ({"d_steps": 0}, "between"), ({"d_steps": 2.5}, "whole number"),
    ({"seed": -1}, "between"), ({"distribution": "drawn"}, "Draw at least"),
    ({"distribution": "drawn", "points": [[0, 0]] * 3}, "between 5"),
    ({"distribution": "drawn", "points": [[0, 9]] * 5}, "between"),
    ({"distribution": "drawn", "points": [[0, 0, 0]] * 5}, "pair"),
    ({"distribution": "drawn", "points": "0,0"}, "list"),
])
def test_bad_settings_are_refused_with_a_sentence(given, message):
    with pytest.raises(ValueError, match=message):
        gans.PlaneRun(**given)


def test_minimax_arrows_vanish_where_the_judge_is_sure():
    """The saturating loss's gradient is D's own slope times D: where D(fake) is near 0, the
    arrow is far shorter than the non-saturating one for the same networks."""
    run = gans.PlaneRun(seed=2, lr_discriminator=0.01)
    for _ in range(200):  # train the judge alone: it becomes sure the fakes are fake
        real = torch.tensor(gans.sample_real("gaussians", 128, run.rng), dtype=torch.float32)
        with torch.no_grad():
            fake = run.generator(torch.rand(128, 2) * 2 - 1)
        loss = gans.d_loss("non_saturating", run.discriminator(real).squeeze(1),
                           run.discriminator(fake).squeeze(1))
        run.opt_d.zero_grad()
        loss.backward()
        run.opt_d.step()
    noise = np.random.default_rng(1).uniform(-1, 1, (100, 2))
    _, push_ns = run.arrows(noise)
    minimax = gans.PlaneRun(seed=2, loss="minimax")
    minimax.generator.load_state_dict(run.generator.state_dict())
    minimax.discriminator.load_state_dict(run.discriminator.state_dict())
    _, push_mm = minimax.arrows(noise)
    ratio = np.linalg.norm(push_mm, axis=1).mean() / np.linalg.norm(push_ns, axis=1).mean()
    assert ratio < 0.2 and math.isfinite(ratio)
