"""Model quality that takes a while to measure (the slow tier): the quantized sentiment model's
accuracy on held-out sentences, and the dreamed digits judged by the shipped CNN."""

import numpy as np

from models import quantization as quant
from models.digits import inside as digit_inside


def test_sentiment_accuracy_falls_with_the_bits():
    eight = quant.quantize_model("sentiment-minilm", 8, "absmax", "row")
    assert eight["baseline"] >= 0.86 and eight["accuracy"] >= eight["baseline"] - 0.01
    two = quant.quantize_model("sentiment-minilm", 2, "absmax", "tensor")
    assert two["accuracy"] < 0.7


def test_every_dreamed_digit_convinces_the_cnn():
    for d in range(10):
        r = digit_inside.dream(d, 300, 0)
        assert r["cnn"][str(d)] >= 0.9, (d, r["cnn"][str(d)])
        assert r["image"].shape == (28, 28) and 0 <= r["image"].min() <= r["image"].max() <= 1
    again = digit_inside.dream(3, 50, 7)
    np.testing.assert_array_equal(again["image"], digit_inside.dream(3, 50, 7)["image"])
