"""The Attention tab: what every head of a transformer looks at.

The figures take arrays and token strings, never models (as BertViz's head_view(attention,
tokens) does), so they are tested with made-up arrays."""

from __future__ import annotations

import csv

import gradio as gr
import numpy as np
import plotly.graph_objects as go

from demos import Demo, files, plots
from demos.messages import fail
from demos.plots import ATTENTION_COLORSCALE as COLORSCALE
from demos.plots import thinned, unique_labels
from models import attention, registry

EXAMPLES = [
    "The animal didn't cross the street because it was too tired.",
    "Not bad at all, actually quite enjoyable.",
    "ROMEO.\nBut soft, what light through yonder window breaks?",
    "The keys to the cabinet are on the table.",
]

INTRO = """### Attention: every token looks at the others, in every layer and every head
Each row of a map is one token *attending*: how it spreads its attention (which sums to 1)
over the tokens in the columns. A transformer has several layers, each with several *heads*,
and each head learns its own way of looking."""

EXPLANATION = """
**Causal or bidirectional.** The GPT (a *decoder*, which writes text) lets a token see only
itself and the tokens before it: its maps are **lower triangles**, since the future is not yet
written. The sentiment encoders (BERT) read the whole sentence at once: every token sees every
other, a **full square**. Tick *both kinds side by side* to see the same text through both.

**Patterns to look for** in the overview: heads that look at the *previous token* (a line just
below the diagonal), at the *first token* (a bright first column: a "resting place" when a head
has nothing to do), at the *same word* elsewhere, or at `[CLS]`/`[SEP]`.

**Aggregates.** *Mean of the heads* averages one layer's heads. *Attention rollout* (Abnar &
Zuidema, 2020) follows attention through the layers: each layer's mean map plus the residual
connection (the identity: a token also keeps its own vector), rows renormalised, multiplied
from the first layer to the chosen one; it estimates how much of each input token reaches each
position.

**A caveat.** Attention weights show where information *flows*, not *why* the model decided:
a large weight can carry little, and the values it multiplies matter as much. For what drove a
verdict, see the occlusion view in the Sentiment tab.
"""


def attention_heatmap(tokens: list[str], weights: np.ndarray, title: str = "") -> go.Figure:
    """A T×T map: row = the token attending (from), column = the token attended to (to)."""
    labels = unique_labels(tokens)
    fig = go.Figure(go.Heatmap(
        z=np.asarray(weights, dtype=np.float32), x=labels, y=labels, colorscale=COLORSCALE,
        zmin=0, colorbar=dict(title="weight", thickness=12),
        hovertemplate="from %{y}<br>to %{x}<br>weight %{z:.3f}<extra></extra>"))
    ticks = thinned(labels)
    fig.update_xaxes(type="category", tickvals=ticks, ticktext=ticks, tickangle=-60,
                     title="attended to", showgrid=False)
    fig.update_yaxes(type="category", tickvals=ticks, ticktext=ticks, autorange="reversed",
                     title="attending", showgrid=False, scaleanchor="x")
    size = 560 if len(tokens) <= 64 else 760
    return plots.style(fig, height=size, title=title, margin=dict(l=90, r=20, t=50, b=90))


def overview_figure(thumbnails: np.ndarray, title: str = "") -> go.Figure:
    """All layers × heads as one tiled image of thumbnails (one trace: fast to draw and send).
    thumbnails: (L, H, s, s)."""
    n_layers, n_heads, s, _ = thumbnails.shape
    gap = max(1, s // 8)
    tile = s + gap
    grid = np.full((n_layers * tile - gap, n_heads * tile - gap), np.nan, dtype=np.float32)
    for layer in range(n_layers):
        for head in range(n_heads):
            m = thumbnails[layer, head]
            grid[layer * tile:layer * tile + s, head * tile:head * tile + s] = m / max(
                float(m.max()), 1e-9)  # each thumbnail scaled to its own maximum
    fig = go.Figure(go.Heatmap(z=grid, colorscale=COLORSCALE, showscale=False, zmin=0, zmax=1,
                               hoverinfo="skip"))
    centres = [i * tile + s / 2 for i in range(max(n_layers, n_heads))]
    fig.update_xaxes(tickvals=centres[:n_heads], ticktext=[f"head {h + 1}" for h in
                                                           range(n_heads)],
                     showgrid=False, zeroline=False, side="top")
    fig.update_yaxes(tickvals=centres[:n_layers], ticktext=[f"layer {i + 1}" for i in
                                                            range(n_layers)],
                     autorange="reversed", showgrid=False, zeroline=False, scaleanchor="x")
    return plots.style(fig, height=120 + 75 * n_layers * max(1, 12 // n_heads) // 2,
                       title=title, margin=dict(l=70, r=10, t=90, b=10))


def focus_bars(tokens: list[str], row: np.ndarray, token_index: int) -> go.Figure:
    """One token's attention to all the others, as bars."""
    labels = unique_labels(tokens)
    fig = go.Figure(go.Bar(x=labels, y=np.asarray(row, dtype=np.float32),
                           marker_color=plots.BASE,
                           hovertemplate="to %{x}: %{y:.3f}<extra></extra>"))
    fig.update_xaxes(type="category", tickvals=thinned(labels), tickangle=-60)
    fig.update_yaxes(title="attention weight")
    return plots.style(fig, height=320, title=f"Where “{labels[token_index]}” looks",
                       margin=dict(l=50, r=20, t=50, b=90))



def _csv(tokens: list[str], weights: np.ndarray, name: str) -> str:
    """The map as a CSV table (rows: attending tokens; columns: attended tokens)."""
    rows = [[f"{name}: from \\ to", *tokens]] + [
        [t, *(f"{v:.5f}" for v in row)] for t, row in zip(tokens, np.asarray(weights))]
    path = files.folder("attention-") / "attention.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return str(path)


def _head_choices(n_heads: int) -> list[tuple[str, str]]:
    return [("mean of the heads", "mean"), ("rollout (all layers up to this one)", "rollout")] \
        + [(f"head {h}", str(h)) for h in range(1, n_heads + 1)]


def attention_map(text, model="sentiment-minilm", layer=1, head="mean", focus=None):
    """The heatmap of one layer and head (or "mean" / "rollout"): its z holds the weights (rows
    sum to 1) and its axes the tokens. Then the overview of all heads, the token-focus bars,
    the choices of the focus token, and a sentence."""
    try:
        result = attention.attentions(model, text)
        weights, name = attention.select(result, layer, head)
    except (ValueError, TypeError) as e:
        fail(e)
    tokens = result["tokens"]
    n_layers, n_heads = result["weights"].shape[:2]
    kind = ("causal: each token sees only the past" if result["causal"]
            else "bidirectional: each token sees all")
    heatmap = attention_heatmap(tokens, weights, f"{result['model']}: {name}")
    grid = overview_figure(attention.overview(result["weights"]),
                           f"All {n_layers} layers × {n_heads} heads (each scaled to its own "
                           "maximum; pick one above to enlarge it)")
    choices = [(f"{i}: {t}", i) for i, t in enumerate(unique_labels(tokens))]
    index = focus if isinstance(focus, int) and 0 <= focus < len(tokens) else len(tokens) - 1
    bars = focus_bars(tokens, weights[index], index)
    message = " ".join([f"**{len(tokens)} tokens**, {result['model']} ({kind}); {name}."]
                       + [f"⚠️ {n}" for n in result["notices"]])
    return heatmap, grid, bars, gr.update(choices=choices, value=index), message


def attention_csv(text, model="sentiment-minilm", layer=1, head="mean"):
    """The same map as a CSV file, made when asked for (not on every redraw)."""
    try:
        result = attention.attentions(model, text)
        weights, name = attention.select(result, layer, head)
    except (ValueError, TypeError) as e:
        fail(e)
    return _csv(result["tokens"], weights, name)


def on_model(model, layer, head):
    """New model: the layer slider and the head list follow its shape."""
    try:
        n_layers, n_heads = attention.shape(model)
    except ValueError as e:
        fail(e)
    try:
        attention._index(head, n_heads, "Head")
    except ValueError:  # a head this model does not have (or an aggregate)
        head = head if head in ("mean", "rollout") else "mean"
    return (gr.update(maximum=n_layers, value=min(int(layer or 1), n_layers)),
            gr.update(choices=_head_choices(n_heads), value=head))


def attention_pair(text, both=True):
    """The same text through the bundled GPT (causal) and the default encoder (bidirectional),
    each as the mean of its last layer's heads. Nothing is computed while `both` is off."""
    if not both:
        return gr.skip(), gr.skip()
    figures = []
    for key in (registry.default("generation"), registry.default("sentiment")):
        try:
            result = attention.attentions(key, text)
        except (ValueError, TypeError) as e:
            fail(e)
        n_layers = result["weights"].shape[0]
        weights, name = attention.select(result, n_layers, "mean")
        figures.append(attention_heatmap(result["tokens"], weights, f"{result['model']}: {name}"))
    return tuple(figures)


def build(on_show=()):
    """The tab; `on_show`: the events on which it first fills itself (app.py: the tab being
    selected, or its own page loading), so that no model runs for a visitor who never looks."""
    gr.Markdown(INTRO)
    choices = [(m.description, m.key) for m in attention.models()]
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            text = gr.Textbox(EXAMPLES[0], lines=3, max_lines=10, label="Text",
                              elem_id="att-text")
            gr.Examples([[e] for e in EXAMPLES], [text], label="Examples")
            model = gr.Dropdown(choices, value=choices[0][1], label="Model",
                                elem_id="att-model")
            layer = gr.Slider(1, 6, value=6, step=1, label="Layer", elem_id="att-layer")
            # Custom values pass: an API client may send head=3 or "3"; select() checks them.
            head = gr.Dropdown(_head_choices(12), value="mean", label="Head or aggregate",
                               allow_custom_value=True, elem_id="att-head")
            focus = gr.Dropdown([], label="Focus on one token", elem_id="att-focus")
            message = gr.Markdown(elem_id="att-message")
            csv_button = gr.Button("The map as a table (CSV)", elem_id="att-csv-make")
            download = gr.File(label="CSV", elem_id="att-csv")
        with gr.Column(scale=3, min_width=320):
            heatmap = gr.Plot(label="Attention map", elem_id="att-heatmap")
            bars = gr.Plot(label="One token's attention", elem_id="att-focus-bars")
    overview = gr.Plot(label="Overview: every head", elem_id="att-overview")
    pair_toggle = gr.Checkbox(False, label="Both kinds side by side: the causal GPT and the "
                                           "bidirectional encoder, on the same text",
                              elem_id="att-pair-toggle")
    with gr.Row(visible=False) as pair_row:
        causal = gr.Plot(label="Causal (GPT)", elem_id="att-causal")
        bidirectional = gr.Plot(label="Bidirectional (encoder)", elem_id="att-bidirectional")
    with gr.Accordion("How to read it, and a caveat", open=True):
        gr.Markdown(EXPLANATION)

    outputs = [heatmap, overview, bars, focus, message]
    gr.on([text.change, layer.release, head.change, *on_show],
          attention_map, [text, model, layer, head], outputs, api_name="attention_map",
          trigger_mode="always_last", show_progress="minimal")
    focus.input(attention_map, [text, model, layer, head, focus], outputs,
                api_visibility="private", trigger_mode="always_last", show_progress="hidden")
    model.change(on_model, [model, layer, head], [layer, head], api_visibility="private").then(
        attention_map, [text, model, layer, head], outputs, api_visibility="private")
    csv_button.click(attention_csv, [text, model, layer, head], download, api_name="attention_csv",
                     show_progress="minimal")
    pair_toggle.change(lambda on: gr.update(visible=on), pair_toggle, pair_row,
                       api_visibility="private")
    gr.on([pair_toggle.change, text.change], attention_pair, [text, pair_toggle],
          [causal, bidirectional], api_name="attention_pair", show_progress="minimal")


DEMO = Demo(title="Attention", slug="attention", build=build)
