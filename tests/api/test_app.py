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


def test_bad_activation_requests_get_messages_not_traces(client):
    import pytest
    from gradio_client.exceptions import AppError

    bad = [dict(functions=[], x_min=-5, x_max=5, show_derivatives=True, alpha=0.1),
           dict(functions=["relu"], x_min=-1e9, x_max=1e9, show_derivatives=True, alpha=0.1),
           dict(functions=["leaky_relu"], x_min=-5, x_max=5, show_derivatives=True, alpha=7)]
    for kwargs in bad:
        with pytest.raises(AppError) as e:
            client.predict(**kwargs, api_name="/plot_activations")
        assert "Traceback" not in str(e.value) and len(str(e.value)) > 10, kwargs
    for logits, t in [("1, nan", 1), ("", 1), ("1, inf", 1), ("1, 2", -1)]:
        with pytest.raises(AppError):
            client.predict(logits=logits, temperature=t, api_name="/softmax")
    # The server is still alive and answering after all that.
    probs, _ = client.predict(logits="1, 2", temperature=1, api_name="/softmax")
    assert probs["label"].startswith("#2")


def raw_call(app_url, api_name, body: str) -> str:
    """Call an endpoint over plain HTTP with a hand-written JSON body; return the event stream."""
    import httpx

    r = httpx.post(f"{app_url}/gradio_api/call/{api_name}", content=body,
                   headers={"Content-Type": "application/json"}, timeout=30)
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text}"
    event_id = r.json()["event_id"]
    return httpx.get(f"{app_url}/gradio_api/call/{api_name}/{event_id}", timeout=30).text


def test_nan_and_infinity_over_raw_http_are_refused_cleanly(app_url, client):
    # gradio_client cannot even send NaN (it is not JSON); a hand-written request can.
    for body, message in [('[["relu"], NaN, 5, true, 0.1, 1, true]', "x min must be a finite"),
                          ('[["relu"], -5, Infinity, true, 0.1, 1, true]', "greater than maximum"),
                          ('[["relu"], -5, 5, true, NaN, 1, true]', "must be a finite number"),
                          ('[["relu"], -5, 5, true, 0.1, NaN, true]', "x must be a finite")]:
        answer = raw_call(app_url, "plot_activations", f'{{"data": {body}}}')
        assert "event: error" in answer and message in answer, answer
    answer = raw_call(app_url, "softmax", '{"data": ["1, 2", NaN]}')
    assert "event: error" in answer and "Temperature must be a finite" in answer, answer
    for body in ('["bowl", 1, 1, NaN, 0, 5]', '["bowl", 1, 1, 0.1, Infinity, 5]'):
        answer = raw_call(app_url, "descend", f'{{"data": {body}}}')
        assert "event: error" in answer and "Traceback" not in answer, answer
    # Over raw HTTP every input is sent (gradio_client fills in the defaults from the API info).
    answer = raw_call(app_url, "train_network",
                      '{"data": ["xor", 0.05, "4", "tanh", NaN, 10, 5, 0, false, ["x1", "x2"], '
                      '"none", 0, "classification", 0.5, "sgd", [], "cross_entropy", 0, 0.9, '
                      '0.9, 0.999, true]}')
    assert "event: error" in answer and "Learning rate must be a finite" in answer, answer
    probs, _ = client.predict(logits="1, 2", temperature=1, api_name="/softmax")
    assert probs["label"].startswith("#2")


def test_building_the_app_loads_no_language_model():
    """Start-up stays fast: torch and transformers are imported on first use of a model only."""
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import sys, app; app.build_app(); "
            "print('transformers' in sys.modules or 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True, env={**__import__("os").environ,
                                          "GRADIO_ANALYTICS_ENABLED": "False"})
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_a_drawn_letter_is_not_called_a_digit(client, tmp_path):
    """The letter A example, black on white as a visitor's PNG would be."""
    from conftest import ROOT

    ink = Image.open(ROOT / "demos/examples/digits/not-a-digit-letter-A.png")
    path = tmp_path / "A.png"
    Image.fromarray(255 - np.asarray(ink)).save(path)
    _, message, *_ = client.predict({"background": handle_file(path), "layers": [],
                                     "composite": None}, api_name="/classify_digit")
    assert "✅" not in message and ("not" in message.lower()), message


def test_the_queue_and_generation_are_bounded():
    """A bounded queue (more waiting requests are refused, not piled up), and caps on each
    generation's tokens and seconds."""
    import app
    from models import generation

    demo = app.build_app()
    assert demo._queue.max_size == 64
    assert generation.MAX_NEW_TOKENS == 400 and generation.MAX_SECONDS <= 30
    limits = {fn.api_name: fn.concurrency_limit for fn in demo.fns.values() if not fn.page}
    assert limits["generate_text"] == 1


def test_every_public_endpoint_is_in_the_readme_and_named_as_it_says():
    """A client reads the README to call the API: each public endpoint is documented there, and
    none has gradio's suffixed name (digit_pixel_1) because a private event took its name."""
    import re

    from conftest import ROOT

    import app

    api = (ROOT / "README.md").read_text(encoding="utf-8").split("## API", 1)[1]
    documented = set(re.findall(r"`/([a-z_0-9]+)`", api)) | set(
        re.findall(r'api_name="/([a-z_0-9]+)"', api))
    demo = app.build_app()
    public = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert public - documented == set()
    assert not any(re.search(r"_\d+$", name) for name in public)
