"""The Digits tab's inside views through gradio_client, by keyword, as the README shows them."""

import numpy as np
import pytest
from conftest import DATA
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image


@pytest.fixture(scope="module")
def sketch(tmp_path_factory):
    data = np.load(DATA / "mnist_heldout.npz")
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray(255 - data["images"][7]).resize((280, 280)).save(path)
    return {"background": handle_file(str(path)), "layers": [], "composite": None}


def test_digit_layers(client, sketch):
    r = client.predict(sketch=sketch, api_name="/digit_layers")
    assert np.array(r["input"]).shape == (28, 28)
    first = r["layers"][0]
    assert first["name"] == "conv1" and first["shape"] == [32, 28, 28]
    assert np.array(first["maps"]).shape == (32, 28, 28) and np.min(first["maps"]) >= 0
    assert abs(sum(r["probabilities"].values()) - 1) < 1e-4


def test_digit_saliency(client, sketch):
    r = client.predict(sketch=sketch, api_name="/digit_saliency")
    assert np.array(r["cnn"]).shape == np.array(r["mlp"]).shape == (28, 28)
    assert "gradient" in r["method"]


def test_dream_digit(client):
    r = client.predict(digit=4, steps=300, seed=0, api_name="/dream_digit")[0]
    assert np.array(r["image"]).shape == (28, 28) and r["cnn"]["4"] >= 0.9
    assert set(r["mlp"]) == {str(d) for d in range(10)}


def test_nothing_drawn_is_a_sentence(client):
    empty = {"background": None, "layers": [], "composite": None}
    for api in ("/digit_layers", "/digit_saliency"):
        with pytest.raises(AppError, match="Draw a digit first"):
            client.predict(sketch=empty, api_name=api)
    with pytest.raises(AppError, match="choices|digit must"):
        client.predict(digit=12, steps=10, seed=0, api_name="/dream_digit")
