"""The Transfer learning tab: the learner's own classes, drawn (or the starter set's symbols),
learned three ways side by side on the shared live runner; what pretraining buys; trying the
new models (demos/transfer/results.py draws the figures); exporting one. The named API,
/transfer_learn, is stateless: a client sends its examples and gets the training streamed."""

from __future__ import annotations

import json

import gradio as gr
import numpy as np

from demos import Demo, files, forms, gradio_internals, live, plots
from demos.messages import escaped, fail
from demos.transfer import results
from models import digits, transfer
from models.runner import TRAIN_SHARE

INTRO = f"""# Transfer learning
A network trained on one task has learned things that are useful for another. The digit CNN
(the Digits tab) was trained on 9,000 handwritten digits; its first layers learned to find
**strokes, edges, ends and corners**, which every drawing is made of, and only its last layers
learned what makes a 7 a 7. So to teach it new symbols from a handful of drawings, keep what it
learned and retrain only what is specific to digits. Three ways, on the same architecture
(four convolutional layers, then a dense layer of 128 and one output per class):

- **Feature extraction**: the four convolutional layers are **frozen** (their weights never
  change), and a new head (the dense layers) is trained on what they compute.
- **Fine-tuning**: every layer starts from the digit network's weights (the last layer is new:
  it has your classes) and keeps training, slowly (learning rate {transfer.FINE_TUNE_RATE:g} for
  the pretrained layers, {transfer.LEARNING_RATE:g} for the new one). You choose how many of the
  first conv layers stay frozen.
- **From scratch**: the same architecture with random weights: it must learn strokes and your
  classes at once, from your few drawings.

Make 2 to {transfer.MAX_CLASSES} classes of anything (letters, symbols, shapes): name a class,
draw, press *Add*; a few drawings of each are enough. Or use the **starter set**: ten symbols
drawn by a simulated hand (loaded for you the first time you open this tab)."""

SET_NOTE = f"""When every class has {transfer.HOLDOUT_MIN} drawings or more,
{transfer.HOLDOUT_SHARE:.0%} of each class is **held out**: the networks never train on them,
and the validation accuracy is measured on them. With fewer, each drawing is held out once
(**leave-one-out**: one network per fold, each missing one drawing of each class, trained side
by side with the one trained on all of them, which is the one you try below)."""

TRAIN = f"""## Three ways, side by side
**Play** trains the three networks at once, one step each in turn ({transfer.BATCH} drawings a
step, drawn with replacement from those not held out), on this server's shared trainer (each
Play gets {TRAIN_SHARE:.0%} of a core's time, so that every visitor's run moves). **Augment**
gives each drawing a fresh small shift, turn and change of thickness every time it is used: the
variety that a few drawings lack. Watch the validation accuracy: the pretrained networks are
usually right sooner, and from fewer drawings."""

CURVE = """## What pretraining buys
Validation accuracy against the number of drawings per class. The shipped curve is the starter
set's: each way trained with the defaults on 1 to 20 drawings of each symbol (five different
picks each), and scored on 400 held-out drawings the networks never saw (the band spans the five
picks). **Measure on my drawings** does the same on your set, live: for each count it trains on
that many of each class and scores on the rest."""

TRY = """## Try it
Draw one of your classes: each trained network's verdict (below 80 % it says **not sure**, as in
Digits; a network always names one of its classes, even for a scribble that is none of them).
Then look at what the **frozen layers** see in your drawing: the maps that the digit network's
kernels make of it, exactly as in *Inside the CNN*, unchanged by your training."""

MAPS = """**Why features separate the classes.** Each drawing placed on a plane twice: by its 784
pixels, and by the 3,136 numbers the frozen conv layers compute from it (each squeezed to two
dimensions by principal component analysis, PCA). In pixels, two stars drawn a little apart
share few pixels and land far apart; in features they share strokes and corners. The score
above each map is the share of drawings whose nearest other drawing (in the full space, not
the plane) is of their own class."""

EXPORT = """## Export
The trained network as a [safetensors](https://huggingface.co/docs/safetensors) file with its
class names inside; the README shows the few lines of Python that load it and classify a
picture."""

CANVAS = (280, 280)
BRUSH = gr.Brush(default_size=12, colors=["#000000"], default_color="#000000",
                 color_mode="fixed")
MAX_SET_BYTES = 8_000_000
STARTER_PER_CLASS = 5

# Select the brush on each sketchpad as the page loads (a Sketchpad starts with no tool).
PAGE_JS = """
() => {
  let tries = 0;
  const timer = setInterval(() => {
    for (const id of ["tl-sketchpad", "tl-try-sketchpad"]) {
      const brush = document.querySelector(`#${id} button[aria-label="Brush"]`);
      if (brush && !brush.classList.contains("highlight")) brush.click();
    }
    if (++tries > 150) clearInterval(timer);
  }, 100);
}
"""


# ---------------------------------------------------------------------------------------------
# The session's drawings: {"labels": [...], "images": [28 × 28 arrays]}


def _empty_set() -> dict:
    return {"labels": [], "images": []}


def _drawing(sketch, what: str) -> np.ndarray:
    try:
        return digits.image_from_sketch(sketch, f"The canvas is empty: draw {what} first.")
    except ValueError as e:
        fail(e)


def set_view(drawings: dict):
    """The set as the page shows it: a sentence, and the drawings grouped by class."""
    labels = drawings["labels"]
    if not labels:
        return "No drawings yet.", ""
    classes = list(dict.fromkeys(labels))
    counts = {c: labels.count(c) for c in classes}
    summary = (f"**{len(classes)} class{'es' if len(classes) != 1 else ''}, {len(labels)} "
               "drawings**: " + ", ".join(f"{escaped(c)} {n}" for c, n in counts.items()))
    try:
        transfer.check_counts(labels)
    except ValueError as e:
        summary += f". *{escaped(e)}*"
    rows = []
    for c in classes:
        pictures = [(plots.gray_png(np.round(drawings["images"][i] * 255).astype(np.uint8)),
                     f"no. {i + 1}") for i, label in enumerate(labels) if label == c]
        rows.append(f"<h4 style='margin:8px 0 4px'>{escaped(c)}</h4>"
                    + plots.picture_grid(pictures, min_width=52))
    return summary, "".join(rows)


def _set_outputs(drawings: dict):
    summary, grid = set_view(drawings)
    classes = list(dict.fromkeys(drawings["labels"]))
    return drawings, summary, grid, gr.update(choices=classes)


def add_drawing(drawings, label, sketch):
    try:
        label = transfer.parse_label(label, "The class")
    except ValueError as e:
        fail(e)
    image = _drawing(sketch, "an example")
    drawings = drawings or _empty_set()
    if label not in drawings["labels"] and len(set(drawings["labels"])) >= transfer.MAX_CLASSES:
        fail(f"There are {transfer.MAX_CLASSES} classes already: at most "
             f"{transfer.MAX_CLASSES}.")
    if len(drawings["labels"]) >= transfer.MAX_EXAMPLES:
        fail(f"At most {transfer.MAX_EXAMPLES} drawings.")
    drawings = {"labels": [*drawings["labels"], label], "images": [*drawings["images"], image]}
    return (*_set_outputs(drawings), None)


def remove_drawing(drawings, number):
    drawings = drawings or _empty_set()
    n = len(drawings["labels"])
    if not n:
        fail("There are no drawings to remove.")
    try:
        i = transfer.checks.index(number, "The drawing's number", n)
    except ValueError as e:
        fail(e)
    keep = [k for k in range(n) if k != i - 1]
    return _set_outputs({"labels": [drawings["labels"][k] for k in keep],
                         "images": [drawings["images"][k] for k in keep]})


def clear_set():
    return _set_outputs(_empty_set())


def load_starter(per_class=STARTER_PER_CLASS, seed=0):
    try:
        examples = transfer.starter_examples(per_class, seed=int(seed or 0))
    except ValueError as e:
        fail(e)
    return _set_outputs({"labels": [examples.classes[y] for y in examples.labels],
                         "images": list(examples.images)})


def first_show(drawings):
    """The starter set, the first time the tab shows with no drawings."""
    if drawings and drawings["labels"]:
        return _set_outputs(drawings)
    return load_starter()


def download_set(drawings):
    drawings = drawings or _empty_set()
    if not drawings["labels"]:
        fail("There are no drawings to download yet.")
    path = files.folder("drawings-") / "drawings.json"
    examples = [{"label": label, "image": np.round(image, 3).tolist()}
                for label, image in zip(drawings["labels"], drawings["images"])]
    path.write_text(json.dumps({"examples": examples}))
    return str(path)


def upload_set(file):
    """A set downloaded from this tab (or written as the API's `examples`)."""
    import os

    path = file if isinstance(file, str) else getattr(file, "name", None)
    if not path or os.path.getsize(path) > MAX_SET_BYTES:
        fail(f"The file is missing or over {MAX_SET_BYTES // 1_000_000} MB.")
    try:
        examples = transfer.parse_examples(json.loads(open(path, encoding="utf-8").read()))
    except (UnicodeDecodeError, json.JSONDecodeError):
        fail("That is not a set of drawings downloaded from this tab (a JSON file).")
    except ValueError as e:
        fail(e)
    return _set_outputs({"labels": [examples.classes[y] for y in examples.labels],
                         "images": list(examples.images)})


# ---------------------------------------------------------------------------------------------
# Training the three ways side by side (the tab's run), and the stateless API


def _tab_checked(settings: dict) -> dict:
    try:
        checked = transfer.SETTINGS.check({k: v for k, v in settings.items()
                                          if k != "drawings"})
        drawings = settings.get("drawings") or _empty_set()
        examples = transfer.examples_from(drawings["labels"], drawings["images"])
    except ValueError as e:
        fail(e)
    checked.pop("method")
    return {**checked, "examples": examples, "methods": transfer.METHODS}


def frame(run: transfer.TransferRun, state: dict | None = None):
    state = state or run.record()
    return (results.curves_figure(state), results.status(state), results.numbers(state))


TRAINER = live.Trainer(transfer.TransferRun, _tab_checked, frame, shown=3, status=1)
TAB_SETTINGS = ("freeze", "steps", "augment", "seed")


def _settings(drawings, freeze, steps, augment, seed) -> dict:
    return {"drawings": drawings, "freeze": freeze, "steps": steps, "augment": augment,
            "seed": seed}


async def train_tab(drawings, freeze, steps, augment, seed, run):
    async for shown in TRAINER.train(run, _settings(drawings, freeze, steps, augment, seed)):
        yield shown


def prepare(drawings, freeze, steps, augment, seed, run):
    return TRAINER.prepare(run, _settings(drawings, freeze, steps, augment, seed))


def step_once(drawings, freeze, steps, augment, seed, run):
    return TRAINER.step_once(run, _settings(drawings, freeze, steps, augment, seed))


def reset(drawings, freeze, steps, augment, seed, run):
    """A fresh run on the set as it is now; while the set cannot be learned, what it lacks."""
    drawings = drawings or _empty_set()
    try:
        transfer.examples_from(drawings["labels"], drawings["images"])
    except ValueError as e:
        if isinstance(run, transfer.TransferRun):
            run.stop()
        return (plots.empty("Nothing to train yet."), f"*{escaped(e)}*", None, None)
    return TRAINER.reset(run, _settings(drawings, freeze, steps, augment, seed))


def pause(run):
    return TRAINER.pause(run)


def show_architecture(freeze, drawings):
    try:
        freeze = transfer.SETTINGS["freeze"].check(freeze)
    except ValueError:
        return gr.skip()
    classes = len(set((drawings or _empty_set())["labels"]))
    return results.architecture_html(freeze, classes or None)


async def transfer_learn(examples, method="feature_extraction", freeze=2, steps=150,
                         augment=True, seed=0, test_images=None):
    """/transfer_learn: a fresh network learns `examples` one way; streams
    {"step", "loss", "val_accuracy", "per_class", "predictions"} (predictions, one
    {"label", "confidence"} per test image, in the last)."""
    try:
        checked = transfer.SETTINGS.check({"method": method, "freeze": freeze, "steps": steps,
                                           "augment": augment, "seed": seed})
        parsed = transfer.parse_examples(examples)
        tests = transfer.parse_test_images(test_images)
    except ValueError as e:
        fail(e)
    run = transfer.TransferRun(parsed, methods=[checked["method"]], freeze=checked["freeze"],
                               augment=checked["augment"], seed=checked["seed"])
    last = None
    async for state in run.run(checked["steps"]):
        if "place" in state:
            yield {"step": 0, "status": "waiting", "place": state["place"]}
            continue
        last = results.api_record(state, checked["method"])
        yield {**last, "predictions": []}
    if last is not None:
        yield {**last, "predictions": run.predictions(tests, checked["method"])}


# ---------------------------------------------------------------------------------------------
# The curve measured on the session's drawings


async def measure_curve(drawings, freeze, augment, seed):
    try:
        drawings = drawings or _empty_set()
        examples = transfer.examples_from(drawings["labels"], drawings["images"])
        checked = transfer.SETTINGS.check({"freeze": freeze, "augment": augment, "seed": seed})
        if min(examples.counts()) < 2:
            raise ValueError("Every class needs 2 drawings or more.")
    except ValueError as e:
        fail(e)
    run = transfer.CurveRun(examples, freeze=checked["freeze"], augment=checked["augment"],
                            seed=checked["seed"])
    async for state in run.run():
        if "place" in state:
            yield gr.skip(), live.waiting_note(state)
        else:
            yield results.my_curve_figure(state), results.curve_status(state)


# ---------------------------------------------------------------------------------------------
# Trying the trained networks


def _trained(run) -> transfer.TransferRun:
    if not isinstance(run, transfer.TransferRun) or run.steps == 0:
        fail("Train the networks first (Play or Step above).")
    return run


def try_drawing(sketch, layer, run):
    if not isinstance(sketch, dict) or not (sketch.get("layers") or sketch.get("background")
                                            is not None or sketch.get("composite") is not None):
        return gr.skip(), gr.skip(), gr.skip()
    image = _drawing(sketch, "one of your classes")
    from models.digits import inside

    maps = inside.layers(image)
    chosen = next(x for x in maps["layers"] if x["name"].startswith(layer))
    feature = plots.maps_figure(chosen)
    if not isinstance(run, transfer.TransferRun) or run.steps == 0:
        return ("Train the networks first (Play or Step above), then draw again.",
                results.empty_verdicts(), feature)
    with run.lock:
        verdicts = {m: transfer.verdict(run.methods[m].model.classify(image)[0],
                                        run.examples.classes) for m in run.methods}
    return results.verdict_text(verdicts), results.verdict_figure(verdicts), feature


def confusion(method, run):
    run = _trained(run)
    with run.lock:
        validation = run.methods[method].validation(run.steps)
        images = run.examples.images
    return results.confusion_html(validation, images, run.examples.classes, method)


def confusion_if_trained(method, run):
    if not isinstance(run, transfer.TransferRun) or run.steps == 0:
        return gr.skip()
    return confusion(method, run)


def feature_maps_plane(drawings):
    drawings = drawings or _empty_set()
    if len(drawings["labels"]) < 3:
        return plots.empty("Draw or load some classes first.")
    classes = list(dict.fromkeys(drawings["labels"]))
    examples = transfer.Examples(np.stack(drawings["images"]).astype(np.float32),
                                 np.array([classes.index(c) for c in drawings["labels"]]),
                                 classes)
    return results.maps_figure(transfer.maps(examples))


def export_model(method, run):
    run = _trained(run)
    path = files.folder("model-") / f"{method}.safetensors"
    with run.lock:
        transfer.export(run.methods[method].model, run.examples.classes, path)
    return str(path)


# ---------------------------------------------------------------------------------------------


def build(on_show=()):
    gr.Markdown(INTRO)
    drawings = gr.State(_empty_set())
    run = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            label = gr.Dropdown([], value="star", allow_custom_value=True,
                                label="Class (pick one, or type a new name)",
                                elem_id="tl-class")
            sketch = gradio_internals.bounded(gr.Sketchpad(
                label="Draw an example", type="numpy", canvas_size=CANVAS, brush=BRUSH,
                layers=False, height=300, width=300, elem_id="tl-sketchpad"))
            with gr.Row():
                add = gr.Button("Add to the class", variant="primary", elem_id="tl-add")
                clear = gr.ClearButton([sketch], value="Clear", elem_id="tl-clear")
            with gr.Row():
                per_class = gr.Slider(2, 40, value=STARTER_PER_CLASS, step=1,
                                      label="Starter drawings per symbol", elem_id="tl-per-class")
                starter = gr.Button("Load the starter set", elem_id="tl-starter")
        with gr.Column(scale=2, min_width=300):
            summary = gr.Markdown(elem_id="tl-summary")
            grid = gr.HTML(elem_id="tl-set", max_height=420)
            with gr.Row():
                number = gr.Number(None, precision=0, minimum=1, label="Drawing no.",
                                   elem_id="tl-number", min_width=100)
                remove = gr.Button("Remove it", size="sm", elem_id="tl-remove")
                clear_all = gr.Button("Remove all", size="sm", elem_id="tl-clear-set")
            with gr.Row():
                download = gr.Button("Download the set", size="sm", elem_id="tl-download")
                upload = gr.UploadButton("Upload a set", file_types=[".json"], size="sm",
                                         elem_id="tl-upload")
            set_file = gr.File(label="Your drawings (JSON)", visible=True, height=60,
                               elem_id="tl-set-file")
            gr.Markdown(SET_NOTE)
    set_outputs = [drawings, summary, grid, label]
    add.click(add_drawing, [drawings, label, sketch], [*set_outputs, sketch],
              api_visibility="private", show_progress="hidden").then(None, js=PAGE_JS)
    clear.click(None, js=PAGE_JS)
    remove.click(remove_drawing, [drawings, number], set_outputs, api_visibility="private")
    clear_all.click(clear_set, None, set_outputs, api_visibility="private")
    starter.click(load_starter, per_class, set_outputs, api_visibility="private")
    download.click(download_set, drawings, set_file, api_visibility="private")
    upload.upload(upload_set, upload, set_outputs, api_visibility="private")

    gr.Markdown(TRAIN)
    architecture = gr.HTML(results.architecture_html(transfer.SETTINGS["freeze"].default),
                           elem_id="tl-architecture")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            c = {s.name: forms.control(s, elem_id=f"tl-{s.name}")
                 for s in transfer.SETTINGS if s.name in TAB_SETTINGS}
            play, pause_button, step, reset_button = live.controls("tl")
            status = gr.Markdown(elem_id="tl-status")
            numbers = gr.JSON(label="Numbers", elem_id="tl-numbers")
        with gr.Column(scale=2, min_width=300):
            curves = gr.Plot(label="Loss and validation accuracy", elem_id="tl-curves")
    settings = [c[name] for name in TAB_SETTINGS]
    inputs = [drawings, *settings, run]
    shown = [curves, status, numbers]
    playing = play.click(prepare, inputs, run, api_visibility="private",
                         show_progress="hidden").then(
        train_tab, inputs, shown, api_visibility="private", **live.STREAM)
    pause_button.click(pause, run, shown, api_visibility="private", show_progress="hidden")
    stepped = step.click(step_once, inputs, [*shown, run], cancels=[playing],
                         api_visibility="private", show_progress="hidden")
    gr.on([reset_button.click, *[x.submit for x in settings if hasattr(x, "submit")],
           drawings.change], reset, inputs, [*shown, run], cancels=[playing],
          api_visibility="private", show_progress="hidden", trigger_mode="always_last")

    gr.on([c["freeze"].change, drawings.change], show_architecture, [c["freeze"], drawings],
          architecture, api_visibility="private", show_progress="hidden",
          trigger_mode="always_last")

    gr.Markdown(CURVE)
    with gr.Row(equal_height=False):
        shipped = gr.Plot(label="The starter set (shipped)", elem_id="tl-curve")
        with gr.Column():
            measure = gr.Button("Measure on my drawings", elem_id="tl-measure")
            curve_text = gr.Markdown(elem_id="tl-measure-status")
            mine = gr.Plot(label="Your drawings", elem_id="tl-my-curve")
    measure.click(measure_curve, [drawings, c["freeze"], c["augment"], c["seed"]],
                  [mine, curve_text], api_visibility="private", **live.STREAM)

    gr.Markdown(TRY)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            try_sketch = gradio_internals.bounded(gr.Sketchpad(
                label="Draw one of your classes", type="numpy", canvas_size=CANVAS, brush=BRUSH,
                layers=False, height=300, width=300, elem_id="tl-try-sketchpad"))
            layer = gr.Radio(["conv1", "conv2", "conv3", "conv4"], value="conv1",
                             label="Frozen layer to look at", elem_id="tl-layer")
        with gr.Column(scale=2, min_width=300):
            verdict = gr.Markdown(elem_id="tl-verdict")
            verdict_plot = gr.Plot(label="Each way's probabilities", elem_id="tl-verdict-plot")
    feature_plot = gr.Plot(label="What the frozen layers see", elem_id="tl-feature-maps")
    gr.on([try_sketch.change, layer.change], try_drawing, [try_sketch, layer, run],
          [verdict, verdict_plot, feature_plot], api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")

    gr.Markdown(MAPS)
    plane = gr.Plot(label="Pixels and features", elem_id="tl-maps")
    gr.Markdown("**Per class, and the confusion matrix** (rows: the true class; columns: what "
                "the network said), on the held-out drawings; each cell shows its drawings.")
    with gr.Row():
        look = gr.Radio([(transfer.METHOD_NAMES[m], m) for m in transfer.METHODS],
                        value="feature_extraction", label="Network", elem_id="tl-look")
        show = gr.Button("Show", size="sm", elem_id="tl-show")
    matrix = gr.HTML(elem_id="tl-confusion")
    gr.on([look.change, show.click], confusion, [look, run], matrix, api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")
    for trained in (playing, stepped):  # the matrix follows each run's end and each step
        trained.then(confusion_if_trained, [look, run], matrix, api_visibility="private",
                     show_progress="hidden")
    drawings.change(feature_maps_plane, drawings, plane, api_visibility="private",
                    show_progress="hidden", trigger_mode="always_last")

    gr.Markdown(EXPORT)
    with gr.Row():
        export_method = gr.Radio([(transfer.METHOD_NAMES[m], m) for m in transfer.METHODS],
                                 value="feature_extraction", label="Network",
                                 elem_id="tl-export-method")
        export_button = gr.Button("Export", elem_id="tl-export")
    exported = gr.File(label="Model (safetensors)", height=60, elem_id="tl-exported")
    export_button.click(export_model, [export_method, run], exported, api_visibility="private")

    gr.on(list(on_show), first_show, drawings, set_outputs, api_visibility="private",
          show_progress="hidden").then(results.shipped_curve_figure, None, shipped,
                                       api_visibility="private", show_progress="hidden")

    # The stateless API: a client's examples, one way, streamed as JSON.
    with gr.Row(visible=False):
        api_examples, api_tests = gr.JSON(), gr.JSON()
        api_method = forms.control(transfer.SETTINGS["method"])
        api_settings = [forms.control(transfer.SETTINGS[name]) for name in TAB_SETTINGS]
        api_button, api_out = gr.Button(), gr.JSON()
    api_button.click(forms.endpoint(transfer.SETTINGS, transfer_learn, before=("examples",),
                                    after=("test_images",)),
                     [api_examples, api_method, *api_settings, api_tests], api_out,
                     api_name="transfer_learn", **live.STREAM)


DEMO = Demo("Transfer learning", "transfer", build, page_js=PAGE_JS)
