"""The GANs tab: a forger and a judge on the plane (as GAN Lab), then on digits
(demos/gans/digits.py: the shipped GANs judged by the app's CNN, and one trained live), and a GAN
beside GPT."""

from __future__ import annotations

import math

import gradio as gr

from demos import Demo, forms, live, plots
from demos.gans import digits
from demos.messages import fail
from models import gans
from models.runner import TRAIN_SHARE

INTRO = """# Generative adversarial networks
A **GAN** is two networks trained against each other. The **generator** (the forger, G) turns
random noise into samples; the **discriminator** (the judge, D) is shown real samples and the
forger's fakes and learns to tell them apart. Each step, the judge gets a little better at
spotting fakes, then the forger changes its fakes in the direction that fools the judge a little
more. Neither is ever shown what a good sample is: the forger learns only from the judge's
verdicts. When it works, the fakes end up spread like the real data."""

PLANE = f"""## 1. On the plane
The real data is a cloud of points (green). The forger takes noise, points spread evenly over a
square, and moves them (purple). The background is the judge: **green where it believes points
are real, purple where it believes they are fake**. The thin lines are a grid of the noise square
as the forger bends it: where the forger stretches the square, its fakes are sparse. Each fake's
**arrow** is the direction in which the forger's loss pushes it (minus the gradient of its loss
with respect to the point), drawn at {gans.ARROW_SCALE:g} × its length: the forger moves its
fakes uphill on the judge's map.

Each **step** trains the judge on fresh batches of {gans.BATCH} real points and fakes
(*Judge's steps* times), then the forger once; both by Adam (β₁ = {gans.BETAS[0]}). The **loss**:
*minimax* is the original game (the forger minimises log(1 − D(G(z)))): when the judge rejects a
fake with confidence, that loss is flat, and its arrow nearly vanishes; *non-saturating* (the
forger maximises log D(G(z)), the usual choice) is steep exactly there; *least squares* pulls the
judge's score to 1 on real points and 0 on fakes, and the forger's to 1.

The **distance** is the earth mover's distance between {gans.EVAL} fakes and {gans.EVAL} real
points: pair every fake with a real point so that the average distance between partners is as
small as it can be, and report that average (in the plane's units; the data spans about 2). It is
0 only if the fakes sit on the real points; two samples of the real data itself are never quite 0
apart (the floor, shown). Unlike the KL and JS divergences GAN Lab shows, it needs no
histogram and does not saturate when the two clouds do not overlap. Try: *Four Gaussians* with
the forger's rate at 0.01 (the fakes pile onto one or two hills: **mode collapse**); *minimax*
(watch the arrows); *Drawn by you* (tick *Click to add points* and click on the plane)."""

GAN_AND_GPT = """## 4. A GAN and GPT, side by side
Both are **generative models**: they make new samples like their training data. They make them
in opposite ways. A GAN makes **a whole sample at once**: one pass of the generator turns one
noise vector into a complete digit; there is no order and no going back, and nothing says how
likely the sample was. GPT makes text **one token at a time**: each step it computes a probability
for every possible next token, picks one, appends it, and feeds the longer text back in; it was
trained to predict the next token of real text (the loss is how surprised it was), not by a judge.
So GPT can tell how probable a text is, and a GAN cannot; a GAN's sample costs one pass, GPT's
costs one pass per token. Watch GPT do it in the <a href="/?tab=generation">Text generation</a>
tab."""

SIDE_BY_SIDE_SVG = """
<svg viewBox="0 0 360 250" role="img" aria-label="A GAN makes a whole digit from noise in one
pass; GPT makes text one token at a time, each token fed back in" style="width:100%;
max-width:480px;height:auto;font-family:sans-serif;font-size:14px" fill="currentColor">
 <defs><marker id="np-gan-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6"
  markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#8a8f98"/>
 </marker></defs>
 <text x="4" y="18" font-weight="bold">A GAN: one pass, the whole sample</text>
 <rect x="4" y="32" width="76" height="44" rx="6" fill="none" stroke="#8a8f98"/>
 <text x="16" y="59">noise z</text>
 <path d="M84 54h30" stroke="#8a8f98" marker-end="url(#np-gan-arrow)"/>
 <rect x="118" y="32" width="100" height="44" rx="6" fill="none" stroke="#f97316"/>
 <text x="132" y="59">generator</text>
 <path d="M222 54h30" stroke="#8a8f98" marker-end="url(#np-gan-arrow)"/>
 <rect x="258" y="28" width="52" height="52" fill="#111"/>
 <text x="273" y="66" fill="#fff" font-size="32">7</text>
 <text x="4" y="122" font-weight="bold">GPT: a token at a time, each fed back</text>
 <rect x="4" y="136" width="96" height="44" rx="6" fill="none" stroke="#8a8f98"/>
 <text x="12" y="163">"To be, or"</text>
 <path d="M104 158h30" stroke="#8a8f98" marker-end="url(#np-gan-arrow)"/>
 <rect x="138" y="136" width="64" height="44" rx="6" fill="none" stroke="#60a5fa"/>
 <text x="154" y="163">GPT</text>
 <path d="M206 158h30" stroke="#8a8f98" marker-end="url(#np-gan-arrow)"/>
 <text x="242" y="152">p(next token)</text>
 <text x="242" y="172">→ " not"</text>
 <path d="M270 180v26H52v-22" fill="none" stroke="#60a5fa" stroke-dasharray="4 3"
       marker-end="url(#np-gan-arrow)"/>
 <text x="60" y="232" font-size="13">"To be, or not" goes back in, for the next token</text>
</svg>"""

REAL, FAKE = "#16a34a", "#9333ea"
HEAT_SCALE = [[0.0, "#c4b5fd"], [0.5, "#f3f4f6"], [1.0, "#86efac"]]
SHOWN = 4  # the stream's outputs: plane, curves, status, numbers


def plane_figure(state: dict) -> plots.PlotData:
    """The judge's heatmap, the real points, the noise grid's image, the fakes and their
    arrows."""
    heat = state["heatmap"]
    traces = [{"type": "heatmap", "x": heat["axis"], "y": heat["axis"], "z": heat["d"],
               "zmin": 0, "zmax": 1, "colorscale": HEAT_SCALE, "opacity": 0.85,
               "colorbar": {"title": {"text": "D: real?"}, "thickness": 10, "len": 0.8},
               "hovertemplate": "D(%{x:.2f}, %{y:.2f}) = %{z:.2f}<extra></extra>"}]
    xs, ys = [], []
    for line in state["noise_grid"]:
        xs += [p[0] for p in line] + [None]
        ys += [p[1] for p in line] + [None]
    traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": "noise grid",
                   "line": {"color": "rgba(120, 120, 130, 0.45)", "width": 1},
                   "hoverinfo": "skip"})
    real = state["real"]
    traces.append({"type": "scatter", "mode": "markers", "name": "real",
                   "x": [p[0] for p in real], "y": [p[1] for p in real],
                   "marker": {"color": REAL, "size": 4}, "hoverinfo": "skip"})
    fakes, push = state["fakes"], state["push"]
    ax, ay, tips, angles = [], [], ([], []), []
    for (x, y), (dx, dy) in zip(fakes, push):
        length = math.hypot(dx, dy) * gans.ARROW_SCALE
        if length > gans.ARROW_CAP:  # shortened to the cap, the same direction
            dx, dy = dx * gans.ARROW_CAP / length, dy * gans.ARROW_CAP / length
        ex, ey = x + gans.ARROW_SCALE * dx, y + gans.ARROW_SCALE * dy
        ax += [x, ex, None]
        ay += [y, ey, None]
        if length > 0.01:
            tips[0].append(ex)
            tips[1].append(ey)
            angles.append(math.degrees(math.atan2(dx, dy)))
    traces.append({"type": "scatter", "mode": "lines", "x": ax, "y": ay, "name": "arrows",
                   "line": {"color": FAKE, "width": 1}, "opacity": 0.6, "hoverinfo": "skip",
                   "showlegend": False})
    traces.append({"type": "scatter", "mode": "markers", "x": tips[0], "y": tips[1],
                   "marker": {"symbol": "triangle-up", "angle": angles, "size": 6,
                              "color": FAKE}, "opacity": 0.6, "hoverinfo": "skip",
                   "showlegend": False})
    traces.append({"type": "scatter", "mode": "markers", "name": "fake",
                   "x": [p[0] for p in fakes], "y": [p[1] for p in fakes],
                   "marker": {"color": FAKE, "size": 5, "line": {"color": "white", "width": 0.5}},
                   "hovertemplate": "fake (%{x:.2f}, %{y:.2f})<extra></extra>"})
    edge = gans.EXTENT
    return plots.figure(traces, height=460, title=f"step {state['step']:,}",
                        xaxis={"range": [-edge, edge], "constrain": "domain"},
                        yaxis={"range": [-edge, edge], "scaleanchor": "x"},
                        legend={"orientation": "h", "y": -0.08},
                        margin=dict(l=30, r=10, t=40, b=30))


def points_figure(points: list) -> plots.PlotData:
    """Your points alone, before there are enough of them to train on."""
    edge = gans.EXTENT
    trace = {"type": "scatter", "mode": "markers", "name": "your points",
             "x": [p[0] for p in points], "y": [p[1] for p in points],
             "marker": {"color": REAL, "size": 7}}
    return plots.figure([trace], height=460, title="your points (click to add)",
                        xaxis={"range": [-edge, edge], "constrain": "domain"},
                        yaxis={"range": [-edge, edge], "scaleanchor": "x"})


def curves_figure(history: list[dict], floor: float) -> plots.PlotData:
    steps = [h["step"] for h in history]
    traces = [
        {"type": "scatter", "mode": "lines", "name": "forger's loss", "x": steps,
         "y": [h["loss_g"] for h in history], "line": {"color": FAKE}},
        {"type": "scatter", "mode": "lines", "name": "judge's loss", "x": steps,
         "y": [h["loss_d"] for h in history], "line": {"color": REAL}},
        {"type": "scatter", "mode": "lines", "name": "distance to the real data", "x": steps,
         "y": [h["distance"] for h in history], "yaxis": "y2",
         "line": {"color": plots.ACCENT, "width": 3}},
        {"type": "scatter", "mode": "lines", "name": "floor (real vs real)",
         "x": [steps[0], steps[-1]] if steps else [], "y": [floor, floor], "yaxis": "y2",
         "line": {"color": plots.ACCENT, "dash": "dot", "width": 1}},
    ]
    return plots.figure(traces, height=300, title="Losses and distance",
                        xaxis={"title": {"text": "step"}},
                        yaxis={"title": {"text": "loss"}},
                        yaxis2={"title": {"text": "earth mover's distance"}, "overlaying": "y",
                                "side": "right", "rangemode": "tozero", "showgrid": False},
                        legend={"orientation": "h", "y": -0.35},
                        margin=dict(l=40, r=50, t=40, b=40))


def status_text(run: gans.PlaneRun, state: dict) -> str:
    s = run.settings
    if state["step"] == 0:
        head = "Step 0: the forger is untrained. Press **Play** (or **Step**)."
    else:
        head = (f"Step {state['step']:,}: forger's loss {state['loss_g']:.3f}, judge's "
                f"{state['loss_d']:.3f}.")
    closeness = state["distance"] / max(state["floor"], 1e-9)
    verdict = ("the fakes are spread as the real data is." if closeness < 2 else
               "close: the clouds overlap, the details differ." if closeness < 4 else
               "far from the real data.")
    text = (f"{head}  \nDistance to the real data **{state['distance']:.3f}** "
            f"(the floor, two samples of the real data: {state['floor']:.3f}): {verdict}")
    if s.loss == "minimax" and state["step"] > 0:
        text += ("  \n*Minimax*: where the judge is sure a fake is fake, D(G(z)) ≈ 0 and "
                 "log(1 − D) is flat: short arrows, a forger that learns slowly.")
    if state["status"] == "capped":
        text += f"  \nThis Play reached its {gans.MAX_SECONDS:g} s; press Play to go on."
    if state["status"] == "diverged":
        text += "  \nThe losses became infinite: lower the learning rates and Reset."
    return text


def numbers(state: dict) -> dict:
    return {k: state[k] for k in ("step", "loss_g", "loss_d", "distance")}


def frame(run: gans.PlaneRun, state: dict | None = None):
    state = state or run.record()
    return (plane_figure(state), curves_figure(state["history"], state["floor"]),
            status_text(run, state), numbers(state))


def _checked(settings: dict) -> dict:
    try:
        checked = gans.SETTINGS.check(settings)
        if checked["distribution"] == "drawn" and not checked["points"]:
            raise ValueError(f"Click on the plane to add at least {gans.MIN_POINTS} points "
                             "(tick Click to add points), or choose another distribution.")
    except ValueError as e:
        fail(e)
    return checked


TRAINER = live.Trainer(gans.PlaneRun, _checked, frame, shown=SHOWN, status=2)


async def train_gan_2d(run=None, **settings):
    """A forger and a judge trained on the plane (gans.SETTINGS as keyword arguments);
    streams (the plane, the curves, a sentence, then {"step", "loss_g", "loss_d",
    "distance"}), or the place in line while the server's trainers are busy. The tab passes
    its run, which goes on; a client starts afresh."""
    async for shown in TRAINER.train(run, settings):
        yield shown


def prepare(run=None, **settings):
    return TRAINER.prepare(run, settings)


def step_once(run=None, **settings):
    return TRAINER.step_once(run, settings)


def reset(run=None, **settings):
    """A fresh run at step 0 (or, for a drawn distribution with too few points, the points)."""
    points = settings.get("points") or []
    if settings.get("distribution") == "drawn" and len(points) < gans.MIN_POINTS:
        if isinstance(run, gans.PlaneRun):
            run.stop()
        note = (f"{len(points)} point{'s' if len(points) != 1 else ''} drawn; "
                f"at least {gans.MIN_POINTS} are needed. Tick *Click to add points* and click "
                "on the plane.")
        return points_figure(points), gr.skip(), note, gr.skip(), None
    return TRAINER.reset(run, settings)


def pause(run):
    return TRAINER.pause(run)


def read_points(text):
    """The points typed or clicked ("x, y; x, y; ..."), as the drawn distribution's list."""
    if not isinstance(text, str) or not text.strip():
        return []
    points = []
    for item in text.replace("\n", ";").split(";"):
        if not item.strip():
            continue
        try:
            x, y = (float(v) for v in item.split(","))
        except ValueError:
            fail(f"Write each point as two numbers, x, y, and separate points with ';': "
                 f"{item.strip()[:30]!r} is not one.")
        points.append([round(x, 3), round(y, 3)])
    edge = gans.EXTENT
    if len(points) > gans.MAX_POINTS:
        fail(f"At most {gans.MAX_POINTS:,} points: clear some first.")
    if not all(math.isfinite(v) and abs(v) <= edge for point in points for v in point):
        fail(f"A point must lie in the plane's square, -{edge:g} to {edge:g}.")
    return points  # too few to train on yet is fine: Reset says how many more


CLICK_JS = """
() => {
  if (window.__npGanClicks) return;
  window.__npGanClicks = true;
  document.addEventListener("click", (event) => {
    const plot = event.target.closest("#gan-plane .js-plotly-plot");
    const on = document.querySelector("#gan-click input[type=checkbox]");
    if (!plot || !on || !on.checked || !plot._fullLayout) return;
    const area = plot.querySelector(".nsewdrag") || plot.querySelector(".draglayer rect");
    if (!area) return;
    const box = area.getBoundingClientRect();
    const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
    const x = xa.p2d(event.clientX - box.left), y = ya.p2d(event.clientY - box.top);
    if (!isFinite(x) || !isFinite(y)) return;
    const field = document.querySelector("#gan-point textarea, #gan-point input");
    if (!field) return;
    // Appended to the text of every point so far: a quick second click is never lost, and the
    // server reads the whole list each time (the last reading wins).
    const text = field.value.trim();
    field.value = (text ? text.replace(/;?$/, "; ") : "") + `${x.toFixed(3)}, ${y.toFixed(3)}`;
    field.dispatchEvent(new Event("input", {bubbles: true}));
  }, true);
}
"""


def build(on_show=()):
    gr.Markdown(INTRO)
    gr.Markdown(PLANE)
    run = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            c = {s.name: forms.control(s, elem_id=f"gan-{s.name.replace('_', '-')}")
                 for s in gans.SETTINGS}
            play, pause_button, step, reset_button = live.controls("gan")
            status = gr.Markdown(elem_id="gan-status")
            with gr.Accordion("Draw your own distribution", open=False):
                clicking = gr.Checkbox(False, label="Click to add points", elem_id="gan-click")
                new_point = gr.Textbox(label="Your points, x, y; x, y; ... (click the plane, or "
                                       "type them)", elem_id="gan-point", lines=2)
                clear = gr.Button("Clear my points", size="sm")
            numbers_json = gr.JSON(label="Numbers", elem_id="gan-numbers")
        with gr.Column(scale=2, min_width=300):
            plane = gr.Plot(label="The plane", elem_id="gan-plane")
            curves = gr.Plot(label="Losses and distance", elem_id="gan-curves")
            gr.Markdown(f"Each Play trains for at most {gans.MAX_SECONDS:g} s, "
                        f"{TRAIN_SHARE:.0%} of the time, so other visitors stay served.")
    settings = [c[s.name] for s in gans.SETTINGS]
    shown = [plane, curves, status, numbers_json]

    def endpoint(fn):
        return forms.endpoint(gans.SETTINGS, fn)

    inputs = [*settings, run]
    playing = play.click(endpoint(prepare), inputs, run, api_visibility="private",
                         show_progress="hidden").then(
        endpoint(train_gan_2d), inputs, shown, api_name="train_gan_2d", **live.STREAM)
    pause_button.click(pause, run, shown, api_visibility="private", show_progress="hidden")
    step.click(endpoint(step_once), inputs, [*shown, run], cancels=[playing],
               api_visibility="private", show_progress="hidden")
    gr.on([reset_button.click, *[x.input for x in settings if isinstance(x, gr.Radio | gr.Slider
                                                                         | gr.Dropdown)],
           *[x.submit for x in settings if isinstance(x, gr.Number)], c["points"].change,
           *on_show],
          endpoint(reset), inputs, [*shown, run], cancels=[playing], api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")
    new_point.change(read_points, new_point, c["points"], api_visibility="private",
                    show_progress="hidden", trigger_mode="always_last")
    clear.click(lambda: ([], ""), None, [c["points"], new_point], api_visibility="private",
                show_progress="hidden")
    clicking.change(None, js=CLICK_JS)

    digits.build(on_show)

    gr.Markdown(GAN_AND_GPT)
    gr.HTML(SIDE_BY_SIDE_SVG, elem_id="gan-gpt-picture")


DEMO = Demo(title="GANs", slug="gans", build=build)
