"""Property-based tests (hypothesis) of the checks and preprocessing at the edge: whatever a
client sends, they return a valid value or raise ValueError with a sentence, nothing else."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from models import activations, checks, digits, generation, learning, text

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                     st.text(), st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@given(st.one_of(st.text(), ANYTHING))
@settings(max_examples=300, deadline=None)
def test_clean_text_returns_printable_text_or_a_sentence(value):
    try:
        cleaned, notice = text.clean(value)
    except ValueError as e:
        assert str(e).endswith(".")
        return
    assert cleaned.strip() and len(cleaned) <= text.MAX_CHARS
    assert "\x00" not in cleaned
    assert all(c in "\n\t" or ord(c) >= 32 for c in cleaned if ord(c) < 128)


@given(ANYTHING, ANYTHING, ANYTHING)
@settings(max_examples=300, deadline=None)
def test_sampling_settings_are_valid_or_refused(t, k, p):
    try:
        s = generation.check_sampling(t, k, p)
    except ValueError as e:
        assert str(e)
        return
    assert 0 <= s.temperature <= 2 and 0 <= s.top_k <= generation.MAX_TOP_K
    assert 0 < s.top_p <= 1 and math.isfinite(s.temperature)


@given(ANYTHING, ANYTHING)
@settings(max_examples=200, deadline=None)
def test_token_budget_and_seed_are_valid_or_refused(n, seed):
    try:
        n, seed = generation.check_budget(n, seed)
    except ValueError:
        return
    assert 1 <= n <= generation.MAX_NEW_TOKENS and 0 <= seed < 2**32


@given(ANYTHING)
@settings(max_examples=200, deadline=None)
def test_layer_and_head_indices_are_valid_or_refused(value):
    try:
        i = checks.index(value, "Layer", 6)
    except ValueError as e:
        assert "Layer" in str(e)
        return
    assert isinstance(i, int) and 1 <= i <= 6


@given(st.one_of(st.text(max_size=60), ANYTHING))
@settings(max_examples=300, deadline=None)
def test_logits_parse_to_finite_numbers_or_are_refused(value):
    try:
        values = activations.parse_logits(value)
    except (ValueError, TypeError):
        return
    assert len(values) >= 1 and all(math.isfinite(v) for v in values)


@given(arrays(np.float32, st.tuples(st.integers(2, 300), st.integers(2, 300)),
              elements=st.floats(0, 1, width=32)))
@settings(max_examples=100, deadline=None)
def test_preprocess_gives_a_28x28_image_in_range(ink):
    try:
        image = digits.preprocess(ink)
    except ValueError as e:  # an empty canvas
        assert "empty" in str(e)
        return
    assert image.shape == (28, 28) and np.isfinite(image).all()
    assert image.min() >= 0 and image.max() <= 1 + 1e-6


@given(ANYTHING)
@settings(max_examples=300, deadline=None)
def test_hidden_layers_parse_to_a_small_network_or_are_refused(value):
    try:
        widths = learning.parse_layers(value)
    except ValueError as e:
        assert str(e).endswith(".")
        return
    assert len(widths) <= learning.MAX_LAYERS
    assert all(isinstance(w, int) and 1 <= w <= learning.MAX_WIDTH for w in widths)


@given(ANYTHING, ANYTHING, ANYTHING, st.one_of(ANYTHING, st.integers(-5, 1_000)), ANYTHING)
@settings(max_examples=300, deadline=None)
def test_training_settings_are_valid_or_refused(noise, layers, rate, batch, seed):
    try:
        config = learning.Config.checked("xor", noise, layers, "relu", seed)
        rate, batch = learning.check_learning_rate(rate), learning.check_batch_size(batch)
    except ValueError as e:
        assert str(e).endswith(".")
        return
    assert 0 <= config.noise <= 0.5 and math.isfinite(rate) and 0 < rate <= 10
    # A batch is at most all the points (own points: up to 400 for training).
    assert 1 <= batch <= learning.N_POINTS and 0 <= config.seed < 2**31


@given(ANYTHING, ANYTHING, ANYTHING, ANYTHING, st.integers(-5, 600))
@settings(max_examples=200, deadline=None)
def test_descent_settings_are_valid_or_refused(w1, w2, rate, momentum, steps):
    try:
        surface, start, rate, momentum, steps = learning.check_descent(
            "two_minima", w1, w2, rate, momentum, steps)
    except ValueError as e:
        assert str(e).endswith(".")
        return
    assert all(-2 <= w <= 2 for w in start) and 0 < rate <= 5 and 0 <= momentum < 1
    assert 0 <= steps <= learning.MAX_DESCENT_STEPS
