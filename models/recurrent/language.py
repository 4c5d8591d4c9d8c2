"""Why transformers replaced recurrent networks, measured: the character-level LSTM trained here
and the GPT, both trained on the same Shakespeare, side by side.

- `score_text(text, model)`: each character's surprise (its loss in nats: -ln of the probability
  the model gave it, read from the text before it). The GPT predicts tokens of about three
  characters, so a token's loss is shared equally by its characters; the sum over the text is
  the model's own loss either way, and nats per character compare the two.
- `generate(prompt, temperature, max_new_tokens, seed)`: the LSTM continues a prompt, one
  character at a time (temperature 0 = always the most likely); `continue_with_gpt` does the
  same with the GPT, one token at a time.
- `context_curve()`: how far back each model uses context: the loss on the same characters of
  held-out text when only the last k characters before them are given.
- `step_times(lengths)`: the time of one training step (forward and backward) against the
  sequence length, for an LSTM layer (T steps, one after another) and a transformer layer
  (T positions at once), of the same width.

Which models exist is the registry's (models/registry.py: SCORERS). No gradio here; torch is
imported on first use.
"""

from __future__ import annotations

import functools
import threading
import time
import unicodedata
from pathlib import Path

from models import registry
from models.checks import choice, integer, number
from models.lazy import no_grad, torch

MAX_CHARS = 4000  # score_text reads at most this much...
MAX_BYTES = 12_000  # ...and this much UTF-8 (the GPT reads bytes: 4,000 emoji are 16,000 tokens)
MAX_PROMPT = 4000  # a prompt's last characters read
MAX_NEW = 1000  # characters (LSTM) or tokens (GPT) generated, at most
MAX_SECONDS = 30.0  # one generation, at most
MAX_TEMPERATURE = 2.0
EXCERPT = Path(__file__).resolve().parents[1] / "eval" / "julius_caesar_excerpt.txt"
CONTEXTS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # characters of context given
SCORED = 8  # ... before this many scored characters
TAIL = 24  # ... read on past them, so that the GPT's last token is not cut short: a token's
# loss comes from the text before it only, and a word cut in two is a rare token the GPT would
# be wrongly surprised by
POSITIONS = 24  # ... at this many places of the excerpt
TIMED_LENGTHS = (16, 32, 64, 128, 256, 512)
TIMING_WIDTH, TIMING_BATCH = 256, 8

MODELS = tuple(registry.SCORERS)
_lock = threading.Lock()


def check_model(model) -> str:
    return choice(model, "model", registry.SCORERS)


def check_text(text, what: str = "text", limit: int = MAX_CHARS, keep: str = "start"
               ) -> tuple[str, str | None]:
    """The text to read, checked before any work: a string, not empty, at most `limit`
    characters and MAX_BYTES bytes of UTF-8 once normalised (a prompt keeps its end, with a
    notice; a text to score is refused). Control characters (but newline and tab) are dropped
    and the text is normalised to NFC."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ValueError(f"Type some {what} first: it is empty.")
    if not isinstance(text, str):
        raise ValueError(f"The {what} must be a string, not {type(text).__name__}.")
    notice = None
    if len(text) > limit:  # cut before normalising (which can lengthen a text threefold)...
        if keep == "start":
            raise ValueError(f"The {what} is {len(text):,} characters; at most {limit:,} are "
                             "read: paste a shorter passage.")
        text = text[-limit:]
        notice = f"The {what} was longer than {limit:,} characters: the last {limit:,} were read."
    text = "".join(c for c in unicodedata.normalize("NFC", text)
                   if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    size = len(text.encode("utf-8", "replace"))
    if len(text) > limit or size > MAX_BYTES:  # ...and after
        if keep == "start":
            raise ValueError(f"The {what} is {len(text):,} characters, {size:,} bytes of "
                             f"UTF-8; at most {limit:,} characters and {MAX_BYTES:,} bytes are "
                             "read: paste a shorter passage.")
        while len(text) > limit or len(text.encode("utf-8", "replace")) > MAX_BYTES:
            text = text[len(text) // 4:]
        notice = f"The {what} was too long: its last {len(text):,} characters were read."
    if not text.strip():
        raise ValueError(f"Type some {what} first: it has only control characters.")
    return text, notice


def lstm():
    """The shipped LSTM, loaded once (safetensors; its config and vocabulary beside it)."""
    with _lock:
        return _lstm()


@functools.cache
def _lstm():
    from models.recurrent import char_lstm
    folder = Path(registry.scorer_source("shakespeare-lstm"))
    if not (folder / "model.safetensors").exists():
        raise ValueError("The LSTM's weights are missing from this server "
                         "(models/weights/shakespeare-lstm): models/training/"
                         "train_shakespeare_lstm.py makes them.")
    return char_lstm.from_folder(folder)


def gpt():
    """(model, tokenizer) of the shipped GPT, as the registry loads it."""
    loaded = registry.load("generation", "shakespeare-gpt")
    return loaded.model, loaded.tokenizer


# -- scoring ------------------------------------------------------------------------------------


@no_grad
def _lstm_nats(text: str) -> list[float]:
    from models.recurrent.char_lstm import START
    model = lstm()
    ids = torch.tensor([model.encode(START + text)])  # (1, T + 1)
    logits, _ = model(ids[:, :-1])  # (1, T, vocab)
    return torch.nn.functional.cross_entropy(logits[0], ids[0, 1:], reduction="none").tolist()


def _start(tokenizer) -> list[int]:
    """What the GPT reads before a text: a newline, as the LSTM (char_lstm.START)."""
    from models.recurrent.char_lstm import START
    return tokenizer(START, add_special_tokens=False)["input_ids"]


@no_grad
def gpt_token_losses(text: str) -> tuple[list[tuple[int, int]], list[float]]:
    """The GPT's loss on each token of `text`, read after a newline (as the LSTM reads it: the
    GPT's end-of-text token would tell it that a new play starts, and it was trained on
    windows that start anywhere), with each token's character span: every token is predicted,
    the first too.
    Longer than its window of 256 tokens, it reads in windows sliding by half a window, each
    token scored once with at least half a window before it."""
    model, tokenizer = gpt()
    encoded = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    ids = _start(tokenizer) + encoded["input_ids"]
    window = int(model.config.max_position_embeddings)
    stride = window // 2
    ids_t = torch.tensor(ids)
    losses: list[float] = []
    for start in range(0, len(ids) - 1, stride):
        end = min(start + window, len(ids) - 1)
        x = ids_t[start:end][None]  # (1, T)
        logits = model(x, attention_mask=torch.ones_like(x)).logits[0]  # (T, vocab)
        new = torch.nn.functional.cross_entropy(logits, ids_t[start + 1:end + 1],
                                                reduction="none")
        losses += new[len(losses) - start:].tolist()  # only the tokens not scored yet
        if end == len(ids) - 1:
            break
    return [tuple(span) for span in encoded["offset_mapping"]], losses


def _gpt_nats(text: str) -> list[float]:
    """Each character's share of its token's loss (a character split over several tokens, an
    emoji's bytes, takes a share of each)."""
    spans, losses = gpt_token_losses(text)
    nats = [0.0] * len(text)
    last = 0
    for (start, end), loss in zip(spans, losses):
        if end <= start:  # a token with no span of its own: its loss goes to the last character
            nats[max(0, last - 1)] += loss
            continue
        for i in range(start, end):
            nats[i] += loss / (end - start)
        last = end
    return nats


def score_text(text, model="shakespeare-lstm") -> dict:
    """{"model", "nats_per_char", "chars": [[character, nats], ...], "n_chars"}: each character's
    surprise under `model`, and their mean."""
    model = check_model(model)
    text, _ = check_text(text)
    nats = _lstm_nats(text) if model == "shakespeare-lstm" else _gpt_nats(text)
    return {"model": model, "nats_per_char": sum(nats) / len(text),
            "chars": [[c, n] for c, n in zip(text, nats)], "n_chars": len(text)}


# -- generation ----------------------------------------------------------------------------------


def check_sampling(temperature, max_new_tokens, seed) -> tuple[float, int, int]:
    return (number(temperature, "Temperature", 0.0, MAX_TEMPERATURE),
            integer(max_new_tokens, "New characters", 1, MAX_NEW),
            integer(seed, "Seed", 0, 2 ** 31 - 1))


def _pick(logits, temperature: float, generator) -> int:
    """The next index: the most likely at temperature 0, else drawn from softmax(logits / T)."""
    if temperature == 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / temperature, -1)
    return int(torch.multinomial(probs, 1, generator=generator))


def generate(prompt, temperature=0.8, max_new_tokens=200, seed=0):
    """The LSTM continues `prompt`: yields the continuation so far, a character at a time (the
    prompt read once; then one step of the LSTM per character, its state carried)."""
    prompt, _ = check_text(prompt, "prompt", MAX_PROMPT, keep="end")
    temperature, n, seed = check_sampling(temperature, max_new_tokens, seed)
    return _generate(prompt, temperature, n, seed)


def _generate(prompt: str, temperature: float, n: int, seed: int):
    from models.recurrent.char_lstm import START
    model = lstm()
    generator = torch.Generator().manual_seed(seed)
    ids = torch.tensor([model.encode(START + prompt)])  # (1, T)
    # No graph: a state carried from step to step would otherwise keep every step's graph.
    # (Inside the body: a decorator would leave the generator's own steps with autograd on.)
    with torch.no_grad():
        logits, state = model(ids)
    out, start = [], time.perf_counter()
    for _ in range(n):
        index = _pick(logits[0, -1], temperature, generator)
        out.append(model.config.vocab[index] if index else "�")
        yield "".join(out)
        if time.perf_counter() - start > MAX_SECONDS:
            return
        with torch.no_grad():
            logits, state = model(torch.tensor([[index]]), state)


def continue_with_gpt(prompt, temperature=0.8, max_new_tokens=200, seed=0):
    """The GPT continues `prompt`: yields the continuation so far, a token at a time, until it
    has `max_new_tokens` characters (so that both models write as much)."""
    prompt, _ = check_text(prompt, "prompt", MAX_PROMPT, keep="end")
    temperature, n, seed = check_sampling(temperature, max_new_tokens, seed)
    return _gpt_generate(prompt, temperature, n, seed)


def _gpt_generate(prompt: str, temperature: float, n: int, seed: int):
    model, tokenizer = gpt()
    window = int(model.config.max_position_embeddings)
    ids = _start(tokenizer) + tokenizer(prompt, add_special_tokens=False)["input_ids"]
    generator = torch.Generator().manual_seed(seed)
    new, start = [], time.perf_counter()
    for _ in range(n):
        x = torch.tensor([(ids + new)[-window:]])  # (1, T)
        with torch.no_grad():
            logits = model(x, attention_mask=torch.ones_like(x)).logits[0, -1]
        new.append(_pick(logits, temperature, generator))
        text = tokenizer.decode(new)
        yield text[:n]
        if len(text) >= n or time.perf_counter() - start > MAX_SECONDS:
            return


def held_out() -> dict:
    """Both models' loss on the whole held-out play (Julius Caesar, never trained on), in nats
    per character, as their training scripts measured it (training_log.json beside each)."""
    import json
    figures = {}
    for key, field in (("shakespeare-gpt", "final_val_nats_per_char"),
                       ("shakespeare-lstm", "held_out_nats_per_char")):
        log = json.loads((Path(registry.scorer_source(key)) / "training_log.json").read_text())
        figures[key] = {"nats_per_char": log[field], "parameters": log["parameters"],
                        "train_seconds": log["train_seconds"]}
    return figures


def facts() -> dict:
    """What the tab says about the two models, read from their configs and training logs (json
    only: no weights loaded)."""
    import json
    lstm_dir, gpt_dir = (Path(registry.scorer_source(k)) for k in MODELS[::-1])
    lstm_config = json.loads((lstm_dir / "config.json").read_text())
    gpt_config = json.loads((gpt_dir / "config.json").read_text())
    gpt_log = json.loads((gpt_dir / "training_log.json").read_text())
    return {"lstm_layers": lstm_config["n_layer"], "lstm_hidden": lstm_config["n_hidden"],
            "lstm_vocab": len(lstm_config["vocab"]), "gpt_layers": gpt_config["n_layer"],
            "gpt_width": gpt_config["n_embd"], "gpt_chars_per_token": gpt_log["chars_per_token"]}


def excerpt(n: int = 600) -> str:
    """The start of the shipped held-out excerpt of Julius Caesar."""
    return EXCERPT.read_text(encoding="utf-8")[:n]


# -- how far back, how fast ----------------------------------------------------------------------


def context_curve() -> dict:
    """`_context_curve()`, measured once per server (two first requests at once wait for one
    measurement)."""
    with _curve_lock:
        return _context_curve()


_curve_lock = threading.Lock()


@functools.cache
def _context_curve() -> dict:
    """For each k in CONTEXTS: the mean loss (nats per character) of both models on the same
    SCORED characters at POSITIONS places of the shipped held-out excerpt of Julius Caesar, given
    only the k characters before them (each window read afresh, from its start)."""
    text = EXCERPT.read_text(encoding="utf-8")
    last = len(text) - SCORED - TAIL
    places = [CONTEXTS[-1] + i * (last - CONTEXTS[-1]) // (POSITIONS - 1)
              for i in range(POSITIONS)]
    curve = {"contexts": list(CONTEXTS), "scored": SCORED, "positions": POSITIONS,
             "shakespeare-lstm": [], "shakespeare-gpt": []}
    for k in CONTEXTS:
        for key, nats in (("shakespeare-lstm", _lstm_nats), ("shakespeare-gpt", _gpt_nats)):
            losses = [sum(nats(text[p - k:p + SCORED + TAIL])[k:k + SCORED]) / SCORED
                      for p in places]
            curve[key].append(sum(losses) / len(losses))
    return curve


def step_times(lengths=TIMED_LENGTHS, repeats: int = 3) -> dict:
    """Seconds per training step (forward and backward, batch TIMING_BATCH, width TIMING_WIDTH)
    against the sequence length T: one LSTM layer, which must take its T steps one after another,
    and one transformer layer (causal self-attention and an MLP), whose T positions are computed
    together; the median of `repeats`. Sequential steps per layer: T against 1."""
    nn, W, B = torch.nn, TIMING_WIDTH, TIMING_BATCH
    recurrent = nn.LSTM(W, W, batch_first=True)
    attention = nn.TransformerEncoderLayer(W, 4, 4 * W, dropout=0.0, batch_first=True)

    def lstm_step(x):
        recurrent(x)[0].sum().backward()

    def transformer_step(x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        attention(x, src_mask=mask, is_causal=True).sum().backward()

    result = {"lengths": list(lengths), "lstm": [], "transformer": [], "batch": B, "width": W,
              "threads": torch.get_num_threads()}
    for T in lengths:
        x = torch.randn(B, T, W)
        for name, fn in (("lstm", lstm_step), ("transformer", transformer_step)):
            fn(x)  # warm up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                fn(x)
                times.append(time.perf_counter() - start)
            result[name].append(sorted(times)[len(times) // 2])
    result["parameters"] = {"lstm": sum(p.numel() for p in recurrent.parameters()),
                            "transformer": sum(p.numel() for p in attention.parameters())}
    return result
