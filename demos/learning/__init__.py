"""The Learning tab: gradient descent on a cost of two weights, a network trained live on 2-D
points, and one step of backpropagation seen number by number."""

from __future__ import annotations

import functools
import math
import time

import gradio as gr

from demos import Demo, plots
from demos.learning import network as learning_network
from demos.learning import transformer as learning_transformer
from demos.messages import fail
from models import learning

INTRO = """### How a network learns: down the hill, one step at a time
A network learns by changing its weights to make a **cost** smaller: how wrong it is on the
training examples. Gradient descent does it with one rule: find the **slope** where you stand,
and step the other way."""

HILL_INTRO = """## 1. Down the hill
A cost that depends on just two weights is a landscape you can see. Each step measures the slope
(the arrow points downhill) and moves **learning rate × slope** against it. Try a learning rate
too small (it crawls), too large (it zig-zags, overshoots, or flies off), and momentum, which
keeps some of the last step's speed."""

STEP_INTRO = """## 3. One step, seen
Backpropagation for one training point in a tiny 2-3-2 network: the forward pass, the cost, and
how this one example would like to nudge every weight and bias (the line colours: orange up,
blue down; thickness: how much). Then the average over a batch, and the step. The gradients are
worked out by the chain rule, layer by layer, and checked against torch's autograd."""

EXPLANATION = r"""
**Cost.** One number for how wrong the network is. Here it is the *cross-entropy*: for each
example, $-\ln p$, where $p$ is the probability the network gave the right class (0 when it is
certain and right, large when it is certain and wrong), averaged over the examples.

**Slope (gradient).** For each weight, how much the cost changes when that weight moves a
little: $\partial C / \partial w$. Together, the slopes of all the weights point uphill.

**Gradient descent.** Choose a point, find the slope: if it is > 0, shift to the left; if < 0,
to the right. For all weights at once: $w \leftarrow w - \eta \, \partial C / \partial w$,
where $\eta$ is the **learning rate**. Too small and it crawls; too large and each step jumps
past the bottom of the valley, lands higher up the other side, and the next, steeper slope
throws it further still: the loss blows up.

**Backpropagation** is how the slopes are found: the chain rule, from the cost back to the first
layer. The output layer's error is $p - y$; each layer passes it back through its weights, and
each neuron multiplies it by its activation function's slope $f'(z)$ (the one the Activation
functions tab draws). That is why a flat activation (a step, a saturated sigmoid) stops
learning: a slope of 0 passes nothing back.

**Mini-batches.** How a single training example would like to nudge the weights and biases is
one example's gradient. A true gradient descent step takes the average over all the training
data; **stochastic** gradient descent rapidly steps down the hill with the average of a few
rows (a mini-batch): noisier steps, many more of them for the same work. Batch size 1 is the
noisiest; batch size = all the data is true gradient descent.
"""

BLUE, ORANGE = plots.BASE, plots.ACCENT  # class 0, class 1
HILL_STARTS = {"bowl": (2.4, 1.8, 0.1), "valley": (-3.5, 0.5, 0.4),
               "two_minima": (1.6, 1.5, 0.05)}  # start w1, w2, and a learning rate that works
WIDEST = max(max(abs(v) for v in s.extent) for s in learning.SURFACES.values())


# -- 1. Down the hill ----------------------------------------------------------------------------


@functools.cache
def _grid(surface: str) -> dict:
    """A surface's cost map, computed and rounded for the browser once: it never changes, and
    rounding its 3,721 numbers took a third of each /descend request."""
    grid = learning.cost_grid(surface)
    return {**grid, "w": plots.rounded(grid["w"], 3), "cost": plots.rounded(grid["cost"], 3)}


def hill_figure(grid: dict, result: dict, surface_label: str) -> plots.PlotData:
    """Contour map of the cost (a `cost_grid`, rounded as it should travel) with the path of
    the steps, the minima, and the downhill arrow."""
    w = grid["w"]
    contour = {"type": "contour", "x": w, "y": w, "z": grid["cost"],
               "colorscale": plots.colorscale("Viridis"), "ncontours": 30, "opacity": 0.75,
               "showscale": False, "contours": {"coloring": "heatmap"},
               "hovertemplate": "w1 %{x:.2f}, w2 %{y:.2f}: cost %{z:.3f}<extra></extra>"}
    lo, hi = w[0], w[-1]
    shown = [p for p in result["path"] if all(math.isfinite(v) and lo <= v <= hi for v in p)]
    path = {"type": "scatter", "mode": "lines+markers", "name": "steps",
            "x": plots.rounded([p[0] for p in shown]), "y": plots.rounded([p[1] for p in shown]),
            "customdata": list(range(len(shown))),
            "line": {"color": ORANGE, "width": 2}, "marker": {"color": ORANGE, "size": 6},
            "hovertemplate": "step %{customdata}: w1 %{x:.3f}, w2 %{y:.3f}<extra></extra>"}
    minima = {"type": "scatter", "mode": "markers", "name": "minimum",
              "x": [m["w"][0] for m in grid["minima"]], "y": [m["w"][1] for m in grid["minima"]],
              "marker": {"symbol": "x", "size": 11, "color": "white",
                         "line": {"width": 1, "color": "black"}},
              "hovertemplate": "a minimum: cost %{text}<extra></extra>",
              "text": [f"{m['cost']:.3f}" for m in grid["minima"]]}
    start = {"type": "scatter", "mode": "markers", "name": "start", "x": [result["path"][0][0]],
             "y": [result["path"][0][1]],
             "marker": {"size": 12, "color": ORANGE, "line": {"width": 2, "color": "white"}},
             "hoverinfo": "skip"}
    notes = []
    here, slope = result["path"][-1], result["slopes"][-1]
    size = math.hypot(*slope)
    if all(math.isfinite(v) and lo <= v <= hi for v in here) and math.isfinite(size) and size:
        length = 0.15 * (hi - lo)  # the arrow shows the direction; its label, the size
        tip = [here[0] - slope[0] / size * length, here[1] - slope[1] / size * length]
        notes.append({"x": tip[0], "y": tip[1], "ax": here[0], "ay": here[1], "xref": "x",
                      "yref": "y", "axref": "x", "ayref": "y", "showarrow": True,
                      "arrowhead": 3, "arrowsize": 1.2, "arrowwidth": 2.5, "arrowcolor": "white",
                      "text": f"downhill (slope {size:.2f})", "font": {"color": "white"},
                      "bgcolor": "rgba(0,0,0,0.45)"})
    return plots.figure([contour, path, minima, start], height=440, annotations=notes,
                        title=f"{surface_label}: {result['steps_taken']} steps",
                        margin=dict(l=50, r=10, t=40, b=40),
                        legend={"orientation": "h", "y": -0.12},
                        xaxis={"title": {"text": "w1"}, "range": [lo, hi]},
                        yaxis={"title": {"text": "w2"}, "range": [lo, hi],
                               "scaleanchor": "x"})


def cost_figure(result: dict) -> plots.PlotData:
    costs = [c if math.isfinite(c) else None for c in result["costs"]]
    line = {"type": "scatter", "mode": "lines+markers", "x": list(range(len(costs))),
            "y": plots.rounded(costs, 6), "line": {"color": ORANGE}, "marker": {"size": 5},
            "hovertemplate": "step %{x}: cost %{y:.4g}<extra></extra>"}
    finite = [c for c in costs if c is not None]
    log = bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 1e3
    return plots.figure([line], height=440, title="Cost per step",
                        xaxis={"title": {"text": "step"}},
                        yaxis={"title": {"text": "cost"}, "type": "log" if log else "linear"})


def _hill(surface, result: dict, grid: dict):
    message = f"**{result['message']}**"
    numbers = {k: result[k] for k in ("verdict", "steps_taken", "path", "costs", "slopes")}
    label = learning.SURFACES[surface].label
    return hill_figure(grid, result, label), cost_figure(result), message, numbers


def descend(surface, start_w1, start_w2, learning_rate, momentum, steps):
    """The path of gradient descent on a cost surface: (contour map with the path, cost per
    step, what is happening, the numbers)."""
    try:
        result = learning.descend(surface, start_w1, start_w2, learning_rate, momentum, steps)
    except ValueError as e:
        fail(e)
    return _hill(surface, result, _grid(surface))


def play_descent(surface, start_w1, start_w2, learning_rate, momentum, steps):
    """The same descent drawn step by step, about eight steps a second (computed once)."""
    try:
        frames = learning.descend_step_by_step(surface, start_w1, start_w2, learning_rate,
                                               momentum, steps)
    except ValueError as e:
        fail(e)
    for result in frames:
        yield _hill(surface, result, _grid(surface))
        time.sleep(0.12)


def surface_changed(surface):
    """New surface: its own map, a start that shows its character, a learning rate that works."""
    s = learning.SURFACES.get(surface)
    if s is None:
        return gr.update(), gr.update(), gr.update(), gr.update()
    w1, w2, lr = HILL_STARTS[surface]
    lo, hi = s.extent
    return (gr.update(minimum=lo, maximum=hi, value=w1), gr.update(minimum=lo, maximum=hi,
                                                                 value=w2),
            gr.update(value=lr), f"$${s.formula}$$\n\n{s.note}")


# -- 3. One step, seen ---------------------------------------------------------------------------

PARAMETERS = [("W1", "w", 1), ("b1", "b", 1), ("W2", "w", 2), ("b2", "b", 2)]


def _flat(params: dict) -> list[tuple[str, float, str, tuple]]:
    """(name, value, key, index) for each of the 17 numbers, as the table lists them."""
    rows = []
    for key, kind, layer in PARAMETERS:
        values = params[key]
        if kind == "w":
            for j, row in enumerate(values):
                for i, v in enumerate(row):
                    rows.append((f"w{layer}[{j + 1},{i + 1}]", v, key, (j, i)))
        else:
            for j, v in enumerate(values):
                rows.append((f"b{layer}[{j + 1}]", v, key, (j,)))
    return rows


def _at(tree: dict, key: str, index: tuple) -> float:
    value = tree[key]
    for i in index:
        value = value[i]
    return value


def tiny_figure(params: dict, example: dict) -> plots.PlotData:
    """The 2-3-2 network for one example: neurons with their values, each weight a line
    coloured by the way this example would nudge it (orange up, blue down), as thick as the
    nudge is large."""
    grads = example["gradients"]
    columns = [(0.0, example["x"], "x"), (1.0, example["a1"], "a"), (2.0, example["p"], "p")]

    def ys(n):
        return [(n - 1) / 2 - i for i in range(n)]

    peak = max(abs(v) for key in ("W1", "W2") for row in grads[key] for v in row) or 1.0
    traces, notes = [], []
    for key, x0, x1 in (("W1", 0.0, 1.0), ("W2", 1.0, 2.0)):
        for j, row in enumerate(params[key]):
            for i, w in enumerate(row):
                g = grads[key][j][i]
                n_in, n_out = len(row), len(params[key])
                traces.append({
                    "type": "scatter", "mode": "lines", "showlegend": False,
                    "x": [x0, x1], "y": [ys(n_in)[i], ys(n_out)[j]],
                    "line": {"width": 1 + 7 * abs(g) / peak,
                             "color": ORANGE if g < 0 else BLUE},
                    "hovertemplate": f"{key.lower()}[{j + 1},{i + 1}] = {w:.3f}<br>∂C/∂w = "
                                     f"{g:.4f}: this example wants it "
                                     f"{'up' if g < 0 else 'down'}<extra></extra>"})
                # Labels at different points along lines that leave the same neuron.
                mid = (0.22 + 0.18 * j) if key == "W1" else (0.3 + 0.3 * j)
                notes.append({"x": x0 + mid * (x1 - x0),
                              "y": ys(n_in)[i] + mid * (ys(n_out)[j] - ys(n_in)[i]),
                              "text": f"{g:+.3f}", "showarrow": False,
                              "font": {"size": 10, "color": ORANGE if g < 0 else BLUE},
                              "bgcolor": "rgba(128,128,128,0.15)"})
    labels = {"x": "input", "a": "hidden a = f(z)", "p": "softmax p"}
    for x, values, kind in columns:
        bias = {"a": ("b1", example["z1"]), "p": ("b2", example["z2"])}.get(kind)
        text = []
        for j, v in enumerate(values):
            line = f"{kind}{j + 1} = {v:.3f}"
            if bias:
                line += (f"<br>b = {params[bias[0]][j]:.3f}, "
                         f"∂C/∂b = {grads[bias[0]][j]:+.3f}")
            text.append(line)
        is_label = [kind == "p" and j == example["y"] for j in range(len(values))]
        traces.append({
            "type": "scatter", "mode": "markers+text", "showlegend": False,
            "x": [x] * len(values), "y": ys(len(values)), "text": text,
            "textposition": "bottom center", "textfont": {"size": 11},
            "marker": {"size": 30, "color": [abs(v) for v in values],
                       "colorscale": plots.colorscale("Oranges"), "cmin": 0, "cmax": 1,
                       "line": {"width": [4 if b else 1 for b in is_label],
                                "color": plots.FONT_COLOR}},
            "hoverinfo": "skip"})
        notes.append({"x": x, "y": 1.9, "text": labels[kind], "showarrow": False})
    notes.append({"x": 2.0, "y": -1.9, "showarrow": False,
                  "text": f"right class: {example['y']} ({'orange' if example['y'] else 'blue'})"
                          f" · cost −ln p = {example['cost']:.3f}"})
    return plots.figure(traces, height=430, annotations=notes,
                        title="How this example would like to nudge each weight",
                        xaxis={"visible": False, "range": [-0.35, 2.45]},
                        yaxis={"visible": False, "range": [-2.1, 2.1]})


def _vec(values) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in values) + ")"


def backprop_text(example: dict, result: dict, activation: str, batch: int, lr: float) -> str:
    e = example
    worst = max(abs(_at(result["mean"], key, idx) - _at(result["autograd"], key, idx))
                for _, _, key, idx in _flat(result["mean"]))
    return f"""
**Forward.** x = {_vec(e['x'])}, right class y = {e['y']}.
z¹ = W¹x + b¹ = {_vec(e['z1'])} → a¹ = {activation}(z¹) = {_vec(e['a1'])} →
z² = W²a¹ + b² = {_vec(e['z2'])} → p = softmax(z²) = {_vec(e['p'])}.
**Cost** C = −ln p_y = −ln {e['p'][e['y']]:.3f} = **{e['cost']:.4f}**.

**Backward (the chain rule, last layer first).** ∂C/∂z² = p − onehot(y) = {_vec(e['dz2'])};
∂C/∂W² = ∂C/∂z² · a¹ᵀ. Each hidden neuron's share: ∂C/∂a¹ = W²ᵀ ∂C/∂z² = {_vec(e['da1'])};
through the activation's slope: ∂C/∂z¹ = ∂C/∂a¹ ⊙ {activation}′(z¹) = {_vec(e['dz1'])};
∂C/∂W¹ = ∂C/∂z¹ · xᵀ.

**The step.** The batch: this point and the {batch - 1} after it. Their gradients averaged,
times −η (η = {lr:g}), move every weight: the cost of this point goes
{result['cost_before']['example']:.4f} → **{result['cost_after']['example']:.4f}**, the batch's
mean cost {result['cost_before']['batch']:.4f} → **{result['cost_after']['batch']:.4f}**.
Chain rule vs torch.autograd on the batch: largest difference **{worst:.1e}**.
"""


def step_table(params: dict, result: dict) -> list[list]:
    columns = [result["example"]["gradients"], result["mean"], result["autograd"],
               result["step"], result["new"]]
    return [[name, round(value, 5), *(round(_at(c, key, idx), 5) for c in columns)]
            for name, value, key, idx in _flat(params)]


TABLE_HEADERS = ["parameter", "value", "∂C/∂ (this point)", "batch mean", "autograd (batch)",
                 "step −η·mean", "new value"]


def _seen(dataset, noise, point, batch_size, learning_rate, activation, params):
    """((network figure, the passes in numbers, table), the weights after the step). The 2-3-2
    network has two outputs: with three classes, a regression or your own points chosen
    above, it steps on circles."""
    if dataset in (learning.OWN, *learning.DATASETS, *learning.REGRESSION_SETS) and (
            dataset not in learning.TWO_CLASS_SETS):
        dataset = "circles"
    try:
        data = learning.make_dataset(dataset, noise, 0)
        n = len(data["x_train"])
        point = learning.integer(point, "Training point", 0, n - 1)
        batch_size = learning.integer(batch_size, "Batch size", 1, n)
        activation = learning.choice(activation, "activation", learning.ACTIVATIONS)
        rows = [(point + k) % n for k in range(batch_size)]  # the point and those after it
        result = learning.batch_step(params, data["x_train"][rows], data["y_train"][rows], 0,
                                     learning_rate, activation)
    except ValueError as e:
        fail(e)
    shown = (tiny_figure(params, result["example"]),
             backprop_text(result["example"], result, activation, batch_size,
                           float(learning_rate)),
             step_table(params, result))
    return shown, result["new"]


def backprop_step(dataset, noise, point, batch_size, learning_rate, activation, params=None):
    """One gradient-descent step of the 2-3-2 network, seen from one training point: (network
    figure, the forward and backward pass in numbers, a table of every parameter). The tab
    passes its network; a client gets the seed-0 one."""
    if not isinstance(params, dict):
        params = learning.tiny_network(0)
    shown, _ = _seen(dataset, noise, point, batch_size, learning_rate, activation, params)
    return (*shown, params)


def take_step(dataset, noise, point, batch_size, learning_rate, activation, params=None):
    """Apply the step just shown, then show the next one from the new weights."""
    if not isinstance(params, dict):
        params = learning.tiny_network(0)
    _, new = _seen(dataset, noise, point, batch_size, learning_rate, activation, params)
    return backprop_step(dataset, noise, point, batch_size, learning_rate, activation, new)


def new_tiny(seed, dataset, noise, point, batch_size, learning_rate, activation):
    """A new random 2-3-2 network (the next seed)."""
    seed = int(seed) + 1 if isinstance(seed, int) else 1
    return (seed, *backprop_step(dataset, noise, point, batch_size, learning_rate, activation,
                                 learning.tiny_network(seed)))


# -- the tab -------------------------------------------------------------------------------------


def build(on_show=(), on_load=()):
    """The tab; `on_show`: the events on which it first fills itself (app.py: the tab being
    selected, or its own page loading)."""
    gr.Markdown(INTRO)

    # 1. Down the hill
    gr.Markdown(HILL_INTRO)
    first = learning.SURFACES["bowl"]
    w1, w2, lr0 = HILL_STARTS["bowl"]
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            surface = gr.Dropdown([(s.label, s.name) for s in learning.SURFACES.values()],
                                  value="bowl", label="Cost surface", elem_id="hill-surface")
            formula = gr.Markdown(f"$${first.formula}$$\n\n{first.note}",
                                  latex_delimiters=[{"left": "$$", "right": "$$",
                                                     "display": True}])
            # The widest map's range: a client may start anywhere on the map it asks for (the
            # model checks that); the visitor's sliders narrow to the chosen map's.
            start_w1 = gr.Slider(-WIDEST, WIDEST, value=w1, step=0.05, label="Start w1")
            start_w2 = gr.Slider(-WIDEST, WIDEST, value=w2, step=0.05, label="Start w2")
            hill_lr = gr.Slider(0.001, 1.5, value=lr0, step=0.001,
                                label="Learning rate η (step = η × slope)",
                                elem_id="hill-lr")
            momentum = gr.Slider(0, 0.95, value=0, step=0.05,
                                 label="Momentum (0 = none; 0.9 keeps 90 % of the last step)")
            hill_steps = gr.Slider(0, learning.MAX_DESCENT_STEPS, value=20, step=1,
                                   label="Steps", elem_id="hill-steps")
        with gr.Column(scale=2, min_width=300):
            with gr.Row():
                hill_step = gr.Button("Step +1", size="sm", elem_id="hill-step")
                hill_play = gr.Button("Play", variant="primary", size="sm", elem_id="hill-play")
                hill_reset = gr.Button("Reset", size="sm", elem_id="hill-reset")
            hill_plot = gr.Plot(label="Cost map", elem_id="hill-map")
        with gr.Column(scale=1, min_width=260):
            hill_costs = gr.Plot(label="Cost per step", elem_id="hill-costs")
    hill_message = gr.Markdown(elem_id="hill-message")
    with gr.Accordion("The numbers: path, costs, slopes", open=False):
        hill_numbers = gr.JSON(label="descend", elem_id="hill-numbers")

    # 2. Train a network live
    dataset, noise = learning_network.build(on_show, on_load)

    # 3. One step, seen
    gr.Markdown(STEP_INTRO)
    tiny = gr.State(None)
    tiny_seed = gr.State(0)
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            point = gr.Slider(0, learning.N_TRAIN - 1, value=0, step=1,
                              label="Training point (of the data chosen above)",
                              elem_id="seen-point")
            seen_batch = gr.Slider(1, learning.N_TRAIN, value=4, step=1,
                                   label="Batch: average over this many points",
                                   elem_id="seen-batch")
            seen_lr = gr.Slider(0.01, 5, value=1.0, step=0.01, label="Learning rate η")
            seen_activation = gr.Dropdown([(a.label, a.name) for a in
                                           learning.activations.FUNCTIONS.values()],
                                          value="tanh", label="Activation")
            with gr.Row():
                take = gr.Button("Take the step", variant="primary", size="sm",
                                 elem_id="seen-take")
                fresh = gr.Button("New random network", size="sm", elem_id="seen-new")
        with gr.Column(scale=2, min_width=300):
            tiny_plot = gr.Plot(label="The 2-3-2 network", elem_id="seen-network")
    seen_text = gr.Markdown(elem_id="seen-text")
    table = gr.Dataframe(headers=TABLE_HEADERS, label="Every weight and bias, and its step",
                         interactive=False, elem_id="seen-table")
    with gr.Accordion("How it works", open=False):
        gr.Markdown(EXPLANATION, latex_delimiters=[{"left": "$$", "right": "$$",
                                                    "display": True},
                                                   {"left": "$", "right": "$",
                                                    "display": False}])

    # Events. Down the hill: any change redraws the whole path (a few milliseconds).
    hill_inputs = [surface, start_w1, start_w2, hill_lr, momentum, hill_steps]
    hill_outputs = [hill_plot, hill_costs, hill_message, hill_numbers]
    surface.input(surface_changed, surface, [start_w1, start_w2, hill_lr, formula],
                  api_visibility="private", show_progress="hidden")
    gr.on([c.change for c in hill_inputs] + list(on_show), descend, hill_inputs, hill_outputs,
          api_name="descend", trigger_mode="always_last", show_progress="hidden")
    hill_step.click(lambda k: min(int(k) + 1, learning.MAX_DESCENT_STEPS), hill_steps,
                    hill_steps, api_visibility="private", show_progress="hidden")
    hill_reset.click(lambda: 0, None, hill_steps, api_visibility="private",
                     show_progress="hidden")
    hill_play.click(play_descent, hill_inputs, hill_outputs, api_visibility="private",
                    show_progress="hidden", concurrency_id="learning", concurrency_limit=2)

    # One step, seen.
    seen_inputs = [dataset, noise, point, seen_batch, seen_lr, seen_activation]
    seen_outputs = [tiny_plot, seen_text, table, tiny]
    gr.on([point.change, seen_batch.change, seen_lr.change, seen_activation.change,
           dataset.change, noise.change, *on_show], backprop_step, [*seen_inputs, tiny],
          seen_outputs, api_name="backprop_step", trigger_mode="always_last",
          show_progress="hidden")
    take.click(take_step, [*seen_inputs, tiny], seen_outputs, api_visibility="private",
               show_progress="hidden")
    fresh.click(new_tiny, [tiny_seed, *seen_inputs], [tiny_seed, *seen_outputs],
                api_visibility="private", show_progress="hidden")

    # 4. A transformer learns, live.
    learning_transformer.build(on_show)


DEMO = Demo(title="Learning", slug="learning", build=build,
            # clicks on the plane add points; the trainer's settings come from the address
            page_js=learning_network.CLICK_JS, reads_address=True)
