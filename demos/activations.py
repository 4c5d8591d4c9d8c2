"""The Activation functions tab: shapes, slopes, softmax with temperature, and what the choice
does to a real network's training."""

from __future__ import annotations

from functools import lru_cache

import gradio as gr
import plotly.graph_objects as go

from demos import Demo, plots
from demos.messages import fail
from models import activations as act

COLORS = ["#f97316", "#3b82f6", "#10b981", "#a855f7", "#ef4444", "#eab308", "#06b6d4",
          "#ec4899", "#84cc16", "#6b7280"]
FUNCTION_COLORS = {name: COLORS[i % len(COLORS)] for i, name in enumerate(act.FUNCTIONS)}
CHOICES = [(a.label, a.name) for a in act.FUNCTIONS.values()]
DEFAULT = ["sigmoid", "tanh", "relu"]

SOFTMAX_EXAMPLES = {
    "A clear favourite": "4, 2, 1, 0.5, -1",
    "Two close rivals": "3, 2.9, 0, -1",
    "All equal": "1, 1, 1, 1",
    "Next-token-like (one huge, many small)": "8, 5, 4.5, 4, 3, 2, 1, 0, -1, -2",
}
LATEX = [{"left": "$$", "right": "$$", "display": True},
         {"left": "$", "right": "$", "display": False}]

EXPLANATION = r"""
### Where a network stops being a straight line
A neuron adds up its inputs, each times a weight, plus a bias: $z = w \cdot x + b$. That part is
linear, and stacking linear layers only ever gives another linear function. The **activation
function** $a = f(z)$ bends it, and that bend is what lets a network draw curved boundaries.

**The derivative matters as much as the shape.** Training sends the error backwards through every
layer, multiplying by each activation's slope $f'(z)$ on the way. Where the slope is nearly 0
(the shaded *saturated* regions), almost nothing gets through: stack a few sigmoids and the first
layers barely learn. That is the *vanishing gradient* problem, and why ReLU and its smooth
cousins (GELU, SiLU) replaced the sigmoid in deep networks.
"""

SOFTMAX_EXPLANATION = r"""
### Softmax with temperature
A classifier's last layer gives one score per class, a *logit*. Softmax turns them into
probabilities: $p_i = \dfrac{e^{z_i / T}}{\sum_j e^{z_j / T}}$. The **temperature** $T$ divides
the logits first: $T = 1$ leaves them as they are, $T < 1$ sharpens (at $T = 0$ all the
probability goes to the largest: *argmax*), $T > 1$ flattens towards all-equal.
This is exactly the operation the **Text generation** tab applies to the next-token logits of a
language model: low temperature, safe and repetitive text; high temperature, surprising text.
"""

TRAINING_EXPLANATION = """
### What the choice does to training
The 784-16-16-10 network of the Digits tab, trained three times on the same 8,000 MNIST digits,
with the same initial weights, batches, optimiser and number of steps; only the hidden
activation differs. These curves were recorded by `models/training/train_digits.py`.
"""


def _formulas(names: list[str]) -> str:
    lines = []
    for name in names:
        a = act.FUNCTIONS[name]
        lines.append(f"**{a.label}**: $${a.latex}$$\n{a.note}")
    return "\n\n".join(lines)


def curves_figure(data: dict, show_derivatives: bool, probe_x: float | None,
                  shade: bool) -> go.Figure:
    fig = go.Figure()
    x = data["x"]
    for name, c in data["functions"].items():
        color = FUNCTION_COLORS[name]
        fig.add_trace(go.Scatter(x=x, y=c["y"], name=c["label"], line=dict(color=color, width=3),
                                 hovertemplate=f"{c['label']}(%{{x:.2f}}) = %{{y:.4f}}"
                                               "<extra></extra>"))
        if show_derivatives:
            fig.add_trace(go.Scatter(
                x=x, y=c["dy"], name=f"{c['label']} derivative",
                line=dict(color=color, width=2, dash="dash"),
                hovertemplate=f"{c['label']}′(%{{x:.2f}}) = %{{y:.4f}}<extra></extra>"))
        if shade:
            for x0, x1 in c["saturated"]:
                fig.add_vrect(x0=x0, x1=x1, fillcolor=color, opacity=0.07, line_width=0,
                              layer="below")
    if probe_x is not None and x[0] <= probe_x <= x[-1]:
        fig.add_vline(x=probe_x, line=dict(color=plots.FONT_COLOR, dash="dot"),
                      annotation_text=f"x = {probe_x:g}")
    fig.update_xaxes(title="x (the neuron's input z = w·x + b)")
    fig.update_yaxes(title="f(x)" + (" and f′(x), dashed" if show_derivatives else ""))
    fig.update_layout(hovermode="x unified", legend=dict(orientation="h", y=-0.2))
    title = "Activation functions" + (" and their derivatives" if show_derivatives else "")
    if shade:
        title += " (shaded: saturated, slope < 0.05)"
    return plots.style(fig, height=480, title=title)


def _probe_table(values: dict[str, dict[str, float]], x0: float) -> str:
    rows = [f"| at x = {x0:g} | f(x) | slope f′(x) |", "|---|---:|---:|"]
    for name, v in values.items():
        flag = " (saturated)" if abs(v["slope"]) < act.SATURATION_SLOPE else ""
        rows.append(f"| {act.FUNCTIONS[name].label} | {v['value']:.4f} | "
                    f"{v['slope']:.4f}{flag} |")
    return "\n".join(rows)


def plot_activations(functions, x_min, x_max, show_derivatives=True, alpha=0.1,
                     probe_x=1.0, shade_saturation=True):
    """The figure (one trace per function and per derivative), formulas, and the probe table."""
    try:
        data = act.curves(functions, x_min, x_max, alpha)
        probe_x = float(probe_x) if probe_x is not None else None
        table = _probe_table(act.probe(functions, probe_x, alpha), probe_x) \
            if probe_x is not None else ""
    except (ValueError, TypeError) as e:
        fail(e)
    figure = curves_figure(data, bool(show_derivatives), probe_x, bool(shade_saturation))
    return figure, _formulas(list(data["functions"])), table


def plot_neuron(function, w, b, alpha=0.1):
    try:
        data = act.neuron(function, w, b, alpha=alpha)
    except (ValueError, TypeError) as e:
        fail(e)
    label = act.FUNCTIONS[function].label
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=data["x"], y=data["plain"], name=f"{label}(x)",
                             line=dict(color=plots.FONT_COLOR, dash="dot")))
    fig.add_trace(go.Scatter(x=data["x"], y=data["a"], name=f"a = {label}({w:g}·x + {b:g})",
                             line=dict(color=FUNCTION_COLORS[function], width=3)))
    fig.update_xaxes(title="input x")
    fig.update_yaxes(title="activation a")
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return plots.style(fig, height=360, title="One neuron: w turns and stretches, b shifts")


def softmax(logits, temperature):
    """Comma-separated logits and a temperature -> ({"logit 1 (2.0)": p, ...}, bar chart)."""
    try:
        values = act.parse_logits(logits)
        probs = act.softmax(values, temperature)
    except (ValueError, TypeError) as e:
        fail(e)
    names = [f"#{i + 1} ({v:g})" for i, v in enumerate(values)]
    result = {n: float(p) for n, p in zip(names, probs)}
    t = float(temperature)
    title = "argmax (T = 0)" if t == 0 else f"softmax(logits / {t:g})"
    return result, plots.probability_bars(result, title, "logit")


def training_figures() -> tuple[go.Figure, go.Figure, str]:
    runs = act.training_comparison()
    colors = {"sigmoid": FUNCTION_COLORS["sigmoid"], "tanh": FUNCTION_COLORS["tanh"],
              "relu": FUNCTION_COLORS["relu"]}
    loss, accuracy = go.Figure(), go.Figure()
    for name, run in runs.items():
        label = act.FUNCTIONS[name].label
        loss.add_trace(go.Scatter(x=run["epoch"], y=run["train_loss"], name=label,
                                  line=dict(color=colors[name], width=3)))
        accuracy.add_trace(go.Scatter(x=run["epoch"], y=run["test_accuracy"], name=label,
                                      line=dict(color=colors[name], width=3)))
    loss.update_xaxes(title="epoch")
    loss.update_yaxes(title="training loss (cross-entropy)")
    accuracy.update_xaxes(title="epoch")
    accuracy.update_yaxes(title="accuracy on 1,000 held-out digits", tickformat=".0%")
    some = next(iter(runs.values()))
    summary = " · ".join(f"**{act.FUNCTIONS[n].label}: {r['final_accuracy']:.1%}**"
                         for n, r in runs.items())
    summary = (f"Final held-out accuracy after {some['epochs']} epochs ({some['optimizer']}, "
               f"batch {some['batch_size']}): {summary}")
    return (plots.style(loss, title="Training loss"),
            plots.style(accuracy, title="Held-out accuracy"), summary)


@lru_cache(maxsize=1)
def _initial() -> dict:
    """The figures the tab opens with, computed once however often the app is built (the tests
    build it many times)."""
    return {"curves": plot_activations(DEFAULT, -6, 6, True, 0.1, 1.0, True),
            "neuron": plot_neuron("sigmoid", 1, 0), "softmax": softmax("4, 2, 1, 0.5, -1", 1),
            "training": training_figures()}


def build(on_show=()):  # filled when built: `on_show` is not needed
    initial = _initial()
    gr.Markdown(EXPLANATION, latex_delimiters=LATEX)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            functions = gr.CheckboxGroup(CHOICES, value=DEFAULT, label="Functions",
                                         elem_id="act-functions")
            show_derivatives = gr.Checkbox(True, label="Show derivatives (dashed)")
            shade = gr.Checkbox(True, label="Shade saturated regions")
            with gr.Row():
                x_min = gr.Number(-6, label="x min", minimum=-act.MAX_RANGE,
                                  maximum=act.MAX_RANGE)
                x_max = gr.Number(6, label="x max", minimum=-act.MAX_RANGE,
                                  maximum=act.MAX_RANGE)
            alpha = gr.Slider(0, 1, value=0.1, step=0.01, label="α (Leaky ReLU slope, ELU floor)")
            probe_x = gr.Slider(-10, 10, value=1.0, step=0.1, label="Probe: read f and f′ at x")
        with gr.Column(scale=3):
            first = initial["curves"]
            figure = gr.Plot(first[0], label="Functions", elem_id="act-plot")
            probe_table = gr.Markdown(first[2], elem_id="act-probe")
    formulas = gr.Markdown(first[1], latex_delimiters=LATEX, elem_id="act-formulas")
    inputs = [functions, x_min, x_max, show_derivatives, alpha, probe_x, shade]
    outputs = [figure, formulas, probe_table]
    gr.on([c.change for c in inputs], plot_activations, inputs, outputs,
          api_name="plot_activations", trigger_mode="always_last", show_progress="hidden")

    gr.Markdown("### One neuron: $a = f(w \\cdot x + b)$", latex_delimiters=LATEX)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            neuron_fn = gr.Dropdown(CHOICES, value="sigmoid", label="Activation")
            w = gr.Slider(-5, 5, value=1, step=0.1, label="weight w")
            b = gr.Slider(-5, 5, value=0, step=0.1, label="bias b")
        with gr.Column(scale=3):
            neuron_plot = gr.Plot(initial["neuron"], label="One neuron",
                                  elem_id="act-neuron")
    gr.on([c.change for c in (neuron_fn, w, b, alpha)], plot_neuron, [neuron_fn, w, b, alpha],
          neuron_plot, api_name="neuron", trigger_mode="always_last", show_progress="hidden")

    gr.Markdown(SOFTMAX_EXPLANATION, latex_delimiters=LATEX)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            preset = gr.Dropdown(list(SOFTMAX_EXAMPLES), value=None, label="Example logits")
            logits = gr.Textbox("4, 2, 1, 0.5, -1", label="Logits (comma-separated)",
                                elem_id="softmax-logits")
            temperature = gr.Slider(0, 2, value=1, step=0.05,
                                    label="Temperature T (0 = argmax, 1 = unchanged)",
                                    elem_id="softmax-temperature")
            first = initial["softmax"]
            probabilities = gr.Label(first[0], label="Probabilities", num_top_classes=5)
        with gr.Column(scale=3):
            softmax_plot = gr.Plot(first[1], label="softmax", elem_id="softmax-plot")
    preset.input(lambda name: SOFTMAX_EXAMPLES.get(name, ""), preset, logits,
                 api_visibility="private")
    gr.on([logits.change, temperature.change], softmax, [logits, temperature],
          [probabilities, softmax_plot], api_name="softmax", trigger_mode="always_last",
          show_progress="hidden")

    gr.Markdown(TRAINING_EXPLANATION)
    loss_fig, accuracy_fig, summary = initial["training"]
    gr.Markdown(summary, elem_id="act-training-summary")
    with gr.Row():
        gr.Plot(loss_fig, label="Training loss")
        gr.Plot(accuracy_fig, label="Held-out accuracy")


DEMO = Demo(title="Activation functions", slug="activations", build=build)
