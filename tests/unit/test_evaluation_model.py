"""models/evaluation: the metrics against independent computations (the digit networks' own
one-picture predictions, scipy, scikit-learn, brute force), the shipped evaluation data, and
overfitting as it happens."""

from collections import Counter

import numpy as np
import pytest
from conftest import DATA

from models import digits, evaluation, runner
from models.evaluation import overfit

# ---------------------------------------------------------------------------------------------
# The shipped data


def test_the_test_digits_are_the_digit_networks_held_out_ones_and_the_sets_are_disjoint():
    d = evaluation.data()
    fixture = np.load(DATA / "mnist_heldout.npz")
    assert np.array_equal(d["test_images"], fixture["images"])
    assert np.array_equal(d["test_labels"], fixture["labels"])
    assert (len(d["train_labels"]), len(d["val_labels"]), len(d["test_labels"])) == (
        7000, 1000, 1000)
    assert len(d["non_digit_images"]) == 400
    assert Counter(d["non_digit_kinds"].tolist()) == {"letter": 200, "shape": 200}
    seen = [{img.tobytes() for img in d[f"{part}_images"]} for part in ("train", "val", "test")]
    assert not seen[0] & seen[1] and not seen[0] & seen[2] and not seen[1] & seen[2]
    for part in ("train", "val", "test"):  # every digit, in about MNIST's shares
        counts = np.bincount(d[f"{part}_labels"], minlength=10)
        assert counts.min() > 0.07 * counts.sum()


# ---------------------------------------------------------------------------------------------
# The confusion matrix


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_the_confusion_matrix_equals_one_counted_from_each_picture_alone(model):
    """The Digits tab's own path, one picture at a time (models.digits.predict: the CNN's label,
    and the MLP's softmax that the tab draws), counted with a Counter."""
    images, labels = evaluation.test_images(), evaluation.test_labels()
    counted = Counter()
    for image, label in zip(images, labels):
        result = digits.predict(image)
        said = (int(result["label"]) if model == "cnn"
                else int(np.argmax(result["mlp"]["output"])))
        counted[int(label), said] += 1
    result = evaluation.digit_confusion(model)
    assert result["matrix"] == [[counted[t, p] for p in range(10)] for t in range(10)]
    assert result["labels"] == list(range(10)) and result["n"] == 1000
    assert result["accuracy"] == sum(counted[d, d] for d in range(10)) / 1000


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_precision_recall_f1_and_accuracy_agree_with_the_counts(model):
    r = evaluation.digit_confusion(model)
    m = np.array(r["matrix"])
    for d in range(10):
        tp, fp, fn = m[d, d], m[:, d].sum() - m[d, d], m[d, :].sum() - m[d, d]
        assert r["precision"][d] == pytest.approx(tp / (tp + fp))
        assert r["recall"][d] == pytest.approx(tp / (tp + fn))
        assert r["f1"][d] == pytest.approx(2 * tp / (2 * tp + fp + fn))
        assert r["support"][d] == tp + fn
    assert r["accuracy"] == pytest.approx(np.trace(m) / m.sum())
    low, high = r["accuracy_interval"]
    assert low < r["accuracy"] < high


def test_metrics_on_a_fixed_table():
    m = evaluation.confusion([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3)
    assert m.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    figures = evaluation.per_class(m)
    assert figures["precision"] == [1.0, 0.5, 0.5]
    assert figures["recall"] == pytest.approx([2 / 3, 0.5, 1.0])
    assert figures["f1"] == pytest.approx([0.8, 0.5, 2 / 3])
    # a class never predicted has no precision (not 0: nothing was claimed)
    assert evaluation.per_class(evaluation.confusion([0, 1], [0, 0], 2))["precision"] == [
        0.5, None]


def test_a_cell_holds_the_digits_it_counts_surest_first():
    r = evaluation.digit_confusion("mlp")
    for t, p in [(4, 9), (3, 3), (7, 2)]:
        cell = evaluation.confusion_examples("mlp", t, p)
        assert len(cell) == min(r["matrix"][t][p], evaluation.MAX_EXAMPLES)
        confidences = [e["confidence"] for e in cell]
        assert confidences == sorted(confidences, reverse=True)
        for e in cell[:5]:
            assert evaluation.test_labels()[e["index"]] == t
            assert np.array_equal(e["image"], evaluation.data()["test_images"][e["index"]])
    wrong = r["most_confidently_wrong"]
    assert len(wrong) == evaluation.MOST_WRONG
    assert all(w["true"] != w["predicted"] for w in wrong)
    assert [w["confidence"] for w in wrong] == sorted((w["confidence"] for w in wrong),
                                                      reverse=True)


@pytest.mark.parametrize("args", [("resnet", 1, 2), ("cnn", 10, 2), ("cnn", -1, 2),
                                  ("cnn", 2.5, 2), ("cnn", "x", 2), ("cnn", True, 2),
                                  ("cnn", 1, None), (None, 1, 2), (["cnn"], 1, 2)])
def test_bad_cells_are_refused_with_a_sentence(args):
    with pytest.raises(ValueError, match=r"[Mm]odel|digit"):
        evaluation.confusion_examples(*args)


# ---------------------------------------------------------------------------------------------
# Thresholds and curves


def test_binary_counts_agree_with_their_figures():
    scores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
    positive = [1, 1, 0, 1, 0, 1, 0, 0]
    c = evaluation.binary_counts(scores, positive, 0.5)
    assert (c["tp"], c["fp"], c["tn"], c["fn"]) == (3, 1, 3, 1)
    assert c["precision"] == 0.75 and c["recall"] == 0.75 and c["f1"] == 0.75
    assert c["accuracy"] == 0.75 and c["n"] == 8
    nothing = evaluation.binary_counts(scores, positive, 1.0)
    assert nothing["precision"] is None and nothing["recall"] == 0.0


@pytest.mark.parametrize("source", ["sentiment-minilm", "sentiment-encoder", "open set"])
def test_recall_never_rises_as_the_threshold_rises(source):
    high = 1.0 if source != "open set" else evaluation.OPEN_SET_RANGE[1]
    recalls = []
    for threshold in np.linspace(0, high, 81):
        counts = (evaluation.open_set_threshold(threshold) if source == "open set"
                  else evaluation.sentiment_threshold(threshold, source))
        assert counts["tp"] + counts["fp"] + counts["tn"] + counts["fn"] == counts["n"]
        tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
        assert counts["recall"] == pytest.approx(tp / (tp + fn))
        if counts["precision"] is not None:
            assert counts["precision"] == pytest.approx(tp / (tp + fp))
        low, up = counts["accuracy_interval"]
        assert low <= counts["accuracy"] <= up
        recalls.append(counts["recall"])
    assert all(b <= a for a, b in zip(recalls, recalls[1:]))
    assert recalls[0] == 1.0 and recalls[-1] < 1.0


def test_the_wrong_sentences_are_the_false_positives_and_negatives():
    for threshold in (0.2, 0.5, 0.9):
        counts = evaluation.sentiment_threshold(threshold, "sentiment-encoder")
        wrong = evaluation.sentiment_mistakes(threshold, "sentiment-encoder")
        assert len(wrong) == counts["fp"] + counts["fn"]
        assert all((w["score"] >= threshold) != w["positive"] for w in wrong)
    counts = evaluation.open_set_threshold(1.0)
    assert len(evaluation.open_set_mistakes(1.0)) == counts["fp"] + counts["fn"]


def test_the_open_set_score_at_one_is_the_digits_tabs_own_rule():
    """At threshold 1 a digit is flagged exactly when models.digits.predict says "not a digit"
    (its rule: unfamiliarity above 1, or confidence under NONSENSE)."""
    scores, _ = evaluation.open_set_scores()
    images = evaluation.test_images()
    for i in np.r_[np.argsort(-scores[:1000])[:8], np.arange(8)]:
        verdict = digits.predict(images[i])["verdict"]
        assert (verdict == "not a digit") == (scores[i] > 1.0), (i, scores[i], verdict)


def test_the_curves_agree_with_scikit_learn_and_brute_force():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    positive = rng.random(300) < 0.4
    scores = np.round(rng.normal(positive * 1.0, 1.0), 1)  # rounded: ties, as real scores have
    curves = evaluation.curves(scores, positive)
    assert curves["roc_auc"] == pytest.approx(roc_auc_score(positive, scores))
    assert curves["average_precision"] == pytest.approx(average_precision_score(positive, scores))
    # ROC's area: the chance that a positive outscores a negative (a tie counts half)
    p, n = scores[positive], scores[~positive]
    wins = (p[:, None] > n[None, :]).mean() + 0.5 * (p[:, None] == n[None, :]).mean()
    assert curves["roc_auc"] == pytest.approx(wins)
    assert curves["fpr"][0] == 0 and curves["tpr"][-1] == 1 and curves["fpr"][-1] == 1
    for t, r in zip(curves["thresholds"], curves["recall"][1:]):  # each point is a threshold's
        assert r == pytest.approx(evaluation.binary_counts(scores, positive, t)["recall"])


# ---------------------------------------------------------------------------------------------
# How sure


@pytest.mark.parametrize("successes, n", [(989, 1000), (0, 20), (20, 20), (7, 13), (349, 400)])
def test_the_wilson_interval_is_scipys_and_contains_the_proportion(successes, n):
    from scipy.stats import binomtest

    low, high = evaluation.wilson(successes, n)
    ref = binomtest(successes, n).proportion_ci(0.95, method="wilson")
    assert (low, high) == pytest.approx((ref.low, ref.high), abs=1e-9)
    assert low <= successes / n <= high


@pytest.mark.parametrize("only_a, only_b", [(40, 5), (45, 22), (12, 10), (0, 3), (7, 0),
                                             (0, 0), (150, 120)])
def test_the_paired_p_value_is_scipys_exact_binomial_test(only_a, only_b):
    from scipy.stats import binomtest

    right_a = np.r_[np.ones(only_a), np.zeros(only_b), np.ones(30), np.zeros(4)].astype(bool)
    right_b = np.r_[np.zeros(only_a), np.ones(only_b), np.ones(30), np.zeros(4)].astype(bool)
    result = evaluation.mcnemar(right_a, right_b)
    assert (result["only_a"], result["only_b"], result["both_right"], result["both_wrong"]) == (
        only_a, only_b, 30, 4)
    n = only_a + only_b
    reference = binomtest(min(only_a, only_b), n, 0.5).pvalue if n else 1.0
    assert result["p_value"] == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize("task", ["digits", "sentiment"])
def test_the_significance_test_of_each_task(task):
    r = evaluation.significance_test(task)
    assert set(r) >= {"a", "b", "accuracy_a", "accuracy_b", "p_value", "test"}
    assert r["both_right"] + r["only_a"] + r["only_b"] + r["both_wrong"] == r["n"]
    assert r["accuracy_a"] == pytest.approx((r["both_right"] + r["only_a"]) / r["n"])
    assert r["accuracy_b"] == pytest.approx((r["both_right"] + r["only_b"]) / r["n"])
    for key in ("a", "b"):
        low, high = r[f"interval_{key}"]
        assert low < r[f"accuracy_{key}"] < high
    low, high = r["difference_interval"]
    assert low <= r["accuracy_a"] - r["accuracy_b"] <= high
    assert 0 <= r["p_value"] <= 1


def test_bad_thresholds_tasks_and_models_are_refused():
    for bad in (-0.1, 1.5, "x", None, True, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            evaluation.sentiment_threshold(bad, "sentiment-minilm")
    for bad in ("gpt2", "../../etc/passwd", None, 3):
        with pytest.raises(ValueError, match="model"):
            evaluation.sentiment_threshold(0.5, bad)
    with pytest.raises(ValueError, match="threshold"):
        evaluation.open_set_threshold(5)
    for bad in ("images", "", None, ["digits"]):
        with pytest.raises(ValueError, match="task"):
            evaluation.significance_test(bad)


# ---------------------------------------------------------------------------------------------
# Overfitting


def trained(epochs: int, **settings) -> overfit.OverfitRun:
    run = overfit.OverfitRun(**settings)
    for _ in range(epochs):
        run.step()
    return run


def test_with_100_digits_validation_loss_rises_after_its_minimum_while_training_loss_falls():
    run = trained(150, n_train=100, seed=0)
    h = {k: np.array(v) for k, v in run.history.items()}
    best = int(np.argmin(h["val_loss"]))
    assert run.best[0] == best and 5 <= best <= 100
    assert h["val_loss"][-1] > h["val_loss"][best] + 0.15  # it rose, clearly
    # the training loss kept falling after that minimum: each 10-epoch block below the last
    blocks = h["train_loss"][best:best + 10 * ((150 - best) // 10)].reshape(-1, 10).mean(1)
    assert all(b < a for a, b in zip(blocks, blocks[1:]))
    assert h["train_loss"][-1] < 0.1 * h["train_loss"][best]
    assert h["train_accuracy"][-1] == 1.0 and h["val_accuracy"][-1] < 0.8


def test_a_run_is_seeded_and_the_settings_change_it():
    a, b = trained(5, n_train=200, seed=3), trained(5, n_train=200, seed=3)
    assert a.history == b.history
    c = trained(5, n_train=200, seed=4)
    assert c.history["val_loss"] != a.history["val_loss"]


def test_weight_decay_keeps_the_weights_smaller():
    def norm(run):
        return sum(float((p.detach() ** 2).sum()) for n, p in run.model.named_parameters()
                   if n.endswith("weight"))

    assert norm(trained(30, n_train=100, weight_decay=0.05)) < 0.7 * norm(
        trained(30, n_train=100))


def test_the_training_digits_are_balanced_and_a_bigger_set_extends_a_smaller_one():
    small, big = overfit.subset(100, seed=1), overfit.subset(1000, seed=1)
    assert np.array_equal(big[:100], small)
    assert np.bincount(evaluation.data()["train_labels"][small], minlength=10).tolist() == [10] * 10
    assert len(set(big.tolist())) == 1000
    assert not np.array_equal(overfit.subset(100, seed=2), small)


def test_augmentation_keeps_shape_and_range_and_moves_the_ink():
    import torch

    x = torch.from_numpy(evaluation.test_images()[:16])
    out = overfit.augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and float(out.min()) >= 0 and float(out.max()) <= 1.0001
    assert float((out - x).abs().mean()) > 0.02


def test_the_test_digits_are_scored_once_with_the_best_epochs_weights():
    run = overfit.OverfitRun(n_train=100, seed=0)
    states = list(runner.iterate(run.run(40)))
    last = states[-1]
    assert last["status"] == "done" and last["epoch"] == 40
    assert all(s["test"] is None for s in states[:-1])  # not before the end
    test = last["test"]
    assert test["epoch"] == last["best_epoch"] and test["n"] == 1000
    assert test["interval"][0] < test["accuracy"] < test["interval"][1]
    # the same weights, scored here: the same accuracy
    import torch

    model = overfit.network(0.0)
    model.load_state_dict(run.best[2])
    x = torch.from_numpy(evaluation.test_images())
    accuracy = float((model.eval()(x).argmax(-1).numpy() == evaluation.test_labels()).mean())
    assert test["accuracy"] == pytest.approx(accuracy)
    # training on does not score it again
    list(runner.iterate(run.run(45)))
    assert run.record()["epoch"] == 45 and run.test is test


@pytest.mark.parametrize("name, bad", [("n_train", 10), ("n_train", 7001), ("n_train", 2.5),
                                       ("epochs", 0), ("epochs", 501), ("weight_decay", -1),
                                       ("dropout", 0.9), ("augment", 1), ("seed", -1),
                                       ("seed", "x")])
def test_bad_settings_are_refused_with_a_sentence(name, bad):
    with pytest.raises(ValueError):
        overfit.SETTINGS.check({name: bad})
