"""Quantization: how a model's numbers are stored, and what fewer bits cost.

    float_bits(0.1, "bf16")        # sign / exponent / mantissa bits, the value stored, its error
    quantize_numbers([0.1, 3.2], bits=8, scheme="absmax")   # every step written out
    quantize_model("shakespeare-gpt", bits=4, scheme="zeropoint", granularity="row")
    ptq_vs_qat(bits=2)             # a small network rounded after training, or while training

Two 8-bit schemes, as the course notes have them:

    absmax     scale = absmax / 127 (2^(b-1) - 1 in general); q = round(w / scale), in
               [-127, 127]; back: q × scale. Symmetric: 0 stays exactly 0.
    zeropoint  step = (max - min) / 255 (2^b - 1); zero_point = round(-min / step);
               q = round(w / step) + zero_point, in [0, 255]; back: (q - zero_point) × step.
               The whole range of the tensor is used, lopsided or not.

The notes write the scale the other way up (127 / absmax, 255 / (max - min)): the number the
weights are multiplied by. Here `scale` is the step between two levels, what a weight is
divided by; both are reported. Granularity "tensor" gives one scale a matrix; "row" one per
output unit (a row of nn.Linear's weight, a column of GPT-2's Conv1D, a token's embedding).
Weight matrices are quantized; biases and LayerNorms (under 1 % of the weights) stay in float.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path

import numpy as np

from models import checks, learning, registry
from models.lazy import no_grad, torch

FORMATS = {  # name: (torch dtype name, sign, exponent, mantissa bits)
    "fp32": ("float32", 1, 8, 23), "fp16": ("float16", 1, 5, 10),
    "bf16": ("bfloat16", 1, 8, 7), "fp8_e4m3": ("float8_e4m3fn", 1, 4, 3),
    "fp8_e5m2": ("float8_e5m2", 1, 5, 2),
}
SCHEMES = ("absmax", "zeropoint")
GRANULARITIES = ("tensor", "row")
BITS = (8, 6, 4, 3, 2)
MODELS = ("shakespeare-gpt", "sentiment-minilm")
MAX_NUMBERS = 64
WINDOW, CONTEXT = 256, 128  # as the README scores it: each token once, with >= 128 of context
_lock = threading.Lock()


def check_bits(bits) -> int:
    bits = checks.integer(bits, "Bits")  # 8, 8.0 and "8" alike
    return checks.choice(bits, "number of bits", BITS)


# -- float formats, bit by bit ----------------------------------------------------------------

def _json_float(x: float):
    """A float for JSON: infinities and NaN as the strings "inf", "-inf", "nan"."""
    return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))


@cache
def format_facts(name: str) -> dict:
    """A format's largest value, smallest normal value, and the gap between 1 and the next."""
    dtype = getattr(torch, FORMATS[name][0])
    info = torch.finfo(dtype)
    return {"bits": sum(FORMATS[name][1:]), "sign_bits": 1, "exponent_bits": FORMATS[name][2],
            "mantissa_bits": FORMATS[name][3], "largest": float(info.max),
            "smallest_normal": float(info.tiny), "epsilon": float(info.eps),
            "has_infinity": name != "fp8_e4m3"}


def float_bits(value, format="fp32") -> dict:
    """`value` stored in `format`: the sign, exponent and mantissa bits (strings), the value
    the format actually holds, the error, and whether it overflowed or underflowed."""
    x = checks.number(value, "The number")
    checks.choice(format, "format", FORMATS)
    dtype_name, s, e, m = FORMATS[format]
    dtype = getattr(torch, dtype_name)
    stored_t = torch.tensor([x], dtype=torch.float64).to(dtype)
    stored = float(stored_t.to(torch.float64))
    width = s + e + m
    raw = stored_t.view({8: torch.uint8, 16: torch.int16, 32: torch.int32}[width])
    pattern = int(raw.item()) & ((1 << width) - 1)
    bits = format_bits = f"{pattern:0{width}b}"
    facts = format_facts(format)
    exponent_bits, mantissa_bits = bits[1:1 + e], bits[1 + e:]
    facts_max = format_facts(format)["largest"]
    # Past the largest value: infinity (or NaN), or, in a format with no infinity, the largest
    # value itself (torch saturates e4m3fn): shown either way, never hidden.
    overflow = not math.isfinite(stored) or abs(x) > facts_max * (1 + 2 ** -(m + 1))
    underflow = stored == 0 and x != 0
    subnormal = (not overflow and stored != 0 and set(exponent_bits) == {"0"})
    bias = 2 ** (e - 1) - 1
    return {
        "value": x, "format": format, "bits": format_bits, "sign": bits[0],
        "exponent": exponent_bits, "mantissa": mantissa_bits, "exponent_bias": bias,
        "stored": _json_float(stored), "error": _json_float(stored - x),
        "relative_error": _json_float(abs(stored - x) / abs(x)) if x else 0.0,
        "overflow": overflow, "underflow": underflow, "subnormal": subnormal,
        **{k: facts[k] for k in ("largest", "smallest_normal", "epsilon", "has_infinity")},
    }


# -- absmax and zero-point on a list of numbers -----------------------------------------------

def parse_numbers(numbers) -> list[float]:
    if isinstance(numbers, str):
        parts = [p for p in numbers.replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    elif isinstance(numbers, list):
        parts = numbers
    else:
        raise ValueError("Type some numbers, separated by commas.")
    if not parts:
        raise ValueError("Type some numbers, separated by commas.")
    if len(parts) > MAX_NUMBERS:
        raise ValueError(f"At most {MAX_NUMBERS} numbers here; this is {len(parts)}.")
    return [checks.number(p, f"“{str(p).strip()[:20]}”") for p in parts]


def quantize_array(w: np.ndarray, bits: int, scheme: str, axis=None) -> dict:
    """Quantize w (float64) along `axis` (None: one scale for all; 1: one per row).
    Returns the integers, the values they stand for, and the scale(s) and zero-point(s)."""
    keep = axis is not None
    if scheme == "absmax":
        qmax = 2 ** (bits - 1) - 1
        absmax = np.abs(w).max(axis=axis, keepdims=keep)
        scale = np.where(absmax > 0, absmax / qmax, 1.0)
        q = np.clip(np.round(w / scale), -qmax, qmax)
        zero = np.zeros_like(scale)
    else:
        levels = 2 ** bits - 1
        lo, hi = np.minimum(w.min(axis=axis, keepdims=keep), 0), np.maximum(
            w.max(axis=axis, keepdims=keep), 0)  # the range includes 0, so that 0 stays exact
        scale = np.where(hi > lo, (hi - lo) / levels, 1.0)
        zero = np.round(-lo / scale)
        q = np.clip(np.round(w / scale) + zero, 0, levels)
    return {"q": q.astype(np.int64), "dequantized": (q - zero) * scale, "scale": scale,
            "zero_point": zero.astype(np.int64)}


def quantize_numbers(numbers, bits=8, scheme="absmax") -> dict:
    """Every step of one scheme on a short list: the scale (both ways up), the zero-point, the
    integers, the values they come back as, and the errors."""
    w = np.asarray(parse_numbers(numbers), dtype=np.float64)
    bits, scheme = check_bits(bits), checks.choice(scheme, "scheme", SCHEMES)
    r = quantize_array(w, bits, scheme)
    scale = float(r["scale"])
    errors = r["dequantized"] - w
    out = {"numbers": w.tolist(), "bits": bits, "scheme": scheme, "scale": scale,
           "multiplier": 1 / scale, "zero_point": int(r["zero_point"]),
           "quantized": r["q"].tolist(), "dequantized": r["dequantized"].tolist(),
           "errors": errors.tolist(), "max_error": float(np.abs(errors).max()),
           "levels_used": int(len(set(r["q"].tolist()))), "levels": 2 ** bits - (
               1 if scheme == "absmax" else 0)}
    if scheme == "absmax":
        out["absmax"] = float(np.abs(w).max())
    else:
        out["min"], out["max"] = float(min(w.min(), 0)), float(max(w.max(), 0))
    return out


# -- a real model's weights -------------------------------------------------------------------

def _matrices(model) -> OrderedDict[str, torch.nn.Parameter]:
    """Every 2-D weight of the model, by name, each once (a tied matrix is one)."""
    return OrderedDict((n, p) for n, p in model.named_parameters() if p.dim() == 2)


def _row_axis(name: str) -> int:
    """The axis along which one output unit's weights lie: GPT-2's Conv1D stores (in, out), so
    an output unit is a column; nn.Linear and embeddings store one unit (or token) a row."""
    return 0 if name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")) else 1


def quantize_tensor(w: torch.Tensor, name: str, bits: int, scheme: str,
                    granularity: str) -> tuple[torch.Tensor, int]:
    """w quantized and back (float32), and the bytes of its scales and zero-points."""
    a = w.detach().float().numpy()  # float32: a 22M-weight model's copy in float64 is 180 MB
    axis = None if granularity == "tensor" else _row_axis(name)
    r = quantize_array(a, bits, scheme, axis)
    n_scales = int(np.size(r["scale"]))
    extra = n_scales * 4 + (n_scales if scheme == "zeropoint" else 0)  # fp32 scales, 1-byte zp
    return torch.from_numpy(r["dequantized"].astype(np.float32)), extra


def matrix_names(model_key) -> list[str]:
    checks.choice(model_key, "model", MODELS)
    return list(_matrices(_load(model_key).model))


def _load(model_key) -> registry.Loaded:
    task = "generation" if model_key == "shakespeare-gpt" else "sentiment"
    return registry.load(task, model_key)


def check_setting(model, bits, scheme, granularity) -> tuple:
    return (checks.choice(model, "model", MODELS), check_bits(bits),
            checks.choice(scheme, "scheme", SCHEMES),
            checks.choice(granularity, "granularity", GRANULARITIES))


def sizes(model, bits: int, extra_bytes: int) -> dict:
    """Bytes at fp32, fp16, and quantized (weight matrices at `bits`, their scales, and the
    rest in fp32)."""
    matrices = sum(p.numel() for p in _matrices(model).values())
    total = sum(p.numel() for p in model.parameters())
    rest = total - matrices
    return {"fp32": total * 4, "fp16": total * 2,
            "quantized": math.ceil(matrices * bits / 8) + extra_bytes + rest * 4,
            "weights": total, "matrix_weights": matrices}


@no_grad
def quantized_copy(model_key, bits, scheme, granularity):
    """A copy of the model whose weight matrices hold their quantized values, with the mean
    squared error of the weights and the bytes of the scales."""
    loaded = _load(model_key)
    model = copy.deepcopy(loaded.model)
    squared, count, extra = 0.0, 0, 0
    for name, p in _matrices(model).items():
        q, more = quantize_tensor(p, name, bits, scheme, granularity)
        squared += float(((q - p) ** 2).sum())
        count += p.numel()
        extra += more
        p.copy_(q)
    return model, loaded.tokenizer, squared / count, extra


@no_grad
def held_out_loss(model, tokenizer, text: str) -> float:
    """Nats per character on `text`: every token after the first scored once, each with at
    least CONTEXT tokens before it where the text allows (windows of WINDOW tokens, each
    scoring its last WINDOW - CONTEXT), all windows in one batch."""
    ids = tokenizer(text)["input_ids"]
    windows, skip = [ids[:WINDOW]], [0]  # the first window scores all its tokens
    scored = len(windows[0])
    while scored < len(ids):
        begin = scored - CONTEXT
        windows.append(ids[begin:begin + WINDOW])
        skip.append(scored - begin - 1)  # the predictions of tokens already scored
        scored = begin + len(windows[-1])
    total = 0.0
    for length in sorted({len(w) for w in windows}):  # equal lengths batch together
        rows = [i for i, w in enumerate(windows) if len(w) == length]
        x = torch.tensor([windows[i] for i in rows])  # (B, T)
        logits = model(x).logits[:, :-1].float()  # (B, T - 1, V): each predicts the next
        losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x[:, 1:],
                                                   reduction="none")  # (B, T - 1)
        total += sum(float(losses[b, skip[i]:].sum()) for b, i in enumerate(rows))
    return total / len(text)


EVAL = Path(__file__).parent / "eval"  # small held-out samples, shipped with the app


@cache
def held_out_text() -> str:
    """An excerpt of Julius Caesar, the play the GPT never saw."""
    return (EVAL / "julius_caesar_excerpt.txt").read_text(encoding="utf-8")


@cache
def sentiment_sample() -> tuple[list[str], list[int]]:
    """400 sentences of the sentiment test split, never trained on: texts and labels."""
    rows = [line.split("\t", 1) for line in
            (EVAL / "sentiment_sample.tsv").read_text(encoding="utf-8").splitlines()]
    return [t for _, t in rows], [int(float(r) > 0) for r, _ in rows]


@no_grad
def _accuracy(model_key, model, tokenizer) -> float:
    from models import sentiment

    texts, labels = sentiment_sample()
    loaded = registry.Loaded(registry.spec("sentiment", model_key), model, tokenizer)
    odds = sentiment._log_odds(loaded, texts)
    return float(((odds > 0).long() == torch.tensor(labels)).float().mean())


@no_grad
def _greedy(model, tokenizer, prompt: str, n: int) -> list[int]:
    x = torch.tensor([tokenizer(prompt)["input_ids"]])
    out = model.generate(x, max_new_tokens=n, do_sample=False, pad_token_id=0)
    return out[0, x.shape[1]:].tolist()


_last_gpt: dict = {}  # the GPT's most recent quantized copy (23 MB), by its setting


def _copy(setting: tuple):
    """quantized_copy, keeping the GPT's last copy: the tab asks for its loss and then its
    continuation of the same setting, and would quantize the whole model twice. The caller
    holds _lock."""
    if setting[0] != "shakespeare-gpt":
        return quantized_copy(*setting)
    if setting not in _last_gpt:
        _last_gpt.clear()
        _last_gpt[setting] = quantized_copy(*setting)
    return _last_gpt[setting]


_results: OrderedDict = OrderedDict()  # setting -> result, the most recent last
MAX_CACHED = 64  # every setting of both models is 2 × 5 × 2 × 2 = 40


def quantize_model(model="shakespeare-gpt", bits=8, scheme="absmax", granularity="row") -> dict:
    """The whole model with its weight matrices quantized: sizes, the weights' mean squared
    error, and its quality against the float model's (the GPT: nats per character on the
    held-out excerpt; the sentiment model: accuracy on the held-out sample). Each setting is
    computed once and kept."""
    setting = check_setting(model, bits, scheme, granularity)
    with _lock:  # one quantization at a time: each copies the model
        if setting in _results:
            _results.move_to_end(setting)
            return _results[setting]
        q_model, tokenizer, mse, extra = _copy(setting)
        base = _load(model)
        result = {"model": model, "bits": setting[1], "scheme": scheme,
                  "granularity": granularity, "bytes": sizes(base.model, setting[1], extra),
                  "weight_mse": mse}
        if model == "shakespeare-gpt":
            result["loss_nats_per_char"] = held_out_loss(q_model, tokenizer, held_out_text())
            result["baseline"] = _baseline(model)
        else:
            result["accuracy"] = _accuracy(model, q_model, tokenizer)
            result["baseline"] = _baseline(model)
        _results[setting] = result
        while len(_results) > MAX_CACHED:
            _results.popitem(last=False)
        return result


@cache
def _baseline(model_key: str) -> float:
    loaded = _load(model_key)
    if model_key == "shakespeare-gpt":
        return held_out_loss(loaded.model, loaded.tokenizer, held_out_text())
    return _accuracy(model_key, loaded.model, loaded.tokenizer)


def continuation(bits=8, scheme="absmax", granularity="row", prompt="ROMEO.\n", n=40) -> dict:
    """The same prompt continued greedily by the float GPT and by its quantized copy: both
    token lists, and the first position where they part (None if they never do)."""
    from models import text as text_tools

    setting = check_setting("shakespeare-gpt", bits, scheme, granularity)
    cleaned, _ = text_tools.clean(prompt, "prompt")
    base = _load("shakespeare-gpt")
    with _lock:
        q_model, tokenizer, _, _ = _copy(setting)
    original = _greedy(base.model, tokenizer, cleaned, n)
    quantized = _greedy(q_model, tokenizer, cleaned, n)
    parted = next((i for i, (a, b) in enumerate(zip(original, quantized)) if a != b), None)
    return {"original": text_tools.token_strings(tokenizer, original),
            "quantized": text_tools.token_strings(tokenizer, quantized), "parted": parted}


@no_grad
def matrix_view(model="shakespeare-gpt", name=None, bits=8, scheme="absmax",
                granularity="row") -> dict:
    """One weight matrix before and after: its values (a sample, for the histograms), the
    error, and its bytes."""
    setting = check_setting(model, bits, scheme, granularity)
    matrices = _matrices(_load(model).model)
    name = name or next(iter(matrices))
    if name not in matrices:
        raise ValueError(f"{str(name)[:60]!r} is not a weight matrix of {model}.")
    p = matrices[name]
    q, extra = quantize_tensor(p, name, *setting[1:])
    w = p.detach().float()
    flat, back = w.flatten(), q.flatten()
    step = max(1, flat.numel() // 50_000)  # at most 50,000 values drawn: the same ones
    return {"name": name, "shape": list(w.shape), "weights": int(w.numel()),
            "before": flat[::step].tolist(), "after": back[::step].tolist(),
            "mse": float(((q - w) ** 2).mean()), "max_error": float((q - w).abs().max()),
            "levels": int(torch.unique(back).numel()),
            "bytes": {"fp32": w.numel() * 4, "fp16": w.numel() * 2,
                      "quantized": math.ceil(w.numel() * setting[1] / 8) + extra}}


# -- PTQ against QAT, on the Learning tab's small network -------------------------------------

def fake_quantize(w: torch.Tensor, bits: int) -> torch.Tensor:
    """w (out, in) rounded to `bits` (absmax, one scale per output unit) in the forward pass;
    in the backward pass the rounding is skipped, as if it were not there (the straight-through
    estimator: rounding's own slope is 0 almost everywhere, and would stop all learning)."""
    qmax = 2 ** (bits - 1) - 1
    scale = w.detach().abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / qmax  # (out, 1)
    rounded = torch.clamp(torch.round(w / scale), -qmax, qmax) * scale
    return w + (rounded - w).detach()


class RoundedTraining(learning.Training):
    """The Learning tab's network and training loop, its forward pass using weights rounded to
    `bits` when set (biases stay in float, as integer kernels usually keep them)."""

    bits: int | None = None

    def weight(self, i: int):
        w = self.layers[i].weight
        return w if self.bits is None else fake_quantize(w, self.bits)


PTQ_STEPS = 3_000  # the Learning tab's default run is 2,000 steps; a little more, for both
PTQ_LEARNING_RATE = 0.1  # the preset's 0.3 makes rounded training erratic (seeds 0-2 tried)
PTQ_DATASETS = learning.TWO_CLASS_SETS


def ptq_vs_qat(bits=2, dataset="circles", seed=0) -> dict:
    """PTQ against QAT at `bits` on a data set of the Learning tab (computed once per
    setting): see _ptq_vs_qat."""
    bits = check_bits(bits)
    dataset = checks.choice(dataset, "data set", PTQ_DATASETS)
    return _ptq_vs_qat(bits, dataset, learning.integer(seed, "Seed", 0, 2 ** 31 - 1))


@cache
def _ptq_vs_qat(bits: int, dataset: str, seed: int) -> dict:
    """The Learning tab's default network (three layers of 8, tanh, batch 10) trained
    PTQ_STEPS steps twice from the same start, learning rate PTQ_LEARNING_RATE: in float, then
    rounded to `bits` (post-training quantization); and with its weights rounded in every
    forward pass (quantization-aware training). Accuracies, and each one's decision boundary.
    Weights are rounded absmax, one scale per output unit; biases stay in float."""
    d = learning.DEFAULT
    config = learning.Config.checked(dataset, d.noise, d.layers, d.activation, seed)
    runs = {}
    ptq = RoundedTraining(config, PTQ_LEARNING_RATE, d.batch_size)
    qat = RoundedTraining(config, PTQ_LEARNING_RATE, d.batch_size)
    qat.bits = bits
    for t in (ptq, qat):
        for _ in range(PTQ_STEPS):
            t.step()
    runs["float"] = {**ptq.evaluate(), "boundary": ptq.boundary()}
    ptq.bits = bits  # the float network, rounded after training
    runs["ptq"] = {**ptq.evaluate(), "boundary": ptq.boundary()}
    runs["qat"] = {**qat.evaluate(), "boundary": qat.boundary()}
    return {"bits": bits, "dataset": dataset, "steps": PTQ_STEPS,
            "learning_rate": PTQ_LEARNING_RATE, **runs, "data": ptq.data()}
