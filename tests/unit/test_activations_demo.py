"""demos/activations.py: handlers turn UI values into figures, and bad input into gr.Error."""

import gradio as gr
import pytest

from demos import activations as demo


def test_plot_has_one_trace_per_function_and_derivative():
    fig, formulas, table = demo.plot_activations(["sigmoid", "gelu"], -4, 4, True, 0.1)
    names = [t.name for t in fig.data]
    assert names == ["Sigmoid", "Sigmoid derivative", "GELU", "GELU derivative"]
    assert "\\frac{1}{1 + e^{-x}}" in formulas and "GELU" in table
    fig, *_ = demo.plot_activations(["relu"], -4, 4, False, 0.1)
    assert [t.name for t in fig.data] == ["ReLU"]


def test_saturated_regions_are_shaded():
    fig, *_ = demo.plot_activations(["sigmoid"], -8, 8, True, 0.1, 0.0, True)
    assert len([s for s in fig.layout.shapes if s.type == "rect"]) == 2
    fig, *_ = demo.plot_activations(["sigmoid"], -8, 8, True, 0.1, 0.0, False)
    assert not [s for s in fig.layout.shapes if s.type == "rect"]


def test_probe_table_reads_value_and_slope():
    _, _, table = demo.plot_activations(["sigmoid"], -4, 4, True, 0.1, 0.0)
    assert "| Sigmoid | 0.5000 | 0.2500 |" in table


@pytest.mark.parametrize("args", [([], -5, 5), (["relu"], 5, -5), (["relu"], -1e9, 1e9),
                                  (["relu"], float("nan"), 5), (["relu"], None, 5),
                                  (["bogus"], -5, 5)])
def test_bad_plot_arguments_raise_gradio_errors(args):
    with pytest.raises(gr.Error):
        demo.plot_activations(*args, True, 0.1)


def test_softmax_handler():
    probs, fig = demo.softmax("2, 1, 0", 1.0)
    assert sum(probs.values()) == pytest.approx(1.0)
    assert max(probs, key=probs.get).startswith("#1")
    probs, _ = demo.softmax("2, 1, 0", 0)
    assert sorted(probs.values()) == [0.0, 0.0, 1.0]
    for bad in [("", 1), ("a, b", 1), ("1, 2", -1), ("1, 2", float("nan"))]:
        with pytest.raises(gr.Error):
            demo.softmax(*bad)


def test_neuron_and_training_figures():
    fig = demo.plot_neuron("tanh", 2.0, -1.0)
    assert len(fig.data) == 2
    loss, accuracy, summary = demo.training_figures()
    assert {t.name for t in loss.data} == {"Sigmoid", "Tanh", "ReLU"}
    assert "%" in summary
