"""The Recurrent networks tab: a cell unrolled with its arithmetic, RNN, LSTM and GRU learning a
memory task side by side, backpropagation through time seen, and (demos/recurrent/language.py)
the LSTM against the GPT on Shakespeare."""

from __future__ import annotations

import html

import gradio as gr

from demos import Demo, forms, live, plots
from demos.messages import fail
from demos.recurrent import language
from models import recurrent as rec
from models.runner import TRAIN_SHARE

INTRO = """# Recurrent networks
A **recurrent network** reads a sequence one step at a time and carries a **hidden state** from
each step to the next: a vector that is its memory of everything read so far. Each step is the
same small network (the same weights) applied again, to the new input and to the state. An
**LSTM** (long short-term memory) adds **gates**, numbers between 0 and 1 made by sigmoids,
that decide what to forget, what to write and what to show, and a second state, the **cell
state**, that the gates can leave untouched for many steps. A **GRU** is a lighter cousin with
two gates. Why the gates matter is what this tab is about: a plain RNN's gradient **vanishes**
as it goes back through the steps, so it cannot learn what depends on something long ago."""

UNROLL = """## 1. The unrolled network
Unrolling means drawing the one cell once per step, with the state passed along. Type a short
sequence (the letters of the memory task below: **A B C D** to remember, **w x y z** as
distractors, **?** to ask) and see each step's arithmetic with its numbers, for a freshly
initialised cell of a few units. Every input is **one-hot**: a vector of 9 with a single 1, so
`W_x x_t` is simply the column of `W_x` for that letter."""

MEMORY = f"""## 2. Learning live: remember a symbol across N steps
Each sequence starts with a symbol (A, B, C or D), then N − 1 random distractors (w, x, y, z),
then **?**: the network must answer the symbol it saw **N steps earlier**. Guessing gives
{rec.CHANCE:.0%}. The three cells train side by side on the same batches from the same seed
(Adam, learning rate {rec.LEARNING_RATE:g}, batches of {rec.BATCH}), so what differs is the
cell. Raise N and watch which ones still learn. The right-hand picture is
**backpropagation through time**: the size of the loss's gradient with respect to each step's
hidden state, ‖∂L/∂h_t‖, on one fixed sequence, on a log scale. The loss is at the last step;
to learn the task, that gradient must reach step 1, where the symbol was.

Measured (three seeds, {rec.SETTINGS["steps"].default} steps each, by
tests/benchmarks/bench_recurrent.py): all three cells learn a delay of 5; from 20 on, the RNN
stays at chance, while the LSTM learns 20 in two seeds of three and 30 or 40 in one; the GRU
needs more steps. Press Play again to give them more."""

HOW = f"""**How to read the gradient picture.** Each point is how much the loss would change if
that step's hidden state were nudged: the signal that tells the weights what to change at that
step. Backpropagation multiplies it by each step's Jacobian on its way back; for a plain RNN those
factors are below 1 and the signal shrinks geometrically (a straight falling line on the log
scale): by step 1 it is too faint to learn from. The LSTM's cell state is a sum, not a product of
squashings, and a forget gate near 1 passes its gradient back almost whole: the dashed line is
‖∂L/∂c_t‖, the gradient along that path. A line that stops
means truncation: no gradient at all before the last k steps. Accuracy and loss are measured on
{rec.EVAL_SEQUENCES} fixed sequences; each Play is capped at {rec.MAX_SECONDS:g} s and trains
{TRAIN_SHARE:.0%} of the time, so others are served."""

INSIDE = """**Inside the trained cell** (as LSTMVis shows a model's states, but live): the
LSTM's forget gate, input gate and cell state on the sequence above, a row per unit, a column
per step. Once it has learned, look for units whose input gate opens at step 1, where the symbol
is, and whose forget gate stays near 1 (orange) through the distractors while their cell state
holds a value: those units are the memory. Before training, the gates are a blur."""

EXPLODING = """## 3. Exploding gradients, and what clipping does
Gradients can also **explode**: when the recurrent weights are large, each step back multiplies
the gradient by more than 1. Scale an untrained network's recurrent weights up and see
‖∂L/∂h_t‖ grow as it goes back; a step of gradient descent with such a gradient can throw the
weights far off. **Gradient clipping** rescales a gradient whose norm is above a limit down to
the limit: the direction is kept, the size is bounded. Clipped as it flows back, step by step
(the dotted line), it cannot grow; clipped as a whole before the weights move (what *Clip* does
in section 2), the step is bounded. Either cures an explosion; neither does anything for a
gradient that vanished (a tiny gradient is not clipped).

The other two fixes are in section 2: **truncated BPTT** (backpropagate only the last k steps:
cheaper, and stable, but no gradient reaches further back: set *Truncate* at or below the delay
and no cell learns to store the symbol) and the gated cells themselves, **LSTM and GRU**."""

CELL_NAMES = rec.CELLS
COLOURS = {"rnn": "#ef4444", "lstm": plots.BASE, "gru": "#16a34a"}


# -- 1. The unrolled network ---------------------------------------------------------------------


def _vector(v) -> str:
    return "[" + ", ".join(f"{x:+.2f}" for x in v) + "]"


def _letter(token: str) -> str:
    return html.escape(token)


def arithmetic_html(unrolled: dict) -> str:
    """Each step's arithmetic written out with its numbers, one block per step."""
    cell, blocks = unrolled["cell"], []
    for t, s in enumerate(unrolled["steps"], 1):
        lines = [f"<b>step {t}</b>: x<sub>{t}</sub> = one-hot({_letter(s['token'])})"]
        hp = _vector(s["h_prev"])
        if cell == "rnn":
            lines += [f"h<sub>{t}</sub> = tanh(W<sub>x</sub>x<sub>{t}</sub> + W<sub>h</sub>h<sub>"
                      f"{t - 1}</sub> + b)",
                      f"   = tanh({_vector(s['Wx_x'])} + W<sub>h</sub>·{hp} + "
                      f"{_vector(s['b'])})",
                      f"   = tanh({_vector(s['Wx_x'])} + {_vector(s['Wh_h'])} + "
                      f"{_vector(s['b'])})",
                      f"   = tanh({_vector(s['z'])}) = <b>{_vector(s['h'])}</b>"]
        elif cell == "lstm":
            names = {"f": "forget", "i": "input", "o": "output"}
            for g in "fio":
                lines.append(f"{g}<sub>{t}</sub> = σ(W<sub>{g}</sub>[x<sub>{t}</sub>, h<sub>"
                             f"{t - 1}</sub>] + b<sub>{g}</sub>) = σ({_vector(s[g + '_z'])}) = "
                             f"{_vector(s[g])}  ({names[g]} gate)")
            lines += [f"c̃<sub>{t}</sub> = tanh(W<sub>c</sub>[x<sub>{t}</sub>, h<sub>{t - 1}"
                      f"</sub>] + b<sub>c</sub>) = {_vector(s['g_tilde'])}  (candidate)",
                      f"c<sub>{t}</sub> = f<sub>{t}</sub> ⊙ c<sub>{t - 1}</sub> + i<sub>{t}"
                      f"</sub> ⊙ c̃<sub>{t}</sub> = {_vector(s['f'])} ⊙ {_vector(s['c_prev'])} + "
                      f"{_vector(s['i'])} ⊙ {_vector(s['g_tilde'])} = {_vector(s['c'])}",
                      f"h<sub>{t}</sub> = o<sub>{t}</sub> ⊙ tanh(c<sub>{t}</sub>) = "
                      f"<b>{_vector(s['h'])}</b>"]
        else:
            lines += [f"r<sub>{t}</sub> = σ(W<sub>r</sub>[x<sub>{t}</sub>, h<sub>{t - 1}</sub>]"
                      f" + b<sub>r</sub>) = {_vector(s['r'])}  (reset gate)",
                      f"z<sub>{t}</sub> = σ(W<sub>z</sub>[x<sub>{t}</sub>, h<sub>{t - 1}</sub>]"
                      f" + b<sub>z</sub>) = {_vector(s['z'])}  (update gate)",
                      f"n<sub>{t}</sub> = tanh(W<sub>n</sub>x<sub>{t}</sub> + b<sub>n</sub> + "
                      f"r<sub>{t}</sub> ⊙ (U<sub>n</sub>h<sub>{t - 1}</sub> + c<sub>n</sub>)) = "
                      f"{_vector(s['n'])}  (candidate; c<sub>n</sub> is torch's second bias)",
                      f"h<sub>{t}</sub> = (1 − z<sub>{t}</sub>) ⊙ n<sub>{t}</sub> + z<sub>{t}"
                      f"</sub> ⊙ h<sub>{t - 1}</sub> = <b>{_vector(s['h'])}</b>"]
        blocks.append("<div class='rnn-step'>" + "<br>".join(lines) + "</div>")
    style = ("<style>.rnn-step{font-family:monospace;font-size:0.85em;white-space:pre-wrap;"
             "margin:0.4em 0;padding:0.4em;border-left:3px solid #60a5fa;overflow-x:auto}"
             "</style>")
    return style + "<div id='recurrent-arithmetic'>" + "".join(blocks) + "</div>"


def unrolled_figure(unrolled: dict, keys=None, title: str | None = None) -> plots.PlotData:
    """The states and gates at every step as coloured vectors: one column per step, one block of
    rows per quantity (a row per unit; `keys` chooses the quantities). A few units have their
    numbers written in; many are drawn as thin rows."""
    cell, steps, H = unrolled["cell"], unrolled["steps"], unrolled["hidden"]
    rows = {"rnn": [("h", "hidden state h")],
            "lstm": [("f", "forget gate f"), ("i", "input gate i"), ("o", "output gate o"),
                     ("g_tilde", "candidate c̃"), ("c", "cell state c"), ("h", "hidden state h")],
            "gru": [("r", "reset gate r"), ("z", "update gate z"), ("n", "candidate n"),
                    ("h", "hidden state h")]}[cell]
    rows = [(k, label) for k, label in rows if keys is None or k in keys]
    row_px = 22 if H <= 4 else max(5, 160 // H)
    numbers = {"texttemplate": "%{z:.2f}", "textfont": {"size": 10}} if H <= 4 else {}
    x = [f"{t}: {s['token']}" for t, s in enumerate(steps, 1)]
    traces, layout, notes = [], {}, []
    n = len(rows)
    gap = 0.04
    height = (1 - gap * (n - 1)) / n
    for k, (key, label) in enumerate(rows):
        axis = "" if k == 0 else str(k + 1)
        gate = key in ("f", "i", "o", "r", "z")
        z = [[round(float(s[key][u]), 3) for s in steps] for u in range(H)]
        traces.append({"type": "heatmap", "z": z, "x": x, "y": [f"unit {u + 1}" for u in range(H)],
                       "xaxis": f"x{axis}", "yaxis": f"y{axis}", "showscale": False,
                       "zmin": 0 if gate else -1, "zmax": 1,
                       "colorscale": ([[0, "#f3f4f6"], [1, plots.ACCENT]] if gate
                                      else plots.DIVERGING),
                       **numbers,
                       "hovertemplate": f"{label}, %{{y}}, step %{{x}}: %{{z:.3f}}<extra></extra>"})
        top = 1 - k * (height + gap)
        domain = [max(0.0, round(top - height, 6)), min(1.0, round(top, 6))]
        layout[f"yaxis{axis}"] = {"domain": domain, "anchor": f"x{axis}",
                                  "autorange": "reversed", "showticklabels": False}
        layout[f"xaxis{axis}"] = {"anchor": f"y{axis}", "showticklabels": k == n - 1,
                                  "type": "category", **({} if k == 0 else {"matches": "x"})}
        notes.append({"x": -0.01, "y": top - height / 2, "xref": "paper", "yref": "paper",
                      "xanchor": "right", "showarrow": False, "text": label,
                      "font": {"size": 11}})
    title = title or f"{CELL_NAMES[cell]} unrolled over {len(steps)} steps"
    return plots.figure(traces, height=90 + n * (40 + row_px * H), annotations=notes,
                        title=title + " (gates: 0 white to 1 orange; states: −1 blue to +1 "
                                      "orange)",
                        margin=dict(l=120, r=10, t=40, b=40), **layout)


def unroll(cell="rnn", sequence="Awxy?", hidden=2, seed=0):
    """The cell unrolled: the figure, the arithmetic, and every number (JSON)."""
    try:
        unrolled = rec.unroll(cell, sequence, hidden, seed)
    except ValueError as e:
        fail(e)
    numbers = {"cell": unrolled["cell"], "tokens": unrolled["tokens"],
               "steps": [{k: v if isinstance(v, str) else plots.rounded(list(v), 5)
                          for k, v in s.items()} for s in unrolled["steps"]]}
    return unrolled_figure(unrolled), arithmetic_html(unrolled), numbers


# -- 2. The memory task, live --------------------------------------------------------------------


def curves_figure(race: rec.Race) -> plots.PlotData:
    """Accuracy (top) and loss (bottom) on the fixed sequences, per frame, one colour per
    cell."""
    traces = []
    for cell, run in race.runs.items():
        h = run.history
        steps = [e["step"] for e in h]
        traces.append({"type": "scatter", "mode": "lines", "name": CELL_NAMES[cell],
                       "x": steps, "y": [round(e["accuracy"], 4) for e in h],
                       "line": {"color": COLOURS[cell], "width": 2}, "legendgroup": cell})
        traces.append({"type": "scatter", "mode": "lines", "name": CELL_NAMES[cell] + " loss",
                       "x": steps, "y": [round(e["loss"], 4) for e in h], "yaxis": "y2",
                       "showlegend": False, "legendgroup": cell,
                       "line": {"color": COLOURS[cell], "width": 2}})
    traces.append({"type": "scatter", "mode": "lines", "name": "chance", "x": [0, max(
        [race.steps, 1])], "y": [rec.CHANCE] * 2, "hoverinfo": "skip",
        "line": {"color": plots.FONT_COLOR, "dash": "dot", "width": 1}})
    return plots.figure(traces, height=380, title="Accuracy and loss on the fixed sequences",
                        xaxis={"title": {"text": "step"}, "anchor": "y2"},
                        yaxis={"title": {"text": "accuracy"}, "range": [0, 1.05],
                               "tickformat": ".0%", "domain": [0.5, 1]},
                        yaxis2={"title": {"text": "loss (nats)"}, "domain": [0, 0.4],
                                "rangemode": "tozero", "gridcolor": plots.GRID_COLOR},
                        legend={"orientation": "h", "y": -0.25})


def gradients_figure(state: dict, probe: str) -> plots.PlotData:
    """‖∂L/∂h_t‖ per step on the probe sequence, log scale, one line per cell."""
    traces = []
    for cell, s in state["cells"].items():
        norms = s["grad_norms"]
        traces.append({"type": "scatter", "mode": "lines+markers", "name": CELL_NAMES[cell],
                       "x": list(range(1, len(norms) + 1)),
                       "y": [n if n > 0 else None for n in norms],
                       "line": {"color": COLOURS[cell], "width": 2}, "marker": {"size": 4},
                       "hovertemplate": "step %{x}: %{y:.2e}<extra>" + CELL_NAMES[cell]
                                        + "</extra>"})
        if "cell_grad_norms" in s:  # the LSTM's other path back: its cell state
            traces.append({"type": "scatter", "mode": "lines", "name": "LSTM cell state c",
                           "x": list(range(1, len(norms) + 1)),
                           "y": [n if n > 0 else None for n in s["cell_grad_norms"]],
                           "line": {"color": COLOURS[cell], "width": 1.5, "dash": "dash"},
                           "hovertemplate": "step %{x}: ‖∂L/∂c_t‖ %{y:.2e}<extra></extra>"})
    T = len(probe)
    ticks = {"tickmode": "array", "tickvals": [1, T], "ticktext": [f"1: {probe[0]}", f"{T}: ?"]}
    return plots.figure(traces, height=300,
                        title="‖∂L/∂h_t‖ on one sequence (the loss is at the last step)",
                        xaxis={"title": {"text": "step t"}, **ticks},
                        yaxis={"title": {"text": "‖∂L/∂h_t‖ (log)"}, "type": "log",
                               "exponentformat": "power"},
                        legend={"orientation": "h", "y": -0.3})


def verdict(race: rec.Race, state: dict) -> str:
    """What the race shows now, in a sentence or two."""
    cells = state["cells"]
    delay = race.settings.delay
    learned = [c for c, s in cells.items() if s["accuracy"] >= rec.LEARNED]
    stuck = [c for c, s in cells.items() if s["accuracy"] < 0.4]
    names = lambda cs: " and ".join(CELL_NAMES[c] for c in cs)  # noqa: E731
    if race.settings.truncate and race.settings.truncate <= delay:
        return (f"Backpropagation is truncated to the last {race.settings.truncate} steps, but the "
                f"symbol is {delay} steps back: no gradient reaches the step that read it, so "
                "no cell can learn to store it (it can only use what its weights happen to "
                "carry that far).")
    if state["step"] == 0:
        return ""
    if learned and stuck:
        verb = "remembers" if len(learned) == 1 else "remember"
        be = "is" if len(stuck) == 1 else "are"
        return (f"At a delay of {delay}, the {names(learned)} {verb} the symbol; the "
                f"{names(stuck)} {be} still at "
                f"chance ({rec.CHANCE:.0%}) after {state['step']:,} steps. The picture on the "
                "right shows how much of the loss's gradient reaches step 1 in each.")
    if learned and len(learned) == len(cells):
        return (f"All the cells remember across {delay} steps. Raise the delay: a plain RNN "
                "gives up first.")
    return ""


def status_text(race: rec.Race, state: dict) -> str:
    parts = [f"**Step {state['step']:,}**"]
    for cell, s in state["cells"].items():
        parts.append(f"{CELL_NAMES[cell]} **{s['accuracy']:.0%}** (loss {s['loss']:.3f})")
    rate = state.get("steps_per_second")
    if rate:
        parts.append(f"{rate:,.0f} steps/s")
    text = " · ".join(parts)
    said = verdict(race, state)
    if said:
        text += "  \n" + said
    notes = {"ready": "Ready: press Play.", "paused": "Paused: Play goes on, Step takes one.",
             "capped": f"Paused after {rec.MAX_SECONDS:g} s, the limit of one Play.",
             "done": "Done: the steps asked for are taken; Play goes on.",
             "diverged": "The loss is no longer a number: the training diverged. Reset."}
    if race.status in notes:
        text += "  \n" + notes[race.status]
    return text


def probe_text(race: rec.Race) -> str:
    run = next(iter(race.runs.values()))
    ids, answer = run.probe
    letters = " ".join(rec.ALPHABET[i] for i in ids)
    return (f"The sequence the gradients are measured on: `{letters}` → the answer is "
            f"**{rec.SYMBOLS[answer]}**.")


def numbers(state: dict) -> dict:
    return {"step": state["step"],
            "cells": {c: {"loss": round(s["loss"], 5), "accuracy": round(s["accuracy"], 4),
                          "grad_norms": [float(f"{n:.4g}") for n in s["grad_norms"]]}
                      for c, s in state["cells"].items()}}


def inside_figure(race: rec.Race) -> plots.PlotData:
    """The trained LSTM (or GRU) on the probe sequence: its gates and its memory, unit by unit
    (LSTMVis's view, live)."""
    gated = [c for c in ("lstm", "gru") if c in race.runs]
    if not gated:
        return plots.empty("Add the LSTM or the GRU to see inside a gated cell.", height=200)
    cell = gated[0]
    keys = {"lstm": ("f", "i", "c"), "gru": ("z", "h")}[cell]
    return unrolled_figure(race.runs[cell].inside(), keys,
                           f"Inside the {CELL_NAMES[cell]} at step {race.steps:,}, on the "
                           "sequence above")


def frame(race: rec.Race, state: dict | None = None):
    state = state or race.record()
    return (curves_figure(race), gradients_figure(state, _probe_letters(race)),
            status_text(race, state), probe_text(race), inside_figure(race), numbers(state))


def _probe_letters(race: rec.Race) -> str:
    ids, _ = next(iter(race.runs.values())).probe
    return "".join(rec.ALPHABET[i] for i in ids)


def _checked(cells, settings: dict) -> tuple[tuple, dict]:
    """(cells, the settings checked), or a gr.Error."""
    try:
        if not isinstance(cells, list | tuple) or not cells:
            raise ValueError("Choose at least one cell to train.")
        cells = tuple(dict.fromkeys(rec.check_cell(c) for c in cells))
        checked = rec.RACE_SETTINGS.check(settings)
    except ValueError as e:
        fail(e)
    return cells, checked


def _matching(race, cells: tuple, checked: dict) -> rec.Race:
    """The tab's race if it has these settings, else a fresh one (the old one stops)."""
    settings = {k: v for k, v in checked.items() if k != "steps"}
    if (isinstance(race, rec.Race) and tuple(race.runs) == cells
            and {k: getattr(race.settings, k) for k in settings} == settings):
        return race
    if isinstance(race, rec.Race):
        race.stop()
    return rec.Race(cells, **settings)


_streaming = live.Streaming()
SHOWN = 6  # the race's outputs: see frame()


async def train_race(cells=tuple(CELL_NAMES), race=None, **settings):
    """The cells trained side by side on the memory task; streams (accuracy curves, gradients
    through time, status, the probe sequence, the numbers), or the place in line while the
    server's trainers are busy. The tab passes its race, which goes on; a client starts
    afresh."""
    cells, checked = _checked(cells, settings)
    race = _matching(race, cells, checked)  # (Play's prepare has un-stopped it)

    def waiting(state):
        return (gr.skip(), gr.skip(), status_text(race, state) + "  \n"
                + live.waiting_note(state), gr.skip(), gr.skip(), gr.skip())

    async for shown in _streaming.frames(race, race.run(checked["steps"]),
                                         lambda state: frame(race, state), waiting):
        yield shown


def prepare(cells=tuple(CELL_NAMES), race=None, **settings):
    """Before Play: the tab's race, or a fresh one if the settings changed."""
    race = _matching(race, *_checked(cells, settings))
    race.stopped = False
    return race


def step_once(cells=tuple(CELL_NAMES), race=None, **settings):
    race = prepare(cells, race, **settings)
    race.step()
    return (*frame(race), race)


def reset(cells=tuple(CELL_NAMES), race=None, **settings):
    if isinstance(race, rec.Race):
        race.stop()
    race = _matching(None, *_checked(cells, settings))
    return (*frame(race), race)


def pause(race):
    if not isinstance(race, rec.Race):
        return (gr.skip(),) * SHOWN
    race.pause()
    if race in _streaming:
        return (gr.skip(),) * SHOWN
    return frame(race)


async def train_recurrent(**settings):
    """One cell trained on the memory task (rec.SETTINGS, as keyword arguments), streamed: a
    sentence, then the numbers: {"step", "loss", "accuracy", "grad_norms", ...} (for the API)."""
    try:
        checked = rec.SETTINGS.check(settings)
    except ValueError as e:
        fail(e)
    run = rec.Run(**{k: v for k, v in checked.items() if k != "steps"})
    async for state in run.run(checked["steps"]):
        if "place" in state:
            yield live.waiting_note(state), gr.skip()
            continue
        out = {k: state[k] for k in ("step", "loss", "accuracy", "grad_norms", "cell",
                                     "status", "gradient_norm")}
        out["steps_per_second"] = state.get("steps_per_second")
        yield (f"Step {state['step']:,}: accuracy {state['accuracy']:.0%}, "
               f"loss {state['loss']:.3f}"), out


# -- 3. Exploding gradients -----------------------------------------------------------------------


def _factor(first: float, last: float) -> str:
    """How the gradient changes from the last step back to the first, in words."""
    if last == 0 or first == 0:
        return "vanishes entirely (to 0 in 32-bit floats)" if first == 0 else "comes from nothing"
    ratio = first / last
    if ratio >= 1:
        return f"grows by a factor of **{ratio:.3g}**"
    return f"shrinks by a factor of **{1 / ratio:.3g}**"


def gradient_through_time(cell="rnn", delay=20, seed=0, init_scale=3.0):
    """The untrained network's gradients through time, before and after clipping: the numbers
    (JSON), a figure and a sentence."""
    try:
        result = rec.gradient_through_time(cell, delay, seed, init_scale)
    except ValueError as e:
        fail(e)
    norms, clipped, clip = result["grad_norms"], result["clipped"], result["clip"]
    steps = list(range(1, len(norms) + 1))
    traces = [{"type": "scatter", "mode": "lines+markers", "name": "as it is", "x": steps,
               "y": [n or None for n in norms], "line": {"color": "#ef4444", "width": 2}},
              {"type": "scatter", "mode": "lines+markers",
               "name": f"clipped to {clip:g} at every step", "x": steps,
               "y": [n or None for n in clipped],
               "line": {"color": plots.BASE, "width": 2, "dash": "dot"}}]
    fig = plots.figure(traces, height=320, title=f"‖∂L/∂h_t‖, {CELL_NAMES[result['cell']]}, "
                       f"recurrent weights × {result['init_scale']:g}",
                       xaxis={"title": {"text": "step t (the loss is at the last)"}},
                       yaxis={"title": {"text": "‖∂L/∂h_t‖ (log)"}, "type": "log",
                              "exponentformat": "power"},
                       legend={"orientation": "h", "y": -0.3})
    total, after = result["gradient_norm"], result["clipped_gradient_norm"]
    text = (f"Going back from the last step to the first, the gradient "
            f"{_factor(norms[0], norms[-1])}. Clipped to {clip:g} as it flows back, no step's "
            f"exceeds {clip:g}.  \nThe gradient of all the weights has norm **{total:.3g}**"
            + (f"; clipped to {clip:g}, every part of it is {total / after:.3g} times smaller, "
               "pointing the same way." if after < total
               else f", below {clip:g}: clipping leaves it alone.")
            + f"  \nOne step of gradient descent (learning rate {result['step_rate']:g}) would "
            f"move the weights (whose norm is {result['weights_norm']:.3g}) by "
            f"**{result['step_size']:.3g}** with the gradient as it is, by "
            f"**{result['clipped_step_size']:.3g}** clipped.")
    return result, fig, text


# -- the tab ---------------------------------------------------------------------------------------


def build(on_show=()):
    gr.Markdown(INTRO)

    gr.Markdown(UNROLL)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            u_cell = gr.Radio([(label, name) for name, label in CELL_NAMES.items()], value="rnn",
                              label="Cell", elem_id="recurrent-unroll-cell")
            u_sequence = gr.Textbox("Awxy?", label=f"Sequence (up to {rec.UNROLL_MAX_LENGTH} "
                                    f"letters of {rec.ALPHABET})", elem_id="recurrent-sequence")
            with gr.Row():
                u_hidden = gr.Slider(*rec.UNROLL_HIDDEN_RANGE, value=2, step=1,
                                     label="Hidden units", elem_id="recurrent-unroll-hidden")
                u_seed = gr.Number(0, precision=0, minimum=0, label="Seed (the weights)",
                                   elem_id="recurrent-unroll-seed")
        with gr.Column(scale=2, min_width=300):
            u_plot = gr.Plot(label="The unrolled cell", elem_id="recurrent-unrolled")
    u_html = gr.HTML(elem_id="recurrent-arithmetic-box")
    u_json = gr.JSON(visible=False)
    gr.on([u_cell.change, u_sequence.submit, u_hidden.release, u_seed.submit, *on_show],
          unroll, [u_cell, u_sequence, u_hidden, u_seed], [u_plot, u_html, u_json],
          api_name="unroll", trigger_mode="always_last", show_progress="hidden")

    gr.Markdown(MEMORY)
    race = gr.State(None)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            cells = gr.CheckboxGroup([(label, name) for name, label in CELL_NAMES.items()],
                                     value=list(CELL_NAMES), label="Cells, side by side",
                                     elem_id="recurrent-cells")
            controls = {s.name: forms.control(s, elem_id=f"recurrent-{s.name}")
                        for s in rec.RACE_SETTINGS}
            play, pause_button, step, reset_button = live.controls("recurrent")
            status = gr.Markdown(elem_id="recurrent-status")
            probe = gr.Markdown(elem_id="recurrent-probe")
            race_json = gr.JSON(label="Numbers", elem_id="recurrent-numbers")
        with gr.Column(scale=2, min_width=300):
            curves = gr.Plot(label="Accuracy", elem_id="recurrent-curves")
            grads = gr.Plot(label="Gradient through time", elem_id="recurrent-gradients")
            gr.Markdown(HOW)
    gr.Markdown(INSIDE)
    inside = gr.Plot(label="Inside the trained cell", elem_id="recurrent-inside")
    settings = list(controls.values())
    shown = [curves, grads, status, probe, inside, race_json]

    def endpoint(fn):  # fn(cells, **settings, race), called with the controls in order
        return forms.endpoint(rec.RACE_SETTINGS, fn, before=("cells",), after=("race",))

    inputs = [cells, *settings, race]
    playing = play.click(endpoint(prepare), inputs, race, api_visibility="private",
                         show_progress="hidden").then(
        endpoint(train_race), inputs, shown, api_name="train_race", **live.STREAM)
    pause_button.click(pause, race, shown, api_visibility="private", show_progress="hidden")
    step.click(endpoint(step_once), inputs, [*shown, race], cancels=[playing],
               api_visibility="private", show_progress="hidden")
    gr.on([reset_button.click, cells.input, *[c.input for c in settings
                                             if isinstance(c, gr.Radio | gr.Slider)],
           *[c.submit for c in settings if isinstance(c, gr.Number)], *on_show],
          endpoint(reset), inputs, [*shown, race], cancels=[playing],
          api_visibility="private", show_progress="hidden")
    with gr.Row(visible=False):  # the API's endpoint: one cell at a time
        one_cell = forms.control(rec.SETTINGS["cell"])
        one_text, one_json = gr.Textbox(), gr.JSON()
    one_cell.change(forms.endpoint(rec.SETTINGS, train_recurrent, after=()),
                    [one_cell, *settings], [one_text, one_json], api_name="train_recurrent",
                    **live.STREAM)

    gr.Markdown(EXPLODING)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            e_cell = gr.Radio([(label, name) for name, label in CELL_NAMES.items()],
                              value="rnn", label="Cell", elem_id="recurrent-explode-cell")
            e_scale = gr.Slider(*rec.INIT_SCALE_RANGE, value=3.0, step=0.1,
                                label="Recurrent weights × (torch's initialisation = 1)",
                                elem_id="recurrent-init-scale")
            e_delay = gr.Slider(2, rec.MAX_DELAY, value=20, step=1, label="Steps (delay)",
                                elem_id="recurrent-explode-delay")
            e_seed = gr.Number(0, precision=0, minimum=0, label="Seed",
                               elem_id="recurrent-explode-seed")
            e_text = gr.Markdown(elem_id="recurrent-explode-text")
        with gr.Column(scale=2, min_width=300):
            e_plot = gr.Plot(label="Exploding gradients", elem_id="recurrent-explode-plot")
    e_json = gr.JSON(visible=False)
    gr.on([e_cell.change, e_scale.release, e_delay.release, e_seed.submit, *on_show],
          gradient_through_time, [e_cell, e_delay, e_seed, e_scale], [e_json, e_plot, e_text],
          api_name="gradient_through_time", trigger_mode="always_last", show_progress="hidden")

    language.build(on_show)


DEMO = Demo(title="Recurrent networks", slug="recurrent", build=build)
