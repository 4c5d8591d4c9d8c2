"""Attention weights: where each token looks, in every layer and head of a transformer.

    result = attentions("sentiment-minilm", "not bad at all")
    result["tokens"]   # the tokens as strings, [CLS] and [SEP] included for an encoder
    result["weights"]  # numpy array (layers, heads, T, T): row i = how token i spreads its
                       # attention over the tokens j (each row sums to 1)
    mean_over_heads(result["weights"])  # (layers, T, T)
    rollout(result["weights"])          # (layers, T, T): attention rollout through layer l

A decoder (the GPT) is *causal*: a token attends only to itself and the tokens before it, so
its maps are lower triangles. An encoder (BERT) is *bidirectional*: every token sees all.
"""

from __future__ import annotations

import numpy as np

from models import checks, registry, text
from models.lazy import no_grad, torch

MAX_TOKENS = 256  # what is shown at most: longer texts are cut, and the user is told
OVERVIEW_SIZE = 32  # a thumbnail of the overview is at most this many cells a side


def task_of(model_key) -> str:
    """The task of an allowed model key (the keys of both tasks are shown here)."""
    for task in registry.TASKS:
        if any(s.key == model_key for s in registry.available(task)):
            return task
    names = ", ".join(s.key for t in registry.TASKS for s in registry.available(t))
    raise ValueError(f"Model {model_key!r} is not available here; choose one of: {names}.")


def models() -> list[registry.ModelSpec]:
    """Every model whose attention can be shown: the sentiment encoders, then the GPTs."""
    return registry.available("sentiment") + registry.available("generation")


def shape(model_key) -> tuple[int, int]:
    """(layers, heads) of an allowed model."""
    config = registry.load(task_of(model_key), model_key).model.config
    return int(config.num_hidden_layers), int(config.num_attention_heads)


@no_grad
def attentions(model_key, text_in) -> dict:
    """Tokens and attention weights (layers, heads, T, T) of `text_in` under `model_key`."""
    task = task_of(model_key)
    t, notice = text.clean(text_in, "text", keep="start")
    loaded = registry.load(task, model_key)
    tokenizer = loaded.tokenizer
    ids = tokenizer(t)["input_ids"]
    notices = [n for n in (loaded.notice, notice) if n]
    limit = min(MAX_TOKENS, int(getattr(loaded.model.config, "max_position_embeddings",
                                        MAX_TOKENS)))
    if len(ids) > limit:
        notices.append(f"The text is {len(ids):,} tokens; only the first {limit} are shown.")
        ids = tokenizer(t, truncation=True, max_length=limit)["input_ids"]
    if len(ids) < 2:
        raise ValueError("That is a single token: attention needs at least two, so type a "
                         "few words.")
    out = loaded.model(torch.tensor([ids]), output_attentions=True)
    weights = torch.stack(out.attentions)[:, 0]  # (layers, 1, heads, T, T) -> (L, H, T, T)
    return {"tokens": text.token_strings(tokenizer, ids), "ids": ids,
            "weights": weights.float().numpy(), "causal": task == "generation",
            "model": loaded.spec.key, "notices": notices}


def mean_over_heads(weights: np.ndarray) -> np.ndarray:
    """(L, H, T, T) -> (L, T, T): each layer's heads averaged."""
    return weights.mean(axis=1)


def rollout(weights: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): how much token i draws on input token j
    through all the layers up to l. Each layer's head-averaged attention gets the residual
    connection added (A + I), its rows are renormalised to sum to 1, and the layers' matrices
    are multiplied: R_l = Â_l · Â_(l-1) · … · Â_1. Returns (L, T, T), one R_l per layer."""
    mean = mean_over_heads(weights)  # (L, T, T)
    eye = np.eye(mean.shape[-1], dtype=mean.dtype)
    out, r = [], eye
    for a in mean:
        a = a + eye
        a = a / a.sum(axis=-1, keepdims=True)
        r = a @ r
        out.append(r)
    return np.stack(out)


def pooled(matrix: np.ndarray, size: int = OVERVIEW_SIZE) -> np.ndarray:
    """A T×T map shrunk to at most size×size by averaging blocks of cells (a thumbnail)."""
    n = matrix.shape[-1]
    if n <= size:
        return matrix
    edges = np.linspace(0, n, size + 1).round().astype(int)
    rows = np.add.reduceat(matrix, edges[:-1], axis=-2) / np.diff(edges)[:, None]
    return np.add.reduceat(rows, edges[:-1], axis=-1) / np.diff(edges)[None, :]


def overview(weights: np.ndarray, size: int = OVERVIEW_SIZE) -> np.ndarray:
    """Every head of every layer as a thumbnail: (L, H, s, s) with s = min(T, size)."""
    return np.stack([[pooled(h, size) for h in layer] for layer in weights])


def select(result: dict, layer, head) -> tuple[np.ndarray, str]:
    """The (T, T) map for a layer and a head (an index, "mean" or "rollout"), and its name.
    Layers and heads are numbered from 1, as people count."""
    weights = result["weights"]
    n_layers, n_heads = weights.shape[:2]
    layer = checks.index(layer, "Layer", n_layers)
    if head in ("mean", "rollout"):
        if head == "mean":
            return mean_over_heads(weights)[layer - 1], f"layer {layer}, mean of {n_heads} heads"
        return rollout(weights)[layer - 1], f"attention rollout through layers 1–{layer}"
    head = checks.index(head, "Head", n_heads, others=' (or "mean" / "rollout")')
    return weights[layer - 1, head - 1], f"layer {layer}, head {head}"
