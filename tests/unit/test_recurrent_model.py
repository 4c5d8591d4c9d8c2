"""The recurrent networks' model code: the unrolled arithmetic against torch's own modules, the
gradients through time against autograd, the memory task, clipping and truncation."""

import math

import numpy as np
import pytest
import torch

from models import recurrent as rec
from models import runner


@pytest.mark.parametrize("cell", list(rec.CELLS))
@pytest.mark.parametrize("hidden, seed, sequence", [(1, 0, "A"), (3, 1, "Awx?"),
                                                    (4, 7, "BzzyxwDC?A?w")])
def test_the_arithmetic_shown_equals_torchs_module(cell, hidden, seed, sequence):
    unrolled = rec.unroll(cell, sequence, hidden, seed)
    module = rec.torch_cell(cell, len(rec.ALPHABET), hidden, seed)
    x = rec.one_hot([[rec.ALPHABET.index(c) for c in sequence]])
    out, state = module(x)  # (1, T, hidden)
    shown = np.array([s["h"] for s in unrolled["steps"]])
    np.testing.assert_allclose(shown, out[0].detach().numpy(), atol=1e-5)
    if cell == "lstm":  # the cell state shown at the last step is torch's c_T
        np.testing.assert_allclose(unrolled["steps"][-1]["c"], state[1][0, 0].detach().numpy(),
                                   atol=1e-5)
        s = unrolled["steps"][0]  # and the pieces add up as written
        np.testing.assert_allclose(s["c"], s["f"] * s["c_prev"] + s["i"] * s["g_tilde"])
        np.testing.assert_allclose(s["h"], s["o"] * np.tanh(s["c"]))
    if cell == "rnn":
        s = unrolled["steps"][-1]
        np.testing.assert_allclose(s["h"], np.tanh(s["Wx_x"] + s["Wh_h"] + s["b"]))
    if cell == "gru":
        s = unrolled["steps"][-1]
        np.testing.assert_allclose(s["h"], (1 - s["z"]) * s["n"] + s["z"] * s["h_prev"])


@pytest.mark.parametrize("sequence, message", [("", "Type a sequence"), ("A" * 13, "at most 12"),
                                               ("Ab", "cannot"), (None, "must be text")])
def test_bad_sequences_are_refused_with_a_sentence(sequence, message):
    with pytest.raises(ValueError, match=message):
        rec.unroll("rnn", sequence)


def autograd_norms(network, ids, answer, truncate=0):
    """‖∂L/∂h_t‖ computed independently: torch's single-step cell (RNNCell, LSTMCell, GRUCell)
    with the network's weights, and torch.autograd.grad with respect to every h_t."""
    fused = network.cell
    kind = type(fused).__name__
    step = {"RNN": torch.nn.RNNCell, "LSTM": torch.nn.LSTMCell, "GRU": torch.nn.GRUCell}[kind](
        fused.input_size, fused.hidden_size)
    step.load_state_dict({k.removesuffix("_l0"): v for k, v in fused.state_dict().items()})
    x = rec.one_hot(np.asarray(ids)[None])[0]  # (T, n_in)
    T = x.shape[0]
    h = torch.zeros(1, fused.hidden_size)
    c = torch.zeros(1, fused.hidden_size)
    hs = []
    for t in range(T):
        if truncate and t == T - truncate:
            h, c = h.detach(), c.detach()
        if kind == "LSTM":
            h, c = step(x[t:t + 1], (h, c))
        else:
            h = step(x[t:t + 1], h)
        hs.append(h)
    loss = torch.nn.functional.cross_entropy(network.head(hs[-1]), torch.tensor([answer]))
    grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return [0.0 if g is None else g.norm().item() for g in grads]


@pytest.mark.parametrize("cell", list(rec.CELLS))
@pytest.mark.parametrize("truncate", [0, 5])
def test_grad_norms_equal_autograds_gradient_with_respect_to_each_hidden_state(cell, truncate):
    run = rec.Run(cell=cell, delay=12, hidden=16, seed=3, truncate=truncate)
    for _ in range(20):  # trained a little, so that the weights are not torch's initial ones
        run.step()
    ids, answer = run.probe
    ours = run.record()["grad_norms"]
    theirs = autograd_norms(run.network, ids, answer, truncate)
    assert len(ours) == len(ids) == 13
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-12)
    if truncate:  # nothing before the last k steps: exactly zero
        assert all(n == 0 for n in ours[:-truncate]) and all(n > 0 for n in ours[-truncate:])


def test_within_the_default_budget_the_lstm_remembers_across_20_steps_and_the_rnn_does_not():
    steps = rec.SETTINGS["steps"].default
    accuracy = {}
    for cell in ("lstm", "rnn"):
        run = rec.Run(cell=cell, delay=20, seed=0)
        for _ in range(steps):
            run.step()
        accuracy[cell] = run.evaluate()[1]
    assert accuracy["lstm"] >= 0.9, accuracy
    assert accuracy["rnn"] < 0.4, accuracy


def test_the_rnns_gradient_vanishes_back_through_time_and_the_lstms_much_less():
    norms = {c: rec.gradient_through_time(c, delay=30, seed=0, init_scale=1.0)["grad_norms"]
             for c in ("rnn", "lstm")}
    back = {c: n[0] / n[-1] for c, n in norms.items()}  # step 1 against the last step
    assert back["rnn"] < 1e-4
    assert back["lstm"] > 100 * back["rnn"]


def test_large_recurrent_weights_explode_the_gradient_and_clipping_bounds_it():
    result = rec.gradient_through_time("rnn", delay=20, seed=0, init_scale=4.0, clip=1.0)
    norms, clipped = result["grad_norms"], result["clipped"]
    assert norms[0] > 10 * norms[-1]  # grows going back
    # clipped as it flows back: never above the limit, and untouched where it was below
    assert max(clipped) <= 1.0 + 1e-6 < max(norms)
    assert clipped[-1] == pytest.approx(norms[-1])  # the first step back: nothing to clip yet
    assert result["gradient_norm"] > 1.0
    assert result["clipped_gradient_norm"] == pytest.approx(1.0)
    assert result["step_size"] == pytest.approx(result["step_rate"] * result["gradient_norm"])
    assert result["clipped_step_size"] == pytest.approx(result["step_rate"] * 1.0)


def test_clipping_at_every_step_matches_a_hand_made_backward_pass():
    """The per-step clipping of gradients_through_time, done by hand: backpropagate one step at
    a time with torch.autograd.grad, clipping the gradient that arrives at each state."""
    torch.manual_seed(0)
    network = rec._network("rnn", 8)
    with torch.no_grad():
        network.cell.weight_hh_l0.mul_(5.0)
    ids, answers = rec.make_batch(10, 1, np.random.default_rng(1))
    ours = rec.gradients_through_time(network, ids[0], int(answers[0]), clip=0.5)["h"]
    x = rec.one_hot(ids)  # (1, T, n_in)
    h = torch.zeros(1, 1, 8)
    hs, inputs = [], []
    for t in range(x.shape[1]):
        h_in = h.detach().requires_grad_()
        _, h = network.cell(x[:, t:t + 1], h_in)
        hs.append(h)
        inputs.append(h_in)
    loss = torch.nn.functional.cross_entropy(network.head(hs[-1][0]), torch.as_tensor(answers))
    g = torch.autograd.grad(loss, hs[-1])[0]
    theirs = []
    for t in reversed(range(len(hs))):
        g = g * min(1.0, 0.5 / g.norm().item())
        theirs.append(g.norm().item())
        if t:
            g = torch.autograd.grad(hs[t], inputs[t], g)[0]
    assert ours == pytest.approx(theirs[::-1], rel=1e-5)


def test_clipping_bounds_the_gradient_norm_of_each_training_step():
    run = rec.Run(cell="rnn", delay=20, seed=1, clip=0.5)
    with torch.no_grad():
        run.network.cell.weight_hh_l0.mul_(4.0)
    for _ in range(5):
        run.step()
        assert run.gradient_norm > 0.5  # the norm before clipping...
        total = math.sqrt(sum(p.grad.norm().item() ** 2 for p in run.network.parameters()))
        assert total <= 0.5 * (1 + 1e-5)  # ...and the gradient the step took


@pytest.mark.parametrize("cell", list(rec.CELLS))
def test_truncating_well_below_the_delay_leaves_every_cell_near_chance(cell):
    """No gradient reaches the symbol: a cell can only use what its weights, never trained to
    keep it, happen to carry to the window (at truncate = delay, right after the symbol, an
    LSTM reaches about 48 % that way)."""
    run = rec.Run(cell=cell, delay=20, seed=0, truncate=10)
    for _ in range(300):
        run.step()
    assert run.evaluate()[1] < 0.4


def test_the_lstm_learns_it_in_300_steps_untruncated():
    full = rec.Run(cell="lstm", delay=20, seed=0)
    for _ in range(300):
        full.step()
    assert full.evaluate()[1] >= 0.9


def test_the_memory_task_asks_for_the_symbol_shown_delay_steps_before_the_question():
    ids, answers = rec.make_batch(7, 50, np.random.default_rng(0))
    assert ids.shape == (50, 8)
    assert (ids[:, 0] == answers).all()
    assert (ids[:, -1] == rec.ALPHABET.index("?")).all()
    middle = ids[:, 1:-1]
    assert ((middle >= 4) & (middle < 8)).all()  # distractors only


def test_a_race_trains_its_cells_on_the_same_batches_on_the_shared_runner():
    race = rec.Race(("rnn", "gru"), delay=5, seed=2)
    states = list(runner.iterate(race.run(30)))
    final = states[-1]
    assert final["status"] == "done" and final["step"] == 30
    assert set(final["cells"]) == {"rnn", "gru"}
    a, b = race.runs.values()
    assert (a.rng.integers(0, 1000, 5) == b.rng.integers(0, 1000, 5)).all()  # in step
    assert len(final["cells"]["rnn"]["grad_norms"]) == 6


@pytest.mark.parametrize("given, message", [
    (dict(cell="transformer"), "Unknown cell"), (dict(delay=0), "Delay"),
    (dict(delay=61), "Delay"), (dict(hidden=1000), "Hidden"), (dict(clip=-1), "Clip"),
    (dict(truncate=-2), "Truncate"), (dict(seed=1.5), "whole number"),
    (dict(forget_bias=float("nan")), "finite")])
def test_bad_settings_are_refused_with_a_sentence(given, message):
    with pytest.raises(ValueError, match=message):
        rec.Run(**given)


def test_a_race_goes_on_when_one_cell_diverges():
    race = rec.Race(("rnn", "lstm"), delay=5, seed=0)
    race.runs["rnn"].status = "diverged"
    states = list(runner.iterate(race.run(20)))
    assert states[-1]["status"] == "done" and states[-1]["step"] == 20
    assert race.runs["rnn"].steps == 0 and race.runs["lstm"].steps == 20


def test_an_lstms_record_has_its_cell_states_gradients_too():
    state = rec.Run(cell="lstm", delay=8, seed=0).record()
    assert len(state["cell_grad_norms"]) == len(state["grad_norms"]) == 9
    assert "cell_grad_norms" not in rec.Run(cell="gru", delay=8, seed=0).record()


def test_a_race_needs_a_cell():
    with pytest.raises(ValueError, match="at least one"):
        rec.Race(())
