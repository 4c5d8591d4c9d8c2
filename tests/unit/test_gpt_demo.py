"""The Inside a GPT tab's figures: from made-up arrays (no model), loaded back into go.Figure,
which refuses any property plotly does not know; and their size for 256 tokens."""

import base64
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from demos import gpt as tab


def load(plot) -> go.Figure:
    return go.Figure(json.loads(plot.plot))


def decode(z) -> np.ndarray:
    data = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.float32)
    return data.reshape([int(n) for n in z["shape"].split(",")]) if "shape" in z else data


def made_up(T=5, C=8, H=2, L=2, V=30, seed=0):
    rng = np.random.default_rng(seed)
    d = C // H

    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    mask = np.tril(np.ones((T, T), dtype=bool))
    blocks = []
    for _ in range(L):
        scores = r(H, T, T)
        weights = np.where(mask, np.exp(scores), 0)
        weights /= weights.sum(-1, keepdims=True)
        blocks.append({"ln_1": r(T, C), "q": r(H, T, d), "k": r(H, T, d), "v": r(H, T, d),
                       "scores": scores, "attention": weights, "heads": r(H, T, d),
                       "attn_out": r(T, C), "resid_attn": r(T, C), "ln_2": r(T, C),
                       "mlp_pre": r(T, 4 * C), "mlp_post": np.maximum(r(T, 4 * C), 0),
                       "mlp_out": r(T, C), "resid_mlp": r(T, C)})
    tokens = ["ROM", "E", "O", ".", "\n"][:T] + [f"t{i}" for i in range(max(0, T - 5))]
    return {"tokens": tokens, "ids": list(range(T)), "token_embedding": r(T, C),
            "position_embedding": r(T, C), "input": r(T, C), "mask": mask, "blocks": blocks,
            "ln_f": r(T, C), "shape": {"T": T, "C": C, "H": H, "d": d, "layers": L, "V": V}}


def test_embedding_figure_holds_the_input_and_the_three_strips():
    t = made_up()
    plot = tab.embedding_figure(t["tokens"], t["ids"], t["token_embedding"],
                                t["position_embedding"], t["input"], 2)
    fig, raw = load(plot), json.loads(plot.plot)
    np.testing.assert_allclose(decode(raw["data"][0]["z"]), t["input"])
    strips = decode(raw["data"][1]["z"])
    np.testing.assert_allclose(strips[0], t["token_embedding"][1])
    np.testing.assert_allclose(strips[1], t["position_embedding"][1])
    np.testing.assert_allclose(strips[2], t["input"][1])
    assert "T × C = 5 × 8" in fig.layout.title.text
    assert fig.layout.shapes[0].y0 == 0.5  # the chosen row (position 2) outlined


def test_attention_figure_shows_each_step_of_one_head():
    t = made_up()
    raw = json.loads(tab.attention_figure(t["tokens"], t["blocks"][1], t["mask"], 2, 2, 3).plot)
    load(tab.attention_figure(t["tokens"], t["blocks"][1], t["mask"], 2, 2, 3))
    z = [decode(trace["z"]) for trace in raw["data"]]
    b = t["blocks"][1]
    np.testing.assert_allclose(z[0], b["q"][1])
    np.testing.assert_allclose(z[2], b["v"][1])
    scores = z[3]
    assert np.isnan(scores[np.triu_indices(5, 1)]).all()  # masked: not drawn as numbers
    np.testing.assert_allclose(scores[np.tril_indices(5)], b["scores"][1][np.tril_indices(5)])
    np.testing.assert_allclose(z[4], b["attention"][1], atol=1e-6)
    np.testing.assert_allclose(z[5], b["heads"][1])
    mask = raw["layout"]["shapes"][-1]  # the grey staircase over the future's scores
    assert mask["type"] == "path" and mask["xref"] == "x4"
    assert raw["layout"]["title"]["text"].startswith("Block 2, head 2")


def test_mlp_residual_and_lens_figures_are_valid():
    t = made_up()
    for plot in (tab.mlp_figure(t["blocks"][0], 1, "ROM", 1), tab.residual_figure(t, 4)):
        load(plot)
    residual = json.loads(tab.residual_figure(t, 4).plot)
    rows = decode(residual["data"][0]["z"])
    assert rows.shape == (2 * 2 + 2, 8)  # input, two halves of two blocks, final LayerNorm
    np.testing.assert_allclose(rows[-1], t["ln_f"][3])
    lens = {"layers": ["embedding", "block 1", "final"], "tokens": t["tokens"],
            "top": [[{"token": "a", "id": 1, "p": 0.5}] * 5] * 3, "final_rank": [9, 2, 1],
            "final_p": [0.01, 0.2, 0.5], "final_token": {"token": "a", "id": 1, "p": 0.5}}
    load(tab.lens_figure(lens))
    load(tab.rank_figure(lens))


def test_knock_figure_pairs_before_and_after():
    result = {"before": [{"token": "a", "id": 1, "p": 0.6}, {"token": "b", "id": 2, "p": 0.3}],
              "after": [{"token": "b", "id": 2, "p": 0.7}, {"token": "c", "id": 3, "p": 0.2}],
              "chosen": {"id": 1}}
    fig = load(tab.knock_figure(result))
    assert list(fig.data[0].x) == ["a ·1", "b ·2", "c ·3"]
    assert list(fig.data[0].y) == [0.6, 0.3, None] and list(fig.data[1].y) == [None, 0.7, 0.2]


@pytest.mark.parametrize("n", [256])
def test_a_256_token_pass_stays_a_reasonable_size(n):
    from models import gpt as inside

    text = open(__import__("conftest").DATA / "shakespeare_heldout.txt").read()
    out = tab.inside_gpt(text, None, None, 6, 8, 1.0)
    assert len(out[0]["tokens"]) == n
    sizes = [len(p.plot) for p in out[1:6]]
    numbers = len(json.dumps(out[0]))
    # The T × T maps travel as float32 (base64): about 350 KB each at 256 tokens.
    assert sum(sizes) < 1_500_000 and numbers < 1_200_000, (sizes, numbers)
    for p in out[1:6]:
        load(p)
    lens = tab.logit_lens(text, None, True)
    assert len(lens[1].plot) < 600_000
    assert inside.MAX_TOKENS == n


def test_weight_table_reads_like_the_notes():
    counts, table, note = tab.weight_counts()
    rows = {r[0]: r for r in table["data"]}
    assert rows["Total, as the notes count"][5:] == ["175,181,291,520", "27,938"]
    assert rows["Unembedding"][1] == "tied to Embedding"
    assert "leaves out" in note.lower().replace("**", "")
