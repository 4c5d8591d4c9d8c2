"""The Attention endpoint through gradio_client."""

import json

import numpy as np
import pytest
from gradio_client.exceptions import AppError

TEXT = "The animal didn't cross the street because it was too tired."


def figure(plot):
    return json.loads(plot["plot"])


def z_of(fig):
    z = fig["data"][0]["z"]
    if isinstance(z, dict):  # plotly 6 sends numpy arrays as typed arrays (base64)
        import base64

        data = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        shape = z.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return data.reshape(shape) if shape else data
    return np.asarray(z, dtype=float)


@pytest.mark.parametrize("model, causal", [("shakespeare-gpt", True),
                                           ("sentiment-minilm", False)])
def test_attention_map_carries_weights_and_tokens(client, model, causal):
    out = client.predict(text=TEXT, model=model, layer=2, head="1", api_name="/attention_map")
    fig = figure(out[0])
    z = z_of(fig)
    tokens = fig["data"][0]["x"]
    assert z.shape == (len(tokens), len(tokens))
    np.testing.assert_allclose(z.sum(axis=1), 1.0, atol=1e-4)
    assert np.all(np.triu(z, 1) == 0) == causal
    assert "layer 2, head 1" in fig["layout"]["title"]["text"]


def test_head_as_a_number(client):
    out = client.predict(text=TEXT, model="sentiment-encoder", layer=1, head=3,
                         api_name="/attention_map")
    assert "layer 1, head 3" in figure(out[0])["layout"]["title"]["text"]


@pytest.mark.parametrize("head", ["mean", "rollout"])
def test_aggregates(client, head):
    out = client.predict(text=TEXT, model="sentiment-minilm", layer=6, head=head,
                         api_name="/attention_map")
    assert head in figure(out[0])["layout"]["title"]["text"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(text=""), "Type some text"), (dict(text="\x00\x01"), "Type some text"),
    (dict(text="A", model="shakespeare-gpt"), "single token"),
    (dict(layer=9), "does not exist|greater than maximum"), (dict(layer=0), "does not exist|less"),
    (dict(head="13"), "does not exist"), (dict(head="all"), "Head must be"),
    (dict(head=2.5), "Head must be"), (dict(head=None), "Head must be"),
    (dict(model="bert-base-uncased"), "not in the list|not available"),
    (dict(model="/etc/passwd"), "not in the list|not available"),
])
def test_bad_requests_get_clear_errors(client, kwargs, message):
    args = dict(text=TEXT, model="sentiment-minilm", layer=1, head="mean")
    with pytest.raises(AppError, match=message):
        client.predict(**{**args, **kwargs}, api_name="/attention_map")
    assert client.predict(**args, api_name="/attention_map")[0]


def test_long_emoji_and_rtl_text(client):
    out = client.predict(text="word " * 600, model="sentiment-minilm", layer=1, head="mean",
                         api_name="/attention_map")
    assert "only the first 256" in out[-1]
    for text in ["🙂🙃 emoji!", "שלום עולם, hello"]:
        out = client.predict(text=text, model="shakespeare-gpt", layer=1, head="1",
                             api_name="/attention_map")
        assert z_of(figure(out[0])).shape[0] >= 2


def test_the_map_as_csv(client):
    path = client.predict(text="the cat sat", model="sentiment-encoder", layer=1, head="2",
                          api_name="/attention_csv")
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0].startswith("layer 1, head 2") and rows[0][1:] == [
        "[CLS]", "the", "cat", "sat", "[SEP]"]
    weights = [[float(v) for v in row[1:]] for row in rows[1:]]
    assert len(weights) == 5 and all(abs(sum(w) - 1) < 1e-3 for w in weights)
