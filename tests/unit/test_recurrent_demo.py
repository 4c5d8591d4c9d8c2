"""demos/recurrent: figures and text from the model's numbers, and the handlers that keep the
tab's race."""

import json

import gradio as gr
import plotly.graph_objects as go
import pytest

from demos import recurrent as tab
from demos.recurrent import language as lang_tab
from models import recurrent as rec


def load(plot):
    return go.Figure(json.loads(plot.plot))  # plotly's validation rejects unknown properties


@pytest.mark.parametrize("cell, rows", [("rnn", 1), ("lstm", 6), ("gru", 4)])
def test_the_unrolled_figure_has_a_block_per_quantity_and_the_arithmetic_its_numbers(cell, rows):
    fig, arithmetic, numbers = tab.unroll(cell, "Awx?", 2, 0)
    fig = load(fig)
    assert len(fig.data) == rows and all(len(t.z) == 2 and len(t.z[0]) == 4 for t in fig.data)
    assert arithmetic.count("class='rnn-step'") == 4
    h = numbers["steps"][-1]["h"]
    assert f"{h[0]:+.2f}" in arithmetic  # the last state, written out
    assert numbers["tokens"] == list("Awx?")


def test_a_bad_sequence_is_a_gradio_error():
    with pytest.raises(gr.Error, match="cannot"):
        tab.unroll("rnn", "<script>", 2, 0)


def test_a_race_frame_from_a_race():
    race = rec.Race(delay=4, seed=0)
    for _ in range(5):
        race.step()
    curves, grads, status, probe, inside, numbers = tab.frame(race)
    inside = load(inside)  # the LSTM's forget gate, input gate and cell state: 32 units, 5 steps
    assert len(inside.data) == 3 and len(inside.data[0].z) == 32 and len(inside.data[0].z[0]) == 5
    assert "Inside the LSTM at step 5" in inside.layout.title.text
    names = [t.name for t in load(curves).data]
    assert names == ["RNN", "RNN loss", "LSTM", "LSTM loss", "GRU", "GRU loss", "chance"]
    grad_fig = load(grads)
    assert grad_fig.layout.yaxis.type == "log" and len(grad_fig.data[0].y) == 5
    assert "**Step 5**" in status and "→ the answer is" in probe
    assert set(numbers["cells"]) == {"rnn", "lstm", "gru"}


def test_the_verdict_says_which_cell_remembers_and_why_truncation_cannot():
    race = rec.Race(delay=20, seed=0, truncate=5)
    state = race.record()
    assert "no gradient reaches the step that read it" in tab.verdict(race, state)
    race = rec.Race(delay=20, seed=0)
    state = {"step": 600, "cells": {"rnn": {"accuracy": 0.25}, "lstm": {"accuracy": 1.0},
                                    "gru": {"accuracy": 0.3}}}
    said = tab.verdict(race, state)
    assert "the LSTM remembers" in said and "RNN and GRU are still at chance" in said


def test_the_tab_keeps_its_race_until_a_setting_changes():
    settings = rec.RACE_SETTINGS.defaults
    race = tab.prepare(["rnn", "lstm"], None, **settings)
    assert tab.prepare(["rnn", "lstm"], race, **settings) is race
    other = tab.prepare(["rnn", "lstm"], race, **{**settings, "delay": 5})
    assert other is not race and race.stopped
    assert tab.prepare(["rnn", "lstm"], other, **{**settings, "delay": 5, "steps": 9}) is other
    with pytest.raises(gr.Error, match="at least one"):
        tab.prepare([], None, **settings)


def test_the_exploding_gradient_figure_and_its_sentence():
    result, fig, text = tab.gradient_through_time("rnn", 20, 0, 4.0)
    fig = load(fig)
    assert [t.name for t in fig.data] == ["as it is", "clipped to 1 at every step"]
    assert "grows by a factor" in text and result["clipped_gradient_norm"] == pytest.approx(1)
    assert f"**{result['clipped_step_size']:.3g}** clipped" in text
    _, _, text = tab.gradient_through_time("rnn", 30, 0, 0.5)  # small weights: it vanishes
    assert "shrinks by a factor of" in text


def test_the_growth_of_a_gradient_in_words():
    assert tab._factor(100.0, 1.0) == "grows by a factor of **100**"
    assert tab._factor(0.001, 1.0) == "shrinks by a factor of **1e+03**"
    assert "vanishes entirely" in tab._factor(0.0, 1.0)


def test_surprise_is_coloured_per_character_and_escaped():
    scored = {"model": "shakespeare-lstm", "nats_per_char": 2.0,
              "chars": [["<", 0.0], ["b", 3.0], [">", 12.0], ["\n", 1.0]]}
    shown = lang_tab.surprise_html(scored, "x")
    assert "<b>" not in shown.split("</b>", 1)[1]  # the text's tags are text
    assert "&lt;" in shown and "rgba(249,115,22,0.50)" in shown and "rgba(249,115,22,1.00)" in shown
    assert "LSTM: 2.000 nats per character" in shown
