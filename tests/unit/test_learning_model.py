"""models/learning: gradient descent, live training and backpropagation, against oracles."""

import math

import numpy as np
import pytest
import torch

from models import learning, runner

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
    counts = np.bincount(a["y_train"])
    assert len(counts) == (3 if name == "three" else 2)
    assert counts.min() > 0.8 * learning.N_TRAIN / len(counts)  # balanced
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
    states = list(runner.iterate(run.run(p.steps, frame_seconds=0.05)))
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
    states = list(runner.iterate(run.run(p.steps)))
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
    states = list(runner.iterate(run.run(5)))
    assert run.steps == 5 and states[-1]["step"] == 5
    run = learning.Training(config(), 0.1, 1)
    list(runner.iterate(run.run(learning.MAX_STEPS, max_seconds=0.3)))
    assert run.status == "capped" and run.steps < learning.MAX_STEPS
    run = learning.Training(config(), 0.1, 10)
    stream = runner.iterate(run.run(learning.MAX_STEPS))
    next(stream)
    stream.close()  # what gradio does when a page closes, or Step or Reset cancel it
    steps = run.steps
    assert steps < learning.MAX_STEPS and run.steps == steps
    with pytest.raises(ValueError):
        learning.Training(config(), 0.1, 10).run(learning.MAX_STEPS + 1)


def test_stop_ends_a_run_from_another_thread_without_a_last_frame():
    run = learning.Training(config(), 0.1, 10)
    stream = runner.iterate(run.run(learning.MAX_STEPS))
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


# -- TensorFlow Playground's settings, and beyond ------------------------------------------------


def trained(steps, learning_rate=0.3, batch_size=10, regularization="none", rate=0.0, **kw):
    run = learning.Training(learning.Config.checked(**kw), learning_rate, batch_size,
                            regularization, rate)
    first = run.record()
    for _ in range(steps):
        run.step()
    return run, first, run.record()


def test_circles_from_squared_features_need_no_hidden_layer():
    # TensorFlow Playground's classic lesson: x1² + x2² is a circle's equation, so one neuron
    # on those two features draws the circle.
    run, _, last = trained(1000, dataset="circles", layers="", features=["x1^2", "x2^2"])
    assert run.layers[0].in_features == 2 and len(run.layers) == 1
    assert last["test_accuracy"] >= 0.95
    _, _, plain = trained(1000, dataset="circles", layers="", features=["x1", "x2"])
    assert plain["test_accuracy"] < 0.8  # the same network on x1, x2: one straight line


def test_features_are_computed_from_each_point():
    run = learning.Training(learning.Config.checked(features=list(learning.FEATURES)))
    x = torch.tensor([[0.5, -2.0]])
    assert torch.allclose(run.inputs(x), torch.tensor(
        [[0.5, -2.0, 0.25, 4.0, -1.0, math.sin(0.5), math.sin(-2.0)]]))
    assert learning.parse_features("x2, x1") == ("x1", "x2")


def test_l2_keeps_the_weights_smaller_than_none_on_the_same_seeded_run():
    _, _, none = trained(1000, dataset="circles")
    _, _, l2 = trained(1000, dataset="circles", regularization="l2", rate=0.01)
    _, _, l1 = trained(1000, dataset="circles", regularization="l1", rate=0.003)
    assert l2["weights_norm"] < 0.7 * none["weights_norm"]
    assert l1["weights_norm"] < none["weights_norm"]
    assert l2["test_accuracy"] >= 0.9  # smaller weights, still a circle


def test_l1_pushes_weights_to_zero_and_l2_is_its_gradient():
    run = learning.Training(learning.Config.checked(dataset="circles"), 0.3, 10, "l2", 0.5)
    w = [layer.weight.detach().clone() for layer in run.layers]
    squares, sizes = sum(float((v ** 2).sum()) for v in w), sum(float(v.abs().sum()) for v in w)
    assert float(run.penalty().detach()) == pytest.approx(0.5 * squares / 2)
    run.regularization = "l1"
    assert float(run.penalty().detach()) == pytest.approx(0.5 * sizes)


@pytest.mark.parametrize("dataset", list(learning.REGRESSION_SETS))
def test_regression_test_loss_falls_below_a_fifth_of_its_start(dataset):
    run, first, last = trained(2000, 0.1, problem="regression", dataset=dataset)
    assert run.layers[-1].out_features == 1 and last["test_accuracy"] is None
    assert last["test_loss"] < 0.2 * first["test_loss"]
    assert "value" in run.boundary(5)


def test_three_classes_train_above_90_percent():
    run, _, last = trained(2000, dataset="three")
    assert run.classes == 3 and run.layers[-1].out_features == 3
    assert last["test_accuracy"] > 0.9
    b = run.boundary(9)
    assert {c for row in b["classes"] for c in row} == {0, 1, 2}


def test_own_points_are_the_data_and_two_clusters_are_separated():
    left = [[-0.8 + 0.02 * i, -0.6 + 0.03 * (i % 3), 0] for i in range(12)]
    right = [[0.8 - 0.02 * i, 0.6 - 0.03 * (i % 3), 1] for i in range(12)]
    run, _, last = trained(300, dataset="own", points=left + right, train_share=0.5)
    assert len(run.x_train) + len(run.x_test) == 24
    assert last["train_accuracy"] == 1.0 and last["test_accuracy"] == 1.0
    p = run.boundary(3)["p"]  # bottom-left corner orange's opposite, top-right orange
    assert p[0][0] < 0.2 and p[-1][-1] > 0.8


@pytest.mark.parametrize("points, words", [
    ("many", "list of"), ([[0, 0, 0]] * 3, "between 4 and 500"),
    ([[0, 0, 0]] * 501, "between 4 and 500"), ([[0, 0, 0]] * 4, "two classes"),
    ([[0, 0, 0], [0, 0, 1], [0, 0, 1], [9, 0, 1]], "x1 must be between"),
    ([[0, 0, 0], [0, 0, 7], [0, 0, 1], [0, 0, 1]], "class must be between 0 and 3"),
    ([[0, 0, 0], [0, 0], [0, 0, 1], [0, 0, 1]], r"\[x1, x2, label\]"),
    ([[0, 0, 0], [0, "nan", 1], [0, 0, 1], [0, 0, 1]], "finite"),
])
def test_bad_points_are_refused_with_a_sentence(points, words):
    with pytest.raises(ValueError, match=words):
        learning.Config.checked(points=points)


def test_own_data_without_points_and_mismatched_problems_are_explained():
    with pytest.raises(ValueError, match="no points yet"):
        learning.Config.checked(dataset="own")
    with pytest.raises(ValueError, match="not a regression data set"):
        learning.Config.checked(dataset="circles", problem="regression")
    with pytest.raises(ValueError, match="Unknown input feature"):
        learning.Config.checked(features=["x3"])
    with pytest.raises(ValueError, match="at least one input feature"):
        learning.Config.checked(features=[])
    with pytest.raises(ValueError, match="one per hidden layer"):
        learning.Config.checked(layers="4, 4", activation="relu, tanh, tanh")


def test_an_activation_per_layer_is_used_in_its_layer():
    run = learning.Training(learning.Config.checked(layers="3, 3", activation="relu, tanh"))
    h1, h2, _ = run.hidden(torch.randn(50, 2))
    assert (h1 >= 0).all() and (h2 < 0).any()
    assert learning.Config.checked(layers="3, 3", activation="tanh, tanh").activation == "tanh"


@pytest.mark.parametrize("optimizer", learning.OPTIMIZERS)
def test_every_optimizer_trains_circles(optimizer):
    lr = {"sgd": 0.3, "momentum": 0.03, "adam": 0.01}[optimizer]
    _, _, last = trained(2000, lr, dataset="circles", optimizer=optimizer)
    assert last["test_accuracy"] >= 0.95


def test_momentum_and_adam_are_the_textbook_updates():
    config = learning.Config.checked(dataset="circles", optimizer="momentum", momentum=0.5)
    run = learning.Training(config, 0.1, learning.N_TRAIN)
    w0 = run.layers[0].weight.detach().clone()
    g1 = torch.from_numpy(run.step()["gradients"]["layer1.weight"].copy())
    w1 = run.layers[0].weight.detach().clone()
    assert torch.allclose(w1, w0 - 0.1 * g1, atol=1e-7)
    g2 = torch.from_numpy(run.step()["gradients"]["layer1.weight"].copy())
    assert torch.allclose(run.layers[0].weight.detach(), w1 - 0.1 * (0.5 * g1 + g2), atol=1e-6)
    adam = learning.Training(learning.Config.checked(optimizer="adam"), 0.01, 10)
    w0 = adam.layers[0].weight.detach().clone()
    adam.step()  # Adam's first step moves every weight by the learning rate, against its sign
    moved = (adam.layers[0].weight.detach() - w0).abs()
    assert torch.allclose(moved[moved > 1e-6], torch.tensor(0.01), rtol=1e-3)


def test_squared_error_is_the_brier_score_and_trains_slower_than_cross_entropy():
    run = learning.Training(learning.Config.checked(loss="squared_error"))
    out = run.logits(run.x_train)
    p = out.softmax(1)
    y = torch.nn.functional.one_hot(run.y_train, 2).float()
    assert float(run.data_loss(out, run.y_train)) == pytest.approx(
        float(((p - y) ** 2).sum(1).mean()), rel=1e-6)
    # Why cross-entropy trains faster: for a confidently wrong answer its slope (p - y per
    # logit) is large, while squared error's is damped by the softmax's own slope p(1 - p).
    ce = learning.Training(learning.Config.checked(layers=""), 0.3, learning.N_TRAIN)
    se = learning.Training(learning.Config.checked(layers="", loss="squared_error"), 0.3,
                           learning.N_TRAIN)
    for t in (ce, se):
        with torch.no_grad():
            t.layers[0].weight.copy_(torch.tensor([[20.0, 20.0], [-20.0, -20.0]]))  # certain
    wrong = {name: np.abs(g).sum() for name, g in ce.step()["gradients"].items()}
    damped = {name: np.abs(g).sum() for name, g in se.step()["gradients"].items()}
    assert wrong["layer1.weight"] > 3 * damped["layer1.weight"]


def test_dropout_is_off_when_the_network_is_evaluated():
    run = learning.Training(learning.Config.checked(dropout=0.5))
    x = run.x_test[:5]
    assert torch.equal(run.logits(x), run.logits(x))
    a, b = run.hidden(x, drop=True)[0], run.hidden(x, drop=True)[0]
    assert not torch.equal(a, b) and ((a == 0).float().mean() > 0.2)


def test_train_share_splits_the_points():
    run = learning.Training(learning.Config.checked(train_share=0.2))
    assert len(run.x_train) == 80 and len(run.x_test) == 320


def test_every_neuron_has_a_picture_over_the_plane():
    run = learning.Training(learning.Config.checked(features=["x1", "x2", "x1x2"]))
    n = run.neurons(6)
    assert len(n["features"]) == 3 and [len(layer) for layer in n["layers"]] == [8, 8, 8]
    grid = torch.tensor([[x, y] for y in n["x"] for x in n["x"]], dtype=torch.float32)
    h = run.hidden(grid)
    assert np.allclose(np.asarray(n["layers"][1][3]).reshape(-1), h[1][:, 3].detach().numpy(),
                       atol=1e-6)
    assert np.allclose(np.asarray(n["features"][2]).reshape(-1), (grid[:, 0] * grid[:, 1]),
                       atol=1e-6)
    assert len(n["weights"]) == 4 and np.asarray(n["weights"][0]).shape == (8, 3)
