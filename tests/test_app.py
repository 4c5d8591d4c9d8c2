"""The app through its public API, as a gradio_client caller sees it."""

import numpy as np
from conftest import DATA
from gradio_client import handle_file
from PIL import Image


def heldout_png(tmp_path, index):
    data = np.load(DATA / "mnist_heldout.npz")
    path = tmp_path / f"digit{index}.png"
    Image.fromarray(255 - data["images"][index]).resize((280, 280)).save(path)  # black on white
    return path, str(data["labels"][index])


def test_api_lists_classify_digit(client):
    assert "/classify_digit" in client.view_api(print_info=False, return_format="dict")[
        "named_endpoints"]


def test_classify_digit_with_background(client, tmp_path):
    for index in (0, 1, 2):
        path, label = heldout_png(tmp_path, index)
        result = client.predict({"background": handle_file(path), "layers": [],
                                 "composite": None}, api_name="/classify_digit")
        confidences = result[0]
        assert confidences["label"] == label
        scores = {c["label"]: c["confidence"] for c in confidences["confidences"]}
        assert max(scores, key=scores.get) == label


def test_classify_digit_with_composite(client, tmp_path):
    path, label = heldout_png(tmp_path, 3)
    result = client.predict({"background": None, "layers": [], "composite": handle_file(path)},
                            api_name="/classify_digit")
    assert result[0]["label"] == label


def test_classify_digit_empty_canvas_is_a_message(client):
    result = client.predict({"background": None, "layers": [], "composite": None},
                            api_name="/classify_digit")
    assert "Draw a digit" in result[1]


def test_plot_activations_by_keyword(client):
    fig, formulas, _ = client.predict(functions=["sigmoid", "relu"], x_min=-5, x_max=5,
                                      show_derivatives=True, alpha=0.1,
                                      api_name="/plot_activations")
    import json

    figure = json.loads(fig["plot"])
    names = [t["name"] for t in figure["data"]]
    assert names == ["Sigmoid", "Sigmoid derivative", "ReLU", "ReLU derivative"]


def test_plot_activations_bad_input_is_a_clear_error(client):
    import pytest
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="smaller"):
        client.predict(functions=["relu"], x_min=5, x_max=-5, show_derivatives=True, alpha=0.1,
                       api_name="/plot_activations")


def test_softmax_by_keyword(client):
    probs, _ = client.predict(logits="2, 1, 0.1", temperature=0, api_name="/softmax")
    scores = {c["label"]: c["confidence"] for c in probs["confidences"]}
    assert probs["label"].startswith("#1") and scores[probs["label"]] == 1.0
