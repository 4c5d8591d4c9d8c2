"""The Digits tab: draw a digit and watch two networks read it."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from demos import Demo, gradio_internals, plots
from demos.digits import inside as digits_inside
from demos.messages import fail
from models import digits

EXAMPLES_DIR = Path(__file__).parents[1] / "examples" / "digits"
# Ten held-out MNIST digits, then two drawings that are not digits (made by
# models/training/make_non_digit_fixture.py), to see the honest answer with one click.
NON_DIGITS = [("not-a-digit-letter-A.png", "A drawn letter A, not a digit"),
              ("not-a-digit-star.png", "A drawn star, not a digit")]
EXAMPLES = [str(EXAMPLES_DIR / f"{d}.png") for d in range(10)] + [
    str(EXAMPLES_DIR / name) for name, _ in NON_DIGITS]

INTRO = """### Draw a digit, 0 to 9, and watch two networks read it
The prediction updates with every stroke. No drawing hand? Click one of the held-out MNIST
digits below the canvas."""

EXPLANATION = """
**The classifier.** A **convolutional network** (CNN) reads your drawing and gives a probability
to each of the ten digits. It was trained on {n_train:,} real handwritten MNIST digits and gets
{accuracy:.1%} of {n_test:,} held-out ones right.

**What it actually sees.** Your drawing is turned into what MNIST digits look like: the ink is
cropped, shrunk to fit a 20×20 box, and placed in a 28×28 image so that its centre of mass is in
the middle. Those 784 grey values are all the network gets.

**Inside a tiny network.** The diagram shows a much smaller network, 784 → 16 → 16 → 10, the one
in the classic explanations: each circle is a neuron, its colour how strongly it fires for your
drawing; each line is weight × activation, what one neuron passes to the next (orange pushes
up, blue pushes down). It is less accurate than the CNN, so the two can disagree.

**When it is not sure.** The probabilities always add up to 100 %, even for a scribble: a
classifier has no "none of these" answer, and an ordinary one names nonsense with 99 %
confidence. Ours was also shown thousands of non-digits (noise, scribbles, hatching, and what
people draw to test it: letters, symbols, stars, hearts, arrows) with "I don't know" (equal
probabilities) as the right answer, so it spreads its bets when it should (*outlier exposure*);
and we measure how far your drawing's features lie from those of real digits. Below 80 % we say
"not sure"; when the bets are spread wide or the drawing is far from any digit, we say it does
not look like a digit.
"""

# A Sketchpad starts with no tool selected ("select the draw tool to start"), and clearing it
# deselects the tool again. Select the brush, so that a visitor can draw at once: on page load
# (app.py runs PAGE_JS), after Clear and after an example (not after each stroke: drawing keeps
# the brush). Polls, as the canvas mounts late.
PAGE_JS = """
() => {
  const NON_DIGIT_NAMES = NON_DIGIT_NAMES_JSON;
  let tries = 0;
  const timer = setInterval(() => {
    const brush = document.querySelector('#digit-sketchpad button[aria-label="Brush"]');
    if (brush && !brush.classList.contains("highlight")) brush.click();
    // Name the example buttons for screen readers (gradio renders their images without alt).
    document.querySelectorAll("#digit-examples button.gallery-item").forEach((b, i) =>
      b.setAttribute("aria-label",
                     i < 10 ? `Held-out MNIST digit ${i}` : NON_DIGIT_NAMES[i - 10]));
    // Keep watching for a few seconds: the canvas may mount, or reset its tool, a little later.
    if (++tries > 150) clearInterval(timer);
  }, 100);
}
""".replace("NON_DIGIT_NAMES_JSON", json.dumps([name for _, name in NON_DIGITS]))

# The brush must survive shrinking a ~250 px drawing to 20 px: a thin pen fades to nothing.
BRUSH = gr.Brush(default_size=12, colors=["#000000"], default_color="#000000",
                 color_mode="fixed")
CANVAS = (280, 280)


def network_figure(inside: dict) -> plots.PlotData:
    """The 784-16-16-10 MLP: neurons coloured by activation, links by weight x activation."""
    layers = [inside["hidden1"], inside["hidden2"], inside["output"]]
    names = ["hidden layer 1", "hidden layer 2", "output"]
    xs = [0.0, 1.0, 2.0]

    def ys(n):
        return [(n - 1) / 2 - i for i in range(n)]  # top to bottom, centred on 0

    traces = []
    # Links, bucketed by sign and strength so the figure has a few traces, not 416.
    for contributions, x0, x1, n_in, n_out in ((inside["w2"], 0.0, 1.0, 16, 16),
                                               (inside["w3"], 1.0, 2.0, 16, 10)):
        peak = max((abs(c) for row in contributions for c in row), default=0) or 1.0
        buckets: dict[tuple[bool, int], tuple[list, list]] = {}
        for j, row in enumerate(contributions):
            for i, c in enumerate(row):
                strength = abs(c) / peak
                if strength < 0.08:
                    continue
                key = (c > 0, min(3, int(strength * 4)))
                bx, by = buckets.setdefault(key, ([], []))
                bx += [x0, x1, None]
                by += [ys(n_in)[i], ys(n_out)[j], None]
        for (positive, level), (bx, by) in sorted(buckets.items()):
            colour = "249,115,22" if positive else "96,165,250"
            traces.append({
                "type": "scatter", "x": bx, "y": by, "mode": "lines", "hoverinfo": "skip",
                "showlegend": False,
                "line": {"width": 0.5 + 1.5 * level,
                         "color": f"rgba({colour},{0.25 + 0.2 * level})"}})
    # Neurons. Hidden activations are scaled by their layer's largest, outputs are probabilities.
    for values, x, name in zip(layers, xs, names):
        values = [float(v) for v in values]
        output = name == "output"
        peak = 1.0 if output else max(max(abs(v) for v in values), 1e-6)
        neurons = {
            "type": "scatter", "x": [x] * len(values), "y": ys(len(values)),
            "showlegend": False,
            "marker": {"size": 16, "color": [abs(v) / peak for v in values],
                       "colorscale": plots.colorscale("Oranges"), "cmin": 0, "cmax": 1,
                       "line": {"width": 1, "color": plots.FONT_COLOR}}}
        if output:  # digits labelled with their probability
            neurons.update(mode="markers+text", textposition="middle right",
                           text=[f"  {d}: {v:.0%}" for d, v in enumerate(values)],
                           hovertemplate="digit%{text}<extra></extra>")
        else:
            neurons.update(mode="markers", customdata=[[i, v] for i, v in enumerate(values)],
                           hovertemplate=f"{name}, neuron %{{customdata[0]}}<br>"
                                         "activation %{customdata[1]:.3f}<extra></extra>")
        traces.append(neurons)
    labels = [{"x": x, "y": 8.9, "text": name, "showarrow": False} for x, name in zip(xs, names)]
    labels.append({"x": -0.35, "y": 0, "text": "784<br>pixels<br>→", "showarrow": False})
    act = inside["activation"]
    return plots.figure(traces, height=460, annotations=labels,
                        title=f"Inside a 784-16-16-10 network ({act} neurons)",
                        xaxis={"visible": False, "range": [-0.4, 2.6]},
                        yaxis={"visible": False})


def classify(sketch: dict | None):
    """Sketchpad value -> (confidences, message, probability bars, 28x28 image, network)."""
    if not isinstance(sketch, dict):
        sketch = {}
    try:
        result = digits.classify_sketch(sketch.get("background"), sketch.get("layers"),
                                        sketch.get("composite"))
    except ValueError as e:
        fail(e)
    if result["image"] is None:
        blank = plots.empty("Nothing drawn yet")
        return None, result["message"], blank, blank, plots.empty("Nothing drawn yet", 460)
    verdict = {"confident": "✅", "not sure": "🤔", "not a digit": "⚠️"}[result["verdict"]]
    message = f"{verdict} **{result['message']}**"
    if result["verdict"] != "confident":
        message += (f"  \nDistance from the digits it knows: {result['unfamiliarity']:.2f}× "
                    "what 99 % of real held-out digits stay under.")
    return (
        result["probabilities"],
        message,
        plots.probability_bars(result["probabilities"], "CNN: probability of each digit",
                               "digit"),
        plots.grayscale_image(result["image"].tolist(), "What the network sees (28×28)"),
        network_figure(result["mlp"]),
    )


def build(on_show=()):  # filled when built: `on_show` is not needed
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            sketch = gradio_internals.bounded(gr.Sketchpad(
                label="Draw here", type="numpy", canvas_size=CANVAS, brush=BRUSH, layers=False,
                height=340, width=340, elem_id="digit-sketchpad"))
            clear = gr.ClearButton([sketch], value="Clear", elem_id="digit-clear")
            examples = gr.Examples(EXAMPLES, inputs=sketch, examples_per_page=12,
                                   label="Held-out MNIST digits, and two non-digits (click one)",
                                   elem_id="digit-examples")
        with gr.Column(scale=1, min_width=300):
            label = gr.Label(num_top_classes=3, label="Prediction", elem_id="digit-label")
            message = gr.Markdown("Draw a digit (0-9) on the canvas.", elem_id="digit-message")
            bars = gr.Plot(label="All ten probabilities", elem_id="digit-bars")
        with gr.Column(scale=1, min_width=300):
            seen = gr.Plot(label="28×28 input", elem_id="digit-seen")
    network = gr.Plot(label="Inside the 784-16-16-10 network", elem_id="digit-network")
    digits_inside.build(sketch)
    with gr.Accordion("How it works", open=True):
        log = digits.training_log()
        gr.Markdown(EXPLANATION.format(n_train=log["n_train"], n_test=log["n_test"],
                                       accuracy=log["cnn"]["final_accuracy"]))
    outputs = [label, message, bars, seen, network]
    sketch.change(classify, inputs=sketch, outputs=outputs, api_name="classify_digit",
                  trigger_mode="always_last", show_progress="hidden")
    # Setting the canvas from an example fires no change event: classify on the click itself.
    examples.load_input_event.then(classify, sketch, outputs, api_visibility="private",
                                   show_progress="hidden").then(None, js=PAGE_JS)
    # The ClearButton empties the canvas in the browser; this resets the outputs to match.
    clear.click(lambda: classify(None), outputs=outputs, api_visibility="private",
                show_progress="hidden").then(None, js=PAGE_JS)


DEMO = Demo(title="Digits", slug="digits", build=build, page_js=PAGE_JS)
