"""The Learning tab's second section: a network trained live on points in the plane, as
TensorFlow Playground does it (every neuron's picture on the diagram, input features,
regularisation, regression, the share of training data, the whole setup in the page's address)
and beyond it (three or more classes, the loss, an activation per layer, dropout, optimisers,
your own points, the picture and the numbers to download)."""

from __future__ import annotations

import csv
import html
import io
import math
import os

import gradio as gr

from demos import files, forms, live, plots
from demos.messages import fail, warn
from models import learning

TRAIN_INTRO = """## 2. Train a network live
The same rule on a real network: its weights start random, and every step nudges all of them
against the slope of the loss on a **mini-batch** of training points. **The network** shows
every neuron as a small picture of what it answers over the plane (blue −1, white 0, orange
+1): the input features first, then each hidden layer, each neuron built from the pictures
before it, joined by lines for the weights (orange positive, blue negative, thicker the
larger). The **decision boundary** is what the whole network answers everywhere (orange: class
1, blue: class 0; green and purple for more classes); filled points are the training set; tick
the box below it to add the test set (hollow), which it never learns from. Change the learning
rate, batch size or regularisation while it plays; a preset sets everything at once, and says
why it works (or fails). Every setting goes into the page's address: send it, and whoever opens
it gets the same setup and the same seeded network."""
BLUE, ORANGE = plots.BASE, plots.ACCENT  # class 0, class 1
# p(class 1) from blue through a neutral middle to orange; alpha keeps it readable in dark mode.
BOUNDARY_SCALE = [[0.0, "rgba(96,165,250,0.6)"], [0.5, "rgba(138,143,152,0.1)"],
                  [1.0, "rgba(249,115,22,0.6)"]]
DEFAULT = learning.DEFAULT
LOSS_EVERY = 4



# -- 2. Train a network live ---------------------------------------------------------------------

# Class 0 blue, 1 orange (as before), 2 green, 3 purple.
CLASS_COLOURS = [BLUE, ORANGE, "#22c55e", "#a855f7"]
NEUTRAL = "rgba(138,143,152,0.1)"
VALUE_SCALE = [[0.0, "rgba(96,165,250,0.65)"], [0.5, NEUTRAL], [1.0, "rgba(249,115,22,0.65)"]]
NEURON_SCALE = [[0.0, "#2563eb"], [0.5, "#f3f4f6"], [1.0, "#f97316"]]  # -1 .. 1, as TFP


def _alpha(colour: str, alpha: float) -> str:
    r, g, b = plots.rgb(colour)
    return f"rgba({r},{g},{b},{alpha})"


def classes_scale(k: int) -> list:
    """A colour scale for z = class + confidence (see _class_z): each class's band runs from
    neutral (unsure) to its colour (certain)."""
    scale = []
    for c in range(k):
        top = 1.0 if c == k - 1 else (c + 1) / k - 1e-3  # plotly's scale must end at 1
        scale += [[c / k, NEUTRAL], [top, _alpha(CLASS_COLOURS[c], 0.6)]]
    return scale


def _class_z(classes, confidence, k: int):
    """Most likely class and its probability as one number for classes_scale: class c with
    probability 1/k (a toss-up) at c, certain at c + 1."""
    return [[round(c + min(max((p - 1 / k) / (1 - 1 / k), 0), 0.998), 3)
             for c, p in zip(row_c, row_p)] for row_c, row_p in zip(classes, confidence)]


def boundary_figure(boundary: dict, data: dict, title: str, show_test: bool = False,
                    classes: int = 2) -> plots.PlotData:
    """What the network answers over the plane as a heatmap (two classes: p(class 1); more: the
    most likely class, paler where it is less sure; regression: the value), with the training
    points (filled) and, if asked, the test points (hollow), coloured by their label."""
    x = plots.rounded(boundary["x"], 3)
    regression = "value" in boundary
    heat = {"type": "heatmap", "x": x, "y": x, "zsmooth": "fast", "showscale": False}
    if regression:
        heat.update(z=plots.rounded(boundary["value"], 3), zmin=-1, zmax=1, colorscale=VALUE_SCALE,
                    hovertemplate="(%{x:.2f}, %{y:.2f}): the network says %{z:.2f}<extra></extra>")
    elif "p" in boundary:
        heat.update(z=plots.rounded(boundary["p"], 3), zmin=0, zmax=1, colorscale=BOUNDARY_SCALE,
                    hovertemplate="(%{x:.2f}, %{y:.2f}): p(orange) = %{z:.2f}<extra></extra>")
    else:
        heat.update(z=_class_z(boundary["classes"], boundary["confidence"], classes), zmin=0,
                    zmax=classes, colorscale=classes_scale(classes), zsmooth=False,
                    hovertemplate="(%{x:.2f}, %{y:.2f}): class %{z:d}<extra></extra>")

    def points(xs, ys, name, hollow):
        if regression:
            colours = plots.rounded(ys, 3)
            colour = {"color": colours, "colorscale": NEURON_SCALE, "cmin": -1, "cmax": 1}
        else:
            colour = {"color": [CLASS_COLOURS[int(y) % len(CLASS_COLOURS)] for y in ys]}
        marker = ({"size": 7, "color": "rgba(0,0,0,0)",
                   "line": {"width": 1.5, **colour}} if hollow else
                  {"size": 7, **colour, "line": {"width": 1, "color": "white"}})
        return {"type": "scatter", "mode": "markers", "name": name,
                "x": plots.rounded([p[0] for p in xs], 3),
                "y": plots.rounded([p[1] for p in xs], 3),
                "customdata": plots.rounded(ys, 3) if regression else ys, "marker": marker,
                "hovertemplate": f"{name}: (%{{x:.2f}}, %{{y:.2f}}), "
                                 f"{'value' if regression else 'class'} %{{customdata}}"
                                 "<extra></extra>"}

    traces = [heat, points(data["x_train"], data["y_train"], "training points", False)]
    if show_test:  # off by default: 200 more points make a frame too slow for a slow browser
        traces.append(points(data["x_test"], data["y_test"], "test points", True))
    edge = learning.EXTENT
    return plots.figure(traces, height=420, title=title, margin=dict(l=30, r=10, t=40, b=30),
                        legend={"orientation": "h", "y": -0.08}, dragmode=False,
                        xaxis={"range": [-edge, edge], "showgrid": False, "zeroline": False},
                        yaxis={"range": [-edge, edge], "showgrid": False, "zeroline": False,
                               "scaleanchor": "x"})


def loss_figure(history: list[dict], regression: bool = False) -> plots.PlotData:
    steps = [h["step"] for h in history]
    traces = [{"type": "scatter", "mode": "lines", "name": name, "x": steps,
               "y": [plots.rounded(h[key], 5) for h in history],
               "line": {"color": colour, "width": 2}}
              for key, name, colour in (("train_loss", "training loss", ORANGE),
                                        ("test_loss", "test loss", BLUE))]
    return plots.figure(traces, height=420, title="Loss, log scale",
                        legend={"orientation": "h", "y": -0.2},
                        xaxis={"title": {"text": "step"}},
                        yaxis={"type": "log", "title": {"text": "loss"}})


TILE, ROW, COLUMN = 34, 42, 120  # px: a neuron's picture, and the spacing of rows and layers


def network_svg(neurons: dict, config: learning.Config, classes: int) -> str:
    """TensorFlow Playground's diagram, as an SVG picture: every input feature and hidden
    neuron as a small picture of its output over the plane (blue −1, white 0, orange +1), and
    every weight as a line from one picture to the next, orange positive, blue negative,
    thicker the larger (hover for the numbers). SVG, not a plotly figure: a browser redraws it
    several times a second in a fraction of the time."""
    columns = [neurons["features"], *neurons["layers"]]
    names = [[learning.FEATURES[f][0] for f in config.features],
             *[[f"layer {i + 1}, neuron {j + 1} ({a})" for j in range(len(layer))]
               for i, (layer, a) in enumerate(zip(neurons["layers"], config.activations))]]
    outputs = ["the value"] if classes == 1 else [f"class {c}" for c in range(classes)]
    tallest = max(len(c) for c in [*columns, outputs])
    top, left = 34, 46
    width, height = left + len(columns) * COLUMN + 90, top + tallest * ROW + 6

    def y(j, n):  # the centre of row j of n, the column centred on the tallest
        return top + (tallest - n) * ROW / 2 + j * ROW + ROW / 2

    def x(c):
        return left + c * COLUMN + TILE / 2

    parts = []
    for i, w in enumerate(neurons["weights"]):  # layer i joins column i to i + 1 (or outputs)
        n_in, n_out = len(w[0]), len(w)
        x1 = x(i + 1) - (TILE / 2 if i + 1 < len(columns) else 8)
        for o, row in enumerate(w):
            for k, v in enumerate(row):
                colour = ORANGE if v >= 0 else "#2563eb"
                parts.append(
                    f'<line x1="{x(i) + TILE / 2:.0f}" y1="{y(k, n_in):.1f}" x2="{x1:.0f}" '
                    f'y2="{y(o, n_out):.1f}" stroke="{colour}" stroke-opacity="0.7" '
                    f'stroke-width="{min(0.5 + 1.5 * abs(v), 6):.1f}"><title>weight '
                    f'{v:+.3f}</title></line>')
    for c, (maps, labels) in enumerate(zip(columns, names)):
        for j, (z, label) in enumerate(zip(maps, labels)):
            low, high = min(min(r) for r in z), max(max(r) for r in z)
            parts.append(
                f'<image href="{plots.heat_png(z, NEURON_SCALE, -1, 1)}" x="{x(c) - TILE / 2:.0f}"'
                f' y="{y(j, len(maps)) - TILE / 2:.1f}" width="{TILE}" height="{TILE}" '
                f'preserveAspectRatio="none"><title>{html.escape(label)}: from {low:.2f} to '
                f'{high:.2f} over the plane</title></image>')
            if c == 0:  # the features are named beside their pictures
                parts.append(f'<text x="{x(0) - TILE / 2 - 4:.0f}" y="{y(j, len(maps)) + 4:.1f}"'
                             f' text-anchor="end">{html.escape(label)}</text>')
        head = "inputs" if c == 0 else f"layer {c}"
        parts.append(f'<text x="{x(c):.0f}" y="20" text-anchor="middle">{head}</text>')
    for j, name in enumerate(outputs):
        colour = ORANGE if classes == 1 else CLASS_COLOURS[j]
        cy = y(j, len(outputs))
        parts.append(f'<circle cx="{x(len(columns)) - 8:.0f}" cy="{cy:.1f}" r="7" '
                     f'fill="{colour}" stroke="white"/><text x="{x(len(columns)) + 4:.0f}" '
                     f'y="{cy + 4:.1f}">{name}</text>')
    parts.append(f'<text x="{x(len(columns)):.0f}" y="20" text-anchor="middle">output</text>')
    return (f'<svg id="train-network-svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="The network: every neuron\'s output over the plane" '
            f'style="width:100%;max-width:{width * 1.4:.0f}px;height:auto;font:11px '
            f'system-ui,sans-serif;fill:{plots.FONT_COLOR}">{"".join(parts)}</svg>')


STATUS_NOTES = {
    "ready": "Ready: press Play (or Step).",
    "training": "",
    "done": "Done: the steps asked for are taken. Press Play to go on.",
    "paused": "Paused: press Play to go on, or Step to take one step at a time.",
    "capped": f"Paused after {learning.MAX_SECONDS:g} s, the limit of one run: press Play to go "
              "on.",
    "diverged": "**The steps overshoot: the loss blew up.** Each step jumped so far past the "
                "bottom that the network became certain and wrong. Lower the learning rate "
                "and press Reset (or Play, which starts again).",
}


def status_text(run: learning.Training, entry: dict, note: str = "") -> str:
    rate = entry.get("steps_per_second")
    regularised = (f" · {run.regularization.upper()} {run.regularization_rate:g}"
                   if run.regularization != "none" else "")
    lines = [
        f"**Step {entry['step']:,}** · learning rate {run.learning_rate:g} · batch "
        f"{min(run.batch_size, len(run.x_train))} · "
        f"{len(run.x_train) / min(run.batch_size, len(run.x_train)):.3g} steps per epoch"
        + regularised + (f" · {rate:,.0f} steps/s" if rate else ""),
    ]
    if run.regression:
        lines.append(f"Training loss {entry['train_loss']:.4g} · **test loss "
                     f"{entry['test_loss']:.4g}** (mean squared error) · weights' size "
                     f"{entry['weights_norm']:.3g}")
    else:
        lines.append(f"Training loss {entry['train_loss']:.4g}, accuracy "
                     f"{entry['train_accuracy']:.1%} · **test loss {entry['test_loss']:.4g}, "
                     f"accuracy {entry['test_accuracy']:.1%}** · weights' size "
                     f"{entry['weights_norm']:.3g}")
    extra = note or STATUS_NOTES.get(run.status, "")
    return "  \n".join(lines + ([extra] if extra else []))


NUMBER_KEYS = ("step", "train_loss", "test_loss", "test_accuracy", "weights_norm")


def numbers(entry: dict) -> dict:
    return {k: (None if entry.get(k) is None else
                round(entry[k], 6) if isinstance(entry[k], float) else entry[k])
            for k in NUMBER_KEYS}


def frame(run: learning.Training, entry: dict | None = None, note: str = "",
          show_test: bool = False, show_neurons: bool = True):
    """(decision boundary, loss curves, status, every neuron, the numbers) of a run as it
    stands."""
    entry = entry or run.record()
    config = run.config
    shape = "-".join(map(str, (len(config.features), *config.layers, run.classes)))
    act = ", ".join(config.activations) if config.layers else "no hidden layer"
    data = "your points" if config.points is not None else config.dataset
    title = f"{data}, network {shape}, {act}"
    return (boundary_figure(run.boundary(), run.data(), title, show_test is True, run.classes),
            loss_figure(run.history, run.regression),
            status_text(run, entry, note),
            (network_svg(run.neurons(), config, run.classes) if show_neurons is not False
             else gr.skip()),
            numbers(entry))


# The trainer's settings: declared once, in models.learning.SETTINGS (their checks, defaults,
# the endpoint's keyword arguments, the address). The tab's events pass every setting's control
# in that order, then the tab's run.
SETTINGS = learning.SETTINGS


def _checked(values: dict) -> tuple[dict, learning.Config]:
    """The settings checked (and converted), and the Config they define; or a gr.Error."""
    try:
        checked = SETTINGS.check(values)
        return checked, learning.Config.of(checked)
    except ValueError as e:
        fail(e)


def _new_run(checked: dict, config: learning.Config) -> learning.Training:
    return learning.Training(config, *(checked[k] for k in learning.LIVE_SETTINGS))


def _adjust(run: learning.Training, checked: dict):
    """What may change while a run trains: learning rate, batch size, regularisation."""
    (run.learning_rate, run.batch_size, run.regularization,
     run.regularization_rate) = (checked[k] for k in learning.LIVE_SETTINGS)


def _drawn(run: learning.Training, checked: dict, entry: dict | None = None, note: str = ""):
    return frame(run, entry, note, show_test=checked["show_test_points"],
                 show_neurons=checked["show_neurons"])


_streaming = live.Streaming()  # the runs whose stream (train_network) is drawing them now


async def _train_network(run=None, **values):
    """Train a network; stream (decision boundary, loss curves, status, every neuron's
    picture, the numbers) about six times a second, or its place in line while the server's
    trainers are busy. The tab passes its run, which goes on from where it was; a client
    starts afresh."""
    checked, config = _checked(values)
    if not isinstance(run, learning.Training) or run.config != config:
        run = _new_run(checked, config)
    _adjust(run, checked)
    drawn = 0

    def draw(entry):
        nonlocal drawn
        shown = _drawn(run, checked, entry)
        # The loss chart every LOSS_EVERY frames (and the last): each chart a browser redraws
        # costs it a page layout, and a slow laptop would fall behind the frames.
        chart = entry is None or run.status != "training" or drawn % LOSS_EVERY == 0
        drawn += 1
        return (shown[0], shown[1] if chart else gr.skip(), *shown[2:])

    def waiting(state):
        return (gr.skip(), gr.skip(), status_text(run, state, live.waiting_note(state)),
                gr.skip(), gr.skip())

    async for shown in _streaming.frames(run, run.run(checked["steps"]), draw, waiting):
        yield shown


train_network = forms.endpoint(SETTINGS, _train_network)


def prepare(*values):
    """Before Play: the tab's run, or a fresh one if the settings changed or it blew up.
    (The stream that follows reads the run from the state and never writes it back, so a reset
    during play cannot be overwritten by the old run's frames.)"""
    *values, run = values
    checked, config = _checked(SETTINGS.named(values))
    if (not isinstance(run, learning.Training) or run.config != config
            or run.status == "diverged"):
        if isinstance(run, learning.Training):
            run.stop()
        run = _new_run(checked, config)
    _adjust(run, checked)
    run.stopped = False
    return run


def step_once(*values):
    """One step of gradient descent, on one mini-batch."""
    run = prepare(*values)
    checked, _ = _checked(SETTINGS.named(values[:-1]))
    loss = run.step()["loss"]
    note = "" if run.status == "diverged" else (
        f"One step on a batch of {min(run.batch_size, len(run.x_train))}: its loss was "
        f"{loss:.4g} before the step.")
    return (*_drawn(run, checked, note=note), run)


def reset(*values):
    """A fresh network: random weights (from the seed), step 0."""
    *values, run = values
    checked, config = _checked(SETTINGS.named(values))
    if isinstance(run, learning.Training):
        run.stop()
    run = _new_run(checked, config)
    return (*_drawn(run, checked), run)


def reconfigure(*values):
    """Settings that define the network changed (hidden layers typed, noise, features, ...):
    start afresh, but only if they really changed (leaving the layers box without typing is
    not a change). The learning rate, batch size and regularisation change the run as it is."""
    *given, run = values
    s = SETTINGS.named(given)
    if s["dataset"] == learning.OWN:  # too few points yet: draw them, and say what is missing
        try:
            learning.check_points(s["points"] or [], s["problem"])
        except ValueError:
            return (points_figure(s["points"] or [], s["problem"]), gr.skip(),
                    points_status(s["points"] or [], s["problem"]), gr.skip(), gr.skip(), run)
    checked, config = _checked(s)
    if isinstance(run, learning.Training) and run.config == config:
        _adjust(run, checked)
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), run
    return reset(*values)


def pause(show_test_points, show_neurons, run):
    """Pause: the run stops, and is drawn where it stopped. A run that is playing is drawn by
    its own stream, as that stream's last frame: drawn here, the paused frame could reach the
    browser before the stream's last one and be covered by it."""
    if not isinstance(run, learning.Training):
        return (gr.skip(),) * 5
    run.pause()
    if run in _streaming:
        return (gr.skip(),) * 5
    return frame(run, show_test=show_test_points, show_neurons=show_neurons)


def redraw(show_test_points, show_neurons, run):
    """The same run, drawn with or without the test points."""
    if not isinstance(run, learning.Training):
        return (gr.skip(),) * 5
    return frame(run, show_test=show_test_points, show_neurons=show_neurons)


def preset_settings(name) -> dict:
    """A preset's settings; those it does not name are their defaults."""
    preset = learning.PRESETS.get(name) if isinstance(name, str) else None
    if preset is None:
        fail(f"Unknown preset {str(name)[:40]!r}.")
    return {**SETTINGS.defaults, "dataset": preset.dataset, "noise": preset.noise,
            "layers": ", ".join(map(str, preset.layers)), "activation": preset.activation,
            "learning_rate": preset.learning_rate, "batch_size": preset.batch_size,
            "steps": preset.steps}


# The controls a preset or an address sets: every setting's but the points' (the page keeps the
# learner's points in their own state, and passes them to the trainer only while they are used).
SHOWN = tuple(n for n in SETTINGS.names if n != "points")


def apply_preset(name, *values):
    """All the controls from a preset, with its reason, and a fresh network to match (the
    settings a preset does not name go back to their defaults; the view stays as it is)."""
    *values, run = values
    view = {k: v for k, v in SETTINGS.named(values).items()
            if k in ("show_test_points", "show_neurons")}
    given = {**preset_settings(name), **view}
    outputs = reset(*SETTINGS.values(**given), run)
    return (*(given[k] for k in SHOWN), f"*{learning.PRESETS[name].why}*", *outputs)


def problem_changed(problem, dataset):
    """Classification or regression: a data set of that problem (the first, unless the one
    chosen is one, or is your points)."""
    sets = learning.PROBLEMS.get(problem)
    if sets is None or dataset in sets or dataset == learning.OWN:
        return gr.skip()
    return next(iter(sets))


def dataset_changed(dataset, problem):
    """A data set chosen: the problem it is (your points keep the problem as it is)."""
    for name, sets in learning.PROBLEMS.items():
        if dataset in sets and name != problem:
            return name
    return gr.skip()


# -- own points, the address, downloads -------------------------------------------------------


def add_point(xy, label, value, problem, points):
    """A click on the plane (or "x1, x2" typed): one more point of the chosen class (or value,
    for regression). Returns (the points, what they are, the emptied point box)."""
    if not isinstance(xy, str) or not xy.strip():
        return gr.skip(), gr.skip(), gr.skip()
    try:
        x1, x2 = (float(v) for v in xy.split(",")[:2])
    except ValueError:
        fail("Type a point as two numbers, x1, x2: for example 0.5, -0.3.")
    points = list(points) if isinstance(points, list) else []
    if len(points) >= learning.MAX_POINTS:
        fail(f"At most {learning.MAX_POINTS} points: clear some first.")
    edge = learning.EXTENT
    if not (math.isfinite(x1) and math.isfinite(x2) and abs(x1) <= edge and abs(x2) <= edge):
        fail(f"A point must lie in the plane's square, -{edge:g} to {edge:g}.")
    label = round(float(value), 2) if problem == "regression" else int(label)
    points.append([round(x1, 3), round(x2, 3), label])
    return points, points_status(points, problem), ""


def points_figure(points, problem) -> plots.PlotData:
    """Your points alone, before there are enough of them to train on."""
    edge = learning.EXTENT
    blank = {"x": [-edge, edge], **({"value": [[0, 0], [0, 0]]} if problem == "regression"
                                    else {"p": [[0.5, 0.5], [0.5, 0.5]]})}
    data = {"x_train": [p[:2] for p in points], "y_train": [p[2] for p in points]}
    return boundary_figure(blank, data, "your points (no network yet)")


def points_status(points, problem="classification") -> str:
    if not points:
        return ("No points of your own yet. Choose *Your points*, tick *Click to add points*, "
                "and click on the plane (or type x₁, x₂ and press Enter), or upload a CSV.")
    many = f"{len(points)} point{'s' if len(points) != 1 else ''} of your own"
    if problem == "regression":
        return f"{many}."
    counts = [sum(1 for p in points if p[2] == c) for c in range(learning.MAX_CLASSES)]
    shown = ", ".join(f"class {c}: {n}" for c, n in enumerate(counts) if n)
    need = "" if len(points) >= learning.MIN_POINTS and sum(1 for n in counts if n) >= 2 else (
        f" Training needs at least {learning.MIN_POINTS} points of two classes.")
    return f"{many} ({shown}).{need}"


def read_csv(path, problem):
    """An uploaded CSV of x1, x2, label (a header line is allowed), checked as points."""
    if not isinstance(path, str):
        return gr.skip(), gr.skip()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(200_000)
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
        if rows and not _is_number(rows[0][0]):
            rows = rows[1:]  # a header
        points = [[float(c) for c in r[:3]] if len(r) >= 3 else r for r in rows]
        checked = learning.check_points(points, problem)
    except ValueError as e:
        fail(f"That CSV could not be used: {e}")
    points = [list(p) for p in checked]
    return points, points_status(points, problem)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def points_in_use(dataset, points):
    """The points the trainer is given: yours when *Your points* is chosen, none otherwise."""
    return points if dataset == learning.OWN and points else []


def downloads(show_test_points, run):
    """The picture as it is now (PNG) and the run's numbers, one row per frame (CSV)."""
    if not isinstance(run, learning.Training):
        fail("Nothing to save yet: press Play or Step first.")
    folder = files.folder("learning-")
    picture = os.path.join(folder, f"network-step-{run.steps}.png")
    boundary_png(run.boundary(100), run.data(), run.classes, show_test_points is True).save(
        picture)
    table = os.path.join(folder, f"training-step-{run.steps}.csv")
    with open(table, "w", newline="") as f:
        writer = csv.writer(f)
        keys = ["step", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
                "weights_norm"]
        writer.writerow(keys)
        for entry in run.history:
            writer.writerow(["" if entry.get(k) is None else entry[k] for k in keys])
    return [picture, table]


def boundary_png(boundary: dict, data: dict, classes: int, show_test: bool, size: int = 480):
    """The decision boundary and the points as a picture (what the tab draws, without plotly):
    each grid cell mixed from grey to its class's colour by how sure the network is."""
    from PIL import Image, ImageDraw

    grey = (240, 240, 240)

    def mix(colour, t):
        return tuple(round(g + (c - g) * t) for g, c in zip(grey, plots.rgb(colour)))

    if "value" in boundary:
        cells = [[mix(ORANGE if v >= 0 else "#2563eb", min(abs(v), 1)) for v in row]
                 for row in boundary["value"]]
    elif "p" in boundary:
        cells = [[mix(ORANGE if p >= 0.5 else BLUE, abs(2 * p - 1)) for p in row]
                 for row in boundary["p"]]
    else:
        cells = [[mix(CLASS_COLOURS[c], (p - 1 / classes) / (1 - 1 / classes))
                  for c, p in zip(rc, rp)]
                 for rc, rp in zip(boundary["classes"], boundary["confidence"])]
    n = len(cells)
    image = Image.new("RGB", (n, n))
    image.putdata([cells[n - 1 - i][j] for i in range(n) for j in range(n)])  # y up
    image = image.resize((size, size), Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    edge = learning.EXTENT

    def at(x, y):
        return (x + edge) / (2 * edge) * size, (edge - y) / (2 * edge) * size

    def colour(y):
        if "value" in boundary:
            return mix(ORANGE if y >= 0 else "#2563eb", 0.3 + 0.7 * min(abs(y), 1))
        return plots.rgb(CLASS_COLOURS[int(y) % len(CLASS_COLOURS)])

    sets = [(data["x_train"], data["y_train"], False)]
    if show_test:
        sets.append((data["x_test"], data["y_test"], True))
    for xs, ys, hollow in sets:
        for (x, y), label in zip(xs, ys):
            cx, cy = at(x, y)
            box = (cx - 4, cy - 4, cx + 4, cy + 4)
            if hollow:
                draw.ellipse(box, outline=colour(label), width=2)
            else:
                draw.ellipse(box, fill=colour(label), outline=(255, 255, 255))
    return image


def address_settings(request) -> dict:
    """The settings written in the page's address under their API names (?dataset=xor&seed=3),
    unchecked; {} if it has none."""
    return SETTINGS.read(dict(request.query_params) if request is not None else {})


def first_fill(request: gr.Request, *values):
    """The tab's first picture, unless the address has settings (restore draws those)."""
    if address_settings(request):
        return (gr.skip(),) * 6
    return reset(*values)


def restore(request: gr.Request, *values):
    """A page opened with settings in its address: each one checked as the API checks it, the
    controls set to them (as the run took them: checked, converted, normalised), and the same
    seeded network drawn at step 0."""
    given = address_settings(request)
    nothing = (gr.skip(),) * (len(SHOWN) + 8)  # the controls, points and their note, 5 shown, run
    if not given:
        return nothing
    *_, run = values
    try:
        checked, config = _checked({**SETTINGS.defaults, **given})
    except gr.Error as e:
        warn(f"The settings in the address could not be used: {e.message}")
        return nothing
    if isinstance(run, learning.Training):
        run.stop()
    run = _new_run(checked, config)
    shown = SETTINGS.shown({**checked, "dataset": config.dataset})
    points = shown["points"]
    return (*(shown[k] for k in SHOWN), points, points_status(points, config.problem),
            *_drawn(run, checked), run)


ADDRESS_JS = forms.address_js(SETTINGS, "learning", "#train-link")


# Clicking on the decision boundary, while "Click to add points" is ticked: the plot's data
# coordinates go into the point box, as if typed, and Enter adds the point.
CLICK_JS = """
() => {
  if (window.__npLearningClicks) return;
  window.__npLearningClicks = true;
  document.addEventListener("click", (event) => {
    const plot = event.target.closest("#train-boundary .js-plotly-plot");
    const on = document.querySelector("#train-click input[type=checkbox]");
    if (!plot || !on || !on.checked || !plot._fullLayout) return;
    const area = plot.querySelector(".nsewdrag") || plot.querySelector(".draglayer rect");
    if (!area) return;
    const box = area.getBoundingClientRect();
    const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
    const x = xa.p2d(event.clientX - box.left), y = ya.p2d(event.clientY - box.top);
    if (!isFinite(x) || !isFinite(y)) return;
    const field = document.querySelector("#train-point textarea, #train-point input");
    if (!field) return;
    field.value = `${x.toFixed(3)}, ${y.toFixed(3)}`;
    field.dispatchEvent(new Event("input", {bubbles: true}));
    for (const type of ["keydown", "keypress"])  // gradio's Textbox submits on keypress
      field.dispatchEvent(new KeyboardEvent(type, {key: "Enter", code: "Enter", keyCode: 13,
                                                   bubbles: true}));
  }, true);
}
"""

LOSS_NOTE = """*Cross-entropy* (−ln of the probability of the right class) trains faster than
*squared error* on the probabilities: when the network is confidently wrong, cross-entropy's
slope for each output is simply p − y, large, while squared error's is multiplied by the
softmax's own slope, p(1 − p), which is near 0 exactly when the network is most sure, so the
worst mistakes are corrected slowest."""


def build(on_show=(), on_load=()):
    """The section; returns its data set and noise controls (the next section uses them)."""
    gr.Markdown(TRAIN_INTRO)
    run = gr.State(None)
    points = gr.State([])
    c = {}  # every setting's control, by the setting's name

    def put(name: str, elem_id: str, **layout):
        c[name] = forms.control(SETTINGS[name], elem_id=elem_id, **layout)
        return c[name]

    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            preset = gr.Dropdown(list(learning.PRESETS), value=DEFAULT.name, label="Preset",
                                 elem_id="train-preset")
            why = gr.Markdown(f"*{DEFAULT.why}*", elem_id="train-why")
            put("problem", "train-problem")
            put("dataset", "train-dataset")
            put("features", "train-features")
            put("layers", "train-layers")
            put("activation", "train-activation")
            put("learning_rate", "train-lr")
            put("batch_size", "train-batch")
            with gr.Row():
                put("steps", "train-steps")
                put("seed", "train-seed")
            with gr.Accordion("Data, regularisation, loss, optimiser, dropout", open=False,
                              elem_id="train-more"):
                put("noise", "train-noise")
                put("train_share", "train-share")
                with gr.Row():
                    put("regularization", "train-regularization")
                    put("regularization_rate", "train-regularization-rate")
                put("loss", "train-loss-choice")
                gr.Markdown(LOSS_NOTE)
                put("optimizer", "train-optimizer")
                with gr.Row():
                    put("momentum", "train-momentum")
                    put("beta1", "train-beta1")
                    put("beta2", "train-beta2")
                put("dropout", "train-dropout")
        with gr.Column(scale=2, min_width=300):
            play, pause_button, step, reset_button = live.controls("train")
            network = gr.HTML(label="The network", elem_id="train-network")
            put("show_neurons", "train-show-neurons")
            status = gr.Markdown(elem_id="train-status")
        with gr.Column(scale=2, min_width=300):
            boundary = gr.Plot(label="Decision boundary", elem_id="train-boundary")
            put("show_test_points", "train-show-test")
            losses = gr.Plot(label="Loss", elem_id="train-loss")
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            with gr.Accordion("Your own points", open=False, elem_id="train-own"):
                points_note = gr.Markdown(points_status([]), elem_id="train-points-note")
                with gr.Row():
                    gr.Checkbox(False, label="Click to add points", elem_id="train-click")
                    point_class = gr.Radio(list(range(learning.MAX_CLASSES)), value=0,
                                           label="Class of new points",
                                           elem_id="train-point-class")
                    point_value = gr.Slider(-1, 1, value=1, step=0.1,
                                            label="Value of new points (regression)",
                                            elem_id="train-point-value")
                new_point = gr.Textbox(label="Add a point at x₁, x₂ (click the plane, or type "
                                             "and press Enter)", placeholder="0.5, -0.3",
                                       elem_id="train-point")
                with gr.Row():
                    upload = gr.UploadButton("Upload a CSV (x1, x2, label)",
                                             file_types=[".csv", ".txt"], size="sm",
                                             elem_id="train-upload")
                    clear = gr.Button("Clear my points", size="sm", elem_id="train-clear")
            link = gr.Textbox(label="Link to this setup (the address bar has it too)",
                              interactive=False, buttons=["copy"], elem_id="train-link")
        with gr.Column(scale=1, min_width=260):
            save = gr.Button("Save the picture (PNG) and the numbers (CSV)", size="sm",
                             elem_id="train-save")
            saved = gr.File(label="Downloads", file_count="multiple", interactive=False,
                            elem_id="train-files")
        with gr.Column(scale=1, min_width=260):
            run_numbers = gr.JSON(label="Numbers", elem_id="train-numbers")
    # The points the trainer uses: yours while "Your points" is chosen, none otherwise.
    points_used = put("points", "train-points-used")

    # Train. Play makes sure the tab's run matches the settings, then streams it; the stream
    # is the API's train_network too (a client's call starts from scratch). Every event that
    # needs the settings takes them all, in the schema's order, then the run.
    every = [c[name] for name in SETTINGS.names]
    shown = [boundary, losses, status, network, run_numbers]
    view = [c["show_test_points"], c["show_neurons"]]
    quiet = dict(api_visibility="private", show_progress="hidden")
    playing = play.click(prepare, [*every, run], run, **quiet).then(
        train_network, [*every, run], shown, api_name="train_network", **live.STREAM)
    # Pause does not cancel the stream: the stream sees the pause and draws it (see pause).
    pause_button.click(pause, [*view, run], shown, **quiet)
    step.click(step_once, [*every, run], [*shown, run], cancels=[playing], **quiet)
    gr.on([reset_button.click, c["seed"].submit], reset, [*every, run], [*shown, run],
          cancels=[playing], **quiet)
    if on_show:
        gr.on(list(on_show), first_fill, [*every, run], [*shown, run], **quiet)
    # Settings that define the network start it afresh (if they changed); the learning rate,
    # batch size and regularisation change it as it plays.
    gr.on([c["activation"].input, c["layers"].submit, c["layers"].blur, c["noise"].release,
           c["features"].input, c["train_share"].release, c["optimizer"].input,
           c["momentum"].release, c["beta1"].release, c["beta2"].release, c["loss"].input,
           c["dropout"].release, points_used.change, c["learning_rate"].input,
           c["batch_size"].release, c["regularization"].input,
           c["regularization_rate"].input],
          reconfigure, [*every, run], [*shown, run], trigger_mode="always_last", **quiet)
    c["dataset"].input(dataset_changed, [c["dataset"], c["problem"]], c["problem"],
                       **quiet).then(reconfigure, [*every, run], [*shown, run], **quiet)
    c["problem"].input(problem_changed, [c["problem"], c["dataset"]], c["dataset"],
                       **quiet).then(reset, [*every, run], [*shown, run], cancels=[playing],
                                     **quiet)
    gr.on([v.input for v in view], redraw, [*view, run], shown, **quiet)
    preset.input(apply_preset, [preset, *every, run],
                 [*(c[k] for k in SHOWN), why, *shown, run], cancels=[playing], **quiet)
    # Own points: each one added (a click, or typed), a CSV, or cleared; "Your points" chosen.
    gr.on([c["dataset"].change, points.change], points_in_use, [c["dataset"], points],
          points_used, **quiet)
    new_point.submit(add_point, [new_point, point_class, point_value, c["problem"], points],
                     [points, points_note, new_point], **quiet).then(
        lambda: learning.OWN, None, c["dataset"], **quiet)
    upload.upload(read_csv, [upload, c["problem"]], [points, points_note], **quiet).then(
        lambda: learning.OWN, None, c["dataset"], **quiet)
    clear.click(lambda p: ([], points_status([], p)), c["problem"], [points, points_note],
                **quiet)
    save.click(downloads, [c["show_test_points"], run], saved, **quiet)
    # The address: every setting change writes it (in the browser); a page opened with one
    # restores its settings and seeded network. (It holds the learner's points, used or not.)
    address_inputs = [points if x is points_used else x for x in every]
    gr.on([x.change for x in address_inputs], None, address_inputs, link, js=ADDRESS_JS,
          trigger_mode="always_last", **quiet)
    if on_load:
        gr.on(list(on_load), restore, [*every, run],
              [*(c[k] for k in SHOWN), points, points_note, *shown, run], **quiet)

    return c["dataset"], c["noise"]
