"""The demos: one room per tab, each a module (or a package) named as its model code in models/.

Every demo declares itself with a Demo at the end of its module (`DEMO = Demo(...)`); app.py
builds the app from the list of them. A demo never imports another demo: what tabs share lives
in the shared modules (plots, forms, live, messages, files, gradio_internals).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Demo:
    """What a demo gives the app.

    title: the tab's name; slug: its address (the page /<slug>, and ?tab=<slug>).
    build(on_show, on_load): lays out the tab and wires its events, inside the app's Blocks.
        on_show: the events on which it first fills itself (its tab being selected, so that no
        model runs for a visitor who never looks); on_load: the page's load, for a demo that
        reads its settings from the page's address (reads_address).
    page_js: JavaScript run when any page of the app loads (a function's source), or None.
    """

    title: str
    slug: str
    build: Callable[..., object]
    page_js: str | None = None
    reads_address: bool = False

    def build_in(self, on_show: Sequence, on_load: Sequence) -> object:
        return self.build(on_show=on_show, **({"on_load": on_load} if self.reads_address
                                              else {}))
