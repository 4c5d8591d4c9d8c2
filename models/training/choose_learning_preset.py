"""How the Learning tab's default preset was chosen, and how every preset does.

    python models/training/choose_learning_preset.py [--seeds 1-9]

Nothing is trained to ship: the tab trains live. This script re-runs the choice of the default
network on validation data (data seeds 1 to 9, never the app's seed 0), circles and XOR, noise
0.05, among six candidates, and prints each one's test accuracy: worst and mean. Then, once, every
preset on seed 0, the app's own data, with its own step budget.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from models import learning, runner  # noqa: E402

# (activation, learning rate, batch size, hidden layers, steps)
CANDIDATES = [
    ("tanh", 0.3, 10, (8, 8), 3000),
    ("tanh", 0.3, 10, (8, 8, 8), 2000),
    ("relu", 0.1, 10, (8, 8), 2000),
    ("relu", 0.1, 10, (16, 16), 2000),
    ("tanh", 0.1, 10, (16, 16), 3000),
    ("tanh", 0.3, 32, (8, 8), 3000),
]


def accuracy(dataset, noise, layers, activation, lr, batch, steps, seed) -> float:
    run = learning.Training(learning.Config(dataset, noise, tuple(layers), activation, seed),
                            lr, batch)
    for _ in range(steps):
        run.step()
    return run.evaluate()["test_accuracy"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", default="1-9", help="validation data seeds, as first-last")
    args = p.parse_args()
    first, last = map(int, args.seeds.split("-"))
    seeds = range(first, last + 1)
    print(f"validation: data seeds {first}-{last}, circles and XOR, noise 0.05")
    for activation, lr, batch, layers, steps in CANDIDATES:
        scores = [accuracy(d, 0.05, layers, activation, lr, batch, steps, s)
                  for d in ("circles", "xor") for s in seeds]
        print(f"  {activation:4s} lr {lr:<4g} batch {batch:2d} layers {str(layers):11s} "
              f"{steps} steps: worst {min(scores):.1%}, mean {statistics.mean(scores):.1%}")
    print("every preset on seed 0 (the app's data), once:")
    for preset in learning.PRESETS.values():
        run = learning.Training(learning.Config(preset.dataset, preset.noise, preset.layers,
                                                preset.activation, 0),
                                preset.learning_rate, preset.batch_size)
        states = list(runner.iterate(run.run(preset.steps, max_seconds=600)))
        print(f"  {preset.name}: {run.status} after {run.steps} steps, test accuracy "
              f"{states[-1]['test_accuracy']:.1%}, test loss {states[-1]['test_loss']:.3g}")


if __name__ == "__main__":
    main()
