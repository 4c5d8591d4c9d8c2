"""A demo's settings on the page: each control made from its Setting (models/settings.py), the
endpoint's keyword arguments from the Schema, and the script that writes the settings into the
page's address as they change."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
from collections.abc import Callable

import gradio as gr

from models.settings import ROWS, Schema, Setting


def control(setting: Setting, **layout) -> gr.components.Component:
    """The setting's control, at its default, with its label and its range or choices;
    `layout` adds what only the page decides (elem_id, scale, min_width, ...)."""
    common = dict(value=setting.shown_default, label=setting.label, info=setting.info, **layout)
    kind = setting.control
    if kind == "slider":
        low, high = setting.range
        return gr.Slider(low, high, step=setting.step, **common)
    if kind == "number":
        low, high = setting.range or (None, None)
        return gr.Number(minimum=low, maximum=high,
                         precision=0 if setting.step == 1 else None, **common)
    if kind == "radio":
        return gr.Radio(list(setting.choices), **common)
    if kind == "dropdown":
        return gr.Dropdown(list(setting.choices), allow_custom_value=setting.custom, **common)
    if kind == "checkboxes":
        return gr.CheckboxGroup(list(setting.choices), **common)
    if kind == "checkbox":
        return gr.Checkbox(**common)
    if kind == "hidden":
        return gr.JSON(setting.shown_default, visible=False,
                       **{k: v for k, v in layout.items() if k == "elem_id"})
    return gr.Textbox(**common)


def endpoint(schema: Schema, fn: Callable, before=(), after=("run",)) -> Callable:
    """`fn(*before, **settings, **after)` as an event's function whose keyword arguments are the
    schema's (gradio's API lists them, with their defaults): the page passes every setting's
    control in the schema's order, and a client names the ones it wants."""
    signature = schema.signature(before, after)

    def bound(args, kwargs) -> dict:
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        return arguments.arguments

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            # Closed with this stream (a page closed), not later by the garbage collector: the
            # run's slot is given back at once.
            async with contextlib.aclosing(fn(**bound(args, kwargs))) as outs:
                async for out in outs:
                    yield out
    else:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(**bound(args, kwargs))
    wrapper.__signature__ = signature
    del wrapper.__wrapped__  # the signature is the schema's, not fn's
    return wrapper


# Run in the browser whenever a setting changes: the address bar gets the whole setup (so that a
# teacher can send a link) while the demo's tab shows, and the link box shows it. The values
# arrive in the schema's order; what the address holds, and how, is Setting.write's rule.
ADDRESS_JS = """
(...values) => {
  const names = __NAMES__, defaults = __DEFAULTS__, rows = __ROWS__, slug = __SLUG__;
  const takesEmpty = __TAKES_EMPTY__;
  const shownBy = __SHOWN_BY__;
  const write = (name, v) => {
    if (v === null || v === undefined) return "";
    if (rows.includes(name)) return (v || []).map(p => p.join(",")).join(";");
    return Array.isArray(v) ? v.join(",") : String(v);
  };
  const host = document.querySelector("gradio-app[src]");
  // Built into every page that shows the demo, its controls may change while another tab shows
  // (a restore, a preset): the address is this demo's only while it is showing.
  const shown = document.querySelector(shownBy);
  const showing = !!shown && shown.getClientRects().length > 0;
  const query = new URLSearchParams(host ? "" : window.location.search);
  names.forEach((name, i) => {
    const v = write(name, values[i]);
    if (v === defaults[name] || (v === "" && !takesEmpty.includes(name))) query.delete(name);
    else query.set(name, v);
  });
  // In someone else's page (a <gradio-app src=...> web component), the link is to our server,
  // and the page's own address is left alone.
  const base = host ? host.getAttribute("src").replace(/[/]$/, "")
                    : window.location.origin + window.location.pathname;
  if (!base.endsWith("/" + slug)) query.set("tab", slug);
  const search = query.toString() ? "?" + query.toString() : "";
  if (!host && showing) window.history.replaceState(null, "", window.location.pathname + search);
  return base + search;
}
"""


def address_js(schema: Schema, slug: str, shown_by: str) -> str:
    """ADDRESS_JS for this schema: `shown_by` is a CSS selector of an element that is visible
    exactly while the demo shows."""
    defaults = {s.name: s.write(s.shown_default) for s in schema}
    return (ADDRESS_JS.replace("__NAMES__", json.dumps(list(schema.names)))
            .replace("__DEFAULTS__", json.dumps(defaults))
            .replace("__ROWS__", json.dumps([s.name for s in schema if s.form == ROWS]))
            .replace("__TAKES_EMPTY__", json.dumps([s.name for s in schema if s.takes_empty]))
            .replace("__SLUG__", json.dumps(slug)).replace("__SHOWN_BY__", json.dumps(shown_by)))
