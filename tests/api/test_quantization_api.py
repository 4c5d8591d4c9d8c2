"""The Quantization endpoints through gradio_client, by keyword, as the README shows them."""

import pytest
from gradio_client.exceptions import AppError


def test_float_bits(client):
    r = client.predict(value="0.1", format="bf16", api_name="/float_bits")[0]
    assert (r["sign"], r["exponent"], r["mantissa"]) == ("0", "01111011", "1001101")
    assert r["stored"] == 0.10009765625 and r["error"] == pytest.approx(9.765625e-05)
    assert client.predict(value=1e5, format="fp16", api_name="/float_bits")[0]["stored"] == "inf"


def test_quantize_numbers_gives_the_notes_example(client):
    r = client.predict(numbers="0.1, 3.2, -1.5", bits=8, scheme="absmax",
                       api_name="/quantize_numbers")[0]
    assert r["quantized"] == [4, 127, -60] and round(r["dequantized"][0], 4) == 0.1008
    assert set(r) >= {"scale", "zero_point", "quantized", "dequantized", "max_error"}
    r = client.predict(numbers="0.1, 3.2, -1.5", bits=8, scheme="zeropoint",
                       api_name="/quantize_numbers")[0]
    assert min(r["quantized"]) == 0 and max(r["quantized"]) == 255 and r["zero_point"] > 0


def test_quantize_model(client):
    r = client.predict(model="shakespeare-gpt", bits=8, scheme="absmax", granularity="row",
                       api_name="/quantize_model")[0]
    assert set(r["bytes"]) >= {"fp32", "fp16", "quantized"}
    assert r["loss_nats_per_char"] == pytest.approx(r["baseline"], rel=0.005)
    assert r["weight_mse"] > 0


def test_ptq_vs_qat(client):
    r = client.predict(bits=2, dataset="circles", api_name="/ptq_vs_qat")[0]
    assert r["qat"]["test_accuracy"] > r["ptq"]["test_accuracy"]


@pytest.mark.parametrize("api, kwargs, message", [
    ("/float_bits", dict(value="inf", format="fp16"), "finite"),
    ("/float_bits", dict(value="ten", format="fp16"), "must be a number"),
    ("/float_bits", dict(value="1", format="fp4"), "list of choices|format must be"),
    ("/quantize_numbers", dict(numbers="", bits=8, scheme="absmax"), "Type some numbers"),
    ("/quantize_numbers", dict(numbers="1, 2", bits=5, scheme="absmax"), "choices|Bits must"),
    ("/quantize_model", dict(model="gpt2", bits=8, scheme="absmax", granularity="row"),
     "choices|model must"),
])
def test_bad_input_is_a_clear_error(client, api, kwargs, message):
    with pytest.raises(AppError, match=message):
        client.predict(**kwargs, api_name=api)
