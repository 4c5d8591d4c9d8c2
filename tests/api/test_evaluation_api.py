"""The Evaluation tab's named API through gradio_client, as a client would call it: the same
figures as in-process, the pictures of a cell, the overfitting run streamed, and bad values
refused with a sentence."""

import numpy as np
import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from models import evaluation, runner
from models.evaluation import overfit


@pytest.mark.parametrize("model", ["cnn", "mlp"])
def test_digit_confusion(client, model):
    r = client.predict(model=model, api_name="/digit_confusion")
    assert {"labels", "matrix", "precision", "recall", "f1", "accuracy", "accuracy_interval",
            "n"} <= set(r)
    here = evaluation.digit_confusion(model)
    assert r["matrix"] == here["matrix"] and r["n"] == 1000
    assert sum(map(sum, r["matrix"])) == 1000
    assert r["accuracy"] == pytest.approx(here["accuracy"])
    assert r["accuracy_interval"][0] < r["accuracy"] < r["accuracy_interval"][1]


def test_confusion_examples_are_the_cells_pictures(client):
    matrix = evaluation.digit_confusion("mlp")["matrix"]
    pictures = client.predict(model="mlp", true_digit=4, predicted_digit=9,
                              api_name="/confusion_examples")
    assert len(pictures) == matrix[4][9] > 0
    first = evaluation.confusion_examples("mlp", 4, 9)[0]
    image = np.asarray(Image.open(pictures[0]["image"]).convert("L"))
    assert np.array_equal(image, first["image"])
    assert pictures[0]["caption"].startswith(f"#{first['index']}: true 4, said 9")
    assert client.predict(model="cnn", true_digit=4, predicted_digit=9,
                          api_name="/confusion_examples") == []  # the CNN never did that


def test_sentiment_threshold_and_open_set_threshold(client):
    r = client.predict(threshold=0.7, model="sentiment-encoder", api_name="/sentiment_threshold")
    assert {"tp", "fp", "tn", "fn", "precision", "recall", "f1", "accuracy", "n"} <= set(r)
    assert r == pytest.approx(evaluation.sentiment_threshold(0.7, "sentiment-encoder"))
    assert r["n"] == 400
    o = client.predict(threshold=1.0, api_name="/open_set_threshold")
    assert o["n"] == 1400 and o["tp"] + o["fn"] == 400


def test_significance_test(client):
    r = client.predict(task="digits", api_name="/significance_test")
    assert (r["a"], r["b"]) == ("cnn", "mlp")
    assert {"accuracy_a", "accuracy_b", "p_value", "test"} <= set(r)
    assert r["p_value"] == pytest.approx(evaluation.significance_test("digits")["p_value"])
    assert "McNemar" in r["test"]


def test_train_overfit_streams_and_ends_as_the_same_run_in_process(client):
    job = client.submit(n_train=150, epochs=12, weight_decay=0.001, dropout=0.1, augment=True,
                        seed=2, api_name="/train_overfit")
    job.result()
    outputs = list(job.outputs())
    last = outputs[-1]
    assert {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "best_epoch",
            "history"} <= set(last)
    assert last["epoch"] == 12 and last["status"] == "done"
    assert set(last["history"]) == {"epoch", "train_loss", "val_loss", "train_accuracy",
                                    "val_accuracy"}
    assert last["history"]["epoch"] == list(range(13))
    run = overfit.OverfitRun(n_train=150, weight_decay=0.001, dropout=0.1, augment=True, seed=2)
    state = list(runner.iterate(run.run(12)))[-1]
    assert last["history"]["val_loss"] == pytest.approx(state["history"]["val_loss"], rel=1e-5)
    assert last["best_epoch"] == state["best_epoch"]
    assert last["test"]["accuracy"] == pytest.approx(state["test"]["accuracy"])


@pytest.mark.parametrize("api, kwargs, words", [
    ("/digit_confusion", dict(model="resnet"), "model"),
    ("/confusion_examples", dict(model="cnn", true_digit=11, predicted_digit=1), "true digit"),
    ("/confusion_examples", dict(model="cnn", true_digit=1, predicted_digit=2.5), "whole"),
    ("/sentiment_threshold", dict(threshold=1.5, model="sentiment-minilm"), "threshold"),
    ("/sentiment_threshold", dict(threshold=0.5, model="../../etc/passwd"), "model"),
    ("/open_set_threshold", dict(threshold=-1), "threshold"),
    ("/significance_test", dict(task="<b>x</b>"), "task"),
    ("/train_overfit", dict(n_train=100, epochs=5, weight_decay=0, dropout=0, augment="maybe",
                            seed=0), "Augment"),
    ("/train_overfit", dict(n_train=100, epochs=5, weight_decay=0, dropout=0, augment=False,
                            seed=-3), "seed"),
])
def test_bad_values_get_a_sentence(client, api, kwargs, words):
    with pytest.raises(AppError, match=words) as e:
        client.predict(**kwargs, api_name=api)
    assert "<b>" not in str(e.value)  # what a client sent comes back escaped
