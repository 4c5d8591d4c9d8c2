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
    boundary, losses, status = job.result(timeout=120)
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
                            "batch_size", "steps", "seed", "show_test_points"]
    assert params["dataset"] == learning.DEFAULT.dataset
    assert params["steps"] == learning.DEFAULT.steps


def test_train_network_with_a_diverging_learning_rate_explains(client):
    _, _, status = client.predict(dataset="spirals", noise=0, layers="16, 16, 16",
                                  activation="relu", learning_rate=10, batch_size=10,
                                  steps=500, seed=0, api_name="/train_network")
    assert "the loss blew up" in status


@pytest.mark.parametrize("kwargs, words", [
    (dict(layers="99"), "between 1 and 16"),
    (dict(layers="8, 8, 8, 8, 8"), "At most 4"),
    (dict(dataset="moons"), "not in the list of choices"),
    (dict(activation="swish!"), "not in the list of choices"),
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
