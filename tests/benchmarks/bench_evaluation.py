"""The Evaluation tab's figures: the shipped evaluation sets' sizes, the live overfitting run's
epochs per second (flat out, and as the tab's Play paces it on the shared runner), the first
(uncached) computation of each model's scores, and every endpoint against gradio's echo floor.

    python tests/benchmarks/bench_evaluation.py [--calls 10] [--only sets | train | api]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import ECHO_APP, against_floor, machine, server  # noqa: E402


def sets(evaluation):
    d = evaluation.data()
    texts, positive = evaluation.sentiment_sample()
    print("\nThe shipped evaluation sets:")
    for part in ("train", "val", "test"):
        counts = Counter(d[f"{part}_labels"].tolist())
        print(f"  digits, {part:5s}: {len(d[f'{part}_labels']):5,} "
              f"({min(counts.values())} to {max(counts.values())} of each digit)")
    kinds = Counter(d["non_digit_kinds"].tolist())
    print(f"  non-digits: {len(d['non_digit_images'])} "
          f"({', '.join(f'{n} {k}s' for k, n in kinds.items())})")
    print(f"  sentences: {len(texts)} ({int(positive.sum())} positive, "
          f"{int((~positive).sum())} negative)")
    print(f"  file: {evaluation.DATA.stat().st_size:,} bytes (digits and non-digits), "
          f"{evaluation.SENTIMENT_SAMPLE.stat().st_size:,} bytes (sentences)")


def first_scores(evaluation):
    print("\nThe first computation of each model's scores (cached afterwards), 1 thread:")
    t = time.perf_counter()
    evaluation.digit_confusion("cnn")
    print(f"  both digit networks on 1,000 digits + 400 non-digits: "
          f"{time.perf_counter() - t:.2f} s")
    for model in ("sentiment-minilm", "sentiment-encoder"):
        t = time.perf_counter()
        evaluation.sentiment_scores(model)
        print(f"  {model} on 400 sentences: {time.perf_counter() - t:.2f} s")


def train_speed(overfit, runner):
    print("\nThe live overfitting run (784-16-16-10, batches of 32), 1 thread:")
    for n_train, cures in ((100, {}), (1000, {}), (7000, {}), (1000, {"augment": True}),
                           (1000, {"dropout": 0.3, "weight_decay": 0.01})):
        run = overfit.OverfitRun(n_train=n_train, seed=0, **cures)
        epochs = max(3, min(100, 20_000 // n_train))
        t = time.perf_counter()
        for _ in range(epochs):
            run.step()
        flat = epochs / (time.perf_counter() - t)
        run = overfit.OverfitRun(n_train=n_train, seed=0, **cures)
        t = time.perf_counter()
        states = list(runner.iterate(run.run(epochs)))
        paced = time.perf_counter() - t
        label = f"{n_train:,} digits" + "".join(f", {k} {v}" for k, v in cures.items())
        print(f"  {label:42s} flat out {flat:6.1f} epochs/s; the tab's Play: {epochs} epochs "
              f"in {paced:5.1f} s ({epochs / paced:5.1f} epochs/s, {len(states)} frames)")


def raw_call(http, url: str, name: str, data: list) -> str:
    """gradio's REST API without gradio_client: POST the call, read its event stream (the
    pictures' files are named in it, not downloaded)."""
    event = http.post(f"{url}/gradio_api/call/{name}", json={"data": data}).json()["event_id"]
    return http.get(f"{url}/gradio_api/call/{name}/{event}").text


def through_the_api(calls: int):
    import httpx

    with server(["app.py"]) as (client, _, _), server(["-c", ECHO_APP]) as (echo, _, _), \
            httpx.Client(timeout=120) as http:
        url = client.src.rstrip("/")
        for model in ("sentiment-minilm", "sentiment-encoder"):  # the scores, computed once
            client.predict(threshold=0.5, model=model, api_name="/sentiment_threshold")
        client.predict(model="cnn", api_name="/digit_confusion")
        against_floor({
            "echo": lambda: echo.predict("hi", api_name="/echo"),
            "digit_confusion": lambda: client.predict(model="cnn", api_name="/digit_confusion"),
            "confusion_examples (mlp, true 3, said 5)": lambda: client.predict(
                model="mlp", true_digit=3, predicted_digit=5, api_name="/confusion_examples"),
            "confusion_examples (cnn, true 1, said 1: 100 digits)": lambda: client.predict(
                model="cnn", true_digit=1, predicted_digit=1, api_name="/confusion_examples"),
            "the same over raw REST (the 100 pictures named, not downloaded)": lambda: raw_call(
                http, url, "confusion_examples", ["cnn", 1, 1]),
            "sentiment_threshold": lambda: client.predict(
                threshold=0.7, model="sentiment-minilm", api_name="/sentiment_threshold"),
            "open_set_threshold": lambda: client.predict(threshold=1.0,
                                                         api_name="/open_set_threshold"),
            "significance_test (digits)": lambda: client.predict(
                task="digits", api_name="/significance_test"),
            "significance_test (sentiment)": lambda: client.predict(
                task="sentiment", api_name="/significance_test"),
            "train_overfit (100 digits, 20 epochs)": lambda: client.predict(
                n_train=100, epochs=20, api_name="/train_overfit"),
            "train_overfit (the defaults: 100 digits, 150 epochs)": lambda: client.predict(
                api_name="/train_overfit"),
        }, calls)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--only", choices=["sets", "train", "api"])
    args = p.parse_args()
    import torch

    from models import evaluation, runner
    from models.evaluation import overfit

    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    if args.only in (None, "sets"):
        sets(evaluation)
        first_scores(evaluation)
    if args.only in (None, "train"):
        train_speed(overfit, runner)
    if args.only in (None, "api"):
        through_the_api(args.calls)


if __name__ == "__main__":
    main()
