"""The human-rated sentences of ../shared/datasets/sentiment, split as its README documents.

Read the four files in sorted name order, lines in file order, as (rating, text); drop
|rating| < 0.5; random.seed(0); random.shuffle(rows); the first 20 % are the test set. On that
split VADER scores 73.3 % and TF-IDF + logistic regression 78.6 % on the rating's sign.
"""

from __future__ import annotations

import random
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "sentiment_heldout.tsv"

NEAR_ZERO = 0.5


def read_rows(data_dir: str | Path) -> list[tuple[float, str]]:
    rows = []
    for path in sorted(Path(data_dir).glob("*_GroundTruth.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3:
                rows.append((float(parts[1]), parts[2].strip()))
    return rows


def split(data_dir: str | Path) -> tuple[list[tuple[float, str]], list[tuple[float, str]],
                                          list[str]]:
    """(train, test, near_zero_texts). Near-zero sentences are in neither set: their raters
    disagreed or found them neutral, so their sign is noise. We keep them as unlabeled text."""
    rows = read_rows(data_dir)
    near_zero = [t for r, t in rows if abs(r) < NEAR_ZERO]
    rows = [(r, t) for r, t in rows if abs(r) >= NEAR_ZERO]
    random.seed(0)
    random.shuffle(rows)
    n_test = len(rows) // 5
    return rows[n_test:], rows[:n_test], near_zero


def write_fixture(test: list[tuple[float, str]], path: Path = FIXTURE, n: int = 400) -> None:
    """A fixed sample of test sentences for the quality tests (the tests never read ../shared).
    Both sentiment training scripts write the same sample, so their figures compare."""
    sample = random.Random(1).sample(test, min(n, len(test)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{r:.3f}\t{t}\n" for r, t in sample), encoding="utf-8")
