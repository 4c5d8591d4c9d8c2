"""The Recurrent networks tab's last section: the LSTM trained here on Shakespeare against the GPT
trained on the same plays: surprise per character, held-out loss, continuations, step time
against length, and how far back each uses context."""

from __future__ import annotations

import html
import math

import gradio as gr

from demos import plots
from demos.messages import fail, warn
from models.recurrent import language as lang

INTRO = """## 4. Why transformers replaced them, measured
In 2017 the transformer ("Attention is all you need") replaced recurrent networks in language
models. Here are two models trained here on the same Shakespeare, with the same play (Julius
Caesar) held out: a character-level **LSTM** ({lstm_layers} layers of {lstm_hidden} units,
reading a character at a time) and the app's **GPT** ({gpt_layers} transformer layers of width
{gpt_width}, reading tokens of {gpt_chars_per_token:.1f} characters on average). Compare what
each finds surprising, how well each predicts text it never saw, what each writes, and the two
reasons the transformer won: it **trains in parallel** over a sequence, and it **looks back
directly** at any earlier position instead of through a chain of states."""

SURPRISE = """**Surprise** is the loss on a character: −ln of the probability the model gave it,
in nats (0 = certain, ln 2 ≈ 0.69 = a coin flip, {uniform:.1f} = one of the LSTM's {lstm_vocab}
characters at random). Darker = more surprised. The GPT predicts a token at a time: its loss on a
token is shared equally by the token's characters. The mean over a text is the loss in **nats
per character**, which compares the two although they read different pieces. Characters the
plays never use (é, an emoji) are all one "unknown" character to the LSTM: its surprise there is
at seeing *some* unknown character, so it is flattered on text full of them."""

TIMING = """**Training time against length.** One training step (forward and backward) of one
layer of each, of the same width, on a batch of sequences of length T, timed on this server when
you ask. The LSTM must take its T steps one after another: T small matrix products in a chain,
each waiting for the one before. The transformer layer computes all T positions in one go: a few
big matrix products (and attention, which grows as T²). The big products can be spread over as
many cores as the machine has: on a GPU, thousands, and the transformer's time barely grows with
T, while the LSTM's chain cannot be shortened by any number of cores. That is what let
transformers train on far more text. A server with a core or two has little to spread over, so
here the two may grow alike (the README's benchmark times them on one core and on two)."""

CONTEXT = f"""**How far back each model looks.** The loss on the same {lang.SCORED} characters at
{lang.POSITIONS} places of the held-out excerpt, when each model is given only the k characters
before them. A model that uses distant context keeps improving as k grows; where its line goes
flat, more text no longer helps it. (Measured the first time you ask, then kept.)"""


def surprise_html(scored: dict, elem_id: str) -> str:
    """Each character coloured by its surprise (orange, stronger for more nats; capped at 6)."""
    spans = []
    for char, nats in scored["chars"]:
        alpha = min(1.0, nats / 6)
        shown = html.escape(char) if char != "\n" else "↵\n"
        spans.append(f'<span title="{html.escape(repr(char))}: {nats:.2f} nats" '
                     f'style="background:rgba(249,115,22,{alpha:.2f})">{shown}</span>')
    name = "LSTM" if scored["model"] == "shakespeare-lstm" else "GPT"
    return (f'<div id="{elem_id}"><b>{name}: {scored["nats_per_char"]:.3f} nats per character'
            f'</b><div style="font-family:monospace;white-space:pre-wrap;line-height:1.5;'
            f'max-height:22em;overflow-y:auto">{"".join(spans)}</div></div>')


def score_text(text="", model="shakespeare-lstm"):
    """One model's surprise at each character (the API's endpoint): the numbers, then the
    coloured text."""
    try:
        scored = lang.score_text(text, model)
    except ValueError as e:
        fail(e)
    numbers = {"model": scored["model"], "nats_per_char": round(scored["nats_per_char"], 5),
               "chars": [[c, round(n, 5)] for c, n in scored["chars"]]}
    return numbers, surprise_html(scored, "recurrent-score-one")


def score_both(text=""):
    """Both models' surprise, side by side, and a sentence comparing them."""
    try:
        lstm = lang.score_text(text, "shakespeare-lstm")
        gpt = lang.score_text(text, "shakespeare-gpt")
    except ValueError as e:
        fail(e)
    a, b = lstm["nats_per_char"], gpt["nats_per_char"]
    better = "GPT" if b < a else "LSTM"
    sentence = (f"On this text: LSTM **{a:.3f}**, GPT **{b:.3f}** nats per character; the "
                f"{better} is less surprised by {abs(a - b):.3f} nats a character.")
    return (surprise_html(lstm, "recurrent-score-lstm"), surprise_html(gpt, "recurrent-score-gpt"),
            sentence)


def held_out_table() -> str:
    try:
        figures = lang.held_out()
    except (OSError, KeyError, ValueError):
        return "The training logs are missing: the held-out figures cannot be shown."
    rows = ["| model | the whole held-out play (Julius Caesar), nats per character | parameters "
            "| trained for (on a CPU) |", "|---|---|---|---|"]
    for key, f in figures.items():
        minutes = f["train_seconds"] / 60
        rows.append(f"| {key} | **{f['nats_per_char']:.3f}** | {f['parameters'] / 1e6:.2f}M | "
                    + (f"{minutes:.0f} min |" if minutes >= 1 else f"{f['train_seconds']} s |"))
    return "\n".join(rows)


def _continued(start, prompt, temperature, max_new_tokens, seed):
    try:
        _, notice = lang.check_text(prompt, "prompt", lang.MAX_PROMPT, keep="end")
        stream = start(prompt, temperature, max_new_tokens, seed)
    except ValueError as e:
        fail(e)
    if notice:
        warn(notice)
    yield from stream


def lstm_generate(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=200, seed=0):
    """The LSTM continues the prompt, a character at a time (temperature 0: the most likely)."""
    yield from _continued(lang.generate, prompt, temperature, max_new_tokens, seed)


def gpt_continue(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=200, seed=0):
    """The GPT continues the same prompt, a token at a time, as many characters."""
    yield from _continued(lang.continue_with_gpt, prompt, temperature, max_new_tokens, seed)


def step_times():
    """Time one training step of each layer against the length: the numbers, a figure and a
    sentence."""
    timed = lang.step_times()
    T = timed["lengths"]
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": T,
               "y": [round(t * 1000, 2) for t in timed[key]],
               "line": {"color": colour, "width": 2}}
              for key, name, colour in (("lstm", "LSTM layer (T steps in a chain)", "#ef4444"),
                                        ("transformer", "transformer layer (T at once)",
                                         plots.BASE))]
    fig = plots.figure(traces, height=320, title="One training step, against the length",
                       xaxis={"title": {"text": "sequence length T"}, "type": "log"},
                       yaxis={"title": {"text": "milliseconds"}, "type": "log"},
                       legend={"orientation": "h", "y": -0.3})
    growth = {k: timed[k][-1] / timed[k][0] for k in ("lstm", "transformer")}
    text = (f"From T = {T[0]} to {T[-1]} ({T[-1] // T[0]}× longer) the LSTM's step took "
            f"{growth['lstm']:.0f}× as long, the transformer's {growth['transformer']:.0f}×, on "
            f"this server ({timed['threads']} thread{'s' if timed['threads'] != 1 else ''}). "
            f"What no hardware changes: the LSTM's {T[-1]} steps are a chain, each waiting for "
            "the last; the transformer's positions wait for nothing but the layer below.")
    return timed, fig, text


def context_curve():
    curve = lang.context_curve()
    k = [max(c, 0.5) for c in curve["contexts"]]  # k = 0 drawn at 0.5 on the log axis
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": k,
               "y": [round(v, 4) for v in curve[key]], "line": {"color": colour, "width": 2},
               "customdata": curve["contexts"],
               "hovertemplate": "%{customdata} characters: %{y:.3f} nats<extra>" + name
                                + "</extra>"}
              for key, name, colour in (("shakespeare-lstm", "LSTM", "#ef4444"),
                                        ("shakespeare-gpt", "GPT", plots.BASE))]
    fig = plots.figure(traces, height=320, title="Loss against the context given",
                       xaxis={"title": {"text": "characters of context given (0 at the left)"},
                              "type": "log", "tickvals": k,
                              "ticktext": [str(c) for c in curve["contexts"]]},
                       yaxis={"title": {"text": "nats per character"}},
                       legend={"orientation": "h", "y": -0.3})
    return curve, fig


def build(on_show=()):
    facts = lang.facts()
    gr.Markdown(INTRO.format(**facts))
    held = gr.Markdown(elem_id="recurrent-held-out")
    gr.Markdown(SURPRISE.format(uniform=math.log(facts["lstm_vocab"]), **facts))
    text = gr.Textbox(lang.excerpt(), lines=6, label=f"A text (up to {lang.MAX_CHARS:,} "
                      "characters); the default is from the held-out play",
                      elem_id="recurrent-text")
    score = gr.Button("Score with both models", variant="primary", elem_id="recurrent-score")
    sentence = gr.Markdown(elem_id="recurrent-score-sentence")
    with gr.Row(equal_height=False):
        lstm_html = gr.HTML(elem_id="recurrent-lstm-surprise")
        gpt_html = gr.HTML(elem_id="recurrent-gpt-surprise")
    score.click(score_both, text, [lstm_html, gpt_html, sentence], api_name="score_both",
                concurrency_id="recurrent-language", concurrency_limit=2)
    with gr.Row(visible=False):  # the API's endpoint: one model at a time
        which = gr.Radio(list(lang.MODELS), value="shakespeare-lstm")
        one_json, one_html = gr.JSON(), gr.HTML()
    which.change(score_text, [text, which], [one_json, one_html], api_name="score_text",
                 concurrency_id="recurrent-language", concurrency_limit=2)

    gr.Markdown("**The same prompt, continued by both.** Temperature divides the scores "
                "before the softmax: 0 always takes the most likely character (or token), 1 "
                "samples as the model learned, above 1 is wilder.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=260):
            prompt = gr.Textbox("ROMEO.\n", lines=2, label="Prompt", elem_id="recurrent-prompt")
            temperature = gr.Slider(0, lang.MAX_TEMPERATURE, value=0.8, step=0.05,
                                    label="Temperature", elem_id="recurrent-temperature")
            with gr.Row():
                new = gr.Number(200, precision=0, minimum=1, maximum=lang.MAX_NEW,
                                label="New characters", elem_id="recurrent-new")
                seed = gr.Number(0, precision=0, minimum=0, label="Seed",
                                 elem_id="recurrent-gen-seed")
            write = gr.Button("Continue with both", variant="primary",
                              elem_id="recurrent-continue")
        with gr.Column(scale=2, min_width=300):
            lstm_out = gr.Textbox(label="LSTM", lines=6, elem_id="recurrent-lstm-out")
            gpt_out = gr.Textbox(label="GPT", lines=6, elem_id="recurrent-gpt-out")
    sampling = [prompt, temperature, new, seed]
    write.click(lstm_generate, sampling, lstm_out, api_name="lstm_generate",
                concurrency_id="recurrent-language", concurrency_limit=2)
    write.click(gpt_continue, sampling, gpt_out, api_name="gpt_continue",
                concurrency_id="recurrent-language", concurrency_limit=2)

    gr.Markdown(TIMING)
    measure = gr.Button("Time both on this server", elem_id="recurrent-time")
    with gr.Row(equal_height=False):
        time_plot = gr.Plot(label="Step time", elem_id="recurrent-time-plot")
        time_text = gr.Markdown(elem_id="recurrent-time-text")
    time_json = gr.JSON(visible=False)
    # One at a time: two timings at once would time each other.
    measure.click(step_times, None, [time_json, time_plot, time_text], api_name="step_times",
                  concurrency_id="recurrent-timing", concurrency_limit=1)

    gr.Markdown(CONTEXT)
    look = gr.Button("Measure how far back each looks", elem_id="recurrent-context")
    context_plot = gr.Plot(label="Context", elem_id="recurrent-context-plot")
    context_json = gr.JSON(visible=False)
    look.click(context_curve, None, [context_json, context_plot], api_name="context_curve",
               concurrency_id="recurrent-language", concurrency_limit=2)
    gr.on(list(on_show), held_out_table, None, held, api_visibility="private",
          show_progress="hidden")
