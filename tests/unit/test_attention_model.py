"""models/attention.py against the models' own output_attentions, and the aggregates against
their definitions."""

import numpy as np
import pytest
import torch

from models import attention, registry

TEXT = "The animal didn't cross the street because it was too tired."


@pytest.mark.parametrize("key, task", [("shakespeare-gpt", "generation"),
                                       ("sentiment-encoder", "sentiment"),
                                       ("sentiment-minilm", "sentiment")])
def test_weights_are_the_models_own(key, task):
    result = attention.attentions(key, TEXT)
    loaded = registry.load(task, key)
    ids = loaded.tokenizer(TEXT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        theirs = loaded.model(ids, output_attentions=True).attentions
    assert result["weights"].shape == (len(theirs), theirs[0].shape[1], ids.shape[1],
                                       ids.shape[1])
    for layer, a in enumerate(theirs):
        np.testing.assert_allclose(result["weights"][layer], a[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(result["weights"].sum(-1), 1.0, atol=1e-5)  # rows sum to 1
    assert len(result["tokens"]) == ids.shape[1]


def test_the_causal_model_never_looks_ahead():
    result = attention.attentions("shakespeare-gpt", TEXT)
    assert result["causal"]
    upper = np.triu(np.ones(result["weights"].shape[-2:], dtype=bool), k=1)
    assert np.all(result["weights"][..., upper] == 0)
    encoder = attention.attentions("sentiment-minilm", TEXT)
    upper = np.triu(np.ones(encoder["weights"].shape[-2:], dtype=bool), k=1)
    assert not encoder["causal"] and np.all(encoder["weights"][..., upper] > 0)


def test_mean_over_heads_is_the_mean():
    w = np.random.default_rng(0).random((3, 4, 5, 5))
    np.testing.assert_allclose(attention.mean_over_heads(w)[1], w[1].mean(axis=0))


def test_rollout_on_a_hand_made_example():
    # Two layers, one head, two tokens.
    a1 = np.array([[1.0, 0.0], [0.5, 0.5]])
    a2 = np.array([[0.0, 1.0], [0.0, 1.0]])
    w = np.stack([a1[None], a2[None]])  # (L=2, H=1, 2, 2)
    # Residual added, rows renormalised: (A + I) / 2 here, since rows sum to 1.
    r1 = (a1 + np.eye(2)) / 2  # [[1, 0], [0.25, 0.75]]
    r2 = (a2 + np.eye(2)) / 2 @ r1  # [[0.5, 0.5], [0, 1]] @ r1
    got = attention.rollout(w)
    np.testing.assert_allclose(got[0], r1)
    np.testing.assert_allclose(got[1], [[0.625, 0.375], [0.25, 0.75]])
    np.testing.assert_allclose(got[1], r2)
    np.testing.assert_allclose(got.sum(-1), 1.0)


def test_pooled_thumbnails_average_blocks():
    m = np.arange(16, dtype=float).reshape(4, 4)
    np.testing.assert_allclose(attention.pooled(m, 2), [[2.5, 4.5], [10.5, 12.5]])
    assert attention.pooled(m, 8) is m
    assert attention.overview(np.zeros((2, 3, 100, 100)), 48).shape == (2, 3, 48, 48)


def test_select_layers_heads_and_aggregates():
    result = attention.attentions("sentiment-encoder", TEXT)
    w, name = attention.select(result, 2, 3)
    np.testing.assert_array_equal(w, result["weights"][1, 2])
    assert name == "layer 2, head 3"
    assert "mean" in attention.select(result, 1, "mean")[1]
    assert "rollout" in attention.select(result, 4, "rollout")[1]
    for layer, head in [(0, 1), (5, 1), (1, 0), (1, 9), (1.5, 1), ("x", 1), (1, "max")]:
        with pytest.raises(ValueError, match="Layer|Head"):
            attention.select(result, layer, head)


def test_long_text_is_cut_and_said():
    result = attention.attentions("sentiment-minilm", "word " * 1000)
    assert len(result["tokens"]) == attention.MAX_TOKENS
    assert "only the first 256" in result["notices"][0]
    gpt = attention.attentions("shakespeare-gpt", "word " * 1000)
    assert len(gpt["tokens"]) == 256


@pytest.mark.parametrize("text", ["", "  ", "\x00"])
def test_empty_text_is_refused(text):
    with pytest.raises(ValueError, match="Type some text"):
        attention.attentions("sentiment-minilm", text)


def test_one_token_is_explained():
    with pytest.raises(ValueError, match="single token"):
        attention.attentions("shakespeare-gpt", "A")


def test_odd_text_works():
    for text in ["🙂 emoji", "مرحبا بالعالم", "tab\tand\x07bell"]:
        result = attention.attentions("shakespeare-gpt", text)
        assert result["weights"].shape[-1] == len(result["tokens"])


@pytest.mark.parametrize("key", ["gpt2", "bert-base-uncased", "../weights/x", "", None])
def test_unknown_models_are_refused(key):
    with pytest.raises(ValueError, match="not available"):
        attention.attentions(key, TEXT)
