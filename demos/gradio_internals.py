"""The two places where the app reaches into gradio's internals, written for gradio 6.31.0.

Both are there for speed alone, and are checked by tests/test_gradio_internals.py, which fails
loudly (naming what moved) when a new gradio changes what they rely on:

- `no_app_until_launch()`: gradio builds a whole FastAPI app (some 90 routes) each time a
  Blocks or one of its pages closes, and again when the queue is set, for a mounted app's
  sake; launch() then builds the one it serves. With a page per demo that is many apps nobody
  serves. While this is open, they are not built.
- `lean_sessions()`: every new session (a browser tab, or a REST call with a session_hash of its
  own, or none) made `gradio.state_holder.SessionState`, which copies the config of every
  block of the app (`config_for_block`: `get_config()` and `inspect.signature` on each of
  about a thousand blocks here: each demo is built twice, as a tab and as its page) to keep
  them for deep links, and then kept a copy of the last value of every output it served
  (figures included) for the same reason. This app has no deep-link button. A lean session
  keeps only what a session needs: its State values and the components an event replaced
  (a slider whose maximum it changed). What is kept for deep links is nothing.
"""

from __future__ import annotations

import inspect
import os
from contextlib import contextmanager

import gradio as gr
from gradio import state_holder

GRADIO_VERSION = "6.31.0"  # what this file was written against (requirements.txt pins it)
GRADIO_SESSION_STATE = state_holder.SessionState  # gradio's own, before lean_sessions()


@contextmanager
def no_app_until_launch():
    """While open, closing a Blocks (or a page) builds no FastAPI app and no config file."""
    create, config = gr.blocks.App.create_app, gr.Blocks.get_config_file
    gr.blocks.App.create_app = staticmethod(lambda *args, **kwargs: None)
    gr.Blocks.get_config_file = lambda self: None
    try:
        yield
    finally:
        gr.blocks.App.create_app, gr.Blocks.get_config_file = create, config


class LeanSessionState(state_holder.SessionState):
    """gradio's SessionState without the per-session copy of every block's config.

    `config_values` (what `components` yields, read only by the /gradio_api/deep_link route)
    starts empty and is never filled: `_update_config` and `_update_value_in_config`, which
    gradio calls after every event to keep each output's latest value there, do nothing.
    Everything else (State values, components replaced by an update) is gradio's own code."""

    def __init__(self, blocks):
        # gradio's __init__, minus config_values' comprehension over every block.
        self.blocks_config = state_holder.copy(blocks.default_config)
        self.config_values = {}
        self.state_data = {}
        self._state_ttl = {}
        self.is_closed = False
        # As gradio sets it: a closed session's state is kept an hour (a second in its tests).
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    def __setitem__(self, key, value):
        from gradio.components import State

        block = self.blocks_config.blocks.get(key)
        if isinstance(block, State):
            self._state_ttl[key] = (block.time_to_live, state_holder.datetime.datetime.now())
            self.state_data[key] = value
        else:
            self.blocks_config.blocks[key] = value

    def _update_config(self, key):
        pass

    def _update_value_in_config(self, key, value):
        pass


def lean_sessions() -> None:
    """New sessions are LeanSessionState from now on (StateHolder makes them by this name)."""
    state_holder.SessionState = LeanSessionState


def check() -> list[str]:
    """What this file relies on in gradio, as sentences for what is missing (empty: all there)."""
    problems = []
    if gr.__version__ != GRADIO_VERSION:
        problems.append(f"gradio is {gr.__version__}, this file was written for "
                        f"{GRADIO_VERSION}: re-read state_holder.py and blocks.py")
    source = inspect.getsource(state_holder.StateHolder.__getitem__)
    if "SessionState(self.blocks)" not in source:
        problems.append("StateHolder.__getitem__ no longer makes SessionState(self.blocks)")
    original = GRADIO_SESSION_STATE
    init = inspect.getsource(original.__init__)
    for name in ("blocks_config", "config_values", "state_data", "_state_ttl", "is_closed",
                 "STATE_TTL_WHEN_CLOSED"):
        if f"self.{name}" not in init:
            problems.append(f"SessionState.__init__ no longer sets {name}")
    for name in ("_update_config", "_update_value_in_config", "components", "__setitem__"):
        if not hasattr(original, name):
            problems.append(f"SessionState has no {name} any more")
    if not hasattr(gr.blocks.App, "create_app") or not hasattr(gr.Blocks, "get_config_file"):
        problems.append("App.create_app or Blocks.get_config_file is gone")
    return problems
