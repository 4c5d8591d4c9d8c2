"""The shared live-training runner: paced frames, caps, and the server-wide line for its slots."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from models import learning, runner


def run(coroutine):
    """asyncio.run on a thread of its own: the browser tests' Playwright runs a loop on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def network() -> learning.Training:
    return learning.Training(learning.Config.checked("circles", 0.05, "4", "tanh"), 0.1, 10)


def test_the_line_admits_in_order_of_arrival_up_to_its_slots():
    line = runner.Line(2)
    a, b, c, d = (line.join() for _ in range(4))
    assert line.place(d) == 2  # two free slots go to a and b, who came first: d is 2nd in line
    assert [line.place(t) for t in (a, b, c, d)] == [0, 0, 1, 2]
    line.leave(b)
    assert line.place(d) == 1 and line.place(c) == 0 and line.place(d) == 1  # c takes the slot
    line.leave(c)
    assert line.place(d) == 0
    assert line.counts() == {"training": 2, "waiting": 0, "slots": 2}


def test_a_run_past_the_slots_waits_with_its_place_and_trains_when_one_frees():
    async def scenario():
        line = runner.Line(1)
        a, b = network(), network()
        first_run = runner.live(a, learning.MAX_STEPS, a._step, 60, 0.02, 1.0, line)
        second = runner.live(b, 30, b._step, 60, 0.02, 1.0, line)
        assert "place" not in await anext(first_run) and a.status == "training"
        waiting = [await anext(second) for _ in range(2)]
        assert [(s["place"], s["slots"]) for s in waiting] == [(1, 1), (1, 1)]
        assert b.status == "waiting" and b.steps == 0
        await first_run.aclose()  # the first page closed (gradio cancels its stream)
        states = [s async for s in second]
        assert all("place" not in s for s in states)
        assert b.status == "done" and b.steps == 30 and line.counts()["training"] == 0

    run(scenario())


def test_pause_takes_a_waiting_run_out_of_the_line():
    async def scenario():
        line = runner.Line(1)
        a, b = network(), network()
        playing = runner.live(a, learning.MAX_STEPS, a._step, 60, 0.02, 1.0, line)
        await anext(playing)
        waiting = runner.live(b, 30, b._step, 60, 0.02, 1.0, line)
        assert (await anext(waiting))["place"] == 1
        b.pause()
        assert [s async for s in waiting] == [] and b.status == "paused" and b.steps == 0
        assert line.counts() == {"training": 1, "waiting": 0, "slots": 1}
        await playing.aclose()

    run(scenario())


def test_a_run_stops_at_its_step_cap_its_time_cap_or_a_stop():
    run = network()
    states = list(runner.iterate(runner.live(run, 25, run._step, 60, 0.02)))
    assert run.steps == 25 and run.status == "done" and states[-1]["step"] == 25
    run = network()
    list(runner.iterate(runner.live(run, learning.MAX_STEPS, run._step, 0.2, 0.02)))
    assert run.status == "capped" and 0 < run.steps < learning.MAX_STEPS
    run = network()
    stream = runner.iterate(runner.live(run, learning.MAX_STEPS, run._step, 60, 0.02))
    next(stream)
    run.stop()
    assert list(stream) == [] and runner.LINE.counts()["training"] == 0


def test_frames_come_paced_training_only_its_share_of_the_time():
    run = network()
    states = list(runner.iterate(runner.live(run, learning.MAX_STEPS, run._step, 1.0, 0.1, 0.3)))
    assert run.status == "capped"
    # About ten frames in the second (at most one per 0.1 s), and it trained about 30 % of it:
    # steps_per_second counts training time only, so steps / rate is the time spent training.
    assert 5 <= len(states) <= 12
    training = run.steps / states[-1]["steps_per_second"]
    assert training < 0.6


@pytest.mark.parametrize("slots", ["0", "-3", ""])
def test_the_slots_are_at_least_one(monkeypatch, slots):
    import importlib

    monkeypatch.setenv("NP_TRAINING_SLOTS", slots)
    try:
        assert importlib.reload(runner).SLOTS >= 1
    finally:
        monkeypatch.delenv("NP_TRAINING_SLOTS")
        importlib.reload(runner)
