"""Which language models exist, for each task, and loading them. The one place that decides.

The bundled models (trained here, shipped in models/weights/) always exist. Hub checkpoints are
an option the *server* enables, never the user:

    NP_HUB_MODELS=1   allow the Hub checkpoints below (default: on when SPACE_ID is set, as on a
                      Hugging Face Space; off everywhere else)
    NP_HUB_MODELS=0   never, even on a Space

Users pick a key from `available(task)`; anything else is refused. Models load lazily on first
use and stay cached. If a Hub checkpoint cannot be loaded (no network, a failed download), the
default bundled model of the same task is used instead and the result carries a notice saying so.
Weights load from safetensors only, and no remote code ever runs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

WEIGHTS = Path(__file__).parent / "weights"
TASKS = ("generation", "sentiment")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    key: str  # what a user chooses, and what the API accepts
    task: str
    source: str  # a folder in the repo, or a Hub id
    bundled: bool
    description: str


# The bundled models of each task, the default first.
BUNDLED = {
    "generation": [ModelSpec(
        "shakespeare-gpt", "generation", str(WEIGHTS / "shakespeare-gpt"), True,
        "Bundled: a 5.9M-parameter GPT-2 trained here on Shakespeare's plays")],
    "sentiment": [
        ModelSpec("sentiment-minilm", "sentiment", str(WEIGHTS / "sentiment-minilm"), True,
                  "Bundled: all-MiniLM-L6-v2 (22.7M parameters, pretrained), fine-tuned here "
                  "on human-rated sentences"),
        ModelSpec("sentiment-encoder", "sentiment", str(WEIGHTS / "sentiment-encoder"), True,
                  "Bundled: a 5.3M-parameter transformer encoder trained here from scratch on "
                  "the same sentences"),
    ],
}
HUB = {
    "generation": [
        ModelSpec("gpt2", "generation", "openai-community/gpt2", False,
                  "GPT-2 (124M parameters, OpenAI), from the Hugging Face Hub"),
        ModelSpec("distilgpt2", "generation", "distilbert/distilgpt2", False,
                  "DistilGPT2 (82M parameters), from the Hugging Face Hub"),
    ],
    "sentiment": [
        ModelSpec("distilbert-sst2", "sentiment",
                  "distilbert/distilbert-base-uncased-finetuned-sst-2-english", False,
                  "DistilBERT fine-tuned on SST-2 (67M parameters), from the Hugging Face Hub"),
    ],
}

# The models that score a text character by character (the Recurrent networks tab): the GPT
# above, and a character-level LSTM trained here on the same plays (not a transformers model:
# models/recurrent/char_lstm.py loads it, from safetensors).
SCORERS = {
    "shakespeare-gpt": str(WEIGHTS / "shakespeare-gpt"),
    "shakespeare-lstm": str(WEIGHTS / "shakespeare-lstm"),
}


def scorer_source(key: str) -> str:
    if key not in SCORERS:
        raise ValueError(f"Model {key!r} is not available; choose one of {', '.join(SCORERS)}.")
    return SCORERS[key]


def hub_enabled() -> bool:
    """The server's choice: NP_HUB_MODELS, else on a Hugging Face Space only."""
    setting = os.environ.get("NP_HUB_MODELS", "").strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off"):
        return False
    return bool(os.environ.get("SPACE_ID"))


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; tasks are {', '.join(TASKS)}.")


def available(task: str) -> list[ModelSpec]:
    """The models a user may choose for a task, the bundled ones first."""
    _check_task(task)
    return BUNDLED[task] + (HUB[task] if hub_enabled() else [])


def default(task: str) -> str:
    return BUNDLED[task][0].key


def spec(task: str, key: str | None) -> ModelSpec:
    """The allowed model called `key` (None: the default); ValueError for anything else."""
    if key is None:
        return BUNDLED[task][0]
    for candidate in available(task):
        if candidate.key == key:
            return candidate
    names = ", ".join(s.key for s in available(task))
    raise ValueError(f"Model {key!r} is not available here; choose one of: {names}.")


@dataclass
class Loaded:
    spec: ModelSpec  # the model actually loaded (the bundled one after a fallback)
    model: object
    tokenizer: object
    notice: str | None = None  # set when the requested model could not be loaded


_cache: dict[tuple[str, str], Loaded] = {}
_failed: dict[tuple[str, str], tuple[float, str]] = {}  # Hub key -> (when, notice)
_lock = threading.Lock()
# After a Hub checkpoint fails to load, requests use the bundled model for this long before the
# Hub is tried again, so that every request does not pay for a failing download.
RETRY_SECONDS = 300


def _from_pretrained(s: ModelSpec):
    # Imported here so that importing this module (and starting the app) stays fast.
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    cls = AutoModelForCausalLM if s.task == "generation" else AutoModelForSequenceClassification
    # Eager attention: the default (SDPA) returns no attention weights, and we show them.
    # float32 whatever the file holds (some ship as float16, to be small): CPUs compute in it.
    model = cls.from_pretrained(s.source, attn_implementation="eager", use_safetensors=True,
                                trust_remote_code=False, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(s.source, trust_remote_code=False)
    return model.eval(), tokenizer


def _cached(s: ModelSpec) -> Loaded:
    """Load `s` once and keep it; the caller holds the lock."""
    if (s.task, s.key) not in _cache:
        _cache[(s.task, s.key)] = Loaded(s, *_from_pretrained(s))
    return _cache[(s.task, s.key)]


def load(task: str, key: str | None = None) -> Loaded:
    """Load (once) and return the model `key` for `task`, falling back to the bundled model."""
    _check_task(task)
    s = spec(task, key)
    with _lock:  # two first requests at once must not load the same model twice
        if s.bundled:
            return _cached(s)
        failed = _failed.get((task, s.key))
        if failed is None or time.monotonic() - failed[0] > RETRY_SECONDS:
            try:
                loaded = _cached(s)
                _failed.pop((task, s.key), None)
                return loaded
            except Exception as e:  # any failure to fetch or read a Hub checkpoint
                log.warning("could not load %s (%s); using the bundled model", s.source, e)
                failed = (time.monotonic(), f"{s.source} could not be loaded here "
                                            f"({type(e).__name__}); showing the bundled model "
                                            "instead.")
                _failed[(task, s.key)] = failed
        bundled = _cached(BUNDLED[task][0])
        return Loaded(bundled.spec, bundled.model, bundled.tokenizer, notice=failed[1])


_tokenizers: dict[str, object] = {}


def tokenizer(key: str):
    """The tokenizer alone of an allowed model `key` (of any task), loaded once: light, no
    weights. ValueError for a key that is not allowed, or a Hub tokenizer that cannot load."""
    for task in TASKS:
        for s in available(task):
            if s.key == key:
                with _lock:
                    if key not in _tokenizers:
                        from transformers import AutoTokenizer

                        try:
                            _tokenizers[key] = AutoTokenizer.from_pretrained(
                                s.source, trust_remote_code=False)
                        except Exception as e:  # a Hub tokenizer offline, a failed download
                            raise ValueError(f"The {key} tokenizer could not be loaded here "
                                             f"({type(e).__name__}).") from None
                    return _tokenizers[key]
    names = ", ".join(s.key for t in TASKS for s in available(t))
    raise ValueError(f"Tokenizer {key!r} is not available here; choose one of: {names}.")


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _failed.clear()
        _tokenizers.clear()
