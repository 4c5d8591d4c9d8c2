"""Evaluation: taking apart the other tabs' models on data they never trained on.

- the confusion matrix of the digit CNN and of the 784-16-16-10 network on the 1,000 held-out
  digits, per-class precision, recall and F1, the digits in any cell, and the mistakes each
  network was surest of;
- precision and recall at a threshold: the sentiment models on 400 held-out sentences, and
  Digits' "is this a digit at all?" score on digits and on drawings that are not digits; the
  precision-recall and ROC curves;
- how sure a figure is: a Wilson interval for every accuracy, and McNemar's exact test (with a
  paired bootstrap interval of the difference) for two models scored on the same items.

Live overfitting (a network trained on few or many digits, in front of the learner) is
models/evaluation/overfit.py.

The metrics are plain numpy, written out, so that a learner can read how each is counted; the
tests check them against independent computations (scipy's binomial test among them).
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from models import checks, registry
from models.digits import NONSENSE

DATA = Path(__file__).parents[1] / "weights" / "evaluation" / "digits.npz"
SENTIMENT_SAMPLE = Path(__file__).parents[1] / "eval" / "sentiment_sample.tsv"
DIGIT_MODELS = {"cnn": "the digit CNN", "mlp": "the 784-16-16-10 network"}
DIGITS = list(range(10))
Z95 = 1.959963984540054  # the normal quantile for a two-sided 95 % interval
MAX_EXAMPLES = 100  # digits returned from one cell, at most
MOST_WRONG = 12
BOOTSTRAP = 2000
# Significance: the two models of each task, scored on the same held-out items.
PAIRS = {"digits": ("cnn", "mlp"), "sentiment": ("sentiment-minilm", "sentiment-encoder")}
OPEN_SET_RANGE = (0.0, 4.0)  # Digits' not-a-digit score: 1.0 is its own threshold


# ---------------------------------------------------------------------------------------------
# Metrics


def confusion(truth, predicted, k: int) -> np.ndarray:
    """k x k counts: rows the true class, columns the predicted one."""
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)),
              1)
    return matrix


def _ratio(a: float, b: float) -> float | None:
    """a / b, or None where b is 0 (a precision with no prediction is undefined, not 0)."""
    return float(a / b) if b else None


def f1_score(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def per_class(matrix: np.ndarray) -> dict:
    """Each class's precision (of those predicted as it, the share that are), recall (of those
    that are it, the share found) and F1 (their harmonic mean), and its support."""
    right = np.diag(matrix)
    precision = [_ratio(r, p) for r, p in zip(right, matrix.sum(axis=0))]
    recall = [_ratio(r, t) for r, t in zip(right, matrix.sum(axis=1))]
    return {"precision": precision, "recall": recall,
            "f1": [f1_score(p, r) for p, r in zip(precision, recall)],
            "support": matrix.sum(axis=1).tolist()}


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default): unlike p ± z·√(p(1-p)/n) it
    stays inside [0, 1] and is honest at 0 or n successes."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def binary_counts(scores, positive, threshold: float) -> dict:
    """TP, FP, TN, FN of "positive when score >= threshold", and the figures made of them."""
    said = np.asarray(scores) >= threshold
    positive = np.asarray(positive, dtype=bool)
    tp, fp = int((said & positive).sum()), int((said & ~positive).sum())
    fn, tn = int((~said & positive).sum()), int((~said & ~positive).sum())
    n = tp + fp + tn + fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "precision": precision, "recall": recall,
            "f1": f1_score(precision, recall), "accuracy": (tp + tn) / n if n else None,
            "accuracy_interval": list(wilson(tp + tn, n)), "n": n,
            "false_positive_rate": _ratio(fp, fp + tn)}


def curves(scores, positive) -> dict:
    """The ROC curve (false positive rate, true positive rate) and the precision-recall curve,
    one point per distinct threshold (every score), from the strictest to the most lenient,
    and the area under each (ROC: trapezoids; PR: average precision, a step sum)."""
    scores, positive = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last item of each distinct score
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    p, n = max(int(y.sum()), 1), max(int((~y).sum()), 1)
    tpr, fpr = np.r_[0, tp / p], np.r_[0, fp / n]
    precision = np.r_[1.0, tp / (tp + fp)]
    recall = tpr
    return {"thresholds": s[last].tolist(), "fpr": fpr.tolist(), "tpr": tpr.tolist(),
            "precision": precision.tolist(), "recall": recall.tolist(),
            "roc_auc": float(np.trapezoid(tpr, fpr)),
            "average_precision": float(np.sum(np.diff(recall) * precision[1:]))}


def mcnemar(right_a, right_b) -> dict:
    """McNemar's exact test of two models on the same items: only the items where they disagree
    tell them apart. If both were equally good, each disagreement would go either way with
    probability 1/2; the p-value is the two-sided binomial probability of a split at least as
    uneven as the one seen."""
    right_a, right_b = np.asarray(right_a, dtype=bool), np.asarray(right_b, dtype=bool)
    b = int((right_a & ~right_b).sum())  # only A right
    c = int((~right_a & right_b).sum())  # only B right
    n = b + c
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n if n else 1.0
    return {"both_right": int((right_a & right_b).sum()), "only_a": b, "only_b": c,
            "both_wrong": int((~right_a & ~right_b).sum()), "p_value": min(1.0, 2 * tail)}


def paired_bootstrap(right_a, right_b, resamples: int = BOOTSTRAP, seed: int = 0
                     ) -> tuple[float, float]:
    """A 95 % percentile bootstrap interval of accuracy(A) - accuracy(B): the same items drawn
    again with replacement for both models at once (they are paired), `resamples` times."""
    diff = np.asarray(right_a, dtype=float) - np.asarray(right_b, dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return (float(low), float(high))


# ---------------------------------------------------------------------------------------------
# The shipped evaluation data


@lru_cache(maxsize=1)
def data() -> dict[str, np.ndarray]:
    """The Evaluation tab's digits (models/training/make_evaluation_data.py): "train" (7,000),
    "val" (1,000), "test" (the 1,000 digits no shipped digit network trained on), each images
    (uint8, 255 = ink) and labels; "non_digit_images" (400) and "non_digit_kinds"."""
    with np.load(DATA) as f:
        return {k: f[k] for k in f.files}


def test_images() -> np.ndarray:
    """The held-out digits as the networks read them: float32 (N, 28, 28) in [0, 1]."""
    return data()["test_images"].astype(np.float32) / 255


def test_labels() -> np.ndarray:
    return data()["test_labels"].astype(np.int64)


@lru_cache(maxsize=1)
def sentiment_sample() -> tuple[tuple[str, ...], np.ndarray]:
    """400 sentences of the sentiment test split, never trained on (models/eval): texts, and
    1 where the raters' mean was positive."""
    rows = [line.split("\t", 1) for line in
            SENTIMENT_SAMPLE.read_text(encoding="utf-8").splitlines()]
    return tuple(t for _, t in rows), np.array([float(r) > 0 for r, _ in rows])


# ---------------------------------------------------------------------------------------------
# The digit networks on the held-out digits

# One first computation of each cached score, not one per request (two locks: the digits' scores
# need not wait for MiniLM's seven seconds on the sentences).
_digits_lock, _sentences_lock = threading.Lock(), threading.Lock()


def check_digit_model(value) -> str:
    return checks.choice(value, "model", tuple(DIGIT_MODELS))


def check_digit(value, what: str) -> int:
    return checks.integer(value, what, 0, 9)


def _digit_scores() -> dict[str, np.ndarray]:
    with _digits_lock:
        return _digit_scores_once()


@lru_cache(maxsize=1)
def _digit_scores_once() -> dict[str, np.ndarray]:
    from models.digits import networks

    out = networks.scores(test_images())
    out["open_set"] = open_set_score(out)
    out["non_digit_open_set"] = open_set_score(networks.scores(
        data()["non_digit_images"].astype(np.float32) / 255))
    return out


def open_set_score(scores: dict) -> np.ndarray:
    """Digits' "not a digit" as one score: the larger of the unfamiliarity (how far the CNN's
    features lie from the digits it knows, 1 = its 99th percentile on real digits) and
    NONSENSE / confidence (the CNN learned to spread its probabilities over non-digits). At or
    above 1, the Digits tab says "not a digit"."""
    return np.maximum(scores["unfamiliarity"], NONSENSE / scores["cnn"].max(axis=1))


def digit_probabilities(model: str) -> np.ndarray:
    """(1000, 10): the network's softmax for each held-out digit."""
    return _digit_scores()[check_digit_model(model)]


def digit_confusion(model: str) -> dict:
    """The network's confusion matrix on the held-out digits, its per-class figures and its
    accuracy with a Wilson 95 % interval, and the mistakes it was surest of."""
    probs = digit_probabilities(model)
    truth, said = test_labels(), probs.argmax(axis=1)
    matrix = confusion(truth, said, 10)
    right = int(np.trace(matrix))
    n = len(truth)
    wrong = np.flatnonzero(said != truth)
    surest = wrong[np.argsort(-probs[wrong, said[wrong]], kind="stable")][:MOST_WRONG]
    return {"labels": DIGITS, "matrix": matrix.tolist(), **per_class(matrix),
            "accuracy": right / n, "accuracy_interval": list(wilson(right, n)), "n": n,
            "interval": "Wilson score, 95 %", "model": model,
            "most_confidently_wrong": [
                {"index": int(i), "true": int(truth[i]), "predicted": int(said[i]),
                 "confidence": float(probs[i, said[i]])} for i in surest]}


def confusion_examples(model: str, true_digit, predicted_digit) -> list[dict]:
    """The held-out digits in one cell (true_digit said as predicted_digit), surest first: at
    most MAX_EXAMPLES of {"index", "confidence", "image" (28 x 28 uint8, 255 = ink)}."""
    model = check_digit_model(model)
    true_digit = check_digit(true_digit, "The true digit")
    predicted_digit = check_digit(predicted_digit, "The predicted digit")
    probs = digit_probabilities(model)
    truth, said = test_labels(), probs.argmax(axis=1)
    cell = np.flatnonzero((truth == true_digit) & (said == predicted_digit))
    cell = cell[np.argsort(-probs[cell, predicted_digit], kind="stable")][:MAX_EXAMPLES]
    images = data()["test_images"]
    return [{"index": int(i), "confidence": float(probs[i, predicted_digit]),
             "image": images[i]} for i in cell]


def digit_image(index: int) -> np.ndarray:
    return data()["test_images"][index]


# ---------------------------------------------------------------------------------------------
# Precision and recall at a threshold


def sentiment_models() -> list[str]:
    return [s.key for s in registry.available("sentiment")]


def check_sentiment_model(value) -> str:
    return checks.choice(value, "model", tuple(sentiment_models()))


@lru_cache(maxsize=8)
def _sentiment_scores(model: str) -> np.ndarray:
    from models import sentiment

    texts, _ = sentiment_sample()
    return np.array([r["scores"]["positive"] for r in sentiment.classify(list(texts), model)])


def sentiment_scores(model: str) -> np.ndarray:
    """P(positive) of each held-out sentence, by the model (computed once per model)."""
    model = check_sentiment_model(model)
    with _sentences_lock:
        return _sentiment_scores(model)


def check_threshold(value, high: float = 1.0) -> float:
    return checks.number(value, "The threshold", 0.0, high)


def sentiment_threshold(threshold, model: str) -> dict:
    """Counts and figures of "positive when P(positive) >= threshold" on the 400 sentences."""
    threshold, model = check_threshold(threshold), check_sentiment_model(model)
    _, positive = sentiment_sample()
    return binary_counts(sentiment_scores(model), positive, threshold)


def sentiment_mistakes(threshold, model: str) -> list[dict]:
    """The sentences wrong at this threshold, the most confidently wrong first."""
    threshold, model = check_threshold(threshold), check_sentiment_model(model)
    texts, positive = sentiment_sample()
    scores = sentiment_scores(model)
    wrong = np.flatnonzero((scores >= threshold) != positive)
    wrong = wrong[np.argsort(-np.abs(scores[wrong] - threshold), kind="stable")]
    return [{"text": texts[i], "positive": bool(positive[i]), "score": float(scores[i])}
            for i in wrong]


def open_set_scores() -> tuple[np.ndarray, np.ndarray]:
    """Digits' not-a-digit score (open_set_score) of the 1,000 held-out digits and of the 400
    non-digits, and 1 for the non-digits (what the score is meant to find)."""
    s = _digit_scores()
    scores = np.r_[s["open_set"], s["non_digit_open_set"]]
    return scores, np.r_[np.zeros(len(s["open_set"]), bool),
                         np.ones(len(s["non_digit_open_set"]), bool)]


def open_set_threshold(threshold) -> dict:
    """"Not a digit" when the not-a-digit score is >= threshold (Digits uses 1.0)."""
    threshold = check_threshold(threshold, OPEN_SET_RANGE[1])
    return binary_counts(*open_set_scores(), threshold)


def open_set_mistakes(threshold) -> list[dict]:
    """Digits called "not a digit", and non-digits let through, at this threshold: index (into
    the digits, then the non-digits), score, and the image."""
    threshold = check_threshold(threshold, OPEN_SET_RANGE[1])
    scores, positive = open_set_scores()
    wrong = np.flatnonzero((scores >= threshold) != positive)
    wrong = wrong[np.argsort(-np.abs(scores[wrong] - threshold), kind="stable")]
    d = data()
    images = np.concatenate([d["test_images"], d["non_digit_images"]])
    n_digits = len(d["test_images"])
    return [{"index": int(i), "digit": not positive[i], "score": float(scores[i]),
             "what": (f"a {d['test_labels'][i]}" if i < n_digits
                      else f"a {d['non_digit_kinds'][i - n_digits]}"),
             "image": images[i]} for i in wrong]


# ---------------------------------------------------------------------------------------------
# How sure: two models on the same items


def check_task(value) -> str:
    return checks.choice(value, "task", tuple(PAIRS))


def _right(task: str, model: str) -> np.ndarray:
    if task == "digits":
        return digit_probabilities(model).argmax(axis=1) == test_labels()
    _, positive = sentiment_sample()
    return (sentiment_scores(model) >= 0.5) == positive


def significance_test(task: str) -> dict:
    """Is model A really better than model B on this task's held-out set? McNemar's exact test
    on the items where they disagree, each accuracy with its Wilson interval, and a paired
    bootstrap interval of the difference."""
    task = check_task(task)
    a, b = PAIRS[task]
    right_a, right_b = _right(task, a), _right(task, b)
    n = len(right_a)
    test = mcnemar(right_a, right_b)
    return {"a": a, "b": b, "accuracy_a": float(right_a.mean()),
            "accuracy_b": float(right_b.mean()),
            "interval_a": list(wilson(int(right_a.sum()), n)),
            "interval_b": list(wilson(int(right_b.sum()), n)),
            "difference_interval": list(paired_bootstrap(right_a, right_b)),
            "p_value": test["p_value"], "n": n,
            "test": "McNemar's exact test (two-sided), on the items the models disagree on",
            "interval": "Wilson score, 95 %; the difference: paired bootstrap, 95 %, "
                        f"{BOOTSTRAP} resamples",
            **{k: v for k, v in test.items() if k != "p_value"}}
