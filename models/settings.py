"""A demo's settings, each declared once.

A Setting says what one setting is: its name (the endpoint's keyword argument and the address's
key), its default, its label, how a value is checked (and converted), what it may be (a range or
choices, which the control shows), and how it is written in an address. A Schema is a demo's
settings in the order its endpoint takes them, and gives:
- `defaults` and `names`;
- `check(given)`: every setting checked as its own check says (ValueError with a sentence);
- `signature(...)`: the endpoint's keyword arguments, for gradio's API;
- `read(query)` and `write(values)`: the settings from and to a page's address (the browser
  writes them with `address_js`'s rules, which are the same: lists joined by commas, rows of
  numbers by semicolons).
The control itself is made from the Setting by demos/forms.py; what settings must agree with
each other (a data set and its problem) the demo's model checks after this.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# How a value is written in an address: as it is, a list (a,b,c), or rows of numbers (1,2;3,4).
PLAIN, LIST, ROWS = "plain", "list", "rows"
MAX_ADDRESS_ROWS = 1000  # rows read from an address, at most (the model caps them lower)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    label: str
    check: Callable[[Any], Any] = lambda value: value  # value -> checked value, or ValueError
    control: str = "textbox"  # slider | number | radio | dropdown | checkboxes | textbox | hidden
    range: tuple[float, float] | None = None
    step: float | None = None
    choices: Sequence = ()  # values, or (label, value) pairs
    custom: bool = False  # a dropdown that takes a typed value too
    form: str = PLAIN  # how it is written in an address
    show: Callable[[Any], Any] = lambda value: value  # a checked value, as its control shows it
    info: str | None = None

    @property
    def shown_default(self):
        """The default as its control shows it (and as an address leaves it out)."""
        return self.show(self.check(self.default))

    @functools.cached_property
    def takes_empty(self) -> bool:
        """Whether an empty value means something ("" layers: none), or is a control left
        empty, which an address leaves out (a cleared seed)."""
        try:
            self.check(self.read(""))
            return True
        except ValueError:
            return False

    def read(self, text: str):
        """This setting's value from its text in an address (checked later, as any value)."""
        if self.form == LIST:
            return [item for item in text.split(",") if item]
        if self.form == ROWS:
            rows = []
            for item in (text.split(";") if text else [])[:MAX_ADDRESS_ROWS + 1]:
                try:
                    rows.append([float(v) for v in item.split(",")])
                except ValueError:
                    rows.append(item)  # refused, with a sentence, by the setting's check
            return rows
        return text

    def write(self, value) -> str:
        """As the browser writes it (demos/forms.ADDRESS_JS): JavaScript's String()."""
        if value is None:
            return ""
        if self.form == ROWS:
            return ";".join(",".join(map(_text, row)) for row in value)
        if isinstance(value, (list, tuple)):
            return ",".join(map(_text, value))
        return _text(value)


def _text(value) -> str:
    """JavaScript's String(value), for what a control holds: true, 3 (not 3.0), 0.25, text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Schema:
    settings: tuple[Setting, ...]
    by_name: dict[str, Setting] = field(init=False, repr=False, compare=False)

    def __init__(self, *settings: Setting):
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "by_name", {s.name: s for s in settings})
        assert len(self.by_name) == len(settings), "two settings with one name"

    def __getitem__(self, name: str) -> Setting:
        return self.by_name[name]

    def __iter__(self):
        return iter(self.settings)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    @property
    def defaults(self) -> dict[str, Any]:
        return {s.name: s.default for s in self.settings}

    def values(self, **given) -> list:
        """Every setting's value in the schema's order: the defaults, and those given."""
        unknown = set(given) - set(self.by_name)
        assert not unknown, f"not settings: {sorted(unknown)}"
        return [{**self.defaults, **given}[name] for name in self.by_name]

    def named(self, values: Sequence) -> dict[str, Any]:
        """Values in the schema's order, by name."""
        return dict(zip(self.by_name, values, strict=True))

    def check(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every setting, given or default, checked by its own check: the values to use, or a
        ValueError naming what is wrong."""
        return {s.name: s.check(given.get(s.name, s.default)) for s in self.settings}

    def shown(self, checked: Mapping[str, Any]) -> dict[str, Any]:
        """Checked values as the controls show them."""
        return {name: self.by_name[name].show(v) for name, v in checked.items()}

    def read(self, query: Mapping[str, str]) -> dict[str, Any]:
        """The settings named in an address's query (?dataset=xor&seed=3), unchecked; the
        address's other keys are not settings and are left out, as are empty values of
        settings that an empty value does not suit (the rest of such a link still holds)."""
        return {k: self.by_name[k].read(v) for k, v in query.items()
                if k in self.by_name and (v or self.by_name[k].takes_empty)}

    def write(self, values: Mapping[str, Any]) -> dict[str, str]:
        """The settings (as their controls hold them) that differ from their defaults, as an
        address writes them."""
        written = {k: self.by_name[k].write(v) for k, v in values.items()}
        return {k: text for k, text in written.items()
                if text != self.by_name[k].write(self.by_name[k].shown_default)
                and (text or self.by_name[k].takes_empty)}

    def signature(self, before: Sequence[str] = (), after: Sequence[str] = ()) -> inspect.Signature:
        """An endpoint's signature: `before` (without defaults), every setting with its default,
        then `after` (defaulting to None)."""
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Signature(
            [inspect.Parameter(n, kind) for n in before]
            + [inspect.Parameter(s.name, kind, default=s.default) for s in self.settings]
            + [inspect.Parameter(n, kind, default=None) for n in after])
