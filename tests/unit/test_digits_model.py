"""models/digits: preprocessing as MNIST was made, the model contract, and quality."""

import numpy as np
import pytest
from conftest import DATA

from models import digits


def stroke_canvas(size=(280, 280), box=(60, 200, 120, 160), rgba=True, ink=(0, 0, 0),
                  background=None):
    """A canvas with a filled rectangle 'stroke' in rows box[0]:box[1], cols box[2]:box[3]."""
    h, w = size
    if rgba:
        img = np.zeros((h, w, 4), np.uint8)
        img[box[0]:box[1], box[2]:box[3]] = (*ink, 255)
    else:
        img = np.full((h, w, 3), background, np.uint8)
        img[box[0]:box[1], box[2]:box[3]] = ink
    return img


def test_preprocess_fits_into_20x20_and_centres_by_mass():
    ink = digits.ink_from_image(stroke_canvas())
    img = digits.preprocess(ink)
    assert img.shape == (28, 28) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() == pytest.approx(1.0)
    rows = np.flatnonzero(img.max(1) > 0.1)
    assert rows[-1] - rows[0] + 1 == 20  # the tall side fills the 20 px box
    ys, xs = np.indices(img.shape)
    assert (ys * img).sum() / img.sum() == pytest.approx(13.5, abs=0.75)
    assert (xs * img).sum() / img.sum() == pytest.approx(13.5, abs=0.75)


def test_preprocess_keeps_aspect_ratio():
    # 140 tall x 40 wide: a 20 px tall digit should be about 20 * 40 / 140 ~ 6 px wide.
    img = digits.preprocess(digits.ink_from_image(stroke_canvas(box=(60, 200, 120, 160))))
    cols = np.flatnonzero(img.max(0) > 0.1)
    assert 5 <= cols[-1] - cols[0] + 1 <= 7
    # And a wide one stays wide.
    img = digits.preprocess(digits.ink_from_image(stroke_canvas(box=(120, 160, 20, 260))))
    rows = np.flatnonzero(img.max(1) > 0.1)
    cols = np.flatnonzero(img.max(0) > 0.1)
    assert cols[-1] - cols[0] + 1 == 20 and rows[-1] - rows[0] + 1 <= 5


def test_position_on_canvas_does_not_matter():
    a = digits.preprocess(digits.ink_from_image(stroke_canvas(box=(10, 100, 10, 40))))
    b = digits.preprocess(digits.ink_from_image(stroke_canvas(box=(180, 270, 230, 260))))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_any_canvas_size_works():
    small = digits.preprocess(digits.ink_from_image(stroke_canvas((100, 60), (10, 90, 20, 40))))
    large = digits.preprocess(digits.ink_from_image(stroke_canvas((800, 800),
                                                                  (100, 700, 350, 500))))
    for img in (small, large):
        assert img.shape == (28, 28) and np.flatnonzero(img.max(1) > 0.1).size == 20


def test_a_large_picture_is_reduced_before_any_float_copy():
    """A 1,960 x 1,960 drawing reads as the same digit as the 280 x 280 one it scales, and its
    ink map is never larger than MAX_SIDE on a side."""
    small = stroke_canvas((280, 280), (40, 240, 120, 160))
    big = small.repeat(7, axis=0).repeat(7, axis=1)  # 7 x the canvas
    ink = digits.ink_from_image(big, alpha_is_ink=True)
    assert max(ink.shape) <= digits.MAX_SIDE
    np.testing.assert_allclose(digits.preprocess(ink),
                               digits.preprocess(digits.ink_from_image(small, alpha_is_ink=True)),
                               atol=0.08)
    # Every kind of array is reduced: grey, RGB, RGBA, floats.
    for image in (big[:, :, 3], big[:, :, :3], big, big.astype(np.float32) / 255):
        reduced = digits.reduced(image if image.ndim == 3 else image[:, :, None])
        assert max(reduced.shape[:2]) <= digits.MAX_SIDE and reduced.dtype == image.dtype


def test_empty_canvas_has_no_ink_and_preprocess_says_so():
    assert digits.ink_from_sketch(np.zeros((280, 280, 4), np.uint8), []) is None
    with pytest.raises(ValueError, match="empty"):
        digits.preprocess(np.zeros((280, 280)))
    result = digits.classify_sketch(None, [np.zeros((280, 280, 4), np.uint8)], None)
    assert result["image"] is None and "Draw" in result["message"]


@pytest.mark.parametrize("background", [(255, 255, 255), (0x33, 0x33, 0x33)])
def test_blank_background_of_either_theme_is_not_ink(background):
    bg = np.zeros((280, 280, 4), np.uint8)
    bg[..., :3], bg[..., 3] = background, 255
    assert digits.ink_from_sketch(bg, [np.zeros((280, 280, 4), np.uint8)], bg) is None


@pytest.mark.parametrize("color", [(0, 0, 0), (255, 255, 255), (204, 50, 50), (50, 112, 204)])
def test_strokes_in_any_colour_are_ink(color):
    bg = np.zeros((280, 280, 4), np.uint8)
    bg[..., :3], bg[..., 3] = 0x33, 255  # dark theme
    layer = stroke_canvas(ink=color)
    ink = digits.ink_from_sketch(bg, [layer], None)
    reference = digits.ink_from_image(stroke_canvas(ink=(0, 0, 0)))
    np.testing.assert_array_equal(ink, reference)


@pytest.mark.parametrize("polarity", ["black on white", "white on black"])
def test_opaque_pictures_of_either_polarity(polarity):
    ink, bg = ((0, 0, 0), (255, 255, 255)) if polarity == "black on white" else \
        ((255, 255, 255), (0, 0, 0))
    picture = stroke_canvas(rgba=False, ink=ink, background=bg)
    expected = digits.preprocess(digits.ink_from_image(stroke_canvas()))
    np.testing.assert_allclose(digits.preprocess(digits.ink_from_image(picture)), expected,
                               atol=1e-5)


def test_predict_contract():
    images = np.load(DATA / "mnist_heldout.npz")["images"]
    result = digits.predict(images[0] / 255.0)
    probs = result["probabilities"]
    assert list(probs) == [str(d) for d in range(10)]
    assert all(isinstance(p, float) and 0 <= p <= 1 for p in probs.values())
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert result["label"] == max(probs, key=probs.get)
    assert result["verdict"] in {"confident", "not sure", "not a digit"}
    inside = result["mlp"]
    assert len(inside["hidden1"]) == len(inside["hidden2"]) == 16
    assert len(inside["output"]) == 10 and sum(inside["output"]) == pytest.approx(1, abs=1e-5)
    assert np.array(inside["w2"]).shape == (16, 16) and np.array(inside["w3"]).shape == (10, 16)


def test_predict_rejects_bad_input():
    with pytest.raises(ValueError, match="28x28"):
        digits.predict(np.zeros((27, 28)))
    with pytest.raises(ValueError, match="NaN"):
        digits.predict(np.full((28, 28), np.nan))


def test_weights_load_from_the_repo():
    models = digits.load()
    assert sum(p.numel() for p in models.mlp.parameters()) == 13_002
    assert models.class_means.shape == (10, 128) and models.ood_threshold > 0
    assert (digits.WEIGHTS_DIR / "cnn.safetensors").stat().st_size < 5_000_000


def test_shipped_cnn_accuracy_on_heldout_digits():
    data = np.load(DATA / "mnist_heldout.npz")
    images, labels = data["images"] / 255.0, data["labels"]
    assert len(labels) >= 1000
    correct = sum(digits.predict(img)["label"] == str(lab) for img, lab in zip(images, labels))
    assert correct / len(labels) >= 0.985


def test_shipped_mlp_is_far_better_than_chance():
    data = np.load(DATA / "mnist_heldout.npz")
    images, labels = data["images"][:300] / 255.0, data["labels"][:300]
    mlp = digits.load().mlp
    correct = sum(int(np.argmax(digits.mlp_inside(img, mlp)["output"])) == lab
                  for img, lab in zip(images, labels))
    assert correct / len(labels) >= 0.85


def test_nonsense_is_not_confidently_a_digit():
    rng = np.random.default_rng(0)
    noise = digits.classify_sketch(None, [np.dstack([np.zeros((280, 280, 3), np.uint8),
                                                     (rng.random((280, 280)) > 0.5) * 255]
                                                    ).astype(np.uint8)], None)
    assert noise["verdict"] == "not a digit"
    full = digits.classify_sketch(None, [stroke_canvas(box=(0, 280, 0, 280))], None)
    assert full["verdict"] == "not a digit" and "ink" in full["message"]
    dot = digits.classify_sketch(None, [stroke_canvas(box=(140, 146, 140, 146))], None)
    assert dot["verdict"] == "not a digit" and "dot" in dot["message"]


def test_drawn_letters_and_shapes_rarely_get_the_confident_mark():
    """80 hand-drawn letters and shapes (tests/data/non_digits.npz, made by
    models/training/make_non_digit_fixture.py, never trained on): at most 10 % may be named as
    a digit with confidence."""
    data = np.load(DATA / "non_digits.npz")
    confident = []
    for ink, name in zip(data["images"], data["names"]):
        layer = np.zeros((*ink.shape, 4), np.uint8)
        layer[..., 3] = ink  # a Sketchpad layer: the strokes in the alpha channel
        result = digits.classify_sketch(None, [layer], None)
        if result["verdict"] == "confident":
            confident.append(f"{name}: {result['label']} {result['confidence']:.0%}")
    assert len(data["images"]) == 80
    assert len(confident) <= 8, confident
