"""One way to train live: every demo that trains a model in front of the learner (the Learning
tab's network and transformer, the recurrent networks; GANs and transfer learning to come)
trains it through `live`.

A run is anything with `steps`, `status`, `stopped`, `lock` (held while its weights change) and
`record()` (its state now, as a dict); `Playable` gives it Pause and Stop. `live` trains it in
paced frames: `train_one()` as often as fits in `share` of each frame, then a pause for the
rest, so that other visitors stay served; it yields `record()` (plus "steps_per_second"; taken
in the worker thread, under the lock) once a frame and once at the end, and stops at its step
cap, its time cap ("capped"), a divergence, or `run.stopped` (Pause, Reset, a new run). It is an
async generator: the stream's task being cancelled (the page closed, Reset pressed) ends it at
its next await, and its slot is given back.

The server-wide budget: at most SLOTS runs train at once (default: the cores this process may
use; the environment variable NP_TRAINING_SLOTS sets another). A run past it waits in line,
first come first served, and `live` yields its place in line (status "waiting", "place": 1 is
next) until a slot frees; it never fails for being late. Waiting and pausing are awaits, not
sleeping threads, so a full line takes no thread from the light endpoints (the drawings of a
digit, a softmax).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

FRAME_SECONDS = 0.15  # a frame this often while training (6 to 7 a second)...
TRAIN_SHARE = 0.4  # ...training only this share of the time, so other visitors stay served
WAIT_SECONDS = 0.5  # a waiting run says its place in line this often
# The cores this process may use (a container's limit, not the host's count).
SLOTS = max(1, int(os.environ.get("NP_TRAINING_SLOTS") or len(os.sched_getaffinity(0))))


class Playable:
    """What every live run does alike when a visitor presses Pause or starts afresh (it has
    `stopped`, `status` and `lock`, as `live` needs)."""

    def stop(self):
        """End a run in progress (in another thread) at its next frame, without a last frame:
        what it trained has been replaced."""
        self.stopped = True

    def pause(self):
        """Stop a run in progress and wait until its current chunk of steps is done, so that
        what is drawn next is where it stopped (about FRAME_SECONDS at most)."""
        self.stopped = True
        with self.lock:
            if self.status in ("training", "waiting"):
                self.status = "paused"


class Line:
    """The runs training now (at most `slots`) and those waiting, in the order they came."""

    def __init__(self, slots: int = SLOTS):
        self.slots = slots
        self._lock = threading.Lock()
        self._waiting: list[object] = []
        self._training: set[object] = set()

    def join(self) -> object:
        ticket = object()
        with self._lock:
            self._waiting.append(ticket)
        return ticket

    def place(self, ticket: object) -> int:
        """0 if this ticket's run may train (it takes a slot), else its place in line (1 is
        next)."""
        with self._lock:
            if ticket in self._training:
                return 0
            free = self.slots - len(self._training)
            index = self._waiting.index(ticket)
            if index < free:
                self._waiting.remove(ticket)
                self._training.add(ticket)
                return 0
            return index - max(free, 0) + 1

    def leave(self, ticket: object) -> None:
        with self._lock:
            self._training.discard(ticket)
            if ticket in self._waiting:
                self._waiting.remove(ticket)

    def counts(self) -> dict:
        with self._lock:
            return {"training": len(self._training), "waiting": len(self._waiting),
                    "slots": self.slots}


LINE = Line()

# torch initialises a module from its global random generator: two requests seeding it at once
# would draw each other's numbers, so every live run's seeding and building holds this lock.
SEEDING = threading.Lock()


def thinned(history: list, most: int = 400) -> list:
    """A run's history as a frame sends it: at most `most` entries, evenly spaced, the last
    always among them (a long run's would otherwise grow with every frame)."""
    stride = -(-len(history) // most)
    return history[::-1][::stride][::-1] if stride > 1 else list(history)


def _train_for(run, train_one: Callable[[], object], end: int, seconds: float) -> dict:
    """Steps until `seconds` pass, the cap, a stop or a divergence; then the run's state (in a
    worker thread: a state is an evaluation of the model, which must not hold up the server's
    event loop, and is read under the run's lock, with the weights still)."""
    start = time.perf_counter()
    with run.lock:
        while (run.status == "training" and run.steps < end and not run.stopped
               and time.perf_counter() - start < seconds):
            train_one()
        return run.record()


def _record(run) -> dict:
    with run.lock:
        return run.record()


async def live(run, steps: int, train_one: Callable[[], object], max_seconds: float,
               frame_seconds: float = FRAME_SECONDS, share: float = TRAIN_SHARE,
               line: Line = LINE) -> AsyncIterator[dict]:
    """Train `run` for up to `steps` calls of `train_one` and `max_seconds` of training (the
    wait for a slot not counted); see the module's docstring. A waiting run's states have
    status "waiting", its "place" and the line's "slots"."""
    ticket = line.join()
    before = run.status
    waiting = None  # the run's state while it waits (it does not change): evaluated once
    try:
        while (place := line.place(ticket)) > 0:
            if run.stopped:
                return
            run.status = "waiting"
            waiting = waiting or await asyncio.to_thread(_record, run)
            yield {**waiting, "place": place, "slots": line.slots}
            await asyncio.sleep(WAIT_SECONDS)
        if run.stopped:
            return
        run.status = before if before == "diverged" else "training"
        before = None
        start, first, end = time.perf_counter(), run.steps, run.steps + steps
        training_time = 0.0

        def state(record: dict) -> dict:
            rate = (run.steps - first) / training_time if training_time else 0.0
            return {**record, "steps_per_second": rate}

        while run.status == "training" and run.steps < end:
            frame_start = time.perf_counter()
            record = await asyncio.to_thread(_train_for, run, train_one, end,
                                             frame_seconds * share)
            training_time += time.perf_counter() - frame_start
            if run.stopped:
                return
            if run.status == "training" and time.perf_counter() - start > max_seconds:
                run.status = "capped"
            if run.status == "training" and run.steps < end:
                yield state(record)
                await asyncio.sleep(max(0.0, frame_seconds - (time.perf_counter() - frame_start)))
        if run.status == "training":
            run.status = "done"
        if not run.stopped:
            yield state(await asyncio.to_thread(_record, run))
    finally:
        line.leave(ticket)
        if before is not None and run.status == "waiting":  # left the line before training
            run.status = before


def iterate(states: AsyncIterator[dict]) -> Iterator[dict]:
    """`live`'s states, one by one, for code that is not async (scripts, tests). The states
    are taken on an event loop of their own in a thread of its own, so this works where the
    calling thread already runs a loop (a notebook, Playwright's sync API)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="runner.iterate", daemon=True)
    thread.start()

    def on_loop(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    try:
        while True:
            try:
                yield on_loop(anext(states))
            except StopAsyncIteration:
                return
    finally:
        on_loop(states.aclose())
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

