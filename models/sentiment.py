"""Sentiment: is a sentence positive or negative, and which of its words drove the verdict.

    classify(texts, key)   -> [{"positive": p, "negative": 1 - p}, ...]
    attributions(text, key) -> each word with how much it moves P(positive), by occlusion

Occlusion is the plainest honest method: take one word out, score the sentence again, and the
change (in the log-odds of "positive") is that word's attribution. All the variants (one per
word) go through the model in one batch. It says what the model does without the word, not why;
words that only matter together ("not" + "bad") are each scored alone.
"""

from __future__ import annotations

import re

from models import registry, text
from models.lazy import no_grad, torch

MAX_TOKENS = 256  # what an encoder reads of a text at most (the rest is cut, and the user is told)
# An explanation scores the text once per word, so its cost is words x tokens: a long text's
# explanation covers its first MAX_WORDS words, scored as a text of their own and read up to
# EXPLAIN_TOKENS tokens (at most 41 passes of 128 tokens: about 2 s on one core of our 2-core
# machine for the pretrained model; tests/benchmarks/bench_hostile.py measures it).
MAX_WORDS = 40
EXPLAIN_TOKENS = 128
BATCH = 16  # variants scored at once: a batch of 64 long ones held 170 MB of activations


def max_tokens(loaded: registry.Loaded) -> int:
    """What this model reads of a text: MAX_TOKENS, or fewer if it has fewer positions (the
    encoder trained here from scratch has 128)."""
    positions = getattr(loaded.model.config, "max_position_embeddings", MAX_TOKENS)
    return min(MAX_TOKENS, int(positions))


def _checked(texts) -> list[tuple[str, str | None]]:
    if isinstance(texts, str):
        texts = [texts]
    return [text.clean(t, "text", keep="start") for t in texts]


@no_grad
def _log_odds(loaded: registry.Loaded, texts: list[str], limit: int | None = None
              ) -> torch.Tensor:
    """log(P(positive) / P(negative)) for each text, in batches; texts longer than `limit`
    tokens (default: all the model reads, max_tokens) are cut."""
    label = {v.lower(): k for k, v in loaded.model.config.id2label.items()}
    pos, neg = label.get("positive", 1), label.get("negative", 0)
    limit = min(limit or MAX_TOKENS, max_tokens(loaded))
    out = []
    for start in range(0, len(texts), BATCH):
        x = loaded.tokenizer(texts[start:start + BATCH], truncation=True, max_length=limit,
                             padding=True, return_tensors="pt")
        logits = loaded.model(**x).logits.float()  # (B, 2)
        out.append(logits[:, pos] - logits[:, neg])  # the two-class softmax's log-odds
    return torch.cat(out)


def _positive(loaded: registry.Loaded, texts: list[str]) -> list[float]:
    return torch.sigmoid(_log_odds(loaded, texts)).tolist()


def _truncation_notice(loaded: registry.Loaded, t: str) -> str | None:
    n, limit = len(loaded.tokenizer(t, truncation=False)["input_ids"]), max_tokens(loaded)
    if n > limit:
        return (f"The text is {n:,} tokens long; the model reads only the first {limit}, "
                "so the rest does not count.")
    return None


def classify(texts, model_key: str | None = None) -> list[dict]:
    """For each text: {"scores": {"positive": p, "negative": 1 - p}, "notices": [...],
    "model": the key that answered}."""
    checked = _checked(texts)
    loaded = registry.load("sentiment", model_key)
    probs = _positive(loaded, [t for t, _ in checked])
    out = []
    for (t, notice), p in zip(checked, probs):
        notices = [n for n in (loaded.notice, notice, _truncation_notice(loaded, t)) if n]
        out.append({"scores": {"positive": p, "negative": 1 - p}, "notices": notices,
                    "model": loaded.spec.key})
    return out


def words(t: str) -> list[tuple[int, int]]:
    """The (start, end) of each word: a run of letters/digits/apostrophes, or any other single
    non-space character (punctuation and emoji count: "!" and "🙂" can carry sentiment)."""
    return [m.span() for m in re.finditer(r"[\w'’]+|[^\w\s]", t)]


def without(t: str, span: tuple[int, int]) -> str:
    """The text with one word taken out (and one space, so that no double space is left)."""
    start, end = span
    if end < len(t) and t[end] == " ":
        end += 1
    elif start > 0 and t[start - 1] == " ":
        start -= 1
    return t[:start] + t[end:]


def attributions(text_in, model_key: str | None = None) -> dict:
    """Occlusion: for each word, the log-odds of "positive" for the text minus the log-odds
    without that word. Positive attribution = the word pushed towards "positive". Log-odds, not
    probability: a confident model's P(positive) barely moves from 0.999 when a word goes, while
    its log-odds show how much that word counted (+2.3 is the odds ten times higher).
    Returns {"words": [(word, attribution)], "segments": the whole text as (piece, attribution
    or None), "positive": P(positive) of the whole, "notices" (as classify() gives them),
    "coverage" (sentences on what of a long text is explained), "model"}."""
    t, notice = text.clean(text_in, "text", keep="start")
    loaded = registry.load("sentiment", model_key)
    spans = words(t)
    notices = [n for n in (loaded.notice, notice, _truncation_notice(loaded, t)) if n]
    head, n_words, coverage = t, len(spans), []
    if n_words > MAX_WORDS:
        spans = spans[:MAX_WORDS]
        head = t[:spans[-1][1]]
        coverage.append(f"A long text: its first {MAX_WORDS} words are explained, scored as a "
                       f"text of their own (every word of it would take {n_words:,} "
                       "passes of the model).")
    cut = len(loaded.tokenizer(head, truncation=False)["input_ids"]) > EXPLAIN_TOKENS
    if cut:
        coverage.append(f"Each variant is read up to its first {EXPLAIN_TOKENS} tokens.")
    odds = _log_odds(loaded, [head] + [without(head, s) for s in spans], EXPLAIN_TOKENS)
    scores = (odds[0] - odds[1:]).tolist()
    # The verdict on the whole text, as classify() gives it (the variants may have been cut).
    whole = odds[0] if head == t and not cut else _log_odds(loaded, [t])[0]
    segments, at = [], 0
    for (start, end), score in zip(spans, scores):
        if start > at:
            segments.append((t[at:start], None))
        segments.append((t[start:end], score))
        at = end
    if at < len(t):
        segments.append((t[at:], None))
    return {"words": [(t[s:e], score) for (s, e), score in zip(spans, scores)],
            "segments": segments, "positive": float(torch.sigmoid(whole)),
            "notices": notices, "coverage": coverage,
            "model": loaded.spec.key}
