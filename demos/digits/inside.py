"""The Digits tab's lower half: inside the CNN, on the visitor's own drawing, and what the
networks think a digit looks like. Filled when asked (a button), so that live classification
stays as fast as it is. Figures take arrays from models/digits/inside.py, never models."""

from __future__ import annotations

import html

import gradio as gr
import numpy as np

from demos import plots
from demos.messages import fail
from demos.plots import DIVERGING, maps_figure, tiles, typed

INTRO = """### Inside the convolutional network
A CNN works by "sliding a filter (a kernel) over the input image and computing element-wise
multiplications and summations, which captures local patterns". Below: every layer of the CNN
that classifies your drawing, one output pixel's arithmetic, a kernel of your own, which pixels
mattered to each network, what the small network's first layer looks for, and what the CNN
"thinks" a digit looks like. Press **Look inside** after drawing."""

DREAM_NOTE = """A network trained to *recognise* digits can be asked what input it finds most
like a 3: start from faint noise and change the pixels, step by step, in the direction that
raises the CNN's probability of a 3 (a smoothness penalty keeps neighbouring pixels alike). It
becomes sure, but the picture looks nothing like a handwritten 3: the network learned which
local patterns separate the digits it saw, not what a digit looks like. "Despite identifying
the number, it can never draw them." The small network's verdict on the same picture shows
that two networks read it differently."""



def image_of(sketch) -> np.ndarray:
    """A Sketchpad value -> the 28 x 28 input the networks see (as /classify_digit makes it)."""
    from models import digits

    return digits.image_from_sketch(sketch, "Draw a digit first (or click an example): there "
                                            "is nothing to look inside of.")


def kernels_figure(layer: dict, most: int = 16):
    """A conv layer's kernels (out × in, 3 x 3 each) as small images: conv1's 32 one-channel
    kernels, or for a deeper layer the first `most` × `most` of its (out, in) pairs, each row
    one output map's kernels over its first input maps."""
    kernels = layer["kernels"]
    n_out, n_in = kernels.shape[:2]
    if n_in == 1:
        grid, columns, what = tiles(kernels[:, 0], 8), 8, f"{n_out} kernels of 3 × 3"
    else:
        rows = kernels[:most, :most]  # (o, i, 3, 3)
        grid = tiles(rows.reshape(-1, 3, 3), min(most, n_in))
        columns = min(most, n_in)
        what = (f"{n_out} × {n_in} kernels, {min(most, n_out)} × {columns} shown "
                "(a row: one map's)")
    data = [{"type": "heatmap", "z": typed(grid), "colorscale": DIVERGING, "zmid": 0,
             "showscale": False, "hovertemplate": "weight %{z:.3f}<extra></extra>"}]
    height = 120 + int(300 * grid.shape[0] / max(grid.shape[1], 1) * (1 if n_in == 1 else 1.4))
    return plots.figure(data, height=min(height, 620),
                        title=f"{layer['name'].split(' ')[0]}'s {what}",
                        xaxis={"visible": False, "constrain": "domain"},
                        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
                        margin=dict(l=10, r=10, t=40, b=10))


def image_figure(z, title: str, diverging: bool = False, height: int = 300):
    data = [{"type": "heatmap", "z": typed(np.asarray(z)), "showscale": diverging,
             "colorscale": DIVERGING if diverging else [[0, "black"], [1, "white"]],
             **({"zmid": 0} if diverging else {"zmin": 0, "zmax": 1}),
             "hovertemplate": "row %{y}, column %{x}: %{z:.3f}<extra></extra>"}]
    return plots.figure(data, height=height, title=title,
                        xaxis={"visible": False, "constrain": "domain"},
                        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
                        margin=dict(l=10, r=10, t=40, b=10))


def first_layer_figure(result: dict):
    """The MLP's 16 first-layer neurons: each one's weights as a 28 x 28 picture, with how
    strongly it fires for the drawing in its label."""
    grid = tiles(result["weights"], 4)
    peak = float(np.nanmax(np.abs(grid)))
    data = [{"type": "heatmap", "z": typed(grid), "colorscale": DIVERGING, "zmid": 0,
             "zmin": -peak, "zmax": peak, "showscale": False,
             "hovertemplate": "weight %{z:.3f}<extra></extra>"}]
    notes = [{"x": (k % 4) * 29 + 13.5, "y": (k // 4) * 29 - 1.5, "xref": "x", "yref": "y",
              "text": f"#{k}: {a:.2f}", "showarrow": False, "font": {"size": 10}}
             for k, a in enumerate(result["activations"])]
    return plots.figure(data, height=560, annotations=notes,
                        title=f"The 16 first-layer neurons of the 784-16-16-10 network: weights"
                              f" (blue negative, orange positive) and activation "
                              f"({result['activation']})",
                        xaxis={"visible": False, "constrain": "domain"},
                        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
                        margin=dict(l=10, r=10, t=60, b=10))


def _rounded(a) -> list:
    return np.round(np.asarray(a, dtype=np.float64), 3).tolist()


def digit_layers(sketch, layer="conv1", before=False):
    """JSON of every layer (the first conv layer's maps after ReLU in full), then the chosen
    layer's maps, conv1's kernels, and the probabilities."""
    from models.digits import inside as digit_inside

    try:
        result = digit_inside.layers(image_of(sketch))
    except (ValueError, TypeError) as e:
        fail(e)
    names = [layer_["name"] for layer_ in result["layers"]]
    chosen = next((x for x in result["layers"] if x["name"].startswith(str(layer))),
                  result["layers"][0])
    public = {"input": _rounded(result["input"]), "probabilities": result["probabilities"],
              "layers": [{"name": x["name"], "shape": x["shape"], "maps": _rounded(x["maps"])}
                         for x in result["layers"]]}
    upto = result["layers"][:result["layers"].index(chosen) + 1]
    conv = [x for x in upto if "kernels" in x][-1]  # a pooling or dense layer: the conv before
    return (public, maps_figure(chosen, bool(before)), kernels_figure(conv),
            plots.probability_bars(result["probabilities"], "The CNN's ten probabilities",
                                   "digit"),
            gr.update(choices=names, value=chosen["name"]))


def pixel_markdown(r: dict) -> str:
    rows = []
    for i in range(3):
        rows.append("| " + " | ".join(f"{r['patch'][i][j]:.2f} × {r['kernel'][i][j]:+.3f} = "
                                      f"{r['products'][i][j]:+.3f}" for j in range(3)) + " |")
    return (f"**conv1, map {r['channel']}, pixel (row {r['row']}, column {r['col']})**: the "
            f"kernel over the 3 × 3 patch of the input around it (zeros beyond the edge), "
            f"pixel × weight:\n\n| | | |\n|---|---|---|\n" + "\n".join(rows)
            + f"\n\nsum {r['sum']:+.4f} + bias {r['bias']:+.4f} = **{r['value']:+.4f}**, the "
            f"map's own value there: {r['map_value']:+.4f}; after ReLU, max(0, it) = "
            f"**{r['after_relu']:.4f}**.")


def digit_pixel(sketch, channel=0, row=14, col=14):
    from models.digits import inside as digit_inside

    try:
        r = digit_inside.pixel(image_of(sketch), "conv1", channel, row, col)
    except (ValueError, TypeError) as e:
        fail(e)
    return r, pixel_markdown(r)


def try_kernel(sketch, kernel="vertical edge"):
    from models.digits import inside as digit_inside

    try:
        r = digit_inside.apply_kernel(image_of(sketch), kernel)
    except (ValueError, TypeError) as e:
        fail(e)
    k = "  ".join(" ".join(f"{v:g}" for v in row) for row in r["kernel"])
    return (image_figure(r["output"], f"Your kernel ({k}) slid over the drawing",
                         diverging=True),
            image_figure(r["closest_map"], f"The CNN's most similar kernel: conv1 #{r['closest']}"
                                           f" (cosine {r['cosine']:.2f}), its map",
                         diverging=True))


def digit_saliency(sketch):
    """JSON ({"cnn": 28 x 28, "mlp": 28 x 28, "method"}), then the two maps."""
    from models.digits import inside as digit_inside

    try:
        r = digit_inside.saliency(image_of(sketch))
    except (ValueError, TypeError) as e:
        fail(e)
    public = {"cnn": _rounded(r["cnn"]), "mlp": _rounded(r["mlp"]), "method": r["method"],
              "cnn_label": r["cnn_label"], "mlp_label": r["mlp_label"]}
    return (public,
            image_figure(r["cnn"], f"CNN (says {r['cnn_label']}): gradient × input",
                         diverging=True),
            image_figure(r["mlp"], f"784-16-16-10 (says {r['mlp_label']}): gradient × input",
                         diverging=True))


def first_layer(sketch):
    from models.digits import inside as digit_inside

    try:
        return first_layer_figure(digit_inside.first_layer(image_of(sketch)))
    except (ValueError, TypeError) as e:
        fail(e)


def look_inside(sketch, layer, before):
    """The page's button: every view at once."""
    layers_out = digit_layers(sketch, layer, before)
    _, cnn_map, mlp_map = digit_saliency(sketch)
    return (*layers_out[1:], cnn_map, mlp_map, first_layer(sketch))


def dream_digit(digit=3, steps=300, seed=0):
    """JSON ({"image", "cnn", "mlp"}), then the picture, both verdicts, a sentence."""
    from models.digits import inside as digit_inside

    try:
        r = digit_inside.dream(digit, steps, seed)
    except (ValueError, TypeError) as e:
        fail(e)
    d = str(r["digit"])
    public = {"image": _rounded(r["image"]), "cnn": r["cnn"], "mlp": r["mlp"],
              "digit": r["digit"], "steps": r["steps"], "seed": r["seed"]}
    mlp_best = max(r["mlp"], key=r["mlp"].get)
    sentence = (f"After {r['steps']} steps the CNN says **{d}** with {r['cnn'][d]:.1%}; the "
                f"784-16-16-10 network says {mlp_best} ({r['mlp'][mlp_best]:.0%}; "
                f"{r['mlp'][d]:.0%} for {d}).")
    return (public, image_figure(r["image"], f"What the CNN finds most like a {d}"),
            plots.probability_bars(r["cnn"], "The CNN on it", "digit"),
            plots.probability_bars(r["mlp"], "The 784-16-16-10 network on it", "digit"),
            html.escape(sentence).replace("**", ""))


def build(sketch):
    """The section, under the drawing: its events read the same Sketchpad."""
    with gr.Accordion("Inside the CNN, and what the networks think a digit looks like",
                      open=False, elem_id="digit-inside"):
        gr.Markdown(INTRO)
        with gr.Row():
            look = gr.Button("Look inside", variant="primary", elem_id="digit-look")
            layer = gr.Dropdown(["conv1"], value="conv1", label="Layer",
                                allow_custom_value=True, elem_id="digit-layer")
            before = gr.Checkbox(False, label="Before ReLU", elem_id="digit-before")
        with gr.Row():
            maps = gr.Plot(label="Feature maps", elem_id="digit-maps")
            with gr.Column():
                kernels = gr.Plot(label="Kernels", elem_id="digit-kernels")
                probs = gr.Plot(label="Probabilities", elem_id="digit-cnn-probs")
        layers_json = gr.JSON(visible=False)
        gr.Markdown("#### One output pixel, written out")
        with gr.Row():
            channel = gr.Slider(0, 31, value=0, step=1, label="conv1 map", elem_id="digit-ch")
            row = gr.Slider(0, 27, value=14, step=1, label="row", elem_id="digit-row")
            col = gr.Slider(0, 27, value=14, step=1, label="column", elem_id="digit-col")
        arithmetic = gr.Markdown(elem_id="digit-arithmetic")
        pixel_json = gr.JSON(visible=False)
        gr.Markdown("#### Try a kernel yourself")
        with gr.Row():
            kernel = gr.Dropdown(["vertical edge", "horizontal edge", "blur", "sharpen"],
                                 value="vertical edge", allow_custom_value=True,
                                 label="A classic kernel, or nine numbers (row by row)",
                                 elem_id="digit-kernel")
        with gr.Row():
            yours = gr.Plot(label="Your kernel", elem_id="digit-yours")
            closest = gr.Plot(label="The CNN's most similar", elem_id="digit-closest")
        gr.Markdown("#### Which pixels mattered (gradient × input: a blank pixel scores 0)")
        with gr.Row():
            cnn_map = gr.Plot(label="CNN", elem_id="digit-saliency-cnn")
            mlp_map = gr.Plot(label="MLP", elem_id="digit-saliency-mlp")
        saliency_json = gr.JSON(visible=False)
        gr.Markdown("#### What the first layer of the small network looks for")
        neurons = gr.Plot(label="First-layer weights", elem_id="digit-first-layer")
        gr.Markdown("#### What the network thinks a digit looks like")
        gr.Markdown(DREAM_NOTE)
        with gr.Row():
            digit = gr.Dropdown(list(range(10)), value=3, label="Digit", elem_id="digit-dream-d")
            steps = gr.Slider(10, 500, value=300, step=10, label="Steps",
                              elem_id="digit-dream-steps")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="digit-dream-seed")
            go = gr.Button("Dream it", elem_id="digit-dream-go")
        dream_sentence = gr.Markdown(elem_id="digit-dream-text")
        with gr.Row():
            dreamed = gr.Plot(label="The dream", elem_id="digit-dream")
            dream_cnn = gr.Plot(label="CNN", elem_id="digit-dream-cnn")
            dream_mlp = gr.Plot(label="MLP", elem_id="digit-dream-mlp")
        dream_json = gr.JSON(visible=False)

    # The public endpoints first: a later event of the same function (the page's own, private)
    # gets gradio's suffixed name (digit_pixel_1), and the public names stay as the README has.
    with gr.Row(visible=False):
        api_layers, api_saliency = gr.Button(), gr.Button()
    api_layers.click(digit_layers_json, sketch, layers_json, api_name="digit_layers")
    api_saliency.click(digit_saliency_json, sketch, saliency_json, api_name="digit_saliency")
    gr.on([channel.release, row.release, col.release], digit_pixel, [sketch, channel, row, col],
          [pixel_json, arithmetic], api_name="digit_pixel", show_progress="hidden")
    go.click(dream_digit, [digit, steps, seed],
             [dream_json, dreamed, dream_cnn, dream_mlp, dream_sentence],
             api_name="dream_digit", concurrency_limit=1, concurrency_id="dream",
             show_progress="minimal")
    look.click(look_inside, [sketch, layer, before],
               [maps, kernels, probs, layer, cnn_map, mlp_map, neurons],
               api_visibility="private", show_progress="minimal").then(
        digit_pixel, [sketch, channel, row, col], [pixel_json, arithmetic],
        api_visibility="private").then(
        try_kernel, [sketch, kernel], [yours, closest], api_visibility="private")
    # always_last: a tick of "before ReLU" while the last layer is still drawing is kept, not
    # dropped (gr.on's default for these triggers drops what comes while one runs).
    gr.on([layer.input, before.input], digit_layers, [sketch, layer, before],
          [layers_json, maps, kernels, probs, layer], api_visibility="private",
          trigger_mode="always_last", show_progress="hidden")
    kernel.change(try_kernel, [sketch, kernel], [yours, closest], api_visibility="private",
                  trigger_mode="always_last", show_progress="hidden")


def digit_layers_json(sketch):
    """/digit_layers: {"input", "layers": [{"name", "shape", "maps"}], "probabilities"}."""
    return digit_layers(sketch)[0]


def digit_saliency_json(sketch):
    """/digit_saliency: {"cnn": 28 x 28, "mlp": 28 x 28, "method"}."""
    return digit_saliency(sketch)[0]
