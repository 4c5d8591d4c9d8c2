"""What the two Shakespeare models' training scripts share: the plays, one held out, and the
learning-rate schedule."""

from __future__ import annotations

import math
from pathlib import Path


def read_plays(folder: str | Path, held_out: str) -> tuple[dict[str, str], str]:
    """({file name: text} of every play but `held_out`, in name order; the held-out play's text).
    The files are UTF-8 with a few stray bytes (see the data's README)."""
    files = sorted(Path(folder).glob("*.txt"))
    texts = {f.name: f.read_text(encoding="utf-8", errors="replace") for f in files}
    return texts, texts.pop(held_out)


def warmup_cosine(step: int, lr: float, steps: int, warmup: int) -> float:
    """The learning rate at `step`: a linear warm-up over `warmup` steps, then a cosine decay to
    a tenth of `lr` at `steps`."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
