"""The Tokens & embeddings endpoints through gradio_client, by keyword, as the README shows."""

import json

import numpy as np
import pytest
from gradio_client.exceptions import AppError

from models import registry


def test_tokenize(client):
    out, view = client.predict(text="ROMEO. Romeo 😍", tokenizer="shakespeare-gpt",
                               api_name="/tokenize")
    tok = registry.tokenizer("shakespeare-gpt")
    assert out["ids"] == tok.encode("ROMEO. Romeo 😍")
    assert out["tokens"][:3] == ["ROM", "E", "O"] and "ĠRomeo" in out["tokens"]
    assert out["n_tokens"] == len(out["ids"]) and out["n_characters"] == 14
    assert "<F0>" in "".join(out["shown"]) and "np-token" in view


def test_bpe_steps_end_in_the_tokens(client):
    steps = client.predict(text="ROMEO. Romeo", tokenizer="shakespeare-gpt",
                           api_name="/bpe_steps")[0]
    tokens = client.predict(text="ROMEO. Romeo", tokenizer="shakespeare-gpt",
                            api_name="/tokenize")[0]["tokens"]
    assert steps["steps"][-1] == tokens
    assert len(steps["steps"]) == len(steps["merges"]) + 1 and steps["merges"][0] == ["o", "m"]


def test_nearest_tokens(client):
    out = client.predict(word="king", model="sentiment-minilm", k=5, api_name="/nearest_tokens")
    result = out[0]
    assert len(result) == 5 and {"token", "id", "cosine"} <= set(result[0])
    assert [r["cosine"] for r in result] == sorted((r["cosine"] for r in result), reverse=True)
    assert "queen" in [r["token"] for r in result]
    assert json.loads(out[1]["plot"])["data"][0]["type"] == "bar"


def test_embedding_map(client):
    result = client.predict(words="king, queen, prince; red, blue, green",
                            model="sentiment-minilm", api_name="/embedding_map")[0]
    assert result["words"] == ["king", "queen", "prince", "red", "blue", "green"]
    assert np.array(result["xy"]).shape == (6, 2) and len(result["explained_variance"]) == 2
    assert 0 < sum(result["explained_variance"]) <= 1


@pytest.mark.parametrize("model", ["pretrained", "fine-tuned"])
def test_sentence_map(client, model):
    result = client.predict(sentences="I loved this film.\nThe soup was cold.\nWhat a bore.",
                            model=model, api_name="/sentence_map")[0]
    sim = np.array(result["similarity"])
    assert sim.shape == (3, 3) and np.allclose(sim, sim.T) and np.allclose(np.diag(sim), 1)


def test_analogy(client):
    result = client.predict(a="king", b="man", c="woman", model="sentiment-minilm",
                            api_name="/analogy")[0]
    assert result["results"][0]["token"] == "queen" and result["asked"] > 0


@pytest.mark.parametrize("api, kwargs, message", [
    ("/tokenize", dict(text="", tokenizer="shakespeare-gpt"), "empty"),
    ("/tokenize", dict(text="hi", tokenizer="gpt2-xl"), "not in the list of choices|not avail"),
    ("/bpe_steps", dict(text="hi", tokenizer="sentiment-minilm"), "no merges|list of choices"),
    ("/nearest_tokens", dict(word="xqzvwk", model="sentiment-minilm", k=5), "not one token"),
    ("/nearest_tokens", dict(word="king", model="sentiment-minilm", k=500), "maximum|1 to 50"),
    ("/embedding_map", dict(words="king", model="sentiment-minilm"), "3 to 60 words"),
    ("/sentence_map", dict(sentences="one", model="pretrained"), "2 to 30 sentences"),
])
def test_bad_input_is_a_clear_error(client, api, kwargs, message):
    with pytest.raises(AppError, match=message):
        client.predict(**kwargs, api_name=api)
