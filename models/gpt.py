"""Inside a GPT: one forward pass, opened up, read from the model itself.

    t = trace("shakespeare-gpt", "ROMEO.\\nBut soft")
    t["tokens"], t["ids"]                      # T tokens
    t["token_embedding"], t["position_embedding"], t["input"]   # (T, C) each: wte + wpe = input
    b = t["blocks"][0]                         # block 1, a dict of arrays:
    b["ln_1"]                                  # (T, C)  LayerNorm before attention
    b["q"], b["k"], b["v"]                     # (H, T, d) per head, d = C / H
    b["scores"], b["mask"], b["attention"]     # (H, T, T) q·kᵀ/√d; (T, T) True = may look;
                                               # (H, T, T) softmax of the masked scores
    b["heads"]                                 # (H, T, d) each head's weighted sum of V
    b["attn_out"], b["resid_attn"]             # (T, C) the output projection; the residual
    b["ln_2"], b["mlp_pre"], b["mlp_post"]     # (T, C); (T, 4C) before and after GELU
    b["mlp_out"], b["resid_mlp"]               # (T, C) the down-projection; the residual
    t["ln_f"], t["logits"], t["probs"]         # (T, C); (T, V); (T, V)

Every array is what the model's own modules computed in this forward pass, caught by hooks on
them (`register_forward_hook`), not the output of a second implementation that could drift
from it. One product is formed here: the scores q·kᵀ, scaled by the attention module's own
`scaling`, since transformers' eager attention adds the mask and takes the softmax in one
function that no hook can open; the tests check that their masked softmax is the model's own
attention (`output_attentions`) to 1e-6.

The logit lens (nostalgebraist 2020) reads the residual stream in the middle of the model with
the model's own end: its final LayerNorm and its unembedding. Knock-outs zero one part (a head's
output, a block's MLP, the position embeddings) in a second copy of the input, in the same
forward pass as the untouched one.

Any GPT-2-family model that the registry allows works here (the bundled GPT, and GPT-2 and
DistilGPT2 where the server enables the Hub); layers, heads and positions count from 1.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

from models import activations, checks, registry, text
from models.lazy import no_grad, torch

MAX_TOKENS = 256  # what is shown at most (the bundled GPT's whole context): longer texts are cut
TOP = 10  # next-token candidates reported
PARTS = ("head", "mlp", "positions")  # what can be knocked out

# The course notes' categories of weights (the GPT-3 table), then the rest, as rows of their own.
CATEGORIES = ("Embedding", "Key", "Query", "Value", "Output", "Up-projection", "Down-projection",
              "Unembedding")
OTHERS = ("Position embeddings", "LayerNorms", "Biases")
# GPT-3 175B as published (Brown et al. 2020, table 2.1): 96 layers, d_model 12,288, 96 heads of
# 128, the MLP 4 × 12,288 wide, GPT-2's vocabulary of 50,257 tokens, 2,048 positions.
GPT3 = dict(n_layer=96, d_model=12_288, n_head=96, d_head=128, d_mlp=49_152, vocab=50_257,
            n_ctx=2_048, tied=False)
GPT2_SMALL_NAME = "GPT-2 small (124M)"


# -- models and inputs ----------------------------------------------------------------------

def models() -> list[registry.ModelSpec]:
    """The GPTs a user may open: the registry's generation models (all GPT-2 family)."""
    return registry.available("generation")


def load(model_key) -> registry.Loaded:
    """An allowed GPT-2-family model (None or "": the bundled one); ValueError otherwise."""
    if model_key is not None and not isinstance(model_key, str):
        raise ValueError("The model must be one of the names in the list, as text.")
    loaded = registry.load("generation", model_key or None)
    if getattr(loaded.model.config, "model_type", None) != "gpt2":
        raise ValueError(f"{loaded.spec.key} is not a GPT-2-family model; this tab opens only "
                         "those.")
    return loaded


# Layers and heads of the Hub's GPTs, as published: a slider's maximum is fixed when the app is
# built (before any model loads), and gradio refuses an API value past it.
HUB_SHAPES = {"gpt2": (12, 12), "distilgpt2": (6, 12)}


def most_layers_and_heads() -> tuple[int, int]:
    """The most layers and heads among the GPTs offered here, read without loading any."""
    shapes = []
    for s in models():
        if s.bundled:
            config = json.loads((Path(s.source) / "config.json").read_text())
            shapes.append((int(config["n_layer"]), int(config["n_head"])))
        else:
            shapes.append(HUB_SHAPES.get(s.key, (48, 25)))  # GPT-2 XL's, the largest GPT-2
    return max(n for n, _ in shapes), max(h for _, h in shapes)


def shape(model_key) -> dict:
    """The sizes a picker needs: layers, heads, head width, width, vocabulary, context."""
    c = load(model_key).model.config
    return {"layers": int(c.n_layer), "heads": int(c.n_head), "d_head": int(c.n_embd // c.n_head),
            "width": int(c.n_embd), "vocabulary": int(c.vocab_size),
            "context": min(MAX_TOKENS, int(c.n_positions))}


def prepare(model_key, text_in) -> tuple[registry.Loaded, list[int], list[str]]:
    """(the model, the text's token ids, notices); the text is cut to the model's context."""
    cleaned, notice = text.clean(text_in, "text", keep="start")
    loaded = load(model_key)
    ids = loaded.tokenizer(cleaned)["input_ids"]
    notices = [n for n in (loaded.notice, notice) if n]
    if len(cleaned) < len(text_in[:text.MAX_CHARS]) and any(
            unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in text_in):
        notices.append("Control characters (invisible codes such as NUL) were removed.")
    limit = min(MAX_TOKENS, int(loaded.model.config.n_positions))
    if len(ids) > limit:
        notices.append(f"The text is {len(ids):,} tokens; the model reads {limit} at most, so "
                       f"only the first {limit} are shown.")
        ids = ids[:limit]
    if not ids:
        raise ValueError("That text makes no tokens: type a few words.")
    return loaded, ids, notices


# -- the forward pass, with hooks -----------------------------------------------------------

# The hooks stay on a model once installed (every tab shares one copy of it, across threads) and
# act only in the thread whose request asked: this thread's recorder and knock-out live here.
# Hooks added and removed per request would fire in the other requests that run the same model
# meanwhile (a generation, an attention map), and record or break what is theirs.
_local = threading.local()
_install_lock = threading.Lock()


def _recording():
    return getattr(_local, "seen", None)


def _knocking(part: str, layer: int | None = None):
    """This thread's knock-out if it is of `part` (in block `layer`, counted from 0)."""
    knock = getattr(_local, "knock", None)
    if knock is None or knock[0] != part or (layer is not None and knock[1] - 1 != layer):
        return None
    return knock


def _install(model) -> None:
    """Hooks on every module of interest: they record batch row 0, and zero one part of row 1
    when this thread knocks it out. Installed once per model."""
    with _install_lock:
        if getattr(model, "_inside_hooks", False):
            return

        def out(name):
            def hook(module, args, output):
                if (seen := _recording()) is not None:
                    seen[name] = (output[0] if isinstance(output, tuple) else output)[0].detach()
            return hook

        def inp(name):
            def hook(module, args):
                if (seen := _recording()) is not None:
                    seen[name] = args[0][0].detach()
            return hook

        tr = model.transformer
        d = model.config.n_embd // model.config.n_head

        def positions_in(module, args, output):  # wpe: kept for the knock-out below
            if _knocking("positions"):
                _local.wpe = output

        def positions_out(module, args, output):  # drop's input is wte + wpe: take wpe out
            if _knocking("positions"):
                output = output.clone()
                output[1] = output[1] - _local.wpe.reshape(output.shape[1:])
                return output

        tr.wte.register_forward_hook(out("wte"))
        tr.wpe.register_forward_hook(out("wpe"))
        tr.wpe.register_forward_hook(positions_in)
        tr.drop.register_forward_hook(out("input"))
        tr.drop.register_forward_hook(positions_out)
        tr.ln_f.register_forward_hook(out("ln_f"))
        for i, block in enumerate(tr.h):
            def zero_head(module, args, i=i):  # the head's slice of what c_proj reads: (B, T, C)
                if knock := _knocking("head", i):
                    x = args[0].clone()
                    x[1, :, (knock[2] - 1) * d:knock[2] * d] = 0
                    return (x, *args[1:])

            def zero_mlp(module, args, output, i=i):
                if _knocking("mlp", i):
                    output = output.clone()
                    output[1] = 0
                    return output

            block.ln_1.register_forward_hook(out(f"{i}.ln_1"))
            block.attn.c_attn.register_forward_hook(out(f"{i}.qkv"))
            block.attn.c_proj.register_forward_pre_hook(inp(f"{i}.heads"))
            block.attn.c_proj.register_forward_pre_hook(zero_head)
            block.attn.c_proj.register_forward_hook(out(f"{i}.attn_out"))
            block.ln_2.register_forward_pre_hook(inp(f"{i}.resid_attn"))
            block.ln_2.register_forward_hook(out(f"{i}.ln_2"))
            block.mlp.c_fc.register_forward_hook(out(f"{i}.mlp_pre"))
            block.mlp.act.register_forward_hook(out(f"{i}.mlp_post"))
            block.mlp.register_forward_hook(out(f"{i}.mlp_out"))
            block.mlp.register_forward_hook(zero_mlp)
            block.register_forward_hook(out(f"{i}.resid_mlp"))
        model._inside_hooks = True


@contextmanager
def _hooks(model, knock=None, record=True):
    """While open, this thread's forward passes of `model` record what its modules computed
    (batch row 0, into the dict yielded) and zero `knock` = (part, layer, head) in row 1."""
    _install(model)
    _local.seen, _local.knock = ({} if record else None), knock
    try:
        yield _local.seen
    finally:
        _local.seen = _local.knock = _local.wpe = None


def _run(model, ids: list[int], attentions: bool = True):
    """One forward pass of `ids`, recorded."""
    with _hooks(model) as seen:
        out = model(torch.tensor([ids]), output_attentions=attentions, use_cache=False)
    return out, seen


@no_grad
def trace_model(model, tokenizer, ids: list[int]) -> dict:
    """Every step of one forward pass of `ids` through a GPT-2 model, as numpy arrays."""
    out, seen = _run(model, ids)
    c = model.config
    T, C, H = len(ids), int(c.n_embd), int(c.n_head)
    d = C // H

    def a(t):
        return t.float().numpy()

    def per_head(t):  # (T, C) -> (H, T, d)
        return t.reshape(T, H, d).transpose(0, 1)

    mask = torch.ones(T, T).tril().bool()  # True: token i may look at token j (j <= i)
    blocks = []
    for i, block in enumerate(model.transformer.h):
        q, k, v = seen[f"{i}.qkv"].split(C, dim=-1)  # (T, 3C) -> 3 × (T, C), as the model splits
        q, k, v = per_head(q), per_head(k), per_head(v)
        scores = (q @ k.transpose(-1, -2)) * block.attn.scaling  # (H, T, T): q·kᵀ/√d
        blocks.append({
            "ln_1": a(seen[f"{i}.ln_1"]), "q": a(q), "k": a(k), "v": a(v),
            "scores": a(scores), "attention": a(out.attentions[i][0]),  # (H, T, T)
            "heads": a(per_head(seen[f"{i}.heads"])), "attn_out": a(seen[f"{i}.attn_out"]),
            "resid_attn": a(seen[f"{i}.resid_attn"]), "ln_2": a(seen[f"{i}.ln_2"]),
            "mlp_pre": a(seen[f"{i}.mlp_pre"]), "mlp_post": a(seen[f"{i}.mlp_post"]),
            "mlp_out": a(seen[f"{i}.mlp_out"]), "resid_mlp": a(seen[f"{i}.resid_mlp"]),
        })
    logits = out.logits[0].float()  # (T, V)
    wpe = seen["wpe"].reshape(-1, C)[-T:]  # (1, T, C) or (T, C) -> (T, C)
    return {
        "ids": list(ids), "tokens": text.token_strings(tokenizer, ids),
        "token_embedding": a(seen["wte"]), "position_embedding": a(wpe), "input": a(seen["input"]),
        "mask": mask.numpy(), "blocks": blocks, "ln_f": a(seen["ln_f"]),
        "logits": a(logits), "probs": a(torch.softmax(logits, -1)),
        "shape": {"T": T, "C": C, "H": H, "d": d, "layers": len(blocks),
                  "d_mlp": int(blocks[0]["mlp_pre"].shape[-1]), "V": int(logits.shape[-1])},
    }


def shapes(t: dict) -> dict[str, list[int]]:
    """Each step's shape, by name (for one block; every block has the same)."""
    s, b = t["shape"], t["blocks"][0]
    named = {"token ids": [s["T"]], "token embedding": t["token_embedding"].shape,
             "position embedding": t["position_embedding"].shape, "input": t["input"].shape}
    named.update({f"block {key}": b[key].shape for key in b})
    named.update({"causal mask": t["mask"].shape, "final LayerNorm": t["ln_f"].shape,
                  "logits": t["logits"].shape, "probabilities": t["probs"].shape})
    return {k: [int(n) for n in v] for k, v in named.items()}


def top_tokens(tokenizer, probs: np.ndarray, n: int = TOP) -> list[dict]:
    """The n most likely tokens of a (V,) distribution, as {"token", "id", "p"}."""
    order = np.argsort(-probs, kind="stable")[:n]
    strings = text.token_strings(tokenizer, order.tolist())
    return [{"token": s, "id": int(i), "p": float(probs[i])} for s, i in zip(strings, order)]


def with_temperature(logits: np.ndarray, temperature) -> np.ndarray:
    """softmax(logits / T), as the Activation functions and Text generation tabs compute it;
    T = 0 is greedy (all the mass on the top token)."""
    t = checks.number(temperature, "Temperature")
    if not 0 <= t <= 2:
        raise ValueError(f"Temperature must be between 0 and 2, not {t:g}.")
    return activations.softmax(logits, t).astype(np.float32)


def trace(model_key, text_in) -> dict:
    """trace_model on an allowed model and a user's text, with the model's key and notices."""
    loaded, ids, notices = prepare(model_key, text_in)
    t = trace_model(loaded.model, loaded.tokenizer, ids)
    t.update(model=loaded.spec.key, notices=notices, tokenizer=loaded.tokenizer)
    return t


def residual_stream(t: dict, position: int) -> dict:
    """One token's vector along the residual stream (position from 1): the input, after each
    half of each block, after the final LayerNorm; with each vector's length."""
    i = position - 1
    rows, names = [t["input"][i]], ["input (token + position)"]
    for n, b in enumerate(t["blocks"], start=1):
        rows += [b["resid_attn"][i], b["resid_mlp"][i]]
        names += [f"+ block {n} attention", f"+ block {n} MLP"]
    rows.append(t["ln_f"][i])
    names.append("final LayerNorm")
    rows = np.stack(rows)  # (2L + 2, C)
    return {"names": names, "rows": rows, "norms": np.linalg.norm(rows, axis=-1).tolist()}


def _rounded(x: np.ndarray, digits: int = 4) -> list:
    return np.round(np.asarray(x, dtype=np.float64), digits).tolist()


def view(t: dict, position=None, layer=1, head=1, temperature=1.0) -> dict:
    """What the tab shows of a trace, for one position, layer and head (all from 1; position
    None or 0 = the last), as plain values: the JSON the API returns. The arrays stay in `t`."""
    s = t["shape"]
    if isinstance(position, int | float) and not isinstance(position, bool) and position == 0:
        position = None  # the slider's "0 = the last token"
    position = checks.index(position, "Position", s["T"], default=s["T"])
    layer = checks.index(layer, "Layer", s["layers"], default=1)
    head = checks.index(head, "Head", s["H"], default=1)
    i, b, h = position - 1, t["blocks"][layer - 1], head - 1
    logits = t["logits"][i]
    probs = with_temperature(logits, temperature)
    top = top_tokens(t["tokenizer"], probs)
    for c in top:
        c.update(p_model=float(t["probs"][i, c["id"]]), logit=float(logits[c["id"]]))
    actual = None  # the token that really comes next in the text, and how the model rated it
    if position < s["T"]:
        j = t["ids"][position]
        actual = {"token": t["tokens"][position], "id": j, "p": float(probs[j]),
                  "rank": int((probs > probs[j]).sum()) + 1}
    return {
        "model": t["model"], "tokens": t["tokens"], "ids": t["ids"], "shapes": shapes(t),
        "position": position, "layer": layer, "head": head, "temperature": float(temperature),
        "qkv": {name: _rounded(b[name][h]) for name in ("q", "k", "v")},
        "attention": _rounded(b["attention"][h], 5),  # weights: a row sums to 1 ± T × 5e-6
        "mlp_hidden": _rounded(b["mlp_post"][i]),
        "next_token": top, "actual_next": actual, "notices": t["notices"],
    }


# -- the logit lens ---------------------------------------------------------------------------

@no_grad
def lens_model(model, tokenizer, ids: list[int], split: bool = False) -> dict:
    """The residual stream after each block (or after each half of each block) read with the
    model's final LayerNorm and unembedding: for each layer and position, the top token and
    its probability; and the rank and probability of the model's final choice at the last
    position, layer by layer. The last layer, `final`, is the model's own output."""
    out, seen = _run(model, ids, attentions=False)
    n = len(model.transformer.h)
    names, streams = ["embedding"], [seen["input"]]
    for i in range(n):
        if split:
            names.append(f"block {i + 1} attention")
            streams.append(seen[f"{i}.resid_attn"])
        names.append(f"block {i + 1} MLP" if split else f"block {i + 1}")
        streams.append(seen[f"{i}.resid_mlp"])
    names[-1] = "final"  # after the last block: what the model itself outputs
    top, final_rank, final_p = [], [], []
    final_id = None
    for stream in reversed(streams):  # the final layer first, to know the model's choice
        # One layer at a time: (T, V) logits stay in the cache, all layers at once do not.
        logits = model.lm_head(model.transformer.ln_f(stream)).float()  # (T, V)
        best, i = logits.max(-1)
        norm = torch.logsumexp(logits, -1)  # p = exp(logit - logsumexp): no full softmax
        if final_id is None:
            final_id = int(i[-1])
        last = logits[-1]
        final_rank.append(int((last > last[final_id]).sum()) + 1)
        final_p.append(float(torch.exp(last[final_id] - norm[-1])))
        row_ids = i.tolist()
        strings = text.token_strings(tokenizer, row_ids)
        top.append([{"token": s, "id": j, "p": q} for s, j, q in
                    zip(strings, row_ids, torch.exp(best - norm).tolist())])
    model_probs = torch.softmax(out.logits[0].float(), -1)
    return {"layers": names, "tokens": text.token_strings(tokenizer, ids), "ids": list(ids),
            "top": top[::-1], "final_rank": final_rank[::-1], "final_p": final_p[::-1],
            "final_token": {"token": text.token_strings(tokenizer, [final_id])[0],
                            "id": final_id, "p": float(model_probs[-1, final_id])}}


def logit_lens(model_key, text_in, split=False) -> dict:
    if not isinstance(split, bool):
        raise ValueError("split must be true (after each half of each block) or false (after "
                         "each block).")
    loaded, ids, notices = prepare(model_key, text_in)
    result = lens_model(loaded.model, loaded.tokenizer, ids, split)
    result.update(model=loaded.spec.key, notices=notices)
    return result


# -- knock-outs --------------------------------------------------------------------------------

def check_part(part, layer, head, n_layers: int, n_heads: int) -> tuple[str, int, int]:
    if part not in PARTS:
        raise ValueError(f"The part to knock out must be one of {', '.join(PARTS)}, "
                         f"not {str(part)[:40]!r}.")
    layer = checks.index(layer, "Layer", n_layers, default=1) if part != "positions" else 1
    head = checks.index(head, "Head", n_heads, default=1) if part == "head" else 1
    return part, layer, head


@no_grad
def knock_out_model(model, tokenizer, ids: list[int], part: str, layer: int = 1,
                    head: int = 1) -> dict:
    """The next-token distribution as is, and with one part zeroed, in one forward pass."""
    c = model.config
    part, layer, head = check_part(part, layer, head, int(c.n_layer), int(c.n_head))
    x = torch.tensor([ids, ids])  # row 0 as is, row 1 with the part zeroed
    with _hooks(model, (part, layer, head), record=False):
        logits = model(x, use_cache=False).logits[:, -1].float()  # (2, V)
    before, after = torch.softmax(logits, -1).numpy()
    chosen = int(np.argmax(before))
    return {"before": top_tokens(tokenizer, before), "after": top_tokens(tokenizer, after),
            "chosen": {"token": text.token_strings(tokenizer, [chosen])[0], "id": chosen,
                       "p_before": float(before[chosen]), "p_after": float(after[chosen]),
                       "change": float(after[chosen] - before[chosen])},
            "total_variation": float(0.5 * np.abs(after - before).sum()),
            "part": part, "layer": layer, "head": head}


def knock_out(model_key, text_in, part="head", layer=1, head=1) -> dict:
    loaded, ids, notices = prepare(model_key, text_in)
    result = knock_out_model(loaded.model, loaded.tokenizer, ids, part, layer, head)
    result.update(model=loaded.spec.key, notices=notices, tokens=text.token_strings(
        loaded.tokenizer, ids))
    return result


# -- the weights, counted by category ---------------------------------------------------------

def _empty_counts() -> dict:
    return {name: {"weights": 0, "matrices": 0} for name in CATEGORIES + OTHERS}


def _totals(categories: dict) -> dict:
    def total(names):
        return {"weights": sum(categories[n]["weights"] for n in names),
                "matrices": sum(categories[n]["matrices"] for n in names)}

    return {"categories": categories, "total": total(CATEGORIES),
            "all": total(CATEGORIES + OTHERS)}


def count_modules(model) -> dict:
    """The weights of a GPT-2 model by category, from its own parameters. As the notes count
    matrices: Q, K and V one per head, the output projection, up- and down-projection one per
    block, the embedding and the unembedding one each. LayerNorms and biases are vectors."""
    c = model.config
    C, H = int(c.n_embd), int(c.n_head)
    counts = _empty_counts()

    def add(name, weights, matrices=0):
        counts[name]["weights"] += int(weights)
        counts[name]["matrices"] += int(matrices)

    for name, p in model.named_parameters():  # a tied weight is listed once, under wte
        n = p.numel()
        if name.endswith(("ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias",
                          "ln_f.weight", "ln_f.bias")):
            add("LayerNorms", n)
        elif name.endswith(".bias"):
            add("Biases", n)
        elif name == "transformer.wte.weight":
            add("Embedding", n, 1)
        elif name == "transformer.wpe.weight":
            add("Position embeddings", n, 1)
        elif name.endswith("attn.c_attn.weight"):  # (C, 3C): Q, K, V side by side
            for part in ("Query", "Key", "Value"):
                add(part, n // 3, H)
        elif name.endswith("attn.c_proj.weight"):
            add("Output", n, 1)
        elif name.endswith("mlp.c_fc.weight"):
            add("Up-projection", n, 1)
        elif name.endswith("mlp.c_proj.weight"):
            add("Down-projection", n, 1)
        elif name == "lm_head.weight":
            add("Unembedding", n, 1)
        else:  # a parameter this table does not know: refuse rather than miscount
            raise ValueError(f"Unexpected parameter {name} in a GPT-2 model.")
    result = _totals(counts)
    result["tied"] = model.lm_head.weight is model.transformer.wte.weight
    result["shape"] = {"layers": int(c.n_layer), "width": C, "heads": H, "d_head": C // H,
                       "d_mlp": int(c.n_inner or 4 * C), "vocabulary": int(c.vocab_size),
                       "context": int(c.n_positions)}
    return result


def count_from_shape(n_layer: int, d_model: int, n_head: int, d_head: int, d_mlp: int,
                     vocab: int, n_ctx: int, tied: bool) -> dict:
    """The same table from a published shape alone (for GPT-3, whose weights nobody here has).
    The tests check it against count_modules on real GPT-2 modules."""
    counts = _empty_counts()
    attn = n_head * d_head
    counts["Embedding"] = {"weights": vocab * d_model, "matrices": 1}
    counts["Unembedding"] = ({"weights": 0, "matrices": 0} if tied
                             else {"weights": vocab * d_model, "matrices": 1})
    for name in ("Query", "Key", "Value"):
        counts[name] = {"weights": n_layer * d_model * attn, "matrices": n_layer * n_head}
    counts["Output"] = {"weights": n_layer * attn * d_model, "matrices": n_layer}
    counts["Up-projection"] = {"weights": n_layer * d_model * d_mlp, "matrices": n_layer}
    counts["Down-projection"] = {"weights": n_layer * d_mlp * d_model, "matrices": n_layer}
    counts["Position embeddings"] = {"weights": n_ctx * d_model, "matrices": 1}
    counts["LayerNorms"] = {"weights": (2 * n_layer + 1) * 2 * d_model, "matrices": 0}
    counts["Biases"] = {"weights": n_layer * (3 * attn + d_model + d_mlp + d_model),
                        "matrices": 0}
    result = _totals(counts)
    result["tied"] = tied
    result["shape"] = {"layers": n_layer, "width": d_model, "heads": n_head, "d_head": d_head,
                       "d_mlp": d_mlp, "vocabulary": vocab, "context": n_ctx}
    return result


@cache
def _gpt2_small() -> dict:
    """GPT-2 small's modules built from its published configuration on the meta device: real
    shapes, no memory and no download."""
    from transformers import GPT2Config, GPT2LMHeadModel

    with torch.device("meta"):
        return count_modules(GPT2LMHeadModel(GPT2Config()))


def weight_counts() -> dict:
    """The table for the bundled GPT, GPT-2 small and GPT-3 175B."""
    bundled = load(None)
    return {
        "bundled": {"name": bundled.spec.description, **count_modules(bundled.model)},
        "gpt2-small": {"name": GPT2_SMALL_NAME, **_gpt2_small()},
        "gpt3-175b": {"name": "GPT-3 175B", **count_from_shape(**GPT3)},
    }
