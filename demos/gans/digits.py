"""The GANs tab's digits: the shipped GANs' samples judged by the app's digit CNN and set beside
their nearest training images, a walk between two seeds, the class census, and a small GAN
trained live."""

from __future__ import annotations

import gradio as gr

from demos import forms, live, plots
from demos.messages import fail
from models.gans import digits as gd

DIGITS = f"""## 2. Digits
Two GANs trained here on {{n_train:,}} MNIST training digits (a DCGAN: the forger turns 64
numbers of noise into a 7 × 7 map and upsamples it twice to 28 × 28; the judge does the
reverse; see the README) and shipped. One is **unconditional**: it makes whatever digit its
noise leads to. The other is **conditional**: the digit is an input of both networks, so you can
ask for a 7.

**The referee** is the app's own digit CNN (the Digits tab's), which never saw a fake: under
each sample, what it reads and how sure it is. **Is it copying?** Beside each sample (on the
right of the grey bar) is the nearest of the training digits, with the distance between them
(the root of the summed squared pixel differences, pixels from 0 to 1). No real held-out digit
is nearer than 1.23 to a training digit (the median is 4.8); a copy would be near 0. A sample
nearer than {gd.COPY_DISTANCE:g} is marked."""

CENSUS = f"""**Which digits does it make?** The unconditional forger is never told to make every
digit; if it made only some (**mode collapse**: the forger finds a few fakes that pass and
stays there), classes would be missing here. {gd.CENSUS:,} samples from the seed, read by the
CNN; the bars count every reading, the darker part those read with at least
{gd.CONFIDENT:.0%} confidence."""

LIVE = f"""## 3. Watch one train
A smaller DCGAN ({gd.LIVE_WIDTH} channels, no hidden layer, batches of {gd.LIVE_BATCH}) trained
from scratch on the same digits, here and now: the 16 digits are made from the same fixed noise
at every frame, so you see the forger's ideas change. The CNN reads {gd.LIVE_CENSUS} samples
from fixed noise (once a second while it trains); the histogram counts those it reads with at
least {gd.CONFIDENT:.0%} confidence, by class (the pale bars: every reading, sure or not).
**Diversity** is how different the samples are from each other (the mean distance between pairs
of them), drawn as a share of the training digits' own. At first the forger makes one grey blob,
which the CNN reads as a 4; strokes appear within a few hundred steps, and half the samples are
read as digits after about 1,100 (measured, three seeds: about a minute of Play; each Play
trains for at most {gd.MAX_SECONDS:g} s, so press Play again to go on).

**Provoke mode collapse**: make the forger's learning rate 200 times the judge's (the last
preset). The judge then barely moves, the forger jumps to whatever fools it now, and all the
samples become one blob: diversity falls towards 0 and every reading is one class, a class that
hops as the judge catches up (measured, seed 0, 600 steps: 200 of 200 samples read as one
class, diversity 15 % of the digits', none read as a digit). A forger moderately faster than its
judge (the default) learns fastest here."""

PRESETS = {"Forger 5e-3, judge 1e-3 (the default)": (5e-3, 1e-3),
           "Both 5e-4 (slower)": (5e-4, 5e-4),
           "Forger 2e-2, judge 1e-4 (mode collapse)": (2e-2, 1e-4)}
ANY = "any (unconditional)"


def _digit(choice) -> int | None:
    return None if choice in (None, "", ANY) else choice


def generate_digits(n=16, seed=0, digit=None):
    """n digits from a seed (digit None: unconditional; 0-9: conditional), each read by the CNN
    and beside its nearest training image. Returns ({"images", "cnn", "nearest_distance"}, the
    gallery, a sentence)."""
    try:
        made = gd.generate(n, seed, _digit(digit))
    except ValueError as e:
        fail(e)
    cnn, dist = made["cnn"], made["nearest_distance"]
    out = {"images": [[[round(float(v), 3) for v in row] for row in image]
                      for image in made["images"]],
           "cnn": cnn, "nearest_distance": [round(d, 3) for d in dist]}
    gallery = plots.picture_grid(
        [(plots.gray_png(gd.side_by_side(s, t, scale=2)), _caption(r, d))
         for s, t, r, d in zip(made["images"], made["nearest"], cnn, dist)], min_width=130)
    sure = sum(r["confidence"] >= gd.CONFIDENT for r in cnn)
    asked = made["digit"]
    text = (f"**{sure} of {len(cnn)}** read by the CNN with at least {gd.CONFIDENT:.0%} "
            "confidence" + (f"; {sum(r['digit'] == asked for r in cnn)} read as the {asked} "
                            "asked for" if asked is not None else "")
            + f". Nearest training digit: {min(dist):.2f} at the closest, "
            f"{sorted(dist)[len(dist) // 2]:.2f} typically"
            + (" (no copies)." if min(dist) >= gd.COPY_DISTANCE else
               f": {sum(d < gd.COPY_DISTANCE for d in dist)} nearer than "
               f"{gd.COPY_DISTANCE:g}, marked."))
    return out, gallery, text


def _caption(read: dict, distance: float) -> str:
    copy = " · COPY?" if distance < gd.COPY_DISTANCE else ""
    return f"CNN: {read['digit']} ({read['confidence']:.0%}) · nearest {distance:.2f}{copy}"


def walk_digits(seed_a=0, seed_b=1, digit=None):
    try:
        made = gd.walk(seed_a, seed_b, _digit(digit))
    except ValueError as e:
        fail(e)
    return plots.picture_grid(
        [(plots.gray_png(gd.pixels(image, scale=2)),
          f"{t:.0%}: CNN {r['digit']} ({r['confidence']:.0%})")
         for image, t, r in zip(made["images"], made["t"], made["cnn"])], min_width=64)


def census_figure(seed=0):
    try:
        c = gd.census(gd.check_seed(seed))
    except ValueError as e:
        fail(e)
    x = [str(d) for d in range(10)]
    figure = plots.figure([{"type": "bar", "x": x, "y": c["histogram"], "name": "every reading",
                            "marker": {"color": "rgba(96, 165, 250, 0.35)"},
                            "hovertemplate": "read as %{x}: %{y}<extra></extra>"},
                           {"type": "bar", "x": x, "y": c["confident_histogram"],
                            "name": f"read with ≥ {gd.CONFIDENT:.0%}",
                            "marker": {"color": plots.BASE},
                            "hovertemplate": "read as %{x}, sure: %{y}<extra></extra>"}],
                          height=260, barmode="overlay",
                          title=f"{c['n']:,} samples, read by the CNN",
                          xaxis={"type": "category", "title": {"text": "digit"}},
                          yaxis={"title": {"text": "samples"}},
                          legend={"orientation": "h", "y": -0.3})
    text = (f"{c['classes_present']} of 10 digits present (read with at least "
            f"{gd.CONFIDENT:.0%}); {c['confident']:.0%} of the samples read so surely. "
            f"The nearest any comes to a training digit: {c['nearest_min']:.2f}.")
    return figure, text


# -- live ------------------------------------------------------------------------------------


def samples_figure(state: dict) -> plots.PlotData:
    grid = gd.mosaic(state["samples"], 4)
    notes = [{"x": (i % 4) * 29 + 13.5, "y": (i // 4) * 29 + 27, "showarrow": False,
              "text": f"{r['digit']} {r['confidence']:.0%}", "yanchor": "bottom",
              "font": {"size": 10, "color": "#f97316" if r["confidence"] >= gd.CONFIDENT
                       else "#9ca3af"}}
             for i, r in enumerate(state["cnn"])]
    image = {"type": "heatmap", "z": grid.tolist(), "colorscale": [[0, "black"], [1, "white"]],
             "zmin": 0, "zmax": 1, "showscale": False, "hoverinfo": "skip"}
    return plots.figure([image], height=380, title=f"step {state['step']:,}: 16 fixed noises",
                        annotations=notes, margin=dict(l=10, r=10, t=40, b=10),
                        yaxis={"autorange": "reversed", "scaleanchor": "x", "visible": False},
                        xaxis={"visible": False, "constrain": "domain"})


def live_curves(history: list[dict], real: float) -> plots.PlotData:
    """Losses (left), and shares (right): read as digits, classes present, diversity against
    the training digits' own."""
    steps = [h["step"] for h in history]
    traces = [{"type": "scatter", "mode": "lines", "name": "forger's loss", "x": steps,
               "y": [h["loss_g"] for h in history], "line": {"color": "#9333ea"}},
              {"type": "scatter", "mode": "lines", "name": "judge's loss", "x": steps,
               "y": [h["loss_d"] for h in history], "line": {"color": "#16a34a"}},
              {"type": "scatter", "mode": "lines", "name": "share the CNN reads", "x": steps,
               "y": [h["confident"] for h in history], "yaxis": "y2",
               "line": {"color": plots.ACCENT, "width": 3}},
              {"type": "scatter", "mode": "lines", "name": "classes present (of 10)",
               "x": steps, "y": [h["classes_present"] / 10 for h in history], "yaxis": "y2",
               "line": {"color": plots.BASE, "dash": "dot"}},
              {"type": "scatter", "mode": "lines", "name": "diversity (100 %: the digits')",
               "x": steps, "y": [h["diversity"] / real for h in history], "yaxis": "y2",
               "line": {"color": "#0ea5e9"}}]
    return plots.figure(traces, height=300, title="Losses, and what the referee reads",
                        xaxis={"title": {"text": "step"}},
                        yaxis={"title": {"text": "loss"}},
                        yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero",
                                "tickformat": ".0%", "showgrid": False},
                        legend={"orientation": "h", "y": -0.35},
                        margin=dict(l=40, r=50, t=40, b=40))


def histogram_figure(state: dict) -> plots.PlotData:
    counts, every = state["class_histogram"], state["all_read"]
    x = [str(d) for d in range(10)]
    return plots.figure([{"type": "bar", "x": x, "y": every, "name": "every reading",
                          "marker": {"color": "rgba(96, 165, 250, 0.3)"},
                          "hovertemplate": "read as %{x}: %{y}<extra></extra>"},
                         {"type": "bar", "x": x, "y": counts, "name": "sure",
                          "marker": {"color": plots.BASE},
                          "hovertemplate": "read as %{x}, sure: %{y}<extra></extra>"}],
                        height=240, barmode="overlay", showlegend=False,
                        title=f"What the CNN reads, of {gd.LIVE_CENSUS} samples "
                        f"(dark: ≥ {gd.CONFIDENT:.0%} sure)",
                        xaxis={"type": "category"}, yaxis={"rangemode": "tozero"})


def live_status(state: dict) -> str:
    if state["step"] == 0:
        return "Step 0: the forger makes noise. Press **Play**."
    missing = [str(d) for d, n in enumerate(state["class_histogram"]) if not n]
    text = (f"Step {state['step']:,}: the CNN reads **{state['confident']:.0%}** of the samples "
            f"as digits; {state['classes_present']} classes present"
            + (f" (missing: {', '.join(missing)})" if missing and state["confident"] > 0.1
               else "") + f". Diversity {state['diversity']:.2f} (the training digits': "
            f"{state['real_diversity']:.2f}).")
    top = max(state["all_read"])
    if (state["step"] >= COLLAPSE_AFTER and top >= 0.8 * gd.LIVE_CENSUS
            and state["diversity"] < 0.5 * state["real_diversity"]):
        text += (f"  \n**Mode collapse**: {top} of {gd.LIVE_CENSUS} samples are read as the "
                 f"same class ({state['all_read'].index(top)}).")
    if state.get("steps_per_second"):
        text += f" {state['steps_per_second']:.0f} steps a second."
    if state["status"] == "capped":
        text += f"  \nThis Play reached its {gd.MAX_SECONDS:g} s; press Play to go on."
    if state["status"] == "diverged":
        text += "  \nThe losses became infinite: lower the learning rates and Reset."
    return text


def classes_figure(history: list[dict]) -> plots.PlotData:
    """The class histogram over time: a row per digit, a column per frame."""
    steps = [h["step"] for h in history]
    z = [[h["class_histogram"][d] for h in history] for d in range(10)]
    return plots.figure([{"type": "heatmap", "x": steps, "y": [str(d) for d in range(10)],
                          "z": z, "colorscale": "Blues", "zmin": 0,
                          "colorbar": {"title": {"text": "sure"}, "thickness": 10},
                          "hovertemplate": "step %{x}: %{z} read as %{y}<extra></extra>"}],
                        height=260, title="Classes over time (read with ≥ 80 %)",
                        xaxis={"title": {"text": "step"}},
                        yaxis={"type": "category", "title": {"text": "digit"}})


def live_numbers(state: dict) -> dict:
    return {k: state[k] for k in ("step", "loss_g", "loss_d", "class_histogram")}


def live_frame(run: gd.DigitRun, state: dict | None = None):
    state = state or run.record()
    return (samples_figure(state), live_curves(state["history"], state["real_diversity"]),
            histogram_figure(state), classes_figure(state["history"]), live_status(state),
            live_numbers(state))


LIVE_SHOWN = 6
# Every forger starts as one blob (all samples alike, read as one class): collapse is named only
# once it has had time to learn otherwise.
COLLAPSE_AFTER = 300


def _checked(settings: dict) -> dict:
    try:
        return gd.SETTINGS.check(settings)
    except ValueError as e:
        fail(e)


TRAINER = live.Trainer(gd.DigitRun, _checked, live_frame, shown=LIVE_SHOWN, status=4)


async def train_digit_gan(run=None, **settings):
    """A small digit GAN trained live (gd.SETTINGS as keyword arguments); streams (samples,
    curves, histogram, classes over time, a sentence, then {"step", "loss_g", "loss_d",
    "class_histogram"})."""
    async for shown in TRAINER.train(run, settings):
        yield shown


def prepare(run=None, **settings):
    return TRAINER.prepare(run, settings)


def step_once(run=None, **settings):
    return TRAINER.step_once(run, settings)


def reset(run=None, **settings):
    return TRAINER.reset(run, settings)


def pause(run):
    return TRAINER.pause(run)


def build(on_show=()):
    gr.Markdown(DIGITS.format(n_train=len(gd.training_digits()[1])))
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=240):
            n = gr.Slider(1, gd.MAX_N, value=16, step=1, label="How many", elem_id="gan-n")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed (the noise)",
                             elem_id="gan-digit-seed")
            digit = gr.Dropdown([ANY, *range(10)], value=ANY, label="Digit (conditional GAN)",
                                allow_custom_value=True, elem_id="gan-digit")
            make = gr.Button("Make digits", variant="primary", elem_id="gan-make")
            made_text = gr.Markdown(elem_id="gan-made-text")
        with gr.Column(scale=3, min_width=300):
            gr.Markdown("Each sample, then (right of the grey bar) its nearest training digit:")
            gallery = gr.HTML(elem_id="gan-gallery")
    made_json = gr.JSON(visible=False)
    gr.on([make.click, seed.submit, digit.input, n.release, *on_show], generate_digits,
          [n, seed, digit], [made_json, gallery, made_text], api_name="generate_digits",
          trigger_mode="always_last", show_progress="hidden")

    gr.Markdown("**A walk between two seeds**: the noise goes from one seed's to another's in "
                f"{gd.WALK_FRAMES} even steps; a smooth change means the forger learned a "
                "continuous space of digits, not a list of pictures.")
    with gr.Row():
        seed_a = gr.Number(0, precision=0, minimum=0, label="From seed", elem_id="gan-walk-a")
        seed_b = gr.Number(1, precision=0, minimum=0, label="To seed", elem_id="gan-walk-b")
        walk_digit = gr.Dropdown([ANY, *range(10)], value=ANY, label="Digit",
                                 allow_custom_value=True, elem_id="gan-walk-digit")
    walk = gr.HTML(elem_id="gan-walk")
    gr.on([seed_a.submit, seed_b.submit, walk_digit.input, *on_show], walk_digits,
          [seed_a, seed_b, walk_digit], walk, api_name="walk_digits",
          trigger_mode="always_last", show_progress="hidden")

    gr.Markdown(CENSUS)
    with gr.Row(equal_height=False):
        census_seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="gan-census-seed",
                                scale=1)
        census_text = gr.Markdown(elem_id="gan-census-text")
    census_plot = gr.Plot(label="Class census", elem_id="gan-census")
    gr.on([census_seed.submit, *on_show], census_figure, census_seed, [census_plot, census_text],
          api_name="digit_census", trigger_mode="always_last", show_progress="hidden")

    gr.Markdown(LIVE)
    run = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            preset = gr.Radio(list(PRESETS), value=next(iter(PRESETS)), label="Learning rates",
                              elem_id="gan-live-preset")
            c = {s.name: forms.control(s, elem_id=f"gan-live-{s.name.replace('_', '-')}")
                 for s in gd.SETTINGS}
            play, pause_button, step, reset_button = live.controls("gan-live")
            status = gr.Markdown(elem_id="gan-live-status")
            numbers_json = gr.JSON(label="Numbers", elem_id="gan-live-numbers")
        with gr.Column(scale=2, min_width=300):
            samples = gr.Plot(label="Samples", elem_id="gan-live-samples")
            histogram = gr.Plot(label="Classes", elem_id="gan-live-histogram")
    with gr.Row(equal_height=False):
        curves = gr.Plot(label="Curves", elem_id="gan-live-curves")
        over_time = gr.Plot(label="Classes over time", elem_id="gan-live-classes")
    settings = [c[s.name] for s in gd.SETTINGS]
    shown = [samples, curves, histogram, over_time, status, numbers_json]

    def endpoint(fn):
        return forms.endpoint(gd.SETTINGS, fn)

    inputs = [*settings, run]
    playing = play.click(endpoint(prepare), inputs, run, api_visibility="private",
                         show_progress="hidden").then(
        endpoint(train_digit_gan), inputs, shown, api_name="train_digit_gan", **live.STREAM)
    pause_button.click(pause, run, shown, api_visibility="private", show_progress="hidden")
    step.click(endpoint(step_once), inputs, [*shown, run], cancels=[playing],
               api_visibility="private", show_progress="hidden")
    gr.on([reset_button.click, *[x.submit for x in settings], *on_show], endpoint(reset),
          inputs, [*shown, run], cancels=[playing], api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")
    preset.input(lambda name: PRESETS[name], preset,
                 [c["lr_generator"], c["lr_discriminator"]], api_visibility="private",
                 show_progress="hidden").then(
        endpoint(reset), inputs, [*shown, run], cancels=[playing], api_visibility="private",
        show_progress="hidden")
