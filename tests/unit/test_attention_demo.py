"""The Attention tab's figures from made-up arrays (no model)."""

import json

import numpy as np

from demos import attention as tab
from demos import plots


def test_heatmap_carries_weights_and_tokens():
    tokens = ["[CLS]", "the", "cat", "the", "[SEP]"]
    w = np.random.default_rng(1).dirichlet(np.ones(5), size=5)
    fig = tab.attention_heatmap(tokens, w, "t")
    z = np.asarray(fig.data[0].z)
    np.testing.assert_allclose(z, w, atol=1e-6)
    labels = list(fig.data[0].x)
    assert len(set(labels)) == 5 and [lab.rstrip("\u200b") for lab in labels] == tokens
    assert "from %{y}" in fig.data[0].hovertemplate


def test_long_inputs_thin_the_ticks_but_keep_every_token():
    tokens = [f"t{i}" for i in range(256)]
    fig = tab.attention_heatmap(tokens, np.eye(256), "t")
    assert len(fig.data[0].x) == 256 and len(fig.layout.xaxis.tickvals) <= plots.TICKS
    size = len(fig.to_json())
    assert size < 1_000_000, size  # what a browser receives for a 256-token map


def test_overview_tiles_every_head():
    thumbs = np.random.default_rng(2).random((2, 3, 8, 8))
    fig = tab.overview_figure(thumbs)
    grid = np.asarray(fig.data[0].z, dtype=float)
    assert grid.shape == (2 * 8 + 1, 3 * 8 + 2)  # one-cell gaps
    assert list(fig.layout.xaxis.ticktext) == ["head 1", "head 2", "head 3"]
    assert np.isnan(grid[8]).all()  # the gap between layers


def test_focus_bars_and_csv():
    fig = tab.focus_bars(["a", "b", "c"], np.array([0.2, 0.3, 0.5]), 1)
    assert list(fig.data[0].y) == [0.2, 0.3, 0.5] and "b" in fig.layout.title.text
    path = tab._csv(["a", "b"], np.array([[1.0, 0.0], [0.25, 0.75]]), "layer 1")
    rows = open(path, encoding="utf-8").read().splitlines()
    assert rows[0].endswith(",a,b") and rows[2] == "b,0.25000,0.75000"
    json.dumps(rows)
