"""The tiny transformer that learns live: its data, its induction score, and that it learns."""

import numpy as np
import pytest

from models import runner
from models.learning import transformer as lt


def test_repeat_sequences_say_a_random_stretch_twice():
    task = lt.TASKS["repeat"]
    batch = lt.make_batch(task, 50, np.random.default_rng(0))
    assert batch["tokens"].shape == (50, task.length)
    assert len({tuple(r) for r in batch["repeat"]}) > 10  # start and length vary
    for tokens, learnable, (s, k) in zip(batch["tokens"], batch["learnable"], batch["repeat"]):
        assert lt.REPEAT_LENGTHS[0] <= k <= lt.REPEAT_LENGTHS[1]
        assert np.array_equal(tokens[s:s + k], tokens[s + k:s + 2 * k])
        assert learnable.sum() == k - 1  # the second copy after its first token


def test_sort_sequences_end_in_their_digits_sorted():
    batch = lt.make_batch(lt.TASKS["sort"], 5, np.random.default_rng(0))
    for tokens in batch["tokens"]:
        assert tokens[8] == 10 and list(tokens[9:]) == sorted(tokens[:8])


def test_the_induction_score_reads_the_attention_to_the_token_after_the_earlier_copy():
    T = 10
    attention = np.zeros((1, 1, 2, T, T))
    repeat = np.array([[1, 3]])  # tokens 1-3 again at 4-6
    for i in range(4, 7):
        attention[0, 0, 1, i, i - 3 + 1] = 1.0  # head 2 looks at the token after the copy
        attention[0, 0, 0, i, i] = 1.0  # head 1 at itself
    scores = lt.induction_score(attention, repeat)
    assert scores.tolist() == [[0.0, 1.0]]


def test_the_model_returns_each_heads_causal_attention():
    run = lt.Run("repeat", 2, 4, 0)
    state = run.state()
    a = np.asarray(state["example"]["attention"])
    assert a.shape == (2, 4, 24, 24)
    assert np.allclose(a.sum(-1), 1, atol=1e-5) and np.allclose(np.triu(a, 1), 0)
    assert len(state["example"]["predicted"]) == 23


def test_an_induction_head_forms_on_repeat_within_the_default_budget():
    run = lt.Run("repeat", 2, 2, 0)
    start = run.record()
    assert start["induction_score"] < 0.2 and start["loss"] > 2.5
    task = lt.TASKS["repeat"]
    for state in runner.iterate(run.run(task.steps, frame_seconds=0.2, share=1.0)):
        if state["induction_score"] > 0.6:  # formed: no need to train the rest of the budget
            break
    assert run.formed_at is not None and run.formed_at < task.steps
    assert state["induction_score"] > 0.5 and state["loss"] < 0.8 and state["accuracy"] > 0.7
    assert state["step"] <= task.steps


def test_one_layer_forms_no_induction_head():
    run = lt.Run("repeat", 1, 2, 0)
    for _ in range(500):
        run.step()
    assert run.record()["induction_score"] < 0.5


def test_sort_is_learned():
    run = lt.Run("sort", 2, 2, 0)
    for _ in range(300):
        run.step()
    state = run.record()
    assert state["accuracy"] > 0.9 and state["induction_score"] is None


def test_runs_are_deterministic_for_a_seed():
    def losses(seed):
        run = lt.Run("repeat", 2, 2, seed)
        return [run.step() for _ in range(5)]
    assert losses(3) == losses(3) and losses(3) != losses(4)


@pytest.mark.parametrize("kwargs, words", [
    (dict(task="poetry"), "Unknown task"), (dict(layers=3), "Layers must be between 1 and 2"),
    (dict(heads=0), "Heads must be between 1 and 4"), (dict(heads=3), "1, 2 or 4"),
    (dict(seed=-1), "Seed"), (dict(layers="two"), "Layers must be a number"),
])
def test_bad_settings_are_refused_with_a_sentence(kwargs, words):
    with pytest.raises(ValueError, match=words):
        lt.Run(**{"task": "repeat", "layers": 2, "heads": 2, "seed": 0, **kwargs})
