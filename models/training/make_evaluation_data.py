"""Write models/weights/evaluation/digits.npz: the digits the Evaluation tab trains on, validates
on and tests on, and the drawings that are not digits, from the MNIST digits in ../shared.

    python -m models.training.make_evaluation_data ../shared/datasets/mnist/mnist_9k.npz

The split is the digit networks' own (models/training/train_digits.py, seed 0): the 1,000
held-out digits ("test", the same as tests/data/mnist_heldout.npz) were never trained on by the
shipped CNN or the 784-16-16-10 network; of the 8,000 they trained on, 1,000 are kept as the tab's
validation set ("val", a stratified pick, seed 1) and 7,000 are the pool it trains on ("train").
"non_digits": 200 letters and 200 shapes drawn by models/training/non_digits.py with seeds that
the digit CNN's training never used, preprocessed as the Digits tab preprocesses a drawing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from models import digits
from models.training import non_digits
from models.training.train_digits import split

OUT = Path(__file__).parents[1] / "weights" / "evaluation" / "digits.npz"
N_TEST, N_VAL = 1000, 1000
NON_DIGIT_SEED = 20261204  # train_digits draws with seeds 0 and 100, the test fixture 20261122
PER_KIND = 200


def as_bytes(images) -> np.ndarray:
    return np.round(np.clip(np.stack(images), 0, 1) * 255).astype(np.uint8)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("data", help="path to mnist_9k.npz")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    data = np.load(args.data)
    images, labels = data["images"], data["labels"].astype(np.uint8)
    train_idx, test_idx = split(labels.astype(np.int64), N_TEST, 0)
    inner_train, inner_val = split(labels[train_idx].astype(np.int64), N_VAL, 1)
    pool, val = train_idx[inner_train], train_idx[inner_val]
    kinds = {"letter": non_digits.sample("letters", PER_KIND, NON_DIGIT_SEED),
             "shape": non_digits.sample("shapes", PER_KIND, NON_DIGIT_SEED + 1)}
    others = [digits.preprocess(c) for drawings in kinds.values() for c in drawings]
    names = [k for k, drawings in kinds.items() for _ in drawings]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, train_images=images[pool], train_labels=labels[pool],
                        val_images=images[val], val_labels=labels[val],
                        test_images=images[test_idx], test_labels=labels[test_idx],
                        non_digit_images=as_bytes(others), non_digit_kinds=np.array(names))
    print(f"{len(pool)} training, {len(val)} validation, {len(test_idx)} test digits, "
          f"{len(others)} non-digits -> {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
