"""The Transfer learning tab's figures: how long each way takes to train with the defaults
(flat out, and as the tab's Play paces it on the shared runner), and /transfer_learn against
gradio's echo floor. (Accuracy against drawings per class: models/training/transfer_curve.py,
shipped as models/weights/transfer/curve.json.)

    python tests/benchmarks/bench_transfer.py [--calls 5] [--only train | api]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import ECHO_APP, against_floor, machine, server  # noqa: E402


def train_speed(transfer, runner):
    defaults = transfer.SETTINGS.defaults
    examples = transfer.starter_examples(5)  # 50 drawings: 40 to learn from, 10 held out
    print(f"\nEach way, the defaults ({defaults['steps']} steps of {transfer.BATCH} drawings, "
          f"augmented, freeze {defaults['freeze']}), the starter set at 5 a class, 1 thread, "
          "flat out:")
    for method in transfer.METHODS:
        run = transfer.TransferRun(examples, methods=[method], freeze=defaults["freeze"],
                                   augment=defaults["augment"], seed=0)
        t = time.perf_counter()
        for _ in range(defaults["steps"]):
            run.step()
        took = time.perf_counter() - t
        print(f"  {transfer.METHOD_NAMES[method]:18s} {took:5.1f} s "
              f"({defaults['steps'] / took:4.0f} steps/s)")
    run = transfer.TransferRun(examples, freeze=defaults["freeze"], augment=True, seed=0)
    t = time.perf_counter()
    states = list(runner.iterate(run.run(defaults["steps"])))
    last = states[-1]
    print(f"  the tab's Play (the three side by side, paced at the runner's share): "
          f"{time.perf_counter() - t:.1f} s, {len(states)} frames; validation accuracy "
          + ", ".join(f"{transfer.METHOD_NAMES[m]} {r['val_accuracy']:.0%}"
                      for m, r in last["methods"].items()))
    small = transfer.starter_examples(3)
    run = transfer.TransferRun(small, freeze=defaults["freeze"], augment=True, seed=0)
    t = time.perf_counter()
    list(runner.iterate(run.run(defaults["steps"])))
    print(f"  the same with 3 drawings a class (leave-one-out: 3 folds and the model on all, "
          f"each way): {time.perf_counter() - t:.1f} s")


def through_the_api(calls: int, transfer):
    examples = transfer.starter_examples(5).as_json()
    tests = transfer.heldout_examples().images[:20].tolist()
    with server(["app.py"]) as (client, _, _), server(["-c", ECHO_APP]) as (echo, _, _):
        client.predict(examples=examples, steps=2, api_name="/transfer_learn")  # loads the CNN

        def learn(method, steps):
            return lambda: client.predict(examples=examples, method=method, steps=steps,
                                          test_images=tests, api_name="/transfer_learn")

        against_floor({"echo": lambda: echo.predict("hi", api_name="/echo"),
                       "transfer_learn (feature extraction, 10 steps)":
                           learn("feature_extraction", 10),
                       "transfer_learn (feature extraction, the default 150 steps)":
                           learn("feature_extraction", 150),
                       "transfer_learn (fine-tuning, 150)": learn("fine_tune", 150),
                       "transfer_learn (from scratch, 150)": learn("scratch", 150)}, calls)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=5)
    p.add_argument("--only", choices=["train", "api"])
    args = p.parse_args()
    import torch

    from models import runner, transfer

    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    if args.only in (None, "train"):
        train_speed(transfer, runner)
    if args.only in (None, "api"):
        through_the_api(args.calls, transfer)


if __name__ == "__main__":
    main()
