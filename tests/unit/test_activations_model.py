"""models/activations.py against torch: values against torch.nn.functional, slopes against
torch.autograd, softmax with temperature against torch.softmax(logits / T)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models import activations as act

ALPHA = 0.3
TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, ALPHA),
    "elu": lambda x: F.elu(x, ALPHA),
    "gelu": F.gelu,  # the exact erf form
    "silu": F.silu,
    "softplus": F.softplus,
    "step": lambda x: (x >= 0).to(x.dtype),  # no gradient: its slope is 0 almost everywhere
    "identity": lambda x: x,
}
# Points that avoid the kinks at 0, where a derivative is a matter of convention.
X = np.concatenate([np.linspace(-30, -0.01, 400), np.linspace(0.01, 30, 400)])


def test_every_function_has_an_oracle():
    assert set(act.FUNCTIONS) == set(TORCH)


@pytest.mark.parametrize("name", list(TORCH))
def test_values_match_torch(name):
    expected = TORCH[name](torch.tensor(X, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(act.value(name, X, ALPHA), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(TORCH))
def test_derivatives_match_autograd(name):
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    y = TORCH[name](x)
    if y.requires_grad:
        (grad,) = torch.autograd.grad(y.sum(), x)
    else:  # the step function: torch has no gradient for it; its slope is 0 almost everywhere
        grad = torch.zeros_like(x)
    np.testing.assert_allclose(act.derivative(name, X, ALPHA), grad.numpy(), rtol=1e-7,
                               atol=1e-12)


def test_no_overflow_at_extremes():
    for name in act.FUNCTIONS:
        for fn in (act.value, act.derivative):
            assert np.isfinite(fn(name, np.array([-1000.0, 1000.0]), ALPHA)).all(), name


@pytest.mark.parametrize("t", [0.05, 0.5, 1.0, 1.7, 2.0])
def test_softmax_with_temperature_matches_torch(t):
    logits = [2.0, 1.0, 0.1, -3.0, 2.5]
    expected = torch.softmax(torch.tensor(logits, dtype=torch.float64) / t, dim=0).numpy()
    np.testing.assert_allclose(act.softmax(logits, t), expected, rtol=1e-12)


def test_temperature_zero_is_argmax():
    logits = [0.3, 4.0, -1.0, 3.9]
    np.testing.assert_array_equal(act.softmax(logits, 0), np.eye(4)[np.argmax(logits)])
    np.testing.assert_array_equal(act.softmax([1.0, 5.0, 5.0], 0), [0, 0.5, 0.5])  # ties share


def test_huge_logits_do_not_overflow():
    assert np.isfinite(act.softmax([1e6, -1e6, 0], 0.01)).all()


@pytest.mark.parametrize("text, message", [("", "Enter some logits"), ("1, x", "not a number"),
                                           ("1, nan", "finite"), ("1, inf", "finite"),
                                           (",".join(["1"] * 51), "at most 50")])
def test_parse_logits_rejects_bad_text(text, message):
    with pytest.raises(ValueError, match=message):
        act.parse_logits(text)


def test_parse_logits():
    assert act.parse_logits(" 2, 1 ,0.1,-3e1 ") == [2.0, 1.0, 0.1, -30.0]


def test_softmax_rejects_negative_or_nan_temperature():
    for t in (-0.1, float("nan"), float("inf"), "hot"):
        with pytest.raises(ValueError):
            act.softmax([1.0, 2.0], t)


def test_curves_contract():
    out = act.curves(["sigmoid", "relu"], -5, 5, 0.1, points=101)
    assert len(out["x"]) == 101 and list(out["functions"]) == ["sigmoid", "relu"]
    sig = out["functions"]["sigmoid"]
    assert len(sig["y"]) == len(sig["dy"]) == 101
    # The sigmoid's slope is below 0.05 for |x| > ~2.9: both ends are saturated.
    (l0, l1), (r0, r1) = sig["saturated"]
    assert l0 == -5 and -3.0 < l1 < -2.8 and 2.8 < r0 < 3.0 and r1 == 5
    assert out["functions"]["relu"]["saturated"] == [(-5.0, pytest.approx(0.05))]  # dead half


@pytest.mark.parametrize("kwargs, message", [
    ({"functions": []}, "at least one"),
    ({"functions": ["nope"]}, "Unknown"),
    ({"x_min": 3, "x_max": -3}, "smaller"),
    ({"x_min": 3, "x_max": 3}, "smaller"),
    ({"x_min": -1e9, "x_max": 1}, "within"),
    ({"x_min": float("nan")}, "finite"),
    ({"x_max": float("inf")}, "finite"),
    ({"alpha": -1}, "between"),
    ({"alpha": 99}, "between"),
    ({"alpha": None}, "number"),
])
def test_curves_validate_arguments(kwargs, message):
    args = {"functions": ["relu"], "x_min": -5, "x_max": 5, "alpha": 0.1, **kwargs}
    with pytest.raises(ValueError, match=message):
        act.curves(**args)


def test_probe_and_neuron():
    p = act.probe(["sigmoid", "relu"], 0.0)
    assert p["sigmoid"] == {"value": 0.5, "slope": 0.25}
    assert p["relu"]["value"] == 0.0
    n = act.neuron("sigmoid", w=2.0, b=1.0, x_min=-1, x_max=1, points=3)
    np.testing.assert_allclose(n["a"], act.value("sigmoid", np.array([-1.0, 1.0, 3.0])))


def test_training_comparison_comes_from_a_real_run():
    runs = act.training_comparison()
    assert set(runs) == {"sigmoid", "tanh", "relu"}
    epochs = {len(r["epoch"]) for r in runs.values()}
    assert len(epochs) == 1  # same number of epochs for all three
    for r in runs.values():
        assert len(r["train_loss"]) == len(r["test_accuracy"]) == len(r["epoch"])
        assert r["final_accuracy"] == r["test_accuracy"][-1] > 0.8
