"""The Learning endpoints through gradio_client, as a client would call them."""

import json
import re
import time

import pytest
from gradio_client.exceptions import AppError

from models import learning


def figure(plot):
    return json.loads(plot["plot"])


def test_descend_returns_the_map_first_then_costs_message_and_numbers(client):
    fig, costs, message, numbers = client.predict(
        surface="bowl", start_w1=2.0, start_w2=-1.0, learning_rate=0.1, momentum=0.0, steps=10,
        api_name="/descend")
    fig = figure(fig)
    assert fig["data"][0]["type"] == "contour"
    path = fig["data"][1]
    assert len(path["x"]) == 11 and path["x"][0] == 2.0
    assert numbers["path"][1] == pytest.approx([2.0 - 0.1 * 4.0, -1.0 + 0.1 * 2.0])
    assert numbers["costs"][0] == pytest.approx(5.0) and len(numbers["costs"]) == 11
    assert figure(costs)["data"][0]["y"][0] == pytest.approx(5.0)
    assert "Going down" in message or "Arrived" in message


def test_descend_with_a_diverging_learning_rate_explains(client):
    _, _, message, numbers = client.predict(
        surface="valley", start_w1=-3.5, start_w2=0.5, learning_rate=1.5, momentum=0,
        steps=200, api_name="/descend")
    assert numbers["verdict"] == "diverged" and "blew up" in message
    assert numbers["steps_taken"] < 200


@pytest.mark.parametrize("kwargs, words", [
    (dict(surface="volcano"), "not in the list of choices"),
    (dict(learning_rate=-1), "less than minimum value"),  # gradio's slider refuses it
    (dict(steps=10_000), "greater than maximum value"),
    (dict(start_w1=3.5), "start w1 must be between -3 and 3"),  # on the slider, off the map
])
def test_descend_bad_inputs_are_sentences(client, kwargs, words):
    args = dict(surface="bowl", start_w1=1, start_w2=1, learning_rate=0.1, momentum=0, steps=5)
    with pytest.raises(AppError, match=words):
        client.predict(**{**args, **kwargs}, api_name="/descend")


def accuracy(status: str) -> float:
    return float(re.search(r"test loss [\d.e+-]+, accuracy ([\d.]+)%", status).group(1)) / 100


def test_train_network_streams_and_reaches_95_percent_on_xor(client):
    p = learning.DEFAULT
    job = client.submit(dataset="xor", noise=p.noise, layers=", ".join(map(str, p.layers)),
                        activation=p.activation, learning_rate=p.learning_rate,
                        batch_size=p.batch_size, steps=p.steps, seed=0,
                        api_name="/train_network")
    boundary, losses, status, network, numbers = job.result(timeout=120)
    frames = job.outputs()
    assert len(frames) >= 5  # streamed, not one answer at the end
    steps = [int(re.search(r"Step ([\d,]+)", f[2]).group(1).replace(",", "")) for f in frames]
    assert steps == sorted(steps) and steps[-1] == p.steps
    fig = figure(boundary)
    assert fig["data"][0]["type"] == "heatmap" and len(fig["data"][1]["x"]) == learning.N_TRAIN
    first_z, last_z = figure(frames[0][0])["data"][0]["z"], fig["data"][0]["z"]
    assert first_z != last_z  # the boundary moved
    assert accuracy(status) >= 0.95, status
    assert len(figure(losses)["data"][0]["x"]) == len(frames) + 1  # step 0, then each frame


def test_train_network_defaults_are_the_default_preset(client):
    info = client.view_api(print_info=False, return_format="dict")
    params = {p["parameter_name"]: p.get("parameter_default")
              for p in info["named_endpoints"]["/train_network"]["parameters"]}
    assert list(params) == ["dataset", "noise", "layers", "activation", "learning_rate",
                            "batch_size", "steps", "seed", "show_test_points", "features",
                            "regularization", "regularization_rate", "problem", "train_share",
                            "optimizer", "points", "loss", "dropout", "momentum", "beta1",
                            "beta2", "show_neurons"]
    assert params["features"] == ["x1", "x2"] and params["optimizer"] == "sgd"
    assert params["train_share"] == 0.5 and params["regularization"] == "none"
    assert params["dataset"] == learning.DEFAULT.dataset
    assert params["steps"] == learning.DEFAULT.steps


def test_train_network_with_a_diverging_learning_rate_explains(client):
    _, _, status, _, _ = client.predict(dataset="spirals", noise=0, layers="16, 16, 16",
                                  activation="relu", learning_rate=10, batch_size=10,
                                  steps=500, seed=0, api_name="/train_network")
    assert "the loss blew up" in status


@pytest.mark.parametrize("kwargs, words", [
    (dict(layers="99"), "between 1 and 16"),
    (dict(layers="8, 8, 8, 8, 8"), "At most 4"),
    (dict(dataset="moons"), "not in the list of choices"),
    (dict(activation="swish!"), "Unknown activation 'swish!'"),
    (dict(activation="relu, tanh"), "one per hidden layer"),
    (dict(features=["x3"]), "not in the list of choices"),
    (dict(features=[]), "at least one input feature"),
    (dict(regularization="l3"), "not in the list of choices"),
    (dict(problem="regression"), "circles is not a regression data set"),
    (dict(train_share=0.95), "greater than maximum value"),
    (dict(optimizer="rmsprop"), "not in the list of choices"),
    (dict(points="lots"), "Points must be a list"),
    (dict(points=[[0, 0, 0]] * 600), "between 4 and 500"),
    (dict(points=[[0, 0, 1]] * 5), "two classes"),
    (dict(points=[[0, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, "x"]]), "class must be a number"),
    (dict(learning_rate=0), "Learning rate must be between"),
    (dict(learning_rate="fast"), "Learning rate must be a number"),
    (dict(batch_size=0), "less than minimum value"),
    (dict(steps=10**9), "greater than maximum value"),
    (dict(noise=5), "greater than maximum value"),
])
def test_train_network_bad_inputs_are_sentences(client, kwargs, words):
    args = dict(dataset="circles", noise=0.05, layers="4", activation="tanh", learning_rate=0.3,
                batch_size=10, steps=10, seed=0)
    with pytest.raises(AppError, match=words):
        client.predict(**{**args, **kwargs}, api_name="/train_network")


def test_a_cancelled_training_frees_the_server_at_once(client):
    job = client.submit(dataset="spirals", noise=0, layers="16, 16, 16", activation="relu",
                        learning_rate=0.1, batch_size=10, steps=learning.MAX_STEPS, seed=0,
                        api_name="/train_network")
    deadline = time.time() + 30
    while len(job.outputs()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert len(job.outputs()) >= 2  # it is training
    job.cancel()
    started = time.perf_counter()
    client.predict(logits="1, 2", temperature=1, api_name="/softmax")
    assert time.perf_counter() - started < 5
    time.sleep(0.5)
    n = len(job.outputs())
    time.sleep(0.5)
    assert len(job.outputs()) == n  # no more frames


def test_backprop_step_matches_autograd(client):
    fig, text, table, = client.predict(dataset="xor", noise=0.05, point=7, batch_size=5,
                                       learning_rate=0.5, activation="sigmoid",
                                       api_name="/backprop_step")
    rows = table["data"]
    headers = table["headers"]
    assert len(rows) == 17  # 6 + 3 + 6 + 2 weights and biases
    mean, auto = headers.index("batch mean"), headers.index("autograd (batch)")
    step, value, new = headers.index("step −η·mean"), headers.index("value"), headers.index(
        "new value")
    for row in rows:
        assert row[mean] == pytest.approx(row[auto], abs=1e-5)
        assert row[step] == pytest.approx(-0.5 * row[mean], abs=1e-5)
        assert row[new] == pytest.approx(row[value] + row[step], abs=2e-5)
    assert "largest difference" in text and figure(fig)["data"]


def test_backprop_step_bad_inputs(client):
    with pytest.raises(AppError, match="greater than maximum value 199"):
        client.predict(dataset="xor", noise=0.05, point=500, batch_size=5, learning_rate=0.5,
                       activation="tanh", api_name="/backprop_step")
    with pytest.raises(AppError, match="Training point must be a whole number"):
        client.predict(dataset="xor", noise=0.05, point=2.5, batch_size=5, learning_rate=0.5,
                       activation="tanh", api_name="/backprop_step")


def train(client, **kwargs):
    args = {**dict(dataset="circles", noise=0.05, layers="8, 8, 8", activation="tanh",
                   learning_rate=0.3, batch_size=10, steps=1000, seed=0), **kwargs}
    return client.predict(**args, api_name="/train_network")


def test_train_network_ends_with_the_numbers_and_every_neuron(client):
    boundary, losses, status, network, numbers = train(client, steps=300,
                                                       features=["x1", "x2", "x1x2"])
    assert set(numbers) == {"step", "train_loss", "test_loss", "test_accuracy", "weights_norm"}
    assert numbers["step"] == 300 and numbers["test_accuracy"] == pytest.approx(
        accuracy(status), abs=0.001)
    assert network.count("<image ") == 3 + 8 + 8 + 8  # the features, every hidden neuron
    assert network.count("<line ") == 3 * 8 + 8 * 8 * 2 + 8 * 2  # every weight


def test_circles_on_squared_features_need_no_hidden_layer_through_the_api(client):
    *_, numbers = train(client, layers="", features=["x1^2", "x2^2"])
    assert numbers["test_accuracy"] >= 0.95


def test_l2_gives_smaller_weights_through_the_api(client):
    *_, none = train(client, steps=1000)
    *_, l2 = train(client, steps=1000, regularization="l2", regularization_rate=0.01)
    assert l2["weights_norm"] < none["weights_norm"]


def test_regression_through_the_api_reports_its_test_loss(client):
    job = client.submit(dataset="gaussians", problem="regression", noise=0, layers="8, 8, 8",
                        activation="tanh", learning_rate=0.1, batch_size=10, steps=2000,
                        seed=0, api_name="/train_network")
    frames = job.outputs() if job.result(timeout=120) else []
    first, last = frames[0][-1], frames[-1][-1]
    assert last["test_accuracy"] is None and "mean squared error" in frames[-1][2]
    assert last["test_loss"] < 0.2 * first["test_loss"] or last["test_loss"] < 0.05
    assert "value" not in figure(frames[-1][0])["data"][0] and figure(frames[-1][0])[
        "data"][0]["zmin"] == -1


def test_three_classes_and_own_points_through_the_api(client):
    *_, three = train(client, dataset="three", steps=2000)
    assert three["test_accuracy"] > 0.9
    left = [[-0.8 + 0.02 * i, -0.6, 0] for i in range(10)]
    right = [[0.8 - 0.02 * i, 0.6, 1] for i in range(10)]
    boundary, _, status, _, own = train(client, points=left + right, steps=300)
    assert own["test_accuracy"] == 1.0 and "your points" in figure(boundary)["layout"][
        "title"]["text"]


def test_train_transformer_streams_and_an_induction_head_forms(client):
    job = client.submit(task="repeat", layers=2, heads=2, steps=500, seed=0,
                        api_name="/train_transformer")
    curve, attention, predictions, status, numbers = job.result(timeout=120)
    frames = job.outputs()
    assert len(frames) >= 10
    assert set(numbers) == {"step", "loss", "induction_score"} and numbers["step"] == 500
    assert frames[0][-1]["induction_score"] < 0.3 and numbers["induction_score"] > 0.5
    assert "induction head formed" in status
    heads = [t for t in figure(attention)["data"] if t["type"] == "heatmap"]
    assert len(heads) == 4 and len(heads[0]["z"]) == 24
    assert "✓" in predictions


@pytest.mark.parametrize("kwargs, words", [
    (dict(task="poetry"), "not in the list of choices"), (dict(layers=3), "not in the list"),
    (dict(heads=3), "not in the list"), (dict(steps=0), "less than minimum value"),
    (dict(steps=10 ** 6), "greater than maximum value"),
])
def test_train_transformer_bad_inputs_are_sentences(client, kwargs, words):
    with pytest.raises(AppError, match=words):
        client.predict(**{"task": "repeat", "layers": 2, "heads": 2, "steps": 5, "seed": 0,
                          **kwargs}, api_name="/train_transformer")
