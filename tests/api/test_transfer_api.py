"""/transfer_learn through gradio_client, as a client would call it: stateless, streamed, with
examples as lists or as PNG files, and bad sets refused with a sentence."""

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from models import transfer


def examples_json(per_class=3, classes=("triangle", "circle", "A")):
    return transfer.starter_examples(per_class, classes=classes, seed=3).as_json()


def streamed(client, **kwargs):
    job = client.submit(**kwargs, api_name="/transfer_learn")
    job.result()
    return [out for out in job.outputs()]


def test_transfer_learn_streams_and_ends_with_its_numbers_and_predictions(client):
    tests = transfer.heldout_examples()
    pick = [0, 1, 2, 9]  # the held-out drawings of triangle, square, circle, A
    outputs = streamed(client, examples=examples_json(6), method="feature_extraction", steps=25,
                       augment=False, seed=1, test_images=tests.images[pick].tolist())
    last = outputs[-1]
    assert {"step", "loss", "val_accuracy", "per_class", "predictions"} <= set(last)
    assert last["step"] == 25 and last["validation"] == "holdout" and last["held_out"] == 3
    assert set(last["per_class"]) == {"triangle", "circle", "A"}
    assert len(last["predictions"]) == 4
    assert all(p["label"] in ("triangle", "circle", "A") and 0 < p["confidence"] <= 1
               for p in last["predictions"])
    # the same run in-process: the same loss and predictions (seeded)
    run = transfer.TransferRun(transfer.parse_examples(examples_json(6)),
                               methods=["feature_extraction"], freeze=2, augment=False, seed=1)
    for _ in range(25):
        run.step()
    assert last["loss"] == pytest.approx(run.record()["methods"]["feature_extraction"]["loss"],
                                         rel=1e-3, abs=1e-4)
    assert [p["label"] for p in last["predictions"]] == [
        p["label"] for p in run.predictions(tests.images[pick], "feature_extraction")]


def test_transfer_learn_takes_png_files_and_leave_one_out(client, tmp_path):
    examples = []
    for k, item in enumerate(examples_json(2, ("star", "cross"))):
        path = tmp_path / f"{k}.png"
        pixels = np.round(255 - np.array(item["image"]) * 255).astype(np.uint8)  # dark on white
        Image.fromarray(pixels).resize((112, 112)).save(path)
        examples.append({"label": item["label"], "image": handle_file(str(path))})
    last = streamed(client, examples=examples, method="fine_tune", freeze=4, steps=3, seed=0)[-1]
    assert last["step"] == 3 and last["validation"] == "leave_one_out" and last["held_out"] == 4
    assert last["predictions"] == []


@pytest.mark.parametrize("kwargs, message", [
    (dict(examples=[]), "no examples"),
    (dict(examples=examples_json(2, ("star",))), "one class"),
    (dict(examples=[{"label": str(k), "image": [[0.0] * 28] * 28} for k in range(1000)]),
     "at most 500"),
    (dict(examples=[{"label": "a", "image": [[0.0] * 28] * 20}] * 2
          + [{"label": "b", "image": [[0.0] * 28] * 28}] * 2), "28 × 28"),
    (dict(examples=[{"label": "a", "image": {"path": "/etc/passwd"}}] * 2
          + [{"label": "b", "image": [[0.0] * 28] * 28}] * 2), "only a file uploaded"),
    (dict(method="transfer"), "not in the list of choices"),
    (dict(freeze=5), "greater than maximum"),
    (dict(steps=0), "less than minimum"),
    (dict(test_images=[[[0.5] * 28] * 27]), "Test image 1"),
])
def test_transfer_learn_refuses_bad_input_with_a_sentence(client, kwargs, message):
    with pytest.raises(AppError, match=message):
        client.predict(**{"examples": examples_json(2), "steps": 1, **kwargs},
                       api_name="/transfer_learn")
