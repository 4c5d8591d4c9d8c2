"""The Learning tab's last section: a tiny transformer trained in front of the learner, its loss,
every head's attention on a fixed example and its predictions streamed as it learns."""

from __future__ import annotations

import html
import math

import gradio as gr

from demos import live, plots
from demos.messages import fail
from models.checks import integer
from models.learning import transformer as lt
from models.runner import TRAIN_SHARE

INTRO = """## 4. A transformer learns, live
A tiny transformer (two layers, two heads, a width of 32: about 9,000 weights, from random)
learns a task in front of you. **Repeat** is the one to watch: random letters, with one random
stretch said twice. The second copy can be predicted only by an **induction head**: a head that
looks back to where the current letter came before and copies the letter that *followed* it,
which needs two heads in two layers working together (one notes each position's previous letter,
the next one searches for it). For a while nothing happens; then, within a few hundred steps,
the loss falls off a cliff, and one head's pattern becomes a diagonal stripe just off the main
one, pointing one step after the earlier copy. The tab marks that moment. With one layer it
never comes."""

HOW = f"""**Induction score**: on 64 fixed sequences, the mean attention from each position of the
second copy to the position just after its letter's earlier occurrence, for the best head (1 =
all of its attention there). Above {lt.INDUCTION_FORMED} counts as formed. **Loss**: the mean
cross-entropy of the predictions that can be right (the second copy after its first letter; for
sorting, the sorted half); the rest are random, and no model can beat chance there. Training:
AdamW on fresh random batches of {lt.BATCH}, capped at {lt.MAX_STEPS:,} steps and
{lt.MAX_SECONDS:g} s per Play, training {TRAIN_SHARE:.0%} of the time so others are served."""

BLUE, ORANGE = plots.BASE, plots.ACCENT
ATTENTION_SCALE = [[0.0, "rgba(0,0,0,0)"], [1.0, ORANGE]]



def curve_figure(run: lt.Run) -> plots.PlotData:
    """The loss (left) and the induction score (right) per frame, and the step where the head
    formed."""
    h = run.history
    steps = [e["step"] for e in h]
    traces = [{"type": "scatter", "mode": "lines", "name": "loss (what can be learned)",
               "x": steps, "y": [round(e["loss"], 4) for e in h],
               "line": {"color": ORANGE, "width": 2}}]
    layout = {}
    if run.task.name == "repeat":
        traces.append({"type": "scatter", "mode": "lines", "name": "induction score",
                       "x": steps, "y": [round(e["induction_score"], 4) for e in h],
                       "yaxis": "y2", "line": {"color": BLUE, "width": 2, "dash": "dot"}})
        layout["yaxis2"] = {"overlaying": "y", "side": "right", "range": [0, 1],
                            "title": {"text": "induction score"}, "showgrid": False}
    shapes, notes = [], []
    if run.formed_at is not None:
        shapes.append({"type": "line", "x0": run.formed_at, "x1": run.formed_at, "y0": 0,
                       "y1": 1, "yref": "paper", "line": {"color": plots.FONT_COLOR,
                                                          "dash": "dash"}})
        notes.append({"x": run.formed_at, "y": 1, "yref": "paper", "showarrow": False,
                      "xanchor": "left", "text": f" induction head forms: step {run.formed_at}"})
    top = max([e["loss"] for e in h] + [math.log(len(run.task.vocab))])
    return plots.figure(traces, height=340, title="Loss and induction score", shapes=shapes,
                        annotations=notes, legend={"orientation": "h", "y": -0.25},
                        margin=dict(l=50, r=50, t=40, b=40),
                        xaxis={"title": {"text": "step"}},
                        yaxis={"title": {"text": "loss (nats)"}, "range": [0, top * 1.05]},
                        **layout)


def attention_figure(run: lt.Run, state: dict) -> plots.PlotData:
    """Every head's attention on the fixed example: row = the position attending, column =
    the position attended to; for repeat, the cells an induction head would light are ringed."""
    example = state["example"]
    tokens = [f"{i}:{t}" for i, t in enumerate(example["tokens"])]
    attention = example["attention"]
    L, H = len(attention), len(attention[0])
    gap = 0.06
    width, height = (1 - gap * (H - 1)) / H, (1 - gap * (L - 1) - 0.08) / L
    traces, layout, notes = [], {}, []
    scores = state.get("head_scores")
    target = None
    if run.task.name == "repeat":
        s, k = (int(v) for v in run.eval["repeat"][0])
        rows = list(range(s + k, s + 2 * k))
        target = {"x": [tokens[i - k + 1] for i in rows], "y": [tokens[i] for i in rows]}
    for layer in range(L):
        for head in range(H):
            n = layer * H + head + 1
            x, y = ("x" if n == 1 else f"x{n}"), ("y" if n == 1 else f"y{n}")
            traces.append({"type": "heatmap", "z": [[round(v, 3) for v in row]
                                                    for row in attention[layer][head]],
                           "x": tokens, "y": tokens, "xaxis": x, "yaxis": y, "zmin": 0,
                           "zmax": 1, "colorscale": ATTENTION_SCALE, "showscale": False,
                           "hovertemplate": "%{y} looks at %{x}: %{z:.2f}<extra></extra>"})
            if target:
                traces.append({"type": "scatter", "mode": "markers", "xaxis": x, "yaxis": y,
                               **target, "hoverinfo": "skip", "showlegend": False,
                               "marker": {"symbol": "square-open", "size": 7,
                                          "color": BLUE, "line": {"width": 1}}})
            x0 = head * (width + gap)
            y0 = 1 - 0.08 - (layer + 1) * height - layer * gap
            axis = {"showticklabels": False, "ticks": "", "showgrid": False}
            layout[f"xaxis{n if n > 1 else ''}"] = {**axis, "domain": [x0, x0 + width],
                                                    "anchor": y, "type": "category"}
            layout[f"yaxis{n if n > 1 else ''}"] = {**axis, "domain": [y0, y0 + height],
                                                    "anchor": x, "type": "category",
                                                    "autorange": "reversed"}
            score = f", induction {scores[layer][head]:.2f}" if scores else ""
            notes.append({"x": x0 + width / 2, "y": y0 + height, "xref": "paper",
                          "yref": "paper", "yanchor": "bottom", "showarrow": False,
                          "text": f"layer {layer + 1}, head {head + 1}{score}",
                          "font": {"size": 11}})
    return plots.figure(traces, height=150 + 230 * L, annotations=notes,
                        title="Each head's attention on one example (rows attend to columns)",
                        margin=dict(l=10, r=10, t=50, b=10), showlegend=False, **layout)


def predictions_html(run: lt.Run, state: dict) -> str:
    """The example's tokens, and under each the model's guess of the next one: green when a
    guess that can be right is, red when it is wrong, grey where nothing can be known."""
    e = state["example"]
    cells = []
    for i, token in enumerate(e["tokens"]):
        guess = e["predicted"][i - 1] if i else ""
        if i and e["learnable"][i - 1]:
            right = guess == token
            colour = "#16a34a" if right else "#dc2626"
            mark = "✓" if right else "✗"
            title = f"predicted {guess} ({e['probability'][i - 1]:.0%}), the answer is {token}"
        else:
            colour, mark = plots.FONT_COLOR, ""
            title = "nothing to predict here: a random token" if i else "the first token"
        cells.append(
            f'<span title="{html.escape(title)}" style="display:inline-block;text-align:center;'
            f'min-width:1.6em;margin:1px;font-family:monospace">'
            f'<b>{html.escape(token)}</b><br><span style="color:{colour}">'
            f'{html.escape(guess) or "·"}{mark}</span></span>')
    return ('<div id="transformer-predictions-row">' + "".join(cells) + "</div>"
            '<div style="font-size:0.85em">Top: the example. Below each token: what the model '
            "predicted it would be, from the tokens before it.</div>")


def status_text(run: lt.Run, state: dict) -> str:
    rate = state.get("steps_per_second")
    parts = [f"**Step {state['step']:,}** · loss **{state['loss']:.3f}** · accuracy "
             f"{state['accuracy']:.0%}"]
    if state["induction_score"] is not None:
        parts.append(f"induction score **{state['induction_score']:.2f}**")
    if rate:
        parts.append(f"{rate:,.0f} steps/s")
    text = " · ".join(parts)
    if run.formed_at is not None:
        text += f"  \nThe induction head formed at step {run.formed_at:,}."
    notes = {"ready": "Ready: press Play.", "paused": "Paused: Play goes on, Step takes one.",
             "capped": f"Paused after {lt.MAX_SECONDS:g} s, the limit of one Play.",
             "done": "Done: the steps asked for are taken; Play goes on."}
    if run.status in notes:
        text += "  \n" + notes[run.status]
    return text


def frame(run: lt.Run, state: dict | None = None):
    state = state or run.record()
    numbers = {"step": state["step"], "loss": round(state["loss"], 5),
               "induction_score": (None if state["induction_score"] is None else
                                   round(state["induction_score"], 4))}
    return (curve_figure(run), attention_figure(run, state), predictions_html(run, state),
            status_text(run, state), numbers)


def _checked(task, layers, heads, seed) -> tuple:
    """(Task, layers, heads, seed), checked as the model checks them, or a gr.Error."""
    try:
        task, layers, heads, _, seed = lt.check(task, layers, heads, 1, seed)
    except ValueError as e:
        fail(e)
    return task, layers, heads, seed


def _matching(run, task: lt.Task, layers: int, heads: int, seed: int) -> lt.Run:
    """The tab's run if it has these (checked) settings, else a fresh one (the old one, if
    playing, stops at its next frame)."""
    if (isinstance(run, lt.Run) and run.task is task and run.layers == layers
            and run.heads == heads and run.seed == seed):
        return run
    if isinstance(run, lt.Run):
        run.stop()
    return lt.Run(task.name, layers, heads, seed)


_streaming = live.Streaming()


async def train_transformer(task="repeat", layers=2, heads=2, steps=None, seed=0, run=None):
    """Train the tiny transformer; stream (loss and induction score, every head's attention,
    the example's predictions, status, the numbers) several times a second, or its place in
    line while the server's trainers are busy. The tab passes its run, which goes on; a client
    starts afresh."""
    checked = _checked(task, layers, heads, seed)
    try:
        steps = integer(checked[0].steps if steps is None else steps, "Steps", 1, lt.MAX_STEPS)
    except ValueError as e:
        fail(e)
    run = _matching(run, *checked)  # (Play's prepare has un-stopped it: a Pause since holds)

    def waiting(state):
        return (gr.skip(), gr.skip(), gr.skip(),
                status_text(run, state) + "  \n" + live.waiting_note(state), gr.skip())

    async for shown in _streaming.frames(run, run.run(steps), lambda state: frame(run, state),
                                         waiting):
        yield shown


def prepare(task, layers, heads, seed, run):
    """Before Play: the tab's run, or a fresh one if the settings changed."""
    run = _matching(run, *_checked(task, layers, heads, seed))
    run.stopped = False
    return run


def step_once(task, layers, heads, seed, run):
    run = prepare(task, layers, heads, seed, run)
    run.step()
    return (*frame(run), run)


def reset(task, layers, heads, seed, run):
    if isinstance(run, lt.Run):
        run.stop()
    run = _matching(None, *_checked(task, layers, heads, seed))
    return (*frame(run), run)


def pause(run):
    if not isinstance(run, lt.Run):
        return (gr.skip(),) * 5
    run.pause()
    if run in _streaming:
        return (gr.skip(),) * 5
    return frame(run)


def task_changed(task):
    t = lt.TASKS.get(task)
    return gr.update() if t is None else gr.update(value=t.steps)


def build(on_show=()):
    gr.Markdown(INTRO)
    run = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            task = gr.Radio([(t.label, t.name) for t in lt.TASKS.values()], value="repeat",
                            label="Task", elem_id="transformer-task")
            layers = gr.Radio([1, 2], value=2, label="Layers", elem_id="transformer-layers")
            heads = gr.Radio([1, 2, 4], value=2, label="Heads per layer",
                             elem_id="transformer-heads")
            with gr.Row():
                steps = gr.Number(lt.TASKS["repeat"].steps, precision=0, minimum=1,
                                  maximum=lt.MAX_STEPS, label="Steps per Play",
                                  elem_id="transformer-steps")
                seed = gr.Number(0, precision=0, minimum=0, label="Seed",
                                 elem_id="transformer-seed")
            play, pause_button, step, reset_button = live.controls("transformer")
            status = gr.Markdown(elem_id="transformer-status")
            numbers = gr.JSON(label="Numbers", elem_id="transformer-numbers")
            gr.Markdown(HOW)
        with gr.Column(scale=2, min_width=300):
            curve = gr.Plot(label="Loss", elem_id="transformer-curve")
            predictions = gr.HTML(elem_id="transformer-predictions")
            attention = gr.Plot(label="Attention", elem_id="transformer-attention")
    shown = [curve, attention, predictions, status, numbers]
    settings = [task, layers, heads, seed]
    playing = play.click(prepare, [*settings, run], run, api_visibility="private",
                         show_progress="hidden").then(
        train_transformer, [task, layers, heads, steps, seed, run], shown,
        api_name="train_transformer", **live.STREAM)
    pause_button.click(pause, run, shown, api_visibility="private", show_progress="hidden")
    step.click(step_once, [*settings, run], [*shown, run], cancels=[playing],
               api_visibility="private", show_progress="hidden")
    gr.on([reset_button.click, task.input, layers.input, heads.input, seed.submit, *on_show],
          reset, [*settings, run], [*shown, run], cancels=[playing],
          api_visibility="private", show_progress="hidden")
    task.input(task_changed, task, steps, api_visibility="private", show_progress="hidden")
