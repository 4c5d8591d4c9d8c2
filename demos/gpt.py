"""The Inside a GPT tab: one forward pass opened up, the logit lens, knock-outs, and the weights
counted by category. The figures take arrays and token strings (from models/gpt.py), never
models, and are written as plotly JSON (plots.figure): a 256-token pass has tens of thousands
of numbers to draw, and go.Figure would validate each."""

from __future__ import annotations

import html

import gradio as gr
import numpy as np

from demos import Demo, plots
from demos.messages import fail
from demos.plots import ATTENTION_COLORSCALE as COLORSCALE
from demos.plots import thinned, unique_labels
from models import gpt

EXAMPLES = [
    "ROMEO.\nBut soft, what light through yonder window breaks?",
    "First Citizen.\nWe are accounted poor citizens, the patricians good.",
    "To be, or not to be, that is the question.",
    "KING HENRY.\nOnce more unto the breach, dear friends, once more;",
]
DIVERGING, typed = plots.DIVERGING, plots.typed

INTRO = """### Inside a GPT: one forward pass, opened up
Type a text and follow it through the model, step by step, as the course notes tell it: each
token becomes a long vector; in **attention** "all the words talk with one another"; in the
**feed-forward** block the vectors "don't talk to each other, they all go through the same
process in parallel, like asking each vector a long list of questions"; and "the last step
produces a long vector with all the possible words and their probabilities". Every number
shown is one the model computed on your text; hover any cell to read it."""

STEP_TOKENS = """#### 1. Tokens, then vectors
The text is cut into **tokens** (each with its id in the vocabulary). Each token id picks a
row of the **token embedding** matrix, and each position a row of the **position embedding**
matrix: their sum is the token's **input vector**. The whole text is now a T × C matrix, one
row of C numbers per token."""

STEP_ATTENTION = """#### 2. Attention: the words talk with one another
Each head turns every token's vector into a **query** (what am I looking for?), a **key**
(what do I contain?) and a **value** (what do I pass on?). The **scores** are every query
against every key, q · k / √d. The **mask** hides the future (grey): a token may look only at
itself and the tokens before it, so those scores become −∞. **Softmax** turns each row into
weights that add up to 1, and each token's output is the **weighted sum of the values**. The
heads' outputs, side by side, go through the **output projection** and are **added back** to
the token's vector (the residual stream)."""

STEP_MLP = """#### 3. The feed-forward block (MLP): a long list of questions
Now the vectors do not talk to each other: every token goes through the same two layers, on its
own. The **up-projection** makes 4 × C numbers (each one neuron: a question asked of the
vector), **GELU** keeps the positive answers and squashes the negative ones towards 0, and the
**down-projection** brings the answers back to C numbers, **added back** to the residual
stream."""

STEP_RESIDUAL = """#### 4. The residual stream: each block adds to the vector
The chosen token's vector after each half of each block. Nothing replaces it: attention and
the MLP each *add* their output to it, and the last vector goes through the **final
LayerNorm**."""

STEP_OUTPUT = """#### 5. The output: every possible token, and its probability
The **unembedding** scores the final vector against every token of the vocabulary: one
**logit** per token. **Softmax** with a temperature turns them into probabilities (the same
operation as in the Text generation tab: 1 = the model's own odds, below 1 sharper, 0 =
greedy)."""

LENS = """### The logit lens: what the model would say if it stopped here
Read the residual stream in the middle of the model with the model's own end (its final
LayerNorm and unembedding): each cell is the top token at that layer and position, coloured by
its probability. Early layers mostly echo the input; the answer forms on the way up. The top
row is the model's own output. Tick *after each half* to split every block into its attention
and its MLP (as the tuned-lens users ask)."""

KNOCK = """### Break a part: knock it out and see what changes
Zero one part and run the same text again: one **attention head** (its output set to 0 before
the output projection), a whole block's **MLP**, or the **position embeddings** (the model
then no longer knows the order of the words). Both runs are one forward pass, side by side.
The layer and head are those chosen above."""

WEIGHTS = """### The weights, counted by category
The course notes' table for GPT-3, "175,181,291,520 weights, organized into 27,938 matrices",
rebuilt from each model's shape, beside the bundled GPT and GPT-2 small."""

COUNTING = """**How this counts.** The notes' total is the eight categories above the line: the
embedding, the query, key and value matrices (counted **one per head**: GPT-3 has 96 layers ×
96 heads × 3 = 27,648 of them), the output projection, the up- and down-projection (one per
layer each) and the unembedding: 96 × 291 + 2 = 27,938 matrices. It **leaves out** the position
embeddings, the LayerNorms' scales and shifts, and every bias: {left_out} more weights for
GPT-3, in the rows below the line. GPT-2 (and the bundled GPT) **ties** the unembedding to the
embedding: one matrix used twice, so its unembedding row adds no weight; the notes count
GPT-3's as a matrix of its own. The bundled GPT's and GPT-2 small's rows are counted from their
actual modules (GPT-2 small built from its published configuration, without its weights);
GPT-3's from its published shape (96 layers, width 12,288, 96 heads of 128, MLP 49,152,
vocabulary 50,257, 2,048 positions)."""



def _heatmap(z, x_axis: str, y_axis: str, hover: str, y=None, x=None, colorscale=None,
             zmid: float | None = 0.0, **extra) -> dict:
    trace = {"type": "heatmap", "z": typed(z), "xaxis": x_axis, "yaxis": y_axis,
             "colorscale": colorscale or DIVERGING, "showscale": False,
             "hovertemplate": hover + "<extra></extra>", **extra}
    if zmid is not None:
        trace["zmid"] = zmid
    if y is not None:
        trace["y"] = y
    if x is not None:
        trace["x"] = x
    return trace


def _axis(domain, anchor, **more) -> dict:
    return {"domain": domain, "anchor": anchor, "showgrid": False, "zeroline": False, **more}


def _title(text: str, x: float, y: float) -> dict:
    return {"text": text, "x": x, "y": y, "xref": "paper", "yref": "paper", "showarrow": False,
            "xanchor": "left", "yanchor": "bottom", "font": {"size": 12}}


def _token_axis(labels: list[str], domain, anchor, show=True) -> dict:
    ticks = thinned(labels)
    return _axis(domain, anchor, type="category", autorange="reversed", tickvals=ticks,
                 ticktext=ticks, showticklabels=show, tickfont={"size": 10})


def _row_box(row: int, x_ref: str, y_ref: str, n: int) -> dict:
    """A rectangle around one row of a heatmap whose categories are 0..n-1 from the top."""
    return {"type": "rect", "xref": f"{x_ref} domain", "yref": y_ref, "x0": 0, "x1": 1,
            "y0": row - 0.5, "y1": row + 0.5, "line": {"color": plots.ACCENT, "width": 2}}


def embedding_figure(tokens, ids, token_vectors, position_vectors, inputs, position):
    """The whole input (T × C), and the chosen token's token vector + position vector =
    input vector as three strips of C numbers."""
    T, C = inputs.shape
    labels = unique_labels(tokens)
    i = position - 1
    strips = np.stack([token_vectors[i], position_vectors[i], inputs[i]])
    names = [f"token vector (id {ids[i]})", f"+ position vector ({position})",
             "= input vector"]
    data = [
        _heatmap(inputs, "x", "y", "token %{y}, dimension %{x}: %{z:.3f}", y=labels),
        _heatmap(strips, "x2", "y2", "%{y}, dimension %{x}: %{z:.3f}", y=names),
    ]
    # In pixels: the T × C matrix (about 16 px a row, within bounds), a gap, the three strips.
    matrix, gap, strip = min(max(16 * T, 140), 600), 40, 90
    plot = matrix + gap + strip
    return plots.figure(
        data, height=plot + 100,
        title=f"Input vectors: T × C = {T} × {C}",
        xaxis=_axis([0, 1], "y", showticklabels=False),
        yaxis=_token_axis(labels, [(strip + gap) / plot, 1], "x"),
        xaxis2=_axis([0, 1], "y2", title={"text": "dimension (0 to C − 1)"}),
        yaxis2=_axis([0, strip / plot], "x2", type="category", autorange="reversed",
                     tickfont={"size": 10}),
        shapes=[_row_box(i, "x", "y", T)],
        annotations=[_title(f"the chosen token, “{labels[i]}”, at position {position}",
                            0, (strip + 4) / plot)],
        margin=dict(l=150, r=10, t=50, b=50))


def attention_figure(tokens, block: dict, mask, head: int, layer: int, position: int):
    """One head, step by step: Q, K, V (T × d), the masked scores, the softmax, and the
    weighted sum of V (T × d), with the chosen token's row outlined."""
    h, i = head - 1, position - 1
    q, k, v = block["q"][h], block["k"][h], block["v"][h]
    T, d = q.shape
    labels = unique_labels(tokens)
    scores = np.where(mask, block["scores"][h], np.nan)
    cols = [[0, 0.3], [0.35, 0.65], [0.7, 1]]
    rows = [[0.58, 0.95], [0, 0.4]]
    dims = list(range(d))
    data = [
        _heatmap(q, "x", "y", "query of %{y}, dimension %{x}: %{z:.3f}", y=labels, x=dims),
        _heatmap(k, "x2", "y2", "key of %{y}, dimension %{x}: %{z:.3f}", y=labels, x=dims),
        _heatmap(v, "x3", "y3", "value of %{y}, dimension %{x}: %{z:.3f}", y=labels, x=dims),
        _heatmap(scores, "x4", "y4", "%{y} → %{x}: q·k/√d = %{z:.3f}", y=labels, x=labels),
        _heatmap(block["attention"][h], "x5", "y5", "%{y} → %{x}: weight %{z:.3f}", y=labels,
                 x=labels, colorscale=COLORSCALE, zmid=None, zmin=0, zmax=1),
        _heatmap(block["heads"][h], "x6", "y6", "output of %{y}, dimension %{x}: %{z:.3f}",
                 y=labels, x=dims),
    ]
    layout = {}
    for n, (col, row) in enumerate([(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)], start=1):
        suffix = "" if n == 1 else str(n)
        square = n in (4, 5)
        layout[f"xaxis{suffix}"] = _axis(cols[col], f"y{suffix}", showticklabels=False,
                                         **({"type": "category"} if square else {}))
        layout[f"yaxis{suffix}"] = _token_axis(labels, rows[row], f"x{suffix}", show=col == 0)
    titles = [f"Q ({T} × {d})", f"K ({T} × {d})", f"V ({T} × {d})", "q·kᵀ/√d, masked",
              "softmax", f"weights · V ({T} × {d})"]
    annotations = [_title(text, cols[n % 3][0], (0.96 if n < 3 else 0.41))
                   for n, text in enumerate(titles)]
    shapes = [_row_box(i, f"x{n}" if n > 1 else "x", f"y{n}" if n > 1 else "y", T)
              for n in (1, 4, 5, 6)]
    # The mask: the cells above the diagonal (the future), one grey staircase over the scores.
    # Along the top, down the right, then left and up each row's edge (row r is masked from
    # column r + 1 on; y grows downwards, row r spans r ± 0.5).
    if T > 1:
        points = [(0.5, -0.5), (T - 0.5, -0.5), (T - 0.5, T - 1.5)]
        for r in range(T - 2, -1, -1):
            points += [(r + 0.5, r + 0.5), (r + 0.5, r - 0.5)]
        path = "M" + " L".join(f"{x:g},{y:g}" for x, y in points) + " Z"
        shapes.append({"type": "path", "xref": "x4", "yref": "y4", "line": {"width": 0},
                       "fillcolor": "rgba(138,143,152,0.45)", "path": path})
    return plots.figure(data, height=560 + min(T, 64) * 4,
                        title=f"Block {layer}, head {head}: attention, step by step",
                        annotations=annotations, shapes=shapes,
                        margin=dict(l=110, r=10, t=60, b=20), **layout)


def mlp_figure(block: dict, position: int, token: str, layer: int):
    """The chosen token through block `layer`'s MLP: in (C), up-projection (4C), GELU (4C),
    down-projection (C); beside them each neuron's answer against its question (the GELU)."""
    i = position - 1
    steps = [("in: the vector after LayerNorm", block["ln_2"][i]),
             ("up-projection: 4 × C questions", block["mlp_pre"][i]),
             ("after GELU: the answers", block["mlp_post"][i]),
             ("down-projection: back to C, added to the stream", block["mlp_out"][i])]
    domains = [[0.82, 0.92], [0.56, 0.66], [0.30, 0.40], [0.04, 0.14]]
    data, layout, annotations = [], {}, []
    for n, ((name, values), dom) in enumerate(zip(steps, domains), start=1):
        suffix = "" if n == 1 else str(n)
        data.append(_heatmap(values[None, :], f"x{suffix}", f"y{suffix}",
                             f"{name.split(':')[0]}, unit %{{x}}: %{{z:.3f}}"))
        layout[f"xaxis{suffix}"] = _axis([0, 0.58], f"y{suffix}", tickfont={"size": 9})
        layout[f"yaxis{suffix}"] = _axis(dom, f"x{suffix}", showticklabels=False)
        annotations.append(_title(f"{name} ({values.size:,})", 0, dom[1] + 0.01))
    pre, post = block["mlp_pre"][i], block["mlp_post"][i]
    data.append({"type": "scattergl", "mode": "markers", "x": typed(pre), "y": typed(post),
                 "xaxis": "x5", "yaxis": "y5", "marker": {"size": 4, "color": plots.BASE},
                 "customdata": typed(np.arange(pre.size)),
                 "hovertemplate": "neuron %{customdata}: question %{x:.3f} → answer "
                                  "%{y:.3f}<extra></extra>"})
    layout["xaxis5"] = _axis([0.68, 1], "y5", title={"text": "question (before GELU)"},
                             showgrid=True)
    layout["yaxis5"] = _axis([0.05, 0.92], "x5", title={"text": "answer (after GELU)"},
                             showgrid=True)
    fired = int((post > 0.5).sum())
    annotations.append(_title(f"each dot a neuron: {fired} of {post.size:,} answer above 0.5",
                              0.68, 0.93))
    return plots.figure(data, height=380, title=f"Block {layer}'s MLP, for “{token}”",
                        annotations=annotations, margin=dict(l=20, r=10, t=60, b=40),
                        showlegend=False, **layout)


def residual_figure(t: dict, position: int):
    """The chosen token's vector along the residual stream: the input, after each half of
    each block, and after the final LayerNorm; its length in each row's name."""
    stream = gpt.residual_stream(t, position)
    names = [f"{name} · ‖x‖ {norm:.1f}" for name, norm in zip(stream["names"], stream["norms"])]
    data = [_heatmap(stream["rows"], "x", "y", "%{y}<br>dimension %{x}: %{z:.3f}", y=names)]
    token = unique_labels(t["tokens"])[position - 1]
    return plots.figure(data, height=160 + 22 * len(names),
                        title=f"The residual stream of “{token}”",
                        xaxis=_axis([0, 1], "y", title={"text": "dimension"}),
                        yaxis=_axis([0, 1], "x", type="category", autorange="reversed",
                                    tickfont={"size": 10}),
                        margin=dict(l=230, r=10, t=50, b=45))


def output_figure(summary: dict, vocabulary: int):
    """The top tokens' logits, and their probabilities after the temperature (and at 1)."""
    top = summary["next_token"]
    labels = [f"{plots.token_label(c['token'])} ·{c['id']}" for c in top]
    highest = max([c["p"] for c in top] + [c["p_model"] for c in top] + [0.05])
    data = [
        {"type": "bar", "x": labels, "y": [c["logit"] for c in top], "xaxis": "x",
         "yaxis": "y", "marker": {"color": plots.FONT_COLOR}, "name": "logit",
         "showlegend": False,
         "hovertemplate": "%{x}: logit %{y:.3f}<extra></extra>"},
        {"type": "bar", "x": labels, "y": [c["p_model"] for c in top], "xaxis": "x2",
         "yaxis": "y2", "marker": {"color": plots.FONT_COLOR}, "opacity": 0.55,
         "name": "the model's own (temperature 1)",
         "hovertemplate": "%{x}: %{y:.2%} at temperature 1<extra></extra>"},
        {"type": "bar", "x": labels, "y": [c["p"] for c in top], "xaxis": "x2", "yaxis": "y2",
         "marker": {"color": [plots.ACCENT] + [plots.BASE] * (len(top) - 1)},
         "name": f"at temperature {summary['temperature']:g}",
         "text": [f"{c['p']:.0%}" if c["p"] >= 0.01 else "" for c in top],
         "textposition": "outside",
         "hovertemplate": "%{x}: %{y:.2%} after the temperature<extra></extra>"},
    ]
    return plots.figure(
        data, height=560, barmode="group",
        title=f"After position {summary['position']}: the top 10 of {vocabulary:,} tokens",
        xaxis=_axis([0, 1], "y", type="category", showticklabels=False),
        yaxis=_axis([0.68, 1], "x", title={"text": "logit"}, showgrid=True),
        xaxis2=_axis([0, 1], "y2", type="category", tickangle=-45),
        yaxis2=_axis([0, 0.5], "x2", title={"text": "probability"}, tickformat=".0%",
                     showgrid=True, range=[0, min(1.2, 1.25 * highest)]),
        legend={"orientation": "h", "y": 0.55, "x": 0, "yanchor": "bottom"},
        margin=dict(l=55, r=10, t=50, b=40))




def tokens_html(tokens: list[str], ids: list[int], position: int) -> str:
    """The text as tokens, numbered from 1, the chosen one outlined; id on hover."""
    spans = []
    for n, (token, i) in enumerate(zip(tokens, ids), start=1):
        shade = "rgba(138,143,152,0.22)" if n % 2 else "rgba(138,143,152,0.42)"
        ring = f"outline:2px solid {plots.ACCENT};" if n == position else ""
        shown = html.escape(token).replace("\n", "↵<br>") or "∅"
        spans.append(f'<span class="np-token" title="position {n} · id {i}" style="background:'
                     f'{shade};{ring}border-radius:3px;margin-right:2px">{shown}'
                     f'<sub style="opacity:.6">{i}</sub></span>')
    return ('<div style="line-height:2.1;font-family:ui-monospace,monospace;'
            f'white-space:pre-wrap;word-break:break-word">{"".join(spans)}</div>')


def inside_gpt(text, model=None, position=None, layer=1, head=1, temperature=1.0):
    """One forward pass: the JSON of the chosen position, layer and head, then the figures
    (input vectors, attention, MLP, residual stream, output), the tokens, a sentence, and the
    position slider (its range follows the text)."""
    try:
        t = gpt.trace(model, text)
        summary = gpt.view(t, position, layer, head, temperature)
    except (ValueError, TypeError) as e:
        fail(e)
    s, p = t["shape"], summary["position"]
    block = t["blocks"][summary["layer"] - 1]
    label = unique_labels(t["tokens"])[p - 1]
    figures = (embedding_figure(t["tokens"], t["ids"], t["token_embedding"],
                                t["position_embedding"], t["input"], p),
               attention_figure(t["tokens"], block, t["mask"], summary["head"],
                                summary["layer"], p),
               mlp_figure(block, p, label, summary["layer"]),
               residual_figure(t, p),
               output_figure(summary, s["V"]))
    top = summary["next_token"][0]
    message = (f"**{s['T']} tokens** through {t['model']} ({s['layers']} blocks × {s['H']} "
               f"heads, C = {s['C']}). After “{label}” (position {p}) the model's top guess is "
               f"“{plots.token_label(top['token'])}” ({top['p']:.0%}).")
    actual = summary["actual_next"]
    if actual:
        message += (f" The text goes on with “{plots.token_label(actual['token'])}”: rank "
                    f"{actual['rank']:,}, {actual['p']:.1%}.")
    message += "".join(f" ⚠️ {n}" for n in summary["notices"])
    return (summary, *figures, tokens_html(t["tokens"], t["ids"], p), message)


def inside_gpt_new_text(text, model, position, layer, head, temperature):
    """A new text or model (the page's own event, not the API's): the pipeline, and the
    position slider's range set to the text's tokens (0 = the last). Only here: a maximum set
    by an API call would hold for that client's next calls too, whatever their text."""
    out = inside_gpt(text, model, position, layer, head, temperature)
    n = len(out[0]["tokens"])
    return (*out, gr.update(maximum=n, value=position if (position or 0) <= n else 0))


def lens_figure(result: dict):
    """Layers × positions: each cell the top token there, coloured by its probability."""
    tokens = unique_labels(result["tokens"])
    top = result["top"]
    z = np.array([[c["p"] for c in row] for row in top], dtype=np.float32)
    words = [[plots.token_label(c["token"]) for c in row] for row in top]
    T = len(tokens)
    trace = {"type": "heatmap", "z": typed(z), "x": tokens, "y": result["layers"],
             "text": words, "colorscale": COLORSCALE, "zmin": 0, "zmax": 1,
             "colorbar": {"title": {"text": "p"}, "thickness": 12},
             "hovertemplate": "%{y}, after “%{x}”: “%{text}” %{z:.1%}<extra></extra>"}
    if T <= 40:  # the words fit in the cells
        trace.update(texttemplate="%{text}", textfont={"size": 10})
    ticks = thinned(tokens)
    return plots.figure([trace], height=140 + 26 * len(result["layers"]),
                        title="The logit lens: the top token after each layer (bottom: the "
                              "input; top: the model's output)",
                        xaxis={"type": "category", "tickvals": ticks, "ticktext": ticks,
                               "tickangle": -60, "showgrid": False},
                        yaxis={"type": "category", "showgrid": False, "tickfont": {"size": 10}},
                        margin=dict(l=140, r=10, t=50, b=90))


def rank_figure(result: dict):
    """For the last position: the rank and probability of the model's final choice, layer by
    layer."""
    final = result["final_token"]
    data = [{"type": "scatter", "mode": "lines+markers", "x": result["layers"],
             "y": result["final_rank"], "name": "rank (1 = top)", "yaxis": "y",
             "line": {"color": plots.BASE},
             "hovertemplate": "%{x}: rank %{y:,}<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "x": result["layers"],
             "y": result["final_p"], "name": "probability", "yaxis": "y2",
             "line": {"color": plots.ACCENT},
             "hovertemplate": "%{x}: %{y:.2%}<extra></extra>"}]
    return plots.figure(data, height=340,
                        title=f"The final choice, “{plots.token_label(final['token'])}”, layer by "
                              "layer (at the last position)",
                        xaxis={"type": "category", "tickangle": -45},
                        yaxis={"type": "log", "title": {"text": "rank"}, "autorange": "reversed"},
                        yaxis2={"overlaying": "y", "side": "right", "range": [0, 1],
                                "tickformat": ".0%", "title": {"text": "probability"},
                                "showgrid": False},
                        legend={"orientation": "h", "y": 1.12, "x": 0},
                        margin=dict(l=55, r=55, t=70, b=90))


def logit_lens(text, model=None, split=False):
    try:
        result = gpt.logit_lens(model, text, split)
    except (ValueError, TypeError) as e:
        fail(e)
    final = result["final_token"]
    ranks = result["final_rank"]
    first = next(n for k, n in enumerate(result["layers"]) if all(r == 1 for r in ranks[k:]))
    message = (f"The model's final choice after the last token is "
               f"“{plots.token_label(final['token'])}” ({final['p']:.0%}); it is the lens's top "
               f"token from **{first}** on." + "".join(f" ⚠️ {n}" for n in result["notices"]))
    return result, lens_figure(result), rank_figure(result), message


def knock_figure(result: dict):
    """Before and after, side by side, over the tokens that were in either top 10."""
    after = {c["id"]: c for c in result["after"]}
    before = {c["id"]: c for c in result["before"]}
    ids = list(before) + [i for i in after if i not in before]
    tokens = {**{i: c["token"] for i, c in after.items()}, **{i: c["token"] for i, c in
                                                              before.items()}}
    labels = [f"{plots.token_label(tokens[i])} ·{i}" for i in ids]

    def p(table, i):
        return table[i]["p"] if i in table else None

    chosen = result["chosen"]["id"]
    data = [{"type": "bar", "x": labels, "y": [p(before, i) for i in ids], "name": "as is",
             "marker": {"color": plots.FONT_COLOR},
             "hovertemplate": "%{x}: %{y:.2%} as is<extra></extra>"},
            {"type": "bar", "x": labels, "y": [p(after, i) for i in ids],
             "name": "knocked out",
             "marker": {"color": [plots.ACCENT if i == chosen else plots.BASE for i in ids]},
             "hovertemplate": "%{x}: %{y:.2%} knocked out<extra></extra>"}]
    return plots.figure(data, height=400, barmode="group",
                        title="The next token, as is (grey) and with the part knocked out",
                        xaxis={"type": "category", "tickangle": -45},
                        yaxis={"tickformat": ".0%", "title": {"text": "probability"}},
                        legend={"orientation": "h", "y": 1.1, "x": 0},
                        margin=dict(l=55, r=10, t=70, b=90))


def knock_out(text, model=None, part="mlp", layer=1, head=1):
    try:
        result = gpt.knock_out(model, text, part, layer, head)
    except (ValueError, TypeError) as e:
        fail(e)
    what = {"head": f"head {result['head']} of block {result['layer']}",
            "mlp": f"the MLP of block {result['layer']}",
            "positions": "the position embeddings"}[result["part"]]
    c = result["chosen"]
    message = (f"With {what} knocked out, the model's choice “{plots.token_label(c['token'])}” "
               f"goes from {c['p_before']:.1%} to {c['p_after']:.1%} ({c['change']:+.1%}); the "
               f"distribution moved by {result['total_variation']:.1%} in all (total "
               f"variation). The new top token: “{plots.token_label(result['after'][0]['token'])}”."
               + "".join(f" ⚠️ {n}" for n in result["notices"]))
    return result, knock_figure(result), message


def weight_counts():
    """The table of weights by category for the bundled GPT, GPT-2 small and GPT-3 175B."""
    counts = gpt.weight_counts()
    keys = ("bundled", "gpt2-small", "gpt3-175b")

    def cell(entry, name):
        c = entry["categories"][name]
        if name == "Unembedding" and entry["tied"]:
            return "tied to Embedding", "(the same)"
        if name in ("LayerNorms", "Biases"):
            return f"{c['weights']:,}", "vectors"
        return f"{c['weights']:,}", f"{c['matrices']:,}"

    rows = []
    for name in gpt.CATEGORIES:
        rows.append([name, *[x for k in keys for x in cell(counts[k], name)]])
    rows.append(["Total, as the notes count", *[x for k in keys for x in (
        f"{counts[k]['total']['weights']:,}", f"{counts[k]['total']['matrices']:,}")]])
    for name in gpt.OTHERS:
        rows.append([name, *[x for k in keys for x in cell(counts[k], name)]])
    rows.append(["All weights", *[x for k in keys for x in (
        f"{counts[k]['all']['weights']:,}", f"{counts[k]['all']['matrices']:,}")]])
    headers = ["category", "bundled GPT: weights", "matrices", "GPT-2 small: weights",
               "matrices", "GPT-3 175B: weights", "matrices"]
    gpt3 = counts["gpt3-175b"]
    note = COUNTING.format(left_out=f"{gpt3['all']['weights'] - gpt3['total']['weights']:,}")
    return counts, {"headers": headers, "data": rows}, note


def _on_model(model, layer, head):
    """A new model: the layer and head sliders follow its shape."""
    try:
        s = gpt.shape(model)
    except ValueError as e:
        fail(e)
    return (gr.update(maximum=s["layers"], value=min(int(layer or 1), s["layers"])),
            gr.update(maximum=s["heads"], value=min(int(head or 1), s["heads"])))


def build(on_show=()):
    """The tab; `on_show`: the events on which it first fills itself (app.py: the tab being
    selected, or its own page loading), so that no model runs for a visitor who never looks."""
    gr.Markdown(INTRO)
    models = gpt.models()
    most_layers, most_heads = gpt.most_layers_and_heads()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            text = gr.Textbox(EXAMPLES[0], lines=3, max_lines=8, label="Text (up to 256 tokens)",
                              elem_id="in-text")
            gr.Examples([[e] for e in EXAMPLES], [text], label="Examples")
        with gr.Column(scale=2, min_width=300):
            model = gr.Dropdown([(m.description, m.key) for m in models], value=models[0].key,
                                label="Model", visible=len(models) > 1, elem_id="in-model")
            position = gr.Slider(0, gpt.MAX_TOKENS, value=0, step=1,
                                 label="Position: the token to follow (0 = the last)",
                                 elem_id="in-position")
            with gr.Row():
                layer = gr.Slider(1, most_layers, value=1, step=1, label="Block (layer)",
                                  elem_id="in-layer")
                head = gr.Slider(1, most_heads, value=1, step=1, label="Head",
                                 elem_id="in-head")
            temperature = gr.Slider(0, 2, value=1.0, step=0.05,
                                    label="Temperature (as in Text generation; 1 = the model's "
                                          "own odds, 0 = greedy)", elem_id="in-temperature")
    message = gr.Markdown(elem_id="in-message")
    tokens = gr.HTML(elem_id="in-tokens")
    gr.Markdown(STEP_TOKENS)
    embed_plot = gr.Plot(label="Token + position = input", elem_id="in-embedding")
    gr.Markdown(STEP_ATTENTION)
    attention_plot = gr.Plot(label="Attention, one head", elem_id="in-attention")
    gr.Markdown(STEP_MLP)
    mlp_plot = gr.Plot(label="The MLP", elem_id="in-mlp")
    gr.Markdown(STEP_RESIDUAL)
    residual_plot = gr.Plot(label="The residual stream", elem_id="in-residual")
    gr.Markdown(STEP_OUTPUT)
    output_plot = gr.Plot(label="Logits and probabilities", elem_id="in-output")
    with gr.Accordion("The numbers (JSON, as the API returns them)", open=False):
        numbers = gr.JSON(elem_id="in-json")

    gr.Markdown(LENS)
    split = gr.Checkbox(False, label="After each half of each block (attention, MLP)",
                        elem_id="in-split")
    lens_message = gr.Markdown(elem_id="in-lens-message")
    lens_plot = gr.Plot(label="Logit lens", elem_id="in-lens")
    rank_plot = gr.Plot(label="The final choice, layer by layer", elem_id="in-rank")
    lens_json = gr.JSON(visible=False)

    gr.Markdown(KNOCK)
    with gr.Row():
        part = gr.Radio([("one attention head", "head"), ("one block's MLP", "mlp"),
                         ("the position embeddings", "positions")], value="mlp",
                        label="Knock out", elem_id="in-part")
        knock_btn = gr.Button("Knock it out", variant="primary", elem_id="in-knock")
    knock_message = gr.Markdown(elem_id="in-knock-message")
    knock_plot = gr.Plot(label="Before and after", elem_id="in-knock-plot")
    knock_json = gr.JSON(visible=False)

    gr.Markdown(WEIGHTS)
    table = gr.Dataframe(interactive=False, wrap=True, max_height=900, elem_id="in-weights")
    counting = gr.Markdown(elem_id="in-counting")
    counts_json = gr.JSON(visible=False)

    outputs = [numbers, embed_plot, attention_plot, mlp_plot, residual_plot, output_plot,
               tokens, message]
    inputs = [text, model, position, layer, head, temperature]
    gr.on([position.release, layer.release, head.release, temperature.release],
          inside_gpt, inputs, outputs, api_name="inside_gpt", trigger_mode="always_last",
          show_progress="minimal")
    gr.on([text.change, *on_show], inside_gpt_new_text, inputs, [*outputs, position],
          api_visibility="private", trigger_mode="always_last", show_progress="minimal")
    model.change(_on_model, [model, layer, head], [layer, head], api_visibility="private").then(
        inside_gpt_new_text, inputs, [*outputs, position], api_visibility="private")
    if len(models) > 1:  # the sliders were built for the largest model offered
        gr.on([*on_show], _on_model, [model, layer, head], [layer, head],
              api_visibility="private")
    gr.on([text.change, model.change, split.change, *on_show], logit_lens, [text, model, split],
          [lens_json, lens_plot, rank_plot, lens_message], api_name="logit_lens",
          trigger_mode="always_last", show_progress="minimal")
    gr.on([knock_btn.click, part.change, *on_show], knock_out, [text, model, part, layer, head],
                    [knock_json, knock_plot, knock_message], api_name="knock_out",
                    show_progress="minimal")
    gr.on([*on_show], weight_counts, None, [counts_json, table, counting],
          api_name="weight_counts", show_progress="hidden")


DEMO = Demo(title="Inside a GPT", slug="inside", build=build)
