"""The Sentiment tab: a verdict, its confidence, and which words drove it."""

from __future__ import annotations

import html

import gradio as gr

from demos import Demo
from demos.messages import fail
from models import registry, sentiment

EXAMPLES = [
    "What a wonderful, heartfelt film. I loved every minute.",
    "Not bad at all, actually quite enjoyable.",
    "It is not the worst thing I have seen, it is pretty decent.",
    "I can't say I enjoyed it.",
    "Good acting, but a dull plot.",
    "Oh great, another two hours of my life I will never get back.",
    "The food was cold and the waiter was rude, but the view was stunning.",
    "just got my new phone and it's amazing 😍🔥 #happy",
]

INTRO = """### Positive or negative? A transformer reads the sentence and decides
Type anything: the verdict updates as you type. The colours show **which words drove it**:
each word is taken out in turn and the sentence scored again."""

EXPLANATION = """
**How a classifier reads a sentence.** The text is cut into *tokens* (words and pieces of words,
"enjoyable" might be "enjoy" + "##able"); each token becomes a vector of numbers, its
*embedding*. The encoder's layers then let every token look at every other one (*attention*,
see the **Attention** tab, which can show this very sentence) and update its vector, six times
over. A last small layer, the *classification head*, turns the vector of the first token,
`[CLS]`, into two scores, and softmax turns those into the two probabilities you see.

**Pretraining, then fine-tuning.** The default model, all-MiniLM-L6-v2, first learned English
from a billion sentence pairs (pretraining, done by its authors). Here it was *fine-tuned*:
trained a little more, on 13,000 sentences rated by people, to output sentiment. The second
model has the same kind of architecture but learned from nothing but those sentences. Compare
them below: the gap is what pretraining buys.

**Which words mattered: occlusion.** Each word (or punctuation mark, or emoji) is removed in
turn and the sentence is scored again; all the variants go through the model in one batch.
Blue: without the word the sentence is *less* positive, so the word pushed towards positive.
Orange: the word pushed towards negative. The deeper the colour, the larger the change. It is
measured in *log-odds*, log(P(positive) / P(negative)), not in probability: a confident
model's 99.9 % hardly moves when one word goes, but its odds can drop a hundredfold.
What it does not tell you: *why* the model reacts so, or what words do together. Each word is
scored alone, so pairs can surprise: taking "bad" out of "not bad at all" leaves "not at all",
which reads differently, and "bad" gets the credit for the positive verdict.
"""

COLORS_NOTE = ("Blue: pushed towards **positive**; orange: towards **negative**. The deepest "
               "colour marks the word that counted most; hover a word for the number (the "
               "change in log-odds without it: +2.3 means the odds of “positive” were ten "
               "times higher with the word).")


# Every explanation (one pass of the model per word) of the tab and of its page takes its turn
# in one line, one at a time: however many are asked for at once, they hold one core, and the
# other core serves everything else. Each is bounded (models/sentiment.py: MAX_WORDS,
# EXPLAIN_TOKENS), so the line moves.
EXPLAINING = dict(concurrency_id="sentiment-explanations", concurrency_limit=1)


def attribution_html(segments: list) -> str:
    """The text with each word shaded by its attribution: blue pushed towards positive, orange
    towards negative (a pair that colour-blind readers tell apart), the strongest word of the
    sentence at full depth; the exact change on hover (title)."""
    peak = max([abs(score) for _, score in segments if score is not None] + [1e-9])
    spans = []
    for piece, score in segments:
        shown = html.escape(piece)
        if score is None:
            spans.append(shown)
            continue
        rgb = "37,99,235" if score > 0 else "249,115,22"
        alpha = 0.08 + 0.82 * abs(score) / peak
        spans.append(f'<span class="np-word" title="{html.escape(piece)}: {score:+.2f}" '
                     f'style="background:rgba({rgb},{alpha:.2f});border-radius:3px;'
                     f'padding:1px 2px">{shown}</span>')
    return (f'<div class="np-attributions" style="line-height:2;font-size:1.05em;'
            f'white-space:pre-wrap">{"".join(spans)}</div>')



def _model(model) -> str | None:
    return model or None


def _message(result: dict, p: float) -> str:
    verdict = "positive" if p >= 0.5 else "negative"
    sure = max(p, 1 - p)
    how = "sure" if sure >= 0.9 else "fairly sure" if sure >= 0.7 else "unsure"
    lines = [f"**{verdict.capitalize()}**, {sure:.0%} ({how}), by `{result['model']}`."]
    lines += [f"⚠️ {n}" for n in result["notices"]]
    return "\n\n".join(lines)


def classify_sentiment(text, model=None):
    """The verdict: {"positive": p, "negative": 1 - p} (a gr.Label value), and a sentence."""
    try:
        (result,) = sentiment.classify([text], _model(model))
    except (ValueError, TypeError) as e:
        fail(e)
    return result["scores"], _message(result, result["scores"]["positive"])


def explain_sentiment(text, model=None):
    """Per-word attributions (a gr.HighlightedText value: the text in pieces, each word with its
    attribution divided by the largest one, so in [-1, 1]), the shaded text, and a sentence
    with the raw numbers (the change in the log-odds of "positive" without the word)."""
    try:
        result = sentiment.attributions(text, _model(model))
    except (ValueError, TypeError) as e:
        fail(e)
    top = sorted(result["words"], key=lambda w: -abs(w[1]))[:3]
    said = ", ".join(f"“{w}” ({s:+.1f})" for w, s in top)
    peak = max([abs(v) for _, v in result["words"]] + [1e-9])
    scaled = [(piece, None if v is None else v / peak) for piece, v in result["segments"]]
    why = [f"Words that moved it most: {said}."] if top else []
    why += [f"⚠️ {n}" for n in result["coverage"]]  # what of a long text the colours cover
    return scaled, attribution_html(result["segments"]), "\n\n".join(why)


def _one(text, model):
    """The verdict, the shaded words and the sentence, from one explanation (which scores the
    whole text too: no second pass of the model for the verdict)."""
    try:
        result = sentiment.attributions(text, _model(model))
    except (ValueError, TypeError) as e:
        fail(e)
    p = result["positive"]
    return ({"positive": p, "negative": 1 - p}, attribution_html(result["segments"]),
            _message(result, p))


def compare_sentences(text_a, text_b, model=None):
    """Two sentences side by side with one model: each verdict and its attributions."""
    return (*_one(text_a, model), *_one(text_b, model))


def compare_models(text):
    """One sentence, the two bundled models side by side."""
    first, second = (m.key for m in registry.BUNDLED["sentiment"][:2])
    return (*_one(text, first), *_one(text, second))


def _result_column(label: str, elem: str):
    with gr.Column(min_width=260):
        verdict = gr.Label(label=label, num_top_classes=2, elem_id=f"{elem}-label")
        shaded = gr.HTML(elem_id=f"{elem}-words")
        message = gr.Markdown(elem_id=f"{elem}-message")
    return verdict, shaded, message


def build(on_show=()):
    """The tab; `on_show`: the events on which it first fills itself (app.py: the tab being
    selected, or its own page loading), so that no model runs for a visitor who never looks."""
    gr.Markdown(INTRO)
    models = registry.available("sentiment")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            text = gr.Textbox(EXAMPLES[1], lines=3, max_lines=10, label="Your text",
                              elem_id="sent-text")
            model = gr.Dropdown([(m.description, m.key) for m in models], value=models[0].key,
                                label="Model", elem_id="sent-model")
            gr.Examples([[e] for e in EXAMPLES], [text], label="Try these (some are hard)")
        with gr.Column(scale=3, min_width=300):
            verdict = gr.Label(label="Verdict", num_top_classes=2, elem_id="sent-label")
            message = gr.Markdown(elem_id="sent-message")
            gr.Markdown("**Which words drove it**")
            shaded = gr.HTML(elem_id="sent-words")
            # The same attributions as a gr.HighlightedText value, for API clients (gradio's
            # own colours for scores are red and purple, not a colour-blind-safe pair).
            highlights = gr.HighlightedText(visible=False, elem_id="sent-highlights")
            gr.Markdown(COLORS_NOTE)
            why = gr.Markdown(elem_id="sent-why")
    # As you type (the newest text wins: a request still queued is dropped for the next), on
    # Enter, on a new model and when the page loads.
    triggers = [text.change, text.submit, model.change, *on_show]
    gr.on(triggers, classify_sentiment, [text, model], [verdict, message],
          api_name="classify_sentiment", trigger_mode="always_last", show_progress="hidden")
    gr.on(triggers, explain_sentiment, [text, model], [highlights, shaded, why],
          api_name="explain_sentiment", trigger_mode="always_last", show_progress="hidden",
          **EXPLAINING)

    gr.Markdown("### Compare two sentences: can one word flip the verdict?")
    with gr.Row():
        text_a = gr.Textbox("The acting was good.", label="Sentence A", elem_id="sent-a")
        text_b = gr.Textbox("The acting was not good.", label="Sentence B", elem_id="sent-b")
    compare = gr.Button("Compare", variant="primary", elem_id="sent-compare")
    with gr.Row():
        a_out = _result_column("A", "sent-a-out")
        b_out = _result_column("B", "sent-b-out")
    compare.click(compare_sentences, [text_a, text_b, model], [*a_out, *b_out],
                  api_name="compare_sentences", show_progress="minimal", **EXPLAINING)

    gr.Markdown("### The two bundled models on the same sentence: what pretraining buys")
    both = gr.Button("Compare the models on your text", elem_id="sent-models")
    with gr.Row():
        first, second = registry.BUNDLED["sentiment"][:2]
        m1 = _result_column(f"{first.key} (pretrained, fine-tuned)", "sent-m1")
        m2 = _result_column(f"{second.key} (from scratch)", "sent-m2")
    both.click(compare_models, [text], [*m1, *m2], api_name="compare_models",
               show_progress="minimal", **EXPLAINING)
    with gr.Accordion("How it works: tokens, layers, fine-tuning, occlusion", open=False):
        gr.Markdown(EXPLANATION)


DEMO = Demo(title="Sentiment", slug="sentiment", build=build)
