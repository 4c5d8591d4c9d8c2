"""The one place that turns a sentence into a message a visitor sees: an error (gr.Error) or a
warning (gr.Warning).

gradio renders both as HTML (after its own cleaning, which keeps links and forms), and many
sentences quote what a client sent: a preset's name, a setting read from the page's address, a
value a component refuses. So every message is escaped once, with escaped(): warnings here, and
every error, ours and gradio's own, where gradio turns it into what the client receives
(demos/gradio_internals.escaped_errors, installed by app.py). `<a href=...>` arrives as text,
never as a link on our page. Models raise ValueError with a sentence saying what to do; a
handler calls fail(e).
"""

from __future__ import annotations

import html
from typing import NoReturn

import gradio as gr


def escaped(text) -> str:
    """The text as it should read, safe to render as HTML."""
    return html.escape(str(text), quote=False)


def fail(e: Exception | str) -> NoReturn:
    """Refuse the request with the exception's sentence (or a sentence)."""
    raise gr.Error(str(e)) from None


def warn(text: str) -> None:
    """A warning beside the answer (the request goes on), escaped."""
    gr.Warning(escaped(text))
