"""A model trained live, as every demo that has one shows it: Play / Pause / Step / Reset, and
the stream of frames that Play starts. The training itself (paced frames, caps, the server's
slots and the line for them) is models/runner.py's; this is its side of the page.

A demo gives `Streaming.frames` its run's states (`run.run(steps)`, on the runner), how to draw
a state, and how to say that the run waits in line; it gets the frames to yield. The runs being
streamed are kept in a `Streaming` set, so that Pause knows whether the stream will draw the pause
itself (a pause drawn by Pause could reach the browser before the stream's last frame and be
covered by it).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple

import gradio as gr

# Every live stream in one gradio group, bounded only by the queue: the runner decides which
# runs train (models.runner.SLOTS at once), and the others are told their place in line. The
# stream is an async generator, so a run waiting or pausing between frames holds no thread.
MAX_STREAMS = 64
STREAM = dict(concurrency_id="live-training", concurrency_limit=MAX_STREAMS,
              show_progress="hidden")


class Controls(NamedTuple):
    play: gr.Button
    pause: gr.Button
    step: gr.Button
    reset: gr.Button


def controls(prefix: str) -> Controls:
    """The four buttons in a row, with elem_ids <prefix>-play, -pause, -step and -reset."""
    with gr.Row():
        return Controls(
            gr.Button("Play", variant="primary", size="sm", elem_id=f"{prefix}-play"),
            gr.Button("Pause", size="sm", elem_id=f"{prefix}-pause"),
            gr.Button("Step", size="sm", elem_id=f"{prefix}-step"),
            gr.Button("Reset", size="sm", elem_id=f"{prefix}-reset"))


# How a run's status (models/runner.py's) reads at the head of the line that says it.
STATUS_WORDS = {"ready": "Ready", "training": "Training", "paused": "Paused", "done": "Done",
                "capped": "Stopped at the time cap", "diverged": "Stopped: the loss diverged"}


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def waiting_note(state: dict) -> str:
    """What a run waiting for a slot shows instead of its training."""
    place, slots = state["place"], state["slots"]
    ahead = "you are next" if place == 1 else f"{place - 1} ahead of you"
    return (f"**Waiting for a free trainer ({ahead}).** This server trains {slots} "
            f"model{'s' if slots != 1 else ''} at once, each for at most a minute per Play; "
            "yours starts as soon as one finishes. Pause leaves the line.")


class Streaming:
    """The runs whose stream is drawing them now."""

    def __init__(self):
        self._runs: weakref.WeakSet = weakref.WeakSet()

    def __contains__(self, run) -> bool:
        return run in self._runs

    async def frames(self, run, states: AsyncIterator[dict], draw: Callable[[dict | None], tuple],
                     waiting: Callable[[dict], tuple]) -> AsyncIterator[tuple]:
        """Each state drawn (in a worker thread: a frame is pictures), or said to be waiting;
        a run paused while it streamed gets its last frame from here."""
        self._runs.add(run)
        try:
            async for state in states:
                if run.stopped:  # paused or replaced while this frame was trained
                    break
                if "place" in state:
                    yield waiting(state)
                else:
                    yield await asyncio.to_thread(draw, state)
            if run.status == "paused":
                yield await asyncio.to_thread(draw, None)
        finally:
            self._runs.discard(run)
            await states.aclose()



class Trainer:
    """A tab's live run as its events handle it: the run kept while the settings are the same
    (a fresh one, the old one stopped, when they change), Play's stream, one Step, Reset and
    Pause. `kind(**settings)` builds a run; `check(settings)` gives the settings checked (or
    raises gr.Error); `draw(run, state)` gives the `shown` outputs (state None: the run as it
    is now), of which the one at `status` says when the run waits in line."""

    def __init__(self, kind: type, check: Callable[[dict], dict],
                 draw: Callable[[object, dict | None], tuple], shown: int, status: int):
        self.kind, self.check, self.draw = kind, check, draw
        self.shown, self.status = shown, status
        self.streaming = Streaming()

    def matching(self, run, checked: dict):
        settings = {k: v for k, v in checked.items() if k != "steps"}
        if (isinstance(run, self.kind)
                and {k: getattr(run.settings, k) for k in settings} == settings):
            return run
        if isinstance(run, self.kind):
            run.stop()
        return self.kind(**settings)

    async def train(self, run, settings: dict) -> AsyncIterator[tuple]:
        """The tab's run (which goes on) or, from a client, a fresh one, trained and drawn."""
        checked = self.check(settings)
        run = self.matching(run, checked)

        def waiting(state):
            return tuple(waiting_note(state) if i == self.status else gr.skip()
                         for i in range(self.shown))

        async for shown in self.streaming.frames(run, run.run(checked["steps"]),
                                                 lambda state: self.draw(run, state), waiting):
            yield shown

    def prepare(self, run, settings: dict):
        """Before Play: the tab's run, or a fresh one if the settings changed."""
        run = self.matching(run, self.check(settings))
        run.stopped = False
        return run

    def step_once(self, run, settings: dict) -> tuple:
        run = self.prepare(run, settings)
        run.step()
        return (*self.draw(run, None), run)

    def reset(self, run, settings: dict) -> tuple:
        if isinstance(run, self.kind):
            run.stop()
        run = self.matching(None, self.check(settings))
        return (*self.draw(run, None), run)

    def pause(self, run) -> tuple:
        if not isinstance(run, self.kind):
            return (gr.skip(),) * self.shown
        run.pause()
        if run in self.streaming:  # the stream draws the pause itself
            return (gr.skip(),) * self.shown
        return self.draw(run, None)
