"""The Quantization tab: how a model's numbers are stored, and what fewer bits cost. Figures
take plain lists from models/quantization.py, never models."""

from __future__ import annotations

import html

import gradio as gr

from demos import Demo, plots
from demos.messages import fail
from models import quantization as quant

NOTES_EXAMPLE = "0.1, -1.5, 3.2, 0.7, -0.4, 2.1, -0.9, 1.3"
FORMAT_NAMES = {"fp32": "FP32", "fp16": "FP16", "bf16": "BF16", "fp8_e4m3": "FP8 E4M3",
                "fp8_e5m2": "FP8 E5M2"}
SIGN, EXPONENT, MANTISSA = "#dc2626", "#2563eb", "#f97316"

INTRO = """### Quantization: how a model's numbers are stored, and what fewer bits cost
A model's size is its number of weights times the bits of each. The bundled GPT has 5.85
million weights: 23.4 MB in FP32 (32 bits each), 11.7 MB in FP16, under 3 MB at 4 bits.
Fewer bits means fewer possible values, so each weight is rounded: how much does the model
lose?"""

FLOATS = """#### 1. Floating point, bit by bit
A float is **sign × 2^exponent × 1.mantissa**. The exponent bits set the *range* (how large
and how small), the mantissa bits the *precision* (how many steps between two powers of 2).
FP32 has 1 + 8 + 23 bits; FP16 1 + 5 + 10 (more precise than BF16, but overflows past
65,504); BF16 1 + 8 + 7 (FP32's range, little precision: training likes that trade); FP8
E4M3 and E5M2 are the 8-bit formats recent GPUs compute in."""

INTEGERS = """#### 2. 8-bit integers, two ways (the notes' example first)
**absmax**: divide by the largest absolute value, times 127, round: with absmax 3.2, a weight of
0.1 becomes round(0.1 × 127 / 3.2) = round(3.97) = **4**, and comes back as 4 × 3.2 / 127 =
**0.1008** (the notes print 1.008: a slip). **zero-point**: scale by 255 / (max − min) and shift
so that the minimum lands on 0: all 256 levels are used even when the numbers are lopsided.
Add an outlier and watch absmax waste its levels: one large value stretches the scale, and
every small number rounds to the same few integers."""

REAL = """#### 3. On our real weights
Quantize the bundled GPT's weight matrices (or the sentiment model's) and look: one matrix's
weights before and after (the histogram of a rounded matrix is a row of spikes, one per
level), the sizes, then what it does to the model: its loss on an excerpt of Julius Caesar
(the play it never saw; nats per character, lower is better), the same prompt continued by
both, and the sentiment model's accuracy on 400 held-out sentences. *Per row* gives every
output unit its own scale: one outlier then spoils only its row. Biases and LayerNorms
(under 1 % of the weights) stay in FP32."""

TRAINING = """#### 4. Round after training (PTQ), or train rounded (QAT)?
**Post-training quantization** trains in float, then rounds the weights: the network never
learned to live with the rounding. **Quantization-aware training** rounds the weights in every
forward pass while it trains (the gradient passes through the rounding as if it were not there,
the *straight-through estimator*), so it learns weights that work once rounded. The Learning
tab's network (three layers of 8, tanh) on its circles, 3,000 steps each from the same start;
weights rounded absmax, one scale per neuron; biases in float."""



def _num(x) -> str:
    if isinstance(x, str):
        return x
    return f"{x:.10g}" if abs(x) >= 1e-4 or x == 0 else f"{x:.6e}"


def bits_html(r: dict) -> str:
    """The bits in colour: sign red, exponent blue, mantissa orange."""
    def box(bits, color, what):
        return "".join(f'<span title="{what}" style="display:inline-block;width:1.05em;'
                       f'text-align:center;background:{color};color:white;margin:0 1px;'
                       f'border-radius:2px;font-family:ui-monospace,monospace">{b}</span>'
                       for b in bits)
    return (box(r["sign"], SIGN, "sign") + "&nbsp;" + box(r["exponent"], EXPONENT,
            f"exponent (bias {r['exponent_bias']})") + "&nbsp;" + box(r["mantissa"], MANTISSA,
                                                                    "mantissa"))


def _note(r: dict) -> str:
    name = FORMAT_NAMES[r["format"]]
    if r["overflow"]:
        becomes = ("infinity" if r["stored"] in ("inf", "-inf") else
                   "NaN" if r["stored"] == "nan" else f"its largest value, {_num(r['stored'])}")
        return f"overflow: past {name}'s largest value ({r['largest']:,.6g}), it becomes {becomes}"
    if r["underflow"]:
        return f"underflow: too small for {name}, it becomes 0"
    if r["subnormal"]:
        return "subnormal: below the smallest normal value, with fewer digits of precision"
    return ""


def formats_html(results: list[dict]) -> str:
    rows = []
    for r in results:
        err = _num(r["error"]) if not isinstance(r["error"], str) else r["error"]
        rows.append(
            f"<tr><td><b>{FORMAT_NAMES[r['format']]}</b></td><td>{bits_html(r)}</td>"
            f"<td>{html.escape(_num(r['stored']))}</td><td>{html.escape(err)}</td>"
            f"<td>{r['largest']:,.6g}</td><td>{r['smallest_normal']:.3g}</td>"
            f"<td>{r['epsilon']:.3g}</td><td>{html.escape(_note(r))}</td></tr>")
    return ('<div style="overflow-x:auto"><table class="np-floats" style="font-size:.92em">'
            "<tr><th>format</th><th>bits: <span style='color:#dc2626'>sign</span> · "
            "<span style='color:#2563eb'>exponent</span> · <span style='color:#f97316'>"
            "mantissa</span></th><th>stored</th><th>error</th><th>largest</th>"
            "<th>smallest normal</th><th>1 → next</th><th></th></tr>" + "".join(rows)
            + "</table></div>")


def float_bits(value, format="fp32"):
    """One format: the JSON, then its row (HTML)."""
    try:
        r = quant.float_bits(value, format)
    except (ValueError, TypeError) as e:
        fail(e)
    return r, formats_html([r])


def all_formats(value):
    try:
        results = [quant.float_bits(value, f) for f in quant.FORMATS]
    except (ValueError, TypeError) as e:
        fail(e)
    return formats_html(results)


def numbers_figure(r: dict):
    """The numbers and what they come back as, on one line, with the grid of levels."""
    xs = list(range(1, len(r["numbers"]) + 1))
    levels = sorted(set((q - r["zero_point"]) * r["scale"] for q in r["quantized"]))
    data = [{"type": "scatter", "mode": "markers", "x": xs, "y": r["numbers"],
             "name": "the numbers", "marker": {"size": 11, "color": plots.FONT_COLOR},
             "hovertemplate": "number %{x}: %{y:.5g}<extra></extra>"},
            {"type": "scatter", "mode": "markers", "x": xs, "y": r["dequantized"],
             "name": f"after {r['bits']}-bit {r['scheme']}",
             "marker": {"size": 9, "color": plots.ACCENT, "symbol": "x"},
             "customdata": r["quantized"],
             "hovertemplate": "number %{x}: integer %{customdata} → %{y:.5g}<extra></extra>"}]
    shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": v, "y1": v,
               "line": {"color": "rgba(138,143,152,0.35)", "width": 1}} for v in levels]
    return plots.figure(data, height=340, shapes=shapes[:300],
                        title=f"{r['levels_used']} of {r['levels']} levels used (grey: the "
                              "levels the numbers landed on)",
                        xaxis={"title": {"text": "number"}, "dtick": 1},
                        yaxis={"title": {"text": "value"}},
                        legend={"orientation": "h", "y": -0.25})


def numbers_markdown(r: dict) -> str:
    b = r["bits"]
    if r["scheme"] == "absmax":
        qmax = 2 ** (b - 1) - 1
        head = (f"absmax = {r['absmax']:.6g}; multiply by {qmax} / absmax = "
                f"**{r['multiplier']:.6g}** (a step of {r['scale']:.6g}); integers from "
                f"−{qmax} to {qmax}.")
        rows = [f"| {x:.6g} | round({x:.6g} × {r['multiplier']:.6g}) = round("
                f"{x * r['multiplier']:.4f}) = **{q}** | {q} / {r['multiplier']:.6g} = "
                f"{d:.4f} | {e:+.4f} |"
                for x, q, d, e in zip(r["numbers"], r["quantized"], r["dequantized"],
                                      r["errors"])]
    else:
        head = (f"min = {r['min']:.6g}, max = {r['max']:.6g} (the range includes 0); multiply "
                f"by (2^{b} − 1) / (max − min) = **{r['multiplier']:.6g}** (a step of "
                f"{r['scale']:.6g}); zero-point = round(−min × {r['multiplier']:.6g}) = "
                f"**{r['zero_point']}**; integers from 0 to {2 ** b - 1}.")
        rows = [f"| {x:.6g} | round({x:.6g} × {r['multiplier']:.6g}) + {r['zero_point']} = "
                f"**{q}** | ({q} − {r['zero_point']}) / {r['multiplier']:.6g} = {d:.4f} | "
                f"{e:+.4f} |"
                for x, q, d, e in zip(r["numbers"], r["quantized"], r["dequantized"],
                                      r["errors"])]
    return (head + f" Largest error **{r['max_error']:.4g}** (half a step at most: "
            f"{r['scale'] / 2:.4g}).\n\n| number | integer | back | error |\n|---:|---|---|---:|\n"
            + "\n".join(rows[:quant.MAX_NUMBERS]))


def quantize_numbers(numbers, bits=8, scheme="absmax"):
    try:
        r = quant.quantize_numbers(numbers, bits, scheme)
    except (ValueError, TypeError) as e:
        fail(e)
    return r, numbers_markdown(r), numbers_figure(r)


def add_outlier(numbers):
    """The list with one large value added (or the notes' example, if the list is unusable)."""
    try:
        values = quant.parse_numbers(numbers)
    except ValueError:
        values = quant.parse_numbers(NOTES_EXAMPLE)
    big = max(abs(v) for v in values) * 15 or 50.0
    return ", ".join(f"{v:g}" for v in values[:quant.MAX_NUMBERS - 1] + [big])


def histogram_figure(view: dict, bits: int, scheme: str, granularity: str):
    data = [{"type": "histogram", "x": view["before"], "name": "FP32, as trained",
             "marker": {"color": plots.FONT_COLOR}, "opacity": 0.6, "nbinsx": 200},
            {"type": "histogram", "x": view["after"],
             "name": f"{bits}-bit {scheme}, per {granularity}", "marker": {"color": plots.ACCENT},
             "opacity": 0.75, "nbinsx": 200}]
    return plots.figure(data, height=360, barmode="overlay",
                        title=f"{view['name']} ({' × '.join(map(str, view['shape']))}): "
                              f"{view['levels']:,} distinct values after, mean squared error "
                              f"{view['mse']:.2e}",
                        xaxis={"title": {"text": "weight"}},
                        yaxis={"title": {"text": "how many"}, "type": "log"},
                        legend={"orientation": "h", "y": -0.25})


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def quantize_model(model="shakespeare-gpt", bits=8, scheme="absmax", granularity="row"):
    """The whole model quantized: JSON, then a sentence with its sizes and quality."""
    try:
        r = quant.quantize_model(model, bits, scheme, granularity)
    except (ValueError, TypeError) as e:
        fail(e)
    size = r["bytes"]
    sizes = (f"Size: {_mb(size['fp32'])} in FP32, {_mb(size['fp16'])} in FP16, "
             f"**{_mb(size['quantized'])}** at {bits} bits ({size['fp32'] / size['quantized']:.1f}"
             f"× smaller than FP32; scales and the FP32 biases counted). Weights' mean squared "
             f"error {r['weight_mse']:.2e}.")
    if "loss_nats_per_char" in r:
        loss, base = r["loss_nats_per_char"], r["baseline"]
        quality = (f"Loss on the held-out excerpt: **{loss:.3f}** nats per character against "
                   f"{base:.3f} in float ({(loss / base - 1):+.1%}).")
    else:
        quality = (f"Accuracy on 400 held-out sentences: **{r['accuracy']:.1%}** against "
                   f"{r['baseline']:.1%} in float.")
    return r, f"{sizes} {quality}"


def matrix_choices(model):
    try:
        names = quant.matrix_names(model)
    except (ValueError, TypeError) as e:
        fail(e)
    return gr.update(choices=names, value=names[0])


def matrix_histogram(model, name, bits, scheme, granularity):
    try:
        view = quant.matrix_view(model, name, bits, scheme, granularity)
    except (ValueError, TypeError) as e:
        fail(e)
    b = view["bytes"]
    sentence = (f"This matrix: {view['weights']:,} weights, {b['fp32']:,} bytes in FP32, "
                f"{b['quantized']:,} at {bits} bits (scales included); largest error "
                f"{view['max_error']:.3g}.")
    return histogram_figure(view, bits, scheme, granularity), sentence


def continuation_html(result: dict) -> str:
    def line(tokens, name):
        spans = []
        for i, t in enumerate(tokens):
            mark = "background:rgba(249,115,22,0.35);" if (
                result["parted"] is not None and i >= result["parted"]) else ""
            spans.append(f'<span style="{mark}">{html.escape(t).replace(chr(10), "↵<br>")}'
                         "</span>")
        return (f'<div style="flex:1;min-width:240px"><b>{name}</b><div style="font-family:'
                f'ui-monospace,monospace;white-space:pre-wrap">{"".join(spans)}</div></div>')
    where = ("they never part" if result["parted"] is None else
             f"they part at token {result['parted'] + 1} (orange from there)")
    return (f'<div>Greedy continuations of the same prompt: {where}.</div>'
            f'<div style="display:flex;gap:16px;flex-wrap:wrap">'
            f'{line(result["original"], "FP32")}{line(result["quantized"], "quantized")}</div>')


def continuation(bits=8, scheme="absmax", granularity="row", prompt="ROMEO.\n"):
    try:
        result = quant.continuation(bits, scheme, granularity, prompt)
    except (ValueError, TypeError) as e:
        fail(e)
    return continuation_html(result)


def real_weights(model, name, bits, scheme, granularity, prompt):
    """The page's view: the matrix, the whole model, and (the GPT) the continuation."""
    hist, matrix_sentence = matrix_histogram(model, name, bits, scheme, granularity)
    _, model_sentence = quantize_model(model, bits, scheme, granularity)
    text = (continuation(bits, scheme, granularity, prompt) if model == "shakespeare-gpt"
            else "<div>(The continuation is the GPT's: pick it above.)</div>")
    return hist, f"{matrix_sentence}\n\n{model_sentence}", text


def boundary_figure(run: dict, data: dict, title: str):
    b = run["boundary"]
    heat = {"type": "heatmap", "x": b["x"], "y": b["x"], "z": b["p"], "zmin": 0, "zmax": 1,
            "colorscale": [[0, "#2563eb"], [0.5, "#f3f4f6"], [1, "#f97316"]],
            "showscale": False, "hovertemplate": "(%{x:.2f}, %{y:.2f}): p(orange) %{z:.2f}"
                                                 "<extra></extra>"}
    points = [{"type": "scatter", "mode": "markers",
               "x": [p[0] for p, y in zip(data["x_test"], data["y_test"]) if y == c],
               "y": [p[1] for p, y in zip(data["x_test"], data["y_test"]) if y == c],
               "marker": {"size": 5, "color": color, "line": {"width": 1, "color": "white"}},
               "name": f"class {c}", "hoverinfo": "skip"}
              for c, color in ((0, "#1d4ed8"), (1, "#c2410c"))]
    return plots.figure([heat, *points], height=360,
                        title=f"{title}: test accuracy {run['test_accuracy']:.1%}",
                        xaxis={"range": [-1.5, 1.5], "showgrid": False, "constrain": "domain"},
                        yaxis={"range": [-1.5, 1.5], "showgrid": False, "scaleanchor": "x"},
                        showlegend=False, margin=dict(l=30, r=10, t=50, b=30))


def ptq_vs_qat(bits=2, dataset="circles"):
    try:
        r = quant.ptq_vs_qat(bits, dataset)
    except (ValueError, TypeError) as e:
        fail(e)
    public = {k: {m: r[k][m] for m in ("train_accuracy", "test_accuracy", "train_loss",
                                       "test_loss")} for k in ("float", "ptq", "qat")}
    public.update(bits=r["bits"], dataset=r["dataset"], steps=r["steps"])
    sentence = (f"At {r['bits']} bits: float {r['float']['test_accuracy']:.1%}, rounded after "
                f"training (PTQ) **{r['ptq']['test_accuracy']:.1%}**, trained rounded (QAT) "
                f"**{r['qat']['test_accuracy']:.1%}** on the test points.")
    return (public, boundary_figure(r["ptq"], r["data"], f"PTQ, {r['bits']} bits"),
            boundary_figure(r["qat"], r["data"], f"QAT, {r['bits']} bits"), sentence)


def build(on_show=()):
    """The tab; `on_show`: the events on which it first fills itself (app.py: the tab being
    selected, or its own page loading), so that no model runs for a visitor who never looks."""
    gr.Markdown(INTRO)
    gr.Markdown(FLOATS)
    value = gr.Textbox("0.1", label="A number", elem_id="q-value")
    formats = gr.HTML(elem_id="q-formats")
    gr.on([value.change, *on_show], all_formats, value, formats, api_visibility="private",
          trigger_mode="always_last", show_progress="hidden")
    with gr.Row(visible=False):  # the API's endpoint: one format at a time
        format_ = gr.Dropdown(list(quant.FORMATS), value="fp32", label="Format")
        one_json, one_html = gr.JSON(), gr.HTML()
    gr.on([format_.change], float_bits, [value, format_], [one_json, one_html],
          api_name="float_bits")

    gr.Markdown(INTEGERS)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            numbers = gr.Textbox(NOTES_EXAMPLE, lines=2, label="Numbers (commas)",
                                 elem_id="q-numbers")
            with gr.Row():
                n_bits = gr.Dropdown(list(quant.BITS), value=8, label="Bits",
                                     elem_id="q-number-bits")
                n_scheme = gr.Radio(list(quant.SCHEMES), value="absmax", label="Scheme",
                                    elem_id="q-number-scheme")
            outlier = gr.Button("Add an outlier", elem_id="q-outlier")
        with gr.Column(scale=3, min_width=300):
            number_plot = gr.Plot(label="Before and after", elem_id="q-number-plot")
    number_steps = gr.Markdown(elem_id="q-number-steps")
    number_json = gr.JSON(visible=False)
    gr.on([numbers.change, n_bits.change, n_scheme.change, *on_show], quantize_numbers,
          [numbers, n_bits, n_scheme], [number_json, number_steps, number_plot],
          api_name="quantize_numbers", trigger_mode="always_last", show_progress="hidden")
    outlier.click(add_outlier, numbers, numbers, api_visibility="private")

    gr.Markdown(REAL)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            model = gr.Radio([("the Shakespeare GPT", "shakespeare-gpt"),
                              ("the sentiment model (MiniLM)", "sentiment-minilm")],
                             value="shakespeare-gpt", label="Model", elem_id="q-model")
            matrix = gr.Dropdown([], label="Weight matrix", allow_custom_value=True,
                                 elem_id="q-matrix")
            with gr.Row():
                bits = gr.Dropdown(list(quant.BITS), value=4, label="Bits", elem_id="q-bits")
                granularity = gr.Radio([("per tensor", "tensor"), ("per row", "row")],
                                       value="row", label="Scale", elem_id="q-granularity")
            scheme = gr.Radio(list(quant.SCHEMES), value="zeropoint", label="Scheme",
                              elem_id="q-scheme")
            prompt = gr.Textbox("ROMEO.\n", label="Prompt (the GPT)", lines=2, elem_id="q-prompt")
            go = gr.Button("Quantize", variant="primary", elem_id="q-go")
        with gr.Column(scale=3, min_width=300):
            histogram = gr.Plot(label="One matrix", elem_id="q-histogram")
            model_result = gr.Markdown(elem_id="q-model-result")
    side_by_side = gr.HTML(elem_id="q-continuation")
    model_json = gr.JSON(visible=False)
    settings = [model, matrix, bits, scheme, granularity, prompt]
    gr.on([model.change, *on_show], matrix_choices, model, matrix,
          api_visibility="private").then(
        real_weights, settings, [histogram, model_result, side_by_side],
        api_visibility="private", concurrency_limit=1, concurrency_id="quantize",
        show_progress="minimal")
    gr.on([go.click, matrix.input], real_weights, settings,
          [histogram, model_result, side_by_side], api_visibility="private",
          concurrency_limit=1, concurrency_id="quantize", show_progress="minimal")
    with gr.Row(visible=False):  # the API's endpoint: the whole model
        api_go = gr.Button()
    api_go.click(quantize_model, [model, bits, scheme, granularity], [model_json, model_result],
                 api_name="quantize_model", concurrency_limit=1, concurrency_id="quantize")

    gr.Markdown(TRAINING)
    with gr.Row():
        q_bits = gr.Dropdown([2, 3, 4], value=2, label="Bits", elem_id="q-qat-bits")
        dataset = gr.Dropdown(list(quant.PTQ_DATASETS), value="circles", label="Data",
                              elem_id="q-qat-data")
    qat_sentence = gr.Markdown(elem_id="q-qat-result")
    with gr.Row():
        ptq_plot = gr.Plot(label="PTQ", elem_id="q-ptq")
        qat_plot = gr.Plot(label="QAT", elem_id="q-qat")
    qat_json = gr.JSON(visible=False)
    gr.on([q_bits.change, dataset.change, *on_show], ptq_vs_qat, [q_bits, dataset],
          [qat_json, ptq_plot, qat_plot, qat_sentence], api_name="ptq_vs_qat",
          concurrency_limit=1, concurrency_id="qat", trigger_mode="always_last",
          show_progress="minimal")


DEMO = Demo(title="Quantization", slug="quantization", build=build)
