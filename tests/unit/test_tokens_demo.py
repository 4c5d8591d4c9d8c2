"""The Tokens & embeddings tab's views from made-up values (no model): valid plotly figures,
token boxes that show bytes and special tokens, and the merges written out."""

import json

import plotly.graph_objects as go

from demos import tokens as tab


def load(plot) -> go.Figure:
    return go.Figure(json.loads(plot.plot))


def test_token_block_marks_bytes_and_special_tokens():
    result = {"ids": [101, 7, 8, 102], "tokens": ["[CLS]", "Ġhi", "ð", "[SEP]"],
              "shown": ["[CLS]", " hi", "<F0>", "[SEP]"], "bytes": [False, False, True, False],
              "special": [True, False, False, True], "n_tokens": 4, "n_characters": 4,
              "characters_per_token": 1.0}
    html = tab.tokens_block(result, "a tokenizer")
    assert html.count('class="np-token"') == 4 and "␣hi" in html
    assert html.count("outline:2px") == 2 and html.count("dashed") == 1
    assert "id 7 · Ġhi" in html and "4 tokens" in html


def test_bpe_view_writes_every_merge():
    result = {"steps": [["Ġ", "R", "o"], ["ĠR", "o"], ["ĠRo"]], "merges": [["Ġ", "R"],
                                                                          ["ĠR", "o"]],
              "ranks": [3, 9], "n_merges": 100}
    html = tab.bpe_html(result)
    assert "merge 1" in html and "merge 2" in html and "number 9 of 100" in html
    assert "␣ + R" in html  # the space byte, shown as the other tabs show it


def test_figures_are_valid_plotly():
    near = [{"token": " queen", "id": 5, "cosine": 0.7}, {"token": " king", "id": 6,
                                                          "cosine": 0.5}]
    fig = load(tab.neighbours_figure("king", near, "shakespeare-gpt"))
    assert list(fig.data[0].y) == ["␣king ·6", "␣queen ·5"]  # the nearest at the top
    fig = load(tab.map_figure([[0, 1], [1, 0], [2, 2]], ["a", "b", "c"], [0, 0, 1], "t",
                              [0.5, 0.25]))
    assert len(fig.data) == 2 and "50% + 25%" in fig.layout.title.text
    sim = {"sentences": ["one", "two"], "similarity": [[1, 0.2], [0.2, 1]]}
    fig = load(tab.similarity_figure(sim, "t"))
    assert [list(row) for row in fig.data[0].z] == [[1, 0.2], [0.2, 1]]
