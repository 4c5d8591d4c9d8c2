"""`torch`, imported on first use rather than when the app starts.

Importing torch takes about a second and a half here, and the app's start-up does not need it:
only a request does. The model modules write `from models.lazy import torch` and use it as
usual; the first attribute looked up (`torch.tensor`, `torch.no_grad`, ...) imports the real
module. Module-level code must not touch it: decorate with `@no_grad` (below), not with
`@torch.no_grad()`, which would import torch as the module loads.
"""

from __future__ import annotations

import functools
import importlib


class _Lazy:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)  # later lookups find it at once (a training loop makes many)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


torch = _Lazy("torch")


def no_grad(fn):
    """`@torch.no_grad()` that imports torch only when `fn` is first called."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with torch.no_grad():
            return fn(*args, **kwargs)

    return wrapper
