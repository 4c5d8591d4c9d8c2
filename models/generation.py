"""Text generation, one token at a time, with every step's probabilities in the open.

A language model is a function from the text so far to a probability for every possible next
token. Generating is a loop: run the model, turn its scores (logits) into probabilities, draw one
token, append it, repeat. How the token is drawn is up to us:

    temperature = 0.8  # divides the logits: 1 = the model's own odds, < 1 sharper, > 1 flatter;
                       # 0 = greedy, always the single most likely token
    top_k = 40         # keep only the 40 most likely tokens (0 = no limit)
    top_p = 0.9        # keep the fewest tokens whose probabilities add up to 90 % (1 = all)

The kept probabilities are renormalised to sum to 1, and one token is drawn from them.

Every function takes plain values and returns plain values (lists, dicts, floats). The loop runs
one forward pass per new token, reusing the key/value cache of the tokens before it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from models import checks, registry, text
from models.lazy import no_grad, torch

MAX_NEW_TOKENS = 400  # server-side caps on one generation: tokens
MAX_SECONDS = 30.0  # and wall-clock seconds
MAX_TOP_K = 1000
TOP_CANDIDATES = 15  # candidates reported for a chart


@dataclass(frozen=True)
class Sampling:
    temperature: float = 1.0
    top_k: int = 0  # 0: no limit
    top_p: float = 1.0  # 1: no limit


def check_sampling(temperature, top_k, top_p) -> Sampling:
    """Validated sampling settings; ValueError with what to change."""
    t = checks.number(temperature, "Temperature")
    if not 0 <= t <= 2:
        raise ValueError(f"Temperature must be between 0 and 2, not {t:g}.")
    k = checks.integer(top_k if top_k is not None else 0, "Top-k")
    if not 0 <= k <= MAX_TOP_K:
        raise ValueError(f"Top-k must be between 0 (no limit) and {MAX_TOP_K}, not {k}.")
    p = checks.number(top_p if top_p is not None else 1.0, "Top-p")
    if not 0 < p <= 1:
        raise ValueError(f"Top-p must be more than 0 and at most 1, not {p:g}.")
    return Sampling(t, k, p)


def check_budget(max_new_tokens, seed) -> tuple[int, int]:
    n = checks.integer(max_new_tokens, "The number of new tokens")
    if not 1 <= n <= MAX_NEW_TOKENS:
        raise ValueError(f"The number of new tokens must be between 1 and {MAX_NEW_TOKENS} on "
                         f"this server, not {n}.")
    s = checks.integer(seed if seed is not None else 0, "The seed")
    if not 0 <= s < 2**32:
        raise ValueError(f"The seed must be a whole number from 0 to {2**32 - 1}.")
    return n, s


def filtered(logits: torch.Tensor, sampling: Sampling) -> torch.Tensor:
    """The probabilities a token is drawn from: softmax(logits / T), then only the top-k, then
    only the top-p of those, renormalised. Temperature 0 puts all the mass on the argmax."""
    # logits: (V,)
    if sampling.temperature == 0:
        probs = torch.zeros_like(logits, dtype=torch.float32)
        probs[int(torch.argmax(logits))] = 1.0
        return probs
    probs = torch.softmax(logits.float() / sampling.temperature, dim=-1)
    if 0 < sampling.top_k < probs.numel():
        keep = torch.zeros_like(probs, dtype=torch.bool)
        keep[torch.topk(probs, sampling.top_k).indices] = True
        probs = torch.where(keep, probs, 0.0)
        probs = probs / probs.sum()
    if sampling.top_p < 1:
        sorted_p, order = torch.sort(probs, descending=True)
        before = torch.cumsum(sorted_p, 0) - sorted_p  # the mass of the tokens ahead of each
        keep_sorted = before < sampling.top_p  # the smallest set whose mass reaches p
        keep = torch.zeros_like(probs, dtype=torch.bool)
        keep[order[keep_sorted]] = True
        probs = torch.where(keep, probs, 0.0)
        probs = probs / probs.sum()
    return probs


def entropy_bits(probs: torch.Tensor) -> float:
    """How spread out a distribution is: 0 bits = certain; log2(n) = n equally likely tokens."""
    p = probs[probs > 0].double()
    return max(0.0, float(-(p * torch.log2(p)).sum()))  # never "-0.00"


def draw(probs: torch.Tensor, seed: int, step: int) -> int:
    """One token from `probs`. Each step has its own generator, seeded by (seed, step), so that
    the same seed gives the same text whether it is generated in one go or step by step."""
    if float(probs.max()) == 1.0:  # greedy, or a filter that left one token
        return int(torch.argmax(probs))
    g = torch.Generator().manual_seed(seed * 100_003 + step)
    return int(torch.multinomial(probs, 1, generator=g))


@dataclass
class Context:
    """A prompt ready for the model: its token ids (the end of it, if it was too long)."""
    loaded: registry.Loaded
    ids: list[int]
    notices: list[str]

    @property
    def window(self) -> int:  # how many tokens the model can read at once
        return int(self.loaded.model.config.max_position_embeddings)


def prepare(prompt, model_key: str | None = None) -> Context:
    """Check and tokenise a prompt for the model `model_key` (None: the bundled one)."""
    cleaned, notice = text.clean(prompt, "prompt", keep="end")
    loaded = registry.load("generation", model_key)
    notices = [n for n in (loaded.notice, notice) if n]
    ids = loaded.tokenizer(cleaned)["input_ids"]
    window = int(loaded.model.config.max_position_embeddings)
    if len(ids) > window - 1:  # leave room for at least one new token
        notices.append(f"The prompt is {len(ids):,} tokens, more than this model reads at once "
                       f"({window}): it sees only the last {window - 1}.")
        ids = ids[-(window - 1):]
    return Context(loaded, ids, notices)


@no_grad
def next_logits(context: Context, ids: list[int]) -> torch.Tensor:
    """The model's scores for the token after `ids` (one full forward pass, no cache)."""
    x = torch.tensor([ids[-context.window:]])  # (1, T)
    return context.loaded.model(x).logits[0, -1]  # (V,)


def candidates(context: Context, logits: torch.Tensor, sampling: Sampling,
               drawn: int | None = None, n: int = TOP_CANDIDATES) -> dict:
    """The n most likely next tokens, each with its probability at temperature 1 and after the
    chosen temperature / top-k / top-p; both entropies; and how many tokens the filters keep.
    The token `drawn`, if given, is always among them."""
    before = torch.softmax(logits.float(), -1)
    after = filtered(logits, sampling)
    top = torch.topk(before, min(n, before.numel())).indices.tolist()
    top += [i for i in torch.topk(after, min(n, after.numel())).indices.tolist()
            if i not in top and after[i] > 0][:3]  # a token the temperature promoted
    if drawn is not None and drawn not in top:
        top.append(drawn)
    strings = text.token_strings(context.loaded.tokenizer, top)
    return {
        "candidates": [{"id": i, "token": s, "before": float(before[i]), "after": float(after[i])}
                       for i, s in zip(top, strings)],
        "entropy_before": entropy_bits(before),
        "entropy_after": entropy_bits(after),
        "kept": int((after > 0).sum()),
        "vocabulary": int(before.numel()),
        "drawn": drawn,
    }


def next_token_distribution(prompt, temperature=1.0, top_k=0, top_p=1.0,
                            model_key: str | None = None, n: int = TOP_CANDIDATES) -> dict:
    """What the model would write next after `prompt`: see `candidates`; plus notices."""
    sampling = check_sampling(temperature, top_k, top_p)
    context = prepare(prompt, model_key)
    result = candidates(context, next_logits(context, context.ids), sampling, n=n)
    return {**result, "notices": context.notices}


def step(prompt, generated: list[int], temperature=1.0, top_k=0, top_p=1.0, seed=0,
         model_key: str | None = None, choose: int | None = None) -> dict:
    """Add one token to prompt + `generated`: drawn as `stream` would draw it at this step, or
    the token id `choose` (the learner's pick). Returns {"generated": the new list of ids,
    "probability": the probability the new token had after the filters}."""
    sampling = check_sampling(temperature, top_k, top_p)
    _, seed = check_budget(1, seed)
    context = prepare(prompt, model_key)
    generated = [checks.integer(i, "A generated token") for i in generated]
    probs = filtered(next_logits(context, context.ids + generated), sampling)
    if choose is None:
        token = draw(probs, seed, len(generated))
    else:
        token = checks.integer(choose, "The chosen token")
        if not 0 <= token < probs.numel():
            raise ValueError("That token is not in the model's vocabulary.")
    return {"generated": generated + [token], "probability": float(probs[token])}


def inspect(prompt, generated: list[int], temperature=1.0, top_k=0, top_p=1.0,
            model_key: str | None = None) -> dict:
    """Where a generation stands: "last", the distribution its last token was drawn from (with
    that token marked; None before the first token), "next", the distribution of the token to
    come (see `candidates`), and "tokens", the prompt's and the generated tokens."""
    sampling = check_sampling(temperature, top_k, top_p)
    context = prepare(prompt, model_key)
    generated = [checks.integer(i, "A generated token") for i in generated]
    ids = context.ids + generated
    last = None
    if generated:
        last = candidates(context, next_logits(context, ids[:-1]), sampling, drawn=ids[-1])
    strings = text.token_strings(context.loaded.tokenizer, ids)
    return {"last": last, "next": candidates(context, next_logits(context, ids), sampling),
            "prompt_tokens": [{"id": i, "token": t}
                              for i, t in zip(context.ids, strings[:len(context.ids)])],
            "generated_tokens": [{"id": i, "token": t}
                                 for i, t in zip(generated, strings[len(context.ids):])],
            "text": context.loaded.tokenizer.decode(generated),
            "model": context.loaded.spec.key, "notices": context.notices}


@dataclass
class Token:
    """One generated token, as the stream reports it."""
    id: int
    text: str  # the whole generated text so far (prompt excluded)
    probability: float  # the probability it had when drawn (after temperature / top-k / top-p)
    index: int
    seconds: float  # since the generation started


def stream(prompt, temperature=1.0, max_new_tokens=100, top_k=0, top_p=1.0, seed=0,
           model_key: str | None = None, max_seconds: float = MAX_SECONDS,
           context: Context | None = None) -> Iterator[Token]:
    """Generate token by token, yielding each as it comes. Stops at max_new_tokens, at the
    model's end-of-text token, after max_seconds, or when the caller stops iterating (closing
    the generator is how a Stop button ends it: no thread is left running).

    One forward pass per token: the model keeps the keys and values of every token it has read
    (the KV cache), so each step reads only the new token. When the text outgrows the model's
    window, the cache restarts from the last half-window of tokens (one full pass), and goes on."""
    sampling = check_sampling(temperature, top_k, top_p)
    max_new_tokens, seed = check_budget(max_new_tokens, seed)
    context = context or prepare(prompt, model_key)
    model, tokenizer = context.loaded.model, context.loaded.tokenizer
    eos = tokenizer.eos_token_id
    ids, generated = list(context.ids), []
    start = time.perf_counter()

    @torch.no_grad()  # per call, not around the loop: a generator's steps may run in other
    def forward(x, past=None):  # threads (gradio's workers), where grad mode is on again
        return model(torch.tensor(x), past_key_values=past, use_cache=True)

    out = forward([ids])  # logits (1, T, V)
    for index in range(max_new_tokens):
        probs = filtered(out.logits[0, -1], sampling)
        token = draw(probs, seed, index)
        if token == eos:
            return
        ids.append(token)
        generated.append(token)
        yield Token(token, tokenizer.decode(generated), float(probs[token]), index,
                    time.perf_counter() - start)
        if index + 1 == max_new_tokens or time.perf_counter() - start > max_seconds:
            return
        if len(ids) >= context.window:  # the window is full: restart it, half as long
            ids = ids[-(context.window // 2):]
            out = forward([ids])
        else:
            out = forward([[token]], out.past_key_values)  # logits (1, 1, V)
