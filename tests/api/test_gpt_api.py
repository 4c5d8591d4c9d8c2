"""The Inside a GPT endpoints through gradio_client, by keyword, as the README shows them."""

import json

import numpy as np
import pytest
from gradio_client.exceptions import AppError

TEXT = "ROMEO.\nBut soft, what light through yonder window breaks?"


def figure(plot):
    return json.loads(plot["plot"])


def test_inside_gpt_returns_every_step(client):
    out = client.predict(text=TEXT, model="shakespeare-gpt", position=5, layer=2, head=3,
                         api_name="/inside_gpt")
    numbers = out[0]
    T = len(numbers["tokens"])
    assert T == len(numbers["ids"]) == 18 and numbers["position"] == 5
    assert numbers["shapes"]["input"] == [T, 256] and numbers["shapes"]["block q"] == [8, T, 32]
    for name in ("q", "k", "v"):
        assert np.array(numbers["qkv"][name]).shape == (T, 32)
    attention = np.array(numbers["attention"])
    assert attention.shape == (T, T)
    np.testing.assert_allclose(attention.sum(1), 1, atol=2e-4)  # rounded to 5 decimals
    assert np.all(np.triu(attention, 1) == 0)
    assert len(numbers["mlp_hidden"]) == 1024
    top = numbers["next_token"]
    assert len(top) == 10 and set(top[0]) >= {"token", "id", "p"}
    assert [c["p"] for c in top] == sorted((c["p"] for c in top), reverse=True)
    # Then the five figures: input, attention, MLP, residual stream, output.
    titles = [figure(f)["layout"]["title"]["text"] for f in out[1:6]]
    assert titles[0] == f"Input vectors: T × C = {T} × 256"
    assert titles[1].startswith("Block 2, head 3")
    assert "After position 5" in titles[4]
    assert "18 tokens" in out[7]


def test_position_defaults_to_the_last(client):
    out = client.predict(text="To be, or not to be", model="shakespeare-gpt", layer=1, head=1,
                         api_name="/inside_gpt")
    assert out[0]["position"] == len(out[0]["tokens"]) and out[0]["actual_next"] is None


def test_logit_lens_by_block_and_by_half(client):
    whole = client.predict(text=TEXT, model="shakespeare-gpt", split=False,
                           api_name="/logit_lens")[0]
    assert whole["layers"] == ["embedding"] + [f"block {i}" for i in range(1, 6)] + ["final"]
    assert len(whole["top"]) == 7 and len(whole["top"][0]) == len(whole["tokens"])
    assert whole["final_rank"][-1] == 1
    halves = client.predict(text=TEXT, model="shakespeare-gpt", split=True,
                            api_name="/logit_lens")[0]
    assert len(halves["layers"]) == 13 and halves["layers"][1] == "block 1 attention"
    # The lens's last row is the model's own next-token choice.
    final = client.predict(text=TEXT, model="shakespeare-gpt", layer=1, head=1,
                           api_name="/inside_gpt")[0]["next_token"][0]
    assert halves["top"][-1][-1]["id"] == final["id"]


@pytest.mark.parametrize("part", ["head", "mlp", "positions"])
def test_knock_out(client, part):
    result = client.predict(text=TEXT, model="shakespeare-gpt", part=part, layer=1, head=2,
                            api_name="/knock_out")[0]
    assert len(result["before"]) == len(result["after"]) == 10
    assert result["before"] != result["after"]
    assert result["chosen"]["id"] == result["before"][0]["id"]


def test_weight_counts(client):
    counts = client.predict(api_name="/weight_counts")[0]
    assert set(counts) == {"bundled", "gpt2-small", "gpt3-175b"}
    assert counts["gpt3-175b"]["total"] == {"weights": 175_181_291_520, "matrices": 27_938}
    assert counts["gpt2-small"]["all"]["weights"] == 124_439_808
    assert counts["bundled"]["all"]["weights"] == 5_853_184
    assert set(counts["bundled"]["categories"]) >= {
        "Embedding", "Key", "Query", "Value", "Output", "Up-projection", "Down-projection",
        "Unembedding"}


@pytest.mark.parametrize("kwargs, message", [
    (dict(text=""), "empty"),
    (dict(text="\x00"), "control characters"),
    (dict(position=40), "Position 40 does not exist"),
    (dict(model="gpt2"), "not available|not in the list of choices"),
    (dict(model="../../etc/passwd"), "not available|not in the list of choices"),
])
def test_bad_input_is_a_clear_error(client, kwargs, message):
    args = {**dict(text=TEXT, model="shakespeare-gpt", position=1, layer=1, head=1), **kwargs}
    with pytest.raises(AppError, match=message):
        client.predict(**args, api_name="/inside_gpt")


def test_layers_and_heads_past_the_model(client):
    with pytest.raises(AppError, match="maximum|does not exist"):
        client.predict(text=TEXT, model="shakespeare-gpt", position=1, layer=7, head=1,
                       api_name="/inside_gpt")
    with pytest.raises(AppError, match="must be one of|not in the list of choices"):
        client.predict(text=TEXT, model="shakespeare-gpt", part="all", layer=1, head=1,
                       api_name="/knock_out")
