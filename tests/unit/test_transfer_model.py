"""Transfer learning's mechanics: what is frozen stays bit for bit, the split, the confusion matrix
against the per-class figures, export and load, the curve, the maps, and every bad example.
(How much pretraining buys on held-out drawings: tests/slow/test_transfer_quality.py.)"""

import base64
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from demos.transfer import results
from models import runner, transfer
from models.digits import networks


def small_set(per_class=3, classes=("triangle", "star", "A")):
    return transfer.starter_examples(per_class, classes=classes, seed=1)


def test_feature_extraction_leaves_the_conv_layers_bit_identical():
    examples = small_set(6)
    learner = transfer.Learner("feature_extraction", examples.images, examples.labels, 3,
                               freeze=0, augment=True, seed=0)
    shipped = networks.load().cnn.state_dict()
    head_before = learner.net.fc1.weight.clone()
    for _ in range(15):
        learner.step()
    state = learner.net.state_dict()
    for name in ("conv1", "conv2", "conv3", "conv4", "bn1", "bn2"):
        keys = [k for k in shipped if k.startswith(name + ".")]
        assert keys
        for k in keys:  # weights, biases, and the batch norms' running statistics
            assert torch.equal(state[k], shipped[k]), k
    assert not torch.equal(learner.net.fc1.weight, head_before)  # the head did learn


@pytest.mark.parametrize("freeze", [0, 1, 2, 3, 4])
def test_fine_tuning_freezes_the_first_layers_asked_and_trains_the_rest(freeze):
    examples = small_set(2, ("circle", "cross"))
    learner = transfer.Learner("fine_tune", examples.images, examples.labels, 2, freeze,
                               augment=False, seed=0)
    shipped = networks.load().cnn.state_dict()
    for _ in range(3):
        learner.step()
    state = learner.net.state_dict()
    for i, conv in enumerate(transfer.CONV_LAYERS):
        same = torch.equal(state[f"{conv}.weight"], shipped[f"{conv}.weight"])
        assert same == (i < freeze), conv


def test_from_scratch_starts_from_random_weights_and_each_seed_from_its_own():
    a = transfer.build("scratch", 3, 0, seed=0)
    b = transfer.build("scratch", 3, 0, seed=1)
    shipped = networks.load().cnn
    assert not torch.equal(a.conv1.weight, shipped.conv1.weight)
    assert not torch.equal(a.conv1.weight, b.conv1.weight)
    assert torch.equal(a.conv1.weight, transfer.build("scratch", 3, 0, seed=0).conv1.weight)
    assert a.fc2.out_features == 3


def test_a_run_is_seeded():
    examples = small_set(3)
    states = []
    for _ in range(2):
        run = transfer.TransferRun(examples, methods=["scratch"], seed=4)
        for _ in range(4):
            run.step()
        states.append(run.record()["methods"]["scratch"]["loss"])
    assert states[0] == states[1]


def test_holdout_keeps_a_share_of_each_class_and_leave_one_out_holds_each_drawing_once():
    labels = np.repeat(np.arange(3), [5, 6, 10])
    mode, folds = transfer.split(labels, seed=0)
    assert mode == "holdout" and len(folds) == 1
    train, val = folds[0]
    assert np.bincount(labels[val]).tolist() == [1, 1, 2]
    assert sorted(np.concatenate([train, val])) == list(range(len(labels)))
    labels = np.repeat(np.arange(3), [3, 4, 3])
    mode, folds = transfer.split(labels, seed=0)
    assert mode == "leave_one_out" and len(folds) == 3
    held = np.concatenate([val for _, val in folds])
    assert sorted(held) == list(range(len(labels)))  # each drawing exactly once
    for train, val in folds:
        assert set(labels[val]) == {0, 1, 2} and set(labels[train]) == {0, 1, 2}
        assert not set(train) & set(val)


def test_leave_one_out_trains_a_network_per_fold_and_the_one_used_on_everything():
    run = transfer.TransferRun(small_set(2, ("star", "heart")), methods=["scratch"])
    method = run.methods["scratch"]
    assert run.mode == "leave_one_out" and len(method.learners) == 3
    assert len(method.model.y) == 4  # all four drawings


def test_the_per_class_figures_agree_with_the_confusion_matrix():
    run = transfer.TransferRun(small_set(6), methods=["feature_extraction", "scratch"], seed=2)
    for _ in range(12):
        run.step()
    for method in run.methods.values():
        val = method.validation(run.steps)
        matrix = np.asarray(val["matrix"])
        assert matrix.sum() == val["n"] == len(val["index"])
        for k, c in enumerate(run.examples.classes):
            assert val["per_class"][c] == pytest.approx(matrix[k, k] / matrix[k].sum())
        assert val["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
        # ...and the matrix counts each held-out drawing's truth against its prediction.
        again = np.zeros_like(matrix)
        for t, p in zip(val["truth"], val["predicted"]):
            again[t, p] += 1
        np.testing.assert_array_equal(matrix, again)
        np.testing.assert_array_equal(val["truth"], run.examples.labels[val["index"]])


def test_evaluation_on_a_fixed_table():
    result = transfer.evaluation([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 0, 2], ["a", "b", "c"])
    assert result["matrix"] == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert result["per_class"] == {"a": 0.5, "b": pytest.approx(2 / 3), "c": 1.0}
    assert result["accuracy"] == pytest.approx(4 / 6)


def test_the_exported_file_loads_back_and_gives_the_same_predictions(tmp_path):
    run = transfer.TransferRun(small_set(5), methods=["fine_tune"], seed=0)
    for _ in range(10):
        run.step()
    learner = run.methods["fine_tune"].model
    path = transfer.export(learner, run.examples.classes, tmp_path / "model.safetensors")
    loaded = transfer.load_exported(path)
    assert loaded.classes == run.examples.classes
    images = transfer.heldout_examples().images[:20]
    np.testing.assert_allclose(loaded.probabilities(images), learner.classify(images),
                               atol=1e-6)
    result = loaded.classify(images[0])
    assert result["label"] in run.examples.classes and set(result["probabilities"]) == set(
        run.examples.classes)


def test_a_file_that_is_not_an_export_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="Not a model exported"):
        transfer.load_exported(tmp_path / "other.safetensors")


def test_augmentation_keeps_shape_and_range_and_changes_the_drawings():
    x = torch.from_numpy(small_set(3).images).unsqueeze(1)
    out = transfer.augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1 + 1e-6
    assert not torch.allclose(out, x)


def test_the_curve_on_a_set_trains_each_way_for_each_count_and_scores_on_the_rest():
    examples = small_set(4, ("circle", "cross"))
    assert transfer.curve_counts(examples) == [1, 2, 3]
    run = transfer.CurveRun(examples, steps_each=2)
    states = list(runner.iterate(run.run()))
    points = states[-1]["points"]
    assert [(p["per_class"], p["method"]) for p in points] == [
        (n, m) for n in (1, 2, 3) for m in transfer.METHODS]
    assert [p["tested_on"] for p in points] == [6, 6, 6, 4, 4, 4, 2, 2, 2]
    assert all(0 <= p["accuracy"] <= 1 for p in points)


def test_the_shipped_curve_has_every_way_and_count():
    curve = transfer.shipped_curve()
    assert set(curve["accuracy"]) == set(transfer.METHODS)
    for by_n in curve["accuracy"].values():
        assert sorted(map(int, by_n)) == list(transfer.CURVE_COUNTS)
        assert all(len(a) == curve["seeds"] for a in by_n.values())


def test_nearest_neighbour_accuracy_and_the_maps():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    assert transfer.nearest_neighbour_accuracy(vectors, np.array([0, 0, 1, 1])) == 1.0
    assert transfer.nearest_neighbour_accuracy(vectors, np.array([0, 1, 0, 1])) == 0.0
    m = transfer.maps(small_set(4))
    assert np.asarray(m["pixels"]).shape == (12, 2) == np.asarray(m["features"]).shape
    features = transfer.frozen_features(small_set(4).images)
    assert features.shape == (12, 64 * 7 * 7)


def test_the_starter_set_is_ten_symbols_and_its_held_out_variants_are_new():
    data = transfer.starter_set()
    assert len(data["classes"]) == 10
    assert np.bincount(data["train_labels"]).tolist() == [40] * 10
    train = data["train_images"].reshape(400, -1).astype(np.int16)
    held = data["heldout_images"].reshape(400, -1).astype(np.int16)
    # no held-out drawing is a copy of a training one
    nearest = min(np.abs(train - h).sum(1).min() for h in held)
    assert nearest > 0


# ---------------------------------------------------------------------------------------------
# The API's examples, checked


def png_uri(array, mode="L") -> str:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def drawing(k=0):
    return (small_set(2).images[k]).tolist()


def test_examples_as_lists_and_as_pngs():
    picture = np.full((100, 80), 255, np.uint8)
    picture[20:80, 38:44] = 0  # a dark bar on white
    examples = [{"label": "bar", "image": png_uri(picture)},
                {"label": "bar", "image": png_uri(picture)[len("data:image/png;base64,"):]},
                {"label": "thing", "image": drawing(0)}, {"label": "thing", "image": drawing(1)}]
    parsed = transfer.parse_examples(examples)
    assert parsed.classes == ["bar", "thing"] and parsed.labels.tolist() == [0, 0, 1, 1]
    assert parsed.images.shape == (4, 28, 28)
    assert parsed.images[0].max() == pytest.approx(1.0)  # ink is 1, whatever the polarity
    assert parsed.images[0][0, 0] == 0


def test_an_uploaded_file_is_read_only_from_gradios_upload_folder(tmp_path, monkeypatch):
    picture = np.zeros((50, 50), np.uint8)
    picture[10:40, 20:30] = 255
    uploads = tmp_path / "gradio"
    uploads.mkdir()
    Image.fromarray(picture).save(uploads / "a.png")
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    image = transfer.parse_image({"path": str(uploads / "a.png")}, "x")
    assert image.shape == (28, 28)
    outside = tmp_path / "b.png"
    Image.fromarray(picture).save(outside)
    for path in (str(outside), str(uploads / ".." / "b.png"), "/etc/passwd"):
        with pytest.raises(ValueError, match="only a file uploaded"):
            transfer.parse_image({"path": path}, "x")


GOOD = [{"label": "a", "image": drawing(0)}, {"label": "a", "image": drawing(1)},
        {"label": "b", "image": drawing(2)}, {"label": "b", "image": drawing(3)}]


def jpeg_uri() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), "white").save(buffer, format="JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def huge_png_uri() -> str:
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, format="PNG")  # small file, 25 M pixels
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("image, message", [
    ([[0.0] * 28] * 27, "28 × 28"),
    ([[0.0] * 27] * 28, "28 numbers"),
    ([[0.0] * 28] * 27 + [[0.0] * 27], "28 numbers"),
    ([["x"] * 28] * 28, "numbers only"),
    ([[True] * 28] * 28, "numbers only"),
    ([[2.0] * 28] * 28, r"in \[0, 1\]"),
    ([[-0.5] * 28] * 28, r"in \[0, 1\]"),
    ([[float("nan")] * 28] * 28, r"in \[0, 1\]"),
    (None, "28 × 28"),
    (7, "28 × 28"),
    ("not base64!", "base64"),
    (base64.b64encode(b"hello").decode(), "not a PNG"),
    ("jpeg", "not a PNG"),
    ("huge", "at most 2000 px"),
    ("blank", "no drawing"),
    ({"url": "http://example.com/a.png"}, "file reference"),
])
def test_every_bad_kind_of_image_is_refused_with_a_sentence(image, message):
    if image == "jpeg":
        image = jpeg_uri()
    elif image == "huge":
        image = huge_png_uri()
    elif image == "blank":
        image = png_uri(np.full((40, 40), 255, np.uint8))
    examples = [*GOOD[:3], {"label": "b", "image": image}]
    with pytest.raises(ValueError, match=message):
        transfer.parse_examples(examples)


@pytest.mark.parametrize("examples, message", [
    ([], "no examples"),
    (None, "no examples"),
    ("a set", "no examples"),
    ([{"label": "a", "image": drawing(0)}, {"label": "a", "image": drawing(1)}], "one class"),
    ([{"label": str(k), "image": drawing(0)} for k in range(1000)], "1000 examples: at most"),
    ([{"label": str(k), "image": drawing(0)} for k in range(500)], "500 classes: at most 10"),
    ([{"label": str(k % 11), "image": drawing(0)} for k in range(22)], "11 classes"),
    ([*GOOD[:3]], "'b' has 1 drawing"),
    ([*GOOD[:3], {"label": "", "image": drawing(0)}], "non-empty"),
    ([*GOOD[:3], {"label": "   ", "image": drawing(0)}], "non-empty"),
    ([*GOOD[:3], {"label": 5, "image": drawing(0)}], "non-empty"),
    ([*GOOD[:3], {"label": None, "image": drawing(0)}], "non-empty"),
    ([*GOOD[:3], {"label": "x" * 41, "image": drawing(0)}], "40 characters"),
    ([*GOOD[:3], {"label": "b"}], "each example is"),
    ([*GOOD[:3], {"label": "b", "image": drawing(0), "extra": 1}], "each example is"),
    ([*GOOD[:3], ["b", drawing(0)]], "each example is"),
    ([{"label": "a", "image": drawing(0)}] * 501, "at most 500"),
])
def test_every_bad_set_is_refused_with_a_sentence(examples, message):
    with pytest.raises(ValueError, match=message):
        transfer.parse_examples(examples)


def test_labels_are_checked_before_any_picture_is_decoded(monkeypatch):
    def boom(*args):
        raise AssertionError("decoded")

    monkeypatch.setattr(transfer, "parse_image", boom)
    with pytest.raises(ValueError, match="one class"):
        transfer.parse_examples([{"label": "a", "image": "x"}, {"label": "a", "image": "y"}])


def test_test_images_are_checked():
    assert transfer.parse_test_images(None).shape == (0, 28, 28)
    assert transfer.parse_test_images([drawing(0)]).shape == (1, 28, 28)
    with pytest.raises(ValueError, match="at most 100"):
        transfer.parse_test_images([drawing(0)] * 101)
    with pytest.raises(ValueError, match="Test image 2"):
        transfer.parse_test_images([drawing(0), [[0.5] * 3]])
    with pytest.raises(ValueError, match="a list"):
        transfer.parse_test_images("x")


def test_the_upload_folder_defaults_to_gradios(monkeypatch):
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    assert transfer._upload_dirs() == [Path(tempfile.gettempdir(), "gradio").resolve()]


@pytest.mark.parametrize("method, freeze", [("feature_extraction", 0), ("fine_tune", 0),
                                            ("fine_tune", 2), ("fine_tune", 4), ("scratch", 3)])
def test_the_architecture_drawn_is_the_one_trained(method, freeze):
    net = transfer.build(method, 4, freeze, seed=0)
    shipped = networks.load().cnn.state_dict()
    for name, *_ in results.LAYERS:
        if name.startswith("pool"):
            continue
        kind = results.layer_kind(method, name, freeze)
        weight = getattr(net, name).weight
        same = weight.shape == shipped[f"{name}.weight"].shape and torch.equal(
            weight, shipped[f"{name}.weight"])
        assert (kind == "frozen") == (not weight.requires_grad), (name, kind)
        assert (kind in ("frozen", "tuned")) == same, (name, kind)
    html = results.architecture_html(freeze, 4)
    assert html.count("4 classes") == 3
