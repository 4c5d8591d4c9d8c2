"""The Text generation tab: a language model writes one token at a time, and shows its odds."""

from __future__ import annotations

import html
import time

import gradio as gr
import plotly.graph_objects as go

from demos import Demo, plots
from demos.messages import fail
from models import generation, registry

EXAMPLES = [
    "ROMEO.\n",
    "Friends, Romans, countrymen, lend me your ears;\n",
    "[Enter the KING and QUEEN, with attendants.]\n\nKING.\n",
    "Shall I compare thee to a summer's day?\n",
    "HAMLET.\nTo be, or not to be,",
]
DEFAULTS = dict(temperature=0.8, max_new_tokens=120, top_k=40, top_p=0.95, seed=0)
YIELD_EVERY = 0.04  # seconds between streamed updates: smooth to read, light on the server

INTRO = """### A language model is a function that gives every possible next token a probability
Type the start of a scene and let the model go on, token by token; watch what it could have
written at each step, and how **temperature**, **top-k** and **top-p** change the odds. The
bundled model is a small GPT (5.9M parameters) trained here on 40 of Shakespeare's plays."""

EXPLANATION = """
**Tokens.** The model does not read letters or words but *tokens*: pieces of text from a fixed
vocabulary (4,096 for the bundled model), learned from how often pieces occur together
(byte-pair encoding). Common words are one token (" Romeo", with its leading space); rarer
ones and unusual spellings are split: "ROMEO" in capitals, as a speaker's name, is "ROM" + "E"
+ "O", since the capitalised name was too rare to earn a token of its own. An emoji is
several tokens, one per byte, shown as `<F0 9F>`.

**Next-token probabilities.** Given the tokens so far, the model outputs one score (a *logit*)
for every token in its vocabulary; *softmax* turns the scores into probabilities that add up
to 1. That is all a language model does. Writing a text is a loop: pick a token, append it,
ask again.

**Sampling.** How the next token is picked is up to us:
- **Temperature** divides the logits before the softmax, exactly as in the *softmax with
  temperature* plot of the Activation functions tab. At 1 the model's own odds; below 1 the
  likely tokens get likelier (safer, more repetitive text); above 1 the odds flatten (more
  surprising text, then nonsense). At 0 the most likely token always wins: *greedy*.
- **Top-k** keeps only the k most likely tokens (0 = all of them).
- **Top-p** (nucleus) keeps the fewest tokens whose probabilities add up to p (1 = all).
The kept probabilities are rescaled to add up to 1, and one token is drawn at random from them.
The **seed** fixes that randomness: the same seed and settings write the same text.

**Entropy** measures how spread out a distribution is, in bits: 0 when one token is certain,
1 for a fair coin, 12 for all 4,096 tokens equally likely.
"""



def _model(model) -> str | None:
    return model or None


shown = plots.token_label  # a token as a label, as every tab shows it


def distribution_figure(view: dict | None, title: str) -> go.Figure:
    """Bars for the candidates: probability at temperature 1 (grey) and after the temperature,
    top-k and top-p (colour); the drawn token outlined and labelled."""
    if view is None:
        return plots.empty("Nothing yet: type a prompt.")
    cands = sorted(view["candidates"], key=lambda c: -c["before"])
    labels = [f"{shown(c['token'])} ·{c['id']}" for c in cands]  # the id keeps bars apart
    drawn = view.get("drawn")
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=labels, y=[c["before"] for c in cands], name="at temperature 1 (the model's own)",
        marker_color=plots.FONT_COLOR, opacity=0.55,
        customdata=[[c["id"]] for c in cands],
        hovertemplate="%{x}<br>temperature 1: %{y:.2%}<extra></extra>"))
    fig.add_trace(go.Bar(
        x=labels, y=[c["after"] for c in cands], name="after temperature, top-k, top-p",
        marker_color=[plots.ACCENT if c["id"] == drawn else plots.BASE for c in cands],
        marker_line=dict(width=[3 if c["id"] == drawn else 0 for c in cands],
                         color=plots.ACCENT),
        text=[f"{c['after']:.0%}" if c["after"] >= 0.01 else "" for c in cands],
        textposition="outside",
        hovertemplate="%{x}<br>after the filters: %{y:.2%}<extra></extra>"))
    for c, label in zip(cands, labels):
        if c["id"] == drawn:
            fig.add_annotation(x=label, y=max(c["after"], c["before"]), text="drawn",
                               showarrow=True, arrowhead=2, ay=-30, font=dict(color=plots.ACCENT))
    top = max([max(c["after"], c["before"]) for c in cands] + [0.05])
    fig.update_yaxes(range=[0, min(1.15, top * 1.25)], tickformat=".0%", title="probability")
    fig.update_xaxes(type="category", tickangle=-45)
    subtitle = (f"entropy {view['entropy_before']:.2f} → {view['entropy_after']:.2f} bits · "
                f"{view['kept']:,} of {view['vocabulary']:,} tokens kept")
    fig.update_layout(barmode="group", bargap=0.25,
                      legend=dict(orientation="h", y=-0.38, x=0, yanchor="top"))
    return plots.style(fig, height=460, title=dict(text=f"{title}<br><sub>{subtitle}</sub>"),
                       margin=dict(l=50, r=20, t=70, b=40))


GAP = "border-radius:3px;margin-right:2px;"  # each token its own box
# How likely a generated token was when drawn, in four steps of one (colour-blind-safe) hue.
PROBABILITY_BINS = [(0.5, "rgba(249,115,22,0.18)", "50 % or more"),
                    (0.2, "rgba(249,115,22,0.40)", "20–50 %"),
                    (0.05, "rgba(249,115,22,0.65)", "5–20 %"),
                    (0.0, "rgba(249,115,22,0.95)", "under 5 %")]


def probability_color(p: float) -> str:
    return next(color for floor, color, _ in PROBABILITY_BINS if p >= floor)


def tokens_html(prompt_tokens: list[dict], generated_tokens: list[dict],
                probabilities: list[float]) -> str:
    """The text as the model's tokens: the prompt's in two alternating greys, the generated ones
    shaded by the probability they had when drawn; the token id on hover (title)."""
    spans = []

    def span(token, title, style):
        shown = html.escape(token).replace("\n", "↵<br>") or "∅"
        spans.append(f'<span class="np-token" title="{html.escape(title)}" '
                     f'style="{style}">{shown}</span>')

    for i, t in enumerate(prompt_tokens):
        shade = "rgba(138,143,152,0.22)" if i % 2 == 0 else "rgba(138,143,152,0.42)"
        span(t["token"], f"prompt token {i + 1} · id {t['id']}", f"background:{shade};{GAP}")
    for i, t in enumerate(generated_tokens):
        p = probabilities[i] if i < len(probabilities) else None
        title = f"generated token {i + 1} · id {t['id']}"
        if p is not None:
            title += f" · p = {p:.1%} when drawn"
        span(t["token"], title, f"background:{probability_color(p if p is not None else 1)};"
             f"{GAP}border-bottom:2px solid rgba(249,115,22,0.9)")
    swatches = " ".join(f'<span style="background:{color};{GAP}padding:0 6px">{name}</span>'
                        for _, color, name in PROBABILITY_BINS)
    legend = ('<div class="np-legend" style="margin-top:6px">Grey: your prompt, two shades so '
              'that each token shows. Orange: generated tokens, by the probability each had when '
              f'it was drawn: {swatches}. Hover a token for its id.</div>')
    return (f'<div class="np-tokens" style="line-height:1.9;font-family:ui-monospace,monospace;'
            f'white-space:pre-wrap;word-break:break-word">{"".join(spans)}</div>{legend}')


def _choices(view: dict) -> list[tuple[str, str]]:
    cands = sorted(view["candidates"], key=lambda c: -c["after"])[:10]
    return [(f"{shown(c['token'])}  ({c['after']:.0%})", str(c["id"])) for c in cands]


def _render(prompt, state: dict, sampling: dict, speed: str | None = None):
    """Everything but the streamed text, from where the generation stands."""
    view = generation.inspect(prompt, state["ids"], model_key=state.get("model"), **sampling)
    if view["last"] is not None:
        n = len(state["ids"])
        title = f"Token {n} was drawn from these odds"
        chart = distribution_figure(view["last"], title)
    else:
        chart = distribution_figure(view["next"], "What comes next, after your prompt")
    nxt = {f"{shown(c['token'])} ·{c['id']}": c["after"] for c in view["next"]["candidates"]}
    notices = " ".join(f"⚠️ {n}" for n in view["notices"])
    status = " · ".join(x for x in (speed, notices) if x)
    return (view["text"], status, tokens_html(view["prompt_tokens"], view["generated_tokens"],
                                              state["probs"]),
            chart, nxt, gr.update(choices=_choices(view["next"]), value=None))


def generate_text(prompt, temperature=DEFAULTS["temperature"],
                  max_new_tokens=DEFAULTS["max_new_tokens"], top_k=DEFAULTS["top_k"],
                  top_p=DEFAULTS["top_p"], seed=DEFAULTS["seed"], model=None):
    """Stream a continuation of `prompt`. The first output is the whole text generated so far
    (prompt excluded); the others follow when it is done."""
    try:
        sampling = generation.check_sampling(temperature, top_k, top_p)
        context = generation.prepare(prompt, _model(model))
        tokens = generation.stream(prompt, sampling.temperature, max_new_tokens, sampling.top_k,
                                   sampling.top_p, seed, context=context)
        state = {"prompt": prompt, "ids": [], "probs": [], "model": context.loaded.spec.key}
        skip = (gr.skip(),) * 5
        last_yield, token = 0.0, None
        for token in tokens:
            state["ids"].append(token.id)
            state["probs"].append(token.probability)
            if time.perf_counter() - last_yield > YIELD_EVERY:
                last_yield = time.perf_counter()
                yield (token.text, *skip, state)
        settings = dict(temperature=sampling.temperature, top_k=sampling.top_k,
                        top_p=sampling.top_p)
        if token is None:
            speed = "The model ended the text at once (it drew its end-of-text token)."
        else:
            n = token.index + 1
            speed = (f"**{n} tokens in {token.seconds:.2f} s: {n / max(token.seconds, 1e-9):.0f} "
                     "tokens per second**")
        yield (*_render(prompt, state, settings, speed), state)
    except (ValueError, TypeError) as e:
        fail(e)


def _state_for(prompt, state, model) -> dict:
    """The generation so far, or a new one if the prompt or the model changed since."""
    key = registry.spec("generation", _model(model)).key
    if not state or state.get("prompt") != prompt or state.get("model") != key:
        return {"prompt": prompt, "ids": [], "probs": [], "model": key}
    return state


def step_token(prompt, temperature=DEFAULTS["temperature"], top_k=DEFAULTS["top_k"],
               top_p=DEFAULTS["top_p"], seed=DEFAULTS["seed"], model=None, state=None,
               choose=None):
    """Add one token: drawn with the settings, or `choose` (a token id) if the learner picked."""
    try:
        state = _state_for(prompt, state, model)
        if len(state["ids"]) >= generation.MAX_NEW_TOKENS:
            raise ValueError(f"That is {generation.MAX_NEW_TOKENS} tokens, this server's limit "
                             "for one text: press Reset to start again.")
        settings = dict(temperature=temperature, top_k=top_k, top_p=top_p)
        result = generation.step(prompt, state["ids"], seed=seed, model_key=state["model"],
                                 choose=choose, **settings)
        state = {**state, "ids": result["generated"],
                 "probs": state["probs"] + [result["probability"]]}
        how = "chosen by you" if choose is not None else "drawn"
        return (*_render(prompt, state, settings,
                         f"Step {len(state['ids'])}: token {how} "
                         f"(p = {result['probability']:.1%})"), state)
    except (ValueError, TypeError) as e:
        fail(e)


def choose_token(choice, prompt, temperature, top_k, top_p, seed, model, state):
    """Append the candidate the learner picked (its token id) instead of drawing one."""
    if choice in (None, ""):
        return (gr.skip(),) * 7
    return step_token(prompt, temperature, top_k, top_p, seed, model, state, choose=int(choice))


def _blank(message: str, state: dict):
    return ("", message, "", plots.empty(message), None, gr.update(choices=[], value=None), state)


def refresh(prompt, temperature, top_k, top_p, model, state):
    """The chart and the next-token odds for a new prompt or new settings, without generating.
    Typing a new prompt starts a new text."""
    try:
        state = _state_for(prompt, state, model)
        if not isinstance(prompt, str) or not prompt.strip():
            return _blank("Type a prompt to see what the model would write next.", state)
        settings = dict(temperature=temperature, top_k=top_k, top_p=top_p)
        return (*_render(prompt, state, settings), state)
    except (ValueError, TypeError) as e:
        fail(e)


def next_token_distribution(prompt, temperature=1.0, top_k=0, top_p=1.0, model=None):
    """Start over from the prompt: the candidates for the token after it, with their
    probabilities after the temperature, top-k and top-p (first output, a gr.Label value), the
    chart of before and after, and an empty generation."""
    try:
        state = _state_for(prompt, None, model)
        settings = dict(temperature=temperature, top_k=top_k, top_p=top_p)
        text, status, tokens, chart, label, choices = _render(prompt, state, settings)
    except (ValueError, TypeError) as e:
        fail(e)
    return label, chart, text, status, tokens, choices, state


def build(on_show=()):
    """The tab; `on_show`: the events on which it first fills itself (app.py: the tab being
    selected, or its own page loading), so that no model runs for a visitor who never looks."""
    gr.Markdown(INTRO)
    models = registry.available("generation")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            model = gr.Dropdown([(m.description, m.key) for m in models], value=models[0].key,
                                label="Model", visible=len(models) > 1, elem_id="gen-model")
            prompt = gr.Textbox(EXAMPLES[0], lines=4, max_lines=12, label="Prompt",
                                elem_id="gen-prompt")
            gr.Examples([[e] for e in EXAMPLES], [prompt], label="Example prompts")
            temperature = gr.Slider(0, 2, value=DEFAULTS["temperature"], step=0.05,
                                    label="Temperature (0 = greedy, 1 = the model's own odds)",
                                    elem_id="gen-temperature")
            with gr.Row():
                top_k = gr.Slider(0, 200, value=DEFAULTS["top_k"], step=1,
                                  label="Top-k (0 = no limit)", elem_id="gen-top-k")
                top_p = gr.Slider(0.01, 1, value=DEFAULTS["top_p"], step=0.01,
                                  label="Top-p (1 = no limit)", elem_id="gen-top-p")
            with gr.Row():
                max_new_tokens = gr.Slider(1, generation.MAX_NEW_TOKENS,
                                           value=DEFAULTS["max_new_tokens"], step=1,
                                           label="New tokens at most", elem_id="gen-max")
                seed = gr.Number(DEFAULTS["seed"], precision=0, minimum=0,
                                 maximum=2**32 - 1, label="Seed", elem_id="gen-seed")
            with gr.Row():
                go_btn = gr.Button("Generate", variant="primary", elem_id="gen-go")
                step_btn = gr.Button("Step: +1 token", elem_id="gen-step")
            with gr.Row():
                stop_btn = gr.Button("Stop", variant="stop", elem_id="gen-stop")
                reset_btn = gr.Button("Start over", elem_id="gen-reset")
        with gr.Column(scale=3, min_width=300):
            output = gr.Textbox(label="Generated text (the prompt excluded)", lines=8,
                                max_lines=20, interactive=False, elem_id="gen-output")
            status = gr.Markdown(elem_id="gen-status")
            chart = gr.Plot(label="Next-token probabilities", elem_id="gen-chart")
            choose = gr.Radio([], label="Or choose the next token yourself (instead of drawing)",
                              elem_id="gen-choose")
            next_label = gr.Label(label="The next token's odds, after the filters",
                                  num_top_classes=10, elem_id="gen-next")
    gr.Markdown("#### Your text, as the model's tokens")
    token_view = gr.HTML(elem_id="gen-tokens")
    with gr.Accordion("How it works: tokens, probabilities, sampling", open=False):
        gr.Markdown(EXPLANATION)

    state = gr.State(None)
    outputs = [output, status, token_view, chart, next_label, choose, state]
    settings = [temperature, top_k, top_p]
    run = go_btn.click(generate_text,
                       [prompt, temperature, max_new_tokens, top_k, top_p, seed, model],
                       outputs, api_name="generate_text", concurrency_limit=1,
                       concurrency_id="generate", show_progress="minimal")
    stop_btn.click(None, cancels=[run], api_visibility="private")
    step_btn.click(step_token, [prompt, *settings, seed, model, state], outputs,
                   api_name="step_token", show_progress="hidden")
    choose.input(choose_token, [choose, prompt, *settings, seed, model, state], outputs,
                 api_visibility="private", show_progress="hidden")
    # New settings redraw the odds without generating; a new prompt starts a new text. On page
    # load too (not at start-up: the server imports transformers only when a page asks).
    gr.on([c.change for c in (prompt, temperature, top_k, top_p, model)]
          + [*on_show], refresh,
          [prompt, *settings, model, state], outputs, api_visibility="private",
          trigger_mode="always_last", show_progress="hidden")
    reset_btn.click(next_token_distribution, [prompt, *settings, model],
                    [next_label, chart, output, status, token_view, choose, state],
                    api_name="next_token_distribution", show_progress="hidden")


DEMO = Demo(title="Text generation", slug="generation", build=build)
