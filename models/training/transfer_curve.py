"""What pretraining buys, on the starter set: held-out accuracy against drawings per class, for
the three ways (models/transfer), written to models/weights/transfer/curve.json for the
Transfer learning tab.

For each count of drawings per class (1, 2, 3, 5, 10, 20) and each seed, that many drawings of
each symbol are picked from the training pool; each way trains on them with the tab's defaults;
the 400 held-out variants (drawn from another random stream) score it.

    python -m models.training.transfer_curve --seeds 5
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from models import transfer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=transfer.SETTINGS["steps"].default)
    parser.add_argument("--out", default=str(transfer.CURVE_FILE))
    args = parser.parse_args()
    torch.set_num_threads(1)  # the same figures on any machine
    freeze, augment = transfer.SETTINGS["freeze"].default, transfer.SETTINGS["augment"].default
    test = transfer.heldout_examples()
    pool = transfer.starter_examples(40)  # the whole training pool
    results = {m: {} for m in transfer.METHODS}
    seconds = {m: [] for m in transfer.METHODS}
    for n in transfer.CURVE_COUNTS:
        for method in transfer.METHODS:
            accuracies = []
            for seed in range(args.seeds):
                train, _ = transfer.subset(pool, n, seed)
                start = time.perf_counter()
                accuracies.append(transfer.learn_and_score(method, train, test, args.steps,
                                                           freeze, augment, seed))
                seconds[method].append(time.perf_counter() - start)
            results[method][str(n)] = accuracies
            print(f"{n:3d} per class  {method:19s} mean {np.mean(accuracies):.3f}  "
                  f"{np.round(accuracies, 3).tolist()}", flush=True)
    out = {"per_class": list(transfer.CURVE_COUNTS), "accuracy": results,
           "mean": {m: {n: float(np.mean(a)) for n, a in r.items()} for m, r in results.items()},
           "steps": args.steps, "freeze": freeze, "augment": augment, "seeds": args.seeds,
           "tested_on": len(test), "seconds_per_run": {m: float(np.mean(s))
                                                        for m, s in seconds.items()},
           "machine": f"{platform.processor() or platform.machine()}, 1 thread"}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out["mean"], indent=1))


if __name__ == "__main__":
    main()
