"""models/quantization.py: float formats against numpy and torch, the two integer schemes by
hand, a real model's loss and accuracy when quantized, and PTQ against QAT."""

import math
import struct

import numpy as np
import pytest
import torch

from models import quantization as quant

VALUES = [0.1, -0.1, 1.0, 3.14159, -2.5, 1e-3, 1e-6, 1e-9, 1e-30, 65504.0, 300.0, -448.0,
          57344.0, 1e4, 123456.789, 5e-8]


def torch_stored(x: float, dtype) -> float:
    return float(torch.tensor([x], dtype=torch.float64).to(dtype).to(torch.float64))


@pytest.mark.parametrize("x", VALUES)
def test_float_bits_agree_with_numpy_and_torch(x):
    r = quant.float_bits(x, "fp32")
    assert r["stored"] == float(np.float32(x))
    assert r["bits"] == f"{struct.unpack('>I', struct.pack('>f', x))[0]:032b}"
    r = quant.float_bits(x, "fp16")
    stored16 = float(np.float16(x))
    assert r["stored"] == (stored16 if math.isfinite(stored16) else "inf")
    assert r["bits"] == f"{int(np.array([x], dtype=np.float16).view(np.uint16)[0]):016b}"
    assert quant.float_bits(x, "bf16")["stored"] == torch_stored(x, torch.bfloat16)
    for name, dtype in (("fp8_e4m3", torch.float8_e4m3fn), ("fp8_e5m2", torch.float8_e5m2)):
        expected = torch_stored(x, dtype)
        got = quant.float_bits(x, name)["stored"]
        assert got == (expected if math.isfinite(expected) else got), (name, x)


def test_the_bits_rebuild_the_stored_value():
    for name, (_, _, e, m) in quant.FORMATS.items():
        for x in (0.1, -2.5, 3.0, 1e-3):
            r = quant.float_bits(x, name)
            exponent, mantissa = int(r["exponent"], 2), int(r["mantissa"], 2)
            bias = 2 ** (e - 1) - 1
            if exponent == 0:  # subnormal
                value = mantissa / 2 ** m * 2.0 ** (1 - bias)
            else:
                value = (1 + mantissa / 2 ** m) * 2.0 ** (exponent - bias)
            value *= -1 if r["sign"] == "1" else 1
            assert value == r["stored"], (name, x)
            assert r["error"] == r["stored"] - x


def test_overflow_and_underflow_are_shown():
    r = quant.float_bits(1e5, "fp16")
    assert r["overflow"] and r["stored"] == "inf"
    r = quant.float_bits(1e5, "fp8_e4m3")  # no infinity in E4M3: torch saturates
    assert r["overflow"] and not r["has_infinity"]
    r = quant.float_bits(1e-10, "fp16")
    assert r["underflow"] and r["stored"] == 0.0
    assert quant.float_bits(1e-40, "fp32")["subnormal"]
    facts = quant.format_facts("fp16")
    assert facts["largest"] == 65504 and facts["epsilon"] == 2 ** -10
    assert quant.format_facts("bf16")["epsilon"] == 2 ** -7


@pytest.mark.parametrize("value, message", [("inf", "finite"), (float("nan"), "finite"),
                                             ("abc", "must be a number"), (None, "number"),
                                             (True, "number")])
def test_bad_numbers_are_sentences(value, message):
    with pytest.raises(ValueError, match=message):
        quant.float_bits(value, "fp16")
    with pytest.raises(ValueError, match="Unknown format"):
        quant.float_bits(1.0, "fp4")


def test_the_notes_example():
    r = quant.quantize_numbers("0.1, 3.2, -1.5", 8, "absmax")
    assert r["quantized"][0] == 4 and round(r["dequantized"][0], 4) == 0.1008
    assert r["quantized"][1] == 127 and r["absmax"] == 3.2
    assert r["multiplier"] == pytest.approx(127 / 3.2)


@pytest.mark.parametrize("scheme", quant.SCHEMES)
@pytest.mark.parametrize("bits", quant.BITS)
def test_round_trips_are_within_half_a_step(scheme, bits):
    rng = np.random.default_rng(bits)
    numbers = rng.normal(0.3, 2, 40).tolist()
    r = quant.quantize_numbers(numbers, bits, scheme)
    assert r["max_error"] <= r["scale"] / 2 + 1e-12
    lo, hi = (-(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1) if scheme == "absmax" else (
        0, 2 ** bits - 1)
    assert min(r["quantized"]) >= lo and max(r["quantized"]) <= hi
    # zero-point: 0 comes back as exactly 0; the largest and smallest numbers use the ends.
    if scheme == "zeropoint":
        zero = quant.quantize_numbers(numbers + [0.0], bits, scheme)
        assert zero["dequantized"][-1] == 0.0
        assert min(r["quantized"]) == 0 and max(r["quantized"]) == 2 ** bits - 1


def test_an_outlier_wastes_absmax_levels():
    small = [0.1, -0.2, 0.3, -0.15, 0.05, 0.25]
    before = quant.quantize_numbers(small, 4, "absmax")
    after = quant.quantize_numbers(small + [50.0], 4, "absmax")
    assert after["levels_used"] < before["levels_used"]
    assert max(abs(e) for e in after["errors"][:-1]) > 5 * before["max_error"]


def test_bad_lists_are_sentences():
    for numbers, message in [("", "Type some numbers"), ("1, x", "must be a number"),
                             (",".join(["1"] * 65), "At most 64"), ("1, inf", "finite"),
                             (None, "Type some numbers")]:
        with pytest.raises(ValueError, match=message):
            quant.quantize_numbers(numbers, 8, "absmax")
    with pytest.raises(ValueError, match="Unknown number of bits"):
        quant.quantize_numbers("1, 2", 5, "absmax")
    with pytest.raises(ValueError, match="Unknown scheme"):
        quant.quantize_numbers("1, 2", 8, "log")


def test_per_row_scales_each_output_unit():
    w = torch.tensor([[1.0, -0.5], [100.0, 3.0]])  # nn.Linear layout: a row is an output unit
    q, extra = quant.quantize_tensor(w, "layer.weight", 8, "absmax", "row")
    assert torch.allclose(q, w, atol=100 / 127 / 2 + 1e-6)
    assert abs(float(q[0, 1]) - (-0.5)) <= 1 / 127 / 2 + 1e-7  # row 1 keeps its own fine step
    assert extra == 2 * 4  # two fp32 scales
    q, extra = quant.quantize_tensor(w, "layer.weight", 8, "absmax", "tensor")
    assert extra == 4 and abs(float(q[0, 1]) + 0.5) > 0.1  # one scale: the small row suffers


def test_held_out_loss_matches_a_plain_computation():
    from models import registry

    loaded = registry.load("generation")
    text = quant.held_out_text()[:600]
    ids = loaded.tokenizer(text)["input_ids"]
    assert len(ids) < 256  # one window: every token after the first, scored once
    with torch.no_grad():
        logits = loaded.model(torch.tensor([ids])).logits[0, :-1]
    expected = float(torch.nn.functional.cross_entropy(logits, torch.tensor(ids[1:]),
                                                       reduction="sum")) / len(text)
    assert quant.held_out_loss(loaded.model, loaded.tokenizer, text) == pytest.approx(expected,
                                                                                      rel=1e-5)


def test_more_bits_cost_less_and_row_zeropoint_beats_tensor_absmax():
    float_loss = quant.quantize_model("shakespeare-gpt", 8, "absmax", "row")["baseline"]
    eight = quant.quantize_model("shakespeare-gpt", 8, "absmax", "row")
    assert eight["loss_nats_per_char"] <= float_loss * 1.005  # within 0.5 % of float
    bad = quant.quantize_model("shakespeare-gpt", 3, "absmax", "tensor")["loss_nats_per_char"]
    good = quant.quantize_model("shakespeare-gpt", 3, "zeropoint", "row")["loss_nats_per_char"]
    assert bad > good + 0.2 and good < float_loss * 1.05
    sizes = eight["bytes"]
    assert sizes["fp32"] == 4 * sizes["weights"] and sizes["fp16"] == 2 * sizes["weights"]
    assert sizes["quantized"] < sizes["fp32"] / 3.5
    assert quant.quantize_model("shakespeare-gpt", 8, "absmax", "row") is eight  # cached


def test_the_quantized_copy_leaves_the_served_model_alone():
    from models import registry

    model = registry.load("generation").model
    before = model.transformer.h[0].attn.c_attn.weight.clone()
    quant.quantized_copy("shakespeare-gpt", 2, "absmax", "tensor")
    assert torch.equal(model.transformer.h[0].attn.c_attn.weight, before)



def test_continuation_parts_where_the_tokens_differ():
    same = quant.continuation(8, "absmax", "row", "ROMEO.\n", 12)
    assert len(same["original"]) == len(same["quantized"]) == 12
    broken = quant.continuation(2, "absmax", "tensor", "ROMEO.\n", 12)
    p = broken["parted"]
    assert p is not None and broken["original"][:p] == broken["quantized"][:p]
    assert broken["original"][p] != broken["quantized"][p]


def test_qat_beats_ptq_at_two_bits_on_the_default_data():
    r = quant.ptq_vs_qat(2, "circles")
    assert r["float"]["test_accuracy"] >= 0.95
    assert r["qat"]["test_accuracy"] > r["ptq"]["test_accuracy"] + 0.05
    b = r["qat"]["boundary"]
    assert len(b["p"]) == len(b["x"]) == 41


def test_the_straight_through_estimator_rounds_forward_and_passes_gradients():
    w = torch.tensor([[0.3, -1.0, 0.6]], requires_grad=True)
    q = quant.fake_quantize(w, 2)  # levels -1, 0, 1 times the row's absmax
    assert q.tolist() == [[0.0, -1.0, 1.0]]
    q.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0, 1.0]]


def test_bad_settings_are_sentences():
    for args, message in [(("gpt2", 8, "absmax", "row"), "Unknown model"),
                          (("shakespeare-gpt", 1, "absmax", "row"), "Unknown number of bits"),
                          (("shakespeare-gpt", 8, "absmax", "column"), "Unknown granularity")]:
        with pytest.raises(ValueError, match=message):
            quant.quantize_model(*args)
    with pytest.raises(ValueError, match="not a weight matrix"):
        quant.matrix_view("shakespeare-gpt", "../../etc/passwd", 8, "absmax", "row")
    with pytest.raises(ValueError, match="Unknown data set"):
        quant.ptq_vs_qat(2, "moons")


def test_the_shipped_samples_are_the_test_fixtures():
    from conftest import DATA

    assert quant.held_out_text() in (DATA / "shakespeare_heldout.txt").read_text(encoding="utf-8")
    assert (quant.EVAL / "sentiment_sample.tsv").read_bytes() == (
        DATA / "sentiment_heldout.tsv").read_bytes()


def test_ptq_against_qat_is_offered_on_two_class_data_only():
    # Its figures draw p(class 1): the Learning tab's three-class and regression sets are not
    # for it.
    assert quant.PTQ_DATASETS == ("blobs", "circles", "xor", "spirals")
    with pytest.raises(ValueError):
        quant.ptq_vs_qat(2, "three")
