"""Write tests/data/non_digits.npz: hand-drawn letters and shapes that are not digits, for the
Digits quality test (at most 10 % may get the confident mark).

    python -m models.training.make_non_digit_fixture

The ten letters and ten shapes visitors draw to test the tab (A E F H K M N R W X; triangle,
star, heart, arrow, plus, hash, spiral, wave, house, zigzag), each at two sizes and two brush
widths: 80 canvases of 280x280, drawn by models/training/non_digits.py with a seed that
training never uses. Stored as uint8 ink (255 = ink), as black-on-white would be read. Also
writes two example drawings for the tab (a letter A and a star).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from models.training import non_digits

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "data" / "non_digits.npz"
EXAMPLES = REPO / "demos" / "examples" / "digits"
LETTERS = list("AEFHKMNRWX")
SHAPES = ["triangle", "star", "heart", "arrow", "plus", "hash", "spiral", "wave", "house",
          "zigzag"]
SEED = 20261122  # training draws with seeds 0 and 100: never this one


def main():
    rng = np.random.default_rng(SEED)
    images, names = [], []
    for name in LETTERS + SHAPES:
        for size in (0.5, 0.85):
            for width in (10, 20):
                draw = non_digits.hand_letter if name in LETTERS else non_digits.shape
                images.append((draw(name, rng, size=size, width=width) * 255).astype(np.uint8))
                names.append(f"{name} size {size} width {width}")
    np.savez_compressed(OUT, images=np.stack(images), names=np.array(names))
    print(f"{len(images)} drawings written to {OUT} ({OUT.stat().st_size / 1024:.0f} KB)")
    # Two example drawings for the tab, with their own seed, white on black as the digits are.
    rng = np.random.default_rng(SEED + 1)
    for name, ink in [("letter-A", non_digits.hand_letter("A", rng, size=0.8, width=18)),
                      ("star", non_digits.shape("star", rng, size=0.8, width=18))]:
        path = EXAMPLES / f"not-a-digit-{name}.png"
        Image.fromarray((ink * 255).astype(np.uint8)).save(path)
        print(f"example written to {path}")


if __name__ == "__main__":
    main()
