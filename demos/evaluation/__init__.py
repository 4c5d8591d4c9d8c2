"""The Evaluation tab: how good a model really is. Overfitting as it happens (the 784-16-16-10
network trained live on few or many digits, on the shared runner); the confusion matrices of the
Digits tab's two networks on the held-out digits, a cell's digits on a click; precision and
recall at a threshold (the sentiment models; Digits' "is it a digit at all?"); how sure a
figure is (intervals, and a paired test of two models). demos/evaluation/figures.py draws."""

from __future__ import annotations

import weakref

import gradio as gr

from demos import Demo, forms, live, plots
from demos.evaluation import figures
from demos.messages import fail
from models import evaluation
from models.evaluation import overfit
from models.runner import TRAIN_SHARE

INTRO = """# Evaluation: how good is a model, really?
A model is judged on examples it never learned from. So the digits are split three ways:
- **training digits**: the network learns from these (it sees their answers);
- **validation digits** (1,000): never learned from, checked after every epoch to choose
  *when to stop* and *which cure to use*;
- **test digits** (1,000): used **once**, at the very end, to report how good the choice was.
  A figure that helped you choose is no longer an honest estimate: if you tried ten settings
  and kept the best test score, that score would be flattered by luck. (The network of the
  Digits tab never trained on these test digits either.)

Every accuracy here comes with a **95 % interval**: a score on 1,000 examples is an estimate,
and the interval says how far the truth could plausibly be from it."""

OVERFIT = f"""## Overfitting, live
The 784-16-16-10 network of the Digits tab, trained from scratch on as few or as many MNIST
digits as you choose (Adam, learning rate {overfit.LEARNING_RATE:g}, batches of {overfit.BATCH}).
With 100 digits it soon knows them by heart: its **training loss** keeps falling towards zero
while the **validation loss** reaches a minimum and then **rises**: it is learning the quirks of
its 100 digits, not what makes a 7 a 7. The shaded band is the gap between the two.
**Early stopping** keeps the weights of the epoch with the lowest validation loss (the green
line; the dashed one is where it would stop after {overfit.PATIENCE} epochs without
improvement). When the run ends, those weights are scored on the test digits, once.

Then try the **cures**, one at a time, and compare (each finished run is kept below, its
validation loss dotted): **more data** (the best cure there is), **weight decay** (a penalty
on large weights), **dropout** (hidden units switched off at random while training, so no
unit can rely on another), **augmentation** (every digit shifted, turned and scaled afresh
each time it is used). Play trains on this server's shared trainer ({TRAIN_SHARE:.0%} of a
core's time per run)."""

CONFUSION = """## The confusion matrix
Each network of the Digits tab on the 1,000 held-out digits: a row for each true digit, a column
for what the network said. The diagonal is right; every other cell is a kind of mistake. Click a
cell to see its digits. **Precision** of a digit: of all the digits the network called a 3,
the share that were 3s. **Recall**: of all the 3s, the share it found. **F1** is their harmonic
mean (high only when both are)."""

THRESHOLD = """## Precision and recall: a threshold to choose
A classifier gives a score; a **threshold** turns it into a yes or no. Lower it and more is
called positive: **recall** rises (fewer positives missed) and **precision** usually falls (more
false alarms). Which matters more depends on the use: a spam filter wants precision, a
screening test recall. The curves show every threshold at once: precision against recall,
and the **ROC** curve (recall against the false positive rate; the dotted diagonal is
guessing). The orange point is your threshold.

**The sentiment models** of the Sentiment tab on 400 held-out sentences rated by people
(positive when the raters' mean was above zero); the score is the model's P(positive)."""

OPEN_SET = """**Is it a digit at all?** A classifier always names one of its classes, even for a
letter or a scribble. The Digits tab says "not a digit" when its **not-a-digit score** (the
larger of how far the CNN's features lie from the digits it knows, and how spread its
probabilities are) is 1 or more. Here it is on the 1,000 held-out digits and 400 drawings of
letters and shapes (a simulated hand, never trained on; the CNN did learn from other letters
and shapes drawn the same way, so this is its best case). Positive = "not a digit"."""

SIGNIFICANCE = """## How sure: is one model really better?
Two accuracies on the same 1,000 digits differ by chance too. A **paired test** looks only at
the items where the two models disagree: if both were equally good, each disagreement would be
won by either one like a coin toss (**McNemar's exact test**). The p-value is the chance of a
split at least as uneven as the one seen, if they were equally good."""

PAIR_NAMES = {"cnn": "the CNN", "mlp": "the 784-16-16-10 network",
              "sentiment-minilm": "fine-tuned MiniLM",
              "sentiment-encoder": "the from-scratch encoder"}
MODEL_NAMES = {"cnn": "The digit CNN", "mlp": "The 784-16-16-10 network"}
SHOWN_IN_CELL = 40  # digits shown in a clicked cell (the API gives up to 100)


def _checked(settings: dict) -> dict:
    try:
        checked = overfit.SETTINGS.check(settings)
    except ValueError as e:
        fail(e)
    return {**{k: v for k, v in checked.items() if k != "epochs"}, "steps": checked["epochs"]}


# The runs this session finished, to draw beside the one training (by run, not in a State: the
# live trainer draws a frame from the run alone).
_compared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def frame(run: overfit.OverfitRun, state: dict | None = None):
    state = state or run.record()
    return (figures.overfit_figure(state, _compared.get(run, [])),
            figures.overfit_status(state))


TRAINER = live.Trainer(overfit.OverfitRun, _checked, frame, shown=2, status=1)
NAMES = overfit.SETTINGS.names


def _settings(values) -> dict:
    return dict(zip(NAMES, values, strict=True))


async def train_tab(*args):
    *values, run = args
    async for shown in TRAINER.train(run, _settings(values)):
        yield shown


def prepare(*args):
    *values, run, compared = args
    run = TRAINER.prepare(run, _settings(values))
    _compared[run] = [c for c in compared if c["id"] != id(run)]
    return run


def step_once(*args):
    *values, run = args
    return TRAINER.step_once(run, _settings(values))


def reset(*args):
    """A fresh run, drawn beside the session's finished ones (Trainer.reset, with them known
    before the one drawing)."""
    *values, run, compared = args
    if isinstance(run, overfit.OverfitRun):
        run.stop()
    run = TRAINER.matching(None, _checked(_settings(values)))
    _compared[run] = list(compared)
    return (*frame(run), run)


def settings_changed(*args):
    """A fresh run when a setting changed; nothing when it did not (a slider's number box
    says it was released again when it loses focus, and the finished run would be lost)."""
    *values, run, compared = args
    try:
        checked = _checked(_settings(values))
    except gr.Error:
        return (gr.skip(),) * 3
    checked.pop("steps")
    if isinstance(run, overfit.OverfitRun) and vars(run.settings) == checked:
        return (gr.skip(),) * 3
    return reset(*args)


def pause(run):
    return TRAINER.pause(run)


def keep_finished(run, compared):
    """A run that reached its last epoch joins the comparison (once)."""
    if not isinstance(run, overfit.OverfitRun) or run.test is None:
        return compared, figures.comparison_table(compared)
    state = run.record()
    entry = {"id": id(run), "label": figures.run_label(vars(run.settings)),
             "history": state["history"], "best_epoch": state["best_epoch"],
             "test": state["test"]}
    compared = [c for c in compared if c["id"] != id(run)] + [entry]
    return compared, figures.comparison_table(compared)


def clear_compared(run):
    if isinstance(run, overfit.OverfitRun):
        _compared[run] = []
        return [], figures.comparison_table([]), *frame(run)
    return [], figures.comparison_table([]), gr.skip(), gr.skip()


async def train_overfit(n_train=100, epochs=150, weight_decay=0.0, dropout=0.0, augment=False,
                        seed=0):
    """/train_overfit: a fresh network trained; streams {"epoch", "train_loss", "val_loss",
    "train_accuracy", "val_accuracy", "best_epoch", "history"} (+ "status", "test" in the
    last: the best epoch's weights on the test digits)."""
    checked = _checked({"n_train": n_train, "epochs": epochs, "weight_decay": weight_decay,
                        "dropout": dropout, "augment": augment, "seed": seed})
    steps = checked.pop("steps")
    run = overfit.OverfitRun(**checked)
    async for state in run.run(steps):
        if "place" in state:
            yield {"epoch": 0, "status": "waiting", "place": state["place"]}
            continue
        yield {k: state[k] for k in ("epoch", "train_loss", "val_loss", "train_accuracy",
                                     "val_accuracy", "best_epoch", "history", "status", "test",
                                     "steps_per_second")}


# ---------------------------------------------------------------------------------------------
# The confusion matrix


def _call(fn, *args):
    try:
        return fn(*args)
    except ValueError as e:
        fail(e)


def digit_confusion(model="cnn") -> dict:
    """/digit_confusion"""
    return _call(evaluation.digit_confusion, model)


def confusion_examples(model="cnn", true_digit=4, predicted_digit=9) -> list:
    """/confusion_examples: the held-out digits of one cell, each a 28 x 28 picture with its
    caption (the network's confidence)."""
    examples = _call(evaluation.confusion_examples, model, true_digit, predicted_digit)
    t, p = int(true_digit), int(predicted_digit)
    return [(e["image"], f"#{e['index']}: " + figures.digit_caption(t, p, e["confidence"]))
            for e in examples]


def _biggest_mistake(matrix) -> tuple[int, int]:
    return max(((i, j) for i in range(10) for j in range(10) if i != j),
               key=lambda ij: matrix[ij[0]][ij[1]])


def show_confusion(model, true_digit=None, predicted_digit=None):
    """The network's matrix and figures, and a cell's digits: the one given, or at first its
    most frequent mistake."""
    result = _call(evaluation.digit_confusion, model)
    t, p = ((true_digit, predicted_digit) if None not in (true_digit, predicted_digit)
            else _biggest_mistake(result["matrix"]))
    wrong = [(plots.gray_png(evaluation.digit_image(w["index"])),
              figures.digit_caption(w["true"], w["predicted"], w["confidence"]))
             for w in result["most_confidently_wrong"]]
    return (figures.confusion_summary(result, MODEL_NAMES[model]),
            figures.confusion_table(result), figures.per_class_table(result),
            plots.picture_grid(wrong, min_width=64, elem_class="np-pictures np-pixelated"),
            t, p, *show_cell(model, t, p))


def show_cell(model, true_digit, predicted_digit):
    if true_digit is None or predicted_digit is None:
        return "", "Click a cell of the matrix."
    examples = _call(evaluation.confusion_examples, model, true_digit, predicted_digit)
    t, p = int(true_digit), int(predicted_digit)
    what = (f"the {t}s it got right" if t == p else f"{t}s that it called {p}")
    shown = (f" (the {SHOWN_IN_CELL} surest shown)" if len(examples) > SHOWN_IN_CELL else "")
    pictures = [(plots.gray_png(e["image"]),
                 f"#{e['index']} ({e['confidence']:.0%})") for e in examples[:SHOWN_IN_CELL]]
    return (plots.picture_grid(pictures, min_width=64, elem_class="np-pictures np-pixelated"),
            f"**{len(examples)}** held-out digits in this cell: {what}{shown}."
            if examples else f"No held-out digit in this cell: no {t} was called {p}.")


def cell_clicked(model, evt: gr.SelectData):
    row, column = evt.index
    if column == 0:  # the row's label: the digits it got right
        column = row + 1
    return (row, column - 1, *show_cell(model, row, column - 1))


# ---------------------------------------------------------------------------------------------
# Precision and recall at a threshold


def sentiment_threshold(threshold=0.5, model="sentiment-minilm") -> dict:
    """/sentiment_threshold"""
    return _call(evaluation.sentiment_threshold, threshold, model)


def open_set_threshold(threshold=1.0) -> dict:
    """/open_set_threshold"""
    return _call(evaluation.open_set_threshold, threshold)


def show_sentiment(threshold, model):
    counts = sentiment_threshold(threshold, model)
    texts_positive = evaluation.sentiment_sample()[1]
    curves = evaluation.curves(evaluation.sentiment_scores(model), texts_positive)
    return (figures.counts_html(counts, "positive", "negative"),
            figures.curves_figure(curves, counts, f"{model}, threshold {float(threshold):.2f}"),
            figures.sentence_list(evaluation.sentiment_mistakes(threshold, model),
                                  float(threshold)))


def show_open_set(threshold):
    counts = open_set_threshold(threshold)
    curves = evaluation.curves(*evaluation.open_set_scores())
    mistakes = evaluation.open_set_mistakes(threshold)
    pictures = [(plots.gray_png(m["image"]),
                 f"{m['what']}, score {m['score']:.2f}: "
                 + ("called not a digit" if m["digit"] else "let through"))
                for m in mistakes[:48]]
    text = (f"**{len(mistakes)}** wrong at threshold {float(threshold):.2f}"
            + (", the surest 48 shown:" if len(mistakes) > 48 else ":") if mistakes
            else "Nothing is wrong at this threshold.")
    return (figures.counts_html(counts, "not a digit", "digit"),
            figures.curves_figure(curves, counts,
                                  f"not a digit when the score ≥ {float(threshold):.2f}"),
            text, plots.picture_grid(pictures, min_width=64,
                                     elem_class="np-pictures np-pixelated"))


# ---------------------------------------------------------------------------------------------
# How sure


def significance_test(task="digits") -> dict:
    """/significance_test"""
    return _call(evaluation.significance_test, task)


def show_significance(task):
    return figures.significance_markdown(significance_test(task), PAIR_NAMES)


def first_show(model, true_digit, predicted_digit):
    """Each time the tab shows: as it was left (the cell chosen, the run trained), or filled
    the first time."""
    return show_confusion(model, true_digit, predicted_digit)


def build(on_show=()):
    gr.Markdown(INTRO)

    gr.Markdown(OVERFIT)
    run, compared = gr.State(None), gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            c = {s.name: forms.control(s, elem_id=f"ev-{s.name}") for s in overfit.SETTINGS}
            play, pause_button, step, reset_button = live.controls("ev")
            status = gr.Markdown(elem_id="ev-status")
        with gr.Column(scale=2, min_width=300):
            curves = gr.Plot(label="Training vs validation", elem_id="ev-curves")
    with gr.Row():
        table = gr.Dataframe(figures.comparison_table([]), label="Runs to compare (finished)",
                             interactive=False, wrap=True, elem_id="ev-runs")
    clear = gr.Button("Clear the comparison", size="sm", elem_id="ev-clear-runs")
    settings = [c[name] for name in NAMES]
    shown = [curves, status]
    playing = play.click(prepare, [*settings, run, compared], run, api_visibility="private",
                         show_progress="hidden").then(
        train_tab, [*settings, run], shown, api_visibility="private", **live.STREAM)
    playing.then(keep_finished, [run, compared], [compared, table], api_visibility="private",
                 show_progress="hidden")
    pause_button.click(pause, run, shown, api_visibility="private", show_progress="hidden")
    step.click(step_once, [*settings, run], [*shown, run], cancels=[playing],
               api_visibility="private", show_progress="hidden")
    reset_button.click(reset, [*settings, run, compared], [*shown, run], cancels=[playing],
                       api_visibility="private", show_progress="hidden")
    gr.on([*[x.release for x in settings if hasattr(x, "release")],
           *[x.change for x in settings if not hasattr(x, "release")]],
          settings_changed, [*settings, run, compared], [*shown, run],
          api_visibility="private", show_progress="hidden", trigger_mode="always_last")
    clear.click(clear_compared, run, [compared, table, *shown], api_visibility="private",
                show_progress="hidden")

    gr.Markdown(CONFUSION)
    model = gr.Radio([(name, key) for key, name in MODEL_NAMES.items()], value="cnn",
                     label="Network", elem_id="ev-model")
    summary = gr.Markdown(elem_id="ev-summary")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            matrix = gr.Dataframe(label="Confusion matrix (rows: true digit; columns: said)",
                                  interactive=False, elem_id="ev-matrix")
        with gr.Column(scale=2, min_width=260):
            per_class = gr.Dataframe(label="Per digit", interactive=False,
                                     elem_id="ev-per-class")
    with gr.Row():
        # No cell at first: the tab opens on the network's most frequent mistake.
        true_digit = gr.Dropdown(list(range(10)), value=None, label="True digit",
                                 elem_id="ev-true", min_width=120)
        predicted_digit = gr.Dropdown(list(range(10)), value=None, label="Said",
                                      elem_id="ev-said", min_width=120)
    cell_text = gr.Markdown(elem_id="ev-cell-text")
    cell = gr.HTML(elem_id="ev-cell", max_height=420)
    gr.Markdown("**The mistakes it was surest of** (its confidence in its wrong answer):")
    wrong = gr.HTML(elem_id="ev-wrong")
    confusion_outputs = [summary, matrix, per_class, wrong, true_digit, predicted_digit, cell,
                         cell_text]
    model.change(show_confusion, model, confusion_outputs, api_visibility="private",
                 show_progress="hidden")
    matrix.select(cell_clicked, model, [true_digit, predicted_digit, cell, cell_text],
                  api_visibility="private", show_progress="hidden")
    gr.on([true_digit.input, predicted_digit.input], show_cell,
          [model, true_digit, predicted_digit], [cell, cell_text], api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")

    gr.Markdown(THRESHOLD)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            sentiment_model = gr.Radio(evaluation.sentiment_models(), value="sentiment-minilm",
                                       label="Model", elem_id="ev-sentiment-model")
            threshold = gr.Slider(0, 1, value=0.5, step=0.01, label="Threshold on P(positive)",
                                  elem_id="ev-threshold")
            counts = gr.HTML(elem_id="ev-counts")
        with gr.Column(scale=2, min_width=300):
            pr_plot = gr.Plot(label="Precision-recall and ROC", elem_id="ev-pr")
    sentences = gr.HTML(elem_id="ev-sentences", max_height=360)
    # As the slider moves (each answer takes milliseconds: the scores are computed once).
    gr.on([threshold.change, sentiment_model.change], show_sentiment,
          [threshold, sentiment_model], [counts, pr_plot, sentences], api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")

    gr.Markdown(OPEN_SET)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            open_threshold = gr.Slider(*evaluation.OPEN_SET_RANGE, value=1.0, step=0.05,
                                       label="Threshold on the not-a-digit score",
                                       elem_id="ev-open-threshold")
            open_counts = gr.HTML(elem_id="ev-open-counts")
        with gr.Column(scale=2, min_width=300):
            open_plot = gr.Plot(label="Precision-recall and ROC", elem_id="ev-open-pr")
    open_text = gr.Markdown(elem_id="ev-open-text")
    open_wrong = gr.HTML(elem_id="ev-open-wrong", max_height=360)
    open_threshold.change(show_open_set, open_threshold,
                           [open_counts, open_plot, open_text, open_wrong],
                           api_visibility="private", show_progress="hidden",
                           trigger_mode="always_last")

    gr.Markdown(SIGNIFICANCE)
    with gr.Row():
        task = gr.Radio([("the CNN vs the 784-16-16-10 network (digits)", "digits"),
                         ("fine-tuned MiniLM vs the from-scratch encoder (sentiment)",
                          "sentiment")], value="digits", label="Question", elem_id="ev-task")
    test_button = gr.Button("Test", variant="primary", elem_id="ev-test")
    verdict = gr.Markdown(elem_id="ev-significance")
    gr.on([test_button.click, task.change], show_significance, task, verdict,
          api_visibility="private", show_progress="hidden", trigger_mode="always_last")

    shown_first = gr.on(list(on_show), first_show, [model, true_digit, predicted_digit],
                        confusion_outputs, api_visibility="private", show_progress="hidden")
    shown_first.then(settings_changed, [*settings, run, compared], [*shown, run],
                     api_visibility="private", show_progress="hidden").then(
        show_open_set, open_threshold, [open_counts, open_plot, open_text, open_wrong],
        api_visibility="private", show_progress="hidden").then(
        show_significance, task, verdict, api_visibility="private", show_progress="hidden").then(
        show_sentiment, [threshold, sentiment_model], [counts, pr_plot, sentences],
        api_visibility="private", show_progress="hidden")

    # The named API: each takes its keyword arguments and returns JSON (or the cell's pictures).
    with gr.Row(visible=False):
        api_model = gr.Textbox("cnn")
        api_true, api_said = gr.Number(4), gr.Number(9)
        api_threshold, api_sentiment_model = gr.Number(0.5), gr.Textbox("sentiment-minilm")
        api_task = gr.Textbox("digits")
        api_json = gr.JSON()
        api_gallery = gr.Gallery(format="png")  # lossless: the digits as they are
        api_buttons = [gr.Button() for _ in range(6)]
        api_settings = [forms.control(s) for s in overfit.SETTINGS]
    api_buttons[0].click(digit_confusion, api_model, api_json, api_name="digit_confusion")
    api_buttons[1].click(confusion_examples, [api_model, api_true, api_said], api_gallery,
                         api_name="confusion_examples")
    api_buttons[2].click(sentiment_threshold, [api_threshold, api_sentiment_model], api_json,
                         api_name="sentiment_threshold")
    api_buttons[3].click(open_set_threshold, api_threshold, api_json,
                         api_name="open_set_threshold")
    api_buttons[4].click(significance_test, api_task, api_json, api_name="significance_test")
    api_buttons[5].click(forms.endpoint(overfit.SETTINGS, train_overfit, after=()),
                         api_settings, api_json, api_name="train_overfit", **live.STREAM)


DEMO = Demo("Evaluation", "evaluation", build)
