"""demos/digits: the tab's handler turns Sketchpad values into components."""

import json

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import DATA
from PIL import Image

from demos import digits as demo


def heldout_canvas(index=0):
    data = np.load(DATA / "mnist_heldout.npz")
    picture = np.array(Image.fromarray(data["images"][index]).resize((280, 280)))
    # As drawn on a Sketchpad: black ink in the alpha channel of a transparent layer.
    layer = np.zeros((280, 280, 4), np.uint8)
    layer[..., 3] = picture
    white = np.full((280, 280, 4), 255, np.uint8)
    return {"background": white, "layers": [layer], "composite": None}, str(data["labels"][index])


def test_classify_returns_label_message_and_figures():
    sketch, label = heldout_canvas(0)
    confidences, message, *plots = demo.classify(sketch)
    assert max(confidences, key=confidences.get) == label
    assert label in message
    # The figures are written as JSON; plotly's own validation must accept every property.
    bars, seen, network = (go.Figure(json.loads(p.plot)) for p in plots)
    # plotly.js knows few colour-scale names (not "Oranges"): JSON figures carry the colours.
    assert all(not isinstance(t.get("marker", {}).get("colorscale", []), str)
               for p in plots for t in json.loads(p.plot)["data"])
    assert list(bars.data[0].x) == [str(d) for d in range(10)]
    assert bars.data[0].marker.color[int(label)] == "#f97316"  # the prediction highlighted
    assert np.array(seen.data[0].z).shape == (28, 28)
    assert network.data[-1].text[int(label)].strip().startswith(f"{label}:")
    assert len(network.data[-3].y) == len(network.data[-2].y) == 16  # two hidden layers of 16


@pytest.mark.parametrize("value", [None, {}, {"background": None, "layers": [], "composite": None},
                                   "not a dict"])
def test_nothing_to_classify_is_a_message_not_an_error(value):
    confidences, message, *plots = demo.classify(value)
    assert confidences is None and "Draw a digit" in message
    for plot in plots:
        assert go.Figure(json.loads(plot.plot)).layout.annotations[0].text == "Nothing drawn yet"


def test_mismatched_layers_become_a_gradio_error():
    sketch = {"background": None, "layers": [np.full((10, 10, 4), 255, np.uint8),
                                              np.full((20, 20, 4), 255, np.uint8)]}
    with pytest.raises(gr.Error):
        demo.classify(sketch)


def test_examples_exist_and_are_classified_correctly():
    assert len(demo.EXAMPLES) == 12
    for digit, path in enumerate(demo.EXAMPLES[:10]):
        picture = np.array(Image.open(path).convert("RGB"))
        confidences, *_ = demo.classify({"background": picture, "layers": [], "composite": None})
        assert max(confidences, key=confidences.get) == str(digit)
    for path in demo.EXAMPLES[10:]:  # a letter A and a star: the honest answer
        picture = np.array(Image.open(path).convert("RGB"))
        _, message, *_ = demo.classify({"background": picture, "layers": [], "composite": None})
        assert "✅" not in message, (path, message)
