"""models/learning.py: gradient descent, live training and backpropagation, against oracles."""

import math

import numpy as np
import pytest
import torch

from models import learning

# -- down the hill -----------------------------------------------------------------------------


def numeric_slope(surface, w, h=1e-6):
    s = learning.SURFACES[surface]
    return [(s.cost(w[0] + h, w[1]) - s.cost(w[0] - h, w[1])) / (2 * h),
            (s.cost(w[0], w[1] + h) - s.cost(w[0], w[1] - h)) / (2 * h)]


@pytest.mark.parametrize("surface", list(learning.SURFACES))
def test_one_step_moves_against_the_slope(surface):
    start, lr = (1.3, -0.7), 0.05
    result = learning.descend(surface, *start, lr, 0.0, 1)
    slope = numeric_slope(surface, start)
    assert result["slopes"][0] == pytest.approx(slope, rel=1e-6)
    expected = [start[0] - lr * slope[0], start[1] - lr * slope[1]]
    assert result["path"][1] == pytest.approx(expected, rel=1e-9)


def test_the_bowl_step_is_w_minus_lr_times_2w():
    result = learning.descend("bowl", 2.0, -1.0, 0.1, 0.0, 3)
    w = np.array([2.0, -1.0])
    for point in result["path"]:
        assert point == pytest.approx(w.tolist())
        w = w - 0.1 * 2 * w
    assert result["costs"][0] == pytest.approx(5.0)


def test_momentum_keeps_a_velocity():
    # velocity <- mu * velocity + slope; w <- w - lr * velocity  (torch's SGD)
    lr, mu = 0.1, 0.9
    result = learning.descend("bowl", 2.0, 0.0, lr, mu, 3)
    w, v = 2.0, 0.0
    for point in result["path"][1:]:
        v = mu * v + 2 * w
        w = w - lr * v
        assert point[0] == pytest.approx(w)


@pytest.mark.parametrize("lr, verdict", [(0.001, "crawling"), (0.05, "descending"),
                                         (0.95, "zigzag"), (1.2, "overshooting"),
                                         (3.0, "diverged"), (0.5, "arrived")])
def test_the_learning_rate_is_named_for_what_it_does(lr, verdict):
    result = learning.descend("bowl", 2.4, 1.8, lr, 0.0, 20)
    assert result["verdict"] == verdict, result["message"]


def test_a_blown_up_descent_stops_and_says_so():
    result = learning.descend("valley", -3.5, 0.5, 1.5, 0.0, 200)
    assert result["verdict"] == "diverged"
    assert result["steps_taken"] < 200
    assert "overshoot" in result["message"] and "blew up" in result["message"]


def test_two_minima_names_the_valley():
    right = learning.descend("two_minima", 1.6, 1.5, 0.05, 0.0, 300)
    left = learning.descend("two_minima", -1.6, 1.5, 0.05, 0.0, 300)
    assert right["verdict"] == left["verdict"] == "arrived"
    assert "shallower" in right["message"] and "deeper" in left["message"]
    assert left["costs"][-1] < right["costs"][-1]


def test_cost_grid_rows_are_w2():
    grid = learning.cost_grid("two_minima", 5)
    w = grid["w"]
    assert grid["cost"][1][3] == pytest.approx(learning.SURFACES["two_minima"].cost(w[3], w[1]))


@pytest.mark.parametrize("args", [("nope", 0, 0, 0.1, 0, 5), ("bowl", 9, 0, 0.1, 0, 5),
                                  ("bowl", 0, 0, -1, 0, 5), ("bowl", 0, 0, 0.1, 1.5, 5),
                                  ("bowl", 0, 0, 0.1, 0, 10_000), ("bowl", 0, 0, 0.1, 0, 2.5),
                                  ("bowl", float("nan"), 0, 0.1, 0, 5), (None, 0, 0, 0.1, 0, 5),
                                  ("bowl", "x", 0, 0.1, 0, 5), ("bowl", 0, 0, True, 0, 5)])
def test_descend_refuses_bad_arguments_with_a_sentence(args):
    with pytest.raises(ValueError, match=r"\w+ \w+"):
        learning.descend(*args)


# -- data and training ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(learning.DATASETS))
def test_datasets_are_balanced_seeded_and_inside_the_square(name):
    a, b = learning.make_dataset(name, 0.1, 3), learning.make_dataset(name, 0.1, 3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["x_train"].shape == (learning.N_TRAIN, 2) and a["x_test"].shape == (
        learning.N_TEST, 2)
    assert np.abs(a["x_train"]).max() <= learning.EXTENT
    assert 0.4 < a["y_train"].mean() < 0.6
    assert not np.array_equal(a["x_train"], learning.make_dataset(name, 0.1, 4)["x_train"])


def test_datasets_follow_their_rule_without_noise():
    circles = learning.make_dataset("circles", 0.0, 0)
    r = np.hypot(*circles["x_train"].T)
    assert np.array_equal(r < 0.6, circles["y_train"] == 1)
    xor = learning.make_dataset("xor", 0.0, 0)
    assert np.array_equal(xor["x_train"].prod(1) > 0, xor["y_train"] == 1)


@pytest.mark.parametrize("text, widths", [("8, 8", [8, 8]), ("8 8", [8, 8]), ("", []),
                                          ([16, 4, 2], [16, 4, 2]), (3, [3]), ("4,", [4])])
def test_parse_layers(text, widths):
    assert learning.parse_layers(text) == widths


@pytest.mark.parametrize("bad", ["17", "0", "8, 8, 8, 8, 8", "eight", "2.5", None, {"a": 1},
                                 "-4", "1e9"])
def test_parse_layers_refuses(bad):
    with pytest.raises(ValueError):
        learning.parse_layers(bad)


def config(**kw):
    return learning.Config.checked(**{"dataset": "circles", "layers": "4", **kw})


def test_training_step_returns_the_loss_and_the_gradients_it_applied():
    run = learning.Training(config(), learning_rate=0.5, batch_size=8)
    before = {n: p.detach().clone() for n, p in run._named()}
    out = run.step()
    assert set(out["gradients"]) == {"layer1.weight", "layer1.bias", "layer2.weight",
                                     "layer2.bias"}
    for name, p in run._named():
        expected = before[name] - 0.5 * torch.from_numpy(out["gradients"][name])
        assert torch.allclose(p.detach(), expected, atol=1e-7)
    assert run.steps == 1 and out["loss"] > 0


def test_full_batch_step_is_the_mean_of_the_per_example_gradients():
    run = learning.Training(config(), learning_rate=0.1, batch_size=learning.N_TRAIN)
    per_example = []
    for i in range(learning.N_TRAIN):
        for p in run.layers.parameters():
            p.grad = None
        loss = torch.nn.functional.cross_entropy(run.logits(run.x_train[i:i + 1]),
                                                 run.y_train[i:i + 1])
        loss.backward()
        per_example.append({n: p.grad.clone() for n, p in run._named()})
    out = run.step()  # the whole training set, in a shuffled order: the same mean
    for name in out["gradients"]:
        mean = torch.stack([g[name] for g in per_example]).mean(0)
        assert np.allclose(out["gradients"][name], mean.numpy(), atol=1e-6)


def test_training_is_deterministic_for_a_seed():
    def losses(seed):
        run = learning.Training(config(seed=seed), 0.3, 4)
        return [run.step()["loss"] for _ in range(30)]

    assert losses(5) == losses(5)
    assert losses(5) != losses(6)


@pytest.mark.parametrize("dataset", ["circles", "xor"])
def test_default_preset_reaches_95_percent_on_the_test_points(dataset):
    p = learning.DEFAULT
    run = learning.Training(learning.Config.checked(dataset, p.noise, p.layers, p.activation, 0),
                            p.learning_rate, p.batch_size)
    states = list(run.run(p.steps, frame_seconds=0.05))
    assert run.steps == p.steps and run.status == "done"
    assert states[-1]["test_accuracy"] >= 0.95, states[-1]
    assert states[-1]["test_loss"] < states[0]["test_loss"]


def test_the_learning_rate_changes_between_steps_without_a_reset():
    run = learning.Training(config(), 0.1, 10)
    for _ in range(5):
        run.step()
    weights = run.layers[0].weight.detach().clone()
    run.learning_rate = 0.0001
    grads = run.step()["gradients"]["layer1.weight"]
    assert run.steps == 6
    assert torch.allclose(run.layers[0].weight.detach(),
                          weights - 0.0001 * torch.from_numpy(grads), atol=1e-8)


def test_a_huge_learning_rate_is_caught_as_diverged():
    p = learning.PRESETS["Fails: learning rate 10"]
    run = learning.Training(learning.Config.checked(p.dataset, p.noise, p.layers, p.activation),
                            p.learning_rate, p.batch_size)
    states = list(run.run(p.steps))
    assert run.status == "diverged" and run.steps < p.steps
    assert all(math.isfinite(v) for v in (states[-1]["train_loss"],))
    assert all(torch.isfinite(w).all() for w in run.layers.parameters())


def test_step_activation_passes_no_gradient_to_the_hidden_layers():
    run = learning.Training(config(activation="step", layers="4, 4"), 0.3, 10)
    grads = run.step()["gradients"]
    assert not grads["layer1.weight"].any() and not grads["layer2.weight"].any()
    assert grads["layer3.weight"].any()


def test_run_is_capped_in_steps_and_seconds_and_stops_when_closed():
    run = learning.Training(config(), 0.1, 10)
    states = list(run.run(5))
    assert run.steps == 5 and states[-1]["step"] == 5
    run = learning.Training(config(), 0.1, 1)
    list(run.run(learning.MAX_STEPS, max_seconds=0.3))
    assert run.status == "capped" and run.steps < learning.MAX_STEPS
    run = learning.Training(config(), 0.1, 10)
    stream = run.run(learning.MAX_STEPS)
    next(stream)
    stream.close()  # what gradio does on Pause
    steps = run.steps
    assert steps < learning.MAX_STEPS and run.steps == steps
    with pytest.raises(ValueError):
        next(learning.Training(config(), 0.1, 10).run(learning.MAX_STEPS + 1))


def test_stop_ends_a_run_from_another_thread_without_a_last_frame():
    run = learning.Training(config(), 0.1, 10)
    stream = run.run(learning.MAX_STEPS)
    next(stream)
    run.stop()
    assert list(stream) == []


def test_boundary_is_the_probability_of_class_one():
    run = learning.Training(config(), 0.1, 10)
    b = run.boundary(5)
    x = torch.tensor([[b["x"][1], b["x"][3]]])  # row 3 (second coordinate), column 1
    p = torch.softmax(run.logits(x), 1)[0, 1].item()
    assert b["p"][3][1] == pytest.approx(p, abs=1e-6)


# -- one step, seen --------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "gelu", "elu", "softplus"])
def test_backprop_equals_autograd_and_finite_differences(activation):
    params = learning.tiny_network(3)
    params["b1"] = [0.1, -0.2, 0.3]  # not all zero, so the biases are tested too
    x, y = [0.4, -0.7], 1
    ours = learning.backprop(params, x, y, activation)["gradients"]
    torch_grads = learning.autograd_gradients(params, [x], [y], activation)
    for key in ours:
        assert np.allclose(ours[key], torch_grads[key], atol=1e-12)
    h = 1e-6
    for key, value in params.items():
        flat = np.asarray(value, dtype=float)
        for idx in np.ndindex(flat.shape):
            up, down = flat.copy(), flat.copy()
            up[idx] += h
            down[idx] -= h
            cost = [learning.backprop({**params, key: v.tolist()}, x, y, activation)["cost"]
                    for v in (up, down)]
            numeric = (cost[0] - cost[1]) / (2 * h)
            assert np.asarray(ours[key])[idx] == pytest.approx(numeric, abs=1e-6)


def test_batch_step_averages_and_steps():
    params = learning.tiny_network(0)
    data = learning.make_dataset("xor", 0.05, 0)
    xs, ys = data["x_train"][:6], data["y_train"][:6]
    out = learning.batch_step(params, xs, ys, 2, 0.5)
    singles = [learning.backprop(params, x, y)["gradients"] for x, y in zip(xs, ys)]
    for key in params:
        mean = np.mean([s[key] for s in singles], axis=0)
        assert np.allclose(out["mean"][key], mean)
        assert np.allclose(out["autograd"][key], mean, atol=1e-12)
        assert np.allclose(out["new"][key], np.asarray(params[key]) - 0.5 * mean)
    assert out["example"]["gradients"] == singles[2]
    assert out["cost_after"]["batch"] < out["cost_before"]["batch"]


def test_backprop_refuses_a_network_of_the_wrong_shape():
    with pytest.raises(ValueError, match="2-3-2"):
        learning.backprop({"W1": [[1, 2]]}, [0, 0], 0)
    with pytest.raises(ValueError, match="2-3-2"):
        learning.backprop({**learning.tiny_network(0), "b2": [float("nan"), 0]}, [0, 0], 0)


def test_step_by_step_is_descend_after_each_number_of_steps():
    frames = learning.descend_step_by_step("valley", -3.5, 0.5, 0.4, 0.5, 12)
    assert len(frames) == 13
    for k, frame in enumerate(frames):
        assert frame == learning.descend("valley", -3.5, 0.5, 0.4, 0.5, k)
