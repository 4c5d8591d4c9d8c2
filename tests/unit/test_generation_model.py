"""The generation module: sampling against direct computation, and our loop against
model.generate."""

import math

import pytest
import torch

from models import generation as gen
from models import registry

PROMPT = "ROMEO.\n"


@pytest.fixture(scope="module")
def gpt():
    return registry.load("generation")


def logits_fixture(seed=0, n=50):
    return torch.randn(n, generator=torch.Generator().manual_seed(seed)) * 3


def test_filtered_is_softmax_over_temperature_renormalised_over_kept_tokens():
    logits = logits_fixture()
    for t, k, p in [(1.0, 0, 1.0), (0.5, 10, 1.0), (1.7, 0, 0.8), (0.8, 7, 0.5)]:
        probs = gen.filtered(logits, gen.Sampling(t, k, p))
        kept = probs > 0
        direct = torch.softmax(logits / t, -1)  # the oracle: plain softmax with temperature
        torch.testing.assert_close(probs[kept], direct[kept] / direct[kept].sum())
        assert math.isclose(float(probs.sum()), 1.0, rel_tol=1e-5)


def test_temperature_zero_is_greedy():
    logits = logits_fixture(1)
    probs = gen.filtered(logits, gen.Sampling(0, 0, 1.0))
    assert int(torch.argmax(probs)) == int(torch.argmax(logits)) and float(probs.max()) == 1.0
    assert all(gen.draw(probs, seed, 0) == int(torch.argmax(logits)) for seed in range(5))


def test_top_k_keeps_exactly_k_most_likely():
    logits = logits_fixture(2)
    for k in (1, 5, 17):
        probs = gen.filtered(logits, gen.Sampling(1.0, k, 1.0))
        assert int((probs > 0).sum()) == k
        assert set(torch.nonzero(probs).flatten().tolist()) == set(
            torch.topk(logits, k).indices.tolist())


def test_top_p_keeps_the_smallest_set_whose_mass_reaches_p():
    logits = logits_fixture(3)
    full = torch.softmax(logits, -1)
    for p in (0.1, 0.5, 0.9, 0.99):
        probs = gen.filtered(logits, gen.Sampling(1.0, 0, p))
        kept = sorted(torch.nonzero(probs).flatten().tolist(), key=lambda i: -full[i])
        mass = float(full[kept].sum())
        assert mass >= p - 1e-6  # reaches p
        assert mass - float(full[kept[-1]]) < p  # without its least likely token it would not
        assert min(full[kept]) >= max(full[[i for i in range(50) if i not in kept]])


def test_higher_temperature_higher_entropy():
    logits = logits_fixture(4)
    entropies = [gen.entropy_bits(gen.filtered(logits, gen.Sampling(t))) for t in
                 (0.2, 0.5, 1.0, 1.5, 2.0)]
    assert entropies == sorted(entropies) and entropies[0] < entropies[-1]
    assert gen.entropy_bits(torch.full((8,), 1 / 8)) == pytest.approx(3.0)


def test_draw_follows_the_distribution():
    probs = torch.tensor([0.7, 0.2, 0.1, 0.0])
    counts = torch.bincount(torch.tensor([gen.draw(probs, 0, i) for i in range(2000)]),
                            minlength=4)
    assert counts[3] == 0
    assert abs(counts[0] / 2000 - 0.7) < 0.04 and abs(counts[2] / 2000 - 0.1) < 0.03


def test_streamed_greedy_equals_model_generate(gpt):
    for prompt, n in [(PROMPT, 60), ("Friends, Romans, countrymen", 40)]:
        ours = [t.id for t in gen.stream(prompt, temperature=0, max_new_tokens=n)]
        x = gpt.tokenizer(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            theirs = gpt.model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                                        max_new_tokens=n, pad_token_id=0)[0, x.shape[1]:]
        eos = gpt.tokenizer.eos_token_id
        theirs = theirs.tolist()
        if eos in theirs:
            theirs = theirs[:theirs.index(eos)]
        assert ours == theirs


def test_seed_makes_it_repeatable_and_step_mode_agrees():
    settings = dict(temperature=1.0, top_k=50, top_p=0.95)
    a = [t.text for t in gen.stream(PROMPT, max_new_tokens=25, seed=7, **settings)][-1]
    b = [t.text for t in gen.stream(PROMPT, max_new_tokens=25, seed=7, **settings)][-1]
    c = [t.text for t in gen.stream(PROMPT, max_new_tokens=25, seed=8, **settings)][-1]
    assert a == b and a != c
    ids = []
    for _ in range(25):
        ids = gen.step(PROMPT, ids, seed=7, **settings)["generated"]
    assert registry.load("generation").tokenizer.decode(ids) == a


def test_stream_reports_text_so_far_and_probabilities():
    tokens = list(gen.stream(PROMPT, temperature=0.8, max_new_tokens=10, top_k=40, seed=1))
    assert len(tokens) <= 10 and [t.index for t in tokens] == list(range(len(tokens)))
    assert all(0 < t.probability <= 1 for t in tokens)
    assert all(tokens[i + 1].text.startswith(tokens[i].text[:-3]) for i in range(len(tokens) - 1))


def test_stream_goes_past_the_model_window():
    window = registry.load("generation").model.config.n_positions
    tokens = list(gen.stream("To be or not to be " * 60, temperature=0, max_new_tokens=80))
    assert len(tokens) == 80  # a prompt that fills the window, then 80 more tokens
    context = gen.prepare("To be or not to be " * 60)
    assert len(context.ids) == window - 1 and "only the last" in context.notices[0]


def test_stream_stops_when_closed():
    stream = gen.stream(PROMPT, temperature=1, max_new_tokens=300)
    first = next(stream)
    stream.close()  # what gradio does when Stop is pressed
    assert first.index == 0
    with pytest.raises(StopIteration):
        next(stream)


def test_stream_respects_its_time_cap():
    tokens = list(gen.stream(PROMPT, temperature=1, max_new_tokens=400, max_seconds=0.05))
    assert 1 <= len(tokens) < 400


def test_next_token_distribution_before_and_after():
    view = gen.next_token_distribution(PROMPT, temperature=0.5, top_k=5, top_p=1.0)
    cands = view["candidates"]
    assert len(cands) >= 10 and view["kept"] == 5
    assert sum(c["after"] > 0 for c in cands) == 5
    assert sum(c["after"] for c in cands) == pytest.approx(1.0, abs=1e-5)
    assert view["entropy_after"] < view["entropy_before"]
    assert all(0 <= c["before"] <= 1 for c in cands)


def test_step_can_take_the_learners_choice():
    result = gen.step(PROMPT, [], choose=41)
    assert result["generated"] == [41]
    view = gen.inspect(PROMPT, result["generated"])
    assert view["last"]["drawn"] == 41 and view["generated_tokens"][0]["id"] == 41
    with pytest.raises(ValueError, match="vocabulary"):
        gen.step(PROMPT, [], choose=10**9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-0.1), "between 0 and 2"), (dict(temperature=2.5), "between 0 and 2"),
    (dict(temperature=float("nan")), "finite"), (dict(temperature="hot"), "number"),
    (dict(temperature=True), "number"), (dict(top_p=0), "more than 0"),
    (dict(top_p=1.5), "at most 1"), (dict(top_k=-1), "Top-k"), (dict(top_k=2.5), "whole"),
    (dict(max_new_tokens=0), "between 1"), (dict(max_new_tokens=10**6), "between 1"),
    (dict(seed=-3), "seed"), (dict(prompt=""), "empty"), (dict(prompt="\x00\x01 \n"), "empty"),
    (dict(prompt=None), "Type some"), (dict(prompt=123), "string"),
])
def test_bad_settings_are_clear_errors(kwargs, message):
    args = dict(prompt=PROMPT, temperature=1.0, max_new_tokens=5, top_k=0, top_p=1.0, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        list(gen.stream(**args))


def test_int_temperature_and_odd_text_work():
    assert list(gen.stream(PROMPT, temperature=1, max_new_tokens=3, top_k=10))
    for prompt in ["שלום עולם", "🙂🎭 ROMEO", "NUL\x00 in\x07 the middle", "é" * 30_000]:
        view = gen.next_token_distribution(prompt)
        assert len(view["candidates"]) >= 10
    assert "last 20,000" in gen.next_token_distribution("é" * 30_000)["notices"][0]


def test_unknown_model_is_refused():
    for key in ("gpt2-xl", "../weights", "https://example.com/model", "/etc/passwd"):
        with pytest.raises(ValueError, match="not available"):
            gen.next_token_distribution(PROMPT, model_key=key)
